"""Helpers for the end-to-end tests.

Every test script runs inside scripts/sandbox.sh, which exports where its
private virtstratovirtd lives (SANDBOX_DIR, SANDBOX_DAEMON, SANDBOX_CONFDIR,
SANDBOX_SOCK) and LIBVIRT_DEFAULT_URI.  The clients are the stock ones:
/usr/bin/virsh and python3-libvirt under /usr/bin/python3.
"""

import os
import re
import signal
import subprocess
import sys
import time
import unittest

VIRSH = "/usr/bin/virsh"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SB = os.environ.get("SANDBOX_DIR", "")
URI = os.environ.get("LIBVIRT_DEFAULT_URI", "")
STANDIN = os.path.join(TOP, "tests", "standin", "stratovirt")
BUILD = os.environ.get("BUILD") or os.path.join(TOP, "build")
# a real StratoVirt binary (./run test --stratovirt PATH), or "" for the stand-in
STRATOVIRT = os.environ.get("STRATOVIRT", "")
# the system instance's cache folder (the sandbox mounts its own there);
# the session instance's is under XDG_CACHE_HOME
CACHE_DIR = ("/var/cache/libvirt/stratovirt" if os.geteuid() == 0 else
             os.path.join(os.environ.get("XDG_CACHE_HOME", ""), "libvirt", "stratovirt", "cache"))
REAL = bool(STRATOVIRT)
# ./run test --sanitize: the daemon runs several times slower under ASan,
# so latency bounds are multiplied by SLOW and floods divided by it (the
# same code paths run, for the leak checker; the latency goals themselves
# are measured by the plain build)
SLOW = float(os.environ.get("SVTEST_SLOW", "1"))
# the project's guest kernels (tests/images): the real q35 rejects a
# zero-filled file, microvm wants a flat image
KERNELS = {
    "vmlinux": os.path.join(BUILD, "tests", "images", "tiny-q35.elf"),
    "vmlinux-microvm": os.path.join(BUILD, "tests", "images", "tiny-microvm.bin"),
    # a real q35 starts in its firmware whatever -kernel says: this one
    # prints its line on COM1 (tests/images/tiny-q35-fw.S)
    "OVMF_CODE.fd": os.path.join(BUILD, "tests", "images", "tiny-q35-fw.bin"),
}


def make_images(img, names):
    """Files a domain needs in @img: the kernels built by the project, 1 MiB
    of zeros for the rest (initrd, disks, firmware)."""
    import shutil
    os.makedirs(img, exist_ok=True)
    for f in names:
        p = os.path.join(img, f)
        if os.path.exists(p):
            continue
        if f in KERNELS:
            shutil.copyfile(KERNELS[f], p)
            with open(p, "ab") as fh:
                fh.truncate(max(os.path.getsize(p), 1 << 16))
        else:
            with open(p, "wb") as fh:
                fh.truncate(1 << 20)
    return img


def kernel_name(machine):
    return "vmlinux-microvm" if machine == "microvm" else "vmlinux"


def real_version():
    """(major, minor, micro) of the real StratoVirt under test, or None."""
    if not REAL:
        return None
    out = subprocess.run([STRATOVIRT, "-V"], capture_output=True, text=True).stdout
    import re as _re
    m = _re.search(r"(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else None


def standin_only(reason):
    """Skip on a real StratoVirt, saying why (fault switches, a guest)."""
    return unittest.skipIf(REAL, "on a real StratoVirt: " + reason)


def needs_version(minimum, reason):
    """Skip on a real StratoVirt older than @minimum."""
    v = real_version()
    return unittest.skipIf(v is not None and v < minimum,
                           "on StratoVirt %s: %s" % (".".join(map(str, v or ())), reason))


def in_sandbox():
    return bool(SB) and bool(URI)


def virsh(*args, ro=False, uri=None, check=True, timeout=60, input=None):
    cmd = [VIRSH, "-q"]
    if uri:
        cmd += ["-c", uri]
    if ro:
        cmd.append("-r")
    cmd += list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and p.returncode != 0:
        raise AssertionError("virsh %s failed (%d): %s" %
                             (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def daemon_pid():
    with open(os.path.join(SB, "daemon.pid")) as f:
        return int(f.read().strip())


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive; one still exiting is
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().split(") ", 1)
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        return True
    return len(fields) != 2 or fields[1][:1] not in ("Z", "X")


def wait_for(pred, timeout=10.0, step=0.02, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


def lock_free(path):
    """True when nobody holds a write lock on @path (a daemon's pidfile)."""
    import fcntl
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return True
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# the daemons start_daemon started, by pid, until they are gone
_DAEMONS = {}


def wait_daemon_gone(pid, timeout=30, what="virtstratovirtd to exit"):
    """Returns the daemon's exit status as subprocess gives it (a signal
    negative) when start_daemon started it, else None."""
    wait_for(lambda: not pid_alive(pid), timeout=timeout, what=what)
    # a process being torn down (a big ASan address space takes a while)
    # may still hold its pidfile: the next daemon must find it free
    wait_for(lambda: lock_free(os.path.join(SB, "virtstratovirtd.pid")), timeout=30,
             what="virtstratovirtd's pidfile to be unlocked")
    p = _DAEMONS.pop(pid, None)
    if p:
        return p.wait(timeout=30)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    return None


def stop_daemon(sig=signal.SIGTERM):
    """Returns the daemon's exit status, as wait_daemon_gone."""
    pid = daemon_pid()
    os.kill(pid, sig)
    return wait_daemon_gone(pid)


def start_daemon(*extra):
    """Start virtstratovirtd; @extra: more of its options (e.g. --timeout)."""
    sock = os.environ["SANDBOX_SOCK"]
    if os.path.exists(sock):
        os.unlink(sock)
    conf = os.path.join(os.environ["SANDBOX_CONFDIR"], "virtstratovirtd.conf")
    env = dict(os.environ)
    # the sandbox's shims for the daemon (the SR-IOV PFs' VF settings)
    preload = " ".join(x for x in (env.get("LD_PRELOAD"), env.get("SANDBOX_DAEMON_PRELOAD")) if x)
    if preload:
        env["LD_PRELOAD"] = preload
    with open(os.path.join(SB, "virtstratovirtd.stderr"), "a") as err:
        p = subprocess.Popen([os.environ["SANDBOX_DAEMON"], "--config", conf,
                              "--pid-file", os.path.join(SB, "virtstratovirtd.pid"), *extra],
                             stdout=err, stderr=err, start_new_session=True, env=env)
    _DAEMONS[p.pid] = p
    with open(os.path.join(SB, "daemon.pid"), "w") as f:
        f.write(str(p.pid))
    wait_for(lambda: os.path.exists(sock), timeout=30, what="the daemon socket")
    # the socket exists before state init finishes; an API call waits for it
    if virsh("uri", check=False).returncode != 0:
        with open(os.path.join(SB, "virtstratovirtd.stderr")) as f:
            tail = f.read()[-3000:]
        raise AssertionError("virtstratovirtd did not come up (exit status %s); its stderr ends:\n%s"
                             % (p.poll(), tail))
    return p.pid


def driver_conf_path():
    return os.path.join(os.environ["SANDBOX_CONFDIR"], "stratovirt.conf")


def set_driver_conf(text):
    """Replace stratovirt.conf (applied at the next daemon start)."""
    with open(driver_conf_path(), "w") as f:
        f.write(text)


def driver_conf_overriding(base, text):
    """@base (the sandbox's stratovirt.conf) with the settings @text gives
    in place of its own, one 'key = value' a line.  The sandbox's other
    settings stay: above all its own cgroup_partition, without which the
    VMMs of two sandboxes side by side share a cgroup (/machine/
    stratovirt-1-NAME), and libvirt's cgroup kill, reading a pid of the
    other sandbox's namespace as 0, sends kill(0, SIGTERM) to the daemon."""
    key = re.compile(r"^\s*(\w+)\s*=")
    ours = {m.group(1) for m in map(key.match, text.splitlines()) if m}
    kept = [l for l in base.splitlines()
            if not (key.match(l) and key.match(l).group(1) in ours)]
    return "\n".join(kept) + "\n" + text


def binary_replaced(path=None):
    """What a package upgrade replacing the StratoVirt binary does to it
    (a new mtime and ctime).  The driver keeps what each binary is (its
    version and build features) across daemon restarts and probes it again
    only when it changes: a test that makes the stand-in another build
    (STANDIN_VERSION, STANDIN_FEATURES) calls this before the restart."""
    os.utime(path or STRATOVIRT or STANDIN)


def caps_cache_files():
    """The driver's capabilities cache files (one per binary)."""
    d = os.path.join(CACHE_DIR, "capabilities")
    try:
        return sorted(os.path.join(d, f) for f in os.listdir(d))
    except FileNotFoundError:
        return []


def restart_daemon(sig=signal.SIGTERM):
    stop_daemon(sig)
    return start_daemon()


def ensure_daemon(start=None):
    """Start a daemon if none runs (with @start, a function, when the
    file's daemon is not start_daemon's): a test that failed between
    stopping one and starting the next left none, and every test after it
    would fail too ('failed to connect to the hypervisor'), hiding the
    first failure among them.  Returns True when it had to start one."""
    try:
        pid = daemon_pid()
    except (FileNotFoundError, ValueError):
        pid = None
    if pid is not None and pid_alive(pid):
        return False
    if pid is not None:
        wait_daemon_gone(pid)
    (start or start_daemon)()
    return True


def simpci_log(since=0):
    """The simulated PCI host's log from character @since (what
    len(simpci_log()) gave before), '' without one."""
    try:
        with open(os.environ["SANDBOX_SIMPCI_LOG"]) as f:
            return f.read()[since:]
    except (KeyError, OSError):
        return ""


def log_mark():
    """Where the daemon's log ends now: daemon_log(mark) is what it logs
    from then on."""
    try:
        return os.path.getsize(os.path.join(SB, "virtstratovirtd.log"))
    except FileNotFoundError:
        return 0


def daemon_log(since=0):
    """The daemon's log from byte @since (a log_mark()).  A wait that polls
    the log reads only what is new: the whole log (28 MB after an event
    flood) read every 20 ms kept a core busy on a 2-core machine."""
    try:
        with open(os.path.join(SB, "virtstratovirtd.log"), "rb") as f:
            f.seek(since)
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


def driver_of(bdf):
    """The host driver a PCI device is bound to, from sysfs."""
    try:
        return os.path.basename(os.readlink("/sys/bus/pci/devices/%s/driver" % bdf))
    except OSError:
        return None


def hostdev_xml(bdf, managed="yes"):
    d, b, sf = bdf.split(":")
    s, f = sf.split(".")
    return ("<hostdev mode='subsystem' type='pci' managed='%s'><source>"
            "<address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>"
            "</source></hostdev>" % (managed, d, b, s, f))


def status_pid(name):
    """The VMM's pid, from the domain's live status XML."""
    import re as _re
    with open(os.path.join("/run/libvirt/stratovirt", name + ".xml")) as f:
        return int(_re.search(r"<domstatus [^>]*pid='(\d+)'", f.read()).group(1))


def main(standin_only=None):
    """@standin_only: why the whole file cannot run on a real StratoVirt."""
    if not in_sandbox():
        print("SKIP: run through scripts/sandbox.sh (no SANDBOX_DIR set)")
        sys.exit(77)
    if REAL and standin_only:
        print("SKIP: on a real StratoVirt (%s): %s" % (STRATOVIRT, standin_only))
        sys.exit(77)
    if REAL:
        print("on a real StratoVirt: %s (%s)" % (STRATOVIRT, ".".join(map(str, real_version() or ()))))
    unittest.main(verbosity=2)
