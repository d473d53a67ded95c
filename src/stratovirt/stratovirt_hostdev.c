/*
 * stratovirt_hostdev.c: PCI passthrough through libvirt's virHostdevManager
 *
 * libvirt's hostdev manager keeps its list of devices in use in the memory
 * of each daemon, so this daemon's manager does not see the devices of
 * libvirtd's or virtqemud's QEMU guests.  Those are read from the QEMU
 * driver's status XML (/run/libvirt/qemu/NAME.xml, one per running
 * domain, with the pid of its QEMU) before anything is detached, and a
 * device a live QEMU guest has is refused by the guest's name.  Managed
 * devices are detached from their host
 * driver, bound to vfio-pci and reset; unmanaged ones must already be on
 * vfio-pci.  They go back only after the VMM has exited.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <signal.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain.h"
#include "stratovirt_hostdev.h"
#include "stratovirt_security.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_command.h"
#include "virerror.h"
#include "virhostdev.h"
#include "virlog.h"
#include "virpci.h"
#include "virfile.h"
#include "virxml.h"
#include "device_conf.h"
#include "virstring.h"
#include "virtime.h"
#include "viralloc.h"
#include "stratovirt_monitor.h"
#include "domain_event.h"
#include <dirent.h>
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_hostdev");

#define STRATOVIRT_HOSTDEV_DRIVER "stratovirt"


/* What the kernel needs for VFIO: an IOMMU with groups, and vfio loaded */
static int
stratovirtHostdevCheckHost(void)
{
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    bool groups = false;

    if (virDirOpenIfExists(&dir, "/sys/kernel/iommu_groups") > 0) {
        while (virDirRead(dir, &ent, "/sys/kernel/iommu_groups") > 0) {
            groups = true;
            break;
        }
    }
    if (!groups) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("this host has no IOMMU groups, so PCI devices cannot be passed through: enable VT-d/AMD-Vi/SMMU in the firmware and add intel_iommu=on (Intel) or amd_iommu=on (AMD) to the kernel command line; check with 'dmesg | grep -i iommu'"));
        return -1;
    }
    if (!virFileExists("/dev/vfio/vfio")) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("/dev/vfio/vfio does not exist: load the VFIO driver with 'modprobe vfio-pci'"));
        return -1;
    }
    return 0;
}


static bool
stratovirtDomainHasPCIHostdevs(virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->nhostdevs; i++) {
        if (virHostdevIsPCIDevice(def->hostdevs[i]))
            return true;
    }
    return false;
}


/* The host driver a device is bound to, or NULL */
static char *
stratovirtPCIDriverName(virPCIDeviceAddress *addr)
{
    g_autofree char *bdf = virPCIDeviceAddressAsString(addr);
    g_autofree char *link = g_strdup_printf("/sys/bus/pci/devices/%s/driver", bdf);
    g_autofree char *target = NULL;

    if (virFileResolveLink(link, &target) < 0 || !target)
        return NULL;
    return g_path_get_basename(target);
}


static bool
stratovirtDefHasPCIAddr(virDomainDef *def,
                        virPCIDeviceAddress *addr)
{
    size_t i;

    for (i = 0; i < def->nhostdevs; i++) {
        if (virHostdevIsPCIDevice(def->hostdevs[i]) &&
            virPCIDeviceAddressEqual(&def->hostdevs[i]->source.subsys.u.pci.addr, addr))
            return true;
    }
    return false;
}


static char *
stratovirtNodedevName(virPCIDeviceAddress *addr)
{
    return g_strdup_printf("pci_%04x_%02x_%02x_%x", addr->domain, addr->bus,
                           addr->slot, addr->function);
}


/* Where libvirt's QEMU driver (libvirtd's or virtqemud's system
 * instance) keeps the status XML of its running domains */
#define STRATOVIRT_QEMU_STATUS_DIR "/run/libvirt/qemu"


/* Does the QEMU status XML @path describe a live guest that has @addr?
 * Returns its name, or NULL (unreadable files are not a guest's). */
static char *
stratovirtHostdevQEMUStatusUser(const char *path,
                                const virPCIDeviceAddress *addr)
{
    g_autoptr(xmlDoc) xml = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    long long pid = 0;
    int n;
    int i;

    if (!(xml = virXMLParse(path, NULL, NULL, "domstatus", &ctxt, NULL, false))) {
        virResetLastError();
        return NULL;
    }
    if (virXPathLongLong("string(./@pid)", ctxt, &pid) < 0 || pid <= 0 ||
        (kill(pid, 0) < 0 && errno == ESRCH))
        return NULL; /* a stale file of a guest that is gone */

    if ((n = virXPathNodeSet("./domain/devices/hostdev[@mode='subsystem'][@type='pci']/source/address",
                             ctxt, &nodes)) < 0) {
        virResetLastError();
        return NULL;
    }
    for (i = 0; i < n; i++) {
        virPCIDeviceAddress other = { 0 };

        if (virPCIDeviceAddressParseXML(nodes[i], &other) < 0) {
            virResetLastError();
            continue;
        }
        if (virPCIDeviceAddressEqual(&other, addr))
            return virXPathString("string(./domain/name)", ctxt);
    }
    return NULL;
}


/* Refuses @addr when a running guest of libvirt's QEMU driver has it. */
static int
stratovirtHostdevCheckQEMU(const virPCIDeviceAddress *addr)
{
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    int rc;

    if ((rc = virDirOpenIfExists(&dir, STRATOVIRT_QEMU_STATUS_DIR)) <= 0) {
        virResetLastError();
        return 0;
    }
    while ((rc = virDirRead(dir, &ent, STRATOVIRT_QEMU_STATUS_DIR)) > 0) {
        g_autofree char *path = NULL;
        g_autofree char *name = NULL;

        if (!virStringHasSuffix(ent->d_name, ".xml"))
            continue;
        path = g_strdup_printf("%s/%s", STRATOVIRT_QEMU_STATUS_DIR, ent->d_name);
        if ((name = stratovirtHostdevQEMUStatusUser(path, addr))) {
            g_autofree char *bdf = virPCIDeviceAddressAsString(addr);

            virReportError(VIR_ERR_OPERATION_INVALID,
                           _("host PCI device %1$s is in use by the QEMU guest '%2$s' of libvirt's QEMU driver (qemu:///system); shut that guest down or detach the device from it first ('virsh -c qemu:///system detach-device %3$s ...')"),
                           bdf, name, name);
            return -1;
        }
    }
    virResetLastError();
    return 0;
}


/**
 * virStratoVirtHostdevCheck:
 *
 * What the kernel and StratoVirt would refuse, said before anything is
 * detached, with the fix: a missing device, a bridge, a device left on its
 * host driver while managed='no', an IOMMU group whose other members are
 * still on host drivers (StratoVirt's "Group is not viable").
 */
static int
virStratoVirtHostdevCheck(virDomainDef *def,
                          virDomainHostdevDef *hostdev)
{
    virPCIDeviceAddress *addr = &hostdev->source.subsys.u.pci.addr;
    g_autofree char *bdf = virPCIDeviceAddressAsString(addr);
    g_autofree char *nodename = stratovirtNodedevName(addr);
    g_autofree char *sysdir = g_strdup_printf("/sys/bus/pci/devices/%s", bdf);
    g_autofree char *classpath = g_strdup_printf("%s/class", sysdir);
    g_autofree char *klass = NULL;
    g_autofree char *driver = NULL;
    g_autoptr(GString) busy = g_string_new(NULL);
    g_autoptr(GString) fix = g_string_new(NULL);
    virPCIDeviceAddress **members = NULL;
    size_t nmembers = 0;
    unsigned long long cls = 0;
    int group;
    size_t i;

    if (!virPCIDeviceExists(addr)) {
        virReportError(VIR_ERR_NO_NODE_DEVICE,
                       _("host PCI device %1$s does not exist (no %2$s); check the address with 'virsh nodedev-list --cap pci'"),
                       bdf, sysdir);
        return -1;
    }

    if (virFileReadAllQuiet(classpath, 64, &klass) > 0 &&
        virStrToLong_ull(g_strstrip(klass), NULL, 16, &cls) == 0 && (cls >> 8) == 0x0604) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("host PCI device %1$s is a PCI bridge (class 0x%2$06llx); bridges cannot be passed through, pass the devices behind it instead"),
                       bdf, cls);
        return -1;
    }

    if (stratovirtHostdevCheckQEMU(addr) < 0)
        return -1;

    driver = stratovirtPCIDriverName(addr);
    if (!hostdev->managed && STRNEQ_NULLABLE(driver, "vfio-pci")) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("host PCI device %1$s has managed='no' but is bound to %2$s, not vfio-pci: detach it first with 'virsh nodedev-detach %3$s', or set managed='yes'"),
                       bdf, NULLSTR_MINUS(driver), nodename);
        return -1;
    }

    if ((group = virPCIDeviceAddressGetIOMMUGroupNum(addr)) < 0 ||
        virPCIDeviceAddressGetIOMMUGroupAddresses(addr, &members, &nmembers) < 0) {
        virResetLastError();
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("host PCI device %1$s has no IOMMU group: the IOMMU is off; enable it (intel_iommu=on, amd_iommu=on, or the SMMU on Arm)"),
                       bdf);
        return -1;
    }
    for (i = 0; i < nmembers; i++) {
        g_autofree char *drv = NULL;
        g_autofree char *other = NULL;
        g_autofree char *othername = NULL;

        if (virPCIDeviceAddressEqual(members[i], addr) ||
            stratovirtDefHasPCIAddr(def, members[i]))
            continue;
        drv = stratovirtPCIDriverName(members[i]);
        if (!drv || STREQ(drv, "vfio-pci") || STREQ(drv, "pci-stub") ||
            STREQ(drv, "pcieport"))
            continue;
        other = virPCIDeviceAddressAsString(members[i]);
        othername = stratovirtNodedevName(members[i]);
        if (busy->len) {
            g_string_append(busy, ", ");
            g_string_append(fix, "; ");
        }
        g_string_append_printf(busy, "%s (bound to %s)", other, drv);
        g_string_append_printf(fix, "virsh nodedev-detach %s", othername);
    }
    for (i = 0; i < nmembers; i++)
        virPCIDeviceAddressFree(members[i]);
    g_free(members);

    if (busy->len) {
        g_autofree char *groupstr = g_strdup_printf("%d", group);

        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("IOMMU group %1$s of host PCI device %2$s is not viable: every device in it must be bound to vfio-pci, but %3$s; pass them to this domain too, or detach them first: %4$s"),
                       groupstr, bdf, busy->str, fix->str);
        return -1;
    }
    return 0;
}


/**
 * virStratoVirtHostdevPrepareDomain:
 *
 * All or nothing: on failure every device is back where it was.
 */
int
virStratoVirtHostdevPrepareDomain(virStratoVirtDriver *driver,
                                  virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    unsigned int flags = VIR_HOSTDEV_COLD_BOOT;
    size_t i;
    int rc;

    priv->hostdevsPrepared = false;
    priv->hostdevsTaken = false;
    if (!stratovirtDomainHasPCIHostdevs(vm->def))
        return 0;

    if (!driver->hostdevMgr) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("PCI passthrough needs the system instance (stratovirt:///system) running as root"));
        return -1;
    }
    if (stratovirtHostdevCheckHost() < 0)
        return -1;

    for (i = 0; i < vm->def->nhostdevs; i++) {
        if (virHostdevIsPCIDevice(vm->def->hostdevs[i]) &&
            virStratoVirtHostdevCheck(vm->def, vm->def->hostdevs[i]) < 0)
            return -1;
    }

    /* Recorded before anything is detached: a daemon killed from here on
     * finds the mark in the status XML.  Until the manager has given us
     * every device ("taken", saved by the caller), a recovery gives back
     * only what nobody else holds (virStratoVirtHostdevReattachDomain). */
    priv->hostdevsPrepared = true;
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0) {
        priv->hostdevsPrepared = false;
        return -1;
    }
    /* Detaching, binding to vfio-pci and resetting take seconds on real
     * devices: done without the domain lock, which virsh list and every
     * query of this domain need.  The start's job keeps the definition
     * as it is; the manager has locks of its own. */
    virObjectUnlock(vm);
    rc = virHostdevPreparePCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                     vm->def->name, vm->def->uuid,
                                     vm->def->hostdevs, vm->def->nhostdevs,
                                     flags);
    virObjectLock(vm);
    if (rc < 0) {
        priv->hostdevsPrepared = false;
        return -1;
    }
    priv->hostdevsTaken = true;
    return 0;
}


/* Whether another domain (of any driver this manager knows) has @addr */
static bool
stratovirtHostdevActiveElsewhere(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 virPCIDeviceAddress *addr)
{
    virPCIDeviceList *active = driver->hostdevMgr->activePCIHostdevs;
    virPCIDevice *dev;
    bool ret = false;

    virObjectLock(active);
    if ((dev = virPCIDeviceListFind(active, addr))) {
        const char *drvname = NULL;
        const char *domname = NULL;

        virPCIDeviceGetUsedBy(dev, &drvname, &domname);
        ret = STRNEQ_NULLABLE(drvname, STRATOVIRT_HOSTDEV_DRIVER) ||
              STRNEQ_NULLABLE(domname, vm->def->name);
    }
    virObjectUnlock(active);
    return ret;
}


/*
 * A start cut short while the hostdev manager was preparing the devices:
 * which ones it had detached for us is not recorded anywhere.  Give back a
 * device only if it is managed (an unmanaged device stays where the
 * administrator bound it), on vfio-pci, and held by no other domain (the
 * running domains' devices are marked in use before any recovery runs).
 */
static void
stratovirtHostdevGiveBackUnconfirmed(virStratoVirtDriver *driver,
                                     virDomainObj *vm)
{
    g_autofree virDomainHostdevDef **devs = g_new0(virDomainHostdevDef *,
                                                   vm->def->nhostdevs + 1);
    size_t ndevs = 0;
    size_t i;

    for (i = 0; i < vm->def->nhostdevs; i++) {
        virDomainHostdevDef *hd = vm->def->hostdevs[i];
        virPCIDeviceAddress *addr;
        g_autofree char *drv = NULL;
        g_autofree char *bdf = NULL;

        if (!virHostdevIsPCIDevice(hd) || !hd->managed)
            continue;
        addr = &hd->source.subsys.u.pci.addr;
        bdf = virPCIDeviceAddressAsString(addr);
        drv = stratovirtPCIDriverName(addr);
        if (STRNEQ_NULLABLE(drv, "vfio-pci")) {
            VIR_DEBUG("domain %s: %s is on %s: nothing to give back", vm->def->name,
                      bdf, NULLSTR(drv));
            continue;
        }
        if (stratovirtHostdevActiveElsewhere(driver, vm, addr)) {
            VIR_WARN("domain %s: %s belongs to another domain; leaving it alone",
                     vm->def->name, bdf);
            continue;
        }
        virStratoVirtCompatHostdevPCIOrigStateReprobe(hd);
        devs[ndevs++] = hd;
    }
    if (ndevs == 0)
        return;

    if (virHostdevUpdateActivePCIDevices(driver->hostdevMgr, devs, ndevs,
                                         STRATOVIRT_HOSTDEV_DRIVER,
                                         vm->def->name) < 0) {
        VIR_WARN("domain %s: cannot take back its PCI devices: %s", vm->def->name,
                 virGetLastErrorMessage());
        virResetLastError();
        return;
    }
    virHostdevReAttachPCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                 vm->def->name, devs, ndevs);
}


void
virStratoVirtHostdevReattachDomain(virStratoVirtDriver *driver,
                                   virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (!priv->hostdevsPrepared || !driver->hostdevMgr)
        return;

    if (priv->hostdevsTaken)
        virHostdevReAttachPCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                     vm->def->name, vm->def->hostdevs,
                                     vm->def->nhostdevs);
    else
        stratovirtHostdevGiveBackUnconfirmed(driver, vm);
    priv->hostdevsPrepared = false;
    priv->hostdevsTaken = false;
}


void
virStratoVirtHostdevUpdateActive(virStratoVirtDriver *driver,
                                 virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    /* only what the manager had given this domain */
    if (!driver->hostdevMgr || !stratovirtDomainHasPCIHostdevs(vm->def) ||
        !priv->hostdevsTaken)
        return;

    if (virHostdevUpdateActivePCIDevices(driver->hostdevMgr, vm->def->hostdevs,
                                         vm->def->nhostdevs,
                                         STRATOVIRT_HOSTDEV_DRIVER,
                                         vm->def->name) < 0)
        VIR_WARN("cannot mark the PCI devices of domain %s as in use: %s",
                 vm->def->name, virGetLastErrorMessage());
}


/* Called from the monitor's event handler with @vm locked. */
void
virStratoVirtHostdevDeviceDeleted(virStratoVirtDriver *driver G_GNUC_UNUSED,
                                  virDomainObj *vm,
                                  const char *alias)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    VIR_DEBUG("domain %s: device %s deleted", vm->def->name, alias);
    if (priv->unplugAlias && STREQ(priv->unplugAlias, alias)) {
        g_clear_pointer(&priv->unplugAlias, g_free);
        virDomainObjBroadcast(vm);
    }
}


/**
 * virStratoVirtHostdevAttachLive:
 * @hostdev: parsed device; owned by @vm->def on success
 *
 * Called with the job held.  Detaches the host device (managed), plugs it
 * into a free root port with device_add, and gives it back on failure.
 */
int
virStratoVirtHostdevAttachLive(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               virDomainHostdevDef *hostdev)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virPCIDeviceAddress *addr = &hostdev->source.subsys.u.pci.addr;
    g_autofree char *bus = NULL;
    virStratoVirtMonitor *mon;
    bool labelled = false;
    int port;
    int rc;

    if (!virHostdevIsPCIDevice(hostdev)) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("only PCI host devices can be hot-plugged into StratoVirt"));
        return -1;
    }
    /* the version probed from the binary (-V): 2.1.0's QMP greeting has
     * an empty package */
    if (!priv->caps || priv->caps->version >= 2004000) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("StratoVirt %1$s cannot hot-plug VFIO devices: its QMP device_add for vfio-pci fails since 2.4.0 (it turns 'host' into a second 'addr'); add the device with --config and restart the domain"),
                       priv->caps ? priv->caps->versionStr : _("(unknown version)"));
        return -1;
    }
    if (!virStratoVirtCapsIsModern(priv->caps)) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("StratoVirt %1$s cannot hot-plug VFIO devices: its seccomp filter kills it while it opens the device (readlink of the IOMMU group is not in its allow-list once the guest runs); add the device with --config and restart the domain"),
                       priv->caps->versionStr);
        return -1;
    }
    if (virStratoVirtCapsCheckFeature(priv->caps, VIR_STRATOVIRT_FEATURE_VFIO,
                                      "<hostdev> (PCI passthrough with VFIO)") < 0)
        return -1;
    if ((port = virStratoVirtDomainFreeRootPort(vm->def)) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("no free pcie-root-port to hot-plug into: StratoVirt creates root ports at start only; add <controller type='pci' model='pcie-root-port'/> elements and restart the domain"));
        return -1;
    }
    if (!driver->hostdevMgr || stratovirtHostdevCheckHost() < 0 ||
        virStratoVirtHostdevCheck(vm->def, hostdev) < 0)
        return -1;

    virStratoVirtAssignHostdevAlias(vm->def, hostdev);
    hostdev->info->type = VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI;
    hostdev->info->addr.pci.domain = 0;
    hostdev->info->addr.pci.bus = port;
    hostdev->info->addr.pci.slot = 0;
    hostdev->info->addr.pci.function = 0;

    if (virHostdevPreparePCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                    vm->def->name, vm->def->uuid, &hostdev, 1, 0) < 0)
        return -1;
    if (virStratoVirtSecuritySetHostdev(driver, vm, hostdev) < 0)
        goto rollback;
    labelled = true;

    bus = g_strdup_printf("pci.%d", port);
    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        goto rollback;
    rc = virStratoVirtMonitorAddVFIODevice(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                           hostdev->info->alias, bus, 0, addr);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc < 0)
        goto rollback;

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventDeviceAddedNewFromObj(vm, hostdev->info->alias));
    VIR_APPEND_ELEMENT(vm->def->hostdevs, vm->def->nhostdevs, hostdev);
    if (!priv->hostdevsPrepared)
        priv->hostdevsTaken = true;
    priv->hostdevsPrepared = true;
    return 0;

 rollback:
    {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        if (labelled)
            virStratoVirtSecurityRestoreHostdev(driver, vm, hostdev);
        virHostdevReAttachPCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                     vm->def->name, &hostdev, 1);
        virErrorRestore(&orig);
    }
    return -1;
}


/**
 * virStratoVirtHostdevDetachLive:
 * @idx: index of the device in @vm->def->hostdevs
 * @timeout: milliseconds to wait for the guest to release it
 *
 * device_del, then wait for DEVICE_DELETED: only then is the device out of
 * the VMM and safe to give back to its host driver.
 */
int
virStratoVirtHostdevDetachLive(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               size_t idx,
                               unsigned int timeout)
{
    virDomainHostdevDef *hostdev = vm->def->hostdevs[idx];
    g_autofree char *alias = g_strdup(hostdev->info->alias);
    int rc;

    if (hostdev->info->type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI ||
        hostdev->info->addr.pci.bus == 0) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("%1$s sits on pcie.0, where StratoVirt cannot unplug devices; only devices on a pcie-root-port can be detached live"),
                       alias);
        return -1;
    }

    if ((rc = virStratoVirtDomainDelDeviceWait(vm, alias, timeout)) < 0)
        return -1;
    if (rc == 1)
        return 0; /* it stopped meanwhile: the stop gave everything back */
    if (rc == 2) {
        virReportError(VIR_ERR_OPERATION_TIMEOUT,
                       _("the guest did not release %1$s within %2$u ms (no DEVICE_DELETED from StratoVirt yet); it stays attached and on vfio-pci until StratoVirt reports it deleted"),
                       alias, timeout);
        return -1;
    }

    virStratoVirtHostdevRemoved(driver, vm, alias);
    return 0;
}


/**
 * virStratoVirtHostdevRemoved:
 * @alias: a host device StratoVirt reported deleted
 *
 * The device is out of the VMM: its labels and the device go back to the
 * host, and it leaves the live definition.  Job held.  Nothing happens
 * when the domain has no such device (any more).
 */
void
virStratoVirtHostdevRemoved(virStratoVirtDriver *driver,
                            virDomainObj *vm,
                            const char *alias)
{
    virDomainHostdevDef *hostdev = NULL;
    size_t idx;

    for (idx = 0; idx < vm->def->nhostdevs; idx++) {
        if (STREQ_NULLABLE(vm->def->hostdevs[idx]->info->alias, alias)) {
            hostdev = vm->def->hostdevs[idx];
            break;
        }
    }
    if (!hostdev || hostdev->parentnet)
        return;

    virStratoVirtSecurityRestoreHostdev(driver, vm, hostdev);
    virHostdevReAttachPCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                 vm->def->name, &hostdev, 1);
    virDomainHostdevRemove(vm->def, idx);
    virDomainHostdevDefFree(hostdev);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventDeviceRemovedNewFromObj(vm, alias));
}
