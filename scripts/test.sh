#!/bin/bash
# Run the whole test suite with meson and close with a line CI can read:
# 'N passed, N failed, N skipped'.
#
#   scripts/test.sh [--long] [--sanitize] [meson test args]
#
# --sanitize builds the project a second time with ASan+UBSan (build-asan/)
# and runs the same suite against that daemon and driver; any report whose
# stack reaches the project's own code (leaks included, at daemon exit)
# fails the run.  Stacks are unwound fully (glib and libvirt.so are built
# without frame pointers: the fast unwinder stops in them and would hide the
# caller), and tests/lsan.supp lists only leaks outside the project's code.
# A leak libvirt.so makes and loses inside the dispose of one of its own
# objects is shown but not counted (scripts/asan-classify.py); any other
# report with no frame of the project's code fails the run too, until it
# is read and, if it is not ours, suppressed with its reason.
# Reports are kept in build-asan/asan-logs/.
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
    BUILD="$BUILD-asan"   # build-asan, or build-RELEASE-asan in a release root
    if [ ! -f "$BUILD/build.ninja" ]; then
        ver=$(dpkg-query -W -f='${Version}' libvirt0)
        up=${ver%%-*}; up=${up#*:}
        meson setup "$BUILD" "$TOP" -Db_sanitize=address,undefined -Db_lundef=false -Dtest_hooks=true \
            -Dlibvirt_src="${DEPS:-$TOP/.deps}/libvirt-$up" -Dlibvirt_build="${DEPS:-$TOP/.deps}/libvirt-build" \
            >/dev/null || exit 1
    fi
    ninja -C "$BUILD" >/dev/null || exit 1
    rm -rf "$BUILD/asan-logs"
    mkdir -p "$BUILD/asan-logs"
    export ASAN_OPTIONS="detect_leaks=1:halt_on_error=0:log_path=$BUILD/asan-logs/asan:verify_asan_link_order=0:fast_unwind_on_malloc=0:malloc_context_size=48"
    export UBSAN_OPTIONS="print_stacktrace=1:log_path=$BUILD/asan-logs/ubsan"
    # leaks are counted from the reports below, not by exit statuses (a
    # test may check that a daemon exits 0); every daemon loses one planted
    # string at start, so that a run without leak reports is known to have
    # had leak checking on (scripts/asan-classify.py: "canary")
    export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0:exitcode=0"
    export STRATOVIRT_TEST_LEAK_CANARY=1
    # latency bounds x5 and floods /5 under ASan; fewer rounds of each
    # fault scenario (every path still runs, for the leak checker), all of
    # them with --long
    export SVTEST_SLOW=5
    [ -z "${SVTEST_LONG:-}" ] && export SVTEST_ROUNDS="${SVTEST_ROUNDS:-3}"
    export BUILD
fi

# --stratovirt PATH: the e2e suite on that real StratoVirt only.
# Without it: the whole suite on the stand-in, then the e2e suite again on
# each real binary in ../shared/stratovirt/ (STRATOVIRT_DIR) where /dev/kvm
# is present.
real_only=""
if [ "${1:-}" = "--stratovirt" ]; then
    real_only=$(realpath "$2") || exit 1
    shift 2
fi
REAL_DIR="${STRATOVIRT_DIR:-$TOP/../shared/stratovirt}"

# the fault hooks test_startsteps kills the daemon with (a build dir made
# before they existed gets them here)
if ! grep -q "define WITH_STRATOVIRT_TEST_HOOKS 1" "$BUILD/stratovirt-config.h" 2>/dev/null; then
    meson configure "$BUILD" -Dtest_hooks=true >/dev/null && ninja -C "$BUILD" >/dev/null || exit 1
fi

rc=0
jobs=$(nproc)
# under the sanitizers everything is several times slower: one at a time
extra=()
[ -n "$sanitize" ] && jobs=1 && extra+=(--timeout-multiplier 4)
[ -n "${SVTEST_LONG:-}" ] && extra+=(--timeout-multiplier 6)
logs=()
if [ -z "$real_only" ]; then
    meson test -C "$BUILD" --print-errorlogs --num-processes "$jobs" "${extra[@]}" "$@" || rc=$?
    logs+=("$BUILD/meson-logs/testlog.json")
fi

reals=()
if [ -n "$real_only" ]; then
    reals=("$real_only")
elif [ -z "$sanitize" ] && [ $# -eq 0 ]; then
    if [ ! -e /dev/kvm ]; then
        echo "real StratoVirt: skipped, no /dev/kvm on this host"
    elif ! ls "$REAL_DIR"/stratovirt-[0-9]* >/dev/null 2>&1; then
        echo "real StratoVirt: skipped, no binaries in $REAL_DIR"
    else
        for b in "$REAL_DIR"/stratovirt-[0-9]*; do
            [ -x "$b" ] && reals+=("$(realpath "$b")")
        done
    fi
fi
for b in "${reals[@]}"; do
    name=$(basename "$b")
    echo "=== the e2e suite on the real $name ==="
    # every e2e file; a case that needs the stand-in's fault switches, or
    # a guest the tiny test kernel is not, skips there and says why
    STRATOVIRT="$b" meson test -C "$BUILD" --print-errorlogs --num-processes "$jobs" \
        --logbase "real-$name" --suite e2e "$@" || rc=$?
    logs+=("$BUILD/meson-logs/real-$name.json")
done

if [ -n "$sanitize" ]; then
    # a report counts when its stack reaches our sources (the driver, the
    # XML room, the unit tests and their scripted QMP server, the shim),
    # except libvirt's own leaks inside a dispose of its objects
    # (scripts/asan-classify.py says how they are told apart), which are
    # shown; a report with no frame of ours fails the run as well
    bad=0
    other=0
    unread=0
    canaries=0
    for f in "$BUILD"/asan-logs/*; do
        [ -f "$f" ] || continue
        verdict=$(/usr/bin/python3 "$TOP/scripts/asan-classify.py" "$f" | cut -d' ' -f1)
        grep -q stratovirtTestLeakCanary "$f" && canaries=$((canaries + 1))
        case "$verdict" in
        canary)
            ;;
        ours)
            echo "sanitizer report in the project's code: $f"
            sed -n '1,60p' "$f"
            bad=$((bad + 1))
            ;;
        libvirt-dispose)
            echo "sanitizer report of libvirt's own leak, made inside the dispose of a libvirt object (see scripts/asan-classify.py): $f"
            sed -n '1,20p' "$f"
            other=$((other + 1))
            ;;
        *)
            # no frame of ours in its stack (48 deep): it fails the run
            # too, until someone has read it (a leak truly outside the
            # project's code gets a suppression with its reason in
            # tests/lsan.supp)
            echo "sanitizer report with no frame of the project's code (read it; suppress it in tests/lsan.supp, with its reason, only if it is not ours): $f"
            sed -n '1,60p' "$f"
            unread=$((unread + 1))
            ;;
        esac
    done
    echo "sanitize: $canaries daemon exit(s) reported the planted canary leak (leak checking on)"
    echo "sanitize: $((bad + other + unread)) other report file(s), $bad in the project's code, $unread with no frame of it, $other libvirt's own"
    [ "$bad" -eq 0 ] && [ "$unread" -eq 0 ] || rc=1
    if [ "$canaries" -eq 0 ] && grep -qs ':e2e' "${logs[@]}"; then
        echo "sanitize: no daemon reported the planted canary leak: leak checking was not on"
        rc=1
    fi
fi

/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, os, re, sys
passed = failed = skipped = 0
# what was skipped and why, per run (stand-in, each real binary)
for path in sys.argv[1:]:
    run = os.path.basename(path)[:-len(".json")]
    run = run[len("real-"):] if run.startswith("real-") else "stand-in"
    reasons = {}
    try:
        for line in open(path):
            t = json.loads(line)
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            for m in re.finditer(r"^SKIP: (.*)$|\.\.\. skipped ['\"](.*)['\"]$", out, re.M):
                why = m.group(1) or m.group(2)
                key = "%s: %s" % (t.get("name"), why)
                reasons[key] = reasons.get(key, 0) + 1
    except FileNotFoundError:
        continue
    if reasons:
        print("skipped on %s:" % run)
        for k in sorted(reasons):
            print("  %s%s" % (k, " (%d cases)" % reasons[k] if reasons[k] > 1 else ""))
for path in sys.argv[1:]:
    try:
        for line in open(path):
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
    except FileNotFoundError:
        failed += 1
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
PY
exit $rc
