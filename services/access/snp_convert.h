#pragma once

// cpts.access.v1 messages of the SNP agenda (slot.proto, booking.proto, indicators.proto) to
// and from the domain types (snp_model.h). In namespace snp so as not to collide with the MT
// half's conversions of the shared patient messages. Field errors are InvalidArgument naming
// the request field.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cpts/access/v1/access_service.pb.h"
#include "services/access/snp_booking.h"
#include "services/access/snp_indicators.h"
#include "services/access/snp_model.h"
#include "services/access/snp_search.h"

namespace cpts::access::snp {

// Unset timestamp -> InfinitePast; InvalidArgument when out of range.
absl::StatusOr<absl::Time> FromProto(const google::protobuf::Timestamp& ts,
                                     absl::string_view field);
void ToProto(absl::Time t, google::protobuf::Timestamp* out);  // nothing when infinite

// A PublishSlots draft: the input fields only (output-only ones are ignored).
absl::StatusOr<Slot> SlotDraftFromProto(const v1::Slot& in, absl::string_view field);
void ToProto(const Slot& slot, v1::Slot* out);

absl::StatusOr<SlotSearchQuery> FromProto(const v1::SearchSlotsRequest& in);

absl::StatusOr<BookingDraft> FromProto(const v1::BookSlotRequest& in);
void ToProto(const Booking& booking, v1::Booking* out);

BookingOutcome FromProto(v1::BookingOutcome outcome);

// A Date as a civil day; InvalidArgument "<field>: ..." when unset or not a calendar day.
absl::StatusOr<absl::CivilDay> DayFromProto(const common::v1::Date& date, absl::string_view field);
void ToProto(absl::CivilDay day, common::v1::Date* out);

void ToProto(const SnpIndicators& in, absl::CivilDay first, absl::CivilDay last,
             absl::Time compute_time, v1::SnpIndicators* out);

// The etag of a version.
std::string Etag(int64_t version);

}  // namespace cpts::access::snp
