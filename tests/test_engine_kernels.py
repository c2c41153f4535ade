"""Batched forward/backward of the compiled engine against the NumPy reference.

References: :func:`topoanalysis.network.forward`, :func:`topoanalysis.network.loss_and_gradient`
and central finite differences.
"""

import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topoanalysis import Architecture, DivergenceWarning, Network, ShapeError, ValidationError
from topoanalysis.activations import ACTIVATIONS
from topoanalysis.losses import LOSSES
from topoanalysis.network import forward, loss_and_gradient
from topoanalysis.dynamics import batch_forward, batch_loss_and_gradient

RTOL = 1e-10

ARCHS = {
    "shallow-bias-e1": dict(inputs=4, hidden=(5,), outputs=1),
    "shallow-nobias-e3": dict(inputs=3, hidden=(6,), outputs=3, hidden_bias=False,
                              output_bias=False),
    "shallow-hidden-bias-only-e2": dict(inputs=5, hidden=(7,), outputs=2, output_bias=False),
    "deep-2-hidden-e2": dict(inputs=4, hidden=(5, 3), outputs=2),
}


def make_targets(rng, loss, n, e):
    if loss == "bce":
        return rng.uniform(size=(n, e))
    if loss == "cross_entropy":
        return np.eye(e)[rng.integers(0, e, n)]
    return rng.standard_normal((n, e))


def rel_err(a, b):
    scale = max(np.max(np.abs(b)), 1e-300)
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / scale


@pytest.mark.parametrize("arch_name", sorted(ARCHS))
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS + ("leaky_relu(0.3)",))
def test_loss_and_gradient_match_reference(arch_name, loss, activation):
    spec = ARCHS[arch_name]
    if loss == "cross_entropy" and spec["outputs"] == 1:
        spec = dict(spec, outputs=2)
    arch = Architecture(activation=activation, **spec)
    rng = np.random.default_rng(zlib.crc32(f"{arch_name}/{loss}/{activation}".encode()))
    n = 37  # not a multiple of the engine's block size
    X = rng.standard_normal((n, arch.inputs))
    Y = make_targets(rng, loss, n, arch.outputs)
    theta = rng.standard_normal((3, arch.n_params))
    value, grad = batch_loss_and_gradient(theta, X, Y, arch=arch, loss=loss, n_threads=2)
    ref_value, ref_grad = loss_and_gradient(arch, theta, X, Y, loss)
    assert value.shape == (3,) and grad.shape == (3, arch.n_params)
    assert rel_err(value, ref_value) < RTOL
    assert rel_err(grad, ref_grad) < RTOL
    out = batch_forward(theta, X, arch=arch)
    assert out.shape == (3, n, arch.outputs)
    assert rel_err(out, forward(arch, theta, X)) < RTOL


@pytest.mark.parametrize("activation", ["relu", "leaky_relu(0.2)", "abs", "linear"])
def test_kink_derivative_convention(activation):
    # neuron 0 has zero incoming weights and bias: z = 0 exactly on every sample
    arch = Architecture(3, (4,), 2, activation=activation)
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(arch.n_params)
    (W1, b1), _ = arch.unpack(theta)
    W1[0] = 0.0
    b1[0] = 0.0
    X = rng.standard_normal((20, 3))
    Y = rng.standard_normal((20, 2))
    value, grad = batch_loss_and_gradient(theta, X, Y, arch=arch, loss="mse")
    ref_value, ref_grad = loss_and_gradient(arch, theta, X, Y, "mse")
    assert rel_err(grad[0], ref_grad) < RTOL


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_gradient_matches_finite_differences(loss, activation):
    arch = Architecture(3, (4, 3), 2, activation=activation)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((25, 3))
    Y = make_targets(rng, loss, 25, 2)
    theta = rng.standard_normal(arch.n_params)
    _, grad = batch_loss_and_gradient(theta, X, Y, arch=arch, loss=loss)
    h = 1e-6
    steps = h * np.eye(arch.n_params)
    plus, _ = batch_loss_and_gradient(theta + steps, X, Y, arch=arch, loss=loss)
    minus, _ = batch_loss_and_gradient(theta - steps, X, Y, arch=arch, loss=loss)
    fd = (plus - minus) / (2 * h)
    # relu and l1 are piecewise smooth: a kink inside the stencil is unlikely at this h
    assert np.max(np.abs(fd - grad[0])) < 1e-6 * max(1.0, np.max(np.abs(grad)))


@pytest.mark.parametrize("loss", LOSSES)
def test_results_do_not_depend_on_thread_count(loss):
    arch = Architecture(6, (9,), 3, activation="tanh")
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 6))
    Y = make_targets(rng, loss, 50, 3)
    theta = rng.standard_normal((7, arch.n_params))
    one = batch_loss_and_gradient(theta, X, Y, arch=arch, loss=loss, n_threads=1)
    two = batch_loss_and_gradient(theta, X, Y, arch=arch, loss=loss, n_threads=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])
    assert np.array_equal(batch_forward(theta, X, arch=arch, n_threads=1),
                          batch_forward(theta, X, arch=arch, n_threads=2))


def test_network_objects_and_single_vector():
    arch = Architecture(2, (3,), 1)
    nets = [Network.initialize(arch, seed=s) for s in range(3)]
    X = np.random.default_rng(3).standard_normal((10, 2))
    y = X[:, 0]
    value, grad = batch_loss_and_gradient(nets, X, y)
    single, _ = batch_loss_and_gradient(nets[1].params, X, y, arch=arch)
    assert value.shape == (3,) and single.shape == (1,)
    assert value[1] == single[0]
    assert np.isclose(value[0], nets[0].loss(X, y))


def test_class_labels_for_cross_entropy():
    arch = Architecture(3, (4,), 3)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((12, 3))
    labels = rng.integers(0, 3, 12)
    theta = rng.standard_normal(arch.n_params)
    value, _ = batch_loss_and_gradient(theta, X, labels, arch=arch, loss="cross_entropy")
    ref, _ = loss_and_gradient(arch, theta, X, np.eye(3)[labels], "cross_entropy")
    assert rel_err(value, ref) < RTOL


def test_extreme_logits_stay_accurate():
    # saturated BCE: exp(-|o|) underflows, log1p of tiny values must stay relative-accurate
    arch = Architecture(1, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X = np.array([[1.0], [2.0], [-3.0], [0.5]])
    Y = np.array([[1.0], [1.0], [0.0], [1.0]])
    for scale in (1.0, 5.0, 30.0, 200.0, 800.0):
        theta = np.array([scale, 1.0])
        value, grad = batch_loss_and_gradient(theta, X, Y, arch=arch, loss="bce")
        ref_value, ref_grad = loss_and_gradient(arch, theta, X, Y, "bce")
        assert abs(value[0] - ref_value) <= 1e-12 * abs(ref_value) + 1e-300
        assert rel_err(grad[0], ref_grad) < 1e-12 or np.max(np.abs(ref_grad)) < 1e-300


def test_non_finite_outputs_warn():
    arch = Architecture(2, (3,), 1)
    theta = np.full((2, arch.n_params), 1e200)
    theta[1] = 0.1
    X = np.ones((4, 2))
    with pytest.warns(DivergenceWarning, match="1 of 2 networks"):
        value, _ = batch_loss_and_gradient(theta, X, np.ones(4), arch=arch)
    assert not np.isfinite(value[0]) and np.isfinite(value[1])


def test_bad_inputs_name_the_parameter():
    arch = Architecture(2, (3,), 1)
    theta = np.zeros(arch.n_params)
    X = np.ones((4, 2))
    with pytest.raises(ValidationError, match="`arch`"):
        batch_loss_and_gradient(theta, X, np.ones(4))
    with pytest.raises(ShapeError, match="`theta`"):
        batch_loss_and_gradient(np.zeros(5), X, np.ones(4), arch=arch)
    with pytest.raises(ShapeError, match="`X`"):
        batch_loss_and_gradient(theta, np.ones((4, 3)), np.ones(4), arch=arch)
    with pytest.raises(ShapeError, match="`y`"):
        batch_loss_and_gradient(theta, X, np.ones(5), arch=arch)
    with pytest.raises(ValidationError, match="`y`"):
        batch_loss_and_gradient(theta, X, [0, 1, np.nan, 1], arch=arch)
    with pytest.raises(ValidationError, match="`theta`"):
        batch_loss_and_gradient(np.full(arch.n_params, np.inf), X, np.ones(4), arch=arch)
    with pytest.raises(ValidationError, match="`loss`"):
        batch_loss_and_gradient(theta, X, np.ones(4), arch=arch, loss="hinge")
    with pytest.raises(ValidationError, match="`n_threads`"):
        batch_loss_and_gradient(theta, X, np.ones(4), arch=arch, n_threads=0)
    other = Network.initialize(Architecture(2, (4,), 1))
    with pytest.raises(ValidationError, match="`arch`"):
        batch_loss_and_gradient(other, X, np.ones(4), arch=arch)


@settings(max_examples=40, deadline=None)
@given(
    d=st.integers(1, 6), widths=st.lists(st.integers(1, 9), min_size=1, max_size=3),
    e=st.integers(1, 3), n=st.integers(1, 40), b=st.integers(1, 4),
    activation=st.sampled_from(ACTIVATIONS), loss=st.sampled_from(LOSSES),
    hidden_bias=st.booleans(), output_bias=st.booleans(), seed=st.integers(0, 2**31),
)
def test_random_shapes_match_reference(d, widths, e, n, b, activation, loss, hidden_bias,
                                       output_bias, seed):
    arch = Architecture(d, tuple(widths), e, hidden_bias=hidden_bias, output_bias=output_bias,
                        activation=activation)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = make_targets(rng, loss, n, e)
    theta = rng.standard_normal((b, arch.n_params))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = batch_loss_and_gradient(theta, X, Y, arch=arch, loss=loss)
    ref_value, ref_grad = loss_and_gradient(arch, theta, X, Y, loss)
    assert np.all(np.abs(value - ref_value) <= RTOL * np.maximum(np.abs(ref_value), 1e-12))
    assert rel_err(grad, ref_grad) < RTOL or np.max(np.abs(ref_grad)) < 1e-14
    assert rel_err(batch_forward(theta, X, arch=arch), forward(arch, theta, X)) < RTOL
