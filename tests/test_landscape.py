"""The one landscape object: same numbers as the loose signatures, data prepared once, and
no import circle between network.py, io.py and init.py."""

import ast
import pathlib
import pickle

import networkx as nx
import numpy as np
import pytest

from topoanalysis import Architecture, Landscape, Network, ValidationError
from topoanalysis.dynamics import (_engine, batch_loss_and_gradient, interpolate, path_losses,
                                   train)
from topoanalysis.landscape import as_landscape
from topoanalysis.levelsets import dynamic_string_sampling

PKG = pathlib.Path(__file__).resolve().parents[1] / "topoanalysis"


@pytest.fixture
def problem():
    arch = Architecture(2, (5,), 1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = np.sin(X[:, :1]) * X[:, 1:]
    nets = [Network.initialize(arch, seed=s) for s in range(4)]
    return arch, X, y, nets


def test_loss_and_gradient_match_the_engine_and_numpy(problem):
    arch, X, y, nets = problem
    land = Landscape(arch, X, y, "mse")
    L, G = batch_loss_and_gradient(nets, X, y, loss="mse")
    L2, G2 = land.loss_and_gradient(nets)
    np.testing.assert_array_equal(L, L2)
    np.testing.assert_array_equal(G, G2)
    np.testing.assert_array_equal(land.loss(np.array([n.params for n in nets]) ), L)
    assert isinstance(land.loss(nets[0]), float)
    assert land.loss(nets[1].params) == pytest.approx(nets[1].loss(X, y), rel=1e-13)
    assert land.gradient(nets[2]).shape == (arch.n_params,)
    assert land.forward(nets[0]).shape == (1, 40, 1)


def test_train_interpolate_paths_are_bit_identical_to_the_loose_calls(problem):
    arch, X, y, nets = problem
    land = Landscape(arch, X, y, "mse")
    kw = dict(optimizer="adam", lr=1e-2, steps=50, progress=False)
    a, b = train(nets, X, y, **kw), land.train(nets, **kw)
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.loss, b.loss)
    i1 = interpolate(nets[0], nets[1:], X, y, n_points=7)
    i2 = land.interpolate(nets[0], nets[1:], n_points=7)
    np.testing.assert_array_equal(i1.loss, i2.loss)
    p1 = path_losses(nets, X, y, points_per_edge=4)
    p2 = land.path_losses(nets, points_per_edge=4)
    np.testing.assert_array_equal(p1.loss, p2.loss)
    bar = land.interpolation_barrier(nets[0], nets[1], n_points=5)
    assert bar.barrier.shape == (1,)


def test_dss_with_a_landscape_equals_the_loose_call_and_blocks_the_data_once(problem, monkeypatch):
    arch = Architecture(2, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = X @ [[1.0], [-2.0]]
    a = arch.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
    b = arch.pack([np.array([[1.1, -2.2]]), np.array([[1 / 1.1]])])
    kw = dict(threshold=1e-6, lr=1e-2, progress=False)
    loose = dynamic_string_sampling(a, b, X, y, arch=arch, **kw)
    calls = []
    real = _engine.block_data
    monkeypatch.setattr(_engine, "block_data", lambda *a_: calls.append(1) or real(*a_))
    for method in ("greedy", "constrained"):
        calls.clear()
        res = dynamic_string_sampling(a, b, X, y, arch=arch, method=method, **kw)
        # one preparation for the whole run (before: one per engine call, and one per Adam
        # step of the penalized variants)
        assert len(calls) == 1, (method, len(calls))
        assert res.engine_calls["interpolate"] >= 3
    land = Landscape(arch, X, y)
    calls.clear()
    vialand = dynamic_string_sampling(a, b, land, **kw)
    assert len(calls) == 0
    np.testing.assert_array_equal(loose[0].beads, vialand[0].beads)
    assert vialand.settings["loss"] == "mse"


def test_classify_accepts_a_landscape():
    from topoanalysis.critical import classify

    X, y = np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]])
    fit = Network.from_weights([np.array([[1.0]]), np.array([[1.0]])])
    land = Landscape(fit.arch, X, y)
    assert classify(fit, land).verdict == classify(fit, X, y).verdict == "local minimum"
    with pytest.raises(ValidationError, match="`loss`"):
        classify(fit, land, loss="bce")


def test_landscape_refuses_bad_input(problem):
    arch, X, y, nets = problem
    with pytest.raises(ValidationError, match="`arch`"):
        Landscape("2-5-1", X, y)
    with pytest.raises(ValidationError, match="`dtype`"):
        Landscape(arch, X, y, dtype="float16")
    with pytest.raises(ValidationError, match="`X`"):
        Landscape(arch, X[:, :1], y)
    land = Landscape(arch, X, y)
    with pytest.raises(ValidationError, match="`theta`"):
        land.loss(Network.initialize(Architecture(2, (3,), 1), seed=0))
    with pytest.raises(ValidationError, match="`X` is fixed"):
        land.train(nets, X=X, lr=0.1, steps=1)
    with pytest.raises(ValidationError, match="`y` must be None"):
        as_landscape(land, y)
    with pytest.raises(ValidationError, match="`arch` must be None or"):
        as_landscape(land, None, Architecture(2, (3,), 1))
    with pytest.raises(ValidationError, match="`y` must be given"):
        as_landscape(X, None, arch)
    with pytest.raises(ValueError):
        land.X[0, 0] = 1.0   # read-only: a landscape never changes under its users
    X[0, 0] += 1.0           # ... and the caller's arrays stay the caller's
    assert land.X[0, 0] != X[0, 0]


def test_landscape_pickles_and_reports(problem):
    arch, X, y, nets = problem
    land = Landscape(arch, X, y, "l1")
    back = pickle.loads(pickle.dumps(land))
    assert back.loss(nets[0]) == land.loss(nets[0])
    assert land.to_dict()["loss"] == "l1" and "40 samples" in land.summary()
    assert "Landscape(" in repr(land)


# --- import circles ----------------------------------------------------------------------
def _imports(path, modname):
    """Package-internal modules imported anywhere in ``path`` (function-level imports too)."""
    tree = ast.parse(path.read_text())
    pkg = modname.rsplit(".", 1)[0] if not path.name == "__init__.py" else modname
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("topoanalysis"):
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.add(full if (PKG.parent / (full.replace(".", "/") + ".py")).exists()
                        or (PKG.parent / full.replace(".", "/")).is_dir() else target)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("topoanalysis")}
    return out


def import_graph():
    g = nx.DiGraph()
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        g.add_node(name)
        for t in _imports(path, name):
            if t != name:
                g.add_edge(name, t)
    return g


def test_network_io_init_are_in_no_import_circle():
    g = import_graph()
    core = {"topoanalysis.network", "topoanalysis.io", "topoanalysis.init",
            "topoanalysis._files", "topoanalysis.landscape"}
    for cycle in nx.simple_cycles(g.subgraph(n for n in g if not n.endswith("topoanalysis"))):
        assert not core & set(cycle), f"import circle: {' -> '.join(cycle)}"
    assert not nx.has_path(g, "topoanalysis.network", "topoanalysis.io")
    assert not nx.has_path(g, "topoanalysis.init", "topoanalysis.network")


def test_float32_landscape_uses_the_float32_engine_or_says_it_is_missing(problem):
    from topoanalysis import NotSupportedError
    from topoanalysis.landscape import _takes_dtype

    arch, X, y, nets = problem
    land = Landscape(arch, X, y, "mse", dtype="float32")
    assert land.dtype == "float32"
    if not _takes_dtype(train):
        with pytest.raises(NotSupportedError, match="float32"):
            land.train(nets, lr=0.1, steps=5, progress=False)
        return
    r32 = land.train(nets, lr=0.1, steps=5, progress=False)
    r64 = Landscape(arch, X, y, "mse").train(nets, lr=0.1, steps=5, progress=False)
    np.testing.assert_allclose(r32.final_loss, r64.final_loss, rtol=1e-4)


def test_pairwise_and_aligned_barriers_accept_a_landscape(problem, monkeypatch):
    from topoanalysis.levelsets import aligned_barriers, pairwise_barriers

    arch, X, y, nets = problem
    loose = pairwise_barriers(nets, X, y, align=True, n_points=11, progress=False)
    land = Landscape(arch, X, y)
    calls = []
    real = _engine.block_data
    monkeypatch.setattr(_engine, "block_data", lambda *a_: calls.append(1) or real(*a_))
    via = pairwise_barriers(nets, land, align=True, n_points=11, progress=False)
    assert calls == []
    np.testing.assert_array_equal(loose.linear_max, via.linear_max)
    np.testing.assert_array_equal(loose.aligned_max, via.aligned_max)
    assert via.loss_name == "mse"
    a1 = aligned_barriers(nets[0], nets[1:], X, y, n_points=11)
    a2 = aligned_barriers(nets[0], nets[1:], land, n_points=11)
    np.testing.assert_array_equal(a1.barrier_aligned, a2.barrier_aligned)


def test_float32_landscape_refuses_networks_without_float32_kernels():
    """A float32 landscape evaluates in float32 or refuses at construction: a deep network
    used to evaluate silently in float64 (found in the session-3 freeman2 work)."""
    from topoanalysis.exceptions import NotSupportedError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    with pytest.raises(NotSupportedError, match="float32"):
        Landscape(Architecture(3, (4, 4), 1), X, X[:, 0], "mse", "float32")
    with pytest.raises(NotSupportedError, match="float32"):
        Landscape(Architecture(3, (4,), 1, activation="tanh"), X, X[:, 0], "mse", "float32")
    land = Landscape(Architecture(3, (4,), 1), X, X[:, 0], "mse", "float32")
    assert land._f32()
