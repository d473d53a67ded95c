/*
 * stratovirt_power.h: graceful shutdown and reboot, by the means each
 * StratoVirt machine really has
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_conf.h"

/* How a shutdown or reboot request is carried out */
typedef enum {
    VIR_STRATOVIRT_POWER_ACPI = 0,  /* system_powerdown: the guest decides */
    VIR_STRATOVIRT_POWER_OFF,       /* system_powerdown: StratoVirt powers off at once */
} virStratoVirtPowerMethod;

int virStratoVirtPowerChooseShutdown(virDomainDef *def,
                                     unsigned int flags,
                                     virStratoVirtPowerMethod *method);
int virStratoVirtPowerChooseReboot(virDomainDef *def,
                                   unsigned int flags,
                                   virStratoVirtPowerMethod *method);

void virStratoVirtPowerFakeReboot(virStratoVirtDriver *driver,
                                  virDomainObj *vm);
