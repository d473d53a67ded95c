/*
 * stratovirt_tuning.c: memory and vCPU settings of a domain: maximum and
 * current memory, the vCPU count, vCPU and emulator pinning
 *
 * Pinning is the affinity (sched_setaffinity) of StratoVirt's threads: a
 * vCPU's thread is the one query-cpus names, the emulator is every other
 * thread of the VMM.  It is applied at start and by vcpupin/emulatorpin on
 * a running domain; where the VMM has a cgroup with the cpuset controller
 * (process start's virCgroupNewMachine), its cpuset.cpus is the union of
 * the pinnings, so no thread of the VMM can leave them.  StratoVirt has no memory hot-plug, and this driver no
 * vCPU hot-plug, so the maximum memory and the vCPU count change in the
 * definition only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain.h"
#include "stratovirt_monitor.h"
#include "stratovirt_tuning.h"
#include "datatypes.h"
#include "viraccessapicheck.h"
#include "viralloc.h"
#include "virbitmap.h"
#include "vircgroup.h"
#include "virerror.h"
#include "virevent.h"
#include "virhostcpu.h"
#include "virlog.h"
#include "virprocess.h"
#include "virthread.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_tuning");



static pid_t
stratovirtTuningVcpuTid(virDomainObj *vm,
                        virStratoVirtMonitorCpuInfo *cpus,
                        size_t ncpus,
                        unsigned int vcpu)
{
    if (vcpu >= ncpus || cpus[vcpu].tid <= 0 || cpus[vcpu].tid == vm->pid) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("StratoVirt did not name the thread of vCPU %1$u (query-cpus), so it cannot be pinned"),
                       vcpu);
        return -1;
    }
    return cpus[vcpu].tid;
}


/* Every thread of the VMM that is not a vCPU gets @map */
static int
stratovirtTuningPinEmulator(virDomainObj *vm,
                            virStratoVirtMonitorCpuInfo *cpus,
                            size_t ncpus,
                            virBitmap *map)
{
    g_autofree pid_t *tids = NULL;
    size_t ntids = 0;
    size_t i;
    size_t j;

    if (virProcessGetPids(vm->pid, &ntids, &tids) < 0)
        return -1;
    for (i = 0; i < ntids; i++) {
        for (j = 0; j < ncpus; j++) {
            if (cpus[j].tid == tids[i] && tids[i] != vm->pid)
                break;
        }
        if (j < ncpus)
            continue;
        /* a thread may have ended meanwhile */
        if (virProcessSetAffinity(tids[i], map, tids[i] != vm->pid) < 0)
            return -1;
    }
    return 0;
}


/* The host CPUs the VMM's threads may use at all, as its cgroup's cpuset:
 * every vCPU's and the emulator's pinning together (each thread's own
 * affinity is narrower); all host CPUs when something is not pinned */
static virBitmap *
stratovirtTuningCpusetOf(virDomainDef *def)
{
    g_autoptr(virBitmap) all = NULL;
    virBitmap *emulator = def->cputune.emulatorpin ? def->cputune.emulatorpin : def->cpumask;
    size_t i;

    if (!emulator)
        return NULL;
    all = virBitmapNewCopy(emulator);
    for (i = 0; i < virDomainDefGetVcpusMax(def); i++) {
        virDomainVcpuDef *vcpu = virDomainDefGetVcpu(def, i);
        virBitmap *map = vcpu && vcpu->cpumask ? vcpu->cpumask : def->cpumask;

        if (!map)
            return NULL;
        virBitmapUnion(all, map);
    }
    return g_steal_pointer(&all);
}


/* The VMM's cgroup (issue 9's, where the host has cgroups and the cpuset
 * controller) gets the pinning of @def as its cpuset.cpus; without a
 * cgroup the threads' affinity alone applies */
static int
stratovirtTuningSetCgroupCpuset(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virBitmap) cpuset = NULL;
    g_autofree char *str = NULL;

    if (!priv->cgroup ||
        !virCgroupHasController(priv->cgroup, VIR_CGROUP_CONTROLLER_CPUSET)) {
        VIR_DEBUG("domain %s: no cpuset cgroup, thread affinity only", vm->def->name);
        return 0;
    }
    if (!(cpuset = stratovirtTuningCpusetOf(vm->def)) &&
        !(cpuset = virHostCPUGetAvailableCPUsBitmap()))
        return -1;
    if (!(str = virBitmapFormat(cpuset)))
        return -1;
    VIR_DEBUG("domain %s: cpuset.cpus %s", vm->def->name, str);
    return virCgroupSetCpusetCpus(priv->cgroup, str);
}


/**
 * virStratoVirtTuningApply:
 *
 * At start, once QMP is up: the <vcpupin>, <emulatorpin> and <vcpu
 * cpuset> of the definition.  Job held (or the start's lock).
 */
int
virStratoVirtTuningApply(virDomainObj *vm)
{
    g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
    virBitmap *emulator = vm->def->cputune.emulatorpin ? vm->def->cputune.emulatorpin :
                          vm->def->cpumask;
    size_t ncpus = 0;
    size_t i;
    bool any = !!emulator;

    for (i = 0; i < virDomainDefGetVcpusMax(vm->def) && !any; i++) {
        virDomainVcpuDef *vcpu = virDomainDefGetVcpu(vm->def, i);

        any = vcpu && vcpu->cpumask;
    }
    if (!any)
        return 0;

    if (virStratoVirtDomainQueryVcpuThreads(vm, &cpus, &ncpus) < 0)
        return -1;
    if (emulator && stratovirtTuningPinEmulator(vm, cpus, ncpus, emulator) < 0)
        return -1;
    for (i = 0; i < virDomainDefGetVcpusMax(vm->def); i++) {
        virDomainVcpuDef *vcpu = virDomainDefGetVcpu(vm->def, i);
        virBitmap *map = vcpu && vcpu->cpumask ? vcpu->cpumask : vm->def->cpumask;
        pid_t tid;

        if (!map)
            continue;
        if ((tid = stratovirtTuningVcpuTid(vm, cpus, ncpus, i)) < 0 ||
            virProcessSetAffinity(tid, map, false) < 0)
            return -1;
    }
    return stratovirtTuningSetCgroupCpuset(vm);
}


static virBitmap *
stratovirtTuningMap(unsigned char *cpumap,
                    int maplen)
{
    g_autoptr(virBitmap) map = virBitmapNewData(cpumap, maplen);
    g_autoptr(virBitmap) online = virHostCPUGetOnlineBitmap();

    if (!map)
        return NULL;
    if (virBitmapIsAllClear(map)) {
        virReportError(VIR_ERR_INVALID_ARG, "%s",
                       _("the CPU list is empty: give at least one host CPU"));
        return NULL;
    }
    if (online) {
        ssize_t pos = -1;

        while ((pos = virBitmapNextSetBit(map, pos)) >= 0) {
            if (!virBitmapIsBitSet(online, pos)) {
                virReportError(VIR_ERR_INVALID_ARG,
                               _("host CPU %1$zd is not online; virsh nodecpumap shows the online CPUs"),
                               pos);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&map);
}


typedef struct {
    /* the pinning of @vcpu (-1: the emulator's) in @def */
    virBitmap **(*slot)(virDomainDef *def, int vcpu);
    /* sets the affinity of the VMM's threads; job held, @vm active */
    int (*live)(virDomainObj *vm, int vcpu, virBitmap *map);
} stratovirtTuningPinKind;


static virBitmap **
stratovirtTuningVcpuSlot(virDomainDef *def,
                         int vcpu)
{
    virDomainVcpuDef *info = virDomainDefGetVcpu(def, vcpu);

    return info ? &info->cpumask : NULL;
}


static int
stratovirtTuningVcpuLive(virDomainObj *vm,
                         int vcpu,
                         virBitmap *map)
{
    g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
    size_t ncpus = 0;
    pid_t tid;

    if (virStratoVirtDomainQueryVcpuThreads(vm, &cpus, &ncpus) < 0 ||
        (tid = stratovirtTuningVcpuTid(vm, cpus, ncpus, vcpu)) < 0)
        return -1;
    return virProcessSetAffinity(tid, map, false);
}


static virBitmap **
stratovirtTuningEmulatorSlot(virDomainDef *def,
                             int vcpu G_GNUC_UNUSED)
{
    return &def->cputune.emulatorpin;
}


static int
stratovirtTuningEmulatorLive(virDomainObj *vm,
                             int vcpu G_GNUC_UNUSED,
                             virBitmap *map)
{
    g_autofree virStratoVirtMonitorCpuInfo *cpus = NULL;
    size_t ncpus = 0;

    if (virStratoVirtDomainQueryVcpuThreads(vm, &cpus, &ncpus) < 0)
        return -1;
    return stratovirtTuningPinEmulator(vm, cpus, ncpus, map);
}


static const stratovirtTuningPinKind stratovirtTuningPinVcpu = {
    .slot = stratovirtTuningVcpuSlot,
    .live = stratovirtTuningVcpuLive,
};

static const stratovirtTuningPinKind stratovirtTuningPinEmulatorKind = {
    .slot = stratovirtTuningEmulatorSlot,
    .live = stratovirtTuningEmulatorLive,
};


/* vcpupin and emulatorpin: the threads (and the cgroup's cpuset) of the
 * running VMM for --live, the definition for --config, each saved.
 * Called with @vm locked, its ACL checked; ends the API. */
static int
stratovirtTuningPin(virDomainObj *vm,
                    virStratoVirtDriver *driver,
                    const stratovirtTuningPinKind *kind,
                    int vcpu,
                    unsigned char *cpumap,
                    int maplen,
                    unsigned int flags)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virBitmap) map = NULL;
    virDomainDef *def = NULL;
    virDomainDef *persistentDef = NULL;
    virBitmap **slot;
    int ret = -1;

    if (!(map = stratovirtTuningMap(cpumap, maplen)))
        goto cleanup;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjGetDefs(vm, flags, &def, &persistentDef) < 0)
        goto endjob;

    if ((def && !kind->slot(def, vcpu)) ||
        (persistentDef && !kind->slot(persistentDef, vcpu))) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("the domain has no vCPU %1$d"), vcpu);
        goto endjob;
    }

    if (def) {
        g_autoptr(virBitmap) old = NULL;

        if (kind->live(vm, vcpu, map) < 0)
            goto endjob;
        slot = kind->slot(def, vcpu);
        old = g_steal_pointer(slot);
        *slot = virBitmapNewCopy(map);
        if (stratovirtTuningSetCgroupCpuset(vm) < 0) {
            /* the definition keeps what the VMM has */
            virBitmapFree(*slot);
            *slot = g_steal_pointer(&old);
            goto endjob;
        }
        if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
            goto endjob;
    }
    if (persistentDef) {
        slot = kind->slot(persistentDef, vcpu);
        virBitmapFree(*slot);
        *slot = virBitmapNewCopy(map);
        if (virDomainDefSave(persistentDef, driver->xmlopt, cfg->configBaseDir) < 0)
            goto endjob;
    }
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


int
virStratoVirtDomainPinVcpuFlags(virDomainPtr dom,
                                unsigned int vcpu,
                                unsigned char *cpumap,
                                int maplen,
                                unsigned int flags)
{
    virDomainObj *vm;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainPinVcpuFlagsEnsureACL(dom->conn, vm->def, flags) < 0) {
        virDomainObjEndAPI(&vm);
        return -1;
    }
    if (vcpu > INT_MAX) {
        virReportError(VIR_ERR_INVALID_ARG, _("the domain has no vCPU %1$u"), vcpu);
        virDomainObjEndAPI(&vm);
        return -1;
    }
    return stratovirtTuningPin(vm, dom->conn->privateData, &stratovirtTuningPinVcpu,
                               vcpu, cpumap, maplen, flags);
}


int
virStratoVirtDomainGetVcpuPinInfo(virDomainPtr dom,
                                  int ncpumaps,
                                  unsigned char *cpumaps,
                                  int maplen,
                                  unsigned int flags)
{
    virDomainObj *vm;
    virDomainDef *def;
    g_autoptr(virBitmap) hostcpus = NULL;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetVcpuPinInfoEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!(def = virDomainObjGetOneDef(vm, flags)))
        goto cleanup;
    if (!(hostcpus = virHostCPUGetAvailableCPUsBitmap()))
        goto cleanup;
    ret = virDomainDefGetVcpuPinInfoHelper(def, maplen, ncpumaps, cpumaps,
                                           hostcpus, NULL);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


int
virStratoVirtDomainPinEmulator(virDomainPtr dom,
                               unsigned char *cpumap,
                               int maplen,
                               unsigned int flags)
{
    virDomainObj *vm;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainPinEmulatorEnsureACL(dom->conn, vm->def, flags) < 0) {
        virDomainObjEndAPI(&vm);
        return -1;
    }
    return stratovirtTuningPin(vm, dom->conn->privateData, &stratovirtTuningPinEmulatorKind,
                               -1, cpumap, maplen, flags);
}


int
virStratoVirtDomainGetEmulatorPinInfo(virDomainPtr dom,
                                      unsigned char *cpumaps,
                                      int maplen,
                                      unsigned int flags)
{
    virDomainObj *vm;
    virDomainDef *def;
    g_autoptr(virBitmap) hostcpus = NULL;
    virBitmap *map;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainGetEmulatorPinInfoEnsureACL(dom->conn, vm->def) < 0)
        goto cleanup;
    if (!(def = virDomainObjGetOneDef(vm, flags)))
        goto cleanup;
    if (!(hostcpus = virHostCPUGetAvailableCPUsBitmap()))
        goto cleanup;
    map = def->cputune.emulatorpin ? def->cputune.emulatorpin :
          def->cpumask ? def->cpumask : hostcpus;
    memset(cpumaps, 0, maplen);
    virBitmapToDataBuf(map, cpumaps, maplen);
    ret = 1;
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* ---------------------------------------------------------------------
 * vCPU count
 */

int
virStratoVirtConnectGetMaxVcpus(virConnectPtr conn,
                                const char *type)
{
    if (virConnectGetMaxVcpusEnsureACL(conn) < 0)
        return -1;
    if (type && STRCASENEQ(type, "kvm") && STRCASENEQ(type, "stratovirt")) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("unknown domain type '%1$s': StratoVirt runs type 'kvm'"), type);
        return -1;
    }
    return VIR_STRATOVIRT_MAX_VCPUS;
}


int
virStratoVirtDomainSetVcpusFlags(virDomainPtr dom,
                                 unsigned int nvcpus,
                                 unsigned int flags)
{
    virStratoVirtDriver *driver = dom->conn->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    virDomainDef *def = NULL;
    virDomainDef *persistentDef = NULL;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG |
                  VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_GUEST |
                  VIR_DOMAIN_VCPU_HOTPLUGGABLE, -1);

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainSetVcpusFlagsEnsureACL(dom->conn, vm->def, flags) < 0)
        goto cleanup;
    if (flags & VIR_DOMAIN_VCPU_GUEST) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("setting the vCPUs the guest uses (--guest) needs the guest agent"));
        goto cleanup;
    }
    if (nvcpus < 1 || nvcpus > VIR_STRATOVIRT_MAX_VCPUS) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("%1$u vCPUs: StratoVirt runs 1 to %2$d"),
                       nvcpus, VIR_STRATOVIRT_MAX_VCPUS);
        goto cleanup;
    }
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0)
        goto cleanup;
    if (virDomainObjGetDefs(vm, flags, &def, &persistentDef) < 0)
        goto endjob;

    if (def) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("the vCPUs of a running StratoVirt domain cannot be changed: StratoVirt 2.4 and 2.5 stop answering QMP after a vCPU hot-plug (generic-x86-cpu), so this driver does not do it; use setvcpus --config and restart the domain"));
        goto endjob;
    }

    /* StratoVirt starts every vCPU it is given (-smp cpus=): the count
     * and the maximum are one number */
    if (persistentDef->cpu && persistentDef->cpu->sockets) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("the definition gives a CPU topology (sockets * cores * threads = %1$u); change it and the vCPU count together with 'virsh edit'"),
                       virDomainDefGetVcpusMax(persistentDef));
        goto endjob;
    }
    if (virDomainDefSetVcpusMax(persistentDef, nvcpus, driver->xmlopt) < 0 ||
        virDomainDefSetVcpus(persistentDef, nvcpus) < 0)
        goto endjob;
    if (virDomainDefSave(persistentDef, driver->xmlopt, cfg->configBaseDir) < 0)
        goto endjob;
    ret = 0;

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
    return ret;
}


/* ---------------------------------------------------------------------
 * Memory
 */

int
virStratoVirtDomainSetMemoryConfig(virStratoVirtDriver *driver,
                                   virDomainDef *persistentDef,
                                   unsigned long newmem,
                                   bool maximum)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    bool balloon = persistentDef->memballoon &&
                   persistentDef->memballoon->model == VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO;

    if (maximum) {
        if (newmem < 128 * 1024 || newmem % 1024) {
            virReportError(VIR_ERR_INVALID_ARG,
                           _("%1$lu KiB: StratoVirt takes whole MiB, at least 128 MiB"),
                           newmem);
            return -1;
        }
        virDomainDefSetMemoryTotal(persistentDef, newmem);
        if (persistentDef->mem.cur_balloon > newmem || !balloon)
            persistentDef->mem.cur_balloon = newmem;
    } else {
        if (newmem > virDomainDefGetMemoryTotal(persistentDef)) {
            virReportError(VIR_ERR_INVALID_ARG, "%s",
                           _("cannot set memory higher than the maximum memory; raise it first with setmaxmem --config"));
            return -1;
        }
        if (!balloon && newmem != virDomainDefGetMemoryTotal(persistentDef)) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                           _("the domain has no virtio memballoon, so StratoVirt gives the guest all of its memory; change the maximum with setmaxmem --config, or add <memballoon model='virtio'/>"));
            return -1;
        }
        persistentDef->mem.cur_balloon = newmem;
    }
    return virDomainDefSave(persistentDef, driver->xmlopt, cfg->configBaseDir);
}


/* ---------------------------------------------------------------------
 * The balloon's target
 *
 * StratoVirt (2.1.0 to 2.5.0, virtio/src/device/balloon.rs) answers
 * 'balloon' with DeviceNotActive until the guest's virtio-balloon driver
 * has activated the device, and it has no event for the activation.  A
 * target it cannot take yet is kept as pending (status XML: a restarted
 * daemon keeps it) and asked again on a timer of the event loop, with
 * back-off, each attempt a short job of its own thread; meanwhile the live
 * definition's current memory is what the VMM reports (all of it until
 * the guest balloons), as the QEMU driver's is.
 *
 * Each refused attempt is one ERROR line in the domain's log (StratoVirt's
 * own), so the back-off bounds the log of a guest that has no balloon
 * driver: at most 5 s apart during the first minute (a guest that boots
 * and loads virtio-balloon within it gets its target at most 5 s late),
 * then twice as late each time from 10 s up to 10 minutes: 26 attempts in
 * the first hour, 6 an hour after it.
 */

#define STRATOVIRT_BALLOON_RETRY_FIRST_MS 500
#define STRATOVIRT_BALLOON_RETRY_FAST_MAX_MS 5000
#define STRATOVIRT_BALLOON_RETRY_FAST_FOR_MS 60000
#define STRATOVIRT_BALLOON_RETRY_SLOW_MIN_MS 10000
#define STRATOVIRT_BALLOON_RETRY_MAX_MS (10 * 60 * 1000)


/**
 * virStratoVirtBalloonRetryDelay:
 * @prevMs: the delay before the attempt just refused, 0 for the first
 * @pendingMs: how long the target has been pending
 *
 * The delay before the next attempt (the schedule above).
 */
unsigned int
virStratoVirtBalloonRetryDelay(unsigned int prevMs,
                               unsigned long long pendingMs)
{
    if (!prevMs)
        return STRATOVIRT_BALLOON_RETRY_FIRST_MS;
    if (pendingMs < STRATOVIRT_BALLOON_RETRY_FAST_FOR_MS)
        return MIN(prevMs * 2, STRATOVIRT_BALLOON_RETRY_FAST_MAX_MS);
    return MIN(MAX(prevMs * 2, STRATOVIRT_BALLOON_RETRY_SLOW_MIN_MS),
               STRATOVIRT_BALLOON_RETRY_MAX_MS);
}

static void stratovirtBalloonArm(virDomainObj *vm, bool first);


static void
stratovirtBalloonRetry(void *opaque)
{
    virDomainObj *vm = opaque;
    virStratoVirtDomainObjPrivate *priv;
    virStratoVirtMonitor *mon;
    unsigned long long target;
    int rc;

    virObjectLock(vm);
    priv = vm->privateData;
    if (virDomainObjBeginJob(vm, VIR_JOB_MODIFY) < 0) {
        /* a job held too long: ask again later */
        VIR_DEBUG("domain %s: balloon retry postponed: %s",
                  vm->def->name, virGetLastErrorMessage());
        virResetLastError();
        if (priv->balloonPending)
            stratovirtBalloonArm(vm, false);
        goto cleanup;
    }
    if (!virDomainObjIsActive(vm) || !priv->balloonPending || !priv->mon ||
        g_atomic_int_get(&priv->driver->shuttingDown))
        goto endjob;
    target = priv->balloonPending;
    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        goto endjob;
    rc = virStratoVirtMonitorSetBalloon(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                        target * 1024);
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (!virDomainObjIsActive(vm) || priv->balloonPending != target)
        goto endjob;
    if (rc == 1) {
        stratovirtBalloonArm(vm, false);
        goto endjob;
    }
    if (rc < 0)
        VIR_WARN("domain %s: StratoVirt refused the pending balloon target of %llu KiB: %s",
                 vm->def->name, target, virGetLastErrorMessage());
    else
        VIR_DEBUG("domain %s: pending balloon target of %llu KiB taken",
                  vm->def->name, target);
    if (rc == 0)
        vm->def->mem.cur_balloon = target;
    virResetLastError();
    virStratoVirtBalloonStop(vm);
    {
        g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(priv->driver);

        if (virDomainObjSave(vm, priv->driver->xmlopt, cfg->stateDir) < 0) {
            VIR_WARN("domain %s: cannot save its status: %s",
                     vm->def->name, virGetLastErrorMessage());
            virResetLastError();
        }
    }

 endjob:
    virDomainObjEndJob(vm);
 cleanup:
    virDomainObjEndAPI(&vm);
}


/* (on the event loop) */
static void
stratovirtBalloonTimer(int timer,
                       void *opaque)
{
    virDomainObj *vm = opaque;
    virStratoVirtDriver *driver = STRATOVIRT_DOMAIN_PRIVATE(vm)->driver;
    int rc;

    /* one attempt at a time: the attempt arms the timer again */
    virEventUpdateTimeout(timer, -1);
    /* a daemon that stops asks no more: the pending target is in the
     * status XML, and the next daemon asks again */
    if (g_atomic_int_get(&driver->shuttingDown))
        return;
    virObjectRef(vm);
    /* (a driver thread: the daemon's stop waits for it) */
    if ((rc = virStratoVirtDriverThreadCreate(driver, "stratovirt-balloon",
                                              stratovirtBalloonRetry, vm)) != 0) {
        if (rc < 0)
            VIR_WARN("cannot start a thread to set the balloon of domain '%s': %s",
                     vm->def->name, virGetLastErrorMessage());
        virObjectUnref(vm);
        virResetLastError();
    }
}


static void
stratovirtBalloonTimerFree(void *opaque)
{
    virObjectUnref(opaque);
}


/* @vm locked, a pending target set: the next attempt, sooner the first
 * time (a new target, or one found at a daemon restart), then later each
 * time (virStratoVirtBalloonRetryDelay) */
static void
stratovirtBalloonArm(virDomainObj *vm,
                     bool first)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    unsigned long long now = g_get_monotonic_time() / 1000;

    if (first || !priv->balloonRetryMs) {
        priv->balloonRetryMs = 0;
        priv->balloonPendingSince = now;
    }
    priv->balloonRetryMs = virStratoVirtBalloonRetryDelay(priv->balloonRetryMs,
                                                          now - priv->balloonPendingSince);
    VIR_DEBUG("domain %s: balloon target asked again in %u ms",
              vm->def->name, priv->balloonRetryMs);
    if (priv->balloonTimer >= 0) {
        virEventUpdateTimeout(priv->balloonTimer, priv->balloonRetryMs);
        return;
    }
    virObjectRef(vm);
    if ((priv->balloonTimer = virEventAddTimeout(priv->balloonRetryMs,
                                                 stratovirtBalloonTimer, vm,
                                                 stratovirtBalloonTimerFree)) < 0) {
        virObjectUnref(vm);
        VIR_WARN("domain %s: cannot start the balloon timer; the pending target of %llu KiB waits for the next setmem",
                 vm->def->name, priv->balloonPending);
        virResetLastError();
    }
}


/**
 * virStratoVirtBalloonSet:
 * @vm: locked, active, a virtio memballoon in its definition, job held
 * @kib: the guest's new memory
 *
 * Asks StratoVirt; a device the guest has not activated yet keeps @kib as
 * pending (not an error) and the live current memory is what the VMM
 * reports.  Status not saved.  Returns 0 (taken or pending) or -1 with
 * StratoVirt's refusal reported.
 */
int
virStratoVirtBalloonSet(virDomainObj *vm,
                        unsigned long long kib)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtMonitor *mon;
    unsigned long long actual = 0;
    int qrc = -1;
    int rc;

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        return -1;
    rc = virStratoVirtMonitorSetBalloon(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                        kib * 1024);
    if (rc == 1 &&
        (qrc = virStratoVirtMonitorQueryBalloon(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                                &actual)) < 0)
        virResetLastError();
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc < 0)
        return -1;
    if (!virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the domain stopped while its balloon was being set"));
        return -1;
    }
    if (rc == 0) {
        virStratoVirtBalloonStop(vm);
        vm->def->mem.cur_balloon = kib;
        return 0;
    }
    VIR_DEBUG("domain %s: balloon not active yet, %llu KiB pending",
              vm->def->name, kib);
    priv->balloonPending = kib;
    if (qrc == 0)
        vm->def->mem.cur_balloon = actual / 1024;
    stratovirtBalloonArm(vm, true);
    return 0;
}


/* @vm locked: a pending target found in the status XML is asked for
 * again (daemon restart) */
void
virStratoVirtBalloonResume(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (priv->balloonPending && virDomainObjIsActive(vm))
        stratovirtBalloonArm(vm, true);
}


/* @vm locked: no pending target any more, no timer */
void
virStratoVirtBalloonStop(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    priv->balloonPending = 0;
    priv->balloonRetryMs = 0;
    priv->balloonPendingSince = 0;
    if (priv->balloonTimer >= 0) {
        virEventRemoveTimeout(priv->balloonTimer);
        priv->balloonTimer = -1;
    }
}
