/*
 * stratovirt_interface.c: the host side of a domain's network interfaces
 *
 * StratoVirt has virtio-net only and is handed open tap fds (-netdev
 * tap,fd=N / fds=N:M, netdev_add after getfd), so it needs no privilege:
 * everything on the host side is done here with libvirt's own helpers.
 * Interfaces of type 'network' get their actual device from libvirtd's
 * network driver (a port of the network), bridges get a tap that is a
 * port of the Linux bridge or of the Open vSwitch bridge, 'direct' gets a
 * macvtap, 'ethernet' a tap of its own (or the one given in <target dev>
 * when it exists already).  The taps are not persistent: when the last fd
 * closes (the VMM is gone) the kernel removes them, so a crashed VMM
 * leaves no tap; OVS ports, network ports, bandwidth and filters are
 * removed by Release.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <fcntl.h>
#include <unistd.h>

#include "datatypes.h"
#include "domain_audit.h"
#include "domain_nwfilter.h"
#include "netdev_bandwidth_conf.h"
#include "stratovirt_compat.h"
#include "stratovirt_domain.h"
#include "stratovirt_domain_addr.h"
#include "stratovirt_monitor.h"
#include "stratovirt_interface.h"
#include "stratovirt_guest.h"
#include "viralloc.h"
#include "virerror.h"
#include "virfile.h"
#include "virlog.h"
#include "virmacaddr.h"
#include "virnetdev.h"
#include "virnetdevbandwidth.h"
#include "virnetdevmacvlan.h"
#include "virnetdevopenvswitch.h"
#include "virnetdevtap.h"
#include "virstring.h"
#include "virtime.h"
#include "stratovirt_i18n.h"
#include "stratovirt_error.h"

#define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN

VIR_LOG_INIT("stratovirt.stratovirt_interface");

#define VHOST_NET_PATH "/dev/vhost-net"


void
virStratoVirtNetFDsClear(virStratoVirtNetFDs *fds)
{
    size_t i;

    if (!fds)
        return;
    for (i = 0; i < fds->ntapfd; i++)
        VIR_FORCE_CLOSE(fds->tapfd[i]);
    for (i = 0; i < fds->nvhostfd; i++)
        VIR_FORCE_CLOSE(fds->vhostfd[i]);
    g_clear_pointer(&fds->tapfd, g_free);
    g_clear_pointer(&fds->vhostfd, g_free);
    fds->ntapfd = 0;
    fds->nvhostfd = 0;
}


void
virStratoVirtNetFDsFreeAll(virStratoVirtNetFDs *fds,
                           size_t n)
{
    size_t i;

    if (!fds)
        return;
    for (i = 0; i < n; i++)
        virStratoVirtNetFDsClear(&fds[i]);
    g_free(fds);
}


static size_t
stratovirtInterfaceQueues(const virDomainNetDef *net)
{
    return net->driver.virtio.queues > 1 ? net->driver.virtio.queues : 1;
}


/* vhost-net where the host has it, unless <driver name='qemu'/> says
 * no; <driver name='vhost'/> without it is an error naming what lacks. */
static int
stratovirtInterfaceOpenVhost(virDomainDef *def,
                             virDomainNetDef *net,
                             virStratoVirtNetFDs *fds)
{
    const char *path = net->backend.vhost ? net->backend.vhost : VHOST_NET_PATH;
    size_t n = stratovirtInterfaceQueues(net);
    size_t i;

    if (net->driver.virtio.name == VIR_DOMAIN_NET_DRIVER_TYPE_QEMU)
        return 0;
    if (def->virtType != VIR_DOMAIN_VIRT_KVM) {
        if (net->driver.virtio.name == VIR_DOMAIN_NET_DRIVER_TYPE_VHOST) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                           _("vhost-net needs a KVM domain (<domain type='kvm'>)"));
            return -1;
        }
        return 0;
    }

    fds->vhostfd = g_new0(int, n);
    for (i = 0; i < n; i++) {
        int fd = open(path, O_RDWR | O_CLOEXEC);

        if (fd < 0) {
            int err = errno;

            for (; i > 0; i--)
                VIR_FORCE_CLOSE(fds->vhostfd[i - 1]);
            g_clear_pointer(&fds->vhostfd, g_free);
            fds->nvhostfd = 0;
            if (net->driver.virtio.name == VIR_DOMAIN_NET_DRIVER_TYPE_VHOST) {
                virReportSystemError(err,
                                     _("<driver name='vhost'/> asks for vhost-net, but '%1$s' cannot be opened; load the vhost_net kernel module or remove the driver name to run without vhost"),
                                     path);
                return -1;
            }
            VIR_DEBUG("no vhost-net for %s (%s): running without it",
                      NULLSTR(net->ifname), g_strerror(err));
            return 0;
        }
        fds->vhostfd[i] = fd;
        fds->nvhostfd = i + 1;
    }
    virDomainAuditNetDevice(def, net, path, true);
    return 0;
}


/* The tap must not have the guest's MAC: the host would see its own
 * address as a packet's source.  libvirt's rule: the first byte 0xFE
 * (0xFA when the guest's already starts with 0xFE). */
static int
stratovirtInterfaceSetTapMAC(virDomainNetDef *net)
{
    virMacAddr tapmac;

    virMacAddrSet(&tapmac, &net->mac);
    tapmac.addr[0] = tapmac.addr[0] == 0xFE ? 0xFA : 0xFE;
    return virNetDevSetMAC(net->ifname, &tapmac);
}


static int
stratovirtInterfaceEthernetConnect(virStratoVirtDriver *driver,
                                   virDomainDef *def,
                                   virDomainNetDef *net,
                                   virStratoVirtNetFDs *fds)
{
    unsigned int flags = VIR_NETDEV_TAP_CREATE_VNET_HDR;
    const char *tunpath = net->backend.tap ? net->backend.tap : "/dev/net/tun";
    bool existing = false;

    if (net->ifname && net->managed_tap != VIR_TRISTATE_BOOL_YES) {
        int rc = virNetDevExists(net->ifname);

        if (rc < 0)
            return -1;
        existing = rc == 1;
    }
    if (net->managed_tap == VIR_TRISTATE_BOOL_NO && !existing) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("interface: <target dev='%1$s' managed='no'/> names a tap device that does not exist; create it first (ip tuntap add %2$s mode tap) or drop managed='no'"),
                       NULLSTR(net->ifname), NULLSTR(net->ifname));
        return -1;
    }
    if (!existing && !driver->privileged) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("the session instance cannot create tap devices; create one (ip tuntap add TAP mode tap user USER) and give it with <target dev='TAP' managed='no'/>, or use stratovirt:///system"));
        return -1;
    }

    if (existing) {
        /* The user's tap: opened, never reconfigured nor deleted by us */
        flags |= VIR_NETDEV_TAP_CREATE_ALLOW_EXISTING;
        net->managed_tap = VIR_TRISTATE_BOOL_NO;
        if (virNetDevMacVLanIsMacvtap(net->ifname)) {
            if (virNetDevMacVLanTapOpen(net->ifname, fds->tapfd, fds->ntapfd) < 0 ||
                virNetDevMacVLanTapSetup(fds->tapfd, fds->ntapfd, true) < 0)
                return -1;
        } else if (virNetDevTapCreate(&net->ifname, tunpath, fds->tapfd,
                                      fds->ntapfd, flags) < 0) {
            return -1;
        }
    } else {
        g_autofree char *given = g_strdup(net->ifname);

        flags |= VIR_NETDEV_TAP_CREATE_IFUP;
        if (virNetDevTapCreate(&net->ifname, tunpath, fds->tapfd, fds->ntapfd, flags) < 0) {
            virDomainAuditNetDevice(def, net, tunpath, false);
            if (!given)
                g_clear_pointer(&net->ifname, g_free);
            return -1;
        }
        if (stratovirtInterfaceSetTapMAC(net) < 0 ||
            virNetDevSetOnline(net->ifname, true) < 0)
            return -1;
    }
    virDomainAuditNetDevice(def, net, tunpath, true);
    return 0;
}


static int
stratovirtInterfaceBridgeConnect(virStratoVirtDriver *driver,
                                 virDomainDef *def,
                                 virDomainNetDef *net,
                                 virStratoVirtNetFDs *fds)
{
    const char *brname = virDomainNetGetActualBridgeName(net);
    const char *tunpath = net->backend.tap ? net->backend.tap : "/dev/net/tun";
    unsigned int actualMTU = 0;
    bool generated = !net->ifname;

    if (!brname) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("interface: no bridge to connect to; give it with <source bridge='BRIDGE'/>"));
        return -1;
    }
    if (!driver->privileged) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("the session instance cannot add ports to bridge '%1$s'; use stratovirt:///system, or a tap of your own with <interface type='ethernet'><target dev='TAP' managed='no'/>"),
                       brname);
        return -1;
    }

    if (virNetDevTapCreateInBridgePort(brname, &net->ifname, &net->mac, def->uuid,
                                       tunpath, fds->tapfd, fds->ntapfd,
                                       virDomainNetGetActualVirtPortProfile(net),
                                       virDomainNetGetActualVlan(net),
                                       virDomainNetGetActualPortOptionsIsolated(net),
                                       NULL, net->mtu, &actualMTU,
                                       VIR_NETDEV_TAP_CREATE_IFUP |
                                       VIR_NETDEV_TAP_CREATE_VNET_HDR) < 0) {
        virDomainAuditNetDevice(def, net, tunpath, false);
        if (generated)
            g_clear_pointer(&net->ifname, g_free);
        return -1;
    }
    if (net->mtu == 0 && actualMTU)
        VIR_DEBUG("tap %s takes the MTU %u of bridge %s", net->ifname, actualMTU, brname);
    virDomainAuditNetDevice(def, net, tunpath, true);
    return 0;
}


static int
stratovirtInterfaceDirectConnect(virStratoVirtDriver *driver,
                                 virDomainDef *def,
                                 virDomainNetDef *net,
                                 virStratoVirtNetFDs *fds)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    char *res_ifname = NULL;

    if (!driver->privileged) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s",
                       _("the session instance cannot create macvtap devices; use stratovirt:///system"));
        return -1;
    }
    if (virNetDevMacVLanCreateWithVPortProfile(net->ifname, &net->mac,
                                               virDomainNetGetActualDirectDev(net),
                                               virDomainNetGetActualDirectMode(net),
                                               virDomainNetGetActualVlan(net),
                                               def->uuid,
                                               virDomainNetGetActualVirtPortProfile(net),
                                               &res_ifname,
                                               VIR_NETDEV_VPORT_PROFILE_OP_CREATE,
                                               cfg->stateDir,
                                               fds->tapfd, fds->ntapfd,
                                               VIR_NETDEV_MACVLAN_CREATE_WITH_TAP |
                                               VIR_NETDEV_MACVLAN_CREATE_IFUP |
                                               VIR_NETDEV_MACVLAN_VNET_HDR) < 0) {
        virDomainAuditNetDevice(def, net, "macvtap", false);
        return -1;
    }
    virDomainAuditNetDevice(def, net, res_ifname, true);
    g_free(net->ifname);
    net->ifname = res_ifname;
    return 0;
}


/* What StratoVirt cannot do with the actual device the network gave us. */
static int
stratovirtInterfaceCheckActual(virDomainNetDef *net)
{
    virDomainNetType actualType = virDomainNetGetActualType(net);
    const virNetDevVPortProfile *vport = virDomainNetGetActualVirtPortProfile(net);
    const virNetDevVlan *vlan = virDomainNetGetActualVlan(net);
    char macstr[VIR_MAC_STRING_BUFLEN];

    virMacAddrFormat(&net->mac, macstr);
    switch (actualType) {
    case VIR_DOMAIN_NET_TYPE_ETHERNET:
    case VIR_DOMAIN_NET_TYPE_BRIDGE:
    case VIR_DOMAIN_NET_TYPE_NETWORK:   /* a NAT, routed or isolated network's bridge */
    case VIR_DOMAIN_NET_TYPE_DIRECT:
        break;
    case VIR_DOMAIN_NET_TYPE_HOSTDEV:
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("interface '%1$s': network '%2$s' hands out host devices, which the StratoVirt driver does not take from a network pool; give the device with <interface type='hostdev'>"),
                       macstr, net->data.network.name);
        return -1;
    default:
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("interface '%1$s': connection type '%2$s' is not supported by the StratoVirt driver; use type='network', 'bridge', 'direct' or 'ethernet'"),
                       macstr, virDomainNetTypeToString(actualType));
        return -1;
    }

    if (vport && vport->virtPortType != VIR_NETDEV_VPORT_PROFILE_NONE &&
        vport->virtPortType != VIR_NETDEV_VPORT_PROFILE_OPENVSWITCH &&
        actualType != VIR_DOMAIN_NET_TYPE_DIRECT) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("interface '%1$s': <virtualport type='%2$s'> is supported on type='direct' only; bridges take type='openvswitch'"),
                       macstr, virNetDevVPortTypeToString(vport->virtPortType));
        return -1;
    }
    if (vlan && vlan->nTags > 0 &&
        (actualType == VIR_DOMAIN_NET_TYPE_BRIDGE || actualType == VIR_DOMAIN_NET_TYPE_NETWORK) &&
        !(vport && vport->virtPortType == VIR_NETDEV_VPORT_PROFILE_OPENVSWITCH)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("interface '%1$s': <vlan> needs an Open vSwitch bridge (<virtualport type='openvswitch'/>); a Linux bridge port cannot be tagged"),
                       macstr);
        return -1;
    }
    if (vlan && vlan->nTags > 0 && actualType == VIR_DOMAIN_NET_TYPE_ETHERNET) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("interface '%1$s': <vlan> is not supported on type='ethernet'"),
                       macstr);
        return -1;
    }
    if (virDomainNetGetActualPortOptionsIsolated(net) == VIR_TRISTATE_BOOL_YES &&
        actualType != VIR_DOMAIN_NET_TYPE_BRIDGE && actualType != VIR_DOMAIN_NET_TYPE_NETWORK) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("interface '%1$s': <port isolated='yes'/> needs a bridge port"),
                       macstr);
        return -1;
    }
    return 0;
}


static int
stratovirtInterfaceApplyBandwidth(virDomainDef *def,
                                  virDomainNetDef *net,
                                  const virNetDevBandwidth *bw)
{
    virDomainNetType actualType = virDomainNetGetActualType(net);
    bool swapped = !virDomainNetTypeSharesHostView(net);

    if (!bw)
        return 0;
    if (!virNetDevSupportsBandwidth(actualType)) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                       _("<bandwidth> is not supported on interfaces of type '%1$s'"),
                       virDomainNetTypeToString(actualType));
        return -1;
    }
    if (virDomainNetDefIsOvsport(net))
        return virNetDevOpenvswitchInterfaceSetQos(net->ifname, bw, def->uuid, swapped);
    return virStratoVirtCompatNetDevBandwidthSet(net->ifname, bw, false, swapped);
}


/**
 * virStratoVirtInterfacePrepare:
 * @net: one interface of @vm's live definition
 * @fds: filled with the open tap (and vhost-net) fds for the VMM
 *
 * Everything on the host side of one interface: the network port, the
 * tap or macvtap and its MAC, MTU, bridge or OVS port, bandwidth and
 * filter.  On failure what was done is undone (Release).
 */
int
virStratoVirtInterfacePrepare(virStratoVirtDriver *driver,
                              virDomainObj *vm,
                              virDomainNetDef *net,
                              virStratoVirtNetFDs *fds)
{
    virDomainDef *def = vm->def;
    virDomainNetType actualType;
    size_t i;
    int rc = -1;

    if (net->type == VIR_DOMAIN_NET_TYPE_HOSTDEV)
        return 0;   /* a PCI device, passed through with the hostdevs */

    if (net->type == VIR_DOMAIN_NET_TYPE_NETWORK) {
        g_autoptr(virConnect) conn = NULL;

        if (!driver->privileged) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED,
                           _("interface on network '%1$s': the session instance cannot connect to libvirt networks; use stratovirt:///system"),
                           net->data.network.name);
            return -1;
        }
        if (!(conn = virGetConnectNetwork()))
            return -1;
        if (virDomainNetAllocateActualDevice(conn, def, net) < 0)
            return -1;
    }

    if (stratovirtInterfaceCheckActual(net) < 0)
        goto cleanup;

    actualType = virDomainNetGetActualType(net);
    fds->ntapfd = stratovirtInterfaceQueues(net);
    fds->tapfd = g_new0(int, fds->ntapfd);
    for (i = 0; i < fds->ntapfd; i++)
        fds->tapfd[i] = -1;

    switch (actualType) {
    case VIR_DOMAIN_NET_TYPE_BRIDGE:
    case VIR_DOMAIN_NET_TYPE_NETWORK:
        if (stratovirtInterfaceBridgeConnect(driver, def, net, fds) < 0)
            goto cleanup;
        break;
    case VIR_DOMAIN_NET_TYPE_DIRECT:
        if (stratovirtInterfaceDirectConnect(driver, def, net, fds) < 0)
            goto cleanup;
        break;
    case VIR_DOMAIN_NET_TYPE_ETHERNET:
        if (stratovirtInterfaceEthernetConnect(driver, def, net, fds) < 0)
            goto cleanup;
        break;
    default:
        break;
    }

    if (net->mtu && actualType != VIR_DOMAIN_NET_TYPE_BRIDGE &&
        net->managed_tap != VIR_TRISTATE_BOOL_NO &&
        virNetDevSetMTU(net->ifname, net->mtu) < 0)
        goto cleanup;

    if (stratovirtInterfaceApplyBandwidth(def, net, virDomainNetGetActualBandwidth(net)) < 0)
        goto cleanup;

    if (net->filter &&
        virDomainConfNWFilterInstantiate(def->name, def->uuid, net, false) < 0)
        goto cleanup;

    if (net->linkstate == VIR_DOMAIN_NET_INTERFACE_LINK_STATE_DOWN &&
        virStratoVirtInterfaceSetLink(net, net->linkstate) < 0)
        goto cleanup;

    if (stratovirtInterfaceOpenVhost(def, net, fds) < 0)
        goto cleanup;

    VIR_DEBUG("domain %s: interface %s ready (%s, %zu queue(s), vhost %s)",
              def->name, net->ifname, virDomainNetTypeToString(actualType),
              fds->ntapfd, fds->nvhostfd ? "on" : "off");
    rc = 0;

 cleanup:
    if (rc < 0) {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        virStratoVirtNetFDsClear(fds);
        virStratoVirtInterfaceRelease(driver, vm, net);
        virErrorRestore(&orig);
    }
    return rc;
}


/**
 * virStratoVirtInterfacePrepareAll:
 * @fds: set to an array indexed like vm->def->nets
 *
 * All interfaces or none: on failure nothing is left behind.
 */
int
virStratoVirtInterfacePrepareAll(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 virStratoVirtNetFDs **fds)
{
    virStratoVirtNetFDs *all = g_new0(virStratoVirtNetFDs, MAX(vm->def->nnets, 1));
    size_t i;

    for (i = 0; i < vm->def->nnets; i++) {
        if (virStratoVirtInterfacePrepare(driver, vm, vm->def->nets[i], &all[i]) < 0) {
            virErrorPtr orig;

            /* the failed one undid itself; the ones before it now */
            virErrorPreserveLast(&orig);
            virStratoVirtNetFDsFreeAll(all, vm->def->nnets);
            while (i-- > 0)
                virStratoVirtInterfaceRelease(driver, vm, vm->def->nets[i]);
            virErrorRestore(&orig);
            return -1;
        }
    }
    *fds = all;
    return 0;
}


/* Our taps are not persistent: the kernel removes one when the last fd
 * closes, which is when the VMM has finished exiting.  A VMM that failed
 * on its own may still be on its way out when the start is undone. */
static void
stratovirtInterfaceWaitTapGone(const char *ifname)
{
    unsigned int waited = 0;

    while (virNetDevExists(ifname) == 1) {
        if (waited >= 3000) {
            VIR_WARN("tap %s is still there: some process still holds it", ifname);
            return;
        }
        g_usleep(20 * 1000);
        waited += 20;
    }
    virResetLastError();
}


/**
 * virStratoVirtInterfaceRelease:
 *
 * Undo Prepare for one interface, once the VMM no longer holds its tap
 * (stopped, crashed, a failed start, a detach): filter, bandwidth, OVS
 * port, macvtap, our tap, the network port.  Errors are logged, not
 * reported: the stop goes on.
 */
void
virStratoVirtInterfaceRelease(virStratoVirtDriver *driver,
                              virDomainObj *vm,
                              virDomainNetDef *net)
{
    g_autoptr(virStratoVirtDriverConfig) cfg = virStratoVirtDriverGetConfig(driver);
    const virNetDevVPortProfile *vport = virDomainNetGetActualVirtPortProfile(net);
    virDomainNetType actualType = virDomainNetGetActualType(net);
    virErrorPtr orig;

    if (net->type == VIR_DOMAIN_NET_TYPE_HOSTDEV)
        return;

    virErrorPreserveLast(&orig);
    VIR_DEBUG("domain %s: releasing interface %s (%s)", vm->def->name,
              NULLSTR(net->ifname), virDomainNetTypeToString(actualType));

    if (net->filter && net->ifname)
        virDomainConfNWFilterTeardown(net);

    if (net->ifname) {
        if (virDomainNetDefIsOvsport(net)) {
            if (virDomainNetGetActualBandwidth(net))
                ignore_value(virNetDevOpenvswitchInterfaceClearQos(net->ifname, vm->def->uuid));
        } else if (virDomainNetGetActualBandwidth(net) &&
                   virNetDevSupportsBandwidth(actualType) &&
                   virNetDevExists(net->ifname) == 1) {
            ignore_value(virNetDevBandwidthClear(net->ifname));
        }
    }

    if (net->ifname && net->managed_tap != VIR_TRISTATE_BOOL_NO &&
        (actualType == VIR_DOMAIN_NET_TYPE_BRIDGE || actualType == VIR_DOMAIN_NET_TYPE_NETWORK ||
         actualType == VIR_DOMAIN_NET_TYPE_ETHERNET))
        stratovirtInterfaceWaitTapGone(net->ifname);

    switch (actualType) {
    case VIR_DOMAIN_NET_TYPE_DIRECT:
        if (net->ifname)
            ignore_value(virNetDevMacVLanDeleteWithVPortProfile(net->ifname, &net->mac,
                                                                virDomainNetGetActualDirectDev(net),
                                                                virDomainNetGetActualDirectMode(net),
                                                                vport, cfg->stateDir));
        break;
    case VIR_DOMAIN_NET_TYPE_ETHERNET:
        /* ours: gone with the VMM's fds, unless something made it persistent */
        if (net->ifname && net->managed_tap != VIR_TRISTATE_BOOL_NO &&
            virNetDevExists(net->ifname) == 1)
            ignore_value(virNetDevTapDelete(net->ifname, net->backend.tap));
        break;
    default:
        break;
    }

    if (vport && vport->virtPortType == VIR_NETDEV_VPORT_PROFILE_OPENVSWITCH && net->ifname)
        ignore_value(virStratoVirtCompatOpenvswitchRemovePort(virDomainNetGetActualBridgeName(net),
                                                              net->ifname));

    if (net->type == VIR_DOMAIN_NET_TYPE_NETWORK && net->data.network.actual) {
        g_autoptr(virConnect) conn = virGetConnectNetwork();

        if (conn)
            ignore_value(virStratoVirtCompatNetReleaseActualDevice(conn, vm->def, net));
        else
            VIR_WARN("domain %s: cannot release the port of network '%s': %s",
                     vm->def->name, net->data.network.name, virGetLastErrorMessage());
    }
    virErrorRestore(&orig);
}


void
virStratoVirtInterfaceReleaseAll(virStratoVirtDriver *driver,
                                 virDomainObj *vm)
{
    size_t i;

    for (i = 0; i < vm->def->nnets; i++)
        virStratoVirtInterfaceRelease(driver, vm, vm->def->nets[i]);
}


/**
 * virStratoVirtInterfaceReconnectAll:
 *
 * After a daemon restart: the taps are held by the VMM and still in place;
 * tell the network driver the ports are still in use (it may have been
 * restarted too) and keep the generated names from being handed out again.
 */
void
virStratoVirtInterfaceReconnectAll(virDomainObj *vm)
{
    g_autoptr(virConnect) conn = NULL;
    size_t i;

    for (i = 0; i < vm->def->nnets; i++) {
        virDomainNetDef *net = vm->def->nets[i];

        if (net->ifname)
            virNetDevReserveName(net->ifname);
        if (net->type != VIR_DOMAIN_NET_TYPE_NETWORK)
            continue;
        if (!conn && !(conn = virGetConnectNetwork())) {
            VIR_WARN("domain %s: cannot reach the network driver: %s",
                     vm->def->name, virGetLastErrorMessage());
            virResetLastError();
            return;
        }
        virDomainNetNotifyActualDevice(conn, vm->def, net);
        virResetLastError();
    }
}


/**
 * virStratoVirtInterfaceSetLink:
 *
 * StratoVirt has no link control over QMP that works for every version,
 * so link state is the carrier of the host side: a tap that is down
 * passes no traffic either way.
 */
int
virStratoVirtInterfaceSetLink(virDomainNetDef *net,
                              virDomainNetInterfaceLinkState state)
{
    if (!net->ifname) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("the interface has no host device whose link could be set"));
        return -1;
    }
    return virNetDevSetOnline(net->ifname,
                              state != VIR_DOMAIN_NET_INTERFACE_LINK_STATE_DOWN);
}


int
virStratoVirtInterfaceSetBandwidth(virDomainDef *def,
                                   virDomainNetDef *net,
                                   const virNetDevBandwidth *bandwidth)
{
    if (!net->ifname) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("the interface has no host device to shape"));
        return -1;
    }
    if (!bandwidth) {
        if (virDomainNetDefIsOvsport(net))
            return virNetDevOpenvswitchInterfaceClearQos(net->ifname, def->uuid);
        return virNetDevBandwidthClear(net->ifname);
    }
    return stratovirtInterfaceApplyBandwidth(def, net, bandwidth);
}


int
virStratoVirtInterfaceGetStats(const virDomainNetDef *net,
                               virDomainInterfaceStatsPtr stats)
{
    if (virDomainNetGetActualType(net) == VIR_DOMAIN_NET_TYPE_HOSTDEV) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("traffic counters of a passed-through network device are kept by the device itself, not by the host"));
        return -1;
    }
    if (!net->ifname) {
        virReportError(VIR_ERR_OPERATION_INVALID, "%s",
                       _("the interface has no host device"));
        return -1;
    }
    if (virDomainNetDefIsOvsport(net))
        return virNetDevOpenvswitchInterfaceStats(net->ifname, stats);
    return virNetDevTapInterfaceStats(net->ifname, stats,
                                      !virDomainNetTypeSharesHostView(net));
}


/* ---------------------------------------------------------------------
 * Addresses: the network's DHCP leases, or the host's ARP table
 */

static virDomainInterfacePtr
stratovirtInterfaceAddrNew(const virDomainNetDef *net)
{
    virDomainInterfacePtr iface = g_new0(virDomainInterface, 1);
    char macstr[VIR_MAC_STRING_BUFLEN];

    iface->name = g_strdup(net->ifname ? net->ifname : "-");
    iface->hwaddr = g_strdup(virMacAddrFormat(&net->mac, macstr));
    return iface;
}


static void
stratovirtInterfaceAddrAppend(virDomainInterfacePtr iface,
                              int type,
                              const char *addr,
                              unsigned int prefix)
{
    virDomainIPAddressPtr ip;

    VIR_REALLOC_N(iface->addrs, iface->naddrs + 1);
    ip = &iface->addrs[iface->naddrs++];
    ip->type = type;
    ip->addr = g_strdup(addr);
    ip->prefix = prefix;
}


static int
stratovirtInterfaceLeases(virDomainDef *def,
                          GPtrArray *out)
{
    g_autoptr(virConnect) conn = NULL;
    size_t i;

    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];
        g_autoptr(virNetwork) network = NULL;
        virNetworkDHCPLeasePtr *leases = NULL;
        char macstr[VIR_MAC_STRING_BUFLEN];
        virDomainInterfacePtr iface;
        int n;
        int j;

        if (net->type != VIR_DOMAIN_NET_TYPE_NETWORK)
            continue;
        if (!conn && !(conn = virGetConnectNetwork()))
            return -1;
        if (!(network = virNetworkLookupByName(conn, net->data.network.name)))
            return -1;
        if ((n = virNetworkGetDHCPLeases(network, virMacAddrFormat(&net->mac, macstr),
                                         &leases, 0)) < 0)
            return -1;
        if (n == 0)
            continue;
        iface = stratovirtInterfaceAddrNew(net);
        for (j = 0; j < n; j++) {
            stratovirtInterfaceAddrAppend(iface, leases[j]->type, leases[j]->ipaddr,
                                          leases[j]->prefix);
            virNetworkDHCPLeaseFree(leases[j]);
        }
        g_free(leases);
        g_ptr_array_add(out, iface);
    }
    return 0;
}


/* The host's neighbour table as /proc/net/arp shows it (libvirt 9.0's
 * netlink reader, virArpTableGet, fails with "wrong nlmsg len" on current
 * kernels): complete entries whose MAC is one of the domain's. */
static int
stratovirtInterfaceArp(virDomainDef *def,
                       GPtrArray *out)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    size_t i;
    size_t j;

    if (virFileReadAll("/proc/net/arp", 1024 * 1024, &text) < 0)
        return -1;
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; i < def->nnets; i++) {
        virDomainNetDef *net = def->nets[i];
        char macstr[VIR_MAC_STRING_BUFLEN];
        virDomainInterfacePtr iface = NULL;

        virMacAddrFormat(&net->mac, macstr);
        for (j = 1; lines[j]; j++) {
            g_auto(GStrv) f = g_strsplit_set(lines[j], " \t", -1);
            const char *col[6] = { NULL };
            size_t k;
            size_t n = 0;
            unsigned int flags = 0;

            for (k = 0; f[k] && n < 6; k++) {
                if (*f[k])
                    col[n++] = f[k];
            }
            if (n < 6 || STRCASENEQ(col[3], macstr))
                continue;
            if (virStrToLong_ui(col[2], NULL, 16, &flags) < 0 || !(flags & 0x2))
                continue;   /* not ATF_COM: incomplete */
            if (!iface)
                iface = stratovirtInterfaceAddrNew(net);
            stratovirtInterfaceAddrAppend(iface, VIR_IP_ADDR_TYPE_IPV4, col[0], 0);
        }
        if (iface)
            g_ptr_array_add(out, iface);
    }
    return 0;
}


/**
 * virStratoVirtInterfaceAddresses:
 * @source: VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, _ARP or _AGENT (the guest
 * agent: stratovirt_guest.c)
 */
int
virStratoVirtInterfaceAddresses(virDomainObj *vm,
                                unsigned int source,
                                virDomainInterfacePtr **ifaces)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    int rc;
    size_t i;

    switch (source) {
    case VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE:
        rc = stratovirtInterfaceLeases(vm->def, out);
        break;
    case VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP:
        rc = stratovirtInterfaceArp(vm->def, out);
        break;
    case VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT:
        return virStratoVirtGuestInterfaceAddresses(vm, ifaces);
    default:
        virReportError(VIR_ERR_INVALID_ARG,
                       _("unknown interface address source %1$u"), source);
        return -1;
    }
    if (rc < 0) {
        for (i = 0; i < out->len; i++)
            virDomainInterfaceFree(g_ptr_array_index(out, i));
        return -1;
    }
    *ifaces = g_new0(virDomainInterfacePtr, out->len + 1);
    for (i = 0; i < out->len; i++)
        (*ifaces)[i] = g_ptr_array_index(out, i);
    return out->len;
}


/* ---------------------------------------------------------------------
 * Hot-plug: getfd + netdev_add + device_add on a free root port;
 * device_del, DEVICE_DELETED, netdev_del
 */

static void
stratovirtInterfaceAssignAlias(virDomainDef *def,
                               virDomainNetDef *net)
{
    int idx = 0;
    size_t i;

    for (i = 0; i < def->nnets; i++) {
        int n;
        const char *a = def->nets[i]->info.alias;

        if (a && STRPREFIX(a, "net") && virStrToLong_i(a + 3, NULL, 10, &n) == 0 && n >= idx)
            idx = n + 1;
    }
    g_free(net->info.alias);
    net->info.alias = g_strdup_printf("net%d", idx);
}


/**
 * virStratoVirtInterfaceAttachLive:
 * @net: parsed interface; owned by @vm->def on success
 *
 * Called with the job held.  The host side first, then the fds to
 * StratoVirt (getfd), the backend (netdev_add) and the device on a free
 * root port (device_add).  On failure all of it is undone.
 */
int
virStratoVirtInterfaceAttachLive(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 virDomainNetDef *net)
{
    virStratoVirtNetFDs fds = { 0 };
    g_autofree char *netdevId = NULL;
    g_autofree char *bus = NULL;
    g_auto(GStrv) tapNames = NULL;
    g_auto(GStrv) vhostNames = NULL;
    char macstr[VIR_MAC_STRING_BUFLEN];
    virStratoVirtMonitor *mon;
    bool netdevAdded = false;
    int port;
    int rc = -1;
    size_t i;

    if (virStratoVirtDomainIsMicrovm(vm->def)) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("the StratoVirt driver hot-plugs interfaces into standard machines (q35, virt) only; on microvm add it with --config and restart"));
        return -1;
    }
    if (net->type == VIR_DOMAIN_NET_TYPE_HOSTDEV) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("an <interface type='hostdev'> cannot be hot-plugged: it is a VFIO device, and StratoVirt cannot hot-plug those; add it with --config and restart the domain"));
        return -1;
    }
    if (virDomainNetFindIdx(vm->def, net) >= 0) {
        virReportError(VIR_ERR_OPERATION_INVALID,
                       _("the domain already has an interface with MAC address %1$s"),
                       virMacAddrFormat(&net->mac, macstr));
        return -1;
    }
    virResetLastError();
    if (net->info.type == VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("a hot-plugged interface goes on a free pcie-root-port picked by the driver; remove its <address>"));
        return -1;
    }
    if ((port = virStratoVirtDomainFreeRootPort(vm->def)) < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("no free pcie-root-port to hot-plug into: StratoVirt creates root ports at start only; add <controller type='pci' model='pcie-root-port'/> elements and restart the domain"));
        return -1;
    }

    stratovirtInterfaceAssignAlias(vm->def, net);
    net->info.type = VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI;
    net->info.addr.pci.domain = 0;
    net->info.addr.pci.bus = port;
    net->info.addr.pci.slot = 0;
    net->info.addr.pci.function = 0;

    if (virStratoVirtInterfacePrepare(driver, vm, net, &fds) < 0)
        return -1;

    netdevId = g_strdup_printf("host%s", net->info.alias);
    bus = g_strdup_printf("pci.%d", port);
    tapNames = g_new0(char *, fds.ntapfd + 1);
    vhostNames = g_new0(char *, fds.nvhostfd + 1);
    for (i = 0; i < fds.ntapfd; i++)
        tapNames[i] = g_strdup_printf("fd-%s-%zu", net->info.alias, i);
    for (i = 0; i < fds.nvhostfd; i++)
        vhostNames[i] = g_strdup_printf("vhostfd-%s-%zu", net->info.alias, i);

    if (!(mon = virStratoVirtDomainObjEnterMonitor(vm)))
        goto cleanup;
    for (i = 0; i < fds.ntapfd; i++) {
        if (virStratoVirtMonitorGetFd(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                      tapNames[i], fds.tapfd[i]) < 0)
            goto exit_monitor;
    }
    for (i = 0; i < fds.nvhostfd; i++) {
        if (virStratoVirtMonitorGetFd(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT,
                                      vhostNames[i], fds.vhostfd[i]) < 0)
            goto exit_monitor;
    }
    if (virStratoVirtMonitorAddNetdev(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, netdevId,
                                      (const char *const *) tapNames, fds.ntapfd,
                                      (const char *const *) vhostNames, fds.nvhostfd) < 0)
        goto exit_monitor;
    netdevAdded = true;
    if (virStratoVirtMonitorAddNetDevice(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, net->info.alias,
                                         netdevId, virMacAddrFormat(&net->mac, macstr), bus,
                                         fds.ntapfd > 1) < 0)
        goto exit_monitor;
    rc = 0;

 exit_monitor:
    if (rc < 0 && netdevAdded) {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        ignore_value(virStratoVirtMonitorDelNetdev(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, netdevId));
        virErrorRestore(&orig);
    }
    virStratoVirtDomainObjExitMonitor(vm, mon);
    if (rc == 0 && !virDomainObjIsActive(vm)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s",
                       _("the domain stopped while the interface was plugged in"));
        rc = -1;
    }

 cleanup:
    /* StratoVirt has its own copies of the fds now (or failed) */
    virStratoVirtNetFDsClear(&fds);
    if (rc < 0) {
        virErrorPtr orig;

        virErrorPreserveLast(&orig);
        virStratoVirtInterfaceRelease(driver, vm, net);
        virErrorRestore(&orig);
        virDomainAuditNet(vm, NULL, net, "attach", false);
        return -1;
    }
    virDomainAuditNet(vm, NULL, net, "attach", true);
    /* cannot fail: 9.0's int is always 0 (its array growth aborts on OOM) */
    ignore_value(virStratoVirtCompatDomainNetInsert(vm->def, net));
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventDeviceAddedNewFromObj(vm, net->info.alias));
    return 0;
}


/**
 * virStratoVirtInterfaceDetachLive:
 * @idx: index in @vm->def->nets
 * @timeout: milliseconds to wait for the guest to release the device
 *
 * device_del, then wait for DEVICE_DELETED; only then netdev_del and the
 * host side released.
 */
int
virStratoVirtInterfaceDetachLive(virStratoVirtDriver *driver,
                                 virDomainObj *vm,
                                 size_t idx,
                                 unsigned int timeout)
{
    virDomainNetDef *net = vm->def->nets[idx];
    g_autofree char *alias = g_strdup(net->info.alias);
    int rc;

    if (net->type == VIR_DOMAIN_NET_TYPE_HOSTDEV) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED, "%s",
                       _("an <interface type='hostdev'> cannot be unplugged by the StratoVirt driver; detach it with --config and restart"));
        return -1;
    }
    if (!alias || net->info.type != VIR_DOMAIN_DEVICE_ADDRESS_TYPE_PCI ||
        net->info.addr.pci.bus == 0) {
        virReportError(VIR_ERR_OPERATION_UNSUPPORTED,
                       _("interface %1$s sits on pcie.0 (or is not on PCI), where StratoVirt cannot unplug devices; only devices on a pcie-root-port can be detached live"),
                       NULLSTR(alias));
        return -1;
    }

    if ((rc = virStratoVirtDomainDelDeviceWait(vm, alias, timeout)) < 0)
        return -1;
    if (rc == 1)
        return 0; /* it stopped meanwhile: the stop released everything */
    if (rc == 2) {
        virReportError(VIR_ERR_OPERATION_TIMEOUT,
                       _("the guest did not release interface %1$s within %2$u ms (no DEVICE_DELETED from StratoVirt yet); it stays attached until StratoVirt reports it deleted"),
                       alias, timeout);
        return -1;
    }

    virStratoVirtInterfaceRemoved(driver, vm, alias);
    return 0;
}


/**
 * virStratoVirtInterfaceRemoved:
 * @alias: an interface StratoVirt reported deleted
 *
 * The device is out of the VMM: netdev_del, then the host side (tap, OVS
 * port, network port) released and the interface out of the live
 * definition.  Job held.  Nothing happens when the domain has no such
 * interface (any more).
 */
void
virStratoVirtInterfaceRemoved(virStratoVirtDriver *driver,
                              virDomainObj *vm,
                              const char *alias)
{
    g_autofree char *netdevId = g_strdup_printf("host%s", alias);
    virStratoVirtMonitor *mon;
    virDomainNetDef *net;
    size_t idx;

    for (idx = 0; idx < vm->def->nnets; idx++) {
        if (STREQ_NULLABLE(vm->def->nets[idx]->info.alias, alias))
            break;
    }
    if (idx == vm->def->nnets ||
        vm->def->nets[idx]->type == VIR_DOMAIN_NET_TYPE_HOSTDEV)
        return;

    if ((mon = virStratoVirtDomainObjEnterMonitor(vm))) {
        if (virStratoVirtMonitorDelNetdev(mon, VIR_STRATOVIRT_MONITOR_TIMEOUT, netdevId) < 0) {
            VIR_WARN("domain %s: netdev_del %s: %s", vm->def->name, netdevId,
                     virGetLastErrorMessage());
            virResetLastError();
        }
        virStratoVirtDomainObjExitMonitor(vm, mon);
    }
    if (!virDomainObjIsActive(vm))
        return; /* the stop released everything */

    /* the lock was dropped: look again */
    for (idx = 0; idx < vm->def->nnets; idx++) {
        if (STREQ_NULLABLE(vm->def->nets[idx]->info.alias, alias))
            break;
    }
    if (idx == vm->def->nnets)
        return;
    net = vm->def->nets[idx];
    virStratoVirtInterfaceRelease(driver, vm, net);
    virDomainAuditNet(vm, net, NULL, "detach", true);
    virDomainNetRemove(vm->def, idx);
    virDomainNetDefFree(net);
    virObjectEventStateQueue(driver->domainEventState,
                             virDomainEventDeviceRemovedNewFromObj(vm, alias));
}
