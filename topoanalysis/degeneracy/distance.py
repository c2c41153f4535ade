"""Distances between realizations: the exact ``W^{1,∞}`` semi-norm and the uniform norm.

For bias-free two-layer ReLU networks the difference ``g = R(Γ) − R(Θ)`` is
``Σ_k s_k ρ(⟨v_k, x⟩)``: its gradient is constant on every region of the central arrangement of
the hyperplanes ``v_k^⊥`` of *both* networks, and every region meets each neighbourhood of 0.
So ``|g|_{W^{1,∞}(Ω)} = ess sup ||∇g|| = max over regions`` (independent of ``Ω``).

Hyperplanes that coincide are merged: neurons on the hyperplane ``n^⊥`` contribute ``P n^T`` on
the side ``n·x > 0`` and ``N n^T`` on the other; a hyperplane with ``P = N`` is no kink and
joins the constant part. Regions are then enumerated

* in 2-D by the sorted angles of the lines (exact);
* in higher dimension by branch and bound over the hyperplanes (incremental enumeration, one
  small LP per new side, SciPy's HiGHS): a node is a partial sign vector with an interior
  witness point; completing the witness gives a genuine region (a certified lower bound) and
  ``||J_partial|| + Σ_rest max(||P_g||, ||N_g||)`` is a certified upper bound, so nodes that
  cannot beat the best region are pruned. When the node budget runs out the result carries both
  bounds (plus sampled regions for the lower one) and ``exact=False``.

Networks with biases are compared on the augmented input ``(x, 1)`` (the paper's setting).
The Jacobian norm is the Euclidean norm for one output and the Frobenius norm for several.
"""

import dataclasses
import heapq
import itertools
import math
from fractions import Fraction

import numpy as np

from .._validation import check_choice, check_float, check_int, check_seed
from ..exceptions import ValidationError
from ._form import pair_forms, shallow_form

__all__ = ["SobolevDistance", "UniformDistance", "Box", "Ball", "sobolev_distance",
           "sobolev_seminorm", "uniform_distance", "linear_regions", "hyperplane_groups"]



@dataclasses.dataclass(frozen=True)
class SobolevDistance:
    """``|R(Γ) − R(Θ)|_{W^{1,∞}}``: value, certified bounds and how it was obtained.

    ``exact=True`` means: hyperplanes grouped and regions decided in rational arithmetic and
    the largest squared Jacobian norm computed in rationals (``squared``); ``value`` is its
    square root correctly rounded to float64, ``lower``/``upper`` the adjacent floats below
    and above it (equal to ``value`` when the root is a float). Otherwise
    ``lower ≤ true value ≤ upper`` are certified bounds; ``certificate`` says what proves
    them, ``change_bound`` is the change caused by a user's ``merge_tol`` (0 without one).
    """

    value: float
    lower: float
    upper: float
    exact: bool
    method: str
    n_hyperplanes: int
    n_regions: int
    dim: int
    augment: str
    certificate: str = ""
    change_bound: float = 0.0
    squared: str = None

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        if self.exact:
            head = f"W^(1,inf) distance {self.value:.6g} (exact, {self.method})"
        else:
            head = (f"W^(1,inf) distance in [{self.lower:.6g}, {self.upper:.6g}] "
                    f"(certified bounds, {self.method})")
        return (f"{head}: {self.n_hyperplanes} hyperplanes in R^{self.dim}, "
                f"{self.n_regions} regions visited, input augmentation {self.augment!r}")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Box:
    """Axis-aligned box ``[low, high]`` in the networks' input space."""

    low: tuple
    high: tuple

    def __post_init__(self):
        lo = np.atleast_1d(_real_vector("Box.low", self.low))
        hi = np.atleast_1d(_real_vector("Box.high", self.high))
        if lo.shape != hi.shape or lo.ndim != 1 or lo.size == 0 or \
                not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))) or \
                not np.all(hi > lo):
            raise ValidationError(f"`Box` must have finite low < high of equal shapes "
                                  f"(at least one coordinate); got low={self.low!r}, "
                                  f"high={self.high!r}.")
        object.__setattr__(self, "low", tuple(lo.tolist()))
        object.__setattr__(self, "high", tuple(hi.tolist()))

    @property
    def dim(self):
        """Dimension of the box."""
        return len(self.low)

    def sample(self, n, rng):
        """Uniform samples of the box.

        Parameters
        ----------
        n : int
            Number of points.
        rng : numpy.random.Generator
            The random stream.

        Returns
        -------
        ndarray of shape (n, dim)
            The points.
        """
        lo, hi = np.array(self.low), np.array(self.high)
        r = rng.random((n, self.dim))
        return lo * (1.0 - r) + hi * r                # no overflow of hi - lo

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"kind": "box", "low": list(self.low), "high": list(self.high)}


@dataclasses.dataclass(frozen=True)
class Ball:
    """Euclidean ball of ``radius`` around ``center`` in the networks' input space."""

    center: tuple
    radius: float

    def __post_init__(self):
        c = np.atleast_1d(_real_vector("Ball.center", self.center))
        if c.ndim != 1 or c.size == 0 or not np.all(np.isfinite(c)):
            raise ValidationError(f"`Ball.center` must be a finite vector with at least one "
                                  f"coordinate; got {self.center!r}.")
        r = check_float("Ball.radius", self.radius, minimum=0.0, strict_min=True)
        object.__setattr__(self, "center", tuple(c.tolist()))
        object.__setattr__(self, "radius", r)

    @property
    def dim(self):
        """Dimension of the ball."""
        return len(self.center)

    def sample(self, n, rng):
        """Uniform samples of the ball.

        Parameters
        ----------
        n : int
            Number of points.
        rng : numpy.random.Generator
            The random stream.

        Returns
        -------
        ndarray of shape (n, dim)
            The points.
        """
        z = rng.normal(size=(n, self.dim))
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        r = self.radius * rng.random(n) ** (1.0 / self.dim)
        return np.array(self.center) + z * r[:, None]

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"kind": "ball", "center": list(self.center), "radius": self.radius}


def _real_vector(name, value):
    from .._validation import check_array

    return check_array(name, value, ndim=(0, 1), finite=False)


# --- hyperplane groups -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Groups:
    normals: np.ndarray   # (G, D) unit normals (float)
    plus: np.ndarray      # (G, e) contribution on n·x > 0 (float, unit-normal convention)
    minus: np.ndarray     # (G, e) contribution on n·x < 0
    const: np.ndarray     # (e, D) constant part of the Jacobian
    members: list         # neuron indices of each group
    keys: list = None     # exact line directions (Fractions: the first neuron's weight vector)
    plus_q: list = None   # exact contributions in the key convention: gradient P key^T
    minus_q: list = None
    const_q: list = None  # exact constant part, e rows of D Fractions
    exact: bool = True    # grouping decided exactly (no tolerance)
    dirs: np.ndarray = None   # (G, D) float weight vector of each line's first neuron
    change_bound: float = 0.0   # W^{1,inf} change caused by a user's merge tolerance


def _norm(v):
    """``||v||`` without intermediate overflow (power-of-two scaling)."""
    m = float(np.abs(v).max(initial=0.0))
    if m == 0:
        return 0.0
    k = math.frexp(m)[1]
    with np.errstate(over="ignore"):
        return float(np.ldexp(np.linalg.norm(np.ldexp(v, -k)), k))


def _unit(v):
    """``v / ||v||`` in floats without overflow or underflow (scale by a power of two first)."""
    m = float(np.abs(v).max())
    k = math.frexp(m)[1]
    w = np.ldexp(v, -k)
    return w / np.linalg.norm(w)


def hyperplane_groups(V, S, merge_tol=None):
    """Group neurons ``s_k ρ(⟨v_k, x⟩)`` by hyperplane.

    Parameters
    ----------
    V : ndarray of shape (M, D)
        Weight vectors.
    S : ndarray of shape (M, e)
        Output vectors.
    merge_tol : float or None, default=None
        ``None``: two neurons share a hyperplane iff their weight vectors are parallel
        *exactly* (all 2×2 minors zero in rational arithmetic), and a hyperplane is no kink iff
        its two sides' contributions are equal exactly. A float is a *modelling* choice: unit
        normals with ``|n_i · n_j| ≥ 1 − merge_tol`` are treated as one hyperplane; the
        groups then describe a nearby function, ``exact`` is False and ``change_bound`` bounds
        ``|g − g_merged|_{W^{1,∞}}`` by ``Σ_moved ||s_k|| ||v_k||``.

    Returns
    -------
    _Groups
        Unit normals, the Jacobian contributions ``P_g`` (side ``n·x > 0``) and ``N_g``,
        the constant part (hyperplanes that are no kink) and the neurons of each group, plus
        their exact rational counterparts.

    See Also
    --------
    linear_regions, sobolev_distance

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 3: the
           gradient of a realization jumps by c_i a_i across the hyperplane of neuron i (the
           W^{1,∞} semi-norm).
    """
    from ._exact import rat

    V = np.asarray(V, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    M, D = V.shape
    e = S.shape[1]
    if merge_tol is not None:
        return _groups_tolerance(V, S, merge_tol)
    keys, lams, members = [], [], []
    for grp in _parallel_classes(V):
        lead = V[grp[0]]
        i0 = int(np.flatnonzero(lead)[0])
        q0 = Fraction(float(lead[i0]))
        keys.append(tuple(Fraction(float(x)) for x in lead))     # the first neuron's vector
        members.append(list(grp))
        lams.append([Fraction(1)] + [Fraction(float(V[k][i0])) / q0 for k in grp[1:]])
    zero = [Fraction(0)] * e
    const_q = [[Fraction(0)] * D for _ in range(e)]
    keep = []
    Pq, Nq = [], []
    for g, key in enumerate(keys):
        P, N = list(zero), list(zero)
        for k, lam in zip(members[g], lams[g]):
            sk = [rat(x) for x in S[k]]
            if lam > 0:
                P = [p + lam * x for p, x in zip(P, sk)]
            else:
                N = [n + lam * x for n, x in zip(N, sk)]
        if P == N:                       # no kink: the linear function P ⟨key, x⟩
            if any(p != 0 for p in P):
                for i in range(e):
                    for j in range(D):
                        const_q[i][j] += P[i] * key[j]
        else:
            keep.append(g)
        Pq.append(P)
        Nq.append(N)
    # float versions in the unit-normal convention: gradient P_g n_g^T with n_g = key / ||key||,
    # i.e. P_g ||key||, rounded from the exact sums (a float sum over the members would carry
    # the rounding of cancelling members, far above the error bound E computed from the sums)
    normals, plus, minus = [], [], []
    for g in keep:
        lead = V[members[g][0]]
        n = _unit(lead)
        kn = math.frexp(_norm(lead))[1]         # ||key|| = 2^kn · m, m in [1/2, 1)
        m = math.ldexp(_norm(lead), -kn)
        two = Fraction(2) ** kn
        with np.errstate(over="ignore", invalid="ignore"):     # overflow: refused later
            pl = np.array([_float_or_inf(x * two) for x in Pq[g]]) * m
            mi = np.array([_float_or_inf(x * two) for x in Nq[g]]) * m
        normals.append(n)
        plus.append(pl)
        minus.append(mi)
    const = np.array([[_float_or_inf(x) for x in row] for row in const_q]).reshape(e, D)
    return _Groups(
        normals=np.array(normals).reshape(len(keep), D),
        plus=np.array(plus).reshape(len(keep), e), minus=np.array(minus).reshape(len(keep), e),
        const=const, members=[members[g] for g in keep], keys=[keys[g] for g in keep],
        plus_q=[Pq[g] for g in keep], minus_q=[Nq[g] for g in keep], const_q=const_q,
        exact=True, change_bound=0.0,
        dirs=np.array([V[members[g][0]] for g in keep]).reshape(len(keep), D))


def _parallel_classes(V, block=1024):
    """Classes of exactly parallel non-zero rows of ``V`` (same line), in order of appearance.

    Float filter: exactly parallel rows have ``|cos| = 1`` up to ``(D + 2)`` rounding errors,
    so only pairs with ``|cos| ≥ 1 − 1e-9`` (a bound far above the rounding of any ``D`` below
    10⁶) are candidates; each candidate pair is decided exactly (rational line keys). Rows
    are compared blockwise (``O(M²D)`` flops, ``O(block · M)`` memory).
    """
    from ._exact import line_key

    nz = [k for k in range(len(V)) if np.any(V[k] != 0)]
    if not nz:
        return []
    U = np.array([_unit(V[k]) for k in nz])
    parent = list(range(len(nz)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    keys = {}
    for start in range(0, len(nz), block):
        C = np.abs(U[start:start + block] @ U.T)
        ii, jj = np.nonzero(C >= 1.0 - 1e-9)
        for i, j in zip(ii + start, jj):
            if j <= i:
                continue
            for k in (i, j):
                if k not in keys:
                    keys[k] = line_key(V[nz[k]])[0]
            if keys[i] == keys[j]:
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    classes = {}
    for i in range(len(nz)):
        classes.setdefault(find(i), []).append(nz[i])
    return [classes[r] for r in sorted(classes)]


def _log2(sq):
    try:
        q = Fraction(sq)
        return q.numerator.bit_length() - q.denominator.bit_length()
    except (TypeError, ValueError):
        return "?"


def _float_or_inf(q):
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def _finite_key(key):
    try:
        return all(math.isfinite(float(x)) for x in key)
    except OverflowError:
        return False


def _groups_tolerance(V, S, merge_tol):
    """The tolerance grouping (a user's modelling choice): not exact, with a change bound."""
    D, e = V.shape[1], S.shape[1]
    norms = np.linalg.norm(V, axis=1)
    from ._exact import line_key

    normals, plus, minus, members, lines = [], [], [], [], []
    moved = 0.0
    # a neuron moved onto the normal m of its group changes the gradient by at most
    # ||s_k|| ||v_k|| max(1, ||n_k ∓ m||), ||n_k ∓ m||² = 2 − 2|n_k·m| ≤ 2 merge_tol
    factor = max(1.0, math.sqrt(2.0 * merge_tol))
    for k in np.flatnonzero(norms > 0):
        n = V[k] / norms[k]
        u = S[k] * norms[k]
        for g, m in enumerate(normals):
            dot = float(n @ m)
            if abs(dot) >= 1.0 - merge_tol:
                if dot > 0:
                    plus[g] += u
                else:              # v_k = −||v_k|| n: gradient −u nᵀ where n·x < 0
                    minus[g] -= u
                members[g].append(int(k))
                # not moved only when exactly on the group's line (equal float normals can
                # belong to different lines: the wedge between them has gradient jump s_k v_k)
                if line_key(V[k])[0] != lines[g]:
                    moved += factor * float(np.linalg.norm(u))    # ||s_k|| ||v_k||
                break
        else:
            normals.append(n)
            plus.append(u.copy())
            minus.append(np.zeros(e))
            members.append([int(k)])
            lines.append(line_key(V[k])[0])
    const = np.zeros((e, D))
    keep = []
    for g in range(len(normals)):
        if np.allclose(plus[g], minus[g], rtol=0.0, atol=merge_tol * (1 + np.abs(plus[g]).max())):
            const += np.outer(plus[g], normals[g])
            moved += float(np.linalg.norm(plus[g] - minus[g]))
        elif np.any(plus[g] != 0) or np.any(minus[g] != 0):
            keep.append(g)
    return _Groups(
        normals=np.array([normals[g] for g in keep]).reshape(len(keep), D),
        plus=np.array([plus[g] for g in keep]).reshape(len(keep), e),
        minus=np.array([minus[g] for g in keep]).reshape(len(keep), e),
        const=const, members=[members[g] for g in keep], exact=False, change_bound=moved,
        # the merged function's lines are the float normals themselves (2-D sort needs them)
        dirs=np.array([normals[g] for g in keep]).reshape(len(keep), D))


def _jacobians(groups, signs):
    """Jacobians ``(R, e, D)`` for sign vectors ``(R, G)`` in {+1, −1}."""
    pos = signs > 0
    contrib = np.where(pos[:, :, None], groups.plus[None], groups.minus[None])    # (R, G, e)
    return groups.const[None] + np.einsum("rge,gd->red", contrib, groups.normals)


def _fro(X, axis=None):
    """Euclidean/Frobenius norm over ``axis`` without underflow or spurious overflow.

    Each norm is taken of the block scaled by a power of two (exact) that brings its largest
    entry to ``[1/2, 1)``: squares of entries near ``2^{-540}`` would otherwise flush to
    (sub)normal zero with an absolute error far above the proven bound ``E``.
    """
    X = np.asarray(X, dtype=np.float64)
    if axis is None:
        axis = tuple(range(X.ndim))
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.max(np.abs(X), axis=axis, keepdims=True, initial=0.0)
        k = np.frexp(m)[1]                       # 0 for m = 0, inf or nan
        Y = np.ldexp(X, -k)
        n = np.sqrt(np.sum(Y * Y, axis=axis, keepdims=True))
        return np.squeeze(np.ldexp(n, k), axis=axis)


def _norms(J):
    return _fro(J, (-2, -1))


def _exact_sq_norm(groups, sign):
    """``||J||_F²`` of the region with sign vector ``sign``, exactly (a ``Fraction``)."""
    e = len(groups.const_q)
    D = len(groups.const_q[0]) if e else 0
    J = [list(row) for row in groups.const_q]
    for g, s in enumerate(sign):
        c = groups.plus_q[g] if s > 0 else groups.minus_q[g]
        key = groups.keys[g]
        for i in range(e):
            if c[i] != 0:
                ci = c[i]
                row = J[i]
                for j in range(D):
                    row[j] += ci * key[j]
    return sum(x * x for row in J for x in row)


def _sqrt_fraction(q):
    """``sqrt(q)`` for a non-negative ``Fraction``, without overflow (error ≤ 2 ulp)."""
    if q == 0:
        return 0.0
    k = (q.numerator.bit_length() - q.denominator.bit_length()) // 2
    scaled = q / (Fraction(4) ** k) if k >= 0 else q * (Fraction(4) ** (-k))
    try:
        return math.ldexp(math.sqrt(float(scaled)), k)
    except OverflowError:                    # beyond float64: the caller refuses it
        return math.inf


def _sqrt_bounds(q):
    """``(down, nearest, up)``: floats with ``down ≤ sqrt(q) ≤ up`` proven in rationals.

    ``nearest`` is the correctly rounded square root (the closer of ``down`` and ``up``,
    decided exactly); all three are equal when ``sqrt(q)`` is a float. Beyond float64 all
    three are ``inf`` (the caller refuses it).
    """
    q = Fraction(q)
    v = _sqrt_fraction(q)
    if not math.isfinite(v):
        return v, v, v
    down = up = v
    while down > 0 and Fraction(down) ** 2 > q:
        down = math.nextafter(down, 0.0)
    while Fraction(down) ** 2 < q and Fraction(math.nextafter(down, math.inf)) ** 2 <= q:
        down = math.nextafter(down, math.inf)
    up = down if Fraction(down) ** 2 == q else math.nextafter(down, math.inf)
    if not math.isfinite(up):
        return up, up, up
    if down == up:
        return down, down, up
    mid = (Fraction(down) + Fraction(up)) / 2
    nearest = down if mid * mid >= q else up      # a tie (never for a rational q) goes down
    return down, nearest, up


def _sign_rows(groups):
    """Float rows with exactly the hyperplanes' directions, for exact sign decisions.

    The unit normals are rounded (``v / ||v||`` is not a float vector in general), so a point
    on or within rounding of a hyperplane could get a sign the true hyperplane does not give
    it (a pool point on three concurrent planes received an impossible sign pattern). The
    first neuron's weight vector is exact; it is scaled by a power of two (exactly, else kept
    as it is) to keep the float filter of :func:`exact_signs` away from under/overflow.
    """
    rows = np.array(groups.dirs, dtype=np.float64, copy=True)
    for i, d in enumerate(rows):
        m = float(np.abs(d).max(initial=0.0))
        if m == 0 or not math.isfinite(m):
            continue
        k = math.frexp(m)[1]
        sc = np.ldexp(d, -k)
        if np.array_equal(np.ldexp(sc, k), d):
            rows[i] = sc
    return rows


def _global_error(groups):
    """Absolute bound on the float error of any region's ``||J||`` or node bound."""
    from ._exact import float_sum_error

    G = len(groups.normals)
    mag = float(_fro(groups.const)) + float(
        np.sum(_fro(groups.plus, 1) + _fro(groups.minus, 1)))
    e, D = groups.const.shape
    return 8.0 * float_sum_error(G + D * e + 8) * mag + 1e-300


# --- region enumeration ----------------------------------------------------------------------
def _regions_1d(groups):
    signs = np.array([[1.0], [-1.0]]) * np.sign(groups.normals[:, 0])[None, :]
    return signs


def _regions_2d(groups):
    """Sign vectors of all regions of a central line arrangement in R^2, decided exactly.

    The boundary rays ``±(−v_2, v_1)`` of the lines (``v`` the float weight vector of the
    line's first neuron: an exact direction) are sorted by angle — in floats first, then every
    adjacent pair is checked with exact half-plane and cross-product tests (a sequence whose
    adjacent pairs are in order is sorted; an exact sort is the fallback). The first sector's
    signs are taken exactly at a rational interior point (the sum of its two boundary rays)
    and each next sector flips the one line whose ray it crosses (distinct lines have
    distinct rays).
    """
    import functools

    dirs = groups.dirs
    G = len(dirs)
    fl = np.concatenate([np.stack([-dirs[:, 1], dirs[:, 0]], axis=1),
                         np.stack([dirs[:, 1], -dirs[:, 0]], axis=1)])
    owner = np.concatenate([np.arange(G), np.arange(G)])
    ang = np.mod(np.arctan2(fl[:, 1], fl[:, 0]), 2 * np.pi)
    order = np.argsort(ang, kind="stable")
    q = [(Fraction(float(x)), Fraction(float(y))) for x, y in fl]

    def half(r):
        return 0 if (r[1] > 0 or (r[1] == 0 and r[0] > 0)) else 1

    def cmp(i, j):
        p_, q_ = q[i], q[j]
        hp, hq = half(p_), half(q_)
        if hp != hq:
            return hp - hq
        c = p_[0] * q_[1] - p_[1] * q_[0]
        return -1 if c > 0 else (1 if c < 0 else 0)

    if not all(cmp(order[k], order[k + 1]) < 0 for k in range(len(order) - 1)):
        order = sorted(range(len(q)), key=functools.cmp_to_key(cmp))
    rays = [(q[i], int(owner[i])) for i in order]
    p, r2 = rays[0][0], rays[1][0]
    if p[0] * r2[1] - p[1] * r2[0] > 0:
        mid = (p[0] + r2[0], p[1] + r2[1])
    else:                                   # one line: the two rays are opposite
        mid = (-p[1], p[0])
    sign = np.array([1.0 if Fraction(float(v[0])) * mid[0] + Fraction(float(v[1])) * mid[1] > 0
                     else -1.0 for v in dirs])
    out = [sign.copy()]
    for r, g in rays[1:]:
        sign[g] = -sign[g]
        out.append(sign.copy())
    return np.array(out)


def _lp_witness(normals, signs, D):
    """Candidate interior point of the open cone ``signs_i n_i·x > 0``: max t s.t. margins ≥ t.

    Returns the LP's point (or None); the caller verifies it exactly.
    """
    from scipy.optimize import linprog

    c = np.zeros(D + 1)
    c[-1] = -1.0
    A_ub = np.concatenate([-(signs[:, None] * normals), np.ones((len(signs), 1))], axis=1)
    b_ub = np.zeros(len(signs))
    bounds = [(-1.0, 1.0)] * D + [(0.0, 1.0)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0 or not (-res.fun > 0):
        return None
    return res.x[:D]


def _farkas_empty(keys, signs, normals):
    """Exact proof that the open cone ``{x : s_i ⟨k_i, x⟩ > 0}`` is empty (Gordan's theorem).

    Looks for ``y ≥ 0, y ≠ 0`` with ``Σ y_i s_i k_i = 0``: an LP (HiGHS) proposes the support,
    the exact null space of those columns (python-flint) gives rational candidates, and the
    certificate is accepted only if its entries are exactly non-negative and not all zero.
    """
    from scipy.optimize import linprog

    A = np.asarray(signs, dtype=np.float64)[:, None] * normals                       # (m, D)
    m = len(A)
    res = linprog(np.zeros(m), A_eq=np.concatenate([A.T, np.ones((1, m))]),
                  b_eq=np.concatenate([np.zeros(A.shape[1]), [1.0]]),
                  bounds=[(0, None)] * m, method="highs")
    if res.status != 0:
        return False
    y = res.x
    supp = np.flatnonzero(y > 1e-12 * y.max())
    Aq = [[Fraction(int(s)) * x for x in keys[i]] for i, s in ((i, signs[i]) for i in supp)]
    basis = _nullspace_q(Aq)
    if not basis:
        return False
    basis = [[x / max(abs(y) for y in b) for x in b] for b in basis]
    B = np.array([[float(x) for x in b] for b in basis]).T               # |supp| × r
    coef, *_ = np.linalg.lstsq(B, y[supp], rcond=None)
    cand = [sum(Fraction(float(c)) * b[i] for c, b in zip(coef, basis)) for i in range(len(supp))]
    if all(c >= 0 for c in cand) and any(c > 0 for c in cand):
        return True
    if len(basis) == 1:
        b = basis[0]
        if all(c <= 0 for c in b) and any(c < 0 for c in b):
            return True
    return False


def _exact_cone_witness(rows, max_subsets=20_000):
    """Decide ``{x : ⟨r_i, x⟩ > 0 ∀ i}`` exactly; a rational interior point, ``None`` or ``False``.

    ``rows`` are rational vectors. The lineality space is split off (``x = Rᵀ z`` with ``R``
    independent rows), then the extreme rays of the pointed cone ``{z : A' z ≥ 0}`` are the
    one-dimensional null spaces of ``r − 1`` rows oriented into the cone; their sum is interior
    when the open cone is non-empty (a positive combination of all generators of a full-
    dimensional pointed cone), and otherwise the open cone is empty. Returns the witness (a
    tuple of ``Fraction``), ``False`` when proven empty, ``None`` when the enumeration would
    exceed ``max_subsets``.
    """
    import math as _m

    rows = [list(r) for r in rows]
    if not rows:
        return None
    D = len(rows[0])
    # independent rows (exact elimination)
    basis, echelon = [], []
    for r in rows:
        v = list(r)
        for piv, e in echelon:
            if v[piv] != 0:
                f = v[piv] / e[piv]
                v = [a - f * b for a, b in zip(v, e)]
        nzp = next((i for i, a in enumerate(v) if a != 0), None)
        if nzp is not None:
            echelon.append((nzp, v))
            basis.append(r)
    rk = len(basis)
    Ap = [[sum(a * b for a, b in zip(r, R)) for R in basis] for r in rows]     # m × rk
    if rk == 1:
        col = [a[0] for a in Ap]
        for sgn in (1, -1):
            if all(sgn * c > 0 for c in col):
                z = [Fraction(sgn)]
                return tuple(sum(z[j] * basis[j][i] for j in range(rk)) for i in range(D))
        return False
    if _m.comb(len(Ap), rk - 1) > max_subsets:
        return None
    total = [Fraction(0)] * rk
    found = False
    for sub in itertools.combinations(range(len(Ap)), rk - 1):
        # null space of the matrix whose rows are Ap[sub] (_nullspace_q takes columns)
        ns = _nullspace_q([list(col) for col in zip(*[Ap[i] for i in sub])])
        if len(ns) != 1:
            continue
        y = ns[0]
        vals = [sum(a * b for a, b in zip(row, y)) for row in Ap]
        for sgn in (1, -1):
            if all(sgn * v >= 0 for v in vals):
                m_ = max(abs(c) for c in y)
                total = [t + sgn * c / m_ for t, c in zip(total, y)]
                found = True
                break
    if not found:
        return False
    if all(sum(a * b for a, b in zip(row, total)) > 0 for row in Ap):
        return tuple(sum(total[j] * basis[j][i] for j in range(rk)) for i in range(D))
    return False


def _nullspace_q(rows_as_columns):
    """Null space over ℚ of the matrix whose *columns* are ``rows_as_columns`` (Fractions)."""
    import flint

    cols = rows_as_columns
    D = len(cols[0])
    # matrix D × n with integer entries (clear denominators per row)
    mat = [[cols[j][i] for j in range(len(cols))] for i in range(D)]
    ints = []
    for row in mat:
        den = 1
        for x in row:
            den = den * x.denominator // math.gcd(den, x.denominator)
        ints.append([int(x * den) for x in row])
    X, nullity = flint.fmpz_mat(ints).nullspace()
    return [[Fraction(int(X[i, j])) for i in range(X.nrows())] for j in range(int(nullity))]


def _branch_and_bound(groups, *, max_nodes, prune, progress, n_pool=4096, seed=0):
    """Max of ``||J||`` over the regions; returns (lower, upper, exact, n_nodes, leaves, best).

    Nodes are partial sign vectors over the hyperplanes (largest contributions first) with an
    interior witness point. A pool of random directions supplies witnesses (a pool point whose
    signs match the node's lies inside its cone) and lower bounds; an LP is solved only for a
    side no pool point reaches. The upper bound of a node is the least of
    ``||J_p|| + Σ_rest max(||P_g||, ||N_g||)``, ``||J_p + Σ_rest N_g n_gᵀ|| + Σ_rest ||P_g − N_g||``
    and ``||J_p + Σ_rest P_g n_gᵀ|| + Σ_rest ||P_g − N_g||`` (triangle inequalities).

    Certification: every sign of a witness is decided exactly (:func:`exact_signs`), so every
    region used is a genuine region; a side the LP finds empty is discarded only with an exact
    Gordan certificate (:func:`_farkas_empty`); a node is pruned only when its bound plus
    twice the proven float error ``E`` is below the best region, and the regions within ``2E``
    of the best are re-evaluated in rationals. ``best`` is the exact squared norm.
    """
    from ._exact import exact_signs

    G, D = groups.normals.shape
    order = np.argsort(-(_fro(groups.plus, 1) + _fro(groups.minus, 1)), kind="stable")
    nrm = groups.normals[order]
    P, N = groups.plus[order], groups.minus[order]
    keys = [groups.keys[g] for g in order] if groups.keys is not None else None
    certify = keys is not None
    sgn_rows = _sign_rows(groups)[order] if certify else None
    e = P.shape[1]
    E = _global_error(groups) if certify else 0.0

    def suffix(values):
        return np.concatenate([np.cumsum(values[::-1], axis=0)[::-1], np.zeros((1,) + values.shape[1:])])

    rest_max = suffix(np.maximum(_fro(P, 1), _fro(N, 1)))
    rest_jump = suffix(_fro(P - N, 1))
    rest_N = suffix(np.einsum("ge,gd->ged", N, nrm))            # (G+1, e, D)
    rest_P = suffix(np.einsum("ge,gd->ged", P, nrm))
    const = groups.const

    def jac(signs_full):
        contrib = np.where(signs_full[..., None] > 0, P, N)
        return const + np.einsum("...ge,gd->...ed", contrib, nrm)

    def upper_bound(Jp, depth):
        return min(float(_fro(Jp)) + rest_max[depth],
                   float(_fro(Jp + rest_N[depth])) + rest_jump[depth],
                   float(_fro(Jp + rest_P[depth])) + rest_jump[depth])

    def signs_of(Zm, upto=None):
        lo_, hi_ = (0, G) if upto is None else upto
        if isinstance(Zm, tuple):                   # a rational witness: signs in Fraction
            out = []
            for k in keys[lo_:hi_]:
                v = sum(a * b for a, b in zip(k, Zm))
                out.append((v > 0) - (v < 0))
            return np.array([out], dtype=float).reshape(1, hi_ - lo_)
        Nm = nrm[lo_:hi_]
        if certify:                       # exact directions, not the rounded unit normals
            return exact_signs(sgn_rows[lo_:hi_], Zm)
        sg = np.sign(Zm @ Nm.T)
        return sg

    def point(x):
        return x if isinstance(x, tuple) else x[None]

    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_pool, D))
    Zs = signs_of(Z)
    ok_rows = np.all(Zs != 0, axis=1)
    cands = []                                   # (float norm, sign vector) of genuine regions
    best = -1.0
    if prune and ok_rows.any():
        norms = _norms(jac(Zs[ok_rows]))
        best = float(norms.max())
        for r in np.flatnonzero(norms >= best - 2 * E):
            cands.append((float(norms[r]), Zs[ok_rows][r].copy()))
    leaves = []
    unresolved = -np.inf
    root = (-np.inf, 0, 0, np.zeros(0), Z[0], np.arange(n_pool), np.zeros((e, D)) + const)
    heap = [root]                   # (−upper, tiebreak, depth, signs, witness, pool, J_partial)
    counter = itertools.count(1)
    expanded = 0
    from .._progress import progress_bar

    bar = progress_bar(progress, total=max_nodes, desc="regions", unit="node")
    while heap:
        node = heapq.heappop(heap)
        neg_ub, _, depth, signs, x, pool, Jp = node
        if prune and -neg_ub + 2 * E < best:
            heapq.heappush(heap, node)
            break
        rest = signs_of(point(x), (depth, G))[0]
        if np.all(rest != 0):
            full = np.concatenate([signs, rest])
            val = float(_fro(jac(full)))
            if val >= best - 2 * E:
                cands.append((val, full))
            best = max(best, val)
        if depth == G:
            leaves.append(signs)
            continue
        if expanded >= max_nodes:
            heapq.heappush(heap, node)
            break
        expanded += 1
        if bar is not None:
            bar.update(1)
        s_here = rest[0]
        for s in (1.0, -1.0):
            child = np.concatenate([signs, [s]])
            sub = pool[Zs[pool, depth] == s]
            Jc = Jp + np.outer(P[depth] if s > 0 else N[depth], nrm[depth])
            ub = upper_bound(Jc, depth + 1)
            if prune and ub + 2 * E < best:
                continue
            if s == s_here:
                w = x
            elif len(sub):
                w = Z[sub[0]]
            else:
                w = _lp_witness(nrm[:depth + 1], child, D)
                if w is not None and certify and not np.array_equal(
                        signs_of(w[None], (0, depth + 1))[0], child):
                    w = None
                if w is None and certify:
                    if _farkas_empty(keys[:depth + 1], child, nrm[:depth + 1]):
                        continue
                    # thin cone (or LP noise): decide it exactly, with a rational witness
                    rows = [[Fraction(int(sg)) * a for a in k]
                            for k, sg in zip(keys[:depth + 1], child)]
                    w = _exact_cone_witness(rows)
                    if w is False:
                        continue
                    if w is None:
                        unresolved = max(unresolved, ub)
                        continue
                elif w is None:
                    continue
            heapq.heappush(heap, (-ub, next(counter), depth + 1, child, w, sub, Jc))
    if bar is not None:
        bar.close()
    top = -heap[0][0] if heap else -np.inf
    closed = (not heap) or (prune and top + 2 * E < best)
    exact = bool(closed and not (unresolved + 2 * E >= best))
    inv = np.empty_like(order)
    inv[order] = np.arange(G)
    leaves = [lf[inv] for lf in leaves]
    best_sq = None
    if certify and cands:
        top_c = max(c[0] for c in cands)
        best_sq = max(_exact_sq_norm(groups, c[1][inv]) for c in cands if c[0] >= top_c - 2 * E)
        lower = _sqrt_bounds(best_sq)[0]
    else:
        lower = max(best, 0.0)
    upper = lower if exact else max(lower, (top if not closed else -np.inf) + 2 * E,
                                    unresolved + 2 * E)
    if not certify:
        exact = False
    return lower, float(upper), exact, expanded, leaves, best_sq
def _check_vs(V, S):
    from .._validation import check_array

    V = check_array("V", V, ndim=2)
    S = check_array("S", S, ndim=(1, 2))
    if S.ndim == 1:
        S = S[:, None]
    if len(S) != len(V) or V.shape[1] == 0:
        raise ValidationError(f"`S` must have one row per row of `V` (and `V` at least one "
                              f"column); got shapes {V.shape} and {S.shape}.")
    return V, S


#: Largest number of LPs :func:`linear_regions` may be asked for (about 30 s at ~3 ms each).
LINEAR_REGIONS_MAX_LPS = 10_000


def linear_regions(V, S, *, max_nodes=100_000):
    """All regions of the central arrangement of the neurons ``s_k ρ(⟨v_k, x⟩)``.

    Parameters
    ----------
    V : array_like of shape (M, D)
        Weight vectors (rows), real and finite.
    S : array_like of shape (M, e) or (M,)
        Output vectors.
    max_nodes : int, default=100000
        Budget of the enumeration in dimension ≥ 3.

    Returns
    -------
    signs : ndarray of shape (R, G)
        One sign vector per region (over the hyperplanes, grouped exactly).
    jacobians : ndarray of shape (R, e, D)
        The constant Jacobian of the function on each region.

    Raises
    ------
    ValidationError
        Non-real, non-finite or mismatched ``V``/``S``; a budget too small to enumerate.

    See Also
    --------
    hyperplane_groups, sobolev_distance

    Notes
    -----
    Hyperplanes are grouped exactly (rational 2×2 minors). 2-D: exact angular sort,
    ``O(G log G)``. Higher dimension: incremental enumeration with one LP per new side (no
    pruning), every witness verified exactly; the number of regions of ``G`` generic central
    hyperplanes in ``R^D`` is ``2 Σ_{i<D} C(G−1, i)``.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 3 (the
           W^{1,∞} semi-norm is the largest Jacobian over the linear regions).
    .. [2] T. Zaslavsky, "Facing up to arrangements: face-count formulas for partitions of
           space by hyperplanes", Mem. AMS 154, 1975: the number of regions of a central
           arrangement.
    """
    V, S = _check_vs(V, S)
    max_nodes = check_int("max_nodes", max_nodes, minimum=1)
    big = float(np.abs(V).max(initial=0.0)) * float(np.abs(S).max(initial=0.0)) * len(V)
    if not big <= 1e150:
        raise ValidationError(f"`V` and `S` must have products |s_k| |v_k| of size at most 1e150 "
                              f"(the Jacobians' squared norms must fit in float64); got about "
                              f"{big:.3g}. Rescale them: "
                              "the regions depend only on the directions of `V`.")
    groups = hyperplane_groups(V, S)
    G, D = groups.normals.shape
    if D >= 3 and G:
        # estimated before enumerating: one LP (~3 ms) per side of every region, at most
        # 2 Σ_{i<D} C(G−1, i) regions (capped by max_nodes)
        from math import comb

        from .._validation import check_work

        bound = 2 * sum(comb(G - 1, i) for i in range(min(D, G)))
        check_work("V", float(min(bound, max_nodes)) * G, limit=LINEAR_REGIONS_MAX_LPS,
                   unit=f"LPs ({G} hyperplanes in dimension {D}: up to {bound:.3g} regions)",
                   fix="use fewer neurons or a lower dimension, or lower `max_nodes`",
                   about="about half a minute at ~3 ms per LP")
    if G == 0:
        signs = np.zeros((1, 0))
    elif D == 1:
        signs = _regions_1d(groups)
    elif D == 2:
        signs = _regions_2d(groups)
    else:
        _, _, exact, _, leaves, _ = _branch_and_bound(groups, max_nodes=max_nodes, prune=False,
                                                      progress=False)
        if not exact:
            raise ValidationError(f"`max_nodes` must be large enough to enumerate every region; "
                                  f"got {max_nodes}.")
        signs = np.array(leaves).reshape(len(leaves), G)
    return signs, _jacobians(groups, signs)


def _seminorm(V, S, *, max_nodes, n_samples, seed, progress, certify="exact", merge_tol=None):
    """(value, lower, upper, exact, method, n_regions, G, certificate, change_bound, squared)."""
    groups = hyperplane_groups(V, S, merge_tol)
    G, D = groups.normals.shape
    cb = groups.change_bound
    if not groups.exact:
        # the tolerance grouping sums the members' contributions in floats (cancellation):
        # widen by a bound on every float error, from the members' magnitudes
        from ._exact import float_sum_error

        with np.errstate(all="ignore"):
            mag = float(sum(_norm(S[k]) * _norm(V[k]) for k in range(len(V))))
        wide = cb + 16.0 * float_sum_error(len(V) + D * S.shape[1] + 8) * mag + 1e-300
    else:
        wide = cb
    if G == 0:
        if groups.exact:
            sq = sum(x * x for row in groups.const_q for x in row)
            lo, v, hi = _sqrt_bounds(sq)
            return (v, lo, hi, True, "no hyperplanes", 1, 0,
                    "every hyperplane is no kink (decided in rationals): the gradient is the "
                    "constant Jacobian, its norm computed in rationals", 0.0, str(sq))
        v = float(np.linalg.norm(groups.const))
        return (v, max(0.0, v - wide), v + wide, False, "no hyperplanes (merged with merge_tol)", 1,
                0, "tolerance grouping: not exact", cb, None)
    if D <= 2:
        signs = _regions_1d(groups) if D == 1 else _regions_2d(groups)
        method = "sorted angles" if D == 2 else "two half-lines"
        with np.errstate(all="ignore"):
            vals = _norms(_jacobians(groups, signs))
            E = _global_error(groups)
        if not groups.exact:
            v = float(vals.max())
            return (v, max(0.0, v - wide), v + wide, False, method + " (merged with merge_tol)",
                    len(signs), G, "tolerance grouping: the true distance is within "
                    "change_bound of the value", cb, None)
        finite = bool(np.all(np.isfinite(vals))) and math.isfinite(E)
        if certify == "float" and finite:
            v = float(vals.max())
            return (v, max(0.0, v - E), v + E, False, method + " (float norms)", len(signs), G,
                    "regions decided exactly; norms in float64 within the proven bound "
                    f"{E:.2g}", 0.0, None)
        if finite:
            cand = np.flatnonzero(vals >= vals.max() - 2 * E)
        else:
            cand = np.arange(len(signs))
        sq = max(_exact_sq_norm(groups, signs[r]) for r in cand)
        lo, v, hi = _sqrt_bounds(sq)
        return (v, lo, hi, True, method, len(signs), G,
                "hyperplanes grouped and regions enumerated in rationals (exact angular "
                "sort); the largest squared Jacobian norm computed in rationals "
                f"({len(cand)} candidate region(s) within the float filter's bound)",
                0.0, str(sq))
    if not (np.all(np.isfinite(groups.plus)) and np.all(np.isfinite(groups.minus))
            and np.all(np.isfinite(groups.const))):
        raise ValidationError("`net_a`/`net_b` must have parameters whose products |c_k| ||a_k|| "
                              "fit in float64 for the branch and bound in dimension >= 3; got "
                              "overflowing products (rescale the networks: the distance scales "
                              "linearly in each layer).")
    lower, upper, exact, n_nodes, _, sq = _branch_and_bound(groups, max_nodes=max_nodes,
                                                            prune=True, progress=progress)
    method = "branch and bound over regions (HiGHS LPs)"
    if not exact and n_samples:
        rng = np.random.default_rng(seed)
        Z = rng.normal(size=(n_samples, D))
        if groups.exact:
            from ._exact import exact_signs
            signs = exact_signs(_sign_rows(groups), Z)
            signs = signs[np.all(signs != 0, axis=1)]
            if len(signs):
                vals = _norms(_jacobians(groups, signs))
                r = int(np.argmax(vals))
                lower = max(lower, _sqrt_bounds(_exact_sq_norm(groups, signs[r]))[0])
        else:
            signs = np.sign(Z @ groups.normals.T)
            signs[signs == 0] = 1.0
            lower = max(lower, float(_norms(_jacobians(groups, signs)).max()))
        method += f" + {n_samples} sampled regions"
    if not groups.exact:
        w2 = 2 * wide - cb          # cb plus twice the float error (the pruning had no margin)
        lower, upper = max(0.0, lower - w2), upper + w2
        cert = "tolerance grouping: bounds widened by change_bound"
    elif exact:
        cert = ("branch and bound closed: witnesses' signs decided exactly, empty sides proven "
                "by exact Gordan certificates, pruning with the proven float error bound, the "
                "best region's squared norm in rationals")
    else:
        cert = ("budget exhausted or a side unresolved: lower bound from exactly verified "
                "regions, upper bound from the open nodes plus the float error bound")
    v = lower if exact else 0.5 * (lower + upper)
    if exact and sq is not None:
        lower, v, upper = _sqrt_bounds(sq)
    return (float(v), float(lower), float(upper), bool(exact), method, n_nodes, G, cert, cb,
            str(sq) if (exact and sq is not None) else None)


def sobolev_distance(net_a, net_b=None, *, augment=None, max_nodes=20_000, n_samples=2000,
                     seed=0, progress=False, certify="exact", merge_tol=None):
    """``|R(net_a) − R(net_b)|_{W^{1,∞}(Ω)} = ess sup ||∇(R(net_a) − R(net_b))||``, exactly.

    Parameters
    ----------
    net_a : Network
        Shallow ReLU network.
    net_b : Network or None
        Second network (same input/output dimensions); ``None`` gives the semi-norm of
        ``R(net_a)``.
    augment : {"none", "bias", "c3"} or None
        Input augmentation of both networks (default: ``"bias"`` when either has biases).
        ``"c3"``: the distance of the two forms lifted together to ``(x, 1, −1)`` by
        :func:`~topoanalysis.degeneracy._form.c3_augment`, whose rows are exact
        (``u − v = b`` without rounding, one ray per ray of ``(w, b)``); it depends on the
        ``τ`` chosen there (e.g. ``|b|`` for a bias far below ``||w||``).
    max_nodes : int, default=20000
        Budget of branch-and-bound nodes in dimension ≥ 3; past it the result holds certified
        bounds and ``exact=False``.
    n_samples : int, default=2000
        Random regions added to the lower bound when the budget runs out.
    seed : int, default=0
        Seed of the random regions of the lower bound.
    progress : bool, default=False
        Progress bar over the nodes.
    certify : {"exact", "float"}, default="exact"
        ``"exact"``: the value is the square root of a squared Jacobian norm computed in
        rationals (``exact=True``, ``squared`` holds the rational, ``value`` its correctly
        rounded square root, ``lower ≤ √squared ≤ upper``). ``"float"``: norms in
        float64 with a proven error bound (``lower``/``upper``, ``exact=False``) where the
        regions are enumerated (``D <= 2`` after augmentation); the branch and bound of higher
        dimensions computes in rationals either way (``exact=True``). Hyperplanes and regions
        are decided exactly in both modes.
    merge_tol : float or None, default=None
        ``None``: no tolerance (coinciding hyperplanes decided exactly). A float treats unit
        normals with ``|cos| ≥ 1 − merge_tol`` as one hyperplane — a modelling choice: the
        result is then not exact and ``change_bound`` bounds the change of the
        ``W^{1,∞}`` semi-norm it causes (every neuron not exactly on its group's line counts,
        ``||c_k|| ||a_k|| max(1, √(2 merge_tol))``); ``lower``/``upper`` are widened by it and
        by the float error.

    Returns
    -------
    SobolevDistance
        The ``W^{1,∞}`` distance, its certified lower and upper bounds, whether it is exact,
        the method and the numbers of hyperplanes and regions.

    See Also
    --------
    topoanalysis.degeneracy.parameter_distance, uniform_distance, linear_regions

    Notes
    -----
    Two neurons whose weight vectors differ by an angle ``ε > 0`` (however small) leave a wedge
    of angle ``ε`` between their hyperplanes on which only one is active: e.g.
    ``|ρ(x₁) − ρ(⟨R_ε e₁, x⟩)|_{W^{1,∞}} = 1`` for every ``ε ∈ (0, π/2]``. Hence no tolerance
    may merge them; see ``docs/guide/certificates_degeneracy.md``.

    References
    ----------
    Berner, Elbrächter & Grohs, "How degenerate is the parametrization of neural networks with
    the ReLU activation function?", NeurIPS 2019, Section 3 (the ``W^{1,∞}`` semi-norm).

    Examples
    --------
    >>> from topoanalysis import Network
    >>> import numpy as np
    >>> a = Network.from_weights([np.array([[1.0, 0.0]]), np.array([[1.0]])])
    >>> b = Network.from_weights([np.array([[0.0, 1.0]]), np.array([[2.0]])])
    >>> d = sobolev_distance(a, b)                 # region x1>0, x2>0: ||(1, −2)||
    >>> round(d.value, 6), d.exact, d.squared
    (2.236068, True, '5')
    """
    max_nodes = check_int("max_nodes", max_nodes, minimum=1)
    n_samples = check_int("n_samples", n_samples, minimum=0)
    seed = check_seed("seed", seed)
    certify = check_choice("certify", certify, ("exact", "float"))
    if merge_tol is not None:
        merge_tol = check_float("merge_tol", merge_tol, minimum=0.0, maximum=1.0)
    if net_b is None:
        fa = shallow_form(net_a, augment, name="net_a")
        V, S = fa.A, fa.C
    else:
        fa, fb = pair_forms(net_a, net_b, augment)
        V, S = np.concatenate([fa.A, fb.A]), np.concatenate([fa.C, -fb.C])
    v, lo, hi, exact, method, n, G, cert, cb, sq = _seminorm(
        V, S, max_nodes=max_nodes, n_samples=n_samples, seed=seed, progress=progress,
        certify=certify, merge_tol=merge_tol)
    if not (math.isfinite(v) and math.isfinite(hi)):
        raise ValidationError("`net_a`/`net_b` must have parameters whose W^{1,inf} distance fits "
                              f"in float64; got a distance beyond {np.finfo(float).max:.3g} "
                              f"(exact squared value ~2^{_log2(sq)}).")
    return SobolevDistance(value=v, lower=lo, upper=hi, exact=exact, method=method,
                           n_hyperplanes=G, n_regions=n, dim=V.shape[1], augment=fa.augment,
                           certificate=cert, change_bound=cb, squared=sq)


def sobolev_seminorm(net, **kwargs):
    """``|R(net)|_{W^{1,∞}}`` (see :func:`sobolev_distance`).

    Parameters
    ----------
    net : Network
        Shallow ReLU network.
    **kwargs
        Passed to :func:`sobolev_distance`.

    Returns
    -------
    SobolevDistance
        ``|R(net) − 0|_{W^{1,∞}}``.

    See Also
    --------
    sobolev_distance, uniform_distance

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: the Sobolev
           semi-norm W^{1,∞}(Ω).
    """
    return sobolev_distance(net, None, **kwargs)


# --- uniform norm ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class UniformDistance:
    """``sup_{x∈Ω} ||R(net_a)(x) − R(net_b)(x)||``; exact or sampled (a lower bound).

    ``exact=True`` on a box (and an interval): the candidate vertices are decided in rational
    arithmetic (float filter with proven bounds) and ``value`` is the exact maximum rounded
    once (within 2 ulp for several outputs). On a disk (``d = 2``) ``exact=False``: rational
    vertices and the float line–circle and arc points, ``g`` evaluated exactly at each (within
    about ``Lip(g) r 2⁻⁵²`` of the maximum, not proven). ``exact=False`` with ``method``
    "uniform random points": sampled, a lower bound.
    """

    value: float
    exact: bool
    method: str
    domain: dict
    n_points: int

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        kind = ("exact" if self.exact else "sampled, a lower bound"
                if self.method == "uniform random points" else "circle points in float64")
        return (f"uniform distance {self.value:.6g} on {self.domain['kind']} ({kind}: "
                f"{self.method}, {self.n_points} points)")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return dataclasses.asdict(self)


def _affine_pieces(net_a, net_b):
    """``g(x) = Σ_k s_k ρ(⟨w_k, x⟩ + b_k) + β`` for ``R(net_a) − R(net_b)`` on ``R^d``."""
    fa, fb = pair_forms(net_a, net_b, "bias" if any(
        n.arch.hidden_bias or n.arch.output_bias for n in (net_a, net_b)) else "none")
    V = np.concatenate([fa.A, fb.A])
    S = np.concatenate([fa.C, -fb.C])
    d = net_a.arch.inputs
    if V.shape[1] == d:
        V = np.concatenate([V, np.zeros((len(V), 1))], axis=1)
    return V[:, :d], V[:, d], S


def _eval(W, b, S, X):
    return np.maximum(X @ W.T + b, 0.0) @ S


def uniform_distance(net_a, net_b, domain, *, exact_max_dim=3, max_candidates=200_000,
                     n_samples=20_000, seed=0):
    """Uniform-norm distance of two realizations on a box or a ball.

    Parameters
    ----------
    net_a, net_b : Network
        Shallow ReLU networks with the same input/output dimensions.
    domain : Box or Ball
        ``Ω`` in the networks' (original) input space.
    exact_max_dim : int, default=3
        Largest input dimension handled exactly.
    max_candidates : int, default=200000
        Budget of vertex candidates for the exact method.
    n_samples : int, default=20000
        Points of the sampled method (a lower bound, labelled so).
    seed : int, default=0
        Seed of the sampled method.

    Returns
    -------
    UniformDistance
        The sup-norm distance on ``domain``, whether it is exact (else a sampled lower bound),
        the method and the number of points evaluated.

    See Also
    --------
    topoanalysis.degeneracy.sobolev_distance : The W^{1,∞} distance.

    Notes
    -----
    ``g = R(net_a) − R(net_b)`` is affine on each cell of its hyperplane arrangement, so
    ``||g||`` (convex on each cell) attains its maximum over a box at a vertex of some cell:
    an intersection point of ``d`` hyperplanes among the neurons' and the box's facets. Exact
    for boxes with ``d ≤ exact_max_dim`` (``C(M + 2d, d)`` candidates): which candidates are
    vertices in the box is decided from the float parameters as rationals (a float filter
    with proven error bounds, ``Fraction`` fallback) and the maximum is evaluated in
    rationals, then rounded once (within 2 ulp for several outputs). For a ball: exact when
    ``d = 1`` and, with one output, ``d = 2`` (vertices decided and evaluated in rationals;
    line–circle points and each arc's stationary point are float points at which ``g`` is
    evaluated exactly). Otherwise sampled. See ``docs/guide/certificates_degeneracy.md``.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2:
           inverse stability fails for the uniform norm.
    """
    from .canonical import _check_finite_params

    _check_finite_params(net_a, "net_a")
    _check_finite_params(net_b, "net_b")
    if not isinstance(domain, (Box, Ball)):
        raise ValidationError(f"`domain` must be a Box or a Ball; got {type(domain).__name__}.")
    if domain.dim != net_a.arch.inputs:
        raise ValidationError(f"`domain` must have dimension {net_a.arch.inputs} (the inputs); "
                              f"got {domain.dim}.")
    orig_domain = domain
    exact_max_dim = check_int("exact_max_dim", exact_max_dim, minimum=0, maximum=6)
    max_candidates = check_int("max_candidates", max_candidates, minimum=1, maximum=10**8)
    n_samples = check_int("n_samples", n_samples, minimum=1, maximum=10**7)
    from .canonical import _check_finite_params

    _check_finite_params(net_a, "net_a")
    _check_finite_params(net_b, "net_b")
    W0, b0, S0 = _affine_pieces(net_a, net_b)
    W, b, S = W0, b0, S0
    # scale-covariance: sup_{x∈λΩ} |Σ s ρ(w·x + b)| = λ sup_{y∈Ω} |Σ s ρ(w·y + b/λ)|, and
    # ρ(σ z) = σ ρ(z); with powers of two everything is brought near 1 first (exact unless a
    # scaled entry becomes subnormal: checked below, the exact method then uses the rationals)
    lam = _pow2_exponent(np.concatenate([np.abs(domain.low), np.abs(domain.high)])
                         if isinstance(domain, Box) else
                         np.concatenate([np.abs(domain.center), [domain.radius]]))
    if isinstance(domain, Box):
        domain = Box(tuple(np.ldexp(domain.low, -lam)), tuple(np.ldexp(domain.high, -lam)))
    else:
        domain = Ball(tuple(np.ldexp(domain.center, -lam)), float(np.ldexp(domain.radius, -lam)))
    b = np.ldexp(b, -lam)
    rows = np.concatenate([W, b[:, None]], axis=1)
    ek = np.array([_pow2_exponent(np.abs(r)) for r in rows], dtype=int).reshape(len(rows))
    W, b = np.ldexp(W, -ek[:, None]), np.ldexp(b, -ek)
    with np.errstate(over="ignore"):
        S = np.ldexp(S0, ek[:, None])
    if np.all(np.isfinite(S)):
        m = 0
    else:
        m = int(max(_pow2_exponent(np.abs(S0[k])) + ek[k] for k in range(len(S0))))
        S = np.ldexp(S0, (ek - m)[:, None])
    exact_data = _ScaledRationals(W0, b0, S0, orig_domain, lam, ek, m)
    res, gmax = _uniform_scaled(W, b, S, domain, exact_max_dim, max_candidates, n_samples, seed,
                                exact_data)
    if gmax is not None:                # the exact maximum of the scaled problem: rescale exactly
        scale = Fraction(2) ** (lam + m)
        try:
            value = float(abs(gmax[0]) * scale) if len(gmax) == 1 else \
                _sqrt_fraction(sum(x * x for x in gmax) * scale * scale)
        except OverflowError:
            value = math.inf
    else:
        value = float(np.ldexp(res.value, lam + m))
    if not np.isfinite(value):
        raise ValidationError("`net_a`/`net_b`/`domain` must give a uniform distance within "
                              f"float64; got one beyond {np.finfo(float).max:.3g} (rescale).")
    return UniformDistance(value, res.exact, res.method, orig_domain.to_dict(), res.n_points)


def _pow2_exponent(values):
    """``k`` with ``max|values| · 2^-k`` in ``[0.5, 1)`` (0 for all zeros)."""
    v = float(np.max(np.abs(values), initial=0.0))
    return math.frexp(v)[1] if v > 0 else 0


class _ScaledRationals:
    """The scaled problem of :func:`uniform_distance` in rationals (built lazily).

    ``W_k 2^{-e_k}``, ``b_k 2^{-λ-e_k}``, ``S_k 2^{e_k-m}`` and the domain times ``2^{-λ}``,
    computed exactly from the float parameters (the float scaling may lose bits to
    underflow; these never do).
    """

    def __init__(self, W0, b0, S0, domain0, lam, ek, m):
        self._args = (W0, b0, S0, domain0, lam, ek, m)
        self._done = None

    def __call__(self):
        if self._done is None:
            W0, b0, S0, domain0, lam, ek, m = self._args
            two = Fraction(2)
            W = [[Fraction(float(x)) / two ** int(k) for x in w] for w, k in zip(W0, ek)]
            b = [Fraction(float(x)) / two ** (lam + int(k)) for x, k in zip(b0, ek)]
            S = [[Fraction(float(x)) * two ** (int(k) - m) for x in s] for s, k in zip(S0, ek)]
            if isinstance(domain0, Box):
                dom = ([Fraction(x) / two ** lam for x in domain0.low],
                       [Fraction(x) / two ** lam for x in domain0.high])
            else:
                dom = ([Fraction(x) / two ** lam for x in domain0.center],
                       Fraction(domain0.radius) / two ** lam)
            self._done = (W, b, S, dom)
        return self._done

    def matches(self, W, b, S, domain):
        """True when the float scaled data equal the rationals (no bit lost in scaling)."""
        Wq, bq, Sq, dom = self()
        flat = [(W, Wq), (b[:, None], [[x] for x in bq]), (S, Sq)]
        if isinstance(domain, Box):
            flat += [(np.array([domain.low, domain.high]), dom)]
        else:
            flat += [(np.array([list(domain.center) + [domain.radius]]),
                      [list(dom[0]) + [dom[1]]])]
        return all(Fraction(float(x)) == y for A, Aq in flat
                   for row, rq in zip(np.asarray(A), Aq) for x, y in zip(row, rq))


def _uniform_scaled(W, b, S, domain, exact_max_dim, max_candidates, n_samples, seed,
                    exact_data=None):
    """The scaled problem; returns ``(UniformDistance, g)`` with ``g`` the exact maximizing
    value vector (``Fraction``) of the exact methods, ``None`` for the sampled one."""
    d = W.shape[1]
    rng = np.random.default_rng(check_seed("seed", seed))
    if isinstance(domain, Ball) and d == 1:
        domain_box = Box((domain.center[0] - domain.radius,), (domain.center[0] + domain.radius,))
    else:
        domain_box = domain
    if exact_data is None:
        exact_data = _ScaledRationals(W, b, S, domain, 0, np.zeros(len(W), dtype=int), 0)
    if isinstance(domain_box, Box) and d <= exact_max_dim and \
            math.comb(len(W) + 2 * d, d) <= max_candidates:
        Wq, bq, Sq, dom = exact_data()
        if isinstance(domain, Ball):              # d = 1: the interval [c − r, c + r], exact
            dom = ([dom[0][0] - dom[1]], [dom[0][0] + dom[1]])
        filt = isinstance(domain, Box) and exact_data.matches(W, b, S, domain) and \
            bool(np.all(np.isfinite(S)))
        g, n_in = _box_max(W, b, S, domain_box, Wq, bq, Sq, dom[0], dom[1], filt)
        return UniformDistance(0.0, True, "arrangement vertices in the box", domain.to_dict(),
                               n_in), g
    if isinstance(domain, Ball) and d == 2 and S.shape[1] == 1:
        Wq, bq, Sq, dom = exact_data()
        pts = _disk_candidates(W, b, S, domain, Wq, bq, dom)
        best = max((_exact_g(Wq, bq, Sq, x) for x in pts), key=lambda g: abs(g[0]))
        # the circle points are irrational in general (float64 here): close, not proven
        return UniformDistance(0.0, False,
                               "vertices, line-circle points and arc maxima in the disk",
                               domain.to_dict(), len(pts)), best
    X = domain.sample(n_samples, rng)
    vals = np.linalg.norm(_eval(W, b, S, X), axis=1)
    return UniformDistance(float(vals.max()), False, "uniform random points", domain.to_dict(),
                           n_samples), None


def _exact_g(Wq, bq, Sq, x):
    """``g(x) = Σ_k s_k ρ(⟨w_k, x⟩ + b_k)`` in rationals at the point ``x`` (floats or
    ``Fraction``); a list of ``Fraction``, one per output."""
    x = [v if isinstance(v, Fraction) else Fraction(float(v)) for v in x]
    e = len(Sq[0]) if Sq else 1
    g = [Fraction(0)] * e
    for w, bb, s in zip(Wq, bq, Sq):
        z = bb + sum(a * c for a, c in zip(w, x) if a)
        if z > 0:
            g = [gi + si * z for gi, si in zip(g, s)]
    return g


def _leibniz(M):
    """Signed products of the Leibniz expansion of ``det M`` for a stack ``(n, d, d)``."""
    d = M.shape[-1]
    out = []
    for perm in itertools.permutations(range(d)):
        sgn = -1.0 if sum(perm[i] > perm[j] for i in range(d) for j in range(i + 1, d)) % 2 \
            else 1.0
        t = sgn * np.ones(M.shape[0])
        for i in range(d):
            t = t * M[:, i, perm[i]]
        out.append(t)
    return np.stack(out, axis=1)


def _box_planes(n_neurons_rows, d):
    """Index combinations of ``d`` planes (neurons first, then the facets ``x_i = lo_i``,
    ``x_i = hi_i``), without two facets of one axis (parallel: never a vertex)."""
    G = n_neurons_rows
    idx = np.array(list(itertools.combinations(range(G + 2 * d), d)), dtype=int).reshape(-1, d)
    axis = np.where(idx >= G, (idx - G) // 2, -1 - np.arange(d)[None, :])
    ok = np.ones(len(idx), dtype=bool)
    for i in range(d):
        for j in range(i + 1, d):
            ok &= axis[:, i] != axis[:, j]
    return idx[ok]


def _box_max(W, b, S, box, Wq, bq, Sq, loq, hiq, filt):
    """Exact maximum of ``||g||`` over the vertices of the arrangement inside the box.

    A vertex is the solution of ``d`` independent plane equations (neurons ``⟨w, x⟩ = −b``
    and facets ``x_i = lo_i`` / ``hi_i``). With ``filt`` (float data equal to the rationals)
    each candidate is first classified by a float filter: the determinant and the signs of
    ``x_i − lo_i``, ``hi_i − x_i`` are degree-``d``/``d+1`` polynomials in the data (Cramer's
    rule, Leibniz expansion), trusted only beyond the proven bound ``γ_{k} Σ|terms|`` of
    their float evaluation; the value at a certified vertex gets a proven interval. Undecided
    candidates, and every vertex whose interval reaches the best certified lower bound, are
    solved, tested and evaluated in rationals. Returns ``(g, n_vertices)`` with ``g`` the
    maximizing value vector in rationals.
    """
    from ._exact import float_sum_error

    d = len(loq)
    nz = [k for k in range(len(Wq)) if any(x != 0 for x in Wq[k])]
    planes_q = [(Wq[k], -bq[k]) for k in nz]
    for i in range(d):
        e_i = [Fraction(int(i == j)) for j in range(d)]
        planes_q += [(e_i, loq[i]), (e_i, hiq[i])]
    G = len(nz)
    idx = _box_planes(G, d)
    exact_idx = []
    n_in = 0
    best_g, best_sq = None, Fraction(-1)
    if filt and len(idx):
        lo, hi = np.array(box.low), np.array(box.high)
        Nm = np.concatenate([W[nz], np.repeat(np.eye(d), 2, axis=0)]).reshape(-1, d)
        Cm = np.concatenate([-b[nz], np.stack([lo, hi], axis=1).ravel()])
        M, C = Nm[idx], Cm[idx]                                   # (n, d, d), (n, d)
        fixed = np.full((len(idx), d), np.nan)                    # coordinates set by a facet
        for j in range(d):
            f = idx[:, j] >= G
            ax = (idx[f, j] - G) // 2
            fixed[np.flatnonzero(f), ax] = C[f, j]
        P = math.factorial(d)
        tiny = 4 * (d + 2 * P + 2) * P * 2.0 ** -1074
        with np.errstate(all="ignore"):
            td = _leibniz(M)
            det = td.sum(axis=1)
            Bdet = 2 * float_sum_error(d + P + 2) * np.abs(td).sum(axis=1) + tiny
            sure = np.abs(det) > Bdet
            inside = np.ones(len(idx), dtype=bool)
            xh = np.zeros((len(idx), d))
            ex = np.zeros((len(idx), d))
            for i in range(d):
                Mi = M.copy()
                Mi[:, :, i] = C
                tn = _leibniz(Mi)
                num = tn.sum(axis=1)
                Bn = 2 * float_sum_error(d + P + 2) * np.abs(tn).sum(axis=1) + tiny
                xi = num / det
                exi = (Bn + np.abs(xi) * Bdet) / (np.abs(det) - Bdet) + 4 * 2.0 ** -53 * np.abs(xi)
                isfix = ~np.isnan(fixed[:, i])
                for bound, side in ((lo[i], 1.0), (hi[i], -1.0)):
                    terms = np.concatenate([tn, -bound * td], axis=1)
                    val = terms.sum(axis=1)
                    B = 2 * float_sum_error(d + 1 + 2 * P + 2) * np.abs(terms).sum(axis=1) + tiny
                    ok = np.abs(val) > B
                    sure &= ok | isfix
                    inside &= isfix | (side * np.sign(val) * np.sign(det) > 0)
                xh[:, i] = np.where(isfix, fixed[:, i], np.clip(xi, lo[i], hi[i]))
                ex[:, i] = np.where(isfix, 0.0, exi)
            sure &= np.all(np.isfinite(xh), axis=1) & np.all(np.isfinite(ex), axis=1)
        exact_idx = list(np.flatnonzero(~sure))
        cert = np.flatnonzero(sure & inside)
        n_in += len(cert)
        if len(cert):
            X, dx = xh[cert], ex[cert].max(axis=1)
            M_ = len(W)
            with np.errstate(all="ignore"):
                Z = X @ W.T + b
                R = np.maximum(Z, 0.0)
                gv = R @ S
                absS = np.abs(S)
                zerr = dx[:, None] * np.abs(W).sum(axis=1)[None, :] + \
                    float_sum_error(d + 2) * (np.abs(X) @ np.abs(W).T + np.abs(b)[None, :])
                delta = (zerr @ absS + float_sum_error(M_ + 2) * (R @ absS)) * (1 + 1e-6) + 2.0 ** -1000
                dn = np.sqrt(np.sum(delta * delta, axis=1)) * (1 + 1e-6)
                gn = np.sqrt(np.sum(gv * gv, axis=1))
                ge = float_sum_error(S.shape[1] + 4) * gn
                low, up = gn - ge - dn, gn + ge + dn
            if np.all(np.isfinite(low)) and np.all(np.isfinite(up)):
                L = float(low.max())
                recheck = cert[up >= L]
            else:
                recheck = cert
            for c in recheck:
                g = _exact_vertex_value(planes_q, idx[c], loq, hiq, Wq, bq, Sq)
                if g is not None:
                    sq = sum(x * x for x in g)
                    if sq > best_sq:
                        best_g, best_sq = g, sq
    elif len(idx):
        exact_idx = range(len(idx))
    for c in exact_idx:
        g = _exact_vertex_value(planes_q, idx[c], loq, hiq, Wq, bq, Sq)
        if g is not None:
            n_in += 1
            sq = sum(x * x for x in g)
            if sq > best_sq:
                best_g, best_sq = g, sq
    return best_g, n_in


def _exact_vertex_value(planes_q, combo, loq, hiq, Wq, bq, Sq):
    """``g`` at the vertex of the planes ``combo`` in rationals, ``None`` if the planes are
    dependent or the vertex lies outside the box (both decided exactly)."""
    rows = [planes_q[j] for j in combo]
    d = len(rows)
    A = [list(r[0]) + [r[1]] for r in rows]
    for col in range(d):                        # Gauss–Jordan in Fractions
        piv = next((r for r in range(col, d) if A[r][col] != 0), None)
        if piv is None:
            return None
        A[col], A[piv] = A[piv], A[col]
        p = A[col][col]
        A[col] = [v / p for v in A[col]]
        for r in range(d):
            if r != col and A[r][col] != 0:
                f = A[r][col]
                A[r] = [v - f * w for v, w in zip(A[r], A[col])]
    x = [A[i][d] for i in range(d)]
    if not all(lo <= xi <= hi for xi, lo, hi in zip(x, loq, hiq)):
        return None
    return _exact_g(Wq, bq, Sq, x)


def _disk_candidates(W, b, S, ball, Wq=None, bq=None, dom=None):
    """Candidate maximizers of ``|g|`` on a disk (``d = 2``, one output).

    Vertices of the arrangement are rational: they are computed, tested against the disk
    (``||x − c||² ≤ r²``) in rationals and returned as tuples of ``Fraction``. Line–circle
    points and each arc's stationary point are irrational in general: float points.
    """
    c, r = np.array(ball.center), ball.radius
    if Wq is None:
        Wq = [[Fraction(float(x)) for x in w] for w in W]
        bq = [Fraction(float(x)) for x in b]
        dom = ([Fraction(float(x)) for x in c], Fraction(float(r)))
    cq, rq = dom
    keep = [k for k in range(len(Wq)) if any(x != 0 for x in Wq[k])]      # exact, not a norm
    W2, b2 = W[keep], b[keep]
    pts = [c]
    for i, j in itertools.combinations(keep, 2):
        (a11, a12), (a21, a22) = Wq[i], Wq[j]
        det = a11 * a22 - a12 * a21
        if det != 0:                                                  # exactly regular
            c1, c2 = -bq[i], -bq[j]
            x = ((c1 * a22 - c2 * a12) / det, (a11 * c2 - a21 * c1) / det)
            if (x[0] - cq[0]) ** 2 + (x[1] - cq[1]) ** 2 <= rq * rq:
                pts.append(x)
    angles = [0.0]
    for w, bb in zip(W2, b2):
        # w·(c + r u) + b = 0, u = (cos φ, sin φ): r|w| cos(φ − α) = −(w·c + b)
        rho = -(w @ c + bb) / (r * _norm(w))
        if abs(rho) <= 1:
            alpha = math.atan2(w[1], w[0])
            delta = math.acos(rho)
            angles += [alpha + delta, alpha - delta]
    angles = np.sort(np.mod(angles, 2 * np.pi))
    ends = np.concatenate([angles[1:], [angles[0] + 2 * np.pi]])
    for a0, a1 in zip(angles, ends):
        pts.append(c + r * np.array([math.cos(a0), math.sin(a0)]))
        if a1 - a0 < 1e-15:
            continue
        mid = c + r * np.array([math.cos((a0 + a1) / 2), math.sin((a0 + a1) / 2)])
        act = (W @ mid + b) > 0
        grad = (S[act, 0][:, None] * W[act]).sum(axis=0)
        if np.linalg.norm(grad) == 0:
            continue
        for sgn in (1.0, -1.0):
            phi = math.atan2(sgn * grad[1], sgn * grad[0])
            phi = a0 + np.mod(phi - a0, 2 * np.pi)
            if phi <= a1:
                pts.append(c + r * np.array([math.cos(phi), math.sin(phi)]))
    return pts
