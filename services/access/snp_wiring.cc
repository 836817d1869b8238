#include "services/access/snp_wiring.h"

#include <memory>
#include <utility>

#include "services/access/mysql_snp_store.h"
#include "services/access/snp_agenda.h"
#include "services/access/snp_service.h"

namespace cpts::access {
namespace {

// Members are destroyed in reverse order: the endpoint stops before the agenda goes.
struct WiredSnp {
  std::unique_ptr<MysqlSnpStore> store;
  std::unique_ptr<SnpAgenda> agenda;
  std::unique_ptr<FhirHttpEndpoint> fhir;
};

}  // namespace

absl::StatusOr<std::shared_ptr<void>> WireSnp(const AccessDeps& deps, platform::RpcServer& server,
                                              v1::AccessService::AsyncService* svc,
                                              HttpAuthenticator fhir_auth) {
  auto wired = std::make_shared<WiredSnp>();
  wired->store = std::make_unique<MysqlSnpStore>(deps.pool, deps.cipher);
  wired->agenda = std::make_unique<SnpAgenda>(*wired->store, deps);
  RegisterSnpService(server, svc, *wired->agenda);
  if (deps.fhir_port >= 0) {
    wired->fhir = std::make_unique<FhirHttpEndpoint>(*wired->agenda, std::move(fhir_auth));
    if (absl::Status s = wired->fhir->Start(deps.fhir_address, deps.fhir_port); !s.ok()) return s;
  }
  return std::shared_ptr<void>(std::move(wired));
}

int FhirPort(const std::shared_ptr<void>& wired_snp) {
  const auto* wired = static_cast<const WiredSnp*>(wired_snp.get());
  return wired != nullptr && wired->fhir != nullptr ? wired->fhir->port() : -1;
}

}  // namespace cpts::access
