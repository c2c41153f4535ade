"""Obstruction probabilities (topoanalysis.obstruction.probability).

Closed forms and quadrature are checked against seeded Monte Carlo drawn with
``topoanalysis.init.init_params`` (within 5 standard errors), against each other, and against
exact values derived by hand for uniform laws:

* ``d = e = 1``: ``P(b1 |U| < b2 |V|) = 1 − r/2`` for ``r = b1/b2 <= 1``;
* ``d = 2, e = 1``: ``P(b1² (U1² + U2²) < b2² V²) = π r²/12`` for ``r = b2/b1 <= 1`` (a quarter
  disc of radius ``r v`` inside the unit square, integrated over ``v``).
"""

import sys

import numpy as np
import pytest
from scipy import stats

from topoanalysis import Architecture, ValidationError
from topoanalysis.graphs import (component_graph, number_effective_components,
                                 number_effective_components_formula, sign_pattern)
from topoanalysis.init import init_params
from topoanalysis.network import conserved_quantities
from topoanalysis.obstruction.probability import (
    EVENTS,
    event_probability,
    l_minus_distribution,
    neuron_law,
    obstruction_grid,
    obstruction_probability,
    pathological_probability,
    plot_obstruction_heatmap,
)


def sampled_c(d, l, e, scheme, n, seed, **kw):
    arch = Architecture(d, (l,), e, hidden_bias=kw.pop("hidden_bias", False))
    theta = init_params(arch, scheme, seed=seed, n_networks=n, **kw)
    return conserved_quantities(arch, theta)


def assert_within(estimate, exact, se, k=5.0, floor=1e-4):
    assert abs(estimate - exact) <= k * max(se, floor), (estimate, exact, se)


@pytest.mark.parametrize("scheme", ["xavier_normal", "kaiming_normal"])
@pytest.mark.parametrize("d, l, e", [(2, 2, 1), (5, 3, 1), (3, 6, 2), (2, 4, 3), (8, 8, 4)])
def test_closed_form_against_monte_carlo(scheme, d, l, e):
    c = sampled_c(d, l, e, scheme, 3000, seed=11)
    p_hat = np.mean(c < 0)
    se = np.sqrt(p_hat * (1 - p_hat) / c.size)
    r = pathological_probability(d, l, e, scheme)
    assert r.method == "closed_form"
    assert_within(p_hat, float(r.p), se)


def test_closed_form_matches_hand_formula_and_options_flow():
    d, l = np.arange(1, 6)[:, None], np.arange(1, 7)[None, :]
    # the notes: Xavier normal σ1² = 2/(d+l), σ2² = 2/(l+1); Kaiming σ1² = 2/d, σ2² = 2/l
    xav = pathological_probability(d, l, 1, "xavier_normal").p
    np.testing.assert_allclose(xav, stats.f.sf(d * (2 / (d + l)) / (2 / (l + 1)), 1, d),
                               rtol=1e-12)
    kai = pathological_probability(d, l, 1, "kaiming_normal").p
    np.testing.assert_allclose(kai, stats.f.sf(l * np.ones_like(d), 1, d), rtol=1e-12)
    # general e: P(F_{e,d} > d σ1² / (e σ2²))
    e = 3
    kai3 = pathological_probability(d, l, e, "kaiming_normal").p
    np.testing.assert_allclose(kai3, stats.f.sf(l / e * np.ones_like(d), e, d), rtol=1e-12)
    # gain and mode flow through from init.layer_std: fan_out, gain 1 gives σ1² = 1/l, σ2² = 1/e
    fo = pathological_probability(d, l, e, "kaiming_normal", mode="fan_out", gain_value=1.0).p
    np.testing.assert_allclose(fo, stats.f.sf(d * (1 / l) / (e * (1 / e)), e, d), rtol=1e-12)
    c = sampled_c(3, 4, e, "kaiming_normal", 3000, seed=5, mode="fan_out", gain_value=1.0)
    p_hat = np.mean(c < 0)
    assert_within(p_hat, float(fo[2, 3]), np.sqrt(p_hat * (1 - p_hat) / c.size))
    # fixed-std normal scheme: σ1 = σ2, p = P(F_{e,d} > d/e) whatever std
    nrm = pathological_probability(4, 7, 2, "normal", std=0.01).p
    assert float(nrm) == pytest.approx(stats.f.sf(2.0, 2, 4))


def test_bias_same_adds_a_degree_of_freedom():
    r = pathological_probability(3, 5, 1, "xavier_normal", hidden_bias=True, bias_init="same")
    assert r.method == "closed_form" and int(r.dimension_w) == 4
    assert float(r.p) == pytest.approx(stats.f.sf(4 * (2 / 8) / (2 / 6), 1, 4))
    c = sampled_c(3, 5, 1, "xavier_normal", 3000, seed=2, hidden_bias=True, bias_init="same")
    p_hat = np.mean(c < 0)
    assert_within(p_hat, float(r.p), np.sqrt(p_hat * (1 - p_hat) / c.size))
    zero = pathological_probability(3, 5, 1, "xavier_normal", hidden_bias=True)
    assert float(zero.p) == float(pathological_probability(3, 5, 1, "xavier_normal").p)
    assert int(zero.dimension_w) == 4  # the bias coordinate exists even when it starts at 0


@pytest.mark.parametrize("d, l, e", [(1, 1, 1), (2, 3, 1), (6, 10, 2), (40, 30, 3), (1, 1, 4)])
def test_quadrature_reproduces_closed_form(d, l, e):
    q = pathological_probability(d, l, e, "xavier_normal", method="quadrature")
    cf = pathological_probability(d, l, e, "xavier_normal")
    assert q.method == "quadrature"
    assert float(q.p) == pytest.approx(float(cf.p), abs=1e-11)


@pytest.mark.parametrize("l", [1, 2, 5, 40])
def test_quadrature_exact_uniform_values(l):
    law = neuron_law(1, l, 1, "kaiming_uniform")
    r = law.w_terms[0][1] / law.a_terms[0][1]
    exact = 1 - r / 2 if r <= 1 else 1 / (2 * r)
    q = pathological_probability(1, l, 1, "kaiming_uniform")
    assert q.method == "quadrature"
    assert float(q.p) == pytest.approx(exact, abs=1e-7)
    assert float(q.error) < 1e-6


def test_quadrature_exact_two_dimensional_uniform():
    # Kaiming uniform, d = 2, l = 3: b1² = 3, b2² = 2, r² = 2/3, p = π r²/12 = π/18
    assert float(pathological_probability(2, 3, 1, "kaiming_uniform").p) == pytest.approx(
        np.pi / 18, abs=1e-10)
    # d = 1 with a 'same' uniform bias is the same two-dimensional case: p = π/24 here
    q = pathological_probability(1, 2, 1, "kaiming_uniform", hidden_bias=True, bias_init="same")
    assert float(q.p) == pytest.approx(np.pi / 24, abs=1e-10)


@pytest.mark.parametrize("scheme, kw", [
    ("xavier_uniform", {}),
    ("kaiming_uniform", {"hidden_bias": True, "bias_init": "pytorch"}),
    ("pytorch", {"hidden_bias": True, "bias_init": "pytorch"}),
    ("kaiming_normal", {"hidden_bias": True, "bias_init": "normal", "bias_std": 0.5}),
    ("xavier_uniform", {"hidden_bias": True, "bias_init": "same"}),
])
@pytest.mark.parametrize("d, l, e", [(2, 3, 1), (3, 2, 2)])
def test_quadrature_against_monte_carlo(scheme, kw, d, l, e):
    q = pathological_probability(d, l, e, scheme, **kw)
    assert q.method == "quadrature"
    c = sampled_c(d, l, e, scheme, 3000, seed=9, **kw)
    p_hat = np.mean(c < 0)
    assert_within(p_hat, float(q.p), np.sqrt(p_hat * (1 - p_hat) / c.size))
    # the library's own Monte Carlo reports its standard error
    mc = pathological_probability(d, l, e, scheme, method="monte_carlo", n_samples=500,
                                  seed=3, **kw)
    assert mc.method == "monte_carlo" and mc.n_samples == 500
    assert_within(float(mc.p), float(q.p), float(mc.error))


def test_events_against_monte_carlo():
    d, l, e, scheme, n = 2, 3, 1, "xavier_normal", 20000
    c = sampled_c(d, l, e, scheme, n, seed=21)
    lm = (c < 0).sum(axis=1)
    p = float(pathological_probability(d, l, e, scheme).p)
    comps = 2.0 ** lm
    eff = np.array([number_effective_components(component_graph(sign_pattern(l - m, m)))
                    for m in range(l + 1)])[lm]
    checks = {
        "all_pathological": (lm == l).astype(float),
        "obstructed": (eff > 1).astype(float),
        "disconnected": (lm >= 1).astype(float),
        "expected_components": comps,
        "expected_effective_components": eff.astype(float),
        "expected_pathological": lm.astype(float),
    }
    for event, x in checks.items():
        exact = float(event_probability(p, l, event))
        assert_within(x.mean(), exact, x.std(ddof=1) / np.sqrt(n), floor=1e-6)
    # the distribution of l_-
    pmf = l_minus_distribution(l, p)
    freq = np.bincount(lm, minlength=l + 1) / n
    for m in range(l + 1):
        assert_within(freq[m], pmf[m], np.sqrt(pmf[m] * (1 - pmf[m]) / n))


@pytest.mark.parametrize("dw, e", [(2, 1), (1, 1), (1, 2), (3, 2)])
@pytest.mark.parametrize("l", [1, 2, 5])
def test_expectations_equal_binomial_sums_of_graph_counts(dw, e, l):
    p = 0.37
    pmf = l_minus_distribution(l, p)
    eff = []
    for m in range(l + 1):
        n_eff = number_effective_components(component_graph(sign_pattern(l - m, m), dw, e))
        assert n_eff == number_effective_components_formula(l - m, m, 0, dw, e)
        eff.append(n_eff)
    kw = dict(dimension_w=dw, e=e)
    assert float(event_probability(p, l, "expected_effective_components", **kw)) == \
        pytest.approx(float(np.dot(pmf, eff)), rel=1e-12)
    assert float(event_probability(p, l, "obstructed", **kw)) == pytest.approx(
        float(np.dot(pmf, np.array(eff) > 1)), rel=1e-12, abs=1e-15)
    frozen = np.array([(m if e == 1 else 0) + ((l - m) if dw == 1 else 0)
                       for m in range(l + 1)])
    assert float(event_probability(p, l, "expected_components", **kw)) == pytest.approx(
        float(np.dot(pmf, 2.0 ** frozen)), rel=1e-12)
    assert float(event_probability(p, l, "disconnected", **kw)) == pytest.approx(
        float(np.dot(pmf, frozen > 0)), rel=1e-12, abs=1e-15)


def test_paper_reading_all_pathological_is_obstructed():
    d, l = np.arange(2, 8)[:, None], np.arange(1, 9)[None, :]
    a = obstruction_probability(d, l, 1, "kaiming_normal", "all_pathological")
    b = obstruction_probability(d, l, 1, "kaiming_normal", "obstructed")
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert a.shape == (6, 8)
    # probability decreases with width for Kaiming (threshold l grows)
    assert np.all(np.diff(a, axis=1) < 0)


def test_grid_and_csv(tmp_path):
    g = obstruction_grid([1, 2, 3], [1, 2], e=1, scheme="xavier_normal")
    assert set(g.events) == set(EVENTS)
    assert g.p.shape == (3, 2) and g.method == "closed_form"
    path = g.to_csv(tmp_path / "g.csv")
    g2 = obstruction_grid([1], [4], scheme="kaiming_normal", events=["obstructed"])
    text = path.read_text().splitlines()
    assert len(text) == 1 + 6
    assert text[0].startswith("scheme,e,d,l,hidden_bias,method,p,error,")
    rows = list(g.rows())
    assert rows[0]["d"] == 1 and rows[0]["l"] == 1 and rows[0]["per_neuron"] == rows[0]["p"]
    assert list(g2.events) == ["obstructed"]


def test_plot_heatmap(tmp_path):
    pytest.importorskip("matplotlib")
    grids = [obstruction_grid(range(1, 5), range(1, 5), scheme=s)
             for s in ("xavier_normal", "kaiming_normal")]
    path = tmp_path / "fig.png"
    fig = plot_obstruction_heatmap(grids, "all_pathological", path=str(path))
    assert path.stat().st_size > 1000 and len(fig.axes) == 4  # 2 panels + 2 colorbars
    plot_obstruction_heatmap(grids[0], "expected_components", log=True)
    with pytest.raises(ValidationError, match="`event`"):
        plot_obstruction_heatmap(grids, "nope")


def test_plot_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    g = obstruction_grid([1], [1])
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_obstruction_heatmap(g)


def test_errors():
    with pytest.raises(ValidationError, match="`scheme`"):
        pathological_probability(2, 2, 1, "he")
    with pytest.raises(ValidationError, match="closed_form"):
        pathological_probability(2, 2, 1, "xavier_uniform", method="closed_form")
    with pytest.raises(ValidationError, match="`std`"):
        pathological_probability(2, 2, 1, "normal")
    with pytest.raises(ValidationError, match="`bias_std`"):
        pathological_probability(2, 2, 1, hidden_bias=True, bias_init="normal")
    with pytest.raises(ValidationError, match="`d`"):
        pathological_probability(0, 2)
    with pytest.raises(ValidationError, match="`p`"):
        event_probability(1.5, 2)
    with pytest.raises(ValidationError, match="`event`"):
        event_probability(0.5, 2, "sometimes")
    with pytest.raises(ValidationError, match="`l`"):
        l_minus_distribution(0, 0.5)
    with pytest.raises(ValidationError, match="`events`"):
        obstruction_grid([1], [1], events=["x"])
    with pytest.raises(ValidationError, match="`method`"):
        pathological_probability(2, 2, method="exact")
