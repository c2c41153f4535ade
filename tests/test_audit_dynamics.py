"""Audit of ``topoanalysis.dynamics`` against independent NumPy references (session 11).

Every reference here is written from the documented definitions only (forward pass, loss,
backpropagation, the update rules of ``train``'s docstring, the splitmix64 + Fisher-Yates epoch
order), without calling the library's own NumPy code.
"""

import os
import sys
import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.dynamics import (
    batch_loss_and_gradient,
    gradient_flow,
    interpolate,
    interpolation_barrier,
    train,
)
from topoanalysis.exceptions import DivergenceWarning

TRAIN_MODULE = sys.modules["topoanalysis.dynamics.train"]


# --- the references --------------------------------------------------------------------------
def _targets(y, loss, e):
    y = np.asarray(y, dtype=float)
    if loss == "cross_entropy" and y.ndim == 1:
        return np.eye(e)[y.astype(int)]
    return y.reshape(len(y), -1)


def _act(name, z, s):
    return {"relu": lambda: np.maximum(z, 0.0), "leaky_relu": lambda: np.where(z > 0, z, s * z),
            "abs": lambda: np.abs(z), "linear": lambda: z, "tanh": lambda: np.tanh(z)}[name]()


def _dact(name, z, s):
    # the documented convention at a kink: the derivative for z > 0 only (relu'(0) = 0)
    return {"relu": lambda: (z > 0) * 1.0, "leaky_relu": lambda: np.where(z > 0, 1.0, s),
            "abs": lambda: np.sign(z), "linear": lambda: np.ones_like(z),
            "tanh": lambda: 1.0 - np.tanh(z) ** 2}[name]()


def _loss_and_dout(loss, o, Y):
    N, e = o.shape
    if loss == "mse":
        return np.mean((o - Y) ** 2), 2.0 * (o - Y) / (N * e)
    if loss == "l1":
        return np.mean(np.abs(o - Y)), np.sign(o - Y) / (N * e)
    if loss == "bce":
        v = np.maximum(o, 0) - o * Y + np.log1p(np.exp(-np.abs(o)))
        return np.mean(v), (1.0 / (1.0 + np.exp(-o)) - Y) / (N * e)
    m = o.max(axis=1, keepdims=True)
    ls = o - m - np.log(np.exp(o - m).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * ls, axis=1)), (np.exp(ls) * Y.sum(1, keepdims=True) - Y) / N


def ref_loss_grad(arch, th, X, Y, loss, dtype=np.float64):
    th = np.asarray(th, dtype=dtype)
    X = np.asarray(X, dtype=dtype)
    layers = []
    for i, (ws, bs) in enumerate(arch.layer_slices):
        layers.append((th[ws].reshape(arch.layer_shape(i)), None if bs is None else th[bs]))
    a, zs, acts = X, [], [X]
    for i, (W, b) in enumerate(layers):
        z = a @ W.T + (0 if b is None else b)
        zs.append(z)
        if i < len(layers) - 1:
            a = _act(arch.activation, z, arch.negative_slope).astype(dtype)
            acts.append(a)
    L, d = _loss_and_dout(loss, zs[-1].astype(np.float64), Y)
    d = d.astype(dtype)
    g = np.zeros_like(th)
    for i in range(len(layers) - 1, -1, -1):
        ws, bs = arch.layer_slices[i]
        g[ws] = (d.T @ acts[i]).ravel()
        if bs is not None:
            g[bs] = d.sum(0)
        if i:
            d = ((d @ layers[i][0]) * _dact(arch.activation, zs[i - 1], arch.negative_slope)
                 ).astype(dtype)
    return L, g


_MASK = (1 << 64) - 1


def _splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & _MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return state, z ^ (z >> 31)


def _epoch_order(n, state):
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        state, r = _splitmix(state)
        j = r % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm, state


def ref_train(arch, th0, X, Y, loss, opt, lr, steps, *, batch=None, mom=0.9,
              betas=(0.9, 0.999), eps=1e-8, seed=0, index=0, n_networks=1,
              dtype=np.float64):
    """θ_steps and the full-data losses L(θ_0..θ_steps) by the documented rules."""
    th = np.array(th0, dtype=dtype)
    m1, m2 = np.zeros_like(th), np.zeros_like(th)
    N = X.shape[0]
    rng = int(np.random.SeedSequence(seed).generate_state(n_networks, dtype=np.uint64)[index])
    nbe = 1 if batch is None else -(-N // batch)
    losses, perm = [], None
    for t in range(steps + 1):
        L, g = ref_loss_grad(arch, th, X, Y, loss, dtype)
        losses.append(L)
        if t == steps:
            break
        if batch is not None:
            if t % nbe == 0:
                perm, rng = _epoch_order(N, rng)
            idx = perm[(t % nbe) * batch:(t % nbe + 1) * batch]
            g = ref_loss_grad(arch, th, X[idx], Y[idx], loss, dtype)[1]
        if opt in ("gd", "sgd"):
            th = th - dtype(lr) * g
        elif opt == "momentum":
            m1 = dtype(mom) * m1 + g
            th = th - dtype(lr) * m1
        else:
            b1, b2 = betas
            m1 = dtype(b1) * m1 + dtype(1 - b1) * g
            m2 = dtype(b2) * m2 + dtype(1 - b2) * g * g
            mh = m1 / dtype(1 - b1 ** (t + 1))
            vh = m2 / dtype(1 - b2 ** (t + 1))
            th = th - dtype(lr) * mh / (np.sqrt(vh) + dtype(eps))
    return th, np.array(losses)


def _problem(arch, loss, n=13, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, arch.inputs))
    e = arch.outputs
    if loss == "cross_entropy":
        y = rng.integers(0, e, n)
    elif loss == "bce":
        y = (rng.random((n, e)) > 0.5) * 1.0
    else:
        y = rng.standard_normal((n, e))
    return X, y, _targets(y, loss, e)


OPTIMIZER_CASES = [
    ("gd", {}),
    ("momentum", dict(momentum=0.8)),
    ("adam", dict(betas=(0.8, 0.99), eps=1e-6)),
    ("adam", dict(betas=(0.0, 0.0))),
    ("sgd", dict(batch_size=4)),      # 13 samples: batches 4, 4, 4, 1 per epoch
    ("sgd", dict(batch_size=13)),     # full batch
]
ARCH_CASES = [
    (Architecture(3, (5,), 2), "mse"),
    (Architecture(3, (5,), 2, hidden_bias=False, output_bias=False), "mse"),
    (Architecture(3, (4, 3), 2, activation="leaky_relu", negative_slope=0.2), "bce"),
    (Architecture(3, (5,), 3), "cross_entropy"),
    (Architecture(3, (5,), 2, activation="tanh"), "l1"),
    (Architecture(3, (5,), 1, activation="abs"), "bce"),
]


# --- train: numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("arch, loss", ARCH_CASES)
@pytest.mark.parametrize("opt, kw", OPTIMIZER_CASES)
def test_train_matches_numpy_reference(arch, loss, opt, kw):
    X, y, Y = _problem(arch, loss)
    th0 = np.random.default_rng(1).standard_normal((3, arch.n_params)) * 0.7
    res = train(th0, X, y, arch=arch, loss=loss, optimizer=opt, lr=0.05, steps=9,
                record_every=1, progress=False, seed=5, **kw)
    batch = kw.get("batch_size")
    for b in range(3):
        th, L = ref_train(arch, th0[b], X, Y, loss, opt, 0.05, 9,
                          batch=None if batch == 13 else batch, mom=kw.get("momentum", 0.9),
                          betas=kw.get("betas", (0.9, 0.999)), eps=kw.get("eps", 1e-8),
                          seed=5, index=b, n_networks=3)
        np.testing.assert_allclose(res.params[b], th, rtol=0, atol=1e-12)
        np.testing.assert_allclose(res.loss[b], L, rtol=1e-12, atol=1e-13)
        assert res.final_loss[b] == res.loss[b, -1]
    assert res.steps_taken.tolist() == [9, 9, 9]


@pytest.mark.parametrize("loss", ["mse", "bce", "l1"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "abs"])
@pytest.mark.parametrize("opt", ["gd", "momentum", "adam", "sgd"])
def test_train_float32_matches_reference(loss, activation, opt):
    arch = Architecture(5, (6,), 1, activation=activation, negative_slope=0.2)
    X, y, Y = _problem(arch, loss, n=37, seed=3)
    th0 = np.random.default_rng(4).standard_normal((2, arch.n_params)) * 0.5
    batch = 8 if opt == "sgd" else None
    res = train(th0, X, y, arch=arch, loss=loss, optimizer=opt, lr=0.02, steps=20,
                record_every=5, progress=False, dtype="float32", seed=3, batch_size=batch)
    assert res.params.dtype == np.float32
    for b in range(2):
        th, L = ref_train(arch, th0[b].astype(np.float32), X.astype(np.float32), Y, loss, opt,
                          0.02, 20, batch=batch, seed=3, index=b, n_networks=2,
                          dtype=np.float32)
        np.testing.assert_allclose(res.params[b], th, rtol=0, atol=1e-5)
        np.testing.assert_allclose(res.loss[b], L[::5], rtol=1e-5, atol=1e-6)


def test_record_steps_target_and_stop_semantics():
    arch = Architecture(2, (4,), 1)
    X, y, Y = _problem(arch, "mse", n=10, seed=2)
    th0 = np.random.default_rng(2).standard_normal((2, arch.n_params))
    _, L0 = ref_train(arch, th0[0], X, Y, "mse", "gd", 0.1, 30)
    first = int(np.argmax(L0 <= (L0[5] + L0[6]) / 2))
    res = train(th0, X, y, arch=arch, lr=0.1, steps=30, record_every=4, progress=False,
                target_loss=(L0[5] + L0[6]) / 2, record_params=True)
    assert res.record_steps.tolist() == [0, 4, 8, 12, 16, 20, 24, 28, 30]
    assert res.reached_target[0] and res.steps_taken[0] == first == 6
    th6, _ = ref_train(arch, th0[0], X, Y, "mse", "gd", 0.1, first)
    np.testing.assert_allclose(res.params[0], th6, atol=1e-13)
    assert res.final_loss[0] == pytest.approx(L0[first], abs=1e-14)
    assert np.isfinite(res.loss[0, :2]).all() and np.isnan(res.loss[0, 2:]).all()
    # a loss equal to the target stops (<=)
    curve = train(th0[:1], X, y, arch=arch, lr=0.1, steps=30, progress=False,
                  record_every=1).loss[0]
    res = train(th0[:1], X, y, arch=arch, lr=0.1, steps=30, progress=False,
                target_loss=curve[5])
    assert res.steps_taken[0] == 5 and res.final_loss[0] == curve[5]
    # record_every larger than steps: records at 0 and at the last step
    res = train(th0, X, y, arch=arch, lr=0.1, steps=7, record_every=50, progress=False)
    assert res.record_steps.tolist() == [0, 7]
    _, L = ref_train(arch, th0[1], X, Y, "mse", "gd", 0.1, 7)
    np.testing.assert_allclose(res.loss[1], L[[0, 7]], rtol=1e-13)


def test_divergence_stops_at_last_finite_parameters():
    arch = Architecture(2, (4,), 1)
    X, y, Y = _problem(arch, "mse", n=10, seed=2)
    th0 = np.random.default_rng(2).standard_normal((2, arch.n_params))
    with pytest.warns(DivergenceWarning, match="2 of 2 networks diverged"):
        res = train(th0, X, y, arch=arch, lr=50.0, steps=200, record_every=1, progress=False,
                    record_params=True)
    assert res.diverged.all() and np.isfinite(res.params).all()
    for b in range(2):
        th, k = th0[b].copy(), None
        with np.errstate(all="ignore"):
            for t in range(200):
                L, g = ref_loss_grad(arch, th, X, Y, "mse")
                new = th - 50.0 * g
                if not np.isfinite(L) or not np.isfinite(new).all():
                    k = t
                    break
                th = new
        assert res.steps_taken[b] == k
        assert np.array_equal(res.params[b], res.trajectory[b, k])
        np.testing.assert_allclose(res.params[b], th, rtol=1e-12)


def test_dead_network_kinks_and_tiny_scales():
    arch = Architecture(2, (4,), 1)
    X, y, Y = _problem(arch, "mse", n=10, seed=2)
    dead = np.zeros(arch.n_params)
    dead[8:12] = -1.0          # every hidden pre-activation is -1: zero hidden gradient
    dead[12:16] = 1.0
    for opt in ("gd", "momentum", "adam"):
        res = train(dead, X, y, arch=arch, lr=0.1, steps=5, optimizer=opt, progress=False)
        assert np.array_equal(res.params[0][:16], dead[:16])
        th, L = ref_train(arch, dead, X, Y, "mse", opt, 0.1, 5)
        np.testing.assert_allclose(res.params[0], th, atol=1e-14)
    # every sample exactly on every kink: sigma'(0) = 0 (relu, abs), negative_slope (leaky)
    on_kink = np.zeros(arch.n_params)
    on_kink[12:16] = 1.0
    on_kink[16] = 0.3
    for act in ("relu", "leaky_relu", "abs"):
        a = Architecture(2, (4,), 1, activation=act, negative_slope=0.3)
        L, G = batch_loss_and_gradient(on_kink, X, y, arch=a)
        Lr, Gr = ref_loss_grad(a, on_kink, X, Y, "mse")
        assert L[0] == pytest.approx(Lr, abs=1e-15)
        np.testing.assert_allclose(G[0], Gr, atol=1e-15)
    # tiny but finite parameters: correct numbers, no warning
    th0 = np.random.default_rng(3).standard_normal(arch.n_params)
    for scale in (1e-150, 1e-300):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = train(th0 * scale, X, y, arch=arch, lr=1e-3, steps=3, optimizer="adam",
                        record_every=1, progress=False)
        th, L = ref_train(arch, th0 * scale, X, Y, "mse", "adam", 1e-3, 3)
        np.testing.assert_allclose(res.params[0], th, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(res.loss[0], L, rtol=1e-13)
    # huge: a DivergenceWarning and a stop at step 0, never silent NaN
    with pytest.warns(DivergenceWarning):
        res = train(th0 * 1e150, X, y, arch=arch, lr=1e-3, steps=3, progress=False)
    assert res.diverged[0] and res.steps_taken[0] == 0


# --- train: identities ----------------------------------------------------------------------
def _same(a, b):
    for f in ("params", "loss", "trajectory", "conserved", "final_loss", "steps_taken",
              "diverged", "reached_target"):
        assert np.array_equal(np.asarray(getattr(a, f)), np.asarray(getattr(b, f)),
                              equal_nan=True), f


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("opt, kw", [("gd", {}), ("adam", {}), ("momentum", {}),
                                     ("sgd", dict(batch_size=700))])
@pytest.mark.parametrize("B", [1, 3])
def test_threads_chunks_and_resume_are_bit_identical(monkeypatch, tmp_path, dtype, opt, kw, B):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3000, 5))
    y = rng.standard_normal((3000, 1))
    arch = Architecture(5, (7,), 1)
    th0 = rng.standard_normal((B, arch.n_params)) * 0.5

    def run(**extra):
        return train(th0, X, y, arch=arch, lr=0.02, steps=40, record_every=3, progress=False,
                     record_params=True, seed=9, optimizer=opt, dtype=dtype, **kw, **extra)

    one = run(n_threads=1)
    _same(one, run(n_threads=2))
    for c in (1, 3, 7):
        monkeypatch.setattr(TRAIN_MODULE, "_chunk_steps", lambda total, per, c=c: c)
        _same(one, run(n_threads=2))
    # interrupted after three chunks of 5 steps, resumed in chunks of 4 on two threads
    _same(one, interrupted_then_resumed(monkeypatch, tmp_path, run, 4, 4,
                                        first=dict(n_threads=1), then=dict(n_threads=2)))


def interrupted_then_resumed(monkeypatch, tmp_path, run, interrupt_at, resume_chunk, *,
                             first=None, then=None):
    """``run(checkpoint=...)`` in chunks of 5 steps, interrupted by a KeyboardInterrupt at the
    ``interrupt_at``-th engine chunk, then resumed from its checkpoint in chunks of
    ``resume_chunk`` steps; returns the resumed result (the checkpoint gone after it)."""
    eng = TRAIN_MODULE._engine.kernels()
    real, calls = eng.train_chunk, []

    def interrupting(*a, **k):
        calls.append(1)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return real(*a, **k)

    ck = os.fspath(tmp_path / "run.npz")
    monkeypatch.setattr(TRAIN_MODULE, "CHECKPOINT_SECONDS", 0.0)
    monkeypatch.setattr(TRAIN_MODULE, "_chunk_steps", lambda total, per: 5)
    monkeypatch.setattr(eng, "train_chunk", interrupting)
    with pytest.raises(KeyboardInterrupt):
        run(checkpoint=ck, **(first or {}))
    monkeypatch.setattr(eng, "train_chunk", real)
    assert os.path.exists(ck)
    monkeypatch.setattr(TRAIN_MODULE, "_chunk_steps", lambda total, per: resume_chunk)
    res = run(checkpoint=ck, **(then or {}))
    assert not os.path.exists(ck)
    return res


# --- gradient flow --------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["compiled", "python"])
@pytest.mark.parametrize("arch, loss", [
    (Architecture(2, (3,), 2, activation="linear"), "mse"),
    (Architecture(2, (3,), 1, activation="tanh"), "bce"),
    (Architecture(2, (3,), 3, activation="tanh"), "cross_entropy"),
])
def test_flow_matches_solve_ivp(arch, loss, method):
    from scipy.integrate import solve_ivp

    X, y, Y = _problem(arch, loss, n=12, seed=4)
    th0 = np.random.default_rng(5).standard_normal((2, arch.n_params)) * 0.5
    rt = np.array([0.0, 0.3, 0.77, 1.5, 2.0])   # records between steps: dense output
    res = gradient_flow(th0, X, y, arch=arch, loss=loss, t_end=2.0, rtol=1e-10, atol=1e-12,
                        record_times=rt, record_params=True, progress=False, method=method)
    assert (res.status == 1).all() and (res.final_time == 2.0).all()
    for b in range(2):
        sol = solve_ivp(lambda t, th: -ref_loss_grad(arch, th, X, Y, loss)[1], (0.0, 2.0),
                        th0[b], method="DOP853", rtol=1e-12, atol=1e-14, t_eval=rt)
        np.testing.assert_allclose(res.trajectory[b], sol.y.T, rtol=0, atol=5e-10)
        np.testing.assert_allclose(res.params[b], sol.y[:, -1], rtol=0, atol=5e-10)
        L = [ref_loss_grad(arch, s, X, Y, loss)[0] for s in sol.y.T]
        np.testing.assert_allclose(res.loss[b], L, rtol=1e-9)


def test_flow_stops_and_records():
    arch = Architecture(2, (4,), 1, activation="tanh")
    X, y, Y = _problem(arch, "mse", n=20, seed=6)
    th0 = np.random.default_rng(6).standard_normal((3, arch.n_params))
    L0 = [ref_loss_grad(arch, t, X, Y, "mse")[0] for t in th0]
    # already below the target at t = 0: stops there with its initial loss
    res = gradient_flow(th0, X, y, arch=arch, t_end=1.0, target_loss=min(L0) + 1e-9,
                        record_times=[0, 0.25, 0.5, 1.0], progress=False)
    k = int(np.argmin(L0))
    assert res.status[k] == 2 and res.final_time[k] == 0.0 and res.steps_taken[k] == 0
    assert res.final_loss[k] == pytest.approx(L0[k], abs=1e-15)
    assert (res.final_loss <= min(L0) + 1e-9).all()
    # compiled == python, thread count and stack do not matter
    for kw in (dict(record_times=[0.5, 1.0]), dict(max_steps=3), dict(first_step=5.0)):
        a = gradient_flow(th0, X, y, arch=arch, t_end=1.0, progress=False, n_threads=1, **kw)
        b = gradient_flow(th0, X, y, arch=arch, t_end=1.0, progress=False, n_threads=2, **kw)
        c = gradient_flow(th0[1:2], X, y, arch=arch, t_end=1.0, progress=False, **kw)
        p = gradient_flow(th0, X, y, arch=arch, t_end=1.0, progress=False, method="python",
                          **kw)
        for f in ("params", "loss", "final_loss", "steps_taken", "final_time"):
            assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True)
            assert np.array_equal(getattr(a, f)[1:2], getattr(c, f), equal_nan=True)
            np.testing.assert_allclose(getattr(a, f), getattr(p, f), rtol=1e-12, atol=0)


def test_kink_events_land_on_the_kink():
    arch = Architecture(2, (3,), 1)
    X, y, Y = _problem(arch, "mse", n=6, seed=5)
    th0 = np.random.default_rng(5).standard_normal(arch.n_params)
    full = gradient_flow(th0, X, y, arch=arch, t_end=1.0, rtol=1e-9, atol=1e-12,
                         kink_events=True, progress=False)
    assert full.kink_events[0] >= 1
    seen = 0
    for k in range(1, int(full.steps_taken[0]) + 1):
        r = gradient_flow(th0, X, y, arch=arch, t_end=1.0, rtol=1e-9, atol=1e-12,
                          kink_events=True, progress=False, max_steps=k)
        if r.kink_events[0] > seen:   # the k-th accepted step was cut at a crossing
            seen = int(r.kink_events[0])
            W, b = r.params[0][:6].reshape(3, 2), r.params[0][6:9]
            assert np.abs(X @ W.T + b).min() <= 1e-13
        if seen == full.kink_events[0]:
            break
    assert seen == full.kink_events[0]


# --- paths ----------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, loss", ARCH_CASES)
def test_interpolate_matches_dense_numpy(arch, loss):
    X, y, Y = _problem(arch, loss, n=25, seed=7)
    rng = np.random.default_rng(7)
    A, B = rng.standard_normal((2, 3, arch.n_params))
    ts = np.array([-1.5, -0.1, 0.0, 0.123, 0.5, 0.9, 1.0, 1.7, 3.0])   # extrapolation allowed
    res = interpolate(A, B, X, y, arch=arch, loss=loss, ts=ts)
    ref = np.array([[ref_loss_grad(arch, (1 - t) * A[m] + t * B[m], X, Y, loss)[0]
                     for t in ts] for m in range(3)])
    np.testing.assert_allclose(res.loss, ref, rtol=1e-12)
    bar = interpolation_barrier(A, B, X, y, arch=arch, loss=loss, n_points=21)
    g = bar.ts
    ref = np.array([[ref_loss_grad(arch, (1 - t) * A[m] + t * B[m], X, Y, loss)[0]
                     for t in g] for m in range(3)])
    chord = ref[:, :1] + g * (ref[:, -1:] - ref[:, :1])
    np.testing.assert_allclose(bar.barrier, (ref - chord).max(1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bar.mean, ref.max(1) - ref[:, [0, -1]].mean(1), rtol=1e-12,
                               atol=1e-12)


def test_barrier_refuses_points_off_the_segment():
    """Before: ``ts`` outside [0, 1] counted in the heights (the barrier at t = 3 of an
    extrapolated chord), which then exceeded the supremum over the segment."""
    arch = Architecture(3, (5,), 1)
    X, y, _ = _problem(arch, "mse", n=25, seed=7)
    A, B = np.random.default_rng(7).standard_normal((2, arch.n_params))
    with pytest.raises(ValidationError, match="`ts` must lie in \\[0, 1\\]"):
        interpolation_barrier(A, B, X, y, arch=arch, ts=[-0.5, 0.25, 3.0])
    res = interpolation_barrier(A, B, X, y, arch=arch, ts=[0.25, 0.75])
    assert res.ts.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_barrier_zero_for_endpoints_equal_in_float32():
    """Before: endpoints 1e-12 apart in float64 (one vector once rounded to float32) got a
    float32 barrier of ~1e-6 from the kernel's mix of equal pre-activations."""
    arch = Architecture(3, (6,), 1)
    X, y, _ = _problem(arch, "mse", n=50, seed=8)
    rng = np.random.default_rng(8)
    a = rng.standard_normal(arch.n_params)
    b = a + 1e-12 * rng.standard_normal(arch.n_params)
    assert np.array_equal(a.astype(np.float32), b.astype(np.float32))
    res = interpolation_barrier(a, b, X, y, arch=arch, dtype="float32", n_points=11)
    assert res.barrier[0] == 0.0 and np.ptp(res.loss) == 0.0


@pytest.mark.parametrize("opt", ["gd", "momentum", "adam"])
def test_penalty_matches_reference(opt):
    arch = Architecture(3, (5,), 1)
    X, y, Y = _problem(arch, "mse", n=13, seed=1)
    th0, left, right = np.random.default_rng(0).standard_normal((3, 2, arch.n_params))
    res = train(th0, X, y, arch=arch, lr=0.05, steps=6, optimizer=opt, record_every=1,
                penalty=(0.3, 0.7, left, right), progress=False)
    for b in range(2):
        th, m1, m2 = th0[b].copy(), np.zeros(arch.n_params), np.zeros(arch.n_params)
        mid = (left[b] + right[b]) / 2
        u = (right[b] - left[b]) / np.linalg.norm(right[b] - left[b])
        for t in range(6):
            g = ref_loss_grad(arch, th, X, Y, "mse")[1]
            g = g + 2 * 0.3 * (th - mid) + 0.7 * ((th - mid) @ u) * u
            if opt == "gd":
                th = th - 0.05 * g
            elif opt == "momentum":
                m1 = 0.9 * m1 + g
                th = th - 0.05 * m1
            else:
                m1, m2 = 0.9 * m1 + 0.1 * g, 0.999 * m2 + 0.001 * g * g
                th = th - 0.05 * (m1 / (1 - 0.9 ** (t + 1))) / (
                    np.sqrt(m2 / (1 - 0.999 ** (t + 1))) + 1e-8)
        np.testing.assert_allclose(res.params[b], th, rtol=0, atol=1e-12)
