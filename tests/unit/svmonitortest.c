/*
 * svmonitortest.c: a scripted QMP server for the monitor's unit tests and
 * fuzzer (see svmonitortest.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "svmonitortest.h"
#include "viralloc.h"
#include "virerror.h"
#include "virevent.h"
#include "virfile.h"
#include "virjson.h"
#include "virstring.h"
#include "virutil.h"

#define VIR_FROM_THIS VIR_FROM_NONE

/* how long the server waits for the monitor before giving up */
#define SV_MONITOR_TEST_IDLE_MS 20000

typedef struct {
    char *request;          /* JSON text, NULL: on connect */
    GPtrArray *replies;     /* GBytes */
    GPtrArray *rawFlags;    /* GINT_TO_POINTER(1) when sent as is */
    bool eof;
} svMonitorTestExchange;

typedef struct {
    virStratoVirtMonitorEventType type;
    char *name;
    bool hasActual;
    unsigned long long actual;
    char *device;
} svMonitorTestEvent;

struct _svMonitorTest {
    char *dir;
    char *path;
    int listenFd;
    int wake[2];
    GThread *thread;

    GPtrArray *exchanges;   /* svMonitorTestExchange */
    GPtrArray *failures;    /* char * */

    GMutex lock;
    GCond cond;
    GPtrArray *events;      /* svMonitorTestEvent */
    bool eof;
    size_t fds;             /* descriptors that came as SCM_RIGHTS */
};


static void
svMonitorTestExchangeFree(void *opaque)
{
    svMonitorTestExchange *ex = opaque;

    g_free(ex->request);
    g_ptr_array_unref(ex->replies);
    g_ptr_array_unref(ex->rawFlags);
    g_free(ex);
}


static void
svMonitorTestEventFree(void *opaque)
{
    svMonitorTestEvent *ev = opaque;

    g_free(ev->name);
    g_free(ev->device);
    g_free(ev);
}


static gpointer
svMonitorTestEventLoop(gpointer opaque G_GNUC_UNUSED)
{
    while (true)
        virEventRunDefaultImpl();
    return NULL;
}


static void
svMonitorTestInitOnce(void)
{
    static gsize done;

    if (g_once_init_enter(&done)) {
        if (virEventRegisterDefaultImpl() < 0)
            abort();
        g_thread_unref(g_thread_new("svmonitortest-events", svMonitorTestEventLoop, NULL));
        g_once_init_leave(&done, 1);
    }
}


svMonitorTest *
svMonitorTestNew(void)
{
    svMonitorTest *t = g_new0(svMonitorTest, 1);

    svMonitorTestInitOnce();
    t->listenFd = -1;
    t->wake[0] = t->wake[1] = -1;
    t->exchanges = g_ptr_array_new_with_free_func(svMonitorTestExchangeFree);
    t->failures = g_ptr_array_new_with_free_func(g_free);
    t->events = g_ptr_array_new_with_free_func(svMonitorTestEventFree);
    g_mutex_init(&t->lock);
    g_cond_init(&t->cond);
    svMonitorTestAddExchange(t, NULL, NULL, false);
    return t;
}


static svMonitorTestExchange *
svMonitorTestLast(svMonitorTest *t)
{
    return t->exchanges->pdata[t->exchanges->len - 1];
}


static void
svMonitorTestAddReply(svMonitorTestExchange *ex,
                      const char *data,
                      size_t len,
                      bool raw)
{
    g_ptr_array_add(ex->replies, g_bytes_new(data, len));
    g_ptr_array_add(ex->rawFlags, GINT_TO_POINTER(raw ? 1 : 0));
}


void
svMonitorTestAddExchange(svMonitorTest *t,
                         const char *request,
                         const char *const *replies,
                         bool eof)
{
    svMonitorTestExchange *ex;

    if (!request && t->exchanges->len > 0) {
        ex = t->exchanges->pdata[0];
    } else {
        ex = g_new0(svMonitorTestExchange, 1);
        ex->request = g_strdup(request);
        ex->replies = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
        ex->rawFlags = g_ptr_array_new();
        g_ptr_array_add(t->exchanges, ex);
    }
    for (; replies && *replies; replies++)
        svMonitorTestAddReply(ex, *replies, strlen(*replies), false);
    ex->eof |= eof;
}


void
svMonitorTestAddRaw(svMonitorTest *t,
                    const char *data,
                    size_t len)
{
    svMonitorTestAddReply(svMonitorTestLast(t), data, len, true);
}


int
svMonitorTestLoadRecording(svMonitorTest *t,
                           const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    size_t i;

    if (virFileReadAll(path, 1024 * 1024, &text) < 0)
        return -1;
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const char *line = lines[i];
        const char *rest;

        if ((rest = STRSKIP(line, "-> "))) {
            svMonitorTestAddExchange(t, rest, NULL, false);
        } else if ((rest = STRSKIP(line, "<- "))) {
            svMonitorTestAddReply(svMonitorTestLast(t), rest, strlen(rest), false);
        } else if (STREQ(line, "# EOF")) {
            svMonitorTestLast(t)->eof = true;
        }
    }
    return 0;
}


/* ---------------------------------------------------------------------
 * The server thread
 */

static void
svMonitorTestFail(svMonitorTest *t,
                  const char *fmt,
                  ...) G_GNUC_PRINTF(2, 3);

static void
svMonitorTestFail(svMonitorTest *t,
                  const char *fmt,
                  ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_mutex_lock(&t->lock);
    g_ptr_array_add(t->failures, msg);
    g_mutex_unlock(&t->lock);
}


/* JSON values equal, objects regardless of key order */
static bool
svMonitorTestJSONEqual(virJSONValue *a,
                       virJSONValue *b)
{
    g_autofree char *sa = NULL;
    g_autofree char *sb = NULL;
    size_t i;

    if (!a || !b)
        return a == b;
    if (virJSONValueGetType(a) != virJSONValueGetType(b))
        return false;

    switch (virJSONValueGetType(a)) {
    case VIR_JSON_TYPE_OBJECT:
        if (virJSONValueObjectKeysNumber(a) != virJSONValueObjectKeysNumber(b))
            return false;
        for (i = 0; i < virJSONValueObjectKeysNumber(a); i++) {
            const char *key = virJSONValueObjectGetKey(a, i);

            if (!svMonitorTestJSONEqual(virJSONValueObjectGetValue(a, i),
                                        virJSONValueObjectGet(b, key)))
                return false;
        }
        return true;
    case VIR_JSON_TYPE_ARRAY:
        if (virJSONValueArraySize(a) != virJSONValueArraySize(b))
            return false;
        for (i = 0; i < virJSONValueArraySize(a); i++) {
            if (!svMonitorTestJSONEqual(virJSONValueArrayGet(a, i),
                                        virJSONValueArrayGet(b, i)))
                return false;
        }
        return true;
    case VIR_JSON_TYPE_STRING:
    case VIR_JSON_TYPE_NUMBER:
    case VIR_JSON_TYPE_BOOLEAN:
    case VIR_JSON_TYPE_NULL:
        break;
    }
    sa = virJSONValueToString(a, false);
    sb = virJSONValueToString(b, false);
    return sa && sb && STREQ(sa, sb);
}


static bool
svMonitorTestRequestMatches(const char *recorded,
                            virJSONValue *cmd)
{
    g_autoptr(virJSONValue) rec = virJSONValueFromString(recorded);
    const char *a;
    const char *b;

    virResetLastError();
    if (!rec || virJSONValueGetType(rec) != VIR_JSON_TYPE_OBJECT)
        return false;
    a = virJSONValueObjectGetString(rec, "execute");
    b = virJSONValueObjectGetString(cmd, "execute");
    if (!a || !b || STRNEQ(a, b))
        return false;
    return svMonitorTestJSONEqual(virJSONValueObjectGet(rec, "arguments"),
                                  virJSONValueObjectGet(cmd, "arguments"));
}


static int
svMonitorTestWrite(int fd,
                   const void *data,
                   size_t len)
{
    const char *p = data;

    /* no SIGPIPE when the monitor has gone */
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}


/* Sends @ex's replies; a reply (return or error) gets @id, the one the
 * command was sent with, in place of the recorded one */
static int
svMonitorTestSendReplies(int fd,
                         svMonitorTestExchange *ex,
                         const char *id)
{
    size_t i;

    for (i = 0; i < ex->replies->len; i++) {
        gsize len;
        const char *data = g_bytes_get_data(ex->replies->pdata[i], &len);
        g_autofree char *line = NULL;

        if (ex->rawFlags->pdata[i]) {
            if (svMonitorTestWrite(fd, data, len) < 0)
                return -1;
            continue;
        }
        line = g_strndup(data, len);
        if (id) {
            g_autoptr(virJSONValue) msg = virJSONValueFromString(line);

            virResetLastError();
            if (msg && virJSONValueGetType(msg) == VIR_JSON_TYPE_OBJECT &&
                (virJSONValueObjectHasKey(msg, "return") ||
                 virJSONValueObjectHasKey(msg, "error")) &&
                (!virJSONValueObjectHasKey(msg, "id") ||
                 virJSONValueObjectRemoveKey(msg, "id", NULL) > 0) &&
                virJSONValueObjectAppendString(msg, "id", id) == 0) {
                g_free(line);
                line = virJSONValueToString(msg, false);
            }
        }
        {
            g_autofree char *msg = g_strdup_printf("%s\r\n", line);

            if (svMonitorTestWrite(fd, msg, strlen(msg)) < 0)
                return -1;
        }
    }
    return 0;
}


/* Waits for @fd or the wake pipe; 1 when @fd is ready, 0 when woken or
 * idle for too long */
static int
svMonitorTestPoll(svMonitorTest *t,
                  int fd)
{
    struct pollfd fds[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = t->wake[0], .events = POLLIN },
    };
    int rc;

    while ((rc = poll(fds, 2, SV_MONITOR_TEST_IDLE_MS)) < 0 && errno == EINTR)
        ;
    if (rc <= 0 || fds[1].revents)
        return 0;
    return 1;
}


static void
svMonitorTestServe(svMonitorTest *t,
                   int fd)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    size_t cursor = 1;

    if (svMonitorTestSendReplies(fd, t->exchanges->pdata[0], NULL) < 0 ||
        ((svMonitorTestExchange *) t->exchanges->pdata[0])->eof)
        return;

    while (svMonitorTestPoll(t, fd) == 1) {
        char chunk[8192];
        char control[CMSG_SPACE(4 * sizeof(int))];
        struct iovec iov = { .iov_base = chunk, .iov_len = sizeof(chunk) };
        struct msghdr hdr = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control, .msg_controllen = sizeof(control) };
        struct cmsghdr *cmsg;
        ssize_t got = recvmsg(fd, &hdr, 0);
        g_autoptr(virJSONValue) cmd = NULL;
        const char *id;
        size_t i;

        if (got <= 0)
            return;
        /* count the descriptors passed (getfd), and close them */
        for (cmsg = CMSG_FIRSTHDR(&hdr); cmsg; cmsg = CMSG_NXTHDR(&hdr, cmsg)) {
            size_t n;

            if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
                continue;
            n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (i = 0; i < n; i++) {
                int passed;

                memcpy(&passed, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
                VIR_FORCE_CLOSE(passed);
            }
            g_mutex_lock(&t->lock);
            t->fds += n;
            g_mutex_unlock(&t->lock);
        }
        g_string_append_len(buf, chunk, got);
        /* StratoVirt takes each read as one message; the monitor sends
         * one per write, but a read may still see part of one */
        if (!(cmd = virJSONValueFromString(buf->str))) {
            virResetLastError();
            if (buf->len > 64 * 1024) {
                svMonitorTestFail(t, "the monitor sent %zu bytes that are not JSON", buf->len);
                return;
            }
            continue;
        }
        if (virJSONValueGetType(cmd) != VIR_JSON_TYPE_OBJECT ||
            !virJSONValueObjectGetString(cmd, "execute")) {
            svMonitorTestFail(t, "the monitor sent a message that is not a command: %s", buf->str);
            return;
        }
        id = virJSONValueObjectGetString(cmd, "id");

        for (i = cursor; i < t->exchanges->len; i++) {
            svMonitorTestExchange *ex = t->exchanges->pdata[i];

            if (svMonitorTestRequestMatches(ex->request, cmd))
                break;
        }
        if (i == t->exchanges->len) {
            g_autofree char *reply = g_strdup_printf(
                "{\"error\":{\"class\":\"GenericError\",\"desc\":\"not in the test's script\"},\"id\":\"%s\"}\r\n",
                NULLSTR(id));

            svMonitorTestFail(t, "command not in the script (from exchange %zu on): %s",
                              cursor, buf->str);
            if (svMonitorTestWrite(fd, reply, strlen(reply)) < 0)
                return;
        } else {
            svMonitorTestExchange *ex = t->exchanges->pdata[i];

            cursor = i + 1;
            if (svMonitorTestSendReplies(fd, ex, id) < 0 || ex->eof)
                return;
        }
        g_string_truncate(buf, 0);
    }
}


static gpointer
svMonitorTestThread(gpointer opaque)
{
    svMonitorTest *t = opaque;
    int fd;

    if (svMonitorTestPoll(t, t->listenFd) != 1) {
        svMonitorTestFail(t, "the monitor did not connect");
        return NULL;
    }
    if ((fd = accept(t->listenFd, NULL, NULL)) < 0) {
        svMonitorTestFail(t, "accept: %s", g_strerror(errno));
        return NULL;
    }
    svMonitorTestServe(t, fd);
    close(fd);
    return NULL;
}


/* ---------------------------------------------------------------------
 * The monitor's side
 */

static void
svMonitorTestOnEOF(virStratoVirtMonitor *mon G_GNUC_UNUSED,
                   virDomainObj *vm G_GNUC_UNUSED,
                   void *opaque)
{
    svMonitorTest *t = opaque;

    g_mutex_lock(&t->lock);
    t->eof = true;
    g_cond_broadcast(&t->cond);
    g_mutex_unlock(&t->lock);
}


static void
svMonitorTestOnEvent(virStratoVirtMonitor *mon G_GNUC_UNUSED,
                     virDomainObj *vm G_GNUC_UNUSED,
                     const virStratoVirtMonitorEvent *event,
                     void *opaque)
{
    svMonitorTest *t = opaque;
    svMonitorTestEvent *ev = g_new0(svMonitorTestEvent, 1);

    ev->type = event->type;
    ev->name = g_strdup(event->name);
    ev->hasActual = event->hasActual;
    ev->actual = event->actual;
    ev->device = g_strdup(event->device);

    g_mutex_lock(&t->lock);
    g_ptr_array_add(t->events, ev);
    g_cond_broadcast(&t->cond);
    g_mutex_unlock(&t->lock);
}


static virStratoVirtMonitorCallbacks svMonitorTestCallbacks = {
    .eofNotify = svMonitorTestOnEOF,
    .eventNotify = svMonitorTestOnEvent,
};


virStratoVirtMonitor *
svMonitorTestOpen(svMonitorTest *t,
                  unsigned int timeout)
{
    return svMonitorTestOpenPatient(t, timeout, NULL, NULL);
}


virStratoVirtMonitor *
svMonitorTestOpenPatient(svMonitorTest *t,
                         unsigned int timeout,
                         virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                         void *waitOpaque)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    bool gone;

    if (!(t->dir = g_dir_make_tmp("svmonitortest-XXXXXX", NULL)))
        return NULL;
    t->path = g_strdup_printf("%s/qmp.sock", t->dir);
    if (virStrcpyStatic(addr.sun_path, t->path) < 0 ||
        (t->listenFd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(t->listenFd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        listen(t->listenFd, 1) < 0 ||
        virPipe(t->wake) < 0) {
        virReportSystemError(errno, "%s", "cannot set up the test QMP server");
        return NULL;
    }
    t->thread = g_thread_new("svmonitortest-server", svMonitorTestThread, t);

    return virStratoVirtMonitorOpenPatient(NULL, t->path, 0, timeout,
                                           &svMonitorTestCallbacks, t, &gone,
                                           keepWaiting, waitOpaque);
}


int
svMonitorTestWaitEvent(svMonitorTest *t,
                       size_t n,
                       unsigned int timeout,
                       virStratoVirtMonitorEvent *out)
{
    gint64 until = g_get_monotonic_time() + timeout * G_TIME_SPAN_MILLISECOND;
    int ret = -1;

    g_mutex_lock(&t->lock);
    while (t->events->len < n) {
        if (!g_cond_wait_until(&t->cond, &t->lock, until))
            break;
    }
    if (t->events->len >= n) {
        svMonitorTestEvent *ev = t->events->pdata[n - 1];

        out->type = ev->type;
        out->name = ev->name;
        out->hasActual = ev->hasActual;
        out->actual = ev->actual;
        out->device = ev->device;
        ret = 0;
    }
    g_mutex_unlock(&t->lock);
    return ret;
}


size_t
svMonitorTestEventCount(svMonitorTest *t)
{
    size_t n;

    g_mutex_lock(&t->lock);
    n = t->events->len;
    g_mutex_unlock(&t->lock);
    return n;
}


size_t
svMonitorTestFdCount(svMonitorTest *t)
{
    size_t n;

    g_mutex_lock(&t->lock);
    n = t->fds;
    g_mutex_unlock(&t->lock);
    return n;
}


bool
svMonitorTestWaitEOF(svMonitorTest *t,
                     unsigned int timeout)
{
    gint64 until = g_get_monotonic_time() + timeout * G_TIME_SPAN_MILLISECOND;
    bool eof;

    g_mutex_lock(&t->lock);
    while (!t->eof) {
        if (!g_cond_wait_until(&t->cond, &t->lock, until))
            break;
    }
    eof = t->eof;
    g_mutex_unlock(&t->lock);
    return eof;
}


int
svMonitorTestFree(svMonitorTest *t,
                  virStratoVirtMonitor *mon)
{
    int ret;
    size_t i;

    if (!t)
        return -1;
    virStratoVirtMonitorClose(mon);
    if (t->wake[1] >= 0)
        ignore_value(safewrite(t->wake[1], "x", 1));
    if (t->thread)
        g_thread_join(t->thread);

    for (i = 0; i < t->failures->len; i++)
        fprintf(stderr, "test QMP server: %s\n", (char *) t->failures->pdata[i]);
    ret = t->failures->len;

    VIR_FORCE_CLOSE(t->listenFd);
    VIR_FORCE_CLOSE(t->wake[0]);
    VIR_FORCE_CLOSE(t->wake[1]);
    if (t->path)
        unlink(t->path);
    if (t->dir)
        rmdir(t->dir);
    g_free(t->path);
    g_free(t->dir);
    g_ptr_array_unref(t->exchanges);
    g_ptr_array_unref(t->failures);
    g_ptr_array_unref(t->events);
    g_mutex_clear(&t->lock);
    g_cond_clear(&t->cond);
    g_free(t);
    return ret;
}
