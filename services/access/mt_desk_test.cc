// Tests of MtDesk on the real MySQL store (a real MariaDB), with a fake membership directory
// and a fake clock: access rules, audit of reads and denied reads, the public form rate limit,
// GP checks, the whole workflow, concurrent acceptance and indicators.
#include "services/access/mt_desk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <latch>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/access/mt_migrations.h"
#include "services/access/mysql_mt_store.h"
#include "services/access/patient_audit.h"
#include "services/membership/client/member_directory.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
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
using Principal = platform::auth::Principal;

struct Shared {
  absl::Status status;
  std::unique_ptr<ConnectionPool> pool;
  std::unique_ptr<platform::crypto::FieldCipher> cipher;
};

Shared& Env() {
  static Shared* const shared = [] {
    auto* s = new Shared;
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "access_mt_desk");
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
    auto cipher = platform::crypto::FieldCipher::FromKeyFileContents(*keys);
    if (!cipher.ok()) {
      s->status = cipher.status();
      return s;
    }
    s->cipher = std::make_unique<platform::crypto::FieldCipher>(std::move(*cipher));
    return s;
  }();
  return *shared;
}

std::string NextTenant() {
  static std::atomic<int> counter{0};
  return absl::StrCat("desk-tenant-", ++counter);
}

class MtDeskTest : public ::testing::Test {
 protected:
  MtDeskTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::UTCTimeZone())) {}

  void SetUp() override {
    ASSERT_THAT(Env().status, IsOk());
    tenant_ = NextTenant();
    ids_ = std::make_unique<platform::SequentialIdGenerator>(absl::StrCat(tenant_, "-mt"));
    deps_ = std::make_unique<AccessDeps>(AccessDeps{.pool = *Env().pool,
                                                    .clock = clock_,
                                                    .ids = *ids_,
                                                    .cipher = *Env().cipher,
                                                    .directory = directory_,
                                                    .zone = absl::UTCTimeZone()});
    store_ = std::make_unique<MysqlMtStore>(*Env().pool, *Env().cipher);
    MtDeskOptions options;
    options.public_form_burst = 2;
    options.public_form_refill = absl::Minutes(10);
    desk_ = std::make_unique<MtDesk>(*store_, *store_, *store_, *deps_, options);
    directory_.Put(tenant_,
                   membership::MemberProfile{
                       .member_id = "gp-1",
                       .status = membership::MemberStatus::kActive,
                       .profession_code = membership::client::kGeneralPractitionerProfession,
                       .commune_insee_codes = {"77288"}});
    directory_.Put(tenant_,
                   membership::MemberProfile{
                       .member_id = "gp-2",
                       .status = membership::MemberStatus::kActive,
                       .profession_code = membership::client::kGeneralPractitionerProfession,
                       .commune_insee_codes = {"77350"}});
    directory_.Put(tenant_, membership::MemberProfile{.member_id = "nurse-m",
                                                      .status = membership::MemberStatus::kActive,
                                                      .profession_code = "INFIRMIER",
                                                      .commune_insee_codes = {"77288"}});
  }

  Principal Caller(std::vector<std::string> roles, std::string member_id = "",
                   std::string subject = "user:someone") const {
    Principal p;
    p.tenant_id = tenant_;
    p.subject = std::move(subject);
    p.member_id = std::move(member_id);
    p.roles = std::move(roles);
    return p;
  }
  Principal Nurse() const { return Caller({"triage_nurse"}, "", "user:nurse"); }
  Principal Coordinator() const { return Caller({"coordinator"}, "", "user:coord"); }
  Principal Gp(const std::string& id) const { return Caller({"member"}, id, "user:" + id); }

  MtRequest Form(absl::string_view family = "Dupont", bool consent = true) const {
    MtRequest r;
    r.patient.given_name = " Jeanne ";
    r.patient.family_name = std::string(family);
    r.patient.birth_date = absl::CivilDay(1950, 1, 10);
    r.commune_insee = "77288";
    r.contact.phone = "06 12 34 56 78";
    r.origin = MtOrigin::kProfessional;
    r.consent.granted = consent;
    return r;
  }

  GpCapacity Capacity(const std::string& gp, int count) const {
    GpCapacity c;
    c.gp_member_id = gp;
    c.declared_count = count;
    c.valid_until = absl::CivilDay(2026, 12, 31);
    c.communes = {"77288"};
    c.priority_classes = {PriorityClass::kP1Ald, PriorityClass::kP2Age, PriorityClass::kP3Fragile,
                          PriorityClass::kP4Other};
    return c;
  }

  std::vector<platform::db::AuditRecord> AuditRows(const std::string& id) {
    auto lease = Env().pool->Acquire();
    EXPECT_THAT(lease.status(), IsOk());
    if (!lease.ok()) return {};
    auto rows = platform::db::ListAudit(**lease, tenant_, "mt_request", id, 1000);
    EXPECT_THAT(rows.status(), IsOk());
    return rows.ok() ? *rows : std::vector<platform::db::AuditRecord>{};
  }

  int CountAudit(const std::string& id, absl::string_view action, absl::string_view outcome) {
    int n = 0;
    for (const auto& a : AuditRows(id)) {
      if (a.action == action && a.outcome == outcome) ++n;
    }
    return n;
  }

  // Submitted, triaged and proposed to `gp`.
  MtRequest Proposed(const std::string& gp, absl::string_view family = "Dupont") {
    auto r = desk_->Submit(Caller({"member"}, "nurse-m"), Form(family), "");
    EXPECT_THAT(r.status(), IsOk());
    if (!r.ok()) return {};
    MtStepInput in;
    in.mt_request_id = r->id;
    in.synthesis = "Patient âgée, isolée.";
    EXPECT_THAT(desk_->Triage(Nurse(), in).status(), IsOk());
    in.gp_member_id = gp;
    auto assigned = desk_->Assign(Coordinator(), in);
    EXPECT_THAT(assigned.status(), IsOk());
    return assigned.ok() ? *assigned : MtRequest{};
  }

  platform::FakeClock clock_;
  std::string tenant_;
  membership::client::FakeMemberDirectory directory_;
  std::unique_ptr<platform::SequentialIdGenerator> ids_;
  std::unique_ptr<AccessDeps> deps_;
  std::unique_ptr<MysqlMtStore> store_;
  std::unique_ptr<MtDesk> desk_;
};

TEST_F(MtDeskTest, SubmitNormalisesComputesPriorityAndAudits) {
  auto r = desk_->Submit(Caller({"member"}, "nurse-m"), Form(), "");
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ(r->state, MtState::kReceived);
  EXPECT_EQ(r->patient.given_name, "Jeanne");
  EXPECT_EQ(r->contact.phone, "+33612345678");
  EXPECT_EQ(r->priority_class, PriorityClass::kP2Age);  // 76 years old
  EXPECT_EQ(r->tenant_id, tenant_);
  EXPECT_EQ(CountAudit(r->id, audit_actions::kMtRequestCreate, "ok"), 1);
}

TEST_F(MtDeskTest, SubmitWithoutConsentStoresNothing) {
  EXPECT_THAT(desk_->Submit(Nurse(), Form("Dupont", /*consent=*/false), "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto page = desk_->ListQueue(Nurse(), {});
  ASSERT_THAT(page.status(), IsOk());
  EXPECT_THAT(page->requests, IsEmpty());
}

TEST_F(MtDeskTest, SubmitIsIdempotentAndFlagsDuplicates) {
  auto a = desk_->Submit(Nurse(), Form(), "req-a");
  ASSERT_THAT(a.status(), IsOk());
  auto again = desk_->Submit(Nurse(), Form(), "req-a");
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->id, a->id);
  MtRequest changed = Form();
  changed.ald = true;
  EXPECT_THAT(desk_->Submit(Nurse(), changed, "req-a").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Same patient, spelled differently: flagged, not merged.
  auto b = desk_->Submit(Nurse(), Form("DUPONT"), "");
  ASSERT_THAT(b.status(), IsOk());
  EXPECT_NE(b->id, a->id);
  EXPECT_THAT(b->possible_duplicate_ids, ElementsAre(a->id));
  // A submitter who is not staff does not learn about other requests.
  auto c = desk_->Submit(Caller({"member"}, "nurse-m"), Form("Dupont"), "");
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_THAT(c->possible_duplicate_ids, IsEmpty());
}

TEST_F(MtDeskTest, TwoCallersMayUseTheSameRequestId) {
  auto nurse = desk_->Submit(Nurse(), Form("Dupont"), "req-shared");
  ASSERT_THAT(nurse.status(), IsOk());
  // Another caller of the tenant, another patient, the same key: its own request.
  auto member =
      desk_->Submit(Caller({"member"}, "nurse-m", "user:nurse-m"), Form("Martin"), "req-shared");
  ASSERT_THAT(member.status(), IsOk());
  EXPECT_NE(member->id, nurse->id);
  EXPECT_EQ(member->patient.family_name, "Martin");
  // Each retry replays the caller's own request.
  auto again = desk_->Submit(Nurse(), Form("Dupont"), "req-shared");
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->id, nurse->id);
  again =
      desk_->Submit(Caller({"member"}, "nurse-m", "user:nurse-m"), Form("Martin"), "req-shared");
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->id, member->id);
}

TEST_F(MtDeskTest, ReadsAreAuditedAndDeniedReadsToo) {
  auto r = desk_->Submit(Nurse(), Form(), "");
  ASSERT_THAT(r.status(), IsOk());
  auto full = desk_->Get(Nurse(), r->id, MtView::kFull);
  ASSERT_THAT(full.status(), IsOk());
  EXPECT_EQ(full->patient.family_name, "Dupont");
  EXPECT_EQ(CountAudit(r->id, audit_actions::kMtRequestRead, "ok"), 1);

  auto basic = desk_->Get(Nurse(), r->id, MtView::kBasic);
  ASSERT_THAT(basic.status(), IsOk());
  EXPECT_EQ(CountAudit(r->id, audit_actions::kMtRequestRead, "ok"), 1);

  EXPECT_THAT(desk_->Get(Gp("gp-2"), r->id, MtView::kFull).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(CountAudit(r->id, audit_actions::kMtRequestRead, "denied"), 1);

  // Another tenant does not see it at all.
  Principal stranger = Nurse();
  stranger.tenant_id = "other-tenant";
  EXPECT_THAT(desk_->Get(stranger, r->id, MtView::kFull).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MtDeskTest, TheProposedGpReadsPatientFieldsOthersDoNot) {
  ASSERT_THAT(desk_->DeclareCapacity(Gp("gp-1"), Capacity("gp-1", 3), "").status(), IsOk());
  const MtRequest r = Proposed("gp-1");
  ASSERT_FALSE(r.id.empty());
  auto as_gp = desk_->Get(Gp("gp-1"), r.id, MtView::kFull);
  ASSERT_THAT(as_gp.status(), IsOk());
  EXPECT_EQ(as_gp->patient.family_name, "Dupont");
  EXPECT_THAT(desk_->Get(Gp("gp-2"), r.id, MtView::kBasic).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // The GP declines: the answer no longer carries patient fields.
  MtStepInput in;
  in.mt_request_id = r.id;
  in.reason = "Cabinet complet";
  auto declined = desk_->Decline(Gp("gp-1"), in);
  ASSERT_THAT(declined.status(), IsOk());
  EXPECT_EQ(declined->state, MtState::kTriaged);
  EXPECT_THAT(declined->patient.family_name, IsEmpty());
}

TEST_F(MtDeskTest, PublicFormIsRateLimitedPerSource) {
  Principal form = Caller({"public_form"}, "", "form:ip-1");
  MtRequest r = Form();
  r.origin = MtOrigin::kPublicForm;
  EXPECT_THAT(desk_->Submit(form, r, "").status(), IsOk());
  EXPECT_THAT(desk_->Submit(form, r, "").status(), IsOk());
  EXPECT_THAT(desk_->Submit(form, r, "").status(), StatusIs(absl::StatusCode::kResourceExhausted));
  // Another source has its own bucket; time refills.
  EXPECT_THAT(desk_->Submit(Caller({"public_form"}, "", "form:ip-2"), r, "").status(), IsOk());
  clock_.Advance(absl::Minutes(10));
  EXPECT_THAT(desk_->Submit(form, r, "").status(), IsOk());
  // The public form submits only its own origin.
  EXPECT_THAT(desk_->Submit(Caller({"public_form"}, "", "form:ip-3"), Form(), "").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(MtDeskTest, OnlyActiveGeneralPractitionersDeclareCapacity) {
  EXPECT_THAT(desk_->DeclareCapacity(Gp("nurse-m"), Capacity("nurse-m", 3), "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(desk_->DeclareCapacity(Coordinator(), Capacity("ghost", 3), "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(desk_->DeclareCapacity(Gp("gp-2"), Capacity("gp-1", 3), "").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  GpCapacity mine = Capacity("", 3);
  auto declared = desk_->DeclareCapacity(Gp("gp-1"), mine, "");
  ASSERT_THAT(declared.status(), IsOk());
  EXPECT_EQ(declared->gp_member_id, "gp-1");
  EXPECT_EQ(declared->declared_by, "user:gp-1");
  EXPECT_THAT(desk_->DeclareCapacity(Gp("gp-1"), mine, "v7").status(),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(desk_->DeclareCapacity(Gp("gp-1"), mine, MtEtag(declared->version)).status(), IsOk());
}

TEST_F(MtDeskTest, WholeWorkflowAndIndicators) {
  ASSERT_THAT(desk_->DeclareCapacity(Gp("gp-1"), Capacity("gp-1", 2), "").status(), IsOk());
  ASSERT_THAT(desk_->DeclareCapacity(Gp("gp-2"), Capacity("gp-2", 5), "").status(), IsOk());
  auto r = desk_->Submit(Nurse(), Form(), "");
  ASSERT_THAT(r.status(), IsOk());
  MtStepInput in;
  in.mt_request_id = r->id;
  in.synthesis = "Suivi diabète";
  ASSERT_THAT(desk_->Triage(Nurse(), in).status(), IsOk());

  auto suggestions = desk_->ProposeMatch(Nurse(), r->id, 0);
  ASSERT_THAT(suggestions.status(), IsOk());
  ASSERT_EQ(suggestions->size(), 2U);
  EXPECT_EQ((*suggestions)[0].gp_member_id, "gp-2");  // more capacity left
  EXPECT_EQ((*suggestions)[0].rank, 1);
  // A GP who left the CPTS is no longer suggested.
  directory_.Put(tenant_, membership::MemberProfile{
                              .member_id = "gp-2",
                              .status = membership::MemberStatus::kResigned,
                              .profession_code = membership::client::kGeneralPractitionerProfession,
                              .commune_insee_codes = {}});
  suggestions = desk_->ProposeMatch(Nurse(), r->id, 0);
  ASSERT_THAT(suggestions.status(), IsOk());
  ASSERT_EQ(suggestions->size(), 1U);
  EXPECT_EQ((*suggestions)[0].gp_member_id, "gp-1");
  in.gp_member_id = "gp-2";
  EXPECT_THAT(desk_->Assign(Coordinator(), in).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  in.gp_member_id = "gp-1";
  auto assigned = desk_->Assign(Coordinator(), in);
  ASSERT_THAT(assigned.status(), IsOk());
  EXPECT_EQ(assigned->state, MtState::kProposed);

  MtStepInput accept;
  accept.mt_request_id = r->id;
  EXPECT_THAT(desk_->Accept(Gp("gp-2"), accept).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  clock_.Advance(absl::Hours(48));
  auto accepted = desk_->Accept(Gp("gp-1"), accept);
  ASSERT_THAT(accepted.status(), IsOk());
  EXPECT_EQ(accepted->request.state, MtState::kAccepted);
  EXPECT_EQ(accepted->capacity.remaining_count, 1);

  MtStepInput place;
  place.mt_request_id = r->id;
  place.etag = "v1";  // stale
  EXPECT_THAT(desk_->Close(Nurse(), MtAction::kMarkPlaced, place).status(),
              StatusIs(absl::StatusCode::kAborted));
  place.etag = MtEtag(accepted->request.version);
  auto placed = desk_->Close(Nurse(), MtAction::kMarkPlaced, place);
  ASSERT_THAT(placed.status(), IsOk());
  EXPECT_EQ(placed->state, MtState::kPlaced);
  EXPECT_THAT(
      desk_->Close(Nurse(), MtAction::kWithdraw, MtStepInput{.mt_request_id = r->id}).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition));

  auto waiting = desk_->Submit(Nurse(), Form("Autre"), "");
  ASSERT_THAT(waiting.status(), IsOk());
  auto ind =
      desk_->Indicators(Coordinator(), absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 3, 31));
  ASSERT_THAT(ind.status(), IsOk());
  EXPECT_EQ(ind->received, 2);
  EXPECT_EQ(ind->placed, 1);
  EXPECT_EQ(ind->waiting, 1);
  ASSERT_TRUE(ind->median_wait.has_value());
  EXPECT_EQ(*ind->median_wait, absl::Hours(48));
}

TEST_F(MtDeskTest, ConcurrentAcceptMatchTakesOnePlace) {
  ASSERT_THAT(desk_->DeclareCapacity(Gp("gp-1"), Capacity("gp-1", 3), "").status(), IsOk());
  const MtRequest r = Proposed("gp-1");
  ASSERT_FALSE(r.id.empty());
  constexpr int kThreads = 5;
  std::latch start(kThreads);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      MtStepInput in;
      in.mt_request_id = r.id;
      absl::Status s = desk_->Accept(Gp("gp-1"), in).status();
      if (s.ok()) {
        ++ok;
      } else {
        EXPECT_TRUE(absl::IsFailedPrecondition(s) || absl::IsAborted(s)) << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  auto cap = desk_->GetCapacity(Gp("gp-1"), "");
  ASSERT_THAT(cap.status(), IsOk());
  EXPECT_EQ(cap->remaining_count, 2);
}

TEST_F(MtDeskTest, QueueTokensPageWithoutRepeats) {
  std::vector<std::string> submitted;
  for (int i = 0; i < 7; ++i) {
    MtRequest f = Form(absl::StrCat("Nom", i));
    f.ald = i % 2 == 0;
    auto r = desk_->Submit(Nurse(), f, "");
    ASSERT_THAT(r.status(), IsOk());
    submitted.push_back(r->id);
    clock_.Advance(absl::Minutes(1));
  }
  std::vector<std::string> seen;
  MtQueueQuery q;
  q.page_size = 3;
  q.view = MtView::kFull;
  for (int i = 0; i < 5; ++i) {
    auto page = desk_->ListQueue(Nurse(), q);
    ASSERT_THAT(page.status(), IsOk());
    for (const auto& r : page->requests) {
      seen.push_back(r.id);
      EXPECT_FALSE(r.patient.family_name.empty());
    }
    if (page->next_page_token.empty()) break;
    q.page_token = page->next_page_token;
  }
  ASSERT_EQ(seen.size(), 7U);
  // ALD first (0, 2, 4, 6), then the others, each by waiting time.
  EXPECT_THAT(seen, ElementsAre(submitted[0], submitted[2], submitted[4], submitted[6],
                                submitted[1], submitted[3], submitted[5]));
  EXPECT_EQ(CountAudit(submitted[3], audit_actions::kMtRequestRead, "ok"), 1);
  EXPECT_THAT(desk_->ListQueue(Gp("gp-1"), {}).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(MtDeskTest, ProposeMatchRanksByTheTenantsTerritory) {
  directory_.Put(tenant_, membership::MemberProfile{
                              .member_id = "gp-3",
                              .status = membership::MemberStatus::kActive,
                              .profession_code = membership::client::kGeneralPractitionerProfession,
                              .commune_insee_codes = {"77100"}});
  // gp-1 practises in the patient's commune (77288), gp-2 next door (77350), gp-3 two steps
  // away (77100). Capacities are the reverse of the expected order, so that only the
  // territory can explain it.
  GpCapacity exact = Capacity("gp-1", 1);
  GpCapacity adjacent = Capacity("gp-2", 3);
  adjacent.communes = {"77350"};
  GpCapacity two_steps = Capacity("gp-3", 9);
  two_steps.communes = {"77100"};
  ASSERT_THAT(desk_->DeclareCapacity(Coordinator(), exact, "").status(), IsOk());
  ASSERT_THAT(desk_->DeclareCapacity(Coordinator(), adjacent, "").status(), IsOk());
  ASSERT_THAT(desk_->DeclareCapacity(Coordinator(), two_steps, "").status(), IsOk());
  auto r = desk_->Submit(Nurse(), Form(), "");
  ASSERT_THAT(r.status(), IsOk());

  auto ids = [](const std::vector<GpSuggestion>& s) {
    std::vector<std::string> out;
    out.reserve(s.size());
    for (const GpSuggestion& g : s) out.push_back(g.gp_member_id);
    return out;
  };
  // No territory yet: commune match, then the most capacity left.
  auto suggestions = desk_->ProposeMatch(Nurse(), r->id, 0);
  ASSERT_THAT(suggestions.status(), IsOk());
  EXPECT_THAT(ids(*suggestions), ElementsAre("gp-1", "gp-3", "gp-2"));

  // Links in any order and case; a duplicate keeps the shortest distance.
  auto updated = desk_->UpdateTerritory(
      Coordinator(), {.links = {CommuneLink{.a = "77350", .b = "77288", .distance = 4},
                                CommuneLink{.a = " 77350 ", .b = "77100", .distance = 1},
                                CommuneLink{.a = "77288", .b = "77350", .distance = 1}}});
  ASSERT_THAT(updated.status(), IsOk());
  ASSERT_EQ(updated->links.size(), 2U);
  EXPECT_EQ(updated->links[0].a, "77100");
  EXPECT_EQ(updated->links[0].b, "77350");
  EXPECT_EQ(updated->links[1].a, "77288");
  EXPECT_EQ(updated->links[1].b, "77350");
  EXPECT_EQ(updated->links[1].distance, 1.0);
  EXPECT_EQ(updated->updated_by, "user:coord");

  suggestions = desk_->ProposeMatch(Nurse(), r->id, 0);
  ASSERT_THAT(suggestions.status(), IsOk());
  ASSERT_THAT(ids(*suggestions), ElementsAre("gp-1", "gp-2", "gp-3"));
  EXPECT_TRUE((*suggestions)[0].commune_match);
  EXPECT_FALSE((*suggestions)[1].commune_match);
  EXPECT_EQ((*suggestions)[1].nearest_commune_insee, "77350");
  EXPECT_EQ((*suggestions)[1].distance, 1.0);
  EXPECT_EQ((*suggestions)[2].nearest_commune_insee, "77100");
  EXPECT_EQ((*suggestions)[2].distance, 2.0);

  // The nurse reads the territory; only a coordinator changes it.
  auto read = desk_->GetTerritory(Nurse());
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->links.size(), 2U);
  EXPECT_THAT(desk_->UpdateTerritory(Nurse(), {}).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(desk_->GetTerritory(Gp("gp-1")).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(MtDeskTest, UpdateTerritoryValidatesAndNamesTheField) {
  auto update = [&](const CommuneLink& link) {
    return desk_
        ->UpdateTerritory(Coordinator(), {.links = {CommuneLink{.a = "77288", .b = "77350"}, link}})
        .status();
  };
  EXPECT_THAT(update({.a = "7728", .b = "77350", .distance = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, "territory.links[1].commune_a"));
  EXPECT_THAT(update({.a = "77288", .b = "", .distance = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, "territory.links[1].commune_b"));
  EXPECT_THAT(update({.a = "77288", .b = "77288", .distance = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, "territory.links[1].commune_b"));
  for (const double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_THAT(update({.a = "77288", .b = "77100", .distance = bad}),
                StatusIs(absl::StatusCode::kInvalidArgument, "territory.links[1].distance"))
        << bad;
  }
  std::vector<CommuneLink> too_many(kMaxTerritoryLinks + 1,
                                    CommuneLink{.a = "77288", .b = "77350", .distance = 1});
  EXPECT_THAT(desk_->UpdateTerritory(Coordinator(), {.links = too_many}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "territory.links"));
  // A bad commune fails the whole update, links included.
  EXPECT_THAT(
      desk_
          ->UpdateTerritory(Coordinator(),
                            {.links = {CommuneLink{.a = "77288", .b = "77350"}},
                             .communes = {TerritoryCommune{
                                 .insee_code = "77288", .name = "Moissy", .postal_code = "7755"}}})
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, "territory.communes[0].postal_code"));
  // Nothing was stored.
  auto read = desk_->GetTerritory(Coordinator());
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_THAT(read->links, IsEmpty());
  EXPECT_THAT(read->communes, IsEmpty());
  EXPECT_EQ(read->update_time, absl::InfinitePast());
}

TEST_F(MtDeskTest, UpdateTerritoryReplacesTheCommunesAndKeepsThePartNotNamed) {
  const TerritoryCommune moissy{
      .insee_code = "77296", .name = "Moissy-Cramayel", .postal_code = "77550"};
  const TerritoryCommune ajaccio{.insee_code = "2A004", .name = "Ajaccio", .postal_code = "20000"};
  // Normalised: trimmed, upper-cased, white space collapsed, sorted by INSEE code.
  auto updated = desk_->UpdateTerritory(
      Coordinator(),
      {.links = {CommuneLink{.a = "77296", .b = "77251", .distance = 1}},
       .communes = {
           TerritoryCommune{
               .insee_code = " 77296 ", .name = " Moissy-Cramayel ", .postal_code = " 77550"},
           TerritoryCommune{.insee_code = "2a004", .name = "Ajaccio", .postal_code = "20000"}}});
  ASSERT_THAT(updated.status(), IsOk());
  EXPECT_THAT(updated->communes, ElementsAre(ajaccio, moissy));
  EXPECT_EQ(updated->links.size(), 1U);
  EXPECT_EQ(updated->updated_by, "user:coord");

  // Communes only: the links stay, and the links sent are ignored (not even validated).
  updated = desk_->UpdateTerritory(Coordinator(), {.links = {CommuneLink{.a = "bad", .b = "bad"}},
                                                   .communes = {moissy},
                                                   .replace = {.links = false, .communes = true}});
  ASSERT_THAT(updated.status(), IsOk());
  EXPECT_THAT(updated->communes, ElementsAre(moissy));
  EXPECT_EQ(updated->links.size(), 1U);

  // Links only: the communes stay.
  updated = desk_->UpdateTerritory(Coordinator(), {.replace = {.links = true, .communes = false}});
  ASSERT_THAT(updated.status(), IsOk());
  EXPECT_THAT(updated->links, IsEmpty());
  EXPECT_THAT(updated->communes, ElementsAre(moissy));

  auto read = desk_->GetTerritory(Nurse());
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_THAT(read->communes, ElementsAre(moissy));

  // Both parts (the default): no communes sent clears them.
  updated = desk_->UpdateTerritory(Coordinator(), {});
  ASSERT_THAT(updated.status(), IsOk());
  EXPECT_THAT(updated->communes, IsEmpty());
}

}  // namespace
}  // namespace cpts::access
