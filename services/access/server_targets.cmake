# The access server: main.cc (wiring only) and the membership client; built once both halves
# exist. Included at the end of services/access/CMakeLists.txt.
#
#   access_directory   GrpcMemberDirectory: membership's GetMemberProfile behind MemberDirectory
#   access_server      the service binary
add_library(access_directory grpc_member_directory.cc)
target_include_directories(access_directory PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(access_directory
  PUBLIC access_common membership_proto cpts_platform_client cpts_platform_core
  PRIVATE cpts_warnings absl::strings)

if(TARGET access_mt_service AND TARGET access_snp_service)
  add_executable(access_server main.cc)
  target_link_libraries(access_server PRIVATE access_mt_service access_snp_service
    access_directory membership_domain cpts_platform_server cpts_platform_crypto cpts_platform_db
    cpts_warnings absl::flags)
endif()
