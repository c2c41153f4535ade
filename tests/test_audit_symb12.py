"""Audit of the SymPy layer (session 12): independent checks and regressions.

* Every law of :func:`conservation_laws` (computed with python-flint) is differentiated here
  along the SymPy gradient field of :func:`gradient_flow_field` (a separate code path) and the
  time derivative expands to exactly 0: with free activation slopes, or, on a one-input
  activation region, with the region's two slope patterns substituted.
* The count equals ``D`` minus an exact rank over ``Q`` computed here (span of the generator
  fields ``∇(a_k w̃_kᵀ)`` and their brackets at a random rational point, SymPy matrices).
* Laws are conserved along the project's compiled ``gradient_flow`` (tight tolerances).
* Regressions: ``SymbolicConditions.at`` used decimal-rounded parameters (``nsimplify``) and
  accepted networks of other sizes; ``input_signs`` truncated ``1.5`` to ``+1``; the
  ``analyze`` report claimed "the c_k are all of them" for counts other than ``l``.
"""

import itertools
import json
import random
from fractions import Fraction

import numpy as np
import pytest
import sympy

from topoanalysis.exceptions import ValidationError
from topoanalysis.network import Architecture, Network
from topoanalysis.symbolic import (conservation_laws, gradient_flow_field, symbolic_network)


# --------------------------------------------------------------------------------------------
# laws: exact time derivative along the SymPy field (independent of the flint computation)
# --------------------------------------------------------------------------------------------
def _dot_h(law, net, field):
    return sympy.expand(sum(sympy.diff(law, p) * v for p, v in zip(net.parameters, field)))


@pytest.mark.parametrize("d, l, e, act, hb, ob", [
    (1, 1, 3, "leaky_relu(0.3)", True, False), (2, 2, 2, "abs", False, True),
    (1, 2, 2, "linear", True, True), (2, 1, 3, "relu", False, False),
    (1, 3, 1, "linear", False, False),
])
def test_every_law_has_zero_time_derivative(d, l, e, act, hb, ob):
    res = conservation_laws(d, l, e, activation=act, hidden_bias=hb, output_bias=ob)
    assert res.complete and res.n_found == res.count
    net = symbolic_network(d, (l,), e, activation=act, hidden_bias=hb, output_bias=ob)
    assert tuple(net.parameters) == res.symbols
    field = gradient_flow_field(net)
    for law in res.laws:
        assert _dot_h(law, net, field) == 0, law
    json.loads(json.dumps(res.to_dict(), allow_nan=False))


@pytest.mark.parametrize("act, signs, e", [("relu", (1, 1, -1), 2), ("leaky_relu", (1, -1), 1),
                                          ("abs", (1, 1, -1), 1)])
def test_region_laws_vanish_on_both_slope_patterns(act, signs, e):
    """One input, no hidden bias: only x > 0 and x < 0 occur; on each the slopes are fixed."""
    res = conservation_laws(1, len(signs), e, activation=act, hidden_bias=False,
                            output_bias=False, input_signs=signs)
    assert res.complete
    net = symbolic_network(1, (len(signs),), e, activation=act, hidden_bias=False,
                           output_bias=False)
    field = gradient_flow_field(net)
    neg = {"relu": 0, "leaky_relu": sympy.Rational(*float(0.01).as_integer_ratio()),
           "abs": -1}[act]
    sp_ = net.activation_symbols
    for x_sign in (1, -1):   # slope of unit k: 1 when w_k x > 0, else the negative slope
        pattern = {s: (1 if sg * x_sign > 0 else neg) for s, sg in zip(sp_, signs)}
        for law in res.laws:
            assert sympy.expand(_dot_h(law, net, field).xreplace(pattern)) == 0, law
    # a region law is not a law of the generic (free-slope) flow, so the count is the region's
    extra = [h for h in res.laws if _dot_h(h, net, field) != 0]
    assert bool(extra) == (res.count > len(signs))


def _independent_rank(d, l, e, hb, ob, seed):
    """``dim`` of the span of the affine fields ``∇φ`` and their brackets at a point, exact."""
    net = symbolic_network(d, (l,), e, hidden_bias=hb, output_bias=ob)
    P = list(net.parameters)
    phis = []
    for k in range(l):
        for a in net.outgoing(1, k):
            phis += [a * w for w in net.incoming(1, k)]
    if ob:
        phis += list(net.layers[1][1])
    fields = [sympy.Matrix([sympy.diff(f, p) for p in P]) for f in phis]
    J = lambda F: F.jacobian(P)                               # noqa: E731
    # one level of brackets [X, Y] = DY·X − DX·Y reaches the whole algebra here (the rank
    # cannot exceed the true dim Lie, and the assertion pins it to D − l from above)
    fields += [J(Y) * X - J(X) * Y for X, Y in itertools.combinations(fields, 2)]
    rng = random.Random(seed)
    pt = {p: sympy.Rational(rng.randint(-99, 99), rng.randint(1, 9)) for p in P}
    M = sympy.Matrix.hstack(*[F.xreplace(pt) for F in fields])
    return len(P), M.rank()


@pytest.mark.parametrize("d, l, e, hb, ob", [(1, 2, 2, True, False), (2, 1, 3, False, True)])
def test_count_is_d_minus_an_independent_exact_rank(d, l, e, hb, ob):
    res = conservation_laws(d, l, e, hidden_bias=hb, output_bias=ob, seed=3)
    D, rank = _independent_rank(d, l, e, hb, ob, seed=5)
    assert (res.n_params, res.lie_dimension, res.count) == (D, rank, D - rank) == (D, D - l, l)


def test_laws_conserved_along_the_compiled_gradient_flow():
    from topoanalysis.dynamics.flow import gradient_flow

    arch = Architecture(2, (2,), 3, activation="leaky_relu(0.3)", output_bias=False)
    res = conservation_laws(2, 2, 3, activation="leaky_relu(0.3)", output_bias=False)
    laws = [sympy.lambdify([res.symbols], h) for h in res.laws]
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(6, 2)), rng.normal(size=(6, 3))
    theta0 = rng.normal(size=arch.n_params)
    out = gradient_flow(theta0, X, Y, arch=arch, t_end=0.5, rtol=1e-10, atol=1e-12,
                        progress=False)
    th = np.asarray(out.params).reshape(-1, arch.n_params)[-1]        # final parameters
    assert np.linalg.norm(th - theta0) > 1e-2
    for h in laws:
        assert abs(h(th) - h(theta0)) < 1e-7


# --------------------------------------------------------------------------------------------
# regressions
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [(1.5, -1), (True, -1), (1, -0.5), ("1", -1)])
def test_input_signs_must_be_whole_plus_or_minus_one(bad):
    # before: int(1.5) == 1 and True == 1 were accepted as the sign +1
    with pytest.raises(ValidationError, match="input_signs"):
        conservation_laws(1, 2, 1, hidden_bias=False, input_signs=bad)
    for ok in ((np.int64(1), -1), np.array([1.0, -1.0])):     # np.sign(w) works
        res = conservation_laws(1, 2, 1, hidden_bias=False, input_signs=ok)
        assert res.input_signs == (1, -1) and type(res.input_signs[0]) is int


def _net(w, a, hb=True, ob=False, act="relu"):
    from topoanalysis.critical._point import pack

    w, a = np.atleast_2d(np.asarray(w, float)), np.atleast_2d(np.asarray(a, float))
    arch = Architecture(w.shape[1] - hb, (w.shape[0],), a.shape[1], hidden_bias=hb,
                        output_bias=ob, activation=act)
    return Network(arch, pack(arch, w, a, None if not ob else np.zeros(a.shape[1])))


def test_symbolic_conditions_at_uses_the_exact_parameters():
    from topoanalysis.critical import symbolic_conditions

    # w·x̃ = (1 + 2^-52) − 1 = 2^-52 > 0: nsimplify rounded 1 + 2^-52 to 1, put the sample on
    # the kink and reported the output condition as exactly 0
    net = _net([[1.0 + 2.0 ** -52, -1.0]], [[1.0]])
    c = symbolic_conditions([[1.0]], [[1.0]], 1)
    out, der, _ = c.at(net)
    z = Fraction(2) ** -52
    r = 2 * (z - 1)                                  # mse residual, N = e = 1
    assert out == [sympy.Rational(r * z)]
    assert not der[0].has(sympy.Max, sympy.Piecewise)   # z > 0: linear in u, no kink
    # data are exact binary values too (nsimplify gave 123456789.123457, another float)
    x = 123456789.12345679
    c2 = symbolic_conditions([[x]], [[0.0]], 1, hidden_bias=False)
    val = c2.loss.subs({c2.w[0, 0]: 1, c2.a[0, 0]: 1})
    assert val == sympy.Rational(Fraction(x) ** 2)


def test_symbolic_conditions_at_refuses_another_architecture():
    from topoanalysis.critical import symbolic_conditions

    c = symbolic_conditions([[1.0]], [[1.0]], 1)                 # d = 1, hb, no output bias
    for net in (_net([[1.0, 0.0], [2.0, 1.0]], [[1.0], [1.0]]),    # width 2
                _net([[1.0]], [[1.0]], hb=False),                   # no hidden bias
                _net([[1.0, 0.0]], [[1.0]], ob=True),              # output bias
                _net([[1.0, 0.0]], [[1.0]], act="leaky_relu(0.2)")):
        with pytest.raises(ValidationError, match="`net` must"):
            c.at(net)
    leaky = symbolic_conditions([[1.0]], [[1.0]], 1, negative_slope=0.2)
    assert leaky.at(_net([[1.0, 0.0]], [[1.0]], act="leaky_relu(0.2)"))[0] == [0]


def test_analyze_claims_the_c_k_only_when_they_are_the_count():
    from topoanalysis.analyze import _conservation_laws_section

    lin = _conservation_laws_section(Architecture(1, (2,), 1, activation="leaky_relu(1)"))
    assert lin["count"] == 3 and "c_k are all" not in lin["text"]
    region = _conservation_laws_section(Architecture(1, (2,), 1, hidden_bias=False))
    assert region["count"] == 3 and "c_k are all" not in region["text"]
    assert "sign(w) = ++" in region["text"]
    relu = _conservation_laws_section(Architecture(2, (2,), 1))
    assert relu["count"] == 2 and "c_k are all of them" in relu["text"]


def test_symbolic_conditions_vanish_at_a_split_stationary_point_with_vector_output():
    """Least-squares fit by one active neuron (e = 2, output bias), split λ = (1/4, 3/4): every
    output condition and directional derivative is exactly 0, as the numeric verdict says."""
    from topoanalysis.critical import stationarity, symbolic_conditions
    from topoanalysis.critical._point import pack

    X = [[1.0], [2.0], [3.0]]
    Y = [[1.0, 0.0], [3.0, 1.0], [2.0, 2.0]]      # column 0: LS line 0.5 x + 1; column 1: x − 1
    arch = Architecture(1, (2,), 2, output_bias=True)
    w = np.array([[0.5, 1.0], [0.5, 1.0]])
    a = np.array([[1.0, 2.0]]) * np.array([[0.25], [0.75]])
    net = Network(arch, pack(arch, w, a, np.array([0.0, -3.0])))
    c = symbolic_conditions(X, Y, 2, output_bias=True)
    out, der, esc = c.at(net)
    assert out == [0] * len(out) and len(out) == 2 * 2 + 2
    assert der == [0, 0] and all(F == sympy.zeros(2, 1) for F in esc)
    assert stationarity(net, X, Y).is_stationary
    # the zero network: every output condition and directional derivative vanishes too
    zero = Network(arch, np.zeros(arch.n_params))
    out0, der0, _ = c.at(zero)
    assert out0[:4] == [0] * 4 and der0 == [0, 0]
