#pragma once

#include "services/platform/db/migrations.h"

namespace cpts::membership {

// The schema migrations of the membership service, embedded at build time from migrations/.
platform::db::MigrationSet Migrations();

}  // namespace cpts::membership
