"""Minimum-energy paths between two networks: the climbing-image nudged elastic band.

A chain of images ``θ_0 = θ_a, θ_1, …, θ_K = θ_b`` relaxes under the loss gradient
perpendicular to the path and springs along it (Henkelman, Uberuaga & Jónsson 2000; the
upwind tangent of Henkelman & Jónsson 2000); after ``climb_after`` steps the highest image
climbs: its force is the gradient with the parallel part reversed, so it settles on the
highest point of the path, the saddle the path crosses. The *height* of the final path is
the highest loss met on a fine grid of every straight piece: a lower bound of the path's
maximum (a grid can step over the top of a piece), close to it once the climbing image sits on
the saddle. With ``bounds=True`` the path also gets ``height_upper``, a proven upper bound of
the loss on every piece (:func:`topoanalysis.levelsets.segment_loss_bounds`), hence of the
lowest barrier between the two ends; neither is a proof that no lower path exists. Draxler et
al. (2018) used AutoNEB this way between minima of neural networks.

Every step evaluates all images of all pairs in one engine call
(:meth:`topoanalysis.Landscape.loss_and_gradient`).
"""

import dataclasses
import time

import numpy as np

from .._validation import check_float, check_int
from ..exceptions import ShapeError, ValidationError
from ..network import Architecture

__all__ = ["MinimumEnergyPath", "minimum_energy_path"]

#: Below this many sample x parameter products per step the band runs on one thread: on a
#: busy machine a step of 31 images of the 12-parameter permutation network took 158 ms with
#: a two-thread team and 5 ms on one thread.
_SMALL_WORK = 2e5


@dataclasses.dataclass(frozen=True, eq=False)
class MinimumEnergyPath:
    """A relaxed elastic band between two networks.

    Attributes
    ----------
    arch : Architecture
    images : ndarray of shape (K + 1, P)
        ``θ_a``, the images, ``θ_b``.
    image_loss : ndarray of shape (K + 1,)
        Loss of each image.
    edge_max_loss : ndarray of shape (K,)
        Highest loss on the grid of each straight piece.
    height : float
        Highest loss on the grid of the whole path (the maximum of ``edge_max_loss``): a lower
        bound of the path's maximum, not a bound of the lowest barrier.
    height_upper : float or None
        With ``bounds=True``: a proven upper bound of the loss on the whole path (rounding
        included), hence of the lowest barrier between the ends; None otherwise.
    climbing_image : int
        Index of the highest interior image (the one that climbs; the endpoints never move).
    steps : int
        Relaxation steps taken.
    max_force : float
        Largest norm of an interior image's NEB force at the returned images.
    converged : bool
        ``max_force <= force_tol``.
    seconds : float
    settings : dict
        The arguments, and ``diverged_at_step``: the step whose update would have left float64
        (the band stopped at the last finite images, with a ``DivergenceWarning``), or None.
    """

    arch: Architecture
    images: np.ndarray
    image_loss: np.ndarray
    edge_max_loss: np.ndarray
    height: float
    climbing_image: int
    steps: int
    max_force: float
    converged: bool
    seconds: float
    settings: dict
    height_upper: float = None

    @property
    def length(self):
        """``Σ ||θ_i − θ_{i+1}||``."""
        return float(np.linalg.norm(np.diff(self.images, axis=0), axis=1).sum())

    def barrier(self):
        """Height above the higher end: ``height − max(L(θ_a), L(θ_b))``.

        Returns
        -------
        float
            The barrier of the path.
        """
        return float(self.height - max(self.image_loss[0], self.image_loss[-1]))

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            One line.
        """
        state = "converged" if self.converged else "not converged"
        proven = ("" if self.height_upper is None
                  else f" (proven at most {self.height_upper:.6g} on the whole path)")
        return (f"minimum-energy path ({len(self.images) - 1} pieces, {state} after "
                f"{self.steps} steps, max force {self.max_force:.2e}): height on the grid "
                f"{self.height:.4g}{proven}, barrier {self.barrier():.4g} above the higher end")

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data.
        """
        return {"height": self.height, "height_upper": self.height_upper,
                "barrier": self.barrier(),
                "climbing_image": self.climbing_image, "steps": self.steps,
                "max_force": self.max_force, "converged": bool(self.converged),
                "length": self.length, "image_loss": self.image_loss.tolist(),
                "edge_max_loss": self.edge_max_loss.tolist(), "seconds": self.seconds,
                "architecture": self.arch.to_dict(), "settings": self.settings}


def _resample(path, n):
    """``n + 1`` points evenly spaced by arc length along the polygon ``path``."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] == 0:
        return np.repeat(path[:1], n + 1, axis=0)
    targets = np.linspace(0.0, s[-1], n + 1)
    j = np.clip(np.searchsorted(s, targets, side="right") - 1, 0, len(seg) - 1)
    w = np.where(seg[j] > 0, (targets - s[j]) / np.where(seg[j] > 0, seg[j], 1), 0.0)
    out = path[j] + w[:, None] * (path[j + 1] - path[j])
    out[0], out[-1] = path[0], path[-1]
    return out


def _tangents(x, e):
    """Upwind tangents of the interior images (Henkelman & Jónsson 2000), unit length."""
    fwd = x[2:] - x[1:-1]
    bwd = x[1:-1] - x[:-2]
    ep, e0, em = e[2:], e[1:-1], e[:-2]
    up = (ep > e0) & (e0 > em)
    down = (ep < e0) & (e0 < em)
    dmax = np.maximum(np.abs(ep - e0), np.abs(em - e0))
    dmin = np.minimum(np.abs(ep - e0), np.abs(em - e0))
    wf = np.where(ep > em, dmax, dmin)
    wb = np.where(ep > em, dmin, dmax)
    mixed = wf[:, None] * fwd + wb[:, None] * bwd
    mixed = np.where((np.abs(ep - em) == 0)[:, None] & (dmax == 0)[:, None], fwd + bwd, mixed)
    tau = np.where(up[:, None], fwd, np.where(down[:, None], bwd, mixed))
    nrm = np.linalg.norm(tau, axis=1, keepdims=True)
    return np.divide(tau, nrm, out=np.zeros_like(tau), where=nrm > 0)


def minimum_energy_path(theta_a, theta_b, land, *, n_images=24, init=None, steps=3000,
                        lr=1e-3, spring=1.0, climb_after=500, force_tol=1e-4,
                        points_per_edge=11, bounds=False, n_threads=None):
    """Relax a climbing-image nudged elastic band from ``theta_a`` to ``theta_b``.

    Parameters
    ----------
    theta_a, theta_b : array_like of shape (P,)
        The two ends (kept fixed).
    land : Landscape
        Architecture, data and loss (:class:`topoanalysis.Landscape`).
    n_images : int, default=24
        Number of straight pieces ``K >= 2`` (``K − 1`` movable images).
    init : array_like of shape (M, P), optional
        An initial path from ``theta_a`` to ``theta_b`` (e.g. the beads of a
        :class:`~topoanalysis.levelsets.BeadString`), resampled evenly by arc length; default
        the straight segment.
    steps : int, default=3000
        Maximum relaxation steps (Adam on the NEB forces).
    lr : float, default=1e-3
        Adam step size.
    spring : float, default=1.0
        Spring constant along the path.
    climb_after : int, default=500
        Steps before the highest image starts to climb (``>= steps``: no climbing).
    force_tol : float, default=1e-4
        Stop once every image's force norm is at most this.
    points_per_edge : int, default=11
        Grid points per piece for the height (the grid maximum).
    bounds : bool, default=False
        Also prove an upper bound of the loss on every piece of the final path
        (:meth:`topoanalysis.Landscape.segment_loss_bounds` on the same grid): ``height_upper``.
    n_threads : int, optional
        Engine threads (default: all usable cores, one for a small band).

    Returns
    -------
    MinimumEnergyPath
        The relaxed path and its height.

    Raises
    ------
    ValidationError
        For an invalid argument; the message names it.

    See Also
    --------
    topoanalysis.levelsets.dynamic_string_sampling : Strings of trained beads below a level.

    Notes
    -----
    Each step costs one batched loss-and-gradient evaluation of ``K − 1`` networks. The height
    is the grid maximum of the path returned: it can fall below the path's maximum, and even
    below the lowest barrier, when the grid steps over the top of a piece (an unrelaxed band
    whose images straddle the saddle); ``height_upper`` (``bounds=True``) is a proven upper
    bound of the lowest barrier. The band can settle on a path that is not the lowest one.

    References
    ----------
    .. [1] G. Henkelman, B. P. Uberuaga, H. Jónsson, "A climbing image nudged elastic band
           method for finding saddle points and minimum energy paths", J. Chem. Phys. 113
           (2000).
    .. [2] F. Draxler, K. Veschgini, M. Salmhofer, F. Hamprecht, "Essentially no barriers in
           neural network energy landscape", ICML 2018.
    .. [3] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Appendix E.1 (the lowest path between a network and its
           permuted copy).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Landscape
    >>> arch = Architecture(2, (1,), 1, activation="linear", hidden_bias=False,
    ...                     output_bias=False)
    >>> X = np.random.default_rng(0).standard_normal((40, 2)); y = X @ [[1.0], [-2.0]]
    >>> land = Landscape(arch, X, y, "mse")
    >>> a = arch.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
    >>> p = minimum_energy_path(a, -a, land, n_images=8, steps=300)   # must cross a = 0
    >>> bool(p.height >= np.mean(y ** 2) * (1 - 1e-12))
    True
    """
    from ..landscape import Landscape

    if not isinstance(land, Landscape):
        raise ValidationError(f"`land` must be a Landscape; got {type(land).__name__}.")
    arch = land.arch
    a = arch.check_params(theta_a, "theta_a", batch=False)
    b = arch.check_params(theta_b, "theta_b", batch=False)
    K = check_int("n_images", n_images, minimum=2)
    steps = check_int("steps", steps, minimum=0)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    spring = check_float("spring", spring, minimum=0.0)
    climb_after = check_int("climb_after", climb_after, minimum=0)
    force_tol = check_float("force_tol", force_tol, minimum=0.0)
    ppe = check_int("points_per_edge", points_per_edge, minimum=2)
    if not isinstance(bounds, (bool, np.bool_)):
        raise ValidationError(f"`bounds` must be True or False; got {bounds!r}.")
    t0 = time.perf_counter()
    if n_threads is None and (K - 1) * land.X.shape[0] * arch.n_params < _SMALL_WORK:
        n_threads = 1       # a small band: one thread (a thread team costs more than it saves)
    if init is None:
        path = np.linspace(0.0, 1.0, K + 1)[:, None] * (b - a) + a
        path[0], path[-1] = a, b        # a + 1·(b − a) is not always b in floating point
    else:
        init = arch.check_params(init, "init", batch=True)
        if init.shape[0] < 2:
            raise ShapeError(f"`init` must hold at least 2 points; got shape {init.shape}.")
        path = _resample(np.concatenate([a[None], init, b[None]]), K)
    x = path.copy()
    m1 = np.zeros_like(x[1:-1])
    m2 = np.zeros_like(x[1:-1])
    b1, b2, eps = 0.9, 0.999, 1e-8
    e = np.empty(K + 1)
    e[0], e[-1] = land.loss(np.stack([a, b]), n_threads=n_threads)
    max_force, taken = np.inf, 0

    def forces(climb):
        """NEB forces on the interior images at the current ``x`` (``e`` updated)."""
        L, G = land.loss_and_gradient(x[1:-1], n_threads=n_threads)
        e[1:-1] = L
        # a diverged image (the engine warns) gives a non-finite force, and the step after
        # it is refused below: no cascade of NumPy warnings on the way
        with np.errstate(over="ignore", invalid="ignore"):
            tau = _tangents(x, e)
            gpar = np.einsum("ij,ij->i", G, tau)
            F = -(G - gpar[:, None] * tau)
            d = np.linalg.norm(np.diff(x, axis=0), axis=1)
            F += spring * (d[1:] - d[:-1])[:, None] * tau
            if climb:
                i = int(np.argmax(L))
                F[i] = -G[i] + 2.0 * gpar[i] * tau[i]
            return F, float(np.max(np.linalg.norm(F, axis=1)))

    moved = True        # the images have moved since their force was last measured
    diverged = None     # the step whose update would leave float64 (the band stops before it)
    for t in range(1, steps + 1):
        F, max_force = forces(t > climb_after)
        taken, moved = t, False
        if max_force <= force_tol:
            break
        g = -F
        with np.errstate(over="ignore", invalid="ignore"):
            m1 = b1 * m1 + (1 - b1) * g
            m2 = b2 * m2 + (1 - b2) * g * g
            new = x[1:-1] - lr * (m1 / (1 - b1 ** t)) / (np.sqrt(m2 / (1 - b2 ** t)) + eps)
        if not (np.isfinite(max_force) and np.all(np.isfinite(new))):
            diverged = t
            break
        x[1:-1] = new
        moved = True
    if diverged is not None:
        import warnings

        from ..exceptions import DivergenceWarning

        warnings.warn(f"the band diverged at step {diverged} (non-finite loss, force or "
                      f"images; lr = {lr:g} too large?): it stopped at the last finite images.",
                      DivergenceWarning, stacklevel=2)
    if moved:   # the loss and force where the images are now (the next step's force)
        _, max_force = forces(taken + 1 > climb_after)
    grid = np.linspace(0.0, 1.0, ppe)
    seg = land.interpolate(x[:-1], x[1:], ts=grid, n_threads=n_threads)
    curve = np.where(np.isfinite(seg.loss), seg.loss, np.inf)
    emax = curve.max(axis=1)
    height_upper = None
    if bounds:      # proven on each piece (rounding included), on the same grid
        height_upper = max(land.segment_loss_bounds(x[k], x[k + 1], n_points=ppe).max_upper
                           for k in range(K))
    settings = dict(n_images=K, steps=steps, lr=lr, spring=spring, climb_after=climb_after,
                    force_tol=force_tol, points_per_edge=ppe, bounds=bool(bounds),
                    diverged_at_step=diverged,
                    init="straight segment" if init is None else "given path",
                    loss=land.loss_name)
    return MinimumEnergyPath(arch=arch, images=x, image_loss=e.copy(), edge_max_loss=emax,
                             height=float(emax.max()), climbing_image=1 + int(np.argmax(e[1:-1])),
                             steps=taken, max_force=max_force,
                             converged=bool(max_force <= force_tol),
                             seconds=time.perf_counter() - t0, settings=settings,
                             height_upper=height_upper)
