#!/usr/bin/python3
"""The serial port's <log file> (what Nova writes for 'nova console-log'):
the guest's serial output lands in the file, which is rotated, while the
pty in the live XML stays usable with virsh console; <log append>; a
daemon restart in between; the refusal on a virtio console.  Runs on the
stand-in and on each real StratoVirt (./run test)."""

import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import libvirt

from svtest import (SB, URI, virsh, main, wait_for, restart_daemon, make_images,
                    REAL, standin_only, status_pid, pid_alive, real_version, SLOW)

OLD = real_version() is not None and real_version() < (2, 2, 0)
NEEDS_2_2 = unittest.skipIf(OLD, "on StratoVirt 2.1.0 a serial <log file> is refused "
                                 "(test_log_refused_on_2_1)")

IMG = os.path.join(SB, "images")
LOGDIR = os.path.join(SB, "console-logs")
# what each guest prints on its serial port: the stand-in's boot banner,
# the project's tiny microvm kernel on a real StratoVirt
BANNER = "tiny guest (microvm): halted" if REAL else "login:"
# the real binaries are slow to run a guest on this nested host
BOOT_WAIT = 120 if REAL else 10


def kernel():
    """The tiny microvm kernel, padded to 1 MiB: a real StratoVirt reads a
    whole page table's worth past a 73-byte image ('failed to fill whole
    buffer')."""
    make_images(IMG, ("vmlinux-microvm", "initrd.img"))
    padded = os.path.join(IMG, "vmlinux-microvm-1m")
    if not os.path.exists(padded):
        shutil.copy(os.path.join(IMG, "vmlinux-microvm"), padded)
        os.truncate(padded, 1 << 20)
    return padded


def domxml(name, log=None, append=None, console="serial"):
    logattr = ""
    if log:
        logattr = "<log file='%s'%s/>" % (log, " append='%s'" % append if append else "")
    if console == "serial":
        dev = "<serial type='pty'>%s<target port='0'/></serial>" % logattr
    else:
        dev = "<console type='pty'>%s<target type='virtio' port='0'/></console>" % logattr
    return """<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='microvm'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{img}/initrd.img</initrd>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <devices>{dev}<memballoon model='none'/></devices>
</domain>
""".format(name=name, kernel=kernel(), img=IMG, dev=dev)


def write(name, text):
    path = os.path.join(SB, name + ".xml")
    with open(path, "w") as f:
        f.write(text)
    return path


def set_faults(faults):
    import json
    with open(os.path.join(SB, "standin-faults.json"), "w") as f:
        json.dump(faults, f)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def live_pty(name):
    xml = virsh("dumpxml", name).stdout
    m = re.search(r"<serial type='pty'>\s*<source path='(/dev/pts/\d+)'/>\s*<log file='([^']+)'",
                  xml)
    return m.group(1) if m else None, xml


def console_read(dom, want, timeout, send=None, retry=False):
    """What a console session (virsh console's API) reads until @want."""
    st = dom.connect().newStream(0)
    try:
        dom.openConsole(None, st, 0)
    except libvirt.libvirtError:
        if not retry:
            raise
        return b""  # a stale pty while the daemon reconnects
    data = b""
    end = time.monotonic() + timeout
    if send:
        st.send(send)
    while want not in data and time.monotonic() < end:
        try:
            chunk = st.recv(1024)
        except libvirt.libvirtError:
            break
        if isinstance(chunk, bytes):
            data += chunk
        if chunk == -2:
            time.sleep(0.05)
    st.abort()
    return data


def virsh_console(name, typed, want=b""):
    """Stock virsh console on a pty of the test's (it wants a terminal):
    @typed once virsh is connected and its terminal is raw, then what it
    prints until @want comes back after that (15 s * SLOW at most), then
    Ctrl-] to leave.  Raw, not only 'Escape character' printed: virsh
    prints that before it makes the terminal raw, which flushes what was
    typed meanwhile (TCSAFLUSH) after the line discipline echoed it (a
    false echo), and would swallow the Ctrl-] too."""
    import pty
    import select
    import termios
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv("/usr/bin/virsh", ["virsh", "-c", URI, "console", "--force", name])
        finally:
            os._exit(127)
    slave = []

    def raw():
        # the terminal's modes, from its slave side (virsh's stdin); False
        # while they cannot be read (virsh gone: its own message says why)
        try:
            if not slave:
                path = os.readlink("/proc/%d/fd/0" % pid)
                if not path.startswith("/dev/pts/"):
                    return False
                slave.append(os.open(path, os.O_RDWR | os.O_NOCTTY))
            return not termios.tcgetattr(slave[0])[3] & (termios.ICANON | termios.ECHO)
        except (OSError, termios.error):
            return False

    out = b""
    end = time.monotonic() + 15 * SLOW
    sent = None   # len(out) when @typed was sent
    try:
        while time.monotonic() < end:
            if sent is not None and want in out[sent:]:
                break
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
            if sent is None and b"Escape character" in out and raw():
                try:
                    os.write(fd, typed)
                except OSError:
                    break
                sent = len(out)
    finally:
        for f in slave:
            os.close(f)
        try:
            os.write(fd, b"\x1d")
        except OSError:
            pass
        out += leave_console(pid, fd)
    return out.decode(errors="replace")


def leave_console(pid, fd):
    """Waits for the virsh console @pid that was sent Ctrl-] to end, and
    closes its terminal @fd; returns what it printed meanwhile."""
    import select
    out = b""
    # it leaves at once; kill it rather than hang the run if it does not
    gone = time.monotonic() + 10 * SLOW
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > gone:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
        try:
            if select.select([fd], [], [], 0.05)[0]:
                out += os.read(fd, 4096)
        except OSError:
            time.sleep(0.05)
    os.close(fd)
    return out


class ConsoleLog(unittest.TestCase):
    def setUp(self):
        os.makedirs(LOGDIR, exist_ok=True)
        set_faults({})

    def tearDown(self):
        set_faults({})

    @NEEDS_2_2
    def test_log_fills_and_pty_stays_usable(self):
        log = os.path.join(LOGDIR, "cl1.log")
        with open(log, "w") as f:
            f.write("an old run's output\n")
        virsh("create", write("cl1", domxml("cl1", log=log, append="off")))
        pid = status_pid("cl1")
        # StratoVirt's serial is a socket the daemon serves: the command
        # line says so, and no '-serial pty'
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        i = argv.index(b"-serial")
        self.assertRegex(argv[i + 1].decode(), r"^socket,path=.*/serial\.sock,server,nowait$")

        wait_for(lambda: BANNER in read(log), timeout=BOOT_WAIT,
                 what="the guest's serial output in the log file")
        # append='off': this run's output only
        self.assertNotIn("an old run's output", read(log))

        pty, xml = live_pty("cl1")
        self.assertIsNotNone(pty, xml)
        self.assertIn("<log file='%s' append='off'/>" % log, xml)

        conn = libvirt.open(URI)
        dom = conn.lookupByName("cl1")
        if REAL:
            # the tiny guest halts after its line: the console session
            # reads what it printed, kept in the pty while no one read it
            data = console_read(dom, BANNER.encode(), 10)
            self.assertIn(BANNER.encode(), data)
        else:
            # the stand-in's tty echoes: the pty goes both ways
            data = console_read(dom, b"hello-console\r\n", 10, send=b"hello-console\r")
            self.assertIn(b"hello-console\r\n", data)
            # a second session works the same (the pty does not hang up)
            data = console_read(dom, b"again\r\n", 10, send=b"again\r")
            self.assertIn(b"again\r\n", data)
            # and the log has the echo too: everything the guest wrote
            wait_for(lambda: "hello-console" in read(log), what="the echo in the log")

        # virsh console, the stock client, gets the same pty
        # virsh console, the stock client, on a terminal of its own:
        # on the stand-in what it types comes back through the guest's tty
        out = virsh_console("cl1", b"via-virsh\r" if not REAL else b"",
                            b"via-virsh" if not REAL else b"")
        self.assertIn("Connected to domain", out)
        if not REAL:
            self.assertIn("via-virsh", out)
            # the guest got it (the echo is its tty's, so it is in the log)
            wait_for(lambda: "via-virsh" in read(log), what="virsh console's text in the log")

        virsh("destroy", "cl1")
        self.assertFalse(pid_alive(pid))
        # the log is the user's: it stays
        self.assertIn(BANNER, read(log))
        conn.close()

    @NEEDS_2_2
    def test_log_append(self):
        log = os.path.join(LOGDIR, "cl2.log")
        if os.path.exists(log):
            os.unlink(log)
        virsh("define", write("cl2", domxml("cl2", log=log, append="on")))
        for n in (1, 2):
            virsh("start", "cl2")
            wait_for(lambda: read(log).count(BANNER) >= n, timeout=BOOT_WAIT,
                     what="boot %d's output in the log" % n)
            virsh("destroy", "cl2")
        self.assertEqual(read(log).count(BANNER), 2)

        # without append (Nova writes append='off'; libvirt's default is
        # the same): each start begins the file again
        virsh("undefine", "cl2")
        virsh("define", write("cl2", domxml("cl2", log=log)))
        virsh("start", "cl2")
        wait_for(lambda: BANNER in read(log) and read(log).count(BANNER) == 1,
                 timeout=BOOT_WAIT, what="a truncated log with one boot")
        virsh("destroy", "cl2")
        virsh("undefine", "cl2")

    @NEEDS_2_2
    def test_daemon_restart_keeps_logging(self):
        log = os.path.join(LOGDIR, "cl3.log")
        virsh("create", write("cl3", domxml("cl3", log=log)))
        wait_for(lambda: BANNER in read(log), timeout=BOOT_WAIT, what="the first output")
        before = read(log)
        pid = status_pid("cl3")
        restart_daemon()
        conn = libvirt.open(URI)
        dom = conn.lookupByName("cl3")
        # the reconnect gives it a new pty (the old one went with the old
        # daemon, its number may come again) and appends to the log
        if not REAL:
            wait_for(lambda: b"after-restart\r\n" in console_read(dom, b"after-restart\r\n", 2,
                                                                  send=b"after-restart\r",
                                                                  retry=True),
                     timeout=20, what="a console session after the restart")
            wait_for(lambda: "after-restart" in read(log), what="output after the restart in the log")
        else:
            wait_for(lambda: live_pty("cl3")[0] and os.path.exists(live_pty("cl3")[0]),
                     timeout=20, what="the serial pty after the restart")
            st = conn.newStream(0)
            dom.openConsole(None, st, 0)
            st.abort()
        self.assertTrue(read(log).startswith(before))
        self.assertEqual(status_pid("cl3"), pid)
        virsh("destroy", "cl3")
        conn.close()

    @NEEDS_2_2
    @standin_only("the tiny guest prints one line; the stand-in's serial_flood fault prints megabytes")
    def test_log_is_rotated(self):
        log = os.path.join(LOGDIR, "cl4.log")
        for f in [log] + ["%s.%d" % (log, i) for i in range(5)]:
            if os.path.exists(f):
                os.unlink(f)
        set_faults({"cl4": {"serial_flood": 5 * 1024}})  # 5 MiB of boot messages
        virsh("create", write("cl4", domxml("cl4", log=log)))
        wait_for(lambda: BANNER in read(log), timeout=60, what="the end of the flood in the log")
        # virtlogd's limits: 2 MiB a file, three old generations
        self.assertLessEqual(os.path.getsize(log), 2 * 1024 * 1024)
        for i in range(2):
            self.assertTrue(os.path.exists("%s.%d" % (log, i)), os.listdir(LOGDIR))
            self.assertGreater(os.path.getsize("%s.%d" % (log, i)), 1024 * 1024)
        self.assertFalse(os.path.exists("%s.3" % log), os.listdir(LOGDIR))
        # nothing lost across the rotation: the last messages in order
        text = read("%s.0" % log) + read(log)
        last = 5 * 1024 * 16 - 1
        self.assertIn("stand-in boot message %d " % last, text)
        self.assertIn("stand-in boot message %d " % (last - 1), text)
        # the console still answers after megabytes it never read
        dom = libvirt.open(URI).lookupByName("cl4")
        data = console_read(dom, b"still-here\r\n", 10, send=b"still-here\r")
        self.assertIn(b"still-here\r\n", data)
        virsh("destroy", "cl4")

    @unittest.skipIf(not OLD, "StratoVirt 2.2 and later log the serial port")
    def test_log_refused_on_2_1(self):
        # its seccomp filter kills 2.1.0 at the serial port's first write
        # to a socket ('bad system call, number: 44'): refused before start
        log = os.path.join(LOGDIR, "cl6.log")
        p = virsh("create", write("cl6", domxml("cl6", log=log)), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unsupported configuration: StratoVirt 2.1.0 cannot log its serial port", p.stderr)
        self.assertNotIn("cl6", virsh("list", "--all", "--name").stdout)

    def test_log_on_a_virtio_console_is_refused(self):
        log = os.path.join(LOGDIR, "cl5.log")
        p = virsh("create", write("cl5", domxml("cl5", log=log, console="virtio")), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unsupported configuration", p.stderr)
        self.assertIn("<log file> is supported on the serial port only", p.stderr)
        self.assertFalse(os.path.exists(log))


if __name__ == "__main__":
    main()
