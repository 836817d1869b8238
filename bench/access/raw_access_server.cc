// cpts-bench-access-raw: the "raw stack" of the access benchmarks (bench/run_access.sh). A bare
// synchronous gRPC server (gRPC's default sync thread manager, as raw_sync in bench/threading)
// whose handlers take a connection of the platform's ConnectionPool and run the SAME SQL as
// services/access/mysql_snp_store.cc for SearchSlots and BookSlot: no authentication, no
// validation, no audit row, no request log, no metrics. The booking's patient fields are
// encrypted with FieldCipher and the store's associated data, as the store does.
//
//   cpts-bench-access-raw --port=0 --db_port=3307 --db_user=access --db_schema=access
//       --field_key_file=keys.txt --db_pool_size=32 --ready_file=ready.json
//   (password: --db_password_file or CPTS_DB_PASSWORD)

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cpts/bench/v1/bench.grpc.pb.h"
#include "services/platform/core/grpc_status.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/transaction.h"
#include "services/platform/server/signals.h"

ABSL_FLAG(std::string, address, "127.0.0.1", "Listening address.");
ABSL_FLAG(int, port, 0, "gRPC port; 0 = any free port (see --ready_file).");
ABSL_FLAG(std::string, db_host, "127.0.0.1", "MariaDB host.");
ABSL_FLAG(int, db_port, 3307, "MariaDB port.");
ABSL_FLAG(std::string, db_user, "access", "MariaDB user.");
ABSL_FLAG(std::string, db_schema, "access", "Schema holding the access tables.");
ABSL_FLAG(std::string, db_password_file, "", "Password file (else CPTS_DB_PASSWORD).");
ABSL_FLAG(int, db_pool_size, 32, "Connections of the pool.");
ABSL_FLAG(std::string, field_key_file, "", "Required. FieldCipher key file (cpts_field_keys).");
ABSL_FLAG(std::string, ready_file, "", "Written with {\"grpc_port\":N} once serving.");

namespace {

using cpts::bench::v1::AccessRawService;
using cpts::bench::v1::RawBookSlotRequest;
using cpts::bench::v1::RawBookSlotResponse;
using cpts::bench::v1::RawSearchSlotsRequest;
using cpts::bench::v1::RawSearchSlotsResponse;
using cpts::bench::v1::RawSlot;
using cpts::platform::crypto::FieldCipher;
using cpts::platform::db::Connection;
using cpts::platform::db::ConnectionPool;

// --- The store's SQL, copied verbatim from services/access/mysql_snp_store.cc ---------------

#define CPTS_SLOT_COLUMNS                                                                    \
  "s.tenant_id, s.id, s.professional_member_id, s.profession_code, s.start_time, "           \
  "s.duration_minutes, s.mode, s.commune_insee, s.address, s.visibility, s.kind, s.status, " \
  "s.booking_id, s.published_by, s.withdraw_reason, s.create_time, s.update_time, s.version"
constexpr std::string_view kSelectSlot =
    "SELECT " CPTS_SLOT_COLUMNS " FROM snp_slots s WHERE s.tenant_id = ? AND s.id = ?";
constexpr std::string_view kSearchBase =
    "SELECT " CPTS_SLOT_COLUMNS
    " FROM snp_slots s WHERE s.tenant_id = ? AND s.status = 'FREE'"
    " AND s.start_time >= ? AND s.start_time < ?";
#undef CPTS_SLOT_COLUMNS
constexpr std::string_view kSearchVisibilities = " AND s.visibility IN ";
constexpr std::string_view kSearchCommunes = " AND s.commune_insee IN ";
constexpr std::string_view kSearchOrder = " ORDER BY s.start_time, s.id LIMIT ?";
constexpr std::string_view kBookSlotRow = R"sql(
UPDATE snp_slots
SET status = 'BOOKED', booking_id = ?, update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND status = 'FREE' AND version = ?)sql";
constexpr std::string_view kInsertBooking = R"sql(
INSERT INTO snp_bookings (tenant_id, id, slot_id, active_slot_id, patient_given_name_enc,
                          patient_family_name_enc, patient_birth_date_enc, patient_sex_enc,
                          contact_phone_enc, contact_email_enc, reason_enc, origin, booked_by,
                          booker_member_id, booker_profession_code, state, cancel_reason,
                          request_id, request_fingerprint, create_time, cancel_time,
                          outcome_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, 1))sql";

sql::SQLString Sql(std::string_view s) { return {s.data(), s.size()}; }

std::string FormatInstant(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S", t, absl::UTCTimeZone());
}

absl::Time ParseInstant(const std::string& value) {
  absl::Time t = absl::InfinitePast();
  std::string error;
  absl::ParseTime("%Y-%m-%d %H:%M:%E*S", value, absl::UTCTimeZone(), &t, &error);
  return t;
}

// Reads the 18 slot columns in the store's order (tenant_id and withdraw_reason are read and
// dropped, as the response has no use for them).
void ReadSlot(const sql::ResultSet& rs, RawSlot* slot) {
  (void)rs.getString(1);
  slot->set_id(rs.getString(2).asStdString());
  slot->set_professional_member_id(rs.getString(3).asStdString());
  slot->set_profession_code(rs.getString(4).asStdString());
  slot->set_start_us(absl::ToUnixMicros(ParseInstant(rs.getString(5).asStdString())));
  slot->set_duration_minutes(rs.getInt(6));
  slot->set_mode(rs.getString(7).asStdString());
  slot->set_commune_insee(rs.getString(8).asStdString());
  slot->set_address(rs.getString(9).asStdString());
  slot->set_visibility(rs.getString(10).asStdString());
  slot->set_kind(rs.getString(11).asStdString());
  slot->set_status(rs.getString(12).asStdString());
  slot->set_booking_id(rs.getString(13).asStdString());
  slot->set_published_by(rs.getString(14).asStdString());
  (void)rs.getString(15);
  slot->set_create_time_us(absl::ToUnixMicros(ParseInstant(rs.getString(16).asStdString())));
  slot->set_update_time_us(absl::ToUnixMicros(ParseInstant(rs.getString(17).asStdString())));
  slot->set_version(rs.getInt64(18));
}

void AppendPlaceholders(std::string& sql, size_t n) {
  sql += "(";
  for (size_t i = 0; i < n; ++i) sql += i == 0 ? "?" : ", ?";
  sql += ")";
}

class RawAccessService final : public AccessRawService::Service {
 public:
  RawAccessService(ConnectionPool& pool, const FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  grpc::Status SearchSlots(grpc::ServerContext* /*context*/, const RawSearchSlotsRequest* request,
                           RawSearchSlotsResponse* response) override {
    return cpts::platform::ToGrpcStatus(Search(*request, response));
  }

  grpc::Status BookSlot(grpc::ServerContext* /*context*/, const RawBookSlotRequest* request,
                        RawBookSlotResponse* response) override {
    return cpts::platform::ToGrpcStatus(Book(*request, response));
  }

 private:
  absl::Status Search(const RawSearchSlotsRequest& request, RawSearchSlotsResponse* response) {
    std::string sql(kSearchBase);
    sql += kSearchVisibilities;
    AppendPlaceholders(sql, static_cast<size_t>(request.visibilities_size()));
    if (request.communes_size() > 0) {
      sql += kSearchCommunes;
      AppendPlaceholders(sql, static_cast<size_t>(request.communes_size()));
    }
    sql += kSearchOrder;
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    try {
      sql::PreparedStatement& ps = (*lease)->Prepare(sql);
      unsigned i = 0;
      ps.setString(++i, Sql(request.tenant_id()));
      ps.setDateTime(++i, Sql(FormatInstant(absl::FromUnixMicros(request.start_from_us()))));
      ps.setDateTime(++i, Sql(FormatInstant(absl::FromUnixMicros(request.start_before_us()))));
      for (const std::string& v : request.visibilities()) ps.setString(++i, Sql(v));
      for (const std::string& c : request.communes()) ps.setString(++i, Sql(c));
      ps.setInt64(++i, request.page_size() + 1);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      while (rs->next()) {
        if (response->slots_size() == request.page_size()) {
          response->set_more(true);
          break;
        }
        ReadSlot(*rs, response->add_slots());
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return cpts::platform::db::MapSqlException(e, "SearchSlots");
    }
  }

  absl::Status Book(const RawBookSlotRequest& request, RawBookSlotResponse* response) {
    const absl::Time now = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
    const std::string booking_id = absl::StrFormat("rb-%s-%d", prefix_, ++sequence_);
    const std::string& tenant = request.tenant_id();
    return cpts::platform::db::RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
      response->Clear();
      try {
        RawSlot& slot = *response->mutable_slot();
        {
          sql::PreparedStatement& ps = conn.Prepare(kSelectSlot);
          ps.setString(1, Sql(tenant));
          ps.setString(2, Sql(request.slot_id()));
          std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
          if (!rs->next()) return absl::NotFoundError("slot not found");
          ReadSlot(*rs, &slot);
        }
        if (slot.status() != "FREE") {
          return absl::FailedPreconditionError("slot is already booked");
        }
        const int64_t read_version = slot.version();
        {
          sql::PreparedStatement& ps = conn.Prepare(kBookSlotRow);
          ps.setString(1, Sql(booking_id));
          ps.setDateTime(2, Sql(FormatInstant(now)));
          ps.setString(3, Sql(tenant));
          ps.setString(4, Sql(request.slot_id()));
          ps.setInt64(5, read_version);
          if (ps.executeUpdate() != 1) {
            return absl::FailedPreconditionError("slot is no longer free");
          }
        }
        slot.set_status("BOOKED");
        slot.set_booking_id(booking_id);
        slot.set_version(read_version + 1);
        slot.set_update_time_us(absl::ToUnixMicros(now));
        // The store's Encrypt(): associated data "access.booking.<column>:<tenant>:<id>".
        std::vector<std::string> enc;
        const std::pair<absl::string_view, std::string_view> fields[] = {
            {"patient_given_name", request.given_name()},
            {"patient_family_name", request.family_name()},
            {"patient_birth_date", request.birth_date()},
            {"patient_sex", "FEMALE"},
            {"contact_phone", request.phone()},
            {"contact_email", request.email()},
            {"reason", request.reason()}};
        for (const auto& [column, value] : fields) {
          const std::string aad =
              absl::StrCat("access.booking.", column, ":", tenant, ":", booking_id);
          absl::StatusOr<std::string> c = cipher_.Encrypt(value, aad);
          if (!c.ok()) return c.status();
          enc.push_back(*std::move(c));
        }
        sql::PreparedStatement& ps = conn.Prepare(kInsertBooking);
        const std::string at = FormatInstant(now);
        unsigned i = 0;
        ps.setString(++i, Sql(tenant));
        ps.setString(++i, Sql(booking_id));
        ps.setString(++i, Sql(request.slot_id()));
        ps.setString(++i, Sql(request.slot_id()));
        for (const std::string& e : enc) ps.setString(++i, Sql(e));
        ps.setString(++i, "CPTS");
        ps.setString(++i, Sql(request.booked_by()));
        ps.setString(++i, "");
        ps.setString(++i, "");
        ps.setString(++i, "BOOKED");
        ps.setString(++i, "");
        ps.setNull(++i, sql::DataType::VARCHAR);
        ps.setString(++i, "");
        ps.setDateTime(++i, Sql(at));
        ps.setDateTime(++i, Sql(at));
        ps.executeUpdate();
        response->set_booking_id(booking_id);
        return absl::OkStatus();
      } catch (const sql::SQLException& e) {
        return cpts::platform::db::MapSqlException(e, "BookSlot");
      }
    });
  }

  ConnectionPool& pool_;
  const FieldCipher& cipher_;
  // Booking ids: a random prefix per process, then a sequence.
  const std::string prefix_ = absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()));
  std::atomic<int64_t> sequence_{0};
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "cpts-bench-access-raw: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  cpts::platform::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  cpts::platform::db::DbConfig config;
  config.host = absl::GetFlag(FLAGS_db_host);
  config.port = absl::GetFlag(FLAGS_db_port);
  config.user = absl::GetFlag(FLAGS_db_user);
  config.schema = absl::GetFlag(FLAGS_db_schema);
  config.pool_size = absl::GetFlag(FLAGS_db_pool_size);
  if (const std::string file = absl::GetFlag(FLAGS_db_password_file); !file.empty()) {
    std::ifstream in(file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    config.password = std::string(absl::StripAsciiWhitespace(buffer.str()));
  } else if (const char* env = std::getenv("CPTS_DB_PASSWORD"); env != nullptr) {
    config.password = env;
  }
  auto cipher = FieldCipher::LoadFromFile(absl::GetFlag(FLAGS_field_key_file));
  if (!cipher.ok()) return Fail(cipher.status().ToString());
  auto pool = ConnectionPool::Create(config);
  if (const absl::Status ping = pool->Ping(); !ping.ok()) return Fail(ping.ToString());

  RawAccessService service(*pool, *cipher);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(
      absl::StrCat(absl::GetFlag(FLAGS_address), ":", absl::GetFlag(FLAGS_port)),
      grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) return Fail("cannot listen");
  if (const std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    const std::string tmp = ready + ".tmp";
    {
      std::ofstream out(tmp);
      out << absl::StrFormat("{\"grpc_port\":%d}\n", port);
    }
    std::rename(tmp.c_str(), ready.c_str());
  }
  cpts::platform::WaitForTerminationSignal();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}
