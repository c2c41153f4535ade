"""Extra sign symmetries: ``abs`` (w -> -w) is used, ``linear`` (GL(l), matrix invariant) refused.

Every verdict is checked numerically: a realization is verified by reachability itself, and
gradient descent is run where the old per-neuron verdict and the dynamics disagreed.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topoanalysis import Architecture, Network, NotSupportedError
from topoanalysis.dynamics import train
from topoanalysis.obstruction.topology import network_topology, pathological_neurons, reachability


def net(W1, W2, activation):
    return Network.from_weights([np.asarray(W1, float), np.asarray(W2, float)],
                                activation=activation)


def fit(init, X, Y, steps, lr):
    res = train(init.params, X, Y, arch=init.arch, loss="mse", optimizer="gd", lr=lr,
                steps=steps, record_every=steps, progress=False)
    return float(res.final_loss[0]), Network(init.arch, res.params[0])


# --- linear: refused, and why ----------------------------------------------------------
def test_linear_is_refused_with_the_reason():
    example = Network.from_weights([[[0.3, 0.2]], [[1.0]]], activation="linear")
    with pytest.raises(NotSupportedError, match=r"W1 W1\^T - W2\^T W2"):
        network_topology(example)
    with pytest.raises(NotSupportedError, match="linear network"):
        reachability(example, example)
    same = Network.from_weights([[[0.3, 0.2]], [[1.0]]], activation="leaky_relu(1)")
    with pytest.raises(NotSupportedError, match="linear network"):
        network_topology(same)
    assert pathological_neurons(example).tolist() == [0]   # the plain facts are still given


def test_linear_example_crosses_what_a_per_neuron_verdict_calls_an_obstruction():
    # c = 0.13 - 1 < 0 and e = 1: for ReLU the sign of a is frozen and a target that needs the
    # other sign of the neuron's function is unreachable. For the linear network the same
    # target is reached by gradient descent with a still positive: (w, a) -> (-w, -a) keeps
    # the function, so the per-neuron obstruction is not one.
    example = Network.from_weights([[[0.3, 0.2]], [[1.0]]], activation="linear")
    X = np.random.default_rng(0).normal(size=(40, 2))
    Y = X @ np.array([[-0.8], [0.5]])                    # needs a·w = (-0.8, 0.5)
    loss, final = fit(example, X, Y, steps=3000, lr=0.1)
    assert loss < 1e-12
    assert final.weights[1][0, 0] > 0.9                  # a stays on its sheet (a² >= 0.87)
    relu_twin = net([[0.3, 0.2]], [[1.0]], "relu")
    relu_target = net([[0.8, -0.5]], [[-1.0]], "relu")
    assert not reachability(relu_twin, relu_target).reachable


def test_linear_matrix_invariant_is_more_than_the_diagonal():
    # Two linear neurons: flipping one neuron keeps H(c) and the function but changes the
    # off-diagonal entry of W1 W1^T - W2^T W2, which gradient descent conserves (to O(lr^2)).
    rng = np.random.default_rng(1)
    n = net(rng.normal(size=(2, 3)), rng.normal(size=(1, 2)), "linear")
    W1, W2 = n.weights
    M = W1 @ W1.T - W2.T @ W2
    flipped = net(W1 * np.array([[-1.0], [1.0]]), W2 * np.array([[-1.0, 1.0]]), "linear")
    V1, V2 = flipped.weights
    M_flipped = V1 @ V1.T - V2.T @ V2
    X = rng.normal(size=(20, 3))
    assert np.allclose(n.forward(X), flipped.forward(X))
    assert np.allclose(np.diag(M), np.diag(M_flipped))
    assert abs(M[0, 1] - M_flipped[0, 1]) > 0.1
    _, trained = fit(n, X, X @ rng.normal(size=(3, 1)), steps=2000, lr=1e-3)
    T1, T2 = trained.weights
    assert np.max(np.abs(T1 @ T1.T - T2.T @ T2 - M)) < 1e-3


# --- abs: w -> -w is used ----------------------------------------------------------------
def test_abs_frozen_input_signs_are_not_an_obstruction():
    W1, W2 = [[1.0], [2.0]], [[0.3, 0.5]]                # d = 1, no bias, c > 0: w frozen
    relu = network_topology(net(W1, W2, "relu"))
    ab = network_topology(net(W1, W2, "abs"))
    assert relu.n_components == ab.n_components == 4    # the topology of H(c) is the same
    assert relu.obstructed and relu.n_effective_components == 3
    assert not ab.obstructed and ab.n_effective_components == 1
    assert ab.sign_symmetries == ("w_k -> -w_k",)
    assert "w_k -> -w_k" in ab.summary() and ab.to_dict()["sign_symmetries"] == ["w_k -> -w_k"]
    leaky = network_topology(net(W1, W2, "leaky_relu(-1)"))   # |z| spelled as leaky ReLU
    assert leaky.n_effective_components == 1

    target_W1, target_W2 = [[-1.5], [0.7]], [[0.4, -0.6]]
    assert not reachability(net(W1, W2, "relu"), net(target_W1, target_W2, "relu")).reachable
    res = reachability(net(W1, W2, "abs"), net(target_W1, target_W2, "abs"))
    assert res.reachable and res.verified and "flipped" in res.reason
    # and gradient descent gets there, with the input weights still positive
    X = np.linspace(-2, 2, 21)[:, None]
    Y = net(target_W1, target_W2, "abs").forward(X)
    loss, final = fit(net(W1, W2, "abs"), X, Y, steps=2000, lr=0.05)
    assert loss < 1e-12
    assert np.all(final.weights[0] > 0)


def test_abs_pathological_output_signs_stay_an_obstruction():
    W1 = [[0.1, 0.0], [0.0, 0.1], [0.1, 0.1]]
    init = net(W1, [[-1.0, -1.0, -1.0]], "abs")         # all pathological, a < 0, d = 2
    top = network_topology(init)
    assert top.obstructed and top.n_effective_components == 4
    target = net([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], [[2.0, -1.0, 0.5]], "abs")
    res = reachability(init, target)
    assert not res.reachable
    assert "3 pathological neurons with negative output weight" in res.reason


def brute_force_abs(init, target):
    """Every permutation and every flip w -> -w of the target's neurons, rescaled exactly."""
    top = network_topology(init)
    c0 = top.conserved_quantities
    wt, at = target.neuron_weights()
    l = len(c0)
    for perm in itertools.permutations(range(l)):
        for flips in itertools.product((1.0, -1.0), repeat=l):
            w, a = np.empty_like(wt), np.empty_like(at)
            for k, j in enumerate(perm):
                W, A = wt[j] @ wt[j], at[j] @ at[j]
                u = float(np.max(np.roots([W, -c0[k], -A]).real))
                w[k], a[k] = flips[k] * np.sqrt(u) * wt[j], at[j] / np.sqrt(u)
            cand = net(w, a.T, "abs")
            if network_topology(cand).component == top.component:
                return True
    return False


@settings(max_examples=25)
@given(seed=st.integers(0, 10 ** 6), l=st.integers(1, 3), d=st.integers(1, 2),
       e=st.integers(1, 2), scale=st.sampled_from([0.3, 1.0, 3.0]))
def test_abs_reachability_against_brute_force(seed, l, d, e, scale):
    rng = np.random.default_rng(seed)
    init = net(scale * rng.normal(size=(l, d)), rng.normal(size=(e, l)), "abs")
    target = net(rng.normal(size=(l, d)), rng.normal(size=(e, l)), "abs")
    res = reachability(init, target)
    assert res.reachable == brute_force_abs(init, target)
    if res.reachable:
        assert res.verified


@settings(max_examples=25)
@given(seed=st.integers(0, 10 ** 6), l=st.integers(1, 4), d=st.integers(1, 3),
       e=st.integers(1, 2))
def test_abs_effective_components_formula(seed, l, d, e):
    arch = Architecture(d, (l,), e, hidden_bias=False, activation="abs")
    top = network_topology(Network.initialize(arch, "xavier_normal", seed=seed))
    # only frozen output-weight signs (every neuron pathological, e = 1) obstruct
    all_a = e == 1 and top.l_minus == l
    assert top.n_effective_components == (l + 1 if all_a else 1)


# --- the probability layer uses the same symmetries --------------------------------------
def test_probability_events_follow_the_activation():
    from topoanalysis.obstruction.probability import obstruction_probability

    kw = dict(e=1, scheme="xavier_normal")
    relu = float(obstruction_probability(1, 3, event="obstructed", **kw))
    ab = float(obstruction_probability(1, 3, event="obstructed", activation="abs", **kw))
    p = float(obstruction_probability(1, 3, event="per_neuron", activation="abs", **kw))
    assert relu == pytest.approx(p ** 3 + (1 - p) ** 3)
    assert ab == pytest.approx(p ** 3)                    # only frozen output signs obstruct
    # checked against network_topology on sampled abs networks (Monte Carlo, 4 s.e.)
    n = 400
    arch = Architecture(1, (3,), 1, hidden_bias=False, output_bias=False, activation="abs")
    hits = np.mean([network_topology(Network.initialize(arch, "xavier_normal", seed=s)).obstructed
                    for s in range(n)])
    assert abs(hits - ab) <= 4 * np.sqrt(ab * (1 - ab) / n) + 1e-9
    with pytest.raises(NotSupportedError, match="linear networks"):
        obstruction_probability(2, 3, event="obstructed", activation="linear", **kw)
    # facts about H(c) itself stay available for linear networks
    q = float(obstruction_probability(2, 3, event="per_neuron", activation="linear", **kw))
    assert float(obstruction_probability(2, 3, event="all_pathological", activation="linear",
                                         **kw)) == pytest.approx(q ** 3)
