/*
 * stratovirt_conf.c: StratoVirt driver configuration and capabilities
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "configmake.h"
#include "stratovirt_compat.h"
#include "stratovirt_conf.h"
#include "stratovirt_firmware.h"
#include "stratovirt-config.h"
#include "viralloc.h"
#include "virarch.h"
#include "vircommand.h"
#include "virconf.h"
#include "vircgroup.h"
#include "virerror.h"
#include "virfile.h"
#include "virfilecache.h"
#include "virlog.h"
#include "virstring.h"
#include "virutil.h"
#include "virtime.h"
#include "virxml.h"
#include "cpu/cpu.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_conf");

G_DEFINE_TYPE(virStratoVirtDriverConfig, vir_stratovirt_driver_config, G_TYPE_OBJECT);


static void
vir_stratovirt_driver_config_finalize(GObject *obj)
{
    virStratoVirtDriverConfig *cfg = VIR_STRATOVIRT_DRIVER_CONFIG(obj);

    g_free(cfg->configFile);
    g_free(cfg->emulator);
    g_free(cfg->configBaseDir);
    g_free(cfg->autostartDir);
    g_free(cfg->stateDir);
    g_free(cfg->logDir);
    g_free(cfg->libDir);
    g_free(cfg->cacheDir);
    g_free(cfg->nvramDir);
    g_strfreev(cfg->firmwareDirs);
    g_free(cfg->userName);
    g_free(cfg->groupName);
    g_free(cfg->cgroupPartition);
    g_strfreev(cfg->features);
    g_free(cfg->logLevel);
    g_strfreev(cfg->envPass);

    G_OBJECT_CLASS(vir_stratovirt_driver_config_parent_class)->finalize(obj);
}


static void
vir_stratovirt_driver_config_init(virStratoVirtDriverConfig *cfg G_GNUC_UNUSED)
{
}


static void
vir_stratovirt_driver_config_class_init(virStratoVirtDriverConfigClass *klass)
{
    GObjectClass *obj = G_OBJECT_CLASS(klass);

    obj->finalize = vir_stratovirt_driver_config_finalize;
}


/**
 * virStratoVirtDriverConfigNew:
 * @privileged: whether this is the system (root) instance
 *
 * Returns the built-in defaults; the configuration file is applied on top
 * by virStratoVirtDriverConfigLoadFile.
 */
virStratoVirtDriverConfig *
virStratoVirtDriverConfigNew(bool privileged)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = NULL;

    cfg = g_object_new(VIR_TYPE_STRATOVIRT_DRIVER_CONFIG, NULL);

    cfg->emulator = g_strdup(STRATOVIRT_DEFAULT_EMULATOR);
    cfg->qmpTimeout = 30;
    cfg->shutdownTimeout = 0;
    cfg->vfioMemlock = true;
    cfg->cgroupControllers = -1;
    cfg->cgroupPartition = g_strdup("/machine");
    cfg->logLevel = g_strdup("warn");

    if (privileged) {
        cfg->configFile = g_strdup(SYSCONFDIR "/libvirt/stratovirt.conf");
        cfg->configBaseDir = g_strdup(SYSCONFDIR "/libvirt/stratovirt");
        cfg->stateDir = g_strdup(RUNSTATEDIR "/libvirt/stratovirt");
        cfg->logDir = g_strdup(LOCALSTATEDIR "/log/libvirt/stratovirt");
        cfg->libDir = g_strdup(LOCALSTATEDIR "/lib/libvirt/stratovirt");
        cfg->cacheDir = g_strdup(LOCALSTATEDIR "/cache/libvirt/stratovirt");
        cfg->userName = g_strdup("root");
        cfg->groupName = g_strdup("root");
        cfg->user = 0;
        cfg->group = 0;
    } else {
        g_autofree char *configdir = virGetUserConfigDirectory();
        g_autofree char *rundir = virGetUserRuntimeDirectory();
        g_autofree char *cachedir = virGetUserCacheDirectory();

        cfg->configFile = g_strdup_printf("%s/stratovirt.conf", configdir);
        cfg->configBaseDir = g_strdup_printf("%s/stratovirt", configdir);
        cfg->stateDir = g_strdup_printf("%s/stratovirt/run", rundir);
        cfg->logDir = g_strdup_printf("%s/stratovirt/log", cachedir);
        cfg->libDir = g_strdup_printf("%s/stratovirt/lib", cachedir);
        cfg->cacheDir = g_strdup_printf("%s/stratovirt/cache", cachedir);
        cfg->user = geteuid();
        cfg->group = getegid();
    }
    cfg->autostartDir = g_strdup_printf("%s/autostart", cfg->configBaseDir);
    cfg->nvramDir = g_strdup_printf("%s/nvram", cfg->libDir);
    cfg->firmwareDirs = virStratoVirtFirmwareDefaultDirs(privileged);

    return g_steal_pointer(&cfg);
}


static int
stratovirtConfigGetDir(virConf *conf,
                       const char *key,
                       char **dir)
{
    g_autofree char *val = NULL;
    int rc;

    if ((rc = virConfGetValueString(conf, key, &val)) <= 0)
        return rc;

    if (!g_path_is_absolute(val)) {
        virReportError(VIR_ERR_CONF_SYNTAX,
                       _("'%1$s' in the StratoVirt driver configuration must be an absolute path, not '%2$s'"),
                       key, val);
        return -1;
    }
    g_free(*dir);
    *dir = g_steal_pointer(&val);
    return 1;
}


/* cgroup_controllers (as in qemu.conf) and cgroup_partition */
static int
stratovirtConfigGetCgroups(virConf *conf,
                           virStratoVirtDriverConfig *cfg,
                           const char *filename)
{
    g_auto(GStrv) controllers = NULL;
    g_autofree char *partition = NULL;
    int rc;
    size_t i;

    if ((rc = virConfGetValueStringList(conf, "cgroup_controllers", false,
                                        &controllers)) < 0)
        return -1;
    if (rc > 0) {
        cfg->cgroupControllers = 0;
        for (i = 0; controllers && controllers[i]; i++) {
            int ctl = virCgroupControllerTypeFromString(controllers[i]);

            if (ctl < 0) {
                virReportError(VIR_ERR_CONF_SYNTAX,
                               _("'cgroup_controllers' in %1$s names '%2$s', which is not a cgroup controller"),
                               filename, controllers[i]);
                return -1;
            }
            cfg->cgroupControllers |= 1 << ctl;
        }
    }

    if ((rc = virConfGetValueString(conf, "cgroup_partition", &partition)) < 0)
        return -1;
    if (rc > 0) {
        if (!g_path_is_absolute(partition) || strstr(partition, "..")) {
            virReportError(VIR_ERR_CONF_SYNTAX,
                           _("'cgroup_partition' in %1$s must be an absolute cgroup path such as '/machine', not '%2$s'"),
                           filename, partition);
            return -1;
        }
        g_free(cfg->cgroupPartition);
        cfg->cgroupPartition = g_steal_pointer(&partition);
    }
    return 0;
}


/**
 * virStratoVirtDriverConfigLoadFile:
 * @cfg: configuration holding the defaults
 * @filename: stratovirt.conf to read; a missing file keeps the defaults
 *
 * Returns 0 on success, -1 with an error reported.
 */
int
virStratoVirtDriverConfigLoadFile(virStratoVirtDriverConfig *cfg,
                                  const char *filename)
{
    g_autoptr(virConf) conf = NULL;
    g_autofree char *user = NULL;
    g_autofree char *group = NULL;

    if (!virFileExists(filename)) {
        VIR_DEBUG("No StratoVirt driver configuration at %s, using defaults",
                  filename);
        return 0;
    }

    if (!(conf = virConfReadFile(filename, 0)))
        return -1;

    if (virConfGetValueString(conf, "stratovirt_binary", &cfg->emulator) < 0)
        return -1;
    if (!g_path_is_absolute(cfg->emulator)) {
        virReportError(VIR_ERR_CONF_SYNTAX,
                       _("'stratovirt_binary' in %1$s must be an absolute path, not '%2$s'"),
                       filename, cfg->emulator);
        return -1;
    }

    if (stratovirtConfigGetDir(conf, "config_dir", &cfg->configBaseDir) < 0 ||
        stratovirtConfigGetDir(conf, "state_dir", &cfg->stateDir) < 0 ||
        stratovirtConfigGetDir(conf, "log_dir", &cfg->logDir) < 0 ||
        stratovirtConfigGetDir(conf, "lib_dir", &cfg->libDir) < 0)
        return -1;
    g_free(cfg->nvramDir);
    cfg->nvramDir = g_strdup_printf("%s/nvram", cfg->libDir);

    g_free(cfg->autostartDir);
    cfg->autostartDir = g_strdup_printf("%s/autostart", cfg->configBaseDir);

    if (virConfGetValueString(conf, "user", &user) < 0 ||
        virConfGetValueString(conf, "group", &group) < 0)
        return -1;

    if (user) {
        if (virGetUserID(user, &cfg->user) < 0)
            return -1;
        g_free(cfg->userName);
        cfg->userName = g_steal_pointer(&user);
    }
    if (group) {
        if (virGetGroupID(group, &cfg->group) < 0)
            return -1;
        g_free(cfg->groupName);
        cfg->groupName = g_steal_pointer(&group);
    }

    if (virConfGetValueUInt(conf, "qmp_timeout", &cfg->qmpTimeout) < 0 ||
        virConfGetValueUInt(conf, "shutdown_timeout", &cfg->shutdownTimeout) < 0)
        return -1;

    if (virConfGetValueBool(conf, "vfio_memlock", &cfg->vfioMemlock) < 0)
        return -1;

    if (virConfGetValueStringList(conf, "stratovirt_features", false,
                                  &cfg->features) < 0)
        return -1;
    if (cfg->features) {
        unsigned int dummy;

        if (virStratoVirtCapsParseFeatures(cfg->features, &dummy) < 0)
            return -1;
    }
    if (virConfGetValueString(conf, "log_level", &cfg->logLevel) < 0)
        return -1;
    if (STRNEQ(cfg->logLevel, "error") && STRNEQ(cfg->logLevel, "warn") &&
        STRNEQ(cfg->logLevel, "info") && STRNEQ(cfg->logLevel, "debug") &&
        STRNEQ(cfg->logLevel, "trace")) {
        virReportError(VIR_ERR_CONF_SYNTAX,
                       _("'log_level' in %1$s must be one of error, warn, info, debug, trace, not '%2$s'"),
                       filename, cfg->logLevel);
        return -1;
    }
    if (virConfGetValueStringList(conf, "vmm_environment_pass", false,
                                  &cfg->envPass) < 0)
        return -1;
    if (stratovirtConfigGetCgroups(conf, cfg, filename) < 0)
        return -1;

    if (cfg->qmpTimeout == 0) {
        virReportError(VIR_ERR_CONF_SYNTAX,
                       _("'qmp_timeout' in %1$s must be at least 1 second"),
                       filename);
        return -1;
    }

    if (cfg->configFile != filename) {
        g_free(cfg->configFile);
        cfg->configFile = g_strdup(filename);
    }
    return 0;
}


virStratoVirtDriverConfig *
virStratoVirtDriverGetConfig(virStratoVirtDriver *driver)
{
    virStratoVirtDriverConfig *cfg;

    stratovirtDriverLock(driver);
    cfg = g_object_ref(driver->config);
    stratovirtDriverUnlock(driver);
    return cfg;
}


typedef struct {
    virStratoVirtDriver *driver;
    virThreadFunc func;
    void *opaque;
} stratovirtDriverThread;


static void
stratovirtDriverThreadRun(void *opaque)
{
    stratovirtDriverThread *t = opaque;
    virStratoVirtDriver *driver = t->driver;

    t->func(t->opaque);
    g_free(t);

    /* the last touch of the driver: the daemon's stop may free it next */
    virMutexLock(&driver->lock);
    driver->nthreads--;
    virCondBroadcast(&driver->threadsDone);
    virMutexUnlock(&driver->lock);
}


/**
 * virStratoVirtDriverThreadCreate:
 *
 * Runs @func(@opaque) in a detached thread the daemon's stop waits for
 * (virStratoVirtDriverThreadsWait), so that it never runs on a driver
 * being freed.  Returns 0 when started; 1, with nothing started and no
 * error, when the daemon's stop has already waited for the driver's
 * threads (the caller leaves the work to the next daemon); -1 with an
 * error when no thread could be created.
 */
int
virStratoVirtDriverThreadCreate(virStratoVirtDriver *driver,
                                const char *name,
                                virThreadFunc func,
                                void *opaque)
{
    stratovirtDriverThread *t;
    virThread thread;

    virMutexLock(&driver->lock);
    if (driver->threadsClosed) {
        virMutexUnlock(&driver->lock);
        return 1;
    }
    driver->nthreads++;
    virMutexUnlock(&driver->lock);

    t = g_new0(stratovirtDriverThread, 1);
    t->driver = driver;
    t->func = func;
    t->opaque = opaque;
    if (virThreadCreateFull(&thread, false, stratovirtDriverThreadRun,
                            name, false, t) < 0) {
        virReportSystemError(errno, _("cannot start the driver thread '%1$s'"), name);
        g_free(t);
        virMutexLock(&driver->lock);
        driver->nthreads--;
        virCondBroadcast(&driver->threadsDone);
        virMutexUnlock(&driver->lock);
        return -1;
    }
    return 0;
}


/**
 * virStratoVirtDriverThreadsWait:
 *
 * The daemon's stop: waits until @until (ms since the epoch, as
 * virTimeMillisNow) for the driver's threads to end, then lets no new one
 * start.  Returns 0, or -1 (logged) when some still run.
 */
int
virStratoVirtDriverThreadsWait(virStratoVirtDriver *driver,
                               unsigned long long until)
{
    int ret = 0;

    virMutexLock(&driver->lock);
    while (driver->nthreads > 0) {
        if (virCondWaitUntil(&driver->threadsDone, &driver->lock, until) < 0) {
            VIR_WARN("%zu thread(s) of the driver still running (%s); stopping without cleanup",
                     driver->nthreads,
                     errno == ETIMEDOUT ? "timed out" : g_strerror(errno));
            ret = -1;
            break;
        }
    }
    driver->threadsClosed = true;
    virMutexUnlock(&driver->lock);
    return ret;
}


/* Machine types a StratoVirt binary of the given architecture offers. */
static const char *const stratovirtMachinesX86_64[] = { "q35", "microvm", NULL };
static const char *const stratovirtMachinesAArch64[] = { "virt", "microvm", NULL };


/**
 * virStratoVirtCapsAddGuest:
 *
 * Adds the guest entry of @arch (hvm, kvm, the machine types StratoVirt
 * has for it).  Returns 0, or -1 with an error for an architecture
 * StratoVirt is not built for.
 */
int
virStratoVirtCapsAddGuest(virCaps *caps,
                          virArch arch,
                          const char *emulator)
{
    virCapsGuest *guest;
    virCapsGuestMachine **machines;
    const char *const *machineNames;
    size_t nmachineNames;

    if (arch == VIR_ARCH_X86_64) {
        machineNames = stratovirtMachinesX86_64;
        nmachineNames = G_N_ELEMENTS(stratovirtMachinesX86_64) - 1;
    } else if (arch == VIR_ARCH_AARCH64) {
        machineNames = stratovirtMachinesAArch64;
        nmachineNames = G_N_ELEMENTS(stratovirtMachinesAArch64) - 1;
    } else {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt runs x86_64 and aarch64 guests, not '%1$s'"),
                       virArchToString(arch));
        return -1;
    }

    machines = virStratoVirtCompatCapsAllocMachines(machineNames, nmachineNames);

    guest = virCapabilitiesAddGuest(caps, VIR_DOMAIN_OSTYPE_HVM, arch,
                                    emulator, NULL, nmachineNames, machines);
    virCapabilitiesAddGuestDomain(guest, VIR_DOMAIN_VIRT_KVM,
                                  NULL, NULL, 0, NULL);
    /* ACPI is per machine: q35 and virt always have it (the definition
     * gets <acpi/> whatever it says), microvm never.  Off by default here,
     * so that clients reading the capabilities (virt-install) write no
     * <acpi/> for a microvm. */
    virCapabilitiesAddGuestFeatureWithToggle(guest, VIR_CAPS_GUEST_FEATURE_TYPE_ACPI,
                                             false, true);
    return 0;
}


/**
 * virStratoVirtDriverCapsInit:
 *
 * The host as libvirt sees it, plus the guest entry of the host's
 * architecture with StratoVirt's machine types for it.
 */
virCaps *
virStratoVirtDriverCapsInit(virStratoVirtDriverConfig *cfg)
{
    g_autoptr(virCaps) caps = NULL;
    virArch hostarch = virArchFromHost();

    if (!(caps = virCapabilitiesNew(hostarch, false, false)))
        return NULL;

    if (!(caps->host.numa = virCapabilitiesHostNUMANewHost()))
        return NULL;

    if (virCapabilitiesInitCaches(caps) < 0)
        return NULL;

    caps->host.cpu = virCPUProbeHost(hostarch);

    if (virCapabilitiesInitPages(caps) < 0)
        return NULL;

    virCapabilitiesHostInitIOMMU(caps);

    /* KVM runs guests of the host's own architecture only: an aarch64
     * entry on an x86_64 host would be offered by virt-manager and then
     * fail to start. */
    if (hostarch == VIR_ARCH_X86_64 || hostarch == VIR_ARCH_AARCH64) {
        if (virStratoVirtCapsAddGuest(caps, hostarch, cfg->emulator) < 0)
            return NULL;
    } else {
        VIR_WARN("StratoVirt has no guests for host architecture '%s'",
                 virArchToString(hostarch));
    }

    return g_steal_pointer(&caps);
}


/**
 * virStratoVirtParseVersionOutput:
 * @output: what 'stratovirt -V' printed, e.g. "StratoVirt 2.4.0 commit-id abc"
 * @version: filled with major * 1,000,000 + minor * 1,000 + micro
 *
 * Returns 0 on success, -1 with an error reported.
 */
int
virStratoVirtParseVersionOutput(const char *output,
                                unsigned long *version)
{
    const char *p;
    unsigned long long ver = 0;

    if (!output || !(p = STRSKIP(output, "StratoVirt "))) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("unexpected output of 'stratovirt -V': '%1$s'"),
                       NULLSTR(output));
        return -1;
    }

    if (virStratoVirtCompatParseVersion(&ver, p, true) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED,
                       _("cannot parse a version number in '%1$s'"), output);
        return -1;
    }
    *version = ver;
    return 0;
}


VIR_ENUM_IMPL(virStratoVirtFeature,
              VIR_STRATOVIRT_FEATURE_LAST,
              "vfio", "virtio_rng", "vhost_vsock", "virtio_scsi", "usb",
              "vnc", "virtio_gpu", "pvpanic",
);

static virClass *virStratoVirtCapsClass;


static void
virStratoVirtCapsDispose(void *obj)
{
    virStratoVirtCaps *caps = obj;

    g_free(caps->binary);
    g_free(caps->driverId);
    g_free(caps->hostArch);
    g_free(caps->configured);
    g_free(caps->versionStr);
}


static int
virStratoVirtCapsOnceInit(void)
{
    if (!VIR_CLASS_NEW(virStratoVirtCaps, virClassForObject()))
        return -1;
    return 0;
}


VIR_ONCE_GLOBAL_INIT(virStratoVirtCaps);


/* What each feature's probe adds to the probe VM's command line: a
 * build without the feature answers 'Unsupported device' at realize (or,
 * for -vnc, clap's "Found argument '-vnc' which wasn't expected"). */
static const char *const stratovirtFeatureProbe[VIR_STRATOVIRT_FEATURE_LAST][2] = {
    [VIR_STRATOVIRT_FEATURE_VFIO] = { "-device", "vfio-pci,id=probe" },
    [VIR_STRATOVIRT_FEATURE_VIRTIO_RNG] = { "-device", "virtio-rng-pci,id=probe" },
    [VIR_STRATOVIRT_FEATURE_VHOST_VSOCK] = { "-device", "vhost-vsock-pci,id=probe" },
    [VIR_STRATOVIRT_FEATURE_VIRTIO_SCSI] = { "-device", "virtio-scsi-pci,id=probe" },
    [VIR_STRATOVIRT_FEATURE_USB] = { "-device", "nec-usb-xhci,id=probe" },
    [VIR_STRATOVIRT_FEATURE_VNC] = { "-vnc", "probe" },
    [VIR_STRATOVIRT_FEATURE_VIRTIO_GPU] = { "-device", "virtio-gpu-pci,id=probe" },
    [VIR_STRATOVIRT_FEATURE_PVPANIC] = { "-device", "pvpanic,id=probe" },
};


/* StratoVirt 2.1.x has no cargo features: what it has is always built */
#define STRATOVIRT_FEATURES_2_1 \
    ((1U << VIR_STRATOVIRT_FEATURE_VFIO) | \
     (1U << VIR_STRATOVIRT_FEATURE_VIRTIO_RNG) | \
     (1U << VIR_STRATOVIRT_FEATURE_VHOST_VSOCK))

#define STRATOVIRT_FEATURES_ALL ((1U << VIR_STRATOVIRT_FEATURE_LAST) - 1)


/**
 * virStratoVirtCapsNewForVersion:
 * @version: as virStratoVirtParseVersionOutput gives it
 * @features: bit mask of virStratoVirtFeature
 *
 * Caps of a binary known without probing it (tests, stratovirt.conf).
 * Returns a new object, or NULL with an error.
 */
virStratoVirtCaps *
virStratoVirtCapsNewForVersion(unsigned long version,
                               unsigned int features)
{
    virStratoVirtCaps *caps;

    if (virStratoVirtCapsInitialize() < 0 ||
        !(caps = virObjectNew(virStratoVirtCapsClass)))
        return NULL;

    caps->version = version;
    caps->versionStr = g_strdup_printf("%lu.%lu.%lu", version / 1000000,
                                       (version / 1000) % 1000, version % 1000);
    caps->features = features;
    return caps;
}


bool
virStratoVirtCapsHas(const virStratoVirtCaps *caps,
                     virStratoVirtFeature feature)
{
    if (!caps)
        return true;
    return !!(caps->features & (1U << feature));
}


/**
 * virStratoVirtCapsHasFeature:
 * @name: a feature's cargo name, e.g. "virtio_scsi"
 *
 * Whether the binary of @caps was built with that feature.  An unknown
 * name is never there.
 */
bool
virStratoVirtCapsHasFeature(const virStratoVirtCaps *caps,
                            const char *name)
{
    int f = virStratoVirtFeatureTypeFromString(name);

    if (f < 0)
        return false;
    return virStratoVirtCapsHas(caps, f);
}


/**
 * virStratoVirtCapsCheckFeature:
 * @what: the XML the user wrote that needs it, e.g. "<controller type='scsi'>"
 *
 * Returns 0 if the binary has @feature, else -1 with a CONFIG_UNSUPPORTED
 * error naming the missing feature.
 */
int
virStratoVirtCapsCheckFeature(const virStratoVirtCaps *caps,
                              virStratoVirtFeature feature,
                              const char *what)
{
    if (virStratoVirtCapsHas(caps, feature))
        return 0;
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                   _("%1$s needs StratoVirt built with the '%2$s' feature, but %3$s (StratoVirt %4$s) was built without it; use a StratoVirt build that has it, or remove the device"),
                   what, virStratoVirtFeatureTypeToString(feature),
                   caps->binary ? caps->binary : "the binary", caps->versionStr);
    return -1;
}


int
virStratoVirtCapsParseFeatures(char **names,
                               unsigned int *features)
{
    size_t i;

    *features = 0;
    for (i = 0; names && names[i]; i++) {
        int f = virStratoVirtFeatureTypeFromString(names[i]);

        if (f < 0) {
            virReportError(VIR_ERR_CONF_SYNTAX,
                           _("unknown StratoVirt feature '%1$s' in 'stratovirt_features'; known: vfio, virtio_rng, vhost_vsock, virtio_scsi, usb, vnc, virtio_gpu, pvpanic"),
                           names[i]);
            return -1;
        }
        *features |= 1U << f;
    }
    return 0;
}


/* The environment every StratoVirt process gets: the common variables
 * (LC_ALL=C, PATH, HOME, USER, LOGNAME, TMPDIR, LD_PRELOAD,
 * LD_LIBRARY_PATH), StratoVirt's log level, and what vmm_environment_pass
 * names.  Nothing else: no RUST_BACKTRACE, no RUST_LOG. */
void
virStratoVirtCommandSetEnv(virCommand *cmd,
                           virStratoVirtDriverConfig *cfg)
{
    size_t i;

    virCommandAddEnvPassCommon(cmd);
    if (cfg)
        virCommandAddEnvPair(cmd, "STRATOVIRT_LOG_LEVEL", cfg->logLevel);
    for (i = 0; cfg && cfg->envPass && cfg->envPass[i]; i++)
        virCommandAddEnvPass(cmd, cfg->envPass[i]);
}


/* Runs every feature's probe VM at once (each takes some 50 ms): each
 * fails on purpose, at kernel loading (an empty -kernel) after its devices
 * were realized, and what it printed tells whether the feature is built.
 * A probe that has not ended within 10 s is killed and its feature taken
 * as present (the start then quotes what StratoVirt says). */
static int
stratovirtProbeFeatures(virStratoVirtDriverConfig *cfg,
                        const char *binary,
                        unsigned int *features)
{
    g_autofree char *dir = g_strdup_printf("%s/probe.XXXXXX", cfg->stateDir);
    g_autofree char *kernel = NULL;
    virCommand *cmds[VIR_STRATOVIRT_FEATURE_LAST] = { NULL };
    pid_t pids[VIR_STRATOVIRT_FEATURE_LAST] = { 0 };
    const char *machine = virArchFromHost() == VIR_ARCH_AARCH64 ? "virt" : "q35";
    unsigned long long deadline;
    int ret = -1;
    size_t i;

    if (!g_mkdtemp(dir)) {
        virReportSystemError(errno, _("cannot create a directory in '%1$s'"), cfg->stateDir);
        return -1;
    }
    kernel = g_strdup_printf("%s/empty", dir);
    if (virFileWriteStr(kernel, "", 0600) < 0) {
        virReportSystemError(errno, _("cannot write '%1$s'"), kernel);
        goto cleanup;
    }

    for (i = 0; i < VIR_STRATOVIRT_FEATURE_LAST; i++) {
        g_autofree char *qmp = g_strdup_printf("unix:%s/%zu.sock,server,nowait", dir, i);
        g_autofree char *out = g_strdup_printf("%s/%zu.out", dir, i);
        VIR_AUTOCLOSE fd = -1;

        if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
            virReportSystemError(errno, _("cannot write '%1$s'"), out);
            goto cleanup;
        }
        cmds[i] = virCommandNewArgList(binary, "-machine", machine, "-m", "256",
                                       "-kernel", kernel, "-initrd", kernel,
                                       stratovirtFeatureProbe[i][0],
                                       stratovirtFeatureProbe[i][1],
                                       "-qmp", qmp, NULL);
        virStratoVirtCommandSetEnv(cmds[i], cfg);
        virCommandSetOutputFD(cmds[i], &fd);
        virCommandSetErrorFD(cmds[i], &fd);
        virCommandClearCaps(cmds[i]);
        if (virCommandRunAsync(cmds[i], &pids[i]) < 0)
            goto cleanup;
    }

    if (virTimeMillisNow(&deadline) < 0)
        goto cleanup;
    deadline += 10000;

    *features = 0;
    for (i = 0; i < VIR_STRATOVIRT_FEATURE_LAST; i++) {
        g_autofree char *out = g_strdup_printf("%s/%zu.out", dir, i);
        g_autofree char *text = NULL;
        unsigned long long now = 0;
        siginfo_t info;

        /* wait for it to end, without reaping it (virCommandWait does) */
        while (true) {
            memset(&info, 0, sizeof(info));
            if (waitid(P_PID, pids[i], &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
                info.si_pid == pids[i])
                break;
            if (virTimeMillisNow(&now) < 0 || now >= deadline)
                break;
            g_usleep(5000);
        }
        if (info.si_pid != pids[i]) {
            VIR_WARN("probe of '%s' for %s did not end in time; taking the feature as present",
                     binary, virStratoVirtFeatureTypeToString(i));
            virCommandAbort(cmds[i]);
            *features |= 1U << i;
            continue;
        }
        if (virCommandWait(cmds[i], NULL) < 0)
            virResetLastError();
        if (virFileReadAllQuiet(out, 65536, &text) < 0)
            text = g_strdup("");
        VIR_DEBUG("probe of '%s' for %s: %s", binary,
                  virStratoVirtFeatureTypeToString(i), text);
        if (!strstr(text, "Unsupported device") && !strstr(text, "wasn't expected"))
            *features |= 1U << i;
    }
    ret = 0;

 cleanup:
    for (i = 0; i < VIR_STRATOVIRT_FEATURE_LAST; i++) {
        if (cmds[i])
            virCommandAbort(cmds[i]);
        virCommandFree(cmds[i]);
    }
    if (virFileDeleteTree(dir) < 0)
        virResetLastError();
    return ret;
}


/* What finding this driver's build looks for: the object that holds
 * @addr (the driver module, or a test program linking the driver) and,
 * once found, its GNU build ID in hex. */
typedef struct {
    uintptr_t addr;
    char *id;
} stratovirtBuildIdData;


static int
stratovirtBuildIdFind(struct dl_phdr_info *info,
                      size_t size G_GNUC_UNUSED,
                      void *opaque)
{
    stratovirtBuildIdData *data = opaque;
    bool ours = false;
    size_t i;

    for (i = 0; i < info->dlpi_phnum && !ours; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;

        ours = ph->p_type == PT_LOAD &&
               data->addr >= start && data->addr < start + ph->p_memsz;
    }
    if (!ours)
        return 0;

    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        const char *p = (const char *) (info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;

        if (ph->p_type != PT_NOTE)
            continue;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *) p;
            const char *name = p + sizeof(*nh);
            const unsigned char *desc;

            desc = (const unsigned char *) name + VIR_ROUND_UP(nh->n_namesz, 4);
            if ((const char *) desc + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(name, "GNU", 4) == 0 && nh->n_descsz > 0) {
                GString *hex = g_string_new(NULL);
                size_t j;

                for (j = 0; j < nh->n_descsz; j++)
                    g_string_append_printf(hex, "%02x", desc[j]);
                data->id = g_string_free(hex, FALSE);
                return 1;
            }
            p = (const char *) desc + VIR_ROUND_UP(nh->n_descsz, 4);
        }
    }
    return 1;
}


/**
 * virStratoVirtDriverBuildId:
 *
 * This driver's own build, as the capabilities cache records it: a new
 * build may probe differently, so what an older one probed is not taken.
 * The GNU build ID of the object the driver's code is in; without one,
 * that file's size and times.
 */
const char *
virStratoVirtDriverBuildId(void)
{
    static char *id;

    if (g_once_init_enter(&id)) {
        stratovirtBuildIdData data = {
            .addr = (uintptr_t) virStratoVirtDriverBuildId,
        };
        Dl_info dl;
        struct stat sb;

        dl_iterate_phdr(stratovirtBuildIdFind, &data);
        if (!data.id) {
            if (dladdr(virStratoVirtDriverBuildId, &dl) != 0 && dl.dli_fname &&
                stat(dl.dli_fname, &sb) == 0)
                data.id = g_strdup_printf("file:%lld.%09ld:%lld.%09ld:%lld",
                                          (long long) sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
                                          (long long) sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec,
                                          (long long) sb.st_size);
            else
                data.id = g_strdup("unknown");
        }
        VIR_DEBUG("driver build: %s", data.id);
        g_once_init_leave(&id, data.id);
    }
    return id;
}


#define STRATOVIRT_STAT_NS(ts) ((long long) (ts).tv_sec * 1000000000LL + (ts).tv_nsec)


static char *
stratovirtCapsConfigured(virStratoVirtDriverConfig *cfg)
{
    return cfg->features ? g_strjoinv(",", cfg->features) : NULL;
}


/* Whether @data (a virStratoVirtCaps) still says what its binary is:
 * the binary, this driver's build, the host's architecture and the
 * configured features are what they were when it was probed. */
static bool
stratovirtCapsIsValid(void *data,
                      void *priv)
{
    virStratoVirtCaps *caps = data;
    virStratoVirtDriver *driver = priv;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autofree char *configured = stratovirtCapsConfigured(cfg);
    struct stat sb;

    if (stat(caps->binary, &sb) < 0) {
        VIR_DEBUG("'%s' is gone: %s", caps->binary, g_strerror(errno));
        return false;
    }
    if (STRATOVIRT_STAT_NS(sb.st_mtim) != caps->mtime ||
        STRATOVIRT_STAT_NS(sb.st_ctim) != caps->ctime ||
        (long long) sb.st_size != caps->size) {
        VIR_DEBUG("'%s' changed since it was probed", caps->binary);
        return false;
    }
    if (STRNEQ_NULLABLE(caps->driverId, virStratoVirtDriverBuildId())) {
        VIR_DEBUG("'%s' was probed by another build of the driver (%s)",
                  caps->binary, NULLSTR(caps->driverId));
        return false;
    }
    if (STRNEQ_NULLABLE(caps->hostArch, virArchToString(virArchFromHost()))) {
        VIR_DEBUG("'%s' was probed on a %s host", caps->binary, NULLSTR(caps->hostArch));
        return false;
    }
    if (STRNEQ_NULLABLE(caps->configured, configured)) {
        VIR_DEBUG("'stratovirt_features' changed since '%s' was probed", caps->binary);
        return false;
    }
    return true;
}


/* Runs @binary -V and, unless its features are configured or it has none
 * (2.1.x), the feature probe.  Called with the cache locked: one at a time. */
static void *
stratovirtCapsNewData(const char *binary,
                      void *priv)
{
    virStratoVirtDriver *driver = priv;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autoptr(virStratoVirtCaps) caps = NULL;
    g_autoptr(virCommand) cmd = NULL;
    g_autofree char *output = NULL;
    unsigned long ver;
    struct stat sb;

    /* what the binary is before it runs: if it is replaced while being
     * probed, the next lookup sees the change */
    if (stat(binary, &sb) < 0) {
        virReportSystemError(errno,
                             _("cannot find the StratoVirt binary '%1$s'; install StratoVirt or set 'stratovirt_binary' in %2$s"),
                             binary, cfg->configFile);
        return NULL;
    }

    cmd = virCommandNewArgList(binary, "-V", NULL);
    virStratoVirtCommandSetEnv(cmd, cfg);
    virCommandSetOutputBuffer(cmd, &output);
    virCommandClearCaps(cmd);
    if (virCommandRun(cmd, NULL) < 0)
        return NULL;

    if (virStratoVirtParseVersionOutput(output, &ver) < 0)
        return NULL;

    if (!(caps = virStratoVirtCapsNewForVersion(ver, 0)))
        return NULL;
    caps->binary = g_strdup(binary);
    caps->mtime = STRATOVIRT_STAT_NS(sb.st_mtim);
    caps->ctime = STRATOVIRT_STAT_NS(sb.st_ctim);
    caps->size = sb.st_size;
    caps->driverId = g_strdup(virStratoVirtDriverBuildId());
    caps->hostArch = g_strdup(virArchToString(virArchFromHost()));
    caps->configured = stratovirtCapsConfigured(cfg);
    if (cfg->features) {
        if (virStratoVirtCapsParseFeatures(cfg->features, &caps->features) < 0)
            return NULL;
    } else if (!virStratoVirtCapsIsModern(caps)) {
        caps->features = STRATOVIRT_FEATURES_2_1;
    } else {
        if (stratovirtProbeFeatures(cfg, binary, &caps->features) < 0)
            return NULL;
        caps->probed = true;
    }
    VIR_DEBUG("StratoVirt '%s': version %s, features 0x%x (%s)", binary,
              caps->versionStr, caps->features,
              caps->probed ? "probed" : "known or configured");
    return g_steal_pointer(&caps);
}


/* The cache file of one binary, e.g.
 *   <stratovirtCaps>
 *     <binary path='/usr/bin/stratovirt' mtime='...' ctime='...' size='...'/>
 *     <driver build='d82b72d4...'/>
 *     <host arch='x86_64'/>
 *     <configured features='vfio'/>         (only with stratovirt_features)
 *     <version number='2005000'/>
 *     <features probed='yes'><feature name='vfio'/>...</features>
 *   </stratovirtCaps>
 */
static void *
stratovirtCapsLoadFile(const char *filename,
                       const char *binary,
                       void *priv G_GNUC_UNUSED,
                       bool *outdated)
{
    g_autoptr(xmlDoc) xml = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(virStratoVirtCaps) caps = NULL;
    g_autofree xmlNodePtr *nodes = NULL;
    g_autofree char *path = NULL;
    g_autofree char *driverId = NULL;
    unsigned long long version = 0;
    unsigned long long mtime = 0;
    unsigned long long ctime = 0;
    unsigned long long size = 0;
    int n;
    size_t i;

    if (!(xml = virXMLParseFileCtxt(filename, &ctxt)))
        return NULL;

    /* another build may name features this one does not know */
    driverId = virXPathString("string(/stratovirtCaps/driver/@build)", ctxt);
    if (STRNEQ_NULLABLE(driverId, virStratoVirtDriverBuildId())) {
        VIR_DEBUG("'%s' was written by another build of the driver (%s)",
                  filename, NULLSTR(driverId));
        *outdated = true;
        return NULL;
    }

    path = virXPathString("string(/stratovirtCaps/binary/@path)", ctxt);
    if (STRNEQ_NULLABLE(path, binary) ||
        virXPathULongLong("string(/stratovirtCaps/binary/@mtime)", ctxt, &mtime) < 0 ||
        virXPathULongLong("string(/stratovirtCaps/binary/@ctime)", ctxt, &ctime) < 0 ||
        virXPathULongLong("string(/stratovirtCaps/binary/@size)", ctxt, &size) < 0 ||
        virXPathULongLong("string(/stratovirtCaps/version/@number)", ctxt, &version) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR,
                       _("the capabilities cache '%1$s' does not describe '%2$s' completely"),
                       filename, binary);
        return NULL;
    }

    if (!(caps = virStratoVirtCapsNewForVersion(version, 0)))
        return NULL;
    caps->binary = g_steal_pointer(&path);
    caps->mtime = mtime;
    caps->ctime = ctime;
    caps->size = size;
    caps->driverId = g_steal_pointer(&driverId);
    caps->hostArch = virXPathString("string(/stratovirtCaps/host/@arch)", ctxt);
    caps->configured = virXPathString("string(/stratovirtCaps/configured/@features)", ctxt);
    caps->probed = virXPathBoolean("boolean(/stratovirtCaps/features[@probed='yes'])", ctxt) > 0;

    if ((n = virXPathNodeSet("/stratovirtCaps/features/feature", ctxt, &nodes)) < 0)
        return NULL;
    for (i = 0; i < n; i++) {
        g_autofree char *name = virXMLPropString(nodes[i], "name");
        int f = name ? virStratoVirtFeatureTypeFromString(name) : -1;

        if (f < 0) {
            virReportError(VIR_ERR_INTERNAL_ERROR,
                           _("unknown feature '%1$s' in the capabilities cache '%2$s'"),
                           NULLSTR(name), filename);
            return NULL;
        }
        caps->features |= 1U << f;
    }
    return g_steal_pointer(&caps);
}


/* A cache that cannot be written costs a probe at the next daemon start,
 * nothing else: a failure is a warning. */
static int
stratovirtCapsSaveFile(void *data,
                       const char *filename,
                       void *priv G_GNUC_UNUSED)
{
    virStratoVirtCaps *caps = data;
    g_auto(virBuffer) buf = VIR_BUFFER_INITIALIZER;
    g_autofree char *xml = NULL;
    size_t i;

    virBufferAddLit(&buf, "<stratovirtCaps>\n");
    virBufferAdjustIndent(&buf, 2);
    virBufferEscapeString(&buf, "<binary path='%s'", caps->binary);
    virBufferAsprintf(&buf, " mtime='%lld' ctime='%lld' size='%lld'/>\n",
                      caps->mtime, caps->ctime, caps->size);
    virBufferEscapeString(&buf, "<driver build='%s'/>\n", caps->driverId);
    virBufferEscapeString(&buf, "<host arch='%s'/>\n", caps->hostArch);
    virBufferEscapeString(&buf, "<configured features='%s'/>\n", caps->configured);
    virBufferAsprintf(&buf, "<version number='%lu'/>\n", caps->version);
    virBufferAsprintf(&buf, "<features probed='%s'>\n", caps->probed ? "yes" : "no");
    virBufferAdjustIndent(&buf, 2);
    for (i = 0; i < VIR_STRATOVIRT_FEATURE_LAST; i++) {
        if (caps->features & (1U << i))
            virBufferAsprintf(&buf, "<feature name='%s'/>\n",
                              virStratoVirtFeatureTypeToString(i));
    }
    virBufferAdjustIndent(&buf, -2);
    virBufferAddLit(&buf, "</features>\n");
    virBufferAdjustIndent(&buf, -2);
    virBufferAddLit(&buf, "</stratovirtCaps>\n");
    xml = virBufferContentAndReset(&buf);

    if (virFileRewriteStr(filename, 0600, xml) < 0) {
        VIR_WARN("cannot keep what '%s' is in '%s': %s", caps->binary, filename,
                 virGetLastErrorMessage());
        virResetLastError();
        return 0;
    }
    VIR_DEBUG("cached what '%s' is in '%s'", caps->binary, filename);
    return 0;
}


/**
 * virStratoVirtCapsCacheNew:
 *
 * The driver's cache of what each StratoVirt binary is, in memory and in
 * @cfg's cache folder (capabilities/<sha256 of the path>.xml), so that a
 * daemon restart does not run the binary again.
 */
virFileCache *
virStratoVirtCapsCacheNew(virStratoVirtDriver *driver,
                          virStratoVirtDriverConfig *cfg)
{
    g_autofree char *dir = g_strdup_printf("%s/capabilities", cfg->cacheDir);
    virFileCacheHandlers handlers = {
        .isValid = stratovirtCapsIsValid,
        .newData = stratovirtCapsNewData,
        .loadFile = stratovirtCapsLoadFile,
        .saveFile = stratovirtCapsSaveFile,
    };
    virFileCache *cache;

    if (!(cache = virFileCacheNew(dir, "xml", &handlers)))
        return NULL;
    virFileCacheSetPriv(cache, driver);
    return cache;
}


/**
 * virStratoVirtGetCaps:
 * @binary: a StratoVirt binary, or NULL for the configured one
 *
 * What @binary is: its version (-V) and build features ('stratovirt_features'
 * in stratovirt.conf, or a probe), cached (across daemon restarts too) for
 * as long as the binary is not replaced.  Returns a reference (unref it),
 * or NULL with an error.
 */
virStratoVirtCaps *
virStratoVirtGetCaps(virStratoVirtDriver *driver,
                     const char *binary)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

    if (!binary)
        binary = cfg->emulator;

    if (!virFileExists(binary)) {
        virReportSystemError(errno,
                             _("cannot find the StratoVirt binary '%1$s'; install StratoVirt or set 'stratovirt_binary' in %2$s"),
                             binary, cfg->configFile);
        return NULL;
    }
    if (!driver->capsCache) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s",
                       _("the StratoVirt driver has no capabilities cache"));
        return NULL;
    }
    return virFileCacheLookup(driver->capsCache, binary);
}


/**
 * virStratoVirtExtractVersion:
 *
 * The configured binary's version (-V), cached with its caps.
 * Returns 0 on success, -1 with an error.
 */
int
virStratoVirtExtractVersion(virStratoVirtDriver *driver,
                            unsigned long *version)
{
    g_autoptr(virStratoVirtCaps) caps = virStratoVirtGetCaps(driver, NULL);

    if (!caps)
        return -1;
    *version = caps->version;
    return 0;
}


void
stratovirtDriverLock(virStratoVirtDriver *driver)
{
    virMutexLock(&driver->lock);
}


void
stratovirtDriverUnlock(virStratoVirtDriver *driver)
{
    virMutexUnlock(&driver->lock);
}


/**
 * virStratoVirtDomainCapsBuild:
 *
 * What a domain of @machine on @arch can use, stated statically: StratoVirt
 * has no schema introspection over QMP (query-qmp-schema answers {}).
 */
virDomainCaps *
virStratoVirtDomainCapsBuild(virStratoVirtDriverConfig *cfg,
                             const virStratoVirtCaps *svcaps,
                             virArch arch,
                             const char *machine)
{
    g_autoptr(virDomainCaps) caps = NULL;
    bool standard = STRNEQ(machine, "microvm");
    bool vnc, gpu, vfio, rng, scsi;

#define STRATOVIRT_CAPS_ENUM(e, ...) \
    do { \
        (e).report = true; \
        VIR_DOMAIN_CAPS_ENUM_SET(e, __VA_ARGS__); \
    } while (0)

    if (!(caps = virDomainCapsNew(cfg->emulator, machine, arch, VIR_DOMAIN_VIRT_KVM)))
        return NULL;

    caps->maxvcpus = 254;

    caps->os.supported = VIR_TRISTATE_BOOL_YES;
    caps->os.loader.supported = standard ? VIR_TRISTATE_BOOL_YES : VIR_TRISTATE_BOOL_NO;
    if (standard) {
        g_autoptr(GPtrArray) fws = virStratoVirtFirmwareFind((const char *const *) cfg->firmwareDirs,
                                                             arch, machine);
        size_t i;

        /* what virt-install --boot uefi and virt-manager's Firmware list
         * pick from: the images of the firmware descriptors */
        caps->os.loader.values.values = g_new0(char *, fws->len + 1);
        for (i = 0; i < fws->len; i++) {
            virStratoVirtFirmware *fw = fws->pdata[i];

            if (!g_strv_contains((const char *const *) caps->os.loader.values.values,
                                 fw->executable))
                caps->os.loader.values.values[caps->os.loader.values.nvalues++] =
                    g_strdup(fw->executable);
        }
        if (fws->len)
            STRATOVIRT_CAPS_ENUM(caps->os.firmware, VIR_DOMAIN_OS_DEF_FIRMWARE_EFI);
        STRATOVIRT_CAPS_ENUM(caps->os.loader.type, VIR_DOMAIN_LOADER_TYPE_PFLASH);
        STRATOVIRT_CAPS_ENUM(caps->os.loader.readonly,
                                 VIR_TRISTATE_BOOL_YES, VIR_TRISTATE_BOOL_NO);
        STRATOVIRT_CAPS_ENUM(caps->os.loader.secure, VIR_TRISTATE_BOOL_NO);
    }

    caps->cpu.hostPassthrough = true;
    STRATOVIRT_CAPS_ENUM(caps->cpu.hostPassthroughMigratable, VIR_TRISTATE_SWITCH_OFF);

    /* what the binary's build lacks is not offered (its features) */
    scsi = standard && virStratoVirtCapsHas(svcaps, VIR_STRATOVIRT_FEATURE_VIRTIO_SCSI);

    /* cdroms, and scsi and sata disks (virt-install's q35 default), go on
     * virtio-scsi: only where the build has it */
    caps->disk.supported = VIR_TRISTATE_BOOL_YES;
    if (scsi) {
        STRATOVIRT_CAPS_ENUM(caps->disk.diskDevice, VIR_DOMAIN_DISK_DEVICE_DISK,
                             VIR_DOMAIN_DISK_DEVICE_CDROM);
        STRATOVIRT_CAPS_ENUM(caps->disk.bus, VIR_DOMAIN_DISK_BUS_VIRTIO,
                             VIR_DOMAIN_DISK_BUS_SCSI, VIR_DOMAIN_DISK_BUS_SATA);
    } else {
        STRATOVIRT_CAPS_ENUM(caps->disk.diskDevice, VIR_DOMAIN_DISK_DEVICE_DISK);
        STRATOVIRT_CAPS_ENUM(caps->disk.bus, VIR_DOMAIN_DISK_BUS_VIRTIO);
    }

    vnc = standard && virStratoVirtCapsHas(svcaps, VIR_STRATOVIRT_FEATURE_VNC);
    gpu = standard && virStratoVirtCapsHas(svcaps, VIR_STRATOVIRT_FEATURE_VIRTIO_GPU);
    vfio = standard && virStratoVirtCapsHas(svcaps, VIR_STRATOVIRT_FEATURE_VFIO);
    rng = virStratoVirtCapsHas(svcaps, VIR_STRATOVIRT_FEATURE_VIRTIO_RNG);

    caps->graphics.supported = vnc ? VIR_TRISTATE_BOOL_YES : VIR_TRISTATE_BOOL_NO;
    if (vnc)
        STRATOVIRT_CAPS_ENUM(caps->graphics.type, VIR_DOMAIN_GRAPHICS_TYPE_VNC);

    caps->video.supported = gpu ? VIR_TRISTATE_BOOL_YES : VIR_TRISTATE_BOOL_NO;
    if (gpu)
        STRATOVIRT_CAPS_ENUM(caps->video.modelType, VIR_DOMAIN_VIDEO_TYPE_VIRTIO);

    caps->hostdev.supported = vfio ? VIR_TRISTATE_BOOL_YES : VIR_TRISTATE_BOOL_NO;
    if (vfio) {
        STRATOVIRT_CAPS_ENUM(caps->hostdev.mode, VIR_DOMAIN_HOSTDEV_MODE_SUBSYS);
        STRATOVIRT_CAPS_ENUM(caps->hostdev.startupPolicy, VIR_DOMAIN_STARTUP_POLICY_DEFAULT);
        STRATOVIRT_CAPS_ENUM(caps->hostdev.subsysType, VIR_DOMAIN_HOSTDEV_SUBSYS_TYPE_PCI);
        STRATOVIRT_CAPS_ENUM(caps->hostdev.pciBackend, VIR_STRATOVIRT_COMPAT_PCI_DRIVER_VFIO);
    }

    caps->rng.supported = rng ? VIR_TRISTATE_BOOL_YES : VIR_TRISTATE_BOOL_NO;
    if (rng) {
        STRATOVIRT_CAPS_ENUM(caps->rng.model, VIR_DOMAIN_RNG_MODEL_VIRTIO);
        STRATOVIRT_CAPS_ENUM(caps->rng.backendModel, VIR_DOMAIN_RNG_BACKEND_RANDOM);
    }

    if (arch == VIR_ARCH_AARCH64 && standard) {
        caps->gic.supported = VIR_TRISTATE_BOOL_YES;
        STRATOVIRT_CAPS_ENUM(caps->gic.version, VIR_GIC_VERSION_3);
    }

#undef STRATOVIRT_CAPS_ENUM
    return g_steal_pointer(&caps);
}
