"""
Paper 4: a string of beads between two minima
=============================================

Freeman & Bruna's Dynamic String Sampling joins two networks trained to a loss level by a
polygonal path of trained "beads" below it. Drawn in the plane of the segment and of the
string's largest deviation: the straight segment rises above the level, the string does not.
"""

import matplotlib.pyplot as plt

from topoanalysis import Architecture, Landscape
from topoanalysis.datasets import polynomial_regression
from topoanalysis.levelsets import dynamic_string_sampling, string_slice, train_to_threshold

ds = polynomial_regression("quadratic", n_samples=200, seed=0)
arch = Architecture(1, (8,), 1)
land = Landscape(arch, ds.X, ds.y, "l1")
L0 = 0.03
tr = train_to_threshold(arch, ds.X, ds.y, 4, L0, loss="l1", lr=1e-2, steps=5000)
ok = tr.params[tr.reached_target]
res = dynamic_string_sampling(ok[0], ok[1], land, threshold=L0, lr=1e-2, steps=2000,
                              max_depth=4, progress=False)
print(res.summary())

# %%
s = string_slice(land, res[0], n=61)
s.plot(title=f"string between two minima below L0 = {L0}")
plt.show()
