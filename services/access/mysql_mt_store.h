#pragma once

// The MySQL (MariaDB) implementation of the MT repositories of mt_store.h, over the schema
// of migrations/mt/ (embedded as cpts::access::MtMigrations(), see mt_migrations.h).
//
// How it keeps the contracts of mt_store.h:
// - Patient fields are encrypted with the FieldCipher before they are bound, with associated
//   data "access.mt_request.<column>:<tenant>:<id>" (history reasons:
//   "access.mt_transition.reason:<tenant>:<id>:<seq>"), so a ciphertext copied to another
//   row or column does not decrypt. Empty values are stored as NULL.
// - Every call runs in platform::db::RunInTransaction; a workflow step reads the request with
//   SELECT ... FOR UPDATE and writes it back with `version = version + 1 WHERE version = ?`.
//   A place of GP capacity is taken with a conditional UPDATE (remaining_count > 0) in the
//   same transaction, so it happens exactly once per acceptance.
// - The patient audit record (patient_audit.h) is appended on the same connection.
// This header includes no connector header: only mysql_*.cc files see <cppconn/...>.

#include <optional>
#include <string>
#include <vector>

#include "services/access/mt_store.h"

namespace cpts::platform::db {
class ConnectionPool;
}  // namespace cpts::platform::db

namespace cpts::platform::crypto {
class FieldCipher;
}  // namespace cpts::platform::crypto

namespace cpts::access {

class MysqlMtStore final : public MtRequestRepository,
                           public GpCapacityRepository,
                           public TerritoryRepository,
                           public CommuneDirectory {
 public:
  // `pool` connects to a schema migrated with {PlatformMigrations(), MtMigrations()}; `pool`
  // and `cipher` must outlive the store. Thread-safe.
  MysqlMtStore(platform::db::ConnectionPool& pool, const platform::crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}
  MysqlMtStore(const MysqlMtStore&) = delete;
  MysqlMtStore& operator=(const MysqlMtStore&) = delete;

  // MtRequestRepository
  absl::StatusOr<MtCreateResult> CreateMtRequest(const MtRequest& request, const MtSubmitKeys& keys,
                                                 const PatientAuditContext& audit) override;
  absl::StatusOr<MtRequest> GetMtRequest(absl::string_view tenant_id, absl::string_view id,
                                         const PatientAuditContext* audit) override;
  absl::StatusOr<std::vector<MtRequest>> ListMtQueue(absl::string_view tenant_id,
                                                     const MtQueueFilter& filter,
                                                     const std::optional<MtQueueKey>& after,
                                                     int limit,
                                                     const PatientAuditContext* audit) override;
  absl::StatusOr<MtUpdateResult> UpdateMtRequest(
      absl::string_view tenant_id, absl::string_view id, std::optional<int64_t> expected_version,
      absl::FunctionRef<absl::StatusOr<MtStepResult>(MtRequest&)> step,
      const PatientAuditContext& audit) override;
  absl::StatusOr<std::vector<MtFacts>> ListMtFacts(absl::string_view tenant_id,
                                                   absl::Time since) override;
  absl::StatusOr<int> PurgeClosedMtRequests(absl::Time cutoff, absl::Time now, int limit) override;

  // GpCapacityRepository
  absl::StatusOr<GpCapacity> PutGpCapacity(absl::string_view tenant_id, const GpCapacity& capacity,
                                           std::optional<int64_t> expected_version,
                                           absl::Time now) override;
  absl::StatusOr<GpCapacity> GetGpCapacity(absl::string_view tenant_id,
                                           absl::string_view gp_member_id) override;
  absl::StatusOr<std::vector<GpCapacity>> ListGpCapacities(absl::string_view tenant_id,
                                                           const GpCapacityFilter& filter,
                                                           absl::string_view after_gp_member_id,
                                                           int limit) override;

  // TerritoryRepository
  absl::StatusOr<TerritoryRecord> PutTerritory(absl::string_view tenant_id,
                                               const TerritoryRecord& territory,
                                               TerritoryParts replace) override;
  absl::StatusOr<TerritoryRecord> GetTerritory(absl::string_view tenant_id,
                                               TerritoryParts parts) override;

  // CommuneDirectory (the SNP half's FHIR answer reads the territory's communes here)
  absl::StatusOr<std::vector<TerritoryCommune>> FindCommunes(
      absl::string_view tenant_id, const std::vector<std::string>& insee_codes) override;

 private:
  platform::db::ConnectionPool& pool_;
  const platform::crypto::FieldCipher& cipher_;
};

}  // namespace cpts::access
