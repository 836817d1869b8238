// The MT half end to end: the real access server (beside the real membership) on a real
// MariaDB: GP capacity, submission, triage, matching, concurrent acceptance over gRPC,
// placement, indicators, audit of reads and denied reads, and ciphertext at rest.
#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/access_fixture.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::access::v1;

class AccessMtE2e : public AccessE2e {
 protected:
  void SetUp() override {
    AccessE2e::SetUp();
    gp_ = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
    other_gp_ = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
  }

  static void SetDay(absl::CivilDay day, common::v1::Date* out) {
    out->set_year(static_cast<int32_t>(day.year()));
    out->set_month(day.month());
    out->set_day(day.day());
  }

  static absl::CivilDay Today() {
    absl::TimeZone paris;
    if (!absl::LoadTimeZone("Europe/Paris", &paris)) paris = absl::UTCTimeZone();
    return absl::ToCivilDay(absl::Now(), paris);
  }

  void Declare(const std::string& gp, int count, const std::string& commune = kCommunes[0]) {
    v1::DeclareGpCapacityRequest req;
    auto* c = req.mutable_gp_capacity();
    c->set_declared_count(count);
    SetDay(Today() + 90, c->mutable_valid_until());
    c->add_communes(commune);
    c->add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
    c->add_priority_classes(v1::PRIORITY_CLASS_P2_AGE);
    c->add_priority_classes(v1::PRIORITY_CLASS_P3_FRAGILE);
    c->add_priority_classes(v1::PRIORITY_CLASS_P4_OTHER);
    v1::DeclareGpCapacityResponse resp;
    const grpc::Status st =
        access_->DeclareGpCapacity(Ctx(Token({"member"}, gp)).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.gp_capacity().gp_member_id(), gp);
    EXPECT_EQ(resp.gp_capacity().remaining_count(), count);
  }

  v1::MtRequest Submit(const std::string& family, bool ald) {
    v1::SubmitMtRequestRequest req;
    auto* r = req.mutable_mt_request();
    r->mutable_patient()->set_given_name("Louise");
    r->mutable_patient()->set_family_name(family);
    SetDay(absl::CivilDay(1948, 4, 2), r->mutable_patient()->mutable_birth_date());
    r->set_commune_insee(kCommunes[0]);
    r->mutable_contact()->set_phone("06 11 22 33 44");
    r->set_ald(ald);
    r->set_origin(v1::MT_ORIGIN_PROFESSIONAL);
    r->mutable_consent()->set_granted(true);
    v1::SubmitMtRequestResponse resp;
    const grpc::Status st =
        access_->SubmitMtRequest(Ctx(Token({"triage_nurse"})).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.mt_request();
  }

  std::string gp_;
  std::string other_gp_;
};

TEST_F(AccessMtE2e, SubmitTriageMatchAcceptOncePlaceAndCount) {
  Declare(gp_, 3);
  const v1::MtRequest submitted = Submit("Garnier", /*ald=*/true);
  ASSERT_FALSE(submitted.id().empty());
  EXPECT_EQ(submitted.state(), v1::MT_STATE_RECEIVED);
  EXPECT_EQ(submitted.priority_class(), v1::PRIORITY_CLASS_P1_ALD);
  EXPECT_EQ(submitted.contact().phone(), "+33611223344");

  // Only ciphertext at rest.
  const std::vector<std::string> stored = QueryColumn(
      absl::StrCat("SELECT family_name_ct FROM mt_requests WHERE id = '", submitted.id(), "'"));
  ASSERT_EQ(stored.size(), 1U);
  EXPECT_TRUE(absl::StartsWith(stored[0], "cpts1:")) << stored[0];
  EXPECT_FALSE(absl::StrContains(stored[0], "Garnier"));

  v1::TriageMtRequestRequest triage;
  triage.set_mt_request_id(submitted.id());
  triage.set_synthesis("ALD diabète, sans médecin traitant depuis un départ en retraite.");
  triage.set_etag(submitted.etag());
  v1::TriageMtRequestResponse triaged;
  grpc::Status st = access_->TriageMtRequest(Ctx(Token({"triage_nurse"})).get(), triage, &triaged);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(triaged.mt_request().state(), v1::MT_STATE_TRIAGED);

  v1::ProposeMatchRequest propose;
  propose.set_mt_request_id(submitted.id());
  v1::ProposeMatchResponse suggestions;
  st = access_->ProposeMatch(Ctx(Token({"coordinator"})).get(), propose, &suggestions);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(suggestions.suggestions_size(), 1);
  EXPECT_EQ(suggestions.suggestions(0).gp_member_id(), gp_);
  EXPECT_TRUE(suggestions.suggestions(0).commune_match());

  v1::AssignMatchRequest assign;
  assign.set_mt_request_id(submitted.id());
  assign.set_gp_member_id(gp_);
  v1::AssignMatchResponse assigned;
  st = access_->AssignMatch(Ctx(Token({"coordinator"})).get(), assign, &assigned);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(assigned.mt_request().state(), v1::MT_STATE_PROPOSED);

  // Another GP cannot accept for them, nor read the patient.
  v1::AcceptMatchRequest accept;
  accept.set_mt_request_id(submitted.id());
  v1::AcceptMatchResponse accepted;
  st = access_->AcceptMatch(Ctx(Token({"member"}, other_gp_)).get(), accept, &accepted);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();

  // The GP's concurrent acceptances (double click, two devices): one wins, one place taken.
  constexpr int kCalls = 4;
  std::latch start(kCalls);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  const std::string gp_token = Token({"member"}, gp_);
  threads.reserve(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      v1::AcceptMatchResponse resp;
      const grpc::Status s = access_->AcceptMatch(Ctx(gp_token).get(), accept, &resp);
      if (s.ok()) {
        ++ok;
        EXPECT_EQ(resp.gp_capacity().remaining_count(), 2);
      } else {
        EXPECT_TRUE(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                    s.error_code() == grpc::StatusCode::ABORTED)
            << s.error_message();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  v1::GetGpCapacityRequest get_cap;
  v1::GetGpCapacityResponse cap;
  st = access_->GetGpCapacity(Ctx(gp_token).get(), get_cap, &cap);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cap.gp_capacity().remaining_count(), 2);

  // The GP reads the patient (audited); another GP is denied (audited too).
  v1::GetMtRequestRequest get;
  get.set_mt_request_id(submitted.id());
  v1::GetMtRequestResponse got;
  st = access_->GetMtRequest(Ctx(gp_token).get(), get, &got);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(got.mt_request().patient().family_name(), "Garnier");
  EXPECT_EQ(got.mt_request().history_size(), 4);
  st = access_->GetMtRequest(Ctx(Token({"member"}, other_gp_)).get(), get, &got);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  int reads = 0;
  int denied = 0;
  for (const auto& row : AuditRows("mt_request", submitted.id())) {
    if (row.action == "access.mt_request.read" && row.outcome == "ok") ++reads;
    if (row.action == "access.mt_request.read" && row.outcome == "denied") ++denied;
  }
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(denied, 1);

  v1::MarkPlacedRequest place;
  place.set_mt_request_id(submitted.id());
  v1::MarkPlacedResponse placed;
  st = access_->MarkPlaced(Ctx(Token({"triage_nurse"})).get(), place, &placed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(placed.mt_request().state(), v1::MT_STATE_PLACED);
  st = access_->MarkPlaced(Ctx(Token({"triage_nurse"})).get(), place, &placed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  Submit("Lambert", /*ald=*/false);
  v1::GetMtIndicatorsRequest ind_req;
  SetDay(Today() - 1, ind_req.mutable_period()->mutable_start_date());
  SetDay(Today() + 1, ind_req.mutable_period()->mutable_end_date());
  v1::GetMtIndicatorsResponse ind;
  st = access_->GetMtIndicators(Ctx(Token({"reporting"})).get(), ind_req, &ind);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(ind.indicators().received(), 2);
  EXPECT_EQ(ind.indicators().placed(), 1);
  EXPECT_EQ(ind.indicators().waiting(), 1);
  EXPECT_EQ(ind.indicators().waiting_by_class_size(), 4);
  EXPECT_TRUE(ind.indicators().has_median_wait());
}

TEST_F(AccessMtE2e, RolesAreEnforcedAndTheQueueIsOrdered) {
  const v1::MtRequest plain = Submit("Moreau", false);
  const v1::MtRequest ald = Submit("Fournier", true);
  v1::ListMtQueueRequest list;
  list.set_page_size(1);
  v1::ListMtQueueResponse page;
  grpc::Status st = access_->ListMtQueue(Ctx(Token({"triage_nurse"})).get(), list, &page);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(page.mt_requests_size(), 1);
  EXPECT_EQ(page.mt_requests(0).id(), ald.id());
  EXPECT_FALSE(page.mt_requests(0).has_patient());  // basic view by default
  list.set_page_token(page.next_page_token());
  st = access_->ListMtQueue(Ctx(Token({"triage_nurse"})).get(), list, &page);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(page.mt_requests_size(), 1);
  EXPECT_EQ(page.mt_requests(0).id(), plain.id());

  st = access_->ListMtQueue(Ctx(Token({"reporting"})).get(), list, &page);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::CloseMtRequestRequest close;
  close.set_mt_request_id(plain.id());
  close.set_reason("Doublon");
  v1::CloseMtRequestResponse closed;
  st = access_->CloseMtRequest(Ctx(Token({"triage_nurse"})).get(), close, &closed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  st = access_->CloseMtRequest(Ctx(Token({"coordinator"})).get(), close, &closed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(closed.mt_request().state(), v1::MT_STATE_CLOSED_OTHER);

  // A member who is not a GP cannot declare capacity.
  const std::string nurse = CreateActiveMember("INFIRMIER", {kCommunes[0]});
  v1::DeclareGpCapacityRequest declare;
  declare.mutable_gp_capacity()->set_declared_count(2);
  SetDay(Today() + 10, declare.mutable_gp_capacity()->mutable_valid_until());
  declare.mutable_gp_capacity()->add_communes(kCommunes[0]);
  declare.mutable_gp_capacity()->add_priority_classes(v1::PRIORITY_CLASS_P1_ALD);
  v1::DeclareGpCapacityResponse declared;
  st = access_->DeclareGpCapacity(Ctx(Token({"member"}, nurse)).get(), declare, &declared);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
}

TEST_F(AccessMtE2e, UpdateTerritoryRanksTheNearestCommuneFirst) {
  const std::string far_gp = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[2]});
  // Patient in kCommunes[0]: gp_ practises there, other_gp_ next door, far_gp two steps
  // away. Capacities are the reverse of the expected order.
  Declare(gp_, 1, kCommunes[0]);
  Declare(other_gp_, 3, kCommunes[1]);
  Declare(far_gp, 9, kCommunes[2]);
  const v1::MtRequest submitted = Submit("Rivière", /*ald=*/false);
  ASSERT_FALSE(submitted.id().empty());

  v1::UpdateTerritoryRequest update;
  auto* link = update.mutable_territory()->add_links();
  link->set_commune_a(kCommunes[1]);
  link->set_commune_b(kCommunes[0]);
  link->set_distance(4.5);
  link = update.mutable_territory()->add_links();
  link->set_commune_a(kCommunes[1]);
  link->set_commune_b(kCommunes[2]);
  link->set_distance(6);
  v1::UpdateTerritoryResponse updated;
  grpc::Status st = access_->UpdateTerritory(Ctx(Token({"coordinator"})).get(), update, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(updated.territory().links_size(), 2);
  EXPECT_FALSE(updated.territory().updated_by().empty());
  EXPECT_TRUE(updated.territory().has_update_time());

  v1::GetTerritoryResponse read;
  st = access_->GetTerritory(Ctx(Token({"triage_nurse"})).get(), v1::GetTerritoryRequest(), &read);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(read.territory().links_size(), 2);

  v1::ProposeMatchRequest propose;
  propose.set_mt_request_id(submitted.id());
  v1::ProposeMatchResponse suggestions;
  st = access_->ProposeMatch(Ctx(Token({"coordinator"})).get(), propose, &suggestions);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(suggestions.suggestions_size(), 3);
  EXPECT_EQ(suggestions.suggestions(0).gp_member_id(), gp_);
  EXPECT_TRUE(suggestions.suggestions(0).commune_match());
  EXPECT_EQ(suggestions.suggestions(1).gp_member_id(), other_gp_);
  EXPECT_FALSE(suggestions.suggestions(1).commune_match());
  EXPECT_EQ(suggestions.suggestions(1).nearest_commune_insee(), kCommunes[1]);
  EXPECT_EQ(suggestions.suggestions(2).gp_member_id(), far_gp);
  EXPECT_EQ(suggestions.suggestions(2).nearest_commune_insee(), kCommunes[2]);

  // Replaced, not merged: without the links, capacity decides after the commune match.
  st = access_->UpdateTerritory(Ctx(Token({"coordinator"})).get(), v1::UpdateTerritoryRequest(),
                                &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(updated.territory().links_size(), 0);
  st = access_->ProposeMatch(Ctx(Token({"coordinator"})).get(), propose, &suggestions);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(suggestions.suggestions_size(), 3);
  EXPECT_EQ(suggestions.suggestions(1).gp_member_id(), far_gp);
}

TEST_F(AccessMtE2e, UpdateTerritoryRefusesBadLinksAndNonCoordinators) {
  v1::UpdateTerritoryRequest update;
  auto* link = update.mutable_territory()->add_links();
  link->set_commune_a(kCommunes[0]);
  link->set_commune_b(kCommunes[1]);
  link->set_distance(0);
  v1::UpdateTerritoryResponse updated;
  grpc::Status st = access_->UpdateTerritory(Ctx(Token({"coordinator"})).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), "territory.links[0].distance"))
      << st.error_message();

  link->set_distance(2);
  link->set_commune_b(kCommunes[0]);
  st = access_->UpdateTerritory(Ctx(Token({"coordinator"})).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), "territory.links[0].commune_b"))
      << st.error_message();

  link->set_commune_b("not-insee");
  st = access_->UpdateTerritory(Ctx(Token({"coordinator"})).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(absl::StrContains(st.error_message(), "territory.links[0].commune_b"))
      << st.error_message();

  // A valid territory, but from a member or a triage nurse: refused.
  link->set_commune_b(kCommunes[1]);
  st = access_->UpdateTerritory(Ctx(Token({"member"}, gp_)).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  st = access_->UpdateTerritory(Ctx(Token({"triage_nurse"})).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  v1::GetTerritoryResponse read;
  st = access_->GetTerritory(Ctx(Token({"member"}, gp_)).get(), v1::GetTerritoryRequest(), &read);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();

  // Nothing was stored.
  st = access_->GetTerritory(Ctx(Token({"coordinator"})).get(), v1::GetTerritoryRequest(), &read);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(read.territory().links_size(), 0);
  EXPECT_FALSE(read.territory().has_update_time());
}

}  // namespace
}  // namespace cpts::e2e
