/*
 * stratovirt_stats.h: the figures of a domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

int virStratoVirtStatsDiskSizes(virDomainDiskDef *disk);

int virStratoVirtConnectGetAllDomainStats(virConnectPtr conn,
                                          virDomainPtr *doms,
                                          unsigned int ndoms,
                                          unsigned int stats,
                                          virDomainStatsRecordPtr **retStats,
                                          unsigned int flags);
int virStratoVirtDomainGetCPUStats(virDomainPtr dom,
                                   virTypedParameterPtr params,
                                   unsigned int nparams,
                                   int start_cpu,
                                   unsigned int ncpus,
                                   unsigned int flags);
int virStratoVirtDomainGetBlockInfo(virDomainPtr dom,
                                    const char *path,
                                    virDomainBlockInfoPtr info,
                                    unsigned int flags);
int virStratoVirtDomainBlockPeek(virDomainPtr dom,
                                 const char *path,
                                 unsigned long long offset,
                                 size_t size,
                                 void *buffer,
                                 unsigned int flags);
int virStratoVirtDomainBlockStats(virDomainPtr dom,
                                  const char *path,
                                  virDomainBlockStatsPtr stats);
