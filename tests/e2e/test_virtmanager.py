#!/usr/bin/python3
"""virt-manager's New VM wizard, driven through virtinst (the library it
builds its XML with) the way virtManager/createvm.py does: a Guest from the
connection's capabilities, the OS chosen, the wizard's disk, an Installer
for "Import existing disk image" (no_install) and for "Local install
media" (cdrom), install defaults, start_install."""

import os
import re
import subprocess
import sys
import unittest

from svtest import SB, URI, virsh, main, needs_version

sys.path.insert(0, "/usr/share/virt-manager")
try:
    import virtinst
except ImportError:  # pragma: no cover
    virtinst = None

IMG = os.path.join(SB, "vm-images")
OVMF_DESC = "/usr/share/qemu/firmware/60-edk2-x86_64.json"


def image(name, size):
    os.makedirs(IMG, exist_ok=True)
    path = os.path.join(IMG, name)
    with open(path, "ab") as fh:
        fh.truncate(size)
    return path


def wizard(name, disk_path, cdrom=None):
    """createvm's _build_guest + _finish_clicked, without the GTK"""
    conn = virtinst.VirtinstConnection(URI)
    conn.open(None, None)
    capsinfo = conn.caps.guest_lookup(os_type="hvm")
    guest = virtinst.Guest(conn)
    guest.set_capabilities_defaults(capsinfo)
    guest.set_os_name("linux2022")
    guest.name = name
    guest.currentMemory = guest.memory = 512 * 1024
    guest.vcpus = 2

    disk = virtinst.DeviceDisk(conn)
    disk.set_source_path(disk_path)
    disk.device = disk.DEVICE_DISK
    guest.add_device(disk)

    # the wizard's network choice: the default network, model left to
    # virtinst
    nic = virtinst.DeviceInterface(conn)
    nic.set_default_source()
    guest.add_device(nic)

    if cdrom:
        installer = virtinst.Installer(conn, cdrom=cdrom)
    else:
        installer = virtinst.Installer(conn, no_install=True)
    installer.set_install_defaults(guest)
    dom = installer.start_install(guest)
    return dom, guest


@unittest.skipUnless(virtinst and os.geteuid() == 0 and os.path.exists(OVMF_DESC),
                     "needs root, virtinst and Debian's ovmf (./run setup installs them)")
@needs_version((2, 2, 0), "StratoVirt 2.1.0 has no virtio-gpu, vnc, usb or virtio-scsi (domain "
               "capabilities say so), which the wizard's defaults take")
class NewVMWizard(unittest.TestCase):

    def _check_running(self, name):
        self.addCleanup(virsh, "undefine", name, "--nvram", check=False)
        self.addCleanup(virsh, "destroy", name, check=False)
        self.assertEqual(virsh("domstate", name).stdout.strip(), "running")
        xml = virsh("dumpxml", name).stdout
        self.assertIn("<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>", xml)
        return xml

    def test_import_existing_disk_image_runs(self):
        dom, guest = wizard("vmimport", image("vmimport.raw", 1 << 20))
        # virt-manager's defaults for a non-QEMU connection, accepted as they are
        self.assertEqual([d.bus for d in guest.devices.disk], ["sata"])
        self.assertTrue(any(i.type == "tablet" for i in guest.devices.input))
        self.assertEqual([(n.type, n.source, n.model) for n in guest.devices.interface],
                         [("network", "default", "e1000e")])
        xml = self._check_running("vmimport")
        self.assertIn("<target dev='sda' bus='scsi'/>", xml)
        self.assertIn("<input type='tablet' bus='usb'>", xml)
        # the e1000e went on virtio-net, a port of the default network
        self.assertRegex(xml, r"<interface type='network'>(.|\n)*?<source network='default'"
                         r"(.|\n)*?<target dev='vnet\d+'/>\s*<model type='virtio'/>")
        tap, = re.findall(r"^\s*(vnet\d+)\s+network\s+default\s+virtio\s",
                          virsh("domiflist", "vmimport").stdout, re.M)
        link = subprocess.run(["ip", "-o", "link", "show", tap], capture_output=True,
                              text=True, check=True).stdout
        self.assertIn("master virbr0", link)

    def test_local_install_media_runs_from_the_cdrom(self):
        dom, guest = wizard("vmmedia", image("vmmedia.raw", 1 << 20),
                            cdrom=image("media.iso", 4 << 20))
        xml = self._check_running("vmmedia")
        self.assertRegex(xml, r"<disk type='file' device='cdrom'>(.|\n)*?<source file='%s'"
                         % os.path.join(IMG, "media.iso"))
        self.assertIn("<target dev='sdb' bus='scsi'/>", xml)
        # installed, virt-manager's final definition boots the disk
        inactive = virsh("dumpxml", "--inactive", "vmmedia").stdout
        self.assertNotIn("media.iso", inactive)


if __name__ == "__main__":
    main()
