"""Second audit of ``degeneracy.detect`` and ``obstruction`` (session 11, follow-up).

Exactly vs nearly coinciding hyperplanes, exact signs of ``c_k`` in every verdict of
``obstruction``, and power-of-two scale invariance of the detectors. Every expected value is
computed here independently (``fractions.Fraction`` on the float parameters).
"""

import math
import warnings
from fractions import Fraction as Q

import numpy as np
import pytest

from topoanalysis import Architecture, Network, ValidationError
from topoanalysis.degeneracy import detect_degeneracies
from topoanalysis.obstruction.experiment import set_pathological_count
from topoanalysis.obstruction.topology import reachability, zero_neurons


def net_of(W, a, biases=None):
    return Network.from_weights([np.asarray(W, float), np.asarray(a, float)], biases)


def _q(v):
    return [Q(float(x)) for x in v]


def _line_angle(u, v):
    """Angle between the lines of ``u`` and ``v`` from the exact ``sin²`` (Lagrange identity)."""
    u, v = _q(u), _q(v)
    uu, vv, uv = (sum(x * y for x, y in zip(p, r)) for p, r in ((u, u), (v, v), (u, v)))
    sin2 = 1 - uv * uv / (uu * vv)
    return math.asin(math.sqrt(float(sin2)))


def _same_line(u, v):
    u, v = _q(u), _q(v)
    return all(u[i] * v[j] == u[j] * v[i] for i in range(len(u)) for j in range(len(u)))


# --- 1. exactly vs nearly coinciding hyperplanes ------------------------------------------------
W0 = np.array([1.0, 3.0])


@pytest.mark.parametrize("w2, exact", [
    (W0 * 2.0, True),                          # same line, same orientation
    (W0 * -0.5, True),                         # same hyperplane, opposite orientation
    (W0 * (1 + 2.0 ** -52), False),            # rounded: not exactly parallel
    (-W0 * (1 + 2.0 ** -52), False),
    (np.array([1.0, 3.0 + 2.0 ** -40]), False),
])
def test_coinciding_hyperplanes_exact_flag_and_measured_angle(w2, exact):
    assert _same_line(W0, w2) == exact          # the premise, decided here in rationals
    rep = detect_degeneracies(net_of([W0, w2], [[1.0, 1.0]]))
    (it,) = rep.of_kind("coinciding_hyperplanes")
    assert it.neurons == (0, 1) and it.exact is exact
    assert it.to_dict()["exact"] is exact
    assert rep.of_kind("coinciding_hyperplanes", exact=exact) == [it]
    assert rep.of_kind("coinciding_hyperplanes", exact=not exact) == []
    if exact:
        assert it.detail.startswith("exactly coinciding")
        assert "deg" not in it.detail
    else:
        # the tolerance category is named as such, with the measured angle (not "0 deg")
        assert it.detail.startswith("nearly coinciding")
        angle = _line_angle(W0, w2)
        assert angle > 0
        assert f"{angle:.3g} rad" in it.detail
        assert "near=" in it.detail
    assert ("exact" in rep.summary()) or not exact


def test_coinciding_hyperplanes_use_the_augmented_vector():
    # x1 = -1 and x1 = 1 are parallel, not coinciding; x1 = -1 twice (scaled by 2) coincides
    W = [[1.0, 0.0], [2.0, 0.0], [2.0, 0.0]]
    b = np.array([1.0, 2.0, -2.0])
    rep = detect_degeneracies(net_of(W, [[1.0, 1.0, 1.0]], [b, None]))
    exact = {it.neurons for it in rep.of_kind("coinciding_hyperplanes", exact=True)}
    assert exact == {(0, 1)}
    # bias moved by one ulp: nearly, not exactly, coinciding
    b2 = np.array([1.0, np.nextafter(2.0, 3.0), -2.0])
    rep = detect_degeneracies(net_of(W, [[1.0, 1.0, 1.0]], [b2, None]))
    its = {it.neurons: it for it in rep.of_kind("coinciding_hyperplanes")}
    assert its[(0, 1)].exact is False and rep.of_kind("coinciding_hyperplanes", exact=True) == []


def test_nearly_opposite_reports_the_angle_not_a_rounded_cosine():
    w2 = -W0 * (1 + 2.0 ** -52)
    rep = detect_degeneracies(net_of([W0, w2], [[1.0, 1.0]]))
    (it,) = rep.of_kind("nearly_opposite")
    assert it.exact is False
    assert f"{_line_angle(W0, w2):.3g} rad" in it.detail


def test_exact_kinds_are_flagged_exact_only_without_tolerance():
    net = net_of([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0], [0.0, 0.0]], [[1.0, 1.0, 1.0, 1.0]])
    rep = detect_degeneracies(net)
    for it in rep.items:
        if it.kind in ("zero", "redundant", "opposite"):
            assert it.exact, it
        if it.kind in ("unbalanced", "nearly_opposite", "cancelling_opposite_pairs"):
            assert not it.exact, it
    # a positive tolerance adds findings that are not exact; exact facts stay exact
    net = net_of([[1.0, 0.0], [2.0, 0.0], [1.0, 2.0 ** -40], [0.0, 0.0]],
                 [[1.0, 1.0, 1.0, 1.0]])
    loose = detect_degeneracies(net, tolerances={"direction": 1e-9})
    flags = {it.neurons: it.exact for it in loose.of_kind("redundant")}
    assert flags == {(0, 1): True, (0, 2): False, (1, 2): False}
    assert "within the tolerance" in loose.of_kind("redundant", exact=False)[0].detail


# --- 2. exact signs of c_k in the obstruction verdicts -------------------------------------------
def test_reachability_orbit_decides_the_sign_of_c_exactly():
    # c = ||(1, 2^-30)||² − 1 = 2^-60 > 0 exactly; the float c rounds to 0
    init = net_of([[1.0, 2.0 ** -30]], [[1.0]])
    assert init.conserved_quantities()[0] == 0.0
    target_w = net_of([[0.5, 0.25]], [[0.0]])          # (w, 0): reaches only c > 0
    res = reachability(init, target_w, atol=0.0, zero_neurons="orbit")
    assert res.reachable and res.verified, res.reason
    assert res.alphas[0] > 0 and np.isfinite(res.alphas[0])
    target_a = net_of([[0.0, 0.0]], [[3.0]])            # (0, a): reaches only c < 0
    assert not reachability(init, target_a, atol=0.0, zero_neurons="orbit").reachable
    # mirrored: c = 1 − ||(1, 2^-30)||² = −2^-60
    init2 = Network.from_weights([np.array([[1.0, 0.0]]), np.array([[1.0], [2.0 ** -30]])])
    assert init2.conserved_quantities()[0] == 0.0
    target_a2 = Network.from_weights([np.array([[0.0, 0.0]]), np.array([[3.0], [1.0]])])
    res = reachability(init2, target_a2, atol=0.0, zero_neurons="orbit")
    assert res.reachable and res.verified, res.reason
    target_w2 = Network.from_weights([np.array([[0.5, 0.25]]), np.array([[0.0], [0.0]])])
    assert not reachability(init2, target_w2, atol=0.0, zero_neurons="orbit").reachable


def test_zero_neurons_exact_for_tiny_nonzero_weights():
    # ||w|| underflows to 0 for w ~ 2^-600, but w ≠ 0: not a zero neuron
    net = net_of([[2.0 ** -600, 0.0], [0.0, 0.0], [1.0, 1.0]], [[1.0, 1.0, 2.0 ** -600]])
    assert zero_neurons(net).tolist() == [1]
    net_b = net_of([[0.0, 0.0]], [[1.0]], [np.array([-(2.0 ** -600)]), None])
    assert zero_neurons(net_b).tolist() == [0]       # ReLU, w = 0 and b < 0: dead everywhere


def test_set_pathological_count_signs_hold_exactly_or_refuse():
    # ratio = 1 + 2^-52: c_k = ±(√r − 1/√r)||w|| ||a|| ~ 1e-16, below the rounding of the
    # rescaled weights: the promised signs used to fail silently for some seeds
    arch = Architecture(2, (3,), 1)
    refused = 0
    for seed in range(40):
        net = Network.initialize(arch, seed=seed)
        for ratio in (4.0, 1.0 + 2.0 ** -52):
            try:
                theta = set_pathological_count(arch, net.params, 2, ratio=ratio)
            except ValidationError as exc:
                assert "`ratio`" in str(exc) and ratio != 4.0
                refused += 1
                continue
            (W1, b1), (W2, _) = arch.unpack(theta)
            for k in range(3):
                c = sum(Q(float(x)) ** 2 for x in W1[k]) + Q(float(b1[k])) ** 2 \
                    - sum(Q(float(x)) ** 2 for x in W2[:, k])
                assert (c > 0) == (k < 2) and c != 0, (seed, ratio, k, c)
    assert refused > 0


def test_breast_cancer_and_monte_carlo_count_signs_exactly(monkeypatch):
    # the counts of pathological neurons use the exact signs (same helper as the topology)
    from topoanalysis.obstruction import topology

    calls = []
    orig = topology._exact_c_signs
    monkeypatch.setattr(topology, "_exact_c_signs",
                        lambda *a, **k: calls.append(1) or orig(*a, **k))
    from topoanalysis.obstruction.probability import pathological_probability

    pathological_probability(2, 3, 1, "kaiming_normal", method="monte_carlo", n_samples=50)
    assert calls
    # a batch where the float c rounds to 0 but the exact c is ±2^-60
    arch = Architecture(2, (2,), 1, hidden_bias=False, output_bias=False)
    theta = arch.pack([np.array([[1.0, 2.0 ** -30], [1.0, 0.0]]), np.array([[1.0, 1.0]])])
    assert orig(arch, np.stack([theta, theta])).tolist() == [[1, 0], [1, 0]]


# --- 3. power-of-two scale invariance of the detectors ---------------------------------------
def _items(rep):
    scale_free = ("unbalanced", "redundant", "opposite", "nearly_opposite",
                  "coinciding_hyperplanes", "cancelling_opposite_pairs")
    return sorted((it.kind, it.neurons, it.exact, it.value if it.kind in scale_free else None,
                   it.detail if it.kind in scale_free[1:] else None) for it in rep.items)


def _degenerate_net():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((9, 2))
    W[1] = -W[0]                                   # exactly opposite
    W[2] = 2.0 * W[0]                              # redundant
    W[3] = -W[4] * (1 + 2.0 ** -52)                # nearly opposite
    W[5] = -W[6]
    W[7] = 0.0                                     # zero neuron
    a = rng.standard_normal((1, 9))
    a[0, 1] = a[0, 0]                               # linear parts of the opposite pairs
    b = rng.standard_normal(9)
    b[1], b[2], b[3], b[5], b[7] = -b[0], 2 * b[0], -b[4] * (1 + 2.0 ** -52), -b[6], 0.0
    return net_of(W, a, [b, np.zeros(1)])


@pytest.mark.parametrize("k", [-600, 600, -1000, 900])
def test_detectors_invariant_under_power_of_two_rescaling(k):
    net = _degenerate_net()
    ref = detect_degeneracies(net)
    assert ref.of_kind("opposite") and ref.of_kind("redundant") and ref.of_kind("zero")
    assert ref.of_kind("nearly_opposite") and ref.of_kind("unbalanced")
    scaled = Network(net.arch, net.params * 2.0 ** k)       # exact: no rounding
    assert np.array_equal(scaled.params * 2.0 ** -k, net.params)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = detect_degeneracies(scaled)
    assert _items(rep) == _items(ref)


@pytest.mark.parametrize("k", [-600, 600])
def test_dead_neurons_invariant_under_power_of_two_rescaling(k):
    from topoanalysis.degeneracy import Ball, Box

    W = [[1.0, 0.0], [1.0, 1.0], [-1.0, 0.5]]
    b = np.array([-1.0, -2.0 + 2.0 ** -40, 0.25])
    net = net_of(W, [[1.0, -1.0, 0.5]], [b, None])
    X = np.array([[0.5, 0.5], [1.0, 1.0], [-1.0, 0.0]])
    scaled = Network(net.arch, net.params * 2.0 ** k)
    for kw in ({"X": X}, {"domain": Box((0.0, 0.0), (1.0, 1.0))},
               {"domain": Ball((0.0, 0.0), 1.0)}):
        ref = detect_degeneracies(net, **kw).neurons("dead")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert detect_degeneracies(scaled, **kw).neurons("dead") == ref, kw


def test_mixed_scales_within_one_network():
    # one neuron around 2^-600, one around 2^600: both detected, no warning
    W = [[2.0 ** -600, 0.0], [-(2.0 ** 600), 0.0], [0.0, 1.0]]
    a = [[2.0 ** -600, 2.0 ** 600, 1.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rep = detect_degeneracies(net_of(W, a))
    assert [it.neurons for it in rep.of_kind("opposite")] == [(0, 1)]
    assert rep.of_kind("coinciding_hyperplanes", exact=True)[0].neurons == (0, 1)
    assert rep.of_kind("unbalanced") == [] and rep.of_kind("zero") == []


def test_stability_of_networks_says_which_findings_are_exact():
    """analyze's degeneracy section: exactly and nearly coinciding hyperplanes are told apart
    (exact_counts beside counts; the summary says '(1 exact)')."""
    from topoanalysis import Network
    from topoanalysis.degeneracy import stability_of_networks

    W1 = np.array([[1.0, 0.5], [2.0, 1.0], [1.0, 0.5001], [-0.3, 2.0]])
    b1 = np.array([0.2, 0.4, 0.2, 0.1])
    net = Network.from_weights([W1, np.array([[1.0, -0.5, 0.7, 1.3]])], [b1, None])
    rep = stability_of_networks([net], ["n"])
    c, e = rep.counts[0], rep.exact_counts[0]
    assert c["coinciding_hyperplanes"] > e["coinciding_hyperplanes"] >= 1
    assert f"({e['coinciding_hyperplanes']} exact)" in rep.summary()
    assert rep.to_dict()["exact_counts"] == rep.exact_counts
