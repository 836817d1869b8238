# Shared by the scripts in scripts/: paths, the build, and the private MariaDB of the local stack.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEV="$ROOT/.dev"                      # everything the local stack writes lives here (git-ignored)
BUILD="${CPTS_BUILD_DIR:-$ROOT/build}"
SERVICES=(membership projects finance access)
declare -A GRPC_PORT=([membership]=50051 [projects]=50052 [finance]=50053 [access]=50054)
declare -A HTTP_PORT=([membership]=9051 [projects]=9052 [finance]=9053 [access]=9054)
DB_PORT="${CPTS_DB_PORT:-3307}"
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

# A private mariadbd: data under $1, TCP on 127.0.0.1:$2, runs as the current user. Idempotent.
mariadb_start() {
  local dir=$1 port=$2 cnf=$1/my.cnf
  mkdir -p "$dir"
  cat >"$cnf" <<CNF
[client]
port=$port
socket=$dir/mysqld.sock
default-character-set=utf8mb4
[mariadbd]
user=$(id -un)
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.pid
log-error=$dir/error.log
port=$port
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
innodb_buffer_pool_size=256M
innodb_flush_log_at_trx_commit=2
max_connections=500
skip-log-bin
CNF
  if mariadb-admin --defaults-file="$cnf" -uroot --silent ping >/dev/null 2>&1; then return 0; fi
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --defaults-file="$cnf" --skip-test-db >"$dir/install.log" 2>&1 ||
      die "mariadb-install-db failed: see $dir/install.log"
  fi
  (setsid mariadbd --defaults-file="$cnf" >/dev/null 2>&1 &)
  for _ in $(seq 1 600); do
    mariadb-admin --defaults-file="$cnf" -uroot --silent ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "mariadbd did not start: see $dir/error.log"
}

mariadb_stop() {
  local cnf=$1/my.cnf
  [ -f "$cnf" ] || return 0
  mariadb-admin --defaults-file="$cnf" -uroot --silent ping >/dev/null 2>&1 || return 0
  mariadb-admin --defaults-file="$cnf" -uroot shutdown
}

mariadb_root() { mariadb --defaults-file="$1/my.cnf" -uroot "${@:2}"; }

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
