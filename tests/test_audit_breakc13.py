"""Adversarial review of the critical-point certificates (audit session 13, helper breakc).

Each test checks a verdict against an independent exact oracle (``fractions.Fraction``).
"""

from fractions import Fraction as Fr

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import classify, escape_neurons
from topoanalysis.critical._point import pack


def _tiny_margin_point(eps):
    """f(x) = a·relu(w x), w = 0, a = (1, 0), one sample x = 1 with target (-eps, 1).

    Exactly: r = −2y/(N e) = (eps, −1), so a_k·r_n = eps > 0 and F_k(u) = r·max(u, 0) gives
    a_k·F_k(u) = eps·max(u, 0) > 0 wherever F_k(u) != 0: no escape neuron, a local minimum
    (of radius about eps).
    """
    arch = Architecture(1, (1,), 2, hidden_bias=False, output_bias=False)
    net = Network(arch, pack(arch, np.array([[0.0]]), np.array([[1.0, 0.0]])))
    return net, np.array([[1.0]]), np.array([[-eps, 1.0]])


def _exact_loss(w, a1, a2, y):
    z = max(Fr(w), Fr(0))
    return ((a1 * z - Fr(y[0])) ** 2 + (a2 * z - Fr(y[1])) ** 2) / 2


@pytest.mark.parametrize("eps", [1e-20, 1e-12, 1e-9])
def test_vector_output_escape_needs_an_exact_witness(eps):
    # formerly: the float escape LP (HiGHS drops coefficients below 1e-9 and accepts the
    # equality a_k·M u = 0 within its feasibility tolerance) returned u = 1, and the point was
    # called a "saddle" at second order from one finite step outside its true neighbourhood
    net, X, y = _tiny_margin_point(eps)
    a = [Fr(1), Fr(0)]
    r = [-2 * Fr(v) / 2 for v in y[0]]                        # exact residual 2(f − y)/(N e)
    assert sum(x * z for x, z in zip(a, r)) == Fr(eps)       # the oracle: a_k·r > 0 exactly
    esc = escape_neurons(net, X, y, kink_tol=0.0, tol=0.0)
    assert esc.escape == [] and esc.unproved == []
    v = classify(net, X, y, kink_tol=0.0, tol=0.0, n_perturbations=50)
    assert v.verdict == "local minimum"
    rad = v.radius["radius"]
    assert 0 < rad <= eps
    # exact oracle inside the certified radius: no decrease
    L0 = _exact_loss(0, Fr(1), Fr(0), y[0])
    t = Fr(0.9 * rad)
    for s in [Fr(1, 10 ** k) for k in range(0, 30, 3)]:
        for da1, da2 in [(-t / 2, t / 2), (Fr(0), t * Fr(9, 10)), (t / 2, -t / 2)]:
            assert _exact_loss(s * t / 4, 1 + da1, da2, y[0]) - L0 >= 0
