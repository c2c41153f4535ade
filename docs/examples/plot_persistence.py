"""
Persistence: basins of a slice and the merge tree of the minima
===============================================================

Sublevel-set persistence (gudhi) of a sampled 2-D slice counts its basins and the saddle
levels where they merge; on the graph of minima, filtered by loss and barrier height, its
0-dimensional pairs form the merge tree — the disconnectivity tree of the level-set layer.
"""

import matplotlib.pyplot as plt
import numpy as np

from topoanalysis import Architecture, Landscape
from topoanalysis.graphs import disconnectivity_tree, plot_disconnectivity_tree
from topoanalysis.init import init_params
from topoanalysis.levelsets import (merge_tree, minima_persistence, pairwise_barriers,
                                    random_slice, surface_persistence)

rng = np.random.default_rng(1)
X = rng.standard_normal((200, 2))
y = (X[:, :1] * X[:, 1:] > 0).astype(float)
arch = Architecture(2, (6,), 1)
land = Landscape(arch, X, y, "bce")
res = land.train(init_params(arch, n_networks=6, seed=1), optimizer="adam", lr=2e-2,
                 steps=1500, progress=False)
bm = pairwise_barriers(res.networks(), X, y, loss="bce", n_points=31)
print(minima_persistence(bm).summary())
T = merge_tree(bm)
print("merge tree == disconnectivity tree:",
      sorted(d["level"] for _, d in T.nodes(data=True))
      == sorted(d["level"] for _, d in disconnectivity_tree(bm.path_max, bm.node_loss)
                .nodes(data=True)))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_disconnectivity_tree(bm.disconnectivity_tree(), ax=axes[0], title="minima")
surface_persistence(random_slice(land, res.networks()[0], n=41)).plot(ax=axes[1])
fig.tight_layout()
