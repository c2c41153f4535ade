"""Level sets and paths between minima: DSS, alignment, kernel, disconnectivity trees."""

import itertools

import networkx as nx
import numpy as np
import pytest
import sympy as sp

from topoanalysis import Architecture, Network, ValidationError
from topoanalysis.datasets import cyclic_permutation_task
from topoanalysis.dynamics import path_losses
from topoanalysis.graphs import (
    component_counts,
    disconnectivity_tree,
    level_set_graph,
    minimax_levels,
    string_graph,
)
from topoanalysis.levelsets import (
    BeadString,
    aligned_barriers,
    check_proposition_2_3,
    check_relu_kernel,
    dynamic_string_sampling,
    load_string,
    pairwise_barriers,
    proposition_2_3_terms,
    relu_kernel,
    relu_kernel_derivation,
    train_to_threshold,
)


# --- convex control -------------------------------------------------------------------------
def _convex_pair(seed=0):
    """Linear network with a shared first layer: the loss is a convex quadratic of the
    output layer, so the segment between two such points never rises above its ends."""
    rng = np.random.default_rng(seed)
    arch = Architecture(3, (4,), 1, activation="linear")
    X = rng.standard_normal((60, 3))
    y = X @ np.array([[1.0], [-0.5], [2.0]]) + 0.3
    W1, b1 = rng.standard_normal((4, 3)), rng.standard_normal(4)
    H = np.column_stack([X @ W1.T + b1, np.ones(60)])
    coef = np.linalg.lstsq(H, y, rcond=None)[0][:, 0]
    ends = []
    for _ in range(2):
        c = coef + 0.05 * rng.standard_normal(5)
        ends.append(arch.pack([W1, c[None, :4]], [b1, c[4:]]))
    return arch, X, y, np.array(ends)


@pytest.mark.parametrize("method", ["greedy", "constrained", "breadth_first"])
def test_convex_control_connects_straight(method):
    arch, X, y, (a, b) = _convex_pair()
    la, lb = (Network(arch, p).loss(X, y) for p in (a, b))
    res = dynamic_string_sampling(a, b, X, y, arch=arch, threshold=max(la, lb), method=method,
                                  progress=False)
    s = res[0]
    assert s.connected and s.verdict == "connected"
    assert s.n_beads <= 1
    assert s.normalized_length == pytest.approx(1.0, abs=1e-6)
    # the certificate: the straight piece never exceeds the accept level
    pl = path_losses(s.beads, X, y, arch=arch, points_per_edge=101)
    assert pl.max_loss[0] < s.accept_level


def _nonconvex_pairs():
    from topoanalysis.datasets import polynomial_regression

    ds = polynomial_regression("quadratic", n_samples=200, seed=0)
    arch = Architecture(1, (4, 4), 1, activation="sigmoid")
    tr = train_to_threshold(arch, ds.X, ds.y, 4, 0.02, loss="l1", lr=1e-2, steps=20000, seed=1)
    assert tr.reached_target.all()
    return arch, ds, tr.params


def test_dss_batched_certificate_and_engine_calls():
    arch, ds, P = _nonconvex_pairs()
    res = dynamic_string_sampling(P[:2], P[2:], ds.X, ds.y, arch=arch, loss="l1",
                                  threshold=0.02, lr=1e-2, steps=3000, progress=False)
    # one interpolate and one train call per round, shared by both pairs
    assert res.engine_calls["train"] <= res.rounds
    assert res.engine_calls["interpolate"] == res.rounds + 2
    for s in res.strings:
        pl = path_losses(s.beads, ds.X, ds.y, arch=arch, loss="l1", points_per_edge=100)
        assert np.allclose(pl.loss.max(axis=2)[0], s.edge_max_loss)
        assert s.connected == bool(np.all(pl.loss.max(axis=2) < s.accept_level))
        assert s.normalized_length >= 1.0
        # interior beads were trained to (at most) 0.95 L0 when connected
        if s.connected and s.n_beads:
            assert np.all(s.bead_loss[1:-1] <= 0.95 * 0.02 + 1e-12)
        G = s.graph()
        assert nx.is_path_graph(G) if hasattr(nx, "is_path_graph") else G.number_of_edges() == \
            G.number_of_nodes() - 1
        assert G.number_of_nodes() == s.n_beads + 2
        assert G.graph["normalized_length"] == pytest.approx(s.normalized_length)


def test_penalized_adam_without_penalty_is_engine_adam():
    """The penalized trainer of the constrained variants is the engine's Adam (one
    implementation, issue #20): with zero penalties it is bit for bit the plain run."""
    from topoanalysis.dynamics import train
    from topoanalysis.levelsets.strings import _penalized_adam

    arch, ds, P = _nonconvex_pairs()
    start = 0.5 * (P[:2] + P[2:])
    ref = train(start, ds.X, ds.y, arch=arch, loss="l1", optimizer="adam", lr=1e-2, steps=300,
                target_loss=0.019, record_conserved=False, progress=False)
    got, loss, steps, reached, _ = _penalized_adam(start, P[:2], P[2:], ds.X, ds.y, arch, "l1",
                                                   lr=1e-2, steps=300, spring=0.0, plane=0.0,
                                                   target=0.019)
    assert np.array_equal(got, ref.params)
    assert np.array_equal(loss, ref.final_loss)
    assert np.array_equal(steps, ref.steps_taken) and np.array_equal(reached, ref.reached_target)


def _numpy_penalized(theta, left, right, X, y, arch, loss, *, lr, steps, spring, plane,
                     dtype=np.float64, optimizer="adam", betas=(0.9, 0.999), eps=1e-8,
                     want_loss=False):
    """Plain NumPy reference: gradient descent or PyTorch's Adam on the penalized loss of a
    one-hidden-layer ReLU network with the MSE, every operation in ``dtype``."""
    Xd, Yd = X.astype(dtype), np.asarray(y, dtype).reshape(-1, 1)
    (sw1, sb1), (sw2, sb2) = arch.layer_slices
    width, n_in = arch.layer_shape(0)

    def loss_and_grad(th):
        Z = Xd @ th[sw1].reshape(width, n_in).T + th[sb1]
        H = np.maximum(Z, dtype(0))
        r = H @ th[sw2].reshape(1, width).T + th[sb2] - Yd
        g = dtype(2) * r / dtype(len(Xd))
        grad = np.zeros_like(th)
        grad[sw2] = (g.T @ H).ravel()
        grad[sb2] = g.sum(axis=0)
        D = (g @ th[sw2].reshape(1, width)) * (Z > 0)
        grad[sw1] = (D.T @ Xd).ravel()
        grad[sb1] = D.sum(axis=0)
        return float(np.mean(r.astype(np.float64) ** 2)), grad
    theta = np.array(theta, dtype=dtype)
    left, right = left.astype(np.float64), right.astype(np.float64)
    mid = (0.5 * left + 0.5 * right).astype(dtype)
    u = right - left
    u = (u / np.linalg.norm(u, axis=1, keepdims=True)).astype(dtype)
    if want_loss:
        return np.array([loss_and_grad(th)[0] for th in theta])
    m1, m2 = np.zeros_like(theta), np.zeros_like(theta)
    b1, b2 = betas
    for t in range(steps):
        G = np.array([loss_and_grad(th)[1] for th in theta], dtype=dtype)
        d = theta - mid
        proj = np.einsum("ij,ij->i", d, u).astype(dtype) * dtype(plane)
        G = G + (dtype(2.0 * spring) * d + proj[:, None] * u)
        if optimizer == "gd":
            theta = theta - dtype(lr) * G
            continue
        m1 = m1 + dtype(1 - b1) * (G - m1)
        m2 = m2 * dtype(b2) + (dtype(1 - b2) * G) * G
        bc1 = 1.0 - b1 ** (t + 1)
        bc2s = dtype(np.sqrt(1.0 - b2 ** (t + 1)))
        theta = theta + (dtype(-lr / bc1) * m1) / (np.sqrt(m2) / bc2s + dtype(eps))
    return theta


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_penalized_training_matches_numpy_reference(dtype, optimizer):
    """The compiled penalty (``train(..., penalty=...)``) against a plain NumPy loop, in float64
    and in float32. Gradient descent is followed for 40 steps; Adam for 1 step tightly (its
    ``m/√v`` turns rounding-level gradients of dead neurons into steps of size ``lr``, so two
    correct implementations part after a few steps) and for 40 steps in the loss."""
    from topoanalysis.datasets import polynomial_regression
    from topoanalysis.dynamics import train
    from topoanalysis.init import init_params

    ds = polynomial_regression("quadratic", n_samples=100, seed=0)
    arch = Architecture(1, (6,), 1)
    P = init_params(arch, n_networks=4, seed=5)
    if dtype == "float32":
        P = P.astype(np.float32).astype(np.float64)
    left, right = P[:2], P[2:]
    start = 0.5 * left + 0.5 * right[::-1]
    if dtype == "float32":
        start = start.astype(np.float32).astype(np.float64)
    dt = np.float32 if dtype == "float32" else np.float64
    tol = 1e-5 if dtype == "float32" else 1e-12
    lr = 0.05 if optimizer == "gd" else 1e-2

    def run(steps, spring=0.3, plane=2.0):
        return train(start, ds.X, ds.y, arch=arch, loss="mse", optimizer=optimizer, lr=lr,
                     steps=steps, penalty=(spring, plane, left, right), record_every=steps,
                     record_conserved=False, progress=False, dtype=dtype, n_threads=1)

    for steps in ((1, 40) if optimizer == "gd" else (1,)):
        got = run(steps).params
        ref = _numpy_penalized(start, left, right, ds.X, ds.y, arch, "mse", lr=lr, steps=steps,
                               spring=0.3, plane=2.0, dtype=dt, optimizer=optimizer)
        assert np.max(np.abs(got - ref)) < tol * (1 + np.max(np.abs(ref)))
    res = run(40)
    ref = _numpy_penalized(start, left, right, ds.X, ds.y, arch, "mse", lr=lr, steps=40,
                           spring=0.3, plane=2.0, dtype=dt, optimizer=optimizer)
    ref_loss = _numpy_penalized(ref, left, right, ds.X, ds.y, arch, "mse", lr=lr, steps=0,
                                spring=0.0, plane=0.0, dtype=dt, want_loss=True)
    assert np.allclose(res.final_loss, ref_loss, rtol=1e-4)
    assert np.max(np.abs(run(40, 0.0, 0.0).params - res.params)) > 1e-3   # the penalty acts


def test_penalty_is_checked_and_thread_independent():
    from topoanalysis.dynamics import train
    from topoanalysis.exceptions import ValidationError

    arch, ds, P = _nonconvex_pairs()
    kw = dict(arch=arch, loss="l1", optimizer="adam", lr=1e-2, steps=30,
              record_conserved=False, progress=False)
    with pytest.raises(ValidationError, match="penalty"):
        train(P[:2], ds.X, ds.y, penalty=(1.0, 1.0, P[:1], P[2:]), **kw)
    with pytest.raises(ValidationError, match="penalty"):
        train(P[:2], ds.X, ds.y, penalty=(1.0, 1.0, P[:2]), **kw)
    with pytest.raises(ValidationError, match="spring"):
        train(P[:2], ds.X, ds.y, penalty=(-1.0, 1.0, P[:2], P[2:]), **kw)
    with pytest.raises(ValidationError, match="penalty"):
        train(P[:2], ds.X, ds.y, arch=arch, optimizer="flow", t_end=1.0, progress=False,
              penalty=(1.0, 1.0, P[:2], P[2:]))
    one = train(P[:2], ds.X, ds.y, penalty=(0.5, 3.0, P[:2], P[2:]), n_threads=1, **kw)
    two = train(P[:2], ds.X, ds.y, penalty=(0.5, 3.0, P[:2], P[2:]), n_threads=2, **kw)
    assert np.array_equal(one.params, two.params)


def test_penalized_adam_pulls_to_the_equidistant_hyperplane():
    from topoanalysis.levelsets.strings import _penalized_adam

    arch, ds, P = _nonconvex_pairs()
    left, right = P[:1], P[1:2]
    start = 0.8 * left + 0.2 * right              # off the equidistant hyperplane
    u = (right - left) / np.linalg.norm(right - left)
    mid = 0.5 * (left + right)
    got = _penalized_adam(start, left, right, ds.X, ds.y, arch, "l1", lr=1e-2, steps=400,
                          spring=0.0, plane=50.0, target=-1.0)[0]
    off0 = abs(float((start - mid)[0] @ u[0]))
    off1 = abs(float((got - mid)[0] @ u[0]))
    assert off1 < 0.2 * off0


def test_penalized_beads_train_with_the_engine(monkeypatch):
    """With a penalty the beads train through :func:`topoanalysis.dynamics.train` too (its
    ``penalty``): one Adam, in the engine, for every DSS method (issue #20)."""
    import topoanalysis.dynamics as dyn

    seen = []
    real = dyn.train

    def spy(*args, **kwargs):
        seen.append(kwargs.get("penalty"))
        return real(*args, **kwargs)

    arch, ds, P = _nonconvex_pairs()
    monkeypatch.setattr(dyn, "train", spy)
    dynamic_string_sampling(P[:1], P[2:3], ds.X, ds.y, arch=arch, loss="l1", threshold=0.02,
                            method="constrained", spring=1e-3, plane=1.0, lr=1e-2, steps=50,
                            max_depth=1, n_points=11, progress=False)
    assert seen and all(p is not None and p[0] == 1e-3 and p[1] == 1.0 for p in seen)


def test_unpenalized_beads_train_with_the_engine(monkeypatch):
    """With ``spring = plane = 0`` beads train through
    :func:`topoanalysis.dynamics.train` (one Adam, in the engine; issue #20)."""
    from topoanalysis.levelsets import strings

    def refuse(*args, **kwargs):
        raise AssertionError("the penalty-free case must use the engine's Adam")

    monkeypatch.setattr(strings, "_penalized_adam", refuse)
    arch, ds, P = _nonconvex_pairs()
    res = dynamic_string_sampling(P[:1], P[2:3], ds.X, ds.y, arch=arch, loss="l1",
                                  threshold=0.02, method="breadth_first", spring=0.0, plane=0.0,
                                  lr=1e-2, steps=50, max_depth=1, n_points=11, progress=False)
    assert res.engine_calls["train"] >= 1


@pytest.mark.parametrize("method", ["constrained", "breadth_first"])
def test_penalized_variants_certificate(method):
    arch, ds, P = _nonconvex_pairs()
    res = dynamic_string_sampling(P[:2], P[2:], ds.X, ds.y, arch=arch, loss="l1",
                                  threshold=0.02, method=method, lr=1e-2, steps=1000,
                                  max_depth=4, n_points=21, progress=False)
    assert res.settings["spring"] > 0 and res.settings["plane"] > 0
    for s in res.strings:
        pl = path_losses(s.beads, ds.X, ds.y, arch=arch, loss="l1", points_per_edge=21)
        assert s.connected == bool(np.all(pl.loss.max(axis=2) < s.accept_level))
        assert s.depth <= 4
    assert res.n_beads.sum() > 0


def test_string_save_load_roundtrip(tmp_path):
    arch, X, y, (a, b) = _convex_pair()
    s = dynamic_string_sampling(a, b, X, y, arch=arch, threshold=10.0, progress=False)[0]
    path = s.save(tmp_path / "string")
    t = load_string(path)
    assert isinstance(t, BeadString) and t.arch == s.arch
    assert np.array_equal(t.beads, s.beads) and np.array_equal(t.edge_max_loss, s.edge_max_loss)
    assert t.verdict == s.verdict and t.settings == s.settings
    assert BeadString.load(path).normalized_length == pytest.approx(s.normalized_length)


# --- permuted copy and alignment ------------------------------------------------------------
def _trained_permutation_net():
    ds = cyclic_permutation_task()
    arch = Architecture(2, (3,), 2, hidden_bias=False, output_bias=False)
    tr = train_to_threshold(arch, ds.X, ds.y, 10, 1e-3, lr=1e-2, steps=20000, seed=0)
    i = int(np.flatnonzero(tr.reached_target)[0])
    return ds, Network(arch, tr.params[i])


def test_permuted_copy_not_connected_then_aligned_to_zero():
    ds, net = _trained_permutation_net()
    copy = net.rescale_neurons([1.7, 0.6, 2.5]).permute_neurons([1, 0, 2])
    res = dynamic_string_sampling(net, copy, ds.X, ds.y, threshold=1e-3, lr=1e-2, steps=2000,
                                  max_depth=4, progress=False)
    assert res[0].verdict == "not connected within budget"
    assert not res[0].connected
    ab = aligned_barriers(net, copy, ds.X, ds.y)
    assert ab.perms[0].tolist() == [1, 0, 2]
    assert ab.barrier_linear[0] > 0.1
    assert ab.barrier_aligned[0] < 1e-12
    assert ab.distance_after[0] < 1e-10
    assert ab.drop[0] == pytest.approx(ab.barrier_linear[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alignment_recovers_known_permutation_and_rescaling(seed):
    rng = np.random.default_rng(seed)
    arch = Architecture(4, (6,), 2)
    net = Network.initialize(arch, seed=seed)
    perm = rng.permutation(6)
    copy = net.rescale_neurons(rng.uniform(0.3, 3.0, 6)).permute_neurons(perm)
    X = rng.standard_normal((30, 4))
    y = rng.standard_normal((30, 2))
    ab = aligned_barriers(net, copy, X, y)
    # copy neuron i is net neuron perm[i]; aligned neuron j must be net neuron j
    assert np.array_equal(perm[ab.perms[0]], np.arange(6))
    assert ab.barrier_aligned[0] < 1e-12


def test_pairwise_barriers_matrix_and_graphs():
    arch = Architecture(2, (3,), 1)
    nets = [Network.initialize(arch, seed=s) for s in range(4)]
    nets.append(nets[0].permute_neurons([2, 0, 1]))
    X = np.random.default_rng(0).standard_normal((25, 2))
    y = X[:, :1] - X[:, 1:]
    bm = pairwise_barriers(nets, X, y, align=True, n_points=21, progress=False)
    n = 5
    assert bm.linear_max.shape == (n, n) and np.array_equal(bm.linear_max, bm.linear_max.T)
    assert np.all(bm.path_max <= bm.linear_max)
    assert bm.aligned_barrier[0, 4] < 1e-12 and bm.linear_barrier[0, 4] > 0
    assert bm.perms[0, 4].tolist() == [1, 2, 0]
    # each entry is the barrier of that pair computed on its own
    ref = aligned_barriers(nets[1], nets[3], X, y, n_points=21)
    assert bm.aligned_barrier[1, 3] == pytest.approx(ref.barrier_aligned[0])
    T = bm.disconnectivity_tree()
    assert sorted(T.graph["order"]) == list(range(n))
    d = bm.to_dict()
    assert d["component_counts"]["counts"][-1] == 1


def test_pairwise_strings_upper_bound():
    arch, ds, P = _nonconvex_pairs()
    bm = pairwise_barriers(P[:3], ds.X, ds.y, arch=arch, loss="l1", strings=True,
                           threshold=0.02, n_points=21,
                           dss_options=dict(lr=1e-2, steps=2000, n_points=21), progress=False)
    ok = bm.string_connected[np.triu_indices(3, 1)]
    assert ok.any()
    assert np.all(bm.path_max <= bm.linear_max)
    assert np.all(bm.string_max[bm.string_connected] < 0.022)


# --- kernel -----------------------------------------------------------------------------------
def test_relu_kernel_derivation_closed_form():
    d = relu_kernel_derivation()
    expected = d.s1 * d.s2 * (sp.sin(d.theta) + (sp.pi - d.theta) * sp.cos(d.theta)) / (2 * sp.pi)
    assert sp.simplify(d.kernel - expected) == 0
    assert d.radial == 1 / sp.pi


def test_relu_kernel_known_angles_and_monte_carlo():
    # theta = 0: E[relu(g)^2] = 1/2; theta = pi/2: 1/(2 pi); theta = pi: 0
    assert relu_kernel([2.0, 0.0], [3.0, 0.0]) == pytest.approx(3.0)
    assert relu_kernel([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1 / (2 * np.pi))
    assert relu_kernel([1.0, 0.0], [-1.0, 0.0]) == pytest.approx(0.0, abs=1e-15)
    chk = check_relu_kernel(4, dim=3, n_samples=100_000, seed=3)
    assert chk.holds, chk.summary()
    # and the check can fail: a wrong kernel (no (pi - theta) factor) is caught
    rng = np.random.default_rng(0)
    w1, w2 = rng.standard_normal(3), rng.standard_normal(3)
    from topoanalysis.levelsets import relu_kernel_monte_carlo

    mc, se = relu_kernel_monte_carlo(w1, w2, n_samples=100_000)
    c = w1 @ w2 / np.linalg.norm(w1) / np.linalg.norm(w2)
    wrong = np.linalg.norm(w1) * np.linalg.norm(w2) * (np.sqrt(1 - c * c) + c) / (2 * np.pi)
    assert abs(wrong - mc) > 5 * se


def test_proposition_2_3_two_sided_bound():
    chk = check_proposition_2_3(500, dim=4, seed=2)
    assert chk.holds, chk.summary()
    assert chk.min_upper_slack >= 0 and chk.min_lower_slack >= 0
    # the upper bound is tight at angle 0 for an isotropic input
    lo, v, up = proposition_2_3_terms([1.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    assert v == pytest.approx(up) and lo == pytest.approx(up)


# --- disconnectivity trees of hand-made barrier matrices ---------------------------------------
def _two_funnels():
    # minima 0,1 join at 0.3; 2,3 at 0.4; the two pairs at 0.8 (through 1-2); 4 never joins
    inf = np.inf
    M = np.array([
        [0.1, 0.3, 0.9, 0.95, inf],
        [0.3, 0.2, 0.8, 0.9, inf],
        [0.9, 0.8, 0.05, 0.4, inf],
        [0.95, 0.9, 0.4, 0.15, inf],
        [inf, inf, inf, inf, 0.5],
    ])
    return M


def test_disconnectivity_tree_hand_made():
    M = _two_funnels()
    T = disconnectivity_tree(M, labels=list("abcde"))
    assert nx.is_arborescence(T)
    merges = sorted((d["level"], d["members"]) for _, d in T.nodes(data=True)
                    if d["kind"] == "merge")
    assert merges == [(0.3, (0, 1)), (0.4, (2, 3)), (0.8, (0, 1, 2, 3)),
                      (float("inf"), (0, 1, 2, 3, 4))]
    assert T.nodes[("min", 4)]["label"] == "e"
    leaves = [u for u in T if T.out_degree(u) == 0]
    assert len(leaves) == 5
    order = T.graph["order"]
    assert sorted(order) == list(range(5))
    assert abs(order.index(0) - order.index(1)) == 1 and abs(order.index(2) - order.index(3)) == 1
    levels = minimax_levels(M)
    assert levels[0, 3] == 0.8 and levels[0, 1] == 0.3 and np.isinf(levels[0, 4])
    t, c = component_counts(M, thresholds=[0.05, 0.12, 0.25, 0.35, 0.45, 0.6, 0.85])
    # present: 2 | +0 | +3,1 | 0-1 join | 2-3 join | +4 (never joins) | 0.8 join
    assert c.tolist() == [1, 2, 4, 3, 2, 3, 2]


@pytest.mark.parametrize("seed", range(4))
def test_minimax_and_counts_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 7
    A = rng.uniform(0.2, 1.0, (n, n))
    M = np.minimum(A, A.T)
    np.fill_diagonal(M, rng.uniform(0.0, 0.3, n))
    M = np.maximum(M, np.maximum.outer(np.diag(M), np.diag(M)))
    np.fill_diagonal(M, np.diag(M))
    # Floyd-Warshall on (min, max)
    ref = M.copy()
    for k in range(n):
        ref = np.minimum(ref, np.maximum(ref[:, k:k + 1], ref[k:k + 1, :]))
    assert np.allclose(minimax_levels(M), ref)
    t, c = component_counts(M)
    for lam, cnt in zip(t, c):
        assert cnt == nx.number_connected_components(level_set_graph(M, lam))
    T = disconnectivity_tree(M)
    for i, j in itertools.combinations(range(n), 2):
        lca = nx.lowest_common_ancestor(T, ("min", i), ("min", j))
        assert T.nodes[lca]["level"] == pytest.approx(ref[i, j])


def test_string_graph_attributes():
    G = string_graph(np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 0.0]]), [0.1, 0.3, 0.2],
                     [0.4, 0.5])
    assert G.edges[0, 1]["length"] == 5.0 and G.edges[1, 2]["max_loss"] == 0.5
    assert G.nodes[1]["loss"] == 0.3 and G.graph["normalized_length"] == pytest.approx(10 / 6)


# --- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, word", [
    (dict(threshold=-1.0), "threshold"),
    (dict(threshold=0.1, method="astar"), "method"),
    (dict(threshold=0.1, spring=0.5), "spring"),
    (dict(threshold=0.1, t_star="left"), "t_star"),
    (dict(threshold=0.1, bead_fraction=1.5), "bead_fraction"),
    (dict(threshold=0.1, optimizer="lbfgs"), "optimizer"),
    (dict(threshold=0.1, method="constrained", optimizer="gd"), "optimizer"),
    (dict(threshold=0.1, max_depth=-1), "max_depth"),
])
def test_dss_validation(kwargs, word):
    arch, X, y, (a, b) = _convex_pair()
    with pytest.raises(ValidationError, match=word):
        dynamic_string_sampling(a, b, X, y, arch=arch, progress=False, **kwargs)


def test_graph_validation():
    with pytest.raises(ValidationError, match="symmetric"):
        level_set_graph(np.array([[0.0, 1.0], [2.0, 0.0]]), 1.0)
    with pytest.raises(ValidationError, match="networks"):
        pairwise_barriers([Network.initialize(Architecture(2, (2,), 1))], np.zeros((3, 2)),
                          np.zeros(3))


def test_endpoints_above_the_level_warn():
    arch, X, y, (a, b) = _convex_pair()
    la = Network(arch, a).loss(X, y)
    with pytest.warns(UserWarning, match="above the level"):
        res = dynamic_string_sampling(a, b, X, y, arch=arch, threshold=0.5 * la, max_depth=1,
                                      steps=10, progress=False)
    assert not res[0].connected


def test_t_star_argmax_places_beads_at_the_maximum():
    arch, ds, P = _nonconvex_pairs()
    res = dynamic_string_sampling(P[0], P[1], ds.X, ds.y, arch=arch, loss="l1", threshold=0.02,
                                  t_star="argmax", lr=1e-2, steps=1, max_depth=1, n_points=21,
                                  progress=False)
    s = res[0]
    from topoanalysis.dynamics import interpolate

    curve = interpolate(P[0], P[1], ds.X, ds.y, arch=arch, loss="l1", n_points=21).loss[0]
    assert curve.max() >= 0.022 and s.n_beads == 1     # the segment fails: one split
    # the bead, trained one step, sits at the segment's interior maximum
    t = np.linspace(0, 1, 21)[1 + np.argmax(curve[1:-1])]
    expect = (1 - t) * P[0] + t * P[1]
    assert np.linalg.norm(s.beads[1] - expect) < 0.05 * np.linalg.norm(P[1] - P[0])
