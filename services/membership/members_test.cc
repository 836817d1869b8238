#include "services/membership/members.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/membership/fake_store.h"
#include "services/membership/validators.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::membership {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Principal = platform::auth::Principal;

// Synthetic people only: none of these names belongs to anyone in the source documents.
std::string ValidRpps(int n) {
  const std::string first10 = absl::StrCat("1", std::string(9 - std::to_string(n).size(), '0'), n);
  return absl::StrCat(first10, LuhnCheckDigit(first10));
}

Member Gp(std::string given, std::string family, int rpps_seed) {
  Member m;
  m.kind = MemberKind::kPerson;
  m.given_name = std::move(given);
  m.family_name = std::move(family);
  m.profession_code = "MEDECIN_GENERALISTE";
  m.rpps = ValidRpps(rpps_seed);
  m.exercise_mode = ExerciseMode::kLiberal;
  m.practice_places = {{"77445", "Cabinet des Tilleuls"}};
  m.contact.email = "contact@exemple-sante.fr";
  m.contact.phone = "06 12 34 56 78";
  m.consents.directory_listing.granted = true;
  return m;
}

Member Clinic(std::string name) {
  Member m;
  m.kind = MemberKind::kLegalEntity;
  m.organization_name = std::move(name);
  m.finess = "770000123";
  m.practice_places = {{"77288", ""}};
  return m;
}

class MembershipTest : public ::testing::Test {
 protected:
  MembershipTest()
      : clock_(absl::FromCivil(absl::CivilSecond(2025, 3, 15, 10, 0, 0), absl::UTCTimeZone())),
        ids_("id"),
        service_(store_.Repositories(), clock_, ids_, absl::UTCTimeZone()) {}

  void SetUp() override {
    Tenant t;
    t.name = "CPTS du Val Fictif";
    t.size = 2;
    t.territory_communes = {"77445", "77288"};
    auto created = service_.CreateTenant(admin_, {t, "tenant-1"});
    ASSERT_THAT(created, IsOk());
    tenant_id_ = created->id;
    coordinator_ = Principal{tenant_id_, "user:coord", "", {"coordinator"}};
    bureau_ = Principal{tenant_id_, "user:bureau", "", {"bureau_member"}};
    form_ = Principal{tenant_id_, "form:adhesion", "", {"public_form"}};
    finance_ = Principal{tenant_id_, "service:finance", "", {"service"}};
  }

  Principal MemberPrincipal(const std::string& member_id) {
    return Principal{tenant_id_, "user:" + member_id, member_id, {"member"}};
  }

  MemberView MustCreate(const Member& m, int activate_for_year = 2025) {
    auto created = service_.CreateMember(coordinator_, {m, "", activate_for_year});
    EXPECT_THAT(created, IsOk());
    return created.ok() ? *created : MemberView{};
  }

  CreateMemberRequest ValidRequest() { return {Gp("Camille", "Fictif", 1), "req-1", 0}; }

  platform::FakeClock clock_;
  platform::SequentialIdGenerator ids_;
  FakeMembershipStore store_;
  Membership service_;
  Principal admin_{"", "user:admin", "", {"platform_admin"}};
  std::string tenant_id_;
  Principal coordinator_, bureau_, form_, finance_;
};

// --- tenants ---------------------------------------------------------------------------

TEST_F(MembershipTest, TenantCreationSeedsTheReferenceProfessions) {
  auto professions = service_.ListProfessions(coordinator_);
  ASSERT_THAT(professions, IsOk());
  EXPECT_GE(professions->size(), 17u);
  EXPECT_TRUE(std::any_of(professions->begin(), professions->end(), [](const Profession& p) {
    return p.code == "MEDECIN_GENERALISTE" && p.reference;
  }));
  ASSERT_THAT(service_.CreateProfession(
                  coordinator_, {"ASSISTANT_SOCIAL", "Assistant(e) social(e)", false, true}),
              IsOk());
  professions = service_.ListProfessions(form_);
  ASSERT_THAT(professions, IsOk());
  const auto added = std::find_if(professions->begin(), professions->end(),
                                  [](const Profession& p) { return p.code == "ASSISTANT_SOCIAL"; });
  ASSERT_NE(added, professions->end());
  EXPECT_FALSE(added->reference);
  EXPECT_THAT(
      service_.CreateProfession(coordinator_, {"ASSISTANT_SOCIAL", "Doublon", false, false}),
      StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(service_.CreateProfession(bureau_, {"XYZ", "X", false, false}),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(MembershipTest, OnlyPlatformAdminsCreateAndListTenants) {
  Tenant t;
  t.name = "CPTS Autre";
  t.size = 1;
  EXPECT_THAT(service_.CreateTenant(coordinator_, {t, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ListTenants(coordinator_, {}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.CreateTenant(admin_, {t, ""}), IsOk());
  auto page = service_.ListTenants(admin_, {1, ""});
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->tenants, SizeIs(1));
  ASSERT_FALSE(page->next_page_token.empty());
  auto next = service_.ListTenants(admin_, {1, page->next_page_token});
  ASSERT_THAT(next, IsOk());
  EXPECT_THAT(next->tenants, SizeIs(1));
  EXPECT_NE(next->tenants[0].id, page->tenants[0].id);
  EXPECT_TRUE(next->next_page_token.empty());
}

TEST_F(MembershipTest, TenantCreationIsIdempotent) {
  Tenant t;
  t.name = "CPTS Bis";
  t.size = 3;
  auto first = service_.CreateTenant(admin_, {t, "tenant-bis"});
  auto again = service_.CreateTenant(admin_, {t, "tenant-bis"});
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(first->id, again->id);
  t.size = 4;
  EXPECT_THAT(service_.CreateTenant(admin_, {t, "tenant-bis"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: "));
}

TEST_F(MembershipTest, TenantFieldsAreValidatedByName) {
  struct Case {
    std::function<void(Tenant&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](Tenant& t) { t.name = " "; }, "tenant.name: "},
      {[](Tenant& t) { t.size = 0; }, "tenant.size: "},
      {[](Tenant& t) { t.size = 5; }, "tenant.size: "},
      {[](Tenant& t) { t.finess = "12345"; }, "tenant.finess: "},
      {[](Tenant& t) {
         t.territory_communes = {"77445", "20004"};
       },
       "tenant.territory_communes[1]: "},
      {[](Tenant& t) {
         t.territory_communes = {"77445", "77445"};
       },
       "tenant.territory_communes[1]: duplicate"},
      {[](Tenant& t) { t.annual_fee_cents = -1; }, "tenant.annual_fee_cents: "},
  };
  for (const Case& c : cases) {
    Tenant t;
    t.name = "CPTS Test";
    t.size = 1;
    c.mutate(t);
    EXPECT_THAT(service_.CreateTenant(admin_, {t, ""}),
                StatusIs(absl::StatusCode::kInvalidArgument, c.field));
  }
  Tenant ok;
  ok.name = "X";
  ok.size = 1;
  EXPECT_THAT(service_.CreateTenant(admin_, {ok, "bad id"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: "));
}

TEST_F(MembershipTest, CoordinatorsChangeSettingsOfTheirOwnTenantOnly) {
  Tenant change;
  change.annual_fee_cents = 2500;
  auto updated = service_.UpdateTenant(coordinator_, {change, {"annual_fee_cents"}, ""});
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->annual_fee_cents, 2500);
  EXPECT_EQ(updated->name, "CPTS du Val Fictif");
  change.name = "Renamed";
  EXPECT_THAT(service_.UpdateTenant(coordinator_, {change, {"name"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied, "'name'"));
  change.id = "another-tenant";
  EXPECT_THAT(service_.UpdateTenant(coordinator_, {change, {"annual_fee_cents"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.UpdateTenant(bureau_, {Tenant{}, {"annual_fee_cents"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // A platform admin may rename, with optimistic concurrency.
  Tenant rename;
  rename.id = tenant_id_;
  rename.name = "CPTS du Val Imaginaire";
  EXPECT_THAT(service_.UpdateTenant(admin_, {rename, {"name"}, EtagFor(1)}),
              StatusIs(absl::StatusCode::kAborted, "etag"));
  auto renamed = service_.UpdateTenant(admin_, {rename, {"name"}, EtagFor(updated->version)});
  ASSERT_THAT(renamed, IsOk());
  EXPECT_EQ(renamed->name, "CPTS du Val Imaginaire");
  EXPECT_THAT(service_.UpdateTenant(admin_, {rename, {"id"}, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "update_mask: "));
  EXPECT_THAT(service_.UpdateTenant(admin_, {rename, {}, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "update_mask: "));
  rename.size = 9;
  EXPECT_THAT(service_.UpdateTenant(admin_, {rename, {"size"}, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "tenant.size: "));
}

TEST_F(MembershipTest, GetTenantIsScopedToTheCaller) {
  EXPECT_THAT(service_.GetTenant(coordinator_, ""), IsOk());
  EXPECT_THAT(service_.GetTenant(MemberPrincipal("m"), tenant_id_), IsOk());
  EXPECT_THAT(service_.GetTenant(coordinator_, "other"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.GetTenant(admin_, tenant_id_), IsOk());
  EXPECT_THAT(service_.GetTenant(admin_, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, "tenant_id: "));
  EXPECT_THAT(service_.GetTenant(admin_, "missing"), StatusIs(absl::StatusCode::kNotFound));
}

// --- colleges --------------------------------------------------------------------------

TEST_F(MembershipTest, CollegesAreUniqueByNameAndIdempotent) {
  auto first =
      service_.CreateCollege(coordinator_, {{"", "Professionnels de ville", "", {}}, "c1"});
  ASSERT_THAT(first, IsOk());
  auto replay =
      service_.CreateCollege(coordinator_, {{"", "Professionnels de ville", "", {}}, "c1"});
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(first->id, replay->id);
  EXPECT_THAT(service_.CreateCollege(coordinator_, {{"", "PROFESSIONNELS DE VILLE", "", {}}, ""}),
              StatusIs(absl::StatusCode::kAlreadyExists, "college.name"));
  EXPECT_THAT(service_.CreateCollege(coordinator_, {{"", "", "", {}}, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "college.name: "));
  EXPECT_THAT(service_.CreateCollege(bureau_, {{"", "Usagers", "", {}}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(service_.CreateCollege(coordinator_, {{"", "Établissements", "", {}}, ""}), IsOk());
  auto list = service_.ListColleges(form_);
  ASSERT_THAT(list, IsOk());
  EXPECT_THAT(*list, SizeIs(2));
}

// --- create, idempotency, duplicates -----------------------------------------------------

TEST_F(MembershipTest, CreateMemberNormalisesAndStartsPending) {
  CreateMemberRequest req = ValidRequest();
  req.member.given_name = "  Camille  ";
  req.member.contact.email = "Camille.Fictif@Exemple-Sante.FR";
  req.member.practice_places[0].commune_insee = " 77445 ";
  auto created = service_.CreateMember(coordinator_, req);
  ASSERT_THAT(created, IsOk());
  const Member& m = created->member;
  EXPECT_FALSE(m.id.empty());
  EXPECT_EQ(m.tenant_id, tenant_id_);
  EXPECT_EQ(m.given_name, "Camille");
  EXPECT_EQ(m.contact.email, "Camille.Fictif@exemple-sante.fr");
  EXPECT_EQ(m.contact.phone, "+33612345678");
  EXPECT_EQ(m.practice_places[0].commune_insee, "77445");
  EXPECT_EQ(m.sort_name, "fictif camille");
  EXPECT_EQ(created->status, MemberStatus::kPending);
  EXPECT_FALSE(created->current_year_up_to_date);
  EXPECT_EQ(created->etag, EtagFor(1));
  EXPECT_EQ(m.consents.directory_listing.record_time, clock_.Now());
}

TEST_F(MembershipTest, CreateWithTheSameRequestIdReturnsTheFirstMember) {
  const CreateMemberRequest req = ValidRequest();
  auto first = service_.CreateMember(coordinator_, req);
  clock_.Advance(absl::Minutes(1));
  auto second = service_.CreateMember(coordinator_, req);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(first->member.id, second->member.id);
  EXPECT_EQ(second->member.create_time, first->member.create_time);
  EXPECT_THAT(store_.AllAuditEntries(), SizeIs(1)) << "a replay writes no audit entry";

  // Same payload up to normalisation is the same request.
  CreateMemberRequest spaced = req;
  spaced.member.contact.phone = "+33 6 12 34 56 78";
  auto third = service_.CreateMember(coordinator_, spaced);
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->member.id, first->member.id);

  CreateMemberRequest different = req;
  different.member.given_name = "Dominique";
  EXPECT_THAT(service_.CreateMember(coordinator_, different),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: already used"));
}

TEST_F(MembershipTest, RequestIdsAreScopedPerOperation) {
  auto created = service_.CreateMember(coordinator_, ValidRequest());
  ASSERT_THAT(created, IsOk());
  SubmitAdhesionRequest submit{Gp("Sasha", "Imaginaire", 2), "", "req-1"};
  auto submitted = service_.SubmitAdhesion(form_, submit);
  ASSERT_THAT(submitted, IsOk());
  EXPECT_NE(submitted->member.id, created->member.id);
}

TEST_F(MembershipTest, DuplicateRppsInATenantIsAlreadyExists) {
  MustCreate(Gp("Camille", "Fictif", 7));
  auto dup = service_.CreateMember(coordinator_, {Gp("Autre", "Personne", 7), "", 0});
  EXPECT_THAT(dup, StatusIs(absl::StatusCode::kAlreadyExists, "member.rpps"));
  auto via_form = service_.SubmitAdhesion(form_, {Gp("Autre", "Personne", 7), "", ""});
  EXPECT_THAT(via_form, StatusIs(absl::StatusCode::kAlreadyExists, "member.rpps"));

  // The same RPPS in another tenant is fine.
  Tenant other;
  other.name = "CPTS Voisine";
  other.size = 1;
  auto t2 = service_.CreateTenant(admin_, {other, ""});
  ASSERT_THAT(t2, IsOk());
  const Principal coord2{t2->id, "user:coord2", "", {"coordinator"}};
  EXPECT_THAT(service_.CreateMember(coord2, {Gp("Camille", "Fictif", 7), "", 0}), IsOk());

  // Changing an RPPS to one already used is AlreadyExists too.
  MemberView second = MustCreate(Gp("Noa", "Exemple", 8));
  Member change;
  change.id = second.member.id;
  change.rpps = ValidRpps(7);
  EXPECT_THAT(service_.UpdateMember(coordinator_, {change, {"rpps"}, ""}),
              StatusIs(absl::StatusCode::kAlreadyExists, "member.rpps"));
}

// --- bad input names the field -----------------------------------------------------------

TEST_F(MembershipTest, BadInputOnEveryMemberFieldNamesTheField) {
  ASSERT_THAT(service_.CreateCollege(coordinator_, {{"", "Ville", "", {}}, ""}), IsOk());
  struct Case {
    std::string what;
    std::function<void(CreateMemberRequest&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"kind", [](auto& r) { r.member.kind = MemberKind::kUnspecified; }, "member.kind: "},
      {"given empty", [](auto& r) { r.member.given_name = ""; }, "member.given_name: "},
      {"given control", [](auto& r) { r.member.given_name = "A\x07"; }, "member.given_name: "},
      {"family blank", [](auto& r) { r.member.family_name = "  "; }, "member.family_name: "},
      {"family long", [](auto& r) { r.member.family_name = std::string(101, 'x'); },
       "member.family_name: "},
      {"org on person", [](auto& r) { r.member.organization_name = "SARL"; },
       "member.organization_name: "},
      {"finess on person", [](auto& r) { r.member.finess = "770000123"; }, "member.finess: "},
      {"profession empty", [](auto& r) { r.member.profession_code = ""; },
       "member.profession_code: "},
      {"profession shape", [](auto& r) { r.member.profession_code = "médecin"; },
       "member.profession_code: "},
      {"profession unknown", [](auto& r) { r.member.profession_code = "ASTRONAUTE"; },
       "member.profession_code: unknown profession"},
      {"rpps short", [](auto& r) { r.member.rpps = "1234567890"; }, "member.rpps: "},
      {"rpps long", [](auto& r) { r.member.rpps = "123456789012"; }, "member.rpps: "},
      {"rpps letters", [](auto& r) { r.member.rpps = "1000000000A"; }, "member.rpps: "},
      {"rpps check digit",
       [](auto& r) { r.member.rpps.back() = r.member.rpps.back() == '9' ? '0' : '9'; },
       "member.rpps: check digit"},
      {"rpps required", [](auto& r) { r.member.rpps = ""; }, "member.rpps: required"},
      {"mode required", [](auto& r) { r.member.exercise_mode = ExerciseMode::kUnspecified; },
       "member.exercise_mode: required"},
      {"no place", [](auto& r) { r.member.practice_places.clear(); }, "member.practice_places: "},
      {"too many places",
       [](auto& r) {
         r.member.practice_places.clear();
         for (int i = 1; i <= 21; ++i) {
           r.member.practice_places.push_back({absl::StrCat("77", 100 + i), ""});
         }
       },
       "member.practice_places: "},
      {"bad commune", [](auto& r) { r.member.practice_places[0].commune_insee = "75000"; },
       "member.practice_places[0].commune_insee: "},
      {"bad second commune",
       [](auto& r) {
         r.member.practice_places.push_back({"2C001", ""});
       },
       "member.practice_places[1].commune_insee: "},
      {"bad label", [](auto& r) { r.member.practice_places[0].label = "a\nb"; },
       "member.practice_places[0].label: "},
      {"duplicate place",
       [](auto& r) { r.member.practice_places.push_back(r.member.practice_places[0]); },
       "member.practice_places[1]: duplicate"},
      {"college shape", [](auto& r) { r.member.college_id = "no spaces allowed"; },
       "member.college_id: "},
      {"college unknown", [](auto& r) { r.member.college_id = "nope"; },
       "member.college_id: unknown"},
      {"email", [](auto& r) { r.member.contact.email = "not-an-email"; }, "member.contact.email: "},
      {"phone", [](auto& r) { r.member.contact.phone = "12"; }, "member.contact.phone: "},
      {"request id", [](auto& r) { r.request_id = std::string(200, 'r'); }, "request_id: "},
      {"activate year", [](auto& r) { r.activate_for_year = 2020; }, "activate_for_year: "},
  };
  for (const Case& c : cases) {
    CreateMemberRequest req = ValidRequest();
    req.request_id = "";
    c.mutate(req);
    EXPECT_THAT(service_.CreateMember(coordinator_, req),
                StatusIs(absl::StatusCode::kInvalidArgument, c.field))
        << c.what;
  }
  EXPECT_THAT(store_.AllAuditEntries(), SizeIs(0)) << "nothing was written";
}

TEST_F(MembershipTest, BadInputOnLegalEntityFieldsNamesTheField) {
  struct Case {
    std::function<void(Member&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](Member& m) { m.organization_name = ""; }, "member.organization_name: "},
      {[](Member& m) { m.given_name = "Jean"; }, "member.given_name: "},
      {[](Member& m) { m.family_name = "Nom"; }, "member.family_name: "},
      {[](Member& m) { m.profession_code = "PHARMACIEN"; }, "member.profession_code: "},
      {[](Member& m) { m.rpps = ValidRpps(3); }, "member.rpps: "},
      {[](Member& m) { m.exercise_mode = ExerciseMode::kSalaried; }, "member.exercise_mode: "},
      {[](Member& m) { m.finess = "77000012X"; }, "member.finess: "},
  };
  for (const Case& c : cases) {
    Member m = Clinic("Clinique du Lac Imaginaire");
    c.mutate(m);
    EXPECT_THAT(service_.CreateMember(coordinator_, {m, "", 0}),
                StatusIs(absl::StatusCode::kInvalidArgument, c.field))
        << c.field;
  }
  EXPECT_THAT(service_.CreateMember(coordinator_, {Clinic("Clinique du Lac Imaginaire"), "", 0}),
              IsOk());
}

TEST_F(MembershipTest, ProfessionsWithoutRppsAcceptMembersWithoutOne) {
  Member rep;
  rep.kind = MemberKind::kPerson;
  rep.given_name = "Alix";
  rep.family_name = "Usager";
  rep.profession_code = "REPRESENTANT_USAGERS";
  rep.practice_places = {{"77445", ""}};
  EXPECT_THAT(service_.CreateMember(coordinator_, {rep, "", 0}), IsOk());
}

TEST_F(MembershipTest, AdhesionNeedsAnEmail) {
  Member m = Gp("Lou", "Formulaire", 11);
  m.contact.email = "";
  EXPECT_THAT(service_.SubmitAdhesion(form_, {m, "", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "member.contact.email: required"));
  EXPECT_THAT(service_.SubmitAdhesion(form_, {Gp("Lou", "Formulaire", 11), "bad\x01", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "message: "));
}

TEST_F(MembershipTest, BadInputOnOtherRequestsNamesTheField) {
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));
  const std::string id = gp.member.id;
  const absl::CivilDay today(2025, 3, 15);
  auto expect_field = [](const absl::Status& s, const std::string& field) {
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, field + ": ")) << field;
  };
  expect_field(service_.GetMember(coordinator_, "").status(), "member_id");
  expect_field(service_.GetMember(coordinator_, "a b").status(), "member_id");
  expect_field(service_.BatchGetMembers(coordinator_, {}).status(), "member_ids");
  expect_field(service_.BatchGetMembers(coordinator_, {id, "x y"}).status(), "member_ids[1]");
  expect_field(service_.BatchGetMembers(coordinator_, std::vector<std::string>(101, id)).status(),
               "member_ids");
  expect_field(service_.ListMembers(coordinator_, {-1, "", {}, "", "", "", ""}).status(),
               "page_size");
  expect_field(service_.ListMembers(coordinator_, {0, "???", {}, "", "", "", ""}).status(),
               "page_token");
  expect_field(service_.ListMembers(coordinator_, {0, "", {}, "bad code", "", "", ""}).status(),
               "profession_code");
  expect_field(service_.ListMembers(coordinator_, {0, "", {}, "", "20001", "", ""}).status(),
               "commune_insee");
  expect_field(service_.ListMembers(coordinator_, {0, "", {}, "", "", "a/b", ""}).status(),
               "college_id");
  expect_field(
      service_.ListMembers(coordinator_, {0, "", {}, "", "", "", std::string(101, 'a')}).status(),
      "name_prefix");
  Member upd;
  upd.id = id;
  expect_field(service_.UpdateMember(coordinator_, {upd, {"status"}, ""}).status(), "update_mask");
  expect_field(service_.UpdateMember(coordinator_, {upd, {}, ""}).status(), "update_mask");
  upd.contact.email = "x@";
  expect_field(service_.UpdateMember(coordinator_, {upd, {"contact.email"}, ""}).status(),
               "member.contact.email");
  upd.id = "";
  expect_field(service_.UpdateMember(coordinator_, {upd, {"contact.email"}, ""}).status(),
               "member.id");
  expect_field(service_.ApproveAdhesion(coordinator_, {id, 2031, ""}).status(), "membership_year");
  expect_field(service_.ApproveAdhesion(coordinator_, {id, 0, "nope"}).status(), "college_id");
  expect_field(service_.RejectAdhesion(coordinator_, {id, "  "}).status(), "reason");
  expect_field(service_.RenewMembership(coordinator_, {id, 0}).status(), "year");
  expect_field(service_.RenewMembership(coordinator_, {id, 2027}).status(), "year");
  expect_field(service_.SuspendMember(coordinator_, {id, ""}).status(), "reason");
  expect_field(service_.ReinstateMember(coordinator_, {id, std::string(501, 'x')}).status(),
               "reason");
  expect_field(service_.ResignMember(coordinator_, {id, "", {}}).status(), "reason");
  expect_field(
      service_.ResignMember(coordinator_, {id, "départ", absl::CivilDay(2025, 4, 1)}).status(),
      "effective_date");
  expect_field(service_.ResignMember(coordinator_, {id, "départ", absl::CivilDay()}).status(),
               "effective_date");

  const Cotisation good{"", id, 2025, 3000, today, PaymentMethod::kBankTransfer, "VIR-1", "", {}};
  const std::vector<std::pair<std::function<void(Cotisation&)>, std::string>> cotisation_cases = {
      {[](Cotisation& c) { c.member_id = ""; }, "cotisation.member_id"},
      {[](Cotisation& c) { c.year = 1999; }, "cotisation.year"},
      {[](Cotisation& c) { c.year = 2027; }, "cotisation.year"},
      {[](Cotisation& c) { c.amount_cents = 0; }, "cotisation.amount_cents"},
      {[](Cotisation& c) { c.amount_cents = -100; }, "cotisation.amount_cents"},
      {[](Cotisation& c) { c.paid_on = absl::CivilDay(); }, "cotisation.paid_on"},
      {[](Cotisation& c) { c.paid_on = absl::CivilDay(2025, 3, 16); }, "cotisation.paid_on"},
      {[](Cotisation& c) { c.method = PaymentMethod::kUnspecified; }, "cotisation.method"},
      {[](Cotisation& c) { c.reference = std::string(101, 'r'); }, "cotisation.reference"},
  };
  for (const auto& [mutate, field] : cotisation_cases) {
    Cotisation c = good;
    mutate(c);
    expect_field(service_.RecordCotisation(coordinator_, {c, ""}).status(), field);
  }
  expect_field(service_.RecordCotisation(coordinator_, {good, "has space"}).status(), "request_id");

  EmployerConvention conv{"", id, "employer", absl::CivilDay(2025, 1, 1), std::nullopt, "", "",
                          {}, {}, 0};
  const std::vector<std::pair<std::function<void(EmployerConvention&)>, std::string>>
      convention_cases = {
          {[](EmployerConvention& c) { c.member_id = "?"; }, "convention.member_id"},
          {[](EmployerConvention& c) { c.employer_member_id = ""; },
           "convention.employer_member_id"},
          {[&](EmployerConvention& c) { c.employer_member_id = id; },
           "convention.employer_member_id"},
          {[](EmployerConvention& c) { c.valid_from = absl::CivilDay(); }, "convention.valid_from"},
          {[](EmployerConvention& c) { c.valid_until = absl::CivilDay(2024, 12, 31); },
           "convention.valid_until"},
          {[](EmployerConvention& c) { c.reference = "a\tb"; }, "convention.reference"},
      };
  for (const auto& [mutate, field] : convention_cases) {
    EmployerConvention c = conv;
    mutate(c);
    expect_field(service_.CreateEmployerConvention(coordinator_, {c, ""}).status(), field);
  }
  expect_field(service_.EndEmployerConvention(coordinator_, {"", std::nullopt, "r"}).status(),
               "convention_id");
  expect_field(service_.EndEmployerConvention(coordinator_, {"c1", std::nullopt, ""}).status(),
               "reason");

  const Mandate mandate{
      "", id, MandateBody::kBureau, MandateRole::kPresident, today, std::nullopt, "", {}, {}, 0};
  const std::vector<std::pair<std::function<void(Mandate&)>, std::string>> mandate_cases = {
      {[](Mandate& m) { m.member_id = ""; }, "mandate.member_id"},
      {[](Mandate& m) { m.body = MandateBody::kUnspecified; }, "mandate.body"},
      {[](Mandate& m) { m.role = MandateRole::kUnspecified; }, "mandate.role"},
      {[](Mandate& m) { m.role = MandateRole::kCoordinator; }, "mandate.role"},
      {[](Mandate& m) { m.start_date = absl::CivilDay(1999, 12, 31); }, "mandate.start_date"},
      {[](Mandate& m) { m.end_date = absl::CivilDay(2025, 3, 14); }, "mandate.end_date"},
  };
  for (const auto& [mutate, field] : mandate_cases) {
    Mandate m = mandate;
    mutate(m);
    expect_field(service_.CreateMandate(coordinator_, {m, ""}).status(), field);
  }
  expect_field(service_.EndMandate(coordinator_, {"", std::nullopt, ""}).status(), "mandate_id");
  expect_field(service_.ListCurrentMandates(coordinator_, {absl::CivilDay(), {}}).status(),
               "on_date");
  expect_field(service_.GetMemberProfile(finance_, {"", std::nullopt}).status(), "member_id");
  expect_field(service_.GetMemberProfile(finance_, {id, absl::CivilDay(1990, 1, 1)}).status(),
               "on_date");
  expect_field(service_.ListMemberHistory(coordinator_, {id, 0, "garbage"}).status(), "page_token");
  expect_field(service_.ListCotisations(coordinator_, "").status(), "member_id");
}

// --- authorization -----------------------------------------------------------------------

TEST_F(MembershipTest, AMemberReadsAndUpdatesOnlyTheirOwnContactAndConsents) {
  const MemberView a = MustCreate(Gp("Camille", "Fictif", 1));
  const MemberView b = MustCreate(Gp("Noa", "Exemple", 2));
  const Principal self = MemberPrincipal(a.member.id);

  EXPECT_THAT(service_.GetMember(self, a.member.id), IsOk());
  EXPECT_THAT(service_.GetMember(self, b.member.id), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.GetMember(self, "does-not-exist"),
              StatusIs(absl::StatusCode::kPermissionDenied))
      << "no existence oracle";
  EXPECT_THAT(service_.BatchGetMembers(self, {a.member.id, b.member.id}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.BatchGetMembers(self, {a.member.id}), IsOk());
  EXPECT_THAT(service_.ListMembers(self, {}), StatusIs(absl::StatusCode::kPermissionDenied));

  Member change;
  change.id = a.member.id;
  change.contact.email = "nouvelle.adresse@exemple-sante.fr";
  change.consents.communications.granted = true;
  clock_.Advance(absl::Hours(1));
  auto updated =
      service_.UpdateMember(self, {change, {"contact.email", "consents.communications"}, ""});
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->member.contact.email, "nouvelle.adresse@exemple-sante.fr");
  EXPECT_EQ(updated->member.contact.phone, "+33612345678") << "not in the mask: unchanged";
  EXPECT_TRUE(updated->member.consents.communications.granted);
  EXPECT_EQ(updated->member.consents.communications.record_time, clock_.Now());
  EXPECT_EQ(updated->member.consents.directory_listing.record_time, a.member.create_time);

  change.family_name = "Autrenom";
  EXPECT_THAT(service_.UpdateMember(self, {change, {"family_name"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied, "'family_name'"));
  change.id = b.member.id;
  EXPECT_THAT(service_.UpdateMember(self, {change, {"contact.email"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // A member may list their own cotisations and conventions, not another's.
  EXPECT_THAT(service_.ListCotisations(self, a.member.id), IsOk());
  EXPECT_THAT(service_.ListCotisations(self, b.member.id),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ListEmployerConventions(self, b.member.id),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.GetMemberProfile(self, {a.member.id, std::nullopt}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // ... and may resign, but not suspend themselves.
  EXPECT_THAT(service_.SuspendMember(self, {a.member.id, "x"}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ResignMember(self, {b.member.id, "x", std::nullopt}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ResignMember(self, {a.member.id, "déménagement", std::nullopt}), IsOk());
}

TEST_F(MembershipTest, RolesSeeWhatTheyNeed) {
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));
  const std::string id = gp.member.id;
  // public_form: adhesions and reference lists only.
  EXPECT_THAT(service_.ListProfessions(form_), IsOk());
  EXPECT_THAT(service_.ListColleges(form_), IsOk());
  EXPECT_THAT(service_.GetMember(form_, id), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ListMembers(form_, {}), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.CreateMember(form_, ValidRequest()),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // service: directory reads.
  EXPECT_THAT(service_.GetMember(finance_, id), IsOk());
  EXPECT_THAT(service_.ListMembers(finance_, {}), IsOk());
  EXPECT_THAT(service_.GetMemberProfile(finance_, {id, std::nullopt}), IsOk());
  EXPECT_THAT(service_.UpdateMember(finance_, {gp.member, {"family_name"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ListMemberHistory(finance_, {id, 0, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // bureau: reads, adhesion decisions, cotisations, mandates; no direct edits.
  EXPECT_THAT(service_.GetMember(bureau_, id), IsOk());
  EXPECT_THAT(service_.ListMemberHistory(bureau_, {id, 0, ""}), IsOk());
  EXPECT_THAT(service_.UpdateMember(bureau_, {gp.member, {"family_name"}, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.SuspendMember(bureau_, {id, "r"}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(
      service_.RecordCotisation(
          bureau_,
          {{"", id, 2025, 3000, absl::CivilDay(2025, 3, 1), PaymentMethod::kCheck, "", "", {}},
           ""}),
      IsOk());
  // platform_admin without a tenant: no member data at all.
  EXPECT_THAT(service_.GetMember(admin_, id), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(service_.ListMembers(admin_, {}), StatusIs(absl::StatusCode::kPermissionDenied));
  // A caller with no role at all.
  const Principal nobody{tenant_id_, "user:x", "", {}};
  EXPECT_THAT(service_.ListProfessions(nobody), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(MembershipTest, AnotherTenantsMemberIsNotFound) {
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));
  Tenant other;
  other.name = "CPTS Voisine";
  other.size = 1;
  auto t2 = service_.CreateTenant(admin_, {other, ""});
  ASSERT_THAT(t2, IsOk());
  const Principal coord2{t2->id, "user:coord2", "", {"coordinator"}};
  EXPECT_THAT(service_.GetMember(coord2, gp.member.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(service_.SuspendMember(coord2, {gp.member.id, "r"}),
              StatusIs(absl::StatusCode::kNotFound));
  Member change = gp.member;
  EXPECT_THAT(service_.UpdateMember(coord2, {change, {"family_name"}, ""}),
              StatusIs(absl::StatusCode::kNotFound));
  auto page = service_.ListMembers(coord2, {});
  ASSERT_THAT(page, IsOk());
  EXPECT_TRUE(page->members.empty());
}

// --- update and etags --------------------------------------------------------------------

TEST_F(MembershipTest, StaleEtagIsAborted) {
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));
  Member change;
  change.id = gp.member.id;
  change.family_name = "Fictif-Martin";
  auto first = service_.UpdateMember(coordinator_, {change, {"family_name"}, gp.etag});
  ASSERT_THAT(first, IsOk());
  EXPECT_NE(first->etag, gp.etag);
  EXPECT_EQ(first->member.sort_name, "fictif-martin camille");
  change.family_name = "Fictif-Durand";
  EXPECT_THAT(service_.UpdateMember(coordinator_, {change, {"family_name"}, gp.etag}),
              StatusIs(absl::StatusCode::kAborted, "etag"));
  auto reread = service_.GetMember(coordinator_, gp.member.id);
  ASSERT_THAT(reread, IsOk());
  EXPECT_EQ(reread->member.family_name, "Fictif-Martin");
  EXPECT_THAT(service_.UpdateMember(coordinator_, {change, {"family_name"}, reread->etag}), IsOk());
  // No etag: last writer wins.
  change.family_name = "Fictif";
  EXPECT_THAT(service_.UpdateMember(coordinator_, {change, {"family_name"}, ""}), IsOk());
}

TEST_F(MembershipTest, UpdateRevalidatesTheWholeRecord) {
  Member rep;
  rep.kind = MemberKind::kPerson;
  rep.given_name = "Alix";
  rep.family_name = "Usager";
  rep.profession_code = "REPRESENTANT_USAGERS";
  rep.practice_places = {{"77445", ""}};
  const MemberView created = MustCreate(rep);
  Member change;
  change.id = created.member.id;
  change.profession_code = "PHARMACIEN";
  EXPECT_THAT(service_.UpdateMember(coordinator_, {change, {"profession_code"}, ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "member.rpps: required"));
  change.rpps = ValidRpps(42);
  change.exercise_mode = ExerciseMode::kSalaried;
  auto updated = service_.UpdateMember(coordinator_,
                                       {change, {"profession_code", "rpps", "exercise_mode"}, ""});
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->member.profession_code, "PHARMACIEN");
  const auto history = service_.ListMemberHistory(coordinator_, {created.member.id, 0, ""});
  ASSERT_THAT(history, IsOk());
  ASSERT_THAT(history->entries, SizeIs(2));
  EXPECT_EQ(history->entries[1].action, AuditAction::kUpdated);
  EXPECT_EQ(history->entries[1].details, "update_mask=profession_code,rpps,exercise_mode");
  EXPECT_EQ(history->entries[1].actor, "user:coord");
}

// --- batch get ---------------------------------------------------------------------------

TEST_F(MembershipTest, BatchGetKeepsTheRequestedOrderAndFailsOnAMissingId) {
  const MemberView a = MustCreate(Gp("Camille", "Fictif", 1));
  const MemberView b = MustCreate(Gp("Noa", "Exemple", 2));
  auto got = service_.BatchGetMembers(finance_, {b.member.id, a.member.id, b.member.id});
  ASSERT_THAT(got, IsOk());
  ASSERT_THAT(*got, SizeIs(3));
  EXPECT_EQ((*got)[0].member.id, b.member.id);
  EXPECT_EQ((*got)[1].member.id, a.member.id);
  EXPECT_EQ((*got)[2].member.id, b.member.id);
  EXPECT_THAT(service_.BatchGetMembers(finance_, {a.member.id, "missing"}),
              StatusIs(absl::StatusCode::kNotFound, "missing"));
}

// --- pagination --------------------------------------------------------------------------

TEST_F(MembershipTest, PaginationHasNoGapsOrRepeatsWhileMembersAreInserted) {
  const std::vector<std::string> families = {
      "Abeille",  "Bernardin", "Éclair",     "Duvallon", "Castelle",  "Fontenelle", "Garance",
      "Hérisson", "Isard",     "Jonquille",  "Kermadec", "Lavandier", "Mistral",    "Noisetier",
      "Orme",     "Peuplier",  "Quenouille", "Romarin",  "Saule",     "Tilleul",    "Ubac",
      "Verveine", "Wapiti",    "Xérès",      "Yeuse"};
  std::set<std::string> initial;
  int seed = 1;
  for (const std::string& family : families) {
    initial.insert(MustCreate(Gp("Dominique", family, seed++)).member.id);
  }
  // Two members with the same name: the id breaks the tie.
  initial.insert(MustCreate(Gp("Dominique", "Mistral", seed++)).member.id);

  std::vector<std::string> seen;
  std::string token;
  int page_count = 0;
  const std::vector<std::string> inserted_names = {"Aaron", "Zèbre", "Mistralet", "Abeillon"};
  do {
    auto page = service_.ListMembers(coordinator_, {4, token, {}, "", "", "", ""});
    ASSERT_THAT(page, IsOk());
    EXPECT_LE(page->members.size(), 4u);
    for (const MemberView& v : page->members) seen.push_back(v.member.id);
    token = page->next_page_token;
    // Between pages, insert members before and after the cursor.
    if (page_count < static_cast<int>(inserted_names.size())) {
      MustCreate(Gp("Insert", inserted_names[page_count], 1000 + page_count));
    }
    ++page_count;
    ASSERT_LT(page_count, 50) << "pagination does not terminate";
  } while (!token.empty());

  const std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a member was returned twice";
  for (const std::string& id : initial) {
    EXPECT_EQ(unique.count(id), 1u) << "member " << id << " was skipped";
  }
  // Order is by folded name then id.
  auto all = service_.ListMembers(coordinator_, {500, "", {}, "", "", "", ""});
  ASSERT_THAT(all, IsOk());
  for (std::size_t i = 1; i < all->members.size(); ++i) {
    const Member& prev = all->members[i - 1].member;
    const Member& cur = all->members[i].member;
    EXPECT_LT(std::tie(prev.sort_name, prev.id), std::tie(cur.sort_name, cur.id));
  }
}

TEST_F(MembershipTest, PageTokensAreTiedToTheirFilters) {
  for (int i = 0; i < 3; ++i) MustCreate(Gp("Dominique", absl::StrCat("Nom", i), i + 1));
  auto page = service_.ListMembers(coordinator_, {1, "", {}, "", "", "", ""});
  ASSERT_THAT(page, IsOk());
  ASSERT_FALSE(page->next_page_token.empty());
  EXPECT_THAT(service_.ListMembers(
                  coordinator_, {1, page->next_page_token, {}, "MEDECIN_GENERALISTE", "", "", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_token: "));
  std::string tampered = page->next_page_token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_THAT(service_.ListMembers(coordinator_, {1, tampered, {}, "", "", "", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_token"));
  // A page size above the maximum is capped, not refused.
  EXPECT_THAT(service_.ListMembers(coordinator_, {100000, "", {}, "", "", "", ""}), IsOk());
}

TEST_F(MembershipTest, ListFilters) {
  ASSERT_THAT(service_.CreateCollege(coordinator_, {{"", "Ville", "", {}}, ""}), IsOk());
  const std::string college_id = service_.ListColleges(coordinator_)->at(0).id;
  Member eloi = Gp("Éloi", "Éclair", 1);
  eloi.college_id = college_id;
  eloi.practice_places = {{"77288", ""}, {"77445", ""}};
  const MemberView a = MustCreate(eloi);
  Member nurse = Gp("Sacha", "Eclipse", 2);
  nurse.profession_code = "INFIRMIER";
  const MemberView b = MustCreate(nurse);
  const MemberView pending = MustCreate(Gp("Yan", "Attente", 3), 0);

  auto ids = [&](const ListMembersRequest& r) {
    std::vector<std::string> out;
    auto page = service_.ListMembers(coordinator_, r);
    EXPECT_THAT(page, IsOk());
    if (page.ok()) {
      for (const auto& v : page->members) out.push_back(v.member.id);
    }
    return out;
  };
  EXPECT_THAT(ids({0, "", {}, "", "", "", "ecl"}), ElementsAre(a.member.id, b.member.id));
  EXPECT_THAT(ids({0, "", {}, "", "", "", "ÉCLA"}), ElementsAre(a.member.id));
  EXPECT_THAT(ids({0, "", {}, "INFIRMIER", "", "", ""}), ElementsAre(b.member.id));
  EXPECT_THAT(ids({0, "", {}, "", "77288", "", ""}), ElementsAre(a.member.id));
  EXPECT_THAT(ids({0, "", {}, "", "", college_id, ""}), ElementsAre(a.member.id));
  EXPECT_THAT(ids({0, "", MemberStatus::kPending, "", "", "", ""}), ElementsAre(pending.member.id));
  EXPECT_THAT(ids({0, "", MemberStatus::kActive, "", "", "", ""}),
              ElementsAre(a.member.id, b.member.id));
  // A year later, without renewal, the active members are lapsed.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 1, 2, 9, 0, 0), absl::UTCTimeZone()));
  EXPECT_THAT(ids({0, "", MemberStatus::kActive, "", "", "", ""}), ElementsAre());
  EXPECT_THAT(ids({0, "", MemberStatus::kLapsed, "", "", "", ""}),
              ElementsAre(a.member.id, b.member.id));
  auto view = service_.GetMember(coordinator_, a.member.id);
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->status, MemberStatus::kLapsed);
}

// --- lifecycle through the service ------------------------------------------------------

TEST_F(MembershipTest, AdhesionLifecycleWithCotisationsAndHistory) {
  Tenant fee;
  fee.annual_fee_cents = 3000;
  ASSERT_THAT(service_.UpdateTenant(coordinator_, {fee, {"annual_fee_cents"}, ""}), IsOk());
  ASSERT_THAT(service_.CreateCollege(coordinator_, {{"", "Professionnels de ville", "", {}}, ""}),
              IsOk());
  const std::string college_id = service_.ListColleges(coordinator_)->at(0).id;

  auto submitted =
      service_.SubmitAdhesion(form_, {Gp("Maëlle", "Imaginaire", 5), "Bonjour !", "form-1"});
  ASSERT_THAT(submitted, IsOk());
  const std::string id = submitted->member.id;
  EXPECT_EQ(submitted->status, MemberStatus::kPending);
  EXPECT_EQ(submitted->member.adhesion.message, "Bonjour !");
  EXPECT_EQ(submitted->member.adhesion.submit_time, clock_.Now());

  // The tenant has collèges: approval needs one.
  EXPECT_THAT(service_.ApproveAdhesion(bureau_, {id, 0, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "college_id"));
  clock_.Advance(absl::Hours(2));
  auto approved = service_.ApproveAdhesion(bureau_, {id, 0, college_id});
  ASSERT_THAT(approved, IsOk());
  EXPECT_EQ(approved->status, MemberStatus::kActive);
  EXPECT_EQ(approved->member.college_id, college_id);
  EXPECT_THAT(approved->member.membership_years, ElementsAre(2025));
  EXPECT_EQ(approved->member.adhesion.decided_by, "user:bureau");
  EXPECT_FALSE(approved->current_year_up_to_date) << "the fee is not paid yet";
  EXPECT_THAT(service_.ApproveAdhesion(bureau_, {id, 0, college_id}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "member is ACTIVE"));

  const Cotisation half{
      "", id, 2025, 1500, absl::CivilDay(2025, 3, 15), PaymentMethod::kCheck, "CHQ 0001", "", {}};
  auto paid = service_.RecordCotisation(coordinator_, {half, "pay-1"});
  ASSERT_THAT(paid, IsOk());
  auto replay = service_.RecordCotisation(coordinator_, {half, "pay-1"});
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(replay->id, paid->id) << "a retried payment is recorded once";
  EXPECT_FALSE(service_.GetMember(coordinator_, id)->current_year_up_to_date);
  ASSERT_THAT(service_.RecordCotisation(coordinator_, {half, "pay-2"}), IsOk());
  EXPECT_TRUE(service_.GetMember(coordinator_, id)->current_year_up_to_date);
  auto cotisations = service_.ListCotisations(MemberPrincipal(id), id);
  ASSERT_THAT(cotisations, IsOk());
  EXPECT_THAT(*cotisations, SizeIs(2));

  clock_.Advance(absl::Hours(24));
  auto suspended = service_.SuspendMember(coordinator_, {id, "impayé"});
  ASSERT_THAT(suspended, IsOk());
  EXPECT_EQ(suspended->status, MemberStatus::kSuspended);
  EXPECT_EQ(suspended->member.status_reason, "impayé");
  EXPECT_FALSE(suspended->current_year_up_to_date);
  auto reinstated = service_.ReinstateMember(coordinator_, {id, ""});
  ASSERT_THAT(reinstated, IsOk());
  EXPECT_EQ(reinstated->status, MemberStatus::kActive);
  auto renewed = service_.RenewMembership(coordinator_, {id, 2026});
  ASSERT_THAT(renewed, IsOk());
  EXPECT_THAT(renewed->member.membership_years, ElementsAre(2025, 2026));
  EXPECT_THAT(service_.RenewMembership(coordinator_, {id, 2026}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "already a member for 2026"));
  auto resigned = service_.ResignMember(coordinator_, {id, "départ", std::nullopt});
  ASSERT_THAT(resigned, IsOk());
  EXPECT_EQ(resigned->status, MemberStatus::kResigned);

  auto history = service_.ListMemberHistory(coordinator_, {id, 3, ""});
  ASSERT_THAT(history, IsOk());
  std::vector<AuditAction> actions;
  std::string token;
  do {
    auto page = service_.ListMemberHistory(coordinator_, {id, 3, token});
    ASSERT_THAT(page, IsOk());
    for (const AuditEntry& e : page->entries) {
      actions.push_back(e.action);
      EXPECT_EQ(e.member_id, id);
      EXPECT_FALSE(e.actor.empty());
    }
    token = page->next_page_token;
  } while (!token.empty());
  EXPECT_THAT(actions,
              ElementsAre(AuditAction::kAdhesionSubmitted, AuditAction::kAdhesionApproved,
                          AuditAction::kCotisationRecorded, AuditAction::kCotisationRecorded,
                          AuditAction::kSuspended, AuditAction::kReinstated, AuditAction::kRenewed,
                          AuditAction::kResigned));
  EXPECT_EQ(history->entries[0].actor, "form:adhesion");
  EXPECT_EQ(history->entries[1].details,
            absl::StrCat("status=PENDING->ACTIVE year=2025 college_id=", college_id));
}

TEST_F(MembershipTest, RejectedAdhesionsAreFinal) {
  auto submitted = service_.SubmitAdhesion(form_, {Gp("Lou", "Refus", 9), "", ""});
  ASSERT_THAT(submitted, IsOk());
  const std::string id = submitted->member.id;
  auto rejected = service_.RejectAdhesion(coordinator_, {id, "hors territoire"});
  ASSERT_THAT(rejected, IsOk());
  EXPECT_EQ(rejected->status, MemberStatus::kRejected);
  EXPECT_EQ(rejected->member.status_reason, "hors territoire");
  EXPECT_THAT(service_.ApproveAdhesion(coordinator_, {id, 0, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "member is REJECTED"));
  EXPECT_THAT(
      service_.RecordCotisation(
          coordinator_,
          {{"", id, 2025, 1000, absl::CivilDay(2025, 3, 1), PaymentMethod::kCash, "", "", {}}, ""}),
      StatusIs(absl::StatusCode::kFailedPrecondition, "REJECTED"));
  EXPECT_THAT(
      service_.RecordCotisation(
          coordinator_,
          {{"", "ghost", 2025, 1000, absl::CivilDay(2025, 3, 1), PaymentMethod::kCash, "", "", {}},
           ""}),
      StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MembershipTest, ResignationMayBeBackdatedButNotBeforeTheCurrentStatus) {
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));  // active since 2025-03-15
  EXPECT_THAT(service_.ResignMember(coordinator_, {gp.member.id, "r", absl::CivilDay(2025, 3, 1)}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "effective_date"));
  clock_.Advance(absl::Hours(24 * 30));
  auto resigned =
      service_.ResignMember(coordinator_, {gp.member.id, "r", absl::CivilDay(2025, 4, 1)});
  ASSERT_THAT(resigned, IsOk());
  auto before = service_.GetMemberProfile(finance_, {gp.member.id, absl::CivilDay(2025, 3, 31)});
  ASSERT_THAT(before, IsOk());
  EXPECT_EQ(before->status, MemberStatus::kActive);
  EXPECT_EQ(before->payee.kind, PayeeKind::kSelf);
  auto after = service_.GetMemberProfile(finance_, {gp.member.id, absl::CivilDay(2025, 4, 1)});
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->status, MemberStatus::kResigned);
  EXPECT_EQ(after->payee.kind, PayeeKind::kNone);
}

// --- conventions and the directory -------------------------------------------------------

TEST_F(MembershipTest, SalariedMembersArePaidThroughTheirEmployersConvention) {
  const MemberView clinic = MustCreate(Clinic("Centre de Santé Imaginaire"));
  Member salaried = Gp("Noa", "Salarie", 21);
  salaried.exercise_mode = ExerciseMode::kSalaried;
  const MemberView nurse = MustCreate(salaried);
  const MemberView liberal = MustCreate(Gp("Camille", "Liberal", 22));

  auto profile = service_.GetMemberProfile(finance_, {nurse.member.id, std::nullopt});
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->payee.kind, PayeeKind::kNone);
  EXPECT_EQ(profile->payee.none_reason, PayeeNoneReason::kNoValidConvention);

  const EmployerConvention conv{"",
                                nurse.member.id,
                                clinic.member.id,
                                absl::CivilDay(2025, 1, 1),
                                absl::CivilDay(2025, 12, 31),
                                "CONV-2025-01",
                                "",
                                {},
                                {},
                                0};
  auto created = service_.CreateEmployerConvention(coordinator_, {conv, "conv-1"});
  ASSERT_THAT(created, IsOk());
  auto replay = service_.CreateEmployerConvention(coordinator_, {conv, "conv-1"});
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(replay->id, created->id);

  profile = service_.GetMemberProfile(finance_, {nurse.member.id, absl::CivilDay(2025, 6, 1)});
  ASSERT_THAT(profile, IsOk());
  EXPECT_TRUE(profile->up_to_date);
  EXPECT_EQ(profile->membership_year, 2025);
  EXPECT_EQ(profile->payee.kind, PayeeKind::kEmployer);
  EXPECT_EQ(profile->payee.employer_member_id, clinic.member.id);
  EXPECT_EQ(profile->payee.convention_id, created->id);
  EXPECT_THAT(profile->commune_insee_codes, ElementsAre("77445"));

  // Overlapping conventions are refused; adjacent ones are fine.
  EmployerConvention overlapping = conv;
  overlapping.valid_from = absl::CivilDay(2025, 12, 1);
  overlapping.valid_until = std::nullopt;
  EXPECT_THAT(service_.CreateEmployerConvention(coordinator_, {overlapping, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "overlaps"));
  overlapping.valid_from = absl::CivilDay(2026, 1, 1);
  EXPECT_THAT(service_.CreateEmployerConvention(coordinator_, {overlapping, ""}), IsOk());

  // Ending a convention early.
  auto ended = service_.EndEmployerConvention(
      coordinator_, {created->id, absl::CivilDay(2025, 6, 30), "fin de contrat"});
  ASSERT_THAT(ended, IsOk());
  EXPECT_EQ(ended->valid_until, absl::CivilDay(2025, 6, 30));
  EXPECT_THAT(service_.EndEmployerConvention(coordinator_,
                                             {created->id, absl::CivilDay(2025, 7, 30), "encore"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "already ends"));
  EXPECT_THAT(service_.EndEmployerConvention(coordinator_,
                                             {created->id, absl::CivilDay(2024, 7, 30), "avant"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "starts on"));
  profile = service_.GetMemberProfile(finance_, {nurse.member.id, absl::CivilDay(2025, 7, 1)});
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->payee.kind, PayeeKind::kNone);
  auto listed = service_.ListEmployerConventions(finance_, nurse.member.id);
  ASSERT_THAT(listed, IsOk());
  EXPECT_THAT(*listed, SizeIs(2));

  // Wrong kinds of parties.
  EmployerConvention bad = conv;
  bad.member_id = liberal.member.id;
  EXPECT_THAT(service_.CreateEmployerConvention(coordinator_, {bad, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "convention.member_id"));
  bad = conv;
  bad.valid_from = absl::CivilDay(2030, 1, 1);
  bad.valid_until = std::nullopt;
  bad.employer_member_id = liberal.member.id;
  EXPECT_THAT(service_.CreateEmployerConvention(coordinator_, {bad, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "LEGAL_ENTITY"));
  bad.employer_member_id = "ghost";
  EXPECT_THAT(service_.CreateEmployerConvention(coordinator_, {bad, ""}),
              StatusIs(absl::StatusCode::kNotFound, "convention.employer_member_id"));
  const MemberView pending_clinic = MustCreate(Clinic("Clinique en Attente"), 0);
  bad.employer_member_id = pending_clinic.member.id;
  EXPECT_THAT(service_.CreateEmployerConvention(coordinator_, {bad, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "employer is PENDING"));

  // The clinic itself has no payee, and a liberal member is paid directly.
  profile = service_.GetMemberProfile(coordinator_, {clinic.member.id, std::nullopt});
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->payee.none_reason, PayeeNoneReason::kLegalEntity);
  EXPECT_EQ(profile->family_name, "Centre de Santé Imaginaire");
  EXPECT_EQ(profile->rpps, "");
  profile = service_.GetMemberProfile(bureau_, {liberal.member.id, std::nullopt});
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->payee.kind, PayeeKind::kSelf);
  // Partner platforms identify a professional by RPPS and name.
  EXPECT_EQ(profile->rpps, liberal.member.rpps);
  EXPECT_EQ(profile->given_name, "Camille");
  EXPECT_EQ(profile->family_name, "Liberal");
}

TEST_F(MembershipTest, UpToDateInTheProfileFollowsTheFee) {
  Tenant fee;
  fee.annual_fee_cents = 2000;
  ASSERT_THAT(service_.UpdateTenant(coordinator_, {fee, {"annual_fee_cents"}, ""}), IsOk());
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));
  auto profile = service_.GetMemberProfile(finance_, {gp.member.id, std::nullopt});
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->status, MemberStatus::kActive);
  EXPECT_FALSE(profile->up_to_date);
  ASSERT_THAT(service_.RecordCotisation(coordinator_, {{"",
                                                        gp.member.id,
                                                        2025,
                                                        2000,
                                                        absl::CivilDay(2025, 3, 10),
                                                        PaymentMethod::kBankTransfer,
                                                        "",
                                                        "",
                                                        {}},
                                                       ""}),
              IsOk());
  profile = service_.GetMemberProfile(finance_, {gp.member.id, std::nullopt});
  ASSERT_THAT(profile, IsOk());
  EXPECT_TRUE(profile->up_to_date);
  profile = service_.GetMemberProfile(finance_, {gp.member.id, absl::CivilDay(2026, 2, 1)});
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->status, MemberStatus::kLapsed);
  EXPECT_FALSE(profile->up_to_date);
}

// --- mandates ----------------------------------------------------------------------------

TEST_F(MembershipTest, MandatesRespectSingleHolderRolesAndDates) {
  const MemberView a = MustCreate(Gp("Camille", "Fictif", 1));
  const MemberView b = MustCreate(Gp("Noa", "Exemple", 2));
  const MemberView pending = MustCreate(Gp("Yan", "Attente", 3), 0);
  const absl::CivilDay start(2025, 1, 1);
  const Mandate president{"",
                          a.member.id,
                          MandateBody::kBureau,
                          MandateRole::kPresident,
                          start,
                          std::nullopt,
                          "",
                          {},
                          {},
                          0};
  auto created = service_.CreateMandate(bureau_, {president, "m-1"});
  ASSERT_THAT(created, IsOk());
  auto replay = service_.CreateMandate(bureau_, {president, "m-1"});
  ASSERT_THAT(replay, IsOk());
  EXPECT_EQ(replay->id, created->id);

  Mandate second = president;
  second.member_id = b.member.id;
  second.start_date = absl::CivilDay(2025, 6, 1);
  EXPECT_THAT(service_.CreateMandate(bureau_, {second, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "one holder at a time"));
  // Vice-presidents: several at once.
  Mandate vp = president;
  vp.role = MandateRole::kVicePresident;
  ASSERT_THAT(service_.CreateMandate(bureau_, {vp, ""}), IsOk());
  vp.member_id = b.member.id;
  ASSERT_THAT(service_.CreateMandate(bureau_, {vp, ""}), IsOk());
  EXPECT_THAT(service_.CreateMandate(bureau_, {vp, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "already holds"));
  // Only active members sit in the bureau; staff need not be members in good standing.
  Mandate board = president;
  board.member_id = pending.member.id;
  board.body = MandateBody::kBoard;
  board.role = MandateRole::kBoardMember;
  EXPECT_THAT(service_.CreateMandate(bureau_, {board, ""}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "member is PENDING"));
  Mandate staff = board;
  staff.body = MandateBody::kStaff;
  staff.role = MandateRole::kCoordinationNurse;
  EXPECT_THAT(service_.CreateMandate(coordinator_, {staff, ""}), IsOk());
  EXPECT_THAT(service_.CreateMandate(MemberPrincipal(a.member.id), {staff, ""}),
              StatusIs(absl::StatusCode::kPermissionDenied));

  // The president steps down; a successor starts the next day.
  auto ended =
      service_.EndMandate(coordinator_, {created->id, absl::CivilDay(2025, 5, 31), "démission"});
  ASSERT_THAT(ended, IsOk());
  EXPECT_EQ(ended->end_date, absl::CivilDay(2025, 5, 31));
  EXPECT_EQ(ended->end_reason, "démission");
  ASSERT_THAT(service_.CreateMandate(bureau_, {second, ""}), IsOk());

  auto on_may = service_.ListCurrentMandates(MemberPrincipal(b.member.id),
                                             {absl::CivilDay(2025, 5, 15), MandateBody::kBureau});
  ASSERT_THAT(on_may, IsOk());
  std::vector<std::pair<MandateRole, std::string>> holders;
  for (const Mandate& m : *on_may) holders.emplace_back(m.role, m.member_id);
  EXPECT_THAT(holders, ElementsAre(std::make_pair(MandateRole::kPresident, a.member.id),
                                   std::make_pair(MandateRole::kVicePresident, a.member.id),
                                   std::make_pair(MandateRole::kVicePresident, b.member.id)));
  auto today = service_.ListCurrentMandates(coordinator_, {std::nullopt, MandateBody::kStaff});
  ASSERT_THAT(today, IsOk());
  ASSERT_THAT(*today, SizeIs(1));
  EXPECT_EQ((*today)[0].role, MandateRole::kCoordinationNurse);
  auto june = service_.ListCurrentMandates(coordinator_, {absl::CivilDay(2025, 6, 1), {}});
  ASSERT_THAT(june, IsOk());
  EXPECT_TRUE(std::any_of(june->begin(), june->end(), [&](const Mandate& m) {
    return m.role == MandateRole::kPresident && m.member_id == b.member.id;
  }));
  EXPECT_THAT(service_.EndMandate(coordinator_, {"ghost", std::nullopt, ""}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(MembershipTest, ProfileListsTheBodiesOfTheMandatesInForceThatDay) {
  const MemberView a = MustCreate(Gp("Camille", "Fictif", 1));
  const MemberView b = MustCreate(Gp("Noa", "Exemple", 2));
  Mandate board{"",
                a.member.id,
                MandateBody::kBoard,
                MandateRole::kBoardMember,
                absl::CivilDay(2025, 1, 1),
                absl::CivilDay(2025, 12, 31),
                "",
                {},
                {},
                0};
  ASSERT_THAT(service_.CreateMandate(bureau_, {board, ""}), IsOk());
  Mandate president = board;
  president.body = MandateBody::kBureau;
  president.role = MandateRole::kPresident;
  president.start_date = absl::CivilDay(2025, 3, 1);
  president.end_date = std::nullopt;
  ASSERT_THAT(service_.CreateMandate(bureau_, {president, ""}), IsOk());
  Mandate vp = president;
  vp.role = MandateRole::kVicePresident;
  ASSERT_THAT(service_.CreateMandate(bureau_, {vp, ""}), IsOk());  // same body: listed once
  Mandate other = board;
  other.member_id = b.member.id;
  ASSERT_THAT(service_.CreateMandate(bureau_, {other, ""}), IsOk());

  auto bodies_on = [&](absl::CivilDay day) {
    auto profile = service_.GetMemberProfile(finance_, {a.member.id, day});
    EXPECT_THAT(profile, IsOk());
    return profile.ok() ? profile->mandate_bodies : std::vector<MandateBody>{};
  };
  EXPECT_THAT(bodies_on(absl::CivilDay(2024, 12, 31)), IsEmpty());
  EXPECT_THAT(bodies_on(absl::CivilDay(2025, 1, 1)), ElementsAre(MandateBody::kBoard));
  EXPECT_THAT(bodies_on(absl::CivilDay(2025, 3, 1)),
              ElementsAre(MandateBody::kBureau, MandateBody::kBoard));
  EXPECT_THAT(bodies_on(absl::CivilDay(2025, 12, 31)),
              ElementsAre(MandateBody::kBureau, MandateBody::kBoard));
  EXPECT_THAT(bodies_on(absl::CivilDay(2026, 1, 1)), ElementsAre(MandateBody::kBureau));
}

// --- store errors ------------------------------------------------------------------------

TEST_F(MembershipTest, StoreErrorsReachTheCallerUnchanged) {
  const MemberView gp = MustCreate(Gp("Camille", "Fictif", 1));
  store_.FailNextCall(absl::UnavailableError("database down"));
  EXPECT_THAT(service_.GetMember(coordinator_, gp.member.id),
              StatusIs(absl::StatusCode::kUnavailable));
  store_.FailNextCall(absl::AbortedError("deadlock"));
  EXPECT_THAT(service_.SuspendMember(coordinator_, {gp.member.id, "r"}),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(service_.SuspendMember(coordinator_, {gp.member.id, "r"}), IsOk());
}

// --- small helpers -----------------------------------------------------------------------

TEST(MakeCivilDayTest, RefusesImpossibleDates) {
  EXPECT_THAT(MakeCivilDay(2024, 2, 29, "d"), IsOk());
  EXPECT_THAT(MakeCivilDay(2025, 2, 29, "paid_on"),
              StatusIs(absl::StatusCode::kInvalidArgument, "paid_on: "));
  EXPECT_THAT(MakeCivilDay(2025, 13, 1, "d"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeCivilDay(0, 1, 1, "d"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeCivilDay(2025, 4, 31, "d"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cpts::membership
