#!/usr/bin/env bash
# Make an offline bundle of roadside: the app, its compiled dist/ and its production node_modules,
# as one tarball a technician carries to a device with no internet and installs with
#   sudo scripts/install.sh --bundle roadside-VERSION-linux-ARCH-nodeMAJOR.tar.gz
#
# Native addons (better-sqlite3, serialport's bindings, cbor-extract) are compiled for one CPU
# architecture and one Node.js ABI: build the bundle on a machine of the same architecture (arm64
# for a 64-bit Raspberry Pi OS, armv7l for 32-bit) with the same Node.js major as the devices.
# BUNDLE-INFO inside records both; install.sh refuses a bundle that does not match.
#
# Usage: scripts/bundle.sh [--output DIR] [--no-build]
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

Options:
  -o, --output DIR   where to write the tarball (default: ./bundle)
      --no-build     use dist/ as it is (default: compile it first with tsc)
  -h, --help         show this help
EOF
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/bundle"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    -o | --output)
      [ $# -ge 2 ] || { echo "bundle.sh: $1 needs a folder" >&2; exit 2; }
      out="$2"
      shift 2
      ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bundle.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

step() { printf '[%s/5] %s\n' "$1" "$2" >&2; }
die() { echo "bundle.sh: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"
[ -d "$root/node_modules" ] || die "no node_modules in $root: run npm ci there first"

cd "$root"
if [ "$build" = 1 ]; then
  step 1 "compiling TypeScript to dist/"
  node_modules/.bin/tsc -p tsconfig.json || die "tsc failed"
else
  step 1 "using dist/ as it is (--no-build)"
fi
[ -f dist/cli/main.js ] || die "dist/cli/main.js is missing: run without --no-build"

version="$(node -p 'require("./package.json").version')"
arch="$(node -p 'process.arch')"
abi="$(node -p 'process.versions.modules')"
nodever="$(node -p 'process.versions.node')"
major="${nodever%%.*}"
name="roadside-$version-linux-$arch-node$major"

step 2 "listing production packages"
# The dependency closure as Node.js resolves it at run time (node_modules lookup up the folders),
# from package.json's dependencies: optional ones where installed (the native prebuilds of this
# platform). Read from the folders, not from npm, so it works offline and with any npm.
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
for (const p of [...seen].map((p) => path.relative(root, p)).sort()) console.log(p);
JS
)" || die "cannot list the production packages"
mapfile -t pkgs <<<"$list"
[ "${#pkgs[@]}" -gt 0 ] || die "no production packages found: is node_modules complete (npm ci)?"
echo "      ${#pkgs[@]} packages" >&2

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dest="$stage/$name"
mkdir -p "$dest"

step 3 "copying the app and ${#pkgs[@]} packages"
files=(package.json package-lock.json bin boards docs scripts/install.sh)
for f in README.md LICENSE; do [ -e "$f" ] && files+=("$f"); done
tar -cf - "${files[@]}" | tar -C "$dest" -xf -
# dist without tests and source maps (the sources they point to are not shipped)
tar -cf - --exclude='*.test.js' --exclude='*.test.d.ts' --exclude='*.map' dist | tar -C "$dest" -xf -
# nested packages come with their parent folder: archive each folder once
top=()
for p in "${pkgs[@]}"; do
  if [ "${#top[@]}" -gt 0 ] && [[ "$p" == "${top[-1]}/"* ]]; then continue; fi
  top+=("$p")
done
# a dot per 500 files, so a slow SD card still shows it is alive; C sources of native modules are
# only needed to compile them (the compiled .node files stay)
tar -cf - --exclude='node_modules/.bin' --exclude='better-sqlite3/deps' --exclude='better-sqlite3/src' "${top[@]}" |
  tar -C "$dest" --checkpoint=500 --checkpoint-action=dot -xf - >&2
echo >&2

step 4 "writing BUNDLE-INFO"
cat >"$dest/BUNDLE-INFO" <<EOF
name=$name
version=$version
arch=$arch
node=$nodever
node_abi=$abi
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
EOF

step 5 "compressing"
mkdir -p "$out"
tarball="$out/$name.tar.gz"
count="$(find "$dest" -type f | wc -l)"
tar -C "$stage" --checkpoint=1000 --checkpoint-action=dot -czf "$tarball.tmp" "$name" >&2
echo >&2
mv "$tarball.tmp" "$tarball"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
size="$(du -h "$tarball" | cut -f1)"
echo "wrote $tarball ($size, $count files; sha256 in $name.tar.gz.sha256)"
echo "install on a device ($arch, Node.js $major): sudo scripts/install.sh --bundle $name.tar.gz"
