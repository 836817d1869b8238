#include "services/access/mt_convert.h"

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/access/mt_validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return;
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

// A timestamp sent by a client: 0001-01-01 to 9999-12-31 with nanos in [0, 1e9), as
// google.protobuf.Timestamp requires.
absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& ts,
                                         absl::string_view field) {
  if (ts.seconds() < -62135596800 || ts.seconds() > 253402300799 || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not a valid timestamp"));
  }
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void DayToProto(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

void DurationToProto(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

template <typename E>
absl::StatusOr<E> EnumFromProto(int value, int max, absl::string_view field) {
  if (value < 0 || value > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown value ", value));
  }
  return static_cast<E>(value);
}

}  // namespace

absl::StatusOr<PriorityClass> PriorityClassFromProto(int value, absl::string_view field) {
  return EnumFromProto<PriorityClass>(value, 4, field);
}

absl::StatusOr<MtState> MtStateFromProto(int value, absl::string_view field) {
  return EnumFromProto<MtState>(value, 8, field);
}

absl::StatusOr<MtView> MtViewFromProto(int value, MtView default_view) {
  switch (value) {
    case v1::MT_REQUEST_VIEW_UNSPECIFIED:
      return default_view;
    case v1::MT_REQUEST_VIEW_BASIC:
      return MtView::kBasic;
    case v1::MT_REQUEST_VIEW_FULL:
      return MtView::kFull;
    default:
      return absl::InvalidArgumentError(absl::StrCat("view: unknown value ", value));
  }
}

absl::StatusOr<absl::CivilDay> DayFromProto(const common::v1::Date& date, absl::string_view field) {
  return ParseDate(date.year(), date.month(), date.day(), field);
}

absl::StatusOr<MtRequest> FromProto(const v1::MtRequest& in) {
  MtRequest r;
  r.patient.given_name = in.patient().given_name();
  r.patient.family_name = in.patient().family_name();
  CPTS_ASSIGN_OR_RETURN(r.patient.birth_date,
                        DayFromProto(in.patient().birth_date(), "mt_request.patient.birth_date"));
  CPTS_ASSIGN_OR_RETURN(r.patient.sex,
                        EnumFromProto<Sex>(in.patient().sex(), 3, "mt_request.patient.sex"));
  r.commune_insee = in.commune_insee();
  r.contact.phone = in.contact().phone();
  r.contact.email = in.contact().email();
  r.ald = in.ald();
  r.fragility.precarity = in.fragility().precarity();
  r.fragility.disability = in.fragility().disability();
  r.fragility.pregnancy = in.fragility().pregnancy();
  r.fragility.notes = in.fragility().notes();
  CPTS_ASSIGN_OR_RETURN(r.origin, EnumFromProto<MtOrigin>(in.origin(), 5, "mt_request.origin"));
  r.origin_detail = in.origin_detail();
  r.consent.granted = in.consent().granted();
  if (in.consent().has_consent_time()) {
    CPTS_ASSIGN_OR_RETURN(r.consent.consent_time, TimeFromProto(in.consent().consent_time(),
                                                                "mt_request.consent.consent_time"));
  }
  return r;
}

absl::StatusOr<GpCapacity> FromProto(const v1::GpCapacity& in) {
  GpCapacity c;
  c.gp_member_id = in.gp_member_id();
  c.declared_count = in.declared_count();
  CPTS_ASSIGN_OR_RETURN(c.valid_until, DayFromProto(in.valid_until(), "gp_capacity.valid_until"));
  c.communes.assign(in.communes().begin(), in.communes().end());
  for (int i = 0; i < in.priority_classes_size(); ++i) {
    CPTS_ASSIGN_OR_RETURN(
        PriorityClass pc,
        PriorityClassFromProto(in.priority_classes(i),
                               absl::StrCat("gp_capacity.priority_classes[", i, "]")));
    c.priority_classes.push_back(pc);
  }
  return c;
}

void ToProto(const MtRequest& in, v1::MtRequest* out) {
  out->set_id(in.id);
  if (!in.patient.given_name.empty() || !in.patient.family_name.empty()) {
    auto* p = out->mutable_patient();
    p->set_given_name(in.patient.given_name);
    p->set_family_name(in.patient.family_name);
    DayToProto(in.patient.birth_date, p->mutable_birth_date());
    p->set_sex(static_cast<v1::Sex>(in.patient.sex));
  }
  out->set_commune_insee(in.commune_insee);
  if (!in.contact.phone.empty() || !in.contact.email.empty()) {
    out->mutable_contact()->set_phone(in.contact.phone);
    out->mutable_contact()->set_email(in.contact.email);
  }
  out->set_ald(in.ald);
  auto* f = out->mutable_fragility();
  f->set_over_70(in.fragility.over_70);
  f->set_under_6(in.fragility.under_6);
  f->set_precarity(in.fragility.precarity);
  f->set_disability(in.fragility.disability);
  f->set_pregnancy(in.fragility.pregnancy);
  f->set_notes(in.fragility.notes);
  out->set_origin(static_cast<v1::MtOrigin>(in.origin));
  out->set_origin_detail(in.origin_detail);
  out->mutable_consent()->set_granted(in.consent.granted);
  TimeToProto(in.consent.consent_time, out->mutable_consent()->mutable_consent_time());
  out->set_state(static_cast<v1::MtState>(in.state));
  out->set_priority_class(static_cast<v1::PriorityClass>(in.priority_class));
  out->set_computed_priority_class(static_cast<v1::PriorityClass>(in.computed_priority_class));
  if (in.triage.has_value()) {
    auto* t = out->mutable_triage();
    t->set_synthesis(in.triage->synthesis);
    t->set_priority_class(static_cast<v1::PriorityClass>(in.triage->priority_class));
    t->set_priority_overridden(in.triage->priority_overridden);
    t->set_triaged_by(in.triage->triaged_by);
    TimeToProto(in.triage->triage_time, t->mutable_triage_time());
  }
  out->set_gp_member_id(in.gp_member_id);
  for (const auto& id : in.declined_gp_member_ids) out->add_declined_gp_member_ids(id);
  for (const auto& id : in.possible_duplicate_ids) out->add_possible_duplicate_ids(id);
  out->set_state_reason(in.state_reason);
  out->set_submitted_by(in.submitted_by);
  TimeToProto(in.create_time, out->mutable_create_time());
  TimeToProto(in.state_time, out->mutable_state_time());
  TimeToProto(in.update_time, out->mutable_update_time());
  for (const MtTransition& t : in.history) {
    auto* h = out->add_history();
    h->set_action(static_cast<v1::MtAction>(static_cast<int>(t.action) + 1));
    h->set_from_state(static_cast<v1::MtState>(t.from_state));
    h->set_to_state(static_cast<v1::MtState>(t.to_state));
    h->set_actor(t.actor);
    h->set_actor_member_id(t.actor_member_id);
    TimeToProto(t.time, h->mutable_time());
    h->set_reason(t.reason);
    h->set_gp_member_id(t.gp_member_id);
    h->set_priority_class(static_cast<v1::PriorityClass>(t.priority_class));
  }
  out->set_etag(MtEtag(in.version));
}

void ToProto(const GpCapacity& in, v1::GpCapacity* out) {
  out->set_gp_member_id(in.gp_member_id);
  out->set_declared_count(in.declared_count);
  out->set_remaining_count(in.remaining_count);
  DayToProto(in.valid_until, out->mutable_valid_until());
  for (const auto& c : in.communes) out->add_communes(c);
  for (PriorityClass pc : in.priority_classes) {
    out->add_priority_classes(static_cast<v1::PriorityClass>(pc));
  }
  out->set_declared_by(in.declared_by);
  TimeToProto(in.declare_time, out->mutable_declare_time());
  TimeToProto(in.update_time, out->mutable_update_time());
  out->set_etag(MtEtag(in.version));
}

void ToProto(const GpSuggestion& in, v1::GpSuggestion* out) {
  out->set_gp_member_id(in.gp_member_id);
  out->set_rank(in.rank);
  out->set_remaining_count(in.remaining_count);
  out->set_commune_match(in.commune_match);
  out->set_nearest_commune_insee(in.nearest_commune_insee);
  out->set_distance(in.distance.has_value() ? *in.distance : -1.0);
}

void ToProto(const MtIndicators& in, absl::CivilDay start, absl::CivilDay end,
             absl::Time compute_time, v1::MtIndicators* out) {
  DayToProto(start, out->mutable_period()->mutable_start_date());
  DayToProto(end, out->mutable_period()->mutable_end_date());
  TimeToProto(compute_time, out->mutable_compute_time());
  out->set_waiting(in.waiting);
  out->set_waiting_ald(in.waiting_ald);
  out->set_waiting_without_ald(in.waiting_without_ald);
  for (int i = 0; i < 4; ++i) {
    auto* c = out->add_waiting_by_class();
    c->set_priority_class(static_cast<v1::PriorityClass>(i + 1));
    c->set_count(in.waiting_by_class[static_cast<size_t>(i)]);
  }
  out->set_received(in.received);
  out->set_placed(in.placed);
  out->set_declines(in.declines);
  out->set_declined_requests(in.declined_requests);
  out->set_unreachable(in.unreachable);
  out->set_withdrawn(in.withdrawn);
  out->set_closed_other(in.closed_other);
  if (in.median_wait.has_value()) DurationToProto(*in.median_wait, out->mutable_median_wait());
  if (in.p90_wait.has_value()) DurationToProto(*in.p90_wait, out->mutable_p90_wait());
}

absl::StatusOr<TerritoryUpdate> TerritoryUpdateFromProto(const v1::UpdateTerritoryRequest& in) {
  TerritoryUpdate out;
  if (in.update_mask().paths_size() > 0) {
    out.replace = {.links = false, .communes = false};
    for (const std::string& path : in.update_mask().paths()) {
      if (path == "links") {
        out.replace.links = true;
      } else if (path == "communes") {
        out.replace.communes = true;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("update_mask: unknown field '", path, "' (links, communes)"));
      }
    }
  }
  const v1::Territory& t = in.territory();
  if (out.replace.links) {
    out.links.reserve(static_cast<std::size_t>(t.links_size()));
    for (const v1::CommuneLink& link : t.links()) {
      out.links.push_back(
          CommuneLink{.a = link.commune_a(), .b = link.commune_b(), .distance = link.distance()});
    }
  }
  if (out.replace.communes) {
    out.communes.reserve(static_cast<std::size_t>(t.communes_size()));
    for (const v1::Commune& c : t.communes()) {
      out.communes.push_back(TerritoryCommune{
          .insee_code = c.insee_code(), .name = c.name(), .postal_code = c.postal_code()});
    }
  }
  return out;
}

void ToProto(const TerritoryRecord& in, v1::Territory* out) {
  for (const CommuneLink& link : in.links) {
    v1::CommuneLink* l = out->add_links();
    l->set_commune_a(link.a);
    l->set_commune_b(link.b);
    l->set_distance(link.distance);
  }
  for (const TerritoryCommune& c : in.communes) {
    v1::Commune* o = out->add_communes();
    o->set_insee_code(c.insee_code);
    o->set_name(c.name);
    o->set_postal_code(c.postal_code);
  }
  out->set_updated_by(in.updated_by);
  if (in.update_time != absl::InfinitePast()) {
    TimeToProto(in.update_time, out->mutable_update_time());
  }
}

}  // namespace cpts::access
