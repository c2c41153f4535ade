"""The radius of a "local minimum" certificate, in absolute parameter distance.

At a directional stationary point without escape neurons, for every perturbation ``δ`` that
keeps the activation pattern off the kinks,

    L(θ + δ) − L(θ) = Σ_k T_k(δ) + R(Δ),   T_k = (a_k + δa_k) · F_k(δw_k),   R >= 0

exactly (:mod:`~topoanalysis.critical.escape`). Two things can break it, and each gives a
distance:

* **the pattern**: a sample ``n`` off neuron ``k``'s hyperplane keeps its side while
  ``||δw_k|| < |w_k · x̃_n| / ||x̃_n||`` — the distance from ``w_k`` to the hyperplane
  ``{w : w · x̃_n = 0}``. For a **dead** ReLU neuron the smallest of these is exactly its distance
  to its activation region ``{w : w · x̃_n > 0 for some n}``;
* **the sign of T_k**: with no escape neuron, ``a_k · F_k(u) > 0`` wherever ``F_k(u) != 0``, so
  ``T_k >= 0`` while ``||δa_k|| <= c_k = min_{F_k(u) != 0} a_k · F_k(u) / ||F_k(u)||``. For
  scalar output ``c_k = |a_k|``; for vector output ``c_k >= c_∞ / √e`` with ``c_∞`` the minimum
  of ``a_k · F_k(u)`` over ``||F_k(u)||_∞ = 1`` (linear programs per sign piece of the kink
  samples). A neuron whose ``F_k`` vanishes identically needs no bound.

So ``θ`` is a minimum of ``L`` on the ball ``||δ|| < r`` with ``r`` the smallest of these
distances (Euclidean norm of the whole flat parameter vector, since ``||δw_k||, ||δa_k|| <=
||δ||``). Samples counted as kinks by the tolerance are not exactly on their hyperplanes: the
certificate is for the point with them projected on, which is ``kink_shift`` away.
"""

import itertools

import numpy as np

from ._exact import exact_signs
from ._point import safe_norm
from .kinks import _first_order_map

__all__ = ["certified_radius"]


def _c_vector(point, k, kinks, max_lps):
    """Lower bound on ``min a_k·F_k(u)/||F_k(u)||`` over ``F_k(u) != 0`` (vector output)."""
    from scipy.optimize import linprog

    from .escape import _kink_split

    r, X, alpha, D, e, B, Xon, ron = _kink_split(point, k, kinks)
    if 2 ** len(Xon) * 2 * e > max_lps:
        return None
    a = point.a[k]
    best = np.inf
    for signs in itertools.product((1.0, -1.0), repeat=len(Xon)):
        M = B.copy()
        for s, x, rr in zip(signs, Xon, ron):
            if s > 0:
                M += (1 - alpha) * np.outer(rr, x)
        A_cone = -(np.array(signs)[:, None] * Xon) if len(Xon) else np.zeros((0, D))
        A_ub = np.concatenate([A_cone, M, -M])                 # cone, |M u|_i <= 1
        b_ub = np.concatenate([np.zeros(len(Xon)), np.ones(2 * e)])
        for j in range(e):
            for sgn in (1.0, -1.0):
                res = linprog(a @ M, A_ub=A_ub, b_ub=b_ub, A_eq=(sgn * M[j])[None, :],
                              b_eq=np.ones(1), bounds=[(None, None)] * D, method="highs")
                if res.status == 0:
                    best = min(best, float(res.fun))
                elif res.status == 3:                          # unbounded: no positive bound
                    return 0.0
    if not np.isfinite(best):                                  # F_k ≡ 0 on every piece
        return np.inf
    return max(best, 0.0) / np.sqrt(e)


def certified_radius(point, kinks, *, max_lps=2048):
    """Radius of the local-minimum certificate (see the module docstring).

    Parameters
    ----------
    point : ShallowPoint
        A directional stationary point without escape neurons.
    kinks : ndarray of bool, shape (N, l)
        Samples counted as lying on each neuron's hyperplane (:func:`~topoanalysis.critical.kinks.kink_mask`).
    max_lps : int, default=2048
        Budget of linear programs for the output-weight bound of a vector-output neuron;
        beyond it that bound (and ``radius``) is None.

    Returns
    -------
    dict
        ``radius`` (float, absolute Euclidean distance in the flat parameters; None when an
        output-weight bound could not be computed within ``max_lps``), ``limited_by`` (a
        sentence), ``pattern_radius``, ``output_weight_radius``, ``dead_distances``
        (``{neuron: distance of w_k to its activation region}``) and ``kink_shift`` (largest
        ``|w_k·x̃_n| / ||x̃_n||`` over the samples counted as kinks).

    See Also
    --------
    topoanalysis.critical.classify, topoanalysis.critical.escape.escape_neurons

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           Theorem 4.2 (a directional stationary point without escape neurons is a local
           minimum); the radius of the neighbourhood is this toolkit's quantification of
           that proof.
    """
    pre = point.pre
    xn = safe_norm(point.Xa, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.abs(pre) / xn[:, None]                  # (N, l) distance to each hyperplane
    dist = np.where(xn[:, None] > 0, dist, np.inf)
    off = np.where(kinks, np.inf, dist)
    pattern = float(off.min(initial=np.inf))
    where = np.unravel_index(int(np.argmin(off)), off.shape) if off.size and np.isfinite(
        pattern) else None
    signs, _ = exact_signs(point.Xa, point.w)                 # exact: dead on the data
    dead = [k for k in range(pre.shape[1]) if point.alpha == 0 and np.all(signs[:, k] < 0)]
    dead_distances = {int(k): float(dist[:, k].min()) for k in dead}
    kink_shift = float(np.max(np.where(kinks, dist, 0.0), initial=0.0))
    e = point.a.shape[1]
    c_min, c_where, unknown = np.inf, None, []
    for k in range(pre.shape[1]):
        if k in dead or not np.any(point.a[k] != 0):
            continue
        F = _first_order_map(point, k, np.eye(point.Xa.shape[1]), kinks[:, k])
        F = np.concatenate([F, _first_order_map(point, k, -np.eye(point.Xa.shape[1]),
                                                      kinks[:, k])])
        if not np.any(kinks[:, k]) and np.allclose(F, 0.0, atol=0.0):
            continue                                       # F_k ≡ 0 (linear and zero)
        if e == 1:
            ck = float(abs(point.a[k, 0]))
        else:
            ck = _c_vector(point, k, kinks, max_lps)
            if ck is None:
                unknown.append(k)
                continue
        if ck < c_min:
            c_min, c_where = ck, k
    radius = min(pattern, c_min)
    if where is not None and pattern <= c_min:
        n, k = where
        if k in dead:
            why = (f"dead neuron {k} is {pattern:.3g} from its activation region (sample {n} "
                   f"activates it beyond that)")
        else:
            why = f"sample {n} is {pattern:.3g} from neuron {k}'s hyperplane"
    elif c_where is not None:
        why = (f"the output weight of neuron {c_where} may move by at most {c_min:.3g} before "
               f"(a_k + δa_k)·F_k can turn negative")
    else:
        why = "no sample off a hyperplane and no output-weight bound: every radius"
    if unknown:
        radius = None
        why += (f"; the output-weight bound of neurons {unknown} needs more than {max_lps} LPs "
                f"(radius not certified)")
    return {"radius": None if radius is None else float(radius), "limited_by": why,
            "pattern_radius": pattern, "output_weight_radius": float(c_min),
            "dead_distances": dead_distances, "kink_shift": kink_shift}
