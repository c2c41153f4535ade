"""Second-order test where the first-order one vanishes (vector output, escape neurons with ``a_k != 0``).

At a directional stationary point with an escape neuron ``k`` whose output weight is not zero
(possible only for ``e > 1``), the first-order test does not decide. Move ``w_k`` along the
escape direction ``u`` (``a_k · F_k(u) = 0``, ``F_k(u) != 0``) and every output weight and
the output bias along ``W = (V, β)``: ``δ = (δw_k = u, δa = V, δb = β)``. For small ``s > 0``
the activation pattern along ``θ + s δ`` is fixed (samples on ``w_k``'s hyperplane take the
side of ``u``), so the outputs are exactly ``f + s Δ₁ + s² Δ₂`` with

    Δ₁ = φ a_kᵀ + H V + 1 βᵀ,    Δ₂ = φ V_kᵀ,

``φ_n = ρ'(w_k · x̃_n; u · x̃_n)`` (the one-sided derivative), ``H = ρ(X̃ Wᵀ)``; and for ``mse``

    L(θ + s δ) = L + s c₁ + s² c₂ + s³ c₃ + s⁴ c₄,
    c₁ = a_k · F_k(u) + ⟨V, G⟩ + β · Σ_n r_n = 0 at a stationary point,
    c₂ = V_k · F_k(u) + ||Δ₁||² / (N e).

``c₂`` is a convex quadratic in ``W``. Its infimum is ``−∞`` when the linear part ``F_k(u)``
(at neuron ``k``'s row) is not orthogonal to the null space of ``Φ = [H, 1]`` — e.g. when
another neuron has the same activation column as ``k``, an **aligned group**: splitting the
group (``V_k = −t F``, ``V_j = +t F ·(h_k/h_j)``) leaves the function unchanged at first order
and lowers the loss by ``t s² ||F||²`` at second order. Otherwise the infimum is finite, from
one least-squares solve. The float ``c₂ < 0`` only proposes the direction: **saddle at second
order** (the point is not a local minimum) is decided by the exact loss along it
(:func:`~topoanalysis.critical._exact.exact_ray`): on the ray's first sign piece
``L(θ + s δ) − L(θ)`` is a polynomial of degree 4 in ``s`` with rational coefficients, and
its lowest-order nonzero coefficient must be negative (formerly one exact loss change at a
finite step ``s >= 2^-30 ||θ||`` was taken, which a step leaving a small basin also shows).
When it is not, or when ``c₂ >= 0`` for every escape direction tried, neither order decides
and the verdict stays "undetermined" (a positive second-order term along these directions
does not exclude descent along others).

This is the toolkit's derivation (Wu, Simsek & Ged, arXiv 2402.05626, section 4, leave the
vector-output case with ``a_k != 0`` open); the tests check each step against the loss.
"""

import numpy as np

from ._exact import ray_certificate
from .kinks import _first_order_map

__all__ = ["second_order_test"]


def _phi(point, k, u, kinks):
    pre = point.pre[:, k]
    z = point.Xa @ u
    return np.where(kinks[:, k], point.act(z), point.slope(pre) * z)


def _design(point):
    """``Φ = [H, 1]`` and its SVD (shared by every neuron tested)."""
    N = point.Y.shape[0]
    H = point.act(point.pre)
    cols = [H] + ([np.ones((N, 1))] if point.b is not None else [])
    Phi = np.concatenate(cols, axis=1)
    _, sv, Vt = np.linalg.svd(Phi, full_matrices=True)
    return Phi, sv, Vt


def _c2_minimum(point, k, u, kinks, design=None):
    """Minimize ``c₂`` over ``W = (V, β)`` for neuron ``k`` and direction ``u``.

    Returns ``(c2, V, beta, unbounded)``: the value (``-inf`` when unbounded) and a direction
    with ``c₂ < 0`` when one exists (for the unbounded case, one with ``c₂ <= -||F||²``).
    """
    N, e = point.Y.shape
    l = point.w.shape[0]
    kappa = 1.0 / (N * e)
    phi = _phi(point, k, u, kinks)
    F = _first_order_map(point, k, u[None, :], kinks[:, k])[0]      # (e,)
    Phi, s, Vt = _design(point) if design is None else design          # Φ: (N, m)
    m = Phi.shape[1]
    M = np.outer(phi, point.a[k])                                        # (N, e)
    Q = np.zeros((m, e))
    Q[k] = F
    # null space of Φ (numerical: only proposes a direction; the decrease is checked exactly)
    rank = int(np.sum(s > 1e-10 * max(s.max(initial=0.0), 1e-300)))
    Nul = Vt[rank:].T                                                    # (m, m - rank)
    Pq = Nul @ (Nul.T @ Q)                                               # null-space part
    # the bounded part: the least-squares minimizer W* = −(ΦᵀΦ)⁺(Φᵀ M + Q/(2κ))
    Vr = Vt[:rank].T
    W = -Vr @ ((Vr.T @ (Phi.T @ M + Q / (2 * kappa))) / (s[:rank, None] ** 2))

    def c2(W):
        return float(np.sum(Q * W) + kappa * np.sum((M + Phi @ W) ** 2))

    val = c2(W)
    unbounded = bool(np.linalg.norm(Pq) > 1e-8 * max(np.linalg.norm(F), 1e-300))
    if unbounded:
        t = (abs(val) + float(np.sum(F ** 2))) / float(np.sum(Pq * Q))
        W = W - t * Pq
        val = c2(W)
    V = W[:l]
    beta = W[l] if point.b is not None else None
    return (-np.inf if unbounded else val), val, V, beta, F


def second_order_test(point, esc, kinks, *, certify=True, tol=None):
    """Second-order test at the escape neurons with ``a_k != 0`` (see the module docstring).

    Parameters
    ----------
    point : ShallowPoint
        A directional stationary point (``mse``).
    esc : EscapeReport
        The escape neurons (:func:`~topoanalysis.critical.escape.escape_neurons`).
    kinks : ndarray of bool, shape (N, l)
        Samples counted as lying on each neuron's hyperplane.
    certify : bool, default=True
        Decide by the exact loss polynomial along the direction (``mse``); False takes the
        float ``c₂ < 0`` as it is.
    tol : float, optional
        The stationarity tolerance: a first-order residue ``0 < c₁ <= tol`` along the
        direction is allowed (``ray["up_to_tol"]``,
        :func:`~topoanalysis.critical._exact.ray_certificate`); None asks for the exact
        proof only.

    Returns
    -------
    dict
        ``decided`` (bool), ``neuron``, ``c2`` (the infimum; ``-inf`` for an aligned split),
        ``c2_direction`` (``c₂`` of the returned direction), ``kind`` (``"split of an aligned
        group"`` or ``"escape with output-weight correction"``), ``direction`` (unit flat
        direction or None), ``ray`` (the exact ray certificate of the direction,
        :func:`~topoanalysis.critical._exact.ray_certificate`: ``proved``, ``up_to_tol``,
        ``order``, ``coefficient`` of the lowest-order nonzero term; it decides), ``step``
        and ``exact_change`` (the ray's ``step`` and ``change``: an exact decrease inside its
        first sign piece, as floats, or None),
        ``tried`` (per neuron: ``c2``).

    See Also
    --------
    topoanalysis.critical.classify, topoanalysis.critical.escape.escape_neurons

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           Section 4 (escape neurons and the first-order conditions); the paper leaves the
           vector-output case with a_k != 0 open, the second-order test is this toolkit's
           derivation (module docstring).
    """
    tried = []
    best = None
    design = _design(point)
    for n in esc.neurons:
        if not n["escape"] or n["zero_output"] or n["direction"] is None:
            continue
        k = n["neuron"]
        u = np.asarray(n["direction"], dtype=np.float64)
        inf, val, V, beta, F = _c2_minimum(point, k, u, kinks, design)
        tried.append({"neuron": k, "c2": inf, "c2_direction": val})
        if val < 0 and (best is None or val / _norm(u, V, beta) ** 2 < best[0]):
            best = (val / _norm(u, V, beta) ** 2, k, u, V, beta, inf)
        if np.isinf(inf):           # an aligned split: unbounded below, no need to go on
            break
    out = {"decided": False, "neuron": None, "c2": None, "c2_direction": None, "kind": None,
           "direction": None, "step": None, "exact_change": None, "ray": None, "tried": tried}
    if best is None:
        return out
    _, k, u, V, beta, inf = best
    dw = np.zeros_like(point.w)
    dw[k] = u
    d = point.flat(dw, V, beta)
    nd = np.linalg.norm(d)
    d = d / nd
    c2 = best[0]
    out.update(neuron=int(k), c2=float(inf) if np.isinf(inf) else float(inf / nd ** 2),
               c2_direction=float(c2), direction=d,
               kind="split of an aligned group" if np.isinf(inf)
               else "escape with output-weight correction")
    if certify and point.loss == "mse":
        # the proof: the lowest-order nonzero coefficient of the exact loss polynomial on the
        # ray's first sign piece is negative (a finite step may leave a small basin)
        ray = ray_certificate(point, d, tol, kinks)
        out.update(ray=ray, decided=bool(ray["proved"] or ray["up_to_tol"]),
                   step=ray["step"], exact_change=ray["change"])
    else:
        out["decided"] = True
    return out


def _norm(u, V, beta):
    return float(np.sqrt(np.sum(u ** 2) + np.sum(V ** 2)
                         + (0.0 if beta is None else np.sum(beta ** 2))))

