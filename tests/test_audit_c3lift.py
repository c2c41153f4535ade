"""Audit 13 (c3lift): the C.3 lift (w, b) -> (w, b+ + τ, b- + τ) is exact in float64, so the
results built on it (canonical_form, sobolev_distance with augment="c3") are honest."""

from fractions import Fraction

import numpy as np
import pytest

from topoanalysis import Network
from topoanalysis.degeneracy import (canonical_form, restricted_space_membership,
                                     shallow_form, sobolev_distance)
from topoanalysis.degeneracy._exact import ray_key
from topoanalysis.degeneracy._form import c3_augment, pair_forms
from topoanalysis.exceptions import TopoAnalysisError


def _net(W, a, b=None, c=0.0):
    W = np.asarray(W, dtype=float)
    a = np.asarray(a, dtype=float)
    if b is None:
        return Network.from_weights([W, a])
    return Network.from_weights([W, a], [np.asarray(b, dtype=float), np.atleast_1d(float(c))])


def _assert_exact_lift(bias_A, lifted_A):
    """Every lifted row is (w, b+ + τ, b- + τ) exactly with τ > 0, and rays map one to one."""
    for z, r in zip(bias_A, lifted_A):
        assert np.array_equal(r[:-2], z[:-1])
        assert Fraction(r[-2]) - Fraction(r[-1]) == Fraction(z[-1])
        if np.any(z != 0):
            assert r[-2] > 0 and r[-1] > 0
    nz = [k for k in range(len(bias_A)) if np.any(bias_A[k] != 0)]
    for i in nz:
        for j in nz:
            same = ray_key(bias_A[i])[0] == ray_key(bias_A[j])[0]
            assert same == (ray_key(lifted_A[i])[0] == ray_key(lifted_A[j])[0])


def test_tiny_bias_keeps_its_own_lifted_row():
    # b = 1e-20 next to τ = ||(1, 1e-20)|| = 1: 1 + 1e-20 rounded to 1, so (1, 1e-20) and
    # (1, 0) both lifted to (1, 1, 1)
    net = _net([[1.0], [1.0]], [[1.0, 1.0]], [1e-20, 0.0])
    f = shallow_form(net, "c3")
    _assert_exact_lift(shallow_form(net, "bias").A, f.A)
    assert ray_key(f.A[0])[0] != ray_key(f.A[1])[0]
    X = np.array([[-1e-20 / 2], [0.5], [-1.0]])
    assert np.allclose(f(X), np.maximum(X + 1e-20, 0) + np.maximum(X, 0), rtol=1e-12, atol=0)


def test_canonical_form_does_not_put_two_neurons_on_one_ray():
    net = _net([[1.0], [1.0]], [[1.0, 1.0]], [1e-20, 0.0])
    cf = canonical_form(net, augment="c3")
    A = cf.network.weights[0]
    assert cf.n_neurons == 2
    assert ray_key(A[0])[0] != ray_key(A[1])[0]       # used to be one ray: not canonical
    m = restricted_space_membership(cf.network, augment="none")
    assert m.conditions["C.2"]


def test_sobolev_c3_no_longer_zero_exact_for_the_tiny_bias_pair():
    a = _net([[1.0]], [[1.0]], [1e-20])
    b = _net([[1.0]], [[1.0]], [0.0])
    assert sobolev_distance(a, b, augment="bias").value == 1.0
    d = sobolev_distance(a, b, augment="c3")
    # used to be 0 "(exact)": the two lifted rows were identical
    assert d.value > 0 and d.exact
    # lifted rows (1, 2e-20, 1e-20) and (1, 1, 1): the largest gradient is ||(1, 1, 1)||
    assert Fraction(d.squared) == 3


def test_one_ray_stays_one_ray_after_the_lift():
    # (1, 1) and (3, 3): fl(√18) is not 3 fl(√2), the lifted rows were not parallel
    net = _net([[1.0], [3.0]], [[3.0, -1.0]], [1.0, 3.0])       # 3ρ(x+1) − ρ(3x+3) = 0
    f = shallow_form(net, "c3")
    _assert_exact_lift(shallow_form(net, "bias").A, f.A)
    assert f.A.tolist() == [[1.0, 2.0, 1.0], [3.0, 6.0, 3.0]]
    d = sobolev_distance(net, augment="c3")
    assert d.value == 0.0 and d.exact
    # across a pair: the same function written with the two neurons of the ray
    a = _net([[1.0]], [[3.0]], [1.0])
    b = _net([[3.0]], [[1.0]], [3.0])
    fa, fb = pair_forms(a, b, "c3")
    assert ray_key(fa.A[0])[0] == ray_key(fb.A[0])[0]
    d = sobolev_distance(a, b, augment="c3")
    assert d.value == 0.0 and d.exact


@pytest.mark.parametrize("seed", range(6))
def test_random_networks_lift_exactly_and_keep_their_results(seed):
    rng = np.random.default_rng(seed)
    d, l = 1 + seed % 3, 3 + seed
    W = rng.standard_normal((l, d))
    a = rng.standard_normal((1, l))
    b = rng.standard_normal(l)
    net = _net(W, a, b, float(rng.standard_normal()))
    fb = shallow_form(net, "bias")
    f = shallow_form(net, "c3")
    _assert_exact_lift(fb.A, f.A)
    # a bias b != 0 lifts with τ = |b|: (w, 2b, b) or (w, |b|, 2|b|) (any τ > 0 is valid)
    for z, r in zip(fb.A, f.A):
        assert r[-2] == 2 * max(z[-1], 0.0) + max(-z[-1], 0.0)
    # without biases the lift keeps τ = ||w|| (0 + τ never rounds)
    g = shallow_form(_net(W, a), "c3")
    assert np.array_equal(g.A[:, -1], np.linalg.norm(W, axis=1))
    X = rng.standard_normal((50, d))
    assert np.allclose(f(X), net.forward(X), rtol=1e-12, atol=1e-12)
    cf = canonical_form(net, augment="c3")
    assert cf.verified and cf.exact and cf.n_neurons == l + 1
    assert np.allclose(cf(X), net.forward(X), rtol=1e-9, atol=1e-9)
    assert restricted_space_membership(cf.network, augment="none").conditions["C.2"]
    self_d = sobolev_distance(net, net, augment="c3")
    assert self_d.value == 0.0 and self_d.exact


def test_power_of_two_copies_keep_the_norm_lift():
    net = _net([[0.3, -1.1], [0.6, -2.2]], [[1.0, -0.5]])
    f = shallow_form(net, "c3")
    _assert_exact_lift(shallow_form(net, "bias").A, f.A)
    assert np.array_equal(f.A[1], 2 * f.A[0])
    assert f.A[0, -1] == np.linalg.norm([0.3, -1.1])
    # (1, 1, 0) and (3, 3, 0): fl(√18) != 3 fl(√2), so the ray gets τ = 2 ||z||_∞ instead
    f = shallow_form(_net([[1.0, 1.0], [3.0, 3.0]], [[1.0, 1.0]]), "c3")
    assert f.A.tolist() == [[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 6.0, 6.0]]


def test_huge_bias_lifts_exactly_or_is_refused():
    net = _net([[1.0]], [[1.0]], [1.5 * 2.0 ** 1023])
    f = shallow_form(net, "c3")
    _assert_exact_lift(shallow_form(net, "bias").A, f.A)
    big = _net([[1.0]], [[1.0]], [np.finfo(float).max])
    with pytest.raises(TopoAnalysisError, match="augment") as e:
        shallow_form(big, "c3")
    assert "\n" not in str(e.value)


def test_c3_augment_lifts_forms_together_and_refuses_a_mix():
    a = shallow_form(_net([[1.0]], [[1.0]], [1.0]), "bias")
    b = shallow_form(_net([[3.0]], [[1.0]], [3.0]), "bias")
    la, lb = c3_augment(a, b)
    assert ray_key(la.A[0])[0] == ray_key(lb.A[0])[0]
    with pytest.raises(TopoAnalysisError, match="augment"):
        c3_augment(la, b)


def test_symbolic_canonical_form_lifts_as_the_float_one():
    import sympy as sp

    from topoanalysis import Architecture, Network
    from topoanalysis.degeneracy import canonical_form_symbolic
    from topoanalysis.degeneracy._form import c3_augment, shallow_form

    A = sp.Matrix([[1, sp.Rational(1, 2)], [-2, 0], [3, -1], [sp.Rational(3, 4), 5]])
    C = sp.Matrix([[3], [1], [2], [-1]])
    lift = [s for s in canonical_form_symbolic(A, C) if s.step == "augment for C.3"][0]
    arch = Architecture(1, (4,), 1, output_bias=False)
    net = Network(arch, arch.pack([np.array([[1.0], [-2.0], [3.0], [0.75]]),
                                   np.array([[3.0, 1.0, 2.0, -1.0]])],
                                  [np.array([0.5, 0.0, -1.0, 5.0]), None]))
    rows = c3_augment(shallow_form(net, "bias")).A
    assert lift.holds
    assert lift.A.tolist() == [[sp.Rational(v) for v in r] for r in rows.tolist()]
