#!/usr/bin/python3
"""virt-host-validate-stratovirt on the simulated PCI host (good host, no
IOMMU, module missing, non-viable group, busy device) and on this machine."""

import json
import os
import subprocess
import unittest

from svtest import SB, TOP, virsh, main, make_images, standin_only

CHECKER = os.path.join(TOP, "tools", "virt_host_validate_stratovirt.py")
STANDIN = os.path.join(TOP, "tests", "standin", "stratovirt")
SIM = os.environ.get("SANDBOX_SIMPCI")


def check(*args, env=None):
    p = subprocess.run(["/usr/bin/python3", CHECKER, "--binary", STANDIN, "--json"] + list(args),
                       capture_output=True, text=True, env=env)
    return p.returncode, json.loads(p.stdout)


def result(report, prefix):
    for c in report["checks"]:
        if c["check"].startswith(prefix):
            return c
    raise AssertionError("no check starting with %r" % prefix)


def nested(env_extra, *args):
    """The checker in a sandbox of its own (another simulated host)."""
    env = dict(os.environ, SANDBOX_QUIET="1", **env_extra)
    for k in ("SANDBOX_DIR", "SANDBOX_SIMPCI", "SANDBOX_SIMPCI_LOG"):
        env.pop(k, None)
    p = subprocess.run([os.path.join(TOP, "scripts", "sandbox.sh"), "--", "/usr/bin/python3",
                        CHECKER, "--binary", STANDIN, "--json"] + list(args),
                       capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, json.loads(p.stdout)


@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
class Simulated(unittest.TestCase):

    def test_good_host_and_device(self):
        rc, rep = check("--device", "pci_0000_03_00_0")
        self.assertEqual(rc, 0, json.dumps(rep, indent=1))
        self.assertTrue(rep["passthrough_ready"])
        self.assertEqual(result(rep, "Checking if IOMMU is enabled")["result"], "PASS")
        self.assertEqual(result(rep, "Checking if the vfio-pci driver")["result"], "PASS")
        self.assertEqual(result(rep, "Checking if IOMMU group 3 is viable")["result"], "PASS")
        self.assertEqual(result(rep, "Checking the current driver of 0000:03:00.0")["detail"], "hinic")
        self.assertEqual(result(rep, "Checking the reset method of 0000:03:00.0")["detail"], "flr")
        self.assertIn("0 of 4 VFs", result(rep, "Checking SR-IOV of 0000:03:00.0")["detail"])

    def test_non_viable_group_names_members_and_drivers(self):
        rc, rep = check("--device", "0000:07:00.0")
        self.assertEqual(rc, 1)
        c = result(rep, "Checking if IOMMU group 7 is viable")
        self.assertEqual(c["result"], "FAIL")
        self.assertIn("0000:07:00.1 is bound to snd_hda_intel", c["detail"])
        self.assertIn("virsh nodedev-detach pci_0000_07_00_1", c["fix"])
        self.assertIn("0000:07:00.0 (nouveau), 0000:07:00.1 (snd_hda_intel)",
                      result(rep, "Checking the IOMMU group of 0000:07:00.0")["detail"])

    @standin_only("the busy device is on the simulated PCI host, whose /dev/vfio only the stand-in opens")
    def test_busy_device_names_the_vmm(self):
        img = os.path.join(SB, "ck")
        make_images(img, ("vmlinux",))
        xml = """<domain type='kvm'><name>ckbusy</name><memory unit='MiB'>256</memory>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>%s/vmlinux</kernel></os>
<devices><console type='pty'><target type='virtio' port='0'/></console>
<hostdev mode='subsystem' type='pci' managed='yes'><source>
<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev>
</devices></domain>""" % img
        path = os.path.join(SB, "ckbusy.xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("create", path)
        try:
            rc, rep = check("--device", "0000:03:00.0")
            self.assertEqual(rc, 1)
            c = result(rep, "Checking if 0000:03:00.0 is free")
            self.assertEqual(c["result"], "FAIL")
            self.assertIn("-name ckbusy", c["detail"])
        finally:
            virsh("destroy", "ckbusy")

    def test_vfio_module_missing(self):
        topo = os.path.join(SB, "novfio.json")
        with open(os.path.join(TOP, "tests", "simpci", "default-topology.json")) as f:
            t = json.load(f)
        t["no_vfio"] = True
        with open(topo, "w") as f:
            json.dump(t, f)
        rc, rep = nested({"SIMPCI_TOPOLOGY": topo})
        self.assertEqual(rc, 1)
        c = result(rep, "Checking if the vfio-pci driver is loaded")
        self.assertEqual(c["result"], "FAIL")
        self.assertIn("modprobe vfio-pci", c["fix"])
        self.assertEqual(result(rep, "Checking if the vfio module")["result"], "FAIL")


class ThisMachine(unittest.TestCase):

    def test_tells_the_truth_here(self):
        real_groups = None
        if SIM:
            rc, rep = nested({"SANDBOX_REAL_PCI": "1"})
        else:
            rc, rep = check()
        try:
            real_groups = len(os.listdir("/sys/kernel/iommu_groups")) if not SIM else None
        except OSError:
            real_groups = 0
        kvm = result(rep, "Checking if device /dev/kvm")
        self.assertEqual(kvm["result"], "PASS" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "FAIL")
        iommu = result(rep, "Checking if IOMMU is enabled")
        if iommu["result"] == "FAIL":
            # no IOMMU here: exit non-zero for passthrough, with the fix
            self.assertEqual(rc, 1)
            self.assertIn("iommu", iommu["fix"].lower())
            self.assertIn("reboot", iommu["fix"])
        else:
            self.assertGreater(int(iommu["detail"].split()[0]), 0)


if __name__ == "__main__":
    main()
