#!/usr/bin/env bash
# bench/run_access.sh: the performance targets of the access service (access issue,
# "Performance"), measured against a raw stack running the same SQL. Writes JSON lines and a
# Markdown table.
#
#   bench/run_access.sh [--no-build] [--quick] [--runs N] [--out DIR] [--duration S]
#                       [--warmup S] [--rss-load S] [--rounds N] [--no-multi] [--points-only]
#                       [--max-load X] [--max-busy PCT] [--wait-idle S]
#   bench/run_access.sh --table DIR     only print the table of an earlier run's directory
#
# What it does, on its own MariaDB (scripts/testdb.sh, temporary directory, free port) and
# ports:
#   1. creates the access schema and its users (as scripts/lib/common.sh), migrates it with
#      access_server --migrate_only, and loads the data of cpts-bench-access-data: 200 GPs of
#      one tenant, 1 000 000 slots over 358 days, 50 000 MT requests (encrypted fields);
#   2. starts access_server (everything on: JWT, validation, audit, request log to a file,
#      metrics; FHIR port) and cpts-bench-access-raw (the raw stack: bare sync gRPC server,
#      same SQL, pool of 32, nothing else). membership_server is not started: SearchSlots,
#      BookSlot by a coordinator (no member id) and the FHIR search never call it;
#   3. idle RSS of access_server; then `--runs` times: SearchSlots (72 h, one commune per
#      request) and BookSlot (distinct slots) on both stacks at concurrency 8 and 32;
#   4. the FHIR search (25 RPPS x 72 h, 500 requests) with 1 000 000 slots in the table;
#   5. 64 concurrent BookSlot on one slot x `--rounds` (1000): successes per round;
#   6. RSS of access_server every 10 s under load (search + book, 28 + 4 outstanding) for
#      `--rss-load` seconds (300), and idle again after;
#   7. unless --no-multi: the same 200 GPs / 1 000 000 slots / 50 000 MT requests spread over
#      100 tenants (another tenant prefix, same schema: 2 M slots in the table), SearchSlots
#      on both stacks at 8 and 32.
# --points-only: steps 1-3 only (more runs of the SearchSlots/BookSlot points).
# Before the first point it waits (up to --wait-idle s) for the 1-minute load average to drop
# below --max-load, and before each point for other processes to use less than --max-busy %
# of the CPU (as bench/run_threading.sh). Results: OUT/access-<UTC time>/{points.jsonl,
# fhir.jsonl, contention.jsonl, rss.jsonl, setup.jsonl, table.md}; OUT defaults to
# bench/results.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CPTS_BUILD_DIR="${CPTS_BENCH_BUILD_DIR:-$ROOT/build}"
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh" # log, die, mariadb_start, mariadb_stop, mariadb_root

BUILD_FIRST=1
TABLE_ONLY=""
RUNS=3
DURATION=10
WARMUP=3
RSS_LOAD=300
ROUNDS=1000
MULTI=1
EXTRAS=1
MAX_LOAD=1.0
MAX_BUSY=15
WAIT_IDLE=300
OUT="$ROOT/bench/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD_FIRST=0 ;;
    --table) TABLE_ONLY=$2; shift ;;
    --quick) RUNS=1 DURATION=5 WARMUP=2 RSS_LOAD=30 ROUNDS=50 ;;
    --runs) RUNS=$2; shift ;;
    --out) OUT=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --rss-load) RSS_LOAD=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --no-multi) MULTI=0 ;;
    --points-only) EXTRAS=0 MULTI=0 ;;
    --max-load) MAX_LOAD=$2; shift ;;
    --max-busy) MAX_BUSY=$2; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    -h | --help) sed -n '2,34p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

# --- The table: medians over the runs of each (scenario, stack, C); ×raw against the raw
# stack's median at the same point.
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2"; }
cpu() { sed -n "s/.*\"cpu_s\":{[^}]*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "–"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
point_values() { # jsonl data scenario C key
  grep "\"data\":\"$2\"" "$1" | grep "\"scenario\":\"$3\"" | grep "\"concurrency\":$4," |
    while read -r line; do
      case $5 in
        server_us) awk -v s="$(cpu server "$line")" -v n="$(field ok "$line")" 'BEGIN { if (n > 0) printf "%.0f\n", s * 1e6 / n }' ;;
        others) awk -v m="$(field machine_cpu_s "$line")" -v s="$(cpu server "$line")" \
          -v d="$(cpu mariadb "$line")" -v c="$(field client_cpu_s "$line")" \
          -v t="$(field duration_s "$line")" -v n="$(nproc)" 'BEGIN { if (m < 0) print "–"; else {
          o = 100 * (m - s - d - c) / (t * n); printf "%.0f\n", (o < 0 ? 0 : o) } }' ;;
        client_us) awk -v s="$(field client_cpu_s "$line")" -v n="$(field ok "$line")" 'BEGIN { if (n > 0) printf "%.0f\n", s * 1e6 / n }' ;;
        mariadb_us) awk -v s="$(cpu mariadb "$line")" -v n="$(field ok "$line")" 'BEGIN { if (n > 0) printf "%.0f\n", s * 1e6 / n }' ;;
        *) field "$5" "$line" ;;
      esac
    done || true # no point of that kind
}
write_table() { # dir
  local dir=$1 jsonl=$1/points.jsonl data op c stack qps p99 rqps rp99 n
  echo "Access benchmark, $(date -u -r "$jsonl" '+%Y-%m-%d %H:%M UTC'): $(nproc) cores; medians of"
  echo "$(grep -c . "$jsonl") points (runs per point in column n); $(field warmup_s "$(head -1 "$jsonl")") s warm-up +"
  echo "$(field duration_s "$(head -1 "$jsonl")") s each; cpts-load, 4 channels, 1 thread."
  echo
  echo "| data | RPC | C | stack | n | QPS | ×raw | p50 ms | p99 ms | p99 ×raw | errors | server µs/call | mariadb µs/call | client µs/call | others' CPU % |"
  echo "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for data in single multi; do
    for op in search_slots book_slot; do
      for c in 8 32; do
        rqps=$(point_values "$jsonl" "$data" "raw.$op" "$c" qps | median)
        rp99=$(point_values "$jsonl" "$data" "raw.$op" "$c" p99_ms | median)
        for stack in raw access; do
          n=$(point_values "$jsonl" "$data" "$stack.$op" "$c" qps | grep -c . || true)
          [ "$n" = 0 ] && continue
          qps=$(point_values "$jsonl" "$data" "$stack.$op" "$c" qps | median)
          p99=$(point_values "$jsonl" "$data" "$stack.$op" "$c" p99_ms | median)
          printf '| %s | %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
            "$data" "$op" "$c" "$stack" "$n" "$qps" \
            "$(awk -v a="$qps" -v b="$rqps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }')" \
            "$(point_values "$jsonl" "$data" "$stack.$op" "$c" p50_ms | median)" "$p99" \
            "$(awk -v a="$p99" -v b="$rp99" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }')" \
            "$(point_values "$jsonl" "$data" "$stack.$op" "$c" errors | awk '{ s += $1 } END { print s + 0 }')" \
            "$(point_values "$jsonl" "$data" "$stack.$op" "$c" server_us | median)" \
            "$(point_values "$jsonl" "$data" "$stack.$op" "$c" mariadb_us | median)" \
            "$(point_values "$jsonl" "$data" "$stack.$op" "$c" client_us | median)" \
            "$(point_values "$jsonl" "$data" "$stack.$op" "$c" others | median)"
        done
      done
    done
  done
  echo
  echo "Per point (QPS / p99 ms, in run order; others' CPU % of the machine during the window):"
  echo
  while read -r line; do
    printf -- '- %s %s C=%s run %s: %.0f / %s ms, errors %s, others %s %%, load avg before %s\n' \
      "$(field data "$line")" "$(field scenario "$line")" "$(field concurrency "$line")" \
      "$(field run "$line")" "$(field qps "$line")" "$(field p99_ms "$line")" \
      "$(field errors "$line")" "$(point_values <(echo "$line") "$(field data "$line")" \
      "$(field scenario "$line")" "$(field concurrency "$line")" others)" "$(field load_avg "$line")"
  done <"$jsonl"
  for f in setup fhir contention rss; do
    [ -s "$dir/$f.jsonl" ] || continue
    echo
    echo "$f:"
    echo '```'
    cat "$dir/$f.jsonl"
    echo '```'
  done
}

if [ -n "$TABLE_ONLY" ]; then
  write_table "$TABLE_ONLY"
  exit 0
fi

B="$CPTS_BUILD_DIR"
if [ "$BUILD_FIRST" = 1 ]; then
  flock /tmp/cpts-build.lock sh -c "cmake '$B' >/dev/null; ninja -C '$B' -j2 access_server \
    cpts_token cpts_field_keys cpts_load_cli cpts_bench_access_raw cpts_bench_access_data \
    cpts_bench_access_contention cpts_bench_fhir_probe >/dev/null"
fi
TMP=$(mktemp -d /tmp/cpts-bench-access.XXXXXX)
# Private copies: other builds of the shared tree must not replace a binary mid-run.
mkdir -p "$TMP/bin"
for bin in services/access/access_server tools/src/cpts-token \
  services/platform/crypto/cpts_field_keys bench/cpts-load bench/cpts-bench-access-raw \
  bench/cpts-bench-access-data bench/cpts-bench-access-contention bench/cpts-bench-fhir-probe; do
  [ -x "$B/$bin" ] || die "$B/$bin is not built"
  cp "$B/$bin" "$TMP/bin/"
done
BIN=$TMP/bin

ACCESS_PID=""
RAW_PID=""
cleanup() {
  for pid in $ACCESS_PID $RAW_PID; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  mariadb_stop "$TMP/db" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

load1() { cut -d' ' -f1 /proc/loadavg; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
busy_pct() {
  local a b
  a=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1];
    printf "%.0f", (t > 0 ? 100 * (t - (y[2] - x[2])) / t : 0) }'
}
wait_until_quiet() { # load|busy (as bench/run_threading.sh)
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
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
RES="$OUT/access-$STAMP"
mkdir -p "$RES"
: >"$RES/points.jsonl"

# --- 1. Database, schema, data.
DB_PORT=$(free_port)
log "MariaDB on 127.0.0.1:$DB_PORT under $TMP/db"
mariadb_start "$TMP/db" "$DB_PORT"
DB_PID=$(cat "$TMP/db/mysqld.pid")
APP_PW=$(openssl rand -hex 16)
MIG_PW=$(openssl rand -hex 16)
echo "$APP_PW" >"$TMP/app.password"
echo "$MIG_PW" >"$TMP/mig.password"
# The data set (~0.5 GiB with its indexes) held in memory, as a production buffer pool would;
# testdb.sh's 64 MiB would measure the disk instead.
mariadb_root "$TMP/db" <<SQL
SET GLOBAL innodb_buffer_pool_size = 1073741824;
CREATE DATABASE access CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'access_migrator'@'127.0.0.1' IDENTIFIED BY '$MIG_PW';
GRANT ALL PRIVILEGES ON access.* TO 'access_migrator'@'127.0.0.1';
CREATE USER 'access'@'127.0.0.1' IDENTIFIED BY '$APP_PW';
GRANT SELECT, INSERT, UPDATE, DELETE ON access.* TO 'access'@'127.0.0.1';
SQL
"$BIN/access_server" --migrate_only --db_port="$DB_PORT" --db_user=access_migrator \
  --db_schema=access --db_password_file="$TMP/mig.password" 2>"$TMP/migrate.log" ||
  { cat "$TMP/migrate.log" >&2; die "migrations failed"; }

mkdir -p "$TMP/keys"
"$BIN/cpts-token" --generate_dev_keys="$TMP/keys" >/dev/null
"$BIN/cpts_field_keys" generate "$TMP/keys/field-keys.txt" >/dev/null
ISSUER=cpts-bench
AUDIENCE=cpts
token() { # file tenant subject roles
  "$BIN/cpts-token" --key="$TMP/keys/dev-jwt-private.pem" --issuer=$ISSUER --audience=$AUDIENCE \
    --tenant="$2" --subject="$3" --roles="$4" --ttl=4h >"$1"
}
token "$TMP/coordinator.jwt" bench-t001 bench-coordinator coordinator
token "$TMP/sas.jwt" bench-t001 bench-sas sas_regulator
token "$TMP/coordinator-m.jwt" bench-m001 bench-coordinator coordinator

# Slots from tomorrow (UTC) for 358 days; the windows measured are far from the slots the
# booking points consume (numbers 0.. upward: about 2 800 slots a day).
FIRST_DAY=$(date -u -d tomorrow +%Y-%m-%d)
DAY0=$(date -u -d "$FIRST_DAY" +%s)
SEARCH_FROM=$((DAY0 + 340 * 86400)) # slots ~952 000..
FHIR_FROM=$((DAY0 + 345 * 86400))   # slots ~966 000..
CONTENTION_OFFSET=880000             # 2 x rounds slots
load_data() { # tenants tenant-prefix
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN/cpts-bench-access-data" --tenants="$1" --tenant_prefix="$2" --gps=200 --slots=1000000 \
    --mt_requests=50000 --first_day="$FIRST_DAY" --field_key_file="$TMP/keys/field-keys.txt" |
    mariadb_root "$TMP/db" access
  t1=$(date +%s.%N)
  printf '{"step":"load","tenants":%s,"tenant_prefix":"%s","seconds":%.1f,"slots_in_table":%s,"mt_requests_in_table":%s,"professionals_in_table":%s}\n' \
    "$1" "$2" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    "$(mariadb_root "$TMP/db" -N -e 'SELECT COUNT(*) FROM access.snp_slots')" \
    "$(mariadb_root "$TMP/db" -N -e 'SELECT COUNT(*) FROM access.mt_requests')" \
    "$(mariadb_root "$TMP/db" -N -e 'SELECT COUNT(*) FROM access.snp_professionals')" \
    >>"$RES/setup.jsonl"
  tail -1 "$RES/setup.jsonl" >&2
}
log "loading 1 000 000 slots, 200 GPs, 50 000 MT requests (one tenant)"
load_data 1 bench-t

# --- 2. Servers.
start_access() {
  rm -f "$TMP/access.ready"
  "$BIN/access_server" --grpc_address=127.0.0.1 --grpc_port=0 --http_address=127.0.0.1 \
    --http_port=0 --fhir_address=127.0.0.1 --fhir_port=0 --db_port="$DB_PORT" --db_user=access \
    --db_schema=access --db_password_file="$TMP/app.password" --jwt_issuer=$ISSUER \
    --jwt_audience=$AUDIENCE --jwt_public_key_file="$TMP/keys/dev-jwt-public.pem" \
    --service_key_file="$TMP/keys/dev-jwt-private.pem" \
    --membership_address="127.0.0.1:$(free_port)" \
    --field_key_file="$TMP/keys/field-keys.txt" --ready_file="$TMP/access.ready" \
    >/dev/null 2>>"$TMP/access.log" &
  ACCESS_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$TMP/access.ready" ] && break
    kill -0 "$ACCESS_PID" 2>/dev/null || { tail -20 "$TMP/access.log" >&2; die "access_server did not start"; }
    sleep 0.1
  done
  [ -s "$TMP/access.ready" ] || die "access_server wrote no ready file"
  ACCESS_PORT=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' "$TMP/access.ready")
  FHIR_PORT=$(sed -n 's/.*"fhir_port":\([0-9]*\).*/\1/p' "$TMP/access.ready")
}
start_raw() {
  rm -f "$TMP/raw.ready"
  "$BIN/cpts-bench-access-raw" --port=0 --db_port="$DB_PORT" --db_user=access --db_schema=access \
    --db_password_file="$TMP/app.password" --db_pool_size=32 \
    --field_key_file="$TMP/keys/field-keys.txt" --ready_file="$TMP/raw.ready" \
    >/dev/null 2>"$TMP/raw.log" &
  RAW_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$TMP/raw.ready" ] && break
    kill -0 "$RAW_PID" 2>/dev/null || { cat "$TMP/raw.log" >&2; die "raw server did not start"; }
    sleep 0.1
  done
  RAW_PORT=$(sed -n 's/.*"grpc_port":\([0-9]*\).*/\1/p' "$TMP/raw.ready")
}
start_access
start_raw
log "access_server pid $ACCESS_PID (grpc $ACCESS_PORT, fhir $FHIR_PORT); raw pid $RAW_PID ($RAW_PORT)"

sleep 5
rss_line() { # label
  printf '{"step":"rss","label":"%s","rss_kib":%s,"threads":%s,"elapsed_s":%s}\n' "$1" \
    "$(rss_kib "$ACCESS_PID")" "$(find "/proc/$ACCESS_PID/task" -mindepth 1 -maxdepth 1 | wc -l)" \
    "${2:-0}" >>"$RES/rss.jsonl"
}
rss_line idle_after_start

# --- 3. The points.
NEXT_BOOK=0
if [ "$EXTRAS" = 1 ]; then BOOK_LIMIT=700000; else BOOK_LIMIT=$((CONTENTION_OFFSET - 10000)); fi
run_point() { # data run stack op C [param...]
  local data=$1 run=$2 stack=$3 op=$4 c=$5 port pid token_flag=() params qps
  shift 5
  if [ "$stack" = raw ]; then port=$RAW_PORT pid=$RAW_PID; else port=$ACCESS_PORT pid=$ACCESS_PID; fi
  if [ "$stack" = access ]; then
    if [ "$data" = multi ]; then token_flag=(--bearer_token_file="$TMP/coordinator-m.jwt")
    else token_flag=(--bearer_token_file="$TMP/coordinator.jwt"); fi
  fi
  params=$(IFS=,; echo "$*")
  if [ "$op" = book_slot ]; then params="offset=$NEXT_BOOK"; fi
  wait_until_quiet busy
  "$BIN/cpts-load" --target="127.0.0.1:$port" --scenario="$stack.$op" --param="$params" \
    --concurrency="$c" --channels=4 --threads=1 --warmup="${WARMUP}s" --duration="${DURATION}s" \
    "${token_flag[@]}" --watch_pid="server=$pid,mariadb=$DB_PID" \
    --tag="data=$data,run=$run,stack=$stack,load_avg=$(load1)" >"$TMP/point.json" 2>"$TMP/load.err" ||
    { cat "$TMP/load.err" >&2; die "load failed: $data $stack.$op C=$c"; }
  cat "$TMP/point.json" >>"$RES/points.jsonl"
  qps=$(field qps "$(cat "$TMP/point.json")")
  if [ "$op" = book_slot ]; then
    # Every call (warm-up included) took a slot number: skip well past them.
    NEXT_BOOK=$(awk -v n="$NEXT_BOOK" -v q="$qps" -v t="$((WARMUP + DURATION))" -v c="$c" \
      'BEGIN { printf "%d", n + q * t * 1.5 + 1000 + c }')
    # Slot numbers up to CONTENTION_OFFSET are free for the points; the RSS run needs some.
    [ "$NEXT_BOOK" -lt "$BOOK_LIMIT" ] || die "out of bookable slots (next $NEXT_BOOK)"
  fi
  log "$data $stack.$op C=$c run $run: $(grep -o '[0-9]* calls/s.*' "$TMP/load.err" | head -1)"
}
communes=$(seq -f '690%02g' 1 20 | paste -sd: -)

wait_until_quiet load
log "$(nproc) cores, load average $(load1); $RUNS runs of 8 points, ${WARMUP}s + ${DURATION}s each"
for run in $(seq 1 "$RUNS"); do
  for op in search_slots book_slot; do
    for c in 8 32; do
      # Alternate which stack goes first, so that slow drifts hit both alike.
      if [ $((run % 2)) = 1 ]; then order="raw access"; else order="access raw"; fi
      for stack in $order; do
        run_point single "$run" "$stack" "$op" "$c" "communes=$communes" "from=$SEARCH_FROM" \
          hours=72 tenant=bench-t001
      done
    done
  done
done
rss_line idle_after_points

if [ "$EXTRAS" = 0 ]; then
  write_table "$RES" >"$RES/table.md"
  cat "$RES/table.md"
  log "results: $RES"
  exit 0
fi

# --- 4. FHIR search.
wait_until_quiet busy
"$BIN/cpts-bench-fhir-probe" --port="$FHIR_PORT" --bearer_token_file="$TMP/sas.jwt" \
  --from="$FHIR_FROM" --hours=72 --requests=500 --warmup=20 >>"$RES/fhir.jsonl" ||
  log "FHIR probe reported failures (see fhir.jsonl)"
tail -1 "$RES/fhir.jsonl" >&2

# --- 5. Contention.
wait_until_quiet busy
"$BIN/cpts-bench-access-contention" --target="127.0.0.1:$ACCESS_PORT" \
  --bearer_token_file="$TMP/coordinator.jwt" --callers=64 --rounds="$ROUNDS" \
  --offset="$CONTENTION_OFFSET" >>"$RES/contention.jsonl" || log "contention: not exactly one success every round"
tail -1 "$RES/contention.jsonl" >&2
"$BIN/cpts-bench-access-contention" --target="127.0.0.1:$RAW_PORT" --raw --callers=64 \
  --rounds="$ROUNDS" --offset="$((CONTENTION_OFFSET + ROUNDS))" >>"$RES/contention.jsonl" ||
  log "contention (raw): not exactly one success every round"
tail -1 "$RES/contention.jsonl" >&2

# --- 6. RSS under load: search (C=28) and book (C=4: the slot numbers left before the
# contention range are limited; past 880 000 bookings fail and are counted) together, sampled
# every 10 s.
wait_until_quiet busy
rss_line before_load 0
"$BIN/cpts-load" --target="127.0.0.1:$ACCESS_PORT" --scenario=access.search_slots \
  --param="communes=$communes,from=$SEARCH_FROM,hours=72" --concurrency=28 --channels=4 \
  --warmup=1s --duration="${RSS_LOAD}s" --bearer_token_file="$TMP/coordinator.jwt" \
  --tag="data=rss,stack=access" >"$TMP/rss-search.json" 2>/dev/null &
search_pid=$!
"$BIN/cpts-load" --target="127.0.0.1:$ACCESS_PORT" --scenario=access.book_slot \
  --param="offset=$NEXT_BOOK" --concurrency=4 --channels=4 --warmup=1s \
  --duration="${RSS_LOAD}s" --bearer_token_file="$TMP/coordinator.jwt" \
  --tag="data=rss,stack=access" >"$TMP/rss-book.json" 2>/dev/null &
book_pid=$!
for s in $(seq 10 10 "$((RSS_LOAD + 1))"); do
  sleep 10
  rss_line under_load "$s"
done
wait "$search_pid" "$book_pid" || log "a load of the RSS run failed"
sed 's/^{/{"step":"rss_load",/' "$TMP/rss-search.json" "$TMP/rss-book.json" >>"$RES/rss.jsonl"
sleep 10
rss_line idle_after_load

# --- 7. 100 tenants.
if [ "$MULTI" = 1 ]; then
  log "loading the same data over 100 tenants (prefix bench-m)"
  load_data 100 bench-m
  wait_until_quiet busy
  for run in $(seq 1 "$RUNS"); do
    for c in 8 32; do
      for stack in raw access; do
        # Tenant bench-m001 holds GPs 0 and 100, both in commune 69001.
        run_point multi "$run" "$stack" search_slots "$c" communes=69001 \
          "from=$SEARCH_FROM" hours=72 tenant=bench-m001
      done
    done
  done
fi

write_table "$RES" >"$RES/table.md"
cat "$RES/table.md"
log "results: $RES"
