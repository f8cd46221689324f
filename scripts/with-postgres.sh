#!/usr/bin/env bash
# with-postgres.sh -- run a command against a throwaway PostgreSQL server.
#
#   scripts/with-postgres.sh <command> [args...]
#
# Creates a cluster in a fresh temporary directory, listening on 127.0.0.1
# only (plus a Unix socket inside that directory), on a free TCP port, with
# scram-sha-256 password authentication for a database superuser "moolai"
# whose password is random. Creates the database, exports
#   DATABASE_HOST=127.0.0.1 DATABASE_PORT DATABASE_USER DATABASE_PASSWORD
#   DATABASE_NAME
#   MOOLAI_TEST_PG_CTL  (a pg_ctl wrapper for this cluster: stop/start/restart)
# runs the command, then stops the server and deletes the directory, and
# exits with the command's status.
#
# Runs as a normal user or as root; initdb refuses root, so as root the
# server runs as the `postgres` system user (override: MOOLAI_PG_USER).
# The cluster trades durability for speed (fsync off): tests only.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

pg_bin=${PG_BIN:-}
if [ -z "$pg_bin" ]; then
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then pg_bin=$d; break; fi
  done
fi
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "with-postgres: initdb not found (install postgresql, or set PG_BIN)" >&2
  exit 2
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/moolai-pg.XXXXXX")
as_server=()
if [ "$(id -u)" -eq 0 ]; then
  server_user=${MOOLAI_PG_USER:-postgres}
  if ! id "$server_user" >/dev/null 2>&1; then
    echo "with-postgres: running as root needs the system user '$server_user'" >&2
    rm -rf "$dir"
    exit 2
  fi
  chown "$server_user": "$dir"
  as_server=(runuser -u "$server_user" --)
fi
chmod 700 "$dir"

cleanup() {
  "${as_server[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
(umask 077; printf '%s\n' "$password" >"$dir/pwfile")
[ ${#as_server[@]} -eq 0 ] || chown "$server_user": "$dir/pwfile"

# The default collation is ICU en-US, as on most production servers (not
# bytewise "C"), so the tests prove the schema does not depend on the
# server's locale. A server built without ICU falls back to C.
initdb() {
  "${as_server[@]}" "$pg_bin/initdb" -D "$dir/data" -U moolai --pwfile="$dir/pwfile" \
    --auth=scram-sha-256 -E UTF8 --no-sync "$@" >"$dir/initdb.log" 2>&1
}
initdb --locale=C --locale-provider=icu --icu-locale=en-US ||
  { rm -rf "$dir/data"; initdb --no-locale; } || {
  cat "$dir/initdb.log" >&2
  exit 1
}
rm -f "$dir/pwfile"

# A port nobody listens on now. Another process may take it before the
# server binds; then start fails and the next candidate is tried.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=0
for _ in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 40000))
  port_in_use "$port" && continue
  # Settings go into the cluster's config so pg_ctl start/restart reuse them.
  cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
  [ ${#as_server[@]} -eq 0 ] || chown "$server_user": "$dir/data/postgresql.auto.conf"
  if "${as_server[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 20 start >/dev/null 2>&1; then
    started=1
    break
  fi
done
if [ "$started" -ne 1 ]; then
  echo "with-postgres: the server did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
fi

export DATABASE_HOST=127.0.0.1 DATABASE_PORT=$port DATABASE_USER=moolai DATABASE_PASSWORD=$password
export DATABASE_NAME=moolai_test
PGPASSWORD=$password "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U moolai "$DATABASE_NAME"

# For tests that stop, start or restart the server: $MOOLAI_TEST_PG_CTL restart
cat >"$dir/pg_ctl.sh" <<EOF
#!/bin/sh
exec ${as_server[*]} "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 20 -m fast "\$@"
EOF
chmod 755 "$dir/pg_ctl.sh"
export MOOLAI_TEST_PG_CTL=$dir/pg_ctl.sh

set +e
"$@"
status=$?
set -e
exit "$status"
