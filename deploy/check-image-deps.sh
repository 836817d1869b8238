#!/usr/bin/env bash
# Checks, without a Docker engine, that each service image's runtime stage is complete: every
# shared library `ldd` resolves for the built binary must belong (dpkg -S) to a package that
# the runtime stage of deploy/<svc>/Dockerfile installs explicitly, and every package it names
# must exist. Services whose binary is not built are reported and skipped, except in CI
# (CI=true, or CPTS_REQUIRE_ALL_IMAGES=1; =0 overrides), which builds every service first:
# there a missing binary fails, so no image goes unchecked. A service with a Dockerfile but no
# server source yet (services/<svc>/main.cc) is reported and skipped everywhere.
#   deploy/check-image-deps.sh [BUILD_DIR]     (default: $CPTS_BUILD_DIR or build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${CPTS_BUILD_DIR:-$root/build}}
failed=0
checked=0
skipped=()
require_all=0
[ "${CI:-}" = true ] && require_all=1
[ -n "${CPTS_REQUIRE_ALL_IMAGES:-}" ] && require_all=$CPTS_REQUIRE_ALL_IMAGES

say() { printf '[check-image-deps] %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; failed=1; }

# The packages named by `apt-get install` in the runtime stage (the last FROM) of a Dockerfile:
# continuation lines are joined, options and shell operators are dropped.
runtime_packages() {
  awk '
    /^[[:space:]]*FROM[[:space:]]/ { stage = ""; }
    { line = $0; sub(/[[:space:]]*\\[[:space:]]*$/, " ", line); stage = stage line "\n" }
    END { printf "%s", stage }
  ' "$1" | tr '\n' ' ' | tr -s ' ' | grep -oE 'apt-get install [^&;|]*' | sed 's/^apt-get install//' |
    tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | sort -u
}

# The paths under which dpkg may have recorded a library: as given, its resolved target, and
# their /lib <-> /usr/lib twins (bookworm is usr-merged; dpkg records the pre-merge path).
candidates() {
  local p
  for p in "$1" "$(readlink -f "$1")"; do
    echo "$p"
    case "$p" in
      /usr/lib/*) echo "${p#/usr}" ;;
      /lib/* | /lib64/*) echo "/usr$p" ;;
    esac
  done
}

shopt -s nullglob
for dockerfile in "$root"/deploy/*/Dockerfile; do
  svc=$(basename "$(dirname "$dockerfile")")
  binary="$build/services/$svc/${svc}_server"
  # A service whose server is not written yet (no services/<svc>/main.cc, so no <svc>_server
  # target: scripts/lib/common.sh's service_exists) has nothing to package, even in CI.
  if [ ! -f "$root/services/$svc/main.cc" ]; then
    say "$svc: services/$svc/main.cc does not exist yet (no server target), skipped"
    skipped+=("$svc")
    continue
  fi
  if [ ! -x "$binary" ]; then
    if [ "$require_all" = 1 ]; then
      fail "$svc: $binary is not built (CI builds every service before this check)"
    else
      say "$svc: $binary is not built, skipped"
      skipped+=("$svc")
    fi
    continue
  fi
  before=$failed
  failed=0
  mapfile -t listed < <(runtime_packages "$dockerfile")
  [ ${#listed[@]} -gt 0 ] || {
    fail "$svc: no apt-get install line in the runtime stage"
    continue
  }
  declare -A allowed=()
  for pkg in "${listed[@]}"; do
    allowed[$pkg]=1
    # A misspelt package fails the image build: it must be known to dpkg or to apt.
    dpkg-query -W "$pkg" >/dev/null 2>&1 || apt-cache show "$pkg" >/dev/null 2>&1 ||
      fail "$svc: the runtime stage installs '$pkg', which is not a Debian package"
  done
  grep -qE "^COPY --from=[a-z]+ .*/${svc}_server " "$dockerfile" ||
    fail "$svc: the runtime stage does not copy ${svc}_server"

  libs=0
  paths=()
  while read -r name arrow path _; do
    if [ "$arrow" = "=>" ] && [ "$path" = "not" ]; then
      fail "$svc: $name is not found by ldd"
      continue
    fi
    [ "$arrow" = "=>" ] || path=$name        # the loader line has no "=>"
    case "$path" in /*) paths+=("$path") ;; esac # not linux-vdso.so.1
  done < <(ldd "$binary")
  # One dpkg -S call for every candidate path (one call per path takes seconds).
  declare -A owner=()
  mapfile -t all < <(for p in "${paths[@]}"; do candidates "$p"; done | sort -u)
  while IFS= read -r line; do
    case "$line" in diversion*) continue ;; esac
    owner[${line#*: }]=$(echo "${line%%: *}" | cut -d, -f1 | cut -d: -f1)
  done < <(dpkg -S "${all[@]}" 2>/dev/null || true)
  for path in "${paths[@]}"; do
    libs=$((libs + 1))
    pkg=""
    while read -r c; do
      [ -n "${owner[$c]:-}" ] && { pkg=${owner[$c]}; break; }
    done < <(candidates "$path")
    if [ -z "$pkg" ]; then
      fail "$svc: $path belongs to no Debian package"
    elif [ -z "${allowed[$pkg]:-}" ]; then
      fail "$svc: $path comes from '$pkg', which the runtime stage of $dockerfile does not install"
    fi
  done
  [ "$failed" = 1 ] ||
    say "$svc: $libs shared libraries, all from the ${#listed[@]} packages of the runtime stage"
  [ "$before" = 0 ] || failed=1
  unset allowed owner
  checked=$((checked + 1))
done

[ "$failed" = 0 ] || exit 1
if [ ${#skipped[@]} -gt 0 ]; then
  say "ok ($checked image(s) checked; not built, skipped: ${skipped[*]})"
else
  say "ok ($checked image(s) checked)"
fi
