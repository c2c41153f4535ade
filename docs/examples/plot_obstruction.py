"""
Paper 1: topological obstruction at initialization
===================================================

Nurisso, Leroy & Vaccarino: gradient flow conserves ``c_k = ||w_k||² − ||a_k||²`` for every
hidden ReLU neuron, so training stays on ``H(c) = Q(c_1) × … × Q(c_l)``. A neuron with
``c_k < 0`` can never flip the sign of its output weight: its component of ``H(c)`` is fixed.
Here: the topology of one initialization, and the probability that every neuron starts
pathological (the paper's Figure 5) over input dimensions and widths.
"""

import matplotlib.pyplot as plt
import numpy as np

from topoanalysis import Architecture, Network
from topoanalysis.obstruction.probability import obstruction_probability
from topoanalysis.obstruction.topology import network_topology

net = Network.initialize(Architecture(3, (6,), 1), seed=0)
print(network_topology(net).summary())

# %%
# Probability of obstruction at initialization (all neurons pathological), Kaiming normal.
ds, ls = np.arange(2, 21, 2), np.arange(1, 9)
P = np.array([[obstruction_probability(int(d), int(l), 1, "kaiming_normal",
                                       event="all_pathological") for l in ls] for d in ds])
fig, ax = plt.subplots(figsize=(5, 3.5))
for j, l in enumerate(ls):
    ax.semilogy(ds, P[:, j], "-o", ms=3, label=f"l = {l}")
ax.set_xlabel("input dimension d")
ax.set_ylabel("P(all neurons pathological)")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
