#!/usr/bin/env bash
# bench/crash.sh — crash safety at scale, both backends, one command:
#
#     bash bench/crash.sh
#
# For SQLite (in a scratch folder) and PostgreSQL (a fresh database on $PG_URL, dropped at the
# end), `crash-bench` (bench/src/crash_bench.rs, with the traffic and checks of
# bench/src/crash.rs that the integration test tests/crash.rs runs in short):
#   1. starts `zhiqilian serve`, sets up three verified firms, a community's staff and a thread;
#   2. $TRIALS times: mixed write traffic (three firms create listings, some of them
#      emergencies that open staff cases; two firms chat; firm b moves its suggestions to
#      contacted and declined; staff claim and resolve cases) until $LISTINGS listings and
#      $MESSAGES messages more are acknowledged, a random pause of 0–300 ms, SIGKILL of the
#      server mid-traffic, a restart on the same data; then checks every acknowledged listing
#      (title), message (client_msg_id and text), match status and case action is stored, the
#      thread's seqs are 1..n, and every acknowledged listing is searchable and (when a
#      listing of the other side was there before it) has a match record within $CATCH_UP s;
#   3. once more with `zhiqilian import` of $IMPORT_LINES generated listings (gen-listings)
#      SIGKILLed 1–2.5 s into its run (the server killed with it), then the import run again
#      to its end (it is idempotent per line) and everything checked;
#   4. once more with the server killed under traffic and `zhiqilian reindex` (of everything,
#      the import included) SIGKILLed a random 0–1.5 s after it began writing the new index
#      (`index.new`), before the server starts again;
#   5. prints per backend: trials, acknowledged writes, lost writes, requests cut in flight,
#      median restart and catch-up times, and the machine's load. Exit 1 if anything was lost.
#
# Knobs [defaults]: TRIALS [20] LISTINGS [30] MESSAGES [10] IMPORT_LINES [5000] CATCH_UP [90]
#   BACKENDS ["sqlite postgres"] PG_URL [postgres://postgres@127.0.0.1:5432]
#   PROFILE [release] (debug: the dev build, for a machine too busy to build release)
#   SKIP_BUILD [0] CARGO_TARGET_DIR [target] SCRATCH_BASE [${TMPDIR:-/tmp}] KEEP [0]
#   OUT_DIR [$SCRATCH_BASE/zql-crash-DATE]
# Needs: cargo, psql (for PostgreSQL), python3 (none other).

set -euo pipefail
export LC_ALL=C

TRIALS=${TRIALS:-20}
LISTINGS=${LISTINGS:-30}
MESSAGES=${MESSAGES:-10}
IMPORT_LINES=${IMPORT_LINES:-5000}
CATCH_UP=${CATCH_UP:-90}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PROFILE=${PROFILE:-release}
SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

bench_dirs zql-crash
[[ $PROFILE = release ]] || BIN="$TARGET_DIR/debug"
SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-crash.XXXXXX")
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
  log "building $PROFILE binaries into $TARGET_DIR"
  flag=(); [[ $PROFILE = release ]] && flag=(--release)
  CARGO_TARGET_DIR="$TARGET_DIR" nice -n 10 cargo build "${flag[@]}" -p zhiqilian -p zhiqilian-bench \
    --bin zhiqilian --bin crash-bench --bin gen-listings 2>&1 | tail -n 3 >&2
fi

IMPORT_FILE="$SCRATCH/import.jsonl"
"$BIN/gen-listings" --count "$IMPORT_LINES" --seed 7 --out "$IMPORT_FILE"

machine() { echo "nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"; }
out "# crash.sh $(date -u +%FT%TZ), code $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $PROFILE build"
out "machine before: $(machine)"
out ""
out "| backend | trials | acknowledged writes | lost writes | cut in flight | restart median s | caught up median s (max) | import killed | reindex killed | other load (cores) |"
out "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"

# One table row (and the problems, if any) from crash-bench's JSON.
cat >"$SCRATCH/row.py" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
imp, rei = r.get("import") or {}, r.get("reindex") or {}
def killed(x, key):
    if not x:
        return "—"
    return ("finished first" if x.get("finished_before_kill") else "yes") + (f", {x.get(key)}" if x.get(key) is not None else "")
print(f"| {r['backend']} | {r['trials']} ({r['kills_of_serve_under_traffic']} + import + reindex) | {r['acknowledged_writes']} "
      f"({r['acknowledged']['listings']} listings, {r['acknowledged']['messages']} messages, {r['acknowledged']['status_changes']} status changes) "
      f"| {r['lost_writes']} | {r['cut_in_flight']} | {r['restart_secs_median']} | {r['caught_up_secs_median']} ({r['caught_up_secs_max']}) "
      f"| {killed(imp, 'killed_after_ms')} ms, ~{imp.get('committed_by_killed_import_approx', '?')} of {imp.get('lines', '?')} lines in | "
      f"{killed(rei, 'killed_after_ms')} ms | {sys.argv[2]} |")
for p in r["problems"]:
    print(f"\nPROBLEM ({r['backend']}): {p}")
PY

status=0
for backend in $BACKENDS; do
  args=(--bin "$BIN/zhiqilian" --data-dir "$SCRATCH/$backend" --trials "$TRIALS" --listings "$LISTINGS"
    --messages "$MESSAGES" --catch-up "$CATCH_UP" --import-file "$IMPORT_FILE" --label "$backend")
  if [[ $backend = postgres ]]; then
    command -v psql >/dev/null || die "psql is required for the PostgreSQL run (or BACKENDS=sqlite)"
    PG_DB="zql_crash_$(date +%s)_$$"
    psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
    args+=(--database-url "$PG_URL/$PG_DB")
  fi
  log "$backend: $TRIALS kills under traffic, then import and reindex"
  b0=$(sys_busy_ticks); t0=$(now)
  times >"$SCRATCH/.times0"
  rc=0
  "$BIN/crash-bench" "${args[@]}" >"$OUT_DIR/$backend.json" 2> >(tee "$OUT_DIR/$backend.log" >&2) || rc=$?
  times >"$SCRATCH/.times1"
  b1=$(sys_busy_ticks); t1=$(now)
  ((rc == 0)) || status=1
  [[ -s $OUT_DIR/$backend.json ]] || { out "| $backend | failed (exit $rc), see $OUT_DIR/$backend.log |"; continue; }
  # Other load: busy cores of the machine less what this script's children (crash-bench and
  # the zhiqilian processes it waited for) used.
  ours=$(fsub "$(child_cpu_secs "$SCRATCH/.times1")" "$(child_cpu_secs "$SCRATCH/.times0")")
  other=$(awk -v b="$((b1 - b0))" -v t="$(getconf CLK_TCK)" -v o="$ours" -v w="$(fsub "$t1" "$t0")" \
    'BEGIN { x = (b / t - o) / w; printf "%.2f", x < 0 ? 0 : x }')
  row=$(python3 "$SCRATCH/row.py" "$OUT_DIR/$backend.json" "$other")
  out "$row"
done
out ""
out "machine after: $(machine)"
exit "$status"
