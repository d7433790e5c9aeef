#!/usr/bin/env bash
# The demo on embedded defaults: the sandbox Asterisk, the companion, a local webhook receiver and SMTP
# catcher, and two *123 calls (a person, an answering machine with a beep), both delivered. It prints what
# arrived, the portal's URL and a one-time admin login, and keeps running until Ctrl-C.
# Run as root on Debian: bash scripts/demo.sh   (DC_DEMO_SKIP_SETUP=1 skips scripts/setup.sh)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$HERE"
[ "${DC_DEMO_SKIP_SETUP:-}" = 1 ] || bash scripts/setup.sh
# Stop on Ctrl-C what the demo started, no more: a sandbox that was already up (the tests') stays up.
if bash scripts/sandbox.sh status >/dev/null 2>&1; then export DC_DEMO_STOP_SANDBOX=0; else export DC_DEMO_STOP_SANDBOX=1; fi
bash scripts/sandbox.sh start
exec node dist/scripts/demo.js "$(bash scripts/sandbox.sh path)"
