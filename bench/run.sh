#!/usr/bin/env bash
# Benchmarks the storefront against a bare handler of the same binary (GET /healthz), on
# loopback, with wrk. Reports requests per second and p99 latency of:
#   - GET /healthz                                  (the reference)
#   - the payment page of a signed-in shopper with 3 saved cards (sandbox adds 50 ms to CAPI LIST)
#   - POST /paytr/notify with pre-signed unique notifications
# each as a ratio to /healthz, and the server's resident memory afterwards.
# Usage: bench/run.sh [seconds per run, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-32}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet
work=$(mktemp -d /tmp/paytr-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
(cd "$work" && BIND="127.0.0.1:$port" DATA_DIR="$work/data" DATABASE_URL="sqlite://$work/data/bench.db" \
  SANDBOX_LATENCY_MS=50 LOG=warn exec "$OLDPWD/target/release/paytr-checkout" serve) &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

python3 bench/setup.py "$base" "$work/data" "$work" 60000
cookie=$(cat "$work/cookie")
pay_path=$(cat "$work/pay_path")

measure() { # name, wrk args...
  local name=$1; shift
  local out
  out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$@")
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  printf '%s %s %s\n' "$name" "$rps" "$p99" >>"$work/results"
  grep -E 'Non-2xx|not-OK|Socket errors' <<<"$out" | sed "s/^/  $name: /" || true
}
: >"$work/results"
measure healthz "$base/healthz"
measure checkout -H "Cookie: $cookie" "$base$pay_path"
measure notify -s "$work/notify.lua" "$base/paytr/notify"
rss=$(awk '/VmRSS/ {print $2, $3}' "/proc/$server/status")

echo
printf '%-10s %12s %10s %8s\n' endpoint req/s p99 ratio
ref=$(awk '$1=="healthz" {print $2}' "$work/results")
while read -r name rps p99; do
  printf '%-10s %12s %10s %8.2f\n' "$name" "$rps" "$p99" "$(awk -v a="$rps" -v b="$ref" 'BEGIN {print a/b}')"
done <"$work/results"
echo "server resident memory after the run: $rss"
echo "aims: checkout >= 0.30 x healthz, notify >= 0.08 x healthz with no valid notification answered other than OK"
