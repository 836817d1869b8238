#pragma once

// The SAS FHIR endpoint of the SNP agenda: an HTTP server (cpp-httplib) answering
//   GET /fhir/Slot?start=ge..&start=le..&schedule.actor:Practitioner.identifier=..&status=free
// with the searchset Bundle of fhir_slots.h, and errors as an OperationOutcome with the HTTP
// status of FhirErrorFor (400 for a bad query, 401 without a valid bearer token, 403 without
// the sas_regulator or service role, 5xx for the store's failures).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/access/snp_agenda.h"
#include "services/platform/auth/principal.h"

namespace httplib {
class Server;
}

namespace cpts::access {

// Verifies the Authorization header ("Bearer <jwt>") and returns the caller; Unauthenticated
// when missing or invalid. The lead wires the platform JwtVerifier here.
using HttpAuthenticator =
    std::function<absl::StatusOr<platform::auth::Principal>(std::string_view authorization_header)>;

struct FhirHttpOptions {
  // The FHIR base the Bundle's links use, without a final '/'; empty: "http://<Host>/fhir".
  std::string base_url{};
};

class FhirHttpEndpoint {
 public:
  struct Response {
    int status = 200;
    std::string body{};
  };

  // `agenda` must outlive the endpoint.
  FhirHttpEndpoint(SnpAgenda& agenda, HttpAuthenticator authenticate, FhirHttpOptions options = {});
  ~FhirHttpEndpoint();
  FhirHttpEndpoint(const FhirHttpEndpoint&) = delete;
  FhirHttpEndpoint& operator=(const FhirHttpEndpoint&) = delete;

  // Binds `address:port` (0 = a free port) and serves on a background thread.
  absl::Status Start(const std::string& address, int port);
  int port() const { return port_; }
  void Stop();

  // One GET /fhir/Slot, without the network (what the HTTP handler runs).
  Response HandleSlotSearch(std::string_view authorization, std::string_view raw_query,
                            std::string_view prefer, std::string_view host);

 private:
  SnpAgenda& agenda_;
  HttpAuthenticator authenticate_;
  FhirHttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace cpts::access
