"""Loss along straight segments and polygonal paths between networks, and barrier heights.

Parameters are passed the same way as to :func:`topoanalysis.dynamics.train`: networks
(:class:`~topoanalysis.network.Network` objects or sequences of them) or arrays with the
keyword ``arch``. Many segments are evaluated in one call of the compiled engine, parallel over
all (segment, point) pairs.
"""

import dataclasses
import time

import numpy as np

from .. import _results
from .._resources import check_memory
from .._validation import check_array, check_int
from ..exceptions import ShapeError, ValidationError
from ..losses import check_loss, check_outputs_for_loss
from ..network import Architecture, Network
from . import _engine
from ._shared import chunk_steps as _chunk_steps
from ._shared import estimate_step_seconds

__all__ = [
    "InterpolationResult",
    "PathLosses",
    "InterpolationBarrier",
    "interpolate",
    "path_losses",
    "interpolation_barrier",
]

_CLASSIFICATION = ("bce", "cross_entropy")


@dataclasses.dataclass(frozen=True, eq=False)
class InterpolationResult(_results.LossCurves):
    """Loss along segments ``θ_t = (1 − t) θ_a + t θ_b``.

    Attributes
    ----------
    ts : ndarray of shape (T,)
        Interpolation coefficients.
    loss : ndarray of shape (M, T)
        Full-data loss of segment ``m`` at ``ts[j]``.
    accuracy : ndarray of shape (M, T) or None
        Classification accuracy (``"bce"``: logit > 0 against y > 0.5 per entry;
        ``"cross_entropy"``: argmax per sample); None for regression losses.
    loss_name : str
    """

    ts: np.ndarray
    loss: np.ndarray
    accuracy: object
    loss_name: str

    def summary(self):
        """One line per segment: the endpoint losses and the highest loss on it.

        Returns
        -------
        str
            The report.
        """
        lines = [f"{self.loss.shape[0]} segment(s), {self.ts.size} points, {self.loss_name} loss"]
        for m, row in enumerate(self.loss[:8]):
            lines.append(f"  segment {m}: L(0) {row[0]:.5g}, L(1) {row[-1]:.5g}, "
                         f"max {np.nanmax(row):.5g}")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class PathLosses(_results.LossCurves):
    """Loss along polygonal paths (strings of beads ``θ^0, …, θ^{K−1}``).

    Attributes
    ----------
    ts : ndarray of shape (T,)
        Points on each edge, from 0 (its first bead) to 1 (its last bead).
    loss : ndarray of shape (Q, K − 1, T)
        Loss of path ``q`` on edge ``k`` (from bead ``k`` to bead ``k + 1``) at ``ts[j]``.
    accuracy : ndarray of shape (Q, K − 1, T) or None
    loss_name : str
    """

    ts: np.ndarray
    loss: np.ndarray
    accuracy: object
    loss_name: str

    def along_path(self):
        """Losses as one curve per path, shared bead points counted once.

        Returns
        -------
        position : ndarray of shape ((K − 1)(T − 1) + 1,)
            Position ``k + t`` along the path (bead ``k`` sits at ``k``).
        loss : ndarray of shape (Q, (K − 1)(T − 1) + 1)
            Loss of each path at these positions (a bead shared by two edges appears once).
        """
        Q, E, T = self.loss.shape
        pos = (np.arange(E)[:, None] + self.ts[None, :-1]).ravel()
        pos = np.append(pos, E - 1 + self.ts[-1])
        loss = np.concatenate([self.loss[:, :, :-1].reshape(Q, -1), self.loss[:, -1, -1:]], axis=1)
        return pos, loss

    @property
    def max_loss(self):
        """Highest loss met along each path, shape ``(Q,)``."""
        return self.loss.max(axis=(1, 2))

    def summary(self):
        """One line per path: number of edges and the highest loss met.

        Returns
        -------
        str
            The report.
        """
        Q, E, T = self.loss.shape
        lines = [f"{Q} path(s) of {E} edge(s), {T} points per edge, {self.loss_name} loss"]
        lines += [f"  path {q}: max loss {m:.5g}" for q, m in enumerate(self.max_loss[:8])]
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True, eq=False)
class InterpolationBarrier:
    """Loss barriers on the segments between pairs of networks.

    With ``L0 = L(θ_a)``, ``L1 = L(θ_b)`` and ``θ_t = (1 − t) θ_a + t θ_b`` on the grid
    ``ts`` (which always contains 0, 1/2 and 1):

    Attributes
    ----------
    barrier : ndarray of shape (M,)
        ``max_t [L(θ_t) − ((1 − t) L0 + t L1)]``: height above the chord of the endpoint
        losses (Entezari et al. 2022, "The role of permutation invariance in linear mode
        connectivity of neural networks", Eq. 1). Zero, up to the rounding of the evaluated
        losses, when the loss is convex along the segment; exactly 0 when the two endpoints
        are the same parameter vector in the run's dtype (the segment is one point) and when the loss is
        constant along it (the chord is computed exact at both ends and constant for equal
        end losses); ``>= 0`` always (t = 0 is on the grid).
    t_barrier : ndarray of shape (M,)
        The ``t`` where ``barrier`` is attained (first one on ties).
    mean : ndarray of shape (M,)
        ``max_t L(θ_t) − (L0 + L1) / 2``: the barrier height of Frankle et al. 2020 ("Linear
        mode connectivity and the lottery ticket hypothesis", error-barrier height, here for
        the loss).
    t_max : ndarray of shape (M,)
        The ``t`` of the highest loss on the segment.
    midpoint : ndarray of shape (M,)
        ``L(θ_½) − (L0 + L1) / 2``: the cheap midpoint test (one extra evaluation).
    loss_a, loss_b : ndarray of shape (M,)
        Endpoint losses ``L0`` and ``L1``.
    ts : ndarray of shape (T,)
    loss : ndarray of shape (M, T)
    accuracy : ndarray of shape (M, T) or None
    loss_name : str
    """

    barrier: np.ndarray
    t_barrier: np.ndarray
    mean: np.ndarray
    t_max: np.ndarray
    midpoint: np.ndarray
    loss_a: np.ndarray
    loss_b: np.ndarray
    ts: np.ndarray
    loss: np.ndarray
    accuracy: object
    loss_name: str

    def get(self, kind="linear"):
        """Barrier heights of one kind: ``"linear"`` (:attr:`barrier`), ``"mean"`` or
        ``"midpoint"``.

        Parameters
        ----------
        kind : {"linear", "mean", "midpoint"}, default="linear"
            Which barrier.

        Returns
        -------
        ndarray of shape (M,)
            The barrier of every pair.
        """
        from .._validation import check_choice

        kind = check_choice("kind", kind, ("linear", "mean", "midpoint"))
        if kind == "linear":
            return self.barrier
        if kind == "mean":
            return self.mean
        if kind == "midpoint":
            return self.midpoint
        raise ValidationError(f"`kind` must be one of 'linear', 'mean', 'midpoint'; got {kind!r}.")

    _SCALARS = ("barrier", "t_barrier", "mean", "t_max", "midpoint", "loss_a", "loss_b")

    def summary(self):
        """One line per pair: endpoint losses, barrier above the chord and where.

        Returns
        -------
        str
            The report.
        """
        lines = [f"{self.barrier.size} pair(s), {self.ts.size} points, {self.loss_name} loss"]
        for m in range(min(self.barrier.size, 8)):
            lines.append(f"  pair {m}: L(a) {self.loss_a[m]:.5g}, L(b) {self.loss_b[m]:.5g}, "
                         f"barrier {self.barrier[m]:.5g} at t = {self.t_barrier[m]:.3f}, "
                         f"midpoint {self.midpoint[m]:.5g}")
        return "\n".join(lines)

    def to_dict(self):
        """Plain data with the keys ``topoanalysis interpolate`` writes to ``barrier.json``
        (loss, loss_a, loss_b, barrier, t_barrier, midpoint, mean, t_max; here one entry per
        pair), plus ``ts``, ``losses`` and ``accuracy``.

        Returns
        -------
        dict
            Plain JSON types.
        """
        from .._results import as_list

        d = {"loss": self.loss_name}
        d.update({k: as_list(getattr(self, k)) for k in self._SCALARS})
        d.update(ts=as_list(self.ts), losses=as_list(self.loss), accuracy=as_list(self.accuracy))
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict` (also after a JSON round trip).

        Parameters
        ----------
        d : dict
            A dictionary written by :meth:`to_dict`.

        Returns
        -------
        InterpolationBarrier
            The result.
        """
        from .._results import as_array

        return cls(**{k: as_array(d[k]) for k in cls._SCALARS}, ts=as_array(d["ts"]),
                   loss=as_array(d["losses"]), accuracy=as_array(d["accuracy"]),
                   loss_name=d["loss"])


# --- helpers -----------------------------------------------------------------------------
def _check_ts(ts, n_points, name_points="n_points"):
    from .._validation import check_work

    if ts is None:
        n = check_int(name_points, n_points, minimum=2)
        # estimated before allocating: each point is one engine evaluation per pair
        check_work(name_points, n, limit=MAX_GRID_POINTS, unit="grid points per segment",
                   about="a 0.8 GB grid and minutes of engine time")
        return np.linspace(0.0, 1.0, n)
    ts = check_array("ts", ts, ndim=1)
    if ts.size < 1:
        raise ShapeError(f"`ts` must hold at least one coefficient; got shape {ts.shape}.")
    return ts


#: Most grid points a segment may be asked for (``n_points``): 1e8 (0.8 GB per grid row).
MAX_GRID_POINTS = 1e8


def _resolve_pair(theta_a, theta_b, arch):
    """Resolve two stacks of one architecture; returns ``(arch, A, B)`` (not broadcast)."""
    arch_a, A = _engine.resolve_params(theta_a, arch, "theta_a")
    arch_b, B = _engine.resolve_params(theta_b, arch if arch is not None else arch_a, "theta_b")
    if arch_a != arch_b:
        raise ValidationError(
            f"`theta_b` must have the architecture of `theta_a` ({arch_a}); got {arch_b}."
        )
    ma, mb = A.shape[0], B.shape[0]
    if ma != mb and ma != 1 and mb != 1:
        raise ShapeError(
            f"`theta_a` and `theta_b` must hold the same number of networks (or one of them a "
            f"single network); got {ma} and {mb}."
        )
    return arch_a, A, B


def paired_params(theta_a, theta_b, arch=None):
    """Two stacks of one architecture as ``(arch, A, B)`` of equal length ``(M, P)``.

    A single network on either side is repeated to the other side's length.

    Parameters
    ----------
    theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
        The two sides.
    arch : Architecture, optional
        Required when both sides are arrays.

    Returns
    -------
    arch : Architecture
        The common architecture.
    A, B : ndarray of shape (M, P)
        The two stacks, row ``m`` of each paired.
    """
    arch, A, B = _resolve_pair(theta_a, theta_b, arch)
    m = max(A.shape[0], B.shape[0])
    return arch, np.broadcast_to(A, (m, A.shape[1])).copy(), np.broadcast_to(B, (m, B.shape[1])).copy()


def _pair(theta_a, theta_b, arch):
    arch_a, A, Bm = _resolve_pair(theta_a, theta_b, arch)
    ma, mb = A.shape[0], Bm.shape[0]
    m = max(ma, mb)
    table = np.ascontiguousarray(np.concatenate([A, Bm], axis=0))
    ia = np.arange(m, dtype=np.int64) if ma == m else np.zeros(m, dtype=np.int64)
    ib = ma + (np.arange(m, dtype=np.int64) if mb == m else np.zeros(m, dtype=np.int64))
    return arch_a, table, ia, ib


def _segments(arch, table, ia, ib, ts, X, y, loss, n_threads, dtype="float64",
              names=("theta_a", "theta_b")):
    """Run the segment kernel; returns ``(loss (M, T), accuracy (M, T) or None)``;
    ``names`` name the rows ``ia`` and ``ib`` of ``table`` in errors."""
    eng = _engine.kernels()
    loss = check_outputs_for_loss(loss, arch.outputs)
    dtype = _engine.check_dtype(dtype, arch, loss)
    data = _engine.prepare_data(arch, X, y, loss, dtype=dtype)
    M, T = ia.size, ts.size
    want_acc = loss in _CLASSIFICATION
    check_memory(17.0 * M * T, f"{M} segments × {T} points")
    out = np.full((M, T), np.nan)
    acc = np.full((M, T), np.nan)
    bad = np.zeros((M, T), dtype=np.int8)
    if dtype == "float32":   # refused in one line, not rounded to inf and reported diverged
        for name, rows in zip(names, (ia, ib)):
            _engine.check_float32_range(name, table[rows])
        _engine.check_float32_range("ts", ts)
    ts = np.ascontiguousarray(ts, dtype=dtype)
    table = np.ascontiguousarray(table, dtype=dtype)
    kernel = eng.evaluate_segments if dtype == "float64" else eng.evaluate_segments_f32
    threads = _engine.resolve_threads(n_threads, M * T)
    args = _engine.kernel_arch_args(arch, loss)
    # Bounded kernel calls (about CHUNK_SECONDS each, from a cost model and then the measured
    # time of the previous call) so that Ctrl-C is seen within about a second.
    per_row = estimate_step_seconds(T, data.n_samples, arch.n_params, threads)
    i0, ramp = 0, 8
    while i0 < M:
        i1 = min(M, i0 + min(ramp, _chunk_steps(M - i0, per_row)))
        ramp *= 8
        tic = time.perf_counter()
        kernel(table, ia[i0:i1], ib[i0:i1], ts, data.Xb, data.Yb, data.X, data.Y, *args,
               out[i0:i1], acc[i0:i1], want_acc, bad[i0:i1], threads)
        per_row = max((time.perf_counter() - tic) / (i1 - i0), 1e-12)
        i0 = i1
    # a segment whose two ends are the same vector (bit for bit, in the run's arithmetic) is
    # one point: its curve is that point's loss at every t (the kernel's (1 - t) z_a + t z_b of
    # equal pre-activations can round away from z_a, so the "path" from a minimum to itself
    # could rise above it); one evaluation at t = 0 per such segment
    same = np.flatnonzero(np.all(table[ia] == table[ib], axis=1)) if T else np.zeros(0, int)
    if same.size:
        one, one_acc = np.full((same.size, 1), np.nan), np.full((same.size, 1), np.nan)
        one_bad = np.zeros((same.size, 1), dtype=np.int8)
        kernel(table, np.ascontiguousarray(ia[same]), np.ascontiguousarray(ia[same]),
               np.zeros(1, dtype=dtype), data.Xb, data.Yb, data.X, data.Y, *args, one, one_acc,
               want_acc, one_bad, threads)
        out[same], acc[same], bad[same] = one, one_acc, one_bad
    _engine.flag_nonfinite(bad, out)   # a loss overflowing from finite outputs, too
    _redo_direct(arch, table, ia, ib, ts, data, loss, want_acc, n_threads, out, acc, bad)
    _engine.raise_for_status(bad, "evaluation points",
                             "non-finite pre-activations, outputs or loss", stacklevel=4)
    return out, (acc if want_acc else None)


def _redo_direct(arch, table, ia, ib, ts, data, loss, want_acc, n_threads, out, acc, bad):
    """Evaluate the flagged points again at ``θ_t`` formed directly, in place.

    The mix ``(1 − t) Z_a + t Z_b`` of the first-layer pre-activations is NaN or infinite when
    one end's pre-activations overflow (an endpoint whose own loss is infinite, such as the
    last finite parameters of a diverged run), even where ``θ_t`` and its loss are finite
    (``t = 0`` gives ``0 · inf = NaN``). Only points the kernel flagged are evaluated again;
    the others keep their bits."""
    eng = _engine.kernels()
    rows, cols = np.nonzero(bad == eng.STATUS_DIVERGED)
    step = 4096
    for s in range(0, rows.size, step):
        r, c = rows[s:s + step], cols[s:s + step]
        t = ts[c][:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            theta = (1 - t) * table[ia[r]] + t * table[ib[r]]
        ok = np.all(np.isfinite(theta), axis=1)
        if not ok.any():
            continue
        r, c, theta = r[ok], c[ok], np.ascontiguousarray(theta[ok])
        if table.dtype == np.float32:
            _, lv, _, av, div = _engine._evaluate_f32(theta, data, None, arch, loss, n_threads,
                                                      want_grad=False, want_acc=want_acc)
        else:
            _, lv, _, av, _, div = _engine._evaluate(theta, data, None, arch, loss, n_threads,
                                                     want_loss=True, want_grad=False,
                                                     want_acc=want_acc, want_out=False)
        fine = ~div & np.isfinite(lv)
        out[r[fine], c[fine]] = lv[fine]
        acc[r[fine], c[fine]] = av[fine]
        bad[r[fine], c[fine]] = eng.STATUS_RUNNING


# --- public ------------------------------------------------------------------------------
def interpolate(theta_a, theta_b, X, y, *, arch=None, loss="mse", n_points=51, ts=None,
                n_threads=None, dtype="float64"):
    """Loss (and accuracy) along the straight segments from ``theta_a`` to ``theta_b``.

    Parameters
    ----------
    theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
        Segment endpoints, paired row by row; a single network is paired with every network
        of the other argument.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    arch : Architecture, optional
        Required when the endpoints are arrays.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    n_points : int, default=51
        Number of equally spaced ``t`` in ``[0, 1]`` (ignored when ``ts`` is given).
    ts : array_like of shape (T,), optional
        Interpolation coefficients (values outside ``[0, 1]`` extrapolate).
    n_threads : int, optional
        OpenMP threads over the ``M`` segments; results do not depend on it.
    dtype : {"float64", "float32"}, default="float64"
        Arithmetic of the evaluation: ``"float32"`` rounds the endpoints, ``ts`` and the data
        to float and forms ``θ_t`` and the losses in float (loss sums in double); for networks
        with one hidden layer, a vectorized activation, one output and an elementwise loss
        (see :func:`topoanalysis.dynamics.train`).

    Returns
    -------
    InterpolationResult
        ``loss`` and ``accuracy`` of shape ``(M, T)``.

    Notes
    -----
    ``θ_t = (1 − t) θ_a + t θ_b`` is formed in the engine. The first layer's pre-activations
    are affine in the parameters, so on each segment they are computed at the two ends only
    and mixed, ``(1 − t) Z_a + t Z_b`` (equal to those of ``θ_t`` in exact arithmetic, to
    rounding in floating point); the later layers are evaluated at ``θ_t``. A point whose
    mix is not finite (one end's pre-activations beyond the float range, as at the last
    finite parameters of a diverged run) is evaluated again at ``θ_t`` formed directly, and
    counts as diverged only if that is not finite either. Cost
    ``O(M · N · (d · l_1 + T · (P − d · l_1)))``, parallel over the ``M`` segments.

    References
    ----------
    .. [1] I. J. Goodfellow, O. Vinyals, A. M. Saxe, "Qualitatively characterizing neural
           network optimization problems", ICLR 2015: the loss along the straight segment
           between two parameter vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(2, (4,), 1)
    >>> a, b = Network.initialize(arch, seed=0), Network.initialize(arch, seed=1)
    >>> X = np.random.default_rng(0).standard_normal((30, 2)); y = X[:, :1] * X[:, 1:]
    >>> res = interpolate(a, b, X, y, n_points=5)
    >>> res.loss.shape, bool(np.isclose(res.loss[0, 0], a.loss(X, y)))
    ((1, 5), True)
    """
    arch, table, ia, ib = _pair(theta_a, theta_b, arch)
    ts = _check_ts(ts, n_points)
    out, acc = _segments(arch, table, ia, ib, ts, X, y, loss, n_threads, dtype)
    return InterpolationResult(ts=ts, loss=out, accuracy=acc,
                               loss_name=check_loss(loss))


def path_losses(beads, X, y, *, arch=None, loss="mse", points_per_edge=11, ts=None,
                n_threads=None, dtype="float64"):
    """Loss along polygonal paths through strings of beads.

    Parameters
    ----------
    beads : sequence of Network, or array_like of shape (K, P) or (Q, K, P)
        One path (networks or ``(K, P)``) or ``Q`` paths of ``K >= 2`` beads each.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    arch : Architecture, optional
        Required when the beads are arrays.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    points_per_edge : int, default=11
        Equally spaced points on each edge, both beads included (ignored when ``ts`` given).
    ts : array_like of shape (T,), optional
        Coefficients on each edge.
    n_threads : int, optional
        As in :func:`interpolate`.
    dtype : {"float64", "float32"}, default="float64"
        As in :func:`interpolate`.

    Returns
    -------
    PathLosses
        ``loss`` of shape ``(Q, K − 1, T)``; :meth:`PathLosses.along_path` joins the edges.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: strings of beads, Dynamic String Sampling (Section
           3.1).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(2, (4,), 1)
    >>> string = [Network.initialize(arch, seed=s) for s in range(4)]
    >>> X = np.random.default_rng(0).standard_normal((30, 2)); y = X[:, :1] * X[:, 1:]
    >>> res = path_losses(string, X, y, points_per_edge=3)
    >>> res.loss.shape, res.along_path()[1].shape
    ((1, 3, 3), (1, 7))
    """
    if isinstance(beads, (list, tuple)) and beads and all(isinstance(b, Network) for b in beads):
        arch, table = _engine.resolve_params(beads, arch, "beads")
        table = table[None]
    else:
        if arch is None or not isinstance(arch, Architecture):
            raise ValidationError(
                "`arch` must be an Architecture when `beads` is an array (or pass a list of "
                f"Network objects); got {arch!r}."
            )
        table = check_array("beads", beads, ndim=(2, 3))
        if table.ndim == 2:
            table = table[None]
        if table.shape[-1] != arch.n_params:
            raise ShapeError(
                f"`beads` must have last dimension {arch.n_params} (parameters of this "
                f"architecture); got shape {np.shape(beads)}."
            )
    Q, K, P = table.shape
    if K < 2:
        raise ShapeError(f"`beads` must hold at least 2 beads per path; got {K}.")
    ts = _check_ts(ts, points_per_edge, "points_per_edge")
    flat = np.ascontiguousarray(table.reshape(Q * K, P))
    start = (np.arange(Q)[:, None] * K + np.arange(K - 1)[None, :]).ravel().astype(np.int64)
    out, acc = _segments(arch, flat, start, start + 1, ts, X, y, loss, n_threads, dtype,
                         names=("beads", "beads"))
    T = ts.size
    return PathLosses(ts=ts, loss=out.reshape(Q, K - 1, T),
                      accuracy=None if acc is None else acc.reshape(Q, K - 1, T),
                      loss_name=check_loss(loss))


def interpolation_barrier(theta_a, theta_b, X, y, *, arch=None, loss="mse", n_points=101,
                          ts=None, n_threads=None, dtype="float64"):
    """Loss barriers on the segments between pairs of networks.

    Parameters
    ----------
    theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
        Segment endpoints, paired as in :func:`interpolate`.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    arch : Architecture, optional
        Required when the endpoints are arrays.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    n_points : int, default=101
        Equally spaced grid on ``[0, 1]``; ``0``, ``1/2`` and ``1`` are always added.
    ts : array_like, optional
        Grid to use instead (``0``, ``1/2`` and ``1`` are added); values in ``[0, 1]`` (the
        heights are over the segment: use :func:`interpolate` to extrapolate).
    n_threads : int, optional
        As in :func:`interpolate`.
    dtype : {"float64", "float32"}, default="float64"
        As in :func:`interpolate`.

    Returns
    -------
    InterpolationBarrier
        ``barrier`` (above the chord, Entezari et al. 2022), ``mean`` (above the endpoints'
        mean, Frankle et al. 2020) and ``midpoint`` heights, with the curves.

    Notes
    -----
    Heights are maxima over the grid, so they are lower bounds of the suprema over
    ``t ∈ [0, 1]``; refine with ``n_points`` or ``ts``. Cost as :func:`interpolate`.

    References
    ----------
    .. [1] J. Frankle, G. K. Dziugaite, D. M. Roy, M. Carbin, "Linear mode connectivity and
           the lottery ticket hypothesis", ICML 2020: the barrier above the endpoints' mean.
    .. [2] R. Entezari, H. Sedghi, O. Saukh, B. Neyshabur, "The role of permutation
           invariance in linear mode connectivity of neural networks", ICLR 2022: the
           barrier above the chord.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(2, (4,), 1)
    >>> a, b = Network.initialize(arch, seed=0), Network.initialize(arch, seed=1)
    >>> X = np.random.default_rng(0).standard_normal((30, 2)); y = X[:, :1] * X[:, 1:]
    >>> res = interpolation_barrier(a, b, X, y, n_points=11)
    >>> bool(res.barrier[0] >= 0), res.ts.size
    (True, 11)
    """
    arch, table, ia, ib = _pair(theta_a, theta_b, arch)
    grid = _check_ts(ts, n_points)
    if ts is not None and (grid.min() < 0.0 or grid.max() > 1.0):
        # a point off the segment would count in the heights (and the chord extrapolated
        # there), which are then no longer lower bounds of the suprema over [0, 1]
        raise ValidationError(
            f"`ts` must lie in [0, 1] for interpolation_barrier (barriers are over the segment; "
            f"use interpolate to extrapolate); got values from {grid.min():g} to "
            f"{grid.max():g}.")
    grid = np.union1d(grid, [0.0, 0.5, 1.0])
    out, acc = _segments(arch, table, ia, ib, grid, X, y, loss, n_threads, dtype)
    i0 = int(np.flatnonzero(grid == 0.0)[0])
    i1 = int(np.flatnonzero(grid == 1.0)[0])
    ih = int(np.flatnonzero(grid == 0.5)[0])
    l0, l1 = out[:, i0], out[:, i1]
    # the chord, exact at both ends and constant when l0 == l1 (l0 + t (l1 - l0) up to the
    # middle, l1 - (1 - t) (l1 - l0) after it): a segment between two points of equal loss
    # along which the loss is constant has barrier exactly 0
    with np.errstate(invalid="ignore", over="ignore"):
        diff = (l1 - l0)[:, None]
        g = grid[None, :]
        chord = np.where(g <= 0.5, l0[:, None] + g * diff, l1[:, None] - (1.0 - g) * diff)
    # non-finite losses (already reported by a DivergenceWarning) give NaN heights (inf - inf)
    with np.errstate(invalid="ignore"):
        above = out - chord
        j = np.argmax(above, axis=1)
        jm = np.argmax(out, axis=1)
        rows = np.arange(out.shape[0])
        mean_end = 0.5 * (l0 + l1)
        mean, midpoint = out[rows, jm] - mean_end, out[:, ih] - mean_end
    return InterpolationBarrier(
        barrier=above[rows, j], t_barrier=grid[j], mean=mean,
        t_max=grid[jm], midpoint=midpoint, loss_a=l0, loss_b=l1, ts=grid,
        loss=out, accuracy=acc, loss_name=check_loss(loss),
    )
