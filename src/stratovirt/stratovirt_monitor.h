/*
 * stratovirt_monitor.h: StratoVirt's QMP, read by a thread per monitor
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"
#include "virpci.h"

typedef struct _virStratoVirtMonitor virStratoVirtMonitor;

/* How long (ms) the driver waits for StratoVirt to answer a command */
#define VIR_STRATOVIRT_MONITOR_TIMEOUT 10000

/* The QMP events the driver acts on, read out of StratoVirt's wire format
 * by the monitor (stratovirtMonitorParseEvent) */
typedef enum {
    VIR_STRATOVIRT_MONITOR_EVENT_OTHER = 0,   /* one the driver does not handle */
    VIR_STRATOVIRT_MONITOR_EVENT_SHUTDOWN,
    VIR_STRATOVIRT_MONITOR_EVENT_STOP,
    VIR_STRATOVIRT_MONITOR_EVENT_RESUME,
    VIR_STRATOVIRT_MONITOR_EVENT_RESET,
    VIR_STRATOVIRT_MONITOR_EVENT_POWERDOWN,
    VIR_STRATOVIRT_MONITOR_EVENT_BALLOON_CHANGED,
    VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED,
} virStratoVirtMonitorEventType;

typedef struct _virStratoVirtMonitorEvent virStratoVirtMonitorEvent;
struct _virStratoVirtMonitorEvent {
    virStratoVirtMonitorEventType type;
    const char *name;               /* as StratoVirt spelled it */
    /* BALLOON_CHANGED: the guest's memory in bytes (hasActual false when
     * StratoVirt did not say) */
    bool hasActual;
    unsigned long long actual;
    /* DEVICE_DELETED: the alias (id) of the device, or NULL */
    const char *device;
};

typedef struct _virStratoVirtMonitorCallbacks virStratoVirtMonitorCallbacks;
struct _virStratoVirtMonitorCallbacks {
    /* The VMM closed the socket (or sent garbage).  Called from the
     * monitor's thread without the monitor lock and without the domain
     * lock; never once virStratoVirtMonitorClose was called.  A callback
     * may take the domain lock: nobody may hold it while waiting on the
     * monitor. */
    void (*eofNotify)(virStratoVirtMonitor *mon, virDomainObj *vm, void *opaque);
    /* One QMP event, valid for the call only.  Same context as eofNotify. */
    void (*eventNotify)(virStratoVirtMonitor *mon, virDomainObj *vm,
                        const virStratoVirtMonitorEvent *event, void *opaque);
};

virStratoVirtMonitor *virStratoVirtMonitorOpen(virDomainObj *vm,
                                               const char *path,
                                               pid_t pid,
                                               unsigned int timeout,
                                               virStratoVirtMonitorCallbacks *cb,
                                               void *opaque,
                                               bool *vmmGone);
/* Asked each second during a patient wait: false (e.g. the daemon is
 * stopping) ends it (a wait for an answer at once, a wait for the greeting
 * once its timeout has run out); true lets it go on past its timeout */
typedef bool (*virStratoVirtMonitorKeepWaitingFunc)(void *opaque);
virStratoVirtMonitor *virStratoVirtMonitorOpenPatient(virDomainObj *vm,
                                                      const char *path,
                                                      pid_t pid,
                                                      unsigned int timeout,
                                                      virStratoVirtMonitorCallbacks *cb,
                                                      void *opaque,
                                                      bool *vmmGone,
                                                      virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                                                      void *waitOpaque);
void virStratoVirtMonitorClose(virStratoVirtMonitor *mon);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStratoVirtMonitor, virObjectUnref);

const char *virStratoVirtMonitorGetVersion(virStratoVirtMonitor *mon);
void virStratoVirtMonitorSetPassFdTwice(virStratoVirtMonitor *mon,
                                       bool twice);

/* One function per QMP command the driver sends: the wire format (command
 * names, arguments, reply shapes) stays in stratovirt_monitor.c.  Each
 * takes the monitor (the caller holds the domain's job, not its lock, see
 * virStratoVirtDomainObjEnterMonitor) and @timeout in milliseconds, and
 * returns 0, or -1 with VIR_ERR_OPERATION_FAILED quoting StratoVirt when
 * it refused, VIR_ERR_OPERATION_TIMEOUT when it did not answer in time. */
int virStratoVirtMonitorStop(virStratoVirtMonitor *mon,
                             unsigned int timeout);
int virStratoVirtMonitorCont(virStratoVirtMonitor *mon,
                             unsigned int timeout);
int virStratoVirtMonitorSystemPowerdown(virStratoVirtMonitor *mon,
                                        unsigned int timeout);
int virStratoVirtMonitorSystemReset(virStratoVirtMonitor *mon,
                                    unsigned int timeout);
int virStratoVirtMonitorQueryStatus(virStratoVirtMonitor *mon,
                                    unsigned int timeout,
                                    bool *running);
int virStratoVirtMonitorQueryStatusPatient(virStratoVirtMonitor *mon,
                                           unsigned int timeout,
                                           virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                                           void *waitOpaque,
                                           bool *running);

typedef struct _virStratoVirtMonitorCpuInfo virStratoVirtMonitorCpuInfo;
struct _virStratoVirtMonitorCpuInfo {
    pid_t tid;                      /* the vCPU thread; 0 when not given */
};
int virStratoVirtMonitorQueryCpus(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  virStratoVirtMonitorCpuInfo **cpus,
                                  size_t *ncpus);
int virStratoVirtMonitorQueryPtys(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  GHashTable **ptys);
int virStratoVirtMonitorQueryBalloon(virStratoVirtMonitor *mon,
                                     unsigned int timeout,
                                     unsigned long long *actual);
int virStratoVirtMonitorSetBalloon(virStratoVirtMonitor *mon,
                                   unsigned int timeout,
                                   unsigned long long bytes);
int virStratoVirtMonitorAddVFIODevice(virStratoVirtMonitor *mon,
                                      unsigned int timeout,
                                      const char *alias,
                                      const char *bus,
                                      unsigned int slot,
                                      const virPCIDeviceAddress *host);
int virStratoVirtMonitorDelDeviceAgain(virStratoVirtMonitor *mon,
                                       unsigned int timeout,
                                       const char *alias);
int virStratoVirtMonitorDelDevice(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  const char *alias);
int virStratoVirtMonitorGetFd(virStratoVirtMonitor *mon,
                              unsigned int timeout,
                              const char *fdname,
                              int fd);
int virStratoVirtMonitorAddNetdev(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  const char *id,
                                  const char *const *tapfds,
                                  size_t ntapfds,
                                  const char *const *vhostfds,
                                  size_t nvhostfds);
int virStratoVirtMonitorDelNetdev(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  const char *id);
int virStratoVirtMonitorAddNetDevice(virStratoVirtMonitor *mon,
                                     unsigned int timeout,
                                     const char *alias,
                                     const char *netdev,
                                     const char *mac,
                                     const char *bus,
                                     bool multiqueue);
int virStratoVirtMonitorBlockdevAdd(virStratoVirtMonitor *mon,
                                    unsigned int timeout,
                                    const char *node,
                                    const char *path,
                                    const char *format,
                                    bool readonly,
                                    bool direct,
                                    const char *aio,
                                    unsigned long long iopsTotal);
int virStratoVirtMonitorBlockdevDel(virStratoVirtMonitor *mon,
                                    unsigned int timeout,
                                    const char *node);
int virStratoVirtMonitorAddVirtioBlk(virStratoVirtMonitor *mon,
                                     unsigned int timeout,
                                     const char *id,
                                     const char *drive,
                                     const char *bus,
                                     const char *serial,
                                     unsigned int queues,
                                     unsigned int queueSize,
                                     const char *iothread,
                                     int bootIndex);

int virStratoVirtMonitorMigrateToFile(virStratoVirtMonitor *mon,
                                      unsigned int timeout,
                                      const char *dir);

typedef enum {
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_NONE = 0,
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_SETUP,
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_ACTIVE,
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_COMPLETED,
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_FAILED,
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_CANCELED,
    VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_LAST
} virStratoVirtMonitorMigrationStatus;
VIR_ENUM_DECL(virStratoVirtMonitorMigrationStatus);

int virStratoVirtMonitorQueryMigrate(virStratoVirtMonitor *mon,
                                     unsigned int timeout,
                                     virStratoVirtMonitorMigrationStatus *status);
