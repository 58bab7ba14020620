#!/usr/bin/env python3
"""Compare two whole test_progs runs: the baseline's (upstream C) and ours.

    parity.py BASE_OUTDIR OURS_OUTDIR [--expected FILE --tags TAGS]

Fails if a run did not finish (no summary, an exit status other than 0 or
1), or if a test or subtest that passed on the baseline did not pass on
ours, unless config/expected-results excuses it for these tags. Prints
both sides' counts and every difference."""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import SPLAT, TP_LINE, TP_SUMMARY, Expected  # noqa: E402


def results(d):
    lines = (d / "output").read_text(errors="replace").splitlines() if (d / "output").exists() else []
    summary = [l for l in lines if TP_SUMMARY.match(l)]
    if "All error logs:" in lines:
        lines = lines[:lines.index("All error logs:")]
    res = {}
    for m in map(TP_LINE.match, lines):
        if m:
            res[m["name"]] = {"OK": "pass", "FAIL": "fail", "SKIP": "skip"}[m["res"]]
    rc = (d / "test_progs.rc").read_text().strip() if (d / "test_progs.rc").exists() else None
    dmesg = (d / "dmesg").read_text(errors="replace").splitlines() if (d / "dmesg").exists() else []
    splats = [l for l in dmesg if SPLAT.search(l)]
    return res, summary[-1] if summary else None, rc, splats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base", type=Path)
    ap.add_argument("ours", type=Path)
    ap.add_argument("--expected", type=Path)
    ap.add_argument("--tags", default="default,x86_64")
    a = ap.parse_args()
    expected = Expected(a.expected, set(a.tags.split(",")))
    bad = 0
    sides = {}
    for name, d in (("baseline", a.base), ("ours", a.ours)):
        res, summary, rc, splats = results(d)
        sides[name] = res
        tests = [r for k, r in res.items() if "/" not in k]
        subs = [r for k, r in res.items() if "/" in k]
        count = lambda rs: ", ".join(f"{sum(r == x for r in rs)} {x}" for x in ("pass", "fail", "skip"))
        print(f"  {name:<9} tests: {count(tests)}; subtests: {count(subs)}; {summary or 'NO SUMMARY'}; "
              f"exit {rc}; {len(splats)} kernel splat lines")
        if summary is None or rc not in ("0", "1"):
            print(f"  FAIL {name}: test_progs did not finish (see {d}/console.log)")
            bad += 1
    base, ours = sides["baseline"], sides["ours"]
    worse = sorted(k for k, r in base.items() if r == "pass" and ours.get(k) != "pass")
    for k in worse:
        kind = "test" if "/" not in k else "subtest"
        why = expected.reason(f"test_progs/{k}", ours.get(k, "missing"))
        if why:
            print(f"  expected: {kind} {k}: pass on the baseline, {ours.get(k, 'missing')} on ours ({why})")
        else:
            print(f"  FAIL {kind} {k}: pass on the baseline, {ours.get(k, 'missing')} on ours")
            bad += 1
    better = sorted(k for k, r in ours.items() if r == "pass" and base.get(k) != "pass")
    for k in better:
        print(f"  note: {k}: pass on ours, {base.get(k, 'missing')} on the baseline")
    print(f"parity: {len(worse)} results pass on the baseline and not on ours, {bad} of them unexcused; "
          f"{len(better)} pass only on ours")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
