"""Certificates of the critical-point layer at the edges (issues #13, #14, #15).

Vector-output plateaus of a saddle-to-saddle run (snap to the stationary point of the smooth
piece), second-order decisions where the first-order test vanishes, the radius of a "local
minimum" with dead neurons, exact combinatorial facts, hardening of the public API, and plateau
detection that is scale-free in log-loss and log-time.
"""

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import classify, snap, stationarity
from topoanalysis.critical._point import pack
from topoanalysis.dynamics import train
from topoanalysis.init import init_params

# Wu, Simsek & Ged's 2-D -> 2-D task (their helpers.generate_2D_dataset): 4 points, no biases
WU_2D_X = np.array([(-0.3, 0.5), (1.0, 1.0), (-0.6, -1.0), (0.4, -0.4)])
WU_2D_Y = np.array([(0.6, -0.5), (0.5, -1.0), (-0.4, 0.6), (0.8, 0.2)])
WU_2D_ARCH = Architecture(2, (50,), 2, hidden_bias=False, output_bias=False)


def net_from(w, a, b=None, *, hidden_bias=True, activation="relu", slope=0.01):
    w, a = np.atleast_2d(np.asarray(w, float)), np.asarray(a, float)
    a = a.reshape(w.shape[0], -1)
    d = w.shape[1] - (1 if hidden_bias else 0)
    arch = Architecture(d, (w.shape[0],), a.shape[1], hidden_bias=hidden_bias,
                        output_bias=b is not None, activation=activation, negative_slope=slope)
    return Network(arch, pack(arch, w, a, None if b is None else np.atleast_1d(b)))


@pytest.fixture(scope="module")
def wu_2d_plateau():
    """The 0.0935 plateau of the 2-D -> 2-D run (seed 0, the authors' σ and lr, float64)."""
    th = init_params(WU_2D_ARCH, "normal", seed=0, std=50 ** -6.5)
    res = train(th, WU_2D_X, WU_2D_Y, arch=WU_2D_ARCH, lr=2e-3, steps=100_000,
                record_every=100_000, progress=False)
    net = Network(WU_2D_ARCH, res.params[0])
    assert net.loss(WU_2D_X, WU_2D_Y) == pytest.approx(0.0935467, abs=1e-6)
    return net


# --- finding 5: the vector-output snap reaches the stationary point of the smooth piece -------
def test_vector_output_snap_reaches_the_stationary_point_of_the_piece(wu_2d_plateau):
    s = snap(wu_2d_plateau, WU_2D_X, WU_2D_Y)
    assert s.pattern_kept
    assert "kink projection only" not in s.method
    assert s.gradient_norm < 1e-12            # before: 2.6e-6 after the fallback
    st = stationarity(s.network, WU_2D_X, WU_2D_Y)
    assert st.is_stationary
    assert s.moved < 1e-3
