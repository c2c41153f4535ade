"""
Pictures of the landscape: random, PCA and plane slices
=======================================================

One :class:`~topoanalysis.Landscape` and the slices of :mod:`topoanalysis.levelsets.slices`:
filter-normalized random directions around a trained network (Li et al. 2018), the top PCA
directions of its training trajectory with the trajectory drawn, and the plane through three
trained networks. Every grid is one batched call of the compiled engine.
"""

import matplotlib.pyplot as plt
import numpy as np

from topoanalysis import Architecture, Landscape
from topoanalysis.init import init_params
from topoanalysis.levelsets import pca_slice, plane_slice, random_slice

rng = np.random.default_rng(0)
X = rng.standard_normal((300, 2))
y = np.sin(2 * X[:, :1]) * X[:, 1:]
arch = Architecture(2, (32,), 1)
land = Landscape(arch, X, y, "mse")
res = land.train(init_params(arch, n_networks=3, seed=0), optimizer="adam", lr=1e-2,
                 steps=600, record_params=True, record_every=20, progress=False)
a, b, c = res.networks()

fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
random_slice(land, a, n=51, span=0.5).plot(ax=axes[0], title="random (filter-normalized)")
pca_slice(land, res, n=51).plot(ax=axes[1], title="PCA of the trajectory")
plane_slice(land, a, b, c, n=51).plot(ax=axes[2], title="plane through three minima")
fig.tight_layout()
