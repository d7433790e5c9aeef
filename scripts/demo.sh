#!/usr/bin/env bash
# The demo on embedded defaults: sandbox Asterisk + the companion + one scripted *123 call.
# Prints where the recording is. Run as root on Debian: bash scripts/demo.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$HERE"
bash scripts/setup.sh
bash scripts/sandbox.sh start
CHROOT=$(bash scripts/sandbox.sh path)
LOG=${DC_DEMO_LOG:-/tmp/dialplan-companion-demo.log}
: >"$LOG"
DC_RECORDINGS_LOCAL_DIR="$CHROOT/var/spool/asterisk/monitor" node dist/src/cli.js serve >>"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q 'ARI WebSocket connected' "$LOG" && break; sleep 0.2; done
grep -q 'ARI WebSocket connected' "$LOG" || { cat "$LOG" >&2; echo "demo: the companion did not connect to ARI" >&2; exit 1; }
echo "demo: companion running (pid $PID, log $LOG)"
node dist/scripts/demo-call.js "$LOG" "$CHROOT" "${1:-*1234175551234}" "${2:-8000}"
echo "demo: the sandbox Asterisk keeps running (scripts/sandbox.sh stop to stop it); companion log: $LOG"
echo "demo: to browse it in the recordings portal: printf '%s\\n' 'choose-a-password' | node dist/src/cli.js users add admin"
echo "      then DC_RECORDINGS_LOCAL_DIR=$CHROOT/var/spool/asterisk/monitor node dist/src/cli.js serve  and open http://127.0.0.1:8080"
