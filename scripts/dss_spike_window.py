"""The cubic task's spike window (Freeman & Bruna, Fig. 2) with the authors' per-bead procedure.

The paper's normalized length on the cubic task jumps from 1.00 at ``L0 = 0.168`` to 2.54 at
0.158 (``LaunchScripts/CUBICS.py`` = C, line 23, runs exactly this window). This script runs
the authors' *procedure*, one pair at a time, so that the differences between it and the
toolkit's batched DSS (``scripts/dss_polynomial.py``) can be switched one at a time:

* ``--fresh-data``: a fresh training set of ``--n-samples`` points for every endpoint and every
  bead (C 442, 337: ``generatecandidate4(..., 10000)`` inside each training session) instead of
  one training set drawn once .................................................. authors
* ``--criterion test``: a bead stops when its loss on the **test set** (10000 points drawn once,
  C 81) is below ``0.95 L0`` (C 372-374, checked every 15 full-batch Adam steps, C 318-348) and
  a gap is accepted when the highest test-set loss at ``t = 0, 0.01, …, 0.99`` is below
  ``1.1 L0`` (C 102-150, 571); ``--criterion train`` checks both on the training set ..... authors
* ``--dtype float32``: the network, its gradient and Adam in float32 (TensorFlow's graphs are
  float32; NumPy here: the engine's float32 kernels cover one hidden layer only) ... authors
* Adam in TensorFlow 1's form (``lr_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ)``, ε = 1e-8 added to ``√v``), one
  session per endpoint and per bead (its moments are never restarted), learning rate 1e-3
  (C 33) ............................................................................. authors
* endpoints (C 440-491): trained in epochs of 5 full-batch steps until the mean of an epoch's 5
  losses is below ``L0`` (C 468), or the test loss is (checked every 100 epochs, C 485);
  weights ``U[−1, 1]``, biases ``N(0, 1)`` (C 188-196); two fresh networks per pair, a new pair
  for every level (C 388-405) .......................................................... authors
* the string (C 526-600): one bead at ``t = 1/2`` first (``WeightString(..., 1, 1)``), beads
  trained to ``0.95 L0``, failing gaps split at ``t = 1/2``, only the new gaps re-checked, 10
  levels; beads counted with the endpoints; normalized length over the weights only
  (``SpringNorm``, C 291-306), averaged over the connected pairs (C 651-658) ............ authors

Differs from the authors (ours): a bead or endpoint stops at ``--max-steps`` Adam steps (the
authors have no cap; reported as ``capped``); seeds.

Outputs (``--out``): ``rows.csv`` (one row per pair) and ``summary.csv`` (mean, s.d., min, max
over the connected pairs per level). ``--table DIR ...`` prints and writes (``--table-out``) the
candidates table of several runs of this script and of ``dss_polynomial.py``.

Example (the guide's "authors' procedure" row)::

    python scripts/dss_spike_window.py --out results/spike_authors --fresh-data \\
        --criterion test --dtype float32 --levels 0.164 0.16 0.158 --pairs 8
"""

import argparse
import csv
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dss_polynomial import (PAPER_VALUES, authors_init, authors_model,  # noqa: E402
                            normalized_length, weight_mask)
from topoanalysis import Landscape  # noqa: E402
from topoanalysis.datasets import polynomial_regression  # noqa: E402
from topoanalysis.io import write_csv  # noqa: E402

ROW_FIELDS = ["L0", "pair", "connected", "beads", "normalized_length_weights",
              "normalized_length", "max_gap_loss", "bead_steps_max", "beads_capped",
              "endpoint_steps_max", "test_loss_a", "test_loss_b", "seconds"]
SUMMARY_FIELDS = ["L0", "n_pairs", "n_connected", "mean_normalized_length",
                  "std_normalized_length", "min_normalized_length", "max_normalized_length",
                  "mean_beads", "std_beads", "paper_normalized_length", "paper_beads"]


class Model:
    """The authors' cubic network (1-4-4-1, sigmoid hidden units, biases, linear output) and the
    L1 loss on one data set, in NumPy in ``dtype`` (the engine's float32 kernels cover one
    hidden layer only). Checked against the engine in float64 (:func:`check_model`)."""

    def __init__(self, arch, X, y, dtype):
        self.arch, self.dt = arch, np.dtype(dtype)
        self.X = np.asarray(X, dtype=self.dt)
        self.y = np.asarray(y, dtype=self.dt)

    def _layers(self, theta):
        t = np.asarray(theta, dtype=self.dt)
        return [(t[..., w].reshape(t.shape[:-1] + self.arch.layer_shape(i)), t[..., b])
                for i, (w, b) in enumerate(self.arch.layer_slices)]

    def loss(self, theta):
        """L1 loss of one network (P,) or a stack (B, P)."""
        (W1, b1), (W2, b2), (W3, b3) = self._layers(theta)
        x = self.X[:, 0]
        if W1.ndim == 2:
            W1, b1, W2, b2, W3, b3 = (v[None] for v in (W1, b1, W2, b2, W3, b3))
        h1 = _sig(x[None, :, None] * W1[:, None, :, 0] + b1[:, None, :])
        h2 = _sig(np.einsum("bni,bji->bnj", h1, W2) + b2[:, None, :])
        out = np.einsum("bnj,bj->bn", h2, W3[:, 0, :]) + b3
        L = np.abs(out - self.y[None, :, 0]).mean(axis=1)
        return float(L[0]) if np.ndim(theta) == 1 else L

    def loss_and_gradient(self, theta):
        (W1, b1), (W2, b2), (W3, b3) = self._layers(theta)
        x = self.X                                   # (N, 1)
        h1 = _sig(x @ W1.T + b1)                     # (N, 4)
        h2 = _sig(h1 @ W2.T + b2)                    # (N, 4)
        r = h2 @ W3.T + b3 - self.y                  # (N, 1)
        n = self.dt.type(x.shape[0])
        d3 = np.sign(r) / n
        g3w, g3b = d3.T @ h2, d3.sum(axis=0)
        d2 = (d3 @ W3) * h2 * (1 - h2)
        g2w, g2b = d2.T @ h1, d2.sum(axis=0)
        d1 = (d2 @ W2) * h1 * (1 - h1)
        g1w, g1b = d1.T @ x, d1.sum(axis=0)
        g = np.concatenate([g1w.ravel(), g1b, g2w.ravel(), g2b, g3w.ravel(), g3b])
        return float(np.abs(r).mean()), g.astype(self.dt)

    def gap_max(self, a, b, ts):
        """Highest loss at ``ts`` on each segment a[k] -> b[k]."""
        a, b = np.asarray(a, dtype=self.dt), np.asarray(b, dtype=self.dt)
        pts = a[:, None, :] + (b - a)[:, None, :] * np.asarray(ts, dtype=self.dt)[None, :, None]
        return self.loss(pts.reshape(-1, a.shape[1])).reshape(len(a), len(ts)).max(axis=1)


def _sig(z):
    return 1 / (1 + np.exp(-z))


def check_model(arch, seed=0):
    """The NumPy model equals the engine (float64) on random networks."""
    ds = polynomial_regression("cubic", n_samples=200, seed=seed)
    land = Landscape(arch, ds.X, ds.y, "l1")
    m = Model(arch, ds.X, ds.y, "float64")
    th = authors_init(arch, 3, seed=seed)
    L, G = land.loss_and_gradient(th)
    for k in range(3):
        lk, gk = m.loss_and_gradient(th[k])
        assert abs(lk - L[k]) < 1e-12 and np.allclose(gk, G[k], atol=1e-12), "model mismatch"
    assert np.allclose(m.loss(th), L, atol=1e-12)


class Data:
    """Training sets and the test set of one run."""

    def __init__(self, arch, args):
        self.arch, self.args = arch, args
        self.rng = np.random.SeedSequence([args.seed, 15])
        te = polynomial_regression("cubic", n_samples=args.test_samples, seed=args.seed + 1000)
        self.test = Model(arch, te.X, te.y, args.dtype)
        self.fixed = None
        if not args.fresh_data:
            ds = polynomial_regression("cubic", n_samples=args.n_samples, seed=args.seed)
            self.fixed = Model(arch, ds.X, ds.y, args.dtype)

    def train_set(self):
        """The training set of the next endpoint or bead."""
        if self.fixed is not None:
            return self.fixed
        seed = int(self.rng.spawn(1)[0].generate_state(1)[0])
        ds = polynomial_regression("cubic", n_samples=self.args.n_samples, seed=seed)
        return Model(self.arch, ds.X, ds.y, self.args.dtype)


class Adam:
    """TensorFlow 1's ``AdamOptimizer`` (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) in ``dtype``."""

    def __init__(self, theta, lr, dtype):
        self.dt = np.dtype(dtype)
        self.theta = np.array(theta, dtype=self.dt)
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0
        self.lr = lr

    def step(self, land):
        loss, g = land.loss_and_gradient(self.theta)
        self.t += 1
        b1, b2 = self.dt.type(0.9), self.dt.type(0.999)
        lr_t = self.dt.type(self.lr * np.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t))
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        self.theta = self.theta - lr_t * self.m / (np.sqrt(self.v) + self.dt.type(1e-8))
        return float(loss)


def train_endpoint(theta, L0, data, args):
    """C 440-491: epochs of 5 steps until an epoch's mean loss (or, every 100 epochs, the test
    loss) is below L0."""
    land = data.train_set()
    opt = Adam(theta, args.lr, args.dtype)
    epochs = 0
    while opt.t < args.max_steps:
        mean = np.mean([opt.step(land) for _ in range(5)])
        epochs += 1
        if mean < L0:
            break
        if epochs % 100 == 0 and data.test.loss(opt.theta) < L0:
            break
    return opt.theta.astype(np.float64), opt.t


def train_bead(theta, target, data, args):
    """C 310-384: 15 full-batch steps, then the stopping check on the criterion set."""
    land = data.train_set()
    check = data.test if args.criterion == "test" else land
    opt = Adam(theta, args.lr, args.dtype)
    while True:
        for _ in range(15):
            opt.step(land)
        if check.loss(opt.theta) < target:
            return opt.theta.astype(np.float64), opt.t, False
        if opt.t >= args.max_steps:
            return opt.theta.astype(np.float64), opt.t, True


def gap_errors(beads, gaps, land):
    """C 102-150: the highest loss at t = 0, 0.01, ..., 0.99 of each gap."""
    ts = np.arange(100) / 100.0
    a = np.array([beads[k] for k in gaps])
    b = np.array([beads[k + 1] for k in gaps])
    return land.gap_max(a, b, ts)


def authors_string(a, b, L0, data, args):
    """C 526-600: the authors' string between two endpoints."""
    check = data.test if args.criterion == "test" else None
    beads = [a, 0.5 * (a + b), b]
    converged = [True, False, True]
    steps, capped = [0, 0, 0], [False, False, False]
    new = [0, 1]
    depth, connected, top = 0, False, np.nan
    while depth < args.max_depth:
        for i, c in enumerate(converged):
            if not c:
                beads[i], steps[i], capped[i] = train_bead(beads[i], 0.95 * L0, data, args)
                converged[i] = True
        land = check if check is not None else data.fixed
        if land is None:   # fresh data and the training criterion: the last bead's set
            land = data.train_set()
        errs = gap_errors(beads, new, land)
        top = float(errs.max())
        if top < 1.1 * L0:
            connected = True
            break
        failing = [k for k, e in zip(new, errs) if e > 1.1 * L0]
        new, shift = [], 0
        for k in failing:
            j = k + shift
            beads.insert(j + 1, 0.5 * (beads[j] + beads[j + 1]))
            converged.insert(j + 1, False)
            steps.insert(j + 1, 0)
            capped.insert(j + 1, False)
            new += [j, j + 1]
            shift += 1
        depth += 1
    return np.array(beads), connected, top, max(steps), sum(capped)


def run(args):
    arch = authors_model("cubic")
    check_model(arch)
    mask = weight_mask(arch)
    data = Data(arch, args)
    os.makedirs(args.out, exist_ok=True)
    rows_path = os.path.join(args.out, "rows.csv")
    rows = []
    for k, L0 in enumerate(sorted(args.levels, reverse=True)):
        theta = authors_init(arch, 2 * args.pairs, seed=[args.seed, 1, k])
        t0 = time.perf_counter()
        for q in range(args.pairs):
            ta = time.perf_counter()
            a, sa = train_endpoint(theta[2 * q], L0, data, args)
            b, sb = train_endpoint(theta[2 * q + 1], L0, data, args)
            beads, ok, top, smax, ncap = authors_string(a, b, L0, data, args)
            rows.append([L0, q, ok, len(beads), normalized_length(beads, mask),
                         normalized_length(beads, np.ones(arch.n_params, bool)), top, smax,
                         ncap, max(sa, sb), data.test.loss(a), data.test.loss(b),
                         time.perf_counter() - ta])
            write_csv(rows_path, ROW_FIELDS, rows)
        sel = [r for r in rows if r[0] == L0 and r[2]]
        nl = np.array([r[4] for r in sel])
        print(f"L0={L0:g}: {len(sel)}/{args.pairs} connected, normalized length "
              f"{nl.mean() if len(nl) else np.nan:.3f} ± {nl.std() if len(nl) else np.nan:.3f}, "
              f"beads {np.mean([r[3] for r in sel]) if sel else np.nan:.2f}, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)
    summary = []
    for L0 in sorted({r[0] for r in rows}, reverse=True):
        sel = [r for r in rows if r[0] == L0]
        con = [r for r in sel if r[2]]
        nl = np.array([r[4] for r in con])
        nb = np.array([r[3] for r in con])
        pv = PAPER_VALUES["cubic"].get(L0, (np.nan,) * 4)
        summary.append([L0, len(sel), len(con)] + ([nl.mean(), nl.std(), nl.min(), nl.max(),
                                                    nb.mean(), nb.std()] if con else
                                                   [np.nan] * 6) + [pv[0], pv[2]])
    write_csv(os.path.join(args.out, "summary.csv"), SUMMARY_FIELDS, summary)
    print(f"wrote {rows_path}")


def _level_stats(path, length_field):
    out = {}
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["connected"] != "True":
                out.setdefault(float(r["L0"]), [])
                continue
            out.setdefault(float(r["L0"]), []).append(float(r[length_field]))
    return out


def table(dirs, labels, out_path):
    """One row per (run, level): mean ± s.d. over the connected pairs."""
    rows = []
    for d, label in zip(dirs, labels):
        if os.path.exists(os.path.join(d, "rows.csv")):
            stats = _level_stats(os.path.join(d, "rows.csv"), "normalized_length_weights")
            total = {}
            with open(os.path.join(d, "rows.csv"), newline="") as fh:
                for r in csv.DictReader(fh):
                    total[float(r["L0"])] = total.get(float(r["L0"]), 0) + 1
        else:
            path = os.path.join(d, "dss_polynomial.csv")
            stats = _level_stats(path, "normalized_length_weights")
            total = {}
            with open(path, newline="") as fh:
                for r in csv.DictReader(fh):
                    total[float(r["L0"])] = total.get(float(r["L0"]), 0) + 1
        for L0 in sorted(stats, reverse=True):
            v = np.array(stats[L0])
            rows.append([label, L0, total[L0], len(v), v.mean() if len(v) else np.nan,
                         v.std() if len(v) else np.nan,
                         PAPER_VALUES["cubic"].get(L0, (np.nan,))[0]])
    fields = ["candidate", "L0", "n_pairs", "n_connected", "mean_normalized_length",
              "std_normalized_length", "paper_normalized_length"]
    if out_path:
        write_csv(out_path, fields, rows)
        print(f"wrote {out_path}")
    for r in rows:
        print(f"{r[0]:40s} {r[1]:<6g} {r[3]}/{r[2]}  {r[4]:.2f} ± {r[5]:.2f}  (paper {r[6]})")


def segment_check(folder, n_samples, seed, out_path=None):
    """For the saved strings of a ``dss_polynomial.py`` run (``folder/strings``): how many
    connected pairs' straight segment A -> B is already below ``1.1 L0`` on the training set
    (the authors' forced first bead, C 526, is then the only reason for a detour), and the
    level's normalized length if those pairs counted 1.00."""
    import re

    from topoanalysis.levelsets import load_string

    arch = authors_model("cubic")
    mask = weight_mask(arch)
    ds = polynomial_regression("cubic", n_samples=n_samples, seed=seed)
    land = Landscape(arch, ds.X, ds.y, "l1")
    by = {}
    d = os.path.join(folder, "strings")
    for f in sorted(os.listdir(d)):
        m = re.search(r"cubic_L0_([0-9.e-]+)_pair", f)
        if m:
            by.setdefault(float(m.group(1)), []).append(load_string(os.path.join(d, f)))
    rows = []
    for L0 in sorted(by, reverse=True):
        S = [s for s in by[L0] if s.connected]
        A = np.array([s.beads[0] for s in S])
        B = np.array([s.beads[-1] for s in S])
        seg = np.asarray(land.interpolate(A, B, ts=np.linspace(0, 1, 100)).loss).max(axis=1)
        ok = seg < 1.1 * L0
        nl = np.array([normalized_length(s.beads, mask) for s in S])
        alt = np.where(ok, 1.0, nl)
        rows.append([L0, len(S), int(ok.sum()), nl.mean(), nl.std(), alt.mean(), alt.std()])
        print(f"L0={L0:g}: straight segment below 1.1 L0 for {ok.sum()}/{len(S)} pairs; "
              f"normalized length {nl.mean():.2f} ± {nl.std():.2f}, with those at 1.00: "
              f"{alt.mean():.2f} ± {alt.std():.2f}")
    if out_path:
        write_csv(out_path, ["L0", "n_connected", "n_segment_below", "mean_normalized_length",
                             "std_normalized_length", "mean_without_forced_bead",
                             "std_without_forced_bead"], rows)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", help="output directory")
    p.add_argument("--levels", type=float, nargs="+", default=[0.164, 0.16, 0.158])
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--fresh-data", action="store_true",
                   help="a fresh training set per endpoint and bead (authors)")
    p.add_argument("--criterion", choices=["train", "test"], default="train",
                   help="set of the bead stop and gap acceptance (authors: test)")
    p.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    p.add_argument("--n-samples", type=int, default=10000, help="training points (authors 10000)")
    p.add_argument("--test-samples", type=int, default=10000, help="test points (authors 10000)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-steps", type=int, default=100000,
                   help="most Adam steps of an endpoint or a bead (authors: none)")
    p.add_argument("--max-depth", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--table", nargs="+", metavar="DIR",
                   help="summarize runs (this script's or dss_polynomial.py's folders)")
    p.add_argument("--labels", nargs="+", help="one label per --table folder")
    p.add_argument("--table-out", help="CSV of the --table summary")
    p.add_argument("--segments", metavar="DIR",
                   help="straight-segment check of a dss_polynomial.py run's strings (its "
                        "--n-samples and --seed must be given again)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.segments:
        segment_check(args.segments, args.n_samples, args.seed,
                      os.path.join(args.out, "segments.csv") if args.out else None)
        return 0
    if args.table:
        table(args.table, args.labels or args.table, args.table_out)
        return 0
    if not args.out:
        raise SystemExit("dss_spike_window: error: --out is required")
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
