# bench/lib.sh — shell helpers shared by the benchmark scripts (sourced, not run).
# They expect, where they use them: $SUMMARY (out), $SERVER_PID (mem_line, mem_field,
# wait_quiet, run_step), $QUIET_WAIT and $QUIET_CORES (wait_quiet, step_retry), and for
# run_step: $OUT_DIR, $ROWS, $URLS, $OHA, $CONNECTIONS, $P99_TARGET_MS, $MIN_COMPLETION,
# $BASE, $LOGIN, $PASSWORD.

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

held_of() { awk -F'\t' '{ print $15 }' <<<"$1"; }

noisy() { awk -F'\t' -v q="$QUIET_CORES" '{ exit !($13 >= q) }' <<<"$1"; }

# step_retry WHAT RATE: one ladder step, run again once if it missed amid noise.
step_retry() {
  local row
  row=$(run_step "$1-$2" "$1" "$2" "$DURATION")
  if [[ $(held_of "$row") != yes && $RETRY_NOISY = 1 ]] && noisy "$row"; then
    log "$1 at $2 req/s missed while other processes were busy: once more"
    row=$(run_step "$1-$2-retry" "$1" "$2" "$DURATION")
  fi
  printf '%s\n' "$row"
}

# Checks the tools a benchmark needs and, unless SKIP_BUILD=1, builds the release binaries into
# $TARGET_DIR (at a lower priority than what is being measured).
prepare_binaries() {
  local tool
  for tool in curl jq python3 awk; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    command -v cargo >/dev/null || die "cargo is required (or SKIP_BUILD=1)"
    log "building release binaries into $TARGET_DIR"
    CARGO_TARGET_DIR="$TARGET_DIR" nice -n 10 cargo build --release -p zhiqilian -p zhiqilian-bench \
      2>&1 | tail -n 3 >&2
  fi
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
}

