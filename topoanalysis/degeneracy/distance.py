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

import numpy as np

from .._validation import check_float, check_int, check_seed
from ..exceptions import ValidationError
from ._form import pair_forms, shallow_form

__all__ = ["SobolevDistance", "UniformDistance", "Box", "Ball", "sobolev_distance",
           "sobolev_seminorm", "uniform_distance", "linear_regions", "hyperplane_groups"]

_MERGE_TOL = 1e-12


@dataclasses.dataclass(frozen=True)
class SobolevDistance:
    """``|R(Γ) − R(Θ)|_{W^{1,∞}}``: value, certified bounds and how it was obtained."""

    value: float
    lower: float
    upper: float
    exact: bool
    method: str
    n_hyperplanes: int
    n_regions: int
    dim: int
    augment: str

    def summary(self):
        if self.exact:
            head = f"W^(1,inf) distance {self.value:.6g} (exact, {self.method})"
        else:
            head = (f"W^(1,inf) distance in [{self.lower:.6g}, {self.upper:.6g}] "
                    f"(certified bounds, {self.method})")
        return (f"{head}: {self.n_hyperplanes} hyperplanes in R^{self.dim}, "
                f"{self.n_regions} regions visited, input augmentation {self.augment!r}")

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Box:
    """Axis-aligned box ``[low, high]`` in the networks' input space."""

    low: tuple
    high: tuple

    def __post_init__(self):
        lo = np.atleast_1d(np.asarray(self.low, dtype=np.float64))
        hi = np.atleast_1d(np.asarray(self.high, dtype=np.float64))
        if lo.shape != hi.shape or not np.all(np.isfinite(lo)) or np.any(hi <= lo):
            raise ValidationError(f"`Box` must have finite low < high of equal shapes; "
                                  f"got low={self.low!r}, high={self.high!r}.")
        object.__setattr__(self, "low", tuple(lo.tolist()))
        object.__setattr__(self, "high", tuple(hi.tolist()))

    @property
    def dim(self):
        return len(self.low)

    def sample(self, n, rng):
        lo, hi = np.array(self.low), np.array(self.high)
        return lo + (hi - lo) * rng.random((n, self.dim))

    def to_dict(self):
        return {"kind": "box", "low": list(self.low), "high": list(self.high)}


@dataclasses.dataclass(frozen=True)
class Ball:
    """Euclidean ball of ``radius`` around ``center`` in the networks' input space."""

    center: tuple
    radius: float

    def __post_init__(self):
        c = np.atleast_1d(np.asarray(self.center, dtype=np.float64))
        if not np.all(np.isfinite(c)):
            raise ValidationError(f"`Ball.center` must be finite; got {self.center!r}.")
        r = check_float("radius", self.radius, minimum=0.0, strict_min=True)
        object.__setattr__(self, "center", tuple(c.tolist()))
        object.__setattr__(self, "radius", r)

    @property
    def dim(self):
        return len(self.center)

    def sample(self, n, rng):
        z = rng.normal(size=(n, self.dim))
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        r = self.radius * rng.random(n) ** (1.0 / self.dim)
        return np.array(self.center) + z * r[:, None]

    def to_dict(self):
        return {"kind": "ball", "center": list(self.center), "radius": self.radius}


# --- hyperplane groups -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Groups:
    normals: np.ndarray   # (G, D) unit normals
    plus: np.ndarray      # (G, e) contribution on n·x > 0
    minus: np.ndarray     # (G, e) contribution on n·x < 0
    const: np.ndarray     # (e, D) constant part of the Jacobian
    members: list         # neuron indices of each group


def hyperplane_groups(V, S, merge_tol=_MERGE_TOL):
    """Group neurons ``s_k ρ(⟨v_k, x⟩)`` by hyperplane.

    Parameters
    ----------
    V : ndarray of shape (M, D)
        Weight vectors.
    S : ndarray of shape (M, e)
        Output vectors.
    merge_tol : float
        Unit normals with ``|n_i · n_j| ≥ 1 − merge_tol`` share a hyperplane.

    Returns
    -------
    _Groups
        Unit normals, the Jacobian contributions ``P_g`` (side ``n·x > 0``) and ``N_g``,
        the constant part (hyperplanes that are no kink) and the neurons of each group.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: the W^{1,∞}
           semi-norm: gradient jumps across the neurons' hyperplanes.
    """
    V = np.asarray(V, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    D, e = V.shape[1], S.shape[1]
    norms = np.linalg.norm(V, axis=1)
    normals, plus, minus, members = [], [], [], []
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
                break
        else:
            normals.append(n)
            plus.append(u.copy())
            minus.append(np.zeros(e))
            members.append([int(k)])
    const = np.zeros((e, D))
    keep = []
    for g in range(len(normals)):
        if np.allclose(plus[g], minus[g], rtol=0.0, atol=1e-14 * (1 + np.abs(plus[g]).max())):
            const += np.outer(plus[g], normals[g])
        elif np.any(plus[g] != 0) or np.any(minus[g] != 0):
            keep.append(g)
    return _Groups(
        normals=np.array([normals[g] for g in keep]).reshape(len(keep), D),
        plus=np.array([plus[g] for g in keep]).reshape(len(keep), e),
        minus=np.array([minus[g] for g in keep]).reshape(len(keep), e),
        const=const, members=[members[g] for g in keep])


def _jacobians(groups, signs):
    """Jacobians ``(R, e, D)`` for sign vectors ``(R, G)`` in {+1, −1}."""
    pos = signs > 0
    contrib = np.where(pos[:, :, None], groups.plus[None], groups.minus[None])    # (R, G, e)
    return groups.const[None] + np.einsum("rge,gd->red", contrib, groups.normals)


def _norms(J):
    return np.sqrt(np.sum(J * J, axis=(-2, -1)))


# --- region enumeration ----------------------------------------------------------------------
def _regions_1d(groups):
    signs = np.array([[1.0], [-1.0]]) * np.sign(groups.normals[:, 0])[None, :]
    return signs


def _regions_2d(groups):
    """Sign vectors of all regions of a central line arrangement in R^2 (sorted angles)."""
    n = groups.normals
    phi = np.arctan2(n[:, 1], n[:, 0])
    bounds = np.sort(np.mod(np.concatenate([phi + np.pi / 2, phi - np.pi / 2]), 2 * np.pi))
    bounds = bounds[np.concatenate([[True], np.diff(bounds) > 1e-15])]
    nxt = np.concatenate([bounds[1:], [bounds[0] + 2 * np.pi]])
    mid = (bounds + nxt) / 2
    Z = np.stack([np.cos(mid), np.sin(mid)], axis=1)
    return np.sign(Z @ n.T)


def _lp_witness(normals, signs, D):
    """Interior point of the open cone ``signs_i n_i·x > 0`` (or None): max t s.t. margins ≥ t."""
    from scipy.optimize import linprog

    c = np.zeros(D + 1)
    c[-1] = -1.0
    A_ub = np.concatenate([-(signs[:, None] * normals), np.ones((len(signs), 1))], axis=1)
    b_ub = np.zeros(len(signs))
    bounds = [(-1.0, 1.0)] * D + [(0.0, 1.0)]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0 or -res.fun <= 1e-10:
        return None
    return res.x[:D]


def _branch_and_bound(groups, *, max_nodes, prune, progress, n_pool=4096, seed=0):
    """Max of ``||J||`` over the regions; returns (lower, upper, exact, n_nodes, leaves).

    Nodes are partial sign vectors over the hyperplanes (largest contributions first) with an
    interior witness point. A pool of random directions supplies witnesses (a pool point whose
    signs match the node's lies inside its cone) and lower bounds; an LP is solved only for a
    side no pool point reaches. The upper bound of a node is the least of
    ``||J_p|| + Σ_rest max(||P_g||, ||N_g||)``, ``||J_p + Σ_rest N_g n_gᵀ|| + Σ_rest ||P_g − N_g||``
    and ``||J_p + Σ_rest P_g n_gᵀ|| + Σ_rest ||P_g − N_g||`` (triangle inequalities).
    """
    G, D = groups.normals.shape
    order = np.argsort(-(np.linalg.norm(groups.plus, axis=1) + np.linalg.norm(groups.minus, axis=1)))
    nrm = groups.normals[order]
    P, N = groups.plus[order], groups.minus[order]
    e = P.shape[1]

    def suffix(values):
        return np.concatenate([np.cumsum(values[::-1], axis=0)[::-1], np.zeros((1,) + values.shape[1:])])

    rest_max = suffix(np.maximum(np.linalg.norm(P, axis=1), np.linalg.norm(N, axis=1)))
    rest_jump = suffix(np.linalg.norm(P - N, axis=1))
    rest_N = suffix(np.einsum("ge,gd->ged", N, nrm))            # (G+1, e, D)
    rest_P = suffix(np.einsum("ge,gd->ged", P, nrm))
    const = groups.const

    def jac(signs_full):
        contrib = np.where(signs_full[..., None] > 0, P, N)
        return const + np.einsum("...ge,gd->...ed", contrib, nrm)

    def upper_bound(Jp, depth):
        return min(float(np.linalg.norm(Jp)) + rest_max[depth],
                   float(np.linalg.norm(Jp + rest_N[depth])) + rest_jump[depth],
                   float(np.linalg.norm(Jp + rest_P[depth])) + rest_jump[depth])

    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_pool, D))
    Zs = np.sign(Z @ nrm.T)
    Zs[Zs == 0] = 1.0
    best = float(np.linalg.norm(jac(Zs), axis=(-2, -1)).max()) if prune else -1.0
    leaves = []
    root = (-np.inf, 0, 0, np.zeros(0), Z[0], np.arange(n_pool), np.zeros((e, D)) + const)
    heap = [root]                   # (−upper, tiebreak, depth, signs, witness, pool, J_partial)
    counter = itertools.count(1)
    expanded = 0
    from .._progress import progress_bar

    bar = progress_bar(progress, total=max_nodes, desc="regions", unit="node")
    while heap:
        node = heapq.heappop(heap)
        neg_ub, _, depth, signs, x, pool, Jp = node
        if prune and -neg_ub <= best * (1 + 1e-12):
            heapq.heappush(heap, node)
            break
        full = np.concatenate([signs, _complete_ordered(nrm[depth:], x)])
        best = max(best, float(np.linalg.norm(jac(full))))
        if depth == G:
            leaves.append(full)
            continue
        if expanded >= max_nodes:
            heapq.heappush(heap, node)
            break
        expanded += 1
        if bar is not None:
            bar.update(1)
        s_here = np.sign(nrm[depth] @ x)
        for s in (1.0, -1.0):
            child = np.concatenate([signs, [s]])
            sub = pool[Zs[pool, depth] == s]
            if s == s_here:
                w = x
            elif len(sub):
                w = Z[sub[0]]
            else:
                w = _lp_witness(nrm[:depth + 1], child, D)
                if w is None:
                    continue
            Jc = Jp + np.outer(P[depth] if s > 0 else N[depth], nrm[depth])
            ub = upper_bound(Jc, depth + 1)
            if prune and ub <= best * (1 + 1e-12):
                continue
            heapq.heappush(heap, (-ub, next(counter), depth + 1, child, w, sub, Jc))
    if bar is not None:
        bar.close()
    exact = not heap or (prune and -heap[0][0] <= best * (1 + 1e-12))
    upper = best if exact else max(best, -heap[0][0])
    inv = np.empty_like(order)
    inv[order] = np.arange(G)
    leaves = [lf[inv] for lf in leaves]
    return best, upper, exact, expanded, leaves


def _complete_ordered(normals, x):
    s = np.sign(normals @ x)
    s[s == 0] = 1.0
    return s


def linear_regions(V, S, *, max_nodes=100_000):
    """All regions of the central arrangement of the neurons ``s_k ρ(⟨v_k, x⟩)``.

    Parameters
    ----------
    V : ndarray of shape (G, D)
        Weight vectors ``v_k`` of the neurons.
    S : ndarray of shape (G, e)
        Output weights ``s_k``.
    max_nodes : int, default=100000
        Cap on the regions enumerated (refuses beyond).

    Returns
    -------
    signs : ndarray of shape (R, G)
        One sign vector per region (over the merged hyperplanes).
    jacobians : ndarray of shape (R, e, D)
        The constant Jacobian of the function on each region.

    Notes
    -----
    2-D: sorted angles, ``O(G log G)``. Higher dimension: incremental enumeration with one LP
    per new side (no pruning); the number of regions of ``G`` generic central hyperplanes in
    ``R^D`` is ``2 Σ_{i<D} C(G−1, i)``.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: the W^{1,∞}
           semi-norm |g| = ess sup ||∇g||, constant on each linear region.
    """
    groups = hyperplane_groups(V, S)
    G, D = groups.normals.shape
    if G == 0:
        signs = np.zeros((1, 0))
    elif D == 1:
        signs = _regions_1d(groups)
    elif D == 2:
        signs = _regions_2d(groups)
    else:
        _, _, exact, _, leaves = _branch_and_bound(groups, max_nodes=max_nodes, prune=False,
                                                   progress=False)
        if not exact:
            raise ValidationError(f"`max_nodes` must be large enough to enumerate every region; "
                                  f"got {max_nodes}.")
        signs = np.array(leaves).reshape(len(leaves), G)
    return signs, _jacobians(groups, signs)


def _seminorm(V, S, *, max_nodes, n_samples, seed, progress):
    groups = hyperplane_groups(V, S)
    G, D = groups.normals.shape
    if G == 0:
        v = float(np.linalg.norm(groups.const))
        return v, v, v, True, "no hyperplanes", 1, 0
    if D <= 2:
        signs = _regions_1d(groups) if D == 1 else _regions_2d(groups)
        vals = _norms(_jacobians(groups, signs))
        v = float(vals.max())
        return v, v, v, True, "sorted angles" if D == 2 else "two half-lines", len(signs), G
    lower, upper, exact, n_nodes, _ = _branch_and_bound(groups, max_nodes=max_nodes, prune=True,
                                                        progress=progress)
    method = "branch and bound over regions (HiGHS LPs)"
    if not exact and n_samples:
        rng = np.random.default_rng(seed)
        Z = rng.normal(size=(n_samples, D))
        signs = np.sign(Z @ groups.normals.T)
        signs[signs == 0] = 1.0
        lower = max(lower, float(_norms(_jacobians(groups, signs)).max()))
        method += f" + {n_samples} sampled regions"
    v = lower if exact else 0.5 * (lower + upper)
    return float(v), float(lower), float(upper), bool(exact), method, n_nodes, G


def sobolev_distance(net_a, net_b=None, *, augment=None, max_nodes=20_000, n_samples=2000,
                     seed=0, progress=False):
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
    max_nodes : int, default=20000
        Budget of branch-and-bound nodes in dimension ≥ 3; past it the result holds certified
        bounds and ``exact=False``.
    n_samples : int, default=2000
        Random regions added to the lower bound when the budget runs out.
    seed : int, default=0
    progress : bool, default=False
        Progress bar over the nodes.

    Returns
    -------
    SobolevDistance

    See Also
    --------
    topoanalysis.degeneracy.uniform_distance : The uniform-norm distance.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: the Sobolev
           semi-norm W^{1,∞}(Ω) of Theorem 3.3.

    Examples
    --------
    >>> from topoanalysis import Network
    >>> import numpy as np
    >>> a = Network.from_weights([np.array([[1.0, 0.0]]), np.array([[1.0]])])
    >>> b = Network.from_weights([np.array([[0.0, 1.0]]), np.array([[2.0]])])
    >>> round(sobolev_distance(a, b).value, 6)     # region x1>0, x2>0: ||(1, −2)||
    2.236068
    """
    max_nodes = check_int("max_nodes", max_nodes, minimum=1)
    n_samples = check_int("n_samples", n_samples, minimum=0)
    seed = check_seed("seed", seed)
    if net_b is None:
        fa = shallow_form(net_a, augment, name="net_a")
        V, S = fa.A, fa.C
    else:
        fa, fb = pair_forms(net_a, net_b, augment)
        V, S = np.concatenate([fa.A, fb.A]), np.concatenate([fa.C, -fb.C])
    v, lo, hi, exact, method, n, G = _seminorm(V, S, max_nodes=max_nodes, n_samples=n_samples,
                                               seed=seed, progress=progress)
    return SobolevDistance(value=v, lower=lo, upper=hi, exact=exact, method=method,
                           n_hyperplanes=G, n_regions=n, dim=V.shape[1], augment=fa.augment)


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
    """``sup_{x∈Ω} ||R(net_a)(x) − R(net_b)(x)||``; exact or sampled (a lower bound)."""

    value: float
    exact: bool
    method: str
    domain: dict
    n_points: int

    def summary(self):
        kind = "exact" if self.exact else "sampled, a lower bound"
        return (f"uniform distance {self.value:.6g} on {self.domain['kind']} ({kind}: "
                f"{self.method}, {self.n_points} points)")

    def to_dict(self):
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

    Returns
    -------
    UniformDistance

    See Also
    --------
    topoanalysis.degeneracy.sobolev_distance : The W^{1,∞} distance.

    Notes
    -----
    ``g = R(net_a) − R(net_b)`` is affine on each cell of its hyperplane arrangement, so
    ``||g||`` (convex on each cell) attains its maximum over a box at a vertex of some cell:
    an intersection point of ``d`` hyperplanes among the neurons' and the box's facets. Exact
    for boxes with ``d ≤ exact_max_dim`` (``C(M + 2d, d)`` candidates); for a ball, exact when
    ``d = 1`` and, with one output, ``d = 2`` (vertices, line–circle points and each arc's
    stationary point). Otherwise sampled.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Section 2:
           inverse stability fails for the uniform norm.
    """
    if not isinstance(domain, (Box, Ball)):
        raise ValidationError(f"`domain` must be a Box or a Ball; got {type(domain).__name__}.")
    if domain.dim != net_a.arch.inputs:
        raise ValidationError(f"`domain` must have dimension {net_a.arch.inputs} (the inputs); "
                              f"got {domain.dim}.")
    W, b, S = _affine_pieces(net_a, net_b)
    d = W.shape[1]
    rng = np.random.default_rng(check_seed("seed", seed))
    if isinstance(domain, Ball) and d == 1:
        domain_box = Box((domain.center[0] - domain.radius,), (domain.center[0] + domain.radius,))
    else:
        domain_box = domain
    if isinstance(domain_box, Box) and d <= exact_max_dim and \
            math.comb(len(W) + 2 * d, d) <= max_candidates:
        pts = _box_vertices(W, b, domain_box)
        vals = np.linalg.norm(_eval(W, b, S, pts), axis=1)
        return UniformDistance(float(vals.max()), True, "arrangement vertices in the box",
                               domain.to_dict(), len(pts))
    if isinstance(domain, Ball) and d == 2 and S.shape[1] == 1:
        pts = _disk_candidates(W, b, S, domain)
        vals = np.linalg.norm(_eval(W, b, S, pts), axis=1)
        return UniformDistance(float(vals.max()), True,
                               "vertices, line-circle points and arc maxima in the disk",
                               domain.to_dict(), len(pts))
    X = domain.sample(n_samples, rng)
    vals = np.linalg.norm(_eval(W, b, S, X), axis=1)
    return UniformDistance(float(vals.max()), False, "uniform random points", domain.to_dict(),
                           n_samples)


def _box_vertices(W, b, box):
    d = W.shape[1]
    lo, hi = np.array(box.low), np.array(box.high)
    planes_n = [w for w in W if np.any(w != 0)]
    planes_c = [-bb for w, bb in zip(W, b) if np.any(w != 0)]
    for i in range(d):
        e = np.zeros(d)
        e[i] = 1.0
        planes_n += [e, e]
        planes_c += [lo[i], hi[i]]
    Nm, Cm = np.array(planes_n), np.array(planes_c)
    pts = []
    for idx in itertools.combinations(range(len(Nm)), d):
        M = Nm[list(idx)]
        if abs(np.linalg.det(M)) < 1e-12 * max(1.0, np.abs(M).max()) ** d:
            continue
        x = np.linalg.solve(M, Cm[list(idx)])
        if np.all(x >= lo - 1e-12) and np.all(x <= hi + 1e-12):
            pts.append(np.clip(x, lo, hi))
    return np.array(pts).reshape(-1, d)


def _disk_candidates(W, b, S, ball):
    c, r = np.array(ball.center), ball.radius
    keep = np.linalg.norm(W, axis=1) > 0
    W2, b2 = W[keep], b[keep]
    pts = [c]
    for i, j in itertools.combinations(range(len(W2)), 2):
        M = W2[[i, j]]
        if abs(np.linalg.det(M)) > 1e-14:
            x = np.linalg.solve(M, -b2[[i, j]])
            if np.linalg.norm(x - c) <= r:
                pts.append(x)
    angles = [0.0]
    for w, bb in zip(W2, b2):
        # w·(c + r u) + b = 0, u = (cos φ, sin φ): r|w| cos(φ − α) = −(w·c + b)
        rho = -(w @ c + bb) / (r * np.linalg.norm(w))
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
    return np.array(pts)
