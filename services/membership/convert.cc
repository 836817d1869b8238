#include "services/membership/convert.h"

#include "absl/strings/str_cat.h"
#include "services/platform/core/status_macros.h"

namespace cpts::membership {
namespace {

// Domain enums mirror the proto enums value for value (both start with UNSPECIFIED = 0), so
// a range check is the whole conversion.
template <typename E>
absl::StatusOr<E> EnumFromProto(int value, int max, absl::string_view field) {
  if (value < 0 || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ", value));
  }
  return static_cast<E>(value);
}

std::optional<absl::Time> OptionalTime(const google::protobuf::Timestamp& ts, bool present) {
  if (!present) return std::nullopt;
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return;
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

void ToProto(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

absl::StatusOr<absl::CivilDay> RequiredDay(const common::v1::Date& date, absl::string_view field) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return absl::CivilDay();
  return MakeCivilDay(date.year(), date.month(), date.day(), field);
}

absl::StatusOr<std::optional<absl::CivilDay>> OptionalDay(const common::v1::Date& date,
                                                          absl::string_view field) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return std::nullopt;
  CPTS_ASSIGN_OR_RETURN(absl::CivilDay day,
                        MakeCivilDay(date.year(), date.month(), date.day(), field));
  return day;
}

absl::StatusOr<Tenant> FromProto(const v1::Tenant& in) {
  Tenant t;
  t.id = in.id();
  t.name = in.name();
  t.finess = in.finess();
  t.size = in.size();
  t.territory_communes.assign(in.territory_communes().begin(), in.territory_communes().end());
  t.annual_fee_cents = in.annual_fee_cents();
  if (in.membership_year_model() != v1::MEMBERSHIP_YEAR_MODEL_UNSPECIFIED &&
      in.membership_year_model() != v1::MEMBERSHIP_YEAR_MODEL_CALENDAR) {
    return absl::InvalidArgumentError("tenant.membership_year_model: unknown value");
  }
  return t;
}

void ToProto(const Tenant& in, v1::Tenant* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_finess(in.finess);
  out->set_size(in.size);
  for (const auto& c : in.territory_communes) out->add_territory_communes(c);
  out->set_annual_fee_cents(in.annual_fee_cents);
  out->set_membership_year_model(v1::MEMBERSHIP_YEAR_MODEL_CALENDAR);
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(EtagFor(in.version));
}

absl::StatusOr<Member> FromProto(const v1::Member& in, absl::string_view field) {
  Member m;
  m.id = in.id();
  CPTS_ASSIGN_OR_RETURN(m.kind, EnumFromProto<MemberKind>(in.kind(), v1::MemberKind_MAX,
                                                          absl::StrCat(field, ".kind")));
  m.given_name = in.given_name();
  m.family_name = in.family_name();
  m.organization_name = in.organization_name();
  m.profession_code = in.profession_code();
  m.rpps = in.rpps();
  m.finess = in.finess();
  CPTS_ASSIGN_OR_RETURN(m.exercise_mode,
                        EnumFromProto<ExerciseMode>(in.exercise_mode(), v1::ExerciseMode_MAX,
                                                    absl::StrCat(field, ".exercise_mode")));
  for (const auto& p : in.practice_places()) {
    m.practice_places.push_back({p.commune_insee(), p.label()});
  }
  m.college_id = in.college_id();
  m.contact.email = in.contact().email();
  m.contact.phone = in.contact().phone();
  m.consents.directory_listing.granted = in.consents().directory_listing().granted();
  m.consents.communications.granted = in.consents().communications().granted();
  m.consents.directory_listing.record_time =
      OptionalTime(in.consents().directory_listing().record_time(),
                   in.consents().directory_listing().has_record_time());
  m.consents.communications.record_time =
      OptionalTime(in.consents().communications().record_time(),
                   in.consents().communications().has_record_time());
  return m;
}

void ToProto(const MemberView& view, v1::Member* out) {
  const Member& m = view.member;
  out->set_id(m.id);
  out->set_kind(static_cast<v1::MemberKind>(m.kind));
  out->set_given_name(m.given_name);
  out->set_family_name(m.family_name);
  out->set_organization_name(m.organization_name);
  out->set_profession_code(m.profession_code);
  out->set_rpps(m.rpps);
  out->set_finess(m.finess);
  out->set_exercise_mode(static_cast<v1::ExerciseMode>(m.exercise_mode));
  for (const auto& p : m.practice_places) {
    auto* place = out->add_practice_places();
    place->set_commune_insee(p.commune_insee);
    place->set_label(p.label);
  }
  out->set_college_id(m.college_id);
  out->mutable_contact()->set_email(m.contact.email);
  out->mutable_contact()->set_phone(m.contact.phone);
  auto consent = [](const Consent& in, v1::Consent* c) {
    c->set_granted(in.granted);
    if (in.record_time.has_value()) ToProto(*in.record_time, c->mutable_record_time());
  };
  consent(m.consents.directory_listing, out->mutable_consents()->mutable_directory_listing());
  consent(m.consents.communications, out->mutable_consents()->mutable_communications());
  out->set_status(static_cast<v1::MemberStatus>(view.status));
  ToProto(m.status_since, out->mutable_status_since());
  out->set_status_reason(m.status_reason);
  for (int y : m.membership_years) out->add_membership_years(y);
  out->set_current_year_up_to_date(view.current_year_up_to_date);
  if (m.adhesion.submit_time.has_value()) {
    auto* a = out->mutable_adhesion();
    ToProto(*m.adhesion.submit_time, a->mutable_submit_time());
    a->set_message(m.adhesion.message);
    if (m.adhesion.decide_time.has_value()) {
      ToProto(*m.adhesion.decide_time, a->mutable_decide_time());
    }
    a->set_decided_by(m.adhesion.decided_by);
  }
  ToProto(m.create_time, out->mutable_create_time());
  ToProto(m.update_time, out->mutable_update_time());
  out->set_etag(view.etag);
}

Profession FromProto(const v1::Profession& in) {
  return Profession{.code = in.code(), .label = in.label(), .requires_rpps = in.requires_rpps()};
}

void ToProto(const Profession& in, v1::Profession* out) {
  out->set_code(in.code);
  out->set_label(in.label);
  out->set_requires_rpps(in.requires_rpps);
  out->set_reference(in.reference);
}

College FromProto(const v1::College& in) {
  College c;
  c.name = in.name();
  c.description = in.description();
  return c;
}

void ToProto(const College& in, v1::College* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_description(in.description);
  ToProto(in.create_time, out->mutable_create_time());
}

absl::StatusOr<Cotisation> FromProto(const v1::Cotisation& in) {
  Cotisation c;
  c.member_id = in.member_id();
  c.year = in.year();
  c.amount_cents = in.amount_cents();
  CPTS_ASSIGN_OR_RETURN(c.paid_on, RequiredDay(in.paid_on(), "cotisation.paid_on"));
  CPTS_ASSIGN_OR_RETURN(c.method, EnumFromProto<PaymentMethod>(in.method(), v1::PaymentMethod_MAX,
                                                               "cotisation.method"));
  c.reference = in.reference();
  return c;
}

void ToProto(const Cotisation& in, v1::Cotisation* out) {
  out->set_id(in.id);
  out->set_member_id(in.member_id);
  out->set_year(in.year);
  out->set_amount_cents(in.amount_cents);
  ToProto(in.paid_on, out->mutable_paid_on());
  out->set_method(static_cast<v1::PaymentMethod>(in.method));
  out->set_reference(in.reference);
  out->set_recorded_by(in.recorded_by);
  ToProto(in.create_time, out->mutable_create_time());
}

absl::StatusOr<EmployerConvention> FromProto(const v1::EmployerConvention& in) {
  EmployerConvention c;
  c.member_id = in.member_id();
  c.employer_member_id = in.employer_member_id();
  CPTS_ASSIGN_OR_RETURN(c.valid_from, RequiredDay(in.valid_from(), "convention.valid_from"));
  CPTS_ASSIGN_OR_RETURN(c.valid_until, OptionalDay(in.valid_until(), "convention.valid_until"));
  c.reference = in.reference();
  return c;
}

void ToProto(const EmployerConvention& in, v1::EmployerConvention* out) {
  out->set_id(in.id);
  out->set_member_id(in.member_id);
  out->set_employer_member_id(in.employer_member_id);
  ToProto(in.valid_from, out->mutable_valid_from());
  if (in.valid_until.has_value()) ToProto(*in.valid_until, out->mutable_valid_until());
  out->set_reference(in.reference);
  out->set_end_reason(in.end_reason);
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
}

absl::StatusOr<Mandate> FromProto(const v1::Mandate& in) {
  Mandate m;
  m.member_id = in.member_id();
  CPTS_ASSIGN_OR_RETURN(m.body, BodyFromProto(in.body(), "mandate.body"));
  CPTS_ASSIGN_OR_RETURN(m.role,
                        EnumFromProto<MandateRole>(in.role(), v1::MandateRole_MAX, "mandate.role"));
  CPTS_ASSIGN_OR_RETURN(m.start_date, RequiredDay(in.start_date(), "mandate.start_date"));
  CPTS_ASSIGN_OR_RETURN(m.end_date, OptionalDay(in.end_date(), "mandate.end_date"));
  return m;
}

void ToProto(const Mandate& in, v1::Mandate* out) {
  out->set_id(in.id);
  out->set_member_id(in.member_id);
  out->set_body(static_cast<v1::MandateBody>(in.body));
  out->set_role(static_cast<v1::MandateRole>(in.role));
  ToProto(in.start_date, out->mutable_start_date());
  if (in.end_date.has_value()) ToProto(*in.end_date, out->mutable_end_date());
  out->set_end_reason(in.end_reason);
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
}

void ToProto(const MemberProfile& in, v1::MemberProfile* out) {
  out->set_member_id(in.member_id);
  out->set_kind(static_cast<v1::MemberKind>(in.kind));
  out->set_status(static_cast<v1::MemberStatus>(in.status));
  out->set_profession_code(in.profession_code);
  out->set_exercise_mode(static_cast<v1::ExerciseMode>(in.exercise_mode));
  for (const auto& c : in.commune_insee_codes) out->add_commune_insee_codes(c);
  out->set_college_id(in.college_id);
  ToProto(in.on_date, out->mutable_on_date());
  out->set_membership_year(in.membership_year);
  out->set_up_to_date(in.up_to_date);
  auto* payee = out->mutable_payee();
  payee->set_kind(static_cast<v1::PayeeKind>(in.payee.kind));
  payee->set_employer_member_id(in.payee.employer_member_id);
  payee->set_convention_id(in.payee.convention_id);
  payee->set_none_reason(static_cast<v1::PayeeNoneReason>(in.payee.none_reason));
  out->set_rpps(in.rpps);
  out->set_given_name(in.given_name);
  out->set_family_name(in.family_name);
  for (MandateBody body : in.mandate_bodies) {
    out->add_mandate_bodies(static_cast<v1::MandateBody>(body));
  }
}

void ToProto(const AuditEntry& in, v1::MemberHistoryEntry* out) {
  out->set_id(absl::StrCat(in.sequence));
  out->set_member_id(in.member_id);
  out->set_action(static_cast<v1::MemberAction>(in.action));
  out->set_actor(in.actor);
  ToProto(in.time, out->mutable_time());
  out->set_reason(in.reason);
  out->set_details(in.details);
}

absl::StatusOr<MemberStatus> StatusFromProto(int value, absl::string_view field) {
  return EnumFromProto<MemberStatus>(value, v1::MemberStatus_MAX, field);
}

absl::StatusOr<MandateBody> BodyFromProto(int value, absl::string_view field) {
  return EnumFromProto<MandateBody>(value, v1::MandateBody_MAX, field);
}

}  // namespace cpts::membership
