"""Dynamic String Sampling: the batched engine against a plain PyTorch greedy implementation.

Workload: Freeman & Bruna's quadratic regression (1000 points on [0, 1]), the paper's 1-4-4-1
sigmoid network, L1 loss, Adam (lr 1e-3), the authors' DSS settings (beads to 0.95 L0, gaps
accepted below 1.1 L0, 100 points, t* = 1/2, depth 10). Endpoints are trained once with the
engine and shared by both implementations.

- **engine**: :func:`topoanalysis.levelsets.dynamic_string_sampling` on 1 pair, then on 10
  pairs in one call (all gaps of a round checked in one engine call, all new beads of a round
  trained in one engine call);
- **torch**: the same greedy recursion written plainly in PyTorch (float64, CPU), one bead
  trained at a time with ``torch.optim.Adam`` as the authors did, the pairs one after another.

Every torch string is re-checked with the engine (its pieces evaluated on the same grid) so the
two implementations are compared on strings that are equally valid. Skipped cleanly when torch
is not installed.

    python benchmarks/dss.py [--pairs 10] [--level 0.01] [--out benchmarks/results]
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from topoanalysis import Architecture  # noqa: E402
from topoanalysis.datasets import polynomial_regression  # noqa: E402
from topoanalysis.dynamics import path_losses  # noqa: E402
from topoanalysis.io import write_csv  # noqa: E402
from topoanalysis.levelsets import dynamic_string_sampling, train_to_threshold  # noqa: E402

SETTINGS = dict(bead_fraction=0.95, accept_factor=1.1, n_points=100, max_depth=10, lr=1e-3,
                steps=5000)


# --- plain PyTorch greedy DSS -------------------------------------------------------------------
def torch_dss(arch, a, b, X, Y, L0, *, bead_fraction, accept_factor, n_points, max_depth, lr,
              steps):
    """The greedy algorithm, recursive, one bead at a time; returns (beads, connected)."""
    import torch

    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    shapes = [(W.shape, None if bb is None else bb.shape) for W, bb in arch.unpack(a)]
    ts = torch.linspace(0.0, 1.0, n_points, dtype=torch.float64)

    def forward(theta):
        h, k = Xt, 0
        for i, (ws, bs) in enumerate(shapes):
            n = ws[0] * ws[1]
            W = theta[k:k + n].view(ws)
            k += n
            h = h @ W.T
            if bs is not None:
                h = h + theta[k:k + bs[0]]
                k += bs[0]
            if i < len(shapes) - 1:
                h = torch.sigmoid(h) if arch.activation == "sigmoid" else torch.relu(h)
        return h

    def loss(theta):
        return (forward(theta) - Yt).abs().mean()

    def max_on_segment(p, q):
        with torch.no_grad():
            return max(float(loss((1 - t) * p + t * q)) for t in ts)

    def train_bead(theta):
        theta = theta.clone().requires_grad_(True)
        opt = torch.optim.Adam([theta], lr=lr)
        for _ in range(steps + 1):
            opt.zero_grad()
            v = loss(theta)
            if float(v.detach()) <= bead_fraction * L0:
                break
            v.backward()
            opt.step()
        return theta.detach()

    failed = [False]

    def connect(p, q, depth):
        if max_on_segment(p, q) < accept_factor * L0:
            return []
        if depth >= max_depth:
            failed[0] = True
            return []
        m = train_bead(0.5 * (p + q))
        left = connect(p, m, depth + 1)
        if failed[0]:
            return left + [m]
        return left + [m] + connect(m, q, depth + 1)

    pa, pb = torch.from_numpy(a.copy()), torch.from_numpy(b.copy())
    inner = connect(pa, pb, 0)
    beads = np.array([a] + [t.numpy() for t in inner] + [b])
    return beads, not failed[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=10)
    p.add_argument("--level", type=float, default=0.01)
    p.add_argument("--n-samples", type=int, default=1000)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "results"))
    p.add_argument("--no-torch", action="store_true")
    args = p.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)
        have_torch = not args.no_torch
    except ImportError:
        have_torch = False
        print("torch is not installed: engine timings only")

    ds = polynomial_regression("quadratic", n_samples=args.n_samples, seed=0)
    arch = Architecture(1, (4, 4), 1, activation="sigmoid")
    L0 = args.level
    tr = train_to_threshold(arch, ds.X, ds.y, 2 * args.pairs + 6, L0, loss="l1", lr=1e-3,
                            steps=40000, seed=0)
    ok = np.flatnonzero(tr.reached_target)
    if ok.size < 2 * args.pairs:
        print(f"only {ok.size} endpoints reached L0 = {L0}; lower --pairs or raise --level")
        return 2
    A, B = tr.params[ok[:args.pairs]], tr.params[ok[args.pairs:2 * args.pairs]]
    rows = []

    def record(impl, n_pairs, seconds, cpu, beads, connected):
        rows.append([impl, n_pairs, seconds, cpu, seconds / n_pairs, float(np.mean(beads)),
                     int(np.sum(connected))])
        print(f"{impl:28s} {n_pairs:3d} pairs  wall {seconds:8.2f} s  cpu {cpu:8.2f} s  "
              f"({seconds / n_pairs:6.2f} s/pair)  mean beads {np.mean(beads):5.1f}  "
              f"connected {int(np.sum(connected))}/{n_pairs}")

    for n in sorted({1, args.pairs}):
        t0, c0 = time.perf_counter(), time.process_time()
        res = dynamic_string_sampling(A[:n], B[:n], ds.X, ds.y, arch=arch, loss="l1",
                                      threshold=L0, progress=False, **SETTINGS)
        record("engine (batched)", n, time.perf_counter() - t0, time.process_time() - c0,
               res.n_beads, res.connected)
    if have_torch:
        for n in sorted({1, args.pairs}):
            t0, c0 = time.perf_counter(), time.process_time()
            beads, conn = [], []
            for q in range(n):
                s, c = torch_dss(arch, A[q], B[q], ds.X, ds.y, L0, **SETTINGS)
                # re-check the torch string with the engine
                pl = path_losses(s, ds.X, ds.y, arch=arch, loss="l1",
                                 points_per_edge=SETTINGS["n_points"])
                c = c and bool(pl.max_loss[0] < SETTINGS["accept_factor"] * L0)
                beads.append(s.shape[0] - 2)
                conn.append(c)
            record("torch (one bead at a time)", n, time.perf_counter() - t0,
                   time.process_time() - c0, beads, conn)
        for col, what in ((2, "wall"), (3, "cpu")):
            eng = {r[1]: r[col] for r in rows if r[0].startswith("engine")}
            tor = {r[1]: r[col] for r in rows if r[0].startswith("torch")}
            for n in sorted(eng):
                print(f"ratio torch / engine ({what} time), {n} pair(s): {tor[n] / eng[n]:.1f}x")
    os.makedirs(args.out, exist_ok=True)
    path = write_csv(os.path.join(args.out, "dss.csv"),
                     ["implementation", "pairs", "seconds", "cpu_seconds", "seconds_per_pair",
                      "mean_beads",
                      "connected"], rows)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
