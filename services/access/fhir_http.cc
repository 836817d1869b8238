#include "services/access/fhir_http.h"

#include <httplib.h>

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/access/fhir_slots.h"

namespace cpts::access {
namespace {

constexpr char kFhirJson[] = "application/fhir+json; charset=utf-8";

FhirHttpEndpoint::Response ErrorResponse(const absl::Status& status) {
  const FhirErrorResponse e = FhirErrorFor(status);
  return {.status = e.http_status, .body = e.body};
}

}  // namespace

FhirHttpEndpoint::FhirHttpEndpoint(SnpAgenda& agenda, HttpAuthenticator authenticate,
                                   FhirHttpOptions options)
    : agenda_(agenda),
      authenticate_(std::move(authenticate)),
      options_(std::move(options)),
      server_(std::make_unique<httplib::Server>()) {}

FhirHttpEndpoint::~FhirHttpEndpoint() { Stop(); }

FhirHttpEndpoint::Response FhirHttpEndpoint::HandleSlotSearch(std::string_view authorization,
                                                              std::string_view raw_query,
                                                              std::string_view prefer,
                                                              std::string_view host) {
  if (!authenticate_) return ErrorResponse(absl::UnauthenticatedError("no authenticator"));
  absl::StatusOr<platform::auth::Principal> caller = authenticate_(authorization);
  if (!caller.ok()) {
    return ErrorResponse(absl::UnauthenticatedError(absl::IsUnauthenticated(caller.status())
                                                        ? caller.status().message()
                                                        : "invalid bearer token"));
  }
  FhirParseOptions parse_options;
  parse_options.local_zone = agenda_.zone();
  parse_options.strict =
      absl::StrContains(absl::string_view(prefer.data(), prefer.size()), "handling=strict");
  const FhirSlotQueryParse parsed =
      ParseFhirSlotQuery(absl::string_view(raw_query.data(), raw_query.size()), parse_options);
  if (!parsed.ok()) return {.status = 400, .body = FhirOperationOutcomeJson(parsed.errors)};
  const std::string base_url =
      !options_.base_url.empty()
          ? options_.base_url
          : absl::StrCat("http://", absl::string_view(host.data(), host.size()), "/fhir");
  absl::StatusOr<std::string> bundle = agenda_.FhirSlotSearch(*caller, parsed.query, base_url);
  if (!bundle.ok()) return ErrorResponse(bundle.status());
  return {.status = 200, .body = *std::move(bundle)};
}

absl::Status FhirHttpEndpoint::Start(const std::string& address, int port) {
  server_->Get("/fhir/Slot", [this](const httplib::Request& req, httplib::Response& res) {
    const size_t q = req.target.find('?');
    const std::string raw_query = q == std::string::npos ? "" : req.target.substr(q + 1);
    const Response r =
        HandleSlotSearch(req.get_header_value("Authorization"), raw_query,
                         req.get_header_value("Prefer"), req.get_header_value("Host"));
    res.status = r.status;
    if (r.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    res.set_content(r.body, kFhirJson);
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(address);
  } else {
    port_ = server_->bind_to_port(address, port) ? port : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrFormat("cannot listen on fhir %s:%d", address, port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void FhirHttpEndpoint::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace cpts::access
