"""Probability of the topological obstruction at initialization.

At initialization the hidden neurons of a shallow network are i.i.d., so each is
pathological (``c_k = ||w_k||² − ||a_k||² < 0``) with the same probability ``p`` and
``l_− ~ Binomial(l, p)`` (Nurisso, Leroy, Vaccarino, Figure 5).

Per-neuron probability
----------------------
Normal schemes without random biases: ``||w_k||² ~ σ₁² χ²_d`` and ``||a_k||² ~ σ₂² χ²_e``
independent, so

``p = P(σ₂² χ²_e > σ₁² χ²_d) = P(F_{e,d} > d σ₁² / (e σ₂²))``

(divide both sides by ``e σ₂² · χ²_d / d``; ``F_{e,d} = (χ²_e/e)/(χ²_d/d)``). The paper's case
``e = 1`` is ``P(F_{1,d} > d σ₁²/σ₂²)``. A hidden bias drawn like the weights
(``bias_init="same"``) adds one degree of freedom: ``d → d + 1``; zero biases change nothing.
The variances come from :func:`topoanalysis.init.layer_std` (Xavier normal
``σ₁² = 2/(d+l)``, ``σ₂² = 2/(l+e)``; Kaiming normal, fan_in, ReLU gain ``σ₁² = 2/d``,
``σ₂² = 2/l``), so gain and mode options flow through.

Uniform schemes and other biases have no closed form here; ``p`` is then computed by
Gil–Pelaez inversion of the characteristic function of ``c_k`` (a sum of independent squared
normals and squared uniforms, ``E exp(i t b² U²) = ∫_0^1 exp(i t b² s²) ds`` in Fresnel
integrals), or by seeded Monte Carlo through :func:`topoanalysis.init.init_params` with its
standard error. Every result states its method.

Events
------
The paper does not say which event its Figure 5 heatmap shows. The default here is
``"all_pathological"`` (``p^l``, every hidden neuron pathological): for ``e = 1`` and
``d >= 2`` it is exactly the event that ``H(c)`` has more than one *effective* component
(``"obstructed"``), the most consistent reading. :data:`EVENTS` lists the others.
"""

import csv
import dataclasses
import os

import numpy as np
from scipy import special, stats

from .. import activations as _act
from .._validation import check_array, check_choice, check_float, check_int
from ..exceptions import NotSupportedError, ValidationError
from ..init import BIAS_INITS, SCHEMES, gain, init_params, layer_std
from ..network import Architecture, conserved_quantities

__all__ = [
    "EVENTS",
    "EVENT_DESCRIPTIONS",
    "METHODS",
    "NeuronLaw",
    "PathologicalProbability",
    "ObstructionGrid",
    "neuron_law",
    "pathological_probability",
    "l_minus_distribution",
    "event_probability",
    "obstruction_probability",
    "obstruction_grid",
    "write_obstruction_outputs",
    "plot_obstruction_heatmap",
]

#: Events (and expectations) computed from the per-neuron probability ``p``.
EVENTS = ("all_pathological", "obstructed", "disconnected", "expected_components",
          "expected_effective_components", "expected_pathological", "per_neuron")

EVENT_DESCRIPTIONS = {
    "all_pathological": "P(every hidden neuron pathological) = p^l",
    "obstructed": "P(H(c) has more than one effective component)",
    "disconnected": "P(H(c) disconnected)",
    "expected_components": "E[number of components of H(c)]",
    "expected_effective_components": "E[number of effective components]",
    "expected_pathological": "E[l_-] = l p",
    "per_neuron": "p = P(c_k < 0)",
}

#: ``"auto"`` uses the closed form when the law allows it, else quadrature.
METHODS = ("auto", "closed_form", "quadrature", "monte_carlo")

_PROBABILITY_EVENTS = ("all_pathological", "obstructed", "disconnected", "per_neuron")


@dataclasses.dataclass(frozen=True)
class NeuronLaw:
    """Distribution of one hidden neuron's ``(w_k, a_k)`` at initialization.

    Attributes
    ----------
    w_terms, a_terms : tuple of (family, scale, count)
        ``count`` i.i.d. entries, ``family`` ``"normal"`` (``scale`` = standard deviation) or
        ``"uniform"`` (``scale`` = half-width ``b`` of ``U(−b, b)``).
    dimension_w : int
        Dimension of ``w_k`` (``d + 1`` with hidden biases, whatever their initial value):
        the ``d`` of the quadrics.
    e : int
        Output dimension.
    """

    w_terms: tuple
    a_terms: tuple
    dimension_w: int
    e: int

    @property
    def closed_form(self):
        """True when both parts are single normal families (F-distribution closed form)."""
        return (len(self.w_terms) == 1 and len(self.a_terms) == 1
                and self.w_terms[0][0] == "normal" and self.a_terms[0][0] == "normal")

    def variance(self):
        """Variance of ``c_k``.

        Returns
        -------
        float
            ``Var c_k``.
        """
        def var(family, s):
            return 2.0 * s ** 4 if family == "normal" else 4.0 * s ** 4 / 45.0
        return sum(n * var(f, s) for f, s, n in (*self.w_terms, *self.a_terms))

    def characteristic_function(self, t):
        """``E exp(i t c_k)`` for an array ``t >= 0``.

        Parameters
        ----------
        t : array_like
            Arguments ``t >= 0``.

        Returns
        -------
        ndarray of complex
            ``E exp(i t c_k)``, same shape as ``t``.
        """
        t = np.asarray(t, dtype=np.float64)
        log = np.zeros(t.shape, dtype=np.complex128)   # n · log φ: no overflow of φ ** n
        for f, s, n in self.w_terms:
            log += n * _log_cf_square(f, s, t)
        for f, s, n in self.a_terms:
            log += n * np.conj(_log_cf_square(f, s, t))
        with np.errstate(under="ignore"):
            return np.exp(log)

    def summary(self):
        """One line: the families of ``w_k`` and ``a_k`` entries and the variance of ``c_k``.

        Returns
        -------
        str
            Lines of text.
        """
        def terms(ts):
            return " + ".join(f"{n} x {f}({s:.4g})" for f, s, n in ts)
        return (f"neuron law: w_k ({self.dimension_w} entries) {terms(self.w_terms)}; "
                f"a_k ({self.e} entries) {terms(self.a_terms)}; Var c_k = {self.variance():.4g}")

    def to_dict(self):
        """Plain data (terms as ``[family, scale, count]`` lists).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"w_terms": [[f, float(s), int(n)] for f, s, n in self.w_terms],
                "a_terms": [[f, float(s), int(n)] for f, s, n in self.a_terms],
                "dimension_w": int(self.dimension_w), "e": int(self.e)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict` (also after a JSON round trip).

        Returns
        -------
        NeuronLaw
            The law the dict describes.
        """
        return cls(w_terms=tuple(tuple(t) for t in d["w_terms"]),
                   a_terms=tuple(tuple(t) for t in d["a_terms"]),
                   dimension_w=d["dimension_w"], e=d["e"])


def _cf_square(family, scale, t):
    """Characteristic function of ``Y²`` for ``Y ~ N(0, s²)`` or ``U(−b, b)``, ``t >= 0``.

    ``"stationary"``: the non-oscillating part ``(1/2) sqrt(π/κ) e^{iπ/4}`` of the uniform one
    (its large-``κ`` asymptote, ``κ = b² t``).
    """
    if family == "normal":
        return (1.0 - 2j * scale ** 2 * t) ** -0.5
    kappa = scale ** 2 * t
    if family == "stationary":
        return 0.5 * np.sqrt(np.pi / kappa) * np.exp(0.25j * np.pi)
    out = np.empty(t.shape, dtype=np.complex128)
    small = kappa < 1e-2
    k = kappa[small]
    out[small] = 1 + 1j * k / 3 - k ** 2 / 10 - 1j * k ** 3 / 42 + k ** 4 / 216
    k = kappa[~small]
    S, C = special.fresnel(np.sqrt(2.0 * k / np.pi))
    out[~small] = np.sqrt(np.pi / (2.0 * k)) * (C + 1j * S)
    return out


def _log_cf_square(family, scale, t):
    """``log`` of :func:`_cf_square` (principal branch), accurate near ``t = 0``.

    Normal: ``−(1/4) log(1 + 4κ²) + (i/2) arctan(2κ)``, ``κ = s² t``. Uniform, ``κ < 1/4``: the
    series ``Σ_j (iκ)^j / (j! (2j + 1))`` of ``∫_0^1 exp(iκu²) du``, with ``log|φ|`` taken as
    ``(1/2) log1p(|φ|² − 1)`` from the series' real and imaginary parts (``φ ≈ 1`` there).
    """
    t = np.asarray(t, dtype=np.float64)
    kappa = scale ** 2 * t
    if family == "normal":
        return -0.25 * np.log1p(4.0 * kappa ** 2) + 0.5j * np.arctan(2.0 * kappa)
    if family == "stationary":
        with np.errstate(divide="ignore"):
            return 0.5 * np.log(np.pi / kappa) - np.log(2.0) + 0.25j * np.pi
    out = np.empty(t.shape, dtype=np.complex128)
    small = kappa < 0.25
    k = kappa[small]
    re_m1 = np.zeros_like(k)      # Re φ − 1
    im = np.zeros_like(k)
    term = np.ones_like(k)        # κ^j / j!
    for j in range(1, 14):
        term = term * k / j
        c = term / (2 * j + 1)
        if j % 4 == 1:
            im += c
        elif j % 4 == 2:
            re_m1 -= c
        elif j % 4 == 3:
            im -= c
        else:
            re_m1 += c
    out[small] = 0.5 * np.log1p(re_m1 * (re_m1 + 2.0) + im ** 2) + 1j * np.arctan2(
        im, 1.0 + re_m1)
    big = ~small
    with np.errstate(divide="ignore"):
        out[big] = np.log(_cf_square(family, scale, t[big]))
    return out


def _law_settings(scheme, hidden_bias, bias_init, bias_std, gain_value, mode, std, activation,
                  negative_slope):
    scheme = check_choice("scheme", scheme, SCHEMES)
    bias_init = check_choice("bias_init", bias_init, BIAS_INITS)
    mode = check_choice("mode", mode, ("fan_in", "fan_out"))
    if not isinstance(hidden_bias, (bool, np.bool_)):
        raise ValidationError(f"`hidden_bias` must be True or False; got {hidden_bias!r}.")
    activation, negative_slope = _act.parse_activation(activation, negative_slope)
    if scheme == "normal":
        if std is None:
            raise ValidationError("`std` must be given (a float > 0) for scheme 'normal'; "
                                  "got None.")
        std = check_float("std", std, minimum=0.0, strict_min=True)
    if hidden_bias and bias_init == "normal":
        if bias_std is None:
            raise ValidationError("`bias_std` must be given for bias_init 'normal'; got None.")
        bias_std = check_float("bias_std", bias_std, minimum=0.0)
    if gain_value is None:
        gain_value = 1.0 if scheme.startswith("xavier") else gain(activation, negative_slope)
    else:
        gain_value = check_float("gain_value", gain_value, minimum=0.0, strict_min=True)
    return dict(scheme=scheme, hidden_bias=bool(hidden_bias), bias_init=bias_init,
                bias_std=bias_std, gain_value=gain_value, mode=mode, std=std,
                activation=activation, negative_slope=negative_slope)


def _law(d, l, e, st):
    scheme = st["scheme"]
    uniform = scheme.endswith("uniform") or scheme == "pytorch"
    family = "uniform" if uniform else "normal"
    factor = np.sqrt(3.0) if uniform else 1.0
    sd1 = float(layer_std(scheme, d, l, gain_value=st["gain_value"], mode=st["mode"],
                          std=st["std"]))
    sd2 = float(layer_std(scheme, l, e, gain_value=st["gain_value"], mode=st["mode"],
                          std=st["std"]))
    w_terms = [(family, factor * sd1, d)]
    if st["hidden_bias"]:
        if st["bias_init"] == "same":
            w_terms = [(family, factor * sd1, d + 1)]
        elif st["bias_init"] == "pytorch":
            w_terms.append(("uniform", 1.0 / np.sqrt(d), 1))
        elif st["bias_init"] == "normal" and st["bias_std"] > 0:
            w_terms.append(("normal", st["bias_std"], 1))
    return NeuronLaw(w_terms=tuple(w_terms), a_terms=((family, factor * sd2, e),),
                     dimension_w=d + int(st["hidden_bias"]), e=e)


def _check_sizes(d, l, e):
    out = []
    for name, x in (("d", d), ("l", l), ("e", e)):
        arr = np.asarray(x)
        if arr.dtype.kind not in "iu" or np.any(arr < 1):
            raise ValidationError(f"`{name}` must be integers >= 1; got {arr.tolist()!r}.")
        out.append(arr.astype(np.int64))
    return np.broadcast_arrays(*out)


def neuron_law(d, l, e=1, scheme="kaiming_normal", *, hidden_bias=False, bias_init="zeros",
               bias_std=None, gain_value=None, mode="fan_in", std=None, activation="relu",
               negative_slope=0.01):
    """Distribution of one neuron's weights under an initialization scheme.

    Parameters mirror :func:`topoanalysis.init.init_params` for the architecture
    ``Architecture(d, (l,), e, hidden_bias=hidden_bias, activation=activation)``.

    Parameters
    ----------
    d, l : int
        Input dimension and hidden width.
    e : int, default=1
        Output dimension.
    scheme : str, default="kaiming_normal"
        Initialization scheme.
    hidden_bias : bool, default=False
        Whether the hidden layer has biases.
    bias_init : str, default="zeros"
        Hidden-bias initialization, one of :data:`topoanalysis.init.BIAS_INITS`.
    bias_std : float, optional
        Standard deviation for ``bias_init="normal"``.
    gain_value : float, optional
        Gain (default: as in :func:`topoanalysis.init.init_params`).
    mode : {"fan_in", "fan_out"}, default="fan_in"
        Fan used by Kaiming schemes.
    std : float, optional
        Standard deviation for ``scheme="normal"``.
    activation : str, default="relu"
        Activation whose gain Kaiming schemes use.
    negative_slope : float, default=0.01
        Leaky-ReLU slope (for the gain).

    Returns
    -------
    NeuronLaw
        The laws of the entries of ``w_k`` and ``a_k`` (family, scale and count of each
        group of i.i.d. entries).

    See Also
    --------
    pathological_probability

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5 (Xavier and Kaiming normal
           initializations).

    Examples
    --------
    >>> law = neuron_law(4, 8, 1, "xavier_normal")
    >>> law.w_terms, law.a_terms   # variances 2/(d+l) = 1/6 and 2/(l+e) = 2/9
    ((('normal', 0.408248290463863, 4),), (('normal', 0.4714045207910317, 1),))
    """
    (d, l, e) = (int(x) for x in _check_sizes(d, l, e))
    st = _law_settings(scheme, hidden_bias, bias_init, bias_std, gain_value, mode, std,
                       activation, negative_slope)
    return _law(d, l, e, st)


_GL = {n: np.polynomial.legendre.leggauss(n) for n in (12, 20)}


def _panel_integral(func, edges, n_nodes):
    """``∫ func(t) dt`` over consecutive ``edges`` with ``n_nodes``-point Gauss–Legendre."""
    x, wts = _GL[n_nodes]
    lo, hi = edges[:-1, None], edges[1:, None]
    half = 0.5 * (hi - lo)
    t = (lo + hi) * 0.5 + half * x[None, :]
    return float(np.sum(func(t.ravel()).reshape(t.shape) * wts[None, :] * half))


def _normalized(law):
    """``law`` with every scale divided by the largest one (``P(c < 0)`` is scale-invariant).

    Terms whose scaled variance underflows float64 are dropped (they change ``c`` by a factor
    below ``1e-300`` of the others); ``None`` when a side is then empty or a scale is not
    finite and positive.
    """
    scales = [float(s) for _, s, _ in (*law.w_terms, *law.a_terms)]
    if not all(np.isfinite(s) and s > 0 for s in scales):
        return None
    top = max(scales)

    def keep(terms):
        out = []
        for f, s, c in terms:
            s = float(s) / top
            if s ** 4 > 1e-300:
                out.append((f, s, c))
        return tuple(out)

    w, a = keep(law.w_terms), keep(law.a_terms)
    if not w or not a:
        return None
    return NeuronLaw(w_terms=w, a_terms=a, dimension_w=law.dimension_w, e=law.e)


def _phase_edges(law, T, panels=np.pi):
    """Panel edges on ``(0, T]`` where a bound of the phase of ``φ`` grows by ``panels``.

    The phase of each side is at most ``Σ n · (1/2) arctan(2 s² t)`` (normal entries) plus
    ``Σ n · arctan(b² t)`` (uniform ones, whose phase is at most ``κ`` and below ``π/2``); the
    two sides' phases subtract, so the larger bound bounds the phase of ``φ``. A large mean of
    ``c`` (many entries) makes ``φ`` turn ``E[c] t`` radians before it decays.
    """
    def bound(terms, t):   # the stationary part of a uniform factor has a constant phase
        return sum((c * (0.5 * np.arctan(2.0 * s * s * t) if f == "normal"
                         else np.arctan(s * s * t)) for f, s, c in terms if f != "stationary"),
                   np.zeros_like(t))

    grid = np.concatenate([[0.0], T * np.logspace(-30, 0, 3001)])
    phase = np.maximum(bound(law.w_terms, grid), bound(law.a_terms, grid))
    levels = np.arange(panels, phase[-1], panels)
    if levels.size > 5_000_000:             # refuse rather than exhaust the memory
        levels = np.linspace(panels, phase[-1], 5_000_000)
    return np.interp(levels, phase, grid)


def _gil_pelaez(law, *, kappa_max=2e4, tol=1e-14):
    """``P(c < 0)`` and an error estimate by Gil–Pelaez inversion.

    ``P(X < 0) = 1/2 − (1/π) ∫_0^∞ Im φ(t)/t dt``. The law is first scaled so its largest
    scale is 1 (the probability is scale-invariant, so common scales never overflow). The
    integral is split into Gauss–Legendre panels that are short in ``log t`` (the decay at
    scale ``1/σ``), in the phase of ``φ`` (``exp(i E[c] t)`` for many entries) and in ``t``
    (one oscillation ``exp(i b² t)`` of a squared-uniform factor at most), up to the point
    where ``|φ|`` is negligible or the phase ``b² t`` of the fastest uniform factor reaches
    ``kappa_max``. Beyond that, each uniform factor is replaced by its stationary-phase part
    ``(1/2) sqrt(π/κ) e^{iπ/4}`` (the rest oscillates and integrates to
    ``O(κ^{−(n+1)/2−1})``). Error estimate: 12- vs 20-point rule plus the size of the
    dropped part: its oscillating first order and its second order, which does not oscillate
    when ``w_k`` and ``a_k`` have uniform entries of equal half-width.
    """
    law = _normalized(law)
    if law is None:                       # a scale outside float64, or a ratio of scales
        return np.nan, np.nan             # beyond it: refused by the caller, naming it
    sigma = np.sqrt(law.variance())
    n = sum(c for *_, c in (*law.w_terms, *law.a_terms))
    uniform = [s for f, s, _ in (*law.w_terms, *law.a_terms) if f == "uniform"]
    b2max = max(uniform) ** 2 if uniform else 0.0
    t0 = 1e-13 / sigma
    mean = sum(c * (s ** 2 if f == "normal" else s ** 2 / 3.0)
               for f, s, c in law.w_terms) - sum(
        c * (s ** 2 if f == "normal" else s ** 2 / 3.0) for f, s, c in law.a_terms)
    # where the remaining integral (≈ |φ| · 2/n in log t) is negligible
    grid = t0 * np.logspace(0, 40, 2001)
    mag = np.abs(law.characteristic_function(grid)) * (2.0 / min(n, 1e6))
    above = np.flatnonzero(mag > tol)
    t_decay = grid[min(above[-1] + 1, grid.size - 1)] if above.size else grid[1]
    T = min(t_decay, kappa_max / b2max) if b2max > 0 else t_decay

    def integrand(t):
        return np.imag(law.characteristic_function(t)) / t

    edges = np.exp(np.arange(np.log(t0), np.log(T), 0.25))
    edges = np.union1d(edges, _phase_edges(law, T))
    if b2max > 0:
        edges = np.union1d(edges, np.arange(0.0, T, np.pi / b2max))
    edges = np.union1d(edges[edges > t0], [t0, T])
    main20 = _panel_integral(integrand, edges, 20)
    main12 = _panel_integral(integrand, edges, 12)
    # ∫_0^{t0} Im φ(t)/t dt = E[X] t0 + O(t0³); the cut at |φ| <= tol costs about tol
    total, err = main20 + mean * t0, abs(main20 - main12) + tol
    if T < t_decay:  # stationary-phase tail
        def asymptotic(f, s):   # uniform factors far in their oscillating regime at T
            return f == "uniform" and s * s * T >= 1e3

        stat = NeuronLaw(
            w_terms=tuple(("stationary" if asymptotic(f, s) else f, s, c) for f, s, c in
                          law.w_terms),
            a_terms=tuple(("stationary" if asymptotic(f, s) else f, s, c) for f, s, c in
                          law.a_terms),
            dimension_w=law.dimension_w, e=law.e)
        b2stat = min(s * s for f, s, _ in (*law.w_terms, *law.a_terms) if asymptotic(f, s))
        b2kept = max([s * s for f, s, _ in (*stat.w_terms, *stat.a_terms) if f == "uniform"],
                     default=0.0)

        def tail(t):
            return np.imag(stat.characteristic_function(t)) / t

        tail_grid = T * np.logspace(0, 40, 2001)
        tmag = np.abs(stat.characteristic_function(tail_grid)) * (2.0 / min(n, 1e6))
        keep = np.flatnonzero(tmag > tol)
        t_end = tail_grid[min(keep[-1] + 1, tail_grid.size - 1)] if keep.size else T * 10
        tedges = np.exp(np.arange(np.log(T), np.log(t_end) + 0.25, 0.25))
        tedges = np.union1d(tedges, _phase_edges(stat, t_end))
        if b2kept > 0:   # at most 5e6 panels (the rest is covered by the log steps)
            tedges = np.union1d(tedges, np.arange(
                0.0, min(t_end, 5e6 * np.pi / b2kept), np.pi / b2kept))
        tedges = np.union1d(tedges[tedges > T], [T])
        total += _panel_integral(tail, tedges, 20)
        at_T = np.array([T])
        phi_T, stat_T = law.characteristic_function(at_T)[0], stat.characteristic_function(at_T)[0]
        gap = abs(phi_T - stat_T)
        # first order: oscillates at frequency >= b2min, integrates to about gap / (b2min T);
        # second order (two dropped parts, one of w_k and one of a_k): need not oscillate,
        # about gap² / |stat| at T, decaying at least like 1/t: bounded by that size
        err += gap / (b2stat * T) + gap ** 2 / max(abs(stat_T), 1e-300)
    return float(np.clip(0.5 - total / np.pi, 0.0, 1.0)), float(err / np.pi)


@dataclasses.dataclass(frozen=True, eq=False)
class PathologicalProbability:
    """Per-neuron probability ``p = P(c_k < 0)`` over a grid of sizes.

    Attributes
    ----------
    p : ndarray
        Broadcast shape of ``(d, l, e)``.
    error : ndarray
        Standard error (Monte Carlo), quadrature error estimate, or 0 (closed form).
    method : str
        ``"closed_form"`` (F distribution), ``"quadrature"`` (Gil–Pelaez), ``"monte_carlo"``.
    method_description : str
    d, l, e, dimension_w : ndarray of int
        Broadcast sizes (``dimension_w = d + hidden_bias``).
    settings : dict
        Scheme and options used (gain resolved).
    n_samples : int or None
        Monte Carlo networks per cell.
    """

    p: np.ndarray
    error: np.ndarray
    method: str
    method_description: str
    d: np.ndarray
    l: np.ndarray
    e: np.ndarray
    dimension_w: np.ndarray
    settings: dict
    n_samples: object = None

    def summary(self):
        """A few lines: the method and the range of ``p`` over the grid.

        Returns
        -------
        str
            Lines of text.
        """
        p = np.asarray(self.p, dtype=np.float64)
        return (f"P(neuron pathological) by {self.method} ({self.settings.get('scheme')}): "
                f"{p.min():.4g} .. {p.max():.4g} over {p.size} size(s), max error "
                f"{np.max(self.error):.2g}")

    def to_dict(self):
        """Plain data: probabilities, errors, sizes, method and settings.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        from .._results import as_list, plain

        return {"p": as_list(self.p), "error": as_list(self.error), "method": self.method,
                "method_description": self.method_description, "d": as_list(self.d),
                "l": as_list(self.l), "e": as_list(self.e),
                "dimension_w": as_list(self.dimension_w), "settings": plain(self.settings),
                "n_samples": None if self.n_samples is None else int(self.n_samples)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict` (also after a JSON round trip).

        Returns
        -------
        PathologicalProbability
            The result the dict describes.
        """
        from .._results import as_array

        return cls(p=as_array(d["p"]), error=as_array(d["error"]), method=d["method"],
                   method_description=d["method_description"],
                   **{k: as_array(d[k], np.int64) for k in ("d", "l", "e", "dimension_w")},
                   settings=dict(d["settings"]), n_samples=d["n_samples"])


_METHOD_TEXT = {
    "closed_form": "closed form p = P(F_{e,k} > k s1^2 / (e s2^2)), k = entries of w_k",
    "quadrature": "Gil-Pelaez inversion of the characteristic function (Gauss-Legendre "
                  "panels); error = quadrature error estimate",
    "monte_carlo": "seeded Monte Carlo with topoanalysis.init.init_params; error = standard "
                   "error",
}


def pathological_probability(d, l, e=1, scheme="kaiming_normal", *, hidden_bias=False,
                             bias_init="zeros", bias_std=None, gain_value=None, mode="fan_in",
                             std=None, activation="relu", negative_slope=0.01, method="auto",
                             n_samples=2000, seed=0):
    """Probability ``p = P(c_k < 0)`` that a hidden neuron is pathological at initialization.

    Parameters
    ----------
    d, l, e : int or array_like of int
        Input dimension, hidden width, output dimension (broadcast together).
    scheme : str, default="kaiming_normal"
        One of :data:`topoanalysis.init.SCHEMES`.
    hidden_bias : bool, default=False
        Whether the hidden layer has biases (they enter ``w_k``).
    bias_init : str, default="zeros"
        Hidden-bias initialization, one of :data:`topoanalysis.init.BIAS_INITS`.
    bias_std : float, optional
        Standard deviation for ``bias_init="normal"``.
    gain_value : float, optional
        Gain (default: as in :func:`topoanalysis.init.init_params`).
    mode : {"fan_in", "fan_out"}, default="fan_in"
        Fan used by Kaiming schemes.
    std : float, optional
        Standard deviation for ``scheme="normal"`` (required there, ``> 0``).
    activation : str, default="relu"
        Activation whose gain Kaiming schemes use.
    negative_slope : float, default=0.01
        Leaky-ReLU slope (for the gain).
    method : {"auto", "closed_form", "quadrature", "monte_carlo"}, default="auto"
        ``"auto"``: closed form for normal schemes with zero or ``"same"`` biases, else
        quadrature.
    n_samples : int, default=2000
        Networks per grid cell for Monte Carlo (``n_samples · l`` neurons).
    seed : int, default=0
        Monte Carlo seed. Each distinct cell ``(d, l, e)`` draws its networks from a stream
        of its own, derived from ``(seed, d, l, e)`` (``numpy.random.SeedSequence``), so a
        cell's estimate does not depend on the other cells of the grid, and different seeds
        never share a stream; repeated cells share it.

    Returns
    -------
    PathologicalProbability
        ``p = P(c_k < 0)`` over the broadcast ``(d, l, e)``, its error, the method and the
        settings.

    Raises
    ------
    ValidationError
        On bad arguments, or ``method="closed_form"`` for a law without one.

    See Also
    --------
    topoanalysis.obstruction.obstruction_grid : Every event over a (d, l) grid.
    topoanalysis.obstruction.neuron_law : The law of one neuron's weights.

    Notes
    -----
    Closed form: ``p = P(F_{e,k} > k σ₁² / (e σ₂²))`` with ``k = d`` (``d + 1`` for
    ``bias_init="same"``), vectorized, O(grid). Quadrature: Gil–Pelaez inversion with
    vectorized Gauss–Legendre panels, one evaluation per distinct cell (milliseconds for
    normal laws, up to ~0.1 s for few squared uniforms; error about 1e-10 or better, larger
    (reported) when the two layers' uniform bounds differ a lot). Monte Carlo:
    O(grid · n_samples · l · d).
    Paper: Nurisso, Leroy, Vaccarino, Figure 5 (``e = 1``); the general-``e`` form is derived
    in the module docstring and checked against Monte Carlo in the tests.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: pathological neurons c_k < 0 at
           initialization; Figure 5.

    Examples
    --------
    >>> r = pathological_probability(4, [2, 8], 1, "kaiming_normal")
    >>> r.method, r.p.round(4).tolist()       # P(F_{1,4} > l)
    ('closed_form', [0.2302, 0.0474])
    >>> q = pathological_probability(4, 8, 1, "kaiming_uniform")
    >>> q.method, round(float(q.p), 4)
    ('quadrature', 0.0154)
    """
    st = _law_settings(scheme, hidden_bias, bias_init, bias_std, gain_value, mode, std,
                       activation, negative_slope)
    method = check_choice("method", method, METHODS)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    D, L, E = _check_sizes(d, l, e)
    closed = st["scheme"] in ("xavier_normal", "kaiming_normal", "normal") and (
        not st["hidden_bias"] or st["bias_init"] in ("zeros", "same")
        or (st["bias_init"] == "normal" and st["bias_std"] == 0))
    if method == "auto":
        method = "closed_form" if closed else "quadrature"
    if method == "closed_form" and not closed:
        raise ValidationError(
            f"`method` 'closed_form' needs a normal scheme with zero or 'same' hidden biases; "
            f"got scheme={st['scheme']!r}, hidden_bias={st['hidden_bias']}, "
            f"bias_init={st['bias_init']!r}.")
    p = np.zeros(D.shape)
    err = np.zeros(D.shape)
    if method == "closed_form":
        k = D + (1 if st["hidden_bias"] and st["bias_init"] == "same" else 0)
        s1 = layer_std(st["scheme"], D, L, gain_value=st["gain_value"], mode=st["mode"],
                       std=st["std"])
        s2 = layer_std(st["scheme"], L, E, gain_value=st["gain_value"], mode=st["mode"],
                       std=st["std"])
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            x = k * np.square(np.asarray(s1, dtype=np.float64) / s2) / E  # ratio first: no
        p = np.asarray(stats.f.sf(x, E, k), dtype=np.float64)          # overflow of σ²
    else:
        cache = {}
        for i, idx in enumerate(np.ndindex(D.shape)):
            key = (int(D[idx]), int(L[idx]), int(E[idx]))
            if key not in cache:
                if method == "quadrature":
                    cache[key] = _gil_pelaez(_law(*key, st))
                else:
                    cache[key] = _monte_carlo(*key, st, n_samples, _cell_seed(seed, key))
            p[idx], err[idx] = cache[key]
    if not np.all(np.isfinite(p)):
        scales = {k: st[k] for k in ("std", "bias_std") if st[k]}   # the scales set, > 0
        if not scales or st["gain_value"] != 1.0:
            scales["gain_value"] = st["gain_value"]
        culprit = max(scales, key=lambda k: abs(np.log(scales[k])))
        raise ValidationError(
            f"`{culprit}` is outside the range where the probability of a pathological neuron "
            f"can be computed in float64 (the variances overflow or underflow); got "
            f"{st[culprit]!r}.")
    return PathologicalProbability(
        p=p, error=err, method=method, method_description=_METHOD_TEXT[method], d=D, l=L, e=E,
        dimension_w=D + int(st["hidden_bias"]), settings=st,
        n_samples=n_samples if method == "monte_carlo" else None)


def _cell_seed(seed, key):
    """The Monte Carlo seed of grid cell ``key = (d, l, e)``: 64 bits of the
    ``SeedSequence`` of ``(seed, d, l, e)`` (independent of the grid's other cells)."""
    state = np.random.SeedSequence([int(seed), *(int(k) for k in key)]).generate_state(
        2, dtype=np.uint32)
    return int(state[0]) | (int(state[1]) << 32)


def _monte_carlo(d, l, e, st, n_samples, seed):
    arch = Architecture(d, (l,), e, hidden_bias=st["hidden_bias"],
                        activation=st["activation"], negative_slope=st["negative_slope"])
    theta = init_params(arch, st["scheme"], seed=seed, n_networks=n_samples,
                        gain_value=st["gain_value"], mode=st["mode"], std=st["std"],
                        bias_init=st["bias_init"], bias_std=st["bias_std"])
    from .topology import _exact_c_signs

    conserved_quantities(arch, theta)          # refuses overflowing variances (named)
    c = _exact_c_signs(arch, theta)            # signs of c_k decided exactly
    p = float(np.mean(c < 0))
    return p, float(np.sqrt(p * (1.0 - p) / c.size))


def l_minus_distribution(l, p):
    """Distribution of the number ``l_−`` of pathological neurons: ``Binomial(l, p)``.

    Parameters
    ----------
    l : int
        Hidden width.
    p : float
        Per-neuron probability.

    Returns
    -------
    ndarray of shape (l + 1,)
        ``P(l_− = m)`` for ``m = 0..l``.

    See Also
    --------
    event_probability, pathological_probability

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5; l_− ~ Binomial(l, p).

    Examples
    --------
    >>> l_minus_distribution(2, 0.5).round(6).tolist()
    [0.25, 0.5, 0.25]
    """
    l = check_int("l", l, minimum=1)
    p = check_float("p", p, minimum=0.0, maximum=1.0)
    return stats.binom.pmf(np.arange(l + 1), l, p)


def event_probability(p, l, event="all_pathological", *, dimension_w=2, e=1):
    """Probability (or expectation) of an obstruction event from the per-neuron ``p``.

    Parameters
    ----------
    p : float or array_like
        ``P(c_k < 0)`` (``c_k = 0`` has probability 0 for the continuous schemes, so
        ``P(c_k > 0) = 1 − p``).
    l : int or array_like of int
        Hidden width.
    event : str, default="all_pathological"
        One of :data:`EVENTS`:

        - ``all_pathological``: ``p^l``.
        - ``obstructed``: ``P(more than one effective component)``: every slot freezes
          a sign of the same kind; ``p^l`` for ``e = 1``, ``d >= 2``.
        - ``disconnected``: ``1 − (1 − q)^l``, ``q = P(Q(c_k) has two components)``
          (``q = p`` for ``e = 1``, ``d >= 2``).
        - ``expected_components``: ``E[2^{frozen}] = (1 + q)^l`` (``E[2^{l_−}]``).
        - ``expected_effective_components``: ``1 + l · P(obstructed)`` (closed form
          validated by the component graphs: ``l + 1`` effective components when
          obstructed, else 1).
        - ``expected_pathological``: ``l p``.
        - ``per_neuron``: ``p``.
    dimension_w : int or array_like of int, default=2
        Dimension of ``w_k`` (``d + 1`` with hidden biases).
    e : int or array_like of int, default=1
        Output dimension.

    Returns
    -------
    ndarray (broadcast shape) of float
        The event's probability (or expectation, for the ``expected_*`` events) for each
        broadcast ``(p, l, dimension_w, e)``.

    See Also
    --------
    obstruction_probability, l_minus_distribution

    Notes
    -----
    Vectorized, O(grid). ``expected_effective_components`` equals
    ``Σ_m P(l_− = m) · number_effective_components_formula(l − m, m)``; the tests check this
    and the formula against the graphs.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5 (probability of the
           obstruction).

    Examples
    --------
    >>> event_probability(0.5, 3).item()
    0.125
    >>> event_probability(0.5, 3, "expected_components").item()   # E[2^{l_-}] = 1.5^3
    3.375
    >>> event_probability(0.5, 3, "expected_effective_components").item()
    1.375
    """
    event = check_choice("event", event, EVENTS)
    p = check_array("p", p, finite=False)
    if np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValidationError(f"`p` must be probabilities in [0, 1]; got {p.tolist()!r}.")
    L, DW, E = _check_sizes(l, dimension_w, e)
    p, L, DW, E = np.broadcast_arrays(p, L, DW, E)
    Lf = L.astype(np.float64)
    if event == "per_neuron":
        return p.astype(np.float64, copy=True)
    if event == "expected_pathological":
        return Lf * p
    if event == "all_pathological":
        return p ** Lf
    q = np.where(E == 1, p, 0.0) + np.where(DW == 1, 1.0 - p, 0.0)
    if event == "disconnected":
        with np.errstate(divide="ignore"):  # q = 1 gives log1p(-1) = -inf: probability 1
            return -np.expm1(Lf * np.log1p(-np.minimum(q, 1.0)))
    if event == "expected_components":
        with np.errstate(over="ignore"):  # beyond float64: inf, explained by the CSV's note
            return (1.0 + q) ** Lf
    same = (np.where(E == 1, p ** Lf, 0.0) + np.where(DW == 1, (1.0 - p) ** Lf, 0.0))
    if event == "obstructed":
        return same
    return 1.0 + Lf * same


def obstruction_probability(d, l, e=1, scheme="kaiming_normal", event="all_pathological",
                            **kwargs):
    """``event_probability`` of :func:`pathological_probability` in one call.

    Parameters
    ----------
    d, l, e : int or array_like of int
        Input dimension, hidden width and output dimension.
    scheme : str
        Initialization scheme (:mod:`topoanalysis.init`).
    event : str, default="all_pathological"
        One of :data:`EVENTS`.
    **kwargs
        Passed to :func:`pathological_probability` (e.g. ``activation``: for ``abs`` the
        effective-component events use ``w_k -> -w_k``).

    Returns
    -------
    ndarray of float
        The event's probability (or expectation) for each broadcast ``(d, l, e)``.

    Raises
    ------
    NotSupportedError
        For the effective-component events (``obstructed``,
        ``expected_effective_components``) of linear networks.

    See Also
    --------
    pathological_probability, event_probability, obstruction_grid

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5.

    Examples
    --------
    >>> obstruction_probability(2, 2, 1, "xavier_normal").round(4).tolist()
    0.1193
    """
    r = pathological_probability(d, l, e, scheme, **kwargs)
    return _event(r, event)


#: Events that count *effective* components, i.e. use the network's symmetries.
_EFFECTIVE_EVENTS = ("obstructed", "expected_effective_components")


def _event(r, event):
    """:func:`event_probability` for the activation of ``r`` (its extra sign symmetries).

    ``abs`` (and ``leaky_relu(-1)``) has ``w_k -> -w_k``: a frozen sign of a one-dimensional
    ``w_k`` separates components of ``H(c)`` but not effective components, so the effective
    events are those of ``dimension_w >= 2``. Linear networks conserve the whole matrix
    ``W1 W1^T - W2^T W2``; their effective components are not those of ``H(c)`` (refused).
    """
    act, slope = r.settings["activation"], r.settings["negative_slope"]
    dw = r.dimension_w
    if event in _EFFECTIVE_EVENTS:
        if act == "linear" or (act == "leaky_relu" and slope == 1.0):
            raise NotSupportedError(
                f"`event` {event!r} is not supported for linear networks: they conserve the "
                f"whole matrix W1 W1^T - W2^T W2 and have the GL(l) symmetry, so the effective "
                f"components of H(c) do not describe them; got activation {act!r}.")
        if act == "abs" or (act == "leaky_relu" and slope == -1.0):
            dw = np.maximum(dw, 2)
    return event_probability(r.p, r.l, event, dimension_w=dw, e=r.e)


@dataclasses.dataclass(frozen=True, eq=False)
class ObstructionGrid:
    """Obstruction probabilities over a ``(d, l)`` grid for one scheme.

    Attributes
    ----------
    scheme : str
    e : int
    d_values, l_values : ndarray of int
        Grid axes; arrays below have shape ``(len(d_values), len(l_values))``.
    hidden_bias : bool
    method : str
    method_description : str
    p : ndarray
        Per-neuron probability.
    error : ndarray
        Error of ``p`` (see :class:`PathologicalProbability`).
    events : dict of str to ndarray
        One array per requested event.
    settings : dict
    """

    scheme: str
    e: int
    d_values: np.ndarray
    l_values: np.ndarray
    hidden_bias: bool
    method: str
    method_description: str
    p: np.ndarray
    error: np.ndarray
    events: dict
    settings: dict

    FIELDS = ("scheme", "e", "d", "l", "hidden_bias", "method", "p", "error")

    def rows(self):
        """Yield one dict per cell (CSV-ready).

        Yields
        ------
        dict
            ``scheme``, ``e``, ``d``, ``l``, ``hidden_bias``, ``method``, ``p``, ``error``, one key
            per event, and ``note`` (why a value is ``inf``).
        """
        for i, d in enumerate(self.d_values):
            for j, l in enumerate(self.l_values):
                row = dict(scheme=self.scheme, e=self.e, d=int(d), l=int(l),
                           hidden_bias=self.hidden_bias, method=self.method,
                           p=float(self.p[i, j]), error=float(self.error[i, j]))
                row.update({k: float(v[i, j]) for k, v in self.events.items()})
                over = [k for k, v in row.items() if isinstance(v, float) and np.isinf(v)]
                row["note"] = ("; ".join(f"{k} exceeds the float64 range (> 1.8e308)"
                                         for k in over))
                yield row

    def header(self):
        """CSV column names, in order (``note`` says why a value is infinite, if one is).

        Returns
        -------
        list of str
            Column names.
        """
        return list(self.FIELDS) + list(self.events) + ["note"]

    def to_csv(self, path, *, append=False):
        """Write (or append) the rows to a CSV file; returns ``path``.

        Parameters
        ----------
        path : str or os.PathLike
            Output file.
        append : bool, default=False
            Append rows to an existing file (header written once).

        Returns
        -------
        str
            The path.
        """
        fields = self.header()
        new = not (append and os.path.exists(path) and os.path.getsize(path) > 0)
        with open(path, "a" if append else "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            if new:
                writer.writeheader()
            writer.writerows(self.rows())
        return path

    def summary(self):
        """A few lines: the grid, the method and the range of each event.

        Returns
        -------
        str
            Lines of text.
        """
        lines = [f"obstruction grid ({self.scheme}, e = {self.e}, hidden_bias = "
                 f"{self.hidden_bias}): d in {self.d_values.tolist()}, l in "
                 f"{self.l_values.tolist()}, {self.method}"]
        for name, v in self.events.items():
            lines.append(f"  {name}: {np.nanmin(v):.4g} .. {np.nanmax(v):.4g}  "
                         f"({EVENT_DESCRIPTIONS[name]})")
        return "\n".join(lines)

    def to_dict(self):
        """Plain data: grid axes, ``p``, its error, every event (as nested lists, rows = d)
        and the settings (scheme, biases, gain, method, ...).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        from .._results import as_list, plain

        return {"scheme": self.scheme, "e": int(self.e), "d_values": as_list(self.d_values),
                "l_values": as_list(self.l_values), "hidden_bias": bool(self.hidden_bias),
                "method": self.method, "method_description": self.method_description,
                "p": as_list(self.p), "error": as_list(self.error),
                "events": {k: as_list(v) for k, v in self.events.items()},
                "settings": plain(self.settings)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict` (also after a JSON round trip).

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict` (also after a JSON round trip).

        Returns
        -------
        ObstructionGrid
            The grid the dict describes.
        """
        from .._results import as_array

        return cls(scheme=d["scheme"], e=d["e"], d_values=as_array(d["d_values"], np.int64),
                   l_values=as_array(d["l_values"], np.int64), hidden_bias=d["hidden_bias"],
                   method=d["method"], method_description=d["method_description"],
                   p=as_array(d["p"]), error=as_array(d["error"]),
                   events={k: as_array(v) for k, v in d["events"].items()},
                   settings=dict(d["settings"]))


def obstruction_grid(d_values, l_values, e=1, scheme="kaiming_normal", *, events=EVENTS,
                     **kwargs):
    """Per-neuron probability and every requested event over a ``(d, l)`` grid.

    Parameters
    ----------
    d_values, l_values : sequence of int
        Grid axes (input dimensions, hidden widths).
    e : int, default=1
        Output dimension.
    scheme : str, default="kaiming_normal"
        Initialization scheme (:mod:`topoanalysis.init`).
    events : sequence of str, default=EVENTS
        Events to evaluate (:data:`EVENTS`).
    **kwargs
        Passed to :func:`pathological_probability` (``hidden_bias``, ``method``, ...).

    Returns
    -------
    ObstructionGrid
        The per-neuron probability and each event's value over the ``(d, l)`` grid, with the
        method, its error and the settings.

    See Also
    --------
    topoanalysis.obstruction.pathological_probability : The per-neuron probability p.
    topoanalysis.obstruction.plot_obstruction_heatmap : Figure 5's heatmaps.

    Notes
    -----
    Reproduces the data of Nurisso, Leroy, Vaccarino, Figure 5 (``xavier_normal`` and
    ``kaiming_normal``, ``e = 1``, event ``all_pathological`` by default).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5 (heatmaps over d and l).

    Examples
    --------
    >>> g = obstruction_grid([2, 3], [1, 2], scheme="kaiming_normal")
    >>> g.events["all_pathological"].round(3).tolist()
    [[0.423, 0.086], [0.391, 0.064]]
    """
    d_values = np.atleast_1d(np.asarray(d_values))
    l_values = np.atleast_1d(np.asarray(l_values))
    if d_values.ndim != 1 or l_values.ndim != 1 or d_values.size == 0 or l_values.size == 0:
        raise ValidationError("`d_values` and `l_values` must be non-empty 1-D sequences of "
                              f"ints; got {d_values.tolist()!r} and {l_values.tolist()!r}.")
    e = check_int("e", e, minimum=1)
    if isinstance(events, str):
        events = (events,)
    events = tuple(check_choice("events", ev, EVENTS) for ev in events)
    r = pathological_probability(d_values[:, None], l_values[None, :], e, scheme, **kwargs)
    ev = {name: _event(r, name) for name in events}
    return ObstructionGrid(
        scheme=r.settings["scheme"], e=e, d_values=d_values.astype(np.int64),
        l_values=l_values.astype(np.int64), hidden_bias=r.settings["hidden_bias"],
        method=r.method, method_description=r.method_description, p=r.p, error=r.error,
        events=ev, settings=r.settings)


def _matplotlib_figure():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib, which is not installed; install it with "
            "`pip install matplotlib` (or `pip install topoanalysis[plot]`).") from None
    return Figure


def plot_obstruction_heatmap(grids, event="all_pathological", *, path=None, log=False,
                             titles=None):
    """Heatmaps of an obstruction event over ``(d, l)``, one panel per grid (Figure 5).

    Parameters
    ----------
    grids : ObstructionGrid or sequence of ObstructionGrid
        E.g. Xavier normal and Kaiming normal, as in the paper.
    event : str, default="all_pathological"
        One of :data:`EVENTS` present in the grids (``"p"`` is accepted for the per-neuron
        probability).
    path : str or None
        Save the figure there (PNG) when given.
    log : bool, default=False
        Color by ``log10`` of the value (useful for tiny probabilities).
    titles : sequence of str or None
        Panel titles (default: the scheme names).

    Returns
    -------
    matplotlib.figure.Figure
        One heatmap panel per grid.

    Raises
    ------
    ImportError
        When matplotlib is missing (the message says how to install it).
    ValidationError
        When a grid lacks the event.

    See Also
    --------
    obstruction_grid, write_obstruction_outputs

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5.
    """
    if isinstance(grids, ObstructionGrid):
        grids = [grids]
    grids = list(grids)
    if not grids or not all(isinstance(g, ObstructionGrid) for g in grids):
        raise ValidationError("`grids` must be an ObstructionGrid or a non-empty sequence of them.")
    event = check_choice("event", event, (*EVENTS, "p"))
    for g in grids:
        if event != "p" and event not in g.events:
            raise ValidationError(
                f"`event` must be one of the grid's events {sorted(g.events)} or 'p'; "
                f"got {event!r}.")
    Figure = _matplotlib_figure()
    fig = Figure(figsize=(5.2 * len(grids), 4.4), layout="constrained")
    axes = fig.subplots(1, len(grids), squeeze=False)[0]
    bounded = event in _PROBABILITY_EVENTS or event == "p"
    for k, (ax, g) in enumerate(zip(axes, grids)):
        z = g.p if event == "p" else g.events[event]
        if log:
            with np.errstate(divide="ignore"):
                z = np.log10(z)
        x_edges = np.concatenate([g.l_values - 0.5, [g.l_values[-1] + 0.5]])
        y_edges = np.concatenate([g.d_values - 0.5, [g.d_values[-1] + 0.5]])
        kw = {"vmin": 0.0, "vmax": 1.0} if bounded and not log else {}
        mesh = ax.pcolormesh(x_edges, y_edges, z, cmap="viridis", shading="flat", **kw)
        fig.colorbar(mesh, ax=ax, label=("log10 " if log else "") + (
            "probability" if bounded else "expected count"))
        ax.set_xlabel("hidden neurons l")
        ax.set_ylabel("input dimension d")
        ax.set_title(titles[k] if titles else f"{g.scheme} (e={g.e})")
    fig.suptitle(EVENT_DESCRIPTIONS.get(event, "p = P(c_k < 0)"))
    if path is not None:
        from ..io import save_figure

        save_figure(fig, path, dpi=120, close=False)
    return fig


def write_obstruction_outputs(grids, out, events, *, plot=True, log=False, echo=print):
    """Write ``obstruction_probability.csv`` and one ``obstruction_<event>.png`` per event.

    Used by ``scripts/obstruction_probability.py`` and ``topoanalysis probability``.

    Parameters
    ----------
    grids : sequence of ObstructionGrid
        One per scheme (panels of each figure).
    out : str or OutputFolder
        Folder (created), or an :class:`topoanalysis.io.OutputFolder` (files recorded in its
        manifest). Every file is written atomically; the CSV's ``note`` column says why a
        value is infinite (an expectation beyond the float64 range).
    events : sequence of str
        Events to draw.
    plot : bool, default=True
        Also write the PNGs (skipped with a message when matplotlib is missing).
    log : bool, default=False
        Color by ``log10`` of the value.
    echo : callable, default=print
        Receives one line per file written.

    Returns
    -------
    list of str
        Paths written.

    See Also
    --------
    obstruction_grid, plot_obstruction_heatmap

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 5.
    """
    import os

    from ..io import write_csv

    def place(name):  # a path inside ``out`` (an OutputFolder records it in its manifest)
        return out.path(name) if hasattr(out, "path") else os.path.join(out, name)

    if not hasattr(out, "path"):
        os.makedirs(out, exist_ok=True)
    csv_path = place("obstruction_probability.csv")
    header = grids[0].header()
    rows = []
    for g in grids:
        if g.header() != header:
            raise ValidationError("`grids` must all have the same events.")
        rows += [[row[k] for k in header] for row in g.rows()]
        echo(f"{g.scheme}: p by {g.method_description}")
    write_csv(csv_path, header, rows)
    echo(f"wrote {csv_path}")
    written = [csv_path]
    if not plot:
        return written
    for event in events:
        png = place(f"obstruction_{event}.png")
        try:
            plot_obstruction_heatmap(grids, event, path=png, log=log)
        except ImportError as exc:
            echo(f"skipped the figures: {exc}")
            break
        echo(f"wrote {png}")
        written.append(png)
    return written

