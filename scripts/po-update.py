#!/usr/bin/python3
"""Keep po/ current: regenerate po/libvirt-stratovirt.pot from the sources
listed in po/POTFILES, and merge it into every po/LANG.po (msgmerge).

  scripts/po-update.py            update the .pot and merge the .po files
  scripts/po-update.py --check    fail if the .pot is stale, a message has no
                                  translation (or a fuzzy one), or a catalog
                                  does not compile with format checks
"""

import os
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PO = os.path.join(TOP, "po")
DOMAIN = "libvirt-stratovirt"


def xgettext(out):
    subprocess.run(["xgettext", "--keyword=_", "--keyword=N_", "--from-code=UTF-8",
                    "--package-name=" + DOMAIN, "--add-comments=TRANSLATORS:",
                    "--sort-by-file", "--no-wrap",
                    "-D", TOP, "-f", os.path.join(PO, "POTFILES"), "-o", out],
                   check=True)


def msgids(path):
    out = subprocess.run(["msgcat", "--no-wrap", "--sort-output", path],
                         capture_output=True, text=True, check=True).stdout
    ids = set()
    cur = None
    for line in out.splitlines():
        if line.startswith("msgid "):
            cur = line[6:]
        elif line.startswith("\"") and cur is not None:
            cur += line
        elif cur is not None:
            if cur != '""':
                ids.add(cur)
            cur = None
    return ids


def langs():
    with open(os.path.join(PO, "LINGUAS")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def check():
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, "fresh.pot")
        xgettext(fresh)
        want = msgids(fresh)
        have = msgids(os.path.join(PO, DOMAIN + ".pot"))
        if want != have:
            print("po/%s.pot is stale: run scripts/po-update.py (%d new, %d gone)"
                  % (DOMAIN, len(want - have), len(have - want)))
            bad += 1
        for lang in langs():
            po = os.path.join(PO, lang + ".po")
            r = subprocess.run(["msgfmt", "--check", "--check-format", "-o", os.devnull,
                                "--statistics", po], capture_output=True, text=True)
            print("%s: %s" % (lang, r.stderr.strip()))
            if r.returncode != 0 or "untranslated" in r.stderr or "fuzzy" in r.stderr:
                bad += 1
            missing = want - msgids(po)
            for m in sorted(missing):
                print("%s: missing %s" % (lang, m))
            bad += len(missing)
    return 1 if bad else 0


def update():
    pot = os.path.join(PO, DOMAIN + ".pot")
    xgettext(pot)
    for lang in langs():
        po = os.path.join(PO, lang + ".po")
        if os.path.exists(po):
            subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none",
                            "--no-wrap", po, pot], check=True)
            # messages the code no longer has are not kept
            subprocess.run(["msgattrib", "--no-obsolete", "--no-wrap", "-o", po, po],
                           check=True)
        else:
            subprocess.run(["msginit", "--no-translator", "--no-wrap", "-l", lang + ".UTF-8",
                            "-i", pot, "-o", po], check=True)


if __name__ == "__main__":
    if "--check" in sys.argv:
        sys.exit(check())
    update()
