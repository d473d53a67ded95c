#!/usr/bin/python3
"""Foundation: stock virsh and python3-libvirt reach virtstratovirtd."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import libvirt

from svtest import (STANDIN, STRATOVIRT, URI, virsh, main, set_driver_conf,
                    restart_daemon, driver_conf_path, driver_conf_overriding)


class Connection(unittest.TestCase):

    def test_version_names_api_and_hypervisor(self):
        out = virsh("version").stdout
        # the libvirt the driver was built for: the installed libvirt0
        lv = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libvirt0"],
                            capture_output=True, text=True, check=True).stdout
        lv = lv.split(":")[-1].rsplit("-", 1)[0]
        self.assertIn("Using API: StratoVirt %s" % lv, out)
        self.assertIn("Using library: libvirt %s" % lv, out)
        self.assertRegex(out, r"Running hypervisor: StratoVirt \d+\.\d+\.\d+")

    def test_uri_is_the_stratovirt_scheme(self):
        self.assertEqual(virsh("uri").stdout.strip(), URI)
        self.assertTrue(URI.startswith("stratovirt:///"))

    def test_hostname_is_the_hosts(self):
        self.assertEqual(virsh("hostname").stdout.strip(),
                         subprocess.run(["hostname"], capture_output=True,
                                        text=True).stdout.strip())

    def test_nodeinfo_matches_the_host(self):
        out = virsh("nodeinfo").stdout
        cpus = int(re.search(r"CPU\(s\):\s+(\d+)", out).group(1))
        self.assertEqual(cpus, os.cpu_count())
        # libvirt sums the NUMA nodes' memory; it cannot exceed MemTotal
        mem = int(re.search(r"Memory size:\s+(\d+) KiB", out).group(1))
        with open("/proc/meminfo") as f:
            total = int(f.readline().split()[1])
        self.assertGreater(mem, 0)
        self.assertLessEqual(mem, total)
        self.assertIn("NUMA cell(s):", out)

    def test_capabilities_validate_against_libvirt_schema(self):
        xml = virsh("capabilities").stdout
        # libvirt 9.0's capability.rng allows no '.' in host CPU feature
        # names although libvirt itself reports 'sse4.1' and 'sse4.2' there
        # (its cputypes.rng allows them for guest CPUs; fixed upstream).
        # Validate everything else unchanged: only those names are mapped.
        host_cpu = re.search(r"<host>.*?</cpu>", xml, re.S).group(0)
        fixed_cpu = re.sub(r"<feature name='([^']*)'/>",
                           lambda m: "<feature name='%s'/>" % m.group(1).replace(".", "_"),
                           host_cpu)
        checked = xml.replace(host_cpu, fixed_cpu)
        self.assertEqual(len(checked), len(xml))
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(checked)
            f.flush()
            p = subprocess.run(["virt-xml-validate", f.name, "capability"],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        host = os.uname().machine
        # KVM runs the host's architecture only: no other guest is offered
        other = {"x86_64": "aarch64", "aarch64": "x86_64"}[host]
        self.assertNotIn("<arch name='%s'>" % other, xml)
        for arch, machines in (("x86_64", ("q35", "microvm")),
                               ("aarch64", ("virt", "microvm"))):
            if arch != host:
                continue
            m = re.search(r"<arch name='%s'>(.*?)</arch>" % arch, xml, re.S)
            self.assertIsNotNone(m, "no guest for %s" % arch)
            for machine in machines:
                self.assertIn(">%s</machine>" % machine, m.group(1))
            self.assertIn("<domain type='kvm'", m.group(1))
            self.assertIn("<emulator>%s</emulator>" % (STRATOVIRT or STANDIN), m.group(1))

    def test_list_all_is_empty_and_succeeds(self):
        p = virsh("list", "--all")
        self.assertEqual(p.stdout.strip(), "")
        self.assertEqual(virsh("list", "--name", "--all").stdout.strip(), "")


class ReadOnly(unittest.TestCase):
    XML = ("<domain type='kvm'><name>ro</name><memory>262144</memory>"
           "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>")

    def test_readonly_flag_refuses_a_write(self):
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(self.XML)
            f.flush()
            p = virsh("define", f.name, ro=True, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("read only access prevents", p.stderr)

    def test_readonly_socket_refuses_a_write(self):
        # Straight to the -ro socket, without -r: the daemon must refuse.
        sock = os.environ["SANDBOX_SOCK"] + "-ro"
        uri = URI + "?socket=" + sock
        self.assertEqual(virsh("uri", uri=uri).stdout.strip(), uri)
        conn = libvirt.open(uri)
        try:
            self.assertEqual(conn.getType(), "StratoVirt")
            with self.assertRaises(libvirt.libvirtError) as cm:
                conn.defineXML(self.XML)
            self.assertEqual(cm.exception.get_error_code(),
                             libvirt.VIR_ERR_OPERATION_DENIED)
        finally:
            conn.close()


class Python(unittest.TestCase):

    def test_python_libvirt_like_nova_at_init(self):
        conn = libvirt.openReadOnly(URI)
        try:
            self.assertEqual(conn.getType(), "StratoVirt")
            self.assertGreaterEqual(conn.getLibVersion(), 9000000)
            self.assertGreater(conn.getVersion(), 2000000)
            self.assertEqual(conn.getURI(), URI)
            info = conn.getInfo()
            self.assertEqual(info[0], "x86_64")
            self.assertEqual(info[2], os.cpu_count())
            self.assertEqual(conn.listAllDomains(0), [])
            self.assertEqual(conn.numOfDomains(), 0)
            self.assertIn("<capabilities>", conn.getCapabilities())
            self.assertEqual(conn.isSecure(), 1)
            self.assertEqual(conn.isEncrypted(), 0)
            self.assertEqual(conn.isAlive(), 1)
            # Nova's periodic resource update
            ncpus, cpumap, online = conn.getCPUMap(0)
            self.assertEqual(ncpus, os.cpu_count())
            self.assertIn("user", conn.getCPUStats(-1, 0))
            self.assertIn("total", conn.getMemoryStats(-1, 0))
            self.assertGreater(conn.getFreeMemory(), 0)
        finally:
            conn.close()


class MissingBinary(unittest.TestCase):

    def test_version_error_names_the_missing_binary(self):
        with open(driver_conf_path()) as f:
            saved = f.read()
        try:
            set_driver_conf(driver_conf_overriding(
                saved, 'stratovirt_binary = "/nonexistent/stratovirt"\n'))
            restart_daemon()
            p = virsh("version", check=False)
            self.assertIn("/nonexistent/stratovirt", p.stderr)
            self.assertIn("stratovirt_binary", p.stderr)
            # the rest of the connection works without a binary
            self.assertIn("<capabilities>", virsh("capabilities").stdout)
        finally:
            set_driver_conf(saved)
            restart_daemon()
        self.assertIn("Running hypervisor: StratoVirt", virsh("version").stdout)


if __name__ == "__main__":
    main()
