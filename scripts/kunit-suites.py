#!/usr/bin/env python3
"""List the KUnit suites a built kernel must report.

    kunit-suites.py TREE

Two sources, both derived from the tree, never written by hand:

- vmlinux: every suite the build linked in. The KUnit macros (C's
  kunit_test_suites() and Rust's #[kunit_tests]) put a pointer to each
  struct kunit_suite in .kunit_test_suites, which the linker script gathers
  between __kunit_suites_start and __kunit_suites_end; a suite begins with
  its name (char name[256]).
- our Rust sources: every #[kunit_tests(NAME)] under rust/kernel/bpf/ whose
  cfg attributes, and those on the `mod` declarations from rust/kernel/lib.rs
  down to its file, hold for the tree's .config. A suite that a cfg typo
  dropped is missing from vmlinux, so the sources are the only record that
  it should be there: an option no Kconfig defines counts as set.

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

    # A relocatable vmlinux (arm64's CONFIG_RELOCATABLE) keeps its pointers
    # as RELATIVE relocations, applied at boot: the slot holds no address,
    # the relocation's addend is it.
    relative = {}
    for sec in secs:
        if sec["type"] == 4 and sec["entsize"]:  # SHT_RELA
            for o in range(sec["off"], sec["off"] + sec["size"], sec["entsize"]):
                r_offset, r_info, r_addend = struct.unpack_from(end + "QQq", data, o)
                if r_info & 0xFFFFFFFF in (8, 1027):  # R_X86_64_RELATIVE, R_AARCH64_RELATIVE
                    relative[r_offset] = r_addend & 0xFFFFFFFFFFFFFFFF
    table = at(start, stop - start)
    names = set()
    for i in range(0, len(table), 8):
        ptr, = struct.unpack_from(end + "Q", table, i)
        ptr = relative.get(start + i, ptr)
        names.add(at(ptr, 256).split(b"\0")[0].decode())
    return names


def kconfig_symbols(tree):
    """Every symbol any Kconfig file of the tree defines."""
    syms = set()
    for f in tree.rglob("Kconfig*"):
        if f.is_file():
            syms.update(re.findall(r"^\s*(?:menu)?config\s+(\w+)", f.read_text(errors="replace"), re.M))
    return syms


def cfg_attrs(lines, idx):
    """The cfg(...) predicates of the attributes right above line idx."""
    preds = []
    i = idx - 1
    while i >= 0 and re.match(r"\s*(#\[|///)", lines[i]):
        m = re.match(r"\s*#\[cfg\((.*)\)\]\s*$", lines[i])
        if m:
            preds.append(m.group(1))
        i -= 1
    return preds


class Cfg:
    """Evaluates rustc cfg predicates over CONFIG_ options against .config."""

    def __init__(self, tree):
        cfg = (tree / ".config").read_text(errors="replace")
        self.on = set(re.findall(r"^(CONFIG_\w+)=y$", cfg, re.M))
        self.known = {"CONFIG_" + s for s in kconfig_symbols(tree)}
        self.unknown = set()

    def eval(self, pred):
        toks = re.findall(r"\w+|[(),]", pred)
        pos = 0

        def expr():
            nonlocal pos
            t = toks[pos]
            pos += 1
            if t in ("all", "any", "not"):
                assert toks[pos] == "("
                pos += 1
                args = []
                while toks[pos] != ")":
                    args.append(expr())
                    if toks[pos] == ",":
                        pos += 1
                pos += 1
                return all(args) if t == "all" else any(args) if t == "any" else not args[0]
            if t.startswith("CONFIG_"):
                if t not in self.known:
                    # A typo: count the suite as meant to be built, so
                    # that its absence from vmlinux fails the run.
                    self.unknown.add(t)
                    return True
                return t in self.on
            return False  # test, doc, ...: not set in a kernel build

        return expr()


def module_cfgs(tree, f):
    """The cfg predicates on the `mod` declarations from rust/kernel/lib.rs down to file f."""
    root = tree / "rust/kernel"
    parts = f.relative_to(root).with_suffix("").parts
    preds = []
    for depth in range(len(parts)):
        name = parts[depth]
        parent = root / "lib.rs" if depth == 0 else root.joinpath(*parts[:depth]).with_suffix(".rs")
        if not parent.exists():
            parent = root.joinpath(*parts[:depth], "mod.rs")
        lines = parent.read_text().split("\n")
        for i, line in enumerate(lines):
            if re.match(r"\s*(pub(\([\w:]+\))?\s+)?mod\s+%s\s*;" % name, line):
                preds += cfg_attrs(lines, i)
                break
    return preds


def source_suites(tree):
    """Our #[kunit_tests] whose module and attributes the config builds.

    A cfg that names an option no Kconfig defines (a typo, which would drop
    a suite silently) counts as set, and is reported."""
    cfg = Cfg(tree)
    names = set()
    for f in sorted((tree / "rust/kernel/bpf").rglob("*.rs")):
        lines = f.read_text().split("\n")
        chain = module_cfgs(tree, f)
        for i, line in enumerate(lines):
            m = re.match(r"\s*#\[kunit_tests\((\w+)\)\]", line)
            if m and all([cfg.eval(p) for p in chain + cfg_attrs(lines, i)]):
                names.add(m.group(1))
    for sym in sorted(cfg.unknown):
        print(f"kunit-suites: cfg names {sym}, which no Kconfig defines", file=sys.stderr)
    return names, bool(cfg.unknown)


def main():
    tree = Path(sys.argv[1])
    built = elf_suites(tree / "vmlinux")
    src, unknown = source_suites(tree)
    for name in sorted(built | src):
        print(name)
    lost = sorted(src - built)
    for name in lost:
        print(f"kunit-suites: {name} is declared in rust/kernel/bpf/ but not in vmlinux", file=sys.stderr)
    return 1 if lost or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
