#pragma once

// cpts.access.v1 messages <-> the MT domain types (mt_model.h, mt_matching.h,
// mt_indicators.h). Input conversions validate what the proto cannot express (enum values
// out of range, impossible dates) and name the field; the domain validates the rest.

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cpts/access/v1/access_service.pb.h"
#include "services/access/mt_desk.h"
#include "services/access/mt_indicators.h"
#include "services/access/mt_matching.h"
#include "services/access/mt_model.h"
#include "services/access/mt_store.h"

namespace cpts::access {

// SubmitMtRequest's mt_request: the submitted fields only (output-only ones are ignored).
absl::StatusOr<MtRequest> FromProto(const v1::MtRequest& in);
// DeclareGpCapacity's gp_capacity: the declared fields only.
absl::StatusOr<GpCapacity> FromProto(const v1::GpCapacity& in);

// UpdateTerritory's request: links and communes as sent (the desk validates them) and the
// parts to replace from update_mask ("links", "communes"; empty = both). InvalidArgument
// "update_mask: ..." for any other path.
absl::StatusOr<TerritoryUpdate> TerritoryUpdateFromProto(const v1::UpdateTerritoryRequest& in);

absl::StatusOr<PriorityClass> PriorityClassFromProto(int value, absl::string_view field);
absl::StatusOr<MtState> MtStateFromProto(int value, absl::string_view field);
// Unspecified → `default_view`.
absl::StatusOr<MtView> MtViewFromProto(int value, MtView default_view);
absl::StatusOr<absl::CivilDay> DayFromProto(const common::v1::Date& date, absl::string_view field);

void ToProto(const MtRequest& in, v1::MtRequest* out);
void ToProto(const GpCapacity& in, v1::GpCapacity* out);
void ToProto(const GpSuggestion& in, v1::GpSuggestion* out);
void ToProto(const TerritoryRecord& in, v1::Territory* out);
void ToProto(const MtIndicators& in, absl::CivilDay start, absl::CivilDay end,
             absl::Time compute_time, v1::MtIndicators* out);

}  // namespace cpts::access
