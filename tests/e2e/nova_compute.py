"""Nova's own libvirt driver, in-process, against the sandbox's daemon.

Run by test_nova.py as /usr/bin/python3 with PYTHONPATH at a private copy
of Debian's nova package (patched or not); never imported by the tests
themselves, since Nova monkey-patches the process with eventlet, as
nova-compute does.

    nova_compute.py init-host CONF...     init_host only
    nova_compute.py scenario CONF...      every step, in order

Each step prints one line, 'STEP <name> ok|fail|skip <detail>', so the
test can assert each one and the report says which passed.  What is not
libvirt is stubbed as Nova's functional tests stub it: no database (the
objects are built in memory and their save() does nothing), the image
service (a local raw image), Neutron's and Cinder's answers (port and
volume descriptions as Neutron and Cinder would send them).
"""

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
import uuid as uuidlib

from nova import monkey_patch  # noqa: as nova-compute: eventlet first

monkey_patch._monkey_patch()

from oslo_config import cfg  # noqa: E402
from oslo_utils import timeutils  # noqa: E402

from nova import config  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova import exception  # noqa: E402
from nova import objects  # noqa: E402
from nova import privsep  # noqa: E402
from nova.compute import power_state  # noqa: E402
from nova.network import model as network_model  # noqa: E402
from nova.virt import images  # noqa: E402
from nova.virt import virtapi  # noqa: E402

CONF = cfg.CONF
SB = os.environ["SANDBOX_DIR"]
RESULTS = []
KNOWN = []
LOOPS = []      # loop devices of the scenario's volume, detached at exit


def step(name, status, detail=""):
    line = "STEP %s %s %s" % (name, status, " ".join(str(detail).split()))
    print(line, flush=True)
    RESULTS.append((name, status))


class VirtAPI(virtapi.VirtAPI):
    """The compute manager's side: events arrive at once (Neutron's
    network-vif-plugged is the stub's answer), provider updates go nowhere."""

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance, event_names, deadline=300,
                                error_callback=None):
        yield

    def exit_wait_early(self, events):
        pass

    def update_compute_provider_status(self, context, rp_uuid, enabled):
        pass


def setup(conf_files):
    objects.register_all()
    config.parse_args(["nova-compute"] + sum((["--config-file", f] for f in conf_files), []),
                      configure_db=False, init_rpc=False)
    # privileged helpers run in this process (root in the sandbox), as in
    # Nova's functional tests (PrivsepFixture)
    privsep.sys_admin_pctxt.set_client_mode(False)
    try:
        from vif_plug_ovs import privsep as ovs_privsep
        ovs_privsep.vif_plug.set_client_mode(False)
    except ImportError:
        pass
    try:
        from os_brick import privileged as brick_privileged
        brick_privileged.default.set_client_mode(False)
    except ImportError:
        pass
    # the database: this compute node has no service record, as at its
    # first start (Nova then logs it and carries on)
    def no_service(cls, context, host, use_slave=False):
        raise exception.ComputeHostNotFound(host=host)
    objects.Service.get_by_compute_host = classmethod(no_service)

    # the instances the database knows on this host: the one the scenario
    # builds, once it exists
    def by_host(cls, context, host, expected_attrs=None, use_slave=False):
        return objects.InstanceList(objects=list(KNOWN))
    objects.InstanceList.get_by_host = classmethod(by_host)

    # no tagged interfaces or block devices in the database (device
    # metadata for the config drive)
    objects.VirtualInterfaceList.get_by_instance_uuid = classmethod(
        lambda cls, context, instance_uuid, use_slave=False:
        objects.VirtualInterfaceList(objects=[]))
    objects.BlockDeviceMappingList.get_by_instance_uuid = classmethod(
        lambda cls, context, instance_uuid, use_slave=False:
        objects.BlockDeviceMappingList(objects=[]))
    # Nova 30+ (Debian 13's 31): no virtiofs shares (ShareMapping) either
    if hasattr(objects, "ShareMappingList"):
        objects.ShareMappingList.get_by_instance_uuid = classmethod(
            lambda cls, context, instance_uuid:
            objects.ShareMappingList(objects=[]))

    # saving an object writes the database: here it only clears changes
    def save(self, *args, **kwargs):
        self.obj_reset_changes(recursive=True)
    objects.Instance.save = save
    from nova.virt.libvirt import driver
    drv = driver.LibvirtDriver(VirtAPI(), False)
    # os-vif's plugins, loaded when nova-compute starts its network API
    import os_vif
    os_vif.initialize()
    return drv


def init_host(drv):
    try:
        drv.init_host("compute1")
    except Exception as e:
        traceback.print_exc()
        step("init_host", "fail", "%s: %s" % (type(e).__name__, e))
        return False
    step("init_host", "ok", "hypervisor %s %s" % (drv._host.get_driver_type(),
                                                  drv._host.get_version()))
    return True


# ---- the scenario ------------------------------------------------------

def sysfs_driver(bdf):
    link = "/sys/bus/pci/devices/%s/driver" % bdf
    return os.path.basename(os.readlink(link)) if os.path.islink(link) else None


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


class BDM(dict):
    """A block device mapping as the compute manager hands it to the
    driver (nova.virt.block_device.DriverVolumeBlockDevice): a dict whose
    save() writes to the database, here nowhere."""

    def save(self):
        pass


def make_instance(ctx, pci_dev, image_meta, name="nova-on-stratovirt", db_id=7):
    """An instance of the flavor with the Hi1822 alias, or of a plain
    flavor when @pci_dev is None."""
    inst_uuid = str(uuidlib.uuid4())
    flavor = objects.Flavor(
        id=1, flavorid="s1.pci", name="s1.pci", memory_mb=512, vcpus=1,
        root_gb=0, ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True,
        vcpu_weight=None, disabled=False,
        extra_specs={"pci_passthrough:alias": "hi1822:1"})
    if pci_dev is None:
        flavor = objects.Flavor(
            id=2, flavorid="s1.small", name="s1.small", memory_mb=512, vcpus=1,
            root_gb=0, ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True,
            vcpu_weight=None, disabled=False, extra_specs={})
    fields = dict(
        id=db_id, uuid=inst_uuid, project_id="p1", user_id="u1",
        display_name=name, hostname=name,
        host="compute1", node="compute1", launched_on="compute1",
        image_ref=image_meta.id, flavor=flavor, old_flavor=None,
        new_flavor=None, memory_mb=512, vcpus=1, root_gb=0, ephemeral_gb=0,
        instance_type_id=1, kernel_id="", ramdisk_id="", config_drive="",
        power_state=power_state.NOSTATE, vm_state="building",
        task_state="spawning", system_metadata={}, metadata={},
        numa_topology=None, vcpu_model=None, pci_requests=None,
        pci_devices=objects.PciDeviceList(objects=[pci_dev] if pci_dev else []),
        ec2_ids=objects.EC2Ids(instance_id="i-00000007", ami_id="ami-00000001",
                               kernel_id=None, ramdisk_id=None),
        device_metadata=None, trusted_certs=None,
        resources=None, migration_context=None, keypairs=objects.KeyPairList(objects=[]),
        root_device_name="/dev/vda", default_ephemeral_device=None,
        default_swap_device=None, os_type=None, architecture=None,
        availability_zone=None, key_data=None, user_data=None,
        launch_index=0, reservation_id="r-1", cell_name=None,
        locked=False, locked_by=None, auto_disk_config=False,
        progress=0, shutdown_terminate=False, disable_terminate=False,
        access_ip_v4=None, access_ip_v6=None, services=None, tags=None,
        info_cache=None, security_groups=objects.SecurityGroupList(objects=[]),
        hidden=False, deleted=False)
    # what the database would leave unset
    fields = {k: v for k, v in fields.items()
              if v is not None or objects.Instance.fields[k].nullable}
    # and the columns nobody set (vm_mode, ...) are NULL
    for k, f in objects.Instance.fields.items():
        if k not in fields and f.nullable and k not in objects.instance.INSTANCE_OPTIONAL_ATTRS:
            fields[k] = None
    inst = objects.Instance(context=ctx, **fields)
    inst.obj_reset_changes()
    return inst


def ovs_vif(dp):
    port = str(uuidlib.uuid4())
    net = network_model.Network(
        id=str(uuidlib.uuid4()), bridge="br-int", label="private",
        subnets=[network_model.Subnet(
            cidr="198.51.100.0/24",
            ips=[network_model.FixedIP(address="198.51.100.5")],
            gateway=network_model.IP(address="198.51.100.1", type="gateway"))],
        meta={"mtu": 1450, "tunneled": True})
    return network_model.VIF(
        id=port, address="fa:16:3e:11:22:33", network=net, type="ovs",
        details={"port_filter": True, "ovs_hybrid_plug": False,
                 "datapath_type": dp, "bridge_name": "br-int",
                 "connectivity": "l2"},
        devname="tap" + port[:11], ovs_interfaceid=port,
        vnic_type=network_model.VNIC_TYPE_NORMAL, active=True,
        preserve_on_delete=False)


def sriov_vif(vf_bdf, mac="fa:16:3e:44:55:66"):
    port = str(uuidlib.uuid4())
    net = network_model.Network(
        id=str(uuidlib.uuid4()), label="physnet1-net", bridge=None,
        subnets=[], meta={"mtu": 1500, "physical_network": "physnet1",
                          "tunneled": False})
    return network_model.VIF(
        id=port, address=mac, network=net, type="hw_veb",
        details={"vlan": "42", "connectivity": "l2"},
        profile={"pci_slot": vf_bdf, "physical_network": "physnet1",
                 "pci_vendor_info": "19e5:375e"},
        devname="tap" + port[:11], vnic_type=network_model.VNIC_TYPE_DIRECT,
        active=True, preserve_on_delete=False)


def domain_xml(drv, inst):
    return drv._host.get_guest(inst).get_xml_desc()


def vmm_pids():
    out = subprocess.run(["pgrep", "-f", "^" + os.environ.get("STRATOVIRT_PATTERN", "")],
                         capture_output=True, text=True).stdout
    return out.split()


def scenario(drv, work):
    from nova.virt.libvirt import blockinfo
    from nova.virt import driver as virt_driver

    ctx = nova_context.get_admin_context()
    ok = True

    # -- resources: PCI devices of the simulated host, VFs included (the
    # sandbox's host has the four VFs of 0000:03:00.0 from its start)
    try:
        res = drv.get_available_resource("compute1")
        pci = json.loads(res["pci_passthrough_devices"])
        addrs = {d["address"]: d for d in pci}
        want = ["0000:03:00.1", "0000:03:00.4", "0000:04:00.0"]
        missing = [a for a in want if a not in addrs]
        if missing:
            step("get_available_resource", "fail", "missing %s in %s" % (missing, sorted(addrs)))
            ok = False
        else:
            vf = addrs["0000:03:00.1"]
            step("get_available_resource", "ok",
                 "vcpus=%s memory_mb=%s hypervisor=%s/%s pci=%d vf=%s/%s parent=%s" % (
                     res["vcpus"], res["memory_mb"], res["hypervisor_type"],
                     res["hypervisor_version"], len(pci), vf["dev_type"],
                     vf["product_id"], vf.get("parent_addr")))
    except Exception as e:
        traceback.print_exc()
        step("get_available_resource", "fail", "%s: %s" % (type(e).__name__, e))
        return False

    # -- an image (the image service's answer: a local raw file)
    image_file = os.path.join(work, "cirros.raw")
    with open(image_file, "wb") as f:
        f.truncate(64 * 1024 * 1024)
    image_id = str(uuidlib.uuid4())

    def fetch(context, image_href, path, trusted_certs=None):
        shutil.copyfile(image_file, path)
    glance_image = {
        "id": image_id, "name": "cirros", "disk_format": "raw",
        "container_format": "bare", "min_disk": 0, "min_ram": 0,
        "size": 64 * 1024 * 1024, "status": "active", "properties": {}}
    images.fetch = fetch
    images.IMAGE_API.get = lambda context, image_href, **kw: dict(glance_image)
    image_meta = objects.ImageMeta.from_dict(glance_image)

    # -- the flavor's PCI device (the PCI tracker's claim)
    pci_dev = objects.PciDevice(
        id=1, compute_node_id=1, address="0000:04:00.0", vendor_id="19e5",
        product_id="1822", dev_type="type-PF", status="allocated",
        dev_id="pci_0000_04_00_0", label="label_19e5_1822",
        instance_uuid=None, request_id=None, extra_info={}, numa_node=None,
        parent_addr=None)
    inst = make_instance(ctx, pci_dev, image_meta)
    KNOWN.append(inst)
    # the API's PCI request from the flavor's alias (Nova's own code), and
    # the PCI tracker's claim of 0000:04:00.0 for it
    from nova.pci import request as pci_request
    reqs = pci_request.get_pci_requests_from_flavor(inst.flavor)
    reqs.instance_uuid = inst.uuid
    inst.pci_requests = reqs
    pci_dev.instance_uuid = inst.uuid
    pci_dev.request_id = reqs.requests[0].request_id
    inst.obj_reset_changes()

    # -- a local volume (Cinder's answer for a 'local' backend: a block
    # device path; a krbd-mapped RBD image looks the same)
    backing = os.path.join(work, "vol1.img")
    with open(backing, "wb") as f:
        f.truncate(32 * 1024 * 1024)
    loopdev = subprocess.run(["losetup", "-f", "--show", backing],
                             capture_output=True, text=True)
    if loopdev.returncode != 0:
        step("volume_setup", "skip", "no loop device: " + loopdev.stderr)
        bdms = []
        loop = None
    else:
        loop = loopdev.stdout.strip()
        LOOPS.append(loop)
        bdms = [BDM(connection_info={"driver_volume_type": "local",
                                     "serial": str(uuidlib.uuid4()),
                                     "data": {"device_path": loop}},
                    mount_device="/dev/vdb", boot_index=None,
                    disk_bus="virtio", device_type="disk",
                    delete_on_termination=False)]
    block_device_info = {"root_device_name": "/dev/vda", "ephemerals": [],
                         "swap": None, "block_device_mapping": bdms}

    dp = "system" if os.path.isdir("/sys/module/openvswitch") else "netdev"
    # and an SR-IOV port (vnic_type=direct, VLAN 42) on VF 1 of the Hi1822
    # PF 0000:03:00.0, where the sandbox's PF has a netdev (enp3s0)
    sriov = sriov_vif(SRIOV_VF) if pf_shim() else None
    if sriov:
        # what the operator had on VF 1 before (ip link set enp3s0 vf 1 ...)
        subprocess.run(["ip", "link", "set", SRIOV_PF, "vf", str(SRIOV_VF_INDEX),
                        "mac", SRIOV_BEFORE[0], "vlan", str(SRIOV_BEFORE[1])],
                       env=dict(os.environ, LD_PRELOAD=os.environ["SANDBOX_DAEMON_PRELOAD"]),
                       check=True)
    else:
        step("sriov_port_boot", "skip", "the sandbox has no SR-IOV PF netdevs "
             "(SANDBOX_HOST_NET, or no tests/vfnetshim.so)")
    nw = network_model.NetworkInfo([ovs_vif(dp)] + ([sriov] if sriov else []))
    # Neutron's answer, as the compute manager caches it with the instance
    inst.info_cache = objects.InstanceInfoCache(instance_uuid=inst.uuid,
                                                network_info=nw)
    inst.obj_reset_changes()

    # -- the guest XML, from Nova's own _get_guest_xml
    try:
        disk_info = blockinfo.get_disk_info(CONF.libvirt.virt_type, inst,
                                            image_meta, block_device_info)
        xml = drv._get_guest_xml(ctx, inst, nw, disk_info, image_meta,
                                 block_device_info=block_device_info)
        write(os.path.join(work, "nova-guest.xml"), xml)
        checks = {"hostdev 04:00.0": "bus='0x04'" in xml.replace('"', "'"),
                  "ovs": "openvswitch" in xml,
                  "smbios": "OpenStack Nova" in xml,
                  "q35": "q35" in xml,
                  "serial log": "console.log" in xml}
        if sriov:
            checks["SR-IOV port"] = ("<interface type='hostdev'" in xml.replace('"', "'") and
                                     "fa:16:3e:44:55:66" in xml)
        bad = [k for k, v in checks.items() if not v]
        step("get_guest_xml", "fail" if bad else "ok",
             ("missing: %s" % bad) if bad else "%d bytes" % len(xml))
    except Exception as e:
        traceback.print_exc()
        step("get_guest_xml", "fail", "%s: %s" % (type(e).__name__, e))
        return False

    # -- spawn
    try:
        drv.spawn(ctx, inst, image_meta, injected_files=[], admin_password=None,
                  allocations={}, network_info=nw,
                  block_device_info=block_device_info)
        # what the compute manager records once spawn returns
        inst.launched_at = timeutils.utcnow()
        inst.vm_state = "active"
        inst.task_state = None
        inst.obj_reset_changes()
        info = drv.get_info(inst)
        if info.state != power_state.RUNNING:
            raise RuntimeError("state %s after spawn" % info.state)
        drvname = sysfs_driver("0000:04:00.0")
        dx = domain_xml(drv, inst)
        if drvname != "vfio-pci":
            raise RuntimeError("0000:04:00.0 is on %s, not vfio-pci" % drvname)
        step("spawn", "ok", "running; 0000:04:00.0 on vfio-pci; volume %s; %s" % (
            loop, "smbios" if "OpenStack Nova" in dx else ""))
        if sriov:
            sriov_lent(drv, inst, "sriov_port_boot")
    except Exception as e:
        traceback.print_exc()
        step("spawn", "fail", "%s: %s" % (type(e).__name__, e))
        cleanup(drv, ctx, inst, nw, block_device_info, loop)
        return False

    def run(name, fn, expect_state=None):
        nonlocal ok
        try:
            detail = fn() or ""
            if expect_state is not None:
                st = drv.get_info(inst).state
                if st != expect_state:
                    raise RuntimeError("power state %s, expected %s" % (st, expect_state))
            step(name, "ok", detail)
        except NotImplementedError as e:
            step(name, "fail", "NotImplementedError %s" % e)
            ok = False
        except Exception as e:
            traceback.print_exc()
            cause = e.__cause__ or e.__context__
            step(name, "fail", "%s: %s%s" % (type(e).__name__, e,
                                             " (%s)" % cause if cause else ""))
            ok = False

    def console_output():
        # 'nova console-log': Nova reads the serial's <log file> itself
        # (get_console_output), which the driver fills from the guest
        out = b""
        end = time.monotonic() + 10
        while b"login:" not in out and time.monotonic() < end:
            out = drv.get_console_output(ctx, inst)
            time.sleep(0.2)
        if b"login:" not in out:
            raise RuntimeError("the console log has no boot output: %r" % out[-200:])
        return "%d bytes of the guest's serial output" % len(out)
    run("console_output", console_output)

    run("reboot_soft", lambda: drv.reboot(ctx, inst, nw, "SOFT",
                                          block_device_info=block_device_info),
        power_state.RUNNING)
    run("reboot_hard", lambda: drv.reboot(ctx, inst, nw, "HARD",
                                          block_device_info=block_device_info),
        power_state.RUNNING)
    run("pause", lambda: drv.pause(inst), power_state.PAUSED)
    run("unpause", lambda: drv.unpause(inst), power_state.RUNNING)
    run("power_off", lambda: drv.power_off(inst, timeout=10, retry_interval=1),
        power_state.SHUTDOWN)
    run("power_on", lambda: drv.power_on(ctx, inst, nw, block_device_info),
        power_state.RUNNING)
    if sriov:
        # Nova's hard reboot and power on define the domain again: the VF
        # is given back and lent again each time
        sriov_lent(drv, inst, "sriov_port_after_reboots")
    def suspend_with_passthrough():
        # StratoVirt saves no VFIO device state, and cannot hot-plug the
        # device back at resume: with contrib/nova's patch Nova keeps the
        # device attached and the driver refuses the managed save before
        # anything changes, so the instance runs on with its device
        try:
            drv.suspend(ctx, inst)
        except Exception as e:
            refusal = "%s: %s" % (type(e).__name__, e)
        else:
            raise RuntimeError("the suspend of an instance with a VFIO device was accepted")
        st = drv.get_info(inst).state
        if st != power_state.RUNNING:
            raise RuntimeError("power state %s after the refused suspend (%s)" % (st, refusal))
        if "bus='0x04'" not in domain_xml(drv, inst).replace('"', "'"):
            raise RuntimeError("0000:04:00.0 left the domain (%s)" % refusal)
        if sysfs_driver("0000:04:00.0") != "vfio-pci":
            raise RuntimeError("0000:04:00.0 is on %s (%s)" % (sysfs_driver("0000:04:00.0"), refusal))
        return "refused, still running with 0000:04:00.0: " + refusal
    run("suspend_with_passthrough", suspend_with_passthrough)

    # volume detach and attach (the boot's local volume)
    if loop:
        ci = bdms[0]["connection_info"]

        def detach_volume():
            drv.detach_volume(ctx, ci, inst, "/dev/vdb", encryption=None)
            if loop in domain_xml(drv, inst):
                raise RuntimeError("%s still in the domain" % loop)

        def attach_volume():
            drv.attach_volume(ctx, ci, inst, "/dev/vdb", disk_bus="virtio",
                              device_type="disk", encryption=None)
            if loop not in domain_xml(drv, inst):
                raise RuntimeError("%s not in the domain" % loop)
        run("volume_detach", detach_volume)
        run("volume_attach", attach_volume)

    # a second OVS port, attached and detached live
    extra = ovs_vif(dp)
    extra["address"] = "fa:16:3e:77:88:99"

    def attach_port():
        drv.attach_interface(ctx, inst, image_meta, extra)
        if "fa:16:3e:77:88:99" not in domain_xml(drv, inst):
            raise RuntimeError("the port is not in the domain")

    def detach_port():
        drv.detach_interface(ctx, inst, extra)
        if "fa:16:3e:77:88:99" in domain_xml(drv, inst):
            raise RuntimeError("the port is still in the domain")
    run("port_attach", attach_port)
    run("port_detach", detach_port)

    # an SR-IOV port (vnic_type=direct): a VF of the Hi1822
    # (a second port, of its own MAC: the instance has one at boot)
    sv = sriov_vif("0000:03:00.1", mac="fa:16:3e:44:55:77")

    def attach_sriov():
        cfg_ = drv.vif_driver.get_config(inst, sv, image_meta, inst.flavor,
                                         CONF.libvirt.virt_type)
        x = cfg_.to_xml()
        if "hostdev" not in x or "bus='0x03'" not in x.replace('"', "'"):
            raise RuntimeError("Nova's SR-IOV interface XML: %s" % x)
        drv.attach_interface(ctx, inst, image_meta, sv)
        d = sysfs_driver("0000:03:00.1")
        if d != "vfio-pci":
            raise RuntimeError("the VF is on %s after the attach" % d)
        return "VF on vfio-pci"
    run("sriov_port_attach", attach_sriov)
    if RESULTS[-1] == ("sriov_port_attach", "ok"):
        run("sriov_port_detach", lambda: drv.detach_interface(ctx, inst, sv))
    else:
        back = sysfs_driver("0000:03:00.1")
        step("sriov_port_rollback", "ok" if back == "hinicvf" else "fail",
             "VF 0000:03:00.1 on %s after the failed attach" % back)

    def diagnostics():
        d = drv.get_instance_diagnostics(inst)
        dd = d.obj_to_primitive()["nova_object.data"]
        if not dd.get("memory_details") or not dd.get("nic_details"):
            raise RuntimeError("thin diagnostics: %s" % dd)
        old = drv.get_diagnostics(inst)
        return "state=%s cpus=%d nics=%d disks=%d keys=%d" % (
            dd.get("state"), len(dd.get("cpu_details", [])),
            len(dd.get("nic_details", [])), len(dd.get("disk_details", [])), len(old))
    run("get_diagnostics", diagnostics)

    ok = cleanup(drv, ctx, inst, nw, block_device_info, loop) and ok
    if sriov:
        back = sysfs_driver(SRIOV_VF)
        after = vf_link(SRIOV_PF).get(SRIOV_VF_INDEX)
        problems = []
        if back != "hinicvf":
            problems.append("VF on %s after the destroy" % back)
        if after != SRIOV_BEFORE:
            problems.append("not the operator's %s" % (SRIOV_BEFORE,))
        step("sriov_port_released", "fail" if problems else "ok",
             "%sVF %s on %s, VF %d of %s: MAC %s VLAN %s" % (
                 "".join(p + "; " for p in problems), SRIOV_VF, back, SRIOV_VF_INDEX,
                 SRIOV_PF, after and after[0], after and after[1]))
        ok = ok and not problems
    ok = plain_instance(drv, ctx, image_meta, dp) and ok
    return ok


def vf_link(pf):
    """`ip -j link show PF` as an operator runs it: VF index -> (MAC, VLAN).
    The sandbox's PF netdevs have their VFs from tests/shim/vfnetshim.c,
    the daemon's shim (SANDBOX_DAEMON_PRELOAD), so ip goes through it too."""
    shim = os.environ.get("SANDBOX_DAEMON_PRELOAD", "")
    out = subprocess.run(["ip", "-j", "link", "show", pf], env=dict(os.environ, LD_PRELOAD=shim),
                         capture_output=True, text=True, check=True).stdout
    link = json.loads(out)[0]
    return {v["vf"]: (v["address"], (v.get("vlan_list") or [{}])[0].get("vlan", 0))
            for v in link.get("vfinfo_list", [])}


def pf_shim():
    shim = os.environ.get("SANDBOX_DAEMON_PRELOAD", "")
    return shim.endswith("vfnetshim.so") and os.path.exists(shim)


# the instance's SR-IOV port: VF 1 (0000:03:00.2) of the Hi1822 PF
# 0000:03:00.0, whose netdev is enp3s0; what the operator had set on it
SRIOV_VF, SRIOV_PF, SRIOV_VF_INDEX = "0000:03:00.2", "enp3s0", 1
SRIOV_BEFORE = ("02:00:00:00:03:02", 0)


def sriov_lent(drv, inst, name):
    """The running instance has its SR-IOV port as a user checks it: the
    VF on vfio-pci, Nova's <interface type='hostdev'> with the port's MAC
    and VLAN, and the port's MAC and VLAN on the VF (`ip link show enp3s0`),
    which libvirt's own hostdev code set through the PF (virNetDevSetVfConfig)"""
    problems = []
    state = drv.get_info(inst).state
    if state != power_state.RUNNING:
        problems.append("power state %s" % state)
    on = sysfs_driver(SRIOV_VF)
    if on != "vfio-pci":
        problems.append("VF on %s" % on)
    xml = domain_xml(drv, inst).replace('"', "'")
    m = re.search(r"<interface type='hostdev'.*?</interface>", xml, re.S)
    if not m or "<mac address='fa:16:3e:44:55:66'/>" not in m.group(0) or \
            "<tag id='42'/>" not in m.group(0):
        problems.append("the port's MAC or VLAN is not in the domain's interface")
    lent = vf_link(SRIOV_PF).get(SRIOV_VF_INDEX)
    if lent != ("fa:16:3e:44:55:66", 42):
        problems.append("the VF has %s" % (lent,))
    step(name, "fail" if problems else "ok",
         "%srunning with VF %s on %s, VF %d of %s: MAC %s VLAN %s" % (
             "".join(p + "; " for p in problems), SRIOV_VF, on, SRIOV_VF_INDEX, SRIOV_PF,
             lent and lent[0], lent and lent[1]))
    return not problems


def plain_instance(drv, ctx, image_meta, dp):
    """suspend and resume (Nova's managed save and restore) of an
    instance of a plain flavor: no PCI device, one OVS port"""
    from nova.virt.libvirt import blockinfo

    inst = make_instance(ctx, None, image_meta, name="nova-plain", db_id=8)
    KNOWN.append(inst)
    vif = ovs_vif(dp)
    vif["address"] = "fa:16:3e:aa:bb:cc"
    nw = network_model.NetworkInfo([vif])
    inst.info_cache = objects.InstanceInfoCache(instance_uuid=inst.uuid, network_info=nw)
    inst.obj_reset_changes()
    bdi = {"root_device_name": "/dev/vda", "ephemerals": [], "swap": None,
           "block_device_mapping": []}
    try:
        disk_info = blockinfo.get_disk_info(CONF.libvirt.virt_type, inst, image_meta, bdi)
        drv.spawn(ctx, inst, image_meta, injected_files=[], admin_password=None,
                  allocations={}, network_info=nw, block_device_info=bdi)
        inst.launched_at = timeutils.utcnow()
        inst.vm_state = "active"
        inst.task_state = None
        inst.obj_reset_changes()
        if drv.get_info(inst).state != power_state.RUNNING:
            raise RuntimeError("state %s after spawn" % drv.get_info(inst).state)
        step("plain_spawn", "ok", "running, %d disk(s)" % len(disk_info["mapping"]))
    except Exception as e:
        traceback.print_exc()
        step("plain_spawn", "fail", "%s: %s" % (type(e).__name__, e))
        return False

    def suspend():
        drv.suspend(ctx, inst)
        if not drv._host.get_guest(inst)._domain.hasManagedSaveImage(0):
            raise RuntimeError("no managed save image after suspend")
        return "managed save image kept"

    def resume():
        drv.resume(ctx, inst, nw, bdi)
        if drv._host.get_guest(inst)._domain.hasManagedSaveImage(0):
            raise RuntimeError("the managed save image is still there")
        return "restored"
    def run(name, fn, expect_state):
        try:
            detail = fn()
            st = drv.get_info(inst).state
            if st != expect_state:
                raise RuntimeError("power state %s, expected %s" % (st, expect_state))
            step(name, "ok", detail)
        except Exception as e:
            traceback.print_exc()
            step(name, "fail", "%s: %s" % (type(e).__name__, e))
    run("suspend", suspend, power_state.SHUTDOWN)
    run("resume", resume, power_state.RUNNING)
    good = RESULTS[-2:] == [("suspend", "ok"), ("resume", "ok")]
    try:
        drv.destroy(ctx, inst, nw, block_device_info=bdi, destroy_disks=True)
        try:
            drv._host.get_guest(inst)
            raise RuntimeError("the domain is still defined")
        except exception.InstanceNotFound:
            pass
        step("plain_destroy", "ok", "undefined")
    except Exception as e:
        traceback.print_exc()
        step("plain_destroy", "fail", "%s: %s" % (type(e).__name__, e))
        good = False
    return good


def cleanup(drv, ctx, inst, nw, block_device_info, loop):
    good = True
    try:
        drv.destroy(ctx, inst, nw, block_device_info=block_device_info,
                    destroy_disks=True)
        try:
            drv._host.get_guest(inst)
            raise RuntimeError("the domain is still defined")
        except exception.InstanceNotFound:
            pass
        drvname = sysfs_driver("0000:04:00.0")
        if drvname != "hinic":
            raise RuntimeError("0000:04:00.0 is on %s after destroy" % drvname)
        step("destroy", "ok", "undefined; 0000:04:00.0 back on hinic")
    except Exception as e:
        traceback.print_exc()
        step("destroy", "fail", "%s: %s" % (type(e).__name__, e))
        good = False
    return good


def main():
    mode, conf_files = sys.argv[1], sys.argv[2:]
    drv = setup(conf_files)
    if not init_host(drv):
        sys.exit(1)
    if mode == "init-host":
        sys.exit(0)
    work = os.path.join(SB, "nova-work")
    os.makedirs(work, exist_ok=True)
    try:
        ok = scenario(drv, work)
    finally:
        # whatever step failed, the host's loop devices are given back
        for loop in LOOPS:
            subprocess.run(["losetup", "-d", loop])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
