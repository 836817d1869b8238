#include "bench/load/load_generator.h"

// g++ 12 reports "potential null pointer dereference" inside gRPC's own async unary-call
// templates (call_op_set.h) once they are inlined here: false positives in code we do not own.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/async_unary_call.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace cpts::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kGrpcCodes = 17;  // OK .. UNAUTHENTICATED

double ToMillis(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// CPU seconds (user + system) this process has used so far, all threads.
double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU seconds (user + system, all threads) of a local process from /proc/<pid>/stat; negative
// when it cannot be read.
double ProcessCpuSeconds(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces; fields are counted after its ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  // After ')' come field 3 (state) ... field 14 (utime) and 15 (stime).
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Context switches of the whole machine so far (the "ctxt" line of /proc/stat); -1 when
// unavailable.
int64_t MachineContextSwitches() {
  std::ifstream in("/proc/stat");
  std::string key;
  int64_t value = 0;
  while (in >> key) {
    if (key == "ctxt" && in >> value) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return -1;
}

// CPU seconds the whole machine has spent not idle so far (all cores, from the "cpu" line of
// /proc/stat); negative when unavailable.
double MachineBusyCpuSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  in >> key;
  if (key != "cpu") return -1;
  // user nice system idle iowait irq softirq steal
  std::array<double, 8> jiffies{};
  for (double& j : jiffies) in >> j;
  if (!in) return -1;
  const double busy = jiffies[0] + jiffies[1] + jiffies[2] + jiffies[5] + jiffies[6] + jiffies[7];
  return busy / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Counters of one generator thread, merged at the end.
struct Tally {
  uint64_t ok = 0;
  std::array<uint64_t, kGrpcCodes> errors{};
  uint64_t bad_responses = 0;
  uint64_t unknown_codes = 0;
  LatencyHistogram latency;
};

struct Target {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::internal::RpcMethod> method;  // registered on `channel`
};

// One generator thread: its own completion queue and its share of the outstanding calls.
class Worker {
 public:
  Worker(const Scenario& scenario, const LoadOptions& options, int index, int workers,
         SteadyClock::time_point count_from, SteadyClock::time_point stop_at)
      : scenario_(scenario),
        timeout_(absl::ToChronoMilliseconds(options.call_timeout)),
        index_(index),
        workers_(workers),
        count_from_(count_from),
        stop_at_(stop_at) {}

  void AddSlot(Target* target) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->target = target;
  }

  void Run() {
    for (auto& slot : slots_) Start(*slot);
    size_t active = slots_.size();
    void* tag = nullptr;
    bool ok = false;
    while (active > 0 && cq_.Next(&tag, &ok)) {
      Slot& slot = *static_cast<Slot*>(tag);
      const SteadyClock::time_point now = SteadyClock::now();
      if (now >= count_from_ && now < stop_at_) Count(slot, now);
      if (now < stop_at_) {
        Start(slot);
      } else {
        --active;
      }
    }
    for (auto& slot : slots_) {
      slot->reader.reset();
      slot->context.reset();
    }
    cq_.Shutdown();
    while (cq_.Next(&tag, &ok)) {
    }
  }

  const Tally& tally() const { return tally_; }

 private:
  struct Slot {
    Target* target = nullptr;
    std::unique_ptr<grpc::ClientContext> context;
    // Lives in the call's arena (its operator delete is a no-op): reset before the context.
    std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> reader;
    grpc::ByteBuffer response;
    grpc::Status status;
    SteadyClock::time_point started;
  };

  void Start(Slot& slot) {
    slot.reader.reset();
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() + timeout_);
    for (const auto& [key, value] : scenario_.metadata) slot.context->AddMetadata(key, value);
    slot.response.Clear();
    const grpc::ByteBuffer request =
        scenario_.request(next_ * static_cast<uint64_t>(workers_) + static_cast<uint64_t>(index_));
    ++next_;
    slot.started = SteadyClock::now();
    slot.reader.reset(grpc::internal::ClientAsyncResponseReaderHelper::Create<grpc::ByteBuffer>(
        slot.target->channel.get(), &cq_, *slot.target->method, slot.context.get(), request));
    slot.reader->StartCall();
    slot.reader->Finish(&slot.response, &slot.status, &slot);
  }

  void Count(const Slot& slot, SteadyClock::time_point now) {
    if (slot.status.ok()) {
      if (scenario_.check_response && !scenario_.check_response(slot.response)) {
        ++tally_.bad_responses;
        return;
      }
      ++tally_.ok;
      tally_.latency.Record(absl::FromChrono(now - slot.started));
      return;
    }
    const int code = static_cast<int>(slot.status.error_code());
    if (code > 0 && code < kGrpcCodes) {
      ++tally_.errors[static_cast<size_t>(code)];
    } else {
      ++tally_.unknown_codes;
    }
  }

  const Scenario& scenario_;
  const std::chrono::milliseconds timeout_;
  const int index_;
  const int workers_;
  const SteadyClock::time_point count_from_;
  const SteadyClock::time_point stop_at_;
  grpc::CompletionQueue cq_;
  std::vector<std::unique_ptr<Slot>> slots_;
  uint64_t next_ = 0;
  Tally tally_;
};

}  // namespace

grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

bool ParseFromByteBuffer(const grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message) {
  grpc::Slice slice;
  if (!buffer.TrySingleSlice(&slice).ok() && !buffer.DumpToSingleSlice(&slice).ok()) {
    return false;
  }
  return message->ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

RequestSource RoundRobin(std::vector<grpc::ByteBuffer> requests) {
  auto shared = std::make_shared<const std::vector<grpc::ByteBuffer>>(std::move(requests));
  return [shared](uint64_t n) { return (*shared)[n % shared->size()]; };
}

std::pair<std::string, std::string> BearerAuthorization(std::string_view token) {
  return {"authorization", absl::StrCat("Bearer ", std::string(token))};
}

const char* GrpcCodeName(grpc::StatusCode code) {
  static constexpr std::array<const char*, kGrpcCodes> kNames = {"OK",
                                                                 "CANCELLED",
                                                                 "UNKNOWN",
                                                                 "INVALID_ARGUMENT",
                                                                 "DEADLINE_EXCEEDED",
                                                                 "NOT_FOUND",
                                                                 "ALREADY_EXISTS",
                                                                 "PERMISSION_DENIED",
                                                                 "RESOURCE_EXHAUSTED",
                                                                 "FAILED_PRECONDITION",
                                                                 "ABORTED",
                                                                 "OUT_OF_RANGE",
                                                                 "UNIMPLEMENTED",
                                                                 "INTERNAL",
                                                                 "UNAVAILABLE",
                                                                 "DATA_LOSS",
                                                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < kGrpcCodes ? kNames[static_cast<size_t>(i)] : "UNKNOWN_CODE";
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const Scenario& scenario) {
  if (options.target.empty() || scenario.method.empty() || !scenario.request) {
    return absl::FailedPreconditionError("target, scenario method and request are required");
  }
  if (options.concurrency < 1 || options.channels < 1 || options.threads < 1) {
    return absl::FailedPreconditionError("concurrency, channels and threads must be >= 1");
  }
  if (options.duration <= absl::ZeroDuration() || options.warmup < absl::ZeroDuration()) {
    return absl::FailedPreconditionError("duration must be positive and warmup not negative");
  }
  const int threads = std::min(options.threads, options.concurrency);
  const int channels = std::min(options.channels, options.concurrency);
  auto credentials =
      options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials();

  // Distinct channel arguments and a local subchannel pool: otherwise gRPC shares one
  // connection between channels to the same target.
  std::vector<Target> targets(static_cast<size_t>(channels));
  const auto connect_deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(options.connect_timeout);
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("cpts.bench.channel_index", i);
    Target& t = targets[static_cast<size_t>(i)];
    t.channel = grpc::CreateCustomChannel(options.target, credentials, args);
    if (!t.channel->WaitForConnected(connect_deadline)) {
      return absl::UnavailableError(absl::StrCat("cannot connect to ", options.target, " within ",
                                                 absl::FormatDuration(options.connect_timeout)));
    }
    t.method = std::make_unique<grpc::internal::RpcMethod>(
        scenario.method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC, t.channel);
  }

  const SteadyClock::time_point begin = SteadyClock::now();
  const SteadyClock::time_point count_from = begin + absl::ToChronoNanoseconds(options.warmup);
  const SteadyClock::time_point stop_at = count_from + absl::ToChronoNanoseconds(options.duration);
  std::vector<std::unique_ptr<Worker>> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(scenario, options, i, threads, count_from, stop_at));
  }
  for (int s = 0; s < options.concurrency; ++s) {
    workers[static_cast<size_t>(s % threads)]->AddSlot(&targets[static_cast<size_t>(s % channels)]);
  }
  std::vector<std::thread> running;
  running.reserve(workers.size());
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });

  // CPU is sampled at the window's edges, from this otherwise idle thread.
  std::this_thread::sleep_until(count_from);
  const double own_cpu_start = OwnCpuSeconds();
  const int64_t switches_start = MachineContextSwitches();
  const double machine_cpu_start = MachineBusyCpuSeconds();
  std::vector<double> watched_start;
  for (const auto& [label, pid] : options.watch_pids) {
    watched_start.push_back(ProcessCpuSeconds(pid));
  }
  std::this_thread::sleep_until(stop_at);
  const double own_cpu_end = OwnCpuSeconds();
  const int64_t switches_end = MachineContextSwitches();
  const double machine_cpu_end = MachineBusyCpuSeconds();
  LoadResult result;
  result.machine_cpu_seconds =
      machine_cpu_start >= 0 && machine_cpu_end >= 0 ? machine_cpu_end - machine_cpu_start : -1;
  result.machine_context_switches =
      switches_start >= 0 && switches_end >= 0 ? switches_end - switches_start : -1;
  for (size_t i = 0; i < options.watch_pids.size(); ++i) {
    const double end = ProcessCpuSeconds(options.watch_pids[i].second);
    if (end >= 0 && watched_start[i] >= 0) {
      result.watched_cpu_seconds[options.watch_pids[i].first] = end - watched_start[i];
    }
  }
  for (auto& t : running) t.join();

  result.scenario = scenario.name;
  result.target = options.target;
  result.concurrency = options.concurrency;
  result.channels = channels;
  result.threads = threads;
  result.warmup = options.warmup;
  result.measured = options.duration;
  result.client_cpu_seconds = own_cpu_end - own_cpu_start;
  for (const auto& w : workers) {
    const Tally& t = w->tally();
    result.ok += t.ok;
    result.latency.Merge(t.latency);
    for (int code = 1; code < kGrpcCodes; ++code) {
      const uint64_t n = t.errors[static_cast<size_t>(code)];
      if (n == 0) continue;
      result.errors += n;
      result.errors_by_code[GrpcCodeName(static_cast<grpc::StatusCode>(code))] += n;
    }
    if (t.bad_responses > 0) {
      result.errors += t.bad_responses;
      result.errors_by_code["BAD_RESPONSE"] += t.bad_responses;
    }
    if (t.unknown_codes > 0) {
      result.errors += t.unknown_codes;
      result.errors_by_code["UNKNOWN_CODE"] += t.unknown_codes;
    }
  }
  result.qps = static_cast<double>(result.ok) / absl::ToDoubleSeconds(result.measured);
  return result;
}

std::string ToJson(const LoadResult& r,
                   const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> errors;
  for (const auto& [code, n] : r.errors_by_code)
    errors.push_back(absl::StrFormat("\"%s\":%d", code, n));
  std::vector<std::string> cpu;
  for (const auto& [label, seconds] : r.watched_cpu_seconds) {
    cpu.push_back(absl::StrFormat("\"%s\":%.3f", label, seconds));
  }
  std::string out = absl::StrFormat(
      "{\"scenario\":\"%s\",\"target\":\"%s\",\"concurrency\":%d,\"channels\":%d,\"threads\":%d,"
      "\"warmup_s\":%.1f,\"duration_s\":%.1f,\"ok\":%d,\"errors\":%d,\"errors_by_code\":{%s},"
      "\"qps\":%.1f,\"mean_ms\":%.3f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"client_cpu_s\":%.3f,\"cpu_s\":{%s},"
      "\"machine_cpu_s\":%.3f,\"context_switches\":%d",
      r.scenario, r.target, r.concurrency, r.channels, r.threads, absl::ToDoubleSeconds(r.warmup),
      absl::ToDoubleSeconds(r.measured), r.ok, r.errors, absl::StrJoin(errors, ","), r.qps,
      ToMillis(r.latency.mean()), ToMillis(r.latency.Percentile(0.50)),
      ToMillis(r.latency.Percentile(0.90)), ToMillis(r.latency.Percentile(0.99)),
      ToMillis(r.latency.Percentile(0.999)), ToMillis(r.latency.max()), r.client_cpu_seconds,
      absl::StrJoin(cpu, ","), r.machine_cpu_seconds, r.machine_context_switches);
  for (const auto& [key, value] : extra) absl::StrAppend(&out, ",\"", key, "\":", value);
  out += "}";
  return out;
}

std::string ToText(const LoadResult& r) {
  std::string out = absl::StrFormat(
      "%s -> %s: concurrency %d over %d channels, %d thread(s), %.1f s after %.1f s warm-up\n"
      "  %.0f calls/s OK (%d OK, %d errors)\n"
      "  latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n"
      "  client CPU %.2f s, %d context switches on the machine",
      r.scenario, r.target, r.concurrency, r.channels, r.threads, absl::ToDoubleSeconds(r.measured),
      absl::ToDoubleSeconds(r.warmup), r.qps, r.ok, r.errors, ToMillis(r.latency.mean()),
      ToMillis(r.latency.Percentile(0.50)), ToMillis(r.latency.Percentile(0.90)),
      ToMillis(r.latency.Percentile(0.99)), ToMillis(r.latency.Percentile(0.999)),
      ToMillis(r.latency.max()), r.client_cpu_seconds, r.machine_context_switches);
  for (const auto& [label, seconds] : r.watched_cpu_seconds) {
    absl::StrAppendFormat(&out, ", %s CPU %.2f s", label, seconds);
  }
  for (const auto& [code, n] : r.errors_by_code) absl::StrAppendFormat(&out, "\n  %s: %d", code, n);
  return out + "\n";
}

}  // namespace cpts::bench
