"""Pictures of the loss landscape: 1-D and 2-D slices ``L(θ0 + α u + β v)`` around networks.

A slice is a low-dimensional affine subspace of parameter space, an origin ``θ0`` and one or
two directions, sampled on a grid. The directions come from

- **filter-normalized random directions** (Li, Xu, Taylor, Studer & Goldstein, "Visualizing the
  loss landscape of neural nets", NeurIPS 2018, Section 4): a Gaussian direction whose every
  filter — here every neuron's incoming weight row — is rescaled to the norm of the same row
  of ``θ0`` (biases zero), so that slices of networks that differ by a rescaling symmetry look
  alike;
- **the top principal directions of a recorded training trajectory** (Li et al., Section 7), with
  the trajectory drawn on the slice;
- **the plane through three networks** (e.g. three minima, Garipov et al. 2018), orthonormal,
  with the three networks marked;
- **the segment between two networks and a string of beads** between them (Dynamic String
  Sampling, Freeman & Bruna 2017): the plane of the segment and of the string's largest
  deviation from it, with the string drawn.

The whole grid is one ``(B, P)`` stack of parameter vectors evaluated by the compiled engine
(:meth:`topoanalysis.Landscape.loss`, parallel over the grid points; the stack is cut in blocks
of bounded memory). A 101 × 101 grid of a width-64 network takes seconds.

Figures (:meth:`LossSurface.plot`) need matplotlib (``pip install "topoanalysis[plot]"``).
"""

import dataclasses
import json

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int
from ..exceptions import ShapeError, ValidationError
from ..landscape import Landscape
from ..network import Architecture, Network

__all__ = [
    "LossSurface",
    "filter_normalized_directions",
    "pca_directions",
    "loss_surface",
    "random_slice",
    "pca_slice",
    "plane_slice",
    "segment_slice",
    "string_slice",
]

#: Most bytes of one block of grid points handed to the engine.
BLOCK_BYTES = 64 * 2 ** 20


@dataclasses.dataclass(frozen=True, eq=False)
class LossSurface:
    """Loss on a 1-D or 2-D grid ``θ0 + Σ_i c_i · directions[i]``.

    Attributes
    ----------
    kind : str
        ``"random"``, ``"pca"``, ``"plane"``, ``"segment"``, ``"string"`` or ``"custom"``.
    origin : ndarray of shape (P,)
    directions : ndarray of shape (k, P), k in {1, 2}
    coords : tuple of ndarray
        The grid coordinates along each direction (``k`` arrays).
    loss : ndarray of shape (n1,) or (n1, n2)
        ``loss[i, j]`` at ``origin + coords[0][i] d0 + coords[1][j] d1``; non-finite values
        (diverged outputs) are NaN.
    points : dict
        Named marked points, ``name -> (k,)`` coordinates (e.g. the minima).
    paths : dict
        Named polylines, ``name -> (m, k)`` coordinates (a trajectory, a string of beads) and,
        when known, ``name + ":loss"`` -> their losses.
    landscape : dict
        :meth:`topoanalysis.Landscape.to_dict` of the landscape sampled.
    seconds : float
        Wall time of the grid evaluation.
    info : dict
        What defined the directions (seed, explained variance, ...).
    """

    kind: str
    origin: np.ndarray
    directions: np.ndarray
    coords: tuple
    loss: np.ndarray
    points: dict
    paths: dict
    landscape: dict
    seconds: float
    info: dict

    @property
    def dim(self):
        """1 or 2."""
        return len(self.coords)

    @property
    def shape(self):
        """Shape of the loss grid."""
        return self.loss.shape

    def parameters(self):
        """The grid as a ``(n1·n2, P)`` stack of parameter vectors (row-major).

        Returns
        -------
        ndarray of shape (n1·n2, P)
            One parameter vector per grid point.
        """
        return _grid_params(self.origin, self.directions, self.coords)

    def minimum(self):
        """``(coordinates, loss)`` of the lowest grid point.

        Returns
        -------
        coordinates : ndarray of shape (dim,)
            Coordinates of the lowest grid point.
        loss : float
            Its loss.
        """
        i = int(np.nanargmin(self.loss))
        idx = np.unravel_index(i, self.loss.shape)
        return np.array([c[j] for c, j in zip(self.coords, idx)]), float(self.loss[idx])

    def summary(self):
        """One line: kind, grid, loss range, the lowest grid point and the wall time.

        Returns
        -------
        str
            The summary.
        """
        lo, hi = np.nanmin(self.loss), np.nanmax(self.loss)
        c, lmin = self.minimum()
        shape = " × ".join(str(n) for n in self.loss.shape)
        return (f"{self.kind} slice, {self.dim}-D grid {shape}: loss in [{lo:.4g}, {hi:.4g}], "
                f"lowest at {np.round(c, 4).tolist()} ({lmin:.4g}); {self.seconds:.3f} s"
                + (f"; {self.info['non_finite_points']} grid points overflow float64 (NaN)"
                   if self.info.get("non_finite_points") else ""))

    def to_dict(self):
        """Everything but the (large) origin and directions, as plain JSON types.

        Returns
        -------
        dict
            ``kind``, ``dim``, ``shape``, ``coords``, ``loss`` (non-finite as NaN), ``loss_min``,
            ``loss_max``, ``points``, ``paths``, ``landscape``, ``seconds`` and ``info``.
        """
        return {"kind": self.kind, "dim": self.dim, "shape": list(self.loss.shape),
                "coords": [c.tolist() for c in self.coords],
                "loss": np.where(np.isfinite(self.loss), self.loss, np.nan).tolist(),
                "loss_min": float(np.nanmin(self.loss)), "loss_max": float(np.nanmax(self.loss)),
                "points": {k: np.asarray(v).tolist() for k, v in self.points.items()},
                "paths": {k: np.asarray(v).tolist() for k, v in self.paths.items()},
                "landscape": self.landscape, "seconds": self.seconds, "info": self.info}

    def save(self, path):
        """Write the slice to ``.npz`` atomically (grid, loss, directions, overlays); returns
        the path written.

        Parameters
        ----------
        path : str or os.PathLike
            Output ``.npz`` (appended if missing).

        Returns
        -------
        str
            The path written.
        """
        from ..io import save_npz, to_jsonable

        arrays = {"origin": self.origin, "directions": self.directions, "loss": self.loss}
        for i, c in enumerate(self.coords):
            arrays[f"coords_{i}"] = c
        for k, v in self.points.items():
            arrays[f"point:{k}"] = np.asarray(v)
        for k, v in self.paths.items():
            arrays[f"path:{k}"] = np.asarray(v)
        meta = {"kind": self.kind, "landscape": self.landscape, "seconds": self.seconds,
                "info": self.info}
        arrays["meta"] = np.array(json.dumps(to_jsonable(meta)))
        arrays["format"] = np.array("topoanalysis.loss_surface.v1")
        return save_npz(path, "path", **arrays)

    def plot(self, kind="contour", ax=None, log=None, title=None, levels=30):
        """Draw the slice: a filled contour (``"contour"``) or a 3-D surface (``"surface"``)
        for 2-D slices, a curve for 1-D ones; points and paths overlaid.

        Parameters
        ----------
        kind : {"contour", "surface"}
            Filled contours, or a 3-D surface.
        ax : matplotlib Axes, optional
            Axes to draw on (a 3-D one for ``"surface"``); a new figure when None.
        log : bool, optional
            Logarithmic loss scale (default: when the loss spans more than two decades).
        title : str, optional
            Title of the axes.
        levels : int, default=30
            Number of contour levels.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn in (that of ``ax`` when given).
        """
        return plot_surface(self, kind=kind, ax=ax, log=log, title=title, levels=levels)


# --- directions ---------------------------------------------------------------------------
def _flat(theta, arch, name):
    if isinstance(theta, Network):
        if arch is not None and theta.arch != arch:
            raise ValidationError(f"`{name}` must have the landscape's architecture ({arch}); "
                                  f"got {theta.arch}.")
        return np.array(theta.params, dtype=np.float64)
    arr = np.array(arch.check_params(theta, name), dtype=np.float64)
    if arr.ndim != 1:
        raise ShapeError(f"`{name}` must be one network (a Network or shape ({arch.n_params},)); "
                         f"got shape {arr.shape}.")
    return arr


def filter_normalized_directions(landscape, theta, n=2, *, seed=0, bias="zero"):
    """Gaussian directions with every filter rescaled to the norm of the same filter of
    ``theta`` (Li et al. 2018, Eq. 1 and Section 4).

    Parameters
    ----------
    landscape : Landscape or Architecture
        Gives the layout of the parameters.
    theta : Network or array_like of shape (P,)
        The network whose filter norms are used.
    n : int, default=2
        Number of directions.
    seed : int, default=0
        Seed of the Gaussian draws.
    bias : {"zero", "filter"}, default="zero"
        Directions of the biases: zero (Li et al.'s setting for biases) or rescaled like the
        weights, each bias entry as a filter of its own.

    Returns
    -------
    ndarray of shape (n, P)
        The directions in ``theta``'s flat parameter layout.

    See Also
    --------
    random_slice, loss_surface

    Notes
    -----
    A filter of a fully connected layer is one neuron's incoming weight row. A filter of
    ``theta`` that is zero gives a zero filter of the direction. Directions are not
    orthogonalized (independent Gaussians in high dimension are nearly orthogonal).

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: filter normalization, Eq. 1 and Section 4.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> net = Network.initialize(Architecture(3, (4,), 1), seed=0)
    >>> D = filter_normalized_directions(net.arch, net, n=2, seed=1)
    >>> W, b = net.arch.unpack(D[0])[0]
    >>> bool(np.allclose(np.linalg.norm(W, axis=1), np.linalg.norm(net.weights[0], axis=1)))
    True
    """
    arch = landscape.arch if isinstance(landscape, Landscape) else landscape
    theta = _flat(theta, arch, "theta")
    n = check_int("n", n, minimum=1)
    from .._validation import check_work

    check_work("n", float(n) * arch.n_params, limit=1e8, unit="direction entries",
               about="0.8 GB")
    seed = check_int("seed", seed, minimum=0)
    bias = check_choice("bias", bias, ("zero", "filter"))
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((n, arch.n_params))
    for i, (w, b) in enumerate(arch.layer_slices):
        n_out, n_in = arch.layer_shape(i)
        T = theta[w].reshape(n_out, n_in)
        for k in range(n):
            R = D[k, w].reshape(n_out, n_in)
            nr = np.linalg.norm(R, axis=1, keepdims=True)
            nt = np.linalg.norm(T, axis=1, keepdims=True)
            R *= np.divide(nt, nr, out=np.zeros_like(nr), where=nr > 0)
            D[k, w] = R.reshape(-1)
            if b is not None:
                if bias == "zero":
                    D[k, b] = 0.0
                else:
                    D[k, b] = np.sign(D[k, b]) * np.abs(theta[b])
    return D


def pca_directions(trajectory, n=2, *, center=None):
    """Top principal directions of the steps ``θ_t − θ_final`` of a training trajectory
    (Li et al. 2018, Section 7).

    Parameters
    ----------
    trajectory : array_like of shape (R, P)
        Parameters at ``R >= 2`` record steps (``TrainResult.trajectory[b]``).
    n : int, default=2
        Number of directions.
    center : array_like of shape (P,), optional
        Default: the last point.

    Returns
    -------
    directions : ndarray of shape (n, P)
        Orthonormal.
    explained : ndarray of shape (n,)
        Fraction of the variance of the steps each direction explains.
    coords : ndarray of shape (R, n)
        The trajectory's coordinates in the directions (relative to ``center``).

    See Also
    --------
    pca_slice

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: optimization trajectories in the PCA directions
           (Section 7).
    """
    T = check_array("trajectory", trajectory, ndim=2, finite=False)
    if T.ndim != 2 or T.shape[0] < 2:
        raise ShapeError(f"`trajectory` must have shape (R, P) with R >= 2; got {T.shape}.")
    if not np.all(np.isfinite(T)):
        raise ValidationError("`trajectory` must be finite (a run that diverged or stopped "
                              "early has NaN records: drop them first).")
    n = check_int("n", n, minimum=1, maximum=min(T.shape))
    c = T[-1] if center is None else check_array("center", center, shape=(T.shape[1],))
    M = T - c
    from .._validation import power_of_two_scale

    p = power_of_two_scale(M)           # directions and shares are scale-invariant: no overflow
    _, s, Vt = np.linalg.svd(M * p, full_matrices=False)
    total = float(np.sum(s ** 2))
    D = Vt[:n]
    # deterministic signs: the first point has positive coordinates
    sign = np.sign(M[0] @ D.T)
    sign[sign == 0] = 1.0
    D = D * sign[:, None]
    explained = s[:n] ** 2 / total if total > 0 else np.zeros(n)
    return D, explained, M @ D.T


# --- evaluation ---------------------------------------------------------------------------
def _grid_params(origin, directions, coords):
    if len(coords) == 1:
        C = coords[0][:, None]
    else:
        a, b = np.meshgrid(coords[0], coords[1], indexing="ij")
        C = np.stack([a.ravel(), b.ravel()], axis=1)
    return origin[None, :] + C @ directions


def _check_landscape(landscape):
    if not isinstance(landscape, Landscape):
        raise ValidationError(f"`landscape` must be a topoanalysis.Landscape; got "
                              f"{type(landscape).__name__}.")
    return landscape


def _check_result_arch(land, result, name):
    """Refuse a result (TrainResult, BeadString) of another architecture than the
    landscape's: its parameter vectors would be read in the landscape's layout (silently, when
    the two have the same number of parameters)."""
    arch = getattr(result, "arch", None)
    if isinstance(arch, Architecture) and arch != land.arch:
        raise ValidationError(f"`{name}` must be of the landscape's architecture ({land.arch}); "
                              f"got {arch}.")


def _check_span(span, name="span"):
    if np.ndim(span) == 0:
        s = check_float(name, span, minimum=0.0, strict_min=True)
        return (-s, s)
    try:
        lo, hi = (float(v) for v in span)
    except (TypeError, ValueError):
        raise ValidationError(f"`{name}` must be a positive float or a pair (lo, hi); "
                              f"got {span!r}.") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValidationError(f"`{name}` must be a pair lo < hi of finite floats; got {span!r}.")
    return (lo, hi)


def _linspace(lo, hi, m):
    """``np.linspace(lo, hi, m)`` also when ``hi − lo`` overflows (spans near the float64
    range): the halved ends, exact, then doubled."""
    with np.errstate(over="ignore"):
        width = hi - lo
    if np.isfinite(width):
        return np.linspace(lo, hi, m)
    return 2.0 * np.linspace(lo / 2.0, hi / 2.0, m)


def _check_directions(D):
    """Refuse a zero direction, and two directions on one line (decided exactly): the grid
    of such a slice is not the slice it claims to be (constant along a direction, or a line
    drawn as a plane)."""
    from fractions import Fraction

    for i in range(D.shape[0]):
        if not np.any(D[i]):
            raise ValidationError(
                f"`directions` must be non-zero vectors; got direction {i} all zeros (a "
                "filter-normalized direction of a network whose filters are all zero is zero).")
    if D.shape[0] != 2:
        return
    u, v = D
    # exactly parallel (v = λ u) needs the same zeros and the same rounded ratio v_i / u_i
    # everywhere (the exact ratio is λ at every entry); the candidates are decided in exact
    # rational arithmetic on the floats
    nz = u != 0
    if not np.array_equal(nz, v != 0):
        return
    with np.errstate(over="ignore", under="ignore"):
        r = v[nz] / u[nz]
    if not np.all(r == r[0]):
        return
    p = int(np.flatnonzero(nz)[0])
    lam = Fraction(float(v[p])) / Fraction(float(u[p]))
    if all(Fraction(float(b)) == lam * Fraction(float(a)) for a, b in zip(u[nz], v[nz])):
        raise ValidationError(
            f"`directions` must span a plane; got two parallel directions (the second is "
            f"{float(lam):.6g} times the first, exactly).")


def loss_surface(landscape, origin, directions, *, spans=1.0, n=51, kind="custom",
                 points=None, paths=None, info=None, n_threads=None):
    """Loss on the grid ``origin + Σ c_i d_i``, all grid points in one batched evaluation.

    Parameters
    ----------
    landscape : Landscape
        The loss landscape.
    origin : Network or array_like of shape (P,)
        Centre of the grid.
    directions : array_like of shape (k, P), k in {1, 2}
        Grid directions ``d_i`` in the flat parameter layout: non-zero, and two of them not
        parallel (both decided exactly; refused otherwise).
    spans : float, or sequence of one entry per direction, default=1.0
        Coordinate range of each direction, a float ``s`` for ``[-s, s]`` or a pair
        ``(lo, hi)``; a single float applies to every direction (and for one direction a
        single pair is accepted).
    n : int or sequence of int, default=51
        Grid points along each direction (``>= 2``).
    kind : str, default="custom"
        Label of the slice (stored with the result).
    points, paths, info : dict, optional
        Overlays and provenance stored with the result.
    n_threads : int, optional
        Engine threads (default: the landscape's).

    Returns
    -------
    LossSurface
        The grid coordinates and the loss at every grid point, with the directions, the
        overlays and the provenance.

    See Also
    --------
    random_slice, pca_slice, plane_slice

    Notes
    -----
    Cost ``O(n1 · n2 · N · P)``: the ``(n1 · n2, P)`` stack is evaluated by the compiled
    engine in blocks of at most :data:`BLOCK_BYTES`, parallel over the grid points. Spans
    may reach the float64 range: grid points whose parameters or loss overflow are NaN
    (counted in ``info["non_finite_points"]``).

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: 1-D and 2-D plots of the loss along directions
           (Section 3).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Landscape, Network
    >>> arch = Architecture(2, (3,), 1)
    >>> X = np.random.default_rng(0).standard_normal((20, 2)); y = X[:, :1]
    >>> land = Landscape(arch, X, y)
    >>> net = Network.initialize(arch, seed=0)
    >>> s = loss_surface(land, net, np.eye(arch.n_params)[:2], n=5)
    >>> s.loss.shape, bool(np.isclose(s.loss[2, 2], land.loss(net)))
    ((5, 5), True)
    """
    import time

    land = _check_landscape(landscape)
    origin = _flat(origin, land.arch, "origin")
    D = np.array(check_array("directions", directions, ndim=(1, 2)))
    if D.ndim == 1:
        D = D[None]
    if D.ndim != 2 or D.shape[0] not in (1, 2) or D.shape[1] != land.n_params:
        raise ShapeError(f"`directions` must have shape (1, {land.n_params}) or "
                         f"(2, {land.n_params}); got {np.shape(directions)}.")
    if not np.all(np.isfinite(D)):
        raise ValidationError("`directions` must be finite.")
    k = D.shape[0]
    _check_directions(D)
    ns = [n] * k if np.ndim(n) == 0 else list(n)
    if len(ns) != k:
        raise ValidationError(f"`n` must be an int or {k} ints; got {n!r}.")
    ns = [check_int("n", v, minimum=2, maximum=100_000) for v in ns]
    if np.ndim(spans) == 0 or (np.ndim(spans) == 1 and len(spans) == 2 and k == 1
                               and np.ndim(spans[0]) == 0):
        spans = [spans] * k
    elif np.ndim(spans) == 1 and len(spans) == 2 and k == 2 and all(np.ndim(s) == 0 for s in spans):
        spans = list(spans)   # one half-width per direction
    if len(spans) != k:
        raise ValidationError(f"`spans` must give one range per direction ({k}); got {spans!r}.")
    coords = tuple(_linspace(*_check_span(s, "spans"), m) for s, m in zip(spans, ns))
    B = int(np.prod(ns))
    rows = max(1, BLOCK_BYTES // (8 * land.n_params))
    out = np.empty(B)
    tic = time.perf_counter()
    if k == 1:
        C = coords[0][:, None]
    else:
        a, b = np.meshgrid(coords[0], coords[1], indexing="ij")
        C = np.stack([a.ravel(), b.ravel()], axis=1)
    import warnings

    from ..exceptions import DivergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)   # far grid points may overflow
        for i0 in range(0, B, rows):
            with np.errstate(over="ignore", invalid="ignore"):
                stack = origin[None, :] + C[i0:i0 + rows] @ D
            # far grid points whose parameters leave float64 have no loss (NaN below); the
            # engine refuses non-finite parameters, so they are not handed to it
            ok = np.all(np.isfinite(stack), axis=1)
            block = np.full(stack.shape[0], np.nan)
            if ok.any():
                block[ok] = land.loss(stack[ok] if not ok.all() else stack,
                                      n_threads=n_threads)
            out[i0:i0 + rows] = block
    seconds = time.perf_counter() - tic
    bad = ~np.isfinite(out)
    if bad.all():
        raise ValidationError("`origin`/`directions`/`spans` must give a loss within float64 "
                              "somewhere on the grid; got non-finite losses at every point "
                              "(rescale the networks, the data or the spans).")
    out[bad] = np.nan                 # said in words: info["non_finite_points"]
    if bad.any():
        info = dict(info or {}, non_finite_points=int(bad.sum()),
                    note="NaN marks grid points whose loss (or parameters) overflow float64")
    return LossSurface(kind=kind, origin=origin, directions=D, coords=coords,
                       loss=out.reshape(ns), points=dict(points or {}), paths=dict(paths or {}),
                       landscape=land.to_dict(), seconds=seconds, info=dict(info or {}))


def random_slice(landscape, theta, *, dim=2, span=1.0, n=51, seed=0, bias="zero",
                 n_threads=None):
    """Slice around ``theta`` along filter-normalized random directions (Li et al. 2018).

    Parameters
    ----------
    landscape : Landscape
        The loss landscape.
    theta : Network or array_like of shape (P,)
        Centre of the slice.
    dim : {1, 2}, default=2
    span : float or pair, default=1.0
        Coordinates in ``[-span, span]`` (1 = one filter norm).
    n : int, default=51
        Grid points along each direction.
    seed : int, default=0
        Seed of the random directions.
    bias : {"zero", "filter"}
    n_threads : int, optional
        Engine threads (default: the landscape's).

    Returns
    -------
    LossSurface
        ``points["theta"]`` at the origin.

    See Also
    --------
    filter_normalized_directions, loss_surface

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: filter-normalized random directions (Section 4).
    """
    land = _check_landscape(landscape)
    dim = check_int("dim", dim, minimum=1, maximum=2)
    D = filter_normalized_directions(land, theta, dim, seed=seed, bias=bias)
    try:
        _check_directions(D)
    except ValidationError as exc:
        # the caller gave no directions: say what made them degenerate
        what = ("zero (every filter of `theta` is zero)" if "zero" in str(exc) else
                f"parallel for seed {seed} (few non-zero filters, each of one weight: try "
                "another seed or dim=1)")
        raise ValidationError(f"`theta` must give filter-normalized directions that span the "
                              f"slice; got directions {what}.") from None
    return loss_surface(land, theta, D, spans=[span] * dim, n=n, kind="random",
                        points={"theta": np.zeros(dim)},
                        info={"directions": "filter-normalized random (Li et al. 2018)",
                              "seed": seed, "bias": bias}, n_threads=n_threads)


def pca_slice(landscape, trajectory, *, dim=2, n=51, margin=0.25, n_threads=None):
    """Slice through the end of a training trajectory along its top principal directions.

    Parameters
    ----------
    landscape : Landscape
        The loss landscape.
    trajectory : array_like of shape (R, P) or TrainResult
        A recorded trajectory (``train(..., record_params=True)``; the first network of a
        ``TrainResult``).
    dim : {1, 2}, default=2
    n : int, default=51
        Grid points along each direction.
    margin : float, default=0.25
        The grid covers the trajectory's coordinates plus this fraction on each side.

    n_threads : int, optional
        Threads of the batched evaluation (default: all cores).

    Returns
    -------
    LossSurface
        ``paths["trajectory"]`` (and ``"trajectory:loss"``), ``points["start"]``, ``"end"``;
        ``info["explained_variance"]``.

    See Also
    --------
    pca_directions, loss_surface

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: optimization trajectories in the PCA directions
           (Section 7).
    """
    land = _check_landscape(landscape)
    _check_result_arch(land, trajectory, "trajectory")
    if hasattr(trajectory, "trajectory"):
        if trajectory.trajectory is None:
            raise ValidationError("`trajectory` is a TrainResult without recorded parameters; "
                                  "train with record_params=True.")
        T = trajectory.trajectory[0]
        T = T[np.all(np.isfinite(T), axis=1)]
    else:
        T = check_array("trajectory", trajectory, ndim=2, finite=False)
    if T.ndim != 2 or T.shape[-1] != land.n_params:
        raise ShapeError(f"`trajectory` must have shape (R, {land.n_params}); got {T.shape}.")
    dim = check_int("dim", dim, minimum=1, maximum=2)
    margin = check_float("margin", margin, minimum=0.0)
    D, explained, C = pca_directions(T, dim)
    spans = []
    for j in range(dim):
        lo, hi = float(C[:, j].min()), float(C[:, j].max())
        w = max(hi - lo, 1e-12 + 1e-3 * np.linalg.norm(T[-1]))
        spans.append((lo - margin * w, hi + margin * w))
    tr_loss = land.loss(T, n_threads=n_threads)
    return loss_surface(land, T[-1], D, spans=spans, n=n, kind="pca",
                        points={"start": C[0], "end": C[-1]},
                        paths={"trajectory": C, "trajectory:loss": tr_loss},
                        info={"directions": "top principal directions of the trajectory "
                                            "(Li et al. 2018)",
                              "explained_variance": explained.tolist()}, n_threads=n_threads)


def _plane(origin, a, b):
    """Orthonormal basis of the plane through ``origin, a, b``; coordinates of the three."""
    u = a - origin
    nu = np.linalg.norm(u)
    if nu == 0:
        raise ValidationError("the networks must be distinct; the first two coincide.")
    e1 = u / nu
    v = b - origin
    w = v - (v @ e1) * e1
    nw = np.linalg.norm(w)
    scale = max(nu, np.linalg.norm(v))
    if nw <= 1e-12 * scale:
        # a conditioning limit, not an exact collinearity test: below it the second direction
        # is mostly rounding noise
        raise ValidationError(
            "the three networks must span a plane: expected the third at a distance above "
            f"1e-12 (relative) from the line through the first two, got {nw / scale:.3g}.")
    e2 = w / nw
    return np.stack([e1, e2]), np.array([[0.0, 0.0], [nu, 0.0], [v @ e1, v @ e2]])


def _box(P, margin):
    lo, hi = P.min(axis=0), P.max(axis=0)
    w = np.maximum(hi - lo, 1e-12)
    w = np.maximum(w, 0.5 * w.max())
    return [(lo[j] - margin * w[j], hi[j] + margin * w[j]) for j in range(P.shape[1])]


def plane_slice(landscape, theta_a, theta_b, theta_c, *, n=51, margin=0.25, n_threads=None):
    """Slice in the plane through three networks (orthonormal coordinates, ``theta_a`` at the
    origin, ``theta_b`` on the first axis).

    Parameters
    ----------
    landscape : Landscape
        The loss landscape.
    theta_a, theta_b, theta_c : Network or array_like of shape (P,)
        The three networks.
    n : int, default=51
        Grid points along each direction.
    margin : float, default=0.25
        Grid beyond the three points, as a fraction of their extent.

    n_threads : int, optional
        Threads of the batched evaluation (default: all cores).

    Returns
    -------
    LossSurface
        ``points`` ``"a"``, ``"b"``, ``"c"``, with their losses in ``info["loss_points"]``.

    See Also
    --------
    segment_slice, loss_surface

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: 2-D plots of the loss in a plane (Section 3).
    .. [2] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: level sets and paths between minima (Section 3).
    """
    land = _check_landscape(landscape)
    A, B, C = (_flat(t, land.arch, nm) for t, nm in
               ((theta_a, "theta_a"), (theta_b, "theta_b"), (theta_c, "theta_c")))
    D, P = _plane(A, B, C)
    margin = check_float("margin", margin, minimum=0.0)
    lp = land.loss(np.stack([A, B, C]), n_threads=n_threads)
    return loss_surface(land, A, D, spans=_box(P, margin), n=n, kind="plane",
                        points={"a": P[0], "b": P[1], "c": P[2]},
                        info={"directions": "orthonormal basis of the plane through a, b, c",
                              "loss_points": lp.tolist()}, n_threads=n_threads)


def segment_slice(landscape, theta_a, theta_b, *, n=101, extend=0.25, width=None, seed=0,
                  n_threads=None):
    """The segment from ``theta_a`` to ``theta_b``: 1-D (``width=None``) or the 2-D plane of the
    segment and a filter-normalized random direction orthogonal to it.

    Parameters
    ----------
    landscape : Landscape
        The loss landscape.
    theta_a, theta_b : Network or array_like of shape (P,)
        The ends of the segment.
    n : int, default=101
        Grid points along each direction.
    extend : float, default=0.25
        The grid runs over ``t ∈ [−extend, 1 + extend]`` (``theta_a`` at 0, ``theta_b`` at 1).
    width : float, optional
        2-D: the second coordinate in ``[-width, width]`` times ``||θ_b − θ_a||``.
    seed : int, default=0
        Seed of the random direction (2-D).

    n_threads : int, optional
        Threads of the batched evaluation (default: all cores).

    Returns
    -------
    LossSurface
        Coordinates in units of ``||θ_b − θ_a||``; ``points`` ``"a"`` and ``"b"``.

    See Also
    --------
    plane_slice, string_slice, topoanalysis.dynamics.interpolate

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: 1-D linear interpolation and 2-D plots (Section
           3).
    .. [2] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: the interpolated loss between two minima, the first
           step of Dynamic String Sampling (Section 3.1).
    """
    land = _check_landscape(landscape)
    A, B = _flat(theta_a, land.arch, "theta_a"), _flat(theta_b, land.arch, "theta_b")
    u = B - A
    if not np.any(u):
        raise ValidationError("`theta_b` must differ from `theta_a`.")
    extend = check_float("extend", extend, minimum=0.0)
    if width is None:
        return loss_surface(land, A, u[None], spans=[(-extend, 1 + extend)], n=n,
                            kind="segment", points={"a": np.array([0.0]), "b": np.array([1.0])},
                            info={"directions": "theta_b - theta_a"}, n_threads=n_threads)
    width = check_float("width", width, minimum=0.0, strict_min=True)
    r = filter_normalized_directions(land, A, 1, seed=seed)[0]
    r = r - (r @ u) / (u @ u) * u
    if not np.any(r):
        raise ValidationError("no direction orthogonal to the segment (the network is zero).")
    r *= np.linalg.norm(u) / np.linalg.norm(r)
    return loss_surface(land, A, np.stack([u, r]), spans=[(-extend, 1 + extend),
                                                          (-width, width)],
                        n=n, kind="segment",
                        points={"a": np.array([0.0, 0.0]), "b": np.array([1.0, 0.0])},
                        info={"directions": "theta_b - theta_a; filter-normalized random "
                                            "direction orthogonal to it", "seed": seed},
                        n_threads=n_threads)


def string_slice(landscape, string, *, n=51, margin=0.25, seed=0, n_threads=None):
    """The plane of the segment between a string's ends and of the string's largest deviation
    from it, with the string drawn (Dynamic String Sampling, Freeman & Bruna 2017).

    Parameters
    ----------
    landscape : Landscape
        The loss landscape.
    string : BeadString or array_like of shape (K, P)
        Beads from end to end, ``K >= 2``.
    n : int, default=51
        Grid points along each direction.
    margin : float, default=0.25
        Grid beyond the string, as a fraction of its extent.
    seed : int, default=0
        Seed of the second direction of a straight string (a filter-normalized random
        direction orthogonal to it; a bent string gives its own).
    n_threads : int, optional
        Threads of the batched evaluation (default: all cores).

    Returns
    -------
    LossSurface
        ``paths["string"]`` (the beads' coordinates: exact when the string lies in the
        plane, its projection otherwise; ``info["off_plane"]`` is the largest distance of a
        bead from the plane) and ``"string:loss"``; ``points`` ``"a"``, ``"b"``.

    See Also
    --------
    segment_slice, topoanalysis.levelsets.dynamic_string_sampling

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Dynamic String Sampling, the string of beads (Section
           3.1).
    .. [2] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: 2-D plots of the loss in a plane (Section 3).
    """
    land = _check_landscape(landscape)
    _check_result_arch(land, string, "string")
    beads = check_array("string", getattr(string, "beads", string), finite=False)
    if beads.ndim != 2 or beads.shape[0] < 2 or beads.shape[1] != land.n_params:
        raise ShapeError(f"`string` must have shape (K >= 2, {land.n_params}); got "
                         f"{beads.shape}.")
    seed = check_int("seed", seed, minimum=0)
    A, B = beads[0], beads[-1]
    u = B - A
    if not np.any(u):
        raise ValidationError("the string's ends must differ.")
    e1 = u / np.linalg.norm(u)
    off = (beads - A) - np.outer((beads - A) @ e1, e1)
    j = int(np.argmax(np.linalg.norm(off, axis=1)))
    if np.linalg.norm(off[j]) > 1e-12 * np.linalg.norm(u):
        e2 = off[j] / np.linalg.norm(off[j])
    else:   # a straight string: any orthogonal direction
        r = filter_normalized_directions(land, A, 1, seed=seed)[0]
        r = r - (r @ e1) * e1
        nr = np.linalg.norm(r)
        if not nr > 0:      # as segment_slice (a zero first bead has zero filters)
            raise ValidationError("`string` is straight and no direction is orthogonal to it "
                                  "(the network at its first bead is zero).")
        e2 = r / nr
    D = np.stack([e1, e2])
    C = (beads - A) @ D.T
    resid = np.linalg.norm((beads - A) - C @ D, axis=1)
    bl = land.loss(beads, n_threads=n_threads)
    return loss_surface(land, A, D, spans=_box(C, margin), n=n, kind="string",
                        points={"a": C[0], "b": C[-1]},
                        paths={"string": C, "string:loss": bl},
                        info={"directions": "segment between the ends; largest deviation of "
                                            "the string", "off_plane": float(resid.max()),
                              "n_beads": int(beads.shape[0] - 2), "seed": seed},
                        n_threads=n_threads)


# --- figures ------------------------------------------------------------------------------
def _drawable(surface):
    """Coordinates, points and paths of ``surface`` scaled by a power of two (exact) when
    they reach beyond 1e300, where matplotlib cannot place ticks (spans near the float64
    range); returns them with the axis-label suffix naming the scale."""
    big = max([float(np.max(np.abs(c))) for c in surface.coords]
              + [float(np.max(np.abs(v), initial=0.0)) for v in surface.points.values()]
              + [float(np.max(np.abs(v), initial=0.0)) for k, v in surface.paths.items()
                 if not k.endswith(":loss")])
    if not big > 1e300:
        return surface.coords, surface.points, surface.paths, ""
    e = int(np.frexp(big)[1])
    f = np.ldexp(1.0, -e)
    return ([c * f for c in surface.coords],
            {k: np.asarray(v) * f for k, v in surface.points.items()},
            {k: (v if k.endswith(":loss") else np.asarray(v) * f)
             for k, v in surface.paths.items()},
            f" (× 2^{e})")


def plot_surface(surface, kind="contour", ax=None, log=None, title=None, levels=30):
    """Plot a loss surface (the implementation of :meth:`LossSurface.plot`).

    Parameters
    ----------
    surface : LossSurface
        The surface to draw.
    kind : {"contour", "surface"}, default="contour"
        Filled contours, or a 3-D surface.
    ax : matplotlib Axes, optional
        Axes to draw on (a 3-D one for ``"surface"``); a new figure when None.
    log : bool, optional
        Logarithmic loss scale (default: when the loss spans more than two decades).
    title : str, optional
        Title of the axes.
    levels : int, default=30
        Number of contour levels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn in (that of ``ax`` when given).
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib import colors
    except ImportError:
        raise ImportError("figures need matplotlib: pip install \"topoanalysis[plot]\"") from None
    kind = check_choice("kind", kind, ("contour", "surface"))
    L = surface.loss
    finite = L[np.isfinite(L)]
    pos = finite[finite > 0]
    if log is None:
        log = pos.size > 0 and pos.size == finite.size and pos.max() / pos.min() > 100
    lf, lunit = 1.0, ""
    big = float(np.max(np.abs(finite), initial=0.0))
    if not log and big > 1e300:     # losses near the float64 maximum: no ticks, drawn scaled
        e = int(np.frexp(big)[1])
        lf, lunit = np.ldexp(1.0, -e), f" (× 2^{e})"
        L = L * lf
    overlay_colors = iter(["white", "red", "cyan", "yellow", "magenta", "lime"])
    coords, points, paths, unit = _drawable(surface)
    if surface.dim == 1:
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        fig = ax.figure
        ax.plot(coords[0], L, "-", color="C0")
        for name, c in points.items():
            i = int(np.argmin(np.abs(coords[0] - c[0])))
            ax.plot([c[0]], [L[i]], "o", label=name)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("coordinate along the direction" + unit)
        ax.set_ylabel(f"loss ({surface.landscape.get('loss', '')}){lunit}")
        if surface.points:
            ax.legend(fontsize=8)
    else:
        a, b = np.meshgrid(coords[0], coords[1], indexing="ij")
        Z = np.log10(np.where(L > 0, L, np.nan)) if log else L
        if kind == "contour":
            if ax is None:
                fig, ax = plt.subplots(figsize=(6, 5))
            fig = ax.figure
            cs = ax.contourf(a, b, Z, levels=levels, cmap="viridis")
            ax.contour(a, b, Z, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
            fig.colorbar(cs, ax=ax, label="log10 loss" if log else "loss" + lunit)
            for name, C in paths.items():
                if name.endswith(":loss"):
                    continue
                C = np.asarray(C)
                ax.plot(C[:, 0], C[:, 1], "-o", ms=3, lw=1.5, color=next(overlay_colors),
                        label=name)
            for name, c in points.items():
                ax.plot([c[0]], [c[1]], "*", ms=12, mec="k", label=name)
            ax.set_aspect("auto")
            if surface.points or surface.paths:
                ax.legend(fontsize=8, loc="best")
        else:
            if ax is None:
                fig = plt.figure(figsize=(7, 5))
                ax = fig.add_subplot(projection="3d")
            fig = ax.figure
            ax.plot_surface(a, b, Z, cmap="viridis", linewidth=0, antialiased=True,
                            norm=colors.Normalize(np.nanmin(Z), np.nanmax(Z)))
            ax.set_zlabel("log10 loss" if log else "loss" + lunit)
            for name, C in paths.items():
                if name.endswith(":loss") or name + ":loss" not in paths:
                    continue
                C = np.asarray(C)
                zl = np.asarray(surface.paths[name + ":loss"])
                ax.plot(C[:, 0], C[:, 1], np.log10(zl) if log else zl * lf, "-o", ms=3,
                        color=next(overlay_colors), label=name)
        ax.set_xlabel("direction 1" + unit)
        ax.set_ylabel("direction 2" + unit)
    ax.set_title(title or f"{surface.kind} slice of the loss landscape")
    fig.tight_layout()
    return fig
