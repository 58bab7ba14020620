#!/usr/bin/env python3
"""List the KUnit suites a built kernel must report.

    kunit-suites.py TREE

Two sources, both derived from the tree, never written by hand:

- vmlinux: every suite the build linked in. The KUnit macros (C's
  kunit_test_suites() and Rust's #[kunit_tests]) put a pointer to each
  struct kunit_suite in .kunit_test_suites, which the linker script gathers
  between __kunit_suites_start and __kunit_suites_end; a suite begins with
  its name (char name[256]).
- our Rust sources: every #[kunit_tests(NAME)] under rust/kernel/bpf/ when
  CONFIG_RUST_BPF_KUNIT_TEST=y. A suite that a cfg typo dropped is missing
  from vmlinux, so the sources are the only record that it should be there.

Prints one suite name a line, sorted; exits 1 if a source suite is not in
vmlinux (it was compiled out), printing which."""

import re
import struct
import sys
from pathlib import Path


def elf_suites(vmlinux):
    data = vmlinux.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise SystemExit(f"kunit-suites: {vmlinux} is not a 64-bit ELF file")
    end = "<" if data[5] == 1 else ">"
    shoff, = struct.unpack_from(end + "Q", data, 0x28)
    shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
    secs = []
    for i in range(shnum):
        (name, typ, flags, addr, off, size, link, info, align, entsize) = struct.unpack_from(
            end + "IIQQQQIIQQ", data, shoff + i * shentsize)
        secs.append(dict(type=typ, addr=addr, off=off, size=size, link=link, entsize=entsize))
    symtab = next((s for s in secs if s["type"] == 2), None)  # SHT_SYMTAB
    if symtab is None:
        raise SystemExit(f"kunit-suites: {vmlinux} has no symbol table")
    strtab = secs[symtab["link"]]
    want = {b"__kunit_suites_start": None, b"__kunit_suites_end": None}
    for i in range(symtab["size"] // symtab["entsize"]):
        o = symtab["off"] + i * symtab["entsize"]
        st_name, = struct.unpack_from(end + "I", data, o)
        s = strtab["off"] + st_name
        name = data[s:data.index(b"\0", s)]
        if name in want:
            want[name], = struct.unpack_from(end + "Q", data, o + 8)
    start, stop = want[b"__kunit_suites_start"], want[b"__kunit_suites_end"]
    if start is None or stop is None:
        return set()

    def at(vaddr, n):
        for s in secs:
            if s["type"] == 1 and s["addr"] <= vaddr < s["addr"] + s["size"]:  # PROGBITS
                o = s["off"] + vaddr - s["addr"]
                return data[o:o + n]
        raise SystemExit(f"kunit-suites: address {vaddr:#x} is in no section of {vmlinux}")

    table = at(start, stop - start)
    names = set()
    for i in range(0, len(table), 8):
        ptr, = struct.unpack_from(end + "Q", table, i)
        names.add(at(ptr, 256).split(b"\0")[0].decode())
    return names


def source_suites(tree):
    cfg = (tree / ".config").read_text(errors="replace")
    if "\nCONFIG_RUST_BPF_KUNIT_TEST=y\n" not in cfg:
        return set()
    names = set()
    for f in sorted((tree / "rust/kernel/bpf").rglob("*.rs")):
        names.update(re.findall(r"#\[kunit_tests\((\w+)\)\]", f.read_text()))
    return names


def main():
    tree = Path(sys.argv[1])
    built = elf_suites(tree / "vmlinux")
    src = source_suites(tree)
    for name in sorted(built | src):
        print(name)
    lost = sorted(src - built)
    for name in lost:
        print(f"kunit-suites: {name} is declared in rust/kernel/bpf/ but not in vmlinux", file=sys.stderr)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
