"""Quadric topology (topoanalysis.symbolic.quadrics).

What is checked beyond the table of the notes (derived statements):
* the explicit deformation retraction of Q(c) onto its core sphere is verified symbolically;
* independently, points of Q(c) ∩ ball are sampled by *radial projection* of random points (no
  use of the sphere-bundle parametrization), their connected components are counted with a
  radius-neighbour graph (networkx), and the numeric retraction is checked to stay on Q(c),
  to end on the core sphere and to carry components to components bijectively;
* Künneth: the invariant set's polynomial is the product of the factors, b_0 = 2^{l_-} for
  e = 1, d >= 2.
"""

import fractions
import itertools

import networkx as nx
import numpy as np
import pytest
import sympy
from hypothesis import given, strategies as st
from scipy.spatial import cKDTree

from topoanalysis import ValidationError
from topoanalysis.symbolic.quadrics import (
    POINCARE_VARIABLE as t,
    betti_numbers,
    check_quadric_retraction,
    conserved_sign,
    invariant_set_poincare_polynomial,
    invariant_set_topology,
    quadric_deformation_retraction,
    quadric_poincare_polynomial,
    quadric_topology,
)


def expected_factor(sign, d, e):
    if sign > 0:
        return 1 + t ** (d - 1)
    if sign < 0:
        return 1 + t ** (e - 1)
    return sympy.Integer(1)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
@pytest.mark.parametrize("e", [1, 2, 4])
@pytest.mark.parametrize("c", [3, -2, 0])
def test_factor_table(c, d, e):
    q = quadric_topology(c, d, e)
    sign = int(np.sign(c))
    assert sympy.expand(q.poincare_polynomial.as_expr() - expected_factor(sign, d, e)) == 0
    assert isinstance(q.poincare_polynomial, sympy.Poly)
    assert all(isinstance(b, sympy.Integer) for b in q.betti_numbers)
    assert isinstance(q.n_components, sympy.Integer)
    two = (sign > 0 and d == 1) or (sign < 0 and e == 1)
    assert q.n_components == (2 if two else 1)
    if sign == 0:
        assert q.kind == "cone" and q.homotopy_type == "point"
    else:
        k = d - 1 if sign > 0 else e - 1
        assert q.homotopy_type == f"S^{k}" and q.sphere_dimension == k
        assert q.kind == ("hyperboloid of two sheets" if k == 0 else "hyperboloid of one sheet")
    assert q.to_dict()["n_components"] == int(q.n_components)


def test_exact_inputs_and_tolerance():
    assert quadric_topology(fractions.Fraction(-1, 3), 2, 1).c == sympy.Rational(-1, 3)
    assert quadric_topology(sympy.sqrt(2) - 1, 2, 1).sign == 1
    assert quadric_topology(sympy.Symbol("c", negative=True), 3, 1).n_components == 2
    # exact tiny numbers are never rounded to zero
    assert quadric_topology(sympy.Rational(1, 10 ** 30), 1, 1).sign == 1
    # floats: atol decides, and the result says so
    q = quadric_topology(1e-13, 2, 1)
    assert q.sign == 0 and q.treated_as_zero
    q = quadric_topology(1e-13, 2, 1, atol=0.0)
    assert q.sign == 1 and not q.treated_as_zero
    assert quadric_topology(np.float64(-0.5), 2, 1).sign == -1
    assert not quadric_topology(0.0, 2, 1).treated_as_zero
    assert conserved_sign(sympy.Float(-1e-20))[1:] == (0, True)
    H = invariant_set_topology(np.array([1.0, -1e-14, 2e-13, -3.0]), 2, 1)
    assert H.treated_as_zero == (1, 2) and H.l_zero == 2 and H.n_components == 2


@pytest.mark.parametrize("bad, match", [
    (sympy.Symbol("c"), "decidable sign"),
    (float("nan"), "finite"),
    (float("inf"), "finite"),
    (True, "real number"),
    ("1", "real number"),
    (sympy.I, "real"),
    (sympy.oo, "finite"),
])
def test_bad_values(bad, match):
    with pytest.raises(ValidationError, match=match):
        quadric_topology(bad, 2, 1)


def test_bad_arguments():
    with pytest.raises(ValidationError, match="`d`"):
        quadric_topology(1, 0, 1)
    with pytest.raises(ValidationError, match="`e`"):
        invariant_set_topology([1], 2, 0)
    with pytest.raises(ValidationError, match="at least one"):
        invariant_set_topology([], 2, 1)
    with pytest.raises(ValidationError, match="one-dimensional"):
        invariant_set_topology(np.ones((2, 2)), 2, 1)
    with pytest.raises(ValidationError, match="sequence"):
        invariant_set_topology(3, 2, 1)
    with pytest.raises(ValidationError, match="atol"):
        quadric_topology(1.0, 2, 1, atol=-1)
    with pytest.raises(ValidationError, match="`sign`"):
        quadric_deformation_retraction(2, 1, 2)
    with pytest.raises(ValidationError, match="nonnegative integer"):
        betti_numbers(1 - t)


@given(signs=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=8),
       d=st.integers(1, 5), e=st.integers(1, 4))
def test_kunneth_product(signs, d, e):
    c = [s * sympy.Rational(k + 1, 3) for k, s in enumerate(signs)]
    H = invariant_set_topology(c, d, e)
    product = sympy.prod([expected_factor(s, d, e) for s in signs])
    assert sympy.expand(H.poincare_polynomial.as_expr() - product) == 0
    assert H.poincare_polynomial == invariant_set_poincare_polynomial(c, d, e)
    assert list(H.betti_numbers) == sympy.Poly(product, t).all_coeffs()[::-1]
    assert H.n_components == H.betti_numbers[0] == sympy.prod(f.n_components for f in H.factors)
    assert (H.l_plus, H.l_minus, H.l_zero) == (signs.count(1), signs.count(-1), signs.count(0))
    if e == 1 and d >= 2:
        assert H.n_components == 2 ** signs.count(-1)
    assert sum(H.betti_numbers) == product.subs(t, 1)
    assert all(isinstance(b, sympy.Integer) for b in H.betti_numbers)


def test_homotopy_type_string():
    assert invariant_set_topology([1, 1, -1], 3, 3).homotopy_type == "(S^2)^3"
    assert invariant_set_topology([0, 0], 3, 3).homotopy_type == "point"
    assert invariant_set_topology([2, -1, -1], 2, 1).homotopy_type == "S^1 × (S^0)^2"


@pytest.mark.parametrize("d, e", [(1, 1), (2, 1), (1, 2), (3, 1), (2, 2), (1, 3)])
@pytest.mark.parametrize("sign", [-1, 0, 1])
def test_retraction_symbolic(d, e, sign):
    holds, residual = check_quadric_retraction(d, e, sign)
    assert holds and residual == 0


# --- numeric, independent check by sampling ----------------------------------------------
def sample_quadric(c, d, e, n, radius, rng):
    """Points of Q(c) ∩ {||x|| <= radius}."""
    if c == 0:  # cone: r (u, v) with unit u, v (the cone is the union of these segments)
        u = rng.normal(size=(n, d))
        v = rng.normal(size=(n, e))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        r = rng.uniform(0, radius / np.sqrt(2), size=(n, 1))
        return np.hstack([r * u, r * v])
    out = []
    while sum(len(o) for o in out) < n:  # radial projection of random points onto Q(c)
        x = rng.uniform(-radius, radius, size=(4 * n, d + e))
        q = np.sum(x[:, :d] ** 2, 1) - np.sum(x[:, d:] ** 2, 1)
        ok = np.sign(q) == np.sign(c)
        y = x[ok] * np.sqrt(c / q[ok])[:, None]
        out.append(y[np.linalg.norm(y, axis=1) <= radius])
    return np.vstack(out)[:n]


def components(points, r, k=16):
    """Components of the k-nearest-neighbour graph with edges shorter than ``r``."""
    dist, idx = cKDTree(points).query(points, k=k)
    G = nx.Graph()
    G.add_nodes_from(range(len(points)))
    rows = np.repeat(np.arange(len(points)), k)
    keep = dist.ravel() <= r
    G.add_edges_from(zip(rows[keep].tolist(), idx.ravel()[keep].tolist()))
    return list(nx.connected_components(G))


@pytest.mark.parametrize("d, e", [(1, 1), (2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("c", [1.0, -1.0, 0.0])
def test_components_and_retraction_by_sampling(c, d, e):
    rng = np.random.default_rng(7)
    n, r = {2: (1000, 0.45), 3: (3000, 0.6), 4: (6000, 0.9)}[d + e]  # sheets are >= 2 apart
    pts = sample_quadric(c, d, e, n, 2.5, rng)
    q = np.sum(pts[:, :d] ** 2, 1) - np.sum(pts[:, d:] ** 2, 1)
    np.testing.assert_allclose(q, c, atol=1e-12)
    comps = components(pts, r)
    expected = int(quadric_topology(c, d, e).n_components)
    assert len(comps) == expected
    # numeric deformation retraction (lambdified from the symbolic homotopy)
    (w, a, csym, s), h = quadric_deformation_retraction(d, e, int(np.sign(c)))
    args = (*w, *a) + ((csym,) if c != 0 else ()) + (s,)
    f = sympy.lambdify(args, list(h), "numpy")

    def image(svalue):
        extra = (np.full(len(pts), c),) if c != 0 else ()
        cols = f(*pts.T, *extra, np.full(len(pts), svalue))
        return np.column_stack([np.broadcast_to(x, (len(pts),)) for x in cols])

    np.testing.assert_allclose(image(0.0), pts, atol=1e-12)
    for sv in (0.3, 0.7, 1.0):
        y = image(sv)
        qy = np.sum(y[:, :d] ** 2, 1) - np.sum(y[:, d:] ** 2, 1)
        np.testing.assert_allclose(qy, c, atol=1e-10)
    end = image(1.0)
    if c > 0:
        np.testing.assert_allclose(end[:, d:], 0, atol=1e-12)
        np.testing.assert_allclose(np.sum(end[:, :d] ** 2, 1), c)
    elif c < 0:
        np.testing.assert_allclose(end[:, :d], 0, atol=1e-12)
        np.testing.assert_allclose(np.sum(end[:, d:] ** 2, 1), -c)
    else:
        np.testing.assert_allclose(end, 0, atol=1e-12)
    # the retraction maps components of Q(c) bijectively onto components of the core
    end_comps = components(end, r)
    assert len(end_comps) == expected
    where = {i: k for k, cc in enumerate(end_comps) for i in cc}
    assert sorted({where[next(iter(cc))] for cc in comps}) == list(range(expected))
    for cc in comps:
        assert len({where[i] for i in cc}) == 1
    # a circle core (S^1) is covered all the way around: no angular gap
    if (c > 0 and d == 2) or (c < 0 and e == 2):
        core = end[:, :d] if c > 0 else end[:, d:]
        ang = np.sort(np.arctan2(core[:, 1], core[:, 0]))
        gaps = np.diff(np.concatenate([ang, [ang[0] + 2 * np.pi]]))
        assert gaps.max() < 0.2


def test_quadric_polynomial_helpers():
    assert quadric_poincare_polynomial(1, 3, 1).as_expr() == 1 + t ** 2
    assert betti_numbers(sympy.Poly(2 + 2 * t ** 3, t)) == (2, 0, 0, 2)
    for d, e in itertools.product([1, 2], [1, 2]):
        assert quadric_topology(0, d, e).betti_numbers == (1,)


def test_wide_invariant_set_is_exact_and_fast():
    import time
    start = time.perf_counter()
    H = invariant_set_topology([1] * 3000 + [-1] * 5 + [0] * 2, 4, 1)
    assert time.perf_counter() - start < 20
    assert H.n_components == 32
    assert sum(H.betti_numbers) == 2 ** 3005
    assert H.betti_numbers[3 * 1500] == 32 * __import__("math").comb(3000, 1500)
