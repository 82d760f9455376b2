#!/usr/bin/env bash
# Install or upgrade roadside on Raspberry Pi OS (or any Debian 12+ with systemd) from an offline
# bundle (scripts/bundle.sh), with no network needed: the app as a release folder
# /opt/roadside/releases/NAME-SHA (current -> it, previous -> the one before), the bundle's own
# Node.js 20 (runtime/node), gpiod from the bundle's debs/ when gpiomon is missing, the system user
# roadside in groups gpio, dialout and i2c, /etc/roadside (root:roadside 0770) and the systemd unit.
# An upgrade restarts a running service and rolls back to the previous release by itself when the
# new one does not come up healthy. Safe to run again; the config and the outbox are kept.
#
#   sudo scripts/install.sh --bundle FILE.tar.gz --enable   from a bundle (FILE.tar.gz.sha256 beside it)
#   sudo scripts/install.sh                                  from this checkout (needs the internet)
#
# Then: roadside provision, roadside doctor (docs/field-guide.md).
set -euo pipefail

PREFIX=/opt/roadside
USER_NAME=roadside
NODE_MAJOR=20
bundle=""
dry=0
enable=0
skip_checksum=0
health_timeout=120
settle=15
root=""
prefix_given=0

usage() {
  # the header comment above, up to the first line of code
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  cat <<'EOF'

Options:
      --bundle FILE          install from an offline bundle made by scripts/bundle.sh
      --enable               enable the service at boot and start it (needs /etc/roadside/device.yaml)
      --skip-checksum        install even without a matching FILE.sha256 (a bundle copied by hand)
      --health-timeout SECS  how long the restart may take before it counts as failed (default 120)
      --settle SECS          after the restart the service must stay up this long, same process, no
                             restarts, or the previous release comes back (default 15)
      --prefix DIR           where the releases go (default /opt/roadside)
      --root DIR             install into DIR as if it were / (for tests): no users,
                             packages or systemd are touched
      --dry-run              check the bundle (checksum, architecture), print what would be done,
                             change nothing
  -h, --help                 show this help

Exit codes: 0 installed (or upgraded and healthy), 1 failed or rolled back (the reason is printed;
the previous release runs again), 2 bad usage.
EOF
}

need_value() { [ $# -ge 2 ] || { echo "install.sh: $1 needs a value (see --help)" >&2; exit 2; }; }
need_number() { [[ "$2" =~ ^[0-9]+$ ]] || { echo "install.sh: $1 $2: give a whole number of seconds" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) need_value "$@"; bundle="$2"; shift 2 ;;
    --prefix) need_value "$@"; PREFIX="$2"; prefix_given=1; shift 2 ;;
    --root) need_value "$@"; root="$2"; shift 2 ;;
    --health-timeout) need_value "$@"; need_number "$1" "$2"; health_timeout="$2"; shift 2 ;;
    --settle) need_value "$@"; need_number "$1" "$2"; settle="$2"; shift 2 ;;
    --enable) enable=1; shift ;;
    --skip-checksum) skip_checksum=1; shift ;;
    --no-node) shift ;; # accepted for old command lines: the bundle brings Node.js now
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
# run a command that changes the system; with --dry-run, show it instead
run() {
  if [ "$dry" = 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}
# a change to the system outside the app folder: skipped under --root
sys() {
  if [ -n "$root" ]; then
    printf '  (skipped under --root: %s)\n' "$*"
  else
    run "$@"
  fi
}

if [ -n "$root" ]; then
  mkdir -p "$root"
  root="$(cd "$root" && pwd)"
  [ "$prefix_given" = 1 ] || PREFIX="$root/opt/roadside"
fi
BIN_DIR="$root/usr/local/bin"
ETC="$root/etc/roadside"
UNIT="$root/etc/systemd/system/roadside.service"
CONFIG="$ETC/device.yaml"

if [ "$dry" = 0 ] && [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  die "run it as root: sudo $0 $*"
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

# --- from a checkout: make a bundle of it first ---------------------------------------------------
node_major() {
  if command -v node >/dev/null 2>&1; then
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
  else
    echo 0
  fi
}
if [ -z "$bundle" ]; then
  [ -f "$here/scripts/bundle.sh" ] || die "no --bundle given and $here is not a roadside checkout: give --bundle FILE"
  # building needs Node.js and npm here (the bundle then brings its own Node.js for the service)
  if [ "$(node_major)" -lt "$NODE_MAJOR" ]; then
    say "installing Node.js and npm to build the app (Debian offers $(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *//p'))"
    sys apt-get update -qq
    sys apt-get install -y -qq nodejs npm
    [ "$dry" = 1 ] || [ "$(node_major)" -ge 18 ] || die "Node.js 18 or later is needed to build the app: install it, then run this again"
  fi
  if [ ! -d "$here/node_modules" ]; then
    say "installing the app's packages (npm ci)"
    run npm --prefix "$here" ci --no-audit --no-fund
  fi
  tmp="$(mktemp -d)"
  cleanup+=("$tmp")
  say "making a bundle of this checkout"
  if [ "$dry" = 1 ]; then
    printf '+ %s/scripts/bundle.sh --no-debs --output %s\n' "$here" "$tmp"
    say "done (dry run): nothing was changed"
    exit 0
  fi
  "$here/scripts/bundle.sh" --no-debs --output "$tmp" >&2
  bundle="$(find "$tmp" -maxdepth 1 -name 'roadside-*.tar.gz' | head -n 1)"
fi

# --- the bundle: checksum, what it is, whether it fits this device ----------------------------------
[ -f "$bundle" ] || die "no bundle at $bundle"
bundle="$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")"
sum="$(sha256sum "$bundle" | cut -d' ' -f1)"
if [ "$skip_checksum" = 1 ]; then
  warn "not checking $bundle against a .sha256 (--skip-checksum)"
elif [ ! -f "$bundle.sha256" ]; then
  die "refusing $bundle: no $(basename "$bundle").sha256 beside it to check it against. Copy it along with the bundle (scripts/bundle.sh writes it), or give --skip-checksum if you trust the file"
else
  want_sum="$(cut -d' ' -f1 "$bundle.sha256" | head -n 1)"
  [ "$want_sum" = "$sum" ] ||
    die "refusing $bundle: its sha256 is $sum, $(basename "$bundle").sha256 says $want_sum: the copy is damaged or not the bundle the .sha256 was made for. Copy it again (or give --skip-checksum)"
  say "checksum of $(basename "$bundle") matches its .sha256"
fi
listing="$(tar -tzf "$bundle")" || die "$bundle is not a readable .tar.gz: copy it again"
# the release is named after the tarball's top folder (what it holds, whatever BUNDLE-INFO says)
name="$(printf '%s\n' "$listing" | sed -n 's#^\([^/]*\)/BUNDLE-INFO$#\1#p' | head -n 1)"
[ -n "$name" ] || die "$bundle has no BUNDLE-INFO: it is not a bundle of scripts/bundle.sh"
info="$(tar -xzOf "$bundle" "$name/BUNDLE-INFO")"
field() { printf '%s\n' "$info" | sed -n "s/^$1=//p" | head -n 1; }
b_arch="$(field arch)"
b_abi="$(field node_abi)"
b_node="$(field node_bundled)"
b_version="$(field version)"
# the userland decides (a 64-bit kernel under 32-bit Raspberry Pi OS says aarch64 in uname -m)
case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  amd64 | x86_64) here_arch=x64 ;;
  arm64 | aarch64) here_arch=arm64 ;;
  armhf | armv7l | armv6l) here_arch=arm ;;
  *) here_arch="$(uname -m)" ;;
esac
[ "$b_arch" = "$here_arch" ] ||
  die "$(basename "$bundle") is for linux-$b_arch, this device is linux-$here_arch: build one with scripts/bundle.sh --arch $([ "$here_arch" = arm ] && echo armhf || echo "$here_arch")"
# native files compiled against a newer glibc do not load (better-sqlite3 built on bookworm needs 2.34)
b_glibc="$(field glibc)"
have_glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | cut -d' ' -f2 || true)"
if [ -n "$b_glibc" ] && [ -n "$have_glibc" ] && [ "$(printf '%s\n%s\n' "$b_glibc" "$have_glibc" | sort -V | head -n 1)" != "$b_glibc" ]; then
  die "$(basename "$bundle") needs glibc $b_glibc or newer (Debian 12 bookworm, Raspberry Pi OS bookworm or later), this system has $have_glibc: upgrade the OS"
fi
say "bundle $name (roadside $b_version, linux-$b_arch, Node.js $(field node) $([ "$b_node" = yes ] && echo bundled || echo "not bundled"), built $(field built) from $(field commit))"

release="$name-${sum:0:8}"
rel_dir="$PREFIX/releases/$release"

# --- Node.js: the bundle's own, else this system's (same ABI as the native addons) ------------------
sys_node="$(command -v node || echo /usr/bin/node)"
if [ "$b_node" = yes ]; then
  say "Node.js: the bundle's runtime/node"
else
  command -v node >/dev/null || die "the bundle has no Node.js (built with --no-node) and this device has none: use a bundle with runtime/node, or install Node.js $NODE_MAJOR"
  have_abi="$("$sys_node" -p 'process.versions.modules')"
  [ "$have_abi" = "$b_abi" ] ||
    die "the bundle's native addons are for Node.js ABI $b_abi, $sys_node is $("$sys_node" --version) (ABI $have_abi): use a bundle with runtime/node (scripts/bundle.sh without --no-node)"
  say "Node.js: $sys_node $("$sys_node" --version)"
fi
# the node a release runs with: its own when it has one (the unit and the wrapper go through
# `current`, so a rollback takes its node along)
node_of() {
  if [ -x "$1/runtime/node/bin/node" ] || { [ "$dry" = 1 ] && [ "$b_node" = yes ]; }; then
    echo "$1/runtime/node/bin/node"
  else
    echo "$sys_node"
  fi
}

# --- gpiod (gpiomon reads GPIO edges with kernel timestamps) and i2c-tools (i2ctransfer reads the
# ADS1115 on /dev/i2c-1) ------------------------------------------------------------------------------
# each from the bundle's debs/ only when its tool is missing: a newer gpiod the system already has is
# never replaced by the bundle's
has_debs=0
if printf '%s\n' "$listing" | grep "^$name/debs/.*\.deb$" >/dev/null; then has_debs=1; fi
debs_tmp=""
install_debs() { # tool, package glob(s) inside debs/, what it is for, packages its deb depends on
  local tool="$1" globs="$2" why="$3" deps="${4:-}" g d files=()
  if command -v "$tool" >/dev/null 2>&1; then
    say "$tool is already installed"
    return
  fi
  # dpkg -i does not fetch dependencies: a half-configured package would leave apt broken
  for d in $deps; do
    if ! dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed"; then
      warn "$tool is missing and its package needs $d, which is not installed: $why"
      return
    fi
  done
  if [ "$has_debs" = 0 ]; then
    warn "$tool is missing and the bundle has no debs/: $why"
    return
  fi
  say "installing $tool from the bundle's debs/"
  if [ -z "$debs_tmp" ]; then
    debs_tmp="$(mktemp -d)"
    cleanup+=("$debs_tmp")
    if [ -z "$root" ] && [ "$dry" = 0 ]; then tar -xzf "$bundle" -C "$debs_tmp" --wildcards "$name/debs/*.deb"; fi
  fi
  # shellcheck disable=SC2206 # the package globs are meant to expand
  for g in $globs; do files+=("$debs_tmp/$name/debs/"$g); done
  sys dpkg -i "${files[@]}"
}
install_debs gpiomon "gpiod_*.deb libgpiod*.deb" "GPIO inputs need it (apt install gpiod)"
install_debs i2ctransfer "i2c-tools_*.deb libi2c*.deb" "an ADS1115 on a Raspberry Pi needs it (apt install i2c-tools)" \
  "perl adduser udev"

# --- user and groups --------------------------------------------------------------------------------
if ! getent group gpio >/dev/null; then
  # Raspberry Pi OS has it (udev gives it /dev/gpiochip*); elsewhere make it and the rule
  say "creating group gpio and its udev rule"
  sys groupadd --system gpio
  if [ -z "$root" ] && [ "$dry" = 0 ]; then
    echo 'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"' >/etc/udev/rules.d/60-roadside-gpio.rules
    if udevadm control --reload-rules 2>/dev/null; then udevadm trigger --subsystem-match=gpio 2>/dev/null || true; fi
  fi
fi
for g in i2c dialout; do
  getent group "$g" >/dev/null || { say "creating group $g"; sys groupadd --system "$g"; }
done
if getent passwd "$USER_NAME" >/dev/null; then
  say "user $USER_NAME exists"
else
  say "creating system user $USER_NAME"
  sys useradd --system --user-group --no-create-home --home-dir /var/lib/roadside --shell /usr/sbin/nologin "$USER_NAME"
fi
sys usermod -a -G gpio,dialout,i2c "$USER_NAME"

# --- config folder: the service saves a remotely applied config there -------------------------------
run mkdir -p "$ETC"
sys chown "root:$USER_NAME" "$ETC"
run chmod 0770 "$ETC"
if [ -f "$CONFIG" ]; then
  sys chown "root:$USER_NAME" "$CONFIG"
  run chmod 0640 "$CONFIG"
fi

# --- the release ------------------------------------------------------------------------------------
if [ -d "$PREFIX" ] && [ ! -e "$PREFIX/releases" ] && [ -f "$PREFIX/bin/roadside.js" ]; then
  # an install of the old flat layout (/opt/roadside = the app): it becomes the previous release
  say "moving the app in $PREFIX (older layout) to $PREFIX/releases/legacy"
  run mv -T "$PREFIX" "$PREFIX.legacy"
  run mkdir -p "$PREFIX/releases"
  run mv -T "$PREFIX.legacy" "$PREFIX/releases/legacy"
  run ln -sfn releases/legacy "$PREFIX/current"
fi
old_current="$(readlink "$PREFIX/current" 2>/dev/null || true)"
old_previous="$(readlink "$PREFIX/previous" 2>/dev/null || true)"
unpacked=0
if [ -d "$rel_dir" ]; then
  say "release $release is already unpacked"
else
  unpacked=1
  say "unpacking $(basename "$bundle") into $rel_dir"
  run mkdir -p "$PREFIX/releases"
  run rm -rf "$rel_dir.tmp"
  run mkdir -p "$rel_dir.tmp"
  run tar -xzf "$bundle" -C "$rel_dir.tmp" --strip-components=1
  if [ "$dry" = 0 ]; then
    # the native modules load here with the node that will run them, or nothing changes (whether
    # the app itself comes up is the restart's test below, with a rollback)
    check_node="$(node_of "$rel_dir.tmp")"
    if ! "$check_node" -e 'const D = require(process.argv[1] + "/node_modules/better-sqlite3"); new D(":memory:").close()' "$rel_dir.tmp"; then
      rm -rf "$rel_dir.tmp"
      die "the native modules of $name do not load here with $check_node (wrong architecture or Node.js ABI?): nothing was changed"
    fi
  fi
  run mv -T "$rel_dir.tmp" "$rel_dir"
fi

# point current (and previous) at releases atomically: a reader sees the old or the new link, never none
point() {
  run ln -sfn "$2" "$PREFIX/$1.new"
  run mv -T "$PREFIX/$1.new" "$PREFIX/$1"
}
if [ "$old_current" != "releases/$release" ]; then
  [ -n "$old_current" ] && point previous "$old_current"
  point current "releases/$release"
  say "current -> releases/$release${old_current:+ (previous -> $old_current)}"
fi

# the command, for people and scripts: follows current, so it is always the running release's
wrapper() {
  cat <<EOF
#!/bin/sh
# written by roadside's install.sh: the app of $PREFIX/current with its own Node.js (runtime/node)
node=$sys_node
if [ -x $PREFIX/current/runtime/node/bin/node ]; then node=$PREFIX/current/runtime/node/bin/node; fi
exec "\$node" $PREFIX/current/bin/roadside.js "\$@"
EOF
}
say "writing $BIN_DIR/roadside"
run mkdir -p "$BIN_DIR"
if [ "$dry" = 1 ]; then printf '+ write %s/roadside\n' "$BIN_DIR"; else wrapper >"$BIN_DIR/roadside.new" && chmod 0755 "$BIN_DIR/roadside.new" && mv -T "$BIN_DIR/roadside.new" "$BIN_DIR/roadside"; fi

# --- the unit, from the release it will run ---------------------------------------------------------
# the release's own `roadside install` writes it: a newer release may need a newer unit
write_unit() {
  local rel="$1" out
  say "writing $UNIT with $rel's roadside install"
  out="$(run "$(node_of "$PREFIX/current")" "$PREFIX/$rel/bin/roadside.js" install --node "$(node_of "$PREFIX/current")" \
    --app-dir "$PREFIX/current" --config "$CONFIG" --output "$UNIT")" || { printf '%s\n' "$out"; return 1; }
  # its notes, not its "next:" steps (this script takes them)
  printf '%s\n' "$out" | grep -E '^(\+ |wrote |note: )' || true
}
unit_ok=1
write_unit "releases/$release" || unit_ok=0

systemd=0
if [ -z "$root" ] && [ -d /run/systemd/system ]; then systemd=1; fi
# tests drive the restart and rollback with a stand-in systemctl on PATH (test/field/bundle.test.ts)
if [ "${ROADSIDE_INSTALL_FAKE_SYSTEMD:-}" = yes ]; then systemd=1; fi
was_active=0
if [ "$systemd" = 1 ] && systemctl is-active --quiet roadside; then was_active=1; fi

rollback() {
  local why="$1"
  echo "install.sh: $why" >&2
  if [ -z "$old_current" ] || [ "$old_current" = "releases/$release" ]; then
    if [ "$systemd" = 1 ]; then journalctl -u roadside -n 30 --no-pager >&2 || true; fi
    die "there is no previous release to go back to; fix the cause above and run this again"
  fi
  say "rolling back: current -> $old_current"
  point current "$old_current"
  if [ -n "$old_previous" ]; then point previous "$old_previous"; else run rm -f "$PREFIX/previous"; fi
  write_unit "$old_current" || warn "the previous release could not write its unit; the new one's is kept"
  if [ "$systemd" = 1 ]; then
    run systemctl daemon-reload
    if [ "$was_active" = 1 ] || [ "$enable" = 1 ]; then
      if timeout "$health_timeout" systemctl restart roadside; then
        say "the previous release runs again: $(systemctl show -p MainPID --value roadside | sed 's/^/MainPID /')"
      else
        warn "the previous release did not start either: journalctl -u roadside"
      fi
    fi
  fi
  # the failed release goes (unless it was unpacked before, and may be the previous one)
  if [ "$unpacked" = 1 ]; then run rm -rf "$rel_dir"; fi
  die "rolled back to $old_current: $release $why. Its log: journalctl -u roadside -b"
}

[ "$unit_ok" = 1 ] || rollback "could not write the unit (its roadside install failed, see above)"

if [ "$systemd" = 0 ]; then
  if [ -z "$root" ]; then warn "systemd is not running here (a container or chroot?): nothing was started"; fi
else
  run systemctl daemon-reload
  if [ "$enable" = 1 ]; then
    say "enabling roadside at boot"
    run systemctl enable roadside
  fi
  if [ "$was_active" = 1 ] || [ "$enable" = 1 ]; then
    if [ ! -f "$CONFIG" ]; then
      warn "$CONFIG does not exist yet: write it (roadside provision -o $CONFIG), then: sudo systemctl restart roadside"
    elif [ "$dry" = 1 ]; then
      printf '+ timeout %s systemctl restart roadside, then watch it for %ss\n' "$health_timeout" "$settle"
    else
      # Type=notify: restart returns once the new process said READY=1, fails when it exits or times out
      say "restarting roadside (ready within ${health_timeout}s, then up for ${settle}s)"
      timeout "$health_timeout" systemctl restart roadside || rollback "did not become ready (systemctl restart failed or took over ${health_timeout}s)"
      pid="$(systemctl show -p MainPID --value roadside)"
      restarts="$(systemctl show -p NRestarts --value roadside)"
      for ((i = 0; i < settle; i++)); do
        sleep 1
        systemctl is-active --quiet roadside || rollback "stopped within ${settle}s of starting"
        [ "$(systemctl show -p MainPID --value roadside)" = "$pid" ] || rollback "was restarted within ${settle}s of starting (MainPID $pid changed)"
        [ "$(systemctl show -p NRestarts --value roadside)" = "$restarts" ] || rollback "was restarted within ${settle}s of starting (NRestarts rose from $restarts)"
      done
      say "roadside is up: MainPID $pid, active for ${settle}s"
    fi
  fi
fi

# --- keep current and previous, drop older releases -------------------------------------------------
if [ -d "$PREFIX/releases" ]; then
  keep_current="$(readlink "$PREFIX/current" 2>/dev/null || true)"
  keep_previous="$(readlink "$PREFIX/previous" 2>/dev/null || true)"
  for d in "$PREFIX/releases"/*; do
    [ -d "$d" ] || continue
    r="releases/$(basename "$d")"
    if [ "$r" != "$keep_current" ] && [ "$r" != "$keep_previous" ]; then
      say "removing old release $r"
      run rm -rf "$d"
    fi
  done
fi

if [ "$dry" = 1 ]; then
  say "done (dry run): nothing was changed"
else
  say "done: roadside $("$(node_of "$PREFIX/current")" "$PREFIX/current/bin/roadside.js" --version) in $PREFIX/current"
fi
if [ ! -f "$CONFIG" ]; then
  cat <<EOF

Next, on the device:
  sudo roadside provision -o /etc/roadside/device.yaml   # board, sensors, broker (asks)
  sudo -u $USER_NAME roadside doctor -c /etc/roadside/device.yaml
  sudo systemctl enable --now roadside
  roadside watch --broker URL --device ID                  # what it publishes
EOF
fi
