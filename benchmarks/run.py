"""Throughput of the topoanalysis engine against batched NumPy and PyTorch.

Usage::

    python benchmarks/run.py            # full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # fewer steps, pairs and repeats (under a minute)
    python benchmarks/run.py --only train --repeat 5 --out /tmp/bench

Writes ``benchmark.csv`` and ``benchmark.md`` (``benchmark-quick.*`` with ``--quick``) to
``benchmarks/results/`` (or ``--out``) and prints the Markdown table.

Workloads (breast cancer training split, 455 x 30, BCE with logits, ReLU with biases):

* training: full-batch gradient descent, ``lr = 0.1``, loss recorded at every step by every
  implementation; shallow widths l = 2, 6, 9, 64 with B = 100 networks, B = 1 (latency) and a
  net with two hidden layers (16, 16);
* interpolation: loss and accuracy at 100 points on each of 1,000 segments between pairs of
  networks (l = 6). The first layer's pre-activations are affine in the parameters, so the
  engine (and the NumPy baseline) compute them at the two ends of a segment and mix them at
  each point; the FLOP column still counts direct evaluation.

Every implementation's result is checked against the engine's (parameters or losses to 1e-8
relative) before it is timed; the table's ``check`` column shows it. Times are the best of
``--repeat`` runs. FLOP counts (matrix products only, see ``common.train_step_flops``):
``2 N (2 M + M_1)`` per network-step and ``2 N M`` per evaluation, with ``M = Σ n_in·n_out``
and ``M_1`` the same sum without the first layer.
"""

import argparse
import csv
import datetime
import os
import platform
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import topoanalysis  # noqa: F401
except ImportError:  # running from a source checkout without installation
    sys.path.insert(0, os.path.dirname(HERE))

from common import (architecture, best_time, eval_flops, initial_params,  # noqa: E402
                    load_workload, train_step_flops)
from numpy_baseline import (NumpyGD, NumpyStackedGD, numpy_interpolation,  # noqa: E402
                            numpy_interpolation_mixed)

from topoanalysis.dynamics import interpolate, train  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

LR = 0.1


def cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def close(a, b, rtol=1e-8):
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), 1e-300))


def train_rows(name, hidden, B, steps, X, y, repeat, torch_subset, stacked=False):
    arch = architecture(hidden)
    theta = initial_params(arch, B)
    flops = train_step_flops(arch, X.shape[0])
    rows = []

    def add(impl, threads, seconds, n_nets, ok, note=""):
        rate = n_nets * steps / seconds
        rows.append(dict(workload=name, implementation=impl, threads=threads, networks=n_nets,
                         steps=steps, seconds=seconds, rate=rate, gflops=rate * flops / 1e9,
                         check="ok" if ok else "MISMATCH", note=note))

    def engine(n):
        return train(theta, X, y, arch=arch, loss="bce", optimizer="gd", lr=LR, steps=steps,
                     record_every=1, record_conserved=False, progress=False, n_threads=n)

    ref = engine(1)
    for n in ((1,) if B == 1 else (1, 2)):
        sec, res = best_time(lambda: engine(n), repeat)
        ok = np.array_equal(res.params, ref.params)
        add("engine", n, sec, B, ok)

    def numpy_run():
        g = NumpyGD(arch, theta, X, y, LR)
        return g, g.run(steps)

    sec, (g, curves) = best_time(numpy_run, repeat)
    ok = close(g.params(), ref.params) and close(curves, ref.loss[:, :steps])
    add("numpy batched (GEMM/matmul)", "BLAS", sec, B, ok)

    if stacked:
        def stacked_run():
            g = NumpyStackedGD(arch, theta, X, y, LR)
            return g, g.run(steps)

        sec, (g, curves) = best_time(stacked_run, repeat)
        ok = close(g.params(), ref.params) and close(curves, ref.loss[:, :steps])
        add("numpy stacked matmul (B,N,d)x(B,d,l)", "BLAS", sec, B, ok,
            "straightforward form, not the baseline")

    if torch is not None:
        from torch_baseline import torch_batched, torch_eager
        torch.set_num_threads(2)
        sub = min(B, torch_subset)
        sec, (p, c) = best_time(lambda: torch_eager(arch, theta[:sub], X, y, LR, steps),
                                1 if sub < B else repeat)
        ok = close(p, ref.params[:sub]) and close(c, ref.loss[:sub, :steps])
        note = f"timed on {sub} of the {B} networks" if sub < B else ""
        add("pytorch eager, one network at a time", 2, sec, sub, ok, note)
        if B > 1:
            sec, (p, c) = best_time(lambda: torch_batched(arch, theta, X, y, LR, steps), repeat)
            ok = close(p, ref.params) and close(c, ref.loss[:, :steps])
            add("pytorch batched (bmm)", 2, sec, B, ok)
    return rows


def interp_rows(name, hidden, pairs, points, X, y, repeat):
    arch = architecture(hidden)
    A = initial_params(arch, pairs, seed=1)
    B = initial_params(arch, pairs, seed=2)
    ts = np.linspace(0.0, 1.0, points)
    flops = eval_flops(arch, X.shape[0]) + 3 * arch.n_params
    rows = []

    def add(impl, threads, seconds, ok, note="rate = evaluations/s"):
        rate = pairs * points / seconds
        rows.append(dict(workload=name, implementation=impl, threads=threads, networks=pairs,
                         steps=points, seconds=seconds, rate=rate, gflops=rate * flops / 1e9,
                         check="ok" if ok else "MISMATCH", note=note))

    ref = interpolate(A, B, X, y, arch=arch, loss="bce", ts=ts, n_threads=1)
    for n in (1, 2):
        sec, res = best_time(lambda: interpolate(A, B, X, y, arch=arch, loss="bce", ts=ts,
                                                 n_threads=n), repeat)
        add("engine", n, sec, np.array_equal(res.loss, ref.loss))
    sec, (lo, ac) = best_time(lambda: numpy_interpolation_mixed(arch, A, B, ts, X, y), repeat)
    add("numpy batched (GEMM/matmul)", "BLAS", sec,
        close(lo, ref.loss) and np.array_equal(ac, ref.accuracy),
        "first layer mixed from the ends, as the engine")
    sec, (lo, ac) = best_time(lambda: numpy_interpolation(arch, A, B, ts, X, y), repeat)
    add("numpy direct (every point's network stacked into GEMMs)", "BLAS", sec,
        close(lo, ref.loss) and np.array_equal(ac, ref.accuracy), "not the baseline")
    return rows


def add_speedups(rows):
    base = {r["workload"]: r["rate"] for r in rows
            if r["implementation"].startswith("numpy batched")}
    for r in rows:
        r["vs_numpy"] = r["rate"] / base[r["workload"]] if r["workload"] in base else float("nan")
    return rows


def markdown(rows, header):
    lines = header + [
        "",
        "| workload | implementation | threads | time [s] | network-steps/s | GFLOP/s | "
        "vs NumPy | check |",
        "|---|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        impl = r["implementation"] + (f" ({r['note']})" if r["note"] else "")
        lines.append(
            f"| {r['workload']} | {impl} | {r['threads']} | {r['seconds']:.3f} | "
            f"{r['rate']:,.0f} | {r['gflops']:.2f} | {r['vs_numpy']:.1f}x | {r['check']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="50 steps, 100 pairs, one repeat (a smoke run)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed runs per measurement, best kept (default 3; quick 1)")
    parser.add_argument("--only", choices=("train", "interpolate"), default=None)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--out", default=os.path.join(HERE, "results"),
                        help="folder for benchmark.csv / benchmark.md")
    args = parser.parse_args(argv)
    global torch
    if args.no_torch:
        torch = None
    repeat = args.repeat or (1 if args.quick else 3)
    steps = 50 if args.quick else 200
    pairs = 100 if args.quick else 1000
    torch_subset = 5 if args.quick else 20
    X, y, source = load_workload()

    rows = []
    if args.only in (None, "train"):
        configs = [
            ("shallow l=6, B=100 (target)", (6,), 100),
            ("shallow l=2, B=100", (2,), 100),
            ("shallow l=9, B=100", (9,), 100),
            ("shallow l=64, B=100", (64,), 100),
            ("latency: shallow l=6, B=1", (6,), 1),
            ("2 hidden layers (16, 16), B=100", (16, 16), 100),
        ]
        for i, (name, hidden, B) in enumerate(configs):
            print(f"training: {name} ...", flush=True)
            rows += train_rows(name, hidden, B, steps, X, y, repeat, torch_subset,
                               stacked=i == 0)
    if args.only in (None, "interpolate"):
        name = f"interpolation: {pairs} pairs x 100 points, l=6"
        print(f"{name} ...", flush=True)
        rows += interp_rows(name, (6,), pairs, 100, X, y, repeat)
    add_speedups(rows)

    header = [
        f"# topoanalysis engine benchmark{' (quick)' if args.quick else ''}",
        "",
        f"- date: {datetime.date.today().isoformat()}; machine: {cpu_name()}, "
        f"{os.cpu_count()} logical cores; Python {platform.python_version()}, "
        f"NumPy {np.__version__}" + (f", PyTorch {torch.__version__}" if torch else
                                     ", PyTorch not installed"),
        f"- data: {source}; BCE with logits, ReLU with biases, full-batch GD lr={LR}, "
        f"{steps} steps, loss recorded every step; best of {repeat} run(s)",
        "- network-steps/s: networks x steps / time (interpolation: evaluations/s); GFLOP/s "
        "from matrix products only: 2N(2M + M_1) per network-step, 2NM per evaluation "
        "(M = sum of n_in*n_out over layers, M_1 without the first layer); for interpolation "
        "these are the FLOPs of direct evaluation, while the engine and the NumPy baseline "
        "compute the first layer at the two ends of each segment only and mix it per point",
    ]
    table = markdown(rows, header)
    os.makedirs(args.out, exist_ok=True)
    stem = "benchmark-quick" if args.quick else "benchmark"
    csv_path = os.path.join(args.out, stem + ".csv")
    md_path = os.path.join(args.out, stem + ".md")
    fields = ["workload", "implementation", "threads", "networks", "steps", "seconds", "rate",
              "gflops", "vs_numpy", "check", "note"]
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    with open(md_path, "w") as fh:
        fh.write(table)
    print()
    print(table)
    print(f"wrote {csv_path}\nwrote {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
