/*
 * stratovirt_monitor.h: StratoVirt's QMP, on libvirt's event loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"
#include "virjson.h"

typedef struct _virStratoVirtMonitor virStratoVirtMonitor;

/* How long (ms) the driver waits for StratoVirt to answer a command */
#define VIR_STRATOVIRT_MONITOR_TIMEOUT 10000

typedef struct _virStratoVirtMonitorCallbacks virStratoVirtMonitorCallbacks;
struct _virStratoVirtMonitorCallbacks {
    /* The VMM closed the socket (or sent garbage).  Called from the event
     * loop without the monitor lock and without the domain lock. */
    void (*eofNotify)(virStratoVirtMonitor *mon, virDomainObj *vm, void *opaque);
    /* One QMP event; @data may be NULL.  Same context as eofNotify. */
    void (*eventNotify)(virStratoVirtMonitor *mon, virDomainObj *vm,
                        const char *event, virJSONValue *data, void *opaque);
};

virStratoVirtMonitor *virStratoVirtMonitorOpen(virDomainObj *vm,
                                               const char *path,
                                               pid_t pid,
                                               unsigned int timeout,
                                               virStratoVirtMonitorCallbacks *cb,
                                               void *opaque,
                                               bool *vmmGone);
void virStratoVirtMonitorClose(virStratoVirtMonitor *mon);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStratoVirtMonitor, virObjectUnref);

int virStratoVirtMonitorCommand(virStratoVirtMonitor *mon,
                                const char *cmd,
                                virJSONValue *args,
                                unsigned int timeout,
                                virJSONValue **reply);
const char *virStratoVirtMonitorGetVersion(virStratoVirtMonitor *mon);

int virStratoVirtMonitorSimple(virStratoVirtMonitor *mon,
                               const char *cmd,
                               unsigned int timeout);
int virStratoVirtMonitorQueryStatus(virStratoVirtMonitor *mon,
                                    unsigned int timeout,
                                    bool *running);
int virStratoVirtMonitorQueryPtys(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  GHashTable **ptys);
int virStratoVirtMonitorQueryBalloon(virStratoVirtMonitor *mon,
                                     unsigned int timeout,
                                     unsigned long long *actual);
int virStratoVirtMonitorSetBalloon(virStratoVirtMonitor *mon,
                                   unsigned int timeout,
                                   unsigned long long bytes);

/* for the unit tests and fuzzers */
virStratoVirtMonitor *virStratoVirtMonitorNewForTest(virStratoVirtMonitorCallbacks *cb,
                                                     void *opaque);
int virStratoVirtMonitorFeed(virStratoVirtMonitor *mon,
                             const char *data,
                             size_t len);
