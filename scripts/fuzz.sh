#!/bin/bash
# ./run fuzz [SECONDS]: every fuzz target for SECONDS in all (default 60).
#   fuzz_domain_xml  domain XML through parse, post-parse, validation,
#                    address assignment and command-line building (libFuzzer,
#                    ASan+UBSan), seeded from tests/cmdline/*.xml
#   fuzz_qmp         bytes from a hostile VMM into the QMP monitor
#                    (libFuzzer, ASan+UBSan), seeded from tests/fuzz/qmp-seeds
#   standin          the StratoVirt stand-in's command-line parser (a
#                    mutation fuzzer in Python), seeded from tests/cmdline/*.args
# Crashes are saved in build-fuzz/artifacts/ (build-RELEASE-fuzz/ in a
# ./run test --release root, whose BUILD is build-RELEASE); the closing table gives
# executions and crashes per target, and the exit status is non-zero when
# any target crashed.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_TOTAL="${1:-60}"
FB="${BUILD:-$TOP/build}-fuzz"

if [ ! -f "$FB/build.ninja" ]; then
    CC=clang meson setup "$FB" "$TOP" -Dfuzz=true -Db_sanitize=address,undefined \
        -Db_lundef=false \
        -Dlibvirt_src="${DEPS:-$TOP/.deps}/libvirt-$(dpkg-query -W -f='${Version}' libvirt0 | sed 's/-.*//; s/^.*://')" \
        -Dlibvirt_build="${DEPS:-$TOP/.deps}/libvirt-build" >"${DEPS:-$TOP/.deps}/fuzz-configure.log" 2>&1 ||
        { echo "fuzz: configure failed, see .deps/fuzz-configure.log" >&2; exit 1; }
fi
ninja -C "$FB" tests/fuzz/fuzz_domain_xml tests/fuzz/fuzz_qmp >"$FB/build.log" 2>&1 || { tail -20 "$FB/build.log"; exit 1; }

mkdir -p "$FB/corpus/xml" "$FB/corpus/qmp" "$FB/artifacts"
cp "$TOP"/tests/cmdline/*.xml "$FB/corpus/xml/" 2>/dev/null
cp "$TOP"/tests/fuzz/qmp-seeds/* "$FB/corpus/qmp/"
cp "$TOP"/tests/fuzz/regressions/* "$FB/corpus/qmp/" 2>/dev/null || true

per=$(( SECONDS_TOTAL / 3 ))
[ "$per" -ge 1 ] || per=1
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$TOP/tests/lsan.supp:print_suppressions=0"

declare -A EXECS CRASHES
rc=0
for t in xml qmp; do
    bin="$FB/tests/fuzz/fuzz_domain_xml"; [ "$t" = qmp ] && bin="$FB/tests/fuzz/fuzz_qmp"
    log="$FB/fuzz-$t.log"
    "$bin" -max_total_time="$per" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="$FB/artifacts/$t-" "$FB/corpus/$t" >"$log" 2>&1
    r=$?
    EXECS[$t]=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    n=$(ls "$FB/artifacts/" 2>/dev/null | grep -c "^$t-" || true)
    CRASHES[$t]=$n
    if [ "$r" -ne 0 ] || [ "$n" -ne 0 ]; then rc=1; tail -30 "$log"; fi
done
out=$(/usr/bin/python3 "$TOP/scripts/fuzz_standin.py" "$per" "$FB/artifacts")
r=$?
EXECS[standin]=$(echo "$out" | sed -n 's/.*execs=\([0-9]*\).*/\1/p')
CRASHES[standin]=$(echo "$out" | sed -n 's/.*crashes=\([0-9]*\).*/\1/p')
[ "$r" -eq 0 ] || rc=1

printf '\n%-18s %12s %8s\n' target executions crashes
for t in xml qmp standin; do
    name=$t; [ $t = xml ] && name=fuzz_domain_xml; [ $t = qmp ] && name=fuzz_qmp
    printf '%-18s %12s %8s\n' "$name" "${EXECS[$t]:-0}" "${CRASHES[$t]:-0}"
done
echo "fuzz: ${SECONDS_TOTAL}s in all, artifacts in $FB/artifacts"
exit $rc
