#!/usr/bin/python3
"""kill -9 of the daemon at every step of a start, the launch included,
driven by the start's own step names (virStratoVirtProcessStart's init,
prepare-domain, prepare-host, launch-forked, launch-cgroup, launch,
connect, finish): the test build's hook (-Dtest_hooks=true) makes the
daemon SIGKILL itself when a start reaches the step named in the file
STRATOVIRT_TEST_KILL_AT_FILE names.

Each round: guest A runs with a managed hostdev; B is started with a
managed hostdev of its own and an unmanaged one (managed='no', which the
administrator bound to vfio-pci: defect 9) and the daemon dies at the
step; the daemon is started again.  Every round ends with A still running
on the same VMM with its device on vfio-pci, B running (killed after
'finish') or shut off with its managed device back on its host driver, the
unmanaged device still on vfio-pci, no VMM process nobody knows, and no
status or run file that does not belong to a running guest.

ROUNDS rounds per step (20; SVTEST_LONG=1, i.e. ./run test --long: 100)."""

import os
import signal
import subprocess
import time
import unittest
import warnings

import libvirt

from svtest import (SB, virsh, main, wait_for, stop_daemon, start_daemon,
                    pid_alive, make_images, driver_of, hostdev_xml, driver_conf_path,
                    standin_only, ensure_daemon)

LONG = os.environ.get("SVTEST_LONG") == "1"
# svtest.start_daemon leaves the Popen of a daemon the hook then kills
warnings.filterwarnings("ignore", category=ResourceWarning)
ROUNDS = int(os.environ.get("SVTEST_ROUNDS", "100" if LONG else "20"))
SIM = os.environ.get("SANDBOX_SIMPCI")
STATE = "/run/libvirt/stratovirt"
IMG = os.path.join(SB, "st-images")
KILL_FILE = os.path.join(SB, "kill-at-step")
STEPS = ("init", "prepare-domain", "prepare-host", "launch-forked", "launch-cgroup",
         "launch", "connect", "finish")
A_DEV, A_DRV = "0000:05:00.0", "igb"
B_DEV, B_DRV = "0000:03:00.0", "hinic"
# B's unmanaged device: on vfio-pci before, during and after every round
U_DEV, U_NODE, U_DRV = "0000:05:00.1", "pci_0000_05_00_1", "igb"


def domxml(name, dev, unmanaged=None):
    make_images(IMG, ("vmlinux",))
    hd = hostdev_xml(dev) + (hostdev_xml(unmanaged, managed="no") if unmanaged else "")
    return """<domain type='kvm'><name>{n}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{img}/vmlinux</kernel></os>
<devices><console type='pty'><target type='virtio' port='0'/></console>{hd}
<memballoon model='none'/></devices></domain>""".format(n=name, img=IMG, hd=hd)


def xmlfile(name, dev, unmanaged=None):
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(domxml(name, dev, unmanaged))
    return path


def vmm_procs():
    """{pid: -name} of every VMM process in the sandbox"""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if not any(a.endswith(b"/stratovirt") or b"/stratovirt-" in a for a in argv[:2]):
            continue
        if b"-name" in argv and pid_alive(int(d)):
            out[int(d)] = argv[argv.index(b"-name") + 1].decode()
    return out


def hooks_built():
    """Whether the daemon under test has the test hooks"""
    build = os.environ.get("BUILD", "")
    try:
        with open(os.path.join(build, "stratovirt-config.h")) as f:
            return "#define WITH_STRATOVIRT_TEST_HOOKS 1" in f.read()
    except OSError:
        return False


@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
@unittest.skipUnless(hooks_built(), "the build has no test hooks (meson configure -Dtest_hooks=true)")
@standin_only("each round's guests have managed hostdevs of the simulated PCI host, whose VFIO "
              "files a real StratoVirt cannot open (and 2.1.0 wants a rootfs); the daemon's "
              "recovery at each step is the driver's, run on the stand-in")
class KillAtEveryStep(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        libvirt.registerErrorHandler(lambda *a: None, None)
        os.environ["STRATOVIRT_TEST_KILL_AT_FILE"] = KILL_FILE
        if os.path.exists(KILL_FILE):
            os.unlink(KILL_FILE)
        # the hook is read from the daemon's environment; the build features
        # are configured, so that each of the many daemon starts does not
        # probe the binary again
        with open(driver_conf_path()) as f:
            cls.conf = f.read()
        with open(driver_conf_path(), "a") as f:
            f.write('stratovirt_features = [ "vfio", "virtio_rng", "vhost_vsock", '
                    '"virtio_scsi", "usb", "vnc", "virtio_gpu", "pvpanic" ]\n')
        stop_daemon()
        start_daemon()
        virsh("nodedev-detach", U_NODE)
        virsh("create", xmlfile("sta", A_DEV))
        cls.a_pid = [p for p, n in vmm_procs().items() if n == "sta"][0]

    @classmethod
    def tearDownClass(cls):
        if os.path.exists(KILL_FILE):
            os.unlink(KILL_FILE)
        for n in virsh("list", "--name").stdout.split():
            virsh("destroy", n, check=False)
        with open(driver_conf_path(), "w") as f:
            f.write(cls.conf)
        os.environ.pop("STRATOVIRT_TEST_KILL_AT_FILE", None)
        stop_daemon()
        start_daemon()
        virsh("nodedev-reattach", U_NODE, check=False)

    def tearDown(self):
        # a round that failed between the kill and the next start left no
        # daemon (and maybe its step in KILL_FILE, which would kill the
        # next one too): it fails alone, not every later step
        if os.path.exists(KILL_FILE):
            os.unlink(KILL_FILE)
        ensure_daemon()

    def check_world(self, step, b_running):
        want = {"sta"} | ({"stb"} if b_running else set())
        self.assertEqual(set(virsh("list", "--name").stdout.split()), want, step)
        self.assertEqual(virsh("domstate", "sta").stdout.strip(), "running", step)
        procs = vmm_procs()
        self.assertEqual(sorted(procs.values()), sorted(want), "%s: VMMs %s" % (step, procs))
        self.assertEqual(procs.get(self.a_pid), "sta", "%s: A's VMM is the same" % step)
        self.assertEqual(driver_of(A_DEV), "vfio-pci", "%s: A's device" % step)
        self.assertEqual(driver_of(B_DEV), "vfio-pci" if b_running else B_DRV,
                         "%s: B's device" % step)
        self.assertEqual(driver_of(U_DEV), "vfio-pci", "%s: B's unmanaged device" % step)
        uuids = set(virsh("domuuid", n).stdout.strip() for n in want)
        files = set(x for x in os.listdir(STATE) if x != "driver.pid")
        self.assertEqual(files, set(n + ".xml" for n in want) | uuids,
                         "%s: files in %s" % (step, STATE))

    def one_round(self, step):
        with open(KILL_FILE, "w") as f:
            f.write(step)
        pid = int(open(os.path.join(SB, "daemon.pid")).read())
        p = subprocess.run(["/usr/bin/virsh", "create", xmlfile("stb", B_DEV, U_DEV)],
                           capture_output=True, text=True, timeout=60)
        # the start never answered: the daemon died at the step
        self.assertNotEqual(p.returncode, 0, "%s: the daemon was not killed (%s)"
                            % (step, p.stdout.strip()))
        wait_for(lambda: not pid_alive(pid), timeout=10, what="the daemon killed at %s" % step)
        os.unlink(KILL_FILE)
        start_daemon()
        b_running = step == "finish"
        # a start cut short is undone by the reconnect thread: wait for it
        wait_for(lambda: driver_of(B_DEV) == ("vfio-pci" if b_running else B_DRV) and
                 len(vmm_procs()) == (2 if b_running else 1),
                 timeout=20, what="%s: recovery" % step)
        self.check_world(step, b_running)
        if b_running:
            virsh("destroy", "stb")
            self.check_world(step + " then destroy", False)


def make_step_test(step):
    def test(self):
        t0 = time.monotonic()
        for _ in range(ROUNDS):
            self.one_round(step)
        print("\n  kill at %s: %d rounds in %.1f s" % (step, ROUNDS, time.monotonic() - t0),
              end=" ", flush=True)
    test.__doc__ = "kill -9 after start step %s, %d rounds" % (step, ROUNDS)
    return test


for _i, _step in enumerate(STEPS):
    setattr(KillAtEveryStep, "test_%d_%s" % (_i, _step.replace("-", "_")), make_step_test(_step))


if __name__ == "__main__":
    main()
