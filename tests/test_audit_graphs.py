"""Audit of the graph layer against independent brute force, at the degenerate edges.

The brute force below shares no code with :mod:`topoanalysis.graphs.components`: it
enumerates generic sign configurations of every neuron (sign of ``a_k`` and of ``w_k`` along
its first coordinate), applies every permutation of ``S_l`` (not only transpositions) with the
rescaling that keeps signs, for ``abs`` also every ``w_k -> -w_k``, and joins the labels
with a union-find. Which slot freezes which sign is read off the quadric's closed-form
topology (``c > 0``: ``S^{d-1} x R^e``; ``c < 0``: ``R^d x S^{e-1}``; ``c = 0``: a cone).
"""

import itertools
import json
import os
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
import sympy

from topoanalysis import Network
from topoanalysis.cli import main
from topoanalysis.graphs import (component_counts, component_graph, level_set_graph,
                                 number_components, number_components_formula,
                                 number_effective_components, number_effective_components_formula,
                                 quotient_component_graph, quotient_node)
from topoanalysis.obstruction.topology import network_topology


# --- independent brute force -------------------------------------------------------------
def _frozen(sign, d, e):
    """Which coordinate's sign splits Q(c) in two (None when Q(c) is connected)."""
    if sign < 0 and e == 1:   # R^d x S^0
        return "a"
    if sign > 0 and d == 1:   # S^0 x R^e
        return "w"
    return None               # S^{d-1} x R^e (d >= 2), R^d x S^{e-1} (e >= 2), a cone


def _label(signs, d, e, sa, sw):
    out = []
    for k, s in enumerate(signs):
        f = _frozen(s, d, e)
        if f == "a":
            out.append(sa[k])
        elif f == "w":
            out.append(sw[k])
    return tuple(out)


def _brute(signs, d, e, *, flip_w=False, moves="all"):
    """Labels of the components, edges (one move) and effective components by brute force."""
    l = len(signs)
    if moves == "all":
        perms = list(itertools.permutations(range(l)))
    else:  # the transpositions of the named generating set
        if moves == "adjacent":
            pairs = [(k, k + 1) for k in range(l - 1)]
        elif moves == "star":
            pairs = [(0, k) for k in range(1, l)]
        else:
            pairs = list(itertools.combinations(range(l), 2))
        perms = []
        for i, j in pairs:
            p = list(range(l))
            p[i], p[j] = j, i
            perms.append(tuple(p))
    # abs: the flips w_k -> -w_k, one slot at a time (the closure is the same as with all
    # products of flips and permutations, as only the effective components use them)
    moves_ = [(p, (1,) * l) for p in perms]
    if flip_w:
        moves_ += [(tuple(range(l)), tuple(-1 if i == k else 1 for i in range(l)))
                   for k in range(l)]
    labels = set()
    edges = set()
    parent = {}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for sa in itertools.product((1, -1), repeat=l):
        for sw in itertools.product((1, -1), repeat=l):
            src = _label(signs, d, e, sa, sw)
            labels.add(src)
            parent.setdefault(src, src)
            for p, f in moves_:
                # slot i receives neuron p[i]; rescaling by alpha > 0 keeps its signs
                na = tuple(sa[p[i]] for i in range(l))
                nw = tuple(sw[p[i]] * f[i] for i in range(l))
                dst = _label(signs, d, e, na, nw)
                parent.setdefault(dst, dst)
                if dst != src:
                    edges.add(frozenset((src, dst)))
                    parent[find(src)] = find(dst)
    n_eff = len({find(x) for x in labels})
    return labels, edges, n_eff


SIGN_CASES = [s for l in range(1, 5) for s in itertools.product((-1, 0, 1), repeat=l)]
DIMS = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1)]


@pytest.mark.parametrize("d,e", DIMS)
def test_component_graph_matches_brute_force(d, e):
    for signs in SIGN_CASES:
        labels, _, n_eff = _brute(signs, d, e)
        for gen in ("adjacent", "star", "transpositions"):
            G = component_graph(list(signs), d, e, generators=gen)
            _, edges, _ = _brute(signs, d, e, moves=gen)
            assert set(G.nodes) == labels, (signs, d, e)
            assert {frozenset(x) for x in G.edges} == edges, (signs, d, e, gen)
            assert nx.number_of_selfloops(G) == 0
            assert number_components(G) == len(labels) == 2 ** len(G.graph["slots"])
            assert number_effective_components(G) == n_eff, (signs, d, e, gen)
        lp, lm, lz = signs.count(1), signs.count(-1), signs.count(0)
        assert number_components_formula(lp, lm, lz, d, e) == len(labels)
        assert number_effective_components_formula(lp, lm, lz, d, e) == n_eff, (signs, d, e)


def _burnside_orbits(signs, d, e):
    """Orbits of the kind-preserving permutations on the labels, by Burnside's lemma."""
    kinds = [_frozen(s, d, e) for s in signs if _frozen(s, d, e) is not None]
    group = [p for p in itertools.permutations(range(len(kinds)))
             if all(kinds[p[i]] == kinds[i] for i in range(len(kinds)))]
    total = 0
    for p in group:
        seen, cycles = set(), 0
        for i in range(len(kinds)):
            if i not in seen:
                cycles += 1
                while i not in seen:
                    seen.add(i)
                    i = p[i]
        total += 2 ** cycles   # labels fixed by p: constant on each cycle
    assert total % len(group) == 0
    return total // len(group)


@pytest.mark.parametrize("d,e", DIMS)
def test_quotient_matches_burnside_and_full_graph(d, e):
    for signs in SIGN_CASES:
        G = component_graph(list(signs), d, e, generators="transpositions")
        Q = quotient_component_graph(list(signs), d, e)
        assert Q.number_of_nodes() == _burnside_orbits(signs, d, e), (signs, d, e)
        assert number_components(Q) == G.number_of_nodes()
        assert number_effective_components(Q) == number_effective_components(G)
        assert nx.number_of_selfloops(Q) == 0
        proj = {tuple(sorted((quotient_node(G, u), quotient_node(G, v))))
                for u, v in G.edges if quotient_node(G, u) != quotient_node(G, v)}
        assert {tuple(sorted(x)) for x in Q.edges} == proj, (signs, d, e)
        mult = {}
        for u in G.nodes:
            q = quotient_node(G, u)
            mult[q] = mult.get(q, 0) + 1
        assert dict(Q.nodes(data="multiplicity")) == mult


# --- networks: relu and abs, with and without biases --------------------------------------
def _network(signs, d, e, activation, hidden_bias, seed):
    """Weights with exactly representable c_k of the given signs and random coordinate signs."""
    rng = np.random.default_rng(seed)
    dw = d + int(hidden_bias)
    W, A, B = [], [], []
    for s in signs:
        nw, na = {1: (2.0, 1.0), -1: (1.0, 2.0), 0: (1.0, 1.0)}[s]
        w = np.zeros(dw)
        a = np.zeros(e)
        w[0] = nw * rng.choice((-1.0, 1.0))
        a[0] = na * rng.choice((-1.0, 1.0))
        W.append(w[:d])
        B.append(w[d] if hidden_bias else 0.0)
        A.append(a)
    W1, A2 = np.array(W), np.array(A).T
    biases = [np.array(B), None] if hidden_bias else None
    return Network.from_weights([W1, A2], biases, activation=activation)


@pytest.mark.parametrize("activation", ["relu", "abs"])
@pytest.mark.parametrize("d,e", [(1, 1), (1, 2), (2, 1), (2, 2)])
def test_network_topology_matches_brute_force(activation, d, e):
    for i, signs in enumerate(SIGN_CASES):
        for hidden_bias in (False, True):
            net = _network(signs, d, e, activation, hidden_bias, seed=i)
            topo = network_topology(net)
            dw = d + int(hidden_bias)
            assert tuple(int(s) for s in topo.signs) == signs
            w, a = net.neuron_weights()
            labels, _, n_eff = _brute(signs, dw, e, flip_w=activation == "abs")
            sa = [int(np.sign(x)) for x in a[:, 0]]
            sw = [int(np.sign(x)) for x in w[:, 0]]
            assert topo.n_components == len(labels)
            assert topo.component == _label(signs, dw, e, sa, sw)
            assert topo.n_effective_components == n_eff, (signs, dw, e, activation)


def test_cli_components_matches_brute_force(tmp_path, capsys):
    for signs, d, e, act in [((-1, -1, 0), 2, 1, "relu"), ((-1, -1), 1, 1, "relu"),
                             ((1, 1), 1, 1, "relu"), ((1, 1), 1, 1, "abs"),
                             ((-1, 1), 1, 1, "abs"), ((0,), 1, 1, "relu")]:
        path = tmp_path / f"n{len(list(tmp_path.iterdir()))}.npz"
        _network(signs, d, e, act, False, seed=3).save(path)
        out = tmp_path / f"o{len(list(tmp_path.iterdir()))}.json"
        assert main(["components", str(path), "--json", str(out), "--quiet"]) == 0
        capsys.readouterr()
        data = json.loads(out.read_text())
        labels, _, n_eff = _brute(signs, d, e, flip_w=act == "abs")
        assert data["n_components"] == len(labels)
        assert data["n_effective_components"] == n_eff


# --- exact signs at c_k = 0 ---------------------------------------------------------------
@pytest.mark.parametrize("c,expected", [
    ([Fraction(-1, 10 ** 400)], (-1,)),
    ([Fraction(1, 10 ** 400)], (1,)),
    ([Fraction(-1, 10 ** 400), Fraction(0)], (-1, 0)),
    ([Decimal("-1e-400"), 1], (-1, 1)),
    ([np.longdouble("-1e-4000")], (-1,)),
    (np.array([np.longdouble("1e-4000"), -1.0], dtype=np.longdouble), (1, -1)),
    ([sympy.Float("-1e-400"), sympy.Rational(1, 10 ** 400)], (-1, 1)),
])
def test_exact_sign_of_tiny_rational_c(c, expected):
    """A rational c_k that underflows to 0.0 as a float keeps its sign under atol=0."""
    G = component_graph(c, d=2, e=1, atol=0)
    assert G.graph["signs"] == expected
    assert G.number_of_nodes() == 2 ** expected.count(-1)
    Q = quotient_component_graph(c, d=2, e=1, atol=0)
    assert Q.graph["signs"] == expected


def test_exact_atol_comparison_of_rational_c():
    # |c| == atol counts as zero (documented), |c| just above atol does not
    t = Fraction(0.1)  # the float atol=0.1, exactly
    assert component_graph([-t], atol=0.1).graph["signs"] == (0,)
    assert component_graph([-0.1], atol=0.1).graph["signs"] == (0,)
    assert component_graph([Fraction(-1, 10)], atol=0.1).graph["signs"] == (0,)  # 1/10 < t
    assert component_graph([-t - Fraction(1, 10 ** 40)], atol=0.1).graph["signs"] == (-1,)
    assert component_graph([t + Fraction(1, 10 ** 40)], atol=0.1).graph["signs"] == (1,)


# --- level-set graphs: "inf when no path is known" ----------------------------------------
def test_level_set_graph_unknown_path_is_no_edge_at_infinite_threshold():
    M = np.array([[0.1, np.inf], [np.inf, 0.2]])
    G = level_set_graph(M, np.inf)
    assert G.number_of_nodes() == 2
    assert G.number_of_edges() == 0
    assert nx.number_connected_components(G) == component_counts(M)[1][-1] == 2


def test_level_set_graph_matches_component_counts_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 6))
        M = rng.choice([0.1, 0.2, 0.3, 0.5, np.inf], size=(n, n))
        M = np.minimum(M, M.T)
        t, counts = component_counts(M)
        for lam, cnt in zip(t, counts):
            G = level_set_graph(M, lam)
            assert nx.number_connected_components(G) == cnt
            assert nx.number_of_selfloops(G) == 0


# --- determinism across hash seeds --------------------------------------------------------
_SNAPSHOT = r"""
import json
from topoanalysis.graphs import component_graph, quotient_component_graph
out = []
for c, d, e in [([-1, -1, 0, 1], 1, 1), ([-1, 1, 1, -1], 1, 1), ([-1, -1, -1], 2, 1),
                ([1, 0, -1], 1, 2)]:
    for G in (component_graph(c, d, e, generators="transpositions"),
              quotient_component_graph(c, d, e)):
        out.append([repr(list(G.nodes(data=True))), repr(list(G.edges(data=True))),
                    repr(sorted(G.graph.items()))])
print(json.dumps(out))
"""


def test_graphs_deterministic_across_hash_seeds():
    outs = []
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        r = subprocess.run([sys.executable, "-c", _SNAPSHOT], env=env, capture_output=True,
                           text=True, check=True)
        outs.append(r.stdout)
    assert outs[0] == outs[1] == outs[2]
