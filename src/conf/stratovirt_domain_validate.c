/*
 * stratovirt_domain_validate.c: what StratoVirt cannot do, refused by name
 *
 * Every element or attribute of a domain definition either reaches the
 * StratoVirt command line or is refused here with VIR_ERR_CONFIG_UNSUPPORTED
 * naming it; nothing is dropped silently.  The few things StratoVirt
 * provides whatever the XML says (ACPI on standard machines) are written
 * into the definition by the post-parse code instead.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_domain_validate.h"
#include "viralloc.h"
#include "virerror.h"
#include "virlog.h"
#include "virstring.h"
#include "virpci.h"
#include "virutil.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_domain_validate");

#define UNSUPPORTED(...) \
    do { \
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__); \
        return -1; \
    } while (0)


/**
 * virStratoVirtValidateCmdlineValue:
 * @what: what the value is, for the message (e.g. "disk source")
 * @value: the value
 *
 * StratoVirt splits option values on every ',' and '=' with no escaping,
 * rejects argv words that start with '-', and a newline would split the
 * log's record of the command line.  A value that cannot be carried as
 * given is refused rather than turned into a different command line.
 */
int
virStratoVirtValidateCmdlineValue(const char *what,
                                  const char *value)
{
    if (!value)
        return 0;

    if (strpbrk(value, ",=\n\r")) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("%1$s '%2$s' cannot be passed to StratoVirt: its command line has no escaping for ',', '=' or line breaks"),
                       what, value);
        return -1;
    }
    if (value[0] == '-') {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("%1$s '%2$s' cannot be passed to StratoVirt: a value must not start with '-'"),
                       what, value);
        return -1;
    }
    return 0;
}


/**
 * virStratoVirtValidateCmdlineArg:
 * @what: what the value is, for the message (e.g. "<stratovirt:arg>")
 * @value: a whole argv word (or environment value) given as it is
 *
 * The rule of virStratoVirtValidateCmdlineValue that applies to a word the
 * user writes whole: no line break, which would split the log's record of
 * the command line.  (',', '=' and a leading '-' belong to such a word.)
 */
int
virStratoVirtValidateCmdlineArg(const char *what,
                                const char *value)
{
    if (value && strpbrk(value, "\n\r")) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("%1$s '%2$s' cannot be passed to StratoVirt: a line break would split the command line's record in the domain log"),
                       what, value);
        return -1;
    }
    return 0;
}


static int
stratovirtValidateInfoAddress(const virDomainDef *def,
                              const virDomainDeviceInfo *info,
                              const char *what)
{
    if (info->acpiIndex)
        UNSUPPORTED(_("%1$s: <acpi index='%2$u'/> is not supported by StratoVirt (its devices have no ACPI index); remove it"),
                    what, info->acpiIndex);
    if (info->romfile || info->romenabled || info->rombar)
        UNSUPPORTED(_("%1$s: <rom> is not supported by StratoVirt"), what);
    if (info->type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE)
        return 0;

    if (virStratoVirtDomainIsMicrovm(def)) {
        UNSUPPORTED(_("%1$s: microvm has no PCI bus; remove the <address> element (devices are virtio-mmio)"),
                    what);
    }
    if (info->type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI) {
        UNSUPPORTED(_("%1$s: address type '%2$s' is not supported by StratoVirt; use type='pci'"),
                    what, virDomainDeviceAddressTypeToString(info->type));
    }
    if (info->addr.pci.domain != 0 || info->addr.pci.multi == VIR_TRISTATE_SWITCH_ON) {
        UNSUPPORTED(_("%1$s: StratoVirt supports PCI domain 0 only, without multifunction"),
                    what);
    }
    if (info->addr.pci.function != 0) {
        UNSUPPORTED(_("%1$s: PCI function %2$u: StratoVirt devices use function 0"),
                    what, info->addr.pci.function);
    }
    if (info->bootIndex && !def->os.loader) {
        UNSUPPORTED(_("%1$s: <boot order> needs a UEFI <loader>: with direct kernel boot StratoVirt has no firmware to honour it"),
                    what);
    }
    if (info->bootIndex > 256)
        UNSUPPORTED(_("%1$s: boot order %2$u is out of StratoVirt's range 1-256"),
                    what, info->bootIndex);
    return 0;
}


static int
stratovirtValidatePCIBus(const virDomainDef *def,
                         const virDomainDeviceInfo *info,
                         const char *what)
{
    size_t i;

    if (info->type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI || info->addr.pci.bus == 0)
        return 0;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];

        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI &&
            cont->idx == info->addr.pci.bus) {
            if (info->addr.pci.slot != 0)
                UNSUPPORTED(_("%1$s: slot 0x%2$x on bus 0x%3$x: a pcie-root-port has one slot, slot 0"),
                            what, info->addr.pci.slot, info->addr.pci.bus);
            return 0;
        }
    }
    UNSUPPORTED(_("%1$s: bus 0x%2$x does not exist: add <controller type='pci' index='%3$u' model='pcie-root-port'/>"),
                what, info->addr.pci.bus, info->addr.pci.bus);
}


static int
stratovirtValidateDisk(const virDomainDiskDef *disk,
                       const virDomainDef *def)
{
    g_autofree char *what = g_strdup_printf(_("disk '%s'"), disk->dst);
    const virDomainBlockIoTuneInfo *tune = &disk->blkdeviotune;
    int type = virStorageSourceGetActualType(disk->src);

    bool cdrom = disk->device == VIR_DOMAIN_DISK_DEVICE_CDROM;

    if (disk->device != VIR_DOMAIN_DISK_DEVICE_DISK && !cdrom)
        UNSUPPORTED(_("%1$s: device='%2$s' is not supported by StratoVirt; use device='disk' or device='cdrom'"),
                    what, virDomainDiskDeviceTypeToString(disk->device));
    if (disk->bus != VIR_DOMAIN_DISK_BUS_VIRTIO && disk->bus != VIR_DOMAIN_DISK_BUS_SCSI)
        UNSUPPORTED(_("%1$s: bus '%2$s' is not supported by StratoVirt; use <target bus='virtio'/> or <target bus='scsi'/> (virt-install: --disk ...,bus=virtio)"),
                    what, virDomainDiskBusTypeToString(disk->bus));
    if (cdrom && disk->bus != VIR_DOMAIN_DISK_BUS_SCSI)
        UNSUPPORTED(_("%1$s: a cdrom is a scsi-cd on StratoVirt's virtio-scsi; use <target bus='scsi'/> (virt-install: --disk ...,device=cdrom,bus=scsi)"),
                    what);
    if (disk->bus == VIR_DOMAIN_DISK_BUS_SCSI) {
        if (!virStratoVirtDomainIsStandard(def))
            UNSUPPORTED(_("%1$s: virtio-scsi needs a standard machine (q35 or virt); on microvm use <target bus='virtio'/>"),
                        what);
        if (disk->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_DRIVE)
            UNSUPPORTED(_("%1$s: a scsi disk takes a drive address (<address type='drive'/>)"), what);
        if (disk->info.addr.drive.bus != 0)
            UNSUPPORTED(_("%1$s: StratoVirt's virtio-scsi has bus 0 only"), what);
        if (disk->info.addr.drive.target > 255 || disk->info.addr.drive.unit > 255)
            UNSUPPORTED(_("%1$s: StratoVirt's scsi-id (target) and lun (unit) are 0-255"), what);
        if (disk->info.bootIndex > 256)
            UNSUPPORTED(_("%1$s: boot order %2$u is out of StratoVirt's range 1-256"),
                        what, disk->info.bootIndex);
        if (disk->info.bootIndex && !def->os.loader)
            UNSUPPORTED(_("%1$s: <boot order> needs a UEFI <loader>: with direct kernel boot StratoVirt has no firmware to honour it"),
                        what);
    }
    if (virStorageSourceIsEmpty(disk->src)) {
        /* an ejected cdrom: StratoVirt has no empty drives, so it is left
         * off the command line until a medium is inserted */
        if (cdrom)
            return 0;
        UNSUPPORTED(_("%1$s: a disk needs a <source>; StratoVirt has no empty drives"), what);
    }
    /* Nova's boot-from-volume on Ceph, and Cinder's RBD volumes */
    if (type == VIR_STORAGE_TYPE_NETWORK &&
        disk->src->protocol == VIR_STORAGE_NET_PROTOCOL_RBD)
        UNSUPPORTED(_("%1$s: StratoVirt cannot open Ceph RBD images (it has no librbd); map the image with the kernel's RBD client (rbd map; for Cinder volumes, os-brick's krbd mapping) and give the block device: <disk type='block'><source dev='/dev/rbdN'/>"),
                    what);
    if (type != VIR_STORAGE_TYPE_FILE && type != VIR_STORAGE_TYPE_BLOCK)
        UNSUPPORTED(_("%1$s: source type '%2$s' is not supported by StratoVirt; use a file or a block device"),
                    what, virStorageTypeToString(type));
    if (!disk->src->path)
        UNSUPPORTED(_("%1$s: a disk needs a <source>; StratoVirt has no empty drives"), what);
    if (virStratoVirtValidateCmdlineValue(what, disk->src->path) < 0)
        return -1;
    if (disk->src->format != VIR_STORAGE_FILE_NONE &&
        disk->src->format != VIR_STORAGE_FILE_RAW &&
        disk->src->format != VIR_STORAGE_FILE_QCOW2)
        UNSUPPORTED(_("%1$s: format '%2$s' is not supported by StratoVirt; use raw or qcow2"),
                    what, virStorageFileFormatTypeToString(disk->src->format));
    if (disk->src->format == VIR_STORAGE_FILE_QCOW2 && virStratoVirtDomainIsMicrovm(def))
        UNSUPPORTED(_("%1$s: microvm supports raw images only"), what);
    if (disk->src->backingStore && virStorageSourceIsBacking(disk->src->backingStore))
        UNSUPPORTED(_("%1$s: <backingStore> is not supported by StratoVirt"), what);
    if (disk->cachemode == VIR_DOMAIN_DISK_CACHE_DIRECTSYNC)
        UNSUPPORTED(_("%1$s: cache='directsync' is not supported by StratoVirt; use none, writeback, writethrough or unsafe"),
                    what);
    if (disk->iomode == VIR_DOMAIN_DISK_IO_NATIVE &&
        (disk->cachemode == VIR_DOMAIN_DISK_CACHE_WRITEBACK ||
         disk->cachemode == VIR_DOMAIN_DISK_CACHE_WRITETHRU ||
         disk->cachemode == VIR_DOMAIN_DISK_CACHE_UNSAFE))
        UNSUPPORTED(_("%1$s: io='native' needs cache='none' (O_DIRECT) on StratoVirt"), what);
    /* virtio-blk takes the first 20 (stratovirt_command.c) */
    if (disk->serial && strlen(disk->serial) > 20 && disk->bus == VIR_DOMAIN_DISK_BUS_SCSI)
        UNSUPPORTED(_("%1$s: StratoVirt allows a serial of at most 20 characters"), what);
    if (virStratoVirtValidateCmdlineValue(what, disk->serial) < 0)
        return -1;
    if (disk->error_policy || disk->rerror_policy)
        UNSUPPORTED(_("%1$s: error_policy is not supported by StratoVirt"), what);
    if (disk->discard || disk->detect_zeroes)
        UNSUPPORTED(_("%1$s: discard and detect_zeroes are not supported by this driver"), what);
    if (disk->copy_on_read || disk->transient || disk->wwn || disk->vendor ||
        disk->product || disk->geometry.cylinders || disk->blockio.logical_block_size ||
        disk->blockio.physical_block_size)
        UNSUPPORTED(_("%1$s: copy_on_read, transient, wwn, vendor, product, geometry and blockio are not supported by StratoVirt"),
                    what);
    if (disk->queues > 32)
        UNSUPPORTED(_("%1$s: StratoVirt allows at most 32 queues"), what);
    if (disk->queue_size &&
        (disk->queue_size < 3 || disk->queue_size > 1024 ||
         (disk->queue_size & (disk->queue_size - 1))))
        UNSUPPORTED(_("%1$s: queue_size must be a power of two from 4 to 1024 on StratoVirt"), what);
    if (tune->total_bytes_sec || tune->read_bytes_sec || tune->write_bytes_sec ||
        tune->read_iops_sec || tune->write_iops_sec || tune->total_bytes_sec_max ||
        tune->read_bytes_sec_max || tune->write_bytes_sec_max ||
        tune->total_iops_sec_max || tune->read_iops_sec_max ||
        tune->write_iops_sec_max || tune->size_iops_sec || tune->group_name)
        UNSUPPORTED(_("%1$s: of <iotune>, StratoVirt supports only <total_iops_sec>"), what);
    if (tune->total_iops_sec > 1000000)
        UNSUPPORTED(_("%1$s: total_iops_sec %2$llu is above StratoVirt's limit of 1000000"),
                    what, tune->total_iops_sec);
    if (disk->iothread) {
        if (virStratoVirtDomainIsMicrovm(def))
            UNSUPPORTED(_("%1$s: iothreads are for standard machines, not microvm"), what);
    }
    if (disk->bus == VIR_DOMAIN_DISK_BUS_SCSI)
        return 0;
    if (stratovirtValidateInfoAddress(def, &disk->info, what) < 0 ||
        stratovirtValidatePCIBus(def, &disk->info, what) < 0)
        return -1;
    return 0;
}


static int
stratovirtValidateNet(const virDomainNetDef *net,
                      const virDomainDef *def)
{
    char macstr[VIR_MAC_STRING_BUFLEN];
    g_autofree char *what = g_strdup_printf(_("interface '%s'"),
                                            virMacAddrFormat(&net->mac, macstr));

    switch (net->type) {
    case VIR_DOMAIN_NET_TYPE_HOSTDEV:
        return 0; /* a VF given to the guest: validated as a hostdev */
    case VIR_DOMAIN_NET_TYPE_NETWORK:
    case VIR_DOMAIN_NET_TYPE_BRIDGE:
    case VIR_DOMAIN_NET_TYPE_DIRECT:
    case VIR_DOMAIN_NET_TYPE_ETHERNET:
        break;
    default:
        UNSUPPORTED(_("%1$s: type '%2$s' is not supported by the StratoVirt driver; use type='network' (virt-install --network network=NAME), 'bridge' (--network bridge=BRIDGE), 'direct' (macvtap) or 'ethernet' (a tap)"),
                    what, virDomainNetTypeToString(net->type));
    }
    if (net->model != VIR_DOMAIN_NET_MODEL_VIRTIO)
        UNSUPPORTED(_("%1$s: model '%2$s' is not supported by StratoVirt, which emulates virtio-net only; use <model type='virtio'/> (virt-install: --network ...,model=virtio)"),
                    what, net->model == VIR_DOMAIN_NET_MODEL_UNKNOWN && !net->modelstr ?
                    "default" : virDomainNetGetModelString(net));
    if (net->type == VIR_DOMAIN_NET_TYPE_ETHERNET &&
        net->managed_tap == VIR_TRISTATE_BOOL_NO && !net->ifname)
        UNSUPPORTED(_("%1$s: managed='no' needs the name of the existing tap in <target dev='TAP' managed='no'/>"),
                    what);
    if (net->ifname && strlen(net->ifname) >= 16)
        UNSUPPORTED(_("%1$s: tap name '%2$s' is longer than 15 characters"), what, net->ifname);
    if (net->ifname && virStratoVirtValidateCmdlineValue(what, net->ifname) < 0)
        return -1;
    if (net->script || net->downscript)
        UNSUPPORTED(_("%1$s: <script> is not supported by the StratoVirt driver; use type='bridge' or type='network' and let libvirt connect the tap"),
                    what);
    if (net->coalesce)
        UNSUPPORTED(_("%1$s: <coalesce> is not supported by StratoVirt"), what);
    if (net->tune.sndbuf_specified)
        UNSUPPORTED(_("%1$s: <tune><sndbuf> is not supported by StratoVirt"), what);
    if (net->backend.tap)
        UNSUPPORTED(_("%1$s: <backend tap='...'/> is not supported by the StratoVirt driver: taps come from /dev/net/tun"),
                    what);
    if (net->driver.virtio.txmode || net->driver.virtio.ioeventfd ||
        net->driver.virtio.event_idx || net->driver.virtio.tx_queue_size ||
        net->driver.virtio.host.csum || net->driver.virtio.host.gso ||
        net->driver.virtio.host.tso4 || net->driver.virtio.host.tso6 ||
        net->driver.virtio.host.ecn || net->driver.virtio.host.ufo ||
        net->driver.virtio.host.mrg_rxbuf || net->driver.virtio.guest.csum ||
        net->driver.virtio.guest.tso4 || net->driver.virtio.guest.tso6 ||
        net->driver.virtio.guest.ecn || net->driver.virtio.guest.ufo ||
        net->driver.virtio.rss || net->driver.virtio.rss_hash_report)
        UNSUPPORTED(_("%1$s: of <driver>, StratoVirt takes only name='vhost'|'qemu', queues and rx_queue_size; remove the other attributes and <host>/<guest> offload settings"),
                    what);
    if (net->trustGuestRxFilters == VIR_TRISTATE_BOOL_YES)
        UNSUPPORTED(_("%1$s: trustGuestRxFilters is not supported by StratoVirt"), what);
    if (net->teaming)
        UNSUPPORTED(_("%1$s: <teaming> is not supported by StratoVirt"), what);
    if (net->vlan.nTags && net->type == VIR_DOMAIN_NET_TYPE_ETHERNET)
        UNSUPPORTED(_("%1$s: <vlan> is not supported on type='ethernet'; use an Open vSwitch bridge"),
                    what);
    if (net->driver.virtio.queues > 16)
        UNSUPPORTED(_("%1$s: StratoVirt allows at most 16 queue pairs"), what);
    if (virStratoVirtDomainIsMicrovm(def) && net->driver.virtio.queues > 1)
        UNSUPPORTED(_("%1$s: multiqueue needs a standard machine"), what);
    if (stratovirtValidateInfoAddress(def, &net->info, what) < 0 ||
        stratovirtValidatePCIBus(def, &net->info, what) < 0)
        return -1;
    return 0;
}


static int
stratovirtValidateController(const virDomainControllerDef *cont,
                             const virDomainDef *def)
{
    g_autofree char *what = g_strdup_printf(_("controller '%s' index %d"),
                                            virDomainControllerTypeToString(cont->type),
                                            cont->idx);

    switch ((virDomainControllerType) cont->type) {
    case VIR_DOMAIN_CONTROLLER_TYPE_PCI:
        if (!virStratoVirtDomainIsStandard(def))
            UNSUPPORTED(_("%1$s: PCI controllers need a standard machine (q35 or virt), not '%2$s'"),
                        what, def->os.machine);
        if (cont->model == VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT) {
            if (cont->idx != 0)
                UNSUPPORTED(_("%1$s: StratoVirt has one root bus, pcie-root index 0"), what);
            return 0;
        }
        if (cont->model != VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT)
            UNSUPPORTED(_("%1$s: model '%2$s' is not supported by StratoVirt; only pcie-root and pcie-root-port"),
                        what, virDomainControllerModelPCITypeToString(cont->model));
        if (cont->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI &&
            cont->info.addr.pci.bus != 0)
            UNSUPPORTED(_("%1$s: a pcie-root-port must sit on pcie.0 (bus 0x00)"), what);
        if (cont->opts.pciopts.port > 255 || cont->opts.pciopts.chassis > 255)
            UNSUPPORTED(_("%1$s: port and chassis must be 0-255"), what);
        if (cont->opts.pciopts.hotplug == VIR_TRISTATE_SWITCH_OFF)
            UNSUPPORTED(_("%1$s: StratoVirt root ports are always hotplug capable"), what);
        return stratovirtValidateInfoAddress(def, &cont->info, what);

    case VIR_DOMAIN_CONTROLLER_TYPE_VIRTIO_SERIAL:
        if (cont->idx != 0)
            UNSUPPORTED(_("%1$s: StratoVirt supports one virtio-serial controller"), what);
        if (cont->opts.vioserial.ports > 31)
            UNSUPPORTED(_("%1$s: StratoVirt allows at most 31 ports"), what);
        if (cont->opts.vioserial.vectors != -1)
            UNSUPPORTED(_("%1$s: vectors is not supported by StratoVirt"), what);
        if (stratovirtValidateInfoAddress(def, &cont->info, what) < 0 ||
            stratovirtValidatePCIBus(def, &cont->info, what) < 0)
            return -1;
        return 0;

    case VIR_DOMAIN_CONTROLLER_TYPE_USB:
        if (cont->model == VIR_DOMAIN_CONTROLLER_MODEL_USB_NONE)
            return 0;
        if (cont->model != VIR_DOMAIN_CONTROLLER_MODEL_USB_DEFAULT &&
            cont->model != VIR_DOMAIN_CONTROLLER_MODEL_USB_QEMU_XHCI &&
            cont->model != VIR_DOMAIN_CONTROLLER_MODEL_USB_NEC_XHCI)
            UNSUPPORTED(_("%1$s: model '%2$s' is not supported by StratoVirt, whose USB controller is an xHCI; use model='qemu-xhci' (virt-install: --controller usb,model=qemu-xhci)"),
                        what, virDomainControllerModelUSBTypeToString(cont->model));
        if (!virStratoVirtDomainIsStandard(def))
            UNSUPPORTED(_("%1$s: USB needs a standard machine (q35 or virt); microvm has none"), what);
        if (cont->idx != 0)
            UNSUPPORTED(_("%1$s: StratoVirt supports one USB controller"), what);
        if (cont->opts.usbopts.ports != -1)
            UNSUPPORTED(_("%1$s: ports is not supported by this driver"), what);
        if (stratovirtValidateInfoAddress(def, &cont->info, what) < 0 ||
            stratovirtValidatePCIBus(def, &cont->info, what) < 0)
            return -1;
        return 0;

    case VIR_DOMAIN_CONTROLLER_TYPE_SCSI:
        if (cont->model != VIR_DOMAIN_CONTROLLER_MODEL_SCSI_DEFAULT &&
            cont->model != VIR_DOMAIN_CONTROLLER_MODEL_SCSI_VIRTIO_SCSI)
            UNSUPPORTED(_("%1$s: model '%2$s' is not supported by StratoVirt; use model='virtio-scsi'"),
                        what, virDomainControllerModelSCSITypeToString(cont->model));
        if (!virStratoVirtDomainIsStandard(def))
            UNSUPPORTED(_("%1$s: virtio-scsi needs a standard machine (q35 or virt)"), what);
        if (cont->cmd_per_lun || cont->max_sectors || cont->ioeventfd ||
            (cont->virtio && (cont->virtio->iommu || cont->virtio->ats ||
                              cont->virtio->packed || cont->virtio->page_per_vq)))
            UNSUPPORTED(_("%1$s: of the driver options StratoVirt supports queues and iothread"),
                        what);
        if (cont->iothread && !virDomainIOThreadIDFind(def, cont->iothread))
            UNSUPPORTED(_("%1$s: iothread %2$u does not exist"), what, cont->iothread);
        if (stratovirtValidateInfoAddress(def, &cont->info, what) < 0 ||
            stratovirtValidatePCIBus(def, &cont->info, what) < 0)
            return -1;
        return 0;

    case VIR_DOMAIN_CONTROLLER_TYPE_IDE:
    case VIR_DOMAIN_CONTROLLER_TYPE_FDC:
    case VIR_DOMAIN_CONTROLLER_TYPE_SATA:
    case VIR_DOMAIN_CONTROLLER_TYPE_CCID:
    case VIR_DOMAIN_CONTROLLER_TYPE_XENBUS:
    case VIR_DOMAIN_CONTROLLER_TYPE_ISA:
    case VIR_DOMAIN_CONTROLLER_TYPE_LAST:
    default:
        UNSUPPORTED(_("%1$s: not supported by StratoVirt"), what);
    }
}


/* A virtio channel on StratoVirt's virtio-serial: a virtserialport with a
 * unix socket StratoVirt listens on (the driver picks the path when the
 * XML has none), named by its target name */
static int
stratovirtValidateChannel(const virDomainChrDef *chr,
                          const virDomainDef *def)
{
    const char *name = chr->target.name;
    size_t i;

    if (chr->targetType != VIR_DOMAIN_CHR_CHANNEL_TARGET_TYPE_VIRTIO)
        UNSUPPORTED(_("channel: only a virtio target is supported by StratoVirt; use <target type='virtio' name='org.qemu.guest_agent.0'/>"));
    if (chr->source->type != VIR_DOMAIN_CHR_TYPE_UNIX)
        UNSUPPORTED(_("channel: type '%1$s' is not supported by StratoVirt; use <channel type='unix'>"),
                    virDomainChrTypeToString(chr->source->type));
    if (!name)
        UNSUPPORTED(_("channel: a virtio channel needs a name (<target type='virtio' name='org.qemu.guest_agent.0'/>)"));
    if (strchr(name, ',') || strchr(name, '='))
        UNSUPPORTED(_("channel: StratoVirt cannot take a port name with ',' or '=' ('%1$s')"),
                    name);
    if (!virStratoVirtDomainIsStandard(def))
        UNSUPPORTED(_("channel '%1$s': microvm's virtio-serial has one port, which the console takes; use a standard machine (q35 or virt)"),
                    name);
    if (chr->source->data.nix.path) {
        if (!chr->source->data.nix.listen)
            UNSUPPORTED(_("channel '%1$s': StratoVirt listens on the channel's socket itself; use <source mode='bind'/> or leave the path to the driver"),
                        name);
        if (strchr(chr->source->data.nix.path, ',') || strchr(chr->source->data.nix.path, '='))
            UNSUPPORTED(_("channel '%1$s': StratoVirt cannot take a socket path with ',' or '=' ('%2$s')"),
                        name, chr->source->data.nix.path);
        if (strlen(chr->source->data.nix.path) >= 108)
            UNSUPPORTED(_("channel '%1$s': the socket path is longer than a unix socket path may be (107 bytes)"),
                        name);
    }
    if (chr->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_VIRTIO_SERIAL &&
        (chr->info.addr.vioserial.controller != 0 || chr->info.addr.vioserial.bus != 0))
        UNSUPPORTED(_("channel '%1$s': StratoVirt has one virtio-serial device with one bus: use controller='0' bus='0'"),
                    name);
    if (chr->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE &&
        chr->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_VIRTIO_SERIAL)
        UNSUPPORTED(_("channel '%1$s': a channel sits on the virtio-serial device (<address type='virtio-serial'/>)"),
                    name);
    if (chr->source->data.nix.reconnect.enabled == VIR_TRISTATE_BOOL_YES)
        UNSUPPORTED(_("channel '%1$s': StratoVirt's socket chardev has no reconnect"), name);
    for (i = 0; i < def->nchannels; i++) {
        if (def->channels[i] != chr && STREQ_NULLABLE(def->channels[i]->target.name, name))
            UNSUPPORTED(_("channel '%1$s' is defined twice"), name);
    }
    return 0;
}


static int
stratovirtValidateChr(const virDomainChrDef *chr,
                      const virDomainDef *def)
{
    const char *dev = virDomainChrDeviceTypeToString(chr->deviceType);

    /* libvirt's console compatibility turns a lone <console> of an HVM
     * guest into <serial> plus a stub console (source type 'null') with a
     * serial target, and adds the same stub for a lone <serial>: the stub
     * is an alias of the serial port, which is checked on its own. */
    if (chr->deviceType == VIR_DOMAIN_CHR_DEVICE_TYPE_CONSOLE &&
        chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL)
        return 0;

    if (chr->deviceType == VIR_DOMAIN_CHR_DEVICE_TYPE_CHANNEL)
        return stratovirtValidateChannel(chr, def);

    if (chr->source->type != VIR_DOMAIN_CHR_TYPE_PTY)
        UNSUPPORTED(_("%1$s: type '%2$s' is not supported by this driver; use type='pty'"),
                    dev, virDomainChrTypeToString(chr->source->type));

    switch ((virDomainChrDeviceType) chr->deviceType) {
    case VIR_DOMAIN_CHR_DEVICE_TYPE_CONSOLE:
        if (chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO) {
            if (chr->target.port != 0)
                UNSUPPORTED(_("console: StratoVirt's virtconsole is port 0 only"));
            if (chr->source->logfile)
                UNSUPPORTED(_("console: a <log file> is supported on the serial port only; log <serial type='pty'> instead of the virtio console"));
            return 0;
        }
        UNSUPPORTED(_("console: target type '%1$s' is not supported by StratoVirt; use <target type='virtio'/>"),
                    virDomainChrConsoleTargetTypeToString(chr->targetType));

    case VIR_DOMAIN_CHR_DEVICE_TYPE_SERIAL:
        if (chr->target.port != 0 || def->nserials > 1)
            UNSUPPORTED(_("serial: StratoVirt has one serial port, port 0"));
        if (chr->targetModel != VIR_DOMAIN_CHR_SERIAL_TARGET_MODEL_NONE &&
            chr->targetModel != VIR_DOMAIN_CHR_SERIAL_TARGET_MODEL_ISA_SERIAL &&
            chr->targetModel != VIR_DOMAIN_CHR_SERIAL_TARGET_MODEL_PL011)
            UNSUPPORTED(_("serial: target model '%1$s' is not supported by StratoVirt"),
                        virDomainChrSerialTargetModelTypeToString(chr->targetModel));
        return 0;

    case VIR_DOMAIN_CHR_DEVICE_TYPE_PARALLEL:
    case VIR_DOMAIN_CHR_DEVICE_TYPE_CHANNEL:
    case VIR_DOMAIN_CHR_DEVICE_TYPE_LAST:
    default:
        UNSUPPORTED(_("%1$s devices are not supported by StratoVirt"), dev);
    }
}


static int
stratovirtValidateHostdev(const virDomainHostdevDef *hostdev,
                          const virDomainDef *def)
{
    const virDomainHostdevSubsysPCI *pci = &hostdev->source.subsys.u.pci;
    g_autofree char *addr = NULL;
    g_autofree char *what = NULL;

    if (hostdev->mode != VIR_DOMAIN_HOSTDEV_MODE_SUBSYS ||
        hostdev->source.subsys.type != VIR_DOMAIN_HOSTDEV_SUBSYS_TYPE_PCI)
        UNSUPPORTED(_("hostdev: only <hostdev mode='subsystem' type='pci'> is supported by StratoVirt"));

    addr = virPCIDeviceAddressAsString(&pci->addr);
    what = g_strdup_printf(_("hostdev %1$s"), addr);
    if (!virStratoVirtDomainIsStandard(def))
        UNSUPPORTED(_("%1$s: PCI passthrough needs a standard machine (q35 or virt); microvm has no PCI bus"),
                    what);
    if (virStratoVirtCompatHostdevPCIDriver(pci) != VIR_STRATOVIRT_COMPAT_PCI_DRIVER_DEFAULT &&
        virStratoVirtCompatHostdevPCIDriver(pci) != VIR_STRATOVIRT_COMPAT_PCI_DRIVER_VFIO)
        UNSUPPORTED(_("%1$s: driver '%2$s' is not supported; StratoVirt uses <driver name='vfio'/>"),
                    what, virStratoVirtCompatHostdevPCIDriverTypeToString(
                              virStratoVirtCompatHostdevPCIDriver(pci)));
    if (hostdev->shareable || hostdev->readonly)
        UNSUPPORTED(_("%1$s: shareable and readonly do not apply to PCI devices"), what);
    if (stratovirtValidateInfoAddress(def, hostdev->info, what) < 0 ||
        stratovirtValidatePCIBus(def, hostdev->info, what) < 0)
        return -1;
    return 0;
}


static int
stratovirtValidateGraphics(const virDomainGraphicsDef *gfx,
                           const virDomainDef *def)
{
    const virDomainGraphicsListenDef *listen;

    if (virStratoVirtDomainIsMicrovm(def))
        UNSUPPORTED(_("graphics: microvm has no display device; remove <graphics> and <video> (virt-install: --graphics none)"));

    if (gfx->type != VIR_DOMAIN_GRAPHICS_TYPE_VNC)
        UNSUPPORTED(_("graphics type '%1$s' is not supported by StratoVirt; use type='vnc'"),
                    virDomainGraphicsTypeToString(gfx->type));
    if (gfx->nListens > 1)
        UNSUPPORTED(_("graphics: StratoVirt's VNC server listens on one address"));
    if (gfx->nListens == 1) {
        listen = &gfx->listens[0];
        if (listen->type != VIR_DOMAIN_GRAPHICS_LISTEN_TYPE_ADDRESS)
            UNSUPPORTED(_("graphics: StratoVirt's VNC server listens on an IPv4 address only; use <listen type='address'>"));
        if (listen->address && !virSocketAddrIsNumericLocalhost(listen->address) &&
            !g_hostname_is_ip_address(listen->address))
            UNSUPPORTED(_("graphics: listen address '%1$s' must be an IPv4 address"),
                        listen->address);
        if (listen->address && strchr(listen->address, ':'))
            UNSUPPORTED(_("graphics: StratoVirt's VNC server does not listen on IPv6 ('%1$s')"),
                        listen->address);
    }
    if (gfx->data.vnc.auth.passwd)
        UNSUPPORTED(_("graphics: VNC passwords are not supported by StratoVirt"));
    if (gfx->data.vnc.websocket || gfx->data.vnc.keymap || gfx->data.vnc.sharePolicy ||
        gfx->data.vnc.powerControl)
        UNSUPPORTED(_("graphics: websocket, keymap, sharePolicy and powerControl are not supported by StratoVirt"));
    if (!gfx->data.vnc.autoport &&
        (gfx->data.vnc.port < 5900 || gfx->data.vnc.port > 5900 + 59635))
        UNSUPPORTED(_("graphics: VNC port %1$d is outside StratoVirt's range 5900-65535"),
                    gfx->data.vnc.port);
    return 0;
}


static int
stratovirtValidateDeviceDef(const virDomainDeviceDef *dev,
                            const virDomainDef *def,
                            void *opaque G_GNUC_UNUSED,
                            void *parseOpaque G_GNUC_UNUSED)
{
    switch ((virDomainDeviceType) dev->type) {
    case VIR_DOMAIN_DEVICE_DISK:
        return stratovirtValidateDisk(dev->data.disk, def);

    case VIR_DOMAIN_DEVICE_NET:
        return stratovirtValidateNet(dev->data.net, def);

    case VIR_DOMAIN_DEVICE_CONTROLLER:
        return stratovirtValidateController(dev->data.controller, def);

    case VIR_DOMAIN_DEVICE_CHR:
        return stratovirtValidateChr(dev->data.chr, def);

    case VIR_DOMAIN_DEVICE_HOSTDEV:
        return stratovirtValidateHostdev(dev->data.hostdev, def);

    case VIR_DOMAIN_DEVICE_GRAPHICS:
        return stratovirtValidateGraphics(dev->data.graphics, def);

    case VIR_DOMAIN_DEVICE_MEMBALLOON: {
        const virDomainMemballoonDef *b = dev->data.memballoon;

        if (b->model == VIR_DOMAIN_MEMBALLOON_MODEL_NONE)
            return 0;
        if (b->model != VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO)
            UNSUPPORTED(_("memballoon model '%1$s' is not supported by StratoVirt; use model='virtio'"),
                        virDomainMemballoonModelTypeToString(b->model));
        if (b->period)
            UNSUPPORTED(_("memballoon: <stats period> is not supported by StratoVirt, which reports only the balloon size"));
        if (stratovirtValidateInfoAddress(def, &b->info, "memballoon") < 0 ||
            stratovirtValidatePCIBus(def, &b->info, "memballoon") < 0)
            return -1;
        return 0;
    }

    case VIR_DOMAIN_DEVICE_RNG: {
        const virDomainRNGDef *rng = dev->data.rng;

        if (rng->model != VIR_DOMAIN_RNG_MODEL_VIRTIO)
            UNSUPPORTED(_("rng model '%1$s' is not supported by StratoVirt"),
                        virDomainRNGModelTypeToString(rng->model));
        if (rng->backend != VIR_DOMAIN_RNG_BACKEND_RANDOM)
            UNSUPPORTED(_("rng backend '%1$s' is not supported by StratoVirt; use <backend model='random'>"),
                        virDomainRNGBackendTypeToString(rng->backend));
        if (virStratoVirtValidateCmdlineValue(_("rng backend"), rng->source.file) < 0)
            return -1;
        if (rng->rate) {
            unsigned long long period = rng->period ? rng->period : 1000;
            unsigned long long bps = (unsigned long long) rng->rate * 1000 / period;

            if (bps < 64 || bps > 1000000000ULL)
                UNSUPPORTED(_("rng: a rate of %1$llu bytes per second is outside StratoVirt's range 64-1000000000"),
                            bps);
        }
        if (def->nrngs > 1)
            UNSUPPORTED(_("rng: StratoVirt supports one rng device"));
        if (stratovirtValidateInfoAddress(def, &rng->info, "rng") < 0 ||
            stratovirtValidatePCIBus(def, &rng->info, "rng") < 0)
            return -1;
        return 0;
    }

    case VIR_DOMAIN_DEVICE_VSOCK: {
        const virDomainVsockDef *vsock = dev->data.vsock;

        if (vsock->auto_cid != VIR_TRISTATE_BOOL_YES && vsock->guest_cid < 3)
            UNSUPPORTED(_("vsock: guest CID %1$u is reserved; use 3 or more, or <cid auto='yes'/>"),
                        vsock->guest_cid);
        if (stratovirtValidateInfoAddress(def, &vsock->info, "vsock") < 0 ||
            stratovirtValidatePCIBus(def, &vsock->info, "vsock") < 0)
            return -1;
        return 0;
    }

    case VIR_DOMAIN_DEVICE_VIDEO: {
        const virDomainVideoDef *video = dev->data.video;

        if (video->type == VIR_DOMAIN_VIDEO_TYPE_NONE)
            return 0;
        if (virStratoVirtDomainIsMicrovm(def))
            UNSUPPORTED(_("video: microvm has no display device; remove <graphics> and <video> (virt-install: --graphics none)"));
        if (video->type != VIR_DOMAIN_VIDEO_TYPE_VIRTIO)
            UNSUPPORTED(_("video model '%1$s' is not supported by StratoVirt; use <model type='virtio'/>"),
                        virDomainVideoTypeToString(video->type));
        if (!virStratoVirtDomainIsStandard(def))
            UNSUPPORTED(_("video: virtio-gpu needs a standard machine (q35 or virt)"));
        if (video->heads > 16)
            UNSUPPORTED(_("video: StratoVirt's virtio-gpu has at most 16 heads"));
        if (video->accel && (video->accel->accel3d == VIR_TRISTATE_BOOL_YES))
            UNSUPPORTED(_("video: StratoVirt's virtio-gpu is 2D only"));
        if (video->ram || video->vram || video->vgamem || video->vram64)
            UNSUPPORTED(_("video: ram, vram and vgamem do not apply to virtio-gpu"));
        if (def->nvideos > 1)
            UNSUPPORTED(_("video: StratoVirt supports one video device"));
        if (stratovirtValidateInfoAddress(def, &video->info, "video") < 0)
            return -1;
        if (video->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI &&
            video->info.addr.pci.bus != 0)
            UNSUPPORTED(_("video: virtio-gpu cannot be hot-plugged and belongs on pcie.0 (bus 0x00)"));
        return 0;
    }

    case VIR_DOMAIN_DEVICE_INPUT: {
        const virDomainInputDef *input = dev->data.input;

        /* libvirt adds PS/2 mouse and keyboard to every x86 domain with
         * graphics; they are the i8042 of the machine, nothing to add. */
        if (input->bus == VIR_DOMAIN_INPUT_BUS_PS2 && ARCH_IS_X86(def->os.arch))
            return 0;
        if (input->bus == VIR_DOMAIN_INPUT_BUS_USB) {
            size_t i;
            bool usb = false;

            if (input->type != VIR_DOMAIN_INPUT_TYPE_TABLET &&
                input->type != VIR_DOMAIN_INPUT_TYPE_KBD)
                UNSUPPORTED(_("input device '%1$s' on bus 'usb': StratoVirt has usb-tablet and usb-kbd; use type='tablet' or type='keyboard' (virt-install: --input tablet)"),
                            virDomainInputTypeToString(input->type));
            for (i = 0; i < def->ncontrollers; i++) {
                if (def->controllers[i]->type == VIR_DOMAIN_CONTROLLER_TYPE_USB &&
                    def->controllers[i]->model != VIR_DOMAIN_CONTROLLER_MODEL_USB_NONE)
                    usb = true;
            }
            if (!usb)
                UNSUPPORTED(_("input device '%1$s' on bus 'usb' needs a USB controller; remove <controller type='usb' model='none'/> (virt-install: --controller usb,model=qemu-xhci)"),
                            virDomainInputTypeToString(input->type));
            if (input->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE &&
                (input->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_USB ||
                 input->info.addr.usb.bus != 0 || input->info.addr.usb.port[1] ||
                 input->info.addr.usb.port[0] == 0))
                UNSUPPORTED(_("input device '%1$s': StratoVirt takes a USB address on bus 0 with one port number, or none"),
                            virDomainInputTypeToString(input->type));
            if (input->source.evdev || input->model)
                UNSUPPORTED(_("input device '%1$s': source and model are not supported by StratoVirt"),
                            virDomainInputTypeToString(input->type));
            return 0;
        }
        UNSUPPORTED(_("input device '%1$s' on bus '%2$s' is not supported by StratoVirt, which has USB input only; use bus='usb'"),
                    virDomainInputTypeToString(input->type),
                    virDomainInputBusTypeToString(input->bus));
    }

    case VIR_DOMAIN_DEVICE_LEASE:
    case VIR_DOMAIN_DEVICE_FS:
    case VIR_DOMAIN_DEVICE_SOUND:
    case VIR_DOMAIN_DEVICE_WATCHDOG:
    case VIR_DOMAIN_DEVICE_HUB:
    case VIR_DOMAIN_DEVICE_REDIRDEV:
    case VIR_DOMAIN_DEVICE_SMARTCARD:
    case VIR_DOMAIN_DEVICE_NVRAM:
    case VIR_DOMAIN_DEVICE_SHMEM:
    case VIR_DOMAIN_DEVICE_TPM:
    case VIR_DOMAIN_DEVICE_PANIC:
    case VIR_DOMAIN_DEVICE_MEMORY:
    case VIR_DOMAIN_DEVICE_IOMMU:
    case VIR_DOMAIN_DEVICE_AUDIO:
        UNSUPPORTED(_("<%1$s> devices are not supported by StratoVirt"),
                    virDomainDeviceTypeToString(dev->type));

    case VIR_DOMAIN_DEVICE_NONE:
    case VIR_DOMAIN_DEVICE_LAST:
    default:
        return 0;
    }
}


static int
stratovirtValidateOS(const virDomainDef *def)
{
    bool standard = virStratoVirtDomainIsStandard(def);
    size_t i;

    if (def->os.type != VIR_DOMAIN_OSTYPE_HVM)
        UNSUPPORTED(_("os type '%1$s' is not supported by StratoVirt; use hvm"),
                    virDomainOSTypeToString(def->os.type));
    if (!virStratoVirtDomainIsMicrovm(def) && !standard)
        UNSUPPORTED(_("machine type '%1$s' is not supported by StratoVirt; use q35 (x86_64), virt (aarch64) or microvm"),
                    def->os.machine);
    if ((STREQ(def->os.machine, "q35") && def->os.arch != VIR_ARCH_X86_64) ||
        (STREQ(def->os.machine, "virt") && def->os.arch != VIR_ARCH_AARCH64))
        UNSUPPORTED(_("machine '%1$s' does not exist for architecture '%2$s' in StratoVirt"),
                    def->os.machine, virArchToString(def->os.arch));
    /* a standard machine's firmware='efi' was resolved by post-parse */
    if (def->os.firmware)
        UNSUPPORTED(_("<os firmware='%1$s'>: microvm has no firmware; boot it with <kernel> (virt-install: --boot kernel=PATH,initrd=PATH)"),
                    virDomainOsDefFirmwareTypeToString(def->os.firmware));
    if (def->os.loader) {
        if (!standard)
            UNSUPPORTED(_("<loader>: microvm has no firmware; boot it with <kernel>"));
        if (def->os.loader->type != VIR_DOMAIN_LOADER_TYPE_PFLASH)
            UNSUPPORTED(_("<loader>: StratoVirt boots UEFI from pflash; use type='pflash'"));
        if (def->os.loader->secure == VIR_TRISTATE_BOOL_YES ||
            def->os.loader->stateless == VIR_TRISTATE_BOOL_YES)
            UNSUPPORTED(_("<loader>: secure and stateless are not supported by StratoVirt"));
        if (!def->os.loader->path)
            UNSUPPORTED(_("<loader>: the pflash image path is missing"));
        if (virStratoVirtValidateCmdlineValue(_("loader"), def->os.loader->path) < 0)
            return -1;
        if (def->os.loader->nvram) {
            if (!virStorageSourceIsLocalStorage(def->os.loader->nvram))
                UNSUPPORTED(_("<nvram>: StratoVirt needs a local file"));
            if (virStratoVirtValidateCmdlineValue(_("nvram"),
                                                  def->os.loader->nvram->path) < 0)
                return -1;
        }
        if (virStratoVirtValidateCmdlineValue(_("nvram template"),
                                              def->os.loader->nvramTemplate) < 0)
            return -1;
    }
    if (!def->os.kernel && !def->os.loader)
        UNSUPPORTED(_("<os>: microvm boots a <kernel> directly; give one (virt-install: --boot kernel=PATH,initrd=PATH)"));
    if (virStratoVirtValidateCmdlineValue(_("kernel"), def->os.kernel) < 0 ||
        virStratoVirtValidateCmdlineValue(_("initrd"), def->os.initrd) < 0)
        return -1;
    if (def->os.cmdline && (def->os.cmdline[0] == '-' || strpbrk(def->os.cmdline, "\n\r")))
        UNSUPPORTED(_("<cmdline> must not start with '-' or contain line breaks"));
    if (def->os.dtb || virStratoVirtCompatDefHasACPITables(def) || def->os.bootmenu || def->os.bios.useserial ||
        def->os.init)
        UNSUPPORTED(_("<os>: dtb, acpi table, bootmenu, bios and init are not supported by StratoVirt"));
    for (i = 0; i < def->os.nBootDevs; i++) {
        if (def->os.bootDevs[i] != VIR_DOMAIN_BOOT_DISK &&
            def->os.bootDevs[i] != VIR_DOMAIN_BOOT_CDROM)
            UNSUPPORTED(_("<os><boot dev='%1$s'>: StratoVirt boots from disks and cdroms only; use dev='hd' or dev='cdrom'"),
                        virDomainBootTypeToString(def->os.bootDevs[i]));
        if (def->os.bootDevs[i] == VIR_DOMAIN_BOOT_CDROM && !def->os.loader)
            UNSUPPORTED(_("<os><boot dev='cdrom'>: booting a cdrom needs UEFI; remove <kernel> (StratoVirt then boots UEFI) or give a <loader>"));
    }
    return 0;
}


static int
stratovirtValidateFeatures(const virDomainDef *def)
{
    size_t i;

    for (i = 0; i < VIR_DOMAIN_FEATURE_LAST; i++) {
        if (def->features[i] == VIR_TRISTATE_SWITCH_ABSENT)
            continue;

        switch ((virDomainFeature) i) {
        case VIR_DOMAIN_FEATURE_ACPI:
            if (def->features[i] == VIR_TRISTATE_SWITCH_ON &&
                virStratoVirtDomainIsMicrovm(def))
                UNSUPPORTED(_("<acpi/>: microvm has no ACPI; remove it (virt-install: --features acpi=off)"));
            if (def->features[i] != VIR_TRISTATE_SWITCH_ON &&
                virStratoVirtDomainIsStandard(def))
                UNSUPPORTED(_("<acpi/>: StratoVirt's standard machines always have ACPI"));
            break;
        case VIR_DOMAIN_FEATURE_APIC:
        case VIR_DOMAIN_FEATURE_PAE:
            if (!ARCH_IS_X86(def->os.arch))
                UNSUPPORTED(_("<%1$s/> is an x86 feature"), virDomainFeatureTypeToString(i));
            break;
        case VIR_DOMAIN_FEATURE_VMPORT:
            if (def->features[i] == VIR_TRISTATE_SWITCH_ON)
                UNSUPPORTED(_("<vmport state='on'/>: StratoVirt has no VMware port"));
            break;
        case VIR_DOMAIN_FEATURE_GIC:
            if (def->os.arch != VIR_ARCH_AARCH64)
                UNSUPPORTED(_("<gic/> is an aarch64 feature"));
            if (def->gic_version != VIR_GIC_VERSION_NONE &&
                def->gic_version != VIR_GIC_VERSION_3 &&
                def->gic_version != VIR_GIC_VERSION_HOST)
                UNSUPPORTED(_("<gic version='%1$s'/>: StratoVirt emulates GICv3 only"),
                            virGICVersionTypeToString(def->gic_version));
            break;
        case VIR_DOMAIN_FEATURE_VMCOREINFO:
            /* QEMU's vmcoreinfo device lets the host's dump-guest-memory
             * find the guest kernel's crash data; StratoVirt has neither */
            if (def->features[i] == VIR_TRISTATE_SWITCH_ON)
                UNSUPPORTED(_("<vmcoreinfo/>: StratoVirt has no vmcoreinfo device and no guest memory dump for it to serve; remove it (kdump inside the guest works without it)"));
            break;
        default:
            UNSUPPORTED(_("feature <%1$s/> is not supported by StratoVirt"),
                        virDomainFeatureTypeToString(i));
        }
    }
    return 0;
}


/* One SMBIOS string for StratoVirt's -smbios: @what is its XML spelling */
static int
stratovirtValidateSmbiosValue(const char *what,
                              const char *value)
{
    return virStratoVirtValidateCmdlineValue(what, value);
}


/*
 * <sysinfo type='smbios'> with <os><smbios mode='sysinfo'/>: the tables
 * and strings StratoVirt's -smbios has keys for (types 0, 1, 2 and 3,
 * each once; libvirt's domain XML has no types 4 and 17).  A <sysinfo> the guest would not see is refused rather
 * than kept for nothing.
 */
static int
stratovirtValidateSmbios(const virDomainDef *def)
{
    const virSysinfoDef *si = NULL;
    size_t i;

    for (i = 0; i < def->nsysinfo; i++) {
        if (def->sysinfo[i]->type != VIR_SYSINFO_SMBIOS)
            UNSUPPORTED(_("<sysinfo type='fwcfg'>: StratoVirt has no firmware configuration entries; only <sysinfo type='smbios'> is supported"));
        si = def->sysinfo[i];
    }

    switch ((virDomainSmbiosMode) def->os.smbios_mode) {
    case VIR_DOMAIN_SMBIOS_NONE:
    case VIR_DOMAIN_SMBIOS_EMULATE:
        if (si)
            UNSUPPORTED(_("<sysinfo type='smbios'> reaches the guest only with <os><smbios mode='sysinfo'/></os>; add it (virt-install: --sysinfo ... sets both) or remove the <sysinfo>"));
        return 0;
    case VIR_DOMAIN_SMBIOS_HOST:
        UNSUPPORTED(_("<smbios mode='host'> is not supported by StratoVirt; give the strings in <sysinfo type='smbios'> with <smbios mode='sysinfo'/>"));
    case VIR_DOMAIN_SMBIOS_SYSINFO:
    case VIR_DOMAIN_SMBIOS_LAST:
        break;
    }

    if (!si)
        UNSUPPORTED(_("<smbios mode='sysinfo'/> needs a <sysinfo type='smbios'> element"));
    if (!virStratoVirtDomainIsStandard(def))
        UNSUPPORTED(_("<smbios mode='sysinfo'/>: microvm has no SMBIOS tables; use a standard machine (q35 or virt)"));

    if (si->bios) {
        if (si->bios->release)
            UNSUPPORTED(_("<sysinfo><bios><entry name='release'>: StratoVirt's SMBIOS type 0 has vendor, version and date only"));
        if (stratovirtValidateSmbiosValue("<bios><entry name='vendor'>", si->bios->vendor) < 0 ||
            stratovirtValidateSmbiosValue("<bios><entry name='version'>", si->bios->version) < 0 ||
            stratovirtValidateSmbiosValue("<bios><entry name='date'>", si->bios->date) < 0)
            return -1;
    }
    if (si->system) {
        const virSysinfoSystemDef *sys = si->system;

        if (stratovirtValidateSmbiosValue("<system><entry name='manufacturer'>", sys->manufacturer) < 0 ||
            stratovirtValidateSmbiosValue("<system><entry name='product'>", sys->product) < 0 ||
            stratovirtValidateSmbiosValue("<system><entry name='version'>", sys->version) < 0 ||
            stratovirtValidateSmbiosValue("<system><entry name='serial'>", sys->serial) < 0 ||
            stratovirtValidateSmbiosValue("<system><entry name='sku'>", sys->sku) < 0 ||
            stratovirtValidateSmbiosValue("<system><entry name='family'>", sys->family) < 0)
            return -1;
    }
    if (si->nbaseBoard > 1)
        UNSUPPORTED(_("<sysinfo>: StratoVirt has one SMBIOS type 2 table; give one <baseBoard>"));
    if (si->nbaseBoard == 1) {
        const virSysinfoBaseBoardDef *bb = &si->baseBoard[0];

        if (stratovirtValidateSmbiosValue("<baseBoard><entry name='manufacturer'>", bb->manufacturer) < 0 ||
            stratovirtValidateSmbiosValue("<baseBoard><entry name='product'>", bb->product) < 0 ||
            stratovirtValidateSmbiosValue("<baseBoard><entry name='version'>", bb->version) < 0 ||
            stratovirtValidateSmbiosValue("<baseBoard><entry name='serial'>", bb->serial) < 0 ||
            stratovirtValidateSmbiosValue("<baseBoard><entry name='asset'>", bb->asset) < 0 ||
            stratovirtValidateSmbiosValue("<baseBoard><entry name='location'>", bb->location) < 0)
            return -1;
    }
    if (si->chassis) {
        const virSysinfoChassisDef *ch = si->chassis;

        if (stratovirtValidateSmbiosValue("<chassis><entry name='manufacturer'>", ch->manufacturer) < 0 ||
            stratovirtValidateSmbiosValue("<chassis><entry name='version'>", ch->version) < 0 ||
            stratovirtValidateSmbiosValue("<chassis><entry name='serial'>", ch->serial) < 0 ||
            stratovirtValidateSmbiosValue("<chassis><entry name='asset'>", ch->asset) < 0 ||
            stratovirtValidateSmbiosValue("<chassis><entry name='sku'>", ch->sku) < 0)
            return -1;
    }
    if (si->oemStrings && si->oemStrings->nvalues)
        UNSUPPORTED(_("<sysinfo><oemStrings>: StratoVirt has no SMBIOS type 11 table; remove them"));
    return 0;
}


static int
stratovirtValidateDomainDef(const virDomainDef *def,
                            void *opaque G_GNUC_UNUSED,
                            void *parseOpaque G_GNUC_UNUSED)
{
    unsigned long long mem = virDomainDefGetMemoryInitial(def);
    unsigned int maxvcpus = virDomainDefGetVcpusMax(def);
    size_t i;

    if (def->virtType != VIR_DOMAIN_VIRT_KVM)
        UNSUPPORTED(_("domain type '%1$s' is not supported by StratoVirt; use type='kvm'"),
                    virDomainVirtTypeToString(def->virtType));
    if (virStratoVirtValidateCmdlineValue(_("domain name"), def->name) < 0)
        return -1;
    /* files named after the domain: <name>.xml.new while its config is
     * written (8 bytes more), within the 255 bytes of a file name */
    if (strlen(def->name) > 247)
        UNSUPPORTED(_("domain name: '%1$.32s...' has %2$zu bytes, but a domain name may have at most 247 (the driver keeps files named after the domain, such as <name>.xml.new); choose a shorter name"),
                    def->name, strlen(def->name));
    if (def->emulator && virStratoVirtValidateCmdlineValue(_("emulator"), def->emulator) < 0)
        return -1;

    if (stratovirtValidateOS(def) < 0 || stratovirtValidateFeatures(def) < 0)
        return -1;

    /* memory */
    if (mem < 128 * 1024 || mem > 512ULL * 1024 * 1024)
        UNSUPPORTED(_("<memory>: %1$llu KiB is outside StratoVirt's range of 128 MiB to 512 GiB"),
                    mem);
    if (mem % 1024)
        UNSUPPORTED(_("<memory>: StratoVirt takes whole MiB; %1$llu KiB is not"), mem);
    if (def->mem.cur_balloon != mem && !(def->memballoon &&
                                         def->memballoon->model == VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO))
        UNSUPPORTED(_("<currentMemory> below <memory> needs a virtio <memballoon>"));
    if (virDomainDefGetMemoryTotal(def) != mem || def->mem.max_memory || def->nmems)
        UNSUPPORTED(_("memory hotplug (<maxMemory>, <memory> devices) is not supported by this driver"));
    if (def->mem.nhugepages > 1 ||
        (def->mem.nhugepages == 1 && def->mem.hugepages[0].nodemask))
        UNSUPPORTED(_("<hugepages>: StratoVirt backs all guest memory with one page size; give one <page> without nodeset"));
    if (def->mem.locked || def->mem.nosharepages || def->mem.discard ||
        def->mem.source == VIR_DOMAIN_MEMORY_SOURCE_ANONYMOUS ||
        def->mem.source == VIR_DOMAIN_MEMORY_SOURCE_FILE ||
        def->mem.access == VIR_DOMAIN_MEMORY_ACCESS_PRIVATE)
        UNSUPPORTED(_("<memoryBacking>: of its settings StratoVirt supports hugepages, source type memfd, access mode shared and allocation mode immediate"));
    if (virMemoryLimitIsSet(def->mem.hard_limit) ||
        virMemoryLimitIsSet(def->mem.soft_limit) ||
        virMemoryLimitIsSet(def->mem.swap_hard_limit) ||
        def->mem.min_guarantee)
        UNSUPPORTED(_("<memtune> is not supported by this driver"));
    if (virDomainNumaGetNodeCount(def->numa) > 0)
        UNSUPPORTED(_("guest NUMA topology (<cpu><numa>) is not supported by this driver"));

    /* vCPUs */
    if (maxvcpus > 254)
        UNSUPPORTED(_("<vcpu>: StratoVirt supports at most 254 vCPUs"));
    if (virDomainDefGetVcpus(def) != maxvcpus)
        UNSUPPORTED(_("<vcpu current>: vCPU hotplug is not supported by this driver; set current equal to the total"));
    if (def->cpu) {
        /* <cpu><topology/></cpu> without a mode (virt-install's
         * --vcpus N,sockets=S,cores=C) parses as mode='custom' with no
         * model: a topology for StratoVirt's own CPU, nothing more. */
        bool topologyOnly = def->cpu->mode == VIR_CPU_MODE_CUSTOM &&
                            !def->cpu->model && !def->cpu->nfeatures &&
                            !def->cpu->vendor_id;

        if (def->cpu->mode != VIR_CPU_MODE_HOST_PASSTHROUGH &&
            def->cpu->mode != VIR_CPU_MODE_HOST_MODEL &&
            def->cpu->mode != VIR_CPU_MODE_MAXIMUM && !topologyOnly)
            UNSUPPORTED(_("<cpu mode='%1$s'>: StratoVirt offers the host CPU only; use mode='host-passthrough' (virt-install: --cpu host-passthrough)"),
                        virCPUModeTypeToString(def->cpu->mode));
        if (def->cpu->nfeatures || (def->cpu->model && def->cpu->mode != VIR_CPU_MODE_HOST_MODEL))
            UNSUPPORTED(_("<cpu>: models and features are not supported by StratoVirt"));
        if (def->cpu->sockets &&
            def->cpu->sockets * def->cpu->dies * virStratoVirtCompatCPUClusters(def->cpu) *
            def->cpu->cores * def->cpu->threads != maxvcpus)
            UNSUPPORTED(_("<cpu><topology>: sockets * dies * clusters * cores * threads must equal the number of vCPUs"));
    }
    /* <vcpupin>, <emulatorpin> and <vcpu cpuset> are thread affinities */
    if (def->cputune.sharesSpecified || def->cputune.period || def->cputune.quota ||
        def->cputune.emulator_period || def->cputune.emulator_quota ||
        def->cputune.global_period || def->cputune.global_quota ||
        def->cputune.iothread_period || def->cputune.iothread_quota ||
        def->cputune.emulatorsched ||
        def->placement_mode == VIR_DOMAIN_CPU_PLACEMENT_MODE_AUTO)
        UNSUPPORTED(_("<cputune>: of its settings this driver supports <vcpupin> and <emulatorpin>; CPU shares, quotas, scheduler settings and automatic placement are not supported"));
    for (i = 0; i < maxvcpus; i++) {
        virDomainVcpuDef *vcpu = virDomainDefGetVcpu((virDomainDef *) def, i);

        if (vcpu && vcpu->sched.policy != VIR_PROC_POLICY_NONE)
            UNSUPPORTED(_("<cputune><vcpusched> is not supported by this driver"));
    }
    if (def->niothreadids && virStratoVirtDomainIsMicrovm(def))
        UNSUPPORTED(_("<iothreads>: iothreads are for standard machines"));
    for (i = 0; i < def->niothreadids; i++) {
        if (def->iothreadids[i]->cpumask)
            UNSUPPORTED(_("<iothreadpin> is not supported by this driver"));
    }

    /* lifecycle */
    if (def->onPoweroff != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        UNSUPPORTED(_("<on_poweroff>%1$s</on_poweroff>: only destroy is supported"),
                    virDomainLifecycleActionTypeToString(def->onPoweroff));
    if (def->onReboot != VIR_DOMAIN_LIFECYCLE_ACTION_RESTART &&
        def->onReboot != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        UNSUPPORTED(_("<on_reboot>%1$s</on_reboot>: only restart and destroy are supported"),
                    virDomainLifecycleActionTypeToString(def->onReboot));
    if (def->onCrash != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY)
        UNSUPPORTED(_("<on_crash>%1$s</on_crash>: only destroy is supported"),
                    virDomainLifecycleActionTypeToString(def->onCrash));
    if (def->pm.s3 || def->pm.s4)
        UNSUPPORTED(_("<pm> is not supported by StratoVirt"));

    /* misc */
    if (def->clock.offset != VIR_DOMAIN_CLOCK_OFFSET_UTC)
        UNSUPPORTED(_("<clock offset='%1$s'>: StratoVirt's RTC runs in UTC only"),
                    virDomainClockOffsetTypeToString(def->clock.offset));
    /* labels come from libvirt's security manager: DAC (see
     * stratovirt_security.c for why not AppArmor or SELinux) */
    for (i = 0; i < def->nseclabels; i++) {
        const char *model = def->seclabels[i]->model;

        if (def->seclabels[i]->type == VIR_DOMAIN_SECLABEL_NONE ||
            STREQ_NULLABLE(model, "dac") || STREQ_NULLABLE(model, "none"))
            continue;
        UNSUPPORTED(_("<seclabel model='%1$s'>: this driver labels with DAC only (libvirt's AppArmor and SELinux drivers confine with profiles written for QEMU); use model='dac' (for example <label>+107:+107</label>) or type='none'"),
                    NULLSTR(model));
    }
    if (def->blkio.weight || def->blkio.ndevices || def->resource ||
        def->idmap.nuidmap || def->keywrap || def->sec)
        UNSUPPORTED(_("<blkiotune>, <resource>, <idmap>, <keywrap> and <launchSecurity> are not supported by StratoVirt"));
    if (stratovirtValidateSmbios(def) < 0)
        return -1;

    if (virStratoVirtDomainIsMicrovm(def)) {
        size_t nblk = 0, nnet = 0;

        for (i = 0; i < def->ndisks; i++)
            nblk++;
        for (i = 0; i < def->nnets; i++)
            nnet++;
        if (nblk > 4)
            UNSUPPORTED(_("microvm takes at most 4 virtio-blk disks (%1$zu given)"), nblk);
        if (nnet > 2)
            UNSUPPORTED(_("microvm takes at most 2 virtio-net interfaces (%1$zu given)"), nnet);
    }
    if (def->ngraphics > 1)
        UNSUPPORTED(_("StratoVirt has one VNC server; give one <graphics>"));
    return 0;
}


void
virStratoVirtDomainValidateSetup(virDomainDefParserConfig *config)
{
    config->domainValidateCallback = stratovirtValidateDomainDef;
    config->deviceValidateCallback = stratovirtValidateDeviceDef;
}
