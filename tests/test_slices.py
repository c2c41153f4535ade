"""Slices of the loss landscape against a NumPy reference, their overlays, files and CLI."""

import json
import time

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape, Network, ShapeError, ValidationError
from topoanalysis.cli import main
from topoanalysis.levelsets import (LossSurface, filter_normalized_directions, loss_surface,
                                    pca_directions, pca_slice, plane_slice, random_slice,
                                    segment_slice, string_slice)


@pytest.fixture
def land():
    arch = Architecture(2, (6,), 1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    y = np.tanh(X[:, :1] - X[:, 1:])
    return Landscape(arch, X, y, "mse")


def _ref_loss(land, theta):
    return Network(land.arch, theta).loss(land.X, land.Y, "mse")


def test_filter_normalization_matches_the_rows_of_theta(land):
    net = Network.initialize(land.arch, seed=3)
    D = filter_normalized_directions(land, net, 3, seed=7)
    assert D.shape == (3, land.n_params)
    for d in D:
        for (W, b), (W0, _) in zip(land.arch.unpack(d), land.arch.unpack(net.params)):
            np.testing.assert_allclose(np.linalg.norm(W, axis=1), np.linalg.norm(W0, axis=1))
            if b is not None:
                assert not np.any(b)
    np.testing.assert_array_equal(D, filter_normalized_directions(land, net, 3, seed=7))
    assert not np.array_equal(D, filter_normalized_directions(land, net, 3, seed=8))
    Db = filter_normalized_directions(land, net, 1, seed=7, bias="filter")
    b = land.arch.unpack(Db[0])[0][1]
    np.testing.assert_allclose(np.abs(b), np.abs(net.biases[0]))


def test_grid_equals_the_numpy_reference_point_by_point(land):
    net = Network.initialize(land.arch, seed=1)
    s = random_slice(land, net, n=(7, 5), span=(-0.5, 1.5), seed=2)
    assert s.loss.shape == (7, 5) and s.dim == 2
    P = s.parameters()
    ref = np.array([_ref_loss(land, p) for p in P]).reshape(7, 5)
    np.testing.assert_allclose(s.loss, ref, rtol=1e-12)
    # the origin is on the grid when the span is symmetric and n odd
    s1 = random_slice(land, net, dim=1, n=9, span=2.0)
    assert s1.loss[4] == pytest.approx(land.loss(net), rel=1e-13)
    c, lmin = s1.minimum()
    assert lmin == np.nanmin(s1.loss)


def test_segment_equals_interpolate_and_the_plane_holds_its_three_networks(land):
    a, b, c = (Network.initialize(land.arch, seed=s) for s in range(3))
    seg = segment_slice(land, a, b, n=11, extend=0.0)
    ref = land.interpolate(a, b, n_points=11).loss[0]
    np.testing.assert_allclose(seg.loss, ref, rtol=1e-10)
    pl = plane_slice(land, a, b, c, n=9)
    D = pl.directions
    np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-12)
    for name, net in zip("abc", (a, b, c)):
        back = pl.origin + pl.points[name] @ D
        np.testing.assert_allclose(back, net.params, atol=1e-12)
        # the grid covers every network
        for j in range(2):
            assert pl.coords[j][0] < pl.points[name][j] < pl.coords[j][-1]
    np.testing.assert_allclose(pl.info["loss_points"], [land.loss(n) for n in (a, b, c)])
    with pytest.raises(ValidationError, match="must span a plane"):
        plane_slice(land, a, b, Network(land.arch, 2 * b.params - a.params))
    seg2 = segment_slice(land, a, b, n=5, width=0.5)
    assert seg2.loss.shape == (5, 5) and abs(seg2.directions[0] @ seg2.directions[1]) < 1e-9


def test_pca_of_a_planar_trajectory_is_exact(land):
    rng = np.random.default_rng(0)
    base = Network.initialize(land.arch, seed=0).params
    u, v = rng.standard_normal((2, land.n_params))
    t = np.linspace(0, 1, 20)
    T = base + np.outer(np.cos(3 * t), u) + np.outer(t ** 2, v)
    D, ev, C = pca_directions(T, 2)
    np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-12)
    assert ev.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(T[-1] + C @ D, T, atol=1e-10)
    s = pca_slice(land, T, n=11)
    assert s.kind == "pca" and s.paths["trajectory"].shape == (20, 2)
    np.testing.assert_allclose(s.paths["trajectory:loss"], [_ref_loss(land, p) for p in T],
                               rtol=1e-12)
    res = land.train(Network(land.arch, base), lr=0.05, steps=40, record_params=True,
                     record_every=4, progress=False)
    s2 = pca_slice(land, res, n=7)
    assert s2.loss.shape == (7, 7)
    assert 0 < s2.info["explained_variance"][0] <= 1


def test_string_slice_draws_a_planar_string_exactly(land):
    a, b = Network.initialize(land.arch, seed=0).params, Network.initialize(land.arch, seed=1).params
    w = np.random.default_rng(1).standard_normal(land.n_params)
    beads = np.stack([a, 0.5 * (a + b) + 0.3 * w, b])
    s = string_slice(land, beads, n=9)
    assert s.info["off_plane"] < 1e-10
    np.testing.assert_allclose(s.origin + s.paths["string"] @ s.directions, beads, atol=1e-10)
    assert s.info["n_beads"] == 1


def test_bad_input_is_one_clear_error(land):
    net = Network.initialize(land.arch, seed=0)
    with pytest.raises(ShapeError, match="`directions`"):
        loss_surface(land, net, np.ones((3, land.n_params)))
    with pytest.raises(ValidationError, match="`spans`"):
        loss_surface(land, net, np.ones((1, land.n_params)), spans=(1.0, -1.0))
    with pytest.raises(ValidationError, match="`landscape`"):
        random_slice(land.X, net)
    with pytest.raises(ValidationError, match="`theta`"):
        random_slice(land, Network.initialize(Architecture(2, (3,), 1), seed=0))
    with pytest.raises(ValidationError, match="`n`"):
        random_slice(land, net, n=1)
    with pytest.raises(ShapeError, match="`theta` must be one network"):
        random_slice(land, np.stack([net.params, net.params]))


def test_save_json_and_figures(land, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from topoanalysis.io import load_npz

    net = Network.initialize(land.arch, seed=0)
    s = random_slice(land, net, n=9)
    path = s.save(tmp_path / "s.npz")
    f = load_npz(path)
    np.testing.assert_array_equal(f["loss"], s.loss)
    assert str(f["format"]) == "topoanalysis.loss_surface.v1"
    json.dumps(s.to_dict(), allow_nan=False) if np.all(np.isfinite(s.loss)) else None
    for kind in ("contour", "surface"):
        assert s.plot(kind).axes
    assert random_slice(land, net, dim=1, n=9).plot().axes
    assert isinstance(s, LossSurface) and "random slice" in s.summary()


def test_a_101_by_101_grid_of_a_width_64_network_takes_seconds():
    from topoanalysis.datasets import load_breast_cancer

    ds = load_breast_cancer(seed=0)
    arch = Architecture(ds.X_train.shape[1], (64,), 1)
    land = Landscape(arch, ds.X_train, ds.y_train, "bce")
    net = Network.initialize(arch, seed=0)
    tic = time.perf_counter()
    s = random_slice(land, net, n=101)
    assert time.perf_counter() - tic < 30.0   # about 1.2 s on 2 cores
    assert s.loss.shape == (101, 101) and np.all(np.isfinite(s.loss))
    # spot check against the pure-NumPy loss
    P = s.parameters()
    for i in (0, 5100, 10200):
        assert s.loss.ravel()[i] == pytest.approx(
            Network(arch, P[i]).loss(land.X, land.Y, "bce"), rel=1e-10)


def test_cli_slice_writes_grid_json_and_figure(tmp_path, capsys):
    arch = Architecture(1, (8,), 1)
    paths = []
    for s in range(3):
        paths.append(str(Network.initialize(arch, seed=s).save(tmp_path / f"n{s}.npz")))
    for other, name in (([], "one"), (paths[1:2], "two"), (paths[1:], "three")):
        out = tmp_path / name
        rc = main(["slice", paths[0], *other, "--data",
                   "quadratic", "--n-samples", "100", "--grid-points", "11", "--out", str(out), "-q"])
        assert rc == 0
        for f in ("slice.npz", "slice.json"):
            assert (out / f).is_file()
        doc = json.loads((out / "slice.json").read_text())
        assert doc["kind"] == {"one": "random", "two": "segment", "three": "plane"}[name]
        assert np.array(doc["loss"]).shape == (11, 11)
        pytest.importorskip("matplotlib")
        assert (out / "slice.png").stat().st_size > 1000
    capsys.readouterr()
    rc = main(["slice", paths[0], str(tmp_path / "missing.npz"), "--data",
               "quadratic", "--out", str(tmp_path / "x")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "NET" in err and "missing.npz" in err and "Traceback" not in err
    rc = main(["slice", paths[0], "--other", str(tmp_path / "missing.npz"), "--data",
               "quadratic", "--out", str(tmp_path / "x2")])   # the old spelling still works
    assert rc == 2
    rc = main(["slice", *paths, "--dim", "1", "--data", "quadratic",
               "--out", str(tmp_path / "y")])
    assert rc == 2
