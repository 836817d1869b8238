# The MT half of the access service: MT requests, GP capacity; included (OPTIONAL) at the end
# of services/access/CMakeLists.txt.
#
#   access_mt_store        MysqlMtStore (mysql_mt_store.h) and the embedded schema migrations
#                          cpts::access::MtMigrations() (mt_migrations.h, component access_mt)
#   access_mt_service      the application class (mt_desk.h), proto conversions
#                          (mt_convert.h), the gRPC handlers (mt_service.h) and WireMt
#                          (mt_wiring.h)
#   access_mt_store_test   integration tests of the store and the desk on a real MariaDB
#                          (label: integration)
include(${CMAKE_SOURCE_DIR}/cmake/CptsMigrations.cmake)

add_library(access_mt_store ${CMAKE_CURRENT_LIST_DIR}/mysql_mt_store.cc)
target_include_directories(access_mt_store PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(access_mt_store
  PUBLIC access_domain access_common cpts_platform_db cpts_platform_crypto absl::status
    absl::statusor absl::function_ref absl::time
  PRIVATE cpts_warnings absl::flat_hash_map absl::strings)
cpts_embed_migrations(access_mt_store
  COMPONENT access_mt
  FUNCTION cpts::access::MtMigrations
  FILES migrations/mt/0001_mt_requests.sql migrations/mt/0002_territory.sql
  migrations/mt/0003_mt_request_id_per_caller.sql migrations/mt/0004_territory_communes.sql)

add_library(access_mt_service
  ${CMAKE_CURRENT_LIST_DIR}/mt_desk.cc
  ${CMAKE_CURRENT_LIST_DIR}/mt_convert.cc
  ${CMAKE_CURRENT_LIST_DIR}/mt_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/mt_wiring.cc)
target_include_directories(access_mt_service PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(access_mt_service
  PUBLIC access_domain access_common access_mt_store access_proto cpts_platform_server
    cpts_platform_db cpts_platform_crypto absl::status absl::statusor
  PRIVATE cpts_warnings absl::strings absl::time absl::synchronization)

add_executable(access_mt_store_test
  ${CMAKE_CURRENT_LIST_DIR}/mysql_mt_store_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/mt_desk_test.cc)
target_link_libraries(access_mt_store_test PRIVATE access_mt_service access_mt_store
  cpts_platform_testing_db cpts_platform_testing cpts_warnings GTest::gtest_main absl::strings)
cpts_add_tests(access_mt_store_test integration)
