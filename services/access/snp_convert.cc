#include "services/access/snp_convert.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access::snp {
namespace {

bool IsFinite(absl::Time t) { return t != absl::InfinitePast() && t != absl::InfiniteFuture(); }

ConsultationMode ModeFromProto(v1::ConsultationMode m) {
  switch (m) {
    case v1::CONSULTATION_MODE_OFFICE:
      return ConsultationMode::kOffice;
    case v1::CONSULTATION_MODE_HOME:
      return ConsultationMode::kHome;
    case v1::CONSULTATION_MODE_VIDEO:
      return ConsultationMode::kVideo;
    default:
      return ConsultationMode::kUnspecified;
  }
}

v1::ConsultationMode ModeToProto(ConsultationMode m) {
  switch (m) {
    case ConsultationMode::kOffice:
      return v1::CONSULTATION_MODE_OFFICE;
    case ConsultationMode::kHome:
      return v1::CONSULTATION_MODE_HOME;
    case ConsultationMode::kVideo:
      return v1::CONSULTATION_MODE_VIDEO;
    case ConsultationMode::kUnspecified:
      break;
  }
  return v1::CONSULTATION_MODE_UNSPECIFIED;
}

Visibility VisibilityFromProto(v1::Visibility v) {
  switch (v) {
    case v1::VISIBILITY_PUBLIC:
      return Visibility::kPublic;
    case v1::VISIBILITY_PRO:
      return Visibility::kPro;
    case v1::VISIBILITY_SNP:
      return Visibility::kSnp;
    case v1::VISIBILITY_CPTS:
      return Visibility::kCpts;
    default:
      return Visibility::kUnspecified;
  }
}

v1::Visibility VisibilityToProto(Visibility v) {
  switch (v) {
    case Visibility::kPublic:
      return v1::VISIBILITY_PUBLIC;
    case Visibility::kPro:
      return v1::VISIBILITY_PRO;
    case Visibility::kSnp:
      return v1::VISIBILITY_SNP;
    case Visibility::kCpts:
      return v1::VISIBILITY_CPTS;
    case Visibility::kUnspecified:
      break;
  }
  return v1::VISIBILITY_UNSPECIFIED;
}

SlotKind KindFromProto(v1::SlotKind k) {
  switch (k) {
    case v1::SLOT_KIND_BOOKABLE:
      return SlotKind::kBookable;
    case v1::SLOT_KIND_WALK_IN:
      return SlotKind::kWalkIn;
    default:
      return SlotKind::kUnspecified;
  }
}

v1::SlotKind KindToProto(SlotKind k) {
  switch (k) {
    case SlotKind::kBookable:
      return v1::SLOT_KIND_BOOKABLE;
    case SlotKind::kWalkIn:
      return v1::SLOT_KIND_WALK_IN;
    case SlotKind::kUnspecified:
      break;
  }
  return v1::SLOT_KIND_UNSPECIFIED;
}

v1::SlotStatus StatusToProto(SlotStatus s) {
  switch (s) {
    case SlotStatus::kFree:
      return v1::SLOT_STATUS_FREE;
    case SlotStatus::kBooked:
      return v1::SLOT_STATUS_BOOKED;
    case SlotStatus::kWithdrawn:
      return v1::SLOT_STATUS_WITHDRAWN;
    case SlotStatus::kUnspecified:
      break;
  }
  return v1::SLOT_STATUS_UNSPECIFIED;
}

v1::BookingOrigin OriginToProto(BookingOrigin o) {
  switch (o) {
    case BookingOrigin::kProfessional:
      return v1::BOOKING_ORIGIN_PROFESSIONAL;
    case BookingOrigin::kCpts:
      return v1::BOOKING_ORIGIN_CPTS;
    case BookingOrigin::kSas:
      return v1::BOOKING_ORIGIN_SAS;
    case BookingOrigin::kPartner:
      return v1::BOOKING_ORIGIN_PARTNER;
    case BookingOrigin::kUnspecified:
      break;
  }
  return v1::BOOKING_ORIGIN_UNSPECIFIED;
}

v1::BookingState StateToProto(BookingState s) {
  switch (s) {
    case BookingState::kBooked:
      return v1::BOOKING_STATE_BOOKED;
    case BookingState::kCancelled:
      return v1::BOOKING_STATE_CANCELLED;
    case BookingState::kFulfilled:
      return v1::BOOKING_STATE_FULFILLED;
    case BookingState::kNoShow:
      return v1::BOOKING_STATE_NO_SHOW;
    case BookingState::kUnspecified:
      break;
  }
  return v1::BOOKING_STATE_UNSPECIFIED;
}

Sex SexFromProto(v1::Sex s) {
  switch (s) {
    case v1::SEX_FEMALE:
      return Sex::kFemale;
    case v1::SEX_MALE:
      return Sex::kMale;
    case v1::SEX_OTHER:
      return Sex::kOther;
    default:
      return Sex::kUnspecified;
  }
}

v1::Sex SexToProto(Sex s) {
  switch (s) {
    case Sex::kFemale:
      return v1::SEX_FEMALE;
    case Sex::kMale:
      return v1::SEX_MALE;
    case Sex::kOther:
      return v1::SEX_OTHER;
    case Sex::kUnspecified:
      break;
  }
  return v1::SEX_UNSPECIFIED;
}

absl::Status EnumError(absl::string_view field, int value) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ", value));
}

}  // namespace

std::string Etag(int64_t version) { return absl::StrCat("\"v", version, "\""); }

absl::StatusOr<absl::Time> FromProto(const google::protobuf::Timestamp& ts,
                                     absl::string_view field) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return absl::InfinitePast();
  // 0001-01-01 to 9999-12-31, as google.protobuf.Timestamp.
  if (ts.seconds() < -62135596800 || ts.seconds() > 253402300799 || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a valid timestamp"));
  }
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  if (!IsFinite(t)) return;
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

absl::StatusOr<Slot> SlotDraftFromProto(const v1::Slot& in, absl::string_view field) {
  Slot s;
  s.professional_member_id = in.professional_member_id();
  CPTS_ASSIGN_OR_RETURN(s.start, FromProto(in.start_time(), absl::StrCat(field, ".start_time")));
  const auto& d = in.duration();
  if (d.seconds() < 0 || d.nanos() < 0 || d.seconds() > int64_t{7} * 24 * 3600) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".duration: out of range"));
  }
  s.duration = absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
  if (!v1::ConsultationMode_IsValid(in.mode())) {
    return EnumError(absl::StrCat(field, ".mode"), in.mode());
  }
  s.mode = ModeFromProto(in.mode());
  s.place.commune_insee = in.place().commune_insee();
  s.place.address = in.place().address();
  if (!v1::Visibility_IsValid(in.visibility())) {
    return EnumError(absl::StrCat(field, ".visibility"), in.visibility());
  }
  s.visibility = VisibilityFromProto(in.visibility());
  if (!v1::SlotKind_IsValid(in.kind())) return EnumError(absl::StrCat(field, ".kind"), in.kind());
  s.kind = KindFromProto(in.kind());
  return s;
}

void ToProto(const Slot& s, v1::Slot* out) {
  out->set_id(s.id);
  out->set_professional_member_id(s.professional_member_id);
  out->set_profession_code(s.profession_code);
  ToProto(s.start, out->mutable_start_time());
  out->mutable_duration()->set_seconds(absl::ToInt64Seconds(s.duration));
  out->set_mode(ModeToProto(s.mode));
  if (!s.place.empty()) {
    out->mutable_place()->set_commune_insee(s.place.commune_insee);
    out->mutable_place()->set_address(s.place.address);
  }
  out->set_visibility(VisibilityToProto(s.visibility));
  out->set_kind(KindToProto(s.kind));
  out->set_status(StatusToProto(s.status));
  out->set_booking_id(s.booking_id);
  out->set_published_by(s.published_by);
  ToProto(s.create_time, out->mutable_create_time());
  ToProto(s.update_time, out->mutable_update_time());
  out->set_etag(Etag(s.version));
}

absl::StatusOr<SlotSearchQuery> FromProto(const v1::SearchSlotsRequest& in) {
  SlotSearchQuery q;
  CPTS_ASSIGN_OR_RETURN(q.start_time, FromProto(in.start_time(), "start_time"));
  CPTS_ASSIGN_OR_RETURN(q.end_time, FromProto(in.end_time(), "end_time"));
  q.communes.assign(in.communes().begin(), in.communes().end());
  q.profession_codes.assign(in.profession_codes().begin(), in.profession_codes().end());
  for (int i = 0; i < in.modes_size(); ++i) {
    if (!v1::ConsultationMode_IsValid(in.modes(i))) {
      return EnumError(absl::StrCat("modes[", i, "]"), in.modes(i));
    }
    q.modes.push_back(ModeFromProto(in.modes(i)));
  }
  for (int i = 0; i < in.visibilities_size(); ++i) {
    if (!v1::Visibility_IsValid(in.visibilities(i))) {
      return EnumError(absl::StrCat("visibilities[", i, "]"), in.visibilities(i));
    }
    q.visibilities.push_back(VisibilityFromProto(in.visibilities(i)));
  }
  if (!v1::SlotKind_IsValid(in.kind())) return EnumError("kind", in.kind());
  q.kind = KindFromProto(in.kind());
  q.professional_member_ids.assign(in.professional_member_ids().begin(),
                                   in.professional_member_ids().end());
  q.page_size = in.page_size();
  q.page_token = in.page_token();
  return q;
}

absl::StatusOr<absl::CivilDay> DayFromProto(const common::v1::Date& date, absl::string_view field) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (day.year() != date.year() || day.month() != date.month() || day.day() != date.day()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a calendar day"));
  }
  return day;
}

void ToProto(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

absl::StatusOr<BookingDraft> FromProto(const v1::BookSlotRequest& in) {
  BookingDraft d;
  d.slot_id = in.slot_id();
  d.patient.given_name = in.patient().given_name();
  d.patient.family_name = in.patient().family_name();
  CPTS_ASSIGN_OR_RETURN(d.patient.birth_date,
                        DayFromProto(in.patient().birth_date(), "patient.birth_date"));
  if (!v1::Sex_IsValid(in.patient().sex())) return EnumError("patient.sex", in.patient().sex());
  d.patient.sex = SexFromProto(in.patient().sex());
  d.contact.phone = in.contact().phone();
  d.contact.email = in.contact().email();
  d.reason = in.reason();
  d.request_id = in.request_id();
  return d;
}

void ToProto(const Booking& b, v1::Booking* out) {
  out->set_id(b.id);
  out->set_slot_id(b.slot_id);
  // A purged booking (retention) has no patient any more: the field stays unset.
  if (b.purge_time == absl::InfinitePast()) {
    out->mutable_patient()->set_given_name(b.patient.given_name);
    out->mutable_patient()->set_family_name(b.patient.family_name);
    ToProto(b.patient.birth_date, out->mutable_patient()->mutable_birth_date());
    out->mutable_patient()->set_sex(SexToProto(b.patient.sex));
  }
  if (!b.contact.phone.empty() || !b.contact.email.empty()) {
    out->mutable_contact()->set_phone(b.contact.phone);
    out->mutable_contact()->set_email(b.contact.email);
  }
  out->set_reason(b.reason);
  out->set_origin(OriginToProto(b.origin));
  out->set_booked_by(b.booked_by);
  out->set_booker_member_id(b.booker_member_id);
  out->set_booker_profession_code(b.booker_profession_code);
  out->set_state(StateToProto(b.state));
  out->set_cancel_reason(b.cancel_reason);
  ToProto(b.create_time, out->mutable_create_time());
  if (b.state == BookingState::kCancelled) ToProto(b.cancel_time, out->mutable_cancel_time());
  if (b.state == BookingState::kFulfilled || b.state == BookingState::kNoShow) {
    ToProto(b.outcome_time, out->mutable_outcome_time());
  }
  out->set_etag(Etag(b.version));
}

BookingOutcome FromProto(v1::BookingOutcome outcome) {
  switch (outcome) {
    case v1::BOOKING_OUTCOME_FULFILLED:
      return BookingOutcome::kFulfilled;
    case v1::BOOKING_OUTCOME_NO_SHOW:
      return BookingOutcome::kNoShow;
    default:
      return BookingOutcome::kUnspecified;
  }
}

void ToProto(const SnpIndicators& in, absl::CivilDay first, absl::CivilDay last,
             absl::Time compute_time, v1::SnpIndicators* out) {
  ToProto(first, out->mutable_period()->mutable_start_date());
  ToProto(last, out->mutable_period()->mutable_end_date());
  ToProto(compute_time, out->mutable_compute_time());
  out->set_slots_published(in.slots_published);
  out->set_slots_booked(in.slots_booked);
  out->set_booking_rate(in.booking_rate);
  out->set_fulfilled(in.fulfilled);
  out->set_no_shows(in.no_shows);
  out->set_cancelled(in.cancelled);
  out->set_walk_in_slots(in.walk_in_slots);
  for (const auto& [code, count] : in.bookings_by_booker_profession) {
    auto* c = out->add_bookings_by_booker_profession();
    c->set_profession_code(code);
    c->set_count(count);
  }
  for (const auto& [origin, count] : in.bookings_by_origin) {
    auto* c = out->add_bookings_by_origin();
    c->set_origin(OriginToProto(origin));
    c->set_count(count);
  }
}

}  // namespace cpts::access::snp
