/*
 * stratovirt_domain_addr.h: PCI address assignment for StratoVirt's topology
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"

bool virStratoVirtDomainIsStandard(const virDomainDef *def);
bool virStratoVirtDomainIsMicrovm(const virDomainDef *def);

int virStratoVirtDomainAddImplicitControllers(virDomainDef *def);
int virStratoVirtDomainAssignAddresses(virDomainDef *def);
int virStratoVirtDomainAssignDeviceAddress(virDomainDef *def,
                                           virDomainDeviceInfo *info,
                                           bool hotpluggable);
int virStratoVirtDomainFreeRootPort(virDomainDef *def);
