#include "bench/load/bench_scenarios.h"

#include <random>
#include <vector>

#include "cpts/bench/v1/bench.pb.h"

namespace cpts::bench {

void RegisterBenchScenarios(ScenarioRegistry& registry) {
  registry.Add(
      "bench.point_read",
      "rows=100000 (ids are drawn from 1..rows), prepared=65536 (distinct requests), seed=1, "
      "check=0 (1: parse every response and check its id)",
      [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
        const auto rows = IntParam(params, "rows", 100'000);
        if (!rows.ok()) return rows.status();
        const auto prepared = IntParam(params, "prepared", 65'536);
        if (!prepared.ok()) return prepared.status();
        const auto seed = IntParam(params, "seed", 1);
        if (!seed.ok()) return seed.status();
        const auto check = IntParam(params, "check", 0);
        if (!check.ok()) return check.status();
        if (*rows < 1 || *prepared < 1) {
          return absl::InvalidArgumentError("rows and prepared must be >= 1");
        }
        std::mt19937_64 random(static_cast<uint64_t>(*seed));
        std::uniform_int_distribution<int64_t> ids(1, *rows);
        std::vector<v1::PointReadRequest> requests(static_cast<size_t>(*prepared));
        for (auto& r : requests) r.set_id(ids(random));

        Scenario scenario;
        scenario.method = "/cpts.bench.v1.BenchService/PointRead";
        scenario.request = RoundRobinMessages(requests);
        if (*check != 0) {
          const int64_t max_id = *rows;
          scenario.check_response = [max_id](const grpc::ByteBuffer& bytes) {
            v1::PointReadResponse response;
            return ParseFromByteBuffer(bytes, &response) && response.id() >= 1 &&
                   response.id() <= max_id;
          };
        }
        return scenario;
      });
}

}  // namespace cpts::bench
