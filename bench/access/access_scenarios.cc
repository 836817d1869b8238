#include "bench/access/access_scenarios.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cpts/access/v1/access_service.pb.h"
#include "cpts/bench/v1/bench.pb.h"

namespace cpts::bench {
namespace {

// Parameters shared by the search scenarios.
struct SearchParams {
  std::vector<std::string> communes;
  int64_t from = 0;  // Unix seconds
  int64_t hours = 72;
  int64_t page_size = 100;
};

absl::StatusOr<SearchParams> ParseSearch(const ScenarioParams& params) {
  SearchParams p;
  p.communes = absl::StrSplit(StringParam(params, "communes", "69001"), ':', absl::SkipEmpty());
  const auto from = IntParam(params, "from", 0);
  if (!from.ok()) return from.status();
  const auto hours = IntParam(params, "hours", 72);
  if (!hours.ok()) return hours.status();
  const auto page_size = IntParam(params, "page_size", 100);
  if (!page_size.ok()) return page_size.status();
  if (p.communes.empty() || *from <= 0 || *hours <= 0 || *page_size <= 0) {
    return absl::InvalidArgumentError("communes, from (Unix seconds), hours, page_size required");
  }
  p.from = *from;
  p.hours = *hours;
  p.page_size = *page_size;
  return p;
}

struct BookParams {
  int64_t offset = 0;
  int64_t stride = 1;
  std::string tenant;
};

absl::StatusOr<BookParams> ParseBook(const ScenarioParams& params) {
  BookParams p;
  const auto offset = IntParam(params, "offset", 0);
  if (!offset.ok()) return offset.status();
  const auto stride = IntParam(params, "stride", 1);
  if (!stride.ok()) return stride.status();
  if (*offset < 0 || *stride < 1) return absl::InvalidArgumentError("offset >= 0, stride >= 1");
  p.offset = *offset;
  p.stride = *stride;
  p.tenant = StringParam(params, "tenant", "bench-t001");
  return p;
}

constexpr char kSearchHelp[] =
    "communes=69001:69002 (one per request, in turn), from=<Unix seconds>, hours=72, "
    "page_size=100";
constexpr char kBookHelp[] =
    "offset=0, stride=1 (call n books slot number offset + n*stride), tenant=bench-t001 (raw)";

}  // namespace

std::string BenchSlotId(int64_t n) { return absl::StrFormat("bs-%07d", n); }

void RegisterAccessScenarios(ScenarioRegistry& registry) {
  registry.Add("access.search_slots", kSearchHelp,
               [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
                 const auto p = ParseSearch(params);
                 if (!p.ok()) return p.status();
                 std::vector<access::v1::SearchSlotsRequest> requests;
                 for (const std::string& commune : p->communes) {
                   access::v1::SearchSlotsRequest r;
                   r.mutable_start_time()->set_seconds(p->from);
                   r.mutable_end_time()->set_seconds(p->from + p->hours * 3600);
                   r.add_communes(commune);
                   r.set_page_size(static_cast<int32_t>(p->page_size));
                   requests.push_back(std::move(r));
                 }
                 Scenario s;
                 s.method = "/cpts.access.v1.AccessService/SearchSlots";
                 s.request = RoundRobinMessages(requests);
                 return s;
               });

  registry.Add("raw.search_slots", absl::StrCat(kSearchHelp, ", tenant=bench-t001"),
               [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
                 const auto p = ParseSearch(params);
                 if (!p.ok()) return p.status();
                 std::vector<v1::RawSearchSlotsRequest> requests;
                 for (const std::string& commune : p->communes) {
                   v1::RawSearchSlotsRequest r;
                   r.set_tenant_id(StringParam(params, "tenant", "bench-t001"));
                   r.set_start_from_us(p->from * 1'000'000);
                   r.set_start_before_us((p->from + p->hours * 3600) * 1'000'000);
                   // What the store binds for a coordinator: every level, in order.
                   for (const char* v : {"PUBLIC", "PRO", "SNP", "CPTS"}) r.add_visibilities(v);
                   r.add_communes(commune);
                   r.set_page_size(static_cast<int32_t>(p->page_size));
                   requests.push_back(std::move(r));
                 }
                 Scenario s;
                 s.method = "/cpts.bench.v1.AccessRawService/SearchSlots";
                 s.request = RoundRobinMessages(requests);
                 return s;
               });

  registry.Add("access.book_slot", kBookHelp,
               [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
                 const auto p = ParseBook(params);
                 if (!p.ok()) return p.status();
                 Scenario s;
                 s.method = "/cpts.access.v1.AccessService/BookSlot";
                 s.request = [bp = *p](uint64_t n) {
                   access::v1::BookSlotRequest r;
                   r.set_slot_id(BenchSlotId(bp.offset + static_cast<int64_t>(n) * bp.stride));
                   auto* patient = r.mutable_patient();
                   patient->set_given_name("Camille");
                   patient->set_family_name("Testpatient");
                   patient->mutable_birth_date()->set_year(1980);
                   patient->mutable_birth_date()->set_month(5);
                   patient->mutable_birth_date()->set_day(17);
                   patient->set_sex(access::v1::SEX_FEMALE);
                   r.mutable_contact()->set_phone("+33612345678");
                   r.mutable_contact()->set_email("camille.testpatient@example.org");
                   r.set_reason("Consultation non programmee (synthetique)");
                   return SerializeToByteBuffer(r);
                 };
                 return s;
               });

  registry.Add("raw.book_slot", kBookHelp,
               [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
                 const auto p = ParseBook(params);
                 if (!p.ok()) return p.status();
                 Scenario s;
                 s.method = "/cpts.bench.v1.AccessRawService/BookSlot";
                 s.request = [bp = *p](uint64_t n) {
                   v1::RawBookSlotRequest r;
                   r.set_tenant_id(bp.tenant);
                   r.set_slot_id(BenchSlotId(bp.offset + static_cast<int64_t>(n) * bp.stride));
                   r.set_given_name("Camille");
                   r.set_family_name("Testpatient");
                   r.set_birth_date("1980-05-17");
                   r.set_phone("+33612345678");
                   r.set_email("camille.testpatient@example.org");
                   r.set_reason("Consultation non programmee (synthetique)");
                   r.set_booked_by("bench-coordinator");
                   return SerializeToByteBuffer(r);
                 };
                 return s;
               });

  registry.Add("access.get_slot", "slots=1000000 (ids drawn from 0..slots-1), seed=1",
               [](const ScenarioParams& params) -> absl::StatusOr<Scenario> {
                 const auto slots = IntParam(params, "slots", 1'000'000);
                 if (!slots.ok()) return slots.status();
                 const auto seed = IntParam(params, "seed", 1);
                 if (!seed.ok()) return seed.status();
                 if (*slots < 1) return absl::InvalidArgumentError("slots >= 1");
                 std::mt19937_64 random(static_cast<uint64_t>(*seed));
                 std::uniform_int_distribution<int64_t> ids(0, *slots - 1);
                 std::vector<access::v1::GetSlotRequest> requests(65'536);
                 for (auto& r : requests) r.set_slot_id(BenchSlotId(ids(random)));
                 Scenario s;
                 s.method = "/cpts.access.v1.AccessService/GetSlot";
                 s.request = RoundRobinMessages(requests);
                 return s;
               });
}

}  // namespace cpts::bench
