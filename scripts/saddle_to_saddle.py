"""Saddle-to-saddle dynamics of Wu, Simsek & Ged (arXiv 2402.05626), in the authors' settings.

Three tasks, each with the settings of the authors' public code
(github.com/ZhengqingUUU/relu_like_NN_loss_landscape, notebooks 01–03 and ``helpers.py``):

========  =========================================  =====  ============  =====  ========
task      data                                       width  sigma         lr     steps
========  =========================================  =====  ============  =====  ========
``1d``    5 points, constant-1 input column          50     50^-3         1e-3   6·10^5
``3d``    7 points in R^3 → R                        50     50^-6.5       1e-3   8·10^5
``2d2d``  4 points in R^2 → R^2                      50     50^-6.5       2e-3   3·10^5
========  =========================================  =====  ============  =====  ========

All bias-free two-layer ReLU networks, both layers ``N(0, sigma^2)``, full-batch gradient
descent on ``mse_loss`` (mean over all ``N·e`` entries), in **float32** as the authors'
``torch.FloatTensor`` (``--dtype float64`` to compare). The engine's float32 kernels cover one
output; the two-output task runs in float32 through :func:`gd_float32_numpy`, a NumPy loop
taking PyTorch's steps (tested against the engine on a one-output task).

Settings and their source: data, width, sigma, lr, steps, loss, no biases, float32 — the
authors' code. Ours: the seeds (the authors use ``torch.manual_seed(12)``, whose draws we
cannot replay; seed ``i`` is network ``i`` of ``init_params(seed=--seed, n_networks=--seeds)``),
the record interval (steps/600; theirs 2000) and the seed count (the paper shows one run per
task). **Differs from the paper**: the initial points (same distribution, other draws), hence
the step at which each plateau ends; each task's line ``differs from the paper`` in
``summary.json`` and in the figures' footers adds what else differs in a run (precision,
scale, width).

Per task all seeds train in one call; seed 0 is analysed in full (plateaus by
:func:`topoanalysis.critical.detect_plateaus`, the point of each snapped and classified by
:func:`topoanalysis.critical.saddle_to_saddle`, the final point too), every seed's
plateaus and verdicts are tabulated, plateaus are grouped by loss level across seeds (median,
range, the spread of the step where each ends, verdicts), and each level the authors' notebook
shows is compared with them (their marks, read off their figures: 1-D 42k, 152k; 3-D 80k,
120k, 170k, 330k; 2-D -> 2-D 25k, 51k, 100k).

Writes to ``--out`` (default ``saddle_to_saddle/``): ``runs_<task>.npz`` (the training runs,
read back by a rerun with the same settings, so re-analysing does not retrain),
``curves_<task>.npz`` (loss curves), ``plateaus_<task>.csv`` (seed 0), ``seeds_<task>.csv``,
``summary.json``, ``saddle_to_saddle_<task>.png`` and ``seeds_<task>.png``.

    python scripts/saddle_to_saddle.py                       # all three tasks, 100 seeds each
    python scripts/saddle_to_saddle.py --tasks 3d --figures docs/figures   # one task's figures
    python scripts/saddle_to_saddle.py --tasks 2d2d --dtype float64 --out s2s64  # precision
    python scripts/saddle_to_saddle.py --tasks 1d --scale 0.05 --seeds 4 --out /tmp/s2s  # quick
"""

import argparse
import collections
import json
import os
import shutil
import time

import numpy as np

from topoanalysis import Architecture, NotSupportedError, io
from topoanalysis.critical import saddle_to_saddle
from topoanalysis.datasets import (wu_five_point_regression, wu_three_d_regression,
                                   wu_two_d_two_d_regression)
from topoanalysis.dynamics import train
from topoanalysis.init import init_params

SOURCE = ("authors' public code, github.com/ZhengqingUUU/relu_like_NN_loss_landscape "
          "(helpers.py, model.py, notebooks 01-03)")

#: each task: the authors' data, sigma, lr and steps, and what their notebook shows (read off
#: the loss panel of their figure and their ``critical_step_ls``; final loss printed there)
TASKS = {
    "1d": dict(title="1-D, 5 points", data=lambda: wu_five_point_regression(with_bias_column=True),
               sigma=50 ** -3.0, lr=1e-3, steps=600_000,
               paper=dict(levels=[0.0381, 0.0302, 0.0279], marks=[42_000, 152_000],
                          final_loss=0.027886, notebook="01_2D_input_1D_output.ipynb")),
    "3d": dict(title="3-D -> 1, 7 points", data=wu_three_d_regression,
               sigma=50 ** -6.5, lr=1e-3, steps=800_000,
               paper=dict(levels=[0.207, 0.119, 0.046, 0.035], marks=[80_000, 120_000,
                                                                      170_000, 330_000],
                          final_loss=1e-5, notebook="02_3D_input_1D_output.ipynb")),
    "2d2d": dict(title="2-D -> 2-D, 4 points", data=wu_two_d_two_d_regression,
                 sigma=50 ** -6.5, lr=2e-3, steps=300_000,
                 paper=dict(levels=[0.3825, 0.1585, 0.093], marks=[25_000, 51_000, 100_000],
                            final_loss=0.085, notebook="03_2D_input_2D_output.ipynb")),
}


def gd_float32_numpy(theta, X, Y, arch, *, lr, steps, record_every):
    """Full-batch GD on ``mse`` (mean) in float32, as the authors' ``torch.FloatTensor`` loop.

    The fallback where the engine's float32 kernels do not reach (two outputs): every array
    is float32, the gradient of each step is that of PyTorch's autograd for
    ``F.mse_loss(relu(x W^T) A^T, y)`` (no biases), the update ``θ -= lr ∇L``. The recorded
    loss ``L(θ_t)`` is summed in float64 (as the engine's). Returns ``(record_steps, loss (B,
    R), trajectory (B, R, P) float32, params (B, P) float32)``.
    """
    f = np.float32
    X, Y = np.asarray(X, f), np.asarray(Y, f).reshape(len(X), -1)
    B = theta.shape[0]
    N, d = X.shape
    H, e = arch.hidden[0], Y.shape[1]
    W = np.array(theta[:, :H * d].reshape(B, H, d), dtype=f)
    A = np.array(theta[:, H * d:].reshape(B, e, H), dtype=f)
    c, lr = f(2.0 / (N * e)), f(lr)
    rec = sorted(set(range(0, steps + 1, record_every)) | {steps})
    loss = np.empty((B, len(rec)))
    traj = np.empty((B, len(rec), theta.shape[1]), dtype=f)
    r = 0
    for t in range(steps + 1):
        S = X @ W.transpose(0, 2, 1)                       # (B, N, H) pre-activations
        Hh = np.maximum(S, f(0))
        R = Hh @ A.transpose(0, 2, 1) - Y                  # (B, N, e) residuals
        if t == rec[r]:
            loss[:, r] = np.mean(R.astype(np.float64) ** 2, axis=(1, 2))
            traj[:, r] = np.concatenate([W.reshape(B, -1), A.reshape(B, -1)], axis=1)
            r += 1
        if t == steps:
            break
        gO = R * c
        gA = gO.transpose(0, 2, 1) @ Hh
        gW = ((gO @ A) * (S > 0)).transpose(0, 2, 1) @ X
        W -= lr * gW
        A -= lr * gA
    return np.array(rec), loss, traj, traj[:, -1].copy()


def train_runs(arch, X, Y, *, sigma, lr, steps, rec, dtype, n, seed, dynamics, rtol, progress):
    """``n`` seeds in one call (network ``i`` of ``init_params(seed=seed, n_networks=n)``):
    returns ``(record_steps, loss, trajectory, params, engine)``."""
    th = init_params(arch, "normal", seed=seed, std=sigma, n_networks=n)
    if dynamics == "flow":             # gradient flow to the same time lr * steps (float64)
        rec_steps = np.arange(0, steps + 1, rec)
        res = train(th, X, Y, arch=arch, optimizer="flow", t_end=lr * steps, rtol=rtol,
                    record_times=lr * rec_steps, record_params=True, progress=progress)
        return rec_steps, res.loss, res.trajectory, res.params, "engine flow (float64)"
    try:
        extra = {} if dtype == "float64" else {"dtype": dtype}
        res = train(th, X, Y, arch=arch, lr=lr, steps=steps, record_every=rec,
                    record_params=True, record_conserved=False, progress=progress, **extra)
        return (res.record_steps, res.loss, res.trajectory, res.params,
                f"engine GD ({dtype})")
    except NotSupportedError:          # float32 with two outputs: not in the engine's kernels
        out = gd_float32_numpy(th, X, Y, arch, lr=lr, steps=steps, record_every=rec)
        return out + ("NumPy float32 GD loop (the engine's float32 kernels cover one output)",)


def cached_runs(out, name, key, **kw):
    """The runs of one task, read back from ``runs_<task>.npz`` when it holds the same
    settings (a rerun of the analysis does not retrain), else trained and saved."""
    path = out.path(f"runs_{name}.npz")
    if os.path.exists(path):
        with np.load(path) as z:
            if str(z["key"]) == key:
                return (z["steps"], z["loss"], z["trajectory"], z["params"], str(z["engine"]),
                        float(z["seconds"]), True)
    t = time.perf_counter()
    steps, loss, traj, params, engine = train_runs(**kw)
    secs = time.perf_counter() - t
    tmp = path + ".tmp.npz"
    np.savez(tmp, key=key, steps=steps, loss=loss, trajectory=np.asarray(traj, np.float32)
             if kw["dtype"] == "float32" else traj, params=params, engine=engine, seconds=secs)
    os.replace(tmp, path)
    return steps, loss, traj, params, engine, secs, False


def plateau_rows(s2s):
    return [[i, p["start_step"], p["end_step"], p["loss"], p["snapped_loss"], p["moved"],
             p["verdict"], len(p["escape_neurons"]), " ".join(map(str, p["grows_next"]))]
            for i, p in enumerate(s2s.plateaus)]


PLATEAU_HEADER = ["plateau", "start_step", "end_step", "loss", "snapped_loss", "moved", "verdict",
                  "n_escape_neurons", "grows_next"]
VERDICT_COLORS = {"saddle": "tab:orange", "local minimum": "tab:green",
                  "undetermined": "tab:purple", "not stationary": "tab:red"}


def levels(per_seed, rel=0.01):
    """Group the plateaus of all seeds by loss level (gaps larger than ``rel`` in log-loss
    separate levels): per level the number of seeds, the loss and end-step spread, verdicts."""
    items = sorted(((p["loss"], i, p) for i, ps in enumerate(per_seed) for p in ps),
                   key=lambda x: x[0])
    groups, cur = [], []
    for it in items:
        if cur and np.log(it[0] / cur[-1][0]) > rel:
            groups.append(cur)
            cur = []
        cur.append(it)
    if cur:
        groups.append(cur)
    out = []
    for g in sorted(groups, key=lambda g: -g[0][0]):
        L = np.array([x[0] for x in g])
        ends = np.array([x[2]["end_step"] for x in g])
        last = np.array([x[2]["end_step"] == x[2].get("run_end") for x in g])
        out.append({"loss_median": float(np.median(L)), "loss_min": float(L.min()),
                    "loss_max": float(L.max()), "n_seeds": len({x[1] for x in g}),
                    "end_step_median": float(np.median(ends[~last])) if (~last).any() else None,
                    "end_step_p5": float(np.percentile(ends[~last], 5)) if (~last).any() else None,
                    "end_step_p95": float(np.percentile(ends[~last], 95)) if (~last).any()
                    else None,
                    "n_until_end": int(last.sum()),
                    "verdicts": dict(collections.Counter(x[2]["verdict"] for x in g))})
    return out


def compare_with_paper(task, table, n):
    """Lines stating, for each plateau the authors' figure shows, what the seeds did."""
    lines = []
    for lev, mark in zip(task["paper"]["levels"], task["paper"]["marks"] + [None] * 9):
        near = [r for r in table if abs(np.log(r["loss_median"] / lev)) < 0.03]
        if not near:
            lines.append(f"plateau {lev:.4g}: not detected in any seed")
            continue
        r = max(near, key=lambda r: r["n_seeds"])
        end = ("runs until the end" if r["end_step_median"] is None else
               f"ends at step {r['end_step_median']:.0f} (5-95 %: {r['end_step_p5']:.0f}-"
               f"{r['end_step_p95']:.0f})")
        lines.append(f"plateau {lev:.4g} (authors' mark {mark}): {r['n_seeds']}/{n} seeds at "
                     f"{r['loss_median']:.5g} [{r['loss_min']:.5g}, {r['loss_max']:.5g}], {end}; "
                     f"verdicts {r['verdicts']}")
    return lines


def figure(steps, loss0, s2s, task, footer, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    ax = axes[0]
    ax.plot(steps, loss0, color="k")
    for m in task["paper"]["marks"]:
        ax.axvline(m, color="gray", ls=":", lw=1)
    for i, p in enumerate(s2s.plateaus):
        ax.axvspan(p["start_step"], p["end_step"], color=VERDICT_COLORS[p["verdict"]], alpha=0.15)
        ax.annotate(f"{i}: {p['verdict']}\n{p['loss']:.4g}", ((p["start_step"] + p["end_step"]) / 2,
                    p["loss"]), ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="step", ylabel="loss", yscale="log",
           title=f"{task['title']}: loss, plateaus (dotted: authors' marks)")
    for a in axes:
        a.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
    W, A = s2s.amplitudes["w_norm"], s2s.amplitudes["a_norm"]
    grown = np.flatnonzero(W[-1] * A[-1] > 1e-3 * (W[-1] * A[-1]).max())
    for k in grown:
        axes[1].plot(steps, W[:, k], lw=0.8)
        axes[1].plot(steps, A[:, k], lw=0.8, ls="--", color=axes[1].lines[-1].get_color())
    axes[1].set(xlabel="step", ylabel="||w_k|| (solid), ||a_k|| (dashed)", yscale="log",
                title="amplitudes of the neurons that grew")
    ang = s2s.amplitudes["angles"]
    for k in grown:
        axes[2].plot(steps, ang[:, k], lw=0.8)
    axes[2].set(xlabel="step", ylabel="angle of w_k in its first two coordinates (deg)",
                title="input-weight directions")
    fig.text(0.01, 0.01, _wrap(footer, 200), fontsize=7, va="bottom", family="monospace")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    io.save_figure(fig, path)


def seeds_figure(steps, loss, per_seed, task, footer, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    for L in loss:
        axes[0].plot(steps, L, color="k", lw=0.5, alpha=0.15)
    for ax in axes:
        for m in task["paper"]["marks"]:
            ax.axvline(m, color="gray", ls=":", lw=1)
    axes[0].set(xlabel="step", ylabel="loss", yscale="log",
                title=f"{task['title']}: {len(loss)} seeds (dotted: authors' marks)")
    seen = set()
    for ps in per_seed:
        for p in ps:
            v = p["verdict"]
            axes[1].plot(p["end_step"], p["loss"], "o", ms=3, alpha=0.5,
                         color=VERDICT_COLORS[v], label=None if v in seen else v)
            seen.add(v)
    for lev in task["paper"]["levels"]:
        axes[1].axhline(lev, color="gray", ls="--", lw=0.8)
    axes[1].set(xlabel="step where the plateau ends", ylabel="plateau loss", yscale="log",
                title="plateaus of every seed, by verdict (dashed: authors' levels)")
    axes[1].legend(fontsize=8)
    fig.text(0.01, 0.01, _wrap(footer, 150), fontsize=7, va="bottom", family="monospace")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    io.save_figure(fig, path)


def _wrap(text, width):
    import textwrap
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def run_task(name, args, out, summary):
    """One task: ``--seeds`` seeds in one call; seed 0 analysed in full, every seed tabulated."""
    task = TASKS[name]
    data = task["data"]()
    X, Y = data.X, data.y
    sigma, lr = task["sigma"], task["lr"]
    steps = max(int(round(task["steps"] * args.scale)), 1)
    rec = args.record_every or max(steps // 600, 1)
    n = max(args.seeds, 1)
    arch = Architecture(X.shape[1], (args.width,), Y.shape[1], hidden_bias=False,
                        output_bias=False)
    settings = {"steps": steps, "sigma": sigma, "lr": lr, "width": args.width,
                "dtype": args.dtype if args.seeds_dynamics == "gd" else "float64",
                "dynamics": args.seeds_dynamics, "record_every": rec, "seed": args.seed,
                "n_seeds": n, "loss": "mse (mean over N*e entries)", "bias": False,
                "init": "N(0, sigma^2) both layers", "source": SOURCE}
    key = json.dumps({k: settings[k] for k in ("steps", "sigma", "lr", "width", "dtype",
                                               "dynamics", "record_every", "seed", "n_seeds")}
                     | {"rtol": args.rtol}, sort_keys=True)
    rec_steps, loss, traj, params, engine, secs, reused = cached_runs(
        out, name, key, arch=arch, X=X, Y=Y, sigma=sigma, lr=lr, steps=steps, rec=rec,
        dtype=args.dtype, n=n, seed=args.seed, dynamics=args.seeds_dynamics, rtol=args.rtol,
        progress=not args.quiet)
    settings["engine"] = engine
    print(f"[{name}] {task['title']}: {n} seeds x {steps} steps ({settings['dtype']}, {engine}) "
          f"in {secs:.1f} s{' (read back from runs_' + name + '.npz)' if reused else ''}")
    loss = np.asarray(loss, dtype=np.float64)
    # seed 0 in full: plateaus, snapped points, verdicts, checks, and the final point
    t = time.perf_counter()
    s2s = saddle_to_saddle(np.asarray(traj[0], np.float64), rec_steps, X, Y, arch=arch,
                           loss_curve=loss[0])
    print(s2s.summary())
    io.write_csv(out.path(f"plateaus_{name}.csv"), PLATEAU_HEADER, plateau_rows(s2s))
    c0 = s2s.checks          # the final point, snapped with the trajectory's settled neurons live
    print(f"final point: {c0['final_verdict']} (moved {c0['final_moved']:.3g} by the snap; "
          f"settled neurons kept live that zero_tol alone would zero: {c0['final_kept_live']})"
          f"\n  {c0['final_reason']}")
    # every seed: plateaus and verdicts (no numerical re-checks: the LP certificates decide)
    rows, per_seed = [], []
    for i in range(n):
        s = s2s if i == 0 else saddle_to_saddle(np.asarray(traj[i], np.float64), rec_steps, X,
                                                Y, arch=arch, loss_curve=loss[i], check=False)
        ps = [dict(p, run_end=int(rec_steps[-1])) for p in s.plateaus]
        per_seed.append(ps)
        rows.append([i, len(ps), " ".join(f"{p['loss']:.6g}" for p in ps),
                     " ".join(str(p["end_step"]) for p in ps),
                     " ".join(p["verdict"].replace(" ", "_") for p in ps),
                     float(loss[i, -1]), s.checks["final_verdict"],
                     s.checks["final_in_plateau"],
                     " ".join(str(k) for k in s.checks["final_kept_live"]),
                     float(s.checks["final_moved"])])
    secs_analysis = time.perf_counter() - t
    io.write_csv(out.path(f"seeds_{name}.csv"),
                 ["seed", "n_plateaus", "plateau_losses", "plateau_end_steps",
                  "plateau_verdicts", "final_loss", "final_verdict", "final_in_plateau",
                  "final_kept_live", "final_moved"], rows)
    np.savez_compressed(out.path(f"curves_{name}.npz"), steps=rec_steps,
                        loss=loss.astype(np.float32))
    table = levels(per_seed)
    finals = collections.Counter(r[6] for r in rows)
    paper_lines = compare_with_paper(task, table, n)
    fl = loss[:, -1]
    print(f"[{name}] plateau analysis of {n} seeds: {secs_analysis:.1f} s; final loss median "
          f"{np.median(fl):.6g} [{fl.min():.4g}, {fl.max():.4g}] (authors: "
          f"{task['paper']['final_loss']:.6g}); final verdicts {dict(finals)}")
    for r in table:
        if r["n_seeds"] >= max(2, n // 20):
            print(f"  level {r['loss_median']:.5g} [{r['loss_min']:.5g}, {r['loss_max']:.5g}]: "
                  f"{r['n_seeds']} seeds, ends at {r['end_step_median']} "
                  f"(5-95 %: {r['end_step_p5']}-{r['end_step_p95']}), {r['n_until_end']} until "
                  f"the end; {r['verdicts']}")
    print("  compared with the authors' notebook " + task["paper"]["notebook"] + ":")
    for line in paper_lines:
        print("    " + line)
    differs = ("seeds: ours, not torch.manual_seed(12) (same distribution, other draws)"
               + ("" if settings["dtype"] == "float32" else
                  f"; {settings['dtype']} arithmetic (the authors train in float32)")
               + ("" if args.seeds_dynamics == "gd" else "; gradient flow instead of GD steps")
               + ("" if args.scale == 1 else f"; steps scaled by {args.scale}")
               + ("" if args.width == 50 else f"; width {args.width}"))
    footer = (f"settings ({SOURCE}): width {args.width}, no biases, sigma {sigma:.3g}, lr {lr:g}, "
              f"{steps} steps, mse, {settings['dtype']} ({engine}); seeds ours\n"
              f"differs from the paper: {differs}")
    entry = {"settings": settings, "seconds_train": secs, "seconds_analysis": secs_analysis,
             "differs_from_paper": differs, "paper": task["paper"],
             "comparison": paper_lines, "levels": table,
             "seed0": {"plateau_losses": s2s.plateau_losses, "plateaus": s2s.plateaus,
                       "checks": s2s.checks, "final_loss": float(loss[0, -1]),
                       "final_verdict": c0["final_verdict"], "final_reason": c0["final_reason"]},
             "final_loss": {"median": float(np.median(fl)), "min": float(fl.min()),
                            "max": float(fl.max())},
             "final_verdicts": dict(finals),
             "final_kept_live_seeds": sum(bool(r[8]) for r in rows),
             "n_plateaus": dict(collections.Counter(len(p) for p in per_seed))}
    if not args.no_plot:
        figure(rec_steps, loss[0], s2s, task, footer, out.path(f"saddle_to_saddle_{name}.png"))
        seeds_figure(rec_steps, loss, per_seed, task, footer, out.path(f"seeds_{name}.png"))
        if args.figures:                   # the copies shown by the README and the guide
            tag = "" if settings["dtype"] == "float32" else "_" + settings["dtype"]
            os.makedirs(args.figures, exist_ok=True)
            for src, dst in ((f"saddle_to_saddle_{name}.png", f"saddle_to_saddle_{name}{tag}.png"),
                             (f"seeds_{name}.png", f"saddle_to_saddle_{name}{tag}_seeds.png")):
                shutil.copyfile(os.path.join(out.root, src), os.path.join(args.figures, dst))
                print(f"wrote {os.path.join(args.figures, dst)}")
    summary[name] = entry


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="saddle_to_saddle")
    ap.add_argument("--tasks", nargs="+", choices=tuple(TASKS), default=list(TASKS),
                    help="which of the authors' tasks to run (default: all three)")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                    help="arithmetic of training (default float32, the authors' precision)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every task's step count (default 1: the authors' budgets)")
    ap.add_argument("--width", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=100,
                    help="networks per task, trained in one call (seed i: network i of "
                         "init_params(seed=--seed, n_networks=--seeds)); 0 means 1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record-every", type=int, default=None,
                    help="record interval (default steps / 600)")
    ap.add_argument("--seeds-dynamics", choices=("gd", "flow"), default="gd",
                    help="'gd' the paper's GD steps (default); 'flow' gradient flow to the same "
                         "time lr*steps (Dormand-Prince, float64)")
    ap.add_argument("--rtol", type=float, default=1e-4,
                    help="relative tolerance of the flow integrator (default 1e-4)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--figures", default=None,
                    help="also copy the figures into this folder (docs/figures for the README)"
                         " as saddle_to_saddle_<task>[_float64][_seeds].png")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--force", action="store_true", help="reuse --out with other settings")
    args = ap.parse_args(argv)
    if not (args.scale > 0 and np.isfinite(args.scale)):
        ap.error(f"--scale must be a positive finite number; got {args.scale}")
    if args.seeds < 0 or args.width < 1 or args.seed < 0:
        ap.error("--seeds and --seed must be >= 0 and --width >= 1")
    # which tasks run is not a setting of the folder: a rerun may add or redo tasks
    settings = {"dtype": args.dtype, "scale": args.scale,
                "width": args.width, "seeds": args.seeds, "seed": args.seed,
                "record_every": args.record_every, "seeds_dynamics": args.seeds_dynamics,
                "rtol": args.rtol}
    with io.OutputFolder(args.out, command="scripts/saddle_to_saddle.py", settings=settings,
                         force=args.force) as out:
        path = out.path("summary.json")
        summary = io.read_json(path) if os.path.exists(path) else {}
        summary["settings"] = settings
        for name in args.tasks:
            run_task(name, args, out, summary)
        io.write_json(path, summary)
        for f in out.files:
            print(f"wrote {os.path.join(out.root, f)}")
    return 0


if __name__ == "__main__":
    main()
