"""Probability of the topological obstruction at initialization over (d, l).

Reproduces Figure 5 of Nurisso, Leroy, Vaccarino, "Topological obstruction to the training of
shallow ReLU neural networks": heatmaps over the input dimension ``d`` and the number of
hidden neurons ``l`` for Xavier normal (left) and Kaiming normal (right) initialization,
scalar output (``e = 1``).

The paper does not state which event its heatmap shows. The default reading is
``all_pathological`` (every hidden neuron pathological, ``p^l``), which for ``e = 1`` and
``d >= 2`` is exactly the event that ``H(c)`` has more than one effective component; every
other event of :data:`topoanalysis.obstruction.probability.EVENTS` is written too. For
``d = 1`` without hidden biases ``c_k > 0`` freezes the sign of the one-dimensional ``w_k`` as
well, so "more than one effective component" is ``p^l + (1 − p)^l`` (event ``obstructed``), not ``p^l``: the
default ``--d-min`` is therefore 2 (pass ``--d-min 1`` for the ``d = 1`` row).

Settings and their source: the schemes (Xavier normal, Kaiming normal), scalar output and the
``(d, l)`` grid are the paper's (Figure 5); the probabilities are exact (closed form of the
per-neuron probability, :mod:`topoanalysis.obstruction.probability`), not sampled.
Differs from the paper: which event its heatmap shows is not stated (our default reading is
above; every event is written), and its grid's range is read off the figure.

Outputs (in ``--out``): ``obstruction_probability.csv`` (one row per scheme, d, l with the
per-neuron probability, its method and every event) and ``obstruction_<event>.png`` (one
figure per event, one panel per scheme; needs matplotlib, skipped with a message otherwise).

Example::

    python scripts/obstruction_probability.py --out results/figure5 --d-max 20 --l-max 20
"""

import argparse
import os
import sys

from topoanalysis.obstruction.probability import EVENTS, obstruction_grid, write_obstruction_outputs


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--d-min", type=int, default=2,
                   help="smallest input dimension (default 2: for d = 1 without biases "
                        "p^l is not the probability of obstruction, see 'obstructed')")
    p.add_argument("--d-max", type=int, default=20)
    p.add_argument("--l-min", type=int, default=1)
    p.add_argument("--l-max", type=int, default=20)
    p.add_argument("--e", type=int, default=1, help="output dimension (paper: 1)")
    p.add_argument("--schemes", nargs="+", default=["xavier_normal", "kaiming_normal"])
    p.add_argument("--events", nargs="+", default=list(EVENTS), choices=EVENTS)
    p.add_argument("--hidden-bias", action="store_true",
                   help="hidden biases (initialized to zero: w_k gains a coordinate)")
    p.add_argument("--method", default="auto",
                   choices=["auto", "closed_form", "quadrature", "monte_carlo"])
    p.add_argument("--samples", type=int, default=2000, help="Monte Carlo networks per cell")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log", action="store_true", help="color by log10 of the value")
    p.add_argument("--no-plot", action="store_true", help="write the CSV only")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.d_min < 1 or args.d_max < args.d_min or args.l_min < 1 or args.l_max < args.l_min:
        print("error: need 1 <= d-min <= d-max and 1 <= l-min <= l-max", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    d_values = range(args.d_min, args.d_max + 1)
    l_values = range(args.l_min, args.l_max + 1)
    grids = [obstruction_grid(d_values, l_values, args.e, scheme, events=args.events,
                              hidden_bias=args.hidden_bias, method=args.method,
                              n_samples=args.samples, seed=args.seed)
             for scheme in args.schemes]
    write_obstruction_outputs(grids, args.out, args.events, plot=not args.no_plot, log=args.log)
    return 0

if __name__ == "__main__":
    sys.exit(main())
