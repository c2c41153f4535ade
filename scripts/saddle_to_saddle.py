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
``torch.FloatTensor`` (``--dtype float64`` to compare). Source of every setting: the authors'
code; ours: the seed (the authors use ``torch.manual_seed(12)``, whose draws we cannot
replay — differs from the paper: the initial point, not its distribution), the record
interval, and the seed count (the paper shows one run per task).

For each task the loss curve's plateaus are found (:func:`topoanalysis.critical.detect_plateaus`),
the point of each plateau is snapped and classified (:func:`topoanalysis.critical.saddle_to_saddle`),
the final point is classified on its own, and the figure shows the loss with the plateaus and
their verdicts, the neuron amplitudes and the input-weight directions. Then each task runs for
``--seeds`` seeds in one engine call and the sequences of plateau losses and final verdicts are
tabulated.

Writes to ``--out`` (default ``saddle_to_saddle/``): ``plateaus_<task>.csv``,
``seeds_<task>.csv``, ``summary.json`` and ``saddle_to_saddle_<task>.png``,
``seeds_<task>.png``.

    python scripts/saddle_to_saddle.py                       # all three tasks, 100 seeds each
    python scripts/saddle_to_saddle.py --tasks 1d --scale 0.05 --seeds 4 --out /tmp/s2s  # quick
"""

import argparse
import collections
import os
import time

import numpy as np

from topoanalysis import Architecture, Network, io
from topoanalysis.critical import saddle_to_saddle, snap_and_classify
from topoanalysis.datasets import (wu_five_point_regression, wu_three_d_regression,
                                   wu_two_d_two_d_regression)
from topoanalysis.dynamics import train
from topoanalysis.init import init_params


TASKS = {
    "1d": dict(title="1-D, 5 points", data=lambda: wu_five_point_regression(with_bias_column=True),
               sigma=50 ** -3.0, lr=1e-3, steps=600_000),
    "3d": dict(title="3-D -> 1, 7 points", data=wu_three_d_regression,
               sigma=50 ** -6.5, lr=1e-3, steps=800_000),
    "2d2d": dict(title="2-D -> 2-D, 4 points", data=wu_two_d_two_d_regression,
                 sigma=50 ** -6.5, lr=2e-3, steps=300_000),
}


def _train(th, X, Y, arch, dtype, **kw):
    """``train`` in ``dtype`` (float32 needs the engine's ``dtype`` option)."""
    if dtype == "float64":
        return train(th, X, Y, arch=arch, **kw)
    return train(th, X, Y, arch=arch, dtype=dtype, **kw)


def run_one(X, Y, *, width, sigma, lr, steps, record_every, seed, e, dtype):
    arch = Architecture(X.shape[1], (width,), e, hidden_bias=False, output_bias=False)
    th = init_params(arch, "normal", seed=seed, std=sigma)
    t = time.perf_counter()
    res = _train(th, X, Y, arch, dtype, lr=lr, steps=steps, record_every=record_every,
                 record_params=True, progress=False)
    seconds = time.perf_counter() - t
    s2s = saddle_to_saddle(res.trajectory[0], res.record_steps, X, Y, arch=arch,
                           loss_curve=res.loss[0])
    return arch, res, s2s, seconds


def plateau_rows(s2s):
    return [[i, p["start_step"], p["end_step"], p["loss"], p["snapped_loss"], p["moved"],
             p["verdict"], len(p["escape_neurons"]), " ".join(map(str, p["grows_next"]))]
            for i, p in enumerate(s2s.plateaus)]


PLATEAU_HEADER = ["plateau", "start_step", "end_step", "loss", "snapped_loss", "moved", "verdict",
                  "n_escape_neurons", "grows_next"]


def figure(res, s2s, title, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = res.record_steps
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    ax.plot(steps, res.loss[0], color="k")
    colors = {"saddle": "tab:orange", "local minimum": "tab:green", "undetermined": "tab:purple",
              "not stationary": "tab:red"}
    for i, p in enumerate(s2s.plateaus):
        ax.axvspan(p["start_step"], p["end_step"], color=colors[p["verdict"]], alpha=0.15)
        ax.annotate(f"{i}: {p['verdict']}\n{p['loss']:.4g}", ((p["start_step"] + p["end_step"]) / 2,
                    p["loss"]), ha="center", va="bottom", fontsize=8)
    ax.set(xlabel="step", ylabel="loss", title=f"{title}: loss and plateaus", yscale="log")
    W, A = s2s.amplitudes["w_norm"], s2s.amplitudes["a_norm"]
    grown = np.flatnonzero(W[-1] * A[-1] > 1e-3 * (W[-1] * A[-1]).max())
    for k in grown:
        axes[1].plot(steps, W[:, k], lw=0.8)
        axes[1].plot(steps, A[:, k], lw=0.8, ls="--", color=axes[1].lines[-1].get_color())
    axes[1].set(xlabel="step", ylabel="||w_k|| (solid), |a_k| (dashed)", yscale="log",
                title="amplitudes of the neurons that grew")
    ang = s2s.amplitudes["angles"]
    for k in grown:
        axes[2].plot(steps, ang[:, k], lw=0.8)
    axes[2].set(xlabel="step", ylabel="angle of w_k in its first two coordinates (deg)",
                title="input-weight directions")
    fig.tight_layout()
    io.save_figure(fig, path)


def seeds_figure(seq, finals, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, s in enumerate(seq):
        axes[0].plot(range(len(s)), s, "o-", color="tab:blue", alpha=0.15)
    axes[0].set(xlabel="plateau index", ylabel="plateau loss",
                title=f"plateau losses of {len(seq)} seeds")
    c = collections.Counter(finals)
    axes[1].bar(list(c), list(c.values()), color="tab:green")
    axes[1].set(title="final verdict (after snapping)")
    fig.tight_layout()
    io.save_figure(fig, path)


def run_task(name, args, out, summary):
    """One task: a single seed analysed in full, then ``--seeds`` seeds in one engine call."""
    task = TASKS[name]
    data = task["data"]()
    X, Y = data.X, data.y
    sigma, lr = task["sigma"], task["lr"]
    steps = max(int(round(task["steps"] * args.scale)), 1)
    rec = args.record_every or max(steps // 600, 1)
    arch, res, s2s, secs = run_one(X, Y, width=args.width, sigma=sigma, lr=lr, steps=steps,
                                   record_every=rec, seed=args.seed, e=Y.shape[1],
                                   dtype=args.dtype)
    print(f"[{name}] {task['title']}: {steps} steps ({args.dtype}) in {secs:.2f} s")
    print(s2s.summary())
    io.write_csv(out.path(f"plateaus_{name}.csv"), PLATEAU_HEADER, plateau_rows(s2s))
    final = Network(arch, np.asarray(res.params[0], dtype=np.float64))
    snap_final, v_final = snap_and_classify(final, X, Y)
    print("final point: " + snap_final.summary())
    print(v_final.summary())
    entry = {"settings": {"steps": steps, "sigma": sigma, "lr": lr, "width": args.width,
                          "dtype": args.dtype, "record_every": rec, "seed": args.seed,
                          "source": "authors' public code (notebooks 01-03)"},
             "seconds": secs, "plateau_losses": s2s.plateau_losses,
             "final_loss": float(res.final_loss[0]), "final_verdict": v_final.verdict,
             "final_reason": v_final.reason, "checks": s2s.checks, "plateaus": s2s.plateaus}
    if not args.no_plot:
        figure(res, s2s, task["title"], out.path(f"saddle_to_saddle_{name}.png"))
    if args.seeds > 0:
        th = init_params(arch, "normal", seed=args.seed, std=sigma, n_networks=args.seeds)
        t = time.perf_counter()
        if args.seeds_dynamics == "gd":
            many = _train(th, X, Y, arch, args.dtype, lr=lr, steps=steps, record_every=rec,
                          record_params=True, progress=not args.quiet)
            rec_steps = many.record_steps
        else:  # gradient flow to the same time lr * steps, recorded at the GD record steps
            rec_steps = np.arange(0, steps + 1, rec)
            many = train(th, X, Y, arch=arch, optimizer="flow", t_end=lr * steps,
                         rtol=args.rtol, record_times=lr * rec_steps, record_params=True,
                         progress=not args.quiet)
        secs_many = time.perf_counter() - t
        t = time.perf_counter()
        rows, seq, finals = [], [], []
        for i in range(args.seeds):
            s = saddle_to_saddle(np.asarray(many.trajectory[i], dtype=np.float64),
                                 rec_steps, X, Y, arch=arch,
                                 loss_curve=np.asarray(many.loss[i], dtype=np.float64),
                                 check=False)
            pl = s.plateau_losses
            seq.append(pl)
            finals.append(s.checks.get("final_verdict") or "no plateau")
            rows.append([i, len(pl), " ".join(f"{x:.6g}" for x in pl),
                         float(many.final_loss[i]), finals[-1]])
        secs_classify = time.perf_counter() - t
        io.write_csv(out.path(f"seeds_{name}.csv"),
                     ["seed", "n_plateaus", "plateau_losses", "final_loss", "final_verdict"],
                     rows)
        counts = collections.Counter(finals)
        patterns = collections.Counter(" ".join(f"{x:.4f}" for x in s) for s in seq)
        print(f"[{name}] {args.seeds} seeds in one engine run: {secs_many:.2f} s; "
              f"plateau analysis {secs_classify:.2f} s")
        print(f"  final verdicts: {dict(counts)}")
        for pat, n in patterns.most_common(5):
            print(f"  {n:>3} seeds with plateau losses {pat}")
        entry["seeds"] = {"n": args.seeds, "dynamics": args.seeds_dynamics,
                          "seconds_train": secs_many,
                          "seconds_analysis": secs_classify, "final_verdicts": dict(counts),
                          "plateau_loss_sequences": dict(patterns.most_common(10)),
                          "n_plateaus": dict(collections.Counter(len(s) for s in seq))}
        if not args.no_plot:
            seeds_figure(seq, finals, out.path(f"seeds_{name}.png"))
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
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record-every", type=int, default=None,
                    help="record interval (default steps / 600)")
    ap.add_argument("--seeds-dynamics", choices=("gd", "flow"), default="gd",
                    help="dynamics of the many-seed runs: 'gd' the paper's GD steps (default); "
                         "'flow' gradient flow to the same time lr*steps (Dormand-Prince, "
                         "float64)")
    ap.add_argument("--rtol", type=float, default=1e-4,
                    help="relative tolerance of the flow integrator (default 1e-4)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--force", action="store_true", help="reuse --out with other settings")
    args = ap.parse_args(argv)
    if not (args.scale > 0 and np.isfinite(args.scale)):
        ap.error(f"--scale must be a positive finite number; got {args.scale}")
    if args.seeds < 0 or args.width < 1 or args.seed < 0:
        ap.error("--seeds and --seed must be >= 0 and --width >= 1")
    settings = {"tasks": args.tasks, "dtype": args.dtype, "scale": args.scale,
                "width": args.width, "seeds": args.seeds, "seed": args.seed,
                "record_every": args.record_every, "seeds_dynamics": args.seeds_dynamics,
                "rtol": args.rtol}
    summary = {"settings": settings}
    with io.OutputFolder(args.out, command="scripts/saddle_to_saddle.py", settings=settings,
                         force=args.force) as out:
        for name in args.tasks:
            run_task(name, args, out, summary)
        io.write_json(out.path("summary.json"), summary)
        for f in out.files:
            print(f"wrote {os.path.join(out.root, f)}")
    return 0


if __name__ == "__main__":
    main()
