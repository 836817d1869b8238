#include "services/access/mt_validators.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/access/mt_priority.h"
#include "services/membership/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

using ::cpts::membership::FieldError;

// Trims and upper-cases an INSEE code ("2a004" -> "2A004"), then validates it.
absl::StatusOr<std::string> NormalizeCommune(absl::string_view input, absl::string_view field) {
  std::string code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(input));
  if (code.empty()) return FieldError(field, "must not be empty");
  CPTS_RETURN_IF_ERROR(membership::ValidateInseeCommune(code, field));
  return code;
}

// The first instant accepted as a consent time: 2000-01-01 UTC. Earlier values are a zero
// proto Timestamp sent by mistake, or nonsense.
absl::Time EarliestConsentTime() {
  return absl::FromCivil(absl::CivilDay(2000, 1, 1), absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseDate(int64_t year, int month, int day,
                                         absl::string_view field) {
  if (year == 0 && month == 0 && day == 0) return FieldError(field, "must be set");
  if (year < 1 || year > 9999) return FieldError(field, "year must be 1 to 9999");
  if (month < 1 || month > 12) return FieldError(field, "month must be 1 to 12");
  if (day < 1 || day > 31) return FieldError(field, "day must be 1 to 31");
  const absl::CivilDay civil(year, month, day);
  if (civil.month() != month || civil.day() != day) {
    return FieldError(field, absl::StrCat("is not a date (", year, "-", month, "-", day, ")"));
  }
  return civil;
}

absl::Status ValidateBirthDate(absl::CivilDay birth_date, absl::CivilDay today,
                               absl::string_view field) {
  if (birth_date > today) return FieldError(field, "must not be in the future");
  if (AgeInYears(birth_date, today) > kMaxPatientAgeYears) {
    return FieldError(field, absl::StrCat("must be at most ", kMaxPatientAgeYears, " years ago"));
  }
  return absl::OkStatus();
}

absl::Status NormalizeMtSubmission(MtRequest& request, absl::Time now, absl::CivilDay today) {
  PatientIdentity& patient = request.patient;
  CPTS_ASSIGN_OR_RETURN(patient.given_name, membership::NormalizeName(
                                                patient.given_name, "mt_request.patient.given_name",
                                                kMaxPatientNameChars));
  CPTS_ASSIGN_OR_RETURN(
      patient.family_name,
      membership::NormalizeName(patient.family_name, "mt_request.patient.family_name",
                                kMaxPatientNameChars));
  CPTS_RETURN_IF_ERROR(
      ValidateBirthDate(patient.birth_date, today, "mt_request.patient.birth_date"));

  CPTS_ASSIGN_OR_RETURN(request.commune_insee,
                        NormalizeCommune(request.commune_insee, "mt_request.commune_insee"));

  PatientContact& contact = request.contact;
  if (!absl::StripAsciiWhitespace(contact.phone).empty()) {
    CPTS_ASSIGN_OR_RETURN(contact.phone,
                          membership::NormalizePhone(contact.phone, "mt_request.contact.phone"));
  } else {
    contact.phone.clear();
  }
  if (!absl::StripAsciiWhitespace(contact.email).empty()) {
    CPTS_ASSIGN_OR_RETURN(contact.email,
                          membership::NormalizeEmail(contact.email, "mt_request.contact.email"));
  } else {
    contact.email.clear();
  }
  if (contact.phone.empty() && contact.email.empty()) {
    return FieldError("mt_request.contact", "a phone number or an email address is required");
  }

  CPTS_ASSIGN_OR_RETURN(
      request.fragility.notes,
      membership::NormalizeText(request.fragility.notes, "mt_request.fragility.notes",
                                kMaxNotesChars, /*required=*/false, /*multiline=*/true));

  if (request.origin == MtOrigin::kUnspecified) {
    return FieldError("mt_request.origin", "must be set");
  }
  CPTS_ASSIGN_OR_RETURN(request.origin_detail,
                        membership::NormalizeText(request.origin_detail, "mt_request.origin_detail",
                                                  kMaxOriginDetailChars, /*required=*/false));

  const absl::Time consent_time = request.consent.consent_time;
  if (consent_time != absl::InfinitePast()) {
    if (consent_time < EarliestConsentTime()) {
      return FieldError("mt_request.consent.consent_time", "must not be before 2000");
    }
    if (consent_time > now + kConsentClockSkew) {
      return FieldError("mt_request.consent.consent_time", "must not be in the future");
    }
  }
  // Last: a request that is otherwise wrong is reported as such first. Either way nothing is
  // stored.
  if (!request.consent.granted) {
    return absl::FailedPreconditionError(
        "mt_request.consent: the patient's consent is required before their data can be "
        "recorded; nothing was stored");
  }
  return absl::OkStatus();
}

absl::Status ValidateOptionalRequestId(absl::string_view request_id, absl::string_view field) {
  if (request_id.empty()) return absl::OkStatus();
  return membership::ValidateRequestId(request_id, field);
}

absl::Status ValidateId(absl::string_view id, absl::string_view field) {
  return membership::ValidateResourceId(id, field);
}

absl::StatusOr<std::string> NormalizeSynthesis(absl::string_view synthesis,
                                               absl::string_view field) {
  return membership::NormalizeText(synthesis, field, kMaxSynthesisChars, /*required=*/true,
                                   /*multiline=*/true);
}

absl::StatusOr<std::string> NormalizeReason(absl::string_view reason, absl::string_view field,
                                            bool required) {
  return membership::NormalizeText(reason, field, kMaxReasonChars, required);
}

absl::Status NormalizeGpCapacity(GpCapacity& capacity, absl::CivilDay today) {
  if (!capacity.gp_member_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateId(capacity.gp_member_id, "gp_capacity.gp_member_id"));
  }
  if (capacity.declared_count < 0 || capacity.declared_count > kMaxGpDeclaredCount) {
    return FieldError("gp_capacity.declared_count",
                      absl::StrCat("must be 0 to ", kMaxGpDeclaredCount));
  }
  if (capacity.valid_until < today) {
    return FieldError("gp_capacity.valid_until", "must not be in the past");
  }
  if (capacity.valid_until > today + kMaxGpValidityDays) {
    return FieldError("gp_capacity.valid_until",
                      absl::StrCat("must be at most ", kMaxGpValidityDays, " days ahead"));
  }

  if (capacity.communes.empty()) return FieldError("gp_capacity.communes", "must not be empty");
  if (capacity.communes.size() > kMaxGpCommunes) {
    return FieldError("gp_capacity.communes",
                      absl::StrCat("must have at most ", kMaxGpCommunes, " communes"));
  }
  for (std::size_t i = 0; i < capacity.communes.size(); ++i) {
    const std::string field = absl::StrCat("gp_capacity.communes[", i, "]");
    CPTS_ASSIGN_OR_RETURN(capacity.communes[i], NormalizeCommune(capacity.communes[i], field));
    for (std::size_t j = 0; j < i; ++j) {
      if (capacity.communes[j] == capacity.communes[i]) {
        return FieldError(field, absl::StrCat("duplicates communes[", j, "]"));
      }
    }
  }

  std::vector<PriorityClass>& classes = capacity.priority_classes;
  if (classes.empty()) return FieldError("gp_capacity.priority_classes", "must not be empty");
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const std::string field = absl::StrCat("gp_capacity.priority_classes[", i, "]");
    if (classes[i] == PriorityClass::kUnspecified) return FieldError(field, "must be set");
    for (std::size_t j = 0; j < i; ++j) {
      if (classes[j] == classes[i]) {
        return FieldError(field, absl::StrCat("duplicates priority_classes[", j, "]"));
      }
    }
  }
  std::sort(classes.begin(), classes.end(),
            [](PriorityClass a, PriorityClass b) { return PriorityRank(a) < PriorityRank(b); });
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeCommuneFilter(absl::string_view input,
                                                   absl::string_view field) {
  if (absl::StripAsciiWhitespace(input).empty()) return std::string();
  return NormalizeCommune(input, field);
}

absl::StatusOr<std::vector<TerritoryCommune>> NormalizeTerritoryCommunes(
    std::vector<TerritoryCommune> communes) {
  if (communes.size() > static_cast<std::size_t>(kMaxTerritoryCommunes)) {
    return FieldError("territory.communes", absl::StrCat("at most ", kMaxTerritoryCommunes,
                                                         " communes, got ", communes.size()));
  }
  // INSEE code -> index in the request, to name the first one of a duplicate.
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < communes.size(); ++i) {
    const std::string field = absl::StrCat("territory.communes[", i, "]");
    TerritoryCommune& c = communes[i];
    CPTS_ASSIGN_OR_RETURN(c.insee_code,
                          NormalizeCommune(c.insee_code, absl::StrCat(field, ".insee_code")));
    const auto [it, inserted] = seen.try_emplace(c.insee_code, i);
    if (!inserted) {
      return FieldError(absl::StrCat(field, ".insee_code"),
                        absl::StrCat("duplicates communes[", it->second, "]"));
    }
    CPTS_ASSIGN_OR_RETURN(c.name, membership::NormalizeName(c.name, absl::StrCat(field, ".name"),
                                                            kMaxCommuneNameChars));
    const absl::string_view postal = absl::StripAsciiWhitespace(c.postal_code);
    if (postal.size() != 5 || !std::all_of(postal.begin(), postal.end(), absl::ascii_isdigit)) {
      return FieldError(absl::StrCat(field, ".postal_code"), "must be 5 digits");
    }
    c.postal_code = std::string(postal);
  }
  std::sort(communes.begin(), communes.end(),
            [](const TerritoryCommune& a, const TerritoryCommune& b) {
              return a.insee_code < b.insee_code;
            });
  return communes;
}

absl::StatusOr<int> MtPageSize(int requested, absl::string_view field) {
  if (requested < 0) return FieldError(field, "must not be negative");
  if (requested == 0) return kDefaultMtPageSize;
  return std::min(requested, kMaxMtPageSize);
}

absl::StatusOr<int> MaxSuggestions(int requested, absl::string_view field) {
  if (requested < 0) return FieldError(field, "must not be negative");
  if (requested == 0) return kDefaultMaxSuggestions;
  return std::min(requested, kMaxMaxSuggestions);
}

absl::Status ValidatePeriod(absl::CivilDay start, absl::CivilDay end, absl::string_view field) {
  const std::string end_field = absl::StrCat(field, ".end_date");
  if (end < start) return FieldError(end_field, "must not be before start_date");
  if (end - start + 1 > kMaxPeriodDays) {
    return FieldError(end_field,
                      absl::StrCat("the period must be at most ", kMaxPeriodDays, " days"));
  }
  return absl::OkStatus();
}

std::string MtDuplicateKeyMaterial(const MtRequest& request) {
  // Length-prefixed so that no two different tuples give the same text.
  std::string out = "mt-dup-v1";
  for (const std::string& part :
       {membership::FoldForSearch(request.patient.family_name),
        membership::FoldForSearch(request.patient.given_name),
        absl::FormatCivilTime(request.patient.birth_date), request.commune_insee}) {
    absl::StrAppend(&out, "|", part.size(), ":", part);
  }
  return out;
}

}  // namespace cpts::access
