#pragma once

// Shared by the availability tests: the real membership, access and projects servers on a given
// database (one MariaDB, or a Galera cluster through a --db_host failover list), a tenant with
// a general practitioner's published slots and started meetings ready to close, and gRPC calls
// retried the way a well-behaved client does (UNAVAILABLE and ABORTED, exponential backoff with
// jitter, same request_id).

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cpts/access/v1/access_service.grpc.pb.h"
#include "cpts/projects/v1/projects_service.grpc.pb.h"
#include "services/platform/testing/mariadb_server.h"
#include "services/platform/testing/service_process.h"
#include "services/platform/testing/test_tokens.h"

namespace cpts::availability {

namespace av1 = ::cpts::access::v1;
namespace pv1 = ::cpts::projects::v1;

// The graceful stop of access servers started by the fixture, as in production (deploy/base):
// the rolling-restart test measures it. Other test servers stop without a lame duck.
inline constexpr absl::Duration kAccessLameDuck = absl::Seconds(2);

// Meetings of one working group that have started, with every line of their sheets recorded
// (present) and the sheets not closed yet: each is ready for one CloseAttendance.
struct HeldMeetings {
  std::string group_id;
  std::vector<std::string> participant_ids;  // the practitioner (référent), the pharmacist
  std::vector<std::string> meeting_ids;
};

// Membership + the access schema (migrated) + field keys; access replicas are started on it
// with StartAccess, each with its own --db_host; projects servers with StartProjects.
class Stack {
 public:
  // `db` creates the schemas and users (with a Galera cluster: through one node, they
  // replicate). Membership connects to db's host list. `db` must outlive the stack (StartProjects
  // creates its schema through it).
  static absl::StatusOr<std::unique_ptr<Stack>> Start(testing::MariaDbServer& db);
  ~Stack();

  // A new access replica on the shared access schema; db_host empty = db's host list.
  absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartAccess(
      const std::string& db_host = "") const;

  // The projects schema (created and migrated by the first call) and a projects server on it;
  // db_host empty = db's host list. No finance peer: the events of closed sheets stay in the
  // outbox, where a test can count them.
  absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartProjects(
      const std::string& db_host = "");

  // A tenant in membership, with an active general practitioner and pharmacist; sets the
  // tokens below.
  absl::Status CreateTenant();
  // A working group of the tenant (the practitioner référent, the pharmacist active member) and
  // `count` of its meetings, scheduled a second ahead, then, once started, with both recorded
  // present; through `projects`, several calls at a time.
  absl::StatusOr<HeldMeetings> PrepareHeldMeetings(pv1::ProjectsService::Stub& projects,
                                                   int count) const;
  // Publishes `count` 20-minute office slots of the practitioner, 30 minutes apart from `first`,
  // through `access` (500 per call); returns their ids in order.
  absl::StatusOr<std::vector<std::string>> PublishSlots(av1::AccessService::Stub& access,
                                                        absl::Time first, int count) const;

  const std::string& tenant() const { return tenant_; }
  const std::string& gp_token() const { return gp_token_; }
  const std::string& booker_token() const { return booker_token_; }
  const std::string& booker_subject() const { return booker_subject_; }
  const std::string& coordinator_token() const { return coordinator_token_; }
  const testing::TestSchema& access_schema() const { return access_schema_; }
  // Set by the first StartProjects.
  const testing::TestSchema& projects_schema() const { return projects_schema_; }
  const testing::ServiceProcess& membership() const { return *membership_; }
  static const char* commune() { return "33529"; }

 private:
  Stack() = default;
  testing::MariaDbServer* db_ = nullptr;
  std::string db_host_;
  std::unique_ptr<testing::TestTokens> tokens_;
  std::unique_ptr<testing::ServiceProcess> membership_;
  testing::TestSchema access_schema_;
  testing::TestSchema projects_schema_;
  std::string key_dir_;
  std::string tenant_;
  std::string gp_token_;
  std::string booker_token_;
  std::string booker_subject_;
  std::string coordinator_token_;
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

// Runs `attempt` until it returns anything but UNAVAILABLE (or ABORTED, when retry_aborted)
// or `give_up` passes; backoff 20 ms doubling to 500 ms, full jitter.
RetryOutcome CallWithRetry(const std::function<grpc::Status()>& attempt, absl::Time give_up,
                           bool retry_aborted);

}  // namespace cpts::availability
