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
# libvirt's internal API differences between the releases we build for
# belong to src/stratovirt/stratovirt_compat.h: the functions and fields it
# wraps are used nowhere else, and no source but it tests a WITH_LIBVIRT_*
# probe or a libvirt version number.
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
COMPAT_HEADER = 'stratovirt_compat.h'
COMPAT_WRAPPED = [
    'virCapabilitiesAllocMachines', 'virCapabilitiesDomainDataLookup',
    'virCapabilitiesDomainSupported', 'virDomainHostdevInsert',
    'virDomainDriverNodeDeviceDetachFlags', 'virPidFileAcquire',
    'virProcessGetStatInfo', 'virStringParseVersion', 'virStringSortCompare',
    'virStringSortRevCompare',
    'virDomainDefMaybeAddController', 'virSecurityManagerTransactionStart',
    'virSecurityManagerTransactionCommit', 'virSecurityManagerSetAllLabel',
    'virSecurityManagerRestoreAllLabel', 'virSecurityManagerSetChildProcessLabel',
    'virNetDevBandwidthSet', 'virNetDevOpenvswitchRemovePort',
    'virDomainNetReleaseActualDevice', 'virDomainHostdevSubsysPCIBackendTypeToString',
    'virDeviceHostdevPCIDriverNameTypeToString',
    'virDomainNetInsert', 'virSecurityManagerSetImageLabel',
    'virSecurityManagerRestoreImageLabel',
]
COMPAT = re.compile(r'\b(%s)\s*\(|\bu\.pci\.backend\b|\bpci->backend\b|\borigstates\b|'
                    r'\bslic_table\b|\bacpiTables\b|->clusters\b|'
                    r'VIR_DOMAIN_HOSTDEV_PCI_BACKEND_|VIR_DEVICE_HOSTDEV_PCI_DRIVER_NAME_|'
                    r'VIR_DOMAIN_INPUT_BUS_DEFAULT|'
                    r'\bWITH_LIBVIRT_\w+|\bLIBVIRT_VERSION\w*' % '|'.join(COMPAT_WRAPPED))
FROM_THIS = re.compile(r'^#\s*define\s+VIR_FROM_THIS\s+(\S+)')


def main():
    bad = []
    checked = 0
    wrongdomain = []
    uncompat = []
    for path in sorted((ROOT / 'src').rglob('*')):
        if path.suffix not in ('.c', '.h'):
            continue
        checked += 1
        # the guest agent's JSON belongs to stratovirt_agent.c as QMP's to the monitor
        monitor = path.name.startswith(('stratovirt_monitor', 'stratovirt_agent'))
        pattern = EXECUTE if path.name in NOT_QMP else PATTERN
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            where = '%s:%d: %s' % (path.relative_to(ROOT), lineno, line.strip())
            if not monitor and pattern.search(line):
                bad.append(where)
            if path.name != COMPAT_HEADER and COMPAT.search(line):
                uncompat.append(where)
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
    if uncompat:
        print('libvirt API that differs between 9.0 and 11.3 used outside '
              'src/stratovirt/stratovirt_compat.h (call its virStratoVirtCompat* helper, '
              'or add one there with a probe in meson.build):')
        print('\n'.join(uncompat))
    if bad or wrongdomain or uncompat:
        return 1
    print('check-rooms: %d files, no QMP JSON outside the monitor, one error domain, '
          'libvirt API differences only in %s' % (checked, COMPAT_HEADER))
    return 0


if __name__ == '__main__':
    sys.exit(main())
