#!/usr/bin/env bash
# Sandbox Asterisk: a real Asterisk 22 from Debian sid's packages, run in a sid chroot on 127.0.0.1.
#
#   scripts/sandbox.sh build          build the chroot once (cached outside the repo), install our conf
#   scripts/sandbox.sh start          build if missing, install conf, start Asterisk, wait until ARI answers
#   scripts/sandbox.sh stop           stop the Asterisk this script started (by its pid file)
#   scripts/sandbox.sh restart
#   scripts/sandbox.sh status         exit 0 when running and ARI answers
#   scripts/sandbox.sh cli "<cmd>"    run an Asterisk CLI command (asterisk -rx)
#   scripts/sandbox.sh install-conf   copy asterisk-conf/ and dialplan/ into the chroot (start does it too)
#   scripts/sandbox.sh path           print the chroot directory
#   scripts/sandbox.sh ports          print this node's ports (SIP, ARI, AMI, RTP) as shell variables
#
# Environment: DC_SANDBOX_ROOT (default /var/cache/dialplan-companion/sid-asterisk),
#              DC_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              DC_SANDBOX_NODE (default 1): 2, 3, ... is another Asterisk for multi-node tests: an overlay on
#              the same chroot with its own spool, logs and run directory, systemname pbxN (uniqueids
#              "pbxN-..."), and ports shifted by 2 per node (SIP 5062, ARI 8090, AMI 5040; RTP 22000-23999).
set -euo pipefail

BASE_ROOT=${DC_SANDBOX_ROOT:-/var/cache/dialplan-companion/sid-asterisk}
NODE=${DC_SANDBOX_NODE:-1}
[[ "$NODE" =~ ^[1-9]$ ]] || { echo "sandbox: DC_SANDBOX_NODE must be 1-9, got '$NODE'" >&2; exit 2; }
if [ "$NODE" = 1 ]; then ROOT=$BASE_ROOT; else ROOT="$BASE_ROOT-node$NODE/root"; fi
OFF=$(( (NODE - 1) * 2 ))
SIP_PORT=$((5060 + OFF))
ARI_PORT=$((8088 + OFF))
AMI_PORT=$((5038 + OFF))
RTP_START=$((20000 + (NODE - 1) * 2000))
RTP_END=$((RTP_START + 1999))
MIRROR=${DC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIDFILE="$ROOT/run/asterisk/sandbox.pid"
LOGFILE="$ROOT/var/log/asterisk/sandbox-console.log"
ARI_URL=${DC_ARI_URL:-http://127.0.0.1:$ARI_PORT}

die() { echo "sandbox: $*" >&2; exit 1; }
say() { echo "sandbox: $*" >&2; }

need_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (debootstrap, mount and chroot need it); try: sudo $0 $*"
}
need_tools() {
  local missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} = 0 ] || die "missing tool(s): ${missing[*]} (apt-get install -y debootstrap coreutils mount curl)"
}

mount_proc() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
}

in_chroot() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }

build() {
  need_root build
  local ROOT=$BASE_ROOT # the chroot every node shares (node 2+ are overlays on it)
  if [ -x "$ROOT/usr/sbin/asterisk" ] && [ -f "$ROOT/.dc-ready" ]; then
    say "chroot ready at $ROOT"
    return 0
  fi
  need_tools debootstrap chroot mount mountpoint
  local tmp="$ROOT.partial"
  # A half-built chroot from an interrupted run is thrown away: building is cheap, debugging one is not.
  if [ -d "$tmp" ]; then
    mountpoint -q "$tmp/proc" && umount "$tmp/proc" || true
    rm -rf "$tmp"
  fi
  mkdir -p "$(dirname "$ROOT")"
  say "debootstrap sid into $tmp (about 30 s)"
  debootstrap --variant=minbase sid "$tmp" "$MIRROR" >"$(dirname "$ROOT")/debootstrap.log" 2>&1 \
    || { tail -20 "$(dirname "$ROOT")/debootstrap.log" >&2; die "debootstrap failed (log: $(dirname "$ROOT")/debootstrap.log)"; }
  # sid's Release file can be older than the machine clock; apt would refuse it as expired.
  echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99no-check-valid"
  # No service may be started by a package's postinst inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
  chmod 755 "$tmp/usr/sbin/policy-rc.d"
  mount -t proc proc "$tmp/proc"
  say "apt-get install asterisk (about 15 s)"
  if ! chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends asterisk asterisk-core-sounds-en-wav asterisk-core-sounds-en-gsm' \
      >"$(dirname "$ROOT")/apt-chroot.log" 2>&1; then
    umount "$tmp/proc" || true
    tail -20 "$(dirname "$ROOT")/apt-chroot.log" >&2
    die "apt-get install asterisk failed inside the chroot"
  fi
  umount "$tmp/proc"
  chroot "$tmp" /usr/sbin/asterisk -V >&2
  touch "$tmp/.dc-ready"
  mv "$tmp" "$ROOT"
  say "chroot built at $ROOT"
}

# Node 2+: the shared chroot as the lower layer of an overlay; spool, logs and run directory are the node's
# own (bind-mounted directories, so they outlive a restart and never show another node's files).
node_root() {
  [ "$NODE" = 1 ] && return 0
  [ -d "$BASE_ROOT/etc/asterisk" ] || die "no chroot at $BASE_ROOT: run '$0 build' first"
  local d="$BASE_ROOT-node$NODE"
  mkdir -p "$d/upper" "$d/work" "$d/root" "$d/spool" "$d/log" "$d/run"
  mountpoint -q "$ROOT" || mount -t overlay overlay -o "lowerdir=$BASE_ROOT,upperdir=$d/upper,workdir=$d/work" "$ROOT"
  local m
  for m in spool:var/spool/asterisk/monitor log:var/log/asterisk run:run/asterisk; do
    mkdir -p "$ROOT/${m#*:}"
    mountpoint -q "$ROOT/${m#*:}" || mount --bind "$d/${m%%:*}" "$ROOT/${m#*:}"
  done
}

# Node 2+: the same configuration on this node's ports, with a systemname so its uniqueids differ from node 1's.
node_conf() {
  [ "$NODE" = 1 ] && return 0
  local etc="$ROOT/etc/asterisk"
  sed -i "s/^bindport=8088$/bindport=$ARI_PORT/" "$etc/http.conf"
  sed -i "s/^bind=127.0.0.1:5060$/bind=127.0.0.1:$SIP_PORT/" "$etc/pjsip.conf"
  sed -i "s/^port=5038$/port=$AMI_PORT/" "$etc/manager.conf"
  sed -i "s/^rtpstart=.*/rtpstart=$RTP_START/; s/^rtpend=.*/rtpend=$RTP_END/" "$etc/rtp.conf"
  sed -i "/^systemname *=/d; s/^\[options\]$/[options]\nsystemname = pbx$NODE/" "$etc/asterisk.conf"
}

install_conf() {
  need_root install-conf
  node_root
  [ -d "$ROOT/etc/asterisk" ] || die "no chroot at $ROOT: run '$0 build' first"
  # Our files replace Debian's samples of the same name; the others stay (Asterisk reads what it loads).
  install -m 0640 "$HERE"/asterisk-conf/*.conf "$ROOT/etc/asterisk/"
  install -m 0640 "$HERE"/dialplan/*.conf "$ROOT/etc/asterisk/"
  node_conf
  mkdir -p "$ROOT/var/spool/asterisk/monitor" "$ROOT/run/asterisk"
  # debootstrap leaves no /etc/hosts: Asterisk then asks the host's resolver for its own name on every
  # call, and bursts of calls stall in 5 s waves. The chroot answers for itself.
  local name
  name=$(hostname 2>/dev/null || echo localhost)
  printf '127.0.0.1\tlocalhost %s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "$name" >"$ROOT/etc/hosts"
  [ -s "$ROOT/etc/hostname" ] || echo "$name" >"$ROOT/etc/hostname"
  # Asterisk runs as 'asterisk' (with -U root it drops capabilities and cannot read its 0640 files).
  in_chroot chown -R asterisk:asterisk /etc/asterisk /var/lib/asterisk /var/spool/asterisk /var/log/asterisk /var/run/asterisk
}

pid_alive() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

ari_up() {
  # /ari/asterisk/info needs credentials; any HTTP answer on /ari/api-docs means the HTTP server and ARI are up.
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ARI_URL/ari/api-docs/resources.json" || true)
  [ "$code" = 200 ] || [ "$code" = 401 ]
}

start() {
  need_root start
  need_tools curl chroot
  build
  install_conf
  if pid_alive; then
    say "already running (pid $(cat "$PIDFILE"))"
  else
    mount_proc
    # Asterisk's own pid file lives in /var/run/asterisk; ours is the process we started.
    rm -f "$ROOT/run/asterisk/asterisk.ctl" "$ROOT/run/asterisk/asterisk.pid"
    setsid chroot "$ROOT" /usr/sbin/asterisk -f -U asterisk -G asterisk >"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    say "started (pid $!), waiting for ARI on $ARI_URL"
  fi
  for _ in $(seq 1 60); do
    if ari_up && [ -S "$ROOT/run/asterisk/asterisk.ctl" ]; then
      # Fully booted means the CLI answers and modules are loaded.
      if chroot "$ROOT" /usr/sbin/asterisk -rx 'core waitfullybooted' >/dev/null 2>&1; then
        say "ready"
        return 0
      fi
    fi
    pid_alive || { tail -30 "$LOGFILE" >&2; die "asterisk exited during start-up (console log above: $LOGFILE)"; }
    sleep 0.5
  done
  tail -30 "$LOGFILE" >&2
  die "ARI did not answer on $ARI_URL within 30 s"
}

stop() {
  need_root stop
  if ! pid_alive; then
    say "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid
  pid=$(cat "$PIDFILE")
  chroot "$ROOT" /usr/sbin/asterisk -rx 'core stop now' >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  # Only an Asterisk whose root is our chroot is ours; a host Asterisk is never touched.
  local p
  for p in $(pgrep -x asterisk || true); do
    [ "$(readlink "/proc/$p/root" 2>/dev/null)" = "$(readlink -f "$ROOT")" ] && kill -9 "$p" 2>/dev/null || true
  done
  rm -f "$PIDFILE"
  say "stopped"
}

status() {
  if pid_alive && ari_up; then
    echo "running (pid $(cat "$PIDFILE")), ARI at $ARI_URL, chroot $ROOT"
    return 0
  fi
  echo "not running (chroot: $([ -f "$ROOT/.dc-ready" ] && echo built || echo missing) at $ROOT)"
  return 3
}

cli() {
  need_root cli
  [ $# -ge 1 ] || die "usage: $0 cli \"<asterisk command>\""
  pid_alive || die "not running: start it with '$0 start'"
  chroot "$ROOT" /usr/sbin/asterisk -rx "$*"
}

cmd=${1:-}
shift || true
case "$cmd" in
  build) build ;;
  install-conf) install_conf ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  cli) cli "$@" ;;
  path) echo "$ROOT" ;;
  ports) echo "SIP_PORT=$SIP_PORT ARI_PORT=$ARI_PORT AMI_PORT=$AMI_PORT RTP_START=$RTP_START RTP_END=$RTP_END" ;;
  ""|-h|--help|help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (build|start|stop|restart|status|cli|install-conf|path|ports)" ;;
esac
