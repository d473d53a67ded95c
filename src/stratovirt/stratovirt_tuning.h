/*
 * stratovirt_tuning.h: memory and vCPU settings of a domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

/* StratoVirt's limit (machine_manager's MAX_VCPUS); validation says so too */
#define VIR_STRATOVIRT_MAX_VCPUS 254

int virStratoVirtTuningApply(virDomainObj *vm);

int virStratoVirtDomainPinVcpuFlags(virDomainPtr dom,
                                    unsigned int vcpu,
                                    unsigned char *cpumap,
                                    int maplen,
                                    unsigned int flags);
int virStratoVirtDomainGetVcpuPinInfo(virDomainPtr dom,
                                      int ncpumaps,
                                      unsigned char *cpumaps,
                                      int maplen,
                                      unsigned int flags);
int virStratoVirtDomainPinEmulator(virDomainPtr dom,
                                   unsigned char *cpumap,
                                   int maplen,
                                   unsigned int flags);
int virStratoVirtDomainGetEmulatorPinInfo(virDomainPtr dom,
                                          unsigned char *cpumaps,
                                          int maplen,
                                          unsigned int flags);
int virStratoVirtConnectGetMaxVcpus(virConnectPtr conn,
                                    const char *type);
int virStratoVirtDomainSetVcpusFlags(virDomainPtr dom,
                                     unsigned int nvcpus,
                                     unsigned int flags);
int virStratoVirtDomainSetMemoryConfig(virStratoVirtDriver *driver,
                                       virDomainDef *persistentDef,
                                       unsigned long newmem,
                                       bool maximum);
int virStratoVirtBalloonSet(virDomainObj *vm,
                            unsigned long long kib);
void virStratoVirtBalloonResume(virDomainObj *vm);
void virStratoVirtBalloonStop(virDomainObj *vm);
unsigned int virStratoVirtBalloonRetryDelay(unsigned int prevMs,
                                            unsigned long long pendingMs);
