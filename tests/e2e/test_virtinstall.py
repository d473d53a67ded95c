#!/usr/bin/python3
"""virt-install (Debian's virtinst) creating StratoVirt domains through the
sandbox's virtstratovirtd, as a user would."""

import os
import re
import shutil
import subprocess
import unittest

from svtest import KERNELS, make_images, needs_version, standin_only
from svtest import SB, URI, virsh, main, status_pid

IMG = os.path.join(SB, "vi-images")


def virt_install(*args):
    make_images(IMG, ("vmlinux", "initrd.img", "rootfs.raw"))
    args = list(args)
    vcpus = [] if "--vcpus" in args else ["--vcpus", "1"]
    cmd = ["virt-install", "--connect", URI, "--memory", "512"] + vcpus + [
           "--machine", "q35",
           "--boot", "kernel=%s/vmlinux,initrd=%s/initrd.img,kernel_args=console=hvc0"
           % (IMG, IMG),
           "--network", "none", "--graphics", "none", "--osinfo", "generic",
           "--import", "--noautoconsole"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


OVMF_DESC = "/usr/share/qemu/firmware/60-edk2-x86_64.json"


def virt_install_plain(name, *args):
    """virt-install with no boot option: what a new user types"""
    os.makedirs(IMG, exist_ok=True)
    disk = os.path.join(IMG, name + ".raw")
    with open(disk, "ab") as fh:
        fh.truncate(1 << 20)
    cmd = ["virt-install", "--connect", URI, "--name", name, "--memory", "512",
           "--osinfo", "linux2022", "--noautoconsole"] + list(args)
    if "--disk" not in args:
        cmd += ["--disk", "path=%s,bus=virtio" % disk]
    if "--cdrom" not in args and "--location" not in args:
        cmd.append("--import")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def vmm_argv(name):
    """the command line the running VMM of domain NAME really got"""
    with open("/proc/%d/cmdline" % status_pid(name)) as f:
        return " ".join(f.read().split("\0"))


@unittest.skipUnless(os.geteuid() == 0 and os.path.exists("/usr/bin/virt-install"),
                     "needs root (the sandbox's libvirtd serves storage lookups) and virt-install")
class VirtInstall(unittest.TestCase):

    def test_virtio_disk_and_console_install_runs(self):
        p = virt_install("--name", "vi1",
                         "--disk", "path=%s/rootfs.raw,bus=virtio,format=raw" % IMG,
                         "--console", "pty,target_type=virtio")
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(virsh("domstate", "vi1").stdout.strip(), "running")
        xml = virsh("dumpxml", "vi1").stdout
        self.assertIn("<target dev='vda' bus='virtio'/>", xml)
        virsh("destroy", "vi1")
        virsh("undefine", "vi1")

    def _runs(self, name, *args):
        os.makedirs(IMG, exist_ok=True)
        disk = os.path.join(IMG, name + ".raw")
        with open(disk, "ab") as fh:
            fh.truncate(1 << 20)
        p = virt_install("--name", name,
                         "--disk", "path=%s,bus=virtio,format=raw" % disk, *args)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.addCleanup(virsh, "undefine", name, check=False)
        self.addCleanup(virsh, "destroy", name, check=False)
        self.assertEqual(virsh("domstate", name).stdout.strip(), "running")
        return virsh("dumpxml", name).stdout

    def test_default_console_pty_runs_with_a_serial_console(self):
        # virt-install's default console (a lone <console type='pty'/>) and
        # --console pty: libvirt makes it a serial port plus a stub console
        for name, args in (("vicon1", ()), ("vicon2", ("--console", "pty")),
                           ("vicon3", ("--serial", "pty"))):
            xml = self._runs(name, *args)
            self.assertRegex(xml, r"<serial type='pty'>\s*<source path='/dev/pts/\d+'/>")
            self.assertIn("<console type='pty' tty='/dev/pts/", xml)
            self.assertIn("<target type='serial' port='0'/>", xml)

    @needs_version((2, 2, 0), "StratoVirt 2.1.0 takes no CPU topology (the driver refuses it by name)")
    def test_cpu_topology_without_mode_runs(self):
        xml = self._runs("vitopo", "--vcpus", "2,sockets=1,cores=2")
        # libvirt >= 10.0 also writes clusters='1'
        self.assertRegex(xml, r"<topology sockets='1' dies='1' (clusters='1' )?cores='2' threads='1'/>")
        # StratoVirt got the topology, and its own CPU rather than -cpu host
        args = vmm_argv("vitopo")
        self.assertIn("sockets=1,cores=2,threads=1", args)
        self.assertNotIn("-cpu host", args)

    def _uefi_runs(self, name, *args):
        p = virt_install_plain(name, *args)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.addCleanup(virsh, "undefine", name, "--nvram", check=False)
        self.addCleanup(virsh, "destroy", name, check=False)
        self.assertEqual(virsh("domstate", name).stdout.strip(), "running")
        xml = virsh("dumpxml", name).stdout
        self.assertIn("<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>", xml)
        nvram = "/var/lib/libvirt/stratovirt/nvram/%s_VARS.fd" % name
        self.assertIn("<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>%s</nvram>" % nvram, xml)
        # the variable store was created from the template
        with open(nvram, "rb") as a, open("/usr/share/OVMF/OVMF_VARS_4M.fd", "rb") as b:
            self.assertEqual(a.read(), b.read())
        argv = vmm_argv(name)
        self.assertIn("-drive file=/usr/share/OVMF/OVMF_CODE_4M.fd,if=pflash,unit=0,readonly=on", argv)
        self.assertIn("-drive file=%s,if=pflash,unit=1" % nvram, argv)
        if "--network" not in args:
            # virt-install's default NIC (e1000e for a connection that is
            # not QEMU's) on virtio-net, a port of the default network
            self.assertRegex(xml, r"<interface type='network'>(.|\n)*?<source network='default'"
                             r"(.|\n)*?<model type='virtio'/>")
            self.assertRegex(argv, r"-netdev tap,id=hostnet0,fd=\d+")
        return xml

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    def test_no_boot_option_boots_uefi_from_the_descriptors(self):
        self._uefi_runs("viuefi1", "--graphics", "none")
        # undefine --nvram takes the variable store with it
        virsh("destroy", "viuefi1")
        virsh("undefine", "viuefi1", "--nvram")
        self.assertFalse(os.path.exists("/var/lib/libvirt/stratovirt/nvram/viuefi1_VARS.fd"))

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    def test_boot_uefi_picks_the_firmware_from_domain_capabilities(self):
        caps = virsh("domcapabilities").stdout
        self.assertIn("<value>/usr/share/OVMF/OVMF_CODE_4M.fd</value>", caps)
        self.assertRegex(caps, r"<enum name='firmware'>\s*<value>efi</value>")
        # Secure Boot images need SMM, which StratoVirt lacks: not offered
        self.assertNotIn("secboot", caps)
        self._uefi_runs("viuefi2", "--boot", "uefi",
                        "--graphics", "none")

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    def test_secure_boot_is_refused_with_the_fix(self):
        p = virt_install_plain("visb", "--boot", "uefi,firmware.feature0.name=secure-boot,"
                               "firmware.feature0.enabled=yes",
                               "--graphics", "none")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Secure Boot firmware needs SMM", p.stderr)
        self.assertIn("enabled=no", p.stderr)

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    @needs_version((2, 2, 0), "StratoVirt 2.1.0 has no virtio-gpu, vnc, usb or virtio-scsi (domain capabilities say so), so virt-install's graphical defaults and cdrom cannot run there")
    def test_defaults_run_on_uefi_with_a_clickable_display(self):
        # no device options: virt-install's own choices for a non-QEMU
        # connection (sata disk, pty console, VNC, virtio video, USB
        # tablet, an e1000e NIC on the default network).
        os.makedirs(IMG, exist_ok=True)
        disk = os.path.join(IMG, "videf.raw")
        with open(disk, "ab") as fh:
            fh.truncate(1 << 20)
        xml = self._uefi_runs("videf", "--vcpus", "2", "--disk", "path=%s" % disk)
        # sata has no StratoVirt controller: the disk went on virtio-scsi
        self.assertIn("<target dev='sda' bus='scsi'/>", xml)
        self.assertIn("<controller type='scsi' index='0' model='virtio-scsi'>", xml)
        self.assertIn("<controller type='usb' index='0' model='nec-xhci'>", xml)
        argv = vmm_argv("videf")
        self.assertIn("scsi-hd,id=scsi0-0-0-0,bus=scsi0.0,scsi-id=0,lun=0,"
                      "drive=drive-scsi0-0-0-0,bootindex=0", argv)
        self.assertRegex(argv, r"-device virtio-scsi-pci,id=scsi0,bus=pci\.\d+,addr=0x0")
        # a pointer the VNC client can click: usb-tablet on the xHCI
        self.assertRegex(argv, r"-device nec-usb-xhci,id=usb0,bus=pci\.\d+,addr=0x0")
        self.assertIn("-device usb-tablet,id=input0,bus=usb0.0,port=1", argv)
        self.assertRegex(argv, r"-vnc 127\.0\.0\.1:\d+")
        self.assertIn("virtio-gpu-pci", argv)
        self.assertRegex(virsh("domdisplay", "videf").stdout, r"vnc://(localhost|127\.0\.0\.1):\d+")

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    @needs_version((2, 2, 0), "StratoVirt 2.1.0 has no virtio-gpu, vnc, usb or virtio-scsi (domain capabilities say so), so virt-install's graphical defaults and cdrom cannot run there")
    def test_defaults_with_each_everyday_option(self):
        for name, args in (("viopt1", ("--graphics", "vnc")),
                           ("viopt2", ("--boot", "uefi")),
                           ("viopt3", ("--console", "pty")),
                           ("viopt4", ("--vcpus", "2,sockets=1,cores=2"))):
            os.makedirs(IMG, exist_ok=True)
            disk = os.path.join(IMG, name + ".raw")
            with open(disk, "ab") as fh:
                fh.truncate(1 << 20)
            self._uefi_runs(name, "--disk", "path=%s" % disk, *args)
        self.assertIn("sockets=1,cores=2,threads=1", vmm_argv("viopt4"))

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    @needs_version((2, 2, 0), "StratoVirt 2.1.0 has no virtio-gpu, vnc, usb or virtio-scsi (domain capabilities say so), so virt-install's graphical defaults and cdrom cannot run there")
    def test_cdrom_install_boots_the_cdrom_then_the_disk(self):
        os.makedirs(IMG, exist_ok=True)
        iso = os.path.join(IMG, "install.iso")
        with open(iso, "ab") as fh:
            fh.truncate(4 << 20)
        disk = os.path.join(IMG, "vicd.raw")
        with open(disk, "ab") as fh:
            fh.truncate(1 << 20)
        self._uefi_runs("vicd", "--cdrom", iso, "--disk", "path=%s" % disk)
        argv = vmm_argv("vicd")
        # the install phase: the cdrom first in the firmware's boot order
        self.assertRegex(argv, r"-drive id=drive-scsi0-0-0-1,file=%s,if=none,format=raw,"
                         r"readonly=on,media=cdrom" % re.escape(iso))
        self.assertIn("scsi-cd,id=scsi0-0-0-1,bus=scsi0.0,scsi-id=0,lun=1,"
                      "drive=drive-scsi0-0-0-1,bootindex=0", argv)
        self.assertIn("bootindex=1", argv.split("scsi-hd,")[1].split(" ")[0])
        # virt-install's final definition has the cdrom ejected; the next
        # boot is from the disk, the empty drive is left off
        inactive = virsh("dumpxml", "--inactive", "vicd").stdout
        self.assertRegex(inactive, r"<disk type='file' device='cdrom'>\s*<driver[^>]*/>?\s*"
                         r"<target dev='sdb' bus='scsi'/>")
        virsh("destroy", "vicd")
        virsh("start", "vicd")
        argv = vmm_argv("vicd")
        self.assertNotIn("scsi-cd", argv)
        self.assertIn("bootindex=0", argv.split("scsi-hd,")[1].split(" ")[0])
        # change-media: StratoVirt has no live media change, the definition
        # takes it for the next start
        iso2 = os.path.join(IMG, "tools.iso")
        with open(iso2, "ab") as fh:
            fh.truncate(4 << 20)
        p = virsh("change-media", "vicd", "sdb", iso2, "--insert", "--live", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no media change", p.stderr)
        self.assertIn("--config", p.stderr)
        self.assertNotIn("tools.iso", virsh("dumpxml", "vicd").stdout)
        virsh("change-media", "vicd", "sdb", iso2, "--insert", "--config")
        self.assertIn("<source file='%s'/>" % iso2, virsh("dumpxml", "--inactive", "vicd").stdout)
        virsh("destroy", "vicd")
        virsh("start", "vicd")
        self.assertIn("file=%s,if=none,format=raw,readonly=on,media=cdrom" % iso2,
                      vmm_argv("vicd"))


    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    @needs_version((2, 2, 0), "StratoVirt 2.1.0 has no virtio-scsi (domain capabilities say so): no cdrom for the installer ISO or the cloud-init seed")
    def test_location_install_runs_the_installer_kernel_then_boots_uefi(self):
        # a Debian netinst ISO's layout (what virtinst's tree detection reads):
        # install.amd/vmlinuz + initrd.gz and .disk/info
        tree = os.path.join(IMG, "loc-tree")
        os.makedirs(os.path.join(tree, "install.amd"), exist_ok=True)
        os.makedirs(os.path.join(tree, ".disk"), exist_ok=True)
        # the installer's kernel: the project's tiny q35 kernel
        shutil.copyfile(KERNELS["vmlinux"], os.path.join(tree, "install.amd", "vmlinuz"))
        with open(os.path.join(tree, "install.amd", "initrd.gz"), "wb") as fh:
            fh.truncate(1 << 20)
        with open(os.path.join(tree, ".disk", "info"), "w") as fh:
            fh.write('Debian GNU/Linux 11.0.0 "Bullseye" - Official amd64 NETINST\n')
        iso = os.path.join(IMG, "netinst.iso")
        subprocess.run(["xorrisofs", "-quiet", "-J", "-R", "-o", iso, tree], check=True)
        # an ISO is sized in 2048-byte sectors: StratoVirt 2.5 refuses such
        # a file for direct I/O, so the driver opens install media without
        self.assertTrue(os.path.getsize(iso) % 4096, "the ISO happens to be 4096-aligned")
        p = subprocess.run(["virt-install", "--connect", URI, "--name", "viloc",
                            "--memory", "512", "--vcpus", "1", "--location", iso,
                            "--disk", "size=1", "--osinfo", "debian11", "--noautoconsole",
                            "--graphics", "none"],
                           capture_output=True, text=True, timeout=120)
        self.addCleanup(virsh, "undefine", "viloc", "--nvram", "--remove-all-storage",
                        check=False)
        self.addCleanup(virsh, "destroy", "viloc", check=False)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(virsh("domstate", "viloc").stdout.strip(), "running")
        # the install phase: the tree's kernel and initrd, copied by
        # virt-install into its scratch pool, the ISO as a cdrom
        xml = virsh("dumpxml", "viloc").stdout
        kernel = re.search(r"<kernel>(/var/lib/libvirt/boot/virtinst-[^<]*vmlinuz)</kernel>", xml)
        self.assertTrue(kernel, xml)
        argv = vmm_argv("viloc")
        self.assertIn("-kernel %s" % kernel.group(1), argv)
        self.assertRegex(argv, r"-initrd /var/lib/libvirt/boot/virtinst-\S*initrd\.gz")
        self.assertIn("file=%s,if=none,format=raw,readonly=on,media=cdrom,direct=off" % iso, argv)
        # the installed system boots UEFI from its disk
        inactive = virsh("dumpxml", "--inactive", "viloc").stdout
        self.assertNotIn("<kernel>", inactive)
        self.assertIn("<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd"
                      "</loader>", inactive)

    @unittest.skipUnless(os.path.exists(OVMF_DESC), "needs Debian's ovmf (./run setup installs it)")
    @needs_version((2, 2, 0), "StratoVirt 2.1.0 has no virtio-scsi (domain capabilities say so): no cdrom for the installer ISO or the cloud-init seed")
    def test_cloud_init_seed_is_a_cdrom_of_the_first_boot_only(self):
        disk = os.path.join(IMG, "vici.raw")
        os.makedirs(IMG, exist_ok=True)
        with open(disk, "ab") as fh:
            fh.truncate(1 << 20)
        p = subprocess.run(["virt-install", "--connect", URI, "--name", "vici",
                            "--memory", "512", "--vcpus", "1", "--disk", "path=%s" % disk,
                            "--import", "--cloud-init", "root-password-generate=on",
                            "--osinfo", "linux2022", "--noautoconsole", "--graphics", "none"],
                           capture_output=True, text=True, timeout=120)
        self.addCleanup(virsh, "undefine", "vici", "--nvram", check=False)
        self.addCleanup(virsh, "destroy", "vici", check=False)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertIn("Password for first root login is:", p.stdout + p.stderr)
        xml = virsh("dumpxml", "vici").stdout
        seed = re.search(r"<source file='(/var/lib/libvirt/boot/virtinst-[^']*cloudinit\.iso)'/>",
                         xml)
        self.assertTrue(seed, xml)
        # StratoVirt got the NoCloud seed as a SCSI cdrom the guest can read
        self.assertRegex(vmm_argv("vici"), r"-drive id=drive-scsi0-0-0-\d,file=%s,if=none,"
                         r"format=raw,readonly=on,media=cdrom" % re.escape(seed.group(1)))
        # (virt-install deletes its scratch seed once the VMM has opened it)
        # the next boot has no seed
        self.assertNotIn("cloudinit.iso", virsh("dumpxml", "--inactive", "vici").stdout)

    def test_microvm_with_virt_install_defaults(self):
        # virt-install reads ACPI from the capabilities: off by default
        # there, so a microvm gets no <acpi/> (q35 and virt always have it)
        os.makedirs(IMG, exist_ok=True)
        disk = os.path.join(IMG, "vimv.raw")
        with open(disk, "ab") as fh:
            fh.truncate(1 << 20)
        make_images(IMG, ["vmlinux-microvm"])
        cmd = ["virt-install", "--connect", URI, "--name", "vimv", "--memory", "256",
               "--vcpus", "1", "--machine", "microvm",
               "--boot", "kernel=%s/vmlinux-microvm,kernel_args=console=ttyS0" % IMG,
               "--disk", "path=%s,bus=virtio" % disk, "--osinfo", "linux2022",
               "--import", "--noautoconsole"]
        self.addCleanup(virsh, "undefine", "vimv", check=False)
        self.addCleanup(virsh, "destroy", "vimv", check=False)
        # virt-install gives every x86 guest VNC: microvm has no display
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("microvm has no display device", p.stderr)
        self.assertIn("--graphics none", p.stderr)
        p = subprocess.run(cmd + ["--graphics", "none"], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        self.assertEqual(virsh("domstate", "vimv").stdout.strip(), "running")
        xml = virsh("dumpxml", "vimv").stdout
        self.assertNotIn("<acpi/>", xml)
        self.assertIn("<type arch='x86_64' machine='microvm'>hvm</type>", xml)
        self.assertIn("virtio-blk-device", vmm_argv("vimv"))

    @standin_only("its qcow2 image is a zero-filled placeholder, which a real StratoVirt cannot open")
    def test_qcow2_image_without_a_format_is_refused_with_the_fix(self):
        # virt-install writes no <driver type> for a non-QEMU connection;
        # StratoVirt would run the qcow2 container as a raw disk
        os.makedirs(IMG, exist_ok=True)
        img = os.path.join(IMG, "viq.qcow2")
        with open(img, "wb") as fh:
            fh.write(b"QFI\xfb\x00\x00\x00\x03")
            fh.truncate(1 << 20)
        p = virt_install_plain("viq", "--disk", "path=%s,bus=virtio" % img,
                               "--graphics", "none")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("is a qcow2 image but its format is not given", p.stderr)
        self.assertIn("driver.type=qcow2", p.stderr)
        self.assertNotIn("viq", virsh("list", "--all", "--name").stdout)
        # with the format given it runs
        p = virt_install_plain("viq", "--disk", "path=%s,bus=virtio,driver.type=qcow2" % img,
                               "--graphics", "none")
        self.addCleanup(virsh, "undefine", "viq", "--nvram", check=False)
        self.addCleanup(virsh, "destroy", "viq", check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("format=qcow2", vmm_argv("viq"))


if __name__ == "__main__":
    main()
