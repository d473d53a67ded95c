#!/usr/bin/python3
"""simpci: a simulated PCI host, served as a FUSE filesystem with sysfs
semantics, for hosts without an IOMMU or VFIO-capable devices.

It serves a tree shaped like sysfs:

  bus/pci/devices/<bdf>            -> ../../../devices/pci0000:00/<bdf>
  bus/pci/drivers/<drv>/{bind,unbind,new_id,remove_id,<bdf> links}
  bus/pci/{drivers_probe,rescan,drivers_autoprobe}
  devices/pci0000:00/<bdf>/{vendor,device,class,config,driver,
        driver_override,iommu_group,subsystem,uevent,reset,remove,
        sriov_totalvfs,sriov_numvfs,virtfnN,physfn,numa_node,...}
  kernel/iommu_groups/<N>/devices/<bdf>

and, outside FUSE, keeps /dev/vfio-style nodes in --vfio-dir: 'vfio', and
one node per IOMMU group while a device of the group is bound to vfio-pci,
as the kernel's vfio driver does.

scripts/sandbox.sh mounts it and binds its parts over /sys/bus/pci,
/sys/devices/pci0000:00, /sys/kernel/iommu_groups and /dev/vfio inside the
sandbox's private mount namespace, so libvirt's virPCIDevice code, libvirtd's
udev node device driver and the StratoVirt stand-in all see it unchanged.

Kernel behaviour emulated: bind (driver must match the device's IDs, a
dynamic id, or driver_override), unbind, new_id (binds matching unbound
devices), remove_id, driver_override, drivers_probe, reset (absent for
devices without a reset method), remove and rescan, sriov_numvfs creating
and destroying VFs (EBUSY when changing a non-zero count), config space with
PM/PCIe capabilities (FLR when the device has it).  Every write is logged
to --log, one line each, so tests can see what libvirt did.

Fault switch: a file named 'fail-bind-<bdf>' in the --vfio-dir's parent
makes binding that device to vfio-pci fail with EIO (for rollback tests).
"""

import argparse
import errno
import json
import os
import stat
import struct
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations

ROOT_BUS = "pci0000:00"


def netdev_mac(bdf):
    """The MAC of a simulated device's netdev: 02:00:<domain low byte>:<bus>:<slot>:<function>"""
    dom, bus, rest = bdf.split(":")
    slot, fn = rest.split(".")
    return "02:00:%02x:%02x:%02x:%02x" % (int(dom, 16) & 0xff, int(bus, 16), int(slot, 16), int(fn, 16))


def hexid(v):
    return int(v, 16) if isinstance(v, str) else int(v)


class Device:
    def __init__(self, spec, host):
        self.bdf = spec["bdf"]
        self.vendor = hexid(spec["vendor"])
        self.device = hexid(spec["device"])
        self.subvendor = hexid(spec.get("subsystem_vendor", spec["vendor"]))
        self.subdevice = hexid(spec.get("subsystem_device", "0x0000"))
        self.klass = hexid(spec.get("class", "0x020000"))
        self.driver = spec.get("driver")
        self.orig_driver = self.driver
        self.group = spec.get("group")
        self.flr = spec.get("flr", True)
        self.pm_reset = spec.get("pm_reset", False)
        self.bridge = spec.get("bridge", False)
        self.acs = spec.get("acs", self.bridge)
        self.multifunction = spec.get("multifunction", False)
        self.sriov = spec.get("sriov")
        self.numvfs = 0
        self.physfn = spec.get("physfn")
        self.netdev = spec.get("netdev")
        self.override = None
        self.removed = False
        self.resets = 0
        self.config = self.make_config()

    def make_config(self):
        cfg = bytearray(4096)
        struct.pack_into("<HH", cfg, 0, self.vendor, self.device)
        struct.pack_into("<HH", cfg, 4, 0x0406, 0x0010)     # command, status: cap list
        cfg[8] = 0x01                                          # revision
        cfg[9] = self.klass & 0xff
        cfg[10] = (self.klass >> 8) & 0xff
        cfg[11] = (self.klass >> 16) & 0xff
        cfg[0x0e] = (0x01 if self.bridge else 0x00) | (0x80 if self.multifunction else 0)
        if not self.bridge:
            struct.pack_into("<HH", cfg, 0x2c, self.subvendor, self.subdevice)
        cfg[0x34] = 0x40
        # PM capability; NoSoftReset clear means a PM reset works
        cfg[0x40] = 0x01
        cfg[0x41] = 0x50
        struct.pack_into("<H", cfg, 0x42, 0x0003)
        struct.pack_into("<H", cfg, 0x44, 0x0000 if self.pm_reset else 0x0008)
        # PCI Express capability
        cfg[0x50] = 0x10
        cfg[0x51] = 0x00
        port_type = 0x4 if self.bridge else 0x0
        struct.pack_into("<H", cfg, 0x52, 0x0002 | (port_type << 4))
        devcap = (1 << 28) if self.flr else 0
        struct.pack_into("<I", cfg, 0x54, devcap)
        if self.acs:
            # ACS extended capability at 0x100: source validation etc.
            struct.pack_into("<I", cfg, 0x100, 0x000d | (1 << 16))
            struct.pack_into("<HH", cfg, 0x104, 0x001f, 0x001f)
        return cfg


class Host:
    def __init__(self, topo, vfio_dir, log):
        self.lock = threading.RLock()
        self.vfio_dir = vfio_dir
        self.logf = open(log, "a") if log else None
        self.devices = {}
        self.drivers = {name: {"ids": set(hexpair(i) for i in ids), "dyn": set()}
                        for name, ids in topo["drivers"].items()}
        stubs = ("pci-stub",) if topo.get("no_vfio") else ("vfio-pci", "pci-stub")
        for d in stubs:
            self.drivers.setdefault(d, {"ids": set(), "dyn": set()})
        self.no_vfio = bool(topo.get("no_vfio"))
        for spec in topo["devices"]:
            dev = Device(spec, self)
            self.devices[dev.bdf] = dev
        self.removed = {}
        self.next_group = max([d.group for d in self.devices.values()
                               if d.group is not None] + [0]) + 100
        os.makedirs(vfio_dir, exist_ok=True)
        if not self.no_vfio:
            self.mknode(os.path.join(vfio_dir, "vfio"))
        # VFs that exist at boot ("numvfs" in a PF's sriov), as a host
        # whose udev rule sets sriov_numvfs: the node device driver
        # enumerates them at its start (there are no uevents here)
        for spec in topo["devices"]:
            n = (spec.get("sriov") or {}).get("numvfs", 0)
            if n:
                self.set_numvfs(self.devices[spec["bdf"]], n)
        self.update_vfio_nodes()

    def log(self, msg):
        if self.logf:
            self.logf.write("%.6f %s\n" % (time.time(), msg))
            self.logf.flush()

    # --- helpers --------------------------------------------------------
    def mknode(self, path):
        if not os.path.exists(path):
            try:
                os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
            except PermissionError:
                open(path, "w").close()

    def update_vfio_nodes(self):
        groups = {}
        for d in self.devices.values():
            if d.group is not None:
                groups.setdefault(d.group, []).append(d)
        for g, devs in groups.items():
            path = os.path.join(self.vfio_dir, str(g))
            if not self.no_vfio and any(d.driver == "vfio-pci" for d in devs):
                self.mknode(path)
            elif os.path.exists(path):
                os.unlink(path)

    def matches(self, dev, drv):
        d = self.drivers.get(drv)
        if d is None:
            return False
        if dev.override:
            return dev.override == drv
        key = (dev.vendor, dev.device)
        return key in d["ids"] or key in d["dyn"]

    def fail_bind(self, dev, drv):
        flag = os.path.join(os.path.dirname(self.vfio_dir.rstrip("/")),
                            "fail-bind-%s" % dev.bdf)
        return drv == "vfio-pci" and os.path.exists(flag)

    def bind(self, bdf, drv, probing=False):
        dev = self.devices.get(bdf)
        if dev is None:
            raise FuseOSError(errno.ENODEV)
        if dev.driver:
            raise FuseOSError(errno.EBUSY)
        if not self.matches(dev, drv):
            raise FuseOSError(errno.ENODEV)
        if self.fail_bind(dev, drv):
            self.log("bind %s %s FAILED (fault)" % (bdf, drv))
            raise FuseOSError(errno.EIO)
        dev.driver = drv
        self.log("bind %s %s" % (bdf, drv))
        self.update_vfio_nodes()

    def unbind(self, bdf, drv):
        dev = self.devices.get(bdf)
        if dev is None or dev.driver != drv:
            raise FuseOSError(errno.ENODEV)
        dev.driver = None
        self.log("unbind %s %s" % (bdf, drv))
        self.update_vfio_nodes()

    def probe(self, bdf):
        dev = self.devices.get(bdf)
        if dev is None:
            raise FuseOSError(errno.ENODEV)
        if dev.driver:
            return
        cands = [dev.override] if dev.override else sorted(self.drivers)
        # a host driver before the stubs, as module load order usually gives
        cands.sort(key=lambda n: n in ("vfio-pci", "pci-stub"))
        for drv in cands:
            if drv in self.drivers and self.matches(dev, drv) and not self.fail_bind(dev, drv):
                self.bind(bdf, drv)
                return
        self.log("probe %s: no driver" % bdf)

    def set_numvfs(self, pf, n):
        if not pf.sriov:
            raise FuseOSError(errno.ENOENT)
        if n < 0 or n > pf.sriov["total"]:
            raise FuseOSError(errno.ERANGE)
        if pf.numvfs and n and n != pf.numvfs:
            raise FuseOSError(errno.EBUSY)
        if n == pf.numvfs:
            return
        bus, slotfn = pf.bdf.rsplit(":", 1)
        slot, fn = slotfn.split(".")
        if n == 0:
            for i in range(pf.numvfs):
                vbdf = self.vf_bdf(pf, i)
                v = self.devices.pop(vbdf, None)
                self.log("vf removed %s" % vbdf)
            pf.numvfs = 0
        else:
            for i in range(n):
                vbdf = self.vf_bdf(pf, i)
                spec = {"bdf": vbdf, "vendor": "0x%04x" % pf.vendor,
                        "device": pf.sriov["vf_device"],
                        "class": "0x%06x" % pf.klass,
                        "driver": pf.sriov.get("vf_driver"),
                        "group": self.next_group, "flr": True,
                        "physfn": pf.bdf}
                self.next_group += 1
                v = Device(spec, self)
                if v.driver and not self.matches(v, v.driver):
                    v.driver = None
                self.devices[vbdf] = v
                self.log("vf created %s" % vbdf)
            pf.numvfs = n
        self.update_vfio_nodes()

    def vf_bdf(self, pf, i):
        dom, bus, slotfn = pf.bdf.split(":")
        slot, fn = slotfn.split(".")
        off = pf.sriov.get("offset", 1) + i
        f = int(fn) + off
        return "%s:%s:%02x.%x" % (dom, bus, int(slot, 16) + f // 8, f % 8)


def hexpair(s):
    v, d = s.split(":")
    return (int(v, 16), int(d, 16))


DIR = stat.S_IFDIR | 0o755
LNK = stat.S_IFLNK | 0o777
RO = stat.S_IFREG | 0o444
RW = stat.S_IFREG | 0o644
WO = stat.S_IFREG | 0o200


class SysFS(Operations):
    def __init__(self, host):
        self.h = host
        self.t0 = time.time()

    # --- the tree -------------------------------------------------------
    def node(self, path):
        """(kind, mode, payload) for a path, or None."""
        h = self.h
        p = [x for x in path.split("/") if x]
        with h.lock:
            if p == []:
                return ("dir", DIR, ["bus", "devices", "kernel"])
            if p == ["bus"]:
                return ("dir", DIR, ["pci"])
            if p == ["bus", "pci"]:
                return ("dir", DIR, ["devices", "drivers", "drivers_probe", "rescan",
                                     "drivers_autoprobe", "slots", "uevent"])
            if p[:2] == ["bus", "pci"] and len(p) >= 3:
                return self.bus_node(p[2:])
            if p == ["devices"]:
                return ("dir", DIR, [ROOT_BUS])
            if p == ["devices", ROOT_BUS]:
                return ("dir", DIR, sorted(h.devices) + ["uevent"])
            if p[:2] == ["devices", ROOT_BUS] and len(p) >= 3:
                if p[2] == "uevent" and len(p) == 3:
                    return ("file", RO, "")
                return self.dev_node(p[2], p[3:])
            if p == ["kernel"]:
                return ("dir", DIR, ["iommu_groups"])
            if p == ["kernel", "iommu_groups"]:
                return ("dir", DIR, sorted({str(d.group) for d in h.devices.values()
                                            if d.group is not None}, key=int))
            if p[:2] == ["kernel", "iommu_groups"] and len(p) >= 3:
                g = p[2]
                members = sorted(d.bdf for d in h.devices.values() if str(d.group) == g)
                if not members:
                    return None
                if len(p) == 3:
                    return ("dir", DIR, ["devices", "type", "reserved_regions"])
                if p[3] == "type" and len(p) == 4:
                    return ("file", RO, "DMA\n")
                if p[3] == "reserved_regions" and len(p) == 4:
                    return ("file", RO, "")
                if p[3] == "devices":
                    if len(p) == 4:
                        return ("dir", DIR, members)
                    if len(p) == 5 and p[4] in members:
                        return ("link", LNK, "../../../../devices/%s/%s" % (ROOT_BUS, p[4]))
            return None

    def bus_node(self, p):
        h = self.h
        if p == ["devices"]:
            return ("dir", DIR, sorted(h.devices))
        if p[0] == "devices" and len(p) == 2 and p[1] in h.devices:
            return ("link", LNK, "../../../devices/%s/%s" % (ROOT_BUS, p[1]))
        if p == ["drivers"]:
            return ("dir", DIR, sorted(h.drivers))
        if p[0] == "drivers" and len(p) >= 2 and p[1] in h.drivers:
            drv = p[1]
            bound = sorted(d.bdf for d in h.devices.values() if d.driver == drv)
            if len(p) == 2:
                return ("dir", DIR, ["bind", "unbind", "new_id", "remove_id", "uevent"] + bound)
            if len(p) == 3:
                if p[2] in ("bind", "unbind", "new_id", "remove_id"):
                    return ("ctl", WO, ("driver", drv, p[2]))
                if p[2] == "uevent":
                    return ("file", RO, "")
                if p[2] in bound:
                    return ("link", LNK, "../../../../devices/%s/%s" % (ROOT_BUS, p[2]))
            return None
        if p == ["drivers_probe"]:
            return ("ctl", WO, ("probe",))
        if p == ["rescan"]:
            return ("ctl", WO, ("rescan",))
        if p == ["drivers_autoprobe"]:
            return ("file", RW, "1\n")
        if p == ["slots"]:
            return ("dir", DIR, [])
        if p == ["uevent"]:
            return ("file", RO, "")
        return None

    def dev_node(self, bdf, p):
        h = self.h
        d = h.devices.get(bdf)
        if d is None:
            return None
        files = ["vendor", "device", "subsystem_vendor", "subsystem_device", "class",
                 "revision", "config", "driver_override", "subsystem", "uevent",
                 "remove", "numa_node", "enable", "irq", "local_cpulist",
                 "max_link_speed", "max_link_width", "current_link_speed",
                 "current_link_width", "power", "modalias"]
        if d.driver:
            files.append("driver")
        if d.group is not None:
            files.append("iommu_group")
        if d.flr or d.pm_reset:
            files.append("reset")
        if d.sriov:
            files += ["sriov_totalvfs", "sriov_numvfs", "sriov_offset", "sriov_stride",
                      "sriov_vf_device", "sriov_drivers_autoprobe"]
            files += ["virtfn%d" % i for i in range(d.numvfs)]
        if d.physfn:
            files.append("physfn")
        if d.netdev and d.driver and d.driver not in ("vfio-pci", "pci-stub"):
            files.append("net")
        if not p:
            return ("dir", DIR, files)
        name = p[0]
        if name not in files:
            return None
        if name == "power":
            return ("dir", DIR, []) if len(p) == 1 else None
        if name == "net":
            if len(p) == 1:
                return ("dir", DIR, [d.netdev])
            if len(p) == 2 and p[1] == d.netdev:
                return ("dir", DIR, ["address"])
            if len(p) == 3 and p[1] == d.netdev and p[2] == "address":
                # the netdev's MAC (the sandbox gives the PF's netdev in its
                # network namespace the same): locally administered, from
                # the device's address
                return ("file", RO, "%s\n" % netdev_mac(d.bdf))
            return None
        if len(p) != 1:
            return None
        ro = {
            "vendor": "0x%04x\n" % d.vendor,
            "device": "0x%04x\n" % d.device,
            "subsystem_vendor": "0x%04x\n" % d.subvendor,
            "subsystem_device": "0x%04x\n" % d.subdevice,
            "class": "0x%06x\n" % d.klass,
            "revision": "0x01\n",
            "numa_node": "-1\n",
            "enable": "1\n",
            "irq": "0\n",
            "local_cpulist": "0-%d\n" % (os.cpu_count() - 1),
            "max_link_speed": "8.0 GT/s PCIe\n",
            "max_link_width": "8\n",
            "current_link_speed": "8.0 GT/s PCIe\n",
            "current_link_width": "8\n",
            "sriov_offset": "1\n",
            "sriov_stride": "1\n",
            "sriov_drivers_autoprobe": "1\n",
            # what libvirt >= 10.0 matches against modules.alias to find a
            # VFIO variant driver
            "modalias": "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n"
                        % (d.vendor, d.device, d.subvendor, d.subdevice,
                           d.klass >> 16, (d.klass >> 8) & 0xff, d.klass & 0xff),
        }
        if name in ro:
            return ("file", RO, ro[name])
        if name == "sriov_totalvfs":
            return ("file", RO, "%d\n" % d.sriov["total"])
        if name == "sriov_vf_device":
            return ("file", RO, "%04x\n" % hexid(d.sriov["vf_device"]))
        if name == "sriov_numvfs":
            return ("ctl", RW, ("numvfs", d))
        if name == "uevent":
            text = ""
            if d.driver:
                text += "DRIVER=%s\n" % d.driver
            text += ("PCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
                     "PCI_SLOT_NAME=%s\nMODALIAS=pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n"
                     % (d.klass, d.vendor, d.device, d.subvendor, d.subdevice, d.bdf,
                        d.vendor, d.device, d.subvendor, d.subdevice,
                        d.klass >> 16, (d.klass >> 8) & 0xff, d.klass & 0xff))
            return ("file", RO, text)
        if name == "config":
            return ("ctl", RW, ("config", d))
        if name == "driver_override":
            return ("ctl", RW, ("override", d))
        if name == "reset":
            return ("ctl", WO, ("reset", d))
        if name == "remove":
            return ("ctl", WO, ("remove", d))
        if name == "driver":
            return ("link", LNK, "../../../bus/pci/drivers/%s" % d.driver)
        if name == "subsystem":
            return ("link", LNK, "../../../bus/pci")
        if name == "iommu_group":
            return ("link", LNK, "../../../kernel/iommu_groups/%d" % d.group)
        if name == "physfn":
            return ("link", LNK, "../%s" % d.physfn)
        if name.startswith("virtfn"):
            return ("link", LNK, "../%s" % h.vf_bdf(d, int(name[6:])))
        return None

    # --- content of control files --------------------------------------
    def content(self, n):
        kind, mode, payload = n
        if kind == "file":
            return payload.encode()
        if kind == "ctl":
            what = payload[0]
            if what == "numvfs":
                return b"%d\n" % payload[1].numvfs
            if what == "config":
                return bytes(payload[1].config)
            if what == "override":
                return ((payload[1].override or "(null)") + "\n").encode()
            return b""
        return b""

    def control(self, n, data, offset):
        h = self.h
        payload = n[2]
        what = payload[0]
        text = data.decode(errors="replace").strip("\n\x00 ")
        if what == "driver" and payload[2] == "bind" and payload[1] == "vfio-pci" or \
                what == "probe":
            # fault switch: 'slow-bind-<bdf>' (seconds) delays a vfio-pci bind
            flag = os.path.join(os.path.dirname(h.vfio_dir.rstrip("/")), "slow-bind-%s" % text)
            if os.path.exists(flag):
                try:
                    delay = float(open(flag).read().strip() or "1")
                except (OSError, ValueError):
                    delay = 1.0
                h.log("slow bind %s: %.1fs" % (text, delay))
                time.sleep(delay)
        with h.lock:
            if what == "driver":
                drv, op = payload[1], payload[2]
                if op == "bind":
                    h.bind(text, drv)
                elif op == "unbind":
                    h.unbind(text, drv)
                elif op in ("new_id", "remove_id"):
                    parts = text.split()
                    if len(parts) < 2:
                        raise FuseOSError(errno.EINVAL)
                    key = (int(parts[0], 16), int(parts[1], 16))
                    if op == "new_id":
                        h.drivers[drv]["dyn"].add(key)
                        h.log("new_id %s %04x:%04x" % (drv, key[0], key[1]))
                        for d in sorted(h.devices.values(), key=lambda x: x.bdf):
                            if not d.driver and h.matches(d, drv):
                                try:
                                    h.bind(d.bdf, drv)
                                except FuseOSError:
                                    pass
                    else:
                        h.drivers[drv]["dyn"].discard(key)
                        h.log("remove_id %s %04x:%04x" % (drv, key[0], key[1]))
            elif what == "probe":
                h.probe(text)
            elif what == "rescan":
                for bdf, dev in list(h.removed.items()):
                    h.devices[bdf] = dev
                    dev.driver = None
                    h.probe(bdf)
                h.removed.clear()
                h.log("rescan")
            elif what == "numvfs":
                h.set_numvfs(payload[1], int(text or "0"))
            elif what == "config":
                d = payload[1]
                end = min(offset + len(data), len(d.config))
                d.config[offset:end] = data[:end - offset]
                h.log("config write %s off=0x%x len=%d" % (d.bdf, offset, len(data)))
            elif what == "override":
                d = payload[1]
                d.override = text or None
                h.log("driver_override %s %s" % (d.bdf, text or "(cleared)"))
            elif what == "reset":
                d = payload[1]
                d.resets += 1
                h.log("reset %s" % d.bdf)
            elif what == "remove":
                d = payload[1]
                if d.driver:
                    d.driver = None
                h.devices.pop(d.bdf, None)
                h.removed[d.bdf] = d
                h.log("remove %s" % d.bdf)
                h.update_vfio_nodes()
        return len(data)

    # --- FUSE operations ------------------------------------------------
    def getattr(self, path, fh=None):
        n = self.node(path)
        if n is None:
            raise FuseOSError(errno.ENOENT)
        kind, mode, payload = n
        size = 0
        if kind == "file":
            size = len(payload)
        elif kind == "ctl" and payload[0] == "config":
            size = 4096
        elif kind == "link":
            size = len(payload)
        elif kind == "ctl":
            size = 4096
        nlink = 2 if kind == "dir" else 1
        return {"st_mode": mode, "st_nlink": nlink, "st_size": size,
                "st_uid": 0, "st_gid": 0, "st_atime": self.t0,
                "st_mtime": self.t0, "st_ctime": self.t0}

    def readdir(self, path, fh):
        n = self.node(path)
        if n is None or n[0] != "dir":
            raise FuseOSError(errno.ENOTDIR)
        return [".", ".."] + list(n[2])

    def readlink(self, path):
        n = self.node(path)
        if n is None or n[0] != "link":
            raise FuseOSError(errno.EINVAL)
        return n[2]

    def open(self, path, flags):
        n = self.node(path)
        if n is None:
            raise FuseOSError(errno.ENOENT)
        if n[0] == "dir":
            raise FuseOSError(errno.EISDIR)
        return 0

    def read(self, path, size, offset, fh):
        n = self.node(path)
        if n is None:
            raise FuseOSError(errno.ENOENT)
        if n[1] == WO:
            raise FuseOSError(errno.EACCES)
        data = self.content(n)
        return data[offset:offset + size]

    def write(self, path, data, offset, fh):
        n = self.node(path)
        if n is None:
            raise FuseOSError(errno.ENOENT)
        if n[0] != "ctl":
            raise FuseOSError(errno.EACCES)
        return self.control(n, data, offset)

    def truncate(self, path, length, fh=None):
        if self.node(path) is None:
            raise FuseOSError(errno.ENOENT)
        return 0

    def access(self, path, amode):
        if self.node(path) is None:
            raise FuseOSError(errno.ENOENT)
        return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--topology", required=True)
    ap.add_argument("--mount", required=True)
    ap.add_argument("--vfio-dir", required=True)
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    with open(a.topology) as f:
        topo = json.load(f)
    host = Host(topo, a.vfio_dir, a.log)
    FUSE(SysFS(host), a.mount, foreground=True, allow_other=True, nothreads=False,
         direct_io=True, attr_timeout=0, entry_timeout=0, negative_timeout=0,
         fsname="simpci", default_permissions=False)


if __name__ == "__main__":
    main()
