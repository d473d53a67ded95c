#!/usr/bin/python3
"""Security: every mutating API refused on the read-only socket (the list
comes from the driver's own API table), an ACL check in every entry point,
file and socket modes as libvirt's QEMU driver uses, the VMM run as the
configured user with DAC ownership given and taken back, and values that
StratoVirt's command line cannot carry refused."""

import os
import re
import stat
import subprocess
import unittest

import libvirt

from svtest import make_images
from svtest import (SB, TOP, URI, virsh, main, restart_daemon, driver_conf_path,
                    driver_conf_overriding)

DRIVER_C = os.path.join(TOP, "src", "stratovirt", "stratovirt_driver.c")
STATE = "/run/libvirt/stratovirt"
IMG = os.path.join(SB, "sec-images")


def table():
    with open(DRIVER_C) as f:
        src = f.read()
    body = re.search(r"static virHypervisorDriver stratovirtHypervisorDriver = \{(.*?)\};",
                     src, re.S).group(1)
    return dict(re.findall(r"\.(\w+) = (stratovirt\w+),", body)), src


def domxml(name, devs="", img=IMG):
    make_images(img, ("vmlinux", "%s.raw" % name))
    return """<domain type='kvm'><name>{n}</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{img}/vmlinux</kernel></os>
<devices><disk type='file' device='disk'><source file='{img}/{n}.raw'/><target dev='vda' bus='virtio'/></disk>
<console type='pty'><target type='virtio' port='0'/></console>{devs}</devices></domain>""".format(
        n=name, img=img, devs=devs)


# an interface, so that the interface calls reach the driver's checks
RO_MAC = "52:54:00:00:00:99"
RO_NIC = ("<interface type='ethernet'><mac address='%s'/><model type='virtio'/>"
          "</interface>" % RO_MAC)


HOST_ARCH = os.uname().machine


def host_cpu(conn):
    """The host's <cpu> from the capabilities."""
    caps = conn.getCapabilities()
    return caps[caps.index("<cpu>"):caps.index("</cpu>") + len("</cpu>")]


# API table entry -> (read-only client call, mutating?)
def ro_calls(conn, dom, ndev):
    xml = domxml("ro-new")
    hd = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
          "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev>")
    return {
        # read-only access is allowed for these
        "connectOpen": (lambda: None, False),
        "connectClose": (lambda: None, False),
        "connectGetType": (conn.getType, False),
        "connectGetVersion": (conn.getVersion, False),
        "connectGetHostname": (conn.getHostname, False),
        "connectIsSecure": (conn.isSecure, False),
        "connectIsEncrypted": (conn.isEncrypted, False),
        "connectIsAlive": (conn.isAlive, False),
        "connectSupportsFeature": (lambda: None, False),
        "connectGetCapabilities": (conn.getCapabilities, False),
        "nodeGetInfo": (conn.getInfo, False),
        "nodeGetCPUStats": (lambda: conn.getCPUStats(-1, 0), False),
        "nodeGetMemoryStats": (lambda: conn.getMemoryStats(-1, 0), False),
        "nodeGetCPUMap": (lambda: conn.getCPUMap(0), False),
        "nodeGetCellsFreeMemory": (lambda: conn.getCellsFreeMemory(0, 1), False),
        "nodeGetFreeMemory": (conn.getFreeMemory, False),
        # a read; this domain is not running, so it fails, but not as denied
        "domainGetVcpus": (dom.vcpus, None),
        "connectNumOfDomains": (conn.numOfDomains, False),
        "connectListDomains": (conn.listDomainsID, False),
        "connectNumOfDefinedDomains": (conn.numOfDefinedDomains, False),
        "connectListDefinedDomains": (conn.listDefinedDomains, False),
        "connectListAllDomains": (lambda: conn.listAllDomains(0), False),
        # libvirt refuses it on read-only connections (it may run the emulator)
        "connectGetDomainCapabilities": (lambda: conn.getDomainCapabilities(), True),
        # CPU models: the host-level calls are reads (compare and baseline
        # may fail on a host CPU without a model, but not as denied); the
        # hypervisor-level ones are refused read-only, as domain capabilities
        "connectGetCPUModelNames": (lambda: conn.getCPUModelNames(HOST_ARCH), False),
        "connectCompareCPU": (lambda: conn.compareCPU(host_cpu(conn)), None),
        "connectBaselineCPU": (lambda: conn.baselineCPU([host_cpu(conn)]), None),
        "connectCompareHypervisorCPU": (lambda: conn.compareHypervisorCPU(
            None, None, None, None, host_cpu(conn)), True),
        "connectBaselineHypervisorCPU": (lambda: conn.baselineHypervisorCPU(
            None, None, None, None, [host_cpu(conn)]), True),
        "connectDomainEventRegister": (lambda: None, False),
        "connectDomainEventDeregister": (lambda: None, False),
        "connectDomainEventRegisterAny": (lambda: None, False),
        "connectDomainEventDeregisterAny": (lambda: None, False),
        "domainLookupByID": (lambda: None, False),
        "domainLookupByUUID": (lambda: conn.lookupByUUIDString(dom.UUIDString()), False),
        "domainLookupByName": (lambda: conn.lookupByName(dom.name()), False),
        "domainGetXMLDesc": (lambda: dom.XMLDesc(0), False),
        "domainGetInfo": (dom.info, False),
        "domainGetState": (dom.state, False),
        "domainGetOSType": (dom.OSType, False),
        "domainGetMaxMemory": (dom.maxMemory, False),
        "domainGetVcpusFlags": (lambda: dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG), False),
        "domainIsActive": (dom.isActive, False),
        "domainIsPersistent": (dom.isPersistent, False),
        "domainIsUpdated": (dom.isUpdated, False),
        "domainHasManagedSaveImage": (lambda: dom.hasManagedSaveImage(0), False),
        "domainGetAutostart": (dom.autostart, False),
        "domainGetMetadata": (lambda: None, False),
        "domainMemoryStats": (lambda: None, False),
        # reads; this domain is not running, so some fail, but not as denied
        "domainInterfaceStats": (lambda: dom.interfaceStats(RO_MAC), None),
        "domainInterfaceAddresses": (lambda: dom.interfaceAddresses(0, 0), None),
        "domainGetInterfaceParameters": (lambda: dom.interfaceParameters(RO_MAC, 0), None),
        # everything else changes something and must be refused
        "domainCreateXML": (lambda: conn.createXML(xml, 0), True),
        "domainDefineXML": (lambda: conn.defineXML(xml), True),
        "domainDefineXMLFlags": (lambda: conn.defineXMLFlags(xml, 0), True),
        "domainUndefine": (dom.undefine, True),
        "domainUndefineFlags": (lambda: dom.undefineFlags(0), True),
        "domainCreate": (dom.create, True),
        "domainCreateWithFlags": (lambda: dom.createWithFlags(0), True),
        "domainDestroy": (dom.destroy, True),
        "domainDestroyFlags": (lambda: dom.destroyFlags(0), True),
        "domainShutdown": (dom.shutdown, True),
        "domainShutdownFlags": (lambda: dom.shutdownFlags(0), True),
        "domainReboot": (lambda: dom.reboot(0), True),
        "domainReset": (lambda: dom.reset(0), True),
        "domainSave": (lambda: dom.save("/nonexistent.save"), True),
        "domainSaveFlags": (lambda: dom.saveFlags("/nonexistent.save", None, 0), True),
        "domainRestore": (lambda: conn.restore("/nonexistent.save"), True),
        "domainRestoreFlags": (lambda: conn.restoreFlags("/nonexistent.save", None, 0), True),
        "domainSaveImageGetXMLDesc": (lambda: conn.saveImageGetXMLDesc("/nonexistent.save", 0),
                                      True),
        "domainManagedSave": (lambda: dom.managedSave(0), True),
        "domainManagedSaveRemove": (lambda: dom.managedSaveRemove(0), True),
        "domainSuspend": (dom.suspend, True),
        "domainResume": (dom.resume, True),
        "domainSetAutostart": (lambda: dom.setAutostart(1), True),
        "domainOpenConsole": (lambda: dom.openConsole(None, conn.newStream(0), 0), True),
        "domainSetMemoryFlags": (lambda: dom.setMemoryFlags(262144, 0), True),
        "domainSetMemory": (lambda: dom.setMemory(262144), True),
        "domainSetMaxMemory": (lambda: dom.setMaxMemory(262144), True),
        "domainSetVcpusFlags": (lambda: dom.setVcpusFlags(1, libvirt.VIR_DOMAIN_AFFECT_CONFIG),
                                True),
        "domainSetVcpus": (lambda: dom.setVcpus(1), True),
        "domainPinVcpu": (lambda: dom.pinVcpu(0, (True,)), True),
        "domainPinVcpuFlags": (lambda: dom.pinVcpuFlags(0, (True,),
                                                        libvirt.VIR_DOMAIN_AFFECT_CONFIG), True),
        "domainPinEmulator": (lambda: dom.pinEmulator((True,), libvirt.VIR_DOMAIN_AFFECT_CONFIG),
                              True),
        "domainSetMetadata": (lambda: dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_TITLE,
                                                       "t", None, None, 0), True),
        "domainAttachDevice": (lambda: dom.attachDevice(hd), True),
        "domainAttachDeviceFlags": (lambda: dom.attachDeviceFlags(hd, 0), True),
        "domainDetachDevice": (lambda: dom.detachDevice(hd), True),
        "domainDetachDeviceFlags": (lambda: dom.detachDeviceFlags(hd, 0), True),
        "domainUpdateDeviceFlags": (lambda: dom.updateDeviceFlags(hd, 0), True),
        "domainSetInterfaceParameters": (lambda: dom.setInterfaceParameters(
            RO_MAC, {libvirt.VIR_DOMAIN_BANDWIDTH_IN_AVERAGE: 100}, 0), True),
        "nodeDeviceDettach": (lambda: ndev.dettach(), True),
        "nodeDeviceDetachFlags": (lambda: ndev.detachFlags(None, 0), True),
        "nodeDeviceReAttach": (lambda: ndev.reAttach(), True),
        "nodeDeviceReset": (lambda: ndev.reset(), True),
    }


class ReadOnly(unittest.TestCase):

    def test_every_mutating_api_refused_on_the_ro_socket(self):
        entries, _ = table()
        virsh("define", self._write("rodom"))
        rw = libvirt.open(URI)
        # straight to the -ro socket, without -r: the daemon enforces it
        ro = libvirt.open(URI + "?socket=" + os.environ["SANDBOX_SOCK"] + "-ro")
        try:
            dom = ro.lookupByName("rodom")
            names = [n for n in ro.listDevices("pci", 0)] if os.geteuid() == 0 else []
            ndev = ro.nodeDeviceLookupByName(names[0]) if names else None
            calls = ro_calls(ro, dom, ndev)
            missing = sorted(set(entries) - set(calls))
            self.assertEqual(missing, [], "API table entries without a read-only case")
            refused = []
            for name, (call, mutating) in sorted(calls.items()):
                if mutating is None:
                    try:
                        call()
                    except libvirt.libvirtError as e:
                        self.assertNotEqual(e.get_error_code(),
                                            libvirt.VIR_ERR_OPERATION_DENIED, name)
                    continue
                if not mutating:
                    call()
                    continue
                if name.startswith("nodeDevice") and ndev is None:
                    continue
                with self.assertRaises(libvirt.libvirtError, msg=name) as cm:
                    call()
                self.assertEqual(cm.exception.get_error_code(),
                                 libvirt.VIR_ERR_OPERATION_DENIED,
                                 "%s: %s" % (name, cm.exception))
                refused.append(name)
            self.assertGreaterEqual(len(refused), 25)
            # nothing changed
            self.assertEqual(rw.lookupByName("rodom").isActive(), 0)
        finally:
            ro.close()
            rw.close()
            virsh("undefine", "rodom")

    def _write(self, name):
        path = os.path.join(SB, name + ".xml")
        with open(path, "w") as f:
            f.write(domxml(name, devs=RO_NIC))
        return path


class ACL(unittest.TestCase):
    # libvirt's drivers do not check ACLs for these: closing one's own
    # connection and asking about its transport
    EXEMPT = {"connectClose", "connectIsSecure", "connectIsEncrypted", "connectIsAlive"}

    def test_every_entry_point_checks_the_acl(self):
        entries, src = table()
        for api, func in entries.items():
            if api in self.EXEMPT:
                continue
            m = re.search(r"\n%s\(.*?\n\{(.*?)\n\}\n" % re.escape(func), src, re.S)
            self.assertIsNotNone(m, func)
            body = m.group(1)
            # a thin wrapper may delegate to a function that checks
            callees = re.findall(r"return (stratovirt\w+)\(", body)
            bodies = [body] + [re.search(r"\n%s\(.*?\n\{(.*?)\n\}\n" % re.escape(c), src,
                                         re.S).group(1) for c in callees
                               if re.search(r"\n%s\(" % re.escape(c), src)]
            text = "\n".join(bodies)
            if "stratovirtNodeDeviceCheckManager" in text or api.startswith("nodeDevice"):
                # virDomainDriverNodeDevice* check virNodeDevice*EnsureACL
                # (detach goes through stratovirt_compat.h, which calls it)
                self.assertRegex(text, r"(virDomainDriverNodeDevice|"
                                 r"virStratoVirtCompatNodeDevice)\w+\(", func)
                continue
            self.assertRegex(text, r"(EnsureACL|CheckACL)", "%s (%s) has no ACL check" % (func, api))


@unittest.skipUnless(os.geteuid() == 0, "file modes of the system instance")
class Modes(unittest.TestCase):

    def test_status_config_log_and_socket_modes(self):
        path = os.path.join(SB, "mode1.xml")
        with open(path, "w") as f:
            f.write(domxml("mode1"))
        virsh("define", path)
        virsh("start", "mode1")
        try:
            def mode(p):
                return stat.S_IMODE(os.stat(p).st_mode)
            self.assertEqual(mode("/etc/libvirt/stratovirt/mode1.xml"), 0o600)
            self.assertEqual(mode(os.path.join(STATE, "mode1.xml")), 0o600)
            self.assertEqual(mode("/var/log/libvirt/stratovirt/mode1.log"), 0o600)
            socks = [os.path.join(STATE, d, "qmp.sock") for d in os.listdir(STATE)
                     if os.path.exists(os.path.join(STATE, d, "qmp.sock"))]
            self.assertEqual(len(socks), 1)
            self.assertEqual(mode(socks[0]), 0o600)
            self.assertTrue(stat.S_ISSOCK(os.stat(socks[0]).st_mode))
            self.assertEqual(mode(os.environ["SANDBOX_SOCK"].replace("-sock", "-admin-sock")), 0o700)
        finally:
            virsh("destroy", "mode1")
            virsh("undefine", "mode1")


@unittest.skipUnless(os.geteuid() == 0 and os.environ.get("SANDBOX_SIMPCI"),
                     "needs root and the simulated PCI host")
class UnprivilegedVMM(unittest.TestCase):

    def test_vmm_runs_as_the_configured_user_with_dac_given_and_taken_back(self):
        import pwd, grp, shutil
        nobody = pwd.getpwnam("nobody")
        group = grp.getgrgid(nobody.pw_gid)
        # The checkout may sit under a directory nobody cannot enter (a
        # mktemp -d clone is 0700); the VMM's binary and images go where an
        # unprivileged user can reach them, as on a real host: under
        # /var/lib/libvirt, the sandbox's own mount.
        img = "/var/lib/libvirt/unpriv-images"
        os.makedirs(img, mode=0o755, exist_ok=True)
        os.chmod(img, 0o755)
        binary = os.path.join(img, "stratovirt")
        shutil.copy(os.path.join(TOP, "tests", "standin", "stratovirt"), binary)
        os.chmod(binary, 0o755)
        with open(driver_conf_path()) as f:
            saved = f.read()
        with open(driver_conf_path(), "w") as f:
            f.write(driver_conf_overriding(
                saved, 'stratovirt_binary = "%s"\nuser = "nobody"\ngroup = "%s"\n'
                'vfio_memlock = 0\n' % (binary, group.gr_name)))
        restart_daemon()
        try:
            hd = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                  "<address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev>")
            path = os.path.join(SB, "unpriv1.xml")
            with open(path, "w") as f:
                f.write(domxml("unpriv1", hd, img=img))
            image = os.path.join(img, "unpriv1.raw")
            os.chown(image, 0, 0)
            virsh("create", path)
            from svtest import status_pid
            pid = status_pid("unpriv1")
            with open("/proc/%d/status" % pid) as f:
                uid_line = [l for l in f if l.startswith("Uid:")][0]
            self.assertEqual(int(uid_line.split()[1]), nobody.pw_uid)
            self.assertEqual(os.stat(image).st_uid, nobody.pw_uid)
            self.assertEqual(os.stat("/dev/vfio/3").st_uid, nobody.pw_uid)
            # libvirt's DAC driver remembers the owner on the file itself
            self.assertEqual(os.getxattr(image, "trusted.libvirt.security.dac"), b"+0:+0")
            self.assertEqual(os.getxattr(image, "trusted.libvirt.security.ref_dac"), b"1")
            virsh("destroy", "unpriv1")
            self.assertEqual(os.stat(image).st_uid, 0)
            self.assertEqual(os.stat(image).st_gid, 0)
            self.assertNotIn("trusted.libvirt.security.dac", os.listxattr(image))
        finally:
            with open(driver_conf_path(), "w") as f:
                f.write(saved)
            restart_daemon()


@unittest.skipUnless(os.geteuid() == 0, "needs root (a privileged daemon labels with DAC)")
class SecurityManager(unittest.TestCase):
    """Labels through libvirt's security manager: a disk two running
    domains share keeps the VMM's owner until the last of them stops, and
    the domain's <seclabel> is honoured."""

    IMG = "/var/lib/libvirt/secmgr-images"

    def setUp(self):
        import shutil
        # where the unprivileged VMM can reach its binary and images
        os.makedirs(self.IMG, mode=0o755, exist_ok=True)
        os.chmod(self.IMG, 0o755)
        self.binary = os.path.join(self.IMG, "stratovirt")
        shutil.copy(os.path.join(TOP, "tests", "standin", "stratovirt"), self.binary)
        os.chmod(self.binary, 0o755)
        with open(driver_conf_path()) as f:
            self.saved = f.read()

    def tearDown(self):
        for n in ("share1", "share2", "seclab1", "seclab2"):
            virsh("destroy", n, check=False)
        with open(driver_conf_path(), "w") as f:
            f.write(self.saved)
        restart_daemon()

    def conf(self, extra):
        with open(driver_conf_path(), "w") as f:
            f.write(driver_conf_overriding(
                self.saved, 'stratovirt_binary = "%s"\n%s' % (self.binary, extra)))
        restart_daemon()

    def create(self, name, disk, devs=""):
        xml = domxml(name, devs, img=self.IMG).replace(
            "%s/%s.raw" % (self.IMG, name), disk)
        path = os.path.join(SB, name + ".xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("create", path)
        # still in this sandbox's own cgroup partition, never in one another
        # sandbox's VMMs may share
        part = os.environ.get("SANDBOX_CGROUP_PARTITION")
        if part:
            from svtest import status_pid
            with open("/proc/%d/cgroup" % status_pid(name)) as f:
                self.assertIn(os.path.basename(part), f.read(),
                              "%s: the VMM is not under %s" % (name, part))

    def test_a_shared_disk_is_given_back_when_the_last_domain_stops(self):
        import pwd, grp
        nobody = pwd.getpwnam("nobody")
        group = grp.getgrgid(nobody.pw_gid)
        self.conf('user = "nobody"\ngroup = "%s"\n' % group.gr_name)
        shared = os.path.join(self.IMG, "shared.raw")
        with open(shared, "wb") as f:
            f.truncate(1 << 20)
        os.chown(shared, 0, 0)
        os.chmod(shared, 0o600)
        for rnd in range(3):
            self.create("share1", shared)
            self.create("share2", shared)
            self.assertEqual(os.stat(shared).st_uid, nobody.pw_uid)
            self.assertEqual(os.getxattr(shared, "trusted.libvirt.security.ref_dac"), b"2")
            # the first to stop must not take the disk from the other
            first, second = ("share1", "share2") if rnd % 2 == 0 else ("share2", "share1")
            virsh("destroy", first)
            self.assertEqual(os.stat(shared).st_uid, nobody.pw_uid,
                             "round %d: disk given back while %s runs" % (rnd, second))
            self.assertEqual(os.getxattr(shared, "trusted.libvirt.security.ref_dac"), b"1")
            virsh("destroy", second)
            st = os.stat(shared)
            self.assertEqual((st.st_uid, st.st_gid), (0, 0), "round %d" % rnd)
            self.assertNotIn("trusted.libvirt.security.ref_dac", os.listxattr(shared))

    def test_seclabel_of_the_domain_is_honoured(self):
        # stratovirt.conf says root; the domain's static DAC label says
        # nobody: the VMM runs as nobody and gets its disk for the run
        import pwd
        from svtest import status_pid
        nobody = pwd.getpwnam("nobody")
        self.conf('user = "root"\ngroup = "root"\n')
        disk = os.path.join(self.IMG, "seclab1.raw")
        with open(disk, "wb") as f:
            f.truncate(1 << 20)
        os.chown(disk, 0, 0)
        label = ("<seclabel type='static' model='dac' relabel='yes'>"
                 "<label>+%d:+%d</label></seclabel>" % (nobody.pw_uid, nobody.pw_gid))
        xml = domxml("seclab1", img=self.IMG).replace("</devices></domain>",
                                                      "</devices>%s</domain>" % label)
        path = os.path.join(SB, "seclab1.xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("create", path)
        with open("/proc/%d/status" % status_pid("seclab1")) as f:
            uid = int([l for l in f if l.startswith("Uid:")][0].split()[1])
        self.assertEqual(uid, nobody.pw_uid)
        self.assertEqual(os.stat(disk).st_uid, nobody.pw_uid)
        self.assertIn("<label>+%d:+%d</label>" % (nobody.pw_uid, nobody.pw_gid),
                      virsh("dumpxml", "seclab1").stdout)
        virsh("destroy", "seclab1")
        self.assertEqual(os.stat(disk).st_uid, 0)

        # relabel='no': the files are left alone (the VMM is root here)
        disk2 = os.path.join(self.IMG, "seclab2.raw")
        with open(disk2, "wb") as f:
            f.truncate(1 << 20)
        os.chown(disk2, nobody.pw_uid, nobody.pw_gid)
        xml = domxml("seclab2", img=self.IMG).replace(
            "</devices></domain>",
            "</devices><seclabel type='none' model='dac'/></domain>")
        path = os.path.join(SB, "seclab2.xml")
        with open(path, "w") as f:
            f.write(xml)
        virsh("create", path)
        self.assertEqual(os.stat(disk2).st_uid, nobody.pw_uid)
        self.assertNotIn("trusted.libvirt.security.dac", os.listxattr(disk2))
        virsh("destroy", "seclab2")
        self.assertEqual(os.stat(disk2).st_uid, nobody.pw_uid)


class Values(unittest.TestCase):

    def test_values_the_command_line_cannot_carry_are_refused(self):
        for field, bad in (("name", "a,b"), ("name", "x=y"), ("name", "-rm"),
                           ("disk", "/var/lib/a,if=pflash.raw"), ("disk", "/tmp/x&#10;y.raw"),
                           ("kernel", "-kernel")):
            xml = domxml("val1")
            if field == "name":
                xml = xml.replace("<name>val1</name>", "<name>%s</name>" % bad)
            elif field == "disk":
                xml = re.sub(r"<source file='[^']*'/>", "<source file='%s'/>" % bad, xml)
            else:
                xml = re.sub(r"<kernel>[^<]*</kernel>", "<kernel>%s</kernel>" % bad, xml)
            conn = libvirt.open(URI)
            try:
                with self.subTest(field=field, value=bad), \
                        self.assertRaises(libvirt.libvirtError) as cm:
                    conn.defineXML(xml)
                self.assertEqual(cm.exception.get_error_code(),
                                 libvirt.VIR_ERR_CONFIG_UNSUPPORTED, str(cm.exception))
                self.assertIn("cannot be passed to StratoVirt", str(cm.exception))
            finally:
                conn.close()


if __name__ == "__main__":
    main()
