#!/usr/bin/env bash
# CI check of deploy/, fully offline: renders every overlay with `kubectl kustomize`, validates
# every document against the Kubernetes schemas (kubernetes-types + tsc --strict; crd-types.ts
# for the custom resources), runs the policy test and its self-test (validate/validate.mjs),
# and, when the services are built, checks that each image's runtime packages cover the
# binary's shared libraries (check-image-deps.sh). Exit status non-zero on any violation.
set -euo pipefail
deploy=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$deploy")
tools="$root/tools/node_modules"
start=$(date +%s%N)
say() { printf '[deploy/check] %s\n' "$*" >&2; }

command -v kubectl >/dev/null || { say "kubectl is required (kustomize is built in)"; exit 1; }
"$root/scripts/install-deps.sh"  # the npm tools of tools/package.json, among the rest

tmp=$(mktemp -d /tmp/cpts-deploy-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

rendered=()
for dir in "$deploy"/overlays/*/; do
  overlay=$(basename "$dir")
  kubectl kustomize "$dir" >"$tmp/$overlay.yaml" 2>"$tmp/$overlay.err" ||
    { cat "$tmp/$overlay.err" >&2; say "FAIL: overlays/$overlay does not render"; exit 1; }
  say "rendered overlays/$overlay: $(grep -c '^kind:' "$tmp/$overlay.yaml") documents"
  rendered+=("$overlay=$tmp/$overlay.yaml")
done

node "$deploy/validate/validate.mjs" --self-test --tls-required prod "${rendered[@]}"

"$deploy/check-image-deps.sh"

say "ok ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
