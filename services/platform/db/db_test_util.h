#pragma once

// Helpers for the integration tests of services/platform/db.

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "services/platform/db/connection_pool.h"
#include "services/platform/db/migrations.h"
#include "services/platform/db/sql_errors.h"

namespace cpts::platform::db::test_util {

// testdata/0001_create_gadget.sql, 0002_seed_gadget.sql, embedded by cpts_embed_migrations.
MigrationSet EmbeddedTestMigrations();

// First column of the first row as an integer; a failed query fails the test and gives -1.
inline int64_t QueryInt(ConnectionPool& pool, std::string_view sql) {
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire(absl::Now() + absl::Seconds(10));
  if (!lease.ok()) {
    ADD_FAILURE() << lease.status();
    return -1;
  }
  try {
    std::unique_ptr<sql::ResultSet> rs((*lease)->Prepare(sql).executeQuery());
    if (!rs->next()) {
      ADD_FAILURE() << "no row for " << sql;
      return -1;
    }
    return rs->getInt64(1);
  } catch (const sql::SQLException& e) {
    ADD_FAILURE() << MapSqlException(e, sql);
    return -1;
  }
}

inline std::string QueryString(ConnectionPool& pool, std::string_view sql) {
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire(absl::Now() + absl::Seconds(10));
  if (!lease.ok()) {
    ADD_FAILURE() << lease.status();
    return "";
  }
  try {
    std::unique_ptr<sql::ResultSet> rs((*lease)->Prepare(sql).executeQuery());
    if (!rs->next()) {
      ADD_FAILURE() << "no row for " << sql;
      return "";
    }
    return rs->getString(1);
  } catch (const sql::SQLException& e) {
    ADD_FAILURE() << MapSqlException(e, sql);
    return "";
  }
}

// The first column of every row, as strings (NULL as ""); a failed query fails the test.
inline std::vector<std::string> QueryColumn(ConnectionPool& pool, std::string_view sql) {
  std::vector<std::string> column;
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire(absl::Now() + absl::Seconds(10));
  if (!lease.ok()) {
    ADD_FAILURE() << lease.status();
    return column;
  }
  try {
    std::unique_ptr<sql::ResultSet> rs((*lease)->Prepare(sql).executeQuery());
    while (rs->next()) column.emplace_back(rs->isNull(1) ? "" : std::string(rs->getString(1)));
  } catch (const sql::SQLException& e) {
    ADD_FAILURE() << MapSqlException(e, sql);
  }
  return column;
}

// Runs one statement on a pooled connection.
inline absl::Status Exec(ConnectionPool& pool, std::string_view sql) {
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire(absl::Now() + absl::Seconds(10));
  if (!lease.ok()) {
    return lease.status();
  }
  return (*lease)->Execute(sql);
}

}  // namespace cpts::platform::db::test_util
