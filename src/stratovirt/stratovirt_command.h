/*
 * stratovirt_command.h: a domain definition as a StratoVirt command line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"
#include "vircommand.h"
#include "stratovirt_conf.h"

/* The host side of one interface, opened by the driver for the VMM */
typedef struct _virStratoVirtNetFDs virStratoVirtNetFDs;
struct _virStratoVirtNetFDs {
    int *tapfd;             /* one per queue pair */
    size_t ntapfd;
    int *vhostfd;           /* /dev/vhost-net, one per queue pair, or none */
    size_t nvhostfd;
};

typedef struct _virStratoVirtBuildParams virStratoVirtBuildParams;
struct _virStratoVirtBuildParams {
    const char *qmpPath;    /* QMP socket */
    const char *logfile;    /* StratoVirt's -D log */
    const char *memPath;    /* hugetlbfs mount for the page size, or NULL */
    bool startPaused;
    const virStratoVirtNetFDs *netfds;  /* indexed like def->nets, or NULL */
    /* the binary's version and features; NULL: the newest StratoVirt
     * with every feature */
    const virStratoVirtCaps *caps;
    const char *incoming;   /* a snapshot directory to restore, or NULL */
    /* the serial port's socket, for a serial with a <log file>
     * (stratovirt_serial.c stands between it and a pty) */
    const char *serialSocket;
};

int virStratoVirtAssignAliases(virDomainDef *def);
void virStratoVirtAssignHostdevAlias(const virDomainDef *def,
                                     virDomainHostdevDef *hostdev);

virCommand *virStratoVirtBuildCommandLine(const virDomainDef *def,
                                          const virStratoVirtBuildParams *params);

int virStratoVirtCheckCaps(const virDomainDef *def,
                           const virStratoVirtCaps *caps);

char *virStratoVirtBuildDiskDrive(const virDomainDiskDef *disk,
                                  const virStratoVirtCaps *caps);
char *virStratoVirtBuildDiskDevice(const virDomainDef *def,
                                   const virDomainDiskDef *disk);
char *virStratoVirtBuildNetDevice(const virDomainDef *def,
                                  const virDomainNetDef *net);
char *virStratoVirtBuildNetdev(const virDomainNetDef *net,
                               const virStratoVirtNetFDs *fds);
char *virStratoVirtBuildHostdevDevice(const virDomainDef *def,
                                      const virDomainHostdevDef *hostdev);
