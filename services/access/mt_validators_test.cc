#include "services/access/mt_validators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;

const absl::CivilDay kToday(2025, 6, 15);
constexpr absl::Time kNow = absl::FromUnixSeconds(1749981600);  // 2025-06-15T10:00:00Z

MtRequest ValidSubmission() {
  MtRequest r;
  r.patient.given_name = "  Jeanne   Marie ";
  r.patient.family_name = "Martin";
  r.patient.birth_date = absl::CivilDay(1950, 2, 1);
  r.commune_insee = " 2a004 ";
  r.contact.phone = "06 12 34 56 78";
  r.contact.email = "Jeanne@Exemple.FR";
  r.fragility.notes = "Diabète.\nVit seule.";
  r.origin = MtOrigin::kPartnerDac;
  r.origin_detail = "DAC 77 Sud";
  r.consent.granted = true;
  return r;
}

TEST(NormalizeMtSubmissionTest, NormalisesAValidSubmission) {
  MtRequest r = ValidSubmission();
  ASSERT_THAT(NormalizeMtSubmission(r, kNow, kToday), IsOk());
  EXPECT_EQ(r.patient.given_name, "Jeanne Marie");
  EXPECT_EQ(r.commune_insee, "2A004");
  EXPECT_EQ(r.contact.phone, "+33612345678");
  EXPECT_EQ(r.contact.email, "Jeanne@exemple.fr");
  EXPECT_EQ(r.fragility.notes, "Diabète.\nVit seule.");
}

// One mutation of a valid submission per row, and the error it must give.
struct FieldCase {
  const char* name;
  std::function<void(MtRequest&)> mutate;
  absl::StatusCode code;
  const char* message;  // substring; empty with kOk
};

TEST(NormalizeMtSubmissionTest, EveryFieldIsCheckedAndNamed) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const auto kOk = absl::StatusCode::kOk;
  const std::vector<FieldCase> cases = {
      // Names.
      {"given name empty", [](MtRequest& r) { r.patient.given_name = "   "; }, kInvalid,
       "mt_request.patient.given_name: must not be empty"},
      {"given name too long", [](MtRequest& r) { r.patient.given_name = std::string(101, 'a'); },
       kInvalid, "mt_request.patient.given_name: must be at most 100 characters"},
      {"given name 100 accented",
       [](MtRequest& r) {
         r.patient.given_name.clear();
         for (int i = 0; i < 100; ++i) r.patient.given_name += "é";
       },
       kOk, ""},
      {"given name control", [](MtRequest& r) { r.patient.given_name = "Je\x01nne"; }, kInvalid,
       "mt_request.patient.given_name: must not contain control characters"},
      {"given name newline", [](MtRequest& r) { r.patient.given_name = "Je\nanne"; }, kInvalid,
       "mt_request.patient.given_name: must not contain control characters"},
      {"given name bad utf8", [](MtRequest& r) { r.patient.given_name = "Je\xC3"; }, kInvalid,
       "mt_request.patient.given_name: is not valid UTF-8"},
      {"family name empty", [](MtRequest& r) { r.patient.family_name = ""; }, kInvalid,
       "mt_request.patient.family_name: must not be empty"},
      {"family name bidi override", [](MtRequest& r) { r.patient.family_name = "Ma\u202Ertin"; },
       kInvalid, "mt_request.patient.family_name: must not contain control characters"},
      // Birth date.
      {"born tomorrow", [](MtRequest& r) { r.patient.birth_date = kToday + 1; }, kInvalid,
       "mt_request.patient.birth_date: must not be in the future"},
      {"born today", [](MtRequest& r) { r.patient.birth_date = kToday; }, kOk, ""},
      {"120 years old", [](MtRequest& r) { r.patient.birth_date = absl::CivilDay(1905, 6, 15); },
       kOk, ""},
      {"121 years old", [](MtRequest& r) { r.patient.birth_date = absl::CivilDay(1904, 6, 15); },
       kInvalid, "mt_request.patient.birth_date: must be at most 120 years ago"},
      {"unset birth date (1970)", [](MtRequest& r) { r.patient.birth_date = absl::CivilDay(); },
       kOk, ""},  // the gRPC layer refuses 0-0-0 with ParseDate before this
      // Commune.
      {"commune empty", [](MtRequest& r) { r.commune_insee = ""; }, kInvalid,
       "mt_request.commune_insee: must not be empty"},
      {"commune postcode", [](MtRequest& r) { r.commune_insee = "77000"; }, kInvalid,
       "mt_request.commune_insee: commune number must not be zero"},
      {"commune short", [](MtRequest& r) { r.commune_insee = "7728"; }, kInvalid,
       "mt_request.commune_insee: must be 5 characters"},
      {"commune letters", [](MtRequest& r) { r.commune_insee = "77A88"; }, kInvalid,
       "mt_request.commune_insee"},
      {"commune overseas", [](MtRequest& r) { r.commune_insee = "97411"; }, kOk, ""},
      // Contact.
      {"no contact",
       [](MtRequest& r) {
         r.contact = PatientContact{" ", ""};
       },
       kInvalid, "mt_request.contact: a phone number or an email address is required"},
      {"phone only", [](MtRequest& r) { r.contact.email = ""; }, kOk, ""},
      {"email only", [](MtRequest& r) { r.contact.phone = ""; }, kOk, ""},
      {"bad phone", [](MtRequest& r) { r.contact.phone = "12 34"; }, kInvalid,
       "mt_request.contact.phone: "},
      {"phone with letters", [](MtRequest& r) { r.contact.phone = "06 12 AB 56 78"; }, kInvalid,
       "mt_request.contact.phone: is not a phone number"},
      {"bad email", [](MtRequest& r) { r.contact.email = "jeanne@"; }, kInvalid,
       "mt_request.contact.email: "},
      {"email without dot", [](MtRequest& r) { r.contact.email = "jeanne@localhost"; }, kInvalid,
       "mt_request.contact.email: the domain must contain a dot"},
      // Notes.
      {"notes too long", [](MtRequest& r) { r.fragility.notes = std::string(2001, 'x'); }, kInvalid,
       "mt_request.fragility.notes: must be at most 2000 characters"},
      {"notes control", [](MtRequest& r) { r.fragility.notes = "a\x07"; }, kInvalid,
       "mt_request.fragility.notes: must not contain control characters"},
      {"notes empty", [](MtRequest& r) { r.fragility.notes = ""; }, kOk, ""},
      // Origin.
      {"origin unset", [](MtRequest& r) { r.origin = MtOrigin::kUnspecified; }, kInvalid,
       "mt_request.origin: must be set"},
      {"origin detail too long", [](MtRequest& r) { r.origin_detail = std::string(201, 'x'); },
       kInvalid, "mt_request.origin_detail: must be at most 200 characters"},
      {"origin detail newline", [](MtRequest& r) { r.origin_detail = "a\nb"; }, kInvalid,
       "mt_request.origin_detail: must not contain control characters"},
      // Consent.
      {"no consent", [](MtRequest& r) { r.consent.granted = false; },
       absl::StatusCode::kFailedPrecondition, "mt_request.consent: "},
      {"consent in the future",
       [](MtRequest& r) { r.consent.consent_time = kNow + absl::Minutes(6); }, kInvalid,
       "mt_request.consent.consent_time: must not be in the future"},
      {"consent with clock skew",
       [](MtRequest& r) { r.consent.consent_time = kNow + absl::Minutes(4); }, kOk, ""},
      {"consent at epoch", [](MtRequest& r) { r.consent.consent_time = absl::UnixEpoch(); },
       kInvalid, "mt_request.consent.consent_time: must not be before 2000"},
      {"consent yesterday", [](MtRequest& r) { r.consent.consent_time = kNow - absl::Hours(24); },
       kOk, ""},
      // A bad field is reported before the missing consent.
      {"no consent and bad phone",
       [](MtRequest& r) {
         r.consent.granted = false;
         r.contact.phone = "x";
       },
       kInvalid, "mt_request.contact.phone"},
  };
  for (const FieldCase& c : cases) {
    MtRequest r = ValidSubmission();
    c.mutate(r);
    const absl::Status s = NormalizeMtSubmission(r, kNow, kToday);
    if (c.code == absl::StatusCode::kOk) {
      EXPECT_THAT(s, IsOk()) << c.name;
    } else {
      EXPECT_THAT(s, StatusIs(c.code, c.message)) << c.name;
    }
  }
}

TEST(ParseDateTest, Table) {
  struct Case {
    int64_t y;
    int m;
    int d;
    const char* error;  // nullptr = valid
  };
  const Case cases[] = {
      {2024, 2, 29, nullptr},
      {2025, 12, 31, nullptr},
      {0, 0, 0, "f: must be set"},
      {2025, 2, 29, "f: is not a date (2025-2-29)"},
      {2025, 4, 31, "f: is not a date"},
      {2025, 13, 1, "f: month must be 1 to 12"},
      {2025, 0, 1, "f: month"},
      {2025, 1, 0, "f: day must be 1 to 31"},
      {2025, 1, 32, "f: day"},
      {0, 1, 1, "f: year must be 1 to 9999"},
      {10000, 1, 1, "f: year"},
  };
  for (const Case& c : cases) {
    const auto day = ParseDate(c.y, c.m, c.d, "f");
    if (c.error == nullptr) {
      ASSERT_THAT(day, IsOk());
      EXPECT_EQ(*day, absl::CivilDay(c.y, c.m, c.d));
    } else {
      EXPECT_THAT(day, StatusIs(absl::StatusCode::kInvalidArgument, c.error))
          << c.y << "-" << c.m << "-" << c.d;
    }
  }
}

TEST(WorkflowInputsTest, IdsReasonsSynthesis) {
  EXPECT_THAT(ValidateOptionalRequestId("", "request_id"), IsOk());
  EXPECT_THAT(ValidateOptionalRequestId("abc-123", "request_id"), IsOk());
  EXPECT_THAT(ValidateOptionalRequestId("a b", "request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: "));
  EXPECT_THAT(ValidateOptionalRequestId(std::string(129, 'a'), "request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: must be 1 to 128"));
  EXPECT_THAT(ValidateId("01HZX-abc_9", "mt_request_id"), IsOk());
  EXPECT_THAT(ValidateId("", "mt_request_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "mt_request_id: must not be empty"));
  EXPECT_THAT(ValidateId("a/b", "gp_member_id"),
              StatusIs(absl::StatusCode::kInvalidArgument, "gp_member_id: is not a valid id"));

  EXPECT_THAT(NormalizeSynthesis("  ligne 1\nligne 2 ", "synthesis"), IsOk());
  EXPECT_EQ(*NormalizeSynthesis("  ligne 1\nligne 2 ", "synthesis"), "ligne 1\nligne 2");
  EXPECT_THAT(NormalizeSynthesis(" ", "synthesis"),
              StatusIs(absl::StatusCode::kInvalidArgument, "synthesis: must not be empty"));
  EXPECT_THAT(NormalizeSynthesis(std::string(2001, 'x'), "synthesis"),
              StatusIs(absl::StatusCode::kInvalidArgument, "synthesis: must be at most 2000"));

  EXPECT_EQ(*NormalizeReason("", "reason", false), "");
  EXPECT_THAT(NormalizeReason("", "reason", true),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not be empty"));
  EXPECT_THAT(NormalizeReason(std::string(501, 'x'), "reason", false),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must be at most 500"));
  EXPECT_THAT(NormalizeReason("a\nb", "reason", false),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not contain control"));
}

TEST(PagingTest, SizesAndPeriods) {
  EXPECT_EQ(*MtPageSize(0, "page_size"), 50);
  EXPECT_EQ(*MtPageSize(7, "page_size"), 7);
  EXPECT_EQ(*MtPageSize(10000, "page_size"), 500);
  EXPECT_THAT(MtPageSize(-1, "page_size"),
              StatusIs(absl::StatusCode::kInvalidArgument, "page_size: must not be negative"));
  EXPECT_EQ(*MaxSuggestions(0, "max_suggestions"), 5);
  EXPECT_EQ(*MaxSuggestions(99, "max_suggestions"), 50);
  EXPECT_THAT(MaxSuggestions(-3, "max_suggestions"),
              StatusIs(absl::StatusCode::kInvalidArgument, "max_suggestions"));

  EXPECT_THAT(ValidatePeriod(kToday, kToday, "period"), IsOk());
  EXPECT_THAT(ValidatePeriod(absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 12, 31), "period"),
              IsOk());  // 366 days
  EXPECT_THAT(ValidatePeriod(absl::CivilDay(2024, 1, 1), absl::CivilDay(2025, 1, 1), "period"),
              StatusIs(absl::StatusCode::kInvalidArgument, "period.end_date: the period must be"));
  EXPECT_THAT(ValidatePeriod(kToday, kToday - 1, "period"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "period.end_date: must not be before start_date"));
}

GpCapacity ValidCapacity() {
  GpCapacity c;
  c.gp_member_id = "gp-1";
  c.declared_count = 10;
  c.valid_until = absl::CivilDay(2025, 12, 31);
  c.communes = {"77288", " 2b033 "};
  c.priority_classes = {PriorityClass::kP3Fragile, PriorityClass::kP1Ald};
  return c;
}

TEST(NormalizeGpCapacityTest, NormalisesAValidDeclaration) {
  GpCapacity c = ValidCapacity();
  ASSERT_THAT(NormalizeGpCapacity(c, kToday), IsOk());
  EXPECT_THAT(c.communes, ElementsAre("77288", "2B033"));
  EXPECT_THAT(c.priority_classes, ElementsAre(PriorityClass::kP1Ald, PriorityClass::kP3Fragile));
}

TEST(NormalizeGpCapacityTest, EveryFieldIsCheckedAndNamed) {
  struct Case {
    const char* name;
    std::function<void(GpCapacity&)> mutate;
    const char* message;  // nullptr = valid
  };
  const std::vector<Case> cases = {
      {"gp id empty is the caller", [](GpCapacity& c) { c.gp_member_id = ""; }, nullptr},
      {"gp id bad", [](GpCapacity& c) { c.gp_member_id = "g p"; },
       "gp_capacity.gp_member_id: is not a valid id"},
      {"count 0", [](GpCapacity& c) { c.declared_count = 0; }, nullptr},
      {"count 500", [](GpCapacity& c) { c.declared_count = 500; }, nullptr},
      {"count 501", [](GpCapacity& c) { c.declared_count = 501; },
       "gp_capacity.declared_count: must be 0 to 500"},
      {"count negative", [](GpCapacity& c) { c.declared_count = -1; },
       "gp_capacity.declared_count"},
      {"valid until today", [](GpCapacity& c) { c.valid_until = kToday; }, nullptr},
      {"valid until yesterday", [](GpCapacity& c) { c.valid_until = kToday - 1; },
       "gp_capacity.valid_until: must not be in the past"},
      {"valid 366 days", [](GpCapacity& c) { c.valid_until = kToday + 366; }, nullptr},
      {"valid 367 days", [](GpCapacity& c) { c.valid_until = kToday + 367; },
       "gp_capacity.valid_until: must be at most 366 days ahead"},
      {"no commune", [](GpCapacity& c) { c.communes.clear(); },
       "gp_capacity.communes: must not be empty"},
      {"51 communes", [](GpCapacity& c) { c.communes.assign(51, "77288"); },
       "gp_capacity.communes: must have at most 50"},
      {"bad commune", [](GpCapacity& c) { c.communes[1] = "20001"; },
       "gp_capacity.communes[1]: department 20 does not exist"},
      {"duplicate commune",
       [](GpCapacity& c) {
         c.communes = {"77288", "77001", "77288 "};
       },
       "gp_capacity.communes[2]: duplicates communes[0]"},
      {"no class", [](GpCapacity& c) { c.priority_classes.clear(); },
       "gp_capacity.priority_classes: must not be empty"},
      {"unspecified class",
       [](GpCapacity& c) { c.priority_classes.push_back(PriorityClass::kUnspecified); },
       "gp_capacity.priority_classes[2]: must be set"},
      {"duplicate class",
       [](GpCapacity& c) { c.priority_classes.push_back(PriorityClass::kP1Ald); },
       "gp_capacity.priority_classes[2]: duplicates priority_classes[1]"},
  };
  for (const Case& c : cases) {
    GpCapacity capacity = ValidCapacity();
    c.mutate(capacity);
    const absl::Status s = NormalizeGpCapacity(capacity, kToday);
    if (c.message == nullptr) {
      EXPECT_THAT(s, IsOk()) << c.name;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, c.message)) << c.name;
    }
  }
}

TEST(NormalizeTerritoryCommunesTest, NormalisesAndSortsByInseeCode) {
  auto out = NormalizeTerritoryCommunes(
      {{.insee_code = " 77296", .name = "  Moissy-Cramayel ", .postal_code = "77550 "},
       {.insee_code = "2b033", .name = "Bastia", .postal_code = "20200"},
       {.insee_code = "97411", .name = "Saint-Denis", .postal_code = "97400"}});
  ASSERT_THAT(out.status(), IsOk());
  EXPECT_THAT(
      *out,
      ElementsAre(
          TerritoryCommune{.insee_code = "2B033", .name = "Bastia", .postal_code = "20200"},
          TerritoryCommune{
              .insee_code = "77296", .name = "Moissy-Cramayel", .postal_code = "77550"},
          TerritoryCommune{.insee_code = "97411", .name = "Saint-Denis", .postal_code = "97400"}));
  auto none = NormalizeTerritoryCommunes({});
  ASSERT_THAT(none.status(), IsOk());
  EXPECT_TRUE(none->empty());
}

TEST(NormalizeTerritoryCommunesTest, EveryFieldIsCheckedAndNamed) {
  struct Case {
    const char* name;
    std::function<void(std::vector<TerritoryCommune>&)> mutate;
    const char* message;  // nullptr = valid
  };
  using Communes = std::vector<TerritoryCommune>;
  const std::vector<Case> cases = {
      {"insee empty", [](Communes& c) { c[1].insee_code = " "; },
       "territory.communes[1].insee_code: must not be empty"},
      {"insee 4 characters", [](Communes& c) { c[1].insee_code = "7729"; },
       "territory.communes[1].insee_code: must be 5 characters"},
      {"insee pre-1976 Corsica", [](Communes& c) { c[1].insee_code = "20004"; },
       "territory.communes[1].insee_code: department 20 does not exist"},
      {"insee 2C", [](Communes& c) { c[1].insee_code = "2C004"; },
       "territory.communes[1].insee_code"},
      {"insee a postcode", [](Communes& c) { c[1].insee_code = "75000"; },
       "territory.communes[1].insee_code"},
      {"insee duplicate", [](Communes& c) { c[1].insee_code = "2a004"; },
       "territory.communes[1].insee_code: duplicates communes[0]"},
      {"name empty", [](Communes& c) { c[0].name = "  "; }, "territory.communes[0].name"},
      {"name 100 characters", [](Communes& c) { c[0].name = std::string(100, 'e'); }, nullptr},
      {"name 101 characters", [](Communes& c) { c[0].name = std::string(101, 'e'); },
       "territory.communes[0].name"},
      {"name 100 accented characters",
       [](Communes& c) {
         c[0].name.clear();
         for (int i = 0; i < 100; ++i) c[0].name += "é";
       },
       nullptr},
      {"name two lines", [](Communes& c) { c[0].name = "Moissy\nCramayel"; },
       "territory.communes[0].name"},
      {"name not UTF-8", [](Communes& c) { c[0].name = "Moissy\xff"; },
       "territory.communes[0].name"},
      {"postal empty", [](Communes& c) { c[1].postal_code = ""; },
       "territory.communes[1].postal_code: must be 5 digits"},
      {"postal 4 digits", [](Communes& c) { c[1].postal_code = "7755"; },
       "territory.communes[1].postal_code: must be 5 digits"},
      {"postal 6 digits", [](Communes& c) { c[1].postal_code = "775500"; },
       "territory.communes[1].postal_code: must be 5 digits"},
      {"postal letters", [](Communes& c) { c[1].postal_code = "2A000"; },
       "territory.communes[1].postal_code: must be 5 digits"},
      {"postal inner space", [](Communes& c) { c[1].postal_code = "77 550"; },
       "territory.communes[1].postal_code: must be 5 digits"},
      {"2000 communes",
       [](Communes& c) {
         c.clear();
         c.reserve(kMaxTerritoryCommunes);
         for (int i = 1; i <= kMaxTerritoryCommunes; ++i) {
           // Departments 10 to 12, communes 001 to 999: all distinct and valid.
           c.push_back({.insee_code = absl::StrCat(10 + (i - 1) / 999,
                                                   absl::Dec((i - 1) % 999 + 1, absl::kZeroPad3)),
                        .name = "X",
                        .postal_code = "01000"});
         }
       },
       nullptr},
      {"2001 communes", [](Communes& c) { c.assign(kMaxTerritoryCommunes + 1, c[0]); },
       "territory.communes: at most 2000 communes, got 2001"},
  };
  for (const Case& c : cases) {
    Communes communes = {
        {.insee_code = "2A004", .name = "Ajaccio", .postal_code = "20000"},
        {.insee_code = "77296", .name = "Moissy-Cramayel", .postal_code = "77550"}};
    c.mutate(communes);
    const absl::Status s = NormalizeTerritoryCommunes(communes).status();
    if (c.message == nullptr) {
      EXPECT_THAT(s, IsOk()) << c.name;
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, c.message)) << c.name;
    }
  }
}

TEST(DuplicateKeyTest, SamePatientDespiteCaseAccentsAndSpacing) {
  MtRequest a = ValidSubmission();
  ASSERT_THAT(NormalizeMtSubmission(a, kNow, kToday), IsOk());
  MtRequest b = a;
  b.patient.given_name = "JEANNE  MARIE";
  b.patient.family_name = "Mártin";
  b.contact.phone = "+33700000000";  // contact does not matter
  EXPECT_EQ(MtDuplicateKeyMaterial(a), MtDuplicateKeyMaterial(b));

  MtRequest other_day = a;
  other_day.patient.birth_date = absl::CivilDay(1950, 2, 2);
  EXPECT_NE(MtDuplicateKeyMaterial(a), MtDuplicateKeyMaterial(other_day));
  MtRequest other_commune = a;
  other_commune.commune_insee = "77288";
  EXPECT_NE(MtDuplicateKeyMaterial(a), MtDuplicateKeyMaterial(other_commune));
  // Length prefixes: moving text between the names changes the key.
  MtRequest shifted = a;
  shifted.patient.family_name = "martinj";
  shifted.patient.given_name = "eanne marie";
  EXPECT_NE(MtDuplicateKeyMaterial(a), MtDuplicateKeyMaterial(shifted));
}

}  // namespace
}  // namespace cpts::access
