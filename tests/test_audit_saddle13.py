"""Audit 13 (saddle13): "not a local minimum" is proved by the exact loss polynomial of a ray.

Along ``θ + s δ`` (``δ`` the float direction read as a rational) the sign pattern is fixed on a
first piece ``(0, s₀)`` and ``L(θ + s δ) − L(θ) = c₁ s + c₂ s² + c₃ s³ + c₄ s⁴`` there; the
point is not a local minimum when the lowest-order nonzero ``c_j`` is negative. Formerly a
second-order saddle rested on one exact loss change at a finite step ``s >= 2^-30 ||θ||``,
which a step leaving a small basin also shows. The oracle here is independent: ``Fraction``
losses at rational steps inside the piece, interpolated.
"""

from fractions import Fraction

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.critical import classify
from topoanalysis.critical._exact import exact_loss_change, exact_ray, ray_certificate
from topoanalysis.critical._point import pack, shallow_point
from topoanalysis.critical.escape import EscapeReport
from topoanalysis.critical.kinks import kink_mask
from topoanalysis.critical.second_order import second_order_test
from topoanalysis.io import write_json

from test_audit_critical import _rank_one_split, oracle_moved_loss   # shared oracle, case
from test_critical import net_from


def _q(v):
    return Fraction(*float(v).as_integer_ratio())


def _fr(x):
    """An ``fmpq`` as a ``Fraction``."""
    return Fraction(int(x.p), int(x.q))


def _oracle_piece_end(arch, theta, delta, X):
    """The first ``s > 0`` where a pre-activation ``z + s δz`` with ``z != 0`` reaches 0."""
    w, _, _ = arch.neuron_weights(np.asarray(theta, dtype=np.float64))
    dw, _, _ = arch.neuron_weights(np.asarray(delta, dtype=np.float64))
    end = None
    for row in np.asarray(X, dtype=np.float64):
        x = [_q(v) for v in row] + ([Fraction(1)] if arch.hidden_bias else [])
        for wk, dk in zip(w, dw):
            z = sum((_q(p) * q for p, q in zip(wk, x)), Fraction(0))
            dz = sum((_q(p) * q for p, q in zip(dk, x)), Fraction(0))
            if z != 0 and dz != 0 and (z > 0) != (dz > 0):
                end = -z / dz if end is None else min(end, -z / dz)
    return end


def _oracle_coefficients(arch, theta, delta, X, Y):
    """``c₁..c₄`` of the loss change on the first piece: 4 exact points, checked at a 5th."""
    end = _oracle_piece_end(arch, theta, delta, X)
    t = Fraction(1, 8) if end is None else end / 8
    L0 = oracle_moved_loss(arch, theta, delta, 0, X, Y)
    pts = [t * i for i in range(1, 6)]
    vals = [oracle_moved_loss(arch, theta, delta, s, X, Y) - L0 for s in pts]
    # solve the 4x4 Vandermonde system s, s², s³, s⁴ exactly (Gauss-Jordan)
    M = [[s ** j for j in range(1, 5)] + [v] for s, v in zip(pts[:4], vals[:4])]
    for i in range(4):
        p = next(r for r in range(i, 4) if M[r][i] != 0)
        M[i], M[p] = M[p], M[i]
        M[i] = [v / M[i][i] for v in M[i]]
        for r in range(4):
            if r != i and M[r][i] != 0:
                M[r] = [a - M[r][i] * b for a, b in zip(M[r], M[i])]
    c = [M[i][4] for i in range(4)]
    assert sum(cj * pts[4] ** (j + 1) for j, cj in enumerate(c)) == vals[4]   # degree <= 4
    return c, end


# degenerate points: samples exactly on a kink, dead neurons, duplicated and parallel neurons,
# zero output weights, vector outputs (with an output bias), leaky ReLU
X1 = np.array([[0.0], [1.0], [2.0], [-1.0]])
Y1 = np.array([[-1.0], [1.0], [2.0], [0.5]])
X2 = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, -1.0], [-1.0, 3.0], [0.5, 0.25]])
Y2 = np.array([[0.3, -1.0], [1.0, 2.0], [-0.5, 0.5], [0.25, 1.0], [1.0, 0.0]])
CASES = {
    "kink samples": (net_from([[1.0, 0.0], [-1.0, 1.0]], [[1.0], [0.5]]), X1, Y1),
    "dead neuron": (net_from([[1.0, 0.0], [-1.0, -3.0]], [[1.0], [2.0]]), X1, Y1),
    "duplicated neurons": (net_from([[1.0, 0.0], [1.0, 0.0], [2.0, 0.0]], [[0.5], [0.5], [0.25]]),
                           X1, Y1),
    "zero output weights": (net_from([[1.0, 0.0], [-1.0, 1.0]], [[0.0], [0.0]]), X1, Y1),
    "vector output with bias": (net_from([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [1.0, 1.0, 0.0]],
                                     [[1.0, -1.0], [0.0, 0.0], [0.5, 0.5]], [0.25, -0.5]),
                                X2, Y2),
    "leaky relu on kinks": (net_from([[1.0, 0.0], [-1.0, 1.0], [1.0, 0.0]], [[1.0], [0.0], [-0.5]],
                                 activation="leaky_relu", slope=0.01), X1, Y1),
}


def _directions(net, X, seed):
    """Seeded rational-friendly directions, some leaving kink samples on their hyperplane."""
    rng = np.random.default_rng(seed)
    P = net.arch.n_params
    out = [np.round(rng.normal(size=P) * 8) / 8 for _ in range(3)]
    w, a, b = net.arch.neuron_weights(net.params)
    only_out = net.arch.from_neuron_weights(np.zeros_like(w), rng.normal(size=a.shape),
                                            None if b is None else rng.normal(size=b.shape))
    return out + [only_out, -out[0]]


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_ray_polynomial_matches_the_exact_loss_on_its_first_piece(name, seed):
    net, X, Y = CASES[name]
    point = shallow_point(net, X, Y, "mse")
    for d in _directions(net, X, seed):
        ray = exact_ray(point, d)
        c, end = _oracle_coefficients(net.arch, net.params, d, X, Y)
        assert [_fr(v) for v in ray["coefficients"]] == c, name
        assert (ray["piece_end"] is None) == (end is None)
        if end is not None:
            assert _fr(ray["piece_end"]) == end
        low = next((j + 1 for j, v in enumerate(c) if v != 0), None)
        assert ray["order"] == low
        assert ray["proves"] == (low is not None and c[low - 1] < 0)


def test_zero_network_saddle_is_proved_at_second_order_exactly():
    """f = 0 on y = 1: exactly stationary, c₁ = 0 and c₂ < 0 along the escape direction."""
    net = Network.from_weights([np.array([[0.0]]), np.array([[0.0]])])
    X, Y = np.array([[1.0]]), np.array([[1.0]])
    v = classify(net, X, Y, check=False)
    assert v.verdict == "saddle" and v.ray["proved"] and v.ray["order"] == 2
    c, _ = _oracle_coefficients(net.arch, net.params, v.direction, X, Y)
    assert c[0] == 0 and c[1] < 0
    assert v.ray["coefficient"] == float(c[1])
    assert "not a local minimum, proved" in v.reason


def test_a_finite_step_leaving_a_tiny_basin_is_no_proof():
    """A local minimum whose basin along δ has radius 2^-40: the loss rises as s²/2 on the
    first piece, then falls once a dead neuron (2^-40 from activating) turns on. One exact loss
    change at s = 2^-30 — the former confirmation of a second-order saddle — shows a decrease;
    the ray's lowest-order coefficient (c₂ = 1/2 > 0) does not."""
    eps = 2.0 ** -40
    net = net_from([[1.0, -1.0 - eps], [-1.0, 0.0]], [[1.0], [1.0]])
    X, Y = np.array([[1.0], [-1.0]]), np.array([[1.0], [1.0]])
    w, a, _ = net.arch.neuron_weights(net.params)
    dw, da = np.zeros_like(w), np.zeros_like(a)
    dw[0, 1], da[1, 0] = 1.0, 1.0
    d = net.arch.from_neuron_weights(dw, da)
    point = shallow_point(net, X, Y, "mse")
    L0 = oracle_moved_loss(net.arch, net.params, d, 0, X, Y)
    assert oracle_moved_loss(net.arch, net.params, d, Fraction(1, 2 ** 30), X, Y) < L0     # oracle
    assert exact_loss_change(point, d, 2.0 ** -30) < 0                              # old check
    ray = ray_certificate(point, d)
    assert not ray["proved"] and ray["order"] == 2 and ray["coefficient"] == 0.5
    assert ray["piece_end"] == eps
    for s in (Fraction(1, 2 ** 41), Fraction(1, 2 ** 60)):                          # the basin
        assert oracle_moved_loss(net.arch, net.params, d, s, X, Y) > L0
    v = classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False)
    assert v.verdict == "local minimum"
    assert v.radius["radius"] <= eps


def test_second_order_test_does_not_certify_a_direction_its_ray_does_not_prove():
    """The second-order test decides by the ray: a vector-output escape whose float c₂ < 0 is
    a saddle only with the exact lowest-order coefficient negative."""
    wide, X, Y = _rank_one_split(1.0)
    point = shallow_point(wide, X, Y, "mse")
    kinks = kink_mask(point, 0.0)
    from topoanalysis.critical.escape import _escape

    esc = _escape(point, 0.0, 0.0)
    so = second_order_test(point, esc, kinks, tol=1e-8)
    assert so["decided"] and (so["ray"]["proved"] or so["ray"]["up_to_tol"])
    # oracle: the reported coefficients are the loss polynomial's, and the step decreases
    c, _ = _oracle_coefficients(wide.arch, wide.params, so["direction"], X, Y)
    assert so["ray"]["coefficients"] == [float(v) for v in c]
    assert so["ray"]["descent_coefficient"] < 0
    L0 = oracle_moved_loss(wide.arch, wide.params, so["direction"], 0, X, Y)
    assert oracle_moved_loss(wide.arch, wide.params, so["direction"], _q(so["step"]), X, Y) < L0
    if not so["ray"]["proved"]:          # a first-order residue within the tolerance only
        assert 0 < c[0] <= 1e-8
    # with no tolerance for a first-order residue the same direction is decided exactly only
    # when it is proved exactly
    so0 = second_order_test(point, esc, kinks, tol=None)
    assert so0["decided"] == so["ray"]["proved"]
    # an empty escape report: nothing to test
    none = second_order_test(point, EscapeReport(neurons=[], outputs=2, tol=0.0), kinks)
    assert not none["decided"] and none["ray"] is None


def test_vector_output_split_saddle_reports_its_ray():
    wide, X, Y = _rank_one_split(1.0)
    v = classify(wide, X, Y, check=False)
    assert v.verdict == "saddle" and v.decided_by == "second order"
    assert v.ray is v.second_order["ray"] and v.ray["descent_coefficient"] < 0
    assert "exact ray check" in v.reason and "exact ray check" in v.summary()


def test_exactly_stationary_vector_split_is_proved_without_tolerance():
    """f = relu(x₁ + x₂)·(1, 0) on the unit vectors with y = (1, 1), (1, −1): exactly
    stationary (the residual (0, ±1) is orthogonal to the activations), c₂ = 0 along the
    single neuron's escape (undetermined); split (½, ½) it is an aligned group, proved a saddle
    at second order with tol = 0 (oracle: c₁ = 0, c₂ < 0)."""
    from topoanalysis.critical import split_neuron

    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[1.0, 1.0], [1.0, -1.0]])
    net = net_from([[1.0, 1.0]], [[1.0, 0.0]], hidden_bias=False)
    v1 = classify(net, X, Y, tol=0.0, kink_tol=0.0, check=False)
    assert v1.verdict == "undetermined"
    wide = split_neuron(net, 0, [0.5, 0.5])
    v = classify(wide, X, Y, tol=0.0, kink_tol=0.0, check=False)
    assert v.verdict == "saddle" and v.decided_by == "second order"
    assert v.ray["proved"] and v.ray["order"] == 2
    c, _ = _oracle_coefficients(wide.arch, wide.params, v.direction, X, Y)
    assert c[0] == 0 and c[1] < 0 and v.ray["coefficient"] == float(c[1])
    L0 = oracle_moved_loss(wide.arch, wide.params, v.direction, 0, X, Y)
    assert oracle_moved_loss(wide.arch, wide.params, v.direction, _q(v.ray["step"]), X, Y) < L0


def test_zero_output_escape_at_a_tolerance_stationary_point_uses_the_descending_sign():
    """a_k = 0 on a sample the neuron activates by 2^-60: the output gradient 2^-59 is within
    tol, and along the LP's u the first-order term is positive (1.7e-18); along −u it is
    negative: a saddle proved at the float point (oracle: c₁ < 0)."""
    X = np.array([[1.0, 2.0 ** -60]])
    arch = Architecture(2, (1,), 1, output_bias=False)
    net = Network(arch, pack(arch, np.array([[1.0, 1.0, -1.0]]), np.array([[0.0]])))
    Y = np.array([[1.0]])
    v = classify(net, X, Y, kink_tol=0.0, check=False)
    assert v.verdict == "saddle" and v.ray["proved"] and v.ray["order"] == 1
    c, _ = _oracle_coefficients(arch, net.params, v.direction, X, Y)
    assert c[0] < 0 and v.ray["coefficient"] == float(c[0])
    # tol = 0: the output gradient 2^-59 is a stationarity failure
    assert classify(net, X, Y, kink_tol=0.0, tol=0.0, check=False).verdict == "not stationary"


def test_not_stationary_verdict_carries_its_exact_ray():
    """The README point with y(0) = +1 is not stationary: the ray's c₁ < 0 (oracle)."""
    arch = Architecture(1, (1,), 1, output_bias=False)
    net = Network(arch, pack(arch, np.array([[1.0, 0.0]]), np.array([[1.0]])))
    X, Y = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [1.0], [2.0]])
    v = classify(net, X, Y, kink_tol=0.0, check=False)
    assert v.verdict == "not stationary" and v.ray["proved"]
    c, _ = _oracle_coefficients(arch, net.params, v.direction, X, Y)
    low = next(j for j, cj in enumerate(c) if cj != 0)
    assert v.ray["order"] == low + 1 and c[low] < 0


def test_kink_tol_samples_are_modelled_on_their_hyperplane():
    """kink_tol > 0: a sample 1e-12 from a dead neuron's hyperplane counts as on it — the ray
    is the modelled point's (as every other part of the verdict), so "not stationary" holds;
    at kink_tol = 0 the float point is a local minimum of radius 1e-12."""
    X, Y = np.array([[0.0], [1.0], [2.0]]), np.array([[-1.0], [1.0], [2.0]])
    arch = Architecture(1, (2,), 1, output_bias=False)
    net = Network(arch, pack(arch, np.array([[1.0, 0.0], [-1.0, -1e-12]]),
                             np.array([[1.0], [-1.0]])))
    v9 = classify(net, X, Y, check=False)
    assert v9.verdict == "not stationary" and v9.ray["proved"]
    point = shallow_point(net, X, Y, "mse")
    assert not ray_certificate(point, v9.direction)["proved"]     # the float point's own ray
    assert classify(net, X, Y, kink_tol=0.0, check=False).verdict == "local minimum"


def test_a_failed_ray_check_falls_back_to_undetermined(monkeypatch):
    """When the exact ray does not prove the decrease, no saddle / not-stationary certificate
    is claimed: the verdict is "undetermined" with the ray in the result."""
    import topoanalysis.critical._exact as ex

    def fake(point, direction, tol=None, kinks=None):
        return {"proved": False, "up_to_tol": False, "order": 2, "coefficient": 1.0,
                "coefficients": [0.0, 1.0, 0.0, 0.0], "descent_order": None,
                "descent_coefficient": None, "step": None, "change": None, "piece_end": None,
                "arithmetic": "test"}

    monkeypatch.setattr(ex, "ray_certificate", fake)
    zero = Network.from_weights([np.array([[0.0]]), np.array([[0.0]])])
    v = classify(zero, np.array([[1.0]]), np.array([[1.0]]), check=False)
    assert v.verdict == "undetermined" and v.decided_by is None and v.direction is None
    assert "not certified" in v.reason and v.ray["proved"] is False
    arch = Architecture(1, (1,), 1, output_bias=False)
    net = Network(arch, pack(arch, np.array([[1.0, 0.0]]), np.array([[1.0]])))
    v = classify(net, np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [1.0], [2.0]]),
                 kink_tol=0.0, check=False)
    assert v.verdict == "undetermined" and "not certified" in v.reason


def test_bce_keeps_its_float_check_and_says_so():
    net = Network.from_weights([np.array([[0.0]]), np.array([[0.0]])])
    v = classify(net, np.array([[1.0], [2.0]]), np.array([[1.0], [1.0]]), loss="bce",
                 check=False)
    assert v.ray is None
    if v.verdict in ("saddle", "not stationary"):
        assert "float64 only" in v.reason


def test_ray_is_in_the_json_result(tmp_path):
    net = Network.from_weights([np.array([[0.0]]), np.array([[0.0]])])
    v = classify(net, np.array([[1.0]]), np.array([[1.0]]), check=False)
    d = v.to_dict()
    assert d["ray"]["proved"] and d["ray"]["order"] == 2
    write_json(tmp_path / "v.json", d)
