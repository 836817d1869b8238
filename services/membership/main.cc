// The membership service: wiring only.
#include <memory>

#include "services/membership/members.h"
#include "services/membership/migrations.h"
#include "services/membership/mysql_store.h"
#include "services/membership/service.h"
#include "services/platform/db/migrations.h"
#include "services/platform/server/service_main.h"

namespace {

struct Wiring {
  std::unique_ptr<cpts::membership::MysqlMembershipStore> store;
  std::unique_ptr<cpts::membership::Membership> membership;
};

}  // namespace

int main(int argc, char** argv) {
  using cpts::platform::ServiceEnvironment;
  return cpts::platform::RunService(
      argc, argv,
      {.name = "membership",
       .default_grpc_port = 50051,
       .default_http_port = 9051,
       .migrations = {cpts::platform::db::PlatformMigrations(), cpts::membership::Migrations()},
       .wire = [](ServiceEnvironment& env) -> absl::StatusOr<std::shared_ptr<void>> {
         auto w = std::make_shared<Wiring>();
         w->store = std::make_unique<cpts::membership::MysqlMembershipStore>(env.pool);
         auto& s = *w->store;
         w->membership = std::make_unique<cpts::membership::Membership>(
             cpts::membership::MembershipRepositories{s, s, s, s, s, s}, env.clock, env.ids,
             cpts::membership::FrenchTimeZone());
         cpts::membership::RegisterMembershipService(env.server, *w->membership);
         return std::shared_ptr<void>(w);
       }});
}
