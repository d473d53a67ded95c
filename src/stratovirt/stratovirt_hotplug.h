/*
 * stratovirt_hotplug.h: disks plugged into and out of a running domain,
 * and device edits of a domain's persistent definition
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

/* How long (ms) a live detach waits for the guest before it returns with
 * the request pending (as libvirt's QEMU driver does) */
#define VIR_STRATOVIRT_UNPLUG_WAIT 5000

int virStratoVirtHotplugAttachDisk(virStratoVirtDriver *driver,
                                   virDomainObj *vm,
                                   virDomainDiskDef *disk);
int virStratoVirtHotplugDetachDisk(virStratoVirtDriver *driver,
                                   virDomainObj *vm,
                                   virDomainDiskDef *disk,
                                   unsigned int timeout);
void virStratoVirtHotplugDeviceRemoved(virStratoVirtDriver *driver,
                                       virDomainObj *vm,
                                       const char *alias);
void virStratoVirtHotplugDeviceDeleted(virStratoVirtDriver *driver,
                                       virDomainObj *vm,
                                       const char *alias);

int virStratoVirtConfigAttachDevice(virDomainDef *vmdef,
                                    virDomainDeviceDef *dev);
int virStratoVirtConfigDetachDevice(virDomainDef *vmdef,
                                    virDomainDeviceDef *dev);
int virStratoVirtConfigUpdateDevice(virDomainDef *vmdef,
                                    virDomainDeviceDef *dev);
int virStratoVirtConfigCheck(virDomainDef *vmdef,
                             virDomainXMLOption *xmlopt);
