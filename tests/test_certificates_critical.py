"""Certificates of the critical-point layer at the edges (issues #13, #14, #15).

Vector-output plateaus of a saddle-to-saddle run (snap to the stationary point of the smooth
piece), second-order decisions where the first-order test vanishes, the radius of a "local
minimum" with dead neurons, exact combinatorial facts, hardening of the public API, and plateau
detection that is scale-free in log-loss and log-time.
"""

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import classify, snap, stationarity
from topoanalysis.critical._point import pack
from topoanalysis.dynamics import train
from topoanalysis.init import init_params

# Wu, Simsek & Ged's 2-D -> 2-D task (their helpers.generate_2D_dataset): 4 points, no biases
WU_2D_X = np.array([(-0.3, 0.5), (1.0, 1.0), (-0.6, -1.0), (0.4, -0.4)])
WU_2D_Y = np.array([(0.6, -0.5), (0.5, -1.0), (-0.4, 0.6), (0.8, 0.2)])
WU_2D_ARCH = Architecture(2, (50,), 2, hidden_bias=False, output_bias=False)


def net_from(w, a, b=None, *, hidden_bias=True, activation="relu", slope=0.01):
    w, a = np.atleast_2d(np.asarray(w, float)), np.asarray(a, float)
    a = a.reshape(w.shape[0], -1)
    d = w.shape[1] - (1 if hidden_bias else 0)
    arch = Architecture(d, (w.shape[0],), a.shape[1], hidden_bias=hidden_bias,
                        output_bias=b is not None, activation=activation, negative_slope=slope)
    return Network(arch, pack(arch, w, a, None if b is None else np.atleast_1d(b)))


@pytest.fixture(scope="module")
def wu_2d_plateau():
    """The 0.0935 plateau of the 2-D -> 2-D run (seed 0, the authors' σ and lr, float64)."""
    th = init_params(WU_2D_ARCH, "normal", seed=0, std=50 ** -6.5)
    res = train(th, WU_2D_X, WU_2D_Y, arch=WU_2D_ARCH, lr=2e-3, steps=100_000,
                record_every=100_000, progress=False)
    net = Network(WU_2D_ARCH, res.params[0])
    assert net.loss(WU_2D_X, WU_2D_Y) == pytest.approx(0.0935467, abs=1e-6)
    return net


# --- finding 5: the vector-output snap reaches the stationary point of the smooth piece -------
def test_vector_output_snap_reaches_the_stationary_point_of_the_piece(wu_2d_plateau):
    s = snap(wu_2d_plateau, WU_2D_X, WU_2D_Y)
    assert s.pattern_kept
    assert "kink projection only" not in s.method
    assert s.gradient_norm < 1e-12            # before: 2.6e-6 after the fallback
    st = stationarity(s.network, WU_2D_X, WU_2D_Y)
    assert st.is_stationary
    assert s.moved < 1e-3


# --- #14 hardening of the public API ----------------------------------------------------------
from topoanalysis.critical import (  # noqa: E402
    add_zero_neurons, directional_derivative, escape_neurons, kink_samples, split_neuron,
    symbolic_conditions, tangential_minimum)
from topoanalysis.exceptions import TopoAnalysisError, ValidationError  # noqa: E402
from topoanalysis.symbolic._parse import parse_real_number  # noqa: E402

X1 = np.array([[1.0], [2.0]])
Y1 = np.array([[1.0], [0.5]])
NET1 = net_from([[1.0, 0.0]], [1.0])


@pytest.mark.parametrize("payload", [
    "__import__('os').system('touch F')", "().__class__.__bases__[0]", "lambda: 1",
    "open('x')", "1 if 1 else 0", "'a'"])
def test_symbolic_strings_never_run(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError):
        symbolic_conditions(X1, Y1, 1, negative_slope=payload)
    with pytest.raises(ValidationError):
        parse_real_number(payload, name="negative_slope")
    assert not (tmp_path / "F").exists()


def test_symbolic_accepts_arithmetic_slopes_and_refuses_the_rest():
    c = symbolic_conditions(X1, Y1, 1, negative_slope="1/100")
    assert "w_0_0/100" in str(c.loss)
    for bad in (float("nan"), 1.5, -0.1, 1j, True, "x"):
        with pytest.raises(TopoAnalysisError):
            symbolic_conditions(X1, Y1, 1, negative_slope=bad)
    with pytest.raises(TopoAnalysisError):
        symbolic_conditions(X1, [[1.0]], 1)                        # y rows != X rows
    with pytest.raises(TopoAnalysisError):
        symbolic_conditions(np.zeros((500, 1)), np.zeros((500, 1)), 4)   # too large


@pytest.mark.parametrize("args", [
    ([np.nan, 1.0], [[0.0, 1.0]], [1.0]),
    ([1j, 1.0], [[0.0, 1.0]], [1.0]),
    ([1.0, 1.0], [[0.0, 1.0, 3.0]], [1.0]),
    ([1.0, 1.0], [[0.0, 1.0]], [1.0, 2.0]),
    ([1.0, 1.0], [[0.0, np.inf]], [1.0]),
    ("a", [[0.0, 1.0]], [1.0]),
    ([], [], []),
])
def test_tangential_minimum_refuses_bad_input(args):
    with pytest.raises(ValidationError):
        tangential_minimum(*args)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_tangential_minimum_is_scale_covariant(scale):
    # g·u + c ρ(x·u) with g = (0, -1), x = (0, 1): min = min(0, c - 1) over u_2 in [0, 1]
    for c, expected in ((2.0, 0.0), (0.5, -0.5)):
        v, u, _ = tangential_minimum([0.0, -scale], [[0.0, 1.0]], [c * scale])
        assert np.isfinite(v) and v == pytest.approx(expected * scale, rel=1e-12)
        # rescaling the kink row and its coefficient changes nothing
        v2, _, _ = tangential_minimum([0.0, -1.0], [[0.0, scale]], [c / scale])
        assert v2 == pytest.approx(expected, rel=1e-12)


def test_classify_accepts_a_scalar_radius_and_refuses_bad_radii():
    v = classify(NET1, X1, Y1, radii=1e-3)
    assert len(v.stationarity.conditions) == 1
    for bad in ([], "a", [np.nan], [-1e-3], [0.0], None):
        with pytest.raises(ValidationError):
            classify(NET1, X1, Y1, radii=bad)


@pytest.mark.parametrize("name", ["tol", "kink_tol", "zero_tol"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -1.0, "1e-3", 1j])
def test_tolerances_are_refused_at_the_api(name, value):
    with pytest.raises(ValidationError, match=name):
        classify(NET1, X1, Y1, **{name: value})
    if name != "zero_tol":
        with pytest.raises(ValidationError, match=name):
            stationarity(NET1, X1, Y1, **{name: value})
    else:
        with pytest.raises(ValidationError, match=name):
            snap(NET1, X1, Y1, zero_tol=value)
    with pytest.raises(ValidationError):
        escape_neurons(NET1, X1, Y1, tol=value)
    with pytest.raises(ValidationError):
        kink_samples(NET1, X1, tol=value)
    with pytest.raises(ValidationError):
        directional_derivative(NET1, X1, Y1, np.zeros(3), kink_tol=value)


@pytest.mark.parametrize("which", ["X", "y", "params"])
def test_huge_values_are_refused_never_a_wrong_verdict(which):
    X, y, net = X1, Y1, NET1
    if which == "X":
        X = X * 1e300
    elif which == "y":
        y = y * 1e300
    else:
        net = Network(NET1.arch, NET1.params * 1e200)
    for f in (classify, stationarity, snap, escape_neurons):
        with pytest.raises(ValidationError, match="rescale"):
            f(net, X, y)


def test_large_but_safe_values_give_finite_scale_covariant_verdicts():
    # the same point at three scales of y and a: the verdict and the relative loss agree
    base = classify(NET1, X1, Y1)
    for c in (1e-100, 1e60):
        net = net_from([[1.0, 0.0]], [c])
        v = classify(net, X1, Y1 * c, tol=1e-8 * c ** 2)
        assert v.verdict == base.verdict
        assert np.isfinite(v.loss) and v.loss == pytest.approx(base.loss * c ** 2, rel=1e-12)
        assert all(np.isfinite(v.perturbations["min_change"])) if v.perturbations else True


def test_embedding_helpers_refuse_none():
    for f in (lambda: split_neuron(None, 0, [0.5, 0.5]), lambda: add_zero_neurons(None)):
        with pytest.raises(ValidationError, match="`net` must be a topoanalysis Network"):
            f()


# --- finding 6: second order decides where the first-order term vanishes -----------------------
from topoanalysis.critical import add_zero_neurons  # noqa: E402,F811
from topoanalysis.critical._point import shallow_point  # noqa: E402
from topoanalysis.critical.escape import _escape  # noqa: E402
from topoanalysis.critical.kinks import kink_mask  # noqa: E402
from topoanalysis.critical.second_order import second_order_test  # noqa: E402


def rank_one_fit():
    """Best rank-1 fit of a 2x2 target by one ReLU neuron, all samples active (e = 2)."""
    X = np.array([[1.0, 0.1], [0.1, 1.0]])
    Y = np.array([[3.0, 1.0], [1.0, 2.0]])
    U, S, Vt = np.linalg.svd(Y)
    u1 = U[:, 0] * np.sign(U[0, 0])
    w = np.linalg.solve(X, u1)
    a = S[0] * Vt[0] * np.sign(U[0, 0])
    return net_from(w[None, :], a[None, :], hidden_bias=False), X, Y


def test_split_of_an_aligned_vector_output_neuron_is_a_second_order_saddle():
    net, X, Y = rank_one_fit()
    assert classify(net, X, Y).verdict == "undetermined"         # one neuron: neither order
    for lam in ([0.5, 0.5], [0.3, 0.7], [2.0, -1.0]):
        wide = split_neuron(net, 0, lam)
        v = classify(wide, X, Y)
        # before: "undetermined" (vector output, escape neurons with a_k != 0)
        assert v.verdict == "saddle" and v.decided_by == "second order", v.reason
        so = v.second_order
        assert so["kind"] == "split of an aligned group" and so["c2"] == -np.inf
        assert so["exact_change"] < 0 and v.curve["decreasing"]
        # the quadratic coefficient is the loss's: (L(θ + s d) − L(θ)) / s² -> c2
        th = wide.params
        for s in (1e-3, 1e-4):
            q = (Network(wide.arch, th + s * v.direction).loss(X, Y) - v.loss) / s ** 2
            assert q == pytest.approx(so["c2_direction"], rel=1e-2)


def test_undetermined_says_that_neither_order_decides():
    net, X, Y = rank_one_fit()
    v = classify(net, X, Y)
    assert v.verdict == "undetermined" and v.decided_by is None
    assert "neither does the second" in v.reason
    assert all(t["c2"] >= 0 for t in v.second_order["tried"])


def test_second_order_coefficient_matches_the_loss_along_random_output_moves():
    # c2 of the chosen direction is the exact s² coefficient of the loss polynomial
    net, X, Y = rank_one_fit()
    wide = split_neuron(net, 0, [0.5, 0.5])
    point = shallow_point(wide, X, Y)
    kinks = kink_mask(point, 1e-9)
    so = second_order_test(point, _escape(point, 1e-9, 1e-10), kinks)
    d = so["direction"]
    ss = np.linspace(1e-2, 4e-2, 9)
    Ls = np.array([Network(wide.arch, wide.params + s * d).loss(X, Y) for s in ss]) - point.loss_value()
    coef = np.polyfit(ss / 1e-2, Ls, 4)         # exact quartic: c4 s⁴ + c3 s³ + c2 s² + c1 s + c0
    assert coef[2] / 1e-4 == pytest.approx(so["c2_direction"], rel=1e-5)
    assert abs(coef[3] / 1e-2) < 1e-9           # c1 = 0: the first-order term vanishes


def test_wu_2d_plateau_is_a_second_order_saddle(wu_2d_plateau):
    s = snap(wu_2d_plateau, WU_2D_X, WU_2D_Y)
    v = classify(s.network, WU_2D_X, WU_2D_Y, n_perturbations=20)
    assert v.verdict == "saddle" and v.decided_by == "second order"   # before: undetermined
    assert v.second_order["exact_change"] < 0 and v.check_agrees


# --- finding 7: the radius of a local minimum, dead neurons included ---------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

X3, Y3 = np.array([[0.0], [1.0], [2.0]]), np.array([[-1.0], [1.0], [2.0]])


def with_dead_neuron(eps, a_dead=-1.0):
    """f = relu(x) + a_dead relu(−x − eps): the dead neuron is eps from activating at x = 0.

    Its sample x = 0 carries the residual f − y = 1 > 0 and ``a_dead < 0``: once active the
    dead neuron lowers the loss, so the local minimum holds exactly in the ball of radius eps.
    """
    return net_from([[1.0, 0.0], [-1.0, -eps]], [1.0, a_dead])


@pytest.mark.parametrize("eps", [1e-3, 1e-6, 6.5e-11, 1e-12])
def test_local_minimum_radius_is_the_dead_neurons_distance(eps):
    net = with_dead_neuron(eps)
    v = classify(net, X3, Y3, n_perturbations=50, kink_tol=0.0)   # exact kinks only
    assert v.verdict == "local minimum"
    # x̃ = (0, 1): the distance of w = (−1, −eps) to {w : w·x̃ > 0} is eps, exactly
    assert v.radius["radius"] == pytest.approx(eps, rel=1e-12)
    assert v.radius["dead_distances"] == {1: pytest.approx(eps, rel=1e-12)}
    assert "dead neuron 1" in v.radius["limited_by"] and "dead neuron 1" in v.reason
    # no decrease inside the radius (all parameters perturbed, the dead neuron too) ...
    p = v.perturbations
    assert not p["found_decrease"] and v.check_agrees
    assert p["certified_radius"] == pytest.approx(eps, rel=1e-12)
    # ... and one just beyond it: push the dead neuron's bias 1% past its activation
    d = pack(net.arch, np.array([[0.0, 0.0], [0.0, 1.0]]), np.zeros((2, 1)))  # bias of neuron 1
    _, b1 = net.arch.unpack(net.params + 1.01 * eps * d)[0]
    assert b1[1] == pytest.approx(0.01 * eps, rel=1e-3)
    assert Network(net.arch, net.params + 1.01 * eps * d).loss(X3, Y3) < v.loss
    s = snap(net, X3, Y3, kink_tol=1e-14)
    assert s.dead_neurons == [1] and s.dead_distance == pytest.approx(eps, rel=1e-12)
    with pytest.warns(DeprecationWarning):
        assert s.dead_margin == s.dead_relative_margin
    # the default kink_tol (1e-9, relative) is a modelling choice: below it the sample counts as
    # on the dead neuron's hyperplane, and there the point is not stationary
    v9 = classify(net, X3, Y3, check=False)
    assert v9.verdict == ("local minimum" if eps > 1e-9 else "not stationary")


def test_dead_is_decided_exactly_not_by_a_tolerance():
    # pre-activation −2^-1074 (the smallest subnormal) is dead; exactly 0 is a kink, not dead
    tiny = 2.0 ** -1074
    s = snap(with_dead_neuron(tiny), X3, Y3, kink_tol=0.0)
    assert s.dead_neurons == [1]
    s0 = snap(with_dead_neuron(0.0), X3, Y3, kink_tol=0.0)
    assert s0.dead_neurons == []


@settings(max_examples=25, deadline=None, derandomize=True)
@given(log_eps=st.floats(-12, -2), a_dead=st.floats(-3.0, -0.1), seed=st.integers(0, 2 ** 16))
def test_property_local_minimum_survives_perturbations_within_its_radius(log_eps, a_dead, seed):
    eps = 10.0 ** log_eps
    net = with_dead_neuron(eps, a_dead)
    v = classify(net, X3, Y3, check=False, kink_tol=0.0)
    assert v.verdict == "local minimum"
    r = v.radius["radius"]
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(200, net.arch.n_params))
    Z *= (0.999 * r * rng.uniform(0, 1, size=(200, 1))) / np.linalg.norm(Z, axis=1, keepdims=True)
    from topoanalysis.network import forward
    out = forward(net.arch, net.params[None, :] + Z, X3)
    change = np.mean((out - Y3) ** 2, axis=(1, 2)) - v.loss
    assert change.min() >= -1e-15
    # a decrease exists just beyond it (the dead neuron is the reason)
    d = pack(net.arch, np.array([[0.0, 0.0], [0.0, 1.0]]), np.zeros((2, 1)))
    assert Network(net.arch, net.params + 1.01 * r * d).loss(X3, Y3) < v.loss


# --- #15: plateaus scale-free in log-loss and log-time; the final verdict from the final point --
from topoanalysis.critical import detect_plateaus, saddle_to_saddle  # noqa: E402
from topoanalysis.datasets import wu_five_point_regression  # noqa: E402


def staircase(levels, starts, ends, t):
    """A loss curve with plateaus at ``levels`` on ``[start, end]`` and exponential falls."""
    logL = np.full(t.shape, np.log(levels[0]))
    for i in range(1, len(levels)):
        a, b = ends[i - 1], starts[i]
        frac = np.clip((t - a) / (b - a), 0, 1)
        smooth = 0.5 - 0.5 * np.cos(np.pi * frac)
        logL = logL + smooth * (np.log(levels[i]) - np.log(levels[i - 1]))
    return np.exp(logL)


@pytest.mark.parametrize("loss_scale", [1e-6, 1.0, 1e6])
@pytest.mark.parametrize("time_scale", [1, 1000])
def test_detect_plateaus_finds_late_short_plateaus_at_any_scale(loss_scale, time_scale):
    # plateaus get shorter against the whole run but stay long against their start time
    t = np.arange(0, 1_000_001, 500) * time_scale
    levels = [0.4, 0.16, 0.09, 0.05]
    starts = np.array([0, 100_000, 400_000, 900_000]) * time_scale
    ends = np.array([80_000, 115_000, 470_000, 1_000_000]) * time_scale
    L = staircase(levels, starts, ends, t) * loss_scale
    found = detect_plateaus(L, t)
    assert [p.loss / loss_scale for p in found] == pytest.approx(levels, rel=1e-3)
    # the former linear-time criterion misses the short one at 0.16 (1.5 % of the run)
    old = [p.loss / loss_scale for p in detect_plateaus(L, t, scale="linear")]
    assert not any(abs(x - 0.16) < 1e-3 for x in old)


def test_detect_plateaus_ignores_a_power_law_tail_and_refuses_bad_input():
    t = np.arange(0, 100_001, 100)
    tail = 1.0 / (1.0 + t / 1000.0) ** 2                  # L ∝ t^-2: falling, never a plateau
    assert detect_plateaus(tail, t) == [] or detect_plateaus(tail, t)[0].end_step <= 1000
    with pytest.raises(ValidationError):
        detect_plateaus([1.0, -1.0], [0, 1])
    with pytest.raises(ValidationError):
        detect_plateaus([1.0, 1.0], [0, 1], scale="cubic")
    with pytest.raises(ValidationError):
        detect_plateaus([1.0, 1.0], [0, 1], relative_tol=np.nan)


def test_wu_2d_task_finds_the_0_1585_plateau_for_every_seed():
    # seeds 2-6 and 10-12 of this task lost the 0.1585 plateau to the former criterion
    th = init_params(WU_2D_ARCH, "normal", seed=0, std=50 ** -6.5, n_networks=3)
    th = np.concatenate([th[2:3], init_params(WU_2D_ARCH, "normal", seed=2, std=50 ** -6.5,
                                              n_networks=2)])
    res = train(th, WU_2D_X, WU_2D_Y, arch=WU_2D_ARCH, lr=2e-3, steps=120_000,
                record_every=500, progress=False)
    for i in range(th.shape[0]):
        losses = [round(p.loss, 4) for p in detect_plateaus(res.loss[i], res.record_steps)]
        assert losses == [0.3825, 0.1586, 0.0935], losses


def test_wu_1d_task_plateaus_and_final_verdict_from_the_final_point():
    wu = wu_five_point_regression(with_bias_column=True)
    arch = Architecture(2, (50,), 1, hidden_bias=False, output_bias=False)
    th = init_params(arch, "normal", seed=0, std=50 ** -3.0)
    res = train(th, wu.X, wu.y, arch=arch, lr=1e-3, steps=600_000, record_every=1000,
                record_params=True, progress=False)
    found = detect_plateaus(res.loss[0], res.record_steps)
    assert [round(p.loss, 4) for p in found] == [0.0381, 0.0302, 0.0279]
    # stop the run in the middle of the last fall: the final point is not that plateau's
    cut = int(np.searchsorted(res.record_steps, 170_000))
    s = saddle_to_saddle(res.trajectory[0][:cut + 1], res.record_steps[:cut + 1], wu.X, wu.y,
                         arch=arch, loss_curve=res.loss[0][:cut + 1], check=False)
    c = s.checks
    assert not c["final_in_plateau"]
    assert c["last_plateau_verdict"] == "saddle"
    assert c["final_loss"] == pytest.approx(res.loss[0][cut])
    assert c["final_verdict"] != "local minimum" or c["final_snapped_loss"] < 0.0279
    full = saddle_to_saddle(res.trajectory[0], res.record_steps, wu.X, wu.y, arch=arch,
                            loss_curve=res.loss[0], check=False)
    assert full.checks["final_in_plateau"] and full.checks["final_verdict"] == "local minimum"


def test_wu_3d_task_finds_every_plateau():
    # Wu et al.'s 3-D -> 1 task (their helpers.generate_3D_input_dataset), no biases, σ = 50^-6.5,
    # lr 1e-3: the former criterion found only the first of its four plateaus
    X = np.array([(-0.3, -0.75, -0.5), (-0.2, -0.2, 0.4), (-0.6, 1, -1), (-0.4, 0.4, 0.3),
                  (0.6, -0.1, -0.7), (0.4, -0.9, 0.3), (0.2, 0.2, -0.5)])
    y = np.array([-0.5, 0.1, -0.6, 0.3, 0.8, -0.3, -0.1])[:, None]
    arch = Architecture(3, (50,), 1, hidden_bias=False, output_bias=False)
    res = train(init_params(arch, "normal", seed=4, std=50 ** -6.5), X, y, arch=arch, lr=1e-3,
                steps=350_000, record_every=1000, progress=False)
    found = [round(p.loss, 3) for p in detect_plateaus(res.loss[0], res.record_steps)]
    assert found == [0.207, 0.119, 0.046, 0.035], found
    assert len(detect_plateaus(res.loss[0], res.record_steps, scale="linear")) < 4


# --- exact combinatorial facts and LP answers proved in rationals ------------------------------
from topoanalysis.critical._exact import exact_signs  # noqa: E402
from topoanalysis.critical.stationarity import _tangential_exact  # noqa: E402
from topoanalysis.critical._exact import fmpq  # noqa: E402


def test_kinks_are_decided_exactly_not_by_float_rounding():
    # w·x̃ = 1e16 + 1 − 1e16 = 1 exactly; summed in float64 it rounds to 0
    net = net_from([[1e16, 1.0, -1e16]], [1.0], hidden_bias=False)
    X = np.array([[1.0, 1.0, 1.0]])
    assert float(np.array([1e16, 1.0, -1e16]) @ X[0]) in (0.0, 1.0)
    assert kink_samples(net, X, tol=0.0).samples(0) == []
    signs, n_exact = exact_signs(X, np.array([[1e16, 1.0, -1e16], [0.1, 0.2, -0.3]]))
    assert signs.tolist() == [[1, 1]]          # 0.1 + 0.2 − 0.3 = 2^-55 > 0 in rationals
    # exactly on: the same float product twice
    assert exact_signs(np.array([[0.1, 0.2]]), np.array([[0.2, -0.1]]))[0].tolist() == [[0]]


@pytest.mark.parametrize("alpha", [0.0, 0.2])
def test_lp_answers_are_proved_in_rationals(alpha):
    rng = np.random.default_rng(11)
    for trial in range(25):
        D, m = int(rng.integers(2, 4)), int(rng.integers(1, 4))
        Xk = rng.normal(size=(m, D))
        c = rng.normal(size=m)
        g = rng.normal(size=D) * rng.choice([0.0, 0.3, 1.0])
        value, _, _ = tangential_minimum(g, Xk, c, alpha)
        v2, u, _, cert = _tangential_exact([fmpq(x) for x in g], Xk, [fmpq(x) for x in c],
                                           alpha, 4096, 1e-9)
        assert v2 == pytest.approx(value, abs=1e-12)
        assert cert["proved"], (trial, value, cert)
        if value < -1e-9:
            assert cert["bound"] < -1e-9 and cert["bound"] == pytest.approx(value, rel=1e-9)
        else:
            assert -1e-9 <= cert["bound"] <= 0.0


def test_exact_tolerance_boundary_is_decided_in_rationals():
    # min over the box of g·u + c ρ(x·u) with g = (0, −1), x = (0, 1), c = 0.5 is −1/2
    g, Xk, c = [fmpq(0.0), fmpq(-1.0)], np.array([[0.0, 1.0]]), [fmpq(0.5)]
    _, _, _, at = _tangential_exact(g, Xk, c, 0.0, 4096, 0.5)
    assert at["proved"] and at["bound"] == -0.5               # holds within tol = 1/2 exactly
    _, _, _, below = _tangential_exact(g, Xk, c, 0.0, 4096, 0.5 - 2 ** -40)
    assert below["proved"] and below["bound"] == -0.5         # fails, proved by the primal u


def test_certify_exact_is_the_default_and_agrees_with_float():
    net, X, Y = rank_one_fit()
    cases = [(net, X, Y, "undetermined"), (split_neuron(net, 0, [0.5, 0.5]), X, Y, "saddle"),
             (with_dead_neuron(1e-3), X3, Y3, "local minimum"),
             (net_from([[1.0, 0.0]], [-1.0]), X3, Y3, "not stationary")]
    for n, Xn, Yn, verdict in cases:
        ex = stationarity(n, Xn, Yn)
        fl = stationarity(n, Xn, Yn, certify="float")
        assert ex.certificate["all_proved"] and fl.certificate["all_proved"] is None
        assert ex.is_stationary == fl.is_stationary
        v = classify(n, Xn, Yn, check=False)
        assert v.verdict == verdict
        if verdict in ("local minimum", "not stationary"):
            assert "proved in exact rational arithmetic" in v.reason
        assert classify(n, Xn, Yn, check=False, certify="float").verdict == verdict
    with pytest.raises(ValidationError):
        stationarity(NET1, X1, Y1, certify="maybe")


@pytest.mark.parametrize("angle", [1e-3, 1e-6, 1e-9, 1e-12])
def test_kink_lines_are_grouped_exactly(angle):
    from topoanalysis.critical._exact import exact_parallel
    from topoanalysis.critical.escape import _lines

    v = np.array([0.6, 0.8, 0.0])
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([0.6 * c - 0.8 * s, 0.6 * s + 0.8 * c, 0.0])
    assert exact_parallel(v, rot) == 0                      # distinct lines, however close
    assert exact_parallel(v, 4.0 * v) == 1 and exact_parallel(v, -0.5 * v) == -1
    assert exact_parallel(v, 3.0 * v) == 0     # 3·0.6 and 3·0.8 round: not exactly parallel
    reps, index, sign = _lines(np.array([v, rot, -2.0 * v]))
    assert len(reps) == 2 and index.tolist() == [0, 1, 0] and sign.tolist() == [1.0, 1.0, -1.0]


def test_guide_examples_run():
    import pathlib
    import re
    text = (pathlib.Path(__file__).parent.parent / "docs" / "guide" /
            "certificates_critical.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for b in blocks:
        exec(compile(b, "certificates_critical.md", "exec"), {})


# --- #14: every public function of critical refuses bad values with a project exception ------
def _public_calls():
    import topoanalysis.critical as C

    X, y = np.array([[1.0], [2.0], [0.0]]), np.array([[1.0], [0.5], [-1.0]])
    net = NET1
    arch = net.arch
    traj = np.stack([net.params] * 5)
    bad_vals = [None, np.nan, np.inf, -1.0, 1e308, 1e-308, 1j, "a", [], [[1.0], [2.0, 3.0]], 0,
                2.5, True, np.array([np.nan]), -5, 10 ** 12]
    calls = [
     ("kink_samples", lambda v: C.kink_samples(v, X)),
     ("kink_samples X", lambda v: C.kink_samples(net, v)),
     ("kink_samples tol", lambda v: C.kink_samples(net, X, tol=v)),
     ("dd dir", lambda v: C.directional_derivative(net, X, y, v)),
     ("dd X", lambda v: C.directional_derivative(net, v, y, np.zeros(3))),
     ("dd y", lambda v: C.directional_derivative(net, X, v, np.zeros(3))),
     ("st tol", lambda v: C.stationarity(net, X, y, tol=v)),
     ("st mp", lambda v: C.stationarity(net, X, y, max_pieces=v)),
     ("st X", lambda v: C.stationarity(net, v, y)),
     ("st net", lambda v: C.stationarity(v, X, y)),
     ("st loss", lambda v: C.stationarity(net, X, y, loss=v)),
     ("st cert", lambda v: C.stationarity(net, X, y, certify=v)),
     ("esc seed", lambda v: C.escape_neurons(net, X, y, seed=v)),
     ("esc zt", lambda v: C.escape_neurons(net, X, y, zero_tol=v)),
     ("esc y", lambda v: C.escape_neurons(net, X, v)),
     ("esc mp", lambda v: C.escape_neurons(net, X, y, max_pieces=v)),
     ("cl np", lambda v: C.classify(net, X, y, n_perturbations=v)),
     ("cl radii", lambda v: C.classify(net, X, y, radii=v)),
     ("cl seed", lambda v: C.classify(net, X, y, seed=v)),
     ("cl check", lambda v: C.classify(net, X, y, check=v)),
     ("cl mp", lambda v: C.classify(net, X, y, max_pieces=v)),
     ("snap kt", lambda v: C.snap(net, X, y, kink_tol=v)),
     ("snap mi", lambda v: C.snap(net, X, y, max_iter=v)),
     ("snap X", lambda v: C.snap(net, v, y)),
     ("sac tol", lambda v: C.snap_and_classify(net, X, y, tol=v)),
     ("sac np", lambda v: C.snap_and_classify(net, X, y, n_perturbations=v)),
     ("sac seed", lambda v: C.snap_and_classify(net, X, y, seed=v)),
     ("sac check", lambda v: C.snap_and_classify(net, X, y, check=v)),
     ("split n", lambda v: C.split_neuron(net, v, [0.5,0.5])),
     ("split lam", lambda v: C.split_neuron(net, 0, v)),
     ("azn count", lambda v: C.add_zero_neurons(net, v)),
     ("azn iw", lambda v: C.add_zero_neurons(net, 1, v)),
     ("ef splits", lambda v: C.embedding_family(net, X, y, splits=v)),
     ("ef zn", lambda v: C.embedding_family(net, X, y, zero_neurons=v)),
     ("ef tol", lambda v: C.embedding_family(net, X, y, tol=v)),
     ("ef check", lambda v: C.embedding_family(net, X, y, check=v)),
     ("dp loss", lambda v: C.detect_plateaus(v, [0,1,2])),
     ("dp steps", lambda v: C.detect_plateaus([1,1,1], v)),
     ("dp st", lambda v: C.detect_plateaus([1,1,1],[0,1,2], slope_tol=v)),
     ("dp ml", lambda v: C.detect_plateaus([1,1,1],[0,1,2], min_length=v)),
     ("dp w", lambda v: C.detect_plateaus([1,1,1],[0,1,2], window=v)),
     ("dp scale", lambda v: C.detect_plateaus([1,1,1],[0,1,2], scale=v)),
     ("s2s traj", lambda v: C.saddle_to_saddle(v, [0,1,2,3,4], X, y, arch=arch)),
     ("s2s steps", lambda v: C.saddle_to_saddle(traj, v, X, y, arch=arch)),
     ("s2s arch", lambda v: C.saddle_to_saddle(traj, np.arange(5), X, y, arch=v)),
     ("s2s gf", lambda v: C.saddle_to_saddle(traj, np.arange(5), X, y, arch=arch, growth_factor=v)),
     ("s2s lc", lambda v: C.saddle_to_saddle(traj, np.arange(5), X, y, arch=arch, loss_curve=v)),
     ("s2s kt", lambda v: C.saddle_to_saddle(traj, np.arange(5), X, y, arch=arch, kink_tol=v)),
     ("s2s check", lambda v: C.saddle_to_saddle(traj, np.arange(5), X, y, arch=arch, check=v)),
     ("sym X", lambda v: C.symbolic_conditions(v, y, 1)),
     ("sym y", lambda v: C.symbolic_conditions(X, v, 1)),
     ("sym h", lambda v: C.symbolic_conditions(X, y, v)),
     ("sym ns", lambda v: C.symbolic_conditions(X, y, 1, negative_slope=v)),
     ("sym hb", lambda v: C.symbolic_conditions(X, y, 1, hidden_bias=v)),
     ("ct arch", lambda v: C.classify_trained(v, net.params[None], X, y)),
     ("ct params", lambda v: C.classify_trained(arch, v, X, y)),
     ("ct tol", lambda v: C.classify_trained(arch, net.params[None], X, y, tol=v)),
     ("ct labels", lambda v: C.classify_trained(arch, net.params[None], X, y, labels=v)),
     ("ct check", lambda v: C.classify_trained(arch, net.params[None], X, y, check=v)),
     ("tm g", lambda v: C.tangential_minimum(v, [[0,1]], [1])),
     ("tm x", lambda v: C.tangential_minimum([1,1], v, [1])),
     ("tm c", lambda v: C.tangential_minimum([1,1],[[0,1]], v)),
     ("tm a", lambda v: C.tangential_minimum([1,1],[[0,1]],[1], v)),
     ("tm mp", lambda v: C.tangential_minimum([1,1],[[0,1]],[1], max_pieces=v)),
     ("nfom", lambda v: C.neuron_first_order_map(v, 0, np.eye(2))),
    ]
    return bad_vals, calls


def test_public_api_raises_only_project_exceptions():
    import warnings

    from topoanalysis.exceptions import TopoAnalysisError

    bad_vals, calls = _public_calls()
    library = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, f in calls:
            for v in bad_vals:
                try:
                    f(v)
                except TopoAnalysisError:
                    pass
                except Exception as exc:              # noqa: BLE001 - what the test counts
                    library.append((name, repr(v)[:30], type(exc).__name__, str(exc)[:80]))
    assert not library, library[:10]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(lam=st.floats(0.05, 0.95), scale=st.sampled_from([0.25, 1.0, 4.0]),
       log_eps=st.floats(-9, 0), seed=st.integers(0, 2 ** 16))
def test_property_degenerate_local_minimum_survives_its_radius(lam, scale, log_eps, seed):
    # a split (aligned copies, λ and 1 − λ), a rescaled copy, and a dead neuron near activation
    eps = 10.0 ** log_eps
    w = np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, -eps]])
    a = np.array([lam, 1.0 - lam, -1.0])
    w[1] *= scale
    a[1] /= scale                                   # rescaling symmetry: same function
    net = net_from(w, a)
    v = classify(net, X3, Y3, check=False, kink_tol=0.0)
    assert v.verdict == "local minimum", v.reason
    r = v.radius["radius"]
    assert 0 < r <= eps * (1 + 1e-12)
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(300, net.arch.n_params))
    Z *= 0.999 * r * rng.uniform(0, 1, size=(300, 1)) / np.linalg.norm(Z, axis=1, keepdims=True)
    from topoanalysis.network import forward
    change = np.mean((forward(net.arch, net.params[None, :] + Z, X3) - Y3) ** 2,
                     axis=(1, 2)) - v.loss
    assert change.min() >= -1e-15
