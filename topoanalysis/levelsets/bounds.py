"""Upper bounds of the loss between the grid points of a straight segment.

A Dynamic String Sampling piece is accepted when its loss, evaluated on a grid of ``t``, stays
below a level; between grid points the loss is not evaluated. For a network with one hidden
layer of a piecewise-linear activation (``relu``, ``leaky_relu``, ``abs``, ``linear``) and a
linear output, the loss along ``θ_t = (1 − t) θ_a + t θ_b`` is bounded on every grid interval
``[s, s']`` (width ``h``) by

    ``max(L(s), L(s')) + M h² / 8 + K h / 4``,

from a lower bound on its second derivative: the pre-activations ``z_nk(t)`` and the output
weights ``a_k(t)`` are affine in ``t``, so away from the kinks each output ``f_n(t)`` is a
quadratic with ``|f_n''| <= 2 s Σ_k |Δa_k| |Δz_nk|`` (``s`` the largest slope of the
activation), and every loss ``ℓ`` of the package is convex in the outputs, so
``L'' >= Σ_n ℓ'(f_n) f_n'' >= −M``; a kink of neuron ``k`` on sample ``n`` inside the interval
(``z_nk`` changes sign there) lowers the slope of ``L`` by at most
``|ℓ'| |a_k| |Δσ'| |Δz_nk|``, whose sum is ``K`` (a concave corner of slope drop ``m`` lies at
most ``m h / 4`` above the chord). ``|ℓ'|`` is bounded by the loss: ``1/(N e)`` for ``bce`` and
``l1``, ``(1 + Σ_j |y_nj|)/N`` for ``cross_entropy``, and ``2 F_nj/(N e)`` for ``mse`` with
``F_nj`` a bound of ``|f_nj − y_nj|`` on the interval (its values at the two ends plus the same
curvature and corner terms). The losses at the grid points are evaluated in float64 and the
bound is raised by a relative ``margin`` for their rounding.
"""

import dataclasses

import numpy as np

from .._results import as_list
from .._validation import check_array, check_float, check_int
from ..exceptions import NotSupportedError, ShapeError, ValidationError
from ..losses import as_targets, check_loss, check_outputs_for_loss, loss_value

__all__ = ["SegmentBounds", "segment_loss_bounds"]

#: the two slopes (left of 0, right of 0) of the activations the bound covers
_SLOPES = {"relu": lambda a: (0.0, 1.0), "leaky_relu": lambda a: (a, 1.0),
           "abs": lambda a: (-1.0, 1.0), "linear": lambda a: (1.0, 1.0)}


@dataclasses.dataclass(frozen=True)
class SegmentBounds:
    """Loss on the grid of a segment and an upper bound between its grid points.

    Attributes
    ----------
    ts : ndarray of shape (T,)
        The grid on ``[0, 1]``.
    loss : ndarray of shape (T,)
        Loss at the grid points.
    upper : ndarray of shape (T − 1,)
        Upper bound of the loss on each grid interval.
    grid_max : float
        Highest loss on the grid.
    max_upper : float
        Upper bound of the loss on the whole segment.
    """

    ts: np.ndarray
    loss: np.ndarray
    upper: np.ndarray
    grid_max: float
    max_upper: float

    def summary(self):
        """One line: the highest loss on the grid and the bound on the whole segment.

        Returns
        -------
        str
            The line.
        """
        return (f"segment loss: {self.grid_max:.6g} on a grid of {self.ts.size} points, at most "
                f"{self.max_upper:.6g} anywhere on the segment")

    def to_dict(self):
        """The bounds as plain JSON types (non-finite floats stay floats: ``write_json`` writes
        them as ``null``).

        Returns
        -------
        dict
            The fields, arrays as lists.
        """
        return {"ts": as_list(self.ts), "loss": as_list(self.loss),
                "upper": as_list(self.upper), "grid_max": float(self.grid_max),
                "max_upper": float(self.max_upper)}


def segment_loss_bounds(theta_a, theta_b, X, y, *, arch=None, loss="mse", n_points=100,
                        ts=None, margin=1e-9):
    """Upper bound of the loss on the segment from ``theta_a`` to ``theta_b``.

    Parameters
    ----------
    theta_a, theta_b : Network or array_like of shape (P,)
        The two ends (networks, or flat parameters of ``arch``).
    X : array_like of shape (N, d)
        Inputs.
    y : array_like
        Targets as the loss takes them.
    arch : Architecture, optional
        Needed with flat parameters: one hidden layer, activation ``relu``, ``leaky_relu``,
        ``abs`` or ``linear``, linear output.
    loss : str, default="mse"
        ``"mse"``, ``"bce"``, ``"l1"`` or ``"cross_entropy"``.
    n_points : int, default=100
        Grid points (``0`` and ``1`` included) when ``ts`` is not given.
    ts : array_like of shape (T,), optional
        Increasing grid on ``[0, 1]`` starting at 0 and ending at 1.
    margin : float, default=1e-9
        Relative amount added to each bound for the rounding of the float64 evaluation.

    Returns
    -------
    SegmentBounds
        The grid, the losses on it and the bound of each grid interval.

    Raises
    ------
    NotSupportedError
        For deeper networks, other activations or an output activation.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Dynamic String Sampling accepts a piece on a grid of
           interpolated losses (Section 3); this bound covers the points between.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture
    >>> arch = Architecture(1, (2,), 1)
    >>> a, b = np.array([1., -1, 0, 0, 1, 1, 0]), np.array([-1., 1, 0, 0, 1, 1, 0])
    >>> X, y = np.array([[1.0], [-1.0]]), np.zeros((2, 1))
    >>> res = segment_loss_bounds(a, b, X, y, arch=arch, n_points=5)
    >>> bool(res.max_upper >= res.grid_max)
    True
    """
    from ..network import Architecture, Network

    if arch is None:
        arch = getattr(theta_a, "arch", None)
    if not isinstance(arch, Architecture):
        raise ValidationError(f"`arch` must be given (an Architecture) with flat parameters; "
                              f"got {type(arch).__name__}.")
    theta_a = theta_a.params if isinstance(theta_a, Network) else theta_a
    theta_b = theta_b.params if isinstance(theta_b, Network) else theta_b
    if len(arch.hidden) != 1 or arch.activation not in _SLOPES \
            or arch.output_activation != "linear":
        raise NotSupportedError(
            f"`arch` must have one hidden layer of relu, leaky_relu, abs or linear units and a "
            f"linear output for the segment bound; got {arch}.")
    loss = check_loss(loss)
    check_outputs_for_loss(loss, arch.outputs)
    P = arch.n_params
    ta = check_array("theta_a", theta_a, shape=(P,))
    tb = check_array("theta_b", theta_b, shape=(P,))
    X = check_array("X", X, ndim=2)
    if X.shape[0] == 0:
        raise ShapeError("`X` must hold at least one sample; got shape (0, "
                         f"{X.shape[1]}).")
    if X.shape[1] != arch.inputs:
        raise ShapeError(f"`X` must have {arch.inputs} columns; got shape {X.shape}.")
    Y = np.asarray(as_targets(y, loss, arch.outputs), dtype=np.float64)
    if ts is None:
        ts = np.linspace(0.0, 1.0, check_int("n_points", n_points, minimum=2))
    ts = check_array("ts", ts, ndim=1)
    if ts.size < 2 or ts[0] != 0.0 or ts[-1] != 1.0 or np.any(np.diff(ts) <= 0):
        raise ShapeError("`ts` must increase from 0 to 1 (two points at least); got "
                         f"{np.array2string(ts, threshold=6)}.")
    margin = check_float("margin", margin, minimum=0.0)

    N, e = Y.shape
    if Y.shape[0] != X.shape[0]:
        raise ShapeError(f"`y` must have one row per sample of `X` ({X.shape[0]}); got "
                         f"{Y.shape[0]}.")
    from .._resources import check_memory

    # the outputs on the grid, the corner sizes and the deviations: a few (T, N, e) arrays
    check_memory(40.0 * ts.size * N * e + 8.0 * N * arch.hidden[0],
                 f"{ts.size} grid points × {N} samples × {e} outputs", "n_points")
    (W1a, b1a), (W2a, b2a) = arch.unpack(ta)
    (W1b, b1b), (W2b, b2b) = arch.unpack(tb)
    zero_l, zero_e = np.zeros(W1a.shape[0]), np.zeros(e)
    with np.errstate(over="ignore", invalid="ignore"):     # beyond float64: an inf bound
        Z0 = X @ W1a.T + (zero_l if b1a is None else b1a)
        Z1 = X @ W1b.T + (zero_l if b1b is None else b1b)
    A0, A1 = W2a.T, W2b.T                                     # (l, e)
    B0 = zero_e if b2a is None else b2a
    B1 = zero_e if b2b is None else b2b
    left, right = _SLOPES[arch.activation](float(arch.negative_slope))

    def act(z):
        return np.where(z > 0, right * z, left * z)

    with np.errstate(over="ignore", invalid="ignore"):
        F = np.stack([act((1 - t) * Z0 + t * Z1) @ ((1 - t) * A0 + t * A1)
                      + (1 - t) * B0 + t * B1 for t in ts])   # (T, N, e)
        L = np.asarray(loss_value(loss, F, Y), dtype=np.float64)
        L = np.where(np.isnan(L), np.inf, L)      # a loss beyond float64 (inf - inf): not finite
        dZ, dA = np.abs(Z1 - Z0), np.abs(A1 - A0)
        smax, jump = max(abs(left), abs(right)), abs(right - left)
        fpp = 2.0 * smax * (dZ @ dA)                          # (N, e): |f''| off the kinks
        Amax = np.maximum(np.abs(A0), np.abs(A1))             # (l, e)
        h = np.diff(ts)
        T1 = ts.size - 1
        # kinks: z_nk changes sign strictly inside the segment, at tau = Z0 / (Z0 - Z1); a
        # kink within rounding of a grid point counts in both intervals around it
        Jf = np.zeros((T1, N, e))                             # corner sizes of f per interval
        Jm = np.zeros((T1, N))                                # the same, largest output each
        n_idx, k_idx = np.nonzero(Z0 * Z1 < 0)
        if n_idx.size and jump > 0:
            tau = Z0[n_idx, k_idx] / (Z0[n_idx, k_idx] - Z1[n_idx, k_idx])
            size = (jump * dZ[n_idx, k_idx])[:, None] * Amax[k_idx]   # (K, e)
            eps = 1e-12
            lo = np.clip(np.searchsorted(ts, tau - eps, side="right") - 1, 0, T1 - 1)
            hi = np.clip(np.searchsorted(ts, tau + eps, side="left") - 1, 0, T1 - 1)
            np.add.at(Jf, (lo, n_idx), size)
            np.add.at(Jm, (lo, n_idx), size.max(axis=1))
            other = hi != lo
            np.add.at(Jf, (hi[other], n_idx[other]), size[other])
            np.add.at(Jm, (hi[other], n_idx[other]), size[other].max(axis=1))
        if loss == "cross_entropy":
            G = ((1.0 + np.sum(np.abs(Y), axis=1)) / N)[None, :, None]   # per sample
            M = np.sum(G[..., 0] * np.max(fpp, axis=1)[None, :], axis=1)
            K = np.sum(G[..., 0] * Jm, axis=1)             # per corner: its largest output
        else:
            if loss == "mse":
                dev = np.maximum(np.abs(F[:-1] - Y), np.abs(F[1:] - Y))
                Fb = dev + fpp[None] * (h ** 2 / 8)[:, None, None] + Jf * (h / 4)[:, None, None]
                G = 2.0 * Fb / (N * e)
            elif loss == "bce":                               # |sigma(f) - y| <= max(|y|, |1 - y|)
                G = np.broadcast_to(np.maximum(np.abs(Y), np.abs(1.0 - Y)) / (N * e),
                                    (T1, N, e))
            else:                                             # l1: |l'| <= 1 per entry
                G = np.full((T1, N, e), 1.0 / (N * e))
            M = np.sum(G * fpp[None], axis=(1, 2))
            K = np.sum(G * Jf, axis=(1, 2))
        top = np.maximum(L[:-1], L[1:])
        upper = top + M * h ** 2 / 8 + K * h / 4
        upper = upper + margin * (np.abs(upper) + np.abs(top))
    upper = np.where(np.isnan(upper), np.inf, upper)
    return SegmentBounds(ts=ts, loss=L, upper=upper, grid_max=float(np.max(L)),
                         max_upper=float(np.max(upper)))
