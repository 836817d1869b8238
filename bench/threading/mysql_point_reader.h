#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::bench {

// One row of bench_item (bench/threading/schema.sql).
struct Item {
  int64_t id = 0;
  std::string name;
  int64_t amount_cents = 0;
  int64_t version = 0;
};

// The one query every threading mode runs: a primary-key read through the platform's
// connection pool and a cached server-side prepared statement. Thread-safe.
class MysqlPointReader final {
 public:
  // A positive `delay` makes every query also wait that long inside MariaDB (SLEEP, no CPU):
  // it stands for a database on another machine, or a slower query.
  explicit MysqlPointReader(platform::db::ConnectionPool& pool,
                            absl::Duration delay = absl::ZeroDuration())
      : pool_(pool), delay_(delay) {}

  // NotFound when the tenant has no item `id`; Unavailable when the database cannot be
  // reached; Internal for any other database error.
  absl::StatusOr<Item> Read(std::string_view tenant_id, int64_t id) const;

 private:
  platform::db::ConnectionPool& pool_;
  const absl::Duration delay_;
};

}  // namespace cpts::bench
