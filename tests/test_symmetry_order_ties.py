"""symmetry.canonical_neuron_order: neurons equal after rounding are ordered by their exact
weights, so every permutation of a network sorts to the same network."""
import itertools

import numpy as np

from topoanalysis import Network
from topoanalysis.symmetry import canonical_neuron_order


def test_rounding_ties_are_broken_by_the_exact_weights():
    W1 = np.array([[1.0, 0.0], [1.0, 2.0 ** -40], [-1.0, 3.0]])
    a = np.array([[1.0, 1.0, 2.0]])
    ref = None
    for p in itertools.permutations(range(3)):
        p = list(p)
        net = Network.from_weights([W1[p], a[:, p]])
        sorted_net = net.permute_neurons(canonical_neuron_order(net))
        flat = np.concatenate([np.ravel(x) for x in sorted_net.weights])
        if ref is None:
            ref = flat
        assert np.array_equal(flat, ref), p
    # the rounded keys still decide first: the neuron at (-1, 3) comes before both (1, .)
    net = Network.from_weights([W1, a])
    assert canonical_neuron_order(net).tolist() == [2, 0, 1]
