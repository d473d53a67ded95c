#!/usr/bin/python3
"""./run bench: start and destroy latency, this driver beside libvirt's QEMU
driver in the same run.  A benchmark, not a test: it prints figures.

  stratovirt part: a private virtstratovirtd (scripts/sandbox.sh) with the
    StratoVirt stand-in (or STRATOVIRT=...); createXML until running, then
    destroy, N times.  The VMM's own start-to-ready time (exec until the QMP
    greeting) is measured directly in the same run with the same argv, so
    the driver's overhead = createXML latency - VMM start-to-ready.
  qemu part: Debian's libvirtd and qemu-system-x86_64, started privately in
    a mount namespace; a minimal KVM domain; same loop.  Skipped, with the
    reason, when KVM, QEMU or libvirtd is missing.

Ends with one line:
  bench: start_overhead_ms=<m> destroy_ms=<m> qemu_start_ms=<m> qemu_destroy_ms=<m>
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("BENCH_N", "20"))
NQ = int(os.environ.get("BENCH_QEMU_N", "8"))


def ms(v):
    return v * 1000.0


def summary(xs):
    if not xs:
        return None
    xs = sorted(xs)
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1],
            "p90": xs[int(0.9 * (len(xs) - 1))], "n": len(xs)}


# ---------------------------------------------------------------------------
# stratovirt part, run inside the sandbox

def create_destroy(conn, xml, runs, warmup=1):
    """createXML until running, then destroy, @runs times after @warmup"""
    import libvirt
    starts, destroys = [], []
    for i in range(runs + warmup):
        t0 = time.monotonic()
        dom = conn.createXML(xml, 0)
        t1 = time.monotonic()
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        dom.destroy()
        t2 = time.monotonic()
        if i >= warmup:
            starts.append(t1 - t0)
            destroys.append(t2 - t1)
    return starts, destroys


def vmm_ready_time(argv, tmp):
    """exec of the VMM until its QMP greeting, with the driver's argv.

    The driver runs StratoVirt in the foreground (libvirt daemonizes it),
    so here it is our child: its exit is waited for, no pidfile read."""
    qmp = os.path.join(tmp, "bench.qmp")
    if os.path.exists(qmp):
        os.unlink(qmp)
    a = list(argv)
    a[a.index("-qmp") + 1] = "unix:%s,server,nowait" % qmp
    a[a.index("-D") + 1] = os.path.join(tmp, "bench.log")
    a[a.index("-name") + 1] = "benchvmm"
    # the environment the driver gives the VMM
    env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "STRATOVIRT_LOG_LEVEL": "warn"}
    for k in ("HOME", "SANDBOX_DIR"):
        if k in os.environ:
            env[k] = os.environ[k]
    t0 = time.monotonic()
    proc = subprocess.Popen(a, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    delay = 0.0002
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(qmp)
            break
        except OSError:
            s.close()
            if proc.poll() is not None:
                raise RuntimeError("the VMM exited (%d) before its QMP greeting" % proc.returncode)
            time.sleep(delay)
            delay = min(delay * 2, 0.005)
    s.recv(4096)
    t1 = time.monotonic()
    # the pid before quit: StratoVirt deletes its pidfile as it exits
    pid = proc.pid
    if "-daemonize" in a:
        with open(pidfile) as f:
            pid = int(f.read())
    s.sendall(b'{"execute":"quit"}')
    s.recv(4096)
    s.close()
    proc.wait(timeout=30)
    return t1 - t0


def inner_stratovirt():
    import libvirt
    sb = os.environ["SANDBOX_DIR"]
    img = os.path.join(sb, "img")
    sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
    import svtest
    # the project's tiny guest kernel: the real q35 refuses a zero-filled one
    svtest.make_images(img, ("vmlinux", "rootfs.raw"))
    xml = """<domain type='kvm'><name>bench</name><memory unit='MiB'>256</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>
<kernel>{img}/vmlinux</kernel><cmdline>console=hvc0</cmdline></os>
<devices><disk type='file' device='disk'><source file='{img}/rootfs.raw'/>
<target dev='vda' bus='virtio'/></disk>
<console type='pty'><target type='virtio' port='0'/></console>
<memballoon model='none'/></devices></domain>""".format(img=img)
    conn = libvirt.open(os.environ["LIBVIRT_DEFAULT_URI"])
    starts, destroys = create_destroy(conn, xml, N, warmup=2)
    hostdev_runs = {}
    if os.path.isdir("/sys/bus/pci/devices/0000:03:00.0") and os.environ.get("SANDBOX_SIMPCI") \
            and not os.environ.get("STRATOVIRT"):
        # (a real StratoVirt cannot open the simulated host's /dev/vfio)
        with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
            f.write("4")
        devs = ["0000:03:00.0", "0000:05:00.0", "0000:05:00.1", "0000:06:00.0",
                "0000:04:00.1", "0000:04:00.2", "0000:04:00.3", "0000:04:00.4"]
        for count in (1, 8):
            hds = "".join(
                "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                "<address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>"
                "</source></hostdev>" % (b[0:4], b[5:7], b[8:10], b[11])
                for b in devs[:count])
            hxml = xml.replace("<name>bench</name>", "<name>benchhd%d</name>" % count)
            hxml = hxml.replace("</devices>", hds + "</devices>")
            st, de = create_destroy(conn, hxml, max(3, N // 2))
            hostdev_runs[count] = {"start": st, "destroy": de}
        with open("/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs", "w") as f:
            f.write("0")
    conn.close()
    with open("/var/log/libvirt/stratovirt/bench.log") as f:
        line = [l for l in f.read().splitlines() if " -name bench " in l][-1]
    import shlex
    argv = shlex.split(line)
    while argv and "=" in argv[0] and not argv[0].startswith("/"):
        argv.pop(0)  # the environment virCommandToString puts first
    ready = [vmm_ready_time(argv, sb) for _ in range(N)]
    print("RESULT " + json.dumps({"start": starts, "destroy": destroys, "ready": ready,
                                  "hostdev": hostdev_runs}))


# ---------------------------------------------------------------------------
# qemu part, run in a private mount namespace

QEMU_XML = """<domain type='kvm'><name>qbench</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
<memballoon model='none'/></devices></domain>"""


def reaper():
    # We are PID 1 of the namespace: QEMU, daemonized by libvirtd, is
    # re-parented to us and must be reaped or libvirtd waits for a zombie.
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(0.01)


def private_libvirtd_dirs(prefix):
    """In our private mount namespace: empty libvirt folders and a config
    for Debian's libvirtd with QEMU run as root, no security driver."""
    import threading
    threading.Thread(target=reaper, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix=prefix)
    for d, target in (("etc", "/etc/libvirt"), ("run", "/run/libvirt"),
                      ("lib", "/var/lib/libvirt"), ("log", "/var/log/libvirt"),
                      ("cache", "/var/cache/libvirt")):
        os.makedirs(os.path.join(tmp, d))
        os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", "--bind", os.path.join(tmp, d), target], check=True)
    os.makedirs("/etc/libvirt/qemu")
    with open("/etc/libvirt/libvirtd.conf", "w") as f:
        f.write('auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                'log_outputs = "3:file:%s/libvirtd.log"\n' % tmp)
    with open("/etc/libvirt/qemu.conf", "w") as f:
        f.write('user = "root"\ngroup = "root"\nsecurity_driver = "none"\n'
                'stdio_handler = "file"\nnamespaces = [ ]\n'
                'dynamic_ownership = 0\n')
    return tmp


def inner_qemu():
    import libvirt
    tmp = private_libvirtd_dirs("qbench.")
    d = subprocess.Popen(["/usr/sbin/libvirtd", "-f", "/etc/libvirt/libvirtd.conf",
                          "-p", os.path.join(tmp, "libvirtd.pid")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        try:
            conn = wait_open("qemu:///system", timeout=30)
        except RuntimeError:
            print("RESULT " + json.dumps({"skip": "libvirtd did not start"}))
            return
        starts, destroys = create_destroy(conn, QEMU_XML, NQ)
        conn.close()
        print("RESULT " + json.dumps({"start": starts, "destroy": destroys}))
    except libvirt.libvirtError as e:
        print("RESULT " + json.dumps({"skip": "QEMU driver failed: %s" % e}))
    finally:
        d.terminate()
        d.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# scale: 1,000 defined domains, 100 running, 50 concurrent creates

NSCALE = int(os.environ.get("BENCH_SCALE_N", "1000"))
NRUN = int(os.environ.get("BENCH_SCALE_RUNNING", "100"))
NCONC = int(os.environ.get("BENCH_SCALE_CONCURRENT", "50"))


def timed(fn, n=5):
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        fn()
        out.append(time.monotonic() - t0)
    return statistics.median(out)


def virsh_time(uri, *args, n=3):
    return timed(lambda: subprocess.run(["/usr/bin/virsh", "-c", uri, "-q"] + list(args),
                                        stdout=subprocess.DEVNULL, check=True), n)


def wait_open(uri, timeout=120):
    import libvirt
    libvirt.registerErrorHandler(lambda *a: None, None)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            c = libvirt.open(uri)
            c.listAllDomains(0)
            return c
        except libvirt.libvirtError:
            time.sleep(0.01)
    raise RuntimeError("daemon did not come back")


def scale_xml(name, img, kernel=True):
    boot = "<kernel>%s/vmlinux</kernel>" % img if kernel else ""
    console = "<console type='pty'><target type='virtio' port='0'/></console>" if kernel else ""
    return ("<domain type='kvm'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='q35'>hvm</type>%s</os>"
            "<devices>%s<memballoon model='none'/></devices></domain>" % (name, boot, console))


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def inner_scale_stratovirt():
    import libvirt
    import threading
    sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
    import svtest
    uri = os.environ["LIBVIRT_DEFAULT_URI"]
    sb = os.environ["SANDBOX_DIR"]
    img = os.path.join(sb, "img")
    svtest.make_images(img, ("vmlinux",))
    r = {}
    conn = libvirt.open(uri)
    t0 = time.monotonic()
    for i in range(NSCALE):
        conn.defineXML(scale_xml("s%04d" % i, img))
    r["define_s"] = time.monotonic() - t0
    conn.close()
    svtest.stop_daemon()
    t0 = time.monotonic()
    svtest.start_daemon()
    conn = wait_open(uri)
    r["daemon_start_ms"] = (time.monotonic() - t0) * 1000
    r["list_all_ms"] = virsh_time(uri, "list", "--all") * 1000
    r["rss_defined_mb"] = rss_mb(svtest.daemon_pid())

    # running domains
    t0 = time.monotonic()
    for i in range(NRUN):
        conn.createXML(scale_xml("r%03d" % i, img), 0)
    r["create_running_s"] = time.monotonic() - t0
    r["rss_mb"] = rss_mb(svtest.daemon_pid())
    r["list_running_ms"] = virsh_time(uri, "list") * 1000
    doms = [conn.lookupByName("r%03d" % i) for i in range(0, NRUN, max(1, NRUN // 20))]
    r["dominfo_ms"] = statistics.median(
        [timed(lambda d=d: d.info(), 1) for d in doms]) * 1000
    for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        d.destroy()

    # concurrent creates: threads of one client
    ok = []
    def one(i):
        c = libvirt.open(uri)
        try:
            c.createXML(scale_xml("t%03d" % i, img), 0)
            ok.append(i)
        finally:
            c.close()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(NCONC)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r["threads_s"] = time.monotonic() - t0
    r["threads_ok"] = len(ok)
    for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        d.destroy()

    # concurrent creates: virsh processes
    paths = []
    for i in range(NCONC):
        p = os.path.join(sb, "v%03d.xml" % i)
        with open(p, "w") as f:
            f.write(scale_xml("v%03d" % i, img))
        paths.append(p)
    t0 = time.monotonic()
    procs = [subprocess.Popen(["/usr/bin/virsh", "-c", uri, "create", p],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for p in paths]
    r["virsh_ok"] = sum(1 for p in procs if p.wait() == 0)
    r["virsh_s"] = time.monotonic() - t0
    for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        d.destroy()
    conn.close()
    print("RESULT " + json.dumps(r))


def inner_scale_qemu():
    import libvirt
    tmp = private_libvirtd_dirs("qscale.")

    def start():
        return subprocess.Popen(["/usr/sbin/libvirtd", "-f", "/etc/libvirt/libvirtd.conf",
                                 "-p", os.path.join(tmp, "libvirtd.pid")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    r = {}
    d = start()
    conn = wait_open("qemu:///system")
    t0 = time.monotonic()
    for i in range(NSCALE):
        conn.defineXML(scale_xml("q%04d" % i, tmp, kernel=False).replace(
            "<devices>", "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"))
    r["define_s"] = time.monotonic() - t0
    conn.close()
    d.terminate()
    d.wait()
    t0 = time.monotonic()
    d = start()
    conn = wait_open("qemu:///system")
    r["daemon_start_ms"] = (time.monotonic() - t0) * 1000
    r["list_all_ms"] = virsh_time("qemu:///system", "list", "--all") * 1000
    r["rss_defined_mb"] = rss_mb(d.pid)
    conn.close()
    d.terminate()
    d.wait()
    print("RESULT " + json.dumps(r))


def scale_report():
    # on the stand-in (the scale domains boot nothing a real VMM would take)
    sv = result_of([os.path.join(TOP, "scripts", "sandbox.sh"), "--",
                    "/usr/bin/python3", os.path.abspath(__file__), "--inner-scale-stratovirt"],
                   standin=True)
    if os.geteuid() == 0 and os.path.exists("/usr/sbin/libvirtd") and \
            shutil.which("qemu-system-x86_64"):
        qm = result_of(["unshare", "--mount", "--propagation", "private", "--pid",
                        "--fork", "--kill-child", "--mount-proc", "/usr/bin/python3",
                        os.path.abspath(__file__), "--inner-scale-qemu"])
    else:
        qm = {"skip": "needs root, /usr/sbin/libvirtd and qemu-system-x86_64"}

    def f(d, k, fmt="%.1f"):
        return (fmt % d[k]) if k in d else "na"

    def ratio(k):
        if k in sv and k in qm and sv[k] > 0:
            return "%.1fx" % (qm[k] / sv[k])
        return "na"

    print("")
    print("scale (%d defined, %d running, %d concurrent creates):" % (NSCALE, NRUN, NCONC))
    print("%-46s %12s %12s %8s" % ("figure", "stratovirt", "qemu driver", "ratio"))
    for label, k in (("define %d persistent domains (s)" % NSCALE, "define_s"),
                     ("daemon start with them (ms)", "daemon_start_ms"),
                     ("virsh list --all (ms)", "list_all_ms")):
        print("%-46s %12s %12s %8s" % (label, f(sv, k), f(qm, k), ratio(k)))
    print("%-46s %12s %12s %8s" % ("daemon RSS with %d defined (MB)" % NSCALE,
                                     f(sv, "rss_defined_mb"), f(qm, "rss_defined_mb"),
                                     ratio("rss_defined_mb")))
    for label, k in (("start %d running domains (s)" % NRUN, "create_running_s"),
                     ("daemon RSS with %d running (MB)" % NRUN, "rss_mb"),
                     ("virsh list with %d running (ms)" % NRUN, "list_running_ms"),
                     ("dominfo latency (ms)", "dominfo_ms"),
                     ("%d creates, threads of one client (s)" % NCONC, "threads_s"),
                     ("%d creates, %d virsh processes (s)" % (NCONC, NCONC), "virsh_s")):
        print("%-46s %12s %12s %8s" % (label, f(sv, k), "na", ""))
    print("concurrent creates succeeded: threads %s/%d, virsh %s/%d" % (
        f(sv, "threads_ok", "%d"), NCONC, f(sv, "virsh_ok", "%d"), NCONC))
    print("running-domain figures are for this driver only: %d QEMU guests of 128 MiB "
          "are not started by this benchmark" % NRUN)
    if sv.get("skip"):
        print("stratovirt scale part: %s" % sv["skip"])
    if qm.get("skip"):
        print("qemu scale part: %s" % qm["skip"])
    print("bench-scale: define%d_s=%s daemon_start_ms=%s list_all_ms=%s rss%d_mb=%s "
          "list%d_ms=%s dominfo_ms=%s create%d_threads_s=%s create%d_virsh_s=%s "
          "threads_ok=%s virsh_ok=%s qemu_define%d_s=%s qemu_daemon_start_ms=%s "
          "qemu_list_all_ms=%s" % (
              NSCALE, f(sv, "define_s", "%.2f"), f(sv, "daemon_start_ms"), f(sv, "list_all_ms"),
              NRUN, f(sv, "rss_mb"), NRUN, f(sv, "list_running_ms"), f(sv, "dominfo_ms", "%.2f"),
              NCONC, f(sv, "threads_s", "%.2f"), NCONC, f(sv, "virsh_s", "%.2f"),
              f(sv, "threads_ok", "%d"), f(sv, "virsh_ok", "%d"),
              NSCALE, f(qm, "define_s", "%.2f"), f(qm, "daemon_start_ms"), f(qm, "list_all_ms")))


def result_of(cmd, standin=False):
    env = dict(os.environ, SANDBOX_QUIET="1")
    if standin:
        env.pop("STRATOVIRT", None)
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"skip": "benchmark part failed: %s" % (p.stderr.strip().splitlines() or ["?"])[-1]}


def fmt(v):
    return "na" if v is None else "%.1f" % v


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner-stratovirt":
        return inner_stratovirt()
    if len(sys.argv) > 1 and sys.argv[1] == "--inner-qemu":
        return inner_qemu()
    if len(sys.argv) > 1 and sys.argv[1] == "--inner-scale-stratovirt":
        return inner_scale_stratovirt()
    if len(sys.argv) > 1 and sys.argv[1] == "--inner-scale-qemu":
        return inner_scale_qemu()
    if len(sys.argv) > 1 and sys.argv[1] == "--scale":
        return scale_report()

    print("bench: %d runs of createXML->running and destroy per driver" % N)
    sv = result_of([os.path.join(TOP, "scripts", "sandbox.sh"), "--",
                    "/usr/bin/python3", os.path.abspath(__file__), "--inner-stratovirt"])
    real = os.environ.get("STRATOVIRT")
    sv_standin = None
    if real:
        # the same loop on the stand-in, for the overhead beside the real one
        sv_standin = result_of([os.path.join(TOP, "scripts", "sandbox.sh"), "--",
                                "/usr/bin/python3", os.path.abspath(__file__),
                                "--inner-stratovirt"], standin=True)

    reasons = []
    if not os.path.exists("/dev/kvm"):
        reasons.append("no /dev/kvm")
    if not shutil.which("qemu-system-x86_64"):
        reasons.append("no qemu-system-x86_64")
    if not os.path.exists("/usr/sbin/libvirtd"):
        reasons.append("no /usr/sbin/libvirtd")
    if os.geteuid() != 0:
        reasons.append("not root (a private libvirtd needs a mount namespace)")
    if reasons:
        qm = {"skip": ", ".join(reasons)}
    else:
        qm = result_of(["unshare", "--mount", "--propagation", "private", "--pid",
                        "--fork", "--kill-child", "--mount-proc", "/usr/bin/python3",
                        os.path.abspath(__file__), "--inner-qemu"])

    s_start = summary([ms(x) for x in sv.get("start", [])])
    s_destroy = summary([ms(x) for x in sv.get("destroy", [])])
    s_ready = summary([ms(x) for x in sv.get("ready", [])])
    q_start = summary([ms(x) for x in qm.get("start", [])])
    q_destroy = summary([ms(x) for x in qm.get("destroy", [])])

    overhead = None
    if s_start and s_ready:
        overhead = max(0.0, s_start["median"] - s_ready["median"])

    print("")
    print("%-44s %9s %9s %9s %9s" % ("figure (ms)", "median", "min", "p90", "max"))
    for label, s in (("stratovirt: createXML -> running", s_start),
                     ("stratovirt: VMM exec -> QMP greeting", s_ready),
                     ("stratovirt: destroy", s_destroy),
                     ("qemu driver: createXML -> running", q_start),
                     ("qemu driver: destroy", q_destroy)):
        if s:
            print("%-44s %9.1f %9.1f %9.1f %9.1f" % (label, s["median"], s["min"],
                                                     s["p90"], s["max"]))
        else:
            print("%-44s %9s" % (label, "na"))
    print("%-44s %9s" % ("stratovirt driver overhead per start", fmt(overhead)))
    standin_overhead = None
    if sv_standin is not None:
        a = summary([ms(x) for x in sv_standin.get("start", [])])
        b = summary([ms(x) for x in sv_standin.get("ready", [])])
        if a and b:
            standin_overhead = max(0.0, a["median"] - b["median"])
        print("  (on %s; the same run on the stand-in: createXML %s ms, VMM ready %s ms, "
              "driver overhead %s ms)" % (real, fmt(a and a["median"]), fmt(b and b["median"]),
                                          fmt(standin_overhead)))
    if sv.get("skip"):
        print("stratovirt part skipped: %s" % sv["skip"])
    if qm.get("skip"):
        print("qemu part skipped: %s" % qm["skip"])
    if s_start and q_start:
        print("ratio start (qemu driver / stratovirt driver, whole createXML): %.1fx"
              % (q_start["median"] / s_start["median"]))
        if overhead:
            print("ratio start overhead (qemu driver createXML / stratovirt driver overhead): %.1fx"
                  % (q_start["median"] / overhead))
    if s_destroy and q_destroy:
        print("ratio destroy (qemu driver / stratovirt driver): %.1fx"
              % (q_destroy["median"] / s_destroy["median"]))
    hd = sv.get("hostdev") or {}
    if hd:
        print("")
        print("managed hostdevs on the simulated PCI host (detach, vfio-pci bind, "
              "group checks, reattach through libvirt's virHostdev):")
        print("%-44s %9s %9s" % ("figure (ms)", "median", "p90"))
        for count in ("1", "8"):
            for what in ("start", "destroy"):
                s = summary([ms(x) for x in hd[count][what]])
                print("%-44s %9.1f %9.1f" % ("%s with %s hostdev%s" % (what, count, "s" if count != "1" else ""),
                                             s["median"], s["p90"]))
        s1 = summary([ms(x) for x in hd["1"]["start"]])["median"]
        s8 = summary([ms(x) for x in hd["8"]["start"]])["median"]
        d1 = summary([ms(x) for x in hd["1"]["destroy"]])["median"]
        d8 = summary([ms(x) for x in hd["8"]["destroy"]])["median"]
        print("per extra hostdev: start +%.1f ms, destroy +%.1f ms" % ((s8 - s1) / 7, (d8 - d1) / 7))
        if s_start:
            print("first hostdev: start +%.1f ms over a domain without one"
                  % (s1 - s_start["median"]))
    print("targets: overhead <= 10 ms per start, destroy <= 30 ms")
    print("bench: start_overhead_ms=%s destroy_ms=%s qemu_start_ms=%s qemu_destroy_ms=%s%s"
          % (fmt(overhead), fmt(s_destroy and s_destroy["median"]),
             fmt(q_start and q_start["median"]), fmt(q_destroy and q_destroy["median"]),
             "" if sv_standin is None else " standin_start_overhead_ms=%s" % fmt(standin_overhead)))
    if os.environ.get("BENCH_SCALE", "1") != "0":
        scale_report()


if __name__ == "__main__":
    main()
