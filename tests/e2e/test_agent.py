#!/usr/bin/python3
"""The guest agent through stock virsh and python-libvirt, against the
real qemu-ga.

What is real: the driver's agent client (src/stratovirt/stratovirt_agent.c)
and API, the channel on StratoVirt's command line (a unix socket chardev
and a virtserialport whose id is the guest's port name), Debian's qemu-ga
(qemu-guest-agent) answering every command with its own code.

What is sandboxed: there is no guest.  The stand-in VMM relays its port to
a qemu-ga it starts (--method=unix-listen) in private mount, UTS and
network namespaces (tests/standin/guest-agent): a tmpfs root whose only
real filesystem is the guest's own ext4 image on a loop device (what
domfsfreeze freezes), tap interfaces with the domain NICs' MACs and
addresses from 192.0.2.0/24, the host name guest-<domain>, and scripts of
ours for /sbin/shutdown (power requests go back to the stand-in, which
powers off or resets as StratoVirt does for a guest), chpasswd and
hwclock (which record their input), with CAP_SYS_TIME and CAP_SYS_BOOT
dropped (guest-set-time with a time fails with EPERM, never setting the
host's clock).

On a real StratoVirt nothing in the tiny test kernel runs qemu-ga: the
cases that need an agent are skipped there (saying so); what runs checks
the command line is accepted (2.4.0, 2.5.0), the socket exists, and the
agent is reported not connected; 2.1.0 (no virtserialport) is refused by
name.
"""

import os
import re
import shutil
import socket
import threading
import time
import unittest

import libvirt

from svtest import (SB, URI, virsh, main, wait_for, restart_daemon, REAL,
                    real_version, standin_only, SLOW)
import test_lifecycle as tl

CHANNEL = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
           "</channel>")
HAVE_QGA = os.access("/usr/sbin/qemu-ga", os.X_OK)
ROOT = os.geteuid() == 0
MODERN = not REAL or (real_version() or (0,)) >= (2, 2, 0)


def nic(n):
    return ("<interface type='network'><source network='default'/>"
            "<mac address='52:54:00:a9:00:%02x'/><model type='virtio'/></interface>" % n)


def define(name, extra=CHANNEL + nic(1), start=True, **kw):
    virsh("define", tl.write(os.path.join(SB, name + ".xml"), tl.domxml(name, extra=extra, **kw)))
    if start:
        virsh("start", name)


def undefine(name):
    virsh("destroy", name, check=False)
    virsh("undefine", name, check=False)


def qga_pid(name):
    """The qemu-ga the stand-in VMM of @name runs as its guest's agent"""
    vmm = tl.vmm_pid(name)
    for ent in os.listdir("/proc"):
        if not ent.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % ent) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == vmm and comm == "qemu-ga":
            return int(ent)
    return None


def guest_file(name, path):
    pid = qga_pid(name)
    try:
        with open("/proc/%d/root%s" % (pid, path)) as f:
            return f.read()
    except (OSError, TypeError):
        return ""


def refused(*args):
    p = virsh(*args, check=False)
    return p.returncode, p.stderr.strip()


class AgentEvents:
    """Agent lifecycle and reboot events, as a python-libvirt client sees them"""

    def __init__(self):
        libvirt.virEventRegisterDefaultImpl()
        self.conn = libvirt.open(URI)
        self.events = []
        self.lock = threading.Lock()
        self.stop = False
        self.cbs = [
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, self._agent, None),
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._reboot, None),
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._life, None),
        ]
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            libvirt.virEventRunDefaultImpl()

    def _agent(self, conn, dom, state, reason, opaque):
        with self.lock:
            self.events.append((dom.name(), "agent", state, reason))

    def _reboot(self, conn, dom, opaque):
        with self.lock:
            self.events.append((dom.name(), "reboot", None, None))

    def _life(self, conn, dom, event, detail, opaque):
        with self.lock:
            self.events.append((dom.name(), "lifecycle", event, detail))

    def seen(self, name, kind, state=None, reason=None, after=0):
        with self.lock:
            return any(n == name and k == kind and (state is None or s == state) and
                       (reason is None or r == reason)
                       for n, k, s, r in self.events[after:])

    def mark(self):
        with self.lock:
            return len(self.events)

    def wait(self, name, kind, state=None, reason=None, after=0, timeout=20):
        wait_for(lambda: self.seen(name, kind, state, reason, after), timeout,
                 what="%s event %s/%s of %s" % (kind, state, reason, name))

    def close(self):
        for cb in self.cbs:
            try:
                self.conn.domainEventDeregisterAny(cb)
            except libvirt.libvirtError:
                pass  # the daemon was restarted under it
        self.stop = True
        libvirt.virEventAddTimeout(0, lambda *a: None, None)
        self.thread.join(5)
        self.conn.close()


CONNECTED = libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED
DISCONNECTED = libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_DISCONNECTED


@unittest.skipUnless(tl.STATE, "the agent tests need the system instance (root sandbox)")
class ChannelConfig(unittest.TestCase):
    """What runs on every VMM: the channel's XML, its command line, the
    refusals"""

    def test_channel_command_line_socket_and_live_xml(self):
        if not MODERN:
            self.skipTest("on StratoVirt %s: no virtserialport (refused, next case)"
                          % ".".join(map(str, real_version())))
        name = "agent-cfg"
        define(name, extra=CHANNEL)
        try:
            with open("/proc/%d/cmdline" % tl.vmm_pid(name)) as f:
                argv = f.read().split("\0")
            self.assertIn("virtserialport,id=org.qemu.guest_agent.0,chardev=charchannel0", argv)
            sock = [a for a in argv if a.startswith("socket,id=charchannel0,path=")]
            self.assertEqual(len(sock), 1, argv)
            path = re.search(r"path=([^,]+)", sock[0]).group(1)
            self.assertTrue(path.endswith("/channel0.sock"), path)
            self.assertTrue(stat_is_socket(path), path)
            xml = virsh("dumpxml", name).stdout
            self.assertIn("<source mode='bind' path='%s'/>" % path, xml)
            # the inactive definition keeps no generated path
            self.assertNotIn(path, virsh("dumpxml", "--inactive", name).stdout)
        finally:
            undefine(name)

    def test_old_stratovirt_refused_by_name(self):
        if MODERN:
            self.skipTest("StratoVirt %s has virtserialport" %
                          (".".join(map(str, real_version())) if REAL else "stand-in 2.5.0"))
        name = "agent-old"
        define(name, extra=CHANNEL, start=False)
        try:
            rc, err = refused("start", name)
            self.assertNotEqual(rc, 0)
            self.assertIn("has no virtserialport device", err)
        finally:
            undefine(name)

    def test_unsupported_channels_refused(self):
        cases = [
            ("<channel type='pty'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
             "use <channel type='unix'>"),
            ("<channel type='unix'><source mode='bind' path='/tmp/fwd.sock'/>"
             "<target type='guestfwd' address='10.0.2.1' port='4600'/></channel>",
             "only a virtio target"),
            ("<channel type='unix'><source mode='connect' path='/tmp/x.sock'/>"
             "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
             "use <source mode='bind'/>"),
        ]
        for xml, msg in cases:
            with self.subTest(msg):
                p = tl.write(os.path.join(SB, "agent-bad.xml"), tl.domxml("agent-bad", extra=xml))
                rc, err = refused("define", p)
                self.assertNotEqual(rc, 0)
                self.assertIn(msg, err)
                self.assertIn("unsupported configuration", err)
        p = tl.write(os.path.join(SB, "agent-bad.xml"),
                     tl.domxml("agent-bad", machine="microvm", extra=CHANNEL))
        rc, err = refused("define", p)
        self.assertIn("microvm's virtio-serial has one port", err)

    def test_no_channel_refused_as_libvirt_does(self):
        name = "agent-none"
        define(name, extra="")
        try:
            conn = libvirt.open(URI)
            dom = conn.lookupByName(name)
            for call in (lambda: dom.getTime(),
                         lambda: dom.interfaceAddresses(
                             libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT),
                         lambda: dom.fsFreeze(),
                         lambda: dom.setUserPassword("guest", "x", 0),
                         lambda: dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT)):
                with self.assertRaises(libvirt.libvirtError) as cm:
                    call()
                self.assertEqual(cm.exception.get_error_code(),
                                 libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED)
                self.assertIn("no guest agent channel", str(cm.exception))
                self.assertIn("name='org.qemu.guest_agent.0'", str(cm.exception))
            rc, err = refused("domifaddr", "--source", "agent", name)
            self.assertIn("use --source lease", err)
            rc, err = refused("domhostname", name)
            self.assertIn("no guest agent channel", err)
            conn.close()
        finally:
            undefine(name)

    @unittest.skipUnless(MODERN, "no virtserialport on this StratoVirt")
    def test_agent_down_is_reported_unresponsive(self):
        """No agent answers (the stand-in's no_agent fault, or a real
        StratoVirt's tiny guest, which runs none): the channel stays
        disconnected and each call says the agent is not connected"""
        name = "agent-down"
        if not REAL:
            tl.set_faults({name: {"no_agent": True}})
        try:
            define(name)
            # the driver's probes run unanswered
            time.sleep(3)
            xml = virsh("dumpxml", name).stdout
            self.assertIn("state='disconnected'", xml)
            t0 = time.monotonic()
            rc, err = refused("domtime", name)
            self.assertNotEqual(rc, 0)
            self.assertIn("guest agent is not connected", err)
            # at once, not after the agent's 10 s timeout
            self.assertLess(time.monotonic() - t0, min(5 * SLOW, 8),
                            "refused at once, not after a timeout")
            conn = libvirt.open(URI)
            with self.assertRaises(libvirt.libvirtError) as cm:
                conn.lookupByName(name).hostname()
            self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_AGENT_UNRESPONSIVE)
            conn.close()
            rc, err = refused("shutdown", "--mode", "agent", name)
            self.assertIn("guest agent is not connected", err)
            self.assertEqual(virsh("domstate", name).stdout.strip(), "running")
        finally:
            if not REAL:
                tl.set_faults({})
            undefine(name)


def stat_is_socket(path):
    import stat
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


@unittest.skipUnless(tl.STATE, "the agent tests need the system instance (root sandbox)")
@unittest.skipUnless(HAVE_QGA, "qemu-guest-agent is not installed (scripts/setup.sh installs it)")
@standin_only("no guest in the test kernel runs qemu-ga")
class RealAgent(unittest.TestCase):
    """Each API against Debian's qemu-ga"""

    @classmethod
    def setUpClass(cls):
        cls.ev = AgentEvents()
        cls.name = "agent-qga"
        define(cls.name)
        cls.ev.wait(cls.name, "agent", CONNECTED,
                    libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_DOMAIN_STARTED)

    @classmethod
    def tearDownClass(cls):
        undefine(cls.name)
        cls.ev.close()

    def dom(self):
        conn = libvirt.open(URI)
        self.addCleanup(conn.close)
        return conn.lookupByName(self.name)

    def test_channel_state_in_live_xml(self):
        xml = virsh("dumpxml", self.name).stdout
        self.assertRegex(xml, r"<target type='virtio' name='org.qemu.guest_agent.0' "
                              r"state='connected'/>")

    def test_domifaddr_source_agent(self):
        out = virsh("domifaddr", "--source", "agent", self.name).stdout
        self.assertRegex(out, r"eth0\s+52:54:00:a9:00:01\s+ipv4\s+192\.0\.2\.10/24")
        self.assertRegex(out, r"lo\s+00:00:00:00:00:00\s+ipv4\s+127\.0\.0\.1/8")
        ifaces = self.dom().interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT)
        self.assertEqual(ifaces["eth0"]["hwaddr"], "52:54:00:a9:00:01")
        self.assertIn({"type": libvirt.VIR_IP_ADDR_TYPE_IPV4, "addr": "192.0.2.10",
                       "prefix": 24}, ifaces["eth0"]["addrs"])

    def test_domhostname_and_guestinfo(self):
        self.assertEqual(virsh("domhostname", self.name).stdout.strip(), "guest-" + self.name)
        self.assertEqual(virsh("domhostname", "--source", "agent", self.name).stdout.strip(),
                         "guest-" + self.name)
        rc, err = refused("domhostname", "--source", "lease", self.name)
        self.assertIn("domifaddr --source lease", err)
        out = virsh("guestinfo", self.name).stdout
        self.assertRegex(out, r"hostname\s+: guest-agent-qga")
        self.assertRegex(out, r"os.id\s+: debian")
        self.assertRegex(out, r"timezone.name\s+: UTC")
        self.assertRegex(out, r"fs.0.mountpoint\s+: /data")
        self.assertRegex(out, r"fs.0.fstype\s+: ext4")
        self.assertRegex(out, r"if.count\s+: 2")
        self.assertRegex(out, r"user.count\s+: 0")
        info = self.dom().guestInfo(libvirt.VIR_DOMAIN_GUEST_INFO_OS |
                                    libvirt.VIR_DOMAIN_GUEST_INFO_HOSTNAME, 0)
        self.assertEqual(info["hostname"], "guest-" + self.name)
        self.assertEqual(info["os.id"], "debian")
        self.assertNotIn("fs.count", info)

    def test_domfsinfo_freeze_thaw(self):
        out = virsh("domfsinfo", self.name).stdout
        self.assertRegex(out, r"/data\s+loop\d+\s+ext4")
        # (virsh -q prints no "Froze N filesystem(s)": the counts are
        # checked through python-libvirt below)
        virsh("domfsfreeze", self.name)
        try:
            # qemu-ga itself says it is frozen: it refuses the rest
            rc, err = refused("domfsfreeze", self.name)
            self.assertNotEqual(rc, 0)
            self.assertIn("filesystems are frozen (domfsfreeze), so its agent refuses "
                          "'guest-fsfreeze-freeze'; thaw them first", err)
            rc, err = refused("domtime", self.name)
            self.assertIn("thaw them first", err)
        finally:
            virsh("domfsthaw", self.name)
        dom = self.dom()
        self.assertEqual(dom.fsFreeze(["/data"]), 1)
        self.assertEqual(dom.fsThaw(), 1)
        self.assertEqual(dom.fsThaw(), 0)

    def test_domtime(self):
        out = virsh("domtime", self.name).stdout
        t = int(re.search(r"Time: (\d+)", out).group(1))
        self.assertLess(abs(t - time.time()), 5)
        t = self.dom().getTime()
        self.assertLess(abs(t["seconds"] - time.time()), 5)
        self.assertLess(t["nseconds"], 10 ** 9)
        virsh("domtime", "--sync", self.name)
        self.assertIn("hwclock -s", guest_file(self.name, "/run/hwclock.log"))
        # the guest refuses to set its clock (CAP_SYS_TIME is dropped in the
        # sandbox): its own error comes back
        rc, err = refused("domtime", "--time", "1700000000", self.name)
        self.assertNotEqual(rc, 0)
        self.assertIn("guest agent failed 'guest-set-time'", err)
        self.assertIn("Operation not permitted", err)

    def test_set_user_password(self):
        virsh("set-user-password", self.name, "guest", "s3cret")
        self.assertIn("guest:s3cret", guest_file(self.name, "/run/chpasswd.log"))
        self.dom().setUserPassword("guest", "$6$salt$hash", libvirt.VIR_DOMAIN_PASSWORD_ENCRYPTED)
        self.assertIn("chpasswd -e guest:$6$salt$hash", guest_file(self.name, "/run/chpasswd.log"))

    def test_one_command_in_flight(self):
        """Clients in parallel: each gets its own answer"""
        errors = []
        results = {}

        def ask(i):
            try:
                conn = libvirt.open(URI)
                dom = conn.lookupByName(self.name)
                for _ in range(5):
                    if i % 2:
                        results.setdefault(i, []).append(dom.hostname())
                    else:
                        results.setdefault(i, []).append(dom.getTime()["seconds"])
                conn.close()
            except libvirt.libvirtError as e:
                errors.append(str(e))

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        for i, vals in results.items():
            for v in vals:
                if i % 2:
                    self.assertEqual(v, "guest-" + self.name)
                else:
                    self.assertLess(abs(v - time.time()), 30)

    def test_paused_guest_refused(self):
        virsh("suspend", self.name)
        try:
            rc, err = refused("domtime", self.name)
            self.assertIn("resume it first", err)
        finally:
            virsh("resume", self.name)

    def test_zz_agent_gone_then_back(self):
        """The agent dies: disconnected event, unresponsive errors; the
        guest reboots (virsh reset) and its agent comes back: connected"""
        mark = self.ev.mark()
        os.kill(qga_pid(self.name), 9)
        self.ev.wait(self.name, "agent", DISCONNECTED,
                     libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL, after=mark)
        self.assertIn("state='disconnected'", virsh("dumpxml", self.name).stdout)
        with self.assertRaises(libvirt.libvirtError) as cm:
            self.dom().getTime()
        self.assertEqual(cm.exception.get_error_code(), libvirt.VIR_ERR_AGENT_UNRESPONSIVE)
        mark = self.ev.mark()
        virsh("reset", self.name)
        self.ev.wait(self.name, "agent", CONNECTED,
                     libvirt.VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL, after=mark)
        self.assertEqual(virsh("domhostname", self.name).stdout.strip(), "guest-" + self.name)

    def test_zz_daemon_restart_reopens_the_agent(self):
        restart_daemon()
        wait_for(lambda: virsh("domhostname", self.name, check=False).stdout.strip() ==
                 "guest-" + self.name, 20, step=0.5,
                 what="the agent to answer after the daemon restart")
        self.assertIn("state='connected'", virsh("dumpxml", self.name).stdout)
        # the events of this class's connection died with the daemon
        type(self).ev.close()
        type(self).ev = AgentEvents()


@unittest.skipUnless(tl.STATE, "the agent tests need the system instance (root sandbox)")
@unittest.skipUnless(HAVE_QGA, "qemu-guest-agent is not installed (scripts/setup.sh installs it)")
@standin_only("no guest in the test kernel runs qemu-ga")
class AgentPower(unittest.TestCase):
    """shutdown and reboot --mode agent: the guest's own"""

    def setUp(self):
        self.ev = AgentEvents()
        self.addCleanup(self.ev.close)

    def start(self, name):
        define(name)
        self.addCleanup(undefine, name)
        self.ev.wait(name, "agent", CONNECTED)

    def test_reboot_mode_agent(self):
        name = "agent-reboot"
        self.start(name)
        pid = tl.vmm_pid(name)
        mark = self.ev.mark()
        virsh("reboot", "--mode", "agent", name)
        self.ev.wait(name, "reboot", after=mark)
        # the guest's agent went down with it and answers again
        self.ev.wait(name, "agent", CONNECTED, after=mark, timeout=30)
        self.assertEqual(tl.vmm_pid(name), pid, "a guest reboot keeps its VMM")
        self.assertEqual(virsh("domstate", name).stdout.strip(), "running")

    def test_shutdown_mode_agent(self):
        name = "agent-shutdown"
        self.start(name)
        mark = self.ev.mark()
        virsh("shutdown", "--mode", "agent", name)
        self.ev.wait(name, "lifecycle", libvirt.VIR_DOMAIN_EVENT_STOPPED,
                     libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN, after=mark)
        self.assertEqual(virsh("domstate", "--reason", name).stdout.strip(),
                         "shut off (shutdown)")

    def test_python_shutdown_agent(self):
        """python-libvirt's shutdownFlags with the agent flag"""
        name = "agent-pyshut"
        self.start(name)
        conn = libvirt.open(URI)
        self.addCleanup(conn.close)
        conn.lookupByName(name).shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT)
        wait_for(lambda: virsh("domstate", name).stdout.strip() == "shut off", 20,
                 what="the guest to power off")


if __name__ == "__main__":
    main()
