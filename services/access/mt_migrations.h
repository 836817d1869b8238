#pragma once

#include "services/platform/db/migrations.h"

namespace cpts::access {

// The schema migrations of the MT half of the access service (component "access_mt"),
// embedded at build time from migrations/mt/.
platform::db::MigrationSet MtMigrations();

}  // namespace cpts::access
