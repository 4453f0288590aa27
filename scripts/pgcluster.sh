#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests and the demo.
#   scripts/pgcluster.sh start DIR   -> initdb + start on a free port; prints the URI,
#                                        also written to DIR/uri
#   scripts/pgcluster.sh stop DIR    -> stop it and remove DIR
# initdb refuses root, so the cluster runs as the `postgres` user. It listens
# on 127.0.0.1 only, trusts local connections except for the role
# `pgvise_pw` (password 'pgvise-secret'), which tests use to check password
# handling. hypopg, pg_stat_statements, pgstattuple and pg_qualstats are
# available; the last two of those need shared_preload_libraries, set here.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pgcluster.sh start|stop DIR}
dir=${2:?usage: pgcluster.sh start|stop DIR}

as_pg() {
  if [ "$(id -un)" = postgres ]; then "$@"; elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir" && chmod 700 "$dir"
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements,pg_qualstats'
pg_stat_statements.track = all
fsync = off
# synchronous_commit stays on: with fsync off a commit costs a write(), no
# flush, and VACUUM can mark a page all-visible only once the inserting
# commit is on disk (hint bits wait for the WAL flush). With it off, a
# VACUUM straight after an INSERT set the visibility map or not depending on
# whether the WAL writer had run (200 ms), and index-only-scan costs, hence
# the advisor's choice, flipped between runs of the same test.
synchronous_commit = on
full_page_writes = off
max_connections = 60
shared_buffers = 256MB
work_mem = 8MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
logging_collector = off
log_min_messages = warning
max_prepared_transactions = 10
CONF
  cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host all pgvise_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
HBA
  started=""
  for attempt in $(seq 1 20); do
    port=$(( 20000 + (RANDOM * 7 + $$ + attempt * 131) % 40000 ))
    if (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then continue; fi
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      started=1; break
    fi
  done
  [ -n "$started" ] || { cat "$dir/server.log" >&2; echo "pgcluster: could not start" >&2; exit 1; }
  echo "$port" >"$dir/port"
  psql_() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
  psql_ -d postgres -c "CREATE ROLE pgvise_pw LOGIN SUPERUSER PASSWORD 'pgvise-secret'" \
        -c "CREATE EXTENSION pg_stat_statements" -c "CREATE EXTENSION hypopg" \
        -c "CREATE EXTENSION pgstattuple" -c "CREATE EXTENSION pg_qualstats" >/dev/null
  # New databases get the extensions too.
  psql_ -d template1 -c "CREATE EXTENSION pg_stat_statements" -c "CREATE EXTENSION hypopg" \
        -c "CREATE EXTENSION pgstattuple" -c "CREATE EXTENSION pg_qualstats" >/dev/null
  uri="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "$uri" >"$dir/uri"
  echo "$uri"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pgcluster.sh start|stop DIR" >&2; exit 2 ;;
esac
