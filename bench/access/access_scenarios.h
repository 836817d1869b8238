#pragma once

#include <cstdint>
#include <string>

#include "bench/load/scenarios.h"

namespace cpts::bench {

// The slot id the data generator (bench/access/data_gen.cc) gives to slot number `n`
// (0-based): "bs-0000042".
std::string BenchSlotId(int64_t n);

// Scenarios of the access service and of its raw stack (bench/access/raw_access_server.cc),
// over the data of bench/access/data_gen.cc:
//   access.search_slots  SearchSlots, one commune per request, communes in turn, a window of
//                        `hours` from `from` (Unix seconds); token: coordinator.
//   access.book_slot     BookSlot of slot number offset + n*stride for call n (distinct slots).
//   access.get_slot      GetSlot of slots drawn uniformly from 0..slots-1.
//   raw.search_slots     the same query on AccessRawService (tenant in the request).
//   raw.book_slot        the same transaction on AccessRawService.
void RegisterAccessScenarios(ScenarioRegistry& registry);

}  // namespace cpts::bench
