// Patient data stay where they belong, end to end on the real servers: after every call that
// carries them (MT submission, triage, reads, refused reads, a request refused for a bad
// field, booking, reading, cancelling a booking), the access server's log holds none of them,
// and the database holds only ciphertext in every patient column.
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

// Distinctive synthetic values, so that any occurrence in the log is theirs.
constexpr char kGiven[] = "Zephyrine";
constexpr char kFamily[] = "Quasimodo-Testeur";
constexpr char kPhone[] = "06 55 44 33 22";
constexpr char kPhoneE164[] = "+33655443322";
constexpr char kEmail[] = "zephyrine.quasimodo@example.org";
constexpr char kNotes[] = "antecedents cardiaques synthetiques";
constexpr char kSynthesis[] = "synthese confidentielle Quasimodo";
constexpr char kReason[] = "douleur thoracique synthetique";
constexpr char kCancel[] = "annulation demandee par Zephyrine";

using AccessPrivacyE2e = AccessE2e;

TEST_F(AccessPrivacyE2e, NoPatientDataInTheLogAndOnlyCiphertextAtRest) {
  const std::string gp = CreateActiveMember("MEDECIN_GENERALISTE", {kCommunes[0]});
  const std::string nurse = Token({"triage_nurse"});

  // MT: submit, a submission refused for a bad field that still carries the patient, triage,
  // a full read, a refused read.
  v1::SubmitMtRequestRequest submit;
  auto* r = submit.mutable_mt_request();
  r->mutable_patient()->set_given_name(kGiven);
  r->mutable_patient()->set_family_name(kFamily);
  r->mutable_patient()->mutable_birth_date()->set_year(1947);
  r->mutable_patient()->mutable_birth_date()->set_month(11);
  r->mutable_patient()->mutable_birth_date()->set_day(23);
  r->set_commune_insee(kCommunes[0]);
  r->mutable_contact()->set_phone(kPhone);
  r->mutable_contact()->set_email(kEmail);
  r->mutable_fragility()->set_notes(kNotes);
  r->set_origin(v1::MT_ORIGIN_PROFESSIONAL);
  r->mutable_consent()->set_granted(true);
  v1::SubmitMtRequestRequest bad = submit;
  bad.mutable_mt_request()->mutable_contact()->set_phone(absl::StrCat(kFamily, " 12"));
  v1::SubmitMtRequestResponse submitted;
  EXPECT_EQ(access_->SubmitMtRequest(Ctx(nurse).get(), bad, &submitted).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status st = access_->SubmitMtRequest(Ctx(nurse).get(), submit, &submitted);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const std::string mt_id = submitted.mt_request().id();
  v1::TriageMtRequestRequest triage;
  triage.set_mt_request_id(mt_id);
  triage.set_synthesis(kSynthesis);
  v1::TriageMtRequestResponse triaged;
  ASSERT_TRUE(access_->TriageMtRequest(Ctx(nurse).get(), triage, &triaged).ok());
  v1::GetMtRequestRequest get;
  get.set_mt_request_id(mt_id);
  v1::GetMtRequestResponse got;
  ASSERT_TRUE(access_->GetMtRequest(Ctx(nurse).get(), get, &got).ok());
  EXPECT_EQ(got.mt_request().patient().family_name(), kFamily);
  EXPECT_EQ(got.mt_request().contact().phone(), kPhoneE164);
  EXPECT_EQ(access_->GetMtRequest(Ctx(Token({"member"}, gp)).get(), get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // SNP: publish, book, read, cancel.
  v1::PublishSlotsRequest publish;
  v1::Slot* s = publish.add_slots();
  s->mutable_start_time()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(48)) / 60 *
                                       60);
  s->mutable_duration()->set_seconds(900);
  s->set_mode(v1::CONSULTATION_MODE_VIDEO);
  s->set_visibility(v1::VISIBILITY_PRO);
  s->set_kind(v1::SLOT_KIND_BOOKABLE);
  v1::PublishSlotsResponse published;
  ASSERT_TRUE(access_->PublishSlots(Ctx(Token({"member"}, gp)).get(), publish, &published).ok());
  v1::BookSlotRequest book;
  book.set_slot_id(published.slots(0).id());
  book.mutable_patient()->set_given_name(kGiven);
  book.mutable_patient()->set_family_name(kFamily);
  book.mutable_patient()->mutable_birth_date()->set_year(1947);
  book.mutable_patient()->mutable_birth_date()->set_month(11);
  book.mutable_patient()->mutable_birth_date()->set_day(23);
  book.mutable_contact()->set_phone(kPhone);
  book.mutable_contact()->set_email(kEmail);
  book.set_reason(kReason);
  book.set_request_id("privacy-1");
  v1::BookSlotResponse booked;
  st = access_->BookSlot(Ctx(Token({"secretary"})).get(), book, &booked);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const std::string booking_id = booked.booking().id();
  v1::GetBookingRequest get_booking;
  get_booking.set_booking_id(booking_id);
  v1::GetBookingResponse got_booking;
  ASSERT_TRUE(
      access_->GetBooking(Ctx(Token({"member"}, gp)).get(), get_booking, &got_booking).ok());
  EXPECT_EQ(got_booking.booking().reason(), kReason);
  v1::CancelBookingRequest cancel;
  cancel.set_booking_id(booking_id);
  cancel.set_reason(kCancel);
  v1::CancelBookingResponse cancelled;
  ASSERT_TRUE(access_->CancelBooking(Ctx(Token({"secretary"})).get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.booking().cancel_reason(), kCancel);

  // The log: one line per call (so the check below reads something), none with patient data.
  const std::string log = access_server().ReadLog();
  ASSERT_TRUE(absl::StrContains(log, "BookSlot")) << "no request log to check";
  ASSERT_TRUE(absl::StrContains(log, "SubmitMtRequest"));
  for (const char* secret : {kGiven, kFamily, kPhoneE164, "0655443322", "06 55 44 33 22", kEmail,
                             kNotes, kSynthesis, kReason, kCancel, "1947-11-23"}) {
    EXPECT_FALSE(absl::StrContains(log, secret)) << "the access log contains " << secret;
  }

  // At rest: ciphertext in every patient column.
  const std::string mt_where = absl::StrCat(" FROM mt_requests WHERE id = '", mt_id, "'");
  for (const char* column : {"given_name_ct", "family_name_ct", "birth_date_ct", "phone_ct",
                             "email_ct", "notes_ct", "triage_synthesis_ct"}) {
    const std::vector<std::string> v = QueryColumn(absl::StrCat("SELECT ", column, mt_where));
    ASSERT_EQ(v.size(), 1U) << column;
    EXPECT_TRUE(absl::StartsWith(v[0], "cpts1:")) << column << ": " << v[0];
  }
  const std::string booking_where =
      absl::StrCat(" FROM snp_bookings WHERE id = '", booking_id, "'");
  for (const char* column : {"patient_given_name_enc", "patient_family_name_enc",
                             "patient_birth_date_enc", "patient_sex_enc", "contact_phone_enc",
                             "contact_email_enc", "reason_enc", "cancel_reason_enc"}) {
    const std::vector<std::string> v = QueryColumn(absl::StrCat("SELECT ", column, booking_where));
    ASSERT_EQ(v.size(), 1U) << column;
    EXPECT_TRUE(absl::StartsWith(v[0], "cpts1:")) << column << ": " << v[0];
  }
  const std::vector<std::string> clear_reason =
      QueryColumn(absl::StrCat("SELECT cancel_reason", booking_where));
  ASSERT_EQ(clear_reason.size(), 1U);
  EXPECT_EQ(clear_reason[0], "");
}

}  // namespace
}  // namespace cpts::e2e
