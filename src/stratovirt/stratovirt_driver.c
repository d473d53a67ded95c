/*
 * stratovirt_driver.c: the StratoVirt hypervisor driver's API table
 *
 * The entry points here stay thin: check the flags and the ACL, look the
 * domain up, take the job, and call into stratovirt_process.c and friends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <fcntl.h>
#include <unistd.h>

#include "datatypes.h"
#include "driver.h"
#include "stratovirt_conf.h"
#include "stratovirt_domain.h"
#include "stratovirt_driver.h"
#include "viraccessapicheck.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virhostcpu.h"
#include "virlog.h"
#include "virpidfile.h"
#include "virutil.h"

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("stratovirt.stratovirt_driver");

static virStratoVirtDriver *stratovirt_driver;


/* ---------------------------------------------------------------------
 * State driver
 */

static int
stratovirtStateCleanup(void)
{
    virStratoVirtDriver *driver = stratovirt_driver;

    if (!driver)
        return -1;

    virObjectUnref(driver->domains);
    virObjectUnref(driver->domainEventState);
    virObjectUnref(driver->hostdevMgr);
    virObjectUnref(driver->xmlopt);
    virObjectUnref(driver->caps);
    g_clear_object(&driver->config);
    g_free(driver->versionBinary);
    if (driver->lockFD != -1)
        VIR_FORCE_CLOSE(driver->lockFD);
    virMutexDestroy(&driver->lock);
    g_clear_pointer(&stratovirt_driver, g_free);
    return 0;
}


static int
stratovirtStateMakeDirs(virStratoVirtDriverConfig *cfg)
{
    const char *dirs[] = {
        cfg->configBaseDir, cfg->autostartDir, cfg->stateDir,
        cfg->logDir, cfg->libDir,
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


static virDrvStateInitResult
stratovirtStateInitialize(bool privileged,
                          const char *root,
                          bool monolithic G_GNUC_UNUSED,
                          virStateInhibitCallback callback G_GNUC_UNUSED,
                          void *opaque G_GNUC_UNUSED)
{
    virStratoVirtDriver *driver;
    g_autoptr(virStratoVirtDriverConfig) cfg = NULL;

    if (root) {
        virReportError(VIR_ERR_INVALID_ARG, "%s",
                       _("the StratoVirt driver does not support embedded mode"));
        return VIR_DRV_STATE_INIT_ERROR;
    }

    driver = g_new0(virStratoVirtDriver, 1);
    driver->lockFD = -1;
    if (virMutexInit(&driver->lock) < 0) {
        g_free(driver);
        return VIR_DRV_STATE_INIT_ERROR;
    }
    stratovirt_driver = driver;
    driver->privileged = privileged;

    cfg = virStratoVirtDriverConfigNew(privileged);
    if (virStratoVirtDriverConfigLoadFile(cfg, cfg->configFile) < 0)
        goto error;
    driver->config = g_object_ref(cfg);

    if (stratovirtStateMakeDirs(cfg) < 0)
        goto error;

    if ((driver->lockFD = virPidFileAcquire(cfg->stateDir, "driver",
                                            false, getpid())) < 0)
        goto error;

    if (!(driver->domains = virDomainObjListNew()))
        goto error;

    if (!(driver->domainEventState = virObjectEventStateNew()))
        goto error;

    if (!(driver->caps = virStratoVirtDriverCapsInit(cfg)))
        goto error;

    if (!(driver->xmlopt = virStratoVirtDomainXMLConfInit(driver)))
        goto error;

    if (privileged && !(driver->hostdevMgr = virHostdevManagerGetDefault()))
        goto error;

    /* Persistent definitions; live domains are reconnected by the
     * process code once it exists. */
    if (virDomainObjListLoadAllConfigs(driver->domains, cfg->configBaseDir,
                                       cfg->autostartDir, false,
                                       driver->xmlopt, NULL, NULL) < 0)
        goto error;

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


static virHypervisorDriver stratovirtHypervisorDriver = {
    .name = STRATOVIRT_DRIVER_NAME,
    .connectURIProbe = NULL,
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
    .connectNumOfDomains = stratovirtConnectNumOfDomains,
    .connectListDomains = stratovirtConnectListDomains,
    .connectNumOfDefinedDomains = stratovirtConnectNumOfDefinedDomains,
    .connectListDefinedDomains = stratovirtConnectListDefinedDomains,
    .connectListAllDomains = stratovirtConnectListAllDomains,
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
};


int
stratovirtRegister(void)
{
    if (virRegisterConnectDriver(&stratovirtConnectDriver, true) < 0)
        return -1;
    if (virRegisterStateDriver(&stratovirtStateDriver) < 0)
        return -1;
    return 0;
}
