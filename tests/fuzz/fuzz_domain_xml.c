/*
 * fuzz_domain_xml.c: libFuzzer target, domain XML through the driver
 *
 * Parse with the driver's post-parse and validation callbacks, assign
 * aliases and addresses, build the StratoVirt command line, format the
 * definition back.  Any crash, leak or undefined behaviour is a bug.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_command.h"
#include "stratovirt_conf.h"
#include "stratovirt_domain.h"
#include "virerror.h"
#include "virlog.h"

static virStratoVirtDriver driver;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quietErrors(void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
}


int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED, char ***argv G_GNUC_UNUSED)
{
    if (virErrorInitialize() < 0 || virMutexInit(&driver.lock) < 0)
        abort();
    virSetErrorFunc(NULL, quietErrors);
    virLogSetDefaultPriority(VIR_LOG_ERROR);
    virLogSetOutputs("4:stderr");
    driver.config = virStratoVirtDriverConfigNew(true);
    if (!(driver.caps = virStratoVirtDriverCapsInit(driver.config)) ||
        !(driver.xmlopt = virStratoVirtDomainXMLConfInit(&driver)))
        abort();
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *xml = g_strndup((const char *) data, size);
    g_autoptr(virDomainDef) def = NULL;
    g_autoptr(virCommand) cmd = NULL;
    g_autofree char *argv = NULL;
    g_autofree char *back = NULL;
    virStratoVirtBuildParams params = {
        .qmpPath = "/run/libvirt/stratovirt/fuzz/qmp.sock",
        .pidfile = "/run/libvirt/stratovirt/fuzz/stratovirt.pid",
        .logfile = "/var/log/libvirt/stratovirt/fuzz.log",
        .memPath = "/dev/hugepages",
    };

    if (!(def = virDomainDefParseString(xml, driver.xmlopt, NULL,
                                        VIR_DOMAIN_DEF_PARSE_INACTIVE))) {
        virResetLastError();
        return 0;
    }
    virStratoVirtAssignAliases(def);
    if (def->ngraphics && def->graphics[0]->data.vnc.autoport)
        def->graphics[0]->data.vnc.port = 5900; /* as the start picks it */
    if ((cmd = virStratoVirtBuildCommandLine(def, &params)))
        argv = virCommandToString(cmd, false);
    back = virDomainDefFormat(def, driver.xmlopt, 0);
    virResetLastError();
    return 0;
}
