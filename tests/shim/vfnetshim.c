/*
 * vfnetshim.c: LD_PRELOAD shim that gives the simulated PCI host's SR-IOV
 * PFs the VF configuration a real PF driver answers over rtnetlink
 *
 * libvirt's hostdev code sets an <interface type='hostdev'>'s MAC and VLAN
 * on the VF through its PF's netdev (virNetDevSaveNetConfig,
 * virNetDevSetNetConfig, virNetDevReadNetConfig in libvirt.so):
 * SIOCGIFFLAGS / SIOCGIFINDEX on the PF's name, then RTM_GETLINK with
 * IFLA_EXT_MASK = RTEXT_FILTER_VF (answered with IFLA_NUM_VF and
 * IFLA_VFINFO_LIST) and RTM_SETLINK with IFLA_VFINFO_LIST { IFLA_VF_INFO
 * { IFLA_VF_MAC | IFLA_VF_VLAN } }.  The sandbox gives each PF of the
 * simulated host (a /sys/bus/pci/devices/<bdf>/net/<name> beside an
 * sriov_numvfs) a real netdev of that name in its private network
 * namespace (a veth or a tap: the ioctls and the link itself are the
 * kernel's); those have no VFs, so for them only this shim, preloaded
 * into the sandbox's virtstratovirtd, does what the kernel's rtnetlink
 * does with a PF driver behind it:
 *
 *  - RTM_GETLINK asking RTEXT_FILTER_VF: the kernel's own RTM_NEWLINK
 *    answer, with IFLA_NUM_VF (sriov_numvfs) and IFLA_VFINFO_LIST (one
 *    IFLA_VF_INFO per VF: MAC, broadcast, VLAN, VLAN list, rates,
 *    spoof check, link state, RSS query, trust, stats) appended, as
 *    rtnl_fill_vf() does;
 *  - RTM_SETLINK with IFLA_VFINFO_LIST (and nothing but the interface's
 *    name or index besides): IFLA_VF_MAC and IFLA_VF_VLAN are checked as
 *    do_setvfinfo() and a PF driver check them (-EINVAL for a VF index
 *    past sriov_numvfs, a multicast MAC, a VLAN over 4095 or a QoS over
 *    7, -EOPNOTSUPP for other VF attributes), stored, and acknowledged
 *    with the NLMSG_ERROR the kernel sends.  The socket's own semantics
 *    (sequence, port id, poll) stay the kernel's: the shim sends it an
 *    NLMSG_NOOP with NLM_F_ACK in place of the request and answers in
 *    place of that acknowledgement.
 *
 * The VFs' state is kept in $SANDBOX_VFNET_STATE, one line per VF
 * ("<pf> <vf> <mac> <vlan> <qos>"), which tests read as a user reads
 * `ip link show <pf>`; a VF not in it has the all-zero MAC and no VLAN,
 * as after the PF driver's probe.  Every other socket and message goes to
 * the kernel untouched.  The shim takes itself out of LD_PRELOAD when it
 * is loaded: the VMMs and helpers the daemon starts run without it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 4096
#define MAX_VFS 256
#define BUF_MAX 65536

struct vfstate {
    unsigned char mac[6];
    unsigned int vlan;
    unsigned int qos;
};

enum pending_kind { PENDING_NONE, PENDING_GETLINK, PENDING_ACK };

struct pending {
    enum pending_kind kind;
    char pf[IFNAMSIZ];
    unsigned char *req;   /* PENDING_ACK: the request, echoed on an error */
    size_t reqlen;
    int error;            /* PENDING_ACK: 0 or -errno */
    unsigned char *ans;   /* the answer, once built */
    size_t anslen;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pending pend[MAX_FDS];

static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int,
                              const struct sockaddr *, socklen_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_close)(int);

/* The daemon's only: taken out of LD_PRELOAD at load, so that what the
 * daemon runs (StratoVirt, whose seccomp filter allows no getsockname,
 * helpers) does not inherit it.  Other preloaded libraries stay. */
__attribute__((constructor)) static void
vfnetshim_init(void)
{
    const char *pre = getenv("LD_PRELOAD");
    char *copy, *tok, *save = NULL;
    char rest[4096] = "";
    size_t len = 0;

    if (!pre || !(copy = strdup(pre)))
        return;
    for (tok = strtok_r(copy, " :", &save); tok; tok = strtok_r(NULL, " :", &save)) {
        const char *base = strrchr(tok, '/');
        if (strcmp(base ? base + 1 : tok, "vfnetshim.so") == 0)
            continue;
        if (len + strlen(tok) + 2 < sizeof(rest))
            len += snprintf(rest + len, sizeof(rest) - len, "%s%s", len ? " " : "", tok);
    }
    free(copy);
    if (len)
        setenv("LD_PRELOAD", rest, 1);
    else
        unsetenv("LD_PRELOAD");
}

static void
resolve(void)
{
    if (!real_sendmsg) {
        real_sendto = dlsym(RTLD_NEXT, "sendto");
        real_send = dlsym(RTLD_NEXT, "send");
        real_recvmsg = dlsym(RTLD_NEXT, "recvmsg");
        real_close = dlsym(RTLD_NEXT, "close");
        real_sendmsg = dlsym(RTLD_NEXT, "sendmsg");
    }
}

static int
is_rtnetlink(int fd)
{
    struct sockaddr_nl sa;
    socklen_t len = sizeof(sa);
    int proto = -1;
    socklen_t plen = sizeof(proto);

    if (fd < 0 || fd >= MAX_FDS)
        return 0;
    if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0 ||
        sa.nl_family != AF_NETLINK)
        return 0;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) < 0)
        return 0;
    return proto == NETLINK_ROUTE;
}

/* The simulated PF whose netdev is @ifname: its sriov_numvfs, or -1. */
static int
pf_numvfs(const char *ifname)
{
    DIR *dir;
    struct dirent *e;
    int numvfs = -1;

    if (!ifname[0] || strchr(ifname, '/'))
        return -1;
    if (!(dir = opendir("/sys/bus/pci/devices")))
        return -1;
    while ((e = readdir(dir))) {
        char path[512];
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/net/%s",
                 e->d_name, ifname);
        if (access(path, F_OK) < 0)
            continue;
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs",
                 e->d_name);
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%d", &numvfs) != 1)
                numvfs = -1;
            fclose(f);
        }
        break;
    }
    closedir(dir);
    if (numvfs > MAX_VFS)
        numvfs = MAX_VFS;
    return numvfs;
}

static const char *
state_path(void)
{
    return getenv("SANDBOX_VFNET_STATE");
}

/* Read @pf's VFs from the state file (caller holds the lock). */
static void
state_read(const char *pf, struct vfstate *vfs, int n)
{
    const char *path = state_path();
    char line[256];
    FILE *f;

    memset(vfs, 0, sizeof(*vfs) * n);
    if (!path || !(f = fopen(path, "r")))
        return;
    flock(fileno(f), LOCK_SH);
    while (fgets(line, sizeof(line), f)) {
        char name[IFNAMSIZ + 1];
        unsigned int m[6], vlan, qos;
        int vf;

        if (sscanf(line, "%16s %d %x:%x:%x:%x:%x:%x %u %u", name, &vf,
                   &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &vlan, &qos) != 10)
            continue;
        if (strcmp(name, pf) != 0 || vf < 0 || vf >= n)
            continue;
        for (int i = 0; i < 6; i++)
            vfs[vf].mac[i] = m[i];
        vfs[vf].vlan = vlan;
        vfs[vf].qos = qos;
    }
    flock(fileno(f), LOCK_UN);
    fclose(f);
}

/* Write @pf's VFs back, keeping the other PFs' lines. */
static int
state_write(const char *pf, const struct vfstate *vfs, int n)
{
    const char *path = state_path();
    char tmp[4096], line[256];
    FILE *in, *out;
    int lk;

    if (!path)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.lock", path);
    if ((lk = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return -errno;
    flock(lk, LOCK_EX);
    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int) getpid());
    if (!(out = fopen(tmp, "w"))) {
        int err = -errno;
        real_close(lk);
        return err;
    }
    if ((in = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), in)) {
            char name[IFNAMSIZ + 1];
            if (sscanf(line, "%16s", name) == 1 && strcmp(name, pf) == 0)
                continue;
            fputs(line, out);
        }
        fclose(in);
    }
    for (int vf = 0; vf < n; vf++)
        fprintf(out, "%s %d %02x:%02x:%02x:%02x:%02x:%02x %u %u\n", pf, vf,
                vfs[vf].mac[0], vfs[vf].mac[1], vfs[vf].mac[2],
                vfs[vf].mac[3], vfs[vf].mac[4], vfs[vf].mac[5],
                vfs[vf].vlan, vfs[vf].qos);
    fclose(out);
    rename(tmp, path);
    flock(lk, LOCK_UN);
    real_close(lk);
    return 0;
}

/* ---- netlink message building ---- */

struct buf {
    unsigned char *p;
    size_t len;
    size_t cap;
};

static int
buf_put(struct buf *b, const void *data, size_t len)
{
    size_t alen = NLMSG_ALIGN(len);

    if (b->len + alen > b->cap) {
        size_t cap = (b->len + alen) * 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    memset(b->p + b->len + len, 0, alen - len);
    b->len += alen;
    return 0;
}

static size_t
attr_put(struct buf *b, unsigned short type, const void *data, size_t len)
{
    struct nlattr a = { .nla_len = NLA_HDRLEN + len, .nla_type = type };
    size_t at = b->len;

    buf_put(b, &a, sizeof(a));
    if (len)
        buf_put(b, data, len);
    return at;
}

/* as the kernel's rtnl_fill_vf(): nla_nest_start_noflag(), no NLA_F_NESTED */
static size_t
nest_start(struct buf *b, unsigned short type)
{
    return attr_put(b, type, NULL, 0);
}

static void
nest_end(struct buf *b, size_t at)
{
    ((struct nlattr *) (b->p + at))->nla_len = b->len - at;
}

static void
put_u64(struct buf *b, unsigned short type, uint64_t v)
{
    attr_put(b, type, &v, sizeof(v));
}

/* What rtnl_fill_vf() appends for a PF with @n VFs. */
static void
append_vfinfo(struct buf *b, const struct vfstate *vfs, int n)
{
    uint32_t num = n;
    size_t list;

    attr_put(b, IFLA_NUM_VF, &num, sizeof(num));
    list = nest_start(b, IFLA_VFINFO_LIST);
    for (int vf = 0; vf < n; vf++) {
        struct ifla_vf_mac mac = { .vf = vf };
        struct ifla_vf_broadcast bcast;
        struct ifla_vf_vlan vlan = { .vf = vf, .vlan = vfs[vf].vlan, .qos = vfs[vf].qos };
        struct ifla_vf_vlan_info vinfo = { .vf = vf, .vlan = vfs[vf].vlan,
                                           .qos = vfs[vf].qos,
                                           .vlan_proto = htobe16(0x8100) };
        struct ifla_vf_tx_rate txrate = { .vf = vf };
        struct ifla_vf_rate rate = { .vf = vf };
        struct ifla_vf_spoofchk spoof = { .vf = vf, .setting = 1 };
        struct ifla_vf_link_state ls = { .vf = vf, .link_state = IFLA_VF_LINK_STATE_AUTO };
        struct ifla_vf_rss_query_en rss = { .vf = vf, .setting = 0 };
        struct ifla_vf_trust trust = { .vf = vf, .setting = 0 };
        size_t info, vl, st;

        memcpy(mac.mac, vfs[vf].mac, 6);
        memset(bcast.broadcast, 0, sizeof(bcast.broadcast));
        memset(bcast.broadcast, 0xff, 6);
        info = nest_start(b, IFLA_VF_INFO);
        attr_put(b, IFLA_VF_MAC, &mac, sizeof(mac));
        attr_put(b, IFLA_VF_BROADCAST, &bcast, sizeof(bcast));
        attr_put(b, IFLA_VF_VLAN, &vlan, sizeof(vlan));
        vl = nest_start(b, IFLA_VF_VLAN_LIST);
        attr_put(b, IFLA_VF_VLAN_INFO, &vinfo, sizeof(vinfo));
        nest_end(b, vl);
        attr_put(b, IFLA_VF_TX_RATE, &txrate, sizeof(txrate));
        attr_put(b, IFLA_VF_RATE, &rate, sizeof(rate));
        attr_put(b, IFLA_VF_SPOOFCHK, &spoof, sizeof(spoof));
        attr_put(b, IFLA_VF_LINK_STATE, &ls, sizeof(ls));
        attr_put(b, IFLA_VF_RSS_QUERY_EN, &rss, sizeof(rss));
        attr_put(b, IFLA_VF_TRUST, &trust, sizeof(trust));
        st = nest_start(b, IFLA_VF_STATS);
        put_u64(b, IFLA_VF_STATS_RX_PACKETS, 0);
        put_u64(b, IFLA_VF_STATS_TX_PACKETS, 0);
        put_u64(b, IFLA_VF_STATS_RX_BYTES, 0);
        put_u64(b, IFLA_VF_STATS_TX_BYTES, 0);
        put_u64(b, IFLA_VF_STATS_BROADCAST, 0);
        put_u64(b, IFLA_VF_STATS_MULTICAST, 0);
        put_u64(b, IFLA_VF_STATS_RX_DROPPED, 0);
        put_u64(b, IFLA_VF_STATS_TX_DROPPED, 0);
        nest_end(b, st);
        nest_end(b, info);
    }
    nest_end(b, list);
}

/* ---- requests ---- */

/* The interface a link request names (IFLA_IFNAME, else ifi_index), and
 * what else it carries. */
struct linkreq {
    char ifname[IFNAMSIZ];
    int vf_filter;             /* IFLA_EXT_MASK has RTEXT_FILTER_VF */
    const struct nlattr *vfinfo_list;
    int other_attrs;           /* anything but IFNAME, EXT_MASK, VFINFO_LIST */
};

static int
parse_linkreq(const struct nlmsghdr *nh, size_t len, struct linkreq *r)
{
    const struct ifinfomsg *ifi;
    const struct nlattr *a;
    size_t rem;

    memset(r, 0, sizeof(*r));
    if (len < NLMSG_LENGTH(sizeof(*ifi)) || nh->nlmsg_len > len)
        return -1;
    ifi = NLMSG_DATA(nh);
    a = (const struct nlattr *) ((const char *) ifi + NLMSG_ALIGN(sizeof(*ifi)));
    rem = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    while (rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem) {
        unsigned short type = a->nla_type & NLA_TYPE_MASK;
        const void *data = (const char *) a + NLA_HDRLEN;
        size_t dlen = a->nla_len - NLA_HDRLEN;

        if (type == IFLA_IFNAME) {
            size_t n = dlen < IFNAMSIZ - 1 ? dlen : IFNAMSIZ - 1;
            memcpy(r->ifname, data, n);
            r->ifname[n] = '\0';
        } else if (type == IFLA_EXT_MASK && dlen >= 4) {
            uint32_t mask;
            memcpy(&mask, data, 4);
            r->vf_filter = !!(mask & RTEXT_FILTER_VF);
        } else if (type == IFLA_VFINFO_LIST) {
            r->vfinfo_list = a;
        } else {
            r->other_attrs = 1;
        }
        rem -= NLA_ALIGN(a->nla_len) < rem ? NLA_ALIGN(a->nla_len) : rem;
        a = (const struct nlattr *) ((const char *) a + NLA_ALIGN(a->nla_len));
    }
    if (!r->ifname[0] && ifi->ifi_index > 0 && !if_indextoname(ifi->ifi_index, r->ifname))
        r->ifname[0] = '\0';
    if (r->ifname[0] && if_nametoindex(r->ifname) == 0)
        r->ifname[0] = '\0';   /* no such netdev: the kernel answers */
    return 0;
}

/* One line per change made, in $SANDBOX_VFNET_STATE.log, in order. */
static void
oplog(const char *line)
{
    const char *path = state_path();
    char lp[4096];
    int fd;

    if (!path)
        return;
    snprintf(lp, sizeof(lp), "%s.log", path);
    if ((fd = open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return;
    if (write(fd, line, strlen(line)) < 0) {
        /* nothing to do: the log is for tests */
    }
    real_close(fd);
}

/* do_setvfinfo() with the PF driver's checks; 0 or -errno */
static int
apply_vfinfo(const char *pf, int numvfs, const struct nlattr *list)
{
    struct vfstate vfs[MAX_VFS];
    const struct nlattr *info;
    size_t rem = list->nla_len - NLA_HDRLEN;
    char log[4096] = "";
    size_t loglen = 0;
    int err = 0;

    state_read(pf, vfs, numvfs);
    info = (const struct nlattr *) ((const char *) list + NLA_HDRLEN);
    while (rem >= NLA_HDRLEN && info->nla_len >= NLA_HDRLEN && info->nla_len <= rem) {
        const struct nlattr *a;
        size_t arem;

        if ((info->nla_type & NLA_TYPE_MASK) != IFLA_VF_INFO)
            return -EINVAL;
        a = (const struct nlattr *) ((const char *) info + NLA_HDRLEN);
        arem = info->nla_len - NLA_HDRLEN;
        while (arem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= arem) {
            unsigned short type = a->nla_type & NLA_TYPE_MASK;
            const void *data = (const char *) a + NLA_HDRLEN;
            size_t dlen = a->nla_len - NLA_HDRLEN;

            if (type == IFLA_VF_MAC) {
                struct ifla_vf_mac m;
                if (dlen < sizeof(m))
                    return -EINVAL;
                memcpy(&m, data, sizeof(m));
                if (m.vf >= (uint32_t) numvfs || (m.mac[0] & 1))
                    return -EINVAL;
                memcpy(vfs[m.vf].mac, m.mac, 6);
                if (loglen < sizeof(log) - 80)
                    loglen += snprintf(log + loglen, sizeof(log) - loglen,
                                       "%s vf %u mac %02x:%02x:%02x:%02x:%02x:%02x\n",
                                       pf, m.vf, m.mac[0], m.mac[1], m.mac[2],
                                       m.mac[3], m.mac[4], m.mac[5]);
            } else if (type == IFLA_VF_VLAN) {
                struct ifla_vf_vlan v;
                if (dlen < sizeof(v))
                    return -EINVAL;
                memcpy(&v, data, sizeof(v));
                if (v.vlan > 4095 || v.qos > 7 || v.vf >= (uint32_t) numvfs)
                    return -EINVAL;
                vfs[v.vf].vlan = v.vlan;
                vfs[v.vf].qos = v.qos;
                if (loglen < sizeof(log) - 80)
                    loglen += snprintf(log + loglen, sizeof(log) - loglen,
                                       "%s vf %u vlan %u qos %u\n",
                                       pf, v.vf, v.vlan, v.qos);
            } else {
                return -EOPNOTSUPP;
            }
            arem -= NLA_ALIGN(a->nla_len) < arem ? NLA_ALIGN(a->nla_len) : arem;
            a = (const struct nlattr *) ((const char *) a + NLA_ALIGN(a->nla_len));
        }
        rem -= NLA_ALIGN(info->nla_len) < rem ? NLA_ALIGN(info->nla_len) : rem;
        info = (const struct nlattr *) ((const char *) info + NLA_ALIGN(info->nla_len));
    }
    if ((err = state_write(pf, vfs, numvfs)) == 0)
        oplog(log);
    return err;
}

static void
pending_clear(int fd)
{
    free(pend[fd].req);
    free(pend[fd].ans);
    memset(&pend[fd], 0, sizeof(pend[fd]));
}

/* Look at a message about to be sent: 0 if it goes to the kernel as it
 * is, 1 if it was answered here (an NLMSG_NOOP with NLM_F_ACK goes to the
 * kernel instead, for the acknowledgement), 2 if it was done here and
 * nothing goes back (no NLM_F_ACK asked). */
static int
intercept(int fd, const unsigned char *msg, size_t len)
{
    const struct nlmsghdr *nh = (const struct nlmsghdr *) msg;
    struct linkreq r;
    int numvfs;

    if (len < NLMSG_HDRLEN || nh->nlmsg_len != len ||
        (nh->nlmsg_type != RTM_GETLINK && nh->nlmsg_type != RTM_SETLINK &&
         nh->nlmsg_type != RTM_NEWLINK) ||
        (nh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
        return 0;
    /* RTM_NEWLINK changes an existing link as RTM_SETLINK does (iproute2's
     * `ip link set PF vf N ...`); creating one is the kernel's business */
    if (nh->nlmsg_type == RTM_NEWLINK &&
        (nh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL | NLM_F_REPLACE)))
        return 0;
    if (!is_rtnetlink(fd) || parse_linkreq(nh, len, &r) < 0 || !r.ifname[0])
        return 0;
    if ((numvfs = pf_numvfs(r.ifname)) < 0)
        return 0;

    if (nh->nlmsg_type == RTM_GETLINK) {
        if (!r.vf_filter)
            return 0;
        pthread_mutex_lock(&lock);
        pending_clear(fd);
        pend[fd].kind = PENDING_GETLINK;
        snprintf(pend[fd].pf, sizeof(pend[fd].pf), "%s", r.ifname);
        pthread_mutex_unlock(&lock);
        return 0;   /* the kernel answers; the VFs are added on receipt */
    }

    if (!r.vfinfo_list || r.other_attrs)
        return 0;
    pthread_mutex_lock(&lock);
    pending_clear(fd);
    pend[fd].kind = PENDING_ACK;
    pend[fd].error = apply_vfinfo(r.ifname, numvfs, r.vfinfo_list);
    if (!pend[fd].error && !(nh->nlmsg_flags & NLM_F_ACK)) {
        /* done, and the kernel sends nothing back unless asked to */
        pending_clear(fd);
        pthread_mutex_unlock(&lock);
        return 2;
    }
    if ((pend[fd].req = malloc(len))) {
        memcpy(pend[fd].req, msg, len);
        pend[fd].reqlen = len;
    }
    pthread_mutex_unlock(&lock);
    return 1;
}

static ssize_t
send_noop_ack(int fd, const unsigned char *msg, int flags,
              const struct sockaddr *to, socklen_t tolen)
{
    const struct nlmsghdr *orig = (const struct nlmsghdr *) msg;
    struct nlmsghdr noop = {
        .nlmsg_len = NLMSG_HDRLEN,
        .nlmsg_type = NLMSG_NOOP,
        .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
        .nlmsg_seq = orig->nlmsg_seq,
        .nlmsg_pid = orig->nlmsg_pid,
    };
    ssize_t n = real_sendto(fd, &noop, sizeof(noop), flags, to, tolen);

    return n < 0 ? n : (ssize_t) orig->nlmsg_len;
}

/* Gather an iovec into one buffer (netlink requests are small). */
static unsigned char *
gather(const struct msghdr *m, size_t *len)
{
    size_t total = 0, off = 0;
    unsigned char *p;

    for (size_t i = 0; i < m->msg_iovlen; i++)
        total += m->msg_iov[i].iov_len;
    if (total > BUF_MAX || !(p = malloc(total ? total : 1)))
        return NULL;
    for (size_t i = 0; i < m->msg_iovlen; i++) {
        memcpy(p + off, m->msg_iov[i].iov_base, m->msg_iov[i].iov_len);
        off += m->msg_iov[i].iov_len;
    }
    *len = total;
    return p;
}

ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
    unsigned char *msg;
    size_t len;
    ssize_t ret;

    resolve();
    if (fd < 0 || fd >= MAX_FDS || !m || !(msg = gather(m, &len)))
        return real_sendmsg(fd, m, flags);
    switch (intercept(fd, msg, len)) {
    case 1:
        ret = send_noop_ack(fd, msg, flags, m->msg_name, m->msg_namelen);
        break;
    case 2:
        ret = len;
        break;
    default:
        ret = real_sendmsg(fd, m, flags);
    }
    free(msg);
    return ret;
}

ssize_t
sendto(int fd, const void *data, size_t len, int flags,
       const struct sockaddr *to, socklen_t tolen)
{
    int r;

    resolve();
    if (fd >= 0 && fd < MAX_FDS && data && (r = intercept(fd, data, len)))
        return r == 1 ? send_noop_ack(fd, data, flags, to, tolen) : (ssize_t) len;
    return real_sendto(fd, data, len, flags, to, tolen);
}

ssize_t
send(int fd, const void *data, size_t len, int flags)
{
    int r;

    resolve();
    if (fd >= 0 && fd < MAX_FDS && data && (r = intercept(fd, data, len)))
        return r == 1 ? send_noop_ack(fd, data, flags, NULL, 0) : (ssize_t) len;
    return real_send(fd, data, len, flags);
}

/* Build the answer of a pending request from the kernel's (consumed). */
static int
build_answer(int fd, struct msghdr *um)
{
    struct pending *p = &pend[fd];
    unsigned char *kbuf = malloc(BUF_MAX);
    struct sockaddr_nl from;
    struct iovec iov = { .iov_base = kbuf, .iov_len = BUF_MAX };
    struct msghdr km = { .msg_name = &from, .msg_namelen = sizeof(from),
                         .msg_iov = &iov, .msg_iovlen = 1 };
    struct nlmsghdr *kh = (struct nlmsghdr *) kbuf;
    struct buf b = { 0 };
    ssize_t n;

    if (!kbuf)
        return -1;
    if ((n = real_recvmsg(fd, &km, 0)) < (ssize_t) NLMSG_HDRLEN) {
        int err = errno;
        free(kbuf);
        errno = err;
        return n < 0 ? -1 : -2;
    }
    if (um->msg_name && um->msg_namelen >= sizeof(from))
        memcpy(um->msg_name, &from, sizeof(from));
    um->msg_namelen = km.msg_namelen;

    if (p->kind == PENDING_GETLINK && kh->nlmsg_type == RTM_NEWLINK &&
        kh->nlmsg_len <= (size_t) n) {
        struct vfstate vfs[MAX_VFS];
        int numvfs = pf_numvfs(p->pf);

        buf_put(&b, kbuf, NLMSG_ALIGN(kh->nlmsg_len));
        if (numvfs >= 0) {
            state_read(p->pf, vfs, numvfs);
            append_vfinfo(&b, vfs, numvfs);
        }
        ((struct nlmsghdr *) b.p)->nlmsg_len = b.len;
    } else if (p->kind == PENDING_ACK && kh->nlmsg_type == NLMSG_ERROR) {
        /* the kernel's acknowledgement of the NOOP, for the request */
        struct nlmsghdr h = *kh;
        struct nlmsgerr e = { .error = p->error };
        size_t echo = p->error ? p->reqlen : NLMSG_HDRLEN;

        if (p->req)
            memcpy(&e.msg, p->req, NLMSG_HDRLEN);
        h.nlmsg_len = NLMSG_HDRLEN + sizeof(e.error) + echo;
        if (p->error)
            h.nlmsg_flags &= ~NLM_F_CAPPED;   /* the whole request echoed */
        buf_put(&b, &h, NLMSG_HDRLEN);
        b.len -= NLMSG_ALIGN(NLMSG_HDRLEN) - NLMSG_HDRLEN;
        buf_put(&b, &e.error, sizeof(e.error));
        if (p->req)
            buf_put(&b, p->req, echo);
        else
            buf_put(&b, &e.msg, NLMSG_HDRLEN);
        ((struct nlmsghdr *) b.p)->nlmsg_len = b.len;
    } else {
        /* not what was expected: the kernel's message as it is */
        buf_put(&b, kbuf, n);
        b.len = n;
    }
    free(kbuf);
    p->ans = b.p;
    p->anslen = b.len;
    return 0;
}

ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
    struct pending *p;
    size_t off = 0, len;
    ssize_t ret;

    resolve();
    if (fd < 0 || fd >= MAX_FDS || !m)
        return real_recvmsg(fd, m, flags);
    pthread_mutex_lock(&lock);
    p = &pend[fd];
    if (p->kind == PENDING_NONE) {
        pthread_mutex_unlock(&lock);
        return real_recvmsg(fd, m, flags);
    }
    if (!p->ans) {
        int rc = build_answer(fd, m);
        if (rc < 0) {
            int err = errno;
            pending_clear(fd);
            pthread_mutex_unlock(&lock);
            errno = err;
            return rc == -1 ? -1 : 0;
        }
    } else if (m->msg_name && m->msg_namelen >= sizeof(struct sockaddr_nl)) {
        struct sockaddr_nl k = { .nl_family = AF_NETLINK, .nl_pid = 0 };
        memcpy(m->msg_name, &k, sizeof(k));
        m->msg_namelen = sizeof(k);
    }
    len = p->anslen;
    m->msg_flags = 0;
    m->msg_controllen = 0;
    for (size_t i = 0; i < m->msg_iovlen && off < len; i++) {
        size_t n = m->msg_iov[i].iov_len < len - off ? m->msg_iov[i].iov_len : len - off;
        memcpy(m->msg_iov[i].iov_base, p->ans + off, n);
        off += n;
    }
    if (off < len)
        m->msg_flags |= MSG_TRUNC;
    ret = (flags & MSG_TRUNC) ? (ssize_t) len : (ssize_t) off;
    if (!(flags & MSG_PEEK))
        pending_clear(fd);
    pthread_mutex_unlock(&lock);
    return ret;
}

int
close(int fd)
{
    resolve();
    if (fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&lock);
        if (pend[fd].kind != PENDING_NONE)
            pending_clear(fd);
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}
