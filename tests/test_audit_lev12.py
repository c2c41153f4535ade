"""Audit of session 12 at the edges of the level-set layer (float64): persistence of minima no
path joins, diverged cells of a slice near overflow, thresholds at ±inf, the options of the
strings of ``pairwise_barriers``, strict JSON of a saved string."""

import json
import warnings

import networkx as nx
import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.graphs import component_counts, disconnectivity_tree, level_set_graph

gudhi = pytest.importorskip("gudhi")

from topoanalysis.levelsets import (dynamic_string_sampling, load_string,  # noqa: E402
                                    merge_tree, minima_persistence, pairwise_barriers,
                                    surface_persistence)


def _strict(text):
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")
    return json.loads(text, parse_constant=refuse)


# --- minima persistence without a finite edge ---------------------------------------------
@pytest.mark.parametrize("M, node_loss", [
    (np.array([[0.3]]), None),                                     # a single minimum
    (np.array([[0.1, np.inf], [np.inf, 0.2]]), None),              # no known path
    (np.full((3, 3), np.inf), np.array([0.5, 0.2, 0.2])),          # none at all, tied losses
])
def test_minima_persistence_keeps_one_class_per_minimum_no_path_joins(M, node_loss):
    births = np.diag(M) if node_loss is None else node_loss
    P = minima_persistence(M, node_loss).diagram(0)
    # each minimum is born and, joined to nothing, never dies (gudhi computed nothing at all
    # for a complex of vertices only: the diagram was empty)
    assert P.shape == (len(births), 2)
    np.testing.assert_array_equal(np.sort(P[:, 0]), np.sort(births))
    assert np.all(np.isinf(P[:, 1]))
    # as many groups as the disconnectivity tree and the component count at inf
    T = disconnectivity_tree(M, node_loss)
    root = T.graph["root"]
    groups = len(list(T.successors(root))) if root == ("merge", "virtual") else 1
    assert groups == P.shape[0] == component_counts(M, [np.inf], node_loss)[1][0]
    assert merge_tree(M, node_loss).graph["root"] == root


# --- surface persistence: diverged cells strictly above the largest finite value ----------
@pytest.mark.parametrize("wall", [5.0, 1e20, 1e300, np.finfo(float).max])
def test_diverged_cell_stays_above_the_largest_finite_value(wall):
    # four basins (0) walled by `wall`, a diverged (NaN) cell in the middle: the ring of walls
    # closes a loop at `wall` that the diverged cell fills strictly later, whatever the scale
    Z = np.array([[0.0, wall, 0.0], [wall, np.nan, wall], [0.0, wall, 0.0]])
    d = surface_persistence(Z)
    H1 = d.diagram(1)
    assert H1.shape == (1, 2) and H1[0, 0] == wall and H1[0, 1] > wall
    np.testing.assert_array_equal(d.diagram(0), [[0.0, wall]] * 3 + [[0.0, np.inf]])


def _union_find_diagram(Z):
    """0-dimensional sublevel-set pairs of a grid of top cells (8-neighbours share a vertex),
    elder rule, zero-length pairs dropped: the brute-force reference."""
    n1, n2 = Z.shape
    parent, birth, pairs = {}, {}, []

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for v in sorted(set(Z.ravel().tolist())):
        cells = [k for k in range(Z.size) if Z.flat[k] == v]
        for k in cells:
            parent[k], birth[k] = k, v
        for k in cells:
            i, j = divmod(k, n2)
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    a, b = i + di, j + dj
                    if 0 <= a < n1 and 0 <= b < n2 and a * n2 + b in parent:
                        r1, r2 = find(k), find(a * n2 + b)
                        if r1 != r2:
                            young, old = (r1, r2) if birth[r1] > birth[r2] else (r2, r1)
                            pairs.append((birth[young], v))
                            parent[young] = old
    pairs += [(birth[r], np.inf) for r in {find(k) for k in parent}]
    return sorted(p for p in pairs if p[0] != p[1])


def test_surface_persistence_equals_union_find_with_ties_and_plateaus():
    rng = np.random.default_rng(12)
    for _ in range(300):
        Z = rng.choice([0.0, 0.5, 1.0, 2.0], size=tuple(rng.integers(2, 6, size=2)))
        got = sorted(map(tuple, surface_persistence(Z).diagram(0).tolist()))
        assert got == _union_find_diagram(Z)


# --- thresholds at ±inf / NaN: the same rule in level_set_graph and component_counts -------
def test_component_counts_takes_infinite_thresholds_like_level_set_graph():
    M = np.array([[0.1, np.inf, 0.4], [np.inf, 0.2, np.inf], [0.4, np.inf, 0.4]])
    lams = [-np.inf, 0.1, 0.4, np.inf]
    t, counts = component_counts(M, lams)
    assert counts.tolist() == [nx.number_connected_components(level_set_graph(M, lam))
                               for lam in lams] == [0, 1, 2, 2]
    for f in (lambda: component_counts(M, [0.1, np.nan]), lambda: level_set_graph(M, np.nan)):
        with pytest.raises(ValidationError, match="threshold"):
            f()


# --- pairwise_barriers: options of the strings refused before any work -------------------
@pytest.mark.parametrize("opts, word", [({"n_threads": 1}, "n_threads"),
                                        ({"threshold": 0.1}, "threshold"),
                                        ({"max_dept": 3}, "max_dept"),
                                        ([("lr", 0.1)], "list")])
def test_pairwise_barriers_refuses_dss_options_it_cannot_pass(opts, word):
    arch = Architecture(1, (2,), 1)
    X = np.linspace(-1, 1, 6)[:, None]
    nets = np.random.default_rng(0).standard_normal((3, arch.n_params))
    with pytest.raises(ValidationError, match=f"`dss_options`.*{word}"):
        pairwise_barriers(nets, X, np.abs(X), arch=arch, strings=True, threshold=0.1,
                          dss_options=opts, progress=False, n_threads=1)


# --- a saved string: strict JSON metadata -------------------------------------------------
def test_saved_string_metadata_is_strict_json(tmp_path):
    arch = Architecture(1, (1,), 1, hidden_bias=False, output_bias=False)
    X = np.array([[1.0], [2.0]])
    a = arch.pack([np.array([[1e100]]), np.array([[1e-100]])])     # both ends fit y = x,
    b = arch.pack([np.array([[1e-100]]), np.array([[1e100]])])     # the midpoint overflows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = dynamic_string_sampling(a, b, X, X, arch=arch, threshold=1.0, max_depth=0,
                                    progress=False, n_threads=1)[0]
    assert not s.connected and s.max_loss == np.inf
    path = s.save(tmp_path / "s.npz")
    with np.load(path) as f:
        meta = _strict(str(f["meta"]))         # was "max_loss": Infinity
    assert meta["max_loss"] is None and meta["verdict"] == s.verdict
    back = load_string(path)
    assert back.max_loss == np.inf and back.verdict == s.verdict
    np.testing.assert_array_equal(back.edge_max_loss, s.edge_max_loss)


# --- the string graph of a zero-length string ---------------------------------------------
def test_string_graph_normalized_length_agrees_with_the_bead_string():
    from topoanalysis.graphs import string_graph

    arch = Architecture(1, (2,), 1)
    X = np.linspace(-1, 1, 6)[:, None]
    theta = np.random.default_rng(1).standard_normal(arch.n_params)
    s = dynamic_string_sampling(theta, theta, X, np.abs(X), arch=arch, threshold=10.0,
                                progress=False, n_threads=1)[0]
    assert s.connected and s.normalized_length == 1.0
    assert s.graph().graph["normalized_length"] == 1.0            # was NaN
    loop = string_graph(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]), [0.0] * 3, [0.0] * 2)
    assert np.isnan(loop.graph["normalized_length"])


def test_persistence_to_dict_is_strict_json_with_an_infinite_minimum():
    M = np.array([[0.1, 0.5], [0.5, np.inf]])       # node losses from the diagonal
    d = minima_persistence(M)
    out = _strict(json.dumps(d.to_dict(), allow_nan=False))
    assert sorted(map(tuple, out["pairs"]["0"]), key=str) == [(0.1, None), (None, None)]


# --- every random thing takes a seed: the second direction of a straight string ----------
def test_string_slice_of_a_straight_string_takes_a_seed():
    from topoanalysis import Landscape
    from topoanalysis.levelsets import string_slice

    arch = Architecture(1, (3,), 1)
    X = np.linspace(-1, 1, 8)[:, None]
    land = Landscape(arch, X, np.abs(X))
    a, b = np.random.default_rng(2).standard_normal((2, arch.n_params))
    beads = np.stack([a, 0.5 * (a + b), b])                  # straight: no deviation
    s0, s1 = (string_slice(land, beads, n=3, seed=k, n_threads=1) for k in (0, 1))
    again = string_slice(land, beads, n=3, seed=1, n_threads=1)
    assert not np.array_equal(s0.directions[1], s1.directions[1])
    np.testing.assert_array_equal(s1.directions, again.directions)
    assert s1.info["seed"] == 1
    with pytest.raises(ValidationError, match="`seed`"):
        string_slice(land, beads, seed=-1)
