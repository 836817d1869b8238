#!/usr/bin/env bash
# A private MariaDB for tests and local runs: own data directory, 127.0.0.1 only, no systemd.
#
#   scripts/testdb.sh start DIR [PORT]   initialise DIR on first use, start mariadbd, wait until it
#                                        answers, and print on stdout:
#                                          export CPTS_TEST_MARIADB=127.0.0.1:PORT:cpts_admin:PASSWORD
#                                        (so: eval "$(scripts/testdb.sh start /tmp/cpts-db)")
#   scripts/testdb.sh stop DIR           clean shutdown (SIGTERM, SIGKILL after 60 s)
#   scripts/testdb.sh env DIR            print the export line of a running server again
#   scripts/testdb.sh status DIR         exit 0 when running
#
# PORT defaults to 3307. The administrator cpts_admin@127.0.0.1 gets a random password at
# initialisation, kept in DIR/admin_password (mode 600). Same server settings as the C++ harness
# (services/platform/testing/mariadb_server.cc): durability traded for speed, utf8mb4, no binlog.
# Works as root (user=root in my.cnf, which mariadbd otherwise refuses) and as any other user.
set -euo pipefail

usage() {
  sed -n '2,16p' "$0" >&2
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
  echo "testdb.sh: $name not found (install mariadb-server: scripts/install-deps.sh)" >&2
  return 1
}

# PID of the server of DIR when it is running, else nothing.
running_pid() {
  local pid
  [[ -f "$DIR/mysqld.pid" ]] || return 1
  pid=$(<"$DIR/mysqld.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

print_env() {
  local port password
  port=$(sed -n 's/^port=//p' "$DIR/my.cnf" | head -n1)
  password=$(<"$DIR/admin_password")
  echo "export CPTS_TEST_MARIADB=127.0.0.1:${port}:cpts_admin:${password}"
}

ping_admin() {
  "$ADMIN" --defaults-file="$DIR/my.cnf" --protocol=TCP -h127.0.0.1 -ucpts_admin \
    --password="$(<"$DIR/admin_password")" --connect-timeout=1 --silent ping >/dev/null 2>&1
}

write_config() {
  local port=$1
  local user_line=""
  # mariadbd refuses to run as root unless told to.
  [[ $(id -u) -eq 0 ]] && user_line="user=root"
  cat >"$DIR/my.cnf" <<EOF
[client]
port=$port
socket=$DIR/mysqld.sock
default-character-set=utf8mb4
[mariadbd]
$user_line
datadir=$DIR/data
socket=$DIR/mysqld.sock
pid-file=$DIR/mysqld.pid
log-error=$DIR/error.log
# Private: at start-up mariadbd deletes every #sql* file of its tmpdir, which in a shared /tmp
# breaks another server being bootstrapped at the same moment.
tmpdir=$DIR/tmp
port=$port
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
innodb_use_native_aio=0
skip-log-bin
max_connections=500
EOF
}

start() {
  local port=$1
  MARIADBD=$(find_exe mariadbd)
  ADMIN=$(find_exe mariadb-admin)
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if [[ ${#DIR} -gt 90 ]]; then
    echo "testdb.sh: $DIR is too long for a Unix socket path" >&2
    exit 1
  fi
  if pid=$(running_pid); then
    echo "testdb.sh: already running (pid $pid)" >&2
    print_env
    return 0
  fi
  write_config "$port"
  mkdir -p "$DIR/tmp"
  if [[ ! -d "$DIR/data/mysql" ]]; then
    local install_db password
    install_db=$(find_exe mariadb-install-db)
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    (umask 077 && printf '%s\n' "$password" >"$DIR/admin_password")
    # Bootstrap runs without grant tables: FLUSH PRIVILEGES loads them so CREATE USER works.
    (umask 077 && cat >"$DIR/init.sql" <<EOF
FLUSH PRIVILEGES;
CREATE USER 'cpts_admin'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'cpts_admin'@'127.0.0.1' WITH GRANT OPTION;
EOF
    )
    if ! "$install_db" --defaults-file="$DIR/my.cnf" --skip-test-db \
      --extra-file="$DIR/init.sql" >"$DIR/install.log" 2>&1; then
      echo "testdb.sh: mariadb-install-db failed; see $DIR/install.log and $DIR/error.log" >&2
      tail -n 20 "$DIR/error.log" >&2 || true
      exit 1
    fi
    rm -f "$DIR/init.sql"
  fi
  # setsid: the server must not die with the calling shell's session or its Ctrl-C.
  # --defaults-file must be the first argument.
  setsid "$MARIADBD" --defaults-file="$DIR/my.cnf" </dev/null >>"$DIR/mariadbd.out" 2>&1 &
  local server_pid=$!
  for _ in $(seq 1 600); do
    if ping_admin; then
      print_env
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "testdb.sh: mariadbd exited; last lines of $DIR/error.log:" >&2
      tail -n 20 "$DIR/error.log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  echo "testdb.sh: mariadbd not answering after 60 s; see $DIR/error.log" >&2
  exit 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    echo "testdb.sh: not running" >&2
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "testdb.sh: mariadbd (pid $pid) ignored SIGTERM for 60 s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

[[ $# -ge 2 ]] || usage
COMMAND=$1
DIR=$2
case "$COMMAND" in
  start)
    PORT=${3:-3307}
    [[ "$PORT" =~ ^[0-9]+$ ]] || usage
    start "$PORT"
    ;;
  stop) stop ;;
  env)
    running_pid >/dev/null || { echo "testdb.sh: not running" >&2; exit 1; }
    print_env
    ;;
  status)
    if pid=$(running_pid); then
      echo "running (pid $pid)" >&2
    else
      echo "not running" >&2
      exit 1
    fi
    ;;
  *) usage ;;
esac
