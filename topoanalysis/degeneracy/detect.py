"""Detectors of the degenerate parametrizations that break inverse stability.

Berner, Elbrächter & Grohs (Section 2) list the pathologies: unbalanced neurons, redundant
weight vectors (same direction), weight vectors of (exactly) opposite direction, and several
opposite pairs whose linear parts nearly cancel; zero and dead neurons and coinciding
hyperplanes are their limits. Each detector returns the neurons involved, the measured value
and the tolerance it was compared with, and whether the finding is exact.

Exact findings (``Degeneracy.exact``) are decided in rationals from the float parameters:
zero neurons, redundant (same ray), opposite and coinciding pairs (``(w, b)`` on one line,
either orientation: one hyperplane) with the default ``direction=0``, dead neurons with the
default ``dead=0``. ``nearly_opposite``, nearly coinciding hyperplanes (``coinciding_hyperplanes``
with ``exact=False``: ``|cos| ≥ 1 − near`` but not exactly parallel; the detail gives the
angle, computed from exact rationals), ``unbalanced`` and ``cancelling_opposite_pairs`` are
tolerance categories. Every row is scaled by an exact power of two before norms and angles,
so the report is invariant under rescaling the network by a power of two (weights around
``2^-600`` or ``2^600`` included).

The weight vectors are those of the bias-free form (``(w_k, b_k)`` when the network has
hidden biases: the input augmented by ``x ↦ (x, 1)``); an output bias is no neuron here.
"""

import dataclasses
import itertools
import math
from fractions import Fraction

import numpy as np

from .._validation import check_array, check_float
from ..exceptions import ValidationError
from ._form import MAX_PARAMETER, _check_net
from .distance import Ball, Box

__all__ = ["Degeneracy", "DegeneracyReport", "detect_degeneracies", "DEFAULT_TOLERANCES",
           "KINDS"]

KINDS = ("zero", "dead", "unbalanced", "redundant", "opposite", "nearly_opposite",
         "cancelling_opposite_pairs", "coinciding_hyperplanes")

DEFAULT_TOLERANCES = {
    "zero": 0.0,           # 0: w_k = 0 or a_k = 0 exactly; > 0: ||w_k|| ≤ tol·scale (modelling)
    "balance": 1e-6,       # | ||w_k|| − ||a_k|| | > tol · max(||w_k||, ||a_k||)
    "direction": 0.0,      # 0: same/opposite ray decided exactly (rational 2×2 minors);
                           # > 0: cosine ≥ 1 − tol (a modelling choice)
    "near": 1e-2,          # tolerance categories: cos ≤ −1 + near: nearly opposite;
                           # |cos| ≥ 1 − near: nearly coinciding (exactly coinciding: exact)
    "cancel": 0.1,         # ||Σ linear parts|| ≤ cancel · Σ ||linear parts||
    "dead": 0.0,           # pre-activation ≤ dead everywhere on the data / domain (0: exact)
}


@dataclasses.dataclass(frozen=True)
class Degeneracy:
    """One detected degeneracy: its kind, the neurons involved, the value and the tolerance.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    neurons : tuple of int
        The neurons involved.
    value : float
        The measured value compared with ``tol`` (a cosine, a relative gap, a norm, ...).
    tol : float
        The tolerance of the category (unused by an exact finding).
    detail : str
        What was found, and whether exactly or within the tolerance (with the measured
        angle for the direction kinds).
    exact : bool, default=False
        The finding is a proven fact about the float parameters, decided in rationals
        without a tolerance (zero, redundant, opposite and coinciding pairs decided exactly,
        dead neurons with ``dead=0``). False for the tolerance categories (``unbalanced``,
        ``nearly_opposite``, ``cancelling_opposite_pairs``, nearly coinciding hyperplanes)
        and for findings that only a positive tolerance made.
    """

    kind: str
    neurons: tuple
    value: float
    tol: float
    detail: str
    exact: bool = False

    def to_dict(self):
        """Plain data (the fields; ``neurons`` as a list).

        Returns
        -------
        dict
            Plain JSON types.
        """
        return {"kind": self.kind, "neurons": list(self.neurons), "value": self.value,
                "tol": self.tol, "detail": self.detail, "exact": bool(self.exact)}

    def summary(self):
        """One line: kind, neurons, value against tolerance.

        Returns
        -------
        str
            The report.
        """
        how = "exact" if self.exact else f"value {self.value:.3g} (tol {self.tol:.3g})"
        return f"{self.kind} neurons {list(self.neurons)}: {how} {self.detail}"


@dataclasses.dataclass(frozen=True)
class DegeneracyReport:
    """All degeneracies of one network, with the tolerances used."""

    items: list
    width: int
    tolerances: dict
    dead_on: str

    def of_kind(self, kind, exact=None):
        """Degeneracies of one kind.

        Parameters
        ----------
        kind : str
            One of :data:`KINDS`.
        exact : bool or None, default=None
            ``True``: only the findings decided exactly; ``False``: only those within a
            tolerance (e.g. nearly coinciding hyperplanes); ``None``: all.

        Returns
        -------
        list of Degeneracy
            The findings of that kind.
        """
        if kind not in KINDS:
            raise ValidationError(f"`kind` must be one of {KINDS}; got {kind!r}.")
        if exact not in (None, True, False):
            raise ValidationError(f"`exact` must be None, True or False; got {exact!r}.")
        return [it for it in self.items
                if it.kind == kind and (exact is None or bool(it.exact) == exact)]

    def neurons(self, kind):
        """Sorted neurons involved in degeneracies of ``kind``.

        Parameters
        ----------
        kind : str
            One of :data:`KINDS`.

        Returns
        -------
        list of int
            The neurons, increasing.
        """
        return sorted({n for it in self.of_kind(kind) for n in it.neurons})

    @property
    def counts(self):
        """Number of degeneracies of each kind (a dict over :data:`KINDS`)."""
        return {k: len(self.of_kind(k)) for k in KINDS}

    @property
    def degenerate(self):
        """Whether any degeneracy was found."""
        return bool(self.items)

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"degeneracies of a width-{self.width} network "
                 f"({'none' if not self.items else len(self.items)} found; dead on "
                 f"{self.dead_on}):"]
        for k in KINDS:
            its = self.of_kind(k)
            if its:
                n_exact = sum(1 for it in its if it.exact)
                how = ("exact" if n_exact == len(its) else "within tolerance" if not n_exact
                       else f"{n_exact} exact, {len(its) - n_exact} within tolerance")
                lines.append(f"  {k:26s} {len(its):3d}  neurons {self.neurons(k)} ({how})")
        lines.append("  tolerances: " + ", ".join(f"{k}={v:g}" for k, v in self.tolerances.items()))
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"width": self.width, "tolerances": dict(self.tolerances), "dead_on": self.dead_on,
                "counts": self.counts, "items": [it.to_dict() for it in self.items]}


def detect_degeneracies(net, *, X=None, domain=None, tolerances=None):
    """Detect the degenerate parametrizations of a shallow ReLU network.

    Parameters
    ----------
    net : Network
        Shallow ReLU network.
    X : array_like of shape (N, d), optional
        Data on which a neuron is dead when its pre-activation is ``≤ 0`` at every row.
    domain : Box or Ball, optional
        Domain ``Ω`` on which a neuron is dead when ``max_Ω ⟨w, x⟩ + b ≤ 0`` (exact).
    tolerances : dict, optional
        Overrides of :data:`DEFAULT_TOLERANCES` (keys ``zero``, ``balance``, ``direction``,
        ``near``, ``cancel``, ``dead``).

    Returns
    -------
    DegeneracyReport
        Every degeneracy found (zero, dead, unbalanced, redundant or opposite neurons,
        coinciding hyperplanes, ...), with the width and the tolerances used.

    See Also
    --------
    topoanalysis.degeneracy.network_stability : Degeneracies, C.1–C.3 and the canonical form.

    Notes
    -----
    ``O(l² d)`` for the pairwise detectors. *Cancelling opposite pairs*: every (nearly)
    opposite pair ``(i, j)`` has the odd ("linear") part ``L_ij = (a_i w_iᵀ + a_j w_jᵀ)/2``
    (``ρ(z) = (z + |z|)/2``); when at least two pairs exist and
    ``||Σ L|| ≤ cancel · Σ ||L||`` the pairs are flagged together (the paper's fourth
    pathology; exactly cancelling ones realize a linear function in many ways).

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2:
           unbalanced, redundant, opposite and nearly cancelling neurons.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[1.0, 0.0], [-1.0, 0.0], [2.0, 0.0]], [[1.0, -1.0, 0.5]]])
    >>> rep = detect_degeneracies(net)
    >>> rep.neurons("opposite"), rep.neurons("redundant"), rep.neurons("unbalanced")
    ([0, 1, 2], [0, 2], [2])
    """
    _check_net(net)
    tol = dict(DEFAULT_TOLERANCES)
    if tolerances is not None:
        if not isinstance(tolerances, dict) or set(tolerances) - set(tol):
            raise ValidationError(f"`tolerances` must be a dict with keys among {sorted(tol)}; "
                                  f"got {tolerances!r}.")
        for k, v in tolerances.items():
            tol[k] = check_float(f"tolerances[{k!r}]", v, minimum=0.0)
    p = np.asarray(net.params, dtype=np.float64)
    sub = p[(p != 0) & (np.abs(p) < np.finfo(np.float64).tiny)]
    if sub.size:
        raise ValidationError(
            "`net` must have parameters that are 0 or at least 2^-1022 in magnitude (normal "
            f"floats); got {float(sub[0])!r}, a subnormal (its bits were lost to underflow). "
            "Rescale the network by a power of two (the degeneracies are scale-invariant).")
    w, a = net.neuron_weights()
    d = net.arch.inputs
    l = len(w)
    # every row scaled by an exact power of two (largest entry in [1/2, 1)): norms, angles and
    # ratios below neither underflow nor overflow and are invariant, bit for bit, under
    # rescaling the network (or a neuron) by a power of two
    ws, ew = _pow2_rows(w)
    as_, ea = _pow2_rows(a)
    nws = np.linalg.norm(ws, axis=1)
    nas = np.linalg.norm(as_, axis=1)
    with np.errstate(over="ignore", under="ignore"):
        nw = np.ldexp(nws, ew)              # the norms, for reporting only
        na = np.ldexp(nas, ea)
    w_zero = ~np.any(w != 0, axis=1)
    a_zero = ~np.any(a != 0, axis=1)
    exactly_zero = w_zero | a_zero
    items = []

    if tol["zero"] == 0:
        zero = exactly_zero
    else:                                   # ||v|| ≤ tol · scale, on a common power of two
        big = max(int(ew[~w_zero].max(initial=-10 ** 6)), int(ea[~a_zero].max(initial=-10 ** 6)))
        with np.errstate(under="ignore"):
            nw_rel, na_rel = np.ldexp(nws, ew - big), np.ldexp(nas, ea - big)
        scale = max(float(nw_rel.max(initial=0.0)), float(na_rel.max(initial=0.0)))
        zero = exactly_zero | (nw_rel <= tol["zero"] * scale) | (na_rel <= tol["zero"] * scale)
    for k in np.flatnonzero(zero):
        items.append(Degeneracy("zero", (int(k),), float(min(nw[k], na[k])), tol["zero"],
                                f"||w||={nw[k]:.3g}, ||a||={na[k]:.3g}: realizes 0"
                                + ("" if exactly_zero[k] else " (within the tolerance)"),
                                exact=bool(exactly_zero[k])))

    dead_on = "nothing (no data or domain given)"
    pre_max = None                          # of the scaled rows ws
    if X is not None:
        X = check_array("X", X, ndim=2)
        if X.shape[1] != d or X.shape[0] == 0:
            raise ValidationError(f"`X` must have {d} columns and at least one row; got shape "
                                  f"{X.shape}.")
        from .._validation import check_magnitude

        check_magnitude("X", X, MAX_PARAMETER)    # pre-activations X·w must fit in float64
        pre = X @ ws[:, :d].T + (ws[:, d] if ws.shape[1] > d else 0.0)
        pre_max = pre.max(axis=0)
        dead_on = f"data ({X.shape[0]} rows)"
    if domain is not None:
        if not isinstance(domain, (Box, Ball)) or domain.dim != d:
            raise ValidationError(f"`domain` must be a Box or Ball of dimension {d}; got {domain!r}.")
        b = ws[:, d] if ws.shape[1] > d else np.zeros(l)
        W = ws[:, :d]
        with np.errstate(over="ignore"):
            if isinstance(domain, Box):
                lo, hi = np.array(domain.low), np.array(domain.high)
                dmax = np.maximum(W * lo, W * hi).sum(axis=1) + b
            else:
                dmax = W @ np.array(domain.center) + domain.radius * np.linalg.norm(W, axis=1) + b
        pre_max = dmax if pre_max is None else np.maximum(pre_max, dmax)
        dead_on = (dead_on + " and " if X is not None else "") + f"{type(domain).__name__.lower()}"
    if pre_max is not None:
        with np.errstate(over="ignore", under="ignore"):
            pre_max = np.ldexp(pre_max, ew)          # the true scale (reported, tolerance)
        if tol["dead"] == 0:
            dead = _exact_dead(w, ws, d, X, domain)
        else:
            dead = pre_max <= tol["dead"]
        for k in np.flatnonzero(dead & ~zero):
            items.append(Degeneracy("dead", (int(k),), float(pre_max[k]), tol["dead"],
                                    f"max pre-activation {pre_max[k]:.3g} on {dead_on}",
                                    exact=tol["dead"] == 0))

    for k in np.flatnonzero(~zero):
        top = max(ew[k], ea[k])             # both norms on the neuron's larger power of two
        with np.errstate(under="ignore"):
            nw_k, na_k = float(np.ldexp(nws[k], ew[k] - top)), float(np.ldexp(nas[k], ea[k] - top))
        gap = abs(nw_k - na_k) / max(nw_k, na_k)
        if gap > tol["balance"]:
            items.append(Degeneracy("unbalanced", (int(k),), float(gap), tol["balance"],
                                    f"||w||={nw[k]:.4g} vs ||a||={na[k]:.4g} (C.1 fails)"))

    if tol["zero"] > 0:
        nz = np.flatnonzero(~w_zero & (nw_rel > tol["zero"] * scale))
    else:
        nz = np.flatnonzero(~w_zero)
    unit = ws[nz] / nws[nz, None] if len(nz) else np.zeros((0, w.shape[1]))
    cos = np.clip(unit @ unit.T, -1.0, 1.0)
    from ._exact import line_key

    keys = [line_key(w[k]) for k in nz]     # exact: (w, b) = λ · key, key's first entry 1
    pairs_opp = []
    for ii, jj in itertools.combinations(range(len(nz)), 2):
        i, j, c = int(nz[ii]), int(nz[jj]), float(cos[ii, jj])
        same_line = keys[ii][0] == keys[jj][0]
        same_ray = same_line and (keys[ii][1] > 0) == (keys[jj][1] > 0)
        if tol["direction"] == 0:
            same, opposite = same_ray, same_line and not same_ray
        else:
            same = same_ray or c >= 1.0 - tol["direction"]
            opposite = (same_line and not same_ray) or (not same and c <= -1.0 + tol["direction"])
        nearly = not opposite and not same_line and c <= -1.0 + tol["near"]
        coinciding = same_line or same or opposite or abs(c) >= 1.0 - tol["near"]
        if not (same or opposite or nearly or coinciding):
            continue
        angle, cos_line = (0.0, 1.0) if same_line else _line_angle(w[i], w[j])
        how = ("exactly, decided in rationals" if same_line else
               f"within the tolerance: angle {angle:.3g} rad = {math.degrees(angle):.3g} deg "
               "between the lines")
        if same:
            items.append(Degeneracy("redundant", (i, j), c, tol["direction"],
                                    f"same direction ({how}; C.2 fails)", exact=same_ray))
        if opposite:
            items.append(Degeneracy("opposite", (i, j), c, tol["direction"],
                                    f"opposite directions ({how})", exact=same_line))
            pairs_opp.append((i, j))
        elif nearly:
            items.append(Degeneracy("nearly_opposite", (i, j), c, tol["near"],
                                    f"nearly opposite, a tolerance category (cos ≤ −1 + "
                                    f"near={tol['near']:g}): angle {angle:.3g} rad = "
                                    f"{math.degrees(angle):.3g} deg from exactly opposite"))
            pairs_opp.append((i, j))
        if coinciding:
            if same_line:
                detail = ("exactly coinciding hyperplanes: (w, b) on one line, decided in "
                          "rationals (" + ("same" if same_ray else "opposite") + " orientation)")
            else:
                detail = (f"nearly coinciding hyperplanes, a tolerance category (|cos| ≥ 1 − "
                          f"near={tol['near']:g}): angle {angle:.3g} rad = "
                          f"{math.degrees(angle):.3g} deg; not exactly parallel")
            items.append(Degeneracy("coinciding_hyperplanes", (i, j), cos_line, tol["near"],
                                    detail, exact=same_line))
    if len(pairs_opp) >= 2:
        # linear parts a_k w_kᵀ on a common power of two (exact shifts of the scaled rows)
        members = sorted({n for p_ in pairs_opp for n in p_})
        top = max(int(ew[k] + ea[k]) for k in members)
        with np.errstate(under="ignore"):
            lin = {k: np.ldexp(np.outer(as_[k], ws[k]), int(ew[k] + ea[k]) - top)
                   for k in members}
        parts = [0.5 * (lin[i] + lin[j]) for i, j in pairs_opp]
        total = float(np.linalg.norm(sum(parts)))
        size = float(sum(np.linalg.norm(p_) for p_ in parts))
        if size > 0 and total <= tol["cancel"] * size:
            items.append(Degeneracy("cancelling_opposite_pairs", tuple(members), total / size,
                                    tol["cancel"],
                                    f"{len(pairs_opp)} opposite pairs: ||sum of linear parts|| "
                                    f"= {total / size:.3g} × the sum of their norms"))
    return DegeneracyReport(items=items, width=l, tolerances=tol, dead_on=dead_on)


def _pow2_rows(v):
    """Rows of ``v`` scaled by exact powers of two: ``(v_k · 2^{−e_k}, e_k)``.

    ``e_k`` is the exponent of the row's largest ``|entry|`` (``frexp``), so the scaled row's
    largest entry lies in ``[1/2, 1)``; ``e_k = 0`` for a zero row.
    """
    v = np.asarray(v, dtype=np.float64)
    m = np.max(np.abs(v), axis=1, initial=0.0)
    _, e = np.frexp(m)
    with np.errstate(under="ignore"):
        return np.ldexp(v, -e[:, None]), e.astype(np.int64)


def _sqrt_q(q):
    """``sqrt`` of a non-negative ``Fraction`` as a float, without under- or overflow."""
    if q == 0:
        return 0.0
    e = q.numerator.bit_length() - q.denominator.bit_length()
    e -= e % 2
    m = q / Fraction(2) ** e if e >= 0 else q * Fraction(2) ** (-e)     # in [1/4, 4)
    return math.ldexp(math.sqrt(float(m)), e // 2)


def _line_angle(u, v):
    """Angle between the lines of ``u ≠ 0`` and ``v ≠ 0`` and its cosine, from exact rationals.

    ``sin² = 1 − ⟨u,v⟩² / (‖u‖² ‖v‖²)`` and ``cos²`` are computed in ``Fraction`` from the
    float entries (Lagrange's identity), so the angle is accurate even when it is far below
    the rounding of unit vectors (``acos`` of a float cosine returns 0 there).
    """
    uq = [Fraction(float(x)) for x in u]
    vq = [Fraction(float(x)) for x in v]
    uv = sum(x * y for x, y in zip(uq, vq))
    cos2 = uv * uv / (sum(x * x for x in uq) * sum(y * y for y in vq))
    sin_, cos_ = _sqrt_q(1 - cos2), _sqrt_q(cos2)
    return math.atan2(sin_, cos_), cos_


def _exact_dead(w, ws, d, X, domain):
    """``max pre-activation ≤ 0`` on the data and/or domain, decided exactly per neuron.

    ``ws`` are the rows of ``w`` scaled by powers of two (signs unchanged). Data:
    ``⟨ws, x⟩ + b_s`` with a float filter (error ``γ_{d+2} Σ|ws_i x_i| + |b_s|``, plus
    ``(d + 2) 2^{-1074} (1 + Σ|x_i|)`` for underflow and subnormal rounding of ``ws``) and
    ``Fraction`` on the unscaled ``w`` for rows inside the filter. Box:
    ``Σ_i max(w_i lo_i, w_i hi_i) + b`` in ``Fraction``. Ball: ``⟨w, c⟩ + b + r ||w|| ≤ 0``
    iff ``s = −(⟨w, c⟩ + b) ≥ 0`` and ``r² ||w||² ≤ s²`` (rationals, no square root).
    """
    from ._exact import float_sum_error

    l = len(w)
    W = w[:, :d]
    b = w[:, d] if w.shape[1] > d else np.zeros(l)
    Ws = ws[:, :d]
    bs = ws[:, d] if ws.shape[1] > d else np.zeros(l)
    dead = np.ones(l, dtype=bool)
    q = lambda v: Fraction(float(v))
    if X is not None:
        pre = X @ Ws.T + bs
        err = 2 * float_sum_error(d + 2) * (np.abs(X) @ np.abs(Ws).T + np.abs(bs))
        err += (d + 2) * 2.0 ** -1074 * (1.0 + np.abs(X).sum(axis=1))[:, None]
        sure_pos = (pre > err).any(axis=0)
        dead &= ~sure_pos
        for k in np.flatnonzero(dead):
            rows = np.flatnonzero(pre[:, k] > -err[:, k])       # undecided by the filter
            for r in rows:
                v = sum(q(X[r, i]) * q(W[k, i]) for i in range(d)) + q(b[k])
                if v > 0:
                    dead[k] = False
                    break
    if domain is not None:
        for k in np.flatnonzero(dead):
            if hasattr(domain, "low"):
                v = sum(max(q(W[k, i]) * q(lo), q(W[k, i]) * q(hi))
                        for i, (lo, hi) in enumerate(zip(domain.low, domain.high))) + q(b[k])
                dead[k] = v <= 0
            else:
                s_ = -(sum(q(W[k, i]) * q(c) for i, c in enumerate(domain.center)) + q(b[k]))
                r = q(domain.radius)
                dead[k] = s_ >= 0 and r * r * sum(q(x) ** 2 for x in W[k]) <= s_ * s_
    return dead
