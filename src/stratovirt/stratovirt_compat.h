/*
 * stratovirt_compat.h: the differences of libvirt's internal API between
 * the libvirt releases the driver builds against (9.0 on Debian 12, 11.3 on
 * Debian 13 and bookworm-backports).
 *
 * Every WITH_LIBVIRT_* switch below is set by a feature test in meson.build
 * that compiles a probe against the fetched libvirt tree; none of them is
 * derived from a version number.  Code outside this header calls the
 * virStratoVirtCompat* helpers and never tests a WITH_LIBVIRT_* switch
 * itself, so a third libvirt release is one more probe and one more branch
 * here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt-config.h"

#include "capabilities.h"
#include "cpu_conf.h"
#include "domain_conf.h"
#include "domain_driver.h"
#include "virbitmap.h"
#include "virpci.h"
#include "virpidfile.h"
#include "virprocess.h"
#include "virstring.h"
#include "security_manager.h"
#include "virnetdevbandwidth.h"
#include "virnetdevopenvswitch.h"


/* 1. How a PCI hostdev names its host driver.
 * 9.0: an enum 'backend' (default, kvm, vfio, xen);
 * 10.0+: virDeviceHostdevPCIDriverInfo { name, model } ('model' names a
 * VFIO variant driver such as vfio-pci-igb).
 */
#if WITH_LIBVIRT_HOSTDEV_PCI_DRIVER_INFO
# define VIR_STRATOVIRT_COMPAT_PCI_DRIVER_DEFAULT VIR_DEVICE_HOSTDEV_PCI_DRIVER_NAME_DEFAULT
# define VIR_STRATOVIRT_COMPAT_PCI_DRIVER_VFIO VIR_DEVICE_HOSTDEV_PCI_DRIVER_NAME_VFIO
#else
# define VIR_STRATOVIRT_COMPAT_PCI_DRIVER_DEFAULT VIR_DOMAIN_HOSTDEV_PCI_BACKEND_DEFAULT
# define VIR_STRATOVIRT_COMPAT_PCI_DRIVER_VFIO VIR_DOMAIN_HOSTDEV_PCI_BACKEND_VFIO
#endif

static inline int
virStratoVirtCompatHostdevPCIDriver(const virDomainHostdevSubsysPCI *pci)
{
#if WITH_LIBVIRT_HOSTDEV_PCI_DRIVER_INFO
    return pci->driver.name;
#else
    return pci->backend;
#endif
}

static inline void
virStratoVirtCompatHostdevPCISetDriver(virDomainHostdevSubsysPCI *pci, int driver)
{
#if WITH_LIBVIRT_HOSTDEV_PCI_DRIVER_INFO
    pci->driver.name = driver;
#else
    pci->backend = driver;
#endif
}

static inline const char *
virStratoVirtCompatHostdevPCIDriverTypeToString(int driver)
{
#if WITH_LIBVIRT_HOSTDEV_PCI_DRIVER_INFO
    return virDeviceHostdevPCIDriverNameTypeToString(driver);
#else
    return virDomainHostdevSubsysPCIBackendTypeToString(driver);
#endif
}

/* The VFIO variant driver a hostdev asks for (<driver model='...'/>), NULL
 * where libvirt has no such notion. */
static inline const char *
virStratoVirtCompatHostdevPCIDriverModel(const virDomainHostdevSubsysPCI *pci)
{
#if WITH_LIBVIRT_HOSTDEV_PCI_DRIVER_INFO
    return pci->driver.model;
#else
    (void)pci;
    return NULL;
#endif
}


/* 2. What to do with a PCI device when it is given back.
 * 9.0: booleans in hostdev->origstates.states.pci;
 * 10.0+: a bitmap in source.subsys.u.pci.origstates.
 */
static inline void
virStratoVirtCompatHostdevPCIOrigStateReprobe(virDomainHostdevDef *hostdev)
{
#if WITH_LIBVIRT_HOSTDEV_PCI_ORIGSTATES_BITMAP
    virDomainHostdevSubsysPCI *pci = &hostdev->source.subsys.u.pci;

    if (!pci->origstates)
        pci->origstates = virBitmapNew(VIR_DOMAIN_HOSTDEV_PCI_ORIGSTATE_LAST);
    virBitmapSetBitExpand(pci->origstates, VIR_DOMAIN_HOSTDEV_PCI_ORIGSTATE_UNBIND);
    virBitmapSetBitExpand(pci->origstates, VIR_DOMAIN_HOSTDEV_PCI_ORIGSTATE_REPROBE);
#else
    hostdev->origstates.states.pci.unbind_from_stub = true;
    hostdev->origstates.states.pci.reprobe = true;
#endif
}


/* 3. ACPI tables given to the guest.
 * 9.0: one def->os.slic_table; 10.x+: a list def->os.acpiTables.
 */
static inline bool
virStratoVirtCompatDefHasACPITables(const virDomainDef *def)
{
#if WITH_LIBVIRT_OS_ACPI_TABLES
    return def->os.nacpiTables > 0;
#else
    return def->os.slic_table != NULL;
#endif
}


/* 3b. CPU topology: 10.x+ has clusters between dies and cores (1 when
 * absent), which StratoVirt's -smp takes too. */
static inline unsigned int
virStratoVirtCompatCPUClusters(const virCPUDef *cpu)
{
#if WITH_LIBVIRT_CPU_CLUSTERS
    return cpu->clusters ? cpu->clusters : 1;
#else
    (void)cpu;
    return 1;
#endif
}


/* 4. VIR_PCI_DEVICE_ADDRESS_FMT (gone in 10.x; the format is stable) */
#if !WITH_LIBVIRT_PCI_DEVICE_ADDRESS_FMT
# define VIR_PCI_DEVICE_ADDRESS_FMT "%04x:%02x:%02x.%d"
#endif


/* 5. Machines of a guest: 9.0 takes a count; 11.x a NULL-terminated list
 * and returns the count through an int *. @names must be NULL-terminated
 * and hold @nnames names. */
static inline virCapsGuestMachine **
virStratoVirtCompatCapsAllocMachines(const char *const *names, int nnames)
{
#if WITH_LIBVIRT_CAPS_ALLOC_MACHINES_NTERM
    int n = nnames;
    virCapsGuestMachine **machines = virCapabilitiesAllocMachines(names, &n);

    g_assert(n == nnames);
    return machines;
#else
    return virCapabilitiesAllocMachines(names, nnames);
#endif
}


/* 6. Capability lookups gained a reportError argument (we always want the
 * error reported). */
static inline virCapsDomainData *
virStratoVirtCompatCapsDomainDataLookup(virCaps *caps,
                                        int ostype,
                                        virArch arch,
                                        int domaintype,
                                        const char *emulator,
                                        const char *machinetype)
{
#if WITH_LIBVIRT_CAPS_LOOKUP_REPORT_ERROR
    return virCapabilitiesDomainDataLookup(caps, ostype, arch, domaintype,
                                           emulator, machinetype, true);
#else
    return virCapabilitiesDomainDataLookup(caps, ostype, arch, domaintype,
                                           emulator, machinetype);
#endif
}


static inline bool
virStratoVirtCompatCapsDomainSupported(virCaps *caps,
                                       int ostype,
                                       virArch arch,
                                       int domaintype)
{
#if WITH_LIBVIRT_CAPS_LOOKUP_REPORT_ERROR
    return virCapabilitiesDomainSupported(caps, ostype, arch, domaintype, true);
#else
    return virCapabilitiesDomainSupported(caps, ostype, arch, domaintype);
#endif
}


/* 7. virDomainHostdevInsert cannot fail any more (returns void in 10.x+) */
static inline int
virStratoVirtCompatHostdevInsert(virDomainDef *def, virDomainHostdevDef *hostdev)
{
#if WITH_LIBVIRT_HOSTDEV_INSERT_VOID
    virDomainHostdevInsert(def, hostdev);
    return 0;
#else
    return virDomainHostdevInsert(def, hostdev);
#endif
}


/* 8. Node device detach: 10.x+ takes the stub driver type and an optional
 * driver name (a VFIO variant driver). */
static inline int
virStratoVirtCompatNodeDeviceDetachVFIO(virNodeDevicePtr dev,
                                        virHostdevManager *hostdevMgr)
{
#if WITH_LIBVIRT_NODEDEV_DETACH_STUB_TYPE
    return virDomainDriverNodeDeviceDetachFlags(dev, hostdevMgr,
                                                VIR_PCI_STUB_DRIVER_VFIO, NULL);
#else
    return virDomainDriverNodeDeviceDetachFlags(dev, hostdevMgr, "vfio");
#endif
}


/* 9. virPidFileAcquire lost its waitForLock argument (it never waits). */
static inline int
virStratoVirtCompatPidFileAcquire(const char *dir, const char *name, pid_t pid)
{
#if WITH_LIBVIRT_PIDFILE_ACQUIRE_WAIT
    return virPidFileAcquire(dir, name, false, pid);
#else
    return virPidFileAcquire(dir, name, pid);
#endif
}


/* 10. virProcessGetStatInfo's RSS: long * in 9.0, unsigned long long * in
 * 10.x+.  The helper always hands out unsigned long long (KiB). */
static inline int
virStratoVirtCompatProcessGetStatInfo(unsigned long long *cpuTime,
                                      int *lastCpu,
                                      unsigned long long *vm_rss,
                                      pid_t pid,
                                      pid_t tid)
{
#if WITH_LIBVIRT_PROCESS_STAT_RSS_ULL
    return virProcessGetStatInfo(cpuTime, NULL, NULL, lastCpu, vm_rss, pid, tid);
#else
    long rss = 0;
    int ret = virProcessGetStatInfo(cpuTime, NULL, NULL, lastCpu,
                                    vm_rss ? &rss : NULL, pid, tid);

    if (ret == 0 && vm_rss)
        *vm_rss = rss < 0 ? 0 : (unsigned long long)rss;
    return ret;
#endif
}


/* The user and system parts of a process's (or thread's) CPU time, in ns;
 * the RSS argument, which differs (see above), is not asked for. */
static inline int
virStratoVirtCompatProcessGetCpuTimes(unsigned long long *cpuTime,
                                      unsigned long long *userTime,
                                      unsigned long long *sysTime,
                                      pid_t pid,
                                      pid_t tid)
{
    return virProcessGetStatInfo(cpuTime, userTime, sysTime, NULL, NULL, pid, tid);
}

/* 11. virStringParseVersion: unsigned long * in 9.0, unsigned long long *
 * in 10.x+.  The helper always hands out unsigned long long. */
static inline int
virStratoVirtCompatParseVersion(unsigned long long *version,
                                const char *str,
                                bool allowMissing)
{
#if WITH_LIBVIRT_PARSE_VERSION_ULL
    return virStringParseVersion(version, str, allowMissing);
#else
    unsigned long v = 0;
    int ret = virStringParseVersion(&v, str, allowMissing);

    if (ret == 0)
        *version = v;
    return ret;
#endif
}


/* 12. Controllers: virDomainDefMaybeAddController returned -1/0/1 in 9.0
 * and returns whether it added one (it cannot fail) in 10.x+. */
static inline int
virStratoVirtCompatDefMaybeAddController(virDomainDef *def,
                                         virDomainControllerType type,
                                         int idx,
                                         int model)
{
#if WITH_LIBVIRT_MAYBE_ADD_CONTROLLER_BOOL
    virDomainDefMaybeAddController(def, type, idx, model);
    return 0;
#else
    return virDomainDefMaybeAddController(def, type, idx, model) < 0 ? -1 : 0;
#endif
}


/* 13. The security manager: transactions and all-labels calls take the
 * host's shared filesystems (NULL: none, as with the QEMU driver's default
 * shared_filesystems), commit takes lockMetadataException, and the child
 * process label can be the binary's own (not wanted for the VMM). */
static inline int
virStratoVirtCompatSecurityTransactionStart(virSecurityManager *mgr)
{
#if WITH_LIBVIRT_SECURITY_SHARED_FILESYSTEMS
    return virSecurityManagerTransactionStart(mgr, NULL);
#else
    return virSecurityManagerTransactionStart(mgr);
#endif
}

static inline int
virStratoVirtCompatSecurityTransactionCommit(virSecurityManager *mgr,
                                             pid_t pid,
                                             bool lock)
{
#if WITH_LIBVIRT_SECURITY_COMMIT_LOCK_EXCEPTION
    return virSecurityManagerTransactionCommit(mgr, pid, lock, false);
#else
    return virSecurityManagerTransactionCommit(mgr, pid, lock);
#endif
}

static inline int
virStratoVirtCompatSecuritySetAllLabel(virSecurityManager *mgr,
                                       virDomainDef *def,
                                       const char *incomingPath,
                                       bool chardevStdioLogd,
                                       bool migrated)
{
#if WITH_LIBVIRT_SECURITY_SHARED_FILESYSTEMS
    return virSecurityManagerSetAllLabel(mgr, NULL, def, incomingPath,
                                         chardevStdioLogd, migrated);
#else
    return virSecurityManagerSetAllLabel(mgr, def, incomingPath,
                                         chardevStdioLogd, migrated);
#endif
}

static inline int
virStratoVirtCompatSecurityRestoreAllLabel(virSecurityManager *mgr,
                                           virDomainDef *def,
                                           bool migrated,
                                           bool chardevStdioLogd)
{
#if WITH_LIBVIRT_SECURITY_SHARED_FILESYSTEMS
    return virSecurityManagerRestoreAllLabel(mgr, NULL, def, migrated, chardevStdioLogd);
#else
    return virSecurityManagerRestoreAllLabel(mgr, def, migrated, chardevStdioLogd);
#endif
}

static inline int
virStratoVirtCompatSecuritySetImageLabel(virSecurityManager *mgr,
                                         virDomainDef *def,
                                         virStorageSource *src,
                                         virSecurityDomainImageLabelFlags flags)
{
#if WITH_LIBVIRT_SECURITY_SHARED_FILESYSTEMS
    return virSecurityManagerSetImageLabel(mgr, NULL, def, src, flags);
#else
    return virSecurityManagerSetImageLabel(mgr, def, src, flags);
#endif
}

static inline int
virStratoVirtCompatSecurityRestoreImageLabel(virSecurityManager *mgr,
                                             virDomainDef *def,
                                             virStorageSource *src,
                                             virSecurityDomainImageLabelFlags flags)
{
#if WITH_LIBVIRT_SECURITY_SHARED_FILESYSTEMS
    return virSecurityManagerRestoreImageLabel(mgr, NULL, def, src, flags);
#else
    return virSecurityManagerRestoreImageLabel(mgr, def, src, flags);
#endif
}

static inline int
virStratoVirtCompatSecuritySetChildProcessLabel(virSecurityManager *mgr,
                                                virDomainDef *def,
                                                virCommand *cmd)
{
#if WITH_LIBVIRT_SECURITY_CHILD_BINARY_LABEL
    return virSecurityManagerSetChildProcessLabel(mgr, def, false, cmd);
#else
    return virSecurityManagerSetChildProcessLabel(mgr, def, cmd);
#endif
}


/* 14. virStringSortCompare became a GCompareDataFunc (an opaque argument)
 * in 10.x+: sort a GPtrArray of strings with whichever it is, never through
 * a cast to the other function type. */
static inline void
virStratoVirtCompatSortStrings(GPtrArray *strings)
{
#if WITH_LIBVIRT_SORT_COMPARE_OPAQUE
    g_ptr_array_sort_with_data(strings, virStringSortCompare, NULL);
#else
    g_ptr_array_sort(strings, virStringSortCompare);
#endif
}


/* 15. Networking: virNetDevBandwidthSet takes flags instead of two bools,
 * virNetDevOpenvswitchRemovePort finds the bridge itself, and
 * virDomainNetReleaseActualDevice no longer needs the domain (10.x+). */
static inline int
virStratoVirtCompatNetDevBandwidthSet(const char *ifname,
                                      const virNetDevBandwidth *bandwidth,
                                      bool hierarchicalClass,
                                      bool swapped)
{
#if WITH_LIBVIRT_BANDWIDTH_SET_FLAGS
    unsigned int flags = 0;

    if (hierarchicalClass)
        flags |= VIR_NETDEV_BANDWIDTH_SET_HIERARCHICAL_CLASS;
    if (swapped)
        flags |= VIR_NETDEV_BANDWIDTH_SET_DIR_SWAPPED;
    return virNetDevBandwidthSet(ifname, bandwidth, flags);
#else
    return virNetDevBandwidthSet(ifname, bandwidth, hierarchicalClass, swapped);
#endif
}

static inline int
virStratoVirtCompatOpenvswitchRemovePort(const char *brname, const char *ifname)
{
#if WITH_LIBVIRT_OVS_REMOVE_PORT_IFNAME
    (void)brname;
    return virNetDevOpenvswitchRemovePort(ifname);
#else
    return virNetDevOpenvswitchRemovePort(brname, ifname);
#endif
}

static inline int
virStratoVirtCompatNetReleaseActualDevice(virConnectPtr conn,
                                          virDomainDef *def,
                                          virDomainNetDef *iface)
{
#if WITH_LIBVIRT_NET_RELEASE_NO_DEF
    (void)def;
    return virDomainNetReleaseActualDevice(conn, iface);
#else
    return virDomainNetReleaseActualDevice(conn, def, iface);
#endif
}


/* 16. An <input> without bus= has libvirt's default bus from the parser in
 * 9.0, but in 10.x+ it is VIR_DOMAIN_INPUT_BUS_DEFAULT until the device
 * post-parse, which runs after the driver's basic callback (where the
 * implicit controllers are added).  Whether the input is, or is going to
 * be, on USB: for the default, libvirt's own choice for an HVM guest
 * (mouse and keyboard on PS/2 on x86, virtio on s390 and for passthrough,
 * no bus for evdev, USB otherwise). */
static inline bool
virStratoVirtCompatInputOnUSB(const virDomainDef *def,
                              const virDomainInputDef *input)
{
#if WITH_LIBVIRT_INPUT_BUS_DEFAULT
    if (input->bus == VIR_DOMAIN_INPUT_BUS_DEFAULT) {
        if (def->os.type != VIR_DOMAIN_OSTYPE_HVM)
            return false;
        if ((input->type == VIR_DOMAIN_INPUT_TYPE_MOUSE ||
             input->type == VIR_DOMAIN_INPUT_TYPE_KBD) &&
            (ARCH_IS_X86(def->os.arch) || def->os.arch == VIR_ARCH_NONE))
            return false;
        if (ARCH_IS_S390(def->os.arch) ||
            input->type == VIR_DOMAIN_INPUT_TYPE_PASSTHROUGH ||
            input->type == VIR_DOMAIN_INPUT_TYPE_EVDEV)
            return false;
        return true;
    }
#else
    (void)def;
#endif
    return input->bus == VIR_DOMAIN_INPUT_BUS_USB;
}


/* 17. virDomainNetInsert cannot fail (returns void) in 10.x+. */
static inline int
virStratoVirtCompatDomainNetInsert(virDomainDef *def,
                                   virDomainNetDef *net)
{
#if WITH_LIBVIRT_NET_INSERT_VOID
    virDomainNetInsert(def, net);
    return 0;
#else
    return virDomainNetInsert(def, net);
#endif
}
