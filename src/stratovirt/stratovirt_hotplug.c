/*
 * stratovirt_hotplug.c: disks plugged into and out of a running domain,
 * and device edits of a domain's persistent definition
 *
 * A live disk is StratoVirt's flat blockdev-add plus a virtio-blk-pci
 * device_add on slot 0 of a free pcie-root-port (StratoVirt hot-plugs into
 * root ports only, and creates them at start only).  Unplugging is
 * device_del, which on a standard machine only asks the guest: the disk
 * leaves the definition when StratoVirt reports DEVICE_DELETED (within the
 * wait, or later), and only then is its drive deleted and its image given
 * back.  Without a guest that powers the slot off the request stays pending,
 * as it does on the real VMM.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_domain.h"
#include "stratovirt_compat.h"
#include "stratovirt_hotplug.h"
#include "stratovirt_hostdev.h"
#include "stratovirt_interface.h"
#include "stratovirt_security.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_process.h"
#include "stratovirt_monitor.h"
#include "domain_event.h"
#include "domain_postparse.h"
#include "domain_validate.h"
#include "viralloc.h"
#include "virerror.h"
#include "virlog.h"
#include "virstring.h"
#include "virthread.h"
#include "virtime.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_hotplug");


/* A free "virtio-diskN" among the disks of @def */
static char *
stratovirtHotplugDiskAlias(virDomainDef *def)
{
    unsigned int n;

    for (n = 0; ; n++) {
        g_autofree char *alias = g_strdup_printf("virtio-disk%u", n);
        size_t i;

        for (i = 0; i < def->ndisks; i++) {
            if (STREQ_NULLABLE(def->disks[i]->info.alias, alias))
                break;
        }
        if (i == def->ndisks)
            return g_steal_pointer(&alias);
    }
}


/* The disk's PCI address: slot 0 of a free root port; the one the XML
 * names must be such a slot. */
static int
stratovirtHotplugDiskAddress(virDomainDef *def,
                             virDomainDiskDef *disk)
{
    virDomainDeviceInfo *info = &disk->info;
    int port;

    if (info->type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE) {
        if ((port = virStratoVirtDomainFreeRootPort(def)) < 0) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("no free pcie-root-port to hot-plug disk '%1$s' into: StratoVirt creates root ports at start only; attach the disk with --config, or add <controller type='pci' model='pcie-root-port'/> elements, and restart the domain"),
                           disk->dst);
            return -1;
        }
        info->type = VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI;
        info->addr.pci.domain = 0;
        info->addr.pci.bus = port;
        info->addr.pci.slot = 0;
        info->addr.pci.function = 0;
        return 0;
    }

    if (info->type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI) {
        virDomainControllerDef *cont = NULL;
        int idx = virDomainControllerFind(def, VIR_DOMAIN_CONTROLLER_TYPE_PCI,
                                          info->addr.pci.bus);

        if (idx >= 0)
            cont = def->controllers[idx];
        if (cont && cont->model == VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT &&
            info->addr.pci.slot == 0 && info->addr.pci.function == 0 &&
            !virDomainDefHasDeviceAddress(def, info))
            return 0;
    }
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                   _("disk '%1$s' cannot be hot-plugged at the address given: StratoVirt hot-plugs only into slot 0 of a free pcie-root-port; leave the <address> out"),
                   disk->dst);
    return -1;
}


static const char *
stratovirtHotplugDiskAio(const virDomainDiskDef *disk,
                         bool direct)
{
    switch (disk->iomode) {
    case VIR_DOMAIN_DISK_IO_THREADS:
        return "threads";
    case VIR_DOMAIN_DISK_IO_URING:
        return "iouring";   /* QMP's spelling (the command line's is io_uring) */
    case VIR_DOMAIN_DISK_IO_NATIVE:
    case VIR_DOMAIN_DISK_IO_DEFAULT:
    case VIR_DOMAIN_DISK_IO_LAST:
    default:
        /* blockdev-add defaults to aio off, which StratoVirt refuses with
         * direct I/O: say what -drive would have chosen */
        return direct ? "native" : NULL;
    }
}


/**
 * virStratoVirtHotplugAttachDisk:
 * @disk: parsed disk; owned by @vm->def on success
 *
 * Called with the job held.
 */
int
virStratoVirtHotplugAttachDisk(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               virDomainDiskDef *disk)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virStratoVirtMonitor *mon;
    g_autofree char *node = NULL;
    g_autofree char *bus = NULL;
    g_autofree char *iothread = NULL;
    bool direct = disk->cachemode == VIR_DOMAIN_DISK_CACHE_DEFAULT ||
                  disk->cachemode == VIR_DOMAIN_DISK_CACHE_DISABLE;
    int rc;

    if (!virStratoVirtDomainIsStandard(vm->def)) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s' cannot be hot-plugged into a microvm domain by this driver (StratoVirt's microvm has replaceable MMIO slots, not PCI hot-plug); attach it with --config and restart the domain"),
                       disk->dst);
        return -1;
    }
    if (disk->bus != VIR_DOMAIN_DISK_BUS_VIRTIO ||
        disk->device != VIR_DOMAIN_DISK_DEVICE_DISK) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s': only virtio disks can be hot-plugged into StratoVirt (<target bus='virtio'/>, virt-install --disk ...,bus=virtio); attach other disks and cdroms with --config and restart the domain"),
                       disk->dst);
        return -1;
    }
    if (virDomainDiskByName(vm->def, disk->dst, false)) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("the domain already has a disk with target '%1$s'"), disk->dst);
        return -1;
    }
    if (disk->info.alias && virDomainDeviceValidateAliasForHotplug(vm, &(virDomainDeviceDef) {
            .type = VIR_DOMAIN_DEVICE_DISK, .data.disk = disk },
            VIR_DOMAIN_AFFECT_LIVE) < 0)
        return -1;
    if (disk->info.bootIndex) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("disk '%1$s': a boot order cannot be given to a hot-plugged disk (the firmware has already chosen); attach it with --config"),
                       disk->dst);
        return -1;
    }
    if (stratovirtHotplugDiskAddress(vm->def, disk) < 0)
        return -1;
    if (!disk->info.alias)
        disk->info.alias = stratovirtHotplugDiskAlias(vm->def);

    node = g_strdup_printf("drive-%s", disk->info.alias);
    bus = g_strdup_printf("pci.%u", disk->info.addr.pci.bus);
    if (disk->iothread)
        iothread = g_strdup_printf("iothread%u", disk->iothread);

    if (virStratoVirtSecuritySetDisk(driver, vm, disk) < 0)
        return -1;

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        goto rollback;
    rc = virStratoVirtMonitorBlockdevAdd(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, node,
                                         disk->src->path,
                                         disk->src->format == VIR_STORAGE_FILE_QCOW2 ?
                                         "qcow2" : "raw",
                                         disk->src->readonly, direct,
                                         stratovirtHotplugDiskAio(disk, direct),
                                         disk->blkdeviotune.total_iops_sec);
    if (rc == 0) {
        /* the first 20 characters, as at start (stratovirt_command.c) */
        g_autofree char *serial = disk->serial ? g_strndup(disk->serial, 20) : NULL;

        rc = virStratoVirtMonitorAddVirtioBlk(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                              disk->info.alias, node, bus,
                                              serial, disk->queues,
                                              disk->queue_size, iothread, -1);
        if (rc < 0) {
            virErrorPtr orig;

            /* the drive must not be left behind */
            virErrorPreserveLast(&orig);
            if (virStratoVirtMonitorBlockdevDel(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                                node) < 0)
                VIR_WARN("domain %s: cannot delete drive %s after a failed device_add: %s",
                         vm->def->name, node, virGetLastErrorMessage());
            virErrorRestore(&orig);
        }
    }
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc < 0)
        goto rollback;
    if (!virDomainObjIsActive(vm)) {
        /* the stop gave every label back; this disk was not in the definition */
        virStratoVirtSecurityRestoreDisk(driver, vm, disk);
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the domain stopped while the disk was being plugged"));
        return -1;
    }

    virDomainDiskInsert(vm->def, disk);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventDeviceAddedNewFromObj(vm, disk->info.alias));
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        VIR_WARN("cannot save the status of domain %s", vm->def->name);
    return 0;

 rollback:
    virStratoVirtSecurityRestoreDisk(driver, vm, disk);
    return -1;
}


/* The disk is out of the VMM: delete its drive, give its image back, drop
 * it from the live definition.  Job held, @vm locked. */
static void
stratovirtHotplugDiskRemoved(virStratoVirtDriver *driver,
                             virDomainObj *vm,
                             const char *alias)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autofree char *node = g_strdup_printf("drive-%s", alias);
    virDomainDiskDef *disk = NULL;
    virStratoVirtMonitor *mon;
    size_t i;

    for (i = 0; i < vm->def->ndisks; i++) {
        if (STREQ_NULLABLE(vm->def->disks[i]->info.alias, alias))
            break;
    }
    if (i == vm->def->ndisks)
        return;

    if ((mon = virStratoVirtDomainObjEnterMonitor(vm))) {
        if (virStratoVirtMonitorBlockdevDel(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, node) < 0)
            VIR_WARN("domain %s: drive %s of the unplugged disk stays in StratoVirt: %s",
                     vm->def->name, node, virGetLastErrorMessage());
        virStratoVirtDomainObjExitMonitor(vm, mon);
    }
    if (!virDomainObjIsActive(vm))
        return; /* the stop took everything back */

    /* the lock was dropped: look again */
    for (i = 0; i < vm->def->ndisks; i++) {
        if (STREQ_NULLABLE(vm->def->disks[i]->info.alias, alias))
            break;
    }
    if (i == vm->def->ndisks)
        return;

    /* the security manager counts references: an image another disk or
     * domain still uses keeps its label */
    disk = virDomainDiskRemove(vm->def, i);
    virStratoVirtSecurityRestoreDisk(driver, vm, disk);
    virDomainDiskDefFree(disk);

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventDeviceRemovedNewFromObj(vm, alias));
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        VIR_WARN("cannot save the status of domain %s", vm->def->name);
}


/**
 * virStratoVirtHotplugDetachDisk:
 * @timeout: milliseconds to wait for DEVICE_DELETED
 *
 * Called with the job held.  Returns 0 when the disk is gone, or when the
 * request is with the guest (the disk stays listed until StratoVirt reports
 * it deleted); -1 when StratoVirt refused.
 */
int
virStratoVirtHotplugDetachDisk(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               virDomainDiskDef *disk,
                               unsigned int timeout)
{
    g_autofree char *alias = g_strdup(disk->info.alias);
    int rc;

    if (!virStratoVirtDomainIsStandard(vm->def)) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s' cannot be unplugged from a microvm domain by this driver; detach it with --config and restart the domain"),
                       disk->dst);
        return -1;
    }
    if (disk->bus != VIR_DOMAIN_DISK_BUS_VIRTIO) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s' is not a virtio disk; only those can be unplugged from StratoVirt (detach it with --config and restart the domain)"),
                       disk->dst);
        return -1;
    }
    if (!alias || disk->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI ||
        disk->info.addr.pci.bus == 0) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s' sits on pcie.0, where StratoVirt cannot unplug devices; only disks on a pcie-root-port can be detached live (detach it with --config and restart the domain)"),
                       disk->dst);
        return -1;
    }

    if ((rc = virStratoVirtDomainDelDeviceWait(vm, alias, timeout)) < 0)
        return -1;
    if (rc == 1)
        return 0; /* it stopped meanwhile: the stop gave everything back */
    if (rc == 2) {
        /* with the guest: DEVICE_DELETED finishes it whenever it comes */
        VIR_DEBUG("domain %s: unplug of %s still pending after %u ms",
                  vm->def->name, alias, timeout);
        return 0;
    }
    stratovirtHotplugDiskRemoved(driver, vm, alias);
    return 0;
}


/* Which kind of device @alias names in the live definition */
static virDomainDeviceType
stratovirtHotplugDeviceType(virDomainDef *def,
                            const char *alias)
{
    size_t i;

    for (i = 0; i < def->ndisks; i++) {
        if (STREQ_NULLABLE(def->disks[i]->info.alias, alias))
            return VIR_DOMAIN_DEVICE_DISK;
    }
    for (i = 0; i < def->nnets; i++) {
        if (STREQ_NULLABLE(def->nets[i]->info.alias, alias))
            return VIR_DOMAIN_DEVICE_NET;
    }
    for (i = 0; i < def->nhostdevs; i++) {
        if (STREQ_NULLABLE(def->hostdevs[i]->info->alias, alias))
            return VIR_DOMAIN_DEVICE_HOSTDEV;
    }
    return VIR_DOMAIN_DEVICE_NONE;
}


/**
 * virStratoVirtHotplugDeviceRemoved:
 * @alias: a device StratoVirt reported deleted
 *
 * Finishes the removal of a disk (blockdev-del, image given back), an
 * interface (netdev_del, tap and ports released) or a host device (back
 * to its host driver), and emits device-removed.  Job held.
 */
void
virStratoVirtHotplugDeviceRemoved(virStratoVirtDriver *driver,
                                  virDomainObj *vm,
                                  const char *alias)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

    switch (stratovirtHotplugDeviceType(vm->def, alias)) {
    case VIR_DOMAIN_DEVICE_DISK:
        stratovirtHotplugDiskRemoved(driver, vm, alias);
        return; /* it saves the status itself */
    case VIR_DOMAIN_DEVICE_NET:
        virStratoVirtInterfaceRemoved(driver, vm, alias);
        break;
    case VIR_DOMAIN_DEVICE_HOSTDEV:
        virStratoVirtHostdevRemoved(driver, vm, alias);
        break;
    default:
        VIR_DEBUG("domain %s: DEVICE_DELETED for %s, which it does not list",
                  vm->def->name, alias);
        return;
    }
    if (virDomainObjIsActive(vm) &&
        virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        VIR_WARN("cannot save the status of domain %s", vm->def->name);
}


typedef struct {
    virStratoVirtDriver *driver;
    virDomainObj *vm;
    int id;             /* the run the event came from */
    char *alias;
} stratovirtHotplugRemoval;


static void
stratovirtHotplugRemovalWorker(void *opaque)
{
    stratovirtHotplugRemoval *work = opaque;
    virDomainObj *vm = work->vm;

    virObjectLock(vm);
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0) {
        VIR_WARN("domain %s: cannot finish the unplug of %s: %s",
                 vm->def->name, work->alias, virGetLastErrorMessage());
        goto cleanup;
    }
    if (virDomainObjIsActive(vm) && vm->def->id == work->id) {
        VIR_DEBUG("domain %s: finishing the late unplug of %s",
                  vm->def->name, work->alias);
        virStratoVirtHotplugDeviceRemoved(work->driver, vm, work->alias);
    }
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&work->vm);
    g_free(work->alias);
    g_free(work);
}


/**
 * virStratoVirtHotplugDeviceDeleted:
 *
 * DEVICE_DELETED from StratoVirt, from the monitor's event handler with
 * @vm locked.  A waiting detach is woken; a device whose detach stopped
 * waiting (or that the guest gave up by itself) is finished on a thread
 * of its own, as that needs the job and QMP.
 */
void
virStratoVirtHotplugDeviceDeleted(virStratoVirtDriver *driver,
                                  virDomainObj *vm,
                                  const char *alias)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    stratovirtHotplugRemoval *work;
    int rc;

    if (priv->unplugAlias && STREQ(priv->unplugAlias, alias)) {
        /* the waiting detach finishes it */
        virStratoVirtDomainUnplugPendingDone(vm, alias);
        virStratoVirtHostdevDeviceDeleted(driver, vm, alias);
        return;
    }
    if (stratovirtHotplugDeviceType(vm->def, alias) == VIR_DOMAIN_DEVICE_NONE) {
        virStratoVirtDomainUnplugPendingDone(vm, alias);
        VIR_DEBUG("domain %s: DEVICE_DELETED for %s, not awaited", vm->def->name, alias);
        return;
    }

    work = g_new0(stratovirtHotplugRemoval, 1);
    work->driver = driver;
    work->vm = virObjectRef(vm);
    work->id = vm->def->id;
    work->alias = g_strdup(alias);
    /* (the daemon's stop waits for it; once the stop has waited, the
     * device stays in the definition, as one whose DEVICE_DELETED came
     * while no daemon ran) */
    if ((rc = virStratoVirtDriverThreadCreate(driver, "stratovirt-unplug",
                                              stratovirtHotplugRemovalWorker,
                                              work)) == 0) {
        virStratoVirtDomainUnplugPendingDone(vm, alias);
    } else {
        if (rc > 0) {
            /* (its device_del is in the status XML: the next daemon asks
             * the VMM, which no longer has it, and finishes the removal) */
            VIR_WARN("domain %s: DEVICE_DELETED for %s while the daemon stops; left to the next daemon",
                     vm->def->name, alias);
        } else {
            VIR_ERROR(_("cannot start a thread to finish the unplug of '%1$s': %2$s"),
                      alias, virGetLastErrorMessage());
            virResetLastError();
        }
        virObjectUnref(work->vm);
        g_free(work->alias);
        g_free(work);
    }
}


/* ---------------------------------------------------------------------
 * The persistent definition
 */

#define DUPLICATE(...) \
    do { \
        virReportError(VIR_ERR_OPERATION_INVALID, __VA_ARGS__); \
        return -1; \
    } while (0)

#define MISSING(...) \
    do { \
        virReportError(VIR_ERR_DEVICE_MISSING, __VA_ARGS__); \
        return -1; \
    } while (0)


/**
 * virStratoVirtConfigAttachDevice:
 * @vmdef: a copy of the persistent definition
 * @dev: the device; its data moves into @vmdef on success
 */
int
virStratoVirtConfigAttachDevice(virDomainDef *vmdef,
                                virDomainDeviceDef *dev)
{
    switch (dev->type) {
    case VIR_DOMAIN_DEVICE_DISK: {
        virDomainDiskDef *disk = dev->data.disk;

        if (virDomainDiskByName(vmdef, disk->dst, false))
            DUPLICATE(_("the domain's definition already has a disk with target '%1$s'"),
                      disk->dst);
        virDomainDiskInsert(vmdef, disk);
        dev->data.disk = NULL;
        return 0;
    }
    case VIR_DOMAIN_DEVICE_NET: {
        char macstr[VIR_MAC_STRING_BUFLEN];

        if (virDomainNetFindIdx(vmdef, dev->data.net) >= 0)
            DUPLICATE(_("the domain's definition already has an interface with MAC address %1$s"),
                      virMacAddrFormat(&dev->data.net->mac, macstr));
        virResetLastError();
        if (virStratoVirtCompatDomainNetInsert(vmdef, dev->data.net) < 0)
            return -1;
        dev->data.net = NULL;
        return 0;
    }
    case VIR_DOMAIN_DEVICE_HOSTDEV: {
        virDomainHostdevDef *found = NULL;

        if (virDomainHostdevFind(vmdef, dev->data.hostdev, &found) >= 0)
            DUPLICATE("%s", _("the domain's definition already has this host device"));
        if (virStratoVirtCompatHostdevInsert(vmdef, dev->data.hostdev) < 0)
            return -1;
        dev->data.hostdev = NULL;
        return 0;
    }
    case VIR_DOMAIN_DEVICE_CONTROLLER: {
        virDomainControllerDef *cont = dev->data.controller;

        if (cont->idx >= 0 &&
            virDomainControllerFind(vmdef, cont->type, cont->idx) >= 0)
            DUPLICATE(_("the domain's definition already has a %1$s controller with index %2$d"),
                      virDomainControllerTypeToString(cont->type), cont->idx);
        if (cont->idx < 0)
            cont->idx = virDomainControllerFindUnusedIndex(vmdef, cont->type);
        virDomainControllerInsert(vmdef, cont);
        dev->data.controller = NULL;
        return 0;
    }
    case VIR_DOMAIN_DEVICE_RNG:
        VIR_APPEND_ELEMENT(vmdef->rngs, vmdef->nrngs, dev->data.rng);
        return 0;
    case VIR_DOMAIN_DEVICE_INPUT:
        VIR_APPEND_ELEMENT(vmdef->inputs, vmdef->ninputs, dev->data.input);
        return 0;
    case VIR_DOMAIN_DEVICE_VSOCK:
        if (vmdef->vsock)
            DUPLICATE("%s", _("the domain's definition already has a vsock device, and StratoVirt has one at most"));
        vmdef->vsock = g_steal_pointer(&dev->data.vsock);
        return 0;
    case VIR_DOMAIN_DEVICE_MEMBALLOON:
        if (vmdef->memballoon && vmdef->memballoon->model != VIR_DOMAIN_MEMBALLOON_MODEL_NONE)
            DUPLICATE("%s", _("the domain's definition already has a memory balloon, and StratoVirt has one at most"));
        if (vmdef->memballoon) {
            /* model='none' goes: freed as a device */
            virDomainDeviceDef *old = g_new0(virDomainDeviceDef, 1);

            old->type = VIR_DOMAIN_DEVICE_MEMBALLOON;
            old->data.memballoon = g_steal_pointer(&vmdef->memballoon);
            virDomainDeviceDefFree(old);
        }
        vmdef->memballoon = g_steal_pointer(&dev->data.memballoon);
        return 0;
    case VIR_DOMAIN_DEVICE_CHR:
        if (virDomainChrFind(vmdef, dev->data.chr))
            DUPLICATE("%s", _("the domain's definition already has this character device"));
        if (virDomainChrPreAlloc(vmdef, dev->data.chr) < 0)
            return -1;
        virDomainChrInsertPreAlloced(vmdef, dev->data.chr);
        dev->data.chr = NULL;
        return 0;
    default:
        break;
    }
    virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                   _("adding <%1$s> devices to the definition is not supported by the StratoVirt driver; edit the definition with 'virsh edit' instead"),
                   virDomainDeviceTypeToString(dev->type));
    return -1;
}


/* A root port may go only when nothing sits on its bus */
static bool
stratovirtConfigBusUsed(virDomainDef *vmdef,
                        int bus)
{
    virDomainDeviceInfo probe = { 0 };
    unsigned int slot;

    probe.type = VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI;
    probe.addr.pci.bus = bus;
    for (slot = 0; slot < 32; slot++) {
        probe.addr.pci.slot = slot;
        if (virDomainDefHasDeviceAddress(vmdef, &probe))
            return true;
    }
    return false;
}


/**
 * virStratoVirtConfigDetachDevice:
 * @vmdef: a copy of the persistent definition
 * @dev: which device (matched as libvirt matches it)
 */
int
virStratoVirtConfigDetachDevice(virDomainDef *vmdef,
                                virDomainDeviceDef *dev)
{
    ssize_t idx;

    switch (dev->type) {
    case VIR_DOMAIN_DEVICE_DISK: {
        virDomainDiskDef *disk = virDomainDiskRemoveByName(vmdef, dev->data.disk->dst);

        if (!disk)
            MISSING(_("the domain's definition has no disk with target '%1$s'"),
                    dev->data.disk->dst);
        virDomainDiskDefFree(disk);
        return 0;
    }
    case VIR_DOMAIN_DEVICE_NET:
        if ((idx = virDomainNetFindIdx(vmdef, dev->data.net)) < 0)
            return -1;
        virDomainNetDefFree(virDomainNetRemove(vmdef, idx));
        return 0;
    case VIR_DOMAIN_DEVICE_HOSTDEV: {
        virDomainHostdevDef *found = NULL;

        if ((idx = virDomainHostdevFind(vmdef, dev->data.hostdev, &found)) < 0)
            MISSING("%s", _("the domain's definition has no such host device"));
        if (found->parentnet) {
            virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                           _("this host device belongs to an <interface type='hostdev'>; detach the interface instead"));
            return -1;
        }
        virDomainHostdevRemove(vmdef, idx);
        virDomainHostdevDefFree(found);
        return 0;
    }
    case VIR_DOMAIN_DEVICE_CONTROLLER: {
        virDomainControllerDef *cont = dev->data.controller;

        if ((idx = virDomainControllerFind(vmdef, cont->type, cont->idx)) < 0)
            MISSING("%s", _("the domain's definition has no such controller"));
        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI &&
            (cont->idx == 0 || stratovirtConfigBusUsed(vmdef, cont->idx))) {
            virReportError(VIR_ERR_OPERATION_INVALID,
                           _("PCI controller %1$d is in use by the domain's devices"),
                           cont->idx);
            return -1;
        }
        virDomainControllerDefFree(virDomainControllerRemove(vmdef, idx));
        return 0;
    }
    case VIR_DOMAIN_DEVICE_RNG:
        if ((idx = virDomainRNGFind(vmdef, dev->data.rng)) < 0)
            MISSING("%s", _("the domain's definition has no such random number generator"));
        virDomainRNGDefFree(virDomainRNGRemove(vmdef, idx));
        return 0;
    case VIR_DOMAIN_DEVICE_INPUT:
        if ((idx = virDomainInputDefFind(vmdef, dev->data.input)) < 0)
            MISSING("%s", _("the domain's definition has no such input device"));
        virDomainInputDefFree(vmdef->inputs[idx]);
        VIR_DELETE_ELEMENT(vmdef->inputs, idx, vmdef->ninputs);
        return 0;
    case VIR_DOMAIN_DEVICE_VSOCK:
        if (!vmdef->vsock || !virDomainVsockDefEquals(dev->data.vsock, vmdef->vsock))
            MISSING("%s", _("the domain's definition has no such vsock device"));
        g_clear_pointer(&vmdef->vsock, virDomainVsockDefFree);
        return 0;
    case VIR_DOMAIN_DEVICE_CHR: {
        virDomainChrDef *chr;

        if (!(chr = virDomainChrRemove(vmdef, dev->data.chr)))
            MISSING("%s", _("the domain's definition has no such character device"));
        virDomainChrDefFree(chr);
        return 0;
    }
    default:
        break;
    }
    virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                   _("removing <%1$s> devices from the definition is not supported by the StratoVirt driver; edit the definition with 'virsh edit' instead"),
                   virDomainDeviceTypeToString(dev->type));
    return -1;
}


/**
 * virStratoVirtConfigUpdateDevice:
 *
 * Replaces a disk of the persistent definition (found by its target),
 * keeping its address (interfaces are updated by the driver's
 * stratovirtDomainUpdateInterface).
 */
int
virStratoVirtConfigUpdateDevice(virDomainDef *vmdef,
                                virDomainDeviceDef *dev)
{
    switch (dev->type) {
    case VIR_DOMAIN_DEVICE_DISK: {
        virDomainDiskDef *disk = dev->data.disk;
        int i = virDomainDiskIndexByName(vmdef, disk->dst, false);

        if (i < 0)
            MISSING(_("the domain's definition has no disk with target '%1$s'"), disk->dst);
        if (disk->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE) {
            disk->info.type = vmdef->disks[i]->info.type;
            disk->info.addr = vmdef->disks[i]->info.addr;
        }
        virDomainDiskDefFree(vmdef->disks[i]);
        vmdef->disks[i] = g_steal_pointer(&dev->data.disk);
        return 0;
    }
    default:
        break;
    }
    virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                   _("updating <%1$s> devices is not supported by the StratoVirt driver; detach and attach it, or use 'virsh edit'"),
                   virDomainDeviceTypeToString(dev->type));
    return -1;
}


/**
 * virStratoVirtConfigCheck:
 *
 * After a change to @vmdef: post-parse (addresses, root ports, implicit
 * controllers) and validation, as a definition of the whole domain gets.
 */
int
virStratoVirtConfigCheck(virDomainDef *vmdef,
                         virDomainXMLOption *xmlopt)
{
    unsigned int flags = VIR_DOMAIN_DEF_PARSE_INACTIVE;

    if (virDomainDefPostParse(vmdef, flags, xmlopt, NULL) < 0)
        return -1;
    return virDomainDefValidate(vmdef, flags, xmlopt, NULL);
}
