#!/usr/bin/env bash
# Installs the built companion as a service on a Debian PBX host (as root), from a clone where
# `npm ci && npm run build` has run:
#
#   /opt/dialplan-companion                      the code (dist/, production node_modules), replaced on upgrade
#   /etc/dialplan-companion/env                  settings (from packaging/env.example; kept on upgrade)
#   /etc/dialplan-companion/secrets/             one file per secret, root:dialplan-companion 0640
#   /var/lib/dialplan-companion                  the catalog
#   /etc/systemd/system/dialplan-companion.service
#   user and group dialplan-companion, a member of group asterisk (Debian's spool is 0750 asterisk)
#
# then runs `doctor` as that user with that environment and exits with its status.
#
#   --root DIR           install into DIR (an image or a chroot) instead of /; doctor runs chrooted
#   --set KEY=VALUE      set a line of the env file (repeatable), e.g. --set DC_DIAL_ENDPOINT='PJSIP/${NUMBER}@trunk'
#   --secret NAME=FILE   copy FILE to secrets/NAME (repeatable): ari-password, ami-secret, webhook-secret, ...
#   --no-doctor          skip the final check
#   --start              (re)start the service under systemd afterwards
#
# session-secret and link-secret are generated when missing; the others are yours to write.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=/
SETS=()
SECRETS=()
DOCTOR=1
START=0
die() { echo "install: $*" >&2; exit 1; }
say() { echo "install: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --set) [[ ${2:-} == DC_*=* ]] || die "--set needs DC_KEY=VALUE (got '${2:-}')"; SETS+=("$2"); shift 2 ;;
    --secret) [[ ${2:-} =~ ^[a-z0-9-]+=.+ ]] || die "--secret needs NAME=FILE (got '${2:-}')"; SECRETS+=("$2"); shift 2 ;;
    --no-doctor) DOCTOR=0; shift ;;
    --start) START=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
ROOT=${ROOT%/}
[ "$(id -u)" = 0 ] || die "run as root (it creates a user and writes under /etc, /opt and /var/lib)"
[ -d "$ROOT/etc" ] || die "$ROOT/ does not look like a root file system (no etc/)"
[ -f "$HERE/dist/src/cli.js" ] && [ -d "$HERE/node_modules" ] || die "build first: npm ci && npm run build (in $HERE)"
command -v npm >/dev/null || die "npm is needed here to drop the development packages"

in_root() { if [ -z "$ROOT" ]; then "$@"; else chroot "$ROOT" "$@"; fi; }
NODE_V=$(in_root node -v 2>/dev/null) || die "no node in ${ROOT:-/} (apt-get install nodejs: version 20 or later)"
[ "${NODE_V#v}" != "$NODE_V" ] && [ "$(echo "${NODE_V#v}" | cut -d. -f1)" -ge 20 ] || die "node $NODE_V is too old (20 or later)"

USER_NAME=dialplan-companion
PREFIX=/opt/dialplan-companion
ETC=/etc/dialplan-companion
STATE=/var/lib/dialplan-companion
RR=(); [ -n "$ROOT" ] && RR=(--root "$ROOT")

# The user: a system account with no shell, in group asterisk when the PBX has one.
if ! grep -q "^$USER_NAME:" "$ROOT/etc/passwd"; then
  useradd "${RR[@]}" --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
  say "user $USER_NAME created"
fi
if grep -q '^asterisk:' "$ROOT/etc/group"; then
  usermod "${RR[@]}" -a -G asterisk "$USER_NAME"
else
  say "warning: no group 'asterisk' here: give $USER_NAME read access to the recordings spool yourself"
fi

# The code: staged beside the old one, then swapped, so a failed copy never leaves half an install.
mkdir -p "$ROOT$PREFIX.new"
rm -rf "${ROOT:?}$PREFIX.new"/*
cp -a "$HERE/dist" "$HERE/node_modules" "$HERE/package.json" "$HERE/package-lock.json" "$HERE/README.md" \
  "$HERE/packaging" "$HERE/dialplan" "$HERE/asterisk-conf" "$ROOT$PREFIX.new/"
(cd "$ROOT$PREFIX.new" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
chown -R root:root "$ROOT$PREFIX.new"
if [ -d "$ROOT$PREFIX" ]; then mv "$ROOT$PREFIX" "$ROOT$PREFIX.old"; fi
mv "$ROOT$PREFIX.new" "$ROOT$PREFIX"
rm -rf "$ROOT$PREFIX.old"
say "code in $PREFIX ($(du -sh "$ROOT$PREFIX" | cut -f1))"

# Directories: the catalog is the service's; configuration and secrets are root's, readable by its group.
# (ids looked up in the target's own passwd: with --root they may differ from this host's)
UID_=$(in_root id -u "$USER_NAME")
GID=$(in_root id -g "$USER_NAME")
install -d -m 0750 -o root -g "$GID" "$ROOT$ETC" "$ROOT$ETC/secrets"
install -d -m 0750 -o "$UID_" -g "$GID" "$ROOT$STATE"

if [ ! -f "$ROOT$ETC/env" ]; then
  install -m 0640 -o root -g "$GID" "$HERE/packaging/env.example" "$ROOT$ETC/env"
  say "settings in $ETC/env (from packaging/env.example)"
fi
for kv in "${SETS[@]}"; do
  key=${kv%%=*} value=${kv#*=}
  # Single quotes: neither the shell nor systemd expands ${NUMBER} in a value.
  line="$key='${value//\'/\'\\\'\'}'"
  tmp=$(mktemp)
  awk -v k="$key" -v l="$line" 'BEGIN{d=0} $0 ~ "^#? ?"k"=" {if(!d){print l; d=1}; next} {print} END{if(!d) print l}' \
    "$ROOT$ETC/env" >"$tmp"
  install -m 0640 -o root -g "$GID" "$tmp" "$ROOT$ETC/env"
  rm -f "$tmp"
done

for s in session-secret link-secret; do
  f="$ROOT$ETC/secrets/$s"
  [ -s "$f" ] || { head -c 32 /dev/urandom | base64 | tr -d '\n=' >"$f"; say "generated secrets/$s"; }
done
for kv in "${SECRETS[@]}"; do
  name=${kv%%=*} file=${kv#*=}
  [ -r "$file" ] || die "--secret $name: cannot read $file"
  install -m 0640 -o root -g "$GID" "$file" "$ROOT$ETC/secrets/$name"
done
chown root:"$GID" "$ROOT$ETC/secrets"/*
chmod 0640 "$ROOT$ETC/secrets"/*
for s in ari-password ami-secret; do
  [ -s "$ROOT$ETC/secrets/$s" ] || say "to do: write the $s (ari.conf / manager.conf) to $ETC/secrets/$s"
done

install -D -m 0644 "$HERE/packaging/dialplan-companion.service" "$ROOT/etc/systemd/system/dialplan-companion.service"
# The CLI with the service's settings: `dialplan-companion doctor`, `dialplan-companion users add admin`, ...
install -d "$ROOT/usr/local/bin"
cat >"$ROOT/usr/local/bin/dialplan-companion" <<WRAPPER
#!/bin/sh
# Installed by dialplan-companion's scripts/install.sh: the CLI with the service's settings and, from root,
# as the service's user (so files it creates belong to the service).
set -a; . $ETC/env; set +a
[ "\$(id -u)" = 0 ] && exec runuser -u $USER_NAME -- node $PREFIX/dist/src/cli.js "\$@"
exec node $PREFIX/dist/src/cli.js "\$@"
WRAPPER
chmod 0755 "$ROOT/usr/local/bin/dialplan-companion"
if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable dialplan-companion.service >/dev/null 2>&1
  say "systemd unit installed and enabled"
  [ "$START" = 1 ] && systemctl restart dialplan-companion.service && say "started"
else
  say "systemd unit in /etc/systemd/system (not enabled: no running systemd here)"
fi

[ "$DOCTOR" = 1 ] || exit 0
say "doctor, as $USER_NAME with $ETC/env:"
in_root /usr/local/bin/dialplan-companion doctor
