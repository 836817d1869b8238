#include "services/projects/finance_relay.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cpts/finance/v1/finance_service.grpc.pb.h"
#include "services/platform/core/grpc_status.h"

namespace cpts::projects {

platform::db::OutboxDeliverFn FinanceAttendanceDelivery(platform::client::ServiceIdentity& identity,
                                                        const std::string& finance_target) {
  std::shared_ptr<finance::v1::FinanceService::Stub> stub =
      finance::v1::FinanceService::NewStub(identity.Channel(finance_target));
  return [&identity, stub](const platform::db::OutboxEvent& event) -> absl::Status {
    finance::v1::RecordAttendanceRequest request;
    if (!request.mutable_event()->ParseFromString(event.payload)) {
      return absl::InvalidArgumentError(
          absl::StrCat("outbox event ", event.event_key, ": payload does not parse"));
    }
    auto token = identity.TokenFor(event.tenant_id);
    if (!token.ok()) return token.status();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    context.AddMetadata("authorization", "Bearer " + *token);
    finance::v1::RecordAttendanceResponse response;
    return platform::FromGrpcStatus(stub->RecordAttendance(&context, request, &response));
  };
}

}  // namespace cpts::projects
