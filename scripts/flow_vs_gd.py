"""Gradient flow against small-rate gradient descent on a saddle-to-saddle run.

The setting of the critical-points paper's saddle-to-saddle experiment (Wu, Simsek & Ged's
five-point regression): ``f(x) = Σ_i h_i relu(w_i · (x, 1))``, width 50, no explicit biases
(the input carries a constant-1 column), squared loss, normal initialization of standard
deviation ``50^-3`` (vanishing), full-batch gradient descent with rate ``1e-3`` for ``6·10^5``
steps: the loss crosses a sequence of plateaus. Gradient descent with a small rate follows
the gradient flow up to time ``t = η · steps``; ``gradient_flow`` integrates that flow with an
adaptive Dormand–Prince 5(4) method, whose steps grow long on the plateaus.

The measurement: gradient evaluations and wall time for each method to reach GD's final loss
(the first time the loss is within a relative ``1e-4`` of it), wall times the median of
``--repeats`` alternating runs, one thread each; then, once each, the whole horizon (GD's
``steps`` steps, the flow to ``t = η · steps`` at the loosest tolerance) on a stack of
``--n-networks`` initializations, where the flow's per-step Python work is shared by the
stack. Not a figure of the papers.

Usage::

    python scripts/flow_vs_gd.py --out results/flow_vs_gd --n-networks 10

Writes ``flow_vs_gd.csv`` (one row per method: evaluations, wall time, time and loss
reached), ``loss_vs_time.csv`` (both loss curves against time ``t``; GD at ``t = η·step``) and
``flow_vs_gd.png`` to ``--out``, and prints the table.
"""

import argparse
import os
import sys
import time

import numpy as np

from topoanalysis import Architecture
from topoanalysis.datasets import wu_five_point_regression
from topoanalysis.dynamics import gradient_flow, train
from topoanalysis.init import init_params
from topoanalysis.io import OutputFolder, save_figure, write_csv

REL_TARGET = 1e-4   # "the same final loss": within this relative distance of GD's


def setup(width, seed, n_networks=1):
    data = wu_five_point_regression(with_bias_column=True)
    arch = Architecture(2, (width,), 1, hidden_bias=False, output_bias=False)
    theta = init_params(arch, "normal", std=50.0 ** -3, seed=seed, n_networks=n_networks)
    return data, arch, theta


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(width=50, lr=1e-3, steps=600_000, rtols=(1e-3, 1e-4), atol=1e-10, seed=0,
            repeats=3, n_networks=1, progress=False):
    """Run GD and the flow; return (summary rows, curve rows, target loss).

    The runs to GD's final loss use network 0; the whole-horizon runs use the stack of
    ``n_networks`` initializations (network 0 is the same in both)."""
    data, arch, stack = setup(width, seed, n_networks)
    theta = stack[:1]
    X, y = data.X, data.y
    t_end = lr * steps
    common = dict(arch=arch, loss="mse", n_threads=1, progress=progress)
    record_every = max(1, steps // 600)
    t0 = time.perf_counter()
    gd_full = train(stack, X, y, lr=lr, steps=steps, record_every=record_every, **common)
    gd_full_wall = time.perf_counter() - t0
    target = float(gd_full.final_loss[0]) * (1 + REL_TARGET)

    def run_gd():
        return train(theta, X, y, lr=lr, steps=steps, record_every=steps, target_loss=target,
                     **common)

    def run_flow(rtol):
        return lambda: gradient_flow(theta, X, y, t_end=t_end, rtol=rtol, atol=atol,
                                     record_times=[0.0, t_end], target_loss=target, **common)

    timings = {"gd": [], **{r: [] for r in rtols}}
    results = {}
    for _ in range(repeats):  # alternate the methods, so that load changes hit all of them
        for key, fn in [("gd", run_gd)] + [(r, run_flow(r)) for r in rtols]:
            results[key], seconds = _timed(fn)
            timings[key].append(seconds)
    rows = []
    gd = results["gd"]
    n_gd = int(gd.steps_taken[0])
    rows.append(dict(method="gd", lr=lr, rtol="", atol="", gradient_evaluations=n_gd,
                     loss_evaluations=0, accepted_steps=n_gd, rejected_steps=0,
                     time_reached=lr * n_gd, loss_reached=float(gd.final_loss[0]),
                     wall_s_median=float(np.median(timings["gd"])),
                     wall_s_min=float(np.min(timings["gd"])),
                     wall_s_max=float(np.max(timings["gd"])),
                     reached=bool(gd.reached_target[0]), n_networks=1,
                     max_final_loss_gap=""))
    for r in rtols:
        fl = results[r]
        rows.append(dict(method="flow", lr="", rtol=r, atol=atol,
                         gradient_evaluations=int(fl.n_evaluations[0]),
                         loss_evaluations=int(fl.n_loss_evaluations[0]),
                         accepted_steps=int(fl.steps_taken[0]),
                         rejected_steps=int(fl.rejected_steps[0]),
                         time_reached=float(fl.final_time[0]),
                         loss_reached=float(fl.final_loss[0]),
                         wall_s_median=float(np.median(timings[r])),
                         wall_s_min=float(np.min(timings[r])), wall_s_max=float(np.max(timings[r])),
                         reached=bool(fl.reached_target[0]), n_networks=1,
                         max_final_loss_gap=""))
    # the whole horizon (one run each): GD's `steps` steps against the flow to t_end at the
    # loosest tolerance, which also gives the flow's loss curve
    times = np.linspace(0.0, t_end, 601)
    t0 = time.perf_counter()
    flow_curve = gradient_flow(stack, X, y, t_end=t_end, rtol=max(rtols), atol=atol,
                               record_times=times, **common)
    flow_wall = time.perf_counter() - t0
    for name, r, res, wall in (("gd_to_t_end", "", gd_full, gd_full_wall),
                               ("flow_to_t_end", max(rtols), flow_curve, flow_wall)):
        gd_row = name.startswith("gd")
        ev = int(np.sum(res.steps_taken if gd_row else res.n_evaluations))
        rows.append(dict(
            method=name, lr=lr if gd_row else "", rtol=r, atol="" if gd_row else atol,
            gradient_evaluations=ev,
            loss_evaluations=0 if gd_row else int(np.sum(res.n_loss_evaluations)),
            accepted_steps=int(np.sum(res.steps_taken)),
            rejected_steps=0 if gd_row else int(np.sum(res.rejected_steps)),
            time_reached=t_end, loss_reached=float(res.final_loss[0]), wall_s_median=wall,
            wall_s_min=wall, wall_s_max=wall, reached="", n_networks=len(stack),
            max_final_loss_gap="" if gd_row else
            float(np.max(np.abs(res.final_loss - gd_full.final_loss)))))
    curves = [("gd", lr * int(s), float(v)) for s, v in zip(gd_full.record_steps,
                                                             gd_full.loss[0])]
    curves += [("flow", float(t), float(v)) for t, v in zip(times, flow_curve.loss[0])]
    return rows, curves, target


def plot(rows, curves, target, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("flow_vs_gd.py needs matplotlib for the figure: "
                         "pip install 'topoanalysis[plot]' (or pip install matplotlib).") from None
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    by = {r["method"]: r for r in rows}
    gd, gd_end, fl_end = by["gd"], by["gd_to_t_end"], by["flow_to_t_end"]
    for method, style, label in (
            ("gd", "-", f"GD, η = {gd['lr']:g}; to t = {gd_end['time_reached']:g}: "
                        f"{gd_end['gradient_evaluations']:,} gradient evaluations, "
                        f"{gd_end['wall_s_median']:.1f} s"),
            ("flow", "--", f"flow, Dormand–Prince 5(4), rtol {fl_end['rtol']:g}: "
                           f"{fl_end['gradient_evaluations']:,}, "
                           f"{fl_end['wall_s_median']:.1f} s")):
        t = [c[1] for c in curves if c[0] == method]
        v = [c[2] for c in curves if c[0] == method]
        ax.plot(t, v, style, label=label)
    text = [f"to GD's final loss (dotted): GD {gd['gradient_evaluations']:,} ev., "
            f"{gd['wall_s_median']:.2f} s"]
    text += [f"flow rtol {r['rtol']:g}: {r['gradient_evaluations']:,} ev., "
             f"{r['wall_s_median']:.2f} s" for r in rows if r["method"] == "flow"]
    ax.text(0.98, 0.55, "\n".join(text), transform=ax.transAxes, ha="right", fontsize=7)
    ax.axhline(target, color="gray", lw=0.5, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("time t (GD: η · step)")
    ax.set_ylabel("training loss (MSE)")
    ax.set_title(f"Saddle-to-saddle from a vanishing initialization (network 0 shown)\n"
                 f"legend: evaluations and time to t = {gd_end['time_reached']:g} for "
                 f"{gd_end['n_networks']} network(s)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=150)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("results", "flow_vs_gd"),
                        help="output folder (created if missing)")
    parser.add_argument("--width", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--steps", type=int, default=600_000)
    parser.add_argument("--rtol", type=float, nargs="+", default=[1e-3, 1e-4])
    parser.add_argument("--atol", type=float, default=1e-10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="alternating timed repeats")
    parser.add_argument("--n-networks", type=int, default=1,
                        help="initializations in the whole-horizon runs (one stack each)")
    parser.add_argument("--force", action="store_true", help="reuse --out with other settings")
    args = parser.parse_args(argv)
    settings = dict(width=args.width, lr=args.lr, steps=args.steps, rtol=args.rtol,
                    atol=args.atol, seed=args.seed, repeats=args.repeats,
                    n_networks=args.n_networks)
    with OutputFolder(args.out, command="flow_vs_gd", settings=settings,
                      force=args.force) as out:
        rows, curves, target = measure(args.width, args.lr, args.steps, tuple(args.rtol),
                                       args.atol, args.seed, args.repeats, args.n_networks)
        table = out.path("flow_vs_gd.csv")
        write_csv(table, list(rows[0]), [list(r.values()) for r in rows])
        curve_path = out.path("loss_vs_time.csv")
        write_csv(curve_path, ["method", "time", "loss"], curves)
        png = out.path("flow_vs_gd.png")
        plot(rows, curves, target, png)
    print(f"target: loss <= {target:.8g} (GD's final loss + {REL_TARGET:g} relative)")
    by = {r["method"]: r for r in rows}
    for r in rows:
        ref = by["gd_to_t_end"] if r["method"].endswith("t_end") else by["gd"]
        name = {"gd": "GD", "flow": f"flow rtol={r['rtol']}",
                "gd_to_t_end": f"GD to t_end, {r['n_networks']} nets",
                "flow_to_t_end": f"flow to t_end rtol={r['rtol']}, {r['n_networks']} nets",
                }[r["method"]]
        ratio = ref["gradient_evaluations"] / max(1, r["gradient_evaluations"])
        print(f"{name:>26}: {r['gradient_evaluations']:>8,} gradient evaluations "
              f"({ratio:.1f}x fewer than GD), wall {r['wall_s_median']:.3f} s "
              f"[{r['wall_s_min']:.3f}, {r['wall_s_max']:.3f}], reached t = "
              f"{r['time_reached']:.4g}, loss {r['loss_reached']:.8g}")
    print(f"wrote {table}\nwrote {curve_path}\nwrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
