// The authorization matrix of the access service, end to end through gRPC and HTTP with real
// tokens: per RPC which roles are let in and which are refused, who reads the patient fields
// of an MT request and of a booking (each denial leaving an audit row "denied"), tenant
// isolation (a token of another CPTS never gets the data) and tokens that must not
// authenticate at all.
#include <httplib.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/access_fixture.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::access::v1;
using grpc::StatusCode;

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

absl::Time Ahead(int hours) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(hours)) / 60 * 60);
}

absl::CivilDay Today() {
  absl::TimeZone paris;
  if (!absl::LoadTimeZone("Europe/Paris", &paris)) paris = absl::UTCTimeZone();
  return absl::ToCivilDay(absl::Now(), paris);
}

void SetDay(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

// A caller: a name for the failure messages, its token, and its subject (the audit's actor).
struct Caller {
  std::string name;
  std::string token;
  std::string subject;
};

class AccessAuthzE2e : public AccessE2e {
 protected:
  void SetUp() override {
    AccessE2e::SetUp();
    gp_ = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
    other_gp_ = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
    pharmacist_ = CreateActiveMember("PHARMACIEN", {kCommunes[0]});
    other_tenant_ = NewTenant("CPTS Voisine Fictive");
  }

  Caller Role(const std::string& role) const { return {role, Token({role}), "user-" + role}; }
  Caller Member(const std::string& name, const std::string& member_id) const {
    return {name, Token({"member"}, member_id), "user-" + member_id};
  }
  Caller OtherTenant(const std::string& role) const {
    return {"other-tenant " + role, TokenFor(other_tenant_, {role}), "user-" + role};
  }

  // Everyone but the ones named in `except`.
  std::vector<Caller> Everyone() const {
    return {Role("coordinator"),
            Role("triage_nurse"),
            Role("secretary"),
            Role("sas_regulator"),
            Role("public_form"),
            Role("service"),
            Role("reporting"),
            Role("partner"),
            Role("bureau_member"),
            Member("gp", gp_),
            Member("other_gp", other_gp_),
            Member("pharmacist", pharmacist_)};
  }

  void Declare(const std::string& gp) {
    v1::DeclareGpCapacityRequest req;
    auto* c = req.mutable_gp_capacity();
    c->set_declared_count(5);
    SetDay(Today() + 60, c->mutable_valid_until());
    c->add_communes(kCommunes[0]);
    for (auto pc : {v1::PRIORITY_CLASS_P1_ALD, v1::PRIORITY_CLASS_P2_AGE,
                    v1::PRIORITY_CLASS_P3_FRAGILE, v1::PRIORITY_CLASS_P4_OTHER}) {
      c->add_priority_classes(pc);
    }
    v1::DeclareGpCapacityResponse resp;
    const grpc::Status st =
        access_->DeclareGpCapacity(Ctx(Token({"member"}, gp)).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  static v1::SubmitMtRequestRequest SubmitRequest(v1::MtOrigin origin) {
    v1::SubmitMtRequestRequest req;
    auto* r = req.mutable_mt_request();
    r->mutable_patient()->set_given_name("Maëlle");
    r->mutable_patient()->set_family_name("Synthetique-Dossier");
    r->mutable_patient()->mutable_birth_date()->set_year(1961);
    r->mutable_patient()->mutable_birth_date()->set_month(9);
    r->mutable_patient()->mutable_birth_date()->set_day(3);
    r->set_commune_insee(kCommunes[0]);
    r->mutable_contact()->set_phone("06 98 76 54 32");
    r->set_origin(origin);
    r->mutable_consent()->set_granted(true);
    return req;
  }

  // A request proposed to gp_.
  v1::MtRequest ProposedToGp() {
    Declare(gp_);
    v1::SubmitMtRequestResponse submitted;
    grpc::Status st = access_->SubmitMtRequest(
        Ctx(Token({"triage_nurse"})).get(), SubmitRequest(v1::MT_ORIGIN_PROFESSIONAL), &submitted);
    EXPECT_TRUE(st.ok()) << st.error_message();
    v1::TriageMtRequestRequest triage;
    triage.set_mt_request_id(submitted.mt_request().id());
    triage.set_synthesis("Synthèse de test.");
    v1::TriageMtRequestResponse triaged;
    st = access_->TriageMtRequest(Ctx(Token({"triage_nurse"})).get(), triage, &triaged);
    EXPECT_TRUE(st.ok()) << st.error_message();
    v1::AssignMatchRequest assign;
    assign.set_mt_request_id(submitted.mt_request().id());
    assign.set_gp_member_id(gp_);
    v1::AssignMatchResponse assigned;
    st = access_->AssignMatch(Ctx(Token({"coordinator"})).get(), assign, &assigned);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return assigned.mt_request();
  }

  v1::Slot Publish(v1::Visibility visibility, int hours_ahead) {
    v1::PublishSlotsRequest req;
    v1::Slot* s = req.add_slots();
    SetTime(Ahead(hours_ahead), s->mutable_start_time());
    s->mutable_duration()->set_seconds(int64_t{15} * 60);
    s->set_mode(v1::CONSULTATION_MODE_OFFICE);
    s->mutable_place()->set_commune_insee(kCommunes[0]);
    s->mutable_place()->set_address("12 rue des Essais");
    s->set_visibility(visibility);
    s->set_kind(v1::SLOT_KIND_BOOKABLE);
    v1::PublishSlotsResponse resp;
    const grpc::Status st = access_->PublishSlots(Ctx(Token({"member"}, gp_)).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.slots_size() == 1 ? resp.slots(0) : v1::Slot{};
  }

  static v1::BookSlotRequest BookRequest(const std::string& slot_id) {
    v1::BookSlotRequest req;
    req.set_slot_id(slot_id);
    req.mutable_patient()->set_given_name("Noé");
    req.mutable_patient()->set_family_name("Synthetique-Rdv");
    req.mutable_patient()->mutable_birth_date()->set_year(1990);
    req.mutable_patient()->mutable_birth_date()->set_month(1);
    req.mutable_patient()->mutable_birth_date()->set_day(20);
    req.mutable_contact()->set_email("noe@example.org");
    req.set_reason("renouvellement");
    return req;
  }

  // The audit rows of a resource with this action and outcome, by actor subject.
  std::multiset<std::string> AuditActors(const std::string& type, const std::string& id,
                                         const std::string& action,
                                         const std::string& outcome) const {
    std::multiset<std::string> out;
    for (const auto& row : AuditRows(type, id)) {
      if (row.action == action && row.outcome == outcome) out.insert(row.actor_subject);
    }
    return out;
  }

  std::string GpRpps() const {
    membership::v1::GetMemberRequest req;
    req.set_member_id(gp_);
    membership::v1::GetMemberResponse resp;
    const grpc::Status st = membership_->GetMember(Ctx(Token({"coordinator"})).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.member().rpps();
  }

  // A territory of one link and one commune named `name` (kCommunes[0]).
  static v1::UpdateTerritoryRequest TerritoryRequest(const std::string& name) {
    v1::UpdateTerritoryRequest req;
    v1::CommuneLink* link = req.mutable_territory()->add_links();
    link->set_commune_a(kCommunes[0]);
    link->set_commune_b(kCommunes[1]);
    link->set_distance(2);
    v1::Commune* commune = req.mutable_territory()->add_communes();
    commune->set_insee_code(kCommunes[0]);
    commune->set_name(name);
    commune->set_postal_code("33999");
    return req;
  }

  // Sets the territory of `tenant` (default: the test's) as its coordinator.
  v1::Territory SetTerritory(const std::string& name, const std::string& tenant = "") {
    v1::UpdateTerritoryResponse resp;
    const std::string token =
        tenant.empty() ? Token({"coordinator"}) : TokenFor(tenant, {"coordinator"});
    const grpc::Status st =
        access_->UpdateTerritory(Ctx(token).get(), TerritoryRequest(name), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.territory();
  }

  std::string gp_;
  std::string other_gp_;
  std::string pharmacist_;
  std::string other_tenant_;
};

TEST_F(AccessAuthzE2e, OnlyStaffAndTheProposedGpReadAnMtRequestAndEveryDenialIsAudited) {
  const v1::MtRequest request = ProposedToGp();
  ASSERT_FALSE(request.id().empty());
  const std::set<std::string> readers = {"coordinator", "triage_nurse", "gp"};
  std::multiset<std::string> denied_subjects;
  int allowed = 0;
  for (const Caller& c : Everyone()) {
    for (v1::MtRequestView view : {v1::MT_REQUEST_VIEW_FULL, v1::MT_REQUEST_VIEW_BASIC}) {
      v1::GetMtRequestRequest req;
      req.set_mt_request_id(request.id());
      req.set_view(view);
      v1::GetMtRequestResponse resp;
      const grpc::Status st = access_->GetMtRequest(Ctx(c.token).get(), req, &resp);
      if (readers.count(c.name) == 1) {
        ASSERT_TRUE(st.ok()) << c.name << ": " << st.error_message();
        EXPECT_EQ(resp.mt_request().id(), request.id());
        if (view == v1::MT_REQUEST_VIEW_FULL) {
          EXPECT_EQ(resp.mt_request().patient().family_name(), "Synthetique-Dossier") << c.name;
          EXPECT_EQ(resp.mt_request().contact().phone(), "+33698765432") << c.name;
          ++allowed;
        } else {
          // The basic view decrypts no patient field (and so is not a patient read).
          EXPECT_FALSE(resp.mt_request().has_patient()) << c.name;
        }
      } else {
        EXPECT_EQ(st.error_code(), StatusCode::PERMISSION_DENIED)
            << c.name << ": " << st.error_message();
        EXPECT_FALSE(resp.has_mt_request()) << c.name;
        denied_subjects.insert(c.subject);
      }
    }
  }
  // Another CPTS's coordinator: the request does not exist for them.
  v1::GetMtRequestRequest req;
  req.set_mt_request_id(request.id());
  v1::GetMtRequestResponse resp;
  const grpc::Status foreign =
      access_->GetMtRequest(Ctx(OtherTenant("coordinator").token).get(), req, &resp);
  EXPECT_EQ(foreign.error_code(), StatusCode::NOT_FOUND) << foreign.error_message();
  EXPECT_FALSE(resp.has_mt_request());

  EXPECT_EQ(AuditActors("mt_request", request.id(), "access.mt_request.read", "denied"),
            denied_subjects);
  EXPECT_EQ(static_cast<int>(
                AuditActors("mt_request", request.id(), "access.mt_request.read", "ok").size()),
            allowed);

  // Once the GP declines, the request is no longer theirs to read.
  v1::DeclineMatchRequest decline;
  decline.set_mt_request_id(request.id());
  decline.set_reason("Patientèle complète");
  v1::DeclineMatchResponse declined;
  ASSERT_TRUE(access_->DeclineMatch(Ctx(Token({"member"}, gp_)).get(), decline, &declined).ok());
  EXPECT_FALSE(declined.mt_request().has_patient());
  EXPECT_EQ(access_->GetMtRequest(Ctx(Token({"member"}, gp_)).get(), req, &resp).error_code(),
            StatusCode::PERMISSION_DENIED);
}

TEST_F(AccessAuthzE2e, OnlyTheBookerTheProfessionalCoordinatorAndSecretaryReadABooking) {
  const v1::Slot slot = Publish(v1::VISIBILITY_PRO, 30);
  ASSERT_FALSE(slot.id().empty());
  v1::BookSlotResponse booked;
  ASSERT_TRUE(
      access_->BookSlot(Ctx(Token({"member"}, pharmacist_)).get(), BookRequest(slot.id()), &booked)
          .ok());
  const std::string booking_id = booked.booking().id();
  const std::set<std::string> readers = {"pharmacist", "gp", "coordinator", "secretary"};
  std::multiset<std::string> denied_subjects;
  for (const Caller& c : Everyone()) {
    v1::GetBookingRequest req;
    req.set_booking_id(booking_id);
    v1::GetBookingResponse resp;
    const grpc::Status st = access_->GetBooking(Ctx(c.token).get(), req, &resp);
    if (readers.count(c.name) == 1) {
      ASSERT_TRUE(st.ok()) << c.name << ": " << st.error_message();
      EXPECT_EQ(resp.booking().patient().family_name(), "Synthetique-Rdv") << c.name;
      EXPECT_EQ(resp.booking().contact().email(), "noe@example.org") << c.name;
    } else {
      EXPECT_EQ(st.error_code(), StatusCode::PERMISSION_DENIED)
          << c.name << ": " << st.error_message();
      EXPECT_FALSE(resp.has_booking()) << c.name;
      denied_subjects.insert(c.subject);
    }
  }
  v1::GetBookingRequest req;
  req.set_booking_id(booking_id);
  v1::GetBookingResponse resp;
  const grpc::Status foreign =
      access_->GetBooking(Ctx(OtherTenant("coordinator").token).get(), req, &resp);
  EXPECT_EQ(foreign.error_code(), StatusCode::NOT_FOUND) << foreign.error_message();
  EXPECT_FALSE(resp.has_booking());

  EXPECT_EQ(AuditActors("booking", booking_id, "access.booking.read", "denied"), denied_subjects);
  EXPECT_EQ(AuditActors("booking", booking_id, "access.booking.read", "ok").size(), readers.size());
  EXPECT_EQ(AuditActors("booking", booking_id, "access.booking.create", "ok"),
            std::multiset<std::string>{"user-" + pharmacist_});
}

// Per RPC: the callers refused (PERMISSION_DENIED) and the callers let in (OK), on reads; on
// writes the refused callers only, and then nothing changed.
TEST_F(AccessAuthzE2e, EachRpcLetsInItsRolesOnly) {
  Declare(gp_);
  v1::SubmitMtRequestResponse submitted;
  ASSERT_TRUE(access_
                  ->SubmitMtRequest(Ctx(Token({"triage_nurse"})).get(),
                                    SubmitRequest(v1::MT_ORIGIN_PROFESSIONAL), &submitted)
                  .ok());
  const v1::MtRequest mt = submitted.mt_request();
  const v1::Slot slot = Publish(v1::VISIBILITY_PUBLIC, 40);
  const v1::Slot booked_slot = Publish(v1::VISIBILITY_PRO, 42);
  v1::BookSlotResponse booked;
  ASSERT_TRUE(access_
                  ->BookSlot(Ctx(Token({"member"}, pharmacist_)).get(),
                             BookRequest(booked_slot.id()), &booked)
                  .ok());
  const std::string booking_id = booked.booking().id();
  const v1::Territory territory = SetTerritory("Bourg-des-Essais");
  ASSERT_EQ(territory.communes_size(), 1);

  using Call = std::function<grpc::Status(const std::string& token)>;
  struct Row {
    std::string rpc;
    Call call;
    std::set<std::string> allowed;  // OK; everyone else of the tenant: PERMISSION_DENIED
  };
  const std::string& mt_id = mt.id();
  const std::string gp = gp_;
  auto period = [](v1::Period* p) {
    SetDay(Today() - 7, p->mutable_start_date());
    SetDay(Today(), p->mutable_end_date());
  };
  const std::vector<Row> reads = {
      {"ListMtQueue",
       [](const std::string& t) {
         v1::ListMtQueueRequest r;
         v1::ListMtQueueResponse out;
         return access_->ListMtQueue(Ctx(t).get(), r, &out);
       },
       {"coordinator", "triage_nurse"}},
      {"ProposeMatch",
       [mt_id](const std::string& t) {
         v1::ProposeMatchRequest r;
         r.set_mt_request_id(mt_id);
         v1::ProposeMatchResponse out;
         return access_->ProposeMatch(Ctx(t).get(), r, &out);
       },
       {"coordinator", "triage_nurse"}},
      {"GetGpCapacity",
       [gp](const std::string& t) {
         v1::GetGpCapacityRequest r;
         r.set_gp_member_id(gp);
         v1::GetGpCapacityResponse out;
         return access_->GetGpCapacity(Ctx(t).get(), r, &out);
       },
       {"coordinator", "triage_nurse", "gp"}},
      {"ListGpCapacities",
       [](const std::string& t) {
         v1::ListGpCapacitiesRequest r;
         v1::ListGpCapacitiesResponse out;
         return access_->ListGpCapacities(Ctx(t).get(), r, &out);
       },
       {"coordinator", "triage_nurse"}},
      {"GetMtIndicators",
       [period](const std::string& t) {
         v1::GetMtIndicatorsRequest r;
         period(r.mutable_period());
         v1::GetMtIndicatorsResponse out;
         return access_->GetMtIndicators(Ctx(t).get(), r, &out);
       },
       {"coordinator", "bureau_member", "reporting"}},
      {"GetSnpIndicators",
       [period](const std::string& t) {
         v1::GetSnpIndicatorsRequest r;
         period(r.mutable_period());
         v1::GetSnpIndicatorsResponse out;
         return access_->GetSnpIndicators(Ctx(t).get(), r, &out);
       },
       {"coordinator", "bureau_member", "reporting"}},
      {"GetTerritory",
       [](const std::string& t) {
         v1::GetTerritoryResponse out;
         grpc::Status st = access_->GetTerritory(Ctx(t).get(), v1::GetTerritoryRequest(), &out);
         // Let in: the whole territory; refused: nothing of it.
         if (st.ok() && out.territory().communes_size() != 1) {
           return grpc::Status(grpc::StatusCode::DATA_LOSS, "territory not returned");
         }
         if (!st.ok() && out.has_territory()) {
           return grpc::Status(grpc::StatusCode::DATA_LOSS, "territory leaked");
         }
         return st;
       },
       {"coordinator", "triage_nurse"}},
  };
  for (const Row& row : reads) {
    for (const Caller& c : Everyone()) {
      const grpc::Status st = row.call(c.token);
      if (row.allowed.count(c.name) == 1) {
        EXPECT_TRUE(st.ok()) << row.rpc << " by " << c.name << ": " << st.error_message();
      } else {
        EXPECT_EQ(st.error_code(), StatusCode::PERMISSION_DENIED)
            << row.rpc << " by " << c.name << ": " << st.error_code() << " " << st.error_message();
      }
    }
  }

  // Writes: the refused callers only; the state is checked after.
  const std::string& slot_id = slot.id();
  const std::vector<Row> writes = {
      {"SubmitMtRequest",
       [](const std::string& t) {
         v1::SubmitMtRequestResponse out;
         return access_->SubmitMtRequest(Ctx(t).get(), SubmitRequest(v1::MT_ORIGIN_PROFESSIONAL),
                                         &out);
       },
       {"coordinator", "triage_nurse", "partner", "service", "gp", "other_gp", "pharmacist"}},
      {"TriageMtRequest",
       [mt_id](const std::string& t) {
         v1::TriageMtRequestRequest r;
         r.set_mt_request_id(mt_id);
         r.set_synthesis("Tentative");
         v1::TriageMtRequestResponse out;
         return access_->TriageMtRequest(Ctx(t).get(), r, &out);
       },
       {"coordinator", "triage_nurse"}},
      {"AssignMatch",
       [mt_id, gp](const std::string& t) {
         v1::AssignMatchRequest r;
         r.set_mt_request_id(mt_id);
         r.set_gp_member_id(gp);
         v1::AssignMatchResponse out;
         return access_->AssignMatch(Ctx(t).get(), r, &out);
       },
       {"coordinator"}},
      {"AcceptMatch",
       [mt_id](const std::string& t) {
         v1::AcceptMatchRequest r;
         r.set_mt_request_id(mt_id);
         v1::AcceptMatchResponse out;
         return access_->AcceptMatch(Ctx(t).get(), r, &out);
       },
       {"coordinator", "gp", "other_gp", "pharmacist"}},
      {"MarkUnreachable",
       [mt_id](const std::string& t) {
         v1::MarkUnreachableRequest r;
         r.set_mt_request_id(mt_id);
         v1::MarkUnreachableResponse out;
         return access_->MarkUnreachable(Ctx(t).get(), r, &out);
       },
       {"coordinator", "triage_nurse"}},
      {"CloseMtRequest",
       [mt_id](const std::string& t) {
         v1::CloseMtRequestRequest r;
         r.set_mt_request_id(mt_id);
         r.set_reason("Tentative");
         v1::CloseMtRequestResponse out;
         return access_->CloseMtRequest(Ctx(t).get(), r, &out);
       },
       {"coordinator"}},
      {"DeclareGpCapacity",
       [gp](const std::string& t) {
         v1::DeclareGpCapacityRequest r;
         r.mutable_gp_capacity()->set_gp_member_id(gp);
         r.mutable_gp_capacity()->set_declared_count(1);
         SetDay(Today() + 5, r.mutable_gp_capacity()->mutable_valid_until());
         r.mutable_gp_capacity()->add_communes(kCommunes[0]);
         r.mutable_gp_capacity()->add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
         v1::DeclareGpCapacityResponse out;
         return access_->DeclareGpCapacity(Ctx(t).get(), r, &out);
       },
       {"coordinator", "gp"}},
      {"PublishSlots for the GP",
       [gp](const std::string& t) {
         v1::PublishSlotsRequest r;
         v1::Slot* s = r.add_slots();
         s->set_professional_member_id(gp);
         SetTime(Ahead(50), s->mutable_start_time());
         s->mutable_duration()->set_seconds(600);
         s->set_mode(v1::CONSULTATION_MODE_VIDEO);
         s->set_visibility(v1::VISIBILITY_PUBLIC);
         s->set_kind(v1::SLOT_KIND_BOOKABLE);
         v1::PublishSlotsResponse out;
         return access_->PublishSlots(Ctx(t).get(), r, &out);
       },
       {"coordinator", "secretary", "gp"}},
      {"WithdrawSlot",
       [slot_id](const std::string& t) {
         v1::WithdrawSlotRequest r;
         r.set_slot_id(slot_id);
         v1::WithdrawSlotResponse out;
         return access_->WithdrawSlot(Ctx(t).get(), r, &out);
       },
       {"coordinator", "secretary", "gp"}},
      {"BookSlot",
       [slot_id](const std::string& t) {
         v1::BookSlotResponse out;
         return access_->BookSlot(Ctx(t).get(), BookRequest(slot_id), &out);
       },
       {"coordinator", "secretary", "sas_regulator", "gp", "other_gp", "pharmacist"}},
      {"CancelBooking",
       [booking_id](const std::string& t) {
         v1::CancelBookingRequest r;
         r.set_booking_id(booking_id);
         r.set_reason("Tentative");
         v1::CancelBookingResponse out;
         return access_->CancelBooking(Ctx(t).get(), r, &out);
       },
       {"coordinator", "secretary", "gp", "pharmacist"}},
      {"RecordOutcome",
       [booking_id](const std::string& t) {
         v1::RecordOutcomeRequest r;
         r.set_booking_id(booking_id);
         r.set_outcome(v1::BOOKING_OUTCOME_FULFILLED);
         v1::RecordOutcomeResponse out;
         return access_->RecordOutcome(Ctx(t).get(), r, &out);
       },
       {"coordinator", "secretary", "gp"}},
      {"UpdateTerritory",
       [](const std::string& t) {
         v1::UpdateTerritoryResponse out;
         return access_->UpdateTerritory(Ctx(t).get(), TerritoryRequest("Tentative"), &out);
       },
       {"coordinator"}},
  };
  std::multiset<std::string> denied_bookers;
  std::multiset<std::string> denied_updates;
  for (const Row& row : writes) {
    for (const Caller& c : Everyone()) {
      if (row.allowed.count(c.name) == 1) continue;
      const grpc::Status st = row.call(c.token);
      EXPECT_EQ(st.error_code(), StatusCode::PERMISSION_DENIED)
          << row.rpc << " by " << c.name << ": " << st.error_code() << " " << st.error_message();
      if (row.rpc == "BookSlot") denied_bookers.insert(c.subject);
      if (row.rpc == "CancelBooking" || row.rpc == "RecordOutcome") {
        denied_updates.insert(c.subject);
      }
    }
  }
  // The public form submits only as the public form.
  v1::SubmitMtRequestResponse out;
  EXPECT_EQ(access_
                ->SubmitMtRequest(Ctx(Token({"public_form"})).get(),
                                  SubmitRequest(v1::MT_ORIGIN_PUBLIC_FORM), &out)
                .error_code(),
            StatusCode::OK);

  // Nothing changed by the refused calls.
  EXPECT_EQ(QueryColumn(
                absl::StrCat("SELECT COUNT(*) FROM mt_requests WHERE tenant_id = '", tenant_, "'")),
            std::vector<std::string>{"2"});
  v1::GetMtRequestRequest get;
  get.set_mt_request_id(mt.id());
  v1::GetMtRequestResponse after;
  ASSERT_TRUE(access_->GetMtRequest(Ctx(Token({"coordinator"})).get(), get, &after).ok());
  EXPECT_EQ(after.mt_request().etag(), mt.etag());
  v1::GetGpCapacityRequest cap;
  cap.set_gp_member_id(gp_);
  v1::GetGpCapacityResponse capacity;
  ASSERT_TRUE(access_->GetGpCapacity(Ctx(Token({"coordinator"})).get(), cap, &capacity).ok());
  EXPECT_EQ(capacity.gp_capacity().declared_count(), 5);
  v1::GetSlotRequest gs;
  gs.set_slot_id(slot.id());
  v1::GetSlotResponse slot_after;
  ASSERT_TRUE(access_->GetSlot(Ctx(Token({"coordinator"})).get(), gs, &slot_after).ok());
  EXPECT_EQ(slot_after.slot().status(), v1::SLOT_STATUS_FREE);
  EXPECT_EQ(
      QueryColumn(absl::StrCat("SELECT COUNT(*) FROM snp_slots WHERE tenant_id = '", tenant_, "'")),
      std::vector<std::string>{"2"});
  v1::GetBookingRequest gb;
  gb.set_booking_id(booking_id);
  v1::GetBookingResponse booking_after;
  ASSERT_TRUE(access_->GetBooking(Ctx(Token({"coordinator"})).get(), gb, &booking_after).ok());
  EXPECT_EQ(booking_after.booking().state(), v1::BOOKING_STATE_BOOKED);
  EXPECT_EQ(booking_after.booking().etag(), booked.booking().etag());
  v1::GetTerritoryResponse territory_after;
  ASSERT_TRUE(access_
                  ->GetTerritory(Ctx(Token({"coordinator"})).get(), v1::GetTerritoryRequest(),
                                 &territory_after)
                  .ok());
  EXPECT_EQ(territory_after.territory().SerializeAsString(), territory.SerializeAsString());

  // Refused attempts at patient data are audited.
  EXPECT_EQ(AuditActors("booking", slot.id(), "access.booking.create", "denied"), denied_bookers);
  EXPECT_EQ(AuditActors("booking", booking_id, "access.booking.update", "denied"), denied_updates);
}

TEST_F(AccessAuthzE2e, AnotherTenantNeverGetsTheData) {
  Declare(gp_);
  const v1::MtRequest mt = ProposedToGp();
  const v1::Slot slot = Publish(v1::VISIBILITY_PUBLIC, 20);
  v1::BookSlotResponse booked;
  ASSERT_TRUE(access_
                  ->BookSlot(Ctx(Token({"coordinator"})).get(),
                             BookRequest(Publish(v1::VISIBILITY_PUBLIC, 22).id()), &booked)
                  .ok());
  const std::string foreign = TokenFor(other_tenant_, {"coordinator"});
  // The same member id under another tenant's token is not the GP of this tenant.
  const std::string foreign_gp = TokenFor(other_tenant_, {"member"}, gp_);

  v1::ListMtQueueRequest list;
  v1::ListMtQueueResponse queue;
  ASSERT_TRUE(access_->ListMtQueue(Ctx(foreign).get(), list, &queue).ok());
  EXPECT_EQ(queue.mt_requests_size(), 0);
  v1::GetMtRequestRequest get;
  get.set_mt_request_id(mt.id());
  v1::GetMtRequestResponse got;
  EXPECT_EQ(access_->GetMtRequest(Ctx(foreign_gp).get(), get, &got).error_code(),
            StatusCode::NOT_FOUND);
  v1::AcceptMatchRequest accept;
  accept.set_mt_request_id(mt.id());
  v1::AcceptMatchResponse accepted;
  EXPECT_EQ(access_->AcceptMatch(Ctx(foreign_gp).get(), accept, &accepted).error_code(),
            StatusCode::NOT_FOUND);
  v1::GetGpCapacityRequest cap;
  cap.set_gp_member_id(gp_);
  v1::GetGpCapacityResponse capacity;
  EXPECT_EQ(access_->GetGpCapacity(Ctx(foreign).get(), cap, &capacity).error_code(),
            StatusCode::NOT_FOUND);
  v1::ListGpCapacitiesRequest caps;
  v1::ListGpCapacitiesResponse caps_out;
  ASSERT_TRUE(access_->ListGpCapacities(Ctx(foreign).get(), caps, &caps_out).ok());
  EXPECT_EQ(caps_out.gp_capacities_size(), 0);

  v1::SearchSlotsRequest search;
  SetTime(absl::Now(), search.mutable_start_time());
  SetTime(absl::Now() + absl::Hours(72), search.mutable_end_time());
  v1::SearchSlotsResponse found;
  ASSERT_TRUE(access_->SearchSlots(Ctx(foreign).get(), search, &found).ok());
  EXPECT_EQ(found.slots_size(), 0);
  ASSERT_TRUE(access_->SearchSlots(Ctx(Token({"coordinator"})).get(), search, &found).ok());
  EXPECT_EQ(found.slots_size(), 1);  // the other one is booked
  v1::GetSlotRequest gs;
  gs.set_slot_id(slot.id());
  v1::GetSlotResponse slot_out;
  EXPECT_EQ(access_->GetSlot(Ctx(foreign).get(), gs, &slot_out).error_code(),
            StatusCode::NOT_FOUND);
  v1::BookSlotResponse foreign_booking;
  EXPECT_EQ(
      access_->BookSlot(Ctx(foreign).get(), BookRequest(slot.id()), &foreign_booking).error_code(),
      StatusCode::NOT_FOUND);
  v1::CancelBookingRequest cancel;
  cancel.set_booking_id(booked.booking().id());
  cancel.set_reason("Tentative");
  v1::CancelBookingResponse cancelled;
  EXPECT_EQ(access_->CancelBooking(Ctx(foreign).get(), cancel, &cancelled).error_code(),
            StatusCode::NOT_FOUND);

  // The territory: the other CPTS's coordinator does not see this one's, and setting theirs
  // leaves this one's alone.
  const v1::Territory territory = SetTerritory("Bourg-des-Essais");
  v1::GetTerritoryResponse foreign_territory;
  ASSERT_TRUE(
      access_->GetTerritory(Ctx(foreign).get(), v1::GetTerritoryRequest(), &foreign_territory)
          .ok());
  EXPECT_EQ(foreign_territory.territory().communes_size(), 0);
  EXPECT_EQ(foreign_territory.territory().links_size(), 0);
  EXPECT_FALSE(foreign_territory.territory().has_update_time());
  SetTerritory("Bourg-Voisin", other_tenant_);
  v1::GetTerritoryResponse own_territory;
  ASSERT_TRUE(access_
                  ->GetTerritory(Ctx(Token({"triage_nurse"})).get(), v1::GetTerritoryRequest(),
                                 &own_territory)
                  .ok());
  EXPECT_EQ(own_territory.territory().SerializeAsString(), territory.SerializeAsString());

  // The SAS regulator of the other CPTS finds none of this CPTS's slots in FHIR either.
  httplib::Client http("127.0.0.1", fhir_port());
  const std::string path = absl::StrCat(
      "/fhir/Slot?start=ge",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()), "&start=le",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(72), absl::UTCTimeZone()),
      "&schedule.actor:Practitioner.identifier=", GpRpps(),
      "&status=free&_include=Slot:schedule&_include:iterate=Schedule:actor");
  // This CPTS's regulator finds the free slot, its Location in this CPTS's commune names;
  // the other CPTS's regulator does not.
  auto own = http.Get(path, {{"Authorization", "Bearer " + Token({"sas_regulator"})}});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  EXPECT_TRUE(absl::StrContains(own->body, slot.id())) << own->body;
  EXPECT_TRUE(absl::StrContains(own->body, R"("city":"Bourg-des-Essais")")) << own->body;
  EXPECT_FALSE(absl::StrContains(own->body, "Bourg-Voisin")) << own->body;
  auto res =
      http.Get(path, {{"Authorization", "Bearer " + TokenFor(other_tenant_, {"sas_regulator"})}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_FALSE(absl::StrContains(res->body, slot.id())) << res->body;
}

TEST_F(AccessAuthzE2e, TokensThatDoNotAuthenticateAreRefused) {
  auto other_key = testing::TestTokens::Create();
  ASSERT_TRUE(other_key.ok()) << other_key.status();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"expired", Mint({.roles = {"coordinator"},
                        .tenant_id = tenant_,
                        .subject = "user-expired",
                        .ttl = absl::Minutes(5),
                        .issued_at = absl::Now() - absl::Hours(2)})},
      {"wrong audience", Mint({.roles = {"coordinator"},
                               .tenant_id = tenant_,
                               .subject = "user-aud",
                               .audience = "another-service"})},
      {"another key", other_key->Mint({.roles = {"coordinator"}, .tenant_id = tenant_})},
      {"garbage", "not.a.jwt"},
      {"none", ""},
  };
  httplib::Client http("127.0.0.1", fhir_port());
  for (const auto& [name, token] : bad) {
    v1::ListMtQueueRequest list;
    v1::ListMtQueueResponse queue;
    EXPECT_EQ(access_->ListMtQueue(Ctx(token).get(), list, &queue).error_code(),
              StatusCode::UNAUTHENTICATED)
        << name;
    v1::GetBookingRequest gb;
    gb.set_booking_id("b-1");
    v1::GetBookingResponse booking;
    EXPECT_EQ(access_->GetBooking(Ctx(token).get(), gb, &booking).error_code(),
              StatusCode::UNAUTHENTICATED)
        << name;
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = http.Get("/fhir/Slot?status=free", headers);
    ASSERT_TRUE(res) << name;
    EXPECT_EQ(res->status, 401) << name << ": " << res->body;
  }
}

}  // namespace
}  // namespace cpts::e2e
