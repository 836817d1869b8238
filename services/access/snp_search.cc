#include "services/access/snp_search.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/access/mt_validators.h"
#include "services/access/snp_slots.h"
#include "services/membership/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;
using ::cpts::membership::FieldError;
using ::cpts::membership::ValidateInseeCommune;
using ::cpts::membership::ValidateProfessionCode;
using Principal = platform::auth::Principal;

constexpr std::size_t kMaxCommunes = 50;
constexpr std::size_t kMaxProfessions = 20;
constexpr std::size_t kMaxProfessionals = 50;
constexpr absl::string_view kTokenVersion = "s1";

template <typename T>
void SortUnique(std::vector<T>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

// A stable digest of the normalised filters (FNV-1a 64 over a length-prefixed canonical
// form): detects a page token reused with other filters. Not a security hash.
std::string FilterDigest(const SlotSearchPlan& plan) {
  std::string canon;
  const auto add = [&canon](absl::string_view value) {
    absl::StrAppend(&canon, value.size(), ":", value, ";");
  };
  add(plan.tenant_id);
  add(absl::StrCat(absl::ToUnixMicros(plan.start_from)));
  add(absl::StrCat(absl::ToUnixMicros(plan.start_before)));
  for (const std::string& c : plan.communes) add(c);
  add("|");
  for (const std::string& p : plan.profession_codes) add(p);
  add("|");
  for (const ConsultationMode m : plan.modes) add(ConsultationModeName(m));
  add("|");
  for (const Visibility v : plan.visibilities) add(VisibilityName(v));
  add("|");
  add(SlotKindName(plan.kind));
  for (const std::string& m : plan.professional_member_ids) add(m);
  uint64_t hash = 14695981039346656037ULL;
  for (const unsigned char c : canon) hash = (hash ^ c) * 1099511628211ULL;
  return absl::StrCat(absl::Hex(hash, absl::kZeroPad16));
}

std::string EncodeToken(absl::string_view digest, const Slot& last) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kTokenVersion, ":", digest, ":", absl::ToUnixMicros(last.start), ":", last.id));
}

absl::StatusOr<SlotCursor> DecodeToken(absl::string_view token, absl::string_view digest) {
  const absl::Status invalid = FieldError("page_token", "is not a valid page token");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return invalid;
  const std::vector<absl::string_view> parts = absl::StrSplit(raw, absl::MaxSplits(':', 3));
  if (parts.size() != 4 || parts[0] != kTokenVersion) return invalid;
  int64_t micros = 0;
  if (!absl::SimpleAtoi(parts[2], &micros) || !ValidateId(parts[3], "id").ok()) {
    return invalid;
  }
  if (parts[1] != digest) {
    return FieldError("page_token", "was issued for a request with different filters");
  }
  SlotCursor cursor;
  cursor.start = absl::FromUnixMicros(micros);
  cursor.id = std::string(parts[3]);
  return cursor;
}

}  // namespace

// --- visibility ------------------------------------------------------------------------

Visibility MaxVisibilityFor(const Principal& caller) {
  if (caller.tenant_id.empty()) return Visibility::kUnspecified;
  if (caller.HasAnyRole({roles::kCoordinator, snp_roles::kSecretary})) return Visibility::kCpts;
  if (caller.HasRole(snp_roles::kSasRegulator)) return Visibility::kSnp;
  if (caller.HasAnyRole({roles::kMember, snp_roles::kTriageNurse})) return Visibility::kPro;
  return Visibility::kPublic;
}

std::vector<Visibility> AllowedVisibilities(const Principal& caller) {
  const Visibility max = MaxVisibilityFor(caller);
  std::vector<Visibility> out;
  for (const Visibility v :
       {Visibility::kPublic, Visibility::kPro, Visibility::kSnp, Visibility::kCpts}) {
    if (max != Visibility::kUnspecified && v <= max) out.push_back(v);
  }
  return out;
}

bool CanSee(const Principal& caller, Visibility visibility) {
  const Visibility max = MaxVisibilityFor(caller);
  return visibility != Visibility::kUnspecified && max != Visibility::kUnspecified &&
         visibility <= max;
}

// --- planning --------------------------------------------------------------------------

absl::StatusOr<SlotSearchPlan> PlanSlotSearch(const Principal& caller,
                                              const SlotSearchQuery& query) {
  if (caller.tenant_id.empty()) {
    return absl::PermissionDeniedError("the caller's token is not attached to a CPTS");
  }
  SlotSearchPlan plan;
  plan.tenant_id = caller.tenant_id;

  if (query.start_time == absl::InfinitePast() || query.start_time == absl::InfiniteFuture()) {
    return FieldError("start_time", "required");
  }
  if (query.end_time == absl::InfinitePast() || query.end_time == absl::InfiniteFuture()) {
    return FieldError("end_time", "required");
  }
  if (query.end_time <= query.start_time) {
    return FieldError("end_time", "must be after start_time");
  }
  if (query.end_time - query.start_time > kMaxSlotSearchWindow) {
    return FieldError("end_time", "must be at most 31 days after start_time");
  }
  plan.start_from = SnpStoreTime(query.start_time);
  plan.start_before = SnpStoreTime(query.end_time);

  if (query.communes.size() > kMaxCommunes) {
    return FieldError("communes", absl::StrCat("at most ", kMaxCommunes, " communes"));
  }
  for (std::size_t i = 0; i < query.communes.size(); ++i) {
    std::string commune = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(query.communes[i]));
    CPTS_RETURN_IF_ERROR(ValidateInseeCommune(commune, absl::StrCat("communes[", i, "]")));
    plan.communes.push_back(std::move(commune));
  }
  SortUnique(plan.communes);

  if (query.profession_codes.size() > kMaxProfessions) {
    return FieldError("profession_codes",
                      absl::StrCat("at most ", kMaxProfessions, " profession codes"));
  }
  for (std::size_t i = 0; i < query.profession_codes.size(); ++i) {
    CPTS_RETURN_IF_ERROR(ValidateProfessionCode(query.profession_codes[i],
                                                absl::StrCat("profession_codes[", i, "]")));
  }
  plan.profession_codes = query.profession_codes;
  SortUnique(plan.profession_codes);

  if (query.professional_member_ids.size() > kMaxProfessionals) {
    return FieldError("professional_member_ids",
                      absl::StrCat("at most ", kMaxProfessionals, " professionals"));
  }
  for (std::size_t i = 0; i < query.professional_member_ids.size(); ++i) {
    CPTS_RETURN_IF_ERROR(ValidateId(query.professional_member_ids[i],
                                    absl::StrCat("professional_member_ids[", i, "]")));
  }
  plan.professional_member_ids = query.professional_member_ids;
  SortUnique(plan.professional_member_ids);

  for (std::size_t i = 0; i < query.modes.size(); ++i) {
    if (query.modes[i] == ConsultationMode::kUnspecified) {
      return FieldError(absl::StrCat("modes[", i, "]"), "must be OFFICE, HOME or VIDEO");
    }
  }
  plan.modes = query.modes;
  SortUnique(plan.modes);

  const std::vector<Visibility> allowed = AllowedVisibilities(caller);
  if (query.visibilities.empty()) {
    plan.visibilities = allowed;
  } else {
    for (std::size_t i = 0; i < query.visibilities.size(); ++i) {
      const Visibility v = query.visibilities[i];
      if (v == Visibility::kUnspecified) {
        return FieldError(absl::StrCat("visibilities[", i, "]"),
                          "must be PUBLIC, PRO, SNP or CPTS");
      }
      if (!CanSee(caller, v)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "visibilities[", i, "]: the caller's role may not see ", VisibilityName(v), " slots"));
      }
    }
    plan.visibilities = query.visibilities;
    SortUnique(plan.visibilities);
  }
  plan.kind = query.kind;

  if (query.page_size < 0) return FieldError("page_size", "must not be negative");
  plan.page_size =
      query.page_size == 0 ? kDefaultSlotPageSize : std::min(query.page_size, kMaxSlotPageSize);

  plan.filter_digest = FilterDigest(plan);
  if (!query.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(plan.after, DecodeToken(query.page_token, plan.filter_digest));
  }
  return plan;
}

// --- results ---------------------------------------------------------------------------

bool SlotSearchOrder(const Slot& a, const Slot& b) {
  if (a.start != b.start) return a.start < b.start;
  return a.id < b.id;
}

bool SlotMatches(const SlotSearchPlan& plan, const Slot& slot) {
  const auto contains = [](const auto& list, const auto& value) {
    return std::binary_search(list.begin(), list.end(), value);
  };
  if (slot.tenant_id != plan.tenant_id || slot.status != SlotStatus::kFree) return false;
  if (slot.start < plan.start_from || slot.start >= plan.start_before) return false;
  if (!plan.communes.empty() && !contains(plan.communes, slot.place.commune_insee)) return false;
  if (!plan.profession_codes.empty() && !contains(plan.profession_codes, slot.profession_code)) {
    return false;
  }
  if (!plan.modes.empty() && !contains(plan.modes, slot.mode)) return false;
  if (!contains(plan.visibilities, slot.visibility)) return false;
  if (plan.kind != SlotKind::kUnspecified && slot.kind != plan.kind) return false;
  if (!plan.professional_member_ids.empty() &&
      !contains(plan.professional_member_ids, slot.professional_member_id)) {
    return false;
  }
  if (plan.after.has_value()) {
    const SlotCursor& c = *plan.after;
    if (slot.start < c.start || (slot.start == c.start && slot.id <= c.id)) return false;
  }
  return true;
}

SlotSearchPage FinishSlotSearch(const SlotSearchPlan& plan, std::vector<Slot> rows) {
  SlotSearchPage page;
  const auto size = static_cast<std::size_t>(plan.page_size);
  if (rows.size() > size) {
    rows.resize(size);
    page.next_page_token = EncodeToken(plan.filter_digest, rows.back());
  }
  page.slots = std::move(rows);
  return page;
}

}  // namespace cpts::access
