// The access service: wiring only.
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cpts/access/v1/access_service.grpc.pb.h"
#include "services/access/access_deps.h"
#include "services/access/mt_wiring.h"
#include "services/access/snp_wiring.h"
#include "services/membership/client/grpc_member_directory.h"
#include "services/membership/members.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/migrations.h"
#include "services/platform/server/service_main.h"

ABSL_FLAG(std::string, membership_address, "127.0.0.1:50051",
          "host:port of the membership service (who is a GP, who may publish).");
ABSL_FLAG(std::string, field_key_file, "",
          "Required. Key file of the patient-field encryption (cpts_field_keys generate).");
ABSL_FLAG(std::string, fhir_address, "0.0.0.0", "Address of the SAS FHIR endpoint.");
ABSL_FLAG(int, fhir_port, 8054, "Port of the SAS FHIR endpoint; 0 = any free port, -1 = off.");
ABSL_FLAG(int, retention_days, 365,
          "Days after which closed MT requests and past bookings lose their patient data.");

namespace {

namespace access = cpts::access;
namespace platform = cpts::platform;

struct Wiring {
  std::optional<platform::crypto::FieldCipher> cipher;
  std::unique_ptr<cpts::membership::client::GrpcMemberDirectory> directory;
  std::shared_ptr<void> mt;
  // Declared after `mt`, so destroyed first: its FHIR endpoint reads the MT half's communes.
  std::shared_ptr<void> snp;
};

// The SAS calls the FHIR endpoint with the same bearer tokens as gRPC callers.
access::HttpAuthenticator FhirAuthenticator(const platform::auth::JwtVerifier& verifier) {
  return [&verifier](std::string_view header) -> absl::StatusOr<platform::auth::Principal> {
    auto token = platform::auth::BearerToken(header);
    if (!token.ok()) return token.status();
    return verifier.Verify(*token);
  };
}

}  // namespace

int main(int argc, char** argv) {
  using platform::ServiceEnvironment;
  return platform::RunService(
      argc, argv,
      {.name = "access",
       .default_grpc_port = 50054,
       .default_http_port = 9054,
       .migrations = {platform::db::PlatformMigrations(), access::MtMigrations(),
                      access::SnpMigrations()},
       .wire = [](ServiceEnvironment& env) -> absl::StatusOr<std::shared_ptr<void>> {
         if (env.identity == nullptr) {
           return absl::InvalidArgumentError(
               "--service_key_file is required: access calls membership");
         }
         const std::string key_file = absl::GetFlag(FLAGS_field_key_file);
         if (key_file.empty()) return absl::InvalidArgumentError("--field_key_file is required");
         const int retention_days = absl::GetFlag(FLAGS_retention_days);
         if (retention_days < 1) return absl::InvalidArgumentError("--retention_days must be >= 1");
         auto w = std::make_shared<Wiring>();
         auto cipher = platform::crypto::FieldCipher::LoadFromFile(key_file);
         if (!cipher.ok()) return cipher.status();
         w->cipher.emplace(*std::move(cipher));
         w->directory = std::make_unique<cpts::membership::client::GrpcMemberDirectory>(
             *env.identity, absl::GetFlag(FLAGS_membership_address), env.clock);
         const access::AccessDeps deps{.pool = env.pool,
                                       .clock = env.clock,
                                       .ids = env.ids,
                                       .cipher = *w->cipher,
                                       .directory = *w->directory,
                                       .zone = cpts::membership::FrenchTimeZone(),
                                       .fhir_address = absl::GetFlag(FLAGS_fhir_address),
                                       .fhir_port = absl::GetFlag(FLAGS_fhir_port),
                                       .retention = absl::Hours(24) * retention_days};
         auto* svc = env.server.AddService<access::v1::AccessService>();
         auto mt = access::WireMt(deps, env.server, svc);
         if (!mt.ok()) return mt.status();
         w->mt = *std::move(mt);
         auto snp = access::WireSnp(deps, env.server, svc, FhirAuthenticator(env.verifier),
                                    access::MtCommunes(w->mt));
         if (!snp.ok()) return snp.status();
         w->snp = *std::move(snp);
         if (deps.fhir_port >= 0) env.ready_ports["fhir_port"] = access::FhirPort(w->snp);
         return std::shared_ptr<void>(w);
       }});
}
