#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::platform::db {

// One forward-only schema change, from a file named NNNN_<name>.sql.
//
// File format: plain SQL statements, each ending with `;` at the end of a line. The runner
// splits on that, so a `;` at the end of a line inside a string literal or a /* */ comment would
// split a statement: avoid it. Lines starting with `--` or `#` are comments. Compound statements
// (BEGIN ... END bodies of procedures or multi-statement triggers) are not supported: use
// single-statement triggers. MySQL commits DDL implicitly, so a migration is not atomic: if
// statement 3 of 5 fails, statements 1-2 stay applied and the migration is not recorded; prefer
// one DDL statement per migration where a partial application would be hard to repair.
struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// All migrations of one component ("platform", "membership"...), versions 1..n without gaps.
struct MigrationSet {
  std::string component;
  std::vector<Migration> migrations;
};

// Applies, set by set in the order given and by version within a set, every migration not yet
// applied, recording (component, version, name, sha256 checksum, applied_at) in a
// `schema_migrations` table it creates. Returns:
//  - FailedPrecondition, naming component/version, when an applied migration's checksum (or
//    name) differs from the one given (the file was edited), when an applied version has no
//    migration here (missing; e.g. an older binary than the schema), when a version is applied
//    while an earlier one is not, or when versions have gaps or duplicates;
//  - Unavailable when the database is down or the migration lock cannot be had within
//    lock_timeout;
//  - the mapped error of a failing statement, prefixed by component/version and statement index.
// Rows of components not given here are left alone (the platform and a service share a schema
// but are migrated by the same call in practice).
//
// Safe when several replicas start at once: the run is serialised by
// GET_LOCK('cpts_migrations.<schema>') held by one connection; a replica that gets the lock
// second re-reads schema_migrations and finds nothing to do. GET_LOCK is local to one server:
// on a Galera cluster point every migrator at the same node (or run migrations as one job).
// The pool's user needs DDL rights on the schema (the `<schema>_migrator` user), and its
// io_timeout must exceed the longest DDL statement.
absl::Status RunMigrations(ConnectionPool& pool, const std::vector<MigrationSet>& sets,
                           absl::Duration lock_timeout = absl::Seconds(60));

// The platform's own migrations (the shared audit_log table), embedded at build time from
// services/platform/db/migrations/. Every service runs them before its own set.
MigrationSet PlatformMigrations();

// --- Building blocks, exposed for tests and tools. ---

// Splits a migration file into statements (see Migration for the format); comment-only and
// blank chunks are dropped and the trailing `;` is removed.
std::vector<std::string> SplitSqlStatements(std::string_view sql);

// Lowercase hex SHA-256 of the migration text, as recorded in schema_migrations.
std::string MigrationChecksum(std::string_view sql);

// Static checks without a database: component names, names, versions 1..n without gaps or
// duplicates, each component once. FailedPrecondition on the first problem.
absl::Status ValidateMigrationSets(const std::vector<MigrationSet>& sets);

}  // namespace cpts::platform::db
