/*
 * stratovirt_firmware.h: UEFI firmware from the firmware descriptors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "internal.h"
#include "virarch.h"
#include "domain_conf.h"

typedef struct _virStratoVirtFirmware virStratoVirtFirmware;
struct _virStratoVirtFirmware {
    char *descriptor;       /* the JSON file it was read from */
    char *executable;       /* the code image, pflash unit 0 */
    char *nvramTemplate;    /* the variable store to copy, pflash unit 1 */
    bool secureBoot;        /* feature "secure-boot" */
    bool enrolledKeys;      /* feature "enrolled-keys" */
};

void virStratoVirtFirmwareFree(virStratoVirtFirmware *fw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStratoVirtFirmware, virStratoVirtFirmwareFree);

char **virStratoVirtFirmwareDefaultDirs(bool privileged);

GPtrArray *virStratoVirtFirmwareFind(const char *const *dirs,
                                     virArch arch,
                                     const char *machine);

int virStratoVirtFirmwareFillDomain(const char *const *dirs,
                                    const char *nvramDir,
                                    virDomainDef *def);
