/*
 * stratovirt_domain_ns.h: the StratoVirt XML namespace of domain XML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "domain_conf.h"

#define VIR_STRATOVIRT_NAMESPACE_HREF "http://libvirt.org/schemas/domain/stratovirt/1.0"

typedef struct _virStratoVirtDomainNsEnv virStratoVirtDomainNsEnv;
struct _virStratoVirtDomainNsEnv {
    char *name;
    char *value;
};

/* <stratovirt:commandline>: extra arguments and environment of the VMM */
typedef struct _virStratoVirtDomainNsDef virStratoVirtDomainNsDef;
struct _virStratoVirtDomainNsDef {
    size_t nargs;
    char **args;
    size_t nenv;
    virStratoVirtDomainNsEnv *env;
};

extern virXMLNamespace virStratoVirtDriverDomainXMLNamespace;

/* The namespace data of @def, or NULL when it has none */
const virStratoVirtDomainNsDef *virStratoVirtDomainNsGet(const virDomainDef *def);
