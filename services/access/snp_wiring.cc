#include "services/access/snp_wiring.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "services/access/mysql_snp_store.h"
#include "services/access/snp_agenda.h"
#include "services/access/snp_service.h"

namespace cpts::access {
namespace {

// Everything WireSnp builds, and the retention thread. Members are destroyed in reverse
// order: the endpoint stops before the agenda goes; the thread is joined before either.
class SnpHalf final {
 public:
  SnpHalf(const AccessDeps& deps, CommuneDirectory* communes)
      : store_(deps.pool, deps.cipher), agenda_(store_, deps, {.communes = communes}) {}
  SnpHalf(const SnpHalf&) = delete;
  SnpHalf& operator=(const SnpHalf&) = delete;
  ~SnpHalf() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (purger_.joinable()) purger_.join();
  }

  SnpAgenda& agenda() { return agenda_; }
  std::unique_ptr<FhirHttpEndpoint>& fhir() { return fhir_; }
  const FhirHttpEndpoint* fhir() const { return fhir_.get(); }

  // Past bookings lose their patient data once the retention period has elapsed: checked
  // at start and then every hour.
  void StartRetention() {
    purger_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        lock.unlock();
        // Errors (database down) are retried at the next round.
        (void)agenda_.PurgeExpired();
        lock.lock();
        cv_.wait_for(lock, std::chrono::hours(1), [this] { return stop_; });
      }
    });
  }

 private:
  MysqlSnpStore store_;
  SnpAgenda agenda_;
  std::unique_ptr<FhirHttpEndpoint> fhir_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread purger_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<void>> WireSnp(const AccessDeps& deps, platform::RpcServer& server,
                                              v1::AccessService::AsyncService* svc,
                                              HttpAuthenticator fhir_auth,
                                              CommuneDirectory* communes) {
  auto half = std::make_shared<SnpHalf>(deps, communes);
  RegisterSnpService(server, svc, half->agenda());
  if (deps.fhir_port >= 0) {
    half->fhir() = std::make_unique<FhirHttpEndpoint>(half->agenda(), std::move(fhir_auth));
    if (absl::Status s = half->fhir()->Start(deps.fhir_address, deps.fhir_port); !s.ok()) {
      return s;
    }
  }
  half->StartRetention();
  return std::shared_ptr<void>(std::move(half));
}

int FhirPort(const std::shared_ptr<void>& wired_snp) {
  const auto* half = static_cast<const SnpHalf*>(wired_snp.get());
  return half != nullptr && half->fhir() != nullptr ? half->fhir()->port() : -1;
}

}  // namespace cpts::access
