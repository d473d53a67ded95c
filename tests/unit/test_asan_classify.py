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
