/*
 * svmonitortest.h: a scripted QMP server for the monitor's unit tests and
 * fuzzer, in the manner of libvirt's qemumonitortestutils
 *
 * A server listens on a fresh UNIX socket and plays exchanges: what it
 * sends when the monitor connects (the greeting), then for each command
 * the monitor sends, the recorded replies and events of the first
 * exchange (from the current one on) whose command and arguments are the
 * same.  Exchanges the test does not ask for are skipped, so a test walks
 * a recording of a real StratoVirt (../shared/stratovirt/qmp/) in order,
 * calling the monitor's typed functions for the commands the driver uses.
 * A command that matches nothing is a failure, reported by
 * svMonitorTestFree.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "stratovirt_monitor.h"

typedef struct _svMonitorTest svMonitorTest;

svMonitorTest *svMonitorTestNew(void);

/* Loads a .qmp recording: "<- " lines before the first "-> " are sent on
 * connect, "# EOF" closes the socket after the exchange it follows. */
int svMonitorTestLoadRecording(svMonitorTest *t,
                               const char *path);

/* Adds one exchange.  @request: the command as JSON (its "id" ignored), or
 * NULL for what is sent on connect; @replies: NULL-terminated lines, each
 * sent as one write with "\r\n", with the command's id added to a reply
 * that has none (as StratoVirt echoes it); @eof: close after them. */
void svMonitorTestAddExchange(svMonitorTest *t,
                              const char *request,
                              const char *const *replies,
                              bool eof);

/* Bytes sent as they are, as one write, after the last exchange's replies */
void svMonitorTestAddRaw(svMonitorTest *t,
                         const char *data,
                         size_t len);

/* Starts the server and opens a monitor on it (NULL with libvirt's error) */
virStratoVirtMonitor *svMonitorTestOpen(svMonitorTest *t,
                                        unsigned int timeout);
/* The same with virStratoVirtMonitorOpenPatient */
virStratoVirtMonitor *svMonitorTestOpenPatient(svMonitorTest *t,
                                               unsigned int timeout,
                                               virStratoVirtMonitorKeepWaitingFunc keepWaiting,
                                               void *waitOpaque);

/* Waits up to @timeout ms for the @n-th event (counted from 1) and returns
 * a copy of it in @ev (name and device point into @t), or -1. */
int svMonitorTestWaitEvent(svMonitorTest *t,
                           size_t n,
                           unsigned int timeout,
                           virStratoVirtMonitorEvent *ev);
size_t svMonitorTestEventCount(svMonitorTest *t);

/* How many descriptors the monitor passed (SCM_RIGHTS) so far */
size_t svMonitorTestFdCount(svMonitorTest *t);

/* Waits up to @timeout ms for the monitor's EOF callback */
bool svMonitorTestWaitEOF(svMonitorTest *t,
                          unsigned int timeout);

/* Closes the monitor and the server; returns the number of commands that
 * matched no exchange (each printed on stderr), or -1. */
int svMonitorTestFree(svMonitorTest *t,
                      virStratoVirtMonitor *mon);
