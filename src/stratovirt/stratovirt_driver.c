/*
 * stratovirt_driver.c: the StratoVirt hypervisor driver's API table
 *
 * The entry points here stay thin: check the flags and the ACL, look the
 * domain up, take the job, and call into stratovirt_process.c and friends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <sys/prctl.h>

#include <fcntl.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "datatypes.h"
#include "driver.h"
#include "stratovirt_guest.h"
#include "stratovirt_compat.h"
#include "stratovirt_conf.h"
#include "stratovirt_domain.h"
#include "stratovirt_driver.h"
#include "domain_driver.h"
#include "stratovirt_hostdev.h"
#include "stratovirt_interface.h"
#include "virnetlink.h"
#include "virnetdevbandwidth.h"
#include "virnetdevvportprofile.h"
#include "virnetdevvlan.h"
#include "virtypedparam.h"
#include "stratovirt_hotplug.h"
#include "stratovirt_stats.h"
#include "stratovirt_tuning.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_power.h"
#include "stratovirt_process.h"
#include "stratovirt_save.h"
#include "stratovirt_sanitizer.h"
#include "stratovirt_security.h"
#include "stratovirt_monitor.h"
#include "stratovirt_command.h"
#include "domain_capabilities.h"
#include "cpu/cpu.h"
#include "virchrdev.h"
#include "virclosecallbacks.h"
#include "virtime.h"
#include "virprocess.h"
#include "viruuid.h"
#include <signal.h>
#include <libintl.h>
#include "configmake.h"
#include "viraccessapicheck.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virhostcpu.h"
#include "virhostmem.h"
#include "virlog.h"
#include "virpidfile.h"
#include "virutil.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_driver");

static virStratoVirtDriver *stratovirt_driver;


/* ---------------------------------------------------------------------
 * State driver
 */

/* At daemon exit the VMMs keep running: close their monitors (each holds
 * a reference on its domain), so that the domain objects can go. */
static int
stratovirtStateCloseMonitor(virDomainObj *vm,
                            void *opaque G_GNUC_UNUSED)
{
    virStratoVirtMonitor *mon;

    virObjectLock(vm);
    mon = g_steal_pointer(&STRATOVIRT_DOMAIN_PRIVATE(vm)->mon);
    virObjectUnlock(vm);
    virStratoVirtMonitorClose(mon);
    return 0;
}


static int
stratovirtStateCleanup(void)
{
    virStratoVirtDriver *driver = stratovirt_driver;

    if (!driver)
        return -1;

    if (driver->domains)
        virDomainObjListForEach(driver->domains, false,
                                stratovirtStateCloseMonitor, NULL);
    virObjectUnref(driver->domains);
    if (driver->netlinkStarted)
        virNetlinkEventServiceStop(NETLINK_ROUTE);
    virObjectUnref(driver->domainEventState);
    virObjectUnref(driver->hostdevMgr);
    virObjectUnref(driver->securityManager);
    virPortAllocatorRangeFree(driver->vncPorts);
    virObjectUnref(driver->xmlopt);
    virObjectUnref(driver->caps);
    g_clear_object(&driver->config);
    virObjectUnref(driver->capsCache);
    if (driver->lockFD != -1)
        VIR_FORCE_CLOSE(driver->lockFD);
    virCondDestroy(&driver->threadsDone);
    virMutexDestroy(&driver->lock);
    g_clear_pointer(&stratovirt_driver, g_free);
    return 0;
}


/* How long a daemon's stop waits for the driver's threads, from its
 * prepare step: well inside libvirt's 30 s forced exit. */
#define STRATOVIRT_STOP_WAIT_MS (20 * 1000)


/* The daemon is about to stop: from now on a reconnect that cannot finish
 * leaves its domain running for the next daemon (a restart must never
 * cost a guest, even one in the middle of its reconnect), and no balloon
 * retry starts (the pending target is in the status XML). */
static int
stratovirtStateShutdownPrepare(void)
{
    virStratoVirtDriver *driver = stratovirt_driver;
    unsigned long long now;

    if (!driver)
        return 0;
    g_atomic_int_set(&driver->shuttingDown, 1);
    /* the wait below starts only after the daemon drained its RPC workers
     * (a slow API call may still run): its deadline counts from here, as
     * libvirt's 30 s forced exit does */
    if (virTimeMillisNow(&now) == 0)
        driver->threadsDeadline = now + STRATOVIRT_STOP_WAIT_MS;
    return 0;
}


/* Wait for the driver's threads (reconnects, the work of a VMM that
 * exited, balloon retries, unplug completions) before the driver goes
 * away under them; after this none starts: a VMM that exits from now on
 * is found gone by the next daemon's reconnect, which finishes its stop.
 * libvirt's daemon forces its exit 30 s after the prepare step; a thread
 * still running after 20 s makes this stop a forced one (the next daemon
 * finishes what the thread had left: the status file goes last) rather
 * than free what the thread uses. */
static int
stratovirtStateShutdownWait(void)
{
    virStratoVirtDriver *driver = stratovirt_driver;
    unsigned long long until = driver ? driver->threadsDeadline : 0;

    if (!driver)
        return 0;
    if (until == 0) {
        if (virTimeMillisNow(&until) < 0)
            return -1;
        until += STRATOVIRT_STOP_WAIT_MS;
    }
    return virStratoVirtDriverThreadsWait(driver, until);
}


static int
stratovirtStateMakeDirs(virStratoVirtDriverConfig *cfg)
{
    const char *dirs[] = {
        cfg->configBaseDir, cfg->autostartDir, cfg->stateDir,
        cfg->logDir, cfg->libDir, cfg->cacheDir,
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (g_mkdir_with_parents(dirs[i], 0755) < 0) {
            virReportSystemError(errno, _("cannot create directory '%1$s'"),
                                 dirs[i]);
            return -1;
        }
    }
    return 0;
}


static void
stratovirtAutostartAll(virStratoVirtDriver *driver)
{
    virDomainObj **vms = NULL;
    size_t nvms = 0;
    size_t i;

    virDomainObjListCollect(driver->domains, NULL, &vms, &nvms, NULL,
                            VIR_CONNECT_LIST_DOMAINS_INACTIVE |
                            VIR_CONNECT_LIST_DOMAINS_AUTOSTART);
    for (i = 0; i < nvms; i++) {
        virDomainObj *vm = vms[i];

        virObjectLock(vm);
        if (!virDomainObjIsActive(vm) &&
            virDomainObjBeginJob(vm, VIR_JOB_MODIFY) == 0) {
            if (virStratoVirtProcessStart(driver, vm, NULL,
                                          VIR_DOMAIN_RUNNING_BOOTED, 0) < 0) {
                VIR_ERROR(_("failed to autostart domain '%1$s': %2$s"),
                          vm->def->name, virGetLastErrorMessage());
            } else {
                virObjectEventStateQueue(driver->domainEventState,
                                         virDomainEventLifecycleNewFromObj(vm,
                                                                           VIR_DOMAIN_EVENT_STARTED,
                                                                           VIR_DOMAIN_EVENT_STARTED_BOOTED));
            }
            virDomainObjEndJob(vm);
        }
        virObjectUnlock(vm);
    }
    virObjectListFreeCount(vms, nvms);
}


/* Test builds only: with STRATOVIRT_TEST_LEAK_CANARY set, the daemon
 * loses one small allocation at start, in the project's code, so that
 * ./run test --sanitize can tell leak checking that is on (every daemon's
 * exit reports the canary) from silence. */
static void G_NO_INLINE
stratovirtTestLeakCanary(void)
{
#if WITH_STRATOVIRT_TEST_HOOKS
    static char *volatile canary;

    if (getenv("STRATOVIRT_TEST_LEAK_CANARY")) {
        canary = g_strdup("libvirt-stratovirt leak canary");
        VIR_DEBUG("test hook: leaking the canary at %p", canary);
        canary = NULL;
    }
#endif
}


static virDrvStateInitResult
stratovirtStateInitialize(bool privileged,
                          const char *root,
                          bool monolithic G_GNUC_UNUSED,
                          virStateInhibitCallback callback,
                          void *opaque)
{
    virStratoVirtDriver *driver;
    g_autoptr(virStratoVirtDriverConfig) cfg = NULL;

    if (root) {
        virReportError(VIR_ERR_INVALID_ARG, "%s",
                       _("the StratoVirt driver does not support embedded mode"));
        return VIR_DRV_STATE_INIT_ERROR;
    }

    stratovirtTestLeakCanary();
    virStratoVirtSanitizerForkSafe();
    driver = g_new0(virStratoVirtDriver, 1);
    driver->lockFD = -1;
    if (virMutexInit(&driver->lock) < 0) {
        g_free(driver);
        return VIR_DRV_STATE_INIT_ERROR;
    }
    if (virCondInit(&driver->threadsDone) < 0) {
        virReportSystemError(errno, "%s", _("cannot initialize a condition variable"));
        virMutexDestroy(&driver->lock);
        g_free(driver);
        return VIR_DRV_STATE_INIT_ERROR;
    }
    stratovirt_driver = driver;
    driver->privileged = privileged;
    driver->inhibitCallback = callback;
    driver->inhibitOpaque = opaque;
    driver->nextvmid = 1;

    cfg = virStratoVirtDriverConfigNew(privileged);
    if (virStratoVirtDriverConfigLoadFile(cfg, cfg->configFile) < 0)
        goto error;
    driver->config = g_object_ref(cfg);

    if (stratovirtStateMakeDirs(cfg) < 0)
        goto error;

    if (!(driver->capsCache = virStratoVirtCapsCacheNew(driver, cfg)))
        goto error;

    /* libvirt's process code daemonizes each VMM (stratovirt_process.c);
     * as a child subreaper this daemon gets them back as children, so it
     * learns how they exit (crash or orderly exit) and reaps them. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        VIR_WARN("cannot become a child subreaper: %s", g_strerror(errno));

    if ((driver->lockFD = virStratoVirtCompatPidFileAcquire(cfg->stateDir, "driver",
                                                            getpid())) < 0)
        goto error;

    if (!(driver->domains = virDomainObjListNew()))
        goto error;

    if (!(driver->domainEventState = virObjectEventStateNew()))
        goto error;

    if (!(driver->vncPorts = virPortAllocatorRangeNew(_("display"), 5900, 65535)))
        goto error;

    if (!(driver->caps = virStratoVirtDriverCapsInit(cfg)))
        goto error;

    if (!(driver->xmlopt = virStratoVirtDomainXMLConfInit(driver)))
        goto error;

    if (privileged && !(driver->hostdevMgr = virHostdevManagerGetDefault()))
        goto error;

    if (!(driver->securityManager = virStratoVirtSecurityInit(driver, cfg)))
        goto error;

    /* libvirt's macvtap code registers with the NETLINK_ROUTE event
     * service and expects it to run (libvirtd and virtqemud start it; our
     * daemon is built without libnl, the library is not) */
    if (privileged && !virNetlinkEventServiceIsRunning(NETLINK_ROUTE)) {
        if (virNetlinkStartup() < 0 ||
            virNetlinkEventServiceStart(NETLINK_ROUTE, 0) < 0) {
            VIR_WARN("no netlink event service, macvtap interfaces will not work: %s",
                     virGetLastErrorMessage());
            virResetLastError();
        } else {
            driver->netlinkStarted = true;
        }
    }

    /* Live domains first (their status XML), then the persistent
     * definitions of all the others. */
    if (virDomainObjListLoadAllConfigs(driver->domains, cfg->stateDir,
                                       NULL, true,
                                       driver->xmlopt, NULL, NULL) < 0)
        goto error;
    if (virDomainObjListLoadAllConfigs(driver->domains, cfg->configBaseDir,
                                       cfg->autostartDir, false,
                                       driver->xmlopt, NULL, NULL) < 0)
        goto error;

    virStratoVirtSaveScanManaged(driver);
    virStratoVirtProcessReconnectAll(driver);
    virStratoVirtProcessCleanStale(driver);
    stratovirtAutostartAll(driver);

    VIR_DEBUG("StratoVirt driver ready: emulator=%s state=%s",
              cfg->emulator, cfg->stateDir);
    return VIR_DRV_STATE_INIT_COMPLETE;

 error:
    stratovirtStateCleanup();
    return VIR_DRV_STATE_INIT_ERROR;
}


/* ---------------------------------------------------------------------
 * Connection
 */

static virDrvOpenStatus
stratovirtConnectOpen(virConnectPtr conn,
                      virConnectAuthPtr auth G_GNUC_UNUSED,
                      virConf *conf G_GNUC_UNUSED,
                      unsigned int flags)
{
    virCheckFlags(VIR_CONNECT_RO, VIR_DRV_OPEN_ERROR);

    if (!stratovirt_driver) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("the StratoVirt state driver is not active"));
        return VIR_DRV_OPEN_ERROR;
    }

    if (!virConnectValidateURIPath(conn->uri->path, STRATOVIRT_URI_SCHEME,
                                   stratovirt_driver->privileged))
        return VIR_DRV_OPEN_ERROR;

    if (virConnectOpenEnsureACL(conn) < 0)
        return VIR_DRV_OPEN_ERROR;

    conn->privateData = stratovirt_driver;
    return VIR_DRV_OPEN_SUCCESS;
}


static int
stratovirtConnectClose(virConnectPtr conn)
{
    virStratoVirtDriver *driver = conn->privateData;

    virCloseCallbacksDomainRunForConn(driver->domains, conn);
    conn->privateData = NULL;
    return 0;
}


static const char *
stratovirtConnectGetType(virConnectPtr conn)
{
    if (virConnectGetTypeEnsureACL(conn) < 0)
        return NULL;

    return STRATOVIRT_DRIVER_NAME;
}


static int
stratovirtConnectGetVersion(virConnectPtr conn,
                            unsigned long *version)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectGetVersionEnsureACL(conn) < 0)
        return -1;

    return virStratoVirtExtractVersion(driver, version);
}


static char *
stratovirtConnectGetHostname(virConnectPtr conn)
{
    if (virConnectGetHostnameEnsureACL(conn) < 0)
        return NULL;

    return virGetHostname();
}


static int
stratovirtConnectIsSecure(virConnectPtr conn G_GNUC_UNUSED)
{
    /* Local transport only: trivially secure */
    return 1;
}


static int
stratovirtConnectIsEncrypted(virConnectPtr conn G_GNUC_UNUSED)
{
    return 0;
}


static int
stratovirtConnectIsAlive(virConnectPtr conn G_GNUC_UNUSED)
{
    return 1;
}


static int
stratovirtConnectSupportsFeature(virConnectPtr conn,
                                 int feature)
{
    int supported;

    if (virConnectSupportsFeatureEnsureACL(conn) < 0)
        return -1;

    if (virDriverFeatureIsGlobal(feature, &supported))
        return supported;

    switch ((virDrvFeature) feature) {
    case VIR_DRV_FEATURE_TYPED_PARAM_STRING:
        return 1;
    case VIR_DRV_FEATURE_MIGRATION_V2:
    case VIR_DRV_FEATURE_MIGRATION_V3:
    case VIR_DRV_FEATURE_MIGRATION_P2P:
    case VIR_DRV_FEATURE_MIGRATION_DIRECT:
    case VIR_DRV_FEATURE_MIGRATION_V1:
    case VIR_DRV_FEATURE_MIGRATION_OFFLINE:
    case VIR_DRV_FEATURE_MIGRATE_CHANGE_PROTECTION:
    case VIR_DRV_FEATURE_MIGRATION_PARAMS:
    case VIR_DRV_FEATURE_XML_MIGRATABLE:
    case VIR_DRV_FEATURE_REMOTE:
    case VIR_DRV_FEATURE_PROGRAM_KEEPALIVE:
    case VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK:
    case VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK:
    case VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER:
    case VIR_DRV_FEATURE_FD_PASSING:
    default:
        return 0;
    }
}


static char *
stratovirtConnectGetCapabilities(virConnectPtr conn)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectGetCapabilitiesEnsureACL(conn) < 0)
        return NULL;

    return virCapabilitiesFormatXML(driver->caps);
}


static int
stratovirtNodeGetInfo(virConnectPtr conn,
                      virNodeInfoPtr nodeinfo)
{
    if (virNodeGetInfoEnsureACL(conn) < 0)
        return -1;

    return virCapabilitiesGetNodeInfo(nodeinfo);
}


static int
stratovirtNodeGetCPUStats(virConnectPtr conn,
                          int cpuNum,
                          virNodeCPUStatsPtr params,
                          int *nparams,
                          unsigned int flags)
{
    if (virNodeGetCPUStatsEnsureACL(conn) < 0)
        return -1;

    return virHostCPUGetStats(cpuNum, params, nparams, flags);
}


static int
stratovirtNodeGetMemoryStats(virConnectPtr conn,
                             int cellNum,
                             virNodeMemoryStatsPtr params,
                             int *nparams,
                             unsigned int flags)
{
    if (virNodeGetMemoryStatsEnsureACL(conn) < 0)
        return -1;

    return virHostMemGetStats(cellNum, params, nparams, flags);
}


static int
stratovirtNodeGetCPUMap(virConnectPtr conn,
                        unsigned char **cpumap,
                        unsigned int *online,
                        unsigned int flags)
{
    if (virNodeGetCPUMapEnsureACL(conn) < 0)
        return -1;

    return virHostCPUGetMap(cpumap, online, flags);
}


static int
stratovirtNodeGetCellsFreeMemory(virConnectPtr conn,
                                 unsigned long long *freeMems,
                                 int startCell,
                                 int maxCells)
{
    if (virNodeGetCellsFreeMemoryEnsureACL(conn) < 0)
        return -1;

    return virHostMemGetCellsFree(freeMems, startCell, maxCells);
}


static unsigned long long
stratovirtNodeGetFreeMemory(virConnectPtr conn)
{
    unsigned long long freeMem;

    if (virNodeGetFreeMemoryEnsureACL(conn) < 0)
        return 0;

    if (virHostMemGetInfo(NULL, &freeMem) < 0)
        return 0;
    return freeMem;
}


static int
stratovirtConnectNumOfDomains(virConnectPtr conn)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectNumOfDomainsEnsureACL(conn) < 0)
        return -1;

    return virDomainObjListNumOfDomains(driver->domains, true,
                                        virConnectNumOfDomainsCheckACL, conn);
}


static int
stratovirtConnectListDomains(virConnectPtr conn,
                             int *ids,
                             int nids)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectListDomainsEnsureACL(conn) < 0)
        return -1;

    return virDomainObjListGetActiveIDs(driver->domains, ids, nids,
                                        virConnectListDomainsCheckACL, conn);
}


static int
stratovirtConnectNumOfDefinedDomains(virConnectPtr conn)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectNumOfDefinedDomainsEnsureACL(conn) < 0)
        return -1;

    return virDomainObjListNumOfDomains(driver->domains, false,
                                        virConnectNumOfDefinedDomainsCheckACL,
                                        conn);
}


static int
stratovirtConnectListDefinedDomains(virConnectPtr conn,
                                    char **const names,
                                    int maxnames)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectListDefinedDomainsEnsureACL(conn) < 0)
        return -1;

    return virDomainObjListGetInactiveNames(driver->domains, names, maxnames,
                                            virConnectListDefinedDomainsCheckACL,
                                            conn);
}


static int
stratovirtConnectListAllDomains(virConnectPtr conn,
                                virDomainPtr **domains,
                                unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;

    virCheckFlags(VIR_CONNECT_LIST_DOMAINS_FILTERS_ALL, -1);

    if (virConnectListAllDomainsEnsureACL(conn) < 0)
        return -1;

    return virDomainObjListExport(driver->domains, conn, domains,
                                  virConnectListAllDomainsCheckACL, flags);
}


/* ---------------------------------------------------------------------
 * Domains
 */

static unsigned int
stratovirtStartFlags(unsigned int flags)
{
    unsigned int ret = 0;

    if (flags & VIR_DOMAIN_START_PAUSED)
        ret |= VIR_STRATOVIRT_START_PAUSED;
    if (flags & VIR_DOMAIN_START_AUTODESTROY)
        ret |= VIR_STRATOVIRT_START_AUTODESTROY;
    return ret;
}


static virDomainPtr
stratovirtDomainLookupByID(virConnectPtr conn,
                           int id)
{
    virStratoVirtDriver *driver = conn->privateData;
    virDomainObj *vm;
    virDomainPtr dom = NULL;

    if (!(vm = virDomainObjListFindByID(driver->domains, id))) {
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching id %1$d"), id);
        return NULL;
    }
    if (virDomainLookupByIDEnsureACL(conn, vm->def) < 0)
        goto cleanup;
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);
 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}


static virDomainPtr
stratovirtDomainLookupByUUID(virConnectPtr conn,
                             const unsigned char *uuid)
{
    virStratoVirtDriver *driver = conn->privateData;
    virDomainObj *vm;
    virDomainPtr dom = NULL;

    if (!(vm = virDomainObjListFindByUUID(driver->domains, uuid))) {
        char uuidstr[VIR_UUID_STRING_BUFLEN];

        virUUIDFormat(uuid, uuidstr);
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching uuid '%1$s'"), uuidstr);
        return NULL;
    }
    if (virDomainLookupByUUIDEnsureACL(conn, vm->def) < 0)
        goto cleanup;
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);
 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}


static virDomainPtr
stratovirtDomainLookupByName(virConnectPtr conn,
                             const char *name)
{
    virStratoVirtDriver *driver = conn->privateData;
    virDomainObj *vm;
    virDomainPtr dom = NULL;

    if (!(vm = virDomainObjListFindByName(driver->domains, name))) {
        virReportError(VIR_ERR_NO_DOMAIN, _("no domain with matching name '%1$s'"), name);
        return NULL;
    }
    if (virDomainLookupByNameEnsureACL(conn, vm->def) < 0)
        goto cleanup;
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);
 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}


static virDomainPtr
stratovirtDomainCreateXML(virConnectPtr conn,
                          const char *xml,
                          unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    virDomainObj *vm = NULL;
    virDomainPtr dom = NULL;
    unsigned int parse_flags = VIR_DOMAIN_DEF_PARSE_INACTIVE;

    virCheckFlags(VIR_DOMAIN_START_PAUSED |
                  VIR_DOMAIN_START_AUTODESTROY |
                  VIR_DOMAIN_START_VALIDATE, NULL);

    if (flags & VIR_DOMAIN_START_VALIDATE)
        parse_flags |= VIR_DOMAIN_DEF_PARSE_VALIDATE_SCHEMA;

    if (!(def = virDomainDefParseString(xml, driver->xmlopt, NULL, parse_flags)))
        return NULL;
    if (virDomainCreateXMLEnsureACL(conn, def) < 0)
        return NULL;

    if (!(vm = virDomainObjListAdd(driver->domains, &def, driver->xmlopt,
                                   VIR_DOMAIN_OBJ_LIST_ADD_LIVE |
                                   VIR_DOMAIN_OBJ_LIST_ADD_CHECK_LIVE, NULL)))
        return NULL;

    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0) {
        if (!vm->persistent)
            virDomainObjListRemove(driver->domains, vm);
        goto cleanup;
    }

    if (virStratoVirtProcessStart(driver, vm, conn, VIR_DOMAIN_RUNNING_BOOTED,
                                  stratovirtStartFlags(flags)) < 0) {
        virDomainObjEndJob(vm);
        if (!vm->persistent)
            virDomainObjListRemove(driver->domains, vm);
        goto cleanup;
    }

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_STARTED,
                                                               VIR_DOMAIN_EVENT_STARTED_BOOTED));
    if (flags & VIR_DOMAIN_START_PAUSED)
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_SUSPENDED,
                                                                   VIR_DOMAIN_EVENT_SUSPENDED_PAUSED));
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);
    virDomainObjEndJob(vm);

 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}


static virDomainPtr
stratovirtDomainDefineXMLFlags(virConnectPtr conn,
                               const char *xml,
                               unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virDomainDef) def = NULL;
    g_autoptr(virDomainDef) oldDef = NULL;
    virDomainObj *vm = NULL;
    virDomainPtr dom = NULL;
    unsigned int parse_flags = VIR_DOMAIN_DEF_PARSE_INACTIVE;

    virCheckFlags(VIR_DOMAIN_DEFINE_VALIDATE, NULL);

    if (flags & VIR_DOMAIN_DEFINE_VALIDATE)
        parse_flags |= VIR_DOMAIN_DEF_PARSE_VALIDATE_SCHEMA;

    if (!(def = virDomainDefParseString(xml, driver->xmlopt, NULL, parse_flags)))
        return NULL;
    if (virDomainDefineXMLFlagsEnsureACL(conn, def) < 0)
        return NULL;

    if (!(vm = virDomainObjListAdd(driver->domains, &def, driver->xmlopt,
                                   0, &oldDef)))
        return NULL;
    vm->persistent = 1;

    if (virDomainDefSave(vm->newDef ? vm->newDef : vm->def, driver->xmlopt,
                         cfg->configBaseDir) < 0) {
        if (oldDef) {
            /* keep the previous definition */
            virDomainObjAssignDef(vm, &oldDef, false, NULL);
        } else if (virDomainObjIsActive(vm)) {
            /* a running transient domain stays as it was */
            vm->persistent = 0;
            g_clear_pointer(&vm->newDef, virDomainDefFree);
        } else {
            virDomainObjListRemove(driver->domains, vm);
        }
        goto cleanup;
    }

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_DEFINED,
                                                               oldDef ?
                                                               VIR_DOMAIN_EVENT_DEFINED_UPDATED :
                                                               VIR_DOMAIN_EVENT_DEFINED_ADDED));
    dom = virGetDomain(conn, vm->def->name, vm->def->uuid, vm->def->id);

 cleanup:
    virDomainObjEndAPI(&vm);
    return dom;
}


static virDomainPtr
stratovirtDomainDefineXML(virConnectPtr conn,
                          const char *xml)
{
    return stratovirtDomainDefineXMLFlags(conn, xml, 0);
}


static int
stratovirtDomainUndefineFlags(virDomainPtr dom,
                              unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                  VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
                  VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
                  VIR_DOMAIN_UNDEFINE_NVRAM |
                  VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
                  VIR_DOMAIN_UNDEFINE_TPM |
                  VIR_DOMAIN_UNDEFINE_KEEP_TPM, -1);

    if ((flags & VIR_DOMAIN_UNDEFINE_NVRAM) && (flags & VIR_DOMAIN_UNDEFINE_KEEP_NVRAM)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("cannot both keep and delete the UEFI variable store"));
        return -1;
    }

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainUndefineFlagsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!vm->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("cannot undefine a transient domain"));
        goto cleanup;
    }
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;

    if (vm->hasManagedSave) {
        if (!(flags & VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)) {
            virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                           _("the domain has a managed save image: pass --managed-save to delete it, or start the domain first"));
            goto endjob;
        }
        if (virStratoVirtSaveRemoveManaged(driver, vm) < 0)
            goto endjob;
    }

    if (vm->def->os.loader && vm->def->os.loader->nvram &&
        vm->def->os.loader->nvram->path &&
        virFileExists(vm->def->os.loader->nvram->path)) {
        if (flags & VIR_DOMAIN_UNDEFINE_NVRAM) {
            if (unlink(vm->def->os.loader->nvram->path) < 0) {
                virReportSystemError(errno, _("cannot remove the UEFI variable store '%1$s'"),
                                     vm->def->os.loader->nvram->path);
                goto endjob;
            }
        } else if (!(flags & VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) &&
                   vm->def->os.loader->nvramTemplate) {
            virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                           _("the domain has a UEFI variable store: pass --nvram to delete it or --keep-nvram to keep it"));
            goto endjob;
        }
    }

    if (virDomainDeleteConfig(cfg->configBaseDir, cfg->autostartDir, vm) < 0)
        goto endjob;

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_UNDEFINED,
                                                               VIR_DOMAIN_EVENT_UNDEFINED_REMOVED));
    vm->autostart = 0;
    if (virDomainObjIsActive(vm))
        vm->persistent = 0;
    else
        virDomainObjListRemove(driver->domains, vm);
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainUndefine(virDomainPtr dom)
{
    return stratovirtDomainUndefineFlags(dom, 0);
}


static int
stratovirtDomainCreateWithFlags(virDomainPtr dom,
                                unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_START_PAUSED |
                  VIR_DOMAIN_START_AUTODESTROY |
                  VIR_DOMAIN_START_FORCE_BOOT, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainCreateWithFlagsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;

    if (virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("domain is already running"));
        goto endjob;
    }
    if (vm->hasManagedSave) {
        /* resume from the managed save image, unless told to boot */
        if (flags & VIR_DOMAIN_START_FORCE_BOOT) {
            if (virStratoVirtSaveRemoveManaged(driver, vm) < 0)
                goto endjob;
        } else {
            if (virStratoVirtSaveStartManaged(driver, vm, dom->conn,
                                              stratovirtStartFlags(flags & ~VIR_DOMAIN_START_PAUSED),
                                              !!(flags & VIR_DOMAIN_START_PAUSED)) < 0)
                goto endjob;
            dom->id = vm->def->id;
            ret = 0;
            goto endjob;
        }
    }
    if (virStratoVirtProcessStart(driver, vm, dom->conn, VIR_DOMAIN_RUNNING_BOOTED,
                                  stratovirtStartFlags(flags)) < 0)
        goto endjob;

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_STARTED,
                                                               VIR_DOMAIN_EVENT_STARTED_BOOTED));
    if (flags & VIR_DOMAIN_START_PAUSED)
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_SUSPENDED,
                                                                   VIR_DOMAIN_EVENT_SUSPENDED_PAUSED));
    dom->id = vm->def->id;
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainCreate(virDomainPtr dom)
{
    return stratovirtDomainCreateWithFlags(dom, 0);
}


static int
stratovirtDomainDestroyFlags(virDomainPtr dom,
                             unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    virDomainObj *vm;
    bool starting;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_DESTROY_GRACEFUL, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainDestroyFlagsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto cleanup;

    /* Kill first, then take the job (the QEMU driver's order): whatever
     * holds the job now is waiting on this VMM and fails at once when it
     * goes, so destroy wins over queries, hung commands and starts. */
    starting = STRATOVIRT_DOMAIN_PRIVATE(vm)->starting;
    if (virStratoVirtProcessBeginStopJob(vm, !(flags & VIR_DOMAIN_DESTROY_GRACEFUL)) < 0) {
        if (starting && vm->removing) {
            /* the start we interrupted has undone itself and removed the
             * transient domain: what destroy was asked to do is done */
            VIR_DEBUG("domain %s: its start was interrupted by destroy", vm->def->name);
            virResetLastError();
            dom->id = -1;
            ret = 0;
        }
        goto cleanup;
    }
    if (!virDomainObjIsActive(vm)) {
        if (starting) {
            /* the start we interrupted has undone itself */
            VIR_DEBUG("domain %s: its start was interrupted by destroy", vm->def->name);
            dom->id = -1;
            ret = 0;
        } else {
            virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("domain is not running"));
        }
        goto endjob;
    }

    /* graceful: SIGTERM only (StratoVirt exits in order); if it does not
     * go, say so and leave the domain running, as libvirt's drivers do */
    if ((flags & VIR_DOMAIN_DESTROY_GRACEFUL) &&
        virStratoVirtProcessTerminate(vm, 10000, false) < 0)
        goto endjob;
    virStratoVirtProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_DESTROYED);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_STOPPED,
                                                               VIR_DOMAIN_EVENT_STOPPED_DESTROYED));
    dom->id = -1;
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
    if (ret == 0 && !vm->persistent && !vm->removing)
        virDomainObjListRemove(driver->domains, vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainDestroy(virDomainPtr dom)
{
    return stratovirtDomainDestroyFlags(dom, 0);
}


/* One argument-less QMP command for an API entry point: called with @vm
 * locked and the job held.  A domain that stopped while the command ran
 * is an error, as the caller's state changes would be wrong. */
static int
stratovirtDomainMonitorRun(virDomainObj *vm,
                           int (*command)(virStratoVirtMonitor *mon,
                                          unsigned int timeout))
{
    virStratoVirtMonitor *mon;
    int ret;

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        return -1;
    ret = command(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT);
    virStratoVirtDomainObjExitMonitor(vm, mon);

    if (ret == 0 && !virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the domain stopped while the command ran"));
        return -1;
    }
    return ret;
}


static int
stratovirtDomainShutdownFlags(virDomainPtr dom,
                              unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virStratoVirtDomainObjPrivate *priv;
    virDomainObj *vm;
    virStratoVirtPowerMethod method;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN |
                  VIR_DOMAIN_SHUTDOWN_GUEST_AGENT |
                  VIR_DOMAIN_SHUTDOWN_INITCTL |
                  VIR_DOMAIN_SHUTDOWN_SIGNAL |
                  VIR_DOMAIN_SHUTDOWN_PARAVIRT, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    priv = vm->privateData;
    if (virDomainShutdownFlagsEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    /* --mode agent first; with other modes too, they are tried if the
     * agent cannot do it (as the QEMU driver does) */
    if (flags & VIR_DOMAIN_SHUTDOWN_GUEST_AGENT) {
        if (virStratoVirtGuestShutdown(vm, false) == 0) {
            ret = 0;
            goto wait;
        }
        if (!(flags & ~VIR_DOMAIN_SHUTDOWN_GUEST_AGENT))
            goto cleanup;
        virResetLastError();
        flags &= ~VIR_DOMAIN_SHUTDOWN_GUEST_AGENT;
    }
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;
    if (virDomainObjGetState(vm, NULL) != VIR_DOMAIN_RUNNING) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("domain is not running; resume it before a shutdown"));
        goto endjob;
    }
    if (virStratoVirtPowerChooseShutdown(vm->def, flags, &method) < 0)
        goto endjob;

    if (!virStratoVirtCapsIsModern(priv->caps)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt %1$s has no system_powerdown (it came in StratoVirt 2.2): 'virsh shutdown' cannot ask the guest; shut it down from inside, or use 'virsh destroy'"),
                       priv->caps->versionStr);
        goto endjob;
    }

    /* ACPI power button: the guest decides on aarch64 virt; on x86 q35 and
     * microvm StratoVirt powers off at once (method POWER_OFF). A shutdown
     * overrides a reboot asked for earlier. */
    priv->fakeReboot = false;
    priv->guestShutdown = true;
    /* kept before it is asked: a daemon that stops before the VMM's exit
     * is handled leaves it to the next one, which then knows */
    virStratoVirtDomainSaveStatus(vm);
    if (stratovirtDomainMonitorRun(vm, virStratoVirtMonitorSystemPowerdown) < 0) {
        if (virDomainObjIsActive(vm)) {
            priv->guestShutdown = false;
            virStratoVirtDomainSaveStatus(vm);
        }
        goto endjob;
    }
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);

 wait:
    if (ret == 0 && cfg->shutdownTimeout > 0) {
        unsigned long long until;

        /* documented in stratovirt.conf: wait for the power-off */
        if (virTimeMillisNow(&until) == 0) {
            until += cfg->shutdownTimeout * 1000ULL;
            while (virDomainObjIsActive(vm)) {
                if (virDomainObjWaitUntil(vm, until) != 0)
                    break;
            }
            if (virDomainObjIsActive(vm)) {
                virReportError(VIR_ERR_OPERATION_TIMEOUT,
                               _("the guest did not power off within %1$u seconds (shutdown_timeout); it may ignore ACPI"),
                               cfg->shutdownTimeout);
                ret = -1;
            }
        }
    }
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainShutdown(virDomainPtr dom)
{
    return stratovirtDomainShutdownFlags(dom, 0);
}


static int
stratovirtDomainReboot(virDomainPtr dom,
                       unsigned int flags)
{
    virStratoVirtDomainObjPrivate *priv;
    virStratoVirtPowerMethod method;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_REBOOT_ACPI_POWER_BTN |
                  VIR_DOMAIN_REBOOT_GUEST_AGENT |
                  VIR_DOMAIN_REBOOT_INITCTL |
                  VIR_DOMAIN_REBOOT_SIGNAL |
                  VIR_DOMAIN_REBOOT_PARAVIRT, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    priv = vm->privateData;
    if (virDomainRebootEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    /* the guest reboots itself: StratoVirt resets a standard machine
     * (RESET, the reboot event) and ends a microvm */
    if (flags & VIR_DOMAIN_REBOOT_GUEST_AGENT) {
        if (virStratoVirtGuestShutdown(vm, true) == 0) {
            ret = 0;
            goto cleanup;
        }
        if (!(flags & ~VIR_DOMAIN_REBOOT_GUEST_AGENT))
            goto cleanup;
        virResetLastError();
        flags &= ~VIR_DOMAIN_REBOOT_GUEST_AGENT;
    }
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;
    /* a mode no StratoVirt has is refused by its name first; otherwise
     * StratoVirt 2.1, which has no power button and no reset at all */
    if ((flags & ~VIR_DOMAIN_REBOOT_ACPI_POWER_BTN) &&
        virStratoVirtPowerChooseReboot(vm->def, flags, &method) < 0)
        goto endjob;
    if (!virStratoVirtCapsIsModern(priv->caps)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt %1$s has no system_powerdown (it came in StratoVirt 2.2): it cannot reboot a domain; destroy and start it instead"),
                       priv->caps->versionStr);
        goto endjob;
    }
    if (virStratoVirtPowerChooseReboot(vm->def, flags, &method) < 0)
        goto endjob;
    if (virDomainObjGetState(vm, NULL) != VIR_DOMAIN_RUNNING) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("domain is not running; resume it before a reboot"));
        goto endjob;
    }

    /* The ACPI power button; when the guest has powered off, its VMM is
     * started again (virStratoVirtPowerFakeReboot), unless <on_reboot> is
     * destroy, which makes a reboot a shutdown, as for the QEMU driver. */
    priv->fakeReboot = vm->def->onReboot != VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY;
    /* kept before it is asked, for a daemon that finds the VMM gone */
    virStratoVirtDomainSaveStatus(vm);
    if (stratovirtDomainMonitorRun(vm, virStratoVirtMonitorSystemPowerdown) < 0) {
        priv->fakeReboot = false;
        virStratoVirtDomainSaveStatus(vm);
        goto endjob;
    }
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* A hard reset: StratoVirt's system_reset (a microvm would end) */
static int
stratovirtDomainReset(virDomainPtr dom,
                      unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainResetEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;
    if (STREQ(vm->def->os.machine, "microvm")) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("a StratoVirt microvm cannot reboot: a reset ends it; destroy and start it instead"));
        goto endjob;
    }
    {
        virStratoVirtDomainObjPrivate *priv = vm->privateData;

        if (!virStratoVirtCapsIsModern(priv->caps)) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("StratoVirt %1$s has no system_reset (it came in StratoVirt 2.2): it cannot reboot or reset a domain; destroy and start it instead"),
                           priv->caps->versionStr);
            goto endjob;
        }
    }
    ret = stratovirtDomainMonitorRun(vm, virStratoVirtMonitorSystemReset);
    if (ret == 0)
        virStratoVirtProcessRebooted(dom->conn->privateData, vm);

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSaveFlags(virDomainPtr dom,
                          const char *path,
                          const char *dxml,
                          unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);
    if (dxml) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("StratoVirt restores a guest onto the devices it was saved with: a replacement XML (--xml) is not supported"));
        return -1;
    }

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainSaveFlagsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = virStratoVirtSaveDomain(driver, vm, path, false, flags);

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSave(virDomainPtr dom,
                     const char *path)
{
    return stratovirtDomainSaveFlags(dom, path, NULL, 0);
}


static int
stratovirtDomainRestoreFlags(virConnectPtr conn,
                             const char *path,
                             const char *dxml,
                             unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;
    bool paused = false;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);
    if (dxml) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("StratoVirt restores a guest onto the devices it was saved with: a replacement XML (--xml) is not supported"));
        return -1;
    }

    if (!(def = virStratoVirtSaveReadImage(driver, path, &paused)))
        return -1;
    if (virDomainRestoreFlagsEnsureACL(conn, def) < 0)
        return -1;
    if (flags & VIR_DOMAIN_SAVE_RUNNING)
        paused = false;
    else if (flags & VIR_DOMAIN_SAVE_PAUSED)
        paused = true;
    return virStratoVirtSaveRestore(conn, &def, path, paused);
}


static int
stratovirtDomainRestore(virConnectPtr conn,
                        const char *path)
{
    return stratovirtDomainRestoreFlags(conn, path, NULL, 0);
}


static char *
stratovirtDomainSaveImageGetXMLDesc(virConnectPtr conn,
                                    const char *path,
                                    unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virDomainDef) def = NULL;

    virCheckFlags(VIR_DOMAIN_SAVE_IMAGE_XML_SECURE, NULL);

    if (!(def = virStratoVirtSaveReadImage(driver, path, NULL)))
        return NULL;
    if (virDomainSaveImageGetXMLDescEnsureACL(conn, def) < 0)
        return NULL;
    return virDomainDefFormat(def, driver->xmlopt,
                              virDomainDefFormatConvertXMLFlags(flags));
}


static int
stratovirtDomainManagedSave(virDomainPtr dom,
                            unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autofree char *dir = g_strdup_printf("%s/save", cfg->libDir);
    g_autofree char *path = NULL;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainManagedSaveEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!vm->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("a transient domain has no managed save: define it first, or use 'virsh save' with a path"));
        goto cleanup;
    }
    if (g_mkdir_with_parents(dir, 0711) < 0) {
        virReportSystemError(errno, _("cannot create the managed save directory '%1$s'"), dir);
        goto cleanup;
    }
    path = virStratoVirtSaveManagedPath(driver, vm);
    if (vm->hasManagedSave || virFileExists(path)) {
        /* an image the domain did not start from: replaced */
        if (virFileDeleteTree(path) < 0)
            goto cleanup;
        vm->hasManagedSave = false;
    }
    ret = virStratoVirtSaveDomain(driver, vm, path, true, flags);

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainHasManagedSaveImage(virDomainPtr dom,
                                    unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainHasManagedSaveImageEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = vm->hasManagedSave;

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainManagedSaveRemove(virDomainPtr dom,
                                  unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainManagedSaveRemoveEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    ret = virStratoVirtSaveRemoveManaged(driver, vm);
    if (ret == 0 && !virDomainObjIsActive(vm))
        virDomainObjSetState(vm, VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN);
    virDomainObjEndJob(vm);

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSuspend(virDomainPtr dom)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virStratoVirtDomainObjPrivate *priv;
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    priv = vm->privateData;
    if (virDomainSuspendEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_SUSPEND) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;
    if (virDomainObjGetState(vm, NULL) == VIR_DOMAIN_PAUSED) {
        ret = 0;
        goto endjob;
    }
    priv->pausedByUs = true;
    if (stratovirtDomainMonitorRun(vm, virStratoVirtMonitorStop) < 0)
        goto endjob;
    if (virDomainObjGetState(vm, NULL) != VIR_DOMAIN_PAUSED) {
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_SUSPENDED,
                                                                   VIR_DOMAIN_EVENT_SUSPENDED_PAUSED));
    }
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        goto endjob;
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainResume(virDomainPtr dom)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainResumeEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;
    if (virDomainObjGetState(vm, NULL) != VIR_DOMAIN_PAUSED) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s", _("domain is not paused"));
        goto endjob;
    }
    if (stratovirtDomainMonitorRun(vm, virStratoVirtMonitorCont) < 0)
        goto endjob;
    if (virDomainObjGetState(vm, NULL) != VIR_DOMAIN_RUNNING) {
        virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_RESUMED,
                                                                   VIR_DOMAIN_EVENT_RESUMED_UNPAUSED));
    }
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        goto endjob;
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static char *
stratovirtDomainGetXMLDesc(virDomainPtr dom,
                           unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    virDomainObj *vm;
    char *ret = NULL;

    virCheckFlags(VIR_DOMAIN_XML_COMMON_FLAGS, NULL);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return NULL;
    if (virDomainGetXMLDescEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;

    ret = virDomainDefFormat((flags & VIR_DOMAIN_XML_INACTIVE) && vm->newDef ?
                             vm->newDef : vm->def,
                             driver->xmlopt,
                             virDomainDefFormatConvertXMLFlags(flags));
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static unsigned long long
stratovirtDomainCPUTime(virDomainObj *vm)
{
    unsigned long long cputime = 0;

    if (vm->pid > 0 &&
        virStratoVirtCompatProcessGetStatInfo(&cputime, NULL, NULL, vm->pid, 0) < 0) {
        virResetLastError();
        return 0;
    }
    return cputime;
}


static int
stratovirtDomainGetInfo(virDomainPtr dom,
                        virDomainInfoPtr info)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetInfoEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;

    info->state = virDomainObjGetState(vm, NULL);
    info->maxMem = virDomainDefGetMemoryTotal(vm->def);
    info->memory = vm->def->mem.cur_balloon;
    info->nrVirtCpu = virDomainDefGetVcpus(vm->def);
    info->cpuTime = virDomainObjIsActive(vm) ? stratovirtDomainCPUTime(vm) : 0;
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainGetState(virDomainPtr dom,
                         int *state,
                         int *reason,
                         unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetStateEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    *state = virDomainObjGetState(vm, reason);
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static char *
stratovirtDomainGetOSType(virDomainPtr dom)
{
    virDomainObj *vm;
    char *ret = NULL;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return NULL;
    if (virDomainGetOSTypeEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = g_strdup(virDomainOSTypeToString(vm->def->os.type));
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static unsigned long long
stratovirtDomainGetMaxMemory(virDomainPtr dom)
{
    virDomainObj *vm;
    unsigned long long ret = 0;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return 0;
    if (virDomainGetMaxMemoryEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = virDomainDefGetMemoryTotal(vm->def);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainGetVcpusFlags(virDomainPtr dom,
                              unsigned int flags)
{
    virDomainObj *vm;
    virDomainDef *def;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                  VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_GUEST, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetVcpusFlagsEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    if (flags & VIR_DOMAIN_VCPU_GUEST) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("the StratoVirt driver does not ask the guest agent for the vCPUs the guest uses (--guest)"));
        goto cleanup;
    }
    if (!(def = virDomainObjGetOneDef(vm, flags)))
        goto cleanup;
    ret = (flags & VIR_DOMAIN_VCPU_MAXIMUM) ? virDomainDefGetVcpusMax(def) :
                                              virDomainDefGetVcpus(def);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* vCPU threads from StratoVirt's query-cpus; their CPU time from /proc */
static int
stratovirtDomainGetVcpus(virDomainPtr dom,
                         virVcpuInfoPtr info,
                         int maxinfo,
                         unsigned char *cpumaps,
                         int maplen)
{
    virStratoVirtMonitor *mon;
    virDomainObj *vm;
    g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
    size_t ncpus = 0;
    int ret = -1;
    int rc;
    int i;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetVcpusEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_QUERY) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        goto endjob;
    rc = virStratoVirtMonitorQueryCpus(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                       &cpus, &ncpus);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc < 0)
        goto endjob;

    if (cpumaps)
        memset(cpumaps, 0, (size_t) maxinfo * maplen);
    for (i = 0; i < maxinfo && i < (int) ncpus; i++) {
        pid_t tid = cpus[i].tid;
        unsigned long long cputime = 0;
        int lastcpu = -1;

        info[i].number = i;
        info[i].state = VIR_VCPU_RUNNING;
        if (tid > 0 &&
            virStratoVirtCompatProcessGetStatInfo(&cputime, &lastcpu, NULL, vm->pid, tid) < 0)
            virResetLastError();
        info[i].cpuTime = cputime;
        info[i].cpu = lastcpu;
        if (cpumaps && tid > 0) {
            g_autoptr(virBitmap) map = virProcessGetAffinity(tid);

            if (map)
                virBitmapToDataBuf(map, VIR_GET_CPUMAP(cpumaps, maplen, i), maplen);
            else
                virResetLastError();
        }
    }
    ret = i;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainIsActive(virDomainPtr dom)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainIsActiveEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = virDomainObjIsActive(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainIsPersistent(virDomainPtr dom)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainIsPersistentEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = vm->persistent;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainIsUpdated(virDomainPtr dom)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainIsUpdatedEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = vm->updated;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainGetAutostart(virDomainPtr dom,
                             int *autostart)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetAutostartEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    *autostart = vm->autostart;
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSetAutostart(virDomainPtr dom,
                             int autostart)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autofree char *configFile = NULL;
    g_autofree char *autostartLink = NULL;
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainSetAutostartEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!vm->persistent) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("cannot set autostart for a transient domain; define it first"));
        goto cleanup;
    }
    autostart = !!autostart;
    if (vm->autostart != autostart) {
        configFile = virDomainConfigFile(cfg->configBaseDir, vm->def->name);
        autostartLink = virDomainConfigFile(cfg->autostartDir, vm->def->name);
        if (autostart) {
            if (g_mkdir_with_parents(cfg->autostartDir, 0755) < 0) {
                virReportSystemError(errno, _("cannot create autostart directory %1$s"),
                                     cfg->autostartDir);
                goto cleanup;
            }
            if (symlink(configFile, autostartLink) < 0) {
                virReportSystemError(errno, _("failed to create symlink '%1$s' to '%2$s'"),
                                     autostartLink, configFile);
                goto cleanup;
            }
        } else {
            if (unlink(autostartLink) < 0 && errno != ENOENT && errno != ENOTDIR) {
                virReportSystemError(errno, _("failed to delete symlink '%1$s'"),
                                     autostartLink);
                goto cleanup;
            }
        }
        vm->autostart = autostart;
    }
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainOpenConsole(virDomainPtr dom,
                            const char *dev_name,
                            virStreamPtr st,
                            unsigned int flags)
{
    virStratoVirtDomainObjPrivate *priv;
    virDomainObj *vm;
    virDomainChrDef *chr = NULL;
    size_t i;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_CONSOLE_SAFE | VIR_DOMAIN_CONSOLE_FORCE, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    priv = vm->privateData;
    if (virDomainOpenConsoleEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto cleanup;

    if (dev_name) {
        for (i = 0; !chr && i < vm->def->nconsoles; i++) {
            if (vm->def->consoles[i]->info.alias &&
                STREQ(vm->def->consoles[i]->info.alias, dev_name))
                chr = vm->def->consoles[i];
        }
        for (i = 0; !chr && i < vm->def->nserials; i++) {
            if (STREQ_NULLABLE(vm->def->serials[i]->info.alias, dev_name))
                chr = vm->def->serials[i];
        }
    } else if (vm->def->nconsoles) {
        chr = vm->def->consoles[0];
        if (chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL &&
            vm->def->nserials)
            chr = vm->def->serials[0];
    } else if (vm->def->nserials) {
        chr = vm->def->serials[0];
    }

    if (!chr) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("cannot find console device '%1$s'"),
                       NULLSTR(dev_name));
        goto cleanup;
    }
    if (chr->source->type != VIR_DOMAIN_CHR_TYPE_PTY || !chr->source->data.file.path) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("character device %1$s is not a pty StratoVirt reported"),
                       NULLSTR(chr->info.alias));
        goto cleanup;
    }

    ret = virChrdevOpen(priv->chrdevs, chr->source, st,
                        (flags & VIR_DOMAIN_CONSOLE_FORCE) != 0);
    if (ret == 1) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("another session holds the console; use --force to take it over"));
        ret = -1;
    }
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSetMemoryFlags(virDomainPtr dom,
                               unsigned long newmem,
                               unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virDomainDef *def = NULL;
    virDomainDef *persistentDef = NULL;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                  VIR_DOMAIN_MEM_MAXIMUM, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainSetMemoryFlagsEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjGetDefs(vm, flags, &def, &persistentDef) < 0)
        goto endjob;

    if (def && (flags & VIR_DOMAIN_MEM_MAXIMUM)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("StratoVirt cannot change the maximum memory of a running domain (no memory hot-plug); use setmaxmem --config and restart the domain"));
        goto endjob;
    }
    if (def) {
        if (!def->memballoon ||
            def->memballoon->model != VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO) {
            virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                           _("the domain has no virtio memballoon to change its memory with"));
            goto endjob;
        }
        if (newmem > virDomainDefGetMemoryTotal(def)) {
            virReportError(VIR_ERR_INVALID_ARG, "%s",
                           _("cannot set memory higher than the maximum memory"));
            goto endjob;
        }
    }
    /* the definition first: it is checked before the guest is touched */
    if (persistentDef &&
        virStratoVirtDomainSetMemoryConfig(driver, persistentDef, newmem,
                                           !!(flags & VIR_DOMAIN_MEM_MAXIMUM)) < 0)
        goto endjob;
    if (def) {
        /* a guest whose balloon driver is not up yet takes it later, as
         * with the QEMU driver */
        if (virStratoVirtBalloonSet(vm, newmem) < 0)
            goto endjob;
        if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
            goto endjob;
    }
    ret = 0;
 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSetVcpus(virDomainPtr dom,
                         unsigned int nvcpus)
{
    virDomainObj *vm;
    int rc;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    rc = virDomainSetVcpusEnsureACL(dom->conn, vm->def);
    virDomainObjEndAPI(&vm);
    if (rc < 0)
        return -1;
    return virStratoVirtDomainSetVcpusFlags(dom, nvcpus, VIR_DOMAIN_AFFECT_LIVE);
}


static int
stratovirtDomainPinVcpu(virDomainPtr dom,
                        unsigned int vcpu,
                        unsigned char *cpumap,
                        int maplen)
{
    virDomainObj *vm;
    int rc;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    rc = virDomainPinVcpuEnsureACL(dom->conn, vm->def);
    virDomainObjEndAPI(&vm);
    if (rc < 0)
        return -1;
    return virStratoVirtDomainPinVcpuFlags(dom, vcpu, cpumap, maplen,
                                           VIR_DOMAIN_AFFECT_LIVE);
}


static int
stratovirtDomainSetMaxMemory(virDomainPtr dom,
                             unsigned long memory)
{
    virDomainObj *vm;
    int rc;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    rc = virDomainSetMaxMemoryEnsureACL(dom->conn, vm->def);
    virDomainObjEndAPI(&vm);
    if (rc < 0)
        return -1;
    return stratovirtDomainSetMemoryFlags(dom, memory, VIR_DOMAIN_MEM_MAXIMUM);
}


static int
stratovirtDomainSetMemory(virDomainPtr dom,
                          unsigned long newmem)
{
    return stratovirtDomainSetMemoryFlags(dom, newmem, VIR_DOMAIN_AFFECT_LIVE);
}


static int
stratovirtDomainMemoryStats(virDomainPtr dom,
                            virDomainMemoryStatPtr stats,
                            unsigned int nr_stats,
                            unsigned int flags)
{
    virStratoVirtMonitor *mon;
    virDomainObj *vm;
    unsigned long long actual = 0;
    int ret = -1;
    int n = 0;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainMemoryStatsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_QUERY) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto endjob;

    actual = vm->def->mem.cur_balloon * 1024;
    if (vm->def->memballoon &&
        vm->def->memballoon->model == VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO) {
        int rc;

        if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
            goto endjob;
        rc = virStratoVirtMonitorQueryBalloon(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, &actual);
        virStratoVirtDomainObjExitMonitor(vm, mon);
        if (rc < 0)
            goto endjob;
    }
    if (n < nr_stats) {
        stats[n].tag = VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON;
        stats[n++].val = actual / 1024;
    }
    if (n < nr_stats && vm->pid > 0) {
        unsigned long long rss = 0;

        if (virStratoVirtCompatProcessGetStatInfo(NULL, NULL, &rss, vm->pid, 0) == 0) {
            stats[n].tag = VIR_DOMAIN_MEMORY_STAT_RSS;
            stats[n++].val = rss;
        } else {
            virResetLastError();
        }
    }
    ret = n;
 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static char *
stratovirtDomainGetMetadata(virDomainPtr dom,
                            int type,
                            const char *uri,
                            unsigned int flags)
{
    virDomainObj *vm;
    char *ret = NULL;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return NULL;
    if (virDomainGetMetadataEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    ret = virDomainObjGetMetadata(vm, type, uri, flags);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainSetMetadata(virDomainPtr dom,
                            int type,
                            const char *metadata,
                            const char *key,
                            const char *uri,
                            unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainSetMetadataEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    ret = virDomainObjSetMetadata(vm, type, metadata, key, uri, driver->xmlopt,
                                  cfg->stateDir, cfg->configBaseDir, flags);
    if (ret == 0)
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventMetadataChangeNewFromObj(vm, type, uri));
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtConnectDomainEventRegister(virConnectPtr conn,
                                     virConnectDomainEventCallback callback,
                                     void *opaque,
                                     virFreeCallback freecb)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectDomainEventRegisterEnsureACL(conn) < 0)
        return -1;
    if (virDomainEventStateRegister(conn, driver->domainEventState,
                                    callback, opaque, freecb) < 0)
        return -1;
    return 0;
}


static int
stratovirtConnectDomainEventDeregister(virConnectPtr conn,
                                       virConnectDomainEventCallback callback)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectDomainEventDeregisterEnsureACL(conn) < 0)
        return -1;
    if (virDomainEventStateDeregister(conn, driver->domainEventState, callback) < 0)
        return -1;
    return 0;
}


static int
stratovirtConnectDomainEventRegisterAny(virConnectPtr conn,
                                        virDomainPtr dom,
                                        int eventID,
                                        virConnectDomainEventGenericCallback callback,
                                        void *opaque,
                                        virFreeCallback freecb)
{
    virStratoVirtDriver *driver = conn->privateData;
    int ret = -1;

    if (virConnectDomainEventRegisterAnyEnsureACL(conn) < 0)
        return -1;
    if (virDomainEventStateRegisterID(conn, driver->domainEventState, dom, eventID,
                                      callback, opaque, freecb, &ret) < 0)
        ret = -1;
    return ret;
}


static int
stratovirtConnectDomainEventDeregisterAny(virConnectPtr conn,
                                          int callbackID)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (virConnectDomainEventDeregisterAnyEnsureACL(conn) < 0)
        return -1;
    if (virObjectEventStateDeregisterID(conn, driver->domainEventState,
                                        callbackID, true) < 0)
        return -1;
    return 0;
}


/* The (emulator, arch, machine, virttype) of the hypervisor-level calls
 * (domain capabilities, compareHypervisorCPU, baselineHypervisorCPU),
 * each optional: this host's StratoVirt, its architecture (the one KVM
 * runs), a machine it has, kvm.  Sets @arch and @machine. */
static int
stratovirtResolveHypervisorTarget(virStratoVirtDriverConfig *cfg,
                                  const char *emulatorbin,
                                  const char *arch_str,
                                  const char **machine,
                                  const char *virttype_str,
                                  virArch *arch)
{
    *arch = virArchFromHost();

    if (arch_str && (*arch = virArchFromString(arch_str)) == VIR_ARCH_NONE) {
        virReportError(VIR_ERR_INVALID_ARG, _("unknown architecture: %1$s"), arch_str);
        return -1;
    }
    if (*arch != VIR_ARCH_X86_64 && *arch != VIR_ARCH_AARCH64) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt does not support architecture '%1$s'"),
                       virArchToString(*arch));
        return -1;
    }
    if (*arch != virArchFromHost()) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt runs guests with KVM, which on this %1$s host runs %2$s guests only, not %3$s"),
                       virArchToString(virArchFromHost()),
                       virArchToString(virArchFromHost()), virArchToString(*arch));
        return -1;
    }
    if (virttype_str && virDomainVirtTypeFromString(virttype_str) != VIR_DOMAIN_VIRT_KVM) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt supports virttype 'kvm' only, not '%1$s'"), virttype_str);
        return -1;
    }
    if (emulatorbin && STRNEQ(emulatorbin, cfg->emulator)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unknown emulator '%1$s'; this host's StratoVirt is '%2$s'"),
                       emulatorbin, cfg->emulator);
        return -1;
    }
    if (!*machine)
        *machine = *arch == VIR_ARCH_X86_64 ? "q35" : "virt";
    if (STRNEQ(*machine, "microvm") &&
        STRNEQ(*machine, *arch == VIR_ARCH_X86_64 ? "q35" : "virt")) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("machine '%1$s' does not exist for %2$s in StratoVirt"),
                       *machine, virArchToString(*arch));
        return -1;
    }
    return 0;
}


static char *
stratovirtConnectGetDomainCapabilities(virConnectPtr conn,
                                       const char *emulatorbin,
                                       const char *arch_str,
                                       const char *machine,
                                       const char *virttype_str,
                                       unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virDomainCaps) caps = NULL;
    g_autoptr(virStratoVirtCaps) svcaps = NULL;
    virArch arch;

    virCheckFlags(0, NULL);

    if (virConnectGetDomainCapabilitiesEnsureACL(conn) < 0)
        return NULL;

    if (stratovirtResolveHypervisorTarget(cfg, emulatorbin, arch_str, &machine,
                                          virttype_str, &arch) < 0)
        return NULL;

    if (!(svcaps = virStratoVirtGetCaps(driver, cfg->emulator)))
        return NULL;
    if (!(caps = virStratoVirtDomainCapsBuild(cfg, svcaps, arch, machine)))
        return NULL;
    return virDomainCapsFormat(caps);
}


/* ---------------------------------------------------------------------
 * CPU models, through libvirt's CPU driver (src/cpu in libvirt.so).
 *
 * StratoVirt's -cpu takes no named model: a guest runs the host's CPU
 * (-cpu host; <cpu mode='host-passthrough'>, host-model and maximum map
 * to it).  So the models a guest can be given are none, and the CPU the
 * hypervisor offers is the host's own, which the comparisons use.
 */

static int
stratovirtConnectGetCPUModelNames(virConnectPtr conn,
                                  const char *archName,
                                  char ***models,
                                  unsigned int flags)
{
    virArch arch;
    g_auto(GStrv) known = NULL;

    virCheckFlags(0, -1);

    if (virConnectGetCPUModelNamesEnsureACL(conn) < 0)
        return -1;

    if (!(arch = virArchFromString(archName))) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("cannot find architecture %1$s"), archName);
        return -1;
    }
    /* an architecture libvirt's CPU driver does not know is an error */
    if (virCPUGetModels(arch, &known) < 0)
        return -1;
    if (models)
        *models = g_new0(char *, 1);
    return 0;
}


static virCPUDef *
stratovirtHostCPU(virStratoVirtDriver *driver,
                  bool failIncompatible)
{
    virCPUDef *cpu = driver->caps->host.cpu;

    if (cpu && cpu->model)
        return cpu;
    if (failIncompatible)
        virReportError(VIR_ERR_CPU_INCOMPATIBLE, "%s",
                       _("cannot get the host CPU's model from libvirt's CPU driver"));
    else
        VIR_WARN("cannot get the host CPU's model from libvirt's CPU driver");
    return NULL;
}


static int
stratovirtConnectCompareCPU(virConnectPtr conn,
                            const char *xmlDesc,
                            unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    bool failIncompatible = !!(flags & VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE);
    virCPUDef *host;

    virCheckFlags(VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE |
                  VIR_CONNECT_COMPARE_CPU_VALIDATE_XML,
                  VIR_CPU_COMPARE_ERROR);

    if (virConnectCompareCPUEnsureACL(conn) < 0)
        return VIR_CPU_COMPARE_ERROR;

    if (!(host = stratovirtHostCPU(driver, failIncompatible)))
        return failIncompatible ? VIR_CPU_COMPARE_ERROR : VIR_CPU_COMPARE_INCOMPATIBLE;

    return virCPUCompareXML(driver->caps->host.arch, host, xmlDesc, failIncompatible,
                            !!(flags & VIR_CONNECT_COMPARE_CPU_VALIDATE_XML));
}


static int
stratovirtConnectCompareHypervisorCPU(virConnectPtr conn,
                                      const char *emulator,
                                      const char *archStr,
                                      const char *machine,
                                      const char *virttypeStr,
                                      const char *xmlCPU,
                                      unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    bool failIncompatible = !!(flags & VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE);
    virCPUDef *host;
    virArch arch;

    virCheckFlags(VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE |
                  VIR_CONNECT_COMPARE_CPU_VALIDATE_XML,
                  VIR_CPU_COMPARE_ERROR);

    if (virConnectCompareHypervisorCPUEnsureACL(conn) < 0)
        return VIR_CPU_COMPARE_ERROR;

    if (stratovirtResolveHypervisorTarget(cfg, emulator, archStr, &machine,
                                          virttypeStr, &arch) < 0)
        return VIR_CPU_COMPARE_ERROR;

    /* what StratoVirt offers a guest is the host's CPU (-cpu host) */
    if (!(host = stratovirtHostCPU(driver, failIncompatible)))
        return failIncompatible ? VIR_CPU_COMPARE_ERROR : VIR_CPU_COMPARE_INCOMPATIBLE;

    return virCPUCompareXML(arch, host, xmlCPU, failIncompatible,
                            !!(flags & VIR_CONNECT_COMPARE_CPU_VALIDATE_XML));
}


static char *
stratovirtConnectBaselineCPU(virConnectPtr conn,
                             const char **xmlCPUs,
                             unsigned int ncpus,
                             unsigned int flags)
{
    g_autoptr(virCPUDef) cpu = NULL;
    virCPUDef **cpus = NULL;
    char *ret = NULL;

    virCheckFlags(VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES |
                  VIR_CONNECT_BASELINE_CPU_MIGRATABLE, NULL);

    if (virConnectBaselineCPUEnsureACL(conn) < 0)
        return NULL;

    if (!(cpus = virCPUDefListParse(xmlCPUs, ncpus, VIR_CPU_TYPE_HOST)))
        return NULL;

    if ((cpu = virCPUBaseline(VIR_ARCH_NONE, cpus, ncpus, NULL, NULL,
                              !!(flags & VIR_CONNECT_BASELINE_CPU_MIGRATABLE))) &&
        (!(flags & VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES) ||
         virCPUExpandFeatures(cpus[0]->arch, cpu) == 0))
        ret = virCPUDefFormat(cpu, NULL);

    virCPUDefListFree(cpus);
    return ret;
}


static char *
stratovirtConnectBaselineHypervisorCPU(virConnectPtr conn,
                                       const char *emulator,
                                       const char *archStr,
                                       const char *machine,
                                       const char *virttypeStr,
                                       const char **xmlCPUs,
                                       unsigned int ncpus,
                                       unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virArch arch;

    virCheckFlags(VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES |
                  VIR_CONNECT_BASELINE_CPU_MIGRATABLE, NULL);

    if (virConnectBaselineHypervisorCPUEnsureACL(conn) < 0)
        return NULL;

    if (stratovirtResolveHypervisorTarget(cfg, emulator, archStr, &machine,
                                          virttypeStr, &arch) < 0)
        return NULL;
    if (!xmlCPUs || ncpus == 0) {
        virReportError(VIR_ERR_INVALID_ARG, "%s", _("no CPUs given to baseline"));
        return NULL;
    }

    /* a baseline is a CPU model with features, which a StratoVirt guest
     * cannot be given */
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                   _("StratoVirt has no CPU models (its -cpu takes only 'host'), so no baseline of %1$u CPUs can run on it; give guests <cpu mode='host-passthrough'/> (Nova: [libvirt] cpu_mode = host-passthrough), and compare CPUs with virsh cpu-baseline"),
                   ncpus);
    return NULL;
}


/* ---------------------------------------------------------------------
 * Network interfaces: counters and addresses (stratovirt_interface.c)
 */

static int
stratovirtDomainInterfaceStats(virDomainPtr dom,
                               const char *device,
                               virDomainInterfaceStatsPtr stats)
{
    virDomainObj *vm;
    virDomainNetDef *net;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainInterfaceStatsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto cleanup;
    if (!(net = virDomainNetFind(vm->def, device)))
        goto cleanup;
    ret = virStratoVirtInterfaceGetStats(net, stats);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainInterfaceAddresses(virDomainPtr dom,
                                   virDomainInterfacePtr **ifaces,
                                   unsigned int source,
                                   unsigned int flags)
{
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainInterfaceAddressesEnsureACL(dom->conn, vm->def, source) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto cleanup;
    ret = virStratoVirtInterfaceAddresses(vm, source, ifaces);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* What virsh domif-setlink and a changed <bandwidth> send: the interface
 * as it is, with only those two changed.  Anything else that differs
 * cannot be changed on a running StratoVirt. */
static int
stratovirtDomainNetCheckChange(const virDomainNetDef *olddev,
                               const virDomainNetDef *newdev)
{
    const char *what = NULL;

    if (olddev->type != newdev->type)
        what = "type";
    else if (olddev->model != newdev->model)
        what = "model";
    else if (olddev->type == VIR_DOMAIN_NET_TYPE_NETWORK &&
             STRNEQ_NULLABLE(olddev->data.network.name, newdev->data.network.name))
        what = "source network";
    else if (olddev->type == VIR_DOMAIN_NET_TYPE_BRIDGE &&
             STRNEQ_NULLABLE(olddev->data.bridge.brname, newdev->data.bridge.brname))
        what = "source bridge";
    else if (newdev->ifname && STRNEQ_NULLABLE(olddev->ifname, newdev->ifname))
        what = "target dev";
    else if (newdev->mtu && olddev->mtu != newdev->mtu)
        what = "mtu";
    else if (STRNEQ_NULLABLE(olddev->filter, newdev->filter))
        what = "filterref";
    else if (!virNetDevVlanEqual(&olddev->vlan, &newdev->vlan))
        what = "vlan";
    else if (olddev->driver.virtio.queues != newdev->driver.virtio.queues)
        what = "driver queues";
    else if (!virNetDevVPortProfileEqual(olddev->virtPortProfile, newdev->virtPortProfile))
        what = "virtualport";
    else if (olddev->type == VIR_DOMAIN_NET_TYPE_NETWORK &&
             STRNEQ_NULLABLE(olddev->data.network.portgroup, newdev->data.network.portgroup))
        what = "portgroup";
    else if (olddev->type == VIR_DOMAIN_NET_TYPE_DIRECT &&
             (STRNEQ_NULLABLE(olddev->data.direct.linkdev, newdev->data.direct.linkdev) ||
              olddev->data.direct.mode != newdev->data.direct.mode))
        what = "source dev or mode";
    else if (olddev->isolatedPort != newdev->isolatedPort)
        what = "port isolated";
    else if (olddev->trustGuestRxFilters != newdev->trustGuestRxFilters)
        what = "trustGuestRxFilters";

    if (what) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("the interface's %1$s cannot be changed while StratoVirt runs; only <link state> and <bandwidth> can (change the rest with --config and restart)"),
                       what);
        return -1;
    }
    return 0;
}


static int
stratovirtDomainUpdateInterface(virDomainPtr dom,
                                const char *xml,
                                unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virDomainDeviceDef) dev = NULL;
    virDomainDef *liveDef = NULL;
    virDomainDef *persistentDef = NULL;
    virDomainObj *vm;
    virDomainNetDef *newdev;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                  VIR_DOMAIN_DEVICE_MODIFY_FORCE, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainUpdateDeviceFlagsEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjGetDefs(vm, flags, &liveDef, &persistentDef) < 0)
        goto endjob;
    if (!(dev = virDomainDeviceDefParse(xml, vm->def, driver->xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_INACTIVE)))
        goto endjob;
    if (dev->type != VIR_DOMAIN_DEVICE_NET) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("updating <%1$s> devices is not supported by the StratoVirt driver; of interfaces, link state and bandwidth can be changed"),
                       virDomainDeviceTypeToString(dev->type));
        goto endjob;
    }
    newdev = dev->data.net;

    if (liveDef) {
        int idx = virDomainNetFindIdx(liveDef, newdev);
        virDomainNetDef *olddev;

        if (idx < 0)
            goto endjob;
        olddev = liveDef->nets[idx];
        if (stratovirtDomainNetCheckChange(olddev, newdev) < 0)
            goto endjob;
        if (!virNetDevBandwidthEqual(olddev->bandwidth, newdev->bandwidth)) {
            if (virStratoVirtInterfaceSetBandwidth(liveDef, olddev, newdev->bandwidth) < 0)
                goto endjob;
            virNetDevBandwidthFree(olddev->bandwidth);
            olddev->bandwidth = g_steal_pointer(&newdev->bandwidth);
        }
        if (olddev->linkstate != newdev->linkstate) {
            if (virStratoVirtInterfaceSetLink(olddev, newdev->linkstate) < 0)
                goto endjob;
            olddev->linkstate = newdev->linkstate;
        }
        if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
            goto endjob;
    }

    if (persistentDef) {
        g_autoptr(virDomainDeviceDef) devConf = NULL;
        virDomainNetDef *olddev;
        int idx;

        if (!(devConf = virDomainDeviceDefParse(xml, persistentDef, driver->xmlopt, NULL,
                                                VIR_DOMAIN_DEF_PARSE_INACTIVE)))
            goto endjob;
        if ((idx = virDomainNetFindIdx(persistentDef, devConf->data.net)) < 0)
            goto endjob;
        olddev = persistentDef->nets[idx];
        /* the definition takes the whole new interface, keeping its address */
        if (devConf->data.net->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE &&
            !devConf->data.net->info.alias) {
            devConf->data.net->info = olddev->info;
            memset(&olddev->info, 0, sizeof(olddev->info));
        }
        persistentDef->nets[idx] = g_steal_pointer(&devConf->data.net);
        virDomainNetDefFree(olddev);
        if (virDomainDefSave(persistentDef, driver->xmlopt, cfg->configBaseDir) < 0)
            goto endjob;
    }
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


#define STRATOVIRT_NB_BANDWIDTH_PARAM 7

static int
stratovirtDomainSetInterfaceParameters(virDomainPtr dom,
                                       const char *device,
                                       virTypedParameterPtr params,
                                       int nparams,
                                       unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virDomainDef *liveDef = NULL;
    virDomainDef *persistentDef = NULL;
    virDomainObj *vm;
    int ret = -1;
    size_t i;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);
    if (virTypedParamsValidate(params, nparams,
                               VIR_DOMAIN_BANDWIDTH_IN_AVERAGE, VIR_TYPED_PARAM_UINT,
                               VIR_DOMAIN_BANDWIDTH_IN_PEAK, VIR_TYPED_PARAM_UINT,
                               VIR_DOMAIN_BANDWIDTH_IN_BURST, VIR_TYPED_PARAM_UINT,
                               VIR_DOMAIN_BANDWIDTH_IN_FLOOR, VIR_TYPED_PARAM_UINT,
                               VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE, VIR_TYPED_PARAM_UINT,
                               VIR_DOMAIN_BANDWIDTH_OUT_PEAK, VIR_TYPED_PARAM_UINT,
                               VIR_DOMAIN_BANDWIDTH_OUT_BURST, VIR_TYPED_PARAM_UINT,
                               NULL) < 0)
        return -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainSetInterfaceParametersEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjGetDefs(vm, flags, &liveDef, &persistentDef) < 0)
        goto endjob;

    for (i = 0; i < 2; i++) {
        virDomainDef *def = i == 0 ? liveDef : persistentDef;
        g_autoptr(virNetDevBandwidth) bw = NULL;
        virDomainNetDef *net;
        size_t j;

        if (!def)
            continue;
        if (!(net = virDomainNetFind(def, device)))
            goto endjob;
        bw = g_new0(virNetDevBandwidth, 1);
        if (net->bandwidth && virNetDevBandwidthCopy(&bw, net->bandwidth) < 0)
            goto endjob;
        if (!bw->in)
            bw->in = g_new0(virNetDevBandwidthRate, 1);
        if (!bw->out)
            bw->out = g_new0(virNetDevBandwidthRate, 1);
        for (j = 0; j < nparams; j++) {
            virTypedParameterPtr p = &params[j];

            if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_IN_AVERAGE))
                bw->in->average = p->value.ui;
            else if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_IN_PEAK))
                bw->in->peak = p->value.ui;
            else if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_IN_BURST))
                bw->in->burst = p->value.ui;
            else if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_IN_FLOOR))
                bw->in->floor = p->value.ui;
            else if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE))
                bw->out->average = p->value.ui;
            else if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_OUT_PEAK))
                bw->out->peak = p->value.ui;
            else if (STREQ(p->field, VIR_DOMAIN_BANDWIDTH_OUT_BURST))
                bw->out->burst = p->value.ui;
        }
        if (bw->in->floor) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                           _("an inbound floor is reserved through a network's QoS; the StratoVirt driver does not change it on a running domain"));
            goto endjob;
        }
        /* an average of 0 removes that direction's limit */
        if (!bw->in->average)
            g_clear_pointer(&bw->in, g_free);
        if (!bw->out->average)
            g_clear_pointer(&bw->out, g_free);
        if (!bw->in && !bw->out)
            g_clear_pointer(&bw, virNetDevBandwidthFree);

        if (def == liveDef &&
            virStratoVirtInterfaceSetBandwidth(def, net, bw) < 0)
            goto endjob;
        virNetDevBandwidthFree(net->bandwidth);
        net->bandwidth = g_steal_pointer(&bw);
    }
    if (liveDef && virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        goto endjob;
    if (persistentDef && virDomainDefSave(persistentDef, driver->xmlopt, cfg->configBaseDir) < 0)
        goto endjob;
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainGetInterfaceParameters(virDomainPtr dom,
                                       const char *device,
                                       virTypedParameterPtr params,
                                       int *nparams,
                                       unsigned int flags)
{
    virDomainObj *vm;
    virDomainDef *def;
    virDomainNetDef *net;
    int ret = -1;
    size_t i;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                  VIR_TYPED_PARAM_STRING_OKAY, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetInterfaceParametersEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!(def = virDomainObjGetOneDef(vm, flags)))
        goto cleanup;
    if (*nparams == 0) {
        *nparams = STRATOVIRT_NB_BANDWIDTH_PARAM;
        ret = 0;
        goto cleanup;
    }
    if (!(net = virDomainNetFind(def, device)))
        goto cleanup;

    for (i = 0; i < *nparams && i < STRATOVIRT_NB_BANDWIDTH_PARAM; i++) {
        static const char *const fields[] = {
            VIR_DOMAIN_BANDWIDTH_IN_AVERAGE, VIR_DOMAIN_BANDWIDTH_IN_PEAK,
            VIR_DOMAIN_BANDWIDTH_IN_BURST, VIR_DOMAIN_BANDWIDTH_IN_FLOOR,
            VIR_DOMAIN_BANDWIDTH_OUT_AVERAGE, VIR_DOMAIN_BANDWIDTH_OUT_PEAK,
            VIR_DOMAIN_BANDWIDTH_OUT_BURST,
        };
        const virNetDevBandwidthRate *r = NULL;
        unsigned int v = 0;

        if (net->bandwidth)
            r = i < 4 ? net->bandwidth->in : net->bandwidth->out;
        if (r) {
            switch (i) {
            case 0: case 4: v = r->average; break;
            case 1: case 5: v = r->peak; break;
            case 2: case 6: v = r->burst; break;
            case 3: v = r->floor; break;
            }
        }
        if (virTypedParameterAssign(&params[i], fields[i], VIR_TYPED_PARAM_UINT, v) < 0)
            goto cleanup;
    }
    if (*nparams > STRATOVIRT_NB_BANDWIDTH_PARAM)
        *nparams = STRATOVIRT_NB_BANDWIDTH_PARAM;
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* ---------------------------------------------------------------------
 * Device attach, detach and update: live (disks, interfaces, PCI host
 * devices) and in the persistent definition (every device type the driver
 * supports); one dispatch for all of them
 */

typedef enum {
    STRATOVIRT_DEVICE_ATTACH,
    STRATOVIRT_DEVICE_DETACH,
    STRATOVIRT_DEVICE_UPDATE,
} stratovirtDeviceOp;


static int
stratovirtDomainDeviceLive(virStratoVirtDriver *driver,
                           virDomainObj *vm,
                           virDomainDeviceDef *dev,
                           stratovirtDeviceOp op)
{
    const char *type = virDomainDeviceTypeToString(dev->type);

    if (op == STRATOVIRT_DEVICE_UPDATE) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt cannot change a <%1$s> of a running domain (it has no media change or live tuning over QMP); update the definition with --config and restart the domain"),
                       type);
        return -1;
    }

    switch (dev->type) {
    case VIR_DOMAIN_DEVICE_DISK:
        if (op == STRATOVIRT_DEVICE_ATTACH) {
            if (virStratoVirtHotplugAttachDisk(driver, vm, dev->data.disk) < 0)
                return -1;
            dev->data.disk = NULL;
            return 0;
        } else {
            virDomainDiskDef *disk = virDomainDiskByName(vm->def, dev->data.disk->dst, false);

            if (!disk) {
                virReportError(VIR_ERR_DEVICE_MISSING,
                               _("the running domain has no disk with target '%1$s'"),
                               dev->data.disk->dst);
                return -1;
            }
            return virStratoVirtHotplugDetachDisk(driver, vm, disk,
                                                  VIR_STRATOVIRT_UNPLUG_WAIT);
        }

    case VIR_DOMAIN_DEVICE_NET:
        if (op == STRATOVIRT_DEVICE_ATTACH) {
            if (virStratoVirtInterfaceAttachLive(driver, vm, dev->data.net) < 0)
                return -1;
            dev->data.net = NULL;
            return 0;
        } else {
            int idx = virDomainNetFindIdx(vm->def, dev->data.net);

            if (idx < 0)
                return -1;
            return virStratoVirtInterfaceDetachLive(driver, vm, idx, 10000);
        }

    case VIR_DOMAIN_DEVICE_HOSTDEV:
        if (op == STRATOVIRT_DEVICE_ATTACH) {
            if (virStratoVirtHostdevAttachLive(driver, vm, dev->data.hostdev) < 0)
                return -1;
            dev->data.hostdev = NULL;
            return 0;
        } else {
            virDomainHostdevDef *found = NULL;
            int idx = virDomainHostdevFind(vm->def, dev->data.hostdev, &found);

            if (idx < 0) {
                virReportError(VIR_ERR_DEVICE_MISSING, "%s",
                               _("the domain has no such host device"));
                return -1;
            }
            return virStratoVirtHostdevDetachLive(driver, vm, idx, 10000);
        }

    default:
        break;
    }

    if (op == STRATOVIRT_DEVICE_ATTACH)
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt cannot hot-plug <%1$s> devices (only disks, interfaces and PCI host devices go into a running domain); attach it with --config and restart the domain"),
                       type);
    else
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt cannot unplug <%1$s> devices from a running domain; detach it with --config and restart the domain"),
                       type);
    return -1;
}


static int
stratovirtDomainChangeDevice(virDomainPtr dom,
                             const char *xml,
                             unsigned int flags,
                             stratovirtDeviceOp op)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virDomainDeviceDef) devConf = NULL;
    g_autoptr(virDomainDeviceDef) devLive = NULL;
    g_autoptr(virDomainDef) vmdef = NULL;
    unsigned int parseFlags = VIR_DOMAIN_DEF_PARSE_INACTIVE;
    virDomainObj *vm;
    int acl;
    int ret = -1;

    if (op == STRATOVIRT_DEVICE_UPDATE)
        virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                      VIR_DOMAIN_DEVICE_MODIFY_FORCE, -1);
    else
        virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);
    /* what to detach is matched, not checked (as libvirt's own drivers do) */
    if (op == STRATOVIRT_DEVICE_DETACH)
        parseFlags |= VIR_DOMAIN_DEF_PARSE_SKIP_VALIDATE;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    switch (op) {
    case STRATOVIRT_DEVICE_ATTACH:
        acl = virDomainAttachDeviceFlagsEnsureACL(dom->conn, vm->def, flags);
        break;
    case STRATOVIRT_DEVICE_DETACH:
        acl = virDomainDetachDeviceFlagsEnsureACL(dom->conn, vm->def, flags);
        break;
    case STRATOVIRT_DEVICE_UPDATE:
    default:
        acl = virDomainUpdateDeviceFlagsEnsureACL(dom->conn, vm->def, flags);
        break;
    }
    if (acl < 0)
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjUpdateModificationImpact(vm, &flags) < 0)
        goto endjob;

    if (flags & VIR_DOMAIN_AFFECT_CONFIG) {
        if (!(vmdef = virDomainObjCopyPersistentDef(vm, driver->xmlopt, NULL)))
            goto endjob;
        if (!(devConf = virDomainDeviceDefParse(xml, vmdef, driver->xmlopt, NULL,
                                                parseFlags)))
            goto endjob;
    }
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) &&
        !(devLive = virDomainDeviceDefParse(xml, vm->def, driver->xmlopt, NULL,
                                            parseFlags)))
        goto endjob;

    /* the new definition is checked as a whole before anything changes */
    if (devConf) {
        int rc;

        switch (op) {
        case STRATOVIRT_DEVICE_ATTACH:
            rc = virStratoVirtConfigAttachDevice(vmdef, devConf);
            break;
        case STRATOVIRT_DEVICE_DETACH:
            rc = virStratoVirtConfigDetachDevice(vmdef, devConf);
            break;
        case STRATOVIRT_DEVICE_UPDATE:
        default:
            rc = virStratoVirtConfigUpdateDevice(vmdef, devConf);
            break;
        }
        if (rc < 0 || virStratoVirtConfigCheck(vmdef, driver->xmlopt) < 0)
            goto endjob;
    }

    /* then the running domain: if StratoVirt refuses, the config stays */
    if (devLive) {
        if (stratovirtDomainDeviceLive(driver, vm, devLive, op) < 0)
            goto endjob;
        if (virDomainObjIsActive(vm) &&
            virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
            goto endjob;
    }

    if (vmdef) {
        if (virDomainDefSave(vmdef, driver->xmlopt, cfg->configBaseDir) < 0)
            goto endjob;
        virDomainObjAssignDef(vm, &vmdef, false, NULL);
    }
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


static int
stratovirtDomainAttachDeviceFlags(virDomainPtr dom,
                                  const char *xml,
                                  unsigned int flags)
{
    return stratovirtDomainChangeDevice(dom, xml, flags, STRATOVIRT_DEVICE_ATTACH);
}


static int
stratovirtDomainAttachDevice(virDomainPtr dom,
                             const char *xml)
{
    return stratovirtDomainChangeDevice(dom, xml, VIR_DOMAIN_AFFECT_LIVE,
                                        STRATOVIRT_DEVICE_ATTACH);
}


static int
stratovirtDomainDetachDeviceFlags(virDomainPtr dom,
                                  const char *xml,
                                  unsigned int flags)
{
    return stratovirtDomainChangeDevice(dom, xml, flags, STRATOVIRT_DEVICE_DETACH);
}


static int
stratovirtDomainDetachDevice(virDomainPtr dom,
                             const char *xml)
{
    return stratovirtDomainChangeDevice(dom, xml, VIR_DOMAIN_AFFECT_LIVE,
                                        STRATOVIRT_DEVICE_DETACH);
}


static int
stratovirtDomainUpdateDeviceFlags(virDomainPtr dom,
                                  const char *xml,
                                  unsigned int flags)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;

    /* interfaces can change live (link state, bandwidth) */
    if (!(doc = virXMLParse(NULL, xml, _("(device_definition)"), NULL, &ctxt, NULL, false)))
        return -1;
    if (virXMLNodeNameEqual(ctxt->node, "interface"))
        return stratovirtDomainUpdateInterface(dom, xml, flags);
    return stratovirtDomainChangeDevice(dom, xml, flags, STRATOVIRT_DEVICE_UPDATE);
}


/* ---------------------------------------------------------------------
 * Node devices: detach, reattach and reset go through the hypervisor
 * connection (libvirt routes these RPCs to it), and through the same
 * virHostdevManager the domains use.
 */

static int
stratovirtNodeDeviceCheckManager(virConnectPtr conn)
{
    virStratoVirtDriver *driver = conn->privateData;

    if (!driver->hostdevMgr) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("node devices can be detached only through the system instance (stratovirt:///system) as root"));
        return -1;
    }
    return 0;
}


static int
stratovirtNodeDeviceDetachFlags(virNodeDevicePtr dev,
                                const char *driverName,
                                unsigned int flags)
{
    virStratoVirtDriver *driver = dev->conn->privateData;

    virCheckFlags(0, -1);

    if (stratovirtNodeDeviceCheckManager(dev->conn) < 0)
        return -1;
    /* StratoVirt passes devices with VFIO only */
    if (driverName && STRNEQ(driverName, "vfio")) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("unknown driver name '%1$s': StratoVirt uses vfio"), driverName);
        return -1;
    }
    return virStratoVirtCompatNodeDeviceDetachVFIO(dev, driver->hostdevMgr);
}


static int
stratovirtNodeDeviceDettach(virNodeDevicePtr dev)
{
    return stratovirtNodeDeviceDetachFlags(dev, NULL, 0);
}


static int
stratovirtNodeDeviceReAttach(virNodeDevicePtr dev)
{
    virStratoVirtDriver *driver = dev->conn->privateData;

    if (stratovirtNodeDeviceCheckManager(dev->conn) < 0)
        return -1;
    return virDomainDriverNodeDeviceReAttach(dev, driver->hostdevMgr);
}


static int
stratovirtNodeDeviceReset(virNodeDevicePtr dev)
{
    virStratoVirtDriver *driver = dev->conn->privateData;

    if (stratovirtNodeDeviceCheckManager(dev->conn) < 0)
        return -1;
    return virDomainDriverNodeDeviceReset(dev, driver->hostdevMgr);
}


static virHypervisorDriver stratovirtHypervisorDriver = {
    .name = STRATOVIRT_DRIVER_NAME,
    .connectGetAllDomainStats = virStratoVirtConnectGetAllDomainStats,
    .domainGetCPUStats = virStratoVirtDomainGetCPUStats,
    .domainGetBlockInfo = virStratoVirtDomainGetBlockInfo,
    .domainBlockPeek = virStratoVirtDomainBlockPeek,
    .domainBlockStats = virStratoVirtDomainBlockStats,
    .domainInterfaceStats = stratovirtDomainInterfaceStats,
    .domainInterfaceAddresses = stratovirtDomainInterfaceAddresses,
    .domainSetUserPassword = virStratoVirtDomainSetUserPassword,
    .domainFSFreeze = virStratoVirtDomainFSFreeze,
    .domainFSThaw = virStratoVirtDomainFSThaw,
    .domainGetFSInfo = virStratoVirtDomainGetFSInfo,
    .domainGetTime = virStratoVirtDomainGetTime,
    .domainSetTime = virStratoVirtDomainSetTime,
    .domainGetHostname = virStratoVirtDomainGetHostnameAgent,
    .domainGetGuestInfo = virStratoVirtDomainGetGuestInfo,
    .domainAgentSetResponseTimeout = virStratoVirtDomainAgentSetResponseTimeout,
    .domainUpdateDeviceFlags = stratovirtDomainUpdateDeviceFlags,
    .domainSetInterfaceParameters = stratovirtDomainSetInterfaceParameters,
    .domainGetInterfaceParameters = stratovirtDomainGetInterfaceParameters,
    .connectOpen = stratovirtConnectOpen,
    .connectClose = stratovirtConnectClose,
    .connectGetType = stratovirtConnectGetType,
    .connectGetVersion = stratovirtConnectGetVersion,
    .connectGetHostname = stratovirtConnectGetHostname,
    .connectIsSecure = stratovirtConnectIsSecure,
    .connectIsEncrypted = stratovirtConnectIsEncrypted,
    .connectIsAlive = stratovirtConnectIsAlive,
    .connectSupportsFeature = stratovirtConnectSupportsFeature,
    .connectGetCapabilities = stratovirtConnectGetCapabilities,
    .nodeGetInfo = stratovirtNodeGetInfo,
    .nodeGetCPUStats = stratovirtNodeGetCPUStats,
    .nodeGetMemoryStats = stratovirtNodeGetMemoryStats,
    .nodeGetCPUMap = stratovirtNodeGetCPUMap,
    .nodeGetCellsFreeMemory = stratovirtNodeGetCellsFreeMemory,
    .nodeGetFreeMemory = stratovirtNodeGetFreeMemory,
    .connectNumOfDomains = stratovirtConnectNumOfDomains,
    .connectListDomains = stratovirtConnectListDomains,
    .connectNumOfDefinedDomains = stratovirtConnectNumOfDefinedDomains,
    .connectListDefinedDomains = stratovirtConnectListDefinedDomains,
    .connectListAllDomains = stratovirtConnectListAllDomains,
    .connectGetDomainCapabilities = stratovirtConnectGetDomainCapabilities,
    .connectGetCPUModelNames = stratovirtConnectGetCPUModelNames,
    .connectCompareCPU = stratovirtConnectCompareCPU,
    .connectCompareHypervisorCPU = stratovirtConnectCompareHypervisorCPU,
    .connectBaselineCPU = stratovirtConnectBaselineCPU,
    .connectBaselineHypervisorCPU = stratovirtConnectBaselineHypervisorCPU,
    .connectDomainEventRegister = stratovirtConnectDomainEventRegister,
    .connectDomainEventDeregister = stratovirtConnectDomainEventDeregister,
    .connectDomainEventRegisterAny = stratovirtConnectDomainEventRegisterAny,
    .connectDomainEventDeregisterAny = stratovirtConnectDomainEventDeregisterAny,
    .domainLookupByID = stratovirtDomainLookupByID,
    .domainLookupByUUID = stratovirtDomainLookupByUUID,
    .domainLookupByName = stratovirtDomainLookupByName,
    .domainCreateXML = stratovirtDomainCreateXML,
    .domainDefineXML = stratovirtDomainDefineXML,
    .domainDefineXMLFlags = stratovirtDomainDefineXMLFlags,
    .domainUndefine = stratovirtDomainUndefine,
    .domainUndefineFlags = stratovirtDomainUndefineFlags,
    .domainCreate = stratovirtDomainCreate,
    .domainCreateWithFlags = stratovirtDomainCreateWithFlags,
    .domainDestroy = stratovirtDomainDestroy,
    .domainDestroyFlags = stratovirtDomainDestroyFlags,
    .domainShutdown = stratovirtDomainShutdown,
    .domainShutdownFlags = stratovirtDomainShutdownFlags,
    .domainReboot = stratovirtDomainReboot,
    .domainReset = stratovirtDomainReset,
    .domainSave = stratovirtDomainSave,
    .domainSaveFlags = stratovirtDomainSaveFlags,
    .domainRestore = stratovirtDomainRestore,
    .domainRestoreFlags = stratovirtDomainRestoreFlags,
    .domainSaveImageGetXMLDesc = stratovirtDomainSaveImageGetXMLDesc,
    .domainManagedSave = stratovirtDomainManagedSave,
    .domainManagedSaveRemove = stratovirtDomainManagedSaveRemove,
    .domainSuspend = stratovirtDomainSuspend,
    .domainResume = stratovirtDomainResume,
    .domainGetXMLDesc = stratovirtDomainGetXMLDesc,
    .domainGetInfo = stratovirtDomainGetInfo,
    .domainGetState = stratovirtDomainGetState,
    .domainGetOSType = stratovirtDomainGetOSType,
    .domainGetMaxMemory = stratovirtDomainGetMaxMemory,
    .domainGetVcpusFlags = stratovirtDomainGetVcpusFlags,
    .domainGetVcpus = stratovirtDomainGetVcpus,
    .domainIsActive = stratovirtDomainIsActive,
    .domainIsPersistent = stratovirtDomainIsPersistent,
    .domainIsUpdated = stratovirtDomainIsUpdated,
    .domainHasManagedSaveImage = stratovirtDomainHasManagedSaveImage,
    .domainGetAutostart = stratovirtDomainGetAutostart,
    .domainSetAutostart = stratovirtDomainSetAutostart,
    .domainOpenConsole = stratovirtDomainOpenConsole,
    .domainSetMemoryFlags = stratovirtDomainSetMemoryFlags,
    .domainSetMaxMemory = stratovirtDomainSetMaxMemory,
    .domainSetVcpus = stratovirtDomainSetVcpus,
    .domainPinVcpu = stratovirtDomainPinVcpu,
    .connectGetMaxVcpus = virStratoVirtConnectGetMaxVcpus,
    .domainSetVcpusFlags = virStratoVirtDomainSetVcpusFlags,
    .domainPinVcpuFlags = virStratoVirtDomainPinVcpuFlags,
    .domainGetVcpuPinInfo = virStratoVirtDomainGetVcpuPinInfo,
    .domainPinEmulator = virStratoVirtDomainPinEmulator,
    .domainGetEmulatorPinInfo = virStratoVirtDomainGetEmulatorPinInfo,
    .domainSetMemory = stratovirtDomainSetMemory,
    .domainMemoryStats = stratovirtDomainMemoryStats,
    .domainGetMetadata = stratovirtDomainGetMetadata,
    .domainSetMetadata = stratovirtDomainSetMetadata,
    .domainAttachDevice = stratovirtDomainAttachDevice,
    .domainAttachDeviceFlags = stratovirtDomainAttachDeviceFlags,
    .domainDetachDevice = stratovirtDomainDetachDevice,
    .domainDetachDeviceFlags = stratovirtDomainDetachDeviceFlags,
    .nodeDeviceDettach = stratovirtNodeDeviceDettach,
    .nodeDeviceDetachFlags = stratovirtNodeDeviceDetachFlags,
    .nodeDeviceReAttach = stratovirtNodeDeviceReAttach,
    .nodeDeviceReset = stratovirtNodeDeviceReset,
};


static virConnectDriver stratovirtConnectDriver = {
    .localOnly = true,
    .uriSchemes = (const char *[]){ STRATOVIRT_URI_SCHEME, NULL },
    .hypervisorDriver = &stratovirtHypervisorDriver,
};


static virStateDriver stratovirtStateDriver = {
    .name = STRATOVIRT_DRIVER_NAME,
    .stateInitialize = stratovirtStateInitialize,
    .stateCleanup = stratovirtStateCleanup,
    .stateShutdownPrepare = stratovirtStateShutdownPrepare,
    .stateShutdownWait = stratovirtStateShutdownWait,
};


void
virStratoVirtI18nInit(void)
{
    const char *dir = g_getenv("LIBVIRT_STRATOVIRT_LOCALEDIR");

    /* LIBVIRT_STRATOVIRT_LOCALEDIR: the build tree's catalogs, for tests */
    bindtextdomain(STRATOVIRT_GETTEXT_PACKAGE, dir ? dir : LOCALEDIR);
    bind_textdomain_codeset(STRATOVIRT_GETTEXT_PACKAGE, "UTF-8");
}


int
stratovirtRegister(void)
{
    virStratoVirtI18nInit();

    if (virRegisterConnectDriver(&stratovirtConnectDriver, true) < 0)
        return -1;
    if (virRegisterStateDriver(&stratovirtStateDriver) < 0)
        return -1;
    return 0;
}
