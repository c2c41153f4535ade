import numpy as np
import pytest

from topoanalysis import Architecture, NotSupportedError, ValidationError
from topoanalysis.init import init_params
from topoanalysis.network import conserved_quantities, forward
from topoanalysis.obstruction import set_pathological_count


@pytest.mark.parametrize("l_plus", [0, 1, 3, 5])
@pytest.mark.parametrize("bias", [True, False])
def test_controls_l_plus_and_keeps_function(l_plus, bias):
    arch = Architecture(4, (5,), 2, hidden_bias=bias)
    theta = init_params(arch, "xavier_normal", seed=1, n_networks=20, bias_init="same")
    moved = set_pathological_count(arch, theta, l_plus, ratio=3.0)
    c = conserved_quantities(arch, moved)
    assert np.all((c > 0).sum(axis=1) == l_plus)
    assert np.all(c[:, :l_plus] > 0) and np.all(c[:, l_plus:] < 0)
    X = np.random.default_rng(0).normal(size=(8, 4))
    np.testing.assert_allclose(forward(arch, moved, X), forward(arch, theta, X), rtol=1e-10, atol=1e-12)
    # |c_k| = (sqrt(r) - 1/sqrt(r)) ||w_k|| ||a_k|| after rescaling (derived in the docstring)
    (W1, b1), (W2, _) = arch.unpack(moved)
    w = np.sqrt(np.sum(W1 ** 2, -1) + (b1 ** 2 if bias else 0))
    a = np.sqrt(np.sum(W2 ** 2, -2))
    np.testing.assert_allclose(np.abs(c), (np.sqrt(3) - 1 / np.sqrt(3)) * w * a, rtol=1e-12)


def test_errors():
    arch = Architecture(2, (3,), 1, hidden_bias=False)
    theta = np.zeros(arch.n_params)
    with pytest.raises(ValidationError, match="zero"):
        set_pathological_count(arch, theta, 1)
    with pytest.raises(ValidationError, match="`n_positive`"):
        set_pathological_count(arch, init_params(arch), 4)
    with pytest.raises(ValidationError, match="`ratio`"):
        set_pathological_count(arch, init_params(arch), 1, ratio=0.5)
    with pytest.raises(NotSupportedError):
        set_pathological_count(Architecture(2, (3,), 1, activation="tanh"), init_params(arch), 1)
