# cpts_proto_library(<target> ROOT <import root> PROTOS <paths relative to ROOT>... [DEPS <targets>])
# Generates C++ messages and gRPC stubs into ${CMAKE_BINARY_DIR}/gen.
function(cpts_proto_library name)
  cmake_parse_arguments(A "" "ROOT" "PROTOS;DEPS" ${ARGN})
  set(gen ${CMAKE_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${gen})
  set(srcs)
  foreach(p ${A_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" b ${p})
    set(out ${gen}/${b}.pb.cc ${gen}/${b}.pb.h ${gen}/${b}.grpc.pb.cc ${gen}/${b}.grpc.pb.h)
    add_custom_command(OUTPUT ${out}
      COMMAND protobuf::protoc -I ${A_ROOT} -I ${CMAKE_SOURCE_DIR}/proto
              --cpp_out=${gen} --grpc_out=${gen}
              --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin> ${A_ROOT}/${p}
      DEPENDS ${A_ROOT}/${p} protobuf::protoc gRPC::grpc_cpp_plugin VERBATIM)
    list(APPEND srcs ${out})
  endforeach()
  add_library(${name} STATIC ${srcs})
  # SYSTEM: generated code is not held to our warnings or clang-tidy.
  target_include_directories(${name} SYSTEM PUBLIC ${gen})
  target_link_libraries(${name} PUBLIC gRPC::grpc++ protobuf::libprotobuf ${A_DEPS})
endfunction()
