#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/load/latency_histogram.h"
#include "google/protobuf/message_lite.h"

namespace cpts::bench {

using Metadata = std::vector<std::pair<std::string, std::string>>;

// The serialized request of call number `n`. Numbers are unique within a run (each generator
// thread takes every threads-th number), so a scenario that needs distinct requests (e.g. one
// booking per slot) can derive them from `n`. Called concurrently from the generator threads.
using RequestSource = std::function<grpc::ByteBuffer(uint64_t n)>;

// One kind of call the generator repeats: a unary method, its requests and its metadata.
// Requests travel as bytes (grpc::ByteBuffer), so the generator knows no message type and any
// service can plug its RPCs in; see bench/load/scenarios.h for the registry used by the CLI.
struct Scenario {
  std::string name;
  // Required. Full method path, e.g. "/cpts.bench.v1.BenchService/PointRead".
  std::string method;
  // Added to every call, e.g. BearerAuthorization(token).
  Metadata metadata;
  // Required. Prepare what is expensive (serialization) before the run: see RoundRobin.
  RequestSource request;
  // Optional check of each OK response; false counts the call as the error "BAD_RESPONSE".
  std::function<bool(const grpc::ByteBuffer& response)> check_response;
};

// Serializes a message once; copies of the result share its bytes.
grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message);
// The inverse, for check_response; false when the bytes do not parse.
bool ParseFromByteBuffer(const grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message);

// Requests prepared before the run, served in turn: call n gets requests[n % size]. Copying a
// prepared ByteBuffer only takes references, so the generator pays nothing per call for it.
RequestSource RoundRobin(std::vector<grpc::ByteBuffer> requests);

template <class Message>
RequestSource RoundRobinMessages(const std::vector<Message>& messages) {
  std::vector<grpc::ByteBuffer> buffers;
  buffers.reserve(messages.size());
  for (const auto& m : messages) buffers.push_back(SerializeToByteBuffer(m));
  return RoundRobin(std::move(buffers));
}

// {"authorization", "Bearer <token>"}.
std::pair<std::string, std::string> BearerAuthorization(std::string_view token);

struct LoadOptions {
  // Required. "host:port".
  std::string target;
  // Null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Closed loop: this many calls are outstanding at all times; each completion starts the next.
  int concurrency = 8;
  // Distinct HTTP/2 connections; calls are spread evenly over them.
  int channels = 4;
  // Generator threads, each with its own completion queue and its share of the calls (and of
  // the channels when channels >= threads). One is enough for ~20k calls/s; more threads
  // compete with the server for the cores.
  int threads = 1;
  // Completions during the warm-up are not counted (connections, caches, JIT of the server's
  // thread pools).
  absl::Duration warmup = absl::Seconds(3);
  // The measured window that follows the warm-up.
  absl::Duration duration = absl::Seconds(10);
  // Deadline of each call.
  absl::Duration call_timeout = absl::Seconds(5);
  // How long to wait for every channel to connect before giving up.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Local processes whose CPU time over the measured window is reported (label -> pid), e.g.
  // the server and mariadbd when they run on the same machine.
  std::vector<std::pair<std::string, int>> watch_pids;
};

struct LoadResult {
  std::string scenario;
  std::string target;
  int concurrency = 0;
  int channels = 0;
  int threads = 0;
  absl::Duration warmup;
  absl::Duration measured;  // the actual measured window
  uint64_t ok = 0;          // OK completions in the window
  uint64_t errors = 0;      // other completions in the window
  // "UNAVAILABLE" -> count, ... ("BAD_RESPONSE" for a failed check_response).
  std::map<std::string, uint64_t> errors_by_code;
  double qps = 0;                                     // OK completions per second of the window
  LatencyHistogram latency;                           // of the OK calls completed in the window
  double client_cpu_seconds = 0;                      // this process, over the window
  std::map<std::string, double> watched_cpu_seconds;  // label -> CPU seconds over the window
  // Context switches of the whole machine over the window (Linux /proc/stat; -1 elsewhere):
  // on an otherwise idle machine, divided by the calls, the thread hand-offs a call costs.
  int64_t machine_context_switches = -1;
  // CPU seconds the whole machine spent busy over the window (all cores; -1 if unknown): minus
  // this process and the watched ones, what other processes took (a disturbed measurement).
  double machine_cpu_seconds = -1;
};

// Runs the closed loop: connects the channels, starts `concurrency` calls, and keeps that many
// outstanding until warm-up + duration have passed, then waits for the last calls. Fails only
// when a channel cannot connect (FailedPrecondition for bad options); call errors are counted.
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options, const Scenario& scenario);

// One JSON object on one line, for scripts: scenario, target, concurrency, channels, threads,
// warmup_s, duration_s, ok, errors, errors_by_code, qps, mean_ms, p50_ms, p90_ms, p99_ms,
// p999_ms, max_ms, client_cpu_s, cpu_s (per watched label), machine_cpu_s, context_switches,
// then `extra` fields
// (already JSON values, e.g. {"mode", "\"raw_sync\""}).
std::string ToJson(const LoadResult& result,
                   const std::vector<std::pair<std::string, std::string>>& extra = {});
// A human-readable summary of a few lines.
std::string ToText(const LoadResult& result);

// "OK", "CANCELLED", ... "UNAUTHENTICATED" for a gRPC status code.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace cpts::bench
