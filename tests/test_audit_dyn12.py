"""Audit of ``topoanalysis.dynamics`` at its edges in float64 (session 12).

Sizes around the engine's 16-sample blocks (N = 1, 15, 16, 17, 33), d = 1, width 1, vector
outputs, dead neurons, samples exactly on a kink, saturated bce / cross-entropy logits,
divergence of every optimizer, stack / thread / resume identities, strict-JSON round trips, and
the edge cases of ``gradient_flow``'s arguments. The references are written here from the
documented definitions (forward pass, the losses of :mod:`topoanalysis.losses`, relu'(0) = 0,
the update rules of ``train``'s docstring, splitmix64 + Fisher-Yates epoch orders).
"""

import json
import sys
import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.dynamics import (
    TrainResult,
    batch_loss_and_gradient,
    gradient_flow,
    interpolate,
    interpolation_barrier,
    path_losses,
    train,
)
from topoanalysis.exceptions import DivergenceWarning
from topoanalysis.io import to_jsonable
from topoanalysis.network import loss_and_gradient
from test_audit_dynamics import interrupted_then_resumed  # noqa: E402 (shared resume check)

TRAIN_MODULE = sys.modules["topoanalysis.dynamics.train"]


# --- an independent reference ----------------------------------------------------------------
def _sig(z):
    with np.errstate(over="ignore"):
        return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                        np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def _phi(act, z, s):
    if act == "relu":
        return np.maximum(z, 0.0), (z > 0) * 1.0          # derivative 0 at the kink
    if act == "leaky_relu":
        return np.where(z > 0, z, s * z), np.where(z > 0, 1.0, s)
    if act == "abs":
        return np.abs(z), np.sign(z)
    if act == "tanh":
        return np.tanh(z), 1.0 - np.tanh(z) ** 2
    return z, np.ones_like(z)


def _dloss(loss, o, Y):
    """Loss and its derivative in the outputs ``o`` (N, e)."""
    N, e = o.shape
    if loss == "mse":
        return np.mean((o - Y) ** 2), 2 * (o - Y) / (N * e)
    if loss == "l1":
        return np.mean(np.abs(o - Y)), np.sign(o - Y) / (N * e)
    if loss == "bce":   # with logits, stable: max(o, 0) - o y + log(1 + exp(-|o|))
        return (np.mean(np.maximum(o, 0) - o * Y + np.log1p(np.exp(-np.abs(o)))),
                (_sig(o) - Y) / (N * e))
    m = o.max(axis=1, keepdims=True)
    logp = o - m - np.log(np.sum(np.exp(o - m), axis=1, keepdims=True))
    return -np.sum(Y * logp) / N, (np.exp(logp) - Y) / N


def ref(arch, th, X, Y, loss):
    """``(L, grad)`` by a plain forward and backward pass."""
    Ws, a, pre, post = [], X, [], [X]
    for i, (ws, bs) in enumerate(arch.layer_slices):
        W = th[ws].reshape(arch.layer_shape(i))
        z = a @ W.T + (th[bs] if bs is not None else 0.0)
        Ws.append(W)
        pre.append(z)
        a = _phi(arch.activation, z, arch.negative_slope)[0] if i < arch.n_layers - 1 else z
        post.append(a)
    L, d = _dloss(loss, pre[-1], Y)
    g = np.zeros_like(th)
    for i in range(arch.n_layers - 1, -1, -1):
        ws, bs = arch.layer_slices[i]
        g[ws] = (d.T @ post[i]).ravel()
        if bs is not None:
            g[bs] = d.sum(axis=0)
        if i:
            d = (d @ Ws[i]) * _phi(arch.activation, pre[i - 1], arch.negative_slope)[1]
    return L, g


_M64 = (1 << 64) - 1


def _order(n, state):
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & _M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        j = (z ^ (z >> 31)) % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm, state


def ref_train(arch, th, X, Y, loss, opt, lr, steps, batch=None, seed=0, index=0, B=1):
    th, m, v = th.copy(), np.zeros_like(th), np.zeros_like(th)
    state = int(np.random.SeedSequence(seed).generate_state(B, dtype=np.uint64)[index])
    nb = 1 if batch is None else -(-len(X) // batch)
    losses, perm = [], None
    for t in range(steps + 1):
        L, g = ref(arch, th, X, Y, loss)
        losses.append(L)
        if t == steps:
            break
        if batch is not None:
            if t % nb == 0:
                perm, state = _order(len(X), state)
            idx = perm[(t % nb) * batch:(t % nb + 1) * batch]
            g = ref(arch, th, X[idx], Y[idx], loss)[1]
        if opt in ("gd", "sgd"):
            th = th - lr * g
        elif opt == "momentum":
            m = 0.9 * m + g
            th = th - lr * m
        else:
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            th = th - lr * (m / (1 - 0.9 ** (t + 1))) / (np.sqrt(v / (1 - 0.999 ** (t + 1)))
                                                        + 1e-8)
    return th, np.array(losses)


def _data(arch, loss, N, rng, integer=False):
    e = arch.outputs
    X = (rng.integers(-2, 3, (N, arch.inputs)).astype(float) if integer
         else rng.standard_normal((N, arch.inputs)))
    if loss == "cross_entropy":
        y = rng.integers(0, e, N)
        return X, y, np.eye(e)[y]
    y = (rng.random((N, e)) > 0.5) * 1.0 if loss == "bce" else rng.standard_normal((N, e))
    return X, y, y


EDGE_ARCHS = [
    (Architecture(1, (1,), 1), "mse"),                                       # d = 1, width 1
    (Architecture(1, (1,), 2), "cross_entropy"),
    (Architecture(2, (3,), 3, activation="leaky_relu", negative_slope=0.1), "cross_entropy"),
    (Architecture(2, (3,), 2, activation="abs"), "bce"),
    (Architecture(1, (2, 2), 3, activation="abs"), "l1"),
    (Architecture(2, (4,), 2, hidden_bias=False, activation="tanh"), "mse"),
    (Architecture(2, (3,), 1, output_bias=False), "bce"),
]
SIZES = [1, 15, 16, 17, 33]


# --- batch_loss_and_gradient ----------------------------------------------------------------
@pytest.mark.parametrize("N", SIZES)
@pytest.mark.parametrize("arch, loss", EDGE_ARCHS)
def test_loss_and_gradient_at_block_edges_match_the_reference(arch, loss, N):
    rng = np.random.default_rng(N)
    X, y, Y = _data(arch, loss, N, rng)
    th = rng.standard_normal((3, arch.n_params))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L, G = batch_loss_and_gradient(th, X, y, arch=arch, loss=loss, n_threads=1)
    for b in range(3):
        Lr, Gr = ref(arch, th[b], X, Y, loss)
        assert L[b] == pytest.approx(Lr, rel=1e-13, abs=1e-15)
        np.testing.assert_allclose(G[b], Gr, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "abs"])
@pytest.mark.parametrize("hidden", [(4,), (3, 2)])
@pytest.mark.parametrize("loss", ["mse", "l1", "bce", "cross_entropy"])
def test_exact_kinks_and_dead_neurons_follow_the_documented_convention(act, hidden, loss):
    """Integer data and weights: many pre-activations are exactly 0 (and a dead network, whose
    pre-activations are all <= 0): the engine, the NumPy reference of the package
    (network.loss_and_gradient) and the reference here agree."""
    rng = np.random.default_rng(len(hidden) + len(loss))
    arch = Architecture(2, hidden, 2, activation=act, negative_slope=0.25)
    X, y, Y = _data(arch, loss, 33, rng, integer=True)
    th = rng.integers(-1, 2, (4, arch.n_params)).astype(float)
    w, b = arch.layer_slices[0]
    th[3, w] = 0.0
    th[3, b] = -1.0     # the first layer dead: every pre-activation -1
    L, G = batch_loss_and_gradient(th, X, y, arch=arch, loss=loss, n_threads=1)
    for k in range(4):
        Lr, Gr = ref(arch, th[k], X, Y, loss)
        Ln, Gn = loss_and_gradient(arch, th[k], X, Y, loss)
        np.testing.assert_allclose(G[k], Gr, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(Gn, Gr, rtol=1e-13, atol=1e-14)
        assert L[k] == pytest.approx(Lr, rel=1e-13) and Ln == pytest.approx(Lr, rel=1e-13)
    if act == "relu":
        assert np.all(G[3, w] == 0) and np.all(G[3, b] == 0)


@pytest.mark.parametrize("z", [800.0, -800.0, 1e5, -1e5, 1e290, -1e290])
def test_saturated_bce_and_cross_entropy_are_finite(z):
    """Logits of +-800 and beyond: exact losses and gradients, no inf or NaN."""
    arch = Architecture(1, (1,), 1, activation="linear")
    th = np.array([1.0, 0.0, 1.0, 0.0])        # output = x
    for t in (0.0, 1.0, 0.5):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            L, G = batch_loss_and_gradient(th, [[z]], [t], arch=arch, loss="bce")
        want = max(z, 0.0) - z * t             # log1p(exp(-|z|)) underflows to 0 here
        dz = (1.0 if z > 0 else 0.0) - t
        assert L[0] == want and np.array_equal(G[0], [dz * z, dz, dz * z, dz])
    arch = Architecture(1, (1,), 3, activation="linear")
    th = np.zeros(arch.n_params)
    th[0], th[2:5] = 1.0, [1.0, -1.0, 0.5]     # logits (z, -z, z / 2)
    for label in (0, 2):                       # the one-hot on the last class too
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            L, G = batch_loss_and_gradient(th, [[z]], [label], arch=arch,
                                           loss="cross_entropy")
        Lr, Gr = ref(arch, th, np.array([[z]]), np.eye(3)[[label]], "cross_entropy")
        assert np.isfinite(L[0]) and np.all(np.isfinite(G[0]))
        assert L[0] == pytest.approx(Lr, rel=1e-15, abs=1e-300)
        np.testing.assert_allclose(G[0], Gr, rtol=1e-15, atol=1e-300)


# --- train ----------------------------------------------------------------------------------
@pytest.mark.parametrize("N, batches", [(1, (1,)), (15, (4, 14)), (16, (5,)), (17, (16, 3)),
                                        (33, (32, 10))])
@pytest.mark.parametrize("arch, loss", EDGE_ARCHS[:5])
def test_train_at_block_edges_matches_the_reference(arch, loss, N, batches):
    """Every optimizer, steps = 1 and 6, mini-batches not dividing N (last batch smaller)."""
    rng = np.random.default_rng(N + arch.n_params)
    X, y, Y = _data(arch, loss, N, rng)
    th0 = rng.standard_normal((2, arch.n_params))
    for opt, bs in [("gd", None), ("momentum", None), ("adam", None)] + [
            ("sgd", b) for b in batches]:
        for steps in (1, 6):
            res = train(th0, X, y, arch=arch, loss=loss, optimizer=opt, lr=0.05, steps=steps,
                        batch_size=bs, record_every=1, progress=False, seed=3, n_threads=1)
            assert res.record_steps.tolist() == list(range(steps + 1))
            for b in range(2):
                th, L = ref_train(arch, th0[b], X, Y, loss, opt, 0.05, steps,
                                  batch=None if bs in (None, N) else bs, seed=3, index=b, B=2)
                np.testing.assert_allclose(res.params[b], th, rtol=1e-13, atol=1e-14)
                np.testing.assert_allclose(res.loss[b], L, rtol=1e-13, atol=1e-15)


def _same(a, b, row=None):
    for f in ("params", "loss", "conserved", "trajectory", "final_loss", "steps_taken",
              "diverged", "reached_target"):
        x, z = np.asarray(getattr(a, f)), np.asarray(getattr(b, f))
        if row is not None:
            z = z[row:row + 1]
        assert np.array_equal(x, z, equal_nan=True), f


@pytest.mark.parametrize("N", [17, 33, 200])
@pytest.mark.parametrize("arch, loss", [
    (Architecture(3, (5,), 3), "cross_entropy"),
    (Architecture(3, (4, 3), 2, activation="tanh"), "bce"),
    (Architecture(3, (6,), 1, activation="abs"), "l1"),
])
def test_alone_in_a_stack_and_on_two_threads_the_bits_are_the_same(arch, loss, N):
    """B = 1 vs B = 7, n_threads 1 vs 2 (a network alone on two threads shares its samples
    between the threads). Mini-batch orders are seeded per stack index (the network is then
    compared at index 0)."""
    rng = np.random.default_rng(N)
    X, y, _ = _data(arch, loss, N, rng)
    th = rng.standard_normal((7, arch.n_params))
    for opt, kw in (("gd", {}), ("sgd", dict(batch_size=N // 3 + 1)), ("momentum", {}),
                    ("adam", {})):
        k = 0 if opt == "sgd" else 3

        def run(t, n):
            return train(t, X, y, arch=arch, loss=loss, optimizer=opt, lr=0.03, steps=12,
                         record_every=5, record_params=True, progress=False, seed=11,
                         n_threads=n, **kw)

        alone = run(th[k:k + 1], 1)
        _same(alone, run(th[k:k + 1], 2))
        _same(alone, run(th, 1), k)
        _same(alone, run(th, 2), k)


@pytest.mark.parametrize("opt, kw", [
    ("sgd", dict(batch_size=5)),
    ("sgd", dict(batch_size=16, target_loss=1.3)),
    ("adam", {}),
    ("momentum", dict(penalty="yes")),
    ("gd", dict(target_loss=1.15, penalty="yes")),
])
def test_resumed_run_is_the_uninterrupted_one(monkeypatch, tmp_path, opt, kw):
    """Cross-entropy on 17 samples (one full block and one sample), stops at a target,
    penalties (one of them with coinciding ends): resumed bit for bit."""
    rng = np.random.default_rng(7)
    arch = Architecture(2, (3,), 3)
    X, y, _ = _data(arch, "cross_entropy", 17, rng)
    th0 = rng.standard_normal((3, arch.n_params))
    if "penalty" in kw:
        left, right = rng.standard_normal((2, 3, arch.n_params))
        right[1] = left[1]
        kw = dict(kw, penalty=(0.1, 0.5, left, right))

    def run(**extra):
        return train(th0, X, y, arch=arch, loss="cross_entropy", optimizer=opt, lr=0.1,
                     steps=40, record_every=3, record_params=True, seed=4, progress=False,
                     n_threads=1, **kw, **extra)

    one = run()
    if "target_loss" in kw:
        assert one.reached_target.all() and (one.final_loss <= kw["target_loss"]).all()
        if opt == "sgd":        # checked at the record steps for mini-batches
            assert np.all(one.steps_taken % 3 == 0)
    _same(one, interrupted_then_resumed(monkeypatch, tmp_path, run, 3, 7))


def _json_round_trip(res):
    text = json.dumps(to_jsonable(res.to_dict()), allow_nan=False)
    return TrainResult.from_dict(json.loads(text))


@pytest.mark.parametrize("arch, loss", [
    (Architecture(2, (3,), 1), "mse"),
    (Architecture(2, (3,), 1), "l1"),
    (Architecture(2, (3, 2), 2, activation="tanh"), "mse"),
])
@pytest.mark.parametrize("opt, lr", [(o, r) for o in ("gd", "sgd", "momentum")
                                     for r in (1e150, 1e300)] + [("adam", 1e300)])
def test_huge_rates_diverge_at_the_last_finite_parameters(arch, loss, opt, lr):
    rng = np.random.default_rng(4)
    X, y, Y = _data(arch, loss, 17, rng)
    th0 = rng.standard_normal((2, arch.n_params))
    with pytest.warns(DivergenceWarning, match="2 of 2 networks diverged"):
        res = train(th0, X, y, arch=arch, loss=loss, optimizer=opt, lr=lr, steps=50,
                    record_every=1, record_params=True, progress=False, n_threads=1,
                    batch_size=5 if opt == "sgd" else None)
    assert res.diverged.all() and np.isfinite(res.params).all()
    for b in range(2):
        k = res.steps_taken[b]
        assert np.array_equal(res.params[b], res.trajectory[b, k])
        assert np.isnan(res.loss[b, k + 1:]).all()
        with np.errstate(all="ignore"):
            L = ref(arch, res.params[b], X, Y, loss)[0]
        assert not np.isfinite(L) and not np.isfinite(res.final_loss[b])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = _json_round_trip(res)
    for f in ("params", "trajectory", "steps_taken", "diverged", "record_steps"):
        assert np.array_equal(getattr(back, f), getattr(res, f), equal_nan=True), f
    assert np.isnan(back.final_loss).all()      # inf is written as null, read back as NaN


def test_to_dict_of_a_network_stopped_at_step_0_warns_nothing():
    """Before: ``max_abs_drift`` came from ``np.nanmax`` over a network with no finite record
    (stopped at step 0 on a non-finite loss), which raised NumPy's "All-NaN slice
    encountered" RuntimeWarning from ``to_dict`` (an error under ``-W error``)."""
    arch = Architecture(2, (3,), 1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 2)), rng.standard_normal(5)
    th = rng.standard_normal((2, arch.n_params))
    th[1] *= 1e200
    with pytest.warns(DivergenceWarning, match="1 of 2"):
        res = train(th, X, y, arch=arch, lr=0.1, steps=3, progress=False)
    assert res.steps_taken.tolist() == [3, 0] and np.isnan(res.conserved[1]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = res.to_dict()
        back = _json_round_trip(res)
    drift = np.nanmax(np.abs(res.conserved[0] - res.conserved[0, :1]))
    assert d["max_abs_drift"][0] == drift and np.isnan(d["max_abs_drift"][1])
    assert np.array_equal(back.params, res.params)


# --- gradient flow ----------------------------------------------------------------------------
def _flow_problem():
    arch = Architecture(2, (3,), 1, activation="tanh")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 2)), rng.standard_normal(5)
    return arch, X, y, rng.standard_normal((2, arch.n_params))


@pytest.mark.parametrize("method", ["compiled", "python"])
def test_flow_record_times_edges(method):
    arch, X, y, th = _flow_problem()

    def flow(**kw):
        return gradient_flow(th, X, y, arch=arch, t_end=1.0, progress=False, method=method,
                             **kw)

    for rt, match in (([], "at least one time"), ([0.5, 0.2], "strictly increasing"),
                      ([0.2, 0.2], "strictly increasing"), ([1.5], r"\[0, t_end\]"),
                      ([-1e-300, 0.5], r"\[0, t_end\]"), ([0.3, np.inf], "finite")):
        with pytest.raises(ValidationError, match=match):
            flow(record_times=rt)
    full = flow(record_times=[0.0, 1.0])
    L0 = [ref(arch, t, X, y[:, None], "mse")[0] for t in th]
    np.testing.assert_allclose(full.loss[:, 0], L0, rtol=1e-15)
    assert full.record_steps[0] == 0 and full.record_steps[1] == full.steps_taken.max()
    assert np.array_equal(full.loss[:, 1], full.final_loss)
    assert np.array_equal(flow(record_times=[0.0]).loss[:, 0], full.loss[:, 0])
    assert np.array_equal(flow(record_times=[1.0]).loss[:, 0], full.loss[:, 1])


def test_record_times_error_shows_times_beyond_t_end_to_the_last_bit():
    """Before: ``got times from 0 to 1`` for a time 1.0000000000000002 > t_end = 1 (``:g``)."""
    arch, X, y, th = _flow_problem()
    with pytest.raises(ValidationError, match=r"\[0, 1\]; got times from 0 to "
                                              r"1\.0000000000000002"):
        gradient_flow(th, X, y, arch=arch, t_end=1.0, progress=False,
                      record_times=[0.0, np.nextafter(1.0, 2.0)])


def test_flow_of_a_subnormal_t_end_in_both_methods():
    """Before: ``method="python"`` raised TypeError for t_end = 5e-324 (the default record
    times round to 0 and the continuous extension at x = 0 summed no term)."""
    arch, X, y, th = _flow_problem()
    c = gradient_flow(th, X, y, arch=arch, t_end=5e-324, progress=False)
    p = gradient_flow(th, X, y, arch=arch, t_end=5e-324, progress=False, method="python")
    L0 = [ref(arch, t, X, y[:, None], "mse")[0] for t in th]
    for r in (c, p):
        assert (r.status == 1).all() and (r.final_time == 5e-324).all()
        np.testing.assert_allclose(r.loss[:, 0], L0, rtol=1e-15)
        assert np.isfinite(r.loss).all()
    np.testing.assert_allclose(p.loss, c.loss, rtol=1e-12)
    np.testing.assert_allclose(p.params, c.params, rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(t_end=1e-300, record_times=[0, 1e-300]),
                                dict(t_end=1e300, max_steps=30, record_times=[0, 1, 1e300]),
                                dict(t_end=1.0, rtol=1.0, atol=1e10),
                                dict(t_end=1.0, rtol=0.0, atol=1e-14),
                                dict(t_end=1.0, rtol=1e-13, atol=0.0),
                                dict(t_end=1.0, first_step=1e300),
                                dict(t_end=1.0, first_step=1e-300, max_steps=5)])
def test_flow_extreme_times_and_tolerances_compiled_is_python(kw):
    arch, X, y, th = _flow_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = gradient_flow(th, X, y, arch=arch, progress=False, n_threads=1, **kw)
        p = gradient_flow(th, X, y, arch=arch, progress=False, method="python", **kw)
    assert np.isfinite(c.params).all() and np.isin(c.status, [1, 4]).all()
    for f in ("steps_taken", "rejected_steps", "status"):
        assert np.array_equal(getattr(c, f), getattr(p, f)), f
    for f in ("params", "final_loss", "final_time", "loss"):
        np.testing.assert_allclose(getattr(c, f), getattr(p, f), rtol=1e-11, atol=0), f
    json.dumps(to_jsonable(c.to_dict()), allow_nan=False)


# --- segments ---------------------------------------------------------------------------------
@pytest.mark.parametrize("N", SIZES)
@pytest.mark.parametrize("arch, loss", EDGE_ARCHS[1:5])
def test_segments_at_block_edges_match_the_reference(arch, loss, N):
    rng = np.random.default_rng(N)
    X, y, Y = _data(arch, loss, N, rng, integer=True)
    A = rng.integers(-1, 2, (3, arch.n_params)).astype(float)    # exact kinks at t = 0
    Bm = rng.standard_normal((3, arch.n_params))
    ts = np.array([0.0, 1.0, 0.5, 0.25, 0.25, -0.5, 2.0, 1e-300])
    res = interpolate(A, Bm, X, y, arch=arch, loss=loss, ts=ts)
    for m in range(3):
        want = [ref(arch, (1 - t) * A[m] + t * Bm[m], X, Y, loss)[0] for t in ts]
        np.testing.assert_allclose(res.loss[m], want, rtol=1e-13, atol=1e-15)
    paths = path_losses(np.stack([A, Bm, A], axis=1), X, y, arch=arch, loss=loss,
                        ts=[0.0, 0.5, 1.0])
    np.testing.assert_allclose(paths.loss[:, 0], res.loss[:, [0, 2, 1]], rtol=1e-13)
    np.testing.assert_allclose(paths.loss[:, 1], res.loss[:, [1, 2, 0]], rtol=1e-13)
    bar = interpolation_barrier(A, Bm, X, y, arch=arch, loss=loss, n_points=2)
    assert bar.ts.tolist() == [0.0, 0.5, 1.0]
    chord = (res.loss[:, 0] + res.loss[:, 1]) / 2
    np.testing.assert_allclose(bar.midpoint, res.loss[:, 2] - chord, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_segment_from_a_finite_loss_to_an_overflowing_end_is_finite_near_the_finite_end(dtype):
    """Before: the kernel mixes the ends' first-layer pre-activations, ``(1 − t) Z_a + t Z_b``;
    with ``Z_b`` beyond the float range (an endpoint whose own loss is infinite, such as the
    last finite parameters of a diverged run) that gave ``0 · inf = NaN`` at ``t = 0`` and inf
    at tiny ``t``, reported as diverged, where ``θ_t`` and its loss are finite."""
    arch = Architecture(1, (1,), 1)
    a = np.array([1.0, 0.0, 1.0, 0.0])
    b = np.array([1e30, 0.0, 1e30, 0.0])       # z_b = 1e40 (beyond float32), output 1e70
    X, y = np.array([[1e10]]), np.array([0.0])
    big = 1e300 if dtype == "float64" else 1e30
    ts = [0.0, 1e-30, 1.0] if dtype == "float32" else [0.0, 1e-320, 1.0]
    b = b * (big / 1e30)
    with pytest.warns(DivergenceWarning, match="1 of 3 evaluation points"):
        res = interpolate(a, b, X, y, arch=arch, loss="mse", ts=ts, dtype=dtype)
    want = [ref(arch, (1 - t) * a + t * b, X, y[:, None], "mse")[0] for t in ts[:2]]
    np.testing.assert_allclose(res.loss[0, :2], want, rtol=1e-6 if dtype == "float32" else 1e-15)
    assert not np.isfinite(res.loss[0, 2])
    with pytest.warns(DivergenceWarning):
        bce = interpolate(a, b, X, [1.0], arch=arch, loss="bce", ts=ts, dtype=dtype)
    assert bce.loss[0, 0] == 0.0 and bce.accuracy[0, 0] == 1.0


def test_diverged_training_endpoint_segment_starts_at_the_initial_loss():
    arch = Architecture(2, (4,), 2)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 2)), rng.integers(0, 2, 40)
    th0 = rng.standard_normal((2, arch.n_params))
    with pytest.warns(DivergenceWarning):
        res = train(th0, X, y, arch=arch, loss="cross_entropy", lr=1e300, steps=5,
                    progress=False)
    assert res.diverged.all() and np.isfinite(res.params).all()
    with pytest.warns(DivergenceWarning):
        seg = interpolate(th0, res.params, X, y, arch=arch, loss="cross_entropy", ts=[0, 1])
    L0, _ = batch_loss_and_gradient(th0, X, y, arch=arch, loss="cross_entropy")
    assert np.array_equal(seg.loss[:, 0], L0)
