#!/usr/bin/env python3
"""Sum insn-profile's per-block counts per kernel symbol.

  insn-report.py SYSTEM_MAP COUNTS [--per SYMBOL] [--top N] [--match REGEX]

Each block is charged to the symbol that contains its first address. With
--per, every count is divided by the number of times the block at the
start of SYMBOL ran (one call each): instructions per call of SYMBOL.
Rust symbols are shown by the last two parts of their demangled paths.
"""
import argparse
import bisect
import re
import subprocess
import sys


def demangle(names):
    try:
        out = subprocess.run(["rustfilt"], input="\n".join(names), capture_output=True,
                             text=True, check=True).stdout.split("\n")
        return out[:len(names)]
    except (OSError, subprocess.CalledProcessError):
        return names


def short(name):
    # _RNvMs0_NtNtNtCs..._6kernel3bpf13local_storage... -> last two identifiers
    if name.startswith("_R"):
        parts = re.findall(r"(?:\d+)([A-Za-z_][A-Za-z0-9_]*)", name)
        idents = []
        for m in re.finditer(r"(\d+)", name):
            n = int(m.group(1))
            s = name[m.end():m.end() + n]
            if len(s) == n and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s):
                idents.append(s)
        idents = [i for i in idents if not i.startswith("Cs")] or parts
        return "rust:" + "::".join(idents[-2:])
    return name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system_map")
    ap.add_argument("counts")
    ap.add_argument("--per")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--match")
    a = ap.parse_args()

    syms = []
    for line in open(a.system_map):
        addr, kind, name = line.split()[:3]
        if kind in "tTwW":
            syms.append((int(addr, 16), name))
    # Past vmlinux (`_end`): BPF programs and trampolines, modules.
    end = next((int(l.split()[0], 16) for l in open(a.system_map) if l.split()[2:3] == ["_end"]),
               None)
    if end is not None:
        syms.append((end, "(past vmlinux: BPF programs, modules)"))
    syms.sort()
    addrs = [s[0] for s in syms]
    total = {}
    starts = {}
    for line in open(a.counts):
        vaddr, insns, count = line.split()
        vaddr, insns, count = int(vaddr, 16), int(insns), int(count)
        i = bisect.bisect_right(addrs, vaddr) - 1
        if i < 0:
            continue
        name = syms[i][1]
        total[name] = total.get(name, 0) + insns * count
        if vaddr == syms[i][0]:
            starts[name] = starts.get(name, 0) + count
    per = 1
    if a.per:
        per = starts.get(a.per, 0)
        if not per:
            sys.exit(f"insn-report: no block starts {a.per}")
        print(f"{a.per}: {per} calls; instructions per call")
    rows = sorted(total.items(), key=lambda kv: -kv[1])
    if a.match:
        rows = [r for r in rows if re.search(a.match, r[0]) or re.search(a.match, short(r[0]))]
    grand = sum(v for _, v in rows)
    print(f"{'instructions':>14} {'calls':>12}  symbol")
    for name, v in rows[:a.top]:
        print(f"{v / per:14.1f} {starts.get(name, 0) / per:12.3f}  {short(name)}")
    print(f"{grand / per:14.1f} {'':>12}  (all {len(rows)} symbols)")


if __name__ == "__main__":
    main()
