"""Sublevel-set persistence (gudhi): of a sampled slice, of the graph of minima, and the merge
tree of the barrier matrix against the level-set layer's disconnectivity tree."""

import numpy as np
import pytest

gudhi = pytest.importorskip("gudhi")

from topoanalysis import ValidationError  # noqa: E402
from topoanalysis.graphs import disconnectivity_tree, minimax_levels  # noqa: E402
from topoanalysis.levelsets import (merge_tree, minima_persistence,  # noqa: E402
                                    surface_persistence)


def _random_barriers(n, seed, gaps=False):
    rng = np.random.default_rng(seed)
    loss = rng.uniform(0.0, 1.0, n)
    M = rng.uniform(0.5, 3.0, (n, n))
    M = np.maximum(M, M.T)
    M = np.maximum(M, np.maximum.outer(loss, loss))
    np.fill_diagonal(M, loss)
    if gaps:   # two groups joined by no known path
        M[: n // 2, n // 2:] = np.inf
        M[n // 2:, : n // 2] = np.inf
    return M, loss


def _signature(T):
    return sorted((round(d["level"], 12), d["members"]) for _, d in T.nodes(data=True))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gaps", [False, True])
def test_merge_tree_of_the_barrier_matrix_equals_the_disconnectivity_tree(seed, gaps):
    M, loss = _random_barriers(9, seed, gaps)
    T = merge_tree(M)
    D = disconnectivity_tree(M)
    assert _signature(T) == _signature(D)
    assert T.nodes[T.graph["root"]]["members"] == D.nodes[D.graph["root"]]["members"]
    # parent of every minimum: the first merge it takes part in, at the same level
    for i in range(9):
        (pt,), (pd,) = T.predecessors(("min", i)), D.predecessors(("min", i))
        assert T.nodes[pt]["level"] == D.nodes[pd]["level"]
        assert T.nodes[pt]["members"] == D.nodes[pd]["members"]


def test_minima_persistence_is_the_elder_rule_of_the_merges():
    M, loss = _random_barriers(8, 3)
    d = minima_persistence(M)
    P = d.diagram(0)
    assert P.shape == (8, 2)
    assert np.sum(~np.isfinite(P[:, 1])) == 1               # one group: one essential class
    assert P[~np.isfinite(P[:, 1]), 0][0] == loss.min()      # born at the deepest minimum
    # births are the losses; deaths are the merge levels of the disconnectivity tree
    np.testing.assert_allclose(np.sort(P[:, 0]), np.sort(loss))
    D = disconnectivity_tree(M)
    merges = sorted(dd["level"] for _, dd in D.nodes(data=True) if dd["kind"] == "merge")
    np.testing.assert_allclose(np.sort(P[np.isfinite(P[:, 1]), 1]), merges)
    # a minimum dies at the minimax level to the nearest deeper minimum
    L = minimax_levels(M)
    for b, dth in P[np.isfinite(P[:, 1])]:
        i = int(np.flatnonzero(loss == b)[0])
        deeper = loss < loss[i]
        assert dth == pytest.approx(L[i, deeper].min())
    assert "graph of minima" in d.summary() and d.to_dict()["pairs"]["0"]


def test_minima_persistence_of_a_barrier_matrix_object():
    from topoanalysis import Architecture, Network
    from topoanalysis.levelsets import pairwise_barriers

    arch = Architecture(1, (3,), 1)
    X = np.linspace(-1, 1, 20)[:, None]
    y = np.abs(X)
    nets = [Network.initialize(arch, seed=s) for s in range(4)]
    bm = pairwise_barriers(nets, X, y, n_points=11)
    T, D = merge_tree(bm), bm.disconnectivity_tree()
    assert _signature(T) == _signature(D)
    assert minima_persistence(bm).diagram(0).shape == (4, 2)
    with pytest.raises(ValidationError, match="`node_loss`"):
        minima_persistence(bm, node_loss=np.zeros(4))


def test_surface_persistence_counts_basins_and_loops():
    x = np.linspace(-3, 3, 61)
    X, Y = np.meshgrid(x, x, indexing="ij")
    # three wells of depths 0, 0.3, 0.6
    Z = np.minimum.reduce([(X - 1.5) ** 2 + Y ** 2, (X + 1.5) ** 2 + Y ** 2 + 0.3,
                           X ** 2 + (Y - 2) ** 2 + 0.6])
    d = surface_persistence(Z)
    assert d.n_features(0, min_persistence=0.2) == 3
    births = np.sort(d.diagram(0)[:, 0])[:3]
    np.testing.assert_allclose(births, [0.0, 0.3, 0.6], atol=0.01)
    # a ring of low loss: one loop
    R = (np.sqrt(X ** 2 + Y ** 2) - 2) ** 2
    assert surface_persistence(R).n_features(1, min_persistence=1.0) == 1
    # NaN (diverged) cells are tolerated; a 1-D grid is refused
    Z2 = Z.copy()
    Z2[0, 0] = np.nan
    assert surface_persistence(Z2).n_features(0, 0.2) == 3
    with pytest.raises(ValidationError, match="2-D"):
        surface_persistence(Z[0])


def test_persistence_of_a_slice_and_its_figure():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from topoanalysis import Architecture, Landscape, Network
    from topoanalysis.levelsets import random_slice

    arch = Architecture(1, (4,), 1)
    X = np.linspace(-1, 1, 30)[:, None]
    land = Landscape(arch, X, np.abs(X))
    s = random_slice(land, Network.initialize(arch, seed=0), n=15)
    d = surface_persistence(s)
    assert d.info["kind"] == "random" and d.n_features(0) >= 1
    assert d.plot().axes
