#pragma once

// What the two halves of the access service (MT requests: mt_wiring.h; the SNP agenda and its
// FHIR endpoint: snp_wiring.h) are built from. main.cc creates these once and hands the same
// ones to both.

#include <string>

#include "absl/time/time.h"
#include "services/membership/client/member_directory.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/connection_pool.h"

namespace cpts::access {

struct AccessDeps {
  platform::db::ConnectionPool& pool;
  const platform::Clock& clock;
  platform::IdGenerator& ids;
  // Patient names, contact, notes and reasons are encrypted with it; duplicate detection uses
  // its keyed hash.
  const platform::crypto::FieldCipher& cipher;
  membership::client::MemberDirectory& directory;
  // The CPTS's calendar (Europe/Paris): "today", birth dates, indicator periods.
  absl::TimeZone zone;
  // The SAS FHIR endpoint (GET /fhir/Slot): address and port; port 0 picks a free one, -1
  // disables it.
  std::string fhir_address = "0.0.0.0";
  int fhir_port = 8054;
  // Closed MT requests and past bookings older than this lose their patient data.
  absl::Duration retention = absl::Hours(24 * 365);
};

}  // namespace cpts::access
