"""Audit of the certified segment bounds (session 13): the exact loss as the oracle."""

import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.exceptions import NotSupportedError
from topoanalysis.levelsets import segment_loss_bounds
from test_certified_strings import _exact_deep_loss, _exact_loss


def _worst_gap(res, exact, us=(0, Fraction(1, 3), Fraction(1, 2), Fraction(5, 7), 1)):
    """Largest ``exact loss − upper[i]`` over a few exact rational ``t`` of every interval."""
    worst = -mpmath.inf
    for i in range(res.ts.size - 1):
        s, s1 = Fraction(res.ts[i]), Fraction(res.ts[i + 1])
        for u in us:
            v = exact(s + Fraction(u) * (s1 - s))
            v = mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v
            worst = max(worst, v - mpmath.mpf(res.upper[i]))
    return worst


def test_cross_entropy_with_targets_summing_below_zero_is_not_convex():
    # targets (0, 0, -1): the loss is f_3 − lse(f), concave in the outputs; along the segment
    # the logits (10, −10, 0) -> (−10, 10, 0) the loss is about −10 at both ends and −log 3 in
    # the middle, but the curvature bound (no f'' and no kink here) said the larger end
    arch = Architecture(1, (1,), 3, activation="linear")
    ta = np.array([0., 0, 0, 0, 0, 10, -10, 0])
    tb = np.array([0., 0, 0, 0, 0, -10, 10, 0])
    X, y = np.array([[1.0]]), np.array([[0., 0, -1]])

    def exact(t):
        return _exact_loss(arch, ta, tb, X, y, t, "cross_entropy")

    res = segment_loss_bounds(ta, tb, X, y, arch=arch, loss="cross_entropy", n_points=2)
    assert _worst_gap(res, exact) <= 0
    # not proven below a level the exact loss exceeds in the middle
    lev = segment_loss_bounds(ta, tb, X, y, arch=arch, loss="cross_entropy", n_points=2,
                              level=-2.0, max_points=64)
    assert exact(Fraction(1, 2)) > -2 and lev.proven is False
    with pytest.raises(NotSupportedError, match="`y`.*cross_entropy"):
        segment_loss_bounds(ta, tb, X, y, arch=arch, loss="cross_entropy", n_points=2,
                            method="curvature")
    # rows summing to >= 0 (negative entries allowed) keep the curvature bound
    y2 = np.array([[2., 0, -1]])
    res2 = segment_loss_bounds(ta, tb, X, y2, arch=arch, loss="cross_entropy", n_points=3,
                               method="curvature")
    assert _worst_gap(res2, lambda t: _exact_loss(arch, ta, tb, X, y2, t,
                                                  "cross_entropy")) <= 0


def test_underflow_of_the_pre_activations_is_bounded():
    # x w = 1e-400 underflows to 0 in float64; the output weight 1e300 lifts it to 1e-100:
    # the float loss and its rounding analysis were 0 while the exact loss is 1e-200, and the
    # level 1e-300 was "proven"
    arch = Architecture(1, (1,), 1)
    ta = np.array([1e-200, 0, 1e300, 0])
    X, y = np.array([[1e-200]]), np.zeros((1, 1))
    exact = _exact_loss(arch, ta, ta, X, y, 0, "mse")
    assert exact > Fraction(1e-201)
    for method in ("curvature", "interval"):
        res = segment_loss_bounds(ta, ta, X, y, arch=arch, n_points=2, level=1e-300,
                                  method=method)
        assert res.proven is False and Fraction(res.max_upper) >= exact


@pytest.mark.parametrize("method", ["curvature", "interval"])
def test_underflow_of_the_squares_is_bounded(method):
    # outputs 2^-540: their squares (2^-1080) underflow to 0; the loss is not 0
    arch = Architecture(1, (1,), 1, activation="linear")
    ta = np.array([1.0, 0, 1.0, 0])
    X, y = np.array([[2.0 ** -540], [3 * 2.0 ** -541]]), np.zeros((2, 1))
    res = segment_loss_bounds(ta, ta, X, y, arch=arch, n_points=2, method=method)
    assert Fraction(res.max_upper) >= _exact_loss(arch, ta, ta, X, y, 0, "mse") > 0


def test_underflow_of_the_interval_radius_is_bounded():
    # theta_b − theta_a = 5e-324: at t = 0.05 the parameter is 2.5e-325 (rounds to 0) and
    # the input 1e300 lifts it to 2.5e-25; the interval radius t |Δ| underflowed to 0 and the
    # interval bound of [0, 0.1] was exactly 0
    arch = Architecture(1, (1,), 1)
    ta, tb = np.array([0, 0, 1., 0]), np.array([5e-324, 0, 1, 0])
    X, y = np.array([[1e300]]), np.zeros((1, 1))
    res = segment_loss_bounds(ta, tb, X, y, arch=arch, n_points=11, method="interval")
    assert _worst_gap(res, lambda t: _exact_deep_loss(arch, ta, tb, X, y, t, "mse")) <= 0


def test_interval_bound_of_a_leaky_relu_with_a_negative_slope():
    # σ(z) = z (z > 0), −2 z (z < 0) is not monotone: on z ∈ [−1, 1] its range is [0, 2],
    # the interval bound took [σ(−1), σ(1)] = [2, 1]
    arch = Architecture(1, (1,), 1, activation="leaky_relu", negative_slope=-2.0)
    ta, tb = np.array([1., -1, 1, 0]), np.array([1., 1, 1, 0])
    X, y = np.array([[0.0]]), np.full((1, 1), 5.0)
    res = segment_loss_bounds(ta, tb, X, y, arch=arch, n_points=2, method="interval")
    assert _worst_gap(res, lambda t: _exact_deep_loss(arch, ta, tb, X, y, t, "mse")) <= 0
    # a sigmoid output takes the interval method by default (the same flaw, deeper)
    deep = Architecture(1, (1,), 1, activation="leaky_relu", negative_slope=-2.0,
                        output_activation="sigmoid")
    y0 = np.zeros((1, 1))
    ta2, tb2 = np.array([1., -1, 10, -5]), np.array([1., 1, 10, -5])
    res = segment_loss_bounds(ta2, tb2, X, y0, arch=deep, n_points=2)
    assert _worst_gap(res, lambda t: _exact_deep_loss(deep, ta2, tb2, X, y0, t, "mse")) <= 0



def test_interval_radius_on_a_subnormal_grid_interval():
    # ts = [0, 5e-324, ...]: the midpoint and half-width of the first interval both round to
    # 0, so the radius of t around them was 0 while the parameter moves by 5e-324 · 1e300
    arch = Architecture(1, (1,), 1)
    ta, tb = np.array([0, 0, 1., 0]), np.array([1e300, 0, 1, 0])
    X, y = np.array([[1.0]]), np.zeros((1, 1))
    ts = np.array([0, 5e-324, 1e-323, 1.0])
    with warnings.catch_warnings():      # and no warning from inf - inf at t = 1
        warnings.simplefilter("error")
        res = segment_loss_bounds(ta, tb, X, y, arch=arch, ts=ts, method="interval")
    assert not np.any(np.isnan(res.loss_error))
    exact = _exact_deep_loss(arch, ta, tb, X, y, Fraction(5e-324), "mse")
    assert exact > 0 and exact <= mpmath.mpf(res.upper[0])


def test_a_target_row_sum_rounded_to_zero_is_still_negative():
    # 2^54 − 1 − 2^54 = −1, but np.sum rounds 2^54 − 1 to 2^54 and returns 0
    arch = Architecture(1, (1,), 3, activation="linear")
    y = np.array([[2.0 ** 54, -1.0, -2.0 ** 54]])
    assert np.sum(y) == 0.0
    ta = np.zeros(arch.n_params)
    with pytest.raises(NotSupportedError, match="row sum of -1"):
        segment_loss_bounds(ta, ta, np.ones((1, 1)), y, arch=arch, loss="cross_entropy",
                            n_points=2, method="curvature")
