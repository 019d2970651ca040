#!/usr/bin/env bash
# bench/crossnode.sh — chat delivery latency across two nodes on one PostgreSQL database, one
# command:
#
#     bash bench/crossnode.sh
#     BEFORE_BIN=path/to/older/zhiqilian bash bench/crossnode.sh   # side by side with a baseline
#
# Per round and binary, `crossnode-bench` (bench/src/crossnode.rs) creates nothing but what it
# measures: a fresh database on $PG_URL (dropped afterwards), two `zhiqilian serve` processes
# (node A and node B, $WORKERS HTTP workers each) on it, a community, two verified firms, a
# listing and a thread. Firm b's event stream is held on node B; firm a posts $RATE messages/s
# for $DURATION s through node A (fixed schedule, never a closed loop). Figures per message:
# post acknowledged → event received on node B, and scheduled send → event received; lost =
# acknowledged messages never received (must be 0), duplicates; both nodes' CPU idle ($IDLE s,
# one stream open) and while messages flow.
#
# With BEFORE_BIN the rounds alternate (before, after, before, …) so both see the same machine;
# the summary gives each round and the medians per binary.
#
# Knobs [defaults]: RATE [100] DURATION [30] IDLE [10] ROUNDS [3] WORKERS [1]
#   PG_URL [postgres://postgres@127.0.0.1:5432] BEFORE_BIN [none] AFTER_BIN [this checkout's
#   release build] SKIP_BUILD [0] CARGO_TARGET_DIR [target] SCRATCH_BASE [${TMPDIR:-/tmp}]
#   KEEP [0] OUT_DIR [$SCRATCH_BASE/zql-crossnode-DATE]
# Needs: cargo, psql, python3.

set -euo pipefail
export LC_ALL=C

RATE=${RATE:-100}
DURATION=${DURATION:-30}
IDLE=${IDLE:-10}
ROUNDS=${ROUNDS:-3}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

command -v psql >/dev/null || die "psql is required"
bench_dirs zql-crossnode
SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-crossnode.XXXXXX")
PG_DB=""
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n $PG_DB ]]; then
    psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ $KEEP = 1 ]]; then log "kept scratch folder $SCRATCH"; else rm -rf -- "$SCRATCH"; fi
  log "results in $OUT_DIR"
  exit "$rc"
}
trap finish EXIT INT TERM

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building release binaries into $TARGET_DIR"
  CARGO_TARGET_DIR="$TARGET_DIR" nice -n 10 cargo build --release -p zhiqilian -p zhiqilian-bench \
    --bin zhiqilian --bin crossnode-bench 2>&1 | tail -n 3 >&2
fi
AFTER_BIN=${AFTER_BIN:-$BIN/zhiqilian}
labels=(after); bins=("$AFTER_BIN")
if [[ -n ${BEFORE_BIN:-} ]]; then
  [[ -x $BEFORE_BIN ]] || die "BEFORE_BIN $BEFORE_BIN is not an executable"
  labels=(before after); bins=("$BEFORE_BIN" "$AFTER_BIN")
fi
# Two nodes share the machine: one HTTP worker each unless told otherwise.
export ZQL_WORKERS=${WORKERS:-1}

machine() { echo "nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"; }
out "# crossnode.sh $(date -u +%FT%TZ), code $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
out "binaries: $(for i in "${!labels[@]}"; do printf '%s=%s ' "${labels[$i]}" "${bins[$i]}"; done)"
out "machine before: $(machine); $RATE messages/s for $DURATION s per round, $ZQL_WORKERS worker(s) per node"
out ""

for round in $(seq 1 "$ROUNDS"); do
  for i in "${!labels[@]}"; do
    label=${labels[$i]}
    PG_DB="zql_crossnode_$(date +%s)_$$"
    psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
    log "round $round, $label: ${bins[$i]}"
    rm -rf "${SCRATCH:?}/nodes"
    mkdir -p "$SCRATCH/nodes"
    "$BIN/crossnode-bench" --bin "${bins[$i]}" --database-url "$PG_URL/$PG_DB" \
      --scratch "$SCRATCH/nodes" --rate "$RATE" --duration "$DURATION" --idle "$IDLE" \
      --label "$label" >"$OUT_DIR/$label-$round.json" 2> >(tee -a "$OUT_DIR/bench.log" >&2) ||
      die "crossnode-bench failed (round $round, $label); see $OUT_DIR/bench.log"
    psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    PG_DB=""
  done
done

python3 - "$OUT_DIR" "${labels[@]}" <<'PY' | tee -a "$SUMMARY"
import glob, json, os, statistics, sys
out_dir, labels = sys.argv[1], sys.argv[2:]
runs = {l: [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out_dir, f"{l}-*.json")),
        key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))] for l in labels}
print("| binary, round | ack → event p50 / p99 / max ms | send → event p50 / p99 / max ms | sent | acknowledged | received | lost | dup | event before ack | node B CPU idle | node A + B CPU during | machine busy (cores) |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for l in labels:
    for i, r in enumerate(runs[l], 1):
        a, s = r["ack_to_event"], r["send_to_event"]
        d = r["during"]
        print(f"| {l} {i} | {a['p50_ms']} / {a['p99_ms']} / {a['max_ms']} | {s['p50_ms']} / {s['p99_ms']} / {s['max_ms']} "
              f"| {r['sent']} | {r['acknowledged']} | {r['received']} | {r['lost']} | {r['duplicates']} | {r['event_before_ack']} "
              f"| {r['idle']['node_b_cpu_cores']} | {round(d['node_a_cpu_cores'] + d['node_b_cpu_cores'], 3)} | {d['machine_busy_cores']} |")
print()
print("Medians over the rounds:")
print()
print("| binary | ack → event p50 | p99 | max | send → event p50 | p99 | lost (total) | node B CPU idle (cores) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
med = lambda l, f: round(statistics.median(f(r) for r in runs[l]), 3)
for l in labels:
    print(f"| {l} | {med(l, lambda r: r['ack_to_event']['p50_ms'])} | {med(l, lambda r: r['ack_to_event']['p99_ms'])} "
          f"| {med(l, lambda r: r['ack_to_event']['max_ms'])} | {med(l, lambda r: r['send_to_event']['p50_ms'])} "
          f"| {med(l, lambda r: r['send_to_event']['p99_ms'])} | {sum(r['lost'] for r in runs[l])} "
          f"| {med(l, lambda r: r['idle']['node_b_cpu_cores'])} |")
lost = sum(r["lost"] + r["duplicates"] for l in labels for r in runs[l])
sys.exit(1 if lost else 0)
PY
out ""
out "machine after: $(machine)"
