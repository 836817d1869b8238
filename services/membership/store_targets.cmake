# The MySQL implementation of the membership repositories, its schema and its tests; included
# at the end of services/membership/CMakeLists.txt.
#
#   membership_store       MysqlMembershipStore (mysql_store.h) and the embedded schema
#                          migrations cpts::membership::Migrations() (migrations.h). Link it
#                          PRIVATE from the service library or executable.
#   membership_store_test  integration tests against a real MariaDB (label: integration)
include(${CMAKE_SOURCE_DIR}/cmake/CptsMigrations.cmake)

add_library(membership_store mysql_store.cc)
target_link_libraries(membership_store
  PUBLIC membership_domain cpts_platform_db absl::status absl::statusor absl::function_ref
  PRIVATE cpts_warnings absl::cord absl::flat_hash_map absl::str_format absl::strings
          absl::time)
cpts_embed_migrations(membership_store
  COMPONENT membership
  FUNCTION cpts::membership::Migrations
  FILES migrations/0001_init.sql)

add_executable(membership_store_test mysql_store_test.cc)
target_link_libraries(membership_store_test PRIVATE membership_store cpts_platform_testing_db
  cpts_platform_testing cpts_warnings GTest::gtest_main absl::strings absl::synchronization)
cpts_add_tests(membership_store_test integration)
