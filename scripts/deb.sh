#!/bin/bash
# Build the Debian package libvirt-daemon-driver-stratovirt for the release
# at hand (the installed libvirt0), from a copy of this tree, into
# dist/<codename>/.
#
#   scripts/deb.sh            build
#
# Needs ./run setup first (the libvirt development tree in $DEPS).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
DEPS="${DEPS:-$TOP/.deps}"

log() { printf '[deb] %s\n' "$*" >&2; }
die() { printf '[deb] error: %s\n' "$*" >&2; exit 1; }

[ -f "$DEPS/tree.stamp" ] || die "no libvirt tree in $DEPS: run ./run setup first"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-unknown}")
out="$TOP/dist/$codename"
work=$(mktemp -d "${TMPDIR:-/tmp}/lvs-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

# the tree as it is (uncommitted changes included), without build output
mkdir -p "$work/src"
tar -C "$TOP" --exclude=./build --exclude='./build-*' --exclude=./.deps \
    --exclude='./.deps-*' --exclude=./.sandbox --exclude=./dist --exclude=./.git \
    --exclude=./bench-results -cf - . | tar -C "$work/src" -xf -

log "building for $codename against libvirt0 $(cat "$DEPS/tree.stamp")"
(cd "$work/src" && DEPS="$DEPS" dpkg-buildpackage -b -uc -us >"$work/build.log" 2>&1) || {
    tail -40 "$work/build.log" >&2
    die "dpkg-buildpackage failed"
}
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
cp "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
cp "$work/build.log" "$out/build.log"
for f in "$out"/*.deb; do
    log "$f"
    dpkg-deb -f "$f" Package Version Depends | sed 's/^/[deb]   /' >&2
done
ls "$out"/*.deb
