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

__all__ = ["fmpq", "fmpq_matrix", "exact_signs", "exact_pre", "exact_parallel", "exact_dot_sign",
           "exact_outputs", "exact_mse_loss", "exact_loss_change", "exact_ray", "ray_certificate",
           "to_float"]

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

    try:
        return float(Fraction(int(q.p), int(q.q)))
    except OverflowError:                         # beyond the float range: ±inf
        return float(np.inf) if q > 0 else float(-np.inf)


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
    pre, signs, n_exact = exact_pre(Xa, w)
    return signs, n_exact


def exact_pre(Xa, w):
    """``Xa @ w.T`` with every sign exact: float filter, then rationals where it cannot decide.

    The entries the float filter decides are the float products (their sign is proved); the
    others are recomputed in rationals and rounded to the nearest float, and a nonzero value
    that would underflow to ``0`` becomes ``±2^-1074``. So ``pre > 0``, ``pre < 0`` and
    ``pre == 0`` are the exact facts about ``x̃_n · w_k`` (activation pattern, kinks, dead
    neurons), whatever the rounding of the float dot product.

    Returns
    -------
    pre : ndarray of float64, shape (N, l)
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
    pre = np.where(sure, pre, 0.0)
    todo = np.argwhere(~sure)
    for i, k in todo:
        q = sum((fmpq(a) * fmpq(b) for a, b in zip(Xa[i], w[k])), fmpq(0))
        sgn = (q > 0) - (q < 0)
        signs[i, k] = sgn
        v = to_float(q) if sgn else 0.0
        pre[i, k] = v if (v != 0.0 or not sgn) else sgn * _ETA
    return pre, signs, int(len(todo))


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


def exact_ray(point, direction, kinks=None):
    """The ``mse`` loss along ``θ + s δ`` on its first sign piece, exactly (one hidden layer).

    ``δ`` is the float ``direction`` read as the rational it holds. Each pre-activation is
    linear in ``s``, ``z_nk(s) = z_nk + s δz_nk``, so on ``(0, s₀)`` every sign is that of
    ``z_nk``, or of ``δz_nk`` when ``z_nk = 0`` exactly (``ρ(0) = 0`` when both vanish), and
    ``s₀`` is the first root ``−z_nk/δz_nk > 0``. There the outputs are
    ``E₀ + s E₁ + s² E₂`` (``E₁ = H₁A + H₀δA + 1δbᵀ``, ``E₂ = H₁δA``, ``H₀ = S∘Z``,
    ``H₁ = S∘δZ``, ``S`` the exact slopes of the piece) and

        L(θ + s δ) − L(θ) = c₁ s + c₂ s² + c₃ s³ + c₄ s⁴    for 0 <= s <= s₀

    with rational ``c_j``. ``θ`` is **not a local minimum** exactly when the lowest-order
    nonzero ``c_j`` of some ray is negative; this ray proves it when its own is.

    ``kinks`` (bool, shape ``(N, l)``, optional) are the samples the analysis counts as on a
    hyperplane (``kink_tol > 0``): their ``z_nk`` is taken as ``0`` — the modelled point with
    those samples projected on, as the rest of the verdict. Without it (or with
    ``kink_tol = 0``, where the mask is exactly ``z_nk = 0``) the polynomial is the float
    point's own.

    Returns
    -------
    dict or None
        None for losses other than ``mse``. ``coefficients`` (``[c₁, c₂, c₃, c₄]``,
        ``fmpq``), ``order`` (the lowest ``j`` with ``c_j != 0``, None when the loss is
        constant on the piece), ``value`` (that ``c_j``, ``fmpq`` or None), ``proves`` (the
        value is negative) and ``piece_end`` (``s₀`` as ``fmpq``, None when the piece is
        ``(0, ∞)``).
    """
    if point.loss != "mse":
        return None
    flint = _flint()
    dw, da, db = point.split(np.asarray(direction, dtype=np.float64))
    X = fmpq_matrix(point.Xa)
    Z = (X * fmpq_matrix(point.w).transpose()).entries()
    dZ = (X * fmpq_matrix(dw).transpose()).entries()
    N, e = point.Y.shape
    l = point.w.shape[0]
    one, zero, alpha = fmpq(1), fmpq(0), fmpq(point.alpha)
    if kinks is not None:
        flags = np.asarray(kinks, dtype=bool).ravel().tolist()
        Z = [zero if f else z for z, f in zip(Z, flags)]
    h0, h1 = [], []
    end = None
    for z, dz in zip(Z, dZ):
        side = z if z != 0 else dz
        s = one if side > 0 else (alpha if side < 0 else zero)
        h0.append(s * z)
        h1.append(s * dz)
        if z != 0 and dz != 0 and (z > 0) != (dz > 0):
            r = -z / dz
            end = r if end is None or r < end else end
    H0 = flint.fmpq_mat(N, l, h0)
    H1 = flint.fmpq_mat(N, l, h1)
    A, dA = fmpq_matrix(point.a), fmpq_matrix(da)
    E0 = H0 * A - fmpq_matrix(point.Y)
    E1 = H1 * A + H0 * dA
    E2 = H1 * dA
    e0, e1, e2 = E0.entries(), E1.entries(), E2.entries()
    if point.b is not None:
        bq = [fmpq(v) for v in point.b]
        dbq = [fmpq(v) for v in db]
        e0 = [v + bq[i % e] for i, v in enumerate(e0)]
        e1 = [v + dbq[i % e] for i, v in enumerate(e1)]

    def dot(p, q):
        return sum((x * y for x, y in zip(p, q)), zero)

    ne = fmpq(N * e)
    c = [2 * dot(e0, e1) / ne, (dot(e1, e1) + 2 * dot(e0, e2)) / ne, 2 * dot(e1, e2) / ne,
         dot(e2, e2) / ne]
    order = next((j + 1 for j, v in enumerate(c) if v != 0), None)
    value = None if order is None else c[order - 1]
    return {"coefficients": c, "order": order, "value": value,
            "proves": bool(value is not None and value < 0), "piece_end": end}


def _poly(c, s):
    """``c₁ s + c₂ s² + c₃ s³ + c₄ s⁴`` exactly."""
    out, p = fmpq(0), s
    for v in c:
        out += v * p
        p = p * s
    return out


def _descent_step(c, end, scale, largest):
    """A dyadic ``s`` in ``(0, end]`` with ``Σ c_j s^j < 0`` (exact), or None.

    Tried: ``s = 2^j`` from ``min(end, 2^60 scale)`` down to ``2^-1100``; the first (largest)
    one found when ``largest``, else the smallest of the first run of them.
    """
    top = end if end is not None else fmpq(2) ** 60 * scale
    if not top > 0:
        return None
    j = int(abs(top.p)).bit_length() - int(top.q).bit_length() + 1
    found = None
    while j >= -1100:
        s = _flint().fmpq(2 ** j) if j >= 0 else _flint().fmpq(1, 2 ** (-j))
        if s <= top:
            if _poly(c, s) < 0:
                found = s
                if largest:
                    break
            elif found is not None:
                break                      # below the first descent interval found
        j -= 1
    return found


def ray_certificate(point, direction, tol=None, kinks=None):
    """:func:`exact_ray` as a report, optionally up to the stationarity tolerance.

    Parameters
    ----------
    point : ShallowPoint
    direction : ndarray of shape (P,)
        The flat direction ``δ`` (read as the rational it holds).
    tol : float, optional
        The stationarity tolerance of a "saddle" verdict. When the point is stationary only
        up to ``tol``, the first-order coefficient along an escape direction is the residue
        it allows: ``0 < c₁ <= tol ||δ||`` with the lowest-order nonzero ``c_j`` (``j >= 2``)
        negative and an exact step ``s`` inside the first piece with ``L(θ + s δ) < L(θ)``
        is reported as ``up_to_tol`` (the point is not a local minimum up to the tolerance,
        as "local minimum" holds up to it; any basin around the float point is shorter than
        that step along the ray). None (or 0) asks for the exact proof only.
    kinks : ndarray of bool, shape (N, l), optional
        Samples counted as on each hyperplane (:func:`exact_ray`).

    Returns
    -------
    dict or None
        None for losses other than ``mse``. ``proved`` (the lowest-order nonzero coefficient
        is negative: the point as given is not a local minimum), ``up_to_tol`` (see
        ``tol``), ``order`` and ``coefficient`` (the lowest-order nonzero coefficient,
        rounded; None when the loss is constant on the piece), ``coefficients`` (``c₁..c₄``
        rounded), ``descent_order`` and ``descent_coefficient`` (the lowest-order negative
        term that decides, ``order`` when ``proved``), ``step`` and ``change`` (a
        dyadic step inside the first piece with an exact decrease — the largest tried when
        ``proved``, the smallest when ``up_to_tol`` — and that decrease, rounded; None when
        none was found), ``piece_end`` (``s₀`` rounded, None
        for ``(0, ∞)``) and ``arithmetic``.
    """
    ray = exact_ray(point, direction, kinks)
    if ray is None:
        return None
    c = ray["coefficients"]
    proved = ray["proves"]
    descent = ray["order"] if proved else None
    up = False
    if not proved and tol and ray["order"] == 1 and c[0] > 0:
        dd = sum((fmpq(v) * fmpq(v) for v in np.asarray(direction, dtype=np.float64)), fmpq(0))
        if c[0] * c[0] <= fmpq(tol) * fmpq(tol) * dd:
            nxt = next((j + 2 for j, v in enumerate(c[1:]) if v != 0), None)
            if nxt is not None and c[nxt - 1] < 0:
                descent = nxt
    from ._point import safe_norm

    scale = fmpq(min(max(1.0, float(safe_norm(point.net.params))), 1e300))
    step = (_descent_step(c, ray["piece_end"], scale, proved) if descent is not None
            else None)
    if not proved and descent is not None:
        up = step is not None                  # the decrease is shown inside the piece
        descent = descent if up else None
    return {"proved": proved, "up_to_tol": up, "order": ray["order"],
            "coefficient": None if ray["value"] is None else to_float(ray["value"]),
            "coefficients": [to_float(v) for v in c],
            "descent_order": descent,
            "descent_coefficient": None if descent is None else to_float(c[descent - 1]),
            "step": None if step is None else to_float(step),
            "change": None if step is None else to_float(_poly(c, step)),
            "piece_end": None if ray["piece_end"] is None else to_float(ray["piece_end"]),
            "arithmetic": "exact rationals (python-flint) along the float direction read as "
                          "a rational, on the first sign piece of the ray"}


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


def pow2_scale(values):
    """A power of two ``S`` (``fmpq``) with ``max |v·S|`` in ``[1, 2)`` (``1`` when all are 0).

    Multiplying by ``S`` is exact, so rationals far below (or above) the float range can be
    rounded to floats of size about 1 without underflow and the scaling undone exactly.
    """
    big = None
    for v in values:
        if v != 0:
            # floor(log2 |v|) up to one: bit lengths of the numerator and denominator
            e = int(abs(v.p)).bit_length() - int(v.q).bit_length()
            big = e if big is None or e > big else big
    if big is None:
        return fmpq(1)
    Q = _flint().fmpq
    S = Q(1, 2 ** big) if big >= 0 else Q(2 ** (-big), 1)
    top = max(abs(v * S) for v in values)
    while top >= 2:
        S, top = S / 2, top / 2
    while top < 1:
        S, top = S * 2, top * 2
    return S


def to_floats(values, S=None):
    """Floats of ``v·S`` (``S`` from :func:`pow2_scale` by default) and ``S``."""
    S = pow2_scale(values) if S is None else S
    return np.array([to_float(v * S) for v in values], dtype=np.float64), S


def exact_first_order(state, k, kinks, Xa):
    """Neuron ``k``'s first-order map ``F_k`` in exact coefficients.

    ``F_k(u) = B u + Σ_ℓ P_ℓ max(v_ℓ · u, 0)`` with one term per line ``ℓ`` spanned by kink
    samples (``v_ℓ`` the first kink sample on it, a float row of ``Xa``, exact as it is), the
    lines found by :func:`exact_parallel` (no tolerance). ``F_k ≡ 0`` iff ``B = 0`` and every
    ``P_ℓ = 0`` (the functions ``max(v_ℓ·u, 0)`` of distinct lines are independent modulo
    linear functions).

    Returns
    -------
    B : list of list of fmpq, shape (e, D)
    lines : list of (v, P, vv)
        ``v`` the float representative, ``P`` (list of ``e`` fmpq) its coefficient and ``vv``
        the exact ``||v||²``.
    """
    X, R, alpha = state["X"], state["R"], state["alpha"]
    N, D = X.nrows(), X.ncols()
    e = R.ncols()
    pos = state["positive"][:, k]
    one = fmpq(1)
    B = [[fmpq(0) for _ in range(D)] for _ in range(e)]
    reps = []                                     # (row index, v float, P, first nonzero coord)
    for n in range(N):
        on = bool(kinks[n])
        if not on:
            s = one if pos[n] else alpha
            if s == 0:
                continue
            for j in range(e):
                rj = R[n, j] * s
                if rj != 0:
                    for i in range(D):
                        B[j][i] += rj * X[n, i]
            continue
        x = Xa[n]
        if not np.any(x != 0):
            continue                              # ρ(u · 0) = 0
        if alpha != 0:                            # ρ(z) = α z + (1 − α) max(z, 0)
            for j in range(e):
                for i in range(D):
                    B[j][i] += alpha * R[n, j] * X[n, i]
        for rep in reps:
            s = exact_parallel(x, rep[1])
            if s:
                break
        else:
            i0 = int(np.flatnonzero(x != 0)[0])
            rep = [n, x, [fmpq(0)] * e, i0]
            reps.append(rep)
            s = 1
        t = X[n, rep[3]] / X[rep[0], rep[3]]      # x_n = t v, exactly
        at = abs(t) * (one - alpha)
        for j in range(e):
            rep[2][j] += at * R[n, j]             # max(t v·u, 0) = |t| max(±v·u, 0)
        if s < 0:                                 # max(−v·u, 0) = max(v·u, 0) − v·u
            for j in range(e):
                for i in range(D):
                    B[j][i] -= at * R[n, j] * X[rep[0], i]
    lines = []
    for n0, v, P, _ in reps:
        vv = sum((X[n0, i] * X[n0, i] for i in range(D)), fmpq(0))
        lines.append((v, P, vv))
    return B, lines


def exact_first_order_value(B, lines, u):
    """``F_k(u)`` (list of ``e`` fmpq) from :func:`exact_first_order` at a float direction."""
    uq = [fmpq(x) for x in u]
    out = [sum((b * x for b, x in zip(row, uq)), fmpq(0)) for row in B]
    for v, P, _ in lines:
        z = sum((fmpq(a) * b for a, b in zip(v, uq)), fmpq(0))
        if z > 0:
            out = [o + p * z for o, p in zip(out, P)]
    return out
