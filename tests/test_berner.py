"""Berner, Elbrächter & Grohs (NeurIPS 2019): constants, Theorem 3.1's conditions, the
optimization side and Section A.4 (issue 15, paper 3)."""

import json

import numpy as np
import pytest

from topoanalysis.degeneracy import (THEOREM_3_3_CONSTANT, flipped_pair, measure_family,
                                     measure_flipped, measure_restricted, search_constant,
                                     sobolev_distance, parameter_distance, stability_constant)
from topoanalysis.exceptions import ValidationError


# --- item 1: Theorem 3.3's constant -------------------------------------------------------------
def test_flipped_pair_ratio_is_sqrt2_at_every_scale():
    for eta in (0.5, 1e-3, 1e-6):
        theta, gamma = flipped_pair(eta, dim=3, seed=1)
        d = sobolev_distance(theta, gamma)
        p = parameter_distance(theta, gamma)
        assert d.exact and p.exact
        assert d.value == pytest.approx(2 * np.linalg.norm(theta.weights[0]) ** 2, rel=1e-12)
        assert p.value_balanced / d.value ** 0.5 == pytest.approx(np.sqrt(2), rel=1e-9)
    est = stability_constant(measure_flipped((0.1, 0.01, 0.001)))
    assert est.constant == pytest.approx(np.sqrt(2), rel=1e-9)
    assert est.within_statement and est.fitted_exponent == pytest.approx(0.5, abs=1e-6)


def test_constant_of_restricted_kinds_within_statement_and_families_above():
    tiny = stability_constant(measure_restricted("tiny", (0.1, 0.01, 0.001), seeds=2))
    assert tiny.within_statement and tiny.constant < THEOREM_3_3_CONSTANT
    assert abs(tiny.blowup) < 0.01                   # exponent 1/2: the ratio stays bounded
    unb = stability_constant(measure_family("unbalanced", (1, 4, 16)))
    assert not unb.within_statement and unb.constant == pytest.approx(16, rel=1e-9)
    assert unb.blowup == pytest.approx(0.5, abs=1e-6)   # ratio ~ |dR|^{-1/2}: no constant
    d = unb.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["stated_constant"] == 2.0 and "constant" in unb.summary()


def test_search_constant_seeded_and_bounded():
    a = search_constant(6, seed=3)
    b = search_constant(6, seed=3)
    np.testing.assert_array_equal(a.ratio_balanced, b.ratio_balanced)
    est = stability_constant(a)
    assert est.within_statement and 0 < est.constant <= THEOREM_3_3_CONSTANT
    assert not np.isfinite(est.blowup)              # independent pairs: no power law


def test_stability_constant_rejects_bad_input():
    with pytest.raises(ValidationError, match="measurement"):
        stability_constant([1, 2])
    with pytest.raises(ValidationError, match="stated"):
        stability_constant(measure_flipped((0.1, 0.01)), stated=-1)
    with pytest.raises(ValidationError, match="eta"):
        flipped_pair(0.0)
