/*
 * stratovirt_command.c: a domain definition as a StratoVirt command line
 *
 * virStratoVirtBuildCommandLine is a pure function: it reads a validated
 * definition with assigned aliases and addresses, plus the per-run paths,
 * and returns a virCommand that has not been run.  Golden-file tests cover
 * it (tests/cmdline).  The option syntax is StratoVirt's (see
 * shared/stratovirt-contract.md): key=value lists without escaping, which
 * is why every value was checked by stratovirt_domain_validate.c first.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_compat.h"
#include "stratovirt_command.h"
#include "stratovirt_domain_ns.h"
#include "stratovirt_domain_addr.h"
#include "viralloc.h"
#include "virbuffer.h"
#include "virpci.h"
#include "virerror.h"
#include "virlog.h"
#include "virstring.h"
#include "viruuid.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_command");


/**
 * virStratoVirtAssignAliases:
 *
 * Gives each device the id it has on the StratoVirt command line and in
 * QMP, following libvirt's QEMU naming (virtio-disk0, net0, pci.1, ...).
 */
int
virStratoVirtAssignAliases(virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->ndisks; i++) {
        virDomainDiskDef *disk = def->disks[i];

        if (disk->info.alias)
            continue;
        if (disk->bus == VIR_DOMAIN_DISK_BUS_SCSI)
            disk->info.alias = g_strdup_printf("scsi%u-%u-%u-%u",
                                               disk->info.addr.drive.controller,
                                               disk->info.addr.drive.bus,
                                               disk->info.addr.drive.target,
                                               disk->info.addr.drive.unit);
        else
            disk->info.alias = g_strdup_printf("virtio-disk%zu", i);
    }
    for (i = 0; i < def->nnets; i++) {
        if (!def->nets[i]->info.alias)
            def->nets[i]->info.alias = g_strdup_printf(
                def->nets[i]->type == VIR_DOMAIN_NET_TYPE_HOSTDEV ?
                "hostdev-net%zu" : "net%zu", i);
    }
    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];

        if (cont->info.alias)
            continue;
        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI)
            cont->info.alias = g_strdup_printf(cont->idx == 0 ? "pcie.%d" : "pci.%d",
                                               cont->idx);
        else if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_VIRTIO_SERIAL)
            cont->info.alias = g_strdup_printf("virtio-serial%d", cont->idx);
        else
            cont->info.alias = g_strdup_printf("%s%d",
                                               virDomainControllerTypeToString(cont->type),
                                               cont->idx);
    }
    for (i = 0; i < def->nconsoles; i++) {
        if (!def->consoles[i]->info.alias)
            def->consoles[i]->info.alias = g_strdup_printf("console%zu", i);
    }
    for (i = 0; i < def->nchannels; i++) {
        if (!def->channels[i]->info.alias)
            def->channels[i]->info.alias = g_strdup_printf("channel%zu", i);
    }
    for (i = 0; i < def->nserials; i++) {
        if (!def->serials[i]->info.alias)
            def->serials[i]->info.alias = g_strdup_printf("serial%zu", i);
    }
    if (def->memballoon && !def->memballoon->info.alias)
        def->memballoon->info.alias = g_strdup("balloon0");
    for (i = 0; i < def->nrngs; i++) {
        if (!def->rngs[i]->info.alias)
            def->rngs[i]->info.alias = g_strdup_printf("rng%zu", i);
    }
    if (def->vsock && !def->vsock->info.alias)
        def->vsock->info.alias = g_strdup("vsock0");
    for (i = 0; i < def->nvideos; i++) {
        if (!def->videos[i]->info.alias)
            def->videos[i]->info.alias = g_strdup_printf("video%zu", i);
    }
    for (i = 0; i < def->nhostdevs; i++) {
        if (!def->hostdevs[i]->info->alias)
            virStratoVirtAssignHostdevAlias(def, def->hostdevs[i]);
    }
    for (i = 0; i < def->ninputs; i++) {
        if (!def->inputs[i]->info.alias)
            def->inputs[i]->info.alias = g_strdup_printf("input%zu", i);
    }
    return 0;
}


/**
 * virStratoVirtAssignHostdevAlias:
 *
 * The first "hostdevN" no host device of @def has, for @hostdev: at start
 * and for a device hot-plugged next to others.
 */
void
virStratoVirtAssignHostdevAlias(const virDomainDef *def,
                                virDomainHostdevDef *hostdev)
{
    size_t n;

    for (n = 0; ; n++) {
        g_autofree char *alias = g_strdup_printf("hostdev%zu", n);
        bool taken = false;
        size_t i;

        for (i = 0; i < def->nhostdevs && !taken; i++)
            taken = STREQ_NULLABLE(def->hostdevs[i]->info->alias, alias);
        if (!taken) {
            g_free(hostdev->info->alias);
            hostdev->info->alias = g_steal_pointer(&alias);
            return;
        }
    }
}


static const char *
stratovirtBusName(const virDomainDef *def,
                  unsigned int bus)
{
    size_t i;

    if (bus == 0)
        return "pcie.0";
    for (i = 0; i < def->ncontrollers; i++) {
        if (def->controllers[i]->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI &&
            def->controllers[i]->idx == bus)
            return def->controllers[i]->info.alias;
    }
    return NULL;
}


/* ",bus=pci.N,addr=0xS" for PCI, nothing for microvm's MMIO */
static int
stratovirtBuildAddress(virBuffer *buf,
                       const virDomainDef *def,
                       const virDomainDeviceInfo *info)
{
    const char *bus;

    if (!virStratoVirtDomainIsStandard(def))
        return 0;

    if (info->type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI ||
        !(bus = stratovirtBusName(def, info->addr.pci.bus))) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("device '%1$s' has no PCI address on an existing bus"),
                       NULLSTR(info->alias));
        return -1;
    }
    virBufferAsprintf(buf, ",bus=%s,addr=0x%x", bus, info->addr.pci.slot);
    if (info->bootIndex)
        virBufferAsprintf(buf, ",bootindex=%u", info->bootIndex - 1);
    return 0;
}


static const char *
stratovirtDevSuffix(const virDomainDef *def)
{
    return virStratoVirtDomainIsStandard(def) ? "pci" : "device";
}


static void
stratovirtAddArgBuffer(virCommand *cmd,
                       const char *opt,
                       virBuffer *buf)
{
    g_autofree char *val = virBufferContentAndReset(buf);

    virCommandAddArgList(cmd, opt, val, NULL);
}


static void
stratovirtBuildMachine(virCommand *cmd,
                       const virDomainDef *def)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

    virBufferAsprintf(&buf, "%s,accel=kvm", def->os.machine);
    if (def->features[VIR_DOMAIN_FEATURE_GIC] == VIR_TRISTATE_SWITCH_ON &&
        virStratoVirtDomainIsStandard(def))
        virBufferAddLit(&buf, ",gic-version=3");
    if (def->mem.access == VIR_DOMAIN_MEMORY_ACCESS_SHARED ||
        def->mem.source == VIR_DOMAIN_MEMORY_SOURCE_MEMFD)
        virBufferAddLit(&buf, ",mem-share=on");
    stratovirtAddArgBuffer(cmd, "-machine", &buf);
}


static void
stratovirtBuildMemoryAndCPU(virCommand *cmd,
                            const virDomainDef *def,
                            const virStratoVirtBuildParams *params)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    unsigned int vcpus = virDomainDefGetVcpusMax(def);

    virCommandAddArg(cmd, "-m");
    virCommandAddArgFormat(cmd, "%llu", virDomainDefGetMemoryInitial(def) / 1024);
    if (params->memPath)
        virCommandAddArgList(cmd, "-mem-path", params->memPath, NULL);
    if (def->mem.allocation == VIR_DOMAIN_MEMORY_ALLOCATION_IMMEDIATE)
        virCommandAddArg(cmd, "-mem-prealloc");

    virBufferAsprintf(&buf, "cpus=%u", vcpus);
    if (def->cpu && def->cpu->sockets) {
        virBufferAsprintf(&buf, ",maxcpus=%u,sockets=%u,cores=%u,threads=%u",
                          vcpus, def->cpu->sockets, def->cpu->cores,
                          def->cpu->threads);
        if (def->cpu->dies > 1)
            virBufferAsprintf(&buf, ",dies=%u", def->cpu->dies);
        if (virStratoVirtCompatCPUClusters(def->cpu) > 1)
            virBufferAsprintf(&buf, ",clusters=%u", virStratoVirtCompatCPUClusters(def->cpu));
    }
    stratovirtAddArgBuffer(cmd, "-smp", &buf);

    /* a <cpu> that only gives a topology keeps StratoVirt's default CPU */
    if (def->cpu && def->cpu->mode != VIR_CPU_MODE_CUSTOM)
        virCommandAddArgList(cmd, "-cpu", "host", NULL);
}


static void
stratovirtBuildBoot(virCommand *cmd,
                    const virDomainDef *def)
{
    if (def->os.kernel)
        virCommandAddArgList(cmd, "-kernel", def->os.kernel, NULL);
    if (def->os.initrd)
        virCommandAddArgList(cmd, "-initrd", def->os.initrd, NULL);
    if (def->os.cmdline && *def->os.cmdline)
        virCommandAddArgList(cmd, "-append", def->os.cmdline, NULL);

    if (def->os.loader && def->os.loader->path) {
        virCommandAddArg(cmd, "-drive");
        virCommandAddArgFormat(cmd, "file=%s,if=pflash,unit=0%s",
                               def->os.loader->path,
                               def->os.loader->readonly == VIR_TRISTATE_BOOL_YES ?
                               ",readonly=on" : "");
        if (def->os.loader->nvram && def->os.loader->nvram->path) {
            virCommandAddArg(cmd, "-drive");
            virCommandAddArgFormat(cmd, "file=%s,if=pflash,unit=1",
                                   def->os.loader->nvram->path);
        }
    }
}


static void
stratovirtBuildIOThreads(virCommand *cmd,
                         const virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->niothreadids; i++) {
        virCommandAddArg(cmd, "-object");
        virCommandAddArgFormat(cmd, "iothread,id=iothread%u",
                               def->iothreadids[i]->iothread_id);
    }
}


static int
stratovirtBuildRootPorts(virCommand *cmd,
                         const virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        if (cont->type != VIR_DOMAIN_CONTROLLER_TYPE_PCI ||
            cont->model != VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT)
            continue;

        virBufferAsprintf(&buf, "pcie-root-port,id=%s,port=0x%x,chassis=%d",
                          cont->info.alias, cont->opts.pciopts.port,
                          cont->opts.pciopts.chassis);
        if (stratovirtBuildAddress(&buf, def, &cont->info) < 0)
            return -1;
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }
    return 0;
}


/**
 * virStratoVirtBuildDiskDrive:
 *
 * The -drive backend of a disk (also the shape blockdev-add mirrors).
 */
char *
virStratoVirtBuildDiskDrive(const virDomainDiskDef *disk,
                            const virStratoVirtCaps *caps)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    /* StratoVirt's own default is direct I/O.  Install media are not
     * opened that way unless asked (cache='none'): an ISO 9660 image is
     * sized in 2048-byte sectors, and StratoVirt 2.5 refuses a raw file
     * for O_DIRECT whose size is not a multiple of 4096 ("The size of raw
     * file is not aligned to 4096"); a read-only medium gains nothing from
     * bypassing the page cache. */
    bool direct = disk->cachemode == VIR_DOMAIN_DISK_CACHE_DISABLE ||
                  (disk->cachemode == VIR_DOMAIN_DISK_CACHE_DEFAULT &&
                   disk->device != VIR_DOMAIN_DISK_DEVICE_CDROM);
    const char *aio;

    virBufferAsprintf(&buf, "id=drive-%s,file=%s,if=none,format=%s",
                      disk->info.alias, disk->src->path,
                      disk->src->format == VIR_STORAGE_FILE_QCOW2 ? "qcow2" : "raw");
    if (disk->src->readonly)
        virBufferAddLit(&buf, ",readonly=on");
    if (disk->device == VIR_DOMAIN_DISK_DEVICE_CDROM)
        virBufferAddLit(&buf, ",media=cdrom");

    switch (disk->iomode) {
    case VIR_DOMAIN_DISK_IO_THREADS:
        aio = "threads";
        break;
    case VIR_DOMAIN_DISK_IO_URING:
        aio = "io_uring";
        break;
    case VIR_DOMAIN_DISK_IO_NATIVE:
    case VIR_DOMAIN_DISK_IO_DEFAULT:
    case VIR_DOMAIN_DISK_IO_LAST:
    default:
        /* 2.1.x has no aio= at all: its default it is */
        aio = direct && virStratoVirtCapsIsModern(caps) ? "native" : NULL;
        break;
    }
    virBufferAsprintf(&buf, ",direct=%s", direct ? "on" : "off");
    if (aio)
        virBufferAsprintf(&buf, ",aio=%s", aio);
    if (disk->blkdeviotune.total_iops_sec)
        virBufferAsprintf(&buf, ",throttling.iops-total=%llu",
                          disk->blkdeviotune.total_iops_sec);
    return virBufferContentAndReset(&buf);
}


/* The firmware's boot index of @disk (0 first), or -1: its <boot order>,
 * else its place in <os><boot dev='cdrom'|'hd'/> (each in turn names the
 * cdroms, or the disks, in definition order).  Without a UEFI loader there
 * is no firmware to read it; with a <kernel> the firmware boots that. */
static int
stratovirtDiskBootIndex(const virDomainDef *def,
                        const virDomainDiskDef *disk)
{
    size_t i, j;
    int n = 0;

    if (disk->info.bootIndex)
        return disk->info.bootIndex - 1;
    /* with a <kernel> the firmware boots that, whatever <boot dev> says */
    if (!def->os.loader || def->os.kernel)
        return -1;
    for (i = 0; i < def->ndisks; i++) {
        if (def->disks[i]->info.bootIndex)
            return -1; /* per-device order given: it alone counts */
    }
    for (i = 0; i < def->os.nBootDevs; i++) {
        int want;

        if (def->os.bootDevs[i] == VIR_DOMAIN_BOOT_CDROM)
            want = VIR_DOMAIN_DISK_DEVICE_CDROM;
        else if (def->os.bootDevs[i] == VIR_DOMAIN_BOOT_DISK)
            want = VIR_DOMAIN_DISK_DEVICE_DISK;
        else
            continue;
        for (j = 0; j < def->ndisks; j++) {
            const virDomainDiskDef *d = def->disks[j];

            if (d->device != want || virStorageSourceIsEmpty(d->src))
                continue;
            if (d == disk)
                return n;
            n++;
        }
    }
    return -1;
}


static char *
stratovirtBuildSCSIDiskDevice(const virDomainDef *def,
                              const virDomainDiskDef *disk)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    int boot = stratovirtDiskBootIndex(def, disk);

    virBufferAsprintf(&buf, "%s,id=%s,bus=scsi%u.0,scsi-id=%u,lun=%u,drive=drive-%s",
                      disk->device == VIR_DOMAIN_DISK_DEVICE_CDROM ? "scsi-cd" : "scsi-hd",
                      disk->info.alias, disk->info.addr.drive.controller,
                      disk->info.addr.drive.target, disk->info.addr.drive.unit,
                      disk->info.alias);
    if (boot >= 0)
        virBufferAsprintf(&buf, ",bootindex=%d", boot);
    if (disk->serial)
        virBufferAsprintf(&buf, ",serial=%s", disk->serial);
    return virBufferContentAndReset(&buf);
}


char *
virStratoVirtBuildDiskDevice(const virDomainDef *def,
                             const virDomainDiskDef *disk)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    int boot = stratovirtDiskBootIndex(def, disk);

    if (disk->bus == VIR_DOMAIN_DISK_BUS_SCSI)
        return stratovirtBuildSCSIDiskDevice(def, disk);

    virBufferAsprintf(&buf, "virtio-blk-%s,id=%s,drive=drive-%s",
                      stratovirtDevSuffix(def), disk->info.alias, disk->info.alias);
    if (stratovirtBuildAddress(&buf, def, &disk->info) < 0)
        return NULL;
    if (!disk->info.bootIndex && boot >= 0 && virStratoVirtDomainIsStandard(def))
        virBufferAsprintf(&buf, ",bootindex=%d", boot);
    if (disk->iothread)
        virBufferAsprintf(&buf, ",iothread=iothread%u", disk->iothread);
    /* a virtio-blk serial is 20 bytes (VIRTIO_BLK_ID_BYTES): the guest
     * sees the first 20 characters, as on QEMU (Nova's and Cinder's serial
     * is the volume's 36-character UUID, which StratoVirt refuses whole) */
    if (disk->serial)
        virBufferAsprintf(&buf, ",serial=%.20s", disk->serial);
    if (disk->queues)
        virBufferAsprintf(&buf, ",num-queues=%u", disk->queues);
    if (disk->queue_size)
        virBufferAsprintf(&buf, ",queue-size=%u", disk->queue_size);
    return virBufferContentAndReset(&buf);
}


static int
stratovirtBuildDisks(virCommand *cmd,
                     const virDomainDef *def,
                     const virStratoVirtCaps *caps)
{
    size_t i;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        if (cont->type != VIR_DOMAIN_CONTROLLER_TYPE_SCSI)
            continue;
        virBufferAsprintf(&buf, "virtio-scsi-pci,id=%s", cont->info.alias);
        if (stratovirtBuildAddress(&buf, def, &cont->info) < 0)
            return -1;
        if (cont->queues)
            virBufferAsprintf(&buf, ",num-queues=%u", cont->queues);
        if (cont->iothread)
            virBufferAsprintf(&buf, ",iothread=iothread%u", cont->iothread);
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }

    for (i = 0; i < def->ndisks; i++) {
        g_autofree char *drive = NULL;
        g_autofree char *dev = NULL;

        /* an ejected cdrom: StratoVirt has no empty drives */
        if (virStorageSourceIsEmpty(def->disks[i]->src)) {
            VIR_DEBUG("cdrom %s has no medium: left off the command line",
                      def->disks[i]->dst);
            continue;
        }
        drive = virStratoVirtBuildDiskDrive(def->disks[i], caps);

        if (!(dev = virStratoVirtBuildDiskDevice(def, def->disks[i])))
            return -1;
        virCommandAddArgList(cmd, "-drive", drive, "-device", dev, NULL);
    }
    return 0;
}


char *
virStratoVirtBuildNetDevice(const virDomainDef *def,
                            const virDomainNetDef *net)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    char macstr[VIR_MAC_STRING_BUFLEN];

    virBufferAsprintf(&buf, "virtio-net-%s,id=%s,netdev=host%s,mac=%s",
                      stratovirtDevSuffix(def), net->info.alias, net->info.alias,
                      virMacAddrFormat(&net->mac, macstr));
    if (stratovirtBuildAddress(&buf, def, &net->info) < 0)
        return NULL;
    if (net->driver.virtio.queues > 1)
        virBufferAddLit(&buf, ",mq=on");
    if (net->driver.virtio.rx_queue_size)
        virBufferAsprintf(&buf, ",queue-size=%u", net->driver.virtio.rx_queue_size);
    return virBufferContentAndReset(&buf);
}


static void
stratovirtBuildFDList(virBuffer *buf,
                      const char *one,
                      const char *many,
                      const int *fd,
                      size_t nfd)
{
    size_t i;

    if (nfd == 1) {
        virBufferAsprintf(buf, ",%s=%d", one, fd[0]);
        return;
    }
    virBufferAsprintf(buf, ",%s=", many);
    for (i = 0; i < nfd; i++)
        virBufferAsprintf(buf, "%s%d", i ? ":" : "", fd[i]);
}


/**
 * virStratoVirtBuildNetdev:
 * @fds: the tap (and vhost-net) fds the driver opened, or NULL
 *
 * The -netdev value (and the same for netdev_add's arguments) of one
 * interface: StratoVirt reads the open taps it is given (fd=N, fds=N:M
 * for multiqueue, the queue count being the number of fds) and needs no
 * privilege; only without fds does it open the tap by name itself.
 */
char *
virStratoVirtBuildNetdev(const virDomainNetDef *net,
                         const virStratoVirtNetFDs *fds)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

    virBufferAsprintf(&buf, "tap,id=host%s", net->info.alias);
    if (fds && fds->ntapfd > 0) {
        stratovirtBuildFDList(&buf, "fd", "fds", fds->tapfd, fds->ntapfd);
        if (fds->nvhostfd > 0) {
            virBufferAddLit(&buf, ",vhost=on");
            stratovirtBuildFDList(&buf, "vhostfd", "vhostfds", fds->vhostfd, fds->nvhostfd);
        }
    } else {
        virBufferAsprintf(&buf, ",ifname=%s", net->ifname);
        if (net->driver.virtio.queues > 1)
            virBufferAsprintf(&buf, ",queues=%u", net->driver.virtio.queues);
    }
    return virBufferContentAndReset(&buf);
}


static int
stratovirtBuildNets(virCommand *cmd,
                    const virDomainDef *def,
                    const virStratoVirtNetFDs *netfds)
{
    size_t i;

    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];
        g_autofree char *netdev = NULL;
        g_autofree char *dev = NULL;

        if (virDomainNetGetActualType(net) == VIR_DOMAIN_NET_TYPE_HOSTDEV)
            continue; /* hostdev interfaces are built with the hostdevs */

        netdev = virStratoVirtBuildNetdev(net, netfds ? &netfds[i] : NULL);
        if (!(dev = virStratoVirtBuildNetDevice(def, net)))
            return -1;
        virCommandAddArgList(cmd, "-netdev", netdev, "-device", dev, NULL);
    }
    return 0;
}


static int
stratovirtBuildSerialAndConsoles(virCommand *cmd,
                                 const virDomainDef *def,
                                 const virStratoVirtBuildParams *params)
{
    size_t i;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        if (cont->type != VIR_DOMAIN_CONTROLLER_TYPE_VIRTIO_SERIAL)
            continue;
        virBufferAsprintf(&buf, "virtio-serial-%s,id=%s",
                          stratovirtDevSuffix(def), cont->info.alias);
        if (stratovirtBuildAddress(&buf, def, &cont->info) < 0)
            return -1;
        if (cont->opts.vioserial.ports > 0)
            virBufferAsprintf(&buf, ",max-ports=%d", cont->opts.vioserial.ports);
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }

    for (i = 0; i < def->nconsoles; i++) {
        virDomainChrDef *con = def->consoles[i];

        if (con->targetType != VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO)
            continue;
        virCommandAddArg(cmd, "-chardev");
        virCommandAddArgFormat(cmd, "pty,id=char%s", con->info.alias);
        virCommandAddArg(cmd, "-device");
        /* 2.1.x knows no nr= (port 0 is its only choice anyway) */
        virCommandAddArgFormat(cmd, "virtconsole,id=%s,chardev=char%s%s",
                               con->info.alias, con->info.alias,
                               virStratoVirtCapsIsModern(params->caps) ? ",nr=0" : "");
    }

    /* Channels (the guest agent's): a unix socket StratoVirt listens on
     * and a virtserialport, whose id is the port name the guest sees
     * (StratoVirt 2.4 and 2.5 name the port after the device id and have
     * no name= key); 2.1.x has virtconsole only. */
    for (i = 0; i < def->nchannels; i++) {
        virDomainChrDef *chr = def->channels[i];

        if (!virStratoVirtCapsIsModern(params->caps)) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("StratoVirt %1$s has no virtserialport device, so it cannot carry the channel '%2$s'; remove the <channel> or use a newer StratoVirt"),
                           params->caps->versionStr, NULLSTR(chr->target.name));
            return -1;
        }
        if (!chr->source->data.nix.path) {
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           _("channel '%1$s' has no socket path"), NULLSTR(chr->target.name));
            return -1;
        }
        virCommandAddArg(cmd, "-chardev");
        virCommandAddArgFormat(cmd, "socket,id=char%s,path=%s,server,nowait",
                               chr->info.alias, chr->source->data.nix.path);
        virCommandAddArg(cmd, "-device");
        if (chr->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_VIRTIO_SERIAL &&
            chr->info.addr.vioserial.port > 0)
            virCommandAddArgFormat(cmd, "virtserialport,id=%s,chardev=char%s,nr=%u",
                                   chr->target.name, chr->info.alias,
                                   chr->info.addr.vioserial.port);
        else
            virCommandAddArgFormat(cmd, "virtserialport,id=%s,chardev=char%s",
                                   chr->target.name, chr->info.alias);
    }

    /* '-serial pty', never '-chardev pty,id=X -serial chardev:X': 2.4 and
     * 2.5 parse -serial before any -chardev, whatever the argv order, and
     * fail 'Chardev "X" not found'.  Every version takes '-serial pty'
     * (query-chardev then labels it "serial_chardev").  StratoVirt has
     * one serial port; validation refuses a second. */
    if (def->nserials > 0 && def->serials[0]->source->logfile) {
        /* a <log file>: the daemon's proxy is the socket's client (the
         * inline socket form, for the same reason as above) */
        if (!params->serialSocket) {
            virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                           _("no socket path for the logged serial port"));
            return -1;
        }
        virCommandAddArg(cmd, "-serial");
        virCommandAddArgFormat(cmd, "socket,path=%s,server,nowait",
                               params->serialSocket);
    } else if (def->nserials > 0) {
        virCommandAddArgList(cmd, "-serial", "pty", NULL);
    }
    return 0;
}


/* One -smbios word: "type=N" and each key whose value is set */
static void
stratovirtBuildSmbiosTable(virCommand *cmd,
                           unsigned int type,
                           const char *const *keys,
                           const char *const *values,
                           size_t nkeys)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    bool any = false;
    size_t i;

    virBufferAsprintf(&buf, "type=%u", type);
    for (i = 0; i < nkeys; i++) {
        if (!values[i])
            continue;
        virBufferAsprintf(&buf, ",%s=%s", keys[i], values[i]);
        any = true;
    }
    if (any)
        stratovirtAddArgBuffer(cmd, "-smbios", &buf);
}


/*
 * <os><smbios mode='sysinfo'/> with <sysinfo type='smbios'>: StratoVirt's
 * -smbios type=0|1|2|3 (2.3.0 and later), each type once.  Type 1 also
 * carries the domain's UUID (libvirt checked that a <sysinfo> uuid entry
 * matches it), as StratoVirt ignores -uuid.  Validation refused the
 * entries StratoVirt has no key for.  (StratoVirt's types 4 and 17 have
 * no domain XML: libvirt parses <processor> and <memory_device> only in
 * the host's sysinfo.)
 */
static void
stratovirtBuildSmbios(virCommand *cmd,
                      const virDomainDef *def)
{
    const virSysinfoDef *si = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    size_t i;

    if (def->os.smbios_mode != VIR_DOMAIN_SMBIOS_SYSINFO)
        return;
    for (i = 0; i < def->nsysinfo; i++) {
        if (def->sysinfo[i]->type == VIR_SYSINFO_SMBIOS)
            si = def->sysinfo[i];
    }
    if (!si)
        return;
    virUUIDFormat(def->uuid, uuid);

    if (si->bios) {
        const char *keys[] = { "vendor", "version", "date" };
        const char *values[] = { si->bios->vendor, si->bios->version, si->bios->date };

        stratovirtBuildSmbiosTable(cmd, 0, keys, values, G_N_ELEMENTS(keys));
    }
    {
        const virSysinfoSystemDef *sys = si->system;
        const char *keys[] = { "manufacturer", "product", "version", "serial",
                               "uuid", "sku", "family" };
        const char *values[] = { sys ? sys->manufacturer : NULL,
                                 sys ? sys->product : NULL,
                                 sys ? sys->version : NULL,
                                 sys ? sys->serial : NULL,
                                 uuid,
                                 sys ? sys->sku : NULL,
                                 sys ? sys->family : NULL };

        stratovirtBuildSmbiosTable(cmd, 1, keys, values, G_N_ELEMENTS(keys));
    }
    if (si->nbaseBoard) {
        const virSysinfoBaseBoardDef *bb = &si->baseBoard[0];
        const char *keys[] = { "manufacturer", "product", "version", "serial",
                               "asset", "location" };
        const char *values[] = { bb->manufacturer, bb->product, bb->version,
                                 bb->serial, bb->asset, bb->location };

        stratovirtBuildSmbiosTable(cmd, 2, keys, values, G_N_ELEMENTS(keys));
    }
    if (si->chassis) {
        const char *keys[] = { "manufacturer", "version", "serial", "asset", "sku" };
        const char *values[] = { si->chassis->manufacturer, si->chassis->version,
                                 si->chassis->serial, si->chassis->asset,
                                 si->chassis->sku };

        stratovirtBuildSmbiosTable(cmd, 3, keys, values, G_N_ELEMENTS(keys));
    }
}


static int
stratovirtBuildMisc(virCommand *cmd,
                    const virDomainDef *def,
                    const virStratoVirtBuildParams *params)
{
    size_t i;

    if (def->memballoon && def->memballoon->model == VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO) {
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        virBufferAsprintf(&buf, "virtio-balloon-%s,id=%s", stratovirtDevSuffix(def),
                          def->memballoon->info.alias);
        if (stratovirtBuildAddress(&buf, def, &def->memballoon->info) < 0)
            return -1;
        if (def->memballoon->autodeflate != VIR_TRISTATE_SWITCH_ABSENT)
            virBufferAsprintf(&buf, ",deflate-on-oom=%s",
                              def->memballoon->autodeflate == VIR_TRISTATE_SWITCH_ON ?
                              "true" : "false");
        if (def->memballoon->free_page_reporting != VIR_TRISTATE_SWITCH_ABSENT)
            virBufferAsprintf(&buf, ",free-page-reporting=%s",
                              def->memballoon->free_page_reporting == VIR_TRISTATE_SWITCH_ON ?
                              "true" : "false");
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }

    for (i = 0; i < def->nrngs; i++) {
        virDomainRNGDef *rng = def->rngs[i];
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        virCommandAddArg(cmd, "-object");
        virCommandAddArgFormat(cmd, "rng-random,id=obj%s,filename=%s",
                               rng->info.alias, rng->source.file);
        virBufferAsprintf(&buf, "virtio-rng-%s,id=%s,rng=obj%s",
                          stratovirtDevSuffix(def), rng->info.alias, rng->info.alias);
        if (rng->rate)
            virBufferAsprintf(&buf, ",max-bytes=%u,period=%u", rng->rate,
                              rng->period ? rng->period : 1000);
        if (stratovirtBuildAddress(&buf, def, &rng->info) < 0)
            return -1;
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }

    if (def->vsock) {
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        virBufferAsprintf(&buf, "vhost-vsock-%s,id=%s,guest-cid=%u",
                          stratovirtDevSuffix(def), def->vsock->info.alias,
                          def->vsock->guest_cid);
        if (stratovirtBuildAddress(&buf, def, &def->vsock->info) < 0)
            return -1;
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }

    for (i = 0; i < def->ngraphics; i++) {
        virDomainGraphicsDef *gfx = def->graphics[i];
        const char *listen = "127.0.0.1";

        if (gfx->nListens == 1 && gfx->listens[0].address)
            listen = gfx->listens[0].address;
        virCommandAddArg(cmd, "-vnc");
        /* an autoport's port was picked by the start */
        virCommandAddArgFormat(cmd, "%s:%d", listen, gfx->data.vnc.port - 5900);
    }

    for (i = 0; i < def->nvideos; i++) {
        virDomainVideoDef *video = def->videos[i];
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        if (video->type == VIR_DOMAIN_VIDEO_TYPE_NONE)
            continue;
        virBufferAsprintf(&buf, "virtio-gpu-pci,id=%s,max_outputs=%u",
                          video->info.alias, video->heads ? video->heads : 1);
        if (stratovirtBuildAddress(&buf, def, &video->info) < 0)
            return -1;
        stratovirtAddArgBuffer(cmd, "-device", &buf);
    }
    return 0;
}


static int
stratovirtBuildUSB(virCommand *cmd,
                   const virDomainDef *def)
{
    const virDomainControllerDef *usb = NULL;
    unsigned int port = 0;
    size_t i;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];
        g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;

        if (cont->type != VIR_DOMAIN_CONTROLLER_TYPE_USB ||
            cont->model == VIR_DOMAIN_CONTROLLER_MODEL_USB_NONE)
            continue;
        /* qemu-xhci, nec-xhci and the default are all StratoVirt's one xHCI */
        virBufferAsprintf(&buf, "nec-usb-xhci,id=%s", cont->info.alias);
        if (stratovirtBuildAddress(&buf, def, &cont->info) < 0)
            return -1;
        stratovirtAddArgBuffer(cmd, "-device", &buf);
        usb = cont;
    }

    for (i = 0; i < def->ninputs; i++) {
        const virDomainInputDef *input = def->inputs[i];
        unsigned int p;

        if (input->bus != VIR_DOMAIN_INPUT_BUS_USB || !usb)
            continue;
        if (input->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_USB) {
            p = input->info.addr.usb.port[0];
        } else {
            size_t j;
            bool taken;

            /* the next port no device names in its address */
            do {
                p = ++port;
                taken = false;
                for (j = 0; j < def->ninputs; j++) {
                    if (def->inputs[j]->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_USB &&
                        def->inputs[j]->info.addr.usb.port[0] == p)
                        taken = true;
                }
            } while (taken);
        }
        virCommandAddArg(cmd, "-device");
        virCommandAddArgFormat(cmd, "%s,id=%s,bus=%s.0,port=%u",
                               input->type == VIR_DOMAIN_INPUT_TYPE_KBD ?
                               "usb-kbd" : "usb-tablet",
                               input->info.alias, usb->info.alias, p);
    }
    return 0;
}


char *
virStratoVirtBuildHostdevDevice(const virDomainDef *def,
                                const virDomainHostdevDef *hostdev)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    const virPCIDeviceAddress *addr = &hostdev->source.subsys.u.pci.addr;

    virBufferAsprintf(&buf, "vfio-pci,id=%s,host=" VIR_PCI_DEVICE_ADDRESS_FMT,
                      hostdev->info->alias, addr->domain, addr->bus,
                      addr->slot, addr->function);
    if (stratovirtBuildAddress(&buf, def, hostdev->info) < 0)
        return NULL;
    return virBufferContentAndReset(&buf);
}


static int
stratovirtBuildHostdevs(virCommand *cmd,
                        const virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->nhostdevs; i++) {
        g_autofree char *dev = NULL;

        if (!(dev = virStratoVirtBuildHostdevDevice(def, def->hostdevs[i])))
            return -1;
        virCommandAddArgList(cmd, "-device", dev, NULL);
    }
    return 0;
}


static int
stratovirtRefuseOld(const virStratoVirtCaps *caps,
                    const char *what)
{
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                   _("StratoVirt %1$s cannot do %2$s (it came in StratoVirt 2.2); remove it from the domain or use a newer StratoVirt"),
                   caps->versionStr, what);
    return -1;
}


/**
 * virStratoVirtCheckCaps:
 * @caps: the binary's version and features, or NULL (no limits)
 *
 * Refuses, by name, what the binary that will run @def cannot do: devices
 * of cargo features it was built without, syntax older versions lack.
 * Returns 0 when it can run @def, -1 with a CONFIG_UNSUPPORTED error.
 */
int
virStratoVirtCheckCaps(const virDomainDef *def,
                       const virStratoVirtCaps *caps)
{
    size_t i;

    if (!caps)
        return 0;

    if (def->nrngs > 0 &&
        virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_VIRTIO_RNG,
                                      "<rng model='virtio'>") < 0)
        return -1;
    if (def->vsock &&
        virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_VHOST_VSOCK,
                                      "<vsock model='virtio'>") < 0)
        return -1;
    if (def->ngraphics > 0 &&
        virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_VNC,
                                      "<graphics type='vnc'> (virt-install --graphics vnc)") < 0)
        return -1;
    for (i = 0; i < def->nvideos; i++) {
        if (def->videos[i]->type != VIR_DOMAIN_VIDEO_TYPE_NONE &&
            virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_VIRTIO_GPU,
                                          "<video><model type='virtio'/></video>") < 0)
            return -1;
    }
    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];

        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_SCSI &&
            virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_VIRTIO_SCSI,
                                          "<controller type='scsi'> (SCSI disks and cdroms, virt-install --cdrom)") < 0)
            return -1;
        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_USB &&
            cont->model != VIR_DOMAIN_CONTROLLER_MODEL_USB_NONE &&
            virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_USB,
                                          "<controller type='usb'> (USB tablet and keyboard)") < 0)
            return -1;
    }
    for (i = 0; i < def->ninputs; i++) {
        if (def->inputs[i]->bus == VIR_DOMAIN_INPUT_BUS_USB &&
            virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_USB,
                                          "<input bus='usb'> (virt-install's tablet)") < 0)
            return -1;
    }
    if (def->nhostdevs > 0 &&
        virStratoVirtCapsCheckFeature(caps, VIR_STRATOVIRT_FEATURE_VFIO,
                                      "<hostdev> (PCI passthrough with VFIO)") < 0)
        return -1;

    /* -smbios came in StratoVirt 2.3.0 */
    if (def->os.smbios_mode == VIR_DOMAIN_SMBIOS_SYSINFO &&
        caps->version < VIR_STRATOVIRT_VERSION_SMBIOS) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt %1$s has no -smbios (it came in StratoVirt 2.3.0), so <sysinfo type='smbios'> with <smbios mode='sysinfo'/> cannot reach the guest; use StratoVirt 2.3.0 or later, or remove them"),
                       caps->versionStr);
        return -1;
    }

    /* 2.1's seccomp filter lacks sendto: its serial port writing to a
     * socket kills it ('Received a bad system call, number: 44'), seen
     * with the real 2.1.0 */
    if (def->nserials > 0 && def->serials[0]->source->logfile &&
        !virStratoVirtCapsIsModern(caps)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt %1$s cannot log its serial port: its seccomp filter kills it when the port writes to the socket the log is read from; use a later StratoVirt (2.4.0 and 2.5.0 log it), or remove the serial's <log file>"),
                       caps->versionStr);
        return -1;
    }

    if (virStratoVirtCapsIsModern(caps))
        return 0;

    /* StratoVirt 2.1.x: what its command line rejects */
    if (def->cpu && def->cpu->sockets)
        return stratovirtRefuseOld(caps, _("a CPU topology (<cpu><topology>, virt-install --vcpus sockets=...)"));
    for (i = 0; i < def->ndisks; i++) {
        virDomainDiskDef *disk = def->disks[i];

        if (disk->src->format == VIR_STORAGE_FILE_QCOW2)
            return stratovirtRefuseOld(caps, _("qcow2 disk images (<driver type='qcow2'>); convert the image to raw"));
        if (disk->iomode != VIR_DOMAIN_DISK_IO_DEFAULT)
            return stratovirtRefuseOld(caps, _("a disk I/O mode (<driver io=...>)"));
        if (disk->queues)
            return stratovirtRefuseOld(caps, _("several disk queues (<driver queues=...>)"));
    }
    return 0;
}


/**
 * virStratoVirtBuildCommandLine:
 * @def: validated definition, aliases and addresses assigned
 * @params: per-run paths (QMP socket, log) and choices
 *
 * Returns a virCommand that has not been run, or NULL with an error.
 */
virCommand *
virStratoVirtBuildCommandLine(const virDomainDef *def,
                              const virStratoVirtBuildParams *params)
{
    g_autoptr(virCommand) cmd = NULL;
    const virStratoVirtDomainNsDef *ns;

    if (virStratoVirtCheckCaps(def, params->caps) < 0)
        return NULL;

    cmd = virCommandNew(def->emulator);
    virCommandAddArgList(cmd, "-name", def->name, NULL);
    stratovirtBuildMachine(cmd, def);
    stratovirtBuildMemoryAndCPU(cmd, def, params);
    stratovirtBuildIOThreads(cmd, def);
    stratovirtBuildBoot(cmd, def);
    stratovirtBuildSmbios(cmd, def);

    if (stratovirtBuildRootPorts(cmd, def) < 0 ||
        stratovirtBuildDisks(cmd, def, params->caps) < 0 ||
        stratovirtBuildNets(cmd, def, params->netfds) < 0 ||
        stratovirtBuildSerialAndConsoles(cmd, def, params) < 0 ||
        stratovirtBuildMisc(cmd, def, params) < 0 ||
        stratovirtBuildUSB(cmd, def) < 0 ||
        stratovirtBuildHostdevs(cmd, def) < 0)
        return NULL;

    virCommandAddArg(cmd, "-qmp");
    virCommandAddArgFormat(cmd, "unix:%s,server,nowait", params->qmpPath);
    if (params->startPaused)
        virCommandAddArg(cmd, "-S");
    if (params->incoming) {
        /* StratoVirt's snapshot restore (stratovirt_save.c).  2.5.0's
         * seccomp allow-list lacks an ioctl the restore makes, and the VMM
         * is killed (recorded in tests/qmp/2.5.0/q35-restore.qmp): a
         * restoring VMM runs without seccomp. */
        virCommandAddArg(cmd, "-incoming");
        virCommandAddArgFormat(cmd, "file:%s", params->incoming);
        virCommandAddArg(cmd, "-disable-seccomp");
    }
    /* No -daemonize: libvirt's process code daemonizes the VMM and writes
     * its pidfile before exec (stratovirt_process.c), so the VMM can be
     * found from its first instant; StratoVirt's -pidfile needs
     * -daemonize and is not used. */
    virCommandAddArgList(cmd, "-D", params->logfile, NULL);

    /* <stratovirt:commandline>, as given, after ours (the domain is
     * tainted custom-argv at start) */
    if ((ns = virStratoVirtDomainNsGet(def))) {
        size_t i;

        for (i = 0; i < ns->nargs; i++)
            virCommandAddArg(cmd, ns->args[i]);
        for (i = 0; i < ns->nenv; i++)
            virCommandAddEnvPair(cmd, ns->env[i].name, NULLSTR_EMPTY(ns->env[i].value));
    }

    return g_steal_pointer(&cmd);
}
