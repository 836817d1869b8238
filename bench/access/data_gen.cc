// cpts-bench-access-data: writes on stdout the SQL that loads the access benchmark's data into
// an access schema already migrated (pipe it into the `mariadb` client; bench/run_access.sh):
//
//   - `gps` general practitioners (snp_professionals rows, member ids "gp-0001"..., valid
//     RPPS numbers), spread over `tenants` tenants ("bench-t001"...; GP g in tenant
//     g % tenants) and 20 communes (GP g in commune g % 20)
//     ("69001".."69020");
//   - `slots` FREE, BOOKABLE 20-minute slots (ids "bs-0000000"...; slot n belongs to GP
//     n % gps, its k-th slot with k = n / gps, on day k / per_day after first_day, at
//     07:00 UTC + 20 min * (k % per_day)): 1 000 000 slots of 200 GPs = 358 days. The slots
//     are made by the server (INSERT ... SELECT over the sequence engine, in chunks), which
//     loads 1 M rows far faster than any client could send them;
//   - `mt_requests` MT requests (state RECEIVED), their patient fields encrypted with the
//     platform FieldCipher and the associated data of services/access/mysql_mt_store.cc
//     ("access.mt_request.<column>:<tenant>:<id>"), multi-row INSERTs of 500 rows.
//
//   cpts-bench-access-data --field_key_file=keys.txt --first_day=2026-12-01 | mariadb access

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/platform/crypto/field_cipher.h"

ABSL_FLAG(int, tenants, 1, "Tenants the GPs (and their slots and MT requests) are spread over.");
ABSL_FLAG(std::string, tenant_prefix, "bench-t", "Tenant ids: prefix + 001, 002, ...");
ABSL_FLAG(int, gps, 200, "General practitioners.");
ABSL_FLAG(int64_t, slots, 1'000'000, "Slots.");
ABSL_FLAG(int, per_day, 14, "Slots per GP and day.");
ABSL_FLAG(int, mt_requests, 50'000, "MT requests (encrypted patient fields).");
ABSL_FLAG(std::string, first_day, "", "Required. Day (UTC) of the first slots, YYYY-MM-DD.");
ABSL_FLAG(std::string, field_key_file, "", "Required when mt_requests > 0 (cpts_field_keys).");
ABSL_FLAG(int64_t, chunk, 100'000, "Slots per INSERT ... SELECT statement.");

namespace {

constexpr int kCommunes = 20;

std::string TenantId(int t) {
  return absl::StrFormat("%s%03d", absl::GetFlag(FLAGS_tenant_prefix), t + 1);
}
std::string GpId(int gp) { return absl::StrFormat("gp-%04d", gp + 1); }
std::string Commune(int gp) { return absl::StrFormat("690%02d", gp % kCommunes + 1); }

// An RPPS: 10 digits then a Luhn check digit (as tests/e2e/membership_fixture.cc).
std::string Rpps(int seed) {
  const std::string digits = absl::StrCat(1000000000 + seed);
  int sum = 0;
  for (int i = static_cast<int>(digits.size()) - 1, k = 0; i >= 0; --i, ++k) {
    int d = digits[static_cast<size_t>(i)] - '0';
    if (k % 2 == 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "cpts-bench-access-data: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int tenants = absl::GetFlag(FLAGS_tenants);
  const int gps = absl::GetFlag(FLAGS_gps);
  const int64_t slots = absl::GetFlag(FLAGS_slots);
  const int per_day = absl::GetFlag(FLAGS_per_day);
  const int mt = absl::GetFlag(FLAGS_mt_requests);
  const int64_t chunk = absl::GetFlag(FLAGS_chunk);
  absl::CivilDay first_day;
  if (!absl::ParseCivilTime(absl::GetFlag(FLAGS_first_day), &first_day)) {
    return Fail("--first_day=YYYY-MM-DD is required");
  }
  if (tenants < 1 || gps < tenants || slots < 0 || per_day < 1 || mt < 0 || chunk < 1) {
    return Fail("bad sizes");
  }
  const std::string now = absl::FormatTime("%Y-%m-%d %H:%M:%E6S", absl::Now(), absl::UTCTimeZone());

  // The GPs: a helper table for the slot INSERT ... SELECT, and snp_professionals.
  std::printf(
      "CREATE TEMPORARY TABLE bench_gp (gp INT PRIMARY KEY, tenant_id VARCHAR(64), member_id "
      "VARCHAR(64), rpps VARCHAR(11), commune VARCHAR(5)) ENGINE=MEMORY;\n");
  std::string gp_rows;
  std::string pro_rows;
  for (int gp = 0; gp < gps; ++gp) {
    const std::string tenant = TenantId(gp % tenants);
    absl::StrAppend(&gp_rows, gp == 0 ? "" : ",\n", "(", gp, ",", Quote(tenant), ",",
                    Quote(GpId(gp)), ",", Quote(Rpps(700000 + gp)), ",", Quote(Commune(gp)), ")");
    absl::StrAppend(&pro_rows, gp == 0 ? "" : ",\n", "(", Quote(tenant), ",", Quote(GpId(gp)), ",",
                    Quote(Rpps(700000 + gp)), ",", Quote(absl::StrCat("Prenom", gp + 1)), ",",
                    Quote(absl::StrCat("Generaliste-", gp + 1)), ",'MEDECIN_GENERALISTE',",
                    Quote(now), ")");
  }
  std::printf("INSERT INTO bench_gp VALUES\n%s;\n", gp_rows.c_str());
  std::printf(
      "INSERT INTO snp_professionals (tenant_id, member_id, rpps, given_name, family_name, "
      "profession_code, update_time) VALUES\n%s;\n",
      pro_rows.c_str());

  // The slots, made by the server from the sequence engine, in chunks of `chunk` rows.
  const std::string start = absl::StrFormat(
      "(TIMESTAMP('%s') + INTERVAL ((q.seq DIV %d) DIV %d) DAY + INTERVAL (420 + 20 * ((q.seq "
      "DIV %d) MOD %d)) MINUTE)",
      absl::FormatCivilTime(first_day), gps, per_day, gps, per_day);
  for (int64_t lo = 0; lo < slots; lo += chunk) {
    const int64_t hi = std::min(slots, lo + chunk) - 1;
    std::printf(
        "INSERT INTO snp_slots (tenant_id, id, professional_member_id, professional_rpps, "
        "profession_code, start_time, end_time, duration_minutes, mode, commune_insee, address, "
        "visibility, kind, status, booking_id, published_by, withdraw_reason, create_time, "
        "update_time, version)\n"
        "SELECT g.tenant_id, CONCAT('bs-', LPAD(q.seq, 7, '0')), g.member_id, g.rpps, "
        "'MEDECIN_GENERALISTE', %s, %s + INTERVAL 20 MINUTE, 20, "
        "IF(q.seq MOD 10 = 9, 'VIDEO', 'OFFICE'), g.commune, "
        "CONCAT(1 + g.gp MOD 90, ' rue Fictive'), "
        "ELT(1 + (q.seq DIV %d) MOD 4, 'PUBLIC', 'PRO', 'SNP', 'CPTS'), 'BOOKABLE', 'FREE', '', "
        "CONCAT('user-', g.member_id), '', '%s', '%s', 1\n"
        "FROM seq_%lld_to_%lld q JOIN bench_gp g ON g.gp = q.seq MOD %d ORDER BY q.seq;\n",
        start.c_str(), start.c_str(), gps, now.c_str(), now.c_str(), static_cast<long long>(lo),
        static_cast<long long>(hi), gps);
  }

  if (mt > 0) {
    auto cipher =
        cpts::platform::crypto::FieldCipher::LoadFromFile(absl::GetFlag(FLAGS_field_key_file));
    if (!cipher.ok()) return Fail(cipher.status().ToString());
    constexpr int kBatch = 500;
    std::string rows;
    for (int i = 0; i < mt; ++i) {
      const int gp = i % gps;
      const std::string tenant = TenantId(gp % tenants);
      const std::string id = absl::StrFormat("mt-%07d", i);
      auto seal = [&](absl::string_view column, std::string_view value) {
        const std::string ad = absl::StrCat("access.mt_request.", column, ":", tenant, ":", id);
        absl::StatusOr<std::string> c = cipher->Encrypt(value, ad);
        return c.ok() ? Quote(*c) : std::string("NULL");
      };
      const std::string given = absl::StrCat("Patient", i);
      const std::string family = absl::StrCat("Synthetique-", i % 997);
      const std::string birth =
          absl::FormatCivilTime(absl::CivilDay(1940 + i % 80, 1 + i % 12, 1 + i % 28));
      const int rank = 1 + i % 4;
      const std::string created = absl::FormatTime(
          "%Y-%m-%d %H:%M:%E6S", absl::Now() - absl::Minutes(mt - i), absl::UTCTimeZone());
      absl::StrAppend(&rows, rows.empty() ? "" : ",\n", "(", Quote(tenant), ",", Quote(id),
                      ",NULL,'',", seal("given_name", given), ",", seal("family_name", family), ",",
                      seal("birth_date", birth), ",", 1 + i % 2, ",", seal("phone", "+33600000000"),
                      ",", seal("email", absl::StrCat("patient", i, "@example.org")), ",NULL,",
                      Quote(cipher->KeyedHash(absl::StrCat("mt-dup-v1|", family, "|", given, "|",
                                                           birth, "|", Commune(gp)))),
                      ",", Quote(Commune(gp)), ",", static_cast<int>(i % 5 == 0), ",0,0,0,1,'',1,",
                      Quote(created), ",'bench-coordinator',", Quote(created), ",'',",
                      static_cast<int>(i % 7 == 0), ",", static_cast<int>(i % 11 == 0), ",1,", rank,
                      ",", rank, ",0,NULL,5,0,'',NULL,'',NULL,", Quote(created), ",",
                      Quote(created), ",1)");
      if ((i + 1) % kBatch == 0 || i + 1 == mt) {
        std::printf(
            "INSERT INTO mt_requests (tenant_id, id, request_id, request_fingerprint, "
            "given_name_ct, family_name_ct, birth_date_ct, sex, phone_ct, email_ct, notes_ct, "
            "duplicate_key, commune_insee, ald, precarity, disability, pregnancy, origin, "
            "origin_detail, consent_granted, consent_time, submitted_by, create_time, "
            "possible_duplicate_ids, over_70, under_6, state, priority_rank, "
            "computed_priority_rank, triaged, triage_synthesis_ct, triage_priority_rank, "
            "triage_overridden, triaged_by, triage_time, gp_member_id, state_reason_ct, "
            "state_time, update_time, version) VALUES\n%s;\n",
            rows.c_str());
        rows.clear();
      }
    }
  }
  std::printf("ANALYZE TABLE snp_slots, snp_professionals, mt_requests;\n");
  return 0;
}
