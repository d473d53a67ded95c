#!/usr/bin/python3
"""Graceful shutdown and reboot through stock virsh and python-libvirt.

StratoVirt's system_powerdown is an ACPI power button only on the aarch64
'virt' machine (POWERDOWN, then the guest's SHUTDOWN); on x86 'q35' and
microvm it powers off at once (shared/stratovirt-contract.md §3.4).  So:
- aarch64 virt: shutdown --mode acpi asks the guest; reboot is the guest's
  power-off followed by a new VMM with the same definition (a fake reboot,
  as the QEMU driver's), with the events of a graceful reboot;
- x86 q35: a reboot is refused by name (reset is the hard one), so is
  shutdown --mode acpi; the default shutdown stays StratoVirt's power-off;
- modes no StratoVirt machine has are refused by name.

The aarch64 cases run on this x86_64 host through tests/shim/archshim.so:
the sandbox's daemon is restarted with uname(2) saying aarch64, and the
StratoVirt stand-in it starts (STANDIN_ARCH=aarch64, passed on through
stratovirt.conf's vmm_environment_pass) plays StratoVirt's aarch64 build (its
system_powerdown on 'virt' sends POWERDOWN, then SHUTDOWN with
guest:true and exits 0, as the real one does when the guest powers off).
"""

import os
import signal
import time
import unittest

import libvirt

from svtest import (SB, URI, virsh, main, wait_for, pid_alive, stop_daemon, start_daemon,
                    ensure_daemon, daemon_log, log_mark, driver_conf_path, set_driver_conf, standin_only, real_version)
import test_lifecycle as tl

SHIM = os.path.join(os.environ.get("BUILD", ""), "tests", "archshim.so")


def aarch64_xml(name, on_reboot=None):
    img = tl.images()
    extra = "<on_reboot>%s</on_reboot>" % on_reboot if on_reboot else ""
    return """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{img}/vmlinux</kernel>
    <initrd>{img}/initrd.img</initrd>
    <cmdline>console=ttyAMA0 root=/dev/vda</cmdline>
  </os>
  {extra}
  <devices>
    <disk type='file' device='disk'>
      <source file='{img}/rootfs.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <console type='pty'><target type='virtio' port='0'/></console>
  </devices>
</domain>
""".format(name=name, img=img, extra=extra)


def virsh_events():
    """`virsh event --all --loop` as a user would watch it, watching
    before the call it must see (tl.VirshEventWatch): its throwaway
    domain is a 'virt' one, which the aarch64 daemon defines"""
    return tl.VirshEventWatch(aarch64_xml("pa-evready"), "pa-evready")


def refused(*args):
    p = virsh(*args, check=False)
    return p.returncode, p.stderr


@unittest.skipUnless(tl.STATE, "the power tests need the system instance (root sandbox)")
class X86(unittest.TestCase):
    """q35: no ACPI power button, so nothing graceful to do"""

    @classmethod
    def setUpClass(cls):
        tl.set_faults({})
        virsh("create", tl.xmlfile("px1"))

    @classmethod
    def tearDownClass(cls):
        virsh("destroy", "px1", check=False)

    def test_reboot_is_refused_not_a_hard_reset(self):
        pid = tl.vmm_pid("px1")
        old = real_version() and real_version() < (2, 2, 0)
        for mode in ([], ["--mode", "acpi"]):
            rc, err = refused("reboot", "px1", *mode)
            self.assertNotEqual(rc, 0)
            if old:
                # StratoVirt 2.1 has neither a power button nor a reset
                self.assertIn("has no system_powerdown", err)
                continue
            self.assertIn("'q35' machine cannot reboot the guest gracefully", err)
            self.assertIn("virsh reset", err)
        # nothing happened to the guest
        self.assertEqual(tl.vmm_pid("px1"), pid)
        self.assertEqual(tl.state("px1"), "running (booted)")
        # the hard reset is still there, under its own name (StratoVirt
        # 2.1 has no system_reset: refused by name there)
        rc, err = refused("reset", "px1")
        if old:
            self.assertNotEqual(rc, 0)
            self.assertIn("has no system_reset", err)
        else:
            self.assertEqual(rc, 0, err)
        self.assertEqual(tl.vmm_pid("px1"), pid)

    @standin_only("a refused first system_powerdown is a stand-in fault switch (the real "
                  "binaries refuse it only when a vCPU misses StratoVirt's 32 ms stop window)")
    def test_shutdown_asks_again_when_a_vcpu_stops_late(self):
        """StratoVirt's q35 power-off waits 32 ms for each vCPU to stop and
        refuses with an empty GenericError when one is slower (seen on real
        2.4.0 and 2.5.0 right after a start on a busy host): the driver asks
        again, and virsh shutdown succeeds."""
        tl.set_faults({"px2": {"refuse_once": {"system_powerdown": ""}}})
        try:
            virsh("create", tl.xmlfile("px2"))
            pid = tl.vmm_pid("px2")
            p = virsh("shutdown", "px2", check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
            wait_for(lambda: not pid_alive(pid), timeout=20, what="the VMM to power off")
            wait_for(lambda: "px2" not in virsh("list", "--name").stdout, what="px2 to stop")
        finally:
            virsh("destroy", "px2", check=False)
            tl.set_faults({})

    def test_acpi_shutdown_is_refused_on_q35(self):
        rc, err = refused("shutdown", "px1", "--mode", "acpi")
        self.assertNotEqual(rc, 0)
        self.assertIn("'q35' machine has no ACPI power button", err)
        self.assertEqual(tl.state("px1"), "running (booted)")

    def test_modes_no_machine_has_are_refused_by_name(self):
        conn = libvirt.open(URI)
        dom = conn.lookupByName("px1")
        for flag, word in ((libvirt.VIR_DOMAIN_SHUTDOWN_INITCTL, "initctl"),
                           (libvirt.VIR_DOMAIN_SHUTDOWN_SIGNAL, "signal"),
                           (libvirt.VIR_DOMAIN_SHUTDOWN_PARAVIRT, "paravirt")):
            for call in (dom.shutdownFlags, dom.reboot):
                with self.assertRaises(libvirt.libvirtError) as cm:
                    call(flag)
                self.assertEqual(cm.exception.get_error_code(),
                                 libvirt.VIR_ERR_CONFIG_UNSUPPORTED)
                self.assertIn("--mode " + word, str(cm.exception))
        # --mode agent asks the guest agent (tests/e2e/test_agent.py); this
        # domain has no channel for it, which is what is said
        for call in (dom.shutdownFlags, dom.reboot):
            with self.assertRaises(libvirt.libvirtError) as cm:
                call(libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT)
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)
            self.assertIn("no guest agent channel", str(cm.exception))
        self.assertEqual(dom.state()[0], libvirt.VIR_DOMAIN_RUNNING)
        conn.close()


@unittest.skipUnless(tl.STATE, "the power tests need the system instance (root sandbox)")
@unittest.skipUnless(os.path.exists(SHIM), "tests/archshim.so is not built")
@standin_only("the aarch64 'virt' cases run the stand-in as an aarch64 StratoVirt under a uname "
              "shim; the real binaries here are x86_64 builds, which have no 'virt' machine "
              "(they refuse gic-version)")
class AArch64Virt(unittest.TestCase):
    """virt: the ACPI power button, and the fake reboot"""

    @classmethod
    def setUpClass(cls):
        tl.set_faults({})
        stop_daemon()
        with open(driver_conf_path()) as f:
            cls.conf = f.read()
        # the VMM gets a clean environment: the shim is passed on by name
        set_driver_conf(cls.conf + '\nvmm_environment_pass = [ "LD_PRELOAD", "SVTEST_UNAME_MACHINE", "STANDIN_ARCH" ]\n')
        cls.start_aarch64_daemon()

    @staticmethod
    def start_aarch64_daemon():
        os.environ["LD_PRELOAD"] = SHIM
        os.environ["SVTEST_UNAME_MACHINE"] = "aarch64"
        os.environ["STANDIN_ARCH"] = "aarch64"
        try:
            start_daemon()
        finally:
            del os.environ["LD_PRELOAD"]
            del os.environ["SVTEST_UNAME_MACHINE"]
            del os.environ["STANDIN_ARCH"]

    @classmethod
    def tearDownClass(cls):
        for n in ("pa1", "pa2", "pa3", "pa4", "pa5"):
            virsh("destroy", n, check=False)
            virsh("undefine", n, check=False)
        # a case that failed after killing the aarch64 daemon left none
        ensure_daemon(cls.start_aarch64_daemon)
        stop_daemon()
        set_driver_conf(cls.conf)
        start_daemon()

    def setUp(self):
        tl.set_faults({})

    def tearDown(self):
        # a case that failed between killing the aarch64 daemon and starting
        # the next left none: the later cases get one, not 'failed to connect'
        ensure_daemon(self.start_aarch64_daemon)

    def define(self, name, **kw):
        path = tl.write(os.path.join(SB, name + ".xml"), aarch64_xml(name, **kw))
        virsh("define", path)

    def test_capabilities_offer_virt(self):
        caps = virsh("capabilities").stdout
        self.assertIn("<arch name='aarch64'>", caps)
        self.assertIn(">virt</machine>", caps)

    def test_acpi_reboot_is_a_guest_power_off_and_a_new_vmm(self):
        self.define("pa1")
        virsh("start", "pa1")
        domid = virsh("domid", "pa1").stdout.strip()
        old = tl.vmm_pid("pa1")
        ev = tl.Events()
        watch = virsh_events()
        try:
            virsh("reboot", "pa1", "--mode", "acpi")
            # the guest powers off, its VMM exits in order, a new one runs
            wait_for(lambda: not pid_alive(old), what="the old VMM to exit")
            ev.wait("pa1", libvirt.VIR_DOMAIN_EVENT_RESUMED,
                    libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)
            new = tl.vmm_pid("pa1")
            self.assertNotEqual(new, old)
            self.assertTrue(pid_alive(new))
            self.assertEqual(tl.state("pa1"), "running (booted)")
            # a reboot, not a stop and a start: same id, no stopped event
            self.assertEqual(virsh("domid", "pa1").stdout.strip(), domid)
            with ev.lock:
                seen = [(e, d) for n, e, d in ev.events if n == "pa1"]
            self.assertEqual(seen, [(libvirt.VIR_DOMAIN_EVENT_SHUTDOWN,
                                     libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED),
                                    (libvirt.VIR_DOMAIN_EVENT_RESUMED,
                                     libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)])
            # the new VMM got the same definition
            with open("/proc/%d/cmdline" % new) as f:
                self.assertIn("virt,accel=kvm,gic-version=3", f.read().split("\0"))
        finally:
            ev.close()
            out = watch.close()
        self.assertIn("event 'lifecycle' for domain 'pa1': Shutdown Finished", out)
        self.assertIn("event 'reboot' for domain 'pa1'", out)
        self.assertIn("event 'lifecycle' for domain 'pa1': Resumed Unpaused", out)
        self.assertNotIn("Stopped", out)
        self.assertNotIn("Started", out)
        virsh("destroy", "pa1")

    def test_default_reboot_of_python_libvirt_reboots_too(self):
        self.define("pa2")
        conn = libvirt.open(URI)
        dom = conn.lookupByName("pa2")
        dom.create()
        old = tl.vmm_pid("pa2")
        dom.reboot(0)
        wait_for(lambda: not pid_alive(old), what="the old VMM to exit")
        wait_for(lambda: dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                                         libvirt.VIR_DOMAIN_RUNNING_BOOTED],
                 what="pa2 to run again")

        # the status file is written once the new VMM is up; read it then
        def new_vmm():
            try:
                pid = tl.vmm_pid("pa2")
            except (OSError, AttributeError):
                return None
            return pid if pid != old and pid_alive(pid) else None
        wait_for(new_vmm, what="a new VMM for pa2")
        wait_for(lambda: dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                                         libvirt.VIR_DOMAIN_RUNNING_BOOTED],
                 what="pa2 to run on its new VMM")
        dom.destroy()
        conn.close()

    def test_a_reboot_the_daemon_stops_in_is_finished_by_the_next(self):
        """virsh reboot, then the daemon is killed before it handled the
        guest's power-off (the VMM closes QMP at once and ends 1 s later:
        the stand-in's exit_delay): the next daemon finds the VMM gone and
        starts the guest again, with the same id, as the old one would
        have (before the fix it was left "shut off (crashed)")."""
        self.define("pa5")
        rounds = 3
        paths = {"gone": 0, "live": 0}
        for r in range(rounds):
            tl.set_faults({"pa5": {"exit_delay": 1.0}})
            virsh("start", "pa5")
            domid = virsh("domid", "pa5").stdout.strip()
            old = tl.vmm_pid("pa5")
            virsh("reboot", "pa5", "--mode", "acpi")
            time.sleep(0.05 + r * 0.2)
            stop_daemon(signal.SIGKILL)
            log1 = log_mark()
            tl.set_faults({})
            self.start_aarch64_daemon()
            wait_for(lambda: not pid_alive(old), what="round %d: the old VMM to exit" % r)

            def new_vmm():
                try:
                    pid = tl.vmm_pid("pa5")
                except (OSError, AttributeError):  # between the two VMMs
                    return None
                return pid if pid and pid != old and pid_alive(pid) else None
            # (until the reconnect ends, the domain is what the status XML
            # said: running on the old VMM)
            wait_for(new_vmm, timeout=20,
                     what="round %d: a new VMM for pa5 (it is %s)" % (r, tl.state("pa5")))
            wait_for(lambda: tl.state("pa5") == "running (booted)", timeout=20,
                     what="round %d: pa5 running on its new VMM" % r)
            self.assertEqual(virsh("domid", "pa5").stdout.strip(), domid, "round %d" % r)
            # the next daemon restarted it (the old VMM's process outlives
            # the kill by 1 s): the guest powered off before the next
            # daemon reconnected (its reconnect finds the VMM gone), or
            # after (its exit handler knows the reboot from the status XML)
            self.assertIn("domain pa5: guest powered off for a reboot", daemon_log(log1),
                          "round %d: the next daemon started it again" % r)
            paths[
                "gone" if "domain pa5: cannot reconnect" in daemon_log(log1) else "live"] += 1
            virsh("destroy", "pa5")
        print("reboot cut by a kill: the next daemon started the guest again in %d rounds "
              "(VMM gone at its reconnect: %d, the guest powered off after it: %d)"
              % (rounds, paths["gone"], paths["live"]))

    def test_a_guest_that_ignores_the_button_keeps_running(self):
        self.define("pa3")
        tl.set_faults({"pa3": {"ignore_powerdown": True}})
        virsh("start", "pa3")
        pid = tl.vmm_pid("pa3")
        virsh("reboot", "pa3")
        p = virsh("shutdown", "pa3")
        self.assertEqual(p.returncode, 0)
        time.sleep(1)
        self.assertTrue(pid_alive(pid))
        self.assertEqual(tl.state("pa3"), "running (booted)")
        virsh("destroy", "pa3")

    def test_acpi_shutdown_asks_the_guest_and_on_reboot_destroy_shuts_down(self):
        self.define("pa4", on_reboot="destroy")
        ev = tl.Events()
        try:
            virsh("start", "pa4")
            virsh("shutdown", "pa4", "--mode", "acpi")
            ev.wait("pa4", libvirt.VIR_DOMAIN_EVENT_STOPPED,
                    libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
            self.assertEqual(tl.state("pa4"), "shut off (shutdown)")
            # <on_reboot>destroy</on_reboot>: a reboot is a shutdown
            virsh("start", "pa4")
            old = tl.vmm_pid("pa4")
            with ev.lock:
                ev.events.clear()
            virsh("reboot", "pa4")
            ev.wait("pa4", libvirt.VIR_DOMAIN_EVENT_STOPPED,
                    libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
            self.assertFalse(pid_alive(old))
            self.assertEqual(tl.state("pa4"), "shut off (shutdown)")
        finally:
            ev.close()


if __name__ == "__main__":
    main()
