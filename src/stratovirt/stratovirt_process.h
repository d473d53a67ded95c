/*
 * stratovirt_process.h: start, stop and reconnect StratoVirt VMMs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"
#include "stratovirt_monitor.h"

typedef enum {
    VIR_STRATOVIRT_START_PAUSED = (1 << 0),
    VIR_STRATOVIRT_START_AUTODESTROY = (1 << 1),
    /* a fake reboot: the domain keeps its id (priv->rebootId) */
    VIR_STRATOVIRT_START_REBOOT = (1 << 2),
} virStratoVirtStartFlags;

int virStratoVirtProcessStart(virStratoVirtDriver *driver,
                              virDomainObj *vm,
                              virConnectPtr conn,
                              virDomainRunningReason reason,
                              unsigned int flags);
void virStratoVirtProcessStop(virStratoVirtDriver *driver,
                              virDomainObj *vm,
                              virDomainShutoffReason reason);
void virStratoVirtProcessReconnectAll(virStratoVirtDriver *driver);
void virStratoVirtProcessCleanStale(virStratoVirtDriver *driver);
int virStratoVirtProcessBeginStopJob(virDomainObj *vm,
                                     bool force);
int virStratoVirtProcessTerminate(virDomainObj *vm,
                                  unsigned int timeout,
                                  bool force);

void virStratoVirtProcessRebooted(virStratoVirtDriver *driver,
                                  virDomainObj *vm);
