/*
 * stratovirt-mini: a minimal StratoVirt stand-in in C, for ./run bench.
 *
 * The Python stand-in (tests/standin/stratovirt) checks the whole command
 * line and plays every fault the tests need, but one costs ~15 MB and
 * ~100 ms of CPU to start: a thousand of them do not fit on a small
 * machine.  This one speaks only the QMP subset the driver uses when it
 * starts, queries, pauses, resumes and ends a domain, the way StratoVirt
 * 2.5.0 answers it (the recordings in ../shared/stratovirt/qmp), and is
 * ready in about a millisecond with a few hundred KB, so that a bench
 * with it measures the driver, not the stand-in.  It does not check the
 * command line beyond what it needs: -name, -m, -smp, -S, -qmp, -D,
 * -chardev pty, -serial pty, a balloon device, an empty -kernel refused;
 * everything else is accepted as given (so every build feature the
 * driver probes for is "present").
 *
 * Usage: as StratoVirt: stratovirt-mini -V | -name N -qmp unix:PATH,server,nowait ...
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define VERSION "2.5.0"
#define MAX_PTYS 8
#define BUFSZ 65536

struct pty {
    char label[64];
    char path[128];
    int master;
    int slave;
};

static struct {
    const char *name;
    const char *qmp;            /* the socket path */
    const char *logpath;
    unsigned long long memBytes;
    int cpus;
    bool running;
    bool balloon;
    unsigned long long balloonActual;
    struct pty ptys[MAX_PTYS];
    int nptys;
    FILE *log;
} vm = { .name = "stratovirt", .memBytes = 256ULL << 20, .cpus = 1, .running = true };

static volatile sig_atomic_t quitSignal;
static int client = -1;


static void
logMsg(const char *level, const char *fmt, ...)
{
    struct timespec ts;
    struct tm tm;
    char stamp[64];
    va_list ap;

    if (!vm.log)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(vm.log, "%s.%09ld: [%d][%d][mini]:%s: ", stamp, ts.tv_nsec,
            (int) getpid(), (int) getpid(), level);
    va_start(ap, fmt);
    vfprintf(vm.log, fmt, ap);
    va_end(ap);
    fputc('\n', vm.log);
    fflush(vm.log);
}


static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}


/* "1024", "512M", "2G" as StratoVirt's -m takes them (MiB by default) */
static unsigned long long
parseMem(const char *s)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);

    if (end && (*end == 'G' || *end == 'g'))
        return v << 30;
    if (end && (*end == 'K' || *end == 'k'))
        return v << 10;
    return v << 20;
}


/* value of key=@key in a "a=1,key=v,..." option, copied to @buf */
static bool
optValue(const char *opt, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    const char *p = opt;

    while (p && *p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, ",");

            if (n >= len)
                n = len - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return true;
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}


static void
addPty(const char *label)
{
    struct pty *p;
    struct termios tio;

    if (vm.nptys >= MAX_PTYS)
        die("too many pty chardevs");
    p = &vm.ptys[vm.nptys++];
    snprintf(p->label, sizeof(p->label), "%s", label);
    if (openpty(&p->master, &p->slave, p->path, NULL, NULL) < 0)
        die("Failed to open pty: %s", strerror(errno));
    if (tcgetattr(p->slave, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(p->slave, TCSANOW, &tio);
    }
    fcntl(p->master, F_SETFL, fcntl(p->master, F_GETFL) | O_NONBLOCK);
}


static void
parseArgs(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-V") == 0 || strcmp(a, "-version") == 0) {
            printf("StratoVirt %s commit-id mini\n", VERSION);
            exit(0);
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0) {
            printf("StratoVirt %s (minimal stand-in)\nUSAGE: stratovirt [OPTIONS]\n", VERSION);
            exit(0);
        }
        if (strcmp(a, "-S") == 0 || strcmp(a, "-freeze_cpu") == 0) {
            vm.running = false;
            continue;
        }
        if (strcmp(a, "-daemonize") == 0 || strcmp(a, "-disable-seccomp") == 0)
            continue;
        if (a[0] != '-' || !v)
            continue;
        i++;
        if (strcmp(a, "-name") == 0) {
            vm.name = v;
        } else if (strcmp(a, "-m") == 0) {
            char buf[32];

            vm.memBytes = parseMem(optValue(v, "size", buf, sizeof(buf)) ? buf : v);
        } else if (strcmp(a, "-smp") == 0) {
            char buf[16];

            vm.cpus = atoi(optValue(v, "cpus", buf, sizeof(buf)) ? buf : v);
            if (vm.cpus < 1)
                vm.cpus = 1;
        } else if (strcmp(a, "-qmp") == 0) {
            if (strncmp(v, "unix:", 5) != 0)
                die("Invalid qmp socket '%s'", v);
            vm.qmp = strndup(v + 5, strcspn(v + 5, ","));
        } else if (strcmp(a, "-kernel") == 0) {
            struct stat st;

            /* as StratoVirt: an empty kernel fails (the driver's feature
             * probe relies on it) */
            if (stat(v, &st) < 0 || st.st_size == 0)
                die("Failed to load kernel: %s", v);
        } else if (strcmp(a, "-D") == 0) {
            vm.logpath = v;
        } else if (strcmp(a, "-chardev") == 0 && strncmp(v, "pty,", 4) == 0) {
            char id[64];

            if (optValue(v, "id", id, sizeof(id)))
                addPty(id);
        } else if (strcmp(a, "-serial") == 0 && strcmp(v, "pty") == 0) {
            addPty("serial_chardev");
        } else if (strcmp(a, "-device") == 0 && strncmp(v, "virtio-balloon", 14) == 0) {
            vm.balloon = true;
        }
    }
    vm.balloonActual = vm.memBytes;
}


/* ---- QMP ---------------------------------------------------------- */

static void
sendRaw(const char *s)
{
    size_t len = strlen(s);

    while (client >= 0 && len > 0) {
        ssize_t n = send(client, s, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(client);
            client = -1;
            return;
        }
        s += n;
        len -= n;
    }
}


static void
sendFmt(const char *fmt, ...)
{
    char buf[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    strcat(buf, "\r\n");
    sendRaw(buf);
}


static void
sendEvent(const char *name, const char *data)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    sendFmt("{\"event\":\"%s\",\"data\":%s,\"timestamp\":{\"seconds\":%ld,\"microseconds\":%ld}}",
            name, data ? data : "{}", (long) tv.tv_sec, (long) tv.tv_usec);
}


/* the string value of "@key" in the JSON object @msg (our own monitor's
 * requests: no escapes inside the values it looks up) */
static bool
jsonString(const char *msg, const char *key, char *buf, size_t len)
{
    char pat[64];
    const char *p;
    size_t n;

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    if (!(p = strstr(msg, pat)))
        return false;
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '\t')
        p++;
    if (*p != '"')
        return false;
    p++;
    n = strcspn(p, "\"");
    if (n >= len)
        n = len - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return true;
}


static bool
jsonHasKey(const char *msg, const char *key)
{
    char pat[64];

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    return strstr(msg, pat) != NULL;
}


static void
reply(const char *ret, const char *id)
{
    if (*id)
        sendFmt("{\"return\":%s,\"id\":\"%s\"}", ret, id);
    else
        sendFmt("{\"return\":%s}", ret);
}


static void
replyError(const char *cls, const char *desc, const char *id)
{
    if (*id)
        sendFmt("{\"error\":{\"class\":\"%s\",\"desc\":\"%s\"},\"id\":\"%s\"}", cls, desc, id);
    else
        sendFmt("{\"error\":{\"class\":\"%s\",\"desc\":\"%s\"}}", cls, desc);
}


static void
cleanupAndExit(int code)
{
    if (vm.qmp)
        unlink(vm.qmp);
    logMsg("INFO", "VM %s exiting", vm.name);
    exit(code);
}


static void
handleCommand(const char *msg)
{
    char cmd[64] = "";
    char id[128] = "";
    char buf[2048];

    if (!jsonString(msg, "execute", cmd, sizeof(cmd))) {
        replyError("GenericError", "missing field `execute`", "");
        return;
    }
    if (jsonHasKey(msg, "id") && !jsonString(msg, "id", id, sizeof(id))) {
        replyError("GenericError", "invalid type: integer, expected a string", "");
        return;
    }

    if (strcmp(cmd, "qmp_capabilities") == 0) {
        reply("{}", "");
    } else if (strcmp(cmd, "query-status") == 0) {
        snprintf(buf, sizeof(buf), "{\"running\":%s,\"singlestep\":false,\"status\":\"%s\"}",
                 vm.running ? "true" : "false", vm.running ? "running" : "paused");
        reply(buf, id);
    } else if (strcmp(cmd, "stop") == 0) {
        vm.running = false;
        reply("{}", id);
        sendEvent("STOP", NULL);
    } else if (strcmp(cmd, "cont") == 0) {
        vm.running = true;
        reply("{}", id);
        sendEvent("RESUME", NULL);
    } else if (strcmp(cmd, "quit") == 0) {
        reply("{}", id);
        sendEvent("SHUTDOWN", "{\"guest\":false,\"reason\":\"host-qmp-quit\"}");
        cleanupAndExit(0);
    } else if (strcmp(cmd, "system_powerdown") == 0) {
        reply("{}", id);
        sendEvent("SHUTDOWN", "{\"guest\":true,\"reason\":\"guest-shutdown\"}");
        cleanupAndExit(0);
    } else if (strcmp(cmd, "system_reset") == 0) {
        reply("{}", id);
        sendEvent("RESET", "{\"guest\":false,\"reason\":\"host-qmp-system-reset\"}");
    } else if (strcmp(cmd, "query-version") == 0) {
        reply("{\"package\":\"StratoVirt-" VERSION "\",\"qemu\":{\"major\":5,\"micro\":1,\"minor\":0}}", id);
    } else if (strcmp(cmd, "query-cpus") == 0) {
        size_t off = 0;
        int i;

        off += snprintf(buf + off, sizeof(buf) - off, "[");
        for (i = 0; i < vm.cpus && off < sizeof(buf) - 256; i++)
            off += snprintf(buf + off, sizeof(buf) - off,
                            "%s{\"CPU\":%d,\"arch\":\"x86\",\"current\":%s,\"halted\":false,"
                            "\"props\":{\"core-id\":%d,\"socket-id\":0,\"thread-id\":0},"
                            "\"qom_path\":\"/machine/unattached/device[%d]\",\"thread_id\":%d}",
                            i ? "," : "", i, i ? "false" : "true", i, i, (int) getpid());
        snprintf(buf + off, sizeof(buf) - off, "]");
        reply(buf, id);
    } else if (strcmp(cmd, "query-chardev") == 0) {
        size_t off = 0;
        int i;

        off += snprintf(buf + off, sizeof(buf) - off, "[");
        for (i = 0; i < vm.nptys; i++)
            off += snprintf(buf + off, sizeof(buf) - off,
                            "%s{\"filename\":\"pty:%s\",\"frontend-open\":true,\"label\":\"%s\"}",
                            i ? "," : "", vm.ptys[i].path, vm.ptys[i].label);
        snprintf(buf + off, sizeof(buf) - off, "]");
        reply(buf, id);
    } else if (strcmp(cmd, "query-balloon") == 0 || strcmp(cmd, "balloon") == 0) {
        if (!vm.balloon) {
            replyError("DeviceNotActive", "No balloon device has been activated", id);
            return;
        }
        if (strcmp(cmd, "balloon") == 0) {
            const char *v = strstr(msg, "\"value\"");

            if (v && (v = strchr(v, ':')))
                vm.balloonActual = strtoull(v + 1, NULL, 10);
            if (vm.balloonActual > vm.memBytes)
                vm.balloonActual = vm.memBytes;
            reply("{}", id);
            snprintf(buf, sizeof(buf), "{\"actual\":%llu}", vm.balloonActual);
            sendEvent("BALLOON_CHANGED", buf);
            return;
        }
        snprintf(buf, sizeof(buf), "{\"actual\":%llu}", vm.balloonActual);
        reply(buf, id);
    } else {
        snprintf(buf, sizeof(buf),
                 "unknown variant `%s`, expected one of `qmp_capabilities`, `quit`, `stop`, `cont`, "
                 "`system_powerdown`, `system_reset`, `query-status`, `query-cpus`, "
                 "`query-chardev`, `query-version`, `query-balloon`, `balloon`", cmd);
        replyError("GenericError", buf, id);
    }
}


/* Hands each complete JSON object in @buf to handleCommand, keeps the rest */
static size_t
handleInput(char *buf, size_t len)
{
    size_t start = 0;
    size_t i;
    int depth = 0;
    bool instr = false;
    bool esc = false;

    for (i = 0; i < len; i++) {
        char c = buf[i];

        if (instr) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                instr = false;
            continue;
        }
        if (c == '"') {
            instr = true;
        } else if (c == '{') {
            if (depth++ == 0)
                start = i;
        } else if (c == '}' && depth > 0 && --depth == 0) {
            char save = buf[i + 1];

            buf[i + 1] = '\0';
            handleCommand(buf + start);
            buf[i + 1] = save;
            if (client < 0)
                return 0;
            start = i + 1;
        } else if (depth == 0 && c != ' ' && c != '\r' && c != '\n' && c != '\t') {
            replyError("GenericError", "expected value at line 1 column 1", "");
            start = i + 1;
        }
    }
    if (depth == 0)
        return 0;
    memmove(buf, buf + start, len - start);
    return len - start;
}


static void
onSignal(int sig)
{
    quitSignal = sig;
}


int
main(int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct sigaction sa = { .sa_handler = onSignal };
    static char inbuf[BUFSZ + 1];
    size_t inlen = 0;
    int lfd;

    parseArgs(argc, argv);
    if (!vm.qmp)
        die("The argument '-qmp' is required");
    if (vm.logpath) {
        int fd = open(vm.logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

        if (fd >= 0)
            vm.log = fdopen(fd, "a");
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    logMsg("INFO", "StratoVirt mini stand-in %s starting %s", VERSION, vm.name);

    if (strlen(vm.qmp) >= sizeof(addr.sun_path))
        die("QMP socket path too long: %s", vm.qmp);
    strcpy(addr.sun_path, vm.qmp);
    unlink(vm.qmp);
    if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(lfd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        listen(lfd, 1) < 0) {
        logMsg("ERROR", "Failed to bind socket %s: %s", vm.qmp, strerror(errno));
        exit(1);
    }
    chmod(vm.qmp, 0600);

    while (!quitSignal) {
        struct pollfd pfd[MAX_PTYS + 1];
        int n = 0;
        int i;

        pfd[n].fd = client >= 0 ? client : lfd;
        pfd[n++].events = POLLIN;
        for (i = 0; i < vm.nptys; i++) {
            pfd[n].fd = vm.ptys[i].master;
            pfd[n++].events = POLLIN;
        }
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[0].revents) {
            if (client < 0) {
                client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                inlen = 0;
                if (client >= 0)
                    sendRaw("{\"QMP\":{\"version\":{\"qemu\":{\"micro\":1,\"minor\":0,\"major\":5},"
                            "\"package\":\"StratoVirt-" VERSION "\"},\"capabilities\":[]}}\r\n");
            } else {
                ssize_t r = read(client, inbuf + inlen, BUFSZ - inlen);

                if (r <= 0) {
                    if (r < 0 && errno == EINTR)
                        continue;
                    close(client);
                    client = -1;
                    continue;
                }
                inlen = handleInput(inbuf, inlen + r);
                if (inlen >= BUFSZ) {
                    replyError("GenericError", "The socket message is too long.", "");
                    inlen = 0;
                }
            }
        }
        /* a console: echo what is typed, so its buffer never fills */
        for (i = 1; i < n; i++) {
            char tmp[512];
            ssize_t r;

            if (!(pfd[i].revents & POLLIN))
                continue;
            if ((r = read(pfd[i].fd, tmp, sizeof(tmp))) > 0)
                (void) !write(pfd[i].fd, tmp, r);
        }
    }
    cleanupAndExit(0);
    return 0;
}
