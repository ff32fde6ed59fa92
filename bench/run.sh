#!/usr/bin/env bash
# Benchmarks the storefront against a bare handler of the same binary (GET /healthz), on
# loopback, with wrk. Reports requests per second, p99 latency, the server's CPU time per
# request (µs, from /proc: user + system) and the ratio to /healthz of the same run, for:
#   - GET /healthz                                  (the reference)
#   - the payment page of a signed-in shopper with 3 saved cards (sandbox adds 50 ms to CAPI LIST)
#   - POST /paytr/notify with pre-signed unique notifications (every answer must be OK)
#   - the back office's orders list (first page) of a signed-in owner
# then the server's resident memory.
# Usage: bench/run.sh [--pg] [seconds per run, default 10] [connections, default 32]
#   --pg: on a private PostgreSQL cluster started here (Debian's postgresql package) instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
pg=0
if [ "${1:-}" = "--pg" ]; then pg=1; shift; fi
secs=${1:-10}
conns=${2:-32}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet
bin="$PWD/target/release/paytr-checkout"
work=$(mktemp -d /tmp/paytr-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
base="http://127.0.0.1:$port"
cleanup() { kill "${server:-}" 2>/dev/null; wait "${server:-}" 2>/dev/null; [ $pg = 1 ] && su postgres -s /bin/sh -c "'$pg_bin/pg_ctl' -D '$work/pg' -m fast stop" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
export DATA_DIR="$work/data" LOG=warn BIND="127.0.0.1:$port" SANDBOX_LATENCY_MS=50 BILLING_INTERVAL_SECS=0
if [ $pg = 1 ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  pg_port=$(free_port)
  chmod 711 "$work"; mkdir "$work/pg" && chown postgres:postgres "$work/pg"
  su postgres -s /bin/sh -c "'$pg_bin/initdb' -D '$work/pg' -A trust -U postgres" >/dev/null
  su postgres -s /bin/sh -c "'$pg_bin/pg_ctl' -D '$work/pg' -l '$work/pg/log' -w -o '-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg' start" >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
else
  export DATABASE_URL="sqlite://$work/data/bench.db"
fi
echo "database: ${DATABASE_URL%%:*}"
"$bin" migrate >/dev/null
uri=$(echo "bench password 123" | "$bin" admin add-user --email owner@example.com --role owner 2>/dev/null)
(cd "$work" && exec "$bin" serve) &
server=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

python3 bench/setup.py "$base" "$work/data" "$work" 60000
python3 bench/backoffice.py login "$base" "$uri" "bench password 123" "$work"
cookie=$(cat "$work/cookie")
admin_cookie=$(cat "$work/admin_cookie")
pay_path=$(cat "$work/pay_path")

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
measure() { # name, wrk args...
  local name=$1; shift
  local out before after rps p99 requests
  before=$(cpu)
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$@")
  after=$(cpu)
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  printf '%s %s %s %s\n' "$name" "$rps" "$p99" \
    "$(awk -v a="$before" -v b="$after" -v r="$requests" -v t="$ticks" 'BEGIN {printf "%.0f", (b - a) / t * 1e6 / r}')" >>"$work/results"
  grep -E 'Non-2xx|not-OK|Socket errors' <<<"$out" | sed "s/^/  $name: /" || true
}
: >"$work/results"
measure healthz "$base/healthz"
measure checkout -H "Cookie: $cookie" "$base$pay_path"
measure notify -s "$work/notify.lua" "$base/paytr/notify"
measure orders -H "Cookie: $admin_cookie" "$base/admin/orders"
rss=$(awk '/VmRSS/ {print $2, $3}' "/proc/$server/status")

echo
printf '%-10s %12s %10s %14s %8s\n' endpoint req/s p99 server-µs/req ratio
ref=$(awk '$1=="healthz" {print $2}' "$work/results")
while read -r name rps p99 us; do
  printf '%-10s %12s %10s %14s %8.3f\n' "$name" "$rps" "$p99" "$us" "$(awk -v a="$rps" -v b="$ref" 'BEGIN {print a/b}')"
done <"$work/results"
echo "server resident memory after the run: $rss"
echo "aims: checkout >= 0.30 x healthz with p99 <= 10 ms, notify >= 0.10 x healthz with every answer OK, RSS <= 50 MB"
