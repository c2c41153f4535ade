"""
Paper 3: degenerate parametrizations and a canonical form
==========================================================

Berner, Elbrächter & Grohs: close realizations need not have close parameters when a
parametrization is degenerate (opposite, redundant or zero neurons). The detectors name the
neurons; the canonical form removes the degeneracy and realizes the same function.
"""

import matplotlib.pyplot as plt
import numpy as np

from topoanalysis import Network
from topoanalysis.degeneracy import canonical_form, detect_degeneracies

net = Network.from_weights([[[1.0, 0.0], [-1.0, 0.0], [2.0, 0.0], [0.0, 1.0]],
                            [[1.0, -1.0, 0.5, 0.0]]])
rep = detect_degeneracies(net)
print(rep.summary())
cf = canonical_form(net)
print(cf.summary())

# %%
# The two parametrizations realize one function.
x = np.linspace(-2, 2, 101)
X = np.stack([x, 0.3 * x], axis=1)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(x, net.forward(X)[:, 0], label=f"original, width {net.arch.hidden[0]}")
ax.plot(x, cf(X)[:, 0], "--", label=f"canonical, width {cf.width}")
ax.legend()
fig.tight_layout()
