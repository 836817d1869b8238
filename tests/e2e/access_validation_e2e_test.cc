// Bad input on every field of every access RPC that has a rule, end to end through gRPC with
// real tokens: the answer is INVALID_ARGUMENT whose message starts with the field's name as
// in the request ("mt_request.patient.birth_date: ..."), and nothing changed (checked by a
// count or a follow-up read after each table).
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/access_fixture.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::access::v1;

// One bad request: the field its error must name, and the call.
struct BadCase {
  std::string field;
  std::function<grpc::Status()> call;
};

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(0);
}

// A whole minute, `hours` from now.
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

void SetDate(int year, int month, int day, common::v1::Date* out) {
  out->set_year(year);
  out->set_month(month);
  out->set_day(day);
}

std::string Chars(size_t n) { return std::string(n, 'a'); }

// Runs every case: INVALID_ARGUMENT naming the field first in the message.
void ExpectAllInvalid(const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    const grpc::Status st = c.call();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.field << " -> " << st.error_code() << " " << st.error_message();
    EXPECT_TRUE(absl::StartsWith(st.error_message(), c.field + ":"))
        << "expected the message to name " << c.field << ", got: " << st.error_message();
  }
}

class AccessValidationE2e : public AccessE2e {
 protected:
  void SetUp() override {
    AccessE2e::SetUp();
    gp_ = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
  }

  std::string Count(const std::string& table) const {
    const std::vector<std::string> rows = QueryColumn(
        absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE tenant_id = '", tenant_, "'"));
    return rows.size() == 1 ? rows[0] : "?";
  }

  static v1::SubmitMtRequestRequest ValidSubmit() {
    v1::SubmitMtRequestRequest req;
    auto* r = req.mutable_mt_request();
    r->mutable_patient()->set_given_name("Louise");
    r->mutable_patient()->set_family_name("Exemple-Valide");
    SetDate(1950, 3, 14, r->mutable_patient()->mutable_birth_date());
    r->mutable_patient()->set_sex(v1::SEX_FEMALE);
    r->set_commune_insee(kCommunes[0]);
    r->mutable_contact()->set_phone("06 11 22 33 44");
    r->mutable_contact()->set_email("louise@example.org");
    r->set_origin(v1::MT_ORIGIN_PROFESSIONAL);
    r->mutable_consent()->set_granted(true);
    return req;
  }

  v1::MtRequest Submit() {
    v1::SubmitMtRequestResponse resp;
    const grpc::Status st =
        access_->SubmitMtRequest(Ctx(Token({"triage_nurse"})).get(), ValidSubmit(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.mt_request();
  }

  static v1::DeclareGpCapacityRequest ValidDeclare() {
    v1::DeclareGpCapacityRequest req;
    auto* c = req.mutable_gp_capacity();
    c->set_declared_count(3);
    SetDay(Today() + 30, c->mutable_valid_until());
    c->add_communes(kCommunes[0]);
    c->add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
    return req;
  }

  static v1::Slot ValidSlot(absl::Time start) {
    v1::Slot s;
    SetTime(start, s.mutable_start_time());
    s.mutable_duration()->set_seconds(int64_t{20} * 60);
    s.set_mode(v1::CONSULTATION_MODE_OFFICE);
    s.mutable_place()->set_commune_insee(kCommunes[0]);
    s.mutable_place()->set_address("3 place de la Mairie");
    s.set_visibility(v1::VISIBILITY_PRO);
    s.set_kind(v1::SLOT_KIND_BOOKABLE);
    return s;
  }

  v1::Slot Publish(absl::Time start) {
    v1::PublishSlotsRequest req;
    *req.add_slots() = ValidSlot(start);
    v1::PublishSlotsResponse resp;
    const grpc::Status st = access_->PublishSlots(Ctx(Token({"member"}, gp_)).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.slots_size() == 1 ? resp.slots(0) : v1::Slot{};
  }

  static v1::BookSlotRequest ValidBook(const std::string& slot_id) {
    v1::BookSlotRequest req;
    req.set_slot_id(slot_id);
    req.mutable_patient()->set_given_name("Alice");
    req.mutable_patient()->set_family_name("Exemple-Reserve");
    SetDate(1980, 5, 17, req.mutable_patient()->mutable_birth_date());
    req.mutable_contact()->set_phone("06 12 34 56 78");
    req.set_reason("fièvre");
    return req;
  }

  std::string gp_;
};

TEST_F(AccessValidationE2e, SubmitMtRequestNamesEveryBadFieldAndStoresNothing) {
  const std::string nurse = Token({"triage_nurse"});
  auto submit = [nurse](const std::function<void(v1::SubmitMtRequestRequest&)>& mutate) {
    return [nurse, mutate]() {
      v1::SubmitMtRequestRequest req = ValidSubmit();
      mutate(req);
      v1::SubmitMtRequestResponse resp;
      return access_->SubmitMtRequest(Ctx(nurse).get(), req, &resp);
    };
  };
  auto mt = [](v1::SubmitMtRequestRequest& r) { return r.mutable_mt_request(); };
  const absl::CivilDay today = Today();
  const std::vector<BadCase> cases = {
      {"mt_request.patient.given_name",
       submit([&](auto& r) { mt(r)->mutable_patient()->set_given_name("  "); })},
      {"mt_request.patient.given_name",
       submit([&](auto& r) { mt(r)->mutable_patient()->set_given_name(Chars(101)); })},
      {"mt_request.patient.given_name",
       submit([&](auto& r) { mt(r)->mutable_patient()->set_given_name("Lou\x01ise"); })},
      {"mt_request.patient.family_name",
       submit([&](auto& r) { mt(r)->mutable_patient()->clear_family_name(); })},
      {"mt_request.patient.family_name",
       submit([&](auto& r) { mt(r)->mutable_patient()->set_family_name(" \t "); })},
      {"mt_request.patient.birth_date",
       submit([&](auto& r) { mt(r)->mutable_patient()->clear_birth_date(); })},
      {"mt_request.patient.birth_date", submit([&](auto& r) {
         SetDate(2001, 2, 30, mt(r)->mutable_patient()->mutable_birth_date());
       })},
      {"mt_request.patient.birth_date",
       submit([&](auto& r) { SetDay(today + 1, mt(r)->mutable_patient()->mutable_birth_date()); })},
      {"mt_request.patient.birth_date", submit([&](auto& r) {
         SetDate(1890, 1, 1, mt(r)->mutable_patient()->mutable_birth_date());
       })},
      {"mt_request.patient.sex",
       submit([&](auto& r) { mt(r)->mutable_patient()->set_sex(static_cast<v1::Sex>(9)); })},
      {"mt_request.commune_insee", submit([&](auto& r) { mt(r)->clear_commune_insee(); })},
      {"mt_request.commune_insee", submit([&](auto& r) { mt(r)->set_commune_insee("ABCDE"); })},
      {"mt_request.commune_insee", submit([&](auto& r) { mt(r)->set_commune_insee("331"); })},
      {"mt_request.contact.phone",
       submit([&](auto& r) { mt(r)->mutable_contact()->set_phone("pas un numéro"); })},
      {"mt_request.contact.email",
       submit([&](auto& r) { mt(r)->mutable_contact()->set_email("louise@"); })},
      {"mt_request.contact", submit([&](auto& r) { mt(r)->clear_contact(); })},
      {"mt_request.fragility.notes",
       submit([&](auto& r) { mt(r)->mutable_fragility()->set_notes(Chars(2001)); })},
      {"mt_request.fragility.notes", submit([&](auto& r) {
         mt(r)->mutable_fragility()->set_notes(
             "a\x07"
             "b");
       })},
      {"mt_request.origin", submit([&](auto& r) { mt(r)->clear_origin(); })},
      {"mt_request.origin",
       submit([&](auto& r) { mt(r)->set_origin(static_cast<v1::MtOrigin>(42)); })},
      {"mt_request.origin_detail",
       submit([&](auto& r) { mt(r)->set_origin_detail("deux\nlignes"); })},
      {"mt_request.origin_detail", submit([&](auto& r) { mt(r)->set_origin_detail(Chars(201)); })},
      {"mt_request.consent.consent_time", submit([&](auto& r) {
         SetTime(absl::FromCivil(absl::CivilDay(1999, 12, 31), absl::UTCTimeZone()),
                 mt(r)->mutable_consent()->mutable_consent_time());
       })},
      {"mt_request.consent.consent_time", submit([&](auto& r) {
         SetTime(absl::Now() + absl::Hours(24), mt(r)->mutable_consent()->mutable_consent_time());
       })},
      {"mt_request.consent.consent_time", submit([&](auto& r) {
         mt(r)->mutable_consent()->mutable_consent_time()->set_seconds(1700000000);
         mt(r)->mutable_consent()->mutable_consent_time()->set_nanos(-1);
       })},
      {"request_id", submit([&](auto& r) { r.set_request_id(Chars(129)); })},
      {"request_id", submit([&](auto& r) { r.set_request_id("clé\n"); })},
  };
  ExpectAllInvalid(cases);

  // Without consent: FAILED_PRECONDITION naming the consent, nothing stored either.
  v1::SubmitMtRequestResponse resp;
  v1::SubmitMtRequestRequest no_consent = ValidSubmit();
  no_consent.mutable_mt_request()->mutable_consent()->set_granted(false);
  const grpc::Status st = access_->SubmitMtRequest(Ctx(nurse).get(), no_consent, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_TRUE(absl::StartsWith(st.error_message(), "mt_request.consent:")) << st.error_message();

  EXPECT_EQ(Count("mt_requests"), "0");
  // The valid request itself is accepted: the cases failed for their one bad field.
  ASSERT_TRUE(access_->SubmitMtRequest(Ctx(nurse).get(), ValidSubmit(), &resp).ok());
  EXPECT_EQ(Count("mt_requests"), "1");
}

TEST_F(AccessValidationE2e, MtWorkflowStepsNameEveryBadFieldAndChangeNothing) {
  ASSERT_TRUE(access_
                  ->DeclareGpCapacity(Ctx(Token({"member"}, gp_)).get(), ValidDeclare(),
                                      std::make_unique<v1::DeclareGpCapacityResponse>().get())
                  .ok());
  const v1::MtRequest request = Submit();
  ASSERT_FALSE(request.id().empty());
  const std::string& id = request.id();
  const std::string coordinator = Token({"coordinator"});
  const std::string nurse = Token({"triage_nurse"});
  const std::string gp = Token({"member"}, gp_);
  const std::string gp_member = gp_;

  // Each RPC with a valid request but for `mutate`, called as `token`.
  auto get = [&](const std::function<void(v1::GetMtRequestRequest&)>& mutate) {
    return [=]() {
      v1::GetMtRequestRequest req;
      req.set_mt_request_id(id);
      mutate(req);
      v1::GetMtRequestResponse resp;
      return access_->GetMtRequest(Ctx(nurse).get(), req, &resp);
    };
  };
  auto list = [&](const std::function<void(v1::ListMtQueueRequest&)>& mutate) {
    return [=]() {
      v1::ListMtQueueRequest req;
      mutate(req);
      v1::ListMtQueueResponse resp;
      return access_->ListMtQueue(Ctx(nurse).get(), req, &resp);
    };
  };
  auto triage = [&](const std::function<void(v1::TriageMtRequestRequest&)>& mutate) {
    return [=]() {
      v1::TriageMtRequestRequest req;
      req.set_mt_request_id(id);
      req.set_synthesis("Synthèse valide.");
      mutate(req);
      v1::TriageMtRequestResponse resp;
      return access_->TriageMtRequest(Ctx(nurse).get(), req, &resp);
    };
  };
  auto propose = [&](const std::function<void(v1::ProposeMatchRequest&)>& mutate) {
    return [=]() {
      v1::ProposeMatchRequest req;
      req.set_mt_request_id(id);
      mutate(req);
      v1::ProposeMatchResponse resp;
      return access_->ProposeMatch(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto assign = [&](const std::function<void(v1::AssignMatchRequest&)>& mutate) {
    return [=]() {
      v1::AssignMatchRequest req;
      req.set_mt_request_id(id);
      req.set_gp_member_id(gp_member);
      mutate(req);
      v1::AssignMatchResponse resp;
      return access_->AssignMatch(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto accept = [&](const std::function<void(v1::AcceptMatchRequest&)>& mutate) {
    return [=]() {
      v1::AcceptMatchRequest req;
      req.set_mt_request_id(id);
      mutate(req);
      v1::AcceptMatchResponse resp;
      return access_->AcceptMatch(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto decline = [&](const std::function<void(v1::DeclineMatchRequest&)>& mutate) {
    return [=]() {
      v1::DeclineMatchRequest req;
      req.set_mt_request_id(id);
      req.set_reason("Patientèle complète");
      mutate(req);
      v1::DeclineMatchResponse resp;
      return access_->DeclineMatch(Ctx(gp).get(), req, &resp);
    };
  };
  auto placed = [&](const std::function<void(v1::MarkPlacedRequest&)>& mutate) {
    return [=]() {
      v1::MarkPlacedRequest req;
      req.set_mt_request_id(id);
      mutate(req);
      v1::MarkPlacedResponse resp;
      return access_->MarkPlaced(Ctx(nurse).get(), req, &resp);
    };
  };
  auto unreachable = [&](const std::function<void(v1::MarkUnreachableRequest&)>& mutate) {
    return [=]() {
      v1::MarkUnreachableRequest req;
      req.set_mt_request_id(id);
      mutate(req);
      v1::MarkUnreachableResponse resp;
      return access_->MarkUnreachable(Ctx(nurse).get(), req, &resp);
    };
  };
  auto withdraw = [&](const std::function<void(v1::WithdrawMtRequestRequest&)>& mutate) {
    return [=]() {
      v1::WithdrawMtRequestRequest req;
      req.set_mt_request_id(id);
      mutate(req);
      v1::WithdrawMtRequestResponse resp;
      return access_->WithdrawMtRequest(Ctx(nurse).get(), req, &resp);
    };
  };
  auto close = [&](const std::function<void(v1::CloseMtRequestRequest&)>& mutate) {
    return [=]() {
      v1::CloseMtRequestRequest req;
      req.set_mt_request_id(id);
      req.set_reason("Doublon");
      mutate(req);
      v1::CloseMtRequestResponse resp;
      return access_->CloseMtRequest(Ctx(coordinator).get(), req, &resp);
    };
  };
  const std::string bad_id = "pas un id";
  const std::string long_id = std::string(65, 'x');
  const std::vector<BadCase> cases = {
      {"mt_request_id", get([](auto& r) { r.clear_mt_request_id(); })},
      {"mt_request_id", get([&](auto& r) { r.set_mt_request_id(bad_id); })},
      {"mt_request_id", get([&](auto& r) { r.set_mt_request_id(long_id); })},
      {"view", get([](auto& r) { r.set_view(static_cast<v1::MtRequestView>(7)); })},
      {"page_size", list([](auto& r) { r.set_page_size(-1); })},
      {"page_token", list([](auto& r) { r.set_page_token("n'importe quoi"); })},
      {"states[0]", list([](auto& r) { r.add_states(static_cast<v1::MtState>(99)); })},
      {"priority_classes[1]", list([](auto& r) {
         r.add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
         r.add_priority_classes(static_cast<v1::PriorityClass>(-3));
       })},
      {"commune_insee", list([](auto& r) { r.set_commune_insee("XYZ"); })},
      {"view", list([](auto& r) { r.set_view(static_cast<v1::MtRequestView>(9)); })},
      {"mt_request_id", triage([](auto& r) { r.clear_mt_request_id(); })},
      {"synthesis", triage([](auto& r) { r.set_synthesis(" \n "); })},
      {"synthesis", triage([](auto& r) { r.set_synthesis(Chars(2001)); })},
      {"priority_class",
       triage([](auto& r) { r.set_priority_class(static_cast<v1::PriorityClass>(5)); })},
      {"etag", triage([](auto& r) { r.set_etag("x1"); })},
      {"mt_request_id", propose([&](auto& r) { r.set_mt_request_id(bad_id); })},
      {"max_suggestions", propose([](auto& r) { r.set_max_suggestions(-1); })},
      {"mt_request_id", assign([](auto& r) { r.clear_mt_request_id(); })},
      {"gp_member_id", assign([](auto& r) { r.clear_gp_member_id(); })},
      {"gp_member_id", assign([&](auto& r) { r.set_gp_member_id(bad_id); })},
      {"reason", assign([](auto& r) { r.set_reason(Chars(501)); })},
      {"reason", assign([](auto& r) { r.set_reason("deux\nlignes"); })},
      {"etag", assign([](auto& r) { r.set_etag("garbage"); })},
      {"mt_request_id", accept([](auto& r) { r.clear_mt_request_id(); })},
      {"gp_member_id", accept([&](auto& r) { r.set_gp_member_id(bad_id); })},
      {"reason", accept([](auto& r) { r.set_reason(Chars(501)); })},
      {"etag", accept([](auto& r) { r.set_etag("garbage"); })},
      {"mt_request_id", decline([&](auto& r) { r.set_mt_request_id(long_id); })},
      {"gp_member_id", decline([&](auto& r) { r.set_gp_member_id(bad_id); })},
      {"reason", decline([](auto& r) { r.clear_reason(); })},
      {"reason", decline([](auto& r) { r.set_reason(Chars(501)); })},
      {"etag", decline([](auto& r) { r.set_etag("\"vX\""); })},
      {"mt_request_id", placed([](auto& r) { r.clear_mt_request_id(); })},
      {"reason", placed([](auto& r) { r.set_reason(Chars(501)); })},
      {"etag", placed([](auto& r) { r.set_etag("garbage"); })},
      {"mt_request_id", unreachable([&](auto& r) { r.set_mt_request_id(bad_id); })},
      {"reason", unreachable([](auto& r) { r.set_reason("a\tb\nc"); })},
      {"etag", unreachable([](auto& r) { r.set_etag("garbage"); })},
      {"mt_request_id", withdraw([](auto& r) { r.clear_mt_request_id(); })},
      {"reason", withdraw([](auto& r) { r.set_reason(Chars(501)); })},
      {"etag", withdraw([](auto& r) { r.set_etag("garbage"); })},
      {"mt_request_id", close([&](auto& r) { r.set_mt_request_id(bad_id); })},
      {"reason", close([](auto& r) { r.clear_reason(); })},
      {"reason", close([](auto& r) { r.set_reason(Chars(501)); })},
      {"etag", close([](auto& r) { r.set_etag("garbage"); })},
  };
  ExpectAllInvalid(cases);

  // Nothing changed: same version, same state, no history step after the submission.
  v1::GetMtRequestRequest req;
  req.set_mt_request_id(id);
  v1::GetMtRequestResponse after;
  ASSERT_TRUE(access_->GetMtRequest(Ctx(coordinator).get(), req, &after).ok());
  EXPECT_EQ(after.mt_request().etag(), request.etag());
  EXPECT_EQ(after.mt_request().state(), v1::MT_STATE_RECEIVED);
  EXPECT_EQ(after.mt_request().history_size(), 1);
}

TEST_F(AccessValidationE2e, GpCapacityAndIndicatorsNameEveryBadField) {
  const std::string coordinator = Token({"coordinator"});
  v1::DeclareGpCapacityResponse first;
  ASSERT_TRUE(access_
                  ->DeclareGpCapacity(
                      Ctx(coordinator).get(),
                      [&] {
                        v1::DeclareGpCapacityRequest r = ValidDeclare();
                        r.mutable_gp_capacity()->set_gp_member_id(gp_);
                        return r;
                      }(),
                      &first)
                  .ok());
  const std::string gp = gp_;
  auto declare = [=](const std::function<void(v1::GpCapacity&)>& mutate) {
    return [=]() {
      v1::DeclareGpCapacityRequest req = ValidDeclare();
      req.mutable_gp_capacity()->set_gp_member_id(gp);
      mutate(*req.mutable_gp_capacity());
      v1::DeclareGpCapacityResponse resp;
      return access_->DeclareGpCapacity(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto get = [=](const std::string& gp_member_id) {
    return [=]() {
      v1::GetGpCapacityRequest req;
      req.set_gp_member_id(gp_member_id);
      v1::GetGpCapacityResponse resp;
      return access_->GetGpCapacity(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto list = [=](const std::function<void(v1::ListGpCapacitiesRequest&)>& mutate) {
    return [=]() {
      v1::ListGpCapacitiesRequest req;
      mutate(req);
      v1::ListGpCapacitiesResponse resp;
      return access_->ListGpCapacities(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto indicators = [=](const std::function<void(v1::Period&)>& mutate, bool snp) {
    return [=]() -> grpc::Status {
      v1::Period period;
      SetDay(Today() - 30, period.mutable_start_date());
      SetDay(Today(), period.mutable_end_date());
      mutate(period);
      if (snp) {
        v1::GetSnpIndicatorsRequest req;
        if (period.has_start_date() || period.has_end_date()) *req.mutable_period() = period;
        v1::GetSnpIndicatorsResponse resp;
        return access_->GetSnpIndicators(Ctx(coordinator).get(), req, &resp);
      }
      v1::GetMtIndicatorsRequest req;
      if (period.has_start_date() || period.has_end_date()) *req.mutable_period() = period;
      v1::GetMtIndicatorsResponse resp;
      return access_->GetMtIndicators(Ctx(coordinator).get(), req, &resp);
    };
  };
  const absl::CivilDay today = Today();
  std::vector<BadCase> cases = {
      {"gp_capacity.gp_member_id", declare([](auto& c) { c.set_gp_member_id("a/b"); })},
      {"gp_capacity.declared_count", declare([](auto& c) { c.set_declared_count(-1); })},
      {"gp_capacity.declared_count", declare([](auto& c) { c.set_declared_count(501); })},
      {"gp_capacity.valid_until", declare([](auto& c) { c.clear_valid_until(); })},
      {"gp_capacity.valid_until",
       declare([&](auto& c) { SetDay(today - 1, c.mutable_valid_until()); })},
      {"gp_capacity.valid_until",
       declare([&](auto& c) { SetDay(today + 367, c.mutable_valid_until()); })},
      {"gp_capacity.valid_until",
       declare([](auto& c) { SetDate(2031, 2, 30, c.mutable_valid_until()); })},
      {"gp_capacity.communes", declare([](auto& c) { c.clear_communes(); })},
      {"gp_capacity.communes[0]", declare([](auto& c) { c.set_communes(0, "XYZ"); })},
      {"gp_capacity.communes[1]", declare([](auto& c) { c.add_communes(kCommunes[0]); })},
      {"gp_capacity.communes", declare([](auto& c) {
         for (int i = 0; i < 50; ++i) c.add_communes(absl::StrCat(33100 + i));
       })},
      {"gp_capacity.priority_classes", declare([](auto& c) { c.clear_priority_classes(); })},
      {"gp_capacity.priority_classes[0]",
       declare([](auto& c) { c.set_priority_classes(0, v1::PRIORITY_CLASS_UNSPECIFIED); })},
      {"gp_capacity.priority_classes[0]",
       declare([](auto& c) { c.set_priority_classes(0, static_cast<v1::PriorityClass>(9)); })},
      {"gp_capacity.priority_classes[1]",
       declare([](auto& c) { c.add_priority_classes(v1::PRIORITY_CLASS_P1_ALD); })},
      {"gp_capacity.etag", declare([](auto& c) { c.set_etag("garbage"); })},
      {"gp_member_id", get("pas un id")},
      {"page_size", list([](auto& r) { r.set_page_size(-5); })},
      {"page_token", list([](auto& r) { r.set_page_token("%%%"); })},
      {"priority_class",
       list([](auto& r) { r.set_priority_class(static_cast<v1::PriorityClass>(12)); })},
      {"commune_insee", list([](auto& r) { r.set_commune_insee("pas une commune"); })},
  };
  for (bool snp : {false, true}) {
    cases.push_back({"period.start_date", indicators([](auto& p) { p.Clear(); }, snp)});
    cases.push_back(
        {"period.start_date",
         indicators([](auto& p) { SetDate(2025, 13, 1, p.mutable_start_date()); }, snp)});
    cases.push_back({"period.end_date",
                     indicators([](auto& p) { SetDate(2025, 4, 31, p.mutable_end_date()); }, snp)});
    cases.push_back({"period.end_date",
                     indicators([&](auto& p) { SetDay(today - 31, p.mutable_end_date()); }, snp)});
    cases.push_back(
        {"period.end_date",
         indicators([&](auto& p) { SetDay(today - 400, p.mutable_start_date()); }, snp)});
  }
  ExpectAllInvalid(cases);

  v1::GetGpCapacityRequest req;
  req.set_gp_member_id(gp_);
  v1::GetGpCapacityResponse after;
  ASSERT_TRUE(access_->GetGpCapacity(Ctx(coordinator).get(), req, &after).ok());
  EXPECT_EQ(after.gp_capacity().etag(), first.gp_capacity().etag());
  EXPECT_EQ(Count("gp_capacities"), "1");
}

TEST_F(AccessValidationE2e, UpdateTerritoryNamesEveryBadFieldAndChangesNothing) {
  const std::string coordinator = Token({"coordinator"});
  auto valid = [] {
    v1::UpdateTerritoryRequest req;
    v1::CommuneLink* link = req.mutable_territory()->add_links();
    link->set_commune_a(kCommunes[0]);
    link->set_commune_b(kCommunes[1]);
    link->set_distance(3);
    for (int i = 0; i < 2; ++i) {
      v1::Commune* c = req.mutable_territory()->add_communes();
      c->set_insee_code(kCommunes[i]);
      c->set_name(absl::StrCat("Commune-Fictive-", i));
      c->set_postal_code(absl::StrCat("3399", i));
    }
    return req;
  };
  v1::UpdateTerritoryResponse first;
  const grpc::Status st = access_->UpdateTerritory(Ctx(coordinator).get(), valid(), &first);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(first.territory().communes_size(), 2);

  auto update = [=](const std::function<void(v1::UpdateTerritoryRequest&)>& mutate) {
    return [=]() {
      v1::UpdateTerritoryRequest req = valid();
      req.mutable_territory()->mutable_communes(0)->set_name("Nom-Change");
      mutate(req);
      v1::UpdateTerritoryResponse resp;
      return access_->UpdateTerritory(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto commune = [=](int i, const std::function<void(v1::Commune&)>& mutate) {
    return update([=](v1::UpdateTerritoryRequest& r) {
      mutate(*r.mutable_territory()->mutable_communes(i));
    });
  };
  ExpectAllInvalid({
      {"territory.communes[0].insee_code", commune(0, [](auto& c) { c.clear_insee_code(); })},
      {"territory.communes[1].insee_code", commune(1, [](auto& c) { c.set_insee_code("3306"); })},
      {"territory.communes[1].insee_code", commune(1, [](auto& c) { c.set_insee_code("20004"); })},
      {"territory.communes[1].insee_code", commune(1, [](auto& c) { c.set_insee_code("2C004"); })},
      {"territory.communes[1].insee_code",
       commune(1, [](auto& c) { c.set_insee_code(kCommunes[0]); })},
      {"territory.communes[0].name", commune(0, [](auto& c) { c.set_name(" "); })},
      {"territory.communes[0].name", commune(0, [](auto& c) { c.set_name(Chars(101)); })},
      {"territory.communes[0].name", commune(0, [](auto& c) { c.set_name("Ligne\nDeux"); })},
      {"territory.communes[1].postal_code", commune(1, [](auto& c) { c.clear_postal_code(); })},
      {"territory.communes[1].postal_code", commune(1, [](auto& c) { c.set_postal_code("3300"); })},
      {"territory.communes[1].postal_code",
       commune(1, [](auto& c) { c.set_postal_code("2A000"); })},
      {"territory.communes", update([](auto& r) {
         for (int i = 0; i < 2000; ++i)
           *r.mutable_territory()->add_communes() = r.territory().communes(0);
       })},
      {"update_mask", update([](auto& r) { r.mutable_update_mask()->add_paths("updated_by"); })},
      // Named in the mask, the communes are validated; so are the links.
      {"territory.communes[0].postal_code", update([](auto& r) {
         r.mutable_update_mask()->add_paths("communes");
         r.mutable_territory()->mutable_communes(0)->set_postal_code("x");
       })},
      {"territory.links[0].distance",
       update([](auto& r) { r.mutable_territory()->mutable_links(0)->set_distance(-1); })},
  });

  v1::GetTerritoryResponse after;
  ASSERT_TRUE(
      access_->GetTerritory(Ctx(coordinator).get(), v1::GetTerritoryRequest(), &after).ok());
  EXPECT_EQ(after.territory().SerializeAsString(), first.territory().SerializeAsString());
  // Sorted by INSEE code: kCommunes[1] < kCommunes[0].
  ASSERT_EQ(after.territory().communes_size(), 2);
  EXPECT_EQ(after.territory().communes(1).insee_code(), kCommunes[0]);
  EXPECT_EQ(after.territory().communes(1).name(), "Commune-Fictive-0");
}

TEST_F(AccessValidationE2e, PublishSlotsNamesEveryBadFieldAndPublishesNothing) {
  const std::string member = Token({"member"}, gp_);
  const std::string coordinator = Token({"coordinator"});
  auto publish = [=](const std::function<void(v1::PublishSlotsRequest&)>& mutate,
                     const std::string& token) {
    return [=]() {
      v1::PublishSlotsRequest req;
      *req.add_slots() = ValidSlot(Ahead(24));
      *req.add_slots() = ValidSlot(Ahead(25));
      mutate(req);
      v1::PublishSlotsResponse resp;
      return access_->PublishSlots(Ctx(token).get(), req, &resp);
    };
  };
  auto slot0 = [=](const std::function<void(v1::Slot&)>& mutate) {
    return publish([=](auto& r) { mutate(*r.mutable_slots(0)); }, member);
  };
  const std::vector<BadCase> cases = {
      {"request_id", publish([](auto& r) { r.set_request_id(Chars(129)); }, member)},
      {"slots", publish([](auto& r) { r.clear_slots(); }, member)},
      {"slots", publish(
                    [](auto& r) {
                      for (int i = 0; i < 500; ++i) *r.add_slots() = ValidSlot(Ahead(30 + i));
                    },
                    member)},
      {"slots[0].professional_member_id",
       publish([](auto& r) { r.mutable_slots(0)->set_professional_member_id("pas un id"); },
               coordinator)},
      {"slots[0].professional_member_id", publish([](auto&) {}, coordinator)},
      {"slots[0].start_time", slot0([](auto& s) { s.clear_start_time(); })},
      {"slots[0].start_time", slot0([](auto& s) { SetTime(Ahead(-2), s.mutable_start_time()); })},
      {"slots[0].start_time",
       slot0([](auto& s) { SetTime(Ahead(24) + absl::Seconds(30), s.mutable_start_time()); })},
      {"slots[0].start_time", slot0([](auto& s) { s.mutable_start_time()->set_nanos(-7); })},
      {"slots[0].start_time",
       slot0([](auto& s) { SetTime(Ahead(24 * 400), s.mutable_start_time()); })},
      {"slots[0].duration", slot0([](auto& s) { s.clear_duration(); })},
      {"slots[0].duration", slot0([](auto& s) { s.mutable_duration()->set_seconds(-600); })},
      {"slots[0].duration", slot0([](auto& s) { s.mutable_duration()->set_seconds(90); })},
      {"slots[0].duration", slot0([](auto& s) { s.mutable_duration()->set_seconds(120); })},
      {"slots[0].duration", slot0([](auto& s) { s.mutable_duration()->set_seconds(13 * 3600); })},
      {"slots[0].mode", slot0([](auto& s) { s.clear_mode(); })},
      {"slots[0].mode", slot0([](auto& s) { s.set_mode(static_cast<v1::ConsultationMode>(9)); })},
      {"slots[0].visibility", slot0([](auto& s) { s.clear_visibility(); })},
      {"slots[0].visibility",
       slot0([](auto& s) { s.set_visibility(static_cast<v1::Visibility>(9)); })},
      {"slots[0].kind", slot0([](auto& s) { s.clear_kind(); })},
      {"slots[0].kind", slot0([](auto& s) { s.set_kind(static_cast<v1::SlotKind>(9)); })},
      {"slots[0].place.commune_insee",
       slot0([](auto& s) { s.mutable_place()->clear_commune_insee(); })},
      {"slots[0].place.commune_insee",
       slot0([](auto& s) { s.mutable_place()->set_commune_insee("XYZ"); })},
      {"slots[0].place.address", slot0([](auto& s) { s.mutable_place()->clear_address(); })},
      {"slots[0].place.address",
       slot0([](auto& s) { s.mutable_place()->set_address(Chars(201)); })},
      {"slots[0].place.address",
       slot0([](auto& s) { s.mutable_place()->set_address("1 rue\x02 X"); })},
      {"slots[0].place.address", slot0([](auto& s) { s.set_mode(v1::CONSULTATION_MODE_HOME); })},
      {"slots[0].place", slot0([](auto& s) { s.set_mode(v1::CONSULTATION_MODE_VIDEO); })},
      {"slots[1].start_time",
       publish([](auto& r) { r.mutable_slots(1)->clear_start_time(); }, member)},
  };
  ExpectAllInvalid(cases);
  EXPECT_EQ(Count("snp_slots"), "0");
  // The valid batch itself is accepted.
  ASSERT_TRUE(publish([](auto&) {}, member)().ok());
  EXPECT_EQ(Count("snp_slots"), "2");
}

TEST_F(AccessValidationE2e, SlotSearchAndBookingRpcsNameEveryBadFieldAndChangeNothing) {
  const v1::Slot slot = Publish(Ahead(24));
  ASSERT_FALSE(slot.id().empty());
  const v1::Slot booked_slot = Publish(Ahead(26));
  ASSERT_FALSE(booked_slot.id().empty());
  const std::string coordinator = Token({"coordinator"});
  v1::BookSlotResponse booked;
  ASSERT_TRUE(access_->BookSlot(Ctx(coordinator).get(), ValidBook(booked_slot.id()), &booked).ok());
  const std::string booking_id = booked.booking().id();
  const std::string& slot_id = slot.id();

  auto get_slot = [=](const std::string& id) {
    return [=]() {
      v1::GetSlotRequest req;
      req.set_slot_id(id);
      v1::GetSlotResponse resp;
      return access_->GetSlot(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto withdraw = [=](const std::string& id, const std::string& reason) {
    return [=]() {
      v1::WithdrawSlotRequest req;
      req.set_slot_id(id);
      req.set_reason(reason);
      v1::WithdrawSlotResponse resp;
      return access_->WithdrawSlot(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto search = [=](const std::function<void(v1::SearchSlotsRequest&)>& mutate) {
    return [=]() {
      v1::SearchSlotsRequest req;
      SetTime(absl::Now(), req.mutable_start_time());
      SetTime(absl::Now() + absl::Hours(48), req.mutable_end_time());
      mutate(req);
      v1::SearchSlotsResponse resp;
      return access_->SearchSlots(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto book = [=](const std::function<void(v1::BookSlotRequest&)>& mutate) {
    return [=]() {
      v1::BookSlotRequest req = ValidBook(slot_id);
      mutate(req);
      v1::BookSlotResponse resp;
      return access_->BookSlot(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto get_booking = [=](const std::string& id) {
    return [=]() {
      v1::GetBookingRequest req;
      req.set_booking_id(id);
      v1::GetBookingResponse resp;
      return access_->GetBooking(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto cancel = [=](const std::string& id, const std::string& reason) {
    return [=]() {
      v1::CancelBookingRequest req;
      req.set_booking_id(id);
      req.set_reason(reason);
      v1::CancelBookingResponse resp;
      return access_->CancelBooking(Ctx(coordinator).get(), req, &resp);
    };
  };
  auto outcome = [=](const std::string& id, int value) {
    return [=]() {
      v1::RecordOutcomeRequest req;
      req.set_booking_id(id);
      req.set_outcome(static_cast<v1::BookingOutcome>(value));
      v1::RecordOutcomeResponse resp;
      return access_->RecordOutcome(Ctx(coordinator).get(), req, &resp);
    };
  };
  const std::string bad_id = "pas un id";
  const std::vector<BadCase> cases = {
      {"slot_id", get_slot("")},
      {"slot_id", get_slot(bad_id)},
      {"slot_id", get_slot(std::string(65, 's'))},
      {"slot_id", withdraw("", "")},
      {"slot_id", withdraw(bad_id, "")},
      {"reason", withdraw(slot_id, Chars(501))},
      {"reason", withdraw(slot_id, "deux\nlignes")},
      {"start_time", search([](auto& r) { r.clear_start_time(); })},
      {"start_time", search([](auto& r) { r.mutable_start_time()->set_nanos(1000000000); })},
      {"end_time", search([](auto& r) { r.clear_end_time(); })},
      {"end_time",
       search([](auto& r) { SetTime(absl::Now() - absl::Hours(1), r.mutable_end_time()); })},
      {"end_time",
       search([](auto& r) { SetTime(absl::Now() + absl::Hours(24 * 32), r.mutable_end_time()); })},
      {"communes[0]", search([](auto& r) { r.add_communes("XYZ"); })},
      {"communes", search([](auto& r) {
         for (int i = 0; i < 51; ++i) r.add_communes(absl::StrCat(33100 + i));
       })},
      {"profession_codes[0]", search([](auto& r) { r.add_profession_codes("pas-un-code"); })},
      {"professional_member_ids[0]",
       search([&](auto& r) { r.add_professional_member_ids(bad_id); })},
      {"modes[0]", search([](auto& r) { r.add_modes(v1::CONSULTATION_MODE_UNSPECIFIED); })},
      {"modes[0]", search([](auto& r) { r.add_modes(static_cast<v1::ConsultationMode>(9)); })},
      {"visibilities[0]", search([](auto& r) { r.add_visibilities(v1::VISIBILITY_UNSPECIFIED); })},
      {"visibilities[0]",
       search([](auto& r) { r.add_visibilities(static_cast<v1::Visibility>(9)); })},
      {"kind", search([](auto& r) { r.set_kind(static_cast<v1::SlotKind>(9)); })},
      {"page_size", search([](auto& r) { r.set_page_size(-1); })},
      {"page_token", search([](auto& r) { r.set_page_token("pas un jeton"); })},
      {"slot_id", book([](auto& r) { r.clear_slot_id(); })},
      {"slot_id", book([&](auto& r) { r.set_slot_id(bad_id); })},
      {"patient.given_name", book([](auto& r) { r.mutable_patient()->clear_given_name(); })},
      {"patient.given_name", book([](auto& r) { r.mutable_patient()->set_given_name("A\x1b"); })},
      {"patient.family_name",
       book([](auto& r) { r.mutable_patient()->set_family_name(Chars(101)); })},
      {"patient.birth_date", book([](auto& r) { r.mutable_patient()->clear_birth_date(); })},
      {"patient.birth_date",
       book([](auto& r) { SetDate(1999, 2, 29, r.mutable_patient()->mutable_birth_date()); })},
      {"patient.birth_date",
       book([](auto& r) { SetDay(Today() + 2, r.mutable_patient()->mutable_birth_date()); })},
      {"patient.birth_date",
       book([](auto& r) { SetDate(1880, 1, 1, r.mutable_patient()->mutable_birth_date()); })},
      {"patient.sex", book([](auto& r) { r.mutable_patient()->set_sex(static_cast<v1::Sex>(9)); })},
      {"contact.phone", book([](auto& r) { r.mutable_contact()->set_phone("abc"); })},
      {"contact.email", book([](auto& r) { r.mutable_contact()->set_email("a@b"); })},
      {"reason", book([](auto& r) { r.clear_reason(); })},
      {"reason", book([](auto& r) { r.set_reason(Chars(501)); })},
      {"reason", book([](auto& r) { r.set_reason("deux\nlignes"); })},
      {"request_id", book([](auto& r) { r.set_request_id(Chars(129)); })},
      {"booking_id", get_booking("")},
      {"booking_id", get_booking(bad_id)},
      {"booking_id", cancel("", "raison")},
      {"booking_id", cancel(bad_id, "raison")},
      {"reason", cancel(booking_id, "")},
      {"reason", cancel(booking_id, Chars(501))},
      {"booking_id", outcome("", 1)},
      {"booking_id", outcome(bad_id, 1)},
      {"outcome", outcome(booking_id, 0)},
      {"outcome", outcome(booking_id, 9)},
  };
  ExpectAllInvalid(cases);

  // Nothing changed: the free slot is free, the booking is still booked, one booking stored.
  v1::GetSlotRequest gs;
  gs.set_slot_id(slot_id);
  v1::GetSlotResponse free_slot;
  ASSERT_TRUE(access_->GetSlot(Ctx(coordinator).get(), gs, &free_slot).ok());
  EXPECT_EQ(free_slot.slot().status(), v1::SLOT_STATUS_FREE);
  EXPECT_EQ(free_slot.slot().etag(), slot.etag());
  v1::GetBookingRequest gb;
  gb.set_booking_id(booking_id);
  v1::GetBookingResponse still;
  ASSERT_TRUE(access_->GetBooking(Ctx(coordinator).get(), gb, &still).ok());
  EXPECT_EQ(still.booking().state(), v1::BOOKING_STATE_BOOKED);
  EXPECT_EQ(still.booking().etag(), booked.booking().etag());
  EXPECT_EQ(Count("snp_bookings"), "1");
}

}  // namespace
}  // namespace cpts::e2e
