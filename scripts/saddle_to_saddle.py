"""Saddle-to-saddle dynamics of Wu, Simsek & Ged (arXiv 2402.05626, Figure 3), certified.

The authors' 1-D setting: the 5 points ``x = (−1, −0.6, −0.1, 0.3, 0.7)``,
``y = (0.28, −0.1, 0.03, 0.23, −0.22)`` with a constant 1 appended to the input (no explicit
biases), a width-50 ReLU network, both layers ``N(0, σ²)`` with ``σ = 50^{-3}``, full-batch
gradient descent on the squared loss with learning rate ``1e-3`` for ``6·10^5`` steps. Plus a
2-D-input, two-output setting (8 points on the unit circle, targets from a fixed two-neuron
ReLU teacher, the same width, ``σ`` and learning rate).

For each setting the loss curve's plateaus are found automatically
(:func:`topoanalysis.critical.detect_plateaus`), the point of each plateau is snapped and
classified (:func:`topoanalysis.critical.saddle_to_saddle`), and the figure shows the loss with
the plateaus and their verdicts, the neuron amplitudes ``||w_k||`` and ``|a_k|`` over time and
the input-weight directions. Then the 1-D setting runs for ``--seeds`` seeds **at once** (the
paper ran one) — as the paper's GD steps in one engine call (default), or as one batched
gradient-flow integration to the same time ``lr·steps`` (``--seeds-dynamics flow``,
Dormand–Prince at ``--rtol 1e-4``: the same plateau losses in a fraction of the gradient
evaluations) — and the distribution of the sequence of plateau losses and of the
final verdict is tabulated.

Writes to ``--out`` (default ``saddle_to_saddle/``): ``plateaus_1d.csv``, ``plateaus_2d.csv``,
``seeds.csv``, ``summary.json`` (timings, plateau losses, final loss and verdict) and
``saddle_to_saddle_1d.png``, ``saddle_to_saddle_2d.png``, ``seeds.png``.

    python scripts/saddle_to_saddle.py                 # the paper's settings (~1 min)
    python scripts/saddle_to_saddle.py --steps 20000 --seeds 4 --out /tmp/s2s   # a quick look
"""

import argparse
import collections
import os
import time

import numpy as np

from topoanalysis import Architecture, Network, io
from topoanalysis.critical import saddle_to_saddle, snap_and_classify
from topoanalysis.datasets import wu_five_point_regression
from topoanalysis.dynamics import train
from topoanalysis.init import init_params


def two_d_data():
    """8 points on the unit circle (bias appended) and a 2-output ReLU teacher."""
    ang = np.linspace(0, 2 * np.pi, 8, endpoint=False) + 0.3
    X = np.c_[np.cos(ang), np.sin(ang), np.ones(8)]
    T = np.array([[1.0, 0.5, -0.2], [-0.7, 1.0, 0.1]])
    H = np.maximum(X @ T.T, 0)
    Y = H @ np.array([[0.4, -0.2], [0.1, 0.3]]).T
    return X, Y


def run_one(X, Y, *, width, sigma, lr, steps, record_every, seed, e):
    arch = Architecture(X.shape[1], (width,), e, hidden_bias=False, output_bias=False)
    th = init_params(arch, "normal", seed=seed, std=sigma)
    t = time.perf_counter()
    res = train(th, X, Y, arch=arch, lr=lr, steps=steps, record_every=record_every,
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="saddle_to_saddle")
    ap.add_argument("--steps", type=int, default=600_000)
    ap.add_argument("--steps-2d", type=int, default=300_000)
    ap.add_argument("--width", type=int, default=50)
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record-every", type=int, default=None,
                    help="record interval (default steps / 600)")
    ap.add_argument("--seeds-dynamics", choices=("gd", "flow"), default="gd",
                    help="dynamics of the many-seed run: 'gd' runs the paper's GD steps "
                         "(default); 'flow' integrates gradient flow to the same time lr*steps "
                         "with Dormand-Prince, about 10x faster here, the same plateau losses")
    ap.add_argument("--rtol", type=float, default=1e-4,
                    help="relative tolerance of the flow integrator (default 1e-4; 1e-3 merges "
                         "the short middle plateau of the 1-D run into its neighbours)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--force", action="store_true", help="reuse --out with other settings")
    args = ap.parse_args(argv)
    sigma, lr = args.width ** -3.0, 1e-3
    rec = args.record_every or max(args.steps // 600, 1)
    rec2 = args.record_every or max(args.steps_2d // 600, 1)
    settings = {"steps": args.steps, "steps_2d": args.steps_2d, "width": args.width,
                "seeds": args.seeds, "seed": args.seed, "record_every": rec, "sigma": sigma,
                "lr": lr, "seeds_dynamics": args.seeds_dynamics, "rtol": args.rtol}
    wu = wu_five_point_regression(with_bias_column=True)
    summary = {"settings": settings}
    with io.OutputFolder(args.out, command="scripts/saddle_to_saddle.py", settings=settings,
                         force=args.force) as out:
        # --- 1-D setting of the paper, one seed
        arch, res, s2s, secs = run_one(wu.X, wu.y, width=args.width, sigma=sigma, lr=lr,
                                       steps=args.steps, record_every=rec, seed=args.seed, e=1)
        print(f"1-D run: {args.steps} steps in {secs:.2f} s")
        print(s2s.summary())
        io.write_csv(out.path("plateaus_1d.csv"), PLATEAU_HEADER, plateau_rows(s2s))
        final = Network(arch, res.params[0])
        snap_final, v_final = snap_and_classify(final, wu.X, wu.y)
        print("final point: " + snap_final.summary())
        print(v_final.summary())
        summary["one_d"] = {"seconds": secs, "plateau_losses": s2s.plateau_losses,
                            "final_loss": float(res.final_loss[0]),
                            "final_verdict": v_final.verdict, "final_reason": v_final.reason,
                            "final_check_agrees": v_final.check_agrees,
                            "dead_margin": snap_final.dead_margin, "checks": s2s.checks,
                            "plateaus": s2s.plateaus}
        if not args.no_plot:
            figure(res, s2s, "1-D, 5 points", out.path("saddle_to_saddle_1d.png"))
        # --- 2-D input, two outputs
        X2, Y2 = two_d_data()
        arch2, res2, s2s2, secs2 = run_one(X2, Y2, width=args.width, sigma=sigma, lr=lr,
                                           steps=args.steps_2d, record_every=rec2,
                                           seed=args.seed, e=2)
        print(f"2-D, two outputs: {args.steps_2d} steps in {secs2:.2f} s")
        print(s2s2.summary())
        io.write_csv(out.path("plateaus_2d.csv"), PLATEAU_HEADER, plateau_rows(s2s2))
        snap2, v2 = snap_and_classify(Network(arch2, res2.params[0]), X2, Y2)
        print("final point: " + snap2.summary())
        print(v2.summary())
        summary["two_d"] = {"seconds": secs2, "plateau_losses": s2s2.plateau_losses,
                            "final_loss": float(res2.final_loss[0]),
                            "final_verdict": v2.verdict, "final_reason": v2.reason,
                            "checks": s2s2.checks, "plateaus": s2s2.plateaus}
        if not args.no_plot:
            figure(res2, s2s2, "2-D input, 2 outputs", out.path("saddle_to_saddle_2d.png"))
        # --- many seeds in one engine call (GD), or one batched flow integration
        th = init_params(arch, "normal", seed=args.seed, std=sigma, n_networks=args.seeds)
        t = time.perf_counter()
        if args.seeds_dynamics == "gd":
            many = train(th, wu.X, wu.y, arch=arch, lr=lr, steps=args.steps, record_every=rec,
                         record_params=True, progress=True)
            rec_steps = many.record_steps
        else:  # the same horizon t = lr * steps, recorded at the GD record steps
            rec_steps = np.arange(0, args.steps + 1, rec)
            many = train(th, wu.X, wu.y, arch=arch, optimizer="flow", t_end=lr * args.steps,
                         rtol=args.rtol, record_times=lr * rec_steps, record_params=True,
                         progress=True)
        secs_many = time.perf_counter() - t
        t = time.perf_counter()
        rows, seq, finals = [], [], []
        for i in range(args.seeds):
            s = saddle_to_saddle(many.trajectory[i], rec_steps, wu.X, wu.y, arch=arch,
                                 loss_curve=many.loss[i], check=False)
            pl = s.plateau_losses
            seq.append(pl)
            finals.append(s.checks["final_verdict"] or "no plateau")
            rows.append([i, len(pl), " ".join(f"{x:.6g}" for x in pl),
                         float(many.final_loss[i]), finals[-1]])
        secs_classify = time.perf_counter() - t
        io.write_csv(out.path("seeds.csv"),
                     ["seed", "n_plateaus", "plateau_losses", "final_loss", "final_verdict"], rows)
        counts = collections.Counter(finals)
        patterns = collections.Counter(" ".join(f"{x:.4f}" for x in s) for s in seq)
        print(f"{args.seeds} seeds ({args.seeds_dynamics}) in one engine run: {secs_many:.2f} s; "
              f"plateau analysis "
              f"{secs_classify:.2f} s")
        print(f"  final verdicts: {dict(counts)}")
        for pat, n in patterns.most_common(5):
            print(f"  {n:>3} seeds with plateau losses {pat}")
        summary["seeds"] = {"n": args.seeds, "dynamics": args.seeds_dynamics,
                            "seconds_train": secs_many,
                            "seconds_analysis": secs_classify, "final_verdicts": dict(counts),
                            "plateau_loss_sequences": dict(patterns.most_common(10)),
                            "n_plateaus": dict(collections.Counter(len(s) for s in seq))}
        if not args.no_plot:
            seeds_figure(seq, finals, out.path("seeds.png"))
        io.write_json(out.path("summary.json"), summary)
        for f in out.files:
            print(f"wrote {os.path.join(out.root, f)}")
    return 0


if __name__ == "__main__":
    main()
