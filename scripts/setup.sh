#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian machine (as root):
# Debian packages, npm packages, the build, and the sandbox Asterisk chroot (cached; about a minute once).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$HERE"
[ "$(id -u)" = 0 ] || { echo "setup: run as root (apt-get, debootstrap and chroot need it)" >&2; exit 1; }

APT_PACKAGES=(debootstrap sip-tester ffmpeg sox espeak-ng curl ca-certificates docker-compose chromium iputils-ping openssl postgresql)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Native addons build against the system's Node headers on these machines.
export npm_config_nodedir=${npm_config_nodedir:-/usr}
# 'npm ci': exactly the committed lock, which it never rewrites ('npm install' on a fresh machine added
# other platforms' optional packages to it and left the clone dirty). better-sqlite3 builds from source.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci (from package-lock.json)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: build" >&2
npm run --silent build
bash scripts/sandbox.sh build
echo "setup: done" >&2
