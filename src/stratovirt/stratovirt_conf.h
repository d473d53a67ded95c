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
#include "virenum.h"
#include "vircommand.h"
#include "virfilecache.h"
#include "virobject.h"

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
    char *cacheDir;         /* what can be rebuilt: the binaries' capabilities */
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
    char **features;        /* stratovirt_features: the build's features, or
                             * NULL to probe the binary */
    char *logLevel;         /* StratoVirt's log level in the domain log */
    char **envPass;         /* more variables the VMM inherits */
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

    /* Self-locking: what each StratoVirt binary is (path -> caps), kept
     * across daemon restarts in cfg->cacheDir/capabilities.  One binary is
     * probed at a time: callers that miss the cache at once (a reconnect
     * thread per domain at a restart) wait for that probe rather than each
     * running its own. */
    virFileCache *capsCache;

    /* pid file FD, ensures two daemons do not share one state dir */
    int lockFD;

    /* next domain id, atomic */
    int nextvmid;

    /* The daemon is stopping (atomic): a reconnect that cannot finish
     * leaves its domain to the next daemon instead of ending it, and no
     * balloon retry starts. */
    int shuttingDown;
    /* The driver's own threads still running (reconnects, a VMM's exit
     * work, balloon retries, unplug completions: virStratoVirtDriverThread
     * Create), under @lock; @threadsDone is signalled as each ends.  The
     * daemon's stop waits for them, then sets @threadsClosed: no new one
     * starts, its work is left to the next daemon. */
    size_t nthreads;
    bool threadsClosed;
    virCond threadsDone;
    /* When the stop's wait for them gives up (ms since the epoch): set at
     * the prepare step, where libvirt's daemon starts its 30 s timer to
     * a forced exit, since the daemon first drains its RPC workers. */
    unsigned long long threadsDeadline;

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

/* Cargo features of a StratoVirt build, and syntax of its version */
typedef enum {
    VIR_STRATOVIRT_FEATURE_VFIO,
    VIR_STRATOVIRT_FEATURE_VIRTIO_RNG,
    VIR_STRATOVIRT_FEATURE_VHOST_VSOCK,
    VIR_STRATOVIRT_FEATURE_VIRTIO_SCSI,
    VIR_STRATOVIRT_FEATURE_USB,
    VIR_STRATOVIRT_FEATURE_VNC,
    VIR_STRATOVIRT_FEATURE_VIRTIO_GPU,
    VIR_STRATOVIRT_FEATURE_PVPANIC,

    VIR_STRATOVIRT_FEATURE_LAST
} virStratoVirtFeature;

VIR_ENUM_DECL(virStratoVirtFeature);

/* What one StratoVirt binary is: its version and build features, probed
 * once per binary and cached by the driver, in memory and on disk, for as
 * long as the binary (path, mtime, ctime, size), this driver's build, the
 * host's architecture and the configured 'stratovirt_features' stay. */
typedef struct _virStratoVirtCaps virStratoVirtCaps;
struct _virStratoVirtCaps {
    virObject parent;

    char *binary;
    long long mtime;        /* of the binary, in ns */
    long long ctime;
    long long size;
    char *driverId;         /* the driver's build that probed it */
    char *hostArch;
    char *configured;       /* 'stratovirt_features' then, joined by ',' */
    unsigned long version;  /* major * 1,000,000 + minor * 1,000 + micro */
    char *versionStr;       /* "2.4.0" */
    unsigned int features;  /* 1 << virStratoVirtFeature */
    bool probed;            /* features probed, not from stratovirt.conf */
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStratoVirtCaps, virObjectUnref);

virStratoVirtCaps *virStratoVirtCapsNewForVersion(unsigned long version,
                                                  unsigned int features);
virStratoVirtCaps *virStratoVirtGetCaps(virStratoVirtDriver *driver,
                                        const char *binary);
virFileCache *virStratoVirtCapsCacheNew(virStratoVirtDriver *driver,
                                        virStratoVirtDriverConfig *cfg);
const char *virStratoVirtDriverBuildId(void);
bool virStratoVirtCapsHas(const virStratoVirtCaps *caps,
                          virStratoVirtFeature feature);
bool virStratoVirtCapsHasFeature(const virStratoVirtCaps *caps,
                                 const char *name);
int virStratoVirtCapsCheckFeature(const virStratoVirtCaps *caps,
                                  virStratoVirtFeature feature,
                                  const char *what);
int virStratoVirtCapsParseFeatures(char **names,
                                   unsigned int *features);

/* Syntax and commands by version: 2.1.x lacks what later versions have */
#define VIR_STRATOVIRT_VERSION_MODERN 2002000
#define virStratoVirtCapsIsModern(caps) \
    (!(caps) || (caps)->version >= VIR_STRATOVIRT_VERSION_MODERN)
/* -smbios type=0|1|2|3|4|17 */
#define VIR_STRATOVIRT_VERSION_SMBIOS 2003000

int virStratoVirtExtractVersion(virStratoVirtDriver *driver,
                                unsigned long *version);
int virStratoVirtParseVersionOutput(const char *output,
                                    unsigned long *version);

int virStratoVirtDriverThreadCreate(virStratoVirtDriver *driver,
                                    const char *name,
                                    virThreadFunc func,
                                    void *opaque);
int virStratoVirtDriverThreadsWait(virStratoVirtDriver *driver,
                                   unsigned long long until);

void stratovirtDriverLock(virStratoVirtDriver *driver);
void stratovirtDriverUnlock(virStratoVirtDriver *driver);

virDomainCaps *virStratoVirtDomainCapsBuild(virStratoVirtDriverConfig *cfg,
                                            const virStratoVirtCaps *svcaps,
                                            virArch arch,
                                            const char *machine);

void virStratoVirtCommandSetEnv(virCommand *cmd,
                                virStratoVirtDriverConfig *cfg);
