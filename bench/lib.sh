# bench/lib.sh — shell helpers shared by the benchmark scripts (sourced, not run).
# shellcheck shell=bash disable=SC2034  # (it sets variables for the scripts that source it)
# They expect, where they use them: $SUMMARY (out), $SERVER_PID (mem_line, mem_field,
# wait_quiet, run_step), $QUIET_WAIT and $QUIET_CORES (wait_quiet, step_retry), and for
# run_step: $OUT_DIR, $ROWS, $URLS, $OHA, $CONNECTIONS, $P99_TARGET_MS, $MIN_COMPLETION,
# $BASE, $LOGIN, $PASSWORD; for the ladder: $DURATION, $MIN_RATE, $RETRY_NOISY, $STEP_FN.

# On exit: stops perf, oha and the server (by PID), removes the scratch folder unless
# $KEEP = 1, and keeps the exit status.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # run_step may run in a subshell: its oha PID is in a file.
  [[ -z $OHA_PID && -s $OUT_DIR/.oha.pid ]] && OHA_PID=$(cat "$OUT_DIR/.oha.pid")
  rm -f "$OUT_DIR/.oha.pid" "$OUT_DIR/.times0" "$OUT_DIR/.times1"
  for pid in "$PERF_PID" "$OHA_PID"; do
    [[ -n $pid ]] && kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n $SCRATCH && -d $SCRATCH ]]; then
    if [[ $KEEP = 1 ]]; then log "kept scratch folder $SCRATCH"; else rm -rf -- "$SCRATCH"; fi
  fi
  log "results in $OUT_DIR"
  exit "$rc"
}

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
out() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# CPU ticks (user+system) of a process, all its threads.
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# Busy ticks of the whole machine (everything but idle and iowait).
sys_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# Children's user+system seconds from a file written by the `times` builtin (which must run
# in the shell that waited for them, not in a command substitution).
child_cpu_secs() {
  awk 'NR == 2 {
    split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$1"
}
mem_line() {  # VmRSS VmHWM RssAnon RssFile of the server, in MiB, and its thread count
  awk '/^(VmRSS|VmHWM|RssAnon|RssFile):/ { v[$1] = $2 / 1024 } /^Threads:/ { t = $2 }
    END { printf "VmRSS %.0f MiB, VmHWM %.0f MiB (RssAnon %.0f MiB, RssFile %.0f MiB), %d threads",
      v["VmRSS:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"], t }' "/proc/$SERVER_PID/status"
}
mem_field() { awk -v k="$1:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most $QUIET_WAIT s) until everything but our server uses < $QUIET_CORES cores,
# measured over 2 s windows. Prints the last measurement.
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) b0 s0 b1 s1 other tck
  tck=$(getconf CLK_TCK)
  while :; do
    b0=$(sys_busy_ticks); s0=$(proc_ticks "$SERVER_PID"); sleep 2
    b1=$(sys_busy_ticks); s1=$(proc_ticks "$SERVER_PID")
    other=$(awk -v b="$((b1 - b0))" -v s="$(fsub "$s1" "$s0")" -v t="$tck" \
      'BEGIN { o = (b - s) / t / 2; printf "%.2f", o < 0 ? 0 : o }')
    if awk -v o="$other" -v q="$QUIET_CORES" 'BEGIN { exit !(o < q) }' || ((SECONDS >= deadline)); then
      echo "$other"; return
    fi
    log "waiting for a quiet machine: other processes use $other cores"
  done
}

# run_step LABEL TARGET(search|matches|bare) RATE DURATION -> appends a TSV row to $ROWS, echoes it.
# Columns: label target rate achieved completion p50 p99 p999 max errors srv_cores oha_cores
#          other_cores srv_ms_per_req held
run_step() {
  local label=$1 what=$2 rate=$3 dur=$4
  local json="$OUT_DIR/oha-$label.json" args=()
  if [[ $what != bare ]]; then
    local token
    token=$(login) || die "sign-in failed before step $label"
    args=(-H "authorization: Bearer $token" --urls-from-file "$URLS")
  else
    args=("$BASE/healthz")
  fi
  local c0 s0 b0 t0 c1 s1 b1 t1
  kill -0 "$SERVER_PID" 2>/dev/null || die "server died before step $label"
  ((QUIET_WAIT > 0)) && wait_quiet >/dev/null
  s0=$(proc_ticks "$SERVER_PID"); b0=$(sys_busy_ticks); t0=$(now)
  times >"$OUT_DIR/.times0"
  "$OHA" --no-tui -z "${dur}s" -w -q "$rate" --latency-correction -c "$CONNECTIONS" \
    -t 30s --output-format json -o "$json" "${args[@]}" &
  OHA_PID=$!
  echo "$OHA_PID" >"$OUT_DIR/.oha.pid"
  wait "$OHA_PID" || die "oha failed in step $label"
  OHA_PID=""
  rm -f "$OUT_DIR/.oha.pid"
  times >"$OUT_DIR/.times1"
  s1=$(proc_ticks "$SERVER_PID"); b1=$(sys_busy_ticks); t1=$(now)
  c0=$(child_cpu_secs "$OUT_DIR/.times0"); c1=$(child_cpu_secs "$OUT_DIR/.times1")
  local wall ticks row
  wall=$(fsub "$t1" "$t0"); ticks=$(getconf CLK_TCK)
  row=$(jq -r --arg lbl "$label" --arg what "$what" --argjson rate "$rate" \
    --argjson dur "$dur" --argjson wall "$wall" --argjson tck "$ticks" \
    --argjson srv "$(fsub "$s1" "$s0")" --argjson busy "$(fsub "$b1" "$b0")" \
    --argjson oha "$(fsub "$c1" "$c0")" --argjson target "$P99_TARGET_MS" \
    --argjson minc "$MIN_COMPLETION" '
    def ms: . * 1000;
    (.statusCodeDistribution // {}) as $codes
    | ([$codes | to_entries[] | .value] | add // 0) as $done
    | ([$codes | to_entries[] | select(.key | test("^2")) | .value] | add // 0) as $ok
    | (([.errorDistribution // {} | to_entries[] | .value] | add // 0) + ($done - $ok)) as $errors
    | ($ok / $dur) as $achieved
    | ($ok / ($rate * $dur)) as $completion
    | (.latencyPercentiles // {}) as $p
    | (($srv / $tck) / $wall) as $srv_cores
    | ($oha / $wall) as $oha_cores
    | ([(($busy - $srv) / $tck) / $wall - $oha_cores, 0] | max) as $other
    | (if $ok > 0 then ($srv / $tck * 1000) / $ok else 0 end) as $msreq
    | (($p.p99 // 1e9) | ms) as $p99
    | (if $errors == 0 and $p99 <= $target and $completion >= $minc then "yes" else "no" end) as $held
    | [$lbl, $what, $rate, ($achieved | floor), ($completion * 100 | floor / 100),
       (($p.p50 // 0) | ms), $p99, (($p["p99.9"] // 0) | ms), ((.summary.slowest // 0) | ms),
       $errors, $srv_cores, $oha_cores, $other, $msreq, $held]
    | map(if type == "number" and (. != floor) then (. * 1000 | round / 1000) else . end)
    | @tsv' "$json") || die "cannot parse $json"
  printf '%s\n' "$row" >>"$ROWS"
  log "$(printf '%s' "$row" | awk -F'\t' '{ printf "%-16s %5s req/s: achieved %s, p50 %s ms, p99 %s ms, p99.9 %s ms, errors %s, server %s cores, %s ms/req, oha %s, other %s -> held: %s", $1, $3, $4, $6, $7, $8, $10, $11, $14, $12, $13, $15 }')"
  printf '%s\n' "$row"
}

# ---------------------------------------------------------------- steps and ladders
# A step is "$STEP_FN LABEL WHAT RATE SECS": it runs the load, appends one row to $ROWS and
# prints it. run_step (oha) by default; load.sh sets STEP_FN to its mixed-load step. A row is
# tab-separated:
#    1 label   2 what (search, matches, mixed, bare, ...)   3 rate   4 achieved   5 done
#    6 p50 ms  7 p99 ms  8 p99.9 ms  9 max ms  10 errors  11 server cores
#   12 load generator cores  13 other cores  14 server CPU ms/req  15 held (yes/no)
STEP_FN=run_step
# The summary's name of each column (steps_table, confirm_table); a script may rename some.
STEP_HEADERS=([2]="endpoint" [3]="rate req/s" [4]="achieved req/s" [5]="done" [6]="p50 ms"
  [7]="p99 ms" [8]="p99.9 ms" [9]="max ms" [10]="errors" [11]="server cores" [12]="oha cores"
  [13]="other cores" [14]="server CPU ms/req" [15]="held")

held_of() { awk -F'\t' '{ print $15 }' <<<"$1"; }

noisy() { awk -F'\t' -v q="$QUIET_CORES" '{ exit !($13 >= q) }' <<<"$1"; }

# step_retry WHAT RATE [SECS]: one ladder step (label WHAT-RATE, SECS default $DURATION), run
# again once (label WHAT-RATE-retry) if it missed amid noise: the retry decides.
step_retry() {
  local what=$1 rate=$2 secs=${3:-$DURATION} row
  row=$("$STEP_FN" "$what-$rate" "$what" "$rate" "$secs")
  if [[ $(held_of "$row") != yes && $RETRY_NOISY = 1 ]] && noisy "$row"; then
    log "$what at $rate req/s missed while other processes were busy: once more"
    row=$("$STEP_FN" "$what-$rate-retry" "$what" "$rate" "$secs")
  fi
  printf '%s\n' "$row"
}

# rung WHAT RATE SECS [WITH] -> held (yes/no) of WHAT's step at RATE; a step of WITH at the
# same rate follows it (it does not decide).
rung() {
  local row
  row=$(step_retry "$1" "$2" "$3")
  [[ -z ${4:-} ]] || step_retry "$4" "$2" "$3" >/dev/null
  held_of "$row"
}

# ladder [--halve] [--with WITH] [--secs SECS] WHAT RATES... -> prints the highest rate at which
# WHAT held (0 if none). One step_retry per rate, in order, up to the first rate that misses.
#   --halve   if the very first rate misses: halve it until a rate holds or $MIN_RATE is passed
#   --with    after each step of WHAT, a step of WITH at the same rate (e.g. bare: /healthz)
#   --secs    seconds per step ($DURATION)
ladder() {
  local halve=0 with="" secs=$DURATION
  while [[ $1 = --* ]]; do
    case $1 in
      --halve) halve=1; shift ;;
      --with) with=$2; shift 2 ;;
      --secs) secs=$2; shift 2 ;;
      *) die "ladder: unknown option $1" ;;
    esac
  done
  local what=$1; shift
  local best=0 first=1 held rate r
  for rate in "$@"; do
    held=$(rung "$what" "$rate" "$secs" "$with")
    if [[ $held = yes ]]; then
      best=$rate first=0
      continue
    fi
    if ((first && halve)); then
      for ((r = rate / 2; r >= MIN_RATE; r /= 2)); do
        held=$(rung "$what" "$r" "$secs" "$with")
        if [[ $held = yes ]]; then best=$r; break; fi
      done
    fi
    break
  done
  echo "$best"
}

# confirm_rounds PLAN...: $CONFIRM interleaved rounds over the PLAN entries (WHAT:RATE[:SECS],
# SECS default $DURATION), each a step labelled confirmN-WHAT-RATE.
confirm_rounds() {
  local round p what rate secs
  for round in $(seq 1 "$CONFIRM"); do
    for p in "$@"; do
      IFS=: read -r what rate secs <<<"$p"
      "$STEP_FN" "confirm$round-$what-$rate" "$what" "$rate" "${secs:-$DURATION}" >/dev/null
    done
  done
}

# ---------------------------------------------------------------- summary

# Median of numbers on stdin, one a line ("-" if none); pct P: their P quantile (nearest rank).
med() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } i = int(NR * p + 0.5); if (i < 1) i = 1; print v[i] }'; }

# verdict EXPR: "met" if the awk expression holds, else "missed".
verdict() { if awk "BEGIN { exit !($1) }" 2>/dev/null; then echo met; else echo missed; fi; }

# What a row's "what" is called in the tables.
endpoint_name() { case $1 in bare) echo /healthz ;; mixed) echo mix ;; *) echo "$1" ;; esac; }

# steps_table REGEX [COLUMN...]: the rows of $ROWS whose label matches REGEX, in run order, as a
# markdown table of those row columns (default 3 to 15; 2 is the endpoint). A retried step shows
# its rate as "R (retry)".
steps_table() {
  local re=$1; shift
  (($#)) || set -- {3..15}
  local head="|" align="|" c
  for c in "$@"; do
    head+=" ${STEP_HEADERS[$c]} |"
    if ((c == 2 || c == 15)); then align+=" --- |"; else align+=" ---: |"; fi
  done
  out "$head"
  out "$align"
  awk -F'\t' -v re="$re" -v cols="$*" '
    function cell(k) {
      if (k == 2) return ($2 == "bare" ? "/healthz" : $2 == "mixed" ? "mix" : $2)
      if (k == 3 && $1 ~ /-retry$/) return $3 " (retry)"
      return $k
    }
    BEGIN { n = split(cols, c, " ") }
    $1 ~ re { line = "|"; for (i = 1; i <= n; i++) line = line " " cell(c[i]) " |"; print line }' "$ROWS" \
    | tee -a "$SUMMARY"
}

# confirm_table COLUMNS PLAN...: the confirmation (see confirm_rounds) as a markdown table, a row
# per PLAN entry: endpoint, rate, then per COLUMNS word mN (median of row column N), sN (sum)
# or xN (max) over its rounds, and the rounds held.
confirm_table() {
  local cols=$1; shift
  local head="| endpoint | rate req/s |" align="| --- | ---: |" c p what rate sel line
  for c in $cols; do
    case $c in
      m*) head+=" ${STEP_HEADERS[${c#m}]} |" ;;
      s*) head+=" ${STEP_HEADERS[${c#s}]} (sum) |" ;;
      x*) head+=" ${STEP_HEADERS[${c#x}]} (max) |" ;;
      *) die "confirm_table: bad column $c" ;;
    esac
    align+=" ---: |"
  done
  out "$head rounds held |"
  out "$align ---: |"
  for p in "$@"; do
    IFS=: read -r what rate _ <<<"$p"
    sel=$(awk -F'\t' -v w="$what" -v r="$rate" '$1 ~ /^confirm/ && $2 == w && $3 == r' "$ROWS")
    line="| $(endpoint_name "$what") | $rate |"
    for c in $cols; do
      case $c in
        m*) line+=" $(cut -f"${c#m}" <<<"$sel" | med) |" ;;
        s*) line+=" $(cut -f"${c#s}" <<<"$sel" | awk '{ s += $1 } END { print s }') |" ;;
        x*) line+=" $(cut -f"${c#x}" <<<"$sel" | sort -n | tail -n 1) |" ;;
      esac
    done
    out "$line $(grep -c $'\tyes$' <<<"$sel" || true)/$CONFIRM |"
  done
}

# confirm_median WHAT RATE COLUMN: the median of a row column over WHAT's confirmation rounds
# at RATE ("-" if there were none).
confirm_median() {
  awk -F'\t' -v w="$1" -v r="$2" -v c="$3" '$1 ~ /^confirm/ && $2 == w && $3 == r { print $c }' "$ROWS" | med
}

# target_p99 WHAT: WHAT's p99 at $TARGET_RATE: the median of its confirmation rounds, else its
# ladder step, else "not reached ...".
target_p99() {
  local p
  p=$(confirm_median "$1" "$TARGET_RATE" 7)
  [[ $p = - ]] && p=$(awk -F'\t' -v l="$1-$TARGET_RATE" '$1 == l { print $7 }' "$ROWS")
  [[ -n $p ]] || p="not reached (ladder stopped below $TARGET_RATE)"
  echo "$p"
}

# ---------------------------------------------------------------- profile

# profile_step WHAT RATE: one more step (label profile-WHAT-RATE) with perf recording the server
# ($PERF_FREQ Hz, call graphs with $PERF_CALLGRAPH); perf-{dso,symbols,threads}.txt (and
# perf-inclusive.txt with call graphs) in $OUT_DIR.
profile_step() {
  command -v perf >/dev/null || die "PROFILE=1 needs perf"
  log "perf record during a $1 step at $2 req/s"
  local pargs=(-F "$PERF_FREQ" -p "$SERVER_PID" -o "$OUT_DIR/perf.data")
  [[ -z $PERF_CALLGRAPH ]] || pargs+=(--call-graph "$PERF_CALLGRAPH")
  perf record "${pargs[@]}" >"$OUT_DIR/perf-record.log" 2>&1 &
  PERF_PID=$!
  sleep 1
  "$STEP_FN" "profile-$1-$2" "$1" "$2" "$DURATION" >/dev/null
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
  perf_top 15 --no-children -g none --sort dso >"$OUT_DIR/perf-dso.txt"
  perf_top 80 --no-children -g none --sort symbol >"$OUT_DIR/perf-symbols.txt"
  perf_top 15 --no-children -g none --sort comm >"$OUT_DIR/perf-threads.txt"
  if [[ -n $PERF_CALLGRAPH ]]; then
    perf_top 80 --children --sort symbol -g none >"$OUT_DIR/perf-inclusive.txt"
  fi
}

perf_top() {  # N ARGS...: perf report, comment lines and padding dropped
  local n=$1; shift
  perf report -i "$OUT_DIR/perf.data" --stdio "$@" 2>/dev/null | grep -v '^#' | grep -v '^$' \
    | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//' | head -n "$n" || true
}

# perf_summary WHAT N: the summary's perf section (after profile_step): self time of the top N
# symbols, the top DSOs and threads, and inclusive time when call graphs were recorded.
perf_summary() {
  [[ -s $OUT_DIR/perf-symbols.txt ]] || return 0
  out "### perf: server self time by symbol, $1 (top $2)"
  out ""
  out '```'
  head -n "$2" "$OUT_DIR/perf-symbols.txt" | tee -a "$SUMMARY"
  out '```'
  out ""
  out '```'
  head -n 10 "$OUT_DIR/perf-dso.txt" | tee -a "$SUMMARY"
  head -n 6 "$OUT_DIR/perf-threads.txt" | tee -a "$SUMMARY"
  out '```'
  if [[ -s $OUT_DIR/perf-inclusive.txt ]]; then
    out ""
    out "Inclusive (children) time, top 40:"
    out ""
    out '```'
    head -n 40 "$OUT_DIR/perf-inclusive.txt" | tee -a "$SUMMARY"
    out '```'
  fi
}

# Checks the tools a benchmark needs and, unless SKIP_BUILD=1, builds the release binaries into
# $TARGET_DIR (at a lower priority than what is being measured).
prepare_binaries() {
  local tool
  for tool in curl jq python3 awk; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  # The server measured: $ZHIQILIAN_BIN (e.g. a build of another commit), else the one built here.
  ZQL_EXE=$BIN/zhiqilian
  if [[ -n ${ZHIQILIAN_BIN:-} ]]; then
    ZQL_EXE=$(realpath -e "$ZHIQILIAN_BIN") || die "ZHIQILIAN_BIN $ZHIQILIAN_BIN does not exist"
  fi
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    command -v cargo >/dev/null || die "cargo is required (or SKIP_BUILD=1)"
    log "building release binaries into $TARGET_DIR"
    local pkgs=(-p zhiqilian -p zhiqilian-bench)
    [[ -z ${ZHIQILIAN_BIN:-} ]] || pkgs=(-p zhiqilian-bench)
    CARGO_TARGET_DIR="$TARGET_DIR" nice -n 10 cargo build --release "${pkgs[@]}" 2>&1 | tail -n 3 >&2
  fi
  [[ -x $ZQL_EXE ]] || die "no zhiqilian binary at $ZQL_EXE"
}

# The folders of a run: $TARGET_DIR (absolute; $CARGO_TARGET_DIR or target/), $BIN (its
# release binaries), $OUT_DIR ($OUT_DIR or $SCRATCH_BASE/<name>-<UTC stamp>, created) and an
# empty $SUMMARY in it.
bench_dirs() {
  TARGET_DIR=${CARGO_TARGET_DIR:-target}
  [[ $TARGET_DIR = /* ]] || TARGET_DIR="$ROOT/$TARGET_DIR"
  BIN="$TARGET_DIR/release"
  STAMP=$(date -u +%Y%m%dT%H%M%SZ)
  OUT_DIR=${OUT_DIR:-$SCRATCH_BASE/$1-$STAMP}
  mkdir -p "$OUT_DIR"
  SUMMARY="$OUT_DIR/summary.md"
  : >"$SUMMARY"
  rm -f "$OUT_DIR/figures.tsv"
}


# ---------------------------------------------------------------- set-up

# bench_begin NAME: the common start of search.sh, matches.sh and load.sh: the defaults of the
# knobs they share, the run's folders (bench_dirs NAME, from the repository root) and the
# clean-up on exit.
bench_begin() {
  QUIET_CORES=${QUIET_CORES:-0.3} RETRY_NOISY=${RETRY_NOISY:-1}
  LOGIN=${LOGIN:-bench@example.com} PASSWORD=${PASSWORD:-bench-Passw0rd-2026}
  SKIP_BUILD=${SKIP_BUILD:-0} KEEP=${KEEP:-0} SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}
  cd "$ROOT" || die "cannot enter $ROOT"
  bench_dirs "$1"
  SCRATCH="" SERVER_PID="" OHA_PID="" PERF_PID=""
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

# knobs_given NAME...: "NAME=value " for each knob set in the environment (the command line shown
# in the summary).
knobs_given() {
  local v set=""
  for v in "$@"; do
    [[ -n ${!v:-} ]] && set+="$v=$(printf '%q' "${!v}") "
  done
  printf '%s' "$set"
}

# n_or_data_dir USAGE ARGS...: N (listings to generate: the one argument, default 100000), or ""
# when $DATA_DIR names an imported data folder (then no argument). Exits 2 with USAGE otherwise.
n_or_data_dir() {
  local usage=$1; shift
  if [[ -n ${DATA_DIR:-} ]]; then
    (($# == 0)) || { echo "$usage" >&2; exit 2; }
    return 0
  fi
  local n=${1:-100000}
  [[ $n =~ ^[0-9]+$ && $n -gt 0 && $# -le 1 ]] || { echo "$usage" >&2; exit 2; }
  echo "$n"
}

# find_oha: $OHA (given, on PATH, or ~/.cargo/bin/oha; cargo installs it when missing), checked for
# the options run_step uses.
find_oha() {
  OHA=${OHA:-$(command -v oha || true)}
  [[ -z $OHA && -x $HOME/.cargo/bin/oha ]] && OHA=$HOME/.cargo/bin/oha
  if [[ -z $OHA ]]; then
    log "installing oha (cargo install oha --locked)"
    cargo install oha --locked >&2
    OHA=$HOME/.cargo/bin/oha
  fi
  "$OHA" --help | grep -q -- '--latency-correction' || die "$OHA has no --latency-correction"
  "$OHA" --help | grep -q -- '--urls-from-file' || die "$OHA has no --urls-from-file"
}

# server_env: the environment of every zhiqilian command run on $DATA. Imported listings would be
# matched in the background for hours: not here. The whole load comes from one loopback address
# standing in for many callers: the per-address rate limits (sign-in included) would turn it
# into 429s.
server_env() {
  export ZQL_DATA_DIR="$DATA" ZQL_LOG=warn ZQL_BACKGROUND_JOBS=""
  export ZQL_RATE_LIMIT_IP_PER_MINUTE=10000000 ZQL_RATE_LIMIT_AUTH_PER_MINUTE=10000000
  unset ZQL_DATABASE_URL ZQL_CONFIG ZQL_BIND
  [[ -z ${WORKERS:-} ]] || export ZQL_WORKERS=$WORKERS
}

# run_facts: $GIT_REV, $GIT_DIRTY (tracked files changed), $GIT_DIRTY_FILES, $BIN_SHA (of the
# server binary) and $MACHINE (the summary's machine line).
run_facts() {
  GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  GIT_DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
  GIT_DIRTY_FILES=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | awk '{ print $2 }' | paste -sd' ' -)
  BIN_SHA=$(sha256sum "$ZQL_EXE" | cut -c1-12)
  local mem_gib cpu_model
  mem_gib=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
  cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  MACHINE="nproc $(nproc), ${mem_gib} GiB RAM, ${cpu_model:-unknown CPU}, $(uname -sr); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
}

# import_generated: generates $N listings ($SEED) into $LISTINGS and imports them (database and
# index) into $DATA; sets $IMPORT_SECS and $DATA_NOTE.
import_generated() {
  log "generating $N listings (seed $SEED)"
  "$BIN/gen-listings" --count "$N" --seed "$SEED" --out "$LISTINGS" 2>"$OUT_DIR/gen.log"
  log "import"
  local t0
  t0=$(now)
  "$ZQL_EXE" import "$LISTINGS" >"$OUT_DIR/import.log" 2>"$OUT_DIR/import.err" \
    || die "import failed: $(tail -n 5 "$OUT_DIR/import.err")"
  IMPORT_SECS=$(fsub "$(now)" "$t0")
  grep -q "^$N lines: $N created" "$OUT_DIR/import.log" || die "import did not create $N listings: $(cat "$OUT_DIR/import.log")"
  grep -q '^search index up to date' "$OUT_DIR/import.log" || die "the import did not bring the index up to date"
  DATA_NOTE="generated (gen-listings --count $N --seed $SEED) and imported in ${IMPORT_SECS} s"
}

# create_admin: the platform admin $LOGIN / $PASSWORD ($ADMIN_NOTE: created, or existing).
create_admin() {
  if echo "$PASSWORD" | "$ZQL_EXE" admin create --login "$LOGIN" --password-stdin \
    >"$OUT_DIR/admin.log" 2>&1; then
    ADMIN_NOTE="created"
  elif grep -q 'already exists' "$OUT_DIR/admin.log"; then
    ADMIN_NOTE="existing"
  else
    die "admin create failed: $(cat "$OUT_DIR/admin.log")"
  fi
}

# start_server MAX_SECS: `zhiqilian serve` on a free loopback port, waiting at most MAX_SECS for
# /healthz; sets $BASE, $SERVER_PID, $START_SECS (until /healthz answered) and $MEM_IDLE.
start_server() {
  local port ready=0 t0
  port=$(free_port)
  BASE="http://127.0.0.1:$port"
  log "starting the server on $BASE ($DATA)"
  t0=$(now)
  ZQL_BIND="127.0.0.1:$port" "$ZQL_EXE" serve >"$OUT_DIR/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 $(($1 * 5))); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "server exited: $(tail -n 20 "$OUT_DIR/serve.log")"
    if curl -sf --max-time 2 "$BASE/healthz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.2
  done
  ((ready)) || die "server not ready after $1 s"
  START_SECS=$(fsub "$(now)" "$t0")
  MEM_IDLE=$(mem_line)
  log "server ready in ${START_SECS}s: $MEM_IDLE"
}

login() {
  curl -sf --max-time 10 "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "$(jq -cn --arg l "$LOGIN" --arg p "$PASSWORD" '{login: $l, password: $p}')" | jq -er .access_token
}

# fig NAME VALUE: one figure of the run into $OUT_DIR/figures.tsv, for bench/compare.sh.
fig() { printf '%s\t%s\n' "$1" "$2" >>"$OUT_DIR/figures.tsv"; }
