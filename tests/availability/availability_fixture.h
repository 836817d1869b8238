#pragma once

// Shared by the availability tests: the real membership and access servers on a given
// database (one MariaDB, or a Galera cluster through a --db_host failover list), a tenant with
// a general practitioner's published slots, and gRPC calls retried the way a well-behaved
// client does (UNAVAILABLE and ABORTED, exponential backoff with jitter, same request_id).

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cpts/access/v1/access_service.grpc.pb.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::availability {

namespace av1 = ::cpts::access::v1;

// Membership + the access schema (migrated) + field keys; access replicas are started on it
// with StartAccess, each with its own --db_host.
class Stack {
 public:
  // `db` creates the schemas and users (with a Galera cluster: through one node, they
  // replicate). Membership connects to membership_db_host (default: db's host list).
  static absl::StatusOr<std::unique_ptr<Stack>> Start(testing::MariaDbServer& db);
  ~Stack();

  // A new access replica on the shared access schema; db_host empty = db's host list.
  absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartAccess(
      const std::string& db_host = "") const;

  // A tenant in membership, with an active general practitioner and pharmacist; sets the
  // tokens below.
  absl::Status CreateTenant();
  // Publishes `count` 20-minute office slots of the practitioner, 30 minutes apart from `first`,
  // through `access` (500 per call); returns their ids in order.
  absl::StatusOr<std::vector<std::string>> PublishSlots(av1::AccessService::Stub& access,
                                                        absl::Time first, int count) const;

  const std::string& tenant() const { return tenant_; }
  const std::string& gp_token() const { return gp_token_; }
  const std::string& booker_token() const { return booker_token_; }
  const std::string& booker_subject() const { return booker_subject_; }
  const testing::TestSchema& access_schema() const { return access_schema_; }
  const testing::ServiceProcess& membership() const { return *membership_; }
  static const char* commune() { return "33529"; }

 private:
  Stack() = default;
  std::string db_host_;
  std::unique_ptr<testing::TestTokens> tokens_;
  std::unique_ptr<testing::ServiceProcess> membership_;
  testing::TestSchema access_schema_;
  std::string key_dir_;
  std::string tenant_;
  std::string gp_token_;
  std::string booker_token_;
  std::string booker_subject_;
};

// A BookSlot request for `slot_id` (synthetic patient), idempotent through `request_id`.
av1::BookSlotRequest BookRequest(const std::string& slot_id, const std::string& request_id);

// A call context with `timeout` and a bearer token.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, absl::Duration timeout);

struct RetryOutcome {
  grpc::Status status;  // of the last attempt
  int attempts = 0;
  std::vector<grpc::StatusCode> retried;  // the codes of the attempts that were retried
};

// Runs `attempt` until it returns anything but UNAVAILABLE (or ABORTED, when retry_aborted;
// or CANCELLED, when retry_cancelled: only for idempotent calls) or `give_up` passes; backoff
// 20 ms doubling to 500 ms, full jitter.
RetryOutcome CallWithRetry(const std::function<grpc::Status()>& attempt, absl::Time give_up,
                           bool retry_aborted, bool retry_cancelled = false);

}  // namespace cpts::availability
