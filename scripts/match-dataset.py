#!/usr/bin/python3
"""Matches every recording of a folder with every given synth and method, one `ddsp match` job per
(clip, synth, method), spread over a Dask cluster (Debian python3-distributed): a local one by
default, `--scheduler ADDRESS` for a real one. A failed job is reported, not fatal.

    scripts/match-dataset.py --input DIR|FILE... --synth ks,drum808 --method gradient,hybrid \\
        [--time-budget 10] [--steps N] [--seed K] [--extra "--loss diffks"] -o OUT
        [--ddsp build/ddsp] [--scheduler tcp://host:8786] [--workers N] [--timeout S] [--quiet]

Each job writes OUT/<clip>/<synth>/<method>/ (params.json, recon.wav, report.json, compare.png).
A job that fails (ddsp's exit code, a timeout, a lost worker, an exception while scoring) becomes a
row with "error" and is listed at the end; the others go on. Exits 0 unless no job could run at all.
Scores per job (scripts/ddsp_metrics.py, numpy, apart from the losses the engine optimises):
  loss        the match's best loss (its own loss, as `ddsp loss` gives it)
  logmel      the log-mel distance between the reconstruction and the recording
  baseline    the same distance for "the recording's first 25 ms, then silence"
  cut         1 - logmel / baseline: how much of the baseline's distance the match removes
Writes OUT/results.jsonl (a line per job) and OUT/table.md (per clip, the best synth x method by
log-mel distance, and per synth x method the mean cut and the clips it won), and prints the table.
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SCRIPTS)


def match_job(job):
    """One `ddsp match` and its scores (runs on a Dask worker)."""
    sys.path.insert(0, SCRIPTS)  # a worker process may not have this folder on its path
    from ddsp_metrics import logmel_distance, onset_baseline, read_wav
    ddsp, clip, synth, method, out, options, timeout_s = job
    os.makedirs(out, exist_ok=True)
    cmd = [ddsp, "match", "--synth", synth, "--method", method, "--target", clip, "-q", "-o", out] + options
    res = {"clip": os.path.basename(clip), "synth": synth, "method": method}
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        res["error"] = f"timed out after {timeout_s:g} s"  # subprocess.run killed it
        return res
    if r.returncode != 0:
        res["error"] = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
        return res
    try:
        rep = json.load(open(os.path.join(out, "report.json")))
        recon, rate = read_wav(os.path.join(out, "recon.wav"))
        target, trate = read_wav(clip)
        if trate != rate:  # the match ran at the synth's rate: compare there
            t = np.arange(int(len(target) * rate / trate)) * trate / rate
            target = np.interp(t, np.arange(len(target)), target)
        target = target[: len(recon)]
        d = logmel_distance(target, recon, rate)
        b = logmel_distance(target, onset_baseline(target, rate), rate)
        res.update({"loss": rep["best_loss"], "logmel": d, "baseline": b, "cut": 1 - d / b if b > 0 else None,
                    "iterations": rep["iterations_run"], "compute_s": rep["compute_time_s"]})
        if not b > 0:
            res["error"] = "unscored: the clip ends within the 25 ms baseline, which copies it exactly"
    except (OSError, ValueError, KeyError) as e:
        res["error"] = f"scoring: {e}"
    return res


def run_jobs(args, jobs, Client, LocalCluster, as_completed):
    """Every job on the cluster; a job that raises or whose worker is lost becomes an error row."""
    import logging
    try:
        if args.scheduler:
            client = Client(args.scheduler, timeout="30s")
        else:
            client = Client(LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR))
    except (OSError, TimeoutError) as e:
        sys.exit(f"match-dataset: cannot reach the Dask scheduler {args.scheduler or '(local)'}: {e}")
    results = []
    try:
        futures = client.map(match_job, jobs, pure=False)
        job_of = {f.key: j for f, j in zip(futures, jobs)}
        for k, fut in enumerate(as_completed(futures), 1):
            j = job_of[fut.key]
            try:
                r = fut.result()
            except Exception as e:  # noqa: BLE001 - the job's failure is reported, not fatal
                r = {"clip": os.path.basename(j[1]), "synth": j[2], "method": j[3],
                     "error": f"{type(e).__name__}: {e}".splitlines()[0]}
            results.append(r)
            if not args.quiet:
                what = f"cut {100 * r['cut']:.0f} %" if r.get("cut") is not None else r.get("error", "no score")
                print(f"[{k}/{len(jobs)}] {r['clip']} / {r['synth']} / {r['method']}: {what}", file=sys.stderr,
                      flush=True)
    finally:
        client.close()
    return results


def clips_of(inputs):
    out = []
    for p in inputs:
        out += sorted(glob.glob(os.path.join(p, "*.wav"))) if os.path.isdir(p) else [p]
    return out


def table(results):
    ok = [r for r in results if "error" not in r and r.get("cut") is not None]
    lines = ["| clip | best synth / method | log-mel | baseline | cut |", "|---|---|---|---|---|"]
    wins = {}
    for clip in sorted({r["clip"] for r in ok}):
        rows = sorted((r for r in ok if r["clip"] == clip), key=lambda r: r["logmel"])
        b = rows[0]
        wins[(b["synth"], b["method"])] = wins.get((b["synth"], b["method"]), 0) + 1
        lines.append(f"| {clip} | {b['synth']} / {b['method']} | {b['logmel']:.3f} | {b['baseline']:.3f} | {100 * b['cut']:.0f} % |")
    lines += ["", "| synth | method | clips | mean cut | worst cut | best on |", "|---|---|---|---|---|---|"]
    for key in sorted({(r["synth"], r["method"]) for r in ok}):
        cuts = [r["cut"] for r in ok if (r["synth"], r["method"]) == key]
        lines.append(f"| {key[0]} | {key[1]} | {len(cuts)} | {100 * np.mean(cuts):.0f} % | {100 * min(cuts):.0f} % | "
                     f"{wins.get(key, 0)} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", nargs="+", required=True, help="WAV files or folders of them")
    ap.add_argument("--synth", required=True, help="comma-separated synths")
    ap.add_argument("--method", default="gradient", help="comma-separated methods")
    ap.add_argument("--time-budget", type=float, default=10.0, help="seconds of compute per job (default 10)")
    ap.add_argument("--steps", type=int, default=0, help="iteration limit per job (default: the engine's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extra", default="", help="more `ddsp match` options, one string")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--ddsp", default=os.path.join(ROOT, "build", "ddsp"))
    ap.add_argument("--scheduler", default="", help="a Dask scheduler's address (default: a local cluster)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="local cluster workers")
    ap.add_argument("--timeout", type=float, default=0,
                    help="seconds before a job counts as failed (default: 5 x the time budget + 120; "
                         "none without a budget)")
    ap.add_argument("--quiet", action="store_true", help="no line per finished job")
    args = ap.parse_args()
    try:
        from dask.distributed import Client, LocalCluster, as_completed  # Debian python3-distributed
    except ImportError:
        sys.exit("match-dataset: Dask is missing (apt-get install python3-distributed, or pip install distributed)")
    if args.workers < 1:
        sys.exit("match-dataset: --workers must be >= 1")
    # Absolute paths: a worker runs elsewhere (on a real cluster the clips, OUT and the binary must
    # be on a file system every worker sees at the same path).
    clips = [os.path.abspath(c) for c in clips_of(args.input)]
    args.out, args.ddsp = os.path.abspath(args.out), os.path.abspath(args.ddsp)
    if not clips:
        sys.exit("match-dataset: no .wav files in " + " ".join(args.input))
    if not os.access(args.ddsp, os.X_OK):
        sys.exit(f"match-dataset: {args.ddsp} is not built (cmake --build build --target ddsp)")
    options = ["--seed", str(args.seed), "--threads", "1"]
    if args.time_budget > 0:
        options += ["--time-budget", repr(args.time_budget)]
    if args.steps > 0:
        options += ["--steps", str(args.steps)]
    options += args.extra.split()
    timeout_s = args.timeout if args.timeout > 0 else 5 * args.time_budget + 120 if args.time_budget > 0 else None
    jobs = [(args.ddsp, c, s, m, os.path.join(args.out, os.path.splitext(os.path.basename(c))[0], s, m), options,
             timeout_s) for c in clips for s in args.synth.split(",") for m in args.method.split(",")]
    os.makedirs(args.out, exist_ok=True)
    results = run_jobs(args, jobs, Client, LocalCluster, as_completed)
    order = {(os.path.basename(j[1]), j[2], j[3]): i for i, j in enumerate(jobs)}
    results.sort(key=lambda r: order.get((r["clip"], r["synth"], r["method"]), len(order)))
    with open(os.path.join(args.out, "results.jsonl"), "w") as f:
        for r in results:
            f.write(json.dumps(r) + "\n")
    t = table(results)
    open(os.path.join(args.out, "table.md"), "w").write(t)
    print(t)
    failed = [r for r in results if "error" in r]
    for r in failed:
        print(f"failed: {r['clip']} / {r['synth']} / {r['method']}: {r['error']}", file=sys.stderr)
    print(f"{len(results) - len(failed)} jobs done, {len(failed)} failed", file=sys.stderr)
    return 1 if results and len(failed) == len(results) else 0


if __name__ == "__main__":
    sys.exit(main())
