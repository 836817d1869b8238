#include "services/membership/fake_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/membership/validators.h"

namespace cpts::membership {
namespace {

using Lock = std::lock_guard<std::mutex>;

absl::Status NotFound(absl::string_view what, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
}

absl::Status KeyMismatch() {
  return absl::InvalidArgumentError("request_id: already used for a different request");
}

MemberStatus ReportedStatus(const Member& m, int current_year) {
  if (m.status != MemberStatus::kActive) return m.status;
  const bool has =
      std::binary_search(m.membership_years.begin(), m.membership_years.end(), current_year);
  return has ? MemberStatus::kActive : MemberStatus::kLapsed;
}

bool Matches(const Member& m, const MemberFilter& f) {
  if (f.status.has_value() && ReportedStatus(m, f.current_year) != *f.status) return false;
  if (!f.profession_code.empty() && m.profession_code != f.profession_code) return false;
  if (!f.college_id.empty() && m.college_id != f.college_id) return false;
  if (!f.commune_insee.empty() &&
      std::none_of(m.practice_places.begin(), m.practice_places.end(),
                   [&](const PracticePlace& p) { return p.commune_insee == f.commune_insee; })) {
    return false;
  }
  if (!f.name_prefix.empty() && !absl::StartsWith(m.sort_name, f.name_prefix)) return false;
  return true;
}

}  // namespace

void FakeMembershipStore::FailNextCall(absl::Status status) {
  Lock lock(mu_);
  injected_failure_ = std::move(status);
}

std::vector<AuditEntry> FakeMembershipStore::AllAuditEntries() const {
  Lock lock(mu_);
  return audit_;
}

absl::Status FakeMembershipStore::TakeInjectedFailure() {
  return std::exchange(injected_failure_, absl::OkStatus());
}

absl::StatusOr<std::optional<std::string>> FakeMembershipStore::LookUpKey(
    absl::string_view tenant_id, const IdempotencyKey* key) const {
  if (key == nullptr) return std::optional<std::string>();
  const auto it = keys_.find(IdemKey(tenant_id, key->scope, key->request_id));
  if (it == keys_.end()) return std::optional<std::string>();
  if (it->second.first != key->fingerprint) return KeyMismatch();
  return std::optional<std::string>(it->second.second);
}

void FakeMembershipStore::RememberKey(absl::string_view tenant_id, const IdempotencyKey* key,
                                      const std::string& id) {
  if (key == nullptr) return;
  keys_[IdemKey(tenant_id, key->scope, key->request_id)] = {key->fingerprint, id};
}

void FakeMembershipStore::AppendAudit(absl::string_view tenant_id, absl::string_view member_id,
                                      AuditEntry audit) {
  audit.tenant_id = std::string(tenant_id);
  audit.member_id = std::string(member_id);
  audit.sequence = next_sequence_++;
  audit_.push_back(std::move(audit));
}

Member FakeMembershipStore::WithPayments(const Member& member) const {
  Member out = member;
  out.paid_cents_by_year.clear();
  for (const auto& [key, c] : cotisations_) {
    if (key.first == member.tenant_id && c.member_id == member.id) {
      out.paid_cents_by_year[c.year] += c.amount_cents;
    }
  }
  return out;
}

const Member* FakeMembershipStore::FindMember(absl::string_view tenant_id,
                                              absl::string_view member_id) const {
  const auto it = members_.find(Key(tenant_id, member_id));
  return it == members_.end() ? nullptr : &it->second;
}

bool FakeMembershipStore::RppsTaken(absl::string_view tenant_id, absl::string_view rpps,
                                    absl::string_view except_member_id) const {
  if (rpps.empty()) return false;
  return std::any_of(members_.begin(), members_.end(), [&](const auto& entry) {
    return entry.first.first == tenant_id && entry.second.rpps == rpps &&
           entry.second.id != except_member_id;
  });
}

// --- TenantRepository -----------------------------------------------------------------

absl::StatusOr<CreateResult<Tenant>> FakeMembershipStore::CreateTenant(
    const Tenant& tenant, const std::vector<Profession>& seed, const IdempotencyKey* key) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  auto replay = LookUpKey("", key);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) return CreateResult<Tenant>{tenants_.at(**replay), true};
  if (tenants_.count(tenant.id) > 0) return absl::AlreadyExistsError("tenant id exists");
  Tenant stored = tenant;
  stored.version = 1;
  tenants_[stored.id] = stored;
  for (const Profession& p : seed) professions_[Key(stored.id, p.code)] = p;
  RememberKey("", key, stored.id);
  return CreateResult<Tenant>{stored, false};
}

absl::StatusOr<Tenant> FakeMembershipStore::GetTenant(absl::string_view tenant_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = tenants_.find(std::string(tenant_id));
  if (it == tenants_.end()) return NotFound("tenant", tenant_id);
  return it->second;
}

absl::StatusOr<std::vector<Tenant>> FakeMembershipStore::ListTenants(
    const std::optional<std::string>& after_id, int limit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<Tenant> out;
  auto it = after_id.has_value() ? tenants_.upper_bound(*after_id) : tenants_.begin();
  for (; it != tenants_.end() && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<Tenant> FakeMembershipStore::UpdateTenant(
    absl::string_view tenant_id, absl::FunctionRef<absl::Status(Tenant&)> mutate) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = tenants_.find(std::string(tenant_id));
  if (it == tenants_.end()) return NotFound("tenant", tenant_id);
  Tenant copy = it->second;
  if (absl::Status s = mutate(copy); !s.ok()) return s;
  copy.id = it->second.id;
  copy.version = it->second.version + 1;
  it->second = copy;
  return copy;
}

// --- ReferenceRepository --------------------------------------------------------------

absl::StatusOr<std::vector<Profession>> FakeMembershipStore::ListProfessions(
    absl::string_view tenant_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<Profession> out;
  for (const auto& [key, p] : professions_) {
    if (key.first == tenant_id) out.push_back(p);  // map order = code order within a tenant
  }
  return out;
}

absl::StatusOr<Profession> FakeMembershipStore::GetProfession(absl::string_view tenant_id,
                                                              absl::string_view code) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = professions_.find(Key(tenant_id, code));
  if (it == professions_.end()) return NotFound("profession", code);
  return it->second;
}

absl::Status FakeMembershipStore::CreateProfession(absl::string_view tenant_id,
                                                   const Profession& profession) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const Key key(tenant_id, profession.code);
  if (professions_.count(key) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("profession.code: ", profession.code, " already exists"));
  }
  professions_[key] = profession;
  return absl::OkStatus();
}

absl::StatusOr<CreateResult<College>> FakeMembershipStore::CreateCollege(
    absl::string_view tenant_id, const College& college, const IdempotencyKey* key) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  auto replay = LookUpKey(tenant_id, key);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) {
    return CreateResult<College>{colleges_.at(Key(tenant_id, **replay)), true};
  }
  const std::string folded = FoldForSearch(college.name);
  for (const auto& [k, c] : colleges_) {
    if (k.first == tenant_id && (c.id == college.id || FoldForSearch(c.name) == folded)) {
      return absl::AlreadyExistsError("college.name: a collège with this name already exists");
    }
  }
  colleges_[Key(tenant_id, college.id)] = college;
  RememberKey(tenant_id, key, college.id);
  return CreateResult<College>{college, false};
}

absl::StatusOr<std::vector<College>> FakeMembershipStore::ListColleges(
    absl::string_view tenant_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<College> out;
  for (const auto& [key, c] : colleges_) {
    if (key.first == tenant_id) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const College& a, const College& b) {
    return std::tie(a.name, a.id) < std::tie(b.name, b.id);
  });
  return out;
}

absl::StatusOr<College> FakeMembershipStore::GetCollege(absl::string_view tenant_id,
                                                        absl::string_view college_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = colleges_.find(Key(tenant_id, college_id));
  if (it == colleges_.end()) return NotFound("collège", college_id);
  return it->second;
}

// --- MemberRepository -----------------------------------------------------------------

absl::StatusOr<CreateResult<Member>> FakeMembershipStore::CreateMember(const Member& member,
                                                                       const IdempotencyKey* key,
                                                                       AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  auto replay = LookUpKey(member.tenant_id, key);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) {
    return CreateResult<Member>{WithPayments(members_.at(Key(member.tenant_id, **replay))), true};
  }
  if (FindMember(member.tenant_id, member.id) != nullptr) {
    return absl::AlreadyExistsError("member id exists");
  }
  if (RppsTaken(member.tenant_id, member.rpps, "")) {
    return absl::AlreadyExistsError("duplicate rpps");
  }
  Member stored = member;
  stored.version = 1;
  stored.paid_cents_by_year.clear();
  members_[Key(stored.tenant_id, stored.id)] = stored;
  RememberKey(member.tenant_id, key, stored.id);
  AppendAudit(stored.tenant_id, stored.id, std::move(audit));
  return CreateResult<Member>{stored, false};
}

absl::StatusOr<Member> FakeMembershipStore::GetMember(absl::string_view tenant_id,
                                                      absl::string_view member_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const Member* m = FindMember(tenant_id, member_id);
  if (m == nullptr) return NotFound("member", member_id);
  return WithPayments(*m);
}

absl::StatusOr<std::vector<Member>> FakeMembershipStore::BatchGetMembers(
    absl::string_view tenant_id, const std::vector<std::string>& member_ids) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<Member> out;
  std::vector<std::string> seen;
  for (const std::string& id : member_ids) {
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    seen.push_back(id);
    if (const Member* m = FindMember(tenant_id, id); m != nullptr) out.push_back(WithPayments(*m));
  }
  std::reverse(out.begin(), out.end());  // "no particular order": make callers not rely on it
  return out;
}

absl::StatusOr<std::vector<Member>> FakeMembershipStore::ListMembers(
    absl::string_view tenant_id, const MemberFilter& filter,
    const std::optional<MemberCursor>& after, int limit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<const Member*> matching;
  for (const auto& [key, m] : members_) {
    if (key.first != tenant_id || !Matches(m, filter)) continue;
    if (after.has_value() && std::tie(m.sort_name, m.id) <= std::tie(after->sort_name, after->id)) {
      continue;
    }
    matching.push_back(&m);
  }
  std::sort(matching.begin(), matching.end(), [](const Member* a, const Member* b) {
    return std::tie(a->sort_name, a->id) < std::tie(b->sort_name, b->id);
  });
  std::vector<Member> out;
  for (const Member* m : matching) {
    if (static_cast<int>(out.size()) >= limit) break;
    out.push_back(WithPayments(*m));
  }
  return out;
}

absl::StatusOr<Member> FakeMembershipStore::UpdateMember(
    absl::string_view tenant_id, absl::string_view member_id,
    absl::FunctionRef<absl::Status(Member&, AuditEntry&)> mutate, AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = members_.find(Key(tenant_id, member_id));
  if (it == members_.end()) return NotFound("member", member_id);
  Member copy = WithPayments(it->second);
  if (absl::Status s = mutate(copy, audit); !s.ok()) return s;
  if (RppsTaken(tenant_id, copy.rpps, member_id)) {
    return absl::AlreadyExistsError("duplicate rpps");
  }
  // Identity is not the callback's to change.
  copy.id = it->second.id;
  copy.tenant_id = it->second.tenant_id;
  copy.version = it->second.version + 1;
  it->second = copy;
  it->second.paid_cents_by_year.clear();
  AppendAudit(tenant_id, member_id, std::move(audit));
  return copy;
}

absl::StatusOr<std::vector<AuditEntry>> FakeMembershipStore::ListHistory(
    absl::string_view tenant_id, absl::string_view member_id, std::optional<int64_t> after_sequence,
    int limit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<AuditEntry> out;
  for (const AuditEntry& e : audit_) {
    if (static_cast<int>(out.size()) >= limit) break;
    if (e.tenant_id != tenant_id || e.member_id != member_id) continue;
    if (after_sequence.has_value() && e.sequence <= *after_sequence) continue;
    out.push_back(e);
  }
  return out;
}

// --- CotisationRepository -------------------------------------------------------------

absl::StatusOr<CreateResult<Cotisation>> FakeMembershipStore::RecordCotisation(
    absl::string_view tenant_id, const Cotisation& cotisation, const IdempotencyKey* key,
    absl::FunctionRef<absl::Status(const Member&)> check, AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  auto replay = LookUpKey(tenant_id, key);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) {
    return CreateResult<Cotisation>{cotisations_.at(Key(tenant_id, **replay)), true};
  }
  const Member* member = FindMember(tenant_id, cotisation.member_id);
  if (member == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cotisation.member_id: member ", cotisation.member_id, " not found"));
  }
  if (absl::Status s = check(WithPayments(*member)); !s.ok()) return s;
  if (cotisations_.count(Key(tenant_id, cotisation.id)) > 0) {
    return absl::AlreadyExistsError("cotisation id exists");
  }
  cotisations_[Key(tenant_id, cotisation.id)] = cotisation;
  RememberKey(tenant_id, key, cotisation.id);
  AppendAudit(tenant_id, cotisation.member_id, std::move(audit));
  return CreateResult<Cotisation>{cotisation, false};
}

absl::StatusOr<std::vector<Cotisation>> FakeMembershipStore::ListCotisations(
    absl::string_view tenant_id, absl::string_view member_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<Cotisation> out;
  for (const auto& [key, c] : cotisations_) {
    if (key.first == tenant_id && c.member_id == member_id) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const Cotisation& a, const Cotisation& b) {
    return std::tie(a.year, a.paid_on, a.id) < std::tie(b.year, b.paid_on, b.id);
  });
  return out;
}

// --- ConventionRepository -------------------------------------------------------------

absl::StatusOr<CreateResult<EmployerConvention>> FakeMembershipStore::CreateConvention(
    absl::string_view tenant_id, const EmployerConvention& convention, const IdempotencyKey* key,
    absl::FunctionRef<absl::Status(const Member&, const Member&,
                                   const std::vector<EmployerConvention>&)>
        check,
    AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  auto replay = LookUpKey(tenant_id, key);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) {
    return CreateResult<EmployerConvention>{conventions_.at(Key(tenant_id, **replay)), true};
  }
  const Member* member = FindMember(tenant_id, convention.member_id);
  if (member == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("convention.member_id: member ", convention.member_id, " not found"));
  }
  const Member* employer = FindMember(tenant_id, convention.employer_member_id);
  if (employer == nullptr) {
    return absl::NotFoundError(absl::StrCat("convention.employer_member_id: member ",
                                            convention.employer_member_id, " not found"));
  }
  std::vector<EmployerConvention> existing;
  for (const auto& [k, c] : conventions_) {
    if (k.first == tenant_id && c.member_id == convention.member_id) existing.push_back(c);
  }
  if (absl::Status s = check(WithPayments(*member), WithPayments(*employer), existing); !s.ok()) {
    return s;
  }
  if (conventions_.count(Key(tenant_id, convention.id)) > 0) {
    return absl::AlreadyExistsError("convention id exists");
  }
  EmployerConvention stored = convention;
  stored.version = 1;
  conventions_[Key(tenant_id, stored.id)] = stored;
  RememberKey(tenant_id, key, stored.id);
  AppendAudit(tenant_id, stored.member_id, std::move(audit));
  return CreateResult<EmployerConvention>{stored, false};
}

absl::StatusOr<EmployerConvention> FakeMembershipStore::GetConvention(
    absl::string_view tenant_id, absl::string_view convention_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = conventions_.find(Key(tenant_id, convention_id));
  if (it == conventions_.end()) return NotFound("convention", convention_id);
  return it->second;
}

absl::StatusOr<std::vector<EmployerConvention>> FakeMembershipStore::ListConventions(
    absl::string_view tenant_id, absl::string_view member_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<EmployerConvention> out;
  for (const auto& [key, c] : conventions_) {
    if (key.first == tenant_id && c.member_id == member_id) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const EmployerConvention& a, const EmployerConvention& b) {
    return std::tie(a.valid_from, a.id) < std::tie(b.valid_from, b.id);
  });
  return out;
}

absl::StatusOr<EmployerConvention> FakeMembershipStore::UpdateConvention(
    absl::string_view tenant_id, absl::string_view convention_id,
    absl::FunctionRef<absl::Status(EmployerConvention&, AuditEntry&)> mutate, AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = conventions_.find(Key(tenant_id, convention_id));
  if (it == conventions_.end()) return NotFound("convention", convention_id);
  EmployerConvention copy = it->second;
  if (absl::Status s = mutate(copy, audit); !s.ok()) return s;
  copy.id = it->second.id;
  copy.member_id = it->second.member_id;
  copy.version = it->second.version + 1;
  it->second = copy;
  AppendAudit(tenant_id, copy.member_id, std::move(audit));
  return copy;
}

// --- MandateRepository ----------------------------------------------------------------

absl::StatusOr<CreateResult<Mandate>> FakeMembershipStore::CreateMandate(
    absl::string_view tenant_id, const Mandate& mandate, const IdempotencyKey* key,
    absl::FunctionRef<absl::Status(const Member&, const std::vector<Mandate>&)> check,
    AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  auto replay = LookUpKey(tenant_id, key);
  if (!replay.ok()) return replay.status();
  if (replay->has_value()) {
    return CreateResult<Mandate>{mandates_.at(Key(tenant_id, **replay)), true};
  }
  const Member* holder = FindMember(tenant_id, mandate.member_id);
  if (holder == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("mandate.member_id: member ", mandate.member_id, " not found"));
  }
  std::vector<Mandate> same_role;
  for (const auto& [k, m] : mandates_) {
    if (k.first == tenant_id && m.body == mandate.body && m.role == mandate.role) {
      same_role.push_back(m);
    }
  }
  if (absl::Status s = check(WithPayments(*holder), same_role); !s.ok()) return s;
  if (mandates_.count(Key(tenant_id, mandate.id)) > 0) {
    return absl::AlreadyExistsError("mandate id exists");
  }
  Mandate stored = mandate;
  stored.version = 1;
  mandates_[Key(tenant_id, stored.id)] = stored;
  RememberKey(tenant_id, key, stored.id);
  AppendAudit(tenant_id, stored.member_id, std::move(audit));
  return CreateResult<Mandate>{stored, false};
}

absl::StatusOr<Mandate> FakeMembershipStore::GetMandate(absl::string_view tenant_id,
                                                        absl::string_view mandate_id) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = mandates_.find(Key(tenant_id, mandate_id));
  if (it == mandates_.end()) return NotFound("mandate", mandate_id);
  return it->second;
}

absl::StatusOr<std::vector<Mandate>> FakeMembershipStore::ListMandates(
    absl::string_view tenant_id, const MandateFilter& filter) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  std::vector<Mandate> out;
  for (const auto& [key, m] : mandates_) {
    if (key.first != tenant_id) continue;
    if (filter.body != MandateBody::kUnspecified && m.body != filter.body) continue;
    if (!filter.member_id.empty() && m.member_id != filter.member_id) continue;
    if (filter.in_force_on.has_value() && !m.InForceOn(*filter.in_force_on)) continue;
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const Mandate& a, const Mandate& b) {
    return std::tie(a.body, a.role, a.start_date, a.id) <
           std::tie(b.body, b.role, b.start_date, b.id);
  });
  return out;
}

absl::StatusOr<Mandate> FakeMembershipStore::UpdateMandate(
    absl::string_view tenant_id, absl::string_view mandate_id,
    absl::FunctionRef<absl::Status(Mandate&, AuditEntry&)> mutate, AuditEntry audit) {
  Lock lock(mu_);
  if (absl::Status s = TakeInjectedFailure(); !s.ok()) return s;
  const auto it = mandates_.find(Key(tenant_id, mandate_id));
  if (it == mandates_.end()) return NotFound("mandate", mandate_id);
  Mandate copy = it->second;
  if (absl::Status s = mutate(copy, audit); !s.ok()) return s;
  copy.id = it->second.id;
  copy.member_id = it->second.member_id;
  copy.version = it->second.version + 1;
  it->second = copy;
  AppendAudit(tenant_id, copy.member_id, std::move(audit));
  return copy;
}

}  // namespace cpts::membership
