#!/bin/bash
# The .deb as a user meets it, in a clean debootstrap root of each release:
#   1. apt installs dist/<release>/libvirt-daemon-driver-stratovirt_*.deb
#      (its dependencies from Debian's archive), exactly libvirt0's version;
#   2. the configuration files are conffiles, the units pass
#      `systemd-analyze verify`, the sockets are enabled;
#   3. with a VMM at the package's default path (/usr/bin/stratovirt:
#      Debian has no StratoVirt package, so the project's stand-in, or the
#      binary $STRATOVIRT names, is installed there before the snapshot),
#      virtstratovirtd started as its unit says (ExecStart with the unit's
#      Environment; a real systemd start where PID 1 is systemd) is reached by
#      a stock `virsh -c stratovirt:///system version`;
#   4. `apt-get purge` leaves nothing of it: the root's files are those
#      before the install.
#
#   tests/deb/test_deb.sh RELEASE...     (default: bookworm trixie)
#
# Prints 'deb-test RELEASE: ok' per release and exits non-zero on any failure.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
REL="$TOP/scripts/release.sh"
fail=0

log() { printf '[deb-test] %s\n' "$*" >&2; }

# What the root holds, except what apt and dpkg keep for themselves (their
# caches, lists, database and logs) and the mounts of release.sh.  /etc,
# /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt are compared.
snapshot() {
    (cd "$1" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
        -o -path ./run -o -path ./var/cache/apt -o -path ./var/cache/debconf \
        -o -path ./var/cache/ldconfig -o -path ./var/lib/apt -o -path ./var/lib/dpkg \
        -o -path ./var/log/apt -o -path ./var/log/dpkg.log -o -path ./var/log/alternatives.log \
        -o -path ./work -o -path "./${TOP#/}" -o -path ./root \
        -o -path ./etc/ld.so.cache \) -prune -o -print | sort)
}

one_release() {
    local rel=$1 deb root
    deb=$(ls "$TOP/dist/$rel"/libvirt-daemon-driver-stratovirt_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || { log "$rel: no package in dist/$rel (./run deb there first)"; return 1; }
    root=$(mktemp -d "${TMPDIR:-/tmp}/lvs-debroot-$rel.XXXXXX")
    trap 'rm -rf "$root"' RETURN
    log "$rel: a clean root in $root"
    "$REL" clean "$rel" "$root/root"
    mkdir -p "$root/root/pkg"
    cp "$deb" "$root/root/pkg/"
    # The VMM the driver runs by default.  Not part of the package (Debian
    # has none for StratoVirt): the stand-in, which needs python3, or a
    # real binary given as STRATOVIRT (2.4/2.5 need libpixman-1-0).
    local vmm=${STRATOVIRT:-$TOP/tests/standin/stratovirt} vmmdeps=python3
    [ -n "${STRATOVIRT:-}" ] && vmmdeps=libpixman-1-0
    cp "$vmm" "$root/root/pkg/stratovirt"
    # the package's dependencies first, so the snapshot sees only its own files
    local depends
    depends=$(dpkg-deb -f "$deb" Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g')
    "$REL" enter "$root/root" -- /bin/bash -ec "
        export DEBIAN_FRONTEND=noninteractive
        apt-get -q update >/dev/null
        apt-get -q install -y --no-install-recommends $depends $vmmdeps libvirt-clients systemd >/dev/null
        install -m 755 /pkg/stratovirt /usr/bin/stratovirt
        echo \"VMM at /usr/bin/stratovirt: \$(/usr/bin/stratovirt -V)\"
    " | sed "s/^/[deb-test] $rel: /" >&2
    log "$rel: the VMM is ${STRATOVIRT:-the stand-in (tests/standin/stratovirt)}"
    snapshot "$root/root" >"$root/before"

    "$REL" enter "$root/root" -- /bin/bash -ec '
        export DEBIAN_FRONTEND=noninteractive
        deb=$(ls /pkg/*.deb)
        apt-get -q install -y --no-install-recommends "$deb" >/tmp/install.log 2>&1 ||
            { cat /tmp/install.log; exit 1; }
        want="libvirt0 (= $(dpkg-query -W -f="\${Version}" libvirt0))"
        dpkg-query -W -f="\${Depends}\n" libvirt-daemon-driver-stratovirt | grep -qF "$want" ||
            { echo "FAIL: the package does not depend on $want"; exit 1; }
        echo "depends on $want"
        for f in /etc/libvirt/stratovirt.conf /etc/libvirt/virtstratovirtd.conf; do
            dpkg-query -W -f="\${Conffiles}\n" libvirt-daemon-driver-stratovirt | grep -q " $f " ||
                { echo "FAIL: $f is not a conffile"; exit 1; }
        done
        echo "conffiles: /etc/libvirt/stratovirt.conf /etc/libvirt/virtstratovirtd.conf"
        # man and man -L zh_CN find the pages by their own names
        for m in man8/virtstratovirtd.8.gz man1/virt-host-validate-stratovirt.1.gz; do
            for d in /usr/share/man /usr/share/man/zh_CN; do
                dpkg -L libvirt-daemon-driver-stratovirt | grep -qx "$d/$m" ||
                    { echo "FAIL: no $d/$m in the package"; exit 1; }
            done
        done
        echo "man pages: virtstratovirtd(8), virt-host-validate-stratovirt(1), English and zh_CN"
        unitdir=$(dirname "$(dpkg -L libvirt-daemon-driver-stratovirt | grep "/virtstratovirtd.service$")")
        for u in virtstratovirtd.service virtstratovirtd.socket virtstratovirtd-ro.socket \
                 virtstratovirtd-admin.socket; do
            out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$unitdir/$u" 2>&1) || true
            if echo "$out" | grep -q "virtstratovirtd"; then
                echo "FAIL: systemd-analyze verify $u:"; echo "$out"; exit 1
            fi
        done
        echo "systemd-analyze verify: the four units are clean"
        [ -L /etc/systemd/system/sockets.target.wants/virtstratovirtd.socket ] ||
            { echo "FAIL: virtstratovirtd.socket is not enabled"; exit 1; }
        echo "virtstratovirtd.socket enabled"

        if [ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ]; then
            systemctl start virtstratovirtd.socket
            started=systemd
        else
            # PID 1 is not systemd here: start the daemon as its unit does
            eval "$(sed -n "s/^Environment=//p" "$unitdir/virtstratovirtd.service")"
            exec_start=$(sed -n "s/^ExecStart=//p" "$unitdir/virtstratovirtd.service")
            eval "$exec_start" >/tmp/daemon.log 2>&1 &
            echo $! >/tmp/daemon.pid
            started="its unit'"'"'s ExecStart ($exec_start; PID 1 is not systemd)"
            for i in $(seq 1 100); do
                [ -S /run/libvirt/virtstratovirtd-sock ] && break
                sleep 0.1
            done
        fi
        echo "daemon started by $started"
        out=$(LANG=C virsh -c stratovirt:///system version 2>&1) ||
            { echo "FAIL: virsh version: $out"; cat /tmp/daemon.log; exit 1; }
        echo "$out" | grep -q "Using API: StratoVirt" ||
            { echo "FAIL: virsh version did not reach the driver: $out"; exit 1; }
        vmmver=$(/usr/bin/stratovirt -V | sed -n "s/^StratoVirt \([0-9.]*\).*/\1/p")
        echo "$out" | grep -q "Running hypervisor: StratoVirt $vmmver" ||
            { echo "FAIL: virsh version does not show the VMM ($vmmver): $out"; exit 1; }
        echo "$out" | sed "s/^/  virsh: /"
        out=$(LANG=C virsh -c stratovirt:///system uri 2>&1)
        [ "$out" = "stratovirt:///system" ] || { echo "FAIL: virsh uri: $out"; exit 1; }
        # a domain definition, so that purge has something of the daemon to remove
        cat >/tmp/d.xml <<EOF
<domain type="kvm"><name>debtest</name><memory unit="MiB">256</memory><vcpu>1</vcpu>
<os><type arch="x86_64" machine="q35">hvm</type><kernel>/boot/vmlinuz</kernel></os>
<devices><console type="pty"/></devices></domain>
EOF
        LANG=C virsh -c stratovirt:///system define /tmp/d.xml >/dev/null ||
            { echo "FAIL: virsh define"; exit 1; }
        [ -f /etc/libvirt/stratovirt/debtest.xml ] || { echo "FAIL: no saved definition"; exit 1; }
        echo "virsh define: /etc/libvirt/stratovirt/debtest.xml"
        if [ -f /tmp/daemon.pid ]; then
            kill "$(cat /tmp/daemon.pid)"
            for i in $(seq 1 100); do kill -0 "$(cat /tmp/daemon.pid)" 2>/dev/null || break; sleep 0.1; done
        else
            systemctl stop virtstratovirtd.service virtstratovirtd.socket
        fi
        apt-get -q purge -y libvirt-daemon-driver-stratovirt >/tmp/purge.log 2>&1 ||
            { cat /tmp/purge.log; exit 1; }
        if dpkg-query -W -f="\${Status}\n" libvirt-daemon-driver-stratovirt 2>/dev/null | grep -q "install\|config-files"; then
            echo "FAIL: dpkg still knows the package after purge"; exit 1
        fi
        echo "purged"
    ' | sed "s/^/[deb-test] $rel: /" >&2 || { log "$rel: FAILED"; return 1; }

    snapshot "$root/root" >"$root/after"
    if ! diff -u "$root/before" "$root/after" >"$root/diff"; then
        log "$rel: FAIL: purge left files behind:"
        grep '^[+-]\.' "$root/diff" | head -30 >&2
        return 1
    fi
    log "$rel: purge left nothing ($(wc -l <"$root/before") paths compared)"
    echo "deb-test $rel: ok"
}

releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(bookworm trixie)
for r in "${releases[@]}"; do
    t0=$(date +%s)
    one_release "$r" || fail=1
    log "$r: $(( $(date +%s) - t0 )) s"
done
exit $fail
