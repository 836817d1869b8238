#include "services/projects/settings.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

// Each part starts with a letter, so "." and ".." (a path out of the tz database) and a
// leading '/' (an absolute path) never reach the loader.
bool LooksLikeIanaName(absl::string_view name) {
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(part.front()))) {
      return false;
    }
    for (const char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '+') {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

ProjectSettings DefaultSettings(absl::string_view tenant_id) {
  ProjectSettings s;
  s.tenant_id = std::string(tenant_id);
  s.time_zone = kDefaultTimeZone;
  s.attendance_payment = AttendancePayment::kPerMeeting;
  return s;
}

absl::StatusOr<absl::TimeZone> ParseTimeZone(absl::string_view name, absl::string_view field) {
  if (name.empty()) return FieldError(field, "required");
  if (name.size() > kMaxTimeZoneLength) {
    return FieldError(field, absl::StrCat("must be at most ", kMaxTimeZoneLength, " characters"));
  }
  if (!LooksLikeIanaName(name) || name == "localtime") {
    return FieldError(field, "must be an IANA time zone name such as Europe/Paris");
  }
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(std::string(name), &zone)) {
    return FieldError(field, absl::StrCat("unknown time zone ", name));
  }
  return zone;
}

absl::Status ValidateSettings(const ProjectSettings& settings, absl::string_view prefix) {
  if (absl::StatusOr<absl::TimeZone> zone =
          ParseTimeZone(settings.time_zone, absl::StrCat(prefix, ".time_zone"));
      !zone.ok()) {
    return zone.status();
  }
  if (settings.attendance_payment == AttendancePayment::kUnspecified) {
    return FieldError(absl::StrCat(prefix, ".attendance_payment"), "required");
  }
  return absl::OkStatus();
}

absl::StatusOr<TenantRules> RulesOf(const ProjectSettings& settings) {
  TenantRules rules;
  if (!absl::LoadTimeZone(settings.time_zone, &rules.zone)) {
    return absl::InternalError(absl::StrCat("the tenant's time zone ", settings.time_zone,
                                            " does not load on this server"));
  }
  rules.hourly = settings.attendance_payment == AttendancePayment::kPerHour;
  return rules;
}

}  // namespace cpts::projects
