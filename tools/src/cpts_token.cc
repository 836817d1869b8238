// cpts-token: mints a signed JWT for local development, or creates the dev key pair.
//
//   cpts-token --generate_dev_keys=.dev/keys
//   cpts-token --key=.dev/keys/dev-jwt-private.pem --kid=dev --tenant=cpts-lyon
//       --subject=alice --member_id=m-1 --roles=coordinator,member
//
// Production tokens come from the identity provider; this tool exists for local use only.

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/platform/auth/jwt_verifier.h"

ABSL_FLAG(std::string, key, "", "Path of the PEM private key to sign with (EC P-256 or RSA).");
ABSL_FLAG(std::string, kid, "", "Key id written in the token header (\"dev\" for the dev keys).");
ABSL_FLAG(std::string, issuer, "cpts-dev", "The `iss` claim.");
ABSL_FLAG(std::string, audience, "cpts", "The `aud` claim.");
ABSL_FLAG(std::string, tenant, "",
          "The `tenant_id` claim; required unless a role is "
          "platform_admin.");
ABSL_FLAG(std::string, subject, "", "The `sub` claim, e.g. an account id or service:<name>.");
ABSL_FLAG(std::string, member_id, "", "The `member_id` claim (optional).");
ABSL_FLAG(std::string, roles, "", "Comma-separated roles, e.g. coordinator,member.");
ABSL_FLAG(absl::Duration, ttl, absl::Hours(1), "Lifetime of the token, e.g. 30m or 8h.");
ABSL_FLAG(std::string, generate_dev_keys, "",
          "Create the dev key pair and jwks.json in this directory (kept if present), then exit.");
ABSL_FLAG(std::string, algorithm, "ES256", "With --generate_dev_keys: ES256 or RS256.");

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Usage(const std::string& message) {
  std::fprintf(stderr, "cpts-token: %s\n(see cpts-token --help)\n", message.c_str());
  return kExitUsage;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "cpts-token: %s\n", message.c_str());
  return kExitFailure;
}

constexpr absl::string_view kAbslBuiltinFlags[] = {
    "help",    "helpfull",        "helpshort", "helppackage", "helpon",     "helpmatch",
    "version", "only_check_args", "flagfile",  "fromenv",     "tryfromenv", "undefok"};

// absl::ParseCommandLine exits with status 1 on an unknown flag or a bad value; we promise 2
// for bad usage, so those two mistakes are caught here first, with the same parsers.
int CheckFlags(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      continue;  // a positional argument, reported later
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    const size_t eq = arg.find('=');
    const absl::string_view name = arg.substr(0, eq);
    if (std::find(std::begin(kAbslBuiltinFlags), std::end(kAbslBuiltinFlags), name) !=
        std::end(kAbslBuiltinFlags)) {
      continue;
    }  // --help and friends: absl's business
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::ConsumePrefix(&arg, "no")) {
      // --nofoo for a boolean --foo.
      const absl::CommandLineFlag* negated = absl::FindCommandLineFlag(arg.substr(0, eq));
      if (negated != nullptr && negated->IsOfType<bool>() && eq == absl::string_view::npos) {
        continue;
      }
    }
    if (flag == nullptr) {
      return Usage(absl::StrCat("unknown flag --", name));
    }
    if (flag->IsOfType<bool>() && eq == absl::string_view::npos) {
      continue;
    }
    absl::string_view value;
    if (eq != absl::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Usage(absl::StrCat("missing value for --", name));
    }
    std::string error;
    // Parses into the flag itself; ParseCommandLine then sets the same value again.
    if (!flag->ParseFrom(value, &error)) {
      return Usage(error);
    }
  }
  return 0;
}

int GenerateKeys(const std::string& dir) {
  const std::string algorithm = absl::GetFlag(FLAGS_algorithm);
  if (algorithm != "ES256" && algorithm != "RS256") {
    return Usage("--algorithm must be ES256 or RS256");
  }
  const absl::Status status = cpts::platform::auth::GenerateDevKeys(dir, algorithm);
  if (!status.ok()) {
    return Fail(std::string(status.message()));
  }
  std::printf("%s/%s\n%s/%s\n%s/%s\n", dir.c_str(), cpts::platform::auth::kDevPrivateKeyFile,
              dir.c_str(), cpts::platform::auth::kDevPublicKeyFile, dir.c_str(),
              cpts::platform::auth::kDevJwksFile);
  return 0;
}

int Mint() {
  cpts::platform::auth::MintOptions options;
  options.issuer = absl::GetFlag(FLAGS_issuer);
  options.audience = absl::GetFlag(FLAGS_audience);
  options.subject = absl::GetFlag(FLAGS_subject);
  options.tenant_id = absl::GetFlag(FLAGS_tenant);
  options.member_id = absl::GetFlag(FLAGS_member_id);
  options.kid = absl::GetFlag(FLAGS_kid);
  options.ttl = absl::GetFlag(FLAGS_ttl);
  options.issued_at = absl::Now();
  for (absl::string_view role :
       absl::StrSplit(absl::GetFlag(FLAGS_roles), ',', absl::SkipWhitespace())) {
    options.roles.emplace_back(absl::StripAsciiWhitespace(role));
  }

  const std::string key_path = absl::GetFlag(FLAGS_key);
  if (key_path.empty()) {
    return Usage("--key is required (or --generate_dev_keys=<dir>)");
  }
  if (options.issuer.empty()) {
    return Usage("--issuer must not be empty");
  }
  if (options.audience.empty()) {
    return Usage("--audience must not be empty");
  }
  if (options.subject.empty()) {
    return Usage("--subject is required");
  }
  if (options.roles.empty()) {
    return Usage("--roles is required (comma-separated)");
  }
  const bool platform_admin = std::find(options.roles.begin(), options.roles.end(),
                                        "platform_admin") != options.roles.end();
  if (options.tenant_id.empty() && !platform_admin) {
    return Usage("--tenant is required unless --roles contains platform_admin");
  }
  if (options.ttl <= absl::ZeroDuration()) {
    return Usage("--ttl must be positive");
  }

  std::FILE* file = std::fopen(key_path.c_str(), "rb");
  if (file == nullptr) {
    return Fail(absl::StrCat(key_path, ": cannot open"));
  }
  std::string pem;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), file)) > 0) {
    pem.append(buf, n);
  }
  const bool read_error = std::ferror(file) != 0;
  std::fclose(file);
  if (read_error) {
    return Fail(absl::StrCat(key_path, ": read error"));
  }

  absl::StatusOr<std::string> token = cpts::platform::auth::MintToken(options, pem);
  if (!token.ok()) {
    return Fail(absl::StrCat(key_path, ": ", token.status().message()));
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Mints a dev JWT on stdout, or creates the dev keys.\n"
      "  cpts-token --generate_dev_keys=<dir> [--algorithm=ES256|RS256]\n"
      "  cpts-token --key=<private.pem> [--kid=dev] --subject=<sub> --roles=<r1,r2> "
      "[--tenant=<id>] [--member_id=<id>] [--ttl=1h] [--issuer=cpts-dev] [--audience=cpts]");
  if (const int status = CheckFlags(argc, argv); status != 0) {
    return status;
  }
  const std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return Usage(absl::StrCat("unexpected argument \"", rest[1], "\""));
  }

  const std::string dir = absl::GetFlag(FLAGS_generate_dev_keys);
  if (!dir.empty()) {
    return GenerateKeys(dir);
  }
  return Mint();
}
