"""Regression tests of issue 14 (Hardening II): each finding of the outside fuzz run on the
paper subpackages, and each found by ``scripts/fuzz_campaign.py``, as one test."""

import os
import subprocess
import sys

import numpy as np
import pytest

from topoanalysis import Architecture, Network, TopoAnalysisError
from topoanalysis.exceptions import ResourceError, ValidationError

ARCH = Architecture(2, (3,), 1)
NET = Network.initialize(ARCH, seed=0)
NET_B = Network.initialize(ARCH, seed=1)
W1, W2 = np.array([1.0, 0.3]), np.array([0.2, 1.0])
COV = np.array([[2.0, 0.5], [0.5, 1.0]])
INDEFINITE = np.array([[1.0, 2.0], [2.0, -1.0]])


# --- levelsets: the ReLU kernel and Proposition 2.3 --------------------------------------------
@pytest.mark.parametrize("fn", ["relu_kernel", "proposition_2_3_terms",
                                "relu_kernel_monte_carlo"])
def test_indefinite_covariance_is_refused(fn):
    import topoanalysis.levelsets as ls

    with pytest.raises(ValidationError, match="positive semi-definite"):
        getattr(ls, fn)(W1, W2, INDEFINITE)
    with pytest.raises(ValidationError, match="symmetric"):
        getattr(ls, fn)(W1, W2, np.array([[1.0, 0.0], [1.0, 1.0]]))


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_relu_kernel_is_scaled_not_overflowed(scale):
    from topoanalysis.levelsets import proposition_2_3_terms, relu_kernel

    k = relu_kernel(W1, W2, COV)
    assert relu_kernel(W1 * scale, W2, COV) == pytest.approx(k * scale, rel=1e-14)
    assert relu_kernel(W1 * scale, W2 / scale, COV) == pytest.approx(k, rel=1e-14)
    assert relu_kernel(W1, W2, COV * scale) == pytest.approx(k * scale, rel=1e-14)
    lo, va, up = proposition_2_3_terms(W1, W2, COV * scale)
    assert np.isfinite([lo, va, up]).all() and lo <= va <= up


def test_relu_kernel_overflow_is_refused_in_one_line():
    from topoanalysis.levelsets import relu_kernel

    with pytest.raises(ValidationError, match="overflows float64"):
        relu_kernel(W1 * 1e300, W2 * 1e300, COV * 1e300)


def test_proposition_terms_of_opposite_and_zero_vectors():
    from topoanalysis.levelsets import proposition_2_3_terms

    lo, va, up = proposition_2_3_terms(W1, -W1)          # α = π: no bisector, factor 0
    assert np.isfinite([lo, va, up]).all() and va == 0 and up == 0
    with pytest.raises(ValidationError, match="non-zero"):
        proposition_2_3_terms(W1 * 0, W2)


def test_monte_carlo_takes_singular_covariances_and_refuses_huge_samples():
    from topoanalysis.levelsets import (check_proposition_2_3, check_relu_kernel,
                                        relu_kernel_monte_carlo)

    est, se = relu_kernel_monte_carlo(W1, W2, np.ones((2, 2)), n_samples=1000)
    assert np.isfinite([est, se]).all()
    with pytest.raises(ResourceError, match="n_samples"):
        relu_kernel_monte_carlo(W1, W2, n_samples=10 ** 12)
    with pytest.raises(ResourceError, match="n_trials"):
        check_relu_kernel(n_trials=10 ** 9)
    with pytest.raises(ResourceError, match="dim"):
        check_proposition_2_3(2, dim=10 ** 9)
    with pytest.raises(ResourceError):
        check_proposition_2_3(10 ** 12)


def test_monte_carlo_streams_the_same_numbers():
    from topoanalysis.levelsets import relu_kernel, relu_kernel_monte_carlo

    est, se = relu_kernel_monte_carlo(W1, W2, COV, n_samples=300_000, seed=3)
    assert abs(est - relu_kernel(W1, W2, COV)) < 5 * se


def test_train_to_threshold_checks_arch():
    from topoanalysis.levelsets import train_to_threshold

    X = np.ones((4, 2))
    with pytest.raises(ValidationError, match="`arch` must be an Architecture"):
        train_to_threshold(None, X, np.ones((4, 1)), 2, 0.1)


def test_barriers_refuse_overflowing_losses_naming_the_network():
    from topoanalysis.levelsets import pairwise_barriers

    X = np.random.default_rng(0).normal(size=(6, 2))
    big = Network(ARCH, NET.params * 1e200)
    with pytest.raises(ValidationError, match=r"`networks\[1\]` must have a finite loss"):
        pairwise_barriers([NET, big], X, X[:, :1], n_points=5, progress=False)


# --- symmetry ---------------------------------------------------------------------------------
def test_balance_factors_checks_arch_and_theta():
    from topoanalysis.symmetry import balance_factors, balance_params

    with pytest.raises(ValidationError, match="`arch` must be an Architecture"):
        balance_factors("a", NET.params)
    with pytest.raises(ValidationError, match="finite"):
        balance_factors(ARCH, np.full(ARCH.n_params, -np.inf))
    with pytest.raises(ValidationError, match="complex"):
        balance_params(ARCH, NET.params * 1j)


@pytest.mark.parametrize("scale", [1e-300, 1e200, 1e300])
def test_balance_is_scale_covariant(scale):
    from topoanalysis.symmetry import balance_factors, balance_params

    b0 = balance_params(ARCH, NET.params)
    b = balance_params(ARCH, NET.params * scale)
    assert np.all(np.isfinite(b))
    np.testing.assert_allclose(b / scale, b0, rtol=1e-13)
    np.testing.assert_allclose(balance_factors(ARCH, NET.params * scale),
                               balance_factors(ARCH, NET.params), rtol=1e-13)


def test_canonical_neuron_order_checks_decimals_and_scales():
    from topoanalysis.symmetry import canonical_neuron_order

    for bad in (2.5, np.nan, -1, "3"):
        with pytest.raises(ValidationError, match="decimals"):
            canonical_neuron_order(NET, decimals=bad)
    order = canonical_neuron_order(NET).tolist()
    for scale in (1e-300, 1e300):   # neither all rounded to 0 nor all to inf (ties)
        assert canonical_neuron_order(Network(ARCH, NET.params * scale)).tolist() == order


# --- degeneracy -------------------------------------------------------------------------------
def test_parameter_distance_is_scaled_not_overflowed():
    """`stability A --against B` with B ×1e200 ended in SciPy's "invalid numeric entries"."""
    from topoanalysis.degeneracy import parameter_distance

    d0 = parameter_distance(NET, NET_B)
    for scale in (1e-200, 1e200, 1e300):
        d = parameter_distance(Network(ARCH, NET.params * scale),
                               Network(ARCH, NET_B.params * scale))
        assert d.value == pytest.approx(d0.value * scale, rel=1e-12)
        assert d.lower == pytest.approx(d0.lower * scale, rel=1e-12) and d.exact == d0.exact
    d = parameter_distance(NET, Network(ARCH, NET_B.params * 1e200))
    assert np.isfinite(d.value) and d.lower <= d.value


@pytest.mark.parametrize("fn", ["restricted_space_membership", "canonical_form",
                                "network_stability"])
def test_degeneracy_tests_refuse_overflowing_parameters(fn):
    import warnings

    import topoanalysis.degeneracy as dg

    with warnings.catch_warnings():
        warnings.simplefilter("error")            # and no overflow warnings on the way
        with pytest.raises(ValidationError, match="`net` must have parameters of size"):
            getattr(dg, fn)(Network(ARCH, NET.params * 1e200))


def test_detect_degeneracies_is_scale_free_at_huge_parameters():
    # detect_degeneracies scales each neuron by an exact power of two before any norm, so
    # it no longer refuses huge parameters: the same findings as the unscaled network
    import warnings

    from topoanalysis.degeneracy import detect_degeneracies

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = detect_degeneracies(Network(ARCH, NET.params * 2.0 ** 664))
    ref = detect_degeneracies(NET)
    assert [(f.kind, f.neurons, f.exact) for f in big.items] == \
        [(f.kind, f.neurons, f.exact) for f in ref.items]
    assert len(ref.items) > 0


def test_linear_regions_ragged_and_estimated():
    from topoanalysis.degeneracy import linear_regions

    with pytest.raises(ValidationError, match="ragged"):
        linear_regions([[1.0], [1.0, 2.0]], [1.0, 1.0])
    V = np.random.default_rng(0).normal(size=(60, 4))
    with pytest.raises(ResourceError, match="LPs"):
        linear_regions(V, np.ones(60))


def test_restricted_pair_bounds_its_size():
    from topoanalysis.degeneracy import restricted_pair

    with pytest.raises(ResourceError, match="dim × width"):
        restricted_pair("random", 0.1, dim=10 ** 9)
    with pytest.raises(ValidationError, match="eta"):
        restricted_pair("random", 1e308)


def test_issue_findings_already_refused_stay_refused():
    """Findings fixed before this branch (kept here so that they stay fixed)."""
    import topoanalysis.critical as cr
    import topoanalysis.degeneracy as dg

    g, K, C = np.ones(3), np.ones((2, 3)), np.ones(2)
    for args in ((np.array([np.nan, 1, 1]), K, C), (g + 1j, K, C)):
        with pytest.raises(TopoAnalysisError):
            cr.tangential_minimum(*args)
    with pytest.raises(ValidationError):
        dg.Box((0.0, 0.0), (np.nan, 0.0))
    with pytest.raises(ValidationError):
        dg.fit_exponent(np.zeros(3), np.ones(3))
    with pytest.raises(ValidationError):
        dg.measure_family("redundant", ts=(1, 2), alpha=1e308)
    with pytest.raises(ResourceError):
        dg.measure_family("redundant", ts=np.arange(1.0, 100_001))
    with pytest.raises(ValidationError):
        cr.split_neuron(None, 0, [0.5, 0.5])
    with pytest.raises(ValidationError):
        cr.add_zero_neurons(None)


def test_payload_strings_never_run(tmp_path):
    """Every SymPy entry point of critical and degeneracy takes strings only through the
    whitelist parser: a payload is refused and its file never appears."""
    import topoanalysis.critical as cr
    import topoanalysis.degeneracy as dg

    canary = tmp_path / "ran"
    payload = f"__import__('os').system('touch {canary}')"
    X, y = np.array([[1.0], [2.0]]), np.array([[1.0], [0.0]])
    calls = [lambda: cr.symbolic_conditions(X, y, 1, negative_slope=payload),
             lambda: dg.symbolic_conditions([[payload, "1"]], [["1"]]),
             lambda: dg.symbolic_realization([[payload, "1"]], [["1"]]),
             lambda: dg.symbolic_realization([["1", "1"]], [["1"]], [[payload, "1"]]),
             lambda: dg.canonical_form_symbolic([["1", "2"]], [[payload]])]
    for call in calls:
        with pytest.raises(ValidationError):
            call()
    assert not canary.exists()


# --- command lines ----------------------------------------------------------------------------
def _cli(*argv, cwd):
    code = ("import sys; from topoanalysis.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_stability_against_a_huge_network_is_one_line(tmp_path):
    net = Network.initialize(Architecture(30, (3,), 1), seed=0)
    a = net.save(tmp_path / "a.npz")
    b = Network(net.arch, net.params * 1e200).save(tmp_path / "b.npz")
    r = _cli("stability", str(a), str(b), "--radius", "1", "--out", str(tmp_path / "o"),
             "-q", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2 and "invalid numeric" not in r.stderr


def test_barrier_with_a_huge_network_is_one_line(tmp_path):
    net = Network.initialize(Architecture(1, (3,), 1), seed=0)
    a = net.save(tmp_path / "a.npz")
    b = Network(net.arch, net.params * 1e200).save(tmp_path / "b.npz")
    np.savez(tmp_path / "d.npz", X=np.linspace(-1, 1, 5)[:, None], y=np.ones((5, 1)))
    r = _cli("barrier", str(a), str(b), "--data", str(tmp_path / "d.npz"), "--n-points", "5",
             "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2 and "networks[1]" in r.stderr and "node_loss" not in r.stderr
    assert "RuntimeWarning" not in r.stderr


def test_connect_refusal_figures_are_finite(tmp_path):
    net = Network.initialize(Architecture(1, (3,), 1), seed=0)
    a = net.save(tmp_path / "a.npz")
    b = Network.initialize(net.arch, seed=1).save(tmp_path / "b.npz")
    np.savez(tmp_path / "d.npz", X=np.linspace(-1, 1, 5)[:, None], y=np.ones((5, 1)))
    r = _cli("connect", str(a), str(b), "--data", str(tmp_path / "d.npz"), "--max-depth",
             "1000000000", "--threshold", "1e-12", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert r.returncode == 2 and "inf" not in r.stderr.split("error:")[-1]
    assert len(r.stderr.split("error:")[-1]) < 400


def test_hardening_guide_python_blocks_run(tmp_path, monkeypatch):
    import re

    monkeypatch.chdir(tmp_path)
    page = os.path.join(os.path.dirname(os.path.dirname(__file__)), "docs", "guide",
                        "hardening.md")
    blocks = re.findall(r"```python\n(.*?)```", open(page, encoding="utf-8").read(), re.S)
    assert blocks
    namespace = {}
    for code in blocks:
        exec(compile(code, page, "exec"), namespace)


def test_segments_estimate_n_points():
    """`aligned_barriers(n_points=10**12)` ran np.linspace for minutes (found by the fuzz)."""
    from topoanalysis.levelsets import aligned_barriers, pairwise_barriers

    X = np.ones((4, 2))
    for call in (lambda: aligned_barriers(NET, NET_B, X, X[:, :1], n_points=10 ** 12),
                 lambda: pairwise_barriers([NET, NET_B], X, X[:, :1], n_points=10 ** 12,
                                           progress=False)):
        with pytest.raises(ResourceError, match="n_points"):
            call()


def test_string_between_coinciding_ends_has_length_one():
    """`connect A A` reported "normalized length nan" (found by the fuzz)."""
    from topoanalysis.levelsets import dynamic_string_sampling

    X = np.random.default_rng(0).normal(size=(6, 2))
    y = X[:, :1]
    loss = NET.loss(X, y)
    res = dynamic_string_sampling(NET, NET, X, y, threshold=2 * loss + 1, steps=5, n_points=5,
                                  max_depth=1, progress=False)
    s = res.strings[0] if hasattr(res, "strings") else res[0]
    assert s.normalized_length == 1.0 and "nan" not in s.summary()


def test_string_search_estimates_its_worst_case():
    """`dynamic_string_sampling(max_depth=10**9)` doubled its beads until killed (fuzz)."""
    from topoanalysis.levelsets import dynamic_string_sampling

    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ResourceError, match="max_depth"):
        dynamic_string_sampling(NET, NET_B, X, X[:, :1], threshold=0.01, max_depth=10 ** 9,
                                steps=5, n_points=5, progress=False)
    with pytest.raises(ResourceError, match="max_depth"):
        dynamic_string_sampling(NET, NET_B, X, X[:, :1], threshold=0.01, max_depth=40,
                                steps=5000, n_points=5, progress=False)


# --- found by the fuzz campaign -----------------------------------------------------------------
def test_distances_refuse_non_networks():
    from topoanalysis.degeneracy import inverse_stability, parameter_distance, uniform_distance

    box = __import__("topoanalysis.degeneracy", fromlist=["Box"]).Box((-1.0, -1.0), (1.0, 1.0))
    for call in (lambda: parameter_distance(NET.params, NET_B),
                 lambda: parameter_distance(NET, ARCH),
                 lambda: uniform_distance(3, NET_B, box),
                 lambda: uniform_distance(NET, np.ones(13), box),
                 lambda: inverse_stability(NET, [NET, NET_B])):
        with pytest.raises(ValidationError, match="must be a Network"):
            call()


def test_huge_integers_are_refused_not_overflowed():
    from topoanalysis.degeneracy import restricted_pair

    with pytest.raises(ValidationError, match="digits"):
        restricted_pair("random", 10 ** 400)


def test_stability_of_networks_checks_labels():
    from topoanalysis.degeneracy import stability_of_networks

    for bad in (np.nan, "ab", ["a"], [1, 2]):
        with pytest.raises(ValidationError, match="labels"):
            stability_of_networks([NET, NET_B], bad)


def test_linear_regions_refuses_overflowing_products():
    from topoanalysis.degeneracy import linear_regions

    V = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(ValidationError, match="products"):
        linear_regions(V, np.array([1e200, -1e200, 2e200, 5e199, -5e199]))


def test_slices_check_trajectories_and_say_when_points_overflow():
    from topoanalysis.landscape import Landscape
    from topoanalysis.levelsets import loss_surface, pca_directions, pca_slice

    X = np.random.default_rng(0).normal(size=(8, 2))
    land = Landscape(ARCH, X, X[:, :1])
    with pytest.raises(ValidationError, match="trajectory"):
        pca_directions(np.array([["x"], [None]], dtype=object))
    with pytest.raises(ValidationError, match="trajectory"):
        pca_slice(land, [list(NET.params), [1.0]], n=5)
    D = np.stack([NET_B.params - NET.params, np.ones(ARCH.n_params)])
    s = loss_surface(land, NET.params, D, n=5, spans=1e160)
    n_bad = int(np.isnan(s.loss).sum())
    assert n_bad == s.info.get("non_finite_points", 0)
    if n_bad:
        assert "overflow" in s.summary()
    with pytest.raises(ValidationError, match="every point"):
        loss_surface(land, NET.params * 1e300, D, n=3)


def test_aligned_barriers_refuse_overflowing_losses_and_slices_ragged_directions():
    from topoanalysis.landscape import Landscape
    from topoanalysis.levelsets import aligned_barriers, loss_surface

    X = np.random.default_rng(0).normal(size=(6, 2))
    with pytest.raises(ValidationError, match="finite loss"):
        aligned_barriers(NET, Network(ARCH, NET_B.params * 1e150), X, X[:, :1], n_points=5)
    with pytest.raises(ValidationError, match="directions"):
        loss_surface(Landscape(ARCH, X, X[:, :1]), NET.params, [[1.0, 2.0], [1.0]], n=3)


def test_empty_inputs_and_huge_counts_found_by_ci_fuzz():
    from topoanalysis.degeneracy import detect_degeneracies, measure_restricted
    from topoanalysis.landscape import Landscape
    from topoanalysis.levelsets import filter_normalized_directions

    with pytest.raises(ValidationError, match="at least one row"):
        detect_degeneracies(NET, X=np.zeros((0, 2)))
    with pytest.raises(ValidationError, match="size at most"):
        detect_degeneracies(NET, X=np.ones((3, 2)) * 1e200)
    with pytest.raises(ValidationError, match="etas"):
        measure_restricted("outputs", etas=np.array([]))
    X = np.ones((4, 2))
    with pytest.raises(ResourceError, match="`n`"):
        filter_normalized_directions(Landscape(ARCH, X, X[:, :1]), NET.params, 10 ** 9)


def test_campaign_findings():
    """Found by scripts/fuzz_campaign.py (88,758 examples, first run)."""
    import topoanalysis.critical as cr
    from topoanalysis import datasets
    from topoanalysis.degeneracy import detect_degeneracies
    from topoanalysis.levelsets import (dynamic_string_sampling, pca_directions,
                                        proposition_2_3_terms, surface_persistence)

    wu = datasets.wu_five_point_regression()
    X1, y1 = np.asarray(wu.X, float), np.asarray(wu.y, float).reshape(len(wu.X), -1)
    net = Network.initialize(Architecture(1, (3,), 1), seed=0)
    # classify with a kink tolerance that leaves no descent direction: a verdict, no TypeError
    v = cr.classify(net, X1, y1, kink_tol=0.05, n_perturbations=10)
    assert v.verdict in ("not stationary", "local minimum", "saddle", "undetermined")
    for bad in (np.array("x"), 1.7976931348623157e308):
        with pytest.raises(ValidationError, match="radii"):
            cr.classify(net, X1, y1, radii=bad)
    with pytest.raises(ValidationError, match="surface"):
        surface_persistence([[1.0, 1.0, 1.0], [1.0]])
    # subnormal covariances are scaled (the scale stays finite), not an SVD failure
    lo, va, up = proposition_2_3_terms(W1, W2, np.array([[1e-323, 0.0], [0.0, 5e-324]]))
    assert np.isfinite([lo, va, up]).all()
    D, explained, _ = pca_directions(np.random.default_rng(0).normal(size=(5, 13)) * 1e307)
    assert np.all(np.isfinite(explained)) and np.all(np.isfinite(D))
    with pytest.raises(ValidationError, match="theta_b"):
        dynamic_string_sampling(NET, Network(ARCH, NET_B.params * 1e300), X1[:, [0, 0]], y1,
                                threshold=1.0, steps=5, n_points=5, max_depth=1,
                                progress=False)
    with pytest.raises(ValidationError, match="underflow"):
        detect_degeneracies(Network(ARCH, NET.params * 5e-324 * 4))


def test_campaign_2_findings():
    """Found by the second campaign (51,894 examples): 0-d arrays as sequences, and a
    "not stationary" point without a computed descent direction."""
    import topoanalysis.critical as cr
    from topoanalysis import datasets
    from topoanalysis.degeneracy import measure_family, measure_restricted

    with pytest.raises(ValidationError, match="ts"):
        measure_family("redundant", ts=np.array(0.0))
    with pytest.raises(ValidationError, match="etas"):
        measure_restricted("outputs", etas=np.array(0.0))
    wu = datasets.wu_five_point_regression()
    X1, y1 = np.asarray(wu.X, float), np.asarray(wu.y, float).reshape(len(wu.X), -1)
    m = Network(Architecture(1, (3,), 1), np.array([
        0.17542765439562555, -0.08849063244654962, 1.0862059681804261, -0.05520238817187748,
        -0.08967769168366446, -0.3258617904541281, -0.09833938275510548, -0.41456694079430284,
        -0.7442247722250365, 0.11]))
    for kt in (0.01, 0.02):
        v = cr.classify(m, X1, y1, kink_tol=kt, n_perturbations=10)
        assert v.verdict in ("not stationary", "local minimum", "saddle", "undetermined")
        assert "nan" not in v.summary().lower()


def test_campaign_3_finding_ragged_etas():
    from topoanalysis.degeneracy import measure_restricted

    with pytest.raises(ValidationError, match="etas"):
        measure_restricted("outputs", etas=[[], [1e-74, 1.0]])
    assert measure_restricted("outputs", etas=[0.3, 0.1], seeds=1).summary()


def test_string_summary_never_prints_a_bare_inf():
    """Campaign finding (2026-12-04): `connect A A` on data whose loss overflows on the path
    printed "max loss on the path inf"; the summary now says what happened in words."""
    import numpy as np

    from topoanalysis.levelsets.strings import _loss_text

    assert _loss_text(0.25) == "0.25"
    for x in (np.inf, np.nan, -np.inf):
        text = _loss_text(x)
        assert "inf" not in text.split() and "nan" not in text.split() and "overflow" in text
