"""Optimizing over the restricted space loses nothing (Berner, Elbrächter & Grohs, Corollary 1.4).

Reproduces the checkable content of Corollary 1.4 of "How degenerate is the parametrization of
neural networks with the ReLU activation function?" (NeurIPS 2019):

* **Claim 2** (the restricted problem is at least as good): every network of the unrestricted
  problem (biases, any weights) has a parametrization in the restricted space — input
  augmented to ``(x, 1, −1)``, C.1–C.3 — with the same realization
  (:func:`~topoanalysis.degeneracy.restricted_representative`, decisions exact); we map GD
  endpoints and compare losses (equal up to rounding), so ``inf`` over the restricted space
  ``≤ inf`` over the unrestricted one.
* **Training in the restricted space**: GD on the bias-free augmented networks, started from the
  restricted representatives of the same initial networks, reaches losses like unrestricted GD;
  we report the drift of the balance (GD conserves ``||a||² − c²`` only up to ``O(lr²)``), and
  whether C.3 still holds at the end (GD is not projected; the endpoints are re-balanced, which
  leaves the realization unchanged).
* **Claim 1** (local minima of the restricted problem are local minima of the realization
  problem, radius ``(r/2)²``) is Theorem 3.3 + Proposition 1.2: see
  ``scripts/berner_local_minima.py`` and ``scripts/inverse_stability.py``.

Settings (source: our choice; the paper has no experiment): 2-D inputs uniform in ``[−1, 1]²``,
``N = 64``, target ``sin(πx₁)·x₂``, width 8, 8 seeds, Kaiming-normal initialization, full-batch
GD, lr 0.05, 20000 steps, MSE.
Differs from the paper: the corollary is stated for the global minima and for local minima of
given radius; we compare GD endpoints (not certified minima) and the mapped networks.

    python scripts/berner_restricted_training.py --out figures/berner_restricted_training
"""

import argparse

import numpy as np

from topoanalysis.degeneracy import restricted_representative, restricted_space_membership
from topoanalysis.degeneracy.optimization import balanced
from topoanalysis.io import OutputFolder, save_figure, write_json


def run(width, seeds, steps, lr, n=64, seed=0):
    from topoanalysis import Architecture, Network
    from topoanalysis.degeneracy import augment_inputs
    from topoanalysis.dynamics.train import train

    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = (np.sin(np.pi * X[:, 0]) * X[:, 1])[:, None]
    Xa = augment_inputs(X, "c3")
    init = [Network.initialize(Architecture(2, (width,), 1), seed=s) for s in range(seeds)]
    unres = train(init, X, y, lr=lr, steps=steps, progress=False, seed=0)
    mapped = [restricted_representative(net, X, y) for net in unres.networks()]
    start = [restricted_representative(net, X, y) for net in init]
    # pad to a common width (an output bias adds a neuron) with zero neurons
    w = max(r.width for r in start)
    nets0 = []
    for r in start:
        A, C = np.asarray(r.network.weights[0]), np.asarray(r.network.weights[1]).T
        A = np.vstack([A, np.zeros((w - len(A), A.shape[1]))])
        C = np.vstack([C, np.zeros((w - len(C), 1))])
        nets0.append(Network.from_weights([A, C.T]))
    res = train(nets0, Xa, y, lr=lr, steps=steps, progress=False, seed=0)
    ends = [balanced(net) for net in res.networks()]
    members = [restricted_space_membership(net) for net in ends]
    drift = np.nanmax(np.abs(res.conserved_drift()), axis=(1, 2))
    # C.3 lost by unprojected GD is restored without changing the realization: fold
    # (w, u, v) on (x, 1, −1) back to (w, b = u − v) on x and augment again
    back = []
    for net in res.networks():
        A, C = np.asarray(net.weights[0]), np.asarray(net.weights[1])
        biased = Network.from_weights([A[:, :2], C], [A[:, 2] - A[:, 3], np.zeros(1)])
        back.append(restricted_representative(biased, X, y))
    return {"unrestricted_losses": [float(v) for v in unres.final_loss],
            "mapped_losses": [r.loss for r in mapped],
            "mapped_in_restricted": [r.in_restricted_space for r in mapped],
            "mapped_widths": [r.width for r in mapped],
            "restricted_start_losses": [r.loss for r in start],
            "restricted_losses": [float(v) for v in res.final_loss],
            "balance_drift": [float(v) for v in drift],
            "restricted_end_members": [m.in_restricted_space for m in members],
            "restricted_end_failing": [m.to_dict()["failing"] for m in members],
            "restricted_end_remapped_in": [b.in_restricted_space for b in back],
            "restricted_end_remapped_change": [abs(b.loss - float(v))
                                               for b, v in zip(back, res.final_loss)]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="berner_restricted_training", help="output folder")
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    settings = {k: getattr(args, k) for k in ("width", "seeds", "steps", "lr")}
    with OutputFolder(args.out, command="berner_restricted_training", settings=settings,
                      force=args.force) as out:
        r = run(args.width, args.seeds, args.steps, args.lr)
        u, m = np.array(r["unrestricted_losses"]), np.array(r["mapped_losses"])
        print(f"claim 2: {args.seeds} unrestricted GD endpoints (width {args.width}, biases) "
              f"mapped into the restricted space: all in it: {all(r['mapped_in_restricted'])}, "
              f"widths {sorted(set(r['mapped_widths']))}, max |loss change| "
              f"{np.max(np.abs(u - m)):.2g} (losses median {np.median(u):.3g}, min "
              f"{u.min():.3g})")
        rl = np.array(r["restricted_losses"])
        print(f"restricted GD from the same initial functions: losses median {np.median(rl):.3g}, "
              f"min {rl.min():.3g} (unrestricted: median {np.median(u):.3g}); balance drift max "
              f"{max(r['balance_drift']):.2g}; endpoints (re-balanced) in the restricted space: "
              f"{sum(r['restricted_end_members'])}/{args.seeds} (C.3 fails for the others: "
              f"GD is not projected); re-augmented: {sum(r['restricted_end_remapped_in'])}/"
              f"{args.seeds} with max |loss change| "
              f"{max(r['restricted_end_remapped_change']):.2g}")
        js = write_json(out.path("berner_restricted_training.json"),
                        dict(r, settings=settings))
        print(f"wrote {js}")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no PNG written")
            return 0
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.loglog(u, m, "o", label="unrestricted endpoint → restricted representative")
        ax.loglog(u, rl, "s", label="restricted GD (same initial function)")
        lim = [min(u.min(), rl.min()) / 2, max(u.max(), rl.max()) * 2]
        ax.loglog(lim, lim, "k--", lw=1)
        ax.set_xlabel("unrestricted GD loss")
        ax.set_ylabel("restricted loss")
        ax.set_title("Corollary 1.4: restricted is as good")
        ax.legend(fontsize=7)
        fig.tight_layout()
        print(f"wrote {save_figure(fig, out.path('berner_restricted_training.png'), dpi=110)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
