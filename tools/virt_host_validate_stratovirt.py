#!/usr/bin/python3
"""virt-host-validate-stratovirt: can this host pass PCI devices through to
StratoVirt, and if not, what to fix.

Host checks: /dev/kvm, hardware virtualization, IOMMU (Intel VT-d, AMD-Vi,
Arm SMMU) on in firmware and kernel, IOMMU groups, interrupt remapping, the
vfio, vfio-pci and vfio_iommu_type1 modules, the StratoVirt binary and its
version, hugepages when configured.  Device checks (--device 0000:03:00.0 or
pci_0000_03_00_0): present, class, current driver, IOMMU group with every
member and its driver, group viability, ACS, reset method, SR-IOV VFs.

One PASS/WARN/FAIL line per check, with the fix for each failure.  It reads
sysfs and procfs only (and runs 'stratovirt -V') and changes nothing.
Exit status: 0 all passed (warnings allowed), 1 something failed, 2 usage.
"""

import argparse
import gettext
import json
import os
import re
import struct
import subprocess
import sys

DOMAIN = "libvirt-stratovirt"
_localedir = os.environ.get("LIBVIRT_STRATOVIRT_LOCALEDIR", "/usr/share/locale")
_t = gettext.translation(DOMAIN, _localedir, fallback=True)
_ = _t.gettext

SYS = "/sys"
PROC = "/proc"

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"


class Report:
    def __init__(self, quiet=False):
        self.items = []
        self.quiet = quiet

    def add(self, check, result, detail="", fix=""):
        self.items.append({"check": check, "result": result, "detail": detail, "fix": fix})

    def failed(self):
        return any(i["result"] == FAIL for i in self.items)

    def print_text(self):
        for i in self.items:
            if self.quiet and i["result"] == PASS:
                continue
            line = "StratoVirt: %-60s: %s" % (i["check"], i["result"])
            if i["detail"]:
                line += " (%s)" % i["detail"]
            print(line)
            if i["fix"] and i["result"] != PASS:
                print("            " + _("fix: %s") % i["fix"])


def read(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def link_base(path):
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def cpu_vendor():
    info = read(os.path.join(PROC, "cpuinfo"), "")
    if "GenuineIntel" in info:
        return "intel"
    if "AuthenticAMD" in info or "HygonGenuine" in info:
        return "amd"
    if os.uname().machine in ("aarch64", "arm64"):
        return "arm"
    return "unknown"


def iommu_fix(vendor):
    if vendor == "intel":
        return _("enable VT-d in the firmware and add intel_iommu=on to the kernel command line "
                 "(/etc/default/grub GRUB_CMDLINE_LINUX, then update-grub and reboot); "
                 "check with: dmesg | grep -i iommu")
    if vendor == "amd":
        return _("enable AMD-Vi/IOMMU in the firmware and add amd_iommu=on iommu=pt to the kernel "
                 "command line, then reboot; check with: dmesg | grep -i iommu")
    if vendor == "arm":
        return _("enable the SMMU in the firmware (ACPI IORT or device tree) and do not boot with "
                 "iommu.passthrough=1; check with: dmesg | grep -i smmu")
    return _("enable the IOMMU in the firmware and the kernel command line, then reboot")


def iommu_groups():
    d = os.path.join(SYS, "kernel", "iommu_groups")
    try:
        return sorted(os.listdir(d), key=lambda x: int(x) if x.isdigit() else 0)
    except OSError:
        return []


def host_checks(rep, binary):
    vendor = cpu_vendor()

    kvm = "/dev/kvm"
    if not os.path.exists(kvm):
        rep.add(_("Checking if device /dev/kvm exists"), FAIL, "",
                _("load the KVM module (modprobe kvm_intel, kvm_amd, or kvm on Arm) and enable "
                  "virtualization in the firmware"))
    elif not os.access(kvm, os.R_OK | os.W_OK):
        rep.add(_("Checking if device /dev/kvm is accessible"), FAIL, "",
                _("run as root or add the user to the kvm group"))
    else:
        rep.add(_("Checking if device /dev/kvm is accessible"), PASS)

    flags = read(os.path.join(PROC, "cpuinfo"), "")
    if vendor in ("intel", "amd", "unknown") and os.uname().machine == "x86_64":
        if re.search(r"\b(vmx|svm)\b", flags):
            rep.add(_("Checking for hardware virtualization"), PASS)
        else:
            rep.add(_("Checking for hardware virtualization"),
                    WARN if os.path.exists(kvm) else FAIL,
                    _("no vmx/svm flag in /proc/cpuinfo"),
                    _("enable Intel VT-x or AMD-V in the firmware"))
    else:
        rep.add(_("Checking for hardware virtualization"),
                PASS if os.path.exists(kvm) else FAIL, "",
                _("enable virtualization extensions in the firmware"))

    groups = iommu_groups()
    iommu_class = []
    try:
        iommu_class = os.listdir(os.path.join(SYS, "class", "iommu"))
    except OSError:
        pass
    cmdline = read(os.path.join(PROC, "cmdline"), "")
    name = {"intel": "Intel VT-d", "amd": "AMD-Vi", "arm": "Arm SMMU"}.get(vendor, "IOMMU")
    if groups:
        rep.add(_("Checking if IOMMU is enabled by kernel (%s)") % name, PASS,
                _("%d IOMMU groups") % len(groups))
        rep.add(_("Checking for IOMMU groups"), PASS, _("%d groups") % len(groups))
    else:
        detail = _("no IOMMU groups in /sys/kernel/iommu_groups")
        if vendor == "intel" and "intel_iommu=on" not in cmdline:
            detail += _("; intel_iommu=on is not on the kernel command line")
        rep.add(_("Checking if IOMMU is enabled by kernel (%s)") % name, FAIL, detail,
                iommu_fix(vendor))
        rep.add(_("Checking for IOMMU groups"), FAIL, _("none"), iommu_fix(vendor))
    if not groups and not iommu_class:
        rep.add(_("Checking for an IOMMU in the firmware (DMAR/IVRS/IORT)"), WARN,
                _("no device in /sys/class/iommu"), iommu_fix(vendor))

    # interrupt remapping: needed unless vfio allows unsafe interrupts
    unsafe = read(os.path.join(SYS, "module", "vfio_iommu_type1", "parameters",
                               "allow_unsafe_interrupts"))
    if "intremap=off" in cmdline or "nointremap" in cmdline:
        rep.add(_("Checking for interrupt remapping"), FAIL, _("disabled on the kernel command line"),
                _("remove intremap=off/nointremap from the kernel command line"))
    elif not groups:
        rep.add(_("Checking for interrupt remapping"), WARN, _("no IOMMU, so none"),
                iommu_fix(vendor))
    elif unsafe == "Y":
        rep.add(_("Checking for interrupt remapping"), WARN,
                _("vfio_iommu_type1 allow_unsafe_interrupts=Y"),
                _("use a platform with interrupt remapping and drop allow_unsafe_interrupts"))
    else:
        rep.add(_("Checking for interrupt remapping"), PASS)

    vfio_pci = os.path.isdir(os.path.join(SYS, "bus", "pci", "drivers", "vfio-pci"))
    vfio = os.path.exists("/dev/vfio/vfio")
    type1 = os.path.isdir(os.path.join(SYS, "module", "vfio_iommu_type1"))
    rep.add(_("Checking if the vfio module is loaded (/dev/vfio/vfio)"),
            PASS if vfio else FAIL, "", "modprobe vfio")
    rep.add(_("Checking if the vfio-pci driver is loaded"), PASS if vfio_pci else FAIL, "",
            _("modprobe vfio-pci (and add vfio-pci to /etc/modules to load it at boot)"))
    rep.add(_("Checking if the vfio_iommu_type1 module is loaded"), PASS if type1 else FAIL, "",
            "modprobe vfio_iommu_type1")

    if not binary:
        conf = read("/etc/libvirt/stratovirt.conf", "") or ""
        m = re.search(r'^\s*stratovirt_binary\s*=\s*"([^"]+)"', conf, re.M)
        binary = m.group(1) if m else "/usr/bin/stratovirt"
    if os.access(binary, os.X_OK):
        try:
            out = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10).stdout
            m = re.search(r"StratoVirt (\S+)", out)
            rep.add(_("Checking for the StratoVirt binary"), PASS if m else WARN,
                    ("%s %s" % (binary, m.group(1))) if m else _("%s did not print a version") % binary,
                    _("install StratoVirt or set stratovirt_binary in /etc/libvirt/stratovirt.conf"))
            if m and tuple(int(x) for x in re.findall(r"\d+", m.group(1))[:2]) >= (2, 4):
                rep.add(_("Checking for VFIO hot-plug support in StratoVirt"), WARN,
                        _("StratoVirt %s cannot hot-plug VFIO devices over QMP") % m.group(1),
                        _("give devices in the domain XML before start (cold-plug)"))
        except (OSError, subprocess.TimeoutExpired) as e:
            rep.add(_("Checking for the StratoVirt binary"), FAIL, str(e),
                    _("install StratoVirt or set stratovirt_binary in /etc/libvirt/stratovirt.conf"))
    else:
        rep.add(_("Checking for the StratoVirt binary"), FAIL, _("%s not found") % binary,
                _("install StratoVirt or set stratovirt_binary in /etc/libvirt/stratovirt.conf"))

    meminfo = read(os.path.join(PROC, "meminfo"), "")
    total = re.search(r"HugePages_Total:\s+(\d+)", meminfo)
    mounts = read(os.path.join(PROC, "mounts"), "")
    if total and int(total.group(1)) > 0:
        if " hugetlbfs " in mounts:
            rep.add(_("Checking for hugepages"), PASS, _("%s reserved") % total.group(1))
        else:
            rep.add(_("Checking for hugepages"), WARN, _("reserved but no hugetlbfs mounted"),
                    "mount -t hugetlbfs none /dev/hugepages")
    else:
        rep.add(_("Checking for hugepages"), WARN, _("none reserved (needed only for <hugepages>)"),
                _("reserve them, e.g. echo 1024 > /proc/sys/vm/nr_hugepages, or hugepages=N on "
                  "the kernel command line"))


def normalize(dev):
    m = re.fullmatch(r"pci_([0-9a-fA-F]{4})_([0-9a-fA-F]{2})_([0-9a-fA-F]{2})_([0-7])", dev)
    if m:
        return "%s:%s:%s.%s" % m.groups()
    m = re.fullmatch(r"(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])", dev)
    if m:
        return "%s:%s:%s.%s" % (m.group(1) or "0000", m.group(2), m.group(3), m.group(4))
    return None


def nodedev_name(bdf):
    return "pci_" + bdf.replace(":", "_").replace(".", "_")


CLASSES = {0x01: "storage", 0x02: "network", 0x03: "display", 0x04: "multimedia",
           0x06: "bridge", 0x0c: "serial bus", 0x12: "accelerator"}


def config_caps(cfg):
    """(has FLR, PM reset without NoSoftReset, ACS) from config space."""
    flr = pm = acs = False
    if len(cfg) < 64:
        return flr, pm, acs
    ptr = cfg[0x34] if cfg[0x06] & 0x10 else 0
    seen = 0
    while ptr and ptr < len(cfg) - 8 and seen < 48:
        cid, nxt = cfg[ptr], cfg[ptr + 1]
        if cid == 0x10:
            devcap = struct.unpack_from("<I", cfg, ptr + 4)[0]
            flr = bool(devcap & (1 << 28))
        elif cid == 0x01:
            pmcsr = struct.unpack_from("<H", cfg, ptr + 4)[0]
            pm = not (pmcsr & 0x8)
        ptr = nxt
        seen += 1
    off = 0x100
    seen = 0
    while len(cfg) >= off + 4 and off and seen < 64:
        hdr = struct.unpack_from("<I", cfg, off)[0]
        if hdr == 0 or hdr == 0xffffffff:
            break
        if hdr & 0xffff == 0x000d:
            acs = True
        off = (hdr >> 20) & 0xffc
        seen += 1
    return flr, pm, acs


def vfio_group_users(group):
    """Processes holding /dev/vfio/<group> open (a VMM using the device)."""
    node = "/dev/vfio/%s" % group
    users = []
    for pid in os.listdir(PROC):
        if not pid.isdigit():
            continue
        fddir = os.path.join(PROC, pid, "fd")
        try:
            fds = os.listdir(fddir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(fddir, fd)) == node:
                    cmd = read(os.path.join(PROC, pid, "cmdline"), "").split("\0")
                    name = ""
                    if "-name" in cmd and cmd.index("-name") + 1 < len(cmd):
                        name = " -name " + cmd[cmd.index("-name") + 1]
                    users.append("pid %s (%s%s)" % (pid, os.path.basename(cmd[0]) if cmd else "?", name))
                    break
            except OSError:
                continue
    return users


def device_checks(rep, dev):
    bdf = normalize(dev)
    if not bdf:
        rep.add(_("Checking device %s") % dev, FAIL, _("not a PCI address"),
                _("give it as 0000:03:00.0 or pci_0000_03_00_0"))
        return
    base = os.path.join(SYS, "bus", "pci", "devices", bdf)
    if not os.path.isdir(base):
        rep.add(_("Checking if device %s is present") % bdf, FAIL, "",
                _("list devices with: virsh nodedev-list --cap pci (or lspci -D)"))
        return
    rep.add(_("Checking if device %s is present") % bdf, PASS)

    klass = int(read(os.path.join(base, "class"), "0x0"), 16)
    kind = CLASSES.get(klass >> 16, "other")
    is_bridge = (klass >> 8) == 0x0604
    rep.add(_("Checking the class of %s") % bdf, FAIL if is_bridge else PASS,
            "0x%06x (%s)" % (klass, kind),
            _("bridges cannot be passed through; pass the devices behind it"))

    drv = link_base(os.path.join(base, "driver"))
    rep.add(_("Checking the current driver of %s") % bdf, PASS,
            drv or _("no driver"))

    group = link_base(os.path.join(base, "iommu_group"))
    if group is None:
        rep.add(_("Checking the IOMMU group of %s") % bdf, FAIL, _("none"),
                iommu_fix(cpu_vendor()))
        return
    gdir = os.path.join(SYS, "kernel", "iommu_groups", group, "devices")
    try:
        members = sorted(os.listdir(gdir))
    except OSError:
        members = [bdf]
    users = vfio_group_users(group)
    if users:
        rep.add(_("Checking if %s is free") % bdf, FAIL,
                _("its IOMMU group %s is open by %s") % (group, ", ".join(users)),
                _("it is in use by a running guest: stop that guest or pick another device"))
    else:
        rep.add(_("Checking if %s is free") % bdf, PASS)

    desc = ", ".join("%s (%s)" % (m, link_base(os.path.join(SYS, "bus", "pci", "devices",
                                                          m, "driver")) or _("no driver"))
                     for m in members)
    rep.add(_("Checking the IOMMU group of %s") % bdf, PASS, _("group %s: %s") % (group, desc))

    blockers = []
    for m in members:
        if m == bdf:
            continue
        d = link_base(os.path.join(SYS, "bus", "pci", "devices", m, "driver"))
        if d and d not in ("vfio-pci", "pci-stub", "pcieport"):
            blockers.append((m, d))
    if blockers:
        rep.add(_("Checking if IOMMU group %s is viable") % group, FAIL,
                "; ".join(_("%s is bound to %s") % b for b in blockers),
                _("pass them to the same domain, or detach them first: %s")
                % "; ".join("virsh nodedev-detach " + nodedev_name(b[0]) for b in blockers))
    else:
        rep.add(_("Checking if IOMMU group %s is viable") % group, PASS,
                _("%d device(s)") % len(members))

    try:
        with open(os.path.join(base, "config"), "rb") as f:
            cfg = f.read(4096)
    except OSError:
        cfg = b""
    flr, pm, acs = config_caps(cfg)
    if len(members) == 1:
        rep.add(_("Checking ACS isolation of %s") % bdf, PASS,
                _("alone in its IOMMU group") + (_(", ACS capability present") if acs else ""))
    else:
        rep.add(_("Checking ACS isolation of %s") % bdf, WARN,
                _("shares IOMMU group %(group)s with %(count)d other device(s)")
                % {"group": group, "count": len(members) - 1},
                _("all of them must go to the same guest; a slot behind an ACS-capable "
                  "root port isolates better"))

    methods = read(os.path.join(base, "reset_method"))
    if methods:
        rep.add(_("Checking the reset method of %s") % bdf, PASS, methods)
    elif flr or pm:
        rep.add(_("Checking the reset method of %s") % bdf, PASS,
                "flr" if flr else "pm")
    elif os.path.exists(os.path.join(base, "reset")):
        rep.add(_("Checking the reset method of %s") % bdf, WARN, _("bus reset only"),
                _("a secondary bus reset also resets other devices behind the same bridge"))
    else:
        rep.add(_("Checking the reset method of %s") % bdf, WARN, _("none"),
                _("the device cannot be reset between guests; reboot the host to clean it"))

    total = read(os.path.join(base, "sriov_totalvfs"))
    if total is not None:
        num = read(os.path.join(base, "sriov_numvfs"), "0")
        rep.add(_("Checking SR-IOV of %s") % bdf, PASS,
                _("%s of %s VFs enabled") % (num, total),
                "")
        if num == "0" and int(total) > 0:
            rep.add(_("Checking SR-IOV VFs of %s") % bdf, WARN, _("no VFs created"),
                    "echo %s > /sys/bus/pci/devices/%s/sriov_numvfs" % (total, bdf))
    elif os.path.exists(os.path.join(base, "physfn")):
        rep.add(_("Checking SR-IOV of %s") % bdf, PASS,
                _("a VF of %s") % link_base(os.path.join(base, "physfn")))


def main():
    ap = argparse.ArgumentParser(
        prog="virt-host-validate-stratovirt",
        description=_("Check whether this host can pass PCI devices through to StratoVirt."))
    ap.add_argument("--device", "-d", action="append", default=[],
                    help=_("also check this PCI device (0000:03:00.0 or pci_0000_03_00_0)"))
    ap.add_argument("--binary", help=_("the StratoVirt binary (default: from stratovirt.conf)"))
    ap.add_argument("--json", action="store_true", help=_("print JSON for tools"))
    ap.add_argument("--quiet", "-q", action="store_true", help=_("print only warnings and failures"))
    a = ap.parse_args()

    rep = Report(quiet=a.quiet)
    host_checks(rep, a.binary)
    for d in a.device:
        device_checks(rep, d)
    if a.json:
        print(json.dumps({"passthrough_ready": not rep.failed(), "checks": rep.items},
                         indent=2, ensure_ascii=False))
    else:
        rep.print_text()
    return 1 if rep.failed() else 0


if __name__ == "__main__":
    sys.exit(main())
