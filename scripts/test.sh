#!/bin/bash
# Run the whole test suite with meson and close with a line CI can read:
# 'N passed, N failed, N skipped'.
#
#   scripts/test.sh [--long] [--sanitize] [meson test args]
#
# --sanitize builds the project a second time with ASan+UBSan (build-asan/)
# and runs the same suite against that daemon and driver; any report whose
# stack reaches the project's own code (leaks included, at daemon exit)
# fails the run.  Reports are kept in build-asan/asan-logs/.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD="${BUILD:-$TOP/build}"

# --long: the fault suites' many-round scenarios run all their rounds
# (SVTEST_LONG=1; see tests/e2e/test_restart.py)
if [ "${1:-}" = "--long" ]; then
    export SVTEST_LONG=1
    shift
fi

sanitize=""
if [ "${1:-}" = "--sanitize" ]; then
    sanitize=1
    shift
    BUILD="$TOP/build-asan"
    if [ ! -f "$BUILD/build.ninja" ]; then
        ver=$(dpkg-query -W -f='${Version}' libvirt0)
        up=${ver%%-*}; up=${up#*:}
        meson setup "$BUILD" "$TOP" -Db_sanitize=address,undefined -Db_lundef=false \
            -Dlibvirt_src="${DEPS:-$TOP/.deps}/libvirt-$up" -Dlibvirt_build="${DEPS:-$TOP/.deps}/libvirt-build" \
            >/dev/null || exit 1
    fi
    ninja -C "$BUILD" >/dev/null || exit 1
    rm -rf "$BUILD/asan-logs"
    mkdir -p "$BUILD/asan-logs"
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=0:log_path=$BUILD/asan-logs/asan:verify_asan_link_order=0"
    export UBSAN_OPTIONS="print_stacktrace=1:log_path=$BUILD/asan-logs/ubsan"
    export LSAN_OPTIONS="suppressions=$TOP/tests/fuzz/lsan.supp:print_suppressions=0"
    export BUILD
fi

rc=0
jobs=$(nproc)
# under the sanitizers everything is several times slower: one at a time
extra=()
[ -n "$sanitize" ] && jobs=1
[ -n "${SVTEST_LONG:-}" ] && extra+=(--timeout-multiplier 6)
meson test -C "$BUILD" --print-errorlogs --num-processes "$jobs" "${extra[@]}" "$@" || rc=$?

if [ -n "$sanitize" ]; then
    # a report counts when its stack reaches our sources
    bad=0
    for f in "$BUILD"/asan-logs/*; do
        [ -f "$f" ] || continue
        if grep -q "src/stratovirt\|src/conf\|stratovirt_" "$f"; then
            echo "sanitizer report in the project's code: $f"
            sed -n '1,40p' "$f"
            bad=$((bad + 1))
        fi
    done
    echo "sanitize: $(ls "$BUILD"/asan-logs | wc -l) report file(s), $bad in the project's code"
    [ "$bad" -eq 0 ] || rc=1
fi

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
