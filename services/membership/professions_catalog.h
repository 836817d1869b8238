#pragma once

// The national reference list of professions (DOMAIN.md section 1). Every new tenant is
// seeded with it; a tenant may then add its own professions.

#include <vector>

#include "absl/strings/string_view.h"
#include "services/membership/model.h"

namespace cpts::membership {

// The reference professions, ordered by code, each with `reference` = true. Codes are stable:
// they are stored in member records and used by other services (e.g. "MEDECIN_GENERALISTE"
// for the médecin traitant workflow).
const std::vector<Profession>& ReferenceProfessions();

// The reference profession with this code, or nullptr.
const Profession* FindReferenceProfession(absl::string_view code);

// Codes other services rely on.
inline constexpr absl::string_view kGeneralPractitionerCode = "MEDECIN_GENERALISTE";

}  // namespace cpts::membership
