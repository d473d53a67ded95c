/*
 * stratovirt_domain.h: per-domain private data and XML hooks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"
#include "virchrdev.h"
#include "vircgroup.h"
#include "stratovirt_serial.h"
#include "stratovirt_monitor.h"

typedef struct _virStratoVirtAgent virStratoVirtAgent;

typedef struct _virStratoVirtDomainObjPrivate virStratoVirtDomainObjPrivate;
struct _virStratoVirtDomainObjPrivate {
    virStratoVirtDriver *driver;

    char *runDir;           /* per-run directory: QMP socket, pidfile */
    char *qmpPath;          /* QMP socket of the running VMM */
    char *pidfile;
    char *logfile;
    virStratoVirtMonitor *mon;
    char *machineName;      /* the VMM's machine (cgroup) name */
    char *cgroupPartition;  /* set when the VMM was put in a cgroup */
    virCgroup *cgroup;      /* the VMM's cgroup, when open */

    bool beingDestroyed;    /* we asked the VMM to go */
    bool hostdevsPrepared;  /* hostdevs were (maybe) detached for this run */
    bool hostdevsTaken;     /* the hostdev manager gave them all to us */
    bool netsPrepared;      /* host side of the interfaces set up for this run */
    bool starting;          /* a start is under way (status saved early) */
    bool guestShutdown;     /* SHUTDOWN event seen or powerdown requested */
    bool pausedByUs;        /* the last STOP was asked for by an API */
    bool fakeReboot;        /* a reboot asked the guest to power off: start
                             * the VMM again when it has */
    bool destroyOnReboot;   /* the guest rebooted with <on_reboot> destroy:
                             * its VMM is to be ended */
    int rebootId;           /* the domain id a fake reboot keeps */
    char *restorePath;      /* the next start restores this save image */
    unsigned long long balloonActual; /* bytes, from BALLOON_CHANGED */
    unsigned long long balloonPending; /* KiB: a target the balloon device
                                        * could not take yet, 0: none */
    int balloonTimer;       /* asks for balloonPending again, -1: none */
    unsigned int balloonRetryMs; /* the timer's current back-off */
    unsigned long long balloonPendingSince; /* monotonic ms: the target
                                            * pending since (this daemon) */
    off_t logOffset;        /* where this run's part of the domain log starts */
    int exitStatus;         /* the VMM's wait status once reaped, else -1 */
    virStratoVirtCaps *caps; /* the running binary's version and features */

    virChrdevs *chrdevs;
    char *serialSocket;     /* StratoVirt's serial socket, for a <log file> */
    virStratoVirtSerialLog *serialLog; /* the proxy to the pty and the log */
    bool securityLabelled;  /* labels given for this run, to be given back */
    char *unplugAlias;      /* device_del sent, DEVICE_DELETED awaited */
    char **unplugPending;   /* device_del sent, no DEVICE_DELETED handled
                             * yet (in the status XML: a daemon that did
                             * not see it asks the VMM at reconnect) */
    long long unplugAskedAt; /* when the latest of those device_del was
                                * accepted (ms since the epoch), 0 unknown */

    virStratoVirtAgent *agent; /* the guest agent's channel, when open */
    bool agentSeen;         /* the agent answered once in this run */
    int agentTimeout;       /* seconds (guest-agent-timeout), 0: default */
};

#define STRATOVIRT_DOMAIN_PRIVATE(vm) \
    ((virStratoVirtDomainObjPrivate *) (vm)->privateData)

virDomainXMLOption *virStratoVirtDomainXMLConfInit(virStratoVirtDriver *driver);

virDomainObj *virStratoVirtDomainObjFromDomain(virDomainPtr dom);

extern virDomainXMLPrivateDataCallbacks virStratoVirtDriverPrivateDataCallbacks;
extern virDomainDefParserConfig virStratoVirtDriverDomainDefParserConfig;

virStratoVirtMonitor *virStratoVirtDomainObjEnterMonitor(virDomainObj *vm);
int virStratoVirtDomainDelDeviceWait(virDomainObj *vm,
                                     const char *alias,
                                     unsigned int timeout);
int virStratoVirtDomainQueryVcpuThreads(virDomainObj *vm,
                                        virStratoVirtMonitorCpuInfo **cpus,
                                        size_t *ncpus);
void virStratoVirtDomainObjExitMonitor(virDomainObj *vm,
                                       virStratoVirtMonitor *mon);
void virStratoVirtDomainSaveStatus(virDomainObj *vm);
void virStratoVirtDomainUnplugPendingAdd(virDomainObj *vm,
                                         const char *alias);
void virStratoVirtDomainUnplugPendingDone(virDomainObj *vm,
                                          const char *alias);
