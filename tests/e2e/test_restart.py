#!/usr/bin/python3
"""The event loop, reconnect and jobs, as a production host meets them:
a VMM that sends an event right after its greeting while the daemon
restarts; destroy of a stopped VMM that a dozen read-only clients poll,
and destroy in the middle of a start; a VMM flooding events; virsh list
while a start waits for its VMM or its devices.

Each scenario runs ROUNDS rounds (SVTEST_LONG=1, i.e. ./run test --long:
LONG_ROUNDS); every round ends with every guest that should run still
running on the same VMM, no VMM process nobody knows, and no status or
run file that does not belong to a running guest."""

import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

import libvirt

from svtest import (SB, URI, REAL, virsh, main, wait_for, stop_daemon, start_daemon,
                    pid_alive, daemon_log, log_mark, make_images, SLOW, STRATOVIRT, STANDIN,
                    driver_conf_path, set_driver_conf, driver_conf_overriding,
                    binary_replaced, caps_cache_files, restart_daemon, standin_only,
                    real_version, driver_of, hostdev_xml, needs_version, ensure_daemon, simpci_log)

LONG = os.environ.get("SVTEST_LONG") == "1"
# 20 rounds each by default (5 on a real StratoVirt, whose starts take
# longer: the stand-in's rounds cover the driver's logic); --long runs 100
ROUNDS = int(os.environ.get("SVTEST_ROUNDS", "100" if LONG else "5" if REAL else "20"))
STATE = "/run/libvirt/stratovirt"
IMG = os.path.join(SB, "rs-images")
SIM = os.environ.get("SANDBOX_SIMPCI")


def domxml(name, balloon=False, devs=()):
    # the project's tiny q35 kernel: the stand-in, as the real q35, refuses
    # a file that is no ELF
    make_images(IMG, ("vmlinux", "initrd.img"))
    mb = "<memballoon model='virtio'/>" if balloon else "<memballoon model='none'/>"
    return """<domain type='kvm'><name>{n}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{img}/vmlinux</kernel>
<initrd>{img}/initrd.img</initrd></os>
<devices><console type='pty'><target type='virtio' port='0'/></console>{mb}{hd}</devices>
</domain>""".format(n=name, img=IMG, mb=mb, hd="".join(hostdev_xml(d) for d in devs))


def xmlfile(name, balloon=False, devs=()):
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(domxml(name, balloon, devs))
    return path


def rootports_xmlfile(name):
    """a guest with two free pcie-root-ports: room for a hot-plugged disk"""
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(domxml(name).replace(
            "<devices>", "<devices><controller type='pci' model='pcie-root-port'/>"
            "<controller type='pci' model='pcie-root-port'/>"))
    return path


def set_faults(faults):
    with open(os.path.join(SB, "standin-faults.json"), "w") as f:
        json.dump(faults, f)


def vmm_procs():
    """{pid: -name} of every StratoVirt (stand-in) process on the machine"""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if not any(a.endswith(b"standin/stratovirt") or a.endswith(b"/stratovirt") or
                   (STRATOVIRT and a == STRATOVIRT.encode()) for a in argv[:2]):
            continue
        if b"-name" in argv and pid_alive(int(d)):
            out[int(d)] = argv[argv.index(b"-name") + 1].decode()
    return out


def uuid_of(name):
    return virsh("domuuid", name).stdout.strip()


def check_world(tc, running):
    """@running: names that must run.  Each runs on exactly one VMM; no
    other VMM exists; the state directory holds exactly their status files
    and run directories."""
    names = set(virsh("list", "--name").stdout.split())
    tc.assertEqual(names, set(running), "running domains")
    for n in running:
        tc.assertEqual(virsh("domstate", n).stdout.strip(), "running", n)
    procs = vmm_procs()
    tc.assertEqual(sorted(procs.values()), sorted(running), "VMM processes: %s" % procs)
    want = set(n + ".xml" for n in running) | set(uuid_of(n) for n in running)
    have = set(x for x in os.listdir(STATE) if x != "driver.pid")
    tc.assertEqual(have, want, "files in %s" % STATE)


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


# A managed passthrough device for the scenarios' guests, where the
# sandbox's simulated PCI host is (root, on the stand-in: a real StratoVirt
# cannot open its /dev/vfio), so that every round also checks the device is
# where it belongs.
PT_DEV = "0000:03:00.0"
PT_HOST = "hinic"


def pt_devs():
    return (PT_DEV,) if SIM and not REAL else ()


def check_device(tc, owner, r):
    """@owner: the running domain that has PT_DEV, or None (back on its
    host driver)"""
    if not pt_devs():
        return
    if owner:
        tc.assertEqual(driver_of(PT_DEV), "vfio-pci", "round %d: %s's device" % (r, owner))
        tc.assertRegex(virsh("dumpxml", owner).stdout,
                       r"<source>\s*<address domain='0x0000' bus='0x03' slot='0x00' "
                       r"function='0x0'/>", "round %d: %s's hostdev" % (r, owner))
    else:
        tc.assertEqual(driver_of(PT_DEV), PT_HOST, "round %d: the device back on the host" % r)


class Base(unittest.TestCase):
    def setUp(self):
        set_faults({})
        libvirt.registerErrorHandler(lambda *a: None, None)

    def tearDown(self):
        set_faults({})
        if ensure_daemon():
            print("%s left no daemon running; the next tests get a new one" % self.id())
        for n in virsh("list", "--name").stdout.split():
            virsh("destroy", n, check=False)
        for n in virsh("list", "--all", "--name").stdout.split():
            virsh("undefine", n, check=False)


class CapsCache(Base):
    """What each StratoVirt binary is (its version from -V, its build
    features from the probe VMs) is kept across daemon restarts, as the
    QEMU driver keeps its capabilities: a restart, with domains running or
    not, runs the binary for nothing but their VMMs; a replaced binary, a
    changed 'stratovirt_features' or a damaged cache file is probed again.
    The binary here is a wrapper that logs each time it is run."""

    def setUp(self):
        super().setUp()
        with open(driver_conf_path()) as f:
            self.conf = f.read()
        self.log = os.path.join(SB, "caps-execs.log")
        self.wrapper = os.path.join(SB, "caps-bin", "stratovirt")
        os.makedirs(os.path.dirname(self.wrapper), exist_ok=True)
        with open(self.wrapper, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> %s\nexec %s "$@"\n'
                    % (self.log, STRATOVIRT or STANDIN))
        os.chmod(self.wrapper, 0o755)
        set_driver_conf(driver_conf_overriding(self.conf,
                                               'stratovirt_binary = "%s"' % self.wrapper))

    def tearDown(self):
        super().tearDown()
        set_driver_conf(self.conf)
        restart_daemon()

    def execs(self):
        """(version runs, probe runs, other runs) since the last call"""
        try:
            with open(self.log) as f:
                lines = f.read().splitlines()
            os.unlink(self.log)
        except FileNotFoundError:
            lines = []
        version = sum(1 for l in lines if l.strip() == "-V")
        probe = sum(1 for l in lines if "/probe." in l)
        return version, probe, len(lines) - version - probe

    def cache_file(self):
        """the one cache file that describes the wrapper"""
        mine = []
        for path in caps_cache_files():
            with open(path) as f:
                if "path='%s'" % self.wrapper in f.read():
                    mine.append(path)
        self.assertEqual(len(mine), 1, caps_cache_files())
        return mine[0]

    def test_a_restart_does_not_run_the_binary_to_know_it(self):
        restart_daemon()
        self.execs()
        virsh("domcapabilities")
        version, probe, other = self.execs()
        self.assertEqual(version, 1, "the first daemon runs -V once")
        self.assertGreaterEqual(probe, 1 if not STRATOVIRT else 0,
                                "the first daemon probes the build features")
        mine = self.cache_file()
        with open(mine) as f:
            cached = f.read()
        self.assertRegex(cached, r"<driver build='[0-9a-f]{16,}'/>")

        # a domain runs through the restarts: its reconnect needs the caps
        virsh("create", xmlfile("cc1"))
        self.execs()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            stop_daemon(sig)
            start_daemon()
            virsh("vcpuinfo", "cc1", timeout=30)
            virsh("domcapabilities")
            virsh("version")
            self.assertEqual(self.execs(), (0, 0, 0),
                             "after a restart (%s) the binary was run" % sig.name)
        check_world(self, ["cc1"])

        # a new domain's VMM is the only run
        virsh("create", xmlfile("cc2"))
        self.assertEqual(self.execs(), (0, 0, 1))

        # the binary replaced (as an upgrade does): known again, once
        binary_replaced(self.wrapper)
        restart_daemon()
        virsh("domcapabilities")
        virsh("vcpuinfo", "cc1", timeout=30)
        virsh("vcpuinfo", "cc2", timeout=30)
        version, probe, other = self.execs()
        self.assertEqual((version, other), (1, 0), "after the binary changed")
        check_world(self, ["cc1", "cc2"])

        # a damaged cache file: a warning and a probe, never a failure
        with open(mine, "w") as f:
            f.write("<stratovirtCaps><binary path=")
        restart_daemon()
        self.assertIn("<domainCapabilities>", virsh("domcapabilities").stdout)
        self.assertEqual(self.execs()[0], 1, "after the cache file was damaged")
        restart_daemon()
        virsh("domcapabilities")
        self.assertEqual(self.execs(), (0, 0, 0), "the cache file was written again")
        check_world(self, ["cc1", "cc2"])

    def test_configured_features_are_part_of_the_key(self):
        restart_daemon()
        self.assertRegex(virsh("domcapabilities").stdout, r"<rng supported='yes'")
        self.execs()
        set_driver_conf(driver_conf_overriding(self.conf,
                                               'stratovirt_binary = "%s"\n'
                                               'stratovirt_features = [ "vfio" ]' % self.wrapper))
        restart_daemon()
        self.assertRegex(virsh("domcapabilities").stdout, r"<rng supported='no'")
        self.assertEqual(self.execs(), (1, 0, 0), "configured features: -V only")
        restart_daemon()
        self.assertRegex(virsh("domcapabilities").stdout, r"<rng supported='no'")
        self.assertEqual(self.execs(), (0, 0, 0))


class EventsAtReconnect(Base):
    """Defect 1: a VMM that sends an event right after its greeting (the
    stand-in's flood switch at 1) while the daemon reconnects.  Before the
    fix a persistent domain ended 'shut off (crashed)' after 10 s and a
    transient one wedged the daemon."""

    def test_event_right_after_greeting_at_every_restart(self):
        # (a real StratoVirt has no flood switch: there the rounds are the
        # daemon's restarts and reconnects to a real VMM)
        set_faults({"ev-p": {"flood_events": 1}, "ev-t": {"flood_events": 1}})
        virsh("define", xmlfile("ev-p", devs=pt_devs()))
        virsh("start", "ev-p")
        virsh("create", xmlfile("ev-t"))
        pids = {v: k for k, v in vmm_procs().items()}
        worst = 0.0
        for r in range(ROUNDS):
            stop_daemon(signal.SIGKILL if r % 2 else signal.SIGTERM)
            t0 = time.monotonic()
            start_daemon()
            # a call that needs the monitor: waits for the reconnect job
            for n in ("ev-p", "ev-t"):
                virsh("vcpuinfo", n, timeout=30)
            took = time.monotonic() - t0
            worst = max(worst, took)
            self.assertLess(timed(lambda: virsh("version", timeout=10)), 3 * SLOW,
                            "round %d: the daemon is slow to answer" % r)
            check_world(self, ["ev-p", "ev-t"])
            check_device(self, "ev-p", r)
            self.assertEqual({v: k for k, v in vmm_procs().items()}, pids,
                             "round %d: the same VMMs" % r)
            # far from the 10 s QMP timeout the defect waited for
            self.assertLess(took, 8 * SLOW, "round %d: reconnect took %.1f s" % (r, took))
        print("events at reconnect: %d rounds, slowest restart+reconnect %.2f s"
              % (ROUNDS, worst))


class StopDuringReconnect(Base):
    """A daemon stopped (SIGTERM: systemd, a package upgrade) while it is
    still reconnecting to a running guest leaves that guest running for
    the next daemon.  Before the fix the stop closed the monitor under the
    reconnect's query-status, the reconnect took the guest for lost and
    killed its VMM (seen in CI under load: CapsCache lost cc2 at the
    restart that followed a slow reconnect)."""

    @standin_only("a VMM slow to answer on demand is a stand-in fault switch")
    def test_sigterm_while_a_reconnect_waits_for_the_vmm(self):
        set_faults({"sdr": {"slow_on": {"query-status": 4}}})
        virsh("create", xmlfile("sdr"))
        pids = {v: k for k, v in vmm_procs().items()}
        rounds = ROUNDS if LONG else 10
        slowest = 0.0
        for r in range(rounds):
            log0 = log_mark()
            restart_daemon()
            # the reconnect has asked its question (the only domain: the
            # only query-status); the answer comes 4 s after it.  A fixed
            # sleep here met the answer instead when the start was slow.
            wait_for(lambda: '"execute":"query-status"' in daemon_log(log0),
                     timeout=10 * SLOW, what="round %d: the reconnect's query-status" % r)
            t0 = time.monotonic()
            stop_daemon(signal.SIGTERM)
            took = time.monotonic() - t0
            self.assertIn("domain sdr: the daemon stopped during its reconnect",
                          daemon_log(log0), "round %d: the stop did not meet the reconnect" % r)
            start_daemon()
            virsh("vcpuinfo", "sdr", timeout=30)
            check_world(self, ["sdr"])
            self.assertEqual({v: k for k, v in vmm_procs().items()}, pids,
                             "round %d: the same VMM" % r)
            # the stop ended the reconnect's wait (in 1 s slices) without
            # waiting for the answer, well before libvirt's 30 s
            self.assertLess(took, 3.5 * SLOW, "round %d: the stop took %.1f s" % (r, took))
            slowest = max(slowest, took)
        print("stop during a reconnect: %d rounds, the slowest stop %.2f s" % (rounds, slowest))

    def test_sigterm_while_a_reconnect_cannot_reach_the_vmm(self):
        """The other half: a stop that cuts a reconnect short (its VMM
        stopped: the reconnect waits for it to run) leaves the domain to
        the next daemon, which finds it running.  The reconnect does not
        connect to a stopped VMM: real StratoVirt 2.1.0 panics when it
        accepts a connection whose client has gone (the stopping daemon's,
        closed unanswered); before the fix this lost the guest on 2.1.0 in
        round 0."""
        virsh("create", xmlfile("sdl"))
        pids = {v: k for k, v in vmm_procs().items()}
        vmm = [p for p, n in vmm_procs().items() if n == "sdl"][0]
        rounds = ROUNDS if LONG else 5
        for r in range(rounds):
            stop_daemon(signal.SIGTERM)
            os.kill(vmm, signal.SIGSTOP)
            log0 = log_mark()
            try:
                start_daemon()
                # the reconnect has found the VMM stopped (a fixed sleep
                # here could stop the daemon before, under load)
                wait_for(lambda: "domain sdl: its StratoVirt process %d is stopped" % vmm
                         in daemon_log(log0), timeout=10 * SLOW,
                         what="round %d: the reconnect to find its VMM stopped" % r)
                t0 = time.monotonic()
                stop_daemon(signal.SIGTERM)
                took = time.monotonic() - t0
            finally:
                os.kill(vmm, signal.SIGCONT)
            # this round's log, not the whole log (which passed every
            # round after the first on the first one's lines)
            self.assertIn("domain sdl: the daemon stopped during its reconnect",
                          daemon_log(log0),
                          "round %d: the reconnect was not left to the next daemon" % r)
            self.assertIn("is stopped (SIGSTOP); not connected to it", daemon_log(log0),
                          "round %d: the reconnect connected to a stopped VMM" % r)
            self.assertLess(took, 15, "round %d: the stop took %.1f s" % (r, took))
            start_daemon()
            virsh("vcpuinfo", "sdl", timeout=30)
            check_world(self, ["sdl"])
            self.assertEqual({v: k for k, v in vmm_procs().items()}, pids,
                             "round %d: the same VMM" % r)
        print("stop during a reconnect that cannot reach its VMM: %d rounds" % rounds)

    @standin_only("a VMM slow to answer on demand is a stand-in fault switch")
    def test_a_vmm_slow_to_answer_survives_a_restart(self):
        """A VMM that answers QMP slowly (16 s, more than the 10 s a
        command is given) is alive, and so is its guest: the next daemon
        waits for the answer to its question, and both a persistent and a
        transient guest stay running on the same VMM; queries that need
        no job answer meanwhile.  Before the fix the reconnect's
        query-status timed out and the restart ended both guests
        ("shut off (crashed)", the transient one gone); found by review."""
        slow = {"slow_on": {"query-status": 16}}
        set_faults({"sq-p": slow, "sq-t": slow})
        virsh("define", xmlfile("sq-p"))
        try:
            virsh("start", "sq-p")
            virsh("create", xmlfile("sq-t"))
            pids = {v: k for k, v in vmm_procs().items()}
            rounds = 5 if LONG else 2
            for r in range(rounds):
                log0 = log_mark()
                restart_daemon()
                # both questions outlasted their 10 s (the answers are due
                # at 16 s); the guests run meanwhile
                wait_for(lambda: daemon_log(log0).count(
                    "StratoVirt has not answered 'query-status'") >= 2,
                    timeout=30 * SLOW, what="round %d: both reconnects to wait past 10 s" % r)
                for n in ("sq-p", "sq-t"):
                    self.assertEqual(virsh("domstate", n, timeout=10).stdout.strip(), "running",
                                     "round %d: %s" % (r, n))
                self.assertRegex(daemon_log(log0),
                                 r"StratoVirt has not answered 'query-status' on '[^']+' for "
                                 r"1\d s; still waiting",
                                 "round %d: the question outlasted its 10 s" % r)
                # reconnected: the same question answered
                wait_for(lambda: "reconnected to domain sq-p" in daemon_log(log0) and
                         "reconnected to domain sq-t" in daemon_log(log0),
                         timeout=30 * SLOW, what="round %d: both reconnected" % r)
                check_world(self, ["sq-p", "sq-t"])
                self.assertEqual({v: k for k, v in vmm_procs().items()}, pids,
                                 "round %d: the same VMMs" % r)
            # the daemon's stop ends that wait at once, and leaves the
            # guests to the next daemon
            log0 = log_mark()
            restart_daemon()
            # past the 10 s a command is given, 5 s before the answers
            # (a fixed sleep of 11 s met an answer due at 12 s when the
            # start was slow under load)
            wait_for(lambda: daemon_log(log0).count(
                "StratoVirt has not answered 'query-status'") >= 2,
                timeout=30 * SLOW, what="both reconnects to wait past 10 s")
            t0 = time.monotonic()
            self.assertEqual(stop_daemon(signal.SIGTERM), 0)
            took = time.monotonic() - t0
            self.assertLess(took, 5 * SLOW, "the stop waited %.1f s for the slow VMM" % took)
            self.assertIn("domain sq-t: the daemon stopped during its reconnect",
                          daemon_log(log0))
            log0 = log_mark()
            start_daemon()
            wait_for(lambda: "reconnected to domain sq-t" in daemon_log(log0),
                     timeout=30 * SLOW, what="the next daemon's reconnect")
            check_world(self, ["sq-p", "sq-t"])
            self.assertEqual({v: k for k, v in vmm_procs().items()}, pids, "the same VMMs")
            print("a VMM slow to answer at a restart: %d rounds, both guests kept; a stop "
                  "during the wait took %.2f s" % (rounds, took))
        finally:
            set_faults({})
            virsh("destroy", "sq-t", check=False)
            virsh("destroy", "sq-p", check=False)
            virsh("undefine", "sq-p", check=False)

    @standin_only("a VMM slow to accept QMP connections is a stand-in fault switch")
    def test_a_vmm_slow_to_greet_survives_a_restart(self):
        """A VMM whose main loop is busy leaves the next daemon's QMP
        connection in its listen backlog for 16 s: the reconnect waits for
        the greeting on that connection (closing it unanswered would cost
        the guest on 2.1.0, which panics when its greeting's send fails),
        warns every 10 s, and the guest stays running on its VMM."""
        # 16 s: well past the greeting's first warning (at 10-11 s)
        set_faults({"sg": {"accept_delay": 16}})
        virsh("create", xmlfile("sg"))
        try:
            pids = {v: k for k, v in vmm_procs().items()}
            rounds = 5 if LONG else 2
            for r in range(rounds):
                log0 = log_mark()
                restart_daemon()
                wait_for(lambda: "reconnected to domain sg" in daemon_log(log0),
                         timeout=30 * SLOW, what="round %d: reconnected" % r)
                self.assertRegex(daemon_log(log0),
                                 r"StratoVirt has not answered with its QMP greeting on "
                                 r"'[^']+' for 1\d s; still waiting", "round %d" % r)
                check_world(self, ["sg"])
                self.assertEqual({v: k for k, v in vmm_procs().items()}, pids,
                                 "round %d: the same VMM" % r)
            print("a VMM slow to greet at a restart: %d rounds, the guest kept" % rounds)
        finally:
            set_faults({})
            virsh("destroy", "sg", check=False)

    def test_a_vmm_stopped_for_longer_than_a_reconnect_waits(self):
        """A VMM stopped (SIGSTOP: a debugger, a freezer) across a restart
        for longer than the 10 s a running VMM that does not answer is
        given: the next daemon waits for it to run, says so in its log,
        then reconnects; the guest and its VMM are untouched.  Before the
        fix the reconnect gave up after 10 s and ended the guest as
        unreachable (shut off, crashed)."""
        virsh("create", xmlfile("sdw"))
        pids = {v: k for k, v in vmm_procs().items()}
        vmm = pids["sdw"]
        rounds = 5 if LONG else 2
        for r in range(rounds):
            stop_daemon(signal.SIGTERM)
            os.kill(vmm, signal.SIGSTOP)
            said = daemon_log().count("domain sdw: its StratoVirt process %d is stopped" % vmm)
            try:
                start_daemon()
                time.sleep(12)
                self.assertEqual(virsh("domstate", "sdw").stdout.strip(), "running",
                                 "round %d: the guest of a stopped VMM was ended" % r)
                self.assertTrue(pid_alive(vmm), "round %d: its VMM was killed" % r)
                self.assertEqual(daemon_log().count(
                    "domain sdw: its StratoVirt process %d is stopped" % vmm), said + 1,
                    "round %d: the log does not say once why the reconnect waits" % r)
            finally:
                if pid_alive(vmm):
                    os.kill(vmm, signal.SIGCONT)
            # a QMP query answered: reconnected
            virsh("vcpuinfo", "sdw", timeout=30)
            check_world(self, ["sdw"])
            self.assertEqual({v: k for k, v in vmm_procs().items()}, pids,
                             "round %d: the same VMM" % r)
        virsh("destroy", "sdw")
        print("a VMM stopped for 12 s across a restart: %d rounds" % rounds)

    def test_destroy_while_a_reconnect_waits_for_a_stopped_vmm(self):
        """destroy wins over a reconnect that waits for a stopped VMM: it
        succeeds at once, the domain is shut off as destroyed (not crashed,
        and not 'domain is not running'), no VMM is left."""
        virsh("define", xmlfile("sdd"))
        rounds = 5 if LONG else 3
        try:
            for r in range(rounds):
                virsh("start", "sdd")
                vmm = [p for p, n in vmm_procs().items() if n == "sdd"][0]
                stop_daemon(signal.SIGTERM)
                os.kill(vmm, signal.SIGSTOP)
                log0 = log_mark()
                start_daemon()
                # the reconnect waits for the stopped VMM
                wait_for(lambda: "domain sdd: its StratoVirt process %d is stopped" % vmm
                         in daemon_log(log0), timeout=10 * SLOW,
                         what="round %d: the reconnect to find its VMM stopped" % r)
                took = timed(lambda: virsh("destroy", "sdd", timeout=60))
                self.assertLess(took, 2.0 * SLOW, "round %d: destroy took %.2f s" % (r, took))
                self.assertEqual(virsh("domstate", "sdd", "--reason").stdout.strip(),
                                 "shut off (destroyed)", "round %d" % r)
                wait_for(lambda: not pid_alive(vmm), timeout=10, what="the VMM's end")
                check_world(self, [])
        finally:
            virsh("destroy", "sdd", check=False)
            virsh("undefine", "sdd", check=False)
        print("destroy while a reconnect waits for a stopped VMM: %d rounds" % rounds)


class StopDuringExit(Base):
    """A daemon stopped while it handles a VMM's exit (the monitor's EOF
    work: wait for the process, give its devices back, remove its files,
    tell the event) neither runs that work on freed driver state nor leaves
    the domain half stopped.  SIGTERM (systemd, a package upgrade): the
    stop waits for the work and exits cleanly (before the fix it freed the
    driver under the work: the daemon died of SIGSEGV); SIGKILL (or
    libvirt's forced exit): the work is cut anywhere, and the next daemon's
    reconnect finds the VMM gone and finishes it.  The stand-in's
    exit_delay makes the exiting VMM close QMP 1 s before its process ends,
    so the stop lands in the middle of the work."""

    BDF = "0000:05:00.0"
    HOST = "igb"

    @standin_only("a VMM slow to exit on demand is a stand-in fault switch, and a real "
                  "StratoVirt cannot open the simulated PCI host's /dev/vfio")
    @unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
    def test_stop_while_a_vmm_exits(self):
        set_faults({"sx-exit": {"exit_delay": 1.0}})
        # a daemon of this test's own: its exit status is known
        restart_daemon()
        virsh("create", xmlfile("sx-keep"))
        virsh("define", xmlfile("sx-exit", devs=[self.BDF]))
        keep = [p for p, n in vmm_procs().items() if n == "sx-keep"]
        by = {"stopping": 0, "next": 0}
        stops = []
        for r in range(ROUNDS):
            # SIGKILL in rounds 1, 5, 9...: also in the 3 rounds of --sanitize
            sig = signal.SIGKILL if r % 4 == 1 else signal.SIGTERM
            virsh("start", "sx-exit")
            self.assertEqual(driver_of(self.BDF), "vfio-pci", "round %d" % r)
            log0 = log_mark()
            virsh("shutdown", "sx-exit")
            # the VMM's QMP is closed at once, its process ends 1 s later
            # (the work waits for it, then gives the device back)
            time.sleep(0.05 + (r % 6) * 0.2)
            t0 = time.monotonic()
            rc = stop_daemon(sig)
            took = time.monotonic() - t0
            start_daemon()
            if sig == signal.SIGTERM:
                self.assertEqual(rc, 0, "round %d: the stopping daemon's exit status" % r)
                self.assertNotIn("stopping without cleanup", daemon_log(log0),
                                 "round %d" % r)
                self.assertLess(took, 15, "round %d: the stop took %.1f s" % (r, took))
                stops.append(took)
            virsh("vcpuinfo", "sx-keep", timeout=30)
            wait_for(lambda: virsh("domstate", "sx-exit").stdout.strip() == "shut off",
                     timeout=15, what="round %d: sx-exit shut off" % r)
            which = "next" if "domain sx-exit: cannot reconnect" in daemon_log(log0) \
                else "stopping"
            # the guest shut down: the next daemon that finished the stop
            # says so (from the status XML and the VMM's removed QMP
            # socket: it said "crashed" before).  A stop the stopping
            # daemon finished is a shut-off domain to the next, loaded from
            # its config, as for libvirtd: no reason kept.
            reason = virsh("domstate", "--reason", "sx-exit").stdout.strip()
            if which == "next":
                self.assertEqual(reason, "shut off (shutdown)",
                                 "round %d: finished by the next daemon" % r)
            else:
                self.assertIn(reason, ("shut off (shutdown)", "shut off (unknown)"),
                              "round %d: finished by the stopping daemon" % r)
            by[which] += 1
            self.assertEqual(driver_of(self.BDF), self.HOST,
                             "round %d: the device is back on its host driver" % r)
            check_world(self, ["sx-keep"])
            self.assertEqual([p for p, n in vmm_procs().items() if n == "sx-keep"], keep,
                             "round %d: the same VMM for sx-keep" % r)
            self.assertIn("sx-exit", virsh("list", "--all", "--name").stdout.split(),
                          "round %d: the persistent domain is still defined" % r)
        # the stops met the work: a stop 0.05 s after the EOF waits for
        # most of the VMM's 1 s exit
        self.assertGreater(max(stops), 0.5, "no stop waited for the exit work: %s" % stops)
        # the next daemon's path was taken (the SIGKILL rounds cut the
        # work short), not only the stopping daemon's
        # (a reboot in the same window: test_power's aarch64 case; q35
        # has no ACPI power button to reboot with)
        self.assertGreater(by["next"], 0, "no round left the exit to the next daemon: %s" % by)
        print("stop during a VMM's exit: %d rounds (SIGKILL every 4th), the exit finished "
              "by the stopping daemon in %d, by the next in %d; SIGTERM stops %.2f-%.2f s"
              % (ROUNDS, by["stopping"], by["next"], min(stops), max(stops)))


class ExitWithoutDaemon(Base):
    """A VMM that ends while no daemon runs: the next daemon's reconnect
    finds it gone and tells, as the live path does, a guest's shutdown
    ("shut off (shutdown)": StratoVirt removed its QMP socket, no panic in
    its log) from a crash ("shut off (crashed)": a panic logged, or killed
    with nothing cleaned up)."""

    def end_without_daemon(self, name, how, faults=None):
        set_faults({name: faults} if faults else {})
        virsh("create", xmlfile(name))
        pid = [p for p, n in vmm_procs().items() if n == name][0]
        stop_daemon(signal.SIGTERM)
        log0 = log_mark()
        try:
            self.assertTrue(pid_alive(pid), "the VMM outlives the daemon")
            how(pid)
            wait_for(lambda: not pid_alive(pid), timeout=20, what="%s's VMM gone" % name)
        finally:
            start_daemon()
        wait_for(lambda: "domain %s: cannot reconnect" % name in daemon_log(log0),
                 timeout=20, what="the reconnect of %s" % name)
        # a transient domain: gone from the list; its stop was told by the
        # event and the daemon log
        line = [ln for ln in daemon_log(log0).splitlines()
                if "domain %s: cannot reconnect" % name in ln][0]
        check_world(self, [])
        return line

    @standin_only("a panic on demand is a stand-in fault switch")
    def test_panic_while_no_daemon_runs(self):
        for r in range(max(2, ROUNDS // 5)):
            # 8 s after its start: the daemon's stop (0.25 s when idle)
            # comes first on a loaded machine too
            line = self.end_without_daemon("nd-panic", lambda pid: None,
                                           {"crash_after": 8})
            self.assertIn("the domain is shut off (crashed)", line, "round %d" % r)

    def test_kill_while_no_daemon_runs(self):
        for r in range(max(2, ROUNDS // 5)):
            line = self.end_without_daemon("nd-kill",
                                           lambda pid: os.kill(pid, signal.SIGKILL))
            self.assertIn("the domain is shut off (crashed)", line, "round %d" % r)

    @needs_version((2, 2, 0), "StratoVirt 2.1.0 leaves its QMP socket at an orderly exit and logs "
                   "nothing of it below log level info: with no daemon to see it, it cannot be "
                   "told from a kill (the next daemon says crashed)")
    def test_guest_poweroff_while_no_daemon_runs(self):
        for r in range(max(2, ROUNDS // 5)):
            line = self.end_without_daemon("nd-off", lambda pid: qmp_powerdown("nd-off"))
            self.assertIn("the domain is shut off (shutdown)", line, "round %d" % r)

    @unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
    @standin_only("a real StratoVirt cannot open the simulated PCI host's /dev/vfio")
    def test_persistent_domain_states_its_reason(self):
        """A persistent domain keeps the reason in domstate --reason, and
        its managed device is back on its host driver."""
        bdf = "0000:05:00.0"
        virsh("define", xmlfile("nd-pers", devs=[bdf]))
        for r, (how, faults, want) in enumerate((
                (lambda pid: qmp_powerdown("nd-pers"), None, "shut off (shutdown)"),
                (lambda pid: None, {"crash_after": 3}, "shut off (crashed)"),
                (lambda pid: os.kill(pid, signal.SIGKILL), None, "shut off (crashed)"))):
            set_faults({"nd-pers": faults} if faults else {})
            virsh("start", "nd-pers")
            self.assertEqual(driver_of(bdf), "vfio-pci", "round %d" % r)
            pid = [p for p, n in vmm_procs().items() if n == "nd-pers"][0]
            stop_daemon(signal.SIGTERM)
            how(pid)
            wait_for(lambda: not pid_alive(pid), timeout=15, what="the VMM gone")
            start_daemon()
            wait_for(lambda: virsh("domstate", "nd-pers").stdout.strip() == "shut off",
                     timeout=20, what="round %d: nd-pers shut off" % r)
            self.assertEqual(virsh("domstate", "--reason", "nd-pers").stdout.strip(), want,
                             "round %d" % r)
            self.assertEqual(driver_of(bdf), "igb", "round %d" % r)
            check_world(self, [])


class ResetWithOnRebootDestroy(Base):
    """<on_reboot>destroy</on_reboot>: a reset ends the domain.  The daemon
    is killed while it ends the VMM (the stand-in's exit_delay keeps the
    process 1 s after its SIGTERM): the next daemon finishes the destroy,
    a shutdown ("shut off (crashed)" before the fix)."""

    @standin_only("a VMM slow to exit on demand is a stand-in fault switch")
    def test_kill_while_a_reset_ends_the_domain(self):
        xml = domxml("rd-x").replace("</vcpu>", "</vcpu><on_reboot>destroy</on_reboot>")
        path = os.path.join(SB, "rd-x.xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("define", path)
        by = {"stopping": 0, "next": 0}
        for r in range(max(3, ROUNDS // 4)):
            set_faults({"rd-x": {"exit_delay": 1.0}})
            virsh("start", "rd-x")
            pid = [p for p, n in vmm_procs().items() if n == "rd-x"][0]
            log0 = log_mark()
            virsh("reset", "rd-x")
            time.sleep(0.05 + (r % 3) * 0.2)
            stop_daemon(signal.SIGKILL)
            start_daemon()
            wait_for(lambda: virsh("domstate", "rd-x").stdout.strip() == "shut off",
                     timeout=20, what="round %d: rd-x shut off" % r)
            self.assertFalse(pid_alive(pid), "round %d: its VMM ended" % r)
            which = "next" if "domain rd-x: cannot reconnect" in daemon_log(log0) \
                else "stopping"
            reason = virsh("domstate", "--reason", "rd-x").stdout.strip()
            if which == "next":
                self.assertEqual(reason, "shut off (shutdown)", "round %d" % r)
            else:
                self.assertIn(reason, ("shut off (shutdown)", "shut off (unknown)"),
                              "round %d" % r)
            by[which] += 1
            check_world(self, [])
        self.assertGreater(by["next"], 0, "no round left the destroy to the next daemon: %s" % by)
        print("reset with on_reboot destroy, daemon killed meanwhile: finished by the "
              "killed daemon in %d rounds, by the next in %d" % (by["stopping"], by["next"]))


class UnplugWithoutDaemon(Base):
    """Defect 8, across a restart: a DEVICE_DELETED that comes while the
    daemon stops, or while none runs, is not lost.  The detach of a managed
    host device times out (the guest lets go late: the stand-in's
    unplug_delay, 10 s being the detach's wait), the daemon stops, the
    guest releases the device, a daemon starts: its reconnect asks the VMM
    (device_del again: no such device) and finishes the removal as the live
    DEVICE_DELETED does.  Before the fix the device stayed in the live XML
    and on vfio-pci until the domain stopped."""

    BDF = "0000:05:00.0"
    HOST = "igb"

    @standin_only("a guest that releases a device late is a stand-in fault switch, and a real "
                  "StratoVirt cannot open the simulated PCI host's /dev/vfio")
    @unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
    def test_device_deleted_while_no_daemon_runs(self):
        path = os.path.join(SB, "ud-dev.xml")
        with open(path, "w") as f:
            f.write(hostdev_xml(self.BDF))
        # (how the daemon goes, when the guest lets go: 14.5 s after the
        # detach began the daemon stops (the event 1.5 s later comes to no
        # one), or 16 s after, around the event itself.  The guest lets go
        # 6 s after the detach's 10 s, so that the device is still there
        # when the test looks on a loaded machine; 2 s were tight)
        for r, (sig, delay, stop_at) in enumerate(((signal.SIGTERM, 16, 14.5),
                                                  (signal.SIGKILL, 16, 14.5),
                                                  (signal.SIGTERM, 16.2, 16.0))):
            set_faults({"ud-x": {"unplug_delay": delay}})
            virsh("create", xmlfile("ud-x", devs=[self.BDF]))
            self.assertEqual(driver_of(self.BDF), "vfio-pci", "round %d" % r)
            t0 = time.monotonic()
            p = virsh("detach-device", "ud-x", path, "--live", check=False, timeout=60)
            self.assertIn("did not release hostdev0", p.stderr, "round %d" % r)
            self.assertIn("<hostdev", virsh("dumpxml", "ud-x").stdout, "round %d" % r)
            time.sleep(max(0, stop_at - (time.monotonic() - t0)))
            stop_daemon(sig)
            # the guest lets go while no daemon runs
            time.sleep(max(0, delay + 0.5 - (time.monotonic() - t0)))
            start_daemon()
            wait_for(lambda: driver_of(self.BDF) == self.HOST, timeout=20,
                     what="round %d: %s back on %s" % (r, self.BDF, self.HOST))
            wait_for(lambda: "<hostdev" not in virsh("dumpxml", "ud-x").stdout, timeout=10,
                     what="round %d: the host device to leave the live XML" % r)
            self.assertNotIn("hostdev0", virsh("dumpxml", "ud-x").stdout, "round %d" % r)
            # nothing to give back twice: the device is free for another
            # domain while ud-x runs on
            virsh("create", xmlfile("ud-y", devs=[self.BDF]))
            self.assertEqual(driver_of(self.BDF), "vfio-pci", "round %d" % r)
            check_world(self, ["ud-x", "ud-y"])
            virsh("destroy", "ud-x")
            self.assertEqual(driver_of(self.BDF), "vfio-pci", "round %d: still ud-y's" % r)
            virsh("destroy", "ud-y")
            self.assertEqual(driver_of(self.BDF), self.HOST, "round %d" % r)


class UnplugPendingAcrossRestart(Base):
    """An unplug the guest has not finished stays pending across a daemon
    restart: the next daemon asks StratoVirt again (device_del), which
    still has the device (real 2.5.0 accepts the request again, the
    stand-in's root port says the guest is still on it), and the disk
    stays in the live XML, the VMM untouched."""

    @needs_version((2, 2, 0), "StratoVirt 2.1.0 refuses the hot-plugged disk's blockdev-add "
                   "(unknown field `aio`)")
    def test_a_pending_unplug_stays_pending(self):
        make_images(IMG, ("d1.raw",))
        path = rootports_xmlfile("up-x")
        # (the real binaries' tiny guest never lets go)
        set_faults({"up-x": {"ignore_unplug": True}})
        virsh("create", path)
        virsh("attach-disk", "up-x", os.path.join(IMG, "d1.raw"), "vdb")
        alias = re.search(r"dev='vdb' bus='virtio'/>\s*<alias name='([^']+)'",
                          virsh("dumpxml", "up-x").stdout).group(1)
        virsh("detach-disk", "up-x", "vdb")
        self.assertIn("dev='vdb'", virsh("dumpxml", "up-x").stdout)
        with open(os.path.join(STATE, "up-x.xml")) as f:
            self.assertIn("<unplug alias='%s'/>" % alias, f.read())
        pid = [p for p, n in vmm_procs().items() if n == "up-x"][0]
        log0 = log_mark()
        restart_daemon()
        wait_for(lambda: "domain up-x: the unplug of %s is still pending" % alias
                 in daemon_log(log0), timeout=20, what="the reconnect to ask about vdb")
        self.assertIn("dev='vdb'", virsh("dumpxml", "up-x").stdout)
        check_world(self, ["up-x"])
        self.assertEqual([p for p, n in vmm_procs().items() if n == "up-x"], [pid])
        with open(os.path.join(STATE, "up-x.xml")) as f:
            self.assertIn("<unplug alias='%s'/>" % alias, f.read())
        virsh("destroy", "up-x")

    @standin_only("a guest that cancels an unplug at a second button press is a stand-in "
                  "switch (the real binaries' tiny guest never lets go)")
    def test_a_restart_right_after_a_detach_does_not_cancel_it(self):
        """StratoVirt 2.1 accepts a second device_del, pressing the slot's
        attention button again, and a Linux guest takes a second press
        within 5 s of the first as "cancel".  A daemon killed right after
        a detach: the next one asks again only 6 s after the request, so
        the guest's unplug goes through (its DEVICE_DELETED reaches the
        new daemon) and the disk leaves the live XML.  Before the fix the
        next daemon asked at once, the guest cancelled and the disk stayed
        attached with its unplug pending for good."""
        make_images(IMG, ("d2.raw",))
        path = rootports_xmlfile("up-c")
        set_faults({"up-c": {"pciehp_guest": True}})
        rounds = 5 if LONG else 2
        for r in range(rounds):
            virsh("create", path)
            virsh("attach-disk", "up-c", os.path.join(IMG, "d2.raw"), "vdb")
            alias = re.search(r"dev='vdb' bus='virtio'/>\s*<alias name='([^']+)'",
                              virsh("dumpxml", "up-c").stdout).group(1)
            pid = [p for p, n in vmm_procs().items() if n == "up-c"][0]
            detach = subprocess.Popen(["virsh", "-c", URI, "detach-disk", "up-c", "vdb"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # the request is in the status XML: the daemon dies under the wait
            wait_for(lambda: "<unplug alias='%s'/>" % alias in
                     open(os.path.join(STATE, "up-c.xml")).read(),
                     timeout=10, what="round %d: the pending unplug recorded" % r)
            time.sleep(0.3)
            stop_daemon(signal.SIGKILL)
            detach.wait(30)
            start_daemon()
            wait_for(lambda: "dev='vdb'" not in virsh("dumpxml", "up-c").stdout,
                     timeout=20 * SLOW, what="round %d: vdb unplugged" % r)
            with open(os.path.join(STATE, "up-c.xml")) as f:
                self.assertNotIn("<unplug", f.read(), "round %d" % r)
            with open(os.path.join(STATE, "up-c.xml")) as f:
                vmmlog = re.search(r"<log path='([^']+)'", f.read()).group(1)
            with open(vmmlog, errors="replace") as f:
                self.assertNotIn("unplug of %s cancelled" % alias, f.read(), "round %d" % r)
            check_world(self, ["up-c"])
            self.assertEqual([p for p, n in vmm_procs().items() if n == "up-c"], [pid])
            virsh("destroy", "up-c")
        print("a restart right after a detach: %d rounds, the unplug finished in each" % rounds)


def qmp_powerdown(name):
    """As a guest powering itself off while no daemon runs: StratoVirt's
    own QMP socket (from the domain's status XML) asked for
    system_powerdown, which on x86 q35 powers the guest off at once
    (2.1.0, which has none: quit, the same orderly exit)."""
    import socket
    with open(os.path.join(STATE, name + ".xml")) as f:
        path = re.search(r"<qmp path='([^']+)'", f.read()).group(1)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    f = s.makefile("rwb")
    f.readline()  # the greeting
    v = real_version()
    for cmd in ("qmp_capabilities",
                "quit" if v is not None and v < (2, 2, 0) else "system_powerdown"):
        f.write(json.dumps({"execute": cmd}).encode() + b"\n")
        f.flush()
        while True:
            ln = f.readline()
            if not ln or b'"return"' in ln or b'"error"' in ln:
                break
    s.close()


class DestroyWins(Base):
    """Defect 4: destroy kills first, then takes the job."""

    def test_destroy_a_stopped_vmm_polled_by_12_readonly_clients(self):
        worst = 0.0
        for r in range(ROUNDS):
            virsh("create", xmlfile("dw1", balloon=True, devs=pt_devs()))
            check_world(self, ["dw1"])
            check_device(self, "dw1", r)
            pid = [p for p, n in vmm_procs().items() if n == "dw1"][0]
            os.kill(pid, signal.SIGSTOP)
            stop = threading.Event()
            started = threading.Barrier(13)

            def poll():
                c = libvirt.openReadOnly(URI)
                d = c.lookupByName("dw1")
                started.wait()
                while not stop.is_set():
                    try:
                        d.memoryStats()
                    except libvirt.libvirtError:
                        time.sleep(0.01)
                c.close()
            ts = [threading.Thread(target=poll) for _ in range(12)]
            for t in ts:
                t.start()
            started.wait()
            time.sleep(0.3)  # every client is now waiting on the VMM or its job
            took = timed(lambda: virsh("destroy", "dw1", timeout=60))
            stop.set()
            for t in ts:
                t.join(30)
                self.assertFalse(t.is_alive(), "a read-only client is stuck")
            worst = max(worst, took)
            self.assertLess(took, 2.0 * SLOW, "round %d: destroy took %.2f s" % (r, took))
            self.assertFalse(pid_alive(pid))
            check_world(self, [])
            check_device(self, None, r)
        print("destroy under load: %d rounds, slowest %.3f s" % (ROUNDS, worst))

    @standin_only("a start held back on demand is a stand-in fault switch")
    def test_destroy_during_a_start(self):
        set_faults({"dw2": {"start_delay": 5}})
        virsh("define", xmlfile("dw2", devs=pt_devs()))
        virsh("create", xmlfile("dw-other"))
        worst = 0.0
        for r in range(ROUNDS):
            p = subprocess.Popen(["/usr/bin/virsh", "start", "dw2"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            wait_for(lambda: "dw2" in vmm_procs().values(), timeout=15,
                     what="the VMM of dw2 to be spawned")
            took = timed(lambda: virsh("destroy", "dw2", timeout=60))
            out, err = p.communicate(timeout=30)
            worst = max(worst, took)
            self.assertLess(took, 2.0 * SLOW, "round %d: destroy took %.2f s" % (r, took))
            self.assertNotEqual(p.returncode, 0, "the start went on after destroy")
            self.assertIn("interrupted by a destroy", err)
            self.assertEqual(virsh("domstate", "dw2").stdout.strip(), "shut off")
            check_world(self, ["dw-other"])
            check_device(self, None, r)
        print("destroy during a start: %d rounds, slowest %.3f s" % (ROUNDS, worst))


class EventFlood(Base):
    """Defect 5: a VMM flooding events stalls nobody and does not flood the
    log."""

    @standin_only("a VMM that floods events is a stand-in fault switch")
    def test_flooding_vmm_leaves_clients_responsive(self):
        rounds = ROUNDS
        set_faults({"fl2": {"flood_events": int(5000 / SLOW)}})
        virsh("create", xmlfile("calm", devs=pt_devs()))
        logsize = log_mark()
        worst = 0.0
        for r in range(rounds):
            done = threading.Event()
            lat = []

            def probe():
                while not done.is_set():
                    lat.append(timed(lambda: virsh("version", timeout=30)))
                    lat.append(timed(lambda: virsh("dominfo", "calm", timeout=30)))
            t = threading.Thread(target=probe)
            t.start()
            virsh("create", xmlfile("fl2"), timeout=60)
            time.sleep(0.5)  # the flood is being read
            done.set()
            t.join(60)
            worst = max([worst] + lat)
            self.assertLess(max(lat), 3.0 * SLOW, "round %d: a client waited %.2f s" % (r, max(lat)))
            check_world(self, ["calm", "fl2"])
            check_device(self, "calm", r)
            virsh("destroy", "fl2")
            check_world(self, ["calm"])
        # the sandbox logs the driver at debug level; what a host logs by
        # default are the warnings: a few, not one per event
        warnings = [x for x in daemon_log(logsize).splitlines() if ": warning :" in x]
        self.assertLess(len(warnings), 2 * rounds + 10,
                        "%d warnings, e.g. %s" % (len(warnings), warnings[:3]))
        print("event flood: %d rounds of %d events, slowest client call %.3f s, "
              "%d warnings logged" % (rounds, int(5000 / SLOW), worst, len(warnings)))


class ListDuringAStart(Base):
    """Defect 6: virsh list, and queries of other domains, do not wait for
    a start that waits: on its VMM (StratoVirt slow to serve QMP; the
    pidfile wait of the defect is gone with the handshake libvirt's
    process code does before exec), or on its devices (a slow vfio-pci
    bind).  Each round checks that the start really was held, longer
    than the bound on list."""

    HOLD = 3.0
    BDF = "0000:05:00.0"

    def tearDown(self):
        for f in os.listdir(SB):
            if f.startswith("slow-bind-"):
                os.unlink(os.path.join(SB, f))
        super().tearDown()

    def rounds_of(self, name, devs=(), holding=None):
        """@holding(since): true once the start is held (@since: the
        simulated PCI host's log length before it)"""
        virsh("create", xmlfile("pw-other", devs=pt_devs()))
        try:
            return self.rounds_with_other(name, devs, holding)
        finally:
            virsh("destroy", name, check=False)
            virsh("destroy", "pw-other", check=False)

    def rounds_with_other(self, name, devs, holding):
        worst = 0.0
        rounds = ROUNDS
        for r in range(rounds):
            t0 = time.monotonic()
            sim0 = len(simpci_log())
            p = subprocess.Popen(["/usr/bin/virsh", "create", xmlfile(name, devs=devs)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # the start is held now (a fixed sleep could time list after
            # the hold on a loaded machine, and test nothing)
            wait_for(lambda: holding(sim0), timeout=15 * SLOW,
                     what="round %d: the start of %s to be held" % (r, name))
            took = timed(lambda: virsh("list", timeout=30))
            took = max(took, timed(lambda: virsh("dominfo", "pw-other", timeout=30)))
            worst = max(worst, took)
            out, err = p.communicate(timeout=60)
            held = time.monotonic() - t0
            self.assertEqual(p.returncode, 0, err)
            self.assertGreater(held, self.HOLD - 0.2, "round %d: the start was not held" % r)
            # (0.06 s when idle; the defect held them for the rest of the
            # 3 s hold, 2.5 s and more)
            self.assertLess(took, 1.5 * SLOW, "round %d: virsh list took %.2f s" % (r, took))
            check_world(self, ["pw-other", name])
            check_device(self, "pw-other", r)
            virsh("destroy", name)
        check_world(self, ["pw-other"])
        return rounds, worst

    @standin_only("a VMM slow to serve QMP on demand is a stand-in fault switch")
    def test_list_while_a_start_waits_for_its_vmm(self):
        set_faults({"pw1": {"start_delay": self.HOLD}})
        # its VMM runs: the start waits for its QMP
        rounds, worst = self.rounds_of(
            "pw1", holding=lambda since: "pw1" in vmm_procs().values())
        print("list during a start waiting for its VMM: %d rounds, slowest %.3f s"
              % (rounds, worst))

    @standin_only("a slow vfio-pci bind is a fault switch of the simulated PCI host")
    @unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
    def test_destroy_while_a_start_binds_its_device(self):
        """destroy of a domain whose start binds its device (without the
        domain lock): it succeeds once the bind is done, for a persistent
        and for a transient domain; the start gives up before it launches
        a VMM, and the device is back on its host driver.  Found by
        review: the start went on to exec a VMM with the device, and the
        destroy of a transient domain said "Domain not found"."""
        with open(os.path.join(SB, "slow-bind-" + self.BDF), "w") as f:
            f.write(str(self.HOLD))
        virsh("define", xmlfile("pd-p", devs=[self.BDF]))
        rounds = 5 if LONG else 3
        for r in range(rounds):
            for name, cmd in (("pd-p", ["start", "pd-p"]),
                              ("pd-t", ["create", xmlfile("pd-t", devs=[self.BDF])])):
                log0 = log_mark()
                sim0 = len(simpci_log())
                p = subprocess.Popen(["/usr/bin/virsh", "-c", URI] + cmd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                # the start is binding (a fixed sleep could destroy a
                # domain a slow virsh had not started yet)
                wait_for(lambda: "slow bind %s" % self.BDF in simpci_log(sim0), timeout=15 * SLOW,
                         what="round %d: the start of %s to bind %s" % (r, name, self.BDF))
                took = timed(lambda: virsh("destroy", name, timeout=60))
                out, err = p.communicate(timeout=60)
                self.assertNotEqual(p.returncode, 0, "round %d: %s started" % (r, name))
                self.assertIn("interrupted by a destroy", err, "round %d" % r)
                # the rest of the bind, then the give-back (the simulated
                # host slows the host driver's probe as much)
                self.assertLess(took, 2 * self.HOLD + 2 * SLOW,
                                "round %d: destroy took %.1f s" % (r, took))
                self.assertNotIn("domain %s: VMM pid" % name, daemon_log(log0),
                                 "round %d: the start launched a VMM after the destroy" % r)
                self.assertEqual(driver_of(self.BDF), "igb", "round %d: %s" % (r, name))
                check_world(self, [])
        virsh("undefine", "pd-p")
        print("destroy while a start binds its device: %d rounds each, persistent and "
              "transient" % rounds)

    @standin_only("a slow vfio-pci bind is a fault switch of the simulated PCI host")
    @unittest.skipUnless(SIM, "needs the sandbox's simulated PCI host (root)")
    def test_list_while_a_start_binds_its_device(self):
        with open(os.path.join(SB, "slow-bind-" + self.BDF), "w") as f:
            f.write(str(self.HOLD))
        rounds, worst = self.rounds_of(
            "pw2", devs=[self.BDF],
            holding=lambda since: "slow bind %s" % self.BDF in simpci_log(since))
        self.assertEqual(driver_of(self.BDF), "igb")
        print("list during a start binding its device: %d rounds, slowest %.3f s"
              % (rounds, worst))


if __name__ == "__main__":
    main()
