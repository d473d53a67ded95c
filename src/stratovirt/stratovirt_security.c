/*
 * stratovirt_security.c: labels through libvirt's security manager
 *
 * The driver stacks what libvirt.so exports, as the QEMU driver does: the
 * host's default model (AppArmor or SELinux when the host has one and the
 * configuration asks, otherwise "none"), and, in a privileged daemon, DAC
 * with the user and group of stratovirt.conf.  DAC hands the VMM's user
 * what it must open for the run (disk images, the UEFI variable store,
 * kernel and initrd, the /dev/vfio/<group> nodes of passed-through
 * devices, its run directory and log) and gives every path back when the
 * domain stops.  The previous owners are remembered on the files
 * themselves (trusted.libvirt.security.* extended attributes with a
 * reference count), so a disk used by two running domains is not handed
 * back while the other still runs, and a restarted daemon restores them
 * too.  `<seclabel>` in the domain XML is honoured (a static DAC label
 * runs the VMM as that user; relabel='no' leaves the files alone).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <unistd.h>

#include "stratovirt_compat.h"
#include "stratovirt_domain.h"
#include "stratovirt_security.h"
#include "security_manager.h"
#include "viralloc.h"
#include "virerror.h"
#include "virlog.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_security");

#define STRATOVIRT_SECURITY_DRIVER_NAME "stratovirt"


/**
 * virStratoVirtSecurityInit:
 *
 * Returns the security manager for @driver, or NULL with an error: a stack
 * of libvirt's "none" model and, in a privileged daemon, DAC with
 * stratovirt.conf's user and group.
 *
 * The primary model is "none", not the host's default: libvirt's AppArmor
 * and SELinux drivers confine a VMM with profiles and policy written for
 * QEMU (virt-aa-helper fills TEMPLATE.qemu; svirt_t), which do not
 * describe what StratoVirt opens, so picking them on a host that has them
 * would break starts there without being tested here.  On AppArmor hosts
 * the VMM is confined instead by the project's own profile for the binary
 * (src/daemon/apparmor/usr.bin.stratovirt).
 */
virSecurityManager *
virStratoVirtSecurityInit(virStratoVirtDriver *driver,
                          virStratoVirtDriverConfig *cfg)
{
    virSecurityManager *primary = NULL;
    virSecurityManager *stack = NULL;
    virSecurityManager *dac = NULL;
    unsigned int flags = 0;

    if (driver->privileged)
        flags |= VIR_SECURITY_MANAGER_PRIVILEGED;

    if (!(primary = virSecurityManagerNew("none", STRATOVIRT_SECURITY_DRIVER_NAME, flags)))
        goto error;
    if (!(stack = virSecurityManagerNewStack(primary)))
        goto error;
    primary = NULL; /* the stack's now */

    if (driver->privileged) {
        flags |= VIR_SECURITY_MANAGER_DYNAMIC_OWNERSHIP;
        if (!(dac = virSecurityManagerNewDAC(STRATOVIRT_SECURITY_DRIVER_NAME,
                                             cfg->user, cfg->group, flags, NULL)) ||
            virSecurityManagerStackAddNested(stack, dac) < 0)
            goto error;
        dac = NULL;
    }
    return stack;

 error:
    virObjectUnref(dac);
    virObjectUnref(primary);
    virObjectUnref(stack);
    return NULL;
}


/**
 * virStratoVirtSecuritySetAll:
 *
 * Called at start, after the hostdevs are on vfio-pci and before the VMM
 * is spawned: generates the domain's labels (kept in its live definition
 * and so in the status XML) and labels everything the VMM opens, in one
 * transaction with the files' metadata locked.
 */
int
virStratoVirtSecuritySetAll(virStratoVirtDriver *driver,
                            virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virSecurityManager *mgr = driver->securityManager;
    int ret = -1;

    if (virSecurityManagerGenLabel(mgr, vm->def) < 0)
        return -1;
    /* from here on the stop gives back whatever was labelled */
    priv->securityLabelled = true;

    if (virStratoVirtCompatSecurityTransactionStart(mgr) < 0)
        return -1;
    if (virStratoVirtCompatSecuritySetAllLabel(mgr, vm->def, NULL, false, false) < 0)
        goto cleanup;
    if (priv->runDir &&
        virSecurityManagerDomainSetPathLabel(mgr, vm->def, priv->runDir, true) < 0)
        goto cleanup;
    if (priv->logfile &&
        virSecurityManagerDomainSetPathLabel(mgr, vm->def, priv->logfile, false) < 0)
        goto cleanup;
    if (virStratoVirtCompatSecurityTransactionCommit(mgr, -1, true) < 0)
        goto cleanup;
    ret = 0;

 cleanup:
    virSecurityManagerTransactionAbort(mgr);
    return ret;
}


/* The VMM's process label: with DAC its user and group (the domain's
 * <seclabel> or stratovirt.conf's). */
int
virStratoVirtSecuritySetChildProcess(virStratoVirtDriver *driver,
                                     virDomainObj *vm,
                                     virCommand *cmd)
{
    return virStratoVirtCompatSecuritySetChildProcessLabel(driver->securityManager,
                                                           vm->def, cmd);
}


/**
 * virStratoVirtSecuritySetHostdev:
 *
 * The labels of a device hot-plugged into a running domain (for a PCI
 * device with DAC: its /dev/vfio/<group> node).
 */
int
virStratoVirtSecuritySetHostdev(virStratoVirtDriver *driver,
                                virDomainObj *vm,
                                virDomainHostdevDef *hostdev)
{
    virSecurityManager *mgr = driver->securityManager;
    int ret = -1;

    if (virStratoVirtCompatSecurityTransactionStart(mgr) < 0)
        return -1;
    if (virSecurityManagerSetHostdevLabel(mgr, vm->def, hostdev, NULL) < 0 ||
        virStratoVirtCompatSecurityTransactionCommit(mgr, -1, true) < 0)
        goto cleanup;
    ret = 0;

 cleanup:
    virSecurityManagerTransactionAbort(mgr);
    return ret;
}


/* A device out of the VMM (unplugged, or its hot-plug failed): its labels
 * given back.  Errors are logged. */
void
virStratoVirtSecurityRestoreHostdev(virStratoVirtDriver *driver,
                                    virDomainObj *vm,
                                    virDomainHostdevDef *hostdev)
{
    virSecurityManager *mgr = driver->securityManager;
    virErrorPtr orig;

    virErrorPreserveLast(&orig);
    if (virStratoVirtCompatSecurityTransactionStart(mgr) < 0 ||
        virSecurityManagerRestoreHostdevLabel(mgr, vm->def, hostdev, NULL) < 0 ||
        virStratoVirtCompatSecurityTransactionCommit(mgr, -1, true) < 0)
        VIR_WARN("cannot restore the labels of a host device of domain %s",
                 vm->def->name);
    virSecurityManagerTransactionAbort(mgr);
    virErrorRestore(&orig);
}


/**
 * virStratoVirtSecuritySetDisk:
 *
 * The labels of a disk hot-plugged into a running domain (with DAC: the
 * image and its backing chain owned by the VMM's user for the run).
 */
int
virStratoVirtSecuritySetDisk(virStratoVirtDriver *driver,
                             virDomainObj *vm,
                             virDomainDiskDef *disk)
{
    virSecurityManager *mgr = driver->securityManager;
    int ret = -1;

    if (virStratoVirtCompatSecurityTransactionStart(mgr) < 0)
        return -1;
    if (virStratoVirtCompatSecuritySetImageLabel(mgr, vm->def, disk->src,
                                                 VIR_SECURITY_DOMAIN_IMAGE_LABEL_BACKING_CHAIN) < 0 ||
        virStratoVirtCompatSecurityTransactionCommit(mgr, -1, true) < 0)
        goto cleanup;
    ret = 0;

 cleanup:
    virSecurityManagerTransactionAbort(mgr);
    return ret;
}


/* A disk out of the VMM (unplugged, or its hot-plug failed): its image's
 * labels given back.  Errors are logged. */
void
virStratoVirtSecurityRestoreDisk(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 virDomainDiskDef *disk)
{
    virSecurityManager *mgr = driver->securityManager;
    virErrorPtr orig;

    virErrorPreserveLast(&orig);
    if (virStratoVirtCompatSecurityTransactionStart(mgr) < 0 ||
        virStratoVirtCompatSecurityRestoreImageLabel(mgr, vm->def, disk->src,
                                                     VIR_SECURITY_DOMAIN_IMAGE_LABEL_BACKING_CHAIN) < 0 ||
        virStratoVirtCompatSecurityTransactionCommit(mgr, -1, true) < 0)
        VIR_WARN("cannot restore the labels of disk %s of domain %s",
                 disk->dst, vm->def->name);
    virSecurityManagerTransactionAbort(mgr);
    virErrorRestore(&orig);
}


/**
 * virStratoVirtSecurityRestoreAll:
 *
 * Called at stop, once the VMM is gone: every label given back (a path
 * another running domain still uses keeps its label until that one stops)
 * and the domain's labels released.  Errors are logged: the stop goes on.
 */
void
virStratoVirtSecurityRestoreAll(virStratoVirtDriver *driver,
                                virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virSecurityManager *mgr = driver->securityManager;
    virErrorPtr orig;

    if (!priv->securityLabelled || !mgr)
        return;

    virErrorPreserveLast(&orig);
    if (virStratoVirtCompatSecurityTransactionStart(mgr) < 0) {
        VIR_WARN("cannot start a security transaction for domain %s", vm->def->name);
    } else {
        virStratoVirtCompatSecurityRestoreAllLabel(mgr, vm->def, false, false);
        if (priv->logfile)
            virSecurityManagerDomainRestorePathLabel(mgr, vm->def, priv->logfile);
        if (priv->runDir)
            virSecurityManagerDomainRestorePathLabel(mgr, vm->def, priv->runDir);
        if (virStratoVirtCompatSecurityTransactionCommit(mgr, -1, true) < 0)
            VIR_WARN("cannot give back the labels of domain %s", vm->def->name);
    }
    virSecurityManagerTransactionAbort(mgr);
    if (virSecurityManagerReleaseLabel(mgr, vm->def) < 0)
        VIR_WARN("cannot release the security label of domain %s", vm->def->name);
    priv->securityLabelled = false;
    virErrorRestore(&orig);
}
