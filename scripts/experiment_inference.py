#!/usr/bin/python3
"""DiffKS's inference experiment (scripts/experiment-inference.sh): the string autoencoder's three
variants, and gradient descent for comparison, on the test splits of the plucked-string set and the
synthetic-string set (scripts/make-dataset.sh --set plucks / --set ks-synthetic).

Per test clip and method, `ddsp match --synth ks` writes the reconstruction:
  meta, sup   --method amortised --model M --f0 <the note>   (f0 from the metadata)
  tracker     --method amortised --model M                   (f0 from YIN)
  gradient    --method gradient --steps G                    (the optimisation experiment's row)
Scores, per set and method:
  mrstft      the match's MR-STFT loss of the result (the project's loss, as `ddsp loss` gives it)
  logmel      an independent log-mel distance (scripts/ddsp_metrics.py, numpy: 64 HTK mel bands,
              FFT 1024, hop 256, mean |log(mel_recon + 1e-5) - log(mel_target + 1e-5)|)
  f0_cents    |1200 log2(f0 / note)|, f0 = `ddsp analyse`'s median YIN f0 of the result
  param_err   (synthetic set) the mean normalised parameter error of the predicted parameters:
              |log(a / b)| / log(max / min) for log-scale ones, |a - b| / (max - min) for linear ones
  ms          wall time per clip: the encoder plus the prediction's render (amortised), or the
              search's compute time (gradient)
  kad_mfcc, kad_encoder   `ddsp kad` between the targets and the results (MFCC statistics; the
              DDSP autoencoder's encoder)
Clips are spread over a Dask cluster (a local one by default; --scheduler ADDRESS for another).
Writes OUT/results.json and OUT/table.md.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

SCRIPTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, SCRIPTS)
from ddsp_metrics import logmel_distance, read_wav  # noqa: E402

METHODS = ["meta", "tracker", "sup", "gradient"]


def param_error(pred, true, table):
    """Mean normalised error over the encoder's parameters (not f0, not residual_mix)."""
    errs = []
    for p in table:
        name = p["name"]
        if name in ("f0_hz", "residual_mix") or name not in pred or name not in true:
            continue
        a = np.atleast_1d(np.asarray(pred[name], dtype=float))
        b = np.atleast_1d(np.asarray(true[name], dtype=float))
        if a.shape != b.shape:
            b = np.resize(b, a.shape)
        if p["scale"] == "log":
            e = np.abs(np.log(a / b)) / math.log(p["max"] / p["min"])
        else:
            e = np.abs(a - b) / (p["max"] - p["min"])
        errs.extend(e.tolist())
    return float(np.mean(errs)) if errs else None


def run_clip(job):
    """One clip x one method: the match, then the scores (run on a Dask worker)."""
    sys.path.insert(0, SCRIPTS)  # a worker process may not have this script's folder on its path
    from ddsp_metrics import logmel_distance, read_wav
    ddsp, clip, method, model, out, gradient_steps, table = job
    os.makedirs(out, exist_ok=True)
    cmd = [ddsp, "match", "--synth", "ks", "--target", clip["wav"], "-q", "-o", out, "--max-seconds", "2"]
    if method == "gradient":
        cmd += ["--method", "gradient", "--steps", str(gradient_steps)]
    else:
        cmd += ["--method", "amortised", "--model", model]
        if method in ("meta", "sup"):
            cmd += ["--f0", repr(clip["f0_hz"])]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return {"name": clip["name"], "method": method, "error": r.stderr.strip()}
    rep = json.load(open(os.path.join(out, "report.json")))
    target, rate = read_wav(clip["wav"])
    recon, rate2 = read_wav(os.path.join(out, "recon.wav"))
    res = {"name": clip["name"], "method": method, "mrstft": rep["best_loss"],
           "logmel": logmel_distance(target[: len(recon)], recon, rate2) if rate == rate2 else None,
           "ms": (rep.get("amortised_ms", 0) + rep.get("amortised_render_ms", 0)) if method != "gradient"
           else 1000 * rep["compute_time_s"]}
    an = os.path.join(out, "analyse.json")
    if subprocess.run([ddsp, "analyse", "--target", os.path.join(out, "recon.wav"), "-o", an],
                      capture_output=True).returncode == 0:
        f0 = json.load(open(an)).get("f0_median_hz") or 0
        res["f0_cents"] = abs(1200 * math.log2(f0 / clip["f0_hz"])) if f0 > 0 else None
    if clip.get("params"):
        pred = json.load(open(os.path.join(out, "params.json")))["params"]
        true = json.load(open(clip["params"]))["params"]
        res["param_err"] = param_error(pred, true, table)
    return res


def load_split(data_dir, split, limit):
    clips = []
    for line in open(os.path.join(data_dir, "metadata.jsonl")):
        if not line.strip():
            continue
        m = json.loads(line)
        if m["split"] != split:
            continue
        f0 = m.get("f0_hz") or 440 * 2 ** ((m["midi"] - 69) / 12)
        clips.append({"name": m["name"], "wav": os.path.join(data_dir, "wav", m["name"] + ".wav"), "f0_hz": f0,
                      "params": os.path.join(data_dir, m["params"]) if m.get("params") else None})
    if limit and len(clips) > limit:  # spread over the file order (every instrument, every octave)
        clips = [clips[i * len(clips) // limit] for i in range(limit)]
    return clips


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ddsp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plucks", required=True)
    ap.add_argument("--synthetic", required=True)
    ap.add_argument("--model", action="append", default=[], help="VARIANT=PATH (meta, tracker, sup)")
    ap.add_argument("--clips", type=int, default=0, help="test clips per set (0: all)")
    ap.add_argument("--gradient-steps", type=int, default=200)
    ap.add_argument("--ddsp-model", default="", help="the DDSP autoencoder for the encoder KAD")
    ap.add_argument("--scheduler", default="", help="a Dask scheduler's address (default: a local cluster)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    models = dict(m.split("=", 1) for m in args.model)
    table = [s for s in json.loads(subprocess.run([args.ddsp, "synths"], capture_output=True, text=True).stdout)
             if s["name"] == "ks"][0]["params"]
    from dask.distributed import Client, LocalCluster  # Debian python3-distributed
    client = Client(args.scheduler) if args.scheduler else Client(LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None))
    sets = {"plucks": load_split(args.plucks, "test", args.clips),
            "synthetic": load_split(args.synthetic, "test", args.clips)}
    jobs = []
    for set_name, clips in sets.items():
        for method in METHODS:
            if method != "gradient" and method not in models:
                continue
            for c in clips:
                jobs.append((args.ddsp, c, method, models.get(method, ""),
                             os.path.join(args.out, set_name, method, c["name"]), args.gradient_steps, table))
    results = client.gather(client.map(run_clip, jobs, pure=False))
    client.close()
    errors = [r for r in results if "error" in r]
    for e in errors[:10]:
        print(f"{e['name']} / {e['method']}: {e['error']}", file=sys.stderr)

    # KAD per set and method: targets vs results, in folders of WAVs.
    summary = {}
    for set_name, clips in sets.items():
        tdir = os.path.join(args.out, set_name, "_targets")
        os.makedirs(tdir, exist_ok=True)
        for c in clips:
            shutil.copyfile(c["wav"], os.path.join(tdir, c["name"] + ".wav"))
        for method in METHODS:
            rows = [r for r in results if r["method"] == method and "error" not in r
                    and any(c["name"] == r["name"] for c in clips)]
            if not rows:
                continue
            rdir = os.path.join(args.out, set_name, method, "_results")
            os.makedirs(rdir, exist_ok=True)
            for r in rows:
                shutil.copyfile(os.path.join(args.out, set_name, method, r["name"], "recon.wav"),
                                os.path.join(rdir, r["name"] + ".wav"))
            s = {"clips": len(rows), "failed": len(clips) - len(rows)}
            for k in ("mrstft", "logmel", "f0_cents", "param_err", "ms"):
                v = [r[k] for r in rows if r.get(k) is not None]
                s[k] = float(np.median(v)) if k in ("f0_cents", "ms") and v else (float(np.mean(v)) if v else None)
            for emb in ("mfcc", "encoder"):
                if emb == "encoder" and not args.ddsp_model:
                    continue
                cmd = [args.ddsp, "kad", tdir, rdir, "--embedding", emb] + (
                    ["--model", args.ddsp_model] if emb == "encoder" else [])
                k = subprocess.run(cmd, capture_output=True, text=True)
                s["kad_" + emb] = json.loads(k.stdout)["kad"] if k.returncode == 0 else None
            summary[f"{set_name}/{method}"] = s
    json.dump({"summary": summary, "clips": results}, open(os.path.join(args.out, "results.json"), "w"), indent=1)
    fmtv = lambda v, f: "-" if v is None else f % v
    lines = ["| set | method | clips | MR-STFT | log-mel | f0 error (cents, median) | parameter error | "
             "time per clip (ms, median) | KAD (MFCC) | KAD (DDSP encoder) |", "|" + "---|" * 10]
    for key, s in summary.items():
        set_name, method = key.split("/")
        lines.append(f"| {set_name} | {method} | {s['clips']} | {fmtv(s['mrstft'], '%.3f')} | {fmtv(s['logmel'], '%.3f')} | "
                     f"{fmtv(s['f0_cents'], '%.1f')} | {fmtv(s['param_err'], '%.3f')} | {fmtv(s['ms'], '%.0f')} | "
                     f"{fmtv(s.get('kad_mfcc'), '%.1f')} | {fmtv(s.get('kad_encoder'), '%.1f')} |")
    open(os.path.join(args.out, "table.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if errors:
        print(f"{len(errors)} clip runs failed (first ones above)", file=sys.stderr)


if __name__ == "__main__":
    main()
