/*
 * stratovirt_hostdev.h: PCI passthrough through libvirt's virHostdevManager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

int virStratoVirtHostdevPrepareDomain(virStratoVirtDriver *driver,
                                      virDomainObj *vm);
void virStratoVirtHostdevReattachDomain(virStratoVirtDriver *driver,
                                        virDomainObj *vm);
void virStratoVirtHostdevUpdateActive(virStratoVirtDriver *driver,
                                      virDomainObj *vm);
void virStratoVirtHostdevDeviceDeleted(virStratoVirtDriver *driver,
                                       virDomainObj *vm,
                                       const char *alias);
int virStratoVirtHostdevAttachLive(virStratoVirtDriver *driver,
                                   virDomainObj *vm,
                                   virDomainHostdevDef *hostdev);
int virStratoVirtHostdevDetachLive(virStratoVirtDriver *driver,
                                   virDomainObj *vm,
                                   size_t idx,
                                   unsigned int timeout);
void virStratoVirtHostdevRemoved(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 const char *alias);
