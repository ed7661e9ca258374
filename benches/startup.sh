#!/usr/bin/env bash
# Start-up time of a maatje binary (see BENCHMARKS.md, "Release build"): the time from exec to the
# first 200 of /v1/health/ready, N runs, on SQLite in a temporary directory, port 18181.
#   benches/startup.sh target/release/maatje warm 10   # the database exists and is migrated
#   benches/startup.sh target/release/maatje fresh 10  # a new database each run: migrations run
# Needs bash and curl.
set -u
BIN=$1; MODE=$2; N=${3:-10}
D=$(mktemp -d); cd "$D"
export MAATJE__SERVER__PORT=18181 MAATJE__DATABASE__URL="sqlite://$D/m.sqlite3" MAATJE__MAIL__WORKER_ENABLED=false MAATJE__MAIL__LINK_SECRET=0123456789abcdef0123456789abcdef MAATJE__LOG__LEVEL=warn MAATJE__WEBHOOKS__WORKER_ENABLED=false
if [ "$MODE" = warm ]; then "$BIN" migrate > /dev/null 2>&1; fi
for i in $(seq 1 "$N"); do
  [ "$MODE" = fresh ] && rm -f "$D"/m.sqlite3*
  t0=$(date +%s%N)
  "$BIN" > /dev/null 2>&1 & pid=$!
  until curl -sf -o /dev/null http://127.0.0.1:18181/v1/health/ready; do sleep 0.002; done
  t1=$(date +%s%N)
  kill $pid; wait $pid 2>/dev/null
  echo $(( (t1 - t0) / 1000000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "min %d ms, median %d ms, max %d ms (n=%d)\n", a[1], a[int((NR+1)/2)], a[NR], NR}'
rm -rf "$D"
