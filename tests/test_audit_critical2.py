"""Second audit of ``topoanalysis.critical``: verdict tolerances of the plateau analysis and of
the snapped point, exact proof of "no escape neuron" for vector output, and the magnitude
guard of ``shallow_point``. Each test failed before its fix."""

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import (classify, saddle_to_saddle, snap, snap_and_classify)
from topoanalysis.critical._point import pack, shallow_point
from topoanalysis.critical.report import classify_trained
from topoanalysis.exceptions import ValidationError


# --- a point just off its kink: f(x) = relu(x + 2^-40) on x = 0, 1, 2 ----------------------
# Sample x = 0 is active by 2^-40 (relative distance 9e-13 < 1e-9). With the sample on the
# hyperplane (bias 0) the point is a local minimum; as given it is not stationary.

X_OFF = np.array([[0.0], [1.0], [2.0]])
Y_OFF = np.array([[-1.0], [1.0], [2.0]])
ARCH_OFF = Architecture(1, (1,), 1, output_bias=False)


def _off_kink():
    return Network(ARCH_OFF, pack(ARCH_OFF, np.array([[1.0, 2.0 ** -40]]), np.array([[1.0]])))


def test_off_kink_point_verdicts():
    net = _off_kink()
    assert classify(net, X_OFF, Y_OFF, kink_tol=0.0, check=False).verdict == "not stationary"
    assert classify(net, X_OFF, Y_OFF, check=False).verdict == "local minimum"


def _constant_run(net, R=6):
    traj = np.repeat(net.params[None, :], R, axis=0)
    return traj, np.arange(R) * 10


def test_saddle_to_saddle_verdicts_use_the_users_tolerances():
    """Item 1: the plateau and final verdicts were classified with kink tolerance 1e-9 and
    tol 1e-8 whatever the caller asked; ``kink_tol=0`` now classifies with exact signs and
    ``tol`` reaches every verdict."""
    net = _off_kink()
    traj, steps = _constant_run(net)
    s = saddle_to_saddle(traj, steps, X_OFF, Y_OFF, arch=ARCH_OFF, kink_tol=0.0, check=False)
    assert s.plateaus and s.plateaus[-1]["moved"] == 0.0          # the snap left it as it is
    want = classify(net, X_OFF, Y_OFF, kink_tol=0.0, check=False).verdict
    assert want == "not stationary"
    assert s.plateaus[-1]["verdict"] == want
    assert s.checks["final_verdict"] == want
    loose = saddle_to_saddle(traj, steps, X_OFF, Y_OFF, arch=ARCH_OFF, kink_tol=0.0, tol=10.0,
                             check=False)
    want = classify(net, X_OFF, Y_OFF, kink_tol=0.0, tol=10.0, check=False).verdict
    assert want == "local minimum"
    assert loose.checks["final_verdict"] == want
    assert loose.settings["tol"] == 10.0 and loose.settings["verdict_kink_tol"] == 0.0
    # the defaults are today's: the default snap projects the sample onto the hyperplane
    default = saddle_to_saddle(traj, steps, X_OFF, Y_OFF, arch=ARCH_OFF, check=False)
    assert default.settings["tol"] == 1e-8 and default.settings["verdict_kink_tol"] == 1e-9
    assert default.checks["final_verdict"] == "local minimum"
    with pytest.raises(ValidationError, match="tol"):
        saddle_to_saddle(traj, steps, X_OFF, Y_OFF, arch=ARCH_OFF, tol=-1.0)


def test_snapped_point_is_classified_afresh_with_exact_signs():
    """Item 4: the verdict at the snapped point is decided from its own exact signs, with a
    kink tolerance never above the snap's: ``kink_tol=0`` (no projection) classifies the
    point as it is, not the point with the 2^-40 sample put on the hyperplane."""
    net = _off_kink()
    s, v = snap_and_classify(net, X_OFF, Y_OFF, kink_tol=0.0, check=False)
    assert v.verdict == classify(s.network, X_OFF, Y_OFF, kink_tol=0.0, check=False).verdict
    assert v.verdict == "not stationary"
    rows = classify_trained(ARCH_OFF, net.params[None, :], X_OFF, Y_OFF, kink_tol=0.0).rows
    assert rows[0]["verdict"] == "not stationary"
    # the default snap projects (heuristic, kink_tol=1e-3); the snapped point is then exactly
    # on the hyperplane and its verdict holds with exact signs too
    s, v = snap_and_classify(net, X_OFF, Y_OFF, check=False)
    assert v.verdict == "local minimum"
    assert classify(s.network, X_OFF, Y_OFF, kink_tol=0.0, check=False).verdict == v.verdict
    p = shallow_point(s.network, X_OFF, Y_OFF)
    assert p.signs[0, 0] == 0
    # an explicit verdict tolerance is honoured
    _, v = snap_and_classify(net, X_OFF, Y_OFF, kink_tol=0.0, verdict_kink_tol=1e-9,
                             check=False)
    assert v.verdict == "local minimum"


# --- vector output: "no escape neuron" must be proved --------------------------------------

ARCH_V = Architecture(1, (1,), 2, output_bias=False)


def _vector_point(eps):
    """f(x) = relu(x)·(1, 1) on x = 0, 1, 2; the kink sample x = 0 has residual (1/3, 1/3),
    the active samples residuals 2c and −c with c = eps·(1, −1) ⊥ a: stationary (exactly),
    and for eps != 0 an escape neuron with a_k != 0 (u with u_b < 0: F_k(u) = c u_b)."""
    X = np.array([[0.0], [1.0], [2.0]])
    Y = np.array([[-1.0, -1.0], [1 - 6 * eps, 1 + 6 * eps], [2 + 3 * eps, 2 - 3 * eps]])
    net = Network(ARCH_V, pack(ARCH_V, np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]])))
    return net, X, Y


def test_vector_output_local_minimum_has_an_exact_dual_proof():
    net, X, Y = _vector_point(0.0)
    v = classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False)
    assert v.verdict == "local minimum"
    assert v.escape.neurons[0]["absence_proved"] is True and v.escape.unproved == []


def test_escape_below_the_lp_noise_floor_is_not_a_local_minimum():
    """Item 2: an escape of relative size 2e-14 (below the LPs' 1e-12 floor) was missed and
    the point called a local minimum; the LPs' answer is now proved in rationals or the
    verdict is "undetermined"."""
    net, X, Y = _vector_point(2.0 ** -47)
    v = classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False)
    assert v.stationarity.is_stationary
    assert v.verdict != "local minimum"
    if not v.escape.escape:
        assert v.verdict == "undetermined" and v.escape.unproved == [0]
        assert "not proved" in v.reason
        assert v.escape.to_dict()["unproved"] == [0]


def test_a_float_lp_that_misses_an_escape_does_not_make_a_local_minimum(monkeypatch):
    """Item 2: a float LP answering 0 where the optimum is positive (noise) cannot certify."""
    import scipy.optimize

    net, X, Y = _vector_point(2.0 ** -10)
    assert classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False).escape.escape == [0]
    real = scipy.optimize.linprog

    def blind(*args, **kwargs):
        res = real(*args, **kwargs)
        if res.status == 0 and res.fun < 0:
            res.fun, res.x = 0.0, np.zeros_like(res.x)
        return res

    monkeypatch.setattr(scipy.optimize, "linprog", blind)
    v = classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False)
    assert v.escape.escape == [] and v.escape.unproved == [0]
    assert v.verdict == "undetermined"


# --- magnitudes: refuse only what overflows ------------------------------------------------

ARCH_B = Architecture(1, (1,), 1, output_bias=False)


@pytest.mark.parametrize("scale", [1.0, 2.0 ** -1000, 2.0 ** 900])
def test_tiny_inputs_with_huge_weights_are_the_same_function(scale):
    """Item 3: with hidden biases, X of 2^-1000 and input weights of 2^1000 (the function of X
    of 1 and weights of 1) were refused because the bound used max(|x|, 1)·||w||."""
    X = np.array([[1.0], [2.0], [-1.0]]) * scale
    Y = np.array([[1.5], [2.5], [0.0]])                # relu(x/scale + 0.5): an exact fit
    net = Network(ARCH_B, pack(ARCH_B, np.array([[1.0 / scale, 0.5]]), np.array([[1.0]])))
    v = classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False)
    assert v.verdict == "local minimum"
    Y2 = np.array([[1.0], [3.0], [0.5]])
    v2 = classify(net, X, Y2, kink_tol=0.0, check=False)
    assert v2.verdict == "not stationary"


def test_values_that_overflow_are_still_refused():
    X = np.array([[1e200], [2e200]])
    Y = np.array([[1.0], [2.0]])
    net = Network(ARCH_B, pack(ARCH_B, np.array([[1e200, 0.5]]), np.array([[1.0]])))
    with pytest.raises(ValidationError, match="too large"):
        classify(net, X, Y)
    # a huge hidden bias alone overflows the outputs too
    net = Network(ARCH_B, pack(ARCH_B, np.array([[1.0, 1e150]]), np.array([[1.0]])))
    with pytest.raises(ValidationError, match="hidden biases"):
        classify(net, X[:, :] * 0 + 1.0, Y)
