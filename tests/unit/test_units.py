#!/usr/bin/python3
"""The systemd units as built: `systemd-analyze verify` accepts them, and
virtstratovirtd does not conflict with libvirtd (on Debian 12 the design
needs libvirtd running beside it for node devices, storage and secrets).

systemd-analyze checks that ExecStart names an executable: the units are
verified with the build tree's daemon in place of the installed path."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1])
UNITS = ["virtstratovirtd.service", "virtstratovirtd.socket",
         "virtstratovirtd-ro.socket", "virtstratovirtd-admin.socket"]


def main():
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("1..0 # SKIP systemd-analyze is not installed (Debian package 'systemd')")
        return 0
    src = os.path.join(BUILD, "src", "daemon")
    daemon = os.path.join(src, "virtstratovirtd")
    n = 0
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for u in UNITS:
            with open(os.path.join(src, u)) as f:
                text = f.read()
            n += 1
            if "Conflicts=libvirtd" in text:
                print("not ok %d - %s conflicts with libvirtd" % (n, u))
                fails += 1
            else:
                print("ok %d - %s does not conflict with libvirtd" % (n, u))
            text = re.sub(r"/[^\s=]*/sbin/virtstratovirtd\b", daemon, text)
            path = os.path.join(tmp, u)
            with open(path, "w") as f:
                f.write(text)
            paths.append(path)
        p = subprocess.run([analyze, "verify", "--man=no"] + paths,
                           capture_output=True, text=True, timeout=120)
        out = (p.stdout + p.stderr).strip()
        n += 1
        if p.returncode != 0 or out:
            print("not ok %d - systemd-analyze verify: %s" % (n, out.replace("\n", "; ")))
            fails += 1
        else:
            print("ok %d - systemd-analyze verify accepts the units" % n)
    print("1..%d" % n)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
