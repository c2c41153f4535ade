"""A disconnected level set: a network and its copy with two hidden neurons swapped.

Freeman & Bruna, "Topology and geometry of half-rectified network optimization" (ICLR 2017),
Appendix E.1 / Figure 4: 3 points in R², target a cyclic permutation of them, a 2-3-2 ReLU
network without biases (12 parameters). The string between a solution ``θ`` and ``θ`` with
hidden neurons 0 and 1 swapped does not converge (Dynamic String Sampling with the authors'
settings ends "not connected within budget"); after symmetry alignment
(:func:`topoanalysis.symmetry.align`) the two endpoints are the same point, the swap is
recovered and the barrier is 0.

Outputs (in ``--out``): ``permutation_disconnection.csv`` (one row per trained solution) and
``permutation_disconnection.png`` (loss along the failed string and along the straight
segment).

Example::

    python scripts/permutation_disconnection.py --out results/permutation
"""

import argparse
import sys

import numpy as np

from topoanalysis import Architecture, Network, TopoAnalysisError
from topoanalysis.datasets import cyclic_permutation_task
from topoanalysis.dynamics import interpolate, path_losses
from topoanalysis.io import OutputFolder, save_figure, write_csv
from topoanalysis.levelsets import aligned_barriers, dynamic_string_sampling, train_to_threshold

FIELDS = ["network", "loss", "linear_barrier", "dss_verdict", "dss_beads", "dss_depth",
          "dss_max_loss", "dss_normalized_length", "recovered_perm", "distance_after_alignment",
          "aligned_barrier", "aligned_dss_verdict", "aligned_dss_beads"]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--networks", type=int, default=5, help="solutions to test (default 5)")
    p.add_argument("--threshold", type=float, default=1e-3, help="L0 (MSE, default 1e-3)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 1e-2)")
    p.add_argument("--train-steps", type=int, default=20000)
    p.add_argument("--bead-steps", type=int, default=5000)
    p.add_argument("--max-depth", type=int, default=10)
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
        with OutputFolder(args.out, command="permutation_disconnection", settings=settings,
                          force=args.force) as folder:
            ds = cyclic_permutation_task()
            arch = Architecture(2, (3,), 2, hidden_bias=False, output_bias=False)
            tr = train_to_threshold(arch, ds.X, ds.y, 4 * args.networks, args.threshold,
                                    lr=args.lr, steps=args.train_steps, seed=args.seed)
            ok = np.flatnonzero(tr.reached_target)[:args.networks]
            if ok.size == 0:
                print("permutation_disconnection: no network reached the threshold; raise "
                      "--train-steps or --threshold", file=sys.stderr)
                return 2
            nets = [Network(arch, tr.params[i]) for i in ok]
            swapped = [n.permute_neurons([1, 0, 2]) for n in nets]
            dss = dict(threshold=args.threshold, lr=args.lr, steps=args.bead_steps,
                       max_depth=args.max_depth, progress=not args.quiet)
            res = dynamic_string_sampling(nets, swapped, ds.X, ds.y, **dss)
            ab = aligned_barriers(nets, swapped, ds.X, ds.y)
            res_al = dynamic_string_sampling(ab.reference_params, ab.aligned_params, ds.X, ds.y,
                                             arch=arch, **dss)
            rows = []
            for q, i in enumerate(ok):
                s, sa = res[q], res_al[q]
                rows.append([int(i), tr.final_loss[i], ab.barrier_linear[q], s.verdict,
                             s.n_beads, s.depth, s.max_loss, s.normalized_length,
                             " ".join(map(str, ab.perms[q])), ab.distance_after[q],
                             ab.barrier_aligned[q], sa.verdict, sa.n_beads])
                print(f"network {i}: loss {tr.final_loss[i]:.2e}; swapped copy: {s.verdict} "
                      f"({s.n_beads} beads, depth {s.depth}, max loss {s.max_loss:.3g}); "
                      f"aligned: perm {ab.perms[q].tolist()}, distance "
                      f"{ab.distance_after[q]:.1e}, barrier {ab.barrier_aligned[q]:.1e}, "
                      f"{sa.verdict}")
            path = folder.path("permutation_disconnection.csv")
            write_csv(path, FIELDS, rows)
            print(f"wrote {path}")
            if not args.no_plot:
                try:
                    import matplotlib
                    matplotlib.use("Agg")
                    import matplotlib.pyplot as plt
                except ImportError:
                    print("matplotlib not installed: no figure")
                    return 0
                fig, axes = plt.subplots(1, 2, figsize=(11, 4))
                s = res[0]
                pos, curve = path_losses(s.beads, ds.X, ds.y, arch=arch,
                                         points_per_edge=11).along_path()
                axes[0].plot(pos / max(pos[-1], 1), curve[0], lw=1, label="string")
                lin = interpolate(nets[0], swapped[0], ds.X, ds.y, n_points=201)
                axes[0].plot(lin.ts, lin.loss[0], lw=1, label="straight segment")
                axes[0].axhline(1.1 * args.threshold, color="k", ls="--", lw=1,
                                label="accept level")
                axes[0].set_yscale("log")
                axes[0].set_xlabel("position along the path (normalized)")
                axes[0].set_ylabel("MSE")
                axes[0].set_title(f"θ → θ with neurons 0, 1 swapped: {s.verdict}")
                axes[0].legend(fontsize=8)
                q = np.arange(len(rows))
                axes[1].bar(q - 0.2, ab.barrier_linear, 0.4, label="before alignment")
                axes[1].bar(q + 0.2, np.maximum(ab.barrier_aligned, 1e-18), 0.4,
                            label="after alignment")
                axes[1].set_yscale("log")
                axes[1].set_xlabel("solution")
                axes[1].set_ylabel("barrier above the chord")
                axes[1].legend(fontsize=8)
                fig.tight_layout()
                print(f"wrote {save_figure(fig, folder.path('permutation_disconnection.png'))}")
    except TopoAnalysisError as exc:
        print(f"permutation_disconnection: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
