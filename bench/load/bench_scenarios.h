#pragma once

#include "bench/load/scenarios.h"

namespace cpts::bench {

// Scenarios of cpts.bench.v1.BenchService (bench/threading):
//   bench.point_read: PointRead of ids drawn uniformly from 1..rows.
void RegisterBenchScenarios(ScenarioRegistry& registry);

}  // namespace cpts::bench
