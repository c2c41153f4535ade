"""Detectors of the degenerate parametrizations that break inverse stability.

Berner, Elbrächter & Grohs (Section 2) list the pathologies: unbalanced neurons, redundant
weight vectors (same direction), weight vectors of (exactly) opposite direction, and several
opposite pairs whose linear parts nearly cancel; zero and dead neurons and coinciding
hyperplanes are their limits. Each detector returns the neurons involved, the measured value
and the tolerance it was compared with.

The weight vectors are those of the bias-free form (``(w_k, b_k)`` when the network has
hidden biases: the input augmented by ``x ↦ (x, 1)``); an output bias is no neuron here.
"""

import dataclasses
import itertools

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
    "near": 1e-2,          # cosine ≤ −1 + near: nearly opposite; |cos| ≥ 1 − near: coinciding
    "cancel": 0.1,         # ||Σ linear parts|| ≤ cancel · Σ ||linear parts||
    "dead": 0.0,           # pre-activation ≤ dead everywhere on the data / domain (0: exact)
}


@dataclasses.dataclass(frozen=True)
class Degeneracy:
    """One detected degeneracy: its kind, the neurons involved, the value and the tolerance."""

    kind: str
    neurons: tuple
    value: float
    tol: float
    detail: str

    def to_dict(self):
        """Plain data (the fields; ``neurons`` as a list).

        Returns
        -------
        dict
            Plain JSON types.
        """
        return {"kind": self.kind, "neurons": list(self.neurons), "value": self.value,
                "tol": self.tol, "detail": self.detail}

    def summary(self):
        """One line: kind, neurons, value against tolerance.

        Returns
        -------
        str
            The report.
        """
        return (f"{self.kind} neurons {list(self.neurons)}: value {self.value:.3g} "
                f"(tol {self.tol:.3g}) {self.detail}")


@dataclasses.dataclass(frozen=True)
class DegeneracyReport:
    """All degeneracies of one network, with the tolerances used."""

    items: list
    width: int
    tolerances: dict
    dead_on: str

    def of_kind(self, kind):
        """Degeneracies of one kind.

        Parameters
        ----------
        kind : str
            One of :data:`KINDS`.

        Returns
        -------
        list of Degeneracy
            The findings of that kind.
        """
        if kind not in KINDS:
            raise ValidationError(f"`kind` must be one of {KINDS}; got {kind!r}.")
        return [it for it in self.items if it.kind == kind]

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
                lines.append(f"  {k:26s} {len(its):3d}  neurons {self.neurons(k)}")
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
    _check_net(net, limit=MAX_PARAMETER)
    tol = dict(DEFAULT_TOLERANCES)
    if tolerances is not None:
        if not isinstance(tolerances, dict) or set(tolerances) - set(tol):
            raise ValidationError(f"`tolerances` must be a dict with keys among {sorted(tol)}; "
                                  f"got {tolerances!r}.")
        for k, v in tolerances.items():
            tol[k] = check_float(f"tolerances[{k!r}]", v, minimum=0.0)
    w, a = net.neuron_weights()
    d = net.arch.inputs
    l = len(w)
    nw = np.linalg.norm(w, axis=1)
    na = np.linalg.norm(a, axis=1)
    scale = max(float(nw.max(initial=0.0)), float(na.max(initial=0.0)), 1e-300)
    items = []

    if tol["zero"] == 0:
        zero = ~np.any(w != 0, axis=1) | ~np.any(a != 0, axis=1)          # exact
    else:
        zero = (nw <= tol["zero"] * scale) | (na <= tol["zero"] * scale)
    for k in np.flatnonzero(zero):
        items.append(Degeneracy("zero", (int(k),), float(min(nw[k], na[k])), tol["zero"],
                                f"||w||={nw[k]:.3g}, ||a||={na[k]:.3g}: realizes 0"))

    dead_on = "nothing (no data or domain given)"
    pre_max = None
    if X is not None:
        X = check_array("X", X, ndim=2)
        if X.shape[1] != d or X.shape[0] == 0:
            raise ValidationError(f"`X` must have {d} columns and at least one row; got shape "
                                  f"{X.shape}.")
        from .._validation import check_magnitude

        check_magnitude("X", X, MAX_PARAMETER)    # pre-activations X·w must fit in float64
        pre = X @ w[:, :d].T + (w[:, d] if w.shape[1] > d else 0.0)
        pre_max = pre.max(axis=0)
        dead_on = f"data ({X.shape[0]} rows)"
    if domain is not None:
        if not isinstance(domain, (Box, Ball)) or domain.dim != d:
            raise ValidationError(f"`domain` must be a Box or Ball of dimension {d}; got {domain!r}.")
        b = w[:, d] if w.shape[1] > d else np.zeros(l)
        W = w[:, :d]
        if isinstance(domain, Box):
            lo, hi = np.array(domain.low), np.array(domain.high)
            dmax = np.maximum(W * lo, W * hi).sum(axis=1) + b
        else:
            dmax = W @ np.array(domain.center) + domain.radius * np.linalg.norm(W, axis=1) + b
        pre_max = dmax if pre_max is None else np.maximum(pre_max, dmax)
        dead_on = (dead_on + " and " if X is not None else "") + f"{type(domain).__name__.lower()}"
    if pre_max is not None:
        dead = pre_max <= tol["dead"]
        if tol["dead"] == 0:
            dead = _exact_dead(w, d, X, domain)
        for k in np.flatnonzero(dead & ~zero):
            items.append(Degeneracy("dead", (int(k),), float(pre_max[k]), tol["dead"],
                                    f"max pre-activation {pre_max[k]:.3g} on {dead_on}"))

    for k in np.flatnonzero(~zero):
        if not max(nw[k], na[k]) > 0:      # non-zero weights whose norms underflow
            raise ValidationError(f"`net` must have neurons whose weight norms fit in float64; "
                                  f"neuron {int(k)}'s underflow to 0 (weights below about "
                                  "1e-160): rescale it (the degeneracies are scale-invariant).")
        gap = abs(nw[k] - na[k]) / max(nw[k], na[k])
        if gap > tol["balance"]:
            items.append(Degeneracy("unbalanced", (int(k),), float(gap), tol["balance"],
                                    f"||w||={nw[k]:.4g} vs ||a||={na[k]:.4g} (C.1 fails)"))

    nz = np.flatnonzero(nw > tol["zero"] * scale) if tol["zero"] > 0 else \
        np.flatnonzero(np.any(w != 0, axis=1))
    unit = w[nz] / nw[nz, None] if len(nz) else np.zeros((0, w.shape[1]))
    cos = np.clip(unit @ unit.T, -1.0, 1.0)
    if tol["direction"] == 0:
        from ._exact import line_key
        keys = [line_key(w[k]) for k in nz]
    pairs_opp = []
    for ii, jj in itertools.combinations(range(len(nz)), 2):
        i, j, c = int(nz[ii]), int(nz[jj]), float(cos[ii, jj])
        if tol["direction"] == 0:
            same_line = keys[ii][0] == keys[jj][0]
            same = same_line and (keys[ii][1] > 0) == (keys[jj][1] > 0)
            opposite = same_line and not same
        else:
            same = c >= 1.0 - tol["direction"]
            opposite = c <= -1.0 + tol["direction"]
        if same:
            items.append(Degeneracy("redundant", (i, j), c, tol["direction"],
                                    f"same direction (cos={c:.12g}; C.2 fails)"))
        if opposite:
            items.append(Degeneracy("opposite", (i, j), c, tol["direction"],
                                    f"exactly opposite (cos={c:.12g})"))
            pairs_opp.append((i, j))
        elif c <= -1.0 + tol["near"]:
            items.append(Degeneracy("nearly_opposite", (i, j), c, tol["near"],
                                    f"nearly opposite (cos={c:.6g})"))
            pairs_opp.append((i, j))
        if abs(c) >= 1.0 - tol["near"] or same or opposite:
            items.append(Degeneracy("coinciding_hyperplanes", (i, j), abs(c), tol["near"],
                                    f"hyperplanes at angle {np.degrees(np.arccos(abs(c))):.3g} deg"))
    if len(pairs_opp) >= 2:
        parts = [0.5 * (np.outer(a[i], w[i]) + np.outer(a[j], w[j])) for i, j in pairs_opp]
        total = float(np.linalg.norm(sum(parts)))
        size = float(sum(np.linalg.norm(p) for p in parts))
        if size > 0 and total <= tol["cancel"] * size:
            neurons = tuple(sorted({n for p in pairs_opp for n in p}))
            items.append(Degeneracy("cancelling_opposite_pairs", neurons, total / size,
                                    tol["cancel"],
                                    f"{len(pairs_opp)} opposite pairs: ||sum of linear parts||="
                                    f"{total:.3g} vs {size:.3g}"))
    return DegeneracyReport(items=items, width=l, tolerances=tol, dead_on=dead_on)


def _exact_dead(w, d, X, domain):
    """``max pre-activation ≤ 0`` on the data and/or domain, decided exactly per neuron.

    Data: ``⟨w, x⟩ + b`` with a float filter (error ``γ_{d+1} Σ|w_i x_i| + |b|``) and
    ``Fraction`` for rows inside the filter. Box: ``Σ_i max(w_i lo_i, w_i hi_i) + b`` in
    ``Fraction``. Ball: ``⟨w, c⟩ + b + r ||w|| ≤ 0`` iff ``s = −(⟨w, c⟩ + b) ≥ 0`` and
    ``r² ||w||² ≤ s²`` (rationals, no square root).
    """
    from fractions import Fraction

    from ._exact import float_sum_error

    l = len(w)
    W = w[:, :d]
    b = w[:, d] if w.shape[1] > d else np.zeros(l)
    dead = np.ones(l, dtype=bool)
    q = lambda v: Fraction(float(v))
    if X is not None:
        pre = X @ W.T + b
        err = 2 * float_sum_error(d + 2) * (np.abs(X) @ np.abs(W).T + np.abs(b))
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
