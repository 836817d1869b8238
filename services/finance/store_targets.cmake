# The MySQL implementation of the finance repositories, its schema and its tests; included
# from services/finance/CMakeLists.txt.
#
#   finance_store       MysqlFinanceStore (mysql_store.h) and the embedded schema migrations
#                       cpts::finance::Migrations() (migrations.h, component finance)
#   finance_store_test  integration tests against a real MariaDB (label: integration)
include(${CMAKE_SOURCE_DIR}/cmake/CptsMigrations.cmake)

add_library(finance_store ${CMAKE_CURRENT_LIST_DIR}/mysql_store.cc)
target_include_directories(finance_store PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(finance_store
  PUBLIC finance_domain cpts_platform_db absl::status absl::statusor absl::function_ref
  PRIVATE cpts_warnings absl::cord absl::flat_hash_map absl::strings absl::time)
cpts_embed_migrations(finance_store
  COMPONENT finance
  FUNCTION cpts::finance::Migrations
  FILES migrations/0001_finance.sql migrations/0002_debtor_accounts.sql
  migrations/0003_governance_indemnities.sql migrations/0004_batch_line_recoveries.sql)
