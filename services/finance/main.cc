// The finance service: wiring only.
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "services/finance/finance.h"
#include "services/finance/migrations.h"
#include "services/finance/mysql_store.h"
#include "services/finance/service.h"
#include "services/membership/client/grpc_member_directory.h"
#include "services/platform/db/migrations.h"
#include "services/platform/server/service_main.h"

ABSL_FLAG(std::string, membership_address, "127.0.0.1:50051",
          "host:port of the membership service (who is an up-to-date member, who is paid).");
// Accepted so that every service takes the same peer flags (scripts/lib/common.sh); finance
// does not call these yet.
ABSL_FLAG(std::string, projects_address, "", "host:port of the projects service (unused yet).");
ABSL_FLAG(std::string, access_address, "", "host:port of the access service (unused yet).");

namespace {

namespace finance = cpts::finance;
namespace platform = cpts::platform;

struct Wiring {
  std::unique_ptr<cpts::membership::client::GrpcMemberDirectory> directory;
  std::unique_ptr<finance::MysqlFinanceStore> store;
  std::unique_ptr<finance::Finance> app;
};

}  // namespace

int main(int argc, char** argv) {
  using platform::ServiceEnvironment;
  return platform::RunService(
      argc, argv,
      {.name = "finance",
       .default_grpc_port = 50053,
       .default_http_port = 9053,
       .migrations = {platform::db::PlatformMigrations(), finance::Migrations()},
       .wire = [](ServiceEnvironment& env) -> absl::StatusOr<std::shared_ptr<void>> {
         if (env.identity == nullptr) {
           return absl::InvalidArgumentError(
               "--service_key_file is required: finance calls membership");
         }
         auto w = std::make_shared<Wiring>();
         w->directory = std::make_unique<cpts::membership::client::GrpcMemberDirectory>(
             *env.identity, absl::GetFlag(FLAGS_membership_address), env.clock);
         w->store = std::make_unique<finance::MysqlFinanceStore>(env.pool, env.ids, env.clock);
         finance::MysqlFinanceStore& s = *w->store;
         w->app =
             std::make_unique<finance::Finance>(finance::FinanceDeps{.policies = s,
                                                                     .ceilings = s,
                                                                     .entitlements = s,
                                                                     .ledger = s,
                                                                     .payments = s,
                                                                     .aci = s,
                                                                     .directory = *w->directory,
                                                                     .clock = env.clock,
                                                                     .ids = env.ids});
         finance::RegisterFinanceService(env.server, *w->app);
         return std::shared_ptr<void>(w);
       }});
}
