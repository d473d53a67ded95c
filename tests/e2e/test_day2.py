#!/usr/bin/python3
"""Day-2 operations on running and defined domains, through stock virsh and
python3-libvirt: disks plugged in and out live and in the definition (with
their events and rollbacks), device edits of the definition, statistics,
memory and CPU settings."""

import json
import os
import re
import threading
import time
import unittest

import libvirt

from svtest import SB, URI, virsh, main, wait_for, status_pid, make_images, kernel_name

IMG = os.path.join(SB, "images")
STATE = "/run/libvirt/stratovirt" if os.geteuid() == 0 else None
ROUNDS = 20 if os.environ.get("TEST_LONG") else 5


def images():
    # the project's tiny kernels: StratoVirt (and the stand-in) refuse a
    # kernel that is no ELF (q35) or flat image (microvm)
    make_images(IMG, ("vmlinux", "vmlinux-microvm", "initrd.img"))
    for f in ("rootfs.raw", "d1.raw", "d2.raw"):
        p = os.path.join(IMG, f)
        if not os.path.exists(p):
            with open(p, "wb") as fh:
                fh.truncate(4 << 20)
    return IMG


def domxml(name, machine="q35", ports=4, extra=""):
    img = images()
    ctl = "<controller type='pci' model='pcie-root-port'/>" * ports if machine != "microvm" else ""
    return """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='{machine}'>hvm</type>
    <kernel>{img}/{kernel}</kernel>
    <initrd>{img}/initrd.img</initrd>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='{img}/rootfs.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    {ctl}
    <memballoon model='virtio'/>{extra}
  </devices>
</domain>
""".format(name=name, machine=machine, img=img, ctl=ctl, extra=extra,
           kernel=kernel_name(machine))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def set_faults(faults):
    write(os.path.join(SB, "standin-faults.json"), json.dumps(faults))


def targets(name, inactive=False):
    args = ["domblklist", name] + (["--inactive"] if inactive else [])
    return [ln.split()[0] for ln in virsh(*args).stdout.splitlines()
            if ln.strip() and not ln.startswith(("-", " Target"))]


def diskxml(path, dev, extra=""):
    return ("<disk type='file' device='disk'><driver name='stratovirt' type='raw'/>"
            "<source file='%s'/><target dev='%s' bus='virtio'/>%s</disk>" % (path, dev, extra))


class DeviceEvents:
    """device-added / device-removed events as a python-libvirt client sees them."""

    def __init__(self):
        libvirt.virEventRegisterDefaultImpl()
        self.conn = libvirt.open(URI)
        self.events = []
        self.lock = threading.Lock()
        self.stop = False
        self.cbs = [
            self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                             self._on("added"), None),
            self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                             self._on("removed"), None)]
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            libvirt.virEventRunDefaultImpl()

    def _on(self, kind):
        def cb(conn, dom, alias, opaque):
            with self.lock:
                self.events.append((dom.name(), kind, alias))
        return cb

    def count(self, name, kind, alias):
        with self.lock:
            return sum(1 for e in self.events if e == (name, kind, alias))

    def wait(self, name, kind, alias, n=1, timeout=10):
        wait_for(lambda: self.count(name, kind, alias) >= n, timeout,
                 what="%d device-%s events for %s of %s" % (n, kind, alias, name))

    def close(self):
        for cb in self.cbs:
            self.conn.domainEventDeregisterAny(cb)
        self.stop = True
        libvirt.virEventAddTimeout(0, lambda *a: None, None)
        self.thread.join(5)
        self.conn.close()


@unittest.skipUnless(STATE, "the day-2 tests need the system instance (root sandbox)")
class Disks(unittest.TestCase):

    def setUp(self):
        set_faults({})
        self.ev = DeviceEvents()
        self.names = []

    def tearDown(self):
        self.ev.close()
        set_faults({})
        for n in self.names:
            virsh("destroy", n, check=False)
            virsh("undefine", n, "--nvram", check=False)

    def define(self, name, start=True, **kw):
        self.names.append(name)
        virsh("define", write(os.path.join(SB, name + ".xml"), domxml(name, **kw)))
        if start:
            virsh("start", name)

    def live_xml(self, name):
        return virsh("dumpxml", name).stdout

    def vmm_cmdline(self, name):
        with open("/proc/%d/cmdline" % status_pid(name)) as f:
            return f.read().replace("\0", " ")

    def test_attach_detach_live_rounds_with_events(self):
        self.define("dk1")
        d1 = os.path.join(IMG, "d1.raw")
        for r in range(ROUNDS):
            virsh("attach-disk", "dk1", d1, "vdb")
            self.assertEqual(targets("dk1"), ["vda", "vdb"])
            xml = self.live_xml("dk1")
            m = re.search(r"<target dev='vdb' bus='virtio'/>\s*<alias name='([^']+)'/>\s*"
                          r"<address type='pci' domain='0x0000' bus='(0x[0-9a-f]+)' "
                          r"slot='0x00' function='0x0'/>", xml)
            self.assertTrue(m, xml)
            alias = m.group(1)
            self.assertNotEqual(m.group(2), "0x00")   # on a root port, not pcie.0
            self.ev.wait("dk1", "added", alias, n=r + 1)
            # the definition is not touched by a live attach
            self.assertEqual(targets("dk1", inactive=True), ["vda"])
            virsh("detach-disk", "dk1", "vdb")
            self.ev.wait("dk1", "removed", alias, n=r + 1)
            self.assertEqual(targets("dk1"), ["vda"])
        # the VMM is still the one that started
        self.assertEqual(virsh("domstate", "dk1").stdout.strip(), "running")

    def test_attach_config_and_persistent(self):
        self.define("dk2")
        d1, d2 = os.path.join(IMG, "d1.raw"), os.path.join(IMG, "d2.raw")
        virsh("attach-disk", "dk2", d1, "vdc", "--config")
        self.assertEqual(targets("dk2"), ["vda"])
        self.assertEqual(targets("dk2", inactive=True), ["vda", "vdc"])
        # post-parse ran on the definition: the new disk has an address
        inactive = virsh("dumpxml", "--inactive", "dk2").stdout
        self.assertRegex(inactive, r"<target dev='vdc' bus='virtio'/>\s*<address type='pci'")
        virsh("attach-disk", "dk2", d2, "vdd", "--persistent")
        self.assertEqual(targets("dk2"), ["vda", "vdd"])
        self.assertEqual(targets("dk2", inactive=True), ["vda", "vdc", "vdd"])
        virsh("detach-disk", "dk2", "vdd", "--persistent")
        self.assertEqual(targets("dk2"), ["vda"])
        self.assertEqual(targets("dk2", inactive=True), ["vda", "vdc"])
        # the next start has the config disk on the VMM's command line
        virsh("destroy", "dk2")
        virsh("start", "dk2")
        self.assertIn("file=%s" % d1, self.vmm_cmdline("dk2"))
        self.assertEqual(targets("dk2"), ["vda", "vdc"])
        virsh("detach-disk", "dk2", "vdc", "--config")
        self.assertEqual(targets("dk2", inactive=True), ["vda"])

    def test_config_attach_is_validated(self):
        self.define("dk3", start=False)
        d1 = os.path.join(IMG, "d1.raw")
        p = virsh("attach-disk", "dk3", d1, "hdb", "--config", "--targetbus", "usb",
                  check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("bus 'usb' is not supported by StratoVirt", p.stderr)
        self.assertEqual(targets("dk3", inactive=True), ["vda"])
        p = virsh("attach-disk", "dk3", d1, "vda", "--config", check=False)
        self.assertIn("already has a disk with target 'vda'", p.stderr)
        # the definition's own rules: one pcie-root
        conn = libvirt.open(URI)
        try:
            dom = conn.lookupByName("dk3")
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.attachDeviceFlags("<controller type='pci' index='0' model='pcie-root'/>",
                                      libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            self.assertIn("already has", str(cm.exception))
            # rng, vsock and input go into the definition
            dom.attachDeviceFlags("<rng model='virtio'><backend model='random'>/dev/urandom"
                                  "</backend></rng>", libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            dom.attachDeviceFlags("<vsock model='virtio'><cid auto='no' address='7'/></vsock>",
                                  libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            self.assertIn("<rng model='virtio'>", xml)
            self.assertIn("address='7'", xml)
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.attachDeviceFlags("<vsock model='virtio'><cid auto='no' address='8'/></vsock>",
                                      libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_INVALID)
            dom.detachDeviceFlags("<vsock model='virtio'><cid auto='no' address='7'/></vsock>",
                                  libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            dom.detachDeviceFlags("<rng model='virtio'><backend model='random'>/dev/urandom"
                                  "</backend></rng>", libvirt.VIR_DOMAIN_AFFECT_CONFIG)
            xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            self.assertNotIn("<rng", xml)
            self.assertNotIn("<vsock", xml)
            # a live attach to a shut-off domain is the wrong state
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.attachDeviceFlags(diskxml(d1, "vdb"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_OPERATION_INVALID)
        finally:
            conn.close()

    def test_update_device(self):
        self.define("dk4")
        d1, d2 = os.path.join(IMG, "d1.raw"), os.path.join(IMG, "d2.raw")
        virsh("attach-disk", "dk4", d1, "vdb", "--config")
        upd = write(os.path.join(SB, "upd.xml"), diskxml(d2, "vdb"))
        virsh("update-device", "dk4", upd, "--config")
        inactive = virsh("dumpxml", "--inactive", "dk4").stdout
        self.assertIn(d2, inactive)
        self.assertNotIn(d1, inactive)
        # the address the disk had is kept
        self.assertRegex(inactive, r"<target dev='vdb' bus='virtio'/>\s*<address type='pci'")
        # StratoVirt cannot change a disk of a running domain: refused, by name
        p = virsh("update-device", "dk4", upd, "--live", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("StratoVirt cannot change a <disk> of a running domain", p.stderr)

    def test_refusals(self):
        self.define("dk5", ports=1)
        d1 = os.path.join(IMG, "d1.raw")
        # the root disk sits on the only root port: nothing free to plug into
        p = virsh("attach-disk", "dk5", d1, "vdb", check=False)
        self.assertIn("no free pcie-root-port", p.stderr)
        # StratoVirt's device_add has no scsi-hd: SCSI disks go in with --config
        p = virsh("attach-disk", "dk5", d1, "sdb", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("only virtio disks can be hot-plugged", p.stderr)
        self.assertEqual(targets("dk5"), ["vda"])
        # a device on pcie.0 cannot be unplugged
        conn = libvirt.open(URI)
        try:
            dom = conn.lookupByName("dk5")
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.detachDeviceFlags("<rng model='virtio'><backend model='random'>"
                                      "/dev/urandom</backend></rng>",
                                      libvirt.VIR_DOMAIN_AFFECT_LIVE)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_CONFIG_UNSUPPORTED)
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.attachDeviceFlags("<rng model='virtio'><backend model='random'>"
                                      "/dev/urandom</backend></rng>",
                                      libvirt.VIR_DOMAIN_AFFECT_LIVE)
            self.assertIn("StratoVirt cannot hot-plug <rng> devices", str(cm.exception))
            with self.assertRaises(libvirt.libvirtError) as cm:
                dom.detachDeviceFlags(diskxml(d1, "vdz"), libvirt.VIR_DOMAIN_AFFECT_LIVE)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_DEVICE_MISSING)
        finally:
            conn.close()

    def test_failed_plug_leaves_nothing_behind(self):
        self.define("dk6", start=False)
        set_faults({"dk6": {"refuse_once": {"device_add": "PCI: slot 0 is in use"}}})
        virsh("start", "dk6")
        d1 = os.path.join(IMG, "d1.raw")
        owner = os.stat(d1).st_uid
        with open("/proc/%d/status" % status_pid("dk6")) as f:
            vmm_uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
        p = virsh("attach-disk", "dk6", d1, "vdb", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("StratoVirt refused 'device_add': PCI: slot 0 is in use", p.stderr)
        self.assertEqual(targets("dk6"), ["vda"])
        self.assertEqual(self.ev.count("dk6", "added", "virtio-disk1"), 0)
        # the image went back to its owner
        self.assertEqual(os.stat(d1).st_uid, owner)
        # the drive was deleted again: the same node name can be added now
        virsh("attach-disk", "dk6", d1, "vdb")
        self.assertEqual(targets("dk6"), ["vda", "vdb"])
        # the VMM's user has the image while it is plugged, and gives it back
        self.assertEqual(os.stat(d1).st_uid, vmm_uid)
        virsh("detach-disk", "dk6", "vdb")
        self.assertEqual(targets("dk6"), ["vda"])
        self.assertEqual(os.stat(d1).st_uid, owner)
        virsh("attach-disk", "dk6", d1, "vdb")
        # a missing image: refused, naming it (by the labelling when the VMM
        # runs as another user, else by StratoVirt's blockdev-add)
        p = virsh("attach-disk", "dk6", os.path.join(IMG, "nosuch.raw"), "vdc", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertRegex(p.stderr, r"(Failed to open drive file|unable to stat): \S*nosuch.raw")
        self.assertEqual(targets("dk6"), ["vda", "vdb"])

    def test_unplug_completes_later_or_stays_pending(self):
        self.define("dk7", start=False)
        set_faults({"dk7": {"unplug_delay": 7}})
        virsh("start", "dk7")
        d1 = os.path.join(IMG, "d1.raw")
        virsh("attach-disk", "dk7", d1, "vdb")
        alias = re.search(r"dev='vdb' bus='virtio'/>\s*<alias name='([^']+)'",
                          self.live_xml("dk7")).group(1)
        t0 = time.monotonic()
        virsh("detach-disk", "dk7", "vdb")
        # the request is with the guest: still listed, no event yet
        self.assertLess(time.monotonic() - t0, 7)
        self.assertEqual(targets("dk7"), ["vda", "vdb"])
        self.assertEqual(self.ev.count("dk7", "removed", alias), 0)
        # the guest releases it later: DEVICE_DELETED finishes the removal
        self.ev.wait("dk7", "removed", alias, timeout=15)
        wait_for(lambda: targets("dk7") == ["vda"], what="vdb to leave the live XML")
        # and the slot and node name are free again
        virsh("attach-disk", "dk7", d1, "vdb")
        self.assertEqual(targets("dk7"), ["vda", "vdb"])

    def test_unplug_without_guest(self):
        """The real VMM without a guest never sends DEVICE_DELETED."""
        self.define("dk8", start=False)
        set_faults({"dk8": {"ignore_unplug": True}})
        virsh("start", "dk8")
        d1 = os.path.join(IMG, "d1.raw")
        virsh("attach-disk", "dk8", d1, "vdb")
        virsh("detach-disk", "dk8", "vdb")
        self.assertEqual(targets("dk8"), ["vda", "vdb"])
        # asking again: StratoVirt says the guest has not finished
        p = virsh("detach-disk", "dk8", "vdb", check=False)
        self.assertIn("Guest is still on the fly", p.stderr)
        virsh("destroy", "dk8")
        virsh("start", "dk8")
        self.assertEqual(targets("dk8"), ["vda"])

    def test_microvm_live_refused(self):
        self.define("dk9", machine="microvm", start=False)
        virsh("start", "dk9")
        p = virsh("attach-disk", "dk9", os.path.join(IMG, "d1.raw"), "vdb", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("microvm", p.stderr)
        self.assertIn("--config", p.stderr)
        virsh("attach-disk", "dk9", os.path.join(IMG, "d1.raw"), "vdb", "--config")
        self.assertEqual(targets("dk9", inactive=True), ["vda", "vdb"])


if __name__ == "__main__":
    main()
