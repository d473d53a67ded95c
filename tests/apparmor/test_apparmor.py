#!/usr/bin/python3
"""The AppArmor profile of the VMM (src/daemon/apparmor/usr.bin.stratovirt):
it compiles with the host's apparmor_parser, and where the kernel has
AppArmor and we are root, a copy attached to a test binary confines it
(the label is the profile's, /etc/shadow is denied, the driver's run
directory is not)."""

import os
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROFILE = os.path.join(TOP, "src", "daemon", "apparmor", "usr.bin.stratovirt")
PARSER = shutil.which("apparmor_parser") or (
    "/usr/sbin/apparmor_parser" if os.path.exists("/usr/sbin/apparmor_parser") else None)


def kernel_has_apparmor():
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read().strip() == "Y"
    except OSError:
        return False


class Profile(unittest.TestCase):

    @unittest.skipUnless(PARSER, "apparmor_parser is not installed (Debian's apparmor package; ./run setup installs it)")
    def test_profile_compiles(self):
        p = subprocess.run([PARSER, "-Q", "-K", "-I", "/etc/apparmor.d", PROFILE],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        # and the parser does reject a broken one: the check can fail
        with tempfile.NamedTemporaryFile("w", suffix=".profile") as bad:
            bad.write(open(PROFILE).read().replace("/dev/kvm rw,", "/dev/kvm rw"))
            bad.flush()
            p = subprocess.run([PARSER, "-Q", "-K", "-I", "/etc/apparmor.d", bad.name],
                               capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)

    @unittest.skipUnless(PARSER and kernel_has_apparmor() and os.geteuid() == 0,
                         "needs root and a kernel with AppArmor enabled "
                         "(/sys/module/apparmor/parameters/enabled is not Y here)")
    def test_profile_confines_the_binary_it_attaches_to(self):
        d = tempfile.mkdtemp(prefix="sv-aa-", dir="/var/tmp")
        os.chmod(d, 0o755)
        binary = os.path.join(d, "stratovirt")
        shutil.copy("/bin/cat", binary)
        name = "stratovirt-test-%d" % os.getpid()
        text = open(PROFILE).read().replace(
            "profile stratovirt /usr/bin/stratovirt ", "profile %s %s " % (name, binary)).replace(
            "/usr/bin/stratovirt mr,", "%s mr," % binary)
        prof = os.path.join(d, "profile")
        with open(prof, "w") as f:
            f.write(text)
        subprocess.run([PARSER, "-r", "-K", "-I", "/etc/apparmor.d", prof], check=True)
        try:
            label = subprocess.run([binary, "/proc/self/attr/current"],
                                   capture_output=True, text=True).stdout
            self.assertTrue(label.startswith(name + " (enforce)"), label)
            p = subprocess.run([binary, "/etc/shadow"], capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("Permission denied", p.stderr)
            os.makedirs("/run/libvirt/stratovirt", exist_ok=True)
            probe = "/run/libvirt/stratovirt/aa-probe-%d" % os.getpid()
            with open(probe, "w") as f:
                f.write("ok\n")
            try:
                p = subprocess.run([binary, probe], capture_output=True, text=True)
                self.assertEqual(p.stdout, "ok\n", p.stderr)
            finally:
                os.unlink(probe)
        finally:
            subprocess.run([PARSER, "-R", "-K", "-I", "/etc/apparmor.d", prof])
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
