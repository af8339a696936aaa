#!/usr/bin/python3
"""Collates benchmark JSON lines into a markdown report (used by scripts/bench.sh).

Input: files of JSON lines, one object per implementation and workload:
  {"impl": "native"|"wasm"|"torch", "bench": "<name>", "ms_median": x, "ms_min": y, "iters": n,
   "loss": value}
Other lines are ignored. Checks that every workload's loss agrees across implementations within
--rtol (relative to native when present) and prints a loud WARNING when it does not.

  collate.py [--out results.md] [--info "Key=value" ...] [--rtol 1e-3] results.jsonl ...

Exit code: 0 (also on loss mismatch, which is reported in the table), 1 if no result was read.
"""

import argparse
import json
import math
import re
import sys

IMPL_ORDER = ["native", "wasm", "torch"]
EVAL_SUFFIX = "_eval"  # forward-only workloads (population search), summarised apart
# C++ prints non-finite numbers as nan / -nan / inf, which JSON does not have; NaN is also legal.
NON_FINITE = re.compile(r"(?<=[:\[,\s])(-?)(nan|inf(?:inity)?)(?=\s*[,}\]])", re.IGNORECASE)


def non_finite_json(m):
    if m.group(2).lower() == "nan":
        return "NaN"
    return m.group(1) + "Infinity"


def read_results(paths):
    results = {}  # bench -> impl -> record (the last one wins)
    order = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(NON_FINITE.sub(non_finite_json, line))
                except json.JSONDecodeError:
                    print(f"collate: ignoring malformed line in {path}: {line[:80]}",
                          file=sys.stderr)
                    continue
                if not isinstance(rec, dict) or "bench" not in rec or "impl" not in rec:
                    continue
                if rec["bench"] not in results:
                    results[rec["bench"]] = {}
                    order.append(rec["bench"])
                results[rec["bench"]][rec["impl"]] = rec
    return results, order


def impls_sorted(impls):
    known = [i for i in IMPL_ORDER if i in impls]
    return known + sorted(i for i in impls if i not in IMPL_ORDER)


def num(rec, key):
    v = rec.get(key) if rec else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 10 else f"{v:.2f}" if v < 1000 else f"{v:.0f}"


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.2f}x"


def fmt_rate(ms):
    """Evaluations per second from ms per evaluation."""
    return "-" if ms is None or ms <= 0 else f"{1000 / ms:.0f}"


def medians(recs):
    return {i: num(recs.get(i), "ms_median") for i in IMPL_ORDER}


def fmt_loss(v):
    return "-" if v is None else f"{v:.7g}"


def check_losses(bench, recs, rtol):
    """Returns a list of problems (strings) with the workload's loss values."""
    problems = []
    losses = {impl: num(rec, "loss") for impl, rec in recs.items()}
    for impl, v in losses.items():
        if v is None or not math.isfinite(v):
            problems.append(f"{bench}: {impl} loss is {v!r} (missing or not finite)")
    finite = {i: v for i, v in losses.items() if v is not None and math.isfinite(v)}
    if len(finite) < 2:
        return problems
    ref_impl = "native" if "native" in finite else impls_sorted(finite)[0]
    ref = finite[ref_impl]
    for impl, v in finite.items():
        if impl == ref_impl:
            continue
        rel = abs(v - ref) / max(abs(ref), abs(v), 1e-30)
        if rel > rtol:
            problems.append(f"{bench}: {impl} loss {v:.9g} differs from {ref_impl} loss "
                            f"{ref:.9g} by {rel:.2e} relative (> {rtol:g}): the workloads "
                            f"do not match")
    return problems


def render(results, order, info, rtol):
    lines = ["# ddsp.cpp benchmark", ""]
    if info:
        lines += [f"- **{k}**: {v}" for k, v in info]
        lines.append("")
    problems = []
    for bench in order:
        problems += check_losses(bench, results[bench], rtol)

    # Gradient steps first, then forward-only evaluations (population search), each its table.
    steps = [b for b in order if not b.endswith(EVAL_SUFFIX)]
    evals = [b for b in order if b.endswith(EVAL_SUFFIX)]
    if steps:
        lines += ["## Summary: gradient steps (median ms per step; ratio > 1 means native is "
                  "faster)", "",
                  "| workload | native ms | wasm ms | torch ms | torch / native | wasm / native |",
                  "|---|---:|---:|---:|---:|---:|"]
        for bench in steps:
            med = medians(results[bench])
            lines.append(f"| {bench} | {fmt_ms(med['native'])} | {fmt_ms(med['wasm'])} | "
                         f"{fmt_ms(med['torch'])} | {fmt_ratio(med['torch'], med['native'])} | "
                         f"{fmt_ratio(med['wasm'], med['native'])} |")
        lines.append("")
    if evals:
        lines += ["## Summary: forward-only evaluations, one thread (population search; median ms "
                  "per evaluation)", "",
                  "| workload | native ms | wasm ms | torch ms | torch / native | wasm / native "
                  "| native evals/s | wasm evals/s | torch evals/s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for bench in evals:
            med = medians(results[bench])
            lines.append(f"| {bench} | {fmt_ms(med['native'])} | {fmt_ms(med['wasm'])} | "
                         f"{fmt_ms(med['torch'])} | {fmt_ratio(med['torch'], med['native'])} | "
                         f"{fmt_ratio(med['wasm'], med['native'])} | {fmt_rate(med['native'])} | "
                         f"{fmt_rate(med['wasm'])} | {fmt_rate(med['torch'])} |")
        lines.append("")

    for bench in order:
        recs = results[bench]
        native_med = num(recs.get("native"), "ms_median")
        lines += [f"## {bench}", "",
                  "| impl | median ms | min ms | iters | loss | median / native |",
                  "|---|---:|---:|---:|---:|---:|"]
        for impl in impls_sorted(recs):
            rec = recs[impl]
            iters = rec.get("iters", "-")
            lines.append(f"| {impl} | {fmt_ms(num(rec, 'ms_median'))} | "
                         f"{fmt_ms(num(rec, 'ms_min'))} | {iters} | {fmt_loss(num(rec, 'loss'))} "
                         f"| {fmt_ratio(num(rec, 'ms_median'), native_med)} |")
        lines.append("")

    if problems:
        lines += ["## WARNING: loss cross-check failed", ""] + [f"- {p}" for p in problems] + [""]
    elif any(len(results[b]) > 1 for b in order):
        lines += [f"Loss values agree across implementations (relative tolerance {rtol:g}).", ""]
    else:
        lines += ["Loss values not cross-checked: one implementation per workload.", ""]
    return "\n".join(lines), problems


def main():
    ap = argparse.ArgumentParser(description="Collate benchmark JSON lines into markdown.")
    ap.add_argument("inputs", nargs="+", help="files of JSON lines")
    ap.add_argument("--out", help="write the markdown report here too")
    ap.add_argument("--info", action="append", default=[], metavar="KEY=VALUE",
                    help="a line for the header (machine, compiler, ...); repeatable")
    ap.add_argument("--rtol", type=float, default=1e-3,
                    help="relative tolerance for the loss check (default 1e-3)")
    args = ap.parse_args()

    results, order = read_results(args.inputs)
    if not order:
        print("collate: no benchmark results found", file=sys.stderr)
        return 1
    info = [tuple(s.split("=", 1)) if "=" in s else (s, "") for s in args.info]
    text, problems = render(results, order, info, args.rtol)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    if problems:
        bar = "!" * 78
        print(f"\n{bar}\nWARNING: benchmark loss cross-check failed; the implementations may "
              f"not be running the same workload:", file=sys.stderr)
        for p in problems:
            print(f"WARNING: {p}", file=sys.stderr)
        print(bar, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
