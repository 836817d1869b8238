#!/usr/bin/env bash
# bench/run_threading.sh: measures the point read of cpts.bench.v1.BenchService under each
# threading model (docs/threading.md) and writes a Markdown table and the raw JSON lines.
#
#   bench/run_threading.sh [--no-build] [--quick] [--extra] [--out DIR] [--max-load X]
#                          [--wait-idle SECONDS] [--duration S] [--warmup S]
#
# Starts a private MariaDB under a temporary directory (free port), loads 100 000 rows, then
# for each configuration starts cpts-bench-threading-server and runs cpts-load at concurrency
# 8 and 32 (client, server and MariaDB share the machine's cores). Before measuring it waits,
# up to --wait-idle seconds, for the 1-minute load average to drop below --max-load, and it
# records the load average of every point. Everything it starts is stopped on exit.
#
#   --quick   5 s per point after 2 s warm-up (a smoke run, ~1.5 min)
#   --extra   also the tuning variants (thread and queue counts, sync-server pollers)
# Default: 12 s per point after 3 s warm-up, base configurations (~3 min); with --extra ~5.5 min.
# Results: $OUT/threading-<UTC time>.{jsonl,md}, OUT defaults to build-bench/bench-results.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CPTS_BUILD_DIR="${CPTS_BENCH_BUILD_DIR:-$ROOT/build-bench}"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"  # log, die, mariadb_start, mariadb_stop, mariadb_root

BUILD_FIRST=1
EXTRA=0
DURATION=12
WARMUP=3
MAX_LOAD=1.0
WAIT_IDLE=300
OUT="$CPTS_BUILD_DIR/bench-results"
CONCURRENCIES=(8 32)
ROWS=100000
TENANT=bench-tenant
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD_FIRST=0 ;;
    --quick) DURATION=5 WARMUP=2 ;;
    --extra) EXTRA=1 ;;
    --out) OUT=$2; shift ;;
    --max-load) MAX_LOAD=$2; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

# name|mode|server flags. The platform modes get the JWT and database flags added below.
CONFIGS=(
  "raw_sync|raw_sync|--db_pool_size=32"
  "platform|platform|--grpc_threads=16 --grpc_completion_queues=2"
  "platform_noauth|platform_noauth|--grpc_threads=16 --grpc_completion_queues=2"
  "callback_inline|callback_inline|--db_pool_size=32"
)
if [ "$EXTRA" = 1 ]; then
  CONFIGS+=(
    "raw_sync_pollers_4_32|raw_sync|--db_pool_size=32 --sync_min_pollers=4 --sync_max_pollers=32"
    "platform_t8_q1|platform|--grpc_threads=8 --grpc_completion_queues=1"
    "platform_t32_q2|platform|--grpc_threads=32 --grpc_completion_queues=2"
    "platform_t16_q2_nolog|platform|--grpc_threads=16 --grpc_completion_queues=2 --log_requests=false"
  )
fi
[ -n "${BENCH_CONFIGS:-}" ] && IFS=';' read -r -a CONFIGS <<<"$BENCH_CONFIGS"

SERVER_BIN="$CPTS_BUILD_DIR/bench/cpts-bench-threading-server"
LOAD_BIN="$CPTS_BUILD_DIR/bench/cpts-load"
TOKEN_BIN="$CPTS_BUILD_DIR/tools/src/cpts-token"

if [ "$BUILD_FIRST" = 1 ]; then
  if [ ! -f "$CPTS_BUILD_DIR/build.ninja" ]; then
    cmake -S "$ROOT" -B "$CPTS_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  ninja -C "$CPTS_BUILD_DIR" -j 2 cpts_bench_threading_server cpts_load_cli cpts_token >/dev/null
fi
for bin in "$SERVER_BIN" "$LOAD_BIN" "$TOKEN_BIN"; do [ -x "$bin" ] || die "$bin is not built"; done

TMP=$(mktemp -d /tmp/cpts-bench-threading.XXXXXX)
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  mariadb_stop "$TMP/db" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
wait_until_idle() {
  local waited=0
  until below "$(load1)" "$MAX_LOAD"; do
    if [ "$waited" -ge "$WAIT_IDLE" ]; then
      log "load average $(load1) still >= $MAX_LOAD after ${WAIT_IDLE}s: measuring anyway (noted)"
      return 0
    fi
    [ "$waited" = 0 ] && log "load average $(load1) >= $MAX_LOAD: waiting (up to ${WAIT_IDLE}s)"
    sleep 5
    waited=$((waited + 5))
  done
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return 0; }
  done
  die "no free port"
}

# --- The database: 100 000 rows of one tenant, primary key (tenant_id, id).
DB_PORT=$(free_port)
log "MariaDB on 127.0.0.1:$DB_PORT under $TMP/db"
mariadb_start "$TMP/db" "$DB_PORT"
DB_PID=$(cat "$TMP/db/mysqld.pid")
DB_PASSWORD=$(openssl rand -hex 16)
mariadb_root "$TMP/db" <<SQL
CREATE DATABASE bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT SELECT ON bench.* TO 'bench'@'127.0.0.1';
USE bench;
$(cat "$ROOT/bench/threading/schema.sql")
INSERT INTO bench_item (tenant_id, id, name, amount_cents)
  SELECT '$TENANT', seq, CONCAT('item ', seq), seq * 100 FROM seq_1_to_$ROWS;
ANALYZE TABLE bench_item;
SQL
[ "$(mariadb_root "$TMP/db" -N -e 'SELECT COUNT(*) FROM bench.bench_item')" = "$ROWS" ] ||
  die "data load failed"
export CPTS_DB_PASSWORD="$DB_PASSWORD"

# --- A real token for the platform mode.
"$TOKEN_BIN" --generate_dev_keys="$TMP/keys" >/dev/null
"$TOKEN_BIN" --key="$TMP/keys/dev-jwt-private.pem" --issuer=cpts-bench --audience=cpts \
  --tenant="$TENANT" --subject=bench-client --roles=bench --ttl=2h >"$TMP/token"

mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSONL="$OUT/threading-$STAMP.jsonl"
MD="$OUT/threading-$STAMP.md"
: >"$JSONL"

start_server() {  # name mode flags...; sets SERVER_PID and PORT
  local name=$1 mode=$2
  shift 2
  rm -f "$TMP/ready.json"
  # shellcheck disable=SC2086
  "$SERVER_BIN" --mode="$mode" --grpc_address=127.0.0.1 --grpc_port=0 \
    --http_address=127.0.0.1 --http_port=0 --db_port="$DB_PORT" --db_user=bench \
    --db_schema=bench --tenant="$TENANT" --jwt_issuer=cpts-bench --jwt_audience=cpts \
    --jwt_public_key_file="$TMP/keys/dev-jwt-public.pem" --ready_file="$TMP/ready.json" \
    "$@" >/dev/null 2>"$TMP/$name.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$TMP/ready.json" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/$name.log" >&2; die "$name did not start"; }
    sleep 0.1
  done
  [ -s "$TMP/ready.json" ] || die "$name did not write its ready file"
  PORT=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' "$TMP/ready.json")
}

log "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
log "${#CONFIGS[@]} configurations x ${#CONCURRENCIES[@]} concurrencies, ${WARMUP}s + ${DURATION}s each"
for config in "${CONFIGS[@]}"; do
  IFS='|' read -r name mode flags <<<"$config"
  # shellcheck disable=SC2086
  start_server "$name" "$mode" $flags
  for c in "${CONCURRENCIES[@]}"; do
    wait_until_idle
    load=$(load1)
    token_flag=()
    [ "$mode" = platform ] && token_flag=(--bearer_token_file="$TMP/token")
    "$LOAD_BIN" --target="127.0.0.1:$PORT" --scenario=bench.point_read \
      --param="rows=$ROWS" --concurrency="$c" --channels=4 --threads=1 \
      --warmup="${WARMUP}s" --duration="${DURATION}s" "${token_flag[@]}" \
      --watch_pid="server=$SERVER_PID,mariadb=$DB_PID" \
      --tag="config=$name,mode=$mode,flags=$flags,load_avg=$load" >>"$JSONL" 2>"$TMP/load.err" ||
      { cat "$TMP/load.err" >&2; die "load run failed for $name at concurrency $c"; }
    log "$(grep -o '[0-9]* calls/s.*' "$TMP/load.err" | head -1 | sed 's/^/'"$name c=$c: "'/')"
  done
  stop_server
done

# --- The table: one row per configuration and concurrency, ratio to raw_sync at the same
# concurrency, CPU per call of each process (where the two cores went).
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2"; }
cpu() { sed -n "s/.*\"cpu_s\":{[^}]*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
{
  echo "Threading benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), ${WARMUP} s warm-up +"
  echo "${DURATION} s per point, 4 channels, 1 generator thread, PointRead of random ids among $ROWS rows."
  echo
  echo "| config | C | QPS | ×raw | p50 ms | p90 ms | p99 ms | errors | µs CPU/call server | mariadb | client | load avg |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  # shellcheck disable=SC2094  # reads JSONL twice, writes only MD
  while read -r line; do
    name=$(field config "$line")
    c=$(field concurrency "$line")
    qps=$(field qps "$line")
    raw=$(grep "\"config\":\"raw_sync\"" "$JSONL" | grep "\"concurrency\":$c," | head -1 || true)
    ratio="–"
    [ -n "$raw" ] && ratio=$(awk -v a="$qps" -v b="$(field qps "$raw")" 'BEGIN { printf "%.2f", a / b }')
    ok=$(field ok "$line")
    per_call() { awk -v s="$1" -v n="$ok" 'BEGIN { if (s == "" || n == 0) print "–"; else printf "%.0f", s * 1e6 / n }'; }
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$c" "$qps" \
      "$ratio" "$(field p50_ms "$line")" "$(field p90_ms "$line")" "$(field p99_ms "$line")" \
      "$(field errors "$line")" "$(per_call "$(cpu server "$line")")" \
      "$(per_call "$(cpu mariadb "$line")")" "$(per_call "$(field client_cpu_s "$line")")" \
      "$(field load_avg "$line")"
  done <"$JSONL"
} >"$MD"
cat "$MD"
log "results: $MD and $JSONL"
