#!/bin/bash
# Run the whole test suite with meson and close with a line CI can read:
# 'N passed, N failed, N skipped'.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD="${BUILD:-$TOP/build}"

rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes "$(nproc)" "$@" || rc=$?

/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
except FileNotFoundError:
    failed = 1
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
PY
exit $rc
