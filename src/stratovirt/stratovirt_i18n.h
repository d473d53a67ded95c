/*
 * stratovirt_i18n.h: the driver's own gettext domain
 *
 * libvirt's internal.h translates _() in libvirt's domain ("libvirt"); the
 * driver's messages are in its own catalog, libvirt-stratovirt (po/).
 * Include this header last in every source file of the driver.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "internal.h"

#include <libintl.h>

#define STRATOVIRT_GETTEXT_PACKAGE "libvirt-stratovirt"

#undef _
#define _(str) dgettext(STRATOVIRT_GETTEXT_PACKAGE, str)

void virStratoVirtI18nInit(void);
