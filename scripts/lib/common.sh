# Shared by the scripts in scripts/: paths, the build, and the private MariaDB of the local stack.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEV="${CPTS_DEV_DIR:-$ROOT/.dev}"     # everything the local stack writes lives here (git-ignored)
BUILD="${CPTS_BUILD_DIR:-$ROOT/build}"
SERVICES=(membership projects finance access)
# Default ports of DESIGN.md; CPTS_PORT_OFFSET moves them all (a second stack, the CI smoke test).
OFFSET="${CPTS_PORT_OFFSET:-0}"
declare -A GRPC_PORT HTTP_PORT
for i in 1 2 3 4; do
  svc=$(echo membership projects finance access | cut -d' ' -f$i)
  GRPC_PORT[$svc]=$((50050 + i + OFFSET))
  HTTP_PORT[$svc]=$((9050 + i + OFFSET))
done
# The gRPC peers each service calls (DESIGN.md, "Cross-service calls").
declare -A PEERS=([projects]="membership finance" [finance]="membership projects access"
  [access]="membership")
peer_flags() {
  local peer
  for peer in ${PEERS[$1]:-}; do echo "--${peer}_address=127.0.0.1:${GRPC_PORT[$peer]}"; done
  # A service that calls others signs its service tokens with the dev key, which every
  # service of the local stack trusts.
  [ -z "${PEERS[$1]:-}" ] || echo "--service_key_file=$DEV/keys/dev-jwt-private.pem"
}
# Flags of one service beyond the common ones.
FHIR_PORT=$((8054 + OFFSET))
service_flags() {
  case "$1" in
    access) echo "--field_key_file=$DEV/keys/access-field-keys.txt"
            echo "--fhir_port=$FHIR_PORT" ;;
  esac
}
DB_PORT="${CPTS_DB_PORT:-3307}"
# The Galera mode (dev-up --galera): three nodes on loopback (scripts/galera.sh), client ports
# GALERA_BASE_PORT+1..3 (3311-3313), data under .dev/galera.
GALERA_DIR="$DEV/galera"
GALERA_BASE_PORT="${CPTS_GALERA_BASE_PORT:-3310}"
JWT_ISSUER="cpts-dev"
JWT_AUDIENCE="cpts"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Configures (once) and builds the given targets (all when none).
build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  ninja -C "$BUILD" -j "$(nproc)" "$@"
}

# The server binary of a service, if that service exists in this tree.
service_binary() { echo "$BUILD/services/$1/$1_server"; }
service_exists() { [ -f "$ROOT/services/$1/main.cc" ]; }

# The private MariaDB of $1 (scripts/testdb.sh does the work: one way to start one), on port $2.
mariadb_start() {
  "$ROOT/scripts/testdb.sh" start "$1" "$2" >/dev/null
}

mariadb_stop() {
  [ -f "$1/my.cnf" ] || return 0
  "$ROOT/scripts/testdb.sh" stop "$1"
}

# The Galera cluster of the local stack: starts the nodes that are not running (node 1 first on a
# new cluster), waits until all three are Synced, and sets CPTS_GALERA_HOSTS (the --db_host list).
galera_start() {
  eval "$("$ROOT/scripts/galera.sh" start "$GALERA_DIR" "$GALERA_BASE_PORT")"
}

galera_stop() {
  [ -f "$GALERA_DIR/cluster.conf" ] || return 0
  "$ROOT/scripts/galera.sh" stop "$GALERA_DIR"
}

# SQL as the server's administrator, over TCP (works whatever the OS user is). $1: the data
# directory of scripts/testdb.sh, or of scripts/galera.sh (then node 1: accounts and schemas
# created there replicate to the other nodes).
mariadb_root() {
  local dir=$1 cnf=$1/my.cnf
  [ -f "$cnf" ] || cnf=$dir/n1/my.cnf
  mariadb --defaults-file="$cnf" --protocol=TCP -h127.0.0.1 -ucpts_admin \
    --password="$(cat "$dir/admin_password")" "${@:2}"
}

# A random secret, stored once under .dev/secrets and reused by later runs.
secret() {
  local file="$DEV/secrets/$1"
  mkdir -p "$DEV/secrets" && chmod 700 "$DEV/secrets"
  [ -s "$file" ] || (umask 077 && openssl rand -hex 16 >"$file")
  cat "$file"
}

# Per service: a schema, a migrator user (DDL on its schema) and an app user (DML only, so it
# cannot drop the triggers that keep audit and ledger tables append-only).
create_service_schema() {
  local dir=$1 svc=$2 app_pw mig_pw
  app_pw=$(secret "$svc.password")
  mig_pw=$(secret "${svc}_migrator.password")
  mariadb_root "$dir" <<SQL
CREATE DATABASE IF NOT EXISTS \`$svc\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${svc}_migrator'@'127.0.0.1' IDENTIFIED BY '$mig_pw';
ALTER USER '${svc}_migrator'@'127.0.0.1' IDENTIFIED BY '$mig_pw';
GRANT ALL PRIVILEGES ON \`$svc\`.* TO '${svc}_migrator'@'127.0.0.1';
CREATE USER IF NOT EXISTS '$svc'@'127.0.0.1' IDENTIFIED BY '$app_pw';
ALTER USER '$svc'@'127.0.0.1' IDENTIFIED BY '$app_pw';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$svc\`.* TO '$svc'@'127.0.0.1';
SQL
}
