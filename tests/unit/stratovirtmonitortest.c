/*
 * stratovirtmonitortest.c: every typed function of the QMP monitor against
 * the exchanges recorded from the real StratoVirt 2.1.0, 2.4.0 and 2.5.0
 * (../shared/stratovirt/qmp/, played by the test server of svmonitortest.c),
 * then what a hostile VMM may send, then every input the fuzzers ever
 * crashed on (tests/fuzz/regressions), replayed.
 *
 * Arguments: the recordings' folder (skipped, with the reason, when it is
 * not there) and the regressions' folder.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dirent.h>
#include <fcntl.h>

#include "svtest.h"
#include "svmonitortest.h"
#include "virfile.h"
#include "virlog.h"
#include "virstring.h"

#define VIR_FROM_THIS VIR_FROM_NONE

/* milliseconds: generous for a loaded 2-core machine; nothing waits this
 * long unless the monitor is broken */
#define T_CMD 5000
#define T_SHORT 300

static const char *recordings;

typedef struct {
    const char *version;    /* "2.1.0" */
    const char *scenario;   /* "q35-session" */
} Recording;


static svMonitorTest *
newRecorded(const Recording *r)
{
    g_autofree char *path = g_strdup_printf("%s/%s/%s.qmp", recordings,
                                            r->version, r->scenario);
    svMonitorTest *t = svMonitorTestNew();

    if (svMonitorTestLoadRecording(t, path) < 0) {
        svMonitorTestFree(t, NULL);
        return NULL;
    }
    return t;
}


/* the last error is @code and its message contains @part */
static bool
lastErrorIs(int code,
            const char *part)
{
    virErrorPtr err = virGetLastError();

    if (!err || err->code != code || (part && !strstr(NULLSTR(err->message), part))) {
        fprintf(stderr, "want error %d with '%s', got %d: %s\n", code, NULLSTR(part),
                err ? err->code : 0, err ? NULLSTR(err->message) : "(none)");
        return false;
    }
    virResetLastError();
    return true;
}


static bool
waitEventType(svMonitorTest *t,
              size_t n,
              virStratoVirtMonitorEventType type)
{
    virStratoVirtMonitorEvent ev;

    if (svMonitorTestWaitEvent(t, n, T_CMD, &ev) < 0) {
        fprintf(stderr, "event %zu did not come\n", n);
        return false;
    }
    if (ev.type != type) {
        fprintf(stderr, "event %zu is %s (%d), want type %d\n", n, ev.name, ev.type, type);
        return false;
    }
    return true;
}


static int
checkStatus(virStratoVirtMonitor *mon,
            bool want)
{
    bool running = !want;

    SV_CHECK(virStratoVirtMonitorQueryStatus(mon, T_CMD, &running) == 0);
    SV_CHECK(running == want);
    return 0;
}


#define CHECK_OK(expr) SV_CHECK((expr) == 0)
#define CHECK_REFUSED(expr, part) \
    SV_CHECK((expr) < 0 && lastErrorIs(VIR_ERR_OPERATION_FAILED, part))


/* greeting, queries, stop/cont with their events, device_del, the
 * vfio-pci device_add every version refuses */
static int
testSession(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    g_autoptr(virStratoVirtMonitor) mon = NULL;
    g_autoptr(GHashTable) ptys = NULL;
    g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
    virPCIDeviceAddress host = { .domain = 0, .bus = 5, .slot = 0, .function = 0 };
    size_t ncpus = 0;
    unsigned long long actual = 0;
    bool v21 = STREQ(r->version, "2.1.0");
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    /* 2.1.0 greets with an empty package */
    if (v21) {
        SV_CHECK(STREQ_NULLABLE(virStratoVirtMonitorGetVersion(mon), ""));
    } else {
        g_autofree char *want = g_strdup_printf("StratoVirt-%s", r->version);

        SV_CHECK(STREQ_NULLABLE(virStratoVirtMonitorGetVersion(mon), want));
    }

    if (checkStatus(mon, true) < 0)
        goto cleanup;
    /* 2.5.0 answers before the event, the others after: both are fine */
    CHECK_OK(virStratoVirtMonitorStop(mon, T_CMD));
    SV_CHECK(waitEventType(t, 1, VIR_STRATOVIRT_MONITOR_EVENT_STOP));
    /* 2.1.0 says running:true while paused */
    if (checkStatus(mon, false) < 0)
        goto cleanup;
    CHECK_OK(virStratoVirtMonitorCont(mon, T_CMD));
    SV_CHECK(waitEventType(t, 2, VIR_STRATOVIRT_MONITOR_EVENT_RESUME));
    if (checkStatus(mon, true) < 0)
        goto cleanup;

    CHECK_OK(virStratoVirtMonitorQueryCpus(mon, T_CMD, &cpus, &ncpus));
    SV_CHECK(ncpus == 1 && cpus[0].tid > 0);
    CHECK_OK(virStratoVirtMonitorQueryPtys(mon, T_CMD, &ptys));
    SV_CHECK(g_hash_table_size(ptys) == 1);
    SV_CHECK(STREQ_NULLABLE(g_hash_table_lookup(ptys, "serial_chardev"), "/dev/pts/0"));
    CHECK_OK(virStratoVirtMonitorQueryBalloon(mon, T_CMD, &actual));
    SV_CHECK(actual == 256 * 1024 * 1024);

    /* a disk plugged into the first root port, as the hot-plug does it */
    CHECK_OK(virStratoVirtMonitorBlockdevAdd(mon, T_CMD, "drive-virtio-disk1",
                                             "@IMG@/disk.raw", "raw", false, false,
                                             NULL, 0));
    CHECK_OK(virStratoVirtMonitorAddVirtioBlk(mon, T_CMD, "virtio-disk1",
                                              "drive-virtio-disk1", "pci.1",
                                              NULL, 0, 0, NULL, -1));
    CHECK_OK(virStratoVirtMonitorDelDevice(mon, T_CMD, "virtio-disk1"));
    CHECK_REFUSED(virStratoVirtMonitorDelDevice(mon, T_CMD, "no-such-device"),
                  v21 ? "id no-such-device not found" : "");
    CHECK_REFUSED(virStratoVirtMonitorAddVFIODevice(mon, T_CMD, "hostdev0", "pci.2", 0, &host),
                  v21 ? "Failed to plug vfio-pci device." :
                  STREQ(r->version, "2.4.0") ? "is offered more than once" :
                  "An argument cannot be used");
    rc = 0;

 cleanup:
    virStratoVirtMonitorClose(g_steal_pointer(&mon));
    if (svMonitorTestFree(t, NULL) != 0)
        rc = -1;
    return rc;
}


static int
testBalloon(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    unsigned long long actual = 0;
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorQueryBalloon(mon, T_CMD, &actual) < 0 ||
        actual != 256 * 1024 * 1024)
        goto cleanup;
    /* no guest driver: DeviceNotActive is "not taken yet" (1), no error */
    if (virStratoVirtMonitorSetBalloon(mon, T_CMD, 200 * 1024 * 1024) != 1 ||
        virGetLastError())
        goto cleanup;
    if (virStratoVirtMonitorQueryBalloon(mon, T_CMD, &actual) < 0)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* no balloon device; system_reset and system_powerdown (2.1.0 has
 * neither; on q35 2.4 and 2.5 powerdown ends the VMM at once) */
static int
testNoDevs(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    unsigned long long actual;
    bool v21 = STREQ(r->version, "2.1.0");
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorQueryBalloon(mon, T_CMD, &actual) == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "DeviceNotActive"))
        goto cleanup;
    /* the same class without a device: the caller rules that out from
     * the definition */
    if (virStratoVirtMonitorSetBalloon(mon, T_CMD, 200 * 1024 * 1024) != 1 ||
        virGetLastError())
        goto cleanup;
    if (v21) {
        if (virStratoVirtMonitorSystemReset(mon, T_CMD) == 0 ||
            !lastErrorIs(VIR_ERR_OPERATION_FAILED, "unknown variant `system_reset`"))
            goto cleanup;
    } else if (virStratoVirtMonitorSystemReset(mon, T_CMD) < 0) {
        goto cleanup;
    }
    if (checkStatus(mon, true) < 0)
        goto cleanup;
    if (v21) {
        if (virStratoVirtMonitorSystemPowerdown(mon, T_CMD) == 0 ||
            !lastErrorIs(VIR_ERR_OPERATION_FAILED, "unknown variant `system_powerdown`"))
            goto cleanup;
        if (checkStatus(mon, true) < 0)
            goto cleanup;
    } else {
        if (virStratoVirtMonitorSystemPowerdown(mon, T_CMD) < 0)
            goto cleanup;
        if (!svMonitorTestWaitEOF(t, T_CMD))
            goto cleanup;
        /* gone: the next command fails */
        if (virStratoVirtMonitorQueryStatus(mon, T_CMD, &v21) == 0)
            goto cleanup;
        virResetLastError();
    }
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* microvm: the queries, then stop and cont; 2.5.0 with seccomp dies at
 * stop (a seccomp kill, EOF instead of a reply) */
static int
testMicrovm(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    g_autoptr(GHashTable) ptys = NULL;
    g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
    size_t ncpus;
    unsigned long long actual;
    bool dies = STREQ(r->version, "2.5.0") && STREQ(r->scenario, "microvm-session");
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (checkStatus(mon, true) < 0 ||
        virStratoVirtMonitorQueryCpus(mon, T_CMD, &cpus, &ncpus) < 0 || ncpus != 1 ||
        virStratoVirtMonitorQueryPtys(mon, T_CMD, &ptys) < 0 ||
        !g_hash_table_lookup(ptys, "serial_chardev"))
        goto cleanup;
    if (virStratoVirtMonitorQueryBalloon(mon, T_CMD, &actual) == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "DeviceNotActive"))
        goto cleanup;
    if (dies) {
        if (virStratoVirtMonitorStop(mon, T_CMD) == 0 ||
            !lastErrorIs(VIR_ERR_OPERATION_FAILED, "closed") ||
            !svMonitorTestWaitEOF(t, T_CMD))
            goto cleanup;
        rc = 0;
        goto cleanup;
    }
    if (virStratoVirtMonitorStop(mon, T_CMD) < 0 ||
        !waitEventType(t, 1, VIR_STRATOVIRT_MONITOR_EVENT_STOP) ||
        checkStatus(mon, false) < 0 ||
        virStratoVirtMonitorCont(mon, T_CMD) < 0 ||
        !waitEventType(t, 2, VIR_STRATOVIRT_MONITOR_EVENT_RESUME) ||
        checkStatus(mon, true) < 0)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* system_reset on microvm ends 2.4 and 2.5; 2.1.0 has no such command */
static int
testMicrovmReset(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (STREQ(r->version, "2.1.0")) {
        if (virStratoVirtMonitorSystemReset(mon, T_CMD) == 0 ||
            !lastErrorIs(VIR_ERR_OPERATION_FAILED, "system_reset") ||
            checkStatus(mon, true) < 0)
            goto cleanup;
    } else if (virStratoVirtMonitorSystemReset(mon, T_CMD) < 0 ||
               !svMonitorTestWaitEOF(t, T_CMD)) {
        goto cleanup;
    }
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* migrate to a file (StratoVirt's snapshot): refused with StratoVirt's
 * reason for a directory it cannot create, written before the reply for a
 * stopped guest; query-migrate follows (tests/qmp/record-save.py) */
static int
testSave(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    virStratoVirtMonitorMigrationStatus st;
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorQueryMigrate(mon, T_CMD, &st) < 0 ||
        st != VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_SETUP)
        goto cleanup;
    if (virStratoVirtMonitorMigrateToFile(mon, T_CMD, "@IMG@/nosuchdir/sub") == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "Failed to create snapshot dir"))
        goto cleanup;
    if (virStratoVirtMonitorQueryMigrate(mon, T_CMD, &st) < 0 ||
        st != VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_FAILED)
        goto cleanup;
    if (virStratoVirtMonitorStop(mon, T_CMD) < 0 ||
        virStratoVirtMonitorMigrateToFile(mon, T_CMD, "@IMG@/save") < 0)
        goto cleanup;
    if (virStratoVirtMonitorQueryMigrate(mon, T_CMD, &st) < 0 ||
        st != VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_COMPLETED)
        goto cleanup;
    if (checkStatus(mon, false) < 0)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* -incoming file: on 2.5.0 (seccomp off): QMP answers once the restore is
 * done, the guest running, query-migrate completed */
static int
testRestored(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    virStratoVirtMonitorMigrationStatus st;
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (checkStatus(mon, true) < 0 ||
        virStratoVirtMonitorQueryMigrate(mon, T_CMD, &st) < 0 ||
        st != VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_COMPLETED)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* 2.1.0 with RUST_BACKTRACE in its environment: a refused vfio-pci
 * device_add kills the VMM (seccomp) instead of an error reply */
static int
testBacktraceKill(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    virPCIDeviceAddress host = { .domain = 0, .bus = 5, .slot = 0, .function = 0 };
    int rc = -1;

    SV_CHECK(t);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorAddVFIODevice(mon, T_CMD, "hostdev0", "pci.2", 0, &host) == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "closed") ||
        !svMonitorTestWaitEOF(t, T_CMD))
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* the monitor never sends qmp_capabilities: every version answers
 * commands without it (the first exchange of these recordings) */
static int
testNoCapabilities(const void *data)
{
    const Recording *r = data;
    svMonitorTest *t = newRecorded(r);
    virStratoVirtMonitor *mon = NULL;
    int rc = -1;

    SV_CHECK(t);
    if ((mon = svMonitorTestOpen(t, T_CMD)) && checkStatus(mon, true) == 0)
        rc = 0;
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* ---------------------------------------------------------------------
 * A hostile or broken VMM
 */

#define GREETING "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":1,\"minor\":0,\"major\":5},\"package\":\"StratoVirt-2.5.0\"},\"capabilities\":[]}}"

typedef struct {
    const char *title;
    const char *greeting;   /* raw, after which the script goes on */
    const char *reply;      /* raw answer to query-status */
    size_t replyLen;        /* 0: strlen(reply) */
    int expect;             /* 0, or the error code of query-status */
    bool eof;               /* the monitor gives up on the VMM */
    size_t events;
} HostileCase;


static int
testHostile(const void *data)
{
    const HostileCase *c = data;
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    bool running;
    int rc = -1;
    int got;

    svMonitorTestAddRaw(t, c->greeting, strlen(c->greeting));
    svMonitorTestAddExchange(t, "{\"execute\":\"query-status\"}", NULL, false);
    svMonitorTestAddRaw(t, c->reply, c->replyLen ? c->replyLen : strlen(c->reply));
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    got = virStratoVirtMonitorQueryStatus(mon, c->expect == VIR_ERR_OPERATION_TIMEOUT ?
                                          T_SHORT : T_CMD, &running);
    if (c->expect == 0 ? got != 0 : (got == 0 || !lastErrorIs(c->expect, NULL)))
        goto cleanup;
    if (c->eof != svMonitorTestWaitEOF(t, c->eof ? T_CMD : 50))
        goto cleanup;
    if (svMonitorTestEventCount(t) != c->events) {
        fprintf(stderr, "%zu events, want %zu\n", svMonitorTestEventCount(t), c->events);
        goto cleanup;
    }
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* getfd passes its descriptor once; for StratoVirt 2.1, whose reader keeps
 * the last non-zero byte of room for two fds, twice (the tap's EBADF) */
static int
testGetFdTwice(const void *data G_GNUC_UNUSED)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    const char *ok[] = { "{\"return\":{}}", NULL };
    int fd = -1;
    int rc = -1;

    SV_CHECK(t);
    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"fd-net0-0\"}}",
                             ok, false);
    svMonitorTestAddExchange(t, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"fd-net1-0\"}}",
                             ok, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)) ||
        (fd = open("/dev/null", O_RDONLY)) < 0)
        goto cleanup;
    if (virStratoVirtMonitorGetFd(mon, T_CMD, "fd-net0-0", fd) < 0 ||
        svMonitorTestFdCount(t) != 1) {
        fprintf(stderr, "%zu fds passed, want 1\n", svMonitorTestFdCount(t));
        goto cleanup;
    }
    virStratoVirtMonitorSetPassFdTwice(mon, true);
    if (virStratoVirtMonitorGetFd(mon, T_CMD, "fd-net1-0", fd) < 0 ||
        svMonitorTestFdCount(t) != 3) {
        fprintf(stderr, "%zu fds passed, want 3\n", svMonitorTestFdCount(t));
        goto cleanup;
    }
    rc = 0;

 cleanup:
    VIR_FORCE_CLOSE(fd);
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* device_del asked again at reconnect: each answer StratoVirt gives, as
 * recorded (qmp/2.4.0 and 2.5.0/q35-session: no such device on a standard
 * machine; qmp/2.1.0/q35-session and a microvm: "id X not found") or as
 * its root port says (an unplug still pending) */
static int checkDelDeviceAgain(virStratoVirtMonitor *mon);

static int
testDelDeviceAgain(const void *data G_GNUC_UNUSED)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    const char *ok[] = { "{\"return\":{}}", NULL };
    const char *gone[] = { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Can not find parent device from pci bus\"}}", NULL };
    const char *gone21[] = { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Failed to remove device: id hostdev0 not found\"}}", NULL };
    const char *pending[] = { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Guest is still on the fly of another (un)plugging\"}}", NULL };
    const char *other[] = { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"No hot plug controller found for bus pci.1 when unplug device hostdev0\"}}", NULL };
    const char *req = "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"hostdev0\"}}";
    /* (the alias of another device is no "not found" of this one) */
    const char *gone21other[] = { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Failed to remove device: id hostdev01 not found\"}}", NULL };
    int rc = -1;

    SV_CHECK(t);
    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, req, ok, false);
    svMonitorTestAddExchange(t, req, gone, false);
    svMonitorTestAddExchange(t, req, gone21, false);
    svMonitorTestAddExchange(t, req, pending, false);
    svMonitorTestAddExchange(t, req, other, false);
    svMonitorTestAddExchange(t, req, gone21other, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    rc = checkDelDeviceAgain(mon);

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


static int
checkDelDeviceAgain(virStratoVirtMonitor *mon)
{
    /* accepted: it is there (and asked again) */
    SV_CHECK(virStratoVirtMonitorDelDeviceAgain(mon, T_CMD, "hostdev0") == 0);
    SV_CHECK(!virGetLastError());
    SV_CHECK(virStratoVirtMonitorDelDeviceAgain(mon, T_CMD, "hostdev0") == 1);
    SV_CHECK(!virGetLastError());
    SV_CHECK(virStratoVirtMonitorDelDeviceAgain(mon, T_CMD, "hostdev0") == 1);
    SV_CHECK(virStratoVirtMonitorDelDeviceAgain(mon, T_CMD, "hostdev0") == 0);
    SV_CHECK(!virGetLastError());
    SV_CHECK(virStratoVirtMonitorDelDeviceAgain(mon, T_CMD, "hostdev0") == -1 &&
             lastErrorIs(VIR_ERR_OPERATION_FAILED, "No hot plug controller"));
    virResetLastError();
    SV_CHECK(virStratoVirtMonitorDelDeviceAgain(mon, T_CMD, "hostdev0") == -1);
    virResetLastError();
    return 0;
}


/* system_powerdown refused without a reason (a vCPU that missed real
 * 2.4/2.5's 32 ms stop window) is asked again, up to five times */
static int
testPowerdownRetry(const void *data G_GNUC_UNUSED)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    const char *blank[] = { "{\"error\":{\"class\":\"GenericError\",\"desc\":\"\"}}", NULL };
    const char *ok[] = { "{\"return\":{}}", NULL };
    const char *cmd = "{\"execute\":\"system_powerdown\"}";
    size_t i;
    int rc = -1;

    SV_CHECK(t);
    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    /* two blank refusals, then it powers off */
    svMonitorTestAddExchange(t, cmd, blank, false);
    svMonitorTestAddExchange(t, cmd, blank, false);
    svMonitorTestAddExchange(t, cmd, ok, false);
    /* five blank refusals: the fifth is the caller's */
    for (i = 0; i < 5; i++)
        svMonitorTestAddExchange(t, cmd, blank, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorSystemPowerdown(mon, T_CMD) < 0)
        goto cleanup;
    if (virStratoVirtMonitorSystemPowerdown(mon, T_CMD) == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "refused 'system_powerdown'"))
        goto cleanup;
    virResetLastError();
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* balloon: taken (0), DeviceNotActive (1, no error), any other refusal
 * stays the caller's error (-1) with StratoVirt's reason */
static int
testBalloonRefusals(const void *data G_GNUC_UNUSED)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    const char *ok[] = { "{\"return\":{}}", NULL };
    const char *inactive[] = {
        "{\"error\":{\"class\":\"DeviceNotActive\",\"desc\":\"No balloon device has been activated\"}}",
        NULL };
    const char *generic[] = {
        "{\"error\":{\"class\":\"GenericError\",\"desc\":\"Invalid balloon size\"}}",
        NULL };
    const char *cmd = "{\"execute\":\"balloon\",\"arguments\":{\"value\":209715200}}";
    int rc = -1;

    SV_CHECK(t);
    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, cmd, inactive, false);
    svMonitorTestAddExchange(t, cmd, generic, false);
    svMonitorTestAddExchange(t, cmd, ok, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorSetBalloon(mon, T_CMD, 200 * 1024 * 1024) != 1 ||
        virGetLastError())
        goto cleanup;
    if (virStratoVirtMonitorSetBalloon(mon, T_CMD, 200 * 1024 * 1024) != -1 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "Invalid balloon size (GenericError)"))
        goto cleanup;
    virResetLastError();
    if (virStratoVirtMonitorSetBalloon(mon, T_CMD, 200 * 1024 * 1024) != 0)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* events are read into their typed form, whatever shape their data has */
static int
testEvents(const void *data G_GNUC_UNUSED)
{
    const char *replies[] = {
        "{\"event\":\"BALLOON_CHANGED\",\"data\":{\"actual\":1073741824}}",
        "{\"event\":\"BALLOON_CHANGED\",\"data\":{\"actual\":\"lots\"}}",
        "{\"event\":\"DEVICE_DELETED\",\"data\":{\"device\":\"hostdev0\",\"path\":\"/machine/peripheral/hostdev0\"}}",
        "{\"event\":\"DEVICE_DELETED\",\"data\":{\"path\":\"/machine/peripheral/hostdev1\"}}",
        "{\"event\":\"DEVICE_DELETED\",\"data\":[1]}",
        "{\"event\":\"RESET\",\"data\":{\"guest\":true}}",
        "{\"event\":\"SHUTDOWN\",\"data\":{\"guest\":true,\"reason\":\"guest-shutdown\"}}",
        "{\"event\":\"POWERDOWN\"}",
        "{\"event\":\"UNKNOWN_THING\"}",
        "{\"return\":{\"status\":\"running\"}}",
        NULL
    };
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    virStratoVirtMonitorEvent ev;
    bool running;
    int rc = -1;

    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, "{\"execute\":\"query-status\"}", replies, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)) ||
        virStratoVirtMonitorQueryStatus(mon, T_CMD, &running) < 0 || !running)
        goto cleanup;

#define EV(n, want) \
    if (svMonitorTestWaitEvent(t, n, T_CMD, &ev) < 0 || ev.type != (want)) { \
        fprintf(stderr, "event %d is not %s\n", n, #want); \
        goto cleanup; \
    }
    EV(1, VIR_STRATOVIRT_MONITOR_EVENT_BALLOON_CHANGED);
    if (!ev.hasActual || ev.actual != 1073741824ULL)
        goto cleanup;
    EV(2, VIR_STRATOVIRT_MONITOR_EVENT_BALLOON_CHANGED);
    if (ev.hasActual)
        goto cleanup;
    EV(3, VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED);
    if (STRNEQ_NULLABLE(ev.device, "hostdev0"))
        goto cleanup;
    EV(4, VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED);
    if (STRNEQ_NULLABLE(ev.device, "hostdev1"))
        goto cleanup;
    EV(5, VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED);
    if (ev.device)
        goto cleanup;
    EV(6, VIR_STRATOVIRT_MONITOR_EVENT_RESET);
    EV(7, VIR_STRATOVIRT_MONITOR_EVENT_SHUTDOWN);
    EV(8, VIR_STRATOVIRT_MONITOR_EVENT_POWERDOWN);
    EV(9, VIR_STRATOVIRT_MONITOR_EVENT_OTHER);
    if (STRNEQ(ev.name, "UNKNOWN_THING"))
        goto cleanup;
#undef EV
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* an event and the reply, one byte per write: nothing lost or doubled */
static int
testSplitWrites(const void *data G_GNUC_UNUSED)
{
    const char *msg = "{\"event\":\"STOP\",\"data\":{},\"timestamp\":{\"seconds\":1,\"microseconds\":2}}\r\n"
                      "{\"return\":{},\"id\":\"libvirt-1\"}\r\n";
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    size_t i;
    int rc = -1;

    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, "{\"execute\":\"stop\"}", NULL, false);
    for (i = 0; msg[i]; i++)
        svMonitorTestAddRaw(t, msg + i, 1);
    if (!(mon = svMonitorTestOpen(t, T_CMD)) ||
        virStratoVirtMonitorStop(mon, T_CMD) < 0 ||
        !waitEventType(t, 1, VIR_STRATOVIRT_MONITOR_EVENT_STOP))
        goto cleanup;
    g_usleep(50 * 1000);
    if (svMonitorTestEventCount(t) != 1)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* 2 MiB without a line break: the monitor gives up, it does not grow */
static int
testOversize(const void *data G_GNUC_UNUSED)
{
    g_autofree char *big = g_strnfill(64 * 1024, 'x');
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    bool running;
    size_t i;
    int rc = -1;

    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, "{\"execute\":\"query-status\"}", NULL, false);
    for (i = 0; i < 32; i++)
        svMonitorTestAddRaw(t, big, strlen(big));
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorQueryStatus(mon, T_CMD, &running) == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_FAILED, "larger than 1 MiB") ||
        !svMonitorTestWaitEOF(t, T_CMD))
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* a command that gets no answer times out; the next one still works */
static int
testTimeout(const void *data G_GNUC_UNUSED)
{
    const char *ok[] = { "{\"return\":{\"status\":\"paused\"}}", NULL };
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    bool running = true;
    int rc = -1;

    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, "{\"execute\":\"stop\"}", NULL, false);
    svMonitorTestAddExchange(t, "{\"execute\":\"query-status\"}", ok, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    if (virStratoVirtMonitorStop(mon, T_SHORT) == 0 ||
        !lastErrorIs(VIR_ERR_OPERATION_TIMEOUT, "'stop'"))
        goto cleanup;
    if (virStratoVirtMonitorQueryStatus(mon, T_CMD, &running) < 0 || running)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


typedef struct {
    unsigned int calls;
    unsigned int yes;      /* how many times it says to wait on */
} KeepWaiting;

static bool
keepWaitingCount(void *opaque)
{
    KeepWaiting *k = opaque;

    return k->calls++ < k->yes;
}


/* one patient query-status the VMM never answers, ended by @k's no after
 * @calls questions, between @min and @max seconds */
static int
checkPatient(virStratoVirtMonitor *mon,
             unsigned int timeout,
             KeepWaiting *k,
             unsigned int calls,
             double min,
             double max)
{
    gint64 t0 = g_get_monotonic_time();
    bool running;
    double took;

    SV_CHECK(virStratoVirtMonitorQueryStatusPatient(mon, timeout, keepWaitingCount, k,
                                                    &running) < 0);
    SV_CHECK(lastErrorIs(VIR_ERR_OPERATION_ABORTED, "the daemon is stopping"));
    took = (g_get_monotonic_time() - t0) / 1e6;
    if (k->calls != calls || took < min || took > max) {
        fprintf(stderr, "the wait ended after %.2f s and %u questions (want %u, %.1f-%.1f s)\n",
                took, k->calls, calls, min, max);
        return -1;
    }
    return 0;
}


/* A patient wait (a reconnect's question) is asked each second whether to
 * go on: a no ends it at once, before its timeout too (the daemon's stop
 * used to wait out the 10 s of a reconnect's query-status); a yes goes on
 * past the timeout. */
static int
testPatient(const void *data G_GNUC_UNUSED)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon = NULL;
    KeepWaiting stop = { 0, 0 };
    KeepWaiting twice = { 0, 2 };
    int rc = -1;

    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddExchange(t, "{\"execute\":\"query-status\"}", NULL, false);
    svMonitorTestAddExchange(t, "{\"execute\":\"query-status\"}", NULL, false);
    if (!(mon = svMonitorTestOpen(t, T_CMD)))
        goto cleanup;
    /* a no at the first second: over long before the 5 s */
    if (checkPatient(mon, T_CMD, &stop, 1, 0.5, 0.8 * T_CMD / 1000.0) < 0)
        goto cleanup;
    /* yes, yes, no with a 300 ms timeout: it waited past it (2.3 s) */
    if (checkPatient(mon, T_SHORT, &twice, 3, 1.5, 0.8 * T_CMD / 1000.0) < 0)
        goto cleanup;
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* A stop does not cut a greeting's wait short (a connection closed before
 * StratoVirt 2.1.0 accepts it panics the VMM): a no is asked for only
 * once the timeout has run out, and ends the wait then.  The VMM here
 * never greets. */
static int
testPatientGreeting(const void *data G_GNUC_UNUSED)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon;
    KeepWaiting stop = { 0, 0 };
    gint64 t0 = g_get_monotonic_time();
    double took;
    int rc = -1;

    mon = svMonitorTestOpenPatient(t, 2500, keepWaitingCount, &stop);
    took = (g_get_monotonic_time() - t0) / 1e6;
    if (mon || !lastErrorIs(VIR_ERR_OPERATION_ABORTED, "the daemon is stopping"))
        goto cleanup;
    if (stop.calls != 1 || took < 2.4 || took > 0.8 * T_CMD / 1000.0) {
        fprintf(stderr, "the greeting's wait ended after %.2f s and %u questions\n",
                took, stop.calls);
        goto cleanup;
    }
    rc = 0;

 cleanup:
    if (svMonitorTestFree(t, mon) != 0)
        rc = -1;
    return rc;
}


/* a fuzzer's crash input, sent after the greeting: survived */
static int
testRegression(const void *data)
{
    const char *path = data;
    g_autofree char *buf = NULL;
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon;
    int len;

    SV_CHECK((len = virFileReadAll(path, 1024 * 1024, &buf)) >= 0);
    svMonitorTestAddRaw(t, GREETING "\r\n", strlen(GREETING) + 2);
    svMonitorTestAddRaw(t, buf, len);
    svMonitorTestAddExchange(t, NULL, NULL, true);
    mon = svMonitorTestOpen(t, T_CMD);
    SV_CHECK(!mon || svMonitorTestWaitEOF(t, T_CMD));
    virResetLastError();
    return svMonitorTestFree(t, mon) == 0 ? 0 : -1;
}


int
main(int argc, char **argv)
{
    static const char *versions[] = { "2.1.0", "2.4.0", "2.5.0" };
    static const struct {
        const char *scenario;
        svTestFunc func;
    } scenarios[] = {
        { "q35-session", testSession },
        { "q35-balloon", testBalloon },
        { "q35-nodevs", testNoDevs },
        { "microvm-session", testMicrovm },
        { "microvm-reset", testMicrovmReset },
        { "malformed", testNoCapabilities },
    };
    static const HostileCase hostile[] = {
        { "a reply without an id is the reply (unparsable commands get none)",
          GREETING "\r\n", "{\"return\":{\"status\":\"running\"}}\r\n", 0, 0, false, 0 },
        { "a reply with a stale id is not ours: the command times out",
          GREETING "\r\n", "{\"return\":{\"status\":\"running\"},\"id\":\"libvirt-0\"}\r\n",
          0, VIR_ERR_OPERATION_TIMEOUT, false, 0 },
        { "an error without desc or class",
          GREETING "\r\n", "{\"error\":{}}\r\n", 0, VIR_ERR_OPERATION_FAILED, false, 0 },
        { "a reply without status",
          GREETING "\r\n", "{\"return\":[]}\r\n", 0, VIR_ERR_OPERATION_FAILED, false, 0 },
        { "ill-shaped greetings and events",
          "{\"QMP\":5}\r\n{\"QMP\":{\"version\":[]}}\r\n",
          "{\"event\":\"RESET\",\"data\":5}\r\n{\"event\":\"STOP\",\"data\":[]}\r\n"
          "{\"return\":{\"status\":\"running\"}}\r\n", 0, 0, false, 2 },
        { "a JSON array closes the monitor",
          GREETING "\r\n", "[1,2,3]\r\n", 0, VIR_ERR_OPERATION_FAILED, true, 0 },
        { "garbage closes the monitor",
          GREETING "\r\n", "}{garbage\r\n", 0, VIR_ERR_OPERATION_FAILED, true, 0 },
        { "binary data closes the monitor",
          GREETING "\r\n", "{\"ret\0urn\":{}}\r\n", 16, VIR_ERR_OPERATION_FAILED, true, 0 },
    };
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    size_t i;
    size_t j;

    if (virErrorInitialize() < 0)
        return EXIT_FAILURE;
    virLogSetDefaultPriority(VIR_LOG_ERROR);

    recordings = argc >= 2 ? argv[1] : NULL;
    if (recordings && virFileIsDir(recordings)) {
        for (i = 0; i < G_N_ELEMENTS(versions); i++) {
            for (j = 0; j < G_N_ELEMENTS(scenarios); j++) {
                Recording r = { versions[i], scenarios[j].scenario };
                g_autofree char *title = NULL;

                title = g_strdup_printf("StratoVirt %s %s", r.version, r.scenario);
                svTestRun(title, scenarios[j].func, &r);
            }
        }
        {
            static const Recording noseccomp = { "2.5.0", "microvm-noseccomp" };

            static const Recording backtrace = { "2.1.0", "q35-session-rust-backtrace" };

            static const Recording save24 = { "2.4.0", "q35-save" };
            static const Recording save25 = { "2.5.0", "q35-save" };
            static const Recording restored = { "2.5.0", "q35-restore-noseccomp" };

            svTestRun("StratoVirt 2.5.0 microvm-noseccomp", testMicrovm, &noseccomp);
            svTestRun("StratoVirt 2.4.0 q35-save", testSave, &save24);
            svTestRun("StratoVirt 2.5.0 q35-save", testSave, &save25);
            svTestRun("StratoVirt 2.5.0 q35-restore-noseccomp", testRestored, &restored);
            svTestRun("StratoVirt 2.1.0 q35-session-rust-backtrace", testBacktraceKill, &backtrace);
        }
    } else {
        printf("# SKIP the recorded exchanges: %s is not there (the real binaries' recordings live in ../shared/stratovirt/qmp beside the checkout)\n",
               NULLSTR(recordings));
    }

    for (i = 0; i < G_N_ELEMENTS(hostile); i++)
        svTestRun(hostile[i].title, testHostile, &hostile[i]);
    svTestRun("events in their typed form", testEvents, NULL);
    svTestRun("getfd passes the fd twice for StratoVirt 2.1", testGetFdTwice, NULL);
    svTestRun("system_powerdown refused without a reason is asked again", testPowerdownRetry, NULL);
    svTestRun("device_del asked again tells a device StratoVirt no longer has", testDelDeviceAgain, NULL);
    svTestRun("balloon: DeviceNotActive is a target not taken yet, other refusals errors", testBalloonRefusals, NULL);
    svTestRun("messages split into one-byte writes", testSplitWrites, NULL);
    svTestRun("a VMM that never ends its line is cut off", testOversize, NULL);
    svTestRun("a command without an answer times out", testTimeout, NULL);
    svTestRun("a patient wait ends at its first no, waits on past its timeout at a yes", testPatient, NULL);
    svTestRun("a stop does not cut a greeting's wait short", testPatientGreeting, NULL);

    if (argc >= 3 && virDirOpenIfExists(&dir, argv[2]) > 0) {
        while (virDirRead(dir, &ent, argv[2]) > 0) {
            g_autofree char *path = g_strdup_printf("%s/%s", argv[2], ent->d_name);
            g_autofree char *title = g_strdup_printf("fuzz regression %s", ent->d_name);

            svTestRun(title, testRegression, path);
        }
    }
    return svTestDone();
}
