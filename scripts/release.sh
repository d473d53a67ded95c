#!/bin/bash
# Debian roots of other releases, made with debootstrap from Debian's own
# archive and cached between runs, to build and test the project against
# that release's libvirt (trixie: libvirt 11.3).
#
#   scripts/release.sh base RELEASE        make (or reuse) the pristine root
#   scripts/release.sh clean RELEASE DIR   a fresh copy of it in DIR
#   scripts/release.sh run RELEASE -- CMD  CMD in the project tree inside the
#                                          release's development root (the
#                                          pristine root plus what ./run setup
#                                          installs, kept between runs)
#   scripts/release.sh enter DIR -- CMD    CMD inside any root DIR
#
# The roots live under $LIBVIRT_STRATOVIRT_CACHE (default
# /var/cache/libvirt-stratovirt).  Everything a root sees of the host is
# mounted in a private mount namespace that ends with CMD: /proc, /sys, /dev,
# a fresh /tmp and /run, and this tree at its own path.  The build and the
# libvirt tree of a release are kept apart from the host's: build-RELEASE/
# and .deps-RELEASE/.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE="${LIBVIRT_STRATOVIRT_CACHE:-/var/cache/libvirt-stratovirt}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[release] %s\n' "$*" >&2; }
die() { printf '[release] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "debootstrap roots need root"

check_release() {
    case "$1" in
        bookworm|trixie) ;;
        *) die "unknown release '$1' (bookworm, trixie)" ;;
    esac
}

# The pristine root: debootstrap (minbase) plus the release's updates and
# security archives.  A stamp marks it complete; a half-made one is redone.
base_root() {
    local rel=$1 dir="$CACHE/$1/base" t0
    if [ -f "$CACHE/$rel/base.stamp" ] && [ -x "$dir/bin/bash" ]; then
        return
    fi
    command -v debootstrap >/dev/null || die "debootstrap is missing: ./run setup installs it"
    log "creating a $rel root with debootstrap in $dir (a few minutes, once)"
    t0=$(date +%s)
    rm -rf "$dir" "$CACHE/$rel/base.stamp"
    mkdir -p "$CACHE/$rel"
    debootstrap --variant=minbase "$rel" "$dir" "$MIRROR" >"$CACHE/$rel/debootstrap.log" 2>&1 ||
        die "debootstrap $rel failed; see $CACHE/$rel/debootstrap.log"
    rm -f "$dir/etc/apt/sources.list"
    cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $rel $rel-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $rel-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # services do not start inside the root
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    rm -f "$dir"/var/cache/apt/archives/*.deb
    date -u +%FT%TZ >"$CACHE/$rel/base.stamp"
    log "$rel root ready in $(( $(date +%s) - t0 )) s"
}

copy_root() {
    local from=$1 to=$2
    rm -rf "$to"
    mkdir -p "$(dirname "$to")"
    cp -a --reflink=auto "$from" "$to"
}

# The development root installs several hundred packages (./run setup):
# dpkg without an fsync per file (the root is a cache that a failed run
# rebuilds), apt without recommends or translations, and no documentation
# unpacked (nothing in the suite reads it).  Only the development root: the
# clean roots of tests/deb/test_deb.sh stay as debootstrap made them.
fast_packages() {
    local dir=$1
    mkdir -p "$dir/etc/dpkg/dpkg.cfg.d" "$dir/etc/apt/apt.conf.d"
    cat >"$dir/etc/dpkg/dpkg.cfg.d/90libvirt-stratovirt-dev" <<'EOF'
# scripts/release.sh: a development root, rebuilt when damaged
force-unsafe-io
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
EOF
    cat >"$dir/etc/apt/apt.conf.d/90libvirt-stratovirt-dev" <<'EOF'
// scripts/release.sh: a development root
APT::Install-Recommends "false";
Acquire::Languages "none";
Acquire::Retries "3";
EOF
}

# Run CMD inside root DIR with the host's kernel interfaces and this tree.
enter() {
    local dir=$1
    shift
    [ -x "$dir/bin/bash" ] || die "$dir is not a root"
    cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
    mkdir -p "$dir/$TOP"
    # the real StratoVirt binaries scripts/test.sh runs the e2e suite on, at
    # the same path (read-only), so that a release root runs what the host does
    local real="${STRATOVIRT_DIR:-$TOP/../shared/stratovirt}"
    if [ -d "$real" ]; then
        real=$(realpath "$real")
        mkdir -p "$dir/$real"
    else
        real=""
    fi
    # what the suite reads from the environment passes through env -i: the
    # real binaries (STRATOVIRT_DIR as its real path, the one mounted; a
    # STRATOVIRT=/path binary is mounted read-only at its path too), the
    # --long and slow-machine knobs, the sandbox's networking choice, CI.
    # (Only for "run": tests/deb/test_deb.sh installs its own STRATOVIRT in
    # the clean roots it enters.)
    local pass=() one=""
    [ -n "$real" ] && pass+=("STRATOVIRT_DIR=$real")
    if [ "$verb" = run ] && [ -n "${STRATOVIRT:-}" ]; then
        one=$(realpath "$STRATOVIRT") || die "STRATOVIRT=$STRATOVIRT does not exist"
        [ -f "$one" ] || die "STRATOVIRT=$STRATOVIRT is not a file"
        mkdir -p "$dir/$(dirname "$one")"
        touch "$dir/$one"
        pass+=("STRATOVIRT=$one")
    fi
    local v
    for v in SVTEST_LONG SVTEST_SLOW SVTEST_ROUNDS SANDBOX_HOST_NET CI; do
        [ -n "${!v:-}" ] && pass+=("$v=${!v}")
    done
    unshare --mount --propagation private -- /bin/bash -euc '
        dir=$1 top=$2 real=$3 one=$4 npass=$5; shift 5
        pass=("${@:1:$npass}"); shift "$npass"
        # the root a mount point of its own, so that unshare(1) inside can
        # make its propagation private
        mount --bind "$dir" "$dir"
        mount -t proc proc "$dir/proc"
        mount --rbind /sys "$dir/sys"
        mount --make-rslave "$dir/sys"
        mount --rbind /dev "$dir/dev"
        mount --make-rslave "$dir/dev"
        mount -t tmpfs -o mode=1777 release-tmp "$dir/tmp"
        mount -t tmpfs -o mode=755 release-run "$dir/run"
        mkdir -p "$dir/run/lock"
        # the mount points again: a tree under /tmp or /run has just been
        # covered by those tmpfs (a clone made with mktemp -d)
        mkdir -p "$dir/$top"
        mount --bind "$top" "$dir/$top"
        if [ -n "$real" ]; then
            mkdir -p "$dir/$real"
            mount --bind "$real" "$dir/$real"
            mount -o remount,bind,ro "$dir/$real"
        fi
        if [ -n "$one" ]; then
            mkdir -p "$(dirname "$dir/$one")"
            touch "$dir/$one"
            mount --bind "$one" "$dir/$one"
            mount -o remount,bind,ro "$dir/$one"
        fi
        exec chroot "$dir" /usr/bin/env -i \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
            ${RELEASE_ENV:-} "${pass[@]}" "$@"
    ' release-enter "$dir" "$TOP" "$real" "$one" "${#pass[@]}" "${pass[@]}" "$@"
}

verb=${1:-}
[ $# -gt 0 ] && shift
case "$verb" in
    base)
        check_release "${1:?release}"
        base_root "$1"
        echo "$CACHE/$1/base"
        ;;
    clean)
        check_release "${1:?release}"
        base_root "$1"
        copy_root "$CACHE/$1/base" "${2:?directory}"
        ;;
    run)
        rel=${1:?release}
        check_release "$rel"
        shift
        [ "${1:-}" = "--" ] && shift
        base_root "$rel"
        dev="$CACHE/$rel/dev"
        if [ ! -f "$CACHE/$rel/dev.stamp" ] || [ "$CACHE/$rel/base.stamp" -nt "$CACHE/$rel/dev.stamp" ]; then
            log "copying the pristine $rel root to $dev"
            copy_root "$CACHE/$rel/base" "$dev"
            date -u +%FT%TZ >"$CACHE/$rel/dev.stamp"
        fi
        fast_packages "$dev"
        export RELEASE_ENV="BUILD=$TOP/build-$rel DEPS=$TOP/.deps-$rel"
        enter "$dev" /bin/bash -c 'cd "$0" && exec "$@"' "$TOP" "$@"
        ;;
    enter)
        dir=${1:?directory}
        shift
        [ "${1:-}" = "--" ] && shift
        enter "$dir" "$@"
        ;;
    *)
        sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
        [ -z "$verb" ] || die "unknown verb '$verb'"
        ;;
esac
