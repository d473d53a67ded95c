/*
 * stratovirt_monitor.c: StratoVirt's QMP, on libvirt's event loop
 *
 * StratoVirt parses each read as exactly one JSON object, answers one
 * client per socket, wants string ids, and writes every message as JSON
 * plus "\r\n" (see shared/stratovirt-contract.md, section 3).  So: one
 * command in flight at a time, each sent in one write and awaited with a
 * deadline.  Replies and events are read off the daemon's main loop, by a
 * thread of the monitor's own (libvirt's virEventThread: a GMainContext
 * per VMM, as the QEMU driver has), so no client request ever waits on a
 * VMM and the cost of a request does not grow with the number of running
 * domains.  One wake-up reads a bounded slice, so a VMM that floods
 * events cannot monopolise even its own thread.  Events are handed to the
 * owner outside the monitor lock; the monitor holds a reference on the
 * domain for as long as it can call back, and starts no callback once
 * virStratoVirtMonitorClose has been called.
 *
 * This file knows nothing of domain XML.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib-unix.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stratovirt_monitor.h"
#include "viralloc.h"
#include "virerror.h"
#include "vireventthread.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virobject.h"
#include "virstring.h"
#include "virtime.h"
#include "virutil.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_monitor");

/* StratoVirt refuses a message longer than this */
#define STRATOVIRT_QMP_MAX_MSG 8192
/* we refuse to buffer more than this from a VMM without a line break */
#define STRATOVIRT_QMP_MAX_LINE (1024 * 1024)
/* what one wake-up of the monitor thread reads at most, then it lets the
 * thread's loop go round (the socket stays readable, so it comes back) */
#define STRATOVIRT_QMP_READ_CHUNK 4096
#define STRATOVIRT_QMP_READ_SLICE (16 * STRATOVIRT_QMP_READ_CHUNK)
#define STRATOVIRT_QMP_SLICE_EVENTS 256
/* a VMM filling whole slices with events is flooding: say so at most this
 * often (ms) */
#define STRATOVIRT_QMP_FLOOD_WARN_MS 10000

struct _virStratoVirtMonitor {
    virObjectLockable parent;

    virCond notify;

    int fd;
    char *path;

    virEventThread *eventThread;  /* reads the socket; NULL once closed */
    GSource *source;

    virDomainObj *vm;       /* a reference, dropped when disposed */
    virStratoVirtMonitorCallbacks cb;
    void *opaque;

    char *buf;
    size_t buflen;

    bool greeted;
    char *version;          /* "package" of the greeting */
    bool passFdTwice;       /* StratoVirt 2.1's SCM_RIGHTS reader */

    /* the command in flight */
    bool busy;
    bool refusedBlank;          /* the last command got an error without a reason */
    char *refusedClass;         /* the class of the last command's error */
    char *refusedDesc;          /* and its description */
    char *pendingId;
    virJSONValue *reply;
    bool gotReply;

    unsigned long long serial;

    bool eof;               /* the VMM closed the socket */
    bool closed;            /* we closed it: no callback starts any more */
    virError lastError;

    /* flood accounting, for a rate-limited warning */
    unsigned long long floodEvents;
    unsigned long long floodSince;
};

static virClass *virStratoVirtMonitorClass;
static void virStratoVirtMonitorDispose(void *obj);

static int
virStratoVirtMonitorOnceInit(void)
{
    if (!VIR_CLASS_NEW(virStratoVirtMonitor, virClassForObjectLockable()))
        return -1;
    return 0;
}

VIR_ONCE_GLOBAL_INIT(virStratoVirtMonitor);


static void
virStratoVirtMonitorDispose(void *obj)
{
    virStratoVirtMonitor *mon = obj;

    VIR_DEBUG("mon=%p", mon);
    /* Close has stopped the thread; a monitor that was never opened has
     * none.  Never reached from the thread itself with one running. */
    if (mon->source) {
        g_source_destroy(mon->source);
        g_clear_pointer(&mon->source, g_source_unref);
    }
    g_clear_object(&mon->eventThread);
    virObjectUnref(mon->vm);
    virCondDestroy(&mon->notify);
    VIR_FORCE_CLOSE(mon->fd);
    g_free(mon->path);
    g_free(mon->buf);
    g_free(mon->version);
    g_free(mon->pendingId);
    g_free(mon->refusedClass);
    g_free(mon->refusedDesc);
    virJSONValueFree(mon->reply);
    virResetError(&mon->lastError);
}


static void
stratovirtMonitorSetError(virStratoVirtMonitor *mon,
                          int code,
                          const char *msg)
{
    if (mon->lastError.code != VIR_ERR_OK)
        return;
    mon->lastError.code = code;
    mon->lastError.domain = VIR_FROM_THIS;
    mon->lastError.level = VIR_ERR_ERROR;
    mon->lastError.message = g_strdup(msg);
}


static void
stratovirtMonitorReportLastError(virStratoVirtMonitor *mon)
{
    if (mon->lastError.code != VIR_ERR_OK)
        virReportError(mon->lastError.code, "%s", mon->lastError.message);
    else
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("QMP connection to StratoVirt at '%1$s' closed"), mon->path);
}


typedef struct {
    char *name;
    virJSONValue *data;
} stratovirtMonitorEvent;


/* Handle one line from the VMM: greeting, reply, or event.  Called with the
 * monitor locked; events are returned to be dispatched without the lock. */
static void
stratovirtMonitorProcessLine(virStratoVirtMonitor *mon,
                             const char *line,
                             GPtrArray *events)
{
    g_autoptr(virJSONValue) msg = NULL;
    const char *event;

    VIR_DEBUG("mon=%p line=%s", mon, line);

    if (!(msg = virJSONValueFromString(line)) ||
        virJSONValueGetType(msg) != VIR_JSON_TYPE_OBJECT) {
        g_autofree char *err = g_strdup_printf(
            _("StratoVirt sent something that is not a QMP message on '%1$s': '%2$.80s'"),
            mon->path, line);
        virResetLastError();
        stratovirtMonitorSetError(mon, VIR_ERR_OPERATION_FAILED, err);
        mon->eof = true;
        virCondBroadcast(&mon->notify);
        return;
    }

    if (virJSONValueObjectHasKey(msg, "QMP")) {
        /* a hostile VMM may send any shape: look before reading */
        virJSONValue *qmp = virJSONValueObjectGetObject(msg, "QMP");
        virJSONValue *ver = qmp ? virJSONValueObjectGetObject(qmp, "version") : NULL;
        const char *pkg = ver ? virJSONValueObjectGetString(ver, "package") : NULL;

        g_free(mon->version);
        mon->version = g_strdup(pkg);
        mon->greeted = true;
        virCondBroadcast(&mon->notify);
        return;
    }

    if ((event = virJSONValueObjectGetString(msg, "event"))) {
        stratovirtMonitorEvent *ev;

        ev = g_new0(stratovirtMonitorEvent, 1);
        ev->name = g_strdup(event);
        if (virJSONValueObjectRemoveKey(msg, "data", &ev->data) <= 0)
            ev->data = NULL;
        g_ptr_array_add(events, ev);
        return;
    }

    if (virJSONValueObjectHasKey(msg, "return") ||
        virJSONValueObjectHasKey(msg, "error")) {
        const char *id = virJSONValueObjectGetString(msg, "id");

        if (!mon->busy || mon->gotReply) {
            VIR_WARN("unexpected QMP reply from '%s' (id %s)", mon->path, NULLSTR(id));
            return;
        }
        /* Replies to qmp_capabilities and to unparsable commands carry no
         * id; with one command in flight they are its reply. */
        if (id && mon->pendingId && STRNEQ(id, mon->pendingId)) {
            VIR_WARN("QMP reply for '%s' while waiting for '%s'", id, mon->pendingId);
            return;
        }
        mon->reply = g_steal_pointer(&msg);
        mon->gotReply = true;
        virCondBroadcast(&mon->notify);
        return;
    }

    VIR_WARN("unknown QMP message from '%s': %s", mon->path, line);
}


static const struct {
    const char *name;
    virStratoVirtMonitorEventType type;
} stratovirtMonitorEvents[] = {
    { "SHUTDOWN", VIR_STRATOVIRT_MONITOR_EVENT_SHUTDOWN },
    { "STOP", VIR_STRATOVIRT_MONITOR_EVENT_STOP },
    { "RESUME", VIR_STRATOVIRT_MONITOR_EVENT_RESUME },
    { "RESET", VIR_STRATOVIRT_MONITOR_EVENT_RESET },
    { "POWERDOWN", VIR_STRATOVIRT_MONITOR_EVENT_POWERDOWN },
    { "BALLOON_CHANGED", VIR_STRATOVIRT_MONITOR_EVENT_BALLOON_CHANGED },
    { "DEVICE_DELETED", VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED },
};


/* Reads an event's name and data (which a hostile VMM may shape as it
 * likes: look before reading) into @ev, which points into them. */
static void
stratovirtMonitorParseEvent(const char *name,
                            virJSONValue *data,
                            virStratoVirtMonitorEvent *ev)
{
    size_t i;

    ev->name = name;
    ev->type = VIR_STRATOVIRT_MONITOR_EVENT_OTHER;
    for (i = 0; i < G_N_ELEMENTS(stratovirtMonitorEvents); i++) {
        if (STREQ(name, stratovirtMonitorEvents[i].name))
            ev->type = stratovirtMonitorEvents[i].type;
    }
    if (!data || virJSONValueGetType(data) != VIR_JSON_TYPE_OBJECT)
        return;

    switch (ev->type) {
    case VIR_STRATOVIRT_MONITOR_EVENT_BALLOON_CHANGED:
        ev->hasActual = virJSONValueObjectGetNumberUlong(data, "actual",
                                                         &ev->actual) == 0;
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED: {
        const char *path = virJSONValueObjectGetString(data, "path");

        /* "device" is the id; without one, the QOM path ends in it */
        ev->device = virJSONValueObjectGetString(data, "device");
        if (!ev->device && path)
            ev->device = STRPREFIX(path, "/machine/peripheral/") ?
                path + strlen("/machine/peripheral/") : path;
        break;
    }
    case VIR_STRATOVIRT_MONITOR_EVENT_OTHER:
    case VIR_STRATOVIRT_MONITOR_EVENT_SHUTDOWN:
    case VIR_STRATOVIRT_MONITOR_EVENT_STOP:
    case VIR_STRATOVIRT_MONITOR_EVENT_RESUME:
    case VIR_STRATOVIRT_MONITOR_EVENT_RESET:
    case VIR_STRATOVIRT_MONITOR_EVENT_POWERDOWN:
        break;
    }
}


/* Whether a callback may start now: not once Close was called.  Called
 * without the monitor lock. */
static bool
stratovirtMonitorMayCallBack(virStratoVirtMonitor *mon)
{
    bool ok;

    virObjectLock(mon);
    ok = !mon->closed;
    virObjectUnlock(mon);
    return ok;
}


static void
stratovirtMonitorDispatchEvents(virStratoVirtMonitor *mon,
                                GPtrArray *events)
{
    size_t i;

    for (i = 0; i < events->len; i++) {
        stratovirtMonitorEvent *ev = events->pdata[i];

        if (mon->cb.eventNotify && stratovirtMonitorMayCallBack(mon)) {
            virStratoVirtMonitorEvent typed = { 0 };

            stratovirtMonitorParseEvent(ev->name, ev->data, &typed);
            mon->cb.eventNotify(mon, mon->vm, &typed, mon->opaque);
        }
        g_free(ev->name);
        virJSONValueFree(ev->data);
        g_free(ev);
    }
}


/* Append what the VMM sent and handle every complete line.  Called with
 * the monitor locked; events are collected in @evs. */
static void
stratovirtMonitorConsume(virStratoVirtMonitor *mon,
                         const char *data,
                         size_t len,
                         GPtrArray *evs)
{
    size_t scan = mon->buflen;  /* what was buffered before has no newline */
    size_t pos = 0;             /* start of the first unhandled line */
    char *nl;

    if (mon->buflen + len > STRATOVIRT_QMP_MAX_LINE) {
        stratovirtMonitorSetError(mon, VIR_ERR_OPERATION_FAILED,
                                  _("StratoVirt sent a QMP message larger than 1 MiB; closing the monitor"));
        mon->eof = true;
        return;
    }
    mon->buf = g_realloc(mon->buf, mon->buflen + len + 1);
    memcpy(mon->buf + mon->buflen, data, len);
    mon->buflen += len;
    mon->buf[mon->buflen] = '\0';

    while ((nl = memchr(mon->buf + scan, '\n', mon->buflen - scan))) {
        size_t linelen = nl - (mon->buf + pos) + 1;
        g_autofree char *line = NULL;

        if (memchr(mon->buf + pos, '\0', linelen)) {
            stratovirtMonitorSetError(mon, VIR_ERR_OPERATION_FAILED,
                                      _("StratoVirt sent something that is not a QMP message (binary data)"));
            mon->eof = true;
            return;
        }
        line = g_strndup(mon->buf + pos, linelen);
        pos += linelen;
        scan = pos;
        g_strstrip(line);
        if (*line)
            stratovirtMonitorProcessLine(mon, line, evs);
        if (mon->eof)
            return;
    }

    /* keep the incomplete last line, once per read */
    memmove(mon->buf, mon->buf + pos, mon->buflen - pos);
    mon->buflen -= pos;
    mon->buf[mon->buflen] = '\0';
}


/* The rate-limited warning about a VMM that fills whole read slices with
 * events.  Called with the monitor locked. */
static void
stratovirtMonitorNoteFlood(virStratoVirtMonitor *mon,
                           size_t nevents)
{
    unsigned long long now;

    if (virTimeMillisNow(&now) < 0)
        return;
    if (mon->floodSince == 0)
        mon->floodSince = now;
    mon->floodEvents += nevents;
    if (now - mon->floodSince < STRATOVIRT_QMP_FLOOD_WARN_MS)
        return;
    VIR_WARN("StratoVirt floods its QMP socket '%s' with events (%llu in %llu ms); "
             "reading it in bounded slices", mon->path, mon->floodEvents,
             now - mon->floodSince);
    mon->floodEvents = 0;
    mon->floodSince = now;
}


/* Runs in the monitor's thread whenever the socket is readable or hung
 * up: reads one bounded slice, handles it, and returns to the loop. */
static gboolean
stratovirtMonitorIO(int fd,
                    GIOCondition cond,
                    void *opaque)
{
    virStratoVirtMonitor *mon = opaque;
    g_autoptr(GPtrArray) evs = g_ptr_array_new();
    gboolean keep = G_SOURCE_CONTINUE;
    bool eof = false;

    virObjectRef(mon);
    virObjectLock(mon);

    if (mon->closed || fd != mon->fd) {
        virObjectUnlock(mon);
        virObjectUnref(mon);
        return G_SOURCE_REMOVE;
    }

    if (cond & G_IO_IN) {
        char chunk[STRATOVIRT_QMP_READ_CHUNK];
        size_t total = 0;
        ssize_t got = 1;

        while (!mon->eof &&
               total < STRATOVIRT_QMP_READ_SLICE &&
               evs->len < STRATOVIRT_QMP_SLICE_EVENTS &&
               (got = recv(mon->fd, chunk, sizeof(chunk), MSG_DONTWAIT)) > 0) {
            total += got;
            stratovirtMonitorConsume(mon, chunk, got, evs);
        }
        if (!mon->eof) {
            if (got == 0)
                mon->eof = true;
            else if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                mon->eof = true;
            else if (got > 0)
                stratovirtMonitorNoteFlood(mon, evs->len);
        }
    } else if (cond & (G_IO_HUP | G_IO_ERR)) {
        /* hung up with nothing left to read */
        mon->eof = true;
    }

    if (mon->eof) {
        eof = true;
        keep = G_SOURCE_REMOVE;
        g_clear_pointer(&mon->source, g_source_unref);
        virCondBroadcast(&mon->notify);
    }
    virObjectUnlock(mon);

    stratovirtMonitorDispatchEvents(mon, evs);
    if (eof && mon->cb.eofNotify && stratovirtMonitorMayCallBack(mon))
        mon->cb.eofNotify(mon, mon->vm, mon->opaque);

    virObjectUnref(mon);
    return keep;
}


/* Whether the VMM has exited.  The daemon is its parent (a child
 * subreaper), so an exited VMM stays a zombie until the code that handles
 * its exit reaps it: look without reaping. */
static bool
stratovirtMonitorProcessGone(pid_t pid)
{
    siginfo_t info = { 0 };

    if (pid <= 0)
        return false;
    if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
        return info.si_pid == pid;
    return kill(pid, 0) < 0 && errno == ESRCH;
}


static int
stratovirtMonitorConnect(const char *path,
                         pid_t pid,
                         unsigned long long deadline)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    unsigned int delay = 200; /* microseconds, doubling to 10 ms */
    gint64 since = g_get_monotonic_time();
    unsigned int attempts = 0;

    if (virStrcpyStatic(addr.sun_path, path) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("QMP socket path '%1$s' is too long"), path);
        return -1;
    }

    while (true) {
        VIR_AUTOCLOSE fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        unsigned long long now;

        if (fd < 0) {
            virReportSystemError(errno, "%s", _("cannot create a UNIX socket"));
            return -1;
        }
        attempts++;
        if (connect(fd, (struct sockaddr *) &addr, sizeof(addr)) == 0) {
            int ret = fd;

            VIR_DEBUG("QMP socket %s connected after %.3f ms, %u attempts",
                      path, (g_get_monotonic_time() - since) / 1000.0, attempts);
            fd = -1;
            return ret;
        }
        if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN) {
            virReportSystemError(errno, _("cannot connect to StratoVirt's QMP socket '%1$s'"),
                                 path);
            return -1;
        }
        if (stratovirtMonitorProcessGone(pid)) {
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("StratoVirt (pid %1$lld) exited before opening its QMP socket '%2$s'"),
                           (long long) pid, path);
            return -2;
        }
        if (virTimeMillisNow(&now) < 0)
            return -1;
        if (now >= deadline) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT,
                           _("StratoVirt did not open its QMP socket '%1$s' in time"),
                           path);
            return -1;
        }
        g_usleep(delay);
        delay = MIN(delay * 2, 10000);
    }
}


/* Waits until @done or @deadline: 0 when done, -2 at the deadline with
 * nothing reported, -1 with an error (the connection is gone) */
static int
stratovirtMonitorWaitUntil(virStratoVirtMonitor *mon,
                           bool (*done)(virStratoVirtMonitor *mon),
                           unsigned long long deadline)
{
    while (!done(mon)) {
        if (mon->eof || mon->closed) {
            stratovirtMonitorReportLastError(mon);
            return -1;
        }
        if (virCondWaitUntil(&mon->notify, &mon->parent.lock, deadline) < 0) {
            if (errno == ETIMEDOUT)
                return -2;
            virReportSystemError(errno, "%s", _("cannot wait for the QMP monitor"));
            return -1;
        }
    }
    return 0;
}


static void
stratovirtMonitorReportTimeout(virStratoVirtMonitor *mon,
                               const char *what)
{
    virReportError(VIR_ERR_OPERATION_TIMEOUT,
                   _("StratoVirt did not answer %1$s on '%2$s' in time"),
                   what, mon->path);
}


static int
stratovirtMonitorWait(virStratoVirtMonitor *mon,
                      bool (*done)(virStratoVirtMonitor *mon),
                      unsigned long long deadline,
                      const char *what)
{
    int rc = stratovirtMonitorWaitUntil(mon, done, deadline);

    if (rc == -2)
        stratovirtMonitorReportTimeout(mon, what);
    return rc < 0 ? -1 : 0;
}


static bool
stratovirtMonitorGreeted(virStratoVirtMonitor *mon)
{
    return mon->greeted;
}


static bool
stratovirtMonitorGotReply(virStratoVirtMonitor *mon)
{
    return mon->gotReply;
}


static bool
stratovirtMonitorIdle(virStratoVirtMonitor *mon)
{
    return !mon->busy;
}


/* stratovirtMonitorWait for a wait the daemon's stop must be able to end
 * (a reconnect): with @keepWaiting, the wait is cut into slices of at most
 * a second, and after each @keepWaiting is asked: false ends the wait at
 * once, before @deadline too when @early (a stop used to wait out the 10 s
 * of the reconnect's question).  Past @deadline the wait goes on while it
 * says true and the connection is open, with a warning every 10 s after
 * @since; it ends when the VMM @pid (0: not checked) is gone.
 * Called with the monitor locked. */
static int
stratovirtMonitorWaitPatient(virStratoVirtMonitor *mon,
                             bool (*done)(virStratoVirtMonitor *mon),
                             unsigned long long deadline,
                             virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                             void *waitOpaque,
                             bool early,
                             pid_t pid,
                             gint64 since,
                             const char *what)
{
    unsigned long long warned = 0;

    if (!keepWaiting)
        return stratovirtMonitorWait(mon, done, deadline, what);

    for (;;) {
        unsigned long long now;
        unsigned long long until;
        unsigned long long waited;
        int rc;

        if (virTimeMillisNow(&now) < 0)
            return -1;
        until = now + 1000;
        if (now < deadline)
            until = MIN(until, deadline);
        /* a slice that runs out is no error: nothing is reported (or
         * logged) until the wait as a whole gives up */
        if ((rc = stratovirtMonitorWaitUntil(mon, done, until)) != -2)
            return rc;
        if (pid > 0 && stratovirtMonitorProcessGone(pid)) {
            stratovirtMonitorReportTimeout(mon, what);
            return -1;
        }
        if (virTimeMillisNow(&now) < 0)
            return -1;
        if ((early || now >= deadline) && !keepWaiting(waitOpaque)) {
            virReportError(VIR_ERR_OPERATION_ABORTED,
                           _("stopped waiting for StratoVirt to answer %1$s on '%2$s': the daemon is stopping"),
                           what, mon->path);
            return -1;
        }
        waited = (g_get_monotonic_time() - since) / G_USEC_PER_SEC;
        if (now >= deadline && waited >= warned + 10) {
            VIR_WARN("StratoVirt has not answered %s on '%s' for %llu s; still waiting",
                     what, mon->path, waited);
            warned = waited;
        }
    }
}


/**
 * virStratoVirtMonitorOpen:
 * @vm: the domain, passed back to the callbacks
 * @path: the QMP socket
 * @pid: the VMM, to notice it dying while we wait (0: do not check)
 * @timeout: milliseconds for the socket to appear and the greeting to come
 *
 * Returns a monitor with its greeting received, or NULL with an error.  The
 * return value -2 of the connect step (VMM gone) is visible through
 * @vmmGone so the caller can quote the VMM's log.
 */
virStratoVirtMonitor *
virStratoVirtMonitorOpen(virDomainObj *vm,
                         const char *path,
                         pid_t pid,
                         unsigned int timeout,
                         virStratoVirtMonitorCallbacks *cb,
                         void *opaque,
                         bool *vmmGone)
{
    return virStratoVirtMonitorOpenPatient(vm, path, pid, timeout, cb, opaque, vmmGone,
                                           NULL, NULL);
}


/**
 * virStratoVirtMonitorOpenPatient:
 * @keepWaiting: asked each second once @timeout has run out with the
 *   connection made and no greeting yet: true waits on, as long as the
 *   VMM (@pid) lives (a stop does not cut @timeout short)
 *
 * virStratoVirtMonitorOpen for a VMM that is known to have run a guest
 * (a reconnect): a connection StratoVirt has not accepted yet sits in its
 * listen backlog, and one closed before StratoVirt greets on it may cost
 * the guest (2.1.0 panics when its greeting's send fails), so a VMM that
 * is slow to greet is waited for, with a warning every 10 s.
 */
virStratoVirtMonitor *
virStratoVirtMonitorOpenPatient(virDomainObj *vm,
                                const char *path,
                                pid_t pid,
                                unsigned int timeout,
                                virStratoVirtMonitorCallbacks *cb,
                                void *opaque,
                                bool *vmmGone,
                                virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                                void *waitOpaque)
{
    g_autoptr(virStratoVirtMonitor) mon = NULL;
    unsigned long long deadline;
    gint64 connected;
    int fd;

    *vmmGone = false;
    if (virStratoVirtMonitorInitialize() < 0)
        return NULL;
    if (virTimeMillisNow(&deadline) < 0)
        return NULL;
    deadline += timeout;

    if ((fd = stratovirtMonitorConnect(path, pid, deadline)) < 0) {
        *vmmGone = fd == -2;
        return NULL;
    }
    connected = g_get_monotonic_time();

    if (!(mon = virObjectLockableNew(virStratoVirtMonitorClass))) {
        VIR_FORCE_CLOSE(fd);
        return NULL;
    }
    mon->fd = fd;
    if (virCondInit(&mon->notify) < 0) {
        virReportSystemError(errno, "%s", _("cannot initialize a condition"));
        return NULL;
    }
    mon->path = g_strdup(path);
    mon->vm = virObjectRef(vm);
    mon->cb = *cb;
    mon->opaque = opaque;

    if (virSetNonBlock(fd) < 0) {
        virReportSystemError(errno, "%s", _("cannot make the QMP socket non-blocking"));
        return NULL;
    }

    if (!(mon->eventThread = virEventThreadNew("stratovirt-mon")))
        return NULL;

    virObjectLock(mon);
    mon->source = g_unix_fd_source_new(mon->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(mon->source, (GSourceFunc) (void (*)(void)) stratovirtMonitorIO,
                          virObjectRef(mon), virObjectUnref);
    g_source_attach(mon->source, virEventThreadGetContext(mon->eventThread));

    /* a stop does not cut the greeting's @timeout short: a connection
     * closed before StratoVirt has accepted it costs the guest on 2.1.0
     * (its greeting's send is unwrapped: machine_manager/src/socket.rs);
     * one closed after the greeting does not (its replies' sends fail
     * with an error) */
    if (stratovirtMonitorWaitPatient(mon, stratovirtMonitorGreeted, deadline,
                                     keepWaiting, waitOpaque, false, pid, connected,
                                     _("with its QMP greeting")) < 0) {
        virObjectUnlock(mon);
        if (stratovirtMonitorProcessGone(pid))
            *vmmGone = true;
        virStratoVirtMonitorClose(g_steal_pointer(&mon));
        return NULL;
    }
    VIR_DEBUG("QMP greeting from %s: %s, %.3f ms after the connect", path,
              NULLSTR(mon->version), (g_get_monotonic_time() - connected) / 1000.0);
    virObjectUnlock(mon);

    return g_steal_pointer(&mon);
}


/**
 * virStratoVirtMonitorClose:
 *
 * Stops reading the socket, wakes whoever waits on a reply, stops the
 * monitor's thread and drops the caller's reference.  No callback starts
 * once this was called; one already running (it may be waiting for the
 * domain lock) finishes before this returns, so the caller must not hold
 * the domain lock (virStratoVirtProcessStop drops it around this; the job
 * keeps others out).  Never call it from a callback.
 */
void
virStratoVirtMonitorClose(virStratoVirtMonitor *mon)
{
    g_autoptr(virEventThread) thread = NULL;

    if (!mon)
        return;

    virObjectLock(mon);
    mon->closed = true;
    if (mon->source) {
        g_source_destroy(mon->source);
        g_clear_pointer(&mon->source, g_source_unref);
    }
    thread = g_steal_pointer(&mon->eventThread);
    virCondBroadcast(&mon->notify);
    virObjectUnlock(mon);

    if (thread &&
        g_main_context_is_owner(virEventThreadGetContext(thread))) {
        /* called from a callback after all: joining would be a deadlock */
        VIR_WARN("QMP monitor of '%s' closed from its own thread", mon->path);
        g_steal_pointer(&thread);
    }
    /* joins the thread: a callback in flight ends first */
    g_clear_object(&thread);
    virObjectUnref(mon);
}


/* One write of @msg, with @fd passed as SCM_RIGHTS on it (getfd); @twice
 * passes it as two descriptors (see virStratoVirtMonitorSetPassFdTwice) */
static ssize_t
stratovirtMonitorSendFd(int sock,
                        const char *msg,
                        size_t len,
                        int fd,
                        bool twice)
{
    struct msghdr hdr = { 0 };
    struct iovec iov = { .iov_base = (void *) msg, .iov_len = len };
    int fds[2] = { fd, fd };
    size_t nfds = twice ? 2 : 1;
    char control[CMSG_SPACE(sizeof(fds))] = { 0 };
    struct cmsghdr *cmsg;

    hdr.msg_iov = &iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = control;
    hdr.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
    cmsg = CMSG_FIRSTHDR(&hdr);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(cmsg), fds, nfds * sizeof(int));
    return sendmsg(sock, &hdr, MSG_DONTWAIT | MSG_NOSIGNAL);
}


static int
stratovirtMonitorSend(virStratoVirtMonitor *mon,
                      const char *msg,
                      int fd,
                      unsigned long long deadline)
{
    size_t len = strlen(msg);
    size_t done = 0;

    if (len > STRATOVIRT_QMP_MAX_MSG) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("QMP command of %1$zu bytes exceeds StratoVirt's limit of 8192"), len);
        return -1;
    }

    while (done < len) {
        ssize_t n;

        /* the fd goes with the first bytes of the command that names it */
        if (fd >= 0 && done == 0)
            n = stratovirtMonitorSendFd(mon->fd, msg, len, fd, mon->passFdTwice);
        else
            n = send(mon->fd, msg + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            done += n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = { .fd = mon->fd, .events = POLLOUT };
            unsigned long long now;

            if (virTimeMillisNow(&now) < 0)
                return -1;
            if (now >= deadline || poll(&pfd, 1, deadline - now) == 0) {
                virReportError(VIR_ERR_OPERATION_TIMEOUT,
                               _("StratoVirt does not read its QMP socket '%1$s'"), mon->path);
                return -1;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        virReportSystemError(errno, _("cannot write to StratoVirt's QMP socket '%1$s'"),
                             mon->path);
        return -1;
    }
    return 0;
}


/**
 * stratovirtMonitorCommand:
 * @mon: the monitor; the caller holds the domain's job, not its lock
 * @cmd: the QMP command
 * @args: its arguments (consumed), or NULL
 * @timeout: milliseconds to wait for the reply
 * @reply: the "return" value (may be NULL to discard it)
 *
 * Returns 0 on success; -1 with VIR_ERR_OPERATION_FAILED quoting
 * StratoVirt when it answered an error, VIR_ERR_OPERATION_TIMEOUT when it
 * did not answer in time.
 */
static int
stratovirtMonitorCommandFull(virStratoVirtMonitor *mon,
                             const char *cmd,
                             virJSONValue *args,
                             int fd,
                             unsigned int timeout,
                             virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                             void *waitOpaque,
                             virJSONValue **reply)
{
    g_autoptr(virJSONValue) msg = virJSONValueNewObject();
    g_autoptr(virJSONValue) argsp = args;
    g_autoptr(virJSONValue) answer = NULL;
    g_autofree char *text = NULL;
    g_autofree char *what = g_strdup_printf("'%s'", cmd);
    unsigned long long deadline;
    gint64 sent;
    virJSONValue *err;
    int ret = -1;

    if (reply)
        *reply = NULL;
    if (virTimeMillisNow(&deadline) < 0)
        return -1;
    deadline += timeout;

    virObjectRef(mon);
    virObjectLock(mon);

    /* one command in flight */
    if (stratovirtMonitorWait(mon, stratovirtMonitorIdle, deadline, what) < 0)
        goto cleanup;

    mon->busy = true;
    mon->gotReply = false;
    g_free(mon->pendingId);
    mon->pendingId = g_strdup_printf("libvirt-%llu", ++mon->serial);
    mon->refusedBlank = false;
    g_clear_pointer(&mon->refusedClass, g_free);
    g_clear_pointer(&mon->refusedDesc, g_free);

    if (virJSONValueObjectAppendString(msg, "execute", cmd) < 0 ||
        (argsp && virJSONValueObjectAppend(msg, "arguments", &argsp) < 0) ||
        virJSONValueObjectAppendString(msg, "id", mon->pendingId) < 0)
        goto done;
    if (!(text = virJSONValueToString(msg, false)))
        goto done;

    VIR_DEBUG("mon=%p send=%s", mon, text);
    if (stratovirtMonitorSend(mon, text, fd, deadline) < 0)
        goto done;

    sent = g_get_monotonic_time();
    if (stratovirtMonitorWaitPatient(mon, stratovirtMonitorGotReply, deadline,
                                     keepWaiting, waitOpaque, true, 0, sent, what) < 0)
        goto done;

    answer = g_steal_pointer(&mon->reply);
    if ((err = virJSONValueObjectGetObject(answer, "error"))) {
        const char *desc = virJSONValueObjectGetString(err, "desc");
        const char *klass = virJSONValueObjectGetString(err, "class");

        mon->refusedBlank = !desc || !*desc;
        mon->refusedClass = g_strdup(klass);
        mon->refusedDesc = g_strdup(desc);
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt refused '%1$s': %2$s (%3$s)"),
                       cmd, desc && *desc ? desc : _("no reason given"),
                       NULLSTR(klass));
        goto done;
    }
    if (reply && virJSONValueObjectRemoveKey(answer, "return", reply) <= 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt's reply to '%1$s' has neither 'return' nor 'error'"), cmd);
        goto done;
    }
    ret = 0;

 done:
    mon->busy = false;
    mon->gotReply = false;
    g_clear_pointer(&mon->pendingId, g_free);
    g_clear_pointer(&mon->reply, virJSONValueFree);
    virCondBroadcast(&mon->notify);
 cleanup:
    virObjectUnlock(mon);
    virObjectUnref(mon);
    return ret;
}


static int
stratovirtMonitorCommandFd(virStratoVirtMonitor *mon,
                           const char *cmd,
                           virJSONValue *args,
                           int fd,
                           unsigned int timeout,
                           virJSONValue **reply)
{
    return stratovirtMonitorCommandFull(mon, cmd, args, fd, timeout, NULL, NULL, reply);
}


static int
stratovirtMonitorCommand(virStratoVirtMonitor *mon,
                         const char *cmd,
                         virJSONValue *args,
                         unsigned int timeout,
                         virJSONValue **reply)
{
    return stratovirtMonitorCommandFd(mon, cmd, args, -1, timeout, reply);
}


const char *
virStratoVirtMonitorGetVersion(virStratoVirtMonitor *mon)
{
    return mon->version;
}


/**
 * virStratoVirtMonitorSetPassFdTwice:
 *
 * StratoVirt 2.1 reads the SCM_RIGHTS data of a getfd byte by byte over
 * room for two descriptors, and keeps the last non-zero byte as the fd:
 * with one descriptor, that is whatever lies in its buffer after the first
 * four bytes (seen: fd 127, so netdev_add's tap fails with
 * "TUNSETOFFLOAD failed" on EBADF).  Passing the descriptor twice fills
 * the whole buffer, so it keeps the second copy, a valid one (while the
 * VMM's fd numbers stay below 256); the first copy stays open in that VMM
 * until it exits.  Later versions read the descriptors right: @twice is
 * for 2.1 only.
 */
void
virStratoVirtMonitorSetPassFdTwice(virStratoVirtMonitor *mon,
                                   bool twice)
{
    virObjectLock(mon);
    mon->passFdTwice = twice;
    virObjectUnlock(mon);
}


/* ---------------------------------------------------------------------
 * Typed wrappers: one per command the driver uses
 */

static int
stratovirtMonitorSimple(virStratoVirtMonitor *mon,
                        const char *cmd,
                        unsigned int timeout)
{
    return stratovirtMonitorCommand(mon, cmd, NULL, timeout, NULL);
}


/* Pauses the vCPUs.  2.5.0 answers before its STOP event, 2.1.0 and 2.4.0
 * after it: the caller must not depend on the order. */
int
virStratoVirtMonitorStop(virStratoVirtMonitor *mon,
                         unsigned int timeout)
{
    return stratovirtMonitorSimple(mon, "stop", timeout);
}


int
virStratoVirtMonitorCont(virStratoVirtMonitor *mon,
                         unsigned int timeout)
{
    return stratovirtMonitorSimple(mon, "cont", timeout);
}


/* The ACPI power button.  2.1.0 has no such command (refused); on q35 2.4
 * and 2.5 end the VMM right after the reply, without a SHUTDOWN event.
 * There StratoVirt stops each vCPU and waits only 32 ms for it (its KVM
 * vCPU destroy); a vCPU slower than that, on a busy host or early in the
 * boot, makes it refuse with an empty GenericError while the vCPU stops
 * a moment later, and the same request then succeeds: asked again a few
 * times before the refusal is the user's.  A refusal with a reason (2.1.0's
 * unknown command) is final. */
int
virStratoVirtMonitorSystemPowerdown(virStratoVirtMonitor *mon,
                                    unsigned int timeout)
{
    size_t attempt;

    for (attempt = 1; ; attempt++) {
        bool blank;

        if (stratovirtMonitorSimple(mon, "system_powerdown", timeout) == 0)
            return 0;
        virObjectLock(mon);
        blank = mon->refusedBlank;
        virObjectUnlock(mon);
        if (!blank || attempt == 5)
            return -1;
        VIR_DEBUG("mon=%p system_powerdown refused (attempt %zu): %s",
                  mon, attempt, virGetLastErrorMessage());
        virResetLastError();
        g_usleep(100 * 1000);
    }
}


/* 2.1.0 has no such command (refused); on microvm it ends the VMM. */
int
virStratoVirtMonitorSystemReset(virStratoVirtMonitor *mon,
                                unsigned int timeout)
{
    return stratovirtMonitorSimple(mon, "system_reset", timeout);
}


int
virStratoVirtMonitorQueryStatus(virStratoVirtMonitor *mon,
                                unsigned int timeout,
                                bool *running)
{
    return virStratoVirtMonitorQueryStatusPatient(mon, timeout, NULL, NULL, running);
}


/**
 * virStratoVirtMonitorQueryStatusPatient:
 * @keepWaiting: asked each second while the answer has not come: false
 *   ends the wait at once; true waits on, past @timeout too (the question
 *   is not asked twice), as long as the connection is open
 */
int
virStratoVirtMonitorQueryStatusPatient(virStratoVirtMonitor *mon,
                                       unsigned int timeout,
                                       virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                                       void *waitOpaque,
                                       bool *running)
{
    g_autoptr(virJSONValue) ret = NULL;
    const char *status;

    if (stratovirtMonitorCommandFull(mon, "query-status", NULL, -1, timeout,
                                     keepWaiting, waitOpaque, &ret) < 0)
        return -1;
    /* v2.1.0 says running:true while paused: trust 'status' */
    if (!(status = virJSONValueObjectGetString(ret, "status"))) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("StratoVirt's query-status reply has no 'status'"));
        return -1;
    }
    *running = STREQ(status, "running");
    return 0;
}


/**
 * virStratoVirtMonitorQueryCpus:
 * @cpus: filled with one entry per vCPU, in StratoVirt's order
 * @ncpus: their number
 */
int
virStratoVirtMonitorQueryCpus(virStratoVirtMonitor *mon,
                              unsigned int timeout,
                              virStratoVirtMonitorCpuInfo **cpus,
                              size_t *ncpus)
{
    g_autoptr(virJSONValue) ret = NULL;
    g_autofree virStratoVirtMonitorCpuInfo *list = NULL;
    size_t n;
    size_t i;

    *cpus = NULL;
    *ncpus = 0;
    if (stratovirtMonitorCommand(mon, "query-cpus", NULL, timeout, &ret) < 0)
        return -1;
    if (!virJSONValueIsArray(ret)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("StratoVirt's query-cpus reply is not a list"));
        return -1;
    }
    n = virJSONValueArraySize(ret);
    list = g_new0(virStratoVirtMonitorCpuInfo, MAX(n, 1));
    for (i = 0; i < n; i++) {
        virJSONValue *cpu = virJSONValueArrayGet(ret, i);
        unsigned long long tid = 0;

        if (virJSONValueGetType(cpu) == VIR_JSON_TYPE_OBJECT &&
            virJSONValueObjectGetNumberUlong(cpu, "thread_id", &tid) == 0 &&
            tid <= INT_MAX)
            list[i].tid = tid;
    }
    *cpus = g_steal_pointer(&list);
    *ncpus = n;
    return 0;
}


/**
 * virStratoVirtMonitorQueryPtys:
 * @ptys: filled with chardev label -> pty path
 */
int
virStratoVirtMonitorQueryPtys(virStratoVirtMonitor *mon,
                              unsigned int timeout,
                              GHashTable **ptys)
{
    g_autoptr(virJSONValue) ret = NULL;
    g_autoptr(GHashTable) table = virHashNew(g_free);
    size_t i;

    if (stratovirtMonitorCommand(mon, "query-chardev", NULL, timeout, &ret) < 0)
        return -1;
    if (!virJSONValueIsArray(ret)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("StratoVirt's query-chardev reply is not a list"));
        return -1;
    }
    for (i = 0; i < virJSONValueArraySize(ret); i++) {
        virJSONValue *ent = virJSONValueArrayGet(ret, i);
        const char *label = virJSONValueObjectGetString(ent, "label");
        const char *file = virJSONValueObjectGetString(ent, "filename");
        const char *pty;

        if (!label || !file || !(pty = STRSKIP(file, "pty:")))
            continue;
        g_hash_table_insert(table, g_strdup(label), g_strdup(pty));
    }
    *ptys = g_steal_pointer(&table);
    return 0;
}


/* The guest's memory in bytes as the balloon sees it; refused
 * (DeviceNotActive) without a balloon device. */
int
virStratoVirtMonitorQueryBalloon(virStratoVirtMonitor *mon,
                                 unsigned int timeout,
                                 unsigned long long *actual)
{
    g_autoptr(virJSONValue) ret = NULL;

    if (stratovirtMonitorCommand(mon, "query-balloon", NULL, timeout, &ret) < 0)
        return -1;
    if (virJSONValueObjectGetNumberUlong(ret, "actual", actual) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("StratoVirt's query-balloon reply has no 'actual'"));
        return -1;
    }
    return 0;
}


/* The balloon's target in bytes.  Returns 0 when StratoVirt took it, 1
 * when it answered DeviceNotActive (no error left set): on 2.1.0 to 2.5.0
 * the balloon device has no interrupt to tell the guest with until the
 * guest's virtio-balloon driver has activated it (balloon.rs
 * signal_config_change), and a guest without that driver never does; the
 * same class also answers for a VMM with no balloon device at all, which
 * the caller rules out from the definition.  -1 for any other refusal. */
int
virStratoVirtMonitorSetBalloon(virStratoVirtMonitor *mon,
                               unsigned int timeout,
                               unsigned long long bytes)
{
    g_autoptr(virJSONValue) args = NULL;
    bool inactive;

    /* 'balloon' without a value means 0: always send it */
    if (virJSONValueObjectAdd(&args, "U:value", bytes, NULL) < 0)
        return -1;
    if (stratovirtMonitorCommand(mon, "balloon", g_steal_pointer(&args),
                                 timeout, NULL) == 0)
        return 0;
    virObjectLock(mon);
    inactive = STREQ_NULLABLE(mon->refusedClass, "DeviceNotActive");
    virObjectUnlock(mon);
    if (!inactive)
        return -1;
    VIR_DEBUG("mon=%p balloon target %llu not taken yet: %s",
              mon, bytes, virGetLastErrorMessage());
    virResetLastError();
    return 1;
}


/**
 * virStratoVirtMonitorMigrateToFile:
 * @dir: the directory StratoVirt writes its snapshot into (it creates the
 *       last component: 'memory' and 'state' go there)
 *
 * migrate with a file: URI, StratoVirt's snapshot.  It is written before
 * the reply comes (2.4.0 and 2.5.0), and does not pause the guest itself:
 * the caller stops it first.  A refusal is quoted (e.g. "Failed to create
 * snapshot dir: ...").
 */
int
virStratoVirtMonitorMigrateToFile(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  const char *dir)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autofree char *uri = g_strdup_printf("file:%s", dir);

    if (virJSONValueObjectAdd(&args, "s:uri", uri, NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "migrate", g_steal_pointer(&args),
                                    timeout, NULL);
}


VIR_ENUM_IMPL(virStratoVirtMonitorMigrationStatus,
              VIR_STRATOVIRT_MONITOR_MIGRATION_STATUS_LAST,
              "none", "setup", "active", "completed", "failed", "canceled");


/**
 * virStratoVirtMonitorQueryMigrate:
 *
 * query-migrate: {"status": "none|setup|active|completed|failed|canceled"}
 * (a VMM that never migrated says "setup")
 */
int
virStratoVirtMonitorQueryMigrate(virStratoVirtMonitor *mon,
                                 unsigned int timeout,
                                 virStratoVirtMonitorMigrationStatus *status)
{
    g_autoptr(virJSONValue) ret = NULL;
    const char *str;
    int st;

    if (stratovirtMonitorCommand(mon, "query-migrate", NULL, timeout, &ret) < 0)
        return -1;
    if (!(str = virJSONValueObjectGetString(ret, "status")) ||
        (st = virStratoVirtMonitorMigrationStatusTypeFromString(str)) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt's query-migrate reply has no known status: '%1$s'"),
                       NULLSTR(str));
        return -1;
    }
    *status = st;
    return 0;
}


/**
 * virStratoVirtMonitorAddVFIODevice:
 * @alias: the device's id
 * @bus: the root port's id ("pci.N")
 * @slot: the slot on it (function 0)
 * @host: the host device
 *
 * device_add of vfio-pci.  2.4.0 and 2.5.0 refuse it with an argument
 * parsing error whatever the arguments (see the contract, section 8).
 */
int
virStratoVirtMonitorAddVFIODevice(virStratoVirtMonitor *mon,
                                  unsigned int timeout,
                                  const char *alias,
                                  const char *bus,
                                  unsigned int slot,
                                  const virPCIDeviceAddress *host)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autofree char *hostStr = virPCIDeviceAddressAsString(host);
    g_autofree char *addr = g_strdup_printf("0x%x", slot);

    if (virJSONValueObjectAdd(&args,
                              "s:driver", "vfio-pci",
                              "s:id", alias,
                              "s:bus", bus,
                              "s:addr", addr,
                              "s:host", hostStr,
                              NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "device_add", g_steal_pointer(&args),
                                    timeout, NULL);
}


/* device_del: the guest is asked to release the device; it is gone when
 * DEVICE_DELETED comes (which a guest that does not acknowledge never
 * sends). */
int
virStratoVirtMonitorDelDevice(virStratoVirtMonitor *mon,
                              unsigned int timeout,
                              const char *alias)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args, "s:id", alias, NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "device_del", g_steal_pointer(&args),
                                    timeout, NULL);
}


/**
 * virStratoVirtMonitorDelDeviceAgain:
 *
 * device_del of a device whose unplug was asked before (by an earlier
 * daemon, whose DEVICE_DELETED may have come while no daemon listened):
 * whether StratoVirt still has it.  Its answers: no such device ("Can not
 * find parent device from pci bus" from 2.4 and 2.5 on a standard
 * machine; "Failed to remove device: id X not found" from 2.1 and from a
 * microvm); the unplug still pending ("Guest is still on the fly of
 * another (un)plugging", 2.4 and 2.5); or accepted (asked again, 2.1).
 *
 * Returns 1 when StratoVirt has no such device, 0 when it has, -1 with an
 * error reported on any other answer.
 */
int
virStratoVirtMonitorDelDeviceAgain(virStratoVirtMonitor *mon,
                                   unsigned int timeout,
                                   const char *alias)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autofree char *notFound = g_strdup_printf("id %s not found", alias);
    const char *desc;

    if (virJSONValueObjectAdd(&args, "s:id", alias, NULL) < 0)
        return -1;
    if (stratovirtMonitorCommand(mon, "device_del", g_steal_pointer(&args),
                                 timeout, NULL) == 0)
        return 0;
    virObjectLock(mon);
    desc = mon->refusedDesc;
    if (desc && (STREQ(desc, "Can not find parent device from pci bus") ||
                 strstr(desc, notFound))) {
        virObjectUnlock(mon);
        virResetLastError();
        return 1;
    }
    if (desc && strstr(desc, "still on the fly of another (un)plugging")) {
        virObjectUnlock(mon);
        virResetLastError();
        return 0;
    }
    virObjectUnlock(mon);
    return -1;
}


/**
 * virStratoVirtMonitorGetFd:
 * @fdname: the name later commands use for it
 * @fd: passed to StratoVirt (SCM_RIGHTS); the caller keeps its own copy
 */
int
virStratoVirtMonitorGetFd(virStratoVirtMonitor *mon,
                          unsigned int timeout,
                          const char *fdname,
                          int fd)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args, "s:fdname", fdname, NULL) < 0)
        return -1;
    return stratovirtMonitorCommandFd(mon, "getfd", g_steal_pointer(&args), fd,
                                      timeout, NULL);
}


static char *
stratovirtMonitorJoinNames(const char *const *names,
                           size_t n)
{
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    size_t i;

    for (i = 0; i < n; i++)
        virBufferAsprintf(&buf, "%s%s", i ? ":" : "", names[i]);
    return virBufferContentAndReset(&buf);
}


/**
 * virStratoVirtMonitorAddNetdev:
 * @id: the netdev's id
 * @tapfds: getfd names of the taps, one per queue pair
 * @vhostfds: getfd names of the vhost-net fds, or none
 *
 * netdev_add of a tap backend from passed fds.  The list forms (fds,
 * vhostfds) are used for one queue too: StratoVirt 2.1.0 has no 'fd'.
 */
int
virStratoVirtMonitorAddNetdev(virStratoVirtMonitor *mon,
                              unsigned int timeout,
                              const char *id,
                              const char *const *tapfds,
                              size_t ntapfds,
                              const char *const *vhostfds,
                              size_t nvhostfds)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autofree char *taps = stratovirtMonitorJoinNames(tapfds, ntapfds);
    g_autofree char *vhosts = nvhostfds ? stratovirtMonitorJoinNames(vhostfds, nvhostfds) : NULL;

    if (virJSONValueObjectAdd(&args,
                              "s:id", id,
                              "s:type", "tap",
                              "s:fds", taps,
                              "B:vhost", nvhostfds > 0,
                              "S:vhostfds", vhosts,
                              NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "netdev_add", g_steal_pointer(&args),
                                    timeout, NULL);
}


int
virStratoVirtMonitorDelNetdev(virStratoVirtMonitor *mon,
                              unsigned int timeout,
                              const char *id)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args, "s:id", id, NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "netdev_del", g_steal_pointer(&args),
                                    timeout, NULL);
}


/**
 * virStratoVirtMonitorAddNetDevice:
 * @bus: the root port's id ("pci.N"), slot 0
 * @multiqueue: the netdev has more than one queue pair
 *
 * device_add of virtio-net-pci on a netdev added before.
 */
int
virStratoVirtMonitorAddNetDevice(virStratoVirtMonitor *mon,
                                 unsigned int timeout,
                                 const char *alias,
                                 const char *netdev,
                                 const char *mac,
                                 const char *bus,
                                 bool multiqueue)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args,
                              "s:driver", "virtio-net-pci",
                              "s:id", alias,
                              "s:netdev", netdev,
                              "s:mac", mac,
                              "s:bus", bus,
                              "s:addr", "0x0",
                              "S:mq", multiqueue ? "on" : NULL,
                              NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "device_add", g_steal_pointer(&args),
                                    timeout, NULL);
}


/**
 * virStratoVirtMonitorBlockdevAdd:
 * @node: node name (the -drive id it stands for)
 * @format: "raw" or "qcow2"
 * @aio: "native", "threads", "iouring" or NULL (off)
 * @iopsTotal: throttling, 0 for none
 *
 * StratoVirt's flat blockdev-add dialect (not QEMU's node graph).
 */
int
virStratoVirtMonitorBlockdevAdd(virStratoVirtMonitor *mon,
                                unsigned int timeout,
                                const char *node,
                                const char *path,
                                const char *format,
                                bool readonly,
                                bool direct,
                                const char *aio,
                                unsigned long long iopsTotal)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autoptr(virJSONValue) file = NULL;
    g_autoptr(virJSONValue) cache = NULL;

    if (virJSONValueObjectAdd(&file,
                              "s:driver", "file",
                              "s:filename", path,
                              "S:aio", aio,
                              NULL) < 0 ||
        virJSONValueObjectAdd(&cache, "b:direct", direct, NULL) < 0 ||
        virJSONValueObjectAdd(&args,
                              "s:node-name", node,
                              /* raw is StratoVirt's default (and all 2.1.0 has) */
                              "S:driver", STREQ(format, "raw") ? NULL : format,
                              "a:file", &file,
                              "a:cache", &cache,
                              "b:read-only", readonly,
                              "P:throttling.iops-total", iopsTotal,
                              NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "blockdev-add", g_steal_pointer(&args),
                                    timeout, NULL);
}


int
virStratoVirtMonitorBlockdevDel(virStratoVirtMonitor *mon,
                                unsigned int timeout,
                                const char *node)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args, "s:node-name", node, NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "blockdev-del", g_steal_pointer(&args),
                                    timeout, NULL);
}


/**
 * virStratoVirtMonitorAddVirtioBlk:
 * @bootIndex: boot_index, or -1 for none
 *
 * device_add of a virtio-blk-pci on @bus slot 0 (a root port).
 */
int
virStratoVirtMonitorAddVirtioBlk(virStratoVirtMonitor *mon,
                                 unsigned int timeout,
                                 const char *id,
                                 const char *drive,
                                 const char *bus,
                                 const char *serial,
                                 unsigned int queues,
                                 unsigned int queueSize,
                                 const char *iothread,
                                 int bootIndex)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args,
                              "s:driver", "virtio-blk-pci",
                              "s:id", id,
                              "s:drive", drive,
                              "s:bus", bus,
                              "s:addr", "0x0",
                              "S:serial", serial,
                              "p:num-queues", queues,
                              "p:queue-size", queueSize,
                              "S:iothread", iothread,
                              /* StratoVirt's key is the literal snake-case one */
                              "k:boot_index", bootIndex,
                              NULL) < 0)
        return -1;
    return stratovirtMonitorCommand(mon, "device_add", g_steal_pointer(&args),
                                    timeout, NULL);
}
