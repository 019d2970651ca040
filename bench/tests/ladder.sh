#!/usr/bin/env bash
# bench/tests/ladder.sh — tests of bench/lib.sh's step runner (ladder, retries, confirmation
# rounds, summary tables) with a scripted step in place of the load generator: which steps run,
# in which order, what rate each ladder finds and what the tables print. No server, no network.
#
#     bash bench/tests/ladder.sh
# shellcheck disable=SC2034  # LIMIT_<what> are read by the scripted step (through eval)
set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/bench/lib.sh"

WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
OUT_DIR=$WORK ROWS=$WORK/steps.tsv SUMMARY=$WORK/summary.md CALLS=$WORK/calls
QUIET_CORES=0.3 RETRY_NOISY=1 DURATION=30 MIN_RATE=25 CONFIRM=2 TARGET_RATE=200
log() { :; }

# The scripted step: WHAT holds up to $LIMIT_<what> req/s; a first try at a rate listed in
# $NOISY (what@rate) misses with other processes at 0.6 cores (confirmation rounds are quiet).
# Figures follow from the rate.
scripted_step() {
  local label=$1 what=$2 rate=$3 secs=$4 limit other=0.05 held=no
  limit=$(eval "echo \${LIMIT_$what:-0}")
  echo "$label $secs" >>"$CALLS"
  if [[ $label != *-retry && $label != confirm* && " ${NOISY:-} " = *" $what@$rate "* ]]; then
    other=0.6
  elif ((rate <= limit)); then
    held=yes
  fi
  local row
  row=$(printf '%s\t%s\t%s\t%s\t1\t%s\t%s\t%s\t%s\t0\t0.5\t0.1\t%s\t%s\t%s' "$label" "$what" "$rate" \
    "$rate" "$((rate / 10))" "$((rate / 5))" "$((rate / 4))" "$((rate / 2))" "$other" "$((rate % 7)).5" "$held")
  printf '%s\n' "$row" >>"$ROWS"
  printf '%s\n' "$row"
}
STEP_FN=scripted_step

reset() { : >"$ROWS"; : >"$SUMMARY"; : >"$CALLS"; NOISY=""; }

PASSED=0 FAILED=0
check() {  # NAME EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL %s\n--- expected\n%s\n--- actual\n%s\n' "$1" "$2" "$3" >&2
  fi
}
calls() { paste -sd' ' "$CALLS"; }

# Up to the first miss, which ends the ladder.
reset; LIMIT_search=300
check "stops after the first miss" 300 "$(ladder search 100 200 300 500 750)"
check "steps run up to the first miss" "search-100 30 search-200 30 search-300 30 search-500 30" "$(calls)"

# Nothing holds: without --halve the ladder gives 0; with it, halves down to MIN_RATE.
reset; LIMIT_search=0
check "no rate held" 0 "$(ladder search 100 200)"
check "no halving without --halve" "search-100 30" "$(calls)"
reset; LIMIT_search=60
check "halving finds a rate" 50 "$(ladder --halve search 200 400)"
check "halving steps" "search-200 30 search-100 30 search-50 30" "$(calls)"
reset; LIMIT_search=10
check "halving stops at MIN_RATE" 0 "$(ladder --halve search 100 200)"
check "halving steps down to MIN_RATE" "search-100 30 search-50 30 search-25 30" "$(calls)"
reset; LIMIT_search=100
check "no halving after a rate held" 100 "$(ladder --halve search 100 200)"
check "steps after a held rate" "search-100 30 search-200 30" "$(calls)"

# A miss amid noise runs again and the retry decides; with RETRY_NOISY=0 it does not.
reset; LIMIT_search=500 NOISY="search@200"
check "a noisy miss is retried" 500 "$(ladder search 100 200 500 750)"
check "retry steps" "search-100 30 search-200 30 search-200-retry 30 search-500 30 search-750 30" "$(calls)"
reset; LIMIT_search=500 NOISY="search@200" RETRY_NOISY=0
check "no retry with RETRY_NOISY=0" 100 "$(ladder search 100 200 500)"
RETRY_NOISY=1

# --with runs a second endpoint after each step at the same rate; only the first decides.
reset; LIMIT_matches=100 LIMIT_bare=0
check "--with does not decide" 100 "$(ladder --halve --with bare matches 100 200)"
check "--with steps" "matches-100 30 bare-100 30 matches-200 30 bare-200 30" "$(calls)"
reset; LIMIT_matches=30 LIMIT_bare=1000 NOISY="bare@50"
check "--with while halving" 25 "$(ladder --halve --with bare matches 100)"
check "--with steps while halving" \
  "matches-100 30 bare-100 30 matches-50 30 bare-50 30 bare-50-retry 30 matches-25 30 bare-25 30" "$(calls)"

# --secs sets the step length; confirmation rounds interleave the plan, each with its length.
reset; LIMIT_bare=20000 LIMIT_mixed=250
check "--secs" 10000 "$(ladder --secs 15 bare 5000 10000 20001)"
check "--secs steps" "bare-5000 15 bare-10000 15 bare-20001 15" "$(calls)"
reset
confirm_rounds "mixed:250:30" "bare:10000:15" "search:200"
check "confirmation rounds" \
  "confirm1-mixed-250 30 confirm1-bare-10000 15 confirm1-search-200 30 confirm2-mixed-250 30 confirm2-bare-10000 15 confirm2-search-200 30" \
  "$(calls)"

# Tables: the ladder rows in run order (a retry marked), the confirmation medians and sums.
reset; LIMIT_search=200 LIMIT_bare=5000 NOISY="search@200"
ladder --with bare search 100 200 >/dev/null
confirm_rounds "search:200" "bare:5000"
steps_table '^(search|bare)-' 2 3 4 7 13 15 >/dev/null
check "steps table" "$(cat <<'EOT'
| endpoint | rate req/s | achieved req/s | p99 ms | other cores | held |
| --- | ---: | ---: | ---: | ---: | --- |
| search | 100 | 100 | 20 | 0.05 | yes |
| /healthz | 100 | 100 | 20 | 0.05 | yes |
| search | 200 | 200 | 40 | 0.6 | no |
| search | 200 (retry) | 200 | 40 | 0.05 | yes |
| /healthz | 200 | 200 | 40 | 0.05 | yes |
EOT
)" "$(cat "$SUMMARY")"
: >"$SUMMARY"
confirm_table "m4 m7 s10 x13 m14" "search:200" "bare:5000" >/dev/null
check "confirmation table" "$(cat <<'EOT'
| endpoint | rate req/s | achieved req/s | p99 ms | errors (sum) | other cores (max) | server CPU ms/req | rounds held |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| search | 200 | 200 | 40 | 0 | 0.05 | 4.5 | 2/2 |
| /healthz | 5000 | 5000 | 1000 | 0 | 0.05 | 2.5 | 2/2 |
EOT
)" "$(cat "$SUMMARY")"
check "p99 at the target rate: confirmation median" 40 "$(target_p99 search)"
TARGET_RATE=100
check "p99 at the target rate: ladder step" 20 "$(target_p99 search)"
TARGET_RATE=300
check "p99 at the target rate: not reached" "not reached (ladder stopped below 300)" "$(target_p99 search)"
check "confirmation median" 2.5 "$(confirm_median bare 5000 14)"
check "no confirmation rows" - "$(confirm_median bare 1 14)"

# A step that fails stops the benchmark (as a failed oha run does), from inside the ladder's
# command substitutions. In a shell of its own: errexit does not apply within a condition.
rc=0
out=$(bash -c 'set -euo pipefail; shopt -s inherit_errexit; source "$1"; log() { :; }
  DURATION=1 MIN_RATE=1 RETRY_NOISY=1 QUIET_CORES=0.3
  failing_step() { return 3; }; STEP_FN=failing_step
  best=$(ladder --halve search 100); echo "went on after a failed step: $best"' _ "$ROOT/bench/lib.sh") || rc=$?
check "a failed step stops the run" "3 " "$rc $out"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
