#!/usr/bin/env python3
"""Filter checkpatch --show-types output through config/checkpatch-exceptions.

Reads checkpatch's report on stdin, drops the warnings whose file and type
an exception names, prints the rest and a count of what was excused, and
exits 1 when anything is left.
    checkpatch-filter.py EXCEPTIONS < report
"""
import re
import sys


def main():
    allowed = set()
    for line in open(sys.argv[1]):
        line = line.split("#", 1)[0].split()
        if len(line) >= 3:
            allowed.add((line[0], line[1]))
    # A report is blocks separated by blank lines; a warning block starts
    # with "WARNING:TYPE:", "ERROR:TYPE:" or "CHECK:TYPE:" and names its
    # file in a "#N: FILE: path:line:" line.
    blocks = sys.stdin.read().split("\n\n")
    kept, excused = [], 0
    for b in blocks:
        m = re.match(r"(WARNING|ERROR|CHECK):([A-Z0-9_]+):", b.strip())
        if not m:
            if b.strip() and not b.strip().startswith("total:"):
                kept.append(b)
            continue
        f = re.search(r"FILE: ([^:]+):", b)
        if f and (f.group(1), m.group(2)) in allowed:
            excused += 1
            continue
        kept.append(b)
    if kept:
        print("\n\n".join(kept))
    if excused:
        print(f"checkpatch: {excused} warnings excused by {sys.argv[1].split('/')[-1]}")
    sys.exit(1 if kept else 0)


main()
