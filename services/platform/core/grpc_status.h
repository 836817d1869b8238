#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace cpts::platform {

// The one mapping from our status to the wire. Nobody else builds a grpc::Status from an error.
// Internal errors keep their code but not their message: it may name tables or SQL.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The reverse, for outbound calls to other services: keeps the code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cpts::platform
