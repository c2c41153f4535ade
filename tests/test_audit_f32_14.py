"""Audit of the float32 dynamics layer (session 14): independent oracles (exact sums of float32
terms, float64 and hand-made float32 references) against ``batch_loss_and_gradient``,
``Landscape``, ``train``, ``gradient_flow`` and the segment functions with
``dtype="float32"``."""

import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape
from topoanalysis.dynamics import (_engine, batch_loss_and_gradient, gradient_flow, interpolate,
                                   train)
from topoanalysis.exceptions import DivergenceWarning

F = np.float32
pytestmark = pytest.mark.skipif("float32" not in _engine.kernels().DTYPES,
                                reason="engine built without float32 kernels")


@pytest.fixture(params=["default", "v3", "v4"])
def clone(request):
    if request.param not in _engine.supported_clones():
        pytest.skip(f"clone {request.param} not supported by this CPU")
    before = _engine.set_clone(request.param)
    yield request.param
    _engine.set_clone(before)


def constant_output(y, o=0.0):
    """A network whose output is the constant ``o`` (W1 = b1 = w2 = 0, output bias ``o``), so
    that every mse term is ``(o - y_n)^2``: the loss is known exactly from ``y``."""
    arch = Architecture(1, (1,), 1)
    theta = np.zeros((1, arch.n_params))
    theta[0, -1] = o
    return arch, np.zeros((len(y), 1)), np.asarray(y, dtype=float), theta


def exact_mean_of_float32_terms(y, o=0.0):
    """The documented float32 loss: float32 terms (o - y)^2, summed in double."""
    r = F(o) - np.asarray(y, dtype=F)
    return float(np.sum((r * r).astype(np.float64))) / len(y)


def float32_losses(arch, X, y, theta):
    """The full-data float32 loss at ``theta`` through every float32 entry point."""
    a = theta[0]
    b = a.copy()
    b[0] = 0.5                       # W1 only: the output stays the output bias
    out = {"batch": batch_loss_and_gradient(theta, X, y, arch=arch, loss="mse", n_threads=1,
                                            dtype="float32")[0][0],
           "landscape": Landscape(arch, X, y, "mse", "float32").loss(a)}
    seg = interpolate(a, b, X, y, arch=arch, loss="mse", ts=[0.0, 0.5, 1.0], dtype="float32")
    out.update(("segment t=%g" % t, v) for t, v in zip(seg.ts, seg.loss[0]))
    res = train(theta, X, y, arch=arch, loss="mse", lr=1e-30, steps=1, progress=False,
                dtype="float32")
    out["train record"] = res.loss[0, 0]
    for method in ("compiled", "python"):
        fl = gradient_flow(theta, X, y, arch=arch, loss="mse", t_end=1e-30, method=method,
                           progress=False, dtype="float32")
        out[f"flow {method}"] = fl.loss[0, 0]
    return out


def test_float32_loss_is_a_double_sum_of_float_terms(clone):
    """The documented float32 loss sums float terms in double. A term of 2^24 followed by
    terms of 1 in the same lanes: a float partial sum drops every 1 (2^24 + 1 rounds to
    2^24), a double sum keeps them; the expected mean is exact. Before: lane sums in float
    over a whole shard, 62 float32 ulps off at N = 1000."""
    y = np.ones(1000)
    y[0] = 4096.0
    arch, X, y, theta = constant_output(y)
    want = (2.0 ** 24 + 999) / 1000
    assert exact_mean_of_float32_terms(y) == want
    for where, got in float32_losses(arch, X, y, theta).items():
        assert got == want, (clone, where, got, want)


def test_float32_loss_of_finite_terms_is_not_inf(clone):
    """mse residuals of 1e19 (terms 1e38, below float32's 3.4e38): the loss is the finite mean
    1e38, with no DivergenceWarning. Before: 4 terms added in float lanes overflowed, the loss
    was inf and the networks were reported as diverged (the documented threshold is a term
    beyond 3.4e38, a residual beyond 1.8e19)."""
    y = np.full(20, 1e19)
    arch, X, y, theta = constant_output(y)
    want = exact_mean_of_float32_terms(y)
    assert np.isfinite(want)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        for where, got in float32_losses(arch, X, y, theta).items():
            assert got == want, (clone, where, got, want)


# float32 rounds x to inf exactly when |x| >= FMAX + ulp(FMAX) / 2 (round half to even: the
# midpoint itself goes to the even neighbour, 2^128 = inf)
FMAX = float(np.finfo(F).max)
TO_FMAX = float(np.nextafter(FMAX + 2.0 ** 103, 0.0))   # largest double rounding to FMAX
TO_INF = FMAX + 2.0 ** 103                      # smallest double rounding to inf


def test_float32_refuses_exactly_what_rounds_to_inf():
    """Values above float32's largest number that still round to it are finite float32
    values: accepted (as the smallest values rounding to 0 are refused and the larger ones
    taken), and only what rounds to inf is refused. Before: everything above FMAX was refused
    (data, parameters, ``ts``, ``lr``, Adam's ``eps``, a leaky ReLU slope)."""
    from topoanalysis.exceptions import ValidationError

    with np.errstate(over="ignore"):
        assert F(TO_FMAX) == F(FMAX) and np.isinf(F(TO_INF))
    arch = Architecture(1, (1,), 1)
    theta = np.zeros((1, arch.n_params))
    X, y = np.zeros((3, 1)), np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for big, ok in ((TO_FMAX, True), (TO_INF, False)):
            th = theta.copy()
            th[0, 0] = big            # W1 * 0 = 0: a finite loss
            Xb = X.copy()
            Xb[0, 0] = big
            calls = [
                lambda: batch_loss_and_gradient(th, X, y, arch=arch, dtype="float32"),
                lambda: batch_loss_and_gradient(theta, Xb, y, arch=arch, loss="l1",
                                                dtype="float32"),
                lambda: train(theta, X, y, arch=arch, lr=big, steps=1, progress=False,
                              dtype="float32"),
                lambda: train(theta, X, y, arch=arch, optimizer="adam", lr=0.1, eps=big,
                              steps=1, progress=False, dtype="float32"),
                lambda: interpolate(th[0], theta[0], X, y, arch=arch, ts=[0.0, 1.0],
                                    dtype="float32"),
                lambda: Landscape(Architecture(1, (1,), 1, activation=f"leaky_relu({big!r})"),
                                  X, y, "mse", "float32").loss(theta),
            ]
            for i, call in enumerate(calls):
                if ok:
                    call()
                else:
                    with pytest.raises(ValidationError, match="float32"):
                        call()


@pytest.mark.parametrize("N", [1, 15, 16, 17, 31, 33, 257, 4099])
def test_float32_loss_is_exact_sum_of_its_terms_at_block_edges(N):
    """With a constant output the float32 terms are known (mse, l1: from y alone; bce: the
    two values of one-sample evaluations, y = 0 and y = 1), and a double sum of them is exact:
    every float32 entry point, every clone, 1 and 2 threads, at the edges of the 16-sample
    blocks (padding lanes masked in the 8-float and the v4 clone's 16-float loss passes)."""
    rng = np.random.default_rng(N)
    y01 = (rng.random(N) > 0.5) * 1.0
    yr = rng.standard_normal(N).astype(F).astype(float)
    arch, X, _, theta = constant_output(yr, o=0.25)
    th3 = np.repeat(theta, 3, axis=0)
    r = F(0.25) - yr.astype(F)
    want = {"mse": float(np.sum((r * r).astype(np.float64))) / N,
            "l1": float(np.sum(np.abs(r).astype(np.float64))) / N}
    for clone in _engine.supported_clones():
        before = _engine.set_clone(clone)
        try:
            one = [batch_loss_and_gradient(theta, np.zeros((1, 1)), [v], arch=arch, loss="bce",
                                           dtype="float32")[0][0] for v in (0.0, 1.0)]
            want["bce"] = (np.sum(y01 == 0) * one[0] + np.sum(y01 == 1) * one[1]) / N
            for loss, y in (("mse", yr), ("l1", yr), ("bce", y01)):
                for threads in (1, 2):
                    L = batch_loss_and_gradient(th3, X, y, arch=arch, loss=loss,
                                                n_threads=threads, dtype="float32")[0]
                    assert np.all(L == want[loss]), (clone, loss, threads, L, want[loss])
                seg = interpolate(theta[0], theta[0] + 1.0 * (np.arange(arch.n_params) == 0),
                                  X, y, arch=arch, loss=loss, ts=[0.0, 0.5, 1.0],
                                  dtype="float32", n_threads=2).loss
                assert np.all(seg == want[loss]), (clone, loss, seg, want[loss])
        finally:
            _engine.set_clone(before)


def test_float32_train_result_survives_a_json_round_trip():
    """``TrainResult.from_dict`` is the inverse of ``to_dict``: a float32 run's parameters and
    trajectory come back float32 (the values are exact: float32 -> float -> JSON -> float32).
    Before: they came back float64 while ``settings["dtype"]`` said float32."""
    import json

    from topoanalysis.dynamics import TrainResult

    arch = Architecture(2, (3,), 1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    y = (X[:, 0] > 0) * 1.0
    res = train(rng.standard_normal((2, arch.n_params)), X, y, arch=arch, loss="bce", lr=0.1,
                steps=3, record_params=True, progress=False, dtype="float32")
    back = TrainResult.from_dict(json.loads(json.dumps(res.to_dict())))
    for name in ("params", "trajectory"):
        a, b = getattr(res, name), getattr(back, name)
        assert b.dtype == a.dtype == np.float32 and np.array_equal(a, b)
    res64 = train(res.params.astype(float), X, y, arch=arch, loss="bce", lr=0.1, steps=1,
                  progress=False)
    assert TrainResult.from_dict(res64.to_dict()).params.dtype == np.float64


def test_float32_loss_lanes_identical_for_threads_shards_and_clones():
    """One network on 20,000 samples (the pass is split into sample shards, which the threads
    share): the double loss lanes give the same bits on 1 and 2 threads, in the flow as in
    training, and on the v3 and v4 clones (the v4 BCE pass adds each 16-float vector's halves
    low, then high)."""
    from topoanalysis.init import init_params

    arch = Architecture(5, (6,), 1)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((20000, 5))
    y = (X[:, 0] * X[:, 1] > 0) * 1.0
    theta = init_params(arch, n_networks=1, seed=2)
    kw = dict(arch=arch, loss="bce", lr=0.1, steps=6, record_every=1, progress=False,
              dtype="float32")
    clones = [c for c in ("v3", "v4") if c in _engine.supported_clones()] or [None]
    runs = []
    for clone in clones:
        before = _engine.set_clone(clone) if clone else None
        try:
            for threads in (1, 2):
                res = train(theta, X, y, n_threads=threads, **kw)
                fl = gradient_flow(theta, X, y, arch=arch, loss="bce", t_end=0.05,
                                   n_threads=threads, progress=False, dtype="float32")
                runs.append((res.loss, res.params, fl.loss, fl.params))
        finally:
            if clone:
                _engine.set_clone(before)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)
