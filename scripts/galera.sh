#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on loopback, for availability tests and local failover trials
# (docs/availability.md). Node n (1..3) lives in DIR/n<n>; its ports derive from BASEPORT:
#   client BASEPORT+n, group communication BASEPORT+10+n, IST BASEPORT+20+n, SST BASEPORT+30+n.
#
#   scripts/galera.sh start DIR [BASEPORT]  initialise the nodes on first use, bootstrap node 1,
#                                           join nodes 2 and 3 (full state transfer, rsync), wait
#                                           until all three are Synced, and print on stdout:
#                                             export CPTS_GALERA_HOSTS=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3
#                                             export CPTS_GALERA_ADMIN=cpts_admin:PASSWORD
#                                           (so: eval "$(scripts/galera.sh start /tmp/cpts-galera)")
#   scripts/galera.sh stop DIR              clean shutdown of every running node
#   scripts/galera.sh kill DIR NODE         SIGKILL one node (a crash: no goodbye to the cluster)
#   scripts/galera.sh restart DIR NODE      start a stopped or killed node again; it rejoins
#   scripts/galera.sh env DIR               print the export lines again
#   scripts/galera.sh status DIR            one line per node: pid, size, state, primary
#
# BASEPORT defaults to 3310. Settings as scripts/testdb.sh (durability traded for speed) plus the
# Galera ones of TOOLCHAIN.md section 5, with evs.* timeouts that evict a dead node in ~3 s.
# As root, the nodes run as the `mysql` user (rsync state transfer cannot enter a root-owned
# data directory); as any other user, as that user. Writes must go to ONE node at a time (see
# docs/availability.md: certification conflicts, Jepsen's lost writes with several writers).
set -euo pipefail

usage() {
  sed -n '2,19p' "$0" >&2
  exit 2
}

find_exe() {
  local name=$1 dir
  for dir in ${PATH//:/ } /usr/sbin /usr/local/sbin /sbin /usr/bin; do
    if [[ -x "$dir/$name" ]]; then
      echo "$dir/$name"
      return 0
    fi
  done
  echo "galera.sh: $name not found (install mariadb-server galera-4 rsync: scripts/install-deps.sh)" >&2
  return 1
}

PROVIDER=/usr/lib/galera/libgalera_smm.so

node_dir() { echo "$DIR/n$1"; }
base_port() { sed -n 's/^base_port=//p' "$DIR/cluster.conf"; }
client_port() { echo $(($(base_port) + $1)); }

# Alive and not a zombie (a killed node may linger as one when the machine's init does not reap).
alive() {
  kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

running_pid() {
  local pidfile pid
  pidfile="$(node_dir "$1")/mysqld.pid"
  [[ -f "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  echo "$pid"
}

print_env() {
  local base
  base=$(base_port)
  echo "export CPTS_GALERA_HOSTS=127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2)),127.0.0.1:$((base + 3))"
  echo "export CPTS_GALERA_ADMIN=cpts_admin:$(<"$DIR/admin_password")"
}

# SQL on node $1 as the administrator, over TCP; output without headers.
sql() {
  local n=$1
  shift
  "$MARIADB" --protocol=TCP -h127.0.0.1 -P"$(client_port "$n")" -ucpts_admin \
    --password="$(<"$DIR/admin_password")" --connect-timeout=1 -N -B "$@" 2>/dev/null
}

status_value() { sql "$1" -e "SHOW STATUS LIKE '$2'" | cut -f2; }

write_config() {
  local n=$1 base=$2 d user
  d=$(node_dir "$n")
  user=$(id -un)
  [[ $(id -u) -eq 0 ]] && user=mysql
  cat >"$d/my.cnf" <<EOF
[client]
port=$((base + n))
socket=$d/mysqld.sock
default-character-set=utf8mb4
[mariadbd]
user=$user
datadir=$d/data
socket=$d/mysqld.sock
pid-file=$d/mysqld.pid
log-error=$d/error.log
tmpdir=$d/tmp
port=$((base + n))
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
innodb_use_native_aio=0
max_connections=500
# Galera counts as binary logging: without this, a migrator without SUPER cannot create the
# triggers of the audit and ledger tables (error 1419). Production Galera needs it too.
log_bin_trust_function_creators=1
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=cpts_test_cluster
wsrep_cluster_address=gcomm://127.0.0.1:$((base + 11)),127.0.0.1:$((base + 12)),127.0.0.1:$((base + 13))
wsrep_node_name=node$n
wsrep_node_address=127.0.0.1:$((base + 10 + n))
wsrep_node_incoming_address=127.0.0.1:$((base + n))
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$((base + 10 + n));ist.recv_addr=127.0.0.1:$((base + 20 + n));gcache.size=64M;evs.keepalive_period=PT0.5S;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.inactive_check_period=PT0.5S"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:$((base + 30 + n))
EOF
}

# Starts node $1 (bootstrapping a new cluster when $2 is "new") and waits until it is Synced.
start_node() {
  local n=$1 mode=${2:-join} d pid extra=()
  d=$(node_dir "$n")
  if pid=$(running_pid "$n"); then
    echo "galera.sh: node $n already running (pid $pid)" >&2
    return 0
  fi
  [[ "$mode" == new ]] && extra=(--wsrep-new-cluster)
  [[ $(id -u) -eq 0 ]] && chown -R mysql: "$d"
  # setsid: the node must not die with the calling shell's session or its Ctrl-C.
  # --defaults-file must be the first argument.
  setsid "$MARIADBD" --defaults-file="$d/my.cnf" "${extra[@]}" </dev/null >>"$d/mariadbd.out" 2>&1 &
  local server_pid=$!
  for _ in $(seq 1 1200); do
    if [[ "$(status_value "$n" wsrep_local_state_comment)" == Synced ]]; then
      return 0
    fi
    if ! alive "$server_pid"; then
      echo "galera.sh: node $n exited; last lines of $d/error.log:" >&2
      tail -n 20 "$d/error.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "galera.sh: node $n not Synced after 120 s; see $d/error.log" >&2
  exit 1
}

start() {
  local base=$1 n
  MARIADBD=$(find_exe mariadbd)
  [[ -r "$PROVIDER" ]] || { echo "galera.sh: $PROVIDER missing (install galera-4)" >&2; exit 1; }
  find_exe rsync >/dev/null
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if [[ ${#DIR} -gt 90 ]]; then
    echo "galera.sh: $DIR is too long for a Unix socket path" >&2
    exit 1
  fi
  if [[ -f "$DIR/cluster.conf" ]]; then
    base=$(base_port)
  else
    echo "base_port=$base" >"$DIR/cluster.conf"
  fi
  # As root the nodes run as mysql, which must be able to reach its data directory.
  [[ $(id -u) -eq 0 ]] && chmod 755 "$DIR"
  for n in 1 2 3; do
    mkdir -p "$(node_dir "$n")/tmp"
    write_config "$n" "$base"
  done
  if [[ ! -d "$(node_dir 1)/data/mysql" ]]; then
    local install_db password
    install_db=$(find_exe mariadb-install-db)
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    (umask 077 && printf '%s\n' "$password" >"$DIR/admin_password")
    (umask 077 && cat >"$DIR/init.sql" <<EOF
FLUSH PRIVILEGES;
CREATE USER 'cpts_admin'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'cpts_admin'@'127.0.0.1' WITH GRANT OPTION;
EOF
    )
    mkdir -p "$(node_dir 2)/data" "$(node_dir 3)/data"
    [[ $(id -u) -eq 0 ]] && chown -R mysql: "$DIR"/n1 "$DIR"/n2 "$DIR"/n3
    # Only node 1 is initialised: nodes 2 and 3 receive its data by state transfer.
    if ! "$install_db" --defaults-file="$(node_dir 1)/my.cnf" --skip-test-db --wsrep-on=OFF \
      --extra-file="$DIR/init.sql" >"$(node_dir 1)/install.log" 2>&1; then
      echo "galera.sh: mariadb-install-db failed; see $(node_dir 1)/install.log" >&2
      exit 1
    fi
    rm -f "$DIR/init.sql"
  fi
  # The node that may bootstrap: node 1 on first start; after a full stop, the one whose
  # grastate.dat says safe_to_bootstrap (the last one to leave).
  local first=1
  for n in 1 2 3; do
    if grep -q '^safe_to_bootstrap: 1' "$(node_dir "$n")/data/grastate.dat" 2>/dev/null; then
      first=$n
    fi
  done
  if running_pid 1 >/dev/null || running_pid 2 >/dev/null || running_pid 3 >/dev/null; then
    for n in 1 2 3; do start_node "$n" join; done
  else
    start_node "$first" new
    for n in 1 2 3; do [[ $n == "$first" ]] || start_node "$n" join; done
  fi
  print_env
}

stop_node() {
  local n=$1 pid
  pid=$(running_pid "$n") || return 0
  kill -TERM "$pid"
  for _ in $(seq 1 600); do
    alive "$pid" || return 0
    sleep 0.1
  done
  echo "galera.sh: node $n (pid $pid) ignored SIGTERM for 60 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

check_node() {
  [[ "${1:-}" =~ ^[123]$ ]] || usage
}

[[ $# -ge 2 ]] || usage
COMMAND=$1
DIR=$2
MARIADB=$(find_exe mariadb)
case "$COMMAND" in
  start)
    BASE=${3:-3310}
    [[ "$BASE" =~ ^[0-9]+$ ]] || usage
    start "$BASE"
    ;;
  stop)
    [[ -f "$DIR/cluster.conf" ]] || exit 0
    # Nodes 3, 2, then 1: the last to leave is safe to bootstrap the next start.
    for n in 3 2 1; do stop_node "$n"; done
    ;;
  kill)
    check_node "${3:-}"
    pid=$(running_pid "$3") || { echo "galera.sh: node $3 not running" >&2; exit 1; }
    kill -KILL "$pid"
    ;;
  restart)
    check_node "${3:-}"
    MARIADBD=$(find_exe mariadbd)
    DIR=$(cd "$DIR" && pwd)
    start_node "$3" join
    ;;
  env)
    [[ -f "$DIR/admin_password" ]] || { echo "galera.sh: no cluster in $DIR" >&2; exit 1; }
    print_env
    ;;
  status)
    [[ -f "$DIR/cluster.conf" ]] || { echo "galera.sh: no cluster in $DIR" >&2; exit 1; }
    for n in 1 2 3; do
      if pid=$(running_pid "$n"); then
        echo "node$n pid=$pid port=$(client_port "$n") size=$(status_value "$n" wsrep_cluster_size)" \
          "state=$(status_value "$n" wsrep_local_state_comment)" \
          "status=$(status_value "$n" wsrep_cluster_status)"
      else
        echo "node$n down"
      fi
    done
    ;;
  *) usage ;;
esac
