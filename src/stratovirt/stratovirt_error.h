/*
 * stratovirt_error.h: the error domain of the driver's errors, chosen here
 * and nowhere else
 *
 * libvirt 9.0's public virErrorDomain has no StratoVirt entry, and an
 * out-of-tree driver cannot add one.  The nearest honest domain is
 * VIR_FROM_DOMAIN: it is what libvirt's hypervisor-neutral domain code
 * (src/hypervisor/domain_driver.c, domain_cgroup.c) and domain XML code
 * report under, i.e. "a domain's driver, not a particular hypervisor's",
 * where VIR_FROM_QEMU or VIR_FROM_CH would tell clients (Nova checks error
 * domains) that another hypervisor answered.  Upstreamed, this becomes
 * VIR_FROM_STRATOVIRT in one line.  scripts/check-rooms.py keeps every
 * source on it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "virerror.h"

#define VIR_STRATOVIRT_ERROR_DOMAIN VIR_FROM_DOMAIN
