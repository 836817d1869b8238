#include "services/finance/finance.h"

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/finance/batch.h"
#include "services/finance/iban.h"
#include "services/finance/ledger.h"
#include "services/finance/sepa_pain001.h"
#include "services/finance/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::finance {
namespace {

using platform::auth::Principal;

// How many times RecordAttendance rates again after losing the race for a member's cap.
constexpr int kRateAttempts = 4;
// Page size of the internal scans (statements, re-rating).
constexpr int kScanPage = 1000;

absl::Status RequireTenant(const Principal& caller) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("a tenant is required");
  return absl::OkStatus();
}

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

std::optional<IdempotencyKey> MakeKey(absl::string_view scope, absl::string_view request_id,
                                      const Fingerprint& f) {
  if (request_id.empty()) return std::nullopt;
  return IdempotencyKey{std::string(scope), std::string(request_id), f.Digest()};
}

const IdempotencyKey* KeyOrNull(const std::optional<IdempotencyKey>& key) {
  return key.has_value() ? &*key : nullptr;
}

void AddPolicy(Fingerprint& f, const IndemnityPolicy& p) {
  f.Add(p.year)
      .Add(EnumValue(p.kind))
      .Add(p.member_amount_cents)
      .Add(p.referent_amount_cents)
      .Add(p.member_millipoints_per_hour)
      .Add(p.referent_millipoints_per_hour)
      .Add(p.point_value_cents)
      .Add(p.decision_reference);
}

absl::CivilDay Today(const platform::Clock& clock) {
  return absl::ToCivilDay(clock.Now(), absl::UTCTimeZone());
}

absl::Status ValidateId(absl::string_view id, absl::string_view field) {
  if (id.empty()) return FieldError(field, "required");
  if (id.size() > 64) return FieldError(field, "at most 64 characters");
  return absl::OkStatus();
}

// Every entitlement matching `filter`, page after page.
absl::StatusOr<std::vector<Entitlement>> ScanEntitlements(EntitlementRepository& repo,
                                                          absl::string_view tenant_id,
                                                          const EntitlementFilter& filter) {
  std::vector<Entitlement> all;
  Page page{.page_size = kScanPage};
  for (;;) {
    std::string next;
    CPTS_ASSIGN_OR_RETURN(std::vector<Entitlement> part,
                          repo.ListEntitlements(tenant_id, filter, page, &next));
    for (Entitlement& e : part) all.push_back(std::move(e));
    if (next.empty()) return all;
    page.page_token = next;
  }
}

MemberFacts FactsOf(const membership::MemberProfile& profile) {
  MemberFacts f;
  f.member_id = profile.member_id;
  f.up_to_date = profile.up_to_date;
  f.exercise_mode = static_cast<ExerciseMode>(profile.exercise_mode);
  f.payee_kind = static_cast<MemberPayeeKind>(profile.payee.kind);
  f.employer_member_id = profile.payee.employer_member_id;
  f.convention_id = profile.payee.convention_id;
  f.none_reason = static_cast<PayeeNoneReason>(profile.payee.none_reason);
  for (const membership::MandateBody body : profile.mandate_bodies) {
    if (body == membership::MandateBody::kBureau) {
      f.governance_bodies.push_back(GovernanceBody::kBureau);
    } else if (body == membership::MandateBody::kBoard) {
      f.governance_bodies.push_back(GovernanceBody::kBoard);
    }
  }
  return f;
}

// Page sizes: the request's, defaulted and bounded; negative is InvalidArgument.
absl::StatusOr<int> PageLimit(const Page& page, int default_size, int max_size) {
  if (page.page_size < 0) return FieldError("page_size", "must not be negative");
  if (page.page_size == 0) return default_size;
  return std::min(page.page_size, max_size);
}

// Opaque page tokens of the keysets cut here.
std::string EncodePageToken(absl::string_view key) { return absl::WebSafeBase64Escape(key); }
absl::StatusOr<std::string> DecodePageToken(absl::string_view token) {
  std::string key;
  if (!absl::WebSafeBase64Unescape(token, &key) || key.empty()) {
    return FieldError("page_token", "malformed");
  }
  return key;
}

}  // namespace

std::string Etag(int64_t row_version) { return absl::StrCat("v", row_version); }

absl::StatusOr<int64_t> ParseEtag(absl::string_view etag, absl::string_view field) {
  if (etag.empty()) return 0;
  int64_t v = 0;
  if (etag.size() < 2 || etag[0] != 'v' || !absl::SimpleAtoi(etag.substr(1), &v) || v <= 0) {
    return FieldError(field, "malformed etag");
  }
  return v;
}

// =========================================================================================
// Policies and ceilings
// =========================================================================================

absl::StatusOr<IndemnityPolicy> Finance::CreatePolicy(const Principal& caller,
                                                      IndemnityPolicy policy,
                                                      absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, false));
  policy.tenant_id = caller.tenant_id;
  CPTS_RETURN_IF_ERROR(ValidatePolicy(policy));
  CPTS_RETURN_IF_ERROR(
      ValidateText(policy.decision_reference, "policy.decision_reference", 500, false));
  Fingerprint f;
  AddPolicy(f, policy);
  const auto key = MakeKey("CreateIndemnityPolicy", request_id, f);
  CPTS_ASSIGN_OR_RETURN(
      WriteResult<IndemnityPolicy> r,
      d_.policies.CreatePolicy(caller.tenant_id, policy, KeyOrNull(key), caller.subject));
  return r.value;
}

absl::StatusOr<IndemnityPolicy> Finance::GetPolicy(const Principal& caller, absl::string_view id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  return d_.policies.GetPolicy(caller.tenant_id, id);
}

absl::StatusOr<std::vector<IndemnityPolicy>> Finance::ListPolicies(const Principal& caller,
                                                                   int year, const Page& page,
                                                                   std::string* next_page_token) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (year != 0) CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  if (page.page_size < 0) return FieldError("page_size", "must not be negative");
  return d_.policies.ListPolicies(caller.tenant_id, year, page, next_page_token);
}

absl::StatusOr<IndemnityPolicy> Finance::UpdatePolicy(const Principal& caller,
                                                      const IndemnityPolicy& changes,
                                                      const PolicyMask& mask,
                                                      absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(changes.id, "policy.id"));
  CPTS_ASSIGN_OR_RETURN(const int64_t expected, ParseEtag(etag, "policy.etag"));
  CPTS_ASSIGN_OR_RETURN(IndemnityPolicy p, d_.policies.GetPolicy(caller.tenant_id, changes.id));
  if (expected != 0 && expected != p.row_version) {
    return absl::AbortedError("policy.etag: the policy changed since it was read");
  }
  CPTS_RETURN_IF_ERROR(CheckPolicyUpdatable(p));
  if (mask.kind) p.kind = changes.kind;
  if (mask.member_amount_cents) p.member_amount_cents = changes.member_amount_cents;
  if (mask.referent_amount_cents) p.referent_amount_cents = changes.referent_amount_cents;
  if (mask.member_millipoints_per_hour) {
    p.member_millipoints_per_hour = changes.member_millipoints_per_hour;
  }
  if (mask.referent_millipoints_per_hour) {
    p.referent_millipoints_per_hour = changes.referent_millipoints_per_hour;
  }
  if (mask.point_value_cents) p.point_value_cents = changes.point_value_cents;
  if (mask.decision_reference) p.decision_reference = changes.decision_reference;
  CPTS_RETURN_IF_ERROR(ValidatePolicy(p));
  return d_.policies.UpdatePolicy(caller.tenant_id, p, p.row_version, caller.subject);
}

absl::StatusOr<RevisedPolicy> Finance::RevisePolicy(const Principal& caller,
                                                    IndemnityPolicy revised, absl::string_view etag,
                                                    absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, true));
  if (etag.empty()) return FieldError("current_etag", "required");
  CPTS_ASSIGN_OR_RETURN(const int64_t expected, ParseEtag(etag, "current_etag"));
  revised.tenant_id = caller.tenant_id;
  CPTS_RETURN_IF_ERROR(ValidatePolicy(revised));
  CPTS_ASSIGN_OR_RETURN(std::optional<IndemnityPolicy> in_force,
                        d_.policies.PolicyInForce(caller.tenant_id, revised.year));
  if (!in_force.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy.year: ", revised.year, " has no policy; create one"));
  }
  CPTS_ASSIGN_OR_RETURN(IndemnityPolicy next, NextPolicyVersion(*in_force, revised));
  CPTS_ASSIGN_OR_RETURN(AnnualCeilingTable ceilings, d_.ceilings.LoadCeilings());
  CPTS_ASSIGN_OR_RETURN(
      std::vector<Entitlement> year,
      ScanEntitlements(d_.entitlements, caller.tenant_id, EntitlementFilter{.year = revised.year}));
  // Per member, in meeting-date order: what stays (batched, paid) counts first, then each
  // re-rated line in turn, so the cap falls on the latest meetings.
  std::map<std::string, std::vector<const Entitlement*>> by_member;
  for (const Entitlement& e : year) by_member[e.member_id].push_back(&e);
  RevisedPolicy out;
  std::vector<PolicyRepository::Rerated> rerated;
  for (auto& [member, list] : by_member) {
    std::sort(list.begin(), list.end(), [](const Entitlement* a, const Entitlement* b) {
      return std::tie(a->meeting_date, a->id) < std::tie(b->meeting_date, b->id);
    });
    Cents total = 0;
    for (const Entitlement* e : list) {
      if ((e->status == EntitlementStatus::kBatched || e->status == EntitlementStatus::kPaid) &&
          CountsTowardCap(*e)) {
        total += e->amount_cents;
      }
    }
    for (const Entitlement* e : list) {
      if (e->status == EntitlementStatus::kReversed) continue;
      if (IsRecovery(*e)) continue;  // nothing toward the cap, nothing to re-rate
      if (e->status == EntitlementStatus::kBatched || e->status == EntitlementStatus::kPaid) {
        if (RatedByPolicy(*e)) ++out.paid_skipped_count;
        continue;
      }
      CPTS_ASSIGN_OR_RETURN(std::optional<Entitlement> replacement,
                            Rerate(*e, next, ceilings, total));
      const Entitlement& kept = replacement.has_value() ? *replacement : *e;
      if (CountsTowardCap(kept)) total += kept.amount_cents;
      if (replacement.has_value()) {
        rerated.push_back({.old_entitlement_id = e->id, .replacement = *std::move(replacement)});
      }
    }
  }
  Fingerprint f;
  AddPolicy(f, revised);
  f.Add(etag);
  const auto key = MakeKey("ReviseIndemnityPolicy", request_id, f);
  CPTS_ASSIGN_OR_RETURN(WriteResult<IndemnityPolicy> r,
                        d_.policies.RevisePolicy(caller.tenant_id, next, expected, rerated,
                                                 d_.clock.Now(), KeyOrNull(key), caller.subject));
  out.policy = std::move(r.value);
  out.rerated_count = r.replayed ? 0 : static_cast<int>(rerated.size());
  if (r.replayed) out.paid_skipped_count = 0;
  return out;
}

absl::Status Finance::SetCeiling(int year, Cents ceiling_cents) {
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "ceiling.year"));
  CPTS_RETURN_IF_ERROR(ValidateAmount(ceiling_cents, "ceiling.ceiling_cents", true));
  return d_.ceilings.SetCeiling(year, ceiling_cents);
}

absl::StatusOr<AnnualCeilingTable> Finance::ListCeilings() { return d_.ceilings.LoadCeilings(); }

// =========================================================================================
// Attendance and entitlements
// =========================================================================================

absl::StatusOr<std::optional<MemberFacts>> Finance::FactsOn(absl::string_view tenant_id,
                                                            absl::string_view member_id,
                                                            absl::CivilDay day) {
  if (member_id.empty()) return std::optional<MemberFacts>();
  absl::StatusOr<membership::MemberProfile> profile =
      d_.directory.GetMemberProfile(tenant_id, member_id, day);
  // Unknown to membership (or not even a well-formed id): not a member.
  if (absl::IsNotFound(profile.status()) || absl::IsInvalidArgument(profile.status())) {
    return std::optional<MemberFacts>();
  }
  if (!profile.ok()) {
    // Unavailable: the relay retries later. Anything else is not the event's fault either.
    if (absl::IsUnavailable(profile.status())) return profile.status();
    return absl::UnavailableError(absl::StrCat("membership could not answer for ", member_id, ": ",
                                               profile.status().message()));
  }
  return std::optional<MemberFacts>(FactsOf(*profile));
}

absl::StatusOr<Finance::Recorded> Finance::RecordAttendance(const Principal& caller,
                                                            const AttendanceLine& line) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (line.tenant_id != caller.tenant_id) {
    return FieldError("event.tenant_id", "is not the caller's tenant");
  }
  CPTS_RETURN_IF_ERROR(ValidateAttendanceLine(line));
  const absl::Time now = d_.clock.Now();
  if (line.reversal) {
    CPTS_ASSIGN_OR_RETURN(std::string reversed, ReversedKey(line));
    CPTS_ASSIGN_OR_RETURN(
        WriteResult<Entitlement> r,
        d_.entitlements.ReverseEntitlement(caller.tenant_id, reversed, line.idempotency_key,
                                           Today(d_.clock), now));
    return Recorded{.entitlement = std::move(r.value), .replayed = r.replayed};
  }
  // A replay costs one read, and no call to membership.
  CPTS_ASSIGN_OR_RETURN(std::optional<Entitlement> seen,
                        d_.entitlements.FindByEventKey(caller.tenant_id, line.idempotency_key));
  if (seen.has_value()) return Recorded{.entitlement = *std::move(seen), .replayed = true};

  CPTS_ASSIGN_OR_RETURN(std::optional<MemberFacts> facts,
                        FactsOn(caller.tenant_id, line.member_id, line.meeting_date));
  const int year = static_cast<int>(line.meeting_date.year());
  CPTS_ASSIGN_OR_RETURN(std::optional<IndemnityPolicy> policy,
                        d_.policies.PolicyInForce(caller.tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(AnnualCeilingTable ceilings, d_.ceilings.LoadCeilings());
  absl::Status last;
  for (int attempt = 0; attempt < kRateAttempts; ++attempt) {
    Cents total = 0;
    if (!line.member_id.empty()) {
      CPTS_ASSIGN_OR_RETURN(total,
                            d_.entitlements.YearTotalCents(caller.tenant_id, line.member_id, year));
    }
    CPTS_ASSIGN_OR_RETURN(Entitlement e,
                          BuildEntitlement(line, policy.has_value() ? &*policy : nullptr,
                                           facts.has_value() ? &*facts : nullptr, ceilings, total));
    absl::StatusOr<WriteResult<Entitlement>> r =
        d_.entitlements.RecordEntitlement(caller.tenant_id, e, total, now);
    if (r.ok()) return Recorded{.entitlement = std::move(r->value), .replayed = r->replayed};
    last = r.status();
    if (!absl::IsAborted(last)) return last;
  }
  return last;
}

absl::StatusOr<Statement> Finance::GetMyStatement(const Principal& caller, int year) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (caller.member_id.empty()) {
    return absl::PermissionDeniedError("the caller is not a member: no statement");
  }
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(
      std::vector<Entitlement> mine,
      ScanEntitlements(d_.entitlements, caller.tenant_id,
                       EntitlementFilter{.year = year, .member_id = caller.member_id}));
  CPTS_ASSIGN_OR_RETURN(AnnualCeilingTable ceilings, d_.ceilings.LoadCeilings());
  return BuildStatement(caller.member_id, year, mine, ceilings);
}

absl::StatusOr<EntitlementPage> Finance::ListEntitlements(const Principal& caller,
                                                          const EntitlementFilter& filter,
                                                          const Page& page) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (filter.year != 0) CPTS_RETURN_IF_ERROR(ValidateYear(filter.year, "year"));
  if (page.page_size < 0) return FieldError("page_size", "must not be negative");
  EntitlementPage out;
  CPTS_ASSIGN_OR_RETURN(
      out.entitlements,
      d_.entitlements.ListEntitlements(caller.tenant_id, filter, page, &out.next_page_token));
  return out;
}

absl::StatusOr<Finance::Recorded> Finance::RecordGovernanceIndemnity(const Principal& caller,
                                                                     GovernanceClaim claim) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  claim.tenant_id = caller.tenant_id;
  CPTS_RETURN_IF_ERROR(ValidateGovernanceClaim(claim));
  // A retry must get its first answer even if the member's facts changed since: look for it
  // before asking membership. The claim is all in the entitlement, so a reused request_id is
  // recognised without the key's fingerprint (which the store checks again).
  CPTS_ASSIGN_OR_RETURN(
      std::optional<Entitlement> seen,
      d_.entitlements.FindByEventKey(caller.tenant_id, GovernanceEventKey(claim.request_id)));
  if (seen.has_value()) {
    if (!SameGovernanceClaim(*seen, claim)) {
      return FieldError("request_id", "already used for a different request");
    }
    return Recorded{.entitlement = *std::move(seen), .replayed = true};
  }
  Fingerprint f;
  f.Add(claim.member_id)
      .Add(claim.work_date)
      .Add(claim.amount_cents)
      .Add(EnumValue(claim.body))
      .Add(claim.reason);
  const IdempotencyKey key{.scope = "RecordGovernanceIndemnity",
                           .request_id = claim.request_id,
                           .fingerprint = f.Digest()};
  CPTS_ASSIGN_OR_RETURN(std::optional<MemberFacts> facts,
                        FactsOn(caller.tenant_id, claim.member_id, claim.work_date));
  CPTS_ASSIGN_OR_RETURN(AnnualCeilingTable ceilings, d_.ceilings.LoadCeilings());
  const int year = static_cast<int>(claim.work_date.year());
  const absl::Time now = d_.clock.Now();
  absl::Status last;
  for (int attempt = 0; attempt < kRateAttempts; ++attempt) {
    CPTS_ASSIGN_OR_RETURN(const Cents total,
                          d_.entitlements.YearTotalCents(caller.tenant_id, claim.member_id, year));
    CPTS_ASSIGN_OR_RETURN(
        Entitlement e,
        BuildGovernanceEntitlement(claim, facts.has_value() ? &*facts : nullptr, ceilings, total));
    absl::StatusOr<WriteResult<Entitlement>> r = d_.entitlements.RecordGovernanceEntitlement(
        caller.tenant_id, e, total, now, key, caller.subject);
    if (r.ok()) return Recorded{.entitlement = std::move(r->value), .replayed = r->replayed};
    last = r.status();
    if (!absl::IsAborted(last)) return last;
  }
  return last;
}

absl::StatusOr<std::vector<Entitlement>> Finance::ApproveEntitlements(
    const Principal& caller, const std::vector<std::string>& ids, absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, true));
  if (ids.empty() || ids.size() > 1000) return FieldError("entitlement_ids", "1 to 1000 ids");
  std::set<std::string> unique;
  for (const std::string& id : ids) {
    CPTS_RETURN_IF_ERROR(ValidateId(id, "entitlement_ids"));
    if (!unique.insert(id).second) {
      return FieldError("entitlement_ids", absl::StrCat(id, " is listed twice"));
    }
  }
  Fingerprint f;
  for (const std::string& id : ids) f.Add(id);
  const auto key = MakeKey("ApproveEntitlements", request_id, f);
  CPTS_ASSIGN_OR_RETURN(WriteResult<std::vector<Entitlement>> r,
                        d_.entitlements.ApproveEntitlements(caller.tenant_id, ids, caller.subject,
                                                            d_.clock.Now(), KeyOrNull(key)));
  return r.value;
}

// =========================================================================================
// Ledger
// =========================================================================================

absl::StatusOr<TransactionPage> Finance::ListTransactions(const Principal& caller, int year,
                                                          const std::optional<Account>& account,
                                                          const Page& page) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (year != 0) CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  if (page.page_size < 0) return FieldError("page_size", "must not be negative");
  TransactionPage out;
  CPTS_ASSIGN_OR_RETURN(
      out.transactions,
      d_.ledger.ListTransactions(caller.tenant_id, year, account, page, &out.next_page_token));
  return out;
}

absl::StatusOr<Balances> Finance::GetBalances(const Principal& caller,
                                              std::optional<absl::CivilDay> as_of,
                                              AccountKind kind) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_ASSIGN_OR_RETURN(Balances all, d_.ledger.GetBalances(caller.tenant_id, as_of));
  Balances out;
  for (const auto& [account, cents] : all) {
    if (cents == 0) continue;
    if (kind != AccountKind::kUnspecified && account.kind != kind) continue;
    out[account] = cents;
  }
  return out;
}

// =========================================================================================
// Bank accounts and batches
// =========================================================================================

absl::StatusOr<PayeeBankAccount> Finance::SetBankAccount(const Principal& caller,
                                                         PayeeBankAccount account) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(account.member_id, "account.member_id"));
  if (account.member_id == caller.tenant_id) {
    return FieldError("account.member_id",
                      "is the tenant, not a payee: set the CPTS's own account with "
                      "SetDebtorAccount");
  }
  CPTS_RETURN_IF_ERROR(ValidateText(account.holder_name, "account.holder_name", 70, true));
  CPTS_ASSIGN_OR_RETURN(account.iban, NormalizeIban(account.iban, "account.iban"));
  if (!account.bic.empty()) {
    CPTS_ASSIGN_OR_RETURN(account.bic, NormalizeBic(account.bic, "account.bic"));
  }
  account.update_time = d_.clock.Now();
  CPTS_RETURN_IF_ERROR(d_.payments.SetBankAccount(caller.tenant_id, account, caller.subject));
  return account;
}

absl::StatusOr<PayeeBankAccount> Finance::GetBankAccount(const Principal& caller,
                                                         absl::string_view member_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(member_id, "member_id"));
  return d_.payments.GetBankAccount(caller.tenant_id, member_id);
}

absl::StatusOr<DebtorAccount> Finance::SetDebtorAccount(const Principal& caller,
                                                        DebtorAccount account) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateText(account.holder_name, "account.holder_name", 70, true));
  CPTS_ASSIGN_OR_RETURN(account.iban, NormalizeIban(account.iban, "account.iban"));
  if (!account.bic.empty()) {
    CPTS_ASSIGN_OR_RETURN(account.bic, NormalizeBic(account.bic, "account.bic"));
  }
  account.update_time = d_.clock.Now();
  account.updated_by = caller.subject;
  return d_.payments.SetDebtorAccount(caller.tenant_id, account, caller.subject);
}

absl::StatusOr<DebtorAccount> Finance::GetDebtorAccount(const Principal& caller) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_ASSIGN_OR_RETURN(std::optional<DebtorAccount> account,
                        d_.payments.GetDebtorAccount(caller.tenant_id));
  if (!account.has_value()) {
    return absl::NotFoundError("the CPTS's debtor account is not set (SetDebtorAccount)");
  }
  return *std::move(account);
}

absl::StatusOr<PaymentBatch> Finance::CreateBatch(const Principal& caller,
                                                  const PaymentBatch& batch,
                                                  std::optional<absl::CivilDay> meetings_until,
                                                  absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, true));
  CPTS_RETURN_IF_ERROR(ValidateText(batch.label, "batch.label", 140, false));
  if (batch.execution_date == absl::CivilDay()) {
    return FieldError("batch.execution_date", "required");
  }
  Fingerprint f;
  f.Add(batch.label).Add(batch.execution_date).Add(meetings_until);
  const auto key = MakeKey("CreatePaymentBatch", request_id, f);
  PaymentBatch b;
  b.tenant_id = caller.tenant_id;
  b.id = d_.ids.NewId();
  b.label = batch.label;
  b.execution_date = batch.execution_date;
  b.state = BatchState::kDraft;
  b.create_time = d_.clock.Now();
  CPTS_ASSIGN_OR_RETURN(std::vector<Entitlement> payable,
                        d_.entitlements.ListPayable(caller.tenant_id, meetings_until));
  if (!payable.empty()) {
    std::vector<std::string> payees;
    payees.reserve(payable.size());
    for (const Entitlement& e : payable) payees.push_back(e.payee.member_id);
    payees.erase(std::unique(payees.begin(), payees.end()), payees.end());
    CPTS_ASSIGN_OR_RETURN(auto accounts, d_.payments.GetBankAccounts(caller.tenant_id, payees));
    CPTS_ASSIGN_OR_RETURN(b.lines, BuildBatchLines(b.id, payable, accounts));
  }
  // A batch whose every line is blocked could never be approved: it is not created.
  const bool all_blocked = !b.lines.empty() && PayableLineCount(b) == 0;
  std::string why_blocked;
  if (all_blocked) {
    constexpr size_t kReasonsShown = 5;
    for (size_t i = 0; i < b.lines.size() && i < kReasonsShown; ++i) {
      absl::StrAppend(&why_blocked, i == 0 ? "" : "; ", "payee ", b.lines[i].payee_member_id, ": ",
                      b.lines[i].blocked_reason);
    }
    if (b.lines.size() > kReasonsShown) absl::StrAppend(&why_blocked, "; ...");
    b.lines.clear();
  }
  // With nothing payable the store still checks the key (a retry replays the first batch)
  // before refusing an empty batch.
  absl::StatusOr<WriteResult<PaymentBatch>> r =
      d_.payments.CreateBatch(caller.tenant_id, b, KeyOrNull(key), caller.subject);
  if (all_blocked && absl::IsFailedPrecondition(r.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("no line of the approved entitlements can be paid: ", why_blocked));
  }
  if (!r.ok()) return r.status();
  return r->value;
}

absl::StatusOr<PaymentBatch> Finance::GetBatch(const Principal& caller, absl::string_view id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  return d_.payments.GetBatch(caller.tenant_id, id);
}

absl::StatusOr<BatchPage> Finance::ListBatches(const Principal& caller,
                                               std::optional<BatchState> state, const Page& page) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (page.page_size < 0) return FieldError("page_size", "must not be negative");
  BatchPage out;
  CPTS_ASSIGN_OR_RETURN(
      out.batches, d_.payments.ListBatches(caller.tenant_id, state, page, &out.next_page_token));
  return out;
}

absl::StatusOr<PaymentBatch> Finance::ApproveBatch(const Principal& caller, absl::string_view id,
                                                   absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  CPTS_ASSIGN_OR_RETURN(const int64_t expected, ParseEtag(etag, "etag"));
  CPTS_ASSIGN_OR_RETURN(PaymentBatch b, d_.payments.GetBatch(caller.tenant_id, id));
  if (expected != 0 && expected != b.row_version) {
    return absl::AbortedError("etag: the batch changed since it was read");
  }
  CPTS_ASSIGN_OR_RETURN(b.state, NextBatchState(b.state, BatchAction::kApprove));
  CPTS_RETURN_IF_ERROR(CheckApprovable(b));
  b.approved_by = caller.subject;
  b.approve_time = d_.clock.Now();
  return d_.payments.UpdateBatchState(caller.tenant_id, b, b.row_version, caller.subject);
}

absl::StatusOr<PaymentBatch> Finance::CancelBatch(const Principal& caller, absl::string_view id,
                                                  absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  CPTS_ASSIGN_OR_RETURN(const int64_t expected, ParseEtag(etag, "etag"));
  CPTS_ASSIGN_OR_RETURN(PaymentBatch b, d_.payments.GetBatch(caller.tenant_id, id));
  if (expected != 0 && expected != b.row_version) {
    return absl::AbortedError("etag: the batch changed since it was read");
  }
  CPTS_ASSIGN_OR_RETURN(b.state, NextBatchState(b.state, BatchAction::kCancel));
  return d_.payments.UpdateBatchState(caller.tenant_id, b, b.row_version, caller.subject);
}

absl::StatusOr<ExportedFile> Finance::ExportBatch(const Principal& caller, absl::string_view id,
                                                  ExportFormat format) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  if (format != ExportFormat::kSepaPain001 && format != ExportFormat::kCsv) {
    return FieldError("format", "must be EXPORT_FORMAT_SEPA_PAIN_001_001_03 or EXPORT_FORMAT_CSV");
  }
  CPTS_ASSIGN_OR_RETURN(PaymentBatch b, d_.payments.GetBatch(caller.tenant_id, id));
  CPTS_ASSIGN_OR_RETURN(const BatchState next, NextBatchState(b.state, BatchAction::kExport));
  const absl::Time now = d_.clock.Now();
  ExportedFile out;
  if (format == ExportFormat::kSepaPain001) {
    CPTS_ASSIGN_OR_RETURN(std::optional<DebtorAccount> own,
                          d_.payments.GetDebtorAccount(caller.tenant_id));
    if (!own.has_value()) {
      return absl::FailedPreconditionError(
          "debtor account: the CPTS's own bank account (holder_name, iban) is not set; set it "
          "with SetDebtorAccount before exporting a SEPA file");
    }
    const SepaParty debtor{.name = own->holder_name, .iban = own->iban, .bic = own->bic};
    CPTS_ASSIGN_OR_RETURN(out.content,
                          BuildPain001(PaymentFileForBatch(b, debtor, own->holder_name, now)));
    out.file_name = absl::StrCat("batch-", b.id, ".xml");
    out.content_type = "application/xml";
  } else {
    std::vector<std::string> ids;
    for (const BatchLine& l : b.lines) {
      for (const std::string& e : l.entitlement_ids) ids.push_back(e);
    }
    CPTS_ASSIGN_OR_RETURN(std::vector<Entitlement> entitlements,
                          d_.entitlements.GetEntitlements(caller.tenant_id, ids));
    CPTS_ASSIGN_OR_RETURN(out.content, BatchCsv(b, entitlements));
    out.file_name = absl::StrCat("batch-", b.id, ".csv");
    out.content_type = "text/csv";
  }
  b.state = next;
  b.export_time = now;
  CPTS_RETURN_IF_ERROR(
      d_.payments.UpdateBatchState(caller.tenant_id, b, b.row_version, caller.subject).status());
  return out;
}

absl::StatusOr<PaymentBatch> Finance::MarkBatchPaid(const Principal& caller, absl::string_view id,
                                                    absl::CivilDay paid_date,
                                                    absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, true));
  if (paid_date == absl::CivilDay()) return FieldError("paid_date", "required");
  CPTS_ASSIGN_OR_RETURN(PaymentBatch b, d_.payments.GetBatch(caller.tenant_id, id));
  Fingerprint f;
  f.Add(id).Add(paid_date);
  const auto key = MakeKey("MarkPaymentBatchPaid", request_id, f);
  LedgerTransaction payment;
  if (b.state == BatchState::kExported) {
    CPTS_ASSIGN_OR_RETURN(payment, PaymentTransaction(b, paid_date));
  } else if (b.state != BatchState::kPaid) {
    return NextBatchState(b.state, BatchAction::kMarkPaid).status();
  }
  // A paid batch goes to the store too: a retry with the same request_id replays there.
  CPTS_ASSIGN_OR_RETURN(WriteResult<PaymentBatch> r,
                        d_.payments.MarkBatchPaid(caller.tenant_id, b, paid_date, payment,
                                                  KeyOrNull(key), caller.subject));
  return r.value;
}

// =========================================================================================
// ACI
// =========================================================================================

absl::StatusOr<AciContract> Finance::CreateContract(const Principal& caller, AciContract contract,
                                                    absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, false));
  contract.tenant_id = caller.tenant_id;
  CPTS_RETURN_IF_ERROR(ValidateContract(contract));
  Fingerprint f;
  f.Add(contract.signature_date)
      .Add(contract.duration_years)
      .Add(contract.size)
      .Add(contract.reference);
  const auto key = MakeKey("CreateAciContract", request_id, f);
  CPTS_ASSIGN_OR_RETURN(WriteResult<AciContract> r,
                        d_.aci.CreateContract(caller.tenant_id, contract, KeyOrNull(key)));
  return r.value;
}

absl::StatusOr<AciContract> Finance::GetContract(const Principal& caller) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  return d_.aci.GetContract(caller.tenant_id);
}

absl::StatusOr<int> Finance::MissionAttainment(absl::string_view tenant_id, int year,
                                               absl::string_view mission_id) {
  if (mission_id.empty()) return 0;
  CPTS_ASSIGN_OR_RETURN(std::vector<IndicatorAttainment> all,
                        d_.aci.ListAttainments(tenant_id, year));
  std::vector<IndicatorAttainment> mine;
  for (IndicatorAttainment& a : all) {
    if (a.mission_id == mission_id) mine.push_back(std::move(a));
  }
  // Until the weights of a mission's indicators add up, nothing of its variable part is
  // earned.
  absl::StatusOr<int> bp = MissionAttainmentBasisPoints(mine);
  return bp.ok() ? *bp : 0;
}

absl::StatusOr<EnvelopeResult> Finance::SetEnvelope(const Principal& caller,
                                                    const AciEnvelope& envelope) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateEnvelope(envelope));
  CPTS_ASSIGN_OR_RETURN(AciContract contract, d_.aci.GetContract(caller.tenant_id));
  CPTS_ASSIGN_OR_RETURN(const int bp,
                        MissionAttainment(caller.tenant_id, envelope.year, envelope.mission_id));
  CPTS_ASSIGN_OR_RETURN(std::vector<AciInstalment> expected,
                        ExpectedInstalments(contract, envelope, bp));
  CPTS_RETURN_IF_ERROR(d_.aci.SetEnvelope(caller.tenant_id, envelope, expected));
  EnvelopeResult out{.envelope = envelope,
                     .variable_earned_cents = VariableEarned(envelope.variable_cents, bp)};
  CPTS_ASSIGN_OR_RETURN(std::vector<AciInstalment> all,
                        d_.aci.ListInstalments(caller.tenant_id, envelope.year));
  for (AciInstalment& i : all) {
    if (i.envelope_kind == envelope.kind && i.mission_id == envelope.mission_id) {
      out.instalments.push_back(std::move(i));
    }
  }
  return out;
}

absl::StatusOr<std::vector<EnvelopeResult>> Finance::ListEnvelopes(const Principal& caller,
                                                                   int year) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(std::vector<AciEnvelope> envelopes,
                        d_.aci.ListEnvelopes(caller.tenant_id, year));
  std::vector<EnvelopeResult> out;
  for (AciEnvelope& e : envelopes) {
    CPTS_ASSIGN_OR_RETURN(const int bp, MissionAttainment(caller.tenant_id, year, e.mission_id));
    const Cents earned = VariableEarned(e.variable_cents, bp);
    out.push_back(EnvelopeResult{.envelope = std::move(e), .variable_earned_cents = earned});
  }
  return out;
}

absl::StatusOr<IndicatorAttainment> Finance::SetAttainment(const Principal& caller,
                                                           const IndicatorAttainment& attainment) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateAttainment(attainment));
  CPTS_RETURN_IF_ERROR(d_.aci.SetAttainment(caller.tenant_id, attainment));
  // The mission's variable instalment follows its attainment.
  absl::StatusOr<AciContract> contract = d_.aci.GetContract(caller.tenant_id);
  if (contract.ok()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<AciEnvelope> envelopes,
                          d_.aci.ListEnvelopes(caller.tenant_id, attainment.year));
    for (const AciEnvelope& e : envelopes) {
      if (e.kind != EnvelopeKind::kMission || e.mission_id != attainment.mission_id) continue;
      CPTS_ASSIGN_OR_RETURN(const int bp,
                            MissionAttainment(caller.tenant_id, e.year, e.mission_id));
      CPTS_ASSIGN_OR_RETURN(std::vector<AciInstalment> expected,
                            ExpectedInstalments(*contract, e, bp));
      CPTS_RETURN_IF_ERROR(d_.aci.SetEnvelope(caller.tenant_id, e, expected));
    }
  }
  return attainment;
}

absl::StatusOr<std::vector<AciInstalment>> Finance::ListInstalments(const Principal& caller,
                                                                    int year) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  return d_.aci.ListInstalments(caller.tenant_id, year);
}

absl::StatusOr<AciInstalment> Finance::RecordInstalmentReceived(const Principal& caller,
                                                                absl::string_view id,
                                                                Cents received_cents,
                                                                absl::CivilDay received_date,
                                                                absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(id, "id"));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, true));
  CPTS_RETURN_IF_ERROR(ValidateAmount(received_cents, "received_cents", true));
  if (received_date == absl::CivilDay()) return FieldError("received_date", "required");
  Fingerprint f;
  f.Add(id).Add(received_cents).Add(received_date);
  const auto key = MakeKey("RecordAciInstalmentReceived", request_id, f);
  CPTS_ASSIGN_OR_RETURN(WriteResult<AciInstalment> r,
                        d_.aci.RecordInstalmentReceived(caller.tenant_id, id, received_cents,
                                                        received_date, KeyOrNull(key)));
  return r.value;
}

absl::StatusOr<std::vector<BudgetView>> Finance::BudgetViews(absl::string_view tenant_id,
                                                             int year) {
  CPTS_ASSIGN_OR_RETURN(std::vector<ActionBudget> budgets, d_.aci.ListBudgets(tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(std::vector<Expense> expenses, d_.aci.ListExpenses(tenant_id, year, ""));
  CPTS_ASSIGN_OR_RETURN(std::vector<PaidIndemnity> paid,
                        d_.aci.ListPaidIndemnities(tenant_id, year));
  std::map<std::string, Cents> spent;
  std::map<std::string, Cents> indemnities;
  for (const Expense& x : expenses) spent[x.action_id] += x.amount_cents;
  for (const PaidIndemnity& p : paid) {
    spent[p.action_id] += p.amount_cents;
    indemnities[p.action_id] += p.amount_cents;
  }
  std::vector<BudgetView> out;
  for (ActionBudget& b : budgets) {
    BudgetView v;
    v.spent_cents = spent[b.action_id];
    v.indemnities_cents = indemnities[b.action_id];
    v.remaining_cents = b.allocated_cents - b.committed_cents - v.spent_cents;
    v.budget = std::move(b);
    out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<BudgetView> Finance::UpdateBudget(const Principal& caller,
                                                 const ActionBudget& changes,
                                                 const BudgetMask& mask, absl::string_view etag) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateId(changes.action_id, "budget.action_id"));
  CPTS_RETURN_IF_ERROR(ValidateYear(changes.year, "budget.year"));
  CPTS_ASSIGN_OR_RETURN(const int64_t expected, ParseEtag(etag, "budget.etag"));
  CPTS_ASSIGN_OR_RETURN(std::vector<ActionBudget> budgets,
                        d_.aci.ListBudgets(caller.tenant_id, changes.year));
  ActionBudget b{.action_id = changes.action_id, .year = changes.year};
  int64_t row_version = 0;
  for (const ActionBudget& x : budgets) {
    if (x.action_id == changes.action_id) {
      b = x;
      row_version = x.row_version;
    }
  }
  if (expected != 0 && expected != row_version) {
    return absl::AbortedError("budget.etag: the budget changed since it was read");
  }
  if (mask.mission_id) b.mission_id = changes.mission_id;
  if (mask.allocated_cents) b.allocated_cents = changes.allocated_cents;
  if (mask.committed_cents) b.committed_cents = changes.committed_cents;
  CPTS_RETURN_IF_ERROR(ValidateAmount(b.allocated_cents, "budget.allocated_cents"));
  CPTS_RETURN_IF_ERROR(ValidateAmount(b.committed_cents, "budget.committed_cents"));
  if (!b.mission_id.empty()) CPTS_RETURN_IF_ERROR(ValidateId(b.mission_id, "budget.mission_id"));
  CPTS_RETURN_IF_ERROR(d_.aci.UpsertBudget(caller.tenant_id, b, row_version).status());
  CPTS_ASSIGN_OR_RETURN(std::vector<BudgetView> views, BudgetViews(caller.tenant_id, changes.year));
  for (BudgetView& v : views) {
    if (v.budget.action_id == changes.action_id) return std::move(v);
  }
  return absl::InternalError("budget vanished after its update");
}

absl::StatusOr<std::vector<BudgetView>> Finance::ListBudgets(const Principal& caller, int year,
                                                             absl::string_view mission_id,
                                                             const Page& page,
                                                             std::string* next_page_token) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(const int limit, PageLimit(page, 100, 1000));
  std::string after;
  if (!page.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(after, DecodePageToken(page.page_token));
  }
  CPTS_ASSIGN_OR_RETURN(std::vector<BudgetView> views, BudgetViews(caller.tenant_id, year));
  std::vector<BudgetView> out;
  next_page_token->clear();
  for (BudgetView& v : views) {  // by action id
    if (!mission_id.empty() && v.budget.mission_id != mission_id) continue;
    if (!after.empty() && v.budget.action_id <= after) continue;
    if (static_cast<int>(out.size()) == limit) {
      *next_page_token = EncodePageToken(out.back().budget.action_id);
      break;
    }
    out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<Expense> Finance::RecordExpense(const Principal& caller, Expense expense,
                                               absl::string_view request_id) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateRequestId(request_id, true));
  expense.tenant_id = caller.tenant_id;
  CPTS_RETURN_IF_ERROR(ValidateExpense(expense));
  Fingerprint f;
  f.Add(expense.action_id)
      .Add(EnumValue(expense.category))
      .Add(expense.amount_cents)
      .Add(expense.expense_date)
      .Add(expense.supplier)
      .Add(expense.reference);
  const auto key = MakeKey("RecordExpense", request_id, f);
  CPTS_ASSIGN_OR_RETURN(WriteResult<Expense> r,
                        d_.aci.RecordExpense(caller.tenant_id, expense, KeyOrNull(key)));
  return r.value;
}

absl::StatusOr<std::vector<Expense>> Finance::ListExpenses(const Principal& caller, int year,
                                                           absl::string_view action_id,
                                                           const Page& page,
                                                           std::string* next_page_token) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  if (year != 0) CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(const int limit, PageLimit(page, 100, 1000));
  std::string after;
  if (!page.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(after, DecodePageToken(page.page_token));
  }
  CPTS_ASSIGN_OR_RETURN(std::vector<Expense> all,
                        d_.aci.ListExpenses(caller.tenant_id, year, action_id));
  std::vector<Expense> out;
  next_page_token->clear();
  for (Expense& x : all) {  // by (date, id): the key "<date>/<id>" sorts the same way
    const std::string k = absl::StrCat(absl::FormatCivilTime(x.expense_date), "/", x.id);
    if (!after.empty() && k <= after) continue;
    if (static_cast<int>(out.size()) == limit) {
      const Expense& last = out.back();
      *next_page_token =
          EncodePageToken(absl::StrCat(absl::FormatCivilTime(last.expense_date), "/", last.id));
      break;
    }
    out.push_back(std::move(x));
  }
  return out;
}

absl::StatusOr<AciReport> Finance::GetAciReport(const Principal& caller, int year) {
  CPTS_RETURN_IF_ERROR(RequireTenant(caller));
  CPTS_RETURN_IF_ERROR(ValidateYear(year, "year"));
  CPTS_ASSIGN_OR_RETURN(AciContract contract, d_.aci.GetContract(caller.tenant_id));
  if (absl::Status in = AnniversaryIn(contract, year).status(); !in.ok()) {
    return FieldError("year", in.message());
  }
  AciReportInput input;
  input.year = year;
  CPTS_ASSIGN_OR_RETURN(input.envelopes, d_.aci.ListEnvelopes(caller.tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(input.instalments, d_.aci.ListInstalments(caller.tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(input.attainments, d_.aci.ListAttainments(caller.tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(input.budgets, d_.aci.ListBudgets(caller.tenant_id, year));
  CPTS_ASSIGN_OR_RETURN(input.expenses, d_.aci.ListExpenses(caller.tenant_id, year, ""));
  CPTS_ASSIGN_OR_RETURN(input.indemnities, d_.aci.ListPaidIndemnities(caller.tenant_id, year));
  // An action without a budget is funded by the functioning envelope.
  std::set<std::string> budgeted;
  for (const ActionBudget& b : input.budgets) budgeted.insert(b.action_id);
  for (const Expense& x : input.expenses) {
    if (!budgeted.contains(x.action_id)) input.action_missions[x.action_id] = "";
  }
  for (const PaidIndemnity& p : input.indemnities) {
    if (!budgeted.contains(p.action_id)) input.action_missions[p.action_id] = "";
  }
  return BuildAciReport(input);
}

absl::StatusOr<ExportedFile> Finance::ExportAciReport(const Principal& caller, int year,
                                                      ExportFormat format) {
  if (format != ExportFormat::kJson && format != ExportFormat::kCsv) {
    return FieldError("format", "must be EXPORT_FORMAT_JSON or EXPORT_FORMAT_CSV");
  }
  CPTS_ASSIGN_OR_RETURN(AciReport report, GetAciReport(caller, year));
  ExportedFile out;
  if (format == ExportFormat::kJson) {
    out.content = AciReportJson(report);
    out.file_name = absl::StrCat("aci-report-", year, ".json");
    out.content_type = "application/json";
  } else {
    out.content = AciReportCsv(report);
    out.file_name = absl::StrCat("aci-report-", year, ".csv");
    out.content_type = "text/csv";
  }
  return out;
}

}  // namespace cpts::finance
