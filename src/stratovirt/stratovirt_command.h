/*
 * stratovirt_command.h: a domain definition as a StratoVirt command line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"
#include "vircommand.h"

typedef struct _virStratoVirtBuildParams virStratoVirtBuildParams;
struct _virStratoVirtBuildParams {
    const char *qmpPath;    /* QMP socket */
    const char *logfile;    /* StratoVirt's -D log */
    const char *memPath;    /* hugetlbfs mount for the page size, or NULL */
    bool startPaused;
};

int virStratoVirtAssignAliases(virDomainDef *def);
void virStratoVirtAssignHostdevAlias(const virDomainDef *def,
                                     virDomainHostdevDef *hostdev);

virCommand *virStratoVirtBuildCommandLine(const virDomainDef *def,
                                          const virStratoVirtBuildParams *params);

char *virStratoVirtBuildDiskDrive(const virDomainDiskDef *disk);
char *virStratoVirtBuildDiskDevice(const virDomainDef *def,
                                   const virDomainDiskDef *disk);
char *virStratoVirtBuildNetDevice(const virDomainDef *def,
                                  const virDomainNetDef *net);
char *virStratoVirtBuildHostdevDevice(const virDomainDef *def,
                                      const virDomainHostdevDef *hostdev);
