/*
 * stratovirtconftest.c: driver configuration, version parsing, capabilities,
 * the balloon retry's schedule
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <unistd.h>

#include "svtest.h"
#include "stratovirt_compat.h"
#include "stratovirt_conf.h"
#include "stratovirt_tuning.h"
#include "virfile.h"
#include "virstring.h"

#define VIR_FROM_THIS VIR_FROM_NONE

static char *tmpdir;


static int
writeConf(const char *name, const char *text, char **path)
{
    *path = g_strdup_printf("%s/%s", tmpdir, name);
    return virFileWriteStr(*path, text, 0600);
}


static int
testVersionParse(const void *data G_GNUC_UNUSED)
{
    unsigned long v = 0;

    /* what v2.1.0 printed, and the HEAD format with a commit id */
    SV_CHECK(virStratoVirtParseVersionOutput("StratoVirt 2.1.0\n", &v) == 0);
    SV_CHECK(v == 2001000);
    SV_CHECK(virStratoVirtParseVersionOutput("StratoVirt 2.5.0 commit-id d5b32037\n", &v) == 0);
    SV_CHECK(v == 2005000);
    return 0;
}


static int
testVersionParseGarbage(const void *data G_GNUC_UNUSED)
{
    unsigned long v = 0;

    SV_CHECK(virStratoVirtParseVersionOutput("QEMU emulator version 7.2.0", &v) < 0);
    SV_CHECK(virGetLastErrorCode() == VIR_ERR_OPERATION_FAILED);
    SV_CHECK(virStratoVirtParseVersionOutput("StratoVirt unknown", &v) < 0);
    SV_CHECK(virStratoVirtParseVersionOutput("", &v) < 0);
    return 0;
}


static int
testConfigDefaults(const void *data G_GNUC_UNUSED)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverConfigNew(true);

    SV_CHECK(STREQ(cfg->emulator, "/usr/bin/stratovirt"));
    SV_CHECK(STREQ(cfg->configBaseDir, "/etc/libvirt/stratovirt"));
    SV_CHECK(STREQ(cfg->autostartDir, "/etc/libvirt/stratovirt/autostart"));
    SV_CHECK(STREQ(cfg->stateDir, "/run/libvirt/stratovirt"));
    SV_CHECK(STREQ(cfg->logDir, "/var/log/libvirt/stratovirt"));
    SV_CHECK(cfg->user == 0 && cfg->group == 0);
    SV_CHECK(cfg->qmpTimeout == 30);

    /* a missing file keeps the defaults */
    SV_CHECK(virStratoVirtDriverConfigLoadFile(cfg, "/nonexistent/stratovirt.conf") == 0);
    SV_CHECK(STREQ(cfg->emulator, "/usr/bin/stratovirt"));
    return 0;
}


static int
testConfigFile(const void *data G_GNUC_UNUSED)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverConfigNew(true);
    g_autofree char *path = NULL;

    SV_CHECK(writeConf("good.conf",
                       "stratovirt_binary = \"/opt/sv/bin/stratovirt\"\n"
                       "config_dir = \"/srv/sv/conf\"\n"
                       "state_dir = \"/srv/sv/run\"\n"
                       "log_dir = \"/srv/sv/log\"\n"
                       "user = \"root\"\n"
                       "group = \"root\"\n"
                       "qmp_timeout = 5\n"
                       "shutdown_timeout = 60\n", &path) == 0);
    SV_CHECK(virStratoVirtDriverConfigLoadFile(cfg, path) == 0);
    SV_CHECK(STREQ(cfg->emulator, "/opt/sv/bin/stratovirt"));
    SV_CHECK(STREQ(cfg->configBaseDir, "/srv/sv/conf"));
    SV_CHECK(STREQ(cfg->autostartDir, "/srv/sv/conf/autostart"));
    SV_CHECK(STREQ(cfg->stateDir, "/srv/sv/run"));
    SV_CHECK(STREQ(cfg->logDir, "/srv/sv/log"));
    SV_CHECK(cfg->qmpTimeout == 5);
    SV_CHECK(cfg->shutdownTimeout == 60);
    SV_CHECK(STREQ(cfg->configFile, path));
    return 0;
}


static int
testConfigBad(const void *data)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverConfigNew(true);
    g_autofree char *path = NULL;

    SV_CHECK(writeConf("bad.conf", data, &path) == 0);
    SV_CHECK(virStratoVirtDriverConfigLoadFile(cfg, path) < 0);
    /* the error says something, with a libvirt error code */
    SV_CHECK(virGetLastErrorCode() != VIR_ERR_OK);
    SV_CHECK(virGetLastErrorMessage() && *virGetLastErrorMessage());
    return 0;
}


static int
testCapsGuests(const void *data G_GNUC_UNUSED)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverConfigNew(true);
    g_autoptr(virCaps) caps = virStratoVirtDriverCapsInit(cfg);
    g_autofree char *xml = NULL;
    virCapsDomainData *d;

    SV_CHECK(caps);
    /* KVM runs the host's architecture only */
    SV_CHECK(caps->nguests == 1);
    SV_CHECK(caps->guests[0]->arch.id == virArchFromHost());
    if (virArchFromHost() != VIR_ARCH_X86_64)
        return 0;
    SV_CHECK((xml = virCapabilitiesFormatXML(caps)));
    SV_CHECK(strstr(xml, "<emulator>/usr/bin/stratovirt</emulator>"));
    SV_CHECK(strstr(xml, "<machine maxCpus='255'>q35</machine>") ||
             strstr(xml, ">q35</machine>"));

    /* the first machine is the default one */
    SV_CHECK((d = virStratoVirtCompatCapsDomainDataLookup(caps, VIR_DOMAIN_OSTYPE_HVM,
                                                          VIR_ARCH_X86_64,
                                                          VIR_DOMAIN_VIRT_KVM,
                                                          NULL, NULL)));
    SV_CHECK(STREQ(d->machinetype, "q35"));
    g_free(d);
    SV_CHECK(!virStratoVirtCompatCapsDomainSupported(caps, VIR_DOMAIN_OSTYPE_HVM,
                                                     VIR_ARCH_AARCH64, VIR_DOMAIN_VIRT_KVM));
    virResetLastError();
    /* what the golden tests of aarch64 command lines add by hand */
    SV_CHECK(virStratoVirtCapsAddGuest(caps, VIR_ARCH_AARCH64, "/usr/bin/stratovirt") == 0);
    SV_CHECK((d = virStratoVirtCompatCapsDomainDataLookup(caps, VIR_DOMAIN_OSTYPE_HVM,
                                                          VIR_ARCH_AARCH64,
                                                          VIR_DOMAIN_VIRT_KVM,
                                                          NULL, "microvm")));
    g_free(d);
    SV_CHECK(virStratoVirtCapsAddGuest(caps, VIR_ARCH_PPC64, "/usr/bin/stratovirt") < 0);

    /* no TCG, no other architecture */
    SV_CHECK(!virStratoVirtCompatCapsDomainSupported(caps, VIR_DOMAIN_OSTYPE_HVM,
                                                     VIR_ARCH_X86_64, VIR_DOMAIN_VIRT_QEMU));
    SV_CHECK(!virStratoVirtCompatCapsDomainSupported(caps, VIR_DOMAIN_OSTYPE_HVM,
                                                     VIR_ARCH_PPC64, VIR_DOMAIN_VIRT_KVM));
    virResetLastError();
    return 0;
}


/* A guest without a balloon driver: each refused attempt is an ERROR line
 * in its domain log.  At most 5 s apart in the first minute, then from
 * 10 s doubling to 10 min: 26 attempts (the start's own included) in the
 * first hour, 6 in each hour after. */
static int
testBalloonRetrySchedule(const void *data G_GNUC_UNUSED)
{
    unsigned long long t = 0;
    unsigned int prev = 0;
    size_t first = 1;   /* the start's own attempt, at 0 */
    size_t second = 0;
    unsigned int worstFast = 0;

    SV_CHECK(virStratoVirtBalloonRetryDelay(0, 0) == 500);
    SV_CHECK(virStratoVirtBalloonRetryDelay(500, 500) == 1000);
    SV_CHECK(virStratoVirtBalloonRetryDelay(4000, 7500) == 5000);
    SV_CHECK(virStratoVirtBalloonRetryDelay(5000, 62500) == 10000);
    SV_CHECK(virStratoVirtBalloonRetryDelay(320000, 372500) == 600000);
    SV_CHECK(virStratoVirtBalloonRetryDelay(600000, 4000000) == 600000);
    while (t < 2 * 3600 * 1000ULL) {
        prev = virStratoVirtBalloonRetryDelay(prev, t);
        if (t < 60000)
            worstFast = MAX(worstFast, prev);
        t += prev;
        if (t <= 3600 * 1000ULL)
            first++;
        else if (t <= 2 * 3600 * 1000ULL)
            second++;
    }
    SV_CHECK(worstFast == 5000);
    SV_CHECK(first == 26);
    SV_CHECK(second == 6);
    return 0;
}


int
main(void)
{
    g_autofree char *tmpl = g_strdup("/tmp/svconftest-XXXXXX");
    int ret;

    if (virErrorInitialize() < 0 || !(tmpdir = g_mkdtemp(tmpl)))
        return EXIT_FAILURE;

    svTestRun("version: 'stratovirt -V' of v2.1.0 and HEAD", testVersionParse, NULL);
    svTestRun("version: other output is an error", testVersionParseGarbage, NULL);
    svTestRun("config: built-in defaults for the system instance", testConfigDefaults, NULL);
    svTestRun("config: every key of stratovirt.conf is read", testConfigFile, NULL);
    svTestRun("config: relative binary path refused", testConfigBad,
              "stratovirt_binary = \"stratovirt\"\n");
    svTestRun("config: relative state dir refused", testConfigBad,
              "state_dir = \"run/stratovirt\"\n");
    svTestRun("config: unknown user refused", testConfigBad,
              "user = \"no-such-user-here\"\n");
    svTestRun("config: zero QMP timeout refused", testConfigBad,
              "qmp_timeout = 0\n");
    svTestRun("config: wrong type refused", testConfigBad,
              "qmp_timeout = \"soon\"\n");
    svTestRun("config: syntax error refused", testConfigBad,
              "stratovirt_binary = \n");
    svTestRun("caps: a kvm guest for the host architecture only, with its machines",
              testCapsGuests, NULL);

    svTestRun("balloon: the retry schedule bounds the log, fast in the first minute",
              testBalloonRetrySchedule, NULL);

    ret = svTestDone();
    virFileDeleteTree(tmpdir);
    return ret;
}
