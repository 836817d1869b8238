#pragma once

// The postal data of the tenant's communes. The MT half stores them with the territory
// (UpdateTerritory); the SNP half reads them for the SAS FHIR answer's Location.address,
// through CommuneDirectory, so that the agenda does not depend on the MT store.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cpts::access {

inline constexpr int kMaxTerritoryCommunes = 2000;
inline constexpr int kMaxCommuneNameChars = 100;

struct TerritoryCommune {
  std::string insee_code{};   // 5 characters, upper case ("2A004")
  std::string name{};         // 1 to kMaxCommuneNameChars characters, one line
  std::string postal_code{};  // 5 digits
  bool operator==(const TerritoryCommune&) const = default;
};

class CommuneDirectory {
 public:
  virtual ~CommuneDirectory() = default;

  // The tenant's communes whose INSEE code is in `insee_codes`, sorted by INSEE code; codes
  // the territory does not have are left out.
  virtual absl::StatusOr<std::vector<TerritoryCommune>> FindCommunes(
      absl::string_view tenant_id, const std::vector<std::string>& insee_codes) = 0;
};

}  // namespace cpts::access
