"""Exact decisions on float64 parameters: every float is a rational, so decide in ``Fraction``.

The combinatorial facts behind the degeneracy layer — two weight vectors on the same line
(coinciding hyperplanes) or on the same ray (redundant neurons), a hyperplane that is no kink
(its two sides' contributions equal), the sign of ``⟨n, x⟩`` at a witness point, the rank of
the weight vectors — are decided here exactly from the float parameters, never with a
tolerance.

* **Lines and rays.** ``v ≠ 0`` is written ``v = λ k(v)`` with the *line key* ``k(v) = v / v_i``
  (``i`` the first non-zero coordinate, so ``k(v)_i = 1``); two vectors span the same line iff
  their line keys are equal (all 2×2 minors of ``[v; w]`` vanish), and the same ray iff
  moreover ``λ`` has the same sign. Keys are tuples of ``Fraction`` (hashable): grouping is
  one dictionary pass, ``O(m D)`` exact operations.
* **Signs.** ``sign(⟨n, x⟩)`` is computed in floats first; the float sum has absolute error at
  most ``γ_D Σ |n_i x_i|`` with ``γ_D = D u / (1 − D u)``, ``u = 2^{-53}`` (Higham, *Accuracy
  and Stability of Numerical Algorithms*, (3.5)), plus ``(D + 2) 2^{-1074}`` for products and sums
  in the subnormal range (gradual underflow adds an absolute error no relative bound covers).
  Where ``|⟨n, x⟩|`` exceeds twice that bound the float sign is proven; the rest are recomputed in ``Fraction`` (a filter with an exact fallback).
* **Rank** with ``flint.fmpq_mat`` (exact Gaussian elimination over ℚ).
"""

from fractions import Fraction

import numpy as np

__all__ = ["rat", "rat_vec", "line_key", "ray_key", "exact_signs", "exact_rank",
           "float_sum_error", "EPS"]

#: unit roundoff of float64
EPS = 2.0 ** -53


def rat(x):
    """The float ``x`` as the exact rational it is."""
    return Fraction(float(x))


def rat_vec(v):
    return tuple(Fraction(float(x)) for x in np.asarray(v, dtype=np.float64).ravel())


def line_key(v):
    """``(key, λ)`` with ``v = λ · key`` exactly and ``key``'s first non-zero entry 1.

    ``None`` for ``v = 0``. ``key`` is a tuple of ``Fraction``.
    """
    q = rat_vec(v)
    for x in q:
        if x != 0:
            return tuple(y / x for y in q), x
    return None


def ray_key(v):
    """``(key, λ)`` with ``v = λ · key`` exactly, ``λ > 0`` and ``key``'s first non-zero entry ±1."""
    res = line_key(v)
    if res is None:
        return None
    key, lam = res
    if lam < 0:
        return tuple(-y for y in key), -lam
    return key, lam


def float_sum_error(n):
    """``γ_n = n u / (1 − n u)``: relative bound of a float sum/dot product of ``n`` terms."""
    return n * EPS / (1.0 - n * EPS)


def exact_signs(N, Z):
    """``sign(Z @ N.T)`` decided exactly (float filter, ``Fraction`` fallback).

    Parameters
    ----------
    N : ndarray of shape (G, D)
    Z : ndarray of shape (R, D)

    Returns
    -------
    ndarray of shape (R, G) with entries in {-1, 0, 1} (0 only where ``⟨n, z⟩ = 0`` exactly).
    """
    N = np.asarray(N, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    D = N.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        val = Z @ N.T
        # the bound itself is computed in floats: a factor 2 covers its own rounding; each
        # product and partial sum below the normal range may also be off by half the
        # subnormal spacing (2^-1075) in absolute terms, which no relative bound covers
        bound = (2.0 * float_sum_error(D + 2) * (np.abs(Z) @ np.abs(N).T)
                 + (D + 2) * 2.0 ** -1074)
    s = np.sign(val)
    unsure = ~(np.abs(val) > bound) | (bound == 0) & (val == 0)
    if unsure.any():
        Nq = [rat_vec(n) for n in N]
        Zq = {}
        for r, g in zip(*np.nonzero(unsure)):
            if r not in Zq:
                Zq[r] = rat_vec(Z[r])
            dot = sum(a * b for a, b in zip(Nq[g], Zq[r]))
            s[r, g] = (dot > 0) - (dot < 0)
    return s


def exact_rank(M):
    """Rank of the float matrix ``M`` over ℚ (exact; python-flint)."""
    import flint

    M = np.asarray(M, dtype=np.float64)
    if M.size == 0:
        return 0
    rows = [[flint.fmpq(*_ratio(x)) for x in row] for row in M]
    return int(flint.fmpq_mat(rows).rank())


def _ratio(x):
    n, d = float(x).as_integer_ratio()
    return n, d
