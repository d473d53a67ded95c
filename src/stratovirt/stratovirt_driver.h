/*
 * stratovirt_driver.h: the StratoVirt hypervisor driver
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

int stratovirtRegister(void);
