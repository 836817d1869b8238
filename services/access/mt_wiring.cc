#include "services/access/mt_wiring.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "services/access/mt_desk.h"
#include "services/access/mt_service.h"
#include "services/access/mysql_mt_store.h"

namespace cpts::access {
namespace {

// Everything WireMt builds, and the retention thread.
class MtHalf final {
 public:
  // Copies `deps` (its references must outlive this object; the struct itself may not).
  explicit MtHalf(const AccessDeps& deps)
      : deps_(deps), store_(deps_.pool, deps_.cipher), desk_(store_, store_, store_, deps_) {}
  MtHalf(const MtHalf&) = delete;
  MtHalf& operator=(const MtHalf&) = delete;
  ~MtHalf() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (purger_.joinable()) purger_.join();
  }

  MtDesk& desk() { return desk_; }
  CommuneDirectory& communes() { return store_; }

  void StartRetention() {
    purger_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        lock.unlock();
        // Errors (database down) are retried at the next round.
        (void)desk_.PurgeExpired();
        lock.lock();
        cv_.wait_for(lock, std::chrono::hours(1), [this] { return stop_; });
      }
    });
  }

 private:
  const AccessDeps deps_;
  MysqlMtStore store_;
  MtDesk desk_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread purger_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<void>> WireMt(const AccessDeps& deps, platform::RpcServer& server,
                                             v1::AccessService::AsyncService* svc) {
  if (svc == nullptr) return absl::InvalidArgumentError("WireMt: no AccessService");
  auto half = std::make_shared<MtHalf>(deps);
  RegisterMtService(server, svc, half->desk(), deps.clock);
  half->StartRetention();
  return std::shared_ptr<void>(half);
}

CommuneDirectory* MtCommunes(const std::shared_ptr<void>& wired_mt) {
  auto* half = static_cast<MtHalf*>(wired_mt.get());
  return half != nullptr ? &half->communes() : nullptr;
}

}  // namespace cpts::access
