"""Audit of session 14 of the level-set layer against independent oracles: level-set graphs
and trees against a brute-force union-find (``-inf`` path maxima, no minima at all), slices
against a direct NumPy evaluation (spans near the float64 range, zero and parallel
directions), the ``slice`` command's messages, and the height of a nudged elastic band
against the exact lowest barrier of ``L(v, w) = (v w − 1)²``."""

import warnings

import networkx as nx
import numpy as np
import pytest

from topoanalysis import Architecture, Landscape, ValidationError
from topoanalysis.graphs import (component_counts, disconnectivity_tree, level_set_graph,
                                 minimax_levels)
from topoanalysis.levelsets import minimum_energy_path
from topoanalysis.levelsets.slices import loss_surface, random_slice


# --- level-set graphs: brute force against Kruskal ----------------------------------------
def _brute_counts(M, loss, thresholds):
    """Components of the level set at each threshold: minima at or below it, joined by the
    known paths at or below it (union-find on the definition)."""
    out = []
    for lam in thresholds:
        keep = [i for i in range(len(loss)) if loss[i] <= lam]
        G = nx.Graph()
        G.add_nodes_from(keep)
        G.add_edges_from((i, j) for i in keep for j in keep
                         if i < j and np.isfinite(M[i, j]) and M[i, j] <= lam)
        out.append(nx.number_connected_components(G))
    return out


def test_level_set_counts_agree_with_brute_force_on_random_barrier_matrices():
    rng = np.random.default_rng(14)
    for _ in range(60):
        n = int(rng.integers(1, 6))
        M = rng.integers(0, 5, (n, n)).astype(float)
        M = np.maximum(M, M.T)
        hole = rng.random((n, n)) < 0.3
        M[hole | hole.T] = np.inf
        np.fill_diagonal(M, rng.integers(0, 3, n))
        loss = np.diag(M).copy()
        ts = np.unique(np.concatenate([loss, M.ravel(), [np.inf, -1.0]]))
        assert component_counts(M, ts)[1].tolist() == _brute_counts(M, loss, ts)
        assert [nx.number_connected_components(level_set_graph(M, t)) for t in ts] == \
            _brute_counts(M, loss, ts)


@pytest.mark.parametrize("M", [
    np.array([[0.0, -np.inf], [-np.inf, 1.0]]),      # a "path" below every loss
    np.array([[-np.inf, 1.0], [1.0, 0.0]]),          # a minimum of loss -inf
])
def test_path_max_of_minus_infinity_is_refused(M):
    # before: level_set_graph dropped the -inf edge (not finite) while Kruskal joined the two
    # minima at max(-inf, L_i, L_j): at threshold 1, 2 components against 1
    for f in (lambda: level_set_graph(M, 1.0), lambda: component_counts(M),
              lambda: disconnectivity_tree(M), lambda: minimax_levels(M)):
        with pytest.raises(ValidationError, match="path_max.*-inf"):
            f()


def test_trees_of_no_minima_are_refused_in_one_line():
    # before: IndexError from the leaf order of a virtual root without children
    with pytest.raises(ValidationError, match="path_max.*at least one minimum"):
        disconnectivity_tree(np.zeros((0, 0)))
    pytest.importorskip("gudhi")
    from topoanalysis.levelsets import merge_tree

    with pytest.raises(ValidationError, match="path_max.*at least one minimum"):
        merge_tree(np.zeros((0, 0)))


# --- slices against NumPy -----------------------------------------------------------------
ARCH = Architecture(3, (4,), 2, hidden_bias=False, output_bias=False)
_rng = np.random.default_rng(0)
X = _rng.standard_normal((7, 3))
Y = _rng.standard_normal((7, 2))
LAND = Landscape(ARCH, X, Y, "mse")
THETA = _rng.standard_normal(ARCH.n_params)
D = _rng.standard_normal((2, ARCH.n_params))


def _numpy_loss(theta):
    (W1, _), (W2, _) = ARCH.unpack(theta)
    return float(np.mean((np.maximum(X @ W1.T, 0.0) @ W2.T - Y) ** 2))


def test_grid_of_vector_outputs_without_biases_equals_numpy():
    s = loss_surface(LAND, THETA, D, spans=[(-1.0, 2.0), (0.0, 3.0)], n=[3, 4])
    ref = np.array([_numpy_loss(THETA + a * D[0] + b * D[1])
                    for a in s.coords[0] for b in s.coords[1]]).reshape(3, 4)
    np.testing.assert_allclose(s.loss, ref, rtol=1e-13)


@pytest.mark.parametrize("span", [1e308, (-1.7e308, 1.7e308)])
def test_spans_near_the_float64_range_keep_their_grid(span):
    # before: linspace overflowed (hi − lo = inf) and the NaN coordinates reached the engine,
    # which refused "`theta` must contain only finite numbers" (a parameter the caller never
    # named), with RuntimeWarnings on the way
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = loss_surface(LAND, THETA, D[:1], spans=span, n=3)
    lo, hi = (-span, span) if np.ndim(span) == 0 else span
    assert s.coords[0].tolist() == [lo, 0.0, hi]
    assert s.loss[1] == LAND.loss(THETA)                 # the origin itself
    assert np.isnan(s.loss[0]) and np.isnan(s.loss[2])   # parameters beyond float64
    assert s.info["non_finite_points"] == 2


def test_far_grid_points_whose_parameters_overflow_are_nan_not_an_error():
    big = np.full((2, ARCH.n_params), 1e300)
    big[1, ::2] = -1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = loss_surface(LAND, THETA, big, spans=(1e8, 1e8), n=3)
    assert np.isfinite(s.loss[1, 1]) and s.loss[1, 1] == LAND.loss(THETA)
    assert np.isnan(s.loss[0, 0]) and s.info["non_finite_points"] >= 1


def test_zero_and_parallel_directions_are_refused_exactly():
    zero = np.zeros(ARCH.n_params)
    with pytest.raises(ValidationError, match="directions.*zero"):
        loss_surface(LAND, THETA, zero[None])
    with pytest.raises(ValidationError, match="directions.*zero"):
        loss_surface(LAND, THETA, np.stack([D[0], zero]))
    for k in (2.0, -0.5, 2.0 ** -40):                 # exact multiples (powers of two)
        with pytest.raises(ValidationError, match="directions.*parallel"):
            loss_surface(LAND, THETA, np.stack([D[0], k * D[0]]))
    # one ulp off parallel in one entry is a plane (decided exactly, not by a cosine)
    near = 2.0 * D[0]
    near[5] = np.nextafter(near[5], np.inf)
    s = loss_surface(LAND, THETA, np.stack([D[0], near]), n=3)
    assert s.loss.shape == (3, 3)
    # the zero network: its filter-normalized directions are zero
    with pytest.raises(ValidationError, match="theta.*directions.*zero"):
        random_slice(LAND, np.zeros(ARCH.n_params), n=3)
    # one weight per filter: the two directions are ± the same vector for some seeds
    tiny = Landscape(NEB_ARCH, np.array([[1.0]]), np.array([[1.0]]), "mse")
    verdicts = set()
    for seed in range(8):
        try:
            random_slice(tiny, np.array([1.0, 2.0]), n=3, seed=seed)
            verdicts.add("plane")
        except ValidationError as exc:
            assert "`theta`" in str(exc) and f"parallel for seed {seed}" in str(exc)
            verdicts.add("parallel")
    assert verdicts == {"plane", "parallel"}


# --- the slice command --------------------------------------------------------------------
@pytest.fixture(scope="module")
def nets(tmp_path_factory):
    from topoanalysis import Network

    d = tmp_path_factory.mktemp("nets")
    arch = Architecture(2, (3,), 1)
    paths = []
    for i in range(2):
        paths.append(str(d / f"n{i}.npz"))
        Network.initialize(arch, seed=i).save(paths[-1])
    data = str(d / "data.npz")
    np.savez(data, X=_rng.standard_normal((10, 2)), y=_rng.standard_normal((10, 1)))
    return paths, data


@pytest.mark.parametrize("extra, word", [
    (["--grid-points", "1"], "--grid-points"),
    (["--margin", "-0.2"], "--margin"),
])
def test_slice_command_names_its_own_option(nets, tmp_path, capsys, extra, word):
    from topoanalysis.cli import main

    paths, data = nets
    assert main(["slice", *paths, "--data", data, "--out", str(tmp_path / "o"), "-q",
                 *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"`{word}`" in err, err


# --- nudged elastic band: L(v, w) = (v w − 1)², lowest barrier exactly 1 -------------------
NEB_ARCH = Architecture(1, (1,), 1, activation="linear", hidden_bias=False,
                        output_bias=False)
NEB_LAND = Landscape(NEB_ARCH, np.array([[1.0]]), np.array([[1.0]]), "mse")


def test_band_height_is_a_grid_value_and_height_upper_a_proven_bound():
    # every path from (1, 1) to (-1, -1) crosses an axis, where v w = 0 and L = 1, and the
    # path through the origin stays at or below 1: the lowest barrier is exactly 1. The
    # straight band is already optimal; with an even grid per piece the grid misses the
    # origin, so `height` (a grid maximum) is below 1; `height_upper` is proven above it.
    p = minimum_energy_path(np.array([1.0, 1.0]), np.array([-1.0, -1.0]), NEB_LAND,
                            n_images=3, steps=0, points_per_edge=10, bounds=True)
    assert p.height < 1.0                      # a lower bound of the path's maximum
    assert p.height_upper >= 1.0               # proven: no path is lower than 1
    assert p.height_upper <= 1.0 + 1e-4        # and close on this path (through the origin)
    assert p.to_dict()["height_upper"] == p.height_upper
    assert "proven" in p.summary()
    q = minimum_energy_path(np.array([1.0, 1.0]), np.array([-1.0, -1.0]), NEB_LAND,
                            n_images=3, steps=0, points_per_edge=10)
    assert q.height_upper is None and q.to_dict()["height_upper"] is None
    # a relaxed band from asymmetric ends: the climbing image settles on the axis
    r = minimum_energy_path(np.array([2.0, 0.5]), np.array([-0.5, -2.0]), NEB_LAND,
                            n_images=8, steps=3000, lr=1e-2, bounds=True)
    assert 1.0 - 1e-9 <= r.height <= r.height_upper <= 1.0 + 1e-3


def test_straight_string_from_the_zero_network_is_refused_in_one_line():
    # before: 0/0 in NumPy (RuntimeWarning) and a refusal of `directions`, never passed
    from topoanalysis.levelsets.slices import string_slice

    B = _rng.standard_normal(ARCH.n_params)
    beads = np.stack([np.zeros(ARCH.n_params), 0.5 * B, B])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match="string.*orthogonal"):
            string_slice(LAND, beads, n=3)


def test_persistence_of_a_minimum_of_infinite_loss_is_essential():
    pytest.importorskip("gudhi")
    from topoanalysis.levelsets import minima_persistence

    # minimum 0 has loss inf (the diagonal, no node_loss): born and never dead, (inf, inf);
    # its lifetime was inf − inf = NaN, so n_features(0) said 1 while summary said 2
    # essential classes and component_counts(M, [inf]) counts 2 groups
    M = np.array([[np.inf, 1.0], [1.0, 0.0]])
    d = minima_persistence(M)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert d.persistence(0).tolist() == [np.inf, np.inf]
        assert d.n_features(0) == 2 == component_counts(M, [np.inf])[1][0]
    assert "2 essential" in d.summary()


def test_band_that_diverges_stops_at_finite_images_with_one_warning():
    # before: the images became NaN and the engine refused "`theta` must contain only finite
    # numbers" after a cascade of RuntimeWarnings
    from topoanalysis.exceptions import DivergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = minimum_energy_path(np.array([2.0, 0.5]), np.array([-0.5, -2.0]), NEB_LAND,
                                n_images=4, steps=20, lr=1e300)
    kinds = {type(w.message) for w in caught}
    assert RuntimeWarning not in {k for k in kinds if not issubclass(k, DivergenceWarning)}
    assert any("band diverged" in str(w.message) for w in caught)
    assert np.all(np.isfinite(p.images)) and not p.converged
    assert p.settings["diverged_at_step"] is not None and p.steps <= 20


# --- symmetry: a copy rescaled by powers of two comes back exactly -------------------------
@pytest.mark.parametrize("scale", [3e149, 9e-151])
def test_align_brings_back_power_of_two_copies_across_the_norm_switch(scale):
    # `align` promises distance_after exactly 0 for rescalings by powers of two; the norms of
    # the neurons switched formula at entries of 1e150 (and 1e-150), and a neuron rescaled
    # across the switch got a norm that was not 2^k times the original's: distance ~1e-16
    # relative, in about half of these draws
    from topoanalysis import Network
    from topoanalysis.symmetry import align

    rng = np.random.default_rng(5)
    arch = Architecture(3, (3,), 2)
    for _ in range(20):
        net = Network(arch, rng.standard_normal(arch.n_params) * scale)
        copy = net.rescale_neurons(2.0 ** rng.integers(-12, 13, 3)).permute_neurons(
            rng.permutation(3))
        assert align(net, copy).distance_after == 0.0


def test_slices_near_the_float64_range_can_be_drawn():
    # before: matplotlib failed on its ticks ("arange: cannot compute length", or a singular
    # matrix in 3-D) for coordinates or losses near 1e308; they are drawn scaled by 2^k
    pytest.importorskip("matplotlib")
    import dataclasses

    import matplotlib.pyplot as plt

    s1 = loss_surface(LAND, THETA, D[:1], spans=1e308, n=3)
    s2 = loss_surface(LAND, THETA, D, spans=(1e308, 1.0), n=3)
    huge = dataclasses.replace(s2, loss=np.linspace(1e307, 1.7e308, 9).reshape(3, 3))
    for s, kinds in ((s1, ("contour",)), (s2, ("contour", "surface")),
                     (huge, ("contour", "surface"))):
        for kind in kinds:
            fig = s.plot(kind, log=False)
            fig.canvas.draw()
            plt.close(fig)
    fig = huge.plot("contour", log=False)
    assert "2^1024" in fig.axes[-1].get_ylabel()      # the colour bar names the scale
    plt.close(fig)
