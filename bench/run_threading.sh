#!/usr/bin/env bash
# bench/run_threading.sh: the point read of cpts.bench.v1.BenchService under each threading
# model of docs/threading.md; writes a Markdown table and the raw JSON lines of cpts-load.
#
#   bench/run_threading.sh [--no-build] [--quick] [--base-only] [--out DIR] [--duration S]
#                          [--warmup S] [--max-load X] [--max-busy PCT] [--wait-idle S]
#   bench/run_threading.sh --table OUT/threading-<time>.jsonl
#
# Starts a private MariaDB (temporary directory, free port) holding 100 000 rows, then for each
# configuration starts cpts-bench-threading-server and runs cpts-load against it; client, server
# and MariaDB share the machine's cores. Three groups of configurations:
#   base    raw_sync (the raw stack), platform (everything on), platform_noauth, callback_inline,
#           at concurrency 8 and 32;
#   tuning  the platform without its request log, with 2 and 4 workers, and the sync server
#           with more pollers, at 8 and 32;
#   db1ms   every query also waits 1 ms inside MariaDB (a database on another machine), at 32.
# Before the first point it waits (up to --wait-idle s) for the 1-minute load average to drop
# below --max-load (1.0), and before each point for other processes to use less than
# --max-busy % (15) of the CPU; each row records the load average and the CPU other processes
# took during the window. Everything it starts is stopped on exit.
#
#   --quick      5 s per point after 2 s of warm-up (smoke run, ~2.5 min)
#   --base-only  the base group only
#   --table F    only print the Markdown table of an earlier run's JSONL file F
# Default: 10 s per point after 2 s of warm-up, all groups: ~5.5 min on an idle machine.
# Results: OUT/threading-<UTC time>.{md,jsonl}; OUT defaults to <build dir>/bench-results.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CPTS_BUILD_DIR="${CPTS_BENCH_BUILD_DIR:-$ROOT/build-bench}"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh" # log, die, mariadb_start, mariadb_stop, mariadb_root

BUILD_FIRST=1
BASE_ONLY=0
TABLE_ONLY=""
DURATION=10
WARMUP=2
MAX_LOAD=1.0
MAX_BUSY=15
WAIT_IDLE=300
OUT="$CPTS_BUILD_DIR/bench-results"
ROWS=100000
TENANT=bench-tenant
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD_FIRST=0 ;;
    --table) TABLE_ONLY=$2; shift ;;
    --quick) DURATION=5 WARMUP=2 ;;
    --base-only) BASE_ONLY=1 ;;
    --out) OUT=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --max-load) MAX_LOAD=$2; shift ;;
    --max-busy) MAX_BUSY=$2; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

# name|mode|server flags|concurrencies|baseline (the config its ×raw ratio is taken against).
# Every server also gets the database, JWT and port flags of start_server.
PLATFORM="--grpc_threads=16 --grpc_completion_queues=2" # the defaults of RunService
CONFIGS=(
  "raw_sync|raw_sync|--db_pool_size=32|8 32|raw_sync"
  "platform|platform|$PLATFORM|8 32|raw_sync"
  "platform_noauth|platform_noauth|$PLATFORM|8 32|raw_sync"
  "callback_inline|callback_inline|--db_pool_size=32|8 32|raw_sync"
)
if [ "$BASE_ONLY" = 0 ]; then
  CONFIGS+=(
    "platform_nolog|platform|$PLATFORM --log_requests=false|8 32|raw_sync"
    "platform_t2_q2|platform|--grpc_threads=2 --grpc_completion_queues=2|8 32|raw_sync"
    "platform_t4_q1|platform|--grpc_threads=4 --grpc_completion_queues=1|8 32|raw_sync"
    "raw_sync_pollers_4_32|raw_sync|--db_pool_size=32 --sync_min_pollers=4 --sync_max_pollers=32|8 32|raw_sync"
    "raw_sync_db1ms|raw_sync|--db_pool_size=32 --db_delay=1ms|32|raw_sync_db1ms"
    "platform_db1ms|platform|$PLATFORM --db_delay=1ms|32|raw_sync_db1ms"
    "platform_t32_q2_db1ms|platform|--grpc_threads=32 --grpc_completion_queues=2 --db_delay=1ms|32|raw_sync_db1ms"
    "platform_t2_q2_db1ms|platform|--grpc_threads=2 --grpc_completion_queues=2 --db_delay=1ms|32|raw_sync_db1ms"
    "callback_inline_db1ms|callback_inline|--db_pool_size=32 --db_delay=1ms|32|raw_sync_db1ms"
  )
fi
# For exploration: BENCH_CONFIGS="name|mode|flags|concurrencies|baseline;..." replaces the list.
[ -n "${BENCH_CONFIGS:-}" ] && IFS=';' read -r -a CONFIGS <<<"$BENCH_CONFIGS"

# --- The table of a JSONL file: a row per configuration and concurrency; ×raw against the
# baseline at the same concurrency; CPU per call of each process, i.e. where the cores went;
# "others" is the CPU other processes took during the window (a disturbed point shows there).
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2"; }
cpu() { sed -n "s/.*\"cpu_s\":{[^}]*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
write_table() { # jsonl
  local jsonl=$1 first line c qps ok base ratio server mariadb client others switches cores
  first=$(head -1 "$jsonl")
  cores=$(nproc)
  echo "Threading benchmark, $(date -u -r "$jsonl" '+%Y-%m-%d %H:%M UTC'): $cores cores ($(cpu_model)),"
  echo "$(field warmup_s "$first") s warm-up + $(field duration_s "$first") s per point; cpts-load with"
  echo "$(field channels "$first") channels and $(field threads "$first") thread; PointRead of random ids among $ROWS rows."
  echo
  echo "| config | C | QPS | ×raw | p50 ms | p90 ms | p99 ms | errors | server threads | ctx switches/call | CPU µs/call: server | mariadb | client | others' CPU % | load avg |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  # shellcheck disable=SC2094 # only reads the JSONL file (twice); the table goes to stdout
  while read -r line; do
    c=$(field concurrency "$line")
    qps=$(field qps "$line")
    ok=$(field ok "$line")
    base=$(grep "\"config\":\"$(field baseline "$line")\"" "$jsonl" | grep "\"concurrency\":$c," |
      head -1 || true)
    ratio="–"
    [ -n "$base" ] && ratio=$(awk -v a="$qps" -v b="$(field qps "$base")" 'BEGIN { printf "%.2f", a / b }')
    server=$(cpu server "$line")
    mariadb=$(cpu mariadb "$line")
    client=$(field client_cpu_s "$line")
    others=$(awk -v m="$(field machine_cpu_s "$line")" -v s="$server" -v d="$mariadb" -v c="$client" \
      -v t="$(field duration_s "$line")" -v n="$cores" 'BEGIN { if (m < 0) print "–"; else {
      o = 100 * (m - s - d - c) / (t * n); printf "%.0f", (o < 0 ? 0 : o) } }')
    switches=$(awk -v s="$(field context_switches "$line")" -v n="$ok" \
      'BEGIN { if (s < 0 || n == 0) print "–"; else printf "%.1f", s / n }')
    printf '| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
      "$(field config "$line")" "$c" "$qps" "$ratio" "$(field p50_ms "$line")" \
      "$(field p90_ms "$line")" "$(field p99_ms "$line")" "$(field errors "$line")" \
      "$(field server_threads "$line")" "$switches" "$(per_call "$server" "$ok")" \
      "$(per_call "$mariadb" "$ok")" "$(per_call "$client" "$ok")" "$others" \
      "$(field load_avg "$line")"
  done <"$jsonl"
}
per_call() { awk -v s="$1" -v n="$2" 'BEGIN { if (s == "" || n == 0) print "–"; else printf "%.0f", s * 1e6 / n }'; }
cpu_model() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs; }

if [ -n "$TABLE_ONLY" ]; then
  write_table "$TABLE_ONLY"
  exit 0
fi

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
# Percentage of the machine's CPU time not idle over one second.
busy_pct() {
  local a b
  a=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1];
    printf "%.0f", (t > 0 ? 100 * (t - (y[2] - x[2])) / t : 0) }'
}
# "load": the 1-minute load average below --max-load (before the first point: nobody else
# building). "busy": others below --max-busy % of the CPU (before each point, while our server
# idles; the load average cannot tell, our own previous point keeps it up for a minute).
wait_until_quiet() {
  local waited=0 value
  while true; do
    if [ "$1" = load ]; then value=$(load1); else value=$(busy_pct); fi
    if [ "$1" = load ] && below "$value" "$MAX_LOAD"; then return 0; fi
    if [ "$1" = busy ] && below "$value" "$MAX_BUSY"; then return 0; fi
    if [ "$waited" -ge "$WAIT_IDLE" ]; then
      log "$1 $value still above the limit after ${WAIT_IDLE}s: measuring anyway (recorded)"
      return 0
    fi
    [ "$waited" = 0 ] && log "$1 $value above the limit: waiting (up to ${WAIT_IDLE}s)"
    sleep 4
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
mariadb_root "$TMP/db" >/dev/null <<SQL
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

# --- A real token for the platform mode (ES256 dev key, role "bench").
"$TOKEN_BIN" --generate_dev_keys="$TMP/keys" >/dev/null
"$TOKEN_BIN" --key="$TMP/keys/dev-jwt-private.pem" --issuer=cpts-bench --audience=cpts \
  --tenant="$TENANT" --subject=bench-client --roles=bench --ttl=2h >"$TMP/token"

mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
JSONL="$OUT/threading-$STAMP.jsonl"
MD="$OUT/threading-$STAMP.md"
: >"$JSONL"

# Starts the server of one configuration; sets SERVER_PID and PORT. Its stderr (the platform's
# request log, one JSON line per call) goes to a file, as a container runtime would take it.
start_server() { # name mode flags...
  local name=$1 mode=$2
  shift 2
  rm -f "$TMP/ready.json"
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

wait_until_quiet load
LOAD_AT_START=$(load1)
log "$(nproc) cores ($(cpu_model)), load average $LOAD_AT_START; ${#CONFIGS[@]} configurations," \
  "${WARMUP}s + ${DURATION}s per point"
for config in "${CONFIGS[@]}"; do
  IFS='|' read -r name mode flags concurrencies baseline <<<"$config"
  # shellcheck disable=SC2086 # flags are words
  start_server "$name" "$mode" $flags
  for c in $concurrencies; do
    wait_until_quiet busy
    token_flag=()
    [ "$mode" = platform ] && token_flag=(--bearer_token_file="$TMP/token")
    "$LOAD_BIN" --target="127.0.0.1:$PORT" --scenario=bench.point_read \
      --param="rows=$ROWS" --concurrency="$c" --channels=4 --threads=1 \
      --warmup="${WARMUP}s" --duration="${DURATION}s" "${token_flag[@]}" \
      --watch_pid="server=$SERVER_PID,mariadb=$DB_PID" \
      --tag="config=$name,mode=$mode,flags=$flags,baseline=$baseline,load_avg=$(load1)" \
      >"$TMP/point.json" 2>"$TMP/load.err" &
    load_pid=$!
    # The server's thread count in the middle of the window.
    sleep "$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN { print w + d / 2 }')"
    # (Threads of the sync server come and go: some vanish while being listed.)
    threads=$({ find "/proc/$SERVER_PID/task" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l)
    wait "$load_pid" || { cat "$TMP/load.err" >&2; die "load run failed for $name at concurrency $c"; }
    sed "s/}\$/,\"server_threads\":$threads}/" "$TMP/point.json" >>"$JSONL"
    log "$name c=$c: $(grep -o '[0-9]* calls/s.*' "$TMP/load.err" | head -1)"
  done
  stop_server
done

write_table "$JSONL" >"$MD"
cat "$MD"
log "results: $MD and $JSONL"
