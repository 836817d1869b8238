#include "services/access/snp_slots.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/access/mt_validators.h"
#include "services/membership/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;
using ::cpts::membership::FieldError;
using ::cpts::membership::ValidateInseeCommune;
using Principal = platform::auth::Principal;

constexpr std::size_t kMaxAddressChars = 200;

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

bool OnWholeMinute(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Minutes(1)) == t;
}

absl::Status CheckPlace(const Slot& draft, absl::string_view field) {
  const std::string place = absl::StrCat(field, ".place");
  switch (draft.mode) {
    case ConsultationMode::kOffice:
      if (draft.place.commune_insee.empty()) {
        return FieldError(absl::StrCat(place, ".commune_insee"), "required for an OFFICE slot");
      }
      CPTS_RETURN_IF_ERROR(
          ValidateInseeCommune(draft.place.commune_insee, absl::StrCat(place, ".commune_insee")));
      if (draft.place.address.empty()) {
        return FieldError(absl::StrCat(place, ".address"), "required for an OFFICE slot");
      }
      return absl::OkStatus();
    case ConsultationMode::kHome:
      if (draft.place.commune_insee.empty()) {
        return FieldError(absl::StrCat(place, ".commune_insee"),
                          "required for a HOME slot (the commune served)");
      }
      CPTS_RETURN_IF_ERROR(
          ValidateInseeCommune(draft.place.commune_insee, absl::StrCat(place, ".commune_insee")));
      if (!draft.place.address.empty()) {
        return FieldError(absl::StrCat(place, ".address"),
                          "must be empty for a HOME slot (the patient's home is not "
                          "published)");
      }
      return absl::OkStatus();
    case ConsultationMode::kVideo:
      if (!draft.place.empty()) return FieldError(place, "must be unset for a VIDEO slot");
      return absl::OkStatus();
    case ConsultationMode::kUnspecified:
      break;
  }
  return FieldError(absl::StrCat(field, ".mode"), "required: OFFICE, HOME or VIDEO");
}

std::string SlotField(std::size_t index) { return absl::StrCat("slots[", index, "]"); }

}  // namespace

// --- helpers -------------------------------------------------------------------------

absl::Time SnpStoreTime(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return t;
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Microseconds(1));
}

// --- publishing ------------------------------------------------------------------------

absl::StatusOr<std::string> ResolveProfessional(const Principal& caller,
                                                absl::string_view requested,
                                                absl::string_view field) {
  if (caller.tenant_id.empty()) {
    return absl::PermissionDeniedError("the caller's token is not attached to a CPTS");
  }
  const bool is_member = caller.HasRole(roles::kMember) && !caller.member_id.empty();
  const bool for_anyone = caller.HasAnyRole({roles::kCoordinator, snp_roles::kSecretary});
  if (requested.empty()) {
    if (!is_member) {
      return FieldError(field, "required: the caller is not a professional of the CPTS");
    }
    return caller.member_id;
  }
  CPTS_RETURN_IF_ERROR(ValidateId(requested, field));
  if (for_anyone || (is_member && caller.member_id == requested)) return std::string(requested);
  return absl::PermissionDeniedError(
      "caller may not publish slots for another professional (coordinator or secretary only)");
}

absl::Status NormalizeSlotDraft(Slot& draft, absl::Time now, absl::string_view field,
                                const PublishPolicy& policy) {
  const std::string start_field = absl::StrCat(field, ".start_time");
  const std::string duration_field = absl::StrCat(field, ".duration");
  if (draft.start == absl::InfinitePast() || draft.start == absl::InfiniteFuture()) {
    return FieldError(start_field, "required");
  }
  if (!OnWholeMinute(draft.start)) {
    return FieldError(start_field, "must be on a whole minute (no seconds)");
  }
  if (draft.start < now) return FieldError(start_field, "must not be in the past");
  if (draft.start > now + policy.max_lead) {
    return FieldError(start_field, absl::StrCat("must be at most ",
                                                policy.max_lead / absl::Hours(24), " days ahead"));
  }
  if (draft.duration == absl::ZeroDuration()) return FieldError(duration_field, "required");
  if (absl::Floor(draft.duration, absl::Minutes(1)) != draft.duration) {
    return FieldError(duration_field, "must be whole minutes");
  }
  if (draft.duration < policy.min_duration || draft.duration > policy.max_duration) {
    return FieldError(duration_field,
                      absl::StrCat("must be between ", absl::FormatDuration(policy.min_duration),
                                   " and ", absl::FormatDuration(policy.max_duration)));
  }
  if (draft.mode == ConsultationMode::kUnspecified) {
    return FieldError(absl::StrCat(field, ".mode"), "required: OFFICE, HOME or VIDEO");
  }
  if (draft.visibility == Visibility::kUnspecified) {
    return FieldError(absl::StrCat(field, ".visibility"), "required: PUBLIC, PRO, SNP or CPTS");
  }
  if (draft.kind == SlotKind::kUnspecified) {
    return FieldError(absl::StrCat(field, ".kind"), "required: BOOKABLE or WALK_IN");
  }
  // An address is a one-line label: trimmed, inner white space collapsed (NormalizeName).
  if (!absl::StripAsciiWhitespace(draft.place.address).empty()) {
    CPTS_ASSIGN_OR_RETURN(
        draft.place.address,
        membership::NormalizeName(draft.place.address, absl::StrCat(field, ".place.address"),
                                  kMaxAddressChars));
  } else {
    draft.place.address.clear();
  }
  draft.place.commune_insee =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(draft.place.commune_insee));
  return CheckPlace(draft, field);
}

bool Overlaps(const Slot& a, const Slot& b) { return a.start < b.end() && b.start < a.end(); }

std::vector<OverlapWindow> OverlapWindows(const std::vector<Slot>& drafts) {
  std::map<std::string, OverlapWindow> by_professional;
  for (const Slot& d : drafts) {
    auto [it, inserted] = by_professional.try_emplace(d.professional_member_id);
    OverlapWindow& w = it->second;
    if (inserted) {
      w.professional_member_id = d.professional_member_id;
      w.from = d.start;
      w.to = d.end();
    } else {
      w.from = std::min(w.from, d.start);
      w.to = std::max(w.to, d.end());
    }
  }
  std::vector<OverlapWindow> out;
  out.reserve(by_professional.size());
  for (auto& entry : by_professional) out.push_back(std::move(entry.second));
  return out;
}

absl::Status CheckNoOverlap(const std::vector<Slot>& drafts, const std::vector<Slot>& existing) {
  // Within the batch: sort by (professional, start, index) and compare each draft with the
  // earlier ones still running. The conflict reported is the one whose later index is the
  // smallest, so that the message does not depend on the sort.
  std::vector<std::size_t> order(drafts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Slot& x = drafts[a];
    const Slot& y = drafts[b];
    if (x.professional_member_id != y.professional_member_id) {
      return x.professional_member_id < y.professional_member_id;
    }
    if (x.start != y.start) return x.start < y.start;
    return a < b;
  });
  std::optional<std::pair<std::size_t, std::size_t>> conflict;  // (later index, other index)
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Slot& current = drafts[order[k]];
    // Every earlier draft of the same professional that ends after this one starts overlaps
    // it (their starts are not later). Walk back while the professional is the same.
    for (std::size_t j = k; j-- > 0;) {
      const Slot& earlier = drafts[order[j]];
      if (earlier.professional_member_id != current.professional_member_id) break;
      if (!Overlaps(earlier, current)) continue;
      const std::size_t later = std::max(order[j], order[k]);
      const std::size_t other = std::min(order[j], order[k]);
      if (!conflict.has_value() || later < conflict->first ||
          (later == conflict->first && other < conflict->second)) {
        conflict = std::make_pair(later, other);
      }
    }
  }
  if (conflict.has_value()) {
    return FieldError(
        SlotField(conflict->first),
        absl::StrCat("overlaps ", SlotField(conflict->second), " (same professional)"));
  }

  // Against the stored slots, in request order.
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    const Slot& draft = drafts[i];
    const Slot* hit = nullptr;
    for (const Slot& other : existing) {
      if (other.status == SlotStatus::kWithdrawn ||
          other.professional_member_id != draft.professional_member_id || !Overlaps(other, draft)) {
        continue;
      }
      if (hit == nullptr || other.start < hit->start ||
          (other.start == hit->start && other.id < hit->id)) {
        hit = &other;
      }
    }
    if (hit != nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          SlotField(i), ": overlaps the existing slot ", hit->id, " of the same professional (",
          IsoTime(hit->start), " to ", IsoTime(hit->end()), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Slot>> PreparePublish(std::vector<Slot> drafts,
                                                 const std::vector<Slot>& existing,
                                                 const PublishContext& context,
                                                 platform::IdGenerator& ids,
                                                 const PublishPolicy& policy) {
  if (drafts.empty()) return FieldError("slots", "required: at least one slot");
  if (drafts.size() > policy.max_slots_per_request) {
    return FieldError("slots",
                      absl::StrCat("at most ", policy.max_slots_per_request, " slots per request"));
  }
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    Slot& draft = drafts[i];
    const std::string field = SlotField(i);
    CPTS_RETURN_IF_ERROR(
        ValidateId(draft.professional_member_id, absl::StrCat(field, ".professional_member_id")));
    if (draft.profession_code.empty()) {
      return absl::InternalError(
          absl::StrCat(field, ": the professional's profession was not resolved"));
    }
    CPTS_RETURN_IF_ERROR(NormalizeSlotDraft(draft, context.now, field, policy));
  }
  CPTS_RETURN_IF_ERROR(CheckNoOverlap(drafts, existing));

  const absl::Time now = SnpStoreTime(context.now);
  for (Slot& slot : drafts) {
    slot.id = ids.NewId();
    slot.tenant_id = context.tenant_id;
    slot.status = SlotStatus::kFree;
    slot.booking_id.clear();
    slot.published_by = context.subject;
    slot.withdraw_reason.clear();
    slot.create_time = now;
    slot.update_time = now;
    slot.version = 1;
  }
  return drafts;
}

// --- withdrawing -----------------------------------------------------------------------

absl::Status CheckCanWithdraw(const Principal& caller, const Slot& slot) {
  if (caller.tenant_id.empty() || caller.tenant_id != slot.tenant_id) {
    return absl::NotFoundError(absl::StrCat("slot ", slot.id, " not found"));
  }
  if (caller.HasAnyRole({roles::kCoordinator, snp_roles::kSecretary})) return absl::OkStatus();
  if (caller.HasRole(roles::kMember) && !caller.member_id.empty() &&
      caller.member_id == slot.professional_member_id) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      "caller may not withdraw this slot (its professional, coordinator or secretary only)");
}

absl::Status ApplyWithdraw(Slot& slot, absl::string_view reason, absl::Time now) {
  CPTS_ASSIGN_OR_RETURN(std::string normalized,
                        NormalizeReason(reason, "reason", /*required=*/false));
  switch (slot.status) {
    case SlotStatus::kFree:
      break;
    case SlotStatus::kBooked:
      return absl::FailedPreconditionError(
          "slot is BOOKED; WITHDRAW is allowed only from FREE: cancel the booking first");
    case SlotStatus::kWithdrawn:
      return absl::FailedPreconditionError("slot is already WITHDRAWN");
    case SlotStatus::kUnspecified:
      return absl::FailedPreconditionError(
          "slot is UNSPECIFIED; WITHDRAW is allowed only from FREE");
  }
  if (slot.start <= now) {
    return absl::FailedPreconditionError(absl::StrCat("slot started at ", IsoTime(slot.start),
                                                      "; only a future slot can be withdrawn"));
  }
  slot.status = SlotStatus::kWithdrawn;
  slot.withdraw_reason = std::move(normalized);
  slot.update_time = SnpStoreTime(now);
  return absl::OkStatus();
}

}  // namespace cpts::access
