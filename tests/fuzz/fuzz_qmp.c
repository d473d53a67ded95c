/*
 * fuzz_qmp.c: libFuzzer target, what a hostile VMM sends to the monitor
 *
 * The input is split into writes at arbitrary points and sent, after a
 * greeting, by the scripted QMP server of tests/unit/svmonitortest.c to a
 * monitor opened on its socket, as a VMM would; the monitor reads it on
 * libvirt's event loop and reads events into their typed form (what the
 * driver's handler gets).  Truncated, huge, deeply nested or ill-typed
 * messages, unknown events and floods must be survived.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "svmonitortest.h"
#include "virerror.h"
#include "virlog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quietErrors(void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
}


int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED, char ***argv G_GNUC_UNUSED)
{
    if (virErrorInitialize() < 0)
        abort();
    virSetErrorFunc(NULL, quietErrors);
    virLogSetDefaultPriority(VIR_LOG_ERROR);
    virLogSetOutputs("4:stderr");
    return 0;
}


#define GREETING "{\"QMP\":{\"version\":{\"qemu\":{\"micro\":1,\"minor\":0,\"major\":5},\"package\":\"StratoVirt-2.5.0\"},\"capabilities\":[]}}\r\n"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    svMonitorTest *t = svMonitorTestNew();
    virStratoVirtMonitor *mon;
    size_t off = 0;

    svMonitorTestAddRaw(t, GREETING, strlen(GREETING));
    /* the first byte chooses how the stream is cut into writes */
    while (off < size) {
        size_t chunk = 1 + (data[off] % 97) * 13;

        if (chunk > size - off)
            chunk = size - off;
        svMonitorTestAddRaw(t, (const char *) data + off, chunk);
        off += chunk;
    }
    svMonitorTestAddExchange(t, NULL, NULL, true);
    /* a monitor that did not take all of it before the EOF would hang here */
    if ((mon = svMonitorTestOpen(t, 10000)) && !svMonitorTestWaitEOF(t, 10000))
        abort();
    svMonitorTestFree(t, mon);
    virResetLastError();
    return 0;
}
