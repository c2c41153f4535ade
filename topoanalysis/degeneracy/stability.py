"""Inverse stability, measured: parameter distance against function distance.

Inverse stability of the realization map (Berner, Elbrächter & Grohs): for ``Θ`` in a set ``P``
and a realizable ``g`` there is ``Γ' ∈ P`` with ``R(Γ') = g`` and
``|Γ' − Θ|_∞ ≤ s |g − R(Θ)|^α``. Theorem 3.3: on the restricted space (C.1–C.3) it holds for
the ``W^{1,∞}`` semi-norm with ``α = 1/2``; Section 2: it fails outside, and for the uniform
norm everywhere.

:func:`parameter_distance` minimizes ``|Θ − Γ'|_∞`` over the parametrizations ``Γ'`` of
``R(Γ)`` reachable from ``Γ`` by permuting and rescaling neurons (balancing is one rescaling)
and by reshaping zero neurons (a neuron with ``w = 0`` or ``a = 0`` realizes 0 whatever its
other weights): a bottleneck assignment, solved exactly by bisection over the costs with SciPy's
``linear_sum_assignment`` deciding each threshold. When ``Γ``'s weight vectors are linearly
independent these are all the parametrizations of ``R(Γ)`` of that width (Lemma A.3), so the
minimum is the exact distance; otherwise it is an upper bound.

The counterexample families of Section 2 (``FAMILIES``) and random and adversarial pairs inside
the restricted space (:func:`restricted_pair`) are measured by :func:`measure_family` and
:func:`measure_restricted`, with the fitted exponent of ``dist ~ (function distance)^α``.
"""

import dataclasses

import numpy as np

from .._validation import check_choice, check_float, check_int, check_seed, renamed_kwargs
from ..exceptions import ValidationError
from ._form import form_network, pair_forms
from .distance import Ball, sobolev_distance, uniform_distance

__all__ = ["ParameterDistance", "parameter_distance", "StabilityMeasurement",
           "inverse_stability", "FAMILIES", "CounterexamplePair", "counterexample",
           "FamilyMeasurement", "measure_family", "restricted_pair", "measure_restricted",
           "fit_exponent", "RESTRICTED_KINDS"]


# --- parameter distance ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ParameterDistance:
    """``min |Θ − Γ'|_∞`` over permutations, rescalings and zero-neuron reshaping of ``Γ``.

    Attributes
    ----------
    value : float
        With the best rescaling of every neuron.
    value_balanced : float
        With ``Γ`` balanced (``||w|| = ||a||``), the restricted space's representative.
    assignment : list of (int, int)
        ``(i, j)``: neuron ``i`` of ``Θ`` matched to neuron ``j`` of ``Γ`` (``-1``: an added
        zero neuron, when the widths differ; ``-2 - k``: merged neuron ``k`` of the reduced
        ``Γ``).
    exact : bool
        ``Γ``'s weight vectors are linearly independent and the widths agree (Lemma A.3).
    """

    value: float
    value_balanced: float
    assignment: list
    exact: bool
    widths: tuple

    def summary(self):
        return (f"parameter distance |Θ − Γ'|_inf = {self.value:.6g} (balanced Γ: "
                f"{self.value_balanced:.6g}; widths {self.widths[0]} vs {self.widths[1]}; "
                f"{'exact by Lemma A.3' if self.exact else 'an upper bound over permutation and rescaling'})")

    def to_dict(self):
        return {"value": self.value, "value_balanced": self.value_balanced,
                "assignment": [list(p) for p in self.assignment], "exact": self.exact,
                "widths": list(self.widths)}


def _inf(M):
    return np.abs(M).max(axis=-1) if M.shape[-1] else np.zeros(M.shape[:-1])


def _rescaled_costs(At, Ct, Ag, Cg, iters=120):
    """``min_α max(||α a_j − a_i||_∞, ||c_j/α − c_i||_∞)`` for all pairs (golden section on log α).

    The two terms are quasi-convex in ``log α`` (convex in ``α`` and in ``1/α``), so their
    maximum is unimodal and golden-section search finds its minimum.
    """
    m, n = len(At), len(Ag)
    na = np.maximum(np.linalg.norm(Ag, axis=1), 1e-300)
    nc = np.maximum(np.linalg.norm(Cg, axis=1), 1e-300)
    s0 = 0.5 * np.log(nc / na)                  # balancing factor
    lo = np.broadcast_to(s0 - 40.0, (m, n)).copy()
    hi = np.broadcast_to(s0 + 40.0, (m, n)).copy()

    def f(s):
        al = np.exp(s)[..., None]
        return np.maximum(_inf(al * Ag[None] - At[:, None]), _inf(Cg[None] / al - Ct[:, None]))

    g = (np.sqrt(5) - 1) / 2
    for _ in range(iters):
        x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
        left = f(x1) <= f(x2)
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
    f1 = f(0.5 * (lo + hi))
    best = np.minimum(f1, f(s0[None, :] + np.zeros((m, 1))))
    return best


def _bottleneck(cost):
    """Min over permutations of the max matched cost (exact; bisection + assignment)."""
    from scipy.optimize import linear_sum_assignment

    values = np.unique(cost)
    lo, hi = 0, len(values) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        r, c = linear_sum_assignment((cost > values[mid]).astype(float))
        if (cost[r, c] > values[mid]).any():
            lo = mid + 1
        else:
            hi = mid
    thr = values[lo]
    # among the bottleneck-optimal matchings take the one of least total cost
    r, c = linear_sum_assignment(np.where(cost <= thr, cost, cost.max() * 10 + 1))
    return float(thr), r, c


def _cost_matrices(At, Ct, Ag, Cg, zero_tol):
    m = max(len(At), len(Ag))
    e, D = Ct.shape[1], At.shape[1]
    pad = lambda M, k: np.concatenate([M, np.zeros((m - len(M), k))]) if len(M) < m else M
    At, Ct, Ag, Cg = pad(At, D), pad(Ct, e), pad(Ag, D), pad(Cg, e)
    scale = max(np.abs(At).max(initial=0), np.abs(Ct).max(initial=0), np.abs(Ag).max(initial=0),
                np.abs(Cg).max(initial=0), 1e-300)
    gz = (np.linalg.norm(Ag, axis=1) <= zero_tol * scale) | \
         (np.linalg.norm(Cg, axis=1) <= zero_tol * scale)
    opt = _rescaled_costs(At, Ct, Ag, Cg)
    # balanced Γ
    na, nc = np.linalg.norm(Ag, axis=1), np.linalg.norm(Cg, axis=1)
    ok = ~gz
    alpha = np.where(ok, np.sqrt(np.where(ok, nc, 1) / np.where(ok, na, 1)), 1.0)
    Ab, Cb = Ag * alpha[:, None], Cg / alpha[:, None]
    bal = np.maximum(_inf(Ab[None] - At[:, None]), _inf(Cb[None] - Ct[:, None]))
    # zero neurons of Γ (own or padding) can take the shape (w, 0) or (0, a)
    zero_cost = np.minimum(_inf(At), _inf(Ct))
    opt[:, gz] = zero_cost[:, None]
    bal[:, gz] = zero_cost[:, None]
    return opt, bal, gz


def _reduced(form, tol=1e-9):
    """``Γ`` with redundant neurons merged and cancelled ones dropped (same realization)."""
    from ..symmetry import merge_redundant_neurons

    merged = merge_redundant_neurons(form_network(form.A, form.C), tol=tol)
    W1, W2 = merged.network.weights
    A, C = np.array(W1), np.array(W2.T)
    keep = np.linalg.norm(C, axis=1) > tol * max(np.abs(form.C).max(initial=0), 1e-300)
    return A[keep], C[keep]


@renamed_kwargs(theta="net_a", gamma="net_b")
def parameter_distance(net_a, net_b, *, augment=None, zero_tol=1e-12, reduce=True):
    """Parameter distance from ``Θ`` to the parametrizations of ``R(Γ)`` (module docstring).

    Parameters
    ----------
    net_a, net_b : Network
        ``Θ`` and ``Γ`` (formerly the keywords ``theta``, ``gamma``): shallow ReLU networks
        with the same input/output dimensions (widths may differ: the narrower one is padded
        with zero neurons).
    augment : {"none", "bias", "c3"} or None
        Parameters compared in the bias-free form with this input augmentation.
    zero_tol : float, default=1e-12
    reduce : bool, default=True
        Also try ``Γ`` with its redundant neurons merged and the cancelled ones removed (another
        parametrization of ``R(Γ)``) and keep the smaller distance.

    Returns
    -------
    ParameterDistance

    See Also
    --------
    topoanalysis.degeneracy.inverse_stability : Parameter and function distances of a pair.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: the parameter
           distance |Γ − Θ|_∞ of inverse stability, minimized over parametrizations.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 0.5]]])
    >>> moved = net.rescale_neurons([3.0, 0.25]).permute_neurons([1, 0])
    >>> parameter_distance(net, moved).value < 1e-9
    True
    """
    zero_tol = check_float("zero_tol", zero_tol, minimum=0.0)
    ft, fg = pair_forms(net_a, net_b, augment)
    opt, bal, gz = _cost_matrices(ft.A, ft.C, fg.A, fg.C, zero_tol)
    value, r, c = _bottleneck(opt)
    value_bal, _, _ = _bottleneck(bal)
    if reduce and fg.width:
        A_r, C_r = _reduced(fg)
        if len(A_r) < fg.width:
            opt_r, bal_r, _ = _cost_matrices(ft.A, ft.C, A_r, C_r, zero_tol)
            v_r, r_r, c_r = _bottleneck(opt_r)
            if v_r < value:
                value, r, c = v_r, r_r, c_r
                c = np.where(c < len(A_r), -2 - c, -1)    # a merged neuron, or padding
            value_bal = min(value_bal, _bottleneck(bal_r)[0])
    wt, wg = ft.width, fg.width
    assignment = [(int(i) if i < wt else -1, int(j) if 0 <= j < wg else (-1 if j >= 0 else int(j)))
                  for i, j in zip(r, c)]
    exact = bool(wt == wg and np.linalg.matrix_rank(fg.A) == wg)
    return ParameterDistance(value=value, value_balanced=value_bal, assignment=assignment,
                             exact=exact, widths=(wt, wg))


# --- one pair ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class StabilityMeasurement:
    """Parameter distance, function distances and the inverse-stability ratios of a pair."""

    parameter: ParameterDistance
    sobolev: object
    uniform: object
    alpha: float

    @property
    def ratio(self):
        """``dist / |R(Γ) − R(Θ)|_{W^{1,∞}}^α`` (inf when the realizations agree)."""
        f = self.sobolev.value
        return float(self.parameter.value / f ** self.alpha) if f > 0 else (
            0.0 if self.parameter.value == 0 else float("inf"))

    @property
    def ratio_uniform(self):
        if self.uniform is None:
            return None
        f = self.uniform.value
        return float(self.parameter.value / f ** self.alpha) if f > 0 else float("inf")

    def summary(self):
        lines = [self.parameter.summary(), self.sobolev.summary()]
        if self.uniform is not None:
            lines.append(self.uniform.summary())
        lines.append(f"ratio dist / |dR|_W1inf^{self.alpha:g} = {self.ratio:.6g}"
                     + (f"; with the uniform norm {self.ratio_uniform:.6g}"
                        if self.uniform is not None else ""))
        return "\n".join(lines)

    def to_dict(self):
        return {"parameter": self.parameter.to_dict(), "sobolev": self.sobolev.to_dict(),
                "uniform": None if self.uniform is None else self.uniform.to_dict(),
                "alpha": self.alpha, "ratio": self.ratio, "ratio_uniform": self.ratio_uniform}


@renamed_kwargs(theta="net_a", gamma="net_b")
def inverse_stability(net_a, net_b, *, alpha=0.5, domain=None, augment=None, **sobolev_kwargs):
    """Measure one pair: parameter distance, ``W^{1,∞}`` (and uniform) distance, ratio.

    Parameters
    ----------
    net_a, net_b : Network
        ``Θ`` and ``Γ`` (formerly the keywords ``theta``, ``gamma``).
    alpha : float, default=0.5
        Exponent of the ratio (Theorem 3.3: 1/2).
    domain : Box or Ball, optional
        Domain of the uniform distance (omitted when None).
    augment : str or None
        Input augmentation for the bias-free forms.
    **sobolev_kwargs
        Passed to :func:`~topoanalysis.degeneracy.distance.sobolev_distance`.

    Returns
    -------
    StabilityMeasurement

    See Also
    --------
    topoanalysis.degeneracy.parameter_distance : The parameter distance alone.
    topoanalysis.degeneracy.sobolev_distance : The W^{1,∞} distance alone.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3
           (inverse stability on the restricted space, α = 1/2).
    """
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True)
    par = parameter_distance(net_a, net_b, augment=augment)
    sob = sobolev_distance(net_a, net_b, augment=augment, **sobolev_kwargs)
    uni = uniform_distance(net_a, net_b, domain) if domain is not None else None
    return StabilityMeasurement(parameter=par, sobolev=sob, uniform=uni, alpha=alpha)


# --- counterexample families (Section 2) ------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CounterexamplePair:
    """``(Θ, Γ_t)`` of one family at parameter ``t``."""

    family: str
    t: float
    theta: object
    gamma: object
    reason: str

    def to_dict(self):
        """Plain data: family, ``t``, the reason and both networks (architecture, params)."""
        return {"family": self.family, "t": self.t, "reason": self.reason,
                **{k: {"architecture": n.arch.to_dict(), "params": n.params.tolist()}
                   for k, n in (("theta", self.theta), ("gamma", self.gamma))}}

    def summary(self):
        """One line: the family, ``t`` and why it is a counterexample."""
        return f"counterexample {self.family!r} at t = {self.t:g}: {self.reason}"


def _net(A, C):
    return form_network(np.asarray(A, float), np.asarray(C, float).reshape(len(A), -1))


def _unbalanced(t):
    theta = _net([[1.0, 0.0]], [[0.0]])
    gamma = _net([[0.0, 1.0 / t]], [[1.0 / t]])
    return theta, gamma


def _redundant(t):
    theta = _net([[1.0, 0.0], [1.0, 0.0]], [[1.0], [-1.0]])
    gamma = _net([[0.0, 1.0 / t], [0.0, 0.0]], [[1.0 / t], [0.0]])
    return theta, gamma


_S = 2.0 ** 0.25


def _pairs(scale3=1.0):
    """Three balanced opposite pairs along e1, e2, (1,1)/√2·√2; linear parts e1 + e2 − s(1,1)."""
    A = [[1, 0], [-1, 0], [0, 1], [0, -1], [1 / _S, 1 / _S], [-1 / _S, -1 / _S]]
    C = [[1], [-1], [1], [-1], [-_S * scale3], [_S * scale3]]
    return A, C


def _opposite(t):
    A, C = _pairs(1.0)
    theta = _net(A, C)                                    # realizes 0 with six unit neurons
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    gamma = _net([u / t] + [[0.0, 0.0]] * 5, [[1.0 / t]] + [[0.0]] * 5)
    return theta, gamma


def _nearly_cancelling(t):
    A, C = _pairs(1.0 + 1.0 / t)
    theta = _net(A, C)                                    # realizes −(x1 + x2)/t
    s = (np.sqrt(2) / t) ** 0.5                           # balanced pair for −(1,1)·x/t
    v = -np.array([1.0, 1.0]) / np.sqrt(2)
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    gamma = _net([v * s, -v * s, u / t, [0, 0], [0, 0], [0, 0]],
                 [[s], [-s], [1.0 / t], [0], [0], [0]])
    return theta, gamma


def _uniform(t):
    theta = _net([[0.0, 0.0], [0.0, 0.0]], [[0.0], [0.0]])
    v = np.array([1.0, 1.0 / t ** 2])
    a1 = np.sqrt(t * np.linalg.norm(v))
    gamma = _net([v / np.linalg.norm(v) * a1, [np.sqrt(t), 0.0]], [[a1], [-np.sqrt(t)]])
    return theta, gamma


FAMILIES = {
    "unbalanced": (_unbalanced,
                   "Θ = ((1,0), 0) realizes 0 but is unbalanced; Γ_t = ((0,1/t), 1/t) realizes "
                   "ρ(x2)/t². Every one-neuron parametrization (λ(0,1), 1/(λt²)) is at ∞-distance "
                   "≥ 1 from Θ (the weight (1,0)), while the function distance is 1/t²."),
    "redundant": (_redundant,
                  "Θ = ((1,0),1), ((1,0),−1): redundant directions realizing 0; Γ_t realizes "
                  "ρ(x2)/t² with one neuron. A two-neuron parametrization of it has a neuron on "
                  "x2 = 0 and one realizing 0, so one of Θ's neurons stays at distance ≥ 1."),
    "opposite": (_opposite,
                 "Θ: three balanced exactly opposite pairs along e1, e2, (1,1) whose linear parts "
                 "cancel (a degenerate parametrization of 0); Γ_t realizes ρ(⟨u,x⟩)/t², "
                 "u ∝ (1,−1). Six neurons must put one on u^⊥ (45° from every hyperplane of Θ), "
                 "leaving too few to stay near Θ's unit neurons: distance ≳ 1."),
    "nearly_cancelling": (_nearly_cancelling,
                          "Θ_t: the same three pairs with the third scaled by 1 + 1/t, so the "
                          "linear parts nearly cancel (R(Θ_t) = −(x1+x2)/t); Γ_t adds the kink "
                          "ρ(⟨u,x⟩)/t² and realizes the linear part by one small pair. Function "
                          "distance 1/t², parameter distance ≳ 1 as for 'opposite'."),
    "uniform": (_uniform,
                "Θ = 0; Γ_t = √t-sized neurons along (1,1/t²) and (1,0) with opposite outputs: "
                "sup over the unit ball is ≤ 1/t while the gradient is ~t in the thin wedge, so "
                "the ratio with the uniform norm grows like t (with W^{1,∞} it stays bounded)."),
}


def counterexample(family, t):
    """The pair ``(Θ, Γ_t)`` of a counterexample family (keys of :data:`FAMILIES`).

    Parameters
    ----------
    family : str
        One of the keys of :data:`FAMILIES`.
    t : float
        Parameter of the family (>= 1).

    Returns
    -------
    CounterexamplePair
        ``(Θ, Γ_t)`` and why it breaks inverse stability.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2: the
           counterexample families to inverse stability.
    """
    family = check_choice("family", family, tuple(FAMILIES))
    t = check_float("t", t, minimum=1.0)
    maker, reason = FAMILIES[family]
    theta, gamma = maker(t)
    return CounterexamplePair(family=family, t=t, theta=theta, gamma=gamma, reason=reason)


def fit_exponent(function_distance, parameter_distance, groups=None):
    """Least-squares slope of ``log dist`` against ``log |dR|`` (within runs) and local slopes.

    Parameters
    ----------
    function_distance, parameter_distance : array_like
    groups : array_like, optional
        Runs (e.g. seeds): local slopes are taken between consecutive points of one run.

    Returns
    -------
    slope : float
        ``nan`` when fewer than two points or when ``|dR|`` spans less than a decade within
        every run (then no exponent can be read off: the function distance does not shrink).
    local : ndarray
        Slopes between consecutive points (``nan`` where ``|dR|`` did not change).

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3: the
           exponent α = 1/2.
    """
    f = np.asarray(function_distance, float)
    p = np.asarray(parameter_distance, float)
    g = np.zeros(len(f)) if groups is None else np.asarray(groups)
    ok = (f > 0) & (p > 0) & np.isfinite(f) & np.isfinite(p)
    lf, lp, g = np.log(f[ok]), np.log(p[ok]), g[ok]
    local = []
    for k in range(1, len(lf)):
        if g[k] == g[k - 1]:
            df = lf[k] - lf[k - 1]
            local.append((lp[k] - lp[k - 1]) / df if abs(df) > 1e-9 * max(1.0, abs(lf[k])) else np.nan)
    # within-run regression (one intercept per run, the common slope)
    cf, cp = lf.copy(), lp.copy()
    for run in np.unique(g):
        sel = g == run
        cf[sel] -= lf[sel].mean()
        cp[sel] -= lp[sel].mean()
    spans = [np.ptp(lf[g == run]) for run in np.unique(g)]
    if len(lf) < 2 or max(spans, default=0.0) < np.log(10.0):
        return float("nan"), np.array(local)          # |dR| spans less than a decade
    return float(np.sum(cf * cp) / np.sum(cf * cf)), np.array(local)


@dataclasses.dataclass(frozen=True)
class FamilyMeasurement:
    """A family (or a restricted-space experiment) measured along its parameter."""

    name: str
    t: np.ndarray
    parameter_distance: np.ndarray
    sobolev_distance: np.ndarray
    uniform_distance: np.ndarray
    ratio: np.ndarray
    ratio_uniform: np.ndarray
    exponent: float
    local_exponents: np.ndarray
    reason: str
    ratio_balanced: np.ndarray = None

    @property
    def max_ratio(self):
        return float(np.max(self.ratio))

    @property
    def max_ratio_balanced(self):
        """Largest ratio with ``Γ`` balanced (the restricted space's parametrization)."""
        return float(np.max(self.ratio_balanced))

    def summary(self):
        loc = self.local_exponents[np.isfinite(self.local_exponents)]
        loc_txt = (f"local exponents {loc.min():.3f}..{loc.max():.3f}" if len(loc)
                   else "no local exponents (|dR| constant)")
        exp_txt = (f"fitted exponent {self.exponent:.3f}, {loc_txt}" if np.isfinite(self.exponent)
                   else "no exponent (|dR| spans less than a decade)")
        return (f"{self.name:26s} ratio {self.ratio[0]:.3g} -> {self.ratio[-1]:.3g} "
                f"(max {self.max_ratio:.3g}), uniform-norm ratio {self.ratio_uniform[0]:.3g} -> "
                f"{self.ratio_uniform[-1]:.3g}, {exp_txt}")

    def rows(self):
        return [(self.name, float(t), float(p), float(s), float(u), float(r), float(ru),
                 float(rb))
                for t, p, s, u, r, ru, rb in zip(self.t, self.parameter_distance,
                                                 self.sobolev_distance, self.uniform_distance,
                                                 self.ratio, self.ratio_uniform,
                                                 self.ratio_balanced)]

    def to_dict(self):
        return {"name": self.name, "t": self.t.tolist(),
                "parameter_distance": self.parameter_distance.tolist(),
                "sobolev_distance": self.sobolev_distance.tolist(),
                "uniform_distance": self.uniform_distance.tolist(),
                "ratio": self.ratio.tolist(), "ratio_uniform": self.ratio_uniform.tolist(),
                "exponent": self.exponent, "local_exponents": self.local_exponents.tolist(),
                "ratio_balanced": self.ratio_balanced.tolist(),
                "max_ratio": self.max_ratio, "max_ratio_balanced": self.max_ratio_balanced,
                "reason": self.reason}


ROW_HEADER = ("experiment", "t", "parameter_distance", "sobolev_distance", "uniform_distance",
              "ratio", "ratio_uniform", "ratio_balanced")


def _measure(name, pairs, ts, reason, alpha, groups=None):
    par, parb, sob, uni = [], [], [], []
    for theta, gamma in pairs:
        pd = parameter_distance(theta, gamma)
        par.append(pd.value)
        parb.append(pd.value_balanced)
        sob.append(sobolev_distance(theta, gamma).value)
        d = theta.arch.inputs
        uni.append(uniform_distance(theta, gamma, Ball((0.0,) * d, 1.0)).value)
    par, sob, uni = np.array(par), np.array(sob), np.array(uni)
    with np.errstate(divide="ignore"):
        ratio = np.where(sob > 0, par / np.maximum(sob, 1e-300) ** alpha, np.inf)
        ratio_u = np.where(uni > 0, par / np.maximum(uni, 1e-300) ** alpha, np.inf)
        ratio_b = np.where(sob > 0, np.array(parb) / np.maximum(sob, 1e-300) ** alpha, np.inf)
    slope, local = fit_exponent(sob, par, groups)
    return FamilyMeasurement(name=name, t=np.asarray(ts, float), parameter_distance=par,
                             sobolev_distance=sob, uniform_distance=uni, ratio=ratio,
                             ratio_uniform=ratio_u, exponent=slope, local_exponents=local,
                             reason=reason, ratio_balanced=ratio_b)


def measure_family(family, ts=(1, 2, 4, 8, 16, 32, 64), *, alpha=0.5):
    """Ratios along a counterexample family (parameter distance, ``W^{1,∞}`` and uniform norm
    on the unit ball, fitted exponent of ``dist ~ |dR|^α``).

    Parameters
    ----------
    family : str
        One of the keys of :data:`FAMILIES`.
    ts : sequence of float, default=(1, 2, 4, 8, 16, 32, 64)
        Parameters of the family.
    alpha : float, default=0.5
        Exponent of the ratio.

    Returns
    -------
    FamilyMeasurement
        One measurement per ``t`` and the fitted exponent.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2:
           failure of inverse stability along the counterexample families.
    """
    ts = [check_float("ts[]", t, minimum=1.0) for t in ts]
    if len(ts) < 2:
        raise ValidationError(f"`ts` must hold at least 2 parameters; got {len(ts)}.")
    pairs = [(p.theta, p.gamma) for p in (counterexample(family, t) for t in ts)]
    return _measure(family, pairs, ts, FAMILIES[family][1], alpha)


# --- the theorem's side: pairs inside the restricted space ---------------------------------------
RESTRICTED_KINDS = ("random", "outputs", "tiny", "near_coinciding")


def _restricted_theta(rng, dim, width, *, tiny=None, near=None):
    A = np.abs(rng.normal(size=(width, dim))) + 0.05          # last two coordinates > 0 (C.3)
    A[:, :-2] = rng.normal(size=(width, dim - 2))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    C = rng.choice([-1.0, 1.0], size=(width, 1)) * rng.uniform(0.5, 1.5, size=(width, 1))
    if near is not None:                                       # neuron 1 close to neuron 0
        A[1] = A[0] + near * rng.normal(size=dim)
        A[1, -2:] = np.abs(A[1, -2:])
        A[1] /= np.linalg.norm(A[1])
    s = np.sqrt(np.abs(C[:, 0]))                               # balance: ||a|| = |c|
    A, C = A * s[:, None], C / s[:, None]
    if tiny is not None:
        A[0] *= tiny / np.linalg.norm(A[0])
        C[0] = np.sign(C[0]) * tiny
    return A, C


def restricted_pair(kind, eta, *, dim=2, width=4, seed=0):
    """A pair ``(Θ, Γ)`` inside the restricted space (C.1–C.3 hold for both).

    Parameters
    ----------
    kind : {"random", "outputs", "tiny", "near_coinciding"}
        ``"random"``: ``Θ`` random, ``Γ`` = ``Θ`` perturbed by ``η`` (re-balanced, C.3 kept);
        ``"outputs"``: only the outputs perturbed (then re-balanced: the hyperplanes stay);
        ``"tiny"``: ``Θ`` has a neuron of size ``η``, ``Γ`` moves that neuron to a random
        direction (an adversarial pair: ``|dR| ~ η²``, distance ``~ η``);
        ``"near_coinciding"``: ``Θ`` has two neurons at angle ``~η``, ``Γ`` moves one of
        them by ``~η`` (its hyperplane crosses the other's).
    eta : float
        Size of the perturbation (``> 0``).
    dim : int, default=2
        Input dimension of the bias-free networks (≥ 2 for C.3).
    width : int, default=4
    seed : int, default=0

    Returns
    -------
    (Network, Network)

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: conditions
           C.1–C.3 of the restricted space (Theorem 3.3).
    """
    kind = check_choice("kind", kind, RESTRICTED_KINDS)
    eta = check_float("eta", eta, minimum=0.0, strict_min=True)
    dim = check_int("dim", dim, minimum=2)
    width = check_int("width", width, minimum=2)
    rng = np.random.default_rng(check_seed("seed", seed))
    if kind == "outputs":
        A, C = _restricted_theta(rng, dim, width)
        A2, C2 = A.copy(), C + eta * rng.normal(size=C.shape)
    elif kind == "random":
        A, C = _restricted_theta(rng, dim, width)
        A2 = A + eta * rng.normal(size=A.shape)
        A2[:, -2:] = np.maximum(A2[:, -2:], 1e-3)
        C2 = C + eta * rng.normal(size=C.shape)
    elif kind == "tiny":
        A, C = _restricted_theta(rng, dim, width, tiny=eta)
        A2, C2 = A.copy(), C.copy()
        new = np.abs(rng.normal(size=dim)) + 0.05
        new[:-2] = rng.normal(size=dim - 2)
        A2[0] = new / np.linalg.norm(new) * eta
    else:
        A, C = _restricted_theta(rng, dim, width, near=eta)
        A2, C2 = A.copy(), C.copy()
        A2[0] = A[0] + eta * np.linalg.norm(A[0]) * rng.normal(size=dim)
        A2[0, -2:] = np.maximum(A2[0, -2:], 1e-3)
    # balance Γ (C.1)
    s = np.sqrt(np.linalg.norm(C2, axis=1) / np.linalg.norm(A2, axis=1))
    A2, C2 = A2 * s[:, None], C2 / s[:, None]
    return form_network(A, C), form_network(A2, C2)


def measure_restricted(kind, etas=(0.3, 0.1, 0.03, 0.01, 0.003), *, dim=2, width=4, seeds=4,
                       alpha=0.5):
    """Ratios for pairs inside the restricted space over ``etas`` and ``seeds``.

    Parameters
    ----------
    kind : str
        One of :data:`RESTRICTED_KINDS`.
    etas : sequence of float, default=(0.3, 0.1, 0.03, 0.01, 0.003)
        Perturbation sizes.
    dim : int, default=2
        Input dimension.
    width : int, default=4
        Hidden width.
    seeds : int, default=4
        Pairs per ``eta``.
    alpha : float, default=0.5
        Exponent of the ratio.

    Returns
    -------
    FamilyMeasurement
        One measurement per pair and the fitted exponent.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3 on
           pairs in the restricted space.
    """
    seeds = check_int("seeds", seeds, minimum=1)
    pairs, ts, groups = [], [], []
    for s in range(seeds):
        for eta in etas:
            pairs.append(restricted_pair(kind, eta, dim=dim, width=width, seed=s))
            ts.append(eta)
            groups.append(s)
    reason = {"random": "generic perturbations: dist ~η but every moved hyperplane opens a wedge "
                        "where the gradients differ by ~|c||w|, so |dR| stays of order 1 (ratio ~η)",
              "outputs": "hyperplanes kept, outputs moved: dist ~η and |dR| ~η (exponent 1)",
              "tiny": "a tiny neuron moved: dist ~η, |dR| ~η² (the exponent 1/2 is attained)",
              "near_coinciding": "one of two nearly coinciding hyperplanes moved across the "
                                 "other: dist ~η, |dR| of order 1 (the wedge), ratio ~η"}[kind]
    return _measure(f"restricted:{kind}", pairs, ts, reason, alpha, groups)
