#!/bin/bash
# Run a command beside a private virtstratovirtd started from the build tree.
#
#   scripts/sandbox.sh [-- CMD ...]      (default CMD: an interactive shell)
#
# As root, the daemon and CMD run in private mount and PID namespaces in
# which the sandbox's own folders are mounted over /etc/libvirt,
# /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt:
# the daemon is the system instance (stratovirt:///system) and no system
# path is touched.
# When the command ends the namespaces end, and every process started in
# them (daemon, VMMs) with them.
# As an unprivileged user, the daemon is the session instance
# (stratovirt:///session) with XDG folders inside the sandbox.
#
# Environment:
#   STRATOVIRT      a real StratoVirt binary; without it the project's
#                   stand-in (tests/standin/stratovirt) is used
#   SANDBOX_KEEP=1  keep the sandbox folder afterwards (for debugging)
#   BUILD           the build directory (default: ./build)
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD="${BUILD:-$TOP/build}"

if [ "${1:-}" = "--" ]; then
    shift
fi
if [ $# -eq 0 ]; then
    set -- "${SHELL:-/bin/bash}" -i
fi

DAEMON="$BUILD/src/daemon/virtstratovirtd"
[ -x "$DAEMON" ] || { echo "sandbox: $DAEMON not built; run ./run setup" >&2; exit 1; }

STANDIN="$TOP/tests/standin/stratovirt"
if [ -n "${STRATOVIRT:-}" ]; then
    EMULATOR="$STRATOVIRT"
    [ -x "$EMULATOR" ] || { echo "sandbox: STRATOVIRT=$EMULATOR is not executable" >&2; exit 1; }
else
    EMULATOR="$STANDIN"
fi

# Give the simulated host's kernel a modules.alias (inner part, as root).
sandbox_modules_alias() {
    local rel dir base
    rel=$(uname -r)
    dir="/lib/modules/$rel"
    [ -e "$dir/modules.alias" ] && return 0
    base=$dir
    while [ ! -d "$base" ]; do base=$(dirname "$base"); done
    base=$(readlink -f "$base")
    mkdir -p "$SB/modules-upper" "$SB/modules-work"
    mount -t overlay sandbox-modules \
        -o "lowerdir=$base,upperdir=$SB/modules-upper,workdir=$SB/modules-work" "$base" || {
        echo "sandbox: cannot provide $dir/modules.alias (overlay over $base failed)" >&2
        return 1; }
    mkdir -p "$dir"
    cat > "$dir/modules.alias" <<'ALIAS'
# Aliases extracted from modules themselves (the sandbox's simulated host).
alias pci:v00008086d00001521sv*sd*bc*sc*i* igb
alias pci:v000019E5d00001822sv*sd*bc*sc*i* hinic
alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci
alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci
ALIAS
}

# ---------------------------------------------------------------------
# Inner part: runs inside the namespaces (root) or directly (user).
if [ "${SANDBOX_INNER:-}" = "1" ]; then
    unset SANDBOX_INNER   # a sandbox started from inside this one is its own
    SB="$SANDBOX_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        # A private /dev: the real nodes bound into a tmpfs, so that what
        # the sandbox adds (/dev/vfio, hugetlbfs mount points) stays in it.
        mkdir -p "$SB/realdev"
        mount --rbind /dev "$SB/realdev"
        mount -t tmpfs -o mode=755,size=4m sandbox-dev /dev
        for e in "$SB"/realdev/*; do
            n=${e##*/}
            if [ "$n" = ptmx ] || [ "$n" = pts ]; then
                continue    # a devpts instance of its own, below
            elif [ -L "$e" ]; then
                cp -P "$e" "/dev/$n"
            elif [ -d "$e" ]; then
                mkdir "/dev/$n" && mount --rbind "$e" "/dev/$n"
            else
                # a node that vanished meanwhile (another user's tap) is skipped
                { touch "/dev/$n" && mount --bind "$e" "/dev/$n"; } 2>/dev/null || rm -f "/dev/$n"
            fi
        done

        # Console lock files (libvirt's virChrdev, /var/lock/LCK.._pts_N)
        # name ptys of this sandbox's own devpts: keep them private, or two
        # sandboxes' pts/0 collide
        if [ -d /run/lock ]; then
            mount -t tmpfs -o mode=1777,size=1m sandbox-lock /run/lock
        fi

        # macvtap devices appear in the real /dev only: mirror them
        /usr/bin/python3 "$TOP/scripts/sandbox-devmirror.py" "$SB/realdev" \
            >>"$SB/devmirror.log" 2>&1 &

        mkdir -p /dev/pts
        mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 sandbox-devpts /dev/pts
        ln -s pts/ptmx /dev/ptmx

        # The simulated PCI host (tests/simpci), unless the real one is
        # wanted: its sysfs tree over the real one, its /dev/vfio.
        if [ -z "${SANDBOX_REAL_PCI:-}" ]; then
            mkdir -p "$SB/simsys" "$SB/dev-vfio"
            /usr/bin/python3 "$TOP/tests/simpci/simpci.py" \
                --topology "${SIMPCI_TOPOLOGY:-$TOP/tests/simpci/default-topology.json}" \
                --mount "$SB/simsys" --vfio-dir "$SB/dev-vfio" \
                --log "$SB/simpci.log" >>"$SB/simpci.stderr" 2>&1 &
            for _ in $(seq 1 200); do
                [ -d "$SB/simsys/bus/pci/devices" ] && break
                sleep 0.05
            done
            [ -d "$SB/simsys/bus/pci/devices" ] || {
                echo "sandbox: the simulated PCI host did not come up:" >&2
                cat "$SB/simpci.stderr" >&2; exit 1; }
            mount --bind "$SB/simsys/bus/pci" /sys/bus/pci
            mkdir -p /sys/devices/pci0000:00 2>/dev/null || true
            mount --bind "$SB/simsys/devices/pci0000:00" /sys/devices/pci0000:00
            mount --bind "$SB/simsys/kernel/iommu_groups" /sys/kernel/iommu_groups
            mkdir -p /dev/vfio
            mount --bind "$SB/dev-vfio" /dev/vfio
            # /sys/module as the simulated host's kernel would show it: the
            # real modules, plus the vfio ones (unless the topology says the
            # host has no vfio).
            if ! grep -q '"no_vfio": *true' "${SIMPCI_TOPOLOGY:-$TOP/tests/simpci/default-topology.json}"; then
                mkdir -p "$SB/realmodule"
                mount --bind /sys/module "$SB/realmodule"
                mount -t tmpfs -o mode=755 sandbox-module /sys/module
                for m in "$SB"/realmodule/*; do ln -s "$m" "/sys/module/${m##*/}"; done
                for m in vfio vfio_pci vfio_iommu_type1; do
                    rm -f "/sys/module/$m"; mkdir -p "/sys/module/$m/parameters"
                done
                echo N > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
                # the PCI driver a module implements (libvirt >= 10.0 follows
                # it from the module modules.alias names)
                mkdir -p /sys/module/vfio_pci/drivers
                ln -s /sys/bus/pci/drivers/vfio-pci "/sys/module/vfio_pci/drivers/pci:vfio-pci"
            fi
            # libvirt >= 10.0 looks up a VFIO variant driver for a device in
            # the running kernel's modules.alias and fails without one; a
            # container often has no /lib/modules.  The simulated host's
            # kernel gets one in this namespace only: an overlay over the
            # nearest folder that exists, so the real root is not written.
            sandbox_modules_alias
            export SANDBOX_SIMPCI="$SB/simsys" SANDBOX_SIMPCI_LOG="$SB/simpci.log"
        fi

        # A private network namespace (unless SANDBOX_HOST_NET=1): taps,
        # bridges, the NAT network's firewall rules and OVS ports made by
        # the tests never touch the host's networking.
        if [ -z "${SANDBOX_HOST_NET:-}" ]; then
            # never on the host's own namespace: it must be empty here
            if ip -o link show | grep -qv ' lo:'; then
                echo "sandbox: not in a private network namespace; refusing to add bridges" >&2
                exit 1
            fi
            ip link set lo up
            ip link add br0 type bridge 2>/dev/null && ip link set br0 up
            # The simulated host's SR-IOV PFs have netdevs, as a PF driver
            # makes them: one of that name (a veth, with its peer as the
            # cable; a tap where there is no veth) up in this namespace,
            # for libvirt's SIOCGIFFLAGS / SIOCGIFINDEX; their VF settings
            # over rtnetlink are tests/shim/vfnetshim.c's, in the daemon
            if [ -n "${SANDBOX_SIMPCI:-}" ]; then
                n=0
                for net in /sys/bus/pci/devices/*/net/*; do
                    [ -e "${net%/net/*}/sriov_totalvfs" ] || continue
                    pf=${net##*/}
                    if ip link add "$pf" type veth peer name "pfwire$n" 2>/dev/null; then
                        ip link set "pfwire$n" up
                    else
                        ip tuntap add dev "$pf" mode tap
                    fi
                    [ -r "$net/address" ] && ip link set "$pf" address "$(cat "$net/address")"
                    ip link set "$pf" up
                    n=$((n + 1))
                done
                export SANDBOX_VFNET_STATE="$SB/vfnet.state"
                : > "$SANDBOX_VFNET_STATE"
                export SANDBOX_DAEMON_PRELOAD="$BUILD/tests/vfnetshim.so"
            fi
            # Open vSwitch of its own (database and switch daemons, ended
            # with the PID namespace) with a bridge br-int as Nova's; the
            # userspace datapath where the kernel has no openvswitch module
            if [ -x /usr/sbin/ovsdb-server ] && [ -x /usr/sbin/ovs-vswitchd ]; then
                ovs="$SB/ovs"
                mkdir -p "$ovs" /run/openvswitch
                mount --bind "$ovs" /run/openvswitch
                if { ovsdb-tool create "$ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema &&
                   ovsdb-server "$ovs/conf.db" --remote=punix:/run/openvswitch/db.sock \
                       --pidfile="$ovs/ovsdb-server.pid" --detach --no-chdir \
                       --log-file="$ovs/ovsdb-server.log" &&
                   ovs-vsctl --no-wait init &&
                   ovs-vswitchd unix:/run/openvswitch/db.sock --pidfile="$ovs/ovs-vswitchd.pid" \
                       --detach --no-chdir --log-file="$ovs/ovs-vswitchd.log"
                   } >>"$ovs/start.log" 2>&1; then
                    dp=system
                    [ -d /sys/module/openvswitch ] || dp=netdev
                    ovs-vsctl --timeout=10 add-br br-int -- set bridge br-int datapath_type=$dp ||
                        echo "sandbox: cannot add the OVS bridge br-int" >&2
                else
                    echo "sandbox: Open vSwitch did not start (see $ovs)" >&2
                fi
            fi
        fi

        for d in etc run lib log cache; do mkdir -p "$SB/$d"; done
        # what libvirt-daemon-system ships under /var/lib/libvirt: boot/ is
        # virt-install's scratch pool for --location and --cloud-init
        mkdir -p -m 0711 "$SB/lib/boot"
        mkdir -p -m 0711 "$SB/lib/images"
        mount --bind "$SB/etc" /etc/libvirt 2>/dev/null || {
            mkdir -p /etc/libvirt && mount --bind "$SB/etc" /etc/libvirt; }
        mkdir -p /run/libvirt /var/lib/libvirt /var/log/libvirt
        # /run is a tmpfs on a real host: the run directories, QMP sockets,
        # pidfiles and status XML live in memory there, and here as well
        mount -t tmpfs -o mode=0755 sandbox-run "$SB/run"
        mount --bind "$SB/run" /run/libvirt
        mount --bind "$SB/lib" /var/lib/libvirt
        mount --bind "$SB/log" /var/log/libvirt
        # the driver's capabilities cache (what each StratoVirt binary is)
        mkdir -p /var/cache/libvirt
        mount --bind "$SB/cache" /var/cache/libvirt
        CONFDIR=/etc/libvirt
        SOCK=/run/libvirt/virtstratovirtd-sock
        export LIBVIRT_DEFAULT_URI="stratovirt:///system"
    else
        export HOME="$SB/home"
        export XDG_CONFIG_HOME="$SB/home/.config"
        export XDG_CACHE_HOME="$SB/home/.cache"
        export XDG_RUNTIME_DIR="$SB/xdg-run"
        mkdir -p "$XDG_CONFIG_HOME/libvirt" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
        chmod 700 "$XDG_RUNTIME_DIR"
        CONFDIR="$XDG_CONFIG_HOME/libvirt"
        SOCK="$XDG_RUNTIME_DIR/libvirt/virtstratovirtd-sock"
        export LIBVIRT_DEFAULT_URI="stratovirt:///session"
    fi

    cat > "$CONFDIR/virtstratovirtd.conf" <<CONF
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_rw_perms = "0700"
log_filters = "1:stratovirt 3:*"
log_outputs = "1:file:$SB/virtstratovirtd.log"
CONF
    cat > "$CONFDIR/stratovirt.conf" <<CONF
stratovirt_binary = "$EMULATOR"
CONF
    # The VMMs' cgroups (root only): a partition of this sandbox's own, so
    # that sandboxes running side by side never share a domain's group,
    # and without the memory controller, whose hierarchy on a shared test
    # machine belongs to whoever runs the machine.
    if [ "$(id -u)" -eq 0 ]; then
        cat >> "$CONFDIR/stratovirt.conf" <<CONF
cgroup_partition = "$SANDBOX_CGROUP_PARTITION"
cgroup_controllers = [ "cpu", "cpuacct", "cpuset", "devices", "blkio", "freezer" ]
CONF
    fi
    # On the simulated PCI host the stand-in pins no memory (and a real
    # StratoVirt fails on its devices before mapping any), and this
    # machine may not allow raising RLIMIT_MEMLOCK (no CAP_SYS_RESOURCE).
    if [ -n "${SANDBOX_SIMPCI:-}" ]; then
        echo "vfio_memlock = 0" >> "$CONFDIR/stratovirt.conf"
    fi
    # The driver gives the VMM a clean environment; the stand-in finds its
    # fault switches and version through these.
    if [ "$EMULATOR" = "$STANDIN" ]; then
        echo 'vmm_environment_pass = [ "SANDBOX_DIR", "STANDIN_FAULTS", "STANDIN_VERSION", "STANDIN_FEATURES", "STANDIN_ARCH" ]' \
            >> "$CONFDIR/stratovirt.conf"
    fi
    # Extra driver settings from the caller (tests), appended verbatim.
    if [ -n "${SANDBOX_STRATOVIRT_CONF:-}" ]; then
        printf '%s\n' "$SANDBOX_STRATOVIRT_CONF" >> "$CONFDIR/stratovirt.conf"
    fi

    # Secondary drivers (node devices, storage, secrets): as on a Debian 12
    # host, Debian's own libvirtd serves them and the per-driver socket
    # names point at its socket (src/daemon/libvirt-stratovirt-nodedev.conf
    # does the same on a real host).  Only those driver modules are loaded.
    if [ "$(id -u)" -eq 0 ] && [ -x /usr/sbin/libvirtd ] && [ -z "${SANDBOX_NO_LIBVIRTD:-}" ]; then
        mods="$SB/secondary-drivers"
        mkdir -p "$mods"
        for m in nodedev storage secret network nwfilter; do
            f="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libvirt/connection-driver/libvirt_driver_$m.so"
            [ -f "$f" ] && ln -sf "$f" "$mods/"
        done
        # libvirt's own 'default' NAT network (virbr0, dnsmasq, firewall
        # rules), autostarted by the network driver, as on a fresh host;
        # nwfilter's stock filters (clean-traffic, ...)
        if [ -z "${SANDBOX_HOST_NET:-}" ] && [ -f /usr/share/libvirt/networks/default.xml ]; then
            mkdir -p "$CONFDIR/qemu/networks/autostart"
            cp /usr/share/libvirt/networks/default.xml "$CONFDIR/qemu/networks/default.xml"
            ln -sf ../default.xml "$CONFDIR/qemu/networks/autostart/default.xml"
        fi
        mkdir -p "$CONFDIR/nwfilter"
        if [ -d /usr/share/libvirt/nwfilter ]; then
            cp /usr/share/libvirt/nwfilter/*.xml "$CONFDIR/nwfilter/" 2>/dev/null || true
        fi
        cat > "$CONFDIR/libvirtd.conf" <<CONF
auth_unix_ro = "none"
auth_unix_rw = "none"
unix_sock_rw_perms = "0700"
log_filters = "${SANDBOX_LIBVIRTD_LOG_FILTERS:-3:*}"
log_outputs = "1:file:$SB/libvirtd.log"
CONF
        shim=""
        [ -n "${SANDBOX_SIMPCI:-}" ] && shim="$BUILD/tests/sysfsshim.so"
        LD_PRELOAD="$shim" LIBVIRT_DRIVER_DIR="$mods" /usr/sbin/libvirtd -f "$CONFDIR/libvirtd.conf" \
            -p "$SB/libvirtd.pid" >>"$SB/libvirtd.stderr" 2>&1 &
        echo $! > "$SB/libvirtd.daemon.pid"
        for _ in $(seq 1 200); do
            [ -S /run/libvirt/libvirt-sock ] && break
            sleep 0.05
        done
        for d in virtnodedevd virtstoraged virtsecretd virtnetworkd virtnwfilterd; do
            ln -sf libvirt-sock "/run/libvirt/$d-sock"
            ln -sf libvirt-sock-ro "/run/libvirt/$d-sock-ro"
        done
    fi

    # What a user's shell may carry: the driver must not hand it to the VMM
    # (2.1.0 dies on its first error with RUST_BACKTRACE set).
    export RUST_BACKTRACE=1
    export LIBVIRT_DRIVER_DIR="$BUILD/src"
    export LIBVIRT_STRATOVIRT_LOCALEDIR="$BUILD/po"
    export SANDBOX_DIR SANDBOX_DAEMON="$DAEMON" SANDBOX_CONFDIR="$CONFDIR"
    export SANDBOX_CGROUP_PARTITION
    export SANDBOX_SOCK="$SOCK"

    start_daemon() {
        LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD }${SANDBOX_DAEMON_PRELOAD:-}" "$DAEMON" --config "$CONFDIR/virtstratovirtd.conf" \
            --pid-file "$SB/virtstratovirtd.pid" >>"$SB/virtstratovirtd.stderr" 2>&1 &
        DAEMON_PID=$!
        echo "$DAEMON_PID" > "$SB/daemon.pid"
        for _ in $(seq 1 200); do
            [ -S "$SOCK" ] && return 0
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.05
        done
        echo "sandbox: virtstratovirtd did not come up; its log:" >&2
        tail -n 20 "$SB/virtstratovirtd.stderr" "$SB/virtstratovirtd.log" >&2 || true
        return 1
    }
    start_daemon

    if [ "$EMULATOR" = "$STANDIN" ] && [ -z "${SANDBOX_QUIET:-}" ]; then
        echo "sandbox: no STRATOVIRT set, domains run on the project's StratoVirt stand-in" >&2
    fi

    rc=0
    "$@" || rc=$?

    DAEMON_PID=$(cat "$SB/daemon.pid")
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
    if [ "$(id -u)" -ne 0 ]; then
        # No PID namespace here: end the VMMs started from this sandbox.
        pkill -KILL -f -- "$SB/" 2>/dev/null || true
    fi
    exit $rc
fi

# ---------------------------------------------------------------------
# Outer part: make the folder, enter the namespaces, clean up.
mkdir -p "$TOP/.sandbox"
SANDBOX_DIR=$(mktemp -d "$TOP/.sandbox/sb.XXXXXX")
# traversable, so that a VMM run as an unprivileged user reaches its images
chmod 755 "$SANDBOX_DIR"
# libvirt appends ".partition" to a partition's name in the cgroup tree
SANDBOX_CGROUP_PARTITION="/machine/svsandbox_${SANDBOX_DIR##*.}"
export SANDBOX_DIR BUILD STRATOVIRT="${STRATOVIRT:-}" SANDBOX_CGROUP_PARTITION
cleanup() {
    # the partition's groups, left behind if the sandbox ended with
    # domains running (their VMMs ended with the PID namespace)
    for d in /sys/fs/cgroup/*/machine/"${SANDBOX_CGROUP_PARTITION##*/}.partition"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    if [ -z "${SANDBOX_KEEP:-}" ]; then
        rm -rf "$SANDBOX_DIR"
    else
        echo "sandbox: kept $SANDBOX_DIR" >&2
    fi
}
trap cleanup EXIT

rc=0
if [ "$(id -u)" -eq 0 ]; then
    netns=(--net)
    [ -n "${SANDBOX_HOST_NET:-}" ] && netns=()
    SANDBOX_INNER=1 unshare --mount --propagation private --pid "${netns[@]}" --fork \
        --kill-child --mount-proc "$0" -- "$@" || rc=$?
else
    SANDBOX_INNER=1 "$0" -- "$@" || rc=$?
fi
exit $rc
