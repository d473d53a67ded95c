/*
 * stratovirt_serial.h: the serial port's <log file>, through a pty of the
 * daemon's own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "internal.h"

/* virtlogd's defaults (max_size, max_backups in virtlogd.conf) */
#define VIR_STRATOVIRT_SERIAL_LOG_MAX_SIZE (2 * 1024 * 1024)
#define VIR_STRATOVIRT_SERIAL_LOG_MAX_BACKUPS 3

typedef struct _virStratoVirtSerialLog virStratoVirtSerialLog;

virStratoVirtSerialLog *virStratoVirtSerialLogOpen(const char *sockPath,
                                                   const char *logPath,
                                                   bool append);
const char *virStratoVirtSerialLogGetPty(virStratoVirtSerialLog *slog);
void virStratoVirtSerialLogClose(virStratoVirtSerialLog *slog);
