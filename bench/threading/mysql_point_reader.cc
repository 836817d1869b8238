#include "bench/threading/mysql_point_reader.h"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "services/platform/db/sql_errors.h"

namespace cpts::bench {
namespace {

constexpr std::string_view kSelectItem = R"sql(
SELECT name, amount_cents, version FROM bench_item WHERE tenant_id = ? AND id = ?
)sql";

// The same read, plus a wait inside the server: SLEEP returns 0 after the given seconds.
constexpr std::string_view kSelectItemAfterDelay = R"sql(
SELECT name, amount_cents, version FROM bench_item WHERE tenant_id = ? AND id = ? AND SLEEP(?) = 0
)sql";

}  // namespace

absl::StatusOr<Item> MysqlPointReader::Read(std::string_view tenant_id, int64_t id) const {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    const bool delayed = delay_ > absl::ZeroDuration();
    sql::PreparedStatement& select =
        (*lease)->Prepare(delayed ? kSelectItemAfterDelay : kSelectItem);
    select.setString(1, sql::SQLString(tenant_id.data(), tenant_id.size()));
    select.setInt64(2, id);
    if (delayed) select.setDouble(3, absl::ToDoubleSeconds(delay_));
    std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
    if (!rows->next()) return absl::NotFoundError(absl::StrCat("no item ", id));
    Item item;
    item.id = id;
    item.name = rows->getString(1);
    item.amount_cents = rows->getInt64(2);
    item.version = rows->getInt64(3);
    return item;
  } catch (const sql::SQLException& e) {
    return platform::db::MapSqlException(e, "read bench item");
  }
}

}  // namespace cpts::bench
