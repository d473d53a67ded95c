#!/usr/bin/python3
"""Records StratoVirt's vCPU hot-plug on x86 q35 (device_add of a
generic-x86-cpu, device_del of it, query-cpus around them) for
tests/unit/stratovirtmonitortest.c.

Usage: record-cpu.py BINARY IMGDIR OUTDIR
IMGDIR holds vmlinux (the tiny PVH kernel of tests/images, tiny-q35.elf).
It reuses the session code of shared/stratovirt/build/qmp-record.py.
"""
import sys, os, time
HERE = os.path.dirname(os.path.abspath(__file__))
RECORDER = os.path.join(HERE, "..", "..", "..", "shared", "stratovirt", "build", "qmp-record.py")
src = open(RECORDER).read().split("def microvm_argv")[0]
exec(src)
argv = (["-disable-seccomp"] if os.environ.get("NOSEC") else []) + ["-machine", "q35", "-m", "256", "-smp", "cpus=1,maxcpus=3,sockets=1,cores=3,threads=1",
        "-kernel", IMG + "/vmlinux", "-initrd", IMG + "/initrd.img", "-append", "console=ttyS0", "-serial", "pty"]
s = Session("q35-cpu-hotplug" + ("-noseccomp" if os.environ.get("NOSEC") else ""), argv)
s.greeting()
s.cmd("qmp_capabilities")
s.cmd("query-cpus", id="libvirt-1")
s.cmd("device_add", {"id": "vcpu1", "driver": "generic-x86-cpu", "cpu-id": 1}, id="libvirt-2")
time.sleep(1)
s.cmd("query-cpus", id="libvirt-3")
s.cmd("device_add", {"id": "vcpu1", "driver": "generic-x86-cpu", "cpu-id": 2}, id="libvirt-4")
s.cmd("device_add", {"id": "vcpu5", "driver": "generic-x86-cpu", "cpu-id": 5}, id="libvirt-5")
s.cmd("device_add", {"id": "vcpu0", "driver": "generic-x86-cpu", "cpu-id": 0}, id="libvirt-6")
s.cmd("device_del", {"id": "vcpu1"}, id="libvirt-7")
time.sleep(1)
s.cmd("query-cpus", id="libvirt-8")
s.cmd("quit", id="libvirt-9")
s.finish()
