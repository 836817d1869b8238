#include "services/finance/ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

const Account kBank{.kind = AccountKind::kBank};
Account Payable(const std::string& who) { return {.kind = AccountKind::kPayable, .key = who}; }
Account IndemnityExpense(const std::string& action) {
  return {.kind = AccountKind::kIndemnityExpense, .key = action};
}

Entitlement Due(const std::string& id, const std::string& payee, const std::string& action,
                Cents cents) {
  Entitlement e;
  e.id = id;
  e.tenant_id = "t1";
  e.meeting_id = "meet-" + id;
  e.member_id = "mem-" + id;
  e.action_id = action;
  e.meeting_date = absl::CivilDay(2025, 3, 12);
  e.amount_cents = cents;
  e.payee = PayeeRef{.type = PayeeType::kSelf, .member_id = payee};
  return e;
}

Cents SumOf(const LedgerTransaction& t) {
  Cents s = 0;
  for (const auto& e : t.entries) s += e.amount_cents;
  return s;
}

// Appends a built transaction with an id, as the store would.
void Post(std::vector<LedgerTransaction>& journal, absl::StatusOr<LedgerTransaction> t) {
  ASSERT_THAT(t, IsOk());
  t->id = "tx" + std::to_string(journal.size() + 1);
  journal.push_back(*std::move(t));
}

TEST(LedgerTest, EntitlementDebitsActionAndCreditsPayee) {
  auto t = EntitlementTransaction(Due("e1", "p1", "act1", 8000));
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->kind, TransactionKind::kEntitlement);
  EXPECT_EQ(t->source_id, "e1");
  EXPECT_EQ(t->value_date, absl::CivilDay(2025, 3, 12));
  EXPECT_THAT(
      t->entries,
      ::testing::ElementsAre(LedgerEntry{.account = IndemnityExpense("act1"), .amount_cents = 8000},
                             LedgerEntry{.account = Payable("p1"), .amount_cents = -8000}));
}

TEST(LedgerTest, NothingDueIsNotPosted) {
  EXPECT_THAT(EntitlementTransaction(Due("e1", "p1", "act1", 0)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EntitlementTransaction(Due("e1", "", "act1", 100)),
              StatusIs(absl::StatusCode::kInvalidArgument, "payee"));
}

TEST(LedgerTest, ReversalIsTheExactOpposite) {
  std::vector<LedgerTransaction> journal;
  Post(journal, EntitlementTransaction(Due("e1", "p1", "act1", 8000)));
  auto r = ReversalOf(journal[0], absl::CivilDay(2025, 4, 1));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->kind, TransactionKind::kReversal);
  EXPECT_EQ(r->reverses_id, "tx1");
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[0].amount_cents, -8000);
  EXPECT_EQ(r->entries[1].amount_cents, 8000);
  Post(journal, r);
  EXPECT_THAT(VerifyJournal(journal), IsOk());
  for (const auto& [account, cents] : ComputeBalances(journal)) {
    EXPECT_EQ(cents, 0) << "account key " << account.key;
  }
  // A reversal is never reversed; an unsaved transaction cannot be reversed.
  EXPECT_THAT(ReversalOf(journal[1], absl::CivilDay(2025, 4, 2)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  LedgerTransaction unsaved = journal[0];
  unsaved.id.clear();
  EXPECT_THAT(ReversalOf(unsaved, absl::CivilDay(2025, 4, 2)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A year of activity: every transaction sums to zero, balances are the sums of entries, the
// whole journal sums to zero, and a paid payee owes nothing.
TEST(LedgerTest, InvariantsHoldOverAScenario) {
  std::vector<LedgerTransaction> journal;
  // ACI advance expected and received for mission m1.
  AciInstalment advance;
  advance.id = "inst1";
  advance.year = 2025;
  advance.envelope_kind = EnvelopeKind::kMission;
  advance.mission_id = "m1";
  advance.expected_cents = 9'375'000;
  advance.due_date = absl::CivilDay(2025, 6, 1);
  Post(journal, AciExpectedTransaction(advance));
  Post(journal, AciReceivedTransaction(advance, 9'375'000, absl::CivilDay(2025, 6, 20)));
  // Three entitlements; the amendment reverses e2 and replaces it by e2b.
  Post(journal, EntitlementTransaction(Due("e1", "p1", "act1", 8000)));
  Post(journal, EntitlementTransaction(Due("e2", "p2", "act1", 10000)));
  Post(journal, EntitlementTransaction(Due("e3", "employer1", "act2", 8000)));
  Post(journal, ReversalOf(journal[3], absl::CivilDay(2025, 3, 20)));
  Post(journal, EntitlementTransaction(Due("e2b", "p2", "act1", 8000)));
  // An expense.
  Expense expense;
  expense.id = "x1";
  expense.action_id = "act2";
  expense.category = ExpenseCategory::kServices;
  expense.amount_cents = 120000;
  expense.expense_date = absl::CivilDay(2025, 5, 2);
  expense.supplier = "Salle municipale";
  Post(journal, ExpenseTransaction(expense));
  // A batch pays p1 and p2; employer1's line is blocked.
  PaymentBatch batch;
  batch.id = "b1";
  batch.lines = {BatchLine{.payee_member_id = "p1", .amount_cents = 8000},
                 BatchLine{.payee_member_id = "p2", .amount_cents = 8000},
                 BatchLine{.payee_member_id = "employer1",
                           .amount_cents = 8000,
                           .blocked = true,
                           .blocked_reason = "no bank account recorded"}};
  Post(journal, PaymentTransaction(batch, absl::CivilDay(2025, 7, 1)));

  for (const LedgerTransaction& t : journal) {
    EXPECT_EQ(SumOf(t), 0) << t.id;
    EXPECT_THAT(ValidateTransaction(t), IsOk()) << t.id;
  }
  ASSERT_THAT(VerifyJournal(journal), IsOk());

  const Balances b = ComputeBalances(journal);
  Cents total = 0;
  for (const auto& [account, cents] : b) total += cents;
  EXPECT_EQ(total, 0);
  EXPECT_EQ(b.at(Payable("p1")), 0);
  EXPECT_EQ(b.at(Payable("p2")), 0);
  EXPECT_EQ(b.at(Payable("employer1")), -8000);  // still owed
  EXPECT_EQ(b.at(IndemnityExpense("act1")), 16000);
  EXPECT_EQ(b.at(IndemnityExpense("act2")), 8000);
  EXPECT_EQ(b.at(Account{.kind = AccountKind::kOperatingExpense, .key = "act2"}), 120000);
  EXPECT_EQ(b.at(kBank), 9'375'000 - 120000 - 16000);
  EXPECT_EQ(b.at(Account{.kind = AccountKind::kAciReceivable, .key = "m1"}), 0);
  EXPECT_EQ(b.at(Account{.kind = AccountKind::kAciIncome, .key = "m1"}), -9'375'000);

  // Balances derive from entries: a prefix of the journal gives the balances of that time.
  const Balances before_payment =
      ComputeBalances(std::span<const LedgerTransaction>(journal).first(journal.size() - 1));
  EXPECT_EQ(before_payment.at(Payable("p1")), -8000);
}

TEST(LedgerTest, PaymentNeedsAPayableLine) {
  PaymentBatch batch;
  batch.id = "b1";
  batch.lines = {BatchLine{.payee_member_id = "p1", .amount_cents = 8000, .blocked = true}};
  EXPECT_THAT(PaymentTransaction(batch, absl::CivilDay(2025, 7, 1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ValidateTransactionTest, RefusesUnbalancedAndMalformed) {
  LedgerTransaction t;
  t.kind = TransactionKind::kExpense;
  t.entries = {LedgerEntry{.account = kBank, .amount_cents = -100},
               LedgerEntry{.account = IndemnityExpense("a"), .amount_cents = 99}};
  EXPECT_THAT(ValidateTransaction(t), StatusIs(absl::StatusCode::kInvalidArgument, "sum to -1"));
  t.entries = {LedgerEntry{.account = kBank, .amount_cents = 100}};
  EXPECT_THAT(ValidateTransaction(t), StatusIs(absl::StatusCode::kInvalidArgument, "two"));
  t.entries = {LedgerEntry{.account = kBank, .amount_cents = 0},
               LedgerEntry{.account = IndemnityExpense("a"), .amount_cents = 0}};
  EXPECT_THAT(ValidateTransaction(t), StatusIs(absl::StatusCode::kInvalidArgument, "zero"));
  t.entries = {LedgerEntry{.account = kBank, .amount_cents = -100},
               LedgerEntry{.account = IndemnityExpense(""), .amount_cents = 100}};
  EXPECT_THAT(ValidateTransaction(t), StatusIs(absl::StatusCode::kInvalidArgument, "key"));
  t.entries = {
      LedgerEntry{.account = {.kind = AccountKind::kBank, .key = "x"}, .amount_cents = -100},
      LedgerEntry{.account = IndemnityExpense("a"), .amount_cents = 100}};
  EXPECT_THAT(ValidateTransaction(t), StatusIs(absl::StatusCode::kInvalidArgument, "no key"));
  t.kind = TransactionKind::kUnspecified;
  EXPECT_THAT(ValidateTransaction(t), StatusIs(absl::StatusCode::kInvalidArgument, "kind"));
}

TEST(VerifyJournalTest, CatchesEveryViolation) {
  std::vector<LedgerTransaction> journal;
  Post(journal, EntitlementTransaction(Due("e1", "p1", "act1", 8000)));
  Post(journal, ReversalOf(journal[0], absl::CivilDay(2025, 4, 1)));
  ASSERT_THAT(VerifyJournal(journal), IsOk());

  auto twice = journal;
  Post(twice, ReversalOf(journal[0], absl::CivilDay(2025, 4, 2)));
  EXPECT_THAT(VerifyJournal(twice),
              StatusIs(absl::StatusCode::kFailedPrecondition, "reversed twice"));

  auto wrong_amount = journal;
  wrong_amount[1].entries[0].amount_cents = -7000;
  wrong_amount[1].entries[1].amount_cents = 7000;
  EXPECT_THAT(VerifyJournal(wrong_amount),
              StatusIs(absl::StatusCode::kFailedPrecondition, "exact opposite"));

  auto dangling = journal;
  dangling[1].reverses_id = "tx99";
  EXPECT_THAT(VerifyJournal(dangling), StatusIs(absl::StatusCode::kFailedPrecondition, "tx99"));

  auto duplicate = journal;
  duplicate[1] = duplicate[0];
  EXPECT_THAT(VerifyJournal(duplicate),
              StatusIs(absl::StatusCode::kFailedPrecondition, "duplicate"));

  auto unbalanced = journal;
  unbalanced[0].entries[0].amount_cents = 8001;
  EXPECT_THAT(VerifyJournal(unbalanced), StatusIs(absl::StatusCode::kInvalidArgument, "tx1"));
}

}  // namespace
}  // namespace cpts::finance
