"""Wall time of Dynamic String Sampling on a reduced polynomial sweep (before/after Landscape).

The reduced sweep of ``scripts/dss_polynomial.py`` (Freeman & Bruna 2017, Table 1): the
quadratic task, the 1-4-4-1 sigmoid network, L1 loss, Adam; endpoints trained to each level
(not timed), then one batched DSS call per level and method (timed). The same loose call
``dynamic_string_sampling(A, B, X, y, arch=..., loss=...)`` runs on any version of the package,
so running this file with ``PYTHONPATH`` pointing at an older checkout gives the "before".

Example::

    python benchmarks/dss_landscape.py --repeat 2
"""

import argparse
import json
import time

import numpy as np

from topoanalysis import Architecture
from topoanalysis.datasets import polynomial_regression
from topoanalysis.dynamics import train
from topoanalysis.init import init_params
from topoanalysis.levelsets import dynamic_string_sampling


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", type=float, nargs="+", default=[0.05, 0.02])
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--bead-steps", type=int, default=2000)
    p.add_argument("--methods", nargs="+", default=["greedy", "constrained"])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    ds = polynomial_regression("quadratic", n_samples=500, seed=0)
    arch = Architecture(1, (4, 4), 1, activation="sigmoid")
    theta = init_params(arch, "xavier_normal", seed=0, n_networks=2 * args.pairs + 2)
    out = []
    for L0 in args.levels:
        tr = train(theta, ds.X, ds.y, arch=arch, loss="l1", optimizer="adam", lr=1e-3,
                   steps=40000, target_loss=L0, record_conserved=False, record_every=40000,
                   progress=False, n_threads=args.threads)
        theta = tr.params
        ok = np.flatnonzero(tr.reached_target)
        m = min(args.pairs, ok.size // 2)
        if m == 0:
            continue
        A, B = theta[ok[:m]], theta[ok[m:2 * m]]
        for method in args.methods:
            best = np.inf
            for _ in range(args.repeat):
                tic = time.perf_counter()
                res = dynamic_string_sampling(A, B, ds.X, ds.y, arch=arch, loss="l1",
                                              threshold=L0, lr=1e-3, steps=args.bead_steps,
                                              method=method, progress=False,
                                              n_threads=args.threads)
                best = min(best, time.perf_counter() - tic)
            row = dict(L0=L0, method=method, pairs=m, seconds=round(best, 3),
                       beads=int(res.n_beads.sum()), rounds=res.rounds,
                       connected=int(res.connected.sum()))
            print(json.dumps(row), flush=True)
            out.append(row)
    print(json.dumps({"total_seconds": round(sum(r["seconds"] for r in out), 3)}))


if __name__ == "__main__":
    main()
