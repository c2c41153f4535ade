"""Audit of ``sobolev_distance`` (the ``W^{1,∞}`` semi-norm) against an exact reference.

The reference is independent of ``topoanalysis.degeneracy.distance``. As documented there, the
distance is ``max ||J||_F`` over the regions of the central arrangement of the neurons' weight
vectors on the augmented input (``(w_k, b_k)`` on ``(x, 1)``, the output bias a neuron
``(0, …, 0, 1)``), ``J = Σ_k c_k v_kᵀ [⟨v_k, z⟩ > 0]``. Every open cone meets ``z_D = ±1``;
there the arrangement is affine (points in ``R^0``, intervals in ``R^1``, cells of a line
arrangement in ``R^2`` found by a sweep: between consecutive critical abscissae — vertices
and vertical lines — the lines do not cross, so one rational point per vertical interval
hits every cell). ``J`` is summed in ``fractions.Fraction`` from the float parameters.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from topoanalysis import Network
from topoanalysis.degeneracy import sobolev_distance


def _q(x):
    return Fraction(float(x))


def _form(net, sign):
    """Rows ``(v_k, s_k)`` of the bias-free form on the augmented input, in rationals."""
    (W1, W2), (b1, b2) = net.weights, net.biases
    W1, W2 = np.asarray(W1), np.asarray(W2)
    bias = b1 is not None or (b2 is not None and np.any(np.asarray(b2) != 0))
    rows = []
    for k in range(len(W1)):
        v = [_q(x) for x in W1[k]]
        if bias:
            v.append(_q(b1[k]) if b1 is not None else Fraction(0))
        rows.append((v, [sign * _q(c) for c in W2[:, k]]))
    if b2 is not None and np.any(np.asarray(b2) != 0):
        D = len(rows[0][0])
        rows.append(([Fraction(0)] * (D - 1) + [Fraction(1)], [sign * _q(c) for c in b2]))
    return rows, bias


def _mids(cuts):
    cuts = sorted(set(cuts))
    if not cuts:
        return [Fraction(0)]
    return [cuts[0] - 1] + [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] + [cuts[-1] + 1]


def _points(vs, D):
    """One rational point in every open cell of the central arrangement ``{v^⊥}`` in ``R^D``."""
    pts = []
    for t in (Fraction(1), Fraction(-1)):
        if D == 1:
            pts.append((t,))
        elif D == 2:          # v0 y + v1 t = 0 on the line z = (y, t)
            ys = [-v[1] * t / v[0] for v in vs if v[0] != 0]
            pts += [(y, t) for y in _mids(ys)]
        elif D == 3:          # lines a x + b y + c t = 0 in the plane z = (x, y, t)
            lines = [(v[0], v[1], v[2] * t) for v in vs if v[0] != 0 or v[1] != 0]
            xs = [-c / a for a, b, c in lines if b == 0]
            for (a1, b1, c1), (a2, b2, c2) in itertools.combinations(lines, 2):
                det = a1 * b2 - a2 * b1
                if det != 0:
                    xs.append((-c1 * b2 + c2 * b1) / det)
            for x in _mids(xs):
                ys = [-(a * x + c) / b for a, b, c in lines if b != 0]
                pts += [(x, y, t) for y in _mids(ys)]
        else:
            raise AssertionError(D)
    return pts


def exact_sq(net_a, net_b=None):
    """``max ||J||_F²`` over the regions, in rationals."""
    ra, ba = _form(net_a, 1)
    rows = ra
    if net_b is not None:
        rb, bb = _form(net_b, -1)
        if ba and not bb:     # lift the bias-free one: neuron (w, 0)
            rb = [(v + [Fraction(0)], s) for v, s in rb]
        if bb and not ba:
            rows = [(v + [Fraction(0)], s) for v, s in ra]
        rows = rows + rb
    return _rows_sq(rows)


def _rows_sq(rows):
    """``max ||J||_F²`` for rational rows ``(v_k, s_k)``."""
    D, e = len(rows[0][0]), len(rows[0][1])
    rows = [(v, s) for v, s in rows if any(v)]
    best = Fraction(0)
    for z in _points([v for v, _ in rows], D):
        J = [[Fraction(0)] * D for _ in range(e)]
        for v, s in rows:
            dot = sum(a * b for a, b in zip(v, z))
            assert dot != 0
            if dot > 0:
                for i in range(e):
                    for j in range(D):
                        J[i][j] += s[i] * v[j]
        best = max(best, sum(x * x for row in J for x in row))
    return best


def _net(W, c, b=None, beta=None):
    W = np.atleast_2d(np.asarray(W, dtype=float))
    c = np.asarray(c, dtype=float)
    c = c.reshape(-1, W.shape[0]) if c.ndim <= 1 else c
    if b is None and beta is None:
        return Network.from_weights([W, c])
    b = np.zeros(len(W)) if b is None else np.asarray(b, dtype=float)
    beta = np.zeros(len(c)) if beta is None else np.atleast_1d(np.asarray(beta, dtype=float))
    return Network.from_weights([W, c], [b, beta])


def _close_sqrt(value, sq):
    """``value`` is ``sqrt(sq)`` within 2 ulp (``sq`` a rational of any size)."""
    if sq == 0:
        return value == 0.0
    k = (sq.numerator.bit_length() - sq.denominator.bit_length()) // 2
    root = math.sqrt(sq / Fraction(4) ** k)
    return abs(Fraction(value) - Fraction(root) * Fraction(2) ** k) <= \
        Fraction(2) ** k * Fraction(math.ulp(root)) * 3


def check(net_a, net_b=None, **kw):
    """Compare with the reference; return (result, exact squared value)."""
    r = sobolev_distance(net_a, net_b, **kw)
    ref = exact_sq(net_a, net_b)
    if r.exact:
        assert Fraction(r.squared) == ref, (r, ref)
        assert _close_sqrt(r.value, ref), (r, ref)
    # certified bounds (also the degenerate ones of an exact result, up to its 2 ulp)
    lo, hi = Fraction(r.lower), Fraction(r.upper)
    if not r.exact:
        assert lo * lo <= ref <= hi * hi, (r, ref)
    return r, ref


# --- the reference itself --------------------------------------------------------------------
def test_reference_on_hand_computed_cases():
    # ρ(x1) − 2ρ(x2): region x1, x2 > 0 has gradient (1, −2)
    a, b = _net([[1.0, 0.0]], [1.0]), _net([[0.0, 1.0]], [2.0])
    assert exact_sq(a, b) == 5
    # ρ(x) − ρ(−x) = x: one region-independent gradient 1
    assert exact_sq(_net([[1.0], [-1.0]], [1.0, -1.0])) == 1
    # ρ(x + 1) on (x, 1): gradient (1, 1) where x + 1 > 0
    assert exact_sq(_net([[1.0]], [1.0], [1.0])) == 2


# --- random small cases against the reference ------------------------------------------------
_VALS = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 0.75])


def _random_pair(rng, d, e, bias):
    def mk(m):
        if rng.random() < 0.7:                       # small dyadics: coincidences are common
            W = rng.choice(_VALS, size=(m, d))
        else:
            W = rng.normal(size=(m, d))
        c = rng.choice(_VALS, size=(e, m))
        if bias:
            beta = rng.choice(_VALS, size=e) if rng.random() < 0.5 else None
            return _net(W, c, rng.choice(_VALS, size=m), beta)
        return _net(W, c)
    return mk(int(rng.integers(1, 4))), mk(int(rng.integers(1, 4)))


@pytest.mark.parametrize("d,bias", [(1, False), (2, False), (1, True), (2, True)])
@pytest.mark.parametrize("e", [1, 2])
def test_random_small_networks_match_the_reference(d, bias, e):
    rng = np.random.default_rng(100 * d + 10 * e + bias)
    n_exact = 0
    for _ in range(12):
        r, _ = check(*_random_pair(rng, d, e, bias))
        n_exact += r.exact
    assert n_exact == 12


def test_concurrent_lines_with_biases_branch_and_bound():
    # exactly concurrent lines in R^2 (a pencil of planes in the augmented R^3), with
    # non-dyadic directions (rounded unit normals are not concurrent)
    rng = np.random.default_rng(7)
    for _ in range(6):
        p = rng.integers(-3, 4, size=2).astype(float)
        W = rng.integers(-5, 6, size=(4, 2)).astype(float) * np.array([1.0, 1 / 3])
        W[np.all(W == 0, axis=1)] = [1.0, 7.0]
        b = -(W @ p)
        c = rng.integers(-4, 5, size=(2, 4)).astype(float)
        r, _ = check(_net(W[:2], c[:, :2], b[:2]), _net(W[2:], c[:, 2:], b[2:]))
        assert r.exact and r.dim == 3


# --- degenerate configurations ---------------------------------------------------------------
def test_coinciding_hyperplanes_w_and_2w():
    # ρ(⟨w, x⟩ + b) and ½ρ(⟨2w, x⟩ + 2b) realize the same function: distance 0
    w, b = [1.0, 3.0], 0.5
    r, ref = check(_net([w], [1.0], [b]), _net([[2 * x for x in w]], [0.5], [2 * b]))
    assert ref == 0 and r.exact and r.value == 0.0 and r.n_hyperplanes == 0
    # same hyperplane, different outputs: g = ½ρ(⟨(w, b), (x, 1)⟩), ||½(1, 3, ½)||² = 41/16
    r, ref = check(_net([w], [1.0], [b]), _net([[2 * x for x in w]], [0.25], [2 * b]))
    assert r.exact and r.n_hyperplanes == 1 and ref == Fraction(41, 16)


def test_cancelling_neurons_and_opposite_pairs():
    # ρ(z) − ρ(−z) = z: the opposite pair is no kink, only its linear part remains
    W = [[1.0, 2.0], [-1.0, -2.0]]
    r, ref = check(_net(W, [1.0, -1.0], [0.5, -0.5]), _net([[1.0, 2.0]], [1.0], [0.5]))
    assert r.exact and ref == Fraction(21, 4)
    # g has fewer kinks than neurons: three neurons, one kink line left
    a = _net([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]], [1.0, 0.5, 1.0])
    b = _net([[4.0, 0.0]], [0.5])
    r, ref = check(a, b)
    assert r.exact and r.n_hyperplanes == 1 and ref == 1
    # everything cancels: two splittings of the linear function x
    r, ref = check(_net([[1.0], [-1.0]], [1.0, -1.0]), _net([[2.0], [-2.0]], [0.5, -0.5]))
    assert ref == 0 and r.exact and r.value == 0.0


@pytest.mark.parametrize("k", [-500, -270, -60, 0, 60, 270, 500])
def test_power_of_two_rescaling_scales_exactly(k):
    Wa, ca = np.array([[1.0, 3.0], [2.0, -1.0], [-0.5, 0.25]]), np.array([[1.0, 2.0, -1.5],
                                                                         [0.5, 0.0, 1.0]])
    Wb, cb = np.array([[0.5, 1.0], [1.0, 1.0]]), np.array([[2.0, -1.0], [1.0, 1.0]])
    base, ref0 = check(_net(Wa, ca), _net(Wb, cb))
    t = 2.0 ** k
    # first layer scaled: the distance scales by t
    r, ref = check(_net(Wa * t, ca), _net(Wb * t, cb))
    assert r.exact and ref == ref0 * Fraction(t) ** 2 and Fraction(r.squared) == ref
    assert r.value == math.ldexp(base.value, k)
    # both layers scaled: by t² (2^{±1000}: still inside float64)
    r, ref = check(_net(Wa * t, ca * t), _net(Wb * t, cb * t))
    assert r.exact and ref == ref0 * Fraction(t) ** 4
    assert (r.lower, r.value, r.upper) == tuple(math.ldexp(x, 2 * k)
                                                for x in (base.lower, base.value, base.upper))


# --- regressions -----------------------------------------------------------------------------
def _underflow_pair(bias):
    """``J = (x, x)`` on ``z1 > 0`` and ``(y, 0)`` on ``z1 < 0``, ``x = 1.375·2^-538``,
    ``y = 1.5·2^-538``: in floats ``x² + x²`` flushes to 0 and ``y²`` to ``2^-1074``, so the
    unscaled float filter ranked the smaller region first and dropped the larger one."""
    u = 2.0 ** -270
    W = [[u, 0.0], [-u, 0.0]] if bias else [[u], [-u]]
    c = np.array([[1.375, -1.5], [1.375, 0.0]]) * 2.0 ** -268
    return _net(W, c, [0.0, 0.0]) if bias else _net(W, c)


@pytest.mark.parametrize("bias", [False, True])
def test_tiny_jacobians_do_not_underflow_the_float_filter(bias):
    # was: exact=True with squared = 9/4·2^-1076 (the smaller region) instead of 121/32·2^-1076
    net = _underflow_pair(bias)
    r, ref = check(net)
    assert r.exact and ref == Fraction(121, 32) * Fraction(2) ** -1076
    assert r.dim == (3 if bias else 1)


def test_budget_bounds_contain_the_true_value_to_the_last_ulp():
    # was: the lower bound of a truncated branch and bound was sqrt(best²) rounded to nearest,
    # one ulp above the true value when the best region found was the maximum
    W = np.array([[1.0, -3.0], [3.0, 3.0], [1.0, 2.0], [2.0, -2.0]])
    b = np.array([3.0, -3.0, 3.0, 1.0])
    c = np.array([[0.9164229099842688, -2.8581753769067246, 0.01406637216464734,
                   -1.1087845239491876]])
    a, g = _net(W[:2], c[:, :2], b[:2]), _net(W[2:], c[:, 2:], b[2:])
    ref = exact_sq(a, g)
    for kw in ({"max_nodes": 1, "n_samples": 0}, {"max_nodes": 2}, {}):
        r = sobolev_distance(a, g, **kw)
        assert Fraction(r.lower) ** 2 <= ref <= Fraction(r.upper) ** 2, kw
    assert r.exact and Fraction(r.squared) == ref


def test_exact_value_is_correctly_rounded_and_bracketed():
    rng = np.random.default_rng(3)
    for _ in range(10):
        r, ref = check(*_random_pair(rng, 2, 2, False))
        lo, v, hi = Fraction(r.lower), Fraction(r.value), Fraction(r.upper)
        assert lo * lo <= ref <= hi * hi and math.nextafter(r.lower, math.inf) >= r.upper
        # nearest: no float closer to sqrt(ref) than value (compare squares of midpoints)
        for other in (math.nextafter(r.value, 0.0), math.nextafter(r.value, math.inf)):
            mid = (v + Fraction(other)) / 2
            assert (ref - mid * mid) * (v - Fraction(other)) >= 0


def _pencil_through(z):
    """Three planes containing the line ``span z`` exactly (float entries, rational zeros)."""
    return np.array([[z[1], -z[0], 0.0], [z[2], 0.0, -z[0]], [0.0, z[2], -z[1]]])


def test_points_on_concurrent_planes_get_no_impossible_sign_pattern():
    # The branch and bound's witness pool is normal(seed 0); its point 8 lies exactly on all
    # three planes of this pencil. Its signs were decided exactly but against the *rounded*
    # unit normals, which gave it the pattern (−, −, +) no point has: exact=True with 4.2999
    # for a true value of 3.8093.
    z = np.random.default_rng(0).normal(size=(4096, 3))[8]
    r, ref = check(_net(_pencil_through(z), [-3.0, -3.0, 1.0]))
    assert r.exact and math.isclose(r.value, 3.809301712294957, rel_tol=1e-15)
    for i in range(6):                            # the first pool points, all on their pencils
        z = np.random.default_rng(0).normal(size=(4096, 3))[i]
        for c in ([-3.0, -3.0, 1.0], [4.0, -3.0, 1.0], [1.0, 4.0, -3.0]):
            assert check(_net(_pencil_through(z), c))[0].exact


def test_cancelling_members_of_one_hyperplane_keep_the_float_filter_sound():
    # 1e10 ρ(x) + s ρ(3x), s = fl(−1e10/3), leaves the kink 1e10 + 3s = −2^-21 exactly, but the
    # float sum of the members' contributions was 0 and the error bound E (from that sum) tiny:
    # the region x > 0 was filtered out and exact=True gave δ = 2^-22 (the region x < 0)
    s = -1e10 / 3
    jump = Fraction(1e10) + 3 * Fraction(s)
    assert jump == -Fraction(1, 2 ** 21)
    net = _net([[1.0], [3.0], [-1.0]], [1e10, s, 2.0 ** -22])
    r, ref = check(net)
    assert r.exact and ref == jump ** 2 and r.value == 2.0 ** -21
    # the same on the augmented input (bias) and with a second output
    check(_net([[1.0], [3.0], [-1.0]], [1e10, s, 2.0 ** -22], [1.0, 3.0, 0.5]))
    check(_net([[1.0, 0.5], [3.0, 1.5], [-1.0, 2.0]], [[1e10, s, 2.0 ** -22], [1.0, 0.0, 0.0]]))


def test_members_far_below_their_lead_are_rounded_once():
    # a member 2^-1060 times its group's lead: its exact share of the group's sum is
    # subnormal relative to the lead's scale, and must not be flushed before the product
    net = _net([[2.0 ** 1000, 0.0], [2.0 ** -60, 0.0], [0.0, 1.0]],
               [1e-300, 1 + 2 ** -52, 1.0])
    assert check(net)[0].exact


def test_merge_tol_counts_neurons_whose_float_normals_coincide_but_lines_differ():
    # (1, fl(31/47)) and (47, 31) have equal float unit normals but different lines: with
    # merge_tol=0 they were merged without any change bound, [lower, upper] = [0, 0] for a
    # true distance 56.3 (the wedge between the lines)
    v1, v2 = [1.0, 31.0 / 47.0], [47.0, 31.0]
    a, b = _net([v1], [47.0]), _net([v2], [1.0])
    ref = exact_sq(a, b)
    for tol in (0.0, 1e-12, 0.5, 1.0):
        r = sobolev_distance(a, b, merge_tol=tol)
        assert not r.exact and Fraction(r.lower) ** 2 <= ref <= Fraction(r.upper) ** 2, tol
        assert r.change_bound >= 47.0


@pytest.mark.parametrize("tol", [1e-9, 0.3, 1.0])
def test_merge_tol_bounds_hold_the_true_value(tol):
    rng = np.random.default_rng(11)
    for d, bias in ((1, False), (2, False), (1, True), (2, True)):
        for _ in range(4):
            r, _ = check(*_random_pair(rng, d, 2, bias), merge_tol=tol)
            assert not r.exact


@pytest.mark.parametrize("augment", ["bias", "c3"])
def test_augmentations_match_the_reference_on_their_forms(augment):
    # "c3" lifts (w, b) to (w, b⁺ + τ, b⁻ + τ) in floats: the distance is that of the lifted
    # (float) forms, compared here with the reference on exactly those rows
    from topoanalysis.degeneracy._form import pair_forms

    rng = np.random.default_rng(5)
    for _ in range(6):
        a, b = _random_pair(rng, 1, 2, True)
        fa, fb = pair_forms(a, b, augment)
        rows = [([_q(x) for x in v], [_q(x) for x in c]) for v, c in zip(fa.A, fa.C)]
        rows += [([_q(x) for x in v], [-_q(x) for x in c]) for v, c in zip(fb.A, fb.C)]
        rows = [(v, c) for v, c in rows if any(v)]
        r = sobolev_distance(a, b, augment=augment)
        assert r.exact and Fraction(r.squared) == _rows_sq(rows)


def test_dead_neurons_zero_outputs_mixed_biases_and_seminorm():
    from topoanalysis import Network

    cases = [
        (_net([[0.0, 0.0], [1.0, 2.0]], [5.0, 1.0]), _net([[1.0, 2.0]], [0.5])),
        (_net([[1.0, 2.0], [3.0, -1.0]], [0.0, 1.0]), _net([[3.0, -1.0]], [1.0])),
        (_net([[1.0, 2.0]], [1.0]), _net([[1.0, 2.0]], [1.0], [0.5])),
        (_net([[1.0, 2.0]], [1.0], [0.5]), _net([[1.0, 2.0]], [1.0])),
        (Network.from_weights([np.array([[1.0, -1.0]]), np.array([[2.0]])],
                              [None, np.array([0.75])]), _net([[1.0, -1.0]], [2.0])),
        (_net([[1.0], [-2.0], [0.5]], [[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]], [0.5, 1.0, -1.0],
              [0.25, 0.5]), None),
        (_net([[0.0, 0.0]], [0.0]), None),
    ]
    expected = [Fraction(5, 4), 0, Fraction(21, 4), Fraction(21, 4), Fraction(9, 16), None, 0]
    for (a, b), want in zip(cases, expected):
        r, ref = check(a, b)
        assert r.exact and (want is None or ref == want)
