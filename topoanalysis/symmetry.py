"""The symmetries of shallow networks in one place: balancing and weight matching.

A hidden neuron of a positively homogeneous network can be rescaled,
``(w_k, a_k) -> (α w_k, a_k / α)`` with ``α > 0``, and the hidden neurons can be permuted,
without changing the realized function (:meth:`Network.rescale_neurons`,
:meth:`Network.permute_neurons`). This module chooses representatives:

- :func:`balance` rescales every neuron so that ``||w_k|| = ||a_k||`` (``c_k = 0``), the
  canonical rescaling used by Berner et al.'s condition C.1 and before comparing networks;
- :func:`weight_matching` finds the permutation of one network's neurons that best matches
  another's (a linear assignment on neuron weights, as in Git Re-Basin's weight matching),
  and :func:`align` applies balancing and matching together.

``w_k`` includes the hidden bias when there is one (the augmented input), as everywhere in
topoanalysis.
"""

from dataclasses import dataclass

import numpy as np

from . import activations as _act
from ._validation import check_architecture, check_int
from .exceptions import NotSupportedError, ValidationError
from .network import Network

__all__ = ["balance", "balance_params", "balance_factors", "weight_matching", "align",
           "AlignResult", "canonical_neuron_order", "merge_redundant_neurons",
           "MergeResult"]


def _check_network(net, name):
    if not isinstance(net, Network):
        raise ValidationError(f"`{name}` must be a Network; got {type(net).__name__}.")
    if not net.arch.is_shallow:
        raise NotSupportedError(f"`{name}`: symmetry alignment is implemented for shallow "
                                f"networks (one hidden layer); got hidden widths "
                                f"{net.arch.hidden}.")
    return net


def _require_homogeneous(arch, name):
    if not _act.is_positively_homogeneous(arch.activation):
        raise NotSupportedError(
            f"`{name}`: balancing rescales neurons, a symmetry only for positively homogeneous "
            f"activations ({', '.join(_act.HOMOGENEOUS_ACTIVATIONS)}); got {arch.activation!r}.")


def _scaled_norm(M, axis):
    """Euclidean norms along ``axis`` without overflow or underflow (scaled by the power of two
    just above the largest entry first): 1e300-sized weights give 1e300-sized norms, not inf.

    The scaling is exact, so where the plain formula neither overflows nor underflows the two
    agree bit for bit, and ``norm(2^k M) = 2^k norm(M)`` exactly: a neuron rescaled by a power
    of two across the 1e150 switch between them keeps its norm's scaling (its balanced copy
    comes back exactly)."""
    big = np.max(np.abs(M), axis=axis, keepdims=True)
    safe = np.where(big > 0, np.ldexp(1.0, np.frexp(big)[1]), 1.0)
    return np.squeeze(safe * np.sqrt(np.sum((M / safe) ** 2, axis=axis, keepdims=True)),
                      axis=axis)


def _row_norms(M):
    """Euclidean norms of the rows of ``M`` (the plain formula, or :func:`_scaled_norm` on the
    rows whose squares would overflow or vanish: a 1e-200-sized ``w_k`` is not 0)."""
    with np.errstate(over="ignore", under="ignore"):
        plain = np.sqrt(np.sum(M ** 2, axis=-1))
    big = np.max(np.abs(M), axis=-1)
    fine = ((big >= 1e-150) & (big <= 1e150)) | (big == 0)
    return plain if np.all(fine) else np.where(fine, plain, _scaled_norm(M, -1))


def _neuron_norms(arch, theta):
    (W1, b1), (W2, _) = arch.unpack(theta)
    W = W1 if b1 is None else np.concatenate([W1, b1[..., None]], axis=-1)
    with np.errstate(over="ignore", under="ignore"):
        nw2 = np.sum(W1 ** 2, axis=-1)
        if b1 is not None:
            nw2 = nw2 + b1 ** 2
        nw, na = np.sqrt(nw2), np.sqrt(np.sum(W2 ** 2, axis=-2))
    # decided per neuron, not on the largest entry of theta: a neuron of 1e-200-sized weights
    # next to one of size 1 has squares that vanish (it read as w_k = 0 and stayed unbalanced)
    bw, ba = np.max(np.abs(W), axis=-1), np.max(np.abs(W2), axis=-2)
    with np.errstate(invalid="ignore"):
        fine_w = ((bw >= 1e-150) & (bw <= 1e150)) | (bw == 0)   # squares neither overflow
        fine_a = ((ba >= 1e-150) & (ba <= 1e150)) | (ba == 0)   # nor vanish: the plain sum
    if not np.all(fine_w):
        nw = np.where(fine_w, nw, _scaled_norm(W, -1))
    if not np.all(fine_a):
        na = np.where(fine_a, na, _scaled_norm(W2, -2))
    return nw, na


def _check_balance_args(arch, theta):
    """The one entry check of :func:`balance_factors` and :func:`balance_params`."""
    arch = check_architecture("arch", arch)
    if not arch.is_shallow:
        raise NotSupportedError(f"`arch`: balancing is implemented for shallow networks; got "
                                f"hidden widths {arch.hidden}.")
    _require_homogeneous(arch, "arch")
    return arch, arch.check_params(theta, "theta")


def balance_factors(arch, theta):
    """Factors ``α_k = sqrt(||a_k|| / ||w_k||)`` that balance each neuron (1 where either is 0).

    ``theta`` of shape ``(P,)`` or ``(B, P)``; returns ``(l,)`` or ``(B, l)``.

    Parameters
    ----------
    arch : Architecture
        Shallow architecture.
    theta : ndarray of shape (P,) or (B, P)
        Flat parameters.

    Returns
    -------
    ndarray of shape (l,) or (B, l)
        Factors ``α_k``.

    Raises
    ------
    ValidationError
        ``arch`` not an architecture, ``theta`` not finite real parameters of it, or a factor
        beyond float64 (``||a_k|| / ||w_k||`` above about ``1e308²``).

    See Also
    --------
    balance, balance_params

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: condition C.1
           (balanced neurons).
    """
    arch, theta = _check_balance_args(arch, theta)
    return _balance_factors(arch, theta)


def _balance_factors(arch, theta):
    nw, na = _neuron_norms(arch, theta)
    ok = (nw > 0) & (na > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha = np.where(ok, np.sqrt(na / np.where(ok, nw, 1.0)), 1.0)
        if not np.all(np.isfinite(alpha) & (alpha > 0)):   # the ratio left float64
            alpha = np.where(ok, np.sqrt(na) / np.sqrt(np.where(ok, nw, 1.0)), 1.0)
    if not np.all(np.isfinite(alpha) & (alpha > 0)):
        raise ValidationError("`theta` must have neurons whose balancing factors "
                              "sqrt(||a_k|| / ||w_k||) fit in float64; got a ratio of weight "
                              "norms beyond it (rescale the network).")
    return alpha


def balance_params(arch, theta):
    """Balance every neuron of a stack of shallow networks; returns a new ``(..., P)`` array.

    After balancing ``||w_k|| = ||a_k||`` for every neuron whose weights are both non-zero
    (neurons with ``w_k = 0`` or ``a_k = 0`` are left as they are: no rescaling balances
    them). The realized functions are unchanged.

    Parameters
    ----------
    arch : Architecture
        Shallow architecture.
    theta : ndarray of shape (..., P)
        Flat parameters.

    Returns
    -------
    ndarray of shape (..., P)
        Balanced parameters.

    See Also
    --------
    balance, balance_factors

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: condition C.1
           (balanced neurons).
    """
    arch, theta = _check_balance_args(arch, theta)
    out = np.array(theta, dtype=np.float64, copy=True)
    alpha = _balance_factors(arch, out)
    (W1, b1), (W2, _) = arch.unpack(out)
    W1 *= alpha[..., :, None]
    if b1 is not None:
        b1 *= alpha
    W2 /= alpha[..., None, :]
    return out


def balance(net):
    """The balanced representative of ``net`` (``||w_k|| = ||a_k||``), same function.

    Parameters
    ----------
    net : Network
        Shallow network.

    Returns
    -------
    Network
        Balanced network, same function.

    See Also
    --------
    topoanalysis.symmetry.balance_params : The same on flat parameter stacks.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: condition C.1
           (balanced neurons).
    .. [2] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: the rescaling symmetry (w_k, a_k) ->
           (α w_k, a_k / α).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[3.0, 4.0]], [[0.2]]])
    >>> b = balance(net)
    >>> bool(np.allclose(b.conserved_quantities(), 0.0))
    True
    >>> X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    >>> bool(np.allclose(b.forward(X), net.forward(X)))
    True
    """
    _check_network(net, "net")
    _require_homogeneous(net.arch, "net")
    return Network(net.arch, balance_params(net.arch, net.params))


def _features(net):
    w, a = net.neuron_weights()
    return np.concatenate([w, a], axis=1)


def _exact_integers(F, e0):
    """The floats of ``F`` as exact integers ``F · 2^-e0`` (object array)."""
    m, e = np.frexp(F)
    mant = (m * 2.0 ** 53).astype(np.int64).astype(object)
    shift = np.where(F != 0, e.astype(np.int64) - 53 - e0, 0)   # zeros: mantissa 0
    return np.left_shift(mant, shift.astype(object))


def _exact_scores(Fa, Fb):
    """``Fa @ Fb.T`` exactly (Python ints, a common power-of-two scale: order-preserving)."""
    import flint

    nz = np.concatenate([Fa[Fa != 0], Fb[Fb != 0]])
    e0 = int(np.frexp(np.min(np.abs(nz)))[1]) - 53 if nz.size else 0
    A, B = _exact_integers(Fa, e0), _exact_integers(Fb, e0)
    la, n = A.shape
    P = flint.fmpz_mat(la, n, [int(x) for x in A.ravel()]) * flint.fmpz_mat(
        n, la, [int(x) for x in B.T.ravel()])
    return np.array([int(x) for x in P.entries()], dtype=object).reshape(la, la), 2 * e0


def _longest_paths(G):
    """Bellman-Ford longest-path potentials ``y`` (from 0) of the gain matrix ``G`` (diagonal
    set to 0 on a copy), at most ``l + 1`` rounds: settled when no cycle gains."""
    G = np.array(G, dtype=np.float64)
    np.fill_diagonal(G, 0.0)
    y = np.zeros(len(G))
    for _ in range(len(G) + 1):
        new = np.maximum(y, np.max(y[:, None] + G, axis=0))
        if np.array_equal(new, y):
            break
        y = new
    return y


def _float_potentials(S, perm):
    """Longest-path potentials of the exchange gains in float (a warm start)."""
    l = len(perm)
    return _longest_paths(S[:, perm] - S[np.arange(l), perm][:, None])


def _float_certified(S, perm, Fa, Fb):
    """True when float potentials prove that ``perm`` maximizes ``Σ_i S[i, perm[i]]`` for the
    exact scores (every cycle of neuron exchanges loses more than the rounding of ``S``)."""
    l = len(perm)
    n = Fa.shape[1]
    u = 2.0 ** -53
    err = (2 * n + 2) * u * (np.abs(Fa) @ np.abs(Fb).T) + (n + 1) * 2.0 ** -1074
    G = S[:, perm] - S[np.arange(l), perm][:, None]      # row i takes neuron k's partner
    Gerr = err[:, perm] + err[np.arange(l), perm][:, None] + u * np.abs(G)
    # potentials: longest paths for the gains raised by a margin above every rounding bound,
    # so that every exchange keeps a strict loss (they do not settle when a cycle is nearly
    # free: a near-tie, decided exactly by the caller)
    big = float(np.max(np.abs(G))) + float(np.max(Gerr))
    delta = 2.0 * float(np.max(Gerr)) + 8.0 * u * (2 * l + 2) * big
    y = _longest_paths(G + delta)
    T = G + y[:, None] - y[None, :]
    slack = Gerr + 4 * u * (np.abs(G) + np.abs(y)[:, None] + np.abs(y)[None, :])
    np.fill_diagonal(T, -np.inf)
    return bool(np.all(np.isfinite(err)) and np.all(T + slack < 0))


def _parent_cycle(parent, start):
    """A cycle of the parent pointers reached from ``start`` (list of nodes), or None."""
    seen, k = {}, start
    while k >= 0 and k not in seen:
        seen[k] = len(seen)
        k = int(parent[k])
    if k < 0:
        return None
    cycle, j = [k], int(parent[k])
    while j != k:
        cycle.append(j)
        j = int(parent[j])
    return cycle


def _exact_improve(S, perm, y0=None):
    """Cancel the exchange cycles of positive exact gain (Bellman-Ford on Python ints, from
    the potentials ``y0`` if given) until none is left: then ``perm`` is an exact maximum of
    ``Σ_i S[i, perm[i]]`` (the converged potentials are the certificate)."""
    l = len(perm)
    idx = np.arange(l)
    perm = perm.copy()
    while True:                       # exchanges of two neurons first (near-duplicates)
        G = S[:, perm] - S[idx, perm][:, None]
        gain = G + G.T
        np.fill_diagonal(gain, 0)
        pos = np.argwhere(gain > 0)
        if not len(pos):
            break
        i, k = (int(x) for x in pos[0])
        perm[i], perm[k] = perm[k], perm[i]
    y = np.zeros(l, dtype=object) if y0 is None else y0.copy()
    while True:
        G = S[:, perm] - S[idx, perm][:, None]
        np.fill_diagonal(G, 0)
        parent = np.full(l, -1)
        cycle = None
        for _ in range(l + 1):
            cand = y[:, None] + G
            best_i = np.argmax(cand, axis=0)
            best = cand[best_i, idx]
            upd = best > y
            if not upd.any():
                return perm
            y = np.where(upd, best, y)
            parent = np.where(upd, best_i, parent)
            cycle = _parent_cycle(parent, int(np.flatnonzero(upd)[0]))
            if cycle is not None and sum(G[parent[k], k] for k in cycle) > 0:
                break
            cycle = None
        if cycle is None:             # after l + 1 rounds the parent graph holds one
            k = int(np.flatnonzero(upd)[0])
            for _ in range(l):
                k = int(parent[k])
            cycle = _parent_cycle(parent, k)
        new = perm.copy()
        for k in cycle:                                   # edge parent[k] -> k
            new[parent[k]] = perm[k]
        if sum(S[i, new[i]] for i in cycle) <= sum(S[i, perm[i]] for i in cycle):
            raise AssertionError("exact matching: a cycle without gain")  # pragma: no cover
        perm = new


def _exact_matching(Fa, Fb):
    """Assignment maximizing ``Σ_i <Fa_i, Fb_perm[i]>`` exactly (for the float features):
    SciPy's float solution, certified by float potentials with rounding bounds, or else
    improved and certified in exact integer arithmetic."""
    from scipy.optimize import linear_sum_assignment

    # scale each side by a power of two to unit size when that is exact: the optimum is the
    # same and huge (1e300) or tiny (1e-300) weights keep the float filter
    for name in ("Fa", "Fb"):
        F = Fa if name == "Fa" else Fb
        big = float(np.max(np.abs(F), initial=0.0))
        if big > 0:
            e = int(np.frexp(big)[1])
            G = np.ldexp(F, -e)
            if np.array_equal(np.ldexp(G, e), F):
                Fa, Fb = (G, Fb) if name == "Fa" else (Fa, G)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        S = Fa @ Fb.T
    finite = np.all(np.isfinite(S))
    rows, cols = linear_sum_assignment(np.where(np.isfinite(S), S, 0.0), maximize=True)
    perm = np.empty(len(rows), dtype=np.int64)
    perm[rows] = cols
    y0 = None
    if finite:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            if _float_certified(S, perm, Fa, Fb):
                return perm
            y = _float_potentials(S, perm)
    Sx, scale = _exact_scores(Fa, Fb)
    if finite and np.all(np.isfinite(y)):
        from fractions import Fraction

        y0 = np.array([max(0, round(Fraction(float(v)) / Fraction(2) ** scale)) for v in y],
                      dtype=object)
    return _exact_improve(Sx, perm, y0).astype(np.int64)


def weight_matching(net_a, net_b, *, balanced=None):
    """Permutation of ``net_b``'s neurons that best matches ``net_a``'s (linear assignment).

    Neuron ``i`` of ``net_a`` is matched to neuron ``perm[i]`` of ``net_b``, maximizing
    ``Σ_i <(w_i, a_i)^A, (w_perm[i], a_perm[i])^B>``: an exact optimum for the float weights
    (SciPy's ``linear_sum_assignment`` in float, ``O(l³)``, certified by dual potentials with
    rounding bounds; near-ties such as 1-ulp neighbours are improved and certified in integer
    arithmetic). ``net_b.permute_neurons(perm)`` then has its neurons in ``net_a``'s
    order.

    Parameters
    ----------
    net_a, net_b : Network
        Shallow networks of the same architecture.
    balanced : bool or None
        Balance both networks before matching (default: when the activation is positively
        homogeneous), so that the arbitrary rescalings do not bias the assignment.

    Returns
    -------
    ndarray of int of shape (l,)
        The permutation ``perm``: the neuron of ``net_b`` matched to each neuron of ``net_a``.

    See Also
    --------
    align, topoanalysis.levelsets.aligned_barriers

    References
    ----------
    .. [1] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models modulo
           permutation symmetries", ICLR 2023: weight matching by a linear assignment per
           layer.
    """
    _check_network(net_a, "net_a")
    _check_network(net_b, "net_b")
    if net_a.arch != net_b.arch:
        raise ValidationError(f"`net_a` and `net_b` must have the same architecture; got "
                              f"{net_a!r} and {net_b!r}.")
    if balanced is None:
        balanced = _act.is_positively_homogeneous(net_a.arch.activation)
    if balanced:
        net_a, net_b = balance(net_a), balance(net_b)
    # the optimum is decided exactly on the float weights (1-ulp near-duplicates included)
    return _exact_matching(_features(net_a), _features(net_b))


@dataclass(frozen=True)
class AlignResult:
    """Result of :func:`align`.

    Attributes
    ----------
    network : Network
        ``net_b`` balanced (when homogeneous) and permuted into ``net_a``'s neuron order:
        the same function as ``net_b``.
    reference : Network
        ``net_a`` balanced (when homogeneous): compare ``network`` with this one.
    perm : ndarray of int
        ``network`` neuron ``i`` is ``net_b`` neuron ``perm[i]``.
    scales : ndarray
        Factors ``α`` applied to ``net_b``'s neurons (in ``net_b``'s order) by balancing.
    distance_before, distance_after : float
        ``||θ_a − θ_b||`` and ``||θ_ref − θ_aligned||`` (Euclidean, flat parameters).
    """

    network: Network
    reference: Network
    perm: np.ndarray
    scales: np.ndarray
    distance_before: float
    distance_after: float

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        return (f"aligned by permutation {self.perm.tolist()}; parameter distance "
                f"{self.distance_before:.4g} -> {self.distance_after:.4g}")

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"perm": self.perm.tolist(), "scales": self.scales.tolist(),
                "distance_before": self.distance_before, "distance_after": self.distance_after}


def align(net_a, net_b, *, balanced=None):
    """Balance both networks and permute ``net_b``'s neurons onto ``net_a``'s.

    For a network and a permuted, rescaled copy of itself the copy comes back exactly
    (``distance_after`` ≈ 0; exactly 0 for rescalings by powers of two), except at neurons
    with ``w_k = 0`` or ``a_k = 0``, which balancing cannot rescale back (they realize 0
    whatever the other weight, so the copy is the same function at a positive distance).

    Parameters
    ----------
    net_a, net_b : Network
        Shallow networks of the same architecture.
    balanced : bool, optional
        Balance both first (default: when the activation is positively homogeneous).

    Returns
    -------
    AlignResult
        The aligned ``net_b``, the permutation, the scales and distances.

    See Also
    --------
    topoanalysis.symmetry.weight_matching : The permutation alone.
    topoanalysis.symmetry.balance : The balanced representative.

    References
    ----------
    .. [1] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models modulo
           permutation symmetries", ICLR 2023: weight matching.
    .. [2] R. Entezari, H. Sedghi, O. Saukh, B. Neyshabur, "The role of permutation
           invariance in linear mode connectivity of neural networks", ICLR 2022: aligning
           permutations before interpolating.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> net = Network.initialize(Architecture(3, (4,), 1), seed=0)
    >>> copy = net.rescale_neurons([2.0, 0.5, 3.0, 1.5]).permute_neurons([2, 0, 3, 1])
    >>> res = align(net, copy)
    >>> res.perm.tolist()
    [1, 3, 0, 2]
    >>> res.distance_after < 1e-12
    True
    """
    _check_network(net_a, "net_a")
    _check_network(net_b, "net_b")
    perm = weight_matching(net_a, net_b, balanced=balanced)
    if balanced is None:
        balanced = _act.is_positively_homogeneous(net_a.arch.activation)
    if balanced:
        scales = balance_factors(net_b.arch, net_b.params)
        ref, moved = balance(net_a), balance(net_b)
    else:
        scales = np.ones(net_b.arch.hidden[0])
        ref, moved = net_a, net_b
    aligned = moved.permute_neurons(perm)
    return AlignResult(
        network=aligned, reference=ref, perm=perm, scales=scales,
        distance_before=_distance(net_a.params, net_b.params),
        distance_after=_distance(ref.params, aligned.params),
    )


def _distance(u, v):
    """``||u − v||`` on vectors scaled by a power of two first (exact scaling): 1e200-sized
    parameters no longer give inf, nor 1e-200-sized ones 0 for different networks."""
    big = float(max(np.max(np.abs(u), initial=0.0), np.max(np.abs(v), initial=0.0)))
    if big == 0 or 1e-100 <= big <= 1e100:
        return float(np.linalg.norm(u - v))
    e = int(np.frexp(big)[1])
    with np.errstate(over="ignore"):
        return float(np.ldexp(np.linalg.norm(np.ldexp(u, -e) - np.ldexp(v, -e)), e))


# --- canonical order and merging (Berner, Elbrächter & Grohs: the canonical form) ------------
def canonical_neuron_order(net, *, decimals=9):
    """The permutation that sorts the hidden neurons canonically.

    Neurons are sorted lexicographically by their incoming weights ``w_k`` (bias appended),
    then by their outgoing weights ``a_k``, all rounded to ``decimals`` digits so that
    rounding noise does not flip the order, and neurons equal after rounding by their exact
    weights; ``net.permute_neurons(perm)`` is the sorted network. Two networks that differ by
    a permutation of their neurons get the same sorted network (for the same rescaling, e.g.
    after :func:`balance`).

    Parameters
    ----------
    net : Network
        Shallow network.
    decimals : int, default=9
        Digits kept when rounding, in ``[0, 300]`` (weights so huge that rounding would
        overflow, or so tiny that all would round to 0, are scaled by a power of two first).

    Returns
    -------
    ndarray of int of shape (l,)
        The permutation ``perm``: the old index of the neuron at each sorted position.

    See Also
    --------
    topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Lemma A.3
           (uniqueness up to permutation and balancing).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[1.0, 0.0], [-1.0, 2.0]], [[3.0, 4.0]]])
    >>> canonical_neuron_order(net).tolist()
    [1, 0]
    """
    _check_network(net, "net")
    decimals = check_int("decimals", decimals, minimum=0, maximum=300)
    w, a = net.neuron_weights()
    exact = np.concatenate([w, a], axis=1) + 0.0      # -0.0 -> 0.0
    keys = exact
    big = float(np.max(np.abs(keys), initial=0.0))
    if big > 0 and not 1.0 <= big * 10.0 ** decimals <= 1e300:
        # rounding multiplies by 10^decimals: scale by a power of two first (order-preserving,
        # exact) so that huge weights do not all round to inf, nor tiny ones all to 0, and tie
        keys = keys * np.ldexp(1.0, -int(np.frexp(big)[1]))
    keys = np.round(keys, decimals) + 0.0   # -0.0 -> 0.0
    # ties of the rounded keys broken by the exact floats: without them neurons that agree to
    # `decimals` digits keep their input order, and two permutations of one network would sort
    # differently
    return np.lexsort(np.concatenate([keys, exact], axis=1).T[::-1]).astype(np.int64)


@dataclass(frozen=True)
class MergeResult:
    """Result of :func:`merge_redundant_neurons`.

    Attributes
    ----------
    network : Network
        One neuron per direction (same function); its width is ``len(groups)``.
    mapping : ndarray of int of shape (l,)
        New neuron of every old neuron.
    groups : list of list of int
        Old neurons merged into each new neuron.
    tol : float
        Directions with cosine ``>= 1 − tol`` were merged (exactly parallel ones always).
    """

    network: Network
    mapping: np.ndarray
    groups: list
    tol: float

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        merged = [g for g in self.groups if len(g) > 1]
        return (f"{len(self.mapping)} neurons -> {len(self.groups)}; merged groups {merged} "
                f"(cosine >= 1 - {self.tol:g})")

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"mapping": self.mapping.tolist(), "groups": self.groups, "tol": self.tol,
                "width": len(self.groups)}


def _same_ray(u, v):
    """Whether ``u = λ v`` for some ``λ > 0``, in exact rational arithmetic on the floats."""
    from fractions import Fraction

    if not np.array_equal(np.sign(u), np.sign(v)):
        return False
    p = int(np.argmax(np.abs(v)))
    if v[p] == 0:
        return not np.any(u)
    lam = Fraction(float(u[p])) / Fraction(float(v[p]))
    return all(Fraction(float(ui)) == lam * Fraction(float(vi)) for ui, vi in zip(u, v))


def merge_redundant_neurons(net, *, tol=1e-9):
    """Merge neurons whose weight vectors have the same direction into one neuron.

    For a positively homogeneous activation ``σ(λz) = λσ(z)`` (``λ > 0``), neurons with
    ``w_j = λ_j n`` realize ``Σ_j a_j σ(⟨w_j, x⟩) = (Σ_j λ_j a_j) σ(⟨n, x⟩)``: one neuron with
    weight ``n`` (unit, the direction of the group's largest ``w_j``) and output
    ``Σ_j ||w_j|| a_j``. Neurons with ``w_j = 0`` form one group of their own (they realize
    the constant ``σ(0) a_j = 0``). Exactly parallel weight vectors (``w_j = λ w_k``,
    ``λ > 0``, decided in exact rational arithmetic on the float weights) are always merged;
    with ``tol > 0`` also those whose directions have cosine ``>= 1 − tol``. The realization
    is unchanged (up to rounding when the directions are exactly equal; up to ``tol``
    relative to the weights otherwise). Berner et al.'s condition C.2 asks for no redundant
    non-zero weight vectors.

    Parameters
    ----------
    net : Network
        Shallow network with a positively homogeneous activation (``w_k`` includes the bias).
    tol : float, default=1e-9
        Directions with cosine ``>= 1 − tol`` are the same; ``0``: only exactly parallel
        weight vectors are (the exact test, without a rounded cosine).

    Returns
    -------
    MergeResult
        The merged network (one neuron per direction, same function), the new neuron of each
        old one and the groups merged.

    See Also
    --------
    topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: redundant
           weight vectors and condition C.2.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[1.0, 2.0], [2.0, 4.0], [0.0, 1.0]], [[1.0, -0.5, 3.0]]])
    >>> res = merge_redundant_neurons(net)
    >>> res.groups
    [[0, 1], [2]]
    >>> X = np.array([[1.0, 1.0], [0.3, -2.0]])
    >>> bool(np.allclose(res.network.forward(X), net.forward(X)))
    True
    """
    _check_network(net, "net")
    _require_homogeneous(net.arch, "net")
    if not (isinstance(tol, (int, float)) and 0 <= tol < 1):
        raise ValidationError(f"`tol` must be a float in [0, 1); got {tol!r}.")
    w, a = net.neuron_weights()
    norms = _row_norms(w)      # not np.linalg.norm: it reads a 1e-200-sized w_k as 0
    groups, dirs, reps, zero_group = [], [], [], None
    mapping = np.empty(len(w), dtype=np.int64)
    for k in range(len(w)):
        if norms[k] == 0:
            if zero_group is None:
                zero_group = len(groups)
                groups.append([])
                dirs.append(None)
                reps.append(None)
            groups[zero_group].append(k)
            mapping[k] = zero_group
            continue
        n = w[k] / norms[k]
        for g, m in enumerate(dirs):
            if m is None:
                continue
            # exact parallels always merge (decided in rational arithmetic, not by the
            # rounded cosine, which can miss them); near-parallels only when tol > 0
            if _same_ray(w[k], w[reps[g]]) or (tol > 0 and float(n @ m) >= 1.0 - tol):
                groups[g].append(k)
                mapping[k] = g
                break
        else:
            mapping[k] = len(groups)
            groups.append([k])
            dirs.append(n)
            reps.append(k)
    d_in = w.shape[1]
    W_new = np.zeros((len(groups), d_in))
    A_new = np.zeros((len(groups), a.shape[1]))
    for g, members in enumerate(groups):
        if dirs[g] is None:
            continue
        lead = members[int(np.argmax(norms[members]))]
        n = w[lead] / norms[lead]
        W_new[g] = n
        A_new[g] = sum((w[k] @ n) * a[k] for k in members)   # ||w_k|| cos = w_k·n
    arch = net.arch
    (_, _), (_, b2) = arch.unpack(net.params)
    new_arch = type(arch)(arch.inputs, (len(groups),), arch.outputs, arch.hidden_bias,
                          arch.output_bias, arch.activation, arch.negative_slope)
    W1 = W_new[:, :arch.inputs]
    b1 = W_new[:, arch.inputs] if arch.hidden_bias else None
    params = new_arch.pack([W1, A_new.T], [b1, None if b2 is None else np.array(b2)])
    return MergeResult(network=Network(new_arch, params), mapping=mapping, groups=groups,
                       tol=float(tol))
