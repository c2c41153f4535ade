"""Topology of concrete networks and reachability (topoanalysis.obstruction.topology)."""

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from topoanalysis import Architecture, Network, NotSupportedError, ValidationError
from topoanalysis.graphs import number_effective_components_formula
from topoanalysis.obstruction.topology import (
    is_reachable,
    network_topology,
    pathological_neurons,
    reachability,
    zero_neurons,
)


def net_from(w, a, bias=None, activation="relu"):
    """Shallow net from per-neuron w (l, d) and a (l, e)."""
    w, a = np.asarray(w, float), np.asarray(a, float)
    return Network.from_weights([w, a.T], [bias, None], activation=activation)


def test_paper_like_network():
    net = net_from([[1.0, 0.0], [0.1, 0.0], [0.2, 0.1], [0.0, 0.3]], [[0.5], [-2.0], [1.0], [-1.0]])
    top = network_topology(net)
    np.testing.assert_allclose(top.conserved_quantities, [0.75, -3.99, -0.95, -0.91])
    assert top.pathological == (1, 2, 3) and top.l_minus == 3 and top.l_plus == 1
    assert top.frozen_slots == (1, 2, 3) and top.frozen_kinds == ("a", "a", "a")
    assert top.component == (-1, 1, -1)
    assert top.n_components == 8 and top.betti_numbers == (8, 8)
    import sympy
    assert sympy.expand(top.poincare_polynomial.as_expr()) == 8 * sympy.Symbol("t") + 8
    assert top.n_effective_components == 1 and not top.obstructed and top.disconnected
    assert top.effective_component == 1
    assert pathological_neurons(net).tolist() == [1, 2, 3]
    text = top.summary()
    assert "pathological neurons (c_k < 0): 1, 2, 3" in text and "C_{-+-}" in text
    json.dumps(top.to_dict())


def test_all_pathological_is_obstructed():
    net = net_from([[0.1, 0.0], [0.0, 0.1]], [[1.0], [-1.0]])
    top = network_topology(net)
    assert top.obstructed and top.n_effective_components == 3
    assert top.effective_component == 1 and "obstructed" in top.summary()


def test_vector_output_connected():
    rng = np.random.default_rng(0)
    net = net_from(0.1 * rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))
    top = network_topology(net)
    assert top.l_minus == 3 and top.n_components == 1 and top.component == ()
    assert top.betti_numbers == (1, 3, 3, 1)  # each Q(c < 0) ≃ S^1: (1 + t)^3
    assert not top.obstructed


def test_bias_counts_in_dimension_and_one_dimensional_w():
    # d = 1 without bias: c > 0 freezes the sign of w
    net = net_from([[2.0], [-2.0], [0.1]], [[1.0], [1.0], [-1.0]])
    top = network_topology(net)
    assert top.dimension_w == 1
    assert top.frozen_kinds == ("w", "w", "a") and top.component == (1, -1, -1)
    assert top.n_components == 8 and top.n_effective_components == 1
    # with a hidden bias, w_k = (w, b) is two-dimensional: only the pathological one is frozen
    net_b = net_from([[2.0], [-2.0], [0.1]], [[1.0], [1.0], [-1.0]], bias=np.zeros(3))
    top_b = network_topology(net_b)
    assert top_b.dimension_w == 2 and top_b.frozen_kinds == ("a",) and top_b.n_components == 2


def test_tolerance_reports_zero():
    net = net_from([[1.0, 0.0], [0.5, 0.0]], [[1.0 + 1e-14], [-0.1]])
    top = network_topology(net, atol=1e-12)
    assert top.treated_as_zero == (0,) and top.l_zero == 1 and top.signs.tolist() == [0, 1]
    assert network_topology(net, atol=0.0).l_minus == 1
    assert network_topology(net).l_minus == 1            # the default decides exactly


def test_topology_errors():
    deep = Network.initialize(Architecture(2, (3, 3), 1), seed=0)
    with pytest.raises(NotSupportedError, match="shallow"):
        network_topology(deep)
    tanh = Network.initialize(Architecture(2, (3,), 1, activation="tanh"), seed=0)
    with pytest.raises(NotSupportedError, match="homogeneous"):
        network_topology(tanh)
    with pytest.raises(ValidationError, match="`net`"):
        network_topology("net")
    with pytest.raises(ValidationError, match="`atol`"):
        network_topology(net_from([[1.0]], [[1.0]]), atol=-1.0)


@given(seed=st.integers(0, 10 ** 6), l=st.integers(1, 5), d=st.integers(1, 3),
       e=st.integers(1, 2))
def test_counts_consistent_with_closed_forms(seed, l, d, e):
    net = Network.initialize(Architecture(d, (l,), e, hidden_bias=False), "xavier_normal",
                             seed=seed)
    top = network_topology(net)
    assert top.n_components == 2 ** len(top.frozen_slots)
    assert top.n_effective_components == number_effective_components_formula(
        top.l_plus, top.l_minus, top.l_zero, top.dimension_w, e)


# --- reachability ----------------------------------------------------------------------
def test_reason_message_for_negative_output_weights():
    init = net_from([[0.1, 0.0], [0.0, 0.1], [0.1, 0.1]], [[-1.0], [-1.0], [-1.0]])
    target = net_from([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], [[2.0], [-1.0], [0.5]])
    res = reachability(init, target)
    assert not res.reachable and not res
    assert res.reason == ("the initial network has 3 pathological neurons with negative output "
                          "weight (frozen signs), but the target has only 1 neuron that can take "
                          "their place (1 with negative output weight, 0 zero neurons)")
    assert res.assignment is None and res.realization is None
    json.dumps(res.to_dict())
    assert "NOT reachable" in res.summary()


def test_reachable_construction_is_verified():
    init = net_from([[0.1, 0.0], [1.0, 1.0], [0.1, 0.1]], [[-1.0], [0.2], [1.0]])
    target = net_from([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], [[2.0], [-1.0], [0.5]])
    res = reachability(init, target)
    assert res.reachable and res.verified
    assert res.function_error < 1e-10 and res.invariant_error < 1e-10
    real = res.realization
    X = np.random.default_rng(1).normal(size=(50, 2))
    np.testing.assert_allclose(real.forward(X), target.forward(X), atol=1e-10)
    np.testing.assert_allclose(real.conserved_quantities(), init.conserved_quantities())
    assert network_topology(real).component == network_topology(init).component
    # slot 0 (pathological, a < 0) must receive the target's negative neuron 1
    assert res.assignment[0] == 1
    w, a = real.neuron_weights()
    wt, at = target.neuron_weights()
    for k, j in enumerate(res.assignment):
        np.testing.assert_allclose(w[k], res.alphas[k] * wt[j])
        np.testing.assert_allclose(a[k], at[j] / res.alphas[k])
    json.dumps(res.to_dict())
    assert "verified: True" in res.summary()


def brute_force_reachable(init, target, atol=1e-12):
    """Try every permutation; rescale exactly onto the initial quadrics and compare."""
    top = network_topology(init, atol=atol)
    c0 = top.conserved_quantities
    wt, at = target.neuron_weights()
    l = len(c0)
    for perm in itertools.permutations(range(l)):
        w = np.empty_like(wt)
        a = np.empty_like(at)
        for k, j in enumerate(perm):
            W, A = wt[j] @ wt[j], at[j] @ at[j]
            u = np.roots([W, -c0[k], -A])  # W u² − c u − A = 0, u = α²
            u = float(np.max(u.real))
            w[k], a[k] = np.sqrt(u) * wt[j], at[j] / np.sqrt(u)
        cand = net_from(w, a)
        if network_topology(cand, atol=atol).component == top.component:
            return True
    return False


@settings(max_examples=30)
@given(seed=st.integers(0, 10 ** 6), l=st.integers(1, 4), d=st.integers(1, 2),
       e=st.integers(1, 2), scale=st.sampled_from([0.3, 1.0, 3.0]))
def test_reachability_against_brute_force(seed, l, d, e, scale):
    rng = np.random.default_rng(seed)
    init = net_from(scale * rng.normal(size=(l, d)), rng.normal(size=(l, e)))
    target = net_from(rng.normal(size=(l, d)), rng.normal(size=(l, e)))
    res = reachability(init, target)
    assert res.reachable == brute_force_reachable(init, target)
    if res.reachable:
        assert res.verified
        assert sorted(res.assignment.tolist()) == list(range(l))
    else:
        assert "but the target has only" in res.reason


def test_zero_neurons_replace_and_orbit():
    # both initial neurons pathological with negative output weight
    init = net_from([[0.1, 0.0], [0.0, 0.1]], [[-1.0], [-1.0]])
    # target: one negative neuron and a zero neuron (w ≠ 0, a = 0)
    target = net_from([[1.0, 0.0], [0.0, 1.0]], [[-1.0], [0.0]])
    assert zero_neurons(target).tolist() == [1]
    res = reachability(init, target)
    assert res.reachable and res.verified and len(res.replaced) == 1
    k = res.replaced[0]
    w, a = res.realization.neuron_weights()
    assert np.all(w[k] == 0) and a[k, 0] < 0  # (0, a) on Q(c_k), inside the component
    assert np.isnan(res.alphas[k]) and res.assignment[k] == 1
    # on its rescaling orbit only, (w, 0) reaches c > 0 only: no pathological slot takes it
    res_orbit = reachability(init, target, zero_neurons="orbit")
    assert not res_orbit.reachable
    assert "kept on their rescaling orbit" in res_orbit.reason


def test_zero_neuron_orbit_fits_matching_sign():
    init = net_from([[1.0, 0.0], [0.0, 0.1]], [[0.1], [-1.0]])
    target = net_from([[1.0, 1.0], [0.0, 0.0]], [[1.0], [-2.0]])  # neuron 1: (0, a < 0)
    res = reachability(init, target, zero_neurons="orbit")
    assert res.reachable and res.verified and res.assignment.tolist() == [0, 1]
    assert res.replaced == ()


def test_relu_dead_neuron_and_width_changes():
    init = net_from([[0.1], [0.1], [2.0]], [[-1.0], [-1.0], [0.1]], bias=np.array([0.0, 0.0, 1.0]))
    # target: neuron 0 dead everywhere (input weight 0, bias < 0), neuron 1 negative
    target = net_from([[0.0], [1.0]], [[5.0], [-1.0]], bias=np.array([-1.0, 0.5]))
    assert zero_neurons(target).tolist() == [0]
    res = reachability(init, target)  # narrower target: padded with a zero neuron
    assert res.reachable and res.verified
    assert sorted(res.assignment.tolist()) == [-1, 0, 1]
    # wider target whose surplus neurons are zero neurons
    wide = net_from([[1.0], [0.0], [0.0], [1.0]], [[-1.0], [1.0], [0.0], [-2.0]],
                    bias=np.array([0.0, 0.0, 3.0, 0.0]))
    res = reachability(init, wide)
    assert res.reachable and res.verified
    # too many nonzero neurons
    many = net_from(np.ones((4, 1)), -np.ones((4, 1)), bias=np.zeros(4))
    res = reachability(init, many)
    assert not res.reachable and "only 3 hidden neurons" in res.reason


def test_vector_output_always_reachable():
    rng = np.random.default_rng(5)
    init = net_from(0.01 * rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))
    target = net_from(rng.normal(size=(3, 2)), rng.normal(size=(3, 2)))
    res = reachability(init, target)
    assert res.reachable and res.verified
    assert is_reachable(init, target)


def test_reachability_errors():
    a = net_from([[1.0, 0.0]], [[1.0]])
    with pytest.raises(ValidationError, match="same inputs"):
        reachability(a, net_from([[1.0, 0.0, 1.0]], [[1.0]]))
    with pytest.raises(ValidationError, match="same hidden_bias"):
        reachability(a, net_from([[1.0, 0.0]], [[1.0]], bias=np.zeros(1)))
    with pytest.raises(ValidationError, match="`zero_neurons`"):
        reachability(a, a, zero_neurons="drop")
    with pytest.raises(ValidationError, match="`target`"):
        reachability(a, None)
    with pytest.raises(NotSupportedError):
        reachability(a, net_from([[1.0, 0.0]], [[1.0]], activation="tanh"))
