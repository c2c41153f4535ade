"""Audit (session 13, breakp): probabilities of pathological neurons at initialization.

Reference values are independent of the library: exact values for squared uniforms derived by
hand (``P(U1² + U2² < V²) = π/12`` for ``U1, U2, V ~ U(0, 1)``: a quarter disc of radius ``v``
integrated over ``v``) and the F distribution (scipy) for normal laws.
"""

import numpy as np
import pytest
from scipy import stats

from topoanalysis import ValidationError
from topoanalysis.obstruction.probability import pathological_probability


@pytest.mark.parametrize("kw, exact", [
    # w_k = (w, b) with a 'same' uniform bias, a_k one entry, all three half-widths √6
    ({"d": 1, "e": 1, "hidden_bias": True, "bias_init": "same"}, np.pi / 12),
    # w_k one entry, a_k two entries, all half-widths √6: 1 − P(V1² + V2² < U²)
    ({"d": 1, "e": 2}, 1 - np.pi / 12),
])
def test_quadrature_error_covers_the_equal_width_uniform_cross_term(kw, exact):
    # equal uniform half-widths in w_k and a_k: the oscillating parts of their characteristic
    # functions cancel in the tail (a non-oscillating t^-2 term); the reported error covers it
    kw = dict(kw)
    d, e = kw.pop("d"), kw.pop("e")
    q = pathological_probability(d, 1, e, "kaiming_uniform", **kw)
    assert q.method == "quadrature"
    assert abs(float(q.p) - exact) <= float(q.error), (float(q.p), exact, float(q.error))
    assert float(q.error) < 1e-9


def test_quadrature_many_entries_no_overflow():
    # d = 1e9 entries: (characteristic function)**n overflowed (NaN) and the result was refused
    # naming `bias_std`, which was not set
    q = pathological_probability(10 ** 9, 2, 1, "kaiming_normal", method="quadrature")
    exact = stats.f.sf(2.0, 1, 10 ** 9)           # P(F_{1,d} > l) for Kaiming normal
    assert abs(float(q.p) - exact) <= max(float(q.error), 1e-9)
    u = pathological_probability(10 ** 9, 2, 1, "kaiming_uniform")
    assert np.isfinite(float(u.p)) and np.isfinite(float(u.error))


def test_quadrature_accurate_for_large_d():
    # a large mean of c_k makes the characteristic function oscillate (exp(i E[c] t)): the
    # panels must follow the phase, not only log t
    for d in (10 ** 3, 10 ** 5):
        q = pathological_probability(d, 3, 1, "kaiming_normal", method="quadrature")
        exact = stats.f.sf(3.0, 1, d)
        assert abs(float(q.p) - exact) <= max(float(q.error), 1e-12), (d, float(q.p), exact)
        assert float(q.error) < 1e-9


@pytest.mark.parametrize("kw", [{"gain_value": 1e-300}, {"gain_value": 1e160},
                                {"std": 1e-300, "scheme": "normal"},
                                {"std": 1e200, "scheme": "normal"}])
def test_quadrature_is_scale_invariant(kw):
    # P(c_k < 0) does not change when every entry is scaled by the same factor: a common tiny
    # or huge scale (gain or std) must not be refused (it named `bias_std`, got None)
    kw = dict(kw)
    scheme = kw.pop("scheme", "kaiming_uniform")
    ref_kw = {"std": 1.0} if scheme == "normal" else {}
    ref = pathological_probability(2, 3, 1, scheme, method="quadrature", **ref_kw)
    q = pathological_probability(2, 3, 1, scheme, method="quadrature", **kw)
    assert float(q.p) == pytest.approx(float(ref.p), abs=1e-12)


def test_refusal_names_a_parameter_that_was_given():
    # a pytorch bias (half-width 1/√d) next to weights of std 1e200: the variance ratio leaves
    # float64; if refused, the message must name `std`, never an unset `bias_std`
    try:
        r = pathological_probability(2, 3, 1, "normal", std=1e200, hidden_bias=True,
                                     bias_init="pytorch", method="quadrature")
    except ValidationError as exc:
        assert "`std`" in str(exc) and "None" not in str(exc)
    else:
        assert float(r.p) == pytest.approx(float(pathological_probability(
            2, 3, 1, "normal", std=1.0).p), abs=1e-9)
