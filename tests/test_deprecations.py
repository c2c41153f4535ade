"""Renamed keywords keep working with one DeprecationWarning (glossary, issue #20)."""

import warnings

import numpy as np
import pytest
import sympy as sp

from topoanalysis import Network, ValidationError
from topoanalysis._validation import renamed_kwargs

NET = Network.from_weights([np.array([[1.0, 0.0], [0.1, 0.0]]), np.array([[0.5, -2.0]])],
                           activation="relu")
NET2 = NET.rescale_neurons([2.0, 0.5]).permute_neurons([1, 0])
W = sp.Matrix([[1, 2, 1], [1, -1, -3]])
A = sp.Matrix([[1], [-2]])


def _cases():
    from topoanalysis import degeneracy, obstruction
    bias_free = Network.from_weights([np.array([[1.0, 0.0], [0.0, 2.0]]),
                                      np.array([[1.0, 0.5]])])
    moved = bias_free.rescale_neurons([3.0, 0.25])
    return [
        (obstruction.network_topology, (), {"net": NET}, {"network": NET},
         lambda r: r.to_dict()),
        (obstruction.pathological_neurons, (), {"net": NET}, {"network": NET}, list),
        (obstruction.zero_neurons, (), {"net": NET}, {"network": NET}, list),
        (degeneracy.parameter_distance, (), {"net_a": bias_free, "net_b": moved},
         {"theta": bias_free, "gamma": moved}, lambda r: r.value),
        (degeneracy.inverse_stability, (), {"net_a": bias_free, "net_b": moved, "n_samples": 20},
         {"theta": bias_free, "gamma": moved, "n_samples": 20}, lambda r: r.parameter.value),
        (degeneracy.canonical_form_symbolic, (), {"w": W, "a": A}, {"A": W, "C": A},
         lambda r: [s.to_dict() for s in r]),
        (degeneracy.symbolic_conditions, (), {"w": W, "a": A}, {"A": W, "C": A},
         lambda r: r.evaluate({})),
    ]


@pytest.mark.parametrize("i", range(7))
def test_old_keyword_names_warn_and_give_the_same_result(i):
    func, args, new, old, key = _cases()[i]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        expected = key(func(*args, **new))
    with pytest.warns(DeprecationWarning, match="is deprecated; use"):
        got = key(func(*args, **old))
    assert got == expected


def test_old_and_new_name_together_is_an_error():
    from topoanalysis.obstruction import network_topology
    with pytest.raises(ValidationError, match="`network` is the deprecated name of `net`"):
        network_topology(NET, network=NET)


def test_renamed_kwargs_keeps_the_new_signature():
    import inspect

    @renamed_kwargs(old="new")
    def f(new, *, other=1):
        """Doc."""
        return new + other

    assert list(inspect.signature(f).parameters) == ["new", "other"]
    assert f.__doc__ == "Doc." and f.renamed_kwargs == {"old": "new"}
    with pytest.warns(DeprecationWarning):
        assert f(old=2) == 3


def test_symbolic_activations_alias_is_deprecated():
    from topoanalysis.activations import ACTIVATIONS
    from topoanalysis.symbolic import networks
    with pytest.warns(DeprecationWarning, match="SYMBOLIC_ACTIVATIONS"):
        assert networks.SYMBOLIC_ACTIVATIONS == ACTIVATIONS
    assert "SYMBOLIC_ACTIVATIONS" not in networks.__all__
