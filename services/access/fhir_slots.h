#pragma once

// The SAS (Service d'Accès aux Soins) slot search, FHIR R4: parsing the query the SAS sends
// to a CPTS agenda, and mapping free slots to the searchset Bundle it expects. Pure functions,
// no I/O; the HTTP endpoint (GET [base]/Slot?...) is the service's.
//
// Source: ANS, "Service d'Accès aux Soins" implementation guide (package ans.fhir.fr.sas,
// v1.2.0; https://interop.esante.gouv.fr/ig/fhir/sas), source repository
// github.com/ansforge/IG-fhir-service-acces-aux-soins:
//   - input/pagecontent/specifications_techniques-cpts-recherche_creneaux.md: "CPTS -
//     Recherche de créneaux": GET [base]/Slot with start=ge.., start=le.. (both 1..1),
//     schedule.actor:Practitioner.identifier (token, 1..25 national ids, prefixed), status=free
//     (1..1); _include=Slot:schedule, _include:iterate=Schedule:actor (Practitioner and
//     PractitionerRole, the Location contained in the PractitionerRole),
//     _include=Slot:service-type-reference (HealthcareService),
//     _include:iterate=HealthcareService:organization (Organization); answer a searchset
//     Bundle with `total` (0 when nothing matches); on failure 4xx/5xx with an
//     OperationOutcome. Nomenclatures: slot type in meta.security from TRE_R314-TypeCreneau
//     (PUBLIC, PRO, SNP, CPTS, combinable); consultation type in serviceType from v3 ActCode
//     (AMB office, HH home, VR video); with/without appointment in appointmentType from v2
//     0276 (ROUTINE, WALKIN); a CPTS slot adds serviceType TRE_R66 code 604 with the R5
//     extension Slot.serviceType referencing the CPTS HealthcareService; the CPTS
//     Organization identifier is its FINESS prefixed with "1" under urn:oid:1.2.250.1.71.4.2.2,
//     type IDNST. The meta.profile URLs to set are listed there (copied below).
//   - input/pagecontent/faq.md: national ids in the answer are prefixed, "8" for RPPS and "0"
//     for ADELI (person); "1" FINESS, "3" SIRET, "4" RPPS rang (structure); identifier
//     system, type and value are all required; one Schedule per PractitionerRole, i.e. per
//     consultation place; Location contained in the PractitionerRole; Slot.comment is the URL
//     to the professional's agenda; never send empty elements; phone numbers as +33...
//   - input/fsh/profiles: FrSlotAgregateur(CPTS) (status fixed to free), FrPractitionerAgregateur
//     (identifier type IDNPS, system urn:oid:1.2.250.1.71.4.2.1), FrPractitionerRoleExercice-
//     Agregateur (contained 1.., location 1..1 contained), FrLocationAgregateur (address line,
//     city, postalCode 1..), FrOrganizationAgregateurCPTS (identifier ^1[0-9]{9}$),
//     BundleAgregateurCPTS (link 1..1, total 1..);
//     input/fsh/SearchParameters/slot-sp-start-date.fsh (start: comparators ge and le only).
//   - input/pagecontent/securite.md: the SAS calls over mTLS with IGC-Santé certificates.
// Where the guide is silent, FHIR R4 core (http://hl7.org/fhir/R4/search.html) decides, and
// the choice is said where it is made.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/access/snp_model.h"

namespace cpts::access {

// --- identifiers and code systems (see the sources above) -------------------------------

inline constexpr absl::string_view kFhirIdnpsSystem = "urn:oid:1.2.250.1.71.4.2.1";
inline constexpr absl::string_view kFhirIdnstSystem = "urn:oid:1.2.250.1.71.4.2.2";

inline constexpr int kFhirMaxIdentifiers = 25;  // the guide's 1..25
inline constexpr int kFhirMaxCount = 1000;      // the SAS sends _count=1000
inline constexpr absl::Duration kFhirMaxWindow = absl::Hours(24 * 31);

// --- the query ------------------------------------------------------------------------

struct FhirSlotQuery {
  absl::Time start_from = absl::InfinitePast();  // start=ge, inclusive
  absl::Time start_to = absl::InfinitePast();    // start=le, inclusive
  // RPPS numbers (11 digits, without the "8" prefix), sorted, without duplicates.
  std::vector<std::string> rpps;
  // ADELI numbers (9 digits, without the "0" prefix) the SAS also sent. CPTS members are
  // identified by RPPS here, so these never match; they are kept for the self link.
  std::vector<std::string> adeli;
  bool include_schedule = false;            // _include=Slot:schedule
  bool include_practitioner = false;        // _include:iterate=Schedule:actor[:Practitioner]
  bool include_practitioner_role = false;   // _include:iterate=Schedule:actor[:PractitionerRole]
  bool include_healthcare_service = false;  // _include=Slot:service-type-reference
  bool include_organization = false;        // _include:iterate=HealthcareService:organization
  int count = kFhirMaxCount;                // _count: most Slot entries to return
  // The query as understood, canonical: what `link self` shows after "[base]/Slot?".
  std::string self_query;
};

// One problem with a request, for an OperationOutcome.issue.
struct FhirIssue {
  std::string severity = "error";  // error | warning
  std::string code = "invalid";    // IssueType: invalid | not-supported | exception | ...
  std::string parameter;           // the search parameter at fault; empty if none
  std::string diagnostics;         // "<parameter>: <problem>"
};

struct FhirParseOptions {
  // The zone of dates and dateTimes written without an offset (FHIR R4 search leaves it to
  // the server): the CPTS's, Europe/Paris.
  absl::TimeZone local_zone = absl::UTCTimeZone();
  // FHIR R4 search: unknown parameters are ignored unless the client asked
  // "Prefer: handling=strict"; then each one is an error. Unsupported _include values are
  // treated the same way.
  bool strict = false;
};

struct FhirSlotQueryParse {
  FhirSlotQuery query;            // meaningful only when `errors` is empty
  std::vector<FhirIssue> errors;  // every problem found, each naming its parameter
  bool ok() const { return errors.empty(); }
};

// Parses the raw query string (after the '?', percent-encoded) of GET [base]/Slot:
//   start               exactly one "ge" and one "le" value (the guide's only comparators),
//                       date (YYYY-MM-DD: the whole day) or dateTime (hh:mm[:ss[.fff]] with
//                       Z, an offset or none = options.local_zone); le not before ge, at most
//                       31 days apart
//   schedule.actor:Practitioner.identifier
//                       once, 1 to 25 comma-separated tokens [system|]value; system, when
//                       given, urn:oid:1.2.250.1.71.4.2.1; value "8"+RPPS (11 digits) or
//                       "0"+ADELI (9 digits), or a bare RPPS (11 digits) for lenience
//   status              required, "free"
//   _include, _include:iterate
//                       Slot:schedule, Schedule:actor[:Practitioner|:PractitionerRole],
//                       Slot:service-type-reference, HealthcareService:organization (with or
//                       without :iterate); PractitionerRole:location is accepted (the Location
//                       is always contained)
//   _count              0 to 1000 (more is capped at 1000)
//   _format             json, application/json, application/fhir+json, application/json+fhir
// '+' in a value is a literal plus (the SAS sends offsets like "+02:00" unencoded), not a
// space; a space where an offset sign is expected is read as '+', for clients whose library
// decoded it. Unknown parameters: see FhirParseOptions::strict.
FhirSlotQueryParse ParseFhirSlotQuery(absl::string_view raw_query,
                                      const FhirParseOptions& options = {});

// --- the bundle -----------------------------------------------------------------------

// What the Bundle says about a professional (from membership). No patient data exists here.
struct FhirPractitioner {
  std::string member_id;
  std::string rpps;  // 11 digits, without prefix; required
  std::string family_name;
  std::string given_name;
  std::string profession_code;  // MEDECIN_GENERALISTE gives specialty TRE_R38 SM54
};

// The tenant, as the SAS knows a CPTS.
struct FhirCpts {
  std::string tenant_id;
  std::string finess;  // 9 characters without prefix; empty = unknown (identifier omitted)
  std::string name;
  std::string phone;  // E.164; empty = none
};

// Postal data of a commune, for Location.address (the guide requires city and postalCode;
// the slots only know the INSEE code).
struct FhirCommune {
  std::string postal_code;
  std::string name;
};

struct FhirBundleContext {
  std::string base_url;   // the FHIR base, e.g. "https://cpts.example.fr/fhir", no final '/'
  std::string bundle_id;  // a fresh id per response
  absl::Time last_updated = absl::InfinitePast();  // Bundle.meta.lastUpdated: now
  FhirCpts cpts;
  // Every professional of the slots, by member id.
  std::map<std::string, FhirPractitioner> practitioners;
  // INSEE code -> postal code and name; a commune missing here gives an address without
  // city and postal code.
  std::map<std::string, FhirCommune> communes;
  // Slot.comment, the URL of the professional's agenda (guide, ID 20); "{slot_id}" and
  // "{member_id}" are replaced. Empty = no comment.
  std::string booking_url_template;
  bool pretty = false;  // indent the JSON (tests, debugging)
};

// The searchset Bundle for `slots` (FREE slots matching `query`, at most query.count of them
// are listed, in (start, id) order) of which `total` match in all. Entries: the Slots
// (search.mode "match"), then the included Schedules, Practitioners, PractitionerRoles (one
// Schedule and one PractitionerRole per professional and place, the Location contained),
// HealthcareService and Organization of the CPTS (search.mode "include"), each group by id.
// The output is a function of its inputs only: same inputs, same bytes.
// Internal error (a bug in the caller) when a slot is not FREE or its professional is missing
// from the context or has no valid RPPS.
absl::StatusOr<std::string> FhirSlotBundleJson(const FhirSlotQuery& query,
                                               const std::vector<Slot>& slots, int64_t total,
                                               const FhirBundleContext& context);

// The TRE_R314 slot-type codes of a visibility level: the level and every more restricted
// one, since a slot visible at a level is visible to the audiences of the following ones
// (snp_model.h): PUBLIC -> PUBLIC, PRO, SNP, CPTS; SNP -> SNP, CPTS.
std::vector<absl::string_view> FhirSlotTypeCodes(Visibility visibility);

// --- errors ---------------------------------------------------------------------------

// An OperationOutcome with one issue per entry.
std::string FhirOperationOutcomeJson(const std::vector<FhirIssue>& issues, bool pretty = false);

// The HTTP status and OperationOutcome body for a failed search: 400 InvalidArgument, 401
// Unauthenticated, 403 PermissionDenied, 404 NotFound, 422 FailedPrecondition, 429
// ResourceExhausted, 503 Unavailable, 504 DeadlineExceeded, else 500. The status message is
// shown for 4xx only; 5xx bodies say no more than "internal error" or "temporarily
// unavailable".
struct FhirErrorResponse {
  int http_status = 500;
  std::string body;
};
FhirErrorResponse FhirErrorFor(const absl::Status& status);

}  // namespace cpts::access
