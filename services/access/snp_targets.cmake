# The SNP shared agenda and its SAS interoperability; included at the end of
# services/access/CMakeLists.txt.
#
#   access_domain          gains the SNP domain: publishing and withdrawing slots
#                          (snp_slots.h), search and visibility (snp_search.h), bookings
#                          (snp_booking.h), indicators (snp_indicators.h), and the FHIR R4
#                          mapping of the SAS slot search (fhir_slots.h)
#   access_snp_unit_test   their unit tests (label: unit)
target_sources(access_domain PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/snp_slots.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_search.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_booking.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_indicators.cc
  ${CMAKE_CURRENT_LIST_DIR}/fhir_slots.cc)

add_executable(access_snp_unit_test
  ${CMAKE_CURRENT_LIST_DIR}/snp_slots_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_search_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_booking_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/snp_indicators_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/fhir_slots_test.cc)
target_link_libraries(access_snp_unit_test PRIVATE access_domain cpts_platform_testing
  cpts_warnings GTest::gtest_main absl::strings absl::time)
cpts_add_tests(access_snp_unit_test unit)
