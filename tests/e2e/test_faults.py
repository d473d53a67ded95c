#!/usr/bin/python3
"""Fault injection end to end: the daemon killed with SIGKILL at each step
of a start with managed hostdevs, then restarted; VMMs that flood events;
a read-only state directory; clients racing on one domain.  After each
case: no device on vfio-pci that should not be, no stray VMM, no stale
status file."""

import json
import os
import signal
import subprocess
import threading
import time
import unittest
import warnings

import libvirt

from svtest import make_images, REAL, SLOW, standin_only
from svtest import (driver_of, hostdev_xml as hostdev, SB, URI, virsh, main, wait_for, stop_daemon, start_daemon,
                    pid_alive, wait_daemon_gone, daemon_log, log_mark, ensure_daemon, simpci_log)

SIM = os.environ.get("SANDBOX_SIMPCI")
STATE = "/run/libvirt/stratovirt"
IMG = os.path.join(SB, "ft-images")






def domxml(name, devs=(), kernel="vmlinux"):
    # (a real StratoVirt wants an initrd or a disk beside the kernel)
    make_images(IMG, ("vmlinux", "initrd.img"))
    return """<domain type='kvm'><name>{n}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{img}/{k}</kernel>
<initrd>{img}/initrd.img</initrd></os>
<devices><console type='pty'><target type='virtio' port='0'/></console>{hd}</devices>
</domain>""".format(n=name, img=IMG, k=kernel, hd="".join(hostdev(d) for d in devs))


def xmlfile(name, devs=(), **kw):
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(domxml(name, devs, **kw))
    return path


def set_faults(faults):
    with open(os.path.join(SB, "standin-faults.json"), "w") as f:
        json.dump(faults, f)


def vmms(name):
    out = subprocess.run(["pgrep", "-f", "--", "-name %s " % name],
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def all_vmms():
    """every StratoVirt (stand-in) process of this sandbox"""
    out = subprocess.run(["pgrep", "-f", "--", "stratovirt.* -name "],
                         capture_output=True, text=True).stdout.split()
    return sorted(int(p) for p in out)


def status_files():
    return sorted(x for x in os.listdir(STATE) if x != "driver.pid")


@standin_only("a real StratoVirt cannot open the simulated PCI host's /dev/vfio")
@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
class KilledDuringStart(unittest.TestCase):
    DEVS = ("0000:03:00.0", "0000:05:00.0")
    HOST = {"0000:03:00.0": "hinic", "0000:05:00.0": "igb"}

    def setUp(self):
        set_faults({})

    def tearDown(self):
        # a case that failed between killing the daemon and starting the
        # next left none: it fails alone, not every case after it
        ensure_daemon()
        set_faults({})
        for f in os.listdir(SB):
            if f.startswith("slow-bind-"):
                os.unlink(os.path.join(SB, f))

    def assert_clean(self, name):
        for bdf, drv in self.HOST.items():
            self.assertEqual(driver_of(bdf), drv, bdf)
        self.assertEqual(vmms(name), [])
        self.assertEqual(status_files(), [])

    def kill_when(self, name, ready, persistent=False, flags=()):
        if persistent:
            virsh("define", xmlfile(name, self.DEVS))
            cmd = ["/usr/bin/virsh", "start", name] + list(flags)
        else:
            cmd = ["/usr/bin/virsh", "create", xmlfile(name, self.DEVS)] + list(flags)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(ready, timeout=15, what="the step to kill the daemon at")
        stop_daemon(signal.SIGKILL)
        p.communicate(timeout=30)
        start_daemon()

    def test_killed_after_the_first_device_is_detached(self):
        with open(os.path.join(SB, "slow-bind-0000:05:00.0"), "w") as f:
            f.write("3")
        sim0 = len(simpci_log())
        self.kill_when("k1", lambda: driver_of("0000:03:00.0") == "vfio-pci" and
                       "slow bind 0000:05:00.0" in simpci_log(sim0))
        # let the slow bind finish before looking
        time.sleep(3.5)
        # the restarted daemon found the half-done start and undid it
        wait_for(lambda: driver_of("0000:03:00.0") == "hinic", timeout=10,
                 what="0000:03:00.0 back on hinic")
        self.assertNotIn("k1", virsh("list", "--all", "--name").stdout)
        # the slow bind may land after the cleanup: the kernel would do the
        # same; reattach by hand is what a user would do
        if driver_of("0000:05:00.0") == "vfio-pci":
            virsh("nodedev-reattach", "pci_0000_05_00_0")
        self.assert_clean("k1")

    def test_killed_after_the_vmm_is_spawned_before_qmp_answers(self):
        set_faults({"k2": {"start_delay": 4}})
        self.kill_when("k2", lambda: vmms("k2") and any(os.path.exists(os.path.join(STATE, d, "stratovirt.pid")) for d in os.listdir(STATE) if os.path.isdir(os.path.join(STATE, d))),
                       persistent=True)
        self.assertEqual(virsh("domstate", "--reason", "k2").stdout.strip(), "shut off (failed)")
        self.assert_clean("k2")
        virsh("undefine", "k2")

    def test_killed_after_cont_keeps_the_domain(self):
        virsh("define", xmlfile("k3", self.DEVS))
        virsh("start", "k3", "--paused")
        pid = vmms("k3")[0]
        p = subprocess.Popen(["/usr/bin/virsh", "resume", "k3"])
        p.wait(timeout=30)
        stop_daemon(signal.SIGKILL)
        start_daemon()
        self.assertEqual(virsh("domstate", "k3").stdout.strip(), "running")
        self.assertTrue(pid_alive(pid))
        self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")
        virsh("destroy", "k3")
        virsh("undefine", "k3")
        self.assert_clean("k3")


def run_dir_pid(name):
    """The VMM's pid from the pidfile libvirt wrote before exec."""
    import re
    with open(os.path.join(STATE, name + ".xml")) as f:
        rundir = re.search(r"<rundir path='([^']+)'", f.read()).group(1)
    with open(os.path.join(rundir, "stratovirt.pid")) as f:
        return int(f.read().strip())


def cgroup_of(pid, controller="cpu"):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctls, path = line.rstrip("\n").split(":", 2)
            if controller in ctls.split(","):
                return path
    return None


@unittest.skipUnless(os.environ.get("SANDBOX_CGROUP_PARTITION"),
                     "needs the system instance (root sandbox) with a cgroup partition")
class VMMCgroup(unittest.TestCase):
    """Every VMM is findable from the first instant: libvirt writes its
    pidfile before exec and puts it in a cgroup of its own."""

    PART = os.environ.get("SANDBOX_CGROUP_PARTITION", "")

    def tearDown(self):
        ensure_daemon()

    def group_path(self, name, domid):
        return "%s.partition/stratovirt-%d-%s.libvirt-stratovirt" % (self.PART, domid, name)

    def test_vmm_runs_in_its_cgroup_and_destroy_ends_its_children(self):
        virsh("create", xmlfile("cg1"))
        pid = run_dir_pid("cg1")
        self.assertEqual(vmms("cg1"), [pid])
        domid = int(virsh("domid", "cg1").stdout.strip())
        group = self.group_path("cg1", domid)
        # (libvirt gives devices and cpuacct to the cgroup v2 hierarchy
        # where one is mounted beside the v1 controllers, as here)
        for ctl in ("cpu", "cpuset", "blkio", "freezer"):
            self.assertEqual(cgroup_of(pid, ctl), group, ctl)
        dirs = [d for d in ["/sys/fs/cgroup/%s%s" % (c, group)
                            for c in ("cpu", "cpuset", "blkio", "freezer", "unified")]
                if os.path.isdir(d)]
        # a process the VMM started (a helper) lives in its cgroup
        child = subprocess.Popen(["sleep", "300"])
        for d in dirs:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(child.pid))
        virsh("destroy", "cg1")
        self.assertFalse(pid_alive(pid))
        child.wait(timeout=10)   # ended with the VMM
        for d in dirs:
            self.assertFalse(os.path.exists(d), d)
        self.assertEqual(status_files(), [])

    def test_status_naming_another_process_is_not_trusted(self):
        import re
        virsh("define", xmlfile("cg2"))
        virsh("start", "cg2")
        pid = run_dir_pid("cg2")
        stop_daemon(signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), what="the VMM to die")
        decoy = subprocess.Popen(["sleep", "300"])
        try:
            # the status and the pidfile now name an unrelated process
            path = os.path.join(STATE, "cg2.xml")
            with open(path) as f:
                xml = f.read()
            with open(path, "w") as f:
                f.write(re.sub(r"pid='\d+'", "pid='%d'" % decoy.pid, xml, count=1))
            rundir = re.search(r"<rundir path='([^']+)'", xml).group(1)
            with open(os.path.join(rundir, "stratovirt.pid"), "w") as f:
                f.write("%d\n" % decoy.pid)
            mark = log_mark()
            start_daemon()
            # the restarted daemon's reconnect decides it
            try:
                wait_for(lambda: virsh("domstate", "--reason", "cg2").stdout.strip() ==
                         "shut off (crashed)", timeout=10)
            except AssertionError:
                pass
            self.assertEqual(virsh("domstate", "--reason", "cg2").stdout.strip(),
                             "shut off (crashed)")
            self.assertTrue(pid_alive(decoy.pid), "an unrelated process was signalled")
            # this daemon's words, not an earlier one's
            self.assertIn("is not in the domain's cgroup", daemon_log(mark))
        finally:
            decoy.kill()
            decoy.wait()
        virsh("undefine", "cg2")
        self.assertEqual(status_files(), [])


@unittest.skipUnless(os.path.isdir(STATE), "needs the system instance (root sandbox)")
class StaleFiles(unittest.TestCase):

    def tearDown(self):
        ensure_daemon()

    def test_restart_removes_what_a_killed_start_left(self):
        import uuid
        virsh("create", xmlfile("sf1"))          # a live domain keeps its run dir
        live = os.path.dirname(os.path.join(STATE, [d for d in os.listdir(STATE)
                                                    if os.path.isdir(os.path.join(STATE, d))][0], "x"))
        stop_daemon(signal.SIGKILL)
        stale_dir = os.path.join(STATE, str(uuid.uuid4()))
        os.mkdir(stale_dir)
        stale = [os.path.join(STATE, "sf2.xml.new"),
                 os.path.join("/etc/libvirt/stratovirt", "sf3.xml.new")]
        for f in stale:
            with open(f, "w") as fh:
                fh.write("<domain")
        start_daemon()
        for f in stale + [stale_dir]:
            self.assertFalse(os.path.exists(f), f)
        self.assertTrue(os.path.isdir(live))
        self.assertEqual(virsh("domstate", "sf1").stdout.strip(), "running")
        virsh("destroy", "sf1")
        self.assertEqual(status_files(), [])


# the contested-device and the unmanaged-device scenarios run 20 rounds (./run test --long: 100),
# as every fault scenario of tests/e2e/test_restart.py; SVTEST_ROUNDS
# (3 under --sanitize) overrides it
LONG = os.environ.get("SVTEST_LONG") == "1"
# svtest.start_daemon leaves the Popen of each daemon a round kills
warnings.filterwarnings("ignore", category=ResourceWarning)
ROUNDS = int(os.environ.get("SVTEST_ROUNDS", "0")) or None
CONTESTED_ROUNDS = ROUNDS or (100 if LONG else 20)


def status_has(name, text):
    try:
        with open(os.path.join(STATE, name + ".xml")) as f:
            return text in f.read()
    except FileNotFoundError:
        return False


@standin_only("a real StratoVirt cannot open the simulated PCI host's /dev/vfio")
@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
class ContestedDevices(unittest.TestCase):
    """A restart while starts wait on the hostdev manager: undoing a start
    gives back only what that domain took, never a device another domain
    holds or one the administrator bound to vfio-pci (managed='no')."""

    SLOW = "0000:04:00.0"

    # how long start_slow's bind holds the hostdev manager: long enough for
    # B's 'virsh create' to start and mark its devices as being prepared
    # on a loaded machine (3 s was not always)
    BIND = 6

    def tearDown(self):
        ensure_daemon()
        set_faults({})
        for f in os.listdir(SB):
            if f.startswith("slow-bind-"):
                os.unlink(os.path.join(SB, f))

    def start_slow(self, name, devs, managed="yes"):
        """A start that holds the hostdev manager while SLOW binds slowly."""
        with open(os.path.join(SB, "slow-bind-" + self.SLOW), "w") as f:
            f.write(str(self.BIND))
        t0 = len(simpci_log())
        p = subprocess.Popen(["/usr/bin/virsh", "create", xmlfile(name, devs)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: "slow bind %s" % self.SLOW in simpci_log(t0), timeout=15,
                 what="the slow bind")
        self.slow_seen = time.monotonic()
        return p

    def settle_slow(self, delay=None, since=None):
        # the slow bind lands after the daemon died; the kernel would do the
        # same, and an administrator would reattach it.  It began before
        # @since (when start_slow saw it), else before now.
        delay = self.BIND if delay is None else delay
        since = time.monotonic() if since is None else since
        time.sleep(max(0.0, since + delay + 0.2 - time.monotonic()))
        wait_for(lambda: driver_of(self.SLOW) in ("hinic", "vfio-pci"), what=self.SLOW)
        if driver_of(self.SLOW) == "vfio-pci":
            virsh("nodedev-reattach", "pci_" + self.SLOW.replace(":", "_").replace(".", "_"))
        self.assertEqual(driver_of(self.SLOW), "hinic")

    def test_restart_with_a_contested_device_keeps_it_with_its_owner(self):
        t0 = time.monotonic()
        for r in range(CONTESTED_ROUNDS):
            a, b, c = "cda%d" % r, "cdb%d" % r, "cdc%d" % r
            virsh("create", xmlfile(a, ["0000:06:00.0"]))
            apid = vmms(a)[0]
            pc = self.start_slow(c, [self.SLOW])
            pb = subprocess.Popen(["/usr/bin/virsh", "create", xmlfile(b, ["0000:06:00.0"])],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # B waits on the manager, its devices marked as being prepared
            wait_for(lambda: status_has(b, "<hostdevs prepared='yes'"), what="B preparing")
            stop_daemon(signal.SIGKILL)
            pb.communicate(timeout=30)
            pc.communicate(timeout=30)
            start_daemon()
            self.assertEqual(virsh("domstate", a).stdout.strip(), "running", "round %d" % r)
            self.assertTrue(pid_alive(apid), "round %d" % r)
            self.assertEqual(driver_of("0000:06:00.0"), "vfio-pci", "round %d" % r)
            names = virsh("list", "--all", "--name").stdout.split()
            self.assertNotIn(b, names)
            self.assertNotIn(c, names)
            self.assertEqual(vmms(b) + vmms(c), [])
            self.settle_slow(since=self.slow_seen)
            self.assertEqual(all_vmms(), [apid], "round %d: a VMM nobody knows" % r)
            self.assertEqual(status_files(), sorted([a + ".xml", virsh("domuuid", a).stdout.strip()]),
                             "round %d" % r)
            virsh("destroy", a)
            self.assertEqual(driver_of("0000:06:00.0"), "hinic")
            self.assertEqual(status_files(), [])
        print("\n  restart with a contested device: %d rounds in %.1f s"
              % (CONTESTED_ROUNDS, time.monotonic() - t0), flush=True)

    def test_recovery_leaves_unmanaged_devices_on_vfio(self):
        """Defect 9, CONTESTED_ROUNDS rounds: the daemon is killed while a
        start binds its managed device; the restarted daemon undoes that
        start and gives back only the managed device, never the one the
        administrator bound to vfio-pci (managed='no').  A guest with a
        device of its own runs through every round."""
        virsh("nodedev-detach", "pci_0000_03_00_0")
        delay = 1.0   # the kill comes well inside the bind (the poll is 20 ms)
        try:
            virsh("create", xmlfile("umrun", ["0000:06:00.0"]))
            run_pid = vmms("umrun")[0]
            t_start = time.monotonic()
            for r in range(CONTESTED_ROUNDS):
                name = "um%d" % r
                with open(os.path.join(SB, "slow-bind-" + self.SLOW), "w") as f:
                    f.write(str(delay))
                xml = domxml(name, [self.SLOW]).replace(
                    "</devices>", hostdev("0000:03:00.0", managed="no") + "</devices>")
                path = os.path.join(SB, name + ".xml")
                with open(path, "w") as f:
                    f.write(xml)
                t0 = len(simpci_log())
                p = subprocess.Popen(["/usr/bin/virsh", "create", path],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                wait_for(lambda: "slow bind %s" % self.SLOW in simpci_log(t0), timeout=15,
                         what="the slow bind")
                stop_daemon(signal.SIGKILL)
                p.communicate(timeout=30)
                start_daemon()
                self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci", "round %d" % r)
                self.settle_slow(delay)
                # the world: the running guest on its VMM with its device,
                # the cut start gone, no other VMM, only umrun's files
                self.assertEqual(virsh("list", "--all", "--name").stdout.split(), ["umrun"],
                                 "round %d" % r)
                self.assertEqual(virsh("domstate", "umrun").stdout.strip(), "running")
                self.assertEqual(vmms("umrun"), [run_pid], "round %d: umrun's VMM" % r)
                self.assertEqual(all_vmms(), [run_pid], "round %d: a VMM nobody knows" % r)
                self.assertEqual(driver_of("0000:06:00.0"), "vfio-pci", "round %d" % r)
                self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci", "round %d" % r)
                self.assertEqual(status_files(),
                                 sorted(["umrun.xml", virsh("domuuid", "umrun").stdout.strip()]),
                                 "round %d" % r)
            print("\n  crash during a start with an unmanaged device: %d rounds in %.1f s"
                  % (CONTESTED_ROUNDS, time.monotonic() - t_start), flush=True)
            virsh("destroy", "umrun")
            self.assertEqual(driver_of("0000:06:00.0"), "hinic")
            self.assertEqual(driver_of("0000:03:00.0"), "vfio-pci")
            self.assertEqual(status_files(), [])
        finally:
            virsh("destroy", "umrun", check=False)
            virsh("nodedev-reattach", "pci_0000_03_00_0", check=False)
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")


class HostileVMM(unittest.TestCase):

    def tearDown(self):
        set_faults({})

    @standin_only("a VMM that floods events is a stand-in fault switch")
    def test_event_flood_does_not_block_the_daemon(self):
        # under ASan the daemon reads events an order of magnitude slower
        set_faults({"fl1": {"flood_events": int(20000 / SLOW ** 2)}})
        virsh("create", xmlfile("fl1"))
        t0 = time.monotonic()
        for _ in range(10):
            virsh("dominfo", "fl1")
        self.assertLess(time.monotonic() - t0, 10 * SLOW)
        virsh("suspend", "fl1")
        virsh("destroy", "fl1")
        self.assertEqual(vmms("fl1"), [])

    def test_vmm_closing_qmp_is_a_shutdown(self):
        virsh("define", xmlfile("cq1"))
        virsh("start", "cq1")
        pid = vmms("cq1")[0]
        os.kill(pid, signal.SIGTERM)  # StratoVirt exits in order, closing QMP
        wait_for(lambda: virsh("domstate", "cq1").stdout.strip() == "shut off",
                 what="cq1 to shut off")
        self.assertEqual(virsh("domstate", "--reason", "cq1").stdout.strip(),
                         "shut off (shutdown)")
        virsh("undefine", "cq1")


@standin_only("a real StratoVirt cannot open the simulated PCI host's /dev/vfio")
@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
class ReadOnlyStateDir(unittest.TestCase):

    def test_start_rolled_back_when_status_cannot_be_saved(self):
        subprocess.run(["mount", "--bind", STATE, STATE], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", STATE], check=True)
        try:
            p = virsh("create", xmlfile("ro1", ["0000:03:00.0"]), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("Read-only file system", p.stderr)
        finally:
            subprocess.run(["umount", STATE], check=True)
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")
        self.assertEqual(vmms("ro1"), [])
        self.assertEqual(status_files(), [])


@standin_only("a real StratoVirt cannot open the simulated PCI host's /dev/vfio")
@unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
class FullStateDir(unittest.TestCase):

    def test_start_rolled_back_when_the_state_dir_is_full(self):
        # a tiny tmpfs over the state dir, filled up
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "full-state", STATE], check=True)
        try:
            with open(os.path.join(STATE, "filler"), "wb") as f:
                try:
                    f.write(b"x" * (1 << 20))
                except OSError:
                    pass
            p = virsh("create", xmlfile("full1", ["0000:03:00.0"]), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("No space left on device", p.stderr)
        finally:
            subprocess.run(["umount", STATE], check=True)
        self.assertEqual(driver_of("0000:03:00.0"), "hinic")
        self.assertEqual(vmms("full1"), [])
        self.assertEqual(status_files(), [])


class IdleTimeout(unittest.TestCase):
    """A start that fails gives back the auto-shutdown inhibition it took:
    an idle daemon with --timeout still exits."""

    def tearDown(self):
        set_faults({})
        ensure_daemon()

    def test_failed_start_does_not_keep_an_idle_daemon_alive(self):
        stop_daemon()
        # 5 s: the daemon must not time out while this test still makes the
        # calls (a slow virsh create) that it then waits to go idle after
        pid = start_daemon("--timeout", "5")
        if REAL:
            # the real q35 refuses a kernel that is no ELF, after QMP is up
            make_images(IMG, ("vmlinux",))
            with open(os.path.join(IMG, "zero-kernel"), "wb") as f:
                f.truncate(1 << 20)
            p = virsh("create", xmlfile("it1", kernel="zero-kernel"), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("StratoVirt exited while starting domain 'it1'", p.stderr)
        else:
            set_faults({"it1": {"realize_error": "it1 cannot realize its devices"}})
            p = virsh("create", xmlfile("it1"), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("it1 cannot realize its devices", p.stderr)
        self.assertEqual(vmms("it1"), [])
        # no domain runs and no client is connected: the daemon times out
        wait_daemon_gone(pid, timeout=23,
                         what="the idle virtstratovirtd to exit after --timeout 5")
        self.assertEqual(status_files(), [])


class Races(unittest.TestCase):

    def test_racing_start_destroy_undefine(self):
        libvirt.registerErrorHandler(lambda *a: None, None)
        xml = domxml("race1")
        errors = []
        end = time.monotonic() + 4

        def worker(op):
            conn = libvirt.open(URI)
            while time.monotonic() < end:
                try:
                    if op == "define":
                        conn.defineXML(xml)
                    else:
                        dom = conn.lookupByName("race1")
                        getattr(dom, op)()
                except libvirt.libvirtError as e:
                    # losing a race is an error reported to the caller, not a hang
                    if e.get_error_code() not in (libvirt.VIR_ERR_NO_DOMAIN,
                                                  libvirt.VIR_ERR_OPERATION_INVALID,
                                                  libvirt.VIR_ERR_OPERATION_FAILED,
                                                  # a start that a destroy interrupted
                                                  libvirt.VIR_ERR_OPERATION_ABORTED):
                        errors.append((op, e.get_error_code(), str(e)))
            conn.close()

        threads = [threading.Thread(target=worker, args=(op,))
                   for op in ("define", "create", "destroy", "undefine", "create", "destroy")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
            self.assertFalse(t.is_alive(), "a client is stuck: deadlock")
        self.assertEqual(errors, [])
        # consistent afterwards: at most the one VMM of a running domain
        state = virsh("domstate", "race1", check=False).stdout.strip()
        if state == "running":
            self.assertEqual(len(vmms("race1")), 1)
            virsh("destroy", "race1")
        self.assertEqual(vmms("race1"), [])
        virsh("undefine", "race1", check=False)
        self.assertEqual(status_files(), [])


if __name__ == "__main__":
    main()
