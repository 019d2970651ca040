# bench/lib.sh — shell helpers shared by the benchmark scripts (sourced, not run).
# They expect, where they use them: $SUMMARY (out), $SERVER_PID (mem_line, mem_field,
# wait_quiet), $QUIET_WAIT and $QUIET_CORES (wait_quiet).

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
