/*
 * stratovirt_domain_ns.c: the StratoVirt XML namespace of domain XML
 *
 * The escape hatch every libvirt hypervisor driver gives its power users
 * (qemu:commandline, bhyve:commandline, lxc:namespace):
 *
 *   <domain type='kvm' xmlns:stratovirt='http://libvirt.org/schemas/domain/stratovirt/1.0'>
 *     <stratovirt:commandline>
 *       <stratovirt:arg value='-device'/>
 *       <stratovirt:arg value='virtio-rng-pci,id=rng1,bus=pcie.0,addr=0x9'/>
 *       <stratovirt:env name='STRATOVIRT_LOG_LEVEL' value='info'/>
 *     </stratovirt:commandline>
 *   </domain>
 *
 * The arguments go after the ones the driver builds, the variables into
 * the VMM's environment; a domain started with them is marked tainted
 * (custom-argv), as the QEMU driver marks it.  They are checked as every
 * other value of the command line is (see stratovirt_domain_validate.c):
 * a line break would split the log's record of the command line, and an
 * environment variable needs a name the environment can carry.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_domain_ns.h"
#include "stratovirt_domain_validate.h"
#include "viralloc.h"
#include "virbuffer.h"
#include "virerror.h"
#include "virstring.h"
#include "virxml.h"
#include "stratovirt_i18n.h"
#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN


static void
stratovirtDomainNsDefFree(void *nsdata)
{
    virStratoVirtDomainNsDef *ns = nsdata;
    size_t i;

    if (!ns)
        return;
    for (i = 0; i < ns->nargs; i++)
        g_free(ns->args[i]);
    g_free(ns->args);
    for (i = 0; i < ns->nenv; i++) {
        g_free(ns->env[i].name);
        g_free(ns->env[i].value);
    }
    g_free(ns->env);
    g_free(ns);
}


static int
stratovirtDomainNsCheckEnvName(const char *name)
{
    const char *p;

    if (!g_ascii_isalpha(name[0]) && name[0] != '_')
        goto bad;
    for (p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_')
            goto bad;
    }
    return 0;

 bad:
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                   _("<stratovirt:env name='%1$s'>: an environment variable name is letters, digits and '_', not starting with a digit"),
                   name);
    return -1;
}


static int
stratovirtDomainNsParse(xmlXPathContextPtr ctxt,
                        void **data)
{
    virStratoVirtDomainNsDef *ns = g_new0(virStratoVirtDomainNsDef, 1);
    g_autofree xmlNodePtr *args = NULL;
    g_autofree xmlNodePtr *envs = NULL;
    int nargs;
    int nenvs;
    int ret = -1;
    int i;

    if ((nargs = virXPathNodeSet("./stratovirt:commandline/stratovirt:arg", ctxt, &args)) < 0 ||
        (nenvs = virXPathNodeSet("./stratovirt:commandline/stratovirt:env", ctxt, &envs)) < 0)
        goto cleanup;

    ns->args = g_new0(char *, nargs + 1);
    for (i = 0; i < nargs; i++) {
        if (!(ns->args[ns->nargs] = virXMLPropString(args[i], "value"))) {
            virReportError(VIR_ERR_XML_ERROR, "%s",
                           _("<stratovirt:arg> needs a 'value' attribute"));
            goto cleanup;
        }
        if (virStratoVirtValidateCmdlineArg("<stratovirt:arg>", ns->args[ns->nargs++]) < 0)
            goto cleanup;
    }

    ns->env = g_new0(virStratoVirtDomainNsEnv, nenvs + 1);
    for (i = 0; i < nenvs; i++) {
        virStratoVirtDomainNsEnv *env = &ns->env[ns->nenv++];

        if (!(env->name = virXMLPropString(envs[i], "name"))) {
            virReportError(VIR_ERR_XML_ERROR, "%s",
                           _("<stratovirt:env> needs a 'name' attribute"));
            goto cleanup;
        }
        env->value = virXMLPropString(envs[i], "value");
        if (stratovirtDomainNsCheckEnvName(env->name) < 0 ||
            virStratoVirtValidateCmdlineArg("<stratovirt:env> value", env->value) < 0)
            goto cleanup;
    }

    if (ns->nargs || ns->nenv)
        *data = g_steal_pointer(&ns);
    ret = 0;

 cleanup:
    stratovirtDomainNsDefFree(ns);
    return ret;
}


static int
stratovirtDomainNsFormat(virBuffer *buf,
                         void *nsdata)
{
    virStratoVirtDomainNsDef *ns = nsdata;
    size_t i;

    if (!ns->nargs && !ns->nenv)
        return 0;

    virBufferAddLit(buf, "<stratovirt:commandline>\n");
    virBufferAdjustIndent(buf, 2);
    for (i = 0; i < ns->nargs; i++)
        virBufferEscapeString(buf, "<stratovirt:arg value='%s'/>\n", ns->args[i]);
    for (i = 0; i < ns->nenv; i++) {
        virBufferEscapeString(buf, "<stratovirt:env name='%s'", ns->env[i].name);
        virBufferEscapeString(buf, " value='%s'", ns->env[i].value);
        virBufferAddLit(buf, "/>\n");
    }
    virBufferAdjustIndent(buf, -2);
    virBufferAddLit(buf, "</stratovirt:commandline>\n");
    return 0;
}


virXMLNamespace virStratoVirtDriverDomainXMLNamespace = {
    .parse = stratovirtDomainNsParse,
    .free = stratovirtDomainNsDefFree,
    .format = stratovirtDomainNsFormat,
    .prefix = "stratovirt",
    .uri = VIR_STRATOVIRT_NAMESPACE_HREF,
};


const virStratoVirtDomainNsDef *
virStratoVirtDomainNsGet(const virDomainDef *def)
{
    return def->namespaceData;
}
