// cpts-bench-access-contention: `callers` concurrent BookSlot calls on one slot, repeated for
// `rounds` slots (slot numbers offset, offset + 1, ...): a slot is never booked twice, so every
// round must end with exactly one success (the others: FAILED_PRECONDITION). Prints one JSON
// line: rounds, rounds with exactly one success, the distribution of successes per round, the
// codes of the failures, and the time per round (all calls of a round launched at once, the
// round ends with the last answer).
//
//   cpts-bench-access-contention --target=127.0.0.1:50054 --bearer_token_file=token.jwt
//       --callers=64 --rounds=1000 --offset=900000 [--raw (AccessRawService, no token)]

// g++ 12 reports "potential null pointer dereference" inside gRPC's own async unary-call
// templates (call_op_set.h) once they are inlined here (as in bench/load/load_generator.cc).
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/access/access_scenarios.h"
#include "bench/load/load_generator.h"
#include "cpts/access/v1/access_service.grpc.pb.h"
#include "cpts/bench/v1/bench.grpc.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50054", "Access server host:port.");
ABSL_FLAG(std::string, bearer_token_file, "", "JWT of a caller allowed to book (coordinator).");
ABSL_FLAG(int, callers, 64, "Concurrent BookSlot calls per slot.");
ABSL_FLAG(int, rounds, 1000, "Slots (one round each).");
ABSL_FLAG(int64_t, offset, 900'000, "Slot number of the first round.");
ABSL_FLAG(int, channels, 4, "HTTP/2 connections the calls are spread over.");
ABSL_FLAG(bool, raw, false, "Call AccessRawService/BookSlot (the raw stack) instead.");
ABSL_FLAG(std::string, tenant, "bench-t001", "Tenant (raw only).");

namespace {

struct Call {
  grpc::ClientContext context;
  grpc::Status status;
  grpc::ByteBuffer response;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::string token;
  if (const std::string file = absl::GetFlag(FLAGS_bearer_token_file); !file.empty()) {
    std::ifstream in(file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    token = std::string(absl::StripAsciiWhitespace(buffer.str()));
  }
  const bool raw = absl::GetFlag(FLAGS_raw);
  const int callers = absl::GetFlag(FLAGS_callers);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int64_t offset = absl::GetFlag(FLAGS_offset);
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_channels)); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("cpts.bench.channel", i);  // distinct connections
    stubs.push_back(std::make_unique<grpc::GenericStub>(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args)));
  }
  const std::string method =
      raw ? "/cpts.bench.v1.AccessRawService/BookSlot" : "/cpts.access.v1.AccessService/BookSlot";
  grpc::CompletionQueue cq;
  std::map<int, int> successes_per_round;  // successes -> rounds
  std::map<std::string, int64_t> codes;
  std::vector<double> round_ms;
  const absl::Time start = absl::Now();
  for (int r = 0; r < rounds; ++r) {
    const std::string slot_id = cpts::bench::BenchSlotId(offset + r);
    grpc::ByteBuffer request;
    if (raw) {
      cpts::bench::v1::RawBookSlotRequest req;
      req.set_tenant_id(absl::GetFlag(FLAGS_tenant));
      req.set_slot_id(slot_id);
      req.set_given_name("Camille");
      req.set_family_name("Testpatient");
      req.set_birth_date("1980-05-17");
      req.set_reason("Contention (synthetique)");
      req.set_booked_by("bench-coordinator");
      request = cpts::bench::SerializeToByteBuffer(req);
    } else {
      cpts::access::v1::BookSlotRequest req;
      req.set_slot_id(slot_id);
      req.mutable_patient()->set_given_name("Camille");
      req.mutable_patient()->set_family_name("Testpatient");
      req.mutable_patient()->mutable_birth_date()->set_year(1980);
      req.mutable_patient()->mutable_birth_date()->set_month(5);
      req.mutable_patient()->mutable_birth_date()->set_day(17);
      req.mutable_patient()->set_sex(cpts::access::v1::SEX_FEMALE);
      req.set_reason("Contention (synthetique)");
      request = cpts::bench::SerializeToByteBuffer(req);
    }
    std::vector<std::unique_ptr<Call>> calls(static_cast<size_t>(callers));
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < callers; ++i) {
      auto& c = calls[static_cast<size_t>(i)];
      c = std::make_unique<Call>();
      c->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      if (!token.empty()) c->context.AddMetadata("authorization", "Bearer " + token);
      c->reader = stubs[static_cast<size_t>(i) % stubs.size()]->PrepareUnaryCall(
          &c->context, method, request, &cq);
      c->reader->StartCall();
      c->reader->Finish(&c->response, &c->status, c.get());
    }
    int ok = 0;
    for (int i = 0; i < callers; ++i) {
      void* tag = nullptr;
      bool fine = false;
      if (!cq.Next(&tag, &fine)) return 1;
      const Call* c = static_cast<const Call*>(tag);
      if (c->status.ok()) {
        ++ok;
      } else {
        ++codes[cpts::bench::GrpcCodeName(c->status.error_code())];
      }
    }
    round_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ++successes_per_round[ok];
  }
  const double total_s = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<std::string> dist;
  dist.reserve(successes_per_round.size());
  for (const auto& [k, v] : successes_per_round) dist.push_back(absl::StrCat("\"", k, "\":", v));
  std::vector<std::string> code_list;
  code_list.reserve(codes.size());
  for (const auto& [k, v] : codes) code_list.push_back(absl::StrCat("\"", k, "\":", v));
  double sum = 0;
  for (const double ms : round_ms) sum += ms;
  std::printf(
      "{\"scenario\":\"contention\",\"raw\":%s,\"callers\":%d,\"rounds\":%d,"
      "\"rounds_exactly_one\":%d,\"successes_per_round\":{%s},\"failures_by_code\":{%s},"
      "\"round_mean_ms\":%.2f,\"round_p50_ms\":%.2f,\"round_p99_ms\":%.2f,\"round_max_ms\":%.2f,"
      "\"total_s\":%.2f}\n",
      raw ? "true" : "false", callers, rounds, successes_per_round[1],
      absl::StrJoin(dist, ",").c_str(), absl::StrJoin(code_list, ",").c_str(),
      round_ms.empty() ? 0 : sum / static_cast<double>(round_ms.size()), Percentile(round_ms, 0.5),
      Percentile(round_ms, 0.99), Percentile(round_ms, 1.0), total_s);
  return successes_per_round[1] == rounds ? 0 : 1;
}
