// The SNP shared agenda end to end: the real access server (beside the real membership) on a
// real MariaDB: publish, search, book (idempotent, never twice, also under concurrent gRPC
// calls), read with audit, cancel, and the SAS FHIR endpoint.
#include <httplib.h>

#include <atomic>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/access_fixture.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::access::v1;

using AccessSnpE2e = AccessE2e;

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

// A whole minute, `hours` from now.
absl::Time Ahead(int hours) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(hours)) / 60 * 60);
}

class SnpFlow : public AccessSnpE2e {
 protected:
  void SetUp() override {
    AccessSnpE2e::SetUp();
    gp_ = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
    pharmacist_ = CreateActiveMember("PHARMACIEN", {kCommunes[0]});
  }

  v1::Slot Publish(absl::Time start) {
    v1::PublishSlotsRequest req;
    v1::Slot* s = req.add_slots();
    SetTime(start, s->mutable_start_time());
    s->mutable_duration()->set_seconds(int64_t{20} * 60);
    s->set_mode(v1::CONSULTATION_MODE_OFFICE);
    s->mutable_place()->set_commune_insee(kCommunes[0]);
    s->mutable_place()->set_address("3 place de la Mairie");
    s->set_visibility(v1::VISIBILITY_PRO);
    s->set_kind(v1::SLOT_KIND_BOOKABLE);
    v1::PublishSlotsResponse resp;
    const grpc::Status st = access_->PublishSlots(Ctx(Token({"member"}, gp_)).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.slots_size() == 1 ? resp.slots(0) : v1::Slot{};
  }

  static v1::BookSlotRequest BookRequest(const std::string& slot_id, const std::string& family,
                                         const std::string& request_id = "") {
    v1::BookSlotRequest req;
    req.set_slot_id(slot_id);
    req.mutable_patient()->set_given_name("Alice");
    req.mutable_patient()->set_family_name(family);
    req.mutable_patient()->mutable_birth_date()->set_year(1980);
    req.mutable_patient()->mutable_birth_date()->set_month(5);
    req.mutable_patient()->mutable_birth_date()->set_day(17);
    req.mutable_contact()->set_phone("06 12 34 56 78");
    req.set_reason("fièvre");
    req.set_request_id(request_id);
    return req;
  }

  std::string gp_;
  std::string pharmacist_;
};

TEST_F(SnpFlow, PublishSearchBookReadCancel) {
  const v1::Slot slot = Publish(Ahead(24));
  ASSERT_FALSE(slot.id().empty());
  EXPECT_EQ(slot.profession_code(), "MEDECIN_GENERALISTE");
  const std::string pharmacist = Token({"member"}, pharmacist_);

  v1::SearchSlotsRequest search;
  SetTime(absl::Now(), search.mutable_start_time());
  SetTime(absl::Now() + absl::Hours(48), search.mutable_end_time());
  search.add_communes(kCommunes[0]);
  v1::SearchSlotsResponse found;
  ASSERT_TRUE(access_->SearchSlots(Ctx(pharmacist).get(), search, &found).ok());
  ASSERT_EQ(found.slots_size(), 1);
  EXPECT_EQ(found.slots(0).id(), slot.id());

  v1::BookSlotResponse booked;
  grpc::Status st =
      access_->BookSlot(Ctx(pharmacist).get(), BookRequest(slot.id(), "Zebulon", "r-1"), &booked);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(booked.slot().status(), v1::SLOT_STATUS_BOOKED);
  EXPECT_EQ(booked.booking().booker_profession_code(), "PHARMACIEN");
  EXPECT_EQ(booked.booking().contact().phone(), "+33612345678");
  const std::string booking_id = booked.booking().id();

  // The retry answers the same booking; another booker loses.
  v1::BookSlotResponse retry;
  ASSERT_TRUE(
      access_->BookSlot(Ctx(pharmacist).get(), BookRequest(slot.id(), "Zebulon", "r-1"), &retry)
          .ok());
  EXPECT_EQ(retry.booking().id(), booking_id);
  v1::BookSlotResponse other;
  EXPECT_EQ(
      access_
          ->BookSlot(Ctx(Token({"sas_regulator"})).get(), BookRequest(slot.id(), "Autre"), &other)
          .error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);

  // Only ciphertext at rest.
  for (const std::string& v : QueryColumn("SELECT patient_family_name_enc FROM snp_bookings")) {
    EXPECT_TRUE(absl::StartsWith(v, "cpts1:")) << v;
    EXPECT_FALSE(absl::StrContains(v, "Zebulon"));
  }

  // Read by the slot's professional; refused (and audited) for a stranger.
  v1::GetBookingRequest get;
  get.set_booking_id(booking_id);
  v1::GetBookingResponse got;
  ASSERT_TRUE(access_->GetBooking(Ctx(Token({"member"}, gp_)).get(), get, &got).ok());
  EXPECT_EQ(got.booking().patient().family_name(), "Zebulon");
  const std::string stranger = CreateActiveMember("INFIRMIER", {kCommunes[0]});
  EXPECT_EQ(access_->GetBooking(Ctx(Token({"member"}, stranger)).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::vector<platform::db::AuditRecord> audit = AuditRows("booking", booking_id);
  ASSERT_GE(audit.size(), 4u);  // create, retry read, read, denied read
  EXPECT_EQ(audit[0].outcome, "denied");
  EXPECT_EQ(audit[1].action, "access.booking.read");
  EXPECT_EQ(audit.back().action, "access.booking.create");

  v1::CancelBookingRequest cancel;
  cancel.set_booking_id(booking_id);
  cancel.set_reason("le patient a trouvé un autre créneau");
  v1::CancelBookingResponse cancelled;
  st = access_->CancelBooking(Ctx(pharmacist).get(), cancel, &cancelled);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cancelled.slot().status(), v1::SLOT_STATUS_FREE);
  EXPECT_EQ(cancelled.booking().state(), v1::BOOKING_STATE_CANCELLED);
}

TEST_F(SnpFlow, ConcurrentBookingsOverGrpcOneWinner) {
  const v1::Slot slot = Publish(Ahead(30));
  ASSERT_FALSE(slot.id().empty());
  constexpr int kThreads = 16;
  std::vector<std::string> tokens;
  tokens.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    tokens.push_back(Token({"member"}, pharmacist_, absl::StrCat("user-ph-", t)));
  }
  std::latch start(kThreads);
  std::atomic<int> ok{0};
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const v1::BookSlotRequest req = BookRequest(slot.id(), absl::StrCat("P", t));
      auto ctx = Ctx(tokens[t]);
      start.arrive_and_wait();
      v1::BookSlotResponse resp;
      const grpc::Status st = access_->BookSlot(ctx.get(), req, &resp);
      if (st.ok()) {
        ++ok;
      } else if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                 st.error_code() == grpc::StatusCode::ABORTED) {
        ++lost;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(lost.load(), kThreads - 1);
}

TEST_F(SnpFlow, FhirSearchAnswersABundleToTheSas) {
  Publish(Ahead(26));
  ASSERT_GT(fhir_port(), 0);
  httplib::Client http("127.0.0.1", fhir_port());
  const std::string from = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
  const std::string to =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(72), absl::UTCTimeZone());
  const std::string path =
      absl::StrCat("/fhir/Slot?start=ge", from, "&start=le", to,
                   "&schedule.actor:Practitioner.identifier=810001234567&status=free");
  auto res = http.Get(path, {{"Authorization", absl::StrCat("Bearer ", Token({"sas_regulator"}))}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(absl::StrContains(res->body, "\"searchset\"")) << res->body;

  // A member token is authenticated but not allowed.
  auto denied =
      http.Get(path, {{"Authorization", absl::StrCat("Bearer ", Token({"member"}, gp_))}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
}

// FrLocationAgregateur wants address line, city and postal code: the line is the slot's, the
// city and postal code come from the communes the coordinator set in the territory.
TEST_F(SnpFlow, FhirLocationHasTheTerritorysCityAndPostalCode) {
  const v1::Slot slot = Publish(Ahead(28));
  ASSERT_FALSE(slot.id().empty());
  membership::v1::GetMemberRequest get;
  get.set_member_id(gp_);
  membership::v1::GetMemberResponse member;
  grpc::Status st = membership_->GetMember(Ctx(Token({"coordinator"})).get(), get, &member);
  ASSERT_TRUE(st.ok()) << st.error_message();
  httplib::Client http("127.0.0.1", fhir_port());
  const std::string path = absl::StrCat(
      "/fhir/Slot?start=ge",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()), "&start=le",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(72), absl::UTCTimeZone()),
      "&schedule.actor:Practitioner.identifier=8", member.member().rpps(),
      "&status=free&_include=Slot:schedule&_include:iterate=Schedule:actor");
  const httplib::Headers sas = {{"Authorization", "Bearer " + Token({"sas_regulator"})}};

  // No communes yet: the line alone.
  auto before = http.Get(path, sas);
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_TRUE(absl::StrContains(before->body, slot.id())) << before->body;
  EXPECT_TRUE(absl::StrContains(before->body, R"("address":{"line":["3 place de la Mairie"]})"))
      << before->body;

  v1::UpdateTerritoryRequest update;
  v1::Commune* commune = update.mutable_territory()->add_communes();
  commune->set_insee_code(kCommunes[0]);
  commune->set_name("Bourg-des-Essais");
  commune->set_postal_code("33999");
  commune = update.mutable_territory()->add_communes();
  commune->set_insee_code(kCommunes[1]);
  commune->set_name("Autre-Commune-Fictive");
  commune->set_postal_code("33998");
  v1::UpdateTerritoryResponse updated;
  st = access_->UpdateTerritory(Ctx(Token({"coordinator"})).get(), update, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(updated.territory().communes_size(), 2);

  auto after = http.Get(path, sas);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->status, 200) << after->body;
  EXPECT_TRUE(absl::StrContains(after->body, R"("address":{"line":["3 place de la Mairie"],)"
                                             R"("city":"Bourg-des-Essais","postalCode":"33999"})"))
      << after->body;
  EXPECT_FALSE(absl::StrContains(after->body, "Autre-Commune-Fictive")) << after->body;
}

// The SAS sees which CPTS answers: the Organization entry carries the FINESS (prefixed "1")
// and the name that membership holds for the tenant.
TEST_F(AccessSnpE2e, FhirBundleIncludesTheCptsOrganization) {
  const std::string finess = absl::StrFormat("33%07d", absl::ToUnixMicros(absl::Now()) % 10000000);
  const std::string tenant = NewTenant("CPTS de la Lande Fictive", finess);
  ASSERT_FALSE(tenant.empty());
  const std::string gp = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]}, tenant);
  v1::PublishSlotsRequest publish;
  v1::Slot* s = publish.add_slots();
  SetTime(Ahead(30), s->mutable_start_time());
  s->mutable_duration()->set_seconds(int64_t{20} * 60);
  s->set_mode(v1::CONSULTATION_MODE_VIDEO);
  s->set_visibility(v1::VISIBILITY_SNP);
  s->set_kind(v1::SLOT_KIND_BOOKABLE);
  v1::PublishSlotsResponse published;
  grpc::Status st =
      access_->PublishSlots(Ctx(TokenFor(tenant, {"member"}, gp)).get(), publish, &published);
  ASSERT_TRUE(st.ok()) << st.error_message();
  membership::v1::GetMemberRequest get;
  get.set_member_id(gp);
  membership::v1::GetMemberResponse member;
  st = membership_->GetMember(Ctx(TokenFor(tenant, {"coordinator"})).get(), get, &member);
  ASSERT_TRUE(st.ok()) << st.error_message();

  httplib::Client http("127.0.0.1", fhir_port());
  const std::string path = absl::StrCat(
      "/fhir/Slot?start=ge",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()), "&start=le",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(72), absl::UTCTimeZone()),
      "&schedule.actor:Practitioner.identifier=8", member.member().rpps(),
      "&status=free&_include=Slot:schedule&_include:iterate=Schedule:actor",
      "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization");
  for (const char* role : {"sas_regulator", "service"}) {
    auto res = http.Get(path, {{"Authorization", "Bearer " + TokenFor(tenant, {role})}});
    ASSERT_TRUE(res) << role;
    ASSERT_EQ(res->status, 200) << role << ": " << res->body;
    EXPECT_TRUE(absl::StrContains(res->body, published.slots(0).id())) << res->body;
    const size_t org = res->body.find("\"resourceType\":\"Organization\"");
    ASSERT_NE(org, std::string::npos) << res->body;
    const std::string entry = res->body.substr(org);
    EXPECT_TRUE(absl::StrContains(entry, absl::StrCat("\"value\":\"1", finess, "\""))) << entry;
    EXPECT_TRUE(absl::StrContains(entry, "\"system\":\"urn:oid:1.2.250.1.71.4.2.2\"")) << entry;
    EXPECT_TRUE(absl::StrContains(entry, "\"name\":\"CPTS de la Lande Fictive\"")) << entry;
  }
}

}  // namespace
}  // namespace cpts::e2e
