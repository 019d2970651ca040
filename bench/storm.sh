#!/usr/bin/env bash
# bench/storm.sh — a reconnect storm after a restart, one command:
#
#     bash bench/storm.sh                          # SQLite in a scratch folder
#     BACKENDS="sqlite postgres" bash bench/storm.sh
#
# `storm-bench` (bench/src/storm.rs) starts `zhiqilian serve`, opens $STREAMS event streams
# (synthetic members of $THREADS firms, each firm with one thread with firm a), has firm a post
# $RATE messages/s round-robin into the threads, SIGKILLs the server once $BEFORE are
# acknowledged and starts it again on the same data while the writer goes on; once $MISSED more
# are acknowledged, all $STREAMS streams reconnect at once with `Last-Event-ID` (retrying every
# 100–300 ms until taken) while the writer goes on. It checks that every stream received exactly
# the messages of its thread, 1..last, over both connections (no gap, no duplicate, no
# `reset`), and prints the time from the release to every stream back, to every stream holding
# its backlog, and to every stream holding every message (the writer stops 2 s after the last
# stream is back), with the restarted server's peak RSS and CPU time. Exit 1 if a stream
# missed or repeated anything.
#
# File descriptors: every stream is a socket in storm-bench and one in the server, both
# processes started from this shell: `ulimit -n` is raised to the hard limit and must be at
# least $STREAMS + 1000 (raise the hard limit, e.g. `ulimit -Hn 65536` as root, if it is not).
#
# Knobs [defaults]: STREAMS [5000] THREADS [10] RATE [50] BEFORE [200] MISSED [200]
#   BACKENDS [sqlite] PG_URL [postgres://postgres@127.0.0.1:5432] WORKERS [unset: CPU count]
#   PROFILE [release] SKIP_BUILD [0] CARGO_TARGET_DIR [target] SCRATCH_BASE [${TMPDIR:-/tmp}]
#   KEEP [0] OUT_DIR [$SCRATCH_BASE/zql-storm-DATE]
# Needs: cargo, python3, psql (PostgreSQL only).

set -euo pipefail
export LC_ALL=C

STREAMS=${STREAMS:-5000}
THREADS=${THREADS:-10}
RATE=${RATE:-50}
BEFORE=${BEFORE:-200}
MISSED=${MISSED:-200}
BACKENDS=${BACKENDS:-sqlite}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PROFILE=${PROFILE:-release}
SCRATCH_BASE=${SCRATCH_BASE:-${TMPDIR:-/tmp}}
KEEP=${KEEP:-0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $((STREAMS + 1000)) ]]; then
  die "open-file limit $(ulimit -n) is too low for $STREAMS streams (raise the hard limit)"
fi

bench_dirs zql-storm
[[ $PROFILE = release ]] || BIN="$TARGET_DIR/debug"
SCRATCH=$(mktemp -d "$SCRATCH_BASE/zql-storm.XXXXXX")
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
    --bin zhiqilian --bin storm-bench 2>&1 | tail -n 3 >&2
fi
[[ -n ${WORKERS:-} ]] && export ZQL_WORKERS="$WORKERS"

machine() { echo "nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"; }
out "# storm.sh $(date -u +%FT%TZ), code $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $PROFILE build"
out "machine before: $(machine); ulimit -n $(ulimit -n); $STREAMS streams over $THREADS threads, $RATE messages/s, $BEFORE before the kill, $MISSED after the restart before the streams return"
out ""
out "| backend | streams exact | restart s | all back s | all hold their backlog s | all hold every message s | back p50 / p99 ms | server peak RSS before kill / after restart MiB | server CPU s: release → all back / backlog / end | machine busy (cores) |"
out "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |"

status=0
for backend in $BACKENDS; do
  args=(--bin "$BIN/zhiqilian" --data-dir "$SCRATCH/$backend" --streams "$STREAMS" --threads "$THREADS"
    --rate "$RATE" --before "$BEFORE" --missed "$MISSED" --label "$backend")
  if [[ $backend = postgres ]]; then
    command -v psql >/dev/null || die "psql is required for the PostgreSQL run (or BACKENDS=sqlite)"
    PG_DB="zql_storm_$(date +%s)_$$"
    psql -q "$PG_URL/postgres" -c "CREATE DATABASE $PG_DB" >/dev/null
    args+=(--database-url "$PG_URL/$PG_DB")
  fi
  log "$backend: $STREAMS streams, kill, restart, reconnect storm"
  rc=0
  "$BIN/storm-bench" "${args[@]}" >"$OUT_DIR/$backend.json" 2> >(tee "$OUT_DIR/$backend.log" >&2) || rc=$?
  ((rc == 0)) || status=1
  [[ -s $OUT_DIR/$backend.json ]] || { out "| $backend | failed (exit $rc), see $OUT_DIR/$backend.log |"; continue; }
  out "$(python3 - "$OUT_DIR/$backend.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v, s = r["recovery"], r["server"]
print(f"| {r['backend']} | {r['streams_exact']} of {r['streams']} | {r['restart_s']} | {v['all_back_s']} | {v['all_backlog_s']} "
      f"| {v['all_complete_s']} | {v['back_p50_ms']} / {v['back_p99_ms']} | {s['peak_rss_mib_before_kill']} / {s['restarted_peak_rss_mib']} "
      f"| {s['cpu_s_release_to_all_back']} / {s['cpu_s_release_to_all_backlog']} / {s['cpu_s_release_to_end']} | {s['machine_busy_cores_during']} |")
for p in r["problems"]:
    print(f"\nPROBLEM ({r['backend']}): {p}")
PY
)"
  if [[ -n $PG_DB ]]; then
    psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
    PG_DB=""
  fi
done
out ""
out "machine after: $(machine)"
exit "$status"
