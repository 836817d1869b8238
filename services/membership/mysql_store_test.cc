// Integration tests of MysqlMembershipStore against a real MariaDB (SharedMariaDb()): one
// schema migrated with {PlatformMigrations(), Migrations()} per test process, and a fresh tenant
// per test so that tests do not see each other's rows.
#include "services/membership/mysql_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/membership/migrations.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/migrations.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::membership {
namespace {

using ::cpts::platform::db::ConnectionPool;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// --- shared schema -----------------------------------------------------------------------

struct SharedSchema {
  absl::Status status;
  std::unique_ptr<ConnectionPool> pool;  // the application user: no DDL
};

SharedSchema& Schema() {
  static SharedSchema* const shared = [] {
    auto* s = new SharedSchema;
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "membership_store");
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

// --- builders ----------------------------------------------------------------------------

// An instant with microseconds, as DATETIME(6) keeps them.
absl::Time T(int64_t micros) { return absl::FromUnixMicros(1'700'000'000'000'000 + micros); }

std::string NextId(absl::string_view prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", ++counter);
}

Member Person(const std::string& tenant, const std::string& id, const std::string& sort_name) {
  Member m;
  m.id = id;
  m.tenant_id = tenant;
  m.kind = MemberKind::kPerson;
  m.given_name = "Given";
  m.family_name = sort_name;
  m.profession_code = "INFIRMIER";
  m.exercise_mode = ExerciseMode::kLiberal;
  m.status = MemberStatus::kPending;
  m.status_since = absl::CivilDay(2024, 1, 15);
  m.previous_status = MemberStatus::kPending;
  m.sort_name = sort_name;
  m.create_time = T(1);
  m.update_time = T(1);
  return m;
}

Member LegalEntity(const std::string& tenant, const std::string& id, const std::string& name) {
  Member m;
  m.id = id;
  m.tenant_id = tenant;
  m.kind = MemberKind::kLegalEntity;
  m.organization_name = name;
  m.status = MemberStatus::kActive;
  m.status_since = absl::CivilDay(2024, 1, 1);
  m.sort_name = name;
  m.create_time = T(2);
  m.update_time = T(2);
  return m;
}

// Every field set to a non-default value.
Member FullMember(const std::string& tenant, const std::string& id, const std::string& rpps) {
  Member m;
  m.id = id;
  m.tenant_id = tenant;
  m.kind = MemberKind::kPerson;
  m.given_name = "Élodie";
  m.family_name = "Œuvré-Garçon";
  m.organization_name = "Maison de santé « Les Tilleuls »";
  m.profession_code = "MEDECIN_GENERALISTE";
  m.rpps = rpps;
  m.finess = "750000001";
  m.exercise_mode = ExerciseMode::kMixed;
  m.practice_places = {{"75056", "Cabinet d'été, 2e étage"}, {"92012", ""}, {"2A004", "Ajaccio"}};
  m.college_id = "college-1";
  m.contact = {"elodie.oeuvre@exemple.fr", "+33612345678"};
  m.consents.directory_listing = {true, T(111'111)};
  m.consents.communications = {false, T(222'222)};
  m.adhesion.submit_time = T(333'333);
  m.adhesion.message = "Je souhaite adhérer.\nMerci !";
  m.adhesion.decide_time = T(444'444);
  m.adhesion.decided_by = "admin-subject";
  m.status = MemberStatus::kSuspended;
  m.status_since = absl::CivilDay(2024, 2, 29);
  m.previous_status = MemberStatus::kActive;
  m.status_reason = "Cotisation impayée";
  m.membership_years = {2022, 2024};
  m.sort_name = "oeuvre-garcon elodie";
  m.create_time = T(555'555);
  m.update_time = T(666'666);
  return m;
}

AuditEntry Audit(AuditAction action, std::string details = "", absl::Time time = T(9)) {
  AuditEntry e;
  e.action = action;
  e.actor = "user-subject";
  e.time = time;
  e.reason = "because";
  e.details = std::move(details);
  return e;
}

void ExpectSameConsent(const Consent& got, const Consent& want) {
  EXPECT_EQ(got.granted, want.granted);
  EXPECT_EQ(got.record_time, want.record_time);
}

void ExpectSameMember(const Member& got, const Member& want) {
  SCOPED_TRACE(absl::StrCat("member ", want.id));
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.given_name, want.given_name);
  EXPECT_EQ(got.family_name, want.family_name);
  EXPECT_EQ(got.organization_name, want.organization_name);
  EXPECT_EQ(got.profession_code, want.profession_code);
  EXPECT_EQ(got.rpps, want.rpps);
  EXPECT_EQ(got.finess, want.finess);
  EXPECT_EQ(got.exercise_mode, want.exercise_mode);
  EXPECT_EQ(got.practice_places, want.practice_places);
  EXPECT_EQ(got.college_id, want.college_id);
  EXPECT_EQ(got.contact, want.contact);
  ExpectSameConsent(got.consents.directory_listing, want.consents.directory_listing);
  ExpectSameConsent(got.consents.communications, want.consents.communications);
  EXPECT_EQ(got.adhesion.submit_time, want.adhesion.submit_time);
  EXPECT_EQ(got.adhesion.message, want.adhesion.message);
  EXPECT_EQ(got.adhesion.decide_time, want.adhesion.decide_time);
  EXPECT_EQ(got.adhesion.decided_by, want.adhesion.decided_by);
  EXPECT_EQ(got.status, want.status);
  EXPECT_EQ(got.status_since, want.status_since);
  EXPECT_EQ(got.previous_status, want.previous_status);
  EXPECT_EQ(got.status_reason, want.status_reason);
  EXPECT_EQ(got.membership_years, want.membership_years);
  EXPECT_EQ(got.sort_name, want.sort_name);
  EXPECT_EQ(got.paid_cents_by_year, want.paid_cents_by_year);
  EXPECT_EQ(got.create_time, want.create_time);
  EXPECT_EQ(got.update_time, want.update_time);
  EXPECT_EQ(got.version, want.version);
}

std::vector<std::string> Ids(const std::vector<Member>& members) {
  std::vector<std::string> ids;
  ids.reserve(members.size());
  for (const Member& m : members) ids.push_back(m.id);
  return ids;
}

absl::Status Ok() { return absl::OkStatus(); }

// A filter on one string criterion.
MemberFilter With(std::string MemberFilter::*field, std::string value) {
  MemberFilter f;
  f.*field = std::move(value);
  return f;
}

MandateFilter InForce(std::optional<absl::CivilDay> day,
                      MandateBody body = MandateBody::kUnspecified, std::string member_id = "") {
  MandateFilter f;
  f.in_force_on = day;
  f.body = body;
  f.member_id = std::move(member_id);
  return f;
}

Cotisation Payment(std::string id, std::string member_id, int year, int64_t cents,
                   absl::CivilDay paid_on) {
  Cotisation c;
  c.id = std::move(id);
  c.member_id = std::move(member_id);
  c.year = year;
  c.amount_cents = cents;
  c.paid_on = paid_on;
  c.create_time = T(4);
  return c;
}

MATCHER(IsOkAndEmpty, "is OK and empty") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "has " << arg->size() << " elements";
  return arg->empty();
}

MATCHER(IsOkAndNotReplayed, "is OK and not a replay") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return !arg->replayed;
}

class MysqlStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(Schema().status, IsOk());
    store_ = std::make_unique<MysqlMembershipStore>(*Schema().pool);
    tenant_ = NextId("tenant");
  }

  Member Create(const Member& m) {
    absl::StatusOr<CreateResult<Member>> created =
        store_->CreateMember(m, nullptr, Audit(AuditAction::kCreated));
    EXPECT_THAT(created, IsOk());
    if (!created.ok()) return m;
    EXPECT_FALSE(created->replayed);
    return created->value;
  }

  // Members of the tenant matching `filter`, all pages at once.
  std::vector<std::string> List(const MemberFilter& filter) {
    absl::StatusOr<std::vector<Member>> members =
        store_->ListMembers(tenant_, filter, std::nullopt, 1000);
    EXPECT_THAT(members, IsOk());
    return members.ok() ? Ids(*members) : std::vector<std::string>{};
  }

  Member MustGet(const std::string& id) {
    absl::StatusOr<Member> m = store_->GetMember(tenant_, id);
    EXPECT_THAT(m, IsOk());
    return m.ok() ? *m : Member();
  }

  size_t HistorySize(const std::string& member_id) {
    absl::StatusOr<std::vector<AuditEntry>> history =
        store_->ListHistory(tenant_, member_id, std::nullopt, 1000);
    EXPECT_THAT(history, IsOk());
    return history.ok() ? history->size() : 0;
  }

  // The raw audit_log rows of a member, newest first, through the platform's reader.
  std::vector<platform::db::AuditRecord> AuditRows(const std::string& member_id) {
    absl::StatusOr<ConnectionPool::Lease> lease = Schema().pool->Acquire();
    EXPECT_THAT(lease, IsOk());
    if (!lease.ok()) return {};
    absl::StatusOr<std::vector<platform::db::AuditRecord>> rows =
        platform::db::ListAudit(**lease, tenant_, "member", member_id, 1000);
    EXPECT_THAT(rows, IsOk());
    return rows.ok() ? *rows : std::vector<platform::db::AuditRecord>{};
  }

  std::unique_ptr<MysqlMembershipStore> store_;
  std::string tenant_;
};

// =========================================================================================
// Tenants and reference lists
// =========================================================================================

Tenant SampleTenant(const std::string& id) {
  Tenant t;
  t.id = id;
  t.name = "CPTS du Val-d'Oise « Sud »";
  t.finess = "950000000";
  t.size = 3;
  t.territory_communes = {"95018", "95127", "95680"};
  t.annual_fee_cents = 3000;
  t.create_time = T(10);
  t.update_time = T(20);
  return t;
}

void ExpectSameTenant(const Tenant& got, const Tenant& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.finess, want.finess);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.territory_communes, want.territory_communes);
  EXPECT_EQ(got.annual_fee_cents, want.annual_fee_cents);
  EXPECT_EQ(got.year_model, want.year_model);
  EXPECT_EQ(got.create_time, want.create_time);
  EXPECT_EQ(got.update_time, want.update_time);
  EXPECT_EQ(got.version, want.version);
}

TEST_F(MysqlStoreTest, CreateTenantRoundTripsSeedsProfessionsAndIsIdempotent) {
  const Tenant tenant = SampleTenant(tenant_);
  const std::vector<Profession> seed = {
      {"MEDECIN_GENERALISTE", "Médecin généraliste", true, true},
      {"INFIRMIER", "Infirmier", true, true},
      {"ASSISTANT_SOCIAL", "Assistant social", false, true},
  };
  const IdempotencyKey key{"CreateTenant", absl::StrCat("req-", tenant_), "fp-1"};

  absl::StatusOr<CreateResult<Tenant>> created = store_->CreateTenant(tenant, seed, &key);
  ASSERT_THAT(created, IsOk());
  EXPECT_FALSE(created->replayed);
  Tenant want = tenant;
  want.version = 1;
  ExpectSameTenant(created->value, want);

  absl::StatusOr<Tenant> got = store_->GetTenant(tenant_);
  ASSERT_THAT(got, IsOk());
  ExpectSameTenant(*got, want);

  absl::StatusOr<std::vector<Profession>> professions = store_->ListProfessions(tenant_);
  ASSERT_THAT(professions, IsOk());
  ASSERT_EQ(professions->size(), 3u);
  EXPECT_EQ((*professions)[0].code, "ASSISTANT_SOCIAL");
  EXPECT_FALSE((*professions)[0].requires_rpps);
  EXPECT_EQ((*professions)[1].code, "INFIRMIER");
  EXPECT_EQ((*professions)[2].code, "MEDECIN_GENERALISTE");
  EXPECT_EQ((*professions)[2].label, "Médecin généraliste");
  EXPECT_TRUE((*professions)[2].requires_rpps);
  EXPECT_TRUE((*professions)[2].reference);

  // Same key, same request: the tenant as it is now, replayed.
  Tenant other = SampleTenant(tenant_ + "-other");
  absl::StatusOr<CreateResult<Tenant>> replay = store_->CreateTenant(other, seed, &key);
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  ExpectSameTenant(replay->value, want);
  EXPECT_THAT(store_->GetTenant(other.id), StatusIs(absl::StatusCode::kNotFound));

  // Same key, another request.
  const IdempotencyKey reused{key.scope, key.request_id, "fp-2"};
  EXPECT_THAT(store_->CreateTenant(other, seed, &reused),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "request_id: already used for a different request"));
  EXPECT_THAT(store_->GetTenant(other.id), StatusIs(absl::StatusCode::kNotFound));

  // Another key, an existing id.
  EXPECT_THAT(store_->CreateTenant(tenant, {}, nullptr),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->GetTenant("no-such-tenant"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MysqlStoreTest, ListTenantsPagesByIdAndUpdateTenantBumpsVersion) {
  for (const char* suffix : {"-c", "-a", "-b"}) {
    ASSERT_THAT(store_->CreateTenant(SampleTenant(tenant_ + suffix), {}, nullptr), IsOk());
  }
  absl::StatusOr<std::vector<Tenant>> page = store_->ListTenants(tenant_ + "-", 2);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, tenant_ + "-a");
  EXPECT_EQ((*page)[1].id, tenant_ + "-b");
  page = store_->ListTenants((*page)[1].id, 1);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, tenant_ + "-c");
  page = store_->ListTenants(std::nullopt, 1000);
  ASSERT_THAT(page, IsOk());
  EXPECT_GE(page->size(), 3u);
  EXPECT_TRUE(std::is_sorted(page->begin(), page->end(),
                             [](const Tenant& a, const Tenant& b) { return a.id < b.id; }));
  EXPECT_THAT(store_->ListTenants(std::nullopt, 0), IsOkAndEmpty());

  const std::string id = tenant_ + "-a";
  absl::StatusOr<Tenant> updated = store_->UpdateTenant(id, [](Tenant& t) {
    EXPECT_EQ(t.version, 1);
    t.name = "CPTS renommée";
    t.finess = "";
    t.size = 4;
    t.territory_communes = {"75056"};
    t.annual_fee_cents = 0;
    t.update_time = T(99);
    t.id = "hijack";  // identity is not the callback's to change
    return Ok();
  });
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->id, id);
  EXPECT_EQ(updated->version, 2);
  absl::StatusOr<Tenant> got = store_->GetTenant(id);
  ASSERT_THAT(got, IsOk());
  ExpectSameTenant(*got, *updated);

  EXPECT_THAT(store_->UpdateTenant(id,
                                   [](Tenant& t) {
                                     t.name = "lost";
                                     return absl::FailedPreconditionError("no");
                                   }),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no"));
  got = store_->GetTenant(id);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->name, "CPTS renommée");
  EXPECT_EQ(got->version, 2);
  EXPECT_THAT(store_->UpdateTenant("no-such-tenant", [](Tenant&) { return Ok(); }),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MysqlStoreTest, ProfessionsAreScopedToTheirTenant) {
  ASSERT_THAT(store_->CreateProfession(tenant_, {"SOPHROLOGUE", "Sophrologue", false, false}),
              IsOk());
  ASSERT_THAT(store_->CreateProfession(tenant_, {"DIETETICIEN", "Diététicien", false, false}),
              IsOk());
  EXPECT_THAT(store_->CreateProfession(tenant_, {"SOPHROLOGUE", "Autre", false, false}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  absl::StatusOr<Profession> got = store_->GetProfession(tenant_, "SOPHROLOGUE");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->label, "Sophrologue");
  EXPECT_FALSE(got->reference);
  absl::StatusOr<std::vector<Profession>> all = store_->ListProfessions(tenant_);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].code, "DIETETICIEN");

  const std::string other = NextId("tenant");
  EXPECT_THAT(store_->GetProfession(other, "SOPHROLOGUE"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ListProfessions(other), IsOkAndEmpty());
  EXPECT_THAT(store_->CreateProfession(other, {"SOPHROLOGUE", "Sophrologue", false, false}),
              IsOk());
}

TEST_F(MysqlStoreTest, CollegesAreUniqueByNameIgnoringCaseAndAccents) {
  const College pole{"college-1", "Pôle Santé Sud", "Les soins de proximité", T(5)};
  const IdempotencyKey key{"CreateCollege", "req-1", "fp-1"};
  absl::StatusOr<CreateResult<College>> created = store_->CreateCollege(tenant_, pole, &key);
  ASSERT_THAT(created, IsOk());
  EXPECT_FALSE(created->replayed);

  absl::StatusOr<CreateResult<College>> replay =
      store_->CreateCollege(tenant_, College{"college-9", "Autre", "", T(6)}, &key);
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->value.id, "college-1");
  EXPECT_EQ(replay->value.create_time, T(5));
  const IdempotencyKey reused{"CreateCollege", "req-1", "fp-2"};
  EXPECT_THAT(store_->CreateCollege(tenant_, College{"college-9", "Autre", "", T(6)}, &reused),
              StatusIs(absl::StatusCode::kInvalidArgument));

  EXPECT_THAT(
      store_->CreateCollege(tenant_, College{"college-2", "POLE SANTE SUD", "", T(7)}, nullptr),
      StatusIs(absl::StatusCode::kAlreadyExists, "college.name"));
  EXPECT_THAT(store_->CreateCollege(tenant_, College{"college-1", "Autre nom", "", T(7)}, nullptr),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(store_->CreateCollege(tenant_, College{"college-3", "Médecins", "", T(8)}, nullptr),
              IsOk());

  absl::StatusOr<std::vector<College>> all = store_->ListColleges(tenant_);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "college-3");  // "Médecins" < "Pôle Santé Sud"
  EXPECT_EQ((*all)[1].id, "college-1");
  EXPECT_EQ((*all)[1].name, "Pôle Santé Sud");
  EXPECT_EQ((*all)[1].description, "Les soins de proximité");
  EXPECT_EQ((*all)[1].create_time, T(5));

  absl::StatusOr<College> got = store_->GetCollege(tenant_, "college-1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->name, "Pôle Santé Sud");
  const std::string other = NextId("tenant");
  EXPECT_THAT(store_->GetCollege(other, "college-1"), StatusIs(absl::StatusCode::kNotFound));
  // The same name in another tenant is fine.
  EXPECT_THAT(store_->CreateCollege(other, pole, nullptr), IsOk());
}

// =========================================================================================
// Members: create, get, update
// =========================================================================================

TEST_F(MysqlStoreTest, CreateAndGetRoundTripEveryField) {
  const Member full = FullMember(tenant_, "m-full", "10000000001");
  absl::StatusOr<CreateResult<Member>> created =
      store_->CreateMember(full, nullptr, Audit(AuditAction::kCreated));
  ASSERT_THAT(created, IsOk());
  Member want = full;
  want.version = 1;
  ExpectSameMember(created->value, want);
  absl::StatusOr<Member> got = store_->GetMember(tenant_, "m-full");
  ASSERT_THAT(got, IsOk());
  ExpectSameMember(*got, want);

  // The other extreme: empty strings, no optional instants, no places nor years, no RPPS.
  Member bare = LegalEntity(tenant_, "m-bare", "sisa des tilleuls");
  bare.consents.directory_listing = {true, std::nullopt};
  got = store_->GetMember(tenant_, Create(bare).id);
  ASSERT_THAT(got, IsOk());
  bare.version = 1;
  ExpectSameMember(*got, bare);

  EXPECT_THAT(store_->GetMember(tenant_, "m-missing"),
              StatusIs(absl::StatusCode::kNotFound, "m-missing"));
}

TEST_F(MysqlStoreTest, UpdateMemberWritesEveryFieldAndBumpsTheVersion) {
  Create(FullMember(tenant_, "m-1", "10000000001"));
  const Member before = MustGet("m-1");

  Member changed = LegalEntity(tenant_, "ignored-id", "cabinet renomme");
  changed.tenant_id = "ignored-tenant";
  changed.given_name = "Zoé";
  changed.family_name = "Zèbre";
  changed.profession_code = "INFIRMIER";
  changed.rpps = "10000000002";
  changed.finess = "";
  changed.exercise_mode = ExerciseMode::kSalaried;
  changed.practice_places = {{"92012", "Nouveau cabinet"}, {"75056", "Cabinet d'été"}};
  changed.college_id = "";
  changed.contact = {"zoe@exemple.fr", ""};
  changed.consents.directory_listing = {false, T(7)};
  changed.consents.communications = {true, std::nullopt};
  changed.adhesion = {};
  changed.status = MemberStatus::kActive;
  changed.status_since = absl::CivilDay(2025, 1, 1);
  changed.previous_status = MemberStatus::kSuspended;
  changed.status_reason = "";
  changed.membership_years = {2024, 2025};
  changed.create_time = T(1);
  changed.update_time = T(2);

  int calls = 0;
  absl::StatusOr<Member> updated = store_->UpdateMember(
      tenant_, "m-1",
      [&](Member& m, AuditEntry& audit) {
        ++calls;
        ExpectSameMember(m, before);  // the callback sees the stored member
        m = changed;
        audit.details = "filled in by the callback";
        return Ok();
      },
      Audit(AuditAction::kUpdated));
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(calls, 1);
  Member want = changed;
  want.id = "m-1";
  want.tenant_id = tenant_;
  want.version = 2;
  ExpectSameMember(*updated, want);
  absl::StatusOr<Member> got = store_->GetMember(tenant_, "m-1");
  ASSERT_THAT(got, IsOk());
  ExpectSameMember(*got, want);
  EXPECT_THAT(store_->GetMember(tenant_, "ignored-id"), StatusIs(absl::StatusCode::kNotFound));

  absl::StatusOr<std::vector<AuditEntry>> history =
      store_->ListHistory(tenant_, "m-1", std::nullopt, 10);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].action, AuditAction::kUpdated);
  EXPECT_EQ((*history)[1].details, "filled in by the callback");

  EXPECT_THAT(store_->UpdateMember(
                  tenant_, "m-missing", [](Member&, AuditEntry&) { return Ok(); },
                  Audit(AuditAction::kUpdated)),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MysqlStoreTest, CallbackErrorWritesNothingNotEvenTheAudit) {
  Create(FullMember(tenant_, "m-1", "10000000001"));
  const Member before = MustGet("m-1");
  const absl::Status refusal = absl::FailedPreconditionError("member.status: not allowed");
  EXPECT_EQ(store_
                ->UpdateMember(
                    tenant_, "m-1",
                    [&](Member& m, AuditEntry&) {
                      m.given_name = "Changed";
                      m.practice_places.clear();
                      m.membership_years = {1999};
                      return absl::Status(refusal);
                    },
                    Audit(AuditAction::kUpdated))
                .status(),
            refusal);
  absl::StatusOr<Member> after = store_->GetMember(tenant_, "m-1");
  ASSERT_THAT(after, IsOk());
  ExpectSameMember(*after, before);
  EXPECT_EQ(HistorySize("m-1"), 1u);
  EXPECT_EQ(AuditRows("m-1").size(), 1u);

  // A failed RecordCotisation leaves no cotisation, no audit and no idempotency key.
  const Cotisation c{
      "cot-1",     "m-1",       2024, 3000, absl::CivilDay(2024, 3, 1), PaymentMethod::kCheck,
      "chèque 42", "treasurer", T(3)};
  const IdempotencyKey key{"RecordCotisation", "req-1", "fp-1"};
  EXPECT_EQ(store_
                ->RecordCotisation(
                    tenant_, c, &key, [&](const Member&) { return absl::Status(refusal); },
                    Audit(AuditAction::kCotisationRecorded))
                .status(),
            refusal);
  EXPECT_THAT(store_->ListCotisations(tenant_, "m-1"), IsOkAndEmpty());
  EXPECT_EQ(HistorySize("m-1"), 1u);
  const IdempotencyKey same_request_id{"RecordCotisation", "req-1", "fp-other"};
  EXPECT_THAT(store_->RecordCotisation(
                  tenant_, c, &same_request_id, [](const Member&) { return Ok(); },
                  Audit(AuditAction::kCotisationRecorded)),
              IsOk());
}

TEST_F(MysqlStoreTest, TenantsNeverSeeEachOthersMembers) {
  Create(FullMember(tenant_, "m-1", "10000000001"));
  const std::string other = NextId("tenant");
  EXPECT_THAT(store_->GetMember(other, "m-1"), StatusIs(absl::StatusCode::kNotFound));
  bool called = false;
  EXPECT_THAT(store_->UpdateMember(
                  other, "m-1",
                  [&](Member&, AuditEntry&) {
                    called = true;
                    return Ok();
                  },
                  Audit(AuditAction::kUpdated)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(called);
  EXPECT_THAT(store_->BatchGetMembers(other, {"m-1"}), IsOkAndEmpty());
  EXPECT_THAT(store_->ListMembers(other, {}, std::nullopt, 10), IsOkAndEmpty());
  EXPECT_THAT(store_->ListHistory(other, "m-1", std::nullopt, 10), IsOkAndEmpty());
  EXPECT_THAT(store_->RecordCotisation(
                  other, Payment("cot-1", "m-1", 2024, 100, absl::CivilDay(2024, 1, 1)), nullptr,
                  [](const Member&) { return Ok(); }, Audit(AuditAction::kCotisationRecorded)),
              StatusIs(absl::StatusCode::kNotFound, "cotisation.member_id"));
  // Ids and RPPS are unique per tenant only.
  Member same = FullMember(other, "m-1", "10000000001");
  EXPECT_THAT(store_->CreateMember(same, nullptr, Audit(AuditAction::kCreated)), IsOk());
  absl::StatusOr<Member> mine = store_->GetMember(tenant_, "m-1");
  ASSERT_THAT(mine, IsOk());
  EXPECT_EQ(mine->tenant_id, tenant_);
  EXPECT_EQ(HistorySize("m-1"), 1u);
}

TEST_F(MysqlStoreTest, DuplicateRppsOrIdIsAlreadyExists) {
  Create(FullMember(tenant_, "m-1", "10000000001"));
  EXPECT_THAT(store_->CreateMember(FullMember(tenant_, "m-2", "10000000001"), nullptr,
                                   Audit(AuditAction::kCreated)),
              StatusIs(absl::StatusCode::kAlreadyExists, "member.rpps"));
  EXPECT_THAT(store_->GetMember(tenant_, "m-2"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(HistorySize("m-2"), 0u);
  EXPECT_THAT(store_->CreateMember(FullMember(tenant_, "m-1", "10000000003"), nullptr,
                                   Audit(AuditAction::kCreated)),
              StatusIs(absl::StatusCode::kAlreadyExists));

  // Members without an RPPS do not collide.
  Create(FullMember(tenant_, "m-3", ""));
  Create(FullMember(tenant_, "m-4", ""));

  EXPECT_THAT(store_->UpdateMember(
                  tenant_, "m-3",
                  [](Member& m, AuditEntry&) {
                    m.rpps = "10000000001";
                    return Ok();
                  },
                  Audit(AuditAction::kUpdated)),
              StatusIs(absl::StatusCode::kAlreadyExists, "member.rpps"));
  absl::StatusOr<Member> m3 = store_->GetMember(tenant_, "m-3");
  ASSERT_THAT(m3, IsOk());
  EXPECT_EQ(m3->rpps, "");
  EXPECT_EQ(m3->version, 1);
  EXPECT_EQ(HistorySize("m-3"), 1u);
}

TEST_F(MysqlStoreTest, CreateMemberReplaysAKnownKeyAndRefusesAReusedOne) {
  const IdempotencyKey key{"CreateMember", "req-1", "fp-1"};
  Member first = FullMember(tenant_, "m-1", "10000000001");
  absl::StatusOr<CreateResult<Member>> created =
      store_->CreateMember(first, &key, Audit(AuditAction::kCreated));
  ASSERT_THAT(created, IsOk());
  EXPECT_FALSE(created->replayed);
  ASSERT_THAT(store_->RecordCotisation(
                  tenant_, Payment("cot-1", "m-1", 2024, 1500, absl::CivilDay(2024, 1, 2)), nullptr,
                  [](const Member&) { return Ok(); }, Audit(AuditAction::kCotisationRecorded)),
              IsOk());

  // The retry (the domain gives it a new id) returns the member as it is now.
  absl::StatusOr<CreateResult<Member>> replay = store_->CreateMember(
      FullMember(tenant_, "m-retry", "10000000001"), &key, Audit(AuditAction::kCreated));
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  first.version = 1;
  first.paid_cents_by_year = {{2024, 1500}};
  ExpectSameMember(replay->value, first);
  EXPECT_THAT(store_->GetMember(tenant_, "m-retry"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(HistorySize("m-1"), 2u);  // created + cotisation; no entry for the replay

  const IdempotencyKey reused{"CreateMember", "req-1", "fp-2"};
  EXPECT_THAT(
      store_->CreateMember(FullMember(tenant_, "m-2", ""), &reused, Audit(AuditAction::kCreated)),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "request_id: already used for a different request"));
  EXPECT_THAT(store_->GetMember(tenant_, "m-2"), StatusIs(absl::StatusCode::kNotFound));

  // Keys are scoped by tenant and by operation.
  const IdempotencyKey other_scope{"CreateSomethingElse", "req-1", "fp-2"};
  EXPECT_THAT(store_->CreateMember(FullMember(tenant_, "m-2", ""), &other_scope,
                                   Audit(AuditAction::kCreated)),
              IsOkAndNotReplayed());
  EXPECT_THAT(store_->CreateMember(FullMember(NextId("tenant"), "m-1", ""), &reused,
                                   Audit(AuditAction::kCreated)),
              IsOkAndNotReplayed());
}

TEST_F(MysqlStoreTest, ConcurrentCreatesWithTheSameKeyCreateOnce) {
  constexpr int kThreads = 6;
  const IdempotencyKey key{"CreateMember", "req-race", "fp"};
  std::latch start(kThreads);
  std::mutex mu;
  std::vector<absl::StatusOr<CreateResult<Member>>> results;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const Member m = Person(tenant_, absl::StrCat("m-", i), "racer");
      start.arrive_and_wait();
      absl::StatusOr<CreateResult<Member>> r =
          store_->CreateMember(m, &key, Audit(AuditAction::kCreated));
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
    });
  }
  for (std::thread& t : threads) t.join();
  int created = 0;
  std::string created_id;
  for (const auto& r : results) {
    if (!r.ok()) {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
      continue;
    }
    if (!r->replayed) {
      ++created;
      created_id = r->value.id;
    }
  }
  EXPECT_EQ(created, 1);
  for (const auto& r : results) {
    if (r.ok()) {
      EXPECT_EQ(r->value.id, created_id);
    }
  }
  std::vector<std::string> all;
  all.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) all.push_back(absl::StrCat("m-", i));
  absl::StatusOr<std::vector<Member>> existing = store_->BatchGetMembers(tenant_, all);
  ASSERT_THAT(existing, IsOk());
  EXPECT_THAT(Ids(*existing), ElementsAre(created_id));
  EXPECT_EQ(HistorySize(created_id), 1u);
}

TEST_F(MysqlStoreTest, ConcurrentUpdatesAreAllApplied) {
  Member m = Person(tenant_, "m-counter", "counter");
  m.status_reason = "0";
  Create(m);
  constexpr int kThreads = 4;
  constexpr int kIncrements = 10;
  std::latch start(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kIncrements; ++i) {
        absl::StatusOr<Member> r = store_->UpdateMember(
            tenant_, "m-counter",
            [&](Member& member, AuditEntry& audit) {
              int n = 0;
              if (!absl::SimpleAtoi(member.status_reason, &n)) {
                return absl::InternalError("not a counter");
              }
              member.status_reason = absl::StrCat(n + 1);
              member.membership_years.push_back(3000 + t * kIncrements + i);
              std::sort(member.membership_years.begin(), member.membership_years.end());
              audit.details = absl::StrCat("thread=", t);
              return Ok();
            },
            Audit(AuditAction::kUpdated));
        if (!r.ok()) {
          ADD_FAILURE() << r.status();
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  absl::StatusOr<Member> got = store_->GetMember(tenant_, "m-counter");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->status_reason, absl::StrCat(kThreads * kIncrements));
  EXPECT_EQ(got->version, 1 + kThreads * kIncrements);
  EXPECT_EQ(got->membership_years.size(), static_cast<size_t>(kThreads * kIncrements));
  EXPECT_EQ(HistorySize("m-counter"), static_cast<size_t>(1 + kThreads * kIncrements));
}

// =========================================================================================
// Members: batch reads, lists, keyset pagination
// =========================================================================================

TEST_F(MysqlStoreTest, BatchGetReturnsTheExistingMembersWithTheirChildren) {
  Member a = FullMember(tenant_, "m-a", "10000000001");
  Member b = Person(tenant_, "m-b", "bravo");
  b.practice_places = {{"92012", "b"}};
  Create(a);
  Create(b);
  Create(FullMember(NextId("tenant"), "m-c", ""));  // another tenant's
  ASSERT_THAT(store_->RecordCotisation(
                  tenant_, Payment("cot-1", "m-b", 2023, 700, absl::CivilDay(2023, 5, 1)), nullptr,
                  [](const Member&) { return Ok(); }, Audit(AuditAction::kCotisationRecorded)),
              IsOk());
  absl::StatusOr<std::vector<Member>> got =
      store_->BatchGetMembers(tenant_, {"m-b", "m-missing", "m-a", "m-b", "m-c"});
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 2u);
  std::sort(got->begin(), got->end(), [](const Member& x, const Member& y) { return x.id < y.id; });
  a.version = 1;
  b.version = 1;
  b.paid_cents_by_year = {{2023, 700}};
  ExpectSameMember((*got)[0], a);
  ExpectSameMember((*got)[1], b);
  EXPECT_THAT(store_->BatchGetMembers(tenant_, {}), IsOkAndEmpty());
}

TEST_F(MysqlStoreTest, LargeBatchesAndPagesAreReadInChunks) {
  constexpr int kMembers = 300;  // more than one chunk of the store's IN lists (256)
  std::vector<std::string> ids;
  for (int i = 0; i < kMembers; ++i) {
    Member m = Person(tenant_, absl::StrFormat("m-%03d", i), absl::StrFormat("name %03d", i));
    m.practice_places = {{"75056", m.id}};
    m.membership_years = {2000 + i % 7};
    Create(m);
    ids.push_back(m.id);
  }
  absl::StatusOr<std::vector<Member>> batch = store_->BatchGetMembers(tenant_, ids);
  ASSERT_THAT(batch, IsOk());
  ASSERT_EQ(batch->size(), static_cast<size_t>(kMembers));
  absl::StatusOr<std::vector<Member>> page =
      store_->ListMembers(tenant_, {}, std::nullopt, kMembers + 1);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), static_cast<size_t>(kMembers));
  for (const std::vector<Member>* members : {&*batch, &*page}) {
    for (const Member& m : *members) {
      ASSERT_EQ(m.practice_places.size(), 1u) << m.id;
      EXPECT_EQ(m.practice_places[0].label, m.id);  // each member got its own children
      int i = 0;
      ASSERT_TRUE(absl::SimpleAtoi(m.id.substr(2), &i)) << m.id;
      EXPECT_THAT(m.membership_years, ElementsAre(2000 + i % 7)) << m.id;
    }
  }
  EXPECT_EQ(Ids(*page), ids);  // "name %03d" sorts like the ids
}

TEST_F(MysqlStoreTest, ListMembersAppliesEveryFilter) {
  Member alpha = Person(tenant_, "m-alpha", "alpha");
  alpha.status = MemberStatus::kActive;
  alpha.membership_years = {2024};
  alpha.practice_places = {{"75056", ""}};
  alpha.college_id = "c1";
  Member alpha2 = Person(tenant_, "m-alpha2", "alpha bis");
  alpha2.status = MemberStatus::kActive;
  alpha2.membership_years = {2023, 2024};
  alpha2.profession_code = "MEDECIN_GENERALISTE";
  alpha2.college_id = "c2";
  Member bravo = Person(tenant_, "m-bravo", "bravo");
  bravo.status = MemberStatus::kActive;
  bravo.membership_years = {2023};  // LAPSED in 2024
  bravo.profession_code = "MEDECIN_GENERALISTE";
  bravo.practice_places = {{"92012", ""}};
  bravo.college_id = "c2";
  Member charlie = Person(tenant_, "m-charlie", "charlie");  // PENDING
  charlie.practice_places = {{"92012", ""}, {"75056", ""}};
  Member delta = Person(tenant_, "m-delta", "delta");
  delta.status = MemberStatus::kSuspended;
  delta.membership_years = {2024};
  Member echo = LegalEntity(tenant_, "m-echo", "echo_%!x");  // ACTIVE, no year
  echo.practice_places = {{"75056", ""}};
  Member echoa = LegalEntity(tenant_, "m-echoa", "echoa");
  echoa.membership_years = {2024};
  for (const Member* m : {&alpha, &alpha2, &bravo, &charlie, &delta, &echo, &echoa}) Create(*m);

  EXPECT_THAT(List({}), ElementsAre("m-alpha", "m-alpha2", "m-bravo", "m-charlie", "m-delta",
                                    "m-echo", "m-echoa"));
  MemberFilter f;
  f.current_year = 2024;
  f.status = MemberStatus::kActive;
  EXPECT_THAT(List(f), ElementsAre("m-alpha", "m-alpha2", "m-echoa"));
  f.status = MemberStatus::kLapsed;
  EXPECT_THAT(List(f), ElementsAre("m-bravo", "m-echo"));
  f.current_year = 2023;
  f.status = MemberStatus::kActive;
  EXPECT_THAT(List(f), ElementsAre("m-alpha2", "m-bravo"));
  f.status = MemberStatus::kPending;
  EXPECT_THAT(List(f), ElementsAre("m-charlie"));
  f.status = MemberStatus::kSuspended;
  EXPECT_THAT(List(f), ElementsAre("m-delta"));  // stored status, whatever the years
  f.status = MemberStatus::kResigned;
  EXPECT_THAT(List(f), IsEmpty());

  EXPECT_THAT(List(With(&MemberFilter::profession_code, "MEDECIN_GENERALISTE")),
              ElementsAre("m-alpha2", "m-bravo"));
  EXPECT_THAT(List(With(&MemberFilter::commune_insee, "75056")),
              ElementsAre("m-alpha", "m-charlie", "m-echo"));
  EXPECT_THAT(List(With(&MemberFilter::commune_insee, "92012")),
              ElementsAre("m-bravo", "m-charlie"));
  EXPECT_THAT(List(With(&MemberFilter::college_id, "c2")), ElementsAre("m-alpha2", "m-bravo"));
  EXPECT_THAT(List(With(&MemberFilter::name_prefix, "alpha")), ElementsAre("m-alpha", "m-alpha2"));
  EXPECT_THAT(List(With(&MemberFilter::name_prefix, "alpha ")), ElementsAre("m-alpha2"));
  // LIKE's wildcards and the escape character are taken literally.
  EXPECT_THAT(List(With(&MemberFilter::name_prefix, "echo_")), ElementsAre("m-echo"));
  EXPECT_THAT(List(With(&MemberFilter::name_prefix, "echo_%!")), ElementsAre("m-echo"));
  EXPECT_THAT(List(With(&MemberFilter::name_prefix, "echo%")), IsEmpty());
  EXPECT_THAT(List(With(&MemberFilter::name_prefix, "e")), ElementsAre("m-echo", "m-echoa"));

  MemberFilter all;
  all.status = MemberStatus::kActive;
  all.current_year = 2024;
  all.profession_code = "INFIRMIER";
  all.commune_insee = "75056";
  all.college_id = "c1";
  all.name_prefix = "al";
  EXPECT_THAT(List(all), ElementsAre("m-alpha"));
  all.college_id = "c2";
  EXPECT_THAT(List(all), IsEmpty());
}

TEST_F(MysqlStoreTest, KeysetPaginationNeverSkipsNorRepeatsWhileMembersAreInserted) {
  // Even numbers first; odd ones are inserted between pages, before and after the cursor.
  std::set<std::string> originals;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrFormat("m-%02d", 2 * i);
    Create(Person(tenant_, id, absl::StrFormat("name %02d", 2 * i)));
    originals.insert(id);
  }
  // Two members share a sort name: the id breaks the tie.
  Create(Person(tenant_, "m-10b", "name 10"));
  originals.insert("m-10b");

  std::vector<Member> seen;
  std::optional<MemberCursor> cursor;
  int inserted = 0;
  for (int guard = 0; guard < 100; ++guard) {
    absl::StatusOr<std::vector<Member>> page = store_->ListMembers(tenant_, {}, cursor, 3);
    ASSERT_THAT(page, IsOk());
    if (page->empty()) break;
    for (Member& m : *page) seen.push_back(std::move(m));
    cursor = MemberCursor{seen.back().sort_name, seen.back().id};
    // During the first pages, one member just before the cursor (never to be seen) and one
    // far after it (to be seen once).
    if (inserted == 8) continue;
    const int n = ++inserted;
    Create(Person(tenant_, absl::StrFormat("z-before-%02d", n),
                  cursor->sort_name.substr(0, cursor->sort_name.size() - 1)));
    Create(Person(tenant_, absl::StrFormat("z-after-%02d", n), absl::StrFormat("name 9%02d", n)));
  }
  std::set<std::string> seen_ids;
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_TRUE(seen_ids.insert(seen[i].id).second) << "repeated " << seen[i].id;
    if (i > 0) {
      EXPECT_LT(std::tie(seen[i - 1].sort_name, seen[i - 1].id),
                std::tie(seen[i].sort_name, seen[i].id));
    }
    EXPECT_FALSE(absl::StartsWith(seen[i].id, "z-before")) << seen[i].id;
  }
  for (const std::string& id : originals) EXPECT_TRUE(seen_ids.count(id) > 0) << "skipped " << id;
  // Every member inserted after the cursor of its time was reached too.
  for (int n = 1; n <= inserted; ++n) {
    EXPECT_TRUE(seen_ids.count(absl::StrFormat("z-after-%02d", n)) > 0) << n;
  }
}

// =========================================================================================
// History
// =========================================================================================

TEST_F(MysqlStoreTest, HistoryListsEveryChangeOldestFirst) {
  AuditEntry create = Audit(AuditAction::kCreated, "status=PENDING", T(100));
  create.actor = "alice";
  create.reason = "";
  ASSERT_THAT(store_->CreateMember(Person(tenant_, "m-1", "one"), nullptr, create), IsOk());
  const std::string tricky = "quote\" backslash\\ newline\n tab\t é ✓ \x01";
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(store_->UpdateMember(
                    tenant_, "m-1",
                    [&](Member& m, AuditEntry& audit) {
                      m.status_reason = absl::StrCat(i);
                      if (i == 1) audit.details = tricky;
                      return Ok();
                    },
                    Audit(i == 2 ? AuditAction::kAdhesionApproved : AuditAction::kUpdated,
                          absl::StrCat("step ", i), T(200 + i))),
                IsOk());
  }
  // Another writer's audit of a read of the same member is not a change.
  {
    absl::StatusOr<ConnectionPool::Lease> lease = Schema().pool->Acquire();
    ASSERT_THAT(lease, IsOk());
    platform::db::AuditRecord read;
    read.tenant_id = tenant_;
    read.action = "membership.member.read";
    read.resource_type = "member";
    read.resource_id = "m-1";
    ASSERT_THAT(platform::db::AppendAudit(**lease, read), IsOk());
  }

  absl::StatusOr<std::vector<AuditEntry>> all =
      store_->ListHistory(tenant_, "m-1", std::nullopt, 100);
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 4u);
  const AuditEntry& first = (*all)[0];
  EXPECT_EQ(first.tenant_id, tenant_);
  EXPECT_EQ(first.member_id, "m-1");
  EXPECT_EQ(first.action, AuditAction::kCreated);
  EXPECT_EQ(first.actor, "alice");
  EXPECT_EQ(first.time, T(100));
  EXPECT_EQ(first.reason, "");
  EXPECT_EQ(first.details, "status=PENDING");
  EXPECT_EQ((*all)[1].details, "step 0");
  EXPECT_EQ((*all)[1].reason, "because");
  EXPECT_EQ((*all)[1].actor, "user-subject");
  EXPECT_EQ((*all)[2].details, tricky);
  EXPECT_EQ((*all)[3].action, AuditAction::kAdhesionApproved);
  EXPECT_EQ((*all)[3].time, T(202));
  for (size_t i = 1; i < all->size(); ++i) {
    EXPECT_LT((*all)[i - 1].sequence, (*all)[i].sequence);
  }

  absl::StatusOr<std::vector<AuditEntry>> page =
      store_->ListHistory(tenant_, "m-1", (*all)[0].sequence, 2);
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].sequence, (*all)[1].sequence);
  EXPECT_EQ((*page)[1].sequence, (*all)[2].sequence);
  page = store_->ListHistory(tenant_, "m-1", (*all)[3].sequence, 2);
  EXPECT_THAT(page, IsOkAndEmpty());
  EXPECT_THAT(store_->ListHistory(tenant_, "m-unknown", std::nullopt, 10), IsOkAndEmpty());

  // In the shared audit_log, as the platform reads it.
  const std::vector<platform::db::AuditRecord> rows = AuditRows("m-1");
  ASSERT_EQ(rows.size(), 5u);
  const platform::db::AuditRecord& created = rows.back();  // newest first
  EXPECT_EQ(created.action, "membership.member.CREATED");
  EXPECT_EQ(created.resource_type, "member");
  EXPECT_EQ(created.actor_subject, "alice");
  EXPECT_EQ(created.outcome, "ok");
  EXPECT_EQ(created.occurred_at, T(100));
  EXPECT_THAT(created.details, ::testing::HasSubstr("status=PENDING"));
}

// =========================================================================================
// Cotisations
// =========================================================================================

TEST_F(MysqlStoreTest, CotisationsAreListedAndSummedIntoPaidCentsByYear) {
  Member m = Person(tenant_, "m-1", "payer");
  m.practice_places = {{"75056", ""}};
  Create(m);
  const std::vector<Cotisation> cotisations = {
      {"cot-b", "m-1", 2024, 3000, absl::CivilDay(2024, 3, 1), PaymentMethod::kBankTransfer,
       "VIR 2024-03", "treasurer", T(1)},
      {"cot-a", "m-1", 2024, 500, absl::CivilDay(2024, 3, 1), PaymentMethod::kCash, "", "t2", T(2)},
      {"cot-c", "m-1", 2023, 2500, absl::CivilDay(2023, 12, 31), PaymentMethod::kDirectDebit,
       "SEPA", "treasurer", T(3)},
  };
  std::map<int, int64_t> paid_before_check;
  for (const Cotisation& c : cotisations) {
    absl::StatusOr<CreateResult<Cotisation>> recorded = store_->RecordCotisation(
        tenant_, c, nullptr,
        [&](const Member& payer) {
          EXPECT_EQ(payer.id, "m-1");
          paid_before_check = payer.paid_cents_by_year;
          return Ok();
        },
        Audit(AuditAction::kCotisationRecorded));
    ASSERT_THAT(recorded, IsOk());
    EXPECT_FALSE(recorded->replayed);
    EXPECT_EQ(recorded->value.id, c.id);
  }
  EXPECT_EQ(paid_before_check, (std::map<int, int64_t>{{2024, 3500}}));

  const std::map<int, int64_t> want = {{2023, 2500}, {2024, 3500}};
  absl::StatusOr<Member> got = store_->GetMember(tenant_, "m-1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->paid_cents_by_year, want);
  EXPECT_EQ(got->version, 1);  // a cotisation does not change the member
  absl::StatusOr<std::vector<Member>> listed =
      store_->ListMembers(tenant_, With(&MemberFilter::commune_insee, "75056"), std::nullopt, 10);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].paid_cents_by_year, want);
  absl::StatusOr<std::vector<Member>> batch = store_->BatchGetMembers(tenant_, {"m-1"});
  ASSERT_THAT(batch, IsOk());
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ((*batch)[0].paid_cents_by_year, want);
  absl::StatusOr<Member> updated = store_->UpdateMember(
      tenant_, "m-1", [](Member&, AuditEntry&) { return Ok(); }, Audit(AuditAction::kUpdated));
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->paid_cents_by_year, want);

  absl::StatusOr<std::vector<Cotisation>> list = store_->ListCotisations(tenant_, "m-1");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, "cot-c");  // 2023
  EXPECT_EQ((*list)[1].id, "cot-a");  // 2024, same day: by id
  EXPECT_EQ((*list)[2].id, "cot-b");
  const Cotisation& b = (*list)[2];
  EXPECT_EQ(b.member_id, "m-1");
  EXPECT_EQ(b.year, 2024);
  EXPECT_EQ(b.amount_cents, 3000);
  EXPECT_EQ(b.paid_on, absl::CivilDay(2024, 3, 1));
  EXPECT_EQ(b.method, PaymentMethod::kBankTransfer);
  EXPECT_EQ(b.reference, "VIR 2024-03");
  EXPECT_EQ(b.recorded_by, "treasurer");
  EXPECT_EQ(b.create_time, T(1));
  EXPECT_THAT(store_->ListCotisations(tenant_, "m-unknown"), IsOkAndEmpty());
  EXPECT_EQ(HistorySize("m-1"), 5u);  // created, 3 cotisations, update

  EXPECT_THAT(store_->RecordCotisation(
                  tenant_, cotisations[0], nullptr, [](const Member&) { return Ok(); },
                  Audit(AuditAction::kCotisationRecorded)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  Cotisation orphan = cotisations[0];
  orphan.id = "cot-orphan";
  orphan.member_id = "m-unknown";
  EXPECT_THAT(store_->RecordCotisation(
                  tenant_, orphan, nullptr, [](const Member&) { return Ok(); },
                  Audit(AuditAction::kCotisationRecorded)),
              StatusIs(absl::StatusCode::kNotFound, "cotisation.member_id: member m-unknown"));
  EXPECT_EQ(HistorySize("m-1"), 5u);
}

TEST_F(MysqlStoreTest, RecordCotisationIsIdempotent) {
  Create(Person(tenant_, "m-1", "payer"));
  const IdempotencyKey key{"RecordCotisation", "req-1", "fp-1"};
  const Cotisation c{"cot-1", "m-1", 2024, 3000, absl::CivilDay(2024, 3, 1), PaymentMethod::kCard,
                     "",      "t",   T(1)};
  ASSERT_THAT(store_->RecordCotisation(
                  tenant_, c, &key, [](const Member&) { return Ok(); },
                  Audit(AuditAction::kCotisationRecorded)),
              IsOkAndNotReplayed());
  Cotisation retry = c;
  retry.id = "cot-2";
  bool checked = false;
  absl::StatusOr<CreateResult<Cotisation>> replay = store_->RecordCotisation(
      tenant_, retry, &key,
      [&](const Member&) {
        checked = true;
        return Ok();
      },
      Audit(AuditAction::kCotisationRecorded));
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_FALSE(checked);
  EXPECT_EQ(replay->value.id, "cot-1");
  EXPECT_EQ(replay->value.method, PaymentMethod::kCard);
  const IdempotencyKey reused{"RecordCotisation", "req-1", "fp-2"};
  EXPECT_THAT(store_->RecordCotisation(
                  tenant_, retry, &reused, [](const Member&) { return Ok(); },
                  Audit(AuditAction::kCotisationRecorded)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<std::vector<Cotisation>> list = store_->ListCotisations(tenant_, "m-1");
  ASSERT_THAT(list, IsOk());
  EXPECT_EQ(list->size(), 1u);
  EXPECT_EQ(HistorySize("m-1"), 2u);
}

// =========================================================================================
// Employer conventions
// =========================================================================================

TEST_F(MysqlStoreTest, ConventionsAreCreatedListedAndEnded) {
  Member salaried = Person(tenant_, "m-s", "salarie");
  salaried.exercise_mode = ExerciseMode::kSalaried;
  Create(salaried);
  Create(LegalEntity(tenant_, "m-e", "employeur"));
  const EmployerConvention first{
      "conv-2", "m-s", "m-e", absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 12, 31), "CONV-2024",
      "",       T(1),  T(2)};
  const IdempotencyKey key{"CreateConvention", "req-1", "fp-1"};
  std::vector<std::string> seen;
  auto check = [&](const Member& member, const Member& employer,
                   const std::vector<EmployerConvention>& existing) {
    EXPECT_EQ(member.id, "m-s");
    EXPECT_EQ(employer.id, "m-e");
    EXPECT_EQ(employer.kind, MemberKind::kLegalEntity);
    seen.clear();
    for (const EmployerConvention& c : existing) seen.push_back(c.id);
    return Ok();
  };
  absl::StatusOr<CreateResult<EmployerConvention>> created =
      store_->CreateConvention(tenant_, first, &key, check, Audit(AuditAction::kConventionCreated));
  ASSERT_THAT(created, IsOk());
  EXPECT_FALSE(created->replayed);
  EXPECT_EQ(created->value.version, 1);
  EXPECT_THAT(seen, IsEmpty());

  EmployerConvention open = first;
  open.id = "conv-1";
  open.valid_from = absl::CivilDay(2025, 1, 1);
  open.valid_until = std::nullopt;
  open.reference = "";
  ASSERT_THAT(store_->CreateConvention(tenant_, open, nullptr, check,
                                       Audit(AuditAction::kConventionCreated)),
              IsOk());
  EXPECT_THAT(seen, ElementsAre("conv-2"));

  // Replay and reused key.
  absl::StatusOr<CreateResult<EmployerConvention>> replay =
      store_->CreateConvention(tenant_, open, &key, check, Audit(AuditAction::kConventionCreated));
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->value.id, "conv-2");
  const IdempotencyKey reused{"CreateConvention", "req-1", "fp-2"};
  EXPECT_THAT(store_->CreateConvention(tenant_, open, &reused, check,
                                       Audit(AuditAction::kConventionCreated)),
              StatusIs(absl::StatusCode::kInvalidArgument));

  absl::StatusOr<EmployerConvention> got = store_->GetConvention(tenant_, "conv-2");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->member_id, "m-s");
  EXPECT_EQ(got->employer_member_id, "m-e");
  EXPECT_EQ(got->valid_from, absl::CivilDay(2024, 1, 1));
  EXPECT_EQ(got->valid_until, absl::CivilDay(2024, 12, 31));
  EXPECT_EQ(got->reference, "CONV-2024");
  EXPECT_EQ(got->create_time, T(1));
  EXPECT_EQ(got->update_time, T(2));
  EXPECT_EQ(got->version, 1);

  absl::StatusOr<std::vector<EmployerConvention>> list = store_->ListConventions(tenant_, "m-s");
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "conv-2");  // by valid_from
  EXPECT_EQ((*list)[1].id, "conv-1");
  EXPECT_EQ((*list)[1].valid_until, std::nullopt);
  EXPECT_THAT(store_->ListConventions(tenant_, "m-e"), IsOkAndEmpty());

  absl::StatusOr<EmployerConvention> ended = store_->UpdateConvention(
      tenant_, "conv-1",
      [](EmployerConvention& c, AuditEntry& audit) {
        c.valid_until = absl::CivilDay(2025, 6, 30);
        c.end_reason = "Départ";
        c.update_time = T(50);
        c.member_id = "hijack";
        audit.details = "end=2025-06-30";
        return Ok();
      },
      Audit(AuditAction::kConventionEnded));
  ASSERT_THAT(ended, IsOk());
  EXPECT_EQ(ended->version, 2);
  EXPECT_EQ(ended->member_id, "m-s");
  got = store_->GetConvention(tenant_, "conv-1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->valid_until, absl::CivilDay(2025, 6, 30));
  EXPECT_EQ(got->end_reason, "Départ");
  EXPECT_EQ(got->update_time, T(50));
  EXPECT_EQ(got->version, 2);

  EXPECT_THAT(store_->UpdateConvention(
                  tenant_, "conv-1",
                  [](EmployerConvention& c, AuditEntry&) {
                    c.end_reason = "lost";
                    return absl::AbortedError("etag mismatch");
                  },
                  Audit(AuditAction::kConventionEnded)),
              StatusIs(absl::StatusCode::kAborted, "etag mismatch"));
  got = store_->GetConvention(tenant_, "conv-1");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->end_reason, "Départ");
  EXPECT_EQ(got->version, 2);

  absl::StatusOr<std::vector<AuditEntry>> history =
      store_->ListHistory(tenant_, "m-s", std::nullopt, 100);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 4u);  // created, 2 conventions, ended
  EXPECT_EQ((*history)[3].action, AuditAction::kConventionEnded);
  EXPECT_EQ((*history)[3].details, "end=2025-06-30");
  EXPECT_EQ(HistorySize("m-e"), 1u);

  EmployerConvention bad = first;
  bad.id = "conv-9";
  bad.member_id = "m-unknown";
  EXPECT_THAT(store_->CreateConvention(tenant_, bad, nullptr, check,
                                       Audit(AuditAction::kConventionCreated)),
              StatusIs(absl::StatusCode::kNotFound, "convention.member_id"));
  bad.member_id = "m-s";
  bad.employer_member_id = "m-unknown";
  EXPECT_THAT(store_->CreateConvention(tenant_, bad, nullptr, check,
                                       Audit(AuditAction::kConventionCreated)),
              StatusIs(absl::StatusCode::kNotFound, "convention.employer_member_id"));
  bad.employer_member_id = "m-e";
  EXPECT_THAT(store_->CreateConvention(
                  tenant_, bad, nullptr,
                  [](const Member&, const Member&, const std::vector<EmployerConvention>&) {
                    return absl::FailedPreconditionError("overlap");
                  },
                  Audit(AuditAction::kConventionCreated)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "overlap"));
  EXPECT_THAT(store_->GetConvention(tenant_, "conv-9"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(HistorySize("m-s"), 4u);
  EXPECT_THAT(store_->GetConvention(NextId("tenant"), "conv-1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->UpdateConvention(
                  tenant_, "conv-unknown", [](EmployerConvention&, AuditEntry&) { return Ok(); },
                  Audit(AuditAction::kConventionEnded)),
              StatusIs(absl::StatusCode::kNotFound));
}

// =========================================================================================
// Mandates
// =========================================================================================

TEST_F(MysqlStoreTest, MandatesAreCreatedFilteredAndEnded) {
  Create(Person(tenant_, "m-1", "one"));
  Create(Person(tenant_, "m-2", "two"));
  auto make = [](std::string id, std::string member, MandateBody body, MandateRole role,
                 absl::CivilDay start, std::optional<absl::CivilDay> end) {
    Mandate m;
    m.id = std::move(id);
    m.member_id = std::move(member);
    m.body = body;
    m.role = role;
    m.start_date = start;
    m.end_date = end;
    m.create_time = T(1);
    m.update_time = T(2);
    return m;
  };
  const std::vector<Mandate> mandates = {
      make("md-board", "m-1", MandateBody::kBoard, MandateRole::kBoardMember,
           absl::CivilDay(2024, 1, 1), std::nullopt),
      make("md-pres-old", "m-2", MandateBody::kBureau, MandateRole::kPresident,
           absl::CivilDay(2023, 6, 1), absl::CivilDay(2024, 5, 31)),
      make("md-pres-new", "m-1", MandateBody::kBureau, MandateRole::kPresident,
           absl::CivilDay(2024, 6, 1), std::nullopt),
      make("md-staff", "m-2", MandateBody::kStaff, MandateRole::kCoordinator,
           absl::CivilDay(2022, 1, 1), absl::CivilDay(2022, 12, 31)),
  };
  std::map<std::string, std::vector<std::string>> same_role_seen;
  for (const Mandate& m : mandates) {
    absl::StatusOr<CreateResult<Mandate>> created = store_->CreateMandate(
        tenant_, m, nullptr,
        [&](const Member& holder, const std::vector<Mandate>& same_role) {
          EXPECT_EQ(holder.id, m.member_id);
          for (const Mandate& s : same_role) same_role_seen[m.id].push_back(s.id);
          return Ok();
        },
        Audit(AuditAction::kMandateCreated));
    ASSERT_THAT(created, IsOk());
    EXPECT_EQ(created->value.version, 1);
  }
  EXPECT_THAT(same_role_seen["md-pres-new"], ElementsAre("md-pres-old"));
  EXPECT_THAT(same_role_seen["md-board"], IsEmpty());

  auto ids = [&](const MandateFilter& filter) {
    absl::StatusOr<std::vector<Mandate>> list = store_->ListMandates(tenant_, filter);
    EXPECT_THAT(list, IsOk());
    std::vector<std::string> out;
    if (list.ok()) {
      for (const Mandate& m : *list) out.push_back(m.id);
    }
    return out;
  };
  // By body in the enum's order (BUREAU, BOARD, STAFF), then role, start date.
  EXPECT_THAT(ids(InForce(std::nullopt)),
              ElementsAre("md-pres-old", "md-pres-new", "md-board", "md-staff"));
  EXPECT_THAT(ids(InForce(std::nullopt, MandateBody::kBureau)),
              ElementsAre("md-pres-old", "md-pres-new"));
  EXPECT_THAT(ids(InForce(absl::CivilDay(2024, 3, 1))), ElementsAre("md-pres-old", "md-board"));
  EXPECT_THAT(ids(InForce(absl::CivilDay(2024, 5, 31), MandateBody::kBureau)),
              ElementsAre("md-pres-old"));
  EXPECT_THAT(ids(InForce(absl::CivilDay(2024, 6, 1))), ElementsAre("md-pres-new", "md-board"));
  EXPECT_THAT(ids(InForce(absl::CivilDay(2021, 1, 1))), IsEmpty());
  // One member's mandates (what GetMemberProfile reads).
  EXPECT_THAT(ids(InForce(std::nullopt, MandateBody::kUnspecified, "m-2")),
              ElementsAre("md-pres-old", "md-staff"));
  EXPECT_THAT(ids(InForce(absl::CivilDay(2024, 6, 1), MandateBody::kUnspecified, "m-1")),
              ElementsAre("md-pres-new", "md-board"));
  EXPECT_THAT(ids(InForce(absl::CivilDay(2024, 6, 1), MandateBody::kUnspecified, "m-2")),
              IsEmpty());

  absl::StatusOr<Mandate> got = store_->GetMandate(tenant_, "md-pres-old");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->member_id, "m-2");
  EXPECT_EQ(got->body, MandateBody::kBureau);
  EXPECT_EQ(got->role, MandateRole::kPresident);
  EXPECT_EQ(got->start_date, absl::CivilDay(2023, 6, 1));
  EXPECT_EQ(got->end_date, absl::CivilDay(2024, 5, 31));
  EXPECT_EQ(got->create_time, T(1));
  EXPECT_EQ(got->update_time, T(2));
  EXPECT_THAT(store_->GetMandate(tenant_, "md-unknown"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->GetMandate(NextId("tenant"), "md-board"),
              StatusIs(absl::StatusCode::kNotFound));

  absl::StatusOr<Mandate> ended = store_->UpdateMandate(
      tenant_, "md-board",
      [](Mandate& m, AuditEntry& audit) {
        m.end_date = absl::CivilDay(2024, 12, 31);
        m.end_reason = "Démission";
        m.update_time = T(70);
        audit.details = "mandate_id=md-board";
        return Ok();
      },
      Audit(AuditAction::kMandateEnded));
  ASSERT_THAT(ended, IsOk());
  EXPECT_EQ(ended->version, 2);
  got = store_->GetMandate(tenant_, "md-board");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->end_date, absl::CivilDay(2024, 12, 31));
  EXPECT_EQ(got->end_reason, "Démission");
  EXPECT_EQ(got->version, 2);
  EXPECT_THAT(ids(InForce(absl::CivilDay(2025, 1, 1))), ElementsAre("md-pres-new"));

  EXPECT_THAT(store_->UpdateMandate(
                  tenant_, "md-board",
                  [](Mandate& m, AuditEntry&) {
                    m.end_reason = "lost";
                    return absl::FailedPreconditionError("no");
                  },
                  Audit(AuditAction::kMandateEnded)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  got = store_->GetMandate(tenant_, "md-board");
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->end_reason, "Démission");
  EXPECT_THAT(store_->UpdateMandate(
                  tenant_, "md-unknown", [](Mandate&, AuditEntry&) { return Ok(); },
                  Audit(AuditAction::kMandateEnded)),
              StatusIs(absl::StatusCode::kNotFound));

  absl::StatusOr<std::vector<AuditEntry>> history =
      store_->ListHistory(tenant_, "m-1", std::nullopt, 100);
  ASSERT_THAT(history, IsOk());
  ASSERT_EQ(history->size(), 4u);  // created, 2 mandates, ended
  EXPECT_EQ((*history)[3].action, AuditAction::kMandateEnded);

  // NotFound holder, refused check, idempotent replay.
  Mandate extra = make("md-x", "m-unknown", MandateBody::kBoard, MandateRole::kBoardMember,
                       absl::CivilDay(2024, 1, 1), std::nullopt);
  auto accept = [](const Member&, const std::vector<Mandate>&) { return Ok(); };
  EXPECT_THAT(
      store_->CreateMandate(tenant_, extra, nullptr, accept, Audit(AuditAction::kMandateCreated)),
      StatusIs(absl::StatusCode::kNotFound, "mandate.member_id"));
  extra.member_id = "m-2";
  EXPECT_THAT(store_->CreateMandate(
                  tenant_, extra, nullptr,
                  [](const Member&, const std::vector<Mandate>&) {
                    return absl::FailedPreconditionError("seat taken");
                  },
                  Audit(AuditAction::kMandateCreated)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "seat taken"));
  EXPECT_THAT(store_->GetMandate(tenant_, "md-x"), StatusIs(absl::StatusCode::kNotFound));
  const IdempotencyKey key{"CreateMandate", "req-1", "fp-1"};
  ASSERT_THAT(
      store_->CreateMandate(tenant_, extra, &key, accept, Audit(AuditAction::kMandateCreated)),
      IsOkAndNotReplayed());
  Mandate retry = extra;
  retry.id = "md-y";
  absl::StatusOr<CreateResult<Mandate>> replay =
      store_->CreateMandate(tenant_, retry, &key, accept, Audit(AuditAction::kMandateCreated));
  ASSERT_THAT(replay, IsOk());
  EXPECT_TRUE(replay->replayed);
  EXPECT_EQ(replay->value.id, "md-x");
  const IdempotencyKey reused{"CreateMandate", "req-1", "fp-2"};
  EXPECT_THAT(
      store_->CreateMandate(tenant_, retry, &reused, accept, Audit(AuditAction::kMandateCreated)),
      StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->GetMandate(tenant_, "md-y"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace cpts::membership
