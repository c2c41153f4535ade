"""Audit of the ``exact=True`` claims of ``uniform_distance`` (box and disk candidates).

The reference below is independent of ``topoanalysis.degeneracy.distance``: every vertex of the
arrangement of the neurons' hyperplanes and the box facets is solved in ``fractions.Fraction``,
kept when it lies in the box exactly, and ``R(net_a) − R(net_b)`` is evaluated there exactly
from the networks' float parameters.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from topoanalysis import Network
from topoanalysis.degeneracy import Ball, Box, uniform_distance


def _q(x):
    return Fraction(float(x))


def _pieces(net):
    (W1, W2), (b1, b2) = net.weights, net.biases
    W1, W2 = np.asarray(W1), np.asarray(W2)
    b1 = np.zeros(len(W1)) if b1 is None else b1
    b2 = np.zeros(len(W2)) if b2 is None else b2
    return ([[_q(x) for x in r] for r in W1], [_q(x) for x in b1],
            [[_q(x) for x in r] for r in W2], [_q(x) for x in b2])


def _forward(p, x):
    W1, b1, W2, b2 = p
    h = [max(sum(a * c for a, c in zip(w, x)) + bb, Fraction(0)) for w, bb in zip(W1, b1)]
    return [sum(a * c for a, c in zip(r, h)) + bb for r, bb in zip(W2, b2)]


def _solve(rows, rhs):
    d = len(rows)
    A = [list(r) + [c] for r, c in zip(rows, rhs)]
    for col in range(d):
        piv = next((r for r in range(col, d) if A[r][col] != 0), None)
        if piv is None:
            return None
        A[col], A[piv] = A[piv], A[col]
        for r in range(d):
            if r != col and A[r][col] != 0:
                f = A[r][col] / A[col][col]
                A[r] = [u - f * v for u, v in zip(A[r], A[col])]
    return [A[i][d] / A[i][i] for i in range(d)]


def exact_box_sup_sq(net_a, net_b, low, high):
    """``max ||R(a) − R(b)||²`` over the box, in rationals (all vertices enumerated)."""
    pa, pb = _pieces(net_a), _pieces(net_b)
    lo, hi = [_q(x) for x in low], [_q(x) for x in high]
    d = len(lo)
    planes = [(w, -c) for w, c in zip(pa[0] + pb[0], pa[1] + pb[1]) if any(w)]
    for i in range(d):
        e = [Fraction(int(i == j)) for j in range(d)]
        planes += [(e, lo[i]), (e, hi[i])]
    best = Fraction(-1)
    for combo in itertools.combinations(planes, d):
        x = _solve([p[0] for p in combo], [p[1] for p in combo])
        if x is not None and all(lo[i] <= x[i] <= hi[i] for i in range(d)):
            ga, gb = _forward(pa, x), _forward(pb, x)
            best = max(best, sum((s - t) ** 2 for s, t in zip(ga, gb)))
    return best


def _zero(d, e=1):
    return Network.from_weights([np.zeros((1, d)), np.zeros((e, 1))])


def _tent(w1, w2, b1, b2, K, beta):
    """``β − K(|l_1| + |l_2|)``: its maximum is the vertex of the two lines."""
    return Network.from_weights([np.array([w1, -w1, w2, -w2]), np.full((1, 4), -K)],
                                [np.array([b1, -b1, b2, -b2]), np.array([beta])])


def _nearly_parallel_case(seed):
    """Two lines one ulp apart in one weight; a 2e-9 box around their vertex."""
    rng = np.random.default_rng(seed)
    while True:
        w1 = rng.normal(size=2)
        w2 = w1.copy()
        k = rng.integers(2)
        w2[k] = np.nextafter(w2[k], np.inf)
        p = rng.uniform(0.5, 0.9, 2)
        b1, b2 = -float(w1 @ p), -float(w2 @ p)
        det = _q(w1[0]) * _q(w2[1]) - _q(w1[1]) * _q(w2[0])
        v = ((-_q(b1) * _q(w2[1]) + _q(b2) * _q(w1[1])) / det,
             (-_q(w1[0]) * _q(b2) + _q(w2[0]) * _q(b1)) / det)
        vf = np.array([float(v[0]), float(v[1])])
        if np.abs(vf).max() <= 4:
            break
    sin = abs(float(det)) / (np.linalg.norm(w1) * np.linalg.norm(w2))
    K = 1e-3 / (np.linalg.norm(w2) * sin)
    beta = K * np.linalg.norm(w1) * 4e-9
    return _tent(w1, w2, b1, b2, K, beta), (tuple(vf - 1e-9), tuple(vf + 1e-9))


@pytest.mark.parametrize("seed", [9, 14, 31, 36, 41, 51])
def test_ill_conditioned_vertex_is_found(seed):
    # before: the float solve of the nearly singular 2x2 system (LU reports it singular, the
    # lstsq fallback gives another point) dropped the vertex: value low by 1e-8 .. 7e-8 with
    # exact=True
    net, box = _nearly_parallel_case(seed)
    res = uniform_distance(net, _zero(2), Box(*box))
    ref = exact_box_sup_sq(net, _zero(2), *box)
    assert res.exact and res.value == float(_forward_value(None, ref))


def test_nearly_parallel_sweep_matches_exact_reference():
    for seed in range(40):
        net, box = _nearly_parallel_case(1000 + seed)
        res = uniform_distance(net, _zero(2), Box(*box))
        ref = exact_box_sup_sq(net, _zero(2), *box)
        assert res.exact and res.value == pytest.approx(math.sqrt(ref), rel=1e-15), seed


def test_cancelling_huge_neurons_are_evaluated_exactly():
    # g = ρ(x1) + 2^60 ρ(x2 + 1) − 2^60 ρ(x2 + 1) = x1 on [0, 1]^2; the float evaluation lost
    # ρ(x1) against 2^60 and reported 0.0 with exact=True (box and disk alike)
    T = 2.0 ** 60
    a = Network.from_weights([np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, T]])],
                             [np.array([0.0, 1.0]), None])
    b = Network.from_weights([np.array([[0.0, 1.0]]), np.array([[T]])], [np.array([1.0]), None])
    box = uniform_distance(a, b, Box((0.0, 0.0), (1.0, 1.0)))
    assert box.exact and box.value == 1.0
    disk = uniform_distance(a, b, Ball((0.0, 0.0), 1.0))
    assert not disk.exact and disk.value == 1.0  # circle points in floats: not proven
    line = uniform_distance(Network.from_weights([[[1.0], [1.0]], [[1.0, T]]], [[0.0, 1.0], None]),
                            Network.from_weights([[[1.0]], [[T]]], [[1.0], None]),
                            Ball((0.0,), 1.0))
    assert line.exact and line.value == 1.0


def test_vertex_exactly_on_the_box_boundary():
    # the tent's vertex lies on x1 = x2 near (0.5, 0.5): boxes with a corner or an edge there
    w1, w2 = np.array([0.1, -0.1]), np.array([0.3, 0.7])
    b1 = 0.0
    b2 = -float(w2 @ np.array([0.5, 0.5]))          # rounded: the vertex is near (0.5, 0.5)
    net = _tent(w1, w2, b1, b2, 3.0, 10.0)
    for box in [((0.0, 0.0), (0.5, 0.5)), ((0.5, 0.5), (1.0, 1.0)), ((0.0, 0.5), (0.5, 1.0))]:
        res = uniform_distance(net, _zero(2), Box(*box))
        ref = exact_box_sup_sq(net, _zero(2), *box)
        assert res.exact and res.value == float(_forward_value(None, ref)), box


def _forward_value(net, sq):
    # one output: the exact value is ±sqrt(sq); sq is a perfect square of the rational |g|
    num, den = sq.numerator, sq.denominator
    rn, rd = math.isqrt(num), math.isqrt(den)
    assert rn * rn == num and rd * rd == den
    return Fraction(rn, rd)


@pytest.mark.parametrize("k", [-600, -60, 0, 60, 600])
def test_power_of_two_scales_are_exact(k):
    r = np.random.default_rng(3)
    A, bA, C = r.normal(size=(5, 2)), r.normal(size=5), r.normal(size=(1, 5))
    B, bB, D = r.normal(size=(4, 2)), r.normal(size=4), r.normal(size=(1, 4))
    base = (uniform_distance(Network.from_weights([A, C], [bA, None]),
                             Network.from_weights([B, D], [bB, None]),
                             Box((-1.0, -0.5), (2.0, 1.0))))
    # inputs scaled by 2^k: the box by 2^k, the weights by 2^-k (same function of y = 2^-k x)
    a = Network.from_weights([np.ldexp(A, -k), C], [bA, None])
    b = Network.from_weights([np.ldexp(B, -k), D], [bB, None])
    res = uniform_distance(a, b, Box((-math.ldexp(1, k), -math.ldexp(0.5, k)),
                                     (math.ldexp(2, k), math.ldexp(1, k))))
    ref = exact_box_sup_sq(Network.from_weights([A, C], [bA, None]),
                           Network.from_weights([B, D], [bB, None]), (-1.0, -0.5), (2.0, 1.0))
    assert base.exact and res.exact and res.value == base.value == float(_forward_value(None, ref))


def test_weights_whose_scaling_underflows():
    # row (2^1000, 2^-1000, b): the power-of-two row scaling sends 2^-1000 below 2^-1074 (it
    # became 0 and the line changed); the exact method uses the rationals
    w = np.array([[2.0 ** 1000, 2.0 ** -1000], [1.0, -1.0]])
    a = Network.from_weights([w, np.array([[2.0 ** -1000, 1.0]])], [np.array([0.0, 0.25]), None])
    box = ((-1.0, -1.0), (1.0, 1.0))
    res = uniform_distance(a, _zero(2), Box(*box))
    ref = exact_box_sup_sq(a, _zero(2), *box)
    assert res.exact and res.value == float(_forward_value(None, ref))


def test_random_inputs_give_the_correctly_rounded_value():
    r = np.random.default_rng(7)
    for _ in range(10):
        a = Network.from_weights([r.normal(size=(6, 2)), r.normal(size=(1, 6))],
                                 [r.normal(size=6), r.normal(size=1)])
        b = Network.from_weights([r.normal(size=(5, 2)), r.normal(size=(1, 5))],
                                 [r.normal(size=5), None])
        box = ((-1.0, -0.75), (1.5, 1.0))
        res = uniform_distance(a, b, Box(*box))
        assert res.exact and res.value == float(_forward_value(None, exact_box_sup_sq(a, b, *box)))


def test_vector_outputs_and_three_dimensions():
    r = np.random.default_rng(11)
    a = Network.from_weights([r.normal(size=(5, 2)), r.normal(size=(2, 5))], [r.normal(size=5), None])
    b = Network.from_weights([r.normal(size=(3, 2)), r.normal(size=(2, 3))], [r.normal(size=3), None])
    box = ((-1.0, -1.0), (1.0, 0.5))
    res = uniform_distance(a, b, Box(*box))
    ref = exact_box_sup_sq(a, b, *box)
    assert res.exact and abs(res.value - math.sqrt(ref)) <= 2 * math.ulp(res.value)
    a3 = Network.from_weights([r.normal(size=(4, 3)), r.normal(size=(1, 4))], [r.normal(size=4), None])
    b3 = Network.from_weights([r.normal(size=(3, 3)), r.normal(size=(1, 3))], [r.normal(size=3), None])
    box3 = ((-1.0, -1.0, -1.0), (1.0, 0.5, 2.0))
    res3 = uniform_distance(a3, b3, Box(*box3))
    assert res3.exact and res3.value == float(_forward_value(None, exact_box_sup_sq(a3, b3, *box3)))


def test_vertex_on_the_box_edge_from_nearly_parallel_lines():
    # the vertex of two nearly parallel lines placed exactly on the edge x2 = hi (or just
    # beyond it by one ulp): in the box iff the exact solution says so
    w1 = np.array([0.1, 0.7])
    w2 = np.array([0.1, np.nextafter(0.7, 1.0)])
    for yv in (0.5, np.nextafter(0.5, 1.0), np.nextafter(0.5, 0.0)):
        # both lines through (0.25, yv) as closely as floats allow
        b1 = -float(w1 @ np.array([0.25, yv]))
        b2 = -float(w2 @ np.array([0.25, yv]))
        net = _tent(w1, w2, b1, b2, 2.0 ** 50, 2.0 ** 10)
        for box in [((0.0, 0.0), (0.5, 0.5)), ((0.0, 0.5), (0.5, 1.0))]:
            res = uniform_distance(net, _zero(2), Box(*box))
            ref = exact_box_sup_sq(net, _zero(2), *box)
            assert res.exact and res.value == float(_forward_value(None, ref)), (yv, box)
