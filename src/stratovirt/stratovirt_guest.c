/*
 * stratovirt_guest.c: what the driver asks the guest through its agent
 * (qemu-ga on the virtio-serial port named org.qemu.guest_agent.0)
 *
 * The agent of a running domain is opened when its VMM is up (start and
 * reconnect) and closed when it stops.  Its state (answering or not) is
 * the channel state of the live XML and the agent lifecycle event.  Each
 * API takes an agent job (monitor jobs go on meanwhile) and waits on the
 * agent without the domain lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_agent.h"
#include "stratovirt_domain.h"
#include "stratovirt_guest.h"
#include "datatypes.h"
#include "domain_event.h"
#include "viraccessapicheck.h"
#include "viralloc.h"
#include "virerror.h"
#include "virlog.h"
#include "virtypedparam.h"
#include "stratovirt_i18n.h"

#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_guest");


/**
 * virStratoVirtGuestAgentChannel:
 *
 * The domain's agent channel, or NULL
 */
virDomainChrDef *
virStratoVirtGuestAgentChannel(const virDomainDef *def)
{
    size_t i;

    for (i = 0; i < def->nchannels; i++) {
        virDomainChrDef *chr = def->channels[i];

        if (chr->targetType == VIR_DOMAIN_CHR_CHANNEL_TARGET_TYPE_VIRTIO &&
            chr->source->type == VIR_DOMAIN_CHR_TYPE_UNIX &&
            STREQ_NULLABLE(chr->target.name, VIR_STRATOVIRT_AGENT_CHANNEL))
            return chr;
    }
    return NULL;
}


typedef struct {
    virStratoVirtDriver *driver;
    virDomainObj *vm;
} stratovirtGuestNotifyData;

static void
stratovirtGuestNotifyDataFree(void *opaque)
{
    stratovirtGuestNotifyData *data = opaque;

    virObjectUnref(data->vm);
    g_free(data);
}


/* The agent began or stopped answering: the channel state in the live
 * XML and the agent lifecycle event */
static void
stratovirtGuestAgentState(virStratoVirtAgent *agent,
                          bool connected,
                          void *opaque)
{
    stratovirtGuestNotifyData *data = opaque;
    virStratoVirtDriver *driver = data->driver;
    virDomainObj *vm = data->vm;
    virStratoVirtDomainObjPrivate *priv;
    virObjectEvent *ev = NULL;
    virDomainChrDef *chr;
    int reason = VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL;

    virObjectLock(vm);
    priv = vm->privateData;
    if (priv->agent != agent || !virDomainObjIsActive(vm) ||
        !(chr = virStratoVirtGuestAgentChannel(vm->def))) {
        virObjectUnlock(vm);
        return;
    }
    VIR_DEBUG("domain %s: guest agent %s", vm->def->name,
              connected ? "connected" : "disconnected");
    if (connected && !priv->agentSeen)
        reason = VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_DOMAIN_STARTED;
    if (connected)
        priv->agentSeen = true;
    chr->state = connected ? VIR_DOMAIN_CHR_DEVICE_STATE_CONNECTED :
                             VIR_DOMAIN_CHR_DEVICE_STATE_DISCONNECTED;
    ev = virDomainEventAgentLifecycleNewFromObj(vm,
                                                connected ?
                                                VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED :
                                                VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_DISCONNECTED,
                                                reason);
    {
        g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);

        if (virDomainObjSave(vm, driver->xmlopt, cfg->stateDir) < 0)
            VIR_WARN("cannot save the status of domain %s", vm->def->name);
    }
    virObjectUnlock(vm);
    virObjectEventStateQueue(driver->domainEventState, ev);
}


/**
 * virStratoVirtGuestOpenAgent:
 *
 * Called with @vm locked, its VMM up.  A domain without an agent channel
 * has nothing to open; a channel that cannot be reached leaves the agent
 * closed (the APIs say so) rather than failing the start.
 */
void
virStratoVirtGuestOpenAgent(virStratoVirtDriver *driver,
                            virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virDomainChrDef *chr = virStratoVirtGuestAgentChannel(vm->def);
    stratovirtGuestNotifyData *data;

    if (!chr || priv->agent || !chr->source->data.nix.path)
        return;
    data = g_new0(stratovirtGuestNotifyData, 1);
    data->driver = driver;
    data->vm = virObjectRef(vm);
    chr->state = VIR_DOMAIN_CHR_DEVICE_STATE_DISCONNECTED;
    priv->agentSeen = false;
    if (!(priv->agent = virStratoVirtAgentOpen(chr->source->data.nix.path,
                                               stratovirtGuestAgentState, data,
                                               stratovirtGuestNotifyDataFree))) {
        VIR_WARN("domain %s: %s", vm->def->name, virGetLastErrorMessage());
        virResetLastError();
        stratovirtGuestNotifyDataFree(data);
        return;
    }
    if (priv->agentTimeout != 0)
        virStratoVirtAgentSetTimeout(priv->agent, priv->agentTimeout);
}


/**
 * virStratoVirtGuestReset:
 *
 * Called with @vm locked when the guest was reset (StratoVirt's RESET):
 * the agent went down with the guest; it is reported connected again
 * when it answers after the boot.
 */
void
virStratoVirtGuestReset(virStratoVirtDriver *driver,
                        virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virDomainChrDef *chr = virStratoVirtGuestAgentChannel(vm->def);

    if (!priv->agent || !chr || !virStratoVirtAgentGuestReset(priv->agent))
        return;
    chr->state = VIR_DOMAIN_CHR_DEVICE_STATE_DISCONNECTED;
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventAgentLifecycleNewFromObj(vm,
                                                                    VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_DISCONNECTED,
                                                                    VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL));
}


/* Called with @vm locked */
void
virStratoVirtGuestCloseAgent(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virDomainChrDef *chr;

    if (!priv->agent)
        return;
    virStratoVirtAgentClose(g_steal_pointer(&priv->agent));
    if ((chr = virStratoVirtGuestAgentChannel(vm->def)))
        chr->state = VIR_DOMAIN_CHR_DEVICE_STATE_DEFAULT;
}


/* Called with @vm locked and an agent job held: the agent, with the domain
 * unlocked, or NULL with the error reported (as the QEMU driver reports
 * it: no channel, paused guest, agent not answering) */
static virStratoVirtAgent *
stratovirtGuestEnterAgent(virDomainObj *vm)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtAgent *agent;

    if (virDomainObjCheckActive(vm) < 0)
        return NULL;
    if (!virStratoVirtGuestAgentChannel(vm->def)) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("the domain has no guest agent channel: add <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel> (virt-install --channel unix,target.type=virtio,name=org.qemu.guest_agent.0) and run qemu-ga in the guest"));
        return NULL;
    }
    if (virDomainObjGetState(vm, NULL) != VIR_DOMAIN_RUNNING) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("the domain is not running: the guest agent cannot answer; resume it first"));
        return NULL;
    }
    if (!priv->agent || !virStratoVirtAgentIsConnected(priv->agent)) {
        virReportError(VIR_ERR_AGENT_UNRESPONSIVE, "%s",
                       _("the guest agent is not connected: qemu-ga does not answer on the domain's org.qemu.guest_agent.0 channel (is it installed and running in the guest?)"));
        return NULL;
    }
    agent = virObjectRef(priv->agent);
    virObjectUnlock(vm);
    return agent;
}


static void
stratovirtGuestExitAgent(virDomainObj *vm,
                         virStratoVirtAgent *agent)
{
    virObjectUnref(agent);
    virObjectLock(vm);
}


/* ---------------------------------------------------------------------
 * Shutdown and reboot
 */

/**
 * virStratoVirtGuestShutdown:
 *
 * Called with @vm locked (no job): asks the guest to power off or reboot
 * (guest-shutdown, which qemu-ga does not answer).  A power-off ends the
 * VMM in order (the exit is a shutdown, not a crash); a reboot is the
 * guest's own, so StratoVirt's RESET event follows on a standard machine
 * and a microvm ends.
 */
int
virStratoVirtGuestShutdown(virDomainObj *vm,
                           bool reboot)
{
    virStratoVirtDomainObjPrivate *priv = vm->privateData;
    virStratoVirtAgent *agent;
    bool wasShutdown = priv->guestShutdown;
    int ret = -1;

    if (virDomainObjBeginAgentJob(vm, VIR_AGENT_JOB_MODIFY) < 0)
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        if (!reboot) {
            priv->guestShutdown = true;
            virStratoVirtDomainSaveStatus(vm);
        }
        ret = virStratoVirtAgentShutdown(agent, reboot);
        stratovirtGuestExitAgent(vm, agent);
        if (ret < 0 && virDomainObjIsActive(vm) && priv->guestShutdown != wasShutdown) {
            priv->guestShutdown = wasShutdown;
            virStratoVirtDomainSaveStatus(vm);
        }
    }
    virDomainObjEndAgentJob(vm);
    return ret;
}


/* ---------------------------------------------------------------------
 * The entry points
 */

/* The domain, locked, with an agent job of @job, after @acl said yes */
static virDomainObj *
stratovirtGuestBegin(virDomainPtr dom,
                     virDomainAgentJob job,
                     int (*acl)(virConnectPtr conn, virDomainDef *def))
{
    virDomainObj *vm;

    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return NULL;
    if (acl(dom->conn, vm->def) < 0 ||
        virDomainObjBeginAgentJob(vm, job) < 0) {
        virDomainObjEndAPI(&vm);
        return NULL;
    }
    return vm;
}


static void
stratovirtGuestEnd(virDomainObj **vm)
{
    virDomainObjEndAgentJob(*vm);
    virDomainObjEndAPI(vm);
}


/**
 * virStratoVirtGuestInterfaceAddresses:
 *
 * interfaceAddresses with VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT; the
 * caller looked the domain up and checked its ACL.  Called with @vm
 * locked.
 */
int
virStratoVirtGuestInterfaceAddresses(virDomainObj *vm,
                                     virDomainInterfacePtr **ifaces)
{
    virStratoVirtAgent *agent;
    int ret = -1;

    if (!virStratoVirtGuestAgentChannel(vm->def)) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("the domain has no guest agent channel to ask: use --source lease (the network's DHCP leases) or --source arp, or add <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel> and run qemu-ga in the guest"));
        return -1;
    }
    if (virDomainObjBeginAgentJob(vm, VIR_AGENT_JOB_QUERY) < 0)
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        ret = virStratoVirtAgentGetInterfaces(agent, ifaces);
        stratovirtGuestExitAgent(vm, agent);
    }
    virDomainObjEndAgentJob(vm);
    return ret;
}


static int
stratovirtGuestSetUserPasswordACL(virConnectPtr conn,
                                  virDomainDef *def)
{
    return virDomainSetUserPasswordEnsureACL(conn, def);
}


int
virStratoVirtDomainSetUserPassword(virDomainPtr dom,
                                   const char *user,
                                   const char *password,
                                   unsigned int flags)
{
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_PASSWORD_ENCRYPTED, -1);

    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_MODIFY,
                                    stratovirtGuestSetUserPasswordACL)))
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        ret = virStratoVirtAgentSetUserPassword(agent, user, password,
                                                !!(flags & VIR_DOMAIN_PASSWORD_ENCRYPTED));
        stratovirtGuestExitAgent(vm, agent);
    }
    stratovirtGuestEnd(&vm);
    return ret;
}


static int
stratovirtGuestFreezeThaw(virDomainPtr dom,
                          const char **mountpoints,
                          unsigned int nmountpoints,
                          bool freeze)
{
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    int ret = -1;

    if (!freeze && nmountpoints > 0) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("qemu-ga thaws every frozen filesystem at once: call domfsthaw without --mountpoint"));
        return -1;
    }
    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_MODIFY,
                                    freeze ? virDomainFSFreezeEnsureACL :
                                             virDomainFSThawEnsureACL)))
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        ret = virStratoVirtAgentFSFreezeThaw(agent, freeze, mountpoints, nmountpoints);
        stratovirtGuestExitAgent(vm, agent);
    }
    stratovirtGuestEnd(&vm);
    return ret;
}


int
virStratoVirtDomainFSFreeze(virDomainPtr dom,
                            const char **mountpoints,
                            unsigned int nmountpoints,
                            unsigned int flags)
{
    virCheckFlags(0, -1);
    return stratovirtGuestFreezeThaw(dom, mountpoints, nmountpoints, true);
}


int
virStratoVirtDomainFSThaw(virDomainPtr dom,
                          const char **mountpoints,
                          unsigned int nmountpoints,
                          unsigned int flags)
{
    virCheckFlags(0, -1);
    return stratovirtGuestFreezeThaw(dom, mountpoints, nmountpoints, false);
}


/* The target (vda) of the domain disk a guest disk is, by serial (the
 * guest sees its first 20 characters), else by PCI address */
static char *
stratovirtGuestDiskAlias(virDomainDef *def,
                         const virStratoVirtAgentDiskAddr *gdisk)
{
    size_t i;

    for (i = 0; i < def->ndisks; i++) {
        virDomainDiskDef *disk = def->disks[i];
        virPCIDeviceAddress *addr = &disk->info.addr.pci;

        if (gdisk->serial && *gdisk->serial && disk->serial &&
            STRPREFIX(disk->serial, gdisk->serial))
            return g_strdup(disk->dst);
        if (gdisk->hasPCI && disk->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI &&
            addr->domain == gdisk->pci.domain && addr->bus == gdisk->pci.bus &&
            addr->slot == gdisk->pci.slot && addr->function == gdisk->pci.function)
            return g_strdup(disk->dst);
    }
    return NULL;
}


static void
stratovirtGuestFSInfoFreeAll(virStratoVirtAgentFSInfo **info,
                             size_t ninfo)
{
    size_t i;

    for (i = 0; i < ninfo; i++)
        virStratoVirtAgentFSInfoFree(info[i]);
    g_free(info);
}


static int
stratovirtGuestGetFSInfoACL(virConnectPtr conn,
                            virDomainDef *def)
{
    return virDomainGetFSInfoEnsureACL(conn, def);
}


int
virStratoVirtDomainGetFSInfo(virDomainPtr dom,
                             virDomainFSInfoPtr **info,
                             unsigned int flags)
{
    virStratoVirtAgentFSInfo **fsinfo = NULL;
    size_t nfsinfo = 0;
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    size_t i;
    size_t j;
    int rc = -1;

    virCheckFlags(0, -1);

    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_QUERY, stratovirtGuestGetFSInfoACL)))
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        rc = virStratoVirtAgentGetFSInfo(agent, &fsinfo, &nfsinfo);
        stratovirtGuestExitAgent(vm, agent);
    }
    if (rc < 0) {
        stratovirtGuestEnd(&vm);
        return -1;
    }

    *info = g_new0(virDomainFSInfoPtr, nfsinfo + 1);
    for (i = 0; i < nfsinfo; i++) {
        virDomainFSInfoPtr fi = g_new0(virDomainFSInfo, 1);

        (*info)[i] = fi;
        fi->mountpoint = g_strdup(fsinfo[i]->mountpoint);
        fi->name = g_strdup(fsinfo[i]->name);
        fi->fstype = g_strdup(fsinfo[i]->fstype);
        fi->devAlias = g_new0(char *, fsinfo[i]->ndisks + 1);
        for (j = 0; j < fsinfo[i]->ndisks; j++) {
            char *alias = stratovirtGuestDiskAlias(vm->def, &fsinfo[i]->disks[j]);

            if (alias)
                fi->devAlias[fi->ndevAlias++] = alias;
        }
    }
    stratovirtGuestFSInfoFreeAll(fsinfo, nfsinfo);
    stratovirtGuestEnd(&vm);
    return nfsinfo;
}


static int
stratovirtGuestGetTimeACL(virConnectPtr conn,
                          virDomainDef *def)
{
    return virDomainGetTimeEnsureACL(conn, def);
}


int
virStratoVirtDomainGetTime(virDomainPtr dom,
                           long long *seconds,
                           unsigned int *nseconds,
                           unsigned int flags)
{
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(0, -1);

    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_QUERY, stratovirtGuestGetTimeACL)))
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        ret = virStratoVirtAgentGetTime(agent, seconds, nseconds);
        stratovirtGuestExitAgent(vm, agent);
    }
    stratovirtGuestEnd(&vm);
    return ret;
}


static int
stratovirtGuestSetTimeACL(virConnectPtr conn,
                          virDomainDef *def)
{
    return virDomainSetTimeEnsureACL(conn, def);
}


int
virStratoVirtDomainSetTime(virDomainPtr dom,
                           long long seconds,
                           unsigned int nseconds,
                           unsigned int flags)
{
    bool sync = !!(flags & VIR_DOMAIN_TIME_SYNC);
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    int ret = -1;

    virCheckFlags(VIR_DOMAIN_TIME_SYNC, -1);

    if (!sync && (seconds < 0 || nseconds >= 1000000000 ||
                  seconds > LLONG_MAX / 1000000000LL - 1)) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("time %1$lld.%2$09u is out of the range the guest agent takes"),
                       seconds, nseconds);
        return -1;
    }
    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_MODIFY, stratovirtGuestSetTimeACL)))
        return -1;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        ret = virStratoVirtAgentSetTime(agent, seconds, nseconds, sync);
        stratovirtGuestExitAgent(vm, agent);
    }
    stratovirtGuestEnd(&vm);
    return ret;
}


static int
stratovirtGuestGetHostnameACL(virConnectPtr conn,
                              virDomainDef *def)
{
    return virDomainGetHostnameEnsureACL(conn, def);
}


char *
virStratoVirtDomainGetHostnameAgent(virDomainPtr dom,
                                    unsigned int flags)
{
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    char *hostname = NULL;

    virCheckFlags(VIR_DOMAIN_GET_HOSTNAME_LEASE | VIR_DOMAIN_GET_HOSTNAME_AGENT, NULL);

    if (flags & VIR_DOMAIN_GET_HOSTNAME_LEASE) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED, "%s",
                       _("the StratoVirt driver asks the guest agent for the host name; for the network's DHCP leases use 'virsh domifaddr --source lease'"));
        return NULL;
    }
    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_QUERY, stratovirtGuestGetHostnameACL)))
        return NULL;
    if ((agent = stratovirtGuestEnterAgent(vm))) {
        if (virStratoVirtAgentGetHostname(agent, &hostname) < 0)
            hostname = NULL;
        stratovirtGuestExitAgent(vm, agent);
    }
    stratovirtGuestEnd(&vm);
    return hostname;
}


int
virStratoVirtDomainAgentSetResponseTimeout(virDomainPtr dom,
                                           int timeout,
                                           unsigned int flags)
{
    virStratoVirtDomainObjPrivate *priv;
    virDomainObj *vm;

    virCheckFlags(0, -1);

    if (timeout < VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_BLOCK) {
        virReportError(VIR_ERR_INVALID_ARG,
                       _("guest agent timeout %1$d is less than the least allowed, %2$d (block)"),
                       timeout, VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_BLOCK);
        return -1;
    }
    if (!(vm = virStratoVirtDomainObjFromDomain(dom)))
        return -1;
    if (virDomainAgentSetResponseTimeoutEnsureACL(dom->conn, vm->def) < 0) {
        virDomainObjEndAPI(&vm);
        return -1;
    }
    priv = vm->privateData;
    /* -1 (default) is the driver's; kept for this run of the daemon */
    priv->agentTimeout = timeout == VIR_DOMAIN_AGENT_RESPONSE_TIMEOUT_DEFAULT ?
        VIR_STRATOVIRT_AGENT_TIMEOUT : timeout;
    if (priv->agent)
        virStratoVirtAgentSetTimeout(priv->agent, priv->agentTimeout);
    virDomainObjEndAPI(&vm);
    return 0;
}


/* ---------------------------------------------------------------------
 * getGuestInfo: the typed parameters virsh guestinfo prints, named as
 * the QEMU driver names them
 */

typedef struct {
    virTypedParameterPtr params;
    int nparams;
    int maxparams;
} stratovirtGuestParams;


static int
stratovirtGuestAddStr(stratovirtGuestParams *p,
                      const char *name,
                      const char *value)
{
    if (!value)
        return 0;
    return virTypedParamsAddString(&p->params, &p->nparams, &p->maxparams, name, value);
}


static int
stratovirtGuestInfoUsers(virDomainObj *vm G_GNUC_UNUSED,
                         virStratoVirtAgent *agent,
                         stratovirtGuestParams *p)
{
    return virStratoVirtAgentGetUsers(agent, &p->params, &p->nparams, &p->maxparams);
}


static int
stratovirtGuestInfoOS(virDomainObj *vm G_GNUC_UNUSED,
                      virStratoVirtAgent *agent,
                      stratovirtGuestParams *p)
{
    return virStratoVirtAgentGetOSInfo(agent, &p->params, &p->nparams, &p->maxparams);
}


static int
stratovirtGuestInfoTimezone(virDomainObj *vm G_GNUC_UNUSED,
                            virStratoVirtAgent *agent,
                            stratovirtGuestParams *p)
{
    return virStratoVirtAgentGetTimezone(agent, &p->params, &p->nparams, &p->maxparams);
}


static int
stratovirtGuestInfoHostname(virDomainObj *vm G_GNUC_UNUSED,
                            virStratoVirtAgent *agent,
                            stratovirtGuestParams *p)
{
    g_autofree char *hostname = NULL;
    int rc;

    if ((rc = virStratoVirtAgentGetHostname(agent, &hostname)) < 0)
        return rc;
    return stratovirtGuestAddStr(p, "hostname", hostname);
}


/* @def: a copy of the domain's definition (the domain is unlocked) */
static int
stratovirtGuestInfoFS(virDomainObj *vm,
                      virStratoVirtAgent *agent,
                      stratovirtGuestParams *p)
{
    virStratoVirtAgentFSInfo **fsinfo = NULL;
    size_t nfsinfo = 0;
    size_t i;
    size_t j;
    int rc;

    if ((rc = virStratoVirtAgentGetFSInfo(agent, &fsinfo, &nfsinfo)) < 0)
        return rc;
    rc = -1;
    if (virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, "fs.count",
                              nfsinfo) < 0)
        goto cleanup;
    for (i = 0; i < nfsinfo; i++) {
        virStratoVirtAgentFSInfo *fs = fsinfo[i];
        g_autofree char *kname = g_strdup_printf("fs.%zu.name", i);
        g_autofree char *kmount = g_strdup_printf("fs.%zu.mountpoint", i);
        g_autofree char *ktype = g_strdup_printf("fs.%zu.fstype", i);
        g_autofree char *ktotal = g_strdup_printf("fs.%zu.total-bytes", i);
        g_autofree char *kused = g_strdup_printf("fs.%zu.used-bytes", i);
        g_autofree char *kcount = g_strdup_printf("fs.%zu.disk.count", i);

        if (stratovirtGuestAddStr(p, kname, fs->name) < 0 ||
            stratovirtGuestAddStr(p, kmount, fs->mountpoint) < 0 ||
            stratovirtGuestAddStr(p, ktype, fs->fstype) < 0 ||
            (fs->hasTotal &&
             virTypedParamsAddULLong(&p->params, &p->nparams, &p->maxparams, ktotal,
                                     fs->total) < 0) ||
            (fs->hasUsed &&
             virTypedParamsAddULLong(&p->params, &p->nparams, &p->maxparams, kused,
                                     fs->used) < 0) ||
            virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, kcount,
                                  fs->ndisks) < 0)
            goto cleanup;
        for (j = 0; j < fs->ndisks; j++) {
            g_autofree char *alias = NULL;
            g_autofree char *kalias = g_strdup_printf("fs.%zu.disk.%zu.alias", i, j);
            g_autofree char *kserial = g_strdup_printf("fs.%zu.disk.%zu.serial", i, j);
            g_autofree char *kdev = g_strdup_printf("fs.%zu.disk.%zu.device", i, j);

            virObjectLock(vm);
            alias = stratovirtGuestDiskAlias(vm->def, &fs->disks[j]);
            virObjectUnlock(vm);
            if (stratovirtGuestAddStr(p, kalias, alias) < 0 ||
                stratovirtGuestAddStr(p, kserial, fs->disks[j].serial) < 0 ||
                stratovirtGuestAddStr(p, kdev, fs->disks[j].dev) < 0)
                goto cleanup;
        }
    }
    rc = 0;

 cleanup:
    stratovirtGuestFSInfoFreeAll(fsinfo, nfsinfo);
    return rc;
}


static int
stratovirtGuestInfoDisks(virDomainObj *vm,
                         virStratoVirtAgent *agent,
                         stratovirtGuestParams *p)
{
    virStratoVirtAgentDisk **disks = NULL;
    size_t ndisks = 0;
    size_t i;
    size_t j;
    int rc;

    if ((rc = virStratoVirtAgentGetDisks(agent, &disks, &ndisks)) < 0)
        return rc;
    rc = -1;
    if (virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, "disk.count",
                              ndisks) < 0)
        goto cleanup;
    for (i = 0; i < ndisks; i++) {
        virStratoVirtAgentDisk *d = disks[i];
        g_autofree char *kname = g_strdup_printf("disk.%zu.name", i);
        g_autofree char *kpart = g_strdup_printf("disk.%zu.partition", i);
        g_autofree char *kdeps = g_strdup_printf("disk.%zu.dependency.count", i);
        g_autofree char *kalias = g_strdup_printf("disk.%zu.alias", i);
        g_autofree char *kserial = g_strdup_printf("disk.%zu.serial", i);
        g_autofree char *alias = NULL;

        if (d->hasAddr) {
            virObjectLock(vm);
            alias = stratovirtGuestDiskAlias(vm->def, &d->addr);
            virObjectUnlock(vm);
        }
        if (stratovirtGuestAddStr(p, kname, d->name) < 0 ||
            virTypedParamsAddBoolean(&p->params, &p->nparams, &p->maxparams, kpart,
                                     d->partition) < 0 ||
            virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, kdeps,
                                  g_strv_length(d->deps)) < 0 ||
            stratovirtGuestAddStr(p, kalias, alias) < 0 ||
            stratovirtGuestAddStr(p, kserial, d->addr.serial) < 0)
            goto cleanup;
        for (j = 0; d->deps[j]; j++) {
            g_autofree char *kdep = g_strdup_printf("disk.%zu.dependency.%zu.name", i, j);

            if (stratovirtGuestAddStr(p, kdep, d->deps[j]) < 0)
                goto cleanup;
        }
    }
    rc = 0;

 cleanup:
    for (i = 0; i < ndisks; i++)
        virStratoVirtAgentDiskFree(disks[i]);
    g_free(disks);
    return rc;
}


static int
stratovirtGuestInfoInterfaces(virDomainObj *vm G_GNUC_UNUSED,
                              virStratoVirtAgent *agent,
                              stratovirtGuestParams *p)
{
    virDomainInterfacePtr *ifaces = NULL;
    int n;
    int rc = -1;
    size_t i;
    size_t j;

    if ((n = virStratoVirtAgentGetInterfaces(agent, &ifaces)) < 0)
        return -1;
    if (virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, "if.count", n) < 0)
        goto cleanup;
    for (i = 0; i < (size_t) n; i++) {
        virDomainInterfacePtr iface = ifaces[i];
        g_autofree char *kname = g_strdup_printf("if.%zu.name", i);
        g_autofree char *khw = g_strdup_printf("if.%zu.hwaddr", i);
        g_autofree char *kcount = g_strdup_printf("if.%zu.addr.count", i);

        if (stratovirtGuestAddStr(p, kname, iface->name) < 0 ||
            stratovirtGuestAddStr(p, khw, iface->hwaddr) < 0 ||
            virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, kcount,
                                  iface->naddrs) < 0)
            goto cleanup;
        for (j = 0; j < iface->naddrs; j++) {
            g_autofree char *ktype = g_strdup_printf("if.%zu.addr.%zu.type", i, j);
            g_autofree char *kaddr = g_strdup_printf("if.%zu.addr.%zu.addr", i, j);
            g_autofree char *kprefix = g_strdup_printf("if.%zu.addr.%zu.prefix", i, j);

            if (stratovirtGuestAddStr(p, ktype, iface->addrs[j].type == VIR_IP_ADDR_TYPE_IPV4 ?
                                      "ipv4" : "ipv6") < 0 ||
                stratovirtGuestAddStr(p, kaddr, iface->addrs[j].addr) < 0 ||
                virTypedParamsAddUInt(&p->params, &p->nparams, &p->maxparams, kprefix,
                                      iface->addrs[j].prefix) < 0)
                goto cleanup;
        }
    }
    rc = 0;

 cleanup:
    for (i = 0; i < (size_t) n; i++)
        virDomainInterfaceFree(ifaces[i]);
    g_free(ifaces);
    return rc;
}


static int
stratovirtGuestGetGuestInfoACL(virConnectPtr conn,
                               virDomainDef *def)
{
    return virDomainGetGuestInfoEnsureACL(conn, def);
}


int
virStratoVirtDomainGetGuestInfo(virDomainPtr dom,
                                unsigned int types,
                                virTypedParameterPtr *params,
                                int *nparams,
                                unsigned int flags)
{
    static const struct {
        unsigned int type;
        int (*get)(virDomainObj *vm, virStratoVirtAgent *agent, stratovirtGuestParams *p);
    } parts[] = {
        { VIR_DOMAIN_GUEST_INFO_USERS, stratovirtGuestInfoUsers },
        { VIR_DOMAIN_GUEST_INFO_OS, stratovirtGuestInfoOS },
        { VIR_DOMAIN_GUEST_INFO_TIMEZONE, stratovirtGuestInfoTimezone },
        { VIR_DOMAIN_GUEST_INFO_HOSTNAME, stratovirtGuestInfoHostname },
        { VIR_DOMAIN_GUEST_INFO_FILESYSTEM, stratovirtGuestInfoFS },
        { VIR_DOMAIN_GUEST_INFO_DISKS, stratovirtGuestInfoDisks },
        { VIR_DOMAIN_GUEST_INFO_INTERFACES, stratovirtGuestInfoInterfaces },
    };
    stratovirtGuestParams p = { 0 };
    virStratoVirtAgent *agent;
    virDomainObj *vm;
    unsigned int all = 0;
    size_t i;
    int ret = -1;

    virCheckFlags(0, -1);

    for (i = 0; i < G_N_ELEMENTS(parts); i++)
        all |= parts[i].type;
    if (types & ~all) {
        virReportError(VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("unknown guest information types 0x%1$x"), types & ~all);
        return -1;
    }

    if (!(vm = stratovirtGuestBegin(dom, VIR_AGENT_JOB_QUERY, stratovirtGuestGetGuestInfoACL)))
        return -1;
    if (!(agent = stratovirtGuestEnterAgent(vm)))
        goto endjob;
    for (i = 0; i < G_N_ELEMENTS(parts); i++) {
        int rc;

        if (types && !(types & parts[i].type))
            continue;
        rc = parts[i].get(vm, agent, &p);
        /* what the agent lacks is left out unless asked for by name */
        if (rc == -2 && !types) {
            virResetLastError();
            continue;
        }
        if (rc < 0)
            break;
    }
    if (i == G_N_ELEMENTS(parts)) {
        *params = g_steal_pointer(&p.params);
        *nparams = p.nparams;
        ret = 0;
    }
    stratovirtGuestExitAgent(vm, agent);

 endjob:
    virTypedParamsFree(p.params, p.nparams);
    stratovirtGuestEnd(&vm);
    return ret;
}
