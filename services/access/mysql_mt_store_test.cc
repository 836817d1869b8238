// Integration tests of MysqlMtStore against a real MariaDB (SharedMariaDb()): one schema
// migrated with {PlatformMigrations(), MtMigrations()} per test process, and a fresh tenant per
// test so that tests do not see each other's rows.
#include "services/access/mysql_mt_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/access/mt_migrations.h"
#include "services/access/mt_priority.h"
#include "services/access/mt_workflow.h"
#include "services/access/patient_audit.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/db_test_util.h"
#include "services/platform/db/migrations.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::platform::db::ConnectionPool;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Shared {
  absl::Status status;
  std::unique_ptr<ConnectionPool> pool;
  std::unique_ptr<platform::crypto::FieldCipher> cipher;
};

Shared& Env() {
  static Shared* const shared = [] {
    auto* s = new Shared;
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "access_mt_store");
    if (!schema.ok()) {
      s->status = schema.status();
      return s;
    }
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    s->status = platform::db::RunMigrations(*migrator,
                                            {platform::db::PlatformMigrations(), MtMigrations()});
    if (!s->status.ok()) return s;
    s->pool = ConnectionPool::Create(schema->app);
    absl::StatusOr<std::string> keys = platform::crypto::GenerateKeyFileContents();
    if (!keys.ok()) {
      s->status = keys.status();
      return s;
    }
    absl::StatusOr<platform::crypto::FieldCipher> cipher =
        platform::crypto::FieldCipher::FromKeyFileContents(*keys);
    if (!cipher.ok()) {
      s->status = cipher.status();
      return s;
    }
    s->cipher = std::make_unique<platform::crypto::FieldCipher>(std::move(*cipher));
    return s;
  }();
  return *shared;
}

std::string NextId(absl::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", ++counter);
}

absl::Time T(int64_t seconds) { return absl::FromUnixSeconds(1'780'000'000 + seconds); }

class MtStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(Env().status, IsOk());
    store_ = std::make_unique<MysqlMtStore>(*Env().pool, *Env().cipher);
    tenant_ = NextId("tenant");
    caller_.tenant_id = tenant_;
    caller_.subject = "user:nurse";
    caller_.roles = {"triage_nurse"};
  }

  PatientAuditContext Audit(absl::string_view action) const {
    return PatientAuditContext{.caller = &caller_, .action = action, .reason = "test", .now = T(0)};
  }

  // A request through the SUBMIT step.
  MtRequest Submitted(absl::string_view family, absl::Time at, bool ald = false,
                      absl::string_view tenant = "") {
    MtRequest r;
    r.tenant_id = tenant.empty() ? tenant_ : std::string(tenant);
    r.id = NextId("mt");
    r.patient.given_name = "Jeanne";
    r.patient.family_name = std::string(family);
    r.patient.birth_date = absl::CivilDay(1980, 5, 17);
    r.patient.sex = Sex::kFemale;
    r.commune_insee = "77288";
    r.contact.phone = "+33612345678";
    r.ald = ald;
    r.fragility.notes = "diabète de type 2";
    r.origin = MtOrigin::kProfessional;
    r.consent.granted = true;
    MtStep step;
    step.action = MtAction::kSubmit;
    step.actor.subject = "user:nurse";
    step.now = at;
    step.today = absl::ToCivilDay(at, absl::UTCTimeZone());
    EXPECT_THAT(ApplyMtStep(step, r).status(), IsOk());
    return r;
  }

  MtRequest Create(const MtRequest& r, absl::string_view dup = "") {
    MtSubmitKeys keys;
    keys.duplicate_key = std::string(dup);
    absl::StatusOr<MtCreateResult> created =
        store_->CreateMtRequest(r, keys, Audit(audit_actions::kMtRequestCreate));
    EXPECT_THAT(created.status(), IsOk());
    return created.ok() ? created->request : MtRequest{};
  }

  // Applies one step through the store.
  absl::StatusOr<MtUpdateResult> Apply(absl::string_view id, MtAction action,
                                       absl::string_view gp = "", absl::Time at = T(100),
                                       std::optional<int64_t> version = std::nullopt) {
    MtStep step;
    step.action = action;
    step.actor.subject = "user:coord";
    step.now = at;
    step.today = absl::ToCivilDay(at, absl::UTCTimeZone());
    step.gp_member_id = std::string(gp);
    step.synthesis = "synthèse";
    step.reason = "because";
    return store_->UpdateMtRequest(
        tenant_, id, version, [&](MtRequest& r) { return ApplyMtStep(step, r); },
        Audit(audit_actions::kMtRequestUpdate));
  }

  GpCapacity Declare(absl::string_view gp, int count) {
    GpCapacity c;
    c.gp_member_id = std::string(gp);
    c.declared_count = count;
    c.valid_until = absl::CivilDay(2027, 12, 31);
    c.communes = {"77288", "77350"};
    c.priority_classes = {PriorityClass::kP1Ald, PriorityClass::kP4Other};
    c.declared_by = "user:gp";
    absl::StatusOr<GpCapacity> put = store_->PutGpCapacity(tenant_, c, std::nullopt, T(1));
    EXPECT_THAT(put.status(), IsOk());
    return put.ok() ? *put : GpCapacity{};
  }

  int64_t AuditCount(absl::string_view id, absl::string_view action,
                     absl::string_view outcome = "ok") {
    auto lease = Env().pool->Acquire();
    EXPECT_THAT(lease.status(), IsOk());
    if (!lease.ok()) return -1;
    auto rows = platform::db::ListAudit(**lease, tenant_, "mt_request", std::string(id), 1000);
    EXPECT_THAT(rows.status(), IsOk());
    if (!rows.ok()) return -1;
    return std::count_if(rows->begin(), rows->end(), [&](const platform::db::AuditRecord& a) {
      return a.action == action && a.outcome == outcome;
    });
  }

  std::string Raw(absl::string_view column, absl::string_view id) {
    // Test-only: the values are ids this test generated (no user input).
    return platform::db::test_util::QueryString(*Env().pool,
                                                absl::StrCat("SELECT COALESCE(", column,
                                                             ", '<null>') FROM mt_requests "
                                                             "WHERE tenant_id = '",
                                                             tenant_, "' AND id = '", id, "'"));
  }

  std::unique_ptr<MysqlMtStore> store_;
  std::string tenant_;
  platform::auth::Principal caller_;
};

TEST_F(MtStoreTest, RoundTripEncryptsPatientFieldsAndAudits) {
  const MtRequest r = Submitted("Dupont", T(0), /*ald=*/true);
  const MtRequest created = Create(r);
  EXPECT_EQ(created.version, 1);

  const std::string given = Raw("given_name_ct", r.id);
  EXPECT_TRUE(absl::StartsWith(given, "cpts1:")) << given;
  EXPECT_FALSE(absl::StrContains(Raw("family_name_ct", r.id), "Dupont"));
  EXPECT_FALSE(absl::StrContains(Raw("phone_ct", r.id), "612345678"));
  EXPECT_FALSE(absl::StrContains(Raw("notes_ct", r.id), "diab"));
  EXPECT_FALSE(absl::StrContains(Raw("birth_date_ct", r.id), "1980"));

  const PatientAuditContext read = Audit(audit_actions::kMtRequestRead);
  absl::StatusOr<MtRequest> full = store_->GetMtRequest(tenant_, r.id, &read);
  ASSERT_THAT(full.status(), IsOk());
  EXPECT_EQ(full->patient, r.patient);
  EXPECT_EQ(full->contact, r.contact);
  EXPECT_EQ(full->fragility.notes, r.fragility.notes);
  EXPECT_EQ(full->state, MtState::kReceived);
  EXPECT_EQ(full->priority_class, PriorityClass::kP1Ald);
  EXPECT_EQ(full->create_time, r.create_time);
  EXPECT_EQ(full->history, r.history);
  EXPECT_EQ(AuditCount(r.id, audit_actions::kMtRequestCreate), 1);
  EXPECT_EQ(AuditCount(r.id, audit_actions::kMtRequestRead), 1);

  absl::StatusOr<MtRequest> basic = store_->GetMtRequest(tenant_, r.id, nullptr);
  ASSERT_THAT(basic.status(), IsOk());
  EXPECT_THAT(basic->patient.family_name, IsEmpty());
  EXPECT_THAT(basic->contact.phone, IsEmpty());
  EXPECT_EQ(basic->commune_insee, "77288");
  EXPECT_EQ(AuditCount(r.id, audit_actions::kMtRequestRead), 1);  // basic reads not audited
}

TEST_F(MtStoreTest, TenantIsolation) {
  const MtRequest r = Create(Submitted("Martin", T(0)));
  EXPECT_THAT(store_->GetMtRequest("another-tenant", r.id, nullptr).status(),
              StatusIs(absl::StatusCode::kNotFound));
  auto other = store_->ListMtQueue("another-tenant", {}, std::nullopt, 10, nullptr);
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_THAT(*other, IsEmpty());
  auto mine = store_->ListMtQueue(tenant_, {}, std::nullopt, 10, nullptr);
  ASSERT_THAT(mine.status(), IsOk());
  EXPECT_EQ(mine->size(), 1U);
}

TEST_F(MtStoreTest, IdempotentCreateByRequestId) {
  const MtRequest r = Submitted("Durand", T(0));
  MtSubmitKeys keys{.duplicate_key = "", .request_id = "req-1", .fingerprint = "fp-1"};
  auto first = store_->CreateMtRequest(r, keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_FALSE(first->replayed);

  MtRequest retry = Submitted("Durand", T(5));  // a new id, as the service would assign
  auto second = store_->CreateMtRequest(retry, keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(second->request.id, r.id);
  EXPECT_EQ(second->request.patient.family_name, "Durand");

  keys.fingerprint = "fp-2";
  EXPECT_THAT(
      store_
          ->CreateMtRequest(Submitted("Autre", T(6)), keys, Audit(audit_actions::kMtRequestCreate))
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument));
  auto queue = store_->ListMtQueue(tenant_, {}, std::nullopt, 10, nullptr);
  ASSERT_THAT(queue.status(), IsOk());
  EXPECT_EQ(queue->size(), 1U);
}

TEST_F(MtStoreTest, RequestIdIsScopedByCaller) {
  const MtSubmitKeys keys{.duplicate_key = "", .request_id = "req-shared", .fingerprint = "fp-1"};
  const MtRequest mine = Submitted("Durand", T(0));
  auto first = store_->CreateMtRequest(mine, keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_FALSE(first->replayed);

  // Another caller, same key, even with another submission: a new request, not a collision.
  MtRequest theirs = Submitted("Martin", T(1));
  theirs.submitted_by = "user:partner";
  MtSubmitKeys their_keys = keys;
  their_keys.fingerprint = "fp-other";
  auto second = store_->CreateMtRequest(theirs, their_keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_FALSE(second->replayed);
  EXPECT_EQ(second->request.id, theirs.id);

  // Each caller's retry replays its own request.
  MtRequest my_retry = Submitted("Durand", T(5));
  auto replay = store_->CreateMtRequest(my_retry, keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(replay.status(), IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->request.id, mine.id);
  MtRequest their_retry = Submitted("Martin", T(6));
  their_retry.submitted_by = "user:partner";
  replay = store_->CreateMtRequest(their_retry, their_keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(replay.status(), IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->request.id, theirs.id);

  // Subjects are compared byte for byte: "USER:PARTNER" is yet another caller.
  MtRequest upper = Submitted("Bernard", T(7));
  upper.submitted_by = "USER:PARTNER";
  auto third = store_->CreateMtRequest(upper, their_keys, Audit(audit_actions::kMtRequestCreate));
  ASSERT_THAT(third.status(), IsOk());
  EXPECT_FALSE(third->replayed);

  auto queue = store_->ListMtQueue(tenant_, {}, std::nullopt, 10, nullptr);
  ASSERT_THAT(queue.status(), IsOk());
  EXPECT_EQ(queue->size(), 3U);
}

TEST_F(MtStoreTest, FlagsPossibleDuplicatesAmongOpenRequests) {
  const MtRequest a = Create(Submitted("Petit", T(0)), "dup-key-A");
  const MtRequest other = Create(Submitted("Grand", T(1)), "dup-key-B");
  const MtRequest b = Create(Submitted("Petit", T(2)), "dup-key-A");
  EXPECT_THAT(b.possible_duplicate_ids, ElementsAre(a.id));
  EXPECT_THAT(other.possible_duplicate_ids, IsEmpty());
  auto reread = store_->GetMtRequest(tenant_, b.id, nullptr);
  ASSERT_THAT(reread.status(), IsOk());
  EXPECT_THAT(reread->possible_duplicate_ids, ElementsAre(a.id));

  // A closed request is no longer a duplicate candidate.
  ASSERT_THAT(Apply(a.id, MtAction::kWithdraw).status(), IsOk());
  ASSERT_THAT(Apply(b.id, MtAction::kWithdraw).status(), IsOk());
  const MtRequest c = Create(Submitted("Petit", T(3)), "dup-key-A");
  EXPECT_THAT(c.possible_duplicate_ids, IsEmpty());
}

TEST_F(MtStoreTest, QueuePagesInPriorityOrderWithoutGapsOrRepeats) {
  std::vector<MtRequest> all;
  for (int i = 0; i < 13; ++i) {
    // Several share a create_time so that the id breaks the tie.
    MtRequest r = Submitted(absl::StrCat("P", i), T(i / 3), /*ald=*/i % 4 == 0);
    all.push_back(Create(r));
  }
  // One leaves the open states.
  ASSERT_THAT(Apply(all[5].id, MtAction::kWithdraw).status(), IsOk());
  std::vector<MtRequest> expected;
  for (const MtRequest& r : all) {
    if (r.id != all[5].id) expected.push_back(r);
  }
  std::sort(expected.begin(), expected.end(), MtQueueBefore);

  std::vector<std::string> seen;
  std::optional<MtQueueKey> after;
  for (int page = 0; page < 10; ++page) {
    auto rows = store_->ListMtQueue(tenant_, {}, after, 5, nullptr);
    ASSERT_THAT(rows.status(), IsOk());
    for (const MtRequest& r : *rows) seen.push_back(r.id);
    if (rows->size() < 5) break;
    after = MtQueueKeyOf(rows->back());
  }
  std::vector<std::string> expected_ids;
  expected_ids.reserve(expected.size());
  for (const MtRequest& r : expected) expected_ids.push_back(r.id);
  EXPECT_EQ(seen, expected_ids);
  EXPECT_EQ(expected.front().priority_class, PriorityClass::kP1Ald);

  // Filters: ALD class only; a final state only.
  MtQueueFilter ald;
  ald.class_mask = 1U << PriorityRank(PriorityClass::kP1Ald);
  auto ald_rows = store_->ListMtQueue(tenant_, ald, std::nullopt, 50, nullptr);
  ASSERT_THAT(ald_rows.status(), IsOk());
  EXPECT_EQ(ald_rows->size(), 4U);
  MtQueueFilter withdrawn;
  withdrawn.state_mask = 1U << static_cast<int>(MtState::kWithdrawn);
  auto w = store_->ListMtQueue(tenant_, withdrawn, std::nullopt, 50, nullptr);
  ASSERT_THAT(w.status(), IsOk());
  ASSERT_EQ(w->size(), 1U);
  EXPECT_EQ((*w)[0].id, all[5].id);
}

TEST_F(MtStoreTest, IllegalTransitionIsFailedPreconditionAndChangesNothing) {
  const MtRequest r = Create(Submitted("Leroy", T(0)));
  EXPECT_THAT(Apply(r.id, MtAction::kMarkPlaced).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto after = store_->GetMtRequest(tenant_, r.id, nullptr);
  ASSERT_THAT(after.status(), IsOk());
  EXPECT_EQ(after->state, MtState::kReceived);
  EXPECT_EQ(after->version, 1);
  EXPECT_EQ(after->history.size(), 1U);
  EXPECT_EQ(AuditCount(r.id, audit_actions::kMtRequestUpdate), 0);
}

TEST_F(MtStoreTest, StaleVersionIsAborted) {
  const MtRequest r = Create(Submitted("Roux", T(0)));
  EXPECT_THAT(Apply(r.id, MtAction::kTriage, "", T(10), 7).status(),
              StatusIs(absl::StatusCode::kAborted));
  auto ok = Apply(r.id, MtAction::kTriage, "", T(10), 1);
  ASSERT_THAT(ok.status(), IsOk());
  EXPECT_EQ(ok->request.version, 2);
  ASSERT_TRUE(ok->request.triage.has_value());
  EXPECT_EQ(ok->request.triage->synthesis, "synthèse");
  EXPECT_EQ(AuditCount(r.id, audit_actions::kMtRequestUpdate), 1);
  EXPECT_TRUE(absl::StartsWith(Raw("triage_synthesis_ct", r.id), "cpts1:"));
}

TEST_F(MtStoreTest, WorkflowTakesAndGivesBackCapacity) {
  Declare("gp-1", 2);
  const MtRequest r = Create(Submitted("Blanc", T(0)));
  ASSERT_THAT(Apply(r.id, MtAction::kTriage).status(), IsOk());
  ASSERT_THAT(Apply(r.id, MtAction::kAssign, "gp-1").status(), IsOk());
  auto accepted = Apply(r.id, MtAction::kAccept, "gp-1");
  ASSERT_THAT(accepted.status(), IsOk());
  ASSERT_TRUE(accepted->capacity.has_value());
  EXPECT_EQ(accepted->capacity->remaining_count, 1);
  auto declined = Apply(r.id, MtAction::kDecline, "gp-1");
  ASSERT_THAT(declined.status(), IsOk());
  ASSERT_TRUE(declined->capacity.has_value());
  EXPECT_EQ(declined->capacity->remaining_count, 2);
  EXPECT_THAT(declined->request.declined_gp_member_ids, ElementsAre("gp-1"));
  auto reread = store_->GetMtRequest(tenant_, r.id, nullptr);
  ASSERT_THAT(reread.status(), IsOk());
  EXPECT_THAT(reread->declined_gp_member_ids, ElementsAre("gp-1"));
  EXPECT_EQ(reread->history.size(), 5U);
  EXPECT_THAT(Apply(r.id, MtAction::kAssign, "gp-1").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(MtStoreTest, AcceptWithoutPlaceLeftIsRefused) {
  Declare("gp-0", 0);
  const MtRequest r = Create(Submitted("Noir", T(0)));
  ASSERT_THAT(Apply(r.id, MtAction::kTriage).status(), IsOk());
  ASSERT_THAT(Apply(r.id, MtAction::kAssign, "gp-0").status(), IsOk());
  EXPECT_THAT(Apply(r.id, MtAction::kAccept, "gp-0").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no MT capacity left"));
  auto reread = store_->GetMtRequest(tenant_, r.id, nullptr);
  ASSERT_THAT(reread.status(), IsOk());
  EXPECT_EQ(reread->state, MtState::kProposed);
}

TEST_F(MtStoreTest, ConcurrentAcceptsTakeExactlyOnePlace) {
  Declare("gp-c", 5);
  const MtRequest r = Create(Submitted("Vert", T(0)));
  ASSERT_THAT(Apply(r.id, MtAction::kTriage).status(), IsOk());
  ASSERT_THAT(Apply(r.id, MtAction::kAssign, "gp-c").status(), IsOk());

  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      absl::Status s = Apply(r.id, MtAction::kAccept, "gp-c").status();
      if (s.ok()) {
        ++ok;
      } else if (absl::IsFailedPrecondition(s)) {
        ++refused;
      } else {
        ADD_FAILURE() << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), kThreads - 1);
  auto cap = store_->GetGpCapacity(tenant_, "gp-c");
  ASSERT_THAT(cap.status(), IsOk());
  EXPECT_EQ(cap->remaining_count, 4);
}

TEST_F(MtStoreTest, ConcurrentAcceptsOfDifferentRequestsNeverOverbook) {
  Declare("gp-one", 1);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    const MtRequest r = Create(Submitted(absl::StrCat("Race", i), T(i)));
    ASSERT_THAT(Apply(r.id, MtAction::kTriage).status(), IsOk());
    ASSERT_THAT(Apply(r.id, MtAction::kAssign, "gp-one").status(), IsOk());
    ids.push_back(r.id);
  }
  std::latch start(static_cast<std::ptrdiff_t>(ids.size()));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(ids.size());
  for (const std::string& id : ids) {
    threads.emplace_back([&, id] {
      start.arrive_and_wait();
      absl::Status s = Apply(id, MtAction::kAccept, "gp-one").status();
      if (s.ok())
        ++ok;
      else
        EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  auto cap = store_->GetGpCapacity(tenant_, "gp-one");
  ASSERT_THAT(cap.status(), IsOk());
  EXPECT_EQ(cap->remaining_count, 0);
}

TEST_F(MtStoreTest, PurgeErasesPatientFieldsOfOldFinalRequestsOnly) {
  Declare("gp-p", 3);
  const MtRequest old_one = Create(Submitted("Ancien", T(0)));
  ASSERT_THAT(Apply(old_one.id, MtAction::kTriage, "", T(10)).status(), IsOk());
  ASSERT_THAT(Apply(old_one.id, MtAction::kAssign, "gp-p", T(20)).status(), IsOk());
  ASSERT_THAT(Apply(old_one.id, MtAction::kAccept, "gp-p", T(30)).status(), IsOk());
  ASSERT_THAT(Apply(old_one.id, MtAction::kMarkPlaced, "", T(40)).status(), IsOk());
  const MtRequest open_one = Create(Submitted("Ouvert", T(0)));
  const MtRequest recent = Create(Submitted("Recent", T(0)));
  ASSERT_THAT(Apply(recent.id, MtAction::kWithdraw, "", T(5000)).status(), IsOk());

  // Other tenants' rows may be purged by the same call: count only ours.
  auto purged = store_->PurgeClosedMtRequests(T(1000), T(6000), 1000);
  ASSERT_THAT(purged.status(), IsOk());
  EXPECT_GE(*purged, 1);
  EXPECT_EQ(Raw("given_name_ct", old_one.id), "<null>");
  EXPECT_EQ(Raw("phone_ct", old_one.id), "<null>");
  EXPECT_EQ(Raw("duplicate_key", old_one.id), "<null>");
  EXPECT_TRUE(absl::StartsWith(Raw("given_name_ct", open_one.id), "cpts1:"));
  EXPECT_TRUE(absl::StartsWith(Raw("given_name_ct", recent.id), "cpts1:"));
  EXPECT_EQ(AuditCount(old_one.id, audit_actions::kMtRequestPurge), 1);

  // The facts stay for the indicators; a purged request reads back without patient data.
  const PatientAuditContext read = Audit(audit_actions::kMtRequestRead);
  auto reread = store_->GetMtRequest(tenant_, old_one.id, &read);
  ASSERT_THAT(reread.status(), IsOk());
  EXPECT_EQ(reread->state, MtState::kPlaced);
  EXPECT_THAT(reread->patient.family_name, IsEmpty());
  auto facts = store_->ListMtFacts(tenant_, T(0));
  ASSERT_THAT(facts.status(), IsOk());
  EXPECT_EQ(facts->size(), 3U);

  auto again = store_->PurgeClosedMtRequests(T(1000), T(6000), 1000);
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(AuditCount(old_one.id, audit_actions::kMtRequestPurge), 1);
}

TEST_F(MtStoreTest, CapacitiesFilterAndPage) {
  Declare("gp-a", 3);
  Declare("gp-b", 0);
  GpCapacity c = Declare("gp-c", 2);
  EXPECT_EQ(c.remaining_count, 2);
  EXPECT_EQ(c.version, 1);
  EXPECT_THAT(c.communes, ElementsAre("77288", "77350"));
  EXPECT_THAT(c.priority_classes, ElementsAre(PriorityClass::kP1Ald, PriorityClass::kP4Other));

  // Replacing with a stale version is refused; with the right one accepted.
  GpCapacity replaced = c;
  replaced.communes = {"77111"};
  replaced.priority_classes = {PriorityClass::kP2Age};
  EXPECT_THAT(store_->PutGpCapacity(tenant_, replaced, 9, T(2)).status(),
              StatusIs(absl::StatusCode::kAborted));
  auto put = store_->PutGpCapacity(tenant_, replaced, 1, T(2));
  ASSERT_THAT(put.status(), IsOk());
  EXPECT_EQ(put->version, 2);

  auto page1 = store_->ListGpCapacities(tenant_, {}, "", 2);
  ASSERT_THAT(page1.status(), IsOk());
  ASSERT_EQ(page1->size(), 2U);
  EXPECT_EQ((*page1)[0].gp_member_id, "gp-a");
  auto page2 = store_->ListGpCapacities(tenant_, {}, (*page1)[1].gp_member_id, 2);
  ASSERT_THAT(page2.status(), IsOk());
  ASSERT_EQ(page2->size(), 1U);
  EXPECT_EQ((*page2)[0].gp_member_id, "gp-c");

  GpCapacityFilter available;
  available.available_on = absl::CivilDay(2027, 1, 1);
  available.commune_insee = "77288";
  auto avail = store_->ListGpCapacities(tenant_, available, "", 10);
  ASSERT_THAT(avail.status(), IsOk());
  ASSERT_EQ(avail->size(), 1U);  // gp-b has no place left, gp-c moved to 77111
  EXPECT_EQ((*avail)[0].gp_member_id, "gp-a");

  GpCapacityFilter age;
  age.priority_class = PriorityClass::kP2Age;
  auto by_class = store_->ListGpCapacities(tenant_, age, "", 10);
  ASSERT_THAT(by_class.status(), IsOk());
  ASSERT_EQ(by_class->size(), 1U);
  EXPECT_EQ((*by_class)[0].gp_member_id, "gp-c");
  EXPECT_THAT(store_->GetGpCapacity(tenant_, "nobody").status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MtStoreTest, TerritoryLinksRoundTripReplaceAndTenantIsolation) {
  // Never set: no links, no update time.
  auto empty = store_->GetTerritory(tenant_, {});
  ASSERT_THAT(empty.status(), IsOk());
  EXPECT_THAT(empty->links, IsEmpty());
  EXPECT_EQ(empty->update_time, absl::InfinitePast());

  TerritoryRecord first;
  first.links = {CommuneLink{.a = "33063", .b = "33281", .distance = 12.5},
                 CommuneLink{.a = "2A004", .b = "33063", .distance = 1}};
  first.updated_by = "user:coord";
  first.update_time = T(10);
  auto put = store_->PutTerritory(tenant_, first, {});
  ASSERT_THAT(put.status(), IsOk());
  auto read = store_->GetTerritory(tenant_, {});
  ASSERT_THAT(read.status(), IsOk());
  // Sorted by (a, b); distances kept exactly.
  ASSERT_EQ(read->links.size(), 2U);
  EXPECT_EQ(read->links[0].a, "2A004");
  EXPECT_EQ(read->links[0].b, "33063");
  EXPECT_EQ(read->links[0].distance, 1.0);
  EXPECT_EQ(read->links[1].a, "33063");
  EXPECT_EQ(read->links[1].b, "33281");
  EXPECT_EQ(read->links[1].distance, 12.5);
  EXPECT_EQ(read->updated_by, "user:coord");
  EXPECT_EQ(read->update_time, T(10));
  EXPECT_EQ(put->links.size(), 2U);

  // Another tenant sees nothing of it, and its own links do not touch this tenant's.
  const std::string other = NextId("tenant");
  auto theirs = store_->GetTerritory(other, {});
  ASSERT_THAT(theirs.status(), IsOk());
  EXPECT_THAT(theirs->links, IsEmpty());
  TerritoryRecord other_links;
  other_links.links = {CommuneLink{.a = "75056", .b = "92012", .distance = 3}};
  other_links.updated_by = "user:other";
  other_links.update_time = T(11);
  ASSERT_THAT(store_->PutTerritory(other, other_links, {}).status(), IsOk());

  // Replace: the previous set is gone, not merged.
  TerritoryRecord second;
  second.links = {CommuneLink{.a = "33000", .b = "33281", .distance = 2}};
  second.updated_by = "user:coord2";
  second.update_time = T(20);
  ASSERT_THAT(store_->PutTerritory(tenant_, second, {}).status(), IsOk());
  read = store_->GetTerritory(tenant_, {});
  ASSERT_THAT(read.status(), IsOk());
  ASSERT_EQ(read->links.size(), 1U);
  EXPECT_EQ(read->links[0].a, "33000");
  EXPECT_EQ(read->links[0].b, "33281");
  EXPECT_EQ(read->links[0].distance, 2.0);
  EXPECT_EQ(read->updated_by, "user:coord2");
  EXPECT_EQ(read->update_time, T(20));

  theirs = store_->GetTerritory(other, {});
  ASSERT_THAT(theirs.status(), IsOk());
  ASSERT_EQ(theirs->links.size(), 1U);
  EXPECT_EQ(theirs->links[0].a, "75056");
  EXPECT_EQ(theirs->updated_by, "user:other");

  // An empty set clears the links.
  TerritoryRecord cleared;
  cleared.updated_by = "user:coord";
  cleared.update_time = T(30);
  ASSERT_THAT(store_->PutTerritory(tenant_, cleared, {}).status(), IsOk());
  read = store_->GetTerritory(tenant_, {});
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_THAT(read->links, IsEmpty());
  EXPECT_EQ(read->update_time, T(30));
}

TEST_F(MtStoreTest, TerritoryCommunesRoundTripPartsAndTenantIsolation) {
  const TerritoryCommune moissy{
      .insee_code = "77296", .name = "Moissy-Cramayel", .postal_code = "77550"};
  const TerritoryCommune ajaccio{.insee_code = "2A004", .name = "Ajaccio", .postal_code = "20000"};
  const TerritoryCommune lieusaint{
      .insee_code = "77251", .name = "Lieusaint", .postal_code = "77127"};
  TerritoryRecord first;
  first.links = {CommuneLink{.a = "77251", .b = "77296", .distance = 1}};
  first.communes = {ajaccio, lieusaint, moissy};  // sorted by the desk
  first.updated_by = "user:coord";
  first.update_time = T(10);
  auto put = store_->PutTerritory(tenant_, first, {});
  ASSERT_THAT(put.status(), IsOk());
  EXPECT_THAT(put->communes, ElementsAre(ajaccio, lieusaint, moissy));
  EXPECT_EQ(put->links.size(), 1U);

  // Only the parts asked for are read.
  auto links_only = store_->GetTerritory(tenant_, {.links = true, .communes = false});
  ASSERT_THAT(links_only.status(), IsOk());
  EXPECT_EQ(links_only->links.size(), 1U);
  EXPECT_THAT(links_only->communes, IsEmpty());

  // The FHIR lookup: the codes asked for that the territory has, sorted; "unknown" ones out.
  auto found = store_->FindCommunes(tenant_, {"77296", "33063", "2A004"});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_THAT(*found, ElementsAre(ajaccio, moissy));
  auto none = store_->FindCommunes(tenant_, {});
  ASSERT_THAT(none.status(), IsOk());
  EXPECT_THAT(*none, IsEmpty());

  // Another tenant finds none of them, and its communes do not touch this tenant's.
  const std::string other = NextId("tenant");
  auto theirs = store_->FindCommunes(other, {"77296"});
  ASSERT_THAT(theirs.status(), IsOk());
  EXPECT_THAT(*theirs, IsEmpty());
  TerritoryRecord other_territory;
  other_territory.communes = {
      TerritoryCommune{.insee_code = "77296", .name = "Autre nom", .postal_code = "77551"}};
  other_territory.updated_by = "user:other";
  other_territory.update_time = T(11);
  ASSERT_THAT(store_->PutTerritory(other, other_territory, {}).status(), IsOk());
  found = store_->FindCommunes(tenant_, {"77296"});
  ASSERT_THAT(found.status(), IsOk());
  EXPECT_THAT(*found, ElementsAre(moissy));

  // Replacing the communes only keeps the links, and the other way round.
  TerritoryRecord communes_only;
  communes_only.communes = {lieusaint};
  communes_only.updated_by = "user:coord2";
  communes_only.update_time = T(20);
  auto replaced = store_->PutTerritory(tenant_, communes_only, {.links = false, .communes = true});
  ASSERT_THAT(replaced.status(), IsOk());
  EXPECT_THAT(replaced->communes, ElementsAre(lieusaint));
  EXPECT_EQ(replaced->links.size(), 1U);
  EXPECT_EQ(replaced->updated_by, "user:coord2");
  EXPECT_EQ(replaced->update_time, T(20));
  TerritoryRecord no_links;
  no_links.updated_by = "user:coord";
  no_links.update_time = T(30);
  replaced = store_->PutTerritory(tenant_, no_links, {.links = true, .communes = false});
  ASSERT_THAT(replaced.status(), IsOk());
  EXPECT_THAT(replaced->links, IsEmpty());
  EXPECT_THAT(replaced->communes, ElementsAre(lieusaint));

  // More communes than one INSERT batch, written and read back whole.
  TerritoryRecord many;
  many.communes.reserve(600);
  for (int i = 1; i <= 600; ++i) {
    many.communes.push_back(
        TerritoryCommune{.insee_code = absl::StrCat("01", absl::Dec(i, absl::kZeroPad3)),
                         .name = absl::StrCat("Commune ", i),
                         .postal_code = "01000"});
  }
  many.updated_by = "user:coord";
  many.update_time = T(40);
  ASSERT_THAT(store_->PutTerritory(tenant_, many, {.links = false, .communes = true}).status(),
              IsOk());
  auto all = store_->GetTerritory(tenant_, {});
  ASSERT_THAT(all.status(), IsOk());
  EXPECT_EQ(all->communes, many.communes);

  // The other tenant's communes are still its own.
  theirs = store_->FindCommunes(other, {"77296"});
  ASSERT_THAT(theirs.status(), IsOk());
  ASSERT_EQ(theirs->size(), 1U);
  EXPECT_EQ((*theirs)[0].name, "Autre nom");
}

}  // namespace
}  // namespace cpts::access
