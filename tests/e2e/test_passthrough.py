#!/usr/bin/python3
"""PCI passthrough as the seed documents describe it, on the simulated PCI
host (tests/simpci) with stock virsh: managed and unmanaged hostdevs,
nodedev-detach/reattach/reset, IOMMU group checks, busy devices, SR-IOV VFs,
hot-plug and unplug, rollback of a failed start, reconnect."""

import json
import os
import re
import signal
import subprocess
import time
import unittest

from svtest import make_images, REAL, standin_only, real_version
from test_lifecycle import VirshEventWatch
from svtest import driver_of, hostdev_xml as hostdev, SB, URI, virsh, main, wait_for, restart_daemon, pid_alive, status_pid, binary_replaced

SIM = os.environ.get("SANDBOX_SIMPCI")
STATE = "/run/libvirt/stratovirt"
IMG = os.path.join(SB, "pt-images")




def nodedev_driver(bdf):
    name = "pci_" + bdf.replace(":", "_").replace(".", "_")
    xml = virsh("nodedev-dumpxml", name).stdout
    m = re.search(r"<driver>\s*<name>([^<]+)</name>", xml)
    return m.group(1) if m else None




def domxml(name, hostdevs=(), rootports=0):
    make_images(IMG, ("vmlinux", "rootfs.raw"))
    extra = "".join("\n    <controller type='pci' model='pcie-root-port'/>"
                    for _ in range(rootports))
    return """<domain type='kvm'>
  <name>{n}</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><kernel>{img}/vmlinux</kernel></os>
  <devices>
    <disk type='file' device='disk'><source file='{img}/rootfs.raw'/><target dev='vda' bus='virtio'/></disk>
    <console type='pty'><target type='virtio' port='0'/></console>{extra}
    {hd}
  </devices>
</domain>""".format(n=name, img=IMG, extra=extra, hd="\n    ".join(hostdevs))


def xmlfile(name, *a, **kw):
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(domxml(name, *a, **kw))
    return path


def vmm_cmdline(name):
    pid = status_pid(name)
    with open("/proc/%d/cmdline" % pid) as f:
        return f.read().replace("\0", " "), pid


def set_faults(faults):
    with open(os.path.join(SB, "standin-faults.json"), "w") as f:
        json.dump(faults, f)


# the SR-IOV PFs' netdevs of the sandbox and their VF settings over
# rtnetlink (scripts/sandbox.sh, tests/shim/vfnetshim.c)
PFSHIM = os.environ.get("SANDBOX_DAEMON_PRELOAD", "")
PFSHIM_ON = bool(SIM and PFSHIM.endswith("vfnetshim.so") and os.path.exists(PFSHIM))
VFNET_LOG = os.environ.get("SANDBOX_VFNET_STATE", "") + ".log"
# where libvirt's hostdev code keeps a VF's MAC and VLAN while it is lent
HOSTDEVMGR = "/run/libvirt/hostdevmgr"


def pf_ip(*args):
    """iproute2's ip, through the PF shim (the kernel's answer plus the VFs)"""
    return subprocess.run(["ip", *args], env=dict(os.environ, LD_PRELOAD=PFSHIM),
                          capture_output=True, text=True, check=True).stdout


def vf_link(pf):
    """`ip -j link show PF`: VF index -> (MAC, VLAN)"""
    link = json.loads(pf_ip("-j", "link", "show", pf))[0]
    return {v["vf"]: (v["address"], (v.get("vlan_list") or [{}])[0].get("vlan", 0))
            for v in link.get("vfinfo_list", [])}


def status_files():
    return sorted(x for x in os.listdir(STATE) if x != "driver.pid")


@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
class Passthrough(unittest.TestCase):

    def setUp(self):
        set_faults({})

    @standin_only("a VFIO device of the simulated PCI host cannot be opened by a real StratoVirt, so no domain with one runs")
    def test_managed_hostdev_goes_to_vfio_and_back(self):
        self.assertEqual(nodedev_driver("0000:03:00.0"), "hinic")
        virsh("create", xmlfile("pt1", [hostdev("0000:03:00.0")]))
        self.assertEqual(nodedev_driver("0000:03:00.0"), "vfio-pci")
        self.assertTrue(os.path.exists("/dev/vfio/3"))
        cmd, pid = vmm_cmdline("pt1")
        self.assertIn("-device vfio-pci,id=hostdev0,host=0000:03:00.0,bus=pci.", cmd)
        virsh("destroy", "pt1")
        self.assertFalse(pid_alive(pid))
        self.assertEqual(nodedev_driver("0000:03:00.0"), "hinic")
        self.assertFalse(os.path.exists("/dev/vfio/3"))

    def test_nodedev_detach_reattach_05_00_0(self):
        virsh("nodedev-detach", "pci_0000_05_00_0")
        self.assertEqual(nodedev_driver("0000:05:00.0"), "vfio-pci")
        self.assertEqual(driver_of("0000:05:00.1"), "igb")  # its sibling untouched
        virsh("nodedev-reattach", "pci_0000_05_00_0")
        self.assertEqual(nodedev_driver("0000:05:00.0"), "igb")

    def test_unmanaged_needs_vfio_first_and_stays_there(self):
        p = virsh("create", xmlfile("um1", [hostdev("0000:04:00.0", "no")]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("managed='no' but is bound to hinic", p.stderr)
        self.assertIn("virsh nodedev-detach pci_0000_04_00_0", p.stderr)
        self.assertEqual(status_files(), [])
        if REAL:
            return  # (a real StratoVirt cannot open the simulated device)
        virsh("nodedev-detach", "pci_0000_04_00_0")
        virsh("create", xmlfile("um1", [hostdev("0000:04:00.0", "no")]))
        virsh("destroy", "um1")
        self.assertEqual(driver_of("0000:04:00.0"), "vfio-pci")
        virsh("nodedev-reattach", "pci_0000_04_00_0")
        self.assertEqual(driver_of("0000:04:00.0"), "hinic")

    @standin_only("a VFIO device of the simulated PCI host cannot be opened by a real StratoVirt, so no domain with one runs")
    def test_device_busy_in_another_domain_is_refused_by_name(self):
        virsh("create", xmlfile("own1", [hostdev("0000:03:00.0")]))
        p = virsh("create", xmlfile("thief1", [hostdev("0000:03:00.0")]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("in use by driver stratovirt, domain own1", p.stderr)
        self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")  # still own1's
        virsh("destroy", "own1")
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")

    def test_device_of_a_qemu_guest_of_libvirtd_is_refused_by_its_name(self):
        # libvirt's QEMU driver (libvirtd or virtqemud) keeps a status XML
        # per running guest in /run/libvirt/qemu (the sandbox's own
        # /run/libvirt); this one stands for a guest with 0000:03:00.0
        qdir = "/run/libvirt/qemu"
        os.makedirs(qdir, exist_ok=True)
        status = os.path.join(qdir, "qguest1.xml")
        qemu = subprocess.Popen(["sleep", "300"])
        try:
            def write(pid):
                with open(status, "w") as f:
                    f.write("""<domstatus state='running' reason='booted' pid='%d'>
  <monitor path='/var/lib/libvirt/qemu/domain-1-qguest1/monitor.sock' type='unix'/>
  <domain type='kvm' id='1'>
    <name>qguest1</name>
    <uuid>d3a6b2f0-0000-4000-8000-000000000001</uuid>
    <memory unit='KiB'>524288</memory>
    <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
    <devices>
      <emulator>/usr/bin/qemu-system-x86_64</emulator>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <driver name='vfio'/>
        <source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>
        <alias name='hostdev0'/>
      </hostdev>
    </devices>
  </domain>
</domstatus>
""" % pid)
            write(qemu.pid)
            p = virsh("create", xmlfile("qthief1", [hostdev("0000:03:00.0")]), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("host PCI device 0000:03:00.0 is in use by the QEMU guest 'qguest1'",
                          p.stderr)
            self.assertEqual(driver_of("0000:03:00.0"), "hinic")  # nothing detached
            self.assertEqual(virsh("domstate", "qthief1", check=False).returncode, 1)
            if REAL:
                return  # (a real StratoVirt cannot open the simulated device)
            # another device is not the guest's
            virsh("create", xmlfile("qother1", [hostdev("0000:04:00.0")]))
            virsh("destroy", "qother1")
            # once that QEMU is gone its stale status file does not count
            qemu.kill()
            qemu.wait()
            virsh("create", xmlfile("qthief1", [hostdev("0000:03:00.0")]))
            self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")
            virsh("destroy", "qthief1")
            self.assertEqual(driver_of("0000:03:00.0"), "hinic")
        finally:
            if qemu.poll() is None:
                qemu.kill()
                qemu.wait()
            if os.path.exists(status):
                os.unlink(status)

    def test_non_viable_group_names_every_member_and_driver(self):
        p = virsh("create", xmlfile("gpu1", [hostdev("0000:07:00.0")]), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("IOMMU group 7 of host PCI device 0000:07:00.0 is not viable", p.stderr)
        self.assertIn("0000:07:00.1 (bound to snd_hda_intel)", p.stderr)
        self.assertIn("virsh nodedev-detach pci_0000_07_00_1", p.stderr)
        self.assertEqual(driver_of("0000:07:00.0"), "nouveau")
        if REAL:
            return  # (a real StratoVirt cannot open the simulated device)
        # both functions together are fine
        virsh("create", xmlfile("gpu2", [hostdev("0000:07:00.0"), hostdev("0000:07:00.1")]))
        self.assertEqual(driver_of("0000:07:00.1"), "vfio-pci")
        virsh("destroy", "gpu2")
        self.assertEqual(driver_of("0000:07:00.0"), "nouveau")
        self.assertEqual(driver_of("0000:07:00.1"), "snd_hda_intel")

    def test_bridge_and_missing_device_are_refused(self):
        p = virsh("create", xmlfile("br1", [hostdev("0000:00:1c.0")]), check=False)
        self.assertIn("is a PCI bridge", p.stderr)
        p = virsh("create", xmlfile("nx1", [hostdev("0000:0a:00.0")]), check=False)
        self.assertIn("host PCI device 0000:0a:00.0 does not exist", p.stderr)
        self.assertEqual(status_files(), [])

    def test_reset_impossible_is_reported(self):
        p = virsh("nodedev-reset", "pci_0000_06_00_0", check=False)
        self.assertNotEqual(p.returncode, 0)
        # libvirt's own words: no FLR, no PM reset, and no bridge to reset
        self.assertIn("Unable to reset PCI device 0000:06:00.0", p.stderr)
        virsh("nodedev-reset", "pci_0000_03_00_0")  # FLR capable

    def test_rollback_when_the_second_device_fails_to_bind(self):
        flag = os.path.join(SB, "fail-bind-0000:05:00.1")
        open(flag, "w").close()
        try:
            p = virsh("create", xmlfile("rb1", [hostdev("0000:04:00.0"),
                                                hostdev("0000:05:00.1")]), check=False)
            self.assertNotEqual(p.returncode, 0)
        finally:
            os.unlink(flag)
        self.assertEqual(driver_of("0000:04:00.0"), "hinic")
        self.assertEqual(driver_of("0000:05:00.1"), "igb")
        self.assertEqual(status_files(), [])
        self.assertEqual(subprocess.run(["pgrep", "-f", "--", "-name rb1 "]).returncode, 1)

    def test_rollback_when_stratovirt_fails_after_detach(self):
        set_faults({"rb2": {"realize_error": "VFIO_MAP_DMA failed: Cannot allocate memory"}})
        p = virsh("create", xmlfile("rb2", [hostdev("0000:03:00.0"),
                                            hostdev("0000:05:00.0")]), check=False)
        self.assertNotEqual(p.returncode, 0)
        if REAL:
            # a real StratoVirt fails on the simulated device at realize,
            # after both were moved to vfio-pci: its reason is quoted
            self.assertIn("StratoVirt exited while starting domain 'rb2'", p.stderr)
        else:
            self.assertIn("VFIO_MAP_DMA failed", p.stderr)
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")
        self.assertEqual(driver_of("0000:05:00.0"), "igb")
        self.assertEqual(status_files(), [])

    @standin_only("a VFIO device of the simulated PCI host cannot be opened by a real StratoVirt, so no domain with one runs")
    def test_sriov_vf_to_a_second_domain(self):
        virsh("create", xmlfile("pf1", [hostdev("0000:03:00.0")]))
        with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
            f.write("4")
        try:
            self.assertEqual(driver_of("0000:04:00.1"), "hinicvf")
            self.assertEqual(driver_of("0000:04:00.4"), "hinicvf")
            virsh("create", xmlfile("vf1", [hostdev("0000:04:00.1")]))
            self.assertEqual(driver_of("0000:04:00.1"), "vfio-pci")
            cmd, _ = vmm_cmdline("vf1")
            self.assertIn("host=0000:04:00.1", cmd)
            virsh("destroy", "vf1")
            virsh("destroy", "pf1")
            self.assertEqual(driver_of("0000:04:00.1"), "hinicvf")
            self.assertEqual(driver_of("0000:03:00.0"), "hinic")
        finally:
            with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
                f.write("0")

    def ifhostdev_xml(self, name, mac, vlan, function=1):
        xml = domxml(name).replace("</devices>", """
    <interface type='hostdev' managed='yes'>
      <mac address='%s'/>
      <vlan><tag id='%d'/></vlan>
      <source><address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x%x'/></source>
    </interface>
  </devices>""" % (mac, vlan, function))
        path = os.path.join(SB, name + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        return path

    def vfs_of_04_00_0(self):
        with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
            f.write("4")

        def back():
            with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
                f.write("0")
        self.addCleanup(back)
        # what the operator had set on VF 0 before (`ip link set enp4s0 vf 0 ...`)
        pf_ip("link", "set", "enp4s0", "vf", "0", "mac", "02:00:00:00:04:01", "vlan", "5")
        self.addCleanup(pf_ip, "link", "set", "enp4s0", "vf", "0", "mac", "00:00:00:00:00:00",
                        "vlan", "0")
        self.assertEqual(vf_link("enp4s0")[0], ("02:00:00:00:04:01", 5))

    @unittest.skipUnless(PFSHIM_ON, "the sandbox has no SR-IOV PF netdevs (SANDBOX_HOST_NET, or no tests/vfnetshim.so)")
    def test_sriov_interface_hostdev_sets_the_vf_mac_and_vlan_through_the_pf(self):
        # libvirt's own hostdev code (virHostdevNetConfigReplace) keeps the
        # VF's admin MAC and VLAN, sets the interface's through the PF's
        # netdev over rtnetlink, and puts the old ones back at the end
        self.vfs_of_04_00_0()
        with open(VFNET_LOG, "w"):
            pass
        path = self.ifhostdev_xml("ifhd1", "52:54:00:6d:90:02", 42)
        p = virsh("create", path, check=False)
        if not REAL:
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(driver_of("0000:04:00.1"), "vfio-pci")
            self.assertEqual(vf_link("enp4s0")[0], ("52:54:00:6d:90:02", 42))
            self.assertEqual(vf_link("enp4s0")[1], ("00:00:00:00:00:00", 0))  # its sibling
            cmd, _ = vmm_cmdline("ifhd1")
            self.assertIn("host=0000:04:00.1", cmd)
            live = virsh("dumpxml", "ifhd1").stdout
            self.assertIn("<mac address='52:54:00:6d:90:02'/>", live)
            self.assertIn("<tag id='42'/>", live)
            self.assertTrue(os.path.exists(os.path.join(HOSTDEVMGR, "enp4s0_vf0")))
            virsh("destroy", "ifhd1")
        else:
            # a real StratoVirt cannot open the simulated device: it exits
            # at realize, after the VF got the interface's MAC and VLAN
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("StratoVirt exited while starting domain 'ifhd1'", p.stderr)
        with open(VFNET_LOG) as f:
            log = f.read().splitlines()
        # set, then the operator's values back, in that order
        self.assertEqual(log, ["enp4s0 vf 0 mac 52:54:00:6d:90:02", "enp4s0 vf 0 vlan 42 qos 0",
                               "enp4s0 vf 0 mac 02:00:00:00:04:01", "enp4s0 vf 0 vlan 5 qos 0"])
        self.assertEqual(vf_link("enp4s0")[0], ("02:00:00:00:04:01", 5))
        self.assertEqual(driver_of("0000:04:00.1"), "hinicvf")
        self.assertFalse(os.path.exists(os.path.join(HOSTDEVMGR, "enp4s0_vf0")))
        self.assertEqual(status_files(), [])

    @unittest.skipUnless(PFSHIM_ON, "the sandbox has no SR-IOV PF netdevs (SANDBOX_HOST_NET, or no tests/vfnetshim.so)")
    def test_sriov_interface_hostdev_with_its_pf_down_fails_cleanly(self):
        # libvirt refuses to configure a VF whose PF is down (the change
        # would not take effect); nothing is left changed
        self.vfs_of_04_00_0()
        subprocess.run(["ip", "link", "set", "enp4s0", "down"], check=True)
        self.addCleanup(subprocess.run, ["ip", "link", "set", "enp4s0", "up"], check=True)
        p = virsh("create", self.ifhostdev_xml("ifhd2", "52:54:00:6d:90:03", 43), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Unable to configure VF 0 of PF 'enp4s0' because the PF is not online", p.stderr)
        self.assertEqual(driver_of("0000:04:00.1"), "hinicvf")
        self.assertEqual(vf_link("enp4s0")[0], ("02:00:00:00:04:01", 5))
        self.assertEqual(status_files(), [])
        self.assertEqual(virsh("domstate", "ifhd2", check=False).returncode, 1)

    @unittest.skipUnless(PFSHIM_ON, "the sandbox has no SR-IOV PF netdevs (SANDBOX_HOST_NET, or no tests/vfnetshim.so)")
    def test_sriov_interface_hostdev_failed_starts_give_the_vf_back(self):
        # a start that fails after libvirt set the VF's MAC and VLAN (the
        # VMM exits at realize), or before (a second device that cannot be
        # bound to vfio-pci): the VF's earlier MAC and VLAN, its host
        # driver, nothing left; SVTEST_LONG=1 runs more rounds
        self.vfs_of_04_00_0()
        rounds = int(os.environ.get("SVTEST_ROUNDS", "0")) or \
            (10 if os.environ.get("SVTEST_LONG") == "1" else 3)
        for rnd in range(rounds):
            late = rnd % 2 == 0
            name = "ifrb%d" % rnd
            path = self.ifhostdev_xml(name, "52:54:00:6d:91:%02x" % rnd, 100 + rnd)
            flag = os.path.join(SB, "fail-bind-0000:05:00.1")
            if late:
                set_faults({name: {"realize_error": "VFIO_MAP_DMA failed: Cannot allocate memory"}})
            else:
                with open(path) as f:
                    xml = f.read()
                with open(path, "w") as f:
                    f.write(xml.replace("</devices>", hostdev("0000:05:00.1") + "\n  </devices>"))
                open(flag, "w").close()
            with open(VFNET_LOG, "w"):
                pass
            try:
                p = virsh("create", path, check=False)
            finally:
                if os.path.exists(flag):
                    os.unlink(flag)
                set_faults({})
            self.assertNotEqual(p.returncode, 0, "round %d" % rnd)
            with open(VFNET_LOG) as f:
                log = f.read().splitlines()
            # set, and given back after the failure (in both cases the
            # failure comes after libvirt's hostdev code set the VF's
            # network config)
            self.assertEqual(log, ["enp4s0 vf 0 mac 52:54:00:6d:91:%02x" % rnd,
                                   "enp4s0 vf 0 vlan %d qos 0" % (100 + rnd),
                                   "enp4s0 vf 0 mac 02:00:00:00:04:01",
                                   "enp4s0 vf 0 vlan 5 qos 0"], "round %d" % rnd)
            self.assertEqual(vf_link("enp4s0")[0], ("02:00:00:00:04:01", 5), "round %d" % rnd)
            self.assertEqual(driver_of("0000:04:00.1"), "hinicvf", "round %d" % rnd)
            self.assertEqual(driver_of("0000:05:00.1"), "igb", "round %d" % rnd)
            self.assertFalse(os.path.exists(os.path.join(HOSTDEVMGR, "enp4s0_vf0")), "round %d" % rnd)
            self.assertEqual(status_files(), [], "round %d" % rnd)
            self.assertEqual(virsh("domstate", name, check=False).returncode, 1, "round %d" % rnd)

    def test_hotplug_refused_on_stratovirt_2_5_with_the_reason(self):
        # disk and console take two root ports, the third is free
        virsh("create", xmlfile("hp1", rootports=3))
        self.addCleanup(virsh, "destroy", "hp1", check=False)
        path = os.path.join(SB, "hd.xml")
        with open(path, "w") as f:
            f.write(hostdev("0000:04:00.0"))
        p = virsh("attach-device", "hp1", path, "--live", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot hot-plug VFIO devices", p.stderr)
        self.assertIn("--config", p.stderr)
        if REAL and real_version() < (2, 2, 0):
            # 2.1.0's seccomp filter killed it on the device's IOMMU group
            # link (readlink, 'bad system call, number: 89'): refused first
            self.assertIn("seccomp filter kills it", p.stderr)
            self.assertEqual(virsh("domstate", "hp1").stdout.strip(), "running")
        self.assertEqual(driver_of("0000:04:00.0"), "hinic")
        virsh("destroy", "hp1", check=False)

    @standin_only("StratoVirt 2.3 is played by the stand-in (STANDIN_VERSION); no 2.3 binary is here")
    def test_hotplug_and_unplug_on_stratovirt_2_3(self):
        # the driver knows the version from the binary (-V, probed once):
        # a daemon whose StratoVirt is 2.3.0
        os.environ["STANDIN_VERSION"] = "2.3.0"
        binary_replaced()
        restart_daemon()
        try:
            self.hotplug_and_unplug()
        finally:
            del os.environ["STANDIN_VERSION"]
            binary_replaced()
            restart_daemon()

    def hotplug_and_unplug(self):
        virsh("define", xmlfile("hp2", rootports=3))  # disk and console take two
        virsh("start", "hp2")
        path = os.path.join(SB, "hd2.xml")
        with open(path, "w") as f:
            f.write(hostdev("0000:04:00.0"))
        # watching before the attach (its throwaway domain: the file's own XML)
        ev = VirshEventWatch(domxml("hp-evready"), "hp-evready")
        self.addCleanup(ev.close)
        virsh("attach-device", "hp2", path, "--live")
        self.assertEqual(driver_of("0000:04:00.0"), "vfio-pci")
        self.assertIn("0000:04:00.0", virsh("dumpxml", "hp2").stdout.replace(
            "domain='0x0000' bus='0x04' slot='0x00' function='0x0'", "0000:04:00.0"))
        # a second one: no free root port left
        with open(path + "2", "w") as f:
            f.write(hostdev("0000:05:00.1"))
        p = virsh("attach-device", "hp2", path + "2", "--live", check=False)
        self.assertIn("no free pcie-root-port", p.stderr)
        self.assertEqual(driver_of("0000:05:00.1"), "igb")
        virsh("detach-device", "hp2", path, "--live")
        self.assertEqual(driver_of("0000:04:00.0"), "hinic")
        self.assertNotIn("bus='0x04'", virsh("dumpxml", "hp2").stdout)
        # --config goes into the persistent definition
        virsh("attach-device", "hp2", path, "--config")
        self.assertIn("bus='0x04'", virsh("dumpxml", "--inactive", "hp2").stdout)
        virsh("detach-device", "hp2", path, "--config")
        virsh("destroy", "hp2")
        virsh("undefine", "hp2")
        out = ev.close()
        self.assertIn("event 'device-added' for domain 'hp2': hostdev0", out)
        self.assertIn("event 'device-removed' for domain 'hp2': hostdev0", out)

    @standin_only("a VFIO device of the simulated PCI host cannot be opened by a real StratoVirt, so no domain with one runs")
    def test_unplug_that_the_guest_never_completes_times_out(self):
        set_faults({"hp3": {"ignore_unplug": True}})
        virsh("create", xmlfile("hp3", [hostdev("0000:03:00.0")]))
        path = os.path.join(SB, "hd3.xml")
        with open(path, "w") as f:
            f.write(hostdev("0000:03:00.0"))
        p = virsh("detach-device", "hp3", path, "--live", check=False, timeout=60)
        self.assertIn("did not release hostdev0", p.stderr)
        self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")  # still in use
        virsh("destroy", "hp3")
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")

    @standin_only("a VFIO device of the simulated PCI host cannot be opened by a real StratoVirt, so no domain with one runs")
    def test_late_device_deleted_gives_the_device_back(self):
        """DEVICE_DELETED after the detach stopped waiting still finishes it."""
        # the detach gives up after 10 s; the guest lets go 6 s after that,
        # so a slow virsh still finds the device there
        set_faults({"hp4": {"unplug_delay": 16}})
        virsh("create", xmlfile("hp4", [hostdev("0000:03:00.0")]))
        path = os.path.join(SB, "hd4.xml")
        with open(path, "w") as f:
            f.write(hostdev("0000:03:00.0"))
        ev = subprocess.Popen(["virsh", "event", "hp4", "--event", "device-removed",
                               "--loop", "--timeout", "60"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
        p = virsh("detach-device", "hp4", path, "--live", check=False, timeout=60)
        self.assertIn("did not release hostdev0", p.stderr)
        self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")
        self.assertIn("<hostdev", virsh("dumpxml", "hp4").stdout)
        # the guest lets go six seconds later: back to the host driver
        wait_for(lambda: driver_of("0000:03:00.0") == "hinic", timeout=20,
                 what="0000:03:00.0 back on hinic after the late DEVICE_DELETED")
        wait_for(lambda: "<hostdev" not in virsh("dumpxml", "hp4").stdout,
                 what="the host device to leave the live XML")
        ev.send_signal(signal.SIGINT)
        out = ev.communicate(timeout=30)[0]
        self.assertIn("event 'device-removed' for domain 'hp4': hostdev0", out)
        # the device is free for another domain, and the stop gives back nothing twice
        virsh("create", xmlfile("hp5", [hostdev("0000:03:00.0")]))
        virsh("destroy", "hp4")
        self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")
        virsh("destroy", "hp5")
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")

    @standin_only("a VFIO device of the simulated PCI host cannot be opened by a real StratoVirt, so no domain with one runs")
    def test_restarted_daemon_still_knows_devices_in_use(self):
        virsh("create", xmlfile("rc1", [hostdev("0000:03:00.0")]))
        restart_daemon(signal.SIGKILL)
        p = virsh("create", xmlfile("rc2", [hostdev("0000:03:00.0")]), check=False)
        self.assertIn("in use by driver stratovirt, domain rc1", p.stderr)
        virsh("destroy", "rc1")
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")


if __name__ == "__main__":
    main()
