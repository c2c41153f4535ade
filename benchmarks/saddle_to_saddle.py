"""Time the saddle-to-saddle runs of Wu, Simsek & Ged on the engine, against plain loops.

The workload of ``scripts/saddle_to_saddle.py``: the 5-point 1-D task (bias appended), a width-50
ReLU network, ``σ = 50^{-3}``, full-batch gradient descent with learning rate ``1e-3``, squared
loss, ``6·10^5`` steps, loss recorded every 1000 steps. Timed:

* ``engine 1 seed``   — :func:`topoanalysis.dynamics.train`, one network;
* ``engine N seeds``  — the same for ``--seeds`` networks in one call;
* ``numpy loop``      — a plain NumPy loop (one network), timed on ``--baseline-steps`` steps and
  scaled to the full run;
* ``torch loop``      — a plain PyTorch loop (float64, ``nn.Sequential`` + ``optim.SGD``, one
  network), the authors' kind of code, timed the same way — only when PyTorch is installed
  (skipped with a message otherwise).

Every baseline's loss after its steps is checked against the engine's run of the same length.

    python benchmarks/saddle_to_saddle.py                   # full (a few minutes on 2 cores)
    python benchmarks/saddle_to_saddle.py --steps 60000 --seeds 10   # quick
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from topoanalysis import Architecture  # noqa: E402
from topoanalysis.datasets import wu_five_point_regression  # noqa: E402
from topoanalysis.dynamics import train  # noqa: E402
from topoanalysis.init import init_params  # noqa: E402


def numpy_loop(arch, theta, X, Y, lr, steps):
    (W1, _), (W2, _) = arch.unpack(theta.copy())
    W1, W2 = W1.copy(), W2.copy()
    N = X.shape[0]
    for _ in range(steps):
        Z = X @ W1.T
        H = np.maximum(Z, 0)
        R = 2 * (H @ W2.T - Y) / N
        gW2 = R.T @ H
        gW1 = ((R @ W2) * (Z > 0)).T @ X
        W1 -= lr * gW1
        W2 -= lr * gW2
    return float(np.mean((np.maximum(X @ W1.T, 0) @ W2.T - Y) ** 2))


def torch_loop(arch, theta, X, Y, lr, steps):
    import torch

    (W1, _), (W2, _) = arch.unpack(theta)
    model = torch.nn.Sequential(torch.nn.Linear(W1.shape[1], W1.shape[0], bias=False,
                                                dtype=torch.float64), torch.nn.ReLU(),
                                torch.nn.Linear(W2.shape[1], W2.shape[0], bias=False,
                                                dtype=torch.float64))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(np.array(W1)))
        model[2].weight.copy_(torch.from_numpy(np.array(W2)))
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    lossf = torch.nn.MSELoss()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(Xt), Yt)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(lossf(model(Xt), Yt))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=600_000)
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--baseline-steps", type=int, default=20_000)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    d = wu_five_point_regression(with_bias_column=True)
    arch = Architecture(2, (50,), 1, hidden_bias=False, output_bias=False)
    theta = init_params(arch, "normal", seed=0, std=50 ** -3, n_networks=args.seeds)
    rows = []

    def engine(B, steps):
        t = time.perf_counter()
        res = train(theta[:B], d.X, d.y, arch=arch, lr=1e-3, steps=steps,
                    record_every=1000, progress=False, n_threads=args.threads)
        return time.perf_counter() - t, res

    t1, _ = engine(1, args.steps)
    rows.append(("engine 1 seed", args.steps, t1, t1))
    tn, _ = engine(args.seeds, args.steps)
    rows.append((f"engine {args.seeds} seeds (one call)", args.steps, tn, tn))
    bs = min(args.baseline_steps, args.steps)
    _, ref = engine(1, bs)
    t = time.perf_counter()
    val = numpy_loop(arch, theta[0], d.X, d.y, 1e-3, bs)
    tb = time.perf_counter() - t
    assert abs(val - ref.final_loss[0]) <= 1e-10 * max(1.0, abs(val)), (val, ref.final_loss[0])
    rows.append(("numpy loop, 1 seed", bs, tb, tb * args.steps / bs))
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch not installed: torch loop skipped")
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        t = time.perf_counter()
        val = torch_loop(arch, theta[0], d.X, d.y, 1e-3, bs)
        tt = time.perf_counter() - t
        assert abs(val - ref.final_loss[0]) <= 1e-8 * max(1.0, abs(val)), (val, ref.final_loss[0])
        rows.append(("torch loop, 1 seed", bs, tt, tt * args.steps / bs))
    print(f"{'implementation':34s} {'steps timed':>11} {'seconds':>9} {'full run (s)':>12}")
    for name, steps, secs, full in rows:
        print(f"{name:34s} {steps:>11d} {secs:>9.2f} {full:>12.2f}")
    print("(the machine may be shared: compare rows of one run)")
    return rows


if __name__ == "__main__":
    main()
