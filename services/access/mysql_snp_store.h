#pragma once

// The MySQL implementation of SnpStore (snp_store.h), on the schema of
// migrations/snp/ (SnpMigrations(), snp_migrations.h). Thread-safe: each call leases its own
// connection from the pool.

#include "services/access/snp_store.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::access {

class MysqlSnpStore final : public SnpStore {
 public:
  // `pool` and `cipher` must outlive the store.
  MysqlSnpStore(platform::db::ConnectionPool& pool, const platform::crypto::FieldCipher& cipher)
      : pool_(pool), cipher_(cipher) {}

  absl::StatusOr<std::vector<Slot>> PublishSlots(absl::string_view tenant_id,
                                                 const std::vector<SnpProfessional>& professionals,
                                                 const std::vector<OverlapWindow>& windows,
                                                 const PublishKey& key, absl::Time now,
                                                 PrepareSlotsFn prepare) override;
  absl::StatusOr<Slot> GetSlot(absl::string_view tenant_id, absl::string_view slot_id) override;
  absl::StatusOr<Slot> UpdateSlot(absl::string_view tenant_id, absl::string_view slot_id,
                                  absl::FunctionRef<absl::Status(Slot&)> mutate) override;
  absl::StatusOr<std::vector<Slot>> SearchSlots(const SlotSearchPlan& plan) override;
  absl::StatusOr<BookingAndSlot> BookSlot(
      absl::string_view tenant_id, absl::string_view slot_id, const BookKey& key,
      const SnpAudit& audit, absl::FunctionRef<absl::StatusOr<Booking>(Slot&)> book) override;
  absl::StatusOr<BookingAndSlot> GetBooking(
      absl::string_view tenant_id, absl::string_view booking_id, const SnpAudit& audit,
      absl::FunctionRef<absl::Status(const Booking&, const Slot&)> authorize) override;
  absl::StatusOr<BookingAndSlot> UpdateBooking(
      absl::string_view tenant_id, absl::string_view booking_id, const SnpAudit& audit,
      absl::FunctionRef<absl::Status(Booking&, Slot&)> mutate) override;
  absl::StatusOr<SnpIndicatorInput> IndicatorFacts(absl::string_view tenant_id,
                                                   const TimeRange& period) override;
  absl::StatusOr<SnpFhirResult> FhirSearch(absl::string_view tenant_id,
                                           const std::vector<std::string>& rpps, absl::Time from,
                                           absl::Time to, int limit) override;
  absl::StatusOr<int> PurgePastBookings(absl::Time cutoff, absl::Time now, int limit) override;

 private:
  platform::db::ConnectionPool& pool_;
  const platform::crypto::FieldCipher& cipher_;
};

}  // namespace cpts::access
