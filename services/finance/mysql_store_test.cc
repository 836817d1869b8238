// Integration tests of MysqlFinanceStore, and of the Finance application on it, against a real
// MariaDB (SharedMariaDb()): one schema migrated with {PlatformMigrations(), Migrations()} per
// test process, a fresh tenant per test. Membership is a FakeMemberDirectory. The annual
// ceilings are platform-wide: each test uses its own year.
#include "services/finance/mysql_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/finance/finance.h"
#include "services/finance/iban.h"
#include "services/finance/ledger.h"
#include "services/finance/migrations.h"
#include "services/membership/client/member_directory.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/migrations.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::platform::db::ConnectionPool;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

struct SharedSchema {
  absl::Status status;
  std::unique_ptr<ConnectionPool> pool;  // the application user: no DDL
};

SharedSchema& Schema() {
  static SharedSchema* const shared = [] {
    auto* s = new SharedSchema;
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "finance_store");
    if (!schema.ok()) {
      s->status = schema.status();
      return s;
    }
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    s->status =
        platform::db::RunMigrations(*migrator, {platform::db::PlatformMigrations(), Migrations()});
    if (s->status.ok()) s->pool = ConnectionPool::Create(schema->app);
    return s;
  }();
  return *shared;
}

std::string NextId(absl::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", ++counter);
}

std::string Iban(absl::string_view bban) {
  return absl::StrCat("FR", IbanCheckDigits("FR", bban), bban);
}

class FinanceStoreTest : public ::testing::Test {
 protected:
  FinanceStoreTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 3, 1, 9, 0, 0), absl::UTCTimeZone())),
        ids_(NextId("t") + "-id") {}

  void SetUp() override {
    ASSERT_THAT(Schema().status, IsOk());
    tenant_ = NextId("tenant");
    store_ = std::make_unique<MysqlFinanceStore>(*Schema().pool, ids_, clock_);
    app_ = std::make_unique<Finance>(FinanceDeps{.policies = *store_,
                                                 .ceilings = *store_,
                                                 .entitlements = *store_,
                                                 .ledger = *store_,
                                                 .payments = *store_,
                                                 .aci = *store_,
                                                 .directory = directory_,
                                                 .clock = clock_,
                                                 .ids = ids_});
    treasurer_ = {
        .tenant_id = tenant_, .subject = "user-treasurer", .member_id = "", .roles = {"treasurer"}};
    bureau_ = {.tenant_id = tenant_,
               .subject = "user-bureau",
               .member_id = "",
               .roles = {"bureau_member"}};
    relay_ = {
        .tenant_id = tenant_, .subject = "service:projects", .member_id = "", .roles = {"service"}};
  }

  // A liberal member, up to date, paid directly, holding a mandate in `mandate_bodies`.
  std::string LiberalMember(std::vector<membership::MandateBody> mandate_bodies = {}) {
    membership::MemberProfile p;
    p.member_id = NextId("m");
    p.status = membership::MemberStatus::kActive;
    p.exercise_mode = membership::ExerciseMode::kLiberal;
    p.up_to_date = true;
    p.payee.kind = membership::PayeeKind::kSelf;
    p.mandate_bodies = std::move(mandate_bodies);
    directory_.Put(tenant_, p);
    return p.member_id;
  }
  // A salaried member: with a convention the employer is the payee, without one nobody.
  std::string SalariedMember(const std::string& employer, const std::string& convention) {
    membership::MemberProfile p;
    p.member_id = NextId("m");
    p.status = membership::MemberStatus::kActive;
    p.exercise_mode = membership::ExerciseMode::kSalaried;
    p.up_to_date = true;
    if (convention.empty()) {
      p.payee.kind = membership::PayeeKind::kNone;
      p.payee.none_reason = membership::PayeeNoneReason::kNoValidConvention;
    } else {
      p.payee.kind = membership::PayeeKind::kEmployer;
      p.payee.employer_member_id = employer;
      p.payee.convention_id = convention;
    }
    directory_.Put(tenant_, p);
    return p.member_id;
  }

  IndemnityPolicy PerMeeting(int year, Cents member, Cents referent) {
    IndemnityPolicy p;
    p.year = year;
    p.kind = PolicyKind::kPerMeeting;
    p.member_amount_cents = member;
    p.referent_amount_cents = referent;
    p.decision_reference = "AG du 1er janvier";
    return p;
  }

  AttendanceLine Line(const std::string& member, absl::CivilDay day,
                      AttendanceRole role = AttendanceRole::kMember, int minutes = 120,
                      const std::string& meeting = "") {
    AttendanceLine l;
    l.tenant_id = tenant_;
    l.meeting_id = meeting.empty() ? NextId("meeting") : meeting;
    l.group_id = "group-1";
    l.action_id = "action-1";
    l.participant_id = NextId("participant");
    l.member_id = member;
    l.role = role;
    l.present = true;
    l.minutes_worked = minutes;
    l.meeting_date = day;
    l.sheet_version = 1;
    l.indemnifiable = true;
    l.idempotency_key = absl::StrCat(l.meeting_id, "/", l.participant_id, "/v1");
    return l;
  }

  Entitlement Record(const AttendanceLine& line) {
    auto r = app_->RecordAttendance(relay_, line);
    EXPECT_THAT(r.status(), IsOk());
    return r.ok() ? r->entitlement : Entitlement{};
  }

  std::vector<LedgerTransaction> Journal() {
    std::string next;
    auto j = store_->ListTransactions(tenant_, 0, std::nullopt, Page{.page_size = 1000}, &next);
    EXPECT_THAT(j.status(), IsOk());
    return j.ok() ? *j : std::vector<LedgerTransaction>{};
  }

  Cents Balance(AccountKind kind, const std::string& key) {
    auto b = store_->GetBalances(tenant_, std::nullopt);
    EXPECT_THAT(b.status(), IsOk());
    if (!b.ok()) return -1;
    auto it = b->find(Account{.kind = kind, .key = key});
    return it == b->end() ? 0 : it->second;
  }

  platform::FakeClock clock_;
  platform::SequentialIdGenerator ids_;
  membership::client::FakeMemberDirectory directory_;
  std::unique_ptr<MysqlFinanceStore> store_;
  std::unique_ptr<Finance> app_;
  std::string tenant_;
  platform::auth::Principal treasurer_, bureau_, relay_;
};

// --- the journal is append-only --------------------------------------------------------

TEST_F(FinanceStoreTest, LedgerRowsCannotBeUpdatedOrDeleted) {
  ASSERT_THAT(store_->SetCeiling(2031, 4'000'000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2031, 5000, 8000), "").status(), IsOk());
  const std::string m = LiberalMember();
  Record(Line(m, absl::CivilDay(2031, 2, 3)));
  ASSERT_THAT(Journal(), SizeIs(1));

  auto lease = Schema().pool->Acquire();
  ASSERT_THAT(lease.status(), IsOk());
  const std::string where = absl::StrCat(" WHERE tenant_id = '", tenant_, "'");
  EXPECT_THAT((*lease)->Execute("UPDATE ledger_entries SET amount_cents = 1" + where),
              StatusIs(absl::StatusCode::kFailedPrecondition, "append-only"));
  EXPECT_THAT((*lease)->Execute("DELETE FROM ledger_entries" + where),
              StatusIs(absl::StatusCode::kFailedPrecondition, "append-only"));
  EXPECT_THAT((*lease)->Execute("UPDATE ledger_transactions SET description = 'x'" + where),
              StatusIs(absl::StatusCode::kFailedPrecondition, "append-only"));
  EXPECT_THAT((*lease)->Execute("DELETE FROM ledger_transactions" + where),
              StatusIs(absl::StatusCode::kFailedPrecondition, "append-only"));
  // Still there, unchanged.
  const std::vector<LedgerTransaction> journal = Journal();
  ASSERT_THAT(journal, SizeIs(1));
  EXPECT_EQ(journal[0].entries[0].amount_cents, 5000);
}

// --- policies ---------------------------------------------------------------------------

TEST_F(FinanceStoreTest, CreatePolicyIsIdempotentAndOnePerYear) {
  auto first = app_->CreatePolicy(treasurer_, PerMeeting(2032, 5000, 8000), "req-1");
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(first->version, 1);
  EXPECT_TRUE(first->in_force);
  auto again = app_->CreatePolicy(treasurer_, PerMeeting(2032, 5000, 8000), "req-1");
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->id, first->id);
  EXPECT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2032, 6000, 8000), "req-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id"));
  EXPECT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2032, 6000, 8000), "req-2").status(),
              StatusIs(absl::StatusCode::kAlreadyExists));
  std::string next;
  auto listed = app_->ListPolicies(treasurer_, 2032, Page{}, &next);
  ASSERT_THAT(listed.status(), IsOk());
  EXPECT_THAT(*listed, SizeIs(1));
}

TEST_F(FinanceStoreTest, PolicyFreezesOnceItRatedAndRevisionRerates) {
  ASSERT_THAT(store_->SetCeiling(2033, 4'000'000), IsOk());
  auto p = app_->CreatePolicy(treasurer_, PerMeeting(2033, 5000, 8000), "");
  ASSERT_THAT(p.status(), IsOk());
  IndemnityPolicy change = *p;
  change.member_amount_cents = 5500;
  auto updated = app_->UpdatePolicy(treasurer_, change, PolicyMask{.member_amount_cents = true},
                                    Etag(p->row_version));
  ASSERT_THAT(updated.status(), IsOk());
  EXPECT_EQ(updated->member_amount_cents, 5500);
  const std::string m = LiberalMember();
  const AttendanceLine first_line = Line(m, absl::CivilDay(2033, 4, 1));
  const Entitlement e = Record(first_line);
  EXPECT_EQ(e.amount_cents, 5500);
  auto frozen = app_->GetPolicy(treasurer_, p->id);
  ASSERT_THAT(frozen.status(), IsOk());
  EXPECT_TRUE(frozen->frozen);
  EXPECT_THAT(
      app_->UpdatePolicy(treasurer_, change, PolicyMask{.member_amount_cents = true}, "").status(),
      StatusIs(absl::StatusCode::kFailedPrecondition));

  auto revised = app_->RevisePolicy(treasurer_, PerMeeting(2033, 6000, 9000),
                                    Etag(frozen->row_version), "rev-1");
  ASSERT_THAT(revised.status(), IsOk());
  EXPECT_EQ(revised->policy.version, 2);
  EXPECT_EQ(revised->rerated_count, 1);
  EntitlementFilter filter{.year = 2033, .member_id = m};
  auto list = app_->ListEntitlements(treasurer_, filter, Page{});
  ASSERT_THAT(list.status(), IsOk());
  ASSERT_THAT(list->entitlements, SizeIs(2));
  Cents due = 0;
  for (const Entitlement& x : list->entitlements) {
    if (x.status != EntitlementStatus::kReversed) due += x.amount_cents;
  }
  EXPECT_EQ(due, 6000);
  EXPECT_EQ(Balance(AccountKind::kPayable, m), -6000);  // credit: owed to the member
  EXPECT_THAT(VerifyJournal(Journal()), IsOk());

  // The meeting's sheet is withdrawn afterwards: the reversal cancels the replacement.
  AttendanceLine reversal = first_line;
  reversal.reversal = true;
  reversal.idempotency_key += "/reversal";
  auto reversed = app_->RecordAttendance(relay_, reversal);
  ASSERT_THAT(reversed.status(), IsOk());
  EXPECT_EQ(reversed->entitlement.supersedes_id, e.id);
  EXPECT_EQ(reversed->entitlement.status, EntitlementStatus::kReversed);
  EXPECT_EQ(Balance(AccountKind::kPayable, m), 0);
  EXPECT_THAT(VerifyJournal(Journal()), IsOk());
}

// --- attendance -------------------------------------------------------------------------

TEST_F(FinanceStoreTest, RecordAttendanceRatesPaysOnceAndReplays) {
  ASSERT_THAT(store_->SetCeiling(2034, 4'000'000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2034, 5000, 8000), "").status(), IsOk());
  const std::string member = LiberalMember();
  const std::string referent = LiberalMember();
  const AttendanceLine line = Line(member, absl::CivilDay(2034, 5, 2));
  const Entitlement a = Record(line);
  EXPECT_EQ(a.amount_cents, 5000);
  EXPECT_EQ(a.status, EntitlementStatus::kPending);
  EXPECT_EQ(a.payee.type, PayeeType::kSelf);
  const Entitlement b =
      Record(Line(referent, absl::CivilDay(2034, 5, 2), AttendanceRole::kReferent));
  EXPECT_EQ(b.amount_cents, 8000);

  auto replay = app_->RecordAttendance(relay_, line);
  ASSERT_THAT(replay.status(), IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->entitlement.id, a.id);
  // The store alone replays too (a delivery that lost the race for the event key).
  auto direct = store_->RecordEntitlement(tenant_, a, 0, clock_.Now());
  ASSERT_THAT(direct.status(), IsOk());
  EXPECT_TRUE(direct->replayed);

  EXPECT_THAT(Journal(), SizeIs(2));
  EXPECT_EQ(Balance(AccountKind::kPayable, member), -5000);
  EXPECT_EQ(Balance(AccountKind::kPayable, referent), -8000);
  EXPECT_EQ(Balance(AccountKind::kIndemnityExpense, "action-1"), 13000);
}

TEST_F(FinanceStoreTest, PerHourPolicyAndSalariedMembers) {
  ASSERT_THAT(store_->SetCeiling(2035, 4'000'000), IsOk());
  IndemnityPolicy p;
  p.year = 2035;
  p.kind = PolicyKind::kPerHourPoints;
  p.member_millipoints_per_hour = 2000;
  p.referent_millipoints_per_hour = 3000;
  p.point_value_cents = 2500;
  ASSERT_THAT(app_->CreatePolicy(treasurer_, p, "").status(), IsOk());
  const std::string liberal = LiberalMember();
  const std::string employer = LiberalMember();
  const std::string with = SalariedMember(employer, "conv-1");
  const std::string without = SalariedMember("", "");
  // 2 points/h x 1.5 h x 25 EUR = 75 EUR.
  EXPECT_EQ(
      Record(Line(liberal, absl::CivilDay(2035, 1, 10), AttendanceRole::kMember, 90)).amount_cents,
      7500);
  const Entitlement paid_to_employer =
      Record(Line(with, absl::CivilDay(2035, 1, 10), AttendanceRole::kReferent, 60));
  EXPECT_EQ(paid_to_employer.amount_cents, 7500);
  EXPECT_EQ(paid_to_employer.payee.type, PayeeType::kEmployer);
  EXPECT_EQ(paid_to_employer.payee.member_id, employer);
  EXPECT_EQ(paid_to_employer.payee.convention_id, "conv-1");
  const Entitlement nothing = Record(Line(without, absl::CivilDay(2035, 1, 10)));
  EXPECT_EQ(nothing.amount_cents, 0);
  EXPECT_EQ(nothing.status, EntitlementStatus::kIneligible);
  EXPECT_EQ(nothing.ineligible_reason, IneligibleReason::kNoEmployerConvention);
  // A non-member gets nothing either, and nothing reaches the journal for them.
  const Entitlement stranger = Record(Line(NextId("unknown"), absl::CivilDay(2035, 1, 10)));
  EXPECT_EQ(stranger.ineligible_reason, IneligibleReason::kNotAMember);
  EXPECT_THAT(Journal(), SizeIs(2));
  EXPECT_EQ(Balance(AccountKind::kPayable, employer), -7500);
}

TEST_F(FinanceStoreTest, AnnualCapHoldsUnderConcurrentMeetings) {
  // 10 meetings of 50 EUR against a cap of 120 EUR, recorded at once.
  ASSERT_THAT(store_->SetCeiling(2036, 12000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2036, 5000, 8000), "").status(), IsOk());
  const std::string m = LiberalMember();
  std::vector<AttendanceLine> lines;
  lines.reserve(10);
  for (int i = 0; i < 10; ++i) lines.push_back(Line(m, absl::CivilDay(2036, 3, 1 + i)));
  std::vector<std::thread> threads;
  threads.reserve(lines.size());
  std::atomic<int> failures{0};
  for (const AttendanceLine& l : lines) {
    threads.emplace_back([&, l] {
      if (!app_->RecordAttendance(relay_, l).ok()) ++failures;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto total = store_->YearTotalCents(tenant_, m, 2036);
  ASSERT_THAT(total.status(), IsOk());
  EXPECT_EQ(*total, 12000);
  EXPECT_EQ(Balance(AccountKind::kPayable, m), -12000);
}

TEST_F(FinanceStoreTest, MissingCeilingIsFailedPrecondition) {
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2099, 5000, 8000), "").status(), IsOk());
  EXPECT_THAT(
      app_->RecordAttendance(relay_, Line(LiberalMember(), absl::CivilDay(2099, 1, 5))).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(FinanceStoreTest, ReversalReversesTheLedgerOnce) {
  ASSERT_THAT(store_->SetCeiling(2037, 4'000'000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2037, 5000, 8000), "").status(), IsOk());
  const std::string m = LiberalMember();
  AttendanceLine line = Line(m, absl::CivilDay(2037, 6, 1));
  const Entitlement e = Record(line);
  AttendanceLine reversal = line;
  reversal.reversal = true;
  reversal.idempotency_key += "/reversal";
  auto r = app_->RecordAttendance(relay_, reversal);
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->entitlement.id, e.id);
  EXPECT_EQ(r->entitlement.status, EntitlementStatus::kReversed);
  auto again = app_->RecordAttendance(relay_, reversal);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_TRUE(again->replayed);
  const std::vector<LedgerTransaction> journal = Journal();
  ASSERT_THAT(journal, SizeIs(2));
  EXPECT_EQ(journal[1].reverses_id, journal[0].id);
  EXPECT_THAT(VerifyJournal(journal), IsOk());
  EXPECT_EQ(Balance(AccountKind::kPayable, m), 0);
}

TEST_F(FinanceStoreTest, ListEntitlementsPagesByKeyset) {
  ASSERT_THAT(store_->SetCeiling(2038, 4'000'000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2038, 100, 200), "").status(), IsOk());
  const std::string m = LiberalMember();
  for (int i = 0; i < 7; ++i) Record(Line(m, absl::CivilDay(2038, 1, 7 - i)));
  std::vector<std::string> seen;
  Page page{.page_size = 3};
  for (int guard = 0; guard < 10; ++guard) {
    auto p = app_->ListEntitlements(treasurer_, EntitlementFilter{.year = 2038}, page);
    ASSERT_THAT(p.status(), IsOk());
    for (const Entitlement& e : p->entitlements) {
      seen.push_back(absl::FormatCivilTime(e.meeting_date));
    }
    if (p->next_page_token.empty()) break;
    page.page_token = p->next_page_token;
  }
  ASSERT_THAT(seen, SizeIs(7));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

// --- approval, batch, export, payment ---------------------------------------------------

TEST_F(FinanceStoreTest, FromEntitlementsToAPaidBatch) {
  ASSERT_THAT(store_->SetCeiling(2039, 4'000'000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2039, 5000, 8000), "").status(), IsOk());
  const std::string a = LiberalMember();
  const std::string b = LiberalMember();
  const std::string c = LiberalMember();  // no bank account: blocked
  std::vector<std::string> ids;
  ids.push_back(Record(Line(a, absl::CivilDay(2039, 2, 1))).id);
  ids.push_back(Record(Line(a, absl::CivilDay(2039, 2, 8), AttendanceRole::kReferent)).id);
  ids.push_back(Record(Line(b, absl::CivilDay(2039, 2, 1))).id);
  ids.push_back(Record(Line(c, absl::CivilDay(2039, 2, 1))).id);
  ASSERT_THAT(app_->SetBankAccount(treasurer_, {.member_id = a,
                                                .holder_name = "Dr Alpha Fictif",
                                                .iban = Iban("30006000011234567890189")})
                  .status(),
              IsOk());
  ASSERT_THAT(app_->SetBankAccount(treasurer_, {.member_id = b,
                                                .holder_name = "Béta Exemple",
                                                .iban = Iban("30004000031234567890143")})
                  .status(),
              IsOk());
  // The CPTS's own account is not a payee's.
  EXPECT_THAT(app_->SetBankAccount(treasurer_, {.member_id = tenant_,
                                                .holder_name = "CPTS Fictive",
                                                .iban = Iban("10278000011234567890159")})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "account.member_id"));
  // Who changed a payee's bank account is audited, without the IBAN.
  {
    auto lease = Schema().pool->Acquire();
    ASSERT_THAT(lease.status(), IsOk());
    auto audit = platform::db::ListAudit(**lease, tenant_, "payee", a, 10);
    ASSERT_THAT(audit.status(), IsOk());
    ASSERT_THAT(*audit, SizeIs(1));
    EXPECT_EQ((*audit)[0].action, "finance.bank_account.set");
    EXPECT_EQ((*audit)[0].actor_subject, "user-treasurer");
    EXPECT_THAT((*audit)[0].details, HasSubstr("0189"));
    EXPECT_THAT((*audit)[0].details, ::testing::Not(HasSubstr("30006000011234567890189")));
  }
  // Approval: all or nothing, idempotent.
  EXPECT_THAT(app_->ApproveEntitlements(bureau_, {ids[0], "nope"}, "ap-0").status(),
              StatusIs(absl::StatusCode::kNotFound));
  auto approved = app_->ApproveEntitlements(bureau_, ids, "ap-1");
  ASSERT_THAT(approved.status(), IsOk());
  for (const Entitlement& e : *approved) EXPECT_EQ(e.status, EntitlementStatus::kApproved);
  EXPECT_THAT(app_->ApproveEntitlements(bureau_, ids, "ap-1").status(), IsOk());
  EXPECT_THAT(app_->ApproveEntitlements(bureau_, ids, "ap-2").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  PaymentBatch in;
  in.label = "Février";
  in.execution_date = absl::CivilDay(2039, 3, 5);
  auto batch = app_->CreateBatch(treasurer_, in, std::nullopt, "batch-1");
  ASSERT_THAT(batch.status(), IsOk());
  ASSERT_THAT(batch->lines, SizeIs(3));
  auto same = app_->CreateBatch(treasurer_, in, std::nullopt, "batch-1");
  ASSERT_THAT(same.status(), IsOk());
  EXPECT_EQ(same->id, batch->id);
  EXPECT_THAT(app_->CreateBatch(treasurer_, in, std::nullopt, "batch-2").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "bank account"));  // only c's remains

  EXPECT_THAT(app_->ExportBatch(treasurer_, batch->id, ExportFormat::kSepaPain001).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));  // still a draft
  auto ok = app_->ApproveBatch(treasurer_, batch->id, Etag(batch->row_version));
  ASSERT_THAT(ok.status(), IsOk());
  EXPECT_EQ(ok->state, BatchState::kApproved);
  // No SEPA file without the debtor account; nothing changes.
  EXPECT_THAT(app_->GetDebtorAccount(treasurer_).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(app_->ExportBatch(treasurer_, batch->id, ExportFormat::kSepaPain001).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "debtor account"));
  auto unchanged = app_->GetBatch(treasurer_, batch->id);
  ASSERT_THAT(unchanged.status(), IsOk());
  EXPECT_EQ(unchanged->state, BatchState::kApproved);
  EXPECT_THAT(app_->SetDebtorAccount(treasurer_, {.holder_name = "CPTS Fictive",
                                                  .iban = "FR7610278000011234567890150"})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "account.iban"));
  EXPECT_THAT(app_->SetDebtorAccount(treasurer_,
                                     {.holder_name = "", .iban = Iban("10278000011234567890159")})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "account.holder_name"));
  EXPECT_THAT(app_->SetDebtorAccount(treasurer_, {.holder_name = "CPTS Fictive",
                                                  .iban = Iban("10278000011234567890159"),
                                                  .bic = "CMCI"})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "account.bic"));
  auto debtor = app_->SetDebtorAccount(
      treasurer_, {.holder_name = "CPTS Fictive",
                   .iban = absl::AsciiStrToLower(Iban("10278000011234567890159").substr(0, 4)) +
                           " " + Iban("10278000011234567890159").substr(4),
                   .bic = "cmcifr2a"});
  ASSERT_THAT(debtor.status(), IsOk());
  EXPECT_EQ(debtor->iban, Iban("10278000011234567890159"));
  EXPECT_EQ(debtor->bic, "CMCIFR2A");
  EXPECT_EQ(debtor->updated_by, "user-treasurer");
  auto read = app_->GetDebtorAccount(treasurer_);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->holder_name, "CPTS Fictive");
  {
    auto lease = Schema().pool->Acquire();
    ASSERT_THAT(lease.status(), IsOk());
    auto audit = platform::db::ListAudit(**lease, tenant_, "debtor_account", tenant_, 10);
    ASSERT_THAT(audit.status(), IsOk());
    ASSERT_THAT(*audit, SizeIs(1));
    EXPECT_EQ((*audit)[0].action, "finance.debtor_account.set");
    EXPECT_THAT((*audit)[0].details, HasSubstr("0159"));
    EXPECT_THAT((*audit)[0].details, ::testing::Not(HasSubstr("10278000011234567890159")));
  }
  auto xml = app_->ExportBatch(treasurer_, batch->id, ExportFormat::kSepaPain001);
  ASSERT_THAT(xml.status(), IsOk());
  EXPECT_THAT(xml->content, HasSubstr(Iban("10278000011234567890159")));
  EXPECT_THAT(xml->content, HasSubstr("<BIC>CMCIFR2A</BIC>"));
  EXPECT_THAT(xml->content, HasSubstr("<CtrlSum>180.00</CtrlSum>"));
  EXPECT_THAT(xml->content, HasSubstr("<NbOfTxs>2</NbOfTxs>"));
  auto csv = app_->ExportBatch(treasurer_, batch->id, ExportFormat::kCsv);
  ASSERT_THAT(csv.status(), IsOk());
  EXPECT_THAT(csv->content, HasSubstr("blocked"));

  auto paid = app_->MarkBatchPaid(treasurer_, batch->id, absl::CivilDay(2039, 3, 6), "paid-1");
  ASSERT_THAT(paid.status(), IsOk());
  EXPECT_EQ(paid->state, BatchState::kPaid);
  auto paid_again =
      app_->MarkBatchPaid(treasurer_, batch->id, absl::CivilDay(2039, 3, 6), "paid-1");
  ASSERT_THAT(paid_again.status(), IsOk());
  EXPECT_EQ(Balance(AccountKind::kPayable, a), 0);
  EXPECT_EQ(Balance(AccountKind::kPayable, b), 0);
  EXPECT_EQ(Balance(AccountKind::kPayable, c), -5000);
  EXPECT_EQ(Balance(AccountKind::kBank, ""), -18000);
  EXPECT_THAT(VerifyJournal(Journal()), IsOk());
  {
    auto lease = Schema().pool->Acquire();
    ASSERT_THAT(lease.status(), IsOk());
    auto audit = platform::db::ListAudit(**lease, tenant_, "payment_batch", batch->id, 10);
    ASSERT_THAT(audit.status(), IsOk());
    std::vector<std::string> actions;
    for (const auto& r : *audit) actions.push_back(r.action);
    // Newest first; the replayed MarkBatchPaid added nothing.
    EXPECT_THAT(actions, ::testing::ElementsAre("finance.batch.paid", "finance.batch.export",
                                                "finance.batch.export", "finance.batch.approve",
                                                "finance.batch.create"));
  }
  auto statement = app_->GetMyStatement(
      {.tenant_id = tenant_, .subject = "user-a", .member_id = a, .roles = {"member"}}, 2039);
  ASSERT_THAT(statement.status(), IsOk());
  EXPECT_EQ(statement->total_paid_cents, 13000);
}

// --- governance indemnities ------------------------------------------------------------

TEST_F(FinanceStoreTest, GovernanceIndemnityCountsTowardTheCapAndReplays) {
  ASSERT_THAT(store_->SetCeiling(2041, 12000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2041, 5000, 8000), "").status(), IsOk());
  const std::string m = LiberalMember({membership::MandateBody::kBoard});
  const Entitlement meeting = Record(Line(m, absl::CivilDay(2041, 1, 10)));
  ASSERT_EQ(meeting.amount_cents, 5000);
  const GovernanceClaim claim{.member_id = m,
                              .work_date = absl::CivilDay(2041, 2, 1),
                              .amount_cents = 10000,
                              .body = GovernanceBody::kBoard,
                              .reason = "Conseil d'administration du 1er février",
                              .request_id = "gov-1"};
  auto first = app_->RecordGovernanceIndemnity(treasurer_, claim);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_FALSE(first->replayed);
  const Entitlement& g = first->entitlement;
  EXPECT_EQ(g.category, EntitlementCategory::kIndemnity);
  EXPECT_EQ(g.governance_body, GovernanceBody::kBoard);
  EXPECT_EQ(g.reason, claim.reason);
  EXPECT_EQ(g.rated_cents, 10000);
  EXPECT_EQ(g.amount_cents, 7000);  // 120 EUR cap - 50 EUR of remunerations
  EXPECT_EQ(g.capped_cents, 3000);
  EXPECT_FALSE(g.cap_reason.empty());
  EXPECT_EQ(g.status, EntitlementStatus::kPending);

  // The same request again: the first answer. Another claim under the same key: refused.
  auto again = app_->RecordGovernanceIndemnity(treasurer_, claim);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->entitlement.id, g.id);
  GovernanceClaim other = claim;
  other.amount_cents = 9000;
  EXPECT_THAT(app_->RecordGovernanceIndemnity(treasurer_, other).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id"));
  // The store alone checks the key's fingerprint too.
  EXPECT_THAT(store_
                  ->RecordGovernanceEntitlement(tenant_, g, 12000, clock_.Now(),
                                                {.scope = "RecordGovernanceIndemnity",
                                                 .request_id = "gov-1",
                                                 .fingerprint = "another"},
                                                "user-treasurer")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id"));

  // The cap is reached: the next one is recorded, fully capped.
  other.request_id = "gov-2";
  auto capped = app_->RecordGovernanceIndemnity(treasurer_, other);
  ASSERT_THAT(capped.status(), IsOk());
  EXPECT_EQ(capped->entitlement.amount_cents, 0);
  EXPECT_EQ(capped->entitlement.status, EntitlementStatus::kIneligible);
  EXPECT_EQ(capped->entitlement.ineligible_reason, IneligibleReason::kAnnualCapReached);
  // A member who is not up to date is refused and nothing is recorded.
  membership::MemberProfile late;
  late.member_id = NextId("m");
  late.status = membership::MemberStatus::kLapsed;
  late.exercise_mode = membership::ExerciseMode::kLiberal;
  late.payee.kind = membership::PayeeKind::kSelf;
  late.mandate_bodies = {membership::MandateBody::kBoard};
  directory_.Put(tenant_, late);
  GovernanceClaim refused = claim;
  refused.member_id = late.member_id;
  refused.request_id = "gov-3";
  EXPECT_THAT(app_->RecordGovernanceIndemnity(treasurer_, refused).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not up to date"));
  refused.member_id = NextId("nobody");
  EXPECT_THAT(app_->RecordGovernanceIndemnity(treasurer_, refused).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not a member"));
  // A member in good standing who does not sit in the board (only in the bureau, or in no
  // body) is refused too, and nothing is recorded.
  refused.member_id = LiberalMember({membership::MandateBody::kBureau});
  EXPECT_THAT(
      app_->RecordGovernanceIndemnity(treasurer_, refused).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition, "holds no BOARD mandate on 2041-02-01"));
  refused.member_id = LiberalMember();
  EXPECT_THAT(app_->RecordGovernanceIndemnity(treasurer_, refused).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "holds no BOARD mandate"));

  auto governance = app_->ListEntitlements(
      treasurer_, EntitlementFilter{.year = 2041, .category = EntitlementCategory::kIndemnity},
      Page{});
  ASSERT_THAT(governance.status(), IsOk());
  ASSERT_THAT(governance->entitlements, SizeIs(2));
  EXPECT_EQ(Balance(AccountKind::kPayable, m), -12000);
  EXPECT_EQ(Balance(AccountKind::kIndemnityExpense, kGovernanceActionKey), 7000);
  {
    auto lease = Schema().pool->Acquire();
    ASSERT_THAT(lease.status(), IsOk());
    auto audit = platform::db::ListAudit(**lease, tenant_, "entitlement", g.id, 10);
    ASSERT_THAT(audit.status(), IsOk());
    ASSERT_THAT(*audit, SizeIs(1));  // the replay added nothing
    EXPECT_EQ((*audit)[0].action, "finance.entitlement.governance");
    EXPECT_EQ((*audit)[0].actor_subject, "user-treasurer");
  }

  // A revision raising the earlier meeting takes the governance indemnity's room: it is
  // capped again, so the year stays under the ceiling.
  auto in_force = store_->PolicyInForce(tenant_, 2041);
  ASSERT_THAT(in_force.status(), IsOk());
  auto revised = app_->RevisePolicy(treasurer_, PerMeeting(2041, 6000, 8000),
                                    Etag((*in_force)->row_version), "rev-2041");
  ASSERT_THAT(revised.status(), IsOk());
  EXPECT_EQ(revised->rerated_count, 2);
  auto total = store_->YearTotalCents(tenant_, m, 2041);
  ASSERT_THAT(total.status(), IsOk());
  EXPECT_EQ(*total, 12000);
  auto current =
      app_->ListEntitlements(treasurer_,
                             EntitlementFilter{.year = 2041,
                                               .status = EntitlementStatus::kPending,
                                               .category = EntitlementCategory::kIndemnity},
                             Page{});
  ASSERT_THAT(current.status(), IsOk());
  ASSERT_THAT(current->entitlements, SizeIs(1));
  EXPECT_EQ(current->entitlements[0].amount_cents, 6000);
  EXPECT_EQ(current->entitlements[0].supersedes_id, g.id);
  EXPECT_TRUE(current->entitlements[0].policy_id.empty());
  EXPECT_THAT(VerifyJournal(Journal()), IsOk());
}

// --- netting of a paid and reversed entitlement -----------------------------------------

TEST_F(FinanceStoreTest, APaidThenReversedEntitlementIsNettedInTheNextBatch) {
  ASSERT_THAT(store_->SetCeiling(2042, 4'000'000), IsOk());
  ASSERT_THAT(app_->CreatePolicy(treasurer_, PerMeeting(2042, 5000, 8000), "").status(), IsOk());
  const std::string m = LiberalMember();
  ASSERT_THAT(app_->SetBankAccount(treasurer_, {.member_id = m,
                                                .holder_name = "Dr Delta Fictif",
                                                .iban = Iban("30006000011234567890189")})
                  .status(),
              IsOk());
  ASSERT_THAT(app_->SetDebtorAccount(treasurer_, {.holder_name = "CPTS Fictive",
                                                  .iban = Iban("10278000011234567890159")})
                  .status(),
              IsOk());
  // Pays the approved entitlements of `ids` in a new batch; returns it.
  auto pay = [&](const std::vector<std::string>& ids, const std::string& key) {
    if (!ids.empty()) {
      EXPECT_THAT(app_->ApproveEntitlements(bureau_, ids, key).status(), IsOk());
    }
    auto b = app_->CreateBatch(treasurer_, {.execution_date = absl::CivilDay(2042, 6, 30)},
                               std::nullopt, key);
    EXPECT_THAT(b.status(), IsOk());
    if (!b.ok()) return PaymentBatch{};
    EXPECT_THAT(app_->ApproveBatch(treasurer_, b->id, "").status(), IsOk());
    EXPECT_THAT(app_->ExportBatch(treasurer_, b->id, ExportFormat::kSepaPain001).status(), IsOk());
    auto paid = app_->MarkBatchPaid(treasurer_, b->id, absl::CivilDay(2042, 6, 30), key);
    EXPECT_THAT(paid.status(), IsOk());
    return paid.ok() ? *paid : PaymentBatch{};
  };
  const AttendanceLine line = Line(m, absl::CivilDay(2042, 3, 2));
  const Entitlement e1 = Record(line);
  pay({e1.id}, "first");

  // The sheet is amended afterwards: the paid entitlement is reversed, the payee owes 50 EUR.
  AttendanceLine reversal = line;
  reversal.reversal = true;
  reversal.idempotency_key += "/reversal";
  ASSERT_THAT(app_->RecordAttendance(relay_, reversal).status(), IsOk());
  ASSERT_THAT(app_->RecordAttendance(relay_, reversal).status(), IsOk());  // replayed
  EXPECT_EQ(Balance(AccountKind::kPayable, m), 5000);
  auto recoveries = app_->ListEntitlements(
      treasurer_, EntitlementFilter{.member_id = m, .status = EntitlementStatus::kApproved},
      Page{});
  ASSERT_THAT(recoveries.status(), IsOk());
  ASSERT_THAT(recoveries->entitlements, SizeIs(1));  // one recovery, even replayed
  const Entitlement recovery = recoveries->entitlements[0];
  EXPECT_EQ(recovery.amount_cents, -5000);
  EXPECT_EQ(recovery.supersedes_id, e1.id);
  EXPECT_EQ(recovery.payee.member_id, m);
  auto statement = app_->GetMyStatement(
      {.tenant_id = tenant_, .subject = "user-m", .member_id = m, .roles = {"member"}}, 2042);
  ASSERT_THAT(statement.status(), IsOk());
  EXPECT_EQ(statement->total_to_recover_cents, 5000);
  // An entitlement that was not paid yet leaves nothing to recover.
  const AttendanceLine unpaid_line = Line(m, absl::CivilDay(2042, 3, 9));
  Record(unpaid_line);
  AttendanceLine unpaid_reversal = unpaid_line;
  unpaid_reversal.reversal = true;
  unpaid_reversal.idempotency_key += "/reversal";
  ASSERT_THAT(app_->RecordAttendance(relay_, unpaid_reversal).status(), IsOk());

  // 50 EUR due against 50 EUR to recover: nothing to pay, everything carried.
  const Entitlement e2 = Record(Line(m, absl::CivilDay(2042, 4, 6)));
  ASSERT_THAT(app_->ApproveEntitlements(bureau_, {e2.id}, "approve-e2").status(), IsOk());
  EXPECT_THAT(app_->CreateBatch(treasurer_, {.execution_date = absl::CivilDay(2042, 6, 30)},
                                std::nullopt, "carried")
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "carried to a later batch"));

  // A référent meeting later: 50 + 80 - 50 = 80 EUR transferred, the recovery settled.
  const Entitlement e3 = Record(Line(m, absl::CivilDay(2042, 5, 4), AttendanceRole::kReferent));
  // Only meetings up to April: the recovery is netted whatever its meeting date.
  ASSERT_THAT(app_->ApproveEntitlements(bureau_, {e3.id}, "approve-e3").status(), IsOk());
  auto netted = app_->CreateBatch(treasurer_, {.execution_date = absl::CivilDay(2042, 6, 30)},
                                  absl::CivilDay(2042, 5, 31), "netted");
  ASSERT_THAT(netted.status(), IsOk());
  ASSERT_THAT(netted->lines, SizeIs(1));
  EXPECT_EQ(netted->lines[0].amount_cents, 8000);
  EXPECT_EQ(netted->lines[0].recovered_cents, 5000);
  EXPECT_THAT(netted->lines[0].entitlement_ids, SizeIs(3));
  ASSERT_THAT(app_->ApproveBatch(treasurer_, netted->id, "").status(), IsOk());
  auto xml = app_->ExportBatch(treasurer_, netted->id, ExportFormat::kSepaPain001);
  ASSERT_THAT(xml.status(), IsOk());
  EXPECT_THAT(xml->content, HasSubstr("<CtrlSum>80.00</CtrlSum>"));
  auto reread = app_->GetBatch(treasurer_, netted->id);  // recovered_cents is stored
  ASSERT_THAT(reread.status(), IsOk());
  EXPECT_EQ(reread->lines[0].recovered_cents, 5000);
  ASSERT_THAT(
      app_->MarkBatchPaid(treasurer_, netted->id, absl::CivilDay(2042, 6, 30), "netted").status(),
      IsOk());

  EXPECT_EQ(Balance(AccountKind::kPayable, m), 0);
  EXPECT_EQ(Balance(AccountKind::kBank, ""), -5000 - 8000);
  EXPECT_EQ(Balance(AccountKind::kIndemnityExpense, "action-1"), 5000 + 8000);
  EXPECT_THAT(VerifyJournal(Journal()), IsOk());
  auto settled = store_->GetEntitlements(tenant_, {recovery.id});
  ASSERT_THAT(settled.status(), IsOk());
  EXPECT_EQ((*settled)[0].status, EntitlementStatus::kPaid);
  statement = app_->GetMyStatement(
      {.tenant_id = tenant_, .subject = "user-m", .member_id = m, .roles = {"member"}}, 2042);
  ASSERT_THAT(statement.status(), IsOk());
  EXPECT_EQ(statement->total_to_recover_cents, 0);
  EXPECT_EQ(statement->total_due_cents, 8000);
  EXPECT_EQ(statement->total_paid_cents, 8000);
  // The report's paid indemnities are what the bank paid for the expense accounts' amount.
  auto paid = store_->ListPaidIndemnities(tenant_, 2042);
  ASSERT_THAT(paid.status(), IsOk());
  Cents reported = 0;
  for (const PaidIndemnity& p : *paid) reported += p.amount_cents;
  EXPECT_EQ(reported, Balance(AccountKind::kIndemnityExpense, "action-1"));
}

// --- the debtor account migration -----------------------------------------------------

TEST_F(FinanceStoreTest, MigrationMovesTheTenantIdPayeeAccountToTheDebtorAccount) {
  auto schema = cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "finance_mig");
  ASSERT_THAT(schema.status(), IsOk());
  std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
  platform::db::MigrationSet first = Migrations();
  first.migrations.resize(1);
  ASSERT_THAT(platform::db::RunMigrations(*migrator, {platform::db::PlatformMigrations(), first}),
              IsOk());
  {
    auto lease = migrator->Acquire();
    ASSERT_THAT(lease.status(), IsOk());
    ASSERT_THAT((*lease)->Execute(absl::StrCat(
                    "INSERT INTO bank_accounts (tenant_id, member_id, holder_name, iban, bic, "
                    "update_time) VALUES ('t1', 't1', 'CPTS Ancienne', '",
                    Iban("10278000011234567890159"),
                    "', 'CMCIFR2A', '2025-01-02 03:04:05'), ('t1', 'm1', 'Dr Payee', '",
                    Iban("30006000011234567890189"), "', '', '2025-01-02 03:04:05')")),
                IsOk());
  }
  ASSERT_THAT(
      platform::db::RunMigrations(*migrator, {platform::db::PlatformMigrations(), Migrations()}),
      IsOk());
  std::unique_ptr<ConnectionPool> app_pool = ConnectionPool::Create(schema->app);
  MysqlFinanceStore store(*app_pool, ids_, clock_);
  auto debtor = store.GetDebtorAccount("t1");
  ASSERT_THAT(debtor.status(), IsOk());
  ASSERT_TRUE(debtor->has_value());
  EXPECT_EQ((*debtor)->holder_name, "CPTS Ancienne");
  EXPECT_EQ((*debtor)->bic, "CMCIFR2A");
  EXPECT_THAT(store.GetBankAccount("t1", "t1").status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store.GetBankAccount("t1", "m1").status(), IsOk());
}

// --- ACI ----------------------------------------------------------------------------------

TEST_F(FinanceStoreTest, AciEnvelopesExpensesAndReportAddUp) {
  platform::auth::Principal coordinator{
      .tenant_id = tenant_, .subject = "user-coord", .member_id = "", .roles = {"coordinator"}};
  auto contract = app_->CreateContract(
      coordinator, {.signature_date = absl::CivilDay(2040, 4, 15), .duration_years = 5, .size = 2},
      "c-1");
  ASSERT_THAT(contract.status(), IsOk());
  auto env = app_->SetEnvelope(coordinator, {.year = 2040,
                                             .kind = EnvelopeKind::kMission,
                                             .mission_id = "mission-1",
                                             .fixed_cents = 1'000'000,
                                             .variable_cents = 400'000,
                                             .advance_basis_points = 7500});
  ASSERT_THAT(env.status(), IsOk());
  ASSERT_THAT(env->instalments, SizeIs(2));  // no attainment yet: no variable part
  ASSERT_THAT(app_->SetAttainment(coordinator, {.year = 2040,
                                                .mission_id = "mission-1",
                                                .indicator_id = "ind-1",
                                                .label = "Patients sans médecin traitant",
                                                .weight_basis_points = 10000,
                                                .target_milli = 100'000,
                                                .achieved_milli = 50'000})
                  .status(),
              IsOk());
  auto instalments = app_->ListInstalments(coordinator, 2040);
  ASSERT_THAT(instalments.status(), IsOk());
  Cents expected = 0;
  for (const AciInstalment& i : *instalments) expected += i.expected_cents;
  EXPECT_EQ(expected, 1'200'000);  // fixed + half the variable part
  ASSERT_THAT(app_->UpdateBudget(coordinator,
                                 {.action_id = "action-9",
                                  .mission_id = "mission-1",
                                  .year = 2040,
                                  .allocated_cents = 300'000},
                                 BudgetMask{.mission_id = true, .allocated_cents = true}, "")
                  .status(),
              IsOk());
  auto x = app_->RecordExpense(treasurer_,
                               {.action_id = "action-9",
                                .category = ExpenseCategory::kServices,
                                .amount_cents = 12'345,
                                .expense_date = absl::CivilDay(2040, 5, 2),
                                .supplier = "Imprimerie Fictive"},
                               "x-1");
  ASSERT_THAT(x.status(), IsOk());
  for (int i = 0; i < 4; ++i) {
    ASSERT_THAT(app_->RecordExpense(treasurer_,
                                    {.action_id = "action-9",
                                     .category = ExpenseCategory::kTravel,
                                     .amount_cents = 1000,
                                     .expense_date = absl::CivilDay(2040, 6, 1 + i),
                                     .supplier = "SNCF Fictive"},
                                    absl::StrCat("x-more-", i))
                    .status(),
                IsOk());
  }
  // Expenses page by (date, id): 5 in pages of 2.
  std::vector<std::string> pages_seen;
  Page page{.page_size = 2};
  for (int guard = 0; guard < 5; ++guard) {
    std::string next;
    auto part = app_->ListExpenses(coordinator, 2040, "", page, &next);
    ASSERT_THAT(part.status(), IsOk());
    EXPECT_LE(part->size(), 2u);
    for (const Expense& e : *part) pages_seen.push_back(e.id);
    if (next.empty()) break;
    page.page_token = next;
  }
  EXPECT_THAT(pages_seen, SizeIs(5));
  auto report = app_->GetAciReport(coordinator, 2040);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_EQ(report->total.expected_cents, 1'200'000);
  EXPECT_EQ(report->total.spent_cents, 12'345 + 4000);
  EXPECT_EQ(Balance(AccountKind::kAciReceivable, "mission-1"), 1'200'000);
  EXPECT_EQ(Balance(AccountKind::kOperatingExpense, "action-9"), 12'345 + 4000);
  EXPECT_THAT(VerifyJournal(Journal()), IsOk());
}

}  // namespace
}  // namespace cpts::finance
