/*
 * stratovirt_security.c: DAC ownership for a VMM that runs unprivileged
 *
 * When stratovirt.conf names a user and group other than the daemon's, the
 * VMM runs as them, and what it must open read-write is handed to them for
 * the run: disk images, the UEFI variable store, its run directory and log,
 * and the /dev/vfio/<group> nodes of passed-through devices.  The previous
 * owners are remembered in the status XML (so a restarted daemon can give
 * them back too) and restored when the domain stops.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <sys/stat.h>
#include <unistd.h>

#include "stratovirt_domain.h"
#include "stratovirt_security.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virhostdev.h"
#include "virpci.h"
#include "virlog.h"
#include "virstring.h"
#include "virxml.h"
#include "stratovirt_i18n.h"

#define VIR_FROM_THIS VIR_FROM_SECURITY

VIR_LOG_INIT("stratovirt.stratovirt_security");

struct _virStratoVirtDACLabel {
    char *path;
    uid_t uid;   /* the owner before the domain started */
    gid_t gid;
};


void
virStratoVirtDACLabelFree(virStratoVirtDACLabel *label)
{
    if (!label)
        return;
    g_free(label->path);
    g_free(label);
}


static int
stratovirtSecurityChown(virDomainObj *vm,
                        const char *path,
                        uid_t uid,
                        gid_t gid)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtDACLabel *label;
    struct stat sb;
    size_t i;

    if (!path)
        return 0;
    for (i = 0; i < priv->dacLabels->len; i++) {
        if (STREQ(((virStratoVirtDACLabel *) priv->dacLabels->pdata[i])->path, path))
            return 0;
    }
    if (stat(path, &sb) < 0) {
        virReportSystemError(errno, _("cannot give '%1$s' to the VMM's user"), path);
        return -1;
    }
    label = g_new0(virStratoVirtDACLabel, 1);
    label->path = g_strdup(path);
    label->uid = sb.st_uid;
    label->gid = sb.st_gid;
    g_ptr_array_add(priv->dacLabels, label);

    if ((sb.st_uid != uid || sb.st_gid != gid) && chown(path, uid, gid) < 0) {
        virReportSystemError(errno, _("cannot change the owner of '%1$s' to %2$u:%3$u"),
                             path, (unsigned int) uid, (unsigned int) gid);
        return -1;
    }
    VIR_DEBUG("domain %s: %s owned by %u:%u for the run (was %u:%u)", vm->def->name,
              path, (unsigned int) uid, (unsigned int) gid,
              (unsigned int) label->uid, (unsigned int) label->gid);
    return 0;
}


/**
 * virStratoVirtSecuritySetAll:
 *
 * Called at start, after the hostdevs are on vfio-pci and before the VMM
 * is spawned.  Nothing to do when the VMM runs as the daemon's user.
 */
int
virStratoVirtSecuritySetAll(virStratoVirtDriver *driver,
                            virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    uid_t uid = cfg->user;
    gid_t gid = cfg->group;
    size_t i;

    if (uid == geteuid() && gid == getegid())
        return 0;

    if (stratovirtSecurityChown(vm, priv->runDir, uid, gid) < 0 ||
        stratovirtSecurityChown(vm, priv->logfile, uid, gid) < 0)
        return -1;

    for (i = 0; i < vm->def->ndisks; i++) {
        virDomainDiskDef *disk = vm->def->disks[i];

        if (!disk->src->path || !virStorageSourceIsLocalStorage(disk->src))
            continue;
        if (stratovirtSecurityChown(vm, disk->src->path, uid, gid) < 0)
            return -1;
    }
    if (vm->def->os.loader && vm->def->os.loader->nvram &&
        stratovirtSecurityChown(vm, vm->def->os.loader->nvram->path, uid, gid) < 0)
        return -1;

    for (i = 0; i < vm->def->nhostdevs; i++) {
        if (virStratoVirtSecuritySetHostdev(driver, vm, vm->def->hostdevs[i]) < 0)
            return -1;
    }
    return 0;
}


/**
 * virStratoVirtSecuritySetHostdev:
 *
 * The /dev/vfio/<group> node of a PCI device, for the VMM's user; also
 * for a device hot-plugged into a running domain.
 */
int
virStratoVirtSecuritySetHostdev(virStratoVirtDriver *driver,
                                virDomainObj *vm,
                                virDomainHostdevDef *hostdev)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    g_autofree char *dev = NULL;

    if ((cfg->user == geteuid() && cfg->group == getegid()) ||
        !virHostdevIsPCIDevice(hostdev))
        return 0;
    if (!(dev = virPCIDeviceAddressGetIOMMUGroupDev(&hostdev->source.subsys.u.pci.addr)))
        return -1;
    return stratovirtSecurityChown(vm, dev, cfg->user, cfg->group);
}


/**
 * virStratoVirtSecurityRestoreAll:
 *
 * Gives every path that still exists back to its previous owner, in the
 * reverse order of taking.  Errors are logged: the stop goes on.
 */
void
virStratoVirtSecurityRestoreAll(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    size_t i;

    for (i = priv->dacLabels->len; i > 0; i--) {
        virStratoVirtDACLabel *label = priv->dacLabels->pdata[i - 1];

        if (!virFileExists(label->path))
            continue;
        if (chown(label->path, label->uid, label->gid) < 0)
            VIR_WARN("cannot give '%s' back to %u:%u: %s", label->path,
                     (unsigned int) label->uid, (unsigned int) label->gid,
                     g_strerror(errno));
    }
    g_ptr_array_set_size(priv->dacLabels, 0);
}


int
virStratoVirtSecurityFormat(virBuffer *buf,
                            virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    size_t i;

    for (i = 0; i < priv->dacLabels->len; i++) {
        virStratoVirtDACLabel *label = priv->dacLabels->pdata[i];

        virBufferEscapeString(buf, "<dac path='%s'", label->path);
        virBufferAsprintf(buf, " uid='%u' gid='%u'/>\n",
                          (unsigned int) label->uid, (unsigned int) label->gid);
    }
    return 0;
}


int
virStratoVirtSecurityParse(xmlXPathContextPtr ctxt,
                           virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    g_autofree xmlNodePtr *nodes = NULL;
    int n;
    int i;

    if ((n = virXPathNodeSet("./dac", ctxt, &nodes)) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        virStratoVirtDACLabel *label = g_new0(virStratoVirtDACLabel, 1);
        unsigned int uid = 0;
        unsigned int gid = 0;

        label->path = virXMLPropString(nodes[i], "path");
        if (!label->path ||
            virXMLPropUInt(nodes[i], "uid", 10, VIR_XML_PROP_NONE, &uid) < 0 ||
            virXMLPropUInt(nodes[i], "gid", 10, VIR_XML_PROP_NONE, &gid) < 0) {
            virStratoVirtDACLabelFree(label);
            return -1;
        }
        label->uid = uid;
        label->gid = gid;
        g_ptr_array_add(priv->dacLabels, label);
    }
    return 0;
}
