#!/usr/bin/python3
"""What the real StratoVirt binaries (2.1.0, 2.4.0, 2.5.0) showed, each case
a behaviour the driver got wrong on them: run on the stand-in (which does
what they do) and on each real binary (./run test --stratovirt PATH)."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from svtest import (SB, URI, REAL, virsh, main, wait_for, status_pid, pid_alive,
                    make_images, kernel_name, real_version, restart_daemon,
                    standin_only, driver_conf_path, binary_replaced)

IMG = os.path.join(SB, "real-images")
VERSION = real_version() or tuple(int(x) for x in
                                  os.environ.get("STANDIN_VERSION", "2.5.0").split("."))
OLD = VERSION < (2, 2, 0)


def domxml(name, machine="q35", devs="", kernel=None, console=True):
    make_images(IMG, ("vmlinux", "vmlinux-microvm", "initrd.img", name + ".raw"))
    con = "<console type='pty'><target type='virtio' port='0'/></console>" if console else ""
    return """<domain type='kvm'>
  <name>{n}</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='{m}'>hvm</type>
    <kernel>{k}</kernel>
    <initrd>{img}/initrd.img</initrd>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <source file='{img}/{n}.raw'/><target dev='vda' bus='virtio'/>
    </disk>
    {con}
    <memballoon model='none'/>
    {devs}
  </devices>
</domain>""".format(n=name, m=machine, img=IMG, con=con, devs=devs,
                    k=kernel or os.path.join(IMG, kernel_name(machine)))


def xmlfile(name, **kw):
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(domxml(name, **kw))
    return path


def set_faults(faults):
    with open(os.path.join(SB, "standin-faults.json"), "w") as f:
        json.dump(faults, f)


def domain_log(name):
    for d in ("/var/log/libvirt/stratovirt",):
        p = os.path.join(d, name + ".log")
        if os.path.exists(p):
            with open(p, errors="replace") as f:
                return f.read()
    return ""


def state(name):
    return virsh("domstate", "--reason", name).stdout.strip()


class RealBinaries(unittest.TestCase):

    def setUp(self):
        set_faults({})

    def test_serial_pty_domain_starts_with_a_console_path(self):
        """2.4 and 2.5 parse -serial before -chardev: the chardev form of a
        <serial type='pty'> (what virt-install writes on x86) never starts."""
        virsh("create", xmlfile("ser1", console=False,
                                devs="<serial type='pty'><target port='0'/></serial>"
                                     "<console type='pty'><target type='serial' port='0'/></console>"))
        try:
            self.assertEqual(state("ser1"), "running (booted)")
            xml = virsh("dumpxml", "ser1").stdout
            self.assertRegex(xml, r"<serial type='pty'>\s*<source path='/dev/pts/\d+'/>")
            with open("/proc/%d/cmdline" % status_pid("ser1")) as f:
                argv = f.read().split("\0")
            self.assertIn("-serial", argv)
            self.assertEqual(argv[argv.index("-serial") + 1], "pty")
        finally:
            virsh("destroy", "ser1")

    @unittest.skipUnless(REAL, "the stand-in runs no guest code: the line is the real "
                         "vCPU's, from the tiny firmware")
    def test_guest_serial_line_reaches_virsh_console(self):
        """The q35 guest's own COM1 output through -serial pty and libvirt's
        console API (a q35 starts in its firmware: the <loader> is
        tests/images/tiny-q35-fw.S, which prints one line and halts)."""
        import libvirt
        make_images(IMG, ("OVMF_CODE.fd",))
        loader = ("<loader readonly='yes' type='pflash'>%s/OVMF_CODE.fd</loader>"
                  "<kernel>" % IMG)
        xml = domxml("ser2", console=False,
                     devs="<serial type='pty'><target port='0'/></serial>"
                          "<console type='pty'><target type='serial' port='0'/></console>")
        path = os.path.join(SB, "ser2.xml")
        with open(path, "w") as f:
            f.write(xml.replace("<kernel>", loader, 1))
        virsh("create", path)
        conn = libvirt.open(URI)
        st = conn.newStream(0)
        data = bytearray()

        # a blocking stream read in a thread of its own: a non-blocking one
        # without a client event loop sees only what came with the open
        def reader():
            try:
                while b"halted" not in data:
                    chunk = st.recv(4096)
                    if not isinstance(chunk, bytes) or not chunk:
                        return
                    data.extend(chunk)
            except libvirt.libvirtError:
                return
        try:
            conn.lookupByName("ser2").openConsole("serial0", st, 0)
            t = threading.Thread(target=reader, daemon=True)
            t.start()
            t.join(15)
            self.assertIn(b"libvirt-stratovirt tiny firmware (q35): halted", bytes(data))
        finally:
            try:
                st.abort()
            except libvirt.libvirtError:
                pass
            conn.close()
            virsh("destroy", "ser2")

    def test_realize_failure_quotes_the_domain_log(self):
        """StratoVirt loads the kernel after it bound QMP: the driver saw only
        'QMP connection closed'; the reason is in the domain log."""
        bad = os.path.join(IMG, "zero-kernel")
        os.makedirs(IMG, exist_ok=True)  # (run alone, no case made the images yet)
        with open(bad, "wb") as f:
            f.truncate(1 << 20)
        p = virsh("create", xmlfile("rz1", kernel=bad), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("StratoVirt exited while starting domain 'rz1'", p.stderr)
        self.assertRegex(p.stderr, r"ELF header|Failed to load kernel|kernel")
        self.assertNotIn("QMP connection", p.stderr)
        self.assertNotIn("rz1", virsh("list", "--all", "--name").stdout)

    def test_vmm_gets_a_clean_environment(self):
        """The daemon runs with RUST_BACKTRACE=1 (sandbox.sh sets it, as a
        user's shell may): the VMM must not inherit it."""
        self.assertEqual(os.environ.get("RUST_BACKTRACE"), "1")
        virsh("create", xmlfile("env1"))
        try:
            with open("/proc/%d/environ" % status_pid("env1"), "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
            self.assertNotIn(b"RUST_BACKTRACE", env)
            self.assertNotIn(b"LIBVIRT_DEFAULT_URI", env)
            self.assertEqual(env.get(b"LC_ALL"), b"C")
            self.assertEqual(env.get(b"STRATOVIRT_LOG_LEVEL"), b"warn")
        finally:
            virsh("destroy", "env1")

    def test_domain_log_is_not_flooded_by_qmp(self):
        """2.4 and 2.5 log every QMP exchange at INFO: the driver runs them
        at log level warn, so queries leave the domain log alone."""
        virsh("create", xmlfile("log1"))
        try:
            time.sleep(0.5)
            before = len(domain_log("log1"))
            for _ in range(10):
                virsh("vcpuinfo", "log1")
            grown = len(domain_log("log1")) - before
            self.assertLess(grown, 200, domain_log("log1")[before:])
        finally:
            virsh("destroy", "log1")

    @unittest.skipUnless(OLD, "StratoVirt 2.2 and later have system_powerdown and system_reset")
    def test_old_version_refuses_shutdown_and_reboot_by_name(self):
        virsh("create", xmlfile("old1"))
        try:
            for verb in ("shutdown", "reboot"):
                p = virsh(verb, "old1", check=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("StratoVirt 2.1.0 has no system_", p.stderr)
            self.assertEqual(state("old1"), "running (booted)")
        finally:
            virsh("destroy", "old1")

    @unittest.skipUnless(OLD, "StratoVirt 2.2 and later take qcow2 and a VNC display")
    def test_old_version_refuses_what_it_lacks_by_name(self):
        p = virsh("create", xmlfile("old2", devs="<graphics type='vnc' port='5905'/>"),
                  check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("'vnc' feature", p.stderr)
        self.assertIn("StratoVirt 2.1.0", p.stderr)

    @unittest.skipIf(OLD, "StratoVirt 2.1.0 has no system_powerdown")
    def test_powerdown_is_a_shutdown_not_a_crash(self):
        """system_powerdown on q35 ends the VMM with the return, then EOF, no
        SHUTDOWN event, and the pidfile removed: a shutdown."""
        virsh("create", xmlfile("pd1"))
        pid = status_pid("pd1")
        virsh("shutdown", "pd1")
        wait_for(lambda: not pid_alive(pid), timeout=20, what="the VMM to power off")
        wait_for(lambda: "pd1" not in virsh("list", "--name").stdout, what="pd1 to stop")

    def test_seccomp_kill_is_a_crash(self):
        """A seccomp kill (2.5.0's microvm on 'stop': clock_nanosleep is not
        on its allow-list) deletes the pidfile as an orderly exit does: the
        driver must still call it a crash and emit the crashed event."""
        if REAL and VERSION[:2] != (2, 5):
            self.skipTest("on StratoVirt %s a microvm pauses fine; only 2.5.0's seccomp "
                          "list kills it" % ".".join(map(str, VERSION)))
        set_faults({"sc1": {"seccomp_on": "stop"}})
        virsh("define", xmlfile("sc1", machine="microvm", console=False))
        try:
            ev = subprocess.Popen(["/usr/bin/virsh", "-c", URI, "event", "sc1", "lifecycle",
                                   "--loop", "--timeout", "30"],
                                  stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            virsh("start", "sc1")
            pid = status_pid("sc1")
            virsh("suspend", "sc1", check=False)
            wait_for(lambda: not pid_alive(pid), timeout=20, what="the VMM to be killed")
            wait_for(lambda: state("sc1").startswith("shut off"), what="sc1 to stop")
            self.assertEqual(state("sc1"), "shut off (crashed)")
            ev.send_signal(signal.SIGINT)
            out = ev.communicate(timeout=15)[0]
            self.assertIn("Stopped Crashed", out)
            self.assertRegex(domain_log("sc1"), r"bad system call|seccomp|Panic at")
        finally:
            virsh("undefine", "sc1", check=False)

    def test_build_features_in_domain_capabilities(self):
        """The features of the binary's build are known before a start."""
        out = virsh("domcapabilities", "--machine", "q35").stdout
        disk = re.search(r"<disk supported='yes'>.*?</disk>", out, re.S).group(0)
        if OLD:
            # 2.1.0 has no vnc, no virtio-gpu and no virtio-scsi (so no
            # cdrom, scsi or sata disk)
            self.assertRegex(out, r"<graphics supported='no'")
            self.assertRegex(out, r"<video supported='no'")
            self.assertNotIn("<value>cdrom</value>", disk)
            self.assertNotIn("<value>sata</value>", disk)
        else:
            self.assertRegex(out, r"<graphics supported='yes'")
            self.assertIn("<value>cdrom</value>", disk)
            self.assertIn("<value>scsi</value>", disk)
            self.assertIn("<value>sata</value>", disk)
        self.assertRegex(out, r"<hostdev supported='yes'")
        self.assertRegex(out, r"<rng supported='yes'")


class StandinFaithful(unittest.TestCase):

    def setUp(self):
        set_faults({})

    @standin_only("ignoring SIGTERM on demand is a stand-in fault switch")
    def test_destroy_ends_a_vmm_that_ignores_sigterm(self):
        """2.4.0 with a stop hanging printed 'Received kill signal' and lived
        on: destroy must still end it (SIGKILL after the grace period)."""
        set_faults({"term1": {"ignore_sigterm": True}})
        virsh("create", xmlfile("term1"))
        pid = status_pid("term1")
        virsh("destroy", "term1", timeout=60)
        self.assertFalse(pid_alive(pid))

    def test_stop_and_cont_events_in_either_order(self):
        """2.5.0 answers stop and cont before the event, 2.1.0 and 2.4.0
        after: the state follows either way."""
        virsh("create", xmlfile("ord1"))
        try:
            for _ in range(3):
                virsh("suspend", "ord1")
                wait_for(lambda: state("ord1") == "paused (user)", what="paused")
                virsh("resume", "ord1")
                wait_for(lambda: state("ord1") == "running (unpaused)", what="running")
        finally:
            virsh("destroy", "ord1")


@standin_only("the stand-in is told which cargo features its build lacks (STANDIN_FEATURES); "
              "the real binaries here have all of them")
class BuildFeatures(unittest.TestCase):

    def tearDown(self):
        os.environ.pop("STANDIN_FEATURES", None)
        binary_replaced()
        restart_daemon()

    def test_probe_finds_a_build_without_vfio_and_vnc(self):
        os.environ["STANDIN_FEATURES"] = "virtio_rng,vhost_vsock,virtio_gpu"
        binary_replaced()
        restart_daemon()
        out = virsh("domcapabilities", "--machine", "q35").stdout
        self.assertRegex(out, r"<hostdev supported='no'")
        self.assertRegex(out, r"<graphics supported='no'")
        self.assertRegex(out, r"<rng supported='yes'")
        # no virtio_scsi: no cdrom, scsi or sata disks offered
        self.assertNotIn("<value>cdrom</value>", out)
        self.assertNotIn("<value>sata</value>", out)
        p = virsh("create", xmlfile("nf1", devs="<graphics type='vnc' port='5906'/>"),
                  check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("needs StratoVirt built with the 'vnc' feature", p.stderr)
        self.assertIn("unsupported configuration", p.stderr)

    def test_configured_features_skip_the_probe(self):
        with open(driver_conf_path()) as f:
            conf = f.read()
        try:
            with open(driver_conf_path(), "a") as f:
                f.write('\nstratovirt_features = [ "vfio" ]\n')
            restart_daemon()
            out = virsh("domcapabilities", "--machine", "q35").stdout
            self.assertRegex(out, r"<rng supported='no'")
            self.assertRegex(out, r"<hostdev supported='yes'")
            p = virsh("create", xmlfile("nf2", devs="<rng model='virtio'><backend model='random'>"
                                                    "/dev/urandom</backend></rng>"), check=False)
            self.assertIn("'virtio_rng' feature", p.stderr)
        finally:
            with open(driver_conf_path(), "w") as f:
                f.write(conf)


if __name__ == "__main__":
    main()
