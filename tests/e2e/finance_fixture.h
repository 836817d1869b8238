#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "cpts/finance/v1/finance_service.grpc.pb.h"
#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::e2e {

// Starts a fresh schema in `db`, migrates it with the real binary (--migrate_only, as the
// migrator user) and starts the real finance server on free ports, calling
// `membership_target` for member facts with a service token signed by `tokens`' key.
// `extra_args` are added to the server's flags.
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartFinance(
    testing::MariaDbServer& db, const testing::TestTokens& tokens,
    const std::string& membership_target, testing::TestSchema* schema_out = nullptr,
    const std::vector<std::string>& extra_args = {});

// Starts the real finance server on `schema`, already migrated (e.g. a restart), as
// StartFinance does. Pass "--grpc_port=<port>" in `extra_args` to come back on the same port.
absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartFinanceOn(
    const testing::TestSchema& schema, const testing::TestTokens& tokens,
    const std::string& membership_target, const std::vector<std::string>& extra_args = {});

// A synthetic person (liberal or salaried doctor) for CreateMember; `n` varies names and RPPS.
membership::v1::Member SyntheticPerson(int n, membership::v1::ExerciseMode mode);

// Creates `m` (with practice places in the fixture's communes) and approves its adhesion, as
// the holder of `token` (a coordinator of the tenant); returns its id ("" and a test failure
// on error).
std::string CreateApprovedMember(membership::v1::MembershipService::Stub& stub,
                                 const std::string& token, membership::v1::Member m,
                                 const std::string& request_id);

// A synthetic valid French IBAN from an 23-character BBAN.
std::string SyntheticIban(const std::string& bban);

// The sum of the balances of one account kind, and the balance of one account.
int64_t SumOf(const std::vector<finance::v1::AccountBalance>& balances,
              finance::v1::AccountKind kind);
int64_t BalanceOf(const std::vector<finance::v1::AccountBalance>& balances,
                  finance::v1::AccountKind kind, const std::string& key);

// The decimal amount of the first <CtrlSum> of a pain.001 document, in cents (-1 if absent).
int64_t CtrlSumCents(const std::string& xml);

// The real membership and finance servers, started once per test suite (with the annual
// ceiling of the current year set), and a fresh tenant for every test.
class FinanceE2e : public ::testing::Test {
 public:
  // A call context with a 10 s deadline and, unless empty, the bearer token.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);

 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  // A token of the test's tenant. The subject is "user-<member id or first role>".
  std::string Token(std::vector<std::string> roles, const std::string& member_id = "") const;

  // Members of the test's tenant, created and approved in membership (adhesion of the current
  // year, no annual fee: up to date). Each returns the member id.
  std::string LiberalMember();
  std::string LegalEntityMember();
  // A salaried member; with `employer` non-empty, under a convention with it from 1 January.
  std::string SalariedMember(const std::string& employer);
  // Gives `member_id` a mandate in `body` (BUREAU: vice-president, BOARD: board member) from
  // 1 January of the current year, through membership's CreateMandate; fails the test on error.
  void GiveMandate(const std::string& member_id, membership::v1::MandateBody body);

  // An attendance event of the test's tenant for a meeting today (in the CPTS's calendar,
  // Europe/Paris, as membership dates adhesions: never before the member's approval).
  finance::v1::RecordAttendanceRequest Event(const std::string& member_id,
                                             projects::v1::EntitlementRole role, int minutes,
                                             const std::string& meeting_id = "");

  // Creates the year's policy of the test's tenant; fails the test on error.
  void CreatePerMeetingPolicy(int64_t member_cents, int64_t referent_cents);
  void CreatePerHourPolicy(int64_t member_millipoints, int64_t referent_millipoints,
                           int64_t point_value_cents);

  // RecordAttendance as the projects relay; fails the test on error.
  finance::v1::RecordAttendanceResponse Record(const finance::v1::RecordAttendanceRequest& req);

  // Every ledger transaction and every non-zero balance of the test's tenant.
  std::vector<finance::v1::LedgerTransaction> Journal();
  std::vector<finance::v1::AccountBalance> Balances();

  // A synthetic valid French IBAN from an 23-character BBAN.
  static std::string Iban(const std::string& bban);

  // As the treasurer: the CPTS's own (debtor) account, and a payee's account. Fail the test
  // on error.
  void SetDebtorAccount();
  void SetPayeeAccount(const std::string& member_id, const std::string& bban);
  // ApproveEntitlements as a bureau member; fails the test on error.
  std::vector<finance::v1::Entitlement> Approve(const std::vector<std::string>& ids,
                                                const std::string& request_id);
  // Approves, exports as pain.001 (into `pain001` unless null) and marks paid on its execution
  // date a draft batch, as the treasurer; returns the paid batch. Fails the test on error.
  finance::v1::PaymentBatch PayBatch(const finance::v1::PaymentBatch& draft,
                                     const std::string& request_id, std::string* pain001);

  static int year();  // the current year in the CPTS's calendar (meetings are today)
  static std::unique_ptr<finance::v1::FinanceService::Stub> finance_;
  static std::unique_ptr<membership::v1::MembershipService::Stub> membership_;
  std::string tenant_;
};

}  // namespace cpts::e2e
