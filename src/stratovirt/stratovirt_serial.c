/*
 * stratovirt_serial.c: the serial port's <log file>, through a pty of the
 * daemon's own
 *
 * The QEMU driver hands a chardev's <log file> to virtlogd and QEMU writes
 * the guest's output both to the pty and to virtlogd's pipe.  StratoVirt's
 * serial port has no log option, and on 2.4 and 2.5 it takes no
 * '-serial chardev:ID' either (shared/stratovirt/README.md), so the port is
 * wired as '-serial socket,path=...,server,nowait' (every version has it)
 * and the daemon stands between the socket and the user:
 *
 *   StratoVirt's serial socket  ->  the log file (libvirt's rotating file
 *                                   writer, virtlogd's own, with virtlogd's
 *                                   size and generations), and the pty
 *   the pty (virsh console)     ->  StratoVirt's serial socket
 *
 * The pty is the daemon's: its path is the serial's <source path> in the
 * live XML, so 'virsh console' and virt-manager open it as they would a
 * pty of the VMM's.  The daemon keeps its secondary side open, so the pty
 * never hangs up between console sessions; what the guest writes while no
 * console is open stays in the pty's buffer until it is full, then the pty
 * copy is dropped (the log file has everything).  Input is never dropped:
 * what the VMM has not taken yet waits, and the pty is not read meanwhile.
 *
 * The I/O runs in the daemon's event loop; the object's lock orders it
 * against Close.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "stratovirt_serial.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virobject.h"
#include "virrotatingfile.h"
#include "virstring.h"
#include "virutil.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_serial");

struct _virStratoVirtSerialLog {
    virObjectLockable parent;

    int sock;               /* StratoVirt's serial socket */
    int primary;            /* our pty */
    int secondary;          /* held, so the pty never hangs up */
    char *ptyPath;
    virRotatingFileWriter *log;
    char *logPath;
    bool logFailed;         /* warned once */

    int sockWatch;
    int ptyWatch;
    char pending[4096];     /* console input the VMM has not taken yet */
    size_t npending;
    bool closed;
};

static virClass *virStratoVirtSerialLogClass;
static void virStratoVirtSerialLogDispose(void *obj);

static int
virStratoVirtSerialLogOnceInit(void)
{
    if (!VIR_CLASS_NEW(virStratoVirtSerialLog, virClassForObjectLockable()))
        return -1;
    return 0;
}

VIR_ONCE_GLOBAL_INIT(virStratoVirtSerialLog);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStratoVirtSerialLog, virObjectUnref);


static void
virStratoVirtSerialLogDispose(void *obj)
{
    virStratoVirtSerialLog *slog = obj;

    VIR_FORCE_CLOSE(slog->sock);
    VIR_FORCE_CLOSE(slog->primary);
    VIR_FORCE_CLOSE(slog->secondary);
    g_clear_pointer(&slog->log, virRotatingFileWriterFree);
    g_free(slog->ptyPath);
    g_free(slog->logPath);
}


/* Called locked: the watches go, the fds close; the log file stays */
static void
stratovirtSerialLogShut(virStratoVirtSerialLog *slog)
{
    if (slog->closed)
        return;
    slog->closed = true;
    if (slog->sockWatch > 0)
        virEventRemoveHandle(slog->sockWatch);
    if (slog->ptyWatch > 0)
        virEventRemoveHandle(slog->ptyWatch);
    slog->sockWatch = slog->ptyWatch = -1;
    VIR_FORCE_CLOSE(slog->sock);
    VIR_FORCE_CLOSE(slog->primary);
    VIR_FORCE_CLOSE(slog->secondary);
    g_clear_pointer(&slog->log, virRotatingFileWriterFree);
}


/* Called locked: the events each fd waits for, from what is pending */
static void
stratovirtSerialLogUpdate(virStratoVirtSerialLog *slog)
{
    int sockEvents = VIR_EVENT_HANDLE_READABLE;

    if (slog->npending)
        sockEvents |= VIR_EVENT_HANDLE_WRITABLE;
    virEventUpdateHandle(slog->sockWatch, sockEvents);
    virEventUpdateHandle(slog->ptyWatch,
                         slog->npending < sizeof(slog->pending) ?
                         VIR_EVENT_HANDLE_READABLE : 0);
}


/* Called locked: console input to the VMM, as much as it takes */
static int
stratovirtSerialLogFlushInput(virStratoVirtSerialLog *slog)
{
    while (slog->npending) {
        ssize_t n = send(slog->sock, slog->pending, slog->npending, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        memmove(slog->pending, slog->pending + n, slog->npending - n);
        slog->npending -= n;
    }
    return 0;
}


static void
stratovirtSerialLogSockEvent(int watch G_GNUC_UNUSED,
                             int fd G_GNUC_UNUSED,
                             int events,
                             void *opaque)
{
    virStratoVirtSerialLog *slog = opaque;
    char buf[65536];
    ssize_t n;

    virObjectLock(slog);
    if (slog->closed)
        goto cleanup;

    if (events & VIR_EVENT_HANDLE_WRITABLE &&
        stratovirtSerialLogFlushInput(slog) < 0)
        goto gone;

    if (events & (VIR_EVENT_HANDLE_READABLE | VIR_EVENT_HANDLE_HANGUP |
                  VIR_EVENT_HANDLE_ERROR)) {
        n = read(slog->sock, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            goto update;
        if (n <= 0)
            goto gone;

        if (slog->log &&
            virRotatingFileWriterAppend(slog->log, buf, n) != n &&
            !slog->logFailed) {
            VIR_WARN("cannot write the serial console log %s: %s",
                     slog->logPath, g_strerror(errno));
            slog->logFailed = true;
        }
        /* the pty copy is dropped when nobody reads it and it is full */
        if (write(slog->primary, buf, n) < 0 && errno != EAGAIN && errno != EIO)
            VIR_DEBUG("pty %s: %s", slog->ptyPath, g_strerror(errno));
    }

 update:
    stratovirtSerialLogUpdate(slog);
 cleanup:
    virObjectUnlock(slog);
    return;

 gone:
    /* the VMM closed its end: it has exited */
    VIR_DEBUG("serial socket of pty %s closed", slog->ptyPath);
    stratovirtSerialLogShut(slog);
    virObjectUnlock(slog);
}


static void
stratovirtSerialLogPtyEvent(int watch G_GNUC_UNUSED,
                            int fd G_GNUC_UNUSED,
                            int events G_GNUC_UNUSED,
                            void *opaque)
{
    virStratoVirtSerialLog *slog = opaque;
    ssize_t n;

    virObjectLock(slog);
    if (slog->closed)
        goto cleanup;

    n = read(slog->primary, slog->pending + slog->npending,
             sizeof(slog->pending) - slog->npending);
    if (n > 0) {
        slog->npending += n;
        if (stratovirtSerialLogFlushInput(slog) < 0) {
            stratovirtSerialLogShut(slog);
            goto cleanup;
        }
    }
    /* n <= 0: no console session (EIO) or nothing yet; we hold the
     * secondary, so the pty does not stay hung up */
    stratovirtSerialLogUpdate(slog);
 cleanup:
    virObjectUnlock(slog);
}


static int
stratovirtSerialLogConnect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = -1;

    if (virStrcpyStatic(addr.sun_path, path) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("the serial socket path '%1$s' is too long"), path);
        return -1;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        virSetNonBlock(fd) < 0) {
        virReportSystemError(errno,
                             _("cannot connect to StratoVirt's serial port socket '%1$s'"),
                             path);
        VIR_FORCE_CLOSE(fd);
        return -1;
    }
    return fd;
}


/**
 * virStratoVirtSerialLogOpen:
 * @sockPath: StratoVirt's '-serial socket' path (it is the server)
 * @logPath: the serial's <log file>
 * @append: keep what @logPath holds (<log append='on'>, or a reconnect)
 *
 * Returns the running proxy, whose pty virStratoVirtSerialLogGetPty
 * names, or NULL with an error reported.
 */
virStratoVirtSerialLog *
virStratoVirtSerialLogOpen(const char *sockPath,
                           const char *logPath,
                           bool append)
{
    g_autoptr(virStratoVirtSerialLog) slog = NULL;

    if (virStratoVirtSerialLogInitialize() < 0)
        return NULL;
    if (!(slog = virObjectLockableNew(virStratoVirtSerialLogClass)))
        return NULL;
    slog->sock = slog->primary = slog->secondary = -1;
    slog->sockWatch = slog->ptyWatch = -1;
    slog->logPath = g_strdup(logPath);

    if (!(slog->log = virRotatingFileWriterNew(logPath,
                                               VIR_STRATOVIRT_SERIAL_LOG_MAX_SIZE,
                                               VIR_STRATOVIRT_SERIAL_LOG_MAX_BACKUPS,
                                               !append, 0600)))
        return NULL;

    if (virFileOpenTty(&slog->primary, &slog->ptyPath, 1) < 0) {
        virReportSystemError(errno, "%s",
                             _("cannot open a pty for the serial console"));
        return NULL;
    }
    if ((slog->secondary = open(slog->ptyPath, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, _("cannot open the serial console's pty '%1$s'"),
                             slog->ptyPath);
        return NULL;
    }
    if ((slog->sock = stratovirtSerialLogConnect(sockPath)) < 0)
        return NULL;

    if ((slog->sockWatch = virEventAddHandle(slog->sock, VIR_EVENT_HANDLE_READABLE,
                                             stratovirtSerialLogSockEvent,
                                             virObjectRef(slog),
                                             virObjectUnref)) < 0) {
        virObjectUnref(slog);
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("cannot watch StratoVirt's serial port socket"));
        return NULL;
    }
    if ((slog->ptyWatch = virEventAddHandle(slog->primary, VIR_EVENT_HANDLE_READABLE,
                                            stratovirtSerialLogPtyEvent,
                                            virObjectRef(slog),
                                            virObjectUnref)) < 0) {
        virObjectUnref(slog);
        virObjectLock(slog);
        stratovirtSerialLogShut(slog);
        virObjectUnlock(slog);
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("cannot watch the serial console's pty"));
        return NULL;
    }
    VIR_DEBUG("serial %s <-> pty %s, log %s%s", sockPath, slog->ptyPath,
              logPath, append ? " (append)" : "");
    return g_steal_pointer(&slog);
}


const char *
virStratoVirtSerialLogGetPty(virStratoVirtSerialLog *slog)
{
    return slog->ptyPath;
}


/* Ends the proxy (the log file stays) and drops the caller's reference */
void
virStratoVirtSerialLogClose(virStratoVirtSerialLog *slog)
{
    if (!slog)
        return;
    virObjectLock(slog);
    stratovirtSerialLogShut(slog);
    virObjectUnlock(slog);
    virObjectUnref(slog);
}
