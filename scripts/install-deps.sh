#!/usr/bin/env bash
# Installs every Debian package and npm tool the build, the tests and the local stack need.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build pkg-config clang-format clang-tidy
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev grpc-proto
  libmysqlcppconn-dev mariadb-server mariadb-client galera-4 mariadb-backup rsync
  libgtest-dev libgmock-dev libcpp-httplib-dev libjwt-dev libssl-dev openssl libsodium-dev
  nodejs npm curl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # node and npm may come from outside Debian on some machines: do not fight them.
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in
      nodejs | npm) command -v "${p/nodejs/node}" >/dev/null 2>&1 || filtered+=("$p") ;;
      *) filtered+=("$p") ;;
    esac
  done
  if [ ${#filtered[@]} -gt 0 ]; then
    echo "install-deps: installing ${filtered[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get -o DPkg::Lock::Timeout=900 -y -qq install --no-install-recommends "${filtered[@]}" >/dev/null
  fi
fi

# npm tools (buf for lint and curl; the Kubernetes schema checker) under tools/, so nothing
# global changes. Reinstalled whenever tools/package-lock.json changes.
stamp="$root/tools/node_modules/.cpts-lock.sha256"
want=$(sha256sum "$root/tools/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "install-deps: installing the npm tools under tools/" >&2
  # `npm ci` refuses this lock: npm omits the other platforms' optional buf binaries from it.
  (cd "$root/tools" && npm install --no-audit --no-fund --silent)
  sha256sum "$root/tools/package-lock.json" | cut -d' ' -f1 >"$stamp"
fi
