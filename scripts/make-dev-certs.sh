#!/usr/bin/env bash
# Makes a local certificate authority and the certificates of the local stack, for mTLS
# between the services and with partner platforms (development and tests only; production
# certificates come from cert-manager, see deploy/README.md):
#   DIR/ca.crt, ca.key                  the local CA (a new one per DIR)
#   DIR/server.crt, server.key          server certificate: localhost, 127.0.0.1, ::1 and each
#                                       service name (membership, membership.cpts.svc, ...)
#   DIR/client-<svc>.crt, .key          client certificate of each service (CN=<svc>)
#   DIR/client-partner.crt, .key        client certificate of a partner platform
# Usage: scripts/make-dev-certs.sh DIR     Existing files are kept; delete DIR to start over.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
services=(membership projects finance access)
days=397
umask 077
mkdir -p "$dir"

# new_key FILE: an ECDSA P-256 private key (PKCS#8 PEM).
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -out "$dir/ca.crt" -days 825 -sha256 \
    -subj "/O=CPTS local/CN=CPTS local CA $(openssl rand -hex 4)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
fi

# issue NAME CN EKU SAN: DIR/NAME.crt and DIR/NAME.key signed by the local CA (kept if present).
issue() {
  local name=$1 cn=$2 eku=$3 san=$4
  [ -s "$dir/$name.crt" ] && [ -s "$dir/$name.key" ] && return 0
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "/O=CPTS local/CN=$cn" -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 -out "$dir/$name.crt" \
    -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=$eku" \
      "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "subjectAltName=$san") 2>/dev/null
  rm -f "$dir/$name.csr"
}

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for svc in "${services[@]}"; do
  san+=",DNS:$svc,DNS:$svc.cpts,DNS:$svc.cpts.svc,DNS:$svc.cpts.svc.cluster.local"
done
issue server localhost serverAuth "$san"
for svc in "${services[@]}"; do
  issue "client-$svc" "$svc" clientAuth "DNS:$svc,URI:spiffe://cpts.local/ns/cpts/sa/$svc"
done
issue client-partner partner-platform clientAuth "DNS:partner.example,URI:spiffe://cpts.local/partner/example"

chmod 644 "$dir"/*.crt
chmod 600 "$dir"/*.key
for f in "$dir"/server.crt "$dir"/client-*.crt; do
  openssl verify -CAfile "$dir/ca.crt" "$f" >/dev/null
done
echo "make-dev-certs: CA and certificates in $dir" >&2
