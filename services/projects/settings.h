#pragma once

// The tenant's settings of the projects service (ProjectSettings, model.h): their defaults,
// their checks, and the rules they resolve to. No gRPC, no SQL, no clock; loading a time zone
// reads the system's tz database (the server image ships tzdata).

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/projects/model.h"

namespace cpts::projects {

inline constexpr char kDefaultTimeZone[] = "Europe/Paris";
inline constexpr std::size_t kMaxTimeZoneLength = 64;

// The settings of a tenant that never changed them: Europe/Paris, paid per meeting,
// version 0.
ProjectSettings DefaultSettings(absl::string_view tenant_id);

// An IANA time zone name ("Europe/Paris", "America/Cayenne", "UTC") that the tz database
// loads: 1 to 64 characters, '/'-separated parts each starting with a letter and made of
// letters, digits, '_', '-' and '+'. "localtime" (the host's zone) is refused: a tenant's
// calendar must not depend on the machine. InvalidArgument naming `field` otherwise.
absl::StatusOr<absl::TimeZone> ParseTimeZone(absl::string_view name, absl::string_view field);

// The time zone as above and the attendance payment set. InvalidArgument naming
// "<prefix>.time_zone" or "<prefix>.attendance_payment".
absl::Status ValidateSettings(const ProjectSettings& settings, absl::string_view prefix);

// What the domain rules read from the settings.
struct TenantRules {
  absl::TimeZone zone = absl::UTCTimeZone();  // meeting dates, calendar years
  bool hourly = false;                        // a present line needs its minutes worked
};

// The rules of valid settings. Internal when the stored zone no longer loads (the tz database
// changed under the server): dates computed in another zone would be silently wrong.
absl::StatusOr<TenantRules> RulesOf(const ProjectSettings& settings);

}  // namespace cpts::projects
