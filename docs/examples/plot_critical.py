"""
Paper 2: what kind of point did training stop at?
==================================================

Wu, Simsek & Ged: a shallow ReLU network is a directional stationary point when every one-sided
directional derivative is ``>= 0``; the verdict (local minimum, saddle, not stationary) comes
with the statement that decided it. Splitting a neuron embeds the point in a wider network:
some splits keep it stationary, others break it.
"""

import matplotlib.pyplot as plt
import numpy as np

from topoanalysis import Landscape, Network
from topoanalysis.critical import classify, split_neuron

X, y = np.array([[0.0], [1.0], [2.0]]), np.array([[-1.0], [1.0], [2.0]])
net = Network.from_weights([np.array([[1.0]]), np.array([[1.0]])], [np.array([0.0]), None])
land = Landscape(net.arch, X, y)          # the data, prepared once, passed as one object
v = classify(net, land)
print(v.verdict, "—", v.reason)
for lam in ([0.5, 0.5], [2.0, -1.0]):
    print(lam, classify(split_neuron(net, 0, lam), X, y, check=False).verdict)

# %%
# The loss along the two output weights' directions around the point.
from topoanalysis.levelsets import loss_surface

D = np.eye(net.arch.n_params)[[0, 2]]
s = loss_surface(land, net, D, spans=0.5, n=61)
s.plot(title="around the stationary point (w, a)")
plt.show()
