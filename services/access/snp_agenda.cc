#include "services/access/snp_agenda.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/access/mt_validators.h"
#include "services/access/patient_audit.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;

// The text whose keyed hash identifies a PublishSlots request (no patient data, but the key
// keeps the format private anyway).
std::string PublishFingerprintText(const std::vector<Slot>& drafts) {
  std::string out = "publish/v1";
  for (const Slot& s : drafts) {
    absl::StrAppend(&out, "|", s.professional_member_id, ",", absl::ToUnixMicros(s.start), ",",
                    absl::ToInt64Minutes(s.duration), ",", ConsultationModeName(s.mode), ",",
                    s.place.commune_insee, ",", s.place.address, ",", VisibilityName(s.visibility),
                    ",", SlotKindName(s.kind));
  }
  return out;
}

std::string BookFingerprintText(const BookingDraft& d) {
  return absl::StrCat("book/v1|", d.slot_id, "|", d.patient.given_name, "|", d.patient.family_name,
                      "|", absl::FormatCivilTime(d.patient.birth_date), "|",
                      static_cast<int>(d.patient.sex), "|", d.contact.phone, "|", d.contact.email,
                      "|", d.reason);
}

bool IsDenial(const absl::Status& s) { return absl::IsPermissionDenied(s); }

constexpr int kPurgeBatch = 500;

}  // namespace

SnpAgenda::SnpAgenda(SnpStore& store, const AccessDeps& deps, SnpAgendaOptions options)
    : store_(store), deps_(deps), options_(options) {}

absl::Status SnpAgenda::Denied(const platform::auth::Principal& caller, absl::string_view action,
                               absl::string_view resource_id, absl::Time now,
                               const absl::Status& status) {
  return AuditPatientDenied(
      deps_.pool, caller,
      {.action = action, .resource_type = "booking", .resource_id = resource_id, .reason = {}}, now,
      status);
}

// ---------------------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------------------

absl::StatusOr<std::vector<Slot>> SnpAgenda::PublishSlots(const platform::auth::Principal& caller,
                                                          std::vector<Slot> drafts,
                                                          absl::string_view request_id) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  CPTS_RETURN_IF_ERROR(ValidateOptionalRequestId(request_id, "request_id"));
  if (drafts.empty()) return absl::InvalidArgumentError("slots: at least one slot is required");
  if (drafts.size() > options_.publish.max_slots_per_request) {
    return absl::InvalidArgumentError(
        absl::StrCat("slots: at most ", options_.publish.max_slots_per_request, " slots"));
  }
  const absl::Time now = deps_.clock.Now();
  std::map<std::string, SnpProfessional> professionals;
  for (size_t i = 0; i < drafts.size(); ++i) {
    Slot& d = drafts[i];
    const std::string field = absl::StrCat("slots[", i, "]");
    CPTS_ASSIGN_OR_RETURN(d.professional_member_id,
                          ResolveProfessional(caller, d.professional_member_id,
                                              absl::StrCat(field, ".professional_member_id")));
    CPTS_RETURN_IF_ERROR(NormalizeSlotDraft(d, now, field, options_.publish));
    auto it = professionals.find(d.professional_member_id);
    if (it == professionals.end()) {
      absl::StatusOr<membership::MemberProfile> facts =
          deps_.directory.GetMemberProfile(caller.tenant_id, d.professional_member_id);
      if (absl::IsNotFound(facts.status())) {
        return absl::FailedPreconditionError(
            absl::StrCat(field, ".professional_member_id: ", d.professional_member_id,
                         " is not a member of the CPTS"));
      }
      if (!facts.ok()) return facts.status();
      if (!membership::client::IsActive(*facts)) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ".professional_member_id: member ", d.professional_member_id, " is not active"));
      }
      SnpProfessional p;
      p.member_id = d.professional_member_id;
      p.profession_code = facts->profession_code;
      p.rpps = facts->rpps;
      p.given_name = facts->given_name;
      p.family_name = facts->family_name;
      it = professionals.emplace(p.member_id, std::move(p)).first;
    }
    d.profession_code = it->second.profession_code;
  }
  std::vector<SnpProfessional> pros;
  pros.reserve(professionals.size());
  for (auto& [id, p] : professionals) pros.push_back(p);

  PublishKey key;
  if (!request_id.empty()) {
    key.subject = caller.subject;
    key.request_id = std::string(request_id);
    key.fingerprint = deps_.cipher.KeyedHash(PublishFingerprintText(drafts));
  }
  const PublishContext context{
      .tenant_id = caller.tenant_id, .subject = caller.subject, .now = now};
  return store_.PublishSlots(caller.tenant_id, pros, OverlapWindows(drafts), key, now,
                             [&](const std::vector<Slot>& existing) {
                               return PreparePublish(drafts, existing, context, deps_.ids,
                                                     options_.publish);
                             });
}

absl::StatusOr<Slot> SnpAgenda::GetSlot(const platform::auth::Principal& caller,
                                        absl::string_view slot_id) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  CPTS_RETURN_IF_ERROR(ValidateId(slot_id, "slot_id"));
  CPTS_ASSIGN_OR_RETURN(Slot slot, store_.GetSlot(caller.tenant_id, slot_id));
  const bool own = !caller.member_id.empty() && caller.member_id == slot.professional_member_id;
  if (!own && !CanSee(caller, slot.visibility)) {
    return absl::NotFoundError(absl::StrCat("slot ", slot_id, " not found"));
  }
  return slot;
}

absl::StatusOr<Slot> SnpAgenda::WithdrawSlot(const platform::auth::Principal& caller,
                                             absl::string_view slot_id, absl::string_view reason) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  CPTS_RETURN_IF_ERROR(ValidateId(slot_id, "slot_id"));
  const absl::Time now = deps_.clock.Now();
  return store_.UpdateSlot(caller.tenant_id, slot_id, [&](Slot& slot) -> absl::Status {
    CPTS_RETURN_IF_ERROR(CheckCanWithdraw(caller, slot));
    return ApplyWithdraw(slot, reason, now);
  });
}

absl::StatusOr<SlotSearchPage> SnpAgenda::SearchSlots(const platform::auth::Principal& caller,
                                                      const SlotSearchQuery& query) {
  CPTS_ASSIGN_OR_RETURN(SlotSearchPlan plan, PlanSlotSearch(caller, query));
  CPTS_ASSIGN_OR_RETURN(std::vector<Slot> rows, store_.SearchSlots(plan));
  return FinishSlotSearch(plan, std::move(rows));
}

// ---------------------------------------------------------------------------------------
// Bookings
// ---------------------------------------------------------------------------------------

absl::StatusOr<BookingAndSlot> SnpAgenda::BookSlot(const platform::auth::Principal& caller,
                                                   BookingDraft draft) {
  const absl::Time now = deps_.clock.Now();
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  if (absl::Status can = CheckCanBook(caller); !can.ok()) {
    return Denied(caller, audit_actions::kBookingCreate, draft.slot_id, now, can);
  }
  CPTS_RETURN_IF_ERROR(NormalizeBookingDraft(draft, absl::ToCivilDay(now, deps_.zone)));
  std::string profession;
  if (!caller.member_id.empty()) {
    absl::StatusOr<membership::MemberProfile> facts =
        deps_.directory.GetMemberProfile(caller.tenant_id, caller.member_id);
    if (facts.ok()) {
      profession = facts->profession_code;
    } else if (!absl::IsNotFound(facts.status())) {
      return facts.status();
    }
  }
  const Booker booker = BookerFor(caller, profession);
  BookKey key;
  key.booked_by = caller.subject;
  if (!draft.request_id.empty()) {
    key.request_id = draft.request_id;
    key.fingerprint = deps_.cipher.KeyedHash(BookFingerprintText(draft));
  }
  const SnpAudit audit{.caller = caller, .now = now, .reason = "BookSlot"};
  auto attempt = [&]() {
    return store_.BookSlot(caller.tenant_id, draft.slot_id, key, audit,
                           [&](Slot& slot) -> absl::StatusOr<Booking> {
                             return access::BookSlot(caller, booker, draft, slot, now, deps_.ids);
                           });
  };
  absl::StatusOr<BookingAndSlot> result = attempt();
  // A concurrent retry of the same request may have won: run once more, which finds it.
  if (!key.request_id.empty() &&
      (absl::IsFailedPrecondition(result.status()) || absl::IsAlreadyExists(result.status()))) {
    absl::StatusOr<BookingAndSlot> again = attempt();
    if (again.ok()) return again;
  }
  if (IsDenial(result.status())) {
    return Denied(caller, audit_actions::kBookingCreate, draft.slot_id, now, result.status());
  }
  return result;
}

absl::StatusOr<Booking> SnpAgenda::GetBooking(const platform::auth::Principal& caller,
                                              absl::string_view booking_id) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  CPTS_RETURN_IF_ERROR(ValidateId(booking_id, "booking_id"));
  const absl::Time now = deps_.clock.Now();
  const SnpAudit audit{.caller = caller, .now = now, .reason = "GetBooking"};
  absl::StatusOr<BookingAndSlot> r =
      store_.GetBooking(caller.tenant_id, booking_id, audit, [&](const Booking& b, const Slot& s) {
        return CheckBookingAccess(caller, b, s, BookingAccess::kRead);
      });
  if (IsDenial(r.status())) {
    return Denied(caller, audit_actions::kBookingRead, booking_id, now, r.status());
  }
  if (!r.ok()) return r.status();
  return std::move(r->booking);
}

absl::StatusOr<BookingAndSlot> SnpAgenda::CancelBooking(const platform::auth::Principal& caller,
                                                        absl::string_view booking_id,
                                                        absl::string_view reason) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  CPTS_RETURN_IF_ERROR(ValidateId(booking_id, "booking_id"));
  const absl::Time now = deps_.clock.Now();
  const SnpAudit audit{.caller = caller, .now = now, .reason = "CancelBooking"};
  absl::StatusOr<BookingAndSlot> r = store_.UpdateBooking(
      caller.tenant_id, booking_id, audit,
      [&](Booking& b, Slot& s) { return access::CancelBooking(caller, reason, now, b, s); });
  if (IsDenial(r.status())) {
    return Denied(caller, audit_actions::kBookingUpdate, booking_id, now, r.status());
  }
  return r;
}

absl::StatusOr<Booking> SnpAgenda::RecordOutcome(const platform::auth::Principal& caller,
                                                 absl::string_view booking_id,
                                                 BookingOutcome outcome) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  CPTS_RETURN_IF_ERROR(ValidateId(booking_id, "booking_id"));
  const absl::Time now = deps_.clock.Now();
  const SnpAudit audit{.caller = caller, .now = now, .reason = "RecordOutcome"};
  absl::StatusOr<BookingAndSlot> r = store_.UpdateBooking(
      caller.tenant_id, booking_id, audit,
      [&](Booking& b, Slot& s) { return access::RecordOutcome(caller, outcome, now, b, s); });
  if (IsDenial(r.status())) {
    return Denied(caller, audit_actions::kBookingUpdate, booking_id, now, r.status());
  }
  if (!r.ok()) return r.status();
  return std::move(r->booking);
}

// ---------------------------------------------------------------------------------------
// Indicators and FHIR
// ---------------------------------------------------------------------------------------

absl::StatusOr<SnpIndicators> SnpAgenda::GetIndicators(const platform::auth::Principal& caller,
                                                       absl::CivilDay first, absl::CivilDay last) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  if (!caller.HasAnyRole({roles::kCoordinator, roles::kBureauMember, roles::kReporting})) {
    return absl::PermissionDeniedError("coordinator, bureau_member or reporting only");
  }
  CPTS_RETURN_IF_ERROR(ValidatePeriod(first, last, "period"));
  const TimeRange period = DayRange(first, last, deps_.zone);
  CPTS_ASSIGN_OR_RETURN(SnpIndicatorInput in, store_.IndicatorFacts(caller.tenant_id, period));
  return ComputeSnpIndicators(in.slots, in.bookings, period);
}

absl::StatusOr<std::string> SnpAgenda::FhirSlotSearch(const platform::auth::Principal& caller,
                                                      const FhirSlotQuery& query,
                                                      absl::string_view base_url) {
  if (caller.tenant_id.empty()) return absl::PermissionDeniedError("no tenant");
  if (!caller.HasAnyRole({snp_roles::kSasRegulator, roles::kService})) {
    return absl::PermissionDeniedError("sas_regulator or service only");
  }
  CPTS_ASSIGN_OR_RETURN(SnpFhirResult found,
                        store_.FhirSearch(caller.tenant_id, query.rpps, query.start_from,
                                          query.start_to, query.count));
  FhirBundleContext context;
  context.base_url = std::string(base_url);
  context.bundle_id = deps_.ids.NewId();
  context.last_updated = SnpStoreTime(deps_.clock.Now());
  context.cpts.tenant_id = caller.tenant_id;
  // The CPTS Organization (FINESS, name) is membership's; asked for only when included.
  if (query.include_organization) {
    CPTS_ASSIGN_OR_RETURN(membership::client::TenantFacts tenant,
                          deps_.directory.GetTenant(caller.tenant_id));
    context.cpts.name = std::move(tenant.name);
    context.cpts.finess = std::move(tenant.finess);
  }
  // The Location is contained in the PractitionerRole: its address is wanted only then.
  if (query.include_practitioner_role && options_.communes != nullptr) {
    std::set<std::string> codes;
    for (const Slot& slot : found.slots) {
      if (slot.mode != ConsultationMode::kVideo && !slot.place.commune_insee.empty()) {
        codes.insert(slot.place.commune_insee);
      }
    }
    if (!codes.empty()) {
      CPTS_ASSIGN_OR_RETURN(
          std::vector<TerritoryCommune> communes,
          options_.communes->FindCommunes(caller.tenant_id,
                                          std::vector<std::string>(codes.begin(), codes.end())));
      for (TerritoryCommune& c : communes) {
        context.communes[c.insee_code] =
            FhirCommune{.postal_code = std::move(c.postal_code), .name = std::move(c.name)};
      }
    }
  }
  for (const auto& [member_id, p] : found.professionals) {
    context.practitioners[member_id] = FhirPractitioner{.member_id = p.member_id,
                                                        .rpps = p.rpps,
                                                        .family_name = p.family_name,
                                                        .given_name = p.given_name,
                                                        .profession_code = p.profession_code};
  }
  return FhirSlotBundleJson(query, found.slots, found.total, context);
}

// ---------------------------------------------------------------------------------------
// Retention
// ---------------------------------------------------------------------------------------

absl::StatusOr<int> SnpAgenda::PurgeExpired() {
  const absl::Time now = deps_.clock.Now();
  int total = 0;
  for (;;) {
    CPTS_ASSIGN_OR_RETURN(const int n,
                          store_.PurgePastBookings(now - deps_.retention, now, kPurgeBatch));
    total += n;
    if (n < kPurgeBatch) return total;
  }
}

}  // namespace cpts::access
