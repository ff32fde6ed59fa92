#!/usr/bin/env bash
# Counts the CPU instructions the server executes per payment page (user space), under
# valgrind's callgrind. Unlike req/s and µs, the count repeats to within a fraction of a
# percent whatever else the machine is doing, so it tells a 3% change apart from noise:
# measure before and after a change with the same binary's build profile.
#   - the payment page of a signed-in shopper with 3 saved cards (as bench/run.sh);
#   - 50 pages to warm up (caches, prepared statements), counters zeroed, then N pages over
#     one keep-alive connection, one at a time; the count is divided by N.
# Kernel work (sending, waking the client, SQLite's file locks) is not counted: bench/run.sh's
# server µs includes it.
# Usage: bench/instructions.sh [binary, default: the release build] [pages, default 300]
# Top functions: callgrind_annotate --threshold=100 "$work"/callgrind.out.*.1 (kept with KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; }
if [ -n "${1:-}" ]; then bin=$(realpath "$1"); else cargo build --release --quiet; bin="$PWD/target/release/paytr-checkout"; fi
pages=${2:-300}
work=$(mktemp -d /tmp/paytr-instructions.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
cleanup() { kill "${server:-}" 2>/dev/null; wait "${server:-}" 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
export DATA_DIR="$work/data" LOG=warn BIND="127.0.0.1:$port" SANDBOX_LATENCY_MS=50 BILLING_INTERVAL_SECS=0
export DATABASE_URL="sqlite://$work/data/bench.db"
(cd "$work" && exec valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" "$bin" serve 2>"$work/valgrind.log") &
server=$!
for _ in $(seq 600); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
python3 bench/setup.py "$base" "$work/data" "$work" 1 >/dev/null
pages_of() { # count
  python3 - "$base" "$(cat "$work/cookie")" "$(cat "$work/pay_path")" "$1" <<'PY'
import http.client, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port)
for _ in range(int(sys.argv[4])):
    conn.request("GET", sys.argv[3], headers={"Cookie": sys.argv[2]})
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        sys.exit(f"the payment page answered {answer.status}")
PY
}
pages_of 50
callgrind_control -z "$server" >/dev/null 2>&1
pages_of "$pages"
callgrind_control -d "$server" >/dev/null 2>&1
total=$(awk '/^totals:/ {print $2}' "$work"/callgrind.out.*.1)
echo "payment page: $((total / pages)) instructions per page (user space, $pages pages, $(basename "$(dirname "$bin")") build)"
[ "${KEEP:-0}" = 1 ] && echo "profile kept in $work"
true
