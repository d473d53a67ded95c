/*
 * stratovirt_agent.h: a client of the QEMU guest agent (qemu-ga) on a
 * StratoVirt virtio-serial port
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "internal.h"
#include "virobject.h"
#include "virpci.h"

typedef struct _virStratoVirtAgent virStratoVirtAgent;

/* The guest port name the agent listens on, as the QEMU driver's */
#define VIR_STRATOVIRT_AGENT_CHANNEL "org.qemu.guest_agent.0"

/* How long (s) a command waits for the agent by default */
#define VIR_STRATOVIRT_AGENT_TIMEOUT 10

/* The agent answered (connected = true) or stopped answering; called from
 * the event loop or from a command's thread, without the agent lock and
 * without the domain lock (it may take it: nobody holds the domain lock
 * while waiting on the agent). */
typedef void (*virStratoVirtAgentStateNotify)(virStratoVirtAgent *agent,
                                              bool connected,
                                              void *opaque);

virStratoVirtAgent *virStratoVirtAgentOpen(const char *path,
                                           virStratoVirtAgentStateNotify notify,
                                           void *opaque,
                                           virFreeCallback freeOpaque);
void virStratoVirtAgentClose(virStratoVirtAgent *agent);

bool virStratoVirtAgentIsConnected(virStratoVirtAgent *agent);
bool virStratoVirtAgentGuestReset(virStratoVirtAgent *agent);

void virStratoVirtAgentSetTimeout(virStratoVirtAgent *agent,
                                  int seconds);

/* The commands (each a sync, then the command): 0 or a count on success,
 * -1 with an error reported; -2 (reported) where said: the agent has no
 * such command, and a caller may do without it */
int virStratoVirtAgentShutdown(virStratoVirtAgent *agent,
                               bool reboot);
int virStratoVirtAgentGetInterfaces(virStratoVirtAgent *agent,
                                    virDomainInterfacePtr **ifaces);
int virStratoVirtAgentSetUserPassword(virStratoVirtAgent *agent,
                                      const char *user,
                                      const char *password,
                                      bool crypted);
int virStratoVirtAgentFSFreezeThaw(virStratoVirtAgent *agent,
                                   bool freeze,
                                   const char **mountpoints,
                                   unsigned int nmountpoints);

/* a guest disk as qemu-ga names it */
typedef struct _virStratoVirtAgentDiskAddr virStratoVirtAgentDiskAddr;
struct _virStratoVirtAgentDiskAddr {
    char *serial;
    char *dev;
    bool hasPCI;
    virPCIDeviceAddress pci;
};
void virStratoVirtAgentDiskAddrClear(virStratoVirtAgentDiskAddr *addr);

typedef struct _virStratoVirtAgentFSInfo virStratoVirtAgentFSInfo;
struct _virStratoVirtAgentFSInfo {
    char *name;
    char *mountpoint;
    char *fstype;
    bool hasTotal;
    bool hasUsed;
    unsigned long long total;
    unsigned long long used;
    size_t ndisks;
    virStratoVirtAgentDiskAddr *disks;
};
void virStratoVirtAgentFSInfoFree(virStratoVirtAgentFSInfo *fs);
int virStratoVirtAgentGetFSInfo(virStratoVirtAgent *agent,
                                virStratoVirtAgentFSInfo ***info,
                                size_t *ninfo);

typedef struct _virStratoVirtAgentDisk virStratoVirtAgentDisk;
struct _virStratoVirtAgentDisk {
    char *name;
    bool partition;
    char **deps;                /* NULL-terminated */
    bool hasAddr;
    virStratoVirtAgentDiskAddr addr;
};
void virStratoVirtAgentDiskFree(virStratoVirtAgentDisk *disk);
int virStratoVirtAgentGetDisks(virStratoVirtAgent *agent,
                               virStratoVirtAgentDisk ***disks,
                               size_t *ndisks);

int virStratoVirtAgentGetTime(virStratoVirtAgent *agent,
                              long long *seconds,
                              unsigned int *nseconds);
int virStratoVirtAgentSetTime(virStratoVirtAgent *agent,
                              long long seconds,
                              unsigned int nseconds,
                              bool sync);
int virStratoVirtAgentGetHostname(virStratoVirtAgent *agent,
                                  char **hostname);
int virStratoVirtAgentGetUsers(virStratoVirtAgent *agent,
                               virTypedParameterPtr *params,
                               int *nparams,
                               int *maxparams);
int virStratoVirtAgentGetOSInfo(virStratoVirtAgent *agent,
                                virTypedParameterPtr *params,
                                int *nparams,
                                int *maxparams);
int virStratoVirtAgentGetTimezone(virStratoVirtAgent *agent,
                                  virTypedParameterPtr *params,
                                  int *nparams,
                                  int *maxparams);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStratoVirtAgent, virObjectUnref);
