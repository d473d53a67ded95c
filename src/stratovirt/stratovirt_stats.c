/*
 * stratovirt_stats.c: the figures of a domain (CPU, vCPUs, memory,
 * interfaces, disks) for getAllDomainStats, getCPUStats, getBlockInfo,
 * blockPeek and blockStats
 *
 * What StratoVirt itself tells: the vCPU thread ids (query-cpus) and the
 * balloon's size (query-balloon).  Everything else comes from the host:
 * CPU times of the VMM and its threads from /proc (or its cgroup's
 * cpuacct), traffic from the taps, capacity and allocation from the images.
 * StratoVirt keeps no per-disk I/O counters: its query-blockstats answers
 * an empty list in every version (machine_manager/src/machine.rs), so no
 * rd/wr figures are given, rather than zeros.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain.h"
#include "stratovirt_interface.h"
#include "stratovirt_monitor.h"
#include "stratovirt_stats.h"
#include "datatypes.h"
#include "storage_file/storage_source.h"
#include "storage_file/storage_file_probe.h"
#include "viraccessapicheck.h"
#include "viralloc.h"
#include "vircgroup.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virtypedparam.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_stats");



/* The balloon's size in KiB: StratoVirt's answer when the domain has a
 * virtio balloon, else the definition's.  Job held, @vm active. */
static int
stratovirtStatsBalloon(virDomainObj *vm,
                       unsigned long long *kib)
{
    virStratoVirtMonitor *mon;
    unsigned long long actual = 0;
    int rc;

    *kib = vm->def->mem.cur_balloon;
    if (!vm->def->memballoon ||
        vm->def->memballoon->model != VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO)
        return 0;
    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        return -1;
    rc = virStratoVirtMonitorQueryBalloon(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, &actual);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc < 0)
        return -1;
    *kib = actual / 1024;
    return 0;
}


/**
 * virStratoVirtStatsDiskSizes:
 *
 * Capacity (the guest's size: the image's virtual size for qcow2),
 * allocation (bytes in use on the host) and physical size of a local
 * disk, read from its image with libvirt's storage source code.
 */
int
virStratoVirtStatsDiskSizes(virDomainDiskDef *disk)
{
    virStorageSource *src = disk->src;
    VIR_AUTOCLOSE fd = -1;
    g_autofree char *buf = NULL;
    struct stat sb;
    ssize_t len;

    if (virStorageSourceIsEmpty(src)) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("disk '%1$s' has no medium"), disk->dst);
        return -1;
    }
    if (!virStorageSourceIsLocalStorage(src) || !src->path) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("the sizes of disk '%1$s' cannot be read: it is not a local file or block device"),
                       disk->dst);
        return -1;
    }
    if ((fd = open(src->path, O_RDONLY | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, _("cannot open the image '%1$s' of disk '%2$s'"),
                             src->path, disk->dst);
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        virReportSystemError(errno, _("cannot stat the image '%1$s'"), src->path);
        return -1;
    }
    if (virStorageSourceUpdatePhysicalSize(src, fd, &sb) < 0 ||
        virStorageSourceUpdateBackingSizes(src, fd, &sb) < 0)
        return -1;
    if (src->format == VIR_STORAGE_FILE_NONE || src->format == VIR_STORAGE_FILE_RAW) {
        src->capacity = src->physical;
        return 0;
    }
    if ((len = virFileReadHeaderFD(fd, VIR_STORAGE_MAX_HEADER, &buf)) < 0) {
        virReportSystemError(errno, _("cannot read the header of the image '%1$s'"),
                             src->path);
        return -1;
    }
    return virStorageSourceUpdateCapacity(src, buf, len);
}


/* ---------------------------------------------------------------------
 * getAllDomainStats
 */

#define STRATOVIRT_STATS_SUPPORTED \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | \
     VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU | \
     VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

typedef struct {
    virTypedParameterPtr params;
    int nparams;
    int maxparams;
} stratovirtStatsList;


static int G_GNUC_PRINTF(3, 4)
stratovirtStatsAddULL(stratovirtStatsList *l,
                      unsigned long long value,
                      const char *fmt, ...)
{
    g_autofree char *name = NULL;
    va_list ap;

    va_start(ap, fmt);
    name = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return virTypedParamsAddULLong(&l->params, &l->nparams, &l->maxparams,
                                   name, value);
}


static int G_GNUC_PRINTF(3, 4)
stratovirtStatsAddInt(stratovirtStatsList *l,
                      int value,
                      const char *fmt, ...)
{
    g_autofree char *name = NULL;
    va_list ap;

    va_start(ap, fmt);
    name = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return virTypedParamsAddInt(&l->params, &l->nparams, &l->maxparams, name, value);
}


static int G_GNUC_PRINTF(3, 4)
stratovirtStatsAddString(stratovirtStatsList *l,
                         const char *value,
                         const char *fmt, ...)
{
    g_autofree char *name = NULL;
    va_list ap;

    va_start(ap, fmt);
    name = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return virTypedParamsAddString(&l->params, &l->nparams, &l->maxparams, name, value);
}


/* The figures of one domain.  @vm locked; @queried: a query job is held,
 * so StratoVirt can be asked (else its figures are left out). */
static int
stratovirtStatsDomain(virDomainObj *vm,
                      unsigned int stats,
                      bool queried,
                      stratovirtStatsList *l)
{
    bool active = virDomainObjIsActive(vm);
    size_t i;

    if (stats & VIR_DOMAIN_STATS_STATE) {
        int reason;
        int state = virDomainObjGetState(vm, &reason);

        if (stratovirtStatsAddInt(l, state, "state.state") < 0 ||
            stratovirtStatsAddInt(l, reason, "state.reason") < 0)
            return -1;
    }

    if ((stats & VIR_DOMAIN_STATS_CPU_TOTAL) && active && vm->pid > 0) {
        unsigned long long total = 0, user = 0, sys = 0;

        if (virStratoVirtCompatProcessGetCpuTimes(&total, &user, &sys, vm->pid, 0) == 0) {
            if (stratovirtStatsAddULL(l, total, "cpu.time") < 0 ||
                stratovirtStatsAddULL(l, user, "cpu.user") < 0 ||
                stratovirtStatsAddULL(l, sys, "cpu.system") < 0)
                return -1;
        } else {
            virResetLastError();
        }
    }

    if (stats & VIR_DOMAIN_STATS_BALLOON) {
        unsigned long long cur = vm->def->mem.cur_balloon;

        if (active && queried && stratovirtStatsBalloon(vm, &cur) < 0) {
            virResetLastError();
            cur = vm->def->mem.cur_balloon;
        }
        if (stratovirtStatsAddULL(l, cur, "balloon.current") < 0 ||
            stratovirtStatsAddULL(l, virDomainDefGetMemoryTotal(vm->def),
                                  "balloon.maximum") < 0)
            return -1;
        if (active && vm->pid > 0) {
            unsigned long long rss = 0;

            if (virStratoVirtCompatProcessGetStatInfo(NULL, NULL, &rss, vm->pid, 0) == 0) {
                if (stratovirtStatsAddULL(l, rss, "balloon.rss") < 0)
                    return -1;
            } else {
                virResetLastError();
            }
        }
    }

    if (stats & VIR_DOMAIN_STATS_VCPU) {
        g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
        size_t ncpus = 0;

        if (stratovirtStatsAddULL(l, virDomainDefGetVcpus(vm->def), "vcpu.current") < 0 ||
            stratovirtStatsAddULL(l, virDomainDefGetVcpusMax(vm->def), "vcpu.maximum") < 0)
            return -1;
        if (active && queried) {
            if (virStratoVirtDomainQueryVcpuThreads(vm, &cpus, &ncpus) < 0) {
                virResetLastError();
                ncpus = 0;
            }
        }
        for (i = 0; i < ncpus; i++) {
            unsigned long long total = 0;

            if (stratovirtStatsAddInt(l, VIR_VCPU_RUNNING, "vcpu.%zu.state", i) < 0)
                return -1;
            if (cpus[i].tid <= 0)
                continue;
            if (virStratoVirtCompatProcessGetCpuTimes(&total, NULL, NULL,
                                                      vm->pid, cpus[i].tid) < 0) {
                virResetLastError();
                continue;
            }
            if (stratovirtStatsAddULL(l, total, "vcpu.%zu.time", i) < 0)
                return -1;
        }
    }

    if ((stats & VIR_DOMAIN_STATS_INTERFACE) && active) {
        if (stratovirtStatsAddULL(l, vm->def->nnets, "net.count") < 0)
            return -1;
        for (i = 0; i < vm->def->nnets; i++) {
            virDomainNetDef *net = vm->def->nets[i];
            virDomainInterfaceStatsStruct st = { 0 };

            if (net->ifname &&
                stratovirtStatsAddString(l, net->ifname, "net.%zu.name", i) < 0)
                return -1;
            if (virStratoVirtInterfaceGetStats(net, &st) < 0) {
                /* a passed-through VF: the host has no counters for it */
                virResetLastError();
                continue;
            }
            if (stratovirtStatsAddULL(l, st.rx_bytes, "net.%zu.rx.bytes", i) < 0 ||
                stratovirtStatsAddULL(l, st.rx_packets, "net.%zu.rx.pkts", i) < 0 ||
                stratovirtStatsAddULL(l, st.rx_errs, "net.%zu.rx.errs", i) < 0 ||
                stratovirtStatsAddULL(l, st.rx_drop, "net.%zu.rx.drop", i) < 0 ||
                stratovirtStatsAddULL(l, st.tx_bytes, "net.%zu.tx.bytes", i) < 0 ||
                stratovirtStatsAddULL(l, st.tx_packets, "net.%zu.tx.pkts", i) < 0 ||
                stratovirtStatsAddULL(l, st.tx_errs, "net.%zu.tx.errs", i) < 0 ||
                stratovirtStatsAddULL(l, st.tx_drop, "net.%zu.tx.drop", i) < 0)
                return -1;
        }
    }

    if (stats & VIR_DOMAIN_STATS_BLOCK) {
        if (stratovirtStatsAddULL(l, vm->def->ndisks, "block.count") < 0)
            return -1;
        for (i = 0; i < vm->def->ndisks; i++) {
            virDomainDiskDef *disk = vm->def->disks[i];

            if (stratovirtStatsAddString(l, disk->dst, "block.%zu.name", i) < 0)
                return -1;
            if (virStorageSourceIsEmpty(disk->src))
                continue;
            if (disk->src->path &&
                stratovirtStatsAddString(l, disk->src->path, "block.%zu.path", i) < 0)
                return -1;
            /* no rd/wr/fl counters: StratoVirt has none (see the top) */
            if (virStratoVirtStatsDiskSizes(disk) < 0) {
                virResetLastError();
                continue;
            }
            if (stratovirtStatsAddULL(l, disk->src->capacity, "block.%zu.capacity", i) < 0 ||
                stratovirtStatsAddULL(l, disk->src->allocation, "block.%zu.allocation", i) < 0 ||
                stratovirtStatsAddULL(l, disk->src->physical, "block.%zu.physical", i) < 0)
                return -1;
        }
    }
    return 0;
}


int
virStratoVirtConnectGetAllDomainStats(virConnectPtr conn,
                                      virDomainPtr *doms,
                                      unsigned int ndoms,
                                      unsigned int stats,
                                      virDomainStatsRecordPtr **retStats,
                                      unsigned int flags)
{
    virStratoVirtDriver *driver = conn->privateData;
    unsigned int lflags = flags & (VIR_CONNECT_LIST_DOMAINS_FILTERS_ACTIVE |
                                   VIR_CONNECT_LIST_DOMAINS_FILTERS_PERSISTENT |
                                   VIR_CONNECT_LIST_DOMAINS_FILTERS_STATE);
    virDomainObj **vms = NULL;
    size_t nvms = 0;
    virDomainStatsRecordPtr *records = NULL;
    int nrecords = 0;
    int ret = -1;
    size_t i;

    virCheckFlags(VIR_CONNECT_LIST_DOMAINS_FILTERS_ACTIVE |
                  VIR_CONNECT_LIST_DOMAINS_FILTERS_PERSISTENT |
                  VIR_CONNECT_LIST_DOMAINS_FILTERS_STATE |
                  VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT |
                  VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING |
                  VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS, -1);

    if (virConnectGetAllDomainStatsEnsureACL(conn) < 0)
        return -1;

    if (!stats) {
        stats = STRATOVIRT_STATS_SUPPORTED;
    } else if ((flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) &&
               (stats & ~STRATOVIRT_STATS_SUPPORTED)) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("the StratoVirt driver has no statistics of the groups 0x%1$x; it has state, cpu-total, balloon, vcpu, interface and block"),
                       stats & ~STRATOVIRT_STATS_SUPPORTED);
        return -1;
    }

    if (ndoms) {
        if (virDomainObjListConvert(driver->domains, conn, doms, ndoms, &vms, &nvms,
                                    virConnectGetAllDomainStatsCheckACL, lflags, true) < 0)
            return -1;
    } else {
        virDomainObjListCollect(driver->domains, conn, &vms, &nvms,
                                virConnectGetAllDomainStatsCheckACL, lflags);
    }

    records = g_new0(virDomainStatsRecordPtr, nvms + 1);
    for (i = 0; i < nvms; i++) {
        virDomainObj *vm = vms[i];
        stratovirtStatsList l = { 0 };
        bool queried = false;
        int rc;

        virObjectLock(vm);
        /* StratoVirt is asked only under a query job; with NOWAIT a busy
         * domain gives what the host knows */
        if (virDomainObjIsActive(vm) &&
            (stats & (VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU))) {
            if (flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT)
                rc = virDomainObjBeginJobNowait(vm, VIR_JOB_QUERY);
            else
                rc = virDomainObjBeginJob(vm, VIR_JOB_QUERY);
            if (rc == 0)
                queried = true;
            else
                virResetLastError();
        }
        rc = stratovirtStatsDomain(vm, stats, queried, &l);
        if (queried)
            virDomainObjEndJob(vm);
        if (rc < 0) {
            virTypedParamsFree(l.params, l.nparams);
            virObjectUnlock(vm);
            goto cleanup;
        }
        records[nrecords] = g_new0(virDomainStatsRecord, 1);
        if (!(records[nrecords]->dom = virGetDomain(conn, vm->def->name, vm->def->uuid,
                                                    vm->def->id))) {
            virTypedParamsFree(l.params, l.nparams);
            virObjectUnlock(vm);
            goto cleanup;
        }
        records[nrecords]->params = l.params;
        records[nrecords]->nparams = l.nparams;
        nrecords++;
        virObjectUnlock(vm);
    }

    *retStats = g_steal_pointer(&records);
    ret = nrecords;

 cleanup:
    virDomainStatsRecordListFree(records);
    virObjectListFreeCount(vms, nvms);
    return ret;
}


/* ---------------------------------------------------------------------
 * getCPUStats: the whole VMM, or per host CPU from its cgroup
 */

int
virStratoVirtDomainGetCPUStats(virDomainPtr dom,
                               virTypedParameterPtr params,
                               unsigned int nparams,
                               int start_cpu,
                               unsigned int ncpus,
                               unsigned int flags)
{
    virStratoVirtDomainObjPrivate *priv;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_TYPED_PARAM_STRING_OKAY, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    priv = vm->privateData;
    if (virDomainGetCPUStatsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto cleanup;

    if (priv->cgroup && virCgroupHasController(priv->cgroup, VIR_CGROUP_CONTROLLER_CPUACCT)) {
        if (start_cpu == -1)
            ret = virCgroupGetDomainTotalCpuStats(priv->cgroup, params, nparams);
        else
            ret = virCgroupGetPercpuStats(priv->cgroup, params, nparams,
                                          start_cpu, ncpus, NULL);
        goto cleanup;
    }

    if (start_cpu != -1) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("CPU times per host CPU come from the VMM's cgroup (cpuacct), and this domain runs without one (the session daemon, or a host without cgroups); the total is available: virsh cpu-stats --total"));
        goto cleanup;
    }
    if (nparams == 0) {
        ret = 3;
        goto cleanup;
    }
    {
        unsigned long long total = 0, user = 0, sys = 0;
        int n = 0;

        if (virStratoVirtCompatProcessGetCpuTimes(&total, &user, &sys, vm->pid, 0) < 0)
            goto cleanup;
        if (n < nparams &&
            virTypedParameterAssign(&params[n++], VIR_DOMAIN_CPU_STATS_CPUTIME,
                                    VIR_TYPED_PARAM_ULLONG, total) < 0)
            goto cleanup;
        if (n < nparams &&
            virTypedParameterAssign(&params[n++], VIR_DOMAIN_CPU_STATS_USERTIME,
                                    VIR_TYPED_PARAM_ULLONG, user) < 0)
            goto cleanup;
        if (n < nparams &&
            virTypedParameterAssign(&params[n++], VIR_DOMAIN_CPU_STATS_SYSTEMTIME,
                                    VIR_TYPED_PARAM_ULLONG, sys) < 0)
            goto cleanup;
        ret = n;
    }

 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* ---------------------------------------------------------------------
 * Disks: sizes, contents, counters
 */

static virDomainDiskDef *
stratovirtStatsFindDisk(virDomainDef *def,
                        const char *path)
{
    virDomainDiskDef *disk = virDomainDiskByName(def, path, true);

    if (!disk)
        virReportError(VIR_ERR_INVALID_ARG,
                       _("the domain has no disk with target or image '%1$s'"), path);
    return disk;
}


int
virStratoVirtDomainGetBlockInfo(virDomainPtr dom,
                                const char *path,
                                virDomainBlockInfoPtr info,
                                unsigned int flags)
{
    virDomainObj *vm;
    virDomainDiskDef *disk;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetBlockInfoEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!(disk = stratovirtStatsFindDisk(vm->def, path)))
        goto cleanup;
    if (virStratoVirtStatsDiskSizes(disk) < 0)
        goto cleanup;
    info->capacity = disk->src->capacity;
    info->allocation = disk->src->allocation;
    info->physical = disk->src->physical;
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


int
virStratoVirtDomainBlockPeek(virDomainPtr dom,
                             const char *path,
                             unsigned long long offset,
                             size_t size,
                             void *buffer,
                             unsigned int flags)
{
    virDomainObj *vm;
    virDomainDiskDef *disk;
    VIR_AUTOCLOSE fd = -1;
    ssize_t got;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainBlockPeekEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!(disk = stratovirtStatsFindDisk(vm->def, path)))
        goto cleanup;
    if (virStorageSourceIsEmpty(disk->src) ||
        !virStorageSourceIsLocalStorage(disk->src) || !disk->src->path) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s' is not a local file or block device that can be read"),
                       disk->dst);
        goto cleanup;
    }
    if (disk->src->format != VIR_STORAGE_FILE_NONE &&
        disk->src->format != VIR_STORAGE_FILE_RAW) {
        /* as libvirt's QEMU driver: the bytes the guest sees, or nothing */
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("disk '%1$s' is a %2$s image: only raw images can be peeked at, as the guest's bytes are not the file's"),
                       disk->dst, virStorageFileFormatTypeToString(disk->src->format));
        goto cleanup;
    }
    if ((fd = open(disk->src->path, O_RDONLY | O_CLOEXEC)) < 0) {
        virReportSystemError(errno, _("cannot open the image '%1$s' of disk '%2$s'"),
                             disk->src->path, disk->dst);
        goto cleanup;
    }
    if ((got = pread(fd, buffer, size, offset)) < 0) {
        virReportSystemError(errno, _("cannot read the image '%1$s'"), disk->src->path);
        goto cleanup;
    }
    if ((size_t) got < size) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("disk '%1$s' ends before offset %2$llu plus %3$zu bytes"),
                       disk->dst, offset, size);
        goto cleanup;
    }
    ret = 0;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


int
virStratoVirtDomainBlockStats(virDomainPtr dom,
                              const char *path,
                              virDomainBlockStatsPtr stats G_GNUC_UNUSED)
{
    virDomainObj *vm;
    int ret = -1;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainBlockStatsEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (virDomainObjCheckActive(vm) < 0)
        goto cleanup;
    if (*path && !stratovirtStatsFindDisk(vm->def, path))
        goto cleanup;
    virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                   _("StratoVirt keeps no I/O counters per disk (its query-blockstats answers an empty list); the sizes are in 'virsh domblkinfo' and 'virsh domstats --block'"));
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}
