#!/usr/bin/env bash
# The back office at 1,000,000 orders: the order list's first page, a deep keyset page, a
# filtered page and an e-mail search, each against GET /healthz of the same run (wrk, loopback).
# Usage: bench/backoffice.sh [orders, default 1000000] [seconds per run, default 10]
#        (PostgreSQL: BENCH_DATABASE_URL=postgres://user@host/empty_db bench/backoffice.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-1000000}
secs=${2:-10}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet
bin="$PWD/target/release/paytr-checkout"
work=$(mktemp -d /tmp/paytr-bench-bo.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATA_DIR="$work/data" LOG=warn BIND="127.0.0.1:$port" PUBLIC_URL="$base" BILLING_INTERVAL_SECS=0
export DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$work/data/bench.db}
"$bin" migrate
echo "filling $orders orders into ${DATABASE_URL%%:*}…"
start=$(date +%s)
python3 bench/backoffice.py fill "$DATABASE_URL" "$orders"
echo "  took $(( $(date +%s) - start )) s"
uri=$(echo "bench password 123" | "$bin" admin add-user --email bench@example.com --role owner 2>/dev/null)
(cd "$work" && exec "$bin" serve) &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
python3 bench/backoffice.py login "$base" "$uri" "bench password 123" "$work"
cookie=$(cat "$work/admin_cookie")
middle=$(( orders / 2 ))

: >"$work/results"
measure() { # name, url (with the staff cookie)
  local out rps p99
  out=$(wrk -t2 -c16 -d"${secs}s" --latency -H "Cookie: $cookie" "$2")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%s %s %s\n' "$1" "$rps" "$p99" >>"$work/results"
  grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s/^/  $1: /" || true
}
# The first page must really list orders (not the log-in page).
curl -sf -H "Cookie: $cookie" "$base/admin/orders" | grep -q 'class="order-row"' || { echo "not logged in"; exit 1; }
measure healthz "$base/healthz"
measure first_page "$base/admin/orders"
measure deep_page "$base/admin/orders?before=$middle"
measure failed_deep "$base/admin/orders?status=failed&before=$middle"
measure email "$base/admin/orders?q=shopper4242@example.com"
measure amount "$base/admin/orders?min=10.00&max=10.20"

echo
printf '%-12s %10s %10s %8s\n' page req/s p99 ratio
ref=$(awk '$1=="healthz" {print $2}' "$work/results")
while read -r name rps p99; do
  printf '%-12s %10s %10s %8.3f\n' "$name" "$rps" "$p99" "$(awk -v a="$rps" -v b="$ref" 'BEGIN {print a/b}')"
done <"$work/results"
