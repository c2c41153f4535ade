import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from topoanalysis import Architecture, Network, NotSupportedError, ShapeError, ValidationError
from topoanalysis.activations import ACTIVATIONS, HOMOGENEOUS_ACTIVATIONS
from topoanalysis.init import SCHEMES, init_params, layer_std
from topoanalysis.network import conserved_quantities, forward, loss_and_gradient


@st.composite
def networks(draw, activations=ACTIVATIONS, max_depth=2):
    depth = draw(st.integers(1, max_depth))
    arch = Architecture(
        inputs=draw(st.integers(1, 4)),
        hidden=tuple(draw(st.integers(1, 5)) for _ in range(depth)),
        outputs=draw(st.integers(1, 3)),
        hidden_bias=draw(st.booleans()),
        output_bias=draw(st.booleans()),
        activation=draw(st.sampled_from(activations)),
        negative_slope=0.2,
    )
    seed = draw(st.integers(0, 2**16))
    scheme = draw(st.sampled_from([s for s in SCHEMES if s != "normal"]))
    return Network.initialize(arch, scheme, seed=seed, bias_init="same")


def data_for(net, n=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, net.arch.inputs))


# --- layout -------------------------------------------------------------------------------
@given(networks())
def test_pack_unpack_roundtrip(net):
    arch = net.arch
    again = arch.pack(net.weights, net.biases)
    np.testing.assert_array_equal(again, net.params)
    stack = np.stack([net.params, 2 * net.params])
    layers = arch.unpack(stack)
    for (W, b), W1 in zip(layers, net.weights):
        np.testing.assert_array_equal(W[0], W1)
        np.testing.assert_array_equal(W[1], 2 * W1)
    np.testing.assert_array_equal(arch.pack([W for W, _ in layers], [b for _, b in layers]), stack)


def test_layout_order_is_documented_one():
    arch = Architecture(2, (3,), 1)
    theta = np.arange(arch.n_params, dtype=float)
    (W1, b1), (W2, b2) = arch.unpack(theta)
    np.testing.assert_array_equal(W1, [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(b1, [6, 7, 8])
    np.testing.assert_array_equal(W2, [[9, 10, 11]])
    np.testing.assert_array_equal(b2, [12])


def test_from_weights_matches_manual_forward():
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2)
    net = Network.from_weights([W1, W2], [b1, b2], activation="leaky_relu(0.1)")
    X = rng.normal(size=(5, 3))
    z = X @ W1.T + b1
    expected = np.where(z > 0, z, 0.1 * z) @ W2.T + b2
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-14)


# --- symmetries (property tests) ---------------------------------------------------------
@given(networks(activations=HOMOGENEOUS_ACTIVATIONS), st.data())
def test_rescaling_keeps_realization(net, data):
    layer = data.draw(st.integers(0, len(net.arch.hidden) - 1))
    width = net.arch.hidden[layer]
    alpha = data.draw(st.lists(st.floats(0.05, 20.0), min_size=width, max_size=width))
    moved = net.rescale_neurons(alpha, layer=layer)
    X = data_for(net)
    np.testing.assert_allclose(moved.forward(X), net.forward(X), rtol=1e-10, atol=1e-10)


@given(networks(), st.data())
def test_permutation_keeps_realization(net, data):
    layer = data.draw(st.integers(0, len(net.arch.hidden) - 1))
    perm = data.draw(st.permutations(range(net.arch.hidden[layer])))
    moved = net.permute_neurons(perm, layer=layer)
    X = data_for(net)
    np.testing.assert_allclose(moved.forward(X), net.forward(X), rtol=1e-12, atol=1e-12)
    if layer == 0:
        c_old = net.conserved_quantities()[: net.arch.hidden[0]]
        c_new = moved.conserved_quantities()[: net.arch.hidden[0]]
        np.testing.assert_allclose(c_new, c_old[list(perm)], rtol=1e-12, atol=1e-14)


def test_rescaling_moves_conserved_quantity_as_expected():
    net = Network.initialize(Architecture(3, (4,), 2), seed=3, bias_init="same")
    w, a = net.neuron_weights()
    moved = net.rescale_neurons(2.0, neurons=[1])
    expected = net.conserved_quantities().copy()
    expected[1] = 4 * np.sum(w[1] ** 2) - np.sum(a[1] ** 2) / 4
    np.testing.assert_allclose(moved.conserved_quantities(), expected, rtol=1e-12)


def test_rescaling_rejected_for_non_homogeneous():
    net = Network.initialize(Architecture(2, (3,), 1, activation="tanh"), seed=0)
    with pytest.raises(NotSupportedError, match="positively homogeneous"):
        net.rescale_neurons(2.0)


# --- gradients ---------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["mse", "l1", "bce", "cross_entropy"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "abs", "linear"])
def test_gradient_matches_finite_differences(loss, activation):
    rng = np.random.default_rng(1)
    arch = Architecture(3, (4, 3), 2, activation=activation)
    net = Network.initialize(arch, "xavier_normal", seed=2, bias_init="same")
    X = rng.normal(size=(7, 3))
    if loss in ("mse", "l1"):
        y = rng.normal(size=(7, 2))
    elif loss == "bce":
        y = (rng.random((7, 2)) > 0.5).astype(float)
    else:
        y = rng.integers(0, 2, size=7)
    _, g = net.loss_and_grad(X, y, loss)
    eps = 1e-6
    fd = np.empty_like(g)
    for i in range(arch.n_params):
        e = np.zeros(arch.n_params)
        e[i] = eps
        fd[i] = (Network(arch, net.params + e).loss(X, y, loss)
                 - Network(arch, net.params - e).loss(X, y, loss)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)


def test_batched_reference_matches_single():
    arch = Architecture(3, (5,), 1)
    stack = init_params(arch, "pytorch", seed=4, n_networks=3, bias_init="pytorch")
    X = np.random.default_rng(0).normal(size=(9, 3))
    Y = np.random.default_rng(1).normal(size=(9, 1))
    vals, grads = loss_and_gradient(arch, stack, X, Y, "mse")
    for i in range(3):
        v, g = loss_and_gradient(arch, stack[i], X, Y, "mse")
        assert vals[i] == pytest.approx(v, rel=1e-14)
        np.testing.assert_allclose(grads[i], g, rtol=1e-13)
    assert forward(arch, stack, X).shape == (3, 9, 1)
    assert conserved_quantities(arch, stack).shape == (3, 5)


# --- initialization ----------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["xavier_normal", "xavier_uniform", "kaiming_normal",
                                    "kaiming_uniform", "pytorch"])
def test_init_variances(scheme):
    arch = Architecture(40, (30,), 5)
    stack = init_params(arch, scheme, seed=0, n_networks=200)
    (W1, _), (W2, _) = arch.unpack(stack)
    for W, (fo, fi) in ((W1, (30, 40)), (W2, (5, 30))):
        sd = layer_std(scheme, fi, fo, gain_value=1.0 if scheme.startswith("xavier") else np.sqrt(2))
        assert np.std(W) == pytest.approx(sd, rel=0.02)


def test_init_seeding_is_batch_independent():
    arch = Architecture(3, (4,), 1)
    single = init_params(arch, seed=7)
    batch = init_params(arch, seed=7, n_networks=5)
    np.testing.assert_array_equal(batch[0], single)
    assert not np.allclose(batch[0], batch[1])
    np.testing.assert_array_equal(init_params(arch, seed=7, n_networks=2), batch[:2])


def test_kaiming_normal_matches_paper_variances():
    d, l = 10, 7
    assert layer_std("kaiming_normal", d, l, gain_value=np.sqrt(2)) ** 2 == pytest.approx(2 / d)
    assert layer_std("xavier_normal", d, l) ** 2 == pytest.approx(2 / (d + l))


# --- files -------------------------------------------------------------------------------
def test_save_load_roundtrip(tmp_path):
    net = Network.initialize(Architecture(3, (4, 2), 2, activation="leaky_relu(0.3)",
                                          output_bias=False), seed=1)
    path = tmp_path / "net.npz"
    net.save(path)
    again = Network.load(path)
    assert again == net
    assert again.arch.negative_slope == 0.3


def test_load_errors(tmp_path):
    with pytest.raises(ValidationError, match="`path`"):
        Network.load(tmp_path / "missing.npz")
    np.savez(tmp_path / "other.npz", foo=1)
    with pytest.raises(ValidationError, match="topoanalysis network"):
        Network.load(tmp_path / "other.npz")


# --- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, pattern", [
    (dict(inputs=0, hidden=(3,), outputs=1), "`inputs`"),
    (dict(inputs=2, hidden=(0,), outputs=1), "`hidden`"),
    (dict(inputs=2, hidden=(), outputs=1), "`hidden`"),
    (dict(inputs=2, hidden=(3,), outputs=-1), "`outputs`"),
    (dict(inputs=2, hidden=(3,), outputs=1, activation="softplus"), "`activation`"),
    (dict(inputs=2.5, hidden=(3,), outputs=1), "`inputs`"),
])
def test_architecture_errors(kwargs, pattern):
    with pytest.raises(ValidationError, match=pattern):
        Architecture(**kwargs)


def test_network_errors():
    arch = Architecture(2, (3,), 1)
    with pytest.raises(ShapeError, match="`params`"):
        Network(arch, np.zeros(5))
    with pytest.raises(ValidationError, match="non-finite"):
        Network(arch, np.full(arch.n_params, np.nan))
    net = Network.initialize(arch, seed=0)
    with pytest.raises(ShapeError, match=r"`X` must have shape \(N, 2\)"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValidationError, match="`scheme`"):
        Network.initialize(arch, "glorot")
    with pytest.raises(ValidationError, match="`perm`"):
        net.permute_neurons([0, 0, 1])
    with pytest.raises(ValidationError, match="`alpha`"):
        net.rescale_neurons(-1.0)
    with pytest.raises(ValidationError, match="`loss`"):
        net.loss(np.zeros((1, 2)), [0.0], loss="hinge")
    with pytest.raises(NotSupportedError, match="shallow"):
        Network.initialize(Architecture(2, (3, 3), 1), seed=0).neuron_weights()


def test_neuron_weights_one_implementation_round_trip():
    """Per-neuron ``(w, a, b)`` live in one place (issue #20: critical/_point repeated them)."""
    from topoanalysis.critical import _point

    for hb, ob in [(True, True), (False, True), (True, False), (False, False)]:
        arch = Architecture(3, (4,), 2, hidden_bias=hb, output_bias=ob)
        theta = Network.initialize(arch, seed=5).params + 0.1
        w, a, b = arch.neuron_weights(theta)
        assert w.shape == (4, 3 + hb) and a.shape == (4, 2) and (b is None) == (not ob)
        np.testing.assert_array_equal(arch.from_neuron_weights(w, a, b), theta)
        net_w, net_a = Network(arch, theta).neuron_weights()
        np.testing.assert_array_equal(net_w, w)
        np.testing.assert_array_equal(net_a, a)
        np.testing.assert_array_equal(_point.pack(arch, w, a, b), theta)
        for got, want in zip(_point.unpack(arch, theta), (w, a, b)):
            np.testing.assert_array_equal(got, want) if want is not None else None
