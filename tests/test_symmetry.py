"""Balancing and weight matching (topoanalysis.symmetry)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from topoanalysis import Architecture, Network, NotSupportedError
from topoanalysis.symmetry import align, balance, balance_params, weight_matching


@given(seed=st.integers(0, 10_000), width=st.integers(1, 7), bias=st.booleans(),
       act=st.sampled_from(["relu", "leaky_relu", "abs", "linear"]))
@settings(max_examples=30, deadline=None)
def test_balance_keeps_function_and_balances(seed, width, bias, act):
    arch = Architecture(3, (width,), 2, hidden_bias=bias, activation=act)
    net = Network.initialize(arch, "normal", seed=seed, std=1.0)
    b = balance(net)
    X = np.random.default_rng(seed).normal(size=(20, 3))
    assert np.allclose(b.forward(X), net.forward(X), atol=1e-12)
    assert np.allclose(b.conserved_quantities(), 0.0, atol=1e-12)
    # idempotent
    assert np.allclose(balance(b).params, b.params, atol=1e-14)


def test_balance_params_batched_matches_single():
    arch = Architecture(2, (3,), 1)
    theta = np.random.default_rng(1).normal(size=(4, arch.n_params))
    out = balance_params(arch, theta)
    for i in range(4):
        assert np.allclose(out[i], balance(Network(arch, theta[i])).params)


def test_zero_neurons_are_left_alone():
    net = Network.from_weights([[[0.0, 0.0], [1.0, 2.0]], [[3.0, 0.0]]])
    b = balance(net)
    w, a = b.neuron_weights()
    assert np.allclose(w[0], 0) and a[0, 0] == 3.0 and a[1, 0] == 0.0


@given(seed=st.integers(0, 10_000), width=st.integers(2, 8))
@settings(max_examples=30, deadline=None)
def test_align_recovers_permutation_and_rescaling(seed, width):
    rng = np.random.default_rng(seed)
    net = Network.initialize(Architecture(4, (width,), 1), "normal", seed=seed, std=1.0)
    perm = rng.permutation(width)
    copy = net.rescale_neurons(rng.uniform(0.2, 5.0, size=width)).permute_neurons(perm)
    res = align(net, copy)
    assert np.array_equal(copy.permute_neurons(res.perm).permute_neurons(np.argsort(perm)).params
                          .shape, net.params.shape)
    assert np.array_equal(perm[res.perm], np.arange(width))
    assert res.distance_after < 1e-10
    X = rng.normal(size=(10, 4))
    assert np.allclose(res.network.forward(X), copy.forward(X))


def test_weight_matching_without_balancing_for_tanh():
    net = Network.initialize(Architecture(3, (4,), 1, activation="tanh"), seed=0)
    copy = net.permute_neurons([3, 1, 0, 2])
    perm = weight_matching(net, copy)
    assert np.array_equal(copy.permute_neurons(perm).params, net.params)
    with pytest.raises(NotSupportedError, match="homogeneous"):
        balance(net)
    with pytest.raises(NotSupportedError, match="shallow"):
        balance(Network.initialize(Architecture(3, (4, 4), 1), seed=0))
