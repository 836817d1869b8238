// Integration tests of the SNP agenda on MysqlSnpStore against a real MariaDB
// (SharedMariaDb()): one schema migrated with {PlatformMigrations(), SnpMigrations()} per test
// process, and a fresh tenant per test so that tests do not see each other's rows. The agenda
// (SnpAgenda) runs on the real store: the rules that only hold with the database (a slot is
// never booked twice, publications serialised per professional, ciphertext at rest, audit in
// the same transaction) are tested through it.
#include "services/access/mysql_snp_store.h"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/access/fhir_http.h"
#include "services/access/patient_audit.h"
#include "services/access/snp_agenda.h"
#include "services/access/snp_migrations.h"
#include "services/membership/client/member_directory.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/migrations.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::platform::auth::Principal;
using ::cpts::platform::db::ConnectionPool;
using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// --- shared schema and keys --------------------------------------------------------------

struct SharedSchema {
  absl::Status status;
  std::unique_ptr<ConnectionPool> pool;  // the application user: no DDL
};

SharedSchema& Schema() {
  static SharedSchema* const shared = [] {
    auto* s = new SharedSchema;
    absl::StatusOr<cpts::testing::TestSchema> schema =
        cpts::testing::CreateTestSchema(cpts::testing::SharedMariaDb(), "access_snp");
    if (!schema.ok()) {
      s->status = schema.status();
      return s;
    }
    std::unique_ptr<ConnectionPool> migrator = ConnectionPool::Create(schema->migrator);
    s->status = platform::db::RunMigrations(*migrator,
                                            {platform::db::PlatformMigrations(), SnpMigrations()});
    schema->app.pool_size = 32;
    if (s->status.ok()) s->pool = ConnectionPool::Create(schema->app);
    return s;
  }();
  return *shared;
}

const platform::crypto::FieldCipher& Cipher() {
  static const platform::crypto::FieldCipher* const cipher = [] {
    absl::StatusOr<platform::crypto::FieldCipher> c =
        platform::crypto::FieldCipher::FromKeyFileContents(
            "aead k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
            "hash h1 QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\n");
    if (!c.ok()) std::abort();
    return new platform::crypto::FieldCipher(*std::move(c));
  }();
  return *cipher;
}

std::string NextTenant() {
  static std::atomic<int> counter{0};
  return absl::StrCat("t", absl::ToUnixMicros(absl::Now()) % 1000000000, "_", ++counter);
}

// 2030-03-04 08:00 UTC.
constexpr absl::Time kNow = absl::FromUnixSeconds(1898841600);

std::string Rpps(int i) { return absl::StrFormat("100000%05d", i); }

class SnpAgendaDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(Schema().status, IsOk());
    for (int i = 0; i < 40; ++i) {
      directory_.Put(tenant_, {.member_id = absl::StrCat("gp-", i),
                               .status = membership::MemberStatus::kActive,
                               .profession_code = "MEDECIN_GENERALISTE",
                               .commune_insee_codes = {"77288"},
                               .rpps = Rpps(i),
                               .given_name = "Jean",
                               .family_name = absl::StrCat("Doc", i)});
    }
    directory_.Put(tenant_, {.member_id = "ph-1",
                             .status = membership::MemberStatus::kActive,
                             .profession_code = "PHARMACIEN",
                             .commune_insee_codes = {}});
    directory_.Put(tenant_, {.member_id = "ph-2",
                             .status = membership::MemberStatus::kActive,
                             .profession_code = "PHARMACIEN",
                             .commune_insee_codes = {}});
    directory_.Put(tenant_, {.member_id = "gone-1",
                             .status = membership::MemberStatus::kResigned,
                             .profession_code = "MEDECIN_GENERALISTE",
                             .commune_insee_codes = {}});
  }

  Principal Member(const std::string& member_id, const std::string& subject = "") const {
    return Principal{.tenant_id = tenant_,
                     .subject = subject.empty() ? absl::StrCat("user:", member_id) : subject,
                     .member_id = member_id,
                     .roles = {"member"}};
  }
  Principal Coordinator() const {
    return Principal{
        .tenant_id = tenant_, .subject = "user:coord", .member_id = "", .roles = {"coordinator"}};
  }
  Principal Regulator() const {
    return Principal{
        .tenant_id = tenant_, .subject = "user:sas", .member_id = "", .roles = {"sas_regulator"}};
  }

  static Slot Draft(const std::string& member_id, absl::Time start, int minutes,
                    Visibility visibility = Visibility::kPublic,
                    const std::string& commune = "77288") {
    Slot s;
    s.professional_member_id = member_id;
    s.start = start;
    s.duration = absl::Minutes(minutes);
    s.mode = ConsultationMode::kOffice;
    s.place = {.commune_insee = commune, .address = "1 rue de la Gare"};
    s.visibility = visibility;
    s.kind = SlotKind::kBookable;
    return s;
  }

  static BookingDraft Patient(const std::string& slot_id, const std::string& family = "Martin",
                              const std::string& request_id = "") {
    BookingDraft d;
    d.slot_id = slot_id;
    d.patient = {.given_name = "Alice",
                 .family_name = family,
                 .birth_date = absl::CivilDay(1980, 5, 17),
                 .sex = Sex::kFemale};
    d.contact = {.phone = "06 12 34 56 78", .email = "alice@Example.org"};
    d.reason = "fièvre depuis trois jours";
    d.request_id = request_id;
    return d;
  }

  // Publishes one slot for `member` (as coordinator) and returns it.
  Slot PublishOne(const std::string& member, absl::Time start, int minutes = 20,
                  Visibility visibility = Visibility::kPublic) {
    absl::StatusOr<std::vector<Slot>> slots =
        agenda_.PublishSlots(Coordinator(), {Draft(member, start, minutes, visibility)}, "");
    EXPECT_THAT(slots.status(), IsOk());
    if (!slots.ok() || slots->size() != 1) return Slot{};
    return (*slots)[0];
  }

  int64_t CountBookings(const std::string& slot_id) {
    auto lease = Schema().pool->Acquire();
    if (!lease.ok()) return -1;
    std::unique_ptr<sql::ResultSet> rs;
    sql::PreparedStatement& ps =
        (*lease)->Prepare("SELECT COUNT(*) FROM snp_bookings WHERE tenant_id = ? AND slot_id = ?");
    ps.setString(1, tenant_);
    ps.setString(2, slot_id);
    rs.reset(ps.executeQuery());
    rs->next();
    return rs->getInt64(1);
  }

  std::vector<platform::db::AuditRecord> AuditOf(const std::string& booking_id) {
    auto lease = Schema().pool->Acquire();
    if (!lease.ok()) return {};
    absl::StatusOr<std::vector<platform::db::AuditRecord>> records =
        platform::db::ListAudit(**lease, tenant_, "booking", booking_id, 100);
    EXPECT_THAT(records.status(), IsOk());
    return records.ok() ? *records : std::vector<platform::db::AuditRecord>{};
  }

  std::string tenant_ = NextTenant();
  platform::FakeClock clock_{kNow};
  platform::RandomIdGenerator ids_{clock_};
  membership::client::FakeMemberDirectory directory_;
  AccessDeps deps_{.pool = *Schema().pool,
                   .clock = clock_,
                   .ids = ids_,
                   .cipher = Cipher(),
                   .directory = directory_,
                   .zone = absl::UTCTimeZone()};
  MysqlSnpStore store_{*Schema().pool, Cipher()};
  SnpAgenda agenda_{store_, deps_};
};

// --- publishing --------------------------------------------------------------------------

TEST_F(SnpAgendaDbTest, PublishAndGetRoundTrip) {
  absl::StatusOr<std::vector<Slot>> slots = agenda_.PublishSlots(
      Member("gp-1"), {Draft("", kNow + absl::Hours(2), 30), Draft("", kNow + absl::Hours(3), 15)},
      "");
  ASSERT_THAT(slots.status(), IsOk());
  ASSERT_EQ(slots->size(), 2u);
  const Slot& s = (*slots)[0];
  EXPECT_EQ(s.professional_member_id, "gp-1");
  EXPECT_EQ(s.profession_code, "MEDECIN_GENERALISTE");
  EXPECT_EQ(s.status, SlotStatus::kFree);
  absl::StatusOr<Slot> read = agenda_.GetSlot(Member("ph-1"), s.id);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->start, s.start);
  EXPECT_EQ(read->duration, absl::Minutes(30));
  EXPECT_EQ(read->place, s.place);
  EXPECT_EQ(read->published_by, "user:gp-1");
  EXPECT_EQ(read->version, 1);
}

TEST_F(SnpAgendaDbTest, PublishRefusesInactiveOrUnknownProfessional) {
  EXPECT_THAT(agenda_.PublishSlots(Coordinator(), {Draft("gone-1", kNow + absl::Hours(1), 20)}, "")
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(agenda_.PublishSlots(Coordinator(), {Draft("nobody", kNow + absl::Hours(1), 20)}, "")
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // A member may not publish for someone else.
  EXPECT_THAT(
      agenda_.PublishSlots(Member("gp-2"), {Draft("gp-3", kNow + absl::Hours(1), 20)}, "").status(),
      StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(SnpAgendaDbTest, OverlapRefusedAdjacentAccepted) {
  const absl::Time ten = kNow + absl::Hours(2);
  PublishOne("gp-1", ten, 30);
  EXPECT_THAT(agenda_.PublishSlots(Coordinator(), {Draft("gp-1", ten + absl::Minutes(15), 30)}, "")
                  .status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, "overlaps the existing slot"));
  // In the same batch.
  EXPECT_THAT(agenda_
                  .PublishSlots(Coordinator(),
                                {Draft("gp-1", ten + absl::Hours(2), 30),
                                 Draft("gp-1", ten + absl::Hours(2) + absl::Minutes(10), 30)},
                                "")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // All or nothing: nothing of the refused batch was written.
  EXPECT_THAT(
      agenda_.PublishSlots(Coordinator(), {Draft("gp-1", ten + absl::Hours(2), 30)}, "").status(),
      IsOk());
  // Adjacent, and another professional at the same time.
  EXPECT_THAT(agenda_.PublishSlots(Coordinator(), {Draft("gp-1", ten + absl::Minutes(30), 30)}, "")
                  .status(),
              IsOk());
  EXPECT_THAT(agenda_.PublishSlots(Coordinator(), {Draft("gp-2", ten, 30)}, "").status(), IsOk());
}

TEST_F(SnpAgendaDbTest, ConcurrentOverlappingPublicationsOneWins) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 5; ++round) {
    const absl::Time base = kNow + absl::Hours(10 + round);
    std::latch start(kThreads);
    std::atomic<int> ok{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const Slot draft = Draft("gp-5", base + absl::Minutes(t), 30);
        start.arrive_and_wait();
        absl::Status s = agenda_.PublishSlots(Coordinator(), {draft}, "").status();
        if (s.ok()) {
          ++ok;
        } else if (absl::IsFailedPrecondition(s) || absl::IsAborted(s)) {
          ++refused;
        } else {
          ADD_FAILURE() << s;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), kThreads - 1) << "round " << round;
  }
}

TEST_F(SnpAgendaDbTest, PublishIdempotentWithRequestId) {
  const std::vector<Slot> drafts = {Draft("gp-1", kNow + absl::Hours(5), 30)};
  absl::StatusOr<std::vector<Slot>> first = agenda_.PublishSlots(Coordinator(), drafts, "pub-1");
  ASSERT_THAT(first.status(), IsOk());
  absl::StatusOr<std::vector<Slot>> again = agenda_.PublishSlots(Coordinator(), drafts, "pub-1");
  ASSERT_THAT(again.status(), IsOk());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, (*first)[0].id);
  EXPECT_THAT(
      agenda_.PublishSlots(Coordinator(), {Draft("gp-1", kNow + absl::Hours(7), 30)}, "pub-1")
          .status(),
      StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(SnpAgendaDbTest, WithdrawFreeSlotOnly) {
  const Slot a = PublishOne("gp-1", kNow + absl::Hours(2));
  absl::StatusOr<Slot> w = agenda_.WithdrawSlot(Member("gp-1"), a.id, "congé");
  ASSERT_THAT(w.status(), IsOk());
  EXPECT_EQ(w->status, SlotStatus::kWithdrawn);
  EXPECT_EQ(w->version, 2);
  EXPECT_THAT(agenda_.WithdrawSlot(Member("gp-2"), PublishOne("gp-1", kNow + absl::Hours(4)).id, "")
                  .status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  const Slot b = PublishOne("gp-1", kNow + absl::Hours(6));
  ASSERT_THAT(agenda_.BookSlot(Member("ph-1"), Patient(b.id)).status(), IsOk());
  EXPECT_THAT(agenda_.WithdrawSlot(Coordinator(), b.id, "").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// --- search ------------------------------------------------------------------------------

TEST_F(SnpAgendaDbTest, SearchOrderFiltersAndKeysetPagination) {
  // Same starts across professionals: the id breaks the tie.
  std::vector<Slot> published;
  for (int p = 0; p < 3; ++p) {
    for (int h = 0; h < 3; ++h) {
      published.push_back(PublishOne(absl::StrCat("gp-", p), kNow + absl::Hours(1 + h)));
    }
  }
  published.push_back(PublishOne("gp-9", kNow + absl::Hours(2), 20, Visibility::kCpts));
  const Slot withdrawn = PublishOne("gp-8", kNow + absl::Hours(2));
  ASSERT_THAT(agenda_.WithdrawSlot(Coordinator(), withdrawn.id, "").status(), IsOk());

  SlotSearchQuery q;
  q.start_time = kNow;
  q.end_time = kNow + absl::Hours(24);
  q.page_size = 4;
  std::vector<Slot> seen;
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<SlotSearchPage> r = agenda_.SearchSlots(Member("ph-1"), q);
    ASSERT_THAT(r.status(), IsOk());
    EXPECT_LE(r->slots.size(), 4u);
    seen.insert(seen.end(), r->slots.begin(), r->slots.end());
    if (r->next_page_token.empty()) break;
    q.page_token = r->next_page_token;
  }
  // The member sees the 9 PUBLIC slots, not the CPTS one nor the withdrawn one.
  ASSERT_EQ(seen.size(), 9u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_TRUE(SlotSearchOrder(seen[i - 1], seen[i])) << i;
  }
  std::set<std::string> ids;
  for (const Slot& s : seen) ids.insert(s.id);
  EXPECT_EQ(ids.size(), 9u);

  // The coordinator sees the CPTS slot too.
  SlotSearchQuery all;
  all.start_time = kNow;
  all.end_time = kNow + absl::Hours(24);
  absl::StatusOr<SlotSearchPage> coord = agenda_.SearchSlots(Coordinator(), all);
  ASSERT_THAT(coord.status(), IsOk());
  EXPECT_EQ(coord->slots.size(), 10u);

  // Filters: professional and commune.
  SlotSearchQuery one = all;
  one.professional_member_ids = {"gp-1"};
  absl::StatusOr<SlotSearchPage> r1 = agenda_.SearchSlots(Member("ph-1"), one);
  ASSERT_THAT(r1.status(), IsOk());
  EXPECT_EQ(r1->slots.size(), 3u);
  SlotSearchQuery elsewhere = all;
  elsewhere.communes = {"75056"};
  absl::StatusOr<SlotSearchPage> r2 = agenda_.SearchSlots(Member("ph-1"), elsewhere);
  ASSERT_THAT(r2.status(), IsOk());
  EXPECT_TRUE(r2->slots.empty());

  // A booked slot leaves the search.
  ASSERT_THAT(agenda_.BookSlot(Member("ph-1"), Patient(seen[0].id)).status(), IsOk());
  absl::StatusOr<SlotSearchPage> after = agenda_.SearchSlots(Coordinator(), all);
  ASSERT_THAT(after.status(), IsOk());
  EXPECT_EQ(after->slots.size(), 9u);
}

// --- booking -----------------------------------------------------------------------------

TEST_F(SnpAgendaDbTest, SixtyFourConcurrentBookingsOneWinnerRepeated) {
  constexpr int kThreads = 64;
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const Slot slot = PublishOne("gp-2", kNow + absl::Hours(1) + absl::Minutes(30 * round));
    ASSERT_FALSE(slot.id.empty());
    std::latch start(kThreads);
    std::atomic<int> ok{0};
    std::atomic<int> lost{0};
    std::mutex mu;
    std::string winner;
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        const Principal caller = Member("ph-1", absl::StrCat("user:ph-", t));
        BookingDraft draft = Patient(slot.id, absl::StrCat("Patient", t));
        start.arrive_and_wait();
        absl::StatusOr<BookingAndSlot> r = agenda_.BookSlot(caller, draft);
        if (r.ok()) {
          ++ok;
          std::lock_guard lock(mu);
          winner = r->booking.id;
        } else if (absl::IsFailedPrecondition(r.status()) || absl::IsAborted(r.status())) {
          ++lost;
        } else {
          ADD_FAILURE() << r.status();
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(ok.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), kThreads - 1) << "round " << round;
    EXPECT_EQ(CountBookings(slot.id), 1) << "round " << round;
    absl::StatusOr<Slot> after = agenda_.GetSlot(Coordinator(), slot.id);
    ASSERT_THAT(after.status(), IsOk());
    EXPECT_EQ(after->status, SlotStatus::kBooked);
    EXPECT_EQ(after->booking_id, winner);
    EXPECT_EQ(after->version, 2);  // one write: the winner's
  }
}

TEST_F(SnpAgendaDbTest, BookSlotIdempotentWithRequestId) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(3));
  absl::StatusOr<BookingAndSlot> first =
      agenda_.BookSlot(Member("ph-1"), Patient(slot.id, "Martin", "req-1"));
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_FALSE(first->replayed);
  absl::StatusOr<BookingAndSlot> retry =
      agenda_.BookSlot(Member("ph-1"), Patient(slot.id, "Martin", "req-1"));
  ASSERT_THAT(retry.status(), IsOk());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->booking.id, first->booking.id);
  EXPECT_EQ(retry->booking.patient, first->booking.patient);
  EXPECT_EQ(retry->slot.status, SlotStatus::kBooked);
  // Same key, another request.
  EXPECT_THAT(agenda_.BookSlot(Member("ph-1"), Patient(slot.id, "Durand", "req-1")).status(),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // Another caller's key is another key; the slot is taken.
  EXPECT_THAT(agenda_.BookSlot(Member("ph-2"), Patient(slot.id, "Martin", "req-1")).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(CountBookings(slot.id), 1);
}

TEST_F(SnpAgendaDbTest, ConcurrentRetriesOfOneRequestGiveOneBooking) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(3));
  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::mutex mu;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      absl::StatusOr<BookingAndSlot> r =
          agenda_.BookSlot(Member("ph-1"), Patient(slot.id, "Martin", "same"));
      ASSERT_THAT(r.status(), IsOk());
      std::lock_guard lock(mu);
      ids.insert(r->booking.id);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(CountBookings(slot.id), 1);
}

TEST_F(SnpAgendaDbTest, CancelFreesTheSlotForAnotherBooking) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(3));
  absl::StatusOr<BookingAndSlot> b = agenda_.BookSlot(Member("ph-1"), Patient(slot.id));
  ASSERT_THAT(b.status(), IsOk());
  EXPECT_EQ(b->booking.origin, BookingOrigin::kProfessional);
  EXPECT_EQ(b->booking.booker_profession_code, "PHARMACIEN");
  // Someone else may not cancel it (and the attempt is audited).
  EXPECT_THAT(agenda_.CancelBooking(Member("ph-2"), b->booking.id, "erreur").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<BookingAndSlot> c = agenda_.CancelBooking(Member("ph-1"), b->booking.id, "erreur");
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_EQ(c->booking.state, BookingState::kCancelled);
  EXPECT_EQ(c->slot.status, SlotStatus::kFree);
  EXPECT_TRUE(c->slot.booking_id.empty());
  absl::StatusOr<BookingAndSlot> again = agenda_.BookSlot(Regulator(), Patient(slot.id, "Durand"));
  ASSERT_THAT(again.status(), IsOk());
  EXPECT_EQ(again->booking.origin, BookingOrigin::kSas);
  EXPECT_EQ(CountBookings(slot.id), 2);
  // Cancelling a cancelled booking.
  EXPECT_THAT(agenda_.CancelBooking(Member("ph-1"), b->booking.id, "x").status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SnpAgendaDbTest, PastSlotCannotBeBookedAndOutcomeOnlyAfterStart) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(1));
  const Slot other = PublishOne("gp-1", kNow + absl::Hours(2));
  absl::StatusOr<BookingAndSlot> b = agenda_.BookSlot(Member("ph-1"), Patient(other.id));
  ASSERT_THAT(b.status(), IsOk());
  EXPECT_THAT(
      agenda_.RecordOutcome(Member("gp-1"), b->booking.id, BookingOutcome::kFulfilled).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition));
  clock_.Advance(absl::Hours(3));
  EXPECT_THAT(agenda_.BookSlot(Member("ph-1"), Patient(slot.id)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(CountBookings(slot.id), 0);
  EXPECT_THAT(
      agenda_.RecordOutcome(Member("ph-1"), b->booking.id, BookingOutcome::kFulfilled).status(),
      StatusIs(absl::StatusCode::kPermissionDenied));
  absl::StatusOr<Booking> done =
      agenda_.RecordOutcome(Member("gp-1"), b->booking.id, BookingOutcome::kFulfilled);
  ASSERT_THAT(done.status(), IsOk());
  EXPECT_EQ(done->state, BookingState::kFulfilled);
  EXPECT_EQ(done->version, 2);
}

TEST_F(SnpAgendaDbTest, PatientFieldsStoredAsCiphertext) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(3));
  absl::StatusOr<BookingAndSlot> b = agenda_.BookSlot(Member("ph-1"), Patient(slot.id, "Zebulon"));
  ASSERT_THAT(b.status(), IsOk());
  auto lease = Schema().pool->Acquire();
  ASSERT_THAT(lease.status(), IsOk());
  sql::PreparedStatement& ps = (*lease)->Prepare(
      "SELECT patient_given_name_enc, patient_family_name_enc, patient_birth_date_enc, "
      "contact_phone_enc, contact_email_enc, reason_enc, CONCAT_WS('|', patient_given_name_enc, "
      "patient_family_name_enc, patient_birth_date_enc, patient_sex_enc, contact_phone_enc, "
      "contact_email_enc, reason_enc) FROM snp_bookings WHERE tenant_id = ? AND id = ?");
  ps.setString(1, tenant_);
  ps.setString(2, b->booking.id);
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  ASSERT_TRUE(rs->next());
  for (int c = 1; c <= 6; ++c) {
    EXPECT_TRUE(absl::StartsWith(std::string(rs->getString(c)), "cpts1:k1:")) << c;
  }
  const std::string row = rs->getString(7);
  for (const char* plain : {"Zebulon", "Alice", "1980", "612345678", "example.org", "fièvre"}) {
    EXPECT_THAT(row, Not(HasSubstr(plain)));
  }
  // And it reads back in clear.
  absl::StatusOr<Booking> read = agenda_.GetBooking(Member("ph-1"), b->booking.id);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->patient.family_name, "Zebulon");
  EXPECT_EQ(read->patient.birth_date, absl::CivilDay(1980, 5, 17));
  EXPECT_EQ(read->patient.sex, Sex::kFemale);
  EXPECT_EQ(read->contact.phone, "+33612345678");
  EXPECT_EQ(read->reason, "fièvre depuis trois jours");
}

TEST_F(SnpAgendaDbTest, BookingReadsAndDenialsAreAudited) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(3));
  absl::StatusOr<BookingAndSlot> b = agenda_.BookSlot(Member("ph-1"), Patient(slot.id));
  ASSERT_THAT(b.status(), IsOk());
  const std::string id = b->booking.id;
  ASSERT_THAT(agenda_.GetBooking(Member("ph-1"), id).status(), IsOk());  // booker
  ASSERT_THAT(agenda_.GetBooking(Member("gp-1"), id).status(), IsOk());  // the professional
  EXPECT_THAT(agenda_.GetBooking(Member("ph-2"), id).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  const std::vector<platform::db::AuditRecord> records = AuditOf(id);  // newest first
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].action, audit_actions::kBookingRead);
  EXPECT_EQ(records[0].outcome, "denied");
  EXPECT_EQ(records[0].actor_subject, "user:ph-2");
  EXPECT_EQ(records[1].action, audit_actions::kBookingRead);
  EXPECT_EQ(records[1].outcome, "ok");
  EXPECT_EQ(records[1].actor_subject, "user:gp-1");
  EXPECT_EQ(records[2].actor_subject, "user:ph-1");
  EXPECT_EQ(records[3].action, audit_actions::kBookingCreate);
  for (const auto& r : records) {
    EXPECT_THAT(r.reason, Not(HasSubstr("Martin")));
  }
}

TEST_F(SnpAgendaDbTest, TenantsAreIsolated) {
  const Slot slot = PublishOne("gp-1", kNow + absl::Hours(3));
  absl::StatusOr<BookingAndSlot> b = agenda_.BookSlot(Member("ph-1"), Patient(slot.id));
  ASSERT_THAT(b.status(), IsOk());
  Principal stranger = Coordinator();
  stranger.tenant_id = NextTenant();
  EXPECT_THAT(agenda_.GetSlot(stranger, slot.id).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(agenda_.GetBooking(stranger, b->booking.id).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(agenda_.CancelBooking(stranger, b->booking.id, "x").status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(agenda_.BookSlot(stranger, Patient(slot.id)).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(agenda_.WithdrawSlot(stranger, slot.id, "").status(),
              StatusIs(absl::StatusCode::kNotFound));
  SlotSearchQuery q;
  q.start_time = kNow;
  q.end_time = kNow + absl::Hours(24);
  absl::StatusOr<SlotSearchPage> r = agenda_.SearchSlots(stranger, q);
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_TRUE(r->slots.empty());
}

TEST_F(SnpAgendaDbTest, Indicators) {
  const Slot a = PublishOne("gp-1", kNow + absl::Hours(1));
  const Slot b = PublishOne("gp-1", kNow + absl::Hours(2));
  PublishOne("gp-1", kNow + absl::Hours(3));
  absl::StatusOr<BookingAndSlot> ba = agenda_.BookSlot(Member("ph-1"), Patient(a.id));
  ASSERT_THAT(ba.status(), IsOk());
  absl::StatusOr<BookingAndSlot> bb = agenda_.BookSlot(Regulator(), Patient(b.id));
  ASSERT_THAT(bb.status(), IsOk());
  ASSERT_THAT(agenda_.CancelBooking(Regulator(), bb->booking.id, "mieux").status(), IsOk());
  const absl::CivilDay day = absl::ToCivilDay(kNow, absl::UTCTimeZone());
  absl::StatusOr<SnpIndicators> ind = agenda_.GetIndicators(Coordinator(), day, day);
  ASSERT_THAT(ind.status(), IsOk());
  EXPECT_EQ(ind->slots_published, 3);
  EXPECT_EQ(ind->slots_booked, 1);
  EXPECT_EQ(ind->cancelled, 1);
  ASSERT_EQ(ind->bookings_by_origin.size(), 1u);
  EXPECT_EQ(ind->bookings_by_origin[0].first, BookingOrigin::kProfessional);
  EXPECT_THAT(agenda_.GetIndicators(Member("ph-1"), day, day).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

// --- retention ---------------------------------------------------------------------------

TEST_F(SnpAgendaDbTest, RetentionPurgesThePatientDataOfPastBookingsOnly) {
  const Slot past = PublishOne("gp-1", kNow + absl::Hours(1));
  const Slot cancelled = PublishOne("gp-1", kNow + absl::Hours(2));
  const Slot later = PublishOne("gp-1", kNow + absl::Hours(24 * 300));
  absl::StatusOr<BookingAndSlot> a = agenda_.BookSlot(Member("ph-1"), Patient(past.id, "Purgé"));
  ASSERT_THAT(a.status(), IsOk());
  absl::StatusOr<BookingAndSlot> b =
      agenda_.BookSlot(Regulator(), Patient(cancelled.id, "Annulé", "req-b"));
  ASSERT_THAT(b.status(), IsOk());
  ASSERT_THAT(agenda_.CancelBooking(Regulator(), b->booking.id, "Mme Annulé a trouvé").status(),
              IsOk());
  absl::StatusOr<BookingAndSlot> c = agenda_.BookSlot(Member("ph-2"), Patient(later.id, "Gardé"));
  ASSERT_THAT(c.status(), IsOk());
  clock_.Set(kNow + absl::Hours(2));
  ASSERT_THAT(
      agenda_.RecordOutcome(Member("gp-1"), a->booking.id, BookingOutcome::kFulfilled).status(),
      IsOk());

  auto column = [&](const std::string& sql, const std::string& id) {
    auto lease = Schema().pool->Acquire();
    EXPECT_THAT(lease.status(), IsOk());
    if (!lease.ok()) return std::string("?");
    sql::PreparedStatement& ps = (*lease)->Prepare(sql);
    ps.setString(1, tenant_);
    ps.setString(2, id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::string("no row");
    return rs->isNull(1) ? std::string("NULL") : std::string(rs->getString(1).asStdString());
  };
  constexpr char kFamily[] =
      "SELECT patient_family_name_enc FROM snp_bookings WHERE tenant_id = ? AND id = ?";
  auto purges = [&](const std::string& id) {
    int n = 0;
    for (const auto& r : AuditOf(id)) {
      if (r.action == audit_actions::kBookingPurge) {
        EXPECT_EQ(r.actor_subject, "service:access-retention");
        ++n;
      }
    }
    return n;
  };

  // One day short of the retention period (365 days after the slots ended): nothing goes.
  clock_.Set(kNow + absl::Hours(24 * 364));
  ASSERT_THAT(agenda_.PurgeExpired().status(), IsOk());
  EXPECT_TRUE(absl::StartsWith(column(kFamily, a->booking.id), "cpts1:"));
  EXPECT_EQ(purges(a->booking.id), 0);

  clock_.Set(kNow + absl::Hours(24 * 365 + 3));
  absl::StatusOr<int> purged = agenda_.PurgeExpired();
  ASSERT_THAT(purged.status(), IsOk());
  EXPECT_GE(*purged, 2);  // other tests' tenants of this schema may have past bookings too
  for (const std::string& id : {a->booking.id, b->booking.id}) {
    EXPECT_EQ(column(kFamily, id), "") << id;
    EXPECT_EQ(
        column("SELECT contact_phone_enc FROM snp_bookings WHERE tenant_id = ? AND id = ?", id),
        "");
    EXPECT_EQ(column("SELECT reason_enc FROM snp_bookings WHERE tenant_id = ? AND id = ?", id), "");
    EXPECT_NE(column("SELECT purge_time FROM snp_bookings WHERE tenant_id = ? AND id = ?", id),
              "NULL");
    EXPECT_EQ(purges(id), 1) << id;
  }
  // The free-text cancel reason and the idempotency key go too.
  EXPECT_EQ(column("SELECT cancel_reason FROM snp_bookings WHERE tenant_id = ? AND id = ?",
                   b->booking.id),
            "");
  EXPECT_EQ(
      column("SELECT request_id FROM snp_bookings WHERE tenant_id = ? AND id = ?", b->booking.id),
      "NULL");
  EXPECT_EQ(column("SELECT cancel_reason_enc FROM snp_bookings WHERE tenant_id = ? AND id = ?",
                   b->booking.id),
            "NULL");

  // The booking still reads, without patient; the non-personal facts stay.
  absl::StatusOr<Booking> read = agenda_.GetBooking(Coordinator(), a->booking.id);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->patient.family_name, "");
  EXPECT_EQ(read->contact.phone, "");
  EXPECT_EQ(read->reason, "");
  EXPECT_NE(read->purge_time, absl::InfinitePast());
  EXPECT_EQ(read->state, BookingState::kFulfilled);
  EXPECT_EQ(read->origin, BookingOrigin::kProfessional);
  EXPECT_EQ(read->booker_profession_code, "PHARMACIEN");
  const absl::CivilDay day = absl::ToCivilDay(kNow, absl::UTCTimeZone());
  absl::StatusOr<SnpIndicators> ind = agenda_.GetIndicators(Coordinator(), day, day);
  ASSERT_THAT(ind.status(), IsOk());
  EXPECT_EQ(ind->slots_booked, 1);
  EXPECT_EQ(ind->fulfilled, 1);
  EXPECT_EQ(ind->cancelled, 1);

  // The future booking is untouched and still decrypts.
  absl::StatusOr<Booking> kept = agenda_.GetBooking(Coordinator(), c->booking.id);
  ASSERT_THAT(kept.status(), IsOk());
  EXPECT_EQ(kept->patient.family_name, "Gardé");
  EXPECT_EQ(purges(c->booking.id), 0);

  // A second round finds nothing more of this tenant.
  ASSERT_THAT(agenda_.PurgeExpired().status(), IsOk());
  EXPECT_EQ(purges(a->booking.id), 1);
}

// --- the SAS FHIR search -----------------------------------------------------------------

std::string FhirQuery(absl::Time from, absl::Time to, int first, int count) {
  std::string ids;
  for (int i = first; i < first + count; ++i) {
    absl::StrAppend(&ids, ids.empty() ? "" : ",", "8", Rpps(i));
  }
  return absl::StrCat("start=ge", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", from, absl::UTCTimeZone()),
                      "&start=le", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", to, absl::UTCTimeZone()),
                      "&schedule.actor:Practitioner.identifier=", ids, "&status=free",
                      "&_include=Slot:schedule&_include:iterate=Schedule:actor");
}

TEST_F(SnpAgendaDbTest, FhirSearchTwentyFiveProfessionalsOverSeventyTwoHours) {
  // 30 professionals, one slot every 12 hours for 4 days: in 72 hours, 6 slots each.
  std::vector<Slot> drafts;
  for (int p = 0; p < 30; ++p) {
    for (int k = 0; k < 8; ++k) {
      drafts.push_back(Draft(absl::StrCat("gp-", p), kNow + absl::Hours(1 + 12 * k), 20,
                             k % 2 == 0 ? Visibility::kPublic : Visibility::kSnp));
    }
  }
  ASSERT_THAT(agenda_.PublishSlots(Coordinator(), drafts, "").status(), IsOk());
  const absl::Time from = kNow;
  const absl::Time to = kNow + absl::Hours(72);

  absl::StatusOr<SnpFhirResult> direct = store_.FhirSearch(
      tenant_,
      [] {
        std::vector<std::string> r;
        r.reserve(25);
        for (int i = 0; i < 25; ++i) r.push_back(Rpps(i));
        return r;
      }(),
      from, to, 1000);
  ASSERT_THAT(direct.status(), IsOk());
  EXPECT_EQ(direct->total, 25 * 6);
  EXPECT_EQ(direct->slots.size(), 150u);
  EXPECT_EQ(direct->professionals.size(), 25u);
  for (size_t i = 1; i < direct->slots.size(); ++i) {
    EXPECT_TRUE(SlotSearchOrder(direct->slots[i - 1], direct->slots[i]));
  }
  // A booked slot is no longer free.
  ASSERT_THAT(agenda_.BookSlot(Member("ph-1"), Patient(direct->slots[0].id)).status(), IsOk());

  FhirParseOptions opts;
  const FhirSlotQueryParse parsed = ParseFhirSlotQuery(FhirQuery(from, to, 0, 25), opts);
  ASSERT_TRUE(parsed.ok()) << parsed.errors[0].diagnostics;
  absl::StatusOr<std::string> bundle =
      agenda_.FhirSlotSearch(Regulator(), parsed.query, "https://cpts.test/fhir");
  ASSERT_THAT(bundle.status(), IsOk());
  EXPECT_THAT(*bundle, HasSubstr("\"searchset\""));
  EXPECT_THAT(*bundle, HasSubstr("\"total\":149"));
  EXPECT_THAT(*bundle, HasSubstr(Rpps(24)));
  EXPECT_THAT(*bundle, Not(HasSubstr(Rpps(25))));
  EXPECT_THAT(agenda_.FhirSlotSearch(Member("ph-1"), parsed.query, "x").status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(SnpAgendaDbTest, FhirBundleNamesTheCptsOrganizationFromMembership) {
  PublishOne("gp-3", kNow + absl::Hours(2));
  const std::string base = FhirQuery(kNow, kNow + absl::Hours(72), 3, 1);
  const FhirSlotQueryParse with_org = ParseFhirSlotQuery(absl::StrCat(
      base,
      "&_include=Slot:service-type-reference&_include:iterate=HealthcareService:organization"));
  ASSERT_TRUE(with_org.ok()) << with_org.errors[0].diagnostics;
  ASSERT_TRUE(with_org.query.include_organization);
  const FhirSlotQueryParse without_org = ParseFhirSlotQuery(base);
  ASSERT_TRUE(without_org.ok());

  // Membership does not know the tenant: no answer rather than an anonymous Organization.
  EXPECT_THAT(
      agenda_.FhirSlotSearch(Regulator(), with_org.query, "https://cpts.test/fhir").status(),
      StatusIs(absl::StatusCode::kNotFound));

  directory_.PutTenant({.tenant_id = tenant_, .name = "CPTS des Essais", .finess = "770000123"});
  absl::StatusOr<std::string> bundle =
      agenda_.FhirSlotSearch(Regulator(), with_org.query, "https://cpts.test/fhir");
  ASSERT_THAT(bundle.status(), IsOk());
  const size_t org = bundle->find("\"resourceType\":\"Organization\"");
  ASSERT_NE(org, std::string::npos) << *bundle;
  const std::string entry = bundle->substr(org);
  EXPECT_THAT(entry, HasSubstr("\"system\":\"urn:oid:1.2.250.1.71.4.2.2\""));
  EXPECT_THAT(entry, HasSubstr("\"value\":\"1770000123\""));  // FINESS prefixed with "1"
  EXPECT_THAT(entry, HasSubstr("\"name\":\"CPTS des Essais\""));
  EXPECT_THAT(*bundle, HasSubstr("\"providedBy\""));

  // Membership unreachable: the search that needs the Organization says so (the SAS retries);
  // the one that does not still answers.
  directory_.FailWith(absl::UnavailableError("membership down"));
  EXPECT_THAT(
      agenda_.FhirSlotSearch(Regulator(), with_org.query, "https://cpts.test/fhir").status(),
      StatusIs(absl::StatusCode::kUnavailable));
  absl::StatusOr<std::string> plain =
      agenda_.FhirSlotSearch(Regulator(), without_org.query, "https://cpts.test/fhir");
  ASSERT_THAT(plain.status(), IsOk());
  EXPECT_THAT(*plain, Not(HasSubstr("\"Organization\"")));
}

// The territory's communes as the MT half would answer, recording what it was asked.
class FakeCommuneDirectory final : public CommuneDirectory {
 public:
  absl::StatusOr<std::vector<TerritoryCommune>> FindCommunes(
      absl::string_view tenant_id, const std::vector<std::string>& insee_codes) override {
    asked.push_back(insee_codes);
    if (!fail.ok()) return fail;
    std::vector<TerritoryCommune> out;
    out.reserve(communes.size());
    for (const TerritoryCommune& c : communes) {
      if (tenant_id == tenant &&
          std::find(insee_codes.begin(), insee_codes.end(), c.insee_code) != insee_codes.end()) {
        out.push_back(c);
      }
    }
    return out;
  }

  std::string tenant;
  std::vector<TerritoryCommune> communes;
  absl::Status fail = absl::OkStatus();
  std::vector<std::vector<std::string>> asked;
};

TEST_F(SnpAgendaDbTest, FhirLocationsTakeCityAndPostalCodeFromTheTerritory) {
  FakeCommuneDirectory territory;
  territory.tenant = tenant_;
  territory.communes = {{.insee_code = "77288", .name = "Moissy-Cramayel", .postal_code = "77550"}};
  SnpAgenda agenda(store_, deps_, {.communes = &territory});
  std::vector<Slot> drafts = {
      Draft("gp-3", kNow + absl::Hours(2), 20),
      Draft("gp-3", kNow + absl::Hours(3), 20, Visibility::kPublic, "77350"),
      Draft("gp-3", kNow + absl::Hours(4), 20)};
  drafts[2].mode = ConsultationMode::kVideo;
  drafts[2].place = {};
  ASSERT_THAT(agenda.PublishSlots(Coordinator(), drafts, "").status(), IsOk());
  const FhirSlotQueryParse parsed =
      ParseFhirSlotQuery(FhirQuery(kNow, kNow + absl::Hours(72), 3, 1));
  ASSERT_TRUE(parsed.ok()) << parsed.errors[0].diagnostics;

  absl::StatusOr<std::string> bundle =
      agenda.FhirSlotSearch(Regulator(), parsed.query, "https://cpts.test/fhir");
  ASSERT_THAT(bundle.status(), IsOk());
  // One lookup, for the communes of the places (not the video slot's), in one call.
  EXPECT_THAT(territory.asked, ElementsAre(ElementsAre("77288", "77350")));
  EXPECT_THAT(*bundle, HasSubstr(R"("address":{"line":["1 rue de la Gare"],)"
                                 R"("city":"Moissy-Cramayel","postalCode":"77550"})"));
  // 77350 is not in the territory: the line alone.
  EXPECT_THAT(*bundle, HasSubstr(R"("address":{"line":["1 rue de la Gare"]}})"));

  // Without the PractitionerRole (which contains the Location), no lookup.
  territory.asked.clear();
  const FhirSlotQueryParse slots_only = ParseFhirSlotQuery(absl::StrCat(
      "start=ge", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", kNow, absl::UTCTimeZone()), "&start=le",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", kNow + absl::Hours(72), absl::UTCTimeZone()),
      "&schedule.actor:Practitioner.identifier=8", Rpps(3), "&status=free"));
  ASSERT_TRUE(slots_only.ok()) << slots_only.errors[0].diagnostics;
  ASSERT_THAT(agenda.FhirSlotSearch(Regulator(), slots_only.query, "x").status(), IsOk());
  EXPECT_THAT(territory.asked, IsEmpty());

  // The territory cannot be read: the search fails rather than answering incomplete
  // Locations (the SAS retries).
  territory.fail = absl::UnavailableError("database down");
  EXPECT_THAT(agenda.FhirSlotSearch(Regulator(), parsed.query, "x").status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(SnpAgendaDbTest, FhirHttpEndpoint) {
  PublishOne("gp-3", kNow + absl::Hours(2));
  const Principal regulator = Regulator();
  FhirHttpEndpoint endpoint(agenda_, [&](std::string_view header) -> absl::StatusOr<Principal> {
    if (header == "Bearer good") return regulator;
    return absl::UnauthenticatedError("invalid token");
  });
  ASSERT_THAT(endpoint.Start("127.0.0.1", 0), IsOk());
  httplib::Client client("127.0.0.1", endpoint.port());
  const std::string path =
      absl::StrCat("/fhir/Slot?", FhirQuery(kNow, kNow + absl::Hours(72), 3, 1));

  httplib::Result ok = client.Get(path, {{"Authorization", "Bearer good"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_THAT(ok->get_header_value("Content-Type"), HasSubstr("application/fhir+json"));
  EXPECT_THAT(ok->body, HasSubstr("\"total\":1"));
  EXPECT_THAT(ok->body, HasSubstr(Rpps(3)));

  httplib::Result anonymous = client.Get(path);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_THAT(anonymous->body, HasSubstr("OperationOutcome"));

  httplib::Result bad = client.Get("/fhir/Slot?status=free", {{"Authorization", "Bearer good"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_THAT(bad->body, HasSubstr("OperationOutcome"));
  endpoint.Stop();
}

}  // namespace
}  // namespace cpts::access
