#!/usr/bin/env bash
# bench/chat.sh — chat delivery benchmark of Zhiqilian, one command:
#
#     bash bench/chat.sh
#
# What it does (all on loopback, data in a scratch folder under $TMPDIR):
#   1. builds the release binaries (zhiqilian and chat-bench);
#   2. starts `zhiqilian serve` on a free 127.0.0.1 port (SQLite in the scratch folder, or
#      $DATABASE_URL, e.g. a fresh PostgreSQL database) and creates a platform admin;
#   3. runs chat-bench (bench/src/chat.rs): a community, two verified firms, a listing and a
#      thread; firm a posts $RATE messages/s for $DURATION s on a fixed schedule (never a closed
#      loop) while firm b's event stream, on another connection, waits for each: latency from the
#      scheduled send to the event's arrival, p50/p90/p99/max;
#   4. opens $STREAMS event streams of synthetic users ($FANOUT of them members of firm b, so
#      each message goes to $FANOUT + 1 streams), measures the server's RSS and CPU while idle
#      for $IDLE s, then runs the latency step again with them open;
#   5. prints the JSON figures and a markdown summary, and writes both to $OUT_DIR.
#
# Knobs (defaults in brackets): RATE [100] DURATION [30] STREAMS [5000] FANOUT [50] IDLE [30]
#   WORKERS [unset: CPU count] DATABASE_URL [sqlite in the scratch folder] SKIP_BUILD [0]
#   CARGO_TARGET_DIR [target] KEEP [0] OUT_DIR [$TMPDIR/zql-chat-bench-DATE]
# Load generator and server share the machine; CPU and RSS are the server process's, with the
# CPU of the load generator and of everything else on the machine (noise) beside them.

set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

RATE=${RATE:-100}
DURATION=${DURATION:-30}
STREAMS=${STREAMS:-5000}
FANOUT=${FANOUT:-50}
IDLE=${IDLE:-30}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
TARGET=${CARGO_TARGET_DIR:-target}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/zql-chat-bench.XXXXXX")
OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/zql-chat-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT_DIR"

# Each held stream is a socket on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $((STREAMS + 1000)) ]]; then
  echo "open-file limit $(ulimit -n) is too low for $STREAMS streams" >&2
  exit 1
fi

server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [[ $KEEP == 1 ]] || rm -rf "$SCRATCH"
}
trap cleanup EXIT

if [[ $SKIP_BUILD != 1 ]]; then
  echo "building release binaries" >&2
  cargo build -q --release -p zhiqilian -p zhiqilian-bench --bin zhiqilian --bin chat-bench
fi
BIN="$TARGET/release"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ZQL_DATA_DIR="$SCRATCH/data"
export ZQL_BIND="127.0.0.1:$PORT"
export ZQL_JWT_SECRET="chat-bench-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ZQL_LOG=warn
# Every stream and post comes from one loopback address standing in for many users: the
# per-address rate limits would turn them into 429s.
export ZQL_RATE_LIMIT_IP_PER_MINUTE=10000000 ZQL_RATE_LIMIT_AUTH_PER_MINUTE=10000000
# Many listings, urgent requests and messages from a few users: raise the
# per-firm and per-user allowances (they have tests of their own).
export ZQL_LISTING_LIMIT_PER_FIRM_PER_HOUR=10000000 ZQL_LISTING_LIMIT_PER_USER_PER_HOUR=10000000 \
  ZQL_EMERGENCY_LIMIT_PER_FIRM_PER_DAY=10000000 ZQL_EMERGENCY_LIMIT_PER_USER_PER_DAY=10000000 \
  ZQL_MESSAGE_LIMIT_PER_FIRM_PER_MINUTE=10000000 ZQL_MESSAGE_LIMIT_PER_USER_PER_MINUTE=10000000 \
  ZQL_EVENTS_MAX_STREAMS_PER_USER=100000
[[ -n ${DATABASE_URL:-} ]] && export ZQL_DATABASE_URL="$DATABASE_URL"
[[ -n ${WORKERS:-} ]] && export ZQL_WORKERS="$WORKERS"

echo 'bench-Admin-Passw0rd' | "$BIN/zhiqilian" admin create --login bench-admin@park.example --password-stdin >/dev/null
"$BIN/zhiqilian" serve >"$OUT_DIR/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 200); do
  curl -sf "http://$ZQL_BIND/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "machine: nproc $(nproc), $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); code $(git rev-parse --short HEAD); database $([[ -n ${DATABASE_URL:-} ]] && echo postgres || echo sqlite)" | tee "$OUT_DIR/machine.txt" >&2

"$BIN/chat-bench" --url "http://$ZQL_BIND" --secret "$ZQL_JWT_SECRET" \
  --admin-login bench-admin@park.example --admin-password 'bench-Admin-Passw0rd' \
  --pid "$server_pid" --rate "$RATE" --duration "$DURATION" --streams "$STREAMS" \
  --fanout "$FANOUT" --idle "$IDLE" | tee "$OUT_DIR/chat.json"

python3 - "$OUT_DIR/chat.json" <<'PY' | tee "$OUT_DIR/summary.md"
import json, sys
r = json.load(open(sys.argv[1]))
def lat(x):
    return f"{x['p50_ms']} | {x['p90_ms']} | {x['p99_ms']} | {x['max_ms']} | {x['delivered']}/{x['messages']}"
def load(x):
    return f"{x['server_cpu_cores']} | {x['server_rss_mib_peak']} | {x['bench_cpu_cores']} | {x['other_cpu_cores']}"
print("| run | p50 ms | p90 ms | p99 ms | max ms | delivered | server CPU (cores) | server RSS peak (MiB) | bench CPU | other CPU |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
print(f"| {r['rate']} msg/s, one subscriber | {lat(r['latency_one_subscriber'])} | {load(r['server_during_latency_one_subscriber'])} |")
s = r.get("streams")
if s:
    print(f"| {s['held']} streams held, idle {s['idle']['seconds']} s | | | | | | {load(s['idle'])} |")
    print(f"| {r['rate']} msg/s with {s['held']} streams held ({s['of_firm_b']} + 1 receive each message) | {lat(s['latency_while_held'])} | {load(s['server_while_messages_flow'])} |")
    print()
    print(f"streams opened in {s['opened_in_s']} s; server RSS before {s['server_rss_mib_before']} MiB; "
          f"messages received by the {s['of_firm_b']} other streams of firm b {s['fanned_out_messages_received']} of {s['fanned_out_messages_expected']}; "
          f"streams still open at the end {s['still_open_at_end']}")
PY
echo "results in $OUT_DIR" >&2
