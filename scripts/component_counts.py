"""Components, effective components and Betti numbers of H(c) at initialization.

Table for Nurisso, Leroy, Vaccarino, "Topological obstruction to the training of shallow ReLU
neural networks" (Theorem 1: ``b_0(H(c)) = 2^{l_-}`` for scalar output; effective components;
the ``l_-`` distribution behind Figure 5), extended to several output dimensions ``e``: for
every scheme, ``(d, l, e)`` and every possible number ``l_-`` of pathological neurons, the
exact number of components (Künneth, :mod:`topoanalysis.symbolic.quadrics`), of effective
components (counted on the component graph, :mod:`topoanalysis.graphs.components`), the
Betti numbers, the exact probability ``Binomial(l, p)`` and the frequency among seeded sampled
initializations (:func:`topoanalysis.init.init_params`).

Settings and their source: the counts are the paper's statements (Theorem 1 and the
effective components of its Section 4) evaluated exactly; the grid of ``(d, l, e)``, the
number of sampled initializations and the seed are our choices (a table, not a figure of the
paper; ``e > 1`` extends it).

Outputs (in ``--out``): ``component_counts.csv`` (one row per scheme, d, l, e, l_-) and
``component_summary.csv`` (one row per scheme, d, l, e: sampled means beside the exact
expectations).

Example::

    python scripts/component_counts.py --out results/components --samples 1000
"""

import argparse
import functools
import os
import sys

import numpy as np

from topoanalysis.io import write_csv
from topoanalysis import Architecture
from topoanalysis.graphs import (component_graph, number_effective_components,
                                 quotient_component_graph, sign_pattern)
from topoanalysis.init import init_params
from topoanalysis.network import conserved_quantities
from topoanalysis.obstruction.probability import event_probability, l_minus_distribution, \
    pathological_probability
from topoanalysis.symbolic.quadrics import invariant_set_topology

COUNT_FIELDS = ["scheme", "d", "l", "e", "hidden_bias", "l_minus", "l_plus", "n_components",
                "n_effective_components", "betti_numbers", "poincare_polynomial",
                "probability", "sampled_count", "sampled_frequency", "n_samples"]
SUMMARY_FIELDS = ["scheme", "d", "l", "e", "hidden_bias", "p", "n_samples",
                  "mean_components_sampled", "expected_components",
                  "mean_effective_sampled", "expected_effective_components",
                  "frac_obstructed_sampled", "obstructed", "frac_disconnected_sampled",
                  "disconnected"]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--d", type=int, nargs="+", default=[1, 2, 3, 5])
    p.add_argument("--l", type=int, nargs="+", default=[1, 2, 3, 4, 6])
    p.add_argument("--e", type=int, nargs="+", default=[1, 2])
    p.add_argument("--schemes", nargs="+", default=["xavier_normal", "kaiming_normal"])
    p.add_argument("--samples", type=int, default=500, help="initializations per cell")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden-bias", action="store_true",
                   help="hidden biases (initialized to zero: w_k gains a coordinate)")
    return p


@functools.lru_cache(maxsize=None)
def exact_counts(l_plus, l_minus, dim_w, e):
    """Components (Künneth), effective components (graph) and Betti numbers."""
    signs = sign_pattern(l_plus, l_minus)
    H = invariant_set_topology(signs, dim_w, e)
    frozen = (l_minus if e == 1 else 0) + (l_plus if dim_w == 1 else 0)
    G = component_graph(signs, dim_w, e) if frozen <= 12 else \
        quotient_component_graph(signs, dim_w, e)
    return (int(H.n_components), number_effective_components(G),
            [int(b) for b in H.betti_numbers], str(H.poincare_polynomial.as_expr()))


def main(argv=None):
    args = build_parser().parse_args(argv)
    if min(args.d + args.l + args.e) < 1 or args.samples < 1:
        print("error: d, l, e and samples must be >= 1", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    counts_path = os.path.join(args.out, "component_counts.csv")
    summary_path = os.path.join(args.out, "component_summary.csv")
    cell = 0
    count_rows, summary_rows = [], []
    if True:  # rows gathered, then each CSV written atomically by topoanalysis.io
        for scheme in args.schemes:
            for d in args.d:
                for l in args.l:
                    for e in args.e:
                        arch = Architecture(d, (l,), e, hidden_bias=args.hidden_bias)
                        dim_w = d + int(args.hidden_bias)
                        theta = init_params(arch, scheme, seed=args.seed + cell,
                                            n_networks=args.samples)
                        cell += 1
                        c = conserved_quantities(arch, theta)
                        lm = (c < 0).sum(axis=1)
                        hist = np.bincount(lm, minlength=l + 1)
                        p = float(pathological_probability(d, l, e, scheme,
                                                           hidden_bias=args.hidden_bias).p)
                        pmf = l_minus_distribution(l, p)
                        table = {m: exact_counts(l - m, m, dim_w, e) for m in range(l + 1)}
                        base = dict(scheme=scheme, d=d, l=l, e=e, hidden_bias=args.hidden_bias)
                        for m in range(l + 1):
                            n_comp, n_eff, betti, poly = table[m]
                            count_rows.append(dict(
                                base, l_minus=m, l_plus=l - m, n_components=n_comp,
                                n_effective_components=n_eff,
                                betti_numbers=" ".join(map(str, betti)),
                                poincare_polynomial=poly, probability=float(pmf[m]),
                                sampled_count=int(hist[m]),
                                sampled_frequency=float(hist[m]) / args.samples,
                                n_samples=args.samples))
                        comp = np.array([table[m][0] for m in lm], dtype=float)
                        eff = np.array([table[m][1] for m in lm], dtype=float)

                        def ev(name):
                            return float(event_probability(p, l, name, dimension_w=dim_w, e=e))
                        summary_rows.append(dict(
                            base, p=p, n_samples=args.samples,
                            mean_components_sampled=comp.mean(),
                            expected_components=ev("expected_components"),
                            mean_effective_sampled=eff.mean(),
                            expected_effective_components=ev("expected_effective_components"),
                            frac_obstructed_sampled=float(np.mean(eff > 1)),
                            obstructed=ev("obstructed"),
                            frac_disconnected_sampled=float(np.mean(comp > 1)),
                            disconnected=ev("disconnected")))
    write_csv(counts_path, COUNT_FIELDS, [[r[k] for k in COUNT_FIELDS] for r in count_rows])
    write_csv(summary_path, SUMMARY_FIELDS,
              [[r[k] for k in SUMMARY_FIELDS] for r in summary_rows])
    print(f"wrote {counts_path}")
    print(f"wrote {summary_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
