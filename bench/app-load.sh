#!/usr/bin/env bash
# First-visit load time of the firm app (H5 at /app) beside the staff
# console's, under Chromium's "Fast 4G" throttling with a 4× CPU slowdown:
# starts `zhiqilian serve` on a scratch SQLite folder with one verified firm
# and one listing, then runs miniprogram/scripts/load-time.mjs.
# Needs: a built server (target/release or target/debug; BIN= to choose),
# the H5 build (`npm run build:h5` in miniprogram/), node, chromium, curl, python3.
# Usage: bash bench/app-load.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BIN=${BIN:-}
if [[ -z $BIN ]]; then
  for b in target/release/zhiqilian target/debug/zhiqilian; do [[ -x $b ]] && { BIN=$b; break; }; done
fi
[[ -x ${BIN:-} ]] || { echo "no server binary: cargo build --release -p zhiqilian" >&2; exit 1; }
[[ -f miniprogram/dist/h5/index.html ]] || { echo "no H5 build: (cd miniprogram && npm run build:h5)" >&2; exit 1; }

SCRATCH=$(mktemp -d)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ZQL_DATA_DIR=$SCRATCH ZQL_BIND=127.0.0.1:$PORT ZQL_APP_DIR=$PWD/miniprogram/dist/h5
export ZQL_RATE_LIMIT_AUTH_PER_MINUTE=10000 ZQL_LOG=warn
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf -- "$SCRATCH"
}
trap cleanup EXIT
"$BIN" serve > "$SCRATCH/server.log" 2>&1 &
SERVER_PID=$!
API=http://127.0.0.1:$PORT
for _ in $(seq 1 100); do curl -sf "$API/healthz" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
echo 'admin-Passw0rd' | "$BIN" admin create --login admin@park.example --password-stdin >/dev/null
ADMIN=$(curl -sf "$API/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"login":"admin@park.example","password":"admin-Passw0rd"}' | json "['access_token']")
COMMUNITY=$(curl -sf "$API/api/v1/communities" -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
  -d '{"name":"大港工业社区","district":"宁波市北仑区","lat":29.93,"lon":121.87}' | json "['id']")
FIRM=$(curl -sf "$API/api/v1/firms/register" -H 'content-type: application/json' -d '{
  "name": "宁波甬港模塑科技有限公司", "uscc": "91330206625496915B", "community_id": "'"$COMMUNITY"'",
  "address": "宁波市北仑区新碶街道大港五路66号", "lat": 29.9321, "lon": 121.8683,
  "contact_name": "王经理", "contact_phone": "0574-86880000",
  "admin": {"login": "13800000001", "password": "firm-Passw0rd", "display_name": "王芳"}}' | json "['firm']['id']")
curl -sf -X POST "$API/api/v1/firms/$FIRM/verify" -H "authorization: Bearer $ADMIN" >/dev/null
TOKEN=$(curl -sf "$API/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"login":"13800000001","password":"firm-Passw0rd"}' | json "['access_token']")
curl -sf "$API/api/v1/listings" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{
  "side": "offer", "kind": "equipment", "title": "380T注塑机 夜班机时共享",
  "quantity": {"amount": 2, "unit": "台"}, "attributes": {"equipment_type": "注塑机", "clamping_force_t": 380}}' >/dev/null

echo "server: $BIN"
node miniprogram/scripts/load-time.mjs "$API" 13800000001 firm-Passw0rd "$RUNS"
