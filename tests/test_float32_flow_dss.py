"""float32 beyond training (issue #16): the batched loss and gradient
(``batch_loss_and_gradient(..., dtype="float32")``, ``Landscape(..., dtype="float32")``),
the gradient flow (``gradient_flow(..., dtype="float32")``, compiled and reference
integrators) and Dynamic String Sampling on a float32 landscape, against the float32 NumPy
reference of ``tests/test_engine_float32.py``."""

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape
from topoanalysis.dynamics import _engine, batch_loss_and_gradient, gradient_flow, train
from topoanalysis.exceptions import ValidationError
from topoanalysis.init import init_params

from test_engine_float32 import F, loss_and_grad

pytestmark = pytest.mark.skipif("float32" not in _engine.kernels().DTYPES,
                                reason="engine built without float32 kernels")


def problem(act="relu", n=75, d=3, l=5, B=4, seed=0):
    arch = Architecture(d, (l,), 1, activation=act)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (np.sin(X[:, 0]) + X[:, 1] * X[:, 2] > 0).astype(float)
    return arch, X, y, init_params(arch, n_networks=B, seed=seed + 1)


def f32_ulps(a, b):
    """Largest difference in units of float32 eps times the scale of ``b``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / (np.finfo(F).eps * max(np.max(np.abs(b)), 1e-30)))


@pytest.mark.parametrize("act,loss", [("relu", "bce"), ("leaky_relu", "mse"),
                                      ("sigmoid", "l1"), ("abs", "bce")])
def test_batch_loss_and_gradient_float32_matches_numpy_float32(act, loss):
    arch, X, y, theta = problem(act)
    L, G = batch_loss_and_gradient(theta, X, y, arch=arch, loss=loss, dtype="float32")
    assert G.dtype == np.float32 and L.dtype == np.float64
    L64, G64 = batch_loss_and_gradient(theta, X, y, arch=arch, loss=loss)
    for b in range(theta.shape[0]):
        val, g = loss_and_grad(arch, loss, theta[b].astype(F), X.astype(F),
                               y.reshape(-1, 1).astype(F))
        assert f32_ulps(G[b], g) < 64
        assert abs(L[b] - val) <= 1e-5 * abs(val)
    # float32, not float64 arithmetic: differs from the float64 gradient by float rounding
    assert 0 < f32_ulps(G, G64) < 1e3


def test_float32_evaluation_same_for_1_and_2_threads_and_landscape():
    arch, X, y, theta = problem(B=5)
    a = batch_loss_and_gradient(theta, X, y, arch=arch, loss="bce", dtype="float32",
                                n_threads=1)
    b = batch_loss_and_gradient(theta, X, y, arch=arch, loss="bce", dtype="float32",
                                n_threads=2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    land = Landscape(arch, X, y, "bce", "float32")
    L, G = land.loss_and_gradient(theta)
    assert np.array_equal(L, a[0]) and np.array_equal(G, a[1])
    assert np.array_equal(land.loss(theta), a[0])
    assert land.loss(theta[0]) == a[0][0]


@pytest.mark.parametrize("act,loss", [("relu", "bce"), ("sigmoid", "mse")])
def test_float32_flow_compiled_matches_reference_integrator(act, loss):
    arch, X, y, theta = problem(act, B=3)
    kw = dict(arch=arch, loss=loss, t_end=2.0, rtol=1e-5, atol=1e-8, record_params=True,
              record_times=np.linspace(0, 2, 5), progress=False, dtype="float32")
    comp = gradient_flow(theta, X, y, method="compiled", **kw)
    ref = gradient_flow(theta, X, y, method="python", **kw)
    assert comp.settings["dtype"] == "float32"
    assert np.array_equal(comp.n_evaluations, ref.n_evaluations)
    np.testing.assert_allclose(comp.params, ref.params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(comp.loss, ref.loss, rtol=1e-12, atol=1e-14)
    one = gradient_flow(theta, X, y, method="compiled", n_threads=1, **kw)
    two = gradient_flow(theta, X, y, method="compiled", n_threads=2, **kw)
    assert np.array_equal(one.params, two.params)
    # the float32 right-hand side, not the float64 one: close to, not equal to, float64
    f64 = gradient_flow(theta, X, y, **{**kw, "dtype": "float64"})
    gap = np.max(np.abs(comp.params - f64.params))
    assert 0 < gap < 1e-3


def test_float32_flow_right_hand_side_is_numpy_float32():
    """One explicit Euler-size check: the first derivative the flow uses (its first stage
    k1 = -grad at theta0) is the float32 NumPy gradient at the float rounding of theta0."""
    arch, X, y, theta = problem(B=1)
    h = 1e-6
    res = gradient_flow(theta, X, y, arch=arch, loss="bce", t_end=h, first_step=h, rtol=1e-3,
                        atol=1e-6, record_times=[0.0, h], progress=False,
                        dtype="float32", record_conserved=False)
    _, g = loss_and_grad(arch, "bce", theta[0].astype(F), X.astype(F),
                         y.reshape(-1, 1).astype(F))
    step = (res.params[0] - theta[0]) / h
    # one DP5 step of size 1e-6: -grad up to O(h) changes of the gradient along the step
    np.testing.assert_allclose(step, -g.astype(np.float64), rtol=1e-3, atol=1e-5)


def test_float32_flow_refusals():
    arch, X, y, theta = problem()
    with pytest.raises(ValidationError, match="kink_events"):
        gradient_flow(theta, X, y, arch=arch, loss="bce", t_end=1.0, progress=False,
                      dtype="float32", kink_events=True)
    deep = Architecture(3, (4, 4), 1)
    with pytest.raises(Exception, match="float32"):
        gradient_flow(init_params(deep, n_networks=1), X, y, arch=deep, t_end=1.0,
                      progress=False, dtype="float32")
    res = train(theta, X, y, arch=arch, loss="bce", optimizer="flow", t_end=0.5,
                progress=False, dtype="float32")
    assert res.settings["dtype"] == "float32"


def test_dss_on_float32_landscape_runs_float32_kernels(monkeypatch):
    from topoanalysis.levelsets import dynamic_string_sampling
    from topoanalysis.levelsets.strings import _penalized_adam

    arch, X, y, _ = problem(l=6, n=60)
    land32 = Landscape(arch, X, y, "bce", "float32")
    nets = train(init_params(arch, n_networks=2, seed=3), X, y, arch=arch, loss="bce",
                 optimizer="adam", lr=0.05, steps=150, progress=False, dtype="float32").params
    # the penalized Adam of DSS: float32 loss and gradient, float32 update
    left, right = nets[:1].astype(np.float64), nets[1:].astype(np.float64)
    start = 0.5 * (left + right)
    p32 = _penalized_adam(start, left, right, land32, lr=1e-2, steps=5, spring=0.1,
                          plane=0.1, target=-1.0)[0]
    land64 = Landscape(arch, X, y, "bce")
    p64 = _penalized_adam(start, left, right, land64, lr=1e-2, steps=5, spring=0.1,
                          plane=0.1, target=-1.0)[0]
    assert np.array_equal(p32, p32.astype(np.float32).astype(np.float64))
    assert 0 < np.max(np.abs(p32 - p64)) < 1e-4
    # the whole DSS run on the float32 landscape: every loss and gradient in float32
    seen = {"f32": 0, "f64": 0}
    real32, real64 = _engine._evaluate_f32, _engine._evaluate

    def spy32(*a, **k):
        seen["f32"] += 1
        return real32(*a, **k)

    def spy64(*a, **k):
        seen["f64"] += 1
        return real64(*a, **k)

    monkeypatch.setattr(_engine, "_evaluate_f32", spy32)
    monkeypatch.setattr(_engine, "_evaluate", spy64)
    level = float(np.max(land32.loss(nets))) + 0.3
    res = dynamic_string_sampling(nets[0], nets[1], land32, threshold=level, steps=20,
                                  method="constrained", spring=0.1, plane=0.1, max_beads=4,
                                  n_points=20,
                                  progress=False)
    assert seen["f32"] > 0 and seen["f64"] == 0
    assert res.summary()
