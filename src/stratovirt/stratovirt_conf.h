/*
 * stratovirt_conf.h: StratoVirt driver configuration and capabilities
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "internal.h"
#include "capabilities.h"
#include "domain_conf.h"
#include "domain_event.h"
#include "virdomainobjlist.h"
#include "virhostdev.h"
#include "virportallocator.h"
#include "virthread.h"
#include "virclosecallbacks.h"
#include "domain_capabilities.h"
#include "driver.h"

#define STRATOVIRT_DRIVER_NAME "StratoVirt"
#define STRATOVIRT_URI_SCHEME "stratovirt"

typedef struct _virStratoVirtDriverConfig virStratoVirtDriverConfig;
struct _virStratoVirtDriverConfig {
    GObject parent;

    char *configFile;       /* where this configuration was read from */
    char *emulator;         /* path of the StratoVirt binary */

    char *configBaseDir;    /* persistent domain XML */
    char *autostartDir;
    char *stateDir;         /* live status XML, pidfiles, QMP sockets */
    char *logDir;           /* one log per domain */
    char *libDir;           /* nvram copies and the like */
    char *nvramDir;         /* per-domain UEFI variable stores */
    char **firmwareDirs;    /* firmware descriptor folders, best first */

    char *userName;
    char *groupName;
    uid_t user;             /* the VMM runs as this user and group */
    gid_t group;

    unsigned int qmpTimeout;        /* seconds to wait for QMP at start */
    unsigned int shutdownTimeout;   /* seconds virsh shutdown waits, 0: none */
    bool vfioMemlock;               /* raise RLIMIT_MEMLOCK for VFIO domains */

    int cgroupControllers;          /* bitmask of VIR_CGROUP_CONTROLLER_*, -1: all */
    char *cgroupPartition;          /* where the VMMs' cgroups live ("/machine") */
};

#define VIR_TYPE_STRATOVIRT_DRIVER_CONFIG (vir_stratovirt_driver_config_get_type())
G_DECLARE_FINAL_TYPE(virStratoVirtDriverConfig, vir_stratovirt_driver_config,
                     VIR, STRATOVIRT_DRIVER_CONFIG, GObject);

typedef struct _virSecurityManager virSecurityManager;

typedef struct _virStratoVirtDriver virStratoVirtDriver;
struct _virStratoVirtDriver {
    virMutex lock;

    bool privileged;
    bool netlinkStarted;    /* we started libvirt's NETLINK_ROUTE event service */

    /* Require lock to swap, lockless reference thereafter */
    virStratoVirtDriverConfig *config;

    /* Immutable after state initialisation */
    virCaps *caps;
    virDomainXMLOption *xmlopt;

    /* Self-locking */
    virDomainObjList *domains;
    virObjectEventState *domainEventState;
    virHostdevManager *hostdevMgr;
    virSecurityManager *securityManager;
    virPortAllocatorRange *vncPorts;

    /* Guarded by lock: version of 'versionBinary' as of 'versionMtime' */
    unsigned long version;
    char *versionBinary;
    long long versionMtime;

    /* pid file FD, ensures two daemons do not share one state dir */
    int lockFD;

    /* next domain id, atomic */
    int nextvmid;

    /* the daemon's own inhibit callback (keeps it alive while domains run) */
    virStateInhibitCallback inhibitCallback;
    void *inhibitOpaque;
};

virStratoVirtDriverConfig *virStratoVirtDriverConfigNew(bool privileged);
int virStratoVirtDriverConfigLoadFile(virStratoVirtDriverConfig *cfg,
                                      const char *filename);
virStratoVirtDriverConfig *virStratoVirtDriverGetConfig(virStratoVirtDriver *driver);

virCaps *virStratoVirtDriverCapsInit(virStratoVirtDriverConfig *cfg);
int virStratoVirtCapsAddGuest(virCaps *caps, virArch arch, const char *emulator);

int virStratoVirtExtractVersion(virStratoVirtDriver *driver,
                                unsigned long *version);
int virStratoVirtParseVersionOutput(const char *output,
                                    unsigned long *version);

void stratovirtDriverLock(virStratoVirtDriver *driver);
void stratovirtDriverUnlock(virStratoVirtDriver *driver);

virDomainCaps *virStratoVirtDomainCapsBuild(virStratoVirtDriverConfig *cfg,
                                            virArch arch,
                                            const char *machine);
