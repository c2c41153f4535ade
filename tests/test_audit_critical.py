"""Audit of ``topoanalysis.critical`` at the degenerate edges of Wu, Simsek & Ged.

Every case is built by hand with exact numbers and checked against an independent computation
written here: the loss in exact rationals (``fractions.Fraction``, no python-flint and nothing
from ``topoanalysis.critical``), one-sided directional derivatives from that exact loss, and
exact loss changes along the directions the verdicts name.
"""

from fractions import Fraction

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import (classify, directional_derivative, escape_neurons,
                                   split_neuron, stationarity)
from topoanalysis.critical._point import pack

pytest.importorskip("flint")

# ---------------------------------------------------------------------------------------------
# the oracle: exact loss of a shallow ReLU-like network in Fractions, written independently


def _q(x):
    return Fraction(float(x))


def oracle_loss(arch, theta, X, Y):
    """``mse`` (mean over the ``N·e`` entries) at the float parameters ``theta``, exactly."""
    w, a, b = arch.neuron_weights(np.asarray(theta, dtype=np.float64))
    return _loss_q([[_q(v) for v in row] for row in w], [[_q(v) for v in row] for row in a],
                   None if b is None else [_q(v) for v in b], arch, X, Y)


def _loss_q(wq, aq, bq, arch, X, Y):
    alpha = _q(arch.negative_slope) if arch.activation == "leaky_relu" else Fraction(0)
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1)
    N, e = Y.shape
    total = Fraction(0)
    for n in range(N):
        x = [_q(v) for v in X[n]] + ([Fraction(1)] if arch.hidden_bias else [])
        f = [Fraction(0) if bq is None else bq[j] for j in range(e)]
        for wk, ak in zip(wq, aq):
            z = sum((p * q for p, q in zip(wk, x)), Fraction(0))
            h = z if z > 0 else alpha * z
            for j in range(e):
                f[j] += ak[j] * h
        total += sum(((f[j] - _q(Y[n, j])) ** 2 for j in range(e)), Fraction(0))
    return total / (N * e)


def oracle_moved_loss(arch, theta, delta, s, X, Y):
    """``L(θ + s δ)`` exactly, the moved point not rounded."""
    w, a, b = arch.neuron_weights(np.asarray(theta, dtype=np.float64))
    dw, da, db = arch.neuron_weights(np.asarray(delta, dtype=np.float64))
    s = Fraction(s)
    wq = [[_q(p) + s * _q(d) for p, d in zip(r, dr)] for r, dr in zip(w, dw)]
    aq = [[_q(p) + s * _q(d) for p, d in zip(r, dr)] for r, dr in zip(a, da)]
    bq = None if b is None else [_q(p) + s * _q(d) for p, d in zip(b, db)]
    return _loss_q(wq, aq, bq, arch, X, Y)


def oracle_slope(arch, theta, delta, X, Y, t=Fraction(1, 2 ** 200)):
    """One-sided derivative ``L'(θ; δ)`` exactly: ``L(θ + sδ) = L + c₁ s + c₂ s²`` on a small
    ``(0, s₀)`` (the pattern is fixed there), so ``c₁ = (4ΔL(t) − ΔL(2t)) / (2t)``."""
    L0 = oracle_loss(arch, theta, X, Y)
    d1 = oracle_moved_loss(arch, theta, delta, t, X, Y) - L0
    d2 = oracle_moved_loss(arch, theta, delta, 2 * t, X, Y) - L0
    return (4 * d1 - d2) / (2 * t)


def net_of(arch, w, a, b=None):
    return Network(arch, pack(arch, np.asarray(w, float), np.asarray(a, float),
                              None if b is None else np.asarray(b, float)))


# the README's narrow point: f(x) = relu(x) on x = 0, 1, 2 with y = -1, 1, 2; x = 0 sits on the
# kink, the one-sided derivative there is strictly positive: a local minimum
X1 = np.array([[0.0], [1.0], [2.0]])
Y1 = np.array([[-1.0], [1.0], [2.0]])
A11 = Architecture(1, (1,), 1, output_bias=False)


# ---------------------------------------------------------------------------------------------
# 1. the activation pattern is exact, not the sign of the rounded float pre-activation

T60 = 2.0 ** -60
X_CANCEL = np.array([[1.0, T60]])       # w·x̃ = 1 + 2^-60 − 1 = 2^-60 > 0; float: 0
A_CANCEL = Architecture(2, (1,), 1, output_bias=False)
W_CANCEL = [[1.0, 1.0, -1.0]]


def test_float_dot_product_rounds_the_active_sample_to_zero():
    """The case the next tests rest on: the float pre-activation is 0, the exact one 2^-60."""
    pre = np.array([[1.0, T60, 1.0]]) @ np.array(W_CANCEL[0])
    assert pre[0] == 0.0
    assert Fraction(1) + Fraction(T60) - Fraction(1) == Fraction(T60)


def test_directional_derivative_uses_the_exact_side_of_the_hyperplane():
    """Moving the hidden bias of an active neuron: slope −2(1 − 2^-60)·1 ≈ −2, not 0."""
    net = net_of(A_CANCEL, W_CANCEL, [[1.0]])
    y = np.array([[1.0]])
    d = pack(A_CANCEL, np.array([[0.0, 0.0, 1.0]]), np.zeros((1, 1)))
    want = oracle_slope(A_CANCEL, net.params, d, X_CANCEL, y)
    got = directional_derivative(net, X_CANCEL, y, d, kink_tol=0.0)
    assert want == Fraction(-2) * (1 - Fraction(T60))
    assert got == pytest.approx(float(want), rel=1e-12)


def test_zero_output_neuron_active_by_2_pow_minus_60_is_an_escape_neuron():
    """a_k = 0 on a sample the neuron activates (exactly): F_k(u) = r (u·x̃) ≠ 0, a saddle."""
    net = net_of(A_CANCEL, W_CANCEL, [[0.0]])
    y = np.array([[1.0]])
    assert escape_neurons(net, X_CANCEL, y, kink_tol=0.0).escape == [0]
    v = classify(net, X_CANCEL, y, kink_tol=0.0, check=False)   # stationary within tol
    assert v.verdict == "saddle"                 # formerly "local minimum": it is not one
    L0 = oracle_loss(A_CANCEL, net.params, X_CANCEL, y)
    up = pack(A_CANCEL, np.zeros((1, 3)), np.ones((1, 1)))
    assert oracle_moved_loss(A_CANCEL, net.params, up, Fraction(1, 2 ** 20), X_CANCEL, y) < L0


# ---------------------------------------------------------------------------------------------
# 2. verdicts are scale-covariant (powers of two: the scaled points are exactly equivalent)

SCALES = [2.0 ** -997, 2.0 ** -565, 2.0 ** -332, 2.0 ** -66, 1.0, 2.0 ** 66, 2.0 ** 199]
A12 = Architecture(1, (2,), 1, output_bias=False)
CASES = {
    # name: (arch, w, a, X, y, verdict)
    "narrow (kink, one-sided > 0)": (A11, [[1.0, 0.0]], [[1.0]], X1, Y1, "local minimum"),
    "zero network": (Architecture(1, (1,), 1, hidden_bias=False, output_bias=False), [[0.0]],
                     [[0.0]], np.array([[1.0]]), np.array([[1.0]]), "saddle"),
    "split (2, -1)": (A12, [[1.0, 0.0], [1.0, 0.0]], [[2.0], [-1.0]], X1, Y1,
                      "not stationary"),
    "split (1, 0)": (A12, [[1.0, 0.0], [1.0, 0.0]], [[1.0], [0.0]], X1, Y1, "saddle"),
    "dead neuron": (A12, [[1.0, 0.0], [-1.0, -2.0 ** -20]], [[1.0], [-1.0]], X1, Y1,
                    "local minimum"),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("c", SCALES)
def test_verdict_is_invariant_under_output_scaling(name, c):
    """``(a, y) -> (c a, c y)`` multiplies the loss by ``c²``: the same verdict, with tol = 0."""
    arch, w, a, X, y, want = CASES[name]
    net = net_of(arch, w, np.asarray(a) * c)
    v = classify(net, X, y * c, tol=0.0, kink_tol=0.0, check=False)
    assert v.verdict == want


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("c", SCALES[1:-1])
def test_verdict_is_invariant_under_neuron_rescaling(name, c):
    """``(w_k, a_k) -> (c w_k, a_k / c)`` keeps the function: the same verdict."""
    arch, w, a, X, y, want = CASES[name]
    net = net_of(arch, np.asarray(w) * c, np.asarray(a) / c)
    assert classify(net, X, y, tol=0.0, kink_tol=0.0, check=False).verdict == want


def test_tiny_scale_saddle_is_a_real_escape():
    """The zero network at y = 2^-565: stationary exactly, and the loss falls (exactly)."""
    arch, w, a, X, y, _ = CASES["zero network"]
    y = y * 2.0 ** -565
    net = net_of(arch, w, a)
    v = classify(net, X, y, tol=0.0, kink_tol=0.0, check=False)
    assert v.verdict == "saddle"
    L0 = oracle_loss(arch, net.params, X, y)
    assert L0 == Fraction(2.0 ** -565) ** 2
    assert oracle_moved_loss(arch, net.params, v.direction, Fraction(1, 2 ** 600), X, y) < L0


def test_tiny_scale_not_stationary_has_a_real_descent_direction():
    """The (2, −1) split at output scale 2^-565: the LP sees the failure (exact oracle)."""
    arch, w, a, X, y, _ = CASES["split (2, -1)"]
    c = 2.0 ** -565
    net = net_of(arch, w, np.asarray(a) * c)
    st = stationarity(net, X, y * c, tol=0.0, kink_tol=0.0)
    assert not st.is_stationary
    assert oracle_slope(arch, net.params, st.descent_direction, X, y * c) < 0


def test_tiny_nonzero_output_weight_is_not_a_zero_output():
    """a_k = 2^-565 (its float norm underflows to 0) is not a zero output weight."""
    c = 2.0 ** -565
    net = net_of(A11, [[1.0, 0.0]], [[c]])
    assert np.linalg.norm(np.array([c])) == 0.0          # the trap
    esc = escape_neurons(net, X1, Y1 * c, kink_tol=0.0, tol=0.0)
    assert esc.neurons[0]["zero_output"] is False
    assert esc.escape == []


# ---------------------------------------------------------------------------------------------
# 3. exactly stationary points whose float sums are not exactly zero

# f(x) = relu(x + 1) on x = 0, 1, 3 with residuals d = f − y = (2, −3, 1): Σ d = Σ d x = 0, so
# the point is exactly stationary; r = 2d/3 rounds, and the float sums leave ~1e-16
LSQ = (A11, [[1.0, 1.0]], [[1.0]], np.array([[0.0], [1.0], [3.0]]),
       np.array([[-1.0], [5.0], [3.0]]))


def test_least_squares_point_is_exactly_stationary_in_the_oracle():
    arch, w, a, X, y = LSQ
    net = net_of(arch, w, a)
    for i in range(net.arch.n_params):
        e_i = np.zeros(net.arch.n_params)
        e_i[i] = 1.0
        assert oracle_slope(arch, net.params, e_i, X, y) == 0
        assert oracle_slope(arch, net.params, -e_i, X, y) == 0


def test_float_noise_is_not_a_radial_failure():
    """tol = 0: the radial condition is compared in rationals, not as a float sum ~2.5e-16."""
    arch, w, a, X, y = LSQ
    net = net_of(arch, w, a)
    st = stationarity(net, X, y, tol=0.0, kink_tol=0.0)
    assert st.is_stationary, st.failures
    assert st.conditions[0]["radial"] == 0.0 and st.conditions[0]["output"] == 0.0
    assert classify(net, X, y, tol=0.0, kink_tol=0.0, check=False).verdict == "local minimum"


def test_output_failure_below_the_float_gradient_has_a_finite_descent_direction():
    """A failure the exact gradient sees and the float one rounds to 0: no NaN direction."""
    # the output weights 0.7 and 0.3 of two copies of relu(x) sum to 1 − 2^-54 in rationals
    net = net_of(A12, [[1.0, 0.0], [1.0, 0.0]], [[0.7], [0.3]])
    assert Fraction(0.7) + Fraction(0.3) != 1
    with np.errstate(divide="raise", invalid="raise"):
        st = stationarity(net, X1, Y1, tol=0.0, kink_tol=0.0)
    assert not st.is_stationary
    assert np.all(np.isfinite(st.descent_direction))
    assert oracle_slope(A12, net.params, st.descent_direction, X1, Y1) < 0


# ---------------------------------------------------------------------------------------------
# 4. embedding: a split of a stationary point computes the same function exactly

LAMBDAS = [(0.5, 0.5), (0.1, 0.9), (0.7, 0.3), (1 / 3, 1 / 3, 1 / 3), (0.25, 0.25, 0.5),
           (1e-20, 1 - 1e-20), (2.0, -1.0), (3.0, -2.0), (1.0, 0.0)]


def _same_function_exactly(narrow, wide, X):
    """The wide network's outputs equal the narrow one's in rationals (oracle: loss at y = f)."""
    Fn = narrow.forward(X)
    return oracle_loss(wide.arch, wide.params, X, Fn) == oracle_loss(narrow.arch,
                                                                      narrow.params, X, Fn)


@pytest.mark.parametrize("lam", LAMBDAS)
@pytest.mark.parametrize("case", ["narrow", "lsq"])
def test_split_keeps_the_function_and_exact_stationarity(case, lam):
    arch, w, a, X, y = (A11, [[1.0, 0.0]], [[1.0]], X1, Y1) if case == "narrow" else LSQ
    narrow = net_of(arch, w, a)
    a_vals = np.array(lam) * a[0][0]
    wide = split_neuron(narrow, 0, lam)
    # the outputs of the wide network, exactly: Σ_j a_j = a_k in rationals
    _, a2, _ = wide.arch.neuron_weights(wide.params)
    assert sum((Fraction(v) for v in a2[:, 0]), Fraction(0)) == Fraction(a[0][0])
    assert _same_function_exactly(narrow, wide, X)
    # signs kept (the verdict depends on them): a copy with λ_j > 0 has a_j > 0, etc.
    order = [0] + list(range(1, len(lam)))
    assert [np.sign(a2[i, 0]) for i in order] == [np.sign(v) for v in a_vals]
    wide_st = stationarity(wide, X, y, tol=0.0, kink_tol=0.0)
    has_negative = min(lam) < 0
    if case == "lsq" or not has_negative:
        # no kink with a positive one-sided derivative to turn around: still stationary
        assert wide_st.is_stationary, (lam, wide_st.failures)
    else:
        assert not wide_st.is_stationary          # λ < 0 reverses the kink's one-sided term
        assert oracle_slope(wide.arch, wide.params, wide_st.descent_direction, X, y) < 0


def test_split_exactness_leaves_the_verdicts_of_the_papers_family():
    """The README family: (½, ½) and (0.1, 0.9) keep the local minimum, (2, −1) breaks it."""
    narrow = net_of(A11, [[1.0, 0.0]], [[1.0]])
    verdict = {lam: classify(split_neuron(narrow, 0, lam), X1, Y1, tol=0.0, kink_tol=0.0,
                             check=False).verdict for lam in [(0.5, 0.5), (0.1, 0.9),
                                                              (2.0, -1.0), (1.0, 0.0)]}
    assert verdict == {(0.5, 0.5): "local minimum", (0.1, 0.9): "local minimum",
                       (2.0, -1.0): "not stationary", (1.0, 0.0): "saddle"}


# ---------------------------------------------------------------------------------------------
# 5. vector output: escape neurons with a_k != 0 decided on the exact F_k

A12V = Architecture(1, (1,), 2, output_bias=False)


def test_vector_output_exact_fit_is_a_local_minimum_not_undetermined():
    """LSQ point in both outputs: F_k ≡ 0 exactly (no kink, Σ r_n x̃_n = 0), no escape neuron;
    the float sums left ~1e-16 and the LP called it an escape neuron ("undetermined")."""
    arch, w, a, X, y = LSQ
    net = net_of(A12V, w, [[1.0, 1.0]])
    Y = np.hstack([y, y])
    for i in range(net.arch.n_params):         # exactly stationary, smooth: the oracle agrees
        e_i = np.zeros(net.arch.n_params)
        e_i[i] = 1.0
        assert oracle_slope(A12V, net.params, e_i, X, Y) == 0
    assert escape_neurons(net, X, Y, kink_tol=0.0, tol=0.0).escape == []
    assert classify(net, X, Y, tol=0.0, kink_tol=0.0, check=False).verdict == "local minimum"


def _rank_one_split(c):
    """The best rank-1 fit of a 2x2 target, split (½, ½): a second-order saddle (an aligned
    group), with outputs and targets scaled by ``c`` (a power of two)."""
    X = np.array([[1.0, 0.1], [0.1, 1.0]])
    Y = np.array([[3.0, 1.0], [1.0, 2.0]])
    U, S, Vt = np.linalg.svd(Y)
    sg = np.sign(U[0, 0])
    w = np.linalg.solve(X, U[:, 0] * sg)
    a = S[0] * Vt[0] * sg
    arch = Architecture(2, (1,), 2, hidden_bias=False, output_bias=False)
    wide = split_neuron(net_of(arch, w[None, :], a[None, :] * c), 0, [0.5, 0.5])
    return wide, X, Y * c


@pytest.mark.parametrize("c", [1.0, 2.0 ** -66, 2.0 ** -332])
def test_aligned_split_stays_a_saddle_at_small_output_scales(c):
    """Formerly "local minimum" below ~1e-10 (the escape LP's absolute floor): a saddle, and
    the loss falls along its direction (exact oracle)."""
    wide, X, Y = _rank_one_split(c)
    v = classify(wide, X, Y, tol=1e-8 * c, check=False)
    assert v.verdict == "saddle", v.reason
    s = Fraction(v.second_order["step"])
    assert (oracle_moved_loss(wide.arch, wide.params, v.direction, s, X, Y)
            < oracle_loss(wide.arch, wide.params, X, Y))


# ---------------------------------------------------------------------------------------------
# 6. kinks: Clarke-stationary is not enough, several neurons on one sample, (nearly) parallel
#    kink samples


def test_clarke_but_not_directional_stationary_point_is_not_stationary():
    """The README point with y(0) = +1: 0 is in the Clarke subdifferential (the kink sample's
    gradient is 0 on one side), yet moving the bias up is a descent direction."""
    net = net_of(A11, [[1.0, 0.0]], [[1.0]])
    y = np.array([[1.0], [1.0], [2.0]])
    up = pack(A11, np.array([[0.0, 1.0]]), np.zeros((1, 1)))
    assert oracle_slope(A11, net.params, up, X1, y) < 0
    assert oracle_slope(A11, net.params, -up, X1, y) == 0
    v = classify(net, X1, y, tol=0.0, kink_tol=0.0, check=False)
    assert v.verdict == "not stationary"
    assert oracle_slope(A11, net.params, v.direction, X1, y) < 0


@pytest.mark.parametrize("scale", [2.0, 0.5, 2.0 ** 30])
def test_parallel_neurons_kinked_on_the_same_sample(scale):
    """w and c·w (c > 0) both kinked at x = 0, output weights summing to the README fit."""
    arch = Architecture(1, (2,), 1, output_bias=False)
    net = net_of(arch, [[1.0, 0.0], [scale, 0.0]], [[0.5], [0.5 / scale]])
    assert classify(net, X1, Y1, tol=0.0, kink_tol=0.0, check=False).verdict == "local minimum"
    # the opposite neuron −w is kinked there too: a zero-output copy of it can fit y(0) = −1?
    # no: relu(−x) is 0 on x >= 0 and the x = 0 sample has residual of the wrong sign for it
    net2 = net_of(Architecture(1, (2,), 1, output_bias=False), [[1.0, 0.0], [-scale, 0.0]],
                  [[1.0], [0.0]])
    v = classify(net2, X1, Y1, tol=0.0, kink_tol=0.0, check=False)
    assert v.verdict == "saddle"          # F ≢ 0 at the kink sample: r ρ(u·x̃_0) with r > 0
    L0 = oracle_loss(net2.arch, net2.params, X1, Y1)
    assert oracle_moved_loss(net2.arch, net2.params, v.direction, Fraction(1, 2 ** 30),
                             X1, Y1) < L0


@pytest.mark.parametrize("nearly", [False, True])
def test_parallel_and_nearly_parallel_kink_samples(nearly):
    """Zero neuron w = 0 (every sample on its hyperplane), no biases, x2 = 2 x1 with
    r1 = −2 r2: F_k(u) = (r1 + 2 r2) ρ(u·x1) ≡ 0, a global minimum; x2 = (2, 2(1 + 2^-52))
    is not parallel: F_k ≢ 0 and the loss falls (a saddle)."""
    arch = Architecture(2, (1,), 1, hidden_bias=False, output_bias=False)
    x2 = [2.0, 2.0 * (1 + 2.0 ** -52)] if nearly else [2.0, 2.0]
    X = np.array([[1.0, 1.0], x2])
    y = np.array([[2.0], [-1.0]])
    net = net_of(arch, [[0.0, 0.0]], [[0.0]])
    v = classify(net, X, y, tol=0.0, kink_tol=0.0, check=False)
    assert v.verdict == ("saddle" if nearly else "local minimum")
    if nearly:
        L0 = oracle_loss(arch, net.params, X, y)
        assert oracle_moved_loss(arch, net.params, v.direction, Fraction(1, 2 ** 10),
                                 X, y) < L0


@pytest.mark.parametrize("c", [1.0, 2.0 ** -565])
def test_output_bias_failure_at_tiny_scale_has_a_finite_descent_direction(c):
    """Σ_n r_n ≠ 0 with an output bias; at c = 2^-565 the float norm of Σ r_n underflows."""
    arch = Architecture(1, (1,), 1, output_bias=True)
    net = net_of(arch, [[1.0, 0.0]], [[c]], [0.0])
    with np.errstate(divide="raise", invalid="raise"):
        st = stationarity(net, X1, Y1 * c, tol=0.0, kink_tol=0.0)
    assert [f["condition"] for f in st.failures] == ["output bias"]
    assert np.all(np.isfinite(st.descent_direction))
    assert oracle_slope(arch, net.params, st.descent_direction, X1, Y1 * c) < 0
