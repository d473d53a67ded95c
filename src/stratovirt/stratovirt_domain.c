/*
 * stratovirt_domain.c: per-domain private data and XML hooks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain.h"
#include "datatypes.h"
#include "stratovirt_firmware.h"
#include "stratovirt_security.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_domain_validate.h"
#include "stratovirt_domain_ns.h"
#include "viralloc.h"
#include "virerror.h"
#include "virlog.h"
#include "virxml.h"
#include "virtime.h"
#include "stratovirt_monitor.h"
#include "virfile.h"
#include "virhostdev.h"
#include "virclosecallbacks.h"
#include "virchrdev.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_domain");


static void *
stratovirtDomainObjPrivateAlloc(void *opaque)
{
    virStratoVirtDomainObjPrivate *priv = g_new0(virStratoVirtDomainObjPrivate, 1);

    priv->driver = opaque;
    priv->exitStatus = -1;
    priv->balloonTimer = -1;
    if (!(priv->chrdevs = virChrdevAlloc())) {
        g_free(priv);
        return NULL;
    }
    return priv;
}


static void
stratovirtDomainObjPrivateFree(void *data)
{
    virStratoVirtDomainObjPrivate *priv = data;

    virChrdevFree(priv->chrdevs);
    g_strfreev(priv->unplugPending);
    g_free(priv->runDir);
    g_free(priv->machineName);
    g_free(priv->cgroupPartition);
    virCgroupFree(priv->cgroup);
    g_free(priv->unplugAlias);
    g_free(priv->restorePath);
    g_free(priv->qmpPath);
    g_free(priv->pidfile);
    g_free(priv->logfile);
    g_free(priv->serialSocket);
    virStratoVirtSerialLogClose(priv->serialLog);
    g_clear_object(&priv->caps);
    g_free(priv);
}


/* The live status XML carries what a restarted daemon needs to find the
 * VMM again. */
static int
stratovirtDomainObjPrivateXMLFormat(virBuffer *buf,
                                    virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (priv->runDir)
        virBufferEscapeString(buf, "<rundir path='%s'/>\n", priv->runDir);
    if (priv->qmpPath)
        virBufferEscapeString(buf, "<qmp path='%s'/>\n", priv->qmpPath);
    if (priv->pidfile)
        virBufferEscapeString(buf, "<pidfile path='%s'/>\n", priv->pidfile);
    if (priv->logfile) {
        virBufferEscapeString(buf, "<log path='%s'", priv->logfile);
        virBufferAsprintf(buf, " offset='%lld'/>\n", (long long) priv->logOffset);
    }
    if (priv->serialSocket)
        virBufferEscapeString(buf, "<serial path='%s'/>\n", priv->serialSocket);
    if (priv->machineName) {
        virBufferEscapeString(buf, "<machine name='%s'", priv->machineName);
        virBufferEscapeString(buf, " cgroup='%s'", priv->cgroupPartition);
        virBufferAddLit(buf, "/>\n");
    }
    if (priv->hostdevsPrepared)
        virBufferAsprintf(buf, "<hostdevs prepared='yes'%s/>\n",
                          priv->hostdevsTaken ? " taken='yes'" : "");
    if (priv->netsPrepared)
        virBufferAddLit(buf, "<interfaces prepared='yes'/>\n");
    if (priv->starting)
        virBufferAddLit(buf, "<starting/>\n");
    if (priv->securityLabelled)
        virBufferAddLit(buf, "<securityLabelled/>\n");
    if (priv->balloonPending)
        virBufferAsprintf(buf, "<balloon pending='%llu'/>\n", priv->balloonPending);
    /* what the guest was doing when its VMM exits, for a daemon that
     * finds the VMM gone (the stop cut this one's exit work short, or no
     * daemon ran) to finish as this one would have */
    if (priv->guestShutdown)
        virBufferAddLit(buf, "<guestShutdown/>\n");
    if (priv->fakeReboot)
        virBufferAddLit(buf, "<fakeReboot/>\n");
    if (priv->destroyOnReboot)
        virBufferAddLit(buf, "<destroyOnReboot/>\n");
    if (priv->unplugPending) {
        char **a;

        for (a = priv->unplugPending; *a; a++)
            virBufferEscapeString(buf, "<unplug alias='%s'/>\n", *a);
        if (priv->unplugAskedAt > 0)
            virBufferAsprintf(buf, "<unplugAsked at='%lld'/>\n", priv->unplugAskedAt);
    }
    return 0;
}


static int
stratovirtDomainObjPrivateXMLParse(xmlXPathContextPtr ctxt,
                                   virDomainObj *vm,
                                   virDomainDefParserConfig *config G_GNUC_UNUSED)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autofree char *prepared = NULL;

    priv->runDir = virXPathString("string(./rundir/@path)", ctxt);
    priv->qmpPath = virXPathString("string(./qmp/@path)", ctxt);
    priv->pidfile = virXPathString("string(./pidfile/@path)", ctxt);
    priv->logfile = virXPathString("string(./log/@path)", ctxt);
    priv->serialSocket = virXPathString("string(./serial/@path)", ctxt);
    priv->machineName = virXPathString("string(./machine/@name)", ctxt);
    priv->cgroupPartition = virXPathString("string(./machine/@cgroup)", ctxt);
    prepared = virXPathString("string(./hostdevs/@prepared)", ctxt);
    priv->hostdevsPrepared = prepared && STREQ(prepared, "yes");

    priv->netsPrepared = virXPathBoolean("boolean(./interfaces[@prepared='yes'])", ctxt) > 0;
    priv->starting = virXPathBoolean("boolean(./starting)", ctxt) > 0;
    {
        g_autofree char *taken = virXPathString("string(./hostdevs/@taken)", ctxt);

        /* a status written before "taken" was recorded: a domain that
         * finished starting had them all */
        priv->hostdevsTaken = priv->hostdevsPrepared &&
            (taken ? STREQ(taken, "yes") : !priv->starting);
    }
    priv->securityLabelled = virXPathBoolean("boolean(./securityLabelled)", ctxt) > 0;
    if (virXPathULongLong("string(./balloon/@pending)", ctxt,
                          &priv->balloonPending) == -2) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("status XML of a running StratoVirt domain has a malformed pending balloon target"));
        return -1;
    }

    {
        long long offset = -1;

        /* a status written before the offset was recorded: -1, the
         * reconnect takes the log's end */
        if (virXPathLongLong("string(./log/@offset)", ctxt, &offset) == -2 ||
            offset < -1) {
            virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                           _("status XML of a running StratoVirt domain has a malformed log offset"));
            return -1;
        }
        priv->logOffset = offset;
    }
    priv->guestShutdown = virXPathBoolean("boolean(./guestShutdown)", ctxt) > 0;
    priv->fakeReboot = virXPathBoolean("boolean(./fakeReboot)", ctxt) > 0;
    priv->destroyOnReboot = virXPathBoolean("boolean(./destroyOnReboot)", ctxt) > 0;
    {
        g_autofree xmlNodePtr *nodes = NULL;
        int n = virXPathNodeSet("./unplug", ctxt, &nodes);
        size_t i;

        for (i = 0; n > 0 && i < n; i++) {
            g_autofree char *alias = virXMLPropString(nodes[i], "alias");

            if (alias)
                virStratoVirtDomainUnplugPendingAdd(vm, alias);
        }
        if (virXPathLongLong("string(./unplugAsked/@at)", ctxt, &priv->unplugAskedAt) < 0)
            priv->unplugAskedAt = 0;
    }

    if (!priv->qmpPath) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("status XML of a running StratoVirt domain lacks the QMP socket path"));
        return -1;
    }
    return 0;
}


virDomainXMLPrivateDataCallbacks virStratoVirtDriverPrivateDataCallbacks = {
    .alloc = stratovirtDomainObjPrivateAlloc,
    .free = stratovirtDomainObjPrivateFree,
    .format = stratovirtDomainObjPrivateXMLFormat,
    .parse = stratovirtDomainObjPrivateXMLParse,
};


static int
stratovirtDomainDefPostParseBasic(virDomainDef *def,
                                  void *opaque)
{
    virStratoVirtDriver *driver = opaque;

    if (!def->emulator) {
        g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

        def->emulator = g_strdup(cfg->emulator);
    }

    if (def->virtType != VIR_DOMAIN_VIRT_KVM) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("domain type '%1$s' is not supported by StratoVirt; use type='kvm'"),
                       virDomainVirtTypeToString(def->virtType));
        return -1;
    }

    if (!def->os.machine) {
        virCapsDomainData *capsdata;

        if (!(capsdata = virStratoVirtCompatCapsDomainDataLookup(driver->caps,
                                                                 def->os.type,
                                                                 def->os.arch,
                                                                 def->virtType,
                                                                 NULL, NULL)))
            return -1;
        def->os.machine = g_strdup(capsdata->machinetype);
        g_free(capsdata);
    }

    /* pcie-root before any controller without an index is numbered */
    return virStratoVirtDomainAddImplicitControllers(def);
}


static int
stratovirtDomainDefPostParse(virDomainDef *def,
                             unsigned int parseFlags G_GNUC_UNUSED,
                             void *opaque,
                             void *parseOpaque G_GNUC_UNUSED)
{
    virStratoVirtDriver *driver = opaque;

    if (!virStratoVirtCompatCapsDomainSupported(driver->caps, def->os.type,
                                               def->os.arch, def->virtType))
        return -1;

    /* A standard machine with neither a kernel nor a loader boots UEFI
     * (what virt-install and virt-manager write when no boot option is
     * given): the firmware descriptors name the image. */
    if (virStratoVirtDomainIsStandard(def) && !def->os.kernel &&
        !def->os.loader && def->os.firmware == VIR_DOMAIN_OS_DEF_FIRMWARE_NONE)
        def->os.firmware = VIR_DOMAIN_OS_DEF_FIRMWARE_EFI;
    if (virStratoVirtDomainIsStandard(def)) {
        g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

        if (virStratoVirtFirmwareFillDomain((const char *const *) cfg->firmwareDirs,
                                            cfg->nvramDir, def) < 0)
            return -1;
    }

    /* StratoVirt has no SATA or IDE controller.  A disk or cdrom on those
     * buses (virt-install's and virt-manager's choice on q35 for any
     * connection that is not QEMU's) goes on virtio-scsi, where the guest
     * sees it under the same sdX name; the definition shows the bus it
     * got. */
    if (virStratoVirtDomainIsStandard(def)) {
        size_t i;

        for (i = 0; i < def->ndisks; i++) {
            virDomainDiskDef *disk = def->disks[i];

            if (disk->bus != VIR_DOMAIN_DISK_BUS_SATA && disk->bus != VIR_DOMAIN_DISK_BUS_IDE)
                continue;
            VIR_INFO("Domain %s: disk %s on bus %s goes on virtio-scsi (StratoVirt has no %s)",
                     def->name, disk->dst, virDomainDiskBusTypeToString(disk->bus),
                     virDomainDiskBusTypeToString(disk->bus));
            disk->bus = VIR_DOMAIN_DISK_BUS_SCSI;
            if (disk->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_DRIVE) {
                /* a SATA port is a SCSI unit on target 0 */
                disk->info.addr.drive.bus = 0;
                disk->info.addr.drive.target = 0;
            }
        }
    }

    /* What StratoVirt provides whatever the XML says goes into the XML. */
    if (virStratoVirtDomainIsStandard(def) &&
        def->features[VIR_DOMAIN_FEATURE_ACPI] == VIR_TRISTATE_SWITCH_ABSENT)
        def->features[VIR_DOMAIN_FEATURE_ACPI] = VIR_TRISTATE_SWITCH_ON;
    if (def->os.arch == VIR_ARCH_AARCH64 && virStratoVirtDomainIsStandard(def) &&
        def->gic_version == VIR_GIC_VERSION_NONE) {
        def->features[VIR_DOMAIN_FEATURE_GIC] = VIR_TRISTATE_SWITCH_ON;
        def->gic_version = VIR_GIC_VERSION_3;
    }
    return 0;
}


static void
stratovirtHostdevPCIDefaultVFIO(virDomainHostdevSubsysPCI *pci)
{
    if (virStratoVirtCompatHostdevPCIDriver(pci) == VIR_STRATOVIRT_COMPAT_PCI_DRIVER_DEFAULT)
        virStratoVirtCompatHostdevPCISetDriver(pci, VIR_STRATOVIRT_COMPAT_PCI_DRIVER_VFIO);
}


static int
stratovirtDomainDeviceDefPostParse(virDomainDeviceDef *dev,
                                   const virDomainDef *def,
                                   unsigned int parseFlags G_GNUC_UNUSED,
                                   void *opaque G_GNUC_UNUSED,
                                   void *parseOpaque G_GNUC_UNUSED)
{
    /* The one display device StratoVirt has; libvirt adds a video device
     * of the default type for every <graphics>. */
    if (dev->type == VIR_DOMAIN_DEVICE_VIDEO &&
        dev->data.video->type == VIR_DOMAIN_VIDEO_TYPE_DEFAULT)
        dev->data.video->type = VIR_DOMAIN_VIDEO_TYPE_VIRTIO;

    /* StratoVirt's SCSI controller is virtio-scsi */
    if (dev->type == VIR_DOMAIN_DEVICE_CONTROLLER &&
        dev->data.controller->type == VIR_DOMAIN_CONTROLLER_TYPE_SCSI &&
        dev->data.controller->model == VIR_DOMAIN_CONTROLLER_MODEL_SCSI_DEFAULT)
        dev->data.controller->model = VIR_DOMAIN_CONTROLLER_MODEL_SCSI_VIRTIO_SCSI;

    /* StratoVirt passes PCI devices with VFIO */
    if (dev->type == VIR_DOMAIN_DEVICE_HOSTDEV &&
        virHostdevIsPCIDevice(dev->data.hostdev))
        stratovirtHostdevPCIDefaultVFIO(&dev->data.hostdev->source.subsys.u.pci);
    if (dev->type == VIR_DOMAIN_DEVICE_NET &&
        dev->data.net->type == VIR_DOMAIN_NET_TYPE_HOSTDEV)
        stratovirtHostdevPCIDefaultVFIO(&dev->data.net->data.hostdev.def.source.subsys.u.pci);

    /* virtio-net is StratoVirt's only NIC: the default model.  The
     * emulated NICs virt-install and virt-manager pick for any connection
     * that is not QEMU's (e1000e on q35, e1000 or rtl8139 on pc: virtinst
     * offers virtio to QEMU only) go on virtio-net, as their SATA disks
     * go on virtio-scsi; the definition shows the model the guest gets.
     * Any other model is refused by validation with the fix. */
    if (dev->type == VIR_DOMAIN_DEVICE_NET &&
        dev->data.net->type != VIR_DOMAIN_NET_TYPE_HOSTDEV) {
        virDomainNetDef *net = dev->data.net;

        if (net->model == VIR_DOMAIN_NET_MODEL_E1000E ||
            net->model == VIR_DOMAIN_NET_MODEL_E1000 ||
            net->model == VIR_DOMAIN_NET_MODEL_RTL8139) {
            char macstr[VIR_MAC_STRING_BUFLEN];

            VIR_WARN("Domain %s: interface %s of model %s goes on virtio-net (StratoVirt emulates no %s)",
                     def->name, virMacAddrFormat(&net->mac, macstr),
                     virDomainNetModelTypeToString(net->model),
                     virDomainNetModelTypeToString(net->model));
            net->model = VIR_DOMAIN_NET_MODEL_VIRTIO;
        } else if (net->model == VIR_DOMAIN_NET_MODEL_UNKNOWN && !net->modelstr) {
            net->model = VIR_DOMAIN_NET_MODEL_VIRTIO;
        }
    }

    /* StratoVirt's disks are raw unless told otherwise.  The format is
     * never probed (a guest could write any header into a raw image), but
     * an image whose header says qcow2 is not run as raw either: the guest
     * would see the container, not the disk. */
    if (dev->type == VIR_DOMAIN_DEVICE_DISK &&
        dev->data.disk->src->format == VIR_STORAGE_FILE_NONE &&
        virStorageSourceIsLocalStorage(dev->data.disk->src)) {
        virDomainDiskDef *disk = dev->data.disk;
        g_autofree char *header = NULL;

        if (disk->src->path &&
            virFileReadHeaderQuiet(disk->src->path, 4, &header) == 4 &&
            memcmp(header, "QFI\xfb", 4) == 0) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("disk '%1$s': '%2$s' is a qcow2 image but its format is not given, and StratoVirt would run it as raw; add <driver type='qcow2'/> (virt-install: --disk path=%3$s,driver.type=qcow2)"),
                           disk->dst, disk->src->path, disk->src->path);
            return -1;
        }
        disk->src->format = VIR_STORAGE_FILE_RAW;
    }
    return 0;
}


static int
stratovirtDomainDefAssignAddresses(virDomainDef *def,
                                   unsigned int parseFlags G_GNUC_UNUSED,
                                   void *opaque G_GNUC_UNUSED,
                                   void *parseOpaque G_GNUC_UNUSED)
{
    return virStratoVirtDomainAssignAddresses(def);
}


virDomainDefParserConfig virStratoVirtDriverDomainDefParserConfig = {
    .domainPostParseBasicCallback = stratovirtDomainDefPostParseBasic,
    .domainPostParseCallback = stratovirtDomainDefPostParse,
    .devicesPostParseCallback = stratovirtDomainDeviceDefPostParse,
    .assignAddressesCallback = stratovirtDomainDefAssignAddresses,
    .features = VIR_DOMAIN_DEF_FEATURE_USER_ALIAS,
    .defArch = VIR_ARCH_NONE,
};


virDomainXMLOption *
virStratoVirtDomainXMLConfInit(virStratoVirtDriver *driver)
{
    virDomainXMLOption *xmlopt;

    virStratoVirtDriverDomainDefParserConfig.priv = driver;
    virStratoVirtDomainValidateSetup(&virStratoVirtDriverDomainDefParserConfig);

    xmlopt = virDomainXMLOptionNew(&virStratoVirtDriverDomainDefParserConfig,
                                   &virStratoVirtDriverPrivateDataCallbacks,
                                   &virStratoVirtDriverDomainXMLNamespace,
                                   NULL, NULL, NULL);
    if (xmlopt)
        virDomainXMLOptionSetCloseCallbackAlloc(xmlopt, virCloseCallbacksDomainAlloc);
    return xmlopt;
}


/* ---------------------------------------------------------------------
 * Monitor use while the job is held (as qemuDomainObjEnterMonitor)
 */

/**
 * virStratoVirtDomainObjEnterMonitor:
 *
 * Called with @vm locked and its job held.  Returns a reference to the
 * domain's QMP monitor and unlocks @vm, so that the event loop can deliver
 * the VMM's events while the caller waits for a reply; the job keeps other
 * API calls out meanwhile.  NULL with VIR_ERR_OPERATION_INVALID (and @vm
 * still locked) when the monitor is not connected.
 */
virStratoVirtMonitor *
virStratoVirtDomainObjEnterMonitor(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtMonitor *mon;

    if (!priv->mon) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("the domain's QMP monitor is not connected"));
        return NULL;
    }
    mon = virObjectRef(priv->mon);
    virObjectUnlock(vm);
    return mon;
}


/* Drops the reference and locks @vm again; the domain may have stopped
 * meanwhile (check virDomainObjIsActive). */
void
virStratoVirtDomainObjExitMonitor(virDomainObj *vm,
                                  virStratoVirtMonitor *mon)
{
    virObjectUnref(mon);
    virObjectLock(vm);
}


/* The vCPU thread ids, from query-cpus.  @vm locked, job held, active. */
/* The status XML of a live @vm (locked), written now: a daemon that stops
 * before the VMM's next step finds what this one knew. */
void
virStratoVirtDomainSaveStatus(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = NULL;

    if (!priv->driver || !virDomainObjIsActive(vm))
        return;
    cfg = virStratoVirtDriverGetConfig(priv->driver);
    if (virDomainObjSave(vm, priv->driver->xmlopt, cfg->stateDir) < 0) {
        VIR_WARN("cannot save the status of domain %s: %s", vm->def->name,
                 virGetLastErrorMessage());
        virResetLastError();
    }
}


/* @alias: a device whose device_del StratoVirt accepted; kept until its
 * DEVICE_DELETED is handled (in the status XML, which the caller saves) */
void
virStratoVirtDomainUnplugPendingAdd(virDomainObj *vm,
                                    const char *alias)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    size_t n = priv->unplugPending ? g_strv_length(priv->unplugPending) : 0;

    if (n && g_strv_contains((const char * const *) priv->unplugPending, alias))
        return;
    priv->unplugPending = g_renew(char *, priv->unplugPending, n + 2);
    priv->unplugPending[n] = g_strdup(alias);
    priv->unplugPending[n + 1] = NULL;
}


/* @alias: StratoVirt reported it deleted, and this daemon finishes it */
void
virStratoVirtDomainUnplugPendingDone(virDomainObj *vm,
                                     const char *alias)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    size_t i;
    size_t n;

    if (!priv->unplugPending)
        return;
    n = g_strv_length(priv->unplugPending);
    for (i = 0; i < n; i++) {
        if (STREQ(priv->unplugPending[i], alias)) {
            g_free(priv->unplugPending[i]);
            memmove(priv->unplugPending + i, priv->unplugPending + i + 1,
                    (n - i) * sizeof(char *));
            break;
        }
    }
    if (!priv->unplugPending[0]) {
        g_clear_pointer(&priv->unplugPending, g_strfreev);
        priv->unplugAskedAt = 0;
    }
}


int
virStratoVirtDomainQueryVcpuThreads(virDomainObj *vm,
                                    virStratoVirtMonitorCpuInfo **cpus,
                                    size_t *ncpus)
{
    virStratoVirtMonitor *mon;
    int rc;

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        return -1;
    rc = virStratoVirtMonitorQueryCpus(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, cpus, ncpus);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc == 0 && !virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("the domain stopped while its vCPU threads were being looked up"));
        return -1;
    }
    return rc;
}


/**
 * virStratoVirtDomainDelDeviceWait:
 * @vm: the domain, locked, with a modify job held
 * @alias: the device to unplug
 * @timeout: how long to wait for the guest, in milliseconds
 *
 * Ask StratoVirt to unplug @alias (device_del) and wait, without the
 * domain lock, until its DEVICE_DELETED arrives, the domain stops, or
 * @timeout passes.
 *
 * Returns 0 when the device is gone, 1 when the domain stopped meanwhile
 * (its stop gave everything back), 2 on timeout (the device stays; the
 * caller says which), -1 with an error reported.
 */
int
virStratoVirtDomainDelDeviceWait(virDomainObj *vm,
                                 const char *alias,
                                 unsigned int timeout)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtMonitor *mon;
    unsigned long long deadline;
    int rc;

    g_free(priv->unplugAlias);
    priv->unplugAlias = g_strdup(alias);
    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        return -1;
    rc = virStratoVirtMonitorDelDevice(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, alias);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc < 0) {
        g_clear_pointer(&priv->unplugAlias, g_free);
        return -1;
    }
    /* (unless its DEVICE_DELETED came meanwhile) a daemon that stops
     * before it comes leaves it to the next, which asks the VMM */
    if (priv->unplugAlias && virDomainObjIsActive(vm)) {
        virStratoVirtDomainUnplugPendingAdd(vm, alias);
        priv->unplugAskedAt = g_get_real_time() / 1000;
        virStratoVirtDomainSaveStatus(vm);
    }

    if (virTimeMillisNow(&deadline) < 0)
        return -1;
    deadline += timeout;
    while (priv->unplugAlias && virDomainObjIsActive(vm)) {
        if (virDomainObjWaitUntil(vm, deadline) != 0)
            break;
    }
    if (!virDomainObjIsActive(vm))
        return 1;
    if (priv->unplugAlias) {
        g_clear_pointer(&priv->unplugAlias, g_free);
        return 2;
    }
    return 0;
}


/**
 * virStratoVirtDomainObjFromDomain:
 *
 * The locked, referenced domain object of the public @dom, or NULL with
 * VIR_ERR_NO_DOMAIN reported.
 */
virDomainObj *
virStratoVirtDomainObjFromDomain(virDomainPtr dom)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    virDomainObj *vm;
    char uuidstr[VIR_UUID_STRING_BUFLEN];

    if (!(vm = virDomainObjListFindByUUID(driver->domains, dom->uuid))) {
        virUUIDFormat(dom->uuid, uuidstr);
        virReportError(VIR_ERR_NO_DOMAIN,
                       _("no domain with matching uuid '%1$s' (%2$s)"),
                       uuidstr, dom->name);
        return NULL;
    }
    return vm;
}
