/*
 * sysfsshim.c: LD_PRELOAD shim for the simulated PCI host
 *
 * systemd's libudev accepts a device only if its directory is on sysfs
 * (it checks fstatfs()'s f_type), so libvirtd's udev node device driver
 * would ignore the simulated PCI devices, which are served by FUSE
 * (tests/simpci/simpci.py) and bound over /sys/bus/pci and
 * /sys/devices/pci0000:00 in the sandbox.  Loaded into that libvirtd only,
 * this reports FUSE filesystems mounted under /sys as sysfs.  Nothing else
 * changes: every read and write still goes to the simulated host.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#define _LARGEFILE64_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define FUSE_MAGIC 0x65735546
#define SYSFS_MAGIC_VALUE 0x62656572

static int (*real_fstatfs)(int, struct statfs *);
static int (*real_statfs)(const char *, struct statfs *);

static int
under_sys(const char *path)
{
    return path && strncmp(path, "/sys/", 5) == 0;
}

int
fstatfs(int fd, struct statfs *buf)
{
    char link[64];
    char path[4096];
    ssize_t n;
    int ret;

    if (!real_fstatfs)
        real_fstatfs = dlsym(RTLD_NEXT, "fstatfs");
    ret = real_fstatfs(fd, buf);
    if (ret == 0 && buf->f_type == FUSE_MAGIC) {
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        if ((n = readlink(link, path, sizeof(path) - 1)) > 0) {
            path[n] = '\0';
            if (under_sys(path))
                buf->f_type = SYSFS_MAGIC_VALUE;
        }
    }
    return ret;
}

int
fstatfs64(int fd, struct statfs64 *buf)
{
    /* same layout as struct statfs on 64-bit Linux */
    return fstatfs(fd, (struct statfs *) buf);
}

int
statfs(const char *path, struct statfs *buf)
{
    int ret;

    if (!real_statfs)
        real_statfs = dlsym(RTLD_NEXT, "statfs");
    ret = real_statfs(path, buf);
    if (ret == 0 && buf->f_type == FUSE_MAGIC && under_sys(path))
        buf->f_type = SYSFS_MAGIC_VALUE;
    return ret;
}

int
statfs64(const char *path, struct statfs64 *buf)
{
    return statfs(path, (struct statfs *) buf);
}
