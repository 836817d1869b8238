#pragma once

#include "services/platform/db/migrations.h"

namespace cpts::finance {

// The schema migrations of the finance service, embedded at build time from migrations/.
platform::db::MigrationSet Migrations();

}  // namespace cpts::finance
