#include "services/access/fhir_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

absl::TimeZone Paris() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Paris", &zone));
  return zone;
}

FhirParseOptions ParisOptions(bool strict = false) {
  FhirParseOptions options;
  options.local_zone = Paris();
  options.strict = strict;
  return options;
}

absl::Time Utc(int year, int month, int day, int hour, int minute, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

constexpr char kIds[] =
    "schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|810002909371";

// --- parsing: good queries -------------------------------------------------------------

TEST(ParseFhirSlotQueryTest, TheGuidesCptsExample) {
  // specifications_techniques-cpts-recherche_creneaux.md, "Exemple de requête", verbatim.
  const FhirSlotQueryParse parse = ParseFhirSlotQuery(
      "_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-"
      "reference&_include:iterate=HealthcareService:organization&start=ge2024-06-12T16:20:00."
      "000+02:00&start=le2024-06-15T16:20:00.000+02:00&schedule.actor:Practitioner.identifier="
      "urn:oid:1.2.250.1.71.4.2.1|810002909371,urn:oid:1.2.250.1.71.4.2.1|810001288385&status="
      "free",
      ParisOptions());
  ASSERT_TRUE(parse.ok()) << parse.errors[0].diagnostics;
  const FhirSlotQuery& q = parse.query;
  EXPECT_EQ(q.start_from, Utc(2024, 6, 12, 14, 20));
  EXPECT_EQ(q.start_to, Utc(2024, 6, 15, 14, 20));
  EXPECT_THAT(q.rpps, ElementsAre("10001288385", "10002909371"));
  EXPECT_THAT(q.adeli, IsEmpty());
  EXPECT_TRUE(q.include_schedule);
  EXPECT_TRUE(q.include_practitioner);
  EXPECT_TRUE(q.include_practitioner_role);
  EXPECT_TRUE(q.include_healthcare_service);
  EXPECT_TRUE(q.include_organization);
  EXPECT_EQ(q.count, kFhirMaxCount);
  EXPECT_EQ(q.self_query,
            "_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-"
            "reference&_include:iterate=HealthcareService:organization&start=ge2024-06-12T16:20:"
            "00.000%2B02:00&start=le2024-06-15T16:20:00.000%2B02:00&schedule.actor:Practitioner."
            "identifier=urn:oid:1.2.250.1.71.4.2.1%7C810001288385,urn:oid:1.2.250.1.71.4.2.1%"
            "7C810002909371&status=free");
}

TEST(ParseFhirSlotQueryTest, ThePsIndivExampleWithLocalTimesAndSpaces) {
  // specifications_techniques-ps-recherche_creneaux.md: no offset, a space after a comma.
  const FhirSlotQueryParse parse = ParseFhirSlotQuery(
      "_include=Slot:schedule&_include:iterate=Schedule:actor&start=ge2021-01-02T10:00:00&start="
      "le2021-01-06T10:00:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1|"
      "810101288385, urn:oid:1.2.250.1.71.4.2.1|800001288385,urn:oid:1.2.250.1.71.4.2.1|"
      "810106738385&status=free",
      ParisOptions());
  ASSERT_TRUE(parse.ok()) << parse.errors[0].diagnostics;
  EXPECT_EQ(parse.query.start_from, Utc(2021, 1, 2, 9, 0));  // Paris is UTC+1 in winter
  EXPECT_EQ(parse.query.start_to, Utc(2021, 1, 6, 9, 0));
  EXPECT_THAT(parse.query.rpps, ElementsAre("00001288385", "10101288385", "10106738385"));
  EXPECT_FALSE(parse.query.include_healthcare_service);
}

TEST(ParseFhirSlotQueryTest, VariantsTheParserAccepts) {
  struct Case {
    const char* name;
    std::string query;
    absl::Time from;
    absl::Time to;
    std::vector<std::string> rpps;
    std::vector<std::string> adeli;
  };
  const std::vector<Case> cases = {
      {"percent-encoded",
       "start=ge2025-03-11T08%3A00%3A00%2B01%3A00&start=le2025-03-14T08:00:00Z&schedule.actor%"
       "3APractitioner.identifier=urn%3Aoid%3A1.2.250.1.71.4.2.1%7C810002909371&status=free",
       Utc(2025, 3, 11, 7, 0),
       Utc(2025, 3, 14, 8, 0),
       {"10002909371"},
       {}},
      {"a decoded '+' read as a space",
       absl::StrCat("start=ge2025-03-11T08:00:00 01:00&start=le2025-03-11T20:00-01:00&", kIds,
                    "&status=free"),
       Utc(2025, 3, 11, 7, 0),
       Utc(2025, 3, 11, 21, 0),
       {"10002909371"},
       {}},
      {"whole local days",
       absl::StrCat("start=ge2025-03-11&start=le2025-03-12&", kIds, "&status=free"),
       Utc(2025, 3, 10, 23, 0),
       Utc(2025, 3, 12, 23, 0) - absl::Microseconds(1),
       {"10002909371"},
       {}},
      {"fractions and no system, bare RPPS and ADELI",
       "start=ge2025-03-11T08:00:00.5Z&start=le2025-03-11T09:00:00.123456789Z&"
       "schedule.actor:Practitioner.identifier=10002909371,|0771234567,810002909371&status=free",
       Utc(2025, 3, 11, 8, 0) + absl::Milliseconds(500),
       Utc(2025, 3, 11, 9, 0) + absl::Nanoseconds(123456789),
       {"10002909371"},
       {"771234567"}},
      {"le before ge in the query, same day",
       absl::StrCat("status=free&", kIds, "&start=le2025-03-11T10:00Z&start=ge2025-03-11T10:00Z"),
       Utc(2025, 3, 11, 10, 0),
       Utc(2025, 3, 11, 10, 0),
       {"10002909371"},
       {}},
  };
  for (const Case& c : cases) {
    const FhirSlotQueryParse parse = ParseFhirSlotQuery(c.query, ParisOptions());
    ASSERT_TRUE(parse.ok()) << c.name << ": " << parse.errors[0].diagnostics;
    EXPECT_EQ(parse.query.start_from, c.from) << c.name;
    EXPECT_EQ(parse.query.start_to, c.to) << c.name;
    EXPECT_EQ(parse.query.rpps, c.rpps) << c.name;
    EXPECT_EQ(parse.query.adeli, c.adeli) << c.name;
  }
}

TEST(ParseFhirSlotQueryTest, CountFormatAndUnknownParameters) {
  const std::string base =
      absl::StrCat("start=ge2025-03-11&start=le2025-03-12&", kIds, "&status=free");
  FhirSlotQueryParse parse = ParseFhirSlotQuery(
      absl::StrCat(base, "&_count=20&_format=application/fhir%2Bjson&_summary=false&foo=bar"),
      ParisOptions());
  ASSERT_TRUE(parse.ok());
  EXPECT_EQ(parse.query.count, 20);
  // Unknown parameters are ignored and the self link does not claim them.
  EXPECT_THAT(parse.query.self_query, HasSubstr("&status=free&_count=20"));
  EXPECT_THAT(parse.query.self_query, Not(HasSubstr("foo")));
  EXPECT_THAT(parse.query.self_query, Not(HasSubstr("_summary")));

  parse =
      ParseFhirSlotQuery(absl::StrCat(base, "&_count=5000&_include=Slot:unknown"), ParisOptions());
  ASSERT_TRUE(parse.ok());
  EXPECT_EQ(parse.query.count, kFhirMaxCount);
  EXPECT_FALSE(parse.query.include_schedule);

  parse = ParseFhirSlotQuery(
      absl::StrCat(base, "&_include=Slot:schedule&_include:iterate=Schedule:actor:Practitioner"),
      ParisOptions());
  ASSERT_TRUE(parse.ok());
  EXPECT_TRUE(parse.query.include_practitioner);
  EXPECT_FALSE(parse.query.include_practitioner_role);
  EXPECT_THAT(parse.query.self_query,
              HasSubstr("_include=Slot:schedule&_include:iterate=Schedule:actor:Practitioner&"));
}

// --- parsing: bad queries --------------------------------------------------------------

TEST(ParseFhirSlotQueryTest, EachErrorNamesItsParameter) {
  const std::string start = "start=ge2025-03-11T08:00Z&start=le2025-03-14T08:00Z";
  const std::string ids = kIds;
  const std::string ok = absl::StrCat(start, "&", ids, "&status=free");
  std::vector<std::string> too_many;
  too_many.reserve(26);
  for (int i = 0; i < 26; ++i) {
    too_many.push_back(absl::StrCat("urn:oid:1.2.250.1.71.4.2.1|8", 10000000000LL + i));
  }
  struct Case {
    const char* name;
    std::string query;
    std::string parameter;
    std::string problem;
    bool strict = false;
  };
  const std::vector<Case> cases = {
      {"no start", absl::StrCat(ids, "&status=free"), "start", "required twice"},
      {"only ge", absl::StrCat("start=ge2025-03-11T08:00Z&", ids, "&status=free"), "start",
       "required twice"},
      {"gt",
       absl::StrCat("start=gt2025-03-11T08:00Z&start=le2025-03-14T08:00Z&", ids, "&status=free"),
       "start", "prefix 'gt' is not supported"},
      {"no prefix",
       absl::StrCat("start=2025-03-11&start=le2025-03-14T08:00Z&", ids, "&status=free"), "start",
       "needs the prefix ge or le"},
      {"impossible date",
       absl::StrCat("start=ge2025-02-30&start=le2025-03-14T08:00Z&", ids, "&status=free"), "start",
       "is not a valid date"},
      {"bad time",
       absl::StrCat("start=ge2025-03-11T25:00Z&start=le2025-03-14T08:00Z&", ids, "&status=free"),
       "start", "not a valid time"},
      {"year only", absl::StrCat("start=ge2025&start=le2025-03-14T08:00Z&", ids, "&status=free"),
       "start", "give at least a day"},
      {"garbage", absl::StrCat("start=getomorrow&start=le2025-03-14T08:00Z&", ids, "&status=free"),
       "start", "is not a FHIR date"},
      {"ge twice", absl::StrCat(start, "&start=ge2025-03-12T08:00Z&", ids, "&status=free"), "start",
       "'ge' given twice"},
      {"le before ge",
       absl::StrCat("start=ge2025-03-14T08:00Z&start=le2025-03-11T08:00Z&", ids, "&status=free"),
       "start", "the le bound is before the ge bound"},
      {"window too long",
       absl::StrCat("start=ge2025-03-01&start=le2025-04-01&", ids, "&status=free"), "start",
       "must not exceed 31 days"},
      {"no identifier", absl::StrCat(start, "&status=free"),
       "schedule.actor:Practitioner.identifier", "required"},
      {"other system",
       absl::StrCat(start, "&schedule.actor:Practitioner.identifier=urn:oid:1.2.3|810002909371",
                    "&status=free"),
       "schedule.actor:Practitioner.identifier", "system 'urn:oid:1.2.3' is not supported"},
      {"not a national id",
       absl::StrCat(start, "&schedule.actor:Practitioner.identifier=12345&status=free"),
       "schedule.actor:Practitioner.identifier", "'12345' is not a national identifier"},
      {"empty list", absl::StrCat(start, "&schedule.actor:Practitioner.identifier=&status=free"),
       "schedule.actor:Practitioner.identifier", "empty identifier"},
      {"26 identifiers",
       absl::StrCat(start, "&schedule.actor:Practitioner.identifier=", absl::StrJoin(too_many, ","),
                    "&status=free"),
       "schedule.actor:Practitioner.identifier", "at most 25"},
      {"identifier twice", absl::StrCat(ok, "&", ids), "schedule.actor:Practitioner.identifier",
       "give it once"},
      {"no status", absl::StrCat(start, "&", ids), "status", "required: status=free"},
      {"busy", absl::StrCat(start, "&", ids, "&status=busy"), "status", "'busy' is not supported"},
      {"count not a number", absl::StrCat(ok, "&_count=ten"), "_count", "'ten' is not a number"},
      {"negative count", absl::StrCat(ok, "&_count=-1"), "_count", "is not a number"},
      {"xml", absl::StrCat(ok, "&_format=xml"), "_format", "JSON only"},
      {"bad escape", absl::StrCat(ok, "&_count=%2"), "_count", "malformed percent-encoding"},
      {"empty include", absl::StrCat(ok, "&_include="), "_include", "a value is required"},
      {"strict: unknown parameter", absl::StrCat(ok, "&foo=bar"), "foo", "unknown search parameter",
       true},
      {"strict: unknown include", absl::StrCat(ok, "&_include:iterate=Slot:foo"),
       "_include:iterate", "'Slot:foo' is not supported", true},
  };
  for (const Case& c : cases) {
    const FhirSlotQueryParse parse = ParseFhirSlotQuery(c.query, ParisOptions(c.strict));
    ASSERT_FALSE(parse.ok()) << c.name;
    bool found = false;
    for (const FhirIssue& issue : parse.errors) {
      if (issue.parameter == c.parameter && issue.diagnostics.rfind(c.parameter + ": ", 0) == 0 &&
          issue.diagnostics.find(c.problem) != std::string::npos) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << c.name << ": got " << parse.errors[0].diagnostics;
  }
}

TEST(ParseFhirSlotQueryTest, ReportsEveryProblemAtOnce) {
  const FhirSlotQueryParse parse =
      ParseFhirSlotQuery("start=gt2025-03-11&status=busy&_count=x", ParisOptions());
  std::vector<std::string> parameters;
  for (const FhirIssue& issue : parse.errors) parameters.push_back(issue.parameter);
  EXPECT_THAT(parameters, ElementsAre("start", "status", "_count", "start",
                                      "schedule.actor:Practitioner.identifier"));
}

// --- the bundle ------------------------------------------------------------------------

Slot MakeSlot(const std::string& id, const std::string& professional, absl::Time start, int minutes,
              ConsultationMode mode, Visibility visibility, SlotKind kind = SlotKind::kBookable) {
  Slot s;
  s.id = id;
  s.tenant_id = "cpts-senart";
  s.professional_member_id = professional;
  s.start = start;
  s.duration = absl::Minutes(minutes);
  s.mode = mode;
  if (mode == ConsultationMode::kOffice) s.place = {"77296", "2 rue de la Gare"};
  if (mode == ConsultationMode::kHome) s.place = {"77296", ""};
  s.visibility = visibility;
  s.kind = kind;
  s.status = SlotStatus::kFree;
  return s;
}

FhirBundleContext Context() {
  FhirBundleContext c;
  c.base_url = "https://cpts.example.fr/fhir";
  c.bundle_id = "b-0001";
  c.last_updated = Utc(2025, 3, 10, 8, 0);
  c.cpts = {"cpts-senart", "770012345", "CPTS Sénart", "+33160000000"};
  c.practitioners["dr-a"] = {"dr-a", "10002909371", "Foret", "Pierre", "MEDECIN_GENERALISTE"};
  c.practitioners["ide-b"] = {"ide-b", "10001288385", "Martin", "Julie", "INFIRMIER"};
  c.communes["77296"] = {"77550", "Moissy-Cramayel"};
  c.booking_url_template = "https://agenda.example.fr/snp/{member_id}?slot={slot_id}";
  c.pretty = true;
  return c;
}

std::vector<Slot> Fixture() {
  return {
      MakeSlot("s-2", "dr-a", Utc(2025, 3, 11, 9, 30), 15, ConsultationMode::kVideo,
               Visibility::kSnp),
      MakeSlot("s-1", "dr-a", Utc(2025, 3, 11, 9, 0), 20, ConsultationMode::kOffice,
               Visibility::kPublic),
      MakeSlot("s-3", "ide-b", Utc(2025, 3, 11, 8, 0), 120, ConsultationMode::kHome,
               Visibility::kPro, SlotKind::kWalkIn),
  };
}

FhirSlotQuery FixtureQuery() {
  const FhirSlotQueryParse parse = ParseFhirSlotQuery(
      "_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-"
      "reference&_include:iterate=HealthcareService:organization&start=ge2025-03-11T08:00:00."
      "000+01:00&start=le2025-03-14T08:00:00.000+01:00&schedule.actor:Practitioner.identifier="
      "urn:oid:1.2.250.1.71.4.2.1|810002909371,urn:oid:1.2.250.1.71.4.2.1|810001288385&status="
      "free&_count=1000",
      ParisOptions());
  EXPECT_TRUE(parse.ok());
  return parse.query;
}

// The whole answer for a small fixture: one GP with an office slot and a teleconsultation
// slot (two agendas), one nurse with a walk-in home-visit slot.
constexpr char kGoldenBundle[] = R"json({
  "resourceType": "Bundle",
  "id": "b-0001",
  "meta": {
    "lastUpdated": "2025-03-10T08:00:00Z",
    "profile": [
      "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-bundle-aggregator"
    ]
  },
  "type": "searchset",
  "total": 3,
  "link": [
    {
      "relation": "self",
      "url": "https://cpts.example.fr/fhir/Slot?_include=Slot:schedule&_include:iterate=Schedule:actor&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization&start=ge2025-03-11T08:00:00.000%2B01:00&start=le2025-03-14T08:00:00.000%2B01:00&schedule.actor:Practitioner.identifier=urn:oid:1.2.250.1.71.4.2.1%7C810001288385,urn:oid:1.2.250.1.71.4.2.1%7C810002909371&status=free&_count=1000"
    }
  ],
  "entry": [
    {
      "fullUrl": "https://cpts.example.fr/fhir/Slot/s-3",
      "resource": {
        "resourceType": "Slot",
        "id": "s-3",
        "meta": {
          "profile": [
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator"
          ],
          "security": [
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "PRO"
            },
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "SNP"
            },
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "CPTS"
            }
          ]
        },
        "serviceType": [
          {
            "coding": [
              {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "HH"
              }
            ]
          },
          {
            "extension": [
              {
                "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
                "valueReference": {
                  "reference": "HealthcareService/cpts-senart-snp"
                }
              }
            ],
            "coding": [
              {
                "system": "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement",
                "code": "604"
              }
            ]
          }
        ],
        "appointmentType": {
          "coding": [
            {
              "system": "http://terminology.hl7.org/CodeSystem/v2-0276",
              "code": "WALKIN"
            }
          ]
        },
        "schedule": {
          "reference": "Schedule/ide-b-26f90cb3d8f4"
        },
        "status": "free",
        "start": "2025-03-11T08:00:00Z",
        "end": "2025-03-11T10:00:00Z",
        "comment": "https://agenda.example.fr/snp/ide-b?slot=s-3"
      },
      "search": {
        "mode": "match"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Slot/s-1",
      "resource": {
        "resourceType": "Slot",
        "id": "s-1",
        "meta": {
          "profile": [
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator"
          ],
          "security": [
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "PUBLIC"
            },
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "PRO"
            },
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "SNP"
            },
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "CPTS"
            }
          ]
        },
        "serviceType": [
          {
            "coding": [
              {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB"
              }
            ]
          },
          {
            "extension": [
              {
                "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
                "valueReference": {
                  "reference": "HealthcareService/cpts-senart-snp"
                }
              }
            ],
            "coding": [
              {
                "system": "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement",
                "code": "604"
              }
            ]
          }
        ],
        "specialty": [
          {
            "coding": [
              {
                "system": "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
                "code": "SM54"
              }
            ]
          }
        ],
        "appointmentType": {
          "coding": [
            {
              "system": "http://terminology.hl7.org/CodeSystem/v2-0276",
              "code": "ROUTINE"
            }
          ]
        },
        "schedule": {
          "reference": "Schedule/dr-a-e7c52a4b0d8c"
        },
        "status": "free",
        "start": "2025-03-11T09:00:00Z",
        "end": "2025-03-11T09:20:00Z",
        "comment": "https://agenda.example.fr/snp/dr-a?slot=s-1"
      },
      "search": {
        "mode": "match"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Slot/s-2",
      "resource": {
        "resourceType": "Slot",
        "id": "s-2",
        "meta": {
          "profile": [
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-slot-aggregator"
          ],
          "security": [
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "SNP"
            },
            {
              "system": "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau",
              "code": "CPTS"
            }
          ]
        },
        "serviceType": [
          {
            "coding": [
              {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "VR"
              }
            ]
          },
          {
            "extension": [
              {
                "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Slot.serviceType",
                "valueReference": {
                  "reference": "HealthcareService/cpts-senart-snp"
                }
              }
            ],
            "coding": [
              {
                "system": "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement",
                "code": "604"
              }
            ]
          }
        ],
        "specialty": [
          {
            "coding": [
              {
                "system": "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
                "code": "SM54"
              }
            ]
          }
        ],
        "appointmentType": {
          "coding": [
            {
              "system": "http://terminology.hl7.org/CodeSystem/v2-0276",
              "code": "ROUTINE"
            }
          ]
        },
        "schedule": {
          "reference": "Schedule/dr-a-c36a8b51a75f"
        },
        "status": "free",
        "start": "2025-03-11T09:30:00Z",
        "end": "2025-03-11T09:45:00Z",
        "comment": "https://agenda.example.fr/snp/dr-a?slot=s-2"
      },
      "search": {
        "mode": "match"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Schedule/dr-a-c36a8b51a75f",
      "resource": {
        "resourceType": "Schedule",
        "id": "dr-a-c36a8b51a75f",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"
          ]
        },
        "actor": [
          {
            "reference": "Practitioner/dr-a"
          },
          {
            "reference": "PractitionerRole/dr-a-c36a8b51a75f"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Schedule/dr-a-e7c52a4b0d8c",
      "resource": {
        "resourceType": "Schedule",
        "id": "dr-a-e7c52a4b0d8c",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"
          ]
        },
        "actor": [
          {
            "reference": "Practitioner/dr-a"
          },
          {
            "reference": "PractitionerRole/dr-a-e7c52a4b0d8c"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Schedule/ide-b-26f90cb3d8f4",
      "resource": {
        "resourceType": "Schedule",
        "id": "ide-b-26f90cb3d8f4",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrScheduleAgregateur"
          ]
        },
        "actor": [
          {
            "reference": "Practitioner/ide-b"
          },
          {
            "reference": "PractitionerRole/ide-b-26f90cb3d8f4"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Practitioner/dr-a",
      "resource": {
        "resourceType": "Practitioner",
        "id": "dr-a",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"
          ]
        },
        "identifier": [
          {
            "type": {
              "coding": [
                {
                  "system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                  "code": "IDNPS"
                }
              ]
            },
            "system": "urn:oid:1.2.250.1.71.4.2.1",
            "value": "810002909371"
          }
        ],
        "name": [
          {
            "family": "Foret",
            "given": [
              "Pierre"
            ]
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Practitioner/ide-b",
      "resource": {
        "resourceType": "Practitioner",
        "id": "ide-b",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrPractitionerAgregateur"
          ]
        },
        "identifier": [
          {
            "type": {
              "coding": [
                {
                  "system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                  "code": "IDNPS"
                }
              ]
            },
            "system": "urn:oid:1.2.250.1.71.4.2.1",
            "value": "810001288385"
          }
        ],
        "name": [
          {
            "family": "Martin",
            "given": [
              "Julie"
            ]
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/PractitionerRole/dr-a-c36a8b51a75f",
      "resource": {
        "resourceType": "PractitionerRole",
        "id": "dr-a-c36a8b51a75f",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"
          ]
        },
        "contained": [
          {
            "resourceType": "Location",
            "id": "loc",
            "meta": {
              "profile": [
                "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"
              ]
            },
            "identifier": [
              {
                "type": {
                  "coding": [
                    {
                      "system": "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",
                      "code": "INTRN"
                    }
                  ]
                },
                "system": "https://cpts.example.fr/fhir",
                "value": "c36a8b51a75fc34c"
              }
            ],
            "name": "Téléconsultation"
          }
        ],
        "practitioner": {
          "reference": "Practitioner/dr-a"
        },
        "location": [
          {
            "reference": "#loc"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/PractitionerRole/dr-a-e7c52a4b0d8c",
      "resource": {
        "resourceType": "PractitionerRole",
        "id": "dr-a-e7c52a4b0d8c",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"
          ]
        },
        "contained": [
          {
            "resourceType": "Location",
            "id": "loc",
            "meta": {
              "profile": [
                "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"
              ]
            },
            "identifier": [
              {
                "type": {
                  "coding": [
                    {
                      "system": "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",
                      "code": "INTRN"
                    }
                  ]
                },
                "system": "https://cpts.example.fr/fhir",
                "value": "e7c52a4b0d8c17f3"
              }
            ],
            "address": {
              "line": [
                "2 rue de la Gare"
              ],
              "city": "Moissy-Cramayel",
              "postalCode": "77550"
            }
          }
        ],
        "practitioner": {
          "reference": "Practitioner/dr-a"
        },
        "location": [
          {
            "reference": "#loc"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/PractitionerRole/ide-b-26f90cb3d8f4",
      "resource": {
        "resourceType": "PractitionerRole",
        "id": "ide-b-26f90cb3d8f4",
        "meta": {
          "profile": [
            "http://sas.fr/fhir/StructureDefinition/FrPractitionerRoleExerciceAgregateur"
          ]
        },
        "contained": [
          {
            "resourceType": "Location",
            "id": "loc",
            "meta": {
              "profile": [
                "http://sas.fr/fhir/StructureDefinition/FrLocationAgregateur"
              ]
            },
            "identifier": [
              {
                "type": {
                  "coding": [
                    {
                      "system": "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",
                      "code": "INTRN"
                    }
                  ]
                },
                "system": "https://cpts.example.fr/fhir",
                "value": "26f90cb3d8f4671d"
              }
            ],
            "name": "Visites à domicile",
            "address": {
              "city": "Moissy-Cramayel",
              "postalCode": "77550"
            }
          }
        ],
        "practitioner": {
          "reference": "Practitioner/ide-b"
        },
        "location": [
          {
            "reference": "#loc"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/HealthcareService/cpts-senart-snp",
      "resource": {
        "resourceType": "HealthcareService",
        "id": "cpts-senart-snp",
        "meta": {
          "profile": [
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-healthcareservice-aggregator"
          ]
        },
        "providedBy": {
          "reference": "Organization/cpts-senart"
        }
      },
      "search": {
        "mode": "include"
      }
    },
    {
      "fullUrl": "https://cpts.example.fr/fhir/Organization/cpts-senart",
      "resource": {
        "resourceType": "Organization",
        "id": "cpts-senart",
        "meta": {
          "profile": [
            "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-organization-aggregator"
          ]
        },
        "identifier": [
          {
            "type": {
              "coding": [
                {
                  "system": "http://interopsante.org/fhir/CodeSystem/fr-location-identifier-type",
                  "code": "IDNST"
                }
              ]
            },
            "system": "urn:oid:1.2.250.1.71.4.2.2",
            "value": "1770012345"
          }
        ],
        "name": "CPTS Sénart",
        "telecom": [
          {
            "system": "phone",
            "value": "+33160000000"
          }
        ]
      },
      "search": {
        "mode": "include"
      }
    }
  ]
})json";

TEST(FhirSlotBundleTest, Golden) {
  absl::StatusOr<std::string> json = FhirSlotBundleJson(FixtureQuery(), Fixture(), 3, Context());
  ASSERT_THAT(json, IsOk());
  EXPECT_EQ(*json, kGoldenBundle);
}

TEST(FhirSlotBundleTest, DeterministicWhateverTheInputOrder) {
  std::vector<Slot> slots = Fixture();
  absl::StatusOr<std::string> first = FhirSlotBundleJson(FixtureQuery(), slots, 3, Context());
  std::reverse(slots.begin(), slots.end());
  absl::StatusOr<std::string> second = FhirSlotBundleJson(FixtureQuery(), slots, 3, Context());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(*first, *second);
  FhirBundleContext compact = Context();
  compact.pretty = false;
  absl::StatusOr<std::string> dense = FhirSlotBundleJson(FixtureQuery(), slots, 3, compact);
  ASSERT_THAT(dense, IsOk());
  EXPECT_THAT(*dense, Not(HasSubstr("\n")));
  EXPECT_THAT(*dense, HasSubstr(R"("type":"searchset","total":3,)"));
}

TEST(FhirSlotBundleTest, EmptyResult) {
  FhirBundleContext context = Context();
  context.pretty = false;
  absl::StatusOr<std::string> json = FhirSlotBundleJson(FixtureQuery(), {}, 0, context);
  ASSERT_THAT(json, IsOk());
  EXPECT_EQ(
      *json,
      absl::StrCat(
          R"({"resourceType":"Bundle","id":"b-0001","meta":{"lastUpdated":"2025-03-10T08:00:00Z",)",
          R"("profile":["https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/)",
          R"(sas-cpts-bundle-aggregator"]},"type":"searchset","total":0,"link":[{"relation":)",
          R"("self","url":"https://cpts.example.fr/fhir/Slot?)", FixtureQuery().self_query,
          R"("}]})"));
}

TEST(FhirSlotBundleTest, IncludesAndCount) {
  FhirSlotQuery query = FixtureQuery();
  query.include_schedule = false;  // nothing to iterate from: no actors either
  query.include_healthcare_service = false;
  query.count = 2;
  FhirBundleContext context = Context();
  context.pretty = false;
  absl::StatusOr<std::string> json = FhirSlotBundleJson(query, Fixture(), 3, context);
  ASSERT_THAT(json, IsOk());
  EXPECT_THAT(*json, HasSubstr(R"("total":3)"));
  EXPECT_THAT(*json, HasSubstr(R"("resourceType":"Slot","id":"s-3")"));
  EXPECT_THAT(*json, HasSubstr(R"("resourceType":"Slot","id":"s-1")"));
  EXPECT_THAT(*json, Not(HasSubstr(R"("id":"s-2")")));  // third by start: beyond _count
  for (const char* type : {"Schedule", "Practitioner\"", "PractitionerRole", "HealthcareService\"",
                           "Organization\""}) {
    EXPECT_THAT(*json, Not(HasSubstr(absl::StrCat(R"("resourceType":")", type)))) << type;
  }
}

// FrLocationAgregateur: an office Location has the address line, city and postal code from
// the territory's communes; a commune missing there leaves the line alone (and a home visit,
// which has no line, no address at all), never an empty element.
TEST(FhirSlotBundleTest, LocationAddressFromTheTerritoryCommunes) {
  FhirBundleContext context = Context();
  context.pretty = false;
  absl::StatusOr<std::string> known = FhirSlotBundleJson(FixtureQuery(), Fixture(), 3, context);
  ASSERT_THAT(known, IsOk());
  EXPECT_THAT(*known, HasSubstr(R"("address":{"line":["2 rue de la Gare"],)"
                                R"("city":"Moissy-Cramayel","postalCode":"77550"})"));
  EXPECT_THAT(*known, HasSubstr(R"("name":"Visites à domicile","address":{)"
                                R"("city":"Moissy-Cramayel","postalCode":"77550"})"));

  context.communes.clear();
  context.communes["77251"] = {"77127", "Lieusaint"};  // another commune: no match
  absl::StatusOr<std::string> unknown = FhirSlotBundleJson(FixtureQuery(), Fixture(), 3, context);
  ASSERT_THAT(unknown, IsOk());
  EXPECT_THAT(*unknown, HasSubstr(R"("address":{"line":["2 rue de la Gare"]}})"));
  EXPECT_THAT(*unknown, HasSubstr(R"("name":"Visites à domicile"})"));
  EXPECT_THAT(*unknown, Not(HasSubstr("postalCode")));
  EXPECT_THAT(*unknown, Not(HasSubstr("Lieusaint")));
}

TEST(FhirSlotBundleTest, RefusesWhatMustNotBePublished) {
  std::vector<Slot> booked = Fixture();
  booked[0].status = SlotStatus::kBooked;
  EXPECT_THAT(FhirSlotBundleJson(FixtureQuery(), booked, 3, Context()),
              StatusIs(absl::StatusCode::kInternal, "only FREE slots"));
  std::vector<Slot> stranger = Fixture();
  stranger[0].professional_member_id = "nobody";
  EXPECT_THAT(FhirSlotBundleJson(FixtureQuery(), stranger, 3, Context()),
              StatusIs(absl::StatusCode::kInternal, "not in the context"));
  FhirBundleContext no_rpps = Context();
  no_rpps.practitioners["dr-a"].rpps = "";
  EXPECT_THAT(FhirSlotBundleJson(FixtureQuery(), Fixture(), 3, no_rpps),
              StatusIs(absl::StatusCode::kInternal, "no valid RPPS"));
}

TEST(FhirSlotTypeCodesTest, NestedLevels) {
  EXPECT_THAT(FhirSlotTypeCodes(Visibility::kPublic), ElementsAre("PUBLIC", "PRO", "SNP", "CPTS"));
  EXPECT_THAT(FhirSlotTypeCodes(Visibility::kPro), ElementsAre("PRO", "SNP", "CPTS"));
  EXPECT_THAT(FhirSlotTypeCodes(Visibility::kSnp), ElementsAre("SNP", "CPTS"));
  EXPECT_THAT(FhirSlotTypeCodes(Visibility::kCpts), ElementsAre("CPTS"));
  EXPECT_THAT(FhirSlotTypeCodes(Visibility::kUnspecified), IsEmpty());
}

// --- errors ----------------------------------------------------------------------------

TEST(FhirErrorsTest, OperationOutcomeFromParseErrors) {
  const FhirSlotQueryParse parse = ParseFhirSlotQuery("status=busy", ParisOptions());
  ASSERT_FALSE(parse.ok());
  EXPECT_EQ(FhirOperationOutcomeJson({parse.errors[0]}),
            R"({"resourceType":"OperationOutcome","issue":[{"severity":"error",)"
            R"("code":"not-supported","diagnostics":"status: 'busy' is not supported: only free )"
            R"(slots are published"}]})");
}

TEST(FhirErrorsTest, HttpStatusAndNoInternalsIn5xx) {
  struct Case {
    absl::Status status;
    int http;
    std::string contains;
  };
  const std::vector<Case> cases = {
      {absl::InvalidArgumentError("start: bad"), 400,
       R"("code":"invalid","diagnostics":"start: bad")"},
      {absl::UnauthenticatedError("no certificate"), 401, R"("code":"login")"},
      {absl::PermissionDeniedError("no"), 403, R"("code":"forbidden")"},
      {absl::NotFoundError("x"), 404, R"("code":"not-found")"},
      {absl::FailedPreconditionError("x"), 422, R"("code":"business-rule")"},
      {absl::ResourceExhaustedError("x"), 429, R"("code":"throttled")"},
      {absl::UnavailableError("mysql host db-0 down"), 503,
       R"("severity":"fatal","code":"transient","diagnostics":"temporarily unavailable")"},
      {absl::DeadlineExceededError("x"), 504, R"("code":"timeout")"},
      {absl::InternalError("stack trace here"), 500,
       R"("code":"exception","diagnostics":"internal error")"},
  };
  for (const Case& c : cases) {
    const FhirErrorResponse response = FhirErrorFor(c.status);
    EXPECT_EQ(response.http_status, c.http) << c.status;
    EXPECT_THAT(response.body, HasSubstr(c.contains)) << c.status;
    if (c.http >= 500) {
      EXPECT_THAT(response.body, Not(HasSubstr(std::string(c.status.message()))));
    }
  }
}

}  // namespace
}  // namespace cpts::access
