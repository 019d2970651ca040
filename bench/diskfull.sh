#!/usr/bin/env bash
# bench/diskfull.sh — a full disk under traffic, one command (as root: it mounts tmpfs):
#
#     sudo bash bench/diskfull.sh
#
# Two runs of `crash-bench --fill` (bench/src/crash_bench.rs, the traffic of bench/src/crash.rs:
# listings, chat messages, match status changes, staff case actions), each on SQLite:
#   database  the whole data folder (SQLite database and search index) on a tmpfs of $SIZE;
#   index     the data folder on ordinary disk, its search index folder on a tmpfs of $SIZE.
# Each: traffic until $LISTINGS listings and $MESSAGES messages are acknowledged, then one file
# fills the tmpfs to its last byte; for $FULL_SECS s reads (listings, search, messages) are
# probed while the writers go on; the file is removed, and the run waits until writes are
# acknowledged again (no restart). Then every acknowledged write is checked (as in crash.sh),
# every answer other than 2xx is listed by status and problem code, and the server process
# must still be the same one.
#
# Expected: writes answer 503 `storage_full` (problem+json, Retry-After) while the database's
# disk is full and 2xx while only the index's is (search catches up once space is freed);
# reads go on; nothing acknowledged is lost; writes recover by themselves.
#
# Knobs [defaults]: SIZE [48m] FULL_SECS [10] LISTINGS [30] MESSAGES [10] CATCH_UP [120]
#   RUNS ["database index"] PROFILE [release] SKIP_BUILD [0] CARGO_TARGET_DIR [target]
#   SCRATCH_BASE [${TMPDIR:-/tmp}] KEEP [0] OUT_DIR [$SCRATCH_BASE/zql-diskfull-DATE]

set -euo pipefail
export LC_ALL=C

SIZE=${SIZE:-48m}
FULL_SECS=${FULL_SECS:-10}
LISTINGS=${LISTINGS:-30}
MESSAGES=${MESSAGES:-10}
CATCH_UP=${CATCH_UP:-120}
RUNS=${RUNS:-database index}
PROFILE=${PROFILE:-release}
SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

[[ $(id -u) = 0 ]] || die "run as root: it mounts a tmpfs"
bench_dirs zql-diskfull
[[ $PROFILE = release ]] || BIN="$TARGET_DIR/debug"
SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-diskfull.XXXXXX")
MOUNTS=()
finish() {
  local rc=$?
  trap - EXIT INT TERM
  local m
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [[ $KEEP = 1 ]]; then log "kept scratch folder $SCRATCH"; else rm -rf -- "$SCRATCH"; fi
  log "results in $OUT_DIR"
  exit "$rc"
}
trap finish EXIT INT TERM

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building $PROFILE binaries into $TARGET_DIR"
  flag=(); [[ $PROFILE = release ]] && flag=(--release)
  CARGO_TARGET_DIR="$TARGET_DIR" nice -n 10 cargo build "${flag[@]}" -p zhiqilian -p zhiqilian-bench \
    --bin zhiqilian --bin crash-bench 2>&1 | tail -n 3 >&2
fi

out "# diskfull.sh $(date -u +%FT%TZ), code $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $PROFILE build, tmpfs $SIZE"
out "machine before: nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
out ""
out "| full | writes acked before / while full | answers while full | reads while full ok / failed | writes again after freeing | lost writes | caught up s | server alive | other load (cores) |"
out "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
status=0
for run in $RUNS; do
  data="$SCRATCH/$run"
  mkdir -p "$data"
  if [[ $run = database ]]; then
    mnt=$data
  else
    mnt=$data/index
    mkdir -p "$mnt"
  fi
  mount -t tmpfs -o "size=$SIZE" "zql-$run" "$mnt"
  MOUNTS+=("$mnt")
  log "$run: tmpfs of $SIZE on $mnt"
  b0=$(sys_busy_ticks); t0=$(now)
  times >"$SCRATCH/.times0"
  rc=0
  "$BIN/crash-bench" --bin "$BIN/zhiqilian" --data-dir "$data" --fill "$mnt" --full-secs "$FULL_SECS" \
    --listings "$LISTINGS" --messages "$MESSAGES" --catch-up "$CATCH_UP" --label "$run" \
    >"$OUT_DIR/$run.json" 2> >(tee "$OUT_DIR/$run.log" >&2) || rc=$?
  times >"$SCRATCH/.times1"
  b1=$(sys_busy_ticks); t1=$(now)
  ((rc == 0)) || status=1
  umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
  [[ -s $OUT_DIR/$run.json ]] || { out "| $run | failed (exit $rc), see $OUT_DIR/$run.log |"; continue; }
  ours=$(fsub "$(child_cpu_secs "$SCRATCH/.times1")" "$(child_cpu_secs "$SCRATCH/.times0")")
  other=$(awk -v b="$((b1 - b0))" -v t="$(getconf CLK_TCK)" -v o="$ours" -v w="$(fsub "$t1" "$t0")" \
    'BEGIN { x = (b / t - o) / w; printf "%.2f", x < 0 ? 0 : x }')
  row=$(python3 - "$OUT_DIR/$run.json" "$run" "$other" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = ", ".join(f"{k}: {v}" for k, v in r["refused_while_full"].items()) or "all 2xx"
rec = r["recovered_secs_after_freeing"]
print(f"| {sys.argv[2]} | {r['writes_acknowledged_before_full']} / {r['writes_acknowledged_while_full']} | {codes} "
      f"| {r['reads_while_full']['ok']} / {r['reads_while_full']['failed']} | {'after %.2f s' % rec if rec is not None else 'never'} "
      f"| {r['lost_writes']} of {r['acknowledged_writes']} | {r['search_and_matching_caught_up_secs']} | {r['server_alive']} | {sys.argv[3]} |")
for p in r["problems"]:
    print(f"\nPROBLEM ({sys.argv[2]}): {p}")
PY
)
  out "$row"
done
out ""
out "machine after: load $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
