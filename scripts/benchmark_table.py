#!/usr/bin/python3
"""The matching benchmark's table (scripts/benchmark-matching.sh), from match-dataset.py's results.

    scripts/benchmark_table.py --set NAME=DIR=TARGET_PERCENT ... [--title TEXT] [--check] -o TABLE.md

Each DIR holds a results.jsonl (one row per clip x synth x method: cut = 1 - logmel / baseline, the
25 ms baseline's distance, scripts/ddsp_metrics.py). Per set, per synth x method: clips scored, mean
and lowest cut, clips with cut >= TARGET_PERCENT, clips it was the best on, mean compute seconds,
failed jobs; then how often hybrid is within 2 % of the best method (its log-mel distance <= 1.02 x
the lowest any method reached with that synth on that clip); then per clip the best synth / method.

--check: every clip's best synth / method must beat the baseline (cut > 0) and no job may have
failed; prints "N passed, N failed" (a clip is one check, a failed job one more failure) and exits
non-zero on any failure.
"""
import argparse
import json
import os
import sys

import numpy as np

HYBRID_SLACK = 1.02


def load(path):
    rows = []
    with open(os.path.join(path, "results.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def pct(x):
    s = f"{100 * x:.0f}"
    return ("0" if s == "-0" else s) + " %"


def set_table(name, rows, target):
    ok = [r for r in rows if "error" not in r and r.get("cut") is not None]
    failed = [r for r in rows if r not in ok]
    clips = sorted({r["clip"] for r in rows})
    pairs = sorted({(r["synth"], r["method"]) for r in rows})
    synths = sorted({s for s, _ in pairs})
    best = {}  # clip -> its best row over every synth and method
    for r in ok:
        if r["clip"] not in best or r["logmel"] < best[r["clip"]]["logmel"]:
            best[r["clip"]] = r
    out = [f"**{name}**: {len(clips)} clips, target cut >= {target:g} %", "",
           f"| synth | method | clips | mean cut | lowest cut | cut >= {target:g} % | best on | mean compute s | failed |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s, m in pairs:
        sel = [r for r in ok if (r["synth"], r["method"]) == (s, m)]
        nfail = sum(1 for r in failed if (r["synth"], r["method"]) == (s, m))
        cuts = np.array([r["cut"] for r in sel])
        won = sum(1 for b in best.values() if (b["synth"], b["method"]) == (s, m))
        if len(cuts):
            out.append(f"| `{s}` | {m} | {len(cuts)} | {pct(cuts.mean())} | {pct(cuts.min())} | "
                       f"{int(np.sum(cuts * 100 >= target))} | {won} | "
                       f"{np.mean([r.get('compute_s', 0) for r in sel]):.1f} | {nfail} |")
        else:
            out.append(f"| `{s}` | {m} | 0 | - | - | - | 0 | - | {nfail} |")
    bests = np.array([b["cut"] for b in best.values()])
    if len(bests):
        out += ["", f"Best synth / method per clip: mean cut {pct(bests.mean())}, lowest {pct(bests.min())}, "
                    f"{int(np.sum(bests * 100 >= target))} of {len(clips)} clips >= {target:g} %."]
    for s in synths:
        methods = {m for ss, m in pairs if ss == s}
        if "hybrid" not in methods or len(methods) < 2:
            continue
        near = total = 0
        for c in clips:
            sel = {r["method"]: r["logmel"] for r in ok if r["clip"] == c and r["synth"] == s}
            if "hybrid" in sel:
                total += 1
                near += sel["hybrid"] <= HYBRID_SLACK * min(sel.values())
        out.append(f"`{s}`: hybrid within 2 % of the best method (log-mel distance <= {HYBRID_SLACK} x the best) "
                   f"on {near} of {total} clips.")
    out += ["", "<details><summary>" + name + ": per clip, the best synth / method</summary>", "",
            "| clip | best synth / method | log-mel | baseline | cut |", "|---|---|---:|---:|---:|"]
    for c in clips:
        b = best.get(c)
        out.append(f"| {c} | `{b['synth']}` / {b['method']} | {b['logmel']:.3f} | {b['baseline']:.3f} | "
                   f"{pct(b['cut'])} |" if b else f"| {c} | every job failed | - | - | - |")
    out += ["", "</details>"]
    if failed:
        out += ["", "Failed jobs: " + "; ".join(f"{r['clip']} / {r['synth']} / {r['method']}: {r.get('error', '?')}"
                                                for r in failed)]
    checks = [(c, c in best and best[c]["cut"] > 0) for c in clips]
    return "\n".join(out) + "\n", checks, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", action="append", required=True, metavar="NAME=DIR=TARGET_PERCENT")
    ap.add_argument("--title", default="")
    ap.add_argument("--check", action="store_true", help="fail unless every clip's best beats the baseline")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    parts, passed, nfailed = [args.title + "\n"] if args.title else [], 0, 0
    for spec in args.set:
        try:
            name, path, target = spec.split("=")
            target = float(target)
        except ValueError:
            sys.exit(f"benchmark_table.py: --set {spec!r} is not NAME=DIR=TARGET_PERCENT")
        text, checks, failed = set_table(name, load(path), target)
        parts.append(text)
        for clip, good in checks:
            if good:
                passed += 1
            else:
                nfailed += 1
                print(f"FAIL {name}: {clip}: no synth / method beats the 25 ms baseline", file=sys.stderr)
        for r in failed:
            nfailed += 1
            print(f"FAIL {name}: job {r['clip']} / {r['synth']} / {r['method']}: {r.get('error', '?')}",
                  file=sys.stderr)
    text = "\n".join(parts)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    if args.check:
        print(f"{passed} passed, {nfailed} failed")
        return 1 if nfailed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
