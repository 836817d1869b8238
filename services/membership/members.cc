#include "services/membership/members.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/membership/professions_catalog.h"
#include "services/membership/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::membership {
namespace {

namespace roles = platform::auth::roles;
using Principal = platform::auth::Principal;

constexpr absl::CivilDay kEarliestDay(2000, 1, 1);
constexpr absl::CivilDay kLatestDay(2100, 12, 31);
constexpr int64_t kMaxFeeCents = 1'000'000;          // 10 000 €: a typo guard, not a rule
constexpr int64_t kMaxCotisationCents = 10'000'000;  // 100 000 €
constexpr std::size_t kMaxPracticePlaces = 20;
constexpr std::size_t kMaxTerritoryCommunes = 500;
constexpr std::size_t kMaxReason = 500;

// --- authorization ---------------------------------------------------------------------

absl::Status Denied(absl::string_view what) {
  return absl::PermissionDeniedError(absl::StrCat("caller may not ", what));
}

absl::Status RequireTenant(const Principal& caller) {
  if (caller.tenant_id.empty()) {
    return absl::PermissionDeniedError("the caller's token is not attached to a CPTS");
  }
  return absl::OkStatus();
}

absl::Status RequireRoles(const Principal& caller, std::initializer_list<std::string_view> wanted,
                          absl::string_view what) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (!caller.HasAnyRole(wanted)) return Denied(what);
  return absl::OkStatus();
}

bool IsSelf(const Principal& caller, absl::string_view member_id) {
  return caller.HasRole(roles::kMember) && !caller.member_id.empty() &&
         caller.member_id == member_id;
}

// Staff roles, or a member acting on their own record.
absl::Status RequireRolesOrSelf(const Principal& caller,
                                std::initializer_list<std::string_view> wanted,
                                absl::string_view member_id, absl::string_view what) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (caller.HasAnyRole(wanted) || IsSelf(caller, member_id)) return absl::OkStatus();
  return Denied(what);
}

// --- idempotency fingerprints and page tokens ------------------------------------------

// A stable digest of a normalised request (two FNV-1a 64-bit hashes, forwards and
// backwards). Detects a request_id reused for a different request; not a security hash.
class Fingerprint {
 public:
  Fingerprint& Add(absl::string_view value) {
    absl::StrAppend(&canon_, value.size(), ":", value, ";");
    return *this;
  }
  Fingerprint& Add(int64_t value) { return Add(absl::string_view(absl::StrCat(value))); }
  Fingerprint& Add(absl::CivilDay day) {
    return Add(absl::string_view(absl::FormatCivilTime(day)));
  }
  Fingerprint& Add(const std::optional<absl::CivilDay>& day) {
    return day.has_value() ? Add(*day) : Add(absl::string_view("-"));
  }
  std::string Digest() const {
    uint64_t forward = 14695981039346656037ULL;
    uint64_t backward = 14695981039346656037ULL ^ 0x9E3779B97F4A7C15ULL;
    constexpr uint64_t kPrime = 1099511628211ULL;
    for (unsigned char c : canon_) forward = (forward ^ c) * kPrime;
    for (auto it = canon_.rbegin(); it != canon_.rend(); ++it) {
      backward = (backward ^ static_cast<unsigned char>(*it)) * kPrime;
    }
    return absl::StrCat(absl::Hex(forward, absl::kZeroPad16),
                        absl::Hex(backward, absl::kZeroPad16));
  }

 private:
  std::string canon_;
};

template <typename E>
int64_t EnumValue(E e) {
  return static_cast<int64_t>(e);
}

void AddMember(Fingerprint& f, const Member& m) {
  f.Add(EnumValue(m.kind))
      .Add(m.given_name)
      .Add(m.family_name)
      .Add(m.organization_name)
      .Add(m.profession_code)
      .Add(m.rpps)
      .Add(m.finess)
      .Add(EnumValue(m.exercise_mode))
      .Add(static_cast<int64_t>(m.practice_places.size()));
  for (const PracticePlace& p : m.practice_places) f.Add(p.commune_insee).Add(p.label);
  f.Add(m.college_id)
      .Add(m.contact.email)
      .Add(m.contact.phone)
      .Add(static_cast<int64_t>(m.consents.directory_listing.granted))
      .Add(static_cast<int64_t>(m.consents.communications.granted));
}

const IdempotencyKey* KeyOrNull(const std::optional<IdempotencyKey>& key) {
  return key.has_value() ? &*key : nullptr;
}

std::optional<IdempotencyKey> MakeKey(absl::string_view scope, absl::string_view request_id,
                                      std::string fingerprint) {
  if (request_id.empty()) return std::nullopt;
  return IdempotencyKey{std::string(scope), std::string(request_id), std::move(fingerprint)};
}

absl::Status ValidateOptionalRequestId(absl::string_view request_id) {
  if (request_id.empty()) return absl::OkStatus();
  return ValidateRequestId(request_id, "request_id");
}

// Page tokens: base64url of length-prefixed fields "v1", the list kind, a digest of the
// filters (a token is only valid with the filters it was issued for), then the cursor.
std::string EncodePageToken(absl::string_view kind, absl::string_view filters,
                            std::initializer_list<absl::string_view> cursor) {
  std::string raw;
  for (absl::string_view field : {absl::string_view("v1"), kind, filters}) {
    absl::StrAppend(&raw, field.size(), ":", field);
  }
  for (absl::string_view field : cursor) absl::StrAppend(&raw, field.size(), ":", field);
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::vector<std::string>> DecodePageToken(absl::string_view token,
                                                         absl::string_view kind,
                                                         absl::string_view filters,
                                                         std::size_t cursor_fields) {
  const absl::Status invalid = FieldError("page_token", "is not a valid page token");
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return invalid;
  std::vector<std::string> fields;
  absl::string_view rest = raw;
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    std::size_t len = 0;
    if (colon == absl::string_view::npos || colon > 6 ||
        !absl::SimpleAtoi(rest.substr(0, colon), &len) || rest.size() - colon - 1 < len) {
      return invalid;
    }
    fields.emplace_back(rest.substr(colon + 1, len));
    rest.remove_prefix(colon + 1 + len);
  }
  if (fields.size() != 3 + cursor_fields || fields[0] != "v1" || fields[1] != kind) {
    return invalid;
  }
  if (fields[2] != filters) {
    return FieldError("page_token", "was issued for a request with different filters");
  }
  fields.erase(fields.begin(), fields.begin() + 3);
  return fields;
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return FieldError("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

// --- small validation helpers ----------------------------------------------------------

std::string Trimmed(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

std::string WithoutSpaces(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t') out.push_back(c);
  }
  return out;
}

absl::Status CheckDay(absl::CivilDay day, absl::string_view field) {
  if (day < kEarliestDay) return FieldError(field, "required: a date on or after 2000-01-01");
  if (day > kLatestDay) return FieldError(field, "must be on or before 2100-12-31");
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormalizeCommune(absl::string_view code, absl::string_view field) {
  std::string c = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(code));
  CPTS_RETURN_IF_ERROR(ValidateInseeCommune(c, field));
  return c;
}

absl::StatusOr<std::string> RequiredReason(absl::string_view reason) {
  return NormalizeText(reason, "reason", kMaxReason, /*required=*/true, /*multiline=*/true);
}

absl::StatusOr<std::string> OptionalReason(absl::string_view reason) {
  return NormalizeText(reason, "reason", kMaxReason, /*required=*/false, /*multiline=*/true);
}

bool Overlaps(absl::CivilDay a_from, const std::optional<absl::CivilDay>& a_to,
              absl::CivilDay b_from, const std::optional<absl::CivilDay>& b_to) {
  const bool a_starts_before_b_ends = !b_to.has_value() || a_from <= *b_to;
  const bool b_starts_before_a_ends = !a_to.has_value() || b_from <= *a_to;
  return a_starts_before_b_ends && b_starts_before_a_ends;
}

std::string Period(absl::CivilDay from, const std::optional<absl::CivilDay>& to) {
  return absl::StrCat(absl::FormatCivilTime(from), " to ",
                      to.has_value() ? absl::FormatCivilTime(*to) : std::string("open end"));
}

// --- tenants ---------------------------------------------------------------------------

constexpr absl::string_view kTenantPaths[] = {
    "name", "finess", "size", "territory_communes", "annual_fee_cents", "membership_year_model"};
constexpr absl::string_view kCoordinatorTenantPaths[] = {"territory_communes", "annual_fee_cents",
                                                         "membership_year_model"};

absl::Status NormalizeTenant(Tenant& t) {
  CPTS_ASSIGN_OR_RETURN(t.name, NormalizeName(t.name, "tenant.name"));
  t.finess = Trimmed(t.finess);
  if (!t.finess.empty()) CPTS_RETURN_IF_ERROR(ValidateFiness(t.finess, "tenant.finess"));
  if (t.size < 1 || t.size > 4) return FieldError("tenant.size", "must be 1 to 4");
  if (t.territory_communes.size() > kMaxTerritoryCommunes) {
    return FieldError("tenant.territory_communes", "at most 500 communes");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < t.territory_communes.size(); ++i) {
    const std::string field = absl::StrCat("tenant.territory_communes[", i, "]");
    CPTS_ASSIGN_OR_RETURN(t.territory_communes[i],
                          NormalizeCommune(t.territory_communes[i], field));
    if (!seen.insert(t.territory_communes[i]).second) return FieldError(field, "duplicate commune");
  }
  if (t.annual_fee_cents < 0) return FieldError("tenant.annual_fee_cents", "must not be negative");
  if (t.annual_fee_cents > kMaxFeeCents) {
    return FieldError("tenant.annual_fee_cents", "must be at most 1000000 (10 000 €)");
  }
  return absl::OkStatus();
}

// --- members ---------------------------------------------------------------------------

constexpr absl::string_view kMemberPaths[] = {"given_name",
                                              "family_name",
                                              "organization_name",
                                              "profession_code",
                                              "rpps",
                                              "finess",
                                              "exercise_mode",
                                              "practice_places",
                                              "college_id",
                                              "contact",
                                              "contact.email",
                                              "contact.phone",
                                              "consents",
                                              "consents.directory_listing",
                                              "consents.communications"};
constexpr absl::string_view kSelfMemberPaths[] = {"contact",
                                                  "contact.email",
                                                  "contact.phone",
                                                  "consents",
                                                  "consents.directory_listing",
                                                  "consents.communications"};

template <std::size_t N>
bool Contains(const absl::string_view (&list)[N], absl::string_view value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

// Expands "*" and refuses unknown paths; keeps the order, drops repeats.
template <std::size_t N>
absl::StatusOr<std::vector<std::string>> CheckMask(const std::vector<std::string>& mask,
                                                   const absl::string_view (&allowed)[N]) {
  if (mask.empty()) return FieldError("update_mask", "required: name the fields to update");
  std::vector<std::string> out;
  for (const std::string& raw : mask) {
    const std::string path = Trimmed(raw);
    if (path == "*") {
      if (mask.size() != 1) return FieldError("update_mask", "'*' must be the only path");
      return std::vector<std::string>(std::begin(allowed), std::end(allowed));
    }
    if (!Contains(allowed, path)) {
      return FieldError("update_mask", absl::StrCat("unknown or read-only field '", path, "'"));
    }
    if (std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
  }
  return out;
}

bool MaskHas(const std::vector<std::string>& mask, absl::string_view path) {
  return std::find(mask.begin(), mask.end(), path) != mask.end();
}

// Format rules of a member, independent of stored data. Normalises in place.
absl::Status NormalizeMemberFields(Member& m, bool require_email) {
  switch (m.kind) {
    case MemberKind::kPerson: {
      CPTS_ASSIGN_OR_RETURN(m.given_name, NormalizeName(m.given_name, "member.given_name"));
      CPTS_ASSIGN_OR_RETURN(m.family_name, NormalizeName(m.family_name, "member.family_name"));
      if (!Trimmed(m.organization_name).empty()) {
        return FieldError("member.organization_name", "must be empty for a person");
      }
      m.organization_name.clear();
      if (!Trimmed(m.finess).empty()) {
        return FieldError("member.finess", "only a legal entity has a FINESS number");
      }
      m.finess.clear();
      m.profession_code = Trimmed(m.profession_code);
      if (m.profession_code.empty()) {
        return FieldError("member.profession_code", "required for a person");
      }
      CPTS_RETURN_IF_ERROR(ValidateProfessionCode(m.profession_code, "member.profession_code"));
      m.rpps = WithoutSpaces(m.rpps);
      if (!m.rpps.empty()) CPTS_RETURN_IF_ERROR(ValidateRpps(m.rpps, "member.rpps"));
      break;
    }
    case MemberKind::kLegalEntity: {
      CPTS_ASSIGN_OR_RETURN(m.organization_name,
                            NormalizeName(m.organization_name, "member.organization_name"));
      if (!Trimmed(m.given_name).empty()) {
        return FieldError("member.given_name", "must be empty for a legal entity");
      }
      if (!Trimmed(m.family_name).empty()) {
        return FieldError("member.family_name", "must be empty for a legal entity");
      }
      m.given_name.clear();
      m.family_name.clear();
      if (!Trimmed(m.profession_code).empty()) {
        return FieldError("member.profession_code", "must be empty for a legal entity");
      }
      m.profession_code.clear();
      if (!Trimmed(m.rpps).empty()) {
        return FieldError("member.rpps", "must be empty for a legal entity");
      }
      m.rpps.clear();
      if (m.exercise_mode != ExerciseMode::kUnspecified) {
        return FieldError("member.exercise_mode", "must be unspecified for a legal entity");
      }
      m.finess = WithoutSpaces(m.finess);
      if (!m.finess.empty()) CPTS_RETURN_IF_ERROR(ValidateFiness(m.finess, "member.finess"));
      break;
    }
    case MemberKind::kUnspecified:
      return FieldError("member.kind", "required: PERSON or LEGAL_ENTITY");
  }
  if (m.practice_places.empty()) {
    return FieldError("member.practice_places", "at least one place of practice is required");
  }
  if (m.practice_places.size() > kMaxPracticePlaces) {
    return FieldError("member.practice_places", "at most 20 places");
  }
  for (std::size_t i = 0; i < m.practice_places.size(); ++i) {
    const std::string field = absl::StrCat("member.practice_places[", i, "]");
    PracticePlace& place = m.practice_places[i];
    CPTS_ASSIGN_OR_RETURN(place.commune_insee,
                          NormalizeCommune(place.commune_insee, field + ".commune_insee"));
    CPTS_ASSIGN_OR_RETURN(place.label, NormalizeText(place.label, field + ".label", 100,
                                                     /*required=*/false));
    for (std::size_t j = 0; j < i; ++j) {
      if (m.practice_places[j] == place) return FieldError(field, "duplicate place");
    }
  }
  m.college_id = Trimmed(m.college_id);
  if (!m.college_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateResourceId(m.college_id, "member.college_id"));
  }
  m.contact.email = Trimmed(m.contact.email);
  if (m.contact.email.empty()) {
    if (require_email) return FieldError("member.contact.email", "required");
  } else {
    CPTS_ASSIGN_OR_RETURN(m.contact.email, NormalizeEmail(m.contact.email, "member.contact.email"));
  }
  m.contact.phone = Trimmed(m.contact.phone);
  if (!m.contact.phone.empty()) {
    CPTS_ASSIGN_OR_RETURN(m.contact.phone, NormalizePhone(m.contact.phone, "member.contact.phone"));
  }
  return absl::OkStatus();
}

// Rules that depend on the tenant's professions.
absl::Status CheckProfession(const Member& m, const std::vector<Profession>& professions) {
  if (m.kind != MemberKind::kPerson) return absl::OkStatus();
  const auto it = std::find_if(professions.begin(), professions.end(),
                               [&](const Profession& p) { return p.code == m.profession_code; });
  if (it == professions.end()) {
    return FieldError("member.profession_code",
                      absl::StrCat("unknown profession ", m.profession_code));
  }
  if (it->requires_rpps) {
    if (m.rpps.empty()) {
      return FieldError("member.rpps", absl::StrCat("required for profession ", it->code));
    }
    if (m.exercise_mode == ExerciseMode::kUnspecified) {
      return FieldError("member.exercise_mode", absl::StrCat("required for profession ", it->code));
    }
  }
  return absl::OkStatus();
}

std::string SortNameFor(const Member& m) {
  if (m.kind == MemberKind::kLegalEntity) return FoldForSearch(m.organization_name);
  return FoldForSearch(absl::StrCat(m.family_name, " ", m.given_name));
}

// A member record as a client may send it: output-only fields dropped.
Member InputFields(const Member& in) {
  Member m;
  m.kind = in.kind;
  m.given_name = in.given_name;
  m.family_name = in.family_name;
  m.organization_name = in.organization_name;
  m.profession_code = in.profession_code;
  m.rpps = in.rpps;
  m.finess = in.finess;
  m.exercise_mode = in.exercise_mode;
  m.practice_places = in.practice_places;
  m.college_id = in.college_id;
  m.contact = in.contact;
  m.consents.directory_listing.granted = in.consents.directory_listing.granted;
  m.consents.communications.granted = in.consents.communications.granted;
  return m;
}

// The only uniqueness rule on members is the RPPS number: say so with the field name.
absl::Status MapDuplicateRpps(const absl::Status& status, bool has_rpps) {
  if (absl::IsAlreadyExists(status) && has_rpps) {
    return absl::AlreadyExistsError(
        "member.rpps: a member with this RPPS number already exists in this CPTS");
  }
  return status;
}

// --- mandates --------------------------------------------------------------------------

MandateBody BodyOf(MandateRole role) {
  switch (role) {
    case MandateRole::kPresident:
    case MandateRole::kVicePresident:
    case MandateRole::kTreasurer:
    case MandateRole::kDeputyTreasurer:
    case MandateRole::kSecretary:
    case MandateRole::kDeputySecretary:
      return MandateBody::kBureau;
    case MandateRole::kBoardMember:
      return MandateBody::kBoard;
    case MandateRole::kCoordinator:
    case MandateRole::kAdministrativeSecretary:
    case MandateRole::kCoordinationNurse:
      return MandateBody::kStaff;
    case MandateRole::kUnspecified:
      break;
  }
  return MandateBody::kUnspecified;
}

bool SingleHolder(MandateRole role) {
  return role == MandateRole::kPresident || role == MandateRole::kTreasurer ||
         role == MandateRole::kDeputyTreasurer || role == MandateRole::kSecretary ||
         role == MandateRole::kDeputySecretary;
}

}  // namespace

// --- public helpers ----------------------------------------------------------------------

std::string EtagFor(int64_t version) { return absl::StrCat("v", version); }

absl::TimeZone FrenchTimeZone() {
  absl::TimeZone tz;
  if (absl::LoadTimeZone("Europe/Paris", &tz)) return tz;
  return absl::FixedTimeZone(3600);
}

absl::StatusOr<absl::CivilDay> MakeCivilDay(int64_t year, int month, int day,
                                            absl::string_view field) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) {
    return FieldError(field, "is not a valid date");
  }
  const absl::CivilDay d(year, month, day);
  if (d.month() != month || d.day() != day) return FieldError(field, "is not a valid date");
  return d;
}

// --- Membership --------------------------------------------------------------------------

Membership::Membership(MembershipRepositories repositories, const platform::Clock& clock,
                       platform::IdGenerator& ids, absl::TimeZone time_zone)
    : repos_(repositories), clock_(clock), ids_(ids), time_zone_(time_zone) {}

absl::CivilDay Membership::Today() const { return absl::ToCivilDay(clock_.Now(), time_zone_); }

AuditEntry Membership::NewAudit(const Principal& caller, AuditAction action, std::string reason,
                                std::string details) const {
  AuditEntry e;
  e.action = action;
  e.actor = caller.subject;
  e.time = clock_.Now();
  e.reason = std::move(reason);
  e.details = std::move(details);
  return e;
}

MemberView Membership::View(Member member, const Tenant& tenant) const {
  const absl::CivilDay today = Today();
  MemberView view;
  view.status = StatusOn(member, tenant, today);
  view.current_year_up_to_date = IsUpToDate(member, tenant, today);
  view.etag = EtagFor(member.version);
  view.member = std::move(member);
  return view;
}

// --- tenants -----------------------------------------------------------------------------

absl::StatusOr<Tenant> Membership::CreateTenant(const Principal& caller,
                                                const CreateTenantRequest& request) {
  if (!caller.HasRole(roles::kPlatformAdmin)) return Denied("create a CPTS");
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  Tenant t;
  t.name = request.tenant.name;
  t.finess = request.tenant.finess;
  t.size = request.tenant.size;
  t.territory_communes = request.tenant.territory_communes;
  t.annual_fee_cents = request.tenant.annual_fee_cents;
  t.year_model = request.tenant.year_model;
  CPTS_RETURN_IF_ERROR(NormalizeTenant(t));
  Fingerprint f;
  f.Add(t.name).Add(t.finess).Add(t.size).Add(t.annual_fee_cents).Add(EnumValue(t.year_model));
  for (const std::string& c : t.territory_communes) f.Add(c);
  const auto key = MakeKey("CreateTenant", request.request_id, f.Digest());
  t.id = ids_.NewId();
  t.create_time = t.update_time = clock_.Now();
  CPTS_ASSIGN_OR_RETURN(auto created,
                        repos_.tenants.CreateTenant(t, ReferenceProfessions(), KeyOrNull(key)));
  return created.value;
}

absl::StatusOr<Tenant> Membership::GetTenant(const Principal& caller, absl::string_view tenant_id) {
  const std::string id(tenant_id.empty() ? absl::string_view(caller.tenant_id) : tenant_id);
  if (id.empty()) return FieldError("tenant_id", "required: the caller is not attached to a CPTS");
  CPTS_RETURN_IF_ERROR(ValidateResourceId(id, "tenant_id"));
  if (!caller.HasRole(roles::kPlatformAdmin) && id != caller.tenant_id) {
    return Denied("read another CPTS");
  }
  return repos_.tenants.GetTenant(id);
}

absl::StatusOr<TenantPage> Membership::ListTenants(const Principal& caller,
                                                   const ListTenantsRequest& request) {
  if (!caller.HasRole(roles::kPlatformAdmin)) return Denied("list CPTS");
  CPTS_ASSIGN_OR_RETURN(const int size, PageSize(request.page_size));
  std::optional<std::string> after;
  if (!request.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(auto cursor, DecodePageToken(request.page_token, "tenants", "", 1));
    after = cursor[0];
  }
  CPTS_ASSIGN_OR_RETURN(auto tenants, repos_.tenants.ListTenants(after, size + 1));
  TenantPage page;
  if (static_cast<int>(tenants.size()) > size) {
    tenants.resize(size);
    page.next_page_token = EncodePageToken("tenants", "", {tenants.back().id});
  }
  page.tenants = std::move(tenants);
  return page;
}

absl::StatusOr<Tenant> Membership::UpdateTenant(const Principal& caller,
                                                const UpdateTenantRequest& request) {
  const bool admin = caller.HasRole(roles::kPlatformAdmin);
  const std::string id = request.tenant.id.empty() ? caller.tenant_id : request.tenant.id;
  if (id.empty()) return FieldError("tenant.id", "required");
  CPTS_RETURN_IF_ERROR(ValidateResourceId(id, "tenant.id"));
  CPTS_ASSIGN_OR_RETURN(const auto mask, CheckMask(request.update_mask, kTenantPaths));
  if (!admin) {
    if (!caller.HasRole(roles::kCoordinator) || caller.tenant_id.empty() ||
        id != caller.tenant_id) {
      return Denied("update this CPTS");
    }
    for (const std::string& path : mask) {
      if (!Contains(kCoordinatorTenantPaths, path)) {
        return absl::PermissionDeniedError(
            absl::StrCat("a coordinator may update territory_communes, annual_fee_cents and "
                         "membership_year_model, not '",
                         path, "'"));
      }
    }
  }
  const absl::Time now = clock_.Now();
  return repos_.tenants.UpdateTenant(id, [&](Tenant& t) -> absl::Status {
    if (!request.etag.empty() && request.etag != EtagFor(t.version)) {
      return absl::AbortedError("etag: the CPTS was changed since it was read; read it again");
    }
    const Tenant& in = request.tenant;
    if (MaskHas(mask, "name")) t.name = in.name;
    if (MaskHas(mask, "finess")) t.finess = in.finess;
    if (MaskHas(mask, "size")) t.size = in.size;
    if (MaskHas(mask, "territory_communes")) t.territory_communes = in.territory_communes;
    if (MaskHas(mask, "annual_fee_cents")) t.annual_fee_cents = in.annual_fee_cents;
    if (MaskHas(mask, "membership_year_model")) t.year_model = in.year_model;
    CPTS_RETURN_IF_ERROR(NormalizeTenant(t));
    t.update_time = now;
    return absl::OkStatus();
  });
}

// --- professions and collèges --------------------------------------------------------------

absl::StatusOr<std::vector<Profession>> Membership::ListProfessions(const Principal& caller) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller,
                                    {roles::kCoordinator, roles::kBureauMember, roles::kMember,
                                     roles::kPublicForm, roles::kService},
                                    "list professions"));
  return repos_.references.ListProfessions(caller.tenant_id);
}

absl::StatusOr<Profession> Membership::CreateProfession(const Principal& caller,
                                                        const Profession& profession) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "create professions"));
  Profession p;
  p.code = Trimmed(profession.code);
  CPTS_RETURN_IF_ERROR(ValidateProfessionCode(p.code, "profession.code"));
  CPTS_ASSIGN_OR_RETURN(p.label, NormalizeName(profession.label, "profession.label"));
  p.requires_rpps = profession.requires_rpps;
  p.reference = false;
  CPTS_RETURN_IF_ERROR(repos_.references.CreateProfession(caller.tenant_id, p));
  return p;
}

absl::StatusOr<College> Membership::CreateCollege(const Principal& caller,
                                                  const CreateCollegeRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "create collèges"));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  College c;
  CPTS_ASSIGN_OR_RETURN(c.name, NormalizeName(request.college.name, "college.name"));
  CPTS_ASSIGN_OR_RETURN(c.description,
                        NormalizeText(request.college.description, "college.description", 1000,
                                      /*required=*/false, /*multiline=*/true));
  const auto key = MakeKey("CreateCollege", request.request_id,
                           Fingerprint().Add(c.name).Add(c.description).Digest());
  c.id = ids_.NewId();
  c.create_time = clock_.Now();
  CPTS_ASSIGN_OR_RETURN(auto created,
                        repos_.references.CreateCollege(caller.tenant_id, c, KeyOrNull(key)));
  return created.value;
}

absl::StatusOr<std::vector<College>> Membership::ListColleges(const Principal& caller) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller,
                                    {roles::kCoordinator, roles::kBureauMember, roles::kMember,
                                     roles::kPublicForm, roles::kService},
                                    "list collèges"));
  return repos_.references.ListColleges(caller.tenant_id);
}

// --- members -----------------------------------------------------------------------------

absl::StatusOr<Member> Membership::PrepareNewMember(const Principal& caller, const Member& input,
                                                    bool require_email) {
  Member m = InputFields(input);
  CPTS_RETURN_IF_ERROR(NormalizeMemberFields(m, require_email));
  CPTS_ASSIGN_OR_RETURN(const auto professions,
                        repos_.references.ListProfessions(caller.tenant_id));
  CPTS_RETURN_IF_ERROR(CheckProfession(m, professions));
  if (!m.college_id.empty()) {
    const auto college = repos_.references.GetCollege(caller.tenant_id, m.college_id);
    if (absl::IsNotFound(college.status()))
      return FieldError("member.college_id", "unknown collège");
    CPTS_RETURN_IF_ERROR(college.status());
  }
  const absl::Time now = clock_.Now();
  m.id = ids_.NewId();
  m.tenant_id = caller.tenant_id;
  m.create_time = m.update_time = now;
  m.sort_name = SortNameFor(m);
  m.consents.directory_listing.record_time = now;
  m.consents.communications.record_time = now;
  m.status = MemberStatus::kPending;
  m.previous_status = MemberStatus::kPending;
  m.status_since = Today();
  return m;
}

absl::StatusOr<MemberView> Membership::CreateMemberRecord(
    const Principal& caller, const Member& member, absl::string_view scope,
    absl::string_view request_id, std::string fingerprint, AuditEntry audit) {
  const auto key = MakeKey(scope, request_id, std::move(fingerprint));
  auto created = repos_.members.CreateMember(member, KeyOrNull(key), std::move(audit));
  if (!created.ok()) return MapDuplicateRpps(created.status(), !member.rpps.empty());
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return View(std::move(created->value), tenant);
}

absl::StatusOr<MemberView> Membership::CreateMember(const Principal& caller,
                                                    const CreateMemberRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "create members"));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  const int current_year = MembershipYearOf(tenant, Today());
  if (request.activate_for_year != 0 && request.activate_for_year != current_year &&
      request.activate_for_year != current_year + 1) {
    return FieldError("activate_for_year",
                      absl::StrCat("must be 0, ", current_year, " or ", current_year + 1));
  }
  CPTS_ASSIGN_OR_RETURN(Member m, PrepareNewMember(caller, request.member, false));
  Fingerprint f;
  AddMember(f, m);
  f.Add(request.activate_for_year);
  std::string details = "status=PENDING";
  if (request.activate_for_year != 0) {
    m.status = MemberStatus::kActive;
    m.membership_years = {request.activate_for_year};
    details = absl::StrCat("status=ACTIVE year=", request.activate_for_year);
  }
  return CreateMemberRecord(caller, m, "CreateMember", request.request_id, f.Digest(),
                            NewAudit(caller, AuditAction::kCreated, "", details));
}

absl::StatusOr<MemberView> Membership::SubmitAdhesion(const Principal& caller,
                                                      const SubmitAdhesionRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kPublicForm, roles::kCoordinator}, "submit adhesions"));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  CPTS_ASSIGN_OR_RETURN(std::string message,
                        NormalizeText(request.message, "message", 2000, /*required=*/false,
                                      /*multiline=*/true));
  CPTS_ASSIGN_OR_RETURN(Member m, PrepareNewMember(caller, request.member, true));
  Fingerprint f;
  AddMember(f, m);
  f.Add(message);
  m.adhesion.submit_time = m.create_time;
  m.adhesion.message = std::move(message);
  return CreateMemberRecord(
      caller, m, "SubmitAdhesion", request.request_id, f.Digest(),
      NewAudit(caller, AuditAction::kAdhesionSubmitted, "", "status=PENDING"));
}

absl::StatusOr<MemberView> Membership::GetMember(const Principal& caller,
                                                 absl::string_view member_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(member_id, "member_id"));
  CPTS_RETURN_IF_ERROR(
      RequireRolesOrSelf(caller, {roles::kCoordinator, roles::kBureauMember, roles::kService},
                         member_id, "read another member's record"));
  CPTS_ASSIGN_OR_RETURN(Member m, repos_.members.GetMember(caller.tenant_id, member_id));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return View(std::move(m), tenant);
}

absl::StatusOr<std::vector<MemberView>> Membership::BatchGetMembers(
    const Principal& caller, const std::vector<std::string>& member_ids) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (member_ids.empty() || member_ids.size() > static_cast<std::size_t>(kMaxBatchGet)) {
    return FieldError("member_ids", "must name 1 to 100 members");
  }
  const bool staff =
      caller.HasAnyRole({roles::kCoordinator, roles::kBureauMember, roles::kService});
  for (std::size_t i = 0; i < member_ids.size(); ++i) {
    CPTS_RETURN_IF_ERROR(ValidateResourceId(member_ids[i], absl::StrCat("member_ids[", i, "]")));
    if (!staff && !IsSelf(caller, member_ids[i])) return Denied("read another member's record");
  }
  CPTS_ASSIGN_OR_RETURN(auto found, repos_.members.BatchGetMembers(caller.tenant_id, member_ids));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  std::vector<MemberView> out;
  out.reserve(member_ids.size());
  for (const std::string& id : member_ids) {
    const auto it =
        std::find_if(found.begin(), found.end(), [&](const Member& m) { return m.id == id; });
    if (it == found.end()) return absl::NotFoundError(absl::StrCat("member ", id, " not found"));
    out.push_back(View(*it, tenant));
  }
  return out;
}

absl::StatusOr<MemberPage> Membership::ListMembers(const Principal& caller,
                                                   const ListMembersRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(
      caller, {roles::kCoordinator, roles::kBureauMember, roles::kService}, "list members"));
  CPTS_ASSIGN_OR_RETURN(const int size, PageSize(request.page_size));
  MemberFilter filter;
  if (request.status != MemberStatus::kUnspecified) filter.status = request.status;
  filter.profession_code = Trimmed(request.profession_code);
  if (!filter.profession_code.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateProfessionCode(filter.profession_code, "profession_code"));
  }
  if (!Trimmed(request.commune_insee).empty()) {
    CPTS_ASSIGN_OR_RETURN(filter.commune_insee,
                          NormalizeCommune(request.commune_insee, "commune_insee"));
  }
  filter.college_id = Trimmed(request.college_id);
  if (!filter.college_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateResourceId(filter.college_id, "college_id"));
  }
  if (!Trimmed(request.name_prefix).empty()) {
    CPTS_ASSIGN_OR_RETURN(const std::string prefix,
                          NormalizeName(request.name_prefix, "name_prefix"));
    filter.name_prefix = FoldForSearch(prefix);
  }
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  filter.current_year = MembershipYearOf(tenant, Today());
  // The year is part of the filter: a token issued in December is refused in January rather
  // than silently mixing two meanings of ACTIVE.
  const std::string filters = Fingerprint()
                                  .Add(caller.tenant_id)
                                  .Add(EnumValue(request.status))
                                  .Add(filter.current_year)
                                  .Add(filter.profession_code)
                                  .Add(filter.commune_insee)
                                  .Add(filter.college_id)
                                  .Add(filter.name_prefix)
                                  .Digest();
  std::optional<MemberCursor> after;
  if (!request.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(auto cursor, DecodePageToken(request.page_token, "members", filters, 2));
    after = MemberCursor{cursor[0], cursor[1]};
  }
  CPTS_ASSIGN_OR_RETURN(auto members,
                        repos_.members.ListMembers(caller.tenant_id, filter, after, size + 1));
  MemberPage page;
  if (static_cast<int>(members.size()) > size) {
    members.resize(size);
    page.next_page_token =
        EncodePageToken("members", filters, {members.back().sort_name, members.back().id});
  }
  page.members.reserve(members.size());
  for (Member& m : members) page.members.push_back(View(std::move(m), tenant));
  return page;
}

absl::StatusOr<MemberView> Membership::UpdateMember(const Principal& caller,
                                                    const UpdateMemberRequest& request) {
  const std::string& id = request.member.id;
  CPTS_RETURN_IF_ERROR(ValidateResourceId(id, "member.id"));
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_ASSIGN_OR_RETURN(const auto mask, CheckMask(request.update_mask, kMemberPaths));
  if (!caller.HasRole(roles::kCoordinator)) {
    if (!IsSelf(caller, id)) return Denied("update another member's record");
    for (const std::string& path : mask) {
      if (!Contains(kSelfMemberPaths, path)) {
        return absl::PermissionDeniedError(
            absl::StrCat("a member may update only their contact and consents, not '", path, "'"));
      }
    }
  }
  CPTS_ASSIGN_OR_RETURN(const auto professions,
                        repos_.references.ListProfessions(caller.tenant_id));
  if (MaskHas(mask, "college_id") && !Trimmed(request.member.college_id).empty()) {
    const std::string college_id = Trimmed(request.member.college_id);
    CPTS_RETURN_IF_ERROR(ValidateResourceId(college_id, "member.college_id"));
    const auto college = repos_.references.GetCollege(caller.tenant_id, college_id);
    if (absl::IsNotFound(college.status()))
      return FieldError("member.college_id", "unknown collège");
    CPTS_RETURN_IF_ERROR(college.status());
  }
  const absl::Time now = clock_.Now();
  const Member& in = request.member;
  auto mutate = [&](Member& m, AuditEntry& audit) -> absl::Status {
    if (!request.etag.empty() && request.etag != EtagFor(m.version)) {
      return absl::AbortedError("etag: the member was changed since it was read; read it again");
    }
    const Consents before = m.consents;
    for (const std::string& path : mask) {
      if (path == "given_name") m.given_name = in.given_name;
      if (path == "family_name") m.family_name = in.family_name;
      if (path == "organization_name") m.organization_name = in.organization_name;
      if (path == "profession_code") m.profession_code = in.profession_code;
      if (path == "rpps") m.rpps = in.rpps;
      if (path == "finess") m.finess = in.finess;
      if (path == "exercise_mode") m.exercise_mode = in.exercise_mode;
      if (path == "practice_places") m.practice_places = in.practice_places;
      if (path == "college_id") m.college_id = in.college_id;
      if (path == "contact") m.contact = in.contact;
      if (path == "contact.email") m.contact.email = in.contact.email;
      if (path == "contact.phone") m.contact.phone = in.contact.phone;
      if (path == "consents" || path == "consents.directory_listing") {
        m.consents.directory_listing.granted = in.consents.directory_listing.granted;
      }
      if (path == "consents" || path == "consents.communications") {
        m.consents.communications.granted = in.consents.communications.granted;
      }
    }
    CPTS_RETURN_IF_ERROR(NormalizeMemberFields(m, /*require_email=*/false));
    CPTS_RETURN_IF_ERROR(CheckProfession(m, professions));
    if (m.consents.directory_listing.granted != before.directory_listing.granted) {
      m.consents.directory_listing.record_time = now;
    }
    if (m.consents.communications.granted != before.communications.granted) {
      m.consents.communications.record_time = now;
    }
    m.sort_name = SortNameFor(m);
    m.update_time = now;
    audit.details = absl::StrCat("update_mask=", absl::StrJoin(mask, ","));
    return absl::OkStatus();
  };
  auto updated = repos_.members.UpdateMember(caller.tenant_id, id, mutate,
                                             NewAudit(caller, AuditAction::kUpdated));
  if (!updated.ok()) return MapDuplicateRpps(updated.status(), /*has_rpps=*/true);
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return View(*std::move(updated), tenant);
}

// --- lifecycle ---------------------------------------------------------------------------

absl::StatusOr<MemberView> Membership::RunTransition(const Principal& caller, const Tenant& tenant,
                                                     absl::string_view member_id,
                                                     AuditAction action,
                                                     const TransitionInput& input,
                                                     const std::vector<College>* colleges,
                                                     const std::string& college_id) {
  const absl::Time now = clock_.Now();
  auto mutate = [&](Member& m, AuditEntry& audit) -> absl::Status {
    const MemberStatus from = StatusOn(m, tenant, input.today);
    CPTS_RETURN_IF_ERROR(ApplyTransition(tenant, input, m));
    if (!college_id.empty()) {
      m.college_id = college_id;
    } else if (colleges != nullptr && m.college_id.empty() && !colleges->empty()) {
      return absl::FailedPreconditionError(
          "college_id: required, because the member has no collège and this CPTS has collèges");
    }
    if (input.transition == Transition::kApprove || input.transition == Transition::kReject) {
      m.adhesion.decide_time = now;
      m.adhesion.decided_by = caller.subject;
    }
    m.update_time = now;
    audit.details = absl::StrCat("status=", MemberStatusName(from), "->",
                                 MemberStatusName(StatusOn(m, tenant, input.today)));
    if (input.transition == Transition::kApprove || input.transition == Transition::kRenew) {
      absl::StrAppend(&audit.details, " year=", input.year);
    }
    if (!college_id.empty()) absl::StrAppend(&audit.details, " college_id=", college_id);
    if (input.transition == Transition::kResign) {
      absl::StrAppend(&audit.details, " effective=", absl::FormatCivilTime(m.status_since));
    }
    return absl::OkStatus();
  };
  CPTS_ASSIGN_OR_RETURN(Member m,
                        repos_.members.UpdateMember(caller.tenant_id, member_id, mutate,
                                                    NewAudit(caller, action, input.reason)));
  return View(std::move(m), tenant);
}

absl::StatusOr<MemberView> Membership::ApproveAdhesion(const Principal& caller,
                                                       const ApproveAdhesionRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kCoordinator, roles::kBureauMember}, "approve adhesions"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  TransitionInput input;
  input.transition = Transition::kApprove;
  input.today = Today();
  const int current_year = MembershipYearOf(tenant, input.today);
  input.year = request.membership_year == 0 ? current_year : request.membership_year;
  if (input.year != current_year && input.year != current_year + 1) {
    return FieldError("membership_year",
                      absl::StrCat("must be ", current_year, " or ", current_year + 1));
  }
  const std::string college_id = Trimmed(request.college_id);
  std::vector<College> colleges;
  if (!college_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateResourceId(college_id, "college_id"));
    const auto college = repos_.references.GetCollege(caller.tenant_id, college_id);
    if (absl::IsNotFound(college.status())) return FieldError("college_id", "unknown collège");
    CPTS_RETURN_IF_ERROR(college.status());
  } else {
    CPTS_ASSIGN_OR_RETURN(colleges, repos_.references.ListColleges(caller.tenant_id));
  }
  return RunTransition(caller, tenant, request.member_id, AuditAction::kAdhesionApproved, input,
                       college_id.empty() ? &colleges : nullptr, college_id);
}

absl::StatusOr<MemberView> Membership::RejectAdhesion(const Principal& caller,
                                                      const RejectAdhesionRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kCoordinator, roles::kBureauMember}, "reject adhesions"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  TransitionInput input;
  input.transition = Transition::kReject;
  input.today = Today();
  CPTS_ASSIGN_OR_RETURN(input.reason, RequiredReason(request.reason));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return RunTransition(caller, tenant, request.member_id, AuditAction::kAdhesionRejected, input,
                       nullptr, "");
}

absl::StatusOr<MemberView> Membership::RenewMembership(const Principal& caller,
                                                       const RenewMembershipRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "renew memberships"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  TransitionInput input;
  input.transition = Transition::kRenew;
  input.today = Today();
  const int current_year = MembershipYearOf(tenant, input.today);
  if (request.year < current_year - 1 || request.year > current_year + 1) {
    return FieldError("year", absl::StrCat("must be ", current_year - 1, ", ", current_year, " or ",
                                           current_year + 1));
  }
  input.year = request.year;
  return RunTransition(caller, tenant, request.member_id, AuditAction::kRenewed, input, nullptr,
                       "");
}

absl::StatusOr<MemberView> Membership::SuspendMember(const Principal& caller,
                                                     const SuspendMemberRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "suspend members"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  TransitionInput input;
  input.transition = Transition::kSuspend;
  input.today = Today();
  CPTS_ASSIGN_OR_RETURN(input.reason, RequiredReason(request.reason));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return RunTransition(caller, tenant, request.member_id, AuditAction::kSuspended, input, nullptr,
                       "");
}

absl::StatusOr<MemberView> Membership::ReinstateMember(const Principal& caller,
                                                       const ReinstateMemberRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "reinstate members"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  TransitionInput input;
  input.transition = Transition::kReinstate;
  input.today = Today();
  CPTS_ASSIGN_OR_RETURN(input.reason, OptionalReason(request.reason));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return RunTransition(caller, tenant, request.member_id, AuditAction::kReinstated, input, nullptr,
                       "");
}

absl::StatusOr<MemberView> Membership::ResignMember(const Principal& caller,
                                                    const ResignMemberRequest& request) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  // A member may resign themselves.
  CPTS_RETURN_IF_ERROR(RequireRolesOrSelf(caller, {roles::kCoordinator}, request.member_id,
                                          "record another member's resignation"));
  TransitionInput input;
  input.transition = Transition::kResign;
  input.today = Today();
  CPTS_ASSIGN_OR_RETURN(input.reason, RequiredReason(request.reason));
  if (request.effective_date.has_value()) {
    CPTS_RETURN_IF_ERROR(CheckDay(*request.effective_date, "effective_date"));
    if (*request.effective_date > input.today) {
      return FieldError("effective_date", "must not be in the future");
    }
    input.effective_date = request.effective_date;
  }
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  return RunTransition(caller, tenant, request.member_id, AuditAction::kResigned, input, nullptr,
                       "");
}

// --- cotisations -------------------------------------------------------------------------

absl::StatusOr<Cotisation> Membership::RecordCotisation(const Principal& caller,
                                                        const RecordCotisationRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kCoordinator, roles::kBureauMember}, "record cotisations"));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  const Cotisation& in = request.cotisation;
  const absl::CivilDay today = Today();
  Cotisation c;
  c.member_id = Trimmed(in.member_id);
  CPTS_RETURN_IF_ERROR(ValidateResourceId(c.member_id, "cotisation.member_id"));
  const int max_year = static_cast<int>(today.year()) + 1;
  if (in.year < 2000 || in.year > max_year) {
    return FieldError("cotisation.year", absl::StrCat("must be 2000 to ", max_year));
  }
  c.year = in.year;
  if (in.amount_cents <= 0) return FieldError("cotisation.amount_cents", "must be greater than 0");
  if (in.amount_cents > kMaxCotisationCents) {
    return FieldError("cotisation.amount_cents", "must be at most 10000000 (100 000 €)");
  }
  c.amount_cents = in.amount_cents;
  CPTS_RETURN_IF_ERROR(CheckDay(in.paid_on, "cotisation.paid_on"));
  if (in.paid_on > today) return FieldError("cotisation.paid_on", "must not be in the future");
  c.paid_on = in.paid_on;
  if (in.method == PaymentMethod::kUnspecified) {
    return FieldError("cotisation.method", "required");
  }
  c.method = in.method;
  CPTS_ASSIGN_OR_RETURN(c.reference, NormalizeText(in.reference, "cotisation.reference", 100,
                                                   /*required=*/false));
  const auto key = MakeKey("RecordCotisation", request.request_id,
                           Fingerprint()
                               .Add(c.member_id)
                               .Add(c.year)
                               .Add(c.amount_cents)
                               .Add(c.paid_on)
                               .Add(EnumValue(c.method))
                               .Add(c.reference)
                               .Digest());
  c.id = ids_.NewId();
  c.recorded_by = caller.subject;
  c.create_time = clock_.Now();
  auto check = [](const Member& m) -> absl::Status {
    if (m.status == MemberStatus::kRejected) {
      return absl::FailedPreconditionError(
          "member is REJECTED; a cotisation cannot be recorded for a rejected adhesion");
    }
    return absl::OkStatus();
  };
  CPTS_ASSIGN_OR_RETURN(auto created,
                        repos_.cotisations.RecordCotisation(
                            caller.tenant_id, c, KeyOrNull(key), check,
                            NewAudit(caller, AuditAction::kCotisationRecorded, "",
                                     absl::StrCat("cotisation_id=", c.id, " year=", c.year,
                                                  " amount_cents=", c.amount_cents))));
  return created.value;
}

absl::StatusOr<std::vector<Cotisation>> Membership::ListCotisations(const Principal& caller,
                                                                    absl::string_view member_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(member_id, "member_id"));
  CPTS_RETURN_IF_ERROR(RequireRolesOrSelf(caller, {roles::kCoordinator, roles::kBureauMember},
                                          member_id, "read another member's cotisations"));
  CPTS_RETURN_IF_ERROR(repos_.members.GetMember(caller.tenant_id, member_id).status());
  return repos_.cotisations.ListCotisations(caller.tenant_id, member_id);
}

// --- employer conventions ----------------------------------------------------------------

absl::StatusOr<EmployerConvention> Membership::CreateEmployerConvention(
    const Principal& caller, const CreateEmployerConventionRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "create conventions"));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  const EmployerConvention& in = request.convention;
  EmployerConvention c;
  c.member_id = Trimmed(in.member_id);
  CPTS_RETURN_IF_ERROR(ValidateResourceId(c.member_id, "convention.member_id"));
  c.employer_member_id = Trimmed(in.employer_member_id);
  CPTS_RETURN_IF_ERROR(ValidateResourceId(c.employer_member_id, "convention.employer_member_id"));
  if (c.employer_member_id == c.member_id) {
    return FieldError("convention.employer_member_id", "must differ from member_id");
  }
  CPTS_RETURN_IF_ERROR(CheckDay(in.valid_from, "convention.valid_from"));
  c.valid_from = in.valid_from;
  if (in.valid_until.has_value()) {
    CPTS_RETURN_IF_ERROR(CheckDay(*in.valid_until, "convention.valid_until"));
    if (*in.valid_until < in.valid_from) {
      return FieldError("convention.valid_until", "must not be before valid_from");
    }
    c.valid_until = in.valid_until;
  }
  CPTS_ASSIGN_OR_RETURN(c.reference, NormalizeText(in.reference, "convention.reference", 100,
                                                   /*required=*/false));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  const absl::CivilDay today = Today();
  const auto key = MakeKey("CreateEmployerConvention", request.request_id,
                           Fingerprint()
                               .Add(c.member_id)
                               .Add(c.employer_member_id)
                               .Add(c.valid_from)
                               .Add(c.valid_until)
                               .Add(c.reference)
                               .Digest());
  c.id = ids_.NewId();
  c.create_time = c.update_time = clock_.Now();
  auto check = [&](const Member& member, const Member& employer,
                   const std::vector<EmployerConvention>& existing) -> absl::Status {
    if (member.kind != MemberKind::kPerson || (member.exercise_mode != ExerciseMode::kSalaried &&
                                               member.exercise_mode != ExerciseMode::kMixed)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "convention.member_id: the member must be a SALARIED or MIXED person (is ",
          MemberKindName(member.kind), " ", ExerciseModeName(member.exercise_mode), ")"));
    }
    if (employer.kind != MemberKind::kLegalEntity) {
      return absl::FailedPreconditionError(
          "convention.employer_member_id: the employer must be a LEGAL_ENTITY member");
    }
    const MemberStatus employer_status = StatusOn(employer, tenant, today);
    if (employer_status != MemberStatus::kActive) {
      return absl::FailedPreconditionError(
          absl::StrCat("convention.employer_member_id: the employer is ",
                       MemberStatusName(employer_status), "; it must be ACTIVE"));
    }
    for (const EmployerConvention& other : existing) {
      if (Overlaps(c.valid_from, c.valid_until, other.valid_from, other.valid_until)) {
        return absl::FailedPreconditionError(
            absl::StrCat("convention.valid_from: overlaps convention ", other.id, " (",
                         Period(other.valid_from, other.valid_until),
                         "); a member has at most one convention on any day"));
      }
    }
    return absl::OkStatus();
  };
  CPTS_ASSIGN_OR_RETURN(
      auto created, repos_.conventions.CreateConvention(
                        caller.tenant_id, c, KeyOrNull(key), check,
                        NewAudit(caller, AuditAction::kConventionCreated, "",
                                 absl::StrCat("convention_id=", c.id,
                                              " employer_member_id=", c.employer_member_id,
                                              " period=", Period(c.valid_from, c.valid_until)))));
  return created.value;
}

absl::StatusOr<std::vector<EmployerConvention>> Membership::ListEmployerConventions(
    const Principal& caller, absl::string_view member_id) {
  CPTS_RETURN_IF_ERROR(ValidateResourceId(member_id, "member_id"));
  CPTS_RETURN_IF_ERROR(
      RequireRolesOrSelf(caller, {roles::kCoordinator, roles::kBureauMember, roles::kService},
                         member_id, "read another member's conventions"));
  CPTS_RETURN_IF_ERROR(repos_.members.GetMember(caller.tenant_id, member_id).status());
  return repos_.conventions.ListConventions(caller.tenant_id, member_id);
}

absl::StatusOr<EmployerConvention> Membership::EndEmployerConvention(
    const Principal& caller, const EndEmployerConventionRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller, {roles::kCoordinator}, "end conventions"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.convention_id, "convention_id"));
  const absl::CivilDay end = request.end_date.value_or(Today());
  CPTS_RETURN_IF_ERROR(CheckDay(end, "end_date"));
  CPTS_ASSIGN_OR_RETURN(const std::string reason, RequiredReason(request.reason));
  const absl::Time now = clock_.Now();
  auto mutate = [&](EmployerConvention& c, AuditEntry& audit) -> absl::Status {
    if (end < c.valid_from) {
      return absl::FailedPreconditionError(
          absl::StrCat("end_date: the convention starts on ", absl::FormatCivilTime(c.valid_from)));
    }
    if (c.valid_until.has_value() && *c.valid_until <= end) {
      return absl::FailedPreconditionError(absl::StrCat("end_date: the convention already ends on ",
                                                        absl::FormatCivilTime(*c.valid_until)));
    }
    c.valid_until = end;
    c.end_reason = reason;
    c.update_time = now;
    audit.details = absl::StrCat("convention_id=", c.id, " end=", absl::FormatCivilTime(end));
    return absl::OkStatus();
  };
  return repos_.conventions.UpdateConvention(
      caller.tenant_id, request.convention_id, mutate,
      NewAudit(caller, AuditAction::kConventionEnded, reason));
}

// --- mandates ----------------------------------------------------------------------------

absl::StatusOr<Mandate> Membership::CreateMandate(const Principal& caller,
                                                  const CreateMandateRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kCoordinator, roles::kBureauMember}, "create mandates"));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request.request_id));
  const Mandate& in = request.mandate;
  Mandate m;
  m.member_id = Trimmed(in.member_id);
  CPTS_RETURN_IF_ERROR(ValidateResourceId(m.member_id, "mandate.member_id"));
  if (in.body == MandateBody::kUnspecified) {
    return FieldError("mandate.body", "required: BUREAU, BOARD or STAFF");
  }
  if (in.role == MandateRole::kUnspecified) return FieldError("mandate.role", "required");
  if (BodyOf(in.role) != in.body) {
    return FieldError("mandate.role", absl::StrCat(MandateRoleName(in.role), " is not a role of ",
                                                   MandateBodyName(in.body)));
  }
  m.body = in.body;
  m.role = in.role;
  CPTS_RETURN_IF_ERROR(CheckDay(in.start_date, "mandate.start_date"));
  m.start_date = in.start_date;
  if (in.end_date.has_value()) {
    CPTS_RETURN_IF_ERROR(CheckDay(*in.end_date, "mandate.end_date"));
    if (*in.end_date < in.start_date) {
      return FieldError("mandate.end_date", "must not be before start_date");
    }
    m.end_date = in.end_date;
  }
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  const absl::CivilDay today = Today();
  const auto key = MakeKey("CreateMandate", request.request_id,
                           Fingerprint()
                               .Add(m.member_id)
                               .Add(EnumValue(m.body))
                               .Add(EnumValue(m.role))
                               .Add(m.start_date)
                               .Add(m.end_date)
                               .Digest());
  m.id = ids_.NewId();
  m.create_time = m.update_time = clock_.Now();
  auto check = [&](const Member& holder, const std::vector<Mandate>& same_role) -> absl::Status {
    if (m.body != MandateBody::kBoard && holder.kind != MemberKind::kPerson) {
      return absl::FailedPreconditionError(absl::StrCat(
          "mandate.member_id: a legal entity cannot hold a ", MandateBodyName(m.body), " mandate"));
    }
    const MemberStatus status = StatusOn(holder, tenant, today);
    if (m.body == MandateBody::kStaff) {
      if (status == MemberStatus::kRejected) {
        return absl::FailedPreconditionError("mandate.member_id: the member is REJECTED");
      }
    } else if (status != MemberStatus::kActive) {
      return absl::FailedPreconditionError(
          absl::StrCat("mandate.member_id: the member is ", MemberStatusName(status),
                       "; bureau and board mandates need an ACTIVE member"));
    }
    for (const Mandate& other : same_role) {
      if (!Overlaps(m.start_date, m.end_date, other.start_date, other.end_date)) continue;
      if (other.member_id == holder.id) {
        return absl::FailedPreconditionError(
            absl::StrCat("mandate.start_date: the member already holds this mandate (", other.id,
                         ", ", Period(other.start_date, other.end_date), ")"));
      }
      if (SingleHolder(m.role)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "mandate.role: ", MandateRoleName(m.role), " is held by member ", other.member_id, " (",
            Period(other.start_date, other.end_date), "); one holder at a time"));
      }
    }
    return absl::OkStatus();
  };
  CPTS_ASSIGN_OR_RETURN(auto created,
                        repos_.mandates.CreateMandate(
                            caller.tenant_id, m, KeyOrNull(key), check,
                            NewAudit(caller, AuditAction::kMandateCreated, "",
                                     absl::StrCat("mandate_id=", m.id, " ", MandateBodyName(m.body),
                                                  "/", MandateRoleName(m.role),
                                                  " period=", Period(m.start_date, m.end_date)))));
  return created.value;
}

absl::StatusOr<Mandate> Membership::EndMandate(const Principal& caller,
                                               const EndMandateRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kCoordinator, roles::kBureauMember}, "end mandates"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.mandate_id, "mandate_id"));
  const absl::CivilDay end = request.end_date.value_or(Today());
  CPTS_RETURN_IF_ERROR(CheckDay(end, "end_date"));
  CPTS_ASSIGN_OR_RETURN(const std::string reason, OptionalReason(request.reason));
  const absl::Time now = clock_.Now();
  auto mutate = [&](Mandate& m, AuditEntry& audit) -> absl::Status {
    if (end < m.start_date) {
      return absl::FailedPreconditionError(
          absl::StrCat("end_date: the mandate starts on ", absl::FormatCivilTime(m.start_date)));
    }
    if (m.end_date.has_value() && *m.end_date <= end) {
      return absl::FailedPreconditionError(absl::StrCat("end_date: the mandate already ends on ",
                                                        absl::FormatCivilTime(*m.end_date)));
    }
    m.end_date = end;
    m.end_reason = reason;
    m.update_time = now;
    audit.details = absl::StrCat("mandate_id=", m.id, " end=", absl::FormatCivilTime(end));
    return absl::OkStatus();
  };
  return repos_.mandates.UpdateMandate(caller.tenant_id, request.mandate_id, mutate,
                                       NewAudit(caller, AuditAction::kMandateEnded, reason));
}

absl::StatusOr<std::vector<Mandate>> Membership::ListCurrentMandates(
    const Principal& caller, const ListCurrentMandatesRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(
      caller, {roles::kCoordinator, roles::kBureauMember, roles::kMember, roles::kService},
      "list mandates"));
  const absl::CivilDay day = request.on_date.value_or(Today());
  CPTS_RETURN_IF_ERROR(CheckDay(day, "on_date"));
  MandateFilter filter;
  filter.in_force_on = day;
  filter.body = request.body;
  return repos_.mandates.ListMandates(caller.tenant_id, filter);
}

// --- directory and history ---------------------------------------------------------------

absl::StatusOr<MemberProfile> Membership::GetMemberProfile(const Principal& caller,
                                                           const GetMemberProfileRequest& request) {
  CPTS_RETURN_IF_ERROR(RequireRoles(caller,
                                    {roles::kService, roles::kCoordinator, roles::kBureauMember},
                                    "read member profiles"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  const absl::CivilDay day = request.on_date.value_or(Today());
  CPTS_RETURN_IF_ERROR(CheckDay(day, "on_date"));
  CPTS_ASSIGN_OR_RETURN(const Member m,
                        repos_.members.GetMember(caller.tenant_id, request.member_id));
  CPTS_ASSIGN_OR_RETURN(const Tenant tenant, repos_.tenants.GetTenant(caller.tenant_id));
  std::vector<EmployerConvention> conventions;
  if (m.kind == MemberKind::kPerson && m.exercise_mode != ExerciseMode::kLiberal) {
    CPTS_ASSIGN_OR_RETURN(conventions, repos_.conventions.ListConventions(caller.tenant_id, m.id));
  }
  CPTS_ASSIGN_OR_RETURN(
      const std::vector<Mandate> mandates,
      repos_.mandates.ListMandates(
          caller.tenant_id, MandateFilter{.in_force_on = day, .body = {}, .member_id = m.id}));
  MemberProfile p;
  p.member_id = m.id;
  p.kind = m.kind;
  p.status = StatusOn(m, tenant, day);
  p.profession_code = m.profession_code;
  p.exercise_mode = m.exercise_mode;
  for (const PracticePlace& place : m.practice_places) {
    if (std::find(p.commune_insee_codes.begin(), p.commune_insee_codes.end(),
                  place.commune_insee) == p.commune_insee_codes.end()) {
      p.commune_insee_codes.push_back(place.commune_insee);
    }
  }
  p.college_id = m.college_id;
  p.on_date = day;
  p.membership_year = MembershipYearOf(tenant, day);
  p.up_to_date = IsUpToDate(m, tenant, day);
  p.payee = PayeeOn(m, tenant, day, conventions);
  p.rpps = m.rpps;
  p.given_name = m.given_name;
  p.family_name = m.kind == MemberKind::kPerson ? m.family_name : m.organization_name;
  // The store orders mandates by body first.
  for (const Mandate& mandate : mandates) {
    if (p.mandate_bodies.empty() || p.mandate_bodies.back() != mandate.body) {
      p.mandate_bodies.push_back(mandate.body);
    }
  }
  return p;
}

absl::StatusOr<HistoryPage> Membership::ListMemberHistory(const Principal& caller,
                                                          const ListMemberHistoryRequest& request) {
  CPTS_RETURN_IF_ERROR(
      RequireRoles(caller, {roles::kCoordinator, roles::kBureauMember}, "read member history"));
  CPTS_RETURN_IF_ERROR(ValidateResourceId(request.member_id, "member_id"));
  CPTS_ASSIGN_OR_RETURN(const int size, PageSize(request.page_size));
  const std::string filters = Fingerprint().Add(caller.tenant_id).Add(request.member_id).Digest();
  std::optional<int64_t> after;
  if (!request.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(auto cursor, DecodePageToken(request.page_token, "history", filters, 1));
    int64_t sequence = 0;
    if (!absl::SimpleAtoi(cursor[0], &sequence)) {
      return FieldError("page_token", "is not a valid page token");
    }
    after = sequence;
  }
  CPTS_RETURN_IF_ERROR(repos_.members.GetMember(caller.tenant_id, request.member_id).status());
  CPTS_ASSIGN_OR_RETURN(auto entries, repos_.members.ListHistory(
                                          caller.tenant_id, request.member_id, after, size + 1));
  HistoryPage page;
  if (static_cast<int>(entries.size()) > size) {
    entries.resize(size);
    page.next_page_token =
        EncodePageToken("history", filters, {absl::StrCat(entries.back().sequence)});
  }
  page.entries = std::move(entries);
  return page;
}

}  // namespace cpts::membership
