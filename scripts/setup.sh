#!/bin/bash
# Set up everything libvirt-stratovirt needs on a Debian 12 machine:
#   1. Debian packages (build and test dependencies), installed with apt;
#   2. deb-src entries, when missing, so that apt-get source works;
#   3. the libvirt development tree of exactly the installed libvirt0,
#      configured with meson and with only the generated headers we need;
#   4. our own meson build directory, compiled.
# Re-running is fast: every step checks a stamp first.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
DEPS="$TOP/.deps"
BUILD="${BUILD:-$TOP/build}"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

PACKAGES=(
    # build
    build-essential meson ninja-build pkg-config dpkg-dev gettext
    libglib2.0-dev libxml2-dev libgnutls28-dev libtirpc-dev libsasl2-dev
    rpcsvc-proto python3-docutils xsltproc
    # the libvirt we plug into, and the stock clients the tests drive
    libvirt0 libvirt-dev libvirt-clients libvirt-daemon libvirt-daemon-system
    python3-libvirt virtinst libxml2-utils
    # tests and benchmarks
    qemu-system-x86 util-linux procps psmisc iproute2 fuse3 libfuse3-dev
    python3-fusepy libfuse2 locales clang-14 libclang-rt-14-dev
)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "all Debian packages present"
        return
    fi
    log "installing: ${missing[*]}"
    as_root apt-get -o DPkg::Lock::Timeout=600 update -q
    # libvirt-daemon-system's maintainer scripts try to start services; in a
    # container without systemd that is harmless but noisy.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}

ensure_deb_src() {
    if grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ ||
       grep -qs '^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
        return
    fi
    log "adding deb-src entries (/etc/apt/sources.list.d/libvirt-stratovirt-src.sources)"
    local f=/etc/apt/sources.list.d/debian.sources
    if [ -f "$f" ]; then
        # Same archives as the binary entries, source type.
        sed -e 's/^Types: deb$/Types: deb-src/' "$f" |
            as_root tee /etc/apt/sources.list.d/libvirt-stratovirt-src.sources >/dev/null
    else
        as_root tee /etc/apt/sources.list.d/libvirt-stratovirt-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    as_root apt-get -o DPkg::Lock::Timeout=600 update -q
}

# The zh_CN catalog is tested with a daemon under zh_CN.UTF-8.
ensure_locale() {
    if locale -a 2>/dev/null | grep -qi '^zh_CN\.utf-\?8$'; then
        return
    fi
    log "generating the zh_CN.UTF-8 locale"
    if ! grep -q '^zh_CN.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
        echo "zh_CN.UTF-8 UTF-8" | as_root tee -a /etc/locale.gen >/dev/null
    fi
    as_root locale-gen >/dev/null
}

fetch_tree() {
    local ver upver
    ver=$(dpkg-query -W -f='${Version}' libvirt0)
    upver=${ver%%-*}
    upver=${upver#*:}
    SRC="$DEPS/libvirt-$upver"
    LVBUILD="$DEPS/libvirt-build"
    if [ -f "$DEPS/tree.stamp" ] && [ "$(cat "$DEPS/tree.stamp")" = "$ver" ] && [ -d "$SRC" ]; then
        log "libvirt tree $ver present"
    else
        ensure_deb_src
        log "fetching the libvirt development tree for libvirt0 $ver"
        rm -rf "$DEPS"
        mkdir -p "$DEPS"
        (cd "$DEPS" && apt-get source -q "libvirt=$ver" >"$DEPS/apt-source.log" 2>&1) ||
            die "apt-get source libvirt=$ver failed; see $DEPS/apt-source.log"
        [ -d "$SRC" ] || die "apt-get source did not produce $SRC"
        echo "$ver" > "$DEPS/tree.stamp"
    fi

    if [ ! -f "$DEPS/configure.stamp" ] || [ "$(cat "$DEPS/configure.stamp")" != "$ver" ]; then
        log "configuring the libvirt tree (drivers, docs, tests off; Debian paths)"
        rm -rf "$LVBUILD"
        meson setup "$LVBUILD" "$SRC" \
            -Dauto_features=disabled \
            -Ddriver_remote=enabled -Ddriver_libvirtd=enabled \
            -Dsasl=enabled -Dpolkit=enabled \
            -Ddocs=disabled -Dtests=disabled \
            -Dprefix=/usr -Dsysconfdir=/etc -Dlocalstatedir=/var -Drunstatedir=/run \
            -Dlibdir="lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)" \
            >"$DEPS/configure.log" 2>&1 ||
            die "configuring the libvirt tree failed; see $DEPS/configure.log"
        echo "$ver" > "$DEPS/configure.stamp"
    fi

    log "generating the libvirt headers the driver and daemon need"
    ninja -C "$LVBUILD" \
        src/rpc/virnetprotocol.h src/rpc/virkeepaliveprotocol.h \
        src/access/viraccessapicheck.h src/access/viraccessapicheckqemu.h \
        src/access/viraccessapichecklxc.h \
        src/remote/remote_protocol.h src/remote/qemu_protocol.h src/remote/lxc_protocol.h \
        src/remote/remote_daemon_dispatch_stubs.h src/remote/qemu_daemon_dispatch_stubs.h \
        src/remote/lxc_daemon_dispatch_stubs.h \
        src/admin/admin_protocol.h src/admin/admin_protocol.c \
        src/admin/admin_server_dispatch_stubs.h >"$DEPS/generate.log" 2>&1 ||
        die "generating headers failed; see $DEPS/generate.log"
}

build_project() {
    if [ ! -f "$BUILD/build.ninja" ]; then
        log "configuring libvirt-stratovirt in $BUILD"
        meson setup "$BUILD" "$TOP" -Dlibvirt_src="$SRC" -Dlibvirt_build="$LVBUILD"
    fi
    log "building"
    ninja -C "$BUILD"
}

case "${1:-all}" in
    deps) install_packages ;;
    tree) fetch_tree ;;
    all)
        install_packages
        ensure_locale
        fetch_tree
        build_project
        ;;
    *) die "unknown step '$1' (deps, tree, all)" ;;
esac
