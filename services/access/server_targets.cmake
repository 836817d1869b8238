# The access server: main.cc, wiring only; built once both halves exist. Included at the end of
# services/access/CMakeLists.txt. Membership is reached through its client library
# (services/membership/client: GrpcMemberDirectory).
if(TARGET access_mt_service AND TARGET access_snp_service)
  add_executable(access_server main.cc)
  target_link_libraries(access_server PRIVATE access_mt_service access_snp_service
    membership_grpc_client membership_domain cpts_platform_server cpts_platform_crypto
    cpts_platform_db cpts_warnings absl::flags)
endif()
