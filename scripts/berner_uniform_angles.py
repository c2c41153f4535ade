"""Uniform-norm inverse stability against the angles between hyperplanes (Berner et al., A.4).

Measures the statement of Section A.4 of "How degenerate is the parametrization of neural
networks with the ReLU activation function?" (NeurIPS 2019): with a lower bound ``ω`` on the
angles between the hyperplanes, the realization map is inverse stable also for the uniform norm
on a bounded domain (here the unit ball), because ``|f|_{W^{1,∞}} ≤ C(ω) ||f||_{L^∞}`` for the
difference ``f`` of two realizations. For each pair we measure the smallest angle ``ω`` between
the distinct hyperplanes of both networks, ``C = |f|_{W^{1,∞}} / ||f||_{L^∞(B_1)}`` and the
uniform-norm ratio ``dist / ||f||_{L^∞}^{1/2}`` (balanced parametrizations):

* ``wedge``: two neurons at angle ``ω`` with opposite outputs, inside the restricted space,
  against the same neurons shrunk — ratio ``~ ω^{-1/2}``, ``C ~ 1/ω``;
* ``uniform``: Section 2's uniform-norm counterexample (angle ``~ 1/t²``);
* ``restricted:random-angles``: seeded random restricted pairs, and ``s(ω)``, the largest ratio
  over the pairs whose smallest angle is at least ``ω``.

Settings (source: our choice; the paper gives no experiment, the ``uniform`` family is its
Section 2 example): ``ω`` from 0.5 to 1e-3 rad, ``η = 1e-3``, ``t = 1 … 32``, 60 random pairs of
width 2, domain the unit ball.
Differs from the paper: our copy lacks Section A.4's formulas (the exact set of angles it bounds
and its constant); we bound the angles of the union of both networks' hyperplanes, which is what
its proof uses for ``f = g − R(Γ)``.

    python scripts/berner_uniform_angles.py --out figures/berner_uniform_angles
"""

import argparse

import numpy as np

from topoanalysis.degeneracy import (THEOREM_3_3_CONSTANT, measure_angle_bins,
                                     measure_family_angles, measure_wedge)
from topoanalysis.degeneracy.uniform_stability import ROW_HEADER
from topoanalysis.io import OutputFolder, save_figure, write_csv, write_json


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="berner_uniform_angles", help="output folder")
    parser.add_argument("--omegas", type=float, nargs="+",
                        default=[0.5, 0.2, 0.1, 0.03, 0.01, 0.003, 0.001])
    parser.add_argument("--ts", type=float, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--pairs", type=int, default=60, help="random restricted pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    settings = {k: getattr(args, k) for k in ("omegas", "ts", "pairs", "seed")}
    with OutputFolder(args.out, command="berner_uniform_angles", settings=settings,
                      force=args.force) as out:
        ms = [measure_wedge(args.omegas), measure_family_angles("uniform", args.ts),
              measure_angle_bins(args.pairs, seed=args.seed)]
        for m in ms:
            print(m.summary())
        rnd = ms[2]
        levels = [w for w in (0.3, 0.1, 0.03, 0.01, 0.003) if np.any(rnd.angle >= w)]
        s_w = {w: rnd.constant_above(w) for w in levels}
        wedge_s = {w: ms[0].constant_above(w) for w in levels}
        print("s(ω) = max uniform-norm ratio over pairs with smallest angle ≥ ω:")
        for w in levels:
            print(f"  ω ≥ {w:<6g} random restricted pairs {s_w[w]:.3g}, wedge family "
                  f"{wedge_s[w]:.3g}; reference s·ω^-1/2 = "
                  f"{THEOREM_3_3_CONSTANT / np.sqrt(w):.3g} (Theorem 3.3, s = 2√2, with C = 1/ω)")
        csv_path = write_csv(out.path("berner_uniform_angles.csv"), ROW_HEADER,
                             [r for m in ms for r in m.rows()])
        js = write_json(out.path("berner_uniform_angles.json"),
                        {"measurements": [m.to_dict() for m in ms],
                         "s_of_omega_random": {str(k): v for k, v in s_w.items()},
                         "s_of_omega_wedge": {str(k): v for k, v in wedge_s.items()},
                         "settings": settings})
        print(f"wrote {csv_path}\nwrote {js}")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no PNG written")
            return 0
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        for m, mk in zip(ms, "os^"):
            axes[0].loglog(m.angle, m.ratio_uniform, mk, ms=4, alpha=0.8,
                           label=m.name + (f" (slope {m.exponent:.2f})"
                                           if np.isfinite(m.exponent) else ""))
            axes[1].loglog(m.angle, m.sobolev_over_uniform, mk, ms=4, alpha=0.8, label=m.name)
        w = np.logspace(-3.2, 0, 20)
        axes[0].loglog(w, w ** -0.5, "k--", lw=1, label="ω^-1/2")
        axes[1].loglog(w, 1 / w, "k--", lw=1, label="1/ω")
        axes[0].set_ylabel("dist / ||dR||_inf^1/2")
        axes[1].set_ylabel("|dR|_W1inf / ||dR||_inf (unit ball)")
        for ax in axes:
            ax.set_xlabel("smallest angle between hyperplanes ω (rad)")
            ax.legend(fontsize=7)
        axes[0].set_title("uniform-norm inverse stability vs ω")
        axes[1].set_title("the constant C(ω) of the proof")
        fig.tight_layout()
        print(f"wrote {save_figure(fig, out.path('berner_uniform_angles.png'), dpi=110)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
