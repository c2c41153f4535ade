"""Inverse stability of shallow ReLU networks, measured (Berner, Elbrächter & Grohs).

Reproduces the message of Sections 2–3 of "How degenerate is the parametrization of neural
networks with the ReLU activation function?" (NeurIPS 2019) as a measurement: the parameter
distance ``min |Θ − Γ'|_∞`` over the parametrizations of ``R(Γ)`` (permutation, rescaling and,
for the opposite-pair families, the re-pairing of Lemma A.5; certified lower bound from the kink
lines of ``R(Γ)``, exact where the two meet), against the exact ``W^{1,∞}`` distance
``|R(Γ) − R(Θ)|_{W^{1,∞}}`` (regions and norms decided in rational arithmetic):

* panel 1, log-log scatter: pairs inside the restricted space (C.1–C.3; random, moved outputs,
  tiny neurons, nearly coinciding hyperplanes) stay below ``dist ≤ s·|dR|^{1/2}``; pairs along
  the counterexample families (unrestricted space) do not, with fitted exponents in the legend;
* one panel per counterexample family (Section 2: unbalanced, redundant, opposite, nearly
  cancelling opposite pairs, and the uniform-norm failure): the ratio
  ``dist / |dR|^{1/2}`` along the family parameter ``t`` (and with the uniform norm on the
  unit ball).

Beside each exponent the script measures the *constant* (issue 15): ``max dist / |dR|^{1/2}``
over the balanced parametrizations Theorem 3.3 asks for, compared with ``s = 2√2`` (the proof's
case bounds, Appendix A.3.2, as we re-derive them; the matched case alone gives 2), including the adversarial
``flipped`` pairs (ratio √2), a seeded random search over restricted pairs and a seeded hill
climb (``adversarial_constant``); the constants go to ``constants.json`` and the scatter panel
draws ``dist = 2√2·|dR|^{1/2}``.

Settings: ``ts``, ``etas``, ``seeds``, ``dim``, ``width``, ``search``, ``adversarial`` are our
choice; the families and their parameters ``t`` are the paper's Section 2 examples.
Differs from the paper: the paper has no experiment (its statements are proven); ``s = 2√2`` is
our re-derivation from the proof of Theorem 3.3 (the formula is not in our text copy, nor in any
source we could reach: docs/guide/berner.md, "Sources"). The norms are ours too: the Euclidean
gradient norm in ``W^{1,∞}``, Euclidean balance ``|c| = ||a||`` and the max-entry parameter
distance; ``constants.json`` also gives the exact pair's ratio with the largest partial derivative
as the gradient norm and over all (not only balanced) parametrizations.

Writes ``inverse_stability.csv`` (one row per pair), ``constants.json`` and
``inverse_stability.png`` to ``--out``.

    python scripts/inverse_stability.py --out figures/inverse_stability
"""

import argparse

import numpy as np

from topoanalysis.degeneracy import (FAMILIES, RESTRICTED_KINDS, THEOREM_3_3_CONSTANT,
                                     adversarial_constant, matched_case_counterexample,
                                     measure_family, measure_flipped, measure_restricted,
                                     parameter_distance, search_constant, sobolev_distance,
                                     stability_constant)
from topoanalysis.degeneracy.stability import ROW_HEADER
from topoanalysis.degeneracy.theory import _convention_ratios
from topoanalysis.io import OutputFolder, save_figure, write_csv, write_json


def run(ts, etas, seeds, dim, width, search=40):
    families = [measure_family(f, ts) for f in FAMILIES]
    restricted = [measure_restricted(k, etas, dim=dim, width=width, seeds=seeds)
                  for k in RESTRICTED_KINDS]
    restricted.append(measure_flipped(etas, dim=dim, seeds=seeds))
    if search >= 2:
        restricted.append(search_constant(search, dim=dim, width=2, seed=0))
    return families, restricted


def figure(families, restricted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = 1 + len(families)
    cols = 3
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 3.6 * rows))
    axes = np.atleast_1d(axes).ravel()
    ax = axes[0]
    for m, marker in zip(restricted, "os^v<>"):
        exp = f", exp. {m.exponent:.2f}" if np.isfinite(m.exponent) else ""
        ax.loglog(m.sobolev_distance, m.parameter_distance, marker, ms=4, alpha=0.7,
                  label=f"restricted {m.name.split(':')[1]} "
                        f"(constant {m.max_ratio_balanced:.2g}{exp})")
    for m, marker in zip([m for m in families if m.name != "uniform"], "x+1234"):
        ax.loglog(m.sobolev_distance, m.parameter_distance, marker + "-", ms=6, alpha=0.8,
                  label=f"{m.name} (exponent {m.exponent:.2f})")
    f = np.logspace(-5, 1, 20)
    ax.loglog(f, f ** 0.5, "k--", lw=1, label="dist = |dR|^1/2")
    ax.loglog(f, THEOREM_3_3_CONSTANT * f ** 0.5, "r-", lw=1,
              label="Theorem 3.3: dist = 2√2·|dR|^1/2 (proof's bounds)")
    ax.set_xlabel("|R(Γ) − R(Θ)|  W^{1,∞}")
    ax.set_ylabel("min |Θ − Γ'|∞")
    ax.set_title("restricted vs unrestricted space")
    ax.set_ylim(top=ax.get_ylim()[1] * 3e4)
    ax.legend(fontsize=5, loc="upper left")
    for ax, m in zip(axes[1:], families):
        ax.loglog(m.t, m.ratio, "o-", label="W^{1,∞}: dist/|dR|^1/2")
        if m.parameter_lower is not None and np.any(m.parameter_lower < m.parameter_distance):
            lo = m.ratio * m.parameter_lower / np.maximum(m.parameter_distance, 1e-300)
            ax.fill_between(m.t, lo, m.ratio, alpha=0.25, label="certified bounds (not exact)")
        ax.loglog(m.t, m.ratio_uniform, "s--", label="uniform (unit ball)")
        exact = "" if m.parameter_exact is None or np.all(m.parameter_exact) else \
            f" ({int(np.sum(m.parameter_exact))}/{len(m.t)} exact)"
        ax.set_title(f"{m.name}: exponent {m.exponent:.2f}{exact}", fontsize=9)
        ax.set_xlabel("family parameter t")
        ax.set_ylabel("ratio")
        ax.legend(fontsize=7)
    for ax in axes[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="inverse_stability", help="output folder")
    parser.add_argument("--ts", type=float, nargs="+", default=[1, 2, 4, 8, 16, 32, 64, 128],
                        help="family parameters t (default 1 ... 128)")
    parser.add_argument("--etas", type=float, nargs="+",
                        default=[0.3, 0.1, 0.03, 0.01, 0.003, 0.001],
                        help="perturbation sizes inside the restricted space")
    parser.add_argument("--seeds", type=int, default=8, help="random pairs per size (default 8)")
    parser.add_argument("--dim", type=int, default=3,
                        help="input dimension of the restricted pairs (default 3)")
    parser.add_argument("--width", type=int, default=5, help="width of the restricted pairs")
    parser.add_argument("--search", type=int, default=40,
                        help="random restricted pairs searched for the constant (0: none)")
    parser.add_argument("--adversarial", type=int, default=4,
                        help="restarts of the adversarial hill climb for the constant (0: none)")
    parser.add_argument("--adversarial-iterations", type=int, default=150,
                        help="moves per restart of the hill climb (default 150)")
    parser.add_argument("--force", action="store_true", help="reuse a folder with other settings")
    args = parser.parse_args(argv)
    settings = {k: getattr(args, k) for k in ("ts", "etas", "seeds", "dim", "width", "search",
                                                  "adversarial", "adversarial_iterations")}
    with OutputFolder(args.out, command="inverse_stability", settings=settings,
                      force=args.force) as out:
        families, restricted = run(args.ts, args.etas, args.seeds, args.dim, args.width,
                                   args.search)
        rows = [r for m in families + restricted for r in m.rows()]
        csv_path = write_csv(out.path("inverse_stability.csv"), ROW_HEADER, rows)
        for m in families + restricted:
            print(m.summary())
            print(f"    reason: {m.reason}")
        print(f"wrote {csv_path}")
        print(f"constants (Theorem 3.3: s = 2√2 = {THEOREM_3_3_CONSTANT:.4g} from the proof's case "
              "bounds, alpha = 1/2, on the restricted space; the families lie outside it):")
        consts = [stability_constant(m) for m in families + restricted]
        for c in consts:
            print("  " + c.summary())
        adv = None
        if args.adversarial > 0:
            adv = adversarial_constant(restarts=args.adversarial,
                                       iterations=args.adversarial_iterations, seed=0)
            print("  " + adv.summary())
        theta, gamma = matched_case_counterexample()
        d, pd = sobolev_distance(theta, gamma), parameter_distance(theta, gamma)
        mc = {"sobolev": d.value, "sobolev_exact": d.exact, "parameter": pd.value_balanced,
              "ratio": pd.value_balanced / d.value ** 0.5,
              "conventions": _convention_ratios(theta, gamma)}
        print(f"  matched_case_counterexample (restricted, exact): dist {mc['parameter']:.4g}, "
              f"|dR| {mc['sobolev']:.4g}, ratio {mc['ratio']:.4f} > 2 (the matched case alone), "
              f"< 2√2")
        cv = mc["conventions"]
        print(f"    other norm conventions: largest partial derivative as gradient norm "
              f"{cv['ratio_linf_balanced']:.4f}; over all (unbalanced too) parametrizations "
              f"{cv['ratio_l2_any']:.4f}")
        js = write_json(out.path("constants.json"),
                        {"stated": {"s": THEOREM_3_3_CONSTANT, "alpha": 0.5,
                                    "source": ("re-derived from the proof's case bounds; the printed formula "
                                               "was not reachable (docs/guide/berner.md, Sources)")},
                         "measured": [c.to_dict() for c in consts],
                         "adversarial": None if adv is None else adv.to_dict(),
                         "matched_case_counterexample": mc})
        print(f"wrote {js}")
        try:
            fig = figure(families, restricted)
        except ImportError:
            print("matplotlib is not installed (pip install 'topoanalysis[plot]'): no PNG written")
            return 0
        png = save_figure(fig, out.path("inverse_stability.png"), dpi=110)
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
