# The SNP half of the access service: store, migrations, application class, gRPC handlers and
# the SAS FHIR endpoint; included at the end of services/access/CMakeLists.txt.
#
#   access_snp_store        MysqlSnpStore (mysql_snp_store.h) and the embedded migrations
#                           cpts::access::SnpMigrations() (snp_migrations.h, component access_snp)
#   access_snp_service      SnpAgenda (snp_agenda.h), proto conversions, the gRPC handlers,
#                           the FHIR HTTP endpoint and WireSnp (snp_wiring.h)
#   access_snp_store_test   integration tests against a real MariaDB (label: integration)
include(${CMAKE_SOURCE_DIR}/cmake/CptsMigrations.cmake)

add_library(access_snp_store ${CMAKE_CURRENT_LIST_DIR}/mysql_snp_store.cc)
target_link_libraries(access_snp_store
  PUBLIC access_domain access_common cpts_platform_db cpts_platform_crypto absl::status
    absl::statusor absl::function_ref absl::time
  PRIVATE cpts_warnings absl::strings)
cpts_embed_migrations(access_snp_store
  COMPONENT access_snp
  FUNCTION cpts::access::SnpMigrations
  FILES migrations/snp/0001_snp_agenda.sql migrations/snp/0002_booking_purge.sql)

add_library(access_snp_service
  ${CMAKE_CURRENT_LIST_DIR}/snp_agenda.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_convert.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_service.cc
  ${CMAKE_CURRENT_LIST_DIR}/fhir_http.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_wiring.cc)
target_include_directories(access_snp_service PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(access_snp_service
  PUBLIC access_domain access_common access_snp_store access_proto cpts_platform_server
    PkgConfig::HTTPLIB absl::status absl::statusor absl::strings absl::time
  PRIVATE cpts_warnings membership_domain)

add_executable(access_snp_store_test ${CMAKE_CURRENT_LIST_DIR}/mysql_snp_store_test.cc)
target_link_libraries(access_snp_store_test PRIVATE access_snp_service access_snp_store
  cpts_platform_testing_db cpts_platform_testing cpts_warnings GTest::gtest_main PkgConfig::HTTPLIB
  absl::strings absl::synchronization)
cpts_add_tests(access_snp_store_test integration)
