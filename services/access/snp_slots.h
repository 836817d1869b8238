#pragma once

// Publishing and withdrawing SNP slots: pure rules, no I/O, no clock ("now" is a parameter).
// Field errors are InvalidArgument("<field>: <problem>") with the field named as in the proto
// request; the generic validators (INSEE, free text, ids) are membership's, as for the MT
// part (mt_validators.h).
//
//   PublishSlots: ResolveProfessional (who the slot is for, may the caller publish for them)
//     -> the service checks with membership that the professional is an active member and
//        sets Slot::profession_code
//     -> the store loads the professional's non-withdrawn slots in OverlapWindows(drafts)
//     -> PreparePublish (every field, then overlaps) -> the store inserts, all or nothing.
//   WithdrawSlot: CheckCanWithdraw -> ApplyWithdraw.
//
// Overlap: slots are half-open intervals [start, start + duration), so a slot ending at 10:00
// and one starting at 10:00 do not overlap. Two slots of the same professional never overlap,
// whatever their mode or place; withdrawn slots do not count. The domain check sees the
// slots the store read: two concurrent PublishSlots for the same professional could each pass
// it, so the store must serialise publications per professional (e.g. lock the
// professional's row, or SELECT ... FOR UPDATE the overlapping range, in the transaction that
// inserts).

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/access/snp_model.h"
#include "services/platform/auth/principal.h"
#include "services/platform/core/ids.h"

namespace cpts::access {

struct PublishPolicy {
  absl::Duration min_duration = absl::Minutes(5);
  absl::Duration max_duration = absl::Hours(12);
  // How far ahead a slot may start.
  absl::Duration max_lead = absl::Hours(24 * 366);
  std::size_t max_slots_per_request = 500;
};

// ---------------------------------------------------------------------------------------
// Publishing
// ---------------------------------------------------------------------------------------

// The professional a slot is published for. An empty `requested` means the caller, who must
// then be a member (role `member` with a member id). A member may publish for themselves;
// coordinator and secretary for anyone of the tenant. Errors: PermissionDenied (no tenant,
// or not allowed to publish for someone else), InvalidArgument "<field>: ..." (empty and the
// caller is not a member; malformed id).
absl::StatusOr<std::string> ResolveProfessional(const platform::auth::Principal& caller,
                                                absl::string_view requested,
                                                absl::string_view field);

// Checks and normalises one slot of a PublishSlots request in place (`field` names it, e.g.
// "slots[2]"): start set, on a whole minute, not before `now`, at most policy.max_lead ahead;
// duration whole minutes within [min_duration, max_duration]; mode, visibility and kind set;
// the place as the mode requires (office: commune + address, at most 200 characters; home:
// commune, no address; video: no place). InvalidArgument naming the sub-field, e.g.
// "slots[2].place.address: required for an OFFICE slot".
absl::Status NormalizeSlotDraft(Slot& draft, absl::Time now, absl::string_view field,
                                const PublishPolicy& policy = {});

// [a.start, a.end()) and [b.start, b.end()) intersect. Adjacent slots do not.
bool Overlaps(const Slot& a, const Slot& b);

// For each professional of `drafts`, the range [from, to) of existing slots the store must
// load for CheckNoOverlap: from the earliest draft start to the latest draft end. Sorted by
// professional.
struct OverlapWindow {
  std::string professional_member_id;
  absl::Time from = absl::InfinitePast();
  absl::Time to = absl::InfinitePast();
};
std::vector<OverlapWindow> OverlapWindows(const std::vector<Slot>& drafts);

// No two drafts of the same professional overlap: InvalidArgument "slots[3]: overlaps
// slots[1] (same professional)". No draft overlaps a non-withdrawn `existing` slot of the
// same professional: FailedPrecondition "slots[3]: overlaps the existing slot <id> of the
// same professional (<start> to <end>)". The first conflict in request order is reported.
absl::Status CheckNoOverlap(const std::vector<Slot>& drafts, const std::vector<Slot>& existing);

struct PublishContext {
  std::string tenant_id;
  std::string subject;  // the caller's, recorded as published_by
  absl::Time now = absl::InfinitePast();
};

// The whole PublishSlots rule: 1 to policy.max_slots_per_request drafts, each normalised
// (NormalizeSlotDraft, fields "slots[i]"), each with a professional_member_id and a
// profession_code already resolved by the service, then CheckNoOverlap against `existing`
// (the store's non-withdrawn slots in OverlapWindows). Returns the slots to insert, in
// request order: new ids, the tenant, status FREE, published_by, create/update time `now`
// (truncated to microseconds, the store's precision), version 1. Nothing is returned unless
// every draft passes.
absl::StatusOr<std::vector<Slot>> PreparePublish(std::vector<Slot> drafts,
                                                 const std::vector<Slot>& existing,
                                                 const PublishContext& context,
                                                 platform::IdGenerator& ids,
                                                 const PublishPolicy& policy = {});

// ---------------------------------------------------------------------------------------
// Withdrawing
// ---------------------------------------------------------------------------------------

// The slot's professional (role member, same member id), coordinator or secretary of the
// slot's tenant. PermissionDenied otherwise; NotFound when the slot belongs to another tenant
// (its existence is not revealed).
absl::Status CheckCanWithdraw(const platform::auth::Principal& caller, const Slot& slot);

// FREE -> WITHDRAWN, before the slot starts. `reason` is optional, one line, at most 500
// characters ("reason: ..."). FailedPrecondition: booked ("cancel the booking first"), already
// withdrawn, or started. On error `slot` is unchanged.
absl::Status ApplyWithdraw(Slot& slot, absl::string_view reason, absl::Time now);

// The time as the store keeps it (DATETIME(6)): truncated to whole microseconds.
absl::Time SnpStoreTime(absl::Time t);

}  // namespace cpts::access
