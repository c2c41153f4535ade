"""Escape neurons of a directional stationary point (first-order definition).

Definition (Wu, Simsek & Ged, arXiv 2402.05626, section 4). The seed text lost its formulas and
the full text was not reachable from where this was written, so the condition below is
**derived** from the paper's statements (escape neurons are defined by first-order conditions;
no escape neuron implies a local minimum, Theorem 4.2; for scalar output an escape neuron rules
one out) and proved here in the toolkit's variables; the tests check every step numerically.
At a directional stationary point
``θ`` with residuals ``r_n = ∂L/∂f(x_n)``, neuron ``k`` with
``F_k(u) = Σ_{n off} r_n ρ'(w_k·x̃_n)(u·x̃_n) + Σ_{n on} r_n ρ(u·x̃_n)``
(:func:`~topoanalysis.critical.kinks.neuron_first_order_map`) is an **escape neuron** when
there is a direction ``u`` of its input weights with

    F_k(u) != 0   and   a_k · F_k(u) = 0.

Since ``G_k(w_k + u) = G_k(w_k) + F_k(u) = F_k(u)`` for small ``u`` (``G_k`` the gradient of
the loss in ``a_k``), ``F_k(u) != 0`` says that after moving ``w_k`` by ``u`` the output weight
has a first-order descent direction, and ``a_k · F_k(u) = 0`` says the move cost nothing at
first order. For **scalar output** (``e = 1``) at a stationary point this is exactly: the
output weight is zero (``a_k = 0``) and ``F_k`` is not identically zero.

Why these decide the verdicts (derived; the tests check each statement numerically): for every
small ``δ``, ``L(θ+δ) − L(θ) = Σ_k T_k(δ) + R(Δ)`` with ``T_k = (a_k + δa_k) · F_k(δw_k)``
(exact for small ``δ``), ``Δ`` the change of the outputs and ``R(Δ) >= 0`` (``(1/Ne)||Δ||²``
for ``mse``; ``>= 0`` by convexity for ``bce``). With no escape neuron every ``T_k >= 0`` near
``θ``, so ``θ`` is a local minimum (the paper's Theorem 4.2, which its Figure 3 uses to certify
the end of training). With an escape neuron of zero output weight, ``w_k → w_k + s u``,
``a_k → −s κ F_k(u)`` lowers the loss by ``≈ s² κ ||F_k(u)||²`` for small ``κ``: a saddle,
for any output dimension (the paper's scalar-output theorem; for ``e > 1`` this toolkit's
derived extension). An escape neuron with ``a_k != 0`` exists only for ``e > 1``; there the
sign of ``L(θ+δ) − L(θ)`` is decided at second order and the verdict is undetermined.

Deciding "``F_k`` is not identically zero" is exact and polynomial: group the kink samples by
the line they span (``v_ℓ``, both orientations); ``F_k ≡ 0`` iff for every line the
coefficient of ``max(v_ℓ·u, 0)`` vanishes and the remaining linear part vanishes
(the functions ``max(v_ℓ·u, 0)`` of distinct lines are independent modulo linear functions).
The vector-output case ``a_k != 0`` is decided by one LP per sign piece of the kink samples.
"""

import dataclasses
import itertools

import numpy as np

from .._validation import check_int
from ..exceptions import NotSupportedError
from ._exact import exact_parallel
from ._point import check_tol, shallow_point
from .kinks import _first_order_map, kink_mask

__all__ = ["EscapeReport", "escape_neurons", "first_order_nonzero"]


def _lines(V):
    """Group rows of ``V`` (nonzero) into lines: returns (unit representatives, index, sign).

    Two rows share a line exactly when they are parallel in exact arithmetic
    (:func:`~topoanalysis.critical._exact.exact_parallel`): no tolerance decides it.
    """
    reps, first, index, sign = [], [], np.zeros(len(V), dtype=int), np.zeros(len(V))
    for i, v in enumerate(V):
        for j, f in enumerate(first):
            s = exact_parallel(v, V[f])
            if s:
                index[i], sign[i] = j, float(s)
                break
        else:
            reps.append(v / np.linalg.norm(v))
            first.append(i)
            index[i], sign[i] = len(reps) - 1, 1.0
    return np.array(reps).reshape(-1, V.shape[1]), index, sign


def first_order_nonzero(point, k, kinks, *, tol=1e-10, seed=0):
    """Whether ``F_k`` is not identically zero, and a direction ``u`` with ``F_k(u) != 0``.

    Returns ``(nonzero, u, ||F_k(u)||)`` with ``u`` a unit vector (None when ``F_k ≡ 0``).
    ``tol`` bounds the coefficient norms treated as zero.

    Parameters
    ----------
    point : ShallowPoint
        The network at its data (internal, from ``shallow_point``).
    k : int
        Neuron.
    kinks : ndarray of bool, shape (N, l)
        Samples on each neuron's hyperplane (:func:`kink_mask`).
    tol : float, default=1e-10
        Coefficient norms at most ``tol`` count as zero.
    seed : int, default=0
        Seed of the random directions tried.

    Returns
    -------
    nonzero : bool
        Whether ``F_k`` is not identically zero.
    u : ndarray or None
        A unit direction with ``F_k(u) != 0`` (None when ``F_k ≡ 0``).
    norm : float
        ``||F_k(u)||``.

    See Also
    --------
    escape_neurons, topoanalysis.critical.kinks.neuron_first_order_map

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           first-order conditions of escape neurons (Section 4).
    """
    r = point.residual()
    pre = point.pre[:, k]
    on = kinks[:, k]
    off = ~on
    alpha = point.alpha
    X = point.Xa
    B = (r[off] * point.slope(pre[off])[:, None]).T @ X[off] + alpha * r[on].T @ X[on]
    Xon = X[on]
    keep = np.linalg.norm(Xon, axis=1) > 0
    Xon, ron = Xon[keep], r[on][keep]
    P_list, V = [], np.zeros((0, X.shape[1]))
    if len(Xon):
        V, idx, sgn = _lines(Xon)
        norms = np.linalg.norm(Xon, axis=1)
        for j in range(len(V)):
            p = ((1 - alpha) * norms[(idx == j) & (sgn > 0)][:, None]
                 * ron[(idx == j) & (sgn > 0)]).sum(axis=0)
            q = ((1 - alpha) * norms[(idx == j) & (sgn < 0)][:, None]
                 * ron[(idx == j) & (sgn < 0)]).sum(axis=0)
            B = B - np.outer(q, V[j])
            P_list.append(p + q)
    P = np.array(P_list).reshape(-1, r.shape[1])
    kink_strength = np.linalg.norm(P, axis=1) if len(P) else np.zeros(0)
    nonzero = bool(np.linalg.norm(B) > tol or np.any(kink_strength > tol))
    if not nonzero:
        return False, None, 0.0
    # a witness direction: near the strongest kink line, along B's rows, and seeded random ones
    rng = np.random.default_rng(seed)
    cands = [row for row in B] + [-row for row in B]
    if len(P) and np.max(kink_strength) > tol:
        v = V[int(np.argmax(kink_strength))]
        for _ in range(4):
            u0 = rng.normal(size=v.size)
            u0 -= (u0 @ v) * v
            u0 /= np.linalg.norm(u0) if np.linalg.norm(u0) > 0 else 1.0
            for eps in (1.0, 0.1, 1e-2, 1e-3):
                cands += [u0 + eps * v, u0 - eps * v]
        cands += [v, -v]
    cands += list(rng.normal(size=(64, X.shape[1])))
    U = np.array([c / np.linalg.norm(c) for c in cands if np.linalg.norm(c) > 0])
    F = _first_order_map(point, k, U, on)
    norms = np.linalg.norm(F, axis=1)
    j = int(np.argmax(norms))
    return True, U[j], float(norms[j])


def _exact_first_order_nonzero(point, state, k, kinks, tol, seed=0):
    """:func:`first_order_nonzero` decided in exact rationals (``mse``).

    ``F_k ≢ 0`` is decided on the exact coefficients of
    :func:`~topoanalysis.critical._exact.exact_first_order` (``||B||² > tol²`` or
    ``||P_ℓ||² ||v_ℓ||² > tol²`` for a line, compared in rationals: with ``tol = 0`` exactly
    "not identically zero", at any scale of the data), and the witness ``u`` is proved by the
    exact value of ``F_k(u)`` (``||F_k(u)||² > tol² ||u||²``).

    Returns ``(nonzero, u, rate)`` as :func:`first_order_nonzero`; ``rate`` (a float) may
    underflow to ``0`` for data of size near ``1e-160`` and below, the decision does not.
    """
    from ._exact import exact_first_order, exact_first_order_value, fmpq, to_float, to_floats

    B, lines = exact_first_order(state, k, kinks[:, k], point.Xa)
    tq = fmpq(tol) * fmpq(tol)
    bb = sum((v * v for row in B for v in row), fmpq(0))
    strengths = [sum((p * p for p in P), fmpq(0)) * vv for _, P, vv in lines]
    if not (bb > tq or any(st > tq for st in strengths)):
        return False, None, 0.0
    D = point.Xa.shape[1]
    # witness candidates: rows of B (exactly rescaled to float size), around the strongest
    # kink line, and seeded random directions; each proved by its exact value
    flat = [v for row in B for v in row]
    Bf = to_floats(flat)[0].reshape(len(B), D) if flat else np.zeros((0, D))
    rng = np.random.default_rng(seed)
    cands = [row for row in Bf] + [-row for row in Bf]
    if lines:
        j = max(range(len(lines)), key=lambda i: strengths[i])
        v = lines[j][0] / np.max(np.abs(lines[j][0]))
        v = v / np.linalg.norm(v)
        for _ in range(4):
            u0 = rng.normal(size=D)
            u0 -= (u0 @ v) * v
            n0 = np.linalg.norm(u0)
            u0 = u0 / n0 if n0 > 0 else u0
            for eps in (1.0, 0.1, 1e-2, 1e-3):
                cands += [u0 + eps * v, u0 - eps * v]
        cands += [v, -v]
    cands += list(rng.normal(size=(64, D)))
    best = None
    for c in cands:
        nc = np.linalg.norm(c)
        if not nc > 0 or not np.all(np.isfinite(c)):
            continue
        u = c / nc
        F = exact_first_order_value(B, lines, u)
        f2 = sum((x * x for x in F), fmpq(0))
        uu = sum((fmpq(x) * fmpq(x) for x in u), fmpq(0))
        r2 = f2 / uu
        if best is None or r2 > best[0]:
            best = (r2, u)
    r2, u = best
    if not r2 > tq:            # F_k ≢ 0 is proved, but no candidate shows it above tol
        return True, u, 0.0
    return True, u, float(np.sqrt(to_float(r2)))


def _kink_split(point, k, kinks):
    """Neuron ``k``'s first-order map split at its kinks (shared with ``radius.py``).

    Returns ``(r, X, alpha, D, e, B, Xon, ron)``: residuals, augmented inputs, the leaky
    slope, the input and output dimensions, the smooth part ``B`` (``e × D``: samples off the
    hyperplane, plus ``alpha`` times those on it) and the samples on the hyperplane with their
    residuals."""
    r = point.residual()
    pre = point.pre[:, k]
    on = kinks[:, k]
    off = ~on
    X = point.Xa
    alpha = point.alpha
    D, e = X.shape[1], r.shape[1]
    B = (r[off] * point.slope(pre[off])[:, None]).T @ X[off] + alpha * r[on].T @ X[on]
    return r, X, alpha, D, e, B, X[on], r[on]


def _degenerate_direction(point, k, kinks, tol, max_pieces):
    """Vector output, ``a_k != 0``: a ``u`` with ``a_k·F_k(u) = 0`` and ``F_k(u) != 0`` (LPs)."""
    r, X, alpha, D, e, B, Xon, ron = _kink_split(point, k, kinks)
    if 2 ** len(Xon) > max_pieces:
        raise NotSupportedError(
            f"`max_pieces` ({max_pieces}) is below the 2^{len(Xon)} sign pieces of neuron {k}.")
    a = point.a[k]
    n_lps = 0
    for signs in itertools.product((1.0, -1.0), repeat=len(Xon)):
        M = B.copy()
        for s, x, rr in zip(signs, Xon, ron):
            if s > 0:
                M += (1 - alpha) * np.outer(rr, x)
        for j, sgn, res in _piece_lps(M, signs, Xon, a):
            n_lps += 1
            if res.status == 0 and -res.fun > tol:
                u = np.array(res.x)
                return u / np.linalg.norm(u), n_lps
    return None, n_lps


def _piece_lps(M, signs, V, a):
    """The LPs of one sign piece: for every output ``j`` and sign ``sgn``,
    ``max sgn·M_j·u`` subject to ``σ_ℓ v_ℓ·u >= 0`` (the piece's cone; rows of ``V``),
    ``a·M·u = 0`` and ``|u_i| <= 1`` (HiGHS). Yields ``(j, sgn, result)``."""
    from scipy.optimize import linprog

    A_ub = -(np.array(signs)[:, None] * V) if len(V) else None
    b_ub = np.zeros(len(V)) if len(V) else None
    A_eq, b_eq = (a @ M)[None, :], np.zeros(1)
    for j in range(M.shape[0]):
        for sgn in (1.0, -1.0):
            yield j, sgn, linprog(-sgn * M[j], A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq,
                                  bounds=[(-1.0, 1.0)] * M.shape[1], method="highs")


def _degenerate_direction_exact(point, state, k, kinks, tol, max_pieces):
    """:func:`_degenerate_direction` on the exact coefficients of ``F_k``.

    ``F_k ≡ 0`` is decided in rationals first (then there is no escape direction, whatever
    the rounding of the float sums). Otherwise ``F_k`` is written with one term per kink line
    (:func:`~topoanalysis.critical._exact.exact_first_order`), each sign piece's matrix is
    formed exactly and rescaled by one power of two to size about 1 (no underflow at tiny
    data scales), and the LPs run on it; an LP optimum counts when above ``tol`` (in the
    rescaled units) and above ``1e-12`` relative to the data, the LP solver's noise floor.

    When no LP finds an escape, its absence is **proved** only if every LP's answer is: the
    LP's float multipliers give the support of a dual certificate, which is solved for and
    checked in rationals (:func:`_exact_dual_bound`: ``sgn·M_j = Σ_ℓ μ_ℓ (−σ_ℓ v_ℓ) +
    ν (a_k M)`` exactly with ``μ >= 0``, so ``sgn·M_j·u <= 0`` on the piece's cone where
    ``a_k·F_k(u) = 0``), or, with ``tol > 0``, the exact weak-duality bound of the LP's
    multipliers is at most ``tol`` (:func:`_exact_weak_duality`). A float LP alone, with its
    noise floor, is not a proof.

    Returns ``(u, n_lps, rate, proved)``: a unit direction or None, the LPs solved, the exact
    ``||F_k(u)||`` as a float, and (when ``u`` is None) whether the absence of an escape
    direction was proved exactly (``True`` with a witness too).
    """
    from ._exact import (exact_first_order, exact_first_order_value, fmpq, to_float,
                         to_floats)

    B, lines = exact_first_order(state, k, kinks[:, k], point.Xa)
    if all(v == 0 for row in B for v in row) and all(p == 0 for _, P, _ in lines for p in P):
        return None, 0, 0.0, True
    L = len(lines)
    if 2 ** L > max_pieces:
        raise NotSupportedError(
            f"`max_pieces` ({max_pieces}) is below the 2^{L} sign pieces of neuron {k}.")
    e, D = len(B), point.Xa.shape[1]
    pieces = []
    for signs in itertools.product((1.0, -1.0), repeat=L):
        M = [list(row) for row in B]
        for s, (v, P, _) in zip(signs, lines):
            if s > 0:
                vq = [fmpq(x) for x in v]
                for j in range(e):
                    for i in range(D):
                        M[j][i] += P[j] * vq[i]
        pieces.append((signs, M))
    flat = [x for _, M in pieces for row in M for x in row]
    _, S = to_floats(flat)
    thr = max(to_float(fmpq(tol) * S), 1e-12)
    a = point.a[k] / np.max(np.abs(point.a[k]))
    V = np.array([v / np.max(np.abs(v)) for v, _, _ in lines]).reshape(L, D)
    n_lps = 0
    proved = True
    aq = [fmpq(x) for x in point.a[k]]
    for signs, Mq in pieces:
        M = to_floats([x for row in Mq for x in row], S)[0].reshape(e, D)
        aM = [sum((aq[j] * Mq[j][i] for j in range(e)), fmpq(0)) for i in range(D)]
        for j, sgn, res in _piece_lps(M, signs, V, a):
            n_lps += 1
            if res.status == 0 and -res.fun > thr:
                # the float LP only proposes u (HiGHS drops coefficients below 1e-9 and
                # accepts |a_k·M u| up to its feasibility tolerance): an escape is declared
                # only when an exact one is shown near it (a_k·F_k(u) = 0, F_k(u) != 0)
                wit = _exact_escape_witness(np.array(res.x), signs, lines, Mq, aM,
                                            fmpq(tol))
                if wit is not None:
                    u, rate = wit
                    return u, n_lps, rate, True
            if proved:
                c = [fmpq(int(sgn)) * x for x in Mq[j]]
                proved = (_exact_dual_bound(c, signs, lines, aM, res)
                          or _exact_weak_duality(c, signs, lines, aM, res, fmpq(tol), S,
                                                 float(np.max(np.abs(point.a[k])))))
    return None, n_lps, 0.0, proved


def _exact_escape_witness(u, signs, lines, Mq, aM, tolq):
    """An exact escape direction of one sign piece near the LP's float point ``u``, or None.

    ``u`` is projected in rationals onto ``{aM·u = 0}`` and the hyperplanes ``v_ℓ·u = 0`` of
    the cone constraints it (nearly) meets (exact Gram-Schmidt); the projection ``u_q`` is an
    escape direction when, exactly, ``σ_ℓ v_ℓ·u_q >= 0`` for every line (so ``F_k(u_q) =
    M u_q`` on the piece), ``a_k·F_k(u_q) = aM·u_q = 0`` and ``||M u_q||² > tol² ||u_q||²``.
    The float LP only chooses the candidate; the fact is decided in rationals.

    Returns ``(direction, rate)``: the unit float direction of ``u_q`` and the exact
    ``||F_k(u_q)|| / ||u_q||`` as a float.
    """
    from ._exact import fmpq, to_float, to_floats

    u = np.asarray(u, dtype=np.float64)
    if not np.all(np.isfinite(u)) or not np.any(u != 0):
        return None
    u = u / np.max(np.abs(u))
    D = u.size
    zero = fmpq(0)

    def dot(p, q):
        return sum((x * y for x, y in zip(p, q)), zero)

    rows = [list(aM)]
    for s, (v, _, _) in zip(signs, lines):
        vn = v / np.max(np.abs(v))
        if s * float(vn @ u) <= 1e-9 * D:          # a constraint it meets: keep it active
            rows.append([fmpq(x) for x in v])
    basis = []
    for r in rows:                                  # exact Gram-Schmidt
        q = list(r)
        for b, bb in basis:
            t = dot(q, b) / bb
            q = [x - t * y for x, y in zip(q, b)]
        qq = dot(q, q)
        if qq != 0:
            basis.append((q, qq))
    uq = [fmpq(x) for x in u]
    for b, bb in basis:
        t = dot(uq, b) / bb
        uq = [x - t * y for x, y in zip(uq, b)]
    if dot(aM, uq) != 0:
        return None
    for s, (v, _, _) in zip(signs, lines):
        z = dot([fmpq(x) for x in v], uq)
        if (z < 0) if s > 0 else (z > 0):
            return None
    F = [dot(row, uq) for row in Mq]
    f2, uu = dot(F, F), dot(uq, uq)
    if uu == 0 or not f2 > tolq * tolq * uu:
        return None
    d = to_floats(uq)[0]
    nd = np.linalg.norm(d)
    if not nd > 0:
        return None
    return d / nd, float(np.sqrt(to_float(f2 / uu)))


def _exact_weak_duality(c, signs, lines, aM, res, tolq, S, amax):
    """Prove ``max {c·u : σ_ℓ v_ℓ·u >= 0, aM·u = 0, |u_i| <= 1} <= tol`` exactly.

    Weak duality with the LP's float multipliers taken as exact rationals (undoing the LP's
    rescaling: ``S`` of ``M``, ``max|a_k|`` of the equality, ``max|v_ℓ|`` of each row): for
    ``μ >= 0`` and any ``ν``, ``c·u <= ||c − Σ μ_ℓ(−σ_ℓ v_ℓ) − ν aM||₁`` on the feasible set.
    The escape threshold ``tol`` is the user's (``F_k(u)`` components up to ``tol`` count as
    zero, as for zero output weights); with ``tol = 0`` only :func:`_exact_dual_bound` proves.
    """
    from ._exact import fmpq

    if tolq <= 0 or res.status != 0 or getattr(res, "eqlin", None) is None:
        return False
    lam = []
    if lines:
        mu = np.asarray(res.ineqlin.marginals, dtype=np.float64)
        if mu.shape != (len(lines),) or not np.all(np.isfinite(mu)):
            return False
        for ell, (v, _, _) in enumerate(lines):
            m = max(-float(mu[ell]), 0.0)
            lam.append(fmpq(m) / (S * fmpq(float(np.max(np.abs(v))))) if m > 0 else fmpq(0))
    nu_s = np.asarray(res.eqlin.marginals, dtype=np.float64).ravel()
    if nu_s.size != 1 or not np.isfinite(nu_s[0]):
        return False
    base = list(c)
    for ell, (v, _, _) in enumerate(lines):
        if lam[ell] != 0:
            sg = fmpq(int(signs[ell]))
            for i in range(len(base)):
                base[i] += lam[ell] * sg * fmpq(v[i])     # c − μ(−σ v)
    # ν: the LP's (undoing its rescaling of the equality, either sign convention), 0, and the
    # exact minimizers of the L1 norm in ν (a weighted median: one of base_i / aM_i)
    nus = {fmpq(0), fmpq(float(nu_s[0])) / fmpq(amax), -fmpq(float(nu_s[0])) / fmpq(amax)}
    if len(aM) <= 64:
        nus |= {b / x for b, x in zip(base, aM) if x != 0}
    for nu in nus:
        bound = sum((abs(b - nu * x) for b, x in zip(base, aM)), fmpq(0))
        if bound <= tolq:
            return True
    return False


def _exact_dual_bound(c, signs, lines, aM, res):
    """Prove ``max {c·u : σ_ℓ v_ℓ·u >= 0, aM·u = 0} = 0`` exactly from an LP's multipliers.

    The columns ``−σ_ℓ v_ℓ`` of the inequalities whose float multiplier is nonzero and the
    equality's ``aM`` are the support; a maximal independent subset of them (exact row
    reduction) is solved for ``c = Σ μ_ℓ (−σ_ℓ v_ℓ) + ν aM`` in rationals. The bound holds
    when the solution reproduces ``c`` exactly and every ``μ_ℓ >= 0``: then
    ``c·u = Σ μ_ℓ (−σ_ℓ v_ℓ·u) + ν aM·u <= 0`` on the cone (weak duality, no box needed).
    Any other outcome (a degenerate or noisy multiplier, an LP without an answer) is "not
    proved", never "proved".
    """
    import flint

    from ._exact import fmpq

    D = len(c)
    if all(x == 0 for x in c):
        return True
    if res.status != 0 or getattr(res, "ineqlin", None) is None and lines:
        return False
    cols, nonneg = [list(aM)], [False]
    if lines:
        mu = np.asarray(res.ineqlin.marginals, dtype=np.float64)
        if mu.shape != (len(lines),) or not np.all(np.isfinite(mu)):
            return False
        for ell in np.argsort(-np.abs(mu), kind="stable"):
            if mu[ell] != 0:
                s = fmpq(int(signs[ell]))
                cols.append([-s * fmpq(x) for x in lines[ell][0]])
                nonneg.append(True)
    G = flint.fmpq_mat(D, len(cols), [cols[m][i] for i in range(D) for m in range(len(cols))])
    R, rank = G.rref()
    if rank == 0:
        return False
    piv = []
    for r in range(rank):
        for m in range(len(cols)):
            if R[r, m] != 0:
                piv.append(m)
                break
    Gp = flint.fmpq_mat(D, len(piv), [cols[m][i] for i in range(D) for m in piv])
    cq = flint.fmpq_mat(D, 1, list(c))
    Gt = Gp.transpose()
    y = (Gt * Gp).solve(Gt * cq)
    if Gp * y != cq:
        return False
    return all(y[i, 0] >= 0 for i, m in enumerate(piv) if nonneg[m])


@dataclasses.dataclass(frozen=True, eq=False)
class EscapeReport:
    """Escape neurons of a stationary point (see the module docstring for the definition).

    Attributes
    ----------
    neurons : list of dict
        Per neuron: ``neuron``, ``zero_output`` (``a_k = 0``), ``escape`` (bool), ``kind``
        (``"zero output"``, ``"vector output, a_k != 0"`` or None), ``direction`` (unit
        ``u`` with ``F_k(u) != 0``, or None), ``rate`` (``||F_k(u)||``); for a vector-output
        neuron with ``a_k != 0`` on the exact path also ``absence_proved``: when no escape
        direction was found, whether its absence was proved in rationals (an exact dual
        certificate of every escape LP, or ``F_k ≡ 0`` exactly).
    outputs : int
        Output dimension ``e``.
    """

    neurons: list
    outputs: int
    tol: float

    @property
    def escape(self):
        """Indices of the escape neurons."""
        return [n["neuron"] for n in self.neurons if n["escape"]]

    @property
    def unproved(self):
        """Neurons found without an escape direction by the float LPs but not proved so.

        Returns
        -------
        list of int
            Their indices: a verdict that needs "no escape neuron" (a local minimum) cannot
            rest on them.
        """
        return [n["neuron"] for n in self.neurons
                if not n["escape"] and n.get("absence_proved") is False]

    @property
    def zero_output_escape(self):
        """Escape neurons with zero output weight (each gives an explicit escape direction)."""
        return [n["neuron"] for n in self.neurons if n["escape"] and n["zero_output"]]

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"escape_neurons": self.escape, "zero_output_escape": self.zero_output_escape,
                "unproved": self.unproved, "outputs": self.outputs, "tol": self.tol, "neurons": self.neurons}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        if not self.escape:
            return "escape neurons: none" + (
                f" (absence not proved exactly for neurons {self.unproved})"
                if self.unproved else "")
        parts = [f"{n['neuron']} ({n['kind']}, rate {n['rate']:.3g})"
                 for n in self.neurons if n["escape"]]
        return "escape neurons: " + ", ".join(parts)


def escape_neurons(net, X, y, *, loss="mse", kink_tol=1e-9, tol=1e-10, zero_tol=0.0, seed=0,
                   max_pieces=4096):
    """Escape neurons of ``net`` (meaningful at a directional stationary point).

    Parameters
    ----------
    net : Network
        A shallow ReLU-like network.
    X, y : array_like
        Inputs and targets.
    loss : {"mse", "bce"}, default="mse"
    kink_tol : float, default=1e-9
        Relative tolerance for kink samples.
    tol : float, default=1e-10
        ``F_k`` coefficients (and LP optima) of norm at most ``tol`` count as zero.
    zero_tol : float, default=0.0
        ``||a_k|| <= zero_tol`` counts as a zero output weight.
    seed : int, default=0
        Seed of the witness directions.
    max_pieces : int, default=4096
        Largest number of sign pieces (LPs) for a vector-output neuron.

    Returns
    -------
    EscapeReport
        Per neuron: whether it is an escape neuron (``F_k(u) != 0`` for some ``u``), its
        kind, a witness direction and its rate.

    See Also
    --------
    topoanalysis.critical.classify : The verdict built on them.
    topoanalysis.critical.stationarity : Where escape neurons are meaningful.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           definition of escape neurons; Theorem 4.2 (no escape neuron: local minimum).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> X, y = np.array([[1.0]]), np.array([[1.0]])
    >>> zero = Network.from_weights([np.array([[0.0]]), np.array([[0.0]])])   # f = 0, stationary
    >>> escape_neurons(zero, X, y).escape
    [0]
    >>> dead = Network.from_weights([np.array([[-1.0]]), np.array([[0.0]])])  # dead ReLU
    >>> escape_neurons(dead, X, y).escape
    []
    """
    point = shallow_point(net, X, y, loss)
    return _escape(point, check_tol("kink_tol", kink_tol), check_tol("tol", tol),
                   check_tol("zero_tol", zero_tol), check_int("seed", seed, minimum=0),
                   check_int("max_pieces", max_pieces, minimum=1))


def _is_zero_output(a, zero_tol):
    """``||a_k|| <= zero_tol`` decided exactly (a float norm underflows for entries below
    ``1e-154``: ``a_k = 1e-170`` is not a zero output weight)."""
    if zero_tol == 0:
        return not np.any(a != 0)
    from ._exact import fmpq

    return sum((fmpq(v) * fmpq(v) for v in a), fmpq(0)) <= fmpq(zero_tol) * fmpq(zero_tol)


def _escape(point, kink_tol, tol, zero_tol=0.0, seed=0, max_pieces=4096, exact=None):
    """Escape neurons; ``exact`` (default: for ``mse``) decides ``F_k ≢ 0`` in rationals."""
    kinks = kink_mask(point, kink_tol)
    e = point.a.shape[1]
    exact = point.loss == "mse" if exact is None else (exact and point.loss == "mse")
    state = None
    if exact:
        from ._exact import exact_state

        state = exact_state(point)
    neurons = []
    for k in range(point.w.shape[0]):
        zero = bool(_is_zero_output(point.a[k], zero_tol))
        entry = {"neuron": k, "zero_output": zero, "escape": False, "kind": None,
                 "direction": None, "rate": 0.0}
        if zero and exact:
            nonzero, u, rate = _exact_first_order_nonzero(point, state, k, kinks, tol, seed)
            if nonzero:
                entry.update(escape=True, kind="zero output", direction=u.tolist(), rate=rate)
        elif zero:
            nonzero, u, rate = first_order_nonzero(point, k, kinks, tol=tol, seed=seed)
            if nonzero and rate > tol:
                entry.update(escape=True, kind="zero output", direction=u.tolist(), rate=rate)
        elif e > 1 and exact:
            u, _, rate, proved = _degenerate_direction_exact(point, state, k, kinks, tol,
                                                             max_pieces)
            entry["absence_proved"] = bool(proved)
            if u is not None:
                entry.update(escape=True, kind="vector output, a_k != 0", direction=u.tolist(),
                             rate=rate)
        elif e > 1:
            u, _ = _degenerate_direction(point, k, kinks, tol, max_pieces)
            if u is not None:
                rate = float(np.linalg.norm(_first_order_map(point, k, u[None], kinks[:, k])))
                entry.update(escape=True, kind="vector output, a_k != 0", direction=u.tolist(),
                             rate=rate)
        neurons.append(entry)
    return EscapeReport(neurons=neurons, outputs=e, tol=tol)
