#include "services/finance/batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/finance/iban.h"
#include "services/finance/ledger.h"
#include "services/finance/sepa_pain001.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Synthetic(const std::string& bban) {
  return absl::StrCat("FR", IbanCheckDigits("FR", bban), bban);
}

Entitlement Approved(const std::string& id, const std::string& payee, Cents cents) {
  Entitlement e;
  e.id = id;
  e.meeting_id = "meet-" + id;
  e.member_id = "mem-" + id;
  e.action_id = "act1";
  e.meeting_date = absl::CivilDay(2025, 3, 12);
  e.amount_cents = cents;
  e.payee = PayeeRef{.type = PayeeType::kSelf, .member_id = payee};
  e.status = EntitlementStatus::kApproved;
  return e;
}

std::map<std::string, PayeeBankAccount> Accounts() {
  return {
      {"p1", PayeeBankAccount{.member_id = "p1",
                              .holder_name = "Dupont, Jeanne",
                              .iban = "fr76 3000 6000 0112 3456 7890 189",
                              .bic = "agrifrpp"}},
      {"p2", PayeeBankAccount{.member_id = "p2",
                              .holder_name = "Martin",
                              .iban = "FR7630006000011234567890188"}},  // bad checksum
      {"p3", PayeeBankAccount{.member_id = "p3",
                              .holder_name = "Cabinet Sud",
                              .iban = Synthetic("20041010050500013M02606")}},
  };
}

struct TransitionCase {
  BatchState from;
  BatchAction action;
  std::optional<BatchState> to;  // nullopt: refused
};

TEST(BatchStateTest, TransitionsAsSpecified) {
  const std::vector<TransitionCase> cases = {
      {BatchState::kDraft, BatchAction::kApprove, BatchState::kApproved},
      {BatchState::kDraft, BatchAction::kExport, std::nullopt},
      {BatchState::kDraft, BatchAction::kMarkPaid, std::nullopt},
      {BatchState::kDraft, BatchAction::kCancel, BatchState::kCancelled},
      {BatchState::kApproved, BatchAction::kApprove, std::nullopt},
      {BatchState::kApproved, BatchAction::kExport, BatchState::kExported},
      {BatchState::kApproved, BatchAction::kMarkPaid, std::nullopt},
      {BatchState::kApproved, BatchAction::kCancel, BatchState::kCancelled},
      {BatchState::kExported, BatchAction::kApprove, std::nullopt},
      {BatchState::kExported, BatchAction::kExport, BatchState::kExported},
      {BatchState::kExported, BatchAction::kMarkPaid, BatchState::kPaid},
      {BatchState::kExported, BatchAction::kCancel, std::nullopt},
      {BatchState::kPaid, BatchAction::kApprove, std::nullopt},
      {BatchState::kPaid, BatchAction::kExport, std::nullopt},
      {BatchState::kPaid, BatchAction::kMarkPaid, std::nullopt},
      {BatchState::kPaid, BatchAction::kCancel, std::nullopt},
      {BatchState::kCancelled, BatchAction::kApprove, std::nullopt},
      {BatchState::kCancelled, BatchAction::kExport, std::nullopt},
      {BatchState::kCancelled, BatchAction::kMarkPaid, std::nullopt},
      {BatchState::kCancelled, BatchAction::kCancel, std::nullopt},
  };
  for (const TransitionCase& c : cases) {
    auto got = NextBatchState(c.from, c.action);
    if (c.to) {
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ(*got, *c.to);
    } else {
      EXPECT_THAT(got, StatusIs(absl::StatusCode::kFailedPrecondition, "batch cannot be"));
    }
  }
}

TEST(BuildBatchLinesTest, GroupsByPayeeAndBlocksOnlyBadAccounts) {
  const std::vector<Entitlement> due = {
      Approved("e3", "p1", 8000), Approved("e1", "p1", 10000), Approved("e2", "p2", 8000),
      Approved("e4", "p3", 8000), Approved("e5", "p4", 8000),  // p4: no account
  };
  auto lines = BuildBatchLines("B01", due, Accounts());
  ASSERT_THAT(lines, IsOk());
  ASSERT_EQ(lines->size(), 4u);

  const BatchLine& p1 = (*lines)[0];
  EXPECT_EQ(p1.payee_member_id, "p1");
  EXPECT_EQ(p1.payee_name, "Dupont, Jeanne");
  EXPECT_EQ(p1.iban, "FR7630006000011234567890189");
  EXPECT_EQ(p1.bic, "AGRIFRPP");
  EXPECT_THAT(p1.entitlement_ids, ElementsAre("e1", "e3"));
  EXPECT_EQ(p1.amount_cents, 18000);
  EXPECT_FALSE(p1.blocked);
  EXPECT_EQ(p1.end_to_end_id, "L1-B01");

  const BatchLine& p2 = (*lines)[1];
  EXPECT_TRUE(p2.blocked);
  EXPECT_THAT(p2.blocked_reason, HasSubstr("checksum"));
  EXPECT_EQ(p2.amount_cents, 8000);

  EXPECT_FALSE((*lines)[2].blocked);
  EXPECT_TRUE((*lines)[3].blocked);
  EXPECT_EQ((*lines)[3].blocked_reason, "no bank account recorded");

  PaymentBatch batch;
  batch.id = "B01";
  batch.lines = *lines;
  EXPECT_EQ(PayableTotal(batch), 26000);
  EXPECT_EQ(PayableLineCount(batch), 2);
  EXPECT_EQ(BlockedLineCount(batch), 2);
  EXPECT_THAT(HeldEntitlementIds(batch), ElementsAre("e1", "e3", "e4"));
  EXPECT_THAT(CheckApprovable(batch), IsOk());
}

TEST(BuildBatchLinesTest, InvalidBicBlocksTheLine) {
  auto accounts = Accounts();
  accounts["p1"].bic = "AGRI";
  auto lines =
      BuildBatchLines("B01", std::vector<Entitlement>{Approved("e1", "p1", 100)}, accounts);
  ASSERT_THAT(lines, IsOk());
  EXPECT_TRUE((*lines)[0].blocked);
  EXPECT_THAT((*lines)[0].blocked_reason, HasSubstr("bic"));
}

TEST(BuildBatchLinesTest, EndToEndIdsStayWithin35Characters) {
  const std::string long_id(40, 'B');
  auto lines =
      BuildBatchLines(long_id, std::vector<Entitlement>{Approved("e1", "p1", 100)}, Accounts());
  ASSERT_THAT(lines, IsOk());
  EXPECT_EQ((*lines)[0].end_to_end_id.size(), 35u);
  EXPECT_EQ((*lines)[0].end_to_end_id.substr(0, 3), "L1-");
}

TEST(BuildBatchLinesTest, RefusesWhatIsNotApprovedAndUnbatched) {
  EXPECT_THAT(BuildBatchLines("B01", std::vector<Entitlement>{}, Accounts()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  Entitlement pending = Approved("e1", "p1", 100);
  pending.status = EntitlementStatus::kPending;
  EXPECT_THAT(BuildBatchLines("B01", std::vector<Entitlement>{pending}, Accounts()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "e1"));
  Entitlement batched = Approved("e1", "p1", 100);
  batched.batch_id = "B00";
  EXPECT_THAT(BuildBatchLines("B01", std::vector<Entitlement>{batched}, Accounts()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(BuildBatchLines("B01", std::vector<Entitlement>{Approved("e1", "p1", 0)}, Accounts()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "nothing to pay"));
  EXPECT_THAT(BuildBatchLines(
                  "B01", std::vector<Entitlement>{Approved("e1", "p1", 1), Approved("e1", "p1", 1)},
                  Accounts()),
              StatusIs(absl::StatusCode::kInvalidArgument, "duplicate"));
}

TEST(BatchApprovalTest, AllLinesBlockedCannotBeApproved) {
  auto lines =
      BuildBatchLines("B01", std::vector<Entitlement>{Approved("e2", "p2", 100)}, Accounts());
  ASSERT_THAT(lines, IsOk());
  PaymentBatch batch;
  batch.id = "B01";
  batch.lines = *lines;
  EXPECT_THAT(CheckApprovable(batch), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(HeldEntitlementIds(batch).empty());
}

TEST(BatchCsvTest, OneRowPerEntitlementQuotedWhereNeeded) {
  const std::vector<Entitlement> due = {Approved("e1", "p1", 10000), Approved("e2", "p2", 8000)};
  auto lines = BuildBatchLines("B01", due, Accounts());
  ASSERT_THAT(lines, IsOk());
  PaymentBatch batch;
  batch.id = "B01";
  batch.lines = *lines;
  auto csv = BatchCsv(batch, due);
  ASSERT_THAT(csv, IsOk());
  EXPECT_EQ(*csv,
            "batch_id,payee_member_id,payee_name,iban,end_to_end_id,entitlement_id,meeting_id,"
            "meeting_date,member_id,action_id,amount_eur,line_status,category\r\n"
            "B01,p1,\"Dupont, Jeanne\",FR7630006000011234567890189,L1-B01,e1,meet-e1,2025-03-12,"
            "mem-e1,act1,100.00,payable,remuneration\r\n"
            "B01,p2,Martin,FR7630006000011234567890188,L2-B01,e2,meet-e2,2025-03-12,mem-e2,act1,"
            "80.00,blocked: iban: checksum does not match,remuneration\r\n");
  EXPECT_THAT(BatchCsv(batch, std::vector<Entitlement>{due[0]}),
              StatusIs(absl::StatusCode::kInvalidArgument, "e2"));
}

// --- netting of recoveries ---------------------------------------------------------------

Entitlement Paid(const std::string& id, const std::string& payee, Cents cents) {
  Entitlement e = Approved(id, payee, cents);
  e.idempotency_key = "meet-" + id + "/part/v1";
  e.status = EntitlementStatus::kPaid;
  e.batch_id = "B00";
  e.approved_by = "user-bureau";
  return e;
}

// The recovery of `id` (paid `cents` to `payee`), as the store records it.
Entitlement Recovery(const std::string& id, const std::string& payee, Cents cents) {
  auto r = RecoveryOf(Paid(id, payee, cents));
  EXPECT_THAT(r, IsOk());
  Entitlement e = r.ok() ? *r : Entitlement{};
  e.id = "r-" + id;
  return e;
}

TEST(RecoveryTest, IsTheNegativeOfThePaidEntitlementReadyToWithhold) {
  const Entitlement paid = Paid("e1", "p1", 8000);
  auto r = RecoveryOf(paid);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->amount_cents, -8000);
  EXPECT_EQ(r->rated_cents, -8000);
  EXPECT_EQ(r->capped_cents, 0);
  EXPECT_TRUE(IsRecovery(*r));
  EXPECT_EQ(r->status, EntitlementStatus::kApproved);
  EXPECT_TRUE(r->batch_id.empty());
  EXPECT_TRUE(r->id.empty());
  EXPECT_EQ(r->supersedes_id, "e1");
  EXPECT_EQ(r->payee, paid.payee);
  EXPECT_EQ(r->member_id, paid.member_id);
  EXPECT_EQ(r->action_id, paid.action_id);
  EXPECT_EQ(r->idempotency_key, "meet-e1/part/v1/recovery");
  EXPECT_THAT(r->reason, HasSubstr("e1"));
  EXPECT_EQ(r->category, paid.category);
}

TEST(RecoveryTest, OnlyAPaidEntitlementIsRecovered) {
  EXPECT_THAT(RecoveryOf(Approved("e1", "p1", 8000)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not paid"));
  Entitlement batched = Paid("e1", "p1", 8000);
  batched.status = EntitlementStatus::kBatched;
  EXPECT_THAT(RecoveryOf(batched), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(RecoveryOf(Paid("e1", "p1", 0)), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(NettingTest, RecoveryIsWithheldFromThePayeesPositiveLines) {
  const std::vector<Entitlement> due = {Approved("e2", "p1", 8000), Approved("e3", "p1", 5000),
                                        Recovery("e1", "p1", 10000), Approved("e4", "p3", 8000)};
  auto lines = BuildBatchLines("B01", due, Accounts());
  ASSERT_THAT(lines, IsOk());
  ASSERT_EQ(lines->size(), 2u);
  const BatchLine& p1 = (*lines)[0];
  EXPECT_FALSE(p1.blocked);
  EXPECT_EQ(p1.amount_cents, 3000);  // 80 + 50 - 100
  EXPECT_EQ(p1.recovered_cents, 10000);
  EXPECT_THAT(p1.entitlement_ids, ElementsAre("e2", "e3", "r-e1"));
  const BatchLine& p3 = (*lines)[1];
  EXPECT_EQ(p3.amount_cents, 8000);
  EXPECT_EQ(p3.recovered_cents, 0);

  PaymentBatch batch;
  batch.id = "B01";
  batch.lines = *lines;
  EXPECT_EQ(PayableTotal(batch), 11000);
  // Paying the batch settles the recovery with the lines it was withheld from.
  EXPECT_THAT(HeldEntitlementIds(batch), ElementsAre("e2", "e3", "e4", "r-e1"));
}

TEST(NettingTest, ANetOfZeroOrLessIsCarriedNeverNegative) {
  for (const Cents due_cents : {Cents{5000}, Cents{10000}}) {
    const std::vector<Entitlement> due = {Approved("e2", "p1", due_cents),
                                          Recovery("e1", "p1", 10000)};
    auto lines = BuildBatchLines("B01", due, Accounts());
    ASSERT_THAT(lines, IsOk());
    ASSERT_EQ(lines->size(), 1u);
    const BatchLine& line = (*lines)[0];
    EXPECT_TRUE(line.blocked) << due_cents;
    EXPECT_EQ(line.amount_cents, due_cents - 10000);
    EXPECT_EQ(line.recovered_cents, 10000);
    EXPECT_THAT(line.blocked_reason, HasSubstr("carried to a later batch"));
    EXPECT_THAT(line.blocked_reason, HasSubstr("100.00 EUR to recover"));
    EXPECT_THAT(line.blocked_reason, HasSubstr(absl::StrCat(FormatEuros(due_cents), " EUR due")));
    PaymentBatch batch;
    batch.lines = *lines;
    EXPECT_EQ(PayableTotal(batch), 0);
    EXPECT_TRUE(HeldEntitlementIds(batch).empty());  // all stay approved for a later batch
    EXPECT_THAT(CheckApprovable(batch), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
}

TEST(NettingTest, ARecoveryAloneIsCarried) {
  auto lines =
      BuildBatchLines("B01", std::vector<Entitlement>{Recovery("e1", "p1", 10000)}, Accounts());
  ASSERT_THAT(lines, IsOk());
  ASSERT_EQ(lines->size(), 1u);
  EXPECT_TRUE((*lines)[0].blocked);
  EXPECT_EQ((*lines)[0].amount_cents, -10000);
  EXPECT_THAT((*lines)[0].blocked_reason, HasSubstr("0.00 EUR due"));
}

TEST(NettingTest, CarryingComesBeforeTheBankAccountAndAPositiveNetStillNeedsOne) {
  // p4 has no account: a positive net is blocked for that, a non-positive one is carried.
  auto carried = BuildBatchLines(
      "B01", std::vector<Entitlement>{Approved("e2", "p4", 100), Recovery("e1", "p4", 200)},
      Accounts());
  ASSERT_THAT(carried, IsOk());
  EXPECT_THAT((*carried)[0].blocked_reason, HasSubstr("carried"));
  auto no_account = BuildBatchLines(
      "B01", std::vector<Entitlement>{Approved("e2", "p4", 300), Recovery("e1", "p4", 200)},
      Accounts());
  ASSERT_THAT(no_account, IsOk());
  EXPECT_TRUE((*no_account)[0].blocked);
  EXPECT_EQ((*no_account)[0].blocked_reason, "no bank account recorded");
  EXPECT_EQ((*no_account)[0].amount_cents, 100);
}

TEST(NettingTest, CsvShowsTheRecoveryNegative) {
  const std::vector<Entitlement> due = {Approved("e2", "p1", 15000), Recovery("e1", "p1", 10000)};
  auto lines = BuildBatchLines("B01", due, Accounts());
  ASSERT_THAT(lines, IsOk());
  PaymentBatch batch;
  batch.id = "B01";
  batch.lines = *lines;
  auto csv = BatchCsv(batch, due);
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(*csv, HasSubstr(",mem-e2,act1,150.00,payable,remuneration\r\n"));
  EXPECT_THAT(*csv, HasSubstr(",mem-e1,act1,-100.00,payable,recovery\r\n"));
}

TEST(NettingTest, PaymentOfTheNetClearsThePayable) {
  // Journal of one payee: paid 100, reversed (owes 100), then 80 + 50 due, batch nets 30.
  const std::vector<Entitlement> due = {Approved("e2", "p1", 8000), Approved("e3", "p1", 5000),
                                        Recovery("e1", "p1", 10000)};
  auto lines = BuildBatchLines("B02", due, Accounts());
  ASSERT_THAT(lines, IsOk());
  PaymentBatch batch;
  batch.id = "B02";
  batch.lines = *lines;
  auto payment = PaymentTransaction(batch, absl::CivilDay(2025, 4, 1));
  ASSERT_THAT(payment, IsOk());
  ASSERT_EQ(payment->entries.size(), 2u);
  EXPECT_EQ(payment->entries[0].amount_cents, 3000);
  Cents payable = -10000 + 10000 + 10000;  // entitlement, first payment, reversal
  payable += -8000 - 5000;                 // the new entitlements
  payable += payment->entries[0].amount_cents;
  EXPECT_EQ(payable, 0);
}

}  // namespace
}  // namespace cpts::finance
