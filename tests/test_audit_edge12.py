"""Session-12 edge audit: the float32 paths (training, flow, segments, landscape) at the edges
of float32's range, and the Landscape object with degenerate networks and data."""

import json
import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape
from topoanalysis.dynamics import (_engine, batch_loss_and_gradient, gradient_flow, interpolate,
                                   interpolation_barrier, path_losses, train)
from topoanalysis.exceptions import ValidationError
from topoanalysis.init import init_params

from test_engine_float32 import F, loss_and_grad

f32 = pytest.mark.skipif("float32" not in _engine.kernels().DTYPES,
                         reason="engine built without float32 kernels")


def small():
    arch = Architecture(2, (3,), 1)
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7], [2.0, 1.0]])
    y = np.array([[1.0], [0.0], [0.5], [2.0]])
    return arch, X, y, init_params(arch, n_networks=2, seed=0)


# --- float32: hyperparameters that round to 0 or inf --------------------------------------
@f32
def test_float32_adam_eps_rounding_to_zero_is_refused_not_nan_at_a_dead_neuron():
    """eps = 1e-46 is 0 in float: Adam's update at a dead neuron (gradient always 0) was
    0 / (0 + 0) = NaN and the network was reported as diverged (float64: fine)."""
    arch, X, y, th = small()
    th = th[:1].copy()
    th[0, 6] = -100.0                     # hidden bias of neuron 0: dead on every sample
    kw = dict(arch=arch, optimizer="adam", lr=0.01, steps=3, progress=False, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no DivergenceWarning in float64
        assert not train(th, X, y, eps=1e-46, **kw).diverged.any()
        # the smallest eps float32 holds works: 0 / (0 + eps) = 0
        ok = train(th, X, y, eps=1e-45, dtype="float32", **kw)
    assert not ok.diverged.any() and np.all(np.isfinite(ok.params))
    assert ok.params[0, 0] == np.float32(th[0, 0])          # the dead neuron did not move
    with pytest.raises(ValidationError, match=r"^`eps` must be above 7\.006e-46"):
        train(th, X, y, eps=1e-46, dtype="float32", **kw)
    with pytest.raises(ValidationError, match=r"^`eps` must be at most 3\.403e\+38"):
        train(th, X, y, eps=1e39, dtype="float32", **kw)
    # an lr that rounds to 0 would leave every parameter where it is
    with pytest.raises(ValidationError, match=r"^`lr` must be above 7\.006e-46"):
        train(th, X, y, **dict(kw, lr=1e-46, optimizer="gd"), dtype="float32")
    # eps is Adam's only: other optimizers ignore it
    train(th, X, y, **dict(kw, optimizer="momentum"), eps=1e-46, dtype="float32")


@f32
def test_float32_penalty_beyond_float32_is_refused():
    """The DSS bead penalty in the float32 step: 2 spring, plane and the ends as floats; a
    spring whose double rounds to inf made inf x (θ − m) = NaN at the midpoint."""
    arch, X, y, th = small()
    th = th[:1]
    left, right = th - 0.5, th + 0.5
    kw = dict(arch=arch, optimizer="adam", lr=0.01, steps=2, progress=False, n_threads=1,
              dtype="float32")
    mid = 0.5 * left + 0.5 * right
    with pytest.raises(ValidationError, match=r"^`penalty spring` must be at most 1\.701e\+38"):
        train(mid, X, y, penalty=(2e38, 0.0, left, right), **kw)
    with pytest.raises(ValidationError, match=r"^`penalty plane` must be at most"):
        train(mid, X, y, penalty=(1.0, 1e39, left, right), **kw)
    with pytest.raises(ValidationError, match=r"^`penalty left` must lie within float32"):
        train(mid, X, y, penalty=(1.0, 1.0, left + 1e39, right), **kw)
    res = train(mid, X, y, penalty=(1e38, 1.0, left, right), **kw)
    assert not res.diverged.any()
    # float64 takes the same spring
    assert not train(mid, X, y, penalty=(2e38, 0.0, left, right),
                     **dict(kw, dtype="float64")).diverged.any()


# --- float32: data, parameters, endpoints beyond float32's range --------------------------
@f32
@pytest.mark.parametrize("method", ["compiled", "python"])
def test_float32_flow_refuses_values_beyond_float32(method):
    """gradient_flow(dtype="float32") rounded X, y and theta0 beyond 3.4e38 to inf (an
    overflow warning, every network 'diverged'); train refuses them: so does the flow now."""
    arch, X, y, th = small()
    kw = dict(arch=arch, t_end=0.1, dtype="float32", progress=False, method=method,
              n_threads=1)
    Xb, yb, tb = X.copy(), y.copy(), th.copy()
    Xb[0, 0] = yb[0, 0] = tb[0, 0] = 1e39
    with np.errstate(over="raise"):
        for args, name in (((th, Xb, y), "X"), ((th, X, yb), "y"), ((tb, X, y), "theta0")):
            with pytest.raises(ValidationError, match=rf"^`{name}` must lie within float32"):
                gradient_flow(*args, **kw)
        with pytest.raises(ValidationError, match=r"^`X` must lie within float32"):
            train(th, Xb, y, arch=arch, optimizer="flow", t_end=0.1, dtype="float32",
                  progress=False)
        assert np.all(np.isfinite(gradient_flow(th, X, y, **kw).final_loss))


@f32
def test_float32_segments_refuse_endpoints_and_ts_beyond_float32():
    """interpolate / interpolation_barrier / path_losses with dtype="float32" rounded
    endpoints, beads and ts beyond 3.4e38 to inf: every point 'diverged' after an overflow
    warning. Now one line naming the argument (the data already were)."""
    arch, X, y, th = small()
    tb = th.copy()
    tb[1, 4] = -1e39
    kw = dict(arch=arch, dtype="float32", n_threads=1)
    with np.errstate(over="raise"):
        with pytest.raises(ValidationError, match=r"^`theta_b` must lie within float32"):
            interpolate(th[0], tb[1], X, y, **kw)
        with pytest.raises(ValidationError, match=r"^`theta_a` must lie within float32"):
            interpolation_barrier(tb[1], th[0], X, y, **kw)
        with pytest.raises(ValidationError, match=r"^`beads` must lie within float32"):
            path_losses(tb, X, y, **kw)
        with pytest.raises(ValidationError, match=r"^`ts` must lie within float32"):
            interpolate(th[0], th[1], X, y, ts=[0.0, 1e39], **kw)
        land = Landscape(arch, X, y, "mse", "float32")
        with pytest.raises(ValidationError, match=r"^`theta_a` must lie within float32"):
            land.interpolate(tb[1], th[0])
        with pytest.raises(ValidationError, match=r"^`theta0` must lie within float32"):
            land.train(tb, optimizer="flow", t_end=0.1, progress=False)
    # float64 evaluates the same endpoints (huge, finite losses or a divergence warning)
    assert interpolate(th[0], th[1], X, y, arch=arch, ts=[0.0, 1e39]).loss.shape == (1, 2)


@f32
def test_float32_landscape_refuses_data_beyond_float32_at_construction():
    """Landscape(..., dtype="float32") accepted X or y beyond 3.4e38 and rounded them to inf
    at the first evaluation."""
    arch, X, y, th = small()
    Xb, yb = X.copy(), y.copy()
    Xb[2, 1] = 5e38
    yb[3, 0] = -1e300
    with np.errstate(over="raise"):
        with pytest.raises(ValidationError, match=r"^`X` must lie within float32"):
            Landscape(arch, Xb, y, "mse", "float32")
        with pytest.raises(ValidationError, match=r"^`y` must lie within float32"):
            Landscape(arch, X, yb, "mse", "float32")
    assert np.isfinite(Landscape(arch, Xb, y, "mse").loss(th[0]))


# --- float32: exact kinks and dead neurons against the float32 NumPy reference ---------------
@f32
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "abs"])
def test_float32_exact_kinks_and_dead_neurons_follow_the_reference(activation):
    """Pre-activations exactly 0 (integer data and weights) take σ'(0) of the float64 path
    (0 for ReLU and abs, the slope for leaky ReLU); a dead neuron gets a zero gradient; one
    network alone gives the bits it gets in a stack, on 1 and 2 threads."""
    arch = Architecture(2, (4,), 1, activation=activation)
    X = np.array([[1.0, 2.0], [-1.0, 1.0], [2.0, -1.0], [0.0, 0.0], [3.0, 1.0]])
    W1 = np.array([[1.0, -1.0], [1.0, 1.0], [-2.0, 0.0], [0.5, 0.5]])
    b1 = np.array([1.0, 0.0, -100.0, -2.0])
    th = np.concatenate([W1.ravel(), b1, [1.5, -0.5, 2.0, 1.0], [0.25]])
    assert np.count_nonzero(X @ W1.T + b1 == 0) == 4
    y = np.array([1.0, 0.0, 2.0, -1.0, 0.5])
    stack = np.stack([th, th * 0.5, th])
    for loss in ("mse", "l1", "bce"):
        yy = (y > 0.4) * 1.0 if loss == "bce" else y
        _, g = loss_and_grad(arch, loss, th.astype(F), X.astype(F),
                             yy.reshape(-1, 1).astype(F))
        L1, G1 = batch_loss_and_gradient(th, X, yy, arch=arch, loss=loss, dtype="float32",
                                         n_threads=1)
        L3, G3 = batch_loss_and_gradient(stack, X, yy, arch=arch, loss=loss, dtype="float32",
                                         n_threads=2)
        assert np.array_equal(G1[0], G3[0]) and np.array_equal(G3[0], G3[2])
        assert L1[0] == L3[0] == L3[2]
        assert np.max(np.abs(G1[0] - g)) <= 8 * np.finfo(F).eps * np.max(np.abs(g))
        if activation == "relu":    # neuron 2 is dead (leaky ReLU and abs have none)
            assert np.all(G1[0][[4, 5, 10]] == 0)


# --- float32: tiny data and parameters (subnormal in float) ---------------------------------
@f32
@pytest.mark.parametrize("sx,st", [(1e-40, 1.0), (1.0, 1e-40), (1e-42, 1e3)])
def test_float32_subnormal_data_and_weights_follow_the_reference(sx, st):
    arch = Architecture(3, (5,), 1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3)) * sx
    y = rng.standard_normal((40, 1)) * 1e-3
    th = init_params(arch, n_networks=1, seed=2) * st
    for loss in ("mse", "l1"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            L, G = batch_loss_and_gradient(th, X, y, arch=arch, loss=loss, dtype="float32",
                                           n_threads=1)
        val, g = loss_and_grad(arch, loss, th[0].astype(F), X.astype(F), y.astype(F))
        assert np.all(np.isfinite(G)) and abs(L[0] - val) <= 1e-6 * abs(val)
        assert np.max(np.abs(G[0] - g)) <= 8 * np.finfo(F).eps * np.max(np.abs(g))


# --- a loss overflowing from finite outputs is reported --------------------------------------
@f32
def test_loss_overflow_from_finite_outputs_is_reported_as_diverged():
    """float32 mse with parameters 1e10 (outputs ~1e20, finite in float) has float terms r^2
    beyond float32: the loss is inf. It came back silently from batch_loss_and_gradient, the
    landscape and interpolate (train did report it); float64 at 1e150 the same, with a NaN
    gradient. Now a DivergenceWarning, as for non-finite outputs."""
    from topoanalysis.exceptions import DivergenceWarning

    arch = Architecture(2, (3,), 1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 2)), rng.standard_normal(5)
    th = rng.standard_normal(arch.n_params) * 1e10
    land32 = Landscape(arch, X, y, "mse", "float32")
    with pytest.warns(DivergenceWarning, match="loss or gradient"):
        L, _ = batch_loss_and_gradient(th, X, y, arch=arch, dtype="float32", n_threads=1)
    assert L[0] == np.inf
    with pytest.warns(DivergenceWarning):
        assert land32.loss(th) == np.inf
    with pytest.warns(DivergenceWarning, match="evaluation points"):
        interpolate(th, 1.1 * th, X, y, arch=arch, n_points=3, dtype="float32", n_threads=1)
    # float64 holds that loss ...
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(Landscape(arch, X, y).loss(th))
    # ... and overflows at 1e150: inf loss, NaN gradient, reported
    land = Landscape(arch, X, y, n_threads=1)
    big = th * 1e140
    with pytest.warns(DivergenceWarning):
        assert land.loss(big) == np.inf
    with pytest.warns(DivergenceWarning):
        assert not np.all(np.isfinite(land.gradient(big)))
    # the barrier of a non-finite segment is NaN, with the DivergenceWarning and no NumPy
    # "invalid value" RuntimeWarning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bar = land.interpolation_barrier(big, big, n_points=3)
    assert np.isnan(bar.barrier[0])
    assert [w.category for w in caught] == [DivergenceWarning]


@f32
def test_float32_leaky_relu_slope_beyond_float32_is_refused():
    """The float32 kernels take the leaky-ReLU slope as a float: 1e39 became inf (every
    network 'diverged', NaN gradient), 1e-50 became 0 (a ReLU, silently)."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    for slope in (1e39, -1e39, 1e-50):
        arch = Architecture(3, (4,), 1, activation="leaky_relu", negative_slope=slope)
        th = init_params(arch, n_networks=1, seed=0)
        with pytest.raises(ValidationError, match=r"^`negative_slope` must be 0 or"):
            batch_loss_and_gradient(th, X, y, arch=arch, dtype="float32")
        with pytest.raises(ValidationError, match=r"^`negative_slope`"):
            Landscape(arch, X, y, "mse", "float32")
        with pytest.raises(ValidationError, match=r"^`negative_slope`"):
            train(th, X, y, arch=arch, lr=0.1, steps=1, dtype="float32", progress=False)
        assert np.isfinite(batch_loss_and_gradient(th, X, y, arch=arch)[0][0])   # float64
    for slope in (0.0, -0.5, 1e-45, 1e38):
        arch = Architecture(3, (4,), 1, activation="leaky_relu", negative_slope=slope)
        Landscape(arch, X, y, "mse", "float32")


# --- Landscape: results of another architecture -----------------------------------------------
def test_results_of_another_architecture_are_refused_by_a_landscape():
    """A BeadString (evaluate, string_slice) or a TrainResult (pca_slice) of another
    architecture with the same number of parameters (2-3-1 and 1-4-1: 13; relu and abs) was
    read in the landscape's layout: the losses of other networks, silently. And evaluate
    ignored a `loss` different from the landscape's."""
    from topoanalysis.levelsets import dynamic_string_sampling, pca_slice, string_slice

    rng = np.random.default_rng(0)
    arch = Architecture(2, (3,), 1)
    X, y = rng.standard_normal((20, 2)), rng.standard_normal(20)
    land = Landscape(arch, X, y, n_threads=1)
    th = init_params(arch, n_networks=2, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = dynamic_string_sampling(th[0], th[1], land, threshold=10.0, progress=False)[0]
    tr = land.train(th[0], lr=0.05, steps=4, record_params=True, record_every=1, progress=False)
    assert s.evaluate(land)[1].shape == (s.beads.shape[0] - 1,)
    others = [Landscape(Architecture(1, (4,), 1), X[:, :1], y),
              Landscape(Architecture(2, (3,), 1, activation="abs"), X, y)]
    for other in others:
        assert other.n_params == arch.n_params
        with pytest.raises(ValidationError, match=r"^`X` must be a landscape of the string's"):
            s.evaluate(other)
        with pytest.raises(ValidationError, match=r"^`string` must be of the landscape's"):
            string_slice(other, s, n=5)
        with pytest.raises(ValidationError, match=r"^`trajectory` must be of the landscape's"):
            pca_slice(other, tr, n=5)
    with pytest.raises(ValidationError, match=r"^`loss` must be None or the landscape's"):
        s.evaluate(land, loss="l1")
    # plain arrays are read in the landscape's layout, as documented
    assert string_slice(land, s.beads, n=5).loss.shape == (5, 5)


@f32
def test_float32_landscape_blocks_its_data_once_and_matches_the_loose_calls(monkeypatch):
    """The guide: a landscape's methods give the loose functions' numbers bit for bit,
    without validating and re-blocking the data at every call. A float32 landscape did that
    for loss and gradient only: train, interpolate, path_losses and interpolation_barrier
    (every bead and gap check of Dynamic String Sampling) re-blocked the data at each call."""
    arch = Architecture(2, (3,), 1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 2)), rng.standard_normal(50)
    th = rng.standard_normal((3, arch.n_params))
    land = Landscape(arch, X, y, "mse", "float32", n_threads=1)
    land.loss(th)                                    # the float32 blocks, made once
    calls = []
    real = _engine.block_data
    monkeypatch.setattr(_engine, "block_data", lambda *a: calls.append(1) or real(*a))
    kw = dict(optimizer="adam", lr=0.1, steps=5, batch_size=20, record_params=True,
              progress=False)
    got = [land.interpolate(th[0], th[1:], n_points=7).loss, land.train(th, **kw).trajectory,
           land.path_losses(th, points_per_edge=4).loss,
           land.interpolation_barrier(th[0], th[1]).loss]
    assert calls == []
    monkeypatch.setattr(_engine, "block_data", real)
    one = dict(arch=arch, dtype="float32", n_threads=1)
    want = [interpolate(th[0], th[1:], X, y, n_points=7, **one).loss,
            train(th, X, y, **kw, **one).trajectory,
            path_losses(th, X, y, points_per_edge=4, **one).loss,
            interpolation_barrier(th[0], th[1], X, y, **one).loss]
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
    flow = land.train(th, optimizer="flow", t_end=0.2, progress=False)
    assert np.array_equal(flow.params, gradient_flow(th, X, y, t_end=0.2, progress=False,
                                                     **one).params)
