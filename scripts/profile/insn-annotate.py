#!/usr/bin/env python3
"""One function of a `make profile` run, block by block, with its disassembly.

  insn-annotate.py SYSTEM_MAP VMLINUX COUNTS SYMBOL PER

Prints each block of SYMBOL that ran at least once per 100 calls of PER
(a symbol whose first block runs once per operation, as profile.sh's PER),
with its instructions per call of PER and objdump's disassembly, then the
function's total. SYMBOL is a symbol's exact name, or a part of a Rust
symbol's mangled name (`8NewSelem5alloc`). Compare a Rust function with
its C counterpart in a profile of the baseline:

  insn-annotate.py $CACHE/root/build/linux/System.map \\
      $CACHE/root/build/linux/vmlinux out/x86_64/profile/linux/blocks \\
      rust_bpf_local_storage_update bpf_task_storage_get
"""
import bisect
import subprocess
import sys


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    system_map, vmlinux, counts, sym, per = sys.argv[1:]
    syms = sorted((int(a, 16), n) for a, _, n in
                  (line.split()[:3] for line in open(system_map)))
    addrs = [a for a, _ in syms]
    try:
        start = next(a for a, n in syms if n == sym or (n.startswith("_R") and sym in n))
        first = next(a for a, n in syms if n == per)
    except StopIteration:
        sys.exit(f"insn-annotate: no symbol {sym} or {per} in {system_map}")
    end = addrs[bisect.bisect_right(addrs, start)]
    # A block can be counted several times, in translations of different lengths (the
    # instruction clock ends some early): sum each one's instructions, and show the block
    # at the length that ran most.
    blocks, calls = {}, 0
    for line in open(counts):
        a, n, c = line.split()
        a, n, c = int(a, 16), int(n), int(c)
        if a == first:
            calls += c
        if start <= a < end:
            insns_run, runs, shown = blocks.get(a, (0, 0, (0, 0)))
            blocks[a] = (insns_run + n * c, runs + c, max(shown, (c, n)))
    if not calls:
        sys.exit(f"insn-annotate: no block starts {per}")
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
                          f"--stop-address={end:#x}", vmlinux],
                         capture_output=True, text=True, check=True).stdout
    insns = [line for line in dis.split("\n") if ":\t" in line and line.strip()[:1].isalnum()]
    at = {int(line.split(":")[0], 16): i for i, line in enumerate(insns)}
    total = 0.0
    for a in sorted(blocks):
        insns_run, runs, (_, n) = blocks[a]
        if runs / calls < 0.01 or a not in at:
            continue
        total += insns_run / calls
        print(f"--- {a:#x}: {insns_run / calls:.1f} instructions per call, run {runs / calls:.2f} times")
        for line in insns[at[a]:at[a] + n]:
            print("   ", line.strip())
    print(f"{total:.1f} instructions per call of {per} ({calls} calls)")


main()
