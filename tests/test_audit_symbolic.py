"""Audit of the symbolic layer against closed forms and independent computations.

* Conservation-law counts of shallow networks (every field ``∇φ`` is affine in ``θ``) are
  recomputed here without the package: the affine fields become ``(D+1) × (D+1)`` integer
  matrices, the Lie algebra is their commutator closure (``[X, Y] ↔ ŶX̂ − X̂Ŷ``), spanned
  exactly over ``Fraction``, and ``dim Lie(θ)`` is its exact rank at a random integer point.
* Deep networks: a SymPy bracket tower written here (free slopes, exact ranks).
* Every law found is checked to be conserved by the real network's loss gradient (NumPy,
  MSE on random data): ``|∇h · ∇L| ≤ 1e-12 ‖∇h‖ ‖∇L‖``.
* GD drift formulas against a real gradient-descent step; quadric components by sampling.
* Regressions: exact signs of wide floats, and ``topoanalysis laws NET.npz`` using the
  activation region of the network in the file.
"""

import itertools
import random
from fractions import Fraction

import numpy as np
import pytest
import sympy

from topoanalysis.symbolic import (conservation_laws, conserved_sign, gd_drift,
                                   invariant_set_topology, law_drift, predicted_drift,
                                   quadric_topology)


# --------------------------------------------------------------------------------------------
# independent count for shallow networks: matrix Lie algebra of affine fields
# --------------------------------------------------------------------------------------------
def _layout(d, l, e, hb, ob):
    W1 = [[f"W1_{r}_{c}" for c in range(d)] for r in range(l)]
    b1 = [f"b1_{r}" for r in range(l)] if hb else []
    W2 = [[f"W2_{r}_{c}" for c in range(l)] for r in range(e)]
    b2 = [f"b2_{r}" for r in range(e)] if ob else []
    flat = [x for row in W1 for x in row] + b1 + [x for row in W2 for x in row] + b2
    return W1, b1, W2, b2, flat


def _phis(d, l, e, hb, ob, kind, signs=None, slope=Fraction(1, 100)):
    """The factorization written out by hand (not taken from the package)."""
    W1, b1, W2, b2, flat = _layout(d, l, e, hb, ob)
    S = {n: sympy.Symbol(n) for n in flat}
    out = []
    if kind == "linear":
        for j in range(e):
            for c in range(d):
                out.append(sum(S[W2[j][k]] * S[W1[k][c]] for k in range(l)))
            const = (sum(S[W2[j][k]] * S[b1[k]] for k in range(l)) if hb else 0) + \
                (S[b2[j]] if ob else 0)
            if const != 0:
                out.append(const)
    elif signs is None:          # every activation pattern: neuron-wise products a_k w̃_kᵀ
        for j in range(e):
            for k in range(l):
                out += [S[W2[j][k]] * S[W1[k][c]] for c in range(d)]
                if hb:
                    out.append(S[W2[j][k]] * S[b1[k]])
            if ob:
                out.append(S[b2[j]])
    else:                        # one input, no hidden bias: the patterns of x > 0 and x < 0
        neg = {"relu": 0, "leaky_relu": slope, "abs": -1}[kind]
        for xs in (1, -1):
            sl = [1 if sg * xs > 0 else neg for sg in signs]
            for j in range(e):
                out.append(sum(sl[k] * S[W2[j][k]] * S[W1[k][0]] for k in range(l)))
        out += [S[b] for b in b2]
    return [S[n] for n in flat], out


def _affine(phi, syms):
    D = len(syms)
    M = [[Fraction(0)] * (D + 1) for _ in range(D + 1)]
    for i, s in enumerate(syms):
        g = sympy.Poly(sympy.expand(sympy.diff(phi, s)), *syms)
        for mono, c in g.terms():
            c = Fraction(int(c.p), int(c.q))
            if sum(mono) == 0:
                M[i][D] += c
            else:
                M[i][mono.index(1)] += c
    return M


class _Echelon:
    def __init__(self):
        self.rows = []

    def add(self, v):
        v = {k: x for k, x in v.items() if x}
        for p, r in self.rows:
            f = v.get(p)
            if f:
                for k, x in r.items():
                    y = v.get(k, 0) - f * x
                    if y:
                        v[k] = y
                    else:
                        v.pop(k, None)
        if not v:
            return False
        p = min(v)
        inv = 1 / v[p]
        self.rows.append((p, {k: x * inv for k, x in v.items()}))
        return True


def _matmul(A, B):
    n = len(A)
    return [[sum(A[i][k] * B[k][j] for k in range(n) if A[i][k]) for j in range(n)]
            for i in range(n)]


def independent_shallow_count(d, l, e, hb=True, ob=True, kind="relu", signs=None, seed=1):
    """``(D, dim Lie(θ), D − dim Lie(θ))`` from the commutator closure of the fields."""
    syms, phis = _phis(d, l, e, hb, ob, kind, signs)
    D = len(syms)
    gens = [_affine(p, syms) for p in phis]
    E, basis = _Echelon(), []

    def flat(M):
        return {(i, j): x for i, row in enumerate(M) for j, x in enumerate(row) if x}

    for G in gens:
        if E.add(flat(G)):
            basis.append(G)
    new = list(basis)
    while new:
        added = []
        for X in gens:
            for Y in new:
                B = [[a - b for a, b in zip(r1, r2)]
                     for r1, r2 in zip(_matmul(Y, X), _matmul(X, Y))]
                if E.add(flat(B)):
                    added.append(B)
                    basis.append(B)
        new = added
    rng = random.Random(seed)
    th = [Fraction(rng.randint(-10 ** 9, 10 ** 9)) for _ in range(D)] + [Fraction(1)]
    R = _Echelon()
    rank = sum(R.add({i: sum(M[i][k] * th[k] for k in range(D + 1)) for i in range(D)})
               for M in basis)
    return D, rank, D - rank


SHALLOW = [
    # (d, l, e, hb, ob, kind, signs): degenerate sizes first
    (1, 1, 1, True, True, "relu", None), (1, 1, 1, False, False, "relu", (1,)),
    (1, 1, 1, False, False, "relu", (-1,)), (1, 1, 3, False, True, "relu", (1,)),
    (1, 3, 1, True, False, "relu", None), (2, 1, 3, False, False, "relu", None),
    (3, 2, 2, True, True, "relu", None), (2, 3, 1, False, True, "leaky_relu", None),
    (1, 2, 2, True, True, "abs", None), (3, 1, 1, False, False, "abs", None),
    (1, 3, 2, False, True, "relu", (1, 1, -1)), (1, 3, 1, False, False, "relu", (1, -1, -1)),
    (1, 3, 2, False, False, "leaky_relu", (1, -1, 1)), (1, 3, 1, False, True, "abs", (1, 1, -1)),
    (1, 2, 1, False, False, "abs", (1, -1)),
    (1, 1, 1, False, False, "linear", None), (1, 3, 1, False, False, "linear", None),
    (1, 3, 1, True, True, "linear", None), (2, 2, 1, False, True, "linear", None),
    (2, 3, 2, False, False, "linear", None), (1, 2, 3, True, False, "linear", None),
    (2, 1, 2, True, True, "linear", None),
]


@pytest.mark.parametrize("d, l, e, hb, ob, kind, signs", SHALLOW)
def test_shallow_count_matches_independent_lie_algebra(d, l, e, hb, ob, kind, signs):
    res = conservation_laws(d, l, e, activation=kind, hidden_bias=hb, output_bias=ob,
                            input_signs=signs)
    D, rank, count = independent_shallow_count(d, l, e, hb, ob, kind, signs)
    assert (res.n_params, res.lie_dimension, res.count) == (D, rank, count)
    assert res.complete and res.n_found == count


def _linear_count(d, l, e):
    """Closed form of the guide: ``l(l+1)/2 − m(m−1)/2``, ``m = max(0, l − d − e + 1)``."""
    m = max(0, l - d - e + 1)
    return l * (l + 1) // 2 - m * (m - 1) // 2


@pytest.mark.parametrize("d, l, e", list(itertools.product((1, 2, 3), (1, 2, 3, 4), (1, 2))))
def test_closed_forms(d, l, e):
    for kind in ("relu", "leaky_relu", "abs"):
        for hb, ob in ((True, True), (False, False)):
            if d == 1 and not hb:
                continue
            res = conservation_laws(d, l, e, activation=kind, hidden_bias=hb, output_bias=ob)
            assert (res.count, res.n_found, res.complete) == (l, l, True)
    lin = conservation_laws(d, l, e, activation="linear", hidden_bias=False, output_bias=False)
    assert (lin.count, lin.complete) == (_linear_count(d, l, e), True)


@pytest.mark.parametrize("l", [1, 2, 3, 4])
def test_one_input_regions_closed_form(l):
    """ReLU, one input, no hidden bias: ``N(l_+) + N(l_−)``; abs: ``N(l)`` (one linear net)."""
    for e in (1, 2):
        for n_minus in range(l + 1):
            signs = (1,) * (l - n_minus) + (-1,) * n_minus
            relu = conservation_laws(1, l, e, hidden_bias=False, input_signs=signs)
            expected = sum(_linear_count(1, n, e) for n in (l - n_minus, n_minus) if n)
            assert (relu.count, relu.complete) == (expected, True)
            ab = conservation_laws(1, l, e, activation="abs", hidden_bias=False,
                                   input_signs=signs)
            assert ab.count == _linear_count(1, l, e)


# --------------------------------------------------------------------------------------------
# deep networks: an independent SymPy bracket tower
# --------------------------------------------------------------------------------------------
def _deep_count(d, hidden, e, hb, ob, kind, seed=3):
    sizes = (d, *hidden, e)
    flat, layers = [], []
    for i in range(len(sizes) - 1):
        W = [[sympy.Symbol(f"W{i + 1}_{r}_{c}") for c in range(sizes[i])]
             for r in range(sizes[i + 1])]
        flat += [x for row in W for x in row]
        b = ([sympy.Symbol(f"b{i + 1}_{r}") for r in range(sizes[i + 1])]
             if (ob if i == len(sizes) - 2 else hb) else None)
        flat += b or []
        layers.append((W, b))
    xs = list(sympy.symbols(f"x0:{d}"))
    h, extra = list(xs), list(xs)
    for i, (W, b) in enumerate(layers):
        z = [sum(W[r][c] * h[c] for c in range(len(h))) + (b[r] if b else 0)
             for r in range(len(W))]
        if i == len(layers) - 1:
            h = z
            break
        if kind == "linear":
            h = z
        else:
            s = sympy.symbols(f"s{i}_0:{len(z)}")
            extra += list(s)
            h = [s[r] * z[r] for r in range(len(z))]
    phis = [c for fj in h for _, c in sympy.Poly(sympy.expand(fj), *extra).terms()]
    gens = [[sympy.diff(p, v) for v in flat] for p in phis]
    rng = random.Random(seed)
    pts = [{v: rng.randint(-10 ** 6, 10 ** 6) for v in flat} for _ in range(4)]
    at0, allpts = _Echelon(), _Echelon()

    def keep(X):   # kept when independent at 4 points; rank counted at the first
        vals = {(k, i): Fraction(int(c.subs(pts[k]))) for k in range(4)
                for i, c in enumerate(X) if c != 0}
        if allpts.add(vals):
            at0.add({i: x for (k, i), x in vals.items() if k == 0})
            return True
        return False

    new = [X for X in gens if keep(X)]
    ranks = [len(at0.rows)]
    while new and ranks[-1] < len(flat):
        added = []
        for X in gens:
            JX = sympy.Matrix([[sympy.diff(c, v) for v in flat] for c in X])
            for Y in new:
                JY = sympy.Matrix([[sympy.diff(c, v) for v in flat] for c in Y])
                B = [sympy.expand(t) for t in JY * sympy.Matrix(X) - JX * sympy.Matrix(Y)]
                if keep(B):
                    added.append(B)
        ranks.append(len(at0.rows))
        if ranks[-1] == ranks[-2]:
            break
        new = added
    return len(flat), len(flat) - ranks[-1]


@pytest.mark.parametrize("d, hidden, e, hb, ob, kind", [
    (1, (1, 1), 1, True, True, "relu"), (2, (1, 2), 1, False, True, "relu"),
    (1, (1, 1), 1, True, True, "linear"), (1, (2, 1), 2, False, False, "linear"),
    (1, (1, 1, 1), 1, True, True, "abs"),
])
def test_deep_count_matches_independent_tower(d, hidden, e, hb, ob, kind):
    res = conservation_laws(d, hidden, e, activation=kind, hidden_bias=hb, output_bias=ob)
    D, count = _deep_count(d, hidden, e, hb, ob, kind)
    assert (res.n_params, res.count, res.complete) == (D, count, True)
    if kind != "linear":
        assert count == sum(hidden)          # one balance per hidden neuron


# --------------------------------------------------------------------------------------------
# every law is conserved by the real network's gradient; GD drift on a real step
# --------------------------------------------------------------------------------------------
def _act(kind, slope):
    return {"relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
            "leaky_relu": (lambda z: np.where(z > 0, z, slope * z),
                           lambda z: np.where(z > 0, 1.0, slope)),
            "abs": (np.abs, np.sign),
            "linear": (lambda z: z, np.ones_like)}[kind]


def _loss_gradient(theta, sizes, hb, ob, kind, X, Y, slope=0.01):
    """Gradient of ½‖f(X) − Y‖² by hand (flat layout: W row-major, then b, per layer)."""
    s, ds = _act(kind, slope)
    layers, i = [], 0
    for m in range(len(sizes) - 1):
        out, inn = sizes[m + 1], sizes[m]
        W = theta[i:i + out * inn].reshape(out, inn)
        i += out * inn
        has_b = ob if m == len(sizes) - 2 else hb
        b = theta[i:i + out] if has_b else np.zeros(out)
        i += out if has_b else 0
        layers.append((W, b, has_b))
    hs, zs = [X], []
    for m, (W, b, _) in enumerate(layers):
        zs.append(hs[-1] @ W.T + b)
        hs.append(zs[-1] if m == len(layers) - 1 else s(zs[-1]))
    delta, grads = hs[-1] - Y, []
    for m in range(len(layers) - 1, -1, -1):
        W, _, has_b = layers[m]
        grads.append([(delta.T @ hs[m]).ravel()] + ([delta.sum(0)] if has_b else []))
        if m:
            delta = (delta @ W) * ds(zs[m - 1])
    return np.concatenate([g for layer in reversed(grads) for g in layer])


@pytest.mark.parametrize("d, hidden, e, kind, hb, ob, signs", [
    (1, (1,), 3, "relu", True, True, None), (3, (2,), 2, "leaky_relu", False, True, None),
    (1, (3,), 2, "relu", False, True, (1, 1, -1)), (1, (3,), 1, "linear", False, False, None),
    (2, (3,), 2, "linear", True, True, None), (2, (2, 2), 1, "relu", True, True, None),
    (1, (2, 3), 2, "abs", True, False, None), (2, (2, 1), 1, "linear", True, True, None),
])
def test_laws_conserved_by_real_gradient(d, hidden, e, kind, hb, ob, signs):
    res = conservation_laws(d, hidden, e, activation=kind, hidden_bias=hb, output_bias=ob,
                            input_signs=signs)
    syms = res.symbols
    grads = [sympy.lambdify([syms], [sympy.diff(h, v) for v in syms]) for h in res.laws]
    rng = np.random.default_rng(0)
    for _ in range(4):
        theta = rng.normal(size=len(syms))
        if signs is not None:
            theta[:len(signs)] = np.array(signs) * np.abs(theta[:len(signs)])
        X, Y = rng.normal(size=(25, d)), rng.normal(size=(25, e))
        gL = _loss_gradient(theta, (d, *hidden, e), hb, ob, kind, X, Y)
        for g in grads:
            gh = np.array(g(theta), dtype=float)
            assert abs(gh @ gL) <= 1e-12 * np.linalg.norm(gh) * np.linalg.norm(gL)
    # the one-step GD change of every quadratic law is η² GᵀSG
    eta = 0.37
    for item in law_drift(res):
        h = sympy.lambdify([syms], item["law"])
        sub = {sympy.Symbol(f"dL_d{s}"): v for s, v in zip(syms, gL)}
        sub[sympy.Symbol("eta")] = eta
        actual = h(theta - eta * gL) - h(theta)
        assert float(item["drift"].subs(sub)) == pytest.approx(actual, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("d, l, e, kind, hb, ob", [
    (2, 3, 2, "relu", True, True), (3, 2, 1, "leaky_relu", False, True),
    (1, 2, 3, "abs", True, False), (1, 1, 1, "relu", False, False),
])
def test_gd_drift_on_a_real_step(d, l, e, kind, hb, ob):
    rng = np.random.default_rng(1)
    theta = rng.normal(size=l * d + l * hb + e * l + e * ob)
    X, Y = rng.normal(size=(15, d)), rng.normal(size=(15, e))
    G = _loss_gradient(theta, (d, l, e), hb, ob, kind, X, Y)

    def split(t):
        W1 = t[:l * d].reshape(l, d)
        i = l * d
        b1 = t[i:i + l] if hb else None
        i += l * hb
        return (W1 if b1 is None else np.concatenate([W1, b1[:, None]], 1),
                t[i:i + e * l].reshape(e, l))

    def c(t):
        w, a = split(t)
        return (w ** 2).sum(1) - (a ** 2).sum(0)

    eta = 0.05
    actual = c(theta - eta * G) - c(theta)
    gw, ga = split(G)
    np.testing.assert_allclose(predicted_drift(gw, ga, eta), actual, rtol=1e-9, atol=1e-13)
    sd = gd_drift(d, (l,), e, activation=kind, hidden_bias=hb, output_bias=ob)
    np.testing.assert_allclose(sd.lambdified("drift")(G, eta), actual, rtol=1e-9, atol=1e-13)
    assert sd.check()[0]


# --------------------------------------------------------------------------------------------
# quadric topology: components by sampling, Betti numbers by Künneth
# --------------------------------------------------------------------------------------------
def _sampled_components(c, d, e, n=4000, seed=0):
    """Components of a bounded piece of ``Q(c)`` from a sampled neighbourhood graph."""
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)

    def sphere(k, size):
        v = rng.normal(size=(size, k))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    r = rng.uniform(0, 1.5, size=(n, 1)) ** 0.5
    if c > 0:
        a = sphere(e, n) * r
        w = sphere(d, n) * np.sqrt(c + (a ** 2).sum(1, keepdims=True))
    elif c < 0:
        w = sphere(d, n) * r
        a = sphere(e, n) * np.sqrt(-c + (w ** 2).sum(1, keepdims=True))
    else:
        w = sphere(d, n) * r
        a = sphere(e, n) * r
    P = np.concatenate([w, a], 1)
    assert np.allclose((w ** 2).sum(1) - (a ** 2).sum(1), c)
    pairs = cKDTree(P).query_pairs(0.5, output_type="ndarray")
    from scipy.sparse import coo_matrix
    A = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(A, directed=False)[0]


@pytest.mark.parametrize("d, e", [(1, 1), (1, 2), (2, 1), (2, 2)])
@pytest.mark.parametrize("c", [1, -1, 0])
def test_quadric_components_by_sampling(c, d, e):
    assert quadric_topology(c, d, e).n_components == _sampled_components(c, d, e)


@pytest.mark.parametrize("d, e", [(1, 1), (2, 1), (1, 3), (3, 2), (2, 2)])
def test_invariant_set_kunneth(d, e):
    c = [2, -1, 0, Fraction(1, 3), -5]
    H = invariant_set_topology(c, d, e)
    poly = np.poly1d([1])
    for ck in c:
        k = d - 1 if ck > 0 else e - 1 if ck < 0 else None
        factor = np.poly1d([1]) if k is None else np.poly1d([1] + [0] * (k - 1) + [1]) \
            if k else np.poly1d([2])
        poly = poly * factor
    assert tuple(int(b) for b in H.betti_numbers) == tuple(int(x) for x in poly.coeffs[::-1])
    assert H.n_components == np.prod([quadric_topology(ck, d, e).n_components for ck in c])


# --------------------------------------------------------------------------------------------
# regressions
# --------------------------------------------------------------------------------------------
def test_sign_of_wide_floats_is_exact():
    """A SymPy Float or long double below the double range kept its sign only through float():
    ``Float('1e-400')`` with ``atol=0`` was classified 0 (and never flagged)."""
    for x, s in ((sympy.Float("1e-400"), 1), (sympy.Float("-1e-400"), -1),
                 (np.longdouble("1e-4000"), 1), (np.longdouble("-1e-4000"), -1)):
        assert conserved_sign(x, atol=0)[1] == s
        assert conserved_sign(x)[1:] == (0, True)      # within the default atol: flagged
    assert conserved_sign(sympy.sqrt(2) - sympy.Float(1.4142135623730951), atol=0)[1] == -1
    H = invariant_set_topology([np.longdouble("1e-4000"), np.longdouble(-1)], 2, 1, atol=0)
    assert H.signs == (1, -1) and H.n_components == 2
    assert invariant_set_topology([np.longdouble("1e-4000"), 1.0], 2, 1).treated_as_zero == (0,)


def test_laws_cli_uses_the_region_of_the_network_file(tmp_path, capsys):
    """``topoanalysis laws NET.npz`` for a one-input network without hidden bias counted the
    all-``+`` region whatever the signs of the network's weights (5 laws for ``++-``, which
    has 4)."""
    from topoanalysis import Network
    from topoanalysis.cli import main

    path = tmp_path / "net.npz"
    Network.from_weights([np.array([[1.0], [2.0], [-1.5]]), np.array([[1.0, -1.0, 2.0]])],
                         [None, np.zeros(1)]).save(str(path))
    assert main(["laws", str(path)]) == 0
    out = capsys.readouterr().out
    assert "independent conservation laws: 4" in out and "sign(w) = ++-" in out
    assert main(["laws", str(path), "--input-signs", "+++"]) == 0
    assert "independent conservation laws: 5" in capsys.readouterr().out
    zero = tmp_path / "zero.npz"
    Network.from_weights([np.array([[1.0], [0.0]]), np.array([[1.0, 1.0]])],
                         [None, np.zeros(1)]).save(str(zero))
    assert main(["laws", str(zero)]) == 2
    assert "--input-signs" in capsys.readouterr().err
    assert main(["laws", str(zero), "--input-signs", "+-"]) == 0
