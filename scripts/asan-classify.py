#!/usr/bin/python3
# Sort the sanitizer reports of ./run test --sanitize: the project's, or
# somebody else's.
#
# A report is the project's when its stack reaches our sources (the
# driver, the XML room, the unit tests and their scripted QMP server, the
# fuzzers).  One kind of leak report is told apart, block by block: memory
# that libvirt.so allocated while disposing of one of its own objects and
# never freed.  Its allocation stack climbs from the allocator through
# libvirt.so's (and glib's) frames only, up to a virObjectUnref, and only
# then reaches our code: the project dropped a reference it owned, and what
# leaked was made and lost inside libvirt's dispose.  The one seen:
# virNetClientMarkClose saves an error after the client's socket was
# already closed by the event loop (a remote connection's server hangs up
# after CONNECT_CLOSE), and neither virNetClientCloseLocked, which returns
# early without a socket, nor virNetClientDispose frees it (libvirt 9.0,
# src/rpc/virnetclient.c).  A program of 25 lines calling only libvirt's
# public API shows it with the same frames: virConnectOpen and
# virConnectClose of network:///system, 2,000 times, with the default event
# loop running in a second thread as in any daemon, leaks 178 to 208 of
# those errors under LeakSanitizer.  An object of the project's own class, or any
# callback of ours run by a dispose, puts our frame between the allocation
# and the virObjectUnref, and is counted as ours.
#
# A test build asked to (STRATOVIRT_TEST_LEAK_CANARY) loses one string at
# each daemon start, in stratovirtTestLeakCanary: a report of that alone
# is "canary", proof that leak checking was on in that daemon.
#
# usage: asan-classify.py FILE...   prints the verdicts; exit 1 when any
# report is the project's

import re
import sys

OURS = re.compile(r"src/stratovirt/|src/conf/|tests/unit/|tests/simpci/|tests/fuzz/|tests/shim/")
# the leak a test build plants at each daemon start when asked
# (STRATOVIRT_TEST_LEAK_CANARY): proof that leak checking is on
CANARY = "stratovirtTestLeakCanary"
FRAME = re.compile(r"^\s+#\d+ 0x[0-9a-f]+ (?:in (\S+))?(.*)$")
LEAK = re.compile(r"^(Direct|Indirect) leak of ")
# frames that are the allocator, before the code that asked for the memory
ALLOC = re.compile(r"^(__interceptor_|malloc|calloc|realloc|g_malloc|g_malloc0|g_realloc|"
                   r"g_try_malloc|g_strdup|g_strndup|g_memdup|g_new|g_slice_)")


def made_inside_libvirt_dispose(frames):
    """@frames: (function or None, rest of the line), innermost first: an
    error libvirt saved (virSaveLastError, right above the allocator)
    inside the dispose of one of its own objects"""
    i = 0
    while i < len(frames) and frames[i][0] and ALLOC.match(frames[i][0]):
        i += 1
    if i >= len(frames) or frames[i][0] != "virSaveLastError":
        return False
    for func, rest in frames[i + 1:]:
        if OURS.search(rest):
            return False
        if func == "virObjectUnref":
            return True
        if "libvirt.so" in rest or "libglib-2.0.so" in rest or "libgobject-2.0.so" in rest:
            continue
        return False
    return False


def blocks(text):
    """the leak blocks of a LeakSanitizer report, and the rest"""
    leaks = []
    rest = []
    cur = None
    for line in text.splitlines():
        if LEAK.match(line):
            cur = {"head": line, "frames": [], "lines": [line]}
            leaks.append(cur)
            continue
        m = FRAME.match(line)
        if cur is not None and m:
            cur["frames"].append((m.group(1), m.group(2)))
            cur["lines"].append(line)
            continue
        if cur is not None and not line.strip():
            cur = None
            continue
        cur = None
        rest.append(line)
    return leaks, rest


def classify(path):
    with open(path, errors="replace") as f:
        text = f.read()
    if "LeakSanitizer" not in text:
        return ("ours" if OURS.search(text) else "other"), []
    leaks, rest = blocks(text)
    theirs = []
    canaries = []
    ours = False
    for b in leaks:
        if any(f == CANARY for f, _ in b["frames"]):
            canaries.append(b)
        elif made_inside_libvirt_dispose(b["frames"]):
            theirs.append(b)
        elif any(OURS.search(r) for _, r in b["frames"]):
            ours = True
    # an error report beside the leaks (ASan, UBSan) is judged as a whole
    other_text = "\n".join(rest)
    if "ERROR: AddressSanitizer" in other_text or "runtime error" in other_text:
        if OURS.search(other_text):
            ours = True
    if ours:
        return "ours", theirs
    if canaries and len(canaries) == len(leaks):
        return "canary", theirs
    if theirs and len(theirs) + len(canaries) == len(leaks):
        return "libvirt-dispose", theirs
    return "other", theirs


def main(paths):
    bad = 0
    for p in paths:
        verdict, theirs = classify(p)
        print("%s %s %d" % (verdict, p, len(theirs)))
        if verdict == "ours":
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
