/*
 * stratovirt_hostdev.c: PCI passthrough through libvirt's virHostdevManager
 *
 * The manager is the one the QEMU driver uses (its state lives in
 * /run/libvirt/hostdevmgr), so a device used by a domain of either driver
 * is refused to the other.  Managed devices are detached from their host
 * driver, bound to vfio-pci and reset; unmanaged ones must already be on
 * vfio-pci.  They go back only after the VMM has exited.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_domain.h"
#include "stratovirt_hostdev.h"
#include "virerror.h"
#include "virhostdev.h"
#include "virlog.h"
#include "virpci.h"
#include "virfile.h"
#include <dirent.h>

#define VIR_FROM_THIS VIR_FROM_NONE

VIR_LOG_INIT("stratovirt.stratovirt_hostdev");

#define STRATOVIRT_HOSTDEV_DRIVER "stratovirt"


/* What the kernel needs for VFIO: an IOMMU with groups, and vfio loaded */
static int
stratovirtHostdevCheckHost(void)
{
    g_autoptr(DIR) dir = NULL;
    struct dirent *ent;
    bool groups = false;

    if (virDirOpenIfExists(&dir, "/sys/kernel/iommu_groups") > 0) {
        while (virDirRead(dir, &ent, "/sys/kernel/iommu_groups") > 0) {
            groups = true;
            break;
        }
    }
    if (!groups) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("this host has no IOMMU groups, so PCI devices cannot be passed through: enable VT-d/AMD-Vi/SMMU in the firmware and add intel_iommu=on (Intel) or amd_iommu=on (AMD) to the kernel command line; check with 'dmesg | grep -i iommu'"));
        return -1;
    }
    if (!virFileExists("/dev/vfio/vfio")) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("/dev/vfio/vfio does not exist: load the VFIO driver with 'modprobe vfio-pci'"));
        return -1;
    }
    return 0;
}


static bool
stratovirtDomainHasPCIHostdevs(virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->nhostdevs; i++) {
        if (virHostdevIsPCIDevice(def->hostdevs[i]))
            return true;
    }
    return false;
}


/**
 * virStratoVirtHostdevPrepareDomain:
 *
 * All or nothing: on failure every device is back where it was.
 */
int
virStratoVirtHostdevPrepareDomain(virStratoVirtDriver *driver,
                                  virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    unsigned int flags = VIR_HOSTDEV_COLD_BOOT;

    priv->hostdevsPrepared = false;
    if (!stratovirtDomainHasPCIHostdevs(vm->def))
        return 0;

    if (!driver->hostdevMgr) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("PCI passthrough needs the system instance (stratovirt:///system) running as root"));
        return -1;
    }
    if (stratovirtHostdevCheckHost() < 0)
        return -1;

    if (virHostdevPreparePCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                    vm->def->name, vm->def->uuid,
                                    vm->def->hostdevs, vm->def->nhostdevs,
                                    flags) < 0)
        return -1;

    priv->hostdevsPrepared = true;
    return 0;
}


void
virStratoVirtHostdevReattachDomain(virStratoVirtDriver *driver,
                                   virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;

    if (!priv->hostdevsPrepared || !driver->hostdevMgr)
        return;

    virHostdevReAttachPCIDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                 vm->def->name, vm->def->hostdevs,
                                 vm->def->nhostdevs);
    virHostdevReAttachDomainDevices(driver->hostdevMgr, STRATOVIRT_HOSTDEV_DRIVER,
                                    vm->def, VIR_HOSTDEV_SP_USB | VIR_HOSTDEV_SP_SCSI);
    priv->hostdevsPrepared = false;
}


void
virStratoVirtHostdevUpdateActive(virStratoVirtDriver *driver,
                                 virDomainObj *vm)
{
    if (!driver->hostdevMgr || !stratovirtDomainHasPCIHostdevs(vm->def))
        return;

    if (virHostdevUpdateActivePCIDevices(driver->hostdevMgr, vm->def->hostdevs,
                                         vm->def->nhostdevs,
                                         STRATOVIRT_HOSTDEV_DRIVER,
                                         vm->def->name) < 0)
        VIR_WARN("cannot mark the PCI devices of domain %s as in use: %s",
                 vm->def->name, virGetLastErrorMessage());
}


void
virStratoVirtHostdevDeviceDeleted(virStratoVirtDriver *driver G_GNUC_UNUSED,
                                  virDomainObj *vm,
                                  const char *alias)
{
    VIR_DEBUG("domain %s: device %s deleted", vm->def->name, alias);
}
