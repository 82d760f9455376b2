#!/usr/bin/env bash
# Install roadside on a fresh Raspberry Pi OS (or any Debian 11+): Node.js 20 or later, gpiod, the
# app in /opt/roadside (/usr/local/bin/roadside), the system user roadside in groups gpio, dialout
# and i2c, and /etc/roadside for the device config. Safe to run again: it upgrades the app and
# keeps the config, the outbox (/var/lib/roadside) and the user.
#
#   sudo scripts/install.sh                       from this checkout (needs the internet for npm)
#   sudo scripts/install.sh --bundle FILE.tar.gz  from an offline bundle (scripts/bundle.sh)
#
# Then: roadside provision, roadside doctor, roadside install (docs/field-guide.md).
set -euo pipefail

PREFIX=/opt/roadside
USER_NAME=roadside
NODE_MAJOR=20
bundle=""
dry=0
install_node=1

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
      --bundle FILE     install from an offline bundle made by scripts/bundle.sh
      --prefix DIR      where the app goes (default /opt/roadside)
      --no-node         do not install Node.js; fail if Node.js 20+ is missing
      --dry-run         print what would be done, change nothing
  -h, --help            show this help
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle)
      [ $# -ge 2 ] || { echo "install.sh: --bundle needs a file" >&2; exit 2; }
      bundle="$2"
      shift 2
      ;;
    --prefix)
      [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
      PREFIX="$2"
      shift 2
      ;;
    --no-node) install_node=0; shift ;;
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
# run a command that changes the system; with --dry-run, show it instead
run() {
  if [ "$dry" = 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

if [ "$dry" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  die "run it as root: sudo $0 $*"
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "$bundle" ]; then
  [ -f "$bundle" ] || die "no bundle at $bundle"
  bundle="$(cd "$(dirname "$bundle")" && pwd)/$(basename "$bundle")"
fi

node_major() {
  if command -v node >/dev/null 2>&1; then
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
  else
    echo 0
  fi
}

# --- Node.js ------------------------------------------------------------------------------------
if [ "$(node_major)" -ge "$NODE_MAJOR" ]; then
  say "Node.js $(node --version) is already installed"
elif [ "$install_node" = 0 ]; then
  die "Node.js $NODE_MAJOR or later is needed and --no-node was given; install it, then run this again"
elif [ -n "$bundle" ] && ! apt-get -qq update >/dev/null 2>&1; then
  die "Node.js $NODE_MAJOR+ is missing and there is no network to install it: install the nodejs package from a USB stick (apt install ./nodejs_*.deb), then run this again"
else
  run apt-get update -qq
  candidate="$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*\).*/\1/p')"
  if [ "${candidate:-0}" -ge "$NODE_MAJOR" ] 2>/dev/null; then
    say "installing Node.js $candidate from Debian"
    run apt-get install -y -qq nodejs npm
  else
    # Raspberry Pi OS bookworm ships Node.js 18: use NodeSource's signed apt repository instead
    say "installing Node.js $NODE_MAJOR from NodeSource (Debian offers ${candidate:-none})"
    run apt-get install -y -qq ca-certificates curl gnupg
    run install -d -m 0755 /etc/apt/keyrings
    if [ "$dry" = 1 ]; then
      printf '+ curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor -o /etc/apt/keyrings/nodesource.gpg\n'
    else
      curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
    fi
    if [ "$dry" = 1 ]; then
      printf '+ write /etc/apt/sources.list.d/nodesource.list\n'
    else
      echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_$NODE_MAJOR.x nodistro main" >/etc/apt/sources.list.d/nodesource.list
    fi
    run apt-get update -qq
    run apt-get install -y -qq nodejs
  fi
fi

# --- gpiod (gpiomon reads GPIO edges with kernel timestamps) -------------------------------------
if command -v gpiomon >/dev/null 2>&1; then
  say "gpiod is already installed"
elif run apt-get install -y -qq gpiod; then
  say "installed gpiod"
else
  echo "install.sh: warning: could not install gpiod (offline?); GPIO inputs need it: apt install gpiod" >&2
fi

# --- user and groups ------------------------------------------------------------------------------
if ! getent group gpio >/dev/null; then
  # Raspberry Pi OS has it (udev gives it /dev/gpiochip*); elsewhere make it and the rule
  say "creating group gpio and its udev rule"
  run groupadd --system gpio
  if [ "$dry" = 1 ]; then
    printf '+ write /etc/udev/rules.d/60-roadside-gpio.rules\n'
  else
    echo 'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"' >/etc/udev/rules.d/60-roadside-gpio.rules
    if udevadm control --reload-rules 2>/dev/null; then
      udevadm trigger --subsystem-match=gpio 2>/dev/null || true
    fi
  fi
fi
if id "$USER_NAME" >/dev/null 2>&1; then
  say "user $USER_NAME exists"
else
  say "creating system user $USER_NAME"
  run useradd --system --user-group --no-create-home --home-dir /var/lib/roadside --shell /usr/sbin/nologin "$USER_NAME"
fi
groups=gpio
for g in dialout i2c; do getent group "$g" >/dev/null && groups="$groups,$g"; done
run usermod -a -G "$groups" "$USER_NAME"

# --- the app --------------------------------------------------------------------------------------
staging="$PREFIX.new"
run rm -rf "$staging"
if [ -z "$bundle" ]; then
  # from this checkout: make a bundle of it (compiles dist/, keeps production packages only)
  if [ ! -d "$here/node_modules" ]; then
    say "installing the app's packages (npm ci)"
    run npm --prefix "$here" ci --no-audit --no-fund
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  if [ "$dry" = 1 ]; then
    printf '+ %s/scripts/bundle.sh --output %s\n' "$here" "$tmp"
    bundle="$tmp/roadside.tar.gz"
  else
    "$here/scripts/bundle.sh" --output "$tmp"
    bundle="$(ls "$tmp"/roadside-*.tar.gz)"
  fi
fi
say "unpacking $(basename "$bundle") into $staging"
run mkdir -p "$staging"
run tar -xzf "$bundle" -C "$staging" --strip-components=1
if [ "$dry" = 0 ]; then
  info="$staging/BUNDLE-INFO"
  [ -f "$info" ] || die "$bundle has no BUNDLE-INFO: make it with scripts/bundle.sh"
  want_arch="$(sed -n 's/^arch=//p' "$info")"
  want_abi="$(sed -n 's/^node_abi=//p' "$info")"
  have_arch="$(node -p 'process.arch')"
  have_abi="$(node -p 'process.versions.modules')"
  if [ "$want_arch" != "$have_arch" ] || [ "$want_abi" != "$have_abi" ]; then
    rm -rf "$staging"
    die "the bundle was built for $want_arch with Node.js ABI $want_abi, this device is $have_arch with ABI $have_abi ($(node --version)): its native modules would not load. Build the bundle on a $have_arch machine with the same Node.js major"
  fi
  # the native modules load here, or the install stops before touching the running version
  node "$staging/bin/roadside.js" --version >/dev/null || { rm -rf "$staging"; die "the unpacked app does not start: $staging/bin/roadside.js --version failed"; }
fi
if [ -d "$PREFIX" ]; then
  run rm -rf "$PREFIX.old"
  run mv "$PREFIX" "$PREFIX.old"
fi
run mv "$staging" "$PREFIX"
run chmod 0755 "$PREFIX/bin/roadside.js"
run ln -sfn "$PREFIX/bin/roadside.js" /usr/local/bin/roadside

# --- config folder --------------------------------------------------------------------------------
run install -d -m 0750 -o root -g "$USER_NAME" /etc/roadside

if [ "$dry" = 1 ]; then
  say "done (dry run): nothing was changed"
else
  say "done: roadside $(/usr/local/bin/roadside --version) in $PREFIX"
fi
cat <<EOF

Next, on the device:
  sudo roadside provision -o /etc/roadside/device.yaml   # board, lanes, broker (asks)
  sudo -u $USER_NAME roadside doctor -c /etc/roadside/device.yaml
  sudo roadside install && sudo systemctl daemon-reload && sudo systemctl enable --now roadside
  roadside watch --broker URL --device ID                  # what it publishes
EOF
