#!/usr/bin/env bash
# roadside first boot. `roadside provision --seed` copies this script to the card's boot partition
# (roadside/firstboot.sh beside the bundle and etc/) and adds a runcmd entry to cloud-init's
# user-data that runs it once, on the first boot, as root:
#   1. creates the system user roadside (install.sh would too, but the files need their owner first),
#   2. places etc/ in /etc/roadside: device.yaml and public files root:roadside 0640,
#      secrets (etc/secrets/) roadside:roadside 0600 in /etc/roadside/secrets,
#   3. deletes the secrets from the boot partition (anyone who pulls the card can read FAT),
#   4. runs the bundle's scripts/install.sh --bundle FILE --enable (app, unit, service started),
#   5. marks /var/lib/roadside/firstboot.done, so running it again does nothing.
# Logs to journald (tag roadside-firstboot), /var/log/roadside-firstboot.log and, for a technician
# who pulls the card, roadside/firstboot.log on the boot partition.
#
#   sudo bash /boot/firmware/roadside/firstboot.sh           what cloud-init runs
#   sudo bash /boot/firmware/roadside/firstboot.sh --again   apply a new seed on a device already set up
set -uo pipefail

ETC=/etc/roadside
STATE=/var/lib/roadside
MARKER="$STATE/firstboot.done"
LOG=/var/log/roadside-firstboot.log
USER_NAME=roadside
again=0

case "${1:-}" in
  "") ;;
  --again) again=1 ;;
  -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "firstboot.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$LOG" 2>/dev/null || true
  logger -t roadside-firstboot -- "$*" 2>/dev/null || true
  printf '%s\n' "$*"
}
# the log on the card: the one thing a technician can read from a device that never came online
copy_log_to_card() { cp "$LOG" "$here/firstboot.log" 2>/dev/null || true; }
fail() {
  log "FAILED: $*"
  copy_log_to_card
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "firstboot.sh: run it as root: sudo bash $here/firstboot.sh" >&2
  exit 2
fi
if [ -f "$MARKER" ] && [ "$again" = 0 ]; then
  log "already done ($(cat "$MARKER" 2>/dev/null)); nothing to do. To apply a new seed on this device: sudo bash $here/firstboot.sh --again"
  exit 0
fi
log "roadside first boot from $here"

shopt -s nullglob
bundles=("$here"/roadside-*.tar.gz)
shopt -u nullglob
[ "${#bundles[@]}" -eq 1 ] || fail "expected one roadside-*.tar.gz in $here, found ${#bundles[@]}; write the card again with roadside provision --seed"
bundle="${bundles[0]}"
[ -f "$here/etc/device.yaml" ] || fail "no etc/device.yaml in $here; write the card again with roadside provision --seed"

# --- the user -------------------------------------------------------------------------------------
# The same account install.sh makes (it adds the groups gpio, dialout, i2c when it runs).
if id "$USER_NAME" >/dev/null 2>&1; then
  log "user $USER_NAME exists"
else
  log "creating system user $USER_NAME"
  useradd --system --user-group --no-create-home --home-dir "$STATE" --shell /usr/sbin/nologin "$USER_NAME" || fail "useradd $USER_NAME failed"
fi

# --- config and files -----------------------------------------------------------------------------
# /etc/roadside is group-writable: the service saves remotely applied configs there (docs/delivery.md).
install -d -m 0770 -o root -g "$USER_NAME" "$ETC" || fail "cannot make $ETC"
install -d -m 0750 -o root -g "$USER_NAME" "$ETC/secrets" || fail "cannot make $ETC/secrets"
placed=0
while IFS= read -r -d '' f; do
  rel="${f#"$here/etc/"}"
  case "$rel" in
    secrets/*/*) log "skipping $rel: only files directly in etc/ and etc/secrets/ are placed"; continue ;;
    secrets/*) owner="$USER_NAME"; mode=0600 ;;
    */*) log "skipping $rel: only files directly in etc/ and etc/secrets/ are placed"; continue ;;
    *) owner=root; mode=0640 ;;
  esac
  target="$ETC/$rel"
  if [ -f "$target" ] && ! cmp -s "$f" "$target"; then
    cp -p "$target" "$target.bak" && log "kept the previous $target as $target.bak"
  fi
  install -m "$mode" -o "$owner" -g "$USER_NAME" "$f" "$target" || fail "cannot place $target"
  log "placed $target ($owner:$USER_NAME $mode)"
  placed=$((placed + 1))
done < <(find "$here/etc" -type f -print0 | sort -z)
log "placed $placed files in $ETC"

# The boot partition is FAT: no owners, no modes, readable by anyone holding the card.
if [ -d "$here/etc/secrets" ]; then
  rm -rf "$here/etc/secrets" || fail "cannot delete $here/etc/secrets"
  sync
  log "deleted the secrets from the boot partition; they are now only in $ETC/secrets"
fi

# --- install and start ----------------------------------------------------------------------------
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
top="$(basename "$bundle" .tar.gz)"
tar -xzf "$bundle" -C "$work" "$top/scripts" 2>/dev/null || fail "cannot unpack $top/scripts from $bundle: is the copy damaged? write the card again"
installer="$work/$top/scripts/install.sh"
[ -f "$installer" ] || fail "$bundle has no $top/scripts/install.sh"
log "running $top/scripts/install.sh --bundle $bundle --enable"
bash "$installer" --bundle "$bundle" --enable 2>&1 | while IFS= read -r line; do log "  $line"; done
status="${PIPESTATUS[0]}"
[ "$status" = 0 ] || fail "install.sh exited $status (its output is above); after fixing the cause: sudo bash $here/firstboot.sh --again"

mkdir -p "$STATE"
printf 'done %s with %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$bundle")" >"$MARKER"
log "done: roadside is installed and running (systemctl status roadside; journalctl -u roadside)"
copy_log_to_card
exit 0
