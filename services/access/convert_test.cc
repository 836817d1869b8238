// Unit tests of the proto <-> domain conversions of both halves (mt_convert.h, snp_convert.h):
// every input field survives a round trip, every enum value maps to its own counterpart, and
// input that the proto allows but the domain cannot hold is refused naming the field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "services/access/mt_convert.h"
#include "services/access/snp_convert.h"

namespace cpts::access {
namespace {

// 2030-03-04 08:00:00.123456 UTC.
constexpr absl::Time kAt = absl::FromUnixMicros(int64_t{1898841600} * 1000000 + 123456);

bool NamesField(const absl::Status& s, const std::string& field) {
  return absl::IsInvalidArgument(s) && absl::StartsWith(s.message(), field + ":");
}

// --- MT ------------------------------------------------------------------------------------

v1::MtRequest SubmittedProto() {
  v1::MtRequest in;
  in.mutable_patient()->set_given_name("Éloïse");
  in.mutable_patient()->set_family_name("Exemple");
  in.mutable_patient()->mutable_birth_date()->set_year(1950);
  in.mutable_patient()->mutable_birth_date()->set_month(12);
  in.mutable_patient()->mutable_birth_date()->set_day(31);
  in.mutable_patient()->set_sex(v1::SEX_OTHER);
  in.set_commune_insee("2A004");
  in.mutable_contact()->set_phone("+33611223344");
  in.mutable_contact()->set_email("eloise@example.org");
  in.set_ald(true);
  in.mutable_fragility()->set_precarity(true);
  in.mutable_fragility()->set_disability(true);
  in.mutable_fragility()->set_pregnancy(true);
  in.mutable_fragility()->set_notes("ligne 1\nligne 2");
  in.set_origin(v1::MT_ORIGIN_HOSPITAL_DISCHARGE);
  in.set_origin_detail("CH Fictif");
  in.mutable_consent()->set_granted(true);
  in.mutable_consent()->mutable_consent_time()->set_seconds(absl::ToUnixSeconds(kAt));
  in.mutable_consent()->mutable_consent_time()->set_nanos(123456000);
  return in;
}

TEST(MtConvertTest, SubmittedFieldsRoundTrip) {
  const v1::MtRequest in = SubmittedProto();
  absl::StatusOr<MtRequest> domain = FromProto(in);
  ASSERT_TRUE(domain.ok()) << domain.status();
  EXPECT_EQ(domain->patient.birth_date, absl::CivilDay(1950, 12, 31));
  EXPECT_EQ(domain->consent.consent_time, kAt);
  v1::MtRequest out;
  ToProto(*domain, &out);
  EXPECT_EQ(out.patient().SerializeAsString(), in.patient().SerializeAsString());
  EXPECT_EQ(out.contact().SerializeAsString(), in.contact().SerializeAsString());
  EXPECT_EQ(out.commune_insee(), in.commune_insee());
  EXPECT_EQ(out.ald(), in.ald());
  EXPECT_EQ(out.fragility().SerializeAsString(), in.fragility().SerializeAsString());
  EXPECT_EQ(out.origin(), in.origin());
  EXPECT_EQ(out.origin_detail(), in.origin_detail());
  EXPECT_EQ(out.consent().SerializeAsString(), in.consent().SerializeAsString());
}

TEST(MtConvertTest, OutputOnlyFieldsAreIgnoredOnInput) {
  v1::MtRequest in = SubmittedProto();
  in.set_id("forged");
  in.set_state(v1::MT_STATE_PLACED);
  in.set_gp_member_id("gp-x");
  in.mutable_fragility()->set_over_70(true);
  absl::StatusOr<MtRequest> domain = FromProto(in);
  ASSERT_TRUE(domain.ok()) << domain.status();
  EXPECT_EQ(domain->id, "");
  EXPECT_EQ(domain->state, MtState::kUnspecified);
  EXPECT_EQ(domain->gp_member_id, "");
  EXPECT_FALSE(domain->fragility.over_70);
}

TEST(MtConvertTest, InputTheDomainCannotHoldNamesTheField) {
  struct Case {
    std::string field;
    void (*mutate)(v1::MtRequest&);
  };
  const std::vector<Case> cases = {
      {"mt_request.patient.birth_date",
       [](v1::MtRequest& r) { r.mutable_patient()->clear_birth_date(); }},
      {"mt_request.patient.birth_date",
       [](v1::MtRequest& r) { r.mutable_patient()->mutable_birth_date()->set_day(32); }},
      {"mt_request.patient.sex",
       [](v1::MtRequest& r) { r.mutable_patient()->set_sex(static_cast<v1::Sex>(4)); }},
      {"mt_request.origin", [](v1::MtRequest& r) { r.set_origin(static_cast<v1::MtOrigin>(6)); }},
      {"mt_request.origin", [](v1::MtRequest& r) { r.set_origin(static_cast<v1::MtOrigin>(-1)); }},
      {"mt_request.consent.consent_time",
       [](v1::MtRequest& r) { r.mutable_consent()->mutable_consent_time()->set_nanos(-1); }},
      {"mt_request.consent.consent_time",
       [](v1::MtRequest& r) {
         r.mutable_consent()->mutable_consent_time()->set_seconds(int64_t{1} << 40);
       }},
  };
  for (const Case& c : cases) {
    v1::MtRequest in = SubmittedProto();
    c.mutate(in);
    EXPECT_TRUE(NamesField(FromProto(in).status(), c.field)) << c.field;
  }
}

TEST(MtConvertTest, EveryEnumValueMapsToItsCounterpart) {
  for (int v = 0; v <= 4; ++v) {
    absl::StatusOr<PriorityClass> pc = PriorityClassFromProto(v, "f");
    ASSERT_TRUE(pc.ok());
    MtRequest r;
    r.priority_class = *pc;
    v1::MtRequest out;
    ToProto(r, &out);
    EXPECT_EQ(out.priority_class(), v);
  }
  EXPECT_TRUE(NamesField(PriorityClassFromProto(5, "f").status(), "f"));
  for (int v = 0; v <= 8; ++v) {
    absl::StatusOr<MtState> s = MtStateFromProto(v, "f");
    ASSERT_TRUE(s.ok());
    MtRequest r;
    r.state = *s;
    v1::MtRequest out;
    ToProto(r, &out);
    EXPECT_EQ(out.state(), v);
  }
  EXPECT_TRUE(NamesField(MtStateFromProto(9, "f").status(), "f"));
  // The domain's actions start at kSubmit = 0; the proto's at MT_ACTION_SUBMIT = 1.
  const std::vector<std::pair<MtAction, v1::MtAction>> actions = {
      {MtAction::kSubmit, v1::MT_ACTION_SUBMIT},
      {MtAction::kTriage, v1::MT_ACTION_TRIAGE},
      {MtAction::kAssign, v1::MT_ACTION_ASSIGN},
      {MtAction::kAccept, v1::MT_ACTION_ACCEPT},
      {MtAction::kDecline, v1::MT_ACTION_DECLINE},
      {MtAction::kMarkPlaced, v1::MT_ACTION_MARK_PLACED},
      {MtAction::kMarkUnreachable, v1::MT_ACTION_MARK_UNREACHABLE},
      {MtAction::kWithdraw, v1::MT_ACTION_WITHDRAW},
      {MtAction::kClose, v1::MT_ACTION_CLOSE}};
  MtRequest r;
  for (const auto& [domain, proto] : actions) {
    MtTransition t;
    t.action = domain;
    t.time = kAt;
    r.history.push_back(t);
  }
  v1::MtRequest out;
  ToProto(r, &out);
  ASSERT_EQ(out.history_size(), static_cast<int>(actions.size()));
  for (size_t i = 0; i < actions.size(); ++i) {
    EXPECT_EQ(out.history(static_cast<int>(i)).action(), actions[i].second);
    EXPECT_EQ(out.history(static_cast<int>(i)).time().nanos(), 123456000);
  }
  absl::StatusOr<MtView> basic = MtViewFromProto(v1::MT_REQUEST_VIEW_UNSPECIFIED, MtView::kBasic);
  ASSERT_TRUE(basic.ok());
  EXPECT_EQ(*basic, MtView::kBasic);
  absl::StatusOr<MtView> full = MtViewFromProto(v1::MT_REQUEST_VIEW_FULL, MtView::kBasic);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full, MtView::kFull);
  EXPECT_TRUE(NamesField(MtViewFromProto(3, MtView::kBasic).status(), "view"));
}

TEST(MtConvertTest, WithoutPatientNoPatientMessage) {
  MtRequest stripped;  // what a caller who may not read the patient gets
  stripped.id = "r-1";
  v1::MtRequest out;
  ToProto(stripped, &out);
  EXPECT_FALSE(out.has_patient());
  EXPECT_FALSE(out.has_contact());
  EXPECT_FALSE(out.has_triage());
  EXPECT_EQ(out.etag(), "v0");
}

TEST(MtConvertTest, GpCapacityRoundTrip) {
  v1::GpCapacity in;
  in.set_gp_member_id("gp-1");
  in.set_declared_count(12);
  in.mutable_valid_until()->set_year(2030);
  in.mutable_valid_until()->set_month(6);
  in.mutable_valid_until()->set_day(30);
  in.add_communes("33529");
  in.add_communes("33063");
  in.add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
  in.add_priority_classes(v1::PRIORITY_CLASS_P4_OTHER);
  absl::StatusOr<GpCapacity> domain = FromProto(in);
  ASSERT_TRUE(domain.ok()) << domain.status();
  v1::GpCapacity out;
  ToProto(*domain, &out);
  EXPECT_EQ(out.gp_member_id(), in.gp_member_id());
  EXPECT_EQ(out.declared_count(), in.declared_count());
  EXPECT_EQ(out.valid_until().SerializeAsString(), in.valid_until().SerializeAsString());
  EXPECT_EQ(std::vector<std::string>(out.communes().begin(), out.communes().end()),
            std::vector<std::string>(in.communes().begin(), in.communes().end()));
  EXPECT_EQ(std::vector<int>(out.priority_classes().begin(), out.priority_classes().end()),
            std::vector<int>(in.priority_classes().begin(), in.priority_classes().end()));
  in.add_priority_classes(static_cast<v1::PriorityClass>(42));
  EXPECT_TRUE(NamesField(FromProto(in).status(), "gp_capacity.priority_classes[2]"));
}

// --- SNP -----------------------------------------------------------------------------------

TEST(MtConvertTest, TerritoryUpdateReadsThePartsOfTheMask) {
  v1::UpdateTerritoryRequest req;
  v1::CommuneLink* link = req.mutable_territory()->add_links();
  link->set_commune_a("77296");
  link->set_commune_b("77251");
  link->set_distance(2.5);
  v1::Commune* commune = req.mutable_territory()->add_communes();
  commune->set_insee_code("77296");
  commune->set_name("Moissy-Cramayel");
  commune->set_postal_code("77550");
  req.mutable_territory()->set_updated_by("ignored");

  // No mask: both parts.
  auto both = TerritoryUpdateFromProto(req);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_TRUE(both->replace.links);
  EXPECT_TRUE(both->replace.communes);
  ASSERT_EQ(both->links.size(), 1U);
  EXPECT_EQ(both->links[0].a, "77296");
  EXPECT_EQ(both->links[0].b, "77251");
  EXPECT_EQ(both->links[0].distance, 2.5);
  ASSERT_EQ(both->communes.size(), 1U);
  EXPECT_EQ(
      both->communes[0],
      (TerritoryCommune{.insee_code = "77296", .name = "Moissy-Cramayel", .postal_code = "77550"}));

  req.mutable_update_mask()->add_paths("communes");
  auto communes = TerritoryUpdateFromProto(req);
  ASSERT_TRUE(communes.ok()) << communes.status();
  EXPECT_FALSE(communes->replace.links);
  EXPECT_TRUE(communes->replace.communes);
  EXPECT_TRUE(communes->links.empty());
  EXPECT_EQ(communes->communes.size(), 1U);

  req.mutable_update_mask()->add_paths("links");
  auto named_both = TerritoryUpdateFromProto(req);
  ASSERT_TRUE(named_both.ok()) << named_both.status();
  EXPECT_TRUE(named_both->replace.links);
  EXPECT_TRUE(named_both->replace.communes);

  for (const char* bad : {"updated_by", "territory.links", "", "*"}) {
    v1::UpdateTerritoryRequest r = req;
    r.mutable_update_mask()->add_paths(bad);
    EXPECT_TRUE(NamesField(TerritoryUpdateFromProto(r).status(), "update_mask")) << bad;
  }
}

TEST(MtConvertTest, TerritoryToProto) {
  TerritoryRecord in;
  in.links = {CommuneLink{.a = "77251", .b = "77296", .distance = 1}};
  in.communes = {
      TerritoryCommune{.insee_code = "2A004", .name = "Ajaccio", .postal_code = "20000"}};
  in.updated_by = "user:coord";
  in.update_time = kAt;
  v1::Territory out;
  ToProto(in, &out);
  ASSERT_EQ(out.links_size(), 1);
  EXPECT_EQ(out.links(0).commune_a(), "77251");
  ASSERT_EQ(out.communes_size(), 1);
  EXPECT_EQ(out.communes(0).insee_code(), "2A004");
  EXPECT_EQ(out.communes(0).name(), "Ajaccio");
  EXPECT_EQ(out.communes(0).postal_code(), "20000");
  EXPECT_EQ(out.updated_by(), "user:coord");
  EXPECT_TRUE(out.has_update_time());

  // Never set: no update time.
  v1::Territory never;
  ToProto(TerritoryRecord{}, &never);
  EXPECT_FALSE(never.has_update_time());
  EXPECT_EQ(never.communes_size(), 0);
}

TEST(SnpConvertTest, TimestampsRoundTripAndOutOfRangeIsRefused) {
  google::protobuf::Timestamp ts;
  snp::ToProto(kAt, &ts);
  absl::StatusOr<absl::Time> back = snp::FromProto(ts, "t");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, kAt);
  google::protobuf::Timestamp unset;
  absl::StatusOr<absl::Time> none = snp::FromProto(unset, "t");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, absl::InfinitePast());
  google::protobuf::Timestamp written;
  snp::ToProto(absl::InfinitePast(), &written);
  EXPECT_EQ(written.ByteSizeLong(), 0U);
  ts.set_nanos(1000000000);
  EXPECT_TRUE(NamesField(snp::FromProto(ts, "start_time").status(), "start_time"));
  ts.set_nanos(0);
  ts.set_seconds(253402300800);  // 10000-01-01
  EXPECT_TRUE(NamesField(snp::FromProto(ts, "start_time").status(), "start_time"));
}

TEST(SnpConvertTest, SlotDraftRoundTripForEveryModeVisibilityAndKind) {
  for (int mode = 1; mode <= 3; ++mode) {
    for (int visibility = 1; visibility <= 4; ++visibility) {
      for (int kind = 1; kind <= 2; ++kind) {
        v1::Slot in;
        in.set_professional_member_id("gp-1");
        in.mutable_start_time()->set_seconds(absl::ToUnixSeconds(kAt));
        in.mutable_duration()->set_seconds(1200);
        in.set_mode(static_cast<v1::ConsultationMode>(mode));
        in.mutable_place()->set_commune_insee("33529");
        in.mutable_place()->set_address("1 rue X");
        in.set_visibility(static_cast<v1::Visibility>(visibility));
        in.set_kind(static_cast<v1::SlotKind>(kind));
        in.set_status(v1::SLOT_STATUS_BOOKED);  // output only: ignored
        absl::StatusOr<Slot> draft = snp::SlotDraftFromProto(in, "slots[0]");
        ASSERT_TRUE(draft.ok()) << draft.status();
        EXPECT_EQ(draft->status, SlotStatus::kUnspecified);
        EXPECT_EQ(draft->duration, absl::Minutes(20));
        v1::Slot out;
        snp::ToProto(*draft, &out);
        EXPECT_EQ(out.professional_member_id(), in.professional_member_id());
        EXPECT_EQ(out.start_time().SerializeAsString(), in.start_time().SerializeAsString());
        EXPECT_EQ(out.duration().seconds(), 1200);
        EXPECT_EQ(out.mode(), in.mode());
        EXPECT_EQ(out.place().SerializeAsString(), in.place().SerializeAsString());
        EXPECT_EQ(out.visibility(), in.visibility());
        EXPECT_EQ(out.kind(), in.kind());
      }
    }
  }
  v1::Slot bad;
  bad.set_mode(static_cast<v1::ConsultationMode>(4));
  EXPECT_TRUE(NamesField(snp::SlotDraftFromProto(bad, "slots[3]").status(), "slots[3].mode"));
  bad.set_mode(v1::CONSULTATION_MODE_OFFICE);
  bad.set_visibility(static_cast<v1::Visibility>(5));
  EXPECT_TRUE(NamesField(snp::SlotDraftFromProto(bad, "slots[3]").status(), "slots[3].visibility"));
  bad.set_visibility(v1::VISIBILITY_PRO);
  bad.set_kind(static_cast<v1::SlotKind>(3));
  EXPECT_TRUE(NamesField(snp::SlotDraftFromProto(bad, "slots[3]").status(), "slots[3].kind"));
  bad.set_kind(v1::SLOT_KIND_WALK_IN);
  bad.mutable_duration()->set_seconds(-1);
  EXPECT_TRUE(NamesField(snp::SlotDraftFromProto(bad, "slots[3]").status(), "slots[3].duration"));
}

TEST(SnpConvertTest, BookingRoundTripForEveryStateOriginAndSex) {
  v1::BookSlotRequest req;
  req.set_slot_id("s-1");
  req.mutable_patient()->set_given_name("Noé");
  req.mutable_patient()->set_family_name("Exemple");
  req.mutable_patient()->mutable_birth_date()->set_year(1990);
  req.mutable_patient()->mutable_birth_date()->set_month(2);
  req.mutable_patient()->mutable_birth_date()->set_day(28);
  req.mutable_contact()->set_phone("+33612345678");
  req.set_reason("fièvre");
  req.set_request_id("r-1");
  for (int sex = 0; sex <= 3; ++sex) {
    req.mutable_patient()->set_sex(static_cast<v1::Sex>(sex));
    absl::StatusOr<BookingDraft> d = snp::FromProto(req);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->slot_id, "s-1");
    EXPECT_EQ(d->request_id, "r-1");
    for (int state = 1; state <= 4; ++state) {
      for (int origin = 1; origin <= 4; ++origin) {
        Booking b;
        b.id = "b-1";
        b.slot_id = d->slot_id;
        b.patient = d->patient;
        b.contact = d->contact;
        b.reason = d->reason;
        b.state = static_cast<BookingState>(state);
        b.origin = static_cast<BookingOrigin>(origin);
        b.create_time = kAt;
        b.cancel_time = kAt + absl::Hours(1);
        b.outcome_time = kAt + absl::Hours(2);
        b.version = 3;
        v1::Booking out;
        snp::ToProto(b, &out);
        EXPECT_EQ(out.patient().SerializeAsString(), req.patient().SerializeAsString());
        EXPECT_EQ(out.contact().SerializeAsString(), req.contact().SerializeAsString());
        EXPECT_EQ(out.reason(), req.reason());
        EXPECT_EQ(out.state(), state);
        EXPECT_EQ(out.origin(), origin);
        EXPECT_EQ(out.has_cancel_time(), b.state == BookingState::kCancelled);
        EXPECT_EQ(out.has_outcome_time(),
                  b.state == BookingState::kFulfilled || b.state == BookingState::kNoShow);
        EXPECT_EQ(out.etag(), "\"v3\"");
      }
    }
  }
  req.mutable_patient()->set_sex(static_cast<v1::Sex>(4));
  EXPECT_TRUE(NamesField(snp::FromProto(req).status(), "patient.sex"));
  req.mutable_patient()->set_sex(v1::SEX_FEMALE);
  req.mutable_patient()->mutable_birth_date()->set_day(29);  // 1990 is not a leap year
  EXPECT_TRUE(NamesField(snp::FromProto(req).status(), "patient.birth_date"));
}

TEST(SnpConvertTest, PurgedBookingHasNoPatient) {
  Booking b;
  b.id = "b-1";
  b.state = BookingState::kFulfilled;
  b.purge_time = kAt;
  v1::Booking out;
  snp::ToProto(b, &out);
  EXPECT_FALSE(out.has_patient());
  EXPECT_FALSE(out.has_contact());
  EXPECT_EQ(out.reason(), "");
  EXPECT_EQ(out.state(), v1::BOOKING_STATE_FULFILLED);
}

TEST(SnpConvertTest, OutcomesAndSearchEnums) {
  EXPECT_EQ(snp::FromProto(v1::BOOKING_OUTCOME_FULFILLED), BookingOutcome::kFulfilled);
  EXPECT_EQ(snp::FromProto(v1::BOOKING_OUTCOME_NO_SHOW), BookingOutcome::kNoShow);
  EXPECT_EQ(snp::FromProto(v1::BOOKING_OUTCOME_UNSPECIFIED), BookingOutcome::kUnspecified);
  v1::SearchSlotsRequest search;
  search.add_modes(v1::CONSULTATION_MODE_HOME);
  search.add_visibilities(v1::VISIBILITY_SNP);
  search.set_kind(v1::SLOT_KIND_WALK_IN);
  search.add_communes("33529");
  search.set_page_size(7);
  absl::StatusOr<SlotSearchQuery> q = snp::FromProto(search);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->modes, std::vector<ConsultationMode>{ConsultationMode::kHome});
  EXPECT_EQ(q->visibilities, std::vector<Visibility>{Visibility::kSnp});
  EXPECT_EQ(q->kind, SlotKind::kWalkIn);
  EXPECT_EQ(q->communes, std::vector<std::string>{"33529"});
  EXPECT_EQ(q->page_size, 7);
  search.add_modes(static_cast<v1::ConsultationMode>(8));
  EXPECT_TRUE(NamesField(snp::FromProto(search).status(), "modes[1]"));
}

}  // namespace
}  // namespace cpts::access
