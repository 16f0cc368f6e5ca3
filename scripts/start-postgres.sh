#!/usr/bin/env bash
# Start the machine's PostgreSQL 15 for the store tests and print the URL to use.
# As root: the Debian cluster (pg_ctlcluster); otherwise a private cluster with initdb + pg_ctl
# on port 54329 under $SHEQUN_PG_DIR (default /tmp/shequn-pg). Idempotent.
set -euo pipefail
DB=${SHEQUN_PG_DB:-shequn_test}
ROLE=${SHEQUN_PG_ROLE:-shequn}
PASS=${SHEQUN_PG_PASSWORD:-shequn}

if [ "$(id -u)" = "0" ] && command -v pg_ctlcluster >/dev/null; then
  if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main'; then
    pg_createcluster 15 main >/dev/null 2>&1
  fi
  pg_ctlcluster 15 main start >/dev/null 2>&1 || true
  PORT=$(pg_lsclusters -h | awk '$1=="15" && $2=="main" {print $3}')
  for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q -p $PORT" && break
    sleep 1
  done
  su postgres -c "psql -q -p $PORT -tc \"SELECT 1 FROM pg_roles WHERE rolname='$ROLE'\"" | grep -q 1 \
    || su postgres -c "psql -q -p $PORT -c \"CREATE ROLE $ROLE LOGIN PASSWORD '$PASS'\""  >/dev/null
  su postgres -c "psql -q -p $PORT -tc \"SELECT 1 FROM pg_database WHERE datname='$DB'\"" | grep -q 1 \
    || su postgres -c "psql -q -p $PORT -c \"CREATE DATABASE $DB OWNER $ROLE\"" >/dev/null
  echo "postgresql://$ROLE:$PASS@127.0.0.1:$PORT/$DB"
  exit 0
fi

BIN=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v initdb)")
DIR=${SHEQUN_PG_DIR:-/tmp/shequn-pg}
PORT=${SHEQUN_PG_PORT:-54329}
if [ ! -f "$DIR/PG_VERSION" ]; then
  mkdir -p "$DIR"
  "$BIN/initdb" -D "$DIR" -U "$ROLE" --auth=trust >/dev/null
fi
if ! "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1" -w start >/dev/null
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d postgres -tc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
  || "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d postgres -qc "CREATE DATABASE $DB"
echo "postgresql://$ROLE@127.0.0.1:$PORT/$DB"
