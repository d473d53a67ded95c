#!/usr/bin/env python3
#
# check-rooms.py: each concern stays in its room.
#
# QMP's wire format belongs to the monitor: no '"execute"' and no JSON
# built or picked apart (virJSONValue*) in the driver's sources outside
# src/stratovirt/stratovirt_monitor*.c.  A new QMP command is one typed
# function there (see stratovirt_monitor.h).
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


def main():
    bad = []
    checked = 0
    for path in sorted((ROOT / 'src').rglob('*')):
        if path.suffix not in ('.c', '.h') or path.name.startswith('stratovirt_monitor'):
            continue
        checked += 1
        pattern = EXECUTE if path.name in NOT_QMP else PATTERN
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            m = pattern.search(line)
            if m:
                bad.append('%s:%d: %s' % (path.relative_to(ROOT), lineno, line.strip()))
    if checked == 0:
        print('check-rooms: no sources found under %s' % (ROOT / 'src'))
        return 1
    if bad:
        print('QMP wire format outside stratovirt_monitor*.c (add a typed '
              'function to src/stratovirt/stratovirt_monitor.c instead):')
        print('\n'.join(bad))
        return 1
    print('check-rooms: %d files, no QMP JSON outside the monitor' % checked)
    return 0


if __name__ == '__main__':
    sys.exit(main())
