"""A 101 × 101 loss surface of a width-64 network: topoanalysis against plain NumPy and JAX.

The workload of Li et al.'s pictures (and of the ``loss-landscapes`` package): a 2-D slice
``L(θ0 + α u + β v)`` along filter-normalized random directions, here on the bundled breast
cancer training data (455 × 30, BCE) for a 30-64-1 ReLU network (2,049 parameters), grid
``101 × 101`` over ``[-1, 1]²`` (10,201 networks).

Peers on the same grid, same directions, same loss:

* ``topoanalysis``: :func:`topoanalysis.levelsets.random_slice` — the grid as one ``(B, P)``
  stack evaluated by the compiled engine;
* ``numpy``: the stack in chunks of 64 networks, ``einsum`` layers (float64);
* ``jax``: ``jit(vmap(loss))`` over chunks of 1,024 networks (float64, CPU), compile time
  excluded;
* ``loss-landscapes`` (PyPI ``loss-landscapes`` 3.0.6) is a PyTorch library (it evaluates a
  ``torch.nn.Module`` point by point); PyTorch is not installed on this machine (a multi-GB
  download), so it is not run here and the plain NumPy / JAX grids stand in for it. With torch
  and ``loss-landscapes`` installed, ``--loss-landscapes`` runs its
  ``random_plane(..., normalization="filter")`` on the same network and data too (its own random
  directions, so only the timing and the value range compare).

Prints one JSON line per peer (seconds, best of ``--repeat``; max relative difference from the
topoanalysis grid). Example::

    python benchmarks/slices.py --repeat 3
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from topoanalysis import Architecture, Landscape, Network  # noqa: E402
from topoanalysis.datasets import load_breast_cancer  # noqa: E402
from topoanalysis.levelsets import random_slice  # noqa: E402


def _bce(o, y):
    return np.maximum(o, 0) - o * y + np.log1p(np.exp(-np.abs(o)))


def numpy_grid(arch, P, X, Y, chunk=64):
    out = np.empty(P.shape[0])
    for i0 in range(0, P.shape[0], chunk):
        (W1, b1), (W2, b2) = arch.unpack(P[i0:i0 + chunk])
        H = np.maximum(np.einsum("bld,nd->bnl", W1, X) + b1[:, None, :], 0.0)
        O = np.einsum("bnl,bel->bne", H, W2) + b2[:, None, :]
        out[i0:i0 + chunk] = _bce(O, Y[None]).mean(axis=(1, 2))
    return out


def jax_grid(arch, P, X, Y, chunk=1024):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    sl = arch.layer_slices
    (w1, b1), (w2, b2) = sl
    l, d = arch.layer_shape(0)

    def loss(theta):
        W1 = theta[w1].reshape(l, d)
        W2 = theta[w2].reshape(1, l)
        h = jnp.maximum(X @ W1.T + theta[b1], 0.0)
        o = h @ W2.T + theta[b2]
        return jnp.mean(jnp.maximum(o, 0) - o * Y + jnp.log1p(jnp.exp(-jnp.abs(o))))

    f = jax.jit(jax.vmap(loss))
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    f(jnp.asarray(P[:chunk])).block_until_ready()      # compile, untimed

    def run():
        return np.concatenate([np.asarray(f(jnp.asarray(P[i:i + chunk])))
                               for i in range(0, P.shape[0], chunk)])
    return run


def best(fn, repeat):
    t, out = np.inf, None
    for _ in range(repeat):
        tic = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - tic)
    return t, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=101)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-jax", action="store_true")
    p.add_argument("--loss-landscapes", action="store_true")
    args = p.parse_args(argv)
    ds = load_breast_cancer(seed=0)
    X, Y = ds.X_train, ds.y_train.reshape(-1, 1).astype(float)
    arch = Architecture(X.shape[1], (args.width,), 1)
    land = Landscape(arch, X, Y, "bce", n_threads=args.threads)
    net = Network.initialize(arch, seed=0)

    t_ta, s = best(lambda: random_slice(land, net, n=args.n, seed=0), args.repeat)
    ref = s.loss.ravel()
    P = s.parameters()
    rows = [{"peer": "topoanalysis", "seconds": round(t_ta, 4), "grid": [args.n, args.n],
             "n_params": arch.n_params, "threads": args.threads or "all"}]
    t_np, out = best(lambda: numpy_grid(arch, P, X, Y), args.repeat)
    rows.append({"peer": "numpy", "seconds": round(t_np, 4),
                 "max_rel_diff": float(np.max(np.abs(out - ref) / np.abs(ref))),
                 "ratio": round(t_np / t_ta, 2)})
    if not args.no_jax:
        try:
            run = jax_grid(arch, P, X, Y)
        except ImportError:
            rows.append({"peer": "jax", "skipped": "jax not installed"})
        else:
            t_jx, out = best(run, args.repeat)
            rows.append({"peer": "jax", "seconds": round(t_jx, 4),
                         "max_rel_diff": float(np.max(np.abs(out - ref) / np.abs(ref))),
                         "ratio": round(t_jx / t_ta, 2)})
    if args.loss_landscapes:
        try:
            import loss_landscapes
            import loss_landscapes.metrics
            import torch
        except ImportError as exc:
            rows.append({"peer": "loss-landscapes", "skipped": f"not installed ({exc.name})"})
        else:  # pragma: no cover - needs torch
            from topoanalysis.torch_interop import to_torch

            model = to_torch(net).double()
            Xt = torch.tensor(X)
            Yt = torch.tensor(Y)
            metric = loss_landscapes.metrics.Loss(torch.nn.BCEWithLogitsLoss(), Xt, Yt)
            t_ll, out = best(lambda: loss_landscapes.random_plane(
                model, metric, distance=1.0, steps=args.n, normalization="filter",
                deepcopy_model=True), args.repeat)
            rows.append({"peer": "loss-landscapes", "seconds": round(t_ll, 4),
                         "loss_range": [float(np.min(out)), float(np.max(out))],
                         "ratio": round(t_ll / t_ta, 2)})
    for r in rows:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
