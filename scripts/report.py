#!/usr/bin/env python3
"""Account for every result of one guest test run and print the totals.

    report.py OUTDIR [--tags default,x86_64] [--kunit-only] [--vm-rc N]
              [--no-kunit-suites] [--expected FILE]

Reads what the run left in OUTDIR (check.sh and the guest's run-tests.sh
write it): the kernel log (dmesg, console.log), test_progs' output, its -J
JSON and exit status, the selectors that were asked for (selectors), the
KUnit suites the kernel must report (kunit-suites), the BPF objects the
permissive selftests build dropped (build-skips) and which test loads which
object (test-objects), test_maps' status and kmemleak's report.

Every result is one of pass, fail or skip. A fail or skip that the expected
results file (config/expected-results) lists for one of the run's tags is
"expected": it is counted as skipped and printed with its reason. Anything
else that did not pass fails the run, and so does a result that is missing:
a selector that ran nothing, a KUnit suite without cases, a test_progs that
did not finish (no summary or JSON, an exit status other than 0 or 1), a
JSON report that disagrees with the printed lines, a kernel log that does
not begin at the boot banner, and any kernel splat.

Writes results.json; the last line is 'N passed, N failed, N skipped'."""

import argparse
import fnmatch
import json
import re
import sys
from pathlib import Path

KTAP_CASE = re.compile(r"^(?P<ind> *)(?P<not>not )?ok \d+ (?:- )?(?P<name>\S+)(?: # (?P<dir>SKIP.*))?$")
KTAP_SUITE = re.compile(r"^ *# Subtest: (?P<name>\S+)$")
# "#12 name:OK", "#12 name:OK (SKIP: 1/3)", "#12 name:SKIP (not built)",
# "#12/3 name/sub name:FAIL"; subtest names may hold spaces and colons.
TP_LINE = re.compile(r"^#(?P<num>\d+)(?:/(?P<sub>\d+))?\s+(?P<name>.+?):(?P<res>OK|FAIL|SKIP)"
                     r"(?P<extra> \([^)]*\))?$")
TP_SUMMARY = re.compile(r"^Summary: (\d+)/(\d+) PASSED, (\d+) SKIPPED(?: \((\d+) not built\))?, (\d+)/(\d+) FAILED$")
SPLAT = re.compile(
    r"(BUG:|kernel BUG at|WARNING:|Oops|Kernel panic|KASAN|UBSAN|kmemleak: \d+ new suspected"
    r"|possible circular locking|possible recursive locking|inconsistent lock state"
    r"|INFO: task .* blocked for more than|rcu: INFO: .* stall|self-detected stall"
    r"|general protection fault|Unable to handle kernel"
    # SLUB's own reports: "BUG kmalloc-64 (Not tainted): Poison overwritten"
    r"|^BUG [\w.:-]+ \(|invoked oom-killer|Out of memory:"
    r"|ASSERTION FAILED)")
DMESG_TS = re.compile(r"^\[[ 0-9.]+\] ?")
# The first line the kernel logs: the banner, or on arm64 the line that
# precedes it (setup_arch() is not first there).
BANNER = re.compile(r"Linux version \d|Booting Linux on physical CPU")


def kunit(dmesg):
    """Return [(suite, case, result, log)] for every KUnit case, log being
    what the kernel printed while a failed case ran (its assertion and the
    test's own messages), so that a failure explains itself in CI's output.

    KUnit prints each suite indented by four spaces ("    # Subtest: suite",
    its cases as "    ok N case"), and closes it at the top level with
    "ok N suite"; parameterised cases nest one level deeper and are counted
    once, by their own line. A suite that failed before any case ran (its
    init failed) is reported as the case "(suite)"."""
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
            out.append((suite, m["name"], res, log))
        elif not m["ind"] and m["name"] == suite:
            if res == "fail" and not any(s == suite for s, _, _, _ in out):
                out.append((suite, "(suite)", "fail", log))
            suite = None
    return out


class Expected:
    """config/expected-results: "RESULT ID TAGS REASON" a line, RESULT
    being skip, fail or any, ID a glob over result ids (test_progs/TEST,
    test_progs/TEST/SUBTEST, kunit/SUITE.CASE, build/OBJECT, ...), TAGS a
    comma list (all: every run)."""

    def __init__(self, path, tags):
        self.rules = []
        for n, line in enumerate(path.read_text().splitlines() if path else [], 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 3)
            if len(parts) < 4 or parts[0] not in ("skip", "fail", "any"):
                raise SystemExit(f"report: {path}:{n}: want 'RESULT ID TAGS REASON'")
            res, rid, rtags, reason = parts
            rtags = set(rtags.split(","))
            if "all" in rtags or rtags & tags:
                self.rules.append((res, rid, reason))

    def reason(self, rid, res):
        for want, pat, reason in self.rules:
            if (want == "any" or want == res) and fnmatch.fnmatchcase(rid, pat):
                return reason
        return None


def test_progs(d, run, lines, selectors, objects, skips):
    """test_progs' results, checked against its JSON, summary and exit
    status ({run}.json, {run}.rc), and against the selectors asked for."""
    res, problems = [], []
    # The summary comes last, after the failed tests' logs repeated under
    # "All error logs:", whose result lines must not count twice.
    summary = [m for m in map(TP_SUMMARY.match, lines) if m]
    if "All error logs:" in lines:
        lines = lines[:lines.index("All error logs:")]
    tops, subs = {}, {}
    for m in map(TP_LINE.match, lines):
        if not m:
            continue
        r = {"OK": "pass", "FAIL": "fail", "SKIP": "skip"}[m["res"]]
        if m["sub"]:
            test, _, sub = m["name"].partition("/")
            subs.setdefault(test, []).append((sub, r))
            res.append((f"test_progs/{test}/{sub}", r, ""))
        else:
            tops[m["name"]] = (r, m["extra"] or "")
    for test, (r, extra) in tops.items():
        detail = "not built" if extra == " (not built)" else ""
        res.append((f"test_progs/{test}", r, detail))

    rc = (d / f"{run}.rc").read_text().strip() if (d / f"{run}.rc").exists() else None
    try:
        js = json.loads((d / f"{run}.json").read_text())
    except (OSError, ValueError) as e:
        js = None
        problems.append(("test_progs/(json)", f"no readable -J report: {e}"))
    if not summary:
        problems.append(("test_progs/(summary)", "no Summary line: test_progs did not finish"))
    if rc not in ("0", "1"):
        problems.append(("test_progs/(exit)", f"exit status {rc}: test_progs was killed or could not start"))

    n_ok = sum(r == "pass" for r, _ in tops.values())
    n_skip = sum(r == "skip" for r, _ in tops.values())
    n_nb = sum(e == " (not built)" for _, e in tops.values())
    n_fail = sum(r == "fail" for r, _ in tops.values())
    s_ok = sum(r == "pass" for v in subs.values() for _, r in v)
    s_fail = sum(r == "fail" for v in subs.values() for _, r in v)
    if rc in ("0", "1") and (rc == "1") != (n_fail > 0):
        problems.append(("test_progs/(exit)", f"exit status {rc} but {n_fail} tests printed FAIL"))
    if js is not None:
        failed = sorted(t["name"] for t in js.get("results", []) if t.get("failed"))
        want = {"success": n_ok + n_skip - n_nb, "success_subtest": s_ok,
                "failed": n_fail, "failed_subtest": s_fail}
        got = {k: js.get(k) for k in want}
        if got != want:
            problems.append(("test_progs/(json)", f"JSON counts {got} but the printed lines give {want}"))
        if failed != sorted(t for t, (r, _) in tops.items() if r == "fail"):
            problems.append(("test_progs/(json)", f"JSON lists {failed} as failed"))
    if summary:
        m = summary[-1]
        got = (int(m[1]), int(m[2]), int(m[5]), int(m[6]))
        if got != (n_ok + n_skip - n_nb, s_ok, n_fail, s_fail):
            problems.append(("test_progs/(summary)", f"'{m[0]}' disagrees with the printed lines"))

    # Every selector ran something: "-t T[/S]" matches by substring,
    # "-a T" (the derived set) exactly.
    for kind, sel in selectors:
        t, _, s = sel.partition("/")
        match = (lambda n: n == t) if kind == "exact" else (lambda n: t in n)
        names = [n for n in tops if match(n)]
        if not names:
            problems.append((f"test_progs/{sel}", "selected but no result: not built, or not run"))
        elif s and not any(s in sub for n in names for sub, _ in subs.get(n, [])):
            problems.append((f"test_progs/{sel}", "selected but no subtest reported"))

    # Objects the permissive build dropped, for the tests that ran.
    for test in tops:
        for obj in sorted(objects.get(test, set()) & skips):
            res.append((f"build/{obj}", "fail", f"dropped by the permissive selftests build; {test} loads it"))
    return res, problems, subs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--tags", default="default,x86_64")
    ap.add_argument("--kunit-only", action="store_true")
    ap.add_argument("--vm-rc", type=int, default=0)
    ap.add_argument("--no-kunit-suites", action="store_true",
                    help="the kernel was built without KUnit tests: none is expected")
    ap.add_argument("--expected", type=Path)
    a = ap.parse_args()
    d = a.outdir
    read = lambda f: (d / f).read_text(errors="replace").splitlines() if (d / f).exists() else []
    expected = Expected(a.expected, set(a.tags.split(",")))
    results = []  # {"id", "result", "detail"}
    add = lambda rid, res, detail="": results.append({"id": rid, "result": res, "detail": detail})

    # The kernel log: dmesg (saved after the run settled) or, when the
    # guest died before saving it, the console.
    dmesg = read("dmesg")
    if not dmesg:
        dmesg = read("console.log")
        add("kernel/log", "fail", "no dmesg saved: the guest died; splats below are from the console")
    elif not BANNER.search(dmesg[0]):
        add("kernel/log", "fail", f"dmesg does not begin at the boot banner (the buffer wrapped): {dmesg[0]}")
    settle = read("settle")
    for line in settle:
        print(f"  settle      {line}")
    # The log must have been saved after the teardown settled (guest/settle).
    if dmesg and not (settle and settle[-1].startswith("no BPF map or program left")):
        add("kernel/settle", "fail", "the guest did not wait for the deferred frees: "
            + (settle[-1] if settle else "no settle output"))

    cases = kunit(dmesg)
    for suite, case, res, log in cases:
        add(f"kunit/{suite}.{case}", res, log)
    if a.no_kunit_suites:
        if cases:
            add("kunit/(results from a kernel built without tests)", "fail")
        else:
            print("  kunit       none (the kernel has no KUnit tests configured)")
    else:
        want = [s for s in read("kunit-suites") if s.strip()]
        if not want and not (d / "kunit-suites").exists():
            add("kunit/(expected suites)", "fail", "no kunit-suites list: check.sh did not derive it")
        for suite in want:
            if not any(s == suite for s, _, _, _ in cases):
                add(f"kunit/{suite}", "fail", "built into the kernel (or declared by our Rust) but reported no case")

    subs = {}
    if not a.kunit_only:
        selectors = [tuple(l.split(None, 1)) for l in read("selectors") if l.strip()]
        objects = {}
        for l in read("test-objects"):
            t, *objs = l.split()
            objects[t] = set(objs)
        skips = set()
        for l in read("build-skips"):
            parts = l.split()
            if len(parts) == 2 and parts[0].startswith("SKIP-"):
                skips.add(re.sub(r"\.(bpf\.o|skel\.h|lskel\.h|subskel\.h|test\.o)$", "", parts[1]))
        print(f"  build       {len(skips)} objects dropped by the permissive selftests build")
        tp = [s for s in selectors if s[0] != "test_maps"]
        if tp:
            # After a hang, guest/run-tests.sh ran the selection again:
            # the results are that run's, and the hang is reported below.
            run = "test_progs.rerun" if (d / "test_progs.rerun.rc").exists() else "test_progs"
            res, problems, subs = test_progs(d, run, read(f"{run}.log"), tp, objects, skips)
            for rid, r, detail in res:
                add(rid, r, detail)
            for rid, detail in problems:
                add(rid, "fail", detail)
        if any(s[0] == "test_maps" for s in selectors):
            rc = read("test_maps.rc")
            add("test_maps/test_maps", "pass" if rc == ["0"] else "fail",
                "" if rc == ["0"] else f"exit {rc}\n" + "\n".join(read("test_maps.log")[-5:]))

    splats = [l for l in dmesg if SPLAT.search(DMESG_TS.sub("", l))]
    if splats:
        add("kernel/splats", "fail", "\n".join(splats[:20]))
    leaks = "\n".join(read("kmemleak.txt")).split("unreferenced object")[1:]
    for leak in leaks:
        add("kernel/kmemleak", "fail", "unreferenced object" + leak[:1500])
    if a.vm_rc not in (0, 1):
        add("vm/guest", "fail", f"vm-run exited {a.vm_rc} (124: timeout, 125: the guest died)")
    # Last, so that a shortened log of the run still shows it: a test that
    # hung past test_progs' watchdog, its threads' kernel stacks, the maps
    # and the programs' missed runs (guest/run-tests.sh's guard; dmesg has
    # sysrq's view of the kernel). A hang in the second run is never
    # expected.
    for run, what in (("test_progs", "hung"), ("test_progs.rerun", "hung-again")):
        hung = read(f"{run}.hung")
        if hung:
            m = re.search(r"test case (\S+) executes", hung[0])
            add(f"test_progs-{what}/{m[1] if m else '?'}", "fail",
                ("the results are those of the selection's second run\n" if run == "test_progs" else "")
                + "\n".join(hung[:60]))

    # Expectations. A test that did not pass because only expected subtests
    # did not pass is expected too.
    for r in results:
        if r["result"] != "pass":
            why = expected.reason(r["id"], r["result"])
            if why:
                r["expected"] = why
    by_id = {r["id"]: r for r in results}
    for r in results:
        m = re.fullmatch(r"test_progs/([^/]+)", r["id"])
        if m and r["result"] != "pass" and "expected" not in r and not r["detail"]:
            bad = [by_id[f"test_progs/{m[1]}/{s}"] for s, res in subs.get(m[1], []) if res != "pass"]
            if bad and all("expected" in b for b in bad):
                r["expected"] = "only expected subtests did not pass"

    (d / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    kind = lambda r: r["id"].split("/")[0]
    is_sub = lambda r: r["id"].startswith("test_progs/") and r["id"].count("/") >= 2
    top = [r for r in results if not is_sub(r)]
    subr = [r for r in results if is_sub(r)]
    npass = lambda rs: sum(r["result"] == "pass" for r in rs)
    nexp = lambda rs: sum(r["result"] != "pass" and "expected" in r for r in rs)
    nfail = lambda rs: sum(r["result"] != "pass" and "expected" not in r for r in rs)
    for k in ("kunit", "test_progs", "test_maps", "build", "kernel", "vm"):
        rs = [r for r in top if kind(r) == k]
        if rs:
            print(f"  {k:<11} {npass(rs)} passed, {nfail(rs)} failed, {nexp(rs)} expected non-pass")
    if subr:
        print(f"  {'(subtests)':<11} {npass(subr)} passed, {nfail(subr)} failed, {nexp(subr)} expected non-pass")
    for r in results:
        if r["result"] != "pass" and "expected" in r:
            print(f"  expected {r['result'].upper()} {r['id']}: {r['expected']}")
            # An expected hang still shows what the guard saw: a map left
            # alive would mean the kernel, not the test, held it up.
            if r["id"].startswith("test_progs-hung/"):
                print("    " + r["detail"].replace("\n", "\n    "))
    for r in results:
        if r["result"] != "pass" and "expected" not in r:
            what = "FAIL" if r["result"] == "fail" else "unexpected SKIP"
            print(f"  {what} {r['id']}" + (f"\n    {r['detail']}".replace("\n", "\n    ") if r["detail"] else ""))
    print(f"results: {d / 'results.json'}")
    # A test's failure counts once: its unexpected subtests count only
    # under a test that passed or was expected (an unexpected SKIP inside
    # "OK (SKIP: 1/3)", say).
    ok_tops = {r["id"] for r in top if r["result"] == "pass" or "expected" in r}
    failed = nfail(top) + nfail([r for r in subr if "/".join(r["id"].split("/")[:2]) in ok_tops])
    print(f"{npass(top)} passed, {failed} failed, {nexp(top)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
