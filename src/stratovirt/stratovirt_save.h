/*
 * stratovirt_save.h: save and restore, managed save, through StratoVirt's
 * snapshot (migrate to a file, -incoming file:)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

int virStratoVirtSaveDomain(virStratoVirtDriver *driver,
                            virDomainObj *vm,
                            const char *path,
                            bool managed,
                            unsigned int flags);
virDomainDef *virStratoVirtSaveReadImage(virStratoVirtDriver *driver,
                                         const char *path,
                                         bool *paused);
int virStratoVirtSaveRestore(virConnectPtr conn,
                             virDomainDef **def,
                             const char *path,
                             bool paused);
int virStratoVirtSaveStartManaged(virStratoVirtDriver *driver,
                                  virDomainObj *vm,
                                  virConnectPtr conn,
                                  unsigned int startFlags,
                                  bool paused);
char *virStratoVirtSaveManagedPath(virStratoVirtDriver *driver,
                                   virDomainObj *vm);
int virStratoVirtSaveRemoveManaged(virStratoVirtDriver *driver,
                                   virDomainObj *vm);
void virStratoVirtSaveScanManaged(virStratoVirtDriver *driver);
