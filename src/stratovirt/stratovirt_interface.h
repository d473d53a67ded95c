/*
 * stratovirt_interface.h: the host side of a domain's network interfaces
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"
#include "stratovirt_command.h"
#include "domain_conf.h"

void virStratoVirtNetFDsClear(virStratoVirtNetFDs *fds);
void virStratoVirtNetFDsFreeAll(virStratoVirtNetFDs *fds, size_t n);

int virStratoVirtInterfacePrepare(virStratoVirtDriver *driver,
                                  virDomainObj *vm,
                                  virDomainNetDef *net,
                                  virStratoVirtNetFDs *fds);
int virStratoVirtInterfacePrepareAll(virStratoVirtDriver *driver,
                                     virDomainObj *vm,
                                     virStratoVirtNetFDs **fds);

void virStratoVirtInterfaceRelease(virStratoVirtDriver *driver,
                                   virDomainObj *vm,
                                   virDomainNetDef *net);
void virStratoVirtInterfaceReleaseAll(virStratoVirtDriver *driver,
                                      virDomainObj *vm);

void virStratoVirtInterfaceReconnectAll(virDomainObj *vm);

int virStratoVirtInterfaceSetLink(virDomainNetDef *net,
                                  virDomainNetInterfaceLinkState state);
int virStratoVirtInterfaceSetBandwidth(virDomainDef *def,
                                       virDomainNetDef *net,
                                       const virNetDevBandwidth *bandwidth);

/* Traffic counters of one interface, from the host side of its tap (rx and
 * tx as the guest sees them); for interfaceStats and getAllDomainStats. */
int virStratoVirtInterfaceGetStats(const virDomainNetDef *net,
                                   virDomainInterfaceStatsPtr stats);

int virStratoVirtInterfaceAddresses(virDomainObj *vm,
                                    unsigned int source,
                                    virDomainInterfacePtr **ifaces);

int virStratoVirtInterfaceAttachLive(virStratoVirtDriver *driver,
                                     virDomainObj *vm,
                                     virDomainNetDef *net);
int virStratoVirtInterfaceDetachLive(virStratoVirtDriver *driver,
                                     virDomainObj *vm,
                                     size_t idx,
                                     unsigned int timeout);
void virStratoVirtInterfaceRemoved(virStratoVirtDriver *driver,
                                   virDomainObj *vm,
                                   const char *alias);
