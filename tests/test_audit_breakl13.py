"""Audit (session 13, breakl) of topoanalysis.symbolic.conservation: huge sizes refused before
anything of size D is built; tanh / sigmoid certification on one-input networks (distinct
inputs, a fine θ grid, escalating precision) and an honest ``error_bound`` when it fails;
independent checks of correctness (symbolic, exact) and completeness (a null space of
polynomial laws of the *real* network, patterns decided exactly)."""

import itertools
import random
from fractions import Fraction

import flint
import pytest
import sympy

from topoanalysis.exceptions import NotSupportedError
from topoanalysis.symbolic import conservation_laws
from topoanalysis.symbolic import conservation as cons

PRIME = 16777213


# --- huge sizes -------------------------------------------------------------------------------
def test_huge_sizes_are_refused_before_the_layout_is_built(monkeypatch):
    """Before: ``arch.layout()`` (D parameter names) was built before the D > 200 check, so
    ``conservation_laws(1, 10**12, 1)`` tried to build 3·10¹² strings."""
    original = cons._Arch.layout

    def guarded(self):
        assert self.n_params <= 200, "layout built for a refused size"
        return original(self)

    monkeypatch.setattr(cons._Arch, "layout", guarded)
    for args in [(1, 10 ** 12, 1), (10 ** 15, 2, 1), (2, 3, 10 ** 9)]:
        with pytest.raises(NotSupportedError, match="parameters; conservation_laws handles"):
            conservation_laws(*args)
    with pytest.raises(NotSupportedError) as info:
        conservation_laws(2, (3,) * 100, 1)
    assert "100 hidden layers" in str(info.value) and len(str(info.value)) < 250
    assert conservation_laws(2, 2, 1).count == 2          # small sizes still computed


@pytest.mark.parametrize("hb", [True, False])
@pytest.mark.parametrize("ob", [True, False])
@pytest.mark.parametrize("sizes", [(3, (4, 5), 2), (1, (1,), 1), (2, (3, 2, 2), 4)])
def test_counted_parameters_match_the_layout(sizes, hb, ob):
    arch = cons._arch(*sizes, "relu", 0.01, hb, ob)
    assert arch.n_params == len(arch.layout()[1])


# --- analytic activations ---------------------------------------------------------------------
@pytest.mark.parametrize("arch,kw", [((1, 10, 1), {}), ((1, 20, 1), dict(hidden_bias=False)),
                                     ((1, 12, 2), dict(activation="sigmoid"))])
def test_one_input_analytic_networks_are_certified(arch, kw):
    """Before: 1-10-1 tanh reported count = 31 (= D), complete False, error_bound 0 — the
    inputs were drawn from 129 grid values with repetition (25 distinct for 33 rows, so every
    31 × 31 minor vanished), and without hidden bias two neurons with w_m = ±w_k on the coarse
    θ grid make the minor vanish at that θ."""
    res = conservation_laws(*arch, **{"activation": "tanh", **kw})
    assert (res.count, res.complete, res.stopped, res.error_bound) == (0, True, "certified", 0)


def test_uncertified_analytic_count_has_no_probability_claim(monkeypatch):
    """When no minor is certified, count = D is only an upper bound: error_bound must not be
    0 (it was, which by the documented meaning of error_bound made count = D exact)."""
    monkeypatch.setattr(cons, "_certified_full_rank", lambda rows, D, prec=160: False)
    res = conservation_laws(2, 2, 1, activation="tanh")
    assert res.count == res.n_params and not res.complete
    assert res.error_bound == 1.0 and "could not certify" in res.method


# --- independent checks -----------------------------------------------------------------------
def _real_gradients(res, theta, x, slope):
    """Rows ∇_θ f_j(x; θ) of the real network, exact, flat layout (None at a kink)."""
    sizes = (res.inputs, *res.hidden, res.outputs)
    kind = cons._arch(res.inputs, res.hidden, res.outputs, res.activation, res.negative_slope,
                      res.hidden_bias, res.output_bias).kind
    L, pos, layers = len(sizes) - 1, 0, []
    for i in range(L):
        o, n = sizes[i + 1], sizes[i]
        W = [list(range(pos + r * n, pos + (r + 1) * n)) for r in range(o)]
        pos += o * n
        has = res.output_bias if i == L - 1 else res.hidden_bias
        b = list(range(pos, pos + o)) if has else None
        pos += o if has else 0
        layers.append((W, b))
    hs, ds = [list(x)], []
    for i, (W, b) in enumerate(layers):
        z = [sum(theta[W[r][c]] * hs[-1][c] for c in range(len(W[r])))
             + (theta[b[r]] if b else 0) for r in range(len(W))]
        if i == L - 1:
            break
        if kind == "linear":
            d = [Fraction(1)] * len(z)
        elif any(v == 0 for v in z):
            return None
        else:
            neg = {"relu": 0, "abs": -1, "leaky_relu": slope}[kind]
            d = [Fraction(1) if v > 0 else Fraction(neg) for v in z]
        hs.append([s * v for s, v in zip(d, z)])
        ds.append(d)
    rows = []
    for j in range(sizes[-1]):
        g = [Fraction(0)] * pos
        delta = [Fraction(int(r == j)) for r in range(sizes[-1])]
        for i in range(L - 1, -1, -1):
            W, b = layers[i]
            for r in range(len(W)):
                for c in range(len(W[r])):
                    g[W[r][c]] = delta[r] * hs[i][c]
                if b:
                    g[b[r]] = delta[r]
            if i:
                delta = [sum(theta[W[r][c]] * delta[r] for r in range(len(W))) * ds[i - 1][c]
                         for c in range(len(W[0]))]
        rows.append(g)
    return rows


def _modp(f):
    f = Fraction(f)
    return f.numerator * pow(f.denominator, -1, PRIME) % PRIME


def _polynomial_law_space(res, degree, slope=Fraction(1, 4), seed=3, factor=3):
    """Null space (mod p) of the polynomials of degree 1..``degree`` whose gradient is
    orthogonal to ∇_θ f_j(x; θ) of the real network at random integer θ (in the result's
    activation region) and random rational x; returns (monomials, nullspace, nullity)."""
    D = res.n_params
    monos = [m for k in range(1, degree + 1)
             for m in itertools.combinations_with_replacement(range(D), k)]
    rng = random.Random(seed)
    rows = []
    for _ in range(factor * len(monos) // max(D - res.count, 1) + 5):
        theta = [Fraction(rng.randint(-20, 20) or 1) for _ in range(D)]
        for k, s in enumerate(res.input_signs or ()):
            theta[k] = s * abs(theta[k])
        th = [_modp(t) for t in theta]
        grads = []
        while len(grads) < 2 * D:
            x = [Fraction(rng.randint(-20, 20), rng.randint(1, 3)) for _ in range(res.inputs)]
            grads.extend(_real_gradients(res, theta, x, slope) or [])
        for _ in range(D - res.count):        # a random loss: a random combination
            c = [rng.randrange(PRIME) for _ in grads]
            g = [sum(ci * _modp(gr[v]) for ci, gr in zip(c, grads)) % PRIME for v in range(D)]
            row = []
            for m in monos:
                val = 0
                for v in set(m):
                    rest = list(m)
                    rest.remove(v)
                    t = m.count(v) * g[v]
                    for u in rest:
                        t = t * th[u] % PRIME
                    val += t
                row.append(val % PRIME)
            rows.append(row)
    A = flint.nmod_mat(len(rows), len(monos), [v for r in rows for v in r], PRIME)
    ns, nullity = A.nullspace()
    return monos, ns, nullity


def _functional_rank(monos, ns, nullity, D, seed=11):
    rng = random.Random(seed)
    th = [rng.randrange(PRIME) for _ in range(D)]
    rows = []
    for k in range(nullity):
        g = [0] * D
        for i, m in enumerate(monos):
            c = int(ns[i, k])
            for v in set(m) if c else ():
                rest = list(m)
                rest.remove(v)
                t = c * m.count(v)
                for u in rest:
                    t = t * th[u] % PRIME
                g[v] = (g[v] + t) % PRIME
        rows.append(g)
    return flint.nmod_mat(len(rows), D, [v for r in rows for v in r], PRIME).rank() \
        if rows else 0


@pytest.mark.parametrize("arch,kw,degree,nullity", [
    ((2, 2, 1), {}, 3, 2),                                              # span{c_1, c_2}
    ((1, 2, 2), dict(activation="leaky_relu", negative_slope=0.25), 3, 2),
    ((2, 2, 2), dict(activation="abs", hidden_bias=False), 3, 2),
    ((1, 3, 1), dict(hidden_bias=False, output_bias=False, input_signs=(1, -1, 1)), 3, 5),
    ((1, 2, 1), dict(activation="linear", hidden_bias=False, output_bias=False), 4, 13),
    ((1, (2, 1), 1), {}, 3, 3),
    ((1, 3, 2), dict(activation="linear", hidden_bias=False, output_bias=False), 3, 7),
])
def test_no_law_beyond_the_count_among_low_degree_polynomials(arch, kw, degree, nullity):
    """Every polynomial of degree ≤ 3 (4) conserved by the real network's gradient flow
    (exact gradients, patterns decided exactly, at random θ and x; a null space mod p, whose
    dimension can only exceed the rational one) is a function of the reported laws: the
    functional rank of the whole null space equals ``count``. For 1-3-2 linear the null space
    holds one polynomial more than the span of the quadratic laws: the cubic det[w, a_1, a_2],
    whose square is det(W1 W1ᵀ − W2ᵀ W2) — dependent, so the count stands."""
    res = conservation_laws(*arch, **kw)
    assert res.complete
    monos, ns, n = _polynomial_law_space(res, degree)
    assert n == nullity
    assert _functional_rank(monos, ns, n, res.n_params) == res.count


def test_cubic_law_of_linear_1_3_2_is_conserved_but_dependent():
    res = conservation_laws(1, 3, 2, activation="linear", hidden_bias=False, output_bias=False)
    s = dict(zip(map(str, res.symbols), res.symbols))
    M = sympy.Matrix([[s[f"W1_{k}_0"], s[f"W2_0_{k}"], s[f"W2_1_{k}"]] for k in range(3)])
    det = M.det()
    x = sympy.Symbol("x")
    f = [sum(s[f"W2_{j}_{k}"] * s[f"W1_{k}_0"] * x for k in range(3)) for j in range(2)]
    for fj in f:
        assert sympy.expand(sum(sympy.diff(det, t) * sympy.diff(fj, t)
                                for t in res.symbols)) == 0
    Q = sympy.Matrix(3, 3, lambda i, j: s[f"W1_{i}_0"] * s[f"W1_{j}_0"]
                     - sum(s[f"W2_{r}_{i}"] * s[f"W2_{r}_{j}"] for r in range(2)))
    assert sympy.expand(det ** 2 - Q.det()) == 0
    assert res.count == res.n_found == 6


@pytest.mark.parametrize("arch,kw", [((2, 3, 2), dict(activation="leaky_relu")),
                                     ((2, (2, 2), 2), dict(activation="abs")),
                                     ((1, 3, 1), dict(hidden_bias=False, input_signs=(1, -1, 1)))])
def test_every_law_is_orthogonal_to_the_real_gradients(arch, kw):
    """Exact: ∇h · ∇_θ f_j(x; θ) = 0 for every law, at random rational θ, x (all outputs)."""
    res = conservation_laws(*arch, **kw)
    grads = [sympy.lambdify([res.symbols], [sympy.diff(h, t) for t in res.symbols])
             for h in res.laws]
    rng = random.Random(1)
    for _ in range(20):
        theta = [Fraction(rng.randint(-30, 30) or 1, rng.randint(1, 5)) for _ in res.symbols]
        for k, sg in enumerate(res.input_signs or ()):
            theta[k] = sg * abs(theta[k])
        x = [Fraction(rng.randint(-30, 30), rng.randint(1, 5)) for _ in range(res.inputs)]
        rows = _real_gradients(res, theta, x, Fraction(res.negative_slope))
        if rows is None:
            continue
        for gh in grads:
            gv = gh(theta)
            assert all(sum(a * b for a, b in zip(gv, r)) == 0 for r in rows)


@pytest.mark.parametrize("bad", [{1: 2}, {1, -1}, frozenset({1})])
def test_input_signs_without_an_order_are_refused(bad):
    """Before: ``input_signs={1: 2}`` was accepted (its keys read as the signs)."""
    from topoanalysis.exceptions import ValidationError

    n = len(bad)
    with pytest.raises(ValidationError, match="`input_signs` must be"):
        conservation_laws(1, n, 1, hidden_bias=False, input_signs=bad)
