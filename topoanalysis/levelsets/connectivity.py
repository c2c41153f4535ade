"""Connectivity of many minima: pairwise barriers, level-set graphs, disconnectivity trees.

For ``N`` trained networks (minima) :func:`pairwise_barriers` measures, for every pair, the
highest loss on a path between them:

* ``"linear"``: the straight segment (all ``N(N−1)/2`` segments in one engine call);
* ``"aligned"`` (``align=True``): the straight segment after symmetry alignment
  (:func:`topoanalysis.symmetry.align`: both networks balanced when the activation is
  positively homogeneous, then the second network's neurons permuted onto the first's by
  weight matching). Balancing moves a network along a path of constant loss (a continuous
  rescaling) and a permutation gives the same function, so an aligned segment joins the two
  minima's symmetry orbits; how much each barrier drops is reported;
* ``"string"`` (``strings=True``): Dynamic String Sampling at a level ``threshold`` between every
  pair (all pairs in one batched :func:`~topoanalysis.levelsets.dynamic_string_sampling` call);
  a connected string's highest loss is a path value too.

Every path found gives an upper bound of the minimax level between two minima; the best known
value (the elementwise minimum over the kinds measured) feeds the graph layer:
:func:`topoanalysis.graphs.level_set_graph`, :func:`~topoanalysis.graphs.component_counts`
and :func:`~topoanalysis.graphs.disconnectivity_tree`.
"""

import dataclasses
import time
import warnings

import numpy as np

from .._validation import check_float, check_int
from .._results import data_source
from ..losses import check_loss
from ..exceptions import DivergenceWarning, ShapeError, ValidationError
from ..network import Network

__all__ = [
    "AlignedBarriers",
    "aligned_barriers",
    "BarrierMatrix",
    "pairwise_barriers",
]


@dataclasses.dataclass(frozen=True, eq=False)
class AlignedBarriers:
    """Linear barriers between pairs of networks before and after symmetry alignment.

    Attributes
    ----------
    barrier_linear, barrier_aligned : ndarray of shape (M,)
        Height above the chord of the endpoint losses (Entezari et al.), before/after;
        exactly 0 for a segment whose two ends coincide (it is one point).
    max_linear, max_aligned : ndarray of shape (M,)
        Highest loss on the segment, before/after (the point's loss when the ends coincide).
    drop : ndarray of shape (M,)
        ``barrier_linear − barrier_aligned``.
    perms : ndarray of int of shape (M, l)
        Aligned neuron ``i`` of the second network is its neuron ``perms[m, i]``.
    distance_before, distance_after : ndarray of shape (M,)
    aligned_params : ndarray of shape (M, P)
        The aligned second networks; ``reference_params`` the (balanced) first ones.
    reference_params : ndarray of shape (M, P)
    loss_name : str
    """

    barrier_linear: np.ndarray
    barrier_aligned: np.ndarray
    max_linear: np.ndarray
    max_aligned: np.ndarray
    drop: np.ndarray
    perms: np.ndarray
    distance_before: np.ndarray
    distance_after: np.ndarray
    aligned_params: np.ndarray
    reference_params: np.ndarray
    loss_name: str

    def summary(self, labels=None):
        """Text, one line per pair (``labels`` names the pairs, default ``pair m``).

        Parameters
        ----------
        labels : sequence of str, optional
            One name per pair (default ``pair m``).

        Returns
        -------
        str
            Lines of text.
        """
        lines = [f"{self.drop.size} pairs, {self.loss_name} barrier above the chord, linear -> "
                 f"aligned (balance + weight matching):"]
        for m in range(self.drop.size):
            name = f"pair {m}" if labels is None else str(labels[m])
            lines.append(f"  {name}: {self.barrier_linear[m]:.4g} -> "
                         f"{self.barrier_aligned[m]:.4g} (drop {self.drop[m]:.4g}), distance "
                         f"{self.distance_before[m]:.3g} -> {self.distance_after[m]:.3g}, perm "
                         f"{self.perms[m].tolist()}")
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"loss": self.loss_name, "barrier_linear": self.barrier_linear.tolist(),
                "barrier_aligned": self.barrier_aligned.tolist(),
                "max_linear": self.max_linear.tolist(), "max_aligned": self.max_aligned.tolist(),
                "drop": self.drop.tolist(), "perms": self.perms.tolist(),
                "distance_before": self.distance_before.tolist(),
                "distance_after": self.distance_after.tolist()}


def _as_networks(theta, arch, name):
    from ..dynamics import _engine

    arch, stack = _engine.resolve_params(theta, arch, name)
    return arch, stack


def _segment_barriers(land, A, B, n_points, n_threads):
    """``(curve (M, T), barrier (M,))`` of the segments ``A[m] → B[m]``.

    A segment whose two ends are the same parameter vector (duplicate minima, or a copy that
    alignment mapped exactly onto its reference) is a single point: the engine's segment
    evaluation gives it that point's loss at every ``t``, and the barrier is exactly 0.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        res = land.interpolation_barrier(A, B, n_points=n_points, n_threads=n_threads)
    return res.loss, res.barrier


def _align_rows(arch, A, B, balanced=None):
    from ..symmetry import align

    ref = np.empty_like(A)
    out = np.empty_like(B)
    perms = np.empty((A.shape[0], arch.hidden[0]), dtype=np.int64)
    d0 = np.empty(A.shape[0])
    d1 = np.empty(A.shape[0])
    for m in range(A.shape[0]):
        r = align(Network(arch, A[m]), Network(arch, B[m]), balanced=balanced)
        ref[m], out[m], perms[m] = r.reference.params, r.network.params, r.perm
        d0[m], d1[m] = r.distance_before, r.distance_after
    return ref, out, perms, d0, d1


def aligned_barriers(theta_a, theta_b, X, y=None, *, arch=None, loss=None, n_points=101,
                     balanced=None, n_threads=None):
    """Barriers on the segments ``θ_a → θ_b`` before and after symmetry alignment.

    Parameters
    ----------
    theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
        Pairs of shallow networks, row by row (a single network pairs with every row).
    X : Landscape or array_like of shape (N, d)
        Inputs, or a :class:`~topoanalysis.landscape.Landscape` (then ``y`` is omitted).
    y : array_like of shape (N, e), optional
        Targets; required with array data.
    arch : Architecture, optional
        Required when the networks are arrays.
    loss : {"mse", "l1", "bce", "cross_entropy"}, optional
        Default ``"mse"`` (or the landscape's).
    n_points : int, default=101
        Grid points on each segment (as in
        :func:`topoanalysis.dynamics.interpolation_barrier`).
    balanced : bool, optional
        Balance before matching (default: for positively homogeneous activations).
    n_threads : int, optional
        Engine threads; results do not depend on it.

    Returns
    -------
    AlignedBarriers
        Barriers and highest losses of each pair on the straight segment before and after
        aligning ``theta_b``'s neurons to ``theta_a``'s, the drop, the permutations, the
        parameter distances and the aligned networks.

    See Also
    --------
    topoanalysis.symmetry.align : The alignment used.
    topoanalysis.dynamics.interpolation_barrier : The barrier of one segment.

    Notes
    -----
    Two batched engine calls (before and after); the alignment is ``M`` linear assignments of
    size ``l`` (SciPy), ``O(M l³)``.

    References
    ----------
    .. [1] R. Entezari, H. Sedghi, O. Saukh, B. Neyshabur, "The role of permutation
           invariance in linear mode connectivity of neural networks", ICLR 2022: Eq. 1
           (barrier above the chord).
    .. [2] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models modulo
           permutation symmetries", ICLR 2023: weight matching.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> net = Network.initialize(Architecture(2, (3,), 1), seed=0)
    >>> copy = net.rescale_neurons([2.0, 0.5, 1.5]).permute_neurons([2, 0, 1])
    >>> X = np.random.default_rng(0).standard_normal((20, 2)); y = X[:, :1]
    >>> res = aligned_barriers(net, copy, X, y)
    >>> res.perms[0].tolist(), bool(res.barrier_aligned[0] < 1e-12)
    ([1, 2, 0], True)
    """
    from ..landscape import Landscape, as_landscape

    if isinstance(X, Landscape) and arch is None:
        arch = X.arch
    arch, A = _as_networks(theta_a, arch, "theta_a")
    arch_b, B = _as_networks(theta_b, arch, "theta_b")
    land = as_landscape(X, y, arch, loss)
    loss = land.loss_name
    if A.shape[0] != B.shape[0]:
        if A.shape[0] == 1:
            A = np.repeat(A, B.shape[0], axis=0)
        elif B.shape[0] == 1:
            B = np.repeat(B, A.shape[0], axis=0)
        else:
            raise ShapeError(f"`theta_a` and `theta_b` must hold the same number of networks; "
                             f"got {A.shape[0]} and {B.shape[0]}.")
    n_points = check_int("n_points", n_points, minimum=3)
    from .._resources import check_memory

    check_memory(48.0 * A.shape[0] * n_points, f"{A.shape[0]} pairs × {n_points} points, "
                 "before and after alignment", param="n_points")
    lin_curve, lin_barrier = _segment_barriers(land, A, B, n_points, n_threads)
    _check_finite_losses(lin_curve.max(axis=1), "the segments between `theta_a` and `theta_b`")
    ref, al, perms, d0, d1 = _align_rows(arch, A, B, balanced)
    ali_curve, ali_barrier = _segment_barriers(land, ref, al, n_points, n_threads)
    _check_finite_losses(ali_curve.max(axis=1), "the aligned segments")
    return AlignedBarriers(
        barrier_linear=lin_barrier, barrier_aligned=ali_barrier,
        max_linear=lin_curve.max(axis=1), max_aligned=ali_curve.max(axis=1),
        drop=lin_barrier - ali_barrier, perms=perms, distance_before=d0, distance_after=d1,
        aligned_params=al, reference_params=ref, loss_name=loss)


@dataclasses.dataclass(frozen=True, eq=False)
class BarrierMatrix:
    """Pairwise paths between ``N`` minima (see the module docstring).

    Attributes
    ----------
    params : ndarray of shape (N, P)
    node_loss : ndarray of shape (N,)
    linear_max : ndarray of shape (N, N)
        Highest loss on each straight segment (diagonal: the minima's losses; two identical
        minima: their loss, the segment being one point).
    linear_barrier : ndarray of shape (N, N)
        Height above the chord (diagonal 0).
    aligned_max, aligned_barrier : ndarray of shape (N, N) or None
        The same after alignment (``align=True``).
    perms : ndarray of int of shape (N, N, l) or None
        ``perms[i, j]``: permutation aligning ``j`` onto ``i`` (neuron ``k`` of the aligned
        ``j`` is neuron ``perms[i, j, k]`` of ``j``); computed for ``i < j``, and
        ``perms[j, i]`` is its inverse. Diagonal: ``-1``.
    string_max : ndarray of shape (N, N) or None
        Highest loss on the connected DSS string (``inf`` where not connected within budget).
    string_connected : ndarray of bool of shape (N, N) or None
    string_n_beads, string_normalized_length : ndarray of shape (N, N) or None
    threshold : float or None
        Level of the strings.
    loss_name : str
    seconds : float
    settings : dict
    linear_upper, aligned_upper, string_upper : ndarray of shape (N, N) or None
        With ``bounds=True``: proven upper bounds of the highest loss on each path
        (:func:`~topoanalysis.levelsets.segment_loss_bounds` on the same grid; a string's
        certified ``edge_upper``, ``inf`` where not connected); diagonal: the minima's losses.
    """

    params: np.ndarray
    node_loss: np.ndarray
    linear_max: np.ndarray
    linear_barrier: np.ndarray
    aligned_max: object
    aligned_barrier: object
    perms: object
    string_max: object
    string_connected: object
    string_n_beads: object
    string_normalized_length: object
    threshold: object
    loss_name: str
    seconds: float
    settings: dict
    linear_upper: object = None
    aligned_upper: object = None
    string_upper: object = None

    @property
    def n_minima(self):
        """Number ``N`` of minima."""
        return self.params.shape[0]

    @property
    def path_max(self):
        """Best known path value between every two minima: the elementwise minimum of the
        kinds measured, shape ``(N, N)``.
        """
        best = self.linear_max.copy()
        for other in (self.aligned_max, self.string_max):
            if other is not None:
                best = np.minimum(best, other)
        return best

    @property
    def path_upper(self):
        """Proven upper bound of the minimax level between every two minima (the elementwise
        minimum of the bounds computed), shape ``(N, N)``; None without ``bounds=True``.
        """
        if self.linear_upper is None:
            return None
        best = self.linear_upper.copy()
        for other in (self.aligned_upper, self.string_upper):
            if other is not None:
                best = np.minimum(best, other)
        return best

    def _paths(self, proven):
        if not isinstance(proven, (bool, np.bool_)):
            raise ValidationError(f"`proven` must be True or False; got {proven!r}.")
        if not proven:
            return self.path_max
        if self.linear_upper is None:
            raise ValidationError("`proven` True needs the proven bounds: call "
                                  "pairwise_barriers with bounds=True; got a result without "
                                  "them.")
        return self.path_upper

    @property
    def drop(self):
        """``linear_barrier − aligned_barrier`` (None without alignment)."""
        return None if self.aligned_barrier is None else self.linear_barrier - self.aligned_barrier

    def level_set_graph(self, threshold, proven=False):
        """:func:`topoanalysis.graphs.level_set_graph` of the best known paths.

        Parameters
        ----------
        threshold : float
            Loss level.
        proven : bool, default=False
            Join minima by the proven bounds (``path_upper``) instead of the grid maxima: an
            edge is then a path proven below the level.

        Returns
        -------
        networkx.Graph
            Minima joined by known paths below the level.
        """
        from ..graphs.levelsets import level_set_graph

        return level_set_graph(self._paths(proven), threshold, self.node_loss)

    def component_counts(self, thresholds=None, proven=False):
        """``(thresholds, counts)`` of :func:`topoanalysis.graphs.component_counts`.

        Parameters
        ----------
        thresholds : array_like, optional
            Loss levels (default: every merge level).
        proven : bool, default=False
            Merge by the proven bounds (``path_upper``): the counts are then upper bounds of
            the numbers of level-set components holding the minima.

        Returns
        -------
        thresholds : ndarray
            The levels.
        counts : ndarray of int
            Components at each level.
        """
        from ..graphs.levelsets import component_counts

        return component_counts(self._paths(proven), thresholds, self.node_loss)

    def disconnectivity_tree(self, labels=None, proven=False):
        """:func:`topoanalysis.graphs.disconnectivity_tree` of the best known paths.

        Parameters
        ----------
        labels : sequence of str, optional
            One name per minimum.
        proven : bool, default=False
            Build it from the proven bounds (``path_upper``).

        Returns
        -------
        networkx.DiGraph
            The disconnectivity tree.
        """
        from ..graphs.levelsets import disconnectivity_tree

        return disconnectivity_tree(self._paths(proven), self.node_loss, labels)

    def _offdiag(self, M):
        return M[np.triu_indices(self.n_minima, 1)]

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        n = self.n_minima
        lb = self._offdiag(self.linear_barrier)
        lines = [f"{n} minima ({self.loss_name} {self.node_loss.min():.4g} .. "
                 f"{self.node_loss.max():.4g}), {n * (n - 1) // 2} pairs, {self.seconds:.1f} s",
                 f"  linear barrier above the chord: mean {lb.mean():.4g}, median "
                 f"{np.median(lb):.4g}, max {lb.max():.4g}"]
        if self.aligned_barrier is not None:
            ab = self._offdiag(self.aligned_barrier)
            dr = self._offdiag(self.drop)
            lines.append(f"  aligned barrier: mean {ab.mean():.4g}, median {np.median(ab):.4g}, "
                         f"max {ab.max():.4g}; drop mean {dr.mean():.4g}, max {dr.max():.4g}")
        if self.string_connected is not None:
            sc = self._offdiag(self.string_connected)
            lines.append(f"  strings at L0 = {self.threshold:.4g}: {int(sc.sum())}/{sc.size} "
                         f"pairs connected")
        T = self.disconnectivity_tree()
        root = T.nodes[T.graph["root"]]["level"]
        lines.append(f"  all minima joined at level {root:.4g} (disconnectivity tree root)")
        if self.linear_upper is not None:
            gap = self._offdiag(self.path_upper - self.path_max)
            Tp = self.disconnectivity_tree(proven=True)
            lines.append(f"  proven: every path below its bound (at most {gap.max():.3g} above "
                         f"its grid maximum); all minima joined below "
                         f"{Tp.nodes[Tp.graph['root']]['level']:.6g}")
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        t, c = self.component_counts()

        def m(a):
            return None if a is None else np.asarray(a).tolist()

        return {"n_minima": self.n_minima, "loss": self.loss_name,
                "node_loss": self.node_loss.tolist(), "linear_max": m(self.linear_max),
                "linear_barrier": m(self.linear_barrier), "aligned_max": m(self.aligned_max),
                "aligned_barrier": m(self.aligned_barrier), "drop": m(self.drop),
                "perms": m(self.perms), "string_max": m(self.string_max),
                "string_connected": m(self.string_connected),
                "string_n_beads": m(self.string_n_beads),
                "string_normalized_length": m(self.string_normalized_length),
                "threshold": self.threshold, "path_max": m(self.path_max),
                "linear_upper": m(self.linear_upper), "aligned_upper": m(self.aligned_upper),
                "string_upper": m(self.string_upper), "path_upper": m(self.path_upper),
                "component_counts": {"thresholds": t.tolist(), "counts": c.tolist()},
                "seconds": self.seconds, "settings": self.settings}


def _check_finite_losses(losses, name):
    """Refuse, in one line, losses that left float64 (outputs of 1e150+ networks or data)."""
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        where = (f"`{name}[{int(bad[0])}]`" if name.isidentifier() else f"{name} (pair "
                 f"{int(bad[0])})")
        raise ValidationError(f"{where} must have a finite loss on the data; got "
                              f"{float(losses[bad[0]])} (the outputs overflow float64: rescale "
                              "the networks or the data).")


#: Arguments of dynamic_string_sampling that pairwise_barriers sets itself.
_DSS_OWN = ("theta_a", "theta_b", "X", "y", "arch", "loss", "threshold", "n_threads")


def _check_dss_options(dss_options):
    """``dss_options`` as a dict of keyword arguments of dynamic_string_sampling, refused in one
    line when it is not a dict or names an argument that does not exist or that
    :func:`pairwise_barriers` sets itself (before any work, not as a TypeError after it)."""
    import inspect

    from .strings import dynamic_string_sampling

    if dss_options is None:
        return None
    if not isinstance(dss_options, dict):
        raise ValidationError(f"`dss_options` must be a dict of keyword arguments of "
                              f"dynamic_string_sampling; got {type(dss_options).__name__}.")
    known = set(inspect.signature(dynamic_string_sampling).parameters) - set(_DSS_OWN)
    bad = sorted(str(k) for k in dss_options if k not in known)
    if bad:
        raise ValidationError(
            f"`dss_options` must hold keyword arguments of dynamic_string_sampling other than "
            f"{', '.join(_DSS_OWN)} (pairwise_barriers sets those); got {', '.join(bad)}.")
    return dss_options


def pairwise_barriers(networks, X, y=None, *, arch=None, loss=None, align=False, strings=False,
                      threshold=None, n_points=101, balanced=None, dss_options=None,
                      n_threads=None, progress=True, bounds=False):
    """Paths between every two of ``N`` minima, in batched engine calls.

    Parameters
    ----------
    networks : sequence of Network, or array_like of shape (N, P)
        ``N >= 2`` minima of one architecture; arrays need ``arch``.
    X : Landscape or array_like of shape (N, d)
        Inputs, or a :class:`~topoanalysis.landscape.Landscape` (then ``y`` is omitted); every
        engine call of the run uses it.
    y : array_like of shape (N, e), optional
        Targets; required with array data.
    arch : Architecture, optional
        Required when ``networks`` is an array.
    loss : {"mse", "l1", "bce", "cross_entropy"}, optional
        Default ``"mse"`` (or the landscape's).
    align : bool, default=False
        Also measure the segments after symmetry alignment (shallow networks).
    strings : bool, default=False
        Also run Dynamic String Sampling at ``threshold`` between every pair (between the
        aligned pairs when ``align``).
    threshold : float, optional
        ``L0`` of the strings (required with ``strings=True``).
    n_points : int, default=101
        Grid points on each segment.
    balanced : bool, optional
        Passed to :func:`topoanalysis.symmetry.align`.
    dss_options : dict, optional
        Keyword arguments for :func:`~topoanalysis.levelsets.dynamic_string_sampling` (not
        the ones set here: the endpoints, data, ``arch``, ``loss``, ``threshold``,
        ``n_threads``).
    n_threads : int, optional
        Engine threads; results do not depend on it.
    progress : bool, default=True
        Show progress bars.
    bounds : bool, default=False
        Also prove an upper bound of the highest loss on every path
        (:func:`~topoanalysis.levelsets.segment_loss_bounds` on the same grid of each segment,
        the strings' certified bounds): ``path_upper`` and the ``proven=True`` graphs; about
        10 ms per segment of 100 points and 455 samples with one hidden layer (interval
        arithmetic for deeper networks: looser, first order in the grid spacing).

    Returns
    -------
    BarrierMatrix
        ``N × N`` matrices of the highest loss and the barrier on the straight segment of
        each pair (after alignment with ``align``, through the bead strings with ``strings``),
        with the minima's losses and the settings.

    See Also
    --------
    topoanalysis.levelsets.aligned_barriers : Barriers of one set of pairs.
    topoanalysis.graphs.disconnectivity_tree : The tree of the barriers.

    Notes
    -----
    One engine call for the ``N(N−1)/2`` straight segments, one more after alignment, and one
    DSS call (a few engine calls per round) for all strings. Cost ``O(N² · n_points · N_data · P)``
    for the segments.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 3 (strings between minima).
    .. [2] R. Entezari, H. Sedghi, O. Saukh, B. Neyshabur, "The role of permutation
           invariance in linear mode connectivity of neural networks", ICLR 2022: Eq. 1.
    .. [3] S. K. Ainsworth, J. Hayase, S. Srinivasa, "Git Re-Basin: merging models modulo
           permutation symmetries", ICLR 2023: weight matching.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(2, (3,), 1)
    >>> nets = [Network.initialize(arch, seed=s) for s in range(4)]
    >>> X = np.random.default_rng(0).standard_normal((20, 2)); y = X[:, :1]
    >>> bm = pairwise_barriers(nets, X, y, align=True, progress=False)
    >>> bm.linear_max.shape, bool(np.all(bm.path_max <= bm.linear_max))
    ((4, 4), True)
    """
    from ..landscape import Landscape, as_landscape

    t0 = time.perf_counter()
    if isinstance(X, Landscape) and arch is None:
        arch = X.arch
    arch, P = _as_networks(networks, arch, "networks")
    land = as_landscape(X, y, arch, loss)     # one preparation for every engine call below
    loss = land.loss_name
    N = P.shape[0]
    if N < 2:
        raise ValidationError(f"`networks` must hold at least 2 networks; got {N}.")
    n_points = check_int("n_points", n_points, minimum=3)
    from .._resources import check_memory

    check_memory(24.0 * N * (N - 1) / 2 * n_points, f"{N * (N - 1) // 2} segments × {n_points} "
                 "points", param="n_points")
    if strings:
        if threshold is None:
            raise ValidationError("`threshold` must be given (a positive loss level) when "
                                  "strings=True; got None.")
        threshold = check_float("threshold", threshold, minimum=0.0, strict_min=True)
        dss_options = _check_dss_options(dss_options)
    if not isinstance(bounds, (bool, np.bool_)):
        raise ValidationError(f"`bounds` must be True or False; got {bounds!r}.")
    iu, ju = np.triu_indices(N, 1)
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)   # refused below, in one line
        ends = land.interpolate(P, P, ts=[0.0], n_threads=n_threads)
    node_loss = ends.loss[:, 0]
    _check_finite_losses(node_loss, "networks")

    def sym(vals, diag):
        M = np.zeros((N, N))
        M[iu, ju] = vals
        M[ju, iu] = vals
        np.fill_diagonal(M, diag)
        return M

    lin_curve, lin_barrier = _segment_barriers(land, P[iu], P[ju], n_points, n_threads)
    _check_finite_losses(lin_curve.max(axis=1), "the segments between `networks`")
    linear_max = sym(lin_curve.max(axis=1), node_loss)
    linear_barrier = sym(lin_barrier, 0.0)
    aligned_max = aligned_barrier = perms = None
    A, B = P[iu], P[ju]
    if align:
        ref, al, pm, _, _ = _align_rows(arch, A, B, balanced)
        ali_curve, ali_barrier = _segment_barriers(land, ref, al, n_points, n_threads)
        aligned_max = sym(ali_curve.max(axis=1), node_loss)
        aligned_barrier = sym(ali_barrier, 0.0)
        perms = np.full((N, N, arch.hidden[0]), -1, dtype=np.int64)
        perms[iu, ju] = pm
        # aligning i onto j undoes aligning j onto i: the inverse permutation
        perms[ju, iu] = np.argsort(pm, axis=1)
        A, B = ref, al
    linear_upper = aligned_upper = string_upper = None
    if bounds:
        linear_upper = sym(_segment_uppers(land, P[iu], P[ju], n_points, progress,
                                           "bounds: segments"), node_loss)
        if align:
            aligned_upper = sym(_segment_uppers(land, A, B, n_points, progress,
                                                "bounds: aligned segments"), node_loss)
    string_max = string_connected = n_beads = norm_len = None
    if strings:
        from .strings import dynamic_string_sampling

        opts = dict(dss_options or {})
        opts.setdefault("progress", progress)
        res = dynamic_string_sampling(A, B, land, threshold=threshold,
                                      n_threads=n_threads, **opts)
        smax = np.array([s.max_loss if s.connected else np.inf for s in res.strings])
        string_max = sym(smax, node_loss)
        string_connected = np.eye(N, dtype=bool)
        string_connected[iu, ju] = res.connected
        string_connected[ju, iu] = res.connected
        n_beads = sym(res.n_beads, 0)
        norm_len = sym(res.normalized_length, np.nan)
        if bounds:
            string_upper = sym(np.array([float(np.max(s.edge_upper)) if s.certified else np.inf
                                         for s in res.strings]), node_loss)
    settings = dict(loss=loss, align=bool(align), strings=bool(strings), threshold=threshold,
                    n_points=n_points, balanced=balanced, dss_options=dss_options,
                    bounds=bool(bounds), data=data_source(land.X, land.Y))
    return BarrierMatrix(
        params=P, node_loss=node_loss, linear_max=linear_max, linear_barrier=linear_barrier,
        aligned_max=aligned_max, aligned_barrier=aligned_barrier, perms=perms,
        string_max=string_max, string_connected=string_connected, string_n_beads=n_beads,
        string_normalized_length=norm_len, threshold=threshold, loss_name=loss,
        seconds=time.perf_counter() - t0, settings=settings, linear_upper=linear_upper,
        aligned_upper=aligned_upper, string_upper=string_upper)


def _segment_uppers(land, A, B, n_points, progress, desc):
    """Proven upper bound of the loss on each segment ``A[i] -> B[i]`` (same grid)."""
    from .._progress import progress_bar
    from .bounds import segment_loss_bounds

    out = np.empty(A.shape[0])
    bar = progress_bar(progress, total=A.shape[0], desc=desc, unit="segment")
    try:
        for i in range(A.shape[0]):
            out[i] = segment_loss_bounds(A[i], B[i], land.X, land.Y, arch=land.arch,
                                         loss=land.loss_name, n_points=n_points).max_upper
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out
