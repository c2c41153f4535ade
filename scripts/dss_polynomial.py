"""Normalized geodesic length and bead count against the loss level, polynomial regression.

Freeman & Bruna, "Topology and geometry of half-rectified network optimization" (ICLR 2017),
Table 1 / Figures 1-2: quadratic ``0.5x² + 0.25x + 0.1`` and cubic ``8x³ − 10x² + 3x`` on
``[0, 1]``, the paper's 1-4-4-1 sigmoid network, L1 loss, Adam (lr 1e-3); for every level ``L0``
several pairs of networks trained to ``L0`` are joined by Dynamic String Sampling (the authors'
settings: beads trained to ``0.95 L0``, gaps accepted below ``1.1 L0``, 100 points, ``t* = 1/2``,
depth 10). Beside it a shallow ReLU network ``1-l-1``.

Endpoints: for each task and network, ``2 · pairs + spare`` networks are trained to the highest
level, then trained on to each lower level (one batched engine call per level); pairs are formed
from the networks that reached the level. All strings of one level run in one batched DSS call.

Outputs (in ``--out``): ``dss_polynomial.csv`` (one row per pair), ``dss_polynomial_summary.csv``
(mean and spread per task, network and level) and ``dss_polynomial.png`` (log-log). The rows
CSV is rewritten after every finished level; a rerun with the same settings resumes.

Example::

    python scripts/dss_polynomial.py --out results/dss_polynomial
"""

import argparse
import sys

import numpy as np

from topoanalysis import Architecture, Landscape, TopoAnalysisError
from topoanalysis.datasets import polynomial_regression
from topoanalysis.init import init_params
from topoanalysis.io import OutputFolder, save_figure, write_csv
from topoanalysis.levelsets import dynamic_string_sampling

ROW_FIELDS = ["task", "network", "L0", "pair", "connected", "verdict", "n_beads",
              "beads_at_target", "depth", "normalized_length", "max_loss", "loss_a", "loss_b",
              "call_seconds"]
SUMMARY_FIELDS = ["task", "network", "L0", "n_pairs", "n_connected", "mean_normalized_length",
                  "std_normalized_length", "mean_beads", "std_beads", "max_beads", "mean_depth",
                  "mean_normalized_length_all", "mean_beads_all", "frac_beads_at_target",
                  "call_seconds"]

DEFAULT_LEVELS = {"quadratic": [0.05, 0.02, 0.01, 0.005, 0.002],
                  "cubic": [0.1, 0.05, 0.02, 0.01]}


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--tasks", nargs="+", default=["quadratic", "cubic"],
                   choices=["quadratic", "cubic"])
    p.add_argument("--levels-quadratic", type=float, nargs="+",
                   default=DEFAULT_LEVELS["quadratic"], help="L0 values, quadratic task")
    p.add_argument("--levels-cubic", type=float, nargs="+", default=DEFAULT_LEVELS["cubic"],
                   help="L0 values, cubic task")
    p.add_argument("--pairs", type=int, default=4, help="pairs per level (default 4)")
    p.add_argument("--spare", type=int, default=4, help="extra networks trained (default 4)")
    p.add_argument("--n-samples", type=int, default=500, help="training points (default 500)")
    p.add_argument("--relu-width", type=int, default=16,
                   help="width of the shallow ReLU network beside the sigmoid one (0: none)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam lr, sigmoid net (paper: 1e-3)")
    p.add_argument("--relu-lr", type=float, default=1e-2, help="Adam lr, ReLU net")
    p.add_argument("--train-steps", type=int, default=40000,
                   help="maximum steps to reach each level (endpoints)")
    p.add_argument("--bead-steps", type=int, default=10000, help="maximum steps per bead")
    p.add_argument("--max-depth", type=int, default=10)
    p.add_argument("--n-points", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="reuse a folder of other settings")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def _networks(args):
    nets = [("sigmoid_1-4-4-1", Architecture(1, (4, 4), 1, activation="sigmoid"), args.lr)]
    if args.relu_width > 0:
        nets.append((f"relu_1-{args.relu_width}-1", Architecture(1, (args.relu_width,), 1),
                     args.relu_lr))
    return nets


def _read_rows(path):
    import csv

    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def run_cell(task, name, arch, lr, levels, args, log):
    """All levels of one (task, network): returns the rows."""
    ds = polynomial_regression(task, n_samples=args.n_samples, seed=args.seed)
    n = 2 * args.pairs + args.spare
    scheme = "xavier_normal" if arch.activation == "sigmoid" else "kaiming_normal"
    theta = init_params(arch, scheme, seed=args.seed, n_networks=n)
    land = Landscape(arch, ds.X, ds.y, "l1")      # prepared once for every call of the cell
    rows = []
    for L0 in sorted(levels, reverse=True):
        tr = land.train(theta, optimizer="adam", lr=lr, steps=args.train_steps, target_loss=L0,
                        record_conserved=False, record_every=args.train_steps, progress=False)
        theta = tr.params
        ok = np.flatnonzero(tr.reached_target)
        m = min(args.pairs, ok.size // 2)
        if m == 0:
            log(f"  {task} {name} L0={L0:g}: fewer than 2 networks reached the level; skipped")
            continue
        A, B = theta[ok[:m]], theta[ok[m:2 * m]]
        res = dynamic_string_sampling(A, B, land, threshold=L0,
                                      lr=lr, steps=args.bead_steps, max_depth=args.max_depth,
                                      n_points=args.n_points, progress=not args.quiet)
        for q, s in enumerate(res.strings):
            at_target = int(np.sum(s.bead_loss[1:-1] <= s.settings["bead_fraction"] * L0))
            rows.append([task, name, L0, q, s.connected, s.verdict, s.n_beads, at_target,
                         s.depth, s.normalized_length, s.max_loss, s.bead_loss[0],
                         s.bead_loss[-1], res.seconds])
        log(f"  {task:9s} {name:16s} L0={L0:<7g} {int(res.connected.sum())}/{m} connected, "
            f"normalized length {np.mean(res.normalized_length):.3f}, beads "
            f"{np.mean(res.n_beads):.1f}, {res.seconds:.1f} s")
    return rows


def summarize(rows):
    """Means and spreads over the connected pairs of each level (the length of a string that
    did not connect is not a geodesic length), beside the all-pairs means."""
    col = {f: k for k, f in enumerate(ROW_FIELDS)}
    out = []
    keys = []
    for r in rows:
        k = (r[0], r[1], float(r[2]))
        if k not in keys:
            keys.append(k)
    for task, name, L0 in keys:
        sel = [r for r in rows if r[0] == task and r[1] == name and float(r[2]) == L0]
        con = np.array([str(r[col["connected"]]) == "True" for r in sel])
        nl = np.array([float(r[col["normalized_length"]]) for r in sel])
        nb = np.array([float(r[col["n_beads"]]) for r in sel])
        at = np.array([float(r[col["beads_at_target"]]) for r in sel])
        dp = np.array([float(r[col["depth"]]) for r in sel])
        c = con.any()
        out.append([task, name, L0, len(sel), int(con.sum()),
                    nl[con].mean() if c else float("nan"), nl[con].std() if c else float("nan"),
                    nb[con].mean() if c else float("nan"), nb[con].std() if c else float("nan"),
                    nb[con].max() if c else float("nan"), dp.mean(), nl.mean(), nb.mean(),
                    at.sum() / max(nb.sum(), 1), float(sel[0][col["call_seconds"]])])
    return out


def plot(summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for task, name in sorted({(s[0], s[1]) for s in summary}):
        sel = sorted([s for s in summary if s[0] == task and s[1] == name], key=lambda s: s[2])
        sel = [s for s in sel if s[4] > 0]          # levels with at least one connected pair
        L0 = [s[2] for s in sel]
        style = "-o" if name.startswith("sigmoid") else "--s"
        label = f"{task}, {name}"
        axes[0].errorbar(L0, [s[5] for s in sel], yerr=[s[6] for s in sel], fmt=style,
                         capsize=3, label=label)
        axes[1].errorbar(L0, [max(s[7], 0.1) for s in sel], yerr=[s[8] for s in sel],
                         fmt=style, capsize=3, label=label)
        for s in sel:
            if s[4] < s[3]:
                axes[1].annotate(f"{s[4]}/{s[3]}", (s[2], max(s[7], 0.1)), fontsize=7,
                                 textcoords="offset points", xytext=(4, -10))
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("loss level L0 (L1)")
        ax.invert_xaxis()
    axes[0].set_ylabel("normalized geodesic length")
    axes[1].set_ylabel("beads (0 drawn at 0.1); k/n: pairs connected")
    axes[0].legend(fontsize=7)
    fig.suptitle("Dynamic String Sampling on polynomial regression (Freeman & Bruna, Table 1): "
                 "means over connected pairs")
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv=None):
    args = build_parser().parse_args(argv)
    log = (lambda *a: None) if args.quiet else print
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "force", "no_plot",
                                                                   "quiet")}
    try:
        with OutputFolder(args.out, command="dss_polynomial", settings=settings,
                          force=args.force) as folder:
            rows_path = folder.path("dss_polynomial.csv")
            rows = [[r[f] for f in ROW_FIELDS] for r in _read_rows(rows_path)] \
                if folder.exists("dss_polynomial.csv") else []
            done = {(r[0], r[1]) for r in rows}
            for task in args.tasks:
                levels = args.levels_quadratic if task == "quadratic" else args.levels_cubic
                for name, arch, lr in _networks(args):
                    if (task, name) in done:
                        log(f"  {task} {name}: done in an earlier run")
                        continue
                    rows += run_cell(task, name, arch, lr, levels, args, log)
                    write_csv(rows_path, ROW_FIELDS, rows)
            write_csv(rows_path, ROW_FIELDS, rows)
            summary = summarize(rows)
            sum_path = folder.path("dss_polynomial_summary.csv")
            write_csv(sum_path, SUMMARY_FIELDS, summary)
            print(f"wrote {rows_path}")
            print(f"wrote {sum_path}")
            if not args.no_plot:
                try:
                    print(f"wrote {plot(summary, folder.path('dss_polynomial.png'))}")
                except ImportError:
                    print("matplotlib not installed: no figure")
    except TopoAnalysisError as exc:
        print(f"dss_polynomial: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
