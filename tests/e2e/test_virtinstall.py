#!/usr/bin/python3
"""virt-install (Debian's virtinst) creating StratoVirt domains through the
sandbox's virtstratovirtd, as a user would."""

import os
import subprocess
import unittest

from svtest import SB, URI, virsh, main

IMG = os.path.join(SB, "vi-images")


def virt_install(*args):
    os.makedirs(IMG, exist_ok=True)
    for f in ("vmlinux", "initrd.img", "rootfs.raw"):
        with open(os.path.join(IMG, f), "ab") as fh:
            fh.truncate(1 << 20)
    cmd = ["virt-install", "--connect", URI, "--memory", "512", "--vcpus", "1",
           "--machine", "q35",
           "--boot", "kernel=%s/vmlinux,initrd=%s/initrd.img,kernel_args=console=hvc0"
           % (IMG, IMG),
           "--network", "none", "--graphics", "none", "--osinfo", "generic",
           "--import", "--noautoconsole"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/usr/bin/virt-install"),
                     "needs root (the sandbox's libvirtd serves storage lookups) and virt-install")
class VirtInstall(unittest.TestCase):

    def test_virtio_disk_and_console_install_runs(self):
        p = virt_install("--name", "vi1",
                         "--disk", "path=%s/rootfs.raw,bus=virtio,format=raw" % IMG,
                         "--console", "pty,target_type=virtio")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(virsh("domstate", "vi1").stdout.strip(), "running")
        xml = virsh("dumpxml", "vi1").stdout
        self.assertIn("<target dev='vda' bus='virtio'/>", xml)
        virsh("destroy", "vi1")
        virsh("undefine", "vi1")

    def test_default_bus_gets_a_clear_error_not_a_crash(self):
        # for a non-QEMU connection virt-install picks sata on q35
        p = virt_install("--name", "vi2", "--disk", "path=%s/rootfs.raw" % IMG)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("bus 'sata' is not supported by StratoVirt", p.stderr)
        self.assertIn("bus=virtio", p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        self.assertNotIn("vi2", virsh("list", "--all", "--name").stdout)


if __name__ == "__main__":
    main()
