"""Tests of topoanalysis.symbolic.conservation_laws: counts against theorems and against
independent computations (integrated flows, random Lie directions, the layer's quadratic
forms), momentum and gradient-descent statements, the CLI."""

import json
import random

import numpy as np
import pytest
import sympy
import flint
from scipy.integrate import solve_ivp

from topoanalysis.exceptions import NotSupportedError, ValidationError
from topoanalysis.network import Architecture, loss_and_gradient
from topoanalysis.symbolic import (
    conservation_laws,
    conserved_quadratic_forms,
    law_drift,
    momentum_laws,
    neuron_invariants,
)
from topoanalysis.symbolic import conservation as cons


# --- helpers --------------------------------------------------------------------------------
def lie_elements(res, levels=1):
    """Generators and brackets up to ``levels`` of the result's fields (independent of the
    tower code: every bracket of every pair, no filter)."""
    arch = cons._arch(res.inputs, res.hidden, res.outputs, res.activation, res.negative_slope,
                      res.hidden_bias, res.output_bias)
    patterns = None
    if res.input_signs is not None:
        patterns = [[cons._slope_value(arch.kind, arch.slope, s > 0) for s in res.input_signs],
                    [cons._slope_value(arch.kind, arch.slope, s < 0) for s in res.input_signs]]
    ctx, names, phis = cons._factorization(arch, patterns)
    D = len(names)
    gens = [f for f in (cons._gradient_field(p, D) for p in phis) if f]
    out, new, cache = list(gens), list(gens), {}
    for _ in range(levels):
        new = [b for X in gens for Y in new if (b := cons._bracket(X, Y, cache))]
        out.extend(new)
    return out, D


def lambdify_laws(res):
    syms = res.symbols
    return [sympy.lambdify([syms], law, "numpy") for law in res.laws], \
        [sympy.lambdify([syms], [sympy.diff(law, s) for s in syms], "numpy") for law in res.laws]


# --- theorems -------------------------------------------------------------------------------
@pytest.mark.parametrize("d,l,e", [(1, 1, 1), (2, 3, 1), (3, 2, 2), (2, 4, 3), (6, 6, 6)])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "abs"])
def test_shallow_homogeneous_the_c_k_are_all_laws(d, l, e, activation):
    """Marcotte et al. (NeurIPS 2023): for two-layer ReLU networks the ||w_k||² − ||a_k||²
    are all the conservation laws (count = l); complete, and the laws are the layer's c_k."""
    res = conservation_laws(d, l, e, activation=activation)
    assert res.count == l and res.n_found == l and res.complete
    assert res.n_params - res.lie_dimension == l
    if d * l * e <= 24:
        ck = neuron_invariants(d, (l,), e, activation=activation)
        assert {sympy.expand(x) for x in res.laws} == {sympy.expand(x) for x in ck.values()}


@pytest.mark.parametrize("d,l,e", [(1, 2, 1), (2, 3, 2), (3, 3, 1), (1, 4, 2), (2, 4, 1),
                                   (1, 3, 3), (3, 4, 3)])
def test_linear_count_is_the_matrix_invariant_minus_its_dependencies(d, l, e):
    """Shallow linear networks without biases: the count is l(l+1)/2 when l < d + e (the
    entries of W1 W1ᵀ − W2ᵀ W2 are independent), and l(l+1)/2 − m(m−1)/2 with
    m = l − d − e + 1 otherwise (the entries are then functionally dependent) — complete."""
    res = conservation_laws(d, l, e, activation="linear", hidden_bias=False, output_bias=False)
    m = max(0, l - d - e + 1)
    assert res.count == l * (l + 1) // 2 - m * (m - 1) // 2
    assert res.complete
    W1 = sympy.Matrix(l, d, lambda r, c: sympy.Symbol(f"W1_{r}_{c}"))
    W2 = sympy.Matrix(e, l, lambda r, c: sympy.Symbol(f"W2_{r}_{c}"))
    Q = W1 * W1.T - W2.T * W2
    # every entry of the matrix invariant is in the span found
    assert cons_in_span([Q[i, j] for i in range(l) for j in range(i, l)], res)


def cons_in_span(exprs, res):
    """Whether the polynomials ``exprs`` lie in the linear span of the laws (exact ranks)."""
    if not isinstance(exprs, list):
        exprs = [exprs]
    syms = res.symbols
    polys = [sympy.Poly(x, *syms) for x in list(res.laws) + exprs]
    monos = sorted({m for p in polys for m in p.monoms()})
    rows = [[flint.fmpq(int(p.coeff_monomial(m).p), int(p.coeff_monomial(m).q)) for m in monos]
            for p in polys]
    n = len(res.laws)
    A = flint.fmpq_mat(n, len(monos), [c for r in rows[:n] for c in r])
    B = flint.fmpq_mat(len(rows), len(monos), [c for r in rows for c in r])
    return A.rank() == B.rank()


@pytest.mark.parametrize("l", [2, 3, 4])
def test_one_d_linear_surprise_is_l_squared_forms_but_2l_minus_1_laws(l):
    """The README's "derived surprise": with 1-D (augmented) input and scalar output, l²
    conserved quadratic forms — linearly independent, but only 2l − 1 = D − 1 of them are
    functionally independent (the flow moves along one direction: a·w)."""
    res = conservation_laws(1, l, 1, activation="linear", hidden_bias=False, output_bias=False)
    assert res.quadratic_count == l * l
    assert res.count == 2 * l - 1 == res.n_params - 1
    assert res.complete and res.n_found == 2 * l - 1
    layer = conserved_quadratic_forms(1, (l,), 1, activation="linear", hidden_bias=False,
                                      output_bias=False)
    assert layer.count == l * l


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
@pytest.mark.parametrize("arch", [(2, 2, 1), (1, 3, 2), (2, (2, 2), 1)])
def test_analytic_activations_have_no_law(activation, arch):
    res = conservation_laws(*arch, activation=activation)
    assert res.count == 0 and res.complete and res.stopped == "certified"
    assert res.lie_dimension == res.n_params
    assert conserved_quadratic_forms(*arch, activation=activation).count == 0


@pytest.mark.parametrize("hidden", [(2, 2), (3, 3), (3, 3, 3)])
def test_deep_relu_balances_are_all_laws(hidden):
    """One balance per hidden neuron (incoming minus outgoing squared norm), and no other."""
    res = conservation_laws(3, hidden, 1)
    assert res.count == sum(hidden) and res.complete
    assert res.quadratic_count == sum(hidden)
    if len(hidden) < 3:   # the SymPy derivation is slow for three hidden layers
        assert conserved_quadratic_forms(3, hidden, 1).count == sum(hidden)


def test_deep_linear_balances():
    res = conservation_laws(2, (2, 2), 1, activation="linear", hidden_bias=False,
                            output_bias=False)
    assert res.complete and res.count == res.n_found


@pytest.mark.parametrize("arch,kw", [((2, 3, 1), {}), ((3, 3, 2), {"activation": "linear"}),
                                     ((2, (2, 2), 1), {}), ((2, 2, 2), {"activation": "abs"})])
def test_quadratic_count_agrees_with_the_layer(arch, kw):
    assert conservation_laws(*arch, **kw).quadratic_count == \
        conserved_quadratic_forms(*arch, **kw).count


def test_one_input_without_bias_depends_on_the_region():
    """d = 1, no hidden bias: x > 0 and x < 0 are the only patterns; neurons of the same sign
    act like a linear network, so the region has more laws than the generic c_k (finding)."""
    same = conservation_laws(1, 3, 1, hidden_bias=False, output_bias=False)
    assert same.input_signs == (1, 1, 1) and same.count == 5 and same.complete
    mixed = conservation_laws(1, 3, 1, hidden_bias=False, output_bias=False,
                              input_signs=(1, 1, -1))
    assert mixed.count == 3 + 1 and mixed.complete          # (2 same-sign: 3) + (1: 1)
    w1, w2, a1, a2 = sympy.symbols("W1_0_0 W1_1_0 W2_0_0 W2_0_1")
    assert cons_in_span(a1 * w2 - a2 * w1, mixed)
    # abs: σ(wx) = |w||x|, one pattern direction whatever the signs
    assert conservation_laws(1, 3, 1, activation="abs", hidden_bias=False, output_bias=False,
                             input_signs=(1, -1, 1)).count == 5
    # the layer's free-slope derivation sees only the global c_k
    assert conserved_quadratic_forms(1, (3,), 1, hidden_bias=False,
                                     output_bias=False).count == 3


# --- independent checks ---------------------------------------------------------------------
@pytest.mark.parametrize("arch,kw", [((2, 2, 1), {}), ((1, 3, 1), {"activation": "linear",
                                                                   "hidden_bias": False,
                                                                   "output_bias": False}),
                                     ((2, (2, 2), 1), {}), ((2, 3, 2), {"activation": "linear"})])
def test_integrated_flow_stays_on_every_level_set(arch, kw):
    res = conservation_laws(*arch, **kw)
    a = Architecture(arch[0], arch[1] if isinstance(arch[1], tuple) else (arch[1],), arch[2],
                     hidden_bias=kw.get("hidden_bias", True),
                     output_bias=kw.get("output_bias", True),
                     activation=kw.get("activation", "relu"))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, a.inputs))
    Y = rng.normal(size=(5, a.outputs))
    theta0 = rng.normal(size=a.n_params)
    # classical RK4 with a fixed step: the ReLU field jumps across kinks, where adaptive
    # solvers crawl; the laws hold across kinks, up to O(dt²) per crossing
    f = lambda th: -loss_and_gradient(a, th, X, Y, "mse")[1]    # noqa: E731
    th, dt = theta0.copy(), 1e-3
    for _ in range(1000):
        k1 = f(th)
        k2 = f(th + dt / 2 * k1)
        k3 = f(th + dt / 2 * k2)
        k4 = f(th + dt * k3)
        th = th + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    laws, _ = lambdify_laws(res)
    assert np.linalg.norm(th - theta0) > 1e-2
    for h in laws:
        assert abs(h(th) - h(theta0)) < 1e-5
    q = th @ th                                 # a function that is not a law does move
    assert abs(q - theta0 @ theta0) > 1e-3


@pytest.mark.parametrize("arch,kw", [((2, 2, 1), {}), ((1, 3, 1), {"activation": "linear",
                                                                   "hidden_bias": False,
                                                                   "output_bias": False}),
                                     ((2, 2, 2), {"activation": "linear"})])
def test_random_lie_direction_moves_every_other_function(arch, kw):
    """At a random point the law gradients span exactly the orthogonal complement of the Lie
    algebra (brackets recomputed here without the tower's filter): no law is moved by any Lie
    direction, and a function whose gradient is outside their span — a random quadratic
    form — is moved by a random Lie direction."""
    res = conservation_laws(*arch, **kw)
    fields, D = lie_elements(res, levels=1)
    rng = random.Random(1)
    pt = [flint.fmpq(rng.randint(-50, 50), rng.randint(1, 9)) for _ in range(D)]
    cols = [cons._evaluate(f, pt, D) for f in fields]
    V = flint.fmpq_mat(D, len(cols), [cols[j][i] for i in range(D) for j in range(len(cols))])
    assert V.rank() == res.lie_dimension
    grads = [cons._law_gradient_at(law, pt, D) for law in _laws_as_dicts(res)]
    G = flint.fmpq_mat(len(grads), D, [g for row in grads for g in row])
    assert all(x == 0 for x in (G * V).entries())               # laws are not moved
    assert G.rank() + V.rank() == D                               # nothing else is conserved
    direction = V * flint.fmpq_mat(len(cols), 1, [rng.randint(-9, 9) for _ in cols])
    for _ in range(5):
        S = [[rng.randint(-5, 5) for _ in range(D)] for _ in range(D)]
        grad = [sum((S[i][j] + S[j][i]) * pt[j] for j in range(D)) for i in range(D)]
        stacked = flint.fmpq_mat(len(grads) + 1, D, [g for row in grads + [grad] for g in row])
        if stacked.rank() > G.rank():
            moved = sum(grad[i] * direction[i, 0] for i in range(D))
            assert moved != 0


def _laws_as_dicts(res):
    syms = res.symbols
    out = []
    for law in res.laws:
        p = sympy.Poly(law, *syms)
        out.append({m: flint.fmpq(int(c.p), int(c.q)) for m, c in p.terms()})
    return out


def test_ansatz_finds_non_quadratic_laws_when_needed():
    """A deep linear chain 1-1-1-1: D = 3, 2 laws, both quadratic balances; and the ansatz
    solves exactly at higher degree: on 1-1-1 no cubic law, one quartic ((w² − a²)²)."""
    res = conservation_laws(1, (1, 1), 1, activation="linear", hidden_bias=False,
                            output_bias=False)
    assert res.count == 2 and res.complete
    arch = cons._arch(1, (1,), 1, "linear", 0.01, False, False)
    _, names, phis = cons._factorization(arch)
    fields = [cons._gradient_field(p, 2) for p in phis]
    cubic = cons._polynomial_laws(fields, 2, 3, 1000)
    assert cubic == []                                     # odd degree: none
    quartic = cons._polynomial_laws(fields, 2, 4, 1000)
    assert len(quartic) == 1                               # (w² − a²)²


def test_deterministic_and_seeded():
    a = conservation_laws(2, (2, 2), 2, activation="linear", seed=3).to_dict()
    b = conservation_laws(2, (2, 2), 2, activation="linear", seed=3).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    json.dumps(a)


def test_incomplete_reports_a_bound():
    """With the ansatz switched off beyond degree 2 and the bracket tower starved, the result
    is honest: count is an upper bound, complete is False, error bound positive."""
    res = conservation_laws(2, 3, 2, activation="linear", max_fields=1)
    assert res.stopped == "budget" and not res.complete
    assert res.count > res.n_found and res.error_bound > 0


# --- beyond gradient flow -------------------------------------------------------------------
def test_gd_drift_is_second_order_and_exact():
    res = conservation_laws(2, 2, 1)
    rows = law_drift(res)
    a = Architecture(2, (2,), 1)
    rng = np.random.default_rng(2)
    X, Y, th = rng.normal(size=(4, 2)), rng.normal(size=(4, 1)), rng.normal(size=a.n_params)
    _, G = loss_and_gradient(a, th, X, Y, "mse")
    laws, _ = lambdify_laws(res)
    syms = res.symbols
    eta = 0.05
    for row, h in zip(rows, laws):
        subs = {sympy.Symbol(f"dL_d{s}"): g for s, g in zip(syms, G)}
        subs.update(dict(zip(syms, th)))
        subs[sympy.Symbol("eta")] = eta
        assert abs(float(row["first_order"].subs(subs))) < 1e-12
        pred = float(row["drift"].subs(subs))
        assert abs(h(th - eta * G) - h(th) - pred) < 1e-12


def test_heavy_ball_identity_and_bound():
    """τθ̈ + θ̇ = −∇L: d/dt(h + τḣ) = 2τ θ̇ᵀSθ̇ for every quadratic law; h itself drifts.
    (A linear network keeps the ODE smooth for the adaptive solver; the identity is the same
    for ReLU.)"""
    res = conservation_laws(2, 2, 1, activation="linear")
    mom = momentum_laws(res)
    assert len(mom) == 3
    a = Architecture(2, (2,), 1, activation="linear")
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    th0 = rng.normal(size=a.n_params)
    tau, P = 0.3, a.n_params
    S = [np.array(m["matrix"].tolist(), dtype=float) for m in mom]

    def rhs(t, z):
        th, v = z[:P], z[P:2 * P]
        g = loss_and_gradient(a, th, X, Y, "mse")[1]
        rates = [2 * tau * v @ s @ v for s in S]
        return np.concatenate([v, (-v - g) / tau, rates, [v @ v]])

    z0 = np.concatenate([th0, np.zeros(P), np.zeros(len(S)), [0.0]])
    sol = solve_ivp(rhs, (0, 3.0), z0, rtol=1e-10, atol=1e-12)
    assert sol.success
    th, v = sol.y[:P, -1], sol.y[P:2 * P, -1]
    L0 = loss_and_gradient(a, th0, X, Y, "mse")[0]
    L1 = loss_and_gradient(a, th, X, Y, "mse")[0]
    for k, (m, s) in enumerate(zip(mom, S)):
        q0, q1 = th0 @ s @ th0, th @ s @ th
        Q0, Q1 = q0, q1 + tau * 2 * th @ s @ v
        assert abs((Q1 - Q0) - sol.y[2 * P + k, -1]) < 1e-6
        assert abs(Q1 - Q0) <= 2 * tau * m["norm"] * (L0 - L1) + 1e-8
    assert max(abs(th @ s @ th - th0 @ s @ th0) for s in S) > 1e-4   # not exact any more


# --- validation and CLI ---------------------------------------------------------------------
@pytest.mark.parametrize("kw,match", [
    (dict(inputs=0, hidden=2, outputs=1), "inputs"),
    (dict(inputs=2, hidden=(), outputs=1), "hidden"),
    (dict(inputs=2, hidden=2, outputs=1, activation="gelu"), "activation"),
    (dict(inputs=2, hidden=2, outputs=1, hidden_bias="yes"), "hidden_bias"),
    (dict(inputs=2, hidden=2, outputs=1, input_signs=(1, 1)), "input_signs"),
    (dict(inputs=1, hidden=2, outputs=1, hidden_bias=False, input_signs=(1, 0)),
     "input_signs"),
])
def test_bad_input(kw, match):
    with pytest.raises(ValidationError, match=match):
        conservation_laws(**kw)


def test_not_supported():
    with pytest.raises(NotSupportedError):
        conservation_laws(1, (2, 2), 1, hidden_bias=False)
    with pytest.raises(NotSupportedError):
        conservation_laws(20, 20, 1)


def test_cli(tmp_path, capsys):
    from topoanalysis.cli import main

    out = tmp_path / "laws.json"
    assert main(["laws", "--inputs", "2", "--hidden", "2", "2", "--outputs", "1",
                 "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "independent conservation laws: 4" in text and "complete: yes" in text
    data = json.loads(out.read_text())
    assert data["count"] == 4 and data["complete"] is True
    assert main(["laws", "--inputs", "1", "--hidden", "3", "--no-hidden-bias",
                 "--input-signs", "++-"]) == 0
    assert "independent conservation laws: 4" in capsys.readouterr().out
    assert main(["laws", "--inputs", "1", "--hidden", "3", "--input-signs", "+x"]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["laws", "--hidden", "3"]) == 2


def test_guide_python_blocks_run():
    """The fenced python blocks of docs/guide/conservation.md run, in order, in one namespace."""
    import os
    import re

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "docs", "guide", "conservation.md")
    with open(path, encoding="utf-8") as fh:
        blocks = re.findall(r"```python\n(.*?)```", fh.read(), re.S)
    assert len(blocks) == 3
    namespace = {}
    for code in blocks:
        exec(compile(code, path, "exec"), namespace)


@pytest.mark.parametrize("arch,kw", [((2, 2, 1), {}), ((1, 2, 1), {"activation": "linear",
                                                                   "hidden_bias": False,
                                                                   "output_bias": False}),
                                     ((2, 3, 2), {"activation": "linear"}),
                                     ((2, (2, 2), 1), {})])
def test_heavy_ball_keeps_no_exact_quadratic_law(arch, kw):
    """Derived (Keep the momentum, ICML 2024): no quadratic form of (θ, θ̇) is conserved by
    the heavy-ball ODE for every loss."""
    from topoanalysis.symbolic import heavy_ball_quadratic_laws

    assert heavy_ball_quadratic_laws(conservation_laws(*arch, **kw)) == ()


def test_heavy_ball_search_finds_laws_without_a_loss(monkeypatch):
    """The same exact search, with the loss switched off, finds the D(D+1)/2 forms
    (θ + θ̇)ᵀS(θ + θ̇) (so an empty answer above is not a vacuous one)."""
    from topoanalysis.symbolic import heavy_ball_quadratic_laws

    res = conservation_laws(1, 1, 1, activation="linear", hidden_bias=False, output_bias=False)
    names = [str(s) for s in res.symbols]
    monkeypatch.setattr(cons, "_generators", lambda r: (names, []))
    laws = heavy_ball_quadratic_laws(res)
    assert len(laws) == 3
    w, a = res.symbols
    vw, va = sympy.symbols("v_W1_0_0 v_W2_0_0")
    for law in laws:   # each is a quadratic form in (w + v_w, a + v_a)
        assert sympy.expand(law.subs({vw: -w, va: -a})) == 0


def _exact_shallow_gradients(d, l, e, theta, xs, hidden_bias, output_bias):
    """Rows ∇_θ f_j(x; θ) of a shallow ReLU network, exact (Fractions), flat layout."""
    from fractions import Fraction

    pos = 0
    W1 = [[theta[pos + r * d + c] for c in range(d)] for r in range(l)]
    pos += l * d
    b1 = theta[pos:pos + l] if hidden_bias else [Fraction(0)] * l
    pos += l if hidden_bias else 0
    W2 = [[theta[pos + r * l + c] for c in range(l)] for r in range(e)]
    rows = []
    for x in xs:
        z = [sum(W1[k][c] * x[c] for c in range(d)) + b1[k] for k in range(l)]
        assert all(zk != 0 for zk in z)                     # no kink: the pattern is exact
        s = [1 if zk > 0 else 0 for zk in z]
        for j in range(e):
            g = []
            for k in range(l):
                g += [W2[j][k] * s[k] * x[c] for c in range(d)]
            if hidden_bias:
                g += [W2[j][k] * s[k] for k in range(l)]
            for r in range(e):
                g += [s[k] * z[k] if r == j else 0 for k in range(l)]
            if output_bias:
                g += [1 if r == j else 0 for r in range(e)]
            rows.append(g)
    return rows


@pytest.mark.parametrize("d,l,e,hb,signs", [(2, 3, 1, True, None), (3, 2, 2, True, None),
                                            (2, 3, 2, False, None), (1, 3, 1, False, (1, 1, 1)),
                                            (1, 3, 1, False, (1, -1, 1))])
def test_real_data_realize_the_generic_directions(d, l, e, hb, signs):
    """Independent of the free-slope construction: at a random rational θ, the gradients of
    the real network on random rational inputs (activation patterns decided exactly) span a
    space of dimension dim Lie — here the tower is complete at level 0, so W_θ = Lie(θ)."""
    from fractions import Fraction

    res = conservation_laws(d, l, e, hidden_bias=hb, output_bias=True, input_signs=signs)
    assert len(res.tower) == 1                  # complete at level 0
    rng = random.Random(5)
    D = res.n_params
    theta = [Fraction(rng.randint(-40, 40) or 1, rng.randint(1, 7)) for _ in range(D)]
    if signs is not None:                       # put θ in the region
        for k, sg in enumerate(signs):
            theta[k] = sg * abs(theta[k])
    xs = [[Fraction(rng.randint(-300, 300), rng.randint(1, 9)) for _ in range(d)]
          for _ in range(6 * D)]
    if hb or d > 1:
        # and, as in the proof, inputs on both sides of each hidden hyperplane close to a
        # random point of it (crossing it there changes that unit's slope alone)
        eps = Fraction(1, 1000)
        for k in range(l):
            w = theta[k * d:(k + 1) * d]
            b = theta[l * d + k] if hb else Fraction(0)
            n2 = sum(x * x for x in w)
            p0 = [-b * x / n2 for x in w]
            if d > 1:
                t = Fraction(rng.randint(-20, 20), 3)
                p0[0] -= t * w[1]
                p0[1] += t * w[0]
            for side in (1, -1):
                for _ in range(d + 2):
                    xs.append([p0[c] + side * eps * w[c]
                               + eps * eps * Fraction(rng.randint(-9, 9)) for c in range(d)])
    rows = _exact_shallow_gradients(d, l, e, theta, xs, hb, True)
    M = flint.fmpq_mat(len(rows), D, [flint.fmpq(x.numerator, x.denominator)
                                      for r in rows for x in map(Fraction, r)])
    assert M.rank() == res.lie_dimension
