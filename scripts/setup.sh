#!/bin/bash
# Set up everything libvirt-stratovirt needs on a Debian 12 or 13 machine
# (libvirt 9.0 on bookworm, 11.3 on trixie and bookworm-backports):
#   1. Debian packages (build and test dependencies), installed with apt;
#   2. deb-src entries, when missing, so that apt-get source works;
#   3. the libvirt development tree of exactly the installed libvirt0,
#      configured with meson and with only the generated headers we need;
#   4. our own meson build directory, compiled.
# Re-running is fast: every step checks a stamp first.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
DEPS="${DEPS:-$TOP/.deps}"
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
    # virt-install --location ISO and --cloud-init read and write ISOs
    xorriso
    # tests and benchmarks
    qemu-system-x86 util-linux procps psmisc iproute2 fuse3 libfuse3-dev
    python3-fusepy locales clang libclang-rt-dev curl xz-utils debootstrap
    # systemd-analyze, for verifying the units (test_units)
    systemd
    # libfuse2 became libfuse2t64 in trixie (libfuse2 is only virtual there)
    "libfuse2t64|libfuse2"
    # packaging (./run deb); systemd.pc moved to systemd-dev in trixie
    debhelper fakeroot "systemd-dev|systemd"
    # libvirt >= 10.0 needs json-c to configure (9.0 ignores it)
    libjson-c-dev
    # UEFI firmware and its descriptors (/usr/share/qemu/firmware): the
    # default boot of a standard machine with neither kernel nor loader
    ovmf
    # networking in the sandbox's namespace: libvirtd's NAT network
    # (dnsmasq, iptables and its ebtables for it and nwfilter), Open vSwitch,
    # and ping to send traffic through a tap
    dnsmasq-base iptables openvswitch-switch iputils-ping
    # apparmor_parser, to check the VMM's AppArmor profile (and load it
    # where the kernel has AppArmor)
    apparmor
    # the real StratoVirt 2.4/2.5 binaries the tests also run on
    libpixman-1-0
    # OpenStack Nova 26's own libvirt driver (test_nova, contrib/nova):
    # the library only (no services), qemu-img for its image handling,
    # patch for contrib/nova/*.patch on a private copy
    python3-nova qemu-utils patch
    # the guest agent test (test_agent): the real qemu-ga, run by the
    # stand-in as its "guest" in private namespaces; e2fsprogs for the
    # guest's own filesystem that domfsfreeze freezes
    qemu-guest-agent e2fsprogs
)
if [ "$(dpkg --print-architecture)" = arm64 ]; then
    PACKAGES+=(qemu-efi-aarch64)
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# "a|b": the first of them that is a real package of this release (a
# virtual one has no version of its own)
resolve_alternative() {
    local alts=() a
    IFS='|' read -r -a alts <<<"$1"
    for a in "${alts[@]}"; do
        if [ -n "$(apt-cache show --no-all-versions "$a" 2>/dev/null | sed -n 's/^Version: //p')" ]; then
            echo "$a"
            return
        fi
    done
    echo "${alts[-1]}"
}

install_packages() {
    local missing=() p updated=""
    if [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v lock)" ]; then
        as_root apt-get -o DPkg::Lock::Timeout=600 update -q
        updated=1
    fi
    for p in "${PACKAGES[@]}"; do
        [[ $p == *"|"* ]] && p=$(resolve_alternative "$p")
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "all Debian packages present"
        return
    fi
    log "installing: ${missing[*]}"
    [ -n "$updated" ] || as_root apt-get -o DPkg::Lock::Timeout=600 update -q
    # libvirt-daemon-system's maintainer scripts try to start services; in a
    # container without systemd that is harmless but noisy.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}

# Is the source package of libvirt0 $1 known to apt?
src_known() {
    # grep reads it all (-q would stop early, and under pipefail the
    # SIGPIPE of apt-cache would make a known version look unknown)
    apt-cache showsrc libvirt 2>/dev/null | grep -cxF "Version: $1" >/dev/null
}

# deb-src entries for the Debian archives the binary entries use, when apt
# does not know the source of the installed libvirt0 (e.g. bookworm-backports).
ensure_deb_src() {
    local ver=$1 out=/etc/apt/sources.list.d/libvirt-stratovirt-src.sources
    local codename f entries
    src_known "$ver" && return
    log "adding deb-src entries ($out, ${out%.sources}.list)"
    # deb822 paragraphs of Debian's archives, with the source type
    entries=$(for f in /etc/apt/sources.list.d/*.sources; do
                  [ -f "$f" ] && [ "$f" != "$out" ] || continue
                  awk 'BEGIN { RS = ""; ORS = "\n\n" }
                       /(^|\n)Types:[^\n]*deb([ \n]|$)/ && /debian\.org/ {
                           sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f"
              done)
    if [ -z "$entries" ] && ! grep -hqs '^deb .*debian\.org' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
        # nothing to copy: the release's own archives
        codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
        [ -n "$codename" ] || die "cannot tell the Debian release (/etc/os-release)"
        entries="Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates $codename-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    fi
    [ -z "$entries" ] || printf '%s\n' "$entries" | as_root tee "$out" >/dev/null
    { grep -hs '^deb .*debian\.org' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true; } |
        sed 's/^deb /deb-src /' | as_root tee "${out%.sources}.list" >/dev/null
    [ -s "${out%.sources}.list" ] || as_root rm -f "${out%.sources}.list"
    as_root apt-get -o DPkg::Lock::Timeout=600 update -q
    src_known "$ver" || die "no deb-src entry offers libvirt $ver; add the archive it came from"
}

# apt-get source, or when the archive cannot serve the .dsc (seen for
# 11.3.0-3+deb13u3: 404), the .orig and .debian tarballs the signed Sources
# index names, checked against its SHA-256 sums, unpacked and patched the way
# dpkg-source would.
fetch_source() {
    local ver=$1 upver=$2 line url name sum got
    if (cd "$DEPS" && apt-get source -q "libvirt=$ver" >"$DEPS/apt-source.log" 2>&1); then
        return
    fi
    log "apt-get source failed (see $DEPS/apt-source.log); fetching the tarballs instead"
    rm -rf "$DEPS/libvirt-$upver"
    local orig="" debian=""
    while read -r line; do
        url=$(echo "$line" | awk '{print $1}' | tr -d "'")
        name=$(echo "$line" | awk '{print $2}')
        sum=$(echo "$line" | awk '{print $4}' | sed -n 's/^SHA256://p')
        case "$name" in
            *.orig.tar.*.asc|*.dsc) continue ;;
            *.orig.tar.*) orig=$name ;;
            *.debian.tar.*) debian=$name ;;
            *) continue ;;
        esac
        [ -n "$sum" ] || die "the Sources index has no SHA-256 for $name"
        curl -fsSL --retry 3 -o "$DEPS/$name" "$url" >>"$DEPS/apt-source.log" 2>&1 ||
            die "downloading $url failed"
        got=$(sha256sum "$DEPS/$name" | awk '{print $1}')
        [ "$got" = "$sum" ] || die "$name: SHA-256 $got, the signed index says $sum"
        log "$name: SHA-256 verified"
    done < <(apt-get source --print-uris -q "libvirt=$ver" 2>>"$DEPS/apt-source.log" | grep "^'")
    [ -n "$orig" ] && [ -n "$debian" ] || die "the Sources index lists no .orig/.debian tarball for libvirt $ver"
    mkdir -p "$DEPS/libvirt-$upver"
    tar -C "$DEPS/libvirt-$upver" --strip-components=1 -xf "$DEPS/$orig"
    tar -C "$DEPS/libvirt-$upver" -xf "$DEPS/$debian"
    if [ -f "$DEPS/libvirt-$upver/debian/patches/series" ]; then
        while read -r patch _; do
            case "$patch" in ''|'#'*) continue ;; esac
            patch -d "$DEPS/libvirt-$upver" -p1 -s -N <"$DEPS/libvirt-$upver/debian/patches/$patch" ||
                die "Debian's patch $patch does not apply"
        done <"$DEPS/libvirt-$upver/debian/patches/series"
    fi
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
        ensure_deb_src "$ver"
        log "fetching the libvirt development tree for libvirt0 $ver"
        rm -rf "$DEPS"
        mkdir -p "$DEPS"
        fetch_source "$ver" "$upver"
        [ -d "$SRC" ] || die "fetching the source did not produce $SRC"
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
        # the test build: ./run test kills the daemon at named start steps
        # through its hooks (./run install and the .deb build without them)
        meson setup "$BUILD" "$TOP" -Dlibvirt_src="$SRC" -Dlibvirt_build="$LVBUILD" \
            -Dtest_hooks=true
    fi
    log "building"
    ninja -C "$BUILD"
}

case "${1:-all}" in
    deps) install_packages ;;
    tree) fetch_tree ;;
    all)
        # each step timed (CI's log says where the time goes)
        t0=$(date +%s)
        install_packages
        ensure_locale
        t1=$(date +%s)
        fetch_tree
        t2=$(date +%s)
        build_project
        log "times: packages $(( t1 - t0 )) s, libvirt tree $(( t2 - t1 )) s, build $(( $(date +%s) - t2 )) s"
        ;;
    *) die "unknown step '$1' (deps, tree, all)" ;;
esac
