/*
 * stratovirtmonitortest.c: the QMP monitor against what StratoVirt (and a
 * hostile VMM) sends, plus every input the fuzzers ever crashed on
 * (tests/fuzz/regressions), replayed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dirent.h>

#include "svtest.h"
#include "stratovirt_monitor.h"
#include "virfile.h"
#include "virlog.h"
#include "virstring.h"

#define VIR_FROM_THIS VIR_FROM_NONE

static size_t nevents;
static char lastEvent[64];

static void
onEvent(virStratoVirtMonitor *mon G_GNUC_UNUSED, virDomainObj *vm G_GNUC_UNUSED,
        const char *event, virJSONValue *data G_GNUC_UNUSED, void *opaque G_GNUC_UNUSED)
{
    nevents++;
    g_strlcpy(lastEvent, event, sizeof(lastEvent));
}

static virStratoVirtMonitorCallbacks cb = { .eventNotify = onEvent };

typedef struct {
    const char *input;
    int expect;        /* virStratoVirtMonitorFeed's result */
    size_t events;
} FeedCase;


static int
testFeed(const void *data)
{
    const FeedCase *c = data;
    g_autoptr(virStratoVirtMonitor) mon = virStratoVirtMonitorNewForTest(&cb, NULL);
    int rc;

    nevents = 0;
    SV_CHECK(mon);
    rc = virStratoVirtMonitorFeed(mon, c->input, strlen(c->input));
    if (rc != c->expect || nevents != c->events) {
        fprintf(stderr, "got %d with %zu events, want %d with %zu\n",
                rc, nevents, c->expect, c->events);
        return -1;
    }
    virResetLastError();
    return 0;
}


static int
testSplitWrites(const void *data G_GNUC_UNUSED)
{
    g_autoptr(virStratoVirtMonitor) mon = virStratoVirtMonitorNewForTest(&cb, NULL);
    const char *msg = "{\"event\":\"STOP\",\"data\":{},\"timestamp\":{\"seconds\":1,\"microseconds\":2}}\r\n"
                      "{\"return\":{},\"id\":\"libvirt-1\"}\r\n";
    size_t i;
    int rc = 0;

    nevents = 0;
    /* one byte at a time: nothing is lost or doubled */
    for (i = 0; msg[i]; i++) {
        int r = virStratoVirtMonitorFeed(mon, msg + i, 1);

        SV_CHECK(r >= 0);
        rc += r;
    }
    SV_CHECK(rc == 1);
    SV_CHECK(nevents == 1 && STREQ(lastEvent, "STOP"));
    return 0;
}


static int
testOversize(const void *data G_GNUC_UNUSED)
{
    g_autoptr(virStratoVirtMonitor) mon = virStratoVirtMonitorNewForTest(&cb, NULL);
    g_autofree char *big = g_strnfill(64 * 1024, 'x');
    size_t i;
    int rc = 0;

    /* 2 MiB without a line break: the monitor gives up, it does not grow */
    for (i = 0; i < 32 && rc == 0; i++)
        rc = virStratoVirtMonitorFeed(mon, big, strlen(big));
    SV_CHECK(rc == -1);
    SV_CHECK(i <= 17);
    virResetLastError();
    return 0;
}


static int
testRegression(const void *data)
{
    const char *path = data;
    g_autoptr(virStratoVirtMonitor) mon = virStratoVirtMonitorNewForTest(&cb, NULL);
    g_autofree char *buf = NULL;
    int len;

    SV_CHECK((len = virFileReadAll(path, 1024 * 1024, &buf)) >= 0);
    /* survives: any result is fine, a crash is not */
    virStratoVirtMonitorFeed(mon, buf, len);
    virResetLastError();
    return 0;
}


int
main(int argc, char **argv)
{
    static const FeedCase cases[] = {
        { "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":1,\"minor\":0,\"major\":5},\"package\":\"StratoVirt-2.5.0\"},\"capabilities\":[]}}\r\n", 0, 0 },
        { "{\"return\":{\"status\":\"running\"},\"id\":\"libvirt-1\"}\r\n", 1, 0 },
        { "{\"return\":{}}\r\n", 1, 0 },                          /* qmp_capabilities: no id */
        { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"\"}}\r\n", 1, 0 },
        { "{\"return\":{},\"id\":\"libvirt-0\"}\r\n", 0, 0 },     /* a stale id is not ours */
        { "{\"event\":\"RESET\",\"data\":{\"guest\":true}}\r\n{\"event\":\"UNKNOWN_THING\"}\r\n", 0, 2 },
        { "{\"QMP\":5}\r\n{\"QMP\":{\"version\":[]}}\r\n", 0, 0 }, /* ill-shaped greetings */
        { "[1,2,3]\r\n", -1, 0 },
        { "}{garbage\r\n", -1, 0 },
        { "{\"event\":\"STOP\"", 0, 0 },                          /* incomplete: waits */
    };
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    size_t i;

    if (virErrorInitialize() < 0)
        return EXIT_FAILURE;
    virLogSetDefaultPriority(VIR_LOG_ERROR);

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *title = g_strdup_printf("feed case %zu", i);
        svTestRun(title, testFeed, &cases[i]);
    }
    svTestRun("messages split into one-byte writes", testSplitWrites, NULL);
    svTestRun("a VMM that never ends its line is cut off", testOversize, NULL);

    if (argc == 2 && virDirOpenIfExists(&dir, argv[1]) > 0) {
        while (virDirRead(dir, &ent, argv[1]) > 0) {
            char *path = g_strdup_printf("%s/%s", argv[1], ent->d_name);
            g_autofree char *title = g_strdup_printf("fuzz regression %s", ent->d_name);

            svTestRun(title, testRegression, path);
        }
    }
    return svTestDone();
}
