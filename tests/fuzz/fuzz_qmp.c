/*
 * fuzz_qmp.c: libFuzzer target, what a hostile VMM sends to the monitor
 *
 * The input is split into writes at arbitrary points and fed to the QMP
 * monitor as the event loop would; events are handed to a callback that
 * reads them as the driver's handler does.  Truncated, huge, deeply nested
 * or ill-typed messages, unknown events and floods must be survived.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "stratovirt_monitor.h"
#include "virerror.h"
#include "virlog.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quietErrors(void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
}


static void
onEvent(virStratoVirtMonitor *mon G_GNUC_UNUSED,
        virDomainObj *vm G_GNUC_UNUSED,
        const char *event,
        virJSONValue *data,
        void *opaque)
{
    unsigned long long actual;
    size_t *count = opaque;

    (*count)++;
    if (!data)
        return; /* stratovirt_process.c checks for no data the same way */
    /* what stratovirt_process.c reads from events */
    if (g_str_equal(event, "BALLOON_CHANGED"))
        (void) virJSONValueObjectGetNumberUlong(data, "actual", &actual);
    (void) virJSONValueObjectGetString(data, "device");
    (void) virJSONValueObjectGetString(data, "path");
    (void) virJSONValueObjectGetString(data, "reason");
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


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    virStratoVirtMonitorCallbacks cb = { .eventNotify = onEvent };
    size_t events = 0;
    virStratoVirtMonitor *mon = virStratoVirtMonitorNewForTest(&cb, &events);
    size_t off = 0;

    if (!mon)
        abort();
    /* the first byte chooses how the stream is cut into reads */
    while (off < size) {
        size_t chunk = 1 + (data[off] % 97) * 13;

        if (chunk > size - off)
            chunk = size - off;
        if (virStratoVirtMonitorFeed(mon, (const char *) data + off, chunk) < 0)
            break;
        off += chunk;
    }
    virObjectUnref(mon);
    virResetLastError();
    return 0;
}
