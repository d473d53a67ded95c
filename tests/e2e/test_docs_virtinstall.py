#!/usr/bin/python3
"""Every virt-install command line of docs/virt-install.rst, run as written
(plus --connect) against the sandbox: the domain must be running."""

import os
import re
import shlex
import subprocess
import unittest

from svtest import TOP, URI, REAL, virsh, main, real_version

DOC = os.path.join(TOP, "docs", "virt-install.rst")
OVMF_DESC = "/usr/share/qemu/firmware/60-edk2-x86_64.json"


def doc_command_lines():
    with open(DOC) as f:
        text = f.read()
    return [m.group(1) for m in re.finditer(r"^    (virt-install .*)$", text, re.M)]


def placeholder_files(argv):
    """the document's image files, made empty (the stand-in boots nothing)"""
    for word in argv:
        for path in re.findall(r"(/var/lib/libvirt/[\w./-]+)", word):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if "vmlinu" in os.path.basename(path):
                # a kernel the q35 loader takes: the project's tiny one
                import shutil
                from svtest import KERNELS
                shutil.copyfile(KERNELS["vmlinux"], path)
                continue
            with open(path, "ab") as fh:
                fh.truncate(4 << 20 if path.endswith(".iso") else 1 << 20)


@unittest.skipUnless(os.geteuid() == 0 and os.path.exists(OVMF_DESC),
                     "needs root (the sandbox's libvirtd) and Debian's ovmf")
class DocumentedCommandLines(unittest.TestCase):

    def test_the_page_has_the_five_kinds(self):
        lines = " ".join(doc_command_lines())
        for kind in ("--import", "--cdrom", "--graphics vnc", "--boot kernel=", "--hostdev"):
            self.assertIn(kind, lines)

    def test_each_command_line_gives_a_running_domain(self):
        lines = doc_command_lines()
        self.assertGreaterEqual(len(lines), 6)
        for line in lines:
            argv = shlex.split(line)
            name = argv[argv.index("--name") + 1]
            with self.subTest(name=name):
                if REAL and "--hostdev" in argv:
                    self.skipTest("on a real StratoVirt: VFIO needs an IOMMU and a device on "
                                  "vfio-pci; this host has none (the stand-in runs this line "
                                  "on the simulated PCI host)")
                placeholder_files(argv)
                p = subprocess.run(argv[:1] + ["--connect", URI] + argv[1:],
                                   capture_output=True, text=True, timeout=180)
                self.addCleanup(virsh, "undefine", name, "--nvram",
                                "--remove-all-storage", check=False)
                self.addCleanup(virsh, "destroy", name, check=False)
                if REAL and real_version() < (2, 2, 0) and p.returncode != 0:
                    # 2.1.0 lacks virtio-gpu, vnc, usb, virtio-scsi and CPU
                    # topology: the line must be refused by name at define
                    # or start (CONFIG_UNSUPPORTED), never fail in the VMM
                    self.assertIn("unsupported configuration", p.stderr, line)
                    self.assertNotEqual(virsh("domstate", name, check=False).stdout.strip(),
                                        "running")
                    print("StratoVirt 2.1.0 refuses %s: %s" % (
                        name, p.stderr.strip().splitlines()[0]))
                    continue
                self.assertEqual(p.returncode, 0, line + "\n" + p.stderr + p.stdout)
                self.assertEqual(virsh("domstate", name).stdout.strip(), "running")


if __name__ == "__main__":
    main()
