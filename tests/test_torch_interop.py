"""Tests of topoanalysis.torch_interop (skipped when PyTorch is not installed)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from topoanalysis import Architecture, Network  # noqa: E402
from topoanalysis.datasets import load_breast_cancer, toy_classification_2d  # noqa: E402
from topoanalysis.exceptions import (  # noqa: E402
    NotSupportedError,
    ShapeError,
    ValidationError,
)
from topoanalysis.torch_interop import from_torch, to_torch  # noqa: E402
from topoanalysis import torch_interop  # noqa: E402

ACTIVATIONS = ["relu", "leaky_relu", "linear", "tanh", "sigmoid", "abs"]


def _net(activation="relu", hidden=(5,), inputs=3, outputs=2, hidden_bias=True,
         output_bias=True, negative_slope=None, seed=0):
    # The slope only matters for leaky ReLU; elsewhere keep the default 0.01, which is what
    # from_torch reports for modules without nn.LeakyReLU.
    if negative_slope is None:
        negative_slope = 0.2 if activation == "leaky_relu" else 0.01
    arch = Architecture(inputs, hidden, outputs, hidden_bias=hidden_bias,
                        output_bias=output_bias, activation=activation,
                        negative_slope=negative_slope)
    rng = np.random.default_rng(seed)
    return Network(arch, rng.standard_normal(arch.n_params))


def _torch_forward(module, X):
    with torch.no_grad():
        return module(torch.from_numpy(np.asarray(X, dtype=np.float64))).numpy()


@pytest.fixture
def X():
    return np.random.default_rng(42).standard_normal((64, 3))


# ---------------------------------------------------------------------------------------
# to_torch
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("hidden", [(5,), (4, 3)])
@pytest.mark.parametrize("biases", [(True, True), (False, True), (True, False), (False, False)])
def test_round_trip_and_forward_agreement(activation, hidden, biases, X):
    net = _net(activation, hidden, hidden_bias=biases[0], output_bias=biases[1])
    module = to_torch(net)
    assert isinstance(module, nn.Sequential)
    assert len(module) == 2 * len(hidden) + 1
    np.testing.assert_allclose(_torch_forward(module, X), net.forward(X), rtol=1e-12,
                               atol=1e-12)
    back = from_torch(module)
    assert back.arch == net.arch
    np.testing.assert_array_equal(back.params, net.params)
    assert back == net


def test_module_structure_and_dtype():
    net = _net("leaky_relu", (5,), hidden_bias=True, output_bias=False, negative_slope=0.3)
    module = to_torch(net)
    first, act, last = module
    assert type(first) is nn.Linear and (first.in_features, first.out_features) == (3, 5)
    assert type(act) is nn.LeakyReLU and act.negative_slope == 0.3
    assert type(last) is nn.Linear and last.bias is None
    assert first.weight.dtype == torch.float64 and first.weight.requires_grad
    np.testing.assert_array_equal(first.weight.detach().numpy(), net.weights[0])
    np.testing.assert_array_equal(first.bias.detach().numpy(), net.biases[0])
    kinds = {name: type(to_torch(_net(name))[1]).__name__ for name in ACTIVATIONS}
    assert kinds == {"relu": "ReLU", "leaky_relu": "LeakyReLU", "linear": "Identity",
                     "tanh": "Tanh", "sigmoid": "Sigmoid", "abs": "Abs"}


def test_parameters_to_vector_is_the_flat_layout():
    net = _net("relu", (4, 3), hidden_bias=True, output_bias=False)
    module = to_torch(net)
    flat = nn.utils.parameters_to_vector(module.parameters()).detach().numpy()
    np.testing.assert_array_equal(flat, net.params)
    theta = np.arange(net.arch.n_params, dtype=np.float64)
    nn.utils.vector_to_parameters(torch.from_numpy(theta), module.parameters())
    np.testing.assert_array_equal(from_torch(module).params, theta)


def test_float32_module():
    net = _net("tanh")
    module = to_torch(net, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in module.parameters())
    X = np.random.default_rng(0).standard_normal((10, 3))
    with torch.no_grad():
        out = module(torch.from_numpy(X).float()).double().numpy()
    np.testing.assert_allclose(out, net.forward(X), rtol=1e-5, atol=1e-5)
    back = from_torch(module)  # float32 -> float64 is exact
    np.testing.assert_array_equal(back.params, net.params.astype(np.float32).astype(np.float64))


@pytest.mark.parametrize("loss, criterion",
                         [("mse", nn.MSELoss()), ("bce", nn.BCEWithLogitsLoss())])
def test_gradients_agree_with_autograd(loss, criterion):
    data = load_breast_cancer()
    arch = Architecture(30, (6,), 1, activation="relu")
    net = Network(arch, np.random.default_rng(3).standard_normal(arch.n_params) * 0.3)
    value, grad = net.loss_and_grad(data.X_train, data.y_train, loss=loss)
    module = to_torch(net)
    torch_loss = criterion(module(torch.from_numpy(data.X_train)),
                           torch.from_numpy(data.y_train))
    torch_loss.backward()
    torch_grad = torch.cat([p.grad.reshape(-1) for p in module.parameters()]).numpy()
    assert abs(torch_loss.item() - value) < 1e-12
    np.testing.assert_allclose(torch_grad, grad, rtol=1e-10, atol=1e-12)


def test_abs_module_pickles():
    net = _net("abs")
    module = to_torch(net)
    assert type(module[1]) is torch_interop.Abs
    assert torch_interop.Abs.__module__ == "topoanalysis.torch_interop"
    clone = pickle.loads(pickle.dumps(module))
    X = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_array_equal(_torch_forward(clone, X), _torch_forward(module, X))


def test_to_torch_rejects_bad_arguments():
    with pytest.raises(ValidationError, match="`net` must be a topoanalysis Network"):
        to_torch(nn.Linear(2, 2))
    with pytest.raises(ValidationError, match="`dtype` must be a floating torch dtype"):
        to_torch(_net(), dtype=torch.int64)
    with pytest.raises(ValidationError, match="`dtype`"):
        to_torch(_net(), dtype="float64")


def test_missing_torch_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="pip install torch"):
        to_torch(_net())
    with pytest.raises(ImportError, match="pip install torch"):
        from_torch(object())
    # A state_dict of NumPy arrays needs no torch.
    state = {"a.weight": np.ones((2, 3)), "b.weight": np.ones((1, 2))}
    assert from_torch(state, activation="relu").arch.sizes == (3, 2, 1)


def test_package_imports_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import topoanalysis, topoanalysis.datasets, topoanalysis.torch_interop\n"
        "from topoanalysis.torch_interop import *\n"
        "assert 'to_torch' in dir() and 'from_torch' in dir()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------
# from_torch: Sequential
# ---------------------------------------------------------------------------------------


def test_from_hand_built_sequential():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(2, 8), nn.ReLU(inplace=True), nn.Linear(8, 1)).double()
    net = from_torch(module)
    assert net.arch == Architecture(2, (8,), 1)
    X = toy_classification_2d(50, kind="moons").X
    np.testing.assert_allclose(net.forward(X), _torch_forward(module, X), rtol=1e-12,
                               atol=1e-12)
    assert from_torch(module, activation="relu") == net


def test_nested_sequential_is_flattened():
    torch.manual_seed(1)
    module = nn.Sequential(
        nn.Sequential(nn.Linear(3, 4), nn.Tanh()),
        nn.Sequential(nn.Linear(4, 4), nn.Tanh()),
        nn.Linear(4, 2),
    ).double()
    net = from_torch(module)
    assert net.arch.hidden == (4, 4) and net.arch.activation == "tanh"
    X = np.random.default_rng(0).standard_normal((7, 3))
    np.testing.assert_allclose(net.forward(X), _torch_forward(module, X), rtol=1e-12,
                               atol=1e-12)


def test_leaky_relu_slope_is_read():
    module = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.25), nn.Linear(3, 1))
    net = from_torch(module)
    assert net.arch.activation == "leaky_relu" and net.arch.negative_slope == 0.25
    assert from_torch(module, activation="leaky_relu(0.25)") == net
    assert from_torch(module, activation="leaky_relu", negative_slope=0.25) == net
    with pytest.raises(ValidationError, match="must agree"):
        from_torch(module, activation="leaky_relu(0.1)")
    with pytest.raises(ValidationError, match="`negative_slope` must agree"):
        from_torch(module, negative_slope=0.1)


def test_trailing_sigmoid_is_the_output_unit_and_round_trips():
    """A trailing nn.Sigmoid is read as ``output_activation="sigmoid"`` (what to_torch writes
    for such a network): Network -> to_torch -> from_torch gives the same network, and the
    module's outputs are the network's."""
    arch = Architecture(3, (4,), 1, activation="tanh", output_activation="sigmoid")
    net = Network(arch, np.random.default_rng(0).standard_normal(arch.n_params))
    module = to_torch(net)
    assert type(list(module.children())[-1]) is nn.Sigmoid
    back = from_torch(module)
    assert back == net and back.arch.output_activation == "sigmoid"
    X = np.random.default_rng(1).standard_normal((5, 3))
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(back.forward(X), out, rtol=1e-12)
    plain = from_torch(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)))
    assert plain.arch.activation == "sigmoid" and plain.arch.output_activation == "linear"


@pytest.mark.parametrize(
    "layers, error, match",
    [
        (lambda: [nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1)], NotSupportedError,
         r"layer '1' \(Dropout"),
        (lambda: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)],
         NotSupportedError, r"mixed activations.*layer '1' is ReLU\(\).*layer '3' is Tanh\(\)"),
        (lambda: [nn.Linear(2, 3), nn.LeakyReLU(0.1), nn.Linear(3, 3), nn.LeakyReLU(0.2),
                  nn.Linear(3, 1)], NotSupportedError, "mixed activations"),
        (lambda: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Tanh()],
         NotSupportedError, r"layer '3' \(Tanh\(\)\) is an output activation other than"),
        (lambda: [nn.ReLU(), nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)], ValidationError,
         "starts with layer '0'"),
        (lambda: [nn.Linear(2, 3), nn.ReLU(), nn.ReLU(), nn.Linear(3, 1)], ValidationError,
         "two activations in a row at layer '2'"),
        (lambda: [nn.Linear(2, 3), nn.Linear(3, 1)], ValidationError,
         "layer '1'.*follows another nn.Linear"),
        (lambda: [nn.Linear(2, 3), nn.ReLU(), nn.Linear(4, 1)], ShapeError,
         "layer '2'.*in_features = 3"),
        (lambda: [nn.Linear(2, 1)], NotSupportedError, "at least 2 nn.Linear layers"),
        (lambda: [], ValidationError, "no nn.Linear layer"),
        (lambda: [nn.Linear(2, 3, bias=True), nn.ReLU(), nn.Linear(3, 3, bias=False), nn.ReLU(),
                  nn.Linear(3, 1)], NotSupportedError, "all have a bias or all have none"),
        (lambda: [nn.Linear(2, 3), nn.ReLU6(), nn.Linear(3, 1)], NotSupportedError,
         r"layer '1' \(ReLU6\(\)\) is not supported"),
    ],
)
def test_sequential_errors_name_the_layer(layers, error, match):
    with pytest.raises(error, match=match):
        from_torch(nn.Sequential(*layers()))


def test_from_torch_rejects_other_objects():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    with pytest.raises(NotSupportedError, match="got a Custom module.*state_dict"):
        from_torch(Custom())
    with pytest.raises(ValidationError, match="`module_or_state_dict` must be"):
        from_torch([np.ones((2, 2))])
    module = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(ValidationError,
                       match=r"must agree with the module's activation layers \(relu\)"):
        from_torch(module, activation="tanh")
    with pytest.raises(ValidationError, match="`activation` must be one of"):
        from_torch(module, activation="gelu")
    with torch.no_grad():
        module[0].weight[0, 0] = float("nan")
    with pytest.raises(ValidationError, match="`0.weight` must contain only finite numbers"):
        from_torch(module)


# ---------------------------------------------------------------------------------------
# from_torch: state_dict
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_state_dict_round_trip(activation, X):
    net = _net(activation, (4, 6), hidden_bias=False, output_bias=True)
    state = to_torch(net).state_dict()
    assert list(state) == ["0.weight", "2.weight", "4.weight", "4.bias"]
    back = from_torch(state, activation=activation, negative_slope=net.arch.negative_slope)
    assert back == net
    np.testing.assert_allclose(back.forward(X), net.forward(X), rtol=0, atol=0)


def test_state_dict_of_float32_tensors_and_numpy_arrays():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))  # float32
    net = from_torch(module.state_dict(), activation="relu")
    assert net.params.dtype == np.float64
    np.testing.assert_array_equal(net.weights[0], module[0].weight.detach().double().numpy())
    as_numpy = {k: v.numpy() for k, v in module.state_dict().items()}
    assert from_torch(as_numpy, activation="relu") == net
    leaky = from_torch(as_numpy, activation="leaky_relu(0.3)")
    assert leaky.arch.negative_slope == 0.3
    default = from_torch(as_numpy, activation="leaky_relu")
    assert default.arch.negative_slope == 0.01


def test_state_dict_with_named_layers_keeps_key_order():
    state = {
        "encoder.fc_in.weight": torch.ones(4, 3, dtype=torch.float64),
        "encoder.fc_in.bias": torch.zeros(4, dtype=torch.float64),
        "head.weight": torch.full((2, 4), 0.5, dtype=torch.float64),
        "head.bias": torch.tensor([1.0, -1.0], dtype=torch.float64),
    }
    net = from_torch(state, activation="relu")
    assert net.arch.sizes == (3, 4, 2)
    np.testing.assert_allclose(net.forward(np.ones((1, 3))), [[7.0, 5.0]])


@pytest.mark.parametrize(
    "state, error, match",
    [
        ({"0.weight": np.ones((3, 2)), "1.running_mean": np.zeros(3), "2.weight": np.ones((1, 3))},
         NotSupportedError, "'1.running_mean' is not the weight or bias of a Linear layer"),
        ({"0.weight": np.ones((3, 2)), "2.weight": np.ones((1, 4))}, ShapeError,
         "'2.weight' must have 3 columns"),
        ({"0.weight": np.ones((3, 2)), "0.bias": np.ones(2), "2.weight": np.ones((1, 3))},
         ShapeError, r"'0.bias' must have shape \(3,\)"),
        ({"0.weight": np.ones(3), "2.weight": np.ones((1, 3))}, ShapeError,
         "'0.weight' must be a 2-D Linear weight"),
        ({"0.bias": np.ones(3), "2.weight": np.ones((1, 3))}, ValidationError,
         "layer '0' has a bias but no weight"),
        ({"0.weight": np.ones((3, 2))}, NotSupportedError, "at least 2 Linear layers"),
        ({"0.weight": torch.ones(3, 2, dtype=torch.complex64), "2.weight": np.ones((1, 3))},
         ValidationError, "`0.weight` must be a real floating tensor"),
        ({"0.weight": [["a", "b"]], "2.weight": np.ones((1, 2))}, ValidationError,
         "`0.weight` must be a tensor or array of real numbers"),
        ({0: np.ones((3, 2))}, ValidationError, "keys must be strings"),
    ],
)
def test_state_dict_errors(state, error, match):
    with pytest.raises(error, match=match):
        from_torch(state, activation="relu")


def test_state_dict_needs_an_activation():
    state = to_torch(_net()).state_dict()
    with pytest.raises(ValidationError, match="`activation` must be given with a state_dict"):
        from_torch(state)
    with pytest.raises(ValidationError, match="`activation` must be one of"):
        from_torch(state, activation="softplus")
