#pragma once

// The MT desk: the application layer of the MT half of the access service. Each method is one
// RPC's use case: it checks who may do it, validates and normalises the input with the domain
// (mt_validators.h), applies the workflow (mt_workflow.h), loads and stores through the
// repositories (mt_store.h), checks GPs against membership (MemberDirectory) and records every
// access to patient data (patient_audit.h). No gRPC, no SQL.
//
// WHO SEES PATIENT FIELDS (names, birth date, sex, contact, notes, triage synthesis, reasons,
// history reasons): coordinator and triage_nurse, and the member who is the request's GP
// (proposed to, accepted by or placed with: gp_member_id). GetMtRequest by anyone else is
// PERMISSION_DENIED, whatever the view, and the denied attempt is audited. Workflow answers
// (e.g. a GP's DeclineMatch, after which they are no longer the GP) come back without patient
// fields when the caller may no longer read them. A submitter (member, partner, public form)
// gets back what they submitted, without the possible duplicate ids.
//
// The patient-data encryption itself happens in the store (mysql_mt_store.h): nothing above
// it handles ciphertext. Duplicate detection and the idempotency fingerprint use the
// FieldCipher's keyed hash, computed here.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/access_deps.h"
#include "services/access/mt_indicators.h"
#include "services/access/mt_matching.h"
#include "services/access/mt_model.h"
#include "services/access/mt_store.h"
#include "services/platform/auth/principal.h"

namespace cpts::access {

// Role of the coordination nurses (IDE de coordination).
inline constexpr char kTriageNurseRole[] = "triage_nurse";

enum class MtView { kBasic, kFull };

inline constexpr int kMaxTerritoryLinks = 5000;
inline constexpr double kMaxTerritoryDistance = 10000;

struct MtQueueQuery {
  int page_size = 0;
  std::string page_token{};
  std::vector<MtState> states{};
  std::vector<PriorityClass> priority_classes{};
  std::string commune_insee{};
  MtView view = MtView::kBasic;
};

struct MtQueuePage {
  std::vector<MtRequest> requests;
  std::string next_page_token;
};

struct GpCapacityQuery {
  int page_size = 0;
  std::string page_token{};
  std::string commune_insee{};
  PriorityClass priority_class = PriorityClass::kUnspecified;
  bool available_only = false;
};

struct GpCapacityPage {
  std::vector<GpCapacity> capacities;
  std::string next_page_token;
};

// A workflow step as requested by an RPC (all but Submit).
struct MtStepInput {
  std::string mt_request_id{};
  std::string gp_member_id{};  // AssignMatch (required), AcceptMatch/DeclineMatch (optional)
  std::string reason{};
  std::string synthesis{};                                     // TriageMtRequest
  PriorityClass priority_class = PriorityClass::kUnspecified;  // TriageMtRequest
  std::string etag{};
};

struct MtAcceptResult {
  MtRequest request;
  GpCapacity capacity;
};

// UpdateTerritory's input, as sent (the desk validates it): the parts to replace and their
// new contents; a part not replaced is neither read nor validated.
struct TerritoryUpdate {
  std::vector<CommuneLink> links{};
  std::vector<TerritoryCommune> communes{};
  TerritoryParts replace{};
};

struct MtDeskOptions {
  // Public form rate limit per (tenant, subject): a bucket of `public_form_burst` tokens,
  // one token back every `public_form_refill`.
  int public_form_burst = 5;
  absl::Duration public_form_refill = absl::Minutes(2);
  // The commune graph used to rank GPs by distance; empty = commune match only.
  Territory territory{};
};

// The etag of a version, and back (InvalidArgument "<field>: ..." when malformed; nullopt
// when empty).
std::string MtEtag(int64_t version);
absl::StatusOr<std::optional<int64_t>> ParseMtEtag(absl::string_view etag, absl::string_view field);

class MtDesk final {
 public:
  // Everything referenced must outlive the desk. Thread-safe.
  MtDesk(MtRequestRepository& requests, GpCapacityRepository& capacities, const AccessDeps& deps,
         MtDeskOptions options = {});
  // With a territory repository: ProposeMatch ranks by the tenant's stored commune links
  // (UpdateTerritory) instead of options.territory.
  MtDesk(MtRequestRepository& requests, GpCapacityRepository& capacities,
         TerritoryRepository& territories, const AccessDeps& deps, MtDeskOptions options = {});

  // SubmitMtRequest. RESOURCE_EXHAUSTED past the public form rate limit; PERMISSION_DENIED
  // when a public_form caller submits another origin; validation errors as
  // NormalizeMtSubmission (FAILED_PRECONDITION without consent, nothing stored).
  absl::StatusOr<MtRequest> Submit(const platform::auth::Principal& caller, MtRequest request,
                                   absl::string_view request_id);

  // GetMtRequest (see WHO SEES PATIENT FIELDS). NotFound.
  absl::StatusOr<MtRequest> Get(const platform::auth::Principal& caller, absl::string_view id,
                                MtView view);

  // ListMtQueue: coordinator or triage_nurse.
  absl::StatusOr<MtQueuePage> ListQueue(const platform::auth::Principal& caller,
                                        const MtQueueQuery& query);

  // The workflow steps. FAILED_PRECONDITION when the state does not allow the step (or the
  // GP is not eligible / has no place left), ABORTED on a stale etag, PERMISSION_DENIED when
  // a GP answers for another GP.
  absl::StatusOr<MtRequest> Triage(const platform::auth::Principal& caller,
                                   const MtStepInput& input);
  absl::StatusOr<MtRequest> Assign(const platform::auth::Principal& caller,
                                   const MtStepInput& input);
  absl::StatusOr<MtAcceptResult> Accept(const platform::auth::Principal& caller,
                                        const MtStepInput& input);
  absl::StatusOr<MtRequest> Decline(const platform::auth::Principal& caller,
                                    const MtStepInput& input);
  // kMarkPlaced, kMarkUnreachable, kWithdraw, kClose.
  absl::StatusOr<MtRequest> Close(const platform::auth::Principal& caller, MtAction action,
                                  const MtStepInput& input);

  // ProposeMatch: ranked eligible GPs that are active general practitioners.
  absl::StatusOr<std::vector<GpSuggestion>> ProposeMatch(const platform::auth::Principal& caller,
                                                         absl::string_view id, int max_suggestions);

  // UpdateTerritory: coordinator. Replaces the parts of the tenant's territory named in
  // update.replace, validated and normalised. Links, fields named
  // "territory.links[i].<field>": commune_a and commune_b INSEE codes (trimmed, upper-cased),
  // different; distance > 0, finite, at most kMaxTerritoryDistance; at most
  // kMaxTerritoryLinks links. Each link is stored with a < b; duplicates keep the shortest
  // distance. Communes: NormalizeTerritoryCommunes (mt_validators.h). FAILED_PRECONDITION
  // without a territory repository.
  absl::StatusOr<TerritoryRecord> UpdateTerritory(const platform::auth::Principal& caller,
                                                  TerritoryUpdate update);
  // GetTerritory: coordinator or triage_nurse.
  absl::StatusOr<TerritoryRecord> GetTerritory(const platform::auth::Principal& caller);

  // DeclareGpCapacity: the GP for themselves or a coordinator. FAILED_PRECONDITION when the
  // GP is not an active member whose profession is MEDECIN_GENERALISTE.
  absl::StatusOr<GpCapacity> DeclareCapacity(const platform::auth::Principal& caller,
                                             GpCapacity capacity, absl::string_view etag);
  absl::StatusOr<GpCapacity> GetCapacity(const platform::auth::Principal& caller,
                                         absl::string_view gp_member_id);
  absl::StatusOr<GpCapacityPage> ListCapacities(const platform::auth::Principal& caller,
                                                const GpCapacityQuery& query);

  // GetMtIndicators over the local days [start, end].
  absl::StatusOr<MtIndicators> Indicators(const platform::auth::Principal& caller,
                                          absl::CivilDay start, absl::CivilDay end);

  // Retention: erases the patient fields of final requests older than deps.retention.
  // Returns how many were purged.
  absl::StatusOr<int> PurgeExpired();

  // Whether `caller` may read the patient fields of `request`.
  static bool CanReadPatient(const platform::auth::Principal& caller, const MtRequest& request);

 private:
  absl::Status CheckRateLimit(const platform::auth::Principal& caller);
  absl::Status CheckGeneralPractitioner(absl::string_view tenant_id, absl::string_view gp,
                                        absl::string_view field);
  absl::StatusOr<MtUpdateResult> Step(const platform::auth::Principal& caller,
                                      const MtStepInput& input, MtStep step,
                                      const std::optional<GpCapacity>& eligibility);
  MtRequest ForCaller(const platform::auth::Principal& caller, MtRequest request) const;
  absl::CivilDay Today() const;
  absl::StatusOr<Territory> TenantTerritory(absl::string_view tenant_id);

  MtRequestRepository& requests_;
  GpCapacityRepository& capacities_;
  TerritoryRepository* territories_ = nullptr;
  const AccessDeps& deps_;
  MtDeskOptions options_;

  struct Bucket {
    double tokens = 0;
    absl::Time last = absl::InfinitePast();
  };
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Bucket> buckets_;
};

}  // namespace cpts::access
