/*
 * stratovirt_process.c: start, stop and reconnect StratoVirt VMMs
 *
 * StratoVirt runs in the foreground, started as the QEMU driver starts
 * QEMU: libvirt's process code daemonizes it and writes its pidfile before
 * exec, the child waits in a handshake until it is in its own cgroup, and
 * only then execs StratoVirt, which realizes its devices and serves QMP.
 * So a start is: build the command line, launch, wait (with a deadline)
 * for the QMP greeting, and if the VMM dies meanwhile quote its own log.
 * Every failure after the hostdevs were prepared undoes everything.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "stratovirt-config.h"
#include "datatypes.h"
#include "domain_audit.h"
#include "stratovirt_compat.h"
#include "stratovirt_command.h"
#include "stratovirt_domain.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_domain_ns.h"
#include "stratovirt_hostdev.h"
#include "stratovirt_interface.h"
#include "stratovirt_hotplug.h"
#include "stratovirt_tuning.h"
#include "stratovirt_monitor.h"
#include "stratovirt_power.h"
#include "stratovirt_process.h"
#include "stratovirt_guest.h"
#include "stratovirt_security.h"
#include "viralloc.h"
#include "virclosecallbacks.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virpidfile.h"
#include "virprocess.h"
#include "virstring.h"
#include "virtime.h"
#include "virvsock.h"
#include "virportallocator.h"
#include "virhostdev.h"
#include "vircgroup.h"
/* virCgroupNewPartition, virCgroupNewDomainPartition: exported by
 * libvirt.so, declared in the private header */
#define LIBVIRT_VIRCGROUPPRIV_H_ALLOW
#include "vircgrouppriv.h"
#include "domain_driver.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_process");


/* ---------------------------------------------------------------------
 * Waiting for a process that is not our child
 */

/**
 * stratovirtProcessWaitExit:
 * @pid: a process, our child only when this daemon started it (the daemon
 *       is a child subreaper, so a VMM it daemonized comes back to it)
 * @timeout: milliseconds
 * @status: its wait status when it was reaped here, else left alone
 *
 * Returns 0 when it is gone, -1 if it is still there after @timeout.
 * Uses a pidfd when the kernel has them, so no fixed sleeps.
 */
static int
stratovirtProcessWaitExitStatus(pid_t pid,
                                unsigned int timeout,
                                int *status)
{
    unsigned long long deadline;
    unsigned int delay = 100;
    int pidfd = -1;

    if (pid <= 0)
        return 0;

#ifdef SYS_pidfd_open
    pidfd = syscall(SYS_pidfd_open, pid, 0);
#endif
    if (pidfd < 0 && errno == ESRCH)
        return 0;

    if (virTimeMillisNow(&deadline) < 0) {
        VIR_FORCE_CLOSE(pidfd);
        return -1;
    }
    deadline += timeout;

    while (true) {
        unsigned long long now;

        /* reap it if it happens to be our child */
        if (waitpid(pid, status, WNOHANG) == pid)
            break;
        if (kill(pid, 0) < 0 && errno == ESRCH)
            break;
        if (virTimeMillisNow(&now) < 0 || now >= deadline) {
            VIR_FORCE_CLOSE(pidfd);
            return -1;
        }
        if (pidfd >= 0) {
            struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

            if (poll(&pfd, 1, MIN(deadline - now, 100)) > 0) {
                (void) waitpid(pid, status, WNOHANG);
                break;
            }
        } else {
            g_usleep(delay);
            delay = MIN(delay * 2, 10000);
        }
    }
    VIR_FORCE_CLOSE(pidfd);
    return 0;
}


static int
stratovirtProcessWaitExit(pid_t pid,
                          unsigned int timeout)
{
    int status;

    return stratovirtProcessWaitExitStatus(pid, timeout, &status);
}


/**
 * stratovirtProcessKill:
 *
 * SIGTERM (StratoVirt exits 0 and cleans up its files), then SIGKILL if it
 * has not gone within @graceMs.  Returns 0 when the process is gone.
 */
static int
stratovirtProcessKill(pid_t pid,
                      unsigned int graceMs,
                      bool force)
{
    if (pid <= 0)
        return 0;

    if (kill(pid, SIGTERM) < 0 && errno == ESRCH)
        return 0;
    if (stratovirtProcessWaitExit(pid, graceMs) == 0)
        return 0;
    if (!force) {
        virReportError(VIR_ERR_OPERATION_TIMEOUT,
                       _("StratoVirt (pid %1$lld) did not exit within %2$u ms of SIGTERM"),
                       (long long) pid, graceMs);
        return -1;
    }
    VIR_WARN("StratoVirt pid %lld ignored SIGTERM; sending SIGKILL", (long long) pid);
    if (kill(pid, SIGKILL) < 0 && errno == ESRCH)
        return 0;
    if (stratovirtProcessWaitExit(pid, 5000) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt (pid %1$lld) is still there after SIGKILL"),
                       (long long) pid);
        return -1;
    }
    return 0;
}


/**
 * virStratoVirtProcessTerminate:
 * @timeout: milliseconds to wait after SIGTERM
 * @force: SIGKILL if SIGTERM was not enough
 *
 * Returns 0 when the VMM is gone, -1 with an error if it is still there.
 */
int
virStratoVirtProcessTerminate(virDomainObj *vm,
                              unsigned int timeout,
                              bool force)
{
    return stratovirtProcessKill(vm->pid, timeout, force);
}


static bool stratovirtProcessIsOurs(virStratoVirtDriver *driver,
                                    virDomainObj *vm);


/**
 * virStratoVirtProcessBeginStopJob:
 * @force: SIGKILL at once (destroy); else SIGTERM (graceful destroy)
 *
 * Called with @vm locked.  Signals the VMM first (SIGCONT too, so that a
 * stopped one gets its SIGTERM), wakes whoever waits on the domain, then
 * takes the destroy job: a job in progress waits on this VMM and ends as
 * soon as it is gone (its monitor reads EOF).  A start in progress whose
 * VMM is not known yet sees priv->beingDestroyed and gives up.
 */
int
virStratoVirtProcessBeginStopJob(virDomainObj *vm,
                                 bool force)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    int ret;

    priv->beingDestroyed = true;
    if (vm->pid > 0 && stratovirtProcessIsOurs(priv->driver, vm)) {
        VIR_DEBUG("domain %s: sending %s to pid %lld before taking the job",
                  vm->def->name, force ? "SIGKILL" : "SIGTERM", (long long) vm->pid);
        if (force) {
            kill(vm->pid, SIGKILL);
        } else {
            kill(vm->pid, SIGTERM);
            kill(vm->pid, SIGCONT);
        }
    }
    virDomainObjBroadcast(vm);
    ret = virDomainObjBeginJob(vm, VIR_JOB_DESTROY);
    priv->beingDestroyed = false;
    return ret;
}


/* ---------------------------------------------------------------------
 * The VMM's cgroup
 *
 * Each VMM runs in a cgroup of its own, made by libvirt's virCgroup code
 * (a systemd-machined scope where machined runs, a group under the
 * configured partition in the cgroup filesystem where it does not), before
 * StratoVirt is exec'd.  Whatever runs there is the domain's: recovery and
 * destroy kill all of it, and a pid is the domain's VMM only if it is in
 * that group.
 */

#define STRATOVIRT_CGROUP_DRIVER "stratovirt"

/* A nested partition ("/machine/x") must exist before libvirt makes a
 * domain group in it; libvirt creates only "/machine" by itself. */
static int
stratovirtProcessMakePartition(virStratoVirtDriverConfig *cfg)
{
    g_auto(GStrv) parts = g_strsplit(cfg->cgroupPartition, "/", -1);
    g_autoptr(GString) path = g_string_new(NULL);
    size_t i;

    for (i = 0; parts[i]; i++) {
        g_autoptr(virCgroup) group = NULL;

        if (!*parts[i])
            continue;
        g_string_append_printf(path, "/%s", parts[i]);
        if (STREQ(path->str, cfg->cgroupPartition) && i <= 1)
            break; /* a top-level partition: libvirt makes it */
        if (virCgroupNewPartition(path->str, true, cfg->cgroupControllers,
                                  &group) < 0)
            return -1;
    }
    return 0;
}


/**
 * stratovirtProcessSetupCgroup:
 *
 * Puts the VMM (vm->pid, still waiting in the handshake, not yet exec'd)
 * into its own cgroup.  The session instance and hosts without cgroups
 * run it without one.
 */
static int
stratovirtProcessSetupCgroup(virStratoVirtDriver *driver,
                             virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

    if (!driver->privileged || !virCgroupAvailable())
        return 0;

    if (stratovirtProcessMakePartition(cfg) < 0 ||
        virCgroupNewMachine(priv->machineName, STRATOVIRT_CGROUP_DRIVER,
                            vm->def->uuid, NULL, vm->pid, false, 0, NULL,
                            cfg->cgroupPartition, cfg->cgroupControllers,
                            0, &priv->cgroup) < 0) {
        if (virCgroupNewIgnoreError())
            return 0;
        return -1;
    }
    if (!priv->cgroup)
        return 0;

    /* libvirt's direct path removes the group quietly when the pid cannot
     * be added: a VMM outside its group could not be found again. */
    {
        g_autoptr(virCgroup) check = NULL;

        if (virCgroupNewDetectMachine(vm->def->name, STRATOVIRT_CGROUP_DRIVER,
                                      vm->pid, cfg->cgroupControllers,
                                      priv->machineName, &check) < 0 || !check) {
            virResetLastError();
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("cannot put the StratoVirt process of domain '%1$s' into its cgroup %2$s under '%3$s'"),
                           vm->def->name, priv->machineName, cfg->cgroupPartition);
            return -1;
        }
    }
    priv->cgroupPartition = g_strdup(cfg->cgroupPartition);
    VIR_DEBUG("domain %s: VMM pid %lld in cgroup %s (partition %s)", vm->def->name,
              (long long) vm->pid, priv->machineName, priv->cgroupPartition);
    return 0;
}


/* The domain's cgroup as recorded in its status, opened without a pid
 * (the VMM's pid may be unknown or untrusted). */
static virCgroup *
stratovirtProcessOpenCgroup(virStratoVirtDriver *driver,
                            virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virCgroup) parent = NULL;
    virCgroup *group = NULL;

    if (!priv->machineName || !priv->cgroupPartition)
        return NULL;
    if (virCgroupNewPartition(priv->cgroupPartition, false,
                              cfg->cgroupControllers, &parent) < 0 ||
        virCgroupNewDomainPartition(parent, STRATOVIRT_CGROUP_DRIVER,
                                    priv->machineName, &group) < 0) {
        VIR_WARN("domain %s: cannot open its cgroup %s: %s", vm->def->name,
                 priv->machineName, virGetLastErrorMessage());
        virResetLastError();
        return NULL;
    }
    return group;
}


/* Whether @pid is a member of @group: listed in its cgroup.procs in the
 * first hierarchy the group has (no mount table to parse, as opening a
 * group by pid does).  Returns 1 or 0, or -1 if that cannot be read. */
static int
stratovirtProcessInCgroup(virCgroup *group,
                          pid_t pid)
{
    size_t i;

    for (i = 0; i < VIR_CGROUP_CONTROLLER_LAST; i++) {
        g_autofree char *path = NULL;
        g_autofree char *procs = NULL;
        g_auto(GStrv) lines = NULL;
        size_t j;

        /* name=systemd is a hierarchy without a controller: its placement
         * need not be the domain's */
        if (i == VIR_CGROUP_CONTROLLER_SYSTEMD || !virCgroupHasController(group, i))
            continue;
        if (virCgroupPathOfController(group, i, "cgroup.procs", &path) < 0 ||
            virFileReadAllQuiet(path, 1024 * 1024, &procs) < 0) {
            virResetLastError();
            return -1;
        }
        lines = g_strsplit(procs, "\n", 0);
        for (j = 0; lines[j]; j++) {
            long long member;

            if (virStrToLong_ll(lines[j], NULL, 10, &member) == 0 && member == pid)
                return 1;
        }
        return 0;
    }
    return -1;
}


/**
 * stratovirtProcessIsOurs:
 *
 * Whether vm->pid is this domain's VMM: a member of its cgroup when it has
 * one (a pidfile naming another process is not trusted), otherwise a
 * StratoVirt with this domain's -name.  The group found by the pid (at a
 * reconnect) is kept in priv->cgroup, as the QEMU driver keeps it: stats,
 * tuning and the next check use it without looking the pid up again.
 */
static bool
stratovirtProcessIsOurs(virStratoVirtDriver *driver,
                        virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autofree char *path = NULL;
    g_autofree char *cmdline = NULL;
    const char *arg;
    const char *end;
    int len;

    if (vm->pid <= 0 || (kill(vm->pid, 0) < 0 && errno == ESRCH))
        return false;

    if (priv->cgroupPartition) {
        g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
        g_autoptr(virCgroup) group = NULL;
        int member = priv->cgroup ? stratovirtProcessInCgroup(priv->cgroup, vm->pid) : -1;

        if (member >= 0) {
            if (!member)
                VIR_WARN("domain %s: pid %lld is not in the domain's cgroup %s; not signalling it",
                         vm->def->name, (long long) vm->pid, priv->machineName);
            return member == 1;
        }

        if (virCgroupNewDetectMachine(vm->def->name, STRATOVIRT_CGROUP_DRIVER,
                                      vm->pid, cfg->cgroupControllers,
                                      priv->machineName, &group) < 0) {
            virResetLastError();
            return false;
        }
        if (!group) {
            VIR_WARN("domain %s: pid %lld is not in the domain's cgroup %s; not signalling it",
                     vm->def->name, (long long) vm->pid, priv->machineName);
            return false;
        }
        if (!priv->cgroup)
            priv->cgroup = g_steal_pointer(&group);
        return true;
    }

    path = g_strdup_printf("/proc/%lld/cmdline", (long long) vm->pid);
    if ((len = virFileReadAllQuiet(path, 64 * 1024, &cmdline)) <= 0)
        return false;
    /* walk the NUL-separated argv for "-name" followed by our name */
    end = cmdline + len;
    for (arg = cmdline; arg < end; arg += strlen(arg) + 1) {
        const char *next = arg + strlen(arg) + 1;

        if (STREQ(arg, "-name") && next < end && STREQ(next, vm->def->name))
            return true;
    }
    return false;
}


/* Whether @pid is stopped (SIGSTOP, a debugger's stop): its state in
 * /proc/PID/stat, the letter after the command's closing parenthesis. */
static bool
stratovirtProcessIsStopped(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%lld/stat", (long long) pid);
    g_autofree char *stat = NULL;
    const char *p;

    if (virFileReadAllQuiet(path, 4096, &stat) < 0 || !(p = strrchr(stat, ')')))
        return false;
    return p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
}


/* Kill whatever still runs in the domain's cgroup, then remove it. */
static void
stratovirtProcessRemoveCgroup(virStratoVirtDriver *driver,
                              virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (!priv->cgroup && priv->cgroupPartition)
        priv->cgroup = stratovirtProcessOpenCgroup(driver, vm);
    if (priv->cgroup) {
        if (virCgroupKillPainfully(priv->cgroup) < 0) {
            VIR_WARN("domain %s: cannot end every process of its cgroup: %s",
                     vm->def->name, virGetLastErrorMessage());
            virResetLastError();
        }
        if (virCgroupRemove(priv->cgroup) < 0)
            virResetLastError();
        g_clear_pointer(&priv->cgroup, virCgroupFree);
    }
    if (priv->machineName && priv->cgroupPartition &&
        virCgroupTerminateMachine(priv->machineName) < 0)
        virResetLastError();
    g_clear_pointer(&priv->cgroupPartition, g_free);
}


/* ---------------------------------------------------------------------
 * Locked memory for VFIO
 */

static bool
stratovirtProcessHasCapSysResource(void)
{
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct data[2] = { { 0 } };

    if (syscall(SYS_capget, &hdr, data) < 0)
        return false;
    return data[CAP_SYS_RESOURCE / 32].effective & (1U << (CAP_SYS_RESOURCE % 32));
}


/* Fail before spawning, with the fix, rather than in the child. */
static int
stratovirtProcessCheckMemlock(unsigned long long bytes)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
        return 0;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= bytes ||
        stratovirtProcessHasCapSysResource())
        return 0;

    virReportError(VIR_ERR_OPERATION_FAILED,
                   _("VFIO pins all guest memory, so StratoVirt needs a locked-memory limit of %1$llu MiB, but this daemon's hard limit is %2$llu KiB and it lacks CAP_SYS_RESOURCE to raise it; run virtstratovirtd with LimitMEMLOCK=infinity (its systemd unit does) or as root with CAP_SYS_RESOURCE"),
                   bytes >> 20, (unsigned long long) rl.rlim_max >> 10);
    return -1;
}


/* ---------------------------------------------------------------------
 * Logs
 */

static int
stratovirtProcessOpenLog(const char *path,
                         const char *cmdline,
                         off_t *offset)
{
    g_autofree char *stamp = virTimeStringNow();
    g_autofree char *head = NULL;
    int fd;

    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        virReportSystemError(errno, _("cannot open the domain log '%1$s'"), path);
        return -1;
    }
    head = g_strdup_printf("%s: starting up libvirt-stratovirt\n%s\n",
                           NULLSTR(stamp), cmdline);
    if (safewrite(fd, head, strlen(head)) < 0) {
        virReportSystemError(errno, _("cannot write the domain log '%1$s'"), path);
        VIR_FORCE_CLOSE(fd);
        return -1;
    }
    /* StratoVirt's words start after our header, however long the
     * command line in it */
    if ((*offset = lseek(fd, 0, SEEK_END)) < 0)
        *offset = 0;
    return fd;
}


/**
 * stratovirtProcessLogTail:
 *
 * What StratoVirt said about its failure: the lines of the log written
 * since @offset (the end of our header), all but its INFO lines, at most
 * 1 KiB of them.
 */
#define STRATOVIRT_LOG_TAIL_MAX (1024 * 1024)

static char *
stratovirtProcessLogTail(const char *path,
                         off_t offset)
{
    g_autofree char *buf = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    VIR_AUTOCLOSE fd = -1;
    ssize_t got;
    size_t i;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return g_strdup(_("(no log)"));
    if (lseek(fd, offset, SEEK_SET) < 0)
        return g_strdup(_("(no log)"));
    /* StratoVirt's INFO line with its whole parsed configuration comes
     * first, as long as the command line: read far enough past it */
    buf = g_new0(char, STRATOVIRT_LOG_TAIL_MAX + 1);
    if ((got = saferead(fd, buf, STRATOVIRT_LOG_TAIL_MAX)) < 0)
        return g_strdup(_("(no log)"));
    buf[got] = '\0';

    lines = g_strsplit(buf, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (!*lines[i])
            continue;
        /* StratoVirt's errors, its panics and what it printed on stderr:
         * everything but its INFO-level log lines */
        if (!strstr(lines[i], ":INFO:")) {
            if (out->len)
                g_string_append(out, "; ");
            g_string_append(out, lines[i]);
        }
    }
    if (out->len > 1024)
        g_string_truncate(out, 1024);
    if (!out->len)
        return g_strdup(_("(StratoVirt logged no error)"));
    return g_string_free(g_steal_pointer(&out), FALSE);
}


typedef enum {
    STRATOVIRT_LOG_EXIT_NONE,       /* the log says nothing of the exit */
    STRATOVIRT_LOG_EXIT_CRASH,      /* a panic or a seccomp kill */
    STRATOVIRT_LOG_EXIT_SIGNAL,     /* SIGTERM or SIGINT from the host, obeyed */
    STRATOVIRT_LOG_EXIT_ORDERLY,    /* its main loop ended: an orderly exit */
} stratovirtLogExit;

/* What StratoVirt logged about its exit since @offset.  Its panic hook
 * logs "Panic at [file: line]" (and then deletes the pidfile); a seccomp
 * violation logs "Received a bad system call"; SIGTERM and SIGINT, which
 * every version handles by exiting in order (2.1.0 with exit status 1),
 * log "Received kill signal, signal number: N"; an orderly exit (a guest
 * power-off, quit, a signal) logs "MainLoop over, Vm exit" (src/main.rs,
 * 2.1.0 to 2.5.0; not after a panic, which exits from its hook).  A crash
 * wins, then a signal. */
static stratovirtLogExit
stratovirtProcessLogExit(const char *logfile,
                         off_t offset)
{
    g_autofree char *buf = NULL;
    VIR_AUTOCLOSE fd = -1;
    const char *sig;
    off_t end;
    ssize_t got;

    if (!logfile || (fd = open(logfile, O_RDONLY | O_CLOEXEC)) < 0)
        return STRATOVIRT_LOG_EXIT_NONE;
    /* the exit is at the end: read the last 64 KiB of this run */
    if ((end = lseek(fd, 0, SEEK_END)) < 0)
        return STRATOVIRT_LOG_EXIT_NONE;
    if (end - offset > 65536)
        offset = end - 65536;
    if (lseek(fd, offset, SEEK_SET) < 0)
        return STRATOVIRT_LOG_EXIT_NONE;
    buf = g_new0(char, 65536 + 1);
    if ((got = saferead(fd, buf, 65536)) <= 0)
        return STRATOVIRT_LOG_EXIT_NONE;
    buf[got] = '\0';
    if (strstr(buf, "Panic at") || strstr(buf, "bad system call") ||
        strstr(buf, "seccomp violation"))
        return STRATOVIRT_LOG_EXIT_CRASH;
    if ((sig = strstr(buf, "Received kill signal, signal number: "))) {
        char *rest = NULL;
        int num = -1;

        /* (the number is followed by a space and the line's end) */
        if (virStrToLong_i(sig + strlen("Received kill signal, signal number: "),
                           &rest, 10, &num) == 0 &&
            (num == SIGTERM || num == SIGINT))
            return STRATOVIRT_LOG_EXIT_SIGNAL;
    }
    if (strstr(buf, "MainLoop over, Vm exit"))
        return STRATOVIRT_LOG_EXIT_ORDERLY;
    return STRATOVIRT_LOG_EXIT_NONE;
}


/**
 * stratovirtProcessCrashed:
 *
 * Whether the VMM of @vm, gone without our asking, crashed.  StratoVirt's
 * panic hook and a seccomp kill delete its pidfile as an orderly exit
 * does, so the pidfile alone does not tell.  In order: a panic or seccomp
 * line in this run's log is a crash; a SHUTDOWN event, or the VMM's reply
 * to our quit or system_powerdown before its EOF, is a shutdown, and so is
 * a SIGTERM or SIGINT it logged obeying (2.1.0 exits 1 after it); then the
 * exit status, where the VMM was our child; then the orderly end of its
 * main loop in its log (at log level info; a daemon that finds the VMM
 * gone at reconnect has no exit status: the VMM was the old daemon's
 * child); last, a QMP socket left behind (a SIGKILL, a SIGSEGV, the OOM
 * killer: nothing cleaned up) is a crash.
 * The guest's SHUTDOWN, our quit or powerdown are kept in the status XML,
 * so the next daemon knows them too.
 */
static bool
stratovirtProcessCrashed(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    stratovirtLogExit logged = stratovirtProcessLogExit(priv->logfile, priv->logOffset);

    if (logged == STRATOVIRT_LOG_EXIT_CRASH) {
        VIR_DEBUG("domain %s: StratoVirt logged a panic", vm->def->name);
        return true;
    }
    if (priv->guestShutdown)
        return false;
    if (logged == STRATOVIRT_LOG_EXIT_SIGNAL) {
        /* as QEMU's SHUTDOWN for a host signal: a shutdown */
        VIR_DEBUG("domain %s: StratoVirt obeyed SIGTERM/SIGINT", vm->def->name);
        return false;
    }
    if (priv->exitStatus != -1) {
        VIR_DEBUG("domain %s: StratoVirt exit status 0x%x", vm->def->name,
                  priv->exitStatus);
        return !(WIFEXITED(priv->exitStatus) && WEXITSTATUS(priv->exitStatus) == 0);
    }
    if (logged == STRATOVIRT_LOG_EXIT_ORDERLY) {
        VIR_DEBUG("domain %s: StratoVirt logged an orderly exit", vm->def->name);
        return false;
    }
    /* StratoVirt removes its QMP socket at every exit it runs itself (an
     * orderly one, or its panic hook's, told by the log above); one left
     * behind was killed.  (libvirt wrote the pidfile, which StratoVirt
     * leaves: it tells nothing.) */
    return !priv->qmpPath || virFileExists(priv->qmpPath);
}


/* ---------------------------------------------------------------------
 * Events from the monitor
 */

typedef enum {
    STRATOVIRT_WORK_EOF,
    STRATOVIRT_WORK_DESTROY_ON_REBOOT,
} stratovirtWorkType;

typedef struct {
    virStratoVirtDriver *driver;
    virDomainObj *vm;
    virStratoVirtMonitor *mon;
    stratovirtWorkType type;
} stratovirtWork;


static void
stratovirtProcessWorker(void *opaque)
{
    stratovirtWork *work = opaque;
    virStratoVirtDriver *driver = work->driver;
    virDomainObj *vm = work->vm;
    virStratoVirtDomainObjPrivate *priv;
    virDomainShutoffReason reason;
    int detail;

    virObjectLock(vm);
    priv = vm->privateData;

    /* A job that outlasts libvirt's 30 s wait does not make the VMM's
     * exit forgotten (the domain would stay running without a VMM): it is
     * waited for again while the exit is still this domain's to finish
     * and the daemon runs (a daemon that stops leaves it to the next). */
    while (virDomainObjBeginJob(vm, VIR_JOB_DESTROY) < 0) {
        if (virGetLastErrorCode() != VIR_ERR_OPERATION_TIMEOUT ||
            !virDomainObjIsActive(vm) || priv->mon != work->mon ||
            g_atomic_int_get(&driver->shuttingDown))
            goto cleanup;
        VIR_WARN("domain %s: its VMM has gone, and %s; waiting again to finish its stop",
                 vm->def->name, virGetLastErrorMessage());
        virResetLastError();
    }

    if (!virDomainObjIsActive(vm) || priv->mon != work->mon || priv->beingDestroyed) {
        VIR_DEBUG("domain %s: stale %s work, ignored", vm->def->name,
                  work->type == STRATOVIRT_WORK_EOF ? "EOF" : "reboot");
        goto endjob;
    }

    if (work->type == STRATOVIRT_WORK_DESTROY_ON_REBOOT) {
        reason = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
        detail = VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN;
    } else {
        stratovirtProcessWaitExitStatus(vm->pid, 2000, &priv->exitStatus);
        if (stratovirtProcessCrashed(vm)) {
            reason = VIR_DOMAIN_SHUTOFF_CRASHED;
            detail = VIR_DOMAIN_EVENT_STOPPED_CRASHED;
        } else {
            reason = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
            detail = VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN;
        }
    }
    VIR_DEBUG("domain %s: VMM gone, reason %s", vm->def->name,
              virDomainShutoffReasonTypeToString(reason));

    if (work->type == STRATOVIRT_WORK_EOF && priv->fakeReboot &&
        reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN) {
        /* the guest powered off for a reboot: start it again */
        virStratoVirtPowerFakeReboot(driver, vm);
        goto endjob;
    }

    virStratoVirtProcessStop(driver, vm, reason);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm,
                                                               VIR_DOMAIN_EVENT_STOPPED,
                                                               detail));
    if (!vm->persistent)
        virDomainObjListRemove(driver->domains, vm);

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virObjectUnref(work->mon);
    virDomainObjEndAPI(&work->vm);
    g_free(work);
}


/* The work runs in a driver thread: the daemon's stop waits for it.  Once
 * the stop has waited, none starts; the domain's status file stays, and
 * the next daemon's reconnect finds the VMM gone and finishes the stop. */
static void
stratovirtProcessQueueWork(virStratoVirtDriver *driver,
                           virDomainObj *vm,
                           virStratoVirtMonitor *mon,
                           stratovirtWorkType type)
{
    stratovirtWork *work = g_new0(stratovirtWork, 1);
    int rc;

    work->driver = driver;
    work->vm = virObjectRef(vm);
    work->mon = virObjectRef(mon);
    work->type = type;

    rc = virStratoVirtDriverThreadCreate(driver, "stratovirt-event",
                                         stratovirtProcessWorker, work);
    if (rc == 0)
        return;
    if (rc > 0) {
        VIR_WARN("domain %s: its VMM %s while the daemon stops; left to the next daemon",
                 vm->def->name,
                 type == STRATOVIRT_WORK_EOF ? "closed QMP" : "asked to end at a reboot");
    } else {
        VIR_ERROR(_("cannot start a thread to handle the exit of domain '%1$s': %2$s"),
                  vm->def->name, virGetLastErrorMessage());
        virResetLastError();
    }
    virObjectUnref(work->mon);
    virObjectUnref(work->vm);
    g_free(work);
}


static void
stratovirtProcessHandleEOF(virStratoVirtMonitor *mon,
                           virDomainObj *vm,
                           void *opaque)
{
    VIR_DEBUG("QMP EOF from domain %s", vm->def->name);
    stratovirtProcessQueueWork(opaque, vm, mon, STRATOVIRT_WORK_EOF);
}


static void
stratovirtProcessHandleEvent(virStratoVirtMonitor *mon,
                             virDomainObj *vm,
                             const virStratoVirtMonitorEvent *event,
                             void *opaque)
{
    virStratoVirtDriver *driver = opaque;
    virStratoVirtDomainObjPrivate *priv;
    virObjectEvent *ev = NULL;
    bool save = false;

    virObjectLock(vm);
    priv = vm->privateData;
    if (priv->mon != mon || !virDomainObjIsActive(vm)) {
        virObjectUnlock(vm);
        return;
    }
    VIR_DEBUG("domain %s: QMP event %s", vm->def->name, event->name);

    switch (event->type) {
    case VIR_STRATOVIRT_MONITOR_EVENT_SHUTDOWN:
        priv->guestShutdown = true;
        save = !(priv->beingDestroyed);
        ev = virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_SHUTDOWN,
                                               VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED);
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_STOP:
        if (virDomainObjGetState(vm, NULL) == VIR_DOMAIN_RUNNING) {
            virDomainPausedReason reason = priv->pausedByUs ?
                VIR_DOMAIN_PAUSED_USER : VIR_DOMAIN_PAUSED_UNKNOWN;

            virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, reason);
            ev = virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_SUSPENDED,
                                                   VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
            save = true;
        }
        priv->pausedByUs = false;
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_RESUME:
        if (virDomainObjGetState(vm, NULL) == VIR_DOMAIN_PAUSED) {
            virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
            ev = virDomainEventLifecycleNewFromObj(vm, VIR_DOMAIN_EVENT_RESUMED,
                                                   VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
            save = true;
        }
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_RESET:
        virStratoVirtProcessRebooted(driver, vm);
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_BALLOON_CHANGED:
        if (event->hasActual) {
            priv->balloonActual = event->actual;
            vm->def->mem.cur_balloon = event->actual / 1024;
            ev = virDomainEventBalloonChangeNewFromObj(vm, event->actual / 1024);
            save = true;
        }
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_DEVICE_DELETED:
        if (event->device)
            virStratoVirtHotplugDeviceDeleted(driver, vm, event->device);
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_POWERDOWN:
        /* the guest was asked; SHUTDOWN or nothing follows */
        break;
    case VIR_STRATOVIRT_MONITOR_EVENT_OTHER:
        VIR_DEBUG("domain %s: QMP event %s not handled", vm->def->name, event->name);
        break;
    }

    if (save) {
        g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

        if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
            VIR_WARN("cannot save the status of domain %s", vm->def->name);
    }
    virObjectUnlock(vm);
    virObjectEventStateQueue(driver->domainEventState, ev);
}


/**
 * virStratoVirtProcessRebooted:
 *
 * The guest was reset (a RESET event, or our system_reset answered: real
 * StratoVirt sends no event for it).  Called with @vm locked.
 */
void
virStratoVirtProcessRebooted(virStratoVirtDriver *driver,
                             virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventRebootNewFromObj(vm));
    virStratoVirtGuestReset(driver, vm);
    if (vm->def->onReboot == VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY && priv->mon) {
        /* kept for a daemon that starts after this one stopped before the
         * work ran: it ends the VMM */
        priv->destroyOnReboot = true;
        virStratoVirtDomainSaveStatus(vm);
        stratovirtProcessQueueWork(driver, vm, priv->mon,
                                   STRATOVIRT_WORK_DESTROY_ON_REBOOT);
    }
}


static virStratoVirtMonitorCallbacks stratovirtMonitorCallbacks = {
    .eofNotify = stratovirtProcessHandleEOF,
    .eventNotify = stratovirtProcessHandleEvent,
};


/* ---------------------------------------------------------------------
 * Start
 */

static int
stratovirtProcessFindHugepages(virDomainDef *def,
                               char **memPath)
{
    g_autofree virHugeTLBFS *fs = NULL;
    size_t nfs = 0;
    size_t i;
    unsigned long long want;

    *memPath = NULL;
    if (def->mem.nhugepages == 0)
        return 0;

    want = def->mem.hugepages[0].size;
    if (virFileFindHugeTLBFS(&fs, &nfs) < 0)
        return -1;
    for (i = 0; i < nfs; i++) {
        if (want == 0 ? fs[i].deflt : fs[i].size == want) {
            *memPath = g_strdup(fs[i].mnt_dir);
            break;
        }
    }
    for (i = 0; i < nfs; i++)
        g_free(fs[i].mnt_dir);

    if (!*memPath) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("<hugepages>: no hugetlbfs of %1$llu KiB pages is mounted; mount one (for example: mount -t hugetlbfs -o pagesize=%2$lluK none /dev/hugepages%3$lluK) and reserve pages"),
                       want, want, want);
        return -1;
    }
    return 0;
}


/* VNC autoport: a port from the driver's allocator (5900 and up), kept
 * until the domain stops so that two starts never pick the same one */
static int
stratovirtProcessPickVNCPort(virStratoVirtDriver *driver,
                             virDomainGraphicsDef *gfx)
{
    unsigned short p;

    if (!gfx->data.vnc.autoport)
        return 0;
    if (virPortAllocatorAcquire(driver->vncPorts, &p) < 0)
        return -1;
    gfx->data.vnc.port = p;
    return 0;
}


static void
stratovirtProcessReleaseVNCPort(virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->ngraphics; i++) {
        virDomainGraphicsDef *gfx = def->graphics[i];

        if (gfx->type == VIR_DOMAIN_GRAPHICS_TYPE_VNC && gfx->data.vnc.autoport &&
            gfx->data.vnc.port > 0) {
            virPortAllocatorRelease(gfx->data.vnc.port);
            gfx->data.vnc.port = -1;
        }
    }
}


static int
stratovirtProcessPrepareNVRAM(virDomainDef *def)
{
    virDomainLoaderDef *loader = def->os.loader;
    g_autofree char *data = NULL;
    int len;

    if (!loader || !loader->nvram || !loader->nvram->path ||
        virFileExists(loader->nvram->path))
        return 0;

    if (!loader->nvramTemplate) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("the UEFI variable store '%1$s' does not exist and <nvram> names no template to create it from"),
                       loader->nvram->path);
        return -1;
    }
    if ((len = virFileReadAll(loader->nvramTemplate, 64 * 1024 * 1024, &data)) < 0)
        return -1;
    {
        g_autofree char *dir = g_path_get_dirname(loader->nvram->path);

        if (g_mkdir_with_parents(dir, 0755) < 0) {
            virReportSystemError(errno, _("cannot create the folder '%1$s' for UEFI variable stores"),
                                 dir);
            return -1;
        }
    }
    {
        VIR_AUTOCLOSE fd = open(loader->nvram->path,
                                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || safewrite(fd, data, len) != len) {
            virReportSystemError(errno, _("cannot create the UEFI variable store '%1$s'"),
                                 loader->nvram->path);
            return -1;
        }
    }
    return 0;
}


static int
stratovirtProcessPrepareVsock(virDomainDef *def)
{
    VIR_AUTOCLOSE fd = -1;

    if (!def->vsock || def->vsock->auto_cid != VIR_TRISTATE_BOOL_YES)
        return 0;
    if ((fd = open("/dev/vhost-vsock", O_RDWR | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, "%s",
                             _("cannot open /dev/vhost-vsock to pick a guest CID; load the vhost_vsock module or set <cid address>"));
        return -1;
    }
    return virVsockAcquireGuestCid(fd, &def->vsock->guest_cid);
}


/* A channel without a socket path gets one in the run directory, which
 * StratoVirt listens on (as the QEMU driver's channel_target_dir) */
static void
stratovirtProcessPrepareChannels(virDomainDef *def,
                                 const char *runDir)
{
    size_t i;

    for (i = 0; i < def->nchannels; i++) {
        virDomainChrDef *chr = def->channels[i];

        if (chr->source->type != VIR_DOMAIN_CHR_TYPE_UNIX ||
            chr->source->data.nix.path)
            continue;
        chr->source->data.nix.path = g_strdup_printf("%s/%s.sock", runDir,
                                                     chr->info.alias);
        chr->source->data.nix.listen = true;
    }
}


static void
stratovirtProcessSetPtys(virDomainDef *def,
                         GHashTable *ptys)
{
    size_t i;

    for (i = 0; i < def->nconsoles; i++) {
        virDomainChrDef *chr = def->consoles[i];
        g_autofree char *label = g_strdup_printf("char%s", chr->info.alias);
        const char *path = g_hash_table_lookup(ptys, label);

        /* the serial port is '-serial pty': StratoVirt labels it so */
        if (chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL &&
            def->nserials > 0)
            path = g_hash_table_lookup(ptys, "serial_chardev");
        /* only a pty has a path to fill in: the union's other members
         * would not be freed as one (LSan found that leak) */
        if (path && chr->source->type == VIR_DOMAIN_CHR_TYPE_PTY) {
            g_free(chr->source->data.file.path);
            chr->source->data.file.path = g_strdup(path);
        }
    }
    for (i = 0; i < def->nserials; i++) {
        virDomainChrDef *chr = def->serials[i];
        const char *path = g_hash_table_lookup(ptys, "serial_chardev");

        if (path && chr->source->type == VIR_DOMAIN_CHR_TYPE_PTY) {
            g_free(chr->source->data.file.path);
            chr->source->data.file.path = g_strdup(path);
        }
    }
}


/* The serial port's <log file>: the daemon's proxy between StratoVirt's
 * serial socket, the log and a pty, which the live XML names */
static int
stratovirtProcessOpenSerialLog(virDomainObj *vm,
                               bool append)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virDomainChrDef *serial = vm->def->serials[0];
    const char *pty;
    size_t i;

    virStratoVirtSerialLogClose(g_steal_pointer(&priv->serialLog));
    if (!(priv->serialLog = virStratoVirtSerialLogOpen(priv->serialSocket,
                                                       serial->source->logfile,
                                                       append)))
        return -1;
    pty = virStratoVirtSerialLogGetPty(priv->serialLog);
    g_free(serial->source->data.file.path);
    serial->source->data.file.path = g_strdup(pty);
    for (i = 0; i < vm->def->nconsoles; i++) {
        virDomainChrDef *chr = vm->def->consoles[i];

        if (chr->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_SERIAL &&
            chr->source->type == VIR_DOMAIN_CHR_TYPE_PTY) {
            g_free(chr->source->data.file.path);
            chr->source->data.file.path = g_strdup(pty);
        }
    }
    return 0;
}


/**
 * stratovirtProcessStartFailed:
 * @vmmGone: the VMM is known to have exited
 *
 * QMP failed during a start.  StratoVirt realizes its devices and loads
 * the kernel after it bound the QMP socket (and, with -daemonize, after
 * the launcher exited 0), so a device it cannot set up shows as the QMP
 * connection closing; the reason is only in its log.  If the VMM is gone
 * (or goes within a moment), the error quotes its log instead.
 */
static void
stratovirtProcessStartFailed(virDomainObj *vm,
                             bool vmmGone)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autofree char *why = NULL;
    int status;

    /* a VMM that did not answer in time is not about to exit */
    if (!vmmGone && virGetLastErrorCode() == VIR_ERR_OPERATION_TIMEOUT)
        return;
    if (vm->pid > 0 &&
        stratovirtProcessWaitExitStatus(vm->pid, vmmGone ? 1000 : 2000,
                                        &priv->exitStatus) < 0) {
        if (!vmmGone)
            return; /* still running: the QMP error stands */
    } else {
        vm->pid = 0; /* gone (and reaped): nothing left to signal */
    }

    why = stratovirtProcessLogTail(priv->logfile, priv->logOffset);
    status = priv->exitStatus;
    virResetLastError();
    /* our child (the daemon is a subreaper): its exit status says how */
    if (status != -1 && WIFEXITED(status))
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt exited while starting domain '%1$s' (exit status %2$d): %3$s"),
                       vm->def->name, WEXITSTATUS(status), why);
    else if (status != -1 && WIFSIGNALED(status))
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt was killed by signal %1$d while starting domain '%2$s': %3$s"),
                       WTERMSIG(status), vm->def->name, why);
    else
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt exited while starting domain '%1$s': %2$s"),
                       vm->def->name, why);
}


static void
stratovirtProcessAutoDestroy(virDomainObj *vm,
                             virConnectPtr conn G_GNUC_UNUSED)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtDriver *driver = priv->driver;

    VIR_DEBUG("auto-destroying domain %s: its creator disconnected", vm->def->name);
    if (virDomainObjBeginJob(vm, VIR_JOB_DESTROY) < 0)
        return;
    if (virDomainObjIsActive(vm)) {
        virStratoVirtProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_DESTROYED);
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventLifecycleNewFromObj(vm,
                                                                   VIR_DOMAIN_EVENT_STOPPED,
                                                                   VIR_DOMAIN_EVENT_STOPPED_DESTROYED));
    }
    virDomainObjEndJob(vm);
    if (!vm->persistent)
        virDomainObjListRemove(driver->domains, vm);
}


/*
 * A start is a sequence of named steps, as qemuProcessStart's (Init,
 * PrepareDomain, PrepareHost, Launch, FinishStartup), each of which can be
 * read, timed and fault-injected on its own:
 *
 *   init            the domain counts as active: id, caps, its state reset
 *   prepare-domain  what the definition needs: paths, aliases, hugepages,
 *                   the VNC port (nothing on the host yet)
 *   prepare-host    the host: run directory and log, NVRAM, vsock, then
 *                   (recorded in the status XML first, so that a daemon
 *                   killed from here on undoes it when it comes back)
 *                   hostdevs detached, labels, taps and ports
 *   launch          the command line; libvirt forks the VMM, writes its
 *                   pidfile, puts it in its cgroup (status saved) and only
 *                   then lets it exec StratoVirt
 *   connect         the QMP monitor, with the domain lock dropped
 *   finish          ptys, balloon, state, autodestroy, status saved
 *
 * Each step undoes what it holds only in memory (the forked child still
 * waiting to exec, the tap fds) when it fails; what it recorded in the
 * domain (devices taken, labels, taps, cgroup, pid) is given back by
 * virStratoVirtProcessStop, the one place that knows how, which the
 * caller runs on any failure, exactly as recovery does after a crash.
 * Each step logs its duration at debug level ('start step X done in Y
 * ms': ./run bench sums them); a build with -Dtest_hooks=true can be told
 * to SIGKILL the daemon after any step (tests/e2e/test_startsteps.py).
 */
typedef struct {
    virConnectPtr conn;
    virDomainRunningReason reason;
    unsigned int flags;
    bool paused;
    char *memPath;
    virStratoVirtNetFDs *netfds;
    virCommand *cmd;
    bool released;              /* the VMM was let exec StratoVirt */
    gint64 since;               /* when the current step began (us) */
} stratovirtProcessStartCtx;


/* Test builds only: STRATOVIRT_TEST_KILL_AT_FILE names a file holding a
 * step name; the daemon kills itself (SIGKILL, as kill -9 would) when a
 * start reaches that point. */
static void
stratovirtProcessTestHook(virDomainObj *vm,
                          const char *point)
{
#if WITH_STRATOVIRT_TEST_HOOKS
    const char *path = getenv("STRATOVIRT_TEST_KILL_AT_FILE");
    g_autofree char *want = NULL;

    if (!path || virFileReadAllQuiet(path, 256, &want) < 0)
        return;
    g_strstrip(want);
    if (STREQ(want, point)) {
        VIR_WARN("test hook: killing the daemon at start point %s of domain %s",
                 point, vm->def->name);
        raise(SIGKILL);
    }
#endif
}


static void
stratovirtProcessStepDone(virDomainObj *vm,
                          stratovirtProcessStartCtx *ctx,
                          const char *step)
{
    gint64 now = g_get_monotonic_time();

    VIR_DEBUG("domain %s: start step %s done in %.3f ms",
              vm->def->name, step, (now - ctx->since) / 1000.0);
    stratovirtProcessTestHook(vm, step);
    ctx->since = g_get_monotonic_time();
}


/* A part of a start step: its duration at debug level ('start step X part
 * Y done in Z ms', ./run bench shows where a step's time goes) */
static void
stratovirtProcessPartDone(virDomainObj *vm,
                          const char *step,
                          const char *part,
                          gint64 *since)
{
    gint64 now = g_get_monotonic_time();

    VIR_DEBUG("domain %s: start step %s part %s done in %.3f ms",
              vm->def->name, step, part, (now - *since) / 1000.0);
    *since = now;
}


/* init: checks, then the domain counts as active (Stop releases this) */
static int
stratovirtProcessInit(virStratoVirtDriver *driver,
                      virDomainObj *vm,
                      unsigned int flags)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("domain is already running"));
        return -1;
    }

    if (!virFileIsExecutable(vm->def->emulator)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("the StratoVirt binary '%1$s' of this domain does not exist or is not executable; install StratoVirt or fix <emulator>"),
                       vm->def->emulator);
        return -1;
    }

    if (virDomainObjSetDefTransient(driver->xmlopt, vm, NULL) < 0)
        return -1;

    /* From here on the domain counts as active (Stop releases this); a
     * fake reboot keeps the domain's id */
    if ((flags & VIR_STRATOVIRT_START_REBOOT) && priv->rebootId > 0)
        vm->def->id = priv->rebootId;
    else
        vm->def->id = g_atomic_int_add(&driver->nextvmid, 1);
    priv->rebootId = 0;
    if (driver->inhibitCallback)
        driver->inhibitCallback(true, driver->inhibitOpaque);
    priv->beingDestroyed = false;
    priv->guestShutdown = false;
    priv->pausedByUs = false;
    priv->fakeReboot = false;
    priv->destroyOnReboot = false;
    g_clear_pointer(&priv->unplugPending, g_strfreev);
    priv->unplugAskedAt = 0;
    priv->balloonActual = 0;
    priv->exitStatus = -1;
    g_clear_object(&priv->caps);
    if (!(priv->caps = virStratoVirtGetCaps(driver, vm->def->emulator)))
        return -1;
    return 0;
}


/* prepare-domain: what the definition needs; nothing on the host yet */
static int
stratovirtProcessPrepareDomain(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               virStratoVirtDriverConfig *cfg,
                               stratovirtProcessStartCtx *ctx)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    char uuidstr[VIR_UUID_STRING_BUFLEN];

    g_free(priv->qmpPath);
    g_free(priv->pidfile);
    g_free(priv->logfile);
    g_free(priv->runDir);
    /* StratoVirt creates its QMP socket itself: it lives in a directory of
     * its own that its user can write to */
    virUUIDFormat(vm->def->uuid, uuidstr);
    priv->runDir = g_strdup_printf("%s/%s", cfg->stateDir, uuidstr);
    g_free(priv->machineName);
    priv->machineName = virDomainDriverGenerateMachineName(STRATOVIRT_CGROUP_DRIVER, NULL,
                                                           vm->def->id, vm->def->name,
                                                           driver->privileged);
    priv->qmpPath = g_strdup_printf("%s/qmp.sock", priv->runDir);
    priv->pidfile = g_strdup_printf("%s/stratovirt.pid", priv->runDir);
    priv->logfile = g_strdup_printf("%s/%s.log", cfg->logDir, vm->def->name);
    g_clear_pointer(&priv->serialSocket, g_free);
    if (vm->def->nserials > 0 && vm->def->serials[0]->source->logfile)
        priv->serialSocket = g_strdup_printf("%s/serial.sock", priv->runDir);

    if (virStratoVirtAssignAliases(vm->def) < 0 ||
        stratovirtProcessFindHugepages(vm->def, &ctx->memPath) < 0)
        return -1;
    stratovirtProcessPrepareChannels(vm->def, priv->runDir);
    if (vm->def->ngraphics == 1 &&
        stratovirtProcessPickVNCPort(driver, vm->def->graphics[0]) < 0)
        return -1;
    return 0;
}


/* A destroy asked while the start ran without the domain lock (binding
 * devices, launching the VMM) waits for the start's job: the start gives
 * up at the next step, undoing what it took. */
static int
stratovirtProcessCheckDestroyed(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (!priv->beingDestroyed)
        return 0;
    virResetLastError();
    virReportError(VIR_ERR_OPERATION_ABORTED,
                   _("the start of domain '%1$s' was interrupted by a destroy"),
                   vm->def->name);
    return -1;
}


/* prepare-host: files, then devices, labels and taps, each recorded in
 * the status XML as it is taken */
static int
stratovirtProcessPrepareHost(virStratoVirtDriver *driver,
                             virDomainObj *vm,
                             virStratoVirtDriverConfig *cfg,
                             stratovirtProcessStartCtx *ctx)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    gint64 since = g_get_monotonic_time();

    if (virFileDeleteTree(priv->runDir) < 0 || g_mkdir(priv->runDir, 0700) < 0) {
        virReportSystemError(errno, _("cannot create the run directory '%1$s'"), priv->runDir);
        return -1;
    }
    if (!virFileExists(priv->logfile) &&
        virFileWriteStr(priv->logfile, "", 0600) < 0) {
        virReportSystemError(errno, _("cannot create the domain log '%1$s'"), priv->logfile);
        return -1;
    }
    if (stratovirtProcessPrepareNVRAM(vm->def) < 0 ||
        stratovirtProcessPrepareVsock(vm->def) < 0)
        return -1;
    stratovirtProcessPartDone(vm, "prepare-host", "files", &since);

    /* From here on the start leaves traces (detached devices, a VMM): say
     * so in the status XML, so that a daemon killed in the middle cleans
     * them up when it comes back rather than forgetting them. */
    priv->starting = true;
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        return -1;
    stratovirtProcessPartDone(vm, "prepare-host", "status", &since);

    /* Detach, bind to vfio-pci, reset, check groups: all or nothing. */
    if (virStratoVirtHostdevPrepareDomain(driver, vm) < 0 ||
        stratovirtProcessCheckDestroyed(vm) < 0)
        return -1;
    stratovirtProcessPartDone(vm, "prepare-host", "hostdev", &since);

    /* What the VMM's user must open, handed to it for the run */
    if (virStratoVirtSecuritySetAll(driver, vm) < 0 ||
        virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        return -1;
    stratovirtProcessPartDone(vm, "prepare-host", "security", &since);

    /* Taps, bridge and OVS ports, network ports: the VMM gets open fds.
     * All or nothing; saved at once, so that a daemon killed from now on
     * removes them when it comes back. */
    if (virStratoVirtInterfacePrepareAll(driver, vm, &ctx->netfds) < 0)
        return -1;
    priv->netsPrepared = true;
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        return -1;
    stratovirtProcessPartDone(vm, "prepare-host", "interfaces", &since);
    return 0;
}


/* launch: the VMM forked, in its cgroup, its pid saved, then released to
 * exec StratoVirt.  On failure a child not yet released is killed here;
 * the tap fds are ours to close in any case. */
static int
stratovirtProcessLaunch(virStratoVirtDriver *driver,
                        virDomainObj *vm,
                        virStratoVirtDriverConfig *cfg,
                        stratovirtProcessStartCtx *ctx)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtBuildParams params = { 0 };
    g_autofree char *cmdstr = NULL;
    VIR_AUTOCLOSE logfd = -1;
    off_t logoffset = 0;
    pid_t pid = 0;
    gint64 since = g_get_monotonic_time();
    int ret = -1;
    int rc;

    params.qmpPath = priv->qmpPath;
    params.logfile = priv->logfile;
    params.memPath = ctx->memPath;
    /* a logged serial port: the VMM waits paused until the proxy is
     * connected, so the log has the guest's output from its first byte
     * (StratoVirt drops what its serial socket has no client for) */
    params.startPaused = ctx->paused || (priv->serialSocket && !priv->restorePath);
    params.serialSocket = priv->serialSocket;
    params.netfds = ctx->netfds;
    params.caps = priv->caps;
    params.incoming = priv->restorePath;

    if (!(ctx->cmd = virStratoVirtBuildCommandLine(vm->def, &params)))
        goto cleanup;
    {
        size_t i, j;

        for (i = 0; i < vm->def->nnets; i++) {
            for (j = 0; j < ctx->netfds[i].ntapfd; j++)
                virCommandPassFD(ctx->cmd, ctx->netfds[i].tapfd[j], 0);
            for (j = 0; j < ctx->netfds[i].nvhostfd; j++)
                virCommandPassFD(ctx->cmd, ctx->netfds[i].vhostfd[j], 0);
        }
    }
    if (virStratoVirtDomainNsGet(vm->def) &&
        virDomainObjTaint(vm, VIR_DOMAIN_TAINT_CUSTOM_ARGV)) {
        g_autofree char *uuidstr = g_new0(char, VIR_UUID_STRING_BUFLEN);

        virUUIDFormat(vm->def->uuid, uuidstr);
        VIR_WARN("Domain id=%d name='%s' uuid=%s is tainted: %s", vm->def->id,
                 vm->def->name, uuidstr,
                 virDomainTaintTypeToString(VIR_DOMAIN_TAINT_CUSTOM_ARGV));
    }

    if (vm->def->nhostdevs > 0 && cfg->vfioMemlock) {
        /* VFIO pins all guest RAM; StratoVirt never raises its own limit */
        unsigned long long bytes = (virDomainDefGetMemoryTotal(vm->def) + 1024 * 1024) * 1024;

        if (stratovirtProcessCheckMemlock(bytes) < 0)
            goto cleanup;
        virCommandSetMaxMemLock(ctx->cmd, bytes);
    }
    /* the VMM's user and group: the domain's <seclabel>, else stratovirt.conf's */
    if (virStratoVirtSecuritySetChildProcess(driver, vm, ctx->cmd) < 0)
        goto cleanup;
    virCommandClearCaps(ctx->cmd);
    virCommandSetUmask(ctx->cmd, 0002);
    virStratoVirtCommandSetEnv(ctx->cmd, cfg);

    if (!(cmdstr = virCommandToString(ctx->cmd, false)))
        goto cleanup;
    if ((logfd = stratovirtProcessOpenLog(priv->logfile, cmdstr, &logoffset)) < 0)
        goto cleanup;
    priv->logOffset = logoffset;
    virCommandSetOutputFD(ctx->cmd, &logfd);
    virCommandSetErrorFD(ctx->cmd, &logfd);

    /* libvirt's process code daemonizes the VMM and writes its pidfile
     * before exec; the child then waits (handshake) until it is in its
     * cgroup and the pid is in the status XML, and only then execs
     * StratoVirt.  A daemon killed at any instant of this leaves a VMM it
     * can find again, or none (a child whose parent died during the
     * handshake exits without exec). */
    virCommandDaemonize(ctx->cmd);
    virCommandSetPidFile(ctx->cmd, priv->pidfile);
    virCommandRequireHandshake(ctx->cmd);

    stratovirtProcessPartDone(vm, "launch", "command", &since);
    VIR_DEBUG("starting domain %s: %s", vm->def->name, cmdstr);
    /* The launch does not hold the domain lock (the job keeps other
     * changes out): listing domains never waits on a start, and a destroy
     * can mark it to be given up. */
    virObjectUnlock(vm);
    rc = virCommandRun(ctx->cmd, NULL);
    virObjectLock(vm);
    if (rc < 0)
        goto cleanup;
    /* (from here on a failure kills the child, which has not exec'd
     * StratoVirt yet, and the caller undoes the rest) */
    /* the VMM holds the taps now; ours are closed so that the kernel
     * removes them when it goes */
    virStratoVirtNetFDsFreeAll(ctx->netfds, vm->def->nnets);
    ctx->netfds = NULL;
    if (virPidFileReadPath(priv->pidfile, &pid) < 0 || pid <= 0) {
        virReportSystemError(errno ? errno : EINVAL,
                             _("cannot read the pid of the StratoVirt process of domain '%1$s' from '%2$s'"),
                             vm->def->name, priv->pidfile);
        goto cleanup;
    }
    vm->pid = pid;
    /* the fork, libvirt's daemonizing fork and its pidfile */
    stratovirtProcessPartDone(vm, "launch", "fork", &since);
    VIR_DEBUG("domain %s: VMM pid %lld, waiting for its handshake",
              vm->def->name, (long long) pid);
    stratovirtProcessTestHook(vm, "launch-forked");
    if (virCommandHandshakeWait(ctx->cmd) < 0)
        goto cleanup;
    stratovirtProcessPartDone(vm, "launch", "handshake", &since);
    if (stratovirtProcessSetupCgroup(driver, vm) < 0)
        goto cleanup;
    stratovirtProcessPartDone(vm, "launch", "cgroup", &since);
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        goto cleanup;
    stratovirtProcessPartDone(vm, "launch", "status", &since);
    stratovirtProcessTestHook(vm, "launch-cgroup");
    if (stratovirtProcessCheckDestroyed(vm) < 0 ||
        virCommandHandshakeNotify(ctx->cmd) < 0)
        goto cleanup;
    ctx->released = true;
    VIR_DEBUG("domain %s: VMM pid %lld released to exec StratoVirt",
              vm->def->name, (long long) pid);
    ret = 0;

 cleanup:
    if (ret < 0) {
        if (vm->pid > 0 && !ctx->released) {
            virErrorPtr orig;

            /* our child, still waiting to exec StratoVirt */
            virErrorPreserveLast(&orig);
            kill(vm->pid, SIGKILL);
            stratovirtProcessWaitExit(vm->pid, 5000);
            vm->pid = 0;
            virErrorRestore(&orig);
        }
        virStratoVirtNetFDsFreeAll(ctx->netfds, vm->def->nnets);
        ctx->netfds = NULL;
    }
    return ret;
}


/* connect: the QMP monitor, the domain lock dropped while we wait on the
 * VMM (the job keeps others out): the event loop must be able to deliver
 * its events. */
static int
stratovirtProcessConnectMonitor(virStratoVirtDriver *driver,
                                virDomainObj *vm,
                                virStratoVirtDriverConfig *cfg)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtMonitor *mon;
    bool vmmGone = false;

    virObjectUnlock(vm);
    mon = virStratoVirtMonitorOpen(vm, priv->qmpPath, vm->pid,
                                   cfg->qmpTimeout * 1000,
                                   &stratovirtMonitorCallbacks, driver,
                                   &vmmGone);
    virObjectLock(vm);
    priv->mon = mon;
    if (stratovirtProcessCheckDestroyed(vm) < 0)
        return -1;
    if (!priv->mon) {
        stratovirtProcessStartFailed(vm, vmmGone);
        return -1;
    }
    virStratoVirtMonitorSetPassFdTwice(priv->mon, !virStratoVirtCapsIsModern(priv->caps));
    return 0;
}


/* finish: what the running VMM says (ptys), the balloon, the state */
static int
stratovirtProcessFinishStartup(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               virStratoVirtDriverConfig *cfg,
                               stratovirtProcessStartCtx *ctx)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(GHashTable) ptys = NULL;
    virStratoVirtMonitor *mon;
    unsigned long long balloon = 0;
    int rc;

    if (vm->def->memballoon &&
        vm->def->memballoon->model == VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO &&
        vm->def->mem.cur_balloon < virDomainDefGetMemoryTotal(vm->def))
        balloon = vm->def->mem.cur_balloon * 1024;

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        return -1;
    rc = virStratoVirtMonitorQueryPtys(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, &ptys);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    /* a balloon the guest has not activated yet keeps the target pending */
    if (rc == 0 && balloon && virDomainObjIsActive(vm) && priv->mon)
        rc = virStratoVirtBalloonSet(vm, balloon / 1024);
    if (rc < 0 || !virDomainObjIsActive(vm) || !priv->mon) {
        if (rc == 0)
            virReportError(VIR_ERR_OPERATION_FAILED,
                           _("StratoVirt exited while starting domain '%1$s'"),
                           vm->def->name);
        stratovirtProcessStartFailed(vm, false);
        return -1;
    }
    /* <vcpupin>, <emulatorpin>: the affinity of the VMM's threads */
    if (virStratoVirtTuningApply(vm) < 0 || !virDomainObjIsActive(vm) || !priv->mon) {
        stratovirtProcessStartFailed(vm, false);
        return -1;
    }
    stratovirtProcessSetPtys(vm->def, ptys);
    if (priv->serialSocket) {
        bool append = vm->def->serials[0]->source->logappend == VIR_TRISTATE_SWITCH_ON;

        if (stratovirtProcessOpenSerialLog(vm, append) < 0) {
            stratovirtProcessStartFailed(vm, false);
            return -1;
        }
        if (!ctx->paused && !priv->restorePath) {
            bool running;

            if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
                return -1;
            /* StratoVirt accepts the serial socket's connection on the
             * event loop that answers QMP, and drops what the guest prints
             * before that.  A command answered after our connect means
             * that loop has gone round since (the listener was readable
             * before the command was sent), so the connection is accepted
             * before 'cont' lets the guest print its first byte. */
            rc = virStratoVirtMonitorQueryStatus(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, &running);
            if (rc == 0)
                rc = virStratoVirtMonitorCont(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT);
            virStratoVirtDomainObjExitMonitor(vm, mon);
            if (rc < 0 || !virDomainObjIsActive(vm) || !priv->mon) {
                stratovirtProcessStartFailed(vm, false);
                return -1;
            }
        }
    }
    /* the guest agent's channel: whether an agent answers shows later */
    virStratoVirtGuestOpenAgent(driver, vm);

    if (ctx->paused)
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
    else
        virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, ctx->reason);

    if (ctx->flags & VIR_STRATOVIRT_START_AUTODESTROY && ctx->conn)
        virCloseCallbacksDomainAdd(vm, ctx->conn, stratovirtProcessAutoDestroy);

    priv->starting = false;
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        return -1;
    return 0;
}


/**
 * virStratoVirtProcessStart:
 * @conn: the client connection (for AUTODESTROY), or NULL
 * @flags: VIR_STRATOVIRT_START_PAUSED, VIR_STRATOVIRT_START_AUTODESTROY
 *
 * Called with @vm locked and its job held.  Runs the steps above; on
 * failure the domain is left as it was: inactive, no process, hostdevs on
 * their host drivers, no status file.
 */
int
virStratoVirtProcessStart(virStratoVirtDriver *driver,
                          virDomainObj *vm,
                          virConnectPtr conn,
                          virDomainRunningReason reason,
                          unsigned int flags)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    stratovirtProcessStartCtx ctx = {
        .conn = conn,
        .reason = reason,
        .flags = flags,
        .paused = !!(flags & VIR_STRATOVIRT_START_PAUSED),
        .since = g_get_monotonic_time(),
    };
    int ret = -1;

    /* nothing to undo when init refuses before the domain became active */
    if (virDomainObjIsActive(vm) || !virFileIsExecutable(vm->def->emulator))
        return stratovirtProcessInit(driver, vm, flags);
    if (stratovirtProcessInit(driver, vm, flags) < 0)
        goto error;
    stratovirtProcessStepDone(vm, &ctx, "init");
    if (stratovirtProcessPrepareDomain(driver, vm, cfg, &ctx) < 0)
        goto error;
    stratovirtProcessStepDone(vm, &ctx, "prepare-domain");
    if (stratovirtProcessPrepareHost(driver, vm, cfg, &ctx) < 0)
        goto error;
    stratovirtProcessStepDone(vm, &ctx, "prepare-host");
    if (stratovirtProcessLaunch(driver, vm, cfg, &ctx) < 0)
        goto error;
    stratovirtProcessStepDone(vm, &ctx, "launch");
    if (stratovirtProcessConnectMonitor(driver, vm, cfg) < 0)
        goto error;
    stratovirtProcessStepDone(vm, &ctx, "connect");
    if (stratovirtProcessFinishStartup(driver, vm, cfg, &ctx) < 0)
        goto error;
    stratovirtProcessStepDone(vm, &ctx, "finish");
    ret = 0;
    goto cleanup;

 error:
    {
        virErrorPtr orig;

        /* what the steps recorded in the domain: given back in one place */
        virErrorPreserveLast(&orig);
        virStratoVirtNetFDsFreeAll(ctx.netfds, vm->def->nnets);
        ctx.netfds = NULL;
        virStratoVirtProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_FAILED);
        virErrorRestore(&orig);
    }
 cleanup:
    virCommandFree(ctx.cmd);
    g_free(ctx.memPath);
    return ret;
}


/**
 * virStratoVirtProcessStop:
 *
 * Called with @vm locked and its job held.  Ends the VMM, waits for it to
 * be gone, gives hostdevs back, removes the run files and status XML.
 */
void
virStratoVirtProcessStop(virStratoVirtDriver *driver,
                         virDomainObj *vm,
                         virDomainShutoffReason reason)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    bool wasActive = vm->def->id != -1;

    VIR_DEBUG("stopping domain %s pid=%lld reason=%s", vm->def->name,
              (long long) vm->pid, virDomainShutoffReasonTypeToString(reason));

    priv->beingDestroyed = true;

    virStratoVirtBalloonStop(vm);
    virStratoVirtGuestCloseAgent(vm);
    if (priv->mon) {
        virStratoVirtMonitor *mon = g_steal_pointer(&priv->mon);

        /* Close waits for a callback in flight, which may want the domain
         * lock; the job keeps everyone else out meanwhile. */
        virObjectUnlock(vm);
        virStratoVirtMonitorClose(mon);
        virObjectLock(vm);
    }

    /* A VMM that has exited is reaped here if it is our child */
    if (vm->pid > 0 && stratovirtProcessWaitExit(vm->pid, 0) == 0)
        vm->pid = 0;
    /* Never signal a pid that is not this domain's VMM (a stale or forged
     * pidfile); what runs in the domain's cgroup is killed below anyway. */
    if (vm->pid > 0 && !stratovirtProcessIsOurs(driver, vm)) {
        VIR_WARN("domain %s: pid %lld is not its StratoVirt process; not signalling it",
                 vm->def->name, (long long) vm->pid);
        vm->pid = 0;
    }
    if (vm->pid > 0 && stratovirtProcessKill(vm->pid, 3000, true) < 0)
        VIR_WARN("domain %s: StratoVirt pid %lld may still run", vm->def->name,
                 (long long) vm->pid);
    /* ...and whatever else it started */
    stratovirtProcessRemoveCgroup(driver, vm);

    /* Only now that the VMM has gone: owners and devices given back */
    virStratoVirtSecurityRestoreAll(driver, vm);
    virStratoVirtHostdevReattachDomain(driver, vm);
    if (priv->netsPrepared) {
        virStratoVirtInterfaceReleaseAll(driver, vm);
        priv->netsPrepared = false;
    }

    /* the log file stays: it is the user's */
    virStratoVirtSerialLogClose(g_steal_pointer(&priv->serialLog));
    g_clear_pointer(&priv->serialSocket, g_free);

    if (priv->pidfile)
        unlink(priv->pidfile);
    if (priv->qmpPath)
        unlink(priv->qmpPath);
    if (priv->runDir && virFileDeleteTree(priv->runDir) < 0)
        virResetLastError();
    /* The status file only: virDomainDeleteConfig would also reset the
     * domain's autostart flag, which belongs to its persistent config. */
    {
        g_autofree char *status = virDomainConfigFile(cfg->stateDir, vm->def->name);

        if (unlink(status) < 0 && errno != ENOENT)
            VIR_WARN("cannot remove the status file %s: %s", status, g_strerror(errno));
    }

    virCloseCallbacksDomainRemove(vm, NULL, stratovirtProcessAutoDestroy);

    stratovirtProcessReleaseVNCPort(vm->def);
    g_clear_pointer(&priv->machineName, g_free);
    g_clear_pointer(&priv->unplugPending, g_strfreev);
    priv->unplugAskedAt = 0;
    vm->pid = 0;
    vm->def->id = -1;
    virDomainObjSetState(vm, VIR_DOMAIN_SHUTOFF, reason);

    virDomainObjRemoveTransientDef(vm);

    priv->beingDestroyed = false;
    priv->starting = false;
    if (wasActive && driver->inhibitCallback)
        driver->inhibitCallback(false, driver->inhibitOpaque);
}


/* ---------------------------------------------------------------------
 * Reconnect after a daemon restart
 */

/* A pid that is gone, or was reused by another process, is not ours to
 * signal: forget it, so that the Stop that follows kills only our VMM. */
static void
stratovirtProcessForgetUnlessOurs(virStratoVirtDriver *driver,
                                  virDomainObj *vm)
{
    if (vm->pid > 0 && !stratovirtProcessIsOurs(driver, vm))
        vm->pid = 0;
}


/* Give up on a domain found at reconnect: its VMM is gone, unreachable,
 * or was half started.  Called with @vm locked and its job held; ends the
 * job and, for a transient domain, removes it from the list. */
static void
stratovirtProcessReconnectFail(virStratoVirtDriver *driver,
                               virDomainObj *vm,
                               virDomainShutoffReason reason,
                               int detail)
{
    stratovirtProcessForgetUnlessOurs(driver, vm);
    virStratoVirtProcessStop(driver, vm, reason);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm,
                                                               VIR_DOMAIN_EVENT_STOPPED,
                                                               detail));
    virDomainObjEndJob(vm);
    if (!vm->persistent)
        virDomainObjListRemove(driver->domains, vm);
}


/* (virStratoVirtMonitorKeepWaitingFunc) whether the daemon still runs:
 * a reconnect waits on a slow VMM until it stops */
static bool
stratovirtProcessDaemonRuns(void *opaque)
{
    virStratoVirtDriver *driver = opaque;

    return !g_atomic_int_get(&driver->shuttingDown);
}


/* The unplugs the old daemon asked for and did not see finished: their
 * DEVICE_DELETED may have come while it stopped or while no daemon ran
 * (events that come before this daemon's monitor is the domain's are not
 * delivered either).  StratoVirt is asked again (device_del): a device it
 * no longer has is removed as the live DEVICE_DELETED does (the
 * definition, the host device back to its driver, the drive, the event);
 * one it still has stays pending, for its DEVICE_DELETED.  @vm locked, job
 * held, monitor open. */
static void
stratovirtProcessReconnectUnplugs(virStratoVirtDriver *driver,
                                  virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_auto(GStrv) aliases = g_strdupv(priv->unplugPending);
    long long since = g_get_real_time() / 1000 - priv->unplugAskedAt;
    char **a;

    /* Not within 6 s of the request: StratoVirt 2.1 accepts a second
     * device_del and presses the slot's attention button again, and a
     * Linux guest (pciehp) takes a second press within 5 s of the first
     * as "cancel", keeping the device.  A guest cannot have finished
     * meanwhile (it waits those 5 s), and a DEVICE_DELETED that comes
     * now reaches this daemon. */
    if (aliases && priv->unplugAskedAt > 0 && since < 6000) {
        unsigned long long until;

        /* (a clock set back: the whole 6 s) */
        if (since < 0)
            since = 0;
        VIR_DEBUG("domain %s: an unplug was asked %lld ms ago; asking again in %lld ms",
                  vm->def->name, since, 6000 - since);
        /* on the domain's condition, which destroy broadcasts */
        if (virTimeMillisNow(&until) == 0) {
            until += 6000 - since;
            while (!priv->beingDestroyed && virDomainObjIsActive(vm) &&
                   stratovirtProcessDaemonRuns(driver) &&
                   virDomainObjWaitUntil(vm, until) == 0)
                ;
        }
    }

    for (a = aliases; a && *a; a++) {
        virStratoVirtMonitor *mon;
        virDomainDeviceDef dev;
        int rc;

        if (!virDomainObjIsActive(vm))
            return;
        if (virDomainDefFindDevice(vm->def, *a, &dev, false) < 0) {
            /* finished meanwhile, or not a device of this run */
            virStratoVirtDomainUnplugPendingDone(vm, *a);
            continue;
        }
        if (!(mon = virStratoVirtDomainObjEnterMonitor(vm))) {
            VIR_WARN("domain %s: cannot ask about the unplug of %s: %s",
                     vm->def->name, *a, virGetLastErrorMessage());
            virResetLastError();
            return;
        }
        rc = virStratoVirtMonitorDelDeviceAgain(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, *a);
        virStratoVirtDomainObjExitMonitor(vm, mon);
        if (rc < 0) {
            VIR_WARN("domain %s: the unplug of %s stays pending: %s",
                     vm->def->name, *a, virGetLastErrorMessage());
            virResetLastError();
        } else if (rc == 1 && virDomainObjIsActive(vm)) {
            VIR_DEBUG("domain %s: %s was deleted while no daemon listened; finishing its removal",
                      vm->def->name, *a);
            virStratoVirtDomainUnplugPendingDone(vm, *a);
            virStratoVirtHotplugDeviceRemoved(driver, vm, *a);
        } else {
            VIR_DEBUG("domain %s: the unplug of %s is still pending", vm->def->name, *a);
        }
    }
}


typedef struct {
    virStratoVirtDriver *driver;
    virDomainObj *vm;
} stratovirtReconnectData;


/* The part of a reconnect that waits on the VMM, in a thread of its own
 * per domain (as the QEMU driver does), started with the job held and a
 * reference on @vm.  The domain lock is never held across a monitor wait:
 * the monitor's thread needs it to deliver the VMM's events. */
static void
stratovirtProcessReconnectDomain(stratovirtReconnectData *data)
{
    virStratoVirtDriver *driver = data->driver;
    virDomainObj *vm = data->vm;
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virStratoVirtMonitor *mon = NULL;
    g_autofree char *qmpPath = NULL;
    bool vmmGone = false;
    bool running = false;
    pid_t pid;
    int state;
    int rc;

    g_free(data);
    virObjectLock(vm);
    VIR_DEBUG("reconnecting to domain %s pid=%lld", vm->def->name, (long long) vm->pid);

    if (!stratovirtProcessIsOurs(driver, vm))
        goto gone;

    /* what the binary can do, for the APIs that depend on its version */
    g_clear_object(&priv->caps);
    if (!(priv->caps = virStratoVirtGetCaps(driver, vm->def->emulator))) {
        VIR_WARN("domain %s: %s", vm->def->name, virGetLastErrorMessage());
        virResetLastError();
    }
    priv->exitStatus = -1;
    {
        struct stat sb;
        off_t size = priv->logfile && stat(priv->logfile, &sb) == 0 ? sb.st_size : 0;

        /* where this run's log starts, as the status XML says (what the
         * VMM logged while no daemon ran tells how it ended); a status
         * without it, or a log that is shorter (rotated): its end */
        if (priv->logOffset < 0 || priv->logOffset > size)
            priv->logOffset = size;
    }

    qmpPath = g_strdup(priv->qmpPath);
    pid = vm->pid;
    virObjectUnlock(vm);
    {
        unsigned long long now = 0;
        unsigned long long until = 0;
        bool waitedStopped = false;

        ignore_value(virTimeMillisNow(&until));
        until += 10000;
        /* StratoVirt serves one QMP client: until it has noticed that the
         * old daemon's connection is closed it closes a new one at once
         * (real 2.4.0, right after a restart).  A VMM that is alive is
         * asked again for a while before it is taken for lost.
         * No connection is made while the VMM is stopped (SIGSTOP): one it
         * has not accepted when this daemon stops is closed unanswered,
         * and StratoVirt 2.1.0 panics when it later accepts it (its
         * greeting's send to the gone client is unwrapped: machine_manager/
         * src/socket.rs:176), which would cost the guest.
         * A stopped VMM is alive and its guest is intact: it is waited for
         * for as long as it stays stopped (a debugger, a freezer), as a
         * VMM that does not answer is by the QEMU driver; the 10 s start
         * again when it runs.  destroy, which kills it, and the daemon's
         * stop end the wait. */
        for (;;) {
            bool stopped = stratovirtProcessIsStopped(pid);

            if (!stopped &&
                (mon = virStratoVirtMonitorOpenPatient(vm, qmpPath, pid, 5000,
                                                       &stratovirtMonitorCallbacks, driver,
                                                       &vmmGone,
                                                       stratovirtProcessDaemonRuns, driver)))
                break;
            if (vmmGone || virTimeMillisNow(&now) < 0 || (!stopped && now >= until) ||
                virProcessKill(pid, 0) < 0 || g_atomic_int_get(&driver->shuttingDown)) {
                if (stopped)
                    virReportError(VIR_ERR_OPERATION_FAILED,
                                   _("StratoVirt process %1$lld is stopped (SIGSTOP); not connected to it"),
                                   (long long) pid);
                break;
            }
            if (stopped) {
                if (!waitedStopped)
                    VIR_WARN("domain %s: its StratoVirt process %lld is stopped (SIGSTOP); "
                             "waiting for it to run before reconnecting",
                             vm->def->name, (long long) pid);
                waitedStopped = true;
                until = now + 10000;
            } else {
                VIR_DEBUG("domain %s: QMP not reachable yet (%s), asking again",
                          vm->def->name, virGetLastErrorMessage());
                virResetLastError();
            }
            g_usleep(200 * 1000);
        }
    }
    virObjectLock(vm);
    if (!mon)
        goto gone;
    virStratoVirtMonitorSetPassFdTwice(mon, !virStratoVirtCapsIsModern(priv->caps));
    /* from now on its events reach the domain */
    priv->mon = virObjectRef(mon);

    virObjectUnlock(vm);
    /* A VMM that is slow to answer is alive and so is its guest: its
     * answer is waited for while the connection is open (destroy kills
     * the VMM, which closes it) and the daemon runs (its stop ends the
     * wait within a second), as the QEMU driver waits for QEMU.  Giving
     * up after 10 s ended a healthy guest at every restart. */
    rc = virStratoVirtMonitorQueryStatusPatient(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                                stratovirtProcessDaemonRuns, driver,
                                                &running);
    virObjectUnref(mon);
    virObjectLock(vm);
    if (rc < 0 || !virDomainObjIsActive(vm) || !priv->mon)
        goto gone;

    if (priv->destroyOnReboot) {
        /* the guest rebooted with <on_reboot> destroy and the old daemon
         * stopped before it ended the VMM: ended now, as a shutdown */
        VIR_DEBUG("domain %s: rebooted with on_reboot destroy before the restart; ending it",
                  vm->def->name);
        stratovirtProcessReconnectFail(driver, vm, VIR_DOMAIN_SHUTOFF_SHUTDOWN,
                                       VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
        virDomainObjEndAPI(&vm);
        return;
    }

    /* a new proxy and pty for the logged serial port (the old pty went
     * with the old daemon); the log is appended to */
    if (priv->serialSocket && vm->def->nserials > 0 &&
        vm->def->serials[0]->source->logfile &&
        stratovirtProcessOpenSerialLog(vm, true) < 0) {
        VIR_WARN("domain %s: the serial console and its log are lost: %s",
                 vm->def->name, virGetLastErrorMessage());
        virResetLastError();
    }

    state = virDomainObjGetState(vm, NULL);
    if (running && state != VIR_DOMAIN_RUNNING)
        virDomainObjSetState(vm, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED);
    else if (!running && state != VIR_DOMAIN_PAUSED)
        virDomainObjSetState(vm, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_UNKNOWN);
    virStratoVirtGuestOpenAgent(driver, vm);
    /* a balloon target the guest had not taken before the restart */
    virStratoVirtBalloonResume(vm);
    stratovirtProcessReconnectUnplugs(driver, vm);
    if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
        VIR_WARN("cannot save the status of domain %s", vm->def->name);
    VIR_DEBUG("reconnected to domain %s", vm->def->name);
    virDomainObjEndJob(vm);
    virDomainObjEndAPI(&vm);
    return;

 gone:
    if (g_atomic_int_get(&driver->shuttingDown)) {
        /* The daemon is stopping under this reconnect (which is why its
         * monitor may have closed): nothing is known to be wrong with the
         * VMM, so it is left running, its status file as it was, for the
         * next daemon to reconnect. */
        VIR_WARN("domain %s: the daemon stopped during its reconnect (%s); leaving it to the next daemon",
                 vm->def->name, virGetLastErrorMessage());
        virResetLastError();
        virDomainObjEndJob(vm);
        virDomainObjEndAPI(&vm);
        return;
    }
    if (priv->beingDestroyed) {
        /* destroy killed it under this reconnect and waits for the job:
         * the stop is destroy's, with its reason and event */
        VIR_DEBUG("domain %s: destroyed during its reconnect (%s)",
                  vm->def->name, virGetLastErrorMessage());
        virResetLastError();
        virDomainObjEndJob(vm);
        virDomainObjEndAPI(&vm);
        return;
    }
    /* It ended while we were away (the old daemon stopped before its exit
     * work ran, or no daemon ran): finished as the live path would have,
     * from what tells a guest's shutdown from a crash (the SHUTDOWN, quit
     * or powerdown the status XML kept, the VMM's log).  Alive but
     * unreachable: the Stop ends it rather than leave it half-managed,
     * as for a crash. */
    {
        bool alive = vm->pid > 0 && stratovirtProcessIsOurs(driver, vm) &&
            virProcessKill(vm->pid, 0) == 0;
        virDomainShutoffReason reason = VIR_DOMAIN_SHUTOFF_CRASHED;
        int detail = VIR_DOMAIN_EVENT_STOPPED_CRASHED;

        if (priv->destroyOnReboot ||
            (!alive && !stratovirtProcessCrashed(vm))) {
            reason = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
            detail = VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN;
        }
        VIR_WARN("domain %s: cannot reconnect to StratoVirt (%s); its VMM %s, the domain is shut off (%s)",
                 vm->def->name, virGetLastErrorMessage(),
                 alive ? "is unreachable" : "has gone",
                 virDomainShutoffReasonTypeToString(reason));
        virResetLastError();
        if (!alive && priv->fakeReboot && !priv->destroyOnReboot &&
            reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN) {
            /* a reboot the old daemon did not finish: the guest powered
             * off for it, started again now */
            stratovirtProcessForgetUnlessOurs(driver, vm);
            virStratoVirtPowerFakeReboot(driver, vm);
            virDomainObjEndJob(vm);
            virDomainObjEndAPI(&vm);
            return;
        }
        stratovirtProcessReconnectFail(driver, vm, reason, detail);
    }
    virDomainObjEndAPI(&vm);
}


/* (a driver thread: the daemon's stop waits for it) */
static void
stratovirtProcessReconnectThread(void *opaque)
{
    stratovirtProcessReconnectDomain(opaque);
}


/* What must be known before any other start may run (devices and ports in
 * use, the next id), done at once for every domain; the waiting is left
 * to a thread per domain. */
static int
stratovirtProcessReconnectOne(virDomainObj *vm,
                              void *opaque)
{
    virStratoVirtDriver *driver = opaque;
    virStratoVirtDomainObjPrivate *priv;
    stratovirtReconnectData *data;
    size_t i;
    int rc;

    virObjectLock(vm);
    priv = vm->privateData;
    if (!virDomainObjIsActive(vm)) {
        virObjectUnlock(vm);
        return 0;
    }

    if (vm->def->id >= g_atomic_int_get(&driver->nextvmid))
        g_atomic_int_set(&driver->nextvmid, vm->def->id + 1);
    /* active until a Stop says otherwise, which releases this */
    if (driver->inhibitCallback)
        driver->inhibitCallback(true, driver->inhibitOpaque);

    /* The devices the hostdev manager had given to live domains were
     * marked in use before any domain is reconnected
     * (virStratoVirtProcessReconnectAll). */
    if (priv->netsPrepared)
        virStratoVirtInterfaceReconnectAll(vm);
    for (i = 0; i < vm->def->ngraphics; i++) {
        virDomainGraphicsDef *gfx = vm->def->graphics[i];

        if (gfx->type == VIR_DOMAIN_GRAPHICS_TYPE_VNC && gfx->data.vnc.autoport &&
            gfx->data.vnc.port > 0)
            virPortAllocatorSetUsed(gfx->data.vnc.port);
    }

    /* Nobody else can have it yet: the daemon serves no client before
     * its state drivers are initialized. */
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0) {
        VIR_ERROR(_("cannot reconnect to domain '%1$s': %2$s"),
                  vm->def->name, virGetLastErrorMessage());
        virObjectUnlock(vm);
        return 0;
    }

    if (priv->starting) {
        /* The daemon died in the middle of this start: undo it. */
        pid_t pid = 0;

        if (vm->pid <= 0 && priv->pidfile &&
            virPidFileReadPath(priv->pidfile, &pid) == 0 && pid > 0)
            vm->pid = pid;
        VIR_WARN("domain %s: the daemon stopped during its start; undoing it",
                 vm->def->name);
        virObjectRef(vm);
        stratovirtProcessReconnectFail(driver, vm, VIR_DOMAIN_SHUTOFF_FAILED,
                                       VIR_DOMAIN_EVENT_STOPPED_FAILED);
        virDomainObjEndAPI(&vm);
        return 0;
    }

    data = g_new0(stratovirtReconnectData, 1);
    data->driver = driver;
    data->vm = virObjectRef(vm);
    rc = virStratoVirtDriverThreadCreate(driver, "stratovirt-reconnect",
                                         stratovirtProcessReconnectThread, data);
    if (rc != 0) {
        g_free(data);
        if (rc > 0) {
            /* the daemon is already stopping: left to the next one */
            virDomainObjEndJob(vm);
            virDomainObjEndAPI(&vm);
            return 0;
        }
        VIR_ERROR(_("cannot start a thread to reconnect to domain '%1$s': %2$s"),
                  vm->def->name, virGetLastErrorMessage());
        virResetLastError();
        stratovirtProcessReconnectFail(driver, vm, VIR_DOMAIN_SHUTOFF_CRASHED,
                                       VIR_DOMAIN_EVENT_STOPPED_CRASHED);
        virDomainObjEndAPI(&vm);
        return 0;
    }
    virObjectUnlock(vm);
    return 0;
}


/* Each live domain's cgroup, opened from its partition's group before the
 * reconnect threads start: libvirt then parses the mount table once per
 * partition, not once per domain as finding a group by a pid does (with a
 * thousand domains that was a third of a restart's CPU time).  The
 * reconnect thread checks the VMM's membership in it; a domain left
 * without one is checked by its pid there. */
static void
stratovirtProcessReconnectCgroups(virStratoVirtDriver *driver,
                                  virDomainObj **vms,
                                  size_t nvms)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virCgroup) parent = NULL;
    g_autofree char *parentPath = NULL;
    size_t i;

    if (!driver->privileged || !virCgroupAvailable())
        return;

    for (i = 0; i < nvms; i++) {
        virDomainObj *vm = vms[i];
        virStratoVirtDomainObjPrivate *priv;

        virObjectLock(vm);
        priv = vm->privateData;
        if (!virDomainObjIsActive(vm) || priv->starting || vm->pid <= 0 ||
            priv->cgroup || !priv->cgroupPartition || !priv->machineName)
            goto next;
        if (!parentPath || STRNEQ(parentPath, priv->cgroupPartition)) {
            g_clear_pointer(&parent, virCgroupFree);
            g_free(parentPath);
            parentPath = g_strdup(priv->cgroupPartition);
            if (virCgroupNewPartition(parentPath, false, cfg->cgroupControllers,
                                      &parent) < 0) {
                VIR_DEBUG("cannot open the cgroup partition %s: %s",
                          parentPath, virGetLastErrorMessage());
                virResetLastError();
            }
        }
        if (parent &&
            virCgroupNewDomainPartition(parent, STRATOVIRT_CGROUP_DRIVER,
                                        priv->machineName, &priv->cgroup) < 0) {
            VIR_DEBUG("domain %s: cannot open its cgroup %s: %s", vm->def->name,
                      priv->machineName, virGetLastErrorMessage());
            virResetLastError();
            priv->cgroup = NULL;
        }
 next:
        virObjectUnlock(vm);
    }
}


void
virStratoVirtProcessReconnectAll(virStratoVirtDriver *driver)
{
    virDomainObj **vms = NULL;
    size_t nvms = 0;
    size_t i;

    virDomainObjListCollect(driver->domains, NULL, &vms, &nvms, NULL,
                            VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    /* First every device the hostdev manager had given to a domain is in
     * use again, and only then is any domain reconnected or its cut-short
     * start undone: undoing one can then never take a device another
     * domain holds, whatever the order. */
    for (i = 0; i < nvms; i++) {
        virObjectLock(vms[i]);
        if (virDomainObjIsActive(vms[i]))
            virStratoVirtHostdevUpdateActive(driver, vms[i]);
        virObjectUnlock(vms[i]);
    }
    stratovirtProcessReconnectCgroups(driver, vms, nvms);
    for (i = 0; i < nvms; i++)
        stratovirtProcessReconnectOne(vms[i], driver);
    virObjectListFreeCount(vms, nvms);
}


/* The run directories the domains use, collected once (a set of paths):
 * asking every domain for every directory was O(N^2) at a restart */
static GHashTable *
stratovirtProcessRunDirsInUse(virStratoVirtDriver *driver)
{
    GHashTable *used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    virDomainObj **vms = NULL;
    size_t nvms = 0;
    size_t i;

    virDomainObjListCollect(driver->domains, NULL, &vms, &nvms, NULL, 0);
    for (i = 0; i < nvms; i++) {
        virStratoVirtDomainObjPrivate *priv;

        virObjectLock(vms[i]);
        priv = vms[i]->privateData;
        if (priv->runDir)
            g_hash_table_add(used, g_strdup(priv->runDir));
        virObjectUnlock(vms[i]);
    }
    virObjectListFreeCount(vms, nvms);
    return used;
}


static void
stratovirtProcessCleanDir(const char *path,
                          GHashTable *runDirsInUse)
{
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    unsigned char uuid[VIR_UUID_BUFLEN];

    if (virDirOpenIfExists(&dir, path) <= 0) {
        virResetLastError();
        return;
    }
    while (virDirRead(dir, &ent, path) > 0) {
        g_autofree char *file = g_strdup_printf("%s/%s", path, ent->d_name);

        if (virStringHasSuffix(ent->d_name, ".xml.new")) {
            /* a config or status write cut short by a crash */
            VIR_DEBUG("removing the stale %s", file);
            if (unlink(file) < 0)
                VIR_WARN("cannot remove %s: %s", file, g_strerror(errno));
        } else if (runDirsInUse && virUUIDParse(ent->d_name, uuid) == 0 &&
                   virFileIsDir(file) && !g_hash_table_contains(runDirsInUse, file)) {
            /* the run directory of a start cut short before its status
             * named it, or of a domain long gone */
            VIR_DEBUG("removing the stale run directory %s", file);
            if (virFileDeleteTree(file) < 0)
                virResetLastError();
        }
    }
    virResetLastError();
}


/**
 * virStratoVirtProcessCleanStale:
 *
 * After the domains were loaded and reconnected: files a daemon killed
 * at the wrong instant left behind (half-written "<name>.xml.new" configs
 * and status files, run directories no live domain uses).
 */
void
virStratoVirtProcessCleanStale(virStratoVirtDriver *driver)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(GHashTable) inUse = stratovirtProcessRunDirsInUse(driver);

    stratovirtProcessCleanDir(cfg->stateDir, inUse);
    stratovirtProcessCleanDir(cfg->configBaseDir, NULL);
}
