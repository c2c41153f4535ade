"""Component graphs (topoanalysis.graphs.components).

The counts come from the graphs; the closed forms of the notes are tested against them. The
move rule itself is checked against the real symmetry actions of :class:`Network`
(``permute_neurons`` + ``rescale_neurons``) on explicit parameters, component by component.
"""

import itertools
import json
import time

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, strategies as st

from topoanalysis import Network, ValidationError
from topoanalysis.graphs import (
    GENERATORS,
    component_graph,
    component_label,
    effective_component,
    effective_components,
    frozen_kinds,
    is_obstructed,
    number_components,
    number_components_formula,
    number_effective_components,
    number_effective_components_formula,
    quotient_component_graph,
    quotient_node,
    sign_pattern,
)
from topoanalysis.symbolic.quadrics import invariant_set_topology
from topoanalysis.obstruction.topology import network_topology


def test_paper_figure_two_pathological_neurons():
    G = component_graph(sign_pattern(0, 2))
    assert number_components(G) == 4
    assert number_effective_components(G) == 3
    assert sorted(map(sorted, effective_components(G))) == [
        [(-1, -1)], [(-1, 1), (1, -1)], [(1, 1)]]
    assert G.edges[(1, -1), (-1, 1)]["transposition"] == (0, 1)
    assert G.nodes[(1, -1)] == {"n_positive": 1, "n_positive_w": 0, "label": "C_{+-}"}
    assert G.graph["slots"] == (0, 1) and G.graph["frozen"] == ("a", "a")
    assert (G.graph["l_plus"], G.graph["l_minus"], G.graph["l_zero"]) == (0, 2, 0)
    assert is_obstructed(G)
    assert sorted(effective_component(G, (-1, 1))) == [(-1, 1), (1, -1)]
    Q = quotient_component_graph(sign_pattern(0, 2))
    assert dict(Q.nodes(data="multiplicity")) == {0: 1, 1: 2, 2: 1}
    assert number_effective_components(Q) == 3 and number_components(Q) == 4


def test_non_pathological_neuron_merges_everything():
    G = component_graph(sign_pattern(1, 2))
    assert number_components(G) == 4 and number_effective_components(G) == 1
    assert not is_obstructed(G)
    # e >= 2: connected invariant set, a single component
    G = component_graph(sign_pattern(0, 3), d=3, e=2)
    assert list(G.nodes) == [()] and number_effective_components(G) == 1


def quotient_of(G):
    """Quotient of a full component graph by the class of each node (for comparison)."""
    Q = nx.Graph()
    for u in G:
        Q.add_node(quotient_node(G, u))
    for u, v in G.edges:
        a, b = quotient_node(G, u), quotient_node(G, v)
        if a != b:
            Q.add_edge(a, b)
    return Q


@given(l_plus=st.integers(0, 4), l_minus=st.integers(0, 5), l_zero=st.integers(0, 2),
       d=st.integers(1, 3), e=st.integers(1, 2), seed=st.integers(0, 10 ** 6))
def test_closed_forms_against_graphs(l_plus, l_minus, l_zero, d, e, seed):
    if l_plus + l_minus + l_zero == 0:
        return
    signs = list(sign_pattern(l_plus, l_minus, l_zero))
    np.random.default_rng(seed).shuffle(signs)  # slot order must not matter
    graphs = {g: component_graph(signs, d, e, generators=g) for g in GENERATORS}
    G = graphs["adjacent"]
    n = number_components(G)
    assert n == number_components_formula(l_plus, l_minus, l_zero, d, e)
    assert n == int(invariant_set_topology(signs, d, e).n_components)
    n_eff = number_effective_components(G)
    assert n_eff == number_effective_components_formula(l_plus, l_minus, l_zero, d, e)
    if e == 1 and d >= 2 and l_minus >= 1:
        assert n_eff == (l_minus + 1 if l_plus + l_zero == 0 else 1)
    # every generating set gives the same partition into effective components
    parts = {g: sorted(sorted(cc) for cc in effective_components(H)) for g, H in graphs.items()}
    assert parts["adjacent"] == parts["star"] == parts["transpositions"]
    # the quotient counts the same and is the quotient of the full graph
    Q = quotient_component_graph(signs, d, e)
    assert number_effective_components(Q) == n_eff
    assert number_components(Q) == n
    QG = quotient_of(graphs["transpositions"])
    assert set(QG.nodes) == set(Q.nodes)
    assert {frozenset(x) for x in QG.edges} == {frozenset(x) for x in Q.edges}
    # the components of one quotient class lie in one effective component
    classes = {}
    for u in G:
        classes.setdefault(quotient_node(G, u), []).append(u)
    for members in classes.values():
        assert len({frozenset(nx.node_connected_component(G, u)) for u in members}) == 1


def test_number_closed_forms_vectorized():
    lp = np.array([0, 1, 0, 2])
    lm = np.array([3, 3, 0, 0])
    assert number_effective_components_formula(lp, lm).tolist() == [4, 1, 1, 1]
    assert number_components_formula(lp, lm).tolist() == [8.0, 8.0, 1.0, 1.0]
    assert number_effective_components_formula(2, 0, d=1, e=2) == 3
    assert number_effective_components_formula(1, 1, d=1, e=1) == 1
    assert number_effective_components_formula(0, 0, 1) == 1
    with pytest.raises(ValidationError, match="`l_minus`"):
        number_components_formula(1, -1)


# --- the move rule against the real symmetry actions ---------------------------------------
def alpha_onto(w, a, c):
    """Positive root α of α²||w||² − ||a||²/α² = c (brute: bisection on log α)."""
    W, A = float(w @ w), float(a @ a)
    lo, hi = -60.0, 60.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        al = np.exp(mid)
        if al ** 2 * W - A / al ** 2 < c:
            lo = mid
        else:
            hi = mid
    return float(np.exp(0.5 * (lo + hi)))


def representatives(signs, d, e, node, rng):
    """Generic points of the component ``node`` for every choice of the free signs."""
    kinds = frozen_kinds(signs, d, e)
    label = dict(zip([k for k, kind in enumerate(kinds) if kind], node))
    free = []  # (slot, coordinate) whose sign may be chosen
    for k, s in enumerate(signs):
        if d == 1 and kinds[k] != "w":
            free.append((k, "w"))
        if e == 1 and kinds[k] != "a":
            free.append((k, "a"))
    for choice in itertools.product([-1, 1], repeat=len(free)):
        chosen = dict(zip(free, choice))
        W = np.zeros((len(signs), d))
        A = np.zeros((len(signs), e))
        for k, s in enumerate(signs):
            nw, na = {1: (2.0, 1.0), -1: (1.0, 2.0), 0: (1.5, 1.5)}[s]
            w = rng.normal(size=d)
            a = rng.normal(size=e)
            if d == 1:
                w = np.abs(w) * (label[k] if kinds[k] == "w" else chosen[(k, "w")])
            if e == 1:
                a = np.abs(a) * (label[k] if kinds[k] == "a" else chosen[(k, "a")])
            W[k] = w * np.sqrt(nw / (w @ w))
            A[k] = a * np.sqrt(na / (a @ a))
        yield Network.from_weights([W, A.T])


@pytest.mark.parametrize("signs, d, e", [
    ((-1, -1), 2, 1), ((1, -1, -1), 2, 1), ((0, -1, -1), 2, 1), ((-1, -1, -1), 3, 1),
    ((1, -1), 1, 1), ((1, 1, -1), 1, 2), ((1, 0, 1), 1, 1), ((1, -1, 0), 1, 1),
    ((-1, -1), 1, 1), ((1, 1), 1, 3),
])
def test_moves_match_real_symmetries(signs, d, e):
    rng = np.random.default_rng(3)
    G = component_graph(signs, d, e, generators="transpositions")
    l = len(signs)
    found = set()
    for node in G:
        for net in representatives(signs, d, e, node, rng):
            # the representatives are balanced (c = 0) and moved onto H(c) in floats: up to
            # rounding, so the modelling tolerance (the default decides the float c exactly)
            top = network_topology(net, atol=1e-12)
            assert top.component == node
            c_target = net.conserved_quantities()
            for i, j in itertools.combinations(range(l), 2):
                perm = list(range(l))
                perm[i], perm[j] = j, i
                moved = net.permute_neurons(perm)
                w, a = moved.neuron_weights()
                alphas = [alpha_onto(w[k], a[k], c_target[k]) for k in (i, j)]
                moved = moved.rescale_neurons(alphas, neurons=[i, j])
                np.testing.assert_allclose(moved.conserved_quantities(), c_target, atol=1e-9)
                X = rng.normal(size=(5, d))
                np.testing.assert_allclose(moved.forward(X), net.forward(X), atol=1e-9)
                new = network_topology(moved, atol=1e-12).component
                if new != node:
                    found.add(frozenset((node, new)))
    assert found == {frozenset(x) for x in G.edges}


def test_large_explicit_graph_is_fast():
    start = time.perf_counter()
    G = component_graph(sign_pattern(0, 16))
    elapsed = time.perf_counter() - start
    assert G.number_of_nodes() == 2 ** 16
    assert number_effective_components(G) == 17
    assert elapsed < 30  # about 1.5 s on a quiet 2-core machine
    sizes = sorted(len(cc) for cc in effective_components(G))
    from math import comb
    assert sizes == sorted(comb(16, k) for k in range(17))


def test_quotient_for_wide_networks():
    Q = quotient_component_graph(sign_pattern(0, 1000))
    assert number_effective_components(Q) == 1001
    assert Q.nodes[500]["multiplicity"] > 10 ** 290
    Q = quotient_component_graph(sign_pattern(1, 1000))
    assert number_effective_components(Q) == 1
    assert Q.number_of_edges() == 1000 and max(deg for _, deg in Q.degree) == 2  # a path


def test_graph_attributes_are_json_ready():
    G = component_graph(sign_pattern(1, 2), d=1)
    json.dumps(G.graph)
    json.dumps(nx.node_link_data(G, edges="links"), default=list)
    assert component_label((1, -1, 1)) == "C_{+-+}"
    assert G.graph["frozen"] == ("w", "a", "a")


def test_errors():
    with pytest.raises(ValidationError, match="max_frozen"):
        component_graph(sign_pattern(0, 5), max_frozen=4)
    with pytest.raises(ValidationError, match="`generators`"):
        component_graph([1, -1], generators="all")
    with pytest.raises(ValidationError, match="at least one"):
        component_graph([])
    with pytest.raises(ValidationError, match="`c`"):
        component_graph([[1, 2]])
    with pytest.raises(ValidationError, match="`node`"):
        effective_component(component_graph([-1]), (1, 1))
    with pytest.raises(ValidationError, match="sign vector"):
        quotient_node(component_graph([-1, -1]), (1,))
    with pytest.raises(ValidationError, match="max_nodes"):
        quotient_component_graph(sign_pattern(50, 50), d=1, max_nodes=100)
    with pytest.raises(ValidationError, match="at least one neuron"):
        sign_pattern(0, 0)
    with pytest.raises(ValidationError, match="`d`"):
        component_graph([1], d=0)
