"""The constants of the inverse-stability statements, measured beside the exponents.

Berner, Elbrächter & Grohs (NeurIPS 2019) call the realization map ``(s, α)`` inverse stable on
a set ``P`` w.r.t. a (semi)norm if for every ``Γ ∈ P`` and realizable ``g`` there is ``Φ ∈ P``
with ``R(Φ) = g`` and ``|Φ − Γ|_∞ ≤ s ||g − R(Γ)||^α`` (Definition 1.1). Theorem 3.3 states it
on the restricted space (C.1–C.3) for the ``W^{1,∞}`` semi-norm with ``α = 1/2`` and a constant
``s`` that does not depend on the width or the input dimension.

Our text of the paper lacks the formulas, and no source we could reach has them (ar5iv, the
NeurIPS proceedings and reviews pages are stored only up to the abstract; the authors'
repository has no formulas: docs/guide/berner.md, "Sources"), so the constant is re-derived
from the proof's case analysis (Appendix A.3.2), with the Euclidean norm in the balance and
in the ``W^{1,∞}`` gradient (:func:`_convention_ratios` measures the other conventions). Across the hyperplane of a neuron the gradient jump of
``f = g − R(Γ)`` is at most ``2δ``, ``δ = |f|_{W^{1,∞}}``. With balanced neurons
(``||c|| = ||a|| = p`` for ``Γ``, ``q`` for ``Φ``):

* *matched* (the same ray in ``Γ`` and ``Φ``): ``||c^Γ a^Γ − c^Φ a^Φ|| ≤ 2δ`` gives
  ``|p − q| ≤ (2δ)^{1/2}`` and ``||c^Γ − c^Φ|| ≤ 2 δ^{1/2}`` (equality in the worst case: opposite
  output signs, ``p = q``) — cost ``≤ 2 δ^{1/2}``;
* *unmatched* (a ray of one network only): ``p² ≤ 2δ``; a width-preserving ``Φ`` pairs each
  unmatched neuron of ``Γ`` with an unmatched one of ``Φ``, at cost ``≤ p + q ≤ 2 (2δ)^{1/2}``.

So the proof's bounds support :data:`THEOREM_3_3_CONSTANT` ``= 2√2`` (our re-derivation).
Reading only the matched case gives ``s = 2`` (:data:`MATCHED_CASE_CONSTANT`); that reading is
**refuted** by an exact pair inside the restricted space at ratio 2.10
(:func:`adversarial_constant` with ``width=3``): in the restricted space the parametrization of a
realization of a restricted network is unique up to permutation (one neuron per kink line, C.3
fixes its orientation, C.1 its scale), so the balanced parameter distance over permutations is
the exact distance over ``P``.

:func:`stability_constant` turns a measurement (:func:`~topoanalysis.degeneracy.measure_family`,
:func:`~topoanalysis.degeneracy.measure_restricted`, :func:`search_constant`) into the measured
constant ``max dist / |dR|^{1/2}`` (over the balanced parametrizations ``Φ ∈ P`` the theorem asks
for, and over all parametrizations), the constant of the fitted power law, and the comparison
with the statement. :func:`flipped_pair` is an adversarial pair inside the restricted space with
ratio ``√2`` at every scale, :func:`search_constant` a seeded random search over restricted
pairs at all scales, :func:`adversarial_constant` a seeded hill climb.
"""

import dataclasses

import numpy as np

from .._validation import check_float, check_int, check_seed
from ..exceptions import ValidationError
from ._form import form_network
from .stability import FamilyMeasurement, _check_budget, _measure, _round_bits

__all__ = ["THEOREM_3_3_CONSTANT", "MATCHED_CASE_CONSTANT", "THEOREM_3_3_EXPONENT",
           "ConstantEstimate",
           "stability_constant", "flipped_pair", "measure_flipped", "search_constant",
           "AdversarialConstant", "adversarial_constant", "matched_case_counterexample"]

#: ``s`` of Theorem 3.3 as the proof's case bounds give it (our re-derivation, module docstring)
THEOREM_3_3_CONSTANT = 2.0 * 2.0 ** 0.5
#: ``s`` from the matched case alone (a first reading, refuted by :func:`adversarial_constant`)
MATCHED_CASE_CONSTANT = 2.0
#: ``α`` of Theorem 3.3
THEOREM_3_3_EXPONENT = 0.5


@dataclasses.dataclass(frozen=True)
class ConstantEstimate:
    """Measured inverse-stability constant of one experiment, against the statement's.

    Attributes
    ----------
    name : str
    alpha : float
        Exponent of the ratio ``dist / |dR|^α``.
    constant : float
        ``max`` of the ratio with ``Φ`` balanced (``Φ ∈ P``, what Theorem 3.3 asks for). The
        balanced parameter distance is the best balanced parametrization found — exact when
        ``Γ``'s weight vectors are independent (Lemma A.3), an upper bound otherwise — so a
        value ``≤ s`` is consistent with the theorem, and one ``> s`` would need the exact flag
        to refute it.
    constant_any : float
        ``max`` of the ratio over all parametrizations tried (``≤ constant``).
    fitted_exponent : float
        Slope of ``log dist`` against ``log |dR|`` (``nan`` when ``|dR|`` spans < a decade).
    fitted_constant : float
        ``exp(mean(log dist − α̂ log |dR|))`` with the fitted exponent ``α̂`` (``nan`` likewise).
    stated_constant : float
        ``s`` of the statement compared with.
    within_statement : bool
        ``constant ≤ stated_constant``.
    blowup : float
        ``α − fitted_exponent``: the ratio behaves like ``|dR|^{−blowup}`` as ``|dR| → 0``;
        ``> 0`` means it grows without bound (no constant exists); ``nan`` when ``|dR|`` does
        not shrink over a decade.
    pairs : int
    """

    name: str
    alpha: float
    constant: float
    constant_any: float
    fitted_exponent: float
    fitted_constant: float
    stated_constant: float
    within_statement: bool
    blowup: float
    pairs: int

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        fit = (f"power law dist ≈ {self.fitted_constant:.3g}·|dR|^{self.fitted_exponent:.3f}"
               if np.isfinite(self.fitted_exponent) else "no power law (|dR| < a decade)")
        verdict = ("within" if self.within_statement else "ABOVE") + \
            f" s = {self.stated_constant:.3g}"
        grow = (f"; ratio ~ |dR|^-{self.blowup:.2f} as |dR| -> 0 (unbounded: no constant)"
                if np.isfinite(self.blowup) and self.blowup > 0.05 else "")
        return (f"{self.name:26s} constant max dist/|dR|^{self.alpha:g} = {self.constant:.4g} "
                f"(balanced Φ; any Φ {self.constant_any:.4g}), {verdict}; {fit}{grow} "
                f"[{self.pairs} pairs]")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        f = lambda x: None if not np.isfinite(x) else float(x)   # strict JSON
        return {"name": self.name, "alpha": self.alpha, "constant": f(self.constant),
                "constant_any": f(self.constant_any), "fitted_exponent": f(self.fitted_exponent),
                "fitted_constant": f(self.fitted_constant),
                "stated_constant": self.stated_constant,
                "within_statement": self.within_statement, "blowup": f(self.blowup),
                "pairs": self.pairs}


def stability_constant(measurement, *, alpha=THEOREM_3_3_EXPONENT, stated=THEOREM_3_3_CONSTANT):
    """The measured inverse-stability constant of a measurement, beside its exponent.

    Parameters
    ----------
    measurement : FamilyMeasurement
        From :func:`~topoanalysis.degeneracy.measure_family`,
        :func:`~topoanalysis.degeneracy.measure_restricted`, :func:`measure_flipped` or
        :func:`search_constant`, measured with the same ``alpha``.
    alpha : float, default=0.5
        The exponent the measurement's ratios were taken with.
    stated : float, default=THEOREM_3_3_CONSTANT
        The statement's ``s`` to compare with.

    Returns
    -------
    ConstantEstimate
        The measured constant (largest ratio over the pairs), the fitted exponent and constant,
        the stated constant and whether the measurement stays within it.

    See Also
    --------
    topoanalysis.degeneracy.measure_restricted, topoanalysis.degeneracy.measure_family
    search_constant

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Definition 1.1 and Theorem 3.3 (``(s, 1/2)``
    inverse stability on the restricted space w.r.t. ``|·|_{W^{1,∞}}``).

    Examples
    --------
    >>> from topoanalysis.degeneracy import measure_flipped, stability_constant
    >>> est = stability_constant(measure_flipped((0.1, 0.01, 0.001)))
    >>> round(est.constant, 6), est.within_statement
    (1.414214, True)
    """
    if not isinstance(measurement, FamilyMeasurement):
        raise ValidationError(f"`measurement` must be a FamilyMeasurement; got "
                              f"{type(measurement).__name__}.")
    stated = check_float("stated", stated, minimum=0.0, strict_min=True)
    m = measurement
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
    rb = m.ratio_balanced if m.ratio_balanced is not None else m.ratio
    const, const_any = float(np.max(rb)), float(np.max(m.ratio))
    f, p = np.asarray(m.sobolev_distance), np.asarray(m.parameter_distance)
    ok = (f > 0) & (p > 0) & np.isfinite(f) & np.isfinite(p)
    slope = m.exponent
    if np.isfinite(slope) and ok.sum() >= 2:
        fitted = float(np.exp(np.mean(np.log(p[ok]) - slope * np.log(f[ok]))))
    else:
        fitted = float("nan")
    blowup = alpha - float(slope) if np.isfinite(slope) else float("nan")
    t = np.asarray(m.t, float)
    return ConstantEstimate(name=m.name, alpha=alpha, constant=const, constant_any=const_any,
                            fitted_exponent=float(slope), fitted_constant=fitted,
                            stated_constant=stated, within_statement=bool(const <= stated),
                            blowup=blowup, pairs=int(len(t)))


def _unit_c3(rng, dim):
    """A random unit vector whose last two coordinates are positive (C.3), 24-bit entries."""
    v = np.abs(rng.normal(size=dim)) + 0.05
    v[:-2] = rng.normal(size=dim - 2)
    return v / np.linalg.norm(v)


def flipped_pair(eta, *, dim=2, seed=0):
    """A tiny balanced neuron with its output sign flipped: both networks in the restricted space.

    ``Θ``: one neuron ``(η u, +η)``; ``Γ``: ``(η u, −η)`` (``u`` a unit vector with positive last
    two coordinates, 24-bit entries so that scaling is exact). Then
    ``|R(Γ) − R(Θ)|_{W^{1,∞}} = 2η²`` and the nearest balanced parametrization of ``R(Γ)`` is
    ``Γ`` itself at distance ``2η``: the ratio is ``2η / (2η²)^{1/2} = √2`` at every scale
    (Theorem 3.3 bounds it by ``s``; :func:`adversarial_constant` finds larger ratios at scale
    one).

    Parameters
    ----------
    eta : float
        Neuron size, ``> 0``.
    dim : int, default=2
        Input dimension, in ``[2, 64]``.
    seed : int, default=0
        Seed of the direction ``u``.

    Returns
    -------
    (Network, Network)
        ``(Θ, Γ)``, one balanced neuron each, both in the restricted space.

    See Also
    --------
    measure_flipped, adversarial_constant

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3
           (``(s, 1/2)`` inverse stability on the restricted space w.r.t. ``|·|_{W^{1,∞}}``;
           this pair shows ``s ≥ √2``).
    """
    eta = check_float("eta", eta, minimum=0.0, strict_min=True, maximum=1e100)
    dim = check_int("dim", dim, minimum=2, maximum=64)
    rng = np.random.default_rng(check_seed("seed", seed))
    u = _round_bits(_unit_c3(rng, dim)[None, :])[0]
    e = float(_round_bits(np.array([eta]))[0])
    a = u * e
    c = float(np.linalg.norm(a))
    return form_network(a[None, :], [[c]]), form_network(a[None, :], [[-c]])


def measure_flipped(etas=(0.3, 0.1, 0.03, 0.01, 0.003), *, dim=2, seeds=1,
                    alpha=THEOREM_3_3_EXPONENT):
    """Ratios along :func:`flipped_pair` (a ``FamilyMeasurement`` named ``restricted:flipped``).

    Parameters
    ----------
    etas : sequence of float, default=(0.3, 0.1, 0.03, 0.01, 0.003)
        At least two neuron sizes ``η > 0``, one pair each (per seed).
    dim : int, default=2
        Input dimension, in ``[2, 64]``.
    seeds : int, default=1
        Number of directions ``u`` (seeds ``0 … seeds − 1``), in ``[1, 1000]``.
    alpha : float, default=0.5
        Exponent of the ratio ``dist / |dR|^α``.

    Returns
    -------
    FamilyMeasurement
        Named ``restricted:flipped``, ``t = η``; its balanced ratio is ``√2`` at every scale.

    See Also
    --------
    flipped_pair, stability_constant

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3
           (the exponent ``α = 1/2`` and the constant ``s``, here bounded below by ``√2``).
    """
    seeds = check_int("seeds", seeds, minimum=1, maximum=1000)
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
    if isinstance(etas, (str, bytes)) or not hasattr(etas, "__len__") or len(etas) < 2:
        raise ValidationError(f"`etas` must be a sequence of at least 2 positive floats; got "
                              f"{etas!r}.")
    _check_budget(len(etas) * seeds, "etas × seeds", dim)
    pairs, ts, groups = [], [], []
    for s in range(seeds):
        for eta in etas:
            pairs.append(flipped_pair(eta, dim=dim, seed=s))
            ts.append(eta)
            groups.append(s)
    reason = ("a tiny balanced neuron with its output sign flipped: |dR| = 2η², nearest "
              "balanced parametrization at 2η, ratio √2 at every scale")
    out = _measure("restricted:flipped", pairs, ts, reason, alpha, groups)
    return out


def _random_restricted(rng, dim, width):
    A = np.stack([_unit_c3(rng, dim) for _ in range(width)])
    size = np.exp(rng.uniform(np.log(1e-3), np.log(1.0), size=width))   # all scales
    A = _round_bits(A * size[:, None])
    C = rng.choice([-1.0, 1.0], size=(width, 1)) * np.linalg.norm(A, axis=1, keepdims=True)
    return A, C


def search_constant(n_pairs=40, *, dim=2, width=2, seed=0, alpha=THEOREM_3_3_EXPONENT):
    """Seeded random search for the largest ratio inside the restricted space.

    Each pair is two independent random restricted networks (C.1–C.3) whose neurons have
    sizes log-uniform in ``[1e-3, 1]`` and random output signs, and half of the pairs share the
    weight directions of ``Θ`` (same hyperplanes, sizes and signs redrawn), where the theorem's
    matched case applies.

    Parameters
    ----------
    n_pairs : int, default=40
        Number of pairs, ``≥ 2``.
    dim : int, default=2
        Input dimension, in ``[2, 8]``.
    width : int, default=2
        Neurons per network, in ``[1, 64]``.
    seed : int, default=0
        Seed of the random pairs.
    alpha : float, default=0.5
        Exponent of the ratio ``dist / |dR|^α``.

    Returns
    -------
    FamilyMeasurement
        Named ``restricted:search``; ``t = 1`` for every pair (independent pairs).

    See Also
    --------
    stability_constant, adversarial_constant

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3
           (inverse stability on the restricted space, conditions C.1–C.3) and its proof
           (Appendix A.3.2, the matched case).
    """
    n_pairs = check_int("n_pairs", n_pairs, minimum=2)
    dim = check_int("dim", dim, minimum=2, maximum=8)
    width = check_int("width", width, minimum=1, maximum=64)
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
    _check_budget(n_pairs, "n_pairs", dim)
    rng = np.random.default_rng(check_seed("seed", seed))
    pairs = []
    for k in range(n_pairs):
        A, C = _random_restricted(rng, dim, width)
        A2, C2 = _random_restricted(rng, dim, width)
        if k % 2:                                   # same hyperplanes, new sizes and signs
            scale = _round_bits(np.exp(rng.uniform(np.log(1e-2), np.log(1e2), size=width)))
            A2 = A * scale[:, None]                 # 24-bit × 24-bit: exact, the same rays
            C2 = rng.choice([-1.0, 1.0], size=(width, 1)) * np.linalg.norm(A2, axis=1,
                                                                           keepdims=True)
        pairs.append((form_network(A, C), form_network(A2, C2)))
    reason = "random restricted pairs at all scales (half sharing Θ's hyperplanes)"
    # independent pairs: no family parameter (t = 1) and no power law across pairs
    return _measure("restricted:search", pairs, np.ones(n_pairs), reason, alpha,
                    np.arange(n_pairs))


@dataclasses.dataclass(frozen=True)
class AdversarialConstant:
    """Result of :func:`adversarial_constant`: the largest ratio a seeded hill climb found.

    Attributes
    ----------
    constant : float
        Largest ``dist / |dR|^{1/2}`` over balanced parametrizations found.
    exact : bool
        The balanced parameter distance of the best pair is the exact distance over ``P`` (the
        restricted parametrization of ``R(Γ)`` is unique up to permutation, or Lemma A.3), and
        ``|dR|`` is exact; then no ``s`` below ``constant`` can make Theorem 3.3 hold for this
        width (up to the float64 rounding of the distance).
    per_restart : tuple of float
    theta, gamma : Network
        The best pair.
    sobolev, parameter : float
    stated_constant : float
    """

    constant: float
    exact: bool
    per_restart: tuple
    theta: object
    gamma: object
    sobolev: float
    parameter: float
    stated_constant: float = THEOREM_3_3_CONSTANT

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"adversarial search (hill climb, {len(self.per_restart)} restarts): largest "
                f"dist/|dR|^1/2 = {self.constant:.4g} ({'exact' if self.exact else 'upper bound'}; "
                f"|dR| = {self.sobolev:.4g}, dist = {self.parameter:.4g}), "
                f"{'within' if self.constant <= self.stated_constant else 'ABOVE'} "
                f"s = {self.stated_constant:.3g} (the matched case alone, s = "
                f"{MATCHED_CASE_CONSTANT:g}: {'within' if self.constant <= MATCHED_CASE_CONSTANT else 'refuted'})")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        nets = {}
        for name, net in (("theta", self.theta), ("gamma", self.gamma)):
            W1, W2 = net.weights
            nets[name] = {"A": np.asarray(W1).tolist(), "C": np.asarray(W2).T.tolist()}
        return {"constant": self.constant, "exact": self.exact,
                "per_restart": list(self.per_restart), "sobolev": self.sobolev,
                "parameter": self.parameter, "stated_constant": self.stated_constant, **nets}


def _adversarial_pair(x, width):
    w = width
    ang = 0.02 + (np.pi / 2 - 0.04) / (1.0 + np.exp(-x[:2 * w]))     # C.3: open quadrant
    size = np.exp(np.clip(x[2 * w:4 * w], -8.0, 0.0))
    sg = np.where(x[4 * w:6 * w] >= 0, 1.0, -1.0)
    U = _round_bits(np.stack([np.cos(ang), np.sin(ang)], axis=1))
    A = U * _round_bits(size)[:, None]                                 # exact rays
    C = sg[:, None] * np.linalg.norm(A, axis=1, keepdims=True)
    return form_network(A[:w], C[:w]), form_network(A[w:], C[w:])


def _unique_in_p(A, C):
    """Is every restricted parametrization of ``R(A, C)`` (same width) a permutation of it?

    True when every neuron has non-zero output, its last two weight coordinates are positive
    (C.3, exact comparison of floats with 0) and the rays are pairwise distinct (exact keys): then
    ``R`` has one kink line per neuron, a restricted ``Φ`` of the same width has one neuron on
    each, on the ray C.3 allows, with the jump fixing ``c a^T`` and C.1 the scale.
    """
    from ._exact import ray_key

    if A.shape[1] < 2 or np.any(A[:, -2:] <= 0) or np.any(np.all(C == 0, axis=1)):
        return False
    keys = [ray_key(a)[0] for a in A]
    return len(set(keys)) == len(keys)


def adversarial_constant(*, width=2, restarts=4, iterations=150, seed=0):
    """Seeded hill climb for the largest inverse-stability ratio inside the restricted space.

    Pairs of restricted networks in the plane (directions in the open positive quadrant, sizes in
    ``[e^-8, 1]``, output signs free, balanced, 24-bit weights so that rays are exact) are
    perturbed coordinate-wise (step 0.3, then 0.05), keeping a move when the ratio
    ``dist / |dR|_{W^{1,∞}}^{1/2}`` (balanced parametrizations) does not decrease.

    Parameters
    ----------
    width : int, default=2
        Neurons per network, in ``[1, 8]``.
    restarts : int, default=4
        Independent hill climbs from random starts.
    iterations : int, default=150
        Moves per restart (each costs one exact ``W^{1,∞}`` distance and one parameter distance).
    seed : int, default=0
        Seed of the starts and the moves.

    Returns
    -------
    AdversarialConstant
        The largest ratio found, whether its parameter distance is exact, the best ratio of each
        restart and the pair that attains it.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Theorem 3.3.
    """
    from ._exact import exact_rank
    from .distance import sobolev_distance
    from .stability import parameter_distance

    width = check_int("width", width, minimum=1, maximum=8)
    restarts = check_int("restarts", restarts, minimum=1, maximum=1000)
    iterations = check_int("iterations", iterations, minimum=1, maximum=100_000)
    _check_budget(restarts * (iterations + 1), "restarts × iterations")
    rng = np.random.default_rng(check_seed("seed", seed))
    n = 6 * width

    def ratio(x):
        t, g = _adversarial_pair(x, width)
        s = sobolev_distance(t, g).value
        if s == 0:
            return 0.0, (t, g, s, 0.0, True)
        p = parameter_distance(t, g)
        # exact over P: Γ is in P with distinct rays (24-bit, exact) and non-zero outputs, so
        # every Φ ∈ P with R(Φ) = R(Γ) and Γ's width is a permutation of Γ (one neuron per kink
        # line, C.3 fixes its orientation, C.1 its scale); Lemma A.3 covers independent vectors
        A = np.asarray(g.weights[0])
        unique = _unique_in_p(A, np.asarray(g.weights[1]).T)
        lemma = unique or bool(np.all(np.asarray(g.weights[1]) != 0)
                               and exact_rank(A) == len(A))
        return p.value_balanced / np.sqrt(s), (t, g, s, p.value_balanced, lemma)

    best, best_info, per = -1.0, None, []
    for _ in range(restarts):
        x = rng.normal(size=n)
        f, info = ratio(x)
        for it in range(iterations):
            step = 0.3 if it < iterations // 2 else 0.05
            y = x + step * rng.normal(size=n) * (rng.random(n) < 0.4)
            fy, iy = ratio(y)
            if fy >= f:
                x, f, info = y, fy, iy
        per.append(float(f))
        if f > best:
            best, best_info = f, info
    t, g, s, p, ex = best_info
    return AdversarialConstant(constant=float(best), exact=bool(ex), per_restart=tuple(per),
                               theta=t, gamma=g, sobolev=float(s), parameter=float(p))


def matched_case_counterexample():
    """The exact restricted pair with ratio 2.10 (> 2, the matched-case reading of Theorem 3.3).

    Found by ``adversarial_constant(width=3, restarts=4, iterations=300, seed=3)`` and stored
    with its float64 weights: three balanced neurons in the open positive quadrant each (C.1–C.3
    hold), ``|R(Γ) − R(Θ)|_{W^{1,∞}} = 0.5105`` (exact), and the restricted parametrization of
    ``R(Γ)`` is unique up to permutation, so the distance over ``P``, 1.5011, is exact:
    ``1.5011 / 0.5105^{1/2} = 2.1009``. Within ``2√2``, the constant the proof's case bounds give.

    Returns
    -------
    (Network, Network)
        ``(Θ, Γ)``.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Theorem 3.3 and its proof (Appendix A.3.2).
    """
    At = [[0.03351006662928313, 0.5049500365368687],
          [0.6927579883450292, 0.1749533438257611],
          [0.17524071819763165, 0.46946844597729154]]
    Ct = [[-0.5060607314977956], [-0.7145084344720268], [-0.501108701862934]]
    Ag = [[0.9081539511680603, 0.41863641142845154],
          [0.8248522877693176, 0.5653483271598816],
          [0.5384101850050769, 0.7925820237262116]]
    Cg = [[-1.0000000219979255], [1.0000000138303768], [-0.9581606293576971]]
    return form_network(At, Ct), form_network(Ag, Cg)


def _convention_ratios(theta, gamma):
    """The ratio ``dist / |dR|^{1/2}`` of one pair under the norm conventions the paper may use.

    Our text of the paper has no formulas, so the norms of Definition 1.1 and Theorem 3.3 are
    not confirmed (docs/guide/berner.md, "Sources"). This measures how much the choice moves a
    constant: the ``W^{1,∞}`` semi-norm with the Euclidean gradient norm (ours) or the largest
    partial derivative (``max_k ||∂_k g||_{L^∞}``, the textbook ``W^{1,∞}`` semi-norm), and the
    distance over balanced ``Φ ∈ P`` (what Definition 1.1 asks for) or over all
    parametrizations. The parameter distance is the max-entry norm throughout. Measurements,
    not verdicts: the ``ℓ∞`` gradient norm is the float maximum over the exactly enumerated
    regions.
    """
    from ._form import pair_forms
    from .distance import linear_regions, sobolev_distance
    from .stability import parameter_distance

    ft, fg = pair_forms(theta, gamma, None)
    _, J = linear_regions(np.concatenate([fg.A, ft.A]), np.concatenate([fg.C, -ft.C]))
    J = J.reshape(len(J), -1)
    d2 = sobolev_distance(theta, gamma).value
    dinf = float(np.abs(J).max())
    p = parameter_distance(theta, gamma)
    return {"sobolev_l2": d2, "sobolev_linf": dinf, "parameter_balanced": p.value_balanced,
            "parameter_any": p.value,
            "ratio_l2_balanced": p.value_balanced / d2 ** 0.5,
            "ratio_linf_balanced": p.value_balanced / dinf ** 0.5,
            "ratio_l2_any": p.value / d2 ** 0.5,
            "ratio_linf_any": p.value / dinf ** 0.5}
