#pragma once

// Searching the free SNP slots of a tenant: who sees which visibility, the filters, the order
// (start time, then id) and the keyset page token. Pure functions, no I/O.
//
// Visibility matrix. The levels are nested (snp_model.h): a caller reaching a level sees the
// slots of that level and of every level before it. The level is the highest one any of the
// caller's roles reaches:
//
//   role                                   PUBLIC  PRO  SNP  CPTS
//   any caller of the tenant (public_form,   x
//     partner, service, reporting, ...)
//   member, triage_nurse                     x      x
//   sas_regulator                            x      x    x
//   secretary, coordinator                   x      x    x    x
//
// PUBLIC: everyone, patients' booking tools included. PRO: the health professionals of the
// tenant. SNP: unscheduled-care regulation (SAS regulators) and the CPTS coordination. CPTS:
// the coordination only. (The SAS's own FHIR search is not a role of this table: it receives
// every slot with its levels as TRE_R314 codes, see fhir_slots.h.)
//
// Paging is keyset: the store runs
//   WHERE tenant_id = ? AND status = 'FREE' AND start >= ? AND start < ? AND <filters>
//     AND (start, id) > (cursor_start, cursor_id)
//   ORDER BY start, id LIMIT page_size + 1
// and FinishSlotSearch turns the extra row into next_page_token. A token is bound to the
// filters it was issued for.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/access/snp_model.h"
#include "services/platform/auth/principal.h"

namespace cpts::access {

inline constexpr int kDefaultSlotPageSize = 100;
inline constexpr int kMaxSlotPageSize = 1000;
inline constexpr absl::Duration kMaxSlotSearchWindow = absl::Hours(24 * 31);

// The highest visibility level the caller reaches (see the matrix); kUnspecified when the
// caller has no tenant.
Visibility MaxVisibilityFor(const platform::auth::Principal& caller);

// The levels the caller sees, in order (kPublic first); empty when the caller has no tenant.
std::vector<Visibility> AllowedVisibilities(const platform::auth::Principal& caller);

// Whether a slot of `visibility` is visible to the caller.
bool CanSee(const platform::auth::Principal& caller, Visibility visibility);

// A SearchSlots request, as converted from the proto.
struct SlotSearchQuery {
  absl::Time start_time = absl::InfinitePast();  // required: slots starting at or after
  absl::Time end_time = absl::InfinitePast();    // required: slots starting before
  std::vector<std::string> communes;             // INSEE codes, at most 50
  std::vector<std::string> profession_codes;     // at most 20
  std::vector<ConsultationMode> modes;
  std::vector<Visibility> visibilities;              // among the allowed ones; empty = all allowed
  SlotKind kind = SlotKind::kUnspecified;            // unspecified = both
  std::vector<std::string> professional_member_ids;  // at most 50
  int page_size = 0;                                 // 0 = default
  std::string page_token;
};

// The keyset position: the last slot of the previous page.
struct SlotCursor {
  absl::Time start = absl::InfinitePast();
  std::string id;
};

// What the store runs. Lists are sorted and without duplicates; an empty list means "no
// filter", except `visibilities`, never empty.
struct SlotSearchPlan {
  std::string tenant_id;
  absl::Time start_from = absl::InfinitePast();    // inclusive
  absl::Time start_before = absl::InfinitePast();  // exclusive
  std::vector<std::string> communes;
  std::vector<std::string> profession_codes;
  std::vector<ConsultationMode> modes;
  std::vector<Visibility> visibilities;
  SlotKind kind = SlotKind::kUnspecified;
  std::vector<std::string> professional_member_ids;
  std::optional<SlotCursor> after;       // only slots strictly after it in (start, id) order
  int page_size = kDefaultSlotPageSize;  // the store fetches page_size + 1 rows
  std::string filter_digest;             // binds page tokens to these filters
};

// Validates the query against the caller's rights. Errors: PermissionDenied (no tenant; a
// requested visibility the caller may not see), InvalidArgument naming the field
// ("start_time", "end_time" after start_time and at most 31 days later, "communes[2]",
// "profession_codes", "professional_member_ids[0]", "modes[1]", "visibilities[0]",
// "page_size" negative, "page_token" malformed or issued for other filters). A page_size
// above the maximum is clamped.
absl::StatusOr<SlotSearchPlan> PlanSlotSearch(const platform::auth::Principal& caller,
                                              const SlotSearchQuery& query);

// Strict (start, id) order: the order of every search result.
bool SlotSearchOrder(const Slot& a, const Slot& b);

// Whether `slot` belongs to the result of `plan` (free, of the tenant, in the window,
// matching every filter, after the cursor). What a fake store filters with; the SQL of the
// real store must agree.
bool SlotMatches(const SlotSearchPlan& plan, const Slot& slot);

struct SlotSearchPage {
  std::vector<Slot> slots;
  std::string next_page_token;  // empty on the last page
};

// `rows`: the store's result, in SlotSearchOrder, at most plan.page_size + 1 rows. Keeps the
// first page_size; when there was one more, the token points after the last one kept.
SlotSearchPage FinishSlotSearch(const SlotSearchPlan& plan, std::vector<Slot> rows);

}  // namespace cpts::access
