/*
 * stratovirt_power.c: graceful shutdown and reboot, by the means each
 * StratoVirt machine really has
 *
 * StratoVirt's system_powerdown is an ACPI power button only on the
 * aarch64 'virt' machine (the guest is asked, POWERDOWN then SHUTDOWN
 * follow); on x86 'q35' and on microvm it tears the vCPUs down at once,
 * with no event (shared/stratovirt-contract.md §3.4).  A reboot on 'virt'
 * is therefore done as the QEMU driver's "fake reboot": the guest is
 * asked to power off, and when its VMM has exited in order, the VMM is
 * started again with the same (live) definition.  What a machine cannot
 * do gracefully is refused by name, never turned into a hard reset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_domain.h"
#include "stratovirt_power.h"
#include "stratovirt_process.h"
#include "virerror.h"
#include "virlog.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_power");


/* The modes no StratoVirt machine has, for shutdown and reboot alike
 * (VIR_DOMAIN_SHUTDOWN_* and VIR_DOMAIN_REBOOT_* share their values); the
 * agent mode was taken by the caller (stratovirt_guest.c) */
static int
stratovirtPowerRefuseModes(unsigned int flags,
                           bool reboot)
{
    if (flags & VIR_DOMAIN_SHUTDOWN_INITCTL) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("StratoVirt runs virtual machines, not containers: there is no initctl to ask (--mode initctl)"));
        return -1;
    }
    if (flags & VIR_DOMAIN_SHUTDOWN_SIGNAL) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("StratoVirt runs virtual machines, not containers: there is no init process to signal (--mode signal)"));
        return -1;
    }
    if (flags & VIR_DOMAIN_SHUTDOWN_PARAVIRT) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("StratoVirt has no paravirtualized power control (--mode paravirt, Xen's); use --mode acpi on an aarch64 'virt' machine"));
        return -1;
    }
    return 0;
}


static bool
stratovirtPowerHasACPIButton(virDomainDef *def)
{
    return def->os.arch == VIR_ARCH_AARCH64 && STREQ_NULLABLE(def->os.machine, "virt");
}


/**
 * virStratoVirtPowerChooseShutdown:
 * @flags: VIR_DOMAIN_SHUTDOWN_* modes
 *
 * The default mode on a machine without an ACPI power button is
 * StratoVirt's power-off (documented: the guest is not asked); asking for
 * --mode acpi there is refused, since the guest would not be asked.
 */
int
virStratoVirtPowerChooseShutdown(virDomainDef *def,
                                 unsigned int flags,
                                 virStratoVirtPowerMethod *method)
{
    if (stratovirtPowerRefuseModes(flags, false) < 0)
        return -1;

    if (stratovirtPowerHasACPIButton(def)) {
        *method = VIR_STRATOVIRT_POWER_ACPI;
        return 0;
    }
    if (flags & VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt's '%1$s' machine has no ACPI power button: its system_powerdown powers the guest off at once without asking it; run 'virsh shutdown' without --mode for that, or use an aarch64 'virt' machine"),
                       def->os.machine);
        return -1;
    }
    *method = VIR_STRATOVIRT_POWER_OFF;
    return 0;
}


/**
 * virStratoVirtPowerChooseReboot:
 * @flags: VIR_DOMAIN_REBOOT_* modes
 *
 * Only a machine with an ACPI power button reboots gracefully; elsewhere
 * every mode is refused, pointing at 'virsh reset' for the hard reset
 * StratoVirt can do.
 */
int
virStratoVirtPowerChooseReboot(virDomainDef *def,
                               unsigned int flags,
                               virStratoVirtPowerMethod *method)
{
    if (stratovirtPowerRefuseModes(flags, true) < 0)
        return -1;

    if (STREQ_NULLABLE(def->os.machine, "microvm")) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("a StratoVirt microvm cannot reboot: a reset ends it; destroy and start it instead"));
        return -1;
    }
    if (!stratovirtPowerHasACPIButton(def)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("StratoVirt's '%1$s' machine cannot reboot the guest gracefully: it has no ACPI power button; use 'virsh reset' for a hard reset, or an aarch64 'virt' machine"),
                       def->os.machine);
        return -1;
    }
    *method = VIR_STRATOVIRT_POWER_ACPI;
    return 0;
}


/**
 * virStratoVirtPowerFakeReboot:
 *
 * The guest powered itself off after a reboot request and its VMM exited
 * in order: start a new VMM with the same live definition and the same
 * domain id, as the QEMU driver's fake reboot resets and resumes its VMM.
 * Called with @vm locked and its job held, from the exit handler.  Emits
 * the reboot and resumed events, or on failure the stopped event.
 */
void
virStratoVirtPowerFakeReboot(virStratoVirtDriver *driver,
                             virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virDomainDef) live = NULL;
    int id = vm->def->id;

    priv->fakeReboot = false;
    VIR_DEBUG("domain %s: guest powered off for a reboot, starting its VMM again",
              vm->def->name);

    live = virDomainDefCopy(vm->def, driver->xmlopt, NULL, false);
    /* a balloon target still pending is the next run's, not what the
     * VMM reported meanwhile */
    if (live && priv->balloonPending)
        live->mem.cur_balloon = priv->balloonPending;
    virStratoVirtProcessStop(driver, vm, VIR_DOMAIN_SHUTOFF_SHUTDOWN);
    /* between the two VMMs, a client sees a guest shutting down, not one
     * that is off: the reboot has not ended */
    virDomainObjSetState(vm, VIR_DOMAIN_SHUTDOWN, VIR_DOMAIN_SHUTDOWN_UNKNOWN);

    if (live) {
        /* the next run gets the definition this one had (hot-plugged
         * devices included), the persistent one stays the next boot's */
        if (vm->persistent) {
            virDomainDefFree(vm->newDef);
            vm->newDef = g_steal_pointer(&vm->def);
        } else {
            g_clear_pointer(&vm->def, virDomainDefFree);
        }
        vm->def = g_steal_pointer(&live);
        vm->def->id = -1;
        priv->rebootId = id;
    }

    if (!vm->def ||
        virStratoVirtProcessStart(driver, vm, NULL, VIR_DOMAIN_RUNNING_BOOTED,
                                  VIR_STRATOVIRT_START_REBOOT) < 0) {
        VIR_WARN("domain %s: restart after a guest reboot failed: %s", vm->def->name,
                 virGetLastErrorMessage());
        priv->rebootId = 0;
        virObjectEventStateQueue(driver->domainEventState,
                                 virDomainEventLifecycleNewFromObj(vm,
                                                                   VIR_DOMAIN_EVENT_STOPPED,
                                                                   VIR_DOMAIN_EVENT_STOPPED_FAILED));
        if (!vm->persistent)
            virDomainObjListRemove(driver->domains, vm);
        return;
    }

    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventRebootNewFromObj(vm));
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventLifecycleNewFromObj(vm,
                                                               VIR_DOMAIN_EVENT_RESUMED,
                                                               VIR_DOMAIN_EVENT_RESUMED_UNPAUSED));
}
