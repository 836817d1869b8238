// Retries end to end through gRPC: a create retried with the same request_id (one after the
// other, and concurrently, as a client whose first answer was lost would) gives one resource
// and the same answer; the same key with other content is refused; a stale etag is ABORTED
// and changes nothing.
#include <atomic>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/access_fixture.h"

namespace cpts::e2e {
namespace {

namespace v1 = ::cpts::access::v1;
using grpc::StatusCode;

constexpr int kRetries = 4;

// Calls `call` until it is not ABORTED (the documented "re-read and retry"), at most 10 times.
template <typename F>
grpc::Status RetryAborted(F call) {
  grpc::Status st;
  for (int i = 0; i < 10; ++i) {
    st = call();
    if (st.error_code() != StatusCode::ABORTED) return st;
  }
  return st;
}

class AccessIdempotencyE2e : public AccessE2e {
 protected:
  std::string Count(const std::string& table) const {
    const std::vector<std::string> rows = QueryColumn(
        absl::StrCat("SELECT COUNT(*) FROM ", table, " WHERE tenant_id = '", tenant_, "'"));
    return rows.size() == 1 ? rows[0] : "?";
  }

  // Runs `call(i)` on kRetries threads released together; returns the statuses.
  template <typename F>
  static std::vector<grpc::Status> Concurrently(F call) {
    std::latch start(kRetries);
    std::vector<grpc::Status> out(kRetries);
    std::vector<std::thread> threads;
    threads.reserve(kRetries);
    for (int i = 0; i < kRetries; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        out[static_cast<size_t>(i)] = call(i);
      });
    }
    for (auto& t : threads) t.join();
    return out;
  }
};

TEST_F(AccessIdempotencyE2e, SubmitMtRequestRetriedGivesOneRequest) {
  v1::SubmitMtRequestRequest req;
  auto* r = req.mutable_mt_request();
  r->mutable_patient()->set_given_name("Basile");
  r->mutable_patient()->set_family_name("Reessai");
  r->mutable_patient()->mutable_birth_date()->set_year(1972);
  r->mutable_patient()->mutable_birth_date()->set_month(7);
  r->mutable_patient()->mutable_birth_date()->set_day(14);
  r->set_commune_insee(kCommunes[1]);
  r->mutable_contact()->set_email("basile@example.org");
  r->set_origin(v1::MT_ORIGIN_PARTNER_DAC);
  r->mutable_consent()->set_granted(true);
  req.set_request_id("dac-2026-000123");
  const std::string partner = Token({"partner"}, "", "partner-dac");

  std::vector<v1::SubmitMtRequestResponse> answers(kRetries);
  const std::vector<grpc::Status> statuses = Concurrently([&](int i) {
    return RetryAborted([&] {
      return access_->SubmitMtRequest(Ctx(partner).get(), req, &answers[static_cast<size_t>(i)]);
    });
  });
  std::set<std::string> ids;
  for (int i = 0; i < kRetries; ++i) {
    ASSERT_TRUE(statuses[static_cast<size_t>(i)].ok())
        << statuses[static_cast<size_t>(i)].error_message();
    ids.insert(answers[static_cast<size_t>(i)].mt_request().id());
  }
  ASSERT_EQ(ids.size(), 1U);
  v1::SubmitMtRequestResponse again;
  ASSERT_TRUE(access_->SubmitMtRequest(Ctx(partner).get(), req, &again).ok());
  EXPECT_EQ(again.mt_request().id(), *ids.begin());
  EXPECT_EQ(Count("mt_requests"), "1");

  // The same key for another patient is a client bug: refused, nothing stored.
  v1::SubmitMtRequestRequest other = req;
  other.mutable_mt_request()->mutable_patient()->set_given_name("Bertille");
  grpc::Status st = access_->SubmitMtRequest(Ctx(partner).get(), other, &again);
  EXPECT_EQ(st.error_code(), StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(Count("mt_requests"), "1");

  // Keys are per caller: another partner of the tenant with the same key gets its own request.
  const std::string other_partner = Token({"partner"}, "", "partner-cpam");
  v1::SubmitMtRequestResponse theirs;
  st = access_->SubmitMtRequest(Ctx(other_partner).get(), other, &theirs);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_NE(theirs.mt_request().id(), *ids.begin());
  EXPECT_EQ(Count("mt_requests"), "2");
  st = access_->SubmitMtRequest(Ctx(other_partner).get(), other, &again);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(again.mt_request().id(), theirs.mt_request().id());
  EXPECT_EQ(Count("mt_requests"), "2");
}

TEST_F(AccessIdempotencyE2e, PublishAndBookRetriedGiveOneResult) {
  const std::string gp = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
  const std::string gp_token = Token({"member"}, gp);
  v1::PublishSlotsRequest publish;
  for (int h : {30, 31}) {
    v1::Slot* s = publish.add_slots();
    s->mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(h)) / 60 *
                                         60);
    s->mutable_duration()->set_seconds(1800);
    s->set_mode(v1::CONSULTATION_MODE_VIDEO);
    s->set_visibility(v1::VISIBILITY_PRO);
    s->set_kind(v1::SLOT_KIND_BOOKABLE);
  }
  publish.set_request_id("agenda-sync-42");
  std::vector<v1::PublishSlotsResponse> published(kRetries);
  std::vector<grpc::Status> statuses = Concurrently([&](int i) {
    return RetryAborted([&] {
      return access_->PublishSlots(Ctx(gp_token).get(), publish,
                                   &published[static_cast<size_t>(i)]);
    });
  });
  std::set<std::string> slot_ids;
  for (int i = 0; i < kRetries; ++i) {
    ASSERT_TRUE(statuses[static_cast<size_t>(i)].ok())
        << statuses[static_cast<size_t>(i)].error_message();
    ASSERT_EQ(published[static_cast<size_t>(i)].slots_size(), 2);
    for (const auto& s : published[static_cast<size_t>(i)].slots()) slot_ids.insert(s.id());
  }
  EXPECT_EQ(slot_ids.size(), 2U);
  EXPECT_EQ(Count("snp_slots"), "2");
  v1::PublishSlotsRequest changed = publish;
  changed.mutable_slots(0)->mutable_duration()->set_seconds(1200);
  v1::PublishSlotsResponse refused;
  grpc::Status st = access_->PublishSlots(Ctx(gp_token).get(), changed, &refused);
  EXPECT_EQ(st.error_code(), StatusCode::ALREADY_EXISTS) << st.error_message();
  EXPECT_EQ(Count("snp_slots"), "2");

  v1::BookSlotRequest book;
  book.set_slot_id(published[0].slots(0).id());
  book.mutable_patient()->set_given_name("Capucine");
  book.mutable_patient()->set_family_name("Reessai");
  book.mutable_patient()->mutable_birth_date()->set_year(2001);
  book.mutable_patient()->mutable_birth_date()->set_month(3);
  book.mutable_patient()->mutable_birth_date()->set_day(3);
  book.mutable_contact()->set_phone("0611111111");
  book.set_reason("suivi");
  book.set_request_id("sas-call-7");
  const std::string regulator = Token({"sas_regulator"});
  std::vector<v1::BookSlotResponse> booked(kRetries);
  statuses = Concurrently([&](int i) {
    return RetryAborted([&] {
      return access_->BookSlot(Ctx(regulator).get(), book, &booked[static_cast<size_t>(i)]);
    });
  });
  std::set<std::string> booking_ids;
  for (int i = 0; i < kRetries; ++i) {
    ASSERT_TRUE(statuses[static_cast<size_t>(i)].ok())
        << statuses[static_cast<size_t>(i)].error_message();
    booking_ids.insert(booked[static_cast<size_t>(i)].booking().id());
  }
  EXPECT_EQ(booking_ids.size(), 1U);
  EXPECT_EQ(Count("snp_bookings"), "1");
  // Another regulator's key is theirs: the same key from another subject is a new booking,
  // which the slot, now booked, refuses.
  v1::BookSlotResponse other;
  st = access_->BookSlot(Ctx(Token({"sas_regulator"}, "", "regulator-2")).get(), book, &other);
  EXPECT_EQ(st.error_code(), StatusCode::FAILED_PRECONDITION) << st.error_message();
  // The same key for another patient: refused.
  v1::BookSlotRequest changed_book = book;
  changed_book.mutable_patient()->set_given_name("Clotilde");
  st = access_->BookSlot(Ctx(regulator).get(), changed_book, &other);
  EXPECT_EQ(st.error_code(), StatusCode::ALREADY_EXISTS) << st.error_message();
  EXPECT_EQ(Count("snp_bookings"), "1");
}

TEST_F(AccessIdempotencyE2e, StaleEtagIsAbortedAndChangesNothing) {
  const std::string nurse = Token({"triage_nurse"});
  v1::SubmitMtRequestRequest req;
  auto* r = req.mutable_mt_request();
  r->mutable_patient()->set_given_name("Denis");
  r->mutable_patient()->set_family_name("Concurrent");
  r->mutable_patient()->mutable_birth_date()->set_year(1980);
  r->mutable_patient()->mutable_birth_date()->set_month(1);
  r->mutable_patient()->mutable_birth_date()->set_day(1);
  r->set_commune_insee(kCommunes[0]);
  r->mutable_contact()->set_phone("0622222222");
  r->set_origin(v1::MT_ORIGIN_PROFESSIONAL);
  r->mutable_consent()->set_granted(true);
  v1::SubmitMtRequestResponse submitted;
  ASSERT_TRUE(access_->SubmitMtRequest(Ctx(nurse).get(), req, &submitted).ok());
  const std::string stale = submitted.mt_request().etag();

  v1::TriageMtRequestRequest triage;
  triage.set_mt_request_id(submitted.mt_request().id());
  triage.set_synthesis("Première synthèse");
  triage.set_etag(stale);
  v1::TriageMtRequestResponse triaged;
  ASSERT_TRUE(access_->TriageMtRequest(Ctx(nurse).get(), triage, &triaged).ok());
  triage.set_synthesis("Synthèse écrite sur une version périmée");
  v1::TriageMtRequestResponse lost;
  const grpc::Status st = access_->TriageMtRequest(Ctx(nurse).get(), triage, &lost);
  EXPECT_EQ(st.error_code(), StatusCode::ABORTED) << st.error_message();
  v1::GetMtRequestRequest get;
  get.set_mt_request_id(submitted.mt_request().id());
  v1::GetMtRequestResponse got;
  ASSERT_TRUE(access_->GetMtRequest(Ctx(nurse).get(), get, &got).ok());
  EXPECT_EQ(got.mt_request().etag(), triaged.mt_request().etag());
  EXPECT_EQ(got.mt_request().triage().synthesis(), "Première synthèse");
}

}  // namespace
}  // namespace cpts::e2e
