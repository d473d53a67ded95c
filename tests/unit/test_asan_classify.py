#!/usr/bin/python3
"""scripts/asan-classify.py, on reports seen in ./run test --sanitize:
libvirt's own leak inside a remote connection's dispose is told apart, and
a leak of the project's (a g_strdup in the driver, a dispose of the
project's own class, or any such block beside libvirt's) still counts."""

import importlib.util
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "asan_classify", os.path.join(HERE, "..", "..", "scripts", "asan-classify.py"))
ac = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ac)


def fixture(name):
    with open(os.path.join(HERE, "asan", name)) as f:
        return f.read()


CANARY_REPORT = """==9==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 31 byte(s) in 1 object(s) allocated from:
    #0 0x7f4fae3db9cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f4fadda1658 in g_malloc (/lib/x86_64-linux-gnu/libglib-2.0.so.0+0x5a658)
    #2 0x7f4faddbbc5e in g_strdup (/lib/x86_64-linux-gnu/libglib-2.0.so.0+0x74c5e)
    #3 0x7f4fa292c472 in stratovirtTestLeakCanary ../src/stratovirt/stratovirt_driver.c:241
    #4 0x7f4fa292c472 in stratovirtStateInitialize ../src/stratovirt/stratovirt_driver.c:268

SUMMARY: AddressSanitizer: 31 byte(s) leaked in 1 allocation(s).
"""

CASES = [
    # (what, report text, verdict)
    ("libvirt's virNetClient error leak in virConnect's dispose",
     fixture("libvirt-dispose.log"), "libvirt-dispose"),
    ("a g_strdup leaked by the driver", fixture("project-leak.log"), "ours"),
    ("a leak in a dispose of the project's own class",
     fixture("project-dispose.log"), "ours"),
    ("libvirt's leak and one of the project's in one report",
     fixture("libvirt-dispose.log").replace("SUMMARY", "XX") +
     "\n" + fixture("project-leak.log").split("detected memory leaks", 1)[1], "ours"),
    ("a leak inside a libvirt dispose that is not a saved error",
     fixture("libvirt-dispose.log").replace("in virSaveLastError", "in virStrcpy"), "ours"),
    ("the planted canary alone", CANARY_REPORT, "canary"),
    ("the canary beside libvirt's leak",
     fixture("libvirt-dispose.log").replace("SUMMARY", "XX") + "\n" + CANARY_REPORT,
     "libvirt-dispose"),
    ("the canary beside a leak of the project's",
     fixture("project-leak.log").replace("SUMMARY", "XX") + "\n" + CANARY_REPORT, "ours"),
    ("an ASan error in the project's code",
     "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n"
     "    #0 0x1 in virStratoVirtMonitorClose ../src/stratovirt/stratovirt_monitor.c:9\n", "ours"),
    ("an ASan error elsewhere",
     "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n"
     "    #0 0x1 in g_free (/lib/x86_64-linux-gnu/libglib-2.0.so.0+0x1)\n", "other"),
]


def main():
    print("1..%d" % len(CASES))
    fails = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (what, text, want) in enumerate(CASES, 1):
            path = os.path.join(tmp, "asan.%d" % i)
            with open(path, "w") as f:
                f.write(text)
            got = ac.classify(path)[0]
            if got == want:
                print("ok %d - %s: %s" % (i, what, got))
            else:
                print("not ok %d - %s: %s, expected %s" % (i, what, got, want))
                fails += 1
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
