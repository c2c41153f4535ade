"""Audit of levelsets, symmetry and landscape at their degenerate edges (session 11).

Every case is built by hand with exact numbers and compared with an independent computation
written here: a dense NumPy evaluation of the loss, a brute-force search over permutations,
exact rescalings by powers of two.
"""

import itertools

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape, Network
from topoanalysis.levelsets import (
    aligned_barriers,
    dynamic_string_sampling,
    pairwise_barriers,
    train_to_threshold,
)
from topoanalysis.symmetry import align, balance, merge_redundant_neurons, weight_matching


# --- an independent NumPy reference -----------------------------------------------------------
def _ref_loss(arch, theta, X, Y, loss):
    (W1, b1), (W2, b2) = arch.unpack(np.asarray(theta, dtype=np.float64))
    Z = X @ W1.T + (0.0 if b1 is None else b1)
    act = arch.activation
    if act == "relu":
        H = np.maximum(Z, 0.0)
    elif act == "leaky_relu":
        H = np.where(Z > 0, Z, arch.negative_slope * Z)
    elif act == "linear":
        H = Z
    elif act == "sigmoid":
        H = 1.0 / (1.0 + np.exp(-Z))
    else:
        H = np.tanh(Z)
    F = H @ W2.T + (0.0 if b2 is None else b2)
    if loss == "mse":
        return float(np.mean((F - Y) ** 2))
    if loss == "bce":
        return float(np.mean(np.maximum(F, 0) - F * Y + np.log1p(np.exp(-np.abs(F)))))
    raise AssertionError(loss)


def _ref_grad(arch, theta, X, Y, loss, h=1e-6):
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (_ref_loss(arch, theta + e, X, Y, loss)
                - _ref_loss(arch, theta - e, X, Y, loss)) / (2 * h)
    return g


def _problem(seed=1, d=3, width=5, e=2, **kw):
    rng = np.random.default_rng(seed)
    arch = Architecture(d, (width,), e, **kw)
    X = rng.standard_normal((40, d))
    y = rng.standard_normal((40, e))
    return arch, X, y


# --- pairwise barriers: duplicate minima are one point ---------------------------------------
def test_duplicate_minima_have_zero_barrier_and_join_at_their_own_loss():
    # the engine mixes (1 - t) z_a + t z_b in floating point, which is not exactly z_a even
    # when z_a = z_b: before the fix the segment from a network to itself rose ~1e-15 above
    # it, and at the level of the minimum's own loss the two copies were not joined
    arch, X, y = _problem()
    land = Landscape(arch, X, y)
    for seed in range(12):
        net = Network.initialize(arch, seed=seed)
        bm = pairwise_barriers([net, net], land, progress=False)
        L = bm.node_loss[0]
        assert bm.node_loss[1] == L
        assert bm.linear_max[0, 1] == L
        assert bm.linear_barrier[0, 1] == 0.0
        G = bm.level_set_graph(L)
        assert G.has_edge(0, 1)
        ab = aligned_barriers(net, net, land)
        assert ab.barrier_linear[0] == 0.0 and ab.barrier_aligned[0] == 0.0
        assert ab.max_linear[0] == L
        assert abs(L - _ref_loss(arch, net.params, X, y, "mse")) <= 1e-14 * L


def test_exact_symmetric_copy_aligns_onto_one_point():
    # a permuted copy rescaled by powers of two balances to the same floats bit for bit
    arch, X, y = _problem()
    land = Landscape(arch, X, y)
    for seed in range(8):
        net = Network.initialize(arch, seed=seed)
        copy = net.rescale_neurons([2.0, 0.5, 4.0, 0.25, 1.0]).permute_neurons([2, 0, 4, 1, 3])
        ab = aligned_barriers(net, copy, land)
        assert ab.perms[0].tolist() == [1, 3, 0, 4, 2]
        assert ab.distance_after[0] == 0.0
        assert np.array_equal(ab.reference_params[0], ab.aligned_params[0])
        assert ab.barrier_aligned[0] == 0.0
        ref_loss = _ref_loss(arch, ab.reference_params[0], X, y, "mse")
        assert abs(ab.max_aligned[0] - ref_loss) <= 1e-14 * ref_loss


def test_pairwise_perms_lower_triangle_is_the_inverse():
    # perms[i, j] aligns j onto i; perms[j, i] must align i onto j, the inverse permutation
    # (before the fix it was a copy of perms[i, j])
    arch, X, y = _problem()
    net = Network.initialize(arch, seed=3)
    p = [2, 0, 4, 1, 3]
    copy = net.rescale_neurons([2.0, 0.5, 4.0, 0.25, 1.0]).permute_neurons(p)
    other = Network.initialize(arch, seed=4)
    bm = pairwise_barriers([net, copy, other], X, y, align=True, progress=False)
    for i, j in itertools.permutations(range(3), 2):
        assert sorted(bm.perms[i, j].tolist()) == list(range(5))
        assert np.array_equal(bm.perms[i, j][bm.perms[j, i]], np.arange(5))
    # aligning net onto copy with perms[1, 0] gives the balanced copy exactly
    moved = balance(net).permute_neurons(bm.perms[1, 0])
    assert np.array_equal(moved.params, balance(copy).params)
    moved = balance(copy).permute_neurons(bm.perms[0, 1])
    assert np.array_equal(moved.params, balance(net).params)
    assert np.all(bm.perms[np.arange(3), np.arange(3)] == -1)


def test_segment_barrier_matches_a_dense_numpy_evaluation_both_ways():
    arch, X, y = _problem(seed=2, e=3)
    land = Landscape(arch, X, y)
    a, b = Network.initialize(arch, seed=0), Network.initialize(arch, seed=1)
    n = 41
    ts = np.union1d(np.linspace(0.0, 1.0, n), [0.0, 0.5, 1.0])
    dense = np.array([_ref_loss(arch, (1 - t) * a.params + t * b.params, X, y, "mse")
                      for t in ts])
    chord = (1 - ts) * dense[0] + ts * dense[-1]
    res = land.interpolation_barrier(a, b, n_points=n)
    assert np.allclose(res.loss[0], dense, rtol=1e-13, atol=0)
    j = int(np.argmax(dense - chord))
    assert res.t_barrier[0] == ts[j]
    assert abs(res.barrier[0] - (dense - chord)[j]) <= 1e-12 * dense.max()
    assert res.t_max[0] == ts[int(np.argmax(dense))]
    ab, ba = aligned_barriers(a, b, land, n_points=n), aligned_barriers(b, a, land, n_points=n)
    assert abs(ab.barrier_linear[0] - ba.barrier_linear[0]) <= 1e-12 * dense.max()
    assert abs(ab.barrier_aligned[0] - ba.barrier_aligned[0]) <= 1e-12 * dense.max()
    assert np.array_equal(ab.perms[0][ba.perms[0]], np.arange(5))
    bm = pairwise_barriers([a, b], land, n_points=n, progress=False)
    assert bm.linear_barrier[0, 1] == bm.linear_barrier[1, 0] == ab.barrier_linear[0]


# --- weight matching against brute force ------------------------------------------------------
def _brute_min(ref, moved):
    l = ref.arch.hidden[0]
    return min(np.linalg.norm(ref.params - moved.permute_neurons(list(p)).params)
               for p in itertools.permutations(range(l)))


@pytest.mark.parametrize("hb,ob,e", [(True, True, 1), (False, False, 2), (True, False, 3)])
def test_weight_matching_is_optimal_with_duplicate_and_dead_neurons(hb, ob, e):
    rng = np.random.default_rng(7)
    for l in range(1, 7):
        arch = Architecture(2, (l,), e, hidden_bias=hb, output_bias=ob)
        for _ in range(4):
            th = rng.integers(-2, 3, arch.n_params).astype(float)
            a = Network(arch, th)
            w, c = a.neuron_weights()
            if l >= 2:                          # a duplicate neuron and a dead one
                w[1], c[1] = w[0], c[0]
                w[-1] = 0.0
            a = Network(arch, arch.from_neuron_weights(w, c, arch.unpack(th)[1][1]))
            b = Network(arch, rng.integers(-2, 3, arch.n_params).astype(float))
            for other in (b, a.permute_neurons(rng.permutation(l))):
                r = align(a, other)
                assert sorted(r.perm.tolist()) == list(range(l))
                assert np.array_equal(r.network.params,
                                      balance(other).permute_neurons(r.perm).params)
                best = _brute_min(r.reference, balance(other))
                assert r.distance_after <= best * (1 + 1e-12) + 1e-12
            # a permuted copy comes back at distance exactly 0 (one of the optimal perms)
            assert align(a, a.permute_neurons(rng.permutation(l))).distance_after == 0.0


def test_weight_matching_recovers_a_known_permutation_exactly():
    rng = np.random.default_rng(3)
    for e in (1, 3):
        arch = Architecture(3, (6,), e)
        net = Network.initialize(arch, seed=5)
        for _ in range(5):
            p = rng.permutation(6)
            scales = 2.0 ** rng.integers(-4, 5, 6)
            copy = net.rescale_neurons(scales).permute_neurons(p)
            perm = weight_matching(net, copy)
            assert np.array_equal(copy.permute_neurons(perm).rescale_neurons(
                1.0 / scales).params, net.params)
            assert np.array_equal(p[perm], np.arange(6))


# --- merging redundant neurons: exact parallels -----------------------------------------------
def test_merge_with_tol_zero_merges_exact_parallels_only():
    # the rounded cosine of two exactly parallel vectors is often 1 - 2^-53: with tol=0 they
    # were kept apart before the fix
    missed = 0
    for a_, b_ in itertools.product(range(1, 12), range(-11, 12)):
        for k in (3.0, 5.0, 0.375):
            net = Network.from_weights([[[a_, b_], [k * a_, k * b_]], [[1.0, -2.0]]])
            res = merge_redundant_neurons(net, tol=0)
            missed += res.groups != [[0, 1]]
            anti = Network.from_weights([[[a_, b_], [-k * a_, -k * b_]], [[1.0, -2.0]]])
            assert merge_redundant_neurons(anti, tol=0).groups == [[0], [1]]
    assert missed == 0
    near = Network.from_weights([[[1.0, 1.0], [1.0, 1.0 + 2.0 ** -40]], [[1.0, 1.0]]])
    assert merge_redundant_neurons(near, tol=0).groups == [[0], [1]]
    assert merge_redundant_neurons(near, tol=1e-9).groups == [[0, 1]]
    # the merged network realizes the same function
    net = Network.from_weights([[[3.0, -7.0], [1.0, 0.0], [12.0, -28.0]], [[1.0, 2.0, -0.5]]])
    res = merge_redundant_neurons(net, tol=0)
    assert res.groups == [[0, 2], [1]]
    X = np.array([[1.0, 0.5], [-2.0, -1.0], [0.25, 3.0]])
    assert np.allclose(res.network.forward(X), net.forward(X), rtol=1e-14, atol=1e-14)


# --- DSS at its edges ---------------------------------------------------------------------------
def test_dss_endpoint_exactly_at_the_acceptance_level_warns_and_is_not_accepted():
    arch = Architecture(1, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X = np.array([[1.0], [2.0]])
    y = np.array([[1.5], [2.0]])
    a = arch.pack([np.array([[1.0]]), np.array([[1.0]])])     # residuals 0.5, 0: MSE 1/8
    L = 0.125
    assert Network(arch, a).loss(X, y) == L
    # gaps are accepted strictly below accept_factor · L0: with accept_factor=1 and the
    # endpoint at exactly L0 no gap touching it is ever accepted; the warning says so
    with pytest.warns(UserWarning, match="can never be accepted"):
        res = dynamic_string_sampling(a, a, X, y, arch=arch, threshold=L, accept_factor=1.0,
                                      max_depth=1, steps=1, progress=False)
    assert not res[0].connected and res[0].failure is not None
    # one ulp higher the point is strictly below on the grid: connected, no bead
    res = dynamic_string_sampling(a, a, X, y, arch=arch, threshold=np.nextafter(L, 1.0),
                                  accept_factor=1.0, max_depth=1, steps=1, progress=False,
                                  certify=False)
    s = res[0]
    assert s.connected and s.n_beads == 0 and s.certified is None
    assert s.edge_max_loss.tolist() == [L] and s.bead_loss.tolist() == [L, L]
    # the certificate cannot prove a float64 loss 1 ulp below the level (its rounding bound
    # is wider): not connected, and it says why
    res = dynamic_string_sampling(a, a, X, y, arch=arch, threshold=np.nextafter(L, 1.0),
                                  accept_factor=1.0, max_depth=1, steps=1, progress=False)
    assert not res[0].connected and res[0].failure == "certificate"
    assert res[0].certified is False and res[0].edge_upper[0] >= np.nextafter(L, 1.0)


def test_dss_between_a_network_and_itself_has_an_exact_certificate():
    arch, X, y = _problem()
    land = Landscape(arch, X, y)
    for seed in range(6):
        net = Network.initialize(arch, seed=seed)
        L = land.loss(net)
        res = dynamic_string_sampling(net, net, land, threshold=L, progress=False)
        s = res[0]
        assert s.connected and s.n_beads == 0
        assert s.edge_max_loss[0] == s.bead_loss[0] == s.bead_loss[1]
        assert s.normalized_length == 1.0


def test_dss_straight_segment_needs_no_beads_and_matches_numpy():
    arch = Architecture(2, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X = np.random.default_rng(0).standard_normal((30, 2))
    y = X @ np.array([[1.0], [-2.0]])
    a = arch.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
    b = arch.pack([np.array([[2.0, -4.0]]), np.array([[0.5]])])   # same function, exact
    res = dynamic_string_sampling(a, b, X, y, arch=arch, threshold=0.1, n_points=9,
                                  progress=False)
    s = res[0]
    assert s.connected and s.n_beads == 0 and s.normalized_length == 1.0
    grid = np.linspace(0.0, 1.0, 9)
    dense = [_ref_loss(arch, (1 - t) * a + t * b, X, y, "mse") for t in grid]
    assert abs(s.edge_max_loss[0] - max(dense)) <= 1e-12
    assert s.edge_t_max[0] == grid[int(np.argmax(dense))]


def test_dss_reproducible_across_threads_and_within_budget():
    from topoanalysis.datasets import cyclic_permutation_task

    ds = cyclic_permutation_task()
    arch = Architecture(2, (3,), 2, hidden_bias=False, output_bias=False)
    tr = train_to_threshold(arch, ds.X, ds.y, 2, 0.05, lr=1e-2, steps=3000, seed=2)
    assert tr.reached_target.all()
    P = tr.params
    runs = [dynamic_string_sampling(P[0], P[1], ds.X, ds.y, arch=arch, threshold=0.05,
                                    optimizer="sgd", lr=1e-2, max_depth=3, max_beads=4,
                                    first_steps=50, max_steps=300, seed=4, n_threads=t,
                                    progress=False)[0] for t in (1, 2)]
    assert np.array_equal(runs[0].beads, runs[1].beads)
    assert np.array_equal(runs[0].edge_max_loss, runs[1].edge_max_loss)
    for s in runs:
        assert 1 <= s.n_beads <= 4 and s.depth <= 3
        assert np.all(s.bead_steps <= 300)


# --- the landscape against NumPy ----------------------------------------------------------------
@pytest.mark.parametrize("loss,e", [("mse", 1), ("mse", 3), ("bce", 1), ("bce", 2)])
@pytest.mark.parametrize("act", ["relu", "leaky_relu", "sigmoid", "tanh"])
def test_landscape_matches_numpy_with_duplicate_samples(loss, e, act):
    rng = np.random.default_rng(11)
    arch = Architecture(3, (4,), e, activation=act)
    X = rng.standard_normal((17, 3))
    X = np.vstack([X, X[:5]])                               # duplicate samples
    Y = ((rng.random((22, e)) > 0.5).astype(float) if loss == "bce"
         else rng.standard_normal((22, e)))
    th = Network.initialize(arch, seed=2).params
    land = Landscape(arch, X, Y, loss)
    L, G = land.loss_and_gradient(th)
    ref = _ref_loss(arch, th, X, Y, loss)
    assert abs(L - ref) <= 1e-13 * max(1.0, abs(ref))
    assert land.loss(th) == L
    g = _ref_grad(arch, th, X, Y, loss)
    assert np.max(np.abs(G - g)) <= 1e-6 * max(1.0, np.max(np.abs(g)))
    if act != "tanh" and e == 1:                          # the float32 kernels' scope
        land32 = Landscape(arch, X, Y, loss, dtype="float32")
        L32, G32 = land32.loss_and_gradient(th)
        assert abs(L32 - L) <= 1e-6 * max(1.0, abs(L))
        assert np.max(np.abs(G32 - G)) <= 1e-5 * max(1.0, np.max(np.abs(G)))


def test_landscape_at_a_kink_and_under_exact_symmetries():
    arch = Architecture(2, (3,), 1, activation="relu")
    W1 = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.25]])
    b1 = np.array([0.0, -0.5, 1.0])
    W2 = np.array([[1.5, -2.0, 0.75]])
    th = arch.pack([W1, W2], [b1, np.array([0.25])])
    X = np.array([[1.0, 1.0], [2.0, -1.0], [0.0, 0.5], [1.0, 1.0]])   # sample 0: z_0 = 0
    y = np.array([[1.0], [0.0], [-1.0], [1.0]])
    for dtype in ("float64", "float32"):
        land = Landscape(arch, X, y, "mse", dtype=dtype)
        L, G = land.loss_and_gradient(th)
        assert L == _ref_loss(arch, th, X, y, "mse")       # dyadic data: exact
        net = Network(arch, th)
        L2, G2 = net.loss_and_grad(X, y)
        assert np.array_equal(np.asarray(G, dtype=np.float64), G2)
        for scales in ([2.0, 0.25, 8.0], [0.5, 4.0, 1.0]):
            moved = net.rescale_neurons(scales).permute_neurons([2, 0, 1])
            assert land.loss(moved) == L
    # random weights: power-of-two rescalings leave loss and rescaled gradient exactly unchanged
    rng = np.random.default_rng(5)
    arch = Architecture(3, (6,), 2)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal((30, 2))
    net = Network.initialize(arch, seed=1)
    s = 2.0 ** rng.integers(-3, 4, 6)
    for dtype in ("float64",):
        land = Landscape(arch, X, y, "mse", dtype=dtype)
        assert land.loss(net.rescale_neurons(s)) == land.loss(net)


def test_neb_straight_band_ends_exactly_at_the_endpoints():
    from topoanalysis.levelsets import minimum_energy_path

    arch = Architecture(1, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X, y = np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]])
    land = Landscape(arch, X, y)
    a = np.array([1.0, 1.0])
    b = np.array([1e-17, 1e17])          # a + 1·(b − a) = (0, 1e17) ≠ b
    assert not np.array_equal(a + 1.0 * (b - a), b)
    res = minimum_energy_path(a, b, land, n_images=4, steps=0)
    assert np.array_equal(res.images[0], a) and np.array_equal(res.images[-1], b)
    assert res.image_loss[-1] == _ref_loss(arch, b, X, y, "mse")
    assert res.edge_max_loss[-1] >= res.image_loss[-1]


def test_bead_string_evaluate_treats_coinciding_beads_as_one_point():
    arch, X, y = _problem()
    land = Landscape(arch, X, y)
    for seed in range(6):
        net = Network.initialize(arch, seed=seed)
        s = dynamic_string_sampling(net, net, land, threshold=land.loss(net), progress=False)[0]
        bl, em = s.evaluate(land)
        assert em[0] == bl[0] == bl[1]
