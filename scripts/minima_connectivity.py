"""Connectivity of many minima of a shallow ReLU network on the breast cancer data.

After Freeman & Bruna, "Topology and geometry of half-rectified network optimization" (ICLR
2017), Section 2 (level sets become connected with overparametrization) and the
energy-landscape literature's disconnectivity graphs: ``N`` networks (default 50) trained from
independent initializations (Adam, BCE) at a comfortable width and at a narrow width; barriers
on the straight segment between every two of them before and after symmetry alignment
(balance + weight matching, :func:`topoanalysis.symmetry.align`); the number of components of
the level-set graph against the threshold; the disconnectivity tree. Optionally
(``--strings``) Dynamic String Sampling between a subset of pairs at a level.

Settings and their source: not a figure of the paper (its Section 2 is a theorem; its
experiments are the DSS ones, ``scripts/dss_polynomial.py``); data, widths, optimizer, number
of networks, thresholds and seeds are our choices, each a flag.

Outputs (in ``--out``): ``minima_connectivity_pairs.csv`` (one row per width and pair),
``minima_connectivity_components.csv`` (width, kind, threshold, components),
``minima_connectivity_summary.csv`` (one row per width), ``minima_connectivity.png``
(barriers before/after, component curves) and ``tree_l<width>.png`` (disconnectivity tree of
the best known paths: the lower of the linear and aligned segment maxima).

Example::

    python scripts/minima_connectivity.py --out results/minima_connectivity
"""

import argparse
import sys

import numpy as np

from topoanalysis import Architecture, TopoAnalysisError
from topoanalysis.datasets import load_breast_cancer
from topoanalysis.dynamics import train
from topoanalysis.graphs import component_counts, disconnectivity_tree, plot_disconnectivity_tree
from topoanalysis.init import init_params
from topoanalysis.io import OutputFolder, save_figure, write_csv
from topoanalysis.levelsets import pairwise_barriers

SUMMARY_FIELDS = ["width", "n_minima", "loss_min", "loss_median", "loss_max",
                  "linear_barrier_mean", "linear_barrier_median", "aligned_barrier_mean",
                  "aligned_barrier_median", "drop_mean", "frac_pairs_barrier_below_0.01_linear",
                  "frac_pairs_barrier_below_0.01_aligned", "root_level_linear",
                  "root_level_aligned", "root_level_best", "strings_connected", "strings_pairs",
                  "seconds"]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--minima", type=int, default=50, help="networks per width (default 50)")
    p.add_argument("--widths", type=int, nargs="+", default=[8, 2],
                   help="hidden widths (default 8 and the narrow 2)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    p.add_argument("--steps", type=int, default=2000, help="training steps")
    p.add_argument("--n-points", type=int, default=51, help="points per segment")
    p.add_argument("--strings", type=int, default=0,
                   help="also run DSS between this many pairs (aligned), at the level --level")
    p.add_argument("--level", type=float, default=None,
                   help="L0 of the strings (default: the highest loss among the minima)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "force", "no_plot",
                                                                   "quiet")}
    try:
        with OutputFolder(args.out, command="minima_connectivity", settings=settings,
                          force=args.force) as folder:
            data = load_breast_cancer(seed=args.seed)
            X, y = data.X_train, data.y_train
            pair_rows, comp_rows, summary, results = [], [], [], {}
            for width in args.widths:
                arch = Architecture(X.shape[1], (width,), 1)
                tr = train(init_params(arch, seed=args.seed, n_networks=args.minima), X, y,
                           arch=arch, loss="bce", optimizer="adam", lr=args.lr,
                           steps=args.steps, record_conserved=False, progress=not args.quiet)
                P = tr.params[~tr.diverged]
                bm = pairwise_barriers(P, X, y, arch=arch, loss="bce", align=True,
                                       n_points=args.n_points, progress=not args.quiet)
                results[width] = bm
                N = bm.n_minima
                iu, ju = np.triu_indices(N, 1)
                sc = None
                if args.strings:
                    from topoanalysis.levelsets import dynamic_string_sampling

                    level = args.level if args.level is not None else float(bm.node_loss.max())
                    rng = np.random.default_rng(args.seed)
                    pick = rng.choice(iu.size, size=min(args.strings, iu.size), replace=False)
                    from topoanalysis.symmetry import align as _align
                    from topoanalysis.network import Network

                    A, B = [], []
                    for k in pick:
                        r = _align(Network(arch, P[iu[k]]), Network(arch, P[ju[k]]))
                        A.append(r.reference.params)
                        B.append(r.network.params)
                    res = dynamic_string_sampling(np.array(A), np.array(B), X, y, arch=arch,
                                                  loss="bce", threshold=level, lr=args.lr,
                                                  steps=1000, progress=not args.quiet)
                    sc = (int(res.connected.sum()), len(pick))
                for i, j in zip(iu, ju):
                    pair_rows.append([width, i, j, bm.linear_barrier[i, j], bm.linear_max[i, j],
                                      bm.aligned_barrier[i, j], bm.aligned_max[i, j],
                                      bm.drop[i, j]])
                for kind, M in (("linear", bm.linear_max), ("aligned", bm.aligned_max)):
                    t, c = component_counts(M, node_loss=bm.node_loss)
                    comp_rows += [[width, kind, tt, cc] for tt, cc in zip(t, c)]
                lb, ab = bm.linear_barrier[iu, ju], bm.aligned_barrier[iu, ju]
                roots = []
                for M in (bm.linear_max, bm.aligned_max, bm.path_max):
                    T = disconnectivity_tree(M, bm.node_loss)
                    roots.append(T.nodes[T.graph["root"]]["level"])
                summary.append([width, N, bm.node_loss.min(), np.median(bm.node_loss),
                                bm.node_loss.max(), lb.mean(), np.median(lb), ab.mean(),
                                np.median(ab), (lb - ab).mean(), np.mean(lb < 0.01),
                                np.mean(ab < 0.01), roots[0], roots[1], roots[2],
                                sc[0] if sc else None, sc[1] if sc else None, bm.seconds])
                print(f"width {width}: {N} minima, BCE {bm.node_loss.min():.3g}..."
                      f"{bm.node_loss.max():.3g}; barrier median {np.median(lb):.3g} -> "
                      f"{np.median(ab):.3g} after alignment; all joined at {roots[0]:.3g} "
                      f"(linear), {roots[1]:.3g} (aligned), {roots[2]:.3g} (best of both)"
                      + (f"; strings {sc[0]}/{sc[1]} connected" if sc else ""))
            files = []
            for name, header, rows in (
                    ("minima_connectivity_pairs.csv",
                     ["width", "i", "j", "linear_barrier", "linear_max", "aligned_barrier",
                      "aligned_max", "drop"], pair_rows),
                    ("minima_connectivity_components.csv",
                     ["width", "kind", "threshold", "components"], comp_rows),
                    ("minima_connectivity_summary.csv", SUMMARY_FIELDS, summary)):
                files.append(write_csv(folder.path(name), header, rows))
            if not args.no_plot:
                try:
                    import matplotlib
                    matplotlib.use("Agg")
                    import matplotlib.pyplot as plt
                except ImportError:
                    plt = None
                if plt is not None:
                    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
                    for width, bm in results.items():
                        iu, ju = np.triu_indices(bm.n_minima, 1)
                        bins = np.logspace(-6, 1.5, 40)
                        axes[0].hist(np.maximum(bm.linear_barrier[iu, ju], 1e-6), bins=bins,
                                     histtype="step", label=f"l={width} linear")
                        axes[0].hist(np.maximum(bm.aligned_barrier[iu, ju], 1e-6), bins=bins,
                                     histtype="step", ls="--", label=f"l={width} aligned")
                        for kind, M, ls in (("linear", bm.linear_max, "-"),
                                            ("aligned", bm.aligned_max, "--")):
                            t, c = component_counts(M, node_loss=bm.node_loss)
                            axes[1].step(t, c, where="post", ls=ls, label=f"l={width} {kind}")
                    axes[0].set_xscale("log")
                    axes[0].set_xlabel("barrier above the chord (BCE)")
                    axes[0].set_ylabel("pairs")
                    axes[0].legend(fontsize=7)
                    axes[1].set_xscale("log")
                    axes[1].set_xlabel("threshold λ (BCE)")
                    axes[1].set_ylabel("components of the level-set graph")
                    axes[1].legend(fontsize=7)
                    fig.tight_layout()
                    files.append(save_figure(fig, folder.path("minima_connectivity.png")))
                    for width, bm in results.items():
                        T = bm.disconnectivity_tree()
                        fig = plot_disconnectivity_tree(
                            T, log=True, title=f"breast cancer, l={width}: best of linear and "
                                               f"aligned segments")
                        files.append(save_figure(fig, folder.path(f"tree_l{width}.png")))
            for f in files:
                print(f"wrote {f}")
    except TopoAnalysisError as exc:
        print(f"minima_connectivity: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
