#include "services/access/mt_desk.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/access/mt_priority.h"
#include "services/access/mt_validators.h"
#include "services/access/mt_workflow.h"
#include "services/access/patient_audit.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;
using platform::auth::Principal;

// How many capacities ProposeMatch considers at most (one tenant's volunteer GPs).
constexpr int kMaxCapacitiesConsidered = 2000;
constexpr int kPurgeBatch = 500;

bool IsStaff(const Principal& caller) {
  return caller.HasRole(roles::kCoordinator) || caller.HasRole(kTriageNurseRole);
}

// Fields only staff and the request's GP see.
void StripPatient(MtRequest& r) {
  r.patient = PatientIdentity{};
  r.contact = PatientContact{};
  r.fragility.notes.clear();
  if (r.triage) r.triage->synthesis.clear();
  r.state_reason.clear();
  for (MtTransition& t : r.history) t.reason.clear();
}

// The canonical text of a normalised submission, for the idempotency fingerprint.
std::string SubmissionText(const MtRequest& r) {
  std::string out = "mt-submit-v1";
  for (const std::string& part :
       {r.patient.given_name, r.patient.family_name, absl::FormatCivilTime(r.patient.birth_date),
        absl::StrCat(static_cast<int>(r.patient.sex)), r.commune_insee, r.contact.phone,
        r.contact.email, absl::StrCat(r.ald), absl::StrCat(r.fragility.precarity),
        absl::StrCat(r.fragility.disability), absl::StrCat(r.fragility.pregnancy),
        r.fragility.notes, absl::StrCat(static_cast<int>(r.origin)), r.origin_detail}) {
    absl::StrAppend(&out, "|", part.size(), ":", part);
  }
  return out;
}

std::string EncodeQueueToken(const MtQueueKey& key) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(key.priority_rank, ":", absl::ToUnixMicros(key.create_time), ":", key.id));
}

absl::StatusOr<MtQueueKey> DecodeQueueToken(absl::string_view token) {
  std::string raw;
  const absl::Status bad = absl::InvalidArgumentError("page_token: not a token of this list");
  if (!absl::WebSafeBase64Unescape(token, &raw)) return bad;
  std::vector<std::string> parts = absl::StrSplit(raw, absl::MaxSplits(':', 2));
  MtQueueKey key;
  int64_t micros = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &key.priority_rank) ||
      !absl::SimpleAtoi(parts[1], &micros) || parts[2].empty()) {
    return bad;
  }
  key.create_time = absl::FromUnixMicros(micros);
  key.id = parts[2];
  return key;
}

absl::StatusOr<std::string> DecodeGpToken(absl::string_view token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.empty()) {
    return absl::InvalidArgumentError("page_token: not a token of this list");
  }
  return raw;
}

}  // namespace

std::string MtEtag(int64_t version) { return absl::StrCat("v", version); }

absl::StatusOr<std::optional<int64_t>> ParseMtEtag(absl::string_view etag,
                                                   absl::string_view field) {
  if (etag.empty()) return std::optional<int64_t>();
  int64_t version = 0;
  if (etag.size() < 2 || etag[0] != 'v' || !absl::SimpleAtoi(etag.substr(1), &version)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not an etag of this resource"));
  }
  return std::optional<int64_t>(version);
}

namespace {

// The fields every workflow step shares, checked before any lookup.
absl::Status ValidateStepInput(const MtStepInput& input, bool reason_required) {
  CPTS_RETURN_IF_ERROR(ValidateId(input.mt_request_id, "mt_request_id"));
  CPTS_RETURN_IF_ERROR(ParseMtEtag(input.etag, "etag").status());
  return NormalizeReason(input.reason, "reason", reason_required).status();
}

// Validates and normalises UpdateTerritory's links (see mt_desk.h): a < b, sorted,
// duplicates merged keeping the shortest distance.
absl::StatusOr<std::vector<CommuneLink>> NormalizeTerritoryLinks(std::vector<CommuneLink> links) {
  if (links.size() > static_cast<std::size_t>(kMaxTerritoryLinks)) {
    return absl::InvalidArgumentError(absl::StrCat("territory.links: at most ", kMaxTerritoryLinks,
                                                   " links, got ", links.size()));
  }
  std::map<std::pair<std::string, std::string>, double> merged;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const std::string field = absl::StrCat("territory.links[", i, "]");
    CommuneLink& link = links[i];
    if (absl::StripAsciiWhitespace(link.a).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".commune_a: required"));
    }
    if (absl::StripAsciiWhitespace(link.b).empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".commune_b: required"));
    }
    CPTS_ASSIGN_OR_RETURN(std::string a,
                          NormalizeCommuneFilter(link.a, absl::StrCat(field, ".commune_a")));
    CPTS_ASSIGN_OR_RETURN(std::string b,
                          NormalizeCommuneFilter(link.b, absl::StrCat(field, ".commune_b")));
    if (a == b) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".commune_b: links commune ", a, " to itself"));
    }
    if (!std::isfinite(link.distance) || link.distance <= 0 ||
        link.distance > kMaxTerritoryDistance) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".distance: must be a finite number > 0 and <= ", kMaxTerritoryDistance));
    }
    if (b < a) std::swap(a, b);
    auto [it, inserted] = merged.try_emplace({std::move(a), std::move(b)}, link.distance);
    if (!inserted) it->second = std::min(it->second, link.distance);
  }
  std::vector<CommuneLink> out;
  out.reserve(merged.size());
  for (const auto& [key, distance] : merged) {
    out.push_back(CommuneLink{.a = key.first, .b = key.second, .distance = distance});
  }
  return out;
}

}  // namespace

MtDesk::MtDesk(MtRequestRepository& requests, GpCapacityRepository& capacities,
               const AccessDeps& deps, MtDeskOptions options)
    : requests_(requests), capacities_(capacities), deps_(deps), options_(std::move(options)) {}

MtDesk::MtDesk(MtRequestRepository& requests, GpCapacityRepository& capacities,
               TerritoryRepository& territories, const AccessDeps& deps, MtDeskOptions options)
    : requests_(requests),
      capacities_(capacities),
      territories_(&territories),
      deps_(deps),
      options_(std::move(options)) {}

absl::StatusOr<Territory> MtDesk::TenantTerritory(absl::string_view tenant_id) {
  if (territories_ == nullptr) return options_.territory;
  // Loaded per call: a tenant has at most kMaxTerritoryLinks links.
  CPTS_ASSIGN_OR_RETURN(TerritoryRecord stored,
                        territories_->GetTerritory(tenant_id, {.links = true, .communes = false}));
  std::vector<std::string> communes;
  communes.reserve(stored.links.size() * 2);
  for (const CommuneLink& link : stored.links) {
    communes.push_back(link.a);
    communes.push_back(link.b);
  }
  absl::StatusOr<Territory> territory = Territory::Create(std::move(communes), stored.links);
  if (!territory.ok()) {
    return absl::InternalError(
        absl::StrCat("stored territory is invalid: ", territory.status().message()));
  }
  return territory;
}

absl::StatusOr<TerritoryRecord> MtDesk::UpdateTerritory(const Principal& caller,
                                                        TerritoryUpdate update) {
  if (!caller.HasRole(roles::kCoordinator)) {
    return absl::PermissionDeniedError("only a coordinator updates the territory");
  }
  TerritoryRecord territory;
  if (update.replace.links) {
    CPTS_ASSIGN_OR_RETURN(territory.links, NormalizeTerritoryLinks(std::move(update.links)));
  }
  if (update.replace.communes) {
    CPTS_ASSIGN_OR_RETURN(territory.communes,
                          NormalizeTerritoryCommunes(std::move(update.communes)));
  }
  if (territories_ == nullptr) {
    return absl::FailedPreconditionError("this server keeps no territory");
  }
  territory.updated_by = caller.subject;
  territory.update_time = deps_.clock.Now();
  return territories_->PutTerritory(caller.tenant_id, territory, update.replace);
}

absl::StatusOr<TerritoryRecord> MtDesk::GetTerritory(const Principal& caller) {
  if (!IsStaff(caller)) {
    return absl::PermissionDeniedError("only coordinator and triage_nurse read the territory");
  }
  if (territories_ == nullptr) return TerritoryRecord{};
  return territories_->GetTerritory(caller.tenant_id, TerritoryParts{});
}

absl::CivilDay MtDesk::Today() const { return absl::ToCivilDay(deps_.clock.Now(), deps_.zone); }

bool MtDesk::CanReadPatient(const Principal& caller, const MtRequest& request) {
  if (IsStaff(caller)) return true;
  return !caller.member_id.empty() && caller.member_id == request.gp_member_id;
}

MtRequest MtDesk::ForCaller(const Principal& caller, MtRequest request) const {
  if (!CanReadPatient(caller, request)) StripPatient(request);
  if (!IsStaff(caller)) request.possible_duplicate_ids.clear();
  return request;
}

absl::Status MtDesk::CheckRateLimit(const Principal& caller) {
  if (!caller.HasRole(roles::kPublicForm) || IsStaff(caller)) return absl::OkStatus();
  const absl::Time now = deps_.clock.Now();
  std::lock_guard lock(mu_);
  Bucket& b = buckets_[{caller.tenant_id, caller.subject}];
  const double burst = options_.public_form_burst;
  if (b.last == absl::InfinitePast()) {
    b.tokens = burst;
  } else if (now > b.last) {
    b.tokens =
        std::min(burst, b.tokens + absl::FDivDuration(now - b.last, options_.public_form_refill));
  }
  b.last = std::max(b.last, now);
  if (b.tokens < 1.0) {
    return absl::ResourceExhaustedError("too many MT requests from this source; retry later");
  }
  b.tokens -= 1.0;
  return absl::OkStatus();
}

absl::Status MtDesk::CheckGeneralPractitioner(absl::string_view tenant_id, absl::string_view gp,
                                              absl::string_view field) {
  absl::StatusOr<membership::MemberProfile> member =
      deps_.directory.GetMemberProfile(tenant_id, gp);
  if (absl::IsNotFound(member.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", gp, " is not a member of the CPTS"));
  }
  if (!member.ok()) return member.status();
  if (!membership::client::IsActive(*member) ||
      member->profession_code != membership::client::kGeneralPractitionerProfession) {
    return absl::FailedPreconditionError(
        absl::StrCat(field, ": ", gp, " is not an active member practising general medicine (",
                     membership::client::kGeneralPractitionerProfession, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<MtRequest> MtDesk::Submit(const Principal& caller, MtRequest request,
                                         absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(CheckRateLimit(caller));
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request_id, "request_id"));
  const absl::Time now = deps_.clock.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, deps_.zone);
  if (caller.HasRole(roles::kPublicForm) && !IsStaff(caller) &&
      request.origin != MtOrigin::kPublicForm) {
    return absl::PermissionDeniedError(
        "mt_request.origin: the public form can only submit MT_ORIGIN_PUBLIC_FORM");
  }
  // Only the submitted fields count: output-only ones are reset.
  MtRequest r;
  r.patient = std::move(request.patient);
  r.commune_insee = std::move(request.commune_insee);
  r.contact = std::move(request.contact);
  r.ald = request.ald;
  r.fragility.precarity = request.fragility.precarity;
  r.fragility.disability = request.fragility.disability;
  r.fragility.pregnancy = request.fragility.pregnancy;
  r.fragility.notes = std::move(request.fragility.notes);
  r.origin = request.origin;
  r.origin_detail = std::move(request.origin_detail);
  r.consent = request.consent;
  CPTS_RETURN_IF_ERROR(NormalizeMtSubmission(r, now, today));
  r.id = deps_.ids.NewId();
  r.tenant_id = caller.tenant_id;
  MtStep step;
  step.action = MtAction::kSubmit;
  step.actor = {.subject = caller.subject, .member_id = caller.member_id};
  step.now = now;
  step.today = today;
  CPTS_RETURN_IF_ERROR(ApplyMtStep(step, r).status());

  MtSubmitKeys keys;
  keys.duplicate_key = deps_.cipher.KeyedHash(MtDuplicateKeyMaterial(r));
  keys.request_id = std::string(request_id);
  keys.fingerprint = deps_.cipher.KeyedHash(SubmissionText(r));
  const PatientAuditContext audit{.caller = &caller,
                                  .action = audit_actions::kMtRequestCreate,
                                  .reason = "SubmitMtRequest",
                                  .now = now};
  CPTS_ASSIGN_OR_RETURN(MtCreateResult created, requests_.CreateMtRequest(r, keys, audit));
  // The submitter sees what they submitted.
  MtRequest out = std::move(created.request);
  if (!IsStaff(caller)) out.possible_duplicate_ids.clear();
  return out;
}

absl::StatusOr<MtRequest> MtDesk::Get(const Principal& caller, absl::string_view id, MtView view) {
  CPTS_RETURN_IF_ERROR(ValidateId(id, "mt_request_id"));
  const absl::Time now = deps_.clock.Now();
  CPTS_ASSIGN_OR_RETURN(MtRequest basic, requests_.GetMtRequest(caller.tenant_id, id, nullptr));
  if (!CanReadPatient(caller, basic)) {
    return AuditPatientDenied(
        deps_.pool, caller,
        PatientAccess{.action = audit_actions::kMtRequestRead,
                      .resource_type = "mt_request",
                      .resource_id = id,
                      .reason = "GetMtRequest"},
        now,
        absl::PermissionDeniedError(
            "only coordinator, triage_nurse and the request's GP may read an MT request"));
  }
  if (view == MtView::kBasic) {
    basic.history.clear();
    return ForCaller(caller, std::move(basic));
  }
  const PatientAuditContext audit{.caller = &caller,
                                  .action = audit_actions::kMtRequestRead,
                                  .reason = "GetMtRequest",
                                  .now = now};
  CPTS_ASSIGN_OR_RETURN(MtRequest full, requests_.GetMtRequest(caller.tenant_id, id, &audit));
  return ForCaller(caller, std::move(full));
}

absl::StatusOr<MtQueuePage> MtDesk::ListQueue(const Principal& caller, const MtQueueQuery& query) {
  if (!IsStaff(caller)) {
    return absl::PermissionDeniedError("only coordinator and triage_nurse list the MT queue");
  }
  CPTS_ASSIGN_OR_RETURN(const int page_size, MtPageSize(query.page_size, "page_size"));
  std::optional<MtQueueKey> after;
  if (!query.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(after, DecodeQueueToken(query.page_token));
  }
  MtQueueFilter filter;
  for (MtState s : query.states) {
    if (s == MtState::kUnspecified) continue;
    filter.state_mask |= 1U << static_cast<int>(s);
  }
  for (PriorityClass c : query.priority_classes) {
    if (c == PriorityClass::kUnspecified) continue;
    filter.class_mask |= 1U << PriorityRank(c);
  }
  CPTS_ASSIGN_OR_RETURN(filter.commune_insee,
                        NormalizeCommuneFilter(query.commune_insee, "commune_insee"));
  const PatientAuditContext audit{.caller = &caller,
                                  .action = audit_actions::kMtRequestRead,
                                  .reason = "ListMtQueue",
                                  .now = deps_.clock.Now()};
  CPTS_ASSIGN_OR_RETURN(std::vector<MtRequest> rows,
                        requests_.ListMtQueue(caller.tenant_id, filter, after, page_size + 1,
                                              query.view == MtView::kFull ? &audit : nullptr));
  MtQueuePage page;
  if (static_cast<int>(rows.size()) > page_size) {
    rows.resize(static_cast<size_t>(page_size));
    page.next_page_token = EncodeQueueToken(MtQueueKeyOf(rows.back()));
  }
  page.requests = std::move(rows);
  return page;
}

absl::StatusOr<MtUpdateResult> MtDesk::Step(const Principal& caller, const MtStepInput& input,
                                            MtStep step,
                                            const std::optional<GpCapacity>& eligibility) {
  CPTS_RETURN_IF_ERROR(ValidateId(input.mt_request_id, "mt_request_id"));
  CPTS_ASSIGN_OR_RETURN(std::optional<int64_t> version, ParseMtEtag(input.etag, "etag"));
  const bool reason_required = step.action == MtAction::kDecline || step.action == MtAction::kClose;
  CPTS_ASSIGN_OR_RETURN(step.reason, NormalizeReason(input.reason, "reason", reason_required));
  const absl::Time now = deps_.clock.Now();
  step.actor = {.subject = caller.subject, .member_id = caller.member_id};
  step.now = now;
  step.today = absl::ToCivilDay(now, deps_.zone);
  const std::string reason = absl::StrCat(MtActionName(step.action));
  const PatientAuditContext audit{
      .caller = &caller, .action = audit_actions::kMtRequestUpdate, .reason = reason, .now = now};
  return requests_.UpdateMtRequest(
      caller.tenant_id, input.mt_request_id, version,
      [&](MtRequest& r) -> absl::StatusOr<MtStepResult> {
        if (eligibility.has_value()) {
          CPTS_RETURN_IF_ERROR(CheckGpEligible(r, *eligibility, step.today));
        }
        return ApplyMtStep(step, r);
      },
      audit);
}

absl::StatusOr<MtRequest> MtDesk::Triage(const Principal& caller, const MtStepInput& input) {
  MtStep step;
  step.action = MtAction::kTriage;
  CPTS_ASSIGN_OR_RETURN(step.synthesis, NormalizeSynthesis(input.synthesis, "synthesis"));
  step.priority_class = input.priority_class;
  CPTS_ASSIGN_OR_RETURN(MtUpdateResult result, Step(caller, input, step, std::nullopt));
  return ForCaller(caller, std::move(result.request));
}

absl::StatusOr<MtRequest> MtDesk::Assign(const Principal& caller, const MtStepInput& input) {
  CPTS_RETURN_IF_ERROR(ValidateStepInput(input, /*reason_required=*/false));
  CPTS_RETURN_IF_ERROR(ValidateId(input.gp_member_id, "gp_member_id"));
  CPTS_RETURN_IF_ERROR(
      CheckGeneralPractitioner(caller.tenant_id, input.gp_member_id, "gp_member_id"));
  absl::StatusOr<GpCapacity> capacity =
      capacities_.GetGpCapacity(caller.tenant_id, input.gp_member_id);
  if (absl::IsNotFound(capacity.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("gp_member_id: ", input.gp_member_id, " has declared no MT capacity"));
  }
  if (!capacity.ok()) return capacity.status();
  MtStep step;
  step.action = MtAction::kAssign;
  step.gp_member_id = input.gp_member_id;
  CPTS_ASSIGN_OR_RETURN(MtUpdateResult result, Step(caller, input, step, *capacity));
  return ForCaller(caller, std::move(result.request));
}

absl::StatusOr<MtAcceptResult> MtDesk::Accept(const Principal& caller, const MtStepInput& input) {
  // The whole input first: a bad field is reported as such whatever the request's state.
  CPTS_RETURN_IF_ERROR(ValidateStepInput(input, /*reason_required=*/false));
  MtStep step;
  step.action = MtAction::kAccept;
  if (!input.gp_member_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateId(input.gp_member_id, "gp_member_id"));
    if (!caller.HasRole(roles::kCoordinator) && input.gp_member_id != caller.member_id) {
      return absl::PermissionDeniedError("gp_member_id: a GP answers only for themselves");
    }
    step.gp_member_id = input.gp_member_id;
  } else if (!caller.HasRole(roles::kCoordinator)) {
    if (caller.member_id.empty()) {
      return absl::PermissionDeniedError("AcceptMatch: the caller is not a member");
    }
    step.gp_member_id = caller.member_id;
  }
  // The GP who takes the patient must still be an active general practitioner.
  CPTS_ASSIGN_OR_RETURN(MtRequest current,
                        requests_.GetMtRequest(caller.tenant_id, input.mt_request_id, nullptr));
  CPTS_RETURN_IF_ERROR(CheckMtAction(current.state, MtAction::kAccept));
  CPTS_RETURN_IF_ERROR(
      CheckGeneralPractitioner(caller.tenant_id, current.gp_member_id, "gp_member_id"));
  const std::string expected_gp = current.gp_member_id;
  CPTS_ASSIGN_OR_RETURN(std::optional<int64_t> version, ParseMtEtag(input.etag, "etag"));
  MtStepInput pinned = input;
  if (!version.has_value()) pinned.etag = MtEtag(current.version);
  absl::StatusOr<MtUpdateResult> result = Step(caller, pinned, step, std::nullopt);
  if (!result.ok()) {
    // Another step came between the check and the update: say so as a state conflict when
    // the caller did not send an etag of their own.
    if (absl::IsAborted(result.status()) && !version.has_value()) {
      CPTS_ASSIGN_OR_RETURN(MtRequest latest,
                            requests_.GetMtRequest(caller.tenant_id, input.mt_request_id, nullptr));
      CPTS_RETURN_IF_ERROR(CheckMtAction(latest.state, MtAction::kAccept));
    }
    return result.status();
  }
  if (result->request.gp_member_id != expected_gp || !result->capacity.has_value()) {
    return absl::InternalError("AcceptMatch: the capacity of the GP was not updated");
  }
  return MtAcceptResult{.request = ForCaller(caller, std::move(result->request)),
                        .capacity = std::move(*result->capacity)};
}

absl::StatusOr<MtRequest> MtDesk::Decline(const Principal& caller, const MtStepInput& input) {
  CPTS_RETURN_IF_ERROR(ValidateStepInput(input, /*reason_required=*/true));
  MtStep step;
  step.action = MtAction::kDecline;
  if (!input.gp_member_id.empty()) {
    CPTS_RETURN_IF_ERROR(ValidateId(input.gp_member_id, "gp_member_id"));
    if (!caller.HasRole(roles::kCoordinator) && input.gp_member_id != caller.member_id) {
      return absl::PermissionDeniedError("gp_member_id: a GP answers only for themselves");
    }
    step.gp_member_id = input.gp_member_id;
  } else if (!caller.HasRole(roles::kCoordinator)) {
    if (caller.member_id.empty()) {
      return absl::PermissionDeniedError("DeclineMatch: the caller is not a member");
    }
    step.gp_member_id = caller.member_id;
  }
  CPTS_ASSIGN_OR_RETURN(MtUpdateResult result, Step(caller, input, step, std::nullopt));
  return ForCaller(caller, std::move(result.request));
}

absl::StatusOr<MtRequest> MtDesk::Close(const Principal& caller, MtAction action,
                                        const MtStepInput& input) {
  if (action != MtAction::kMarkPlaced && action != MtAction::kMarkUnreachable &&
      action != MtAction::kWithdraw && action != MtAction::kClose) {
    return absl::InternalError("MtDesk::Close: not a closing step");
  }
  MtStep step;
  step.action = action;
  CPTS_ASSIGN_OR_RETURN(MtUpdateResult result, Step(caller, input, step, std::nullopt));
  return ForCaller(caller, std::move(result.request));
}

absl::StatusOr<std::vector<GpSuggestion>> MtDesk::ProposeMatch(const Principal& caller,
                                                               absl::string_view id,
                                                               int max_suggestions) {
  CPTS_RETURN_IF_ERROR(ValidateId(id, "mt_request_id"));
  CPTS_ASSIGN_OR_RETURN(const int max, MaxSuggestions(max_suggestions, "max_suggestions"));
  CPTS_ASSIGN_OR_RETURN(MtRequest request, requests_.GetMtRequest(caller.tenant_id, id, nullptr));
  if (request.state != MtState::kReceived && request.state != MtState::kTriaged) {
    return absl::FailedPreconditionError(
        absl::StrCat("MT request is ", MtStateName(request.state),
                     "; ProposeMatch is allowed only from one of RECEIVED, TRIAGED"));
  }
  const absl::CivilDay today = Today();
  std::vector<GpCapacity> capacities;
  std::string after;
  while (static_cast<int>(capacities.size()) < kMaxCapacitiesConsidered) {
    CPTS_ASSIGN_OR_RETURN(
        std::vector<GpCapacity> page,
        capacities_.ListGpCapacities(caller.tenant_id, GpCapacityFilter{.available_on = today},
                                     after, kMaxMtPageSize));
    if (page.empty()) break;
    after = page.back().gp_member_id;
    const bool last = static_cast<int>(page.size()) < kMaxMtPageSize;
    for (GpCapacity& c : page) capacities.push_back(std::move(c));
    if (last) break;
  }
  CPTS_ASSIGN_OR_RETURN(const Territory territory, TenantTerritory(caller.tenant_id));
  std::vector<GpSuggestion> ranked =
      RankGps(request, capacities, territory, today, /*max_suggestions=*/0);
  std::vector<GpSuggestion> out;
  for (GpSuggestion& s : ranked) {
    if (static_cast<int>(out.size()) >= max) break;
    absl::Status gp = CheckGeneralPractitioner(caller.tenant_id, s.gp_member_id, "gp");
    if (absl::IsFailedPrecondition(gp)) continue;  // left the CPTS or changed profession
    if (!gp.ok()) return gp;
    s.rank = static_cast<int>(out.size()) + 1;
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<GpCapacity> MtDesk::DeclareCapacity(const Principal& caller, GpCapacity capacity,
                                                   absl::string_view etag) {
  const bool coordinator = caller.HasRole(roles::kCoordinator);
  if (capacity.gp_member_id.empty()) capacity.gp_member_id = caller.member_id;
  if (capacity.gp_member_id.empty()) {
    return absl::InvalidArgumentError("gp_capacity.gp_member_id: required");
  }
  if (!coordinator && capacity.gp_member_id != caller.member_id) {
    return absl::PermissionDeniedError(
        "gp_capacity.gp_member_id: a GP declares only their own capacity");
  }
  CPTS_ASSIGN_OR_RETURN(std::optional<int64_t> version, ParseMtEtag(etag, "gp_capacity.etag"));
  const absl::Time now = deps_.clock.Now();
  CPTS_RETURN_IF_ERROR(NormalizeGpCapacity(capacity, absl::ToCivilDay(now, deps_.zone)));
  CPTS_RETURN_IF_ERROR(CheckGeneralPractitioner(caller.tenant_id, capacity.gp_member_id,
                                                "gp_capacity.gp_member_id"));
  capacity.declared_by = caller.subject;
  return capacities_.PutGpCapacity(caller.tenant_id, capacity, version, now);
}

absl::StatusOr<GpCapacity> MtDesk::GetCapacity(const Principal& caller,
                                               absl::string_view gp_member_id) {
  std::string gp(gp_member_id.empty() ? caller.member_id : std::string(gp_member_id));
  if (gp.empty()) return absl::InvalidArgumentError("gp_member_id: required");
  CPTS_RETURN_IF_ERROR(ValidateId(gp, "gp_member_id"));
  if (!IsStaff(caller) && gp != caller.member_id) {
    return absl::PermissionDeniedError("gp_member_id: a GP reads only their own capacity");
  }
  return capacities_.GetGpCapacity(caller.tenant_id, gp);
}

absl::StatusOr<GpCapacityPage> MtDesk::ListCapacities(const Principal& caller,
                                                      const GpCapacityQuery& query) {
  CPTS_ASSIGN_OR_RETURN(const int page_size, MtPageSize(query.page_size, "page_size"));
  std::string after;
  if (!query.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(after, DecodeGpToken(query.page_token));
  }
  GpCapacityFilter filter;
  CPTS_ASSIGN_OR_RETURN(filter.commune_insee,
                        NormalizeCommuneFilter(query.commune_insee, "commune_insee"));
  filter.priority_class = query.priority_class;
  if (query.available_only) filter.available_on = Today();
  CPTS_ASSIGN_OR_RETURN(
      std::vector<GpCapacity> rows,
      capacities_.ListGpCapacities(caller.tenant_id, filter, after, page_size + 1));
  GpCapacityPage page;
  if (static_cast<int>(rows.size()) > page_size) {
    rows.resize(static_cast<size_t>(page_size));
    page.next_page_token = absl::WebSafeBase64Escape(rows.back().gp_member_id);
  }
  page.capacities = std::move(rows);
  return page;
}

absl::StatusOr<MtIndicators> MtDesk::Indicators(const Principal& caller, absl::CivilDay start,
                                                absl::CivilDay end) {
  CPTS_RETURN_IF_ERROR(ValidatePeriod(start, end, "period"));
  const TimeRange range = DayRange(start, end, deps_.zone);
  CPTS_ASSIGN_OR_RETURN(std::vector<MtFacts> facts,
                        requests_.ListMtFacts(caller.tenant_id, range.start));
  return ComputeMtIndicators(facts, range);
}

absl::StatusOr<int> MtDesk::PurgeExpired() {
  const absl::Time now = deps_.clock.Now();
  int total = 0;
  for (;;) {
    CPTS_ASSIGN_OR_RETURN(const int n,
                          requests_.PurgeClosedMtRequests(now - deps_.retention, now, kPurgeBatch));
    total += n;
    if (n < kPurgeBatch) return total;
  }
}

}  // namespace cpts::access
