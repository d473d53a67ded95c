#!/usr/bin/python3
"""The driver's messages in the user's language: with the daemon under
zh_CN.UTF-8, stock virsh shows the driver's errors in Chinese."""

import os
import subprocess
import unittest

from svtest import SB, virsh, main, restart_daemon


def zh_locale():
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower()
    return "zh_cn.utf8" in out.split()


BAD = """<domain type='kvm'><name>zh1</name><memory unit='MiB'>256</memory>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>/nonexistent/vmlinux</kernel></os>
<devices><sound model='ich9'/></devices></domain>"""


@unittest.skipUnless(zh_locale(), "the zh_CN.UTF-8 locale is not generated (./run setup does it)")
class Chinese(unittest.TestCase):

    def test_driver_error_in_chinese_through_virsh(self):
        path = os.path.join(SB, "zh1.xml")
        with open(path, "w") as f:
            f.write(BAD)
        p = virsh("define", path, check=False)
        self.assertIn("<sound> devices are not supported by StratoVirt", p.stderr)
        saved = os.environ.get("LANG")
        os.environ["LANG"] = "zh_CN.UTF-8"
        try:
            restart_daemon()
        finally:
            if saved is None:
                del os.environ["LANG"]
            else:
                os.environ["LANG"] = saved
        try:
            env = dict(os.environ, LANG="C.UTF-8")
            p = subprocess.run(["/usr/bin/virsh", "define", path], capture_output=True,
                               text=True, env=env)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("StratoVirt 不支持 <sound> 设备", p.stderr)
        finally:
            restart_daemon()


if __name__ == "__main__":
    main()
