# The MySQL implementation of the projects repositories, its schema and its tests; included
# from services/projects/CMakeLists.txt.
#
#   projects_convert     proto <-> domain conversions (convert.h), also the stored form of
#                        the records kept as serialized messages
#   projects_store       MysqlProjectsStore (mysql_store.h) and the embedded schema
#                        migrations cpts::projects::Migrations() (component projects)
#   projects_store_test  integration tests against a real MariaDB (label: integration)
include(${CMAKE_SOURCE_DIR}/cmake/CptsMigrations.cmake)

add_library(projects_convert convert.cc)
target_include_directories(projects_convert PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(projects_convert
  PUBLIC projects_domain projects_proto absl::status absl::statusor absl::time
  PRIVATE cpts_warnings absl::strings)

add_library(projects_store mysql_store.cc)
target_link_libraries(projects_store
  PUBLIC projects_domain cpts_platform_db absl::status absl::statusor absl::function_ref
  PRIVATE projects_convert cpts_warnings absl::cord absl::strings absl::time)
cpts_embed_migrations(projects_store
  COMPONENT projects
  FUNCTION cpts::projects::Migrations
  FILES
    migrations/0001_projects.sql
    migrations/0002_project_settings.sql)

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/mysql_store_test.cc)
  add_executable(projects_store_test mysql_store_test.cc)
  target_link_libraries(projects_store_test PRIVATE projects_store projects_app projects_convert
    cpts_platform_testing_db cpts_platform_testing cpts_warnings GTest::gtest_main absl::strings)
  cpts_add_tests(projects_store_test integration)
endif()

add_executable(projects_convert_test convert_test.cc)
target_link_libraries(projects_convert_test PRIVATE projects_convert cpts_platform_testing
  cpts_warnings GTest::gtest_main)
cpts_add_tests(projects_convert_test unit)
