/*
 * stratovirt_save.c: save and restore, managed save, through StratoVirt's
 * snapshot (migrate to a file, -incoming file:)
 *
 * StratoVirt's snapshot is a directory: `migrate` with the URI
 * file:<dir> writes `memory` and `state` there (before its reply; it does
 * not pause the guest, so the driver stops it first), and a new VMM with
 * the same devices and `-incoming file:<dir>` starts from them, running,
 * and answers QMP only once the restore is done.  A save image of this
 * driver is such a directory, with the domain's live definition beside
 * StratoVirt's files (domain.xml) and the state to restore to
 * (libvirt-state: "running" or "paused").  virsh save/restore take the
 * directory's path; a managed save lives in <lib_dir>/save/<name>.save.
 *
 * What StratoVirt cannot snapshot (shared/stratovirt-contract.md,
 * StratoVirt's docs/snapshot.md) is refused before anything changes:
 * VFIO devices, memory on hugepages.  Measured on the real binaries
 * (tests/qmp/README.md): 2.5.0 restores only without seccomp (its
 * allow-list lacks an ioctl the restore makes, and it is killed), so a
 * restoring VMM runs with -disable-seccomp; 2.4.0 cannot restore a q35 or
 * virt guest booted from a <kernel> ("Failed to load kernel"), so such a
 * save is refused on StratoVirt older than 2.5.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <unistd.h>

#include "datatypes.h"
#include "domain_event.h"
#include "stratovirt_domain.h"
#include "stratovirt_monitor.h"
#include "stratovirt_process.h"
#include "stratovirt_save.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virstring.h"
#include "viruuid.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_save");

#define SAVE_XML "domain.xml"
#define SAVE_STATE "libvirt-state"


/* StratoVirt's own version as major * 1000 + minor: the running binary's
 * probed version (-V), else its greeting ("StratoVirt-2.5.0"); 0 when
 * neither says (2.1.0's greeting has an empty package) */
static unsigned int
stratovirtSaveVMMVersion(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    const char *pkg = priv->mon ? virStratoVirtMonitorGetVersion(priv->mon) : NULL;
    unsigned int major = 0;
    unsigned int minor = 0;

    if (priv->caps && priv->caps->version)
        return priv->caps->version / 1000000 * 1000 + priv->caps->version / 1000 % 1000;
    if (!pkg || sscanf(pkg, "StratoVirt-%u.%u", &major, &minor) != 2)
        return 0;
    return major * 1000 + minor;
}


/* What StratoVirt cannot snapshot, named; 0 when the domain can be saved */
static int
stratovirtSaveCheckDomain(virDomainObj *vm)
{
    virDomainDef *def = vm->def;
    unsigned int version = stratovirtSaveVMMVersion(vm);
    size_t i;

    for (i = 0; i < def->nhostdevs; i++) {
        virDomainHostdevDef *hostdev = def->hostdevs[i];

        if (hostdev->mode == VIR_DOMAIN_HOSTDEV_MODE_SUBSYS &&
            hostdev->source.subsys.type == VIR_DOMAIN_HOSTDEV_SUBSYS_TYPE_PCI) {
            g_autofree char *addr =
                virPCIDeviceAddressAsString(&hostdev->source.subsys.u.pci.addr);

            virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                           _("domain '%1$s' has the PCI host device %2$s (%3$s) passed through with VFIO, and StratoVirt cannot save a VFIO device's state nor hot-plug the device back after a restore; shut the domain down instead (virsh shutdown)"),
                           def->name, addr,
                           hostdev->info->alias ? hostdev->info->alias : "hostdev");
            return -1;
        }
    }
    if (def->mem.nhugepages > 0) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("domain '%1$s' has its memory on hugepages (<memoryBacking><hugepages/>), which StratoVirt cannot save"),
                       def->name);
        return -1;
    }
    if (version && version < 2005 && def->os.kernel &&
        STRNEQ_NULLABLE(def->os.machine, "microvm")) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("StratoVirt %1$u.%2$u cannot restore a '%3$s' guest booted from <kernel> (it fails to load the kernel), so domain '%4$s' is not saved; StratoVirt 2.5.0 can"),
                       version / 1000, version % 1000, def->os.machine, def->name);
        return -1;
    }
    return 0;
}


/* The directory is the VMM's to write (or read) for the save */
static int
stratovirtSaveChownDir(virStratoVirtDriver *driver,
                       const char *dir)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

    if (!driver->privileged)
        return 0;
    if (chown(dir, cfg->user, cfg->group) < 0) {
        virReportSystemError(errno, _("cannot give the save image '%1$s' to StratoVirt's user"),
                             dir);
        return -1;
    }
    return 0;
}


/* Timeout for StratoVirt's snapshot, which writes all guest memory before
 * it answers: a minute plus 10 s per GiB */
static unsigned int
stratovirtSaveTimeout(virDomainDef *def)
{
    return 60000 + (virDomainDefGetMemoryTotal(def) / (1024 * 1024)) * 10000;
}


/**
 * virStratoVirtSaveDomain:
 * @path: the save image (a directory; it must not exist)
 * @managed: a managed save (vm->hasManagedSave is set)
 * @flags: VIR_DOMAIN_SAVE_RUNNING, VIR_DOMAIN_SAVE_PAUSED
 *
 * Called with @vm locked (not its job).  On success the domain is shut
 * off (saved) and the stopped event queued; on failure it is as it was,
 * running again if it ran, and no image is left.
 */
int
virStratoVirtSaveDomain(virStratoVirtDriver *driver,
                        virDomainObj *vm,
                        const char *path,
                        bool managed,
                        unsigned int flags)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autofree char *xml = NULL;
    g_autofree char *xmlPath = g_strdup_printf("%s/" SAVE_XML, path);
    g_autofree char *statePath = g_strdup_printf("%s/" SAVE_STATE, path);
    g_autofree char *memPath = g_strdup_printf("%s/memory", path);
    g_autofree char *vmstatePath = g_strdup_printf("%s/state", path);
    virStratoVirtMonitorMigrationStatus status = VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_NONE;
    virStratoVirtMonitor *mon;
    bool wasRunning;
    bool madeDir = false;
    bool stopped = false;
    int rc;
    int ret = -1;

    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        return -1;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;
    if (stratovirtSaveCheckDomain(vm) < 0)
        goto endjob;
    wasRunning = virDomainObjGetState(vm, NULL) == VIR_DOMAIN_RUNNING;
    if (flags & VIR_DOMAIN_SAVE_RUNNING)
        wasRunning = true;
    else if (flags & VIR_DOMAIN_SAVE_PAUSED)
        wasRunning = false;

    if (virFileExists(path)) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("'%1$s' exists; a StratoVirt save image is a new directory: remove it or give another path"),
                       path);
        goto endjob;
    }
    {
        unsigned long long actual = vm->def->mem.cur_balloon;

        /* a balloon target still pending is the restored run's, not
         * what the VMM reported meanwhile */
        if (priv->balloonPending)
            vm->def->mem.cur_balloon = priv->balloonPending;
        xml = virDomainDefFormat(vm->def, driver->xmlopt, VIR_DOMAIN_DEF_FORMAT_SECURE);
        vm->def->mem.cur_balloon = actual;
        if (!xml)
            goto endjob;
    }
    if (g_mkdir(path, 0700) < 0) {
        virReportSystemError(errno, _("cannot create the save image '%1$s'"), path);
        goto endjob;
    }
    madeDir = true;
    if (virFileWriteStr(xmlPath, xml, 0600) < 0 ||
        virFileWriteStr(statePath, wasRunning ? "running\n" : "paused\n", 0600) < 0) {
        virReportSystemError(errno, _("cannot write the save image '%1$s'"), path);
        goto error;
    }
    if (stratovirtSaveChownDir(driver, path) < 0)
        goto error;

    /* StratoVirt snapshots what it is given: the vCPUs must stand still */
    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        goto error;
    rc = 0;
    if (virDomainObjGetState(vm, NULL) == VIR_DOMAIN_RUNNING) {
        priv->pausedByUs = true;
        rc = virStratoVirtMonitorStop(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT);
        stopped = rc == 0;
    }
    if (rc == 0)
        rc = virStratoVirtMonitorMigrateToFile(mon, stratovirtSaveTimeout(vm->def), path);
    if (rc == 0)
        rc = virStratoVirtMonitorQueryMigrate(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, &status);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (stopped && virDomainObjGetState(vm, NULL) == VIR_DOMAIN_RUNNING)
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_SAVE);
    if (rc < 0)
        goto error;
    if (status != VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_COMPLETED ||
        !virFileExists(memPath) || !virFileExists(vmstatePath)) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt did not complete the snapshot of domain '%1$s' (migration status '%2$s')"),
                       vm->def->name, virStratoVirtMonitorMigrationStatusTypeToString(status));
        goto error;
    }
    if (!virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("domain '%1$s' stopped while it was being saved"), vm->def->name);
        goto error;
    }

    VIR_DEBUG("domain %s saved to %s", vm->def->name, path);
    virStratoVirtProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_SAVED);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_STOPPED,
                                                               VIR_DOMAIN_EVENT_STOPPED_SAVED));
    if (managed)
        vm->hasManagedSave = true;
    ret = 0;
    goto endjob;

 error:
    {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        if (madeDir && virFileDeleteTree(path) < 0)
            VIR_WARN("cannot remove the unfinished save image %s", path);
        /* the guest runs on as before */
        if (stopped && virDomainObjIsActive(vm) &&
            (mon = virStratoVirtDomainObjEnterMonitor(vm))) {
            rc = virStratoVirtMonitorCont(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT);
            virStratoVirtDomainObjExitMonitor(vm, mon);
            if (rc < 0)
                VIR_WARN("domain %s: cannot resume it after a failed save: %s",
                         vm->def->name, virGetLastErrorMessage());
            else if (virDomainObjIsActive(vm) &&
                     virDomainObjGetState(vm, NULL) == VIR_DOMAIN_PAUSED)
                virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
        }
        virErrorRestore(&orig);
    }

 endjob:
    virDomainObjEndJob(vm);
    if (ret == 0 && !vm->persistent)
        virDomainObjListRemove(driver->domains, vm);
    return ret;
}


/**
 * virStratoVirtSaveReadImage:
 * @paused: set to the state the image was saved to come back in, or NULL
 *
 * The live definition saved in the image at @path (for the entry point's
 * ACL check, and the restore).
 */
virDomainDef *
virStratoVirtSaveReadImage(virStratoVirtDriver *driver,
                        const char *path,
                        bool *paused)
{
    g_autofree char *xmlPath = g_strdup_printf("%s/" SAVE_XML, path);
    g_autofree char *statePath = g_strdup_printf("%s/" SAVE_STATE, path);
    g_autofree char *memPath = g_strdup_printf("%s/memory", path);
    g_autofree char *vmstatePath = g_strdup_printf("%s/state", path);
    g_autofree char *xml = NULL;
    g_autofree char *state = NULL;
    virDomainDef *def;

    if (!virFileIsDir(path) || !virFileExists(xmlPath) || !virFileExists(memPath) ||
        !virFileExists(vmstatePath)) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("'%1$s' is not a save image of the StratoVirt driver (a directory with domain.xml, memory and state)"),
                       path);
        return NULL;
    }
    if (virFileReadAll(xmlPath, 10 * 1024 * 1024, &xml) < 0)
        return NULL;
    if (paused) {
        if (virFileReadAll(statePath, 64, &state) < 0)
            return NULL;
        *paused = STRPREFIX(state, "paused");
    }
    /* the live definition: aliases and addresses as the VMM had them */
    if (!(def = virDomainDefParseString(xml, driver->xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE)))
        return NULL;
    def->id = -1;
    return def;
}


/* Starts @vm from the image at @path (job held, @vm locked); emits the
 * started (restored) event, and the suspended one when it stays paused */
static int
stratovirtSaveStartFrom(virStratoVirtDriver *driver,
                        virDomainObj *vm,
                        virConnectPtr conn,
                        const char *path,
                        unsigned int startFlags,
                        bool paused)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtMonitor *mon;
    int rc;

    if (stratovirtSaveChownDir(driver, path) < 0)
        return -1;
    g_free(priv->restorePath);
    priv->restorePath = g_strdup(path);
    rc = virStratoVirtProcessStart(driver, vm, conn, VIR_DOMAIN_RUNNING_RESTORED, startFlags);
    g_clear_pointer(&priv->restorePath, g_free);
    if (rc < 0)
        return -1;

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_STARTED,
                                                               VIR_DOMAIN_EVENT_STARTED_RESTORED));
    /* StratoVirt runs a restored guest at once (-S is not honoured with
     * -incoming): pause it when asked to */
    if (paused && (mon = virStratoVirtDomainObjEnterMonitor(vm))) {
        priv->pausedByUs = true;
        rc = virStratoVirtMonitorStop(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT);
        virStratoVirtDomainObjExitMonitor(vm, mon);
        if (rc < 0) {
            VIR_WARN("domain %s: cannot pause it after the restore: %s",
                     vm->def->name, virGetLastErrorMessage());
        } else if (virDomainObjIsActive(vm) &&
                   virDomainObjGetState(vm, NULL) != VIR_DOMAIN_PAUSED) {
            virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
            virObjectEventStateQueue(driver->domainEventState,
                                     virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_SUSPENDED,
                                                                       VIR_DOMAIN_EVENT_SUSPENDED_PAUSED));
        }
    }
    return 0;
}


/**
 * virStratoVirtSaveRestore:
 * @def: the image's definition (virStratoVirtSaveReadImage), taken
 * @paused: come back paused
 */
int
virStratoVirtSaveRestore(virConnectPtr conn,
                         virDomainDef **def,
                         const char *path,
                         bool paused)
{
    virStratoVirtDriver *driver = conn->privateData;
    virDomainObj *vm = NULL;
    int ret = -1;

    if (!(vm = virDomainObjListAdd(driver->domains, def, driver->xmlopt,
                                   VIR_DOMAIN_OBJ_LIST_ADD_LIVE |
                                   VIR_DOMAIN_OBJ_LIST_ADD_CHECK_LIVE, NULL)))
        return -1;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0) {
        if (!vm->persistent)
            virDomainObjListRemove(driver->domains, vm);
        goto cleanup;
    }
    if (stratovirtSaveStartFrom(driver, vm, conn, path, 0, paused) < 0) {
        virDomainObjEndJob(vm);
        if (!vm->persistent)
            virDomainObjListRemove(driver->domains, vm);
        goto cleanup;
    }
    virDomainObjEndJob(vm);
    ret = 0;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


char *
virStratoVirtSaveManagedPath(virStratoVirtDriver *driver,
                             virDomainObj *vm)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

    return g_strdup_printf("%s/save/%s.save", cfg->libDir, vm->def->name);
}


/**
 * virStratoVirtSaveStartManaged:
 *
 * A start of a domain with a managed save image (job held, @vm locked):
 * it resumes from the image, which is then removed.  A start that fails
 * keeps the image.
 */
int
virStratoVirtSaveStartManaged(virStratoVirtDriver *driver,
                              virDomainObj *vm,
                              virConnectPtr conn,
                              unsigned int startFlags,
                              bool paused)
{
    g_autofree char *path = virStratoVirtSaveManagedPath(driver, vm);
    g_autoptr(virDomainDef) saved = NULL;
    bool savedPaused = false;

    if (!(saved = virStratoVirtSaveReadImage(driver, path, &savedPaused)))
        return -1;
    /* the image's live definition for this run; the persistent one stays */
    if (virDomainObjSetDefTransient(driver->xmlopt, vm, NULL) < 0)
        return -1;
    virDomainDefFree(vm->def);
    vm->def = g_steal_pointer(&saved);

    if (stratovirtSaveStartFrom(driver, vm, conn, path, startFlags,
                                paused || savedPaused) < 0) {
        virDomainObjRemoveTransientDef(vm);
        return -1;
    }
    if (virFileDeleteTree(path) < 0)
        VIR_WARN("cannot remove the managed save image %s of domain %s", path, vm->def->name);
    vm->hasManagedSave = false;
    return 0;
}


int
virStratoVirtSaveRemoveManaged(virStratoVirtDriver *driver,
                               virDomainObj *vm)
{
    g_autofree char *path = virStratoVirtSaveManagedPath(driver, vm);

    if (virFileDeleteTree(path) < 0)
        return -1;
    vm->hasManagedSave = false;
    return 0;
}


static int
stratovirtSaveScanOne(virDomainObj *vm,
                      void *opaque)
{
    virStratoVirtDriver *driver = opaque;
    g_autofree char *path = NULL;

    virObjectLock(vm);
    path = virStratoVirtSaveManagedPath(driver, vm);
    vm->hasManagedSave = virFileIsDir(path);
    if (vm->hasManagedSave && !virDomainObjIsActive(vm))
        virDomainObjSetState(vm, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SAVED);
    virObjectUnlock(vm);
    return 0;
}


/* At daemon start: which domains have a managed save image */
void
virStratoVirtSaveScanManaged(virStratoVirtDriver *driver)
{
    virDomainObjListForEach(driver->domains, false, stratovirtSaveScanOne, driver);
}


