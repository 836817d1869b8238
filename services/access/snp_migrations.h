#pragma once

#include "services/platform/db/migrations.h"

namespace cpts::access {

// The SNP agenda's schema (services/access/migrations/snp/), component "access_snp",
// embedded at build time. Run after platform::db::PlatformMigrations() (audit_log).
platform::db::MigrationSet SnpMigrations();

}  // namespace cpts::access
