/*
 * stratovirtcommandtest.c: domain XML to StratoVirt command line, golden files
 *
 * For each tests/cmdline/NAME.xml the expected command line is NAME.args;
 * for each tests/cmdline/bad-NAME.xml the expected error is NAME.err (the
 * definition must be refused at parse time, as 'virsh define' would).
 * VIR_TEST_REGENERATE_OUTPUT=1 rewrites the expected files; review the diff.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dirent.h>

#include "svtest.h"
#include "stratovirt_command.h"
#include "stratovirt_conf.h"
#include "stratovirt_domain.h"
#include "virfile.h"
#include "virstring.h"

#define VIR_FROM_THIS VIR_FROM_NONE

static virStratoVirtDriver driver;
static virStratoVirtCaps *caps210;     /* StratoVirt 2.1.0 (no cargo features) */
static virStratoVirtCaps *capsNoVfio;  /* 2.5.0 built without 'vfio' (its default) */


/* Cases named v210-* are built for StratoVirt 2.1.0, novfio-* for a 2.5.0
 * without the vfio feature; the rest for the newest with every feature. */
static const virStratoVirtCaps *
capsForCase(const char *name)
{
    if (STRPREFIX(name, "v210-") || STRPREFIX(name, "bad-v210-"))
        return caps210;
    if (STRPREFIX(name, "novfio-") || STRPREFIX(name, "bad-novfio-"))
        return capsNoVfio;
    return NULL;
}
static const char *datadir;
static bool regenerate;


static int
compareOrRegenerate(const char *path,
                    const char *actual)
{
    g_autofree char *expected = NULL;

    if (regenerate)
        return virFileWriteStr(path, actual, 0644);

    if (virFileReadAll(path, 1024 * 1024, &expected) < 0)
        return -1;
    if (STRNEQ(expected, actual)) {
        fprintf(stderr, "--- %s\n+++ actual\n%s\n", path, actual);
        return -1;
    }
    return 0;
}


static virDomainDef *
parseFile(const char *xmlpath)
{
    return virDomainDefParseFile(xmlpath, driver.xmlopt, NULL,
                                 VIR_DOMAIN_DEF_PARSE_INACTIVE);
}


static int
testGood(const void *data)
{
    const char *name = data;
    g_autofree char *xmlpath = g_strdup_printf("%s/%s.xml", datadir, name);
    g_autofree char *argspath = g_strdup_printf("%s/%s.args", datadir, name);
    g_autoptr(virDomainDef) def = NULL;
    g_autoptr(virCommand) cmd = NULL;
    g_autofree char *actual = NULL;
    g_autofree char *withnl = NULL;
    virStratoVirtNetFDs *netfds = NULL;
    int nextfd = 30;
    size_t i;
    virStratoVirtBuildParams params = {
        .qmpPath = "/run/libvirt/stratovirt/1-dom/qmp.sock",
        .logfile = "/var/log/libvirt/stratovirt/dom.stratovirt.log",
        .memPath = NULL,
        .startPaused = false,
        .caps = capsForCase(name),
    };

    if (!(def = parseFile(xmlpath)))
        return -1;
    if (def->mem.nhugepages)
        params.memPath = "/dev/hugepages1G";
    if (def->ngraphics && def->graphics[0]->data.vnc.autoport)
        def->graphics[0]->data.vnc.port = 5900; /* as the start picks it */
    if (strstr(name, "paused"))
        params.startPaused = true;
    if (def->nserials > 0 && def->serials[0]->source->logfile) {
        /* as the start sets both for a logged serial port */
        params.serialSocket = "/run/libvirt/stratovirt/1-dom/serial.sock";
        params.startPaused = true;
    }

    if (virStratoVirtAssignAliases(def) < 0)
        return -1;
    /* the fds the start would have opened: taps from 30, vhost-net from 60
     * (only for cases named *vhost*) */
    netfds = g_new0(virStratoVirtNetFDs, def->nnets + 1);
    for (i = 0; i < def->nnets; i++) {
        size_t q = MAX(def->nets[i]->driver.virtio.queues, 1);
        size_t j;

        netfds[i].ntapfd = q;
        netfds[i].tapfd = g_new0(int, q);
        if (strstr(name, "vhost")) {
            netfds[i].nvhostfd = q;
            netfds[i].vhostfd = g_new0(int, q);
        }
        for (j = 0; j < q; j++) {
            netfds[i].tapfd[j] = nextfd++;
            if (netfds[i].vhostfd)
                netfds[i].vhostfd[j] = 30 + nextfd;
        }
    }
    params.netfds = netfds;
    cmd = virStratoVirtBuildCommandLine(def, &params);
    for (i = 0; i < def->nnets; i++) {
        g_free(netfds[i].tapfd);
        g_free(netfds[i].vhostfd);
    }
    g_free(netfds);
    if (!cmd)
        return -1;
    if (!(actual = virCommandToStringFull(cmd, true, false)))
        return -1;
    withnl = g_strdup_printf("%s\n", actual);
    return compareOrRegenerate(argspath, withnl);
}


static int
testBad(const void *data)
{
    const char *name = data;
    g_autofree char *xmlpath = g_strdup_printf("%s/%s.xml", datadir, name);
    g_autofree char *errpath = g_strdup_printf("%s/%s.err", datadir, name);
    g_autoptr(virDomainDef) def = NULL;
    g_autofree char *msg = NULL;

    if ((def = parseFile(xmlpath))) {
        /* valid XML that this binary cannot run: refused when the command
         * line is built for it */
        virStratoVirtBuildParams params = {
            .qmpPath = "/run/q.sock", .logfile = "/var/log/l",
            .caps = capsForCase(name), .serialSocket = "/run/s.sock",
        };
        g_autoptr(virCommand) cmd = NULL;

        if (!params.caps || virStratoVirtAssignAliases(def) < 0 ||
            (cmd = virStratoVirtBuildCommandLine(def, &params))) {
            fprintf(stderr, "%s was accepted but must be refused\n", xmlpath);
            return -1;
        }
    }
    if (virGetLastErrorCode() != VIR_ERR_CONFIG_UNSUPPORTED &&
        virGetLastErrorCode() != VIR_ERR_XML_ERROR &&
        virGetLastErrorCode() != VIR_ERR_CONFIG_UNSUPPORTED) {
        fprintf(stderr, "%s: unexpected error code %d: %s\n", xmlpath,
                virGetLastErrorCode(), virGetLastErrorMessage());
        return -1;
    }
    msg = g_strdup_printf("%d %s\n", virGetLastErrorCode(), virGetLastErrorMessage());
    virResetLastError();
    return compareOrRegenerate(errpath, msg);
}


static int
listCases(GPtrArray *good, GPtrArray *bad)
{
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    int rc;

    if (virDirOpen(&dir, datadir) < 0)
        return -1;
    while ((rc = virDirRead(dir, &ent, datadir)) > 0) {
        char *name;

        if (!virStringHasSuffix(ent->d_name, ".xml"))
            continue;
        name = g_strndup(ent->d_name, strlen(ent->d_name) - 4);
        g_ptr_array_add(STRPREFIX(name, "bad-") ? bad : good, name);
    }
    return rc;
}


static gint
cmpNames(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char **) a, *(char **) b);
}


int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) good = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func(g_free);
    size_t i;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DATADIR\n", argv[0]);
        return EXIT_FAILURE;
    }
    datadir = argv[1];
    regenerate = !!g_getenv("VIR_TEST_REGENERATE_OUTPUT");

    if (virErrorInitialize() < 0 || virMutexInit(&driver.lock) < 0)
        return EXIT_FAILURE;
    driver.config = virStratoVirtDriverConfigNew(true);
    /* the golden firmware descriptors, not the build host's */
    g_strfreev(driver.config->firmwareDirs);
    driver.config->firmwareDirs = g_new0(char *, 2);
    driver.config->firmwareDirs[0] = g_strdup_printf("%s/../firmware", datadir);
    if (!(driver.caps = virStratoVirtDriverCapsInit(driver.config)) ||
        !(driver.xmlopt = virStratoVirtDomainXMLConfInit(&driver))) {
        fprintf(stderr, "setup failed: %s\n", virGetLastErrorMessage());
        return EXIT_FAILURE;
    }
    /* the golden files cover both architectures whatever the host */
    if (virArchFromHost() != VIR_ARCH_AARCH64 &&
        virStratoVirtCapsAddGuest(driver.caps, VIR_ARCH_AARCH64, driver.config->emulator) < 0) {
        fprintf(stderr, "setup failed: %s\n", virGetLastErrorMessage());
        return EXIT_FAILURE;
    }

    caps210 = virStratoVirtCapsNewForVersion(2001000,
                                             (1U << VIR_STRATOVIRT_FEATURE_VFIO) |
                                             (1U << VIR_STRATOVIRT_FEATURE_VIRTIO_RNG) |
                                             (1U << VIR_STRATOVIRT_FEATURE_VHOST_VSOCK));
    capsNoVfio = virStratoVirtCapsNewForVersion(2005000,
                                                ((1U << VIR_STRATOVIRT_FEATURE_LAST) - 1) &
                                                ~(1U << VIR_STRATOVIRT_FEATURE_VFIO));

    if (listCases(good, bad) < 0)
        return EXIT_FAILURE;
    g_ptr_array_sort(good, cmpNames);
    g_ptr_array_sort(bad, cmpNames);

    for (i = 0; i < good->len; i++) {
        g_autofree char *title = g_strdup_printf("cmdline %s", (char *) good->pdata[i]);
        svTestRun(title, testGood, good->pdata[i]);
    }
    for (i = 0; i < bad->len; i++) {
        g_autofree char *title = g_strdup_printf("refused %s", (char *) bad->pdata[i]);
        svTestRun(title, testBad, bad->pdata[i]);
    }
    return svTestDone();
}
