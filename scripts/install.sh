#!/bin/bash
# Install libvirt-stratovirt into the system: the driver module into
# libvirt's connection-driver folder, virtstratovirtd into /usr/sbin, its
# configuration into /etc/libvirt, systemd units and the tmpfiles entry that
# lets the daemon reach Debian 12's libvirtd for node devices.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TEST_BUILD="${BUILD:-$TOP/build}"
# a build of its own without the test suite's fault hooks (build/ has them)
BUILD="$TOP/build-install"

[ "$(id -u)" -eq 0 ] || { echo "install: run as root" >&2; exit 1; }

if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$TOP" -Dtest_hooks=false \
        -Dlibvirt_src="$(meson introspect --buildoptions "$TEST_BUILD" |
            python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "libvirt_src"][0])')" \
        -Dlibvirt_build="$(meson introspect --buildoptions "$TEST_BUILD" |
            python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "libvirt_build"][0])')" \
        >/dev/null
fi
ninja -C "$BUILD" >/dev/null

# Keep an existing configuration.
for f in stratovirt.conf virtstratovirtd.conf; do
    [ -f "/etc/libvirt/$f" ] && cp -p "/etc/libvirt/$f" "/etc/libvirt/$f.keep"
done
meson install -C "$BUILD" --no-rebuild
for f in stratovirt.conf virtstratovirtd.conf; do
    [ -f "/etc/libvirt/$f.keep" ] && mv "/etc/libvirt/$f.keep" "/etc/libvirt/$f"
done

# The VMM's AppArmor profile, loaded where the kernel has AppArmor
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
   command -v apparmor_parser >/dev/null 2>&1; then
    apparmor_parser -r /etc/apparmor.d/usr.bin.stratovirt &&
        echo "install: AppArmor profile 'stratovirt' loaded for /usr/bin/stratovirt"
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/libvirt-stratovirt-nodedev.conf || true
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable --now virtstratovirtd.socket virtstratovirtd-ro.socket \
        virtstratovirtd-admin.socket
    echo "install: virtstratovirtd sockets enabled; try: virsh -c stratovirt:///system version"
else
    echo "install: no systemd running; start the daemon with: /usr/sbin/virtstratovirtd -d"
fi
