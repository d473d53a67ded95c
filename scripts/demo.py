#!/usr/bin/python3
"""./run demo: the seed documents' flow, on the sandbox's virtstratovirtd.

Runs inside scripts/sandbox.sh.  Each step prints the command a user would
type and what it shows.  With STRATOVIRT=/path/to/stratovirt the domains run
on that binary; otherwise on the project's stand-in, and the demo says so.
"""

import os
import re
import subprocess
import sys
import time

import libvirt

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SB = os.environ["SANDBOX_DIR"]
URI = os.environ["LIBVIRT_DEFAULT_URI"]
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from svtest import make_images  # noqa: E402  (the project's guest kernels)

IMG = os.path.join(SB, "demo-images")
REAL = bool(os.environ.get("STRATOVIRT"))


def step(title):
    print("\n\033[1m== %s\033[0m" % title, flush=True)


def run(*args, check=True):
    print("$ " + " ".join(args), flush=True)
    p = subprocess.run(list(args), capture_output=True, text=True)
    out = (p.stdout + p.stderr).rstrip()
    if out:
        print("  " + out.replace("\n", "\n  "), flush=True)
    if check and p.returncode != 0:
        sys.exit("demo: step failed: %s" % " ".join(args))
    return p


def sample(with_hostdev=False, name=None):
    # the project's tiny guest kernel (tests/images): the real q35 refuses
    # a zero-filled file
    make_images(IMG, ("vmlinux", "rootfs.raw", "OVMF_CODE.fd", "OVMF_VARS.fd"))
    if not os.path.exists(os.path.join(IMG, "standard_vm_kernel")):
        os.rename(os.path.join(IMG, "vmlinux"), os.path.join(IMG, "standard_vm_kernel"))
    with open(os.path.join(TOP, "tests", "cmdline", "stratovirt-x86.xml")) as f:
        xml = f.read()
    xml = xml.replace("/var/lib/stratovirt/standard_vm_kernel", IMG + "/standard_vm_kernel")
    xml = xml.replace("/usr/share/stratovirt/OVMF_CODE.fd", IMG + "/OVMF_CODE.fd")
    xml = xml.replace("/usr/share/stratovirt/OVMF_VARS.fd", IMG + "/OVMF_VARS.fd")
    xml = xml.replace("/var/lib/stratovirt/OVMF_VARS.fd", IMG + "/StratoVirt_VARS.fd")
    xml = xml.replace("/var/lib/stratovirt/rootfs.raw", IMG + "/rootfs.raw")
    xml = xml.replace("<emulator>/usr/bin/stratovirt</emulator>", "")
    # Passthrough of 0000:03:00.0 needs an IOMMU and the device: shown by
    # the passthrough demo; 1 GiB hugepages need a hugetlbfs mount.
    if not with_hostdev:
        xml = re.sub(r"\s*<hostdev.*?</hostdev>", "", xml, flags=re.S)
    xml = re.sub(r"\s*<memoryBacking>.*?</memoryBacking>", "", xml, flags=re.S)
    if REAL:
        # a real VMM maps its memory and opens /dev/vhost-vsock at realize
        xml = xml.replace("<memory unit='GiB'>8</memory>", "<memory unit='GiB'>1</memory>")
        if not os.path.exists("/dev/vhost-vsock"):
            xml = re.sub(r"\s*<vsock.*?</vsock>", "", xml, flags=re.S)
        # a serial port on a pty beside the sample's virtio console: on 2.4
        # and 2.5 only -serial pty gives one
        xml = xml.replace("<console type='pty'>",
                          "<serial type='pty'><target port='0'/></serial>\n"
                          "        <console type='pty'>", 1)
    if name:
        xml = xml.replace("<name>StratoVirt</name>", "<name>%s</name>" % name)
    path = os.path.join(SB, "%s.xml" % (name or "stratovirt_x86"))
    with open(path, "w") as f:
        f.write(xml)
    return path


def console_banner(name, dev=None, until=b"login:"):
    conn = libvirt.open(URI)
    dom = conn.lookupByName(name)
    st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    dom.openConsole(dev, st, 0)
    st.send(b"\r")
    data = b""
    end = time.monotonic() + 10
    while until not in data and time.monotonic() < end:
        try:
            chunk = st.recv(4096)
        except libvirt.libvirtError:
            break
        if isinstance(chunk, bytes):
            if not chunk:
                break  # the console closed
            data += chunk
        else:
            time.sleep(0.05)  # -2: nothing yet
    st.abort()
    del dom
    conn.close()
    return data.decode(errors="replace")


def serial_line(name, dev, until=b"halted", timeout=15):
    """What the guest wrote on @dev, read with a blocking stream in a thread
    (a non-blocking one without a client event loop sees only what came
    with the open)"""
    import threading
    conn = libvirt.open(URI)
    st = conn.newStream(0)
    data = bytearray()

    def reader():
        try:
            while until not in data:
                chunk = st.recv(4096)
                if not isinstance(chunk, bytes) or not chunk:
                    return
                data.extend(chunk)
        except libvirt.libvirtError:
            return
    conn.lookupByName(name).openConsole(dev, st, 0)
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    try:
        st.abort()
    except libvirt.libvirtError:
        pass
    conn.close()
    return bytes(data).decode(errors="replace")


def main():
    real = os.environ.get("STRATOVIRT")
    step("Which StratoVirt")
    print("  %s" % (real or "no STRATOVIRT set: the project's StratoVirt stand-in "
                    "(tests/standin/stratovirt) plays StratoVirt"))
    run("virsh", "version")

    step("Define StratoVirt's own sample domain (docs/stratovirt_x86.xml, paths made real)")
    path = sample()
    run("virsh", "define", path)
    run("virsh", "list", "--all")

    step("Start it")
    run("virsh", "start", "StratoVirt")
    run("virsh", "list")
    run("virsh", "dominfo", "StratoVirt")

    step("The command line StratoVirt got (from the domain log)")
    with open("/var/log/libvirt/stratovirt/StratoVirt.log") as f:
        cmd = [l for l in f.read().splitlines() if " -name StratoVirt " in l][-1]
    print("  " + cmd.replace(" -", " \\\n      -"))

    if REAL:
        # StratoVirt's q35 starts in its firmware (the <loader>, here the
        # project's tiny one, tests/images/tiny-q35-fw.S), which writes its
        # line on COM1: the serial port's pty keeps it for the reader
        step("Serial console output (virsh console StratoVirt serial0, read through libvirt's "
             "console API)")
        xml = subprocess.run(["virsh", "dumpxml", "StratoVirt"], capture_output=True,
                             text=True).stdout
        print("$ virsh dumpxml StratoVirt | <serial>")
        for m in re.findall(r"<serial type='pty'>.*?</serial>", xml, re.S):
            print("  " + m.replace("\n", "\n  "))
        text = serial_line("StratoVirt", "serial0")
        print("$ virsh console StratoVirt serial0")
        print("  " + (text.strip().replace("\r\n", "\n  ") or
                      "(nothing from the guest in 10 s)"))
        if "halted" not in text:
            sys.exit("demo: the guest's serial line did not reach the console")
    else:
        step("Console output (virsh console StratoVirt, read through libvirt's console API)")
        print("  " + console_banner("StratoVirt").replace("\r\n", "\n  "))

    step("Suspend and resume")
    run("virsh", "suspend", "StratoVirt")
    run("virsh", "domstate", "--reason", "StratoVirt")
    run("virsh", "resume", "StratoVirt")
    run("virsh", "domstate", "--reason", "StratoVirt")

    step("Destroy and undefine")
    run("virsh", "destroy", "StratoVirt")
    run("virsh", "domstate", "--reason", "StratoVirt")
    run("virsh", "undefine", "--nvram", "StratoVirt")
    run("virsh", "list", "--all")

    passthrough()


def driver(bdf):
    name = "pci_" + bdf.replace(":", "_").replace(".", "_")
    xml = subprocess.run(["virsh", "nodedev-dumpxml", name], capture_output=True,
                         text=True).stdout
    m = re.search(r"<driver>\s*<name>([^<]+)</name>", xml)
    if m:
        return m.group(1) + "   (virsh nodedev-dumpxml %s)" % name
    # VFs created after libvirtd enumerated the host are not in its list
    # until udev tells it; read what the kernel says, as 'lspci -k' does.
    try:
        drv = os.path.basename(os.readlink("/sys/bus/pci/devices/%s/driver" % bdf))
    except OSError:
        drv = "(no driver)"
    return drv + "   (/sys/bus/pci/devices/%s/driver)" % bdf


def show_drivers(*bdfs):
    for b in bdfs:
        print("  %s: %s" % (b, driver(b)))


def vf_domain(name, bdf):
    d, b, sf = bdf.split(":")
    s, f = sf.split(".")
    xml = """<domain type='kvm'><name>{n}</name><memory unit='MiB'>1024</memory><vcpu>2</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{img}/standard_vm_kernel</kernel>
<cmdline>console=hvc0 root=/dev/vda</cmdline></os>
<devices><disk type='file' device='disk'><source file='{img}/rootfs.raw'/><target dev='vda' bus='virtio'/></disk>
<console type='pty'><target type='virtio' port='0'/></console>
<hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/><source>
<address domain='0x{d}' bus='0x{b}' slot='0x{s}' function='0x{f}'/></source></hostdev>
</devices></domain>""".format(n=name, img=IMG, d=d, b=b, s=s, f=f)
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as fh:
        fh.write(xml)
    return path


def passthrough():
    if not os.path.isdir("/sys/bus/pci/devices/0000:03:00.0"):
        step("Passthrough: skipped")
        print("  this host has no device 0000:03:00.0 (run as root: the sandbox then "
              "provides the simulated PCI host of tests/simpci)")
        return
    if os.environ.get("SANDBOX_SIMPCI"):
        step("Passthrough, on the simulated PCI host (tests/simpci: the seeds' Hi1822 and I350 NICs)")
    else:
        step("Passthrough, on this host's PCI devices")
    run("virsh", "nodedev-list", "--cap", "pci")

    step("virsh nodedev-detach / nodedev-reattach pci_0000_05_00_0 (I350 on igb)")
    show_drivers("0000:05:00.0")
    run("virsh", "nodedev-detach", "pci_0000_05_00_0")
    show_drivers("0000:05:00.0")
    run("virsh", "nodedev-reattach", "pci_0000_05_00_0")
    show_drivers("0000:05:00.0")

    if REAL and os.environ.get("SANDBOX_SIMPCI"):
        step("Passthrough into a domain: skipped on a real StratoVirt")
        print("  the simulated PCI host is seen by libvirt (detach and reattach above) and by the "
              "stand-in, but a real StratoVirt needs a real IOMMU group and /dev/vfio device")
        print("\ndemo: done")
        return
    step("Create the x86 sample with its managed hostdev 0000:03:00.0 (Hi1822 on hinic)")
    show_drivers("0000:03:00.0")
    run("virsh", "create", sample(with_hostdev=True, name="StratoVirt"))
    show_drivers("0000:03:00.0")
    with open("/var/log/libvirt/stratovirt/StratoVirt.log") as f:
        cmd = [l for l in f.read().splitlines() if " -name StratoVirt " in l][-1]
    print("  StratoVirt got: " + re.search(r"-device vfio-pci\S*", cmd).group(0))

    step("Create 4 VFs on the SR-IOV PF 0000:04:00.0, as the seeds do")
    print("$ echo 4 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs")
    with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
        f.write("4")
    vfs = sorted(x for x in os.listdir("/sys/bus/pci/devices") if x.startswith("0000:04:00.")
                 and x != "0000:04:00.0")
    show_drivers(*vfs)

    step("Pass the VF 0000:04:00.1 to a second domain")
    run("virsh", "create", vf_domain("vfguest", "0000:04:00.1"))
    run("virsh", "list")
    show_drivers("0000:04:00.1")

    step("Destroy both: every device back on its host driver")
    run("virsh", "destroy", "vfguest")
    run("virsh", "destroy", "StratoVirt")
    show_drivers("0000:03:00.0", "0000:04:00.1", "0000:05:00.0")
    with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
        f.write("0")
    print("\ndemo: done")


if __name__ == "__main__":
    main()
