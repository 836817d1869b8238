#include "services/platform/db/migrations.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/sql_errors.h"

namespace cpts::platform::db {
namespace {

// Infrastructure, not tenant data: the one table without a leading tenant_id.
constexpr std::string_view kCreateSchemaMigrations = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  component VARCHAR(64) NOT NULL,
  version INT NOT NULL,
  name VARCHAR(190) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(6) NOT NULL,
  PRIMARY KEY (component, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci)sql";

constexpr std::string_view kSelectApplied =
    "SELECT component, version, name, checksum FROM schema_migrations";

constexpr std::string_view kInsertApplied =
    "INSERT INTO schema_migrations (component, version, name, checksum, applied_at) "
    "VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6))";

constexpr std::string_view kSelectSchema = "SELECT DATABASE()";
constexpr std::string_view kGetLock = "SELECT GET_LOCK(?, ?)";
constexpr std::string_view kReleaseLock = "SELECT RELEASE_LOCK(?)";

// GET_LOCK blocks server-side; waiting in slices keeps each call well under the client's read
// timeout whatever lock_timeout is.
constexpr absl::Duration kLockSlice = absl::Seconds(5);

struct AppliedRow {
  std::string name;
  std::string checksum;
};
// component -> version -> row
using AppliedMap = std::map<std::string, std::map<int, AppliedRow>>;

absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) {
    return status;
  }
  absl::Status annotated(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload([&annotated](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

std::string MigrationId(absl::string_view component, const Migration& m) {
  return absl::StrCat(component, "/", m.version, " (", m.name, ")");
}

bool IsValidComponent(std::string_view component) {
  if (component.empty() || component.size() > 64 || !absl::ascii_islower(component[0])) {
    return false;
  }
  return std::all_of(component.begin(), component.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
  });
}

absl::StatusOr<std::string> CurrentSchema(Connection& conn) {
  try {
    std::unique_ptr<sql::ResultSet> rs(conn.Prepare(kSelectSchema).executeQuery());
    if (rs->next() && !rs->isNull(1)) {
      return std::string(rs->getString(1));
    }
    return absl::FailedPreconditionError("migrations need a schema: DbConfig.schema is empty");
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read current schema");
  }
}

// Lock names are limited to 64 characters; a long schema name is replaced by its digest.
std::string LockName(const std::string& schema) {
  std::string name = absl::StrCat("cpts_migrations.", schema);
  if (name.size() > 64) {
    name = absl::StrCat("cpts_migrations.", MigrationChecksum(schema)).substr(0, 64);
  }
  return name;
}

absl::Status AcquireLock(Connection& conn, const std::string& lock_name, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  try {
    sql::PreparedStatement& get_lock = conn.Prepare(kGetLock);
    while (true) {
      const absl::Duration slice =
          std::clamp(deadline - absl::Now(), absl::ZeroDuration(), kLockSlice);
      get_lock.setString(1, lock_name);
      get_lock.setDouble(2, absl::ToDoubleSeconds(slice));
      std::unique_ptr<sql::ResultSet> rs(get_lock.executeQuery());
      if (!rs->next() || rs->isNull(1)) {
        return absl::InternalError(absl::StrCat("GET_LOCK('", lock_name, "') returned NULL"));
      }
      if (rs->getInt(1) == 1) {
        return absl::OkStatus();
      }
      if (absl::Now() >= deadline) {
        return absl::UnavailableError(absl::StrCat("another migrator holds lock '", lock_name,
                                                   "' for more than ",
                                                   absl::FormatDuration(timeout)));
      }
    }
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, absl::StrCat("GET_LOCK('", lock_name, "')"));
  }
}

void ReleaseLock(Connection& conn, const std::string& lock_name) {
  try {
    sql::PreparedStatement& release = conn.Prepare(kReleaseLock);
    release.setString(1, lock_name);
    std::unique_ptr<sql::ResultSet> rs(release.executeQuery());
  } catch (const sql::SQLException& e) {
    // The lock dies with the session: discarding the connection releases it for sure.
    (void)MapSqlException(e, "RELEASE_LOCK");
    conn.MarkBroken();
  }
}

absl::StatusOr<AppliedMap> ReadApplied(Connection& conn) {
  try {
    AppliedMap applied;
    std::unique_ptr<sql::ResultSet> rs(conn.Prepare(kSelectApplied).executeQuery());
    while (rs->next()) {
      applied[std::string(rs->getString(1))][rs->getInt(2)] = AppliedRow{
          .name = std::string(rs->getString(3)), .checksum = std::string(rs->getString(4))};
    }
    return applied;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read schema_migrations");
  }
}

absl::Status RecordApplied(Connection& conn, const std::string& component, const Migration& m,
                           const std::string& checksum) {
  try {
    sql::PreparedStatement& insert = conn.Prepare(kInsertApplied);
    insert.setString(1, component);
    insert.setInt(2, m.version);
    insert.setString(3, m.name);
    insert.setString(4, checksum);
    insert.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "record in schema_migrations");
  }
}

// Compares what the database has recorded with what this binary carries.
absl::Status CheckApplied(const MigrationSet& set, const std::map<int, AppliedRow>& applied) {
  std::map<int, const Migration*> by_version;
  for (const Migration& m : set.migrations) {
    by_version[m.version] = &m;
  }
  for (const auto& [version, row] : applied) {
    auto it = by_version.find(version);
    if (it == by_version.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "migration ", set.component, "/", version, " (", row.name,
          ") is recorded as applied but is missing here: is this binary older than the schema?"));
    }
    const Migration& m = *it->second;
    if (row.checksum != MigrationChecksum(m.sql) || row.name != m.name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "migration ", MigrationId(set.component, m), " was edited after it was applied ",
          "(recorded ", row.name, " ", row.checksum.substr(0, 12), ", here ", m.name, " ",
          MigrationChecksum(m.sql).substr(0, 12), "); migrations are forward-only: add a new one"));
    }
  }
  for (const Migration& m : set.migrations) {
    if (!applied.contains(m.version) && !applied.empty() && applied.rbegin()->first > m.version) {
      return absl::FailedPreconditionError(absl::StrCat("migration ", MigrationId(set.component, m),
                                                        " is not applied but a later version of ",
                                                        set.component, " is"));
    }
  }
  return absl::OkStatus();
}

absl::Status Apply(Connection& conn, const std::string& component, const Migration& m) {
  const std::vector<std::string> statements = SplitSqlStatements(m.sql);
  for (size_t i = 0; i < statements.size(); ++i) {
    CPTS_RETURN_IF_ERROR(Annotate(conn.Execute(statements[i]),
                                  absl::StrCat("migration ", MigrationId(component, m),
                                               " statement ", i + 1, " of ", statements.size())));
  }
  return Annotate(RecordApplied(conn, component, m, MigrationChecksum(m.sql)),
                  absl::StrCat("migration ", MigrationId(component, m)));
}

absl::Status MigrateLocked(Connection& conn, const std::vector<MigrationSet>& sets) {
  CPTS_RETURN_IF_ERROR(conn.Execute(kCreateSchemaMigrations));
  CPTS_ASSIGN_OR_RETURN(AppliedMap applied, ReadApplied(conn));
  static const std::map<int, AppliedRow> kNone;
  for (const MigrationSet& set : sets) {
    auto it = applied.find(set.component);
    CPTS_RETURN_IF_ERROR(CheckApplied(set, it == applied.end() ? kNone : it->second));
  }
  for (const MigrationSet& set : sets) {
    auto it = applied.find(set.component);
    std::vector<const Migration*> ordered;
    for (const Migration& m : set.migrations) {
      ordered.push_back(&m);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const Migration* a, const Migration* b) { return a->version < b->version; });
    for (const Migration* m : ordered) {
      if (it != applied.end() && it->second.contains(m->version)) {
        continue;
      }
      CPTS_RETURN_IF_ERROR(Apply(conn, set.component, *m));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> SplitSqlStatements(std::string_view sql_std) {
  const absl::string_view sql(sql_std.data(), sql_std.size());
  std::vector<std::string> statements;
  std::string current;
  bool has_code = false;
  auto flush = [&] {
    absl::string_view text = absl::StripTrailingAsciiWhitespace(current);
    if (absl::ConsumeSuffix(&text, ";")) {
      text = absl::StripTrailingAsciiWhitespace(text);
    }
    if (has_code && !text.empty()) {
      statements.emplace_back(text);
    }
    current.clear();
    has_code = false;
  };
  for (absl::string_view line : absl::StrSplit(sql, '\n')) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    const bool comment = absl::StartsWith(trimmed, "--") || absl::StartsWith(trimmed, "#");
    if (current.empty() && (trimmed.empty() || comment)) {
      continue;  // leading comments go
    }
    absl::StrAppend(&current, absl::StripTrailingAsciiWhitespace(line), "\n");
    if (!comment && !trimmed.empty()) {
      has_code = true;
    }
    if (!comment && absl::EndsWith(trimmed, ";")) {
      flush();
    }
  }
  flush();
  return statements;
}

std::string MigrationChecksum(std::string_view sql) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(sql.data(), sql.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return "";  // never equal to a recorded checksum, so a broken digest cannot pass a check
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size_t{2} * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

absl::Status ValidateMigrationSets(const std::vector<MigrationSet>& sets) {
  absl::flat_hash_set<std::string> components;
  for (const MigrationSet& set : sets) {
    if (!IsValidComponent(set.component)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid migration component name '", set.component, "'"));
    }
    if (!components.insert(set.component).second) {
      return absl::FailedPreconditionError(
          absl::StrCat("migration component '", set.component, "' given twice"));
    }
    std::vector<int> versions;
    for (const Migration& m : set.migrations) {
      if (m.name.empty() || m.name.size() > 190) {
        return absl::FailedPreconditionError(
            absl::StrCat("migration ", set.component, "/", m.version, " has an invalid name"));
      }
      versions.push_back(m.version);
    }
    std::sort(versions.begin(), versions.end());
    for (size_t i = 0; i < versions.size(); ++i) {
      const int expected = static_cast<int>(i) + 1;
      if (i > 0 && versions[i] == versions[i - 1]) {
        return absl::FailedPreconditionError(absl::StrCat(
            "migration ", set.component, "/", versions[i], " appears twice (duplicate version)"));
      }
      if (versions[i] != expected) {
        return absl::FailedPreconditionError(absl::StrCat("migrations of ", set.component,
                                                          " have a gap: version ", expected,
                                                          " is missing before ", versions[i]));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RunMigrations(ConnectionPool& pool, const std::vector<MigrationSet>& sets,
                           absl::Duration lock_timeout) {
  CPTS_RETURN_IF_ERROR(ValidateMigrationSets(sets));
  // One connection for the whole run: the named lock belongs to its session.
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool.Acquire(absl::Now() + lock_timeout));
  Connection& conn = *lease;
  CPTS_ASSIGN_OR_RETURN(const std::string schema, CurrentSchema(conn));
  const std::string lock_name = LockName(schema);
  CPTS_RETURN_IF_ERROR(AcquireLock(conn, lock_name, lock_timeout));
  absl::Cleanup release = [&conn, &lock_name] { ReleaseLock(conn, lock_name); };
  return MigrateLocked(conn, sets);
}

}  // namespace cpts::platform::db
