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
IMG = os.path.join(SB, "demo-images")


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


def sample():
    os.makedirs(IMG, exist_ok=True)
    for f in ("standard_vm_kernel", "rootfs.raw", "OVMF_CODE.fd", "OVMF_VARS.fd"):
        with open(os.path.join(IMG, f), "ab") as fh:
            fh.truncate(1 << 20)
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
    xml = re.sub(r"\s*<hostdev.*?</hostdev>", "", xml, flags=re.S)
    xml = re.sub(r"\s*<memoryBacking>.*?</memoryBacking>", "", xml, flags=re.S)
    path = os.path.join(SB, "stratovirt_x86.xml")
    with open(path, "w") as f:
        f.write(xml)
    return path


def console_banner(name):
    conn = libvirt.open(URI)
    dom = conn.lookupByName(name)
    st = conn.newStream(0)
    dom.openConsole(None, st, 0)
    st.send(b"\r")
    data = b""
    end = time.monotonic() + 5
    while b"login:" not in data and time.monotonic() < end:
        chunk = st.recv(4096)
        if isinstance(chunk, bytes):
            data += chunk
    st.abort()
    del dom
    conn.close()
    return data.decode(errors="replace")


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
    print("\ndemo: done")


if __name__ == "__main__":
    main()
