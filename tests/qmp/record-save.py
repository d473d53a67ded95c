#!/usr/bin/python3
"""Records StratoVirt's snapshot (migrate to file:) and its restore
(-incoming file:) for tests/unit/stratovirtmonitortest.c.

Usage: record-save.py BINARY IMGDIR OUTDIR
IMGDIR holds vmlinux (the tiny PVH kernel of tests/images, tiny-q35.elf)
and disk.raw (16 MiB); NOSEC=1 restores with -disable-seccomp.  It reuses
the session code of shared/stratovirt/build/qmp-record.py (same format).
"""
import sys, os, shutil, time
HERE = os.path.dirname(os.path.abspath(__file__))
RECORDER = os.path.join(HERE, "..", "..", "..", "shared", "stratovirt", "build", "qmp-record.py")
src = open(RECORDER).read().split("def microvm_argv")[0]
exec(src)
SAVE = IMG + "/save"
shutil.rmtree(SAVE, ignore_errors=True)
argv = ["-machine", "q35", "-m", "256", "-smp", "1", "-kernel", IMG + "/vmlinux",
        "-append", "console=ttyS0", "-serial", "pty",
        "-device", "pcie-root-port,port=0x1,addr=0x4,bus=pcie.0,id=pci.1",
        "-drive", "id=drive-virtio-disk0,file=%s/disk.raw,if=none,format=raw,direct=off" % IMG,
        "-device", "virtio-blk-pci,id=virtio-disk0,drive=drive-virtio-disk0,bus=pci.1,addr=0x0"]
s = Session("q35-save", argv)
s.greeting()
s.cmd("qmp_capabilities")
s.cmd("query-migrate", id="libvirt-1")
s.cmd("migrate", {"uri": "file:" + IMG + "/nosuchdir/sub"}, id="libvirt-2")
s.cmd("query-migrate", id="libvirt-3")
s.cmd("stop", id="libvirt-4")
s.cmd("migrate", {"uri": "file:" + SAVE}, id="libvirt-5", timeout=30)
s.cmd("query-migrate", id="libvirt-6")
s.cmd("query-status", id="libvirt-7")
s.comment("files: " + " ".join(sorted(os.listdir(SAVE))) if os.path.isdir(SAVE) else "no save dir")
s.cmd("quit", id="libvirt-8")
s.finish()
s = Session("q35-restore", argv + ["-incoming", "file:" + SAVE] + (["-disable-seccomp"] if os.environ.get("NOSEC") else []))
s.greeting()
s.cmd("qmp_capabilities")
s.cmd("query-status", id="libvirt-1")
s.cmd("query-migrate", id="libvirt-2")
s.cmd("quit", id="libvirt-3")
s.finish()
