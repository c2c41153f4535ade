"""Audit 13: exact promises behind float approximations (nsimplify, float lifts, tolerances)
and the self-serialization of FlowResult."""

import dataclasses
import json

import numpy as np
import pytest
import sympy as sp

from topoanalysis import Network
from topoanalysis.exceptions import ValidationError


def _q(x):
    return sp.Rational(*float(x).as_integer_ratio())


# --- 1. critical.symbolic_conditions: the negative slope is exact ---------------------------
def test_symbolic_slope_strings_are_exact_not_guessed():
    from topoanalysis.critical import symbolic_conditions

    X, Y = [[1.0]], [[0.0]]
    # a float is its binary value; a float literal in a string is the same float
    for v in (0.1, "0.1", 0.01 + 2.0 ** -60, 0.3333333333333333):
        assert symbolic_conditions(X, Y, 1, negative_slope=v).alpha == _q(float(v))
    # nsimplify guessed: "0.3333333333333333" became 1/3, "0.01 + 2**-60" became 1/100
    c = symbolic_conditions(X, Y, 1, negative_slope="0.01 + 2**-60")
    assert c.alpha == _q(0.01) + sp.Rational(1, 2 ** 60)
    assert symbolic_conditions(X, Y, 1, negative_slope="1/10").alpha == sp.Rational(1, 10)
    assert symbolic_conditions(X, Y, 1, negative_slope="sqrt(2)/10").alpha == sp.sqrt(2) / 10


def test_symbolic_slope_at_a_kink_is_the_networks_slope():
    from topoanalysis.critical import symbolic_conditions

    # leaky_relu(0.1), one sample x = -1, w = 1, a = 1, y = -0.1: the output is -0.1 exactly
    # (binary), a zero residual: the conditions with slope 0.1 vanish
    net = Network.from_weights([np.array([[1.0]]), np.array([[1.0]])],
                               activation="leaky_relu(0.1)")
    X, Y = [[-1.0]], [[-0.1]]
    for slope in (0.1, "0.1"):
        c = symbolic_conditions(X, Y, 1, hidden_bias=False, negative_slope=slope)
        assert c.at(net)[0] == [0]
        # at the kink w = 0: F(u) = r·(α v + (1 − α) max(0, v)), v = −u, r = 2·0.1, with the
        # network's α = 0.1 exactly (binary), not 1/10
        F = c.escape_map[0][0, 0].subs({c.w[0, 0]: 0, c.a[0, 0]: 1})
        u = c.u[0]
        assert F.subs(u, 1) == -2 * _q(0.1) * _q(0.1)
        assert F.subs(u, -1) == 2 * _q(0.1)
    # the conditions of slope 1/10 are not those of this network: refused (they were
    # evaluated with the slope 1/10 and the residual -1/10 + 0.1 ≠ 0)
    c = symbolic_conditions(X, Y, 1, hidden_bias=False, negative_slope="1/10")
    with pytest.raises(ValidationError, match="negative slope"):
        c.at(net)


def test_symbolic_at_keeps_exact_outputs():
    from topoanalysis.critical import symbolic_conditions

    c = symbolic_conditions([[1.0]], [[0.0]], 1, hidden_bias=False)
    # output condition 2·(a w x − 0)·(w x) = 2·0.1 with a = 0.1, w = 1: nsimplify gave 1/5
    net = Network.from_weights([np.array([[1.0]]), np.array([[0.1]])])
    assert c.at(net)[0] == [2 * _q(0.1)]
    # a tiny nonzero condition, 2·(1e-20)³: nsimplify gave 0 (stationary!)
    net = Network.from_weights([np.array([[1e-20]]), np.array([[1e-20]])])
    out = c.at(net)[0]
    assert out == [2 * _q(1e-20) ** 3] and out[0] != 0


# --- 2. canonical_form_symbolic: no nsimplify, floats exact ---------------------------------
def test_canonical_form_symbolic_merge_is_exact():
    from topoanalysis.degeneracy import canonical_form_symbolic

    t = _q(0.1)
    steps = canonical_form_symbolic([[1, 0], [t, 0]], [[1], [1]], augment="bias")
    merge = steps[1]
    # nsimplify(t) = 1/10: merged output 11/10 and a CHANGED realization
    assert merge.C[0, 0] == 1 + t and merge.holds
    third = sp.Rational(10 ** 20 + 1, 3 * 10 ** 20)
    merge = canonical_form_symbolic([[1, 0], [third, 0]], [[1], [1]], augment="bias")[1]
    assert merge.C[0, 0] == 1 + third and merge.holds
    # floats at their binary values: (0.1, 0) and (0.3, 0) are one ray, merged with the exact
    # ratio fl(0.3)/fl(0.1), which is not 3 (Float arithmetic left a residual 2.8e-17·x)
    steps = canonical_form_symbolic([[0.1, 0.0], [0.3, 0.0]], [[1.0], [1.0]])
    assert all(s.holds for s in steps)
    assert steps[1].C[0, 0] == 1 + _q(0.3) / _q(0.1)
    assert not any(s.A.has(sp.Float) or s.C.has(sp.Float) for s in steps)


# --- 3. FlowResult.from_dict -----------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"kink_events": True, "record_params": True},
                                {"dtype": "float32", "record_conserved": False}])
def test_flow_result_round_trip(kw):
    from topoanalysis.dynamics import FlowResult, gradient_flow
    from topoanalysis.io import to_jsonable

    X = np.array([[1.0, 0.5], [-0.5, 1.0], [0.3, -1.2], [2.0, 0.1]])
    Y = np.array([[0.5], [-0.2], [0.1], [1.0]])
    from topoanalysis import Architecture
    nets = [Network.initialize(Architecture(2, (3,), 1), seed=s) for s in (1, 2)]
    res = gradient_flow(nets, X, Y, t_end=0.5, progress=False, **kw)
    text = json.dumps(to_jsonable(res.to_dict()), allow_nan=False)
    back = FlowResult.from_dict(json.loads(text))
    for f in dataclasses.fields(res):
        x, y = getattr(res, f.name), getattr(back, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name
    assert back.summary() == res.summary()
    with pytest.raises(ValidationError, match="params"):
        FlowResult.from_dict({k: v for k, v in res.to_dict().items() if k != "params"})


# --- 4. C.2 after the C.3 lift: decided on the exact rays (the lift keeps them, c3lift) ------
def test_c2_after_the_c3_lift_is_decided_on_the_exact_rays():
    from topoanalysis.degeneracy import restricted_space_membership
    from topoanalysis.degeneracy._exact import ray_key
    from topoanalysis.degeneracy._form import shallow_form

    # two rays (biases 1e-20 and 0) whose float lifts used to coincide (τ = 1 swallowed 1e-20)
    two = Network.from_weights([np.array([[1.0], [1.0]]), np.array([[1.0, 1.0]])],
                               [np.array([1e-20, 0.0]), None])
    lifted = shallow_form(two, "c3").A
    assert ray_key(lifted[0])[0] != ray_key(lifted[1])[0]
    assert "C.2" not in restricted_space_membership(two, augment="c3").failing
    # one ray, (1, 1) and (3, 3), whose float lifts used not to be parallel
    one = Network.from_weights([np.array([[1.0], [3.0]]), np.array([[1.0, 1.0]])],
                               [np.array([1.0, 3.0]), None])
    lifted = shallow_form(one, "c3").A
    assert ray_key(lifted[0])[0] == ray_key(lifted[1])[0]
    assert restricted_space_membership(one, augment="c3").failing["C.2"] == [(0, 1)]
    assert restricted_space_membership(one, augment="bias").failing["C.2"] == [(0, 1)]


# --- 5. the sign of c_k behind the topology and reachability verdicts is exact ---------------
def _one_d(ws, as_):
    return Network.from_weights([np.array([[w] for w in ws]), np.array([as_])])


def test_topology_signs_of_tiny_c_are_exact_by_default():
    from topoanalysis.obstruction import network_topology, pathological_neurons

    e = 1.0 + 2.0 ** -44                 # c = e² − 1 = 2^-43 + 2^-88 ≈ 1.1e-13 (and −that)
    net = _one_d([e, 1.0, 1.0], [1.0, 1.0, e])
    top = network_topology(net)
    assert top.signs.tolist() == [1, 0, -1] and top.treated_as_zero == ()
    assert top.pathological == (2,) and pathological_neurons(net).tolist() == [2]
    # d = e = 1: c > 0 freezes the sign of w, c < 0 that of a: 2 · 2 components, not 1
    assert top.n_components == 4 and top.frozen_kinds == ("w", "a")
    assert "c = 0 exactly" in top.summary()
    # the tolerance is still there as a modelling choice
    loose = network_topology(net, atol=1e-12)
    assert loose.signs.tolist() == [0, 0, 0] and loose.treated_as_zero == (0, 2)
    assert loose.n_components == 1


def test_reachability_is_not_decided_by_a_tolerance():
    from topoanalysis.obstruction import reachability

    # slot 0 has c = 5·2^-44 ≈ 2.8e-13 > 0 exactly (and in floats) and w > 0: gradient flow
    # keeps w_0 > 0 (w_0² >= c > 0); the target has only neurons with w < 0
    init = _one_d([3 * 2.0 ** -22, 1.0], [2.0 ** -21, 1.0])
    target = _one_d([-1.0, -2.0], [1.0, 1.0])
    res = reachability(init, target)
    assert not res.reachable                      # was reachable (and "verified") with 1e-12
    assert reachability(init, target, atol=1e-12).reachable
    # c exactly 0 (a cone): any target neuron fits, the construction is verified although its
    # rescaled c_k are 0 only up to rounding
    init0 = _one_d([1.0, 1.0], [1.0, 1.0])
    res = reachability(init0, _one_d([-0.3, 2.0], [0.7, -1.1]))
    assert res.reachable and res.verified
    # c tiny negative: the sign of a is frozen
    initn = _one_d([1.0, 1.0], [1.0 + 2.0 ** -44, 1.0])
    assert not reachability(initn, _one_d([1.0, 1.0], [-1.0, -1.0])).reachable
    assert reachability(initn, _one_d([1.0, 1.0], [1.0, -1.0])).reachable
