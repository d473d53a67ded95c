/*
 * archshim.c: LD_PRELOAD shim that makes a process see another machine
 * architecture in uname(2), for tests of aarch64-only behaviour on an
 * x86_64 host
 *
 * The StratoVirt driver offers guests of the host's architecture only
 * (virArchFromHost reads uname), and the aarch64 'virt' machine is the only
 * one whose system_powerdown is an ACPI power button.  Loaded into the
 * sandbox's virtstratovirtd (and inherited by the StratoVirt stand-in it
 * starts, which then plays StratoVirt's aarch64 build), it reports
 * $SVTEST_UNAME_MACHINE as the machine; everything else is the real
 * uname.  No guest runs, so nothing depends on the real CPU.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

int
uname(struct utsname *buf)
{
    static int (*real_uname)(struct utsname *);
    const char *machine = getenv("SVTEST_UNAME_MACHINE");
    int ret;

    if (!real_uname)
        real_uname = dlsym(RTLD_NEXT, "uname");
    if ((ret = real_uname(buf)) == 0 && machine && *machine) {
        strncpy(buf->machine, machine, sizeof(buf->machine) - 1);
        buf->machine[sizeof(buf->machine) - 1] = '\0';
    }
    return ret;
}
