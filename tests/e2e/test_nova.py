#!/usr/bin/python3
"""OpenStack Nova 26 (Debian 12's python3-nova) and 31 (Debian 13's) on StratoVirt.

Nova's own LibvirtDriver runs in-process (tests/e2e/nova_compute.py, in a
child /usr/bin/python3) against the sandbox's virtstratovirtd, with the
nova.conf of contrib/nova/README.md, on a private copy of the installed
nova package: with contrib/nova's patch for that Nova release applied for
the scenario (nova-26-*.patch on Debian 12, nova-31-*.patch on Debian 13), and
without it to show init_host's refusal.  The system's nova package is
never modified.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svtest import SB, TOP, main, standin_only, virsh  # noqa: E402

NOVA_PKG = "/usr/lib/python3/dist-packages/nova"
CONTRIB = os.path.join(TOP, "contrib", "nova")
HELPER = os.path.join(TOP, "tests", "e2e", "nova_compute.py")

# every step of the scenario, in order; each must pass, or (for what the
# driver does not do yet) fail with the driver's own refusal, named here
STEPS = ["init_host", "get_available_resource", "get_guest_xml", "spawn", "console_output",
         "reboot_soft", "reboot_hard", "pause", "unpause", "power_off",
         "power_on", "suspend_with_passthrough", "volume_detach", "volume_attach",
         "port_attach", "port_detach", "get_diagnostics", "destroy",
         # a second instance, of a flavor without PCI devices
         "plain_spawn", "suspend", "resume", "plain_destroy"]
NOT_YET = {}
# what must be refused, by the driver's own message
REFUSED = {
    # StratoVirt saves no VFIO state and cannot hot-plug the device back at
    # resume: the managed save is refused, the instance runs on with it
    "suspend_with_passthrough": "StratoVirt cannot save a VFIO device's state",
    # StratoVirt cannot hot-plug VFIO (2.4/2.5's device_add vfio-pci fails
    # to parse, 2.1.0 is killed by seccomp): the SR-IOV port's live attach
    "sriov_port_attach": "an <interface type='hostdev'> cannot be hot-plugged",
}


def readme_nova_conf():
    """The nova.conf block of the operator README, as an operator copies it."""
    with open(os.path.join(CONTRIB, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- nova.conf begin -->\s*```ini\n(.*?)```\s*<!-- nova.conf end -->",
                  text, re.S)
    if not m:
        raise AssertionError("contrib/nova/README.md has no nova.conf block")
    return m.group(1)


def private_nova(name, patched):
    """A copy of Debian's nova package under the sandbox, patched or not."""
    root = os.path.join(SB, name)
    if os.path.isdir(root):
        return root
    os.makedirs(root)
    shutil.copytree(NOVA_PKG, os.path.join(root, "nova"), symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    if patched:
        subprocess.run(["patch", "-p1", "-s", "-d", root, "-i", NOVA_PATCH],
                       check=True)
    return root


def conf_files():
    conf = os.path.join(SB, "nova.conf")
    with open(conf, "w") as f:
        f.write(readme_nova_conf())
    paths = os.path.join(SB, "nova-paths.conf")
    state = os.path.join(SB, "nova-state")
    # what the nova-compute package makes: /var/lib/nova/instances
    os.makedirs(os.path.join(state, "instances"), exist_ok=True)
    with open(paths, "w") as f:
        # only the sandbox's directories; every setting is the README's
        f.write("[DEFAULT]\nstate_path = %s\ninstances_path = %s/instances\n"
                "[oslo_concurrency]\nlock_path = %s/lock\n" % (state, state, state))
    return [conf, paths]


def install_firmware_descriptors():
    """What ./run install does: the project's descriptors for StratoVirt's
    machines beside QEMU's in /usr/share/qemu/firmware, where Nova reads
    them.  Here on a copy of that directory, bind-mounted in the sandbox's
    private mount namespace only (where its folders are mounted over
    /etc/libvirt): the host's is untouched."""
    fwdir = "/usr/share/qemu/firmware"
    mine = os.path.join(SB, "qemu-firmware")
    if os.path.isdir(mine):
        return
    with open("/proc/self/mountinfo") as f:
        private = any(line.split()[4] == "/etc/libvirt" for line in f)
    if os.getuid() != 0 or not private:
        raise unittest.SkipTest("needs the root sandbox's private mount namespace")
    shutil.copytree(fwdir, mine)
    src = os.path.join(TOP, "src", "daemon", "firmware")
    for f in os.listdir(src):
        shutil.copy(os.path.join(src, f), mine)
    subprocess.run(["mount", "--bind", mine, fwdir], check=True)


def run_helper(pkgroot, mode, timeout=600):
    env = dict(os.environ)
    env["PYTHONPATH"] = pkgroot
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    p = subprocess.run(["/usr/bin/python3", HELPER, mode] + conf_files(),
                       capture_output=True, text=True, env=env, timeout=timeout)
    with open(os.path.join(SB, "nova-%s.log" % mode), "w") as f:
        f.write(p.stdout + p.stderr)
    return p


def steps_of(out):
    res = {}
    for line in out.splitlines():
        m = re.match(r"STEP (\S+) (ok|fail|skip) ?(.*)", line)
        if m:
            res[m.group(1)] = (m.group(2), m.group(3))
    return res


def nova_version():
    p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-nova"],
                       capture_output=True, text=True)
    return p.stdout.strip()


# contrib/nova has one patch per Nova release the project is tested with:
# nova-26-*.patch for Nova 26 (Zed, Debian 12), nova-31-*.patch for Nova 31
# (2025.1 Epoxy, Debian 13); MIN_QEMU is the QEMU minimum each Nova refuses
# StratoVirt with when unpatched
_m = re.match(r"^(?:\d+:)?(\d+)\.", nova_version() or "")
NOVA_MAJOR = _m.group(1) if _m else ""
MIN_QEMU = {"26": "4.2.0", "31": "6.2.0"}
NOVA_PATCH = os.path.join(CONTRIB, "nova-%s-non-qemu-kvm.patch" % NOVA_MAJOR)


@unittest.skipUnless(os.path.isdir(NOVA_PKG), "python3-nova is not installed (./run setup installs it)")
@unittest.skipUnless(os.path.isfile(NOVA_PATCH) and NOVA_MAJOR in MIN_QEMU,
                     "contrib/nova has no patch for this release's python3-nova %s "
                     "(only for Nova 26 and 31)" % (nova_version() or "none"))
class NovaTest(unittest.TestCase):
    def test_without_the_patch_init_host_refuses(self):
        p = run_helper(private_nova("nova-unpatched", False), "init-host")
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Nova requires QEMU version %s or greater." % MIN_QEMU[NOVA_MAJOR],
                      p.stdout,
                      p.stdout + p.stderr[-3000:])

    @standin_only("the scenario needs the simulated PCI host's devices and a guest that answers ACPI")
    def test_nova_scenario_with_the_patch(self):
        install_firmware_descriptors()
        p = run_helper(private_nova("nova-patched", True), "scenario")
        got = steps_of(p.stdout)
        for line in p.stdout.splitlines():
            if line.startswith("STEP "):
                print("  " + line, flush=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr[-8000:])
        for name in STEPS:
            with self.subTest(step=name):
                self.assertIn(name, got, "step %s did not run" % name)
                status, detail = got[name]
                if name in REFUSED:
                    # the step checks that the instance is intact; the
                    # refusal is the driver's own
                    self.assertEqual(status, "ok", "%s: %s" % (name, detail))
                    self.assertIn(REFUSED[name], detail)
                    print("  %s: refused (%s)" % (name, REFUSED[name]), flush=True)
                elif status != "ok" and name in NOT_YET:
                    self.assertIn(NOT_YET[name], detail, "%s: %s" % (name, detail))
                    print("  %s: not yet (%s)" % (name, NOT_YET[name]), flush=True)
                else:
                    self.assertEqual(status, "ok", "%s: %s" % (name, detail))
        # the SR-IOV port (vnic_type=direct), attached live: attached, or
        # refused with the VF back on its host driver (the driver does not
        # hot-plug <interface type='hostdev'>: StratoVirt cannot hot-plug
        # VFIO)
        with self.subTest(step="sriov_port"):
            self.assertIn("sriov_port_attach", got)
            self.assertEqual(got["sriov_port_attach"][0], "fail")
            self.assertIn(REFUSED["sriov_port_attach"], got["sriov_port_attach"][1])
            self.assertEqual(got.get("sriov_port_rollback", ("missing",))[0], "ok",
                             got.get("sriov_port_rollback"))
        # the SR-IOV port at boot, in the instance with the flavor's PCI
        # device: libvirt's own hostdev code sets the port's MAC and VLAN
        # on the VF through the PF's netdev (enp3s0, a veth in the
        # sandbox, its VFs over rtnetlink from tests/shim/vfnetshim.c),
        # again after the hard reboot and power on, and puts the
        # operator's values back after the destroy
        lent = ("running with VF 0000:03:00.2 on vfio-pci, VF 1 of enp3s0: "
                "MAC fa:16:3e:44:55:66 VLAN 42")
        for name, want in (("sriov_port_boot", lent), ("sriov_port_after_reboots", lent),
                           ("sriov_port_released", "VF 0000:03:00.2 on hinicvf, VF 1 of "
                            "enp3s0: MAC 02:00:00:00:03:02 VLAN 0")):
            with self.subTest(step=name):
                self.assertIn(name, got)
                status, detail = got[name]
                if status == "skip" and name == "sriov_port_boot":
                    print("  sriov_port_boot: skipped (%s)" % detail, flush=True)
                    break
                self.assertEqual(status, "ok", detail)
                self.assertEqual(detail, want)
        # no VMM left, no domain left
        self.assertEqual(virsh("list", "--all", "--name").stdout.strip(), "")


class CPUModelTest(unittest.TestCase):
    """The CPU model calls Nova makes (init_host, cpu_mode=custom, live
    migration), through libvirt's CPU driver, for what StratoVirt's -cpu
    takes: 'host' only."""

    def setUp(self):
        import libvirt
        self.libvirt = libvirt
        self.conn = libvirt.open(None)
        self.addCleanup(self.conn.close)
        caps = self.conn.getCapabilities()
        m = re.search(r"<host>.*?(<cpu>.*?</cpu>)", caps, re.S)
        self.assertIsNotNone(m, caps)
        self.hostcpu = m.group(1)
        self.arch = re.search(r"<arch>(\w+)</arch>", self.hostcpu).group(1)

    def test_no_named_models(self):
        self.assertEqual(self.conn.getCPUModelNames(self.arch), [])
        p = virsh("cpu-models", self.arch)
        self.assertEqual(p.stdout.strip(), "")
        with self.assertRaises(self.libvirt.libvirtError):
            self.conn.getCPUModelNames("no-such-arch")

    def test_compare_with_the_host_cpu(self):
        if "<model" not in self.hostcpu:
            self.skipTest("libvirt's CPU driver finds no model for this host's CPU")
        self.assertIn(self.conn.compareCPU(self.hostcpu),
                      (self.libvirt.VIR_CPU_COMPARE_IDENTICAL,
                       self.libvirt.VIR_CPU_COMPARE_SUPERSET))
        # a CPU with a feature the host lacks (x86: one of libvirt's CPU map
        # that the host's expanded feature list does not have)
        if self.arch == "x86_64":
            expanded = self.conn.baselineCPU(
                [self.hostcpu], self.libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)
            lacking = [f for f in ("la57", "amx-tile", "avx512-fp16", "avx512vnni", "sha-ni")
                       if "name='%s'" % f not in expanded]
            if lacking:
                model = re.search(r"<model[^>]*>([^<]+)<", self.hostcpu).group(1)
                alien = ("<cpu><arch>x86_64</arch><model>%s</model>"
                         "<feature policy='require' name='%s'/></cpu>" % (model, lacking[0]))
                self.assertEqual(self.conn.compareCPU(alien),
                                 self.libvirt.VIR_CPU_COMPARE_INCOMPATIBLE)
        got = self.conn.compareHypervisorCPU(None, self.arch, None, "kvm", self.hostcpu)
        self.assertIn(got, (self.libvirt.VIR_CPU_COMPARE_IDENTICAL,
                            self.libvirt.VIR_CPU_COMPARE_SUPERSET))
        with self.assertRaises(self.libvirt.libvirtError) as cm:
            self.conn.compareHypervisorCPU(None, self.arch, None, "qemu", self.hostcpu)
        self.assertEqual(cm.exception.get_error_code(), self.libvirt.VIR_ERR_CONFIG_UNSUPPORTED)

    def test_baseline(self):
        if "<model" not in self.hostcpu:
            self.skipTest("libvirt's CPU driver finds no model for this host's CPU")
        # what Nova asks at init_host for its CPU traits
        out = self.conn.baselineCPU([self.hostcpu],
                                    self.libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)
        self.assertIn("<model", out)
        self.assertIn("<feature", out)
        with self.assertRaises(self.libvirt.libvirtError) as cm:
            self.conn.baselineHypervisorCPU(None, self.arch, None, "kvm", [self.hostcpu])
        self.assertEqual(cm.exception.get_error_code(), self.libvirt.VIR_ERR_CONFIG_UNSUPPORTED)
        self.assertIn("host-passthrough", str(cm.exception))


if __name__ == "__main__":
    main()
