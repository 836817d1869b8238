# shellcheck shell=bash
# Sourced by the mariadb image's docker-entrypoint.sh on the first start (empty data
# directory), which provides docker_process_sql. Per service: a schema, a migrator user (ALL on
# the schema, used by the migration Job) and an app user (SELECT, INSERT, UPDATE, DELETE only),
# with the passwords of the Secrets <svc>-migrator-db and <svc>-db, mounted under
# /etc/cpts/users/<user>/password. No password is in this file or in the repository.
cpts_sql_string() { # the file's content as a quoted SQL string literal
  local v
  v=$(cat "$1")
  v=${v//\\/\\\\}
  v=${v//\'/\'\'}
  printf "'%s'" "$v"
}
# Every deployed service (a new one joins the list, and the statefulset mounts its Secrets).
for cpts_svc in membership projects finance access; do
  cpts_app=$(cpts_sql_string "/etc/cpts/users/$cpts_svc/password")
  cpts_mig=$(cpts_sql_string "/etc/cpts/users/${cpts_svc}_migrator/password")
  docker_process_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`$cpts_svc\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '${cpts_svc}_migrator'@'%' IDENTIFIED BY $cpts_mig;
GRANT ALL PRIVILEGES ON \`$cpts_svc\`.* TO '${cpts_svc}_migrator'@'%';
CREATE USER IF NOT EXISTS '$cpts_svc'@'%' IDENTIFIED BY $cpts_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$cpts_svc\`.* TO '$cpts_svc'@'%';
SQL
done
unset cpts_svc cpts_app cpts_mig
