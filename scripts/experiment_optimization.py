#!/usr/bin/python3
"""Helper for scripts/experiment-optimization.sh (numpy + standard library, deterministic).

  plucks MANIFEST.json
      Print the files of the manifest's plucks (kind "pluck"), one a line, in manifest order.
  notes --synths SYNTHS.json --out DIR [--count 6] [--seed 2025]
      Draw `count` ks parameter sets with numpy's default_rng(seed) and write DIR/note_K.json
      (parameter files in physical units, 1 s at 16 kHz); print "note_K" one a line.
  row --run-dir DIR --sound NAME --kind real|synthetic --method M --seed K --synths SYNTHS.json
      [--distance-json '{"loss": x}'] [--truth P.json] [--truth-distance X] [--error MSG]
      Print one JSON line for one match run: the distance (`ddsp loss` on DIR/params.json), what
      DIR/report.json says (initial and best loss, iterations, renders, compute time) and, with
      --truth, the parameter errors against the known parameters.
  progress ROW_JSON K/N
      Print one line about a run (exit status 1 if it failed).
  summarise --runs RUNS.jsonl --out DIR [--info "Key=value" ...]
      Write DIR/summary.json, DIR/summary.md and DIR/runs.csv; print summary.md.

Parameter error (synthetic notes): every value is mapped to [0, 1] of its [min, max] range in
the `ddsp synths` table (log-scaled where the table says log) and the absolute differences are
averaged per parameter, then over parameters. The loop taps are compared after normalising them
to sum 1 per frame (the synth does the same, so only their ratios are audible; the normalised taps
already lie in [0, 1]). residual_mix is left out: the notes are rendered without a recording, and
a matched residual excitation (the target's own head inverse-filtered through the loop) is a
second exact solution. "loop" averages the parameters of the string itself (f0_hz, decay_s, the
three taps); "all" adds the noise burst's colour and level (exc_reflection, exc_gain_db), which
stop mattering once residual_mix is 1.
"""
import argparse
import csv
import json
import math
import os
import re
import sys

import numpy as np

METHODS = ["gradient", "genetic", "cmaes", "hybrid"]
START = "start"  # pseudo-method: the initial guess
KS_TAPS = ["loop_tap0", "loop_tap1", "loop_tap2"]
LOOP_PARAMS = ["f0_hz", "decay_s"] + KS_TAPS
ALL_PARAMS = LOOP_PARAMS + ["exc_reflection", "exc_gain_db"]
E2_HZ, E5_HZ = 82.4069, 659.2551

# C++ prints non-finite numbers as nan / -nan / inf, which JSON does not have.
NON_FINITE = re.compile(r"(?<=[:\[,\s])(-?)(nan|inf(?:inity)?)(?=\s*[,}\]])", re.IGNORECASE)


def load_json_text(text):
    return json.loads(NON_FINITE.sub(lambda m: "NaN" if m.group(2).lower() == "nan" else m.group(1) + "Infinity", text))


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return load_json_text(f.read())


def ks_table(synths_path):
    for s in load_json(synths_path):
        if s["name"] == "ks":
            return {p["name"]: p for p in s["params"]}
    sys.exit("experiment_optimization.py: no ks synth in " + synths_path)


# [SECTION] inputs

def cmd_plucks(args):
    for entry in load_json(args.manifest):
        if entry.get("kind") == "pluck":
            print(entry["file"])


def cmd_notes(args):
    table = ks_table(args.synths)
    frames = table["decay_s"]["size"]
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    ramp = np.linspace(0.0, 1.0, frames)

    def log_uniform(lo, hi):
        return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))

    def log_ramp(start, end):
        # Time-varying controls (DiffKS's loop filter varies over the note): a straight line in log.
        return [round(float(v), 6) for v in np.exp(np.log(start) + (np.log(end) - np.log(start)) * ramp)]

    span = math.log(E5_HZ / E2_HZ)
    for k in range(args.count):
        # f0 stratified over E2..E5 in log frequency: note k is drawn inside the k-th of `count` bands.
        f0_hz = E2_HZ * math.exp(span * (k + rng.uniform()) / args.count)
        decay_start_s = log_uniform(0.4, 4.0)
        decay_end_s = decay_start_s * log_uniform(0.5, 1.5)
        params = {"f0_hz": round(f0_hz, 4), "decay_s": log_ramp(decay_start_s, decay_end_s)}
        for name in KS_TAPS:
            # The centre tap dominates (a low-pass loop filter); the outer taps set its brightness.
            lo, hi = (0.4, 1.0) if name == "loop_tap1" else (0.05, 0.5)
            start = log_uniform(lo, hi)
            params[name] = log_ramp(start, min(1.0, start * log_uniform(0.7, 1.4)))
        size = table["exc_reflection"]["size"]
        params["exc_reflection"] = [round(float(v), 4) for v in rng.uniform(-0.5, 0.5, size)]
        params["exc_gain_db"] = round(float(rng.uniform(-26.0, -14.0)), 3)
        params["residual_mix"] = 0.0  # written out: `ddsp loss` would default it to 1 on a recording
        for name, value in params.items():
            spec = table[name]
            for v in np.atleast_1d(value):
                if not spec["min"] <= v <= spec["max"]:
                    sys.exit(f"experiment_optimization.py: {name} = {v} is outside the ks table's range")
        name = f"note_{k + 1}"
        with open(os.path.join(args.out, name + ".json"), "w", encoding="utf-8") as f:
            json.dump({"synth": "ks", "sample_rate": 16000, "seconds": 1, "params": params}, f, indent=1)
            f.write("\n")
        print(name)


# [SECTION] one run

def normalised(values, spec):
    v = np.asarray(values, dtype=float)
    lo, hi = float(spec["min"]), float(spec["max"])
    if spec["scale"] == "log":
        z = (np.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo))
    else:
        z = (v - lo) / (hi - lo)
    return np.clip(z, 0.0, 1.0)


def values_of(params, name, size):
    v = np.atleast_1d(np.asarray(params[name], dtype=float))
    return np.broadcast_to(v, (size,)) if v.size == 1 else v


def param_errors(matched, truth, table):
    """Per-parameter mean absolute error in normalised coordinates (see the module's docstring)."""
    errors = {}
    for name in ["f0_hz", "decay_s", "exc_reflection", "exc_gain_db"]:
        spec = table[name]
        a, b = values_of(matched, name, spec["size"]), values_of(truth, name, spec["size"])
        errors[name] = float(np.mean(np.abs(normalised(a, spec) - normalised(b, spec))))
    frames = table[KS_TAPS[0]]["size"]
    m = np.stack([values_of(matched, n, frames) for n in KS_TAPS])
    t = np.stack([values_of(truth, n, frames) for n in KS_TAPS])
    m, t = m / m.sum(axis=0), t / t.sum(axis=0)
    for i, name in enumerate(KS_TAPS):
        errors[name] = float(np.mean(np.abs(m[i] - t[i])))
    return errors


def cmd_row(args):
    row = {"sound": args.sound, "kind": args.kind, "method": args.method, "seed": args.seed,
           "run_dir": args.run_dir, "ok": False, "error": args.error or ""}
    report_path = os.path.join(args.run_dir, "report.json")
    params_path = os.path.join(args.run_dir, "params.json")
    try:
        if args.error:
            raise ValueError(args.error)
        report = load_json(report_path)
        matched = load_json(params_path)["params"]
        distance = float(load_json_text(args.distance_json)["loss"])
        iterations = int(report["iterations_run"])
        row.update({
            "distance": distance,
            "best_loss": float(report["best_loss"]),
            "initial_loss": float(report["initial_loss"]),
            "iterations": iterations,
            "evaluations": int(report["evaluations"]),
            "compute_time_s": float(report["compute_time_s"]),
            "wall_time_s": float(report["wall_time_s"]),
            "ms_per_iteration": round(1e3 * float(report["compute_time_s"]) / max(1, iterations), 4),
            "stopped": report["stopped"],
            "f0_hz": float(np.atleast_1d(matched["f0_hz"])[0]),
            "residual_mix": float(np.atleast_1d(matched.get("residual_mix", float("nan")))[0]),
        })
        # `ddsp loss` recomputes the distance from params.json; report.json's best loss is the
        # same quantity from inside the search, so the two agree to float rounding.
        row["distance_vs_best_rel"] = abs(distance - row["best_loss"]) / max(abs(distance), 1e-12)
        if args.truth:
            truth = load_json(args.truth)["params"]
            errors = param_errors(matched, truth, ks_table(args.synths))
            row["param_l1"] = errors
            row["param_l1_loop"] = float(np.mean([errors[n] for n in LOOP_PARAMS]))
            row["param_l1_all"] = float(np.mean([errors[n] for n in ALL_PARAMS]))
            row["f0_true_hz"] = float(np.atleast_1d(truth["f0_hz"])[0])
            row["f0_error_cents"] = abs(1200 * math.log2(row["f0_hz"] / row["f0_true_hz"]))
            if args.truth_distance is not None:
                row["truth_distance"] = args.truth_distance
        row["ok"] = math.isfinite(distance)
        if not row["ok"]:
            row["error"] = "non-finite distance"
    except (OSError, ValueError, KeyError, TypeError) as e:
        row["error"] = row["error"] or f"{type(e).__name__}: {e}"
    print(json.dumps(row, allow_nan=True))


def cmd_progress(args):
    r = load_json_text(args.row)
    head = f"[{args.position}] {r['sound']:<20} {r['method']:<9}"
    if not r["ok"]:
        print(head, "FAILED:", r["error"])
        sys.exit(1)
    l1 = f"  L1 loop {r['param_l1_loop']:.3f}" if "param_l1_loop" in r else ""
    print(f"{head} distance {r['distance']:7.4f} (start {r['initial_loss']:7.4f}){l1}  "
          f"{r['iterations']:>4} it {r['ms_per_iteration']:6.2f} ms/it  {r['stopped']}")


# [SECTION] summary

def stats(values):
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None}
    # Sample standard deviation over sounds (ddof 1); 0 for a single sound.
    std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
    return {"n": int(v.size), "mean": float(v.mean()), "std": std, "min": float(v.min()), "max": float(v.max())}


def fmt_pm(s, digits=3):
    if not s["n"]:
        return "–"
    return f"{s['mean']:.{digits}f} ± {s['std']:.{digits}f}"


def fmt_num(x, fmt="{:.2f}"):
    return "–" if x is None else fmt.format(x)


def wins(rows, kind):
    """For each method, on how many sounds of `kind` it reached the lowest distance (ties: all)."""
    by_sound = {}
    for r in rows:
        if r["kind"] == kind and r["ok"] and r["method"] != START:
            by_sound.setdefault(r["sound"], []).append(r)
    count = {m: 0 for m in METHODS}
    for runs in by_sound.values():
        best = min(r["distance"] for r in runs)
        for r in runs:
            if r["distance"] <= best * (1 + 1e-9):
                count[r["method"]] = count.get(r["method"], 0) + 1
    return count, len(by_sound)


def cmd_summarise(args):
    rows = []
    with open(args.runs, encoding="utf-8") as f:
        for line in f:
            if line.strip().startswith("{"):
                rows.append(load_json_text(line))
    if not rows:
        sys.exit("experiment_optimization.py: no runs in " + args.runs)
    info = [tuple(s.split("=", 1)) for s in args.info if "=" in s]
    ok = [r for r in rows if r["ok"]]
    failed = len(rows) - len(ok)
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    methods += sorted({r["method"] for r in rows} - set(methods) - {START})
    win_real, n_real = wins(rows, "real")
    win_syn, n_syn = wins(rows, "synthetic")

    # The starting point (the synth's initial guess from the target, the same for every method):
    # the "start" rows (`ddsp match --steps 1`, whose best parameters are the initial ones), else
    # the initial loss the method runs report.
    start_rows = [r for r in ok if r["method"] == START]
    ok = [r for r in ok if r["method"] != START]
    start = {}
    for kind in ("real", "synthetic"):
        first = {r["sound"]: r["distance"] for r in start_rows if r["kind"] == kind}
        if not first:
            for r in ok:
                if r["kind"] == kind:
                    first.setdefault(r["sound"], r["initial_loss"])
        start[kind] = stats(first.values())
    start_syn = [r for r in start_rows if r["kind"] == "synthetic"]
    start["param_l1_loop"] = stats([r.get("param_l1_loop") for r in start_syn])
    start["param_l1_all"] = stats([r.get("param_l1_all") for r in start_syn])
    start["param_l1"] = {n: stats([r["param_l1"][n] for r in start_syn if "param_l1" in r]) for n in ALL_PARAMS}
    start["f0_error_cents"] = stats([r.get("f0_error_cents") for r in start_syn])
    start["residual_mix"] = stats([r["residual_mix"] for r in start_rows])

    summary = {"info": dict(info), "runs": len(rows), "failed": failed,
               "starting_distance": start, "methods": {}}
    for m in methods:
        mr = [r for r in ok if r["method"] == m]
        real = [r for r in mr if r["kind"] == "real"]
        syn = [r for r in mr if r["kind"] == "synthetic"]
        per_param = {}
        for name in ALL_PARAMS:
            per_param[name] = stats([r["param_l1"][name] for r in syn if "param_l1" in r])
        stopped = {}
        for r in mr:
            stopped[r["stopped"]] = stopped.get(r["stopped"], 0) + 1
        summary["methods"][m] = {
            "runs": len(mr),
            "failed": sum(1 for r in rows if r["method"] == m and not r["ok"]),
            "distance_real": stats([r["distance"] for r in real]),
            "distance_synthetic": stats([r["distance"] for r in syn]),
            "param_l1_loop": stats([r.get("param_l1_loop") for r in syn]),
            "param_l1_all": stats([r.get("param_l1_all") for r in syn]),
            "param_l1": per_param,
            "f0_error_cents": stats([r.get("f0_error_cents") for r in syn]),
            "residual_mix": stats([r["residual_mix"] for r in mr]),
            "ms_per_iteration": stats([r["ms_per_iteration"] for r in mr]),
            "iterations": stats([r["iterations"] for r in mr]),
            "evaluations": stats([r["evaluations"] for r in mr]),
            "ms_per_render": stats([1e3 * r["compute_time_s"] / max(1, r["evaluations"]) for r in mr]),
            "compute_time_s": stats([r["compute_time_s"] for r in mr]),
            "stopped": stopped,
            "best_on_real": win_real.get(m, 0),
            "best_on_synthetic": win_syn.get(m, 0),
            "max_distance_vs_best_rel": max([r["distance_vs_best_rel"] for r in mr], default=None),
        }

    md = ["# DiffKS optimisation experiment (`ks` synth)", ""]
    md.append("| method | real plucks: distance | synthetic notes: distance | param L1 loop / all "
              "| ms / iteration | iterations | renders | ms / render | time (s) | best on |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    l1 = "" if not start["param_l1_loop"]["n"] else \
        f"{start['param_l1_loop']['mean']:.3f} / {start['param_l1_all']['mean']:.3f}"
    md.append(f"| *starting point* | {fmt_pm(start['real'])} | {fmt_pm(start['synthetic'])} | {l1} | | | | | | |")
    for m in methods:
        s = summary["methods"][m]
        l1 = "–" if not s["param_l1_loop"]["n"] else \
            f"{s['param_l1_loop']['mean']:.3f} / {s['param_l1_all']['mean']:.3f}"
        md.append(f"| {m} | {fmt_pm(s['distance_real'])} | {fmt_pm(s['distance_synthetic'])} | {l1} "
                  f"| {fmt_num(s['ms_per_iteration']['mean'])} | {fmt_num(s['iterations']['mean'], '{:.0f}')} "
                  f"| {fmt_num(s['evaluations']['mean'], '{:.0f}')} | {fmt_num(s['ms_per_render']['mean'])} "
                  f"| {fmt_num(s['compute_time_s']['mean'], '{:.1f}')} "
                  f"| {s['best_on_real']}/{n_real} real, {s['best_on_synthetic']}/{n_syn} synth |")
    md.append("")
    md.append("Parameter error on the synthetic notes, per parameter (mean normalised L1; f0 also in cents):")
    md.append("")
    md.append("| method | " + " | ".join(ALL_PARAMS) + " | f0 error (cents) | residual_mix |")
    md.append("|---|" + "---:|" * (len(ALL_PARAMS) + 2))
    per_param_rows = ([("*starting point*", start)] if start["param_l1_loop"]["n"] else []) + \
        [(m, summary["methods"][m]) for m in methods]
    for label, s in per_param_rows:
        cells = [fmt_num(s["param_l1"][n]["mean"], "{:.4f}" if n == "f0_hz" else "{:.3f}") for n in ALL_PARAMS]
        md.append(f"| {label} | " + " | ".join(cells) + f" | {fmt_num(s['f0_error_cents']['mean'], '{:.1f}')} "
                  f"| {fmt_num(s['residual_mix']['mean'], '{:.2f}')} |")
    md.append("")
    md.append("distance: DDSP multi-resolution STFT loss (`ddsp loss --loss mrstft`, FFT 2048..64, linear + log "
              "magnitude) of the matched parameters against the target, mean ± sample std over sounds; the "
              "starting point is the synth's initial guess from the target (YIN pitch, measured decay), the same "
              "for every method. param L1 (synthetic notes): normalised parameter error, see "
              "scripts/experiment_optimization.py; f0 is searched within +-50 cents of the YIN pitch (100 cents "
              "are 0.014 of the table's log range), so its normalised error is tiny by construction. ms / iteration: compute time / "
              "iterations (an iteration is a gradient step or a generation; a render is one synth evaluation, "
              "forward only for population methods, forward + backward for gradient steps). "
              "best on: sounds where the method reached the lowest distance.")
    if summary["failed"]:
        md.append("")
        md.append(f"**{summary['failed']} of {len(rows)} runs failed** (see runs.jsonl).")
    if info:
        md.append("")
        for k, v in info:
            md.append(f"- {k}: {v}")
    text = "\n".join(md) + "\n"

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, allow_nan=True)
        f.write("\n")
    with open(os.path.join(args.out, "summary.md"), "w", encoding="utf-8") as f:
        f.write(text)
    fields = ["sound", "kind", "method", "seed", "ok", "distance", "initial_loss", "best_loss", "iterations",
              "evaluations", "compute_time_s", "ms_per_iteration", "stopped", "f0_hz", "f0_true_hz",
              "f0_error_cents", "residual_mix", "param_l1_loop", "param_l1_all"] + \
             ["l1_" + n for n in ALL_PARAMS] + ["truth_distance", "error", "run_dir"]
    with open(os.path.join(args.out, "runs.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            flat = dict(r)
            for n, v in r.get("param_l1", {}).items():
                flat["l1_" + n] = v
            w.writerow(flat)
    sys.stdout.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("plucks")
    s.add_argument("manifest")
    s.set_defaults(run=cmd_plucks)
    s = sub.add_parser("notes")
    s.add_argument("--synths", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--count", type=int, default=6)
    s.add_argument("--seed", type=int, default=2025)
    s.set_defaults(run=cmd_notes)
    s = sub.add_parser("row")
    s.add_argument("--run-dir", required=True)
    s.add_argument("--sound", required=True)
    s.add_argument("--kind", choices=["real", "synthetic"], required=True)
    s.add_argument("--method", required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--synths", required=True)
    s.add_argument("--distance-json", default="")
    s.add_argument("--truth")
    s.add_argument("--truth-distance", type=float)
    s.add_argument("--error", default="")
    s.set_defaults(run=cmd_row)
    s = sub.add_parser("progress")
    s.add_argument("row")
    s.add_argument("position")
    s.set_defaults(run=cmd_progress)
    s = sub.add_parser("summarise")
    s.add_argument("--runs", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--info", action="append", default=[])
    s.set_defaults(run=cmd_summarise)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
