"""Exact arithmetic for the critical-point certificates (internal).

Every float64 is a rational number, so the facts a verdict rests on can be decided exactly from
the parameters as stored: signs of pre-activations ``w_k · x̃_n`` (activation patterns, kinks,
dead neurons), the residuals and gradients of the ``mse`` loss, and the loss itself at a point
``θ + s δ`` computed in rationals (no rounding of the moved point).

Signs use a floating-point filter with a proven error bound and an exact fallback: for a dot
product of ``n`` terms computed in any order (with or without FMA), the rounding error is at
most ``γ_n Σ_i |x_i w_i|`` with ``γ_n = n u / (1 − n u)``, ``u = 2^-53`` (Higham, *Accuracy and
Stability of Numerical Algorithms*, 2nd ed., eq. (3.5)), plus ``n · 2^-1074`` for products that
underflow. When ``|fl(x · w)|`` exceeds that bound its sign is the exact sign; otherwise the dot
product is recomputed in rationals (python-flint's ``fmpq``).
"""

import numpy as np

__all__ = ["fmpq", "fmpq_matrix", "exact_signs", "exact_parallel", "exact_dot_sign", "exact_outputs",
           "exact_mse_loss", "exact_loss_change", "to_float"]

_U = 2.0 ** -53
_ETA = 2.0 ** -1074


_FLINT = None


def _flint():
    global _FLINT
    if _FLINT is None:
        import flint

        _FLINT = flint
    return _FLINT


def fmpq(x):
    """The exact rational value of a float."""
    p, q = float(x).as_integer_ratio()
    return _flint().fmpq(p, q)


def fmpq_matrix(A):
    """A 2-D float array as a ``flint.fmpq_mat`` holding exactly the same numbers."""
    flint = _flint()
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    r, c = A.shape
    Q = flint.fmpq
    return flint.fmpq_mat(r, c, [Q(*v.as_integer_ratio()) for v in A.ravel().tolist()])


def to_float(q):
    """Nearest float of an ``fmpq`` (correctly rounded through Python's Fraction)."""
    from fractions import Fraction

    return float(Fraction(int(q.p), int(q.q)))


def exact_dot_sign(x, w):
    """Sign of ``x · w`` computed exactly in rationals (``-1``, ``0`` or ``1``)."""
    s = sum((fmpq(a) * fmpq(b) for a, b in zip(x, w)), fmpq(0))
    return (s > 0) - (s < 0)


def exact_signs(Xa, w):
    """Exact signs of ``Xa @ w.T`` (shape ``(N, l)``): float filter, then rational fallback.

    Returns
    -------
    signs : ndarray of int8, shape (N, l)
    n_exact : int
        How many entries the filter could not decide (recomputed in rationals).
    """
    Xa = np.asarray(Xa, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n = Xa.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        pre = Xa @ w.T
        mag = np.abs(Xa) @ np.abs(w).T
        gamma = n * _U / (1.0 - n * _U)
        # fl(|X||W|) itself carries a relative error of at most gamma: enlarge once more
        bound = gamma * mag * (1.0 + 2.0 * gamma) + n * _ETA
        sure = np.isfinite(pre) & np.isfinite(bound) & (np.abs(pre) > bound)
    signs = np.where(sure, np.sign(pre), 0).astype(np.int8)
    todo = np.argwhere(~sure)
    for i, k in todo:
        signs[i, k] = exact_dot_sign(Xa[i], w[k])
    return signs, int(len(todo))


def _act_exact(z, alpha):
    return z if z > 0 else alpha * z


def exact_outputs(point, w=None, a=None, b=None):
    """Network outputs ``f(x_n)`` (list of rows of ``fmpq``) at exact parameters.

    ``w``, ``a``, ``b`` default to the point's parameters; they may be ``fmpq_mat`` (exact
    moved parameters) or float arrays.
    """
    w = fmpq_matrix(point.w) if w is None else (w if not isinstance(w, np.ndarray)
                                                 else fmpq_matrix(w))
    a = fmpq_matrix(point.a) if a is None else (a if not isinstance(a, np.ndarray)
                                                 else fmpq_matrix(a))
    if b is None and point.b is not None:
        b = fmpq_matrix(point.b[None, :])
    elif isinstance(b, np.ndarray):
        b = fmpq_matrix(b[None, :])
    X = fmpq_matrix(point.Xa)
    pre = X * w.transpose()                                   # (N, l)
    alpha = fmpq(point.alpha)
    N, l = pre.nrows(), pre.ncols()
    import flint

    H = flint.fmpq_mat(N, l, [_act_exact(pre[i, k], alpha) for i in range(N) for k in range(l)])
    F = H * a                                                 # (N, e)
    e = F.ncols()
    if b is not None:
        for i in range(N):
            for j in range(e):
                F[i, j] = F[i, j] + b[0, j]
    return F


def exact_mse_loss(point, w=None, a=None, b=None):
    """The ``mse`` loss (mean over the ``N·e`` entries) exactly, as an ``fmpq``."""
    F = exact_outputs(point, w, a, b)
    Y = fmpq_matrix(point.Y)
    N, e = F.nrows(), F.ncols()
    total = fmpq(0)
    for i in range(N):
        for j in range(e):
            d = F[i, j] - Y[i, j]
            total += d * d
    return total / (N * e)


def exact_loss_change(point, direction, s):
    """``L(θ + s δ) − L(θ)`` in exact rationals (``mse``), with ``θ + s δ`` not rounded.

    Returns None for other losses (``bce`` involves logarithms).
    """
    if point.loss != "mse":
        return None
    dw, da, db = point.split(np.asarray(direction, dtype=np.float64))
    S = fmpq(s)
    w1 = fmpq_matrix(point.w) + fmpq_matrix(dw) * S
    a1 = fmpq_matrix(point.a) + fmpq_matrix(da) * S
    b1 = None
    if point.b is not None:
        b1 = fmpq_matrix(point.b[None, :]) + fmpq_matrix(db[None, :]) * S
    return exact_mse_loss(point, w1, a1, b1) - exact_mse_loss(point)


def exact_state(point):
    """Exact pre-activations, activations and ``mse`` residuals of a point.

    Returns
    -------
    dict
        ``X`` (``fmpq_mat`` (N, D)), ``pre`` and ``H`` (``fmpq_mat`` (N, l)), ``R``
        (``fmpq_mat`` (N, e), ``r_n = 2 (f(x_n) − y_n) / (N e)``), ``a`` (``fmpq_mat`` (l, e)).
    """
    import flint

    X = fmpq_matrix(point.Xa)
    w = fmpq_matrix(point.w)
    a = fmpq_matrix(point.a)
    pre = X * w.transpose()
    alpha = fmpq(point.alpha)
    N, l = pre.nrows(), pre.ncols()
    entries = pre.entries()
    positive = np.array([v > 0 for v in entries], dtype=bool).reshape(N, l)
    if point.alpha == 0:
        zero = fmpq(0)
        H = flint.fmpq_mat(N, l, [v if p else zero for v, p in zip(entries, positive.ravel())])
    else:
        H = flint.fmpq_mat(N, l, [v if p else alpha * v
                                  for v, p in zip(entries, positive.ravel())])
    F = H * a
    e = F.ncols()
    Y = fmpq_matrix(point.Y)
    two = fmpq(2) / (N * e)
    bq = None if point.b is None else [fmpq(v) for v in point.b]
    R = flint.fmpq_mat(N, e, [two * (F[i, j] + (bq[j] if bq else 0) - Y[i, j])
                              for i in range(N) for j in range(e)])
    return {"X": X, "pre": pre, "H": H, "R": R, "a": a, "alpha": alpha, "positive": positive}


def exact_neuron_terms(state, k, kinks):
    """Exact ``g`` (off-kink gradient of ``a_k·G_k`` in ``w_k``) and kink coefficients ``c``.

    ``g = Σ_{n off} ρ'(w_k·x̃_n) (a_k·r_n) x̃_n``, ``c_n = a_k·r_n`` for the kink samples.
    """
    import flint

    X, pre, R, a, alpha = state["X"], state["pre"], state["R"], state["a"], state["alpha"]
    N, D = X.nrows(), X.ncols()
    e = R.ncols()
    ak = flint.fmpq_mat(e, 1, [a[k, j] for j in range(e)])
    ra = (R * ak).entries()                                       # a_k · r_n
    pos = state["positive"][:, k].tolist()
    zero = fmpq(0)
    coef = flint.fmpq_mat(1, N, [zero if kinks[i] else (ra[i] if pos[i] else alpha * ra[i])
                                 for i in range(N)])
    gm = coef * X                                                 # (1, D)
    g = [gm[0, i] for i in range(D)]
    c = [ra[i] for i in range(N) if kinks[i]]
    return g, c


def exact_output_gradients(state):
    """``G = Hᵀ R`` (``fmpq_mat`` (l, e)) and ``Σ_n r_n`` (list of ``fmpq``)."""
    G = state["H"].transpose() * state["R"]
    R = state["R"]
    sr = [sum((R[i, j] for i in range(R.nrows())), fmpq(0)) for j in range(R.ncols())]
    return G, sr


def exact_parallel(v, w):
    """Whether the nonzero float vectors ``v`` and ``w`` span the same line, exactly.

    Returns ``0`` when they are not parallel, else the sign (``1`` or ``-1``) of ``v · w``:
    every 2×2 minor ``v_i w_j − v_j w_i`` is compared with zero in rationals (a float filter
    first: ``|fl(v_i w_j − v_j w_i)| > 2 u (|v_i w_j| + |v_j w_i|) + 2^-1073`` decides "not
    parallel" for sure).
    """
    v = np.asarray(v, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    n = v.size
    with np.errstate(over="ignore", invalid="ignore"):
        M = np.outer(v, w)
        minors = M - M.T
        bound = 2 * _U * (np.abs(M) + np.abs(M.T)) * (1 + 2 * _U) + 2 * _ETA
        if np.any(np.isfinite(minors) & np.isfinite(bound) & (np.abs(minors) > bound)):
            return 0
    vq = [fmpq(x) for x in v]
    wq = [fmpq(x) for x in w]
    for i in range(n):
        for j in range(i + 1, n):
            if vq[i] * wq[j] != vq[j] * wq[i]:
                return 0
    d = sum((a * b for a, b in zip(vq, wq)), fmpq(0))
    return 1 if d > 0 else -1
