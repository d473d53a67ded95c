/*
 * stratovirt_agent.c: a client of the QEMU guest agent (qemu-ga) on a
 * StratoVirt virtio-serial port
 *
 * StratoVirt listens on the host end of the port (a unix socket chardev,
 * server,nowait) and, unlike QEMU, says nothing when the guest opens or
 * closes its end: there is no VSERPORT_CHANGE event.  Bytes written while
 * no agent reads are kept or dropped by the VMM, so anything may come
 * back later.  Hence:
 *
 *  - every command is preceded by guest-sync-delimited: a 0xFF byte
 *    (qemu-ga drops what it had half-read up to it), then the sync with a
 *    fresh id; qemu-ga answers 0xFF then {"return": id}, and everything
 *    read before that 0xFF, or answering another id, is stale;
 *  - one command in flight (the protocol has no ids of its own): a second
 *    caller waits for the first, within its own deadline;
 *  - whether an agent is there is learnt by asking: a sync every few
 *    seconds (PROBE_*), answered or not, gives the channel state and the
 *    agent lifecycle event to the owner.
 *
 * The socket is read on libvirt's event loop (virEventAddHandle); the
 * caller of a command waits on a condition with a deadline.  This file
 * knows nothing of domains.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "stratovirt_agent.h"
#include "viralloc.h"
#include "virerror.h"
#include "virevent.h"
#include "virfile.h"
#include "virjson.h"
#include "virlog.h"
#include "virobject.h"
#include "virthread.h"
#include "virstring.h"
#include "virtime.h"
#include "virtypedparam.h"
#include "virutil.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_agent");

/* a probe every PROBE_IDLE_MS while the agent answers, every
 * PROBE_DOWN_MS while it does not; an unanswered probe fails after
 * PROBE_WAIT_MS */
#define STRATOVIRT_AGENT_PROBE_IDLE_MS 5000
#define STRATOVIRT_AGENT_PROBE_DOWN_MS 1000
#define STRATOVIRT_AGENT_PROBE_WAIT_MS 2000
/* the sync before a command */
#define STRATOVIRT_AGENT_SYNC_MS 5000
/* we refuse to buffer more than this from a guest without a line break */
#define STRATOVIRT_AGENT_MAX_LINE (1024 * 1024)

typedef enum {
    STRATOVIRT_AGENT_WAIT_NONE = 0,
    STRATOVIRT_AGENT_WAIT_SYNC,     /* 0xFF, then {"return": syncId} */
    STRATOVIRT_AGENT_WAIT_REPLY,    /* the next whole message */
} stratovirtAgentWait;

struct _virStratoVirtAgent {
    virObjectLockable parent;

    virCond cond;

    int fd;
    int watch;
    int timer;
    bool eof;

    char *rx;
    size_t rxlen;
    GByteArray *tx;

    bool inflight;              /* a command or a probe owns the channel */
    bool probing;               /* ...and it is a probe */
    unsigned long long probeDeadline;
    bool skipToDelim;           /* drop input up to the next 0xFF */
    stratovirtAgentWait wait;
    unsigned long long syncId;
    unsigned long long nextId;
    bool synced;
    virJSONValue *reply;

    bool connected;             /* the last sync was answered */
    bool frozen;                /* our last freeze or thaw froze the guest */
    int timeout;                /* seconds, for commands */

    virStratoVirtAgentStateNotify notify;
    void *opaque;
    virFreeCallback freeOpaque;
};

static virClass *virStratoVirtAgentClass;

static void
virStratoVirtAgentDispose(void *obj)
{
    virStratoVirtAgent *agent = obj;

    VIR_DEBUG("agent=%p", agent);
    if (agent->freeOpaque && agent->opaque)
        agent->freeOpaque(agent->opaque);
    virCondDestroy(&agent->cond);
    VIR_FORCE_CLOSE(agent->fd);
    g_free(agent->rx);
    if (agent->tx)
        g_byte_array_unref(agent->tx);
    virJSONValueFree(agent->reply);
}

static int
stratovirtAgentOnceInit(void)
{
    if (!VIR_CLASS_NEW(virStratoVirtAgent, virClassForObjectLockable()))
        return -1;
    return 0;
}

VIR_ONCE_GLOBAL_INIT(stratovirtAgent);


static unsigned long long
stratovirtAgentNow(void)
{
    unsigned long long now = 0;

    ignore_value(virTimeMillisNow(&now));
    return now;
}


/* Called with the agent locked: what the state change to report, if any */
static bool
stratovirtAgentSetConnected(virStratoVirtAgent *agent,
                            bool connected)
{
    if (agent->connected == connected)
        return false;
    agent->connected = connected;
    VIR_DEBUG("agent=%p %s", agent, connected ? "connected" : "not answering");
    return true;
}


static void
stratovirtAgentUpdateWatch(virStratoVirtAgent *agent)
{
    int events = VIR_EVENT_HANDLE_READABLE;

    if (agent->watch < 0)
        return;
    if (agent->tx->len > 0)
        events |= VIR_EVENT_HANDLE_WRITABLE;
    virEventUpdateHandle(agent->watch, events);
}


/* Called with the agent locked */
static int
stratovirtAgentFlush(virStratoVirtAgent *agent)
{
    while (agent->tx->len > 0) {
        ssize_t n = write(agent->fd, agent->tx->data, agent->tx->len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        g_byte_array_remove_range(agent->tx, 0, n);
    }
    stratovirtAgentUpdateWatch(agent);
    return 0;
}


/* Called with the agent locked: queue a message (and its 0xFF) */
static int
stratovirtAgentSend(virStratoVirtAgent *agent,
                    bool delimiter,
                    const char *msg)
{
    static const guint8 ff = 0xFF;

    VIR_DEBUG("agent=%p send %s%s", agent, delimiter ? "0xFF " : "", msg);
    if (delimiter)
        g_byte_array_append(agent->tx, &ff, 1);
    g_byte_array_append(agent->tx, (const guint8 *) msg, strlen(msg));
    g_byte_array_append(agent->tx, (const guint8 *) "\n", 1);
    return stratovirtAgentFlush(agent);
}


/* Called with the agent locked: 0xFF, then a sync with a fresh id */
static int
stratovirtAgentStartSync(virStratoVirtAgent *agent)
{
    g_autofree char *msg = NULL;

    /* ids that a previous daemon (or an earlier sync) never used */
    agent->syncId = g_get_real_time() / 1000 + agent->nextId++;
    agent->synced = false;
    agent->skipToDelim = true;
    agent->wait = STRATOVIRT_AGENT_WAIT_SYNC;
    msg = g_strdup_printf("{\"execute\":\"guest-sync-delimited\",\"arguments\":{\"id\":%llu}}",
                          agent->syncId);
    return stratovirtAgentSend(agent, true, msg);
}


/* Called with the agent locked: one whole line from the guest */
static void
stratovirtAgentHandleLine(virStratoVirtAgent *agent,
                          const char *line)
{
    g_autoptr(virJSONValue) msg = NULL;
    unsigned long long id;

    if (!*line)
        return;
    if (!(msg = virJSONValueFromString(line)) ||
        virJSONValueGetType(msg) != VIR_JSON_TYPE_OBJECT) {
        VIR_WARN("guest agent sent something that is not a JSON object: %s", line);
        virResetLastError();
        return;
    }

    switch (agent->wait) {
    case STRATOVIRT_AGENT_WAIT_SYNC:
        if (virJSONValueObjectGetNumberUlong(msg, "return", &id) == 0 &&
            id == agent->syncId) {
            agent->synced = true;
            agent->wait = STRATOVIRT_AGENT_WAIT_NONE;
            virCondBroadcast(&agent->cond);
        } else {
            VIR_DEBUG("agent=%p stale message dropped: %s", agent, line);
        }
        break;
    case STRATOVIRT_AGENT_WAIT_REPLY:
        if (virJSONValueObjectHasKey(msg, "return") ||
            virJSONValueObjectHasKey(msg, "error")) {
            virJSONValueFree(agent->reply);
            agent->reply = g_steal_pointer(&msg);
            agent->wait = STRATOVIRT_AGENT_WAIT_NONE;
            virCondBroadcast(&agent->cond);
        }
        break;
    case STRATOVIRT_AGENT_WAIT_NONE:
    default:
        VIR_DEBUG("agent=%p unasked-for message dropped: %s", agent, line);
        break;
    }
}


/* Called with the agent locked */
static void
stratovirtAgentProcess(virStratoVirtAgent *agent)
{
    size_t start = 0;
    size_t i;

    if (agent->skipToDelim) {
        char *ff = memchr(agent->rx, 0xFF, agent->rxlen);

        if (!ff) {
            agent->rxlen = 0;
            return;
        }
        start = ff - agent->rx + 1;
        agent->skipToDelim = false;
    }
    for (i = start; i < agent->rxlen; i++) {
        if (agent->rx[i] == '\n') {
            g_autofree char *line = g_strndup(agent->rx + start, i - start);
            char *p;
            char *q;

            /* a 0xFF may precede any message */
            for (p = q = line; *p; p++) {
                if ((unsigned char) *p != 0xFF)
                    *q++ = *p;
            }
            *q = '\0';
            stratovirtAgentHandleLine(agent, line);
            start = i + 1;
            if (agent->skipToDelim) {
                /* a new sync was started meanwhile: the rest is stale */
                agent->rxlen = 0;
                return;
            }
        }
    }
    memmove(agent->rx, agent->rx + start, agent->rxlen - start);
    agent->rxlen -= start;
    if (agent->rxlen > STRATOVIRT_AGENT_MAX_LINE) {
        VIR_WARN("guest agent sent more than %d bytes without a line break; dropped",
                 STRATOVIRT_AGENT_MAX_LINE);
        agent->rxlen = 0;
    }
}


/* Called with the agent locked: the channel is gone for good */
static void
stratovirtAgentHangup(virStratoVirtAgent *agent)
{
    agent->eof = true;
    if (agent->watch >= 0) {
        virEventRemoveHandle(agent->watch);
        agent->watch = -1;
    }
    virCondBroadcast(&agent->cond);
}


/* Called with the agent locked: a probe that got its answer, or ran out */
static bool
stratovirtAgentProbeDone(virStratoVirtAgent *agent,
                         bool answered)
{
    agent->probing = false;
    agent->inflight = false;
    agent->wait = STRATOVIRT_AGENT_WAIT_NONE;
    /* the next probe: soon while nothing answers, seldom while it does */
    agent->probeDeadline = stratovirtAgentNow() +
        (answered ? STRATOVIRT_AGENT_PROBE_IDLE_MS : STRATOVIRT_AGENT_PROBE_DOWN_MS / 2);
    virCondBroadcast(&agent->cond);
    return stratovirtAgentSetConnected(agent, answered);
}


static void
stratovirtAgentNotify(virStratoVirtAgent *agent,
                      bool changed,
                      bool connected)
{
    if (changed && agent->notify)
        agent->notify(agent, connected, agent->opaque);
}


static void
stratovirtAgentIO(int watch G_GNUC_UNUSED,
                  int fd G_GNUC_UNUSED,
                  int events,
                  void *opaque)
{
    virStratoVirtAgent *agent = opaque;
    bool changed = false;
    bool connected;

    virObjectRef(agent);
    virObjectLock(agent);
    if (agent->eof) {
        virObjectUnlock(agent);
        virObjectUnref(agent);
        return;
    }
    if (events & VIR_EVENT_HANDLE_WRITABLE && stratovirtAgentFlush(agent) < 0) {
        VIR_DEBUG("agent=%p write failed: %s", agent, g_strerror(errno));
        stratovirtAgentHangup(agent);
    }
    if (!agent->eof && events & (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_HANGUP |
                                 VIR_EVENT_HANDLE_ERROR)) {
        char buf[4096];
        ssize_t n;

        while ((n = read(agent->fd, buf, sizeof(buf))) > 0) {
            VIR_REALLOC_N(agent->rx, agent->rxlen + n);
            memcpy(agent->rx + agent->rxlen, buf, n);
            agent->rxlen += n;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            VIR_DEBUG("agent=%p channel closed", agent);
            stratovirtAgentHangup(agent);
        } else {
            stratovirtAgentProcess(agent);
        }
    }
    if (agent->probing && agent->synced)
        changed = stratovirtAgentProbeDone(agent, true);
    else if (agent->eof)
        changed = agent->probing ? stratovirtAgentProbeDone(agent, false) :
                                   stratovirtAgentSetConnected(agent, false);
    connected = agent->connected;
    virObjectUnlock(agent);
    stratovirtAgentNotify(agent, changed, connected);
    virObjectUnref(agent);
}


/* Every PROBE_DOWN_MS: start a probe when it is due and the channel is
 * free, fail one that ran out of time */
static void
stratovirtAgentTimer(int timer G_GNUC_UNUSED,
                     void *opaque)
{
    virStratoVirtAgent *agent = opaque;
    unsigned long long now = stratovirtAgentNow();
    bool changed = false;
    bool connected;

    virObjectRef(agent);
    virObjectLock(agent);
    if (agent->probing && now >= agent->probeDeadline) {
        changed = stratovirtAgentProbeDone(agent, false);
    } else if (!agent->inflight && !agent->eof && now >= agent->probeDeadline) {
        agent->inflight = true;
        agent->probing = true;
        agent->probeDeadline = now + STRATOVIRT_AGENT_PROBE_WAIT_MS;
        if (stratovirtAgentStartSync(agent) < 0)
            stratovirtAgentHangup(agent);
    }
    connected = agent->connected;
    virObjectUnlock(agent);
    stratovirtAgentNotify(agent, changed, connected);
    virObjectUnref(agent);
}


static void
stratovirtAgentUnrefCallback(void *opaque)
{
    virObjectUnref(opaque);
}


/**
 * virStratoVirtAgentOpen:
 * @path: the host end of the agent's virtio-serial port
 *
 * Connects to the socket StratoVirt listens on.  The agent is not known
 * to answer yet: the first probe tells, through @notify.
 */
virStratoVirtAgent *
virStratoVirtAgentOpen(const char *path,
                       virStratoVirtAgentStateNotify notify,
                       void *opaque,
                       virFreeCallback freeOpaque)
{
    g_autoptr(virStratoVirtAgent) agent = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (stratovirtAgentInitialize() < 0)
        return NULL;
    if (!(agent = virObjectLockableNew(virStratoVirtAgentClass)))
        return NULL;
    agent->fd = -1;
    agent->watch = -1;
    agent->timer = -1;
    agent->timeout = VIR_STRATOVIRT_AGENT_TIMEOUT;
    agent->tx = g_byte_array_new();
    if (virCondInit(&agent->cond) < 0) {
        virReportSystemError(errno, "%s", _("cannot initialize a condition"));
        return NULL;
    }

    if (virStrcpyStatic(addr.sun_path, path) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("guest agent socket path '%1$s' is too long"), path);
        return NULL;
    }
    if ((agent->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        virReportSystemError(errno, "%s", _("cannot create a socket for the guest agent"));
        return NULL;
    }
    if (connect(agent->fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        virReportSystemError(errno,
                             _("cannot connect to the guest agent channel '%1$s'"), path);
        return NULL;
    }
    if (virSetNonBlock(agent->fd) < 0) {
        virReportSystemError(errno, "%s", _("cannot make the guest agent socket non-blocking"));
        return NULL;
    }

    agent->notify = notify;
    agent->opaque = opaque;
    agent->freeOpaque = freeOpaque;

    if ((agent->watch = virEventAddHandle(agent->fd, VIR_EVENT_HANDLE_READABLE,
                                          stratovirtAgentIO, virObjectRef(agent),
                                          stratovirtAgentUnrefCallback)) < 0) {
        virObjectUnref(agent);
        agent->opaque = NULL;
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("cannot watch the guest agent socket"));
        return NULL;
    }
    if ((agent->timer = virEventAddTimeout(STRATOVIRT_AGENT_PROBE_DOWN_MS,
                                           stratovirtAgentTimer, virObjectRef(agent),
                                           stratovirtAgentUnrefCallback)) < 0) {
        virObjectUnref(agent);
        virEventRemoveHandle(agent->watch);
        agent->watch = -1;
        agent->opaque = NULL;
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("cannot start the guest agent timer"));
        return NULL;
    }
    VIR_DEBUG("agent=%p path=%s fd=%d", agent, path, agent->fd);
    return g_steal_pointer(&agent);
}


/**
 * virStratoVirtAgentClose:
 *
 * No callback starts after this; a command waiting fails.  Drops the
 * caller's reference.
 */
void
virStratoVirtAgentClose(virStratoVirtAgent *agent)
{
    if (!agent)
        return;
    virObjectLock(agent);
    agent->notify = NULL;
    if (agent->timer >= 0) {
        virEventRemoveTimeout(agent->timer);
        agent->timer = -1;
    }
    stratovirtAgentHangup(agent);
    virObjectUnlock(agent);
    virObjectUnref(agent);
}


/**
 * virStratoVirtAgentGuestReset:
 *
 * The guest was reset: its agent is gone until the guest has booted and
 * started it again (the next probes tell).  Returns whether the state
 * changed; the owner is not called back (it knows).
 */
bool
virStratoVirtAgentGuestReset(virStratoVirtAgent *agent)
{
    bool changed;

    virObjectLock(agent);
    changed = stratovirtAgentSetConnected(agent, false);
    if (!agent->inflight)
        agent->probeDeadline = stratovirtAgentNow() + STRATOVIRT_AGENT_PROBE_DOWN_MS;
    virObjectUnlock(agent);
    return changed;
}


bool
virStratoVirtAgentIsConnected(virStratoVirtAgent *agent)
{
    bool ret;

    virObjectLock(agent);
    ret = agent->connected && !agent->eof;
    virObjectUnlock(agent);
    return ret;
}


void
virStratoVirtAgentSetTimeout(virStratoVirtAgent *agent,
                             int seconds)
{
    virObjectLock(agent);
    agent->timeout = seconds;
    virObjectUnlock(agent);
}


/* Called with the agent locked: wait until @done or the deadline */
static int
stratovirtAgentWaitUntil(virStratoVirtAgent *agent,
                         bool (*done)(virStratoVirtAgent *agent),
                         unsigned long long deadline)
{
    while (!done(agent) && !agent->eof) {
        if (deadline == 0) {
            if (virCondWait(&agent->cond, &agent->parent.lock) < 0)
                return -1;
        } else if (virCondWaitUntil(&agent->cond, &agent->parent.lock, deadline) < 0) {
            if (errno == ETIMEDOUT)
                return done(agent) ? 0 : -1;
            return -1;
        }
    }
    return done(agent) ? 0 : -1;
}

static bool stratovirtAgentFree(virStratoVirtAgent *agent) { return !agent->inflight; }
static bool stratovirtAgentSynced(virStratoVirtAgent *agent) { return agent->synced; }
static bool stratovirtAgentReplied(virStratoVirtAgent *agent) { return !!agent->reply; }


/* The guest's error as a libvirt error: -2 when the agent has no such
 * command, or has it disabled (the caller may do without it).  @frozen:
 * the guest's filesystems were frozen through this agent and not thawed */
static int
stratovirtAgentCheckError(const char *cmdname,
                          bool frozen,
                          virJSONValue *reply)
{
    virJSONValue *error = virJSONValueObjectGet(reply, "error");
    const char *klass;
    const char *desc;

    if (!error)
        return 0;
    klass = virJSONValueObjectGetString(error, "class");
    desc = virJSONValueObjectGetString(error, "desc");
    /* qemu-ga disables all but a few commands while filesystems are
     * frozen: 7.2 says so ("frozen state"), 9.2 only "the command is not
     * allowed", which is why the agent remembers its own freeze */
    if (desc && (strstr(desc, "frozen state") ||
                 (frozen && strstr(desc, "has been disabled")))) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("the guest's filesystems are frozen (domfsfreeze), so its agent refuses '%1$s'; thaw them first (domfsthaw)"),
                       cmdname);
        return -1;
    }
    if (STREQ_NULLABLE(klass, "CommandNotFound") ||
        (desc && (strstr(desc, "has been disabled") || strstr(desc, "not found")))) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("the guest agent does not offer '%1$s': %2$s"),
                       cmdname, NULLSTR(desc));
        return -2;
    }
    virReportError(VIR_ERR_OPERATION_FAILED,
                   _("the guest agent failed '%1$s': %2$s"),
                   cmdname, NULLSTR(desc));
    return -1;
}


/* One command (one in flight: a second caller waits for the first).
 * @cmd is the whole {"execute": ...} object.  With @reply NULL the command
 * has no answer (guest-shutdown): it is sent after the sync and not
 * waited for.  @timeout is seconds, -1 for the agent's, -2 for none.
 * -2: the agent has no such command (reported). */
static int
stratovirtAgentCommand(virStratoVirtAgent *agent,
                       virJSONValue *cmd,
                       int timeout,
                       virJSONValue **reply)
{
    const char *cmdname = virJSONValueObjectGetString(cmd, "execute");
    g_autofree char *msg = NULL;
    unsigned long long now = stratovirtAgentNow();
    unsigned long long deadline;
    unsigned long long syncDeadline;
    bool changed = false;
    bool owned = false;
    int ret = -1;

    if (!(msg = virJSONValueToString(cmd, false)))
        return -1;

    virObjectRef(agent);
    virObjectLock(agent);
    if (timeout < 0)
        timeout = agent->timeout;
    /* VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_BLOCK: no deadline for the reply */
    deadline = timeout == -2 ? 0 : now + timeout * 1000ULL;
    syncDeadline = now + STRATOVIRT_AGENT_SYNC_MS;

    VIR_DEBUG("agent=%p cmd=%s timeout=%d", agent, NULLSTR(cmdname), timeout);
    if (stratovirtAgentWaitUntil(agent, stratovirtAgentFree,
                                 deadline ? MIN(deadline, syncDeadline) : syncDeadline) < 0) {
        if (agent->eof)
            goto closed;
        virReportError(VIR_ERR_AGENT_UNRESPONSIVE,
                       _("the guest agent is still busy with another command after %1$d seconds"),
                       STRATOVIRT_AGENT_SYNC_MS / 1000);
        goto cleanup;
    }
    agent->inflight = true;
    owned = true;

    if (stratovirtAgentStartSync(agent) < 0 ||
        stratovirtAgentWaitUntil(agent, stratovirtAgentSynced, syncDeadline) < 0) {
        if (agent->eof)
            goto closed;
        changed = stratovirtAgentSetConnected(agent, false);
        virReportError(VIR_ERR_AGENT_UNRESPONSIVE,
                       _("the guest agent did not answer within %1$d seconds: is qemu-ga running in the guest?"),
                       STRATOVIRT_AGENT_SYNC_MS / 1000);
        goto release;
    }
    changed = stratovirtAgentSetConnected(agent, true);

    g_clear_pointer(&agent->reply, virJSONValueFree);
    agent->wait = reply ? STRATOVIRT_AGENT_WAIT_REPLY : STRATOVIRT_AGENT_WAIT_NONE;
    if (stratovirtAgentSend(agent, false, msg) < 0) {
        virReportSystemError(errno, "%s", _("cannot write to the guest agent channel"));
        goto release;
    }
    if (!reply) {
        /* no answer comes (the guest goes down): sent is done */
        ret = 0;
        goto release;
    }
    if (stratovirtAgentWaitUntil(agent, stratovirtAgentReplied, deadline) < 0) {
        if (agent->eof)
            goto closed;
        virReportError(VIR_ERR_AGENT_UNRESPONSIVE,
                       _("the guest agent did not answer '%1$s' within %2$d seconds"),
                       NULLSTR(cmdname), timeout);
        goto release;
    }
    *reply = g_steal_pointer(&agent->reply);
    ret = stratovirtAgentCheckError(cmdname, agent->frozen, *reply);
    if (ret < 0)
        g_clear_pointer(reply, virJSONValueFree);

 release:
    agent->wait = STRATOVIRT_AGENT_WAIT_NONE;
    agent->inflight = false;
    agent->probeDeadline = stratovirtAgentNow() +
        (agent->connected ? STRATOVIRT_AGENT_PROBE_IDLE_MS : STRATOVIRT_AGENT_PROBE_DOWN_MS);
    virCondBroadcast(&agent->cond);
    goto cleanup;

 closed:
    virReportError(VIR_ERR_AGENT_UNRESPONSIVE, "%s",
                   _("the guest agent channel was closed (the VMM is stopping)"));
    if (owned) {
        agent->wait = STRATOVIRT_AGENT_WAIT_NONE;
        agent->inflight = false;
        virCondBroadcast(&agent->cond);
    }

 cleanup:
    {
        bool connected = agent->connected;

        virObjectUnlock(agent);
        stratovirtAgentNotify(agent, changed, connected);
    }
    virObjectUnref(agent);
    return ret;
}


/* ---------------------------------------------------------------------
 * The commands, typed
 */

/* {"execute": name, "arguments": args} (args stolen, may be NULL), run */
static int
stratovirtAgentRun(virStratoVirtAgent *agent,
                   const char *name,
                   virJSONValue **args,
                   int timeout,
                   virJSONValue **reply)
{
    g_autoptr(virJSONValue) cmd = virJSONValueNewObject();

    if (virJSONValueObjectAppendString(cmd, "execute", name) < 0)
        return -1;
    if (args && *args &&
        virJSONValueObjectAppend(cmd, "arguments", args) < 0)
        return -1;
    return stratovirtAgentCommand(agent, cmd, timeout, reply);
}


/* The "return" member of a reply, of the type asked for */
static virJSONValue *
stratovirtAgentReturn(virJSONValue *reply,
                      const char *cmd,
                      virJSONType type)
{
    virJSONValue *ret = virJSONValueObjectGet(reply, "return");

    if (!ret || virJSONValueGetType(ret) != type) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("the guest agent's answer to '%1$s' is not what qemu-ga sends"), cmd);
        return NULL;
    }
    return ret;
}


int
virStratoVirtAgentShutdown(virStratoVirtAgent *agent,
                           bool reboot)
{
    g_autoptr(virJSONValue) args = NULL;

    if (virJSONValueObjectAdd(&args, "s:mode", reboot ? "reboot" : "powerdown", NULL) < 0)
        return -1;
    return stratovirtAgentRun(agent, "guest-shutdown", &args, -1, NULL) < 0 ? -1 : 0;
}


int
virStratoVirtAgentGetInterfaces(virStratoVirtAgent *agent,
                                virDomainInterfacePtr **ifaces)
{
    g_autoptr(virJSONValue) reply = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) virDomainInterfaceFree);
    virJSONValue *list;
    size_t i;
    size_t j;

    if (stratovirtAgentRun(agent, "guest-network-get-interfaces", NULL, -1, &reply) < 0)
        return -1;
    if (!(list = stratovirtAgentReturn(reply, "guest-network-get-interfaces",
                                       VIR_JSON_TYPE_ARRAY)))
        return -1;

    for (i = 0; i < virJSONValueArraySize(list); i++) {
        virJSONValue *ent = virJSONValueArrayGet(list, i);
        virJSONValue *addrs = virJSONValueObjectGetArray(ent, "ip-addresses");
        const char *name = virJSONValueObjectGetString(ent, "name");
        virDomainInterfacePtr iface;

        if (!name)
            continue;
        iface = g_new0(virDomainInterface, 1);
        g_ptr_array_add(out, iface);
        iface->name = g_strdup(name);
        iface->hwaddr = g_strdup(virJSONValueObjectGetString(ent, "hardware-address"));
        if (!addrs)
            continue;
        iface->addrs = g_new0(virDomainIPAddress, virJSONValueArraySize(addrs));
        for (j = 0; j < virJSONValueArraySize(addrs); j++) {
            virJSONValue *a = virJSONValueArrayGet(addrs, j);
            const char *type = virJSONValueObjectGetString(a, "ip-address-type");
            const char *addr = virJSONValueObjectGetString(a, "ip-address");
            virDomainIPAddressPtr ip = &iface->addrs[iface->naddrs];
            unsigned int prefix = 0;

            if (!type || !addr)
                continue;
            if (STREQ(type, "ipv4"))
                ip->type = VIR_IP_ADDR_TYPE_IPV4;
            else if (STREQ(type, "ipv6"))
                ip->type = VIR_IP_ADDR_TYPE_IPV6;
            else
                continue;
            ignore_value(virJSONValueObjectGetNumberUint(a, "prefix", &prefix));
            ip->prefix = prefix;
            ip->addr = g_strdup(addr);
            iface->naddrs++;
        }
    }

    *ifaces = g_new0(virDomainInterfacePtr, out->len + 1);
    for (i = 0; i < out->len; i++)
        (*ifaces)[i] = g_ptr_array_index(out, i);
    g_ptr_array_set_free_func(out, NULL);
    return out->len;
}


int
virStratoVirtAgentSetUserPassword(virStratoVirtAgent *agent,
                                  const char *user,
                                  const char *password,
                                  bool crypted)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autoptr(virJSONValue) reply = NULL;
    g_autofree char *b64 = g_base64_encode((const guchar *) password, strlen(password));

    if (virJSONValueObjectAdd(&args,
                              "s:username", user,
                              "s:password", b64,
                              "b:crypted", crypted,
                              NULL) < 0)
        return -1;
    return stratovirtAgentRun(agent, "guest-set-user-password", &args, -1, &reply) < 0 ? -1 : 0;
}


/* How many filesystems the guest froze (@freeze) or thawed */
int
virStratoVirtAgentFSFreezeThaw(virStratoVirtAgent *agent,
                               bool freeze,
                               const char **mountpoints,
                               unsigned int nmountpoints)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autoptr(virJSONValue) reply = NULL;
    const char *cmd = freeze ? "guest-fsfreeze-freeze" : "guest-fsfreeze-thaw";
    int count;

    if (freeze && nmountpoints > 0) {
        g_autoptr(virJSONValue) list = virJSONValueNewArray();
        size_t i;

        for (i = 0; i < nmountpoints; i++) {
            if (virJSONValueArrayAppendString(list, mountpoints[i]) < 0)
                return -1;
        }
        if (virJSONValueObjectAdd(&args, "a:mountpoints", &list, NULL) < 0)
            return -1;
        cmd = "guest-fsfreeze-freeze-list";
    }
    /* a freeze waits for the guest to flush: a minute at least */
    if (stratovirtAgentRun(agent, cmd, &args,
                           freeze ? MAX(60, agent->timeout) : -1, &reply) < 0)
        return -1;
    virObjectLock(agent);
    agent->frozen = freeze;
    virObjectUnlock(agent);
    if (virJSONValueObjectGetNumberInt(reply, "return", &count) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("the guest agent's answer to '%1$s' has no count of filesystems"), cmd);
        return -1;
    }
    return count;
}


void
virStratoVirtAgentDiskAddrClear(virStratoVirtAgentDiskAddr *addr)
{
    g_clear_pointer(&addr->serial, g_free);
    g_clear_pointer(&addr->dev, g_free);
}


static void
stratovirtAgentParseDiskAddr(virJSONValue *obj,
                             virStratoVirtAgentDiskAddr *addr)
{
    virJSONValue *pci = virJSONValueObjectGetObject(obj, "pci-controller");
    unsigned int domain, bus, slot, function;

    addr->serial = g_strdup(virJSONValueObjectGetString(obj, "serial"));
    addr->dev = g_strdup(virJSONValueObjectGetString(obj, "dev"));
    if (pci &&
        virJSONValueObjectGetNumberUint(pci, "domain", &domain) == 0 &&
        virJSONValueObjectGetNumberUint(pci, "bus", &bus) == 0 &&
        virJSONValueObjectGetNumberUint(pci, "slot", &slot) == 0 &&
        virJSONValueObjectGetNumberUint(pci, "function", &function) == 0) {
        addr->hasPCI = true;
        addr->pci.domain = domain;
        addr->pci.bus = bus;
        addr->pci.slot = slot;
        addr->pci.function = function;
    }
}


void
virStratoVirtAgentFSInfoFree(virStratoVirtAgentFSInfo *fs)
{
    size_t i;

    if (!fs)
        return;
    g_free(fs->name);
    g_free(fs->mountpoint);
    g_free(fs->fstype);
    for (i = 0; i < fs->ndisks; i++)
        virStratoVirtAgentDiskAddrClear(&fs->disks[i]);
    g_free(fs->disks);
    g_free(fs);
}


/* The guest's mounted filesystems; -2 when the agent lacks the command */
int
virStratoVirtAgentGetFSInfo(virStratoVirtAgent *agent,
                            virStratoVirtAgentFSInfo ***info,
                            size_t *ninfo)
{
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *list;
    size_t i;
    size_t j;
    int rc;

    if ((rc = stratovirtAgentRun(agent, "guest-get-fsinfo", NULL, -1, &reply)) < 0)
        return rc;
    if (!(list = stratovirtAgentReturn(reply, "guest-get-fsinfo", VIR_JSON_TYPE_ARRAY)))
        return -1;
    *ninfo = virJSONValueArraySize(list);
    *info = g_new0(virStratoVirtAgentFSInfo *, *ninfo);
    for (i = 0; i < *ninfo; i++) {
        virJSONValue *ent = virJSONValueArrayGet(list, i);
        virJSONValue *disks = virJSONValueObjectGetArray(ent, "disk");
        virStratoVirtAgentFSInfo *fs = g_new0(virStratoVirtAgentFSInfo, 1);

        (*info)[i] = fs;
        fs->name = g_strdup(virJSONValueObjectGetString(ent, "name"));
        fs->mountpoint = g_strdup(virJSONValueObjectGetString(ent, "mountpoint"));
        fs->fstype = g_strdup(virJSONValueObjectGetString(ent, "type"));
        fs->hasTotal = virJSONValueObjectGetNumberUlong(ent, "total-bytes", &fs->total) == 0;
        fs->hasUsed = virJSONValueObjectGetNumberUlong(ent, "used-bytes", &fs->used) == 0;
        if (!disks)
            continue;
        fs->ndisks = virJSONValueArraySize(disks);
        fs->disks = g_new0(virStratoVirtAgentDiskAddr, fs->ndisks);
        for (j = 0; j < fs->ndisks; j++)
            stratovirtAgentParseDiskAddr(virJSONValueArrayGet(disks, j), &fs->disks[j]);
    }
    return 0;
}


void
virStratoVirtAgentDiskFree(virStratoVirtAgentDisk *disk)
{
    if (!disk)
        return;
    g_free(disk->name);
    g_strfreev(disk->deps);
    virStratoVirtAgentDiskAddrClear(&disk->addr);
    g_free(disk);
}


/* The guest's block devices (guest-get-disks); -2 when the agent lacks it */
int
virStratoVirtAgentGetDisks(virStratoVirtAgent *agent,
                           virStratoVirtAgentDisk ***disks,
                           size_t *ndisks)
{
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *list;
    size_t i;
    size_t j;
    int rc;

    if ((rc = stratovirtAgentRun(agent, "guest-get-disks", NULL, -1, &reply)) < 0)
        return rc;
    if (!(list = stratovirtAgentReturn(reply, "guest-get-disks", VIR_JSON_TYPE_ARRAY)))
        return -1;
    *ndisks = virJSONValueArraySize(list);
    *disks = g_new0(virStratoVirtAgentDisk *, *ndisks);
    for (i = 0; i < *ndisks; i++) {
        virJSONValue *ent = virJSONValueArrayGet(list, i);
        virJSONValue *deps = virJSONValueObjectGetArray(ent, "dependencies");
        virJSONValue *addr = virJSONValueObjectGetObject(ent, "address");
        virStratoVirtAgentDisk *d = g_new0(virStratoVirtAgentDisk, 1);
        size_t n = 0;

        (*disks)[i] = d;
        d->name = g_strdup(virJSONValueObjectGetString(ent, "name"));
        ignore_value(virJSONValueObjectGetBoolean(ent, "partition", &d->partition));
        d->deps = g_new0(char *, (deps ? virJSONValueArraySize(deps) : 0) + 1);
        for (j = 0; deps && j < virJSONValueArraySize(deps); j++) {
            virJSONValue *dep = virJSONValueArrayGet(deps, j);

            if (virJSONValueGetType(dep) == VIR_JSON_TYPE_STRING)
                d->deps[n++] = g_strdup(virJSONValueGetString(dep));
        }
        if (addr) {
            d->hasAddr = true;
            stratovirtAgentParseDiskAddr(addr, &d->addr);
        }
    }
    return 0;
}


int
virStratoVirtAgentGetTime(virStratoVirtAgent *agent,
                          long long *seconds,
                          unsigned int *nseconds)
{
    g_autoptr(virJSONValue) reply = NULL;
    unsigned long long ns;

    if (stratovirtAgentRun(agent, "guest-get-time", NULL, -1, &reply) < 0)
        return -1;
    if (virJSONValueObjectGetNumberUlong(reply, "return", &ns) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the guest agent's answer to 'guest-get-time' is not a time"));
        return -1;
    }
    *seconds = ns / 1000000000ULL;
    *nseconds = ns % 1000000000ULL;
    return 0;
}


/* @sync: the guest sets its clock from its RTC (qemu-ga runs hwclock) */
int
virStratoVirtAgentSetTime(virStratoVirtAgent *agent,
                          long long seconds,
                          unsigned int nseconds,
                          bool sync)
{
    g_autoptr(virJSONValue) args = NULL;
    g_autoptr(virJSONValue) reply = NULL;

    if (!sync &&
        virJSONValueObjectAdd(&args, "I:time", seconds * 1000000000LL + nseconds, NULL) < 0)
        return -1;
    return stratovirtAgentRun(agent, "guest-set-time", &args, -1, &reply) < 0 ? -1 : 0;
}


/* -2 when the agent lacks the command */
int
virStratoVirtAgentGetHostname(virStratoVirtAgent *agent,
                              char **hostname)
{
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *ret;
    const char *name;
    int rc;

    if ((rc = stratovirtAgentRun(agent, "guest-get-host-name", NULL, -1, &reply)) < 0)
        return rc;
    if (!(ret = stratovirtAgentReturn(reply, "guest-get-host-name", VIR_JSON_TYPE_OBJECT)))
        return -1;
    if (!(name = virJSONValueObjectGetString(ret, "host-name"))) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the guest agent's answer to 'guest-get-host-name' has no host-name"));
        return -1;
    }
    *hostname = g_strdup(name);
    return 0;
}


static int
stratovirtAgentAddStr(virTypedParameterPtr *params,
                      int *nparams,
                      int *maxparams,
                      const char *name,
                      const char *value)
{
    if (!value)
        return 0;
    return virTypedParamsAddString(params, nparams, maxparams, name, value);
}


/* user.count, user.N.name/domain/login-time; -2 when the agent lacks it */
int
virStratoVirtAgentGetUsers(virStratoVirtAgent *agent,
                           virTypedParameterPtr *params,
                           int *nparams,
                           int *maxparams)
{
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *list;
    size_t i;
    int rc;

    if ((rc = stratovirtAgentRun(agent, "guest-get-users", NULL, -1, &reply)) < 0)
        return rc;
    if (!(list = stratovirtAgentReturn(reply, "guest-get-users", VIR_JSON_TYPE_ARRAY)))
        return -1;
    if (virTypedParamsAddUInt(params, nparams, maxparams, "user.count",
                              virJSONValueArraySize(list)) < 0)
        return -1;
    for (i = 0; i < virJSONValueArraySize(list); i++) {
        virJSONValue *u = virJSONValueArrayGet(list, i);
        g_autofree char *kname = g_strdup_printf("user.%zu.name", i);
        g_autofree char *kdomain = g_strdup_printf("user.%zu.domain", i);
        g_autofree char *ktime = g_strdup_printf("user.%zu.login-time", i);
        double login = 0;

        if (stratovirtAgentAddStr(params, nparams, maxparams, kname,
                                  virJSONValueObjectGetString(u, "user")) < 0 ||
            stratovirtAgentAddStr(params, nparams, maxparams, kdomain,
                                  virJSONValueObjectGetString(u, "domain")) < 0)
            return -1;
        if (virJSONValueObjectGetNumberDouble(u, "login-time", &login) == 0 &&
            virTypedParamsAddULLong(params, nparams, maxparams, ktime,
                                    (unsigned long long) (login * 1000)) < 0)
            return -1;
    }
    return 0;
}


/* os.*; -2 when the agent lacks the command */
int
virStratoVirtAgentGetOSInfo(virStratoVirtAgent *agent,
                            virTypedParameterPtr *params,
                            int *nparams,
                            int *maxparams)
{
    static const char *const keys[] = {
        "id", "name", "pretty-name", "version", "version-id", "machine",
        "variant", "variant-id", "kernel-release", "kernel-version",
    };
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *os;
    size_t i;
    int rc;

    if ((rc = stratovirtAgentRun(agent, "guest-get-osinfo", NULL, -1, &reply)) < 0)
        return rc;
    if (!(os = stratovirtAgentReturn(reply, "guest-get-osinfo", VIR_JSON_TYPE_OBJECT)))
        return -1;
    for (i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *name = g_strdup_printf("os.%s", keys[i]);

        if (stratovirtAgentAddStr(params, nparams, maxparams, name,
                                  virJSONValueObjectGetString(os, keys[i])) < 0)
            return -1;
    }
    return 0;
}


/* timezone.name, timezone.offset; -2 when the agent lacks the command */
int
virStratoVirtAgentGetTimezone(virStratoVirtAgent *agent,
                              virTypedParameterPtr *params,
                              int *nparams,
                              int *maxparams)
{
    g_autoptr(virJSONValue) reply = NULL;
    virJSONValue *tz;
    int offset;
    int rc;

    if ((rc = stratovirtAgentRun(agent, "guest-get-timezone", NULL, -1, &reply)) < 0)
        return rc;
    if (!(tz = stratovirtAgentReturn(reply, "guest-get-timezone", VIR_JSON_TYPE_OBJECT)))
        return -1;
    if (stratovirtAgentAddStr(params, nparams, maxparams, "timezone.name",
                              virJSONValueObjectGetString(tz, "zone")) < 0)
        return -1;
    if (virJSONValueObjectGetNumberInt(tz, "offset", &offset) == 0 &&
        virTypedParamsAddInt(params, nparams, maxparams, "timezone.offset", offset) < 0)
        return -1;
    return 0;
}
