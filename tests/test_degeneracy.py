"""Degenerate parametrizations and inverse stability (Berner, Elbrächter & Grohs)."""

import itertools
import json
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from topoanalysis import Architecture, Network, ValidationError
from topoanalysis.degeneracy import (
    FAMILIES, RESTRICTED_KINDS, Ball, Box, augment_inputs, canonical_form,
    canonical_form_symbolic, counterexample, detect_degeneracies, fit_exponent, linear_regions,
    measure_family, measure_restricted, parameter_distance, restricted_pair,
    restricted_space_membership, shallow_form, sobolev_distance, symbolic_conditions,
    symbolic_realization, uniform_distance)
from topoanalysis.symmetry import canonical_neuron_order, merge_redundant_neurons


def net_of(A, C, biases=None):
    A = np.asarray(A, float)
    C = np.asarray(C, float).reshape(len(A), -1)
    return Network.from_weights([A, C.T], biases)


# --- detectors ------------------------------------------------------------------------------
def test_each_detector_names_neurons_and_tolerance():
    A = [[1.0, 0.0], [-1.0, 0.0], [2.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.3, -1.0],
         [-0.3, 1.001]]
    C = [1.0, -1.0, 2.0, 0.5, 1.0, 1.0, 1.0]
    net = net_of(A, C)
    rep = detect_degeneracies(net)
    assert rep.neurons("zero") == [3]
    assert rep.neurons("redundant") == [0, 2]
    assert sorted(it.neurons for it in rep.of_kind("opposite")) == [(0, 1), (1, 2)]
    assert [it.neurons for it in rep.of_kind("nearly_opposite")] == [(5, 6)]
    assert (5, 6) in [it.neurons for it in rep.of_kind("coinciding_hyperplanes")]
    # neuron 2: ||w|| = 2, ||a|| = 2 is balanced; neuron 5: ||w|| = 1.044 vs 1 is not
    assert 2 not in rep.neurons("unbalanced") and 5 in rep.neurons("unbalanced")
    for it in rep.items:
        assert it.tol == rep.tolerances[{"zero": "zero", "redundant": "direction",
                                         "opposite": "direction", "nearly_opposite": "near",
                                         "coinciding_hyperplanes": "near",
                                         "unbalanced": "balance",
                                         "cancelling_opposite_pairs": "cancel"}[it.kind]]
    json.dumps(rep.to_dict())
    assert "redundant" in rep.summary()


def test_tolerance_changes_the_verdict():
    net = net_of([[1.0, 0.0], [1.0, 1e-4]], [1.0, 1.0])
    assert detect_degeneracies(net).neurons("redundant") == []
    loose = detect_degeneracies(net, tolerances={"direction": 1e-6})
    assert loose.neurons("redundant") == [0, 1]
    assert loose.tolerances["direction"] == 1e-6


def test_dead_on_data_and_domain():
    # neuron 0: x1 - 3 (dead on the unit box, alive on data with x1 > 3); neuron 1 alive
    net = net_of([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0], biases=[np.array([-3.0, 0.0]), None])
    rep = detect_degeneracies(net, domain=Box((-1, -1), (1, 1)))
    assert rep.neurons("dead") == [0]
    dead = rep.of_kind("dead")[0]
    assert dead.value == pytest.approx(-2.0)            # max over the box of x1 - 3
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))
    assert detect_degeneracies(net, X=X).neurons("dead") == [0]
    X[0, 0] = 3.5
    assert detect_degeneracies(net, X=X).neurons("dead") == []
    assert detect_degeneracies(net, domain=Ball((0.0, 0.0), 4.0)).neurons("dead") == []
    assert detect_degeneracies(net, domain=Ball((0.0, 0.0), 2.0)).neurons("dead") == [0]


def test_cancelling_opposite_pairs():
    cf = counterexample("opposite", 2.0)
    rep = detect_degeneracies(cf.theta)
    (item,) = rep.of_kind("cancelling_opposite_pairs")
    assert item.neurons == (0, 1, 2, 3, 4, 5) and item.value < 1e-12
    # one pair alone realizes a linear function: no cancellation of several pairs
    single = net_of([[1.0, 0.0], [-1.0, 0.0]], [1.0, -1.0])
    assert detect_degeneracies(single).of_kind("cancelling_opposite_pairs") == []
    # nearly cancelling: small but non-zero sum of the linear parts
    near = counterexample("nearly_cancelling", 20.0).theta
    (item,) = detect_degeneracies(near).of_kind("cancelling_opposite_pairs")
    assert 0 < item.value < 0.1


def test_generic_restricted_network_has_no_degeneracy():
    theta, _ = restricted_pair("random", 0.1, dim=3, width=3, seed=1)
    assert detect_degeneracies(theta).items == []
    assert restricted_space_membership(theta).in_restricted_space


# --- conditions -------------------------------------------------------------------------------
def _rational_net(rng, m, D, e=1):
    A = sp.Matrix(m, D, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), int(rng.integers(1, 4))))
    C = sp.Matrix(m, e, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), int(rng.integers(1, 4))))
    return A, C


def test_symbolic_conditions_agree_with_numeric_checks(rng):
    a = sp.Matrix(sp.symbols("a0:3_0:3", real=True)).reshape(3, 3)
    c = sp.Matrix(sp.symbols("c0:3", real=True))
    cond = symbolic_conditions(a, c)
    seen = set()
    for trial in range(40):
        A, C = _rational_net(rng, 3, 3)
        if trial % 4 == 0:        # balance exactly (C.1 can hold)
            for i in range(3):
                na = sp.sqrt(sum(v ** 2 for v in A.row(i)))
                if na != 0 and C[i] != 0:
                    C[i] = sp.sign(C[i]) * na
        if trial % 5 == 0:        # a redundant pair (C.2 fails)
            A[1, :] = 2 * A[0, :]
        subs = dict(zip(list(a), list(A)))
        subs.update(dict(zip(list(c), list(C))))
        sym = cond.evaluate(subs)
        net = net_of(np.array(A, dtype=float), np.array(C, dtype=float))
        num = restricted_space_membership(net, tol=1e-12).conditions
        assert sym == num, (A, C)
        seen.add(tuple(sym.values()))
    assert len(seen) >= 3          # the comparison saw several verdicts


def test_membership_names_failing_conditions():
    net = net_of([[1.0, 1.0], [2.0, 2.0], [1.0, -1.0]], [math.sqrt(2), 1.0, math.sqrt(2)])
    m = restricted_space_membership(net)
    assert not m.in_restricted_space
    assert m.failing["C.2"] == [(0, 1)]
    assert m.failing["C.3"] == [2]
    assert m.failing["C.1"] == [1]
    assert "C.2 fails" in m.summary()
    json.dumps(m.to_dict())


# --- canonical form ---------------------------------------------------------------------------
def _degenerate_net(rng, d=3, e=2):
    # entries on a 2^-20 grid so that the scalings below are exact in float64: redundancy
    # is decided exactly, and 0.3 * A[3] would not be parallel to A[3] after rounding
    A = np.round(rng.normal(size=(7, d)) * 2**20) / 2**20
    b = np.round(rng.normal(size=7) * 2**20) / 2**20
    A[1], b[1] = 2.5 * A[0], 2.5 * b[0]          # redundant with 0
    A[2], b[2] = 0.0, 0.0                         # zero weight vector
    A[4], b[4] = 0.375 * A[3], 0.375 * b[3]       # redundant with 3 ...
    C = np.round(rng.normal(size=(7, e)) * 2**20) / 2**20
    C[3] = -0.375 * C[4]                          # ... and cancelling it exactly
    C[5] = 0.0                                    # zero output
    return Network.from_weights([A, C.T], [b, rng.normal(size=e)])


def test_canonical_steps_keep_the_function_and_meet_the_conditions(rng):
    net = _degenerate_net(rng)
    cf = canonical_form(net)
    assert cf.verified and [s.step for s in cf.steps] == [
        "fold biases", "drop zero neurons", "merge redundant neurons", "augment for C.3",
        "balance", "order"]
    assert cf.width == 3                          # neurons {0,1}, neuron 6, the output bias
    assert cf.mapping[0] == cf.mapping[1] >= 0
    assert cf.mapping[2] == cf.mapping[5] == cf.mapping[3] == cf.mapping[4] == -1
    assert cf.output_bias_neuron >= 0
    X = np.random.default_rng(7).normal(size=(2000, 3)) * 3
    np.testing.assert_allclose(cf(X), net.forward(X), atol=1e-10)
    m = restricted_space_membership(cf.network)
    assert m.in_restricted_space, m.summary()
    assert detect_degeneracies(cf.network).items == []
    # each step's numeric check can fail: a wrong step is reported
    for s in cf.steps:
        assert s.max_value_error < 1e-9 and s.n_regions >= 1


def test_canonical_form_of_a_bias_free_network_without_augmentation():
    net = net_of([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0], [-1.0, 0.5]], [1.0, 0.5, 3.0, -2.0])
    cf = canonical_form(net, augment="none")
    assert cf.width == 2 and cf.network.arch.inputs == 2
    W1, W2 = cf.network.weights
    merged = np.flatnonzero(np.isclose(W1[:, 1] / W1[:, 0], 2.0))
    assert len(merged) == 1
    # merged neuron: (1,2) direction with output 1 + 2*0.5 = 2 → balanced: |c| = ||w||
    k = merged[0]
    assert np.linalg.norm(W1[k]) * abs(W2[0, k]) == pytest.approx(2.0 * math.sqrt(5))
    with pytest.raises(ValidationError, match="augment"):
        canonical_form(net_of([[1.0]], [1.0], biases=[np.array([1.0]), None]), augment="none")


def test_canonical_steps_exact_with_sympy():
    A = sp.Matrix([[1, 2, 1], [2, 4, 2], [0, 0, 0], [1, -1, -3]])
    C = sp.Matrix([[1], [sp.Rational(1, 2)], [5], [-2]])
    steps = canonical_form_symbolic(A, C)
    assert [s.step for s in steps] == ["drop zero neurons", "merge redundant neurons",
                                       "augment for C.3", "balance"]
    assert all(s.holds for s in steps), [s.residual for s in steps]
    assert steps[0].A.rows == 3 and steps[1].A.rows == 2
    final = steps[-1]
    for i in range(final.A.rows):       # C.1 exactly, C.3 exactly
        assert sp.simplify(sum(v ** 2 for v in final.A.row(i)) -
                           sum(v ** 2 for v in final.C.row(i))) == 0
        assert final.A[i, -1].is_positive and final.A[i, -2].is_positive
    # the residual detects a changed function
    x = sp.Matrix(sp.symbols("x0:3", real=True))
    wrong = symbolic_realization(A, C * 2, x) - symbolic_realization(A, C, x)
    assert sp.simplify(wrong[0]) != 0


def _independent_net(draw_seed, d, l, e, bias):
    r = np.random.default_rng(draw_seed)
    W = r.normal(size=(l, d))
    b = r.normal(size=l) if bias else None
    a = r.normal(size=(e, l))
    return Network.from_weights([W, a], [b, r.normal(size=e) if bias else None])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), l=st.integers(1, 4), e=st.integers(1, 2),
       bias=st.booleans(), data=st.data())
def test_uniqueness_lemma_a3(seed, l, e, bias, data):
    """Lemma A.3: with linearly independent weight vectors, the same realization gives the
    same canonical form whatever the permutation and rescaling."""
    d = 4
    net = _independent_net(seed, d, l, e, bias)
    perm = data.draw(st.permutations(range(l)))
    alpha = data.draw(st.lists(st.floats(0.05, 20.0), min_size=l, max_size=l))
    other = net.rescale_neurons(alpha).permute_neurons(perm)
    ca, cb = canonical_form(net), canonical_form(other)
    assert ca.width == cb.width
    np.testing.assert_allclose(ca.network.params, cb.network.params, rtol=1e-7, atol=1e-9)
    assert all(ca.mapping[np.array(perm)] == cb.mapping)
    # a neuron split into two redundant ones (same realization) has the same canonical form
    theta = data.draw(st.floats(0.1, 0.9))
    W1, W2 = other.weights
    b1, b2 = other.biases
    split = Network.from_weights(
        [np.vstack([W1, 2 * W1[:1]]), np.hstack([W2 * np.r_[theta, np.ones(l - 1)],
                                                 W2[:, :1] * (1 - theta) / 2])],
        [None if b1 is None else np.r_[b1, 2 * b1[0]], b2])
    cs = canonical_form(split)
    assert cs.mapping[0] == cs.mapping[l] == cb.mapping[0]
    np.testing.assert_allclose(cs.network.params, cb.network.params, rtol=1e-7, atol=1e-9)


def test_uniqueness_fails_for_opposite_pairs():
    """``ρ(⟨a,x⟩) − ρ(⟨−a,x⟩) = ⟨a,x⟩``: a linear function realized by pairs along any split."""
    def linear_by_pairs(s):
        v1, v2 = np.array([1.0, s]), np.array([0.0, -s])
        return net_of([v1, -v1, v2, -v2], [1.0, -1.0, 1.0, -1.0])

    nets = [linear_by_pairs(s) for s in (0.5, 1.0, 3.0)]
    X = np.random.default_rng(0).normal(size=(500, 2))
    for n in nets:
        np.testing.assert_allclose(n.forward(X)[:, 0], X[:, 0], atol=1e-12)
        assert sobolev_distance(n, nets[0]).value < 1e-12
    forms = [canonical_form(n, augment="none").network.params for n in nets]
    assert not np.allclose(forms[0], forms[1]) and not np.allclose(forms[1], forms[2])
    # the symmetries (permutations, rescalings) do not relate them: far apart in the orbit ...
    d = parameter_distance(nets[0], nets[2])
    assert d.value_balanced > 1.0
    # ... but Θ itself is a parametrization of R(Γ): the distance is 0, exactly
    assert d.value == 0.0 and d.exact


# --- symmetry additions -------------------------------------------------------------------------
def test_canonical_order_and_merge(rng):
    net = Network.initialize(Architecture(3, (5,), 2), seed=3)
    perm = rng.permutation(5)
    a = net.permute_neurons(canonical_neuron_order(net))
    b_net = net.permute_neurons(perm)
    b = b_net.permute_neurons(canonical_neuron_order(b_net))
    assert a == b
    W = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0], [0.0, 1.0]])
    m = merge_redundant_neurons(net_of(W, [1.0, -0.5, 2.0, 3.0]))
    assert m.groups == [[0, 1], [2], [3]] and m.mapping.tolist() == [0, 0, 1, 2]
    X = rng.normal(size=(100, 2))
    np.testing.assert_allclose(m.network.forward(X), net_of(W, [1.0, -0.5, 2.0, 3.0]).forward(X))


# --- distances ----------------------------------------------------------------------------------
def _fd_gradient_max(net_a, net_b, n_angles=20000, h=1e-7):
    phi = (np.arange(n_angles) + 0.5) * 2 * np.pi / n_angles
    P = np.stack([np.cos(phi), np.sin(phi)], axis=1)
    f = lambda Z: (net_a.forward(Z) - net_b.forward(Z))[:, 0]
    gx = (f(P + [h, 0]) - f(P - [h, 0])) / (2 * h)
    gy = (f(P + [0, h]) - f(P - [0, h])) / (2 * h)
    return float(np.sqrt(gx ** 2 + gy ** 2).max())


@pytest.mark.parametrize("seed", range(4))
def test_sobolev_2d_exact_against_brute_force_grid(seed):
    r = np.random.default_rng(seed)
    a = net_of(r.normal(size=(5, 2)), r.normal(size=5))
    b = net_of(r.normal(size=(4, 2)), r.normal(size=4))
    res = sobolev_distance(a, b)
    assert res.exact and res.method == "sorted angles"
    brute = _fd_gradient_max(a, b)
    assert brute <= res.value + 1e-6
    assert res.value == pytest.approx(brute, rel=1e-5)


def test_sobolev_with_coinciding_hyperplanes_2d():
    # opposite pair + redundant copy: x1 − ρ(−x1)·... the merged hyperplanes are handled
    a = net_of([[1.0, 0.0], [-2.0, 0.0], [0.0, 1.0]], [1.0, -0.5, 1.0])
    b = net_of([[3.0, 0.0]], [1.0 / 3.0])
    res = sobolev_distance(a, b)
    assert res.value == pytest.approx(_fd_gradient_max(a, b), rel=1e-6)


@pytest.mark.parametrize("D", [3, 4])
def test_region_enumeration_counts_and_matches_sampling(D):
    r = np.random.default_rng(D)
    A, C = r.normal(size=(7, D)), r.normal(size=(7, 1))
    signs, J = linear_regions(A, C)
    assert len(signs) == 2 * sum(math.comb(6, i) for i in range(D))      # generic arrangement
    assert len({s.tobytes() for s in signs}) == len(signs)
    Z = r.normal(size=(100_000, D))
    sampled = {row.tobytes() for row in np.sign(Z @ (A / np.linalg.norm(A, axis=1)[:, None]).T)}
    assert sampled <= {s.tobytes() for s in signs}
    res = sobolev_distance(net_of(A, C))
    assert res.exact
    assert res.value == pytest.approx(np.linalg.norm(J, axis=(1, 2)).max(), rel=1e-12)
    act = (Z @ A.T) > 0
    assert np.linalg.norm((act * C[:, 0]) @ A, axis=1).max() <= res.value + 1e-12


def test_sobolev_higher_dim_agrees_with_2d_embedding():
    r = np.random.default_rng(5)
    A, C = r.normal(size=(6, 2)), r.normal(size=6)
    A3 = np.concatenate([A, np.zeros((6, 1))], axis=1)
    two = sobolev_distance(net_of(A, C)).value
    # embedded exactly (a coordinate permutation): every hyperplane contains the same axis,
    # empty sides are proven by exact Gordan certificates and the value is exact
    three = sobolev_distance(net_of(A3[:, [2, 0, 1]], C))
    assert three.exact and three.value == two
    # rotated in floats the normals are no longer exactly coplanar: the fat 2-D regions
    # persist, and thin regions (width ~1e-16) appear that carry new sign patterns. They are
    # decided exactly (rational witnesses), and here one of them has a larger gradient.
    rot = sobolev_distance(net_of(A3 @ np.linalg.qr(r.normal(size=(3, 3)))[0], C))
    assert rot.exact and rot.value >= two * (1 - 1e-12)


def test_sobolev_certified_bounds_when_budget_runs_out():
    r = np.random.default_rng(11)
    A, C = r.normal(size=(14, 5)), r.normal(size=14)
    net = net_of(A, C)
    exact = sobolev_distance(net)
    assert exact.exact
    cut = sobolev_distance(net, max_nodes=3, n_samples=500)
    assert not cut.exact
    assert cut.lower <= exact.value + 1e-12 <= cut.upper + 2e-12
    assert "certified bounds" in cut.summary()


def test_sobolev_with_biases_uses_the_augmented_input():
    a = net_of([[1.0]], [1.0], biases=[np.array([-1.0]), None])   # ρ(x − 1)
    b = net_of([[1.0]], [1.0], biases=[np.array([1.0]), None])    # ρ(x + 1)
    res = sobolev_distance(a, b)
    assert res.augment == "bias" and res.dim == 2
    # on (x, t): gradients (1, −1) − (1, 1) = (0, −2) where both are active
    assert res.value == pytest.approx(math.sqrt(2.0) * 1.0 + 0.0, rel=1e-12) or res.value >= 2.0
    assert res.value == pytest.approx(max(2.0, math.sqrt(2.0)), rel=1e-12)


def test_uniform_distance_exact_box_and_disk_against_grids():
    r = np.random.default_rng(2)
    a = Network.from_weights([r.normal(size=(4, 2)), r.normal(size=(1, 4))],
                             [r.normal(size=4), np.array([0.3])])
    b = Network.from_weights([r.normal(size=(3, 2)), r.normal(size=(1, 3))],
                             [r.normal(size=3), None])
    g = np.linspace(-1, 2, 601)
    G = np.stack(np.meshgrid(g, np.linspace(-0.5, 1, 301)), -1).reshape(-1, 2)
    box = uniform_distance(a, b, Box((-1, -0.5), (2, 1)))
    grid = np.abs(a.forward(G) - b.forward(G)).max()
    assert box.exact and grid <= box.value + 1e-12 and box.value == pytest.approx(grid, rel=1e-3)
    disk = uniform_distance(a, b, Ball((0.5, 0.0), 1.3))
    P = Ball((0.5, 0.0), 1.3).sample(200_000, np.random.default_rng(0))
    phi = np.linspace(0, 2 * np.pi, 20001)
    P = np.concatenate([P, np.stack([0.5 + 1.3 * np.cos(phi), 1.3 * np.sin(phi)], 1)])
    samp = np.abs(a.forward(P) - b.forward(P)).max()
    assert not disk.exact and samp <= disk.value + 1e-12 and disk.value == pytest.approx(samp, rel=1e-4)
    high = uniform_distance(net_of(r.normal(size=(3, 5)), r.normal(size=3)),
                            net_of(r.normal(size=(3, 5)), r.normal(size=3)),
                            Ball((0.0,) * 5, 1.0), n_samples=2000)
    assert not high.exact and "lower bound" in high.summary()


# --- inverse stability --------------------------------------------------------------------------
def test_parameter_distance_is_zero_modulo_symmetries(rng):
    net = Network.initialize(Architecture(3, (4,), 2), seed=4)
    moved = net.rescale_neurons(rng.uniform(0.2, 5, 4)).permute_neurons(rng.permutation(4))
    pd = parameter_distance(net, moved)
    assert pd.value < 1e-9
    assert sorted(j for _, j in pd.assignment) == [0, 1, 2, 3]


def test_parameter_distance_bottleneck_against_brute_force(rng):
    for trial in range(5):
        a = net_of(rng.normal(size=(4, 2)), rng.normal(size=4))
        b = net_of(rng.normal(size=(4, 2)), rng.normal(size=4))
        pd = parameter_distance(a, b)
        fa, fb = shallow_form(a), shallow_form(b)
        best = np.inf
        sgrid = np.exp(np.linspace(-8, 8, 80001))
        cost = np.empty((4, 4))
        for i, j in itertools.product(range(4), range(4)):
            wa = np.abs(sgrid[:, None] * fb.A[j] - fa.A[i]).max(axis=1)
            ca = np.abs(fb.C[j] / sgrid[:, None] - fa.C[i]).max(axis=1)
            cost[i, j] = np.maximum(wa, ca).min()
        for perm in itertools.permutations(range(4)):
            best = min(best, max(cost[i, perm[i]] for i in range(4)))
        assert pd.value <= best + 1e-9 and pd.value == pytest.approx(best, rel=1e-3)
        assert pd.value <= pd.value_balanced + 1e-12


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_counterexample_families_blow_up(family):
    m = measure_family(family, ts=(1, 4, 16, 64))
    if family == "uniform":
        # W^{1,∞}: bounded; uniform norm: grows like t
        assert m.ratio.max() < 2.0
        assert m.ratio_uniform[-1] > 30 * m.ratio_uniform[0]
        assert m.exponent == pytest.approx(0.5, abs=0.1)
    else:
        assert np.all(np.diff(m.ratio) > 0)
        assert m.ratio[-1] > 30 * m.ratio[0]
        assert abs(m.exponent) < 0.1          # the parameter distance does not shrink at all
        assert m.parameter_distance.min() >= 0.5
        assert np.all(m.parameter_lower <= m.parameter_distance)
        if family in ("opposite", "nearly_cancelling"):
            # re-pairing (Lemma A.5) brings the distance down to 1/2 (t >= 2^(3/4)): pinned by
            # the exact lower bound and a float parametrization, not decided exactly
            assert np.all(m.parameter_distance[1:] == 0.5) and not np.any(m.parameter_exact[1:])
            assert np.all(m.parameter_lower == 0.5)
            assert m.ratio[1:] == pytest.approx(m.t[1:] / 2, rel=1e-12)
    json.dumps(m.to_dict())


@pytest.mark.parametrize("kind", RESTRICTED_KINDS)
def test_ratio_bounded_in_restricted_space(kind):
    m = measure_restricted(kind, etas=(0.1, 0.01, 0.001), seeds=3)
    for theta, gamma in [restricted_pair(kind, 0.01, seed=s) for s in range(3)]:
        assert restricted_space_membership(theta).in_restricted_space
        assert restricted_space_membership(gamma, tol=1e-6).in_restricted_space
    assert m.max_ratio < 2.0
    assert m.ratio[-1] <= m.ratio[0] * 5
    family = measure_family("redundant", ts=(1, 10, 100))
    assert family.max_ratio > 10 * m.max_ratio
    if kind == "tiny":
        assert m.exponent == pytest.approx(0.5, abs=0.02)      # the theorem's exponent, attained
    if kind == "outputs":
        assert m.exponent == pytest.approx(1.0, abs=0.1)


def test_fit_exponent_and_validation():
    f = np.array([1e-1, 1e-2, 1e-3])
    slope, local = fit_exponent(f, 3 * f ** 0.5)
    assert slope == pytest.approx(0.5) and np.allclose(local, 0.5)
    assert math.isnan(fit_exponent([1.0, 1.0], [1.0, 2.0])[0])
    with pytest.raises(ValidationError, match="family"):
        counterexample("nope", 2.0)
    with pytest.raises(ValidationError, match="kind"):
        restricted_pair("nope", 0.1)
    with pytest.raises(ValidationError, match="domain"):
        uniform_distance(net_of([[1.0]], [1.0]), net_of([[1.0]], [1.0]), Box((0, 0), (1, 1)))


def test_augment_inputs_and_c3_form():
    net = net_of([[1.0, -1.0]], [2.0], biases=[np.array([-0.5]), np.array([0.25])])
    form = shallow_form(net, "c3")
    assert form.A.shape == (2, 4) and np.all(form.A[:, -2:] > 0)
    X = np.random.default_rng(0).normal(size=(50, 2))
    np.testing.assert_allclose(form(X), net.forward(X), atol=1e-12)
    assert augment_inputs(X, "c3")[:, -2:].tolist() == [[1.0, -1.0]] * 50


def test_balanced_ratio_bounded_too_and_analyze_hook():
    m = measure_restricted("tiny", etas=(0.1, 0.001), seeds=2)
    assert np.all(m.ratio <= m.ratio_balanced + 1e-12) and m.max_ratio_balanced < 2.0
    from topoanalysis.analyze import analyze

    rep = analyze(hidden=3, seeds=1, train=False, out=None, progress=False)
    deg = rep.to_dict()["degeneracy"]
    assert deg["widths"] == [3, 3] and len(deg["canonical_widths"]) == 2
    assert all(deg["verified"])
    # the init and its obstructed twin are the same function: same canonical width
    assert deg["canonical_widths"][0] == deg["canonical_widths"][1]
    assert "canonical" in rep.text()
    json.dumps(deg)


def test_parameter_distance_tries_the_reduced_gamma():
    gamma = net_of([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]], [1.0, 1.0, 1.0])    # 0 and 1 redundant
    theta = net_of([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]], [1.0, 1.0, 0.0])    # merged + zero
    pd = parameter_distance(theta, gamma)
    assert pd.value < 1e-12 and sorted(pd.assignment) == [(0, -2), (1, -3), (2, -1)]
    assert parameter_distance(theta, gamma, reduce=False).value > 0.5


def test_sobolev_two_outputs_frobenius_against_grid():
    r = np.random.default_rng(21)
    a = Network.from_weights([r.normal(size=(4, 2)), r.normal(size=(2, 4))])
    b = Network.from_weights([r.normal(size=(3, 2)), r.normal(size=(2, 3))])
    res = sobolev_distance(a, b)
    phi = (np.arange(20000) + 0.5) * 2 * np.pi / 20000
    P, h = np.stack([np.cos(phi), np.sin(phi)], axis=1), 1e-7
    f = lambda Z: a.forward(Z) - b.forward(Z)
    Jx = (f(P + [h, 0]) - f(P - [h, 0])) / (2 * h)
    Jy = (f(P + [0, h]) - f(P - [0, h])) / (2 * h)
    brute = np.sqrt((Jx ** 2 + Jy ** 2).sum(axis=1)).max()
    assert res.value == pytest.approx(brute, rel=1e-5)
