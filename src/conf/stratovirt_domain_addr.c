/*
 * stratovirt_domain_addr.c: PCI address assignment for StratoVirt's topology
 *
 * StratoVirt's standard machines (q35 on x86_64, virt on aarch64) have one
 * root bus, pcie.0, with slot 0 taken by the host bridge (and 0x1f by the
 * ICH9 LPC on q35).  Each pcie-root-port adds a bus with one usable slot,
 * slot 0, the only place hot-plug and unplug work.  As libvirt's QEMU
 * driver does for q35, endpoint devices without an address each get a root
 * port of their own (an unused one if the domain has it, else a new one),
 * and the video device goes straight on pcie.0.  microvm has no PCI at all.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain_addr.h"
#include "domain_addr.h"
#include "viralloc.h"
#include "virerror.h"
#include "virlog.h"
#include "virstring.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_domain_addr");

#define STRATOVIRT_PCI_SLOTS 32


bool
virStratoVirtDomainIsStandard(const virDomainDef *def)
{
    return def->os.machine &&
           (STREQ(def->os.machine, "q35") || STREQ(def->os.machine, "virt"));
}


bool
virStratoVirtDomainIsMicrovm(const virDomainDef *def)
{
    return def->os.machine && STREQ(def->os.machine, "microvm");
}


/**
 * virStratoVirtDomainAddImplicitControllers:
 *
 * The root bus of a standard machine, and the virtio-serial controller a
 * virtio console needs, are there whether the XML says so or not: put them
 * in the definition so that it tells the truth.
 */
int
virStratoVirtDomainAddImplicitControllers(virDomainDef *def)
{
    size_t i;

    if (virStratoVirtDomainIsStandard(def)) {
        bool haveRoot = false;

        /* a pcie-root given without an index is index 0 */
        for (i = 0; i < def->ncontrollers; i++) {
            virDomainControllerDef *cont = def->controllers[i];

            if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI &&
                cont->model == VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT) {
                if (cont->idx == -1)
                    cont->idx = 0;
                haveRoot = true;
            }
        }
        if (!haveRoot &&
            virStratoVirtCompatDefMaybeAddController(def, VIR_DOMAIN_CONTROLLER_TYPE_PCI, 0,
                                                     VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT) < 0)
            return -1;
    }

    /* USB input sits on StratoVirt's xHCI, which is NEC's (nec-usb-xhci);
     * an input without bus= (virt-install --input tablet) may not have its
     * bus yet at this point of the parse */
    for (i = 0; i < def->ninputs; i++) {
        if (virStratoVirtCompatInputOnUSB(def, def->inputs[i]) &&
            virStratoVirtDomainIsStandard(def) &&
            virStratoVirtCompatDefMaybeAddController(def, VIR_DOMAIN_CONTROLLER_TYPE_USB, 0,
                                                     VIR_DOMAIN_CONTROLLER_MODEL_USB_NEC_XHCI) < 0)
            return -1;
    }

    for (i = 0; i < def->nconsoles; i++) {
        if (def->consoles[i]->targetType == VIR_DOMAIN_CHR_CONSOLE_TARGET_TYPE_VIRTIO &&
            virStratoVirtCompatDefMaybeAddController(def,
                                                     VIR_DOMAIN_CONTROLLER_TYPE_VIRTIO_SERIAL,
                                                     0, -1) < 0)
            return -1;
    }
    return 0;
}


/*
 * The slots in use are kept in libvirt's virDomainPCIAddressSet, with each
 * bus given its model (pcie-root for pcie.0, pcie-root-port for the root
 * ports), so its connect flags say what may go where: a root port's one
 * slot 0 takes a hot-pluggable PCIe device, pcie.0 takes root ports and
 * integrated devices from slot 1 on.  The placement policy (an endpoint
 * gets a root port of its own, added when none is free; video goes on
 * pcie.0) is the driver's, as it is the QEMU driver's own in
 * qemu_domain_address.c.
 */
#define STRATOVIRT_PCI_BUSES 256

typedef virDomainPCIAddressSet stratovirtPCIUsage;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(stratovirtPCIUsage, virDomainPCIAddressSetFree);


static bool
stratovirtPCISlotUsed(virDomainPCIAddressSet *used,
                      unsigned int bus,
                      unsigned int slot)
{
    virPCIDeviceAddress addr = { .bus = bus, .slot = slot };

    if (bus >= used->nbuses)
        return true;
    return virDomainPCIAddressSlotInUse(used, &addr);
}


/* What a device at @bus may be: whatever that bus takes */
static virDomainPCIConnectFlags
stratovirtPCIBusFlags(virDomainPCIAddressSet *used,
                      unsigned int bus)
{
    if (bus >= used->nbuses)
        return 0;
    return used->buses[bus].flags;
}


static void
stratovirtPCISlotTake(virDomainPCIAddressSet *used,
                      unsigned int bus,
                      unsigned int slot)
{
    virPCIDeviceAddress addr = { .bus = bus, .slot = slot };
    virDomainPCIConnectFlags flags = stratovirtPCIBusFlags(used, bus);

    /* A slot the XML gives twice, or on a bus that is no root port, is
     * validation's to refuse (stratovirt_domain_validate.c): here it only
     * counts as taken. */
    if (!flags || stratovirtPCISlotUsed(used, bus, slot) ||
        virDomainPCIAddressReserveAddr(used, &addr,
                                       flags & ~VIR_PCI_CONNECT_AGGREGATE_SLOT, 0) < 0) {
        virResetLastError();
        if (bus < used->nbuses && slot < G_N_ELEMENTS(used->buses[bus].slot))
            used->buses[bus].slot[slot].functions |= 1;
    }
}


static int
stratovirtPCIBusAddRootPort(virDomainPCIAddressSet *used,
                            int idx)
{
    if (idx <= 0 || idx >= (int) used->nbuses)
        return 0;
    return virDomainPCIAddressBusSetModel(&used->buses[idx],
                                          VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT,
                                          true);
}


static int
stratovirtCollectAddress(virDomainDef *def G_GNUC_UNUSED,
                         virDomainDeviceDef *dev G_GNUC_UNUSED,
                         virDomainDeviceInfo *info,
                         void *opaque)
{
    virDomainPCIAddressSet *used = opaque;

    if (info->type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI)
        stratovirtPCISlotTake(used, info->addr.pci.bus, info->addr.pci.slot);
    return 0;
}


static virDomainPCIAddressSet *
stratovirtPCIUsageNew(virDomainDef *def)
{
    g_autoptr(stratovirtPCIUsage) used = NULL;
    size_t i;

    if (!(used = virDomainPCIAddressSetAlloc(STRATOVIRT_PCI_BUSES,
                                             VIR_PCI_ADDRESS_EXTENSION_NONE)))
        return NULL;
    /* pcie.0: slot 0 is the host bridge (the model's first slot is 1) */
    if (virDomainPCIAddressBusSetModel(&used->buses[0],
                                       VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT, false) < 0)
        return NULL;
    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];

        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI &&
            cont->model == VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT &&
            stratovirtPCIBusAddRootPort(used, cont->idx) < 0)
            return NULL;
    }
    /* the ICH9 LPC bridge of q35 */
    if (def->os.machine && STREQ(def->os.machine, "q35"))
        stratovirtPCISlotTake(used, 0, 0x1f);

    virDomainDeviceInfoIterate(def, stratovirtCollectAddress, used);
    return g_steal_pointer(&used);
}


static void
stratovirtSetPCIAddress(virDomainDeviceInfo *info,
                        unsigned int bus,
                        unsigned int slot)
{
    info->type = VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI;
    info->addr.pci.domain = 0;
    info->addr.pci.bus = bus;
    info->addr.pci.slot = slot;
    info->addr.pci.function = 0;
}


static int
stratovirtRootBusFreeSlot(virDomainPCIAddressSet *used)
{
    unsigned int slot;

    for (slot = 1; slot < STRATOVIRT_PCI_SLOTS; slot++) {
        if (!stratovirtPCISlotUsed(used, 0, slot))
            return slot;
    }
    virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                   _("no free slot is left on StratoVirt's root bus pcie.0 (32 slots, 0 reserved); remove devices or give them addresses on root ports"));
    return -1;
}


static void
stratovirtRootPortSetTarget(virDomainControllerDef *cont)
{
    if (cont->opts.pciopts.chassis == -1)
        cont->opts.pciopts.chassis = cont->idx;
    if (cont->opts.pciopts.port == -1 &&
        cont->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI)
        cont->opts.pciopts.port = (cont->info.addr.pci.slot << 3) |
                                  cont->info.addr.pci.function;
}


static int
stratovirtPlaceRootPorts(virDomainDef *def,
                         virDomainPCIAddressSet *used)
{
    size_t i;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];
        int slot;

        if (cont->type != VIR_DOMAIN_CONTROLLER_TYPE_PCI ||
            cont->model != VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT)
            continue;

        if (cont->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE) {
            if ((slot = stratovirtRootBusFreeSlot(used)) < 0)
                return -1;
            stratovirtSetPCIAddress(&cont->info, 0, slot);
            stratovirtPCISlotTake(used, 0, slot);
        }
        stratovirtRootPortSetTarget(cont);
    }
    return 0;
}


/* The index of an existing root port with nothing on its slot 0, or -1 */
static int
stratovirtUnusedRootPort(virDomainDef *def,
                         virDomainPCIAddressSet *used)
{
    size_t i;

    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];

        if (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI &&
            cont->model == VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT &&
            !stratovirtPCISlotUsed(used, cont->idx, 0))
            return cont->idx;
    }
    return -1;
}


/* An existing root port with nothing on its slot 0, or a new one. */
static int
stratovirtFindOrAddRootPort(virDomainDef *def,
                            virDomainPCIAddressSet *used)
{
    virDomainControllerDef *cont;
    size_t i;
    int slot;
    int idx;

    if ((idx = stratovirtUnusedRootPort(def, used)) >= 0)
        return idx;

    /* the new one's bus number follows the highest */
    idx = 0;
    for (i = 0; i < def->ncontrollers; i++) {
        if (def->controllers[i]->type == VIR_DOMAIN_CONTROLLER_TYPE_PCI)
            idx = MAX(idx, def->controllers[i]->idx);
    }

    if (idx + 1 > 255) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("no PCI bus number is left for another pcie-root-port"));
        return -1;
    }
    if ((slot = stratovirtRootBusFreeSlot(used)) < 0)
        return -1;

    if (!(cont = virDomainDefAddController(def, VIR_DOMAIN_CONTROLLER_TYPE_PCI,
                                           idx + 1,
                                           VIR_DOMAIN_CONTROLLER_MODEL_PCIE_ROOT_PORT)))
        return -1;
    stratovirtSetPCIAddress(&cont->info, 0, slot);
    stratovirtPCISlotTake(used, 0, slot);
    stratovirtRootPortSetTarget(cont);
    if (stratovirtPCIBusAddRootPort(used, cont->idx) < 0)
        return -1;
    VIR_DEBUG("added pcie-root-port index %d at pcie.0 slot 0x%x", cont->idx, slot);
    return cont->idx;
}


static int
stratovirtAssignOne(virDomainDef *def,
                    virDomainPCIAddressSet *used,
                    virDomainDeviceInfo *info,
                    bool hotpluggable)
{
    int bus;
    int slot;

    if (info->type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE)
        return 0;

    if (hotpluggable) {
        if ((bus = stratovirtFindOrAddRootPort(def, used)) < 0)
            return -1;
        stratovirtSetPCIAddress(info, bus, 0);
        stratovirtPCISlotTake(used, bus, 0);
    } else {
        if ((slot = stratovirtRootBusFreeSlot(used)) < 0)
            return -1;
        stratovirtSetPCIAddress(info, 0, slot);
        stratovirtPCISlotTake(used, 0, slot);
    }
    return 0;
}


/**
 * virStratoVirtDomainFreeRootPort:
 *
 * The index of an existing pcie-root-port with nothing on its slot 0 (a
 * hot-plug target; StratoVirt creates root ports at start only), or -1.
 */
int
virStratoVirtDomainFreeRootPort(virDomainDef *def)
{
    g_autoptr(stratovirtPCIUsage) used = stratovirtPCIUsageNew(def);

    if (!used)
        return -1;
    return stratovirtUnusedRootPort(def, used);
}


/**
 * virStratoVirtDomainAssignDeviceAddress:
 * @hotpluggable: put it on a root port (true) or on pcie.0 (false)
 *
 * For a device being added to @def (which does not hold it yet).
 */
int
virStratoVirtDomainAssignDeviceAddress(virDomainDef *def,
                                       virDomainDeviceInfo *info,
                                       bool hotpluggable)
{
    g_autoptr(stratovirtPCIUsage) used = NULL;

    if (!virStratoVirtDomainIsStandard(def) ||
        info->type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_NONE)
        return 0;

    if (!(used = stratovirtPCIUsageNew(def)))
        return -1;
    return stratovirtAssignOne(def, used, info, hotpluggable);
}


/**
 * virStratoVirtDomainAssignAddresses:
 *
 * Gives every PCI device of a standard machine without an address one,
 * adding root ports as needed.  Devices that are not PCI on StratoVirt
 * (consoles, ps2 input, graphics) are left alone.
 */
int
virStratoVirtDomainAssignAddresses(virDomainDef *def)
{
    g_autoptr(stratovirtPCIUsage) used = NULL;
    size_t i;

    if (!virStratoVirtDomainIsStandard(def))
        return 0;

    if (!(used = stratovirtPCIUsageNew(def)))
        return -1;

    if (stratovirtPlaceRootPorts(def, used) < 0)
        return -1;

    for (i = 0; i < def->ndisks; i++) {
        if (def->disks[i]->bus == VIR_DOMAIN_DISK_BUS_VIRTIO &&
            stratovirtAssignOne(def, used, &def->disks[i]->info, true) < 0)
            return -1;
    }
    for (i = 0; i < def->nnets; i++) {
        if (stratovirtAssignOne(def, used, &def->nets[i]->info, true) < 0)
            return -1;
    }
    for (i = 0; i < def->ncontrollers; i++) {
        virDomainControllerDef *cont = def->controllers[i];

        if ((cont->type == VIR_DOMAIN_CONTROLLER_TYPE_VIRTIO_SERIAL ||
             cont->type == VIR_DOMAIN_CONTROLLER_TYPE_SCSI ||
             (cont->type == VIR_DOMAIN_CONTROLLER_TYPE_USB &&
              cont->model != VIR_DOMAIN_CONTROLLER_MODEL_USB_NONE)) &&
            stratovirtAssignOne(def, used, &cont->info, true) < 0)
            return -1;
    }
    if (def->memballoon &&
        def->memballoon->model == VIR_DOMAIN_MEMBALLOON_MODEL_VIRTIO &&
        stratovirtAssignOne(def, used, &def->memballoon->info, true) < 0)
        return -1;
    for (i = 0; i < def->nrngs; i++) {
        if (stratovirtAssignOne(def, used, &def->rngs[i]->info, true) < 0)
            return -1;
    }
    if (def->vsock &&
        stratovirtAssignOne(def, used, &def->vsock->info, true) < 0)
        return -1;
    for (i = 0; i < def->nhostdevs; i++) {
        if (def->hostdevs[i]->mode == VIR_DOMAIN_HOSTDEV_MODE_SUBSYS &&
            def->hostdevs[i]->source.subsys.type == VIR_DOMAIN_HOSTDEV_SUBSYS_TYPE_PCI &&
            stratovirtAssignOne(def, used, def->hostdevs[i]->info, true) < 0)
            return -1;
    }
    for (i = 0; i < def->nvideos; i++) {
        if (def->videos[i]->type != VIR_DOMAIN_VIDEO_TYPE_NONE &&
            stratovirtAssignOne(def, used, &def->videos[i]->info, false) < 0)
            return -1;
    }
    return 0;
}
