"""Local minima in parameter space vs realization space (Berner, Elbrächter & Grohs, NeurIPS 2019).

Reproduces the checkable content of Proposition 1.2 and Example A.1 of "How degenerate is the
parametrization of neural networks with the ReLU activation function?":

* **Example A.1** (unrestricted space, no inverse stability): an unbalanced ``Γ*`` is a local
  minimum of the MSE in parameter space — proven exactly (rationals) with radius 1/2 — while
  realizations ``g_k → R(Γ*)`` in ``W^{1,∞}`` have a smaller loss; the balanced parametrization
  of the same function is no local minimum.
* **Proposition 1.2** (restricted space, Theorem 3.3: ``(s, 1/2)`` inverse stable, ``s = 2√2``
  from the proof's bounds): for a trained, balanced ``Γ*`` inside the restricted space,
  realizations within ``(r/s)²`` of ``R(Γ*)`` in
  ``W^{1,∞}`` have parametrizations within ``r`` of ``Γ*`` (parameter distance measured exactly)
  and, as ``Γ*`` is (by sampling) a local minimum of radius ``r``, no smaller loss.

Settings (source): Example A.1's samples, labels and ``Γ*`` — our choice with the structure the
paper describes (its numbers are not in our text copy). Proposition 1.2: teacher–student data,
``N = 16`` inputs uniform in ``[−1, 1]²``, a width-2 restricted teacher, label noise 0.1, a
bias-free width-3 student with weights in the positive quadrant (C.3 without augmentation),
full-batch GD, lr 0.05, 20000 steps, radius ``r = 0.05`` — all our choice.
Differs from the paper: the paper states Proposition 1.2 and Example A.1 without an experiment;
the radius of a trained local minimum is sampled (evidence), not proven.

    python scripts/berner_local_minima.py --out figures/berner_local_minima
"""

import argparse

import numpy as np

from topoanalysis.degeneracy import (THEOREM_3_3_CONSTANT, example_a1, probe_local_minimum,
                                     probe_realizations, realization_radius,
                                     restricted_space_membership)
from topoanalysis.degeneracy.optimization import balanced
from topoanalysis.io import OutputFolder, save_figure, write_json


def trained_minimum(seed, n, width, steps, lr, noise):
    """A balanced GD endpoint of the teacher–student task (weights in the positive quadrant)."""
    from topoanalysis import Network
    from topoanalysis.dynamics.train import train

    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    At = np.abs(rng.normal(size=(2, 2))) + 0.1
    Ct = np.array([[1.0], [-1.0]])
    y = np.maximum(X @ At.T, 0) @ Ct + noise * rng.normal(size=(n, 1))
    A0 = (np.abs(rng.normal(size=(width, 2))) + 0.1) * 0.5
    C0 = rng.choice([-1.0, 1.0], size=(width, 1)) * np.linalg.norm(A0, axis=1, keepdims=True)
    net = Network.from_weights([A0, C0.T])
    res = train(net, X, y, lr=lr, steps=steps, progress=False, seed=seed)
    return balanced(res.networks()[0]), X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="berner_local_minima", help="output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=20000, help="GD steps (default 20000)")
    parser.add_argument("--radius", type=float, default=0.05, help="parameter radius r")
    parser.add_argument("--probes", type=int, default=2000, help="parameter-ball samples")
    parser.add_argument("--realizations", type=int, default=20,
                        help="realizations sampled within (r/s)^2")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    settings = {k: getattr(args, k) for k in ("seed", "steps", "radius", "probes", "realizations")}
    with OutputFolder(args.out, command="berner_local_minima", settings=settings,
                      force=args.force) as out:
        ex = example_a1()
        print("Example A.1 (unrestricted; our numbers):")
        print(ex.summary())
        probe = probe_local_minimum(ex.gamma_star, ex.X, ex.y, ex.radius, samples=args.probes,
                                    seed=args.seed)
        print("  " + probe.summary())
        print("\nProposition 1.2 (restricted space, Theorem 3.3 with s = 2√2 = "
              f"{THEOREM_3_3_CONSTANT:.4g}, alpha = 1/2):")
        star, X, y = trained_minimum(args.seed, 16, 3, args.steps, 0.05, 0.1)
        member = restricted_space_membership(star)
        print("  Γ*: " + member.summary())
        lp = probe_local_minimum(star, X, y, args.radius, samples=args.probes, seed=args.seed)
        print("  parameter space: " + lp.summary())
        delta = realization_radius(args.radius)
        rp = probe_realizations(star, X, y, delta, samples=args.realizations, seed=args.seed)
        print(f"  realization radius (r/s)^(1/alpha) = {delta:.4g}: " + rp.summary())
        ok = bool(np.all(rp.parameter <= args.radius) and np.all(rp.losses >= rp.loss - 1e-15))
        print(f"  consistent with Proposition 1.2: {ok} (all parameter distances ≤ r and no "
              "lower loss among the sampled realizations)")
        js = write_json(out.path("berner_local_minima.json"),
                        {"example_a1": ex.to_dict(), "example_a1_probe": probe.to_dict(),
                         "restricted_membership": member.to_dict(),
                         "parameter_probe": lp.to_dict(), "realization_probe": rp.to_dict(),
                         "consistent": ok, "settings": settings})
        print(f"wrote {js}")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no PNG written")
            return 0
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        ax = axes[0]
        ax.semilogx(ex.sequence_distances, ex.sequence_losses, "o-", label="L(g_k)")
        ax.axhline(ex.certificate.loss, color="k", ls="--",
                   label="L(Γ*) (local min. in parameters, r = 1/2)")
        ax.set_xlabel("|g_k − R(Γ*)|  W^{1,∞}")
        ax.set_ylabel("MSE")
        ax.set_title("Example A.1: not a local minimum of realizations")
        ax.legend(fontsize=7)
        ax = axes[1]
        ax.loglog(rp.sobolev, rp.parameter, "o", label="sampled restricted realizations")
        f = np.logspace(np.log10(max(rp.sobolev.min(), 1e-12)), np.log10(delta), 20)
        ax.loglog(f, THEOREM_3_3_CONSTANT * np.sqrt(f), "r-", label="2√2·|dR|^1/2 (Thm 3.3)")
        ax.axhline(args.radius, color="k", ls="--", label=f"r = {args.radius:g}")
        ax.set_xlabel("|g − R(Γ*)|  W^{1,∞}")
        ax.set_ylabel("parameter distance (balanced)")
        ax.set_title("Proposition 1.2: within (r/s)² ⇒ within r")
        ax.legend(fontsize=7)
        fig.tight_layout()
        print(f"wrote {save_figure(fig, out.path('berner_local_minima.png'), dpi=110)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
