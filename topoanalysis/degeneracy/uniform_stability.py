"""Uniform-norm inverse stability with the angles between hyperplanes bounded below (Section A.4).

Inverse stability fails for the uniform norm in general (Section 2: two neurons whose
hyperplanes meet at a tiny angle ``ω`` give a realization of sup-norm ``~ω`` and gradient of
order 1 in the thin wedge). Section A.4 of Berner, Elbrächter & Grohs restores it for the
uniform norm on a bounded domain ``Ω`` when the angles between the hyperplanes are bounded
below: then every linear region of ``g − R(Γ)`` inside ``Ω`` is "fat", so
``|f|_{W^{1,∞}} ≤ C(ω) ||f||_{L^∞(Ω)}`` for the piecewise linear ``f = g − R(Γ)``, and Theorem
3.3 gives ``|Φ − Γ|_∞ ≤ s (C(ω) ||g − R(Γ)||_{L^∞})^{1/2}``.

Our copy of the paper lacks the formulas of Section A.4; we measure the hypothesis the proof
needs — the smallest angle ``ω`` between the hyperplanes of *both* networks of a pair (those of
``f``) — and, on ``Ω`` the unit ball:

* ``C = |f|_{W^{1,∞}} / ||f||_{L^∞(Ω)}`` (both distances exact or certified by the toolkit);
* the uniform-norm ratio ``dist / ||f||_{L^∞(Ω)}^{1/2}`` (parameter distance over balanced
  parametrizations, the restricted space's), i.e. the constant ``s(ω)``;

along the ``wedge`` family (inside the restricted space: two neurons at angle ``ω``, opposite
outputs, against the same neurons shrunk — the ratio grows like ``ω^{-1/2}``) and over seeded
random restricted pairs binned by their smallest angle (the largest ratio per bin).
"""

import dataclasses

import numpy as np

from .._validation import check_choice, check_float, check_int, check_seed
from ..exceptions import ValidationError
from ._exact import line_key
from ._form import form_network, pair_forms
from .stability import _check_budget, _measure, _round_bits

__all__ = ["smallest_hyperplane_angle", "wedge_pair", "AngleMeasurement", "measure_wedge",
           "measure_angle_bins", "measure_family_angles"]


def smallest_hyperplane_angle(*nets, augment=None):
    """Smallest angle (radians, in ``(0, π/2]``) between the distinct hyperplanes of the networks.

    The hyperplanes are those of ``f = R(Γ) − R(Θ)``'s pieces: zero neurons are skipped and
    neurons on the same line (decided exactly in rationals, within or across the networks) are
    one hyperplane. The angle between two distinct lines is
    ``arccos(|⟨a_i, a_j⟩| / (||a_i|| ||a_j||))``
    is computed in float64 (``arctan2`` of the cross and dot parts, accurate at tiny angles).

    Parameters
    ----------
    *nets : Network
        One or more shallow ReLU networks with the same input dimension.
    augment : str or None
        Input augmentation of the bias-free forms.

    Returns
    -------
    float
        ``π/2`` when fewer than two distinct hyperplanes exist.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Section A.4.
    """
    if not nets:
        raise ValidationError("`nets` must hold at least one Network; got none.")
    forms = [pair_forms(nets[0], n, augment)[1] for n in nets]
    A = np.concatenate([f.A for f in forms])
    A = A[np.any(A != 0, axis=1)]
    if len(A) < 2:
        return float(np.pi / 2)
    first = {}
    for i, a in enumerate(A):                    # distinct hyperplanes (exact line keys)
        first.setdefault(line_key(a)[0], i)
    A = A[sorted(first.values())]
    if len(A) < 2:
        return float(np.pi / 2)
    U = A / np.linalg.norm(A, axis=1, keepdims=True)
    dots = np.abs(U @ U.T)
    G = np.einsum("ik,jl->ijkl", U, U)
    cross = np.sqrt(np.maximum(np.sum((G - G.transpose(0, 1, 3, 2)) ** 2, axis=(2, 3)) / 2, 0))
    ang = np.arctan2(cross, dots)
    iu = np.triu_indices(len(A), 1)
    return float(np.min(ang[iu]))


def wedge_pair(omega, *, eta=1e-3):
    """Two neurons at angle ``ω`` with opposite outputs, against the same two neurons shrunk.

    ``Γ``: ``ρ(⟨u_1, x⟩) − ρ(⟨u_2, x⟩)`` with unit ``u_1, u_2`` in the open positive quadrant at
    angle ``ω`` (C.1–C.3 hold); ``Θ``: the same directions with size ``η`` (balanced). Then
    ``||R(Γ) − R(Θ)||_{L^∞(B_1)} ~ ω`` while the gradient in the wedge is of order 1 and the
    parameter distance is ``1 − η`` (the weight vectors are linearly independent, so it is exact
    by Lemma A.3): the uniform-norm ratio grows like ``ω^{-1/2}``.

    Parameters
    ----------
    omega : float
        Angle in ``(0, π/4]``.
    eta : float, default=1e-3
        Size of ``Θ``'s neurons, in ``(0, 1)``.

    Returns
    -------
    (Network, Network)
        ``(Θ, Γ)``.

    See Also
    --------
    measure_wedge : The ratios along ``ω``.
    smallest_hyperplane_angle : The angle the hypothesis of Section A.4 bounds.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2 (failure
           of inverse stability for the uniform norm: hyperplanes at a small angle) and
           Section A.4 (its recovery when the angles are bounded below).
    """
    omega = check_float("omega", omega, minimum=0.0, strict_min=True, maximum=np.pi / 4)
    eta = check_float("eta", eta, minimum=0.0, strict_min=True, maximum=1.0, strict_max=True)
    phi = np.pi / 4
    U = np.array([[np.cos(phi - omega / 2), np.sin(phi - omega / 2)],
                  [np.cos(phi + omega / 2), np.sin(phi + omega / 2)]])
    U = _round_bits(U)
    e = float(_round_bits(np.array([eta]))[0])
    gamma_A, theta_A = U, U * e                                 # 24-bit × 24-bit: exact rays
    sgn = np.array([[1.0], [-1.0]])
    theta = form_network(theta_A, sgn * np.linalg.norm(theta_A, axis=1, keepdims=True))
    gamma = form_network(gamma_A, sgn * np.linalg.norm(gamma_A, axis=1, keepdims=True))
    return theta, gamma


@dataclasses.dataclass(frozen=True)
class AngleMeasurement:
    """Uniform-norm inverse stability against the smallest hyperplane angle.

    Attributes
    ----------
    name : str
    angle : ndarray
        Smallest angle between the hyperplanes of each pair (both networks).
    parameter_distance, sobolev_distance, uniform_distance : ndarray
        Balanced parameter distance, ``W^{1,∞}`` and ``L^∞(B_1)`` distances.
    sobolev_over_uniform : ndarray
        ``C = |f|_{W^{1,∞}} / ||f||_{L^∞}`` (``inf`` where the uniform distance is 0).
    ratio_uniform : ndarray
        ``dist / ||f||_{L^∞}^{1/2}`` (balanced parametrizations).
    exponent : float
        Slope of ``log ratio_uniform`` against ``log angle`` (``nan`` with < a decade of angles).
    reason : str
    """

    name: str
    angle: np.ndarray
    parameter_distance: np.ndarray
    sobolev_distance: np.ndarray
    uniform_distance: np.ndarray
    sobolev_over_uniform: np.ndarray
    ratio_uniform: np.ndarray
    exponent: float
    reason: str

    def constant_above(self, omega):
        """``s(ω)``: the largest uniform-norm ratio over pairs with smallest angle ``≥ ω``.

        Parameters
        ----------
        omega : float
            Lower bound on the smallest hyperplane angle (radians).

        Returns
        -------
        float
            ``max ratio_uniform`` over the pairs with ``angle ≥ omega``; ``nan`` when there are
            none.
        """
        sel = self.angle >= omega
        return float(np.max(self.ratio_uniform[sel])) if sel.any() else float("nan")

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        exp = (f", ratio ~ angle^{self.exponent:.2f}" if np.isfinite(self.exponent) else "")
        return (f"{self.name}: {len(self.angle)} pairs, smallest angles "
                f"{self.angle.min():.3g}..{self.angle.max():.3g} rad; max uniform-norm ratio "
                f"{np.max(self.ratio_uniform):.3g}, max |f|_W1inf/||f||_inf "
                f"{np.max(self.sobolev_over_uniform):.3g}{exp}")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        f = lambda a: [None if not np.isfinite(x) else float(x) for x in np.asarray(a)]
        return {"name": self.name, "angle": f(self.angle),
                "parameter_distance": f(self.parameter_distance),
                "sobolev_distance": f(self.sobolev_distance),
                "uniform_distance": f(self.uniform_distance),
                "sobolev_over_uniform": f(self.sobolev_over_uniform),
                "ratio_uniform": f(self.ratio_uniform),
                "exponent": None if not np.isfinite(self.exponent) else self.exponent,
                "reason": self.reason}

    def rows(self):
        """One CSV row per pair, in the column order of ``ROW_HEADER``.

        Returns
        -------
        list of tuple
            ``(name, angle, parameter_distance, sobolev_distance, uniform_distance,
            sobolev_over_uniform, ratio_uniform)`` per pair.
        """
        return [(self.name, float(a), float(p), float(s), float(u), float(c), float(r))
                for a, p, s, u, c, r in zip(self.angle, self.parameter_distance,
                                            self.sobolev_distance, self.uniform_distance,
                                            self.sobolev_over_uniform, self.ratio_uniform)]


ROW_HEADER = ("experiment", "angle", "parameter_distance", "sobolev_distance",
              "uniform_distance", "sobolev_over_uniform", "ratio_uniform")


def _angle_measurement(name, pairs, reason):
    m = _measure(name, pairs, np.ones(len(pairs)), reason, 0.5, np.arange(len(pairs)))
    ang = np.array([smallest_hyperplane_angle(p[0], p[1]) for p in pairs])
    sob, uni = m.sobolev_distance, m.uniform_distance
    par = m.ratio_balanced * np.sqrt(sob)                      # balanced parameter distance
    with np.errstate(divide="ignore", invalid="ignore"):
        C = np.where(uni > 0, sob / uni, np.inf)
        ratio_u = np.where(uni > 0, par / np.sqrt(uni), np.inf)
    ok = (ang > 0) & np.isfinite(ratio_u) & (ratio_u > 0)
    exp = float("nan")
    if ok.sum() >= 2 and np.ptp(np.log(ang[ok])) >= np.log(10.0):
        exp = float(np.polyfit(np.log(ang[ok]), np.log(ratio_u[ok]), 1)[0])
    return AngleMeasurement(name=name, angle=ang, parameter_distance=par,
                            sobolev_distance=sob, uniform_distance=uni,
                            sobolev_over_uniform=C, ratio_uniform=ratio_u, exponent=exp,
                            reason=reason)


def measure_wedge(omegas=(0.5, 0.1, 0.03, 0.01, 0.003, 0.001), *, eta=1e-3):
    """:func:`wedge_pair` along ``omegas`` (an :class:`AngleMeasurement` named ``wedge``).

    Parameters
    ----------
    omegas : sequence of float, default=(0.5, 0.1, 0.03, 0.01, 0.003, 0.001)
        At least two angles in ``(0, π/4]``, one pair each.
    eta : float, default=1e-3
        Size of ``Θ``'s neurons, in ``(0, 1)`` (see :func:`wedge_pair`).

    Returns
    -------
    AngleMeasurement
        Named ``wedge``; ``exponent`` is the slope of the uniform-norm ratio against the angle
        (about ``−1/2``).

    See Also
    --------
    wedge_pair, measure_angle_bins

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Section A.4 (and Section 2, the uniform norm).
    """
    if isinstance(omegas, (str, bytes)) or not hasattr(omegas, "__len__") or len(omegas) < 2:
        raise ValidationError(f"`omegas` must be a sequence of at least 2 angles in (0, π/4]; "
                              f"got {omegas!r}.")
    _check_budget(len(omegas), "omegas")
    pairs = [wedge_pair(w, eta=eta) for w in omegas]
    return _angle_measurement("wedge", pairs, "two neurons at angle ω with opposite outputs "
                              "(restricted space) against the same neurons shrunk: "
                              "||dR||_inf ~ ω, distance ~1, ratio ~ ω^-1/2")


def measure_angle_bins(n_pairs=40, *, width=2, seed=0):
    """Seeded random restricted pairs (2-D, sizes log-uniform in ``[1e-2, 1]``): angle vs ratio.

    Each pair is two independent restricted networks whose weight directions are drawn in the
    positive quadrant; the smallest angle of the union of their hyperplanes spreads over
    several decades, so :meth:`AngleMeasurement.constant_above` shows ``s(ω)``.

    Parameters
    ----------
    n_pairs : int, default=40
        Number of independent pairs, ``≥ 2``.
    width : int, default=2
        Neurons per network, in ``[1, 16]``.
    seed : int, default=0
        Seed of the random pairs.

    Returns
    -------
    AngleMeasurement
        Named ``restricted:random-angles``, one entry per pair.

    See Also
    --------
    measure_wedge, smallest_hyperplane_angle

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section A.4
           (uniform-norm inverse stability on a bounded domain when the angles between the
           hyperplanes are bounded below) and Theorem 3.3 (the restricted space, C.1–C.3).
    """
    n_pairs = check_int("n_pairs", n_pairs, minimum=2)
    width = check_int("width", width, minimum=1, maximum=16)
    _check_budget(n_pairs, "n_pairs")
    rng = np.random.default_rng(check_seed("seed", seed))
    pairs = []
    for _ in range(n_pairs):
        nets = []
        for _ in range(2):
            ang = rng.uniform(0.05, np.pi / 2 - 0.05, size=width)
            U = _round_bits(np.stack([np.cos(ang), np.sin(ang)], axis=1))
            size = _round_bits(np.exp(rng.uniform(np.log(1e-2), 0.0, size=width)))
            A = U * size[:, None]
            C = rng.choice([-1.0, 1.0], size=(width, 1)) * np.linalg.norm(A, axis=1,
                                                                          keepdims=True)
            nets.append(form_network(A, C))
        pairs.append((nets[0], nets[1]))
    return _angle_measurement("restricted:random-angles", pairs,
                              "independent random restricted pairs in the plane")


def measure_family_angles(family, ts=(1, 2, 4, 8, 16, 32)):
    """A counterexample family of :data:`~topoanalysis.degeneracy.FAMILIES` as an
    :class:`AngleMeasurement` (e.g. ``"uniform"``: its hyperplane angle ``~1/t²`` shrinks, and the
    uniform-norm ratio grows).

    Parameters
    ----------
    family : str
        A key of :data:`~topoanalysis.degeneracy.FAMILIES`.
    ts : sequence of float, default=(1, 2, 4, 8, 16, 32)
        At least two family parameters ``t ≥ 1``, one pair each.

    Returns
    -------
    AngleMeasurement
        Named after ``family``, one entry per ``t``.

    See Also
    --------
    topoanalysis.degeneracy.counterexample, topoanalysis.degeneracy.measure_family

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2 (the
           counterexamples to inverse stability, among them the uniform-norm one) and
           Section A.4 (the angle hypothesis that restores it).
    """
    from .stability import FAMILIES, counterexample

    family = check_choice("family", family, tuple(FAMILIES))
    if isinstance(ts, (str, bytes)) or not hasattr(ts, "__len__") or len(ts) < 2:
        raise ValidationError(f"`ts` must be a sequence of at least 2 floats >= 1; got {ts!r}.")
    _check_budget(len(ts), "ts")
    ts = [check_float("ts[]", t, minimum=1.0, maximum=1e50) for t in ts]
    pairs = []
    for t in ts:
        p = counterexample(family, t)
        pairs.append((p.theta, p.gamma) + ((p.reparametrizations,) if p.reparametrizations
                                           else ()))
    return _angle_measurement(family, pairs, FAMILIES[family][1])
