// The projects service: wiring only.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "services/membership/client/grpc_member_directory.h"
#include "services/platform/db/migrations.h"
#include "services/platform/db/outbox.h"
#include "services/platform/server/logging.h"
#include "services/platform/server/service_main.h"
#include "services/projects/mysql_store.h"
#include "services/projects/projects.h"
#include "services/projects/service.h"
#ifdef CPTS_PROJECTS_HAVE_FINANCE
#include "services/projects/finance_relay.h"
#endif

ABSL_FLAG(std::string, membership_address, "127.0.0.1:50051",
          "host:port of the membership service (who is an active member).");
ABSL_FLAG(std::string, finance_address, "",
          "host:port of the finance service; when set, attendance entitlement events are "
          "relayed to its RecordAttendance. Empty: they stay in the outbox.");

namespace {

namespace platform = cpts::platform;
namespace projects = cpts::projects;

struct Wiring {
  std::unique_ptr<cpts::membership::client::GrpcMemberDirectory> members;
  std::unique_ptr<projects::MysqlProjectsStore> store;
  std::unique_ptr<projects::Projects> app;
  std::unique_ptr<platform::db::OutboxRelay> relay;
};

}  // namespace

int main(int argc, char** argv) {
  using platform::ServiceEnvironment;
  return platform::RunService(
      argc, argv,
      {.name = "projects",
       .default_grpc_port = 50052,
       .default_http_port = 9052,
       .migrations = {platform::db::PlatformMigrations(), projects::Migrations()},
       .wire = [](ServiceEnvironment& env) -> absl::StatusOr<std::shared_ptr<void>> {
         if (env.identity == nullptr) {
           return absl::InvalidArgumentError(
               "--service_key_file is required: projects calls membership");
         }
         auto w = std::make_shared<Wiring>();
         w->members = std::make_unique<cpts::membership::client::GrpcMemberDirectory>(
             *env.identity, absl::GetFlag(FLAGS_membership_address), env.clock);
         w->store = std::make_unique<projects::MysqlProjectsStore>(env.pool, env.ids);
         projects::MysqlProjectsStore& s = *w->store;
         w->app =
             std::make_unique<projects::Projects>(projects::ProjectsDeps{.settings = s,
                                                                         .missions = s,
                                                                         .actions = s,
                                                                         .groups = s,
                                                                         .tasks = s,
                                                                         .documents = s,
                                                                         .meetings = s,
                                                                         .attendance = s,
                                                                         .outbox = s,
                                                                         .members = *w->members,
                                                                         .clock = env.clock,
                                                                         .ids = env.ids});
         projects::RegisterProjectsService(env.server, *w->app);
         const std::string finance = absl::GetFlag(FLAGS_finance_address);
         if (!finance.empty()) {
#ifdef CPTS_PROJECTS_HAVE_FINANCE
           auto relay = platform::db::OutboxRelay::Create(
               env.pool, env.clock, platform::db::OutboxRelayOptions{},
               {{projects::kAttendanceTopic,
                 projects::FinanceAttendanceDelivery(*env.identity, finance)}});
           if (!relay.ok()) return relay.status();
           w->relay = *std::move(relay);
           if (absl::Status started = w->relay->Start(); !started.ok()) return started;
#else
           return absl::InvalidArgumentError(
               "--finance_address: this build has no finance client (finance_proto missing)");
#endif
         }
         return std::shared_ptr<void>(w);
       }});
}
