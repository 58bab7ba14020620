#!/usr/bin/env python3
"""Derive the local-storage set: every test_progs test whose BPF objects use
a local-storage map type or helper, from a tree's selftests sources.

    ls-tests.py SELFTESTS_DIR              one test name a line
    ls-tests.py --objects SELFTESTS_DIR    "test object..." a line, for
                                           every test: the objects it loads

A BPF object uses local storage when its source (progs/NAME.c, or a progs/
header it includes) names BPF_MAP_TYPE_{TASK,SK,CGRP,INODE}_STORAGE or
bpf_{task,sk,cgrp,inode}_storage_{get,delete}. A test loads an object when
its file under prog_tests/ includes NAME.skel.h (or .lskel.h) or names
NAME.bpf.o; every test of such a file is in the set, except in
prog_tests/verifier.c, where each test_verifier_X runs only its own
verifier_X object. Objects no test loads (the benchmarks') are left out."""

import re
import sys
from pathlib import Path

USES = re.compile(r"BPF_MAP_TYPE_(TASK|SK|CGRP|INODE)_STORAGE"
                  r"|bpf_(task|sk|cgrp|inode)_storage_(get|delete)")
INCLUDE = re.compile(r'#\s*include\s+"([^"]+)"')
TEST_FN = re.compile(r"^void\s+(?:serial_)?test_(\w+)\s*\(\s*void\s*\)", re.M)
VERIFIER_RUN = re.compile(r"^void\s+test_(verifier_\w+)\s*\(\s*void\s*\)\s*\{\s*RUN(?:_TESTS)?\((\w+)\)", re.M)


def ls_objects(progs):
    headers = {h.name for h in progs.glob("*.h") if USES.search(h.read_text(errors="replace"))}
    objs = set()
    for c in progs.glob("*.c"):
        text = c.read_text(errors="replace")
        if USES.search(text) or any(Path(i).name in headers for i in INCLUDE.findall(text)):
            objs.add(c.stem)
    return objs


def loaded_objects(text):
    names = set(re.findall(r'"(\w+)\.l?skel\.h"', text))
    names |= set(re.findall(r'"(\w+)\.bpf\.o"', text))
    return names


def test_objects(st):
    """{test: the objects it loads}, for every test of prog_tests/."""
    tests = {}
    for f in sorted((st / "prog_tests").glob("*.c")):
        text = f.read_text(errors="replace")
        if f.name == "verifier.c":
            for test, obj in VERIFIER_RUN.findall(text):
                tests[test] = {obj}
            continue
        for test in TEST_FN.findall(text):
            tests[test] = loaded_objects(text)
    return tests


def derive(st):
    objs = ls_objects(st / "progs")
    return {t: o for t, o in test_objects(st).items() if o & objs}


def main():
    args = sys.argv[1:]
    with_objects = args and args[0] == "--objects"
    if with_objects:
        args = args[1:]
    tests = (test_objects if with_objects else derive)(Path(args[0]))
    for t in sorted(tests):
        print(f"{t} {' '.join(sorted(tests[t]))}" if with_objects else t)


if __name__ == "__main__":
    main()
