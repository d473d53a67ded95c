/*
 * stratovirt_domain_validate.h: what StratoVirt cannot do, refused by name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"

int virStratoVirtValidateCmdlineValue(const char *what,
                                      const char *value);
int virStratoVirtValidateCmdlineArg(const char *what,
                                    const char *value);
void virStratoVirtDomainValidateSetup(virDomainDefParserConfig *config);
