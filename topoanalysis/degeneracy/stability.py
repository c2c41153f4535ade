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
from fractions import Fraction

import numpy as np

from .._validation import check_choice, check_float, check_int, check_seed, renamed_kwargs
from ..exceptions import ResourceError, ValidationError
from ..network import Network
from ._form import form_network, pair_forms
from .distance import Ball, sobolev_distance, uniform_distance

__all__ = ["ParameterDistance", "parameter_distance", "StabilityMeasurement",
           "inverse_stability", "FAMILIES", "CounterexamplePair", "counterexample",
           "FamilyMeasurement", "measure_family", "restricted_pair", "measure_restricted",
           "fit_exponent", "RESTRICTED_KINDS", "kink_lower_bound"]


# --- parameter distance ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ParameterDistance:
    """``min |Θ − Γ'|_∞`` over parametrizations ``Γ'`` of ``R(Γ)``: value, bound, proof.

    Attributes
    ----------
    value : float
        Upper bound: the best parametrization found (permutations, rescalings of every
        neuron, zero-neuron reshaping, and the exactly merged form of ``Γ``).
    value_balanced : float
        With ``Γ`` balanced (``||w|| = ||a||``), the restricted space's representative.
    assignment : list of (int, int)
        ``(i, j)``: neuron ``i`` of ``Θ`` matched to neuron ``j`` of ``Γ`` (``-1``: an added
        zero neuron, when the widths differ; ``-2 - k``: merged neuron ``k`` of the reduced
        ``Γ``).
    exact : bool
        ``value`` is the distance: by Lemma A.3 (equal widths, ``Γ``'s outputs non-zero and
        its weight vectors linearly independent — rank decided in rationals), or because
        ``R(Θ) = R(Γ)`` exactly (decided in rationals; then ``value = lower = 0``). When the
        certified ``lower`` bound meets ``value`` within 8 ulp (a float parametrization), the
        distance is pinned to ``[lower, value]`` but ``exact`` is False (certificate
        ``"sandwich"``).
    widths : tuple of int
    lower : float
        Certified lower bound over *all* parametrizations of ``R(Γ)`` of that width: every
        hyperplane on which ``R(Γ)`` has a kink (decided exactly) carries a neuron of ``Γ'``,
        so distinct neurons of ``Θ`` are matched to the kink lines and each costs at least its
        ``∞``-distance to the line (a bottleneck matching).
    certificate : str
        What proves ``exact`` (or why only bounds are given).
    """

    value: float
    value_balanced: float
    assignment: list
    exact: bool
    widths: tuple
    lower: float = 0.0
    certificate: str = ""

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        how = (self.certificate if self.exact else
               f"in [{self.lower:.6g}, {self.value:.6g}]: certified lower bound (kink lines), "
               "upper bound over permutation, rescaling and re-pairing tried")
        return (f"parameter distance |Θ − Γ'|_inf = {self.value:.6g} (balanced Γ: "
                f"{self.value_balanced:.6g}; widths {self.widths[0]} vs {self.widths[1]}; "
                f"{'exact: ' if self.exact else ''}{how})")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"value": self.value, "value_balanced": self.value_balanced,
                "assignment": [list(p) for p in self.assignment], "exact": self.exact,
                "widths": list(self.widths), "lower": self.lower,
                "certificate": self.certificate}


def _line_distance(a, n):
    """``min_μ ||a − μ n||_∞`` exactly (rationals): a 1-D Chebyshev problem.

    The objective is convex and piecewise linear in ``μ``; its minimum sits where one term
    vanishes or two terms ``±(a_k − μ n_k)`` cross, so the candidates ``a_k/n_k``,
    ``(a_k ∓ a_l)/(n_k ∓ n_l)`` contain a minimizer. ``a`` and ``n`` are sequences of
    ``flint.fmpq`` (or anything with exact field operations).
    """
    zero = a[0] - a[0]
    cand = [zero]
    D = len(a)
    for k in range(D):
        if n[k] != 0:
            cand.append(a[k] / n[k])
        for l in range(k + 1, D):
            if n[k] != n[l]:
                cand.append((a[k] - a[l]) / (n[k] - n[l]))
            if n[k] != -n[l]:
                cand.append((a[k] + a[l]) / (n[k] + n[l]))
    return min(max(abs(x - mu * y) for x, y in zip(a, n)) for mu in cand)


def _finite_key_f(key):
    try:
        return all(np.isfinite(float(x)) for x in key)
    except OverflowError:
        return False


def _line_distances_float(A, N):
    """Float ``min_μ ||a_i − μ n_j||_∞`` for all pairs (same candidates as the exact one)."""
    A = np.asarray(A, float)
    m, D = A.shape
    L = len(N)
    cand = [np.zeros((m, L))]
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(D):
            cand.append(A[:, None, k] / N[None, :, k])
            for l in range(k + 1, D):
                cand.append((A[:, None, k] - A[:, None, l]) / (N[None, :, k] - N[None, :, l]))
                cand.append((A[:, None, k] + A[:, None, l]) / (N[None, :, k] + N[None, :, l]))
        mu = np.stack(cand, axis=-1)                                  # (m, L, K)
        mu = np.where(np.isfinite(mu), mu, 0.0)
        dev = np.abs(A[:, None, None, :] - mu[..., None] * N[None, :, None, :]).max(axis=-1)
    return dev.min(axis=-1)


def _fmpq(x):
    import flint
    from fractions import Fraction

    q = x if isinstance(x, Fraction) else Fraction(float(x))
    return flint.fmpq(q.numerator, q.denominator)


def _round_down(q):
    f = float(q)
    return float(np.nextafter(f, -np.inf)) if f > 0 and type(q)(f) > q else f


def kink_lower_bound(theta_A, gamma_A, gamma_C):
    """Certified lower bound on ``min |Θ − Γ'|_∞`` over all parametrizations of ``R(Γ)``.

    ``R(Γ)`` is non-differentiable exactly on the hyperplanes of its kink lines (grouped in
    rational arithmetic: a line whose two sides' contributions differ). A realization
    ``Σ c'_k ρ(⟨w'_k, x⟩)`` is differentiable off ``∪ w'^⊥_k``, so every kink line ``L``
    carries a neuron of ``Γ'`` with ``w' ∈ L``; neurons on distinct lines are distinct, so an
    injective map kink lines → neurons of ``Θ`` exists with cost
    ``|Θ − Γ'|_∞ ≥ max_L ||a_{i(L)} − w'_L||_∞ ≥ max_L dist_∞(a_{i(L)}, L)``. The minimum over
    injective maps (a bottleneck matching) is the bound; ``inf`` when there are more kink
    lines than neurons. The distances to the lines are exact rationals (rounded down).

    Parameters
    ----------
    theta_A : ndarray of shape (m, D)
        Weight vectors of ``Θ`` (rows).
    gamma_A : ndarray of shape (M, D)
        Weight vectors of ``Γ``.
    gamma_C : ndarray of shape (M, e)
        Output vectors of ``Γ``.

    Returns
    -------
    float
        The lower bound (``0.0`` when ``R(Γ)`` has no kink, ``inf`` when it has more kink
        lines than ``Θ`` has neurons).

    See Also
    --------
    topoanalysis.degeneracy.distance.hyperplane_groups

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: inverse
           stability of the realization map, Section 2 (its failure) and the distance
           ``|Θ − Γ|_∞`` to the parametrizations of ``R(Γ)``.
    """
    from .distance import hyperplane_groups

    groups = hyperplane_groups(gamma_A, gamma_C)
    L = len(groups.normals)
    m = len(theta_A)
    if L == 0:
        return 0.0
    if L > m:
        return float("inf")
    # float filter: all costs in float64 (candidates vectorized), the bottleneck T_f; only
    # costs within δ of T_f can change the exact bottleneck and are recomputed in rationals
    N = np.array([[float(x) for x in k] for k in groups.keys]) if all(
        _finite_key_f(k) for k in groups.keys) else groups.normals
    N = N / np.abs(N).max(axis=1, keepdims=True)
    F = np.zeros((m, m))
    F[:, :L] = _line_distances_float(theta_A, N)
    T_f, _, _ = _bottleneck(F)
    delta = 1e-9 * (float(np.abs(theta_A).max(initial=0.0)) + T_f) + 1e-300
    band = np.abs(F[:, :L] - T_f) <= delta
    lines = [[_fmpq(x) for x in k] for k in groups.keys]
    exact = {}
    for i, j in zip(*np.nonzero(band)):
        exact[i, j] = _line_distance([_fmpq(x) for x in theta_A[i]], lines[j])
    values = sorted(set(exact.values()))
    rank = {v: k + 1 for k, v in enumerate(values)}
    ranks = np.where(F[:, :L] < T_f, 0.0, len(values) + 1.0)
    ranks = np.concatenate([ranks, np.zeros((m, m - L))], axis=1)
    for (i, j), q in exact.items():
        ranks[i, j] = rank[q]
    _, r, c = _bottleneck(ranks)
    if not exact:
        return max(0.0, T_f - delta)
    q = max((exact[i, j] for i, j in zip(r, c) if (i, j) in exact), default=None)
    if q is None:
        return max(0.0, T_f - delta)
    return _round_down(Fraction(int(q.p), int(q.q)))


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
         (np.linalg.norm(Cg, axis=1) <= zero_tol * scale) | \
         ~np.any(Ag != 0, axis=1) | ~np.any(Cg != 0, axis=1)
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


def _same_realization(fa, fb):
    """``R(fa) = R(fb)`` on the whole augmented space, decided in rational arithmetic.

    The difference ``Σ c_k ρ(⟨a_k, z⟩) − Σ c'_k ρ(⟨a'_k, z⟩)`` is grouped by exact lines
    (:func:`~topoanalysis.degeneracy.distance.hyperplane_groups`); kinks on distinct lines
    cannot cancel, so it vanishes iff no line is a kink and the remaining linear part is 0.
    """
    from .distance import hyperplane_groups

    V = np.concatenate([fa.A, fb.A])
    S = np.concatenate([fa.C, -fb.C])
    if not np.any(V != 0):
        return True
    g = hyperplane_groups(V, S)
    return len(g.normals) == 0 and all(x == 0 for row in g.const_q for x in row)


def _reduced(form):
    """``Γ`` with redundant neurons merged and cancelled ones dropped, decided exactly."""
    from .canonical import exact_merge

    keep = np.any(form.A != 0, axis=1) & np.any(form.C != 0, axis=1)
    if not keep.any():
        return form.A[:0], form.C[:0]
    A, C, _ = exact_merge(form.A[keep], form.C[keep])
    return A, C


def _scaled_pair(net_a, net_b, reparametrizations):
    """``(s, sΘ, sΓ, s·reparametrizations)`` when the parameters are beyond 1e±100 (else None).

    ``s`` is a power of two bringing the largest entry to unit size; parameters spanning more
    than 1e280 in magnitude (which would underflow) are refused in one line.
    """
    from .._validation import power_of_two_scale

    nets = [net_a, net_b, *reparametrizations]
    for k, other in enumerate(reparametrizations):
        if not isinstance(other, Network):
            raise ValidationError(f"`reparametrizations[{k}]` must be a Network; got "
                                  f"{type(other).__name__}.")
    params = [np.abs(np.asarray(n.params, dtype=np.float64)) for n in nets]
    big = max(float(p.max(initial=0.0)) for p in params)
    if big == 0 or 1e-100 <= big <= 1e100:
        return None
    s = power_of_two_scale(*params)
    small = min(float(p[p > 0].min(initial=np.inf)) for p in params)
    if small * s < 1e-280:
        raise ValidationError(f"`net_a`/`net_b` must have non-zero parameters within a factor "
                              f"1e280 of each other for a float64 distance; got sizes from "
                              f"{small:.3g} to {big:.3g}.")
    scaled = [Network(n.arch, np.asarray(n.params) * s) for n in nets]
    return s, scaled[0], scaled[1], scaled[2:]


@renamed_kwargs(theta="net_a", gamma="net_b")
def parameter_distance(net_a, net_b, *, augment=None, zero_tol=0.0, reduce=True,
                       reparametrizations=(), certify="exact"):
    """Parameter distance from ``Θ`` to the parametrizations of ``R(Γ)`` (module docstring).

    Parameters
    ----------
    net_a, net_b : Network
        ``Θ`` and ``Γ`` (formerly the keywords ``theta``, ``gamma``): shallow ReLU networks
        with the same input/output dimensions (widths may differ: the narrower one is padded
        with zero neurons).
    augment : {"none", "bias", "c3"} or None
        Parameters compared in the bias-free form with this input augmentation.
    zero_tol : float, default=0.0
        ``0``: a neuron of ``Γ`` is a zero neuron (free to reshape) iff ``w = 0`` or ``a = 0``
        exactly. A positive value is a modelling choice (relative size below which a neuron
        counts as zero); the result is then not exact.
    reduce : bool, default=True
        Also try ``Γ`` with its redundant neurons merged and the cancelled ones removed
        (decided exactly: another parametrization of ``R(Γ)``) and keep the smaller distance;
        and ``Θ`` itself when ``R(Θ) = R(Γ)`` exactly (distance 0). ``False``: only the
        symmetry orbit of ``Γ`` and ``reparametrizations``.
    reparametrizations : sequence of Network, default=()
        Further known parametrizations of ``R(Γ)`` (e.g. re-pairings of opposite neurons,
        Lemma A.5); the smallest distance over all is the upper bound ``value``.
    certify : {"exact"}, default="exact"
        Decisions (zero neurons, merging, rank, kink lines) in rational arithmetic.

    Returns
    -------
    ParameterDistance
        The upper bound ``value`` (best parametrization found), the balanced value, the neuron
        assignment, a lower bound and whether it is exact.

    See Also
    --------
    sobolev_distance, inverse_stability

    Notes
    -----
    ``value`` is an upper bound attained by an explicit parametrization (rescalings found by
    golden-section search on ``log α``, converged to 1e-25). ``lower`` is the kink-line bound
    of :func:`kink_lower_bound`. ``exact`` holds by Lemma A.3 or when the two meet.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Lemma A.3 (uniqueness for linearly independent
    weight vectors) and Section 2 (why re-pairing opposite neurons matters, Lemma A.5).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 0.5]]])
    >>> moved = net.rescale_neurons([3.0, 0.25]).permute_neurons([1, 0])
    >>> d = parameter_distance(net, moved)
    >>> d.value < 1e-9, d.exact
    (True, True)
    """
    zero_tol = check_float("zero_tol", zero_tol, minimum=0.0, maximum=0.5)
    certify = check_choice("certify", certify, ("exact",))
    from .canonical import _check_finite_params
    from ._exact import exact_rank

    _check_finite_params(net_a, "net_a")
    _check_finite_params(net_b, "net_b")
    scaled = _scaled_pair(net_a, net_b, reparametrizations)
    if scaled is not None:
        # the distance is scale-covariant: Θ, Γ ↦ sΘ, sΓ maps parametrizations of R(Γ) onto
        # those of R(sΓ) = s²R(Γ), so d(sΘ, sΓ) = s d(Θ, Γ); s a power of two keeps it exact
        s, a, b, reps = scaled
        res = parameter_distance(a, b, augment=augment, zero_tol=zero_tol, reduce=reduce,
                                 reparametrizations=reps, certify=certify)
        return dataclasses.replace(res, value=res.value / s,
                                   value_balanced=res.value_balanced / s, lower=res.lower / s)
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
    for k, other in enumerate(reparametrizations):
        ft2, fo = pair_forms(net_a, other, augment)
        if fo.width != fg.width:
            raise ValidationError(f"`reparametrizations[{k}]` must have the width of `net_b` "
                                  f"({fg.width}); got {fo.width}.")
        opt_o, bal_o, _ = _cost_matrices(ft2.A, ft2.C, fo.A, fo.C, zero_tol)
        v_o, r_o, c_o = _bottleneck(opt_o)
        if v_o < value:
            value = v_o
            assignment = [(int(i) if i < wt else -1, int(j)) for i, j in zip(r_o, c_o)]
        value_bal = min(value_bal, _bottleneck(bal_o)[0])
    m = max(wt, wg)
    At = np.concatenate([ft.A, np.zeros((m - wt, ft.A.shape[1]))]) if wt < m else ft.A
    lower = min(value, kink_lower_bound(At, fg.A, fg.C))
    independent = bool(wt == wg and zero_tol == 0 and np.all(np.any(fg.C != 0, axis=1))
                       and exact_rank(fg.A) == wg)
    if reduce and _same_realization(ft, fg):
        # Θ itself (padded with zero neurons) is a parametrization of R(Γ): the distance is 0
        value, lower, exact = 0.0, 0.0, zero_tol == 0
        cert = ("R(Θ) = R(Γ) exactly (every hyperplane of the difference is no kink and its "
                "linear part vanishes, in rationals): Θ is a parametrization of R(Γ)")
    elif independent:
        exact, lower = True, value
        cert = ("Lemma A.3: Γ's weight vectors are linearly independent (rank in rationals) "
                "and its outputs non-zero, so every parametrization of R(Γ) is a permutation "
                "and rescaling of Γ")
    elif zero_tol == 0 and value <= lower + 8 * np.finfo(float).eps * value:
        # pinned, not proven: the explicit parametrization is a float rounding of one of R(Γ)
        exact = False
        cert = ("sandwich: the kink-line lower bound (exact rationals) is met within 8 ulp by "
                "an explicit parametrization evaluated in float64: the distance lies in "
                "[lower, value], not decided exactly")
    else:
        exact = False
        cert = ("bounds only: Γ's weight vectors are dependent (other parametrizations, e.g. "
                "re-paired opposite neurons, may be closer)" if zero_tol == 0 else
                "zero_tol > 0: a modelling choice, not exact")
    return ParameterDistance(value=float(value), value_balanced=float(value_bal),
                             assignment=assignment, exact=exact, widths=(wt, wg),
                             lower=float(lower), certificate=cert)


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
        """``dist / ||R(Γ) − R(Θ)||_∞^α`` on the domain (None without a domain; like
        :attr:`ratio`, 0 when both vanish and inf when only the function distance does)."""
        if self.uniform is None:
            return None
        f = self.uniform.value
        return float(self.parameter.value / f ** self.alpha) if f > 0 else (
            0.0 if self.parameter.value == 0 else float("inf"))

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [self.parameter.summary(), self.sobolev.summary()]
        if self.uniform is not None:
            lines.append(self.uniform.summary())
        def text(r):
            return f"{r:.6g}" if np.isfinite(r) else "unbounded (|dR| = 0 but dist > 0)"

        lines.append(f"ratio dist / |dR|_W1inf^{self.alpha:g} = {text(self.ratio)}"
                     + (f"; with the uniform norm {text(self.ratio_uniform)}"
                        if self.uniform is not None else ""))
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
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
        The parameter distance, the ``W^{1,∞}`` (and uniform) distance and the
        inverse-stability ratios.

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
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
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
    reparametrizations: tuple = ()

    def to_dict(self):
        """Plain data: family, ``t``, the reason and both networks (architecture, params).

        Returns
        -------
        dict
            Plain JSON types.
        """
        return {"family": self.family, "t": self.t, "reason": self.reason,
                **{k: {"architecture": n.arch.to_dict(), "params": n.params.tolist()}
                   for k, n in (("theta", self.theta), ("gamma", self.gamma))}}

    def summary(self):
        """One line: the family, ``t`` and why it is a counterexample.

        Returns
        -------
        str
            The report.
        """
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


def _repaired(t, gamma_lin):
    """Lemma A.5 re-pairing: ``R = ρ(⟨u,x⟩)/t² + (γ + 1/2)(x1 + x2)`` close to ``Θ``.

    Six neurons matched one to one with ``Θ``'s: the ``e1`` pair moves to the line of
    ``u ∝ (1, −1)`` (weights ``±(1/2, −1/2)``, cost 1/2 each), ``e2`` stays, and the third
    pair carries the linear part ``γ (x1 + x2)``.
    """
    k = 1.0 / (_S * np.sqrt(2.0))                 # third pair's weight scale (cost ≤ 0.35)
    c = gamma_lin / k
    A = [[0.5, -0.5], [-0.5, 0.5], [0, 1], [0, -1], [k, k], [-k, -k]]
    C = [[1.0 + np.sqrt(2.0) / t ** 2], [-1.0], [1], [-1], [c], [-c]]
    return _net(A, C)


def _opposite(t):
    A, C = _pairs(1.0)
    theta = _net(A, C)                                    # realizes 0 with six unit neurons
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    gamma = _net([u / t] + [[0.0, 0.0]] * 5, [[1.0 / t]] + [[0.0]] * 5)
    return theta, gamma, (_repaired(t, -0.5),)


def _nearly_cancelling(t):
    A, C = _pairs(1.0 + 1.0 / t)
    theta = _net(A, C)                                    # realizes −(x1 + x2)/t
    s = (np.sqrt(2) / t) ** 0.5                           # balanced pair for −(1,1)·x/t
    v = -np.array([1.0, 1.0]) / np.sqrt(2)
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    gamma = _net([v * s, -v * s, u / t, [0, 0], [0, 0], [0, 0]],
                 [[s], [-s], [1.0 / t], [0], [0], [0]])
    return theta, gamma, (_repaired(t, -0.5 - 1.0 / t),)


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
                 "u ∝ (1,−1). R(Γ_t) has a kink on u^⊥, so every parametrization puts a neuron "
                 "w ∈ span(u) and the neuron of Θ matched to it is at ∞-distance ≥ "
                 "min_i dist_∞(a_i, span u) = 1/2 (from ±e1, ±e2): distance ≥ 1/2. Re-pairing "
                 "(Lemma A.5: move the e1 pair onto u's line, let the third pair carry the "
                 "linear part) attains max(1/2, √2/t²): the distance is exactly 1/2 for "
                 "t ≥ 2^(3/4) (ratio t/2, unbounded), not the ≈1 of permutations alone."),
    "nearly_cancelling": (_nearly_cancelling,
                          "Θ_t: the same three pairs with the third scaled by 1 + 1/t, so the "
                          "linear parts nearly cancel (R(Θ_t) = −(x1+x2)/t); Γ_t adds the kink "
                          "ρ(⟨u,x⟩)/t². Function distance 1/t²; parameter distance exactly 1/2 "
                          "for t ≥ 2^(3/4) by the same kink-line bound and re-pairing as "
                          "'opposite' (ratio t/2, unbounded)."),
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
        A key of :data:`FAMILIES`.
    t : float
        Parameter of the family, ``1 <= t <= 1e50``.

    Returns
    -------
    CounterexamplePair
        ``theta``, ``gamma`` (networks), the family's ``reason`` and known
        reparametrizations.

    See Also
    --------
    FAMILIES, measure_family

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2 (the
           counterexamples to inverse stability: unbalanced, redundant and opposite neurons,
           nearly cancelling pairs).
    """
    family = check_choice("family", family, tuple(FAMILIES))
    t = check_float("t", t, minimum=1.0, maximum=1e50)
    maker, reason = FAMILIES[family]
    made = maker(t)
    theta, gamma = made[0], made[1]
    rep = tuple(made[2]) if len(made) > 2 else ()
    return CounterexamplePair(family=family, t=t, theta=theta, gamma=gamma, reason=reason,
                              reparametrizations=rep)


def fit_exponent(function_distance, parameter_distance, groups=None):
    """Least-squares slope of ``log dist`` against ``log |dR|`` (within runs) and local slopes.

    Parameters
    ----------
    function_distance, parameter_distance : array_like
        ``|dR|`` and the parameter distance of each pair (positive values are used).
    groups : array_like, optional
        Runs (e.g. seeds): local slopes are taken between consecutive points of one run.

    Returns
    -------
    slope : float
        ``nan`` when ``|dR|`` spans less than a decade within
        every run (then no exponent can be read off: the function distance does not shrink).
    local : ndarray
        Slopes between consecutive points (``nan`` where ``|dR|`` did not change).

    Raises
    ------
    ValidationError
        Non-finite, negative, complex or mismatched inputs, or fewer than two pairs with both
        distances positive.

    See Also
    --------
    measure_family, measure_restricted

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3: the
           exponent α = 1/2.
    """
    from .._validation import check_array

    f = check_array("function_distance", function_distance, ndim=1)
    p = check_array("parameter_distance", parameter_distance, ndim=1)
    if len(f) != len(p):
        raise ValidationError(f"`parameter_distance` must have the length of "
                              f"`function_distance` ({len(f)}); got {len(p)}.")
    if np.any(f < 0) or np.any(p < 0):
        raise ValidationError("`function_distance` and `parameter_distance` must be >= 0; got "
                              "a negative entry.")
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (len(f),) or groups.dtype.kind not in "biuU":
            raise ValidationError(f"`groups` must be {len(f)} integer or string labels; got "
                                  f"shape {groups.shape}, dtype {groups.dtype}.")
    if int(np.sum((f > 0) & (p > 0))) < 2:
        raise ValidationError("`function_distance` and `parameter_distance` must have at least "
                              "2 pairs with both distances > 0 to fit an exponent (zero "
                              f"distances have no logarithm); got {int(np.sum((f > 0) & (p > 0)))}.")
    return _fit_exponent(f, p, groups)


def _fit_exponent(f, p, groups=None):
    """:func:`fit_exponent` without validation (``nan`` when nothing can be fitted)."""
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
    parameter_lower: np.ndarray = None
    parameter_exact: np.ndarray = None

    @property
    def max_ratio(self):
        """Largest ratio ``dist / |dR|^α`` over the pairs."""
        return float(np.max(self.ratio))

    @property
    def max_ratio_balanced(self):
        """Largest ratio with ``Γ`` balanced (the restricted space's parametrization)."""
        return float(np.max(self.ratio_balanced))

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        loc = self.local_exponents[np.isfinite(self.local_exponents)]
        loc_txt = (f"local exponents {loc.min():.3f}..{loc.max():.3f}" if len(loc)
                   else "no local exponents (|dR| constant)")
        exp_txt = (f"fitted exponent {self.exponent:.3f}, {loc_txt}" if np.isfinite(self.exponent)
                   else "no exponent (|dR| spans less than a decade)")
        return (f"{self.name:26s} ratio {self.ratio[0]:.3g} -> {self.ratio[-1]:.3g} "
                f"(max {self.max_ratio:.3g}), uniform-norm ratio {self.ratio_uniform[0]:.3g} -> "
                f"{self.ratio_uniform[-1]:.3g}, {exp_txt}")

    def rows(self):
        """One CSV row per value of ``t``.

        Returns
        -------
        list of tuple
            ``(name, t, parameter distance, Sobolev distance, uniform distance, ratio, uniform
            ratio, balanced ratio, parameter lower bound, parameter exact)``.
        """
        lower = self.parameter_lower if self.parameter_lower is not None else self.parameter_distance
        ex = self.parameter_exact if self.parameter_exact is not None else [False] * len(self.t)
        return [(self.name, float(t), float(p), float(s), float(u), float(r), float(ru),
                 float(rb), float(lo), bool(x))
                for t, p, s, u, r, ru, rb, lo, x in zip(self.t, self.parameter_distance,
                                                        self.sobolev_distance,
                                                        self.uniform_distance, self.ratio,
                                                        self.ratio_uniform, self.ratio_balanced,
                                                        lower, ex)]

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"name": self.name, "t": self.t.tolist(),
                "parameter_distance": self.parameter_distance.tolist(),
                "sobolev_distance": self.sobolev_distance.tolist(),
                "uniform_distance": self.uniform_distance.tolist(),
                "ratio": self.ratio.tolist(), "ratio_uniform": self.ratio_uniform.tolist(),
                "exponent": self.exponent, "local_exponents": self.local_exponents.tolist(),
                "ratio_balanced": self.ratio_balanced.tolist(),
                "max_ratio": self.max_ratio, "max_ratio_balanced": self.max_ratio_balanced,
                "parameter_lower": (None if self.parameter_lower is None
                                    else self.parameter_lower.tolist()),
                "parameter_exact": (None if self.parameter_exact is None
                                    else [bool(x) for x in self.parameter_exact]),
                "reason": self.reason}


ROW_HEADER = ("experiment", "t", "parameter_distance", "sobolev_distance", "uniform_distance",
              "ratio", "ratio_uniform", "ratio_balanced", "parameter_lower", "parameter_exact")

#: rough cost of measuring one pair (parameter, W^{1,inf} and uniform distance), in seconds,
#: for 2-D inputs (families) and for higher dimension (branch and bound with LPs); measured on
#: a loaded 2-core machine
SECONDS_PER_PAIR = {2: 0.1, 3: 2.0}
#: most pairs one call measures (refused beyond, with the estimated time)
MAX_PAIRS = 5000
#: longest estimated run one call accepts, in seconds
MAX_SECONDS = 3600.0


def _ratio(num, den, alpha, name="alpha"):
    """``num / den**alpha`` in log space; ``inf`` where ``den = 0 < num``; refuses overflow."""
    num = np.asarray(num, float)
    den = np.asarray(den, float)
    out = np.zeros(num.shape)
    pos = (num > 0) & (den > 0)
    with np.errstate(all="ignore"):
        logs = np.log(num[pos]) - alpha * np.log(den[pos])
    if np.any(logs > np.log(np.finfo(float).max)):
        raise ValidationError(f"`{name}` must keep dist / |dR|^{name} within float64; got "
                              f"{name}={alpha!r}, which overflows the ratio.")
    out[pos] = np.exp(logs)
    out[(num > 0) & (den == 0)] = np.inf
    return out


def _measure(name, pairs, ts, reason, alpha, groups=None):
    par, parb, sob, uni, low, ex = [], [], [], [], [], []
    for pair in pairs:
        theta, gamma = pair[0], pair[1]
        reps = pair[2] if len(pair) > 2 else ()
        pd = parameter_distance(theta, gamma, reparametrizations=reps)
        par.append(pd.value)
        parb.append(pd.value_balanced)
        low.append(pd.lower)
        ex.append(pd.exact)
        sob.append(sobolev_distance(theta, gamma).value)
        d = theta.arch.inputs
        uni.append(uniform_distance(theta, gamma, Ball((0.0,) * d, 1.0)).value)
    par, sob, uni = np.array(par), np.array(sob), np.array(uni)
    ratio = _ratio(par, sob, alpha)
    ratio_u = _ratio(par, uni, alpha)
    ratio_b = _ratio(np.array(parb), sob, alpha)
    slope, local = _fit_exponent(sob, par, groups)
    return FamilyMeasurement(name=name, t=np.asarray(ts, float), parameter_distance=par,
                             sobolev_distance=sob, uniform_distance=uni, ratio=ratio,
                             ratio_uniform=ratio_u, exponent=slope, local_exponents=local,
                             reason=reason, ratio_balanced=ratio_b,
                             parameter_lower=np.array(low), parameter_exact=np.array(ex))


def _check_budget(n, what, dim=2):
    per = SECONDS_PER_PAIR[2 if dim <= 2 else 3]
    if n > MAX_PAIRS or n * per > MAX_SECONDS:
        raise ResourceError(f"`{what}` must ask for at most {min(MAX_PAIRS, int(MAX_SECONDS / per))} "
                            f"pairs (an estimated hour); got {n} (≈ {n * per:.0f} s at "
                            f"≈ {per:g} s per pair; split the sweep).")


def measure_family(family, ts=(1, 2, 4, 8, 16, 32, 64), *, alpha=0.5):
    """Ratios along a counterexample family.

    Parameters
    ----------
    family : str
        A key of :data:`FAMILIES`.
    ts : sequence of float, default=(1, 2, 4, ..., 64)
        Family parameters, each in ``[1, 1e50]``; at most :data:`MAX_PAIRS` of them.
    alpha : float, default=0.5
        Exponent of the ratio ``dist / |dR|^α``, in ``(0, 16]``.

    Returns
    -------
    FamilyMeasurement
        Parameter distance (upper bound over permutation, rescaling and the family's known
        re-pairings; ``parameter_lower`` its certified lower bound, ``parameter_exact`` where
        they meet), ``W^{1,∞}`` and uniform (unit ball) distances, ratios, fitted exponent.

    Raises
    ------
    ValidationError, ResourceError

    See Also
    --------
    counterexample, inverse_stability, fit_exponent

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Section 2 (the counterexamples), Lemma A.5.
    """
    family = check_choice("family", family, tuple(FAMILIES))
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
    if isinstance(ts, (str, bytes)) or not hasattr(ts, "__len__"):
        raise ValidationError(f"`ts` must be a sequence of floats >= 1; got {ts!r}.")
    from .._validation import check_array

    ts = check_array("ts", ts, ndim=1)            # 0-d, ragged or nested: refused here
    _check_budget(len(ts), "ts")
    ts = [check_float("ts[]", t, minimum=1.0, maximum=1e50) for t in ts]
    if len(ts) < 2:
        raise ValidationError(f"`ts` must hold at least 2 parameters; got {len(ts)}.")
    pairs = [(p.theta, p.gamma, p.reparametrizations)
             for p in (counterexample(family, t) for t in ts)]
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
    A = _round_bits(A)
    return A, np.sign(C) * np.linalg.norm(A, axis=1, keepdims=True)     # C.1 after rounding


def _round_bits(x, bits=24):
    """``x`` rounded to ``bits`` significant bits (exact float products with 24-bit scales).

    A rescaling ``A * s`` in float64 rounds each product, so the rescaled weight vector is in
    general *not* exactly parallel to ``A`` — and exactly, two hyperplanes at angle 1e-16
    still open a wedge where the gradients differ by ``|c| ||a||``. With 24-bit entries and
    24-bit scales every product is exact and the direction is kept exactly.
    """
    m, e = np.frexp(np.asarray(x, dtype=np.float64))
    return np.ldexp(np.round(m * 2.0 ** bits), e - bits)


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
        Number of hidden neurons.
    seed : int, default=0
        Seed of the random networks.

    Returns
    -------
    theta : Network
        ``Θ``, in the restricted space.
    gamma : Network
        ``Γ``, the perturbed network.

    See Also
    --------
    measure_restricted, topoanalysis.degeneracy.restricted_space_membership

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: conditions
           C.1–C.3 of the restricted space (Theorem 3.3).
    """
    kind = check_choice("kind", kind, RESTRICTED_KINDS)
    eta = check_float("eta", eta, minimum=0.0, strict_min=True, maximum=1e100)
    dim = check_int("dim", dim, minimum=2)
    width = check_int("width", width, minimum=2)
    from .._validation import check_work

    check_work("dim × width", float(dim) * width, limit=1e7, unit="weights",
               fix="use a smaller `dim` or `width`", about="80 MB")
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
    # balance Γ (C.1), with 24-bit scales so that A2 * s keeps every direction exactly
    A2 = _round_bits(A2)
    s = _round_bits(np.sqrt(np.linalg.norm(C2, axis=1) / np.linalg.norm(A2, axis=1)))
    A2 = A2 * s[:, None]
    C2 = np.sign(C2) * np.linalg.norm(A2, axis=1, keepdims=True)
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

    See Also
    --------
    restricted_pair, inverse_stability, fit_exponent

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.3 on
           pairs in the restricted space.
    """
    seeds = check_int("seeds", seeds, minimum=1)
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
    if isinstance(etas, (str, bytes)) or not hasattr(etas, "__len__"):
        raise ValidationError(f"`etas` must be a sequence of positive floats; got {etas!r}.")
    from .._validation import check_array

    etas = check_array("etas", etas, ndim=1)      # ragged or nested lists refused here
    if len(etas) == 0:
        raise ValidationError("`etas` must hold at least one perturbation size; got none.")
    dim = check_int("dim", dim, minimum=2, maximum=64)
    width = check_int("width", width, minimum=2, maximum=1000)
    _check_budget(len(etas) * seeds, "etas × seeds", dim)
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
