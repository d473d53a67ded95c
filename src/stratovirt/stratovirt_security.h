/*
 * stratovirt_security.h: DAC ownership for a VMM that runs unprivileged
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

int virStratoVirtSecuritySetAll(virStratoVirtDriver *driver,
                                virDomainObj *vm);
int virStratoVirtSecuritySetHostdev(virStratoVirtDriver *driver,
                                    virDomainObj *vm,
                                    virDomainHostdevDef *hostdev);
void virStratoVirtSecurityRestoreAll(virDomainObj *vm);
int virStratoVirtSecurityFormat(virBuffer *buf,
                                virDomainObj *vm);
int virStratoVirtSecurityParse(xmlXPathContextPtr ctxt,
                               virDomainObj *vm);
