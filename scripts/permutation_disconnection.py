"""A disconnected level set: the lowest path from a network to its copy with two neurons swapped.

Freeman & Bruna, "Topology and geometry of half-rectified network optimization" (ICLR 2017),
Appendix E.1 / Figure 4: 3 points in R², target a cyclic permutation of them, a 2-3-2 ReLU
network without biases (12 parameters). ``θ`` and ``θ`` with hidden neurons 0 and 1 swapped
compute the same function; the paper's figure shows that the string between them does not
converge: every path between them rises above the level. Here, for every trained solution,
the lowest path we can find between the two copies and its height:

* the straight segment (its highest loss);
* Dynamic String Sampling (greedy, the authors' settings: first bead at ``t = 1/2``, beads
  trained to ``0.95 L0``, gaps accepted below ``1.1 L0``, 100 points, depth 10; beads trained
  to their target with the adaptive budget): verdict, beads and the highest loss on the string;
* a minimum-energy path: a climbing-image nudged elastic band
  (:func:`topoanalysis.levelsets.minimum_energy_path`) started from the DSS string, and one
  started from the straight segment; the lower of the two heights is reported as the lowest
  path found (its grid maximum, at or below the path's maximum, which bounds the true lowest
  barrier from above; a lower bound is not computed).

Symmetry alignment (:func:`topoanalysis.levelsets.aligned_barriers`) is reported only as the
check that it recovers the swap: after it the two ends coincide, so a barrier "after
alignment" would be 0 by construction and is not shown.

Settings: task, network and level from the paper (Appendix E.1); Adam with learning rate 1e-2
for the endpoints and beads, MSE level ``1e-3`` and the band's settings are our choices
(differs from the paper: the authors' E.1 code is not in their repository's launch scripts).

Outputs (in ``--out``): ``permutation_disconnection.csv`` (one row per solution),
``permutation_disconnection.png`` (loss along the three paths of the first solution; heights
of every solution) and ``strings/`` (the DSS strings).

Example::

    python scripts/permutation_disconnection.py --out results/permutation
"""

import argparse
import os
import sys

import numpy as np

from topoanalysis import Architecture, Landscape, Network, TopoAnalysisError
from topoanalysis.datasets import cyclic_permutation_task
from topoanalysis.dynamics import path_losses
from topoanalysis.io import OutputFolder, save_figure, write_csv
from topoanalysis.levelsets import (aligned_barriers, dynamic_string_sampling,
                                    minimum_energy_path, train_to_threshold)

FIELDS = ["network", "loss", "segment_height", "dss_verdict", "dss_failure", "dss_beads",
          "dss_depth", "dss_height", "dss_normalized_length", "neb_height_from_dss",
          "neb_height_from_segment", "lowest_height", "lowest_barrier", "neb_converged",
          "recovered_perm", "distance_after_alignment"]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--networks", type=int, default=5, help="solutions to test (default 5)")
    p.add_argument("--threshold", type=float, default=1e-3, help="L0 (MSE, default 1e-3)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 1e-2)")
    p.add_argument("--train-steps", type=int, default=20000)
    p.add_argument("--max-bead-steps", type=int, default=200000,
                   help="maximum steps of a bead (adaptive budget)")
    p.add_argument("--max-depth", type=int, default=10)
    p.add_argument("--images", type=int, default=32, help="pieces of the elastic band")
    p.add_argument("--neb-steps", type=int, default=3000)
    p.add_argument("--neb-lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--quiet", action="store_true")
    return p


def _curve(points, land, arch, ppe=11):
    pos, curve = path_losses(points, land.X, land.Y, arch=arch, loss=land.loss_name,
                             points_per_edge=ppe).along_path()
    return pos / max(pos[-1], 1e-300), curve[0]


def plot(rows, first, land, arch, threshold, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b, string, band = first
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for pts, label in ((np.stack([a, b]), "straight segment"), (string.beads, "DSS string"),
                       (band.images, "minimum-energy path (NEB)")):
        x, c = _curve(pts, land, arch, ppe=101 if len(pts) == 2 else 11)
        axes[0].plot(x, c, lw=1.2, label=f"{label}: max {c.max():.3g}")
    axes[0].axhline(1.1 * threshold, color="k", ls="--", lw=1, label="accept level 1.1 L0")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("position along the path (arc length, normalized)")
    axes[0].set_ylabel("MSE")
    axes[0].set_title("θ → θ with hidden neurons 0, 1 swapped", fontsize=10)
    axes[0].legend(fontsize=7)
    q = np.arange(len(rows))
    for k, (col, label) in enumerate(((2, "straight segment"), (7, "DSS string"),
                                      (11, "lowest path found (NEB)"))):
        axes[1].bar(q + (k - 1) * 0.27, [r[col] for r in rows], 0.27, label=label)
    axes[1].axhline(1.1 * threshold, color="k", ls="--", lw=1)
    axes[1].set_yscale("log")
    axes[1].set_xticks(q)
    axes[1].set_xlabel("solution")
    axes[1].set_ylabel("height of the path (highest MSE)")
    axes[1].set_title("every path rises far above the level", fontsize=10)
    axes[1].legend(fontsize=7)
    fig.suptitle("Freeman & Bruna, Appendix E.1: a disconnected level set (2-3-2 ReLU, "
                 "cyclic permutation task)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv=None):
    args = build_parser().parse_args(argv)
    log = (lambda *a: None) if args.quiet else print
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "force", "no_plot",
                                                                   "quiet")}
    try:
        with OutputFolder(args.out, command="permutation_disconnection", settings=settings,
                          force=args.force) as folder:
            ds = cyclic_permutation_task()
            arch = Architecture(2, (3,), 2, hidden_bias=False, output_bias=False)
            land = Landscape(arch, ds.X, ds.y, "mse")
            tr = train_to_threshold(arch, ds.X, ds.y, 4 * args.networks, args.threshold,
                                    lr=args.lr, steps=args.train_steps, seed=args.seed)
            ok = np.flatnonzero(tr.reached_target)[:args.networks]
            if ok.size == 0:
                print("permutation_disconnection: no network reached the threshold; raise "
                      "--train-steps or --threshold", file=sys.stderr)
                return 2
            nets = [Network(arch, tr.params[i]) for i in ok]
            swapped = [n.permute_neurons([1, 0, 2]) for n in nets]
            A = np.array([n.params for n in nets])
            B = np.array([n.params for n in swapped])
            res = dynamic_string_sampling(A, B, land, threshold=args.threshold, lr=args.lr,
                                          first_bead=True, max_steps=args.max_bead_steps,
                                          max_depth=args.max_depth, progress=not args.quiet)
            seg = land.interpolate(A, B, n_points=201)
            ab = aligned_barriers(nets, swapped, ds.X, ds.y)
            os.makedirs(folder.path("strings"), exist_ok=True)
            rows, first = [], None
            neb = dict(n_images=args.images, steps=args.neb_steps, lr=args.neb_lr)
            for q, i in enumerate(ok):
                s = res[q]
                s.save(folder.path(os.path.join("strings", f"network{i}.npz")))
                p1 = minimum_energy_path(A[q], B[q], land, init=s.beads, **neb)
                p2 = minimum_energy_path(A[q], B[q], land, **neb)
                best = p1 if p1.height <= p2.height else p2
                if first is None:
                    first = (A[q], B[q], s, best)
                rows.append([int(i), tr.final_loss[i], float(seg.loss[q].max()), s.verdict,
                             s.failure or "", s.n_beads_total, s.depth, s.max_loss,
                             s.normalized_length, p1.height, p2.height, best.height,
                             best.barrier(), bool(p1.converged and p2.converged),
                             " ".join(map(str, ab.perms[q])), ab.distance_after[q]])
                log(f"network {i}: loss {tr.final_loss[i]:.2e}; segment height "
                    f"{seg.loss[q].max():.3g}; DSS {s.verdict}"
                    f"{'' if s.failure is None else f' ({s.failure}-limited)'}, "
                    f"{s.n_beads_total} beads, height {s.max_loss:.3g}; lowest path (NEB) "
                    f"height {best.height:.3g}; alignment recovers {ab.perms[q].tolist()}")
            path = folder.path("permutation_disconnection.csv")
            write_csv(path, FIELDS, rows)
            print(f"wrote {path}")
            if not args.no_plot:
                try:
                    print(f"wrote {plot(rows, first, land, arch, args.threshold, folder.path('permutation_disconnection.png'))}")
                except ImportError:
                    print("matplotlib not installed: no figure")
    except TopoAnalysisError as exc:
        print(f"permutation_disconnection: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
