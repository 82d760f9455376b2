#!/usr/bin/env bash
# Builds the virtual device's disk: Debian bookworm amd64 with systemd, udev, cloud-init and sshd,
# configured like Raspberry Pi OS (cloud-init NoCloud reads the FAT partition labelled `bootfs`,
# mounted at /boot/firmware). No Node.js and no roadside: both arrive in the offline bundle on the
# seed disk, as they do for a technician.
#
# Usage: scripts/vm/build-image.sh [--print-dir] [--force]
# Output (cached, keyed by a hash of this script): $ROADSIDE_VM_CACHE (default ~/.cache/roadside-vm)/IMAGE/
#   rootfs.qcow2  vmlinuz  initrd.img  build.log  BUILT (build time in seconds)
# --print-dir prints only the image folder on stdout (for the test rig). Needs root (mmdebstrap).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${ROADSIDE_VM_CACHE:-${HOME:-/root}/.cache/roadside-vm}
print_dir=no force=no
for a in "$@"; do
  case "$a" in
    --print-dir) print_dir=yes ;;
    --force) force=yes ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown option $a (use --print-dir, --force)" >&2; exit 2 ;;
  esac
done

key=$(sha256sum "$0" | cut -c1-16)
out="$cache/bookworm-amd64-$key"
log() { echo "==> $*" >&2; }

if [ "$force" = no ] && [ -f "$out/BUILT" ]; then
  log "image cached: $out (built in $(cat "$out/BUILT") s)"
  [ "$print_dir" = yes ] && echo "$out"
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "build-image.sh: mmdebstrap needs root (run as root, or in CI)" >&2; exit 2; }
for t in mmdebstrap mke2fs qemu-img; do
  command -v "$t" >/dev/null || { echo "build-image.sh: $t is missing (apt-get install mmdebstrap e2fsprogs qemu-utils)" >&2; exit 2; }
done

start=$(date +%s)
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"

# Packages: what a Raspberry Pi OS Lite image has that the appliance path touches.
# initramfs-tools builds an initrd with the virtio drivers (MODULES=most); ifupdown + isc-dhcp-client
# is what cloud-init's eni renderer drives for network-config. locales: cloud-init's locale module
# sets en_US.UTF-8 and fails (a failed cloud-config.service) unless it is generated, as on Pi OS. No systemd-timesyncd: the clock test
# needs a device with no NTP, like a Pi with no network time and no RTC.
pkgs=systemd,systemd-sysv,udev,dbus,linux-image-amd64,initramfs-tools,cloud-init,openssh-server,
pkgs+=ifupdown,isc-dhcp-client,iproute2,ca-certificates,sudo,netbase,procps,kmod,e2fsprogs,dosfstools,
pkgs+=less,util-linux,locales

log "mmdebstrap bookworm (Debian archive) -> $root"
mkdir -p "$root"
mmdebstrap --variant=minbase --include="$pkgs" \
  --components=main \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook='echo roadside-vm > "$1/etc/hostname"' \
  --customize-hook='sed -i -e "s/^# *\(en_GB.UTF-8 UTF-8\)/\1/" -e "s/^# *\(en_US.UTF-8 UTF-8\)/\1/" "$1/etc/locale.gen" && chroot "$1" locale-gen' \
  --customize-hook='echo LANG=en_GB.UTF-8 > "$1/etc/default/locale"' \
  bookworm "$root" >"$work/mmdebstrap.log" 2>&1 || { tail -40 "$work/mmdebstrap.log" >&2; exit 1; }

# --- configure like Raspberry Pi OS ------------------------------------------------------------
# fstab: root on the first virtio disk; the seed card's FAT partition at /boot/firmware (nofail: a
# device must boot even when the partition is damaged).
cat >"$root/etc/fstab" <<'FSTAB'
/dev/vda / ext4 defaults,errors=remount-ro 0 1
LABEL=bootfs /boot/firmware vfat defaults,nofail,x-systemd.device-timeout=120s 0 2
FSTAB
mkdir -p "$root/boot/firmware"

# cloud-init: NoCloud from the FAT partition labelled bootfs, as Raspberry Pi OS does
cat >"$root/etc/cloud/cloud.cfg.d/99_roadside-vm.cfg" <<'CFG'
datasource_list: [NoCloud, None]
datasource:
  NoCloud:
    fs_label: bootfs
CFG

# serial console on ttyS0 (the rig's console log); ttyS1 is the sensor line: no getty on it
mkdir -p "$root/etc/systemd/system/serial-getty@ttyS1.service.d"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS1.service"

# units that only slow a TCG boot and have nothing to do with the appliance
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer man-db.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
# journald persistent (a power-cut test reads the previous boot's journal)
mkdir -p "$root/var/log/journal"
# root has no password; access is by the SSH key cloud-init installs for the Imager-style user
passwd_root_locked=$(chroot "$root" passwd -l root 2>&1 || true); : "$passwd_root_locked"
rm -f "$root"/etc/ssh/ssh_host_*  # cloud-init generates host keys per instance

# --- kernel, initrd, disk -------------------------------------------------------------------------
kernel=$(ls "$root"/boot/vmlinuz-* | sort -V | tail -1)
initrd=$(ls "$root"/boot/initrd.img-* | sort -V | tail -1)
mkdir -p "$work/out"
cp "$kernel" "$work/out/vmlinuz"
cp "$initrd" "$work/out/initrd.img"

log "ext4 from the folder (mke2fs -d, no mount)"
size_mb=$(( $(du -sm "$root" | cut -f1) + 1536 ))
mke2fs -q -t ext4 -L rootfs -d "$root" "$work/rootfs.raw" "${size_mb}M"
qemu-img convert -O qcow2 "$work/rootfs.raw" "$work/out/rootfs.qcow2"
rm -f "$work/rootfs.raw"
mv "$work/mmdebstrap.log" "$work/out/build.log"

elapsed=$(( $(date +%s) - start ))
echo "$elapsed" >"$work/out/BUILT"
rm -rf "$out"
mv "$work/out" "$out"
# images of older versions of this script are never used again
for old in "$cache"/bookworm-amd64-*; do [ "$old" = "$out" ] || rm -rf "$old"; done
log "image built in ${elapsed} s: $out ($(du -sh "$out/rootfs.qcow2" | cut -f1) qcow2, kernel $(basename "$kernel"))"
echo "image build time: ${elapsed} s"  >&2
[ "$print_dir" = yes ] && echo "$out"
exit 0
