/*
 * stratovirt_guest.h: what the driver asks the guest through its agent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

virDomainChrDef *virStratoVirtGuestAgentChannel(const virDomainDef *def);

void virStratoVirtGuestOpenAgent(virStratoVirtDriver *driver,
                                 virDomainObj *vm);
void virStratoVirtGuestCloseAgent(virDomainObj *vm);
void virStratoVirtGuestReset(virStratoVirtDriver *driver,
                             virDomainObj *vm);

int virStratoVirtGuestShutdown(virDomainObj *vm,
                               bool reboot);
int virStratoVirtGuestInterfaceAddresses(virDomainObj *vm,
                                         virDomainInterfacePtr **ifaces);

int virStratoVirtDomainSetUserPassword(virDomainPtr dom,
                                       const char *user,
                                       const char *password,
                                       unsigned int flags);
int virStratoVirtDomainFSFreeze(virDomainPtr dom,
                                const char **mountpoints,
                                unsigned int nmountpoints,
                                unsigned int flags);
int virStratoVirtDomainFSThaw(virDomainPtr dom,
                              const char **mountpoints,
                              unsigned int nmountpoints,
                              unsigned int flags);
int virStratoVirtDomainGetFSInfo(virDomainPtr dom,
                                 virDomainFSInfoPtr **info,
                                 unsigned int flags);
int virStratoVirtDomainGetTime(virDomainPtr dom,
                               long long *seconds,
                               unsigned int *nseconds,
                               unsigned int flags);
int virStratoVirtDomainSetTime(virDomainPtr dom,
                               long long seconds,
                               unsigned int nseconds,
                               unsigned int flags);
char *virStratoVirtDomainGetHostnameAgent(virDomainPtr dom,
                                          unsigned int flags);
int virStratoVirtDomainAgentSetResponseTimeout(virDomainPtr dom,
                                               int timeout,
                                               unsigned int flags);
int virStratoVirtDomainGetGuestInfo(virDomainPtr dom,
                                    unsigned int types,
                                    virTypedParameterPtr *params,
                                    int *nparams,
                                    unsigned int flags);
