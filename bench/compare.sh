#!/usr/bin/env bash
# bench/compare.sh — two zhiqilian server binaries side by side in one run, one command:
#
#     bash bench/compare.sh OLD_BIN NEW_BIN [N]      # N listings for search.sh, default 100000
#
# A is OLD_BIN, B is NEW_BIN (e.g. release builds of two commits: `cargo build --release
# -p zhiqilian` and a copy of target/release/zhiqilian for each). What it does:
#   1. builds the benchmark tools (cargo build --release -p zhiqilian-bench; SKIP_BUILD=1 skips
#      it): gen-listings and mixed-load are the same for A and B, only the server differs;
#   2. $ROUNDS rounds, each running for A and for B, in the order A B, B A, A B, ... (so that
#      drift and other processes' noise hit both alike):
#      - bench/search.sh N with ZHIQILIAN_BIN set to the binary: generate, `zhiqilian import`,
#        `zhiqilian reindex`, serve, the query mix, then one step of search at $SEARCH_RATE req/s
#        and one of /healthz at $BARE_RATE req/s ($STEP_SECS s each, no halving, no
#        confirmation rounds: the rounds here are the repetitions);
#      - bench/load.sh $LOAD_N in its short mode (SHORT=1): the mix at $LOAD_RATE req/s, /healthz
#        at $BARE_RATE req/s, the burst at 10 x $LOAD_RATE and the recovery;
#      every run has its own scratch data folder, imported by the binary it measures;
#   3. prints per measure the median of A's rounds, of B's, and B/A, and writes it, with each
#      run's folder (summary.md, steps.tsv, figures.tsv, logs), to $OUT_DIR.
#
# Measures: the figures each script writes to figures.tsv (import, reindex, start-up, sequential
# service time, peak RSS, burst) and, per step, p50, p99, ok req/s and server CPU per request.
# A ratio B/A above 1 means B took longer (or more) than A; for ok req/s and the burst's ok
# count higher is better. "other cores" is the noise of other processes during the step: a
# step pair whose other cores differ much compares the machine, not the binaries. Server CPU per
# request is the steadiest measure on a shared machine.
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]             rounds (each runs both binaries)
#   SEARCH_RATE [200]      search step, req/s        LOAD_RATE [100]   the mix's step, req/s
#   BARE_RATE [10000]      /healthz steps, req/s     STEP_SECS [10]    seconds per search.sh step
#   LOAD_N [N]             listings for load.sh
#   SKIP_BUILD [0]  CARGO_TARGET_DIR [target]  SCRATCH_BASE [${TMPDIR:-/tmp}]
#   OUT_DIR [$SCRATCH_BASE/zql-compare-N-DATE]
# Any other knob of search.sh and load.sh (QUIET_WAIT, WORKERS, ...) given in the environment
# applies to both binaries alike.

set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/bench/lib.sh"

usage() { echo "usage: bash bench/compare.sh OLD_BIN NEW_BIN [N]" >&2; exit 2; }
(($# == 2 || $# == 3)) || usage
A=$(realpath -e "$1") || usage
B=$(realpath -e "$2") || usage
[[ -x $A && -x $B ]] || { echo "OLD_BIN and NEW_BIN must be executables" >&2; exit 2; }
N=${3:-100000}
[[ $N =~ ^[0-9]+$ && $N -gt 0 ]] || usage
ROUNDS=${ROUNDS:-3}
SEARCH_RATE=${SEARCH_RATE:-200}
LOAD_RATE=${LOAD_RATE:-100}
BARE_RATE=${BARE_RATE:-10000}
STEP_SECS=${STEP_SECS:-10}
LOAD_N=${LOAD_N:-$N}
SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}

cd "$ROOT"
bench_dirs "zql-compare-$N"
CHILD=""
# A run still going when this script stops is stopped (it stops its server itself).
trap '[[ -z $CHILD ]] || kill -TERM "$CHILD" 2>/dev/null || true; wait' EXIT
trap 'exit 130' INT TERM

ZHIQILIAN_BIN=$A prepare_binaries
for b in gen-listings mixed-load; do
  [[ -x $BIN/$b ]] || die "no $b binary in $BIN"
done
export CARGO_TARGET_DIR=$TARGET_DIR SKIP_BUILD=1 SCRATCH_BASE

# run SCRIPT SIDE ROUND: one run of bench/SCRIPT.sh for binary SIDE (A or B), in its own folder.
run() {
  local script=$1 side=$2 round=$3 bin dir t0
  bin=$([[ $side = A ]] && echo "$A" || echo "$B")
  dir="$OUT_DIR/$script-$side-$round"
  log "round $round: $script.sh, $side ($bin)"
  t0=$SECONDS
  case $script in
    search)
      OUT_DIR=$dir ZHIQILIAN_BIN=$bin RATES=$SEARCH_RATE MIN_RATE=$SEARCH_RATE \
        BARE_RATES=$BARE_RATE DURATION=$STEP_SECS WARMUP=$STEP_SECS CONFIRM=0 PROFILE=0 \
        bash "$ROOT/bench/search.sh" "$N" >"$dir.log" 2>&1 &
      ;;
    load)
      OUT_DIR=$dir ZHIQILIAN_BIN=$bin SHORT=1 RATES=$LOAD_RATE MIN_RATE=$LOAD_RATE \
        BARE_RATES=$BARE_RATE CONFIRM=0 DATA_DIR="" \
        bash "$ROOT/bench/load.sh" "$LOAD_N" >"$dir.log" 2>&1 &
      ;;
  esac
  CHILD=$!
  wait "$CHILD" || die "$script.sh failed for $side in round $round: $(tail -n 3 "$dir.log")"
  CHILD=""
  log "  done in $((SECONDS - t0)) s"
}

run_facts  # $MACHINE, with the load average at the start
T_START=$SECONDS
for round in $(seq 1 "$ROUNDS"); do
  order="A B"
  ((round % 2)) || order="B A"
  for script in search load; do
    for side in $order; do
      run "$script" "$side" "$round"
    done
  done
done

out "## compare.sh N=$N — $(date -u '+%Y-%m-%d %H:%M UTC')"
out ""
out "- command: \`$(knobs_given ROUNDS SEARCH_RATE LOAD_RATE BARE_RATE STEP_SECS LOAD_N QUIET_WAIT WORKERS)bash bench/compare.sh $1 $2${3:+ $3}\`"
out "- A: $A (sha256 $(sha256sum "$A" | cut -c1-12)…, built $(date -u -r "$A" '+%Y-%m-%d %H:%M UTC'))"
out "- B: $B (sha256 $(sha256sum "$B" | cut -c1-12)…, built $(date -u -r "$B" '+%Y-%m-%d %H:%M UTC'))"
out "- machine: $MACHINE"
out "- $ROUNDS rounds, A and B alternating (A B, B A, ...); each round: search.sh $N (search at $SEARCH_RATE req/s, /healthz at $BARE_RATE req/s, ${STEP_SECS} s each) and load.sh $LOAD_N with SHORT=1 (the mix at $LOAD_RATE req/s, /healthz at $BARE_RATE req/s); $(( (SECONDS - T_START) / 60 )) min in all"
out "- the medians of A's and B's rounds; B/A > 1: B higher (slower, larger) — for ok req/s and burst ok, higher is better. Other processes shared the machine: \"other cores\" shows how much"
out ""
python3 - "$OUT_DIR" "$ROUNDS" <<'EOF' | tee -a "$SUMMARY"
import os, re, statistics, sys

root, rounds = sys.argv[1], int(sys.argv[2])
# (script, side) -> {measure: [value per round]}, measures in the order first seen
vals, order = {}, {}
for d in sorted(os.listdir(root), key=lambda d: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", d)]):
    m = re.fullmatch(r"(search|load)-([AB])-(\d+)", d)
    if not m:
        continue
    script, side = m.group(1), m.group(2)
    seen = {}
    path = os.path.join(root, d, "figures.tsv")
    if os.path.exists(path):
        for line in open(path):
            name, value = line.rstrip("\n").split("\t")
            seen[name] = value
    steps = {}
    for line in open(os.path.join(root, d, "steps.tsv")):
        r = line.rstrip("\n").split("\t")
        label = r[0][: -len("-retry")] if r[0].endswith("-retry") else r[0]
        if label == "warmup" or label.startswith("profile-"):
            continue
        key = label.split("-")[0] if label.startswith(("burst-", "recovery-")) else f"{r[1]} at {r[2]}"
        steps[key] = r  # a retry replaces the step it repeats: it decides
    for key, r in steps.items():
        name = re.sub(r"^bare ", "/healthz ", re.sub(r"^mixed ", "mix ", key))
        seen[f"{name}: p50 ms"] = r[5]
        seen[f"{name}: p99 ms"] = r[6]
        seen[f"{name}: ok req/s"] = r[3]
        seen[f"{name}: server CPU ms/req"] = r[13]
        seen[f"{name}: other cores"] = r[12]
    o = order.setdefault(script, [])
    for name, value in seen.items():
        try:
            x = float(value)
        except ValueError:  # "-": not measured in this run
            continue
        if name not in o:
            o.append(name)
        vals.setdefault((script, side), {}).setdefault(name, []).append(x)

def fmt(x):
    return "%.4g" % x

for script in ("search", "load"):
    if script not in order:
        continue
    print(f"### {script}.sh")
    print()
    print("| measure | A median | B median | B/A | A rounds | B rounds |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for name in order[script]:
        a = vals.get((script, "A"), {}).get(name, [])
        b = vals.get((script, "B"), {}).get(name, [])
        ma = statistics.median(a) if a else None
        mb = statistics.median(b) if b else None
        ratio = "–"
        if ma and mb is not None and not name.endswith("other cores"):
            ratio = "%.2f" % (mb / ma)
        print("| %s | %s | %s | %s | %s | %s |" % (
            name, "–" if ma is None else fmt(ma), "–" if mb is None else fmt(mb), ratio,
            " ".join(fmt(x) for x in a), " ".join(fmt(x) for x in b)))
    print()
EOF
log "done; summary in $SUMMARY"
