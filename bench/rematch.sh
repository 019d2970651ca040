#!/usr/bin/env bash
# bench/rematch.sh — throughput of `zhiqilian rematch` (match records for every open listing
# again), one command:
#
#     bash bench/rematch.sh [N]       # N generated listings, default 100000
#
# What it does, in order:
#   1. builds the release binaries (cargo build --release -p zhiqilian -p zhiqilian-bench);
#   2. generates N listings (gen-listings --count N --seed $SEED) and imports them (database +
#      index) into a scratch folder under $SCRATCH_BASE, with no background job running;
#   3. marks the import's changes as matched (the matching lease's position moved to the head
#      of the change log), so that the only matching work left is the rematch;
#   4. starts `zhiqilian serve` with background_jobs=matching on a free loopback port;
#   5. runs `zhiqilian rematch` (which asks for the run and follows it to the end) and reports
#      the wall time, listings per second, the server's CPU seconds per listing, the match
#      records made, the machine's other load meanwhile and the server's RSS.
#
# Knobs (environment): SEED [1], SKIP_BUILD [0], KEEP [0] (keep the scratch folder),
# SCRATCH_BASE [${TMPDIR:-/tmp}], OUT_DIR [$SCRATCH_BASE/zql-rematch-results-N-DATE].
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

USAGE="usage: bash bench/rematch.sh [N]"
[[ -z ${DATA_DIR:-} ]] || { echo "bench/rematch.sh generates its data; DATA_DIR is not used" >&2; exit 2; }
N=$(n_or_data_dir "$USAGE" "$@")
SEED=${SEED:-1}
bench_begin "zql-rematch-results-$N"
prepare_binaries
run_facts
SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-rematch-XXXXXX")
DATA=$SCRATCH/data LISTINGS=$SCRATCH/listings.jsonl
server_env
import_generated
log "marking the imported changes as matched"
python3 - "$DATA/zhiqilian.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE work_leases SET position = (SELECT COALESCE(MAX(seq), 0) FROM listing_changes) "
          "WHERE name = 'matching'")
c.commit()
PY
records() {
  python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM match_records").fetchone()[0])' \
    "$DATA/zhiqilian.db"
}
export ZQL_BACKGROUND_JOBS=matching
start_server 600
R0=$(records)
tck=$(getconf CLK_TCK)
s0=$(proc_ticks "$SERVER_PID") b0=$(sys_busy_ticks) t0=$(now)
"$ZQL_EXE" rematch --reason "bench/rematch.sh" >"$OUT_DIR/rematch.log" 2>"$OUT_DIR/rematch.err" \
  || die "rematch failed: $(tail -n 5 "$OUT_DIR/rematch.err")"
t1=$(now) s1=$(proc_ticks "$SERVER_PID") b1=$(sys_busy_ticks)
R1=$(records)
SECS=$(fsub "$t1" "$t0")
DONE=$(sed -n 's/^rematch .* done: \([0-9]*\) listings.*/\1/p' "$OUT_DIR/rematch.log")
[[ -n $DONE ]] || die "no result line: $(cat "$OUT_DIR/rematch.log")"
SERVER_CPU=$(awk -v a="$s0" -v b="$s1" -v t="$tck" 'BEGIN { printf "%.1f", (b - a) / t }')
OTHER=$(awk -v a="$b0" -v b="$b1" -v s0="$s0" -v s1="$s1" -v t="$tck" -v w="$SECS" \
  'BEGIN { printf "%.2f", ((b - a) - (s1 - s0)) / t / w }')

out "# zhiqilian rematch, $N listings"
out ""
out "- commit $GIT_REV (tracked files changed: $GIT_DIRTY), server binary sha256 $BIN_SHA"
out "- machine: $MACHINE"
out "- data: $DATA_NOTE"
out ""
out "| measure | value |"
out "|---|---|"
out "| listings rematched | $DONE |"
out "| wall time | ${SECS} s |"
out "| listings per second | $(awk -v d="$DONE" -v s="$SECS" 'BEGIN { printf "%.0f", d / s }') |"
out "| server CPU | ${SERVER_CPU} s ($(awk -v c="$SERVER_CPU" -v d="$DONE" 'BEGIN { printf "%.2f", 1000 * c / d }') ms per listing) |"
out "| match records before / after | $R0 / $R1 |"
out "| other load on the machine meanwhile | $OTHER cores |"
out "| server memory after (RSS, HWM, anon, file MiB; threads) | $(mem_line) |"
printf 'rematch_listings_per_sec\t%s\n' "$(awk -v d="$DONE" -v s="$SECS" 'BEGIN { printf "%.0f", d / s }')" >>"$OUT_DIR/figures.tsv"
