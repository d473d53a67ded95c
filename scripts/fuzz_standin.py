#!/usr/bin/python3
"""Fuzz the StratoVirt stand-in's command-line parser (a mutation fuzzer:
libFuzzer does not drive Python).  Seeds are the golden command lines of
tests/cmdline; mutations drop, duplicate, swap and corrupt argv words and
key=value items.  The parser must answer every input with StratoVirt's kind
of refusal (a message and exit 1) or accept it; any other exception is a
crash, saved under the artifacts directory.

  fuzz_standin.py SECONDS ARTIFACT_DIR   -> prints 'execs=N crashes=M'
"""

import glob
import importlib.machinery
import importlib.util
import os
import random
import shlex
import sys
import time
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Refused(Exception):
    pass


def load_standin():
    path = os.path.join(TOP, "tests", "standin", "stratovirt")
    loader = importlib.machinery.SourceFileLoader("standin", path)
    spec = importlib.util.spec_from_loader("standin", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)

    def die(msg):
        raise Refused(msg)
    mod.die = die
    return mod


def seeds():
    out = []
    for f in sorted(glob.glob(os.path.join(TOP, "tests", "cmdline", "*.args"))):
        with open(f) as fh:
            argv = shlex.split(fh.read().replace("\\\n", " "))
        out.append(argv[1:])
    return out


JUNK = ["", ",", "=", ",,", "-", "--", "0x", "-1", "99999999999999999999", "on", "true",
        "\x00", "ü", "a" * 300, "pcie.0", "0x1f", "id=", "bus=pci.99", "addr=0x20"]


def mutate(argv, rnd):
    a = list(argv)
    for _ in range(rnd.randint(1, 4)):
        if not a:
            a.append(rnd.choice(JUNK))
            continue
        i = rnd.randrange(len(a))
        op = rnd.randrange(7)
        if op == 0:
            del a[i]
        elif op == 1:
            a.insert(i, a[rnd.randrange(len(a))])
        elif op == 2:
            j = rnd.randrange(len(a))
            a[i], a[j] = a[j], a[i]
        elif op == 3:
            items = a[i].split(",")
            k = rnd.randrange(len(items))
            items[k] = rnd.choice(JUNK) if rnd.random() < 0.5 else items[k] + rnd.choice(JUNK)
            a[i] = ",".join(items)
        elif op == 4:
            a[i] = rnd.choice(JUNK)
        elif op == 5:
            s = a[i]
            if s:
                p = rnd.randrange(len(s))
                a[i] = s[:p] + chr(rnd.randrange(32, 127)) + s[p + 1:]
        else:
            a.insert(i, "-" + rnd.choice(["device", "drive", "machine", "m", "smp", "qmp",
                                          "chardev", "object", "netdev", "S", "daemonize"]))
    return a


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    artifacts = sys.argv[2] if len(sys.argv) > 2 else "."
    os.makedirs(artifacts, exist_ok=True)
    mod = load_standin()
    corpus = seeds()
    rnd = random.Random(1234)
    end = time.monotonic() + seconds
    execs = crashes = 0
    while time.monotonic() < end:
        argv = mutate(rnd.choice(corpus), rnd)
        execs += 1
        try:
            opts = mod.parse_argv(argv)
            vm = mod.VM()
            mod.create_vmconfig(vm, opts)
            if vm.standard or vm.machine == "microvm":
                vm.buses = {}
                try:
                    if vm.standard:
                        vm.buses["pcie.0"] = {(0, 0): "host-bridge"}
                    for spec in vm.devices:
                        mod.realize_device(vm, spec)
                except mod.ConfigError:
                    pass
        except (Refused, mod.ConfigError, SystemExit):
            pass
        except Exception:
            crashes += 1
            with open(os.path.join(artifacts, "crash-standin-%d" % crashes), "w") as f:
                f.write(shlex.join(argv) + "\n\n" + traceback.format_exc())
    print("execs=%d crashes=%d" % (execs, crashes))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
