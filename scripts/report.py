#!/usr/bin/env python3
"""Summarise one guest test run: KUnit cases (from the guest's dmesg),
test_progs tests and subtests (from its output), test_maps, the allowlist
build check and kernel splats. Writes results.json and prints the totals
as 'N passed, N failed, N skipped'."""

import argparse
import json
import re
import sys
from pathlib import Path

KTAP_CASE = re.compile(r"^(?P<ind> *)(?P<not>not )?ok \d+ (?:- )?(?P<name>\S+)(?: # (?P<dir>SKIP.*))?$")
KTAP_SUITE = re.compile(r"^ *# Subtest: (?P<name>\S+)$")
TP_LINE = re.compile(r"^#(?P<num>\d+)(?:/(?P<sub>\d+))?\s+(?P<name>\S+):(?P<res>OK|FAIL|SKIP)\b")
SPLAT = re.compile(
    r"(BUG:|WARNING:|Oops|Kernel panic|KASAN|UBSAN|kmemleak: \d+ new suspected"
    r"|possible circular locking|possible recursive locking|inconsistent lock state"
    r"|INFO: task .* blocked|rcu: INFO: .* stall|general protection fault"
    r"|Unable to handle kernel)")
# Tests the 2-vCPU TCG guest cannot run; test_progs reports them as SKIP.
SKIP_REASONS = {
    "res_spin_lock_stress": "needs 3 or more CPUs and hardware perf events (NMIs); "
                            "the guest has 2 vCPUs and TCG has no PMU",
    "sk_storage_teardown_faults": "needs CONFIG_FAIL_BPF_LOCAL_STORAGE_LOCK, which needs "
                                  "the Rust local storage (skipped when it is off)",
}
DMESG_TS = re.compile(r"^\[[ 0-9.]+\] ?")


def kunit(dmesg):
    """Return [(suite.case, result, log)] for every KUnit case, log being
    what the kernel printed while a failed case ran (its assertion and the
    test's own messages), so that a failure explains itself in CI's output.

    KUnit prints each suite indented by four spaces ("    # Subtest: suite",
    its cases as "    ok N case"), and closes it at the top level with
    "ok N suite"; parameterised cases nest one level deeper and are counted
    once, by their own line."""
    out, suite, since = [], None, []
    for raw in dmesg:
        line = DMESG_TS.sub("", raw.rstrip("\n"))
        m = KTAP_SUITE.match(line)
        if m:
            if line.startswith("    #"):
                suite = m["name"]
            since = []
            continue
        m = KTAP_CASE.match(line)
        if not m:
            since.append(line)
            continue
        res = "skip" if m["dir"] else ("fail" if m["not"] else "pass")
        log = "\n".join(since[-12:]) if res == "fail" else ""
        since = []
        if len(m["ind"]) == 4 and suite:
            out.append((f"{suite}.{m['name']}", res, log))
        elif not m["ind"] and m["name"] == suite:
            # a suite that failed without reporting cases (init failed)
            if res == "fail" and not any(n.startswith(suite + ".") for n, _, _ in out):
                out.append((suite, "fail", log))
            suite = None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--kunit-only", action="store_true")
    ap.add_argument("--vm-rc", type=int, default=0)
    ap.add_argument("--no-kunit-suites", action="store_true",
                    help="the kernel was built without KUnit tests: none is expected")
    a = ap.parse_args()
    d = a.outdir
    read = lambda f: (d / f).read_text(errors="replace").splitlines() if (d / f).exists() else []
    results = []

    dmesg = read("dmesg") or read("console.log")
    for name, res, log in kunit(dmesg):
        results.append({"suite": "kunit", "name": name, "result": res, "detail": log})
    if a.no_kunit_suites:
        if any(r["suite"] == "kunit" for r in results):
            results.append({"suite": "kunit", "name": "(KUnit results from a kernel built without tests)",
                            "result": "fail"})
        else:
            print("  kunit       none (the kernel has no KUnit tests configured)")
    elif not any(r["suite"] == "kunit" for r in results):
        results.append({"suite": "kunit", "name": "(no KUnit results)", "result": "fail"})

    if not a.kunit_only:
        for line in read("allowlist-check.txt"):
            _, runner, sel = line.split()
            results.append({"suite": runner, "name": sel, "result": "fail",
                            "detail": "not built (skipped at build time)"})
        # stop at test_progs' repeated error summary ("All error logs:")
        lines = read("output")
        if "All error logs:" in lines:
            lines = lines[:lines.index("All error logs:")]
        tp = [m for m in map(TP_LINE.match, lines) if m]
        for m in tp:
            results.append({"suite": "test_progs" if not m["sub"] else "test_progs-subtest",
                            "name": m["name"], "result": {"OK": "pass", "FAIL": "fail", "SKIP": "skip"}[m["res"]]})
        if not tp:
            results.append({"suite": "test_progs", "name": "(no results)", "result": "fail"})
        allow = [l.split() for l in read("allowlist") if l.strip() and not l.startswith("#")]
        if any(r[0] == "test_maps" for r in allow):
            rc = read("test_maps.rc")
            ok = rc == ["0"]
            results.append({"suite": "test_maps", "name": "test_maps", "result": "pass" if ok else "fail",
                            "detail": "\n".join(read("test_maps.log")[-5:])})

    splats = [l for l in dmesg if SPLAT.search(l)]
    if splats:
        results.append({"suite": "kernel", "name": "splats", "result": "fail", "detail": "\n".join(splats[:20])})
    leaks = "\n".join(read("kmemleak.txt")).split("unreferenced object")[1:]
    for leak in leaks:
        results.append({"suite": "kernel", "name": "kmemleak", "result": "fail",
                        "detail": "unreferenced object" + leak[:1500]})
    if a.vm_rc not in (0, 1):
        results.append({"suite": "vm", "name": "guest", "result": "fail", "detail": f"vm-run exited {a.vm_rc}"})

    (d / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    top = [r for r in results if r["suite"] != "test_progs-subtest"]
    subs = [r for r in results if r["suite"] == "test_progs-subtest"]
    count = lambda rs, res: sum(r["result"] == res for r in rs)
    for suite in ("kunit", "test_progs", "test_maps"):
        rs = [r for r in top if r["suite"] == suite]
        if rs:
            print(f"  {suite:<11} {count(rs, 'pass')} passed, {count(rs, 'fail')} failed, {count(rs, 'skip')} skipped")
    if subs:
        print(f"  {'(subtests)':<11} {count(subs, 'pass')} passed, {count(subs, 'fail')} failed, {count(subs, 'skip')} skipped")
    for r in top:
        if r["result"] == "skip" and r["suite"] != "kunit":
            print(f"  SKIP {r['suite']}: {r['name']}" + (f" ({SKIP_REASONS[r['name']]})" if r["name"] in SKIP_REASONS else ""))
    for r in results:
        if r["result"] == "fail":
            print(f"  FAIL {r['suite']}: {r['name']}" + (f"\n    {r['detail']}".replace("\n", "\n    ") if r.get("detail") else ""))
    print(f"results: {d / 'results.json'}")
    print(f"{count(top, 'pass')} passed, {count(top, 'fail')} failed, {count(top, 'skip')} skipped")
    return 1 if count(top, "fail") else 0


if __name__ == "__main__":
    sys.exit(main())
