"""Timing and table of :func:`topoanalysis.symbolic.conservation_laws` (issue 17).

Runs (1) every architecture the README's examples use, (2) all shallow ReLU networks with
``d, l, e ≤ 6`` (biases), (3) deep ReLU networks with two and three hidden layers of widths
``≤ 3`` (``d = 3, e = 1`` and ``d = 2, e = 2``), on ``--workers`` processes (default 2), and
prints the wall time of each group, the markdown table of the README architectures and every
disagreement (incomplete result, or a count different from the number of conserved quadratic
forms).

    python benchmarks/conservation_laws.py [--workers 2] [--json PATH]
"""

import argparse
import itertools
import json
import time
from concurrent.futures import ProcessPoolExecutor

README = [
    ((30, (6,), 1), dict()),                                        # analyze, breast cancer
    ((2, (3,), 1), dict(hidden_bias=False)),                        # components example
    ((2, (10,), 1), dict(hidden_bias=False, output_bias=False)),    # training / flow
    ((2, (5,), 1), dict(hidden_bias=False, output_bias=False)),     # level sets
    ((2, (3,), 2), dict(hidden_bias=False, output_bias=False)),     # degeneracy
    ((3, (3,), 2), dict()),                                         # symbolic example
    ((3, (3,), 2), dict(activation="tanh")),
    ((2, (2,), 1), dict()),
    ((2, (3,), 2), dict()),                                         # cyclic permutation task
    ((1, (3,), 1), dict(activation="linear", hidden_bias=False, output_bias=False)),  # "surprise"
    ((1, (3,), 1), dict(hidden_bias=False, output_bias=False)),     # 1-D, region +++
    ((3, (3,), 2), dict(activation="linear")),
    ((2, (4,), 1), dict(activation="sigmoid")),
    ((2, (3, 3), 1), dict()),
    ((3, (3, 3, 3), 1), dict()),
    ((3, (3, 3), 1), dict(activation="linear")),
]


def _one(job):
    from topoanalysis.symbolic import conservation_laws

    (d, hidden, e), kw = job
    t, c = time.perf_counter(), time.process_time()
    r = conservation_laws(d, hidden, e, **kw)
    return {"cpu_seconds": time.process_time() - c, "arch": r.architecture, "D": r.n_params, "dim_lie": r.lie_dimension,
            "count": r.count, "found": r.n_found, "quadratic": r.quadratic_count,
            "complete": r.complete, "seconds": time.perf_counter() - t,
            "published": _published(d, hidden, e, kw)}


def _published(d, hidden, e, kw):
    act = kw.get("activation", "relu")
    if len(hidden) == 1 and act in ("relu", "leaky_relu", "abs") and (
            d >= 2 or kw.get("hidden_bias", True)):
        return hidden[0]     # Marcotte et al. 2023: the ||w_k||² − ||a_k||² are all the laws
    if act in ("tanh", "sigmoid"):
        return None
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    groups = {
        "README architectures": README,
        "shallow ReLU d,l,e <= 6": [((d, (l,), e), {}) for d, l, e in
                                    itertools.product(range(1, 7), repeat=3)],
        "deep ReLU, 2-3 hidden layers of width <= 3": [
            ((d, h, e), {}) for d, e in ((3, 1), (2, 2))
            for depth in (2, 3) for h in itertools.product(range(1, 4), repeat=depth)],
    }
    out, total = {}, 0.0
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(_one, README[:2]))      # warm the workers' imports
        for name, jobs in groups.items():
            t = time.perf_counter()
            rows = list(pool.map(_one, jobs, chunksize=4))
            wall = time.perf_counter() - t
            total += wall
            out[name] = {"wall_seconds": wall, "rows": rows}
            bad = [r for r in rows if not r["complete"] or r["count"] != r["quadratic"]]
            cpu = sum(r["cpu_seconds"] for r in rows)
            print(f"{name}: {len(rows)} architectures, {wall:.1f} s wall on {args.workers} "
                  f"workers ({cpu:.1f} s CPU in the workers); all complete: "
                  f"{all(r['complete'] for r in rows)}")
            for r in bad:
                print(f"   count {r['count']} vs {r['quadratic']} quadratic forms, "
                      f"complete={r['complete']}: {r['arch']}")
    print(f"total {total:.1f} s wall")
    print("\n| architecture | D | dim Lie | laws | found | quadratic forms | complete | time | "
          "published |\n|---|---|---|---|---|---|---|---|---|")
    for r in out["README architectures"]["rows"]:
        print(f"| {r['arch']} | {r['D']} | {r['dim_lie']} | {r['count']} | {r['found']} | "
              f"{r['quadratic']} | {'yes' if r['complete'] else 'no'} | "
              f"{r['seconds']:.2f} s | {r['published'] if r['published'] is not None else '—'} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
