/*
 * stratovirt_security.h: labels through libvirt's security manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"
#include "vircommand.h"

virSecurityManager *virStratoVirtSecurityInit(virStratoVirtDriver *driver,
                                              virStratoVirtDriverConfig *cfg);
int virStratoVirtSecuritySetAll(virStratoVirtDriver *driver,
                                virDomainObj *vm);
int virStratoVirtSecuritySetChildProcess(virStratoVirtDriver *driver,
                                         virDomainObj *vm,
                                         virCommand *cmd);
int virStratoVirtSecuritySetHostdev(virStratoVirtDriver *driver,
                                    virDomainObj *vm,
                                    virDomainHostdevDef *hostdev);
void virStratoVirtSecurityRestoreHostdev(virStratoVirtDriver *driver,
                                         virDomainObj *vm,
                                         virDomainHostdevDef *hostdev);
int virStratoVirtSecuritySetDisk(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 virDomainDiskDef *disk);
void virStratoVirtSecurityRestoreDisk(virStratoVirtDriver *driver,
                                      virDomainObj *vm,
                                      virDomainDiskDef *disk);
void virStratoVirtSecurityRestoreAll(virStratoVirtDriver *driver,
                                     virDomainObj *vm);
