"""Audit of the degenerate edges of ``degeneracy`` and ``obstruction`` (session 11).

Every case is built by hand with exact numbers (powers of two, dyadic rationals) and compared
with an independent computation written here: ``fractions.Fraction`` arithmetic, a brute-force
count, a closed form, or a numerical check of the realization.
"""

import itertools
import math
from fractions import Fraction as Q

import numpy as np
import pytest
from scipy import stats

from topoanalysis import Network
from topoanalysis.degeneracy import (Ball, Box, canonical_form, detect_degeneracies,
                                     parameter_distance, sobolev_distance)
from topoanalysis.obstruction.probability import event_probability, pathological_probability
from topoanalysis.obstruction.topology import network_topology, pathological_neurons


def net_of(W, a, biases=None):
    return Network.from_weights([np.asarray(W, float), np.asarray(a, float)], biases)


def exact_forward(net, x):
    """``R(net)(x)`` in rationals from the float parameters and the float point ``x``."""
    (W1, b1), (W2, b2) = net.arch.unpack(net.params)
    xq = [Q(float(v)) for v in x]
    hidden = []
    for k in range(W1.shape[0]):
        z = sum(Q(float(W1[k, i])) * xq[i] for i in range(len(xq)))
        if b1 is not None:
            z += Q(float(b1[k]))
        hidden.append(max(z, Q(0)))
    out = []
    for j in range(W2.shape[0]):
        y = sum(Q(float(W2[j, k])) * hidden[k] for k in range(len(hidden)))
        if b2 is not None:
            y += Q(float(b2[j]))
        out.append(y)
    return out


def random_net(rng, d, l, e, bias=False):
    W = rng.standard_normal((l, d))
    a = rng.standard_normal((e, l))
    b = [rng.standard_normal(l), rng.standard_normal(e)] if bias else None
    return net_of(W, a, b)


# --- canonical form -----------------------------------------------------------------------------
def test_canonical_form_permutation_invariant_when_neurons_agree_to_many_digits():
    # (1, 0) and (1, 2^-40) are distinct rays that agree to 12 decimals: the order step used
    # to keep them in input order, so the two permutations got different forms
    W = np.array([[1.0, 0.0], [1.0, 2.0 ** -40], [0.5, -0.25]])
    a = np.array([[1.0, 1.0, 2.0]])
    p = [1, 0, 2]
    for aug in ("none", "bias", "c3"):
        f1 = canonical_form(net_of(W, a), augment=aug)
        f2 = canonical_form(net_of(W[p], a[:, p]), augment=aug)
        assert np.array_equal(f1.network.params, f2.network.params), aug
        assert f1.exact and f2.exact and f1.verified and f2.verified


def test_canonical_form_idempotent_bit_for_bit():
    # balancing an already balanced form used to rescale by 1 ± ulp
    W = np.array([[1.0, 0.0], [1.0, 2.0 ** -40], [0.5, -0.25]])
    a = np.array([[1.0, 1.0, 2.0]])
    f = canonical_form(net_of(W, a), augment="c3")
    g = canonical_form(f.network, augment="none")
    assert np.array_equal(f.network.params, g.network.params)
    assert g.mapping.tolist() == list(range(f.width))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("aug", ["none", "c3"])
def test_canonical_form_invariances_on_random_networks(seed, aug):
    rng = np.random.default_rng(seed)
    d, l, e = 1 + seed % 3, 5, 1 + seed % 2
    net = random_net(rng, d, l, e, bias=(aug == "c3" and seed % 2 == 0))
    f = canonical_form(net, augment=aug)
    # idempotent
    g = canonical_form(f.network, augment="none")
    assert np.array_equal(f.network.params, g.network.params)
    # permutation
    perm = rng.permutation(l)
    fp = canonical_form(net.permute_neurons(perm), augment=aug)
    assert np.array_equal(f.network.params, fp.network.params)
    # positive rescaling by exact powers of two (the floats stay exact)
    s = np.ldexp(1.0, rng.integers(-6, 7, size=l)).astype(float)
    fs = canonical_form(net.rescale_neurons(s), augment=aug)
    assert np.array_equal(f.network.params, fs.network.params)
    # same function: against the exact realization of the input at many points
    X = rng.standard_normal((200, d)) * 4.0
    y = f(X)
    ref = np.array([[float(v) for v in exact_forward(net, x)] for x in X])
    assert np.max(np.abs(y - ref)) <= 1e-12 * (1 + np.max(np.abs(ref)))


def test_canonical_form_merges_exactly_parallel_and_keeps_nearly_parallel():
    w = np.array([0.75, -0.5])
    s = 1.0 + 2.0 ** -52
    w_near = w * s                      # rounded: check in rationals whether it is parallel
    exactly_parallel = Q(w_near[0]) * Q(w[1]) == Q(w_near[1]) * Q(w[0])
    W = np.array([w, 2.0 * w, w_near, -w])
    a = np.array([[1.0, 0.5, 1.0, 1.0]])
    f = canonical_form(net_of(W, a), augment="none")
    # w and 2w merge (same ray, decided exactly); -w stays (opposite ray: not a symmetry)
    assert f.mapping[0] == f.mapping[1]
    assert (f.mapping[2] == f.mapping[0]) == exactly_parallel
    assert f.width == (2 if exactly_parallel else 3)
    # merged output exact: 1 + 2 * 0.5 = 2 on the ray of w, balanced: ||w'|| = ||a'||
    X = np.array([[1.0, 0.0], [0.0, -1.0], [-1.0, 0.5], [2.0 ** -30, 3.0]])
    for x in X:
        assert f(x[None])[0, 0] == pytest.approx(float(exact_forward(net_of(W, a), x)[0]),
                                                 rel=1e-15, abs=1e-300)


def test_canonical_form_cancelled_and_zero_neurons_give_the_zero_function():
    # w, 2w with outputs 1, -1/2 cancel exactly; a zero neuron and a zero output
    W = np.array([[1.0, 3.0], [2.0, 6.0], [0.0, 0.0], [5.0, 1.0]])
    a = np.array([[1.0, -0.5, 7.0, 0.0]])
    f = canonical_form(net_of(W, a), augment="none")
    assert f.width == 0 and f.mapping.tolist() == [-1, -1, -1, -1] and f.exact


# --- detection --------------------------------------------------------------------------------
def _parallel_q(u, v):
    u, v = [Q(float(x)) for x in u], [Q(float(x)) for x in v]
    return all(u[i] * v[j] == u[j] * v[i] for i in range(len(u)) for j in range(len(u)))


@pytest.mark.parametrize("w2", [
    np.array([1.0, 3.0]) * (1 + 2.0 ** -52),          # rounded: not parallel to (1, 3)
    np.array([1.0, 2.0 ** -10 + 2.0 ** -60]),          # one entry moved by 2^-60
    np.array([2.0, 6.0]),                              # exactly parallel
    np.array([-0.5, -1.5]),                            # exactly opposite
    -np.array([1.0, 3.0]) * (1 + 2.0 ** -52),          # nearly opposite
])
def test_redundant_and_opposite_decided_exactly(w2):
    w1 = np.array([1.0, 3.0]) if abs(w2[1]) > 1e-2 else np.array([1.0, 2.0 ** -10])
    rep = detect_degeneracies(net_of([w1, w2], [[1.0, -1.0], [0.5, 2.0]]))
    par = _parallel_q(w1, w2)
    same = par and Q(float(w1 @ w2)) > 0
    assert (rep.neurons("redundant") == [0, 1]) == same
    assert (rep.neurons("opposite") == [0, 1]) == (par and not same)
    if not par:
        assert rep.neurons("redundant") == [] and rep.neurons("opposite") == []


def test_zero_neurons_with_vector_outputs():
    W = [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [2.0 ** -100, 0.0]]
    a = [[0.0, 1.0, 1.0, 1.0], [0.0, 1.0, 2.0 ** -200, 1.0]]
    rep = detect_degeneracies(net_of(W, a))
    # neuron 0: a = (0, 0); neuron 1: w = 0; neurons 2, 3 are not zero (however small)
    assert rep.neurons("zero") == [0, 1]


def test_dead_on_box_ball_and_data_exactly_at_the_boundary():
    box = Box([0.0, 0.0], [1.0, 1.0])
    W = [[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]
    b = [-1.0, -1.0 + 2.0 ** -52, -2.0, 0.0]   # kink on the box's edge / corner: dead
    rep = detect_degeneracies(net_of(W, [[1.0] * 4], [np.array(b), None]), domain=box)
    assert rep.neurons("dead") == [0, 2, 3]
    # unit disk: max = <w, 0> + b + ||w||; ||(1, 1)|| = sqrt 2 is irrational
    s2 = math.sqrt(2.0)
    ball = Ball([0.0, 0.0], 1.0)
    b = [-s2, -math.nextafter(s2, 0.0), -5.0, -5.0 + 2.0 ** -50]
    W = [[1.0, 1.0], [1.0, 1.0], [3.0, 4.0], [3.0, 4.0]]
    truth = [Q(s2) ** 2 >= 2, Q(math.nextafter(s2, 0.0)) ** 2 >= 2, True, False]
    rep = detect_degeneracies(net_of(W, [[1.0] * 4], [np.array(b), None]), domain=ball)
    assert rep.neurons("dead") == [k for k in range(4) if truth[k]]
    # data: 0.1 + 0.2 - 0.3 > 0 in the floats' rationals although it is 0 "in decimal"
    rep = detect_degeneracies(net_of([[1.0, 1.0]], [[1.0]], [np.array([-0.3]), None]),
                              X=np.array([[0.1, 0.2]]))
    assert (rep.neurons("dead") == []) == (Q(0.1) + Q(0.2) - Q(0.3) > 0)


# --- distances ---------------------------------------------------------------------------------
def test_parameter_distance_zero_exactly_for_the_same_function():
    # Θ = Γ rescaled by 4 (exact floats): the distance is 0; it was 8.9e-16 with exact=True
    # and a "certified" lower bound of 8.9e-16
    t = net_of([[3.0, 0.0], [0.0, 1.0]], [[0.1, 1.0]])
    g = net_of([[0.75, 0.0], [0.0, 1.0]], [[0.4, 1.0]])
    d = parameter_distance(t, g)
    assert d.value == 0.0 and d.lower == 0.0 and d.exact
    # permuted and rescaled by powers of two, dependent weight vectors (4 in R^2)
    rng = np.random.default_rng(1)
    W, a = rng.standard_normal((4, 2)), rng.standard_normal((1, 4))
    p, s = [2, 0, 3, 1], np.array([2.0, 0.5, 4.0, 1.0])
    g = net_of(W[p] * s[:, None], a[:, p] / s)
    d = parameter_distance(net_of(W, a), g)
    assert (d.value, d.lower, d.exact) == (0.0, 0.0, True)
    # ρ(x1) − ρ(−x1) = x1 = ½ρ(2x1) − 2ρ(−x1/2): another parametrization of the same function
    d = parameter_distance(net_of([[1.0, 0.0], [-1.0, 0.0]], [[1.0, -1.0]]),
                           net_of([[2.0, 0.0], [-0.5, 0.0]], [[0.5, -2.0]]))
    assert (d.value, d.exact) == (0.0, True)
    # a different function is never at distance 0
    d = parameter_distance(t, net_of([[3.0, 0.0], [0.0, 1.0]], [[0.1, 1.0 + 2.0 ** -52]]))
    assert d.value > 0


def _brute_w1inf_2d(nets_signs):
    """``max ||∇(Σ ± R(net))||`` on R², from the sectors between all kink rays."""
    angles = []
    for net, _ in nets_signs:
        W = net.arch.unpack(net.params)[0][0]
        for w in W:
            if np.any(w != 0):
                t = math.atan2(w[1], w[0])
                angles += [t + math.pi / 2, t - math.pi / 2]
    angles = sorted(a % (2 * math.pi) for a in angles) or [0.0]
    mids = [(angles[i] + (angles[i + 1] if i + 1 < len(angles) else angles[0] + 2 * math.pi))
            / 2 for i in range(len(angles))]
    best = 0.0
    for m in mids:
        x = np.array([math.cos(m), math.sin(m)])
        g = 0.0
        for net, sgn in nets_signs:
            (W1, _), (W2, _) = net.arch.unpack(net.params)
            g = g + sgn * (W2 @ ((W1 @ x > 0)[:, None] * W1))
        best = max(best, float(np.linalg.norm(g)))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_sobolev_distance_2d_against_sectors_and_exact_scaling(seed):
    rng = np.random.default_rng(10 + seed)
    A, B = random_net(rng, 2, 4, 1 + seed % 2), random_net(rng, 2, 3, 1 + seed % 2)
    r = sobolev_distance(A, B)
    assert r.exact
    assert r.value == pytest.approx(_brute_w1inf_2d([(A, 1), (B, -1)]), rel=1e-13)
    # outputs scaled by 2^k: the distance scales by 2^k exactly (its square by 4^k)
    k = 5
    A8 = Network(A.arch, np.concatenate([A.params[:A.arch.hidden[0] * 2],
                                         A.params[A.arch.hidden[0] * 2:] * 2.0 ** k]))
    B8 = Network(B.arch, np.concatenate([B.params[:B.arch.hidden[0] * 2],
                                         B.params[B.arch.hidden[0] * 2:] * 2.0 ** k]))
    r8 = sobolev_distance(A8, B8)
    assert Q(r8.squared) == Q(r.squared) * 4 ** k
    # zero exactly for permuted / power-of-two-rescaled parametrizations of the same function
    s = np.ldexp(1.0, rng.integers(-4, 5, size=4)).astype(float)
    same = A.rescale_neurons(s).permute_neurons(rng.permutation(4))
    z = sobolev_distance(A, same)
    assert z.value == 0.0 and z.exact


# --- obstruction ---------------------------------------------------------------------------------
def test_topology_signs_of_c_exact_when_float_c_rounds_to_zero():
    # c = ||(1, 2^-30)||² − 1² = 2^-60 exactly; the float sum gives 0
    net = net_of([[1.0, 2.0 ** -30]], [[1.0]])
    assert net.conserved_quantities()[0] == 0.0
    t = network_topology(net, atol=0.0)
    assert (t.l_plus, t.l_zero, t.l_minus) == (1, 0, 0)
    assert tuple(t.betti_numbers) == (1, 1)            # Q(c > 0), d = 2: S^1 × R
    # c = 1 − (1 + 2^-60) = −2^-60 with e = 2: pathological (Q(c < 0) ≃ S^1)
    net = net_of([[1.0]], [[1.0], [2.0 ** -30]])
    assert pathological_neurons(net, atol=0.0).tolist() == [0]
    t = network_topology(net, atol=0.0)
    assert t.pathological == (0,) and tuple(t.betti_numbers) == (1, 1)
    # d = 1, c = 2^-60 > 0: the sign of w is frozen, two components
    net = net_of([[1.0], [1.0]], [[1.0, 1.0], [0.0, 2.0 ** -30]])
    assert network_topology(net, atol=0.0).n_components == 1     # c_0 = 0, c_1 < 0, e = 2
    net = net_of([[1.0 + 2.0 ** -52]], [[1.0]])
    t = network_topology(net, atol=0.0)
    assert t.frozen_kinds == ("w",) and t.n_components == 2 and t.n_effective_components == 2


def test_topology_c_exactly_on_the_tolerance():
    atol = 2.0 ** -20
    # c = 1 − (1 − 2^-20) = 2^-20 = atol exactly: counts as zero; 2^-19 > atol does not
    on = net_of([[1.0]], [[1.0], [2.0 ** -10]], None)
    t = network_topology(Network.from_weights([np.array([[1.0], [1.0]]),
                                               np.array([[1.0, 1.0]])]), atol=atol)
    assert t.l_zero == 2
    w = np.array([[1.0, 2.0 ** -10], [1.0, 2.0 ** -9.5 if False else 2.0 ** -9]])
    t = network_topology(net_of(w, [[1.0, 1.0]]), atol=atol)
    assert t.signs.tolist() == [0, 1] and t.treated_as_zero == (0,)
    t = network_topology(net_of(w, [[1.0, 1.0]]), atol=0.0)
    assert t.signs.tolist() == [1, 1] and t.treated_as_zero == ()
    assert network_topology(on, atol=0.0).signs.tolist() == [-1]


def _brute_effective(signs, dw, e, flip_w):
    """Components and effective components of H(c) by enumerating generic sign states.

    A generic point gives every neuron signs ``(s_w, s_a)`` of ``w[0]`` and ``a[0]``; its
    component is the tuple of the frozen ones (``a`` for ``c < 0, e = 1``; ``w`` for
    ``c > 0, dw = 1``). A permutation moves neurons with their signs (rescaling keeps them);
    ``abs`` may also flip any ``s_w``. Union-find over components.
    """
    l = len(signs)
    kind = ["a" if s < 0 and e == 1 else "w" if s > 0 and dw == 1 else None for s in signs]

    def label(state):
        return tuple(state[k][0] if kind[k] == "w" else state[k][1]
                     for k in range(l) if kind[k] is not None)

    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for state in itertools.product(itertools.product((1, -1), repeat=2), repeat=l):
        L = label(state)
        find(L)
        moves = [tuple(state[p] for p in perm) for perm in itertools.permutations(range(l))]
        if flip_w:
            moves += [tuple((-s[0], s[1]) if i == k else s for i, s in enumerate(state))
                      for k in range(l)]
        for m in moves:
            ra, rb = find(L), find(label(m))
            if ra != rb:
                parent[ra] = rb
    labels = list(parent)
    return len(labels), len({find(x) for x in labels}), find


@pytest.mark.parametrize("dw,e,act", [(1, 1, "relu"), (2, 1, "relu"), (1, 2, "relu"),
                                      (2, 2, "relu"), (1, 1, "abs"), (3, 1, "abs")])
def test_components_and_effective_components_against_brute_force(dw, e, act):
    for l in (1, 2, 3):
        for signs in itertools.product((-1, 0, 1), repeat=l):
            n, n_eff, find = _brute_effective(signs, dw, e, act == "abs")
            # a network in every generic state; w and a along the first axis
            nets = {}
            for state in itertools.product(itertools.product((1, -1), repeat=2), repeat=l):
                W = np.zeros((l, dw))
                A = np.zeros((e, l))
                for k, (s, (sw, sa)) in enumerate(zip(signs, state)):
                    W[k, 0], A[0, k] = sw * (2.0 if s > 0 else 1.0), sa * (2.0 if s < 0 else 1.0)
                net = Network.from_weights([W, A], activation=act)
                top = network_topology(net, atol=0.0)
                assert top.n_components == n and top.n_effective_components == n_eff
                # the label is a node of the quotient graph (a count of positive frozen
                # signs): components of one brute-force class that are not related by a
                # permutation of equal-kind slots may get different nodes, but nodes never
                # span two classes
                cls = find(tuple(st[0] if kk == "w" else st[1] for st, kk in
                                 zip(state, top.frozen_kinds)))
                nets.setdefault(top.effective_component, cls)
                assert nets[top.effective_component] == cls
            assert len(set(nets.values())) == n_eff


def _grad(W, b, A, X, y):
    """MSE gradient of a shallow ReLU network with hidden biases (own implementation)."""
    Z = X @ W.T + b
    H = np.maximum(Z, 0.0)
    r = (H @ A.T - y) / len(X)
    gA = r.T @ H
    gZ = (r @ A) * (Z > 0)
    return gZ.T @ X, gZ.sum(axis=0), gA


def test_invariants_conserved_to_second_order_along_gradient_descent():
    rng = np.random.default_rng(3)
    d, l, e = 3, 4, 2
    W, b, A = rng.standard_normal((l, d)), rng.standard_normal(l), rng.standard_normal((e, l))
    X, y = rng.standard_normal((50, d)), rng.standard_normal((50, e))

    def c_of(W, b, A):
        return net_of(W, A, [b, np.zeros(e)]).conserved_quantities()

    gW, gb, gA = _grad(W, b, A, X, y)
    # first-order term <w, ∇_w L> − <a, ∇_a L> vanishes (positive homogeneity) ...
    first = np.sum(W * gW, axis=1) + b * gb - np.sum(A * gA, axis=0)
    assert np.max(np.abs(first)) < 1e-12
    # ... so one step of size η changes c_k by η² (||∇_w||² − ||∇_a||²)
    for eta in (1e-2, 1e-3):
        c1 = c_of(W - eta * gW, b - eta * gb, A - eta * gA)
        pred = eta ** 2 * (np.sum(gW ** 2, axis=1) + gb ** 2 - np.sum(gA ** 2, axis=0))
        assert np.allclose(c1 - c_of(W, b, A), pred, rtol=1e-4, atol=1e-15)
    # many small steps (Euler, total time 0.5): drift O(η), topology unchanged
    top0 = network_topology(net_of(W, A, [b, np.zeros(e)]))
    c0 = c_of(W, b, A)
    eta = 1e-4
    for _ in range(5000):
        gW, gb, gA = _grad(W, b, A, X, y)
        W, b, A = W - eta * gW, b - eta * gb, A - eta * gA
    assert np.max(np.abs(c_of(W, b, A) - c0)) < 1e-4
    assert network_topology(net_of(W, A, [b, np.zeros(e)])).component == top0.component


@pytest.mark.parametrize("d,l,e,scheme", [(3, 4, 1, "kaiming_normal"), (2, 5, 2, "xavier_normal"),
                                          (1, 3, 1, "kaiming_normal")])
def test_pathological_probability_against_closed_form_and_monte_carlo(d, l, e, scheme):
    r = pathological_probability(d, l, e, scheme)
    s1 = 2.0 / d if scheme == "kaiming_normal" else 2.0 / (d + l)
    s2 = 2.0 / l if scheme == "kaiming_normal" else 2.0 / (l + e)
    assert float(r.p) == pytest.approx(stats.f.sf(d * s1 / (e * s2), e, d), rel=1e-12)
    rng = np.random.default_rng(7)
    n = 400_000
    cw = s1 * rng.chisquare(d, n)
    ca = s2 * rng.chisquare(e, n)
    p_mc = float(np.mean(cw - ca < 0))
    assert abs(p_mc - float(r.p)) < 5 * math.sqrt(p_mc * (1 - p_mc) / n)
    for event in ("all_pathological", "obstructed", "disconnected", "per_neuron"):
        v = float(event_probability(r.p, l, event, dimension_w=d, e=e))
        assert 0.0 <= v <= 1.0


@pytest.mark.parametrize("d,e", [(1, 1), (2, 1), (1, 2)])
def test_event_probabilities_against_counted_topologies(d, e):
    # seeded Monte Carlo over networks, each classified by network_topology
    l, n = 2, 1500
    rng = np.random.default_rng(11)
    p = float(pathological_probability(d, l, e, "kaiming_normal").p)
    counts = {"obstructed": 0, "disconnected": 0, "all_pathological": 0}
    comps = 0
    for _ in range(n):
        W = rng.standard_normal((l, d)) * math.sqrt(2.0 / d)
        A = rng.standard_normal((e, l)) * math.sqrt(2.0 / l)
        t = network_topology(net_of(W, A), atol=0.0)
        counts["obstructed"] += t.obstructed
        counts["disconnected"] += t.disconnected
        counts["all_pathological"] += t.l_minus == l
        comps += t.n_components
    for event, k in counts.items():
        q = float(event_probability(p, l, event, dimension_w=d, e=e))
        assert abs(k / n - q) < 5 * math.sqrt(max(q * (1 - q), 1e-4) / n) + 1e-12, event
    exp_c = float(event_probability(p, l, "expected_components", dimension_w=d, e=e))
    assert abs(comps / n - exp_c) < 0.15


def test_inverse_stability_ratio_for_two_parametrizations_of_one_function():
    # ρ(x1) - ρ(-x1) + ρ(-x2) - ρ(x2) along two splits: the same linear function; the ratio
    # was inf (parameter "distance" 1, function distance 0), a false failure of stability
    from topoanalysis.degeneracy import inverse_stability

    def linear_by_pairs(s):
        v1, v2 = np.array([1.0, s]), np.array([0.0, -s])
        return net_of([v1, -v1, v2, -v2], [[1.0, -1.0, 1.0, -1.0]])

    m = inverse_stability(linear_by_pairs(0.5), linear_by_pairs(3.0),
                          domain=Box([-1.0, -1.0], [1.0, 1.0]))
    assert m.sobolev.value == 0.0 and m.parameter.value == 0.0 and m.parameter.exact
    assert m.ratio == 0.0 and m.ratio_uniform == 0.0
