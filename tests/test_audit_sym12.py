"""Audit of symmetry, graphs and obstruction at their edges (session 12, helper sym12).

Every case is compared with an independent reference written here: exact rational arithmetic
on the float weights (``fractions.Fraction``), brute force over all permutations (width <= 6),
dense NumPy forward passes.
"""

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.obstruction import reachability, zero_neurons
from topoanalysis.symmetry import (align, balance, balance_factors, balance_params,
                                   merge_redundant_neurons, weight_matching)


def _q(x):
    return Fraction(float(x))


def _forward(net, X):
    """Independent dense forward pass of a shallow network."""
    (W1, b1), (W2, b2) = net.arch.unpack(net.params)
    Z = X @ W1.T + (0.0 if b1 is None else b1)
    act, s = net.arch.activation, net.arch.negative_slope
    H = {"relu": lambda z: np.maximum(z, 0.0), "abs": np.abs, "linear": lambda z: z,
         "leaky_relu": lambda z: np.where(z > 0, z, s * z)}[act](Z)
    return H @ W2.T + (0.0 if b2 is None else b2)


# --- balance: a tiny neuron next to an ordinary one -------------------------------------------
def test_balance_rescales_a_tiny_neuron_next_to_an_ordinary_one():
    # the squares of the second neuron (1e-200, 1e-170) vanish in float64: it read as w_k = 0
    # and was left unbalanced (factor 1) whenever another entry of theta was ordinary
    net = Network.from_weights([np.array([[1.0, 0.0], [1e-200, 3e-201]]),
                                np.array([[2.0, 1e-170]])])
    alpha = balance_factors(net.arch, net.params)
    w, a = net.neuron_weights()
    for k in range(2):   # reference: α_k⁴ = ||a_k||² / ||w_k||², exactly in rationals
        ref = float((sum(_q(x) ** 2 for x in a[k]) / sum(_q(x) ** 2 for x in w[k]))) \
            if k == 0 else 10.0 ** 60 / (1 + 0.09)   # (1e-170)² / ((1e-200)² (1 + 0.3²))
        assert alpha[k] ** 4 == pytest.approx(ref, rel=1e-13)
    bw, ba = balance(net).neuron_weights()
    for k in range(2):   # ||w_k||² / ||a_k||² = 1 after balancing, ratio taken exactly
        ratio = sum(_q(x) ** 2 for x in bw[k]) / sum(_q(x) ** 2 for x in ba[k])
        assert float(ratio) == pytest.approx(1.0, rel=1e-14)
    # the batched form agrees with the single one, bit for bit
    stack = np.stack([net.params, net.params * 0.5])
    assert np.array_equal(balance_params(net.arch, stack)[0], balance(net).params)


# --- merging: tiny and huge weight vectors are not zero vectors --------------------------------
@pytest.mark.parametrize("sw,sa", [(1e-200, 1e200), (1e200, 1e-200), (2.0 ** -1000, 2.0 ** 990)])
def test_merge_keeps_the_function_with_tiny_or_huge_weight_vectors(sw, sa):
    net = Network.from_weights([np.array([[sw, 0.0], [1.0, 1.0], [2 * sw, 0.0]]),
                                np.array([[sa, 1.0, 0.5 * sa]])])
    res = merge_redundant_neurons(net, tol=0)
    assert res.groups == [[0, 2], [1]]
    X = np.array([[1.0, 0.5], [2.0, -1.0], [-1.0, 3.0]])
    assert np.allclose(_forward(res.network, X), _forward(net, X), rtol=1e-14, atol=0)


# --- weight matching: exact optimum against brute force --------------------------------------
def _exact_score(A, B, perm):
    return sum(sum(_q(x) * _q(y) for x, y in zip(A[i], B[j])) for i, j in enumerate(perm))


def _feats(net):
    w, a = balance(net).neuron_weights()
    return np.concatenate([w, a], axis=1)


@pytest.mark.parametrize("scale", [1.0, 2.0 ** -600, 2.0 ** 500])
def test_weight_matching_is_the_exact_optimum_with_one_ulp_neighbours(scale):
    rng = np.random.default_rng(12)
    wrong = 0
    for trial in range(60):
        l = int(rng.integers(2, 7))
        e = int(rng.integers(1, 3))
        arch = Architecture(2, (l,), e, hidden_bias=bool(trial % 2))
        th = rng.standard_normal(arch.n_params)
        a = Network(arch, th * scale)
        w, c = a.neuron_weights()
        w[1], c[1] = w[0], c[0]                              # 1-ulp neighbour of neuron 0
        w[1, 0] = np.nextafter(w[0, 0], np.inf)
        if l > 2:
            w[2], c[2] = w[0], c[0]                          # an exact duplicate
        a = Network(arch, arch.from_neuron_weights(w, c, arch.unpack(a.params)[1][1]))
        if trial % 3 == 0:
            b = a.rescale_neurons(2.0 ** rng.integers(-3, 4, l)).permute_neurons(
                rng.permutation(l))
        else:
            wb, cb = a.neuron_weights()                      # neighbours of a's neurons
            wb = wb + rng.integers(-1, 2, wb.shape) * np.spacing(wb)
            b = Network(arch, arch.from_neuron_weights(wb[rng.permutation(l)], cb,
                                                       arch.unpack(a.params)[1][1]))
        perm = weight_matching(a, b)
        A, B = _feats(a), _feats(b)
        best = max(_exact_score(A, B, p) for p in itertools.permutations(range(l)))
        wrong += _exact_score(A, B, perm) != best
    assert wrong == 0


def test_align_brings_back_a_copy_with_one_ulp_neighbours_exactly():
    # float scores cannot tell u from u + 1 ulp: half of the copies came back swapped, at a
    # positive distance, against "exactly 0 for rescalings by powers of two"
    rng = np.random.default_rng(0)
    for l in (4, 60):
        for _ in range(10):
            W1 = rng.standard_normal((l, 2))
            W2 = rng.standard_normal((1, l))
            W1[1] = W1[0]
            W1[1, 0] = np.nextafter(W1[0, 0], np.inf)
            W2[0, 1] = W2[0, 0]
            net = Network.from_weights([W1, W2])
            copy = net.rescale_neurons(2.0 ** rng.integers(-3, 4, l)).permute_neurons(
                rng.permutation(l))
            assert align(net, copy).distance_after == 0.0


# --- reachability: target weights whose squares leave float64 ---------------------------------
@pytest.mark.parametrize("w,a", [(1e-200, 1e200), (1e160, 1e-160), (3e-300, 7e-10)])
def test_reachability_rescales_targets_whose_squares_leave_float64(w, a):
    # α² ||w||² − ||a||² / α² = c_k was solved in float64: ||w||² = 0 or inf gave NaN weights
    # and a ValidationError about `params` instead of a result
    init = Network.from_weights([np.array([[1.0, 0.0], [0.2, 0.1]]),
                                 np.array([[0.5, -1.0]])])
    tgt = Network.from_weights([np.array([[w, 0.0], [3.0, 1.0]]), np.array([[a, -2.0]])])
    res = reachability(init, tgt)
    assert res.reachable and res.verified
    X = np.random.default_rng(1).standard_normal((50, 2))
    assert np.allclose(_forward(res.realization, X), _forward(tgt, X), rtol=1e-13, atol=1e-13)
    wr, ar = res.realization.neuron_weights()
    w0, a0 = init.neuron_weights()
    for k in range(2):   # on the initial quadrics, exactly up to the rounding of the weights
        ck = sum(_q(x) ** 2 for x in wr[k]) - sum(_q(x) ** 2 for x in ar[k])
        c0 = sum(_q(x) ** 2 for x in w0[k]) - sum(_q(x) ** 2 for x in a0[k])
        assert abs(float(ck - c0)) <= 1e-14
    json.dumps(res.to_dict(), allow_nan=False)


def test_reachability_orbit_mode_with_tiny_zero_neurons():
    # the orbit ratio c_k / ||w||² = 1e400 overflowed in float(Fraction)
    init = Network.from_weights([np.array([[1.0, 0.0]]), np.array([[0.5]])])
    res = reachability(init, Network.from_weights([np.array([[1e-200, 0.0]]),
                                                   np.array([[0.0]])]), zero_neurons="orbit")
    assert res.reachable and res.verified
    assert res.alphas[0] == pytest.approx(np.sqrt(0.75) * 1e200, rel=1e-14)


def test_reachability_realization_beyond_1e150_is_checked_exactly():
    init = Network.from_weights([np.array([[1.0, 0.0]]), np.array([[0.5]])])
    tgt = Network.from_weights([np.array([[1.0, 0.0]]), np.array([[1e302]])])
    res = reachability(init, tgt)    # the realization has weights near 1e151: no crash
    assert res.reachable
    assert res.alphas[0] == pytest.approx(1e151, rel=1e-14)
    assert np.isfinite(res.invariant_error)


# --- leaky_relu(0) is ReLU: its dead neurons are zero neurons ---------------------------------
def test_leaky_relu_with_slope_zero_has_the_dead_neurons_of_relu():
    verdicts = []
    for act in ("relu", "leaky_relu(0)"):
        arch = Architecture(1, (1,), 1, hidden_bias=True, output_bias=False, activation=act)
        init = Network(arch, arch.pack([np.array([[0.1]]), np.array([[-1.0]])],
                                       [np.array([0.0]), None]))
        dead = Network(arch, arch.pack([np.array([[0.0]]), np.array([[1.0]])],
                                       [np.array([-1.0]), None]))
        assert np.all(_forward(dead, np.linspace(-5, 5, 11)[:, None]) == 0)
        verdicts.append((zero_neurons(dead).tolist(), reachability(init, dead).reachable))
    assert verdicts == [([0], True), ([0], True)]


# --- component graphs: exact conserved quantities beyond float64 ------------------------------
def test_component_graph_decides_signs_of_exact_values_beyond_float64():
    # the docstring promises signs decided on the values given; 10**400 was refused as "not a
    # real number" (it overflows float64 before any sign is read)
    from topoanalysis.graphs import component_graph, frozen_kinds, number_effective_components

    assert frozen_kinds([10 ** 400, -1]) == (None, "a")
    assert frozen_kinds([-(10 ** 400), Fraction(10 ** 400, 3), 0.0], d=1) == ("a", "w", None)
    G = component_graph([-(10 ** 400), -1])
    assert sorted(G.nodes) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    assert number_effective_components(G) == 3
    with pytest.raises(Exception, match="`c`"):
        frozen_kinds([10 ** 400, float("nan")])


@pytest.mark.parametrize("s", [1e200, 1e-200, 2.0 ** -1070])
def test_align_distances_of_huge_and_tiny_networks(s):
    # ||θ_a − θ_b|| overflowed to inf at 1e200 and underflowed to 0 (two different networks
    # "at distance 0") at 1e-200
    arch = Architecture(2, (3,), 1)
    a, b = Network.initialize(arch, seed=0), Network.initialize(arch, seed=1)
    a = Network(arch, np.round(a.params * 8) / 8)       # multiples of 1/8: exact times s
    b = Network(arch, np.round(b.params * 8) / 8)
    r0 = align(a, b)
    r = align(Network(arch, a.params * s), Network(arch, b.params * s))
    ref = float(sum((_q(x) - _q(y)) ** 2 for x, y in zip(a.params, b.params))) ** 0.5 * s
    assert r.distance_before == pytest.approx(ref, rel=1e-14)
    assert r.distance_before > 0 and np.isfinite(r.distance_before)
    assert r.perm.tolist() == r0.perm.tolist()
    if s >= 1e-200:
        assert r.distance_after == pytest.approx(r0.distance_after * s, rel=1e-12)


@pytest.mark.parametrize("balance_mode", ["ratio", "kernel"])
def test_set_pathological_count_with_a_tiny_neuron(balance_mode):
    # ||w_k||² of a 1e-200-sized neuron underflowed to 0: refused as "zero input weights"
    from topoanalysis.obstruction import set_pathological_count

    net = Network.from_weights([np.array([[1.0, 0.5], [1e-200, 2e-200], [0.3, 1e-170]]),
                                np.array([[2.0, 1e-170, 1.0]])])
    X = np.random.default_rng(0).standard_normal((20, 2))
    for n in range(4):
        th = set_pathological_count(net.arch, net.params, n, balance=balance_mode, X=X)
        out = Network(net.arch, th)
        w, a = out.neuron_weights()
        signs = [1 if sum(_q(x) ** 2 for x in w[k]) > sum(_q(x) ** 2 for x in a[k]) else -1
                 for k in range(3)]
        assert signs == [1] * n + [-1] * (3 - n)
        assert np.allclose(_forward(out, X), _forward(net, X), rtol=1e-13, atol=0)
