#!/usr/bin/env python3
#
# check-rooms.py: each concern stays in its room.
#
# QMP's wire format belongs to the monitor: no '"execute"' and no JSON
# built or picked apart (virJSONValue*) in the driver's sources outside
# src/stratovirt/stratovirt_monitor*.c.  A new QMP command is one typed
# function there (see stratovirt_monitor.h).
#
# The error domain is chosen once, in src/stratovirt/stratovirt_error.h:
# every VIR_FROM_THIS in src/ is VIR_STRATOVIRT_ERROR_DOMAIN.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATTERN = re.compile(r'"execute"|\bvirJSONValue\w*')
# Files that read JSON which is not QMP; "execute" stays forbidden there.
NOT_QMP = {
    'stratovirt_firmware.c': 'firmware descriptors (QEMU interop JSON under /usr/share/qemu/firmware)',
}
EXECUTE = re.compile(r'"execute"')
FROM_THIS = re.compile(r'^#\s*define\s+VIR_FROM_THIS\s+(\S+)')


def main():
    bad = []
    checked = 0
    wrongdomain = []
    for path in sorted((ROOT / 'src').rglob('*')):
        if path.suffix not in ('.c', '.h'):
            continue
        checked += 1
        monitor = path.name.startswith('stratovirt_monitor')
        pattern = EXECUTE if path.name in NOT_QMP else PATTERN
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            where = '%s:%d: %s' % (path.relative_to(ROOT), lineno, line.strip())
            if not monitor and pattern.search(line):
                bad.append(where)
            m = FROM_THIS.match(line)
            if m and m.group(1) != 'VIR_STRATOVIRT_ERROR_DOMAIN':
                wrongdomain.append(where)
    if checked == 0:
        print('check-rooms: no sources found under %s' % (ROOT / 'src'))
        return 1
    if wrongdomain:
        print('error domain chosen outside src/stratovirt/stratovirt_error.h '
              '(use #define VIR_FROM_THIS VIR_STRATOVIRT_ERROR_DOMAIN):')
        print('\n'.join(wrongdomain))
    if bad:
        print('QMP wire format outside stratovirt_monitor*.c (add a typed '
              'function to src/stratovirt/stratovirt_monitor.c instead):')
        print('\n'.join(bad))
    if bad or wrongdomain:
        return 1
    print('check-rooms: %d files, no QMP JSON outside the monitor, one error domain' % checked)
    return 0


if __name__ == '__main__':
    sys.exit(main())
