"""Kinks of a shallow ReLU-like network at its data, and one-sided directional derivatives.

The loss of a shallow ReLU-like network is not differentiable where a training sample lies on
a neuron's hyperplane ``w_k · x̃_n = 0`` (``x̃_n`` the input with a constant 1 appended when the
network has hidden biases). There the derivative of ``ρ(w · x̃_n)`` in a direction ``u`` of
``w`` is ``ρ(u · x̃_n)``: positively homogeneous in ``u``, not linear (Wu, Simsek & Ged,
arXiv 2402.05626, section 3). This module finds those samples and evaluates the one-sided
directional derivative of the loss exactly.
"""

import dataclasses

import numpy as np

from .._validation import check_array, check_int
from ..exceptions import ShapeError, ValidationError
from ._point import check_network, check_tol, safe_norm, shallow_point

__all__ = ["KinkReport", "kink_samples", "directional_derivative", "neuron_first_order_map",
           "kink_mask", "_first_order_map"]


def kink_mask(point, tol):
    """Boolean ``(N, l)``: sample ``n`` on neuron ``k``'s hyperplane up to relative ``tol``.

    ``|w_k · x̃_n| <= tol · ||w_k|| · ||x̃_n||``; with ``tol = 0`` exactly ``w_k · x̃_n == 0``
    (a neuron with ``w_k = 0`` has every sample on its "hyperplane"). The exact zeros are
    decided in exact arithmetic (:func:`~topoanalysis.critical._exact.exact_signs`), never by
    the rounding of the float dot product; ``tol > 0`` is the user's modelling choice.

    Parameters
    ----------
    point : ShallowPoint
        The network at its data (``critical._point.shallow_point``).
    tol : float
        Relative tolerance; ``0`` decides the exact zeros only.

    Returns
    -------
    ndarray of bool, shape (N, l)
        ``True`` where sample ``n`` lies on neuron ``k``'s hyperplane.

    See Also
    --------
    kink_samples, neuron_first_order_map

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           Section 3: the loss is not differentiable where a sample lies on a neuron's
           hyperplane w_k · x_n = 0.
    """
    on = point.signs == 0
    if tol > 0:
        pre = point.pre
        scale = (safe_norm(point.Xa, axis=1)[:, None]
                 * safe_norm(point.w, axis=1)[None, :])
        on |= np.abs(pre) <= tol * scale
    return on


def neuron_first_order_map(point, k, U, kinks=None):
    """``F_k(u) = Σ_{n off} r_n ρ'(w_k·x̃_n)(u·x̃_n) + Σ_{n on} r_n ρ(u·x̃_n)`` for rows of ``U``.

    ``F_k(u)`` is the one-sided derivative of ``G_k(w) = Σ_n r_n ρ(w·x̃_n)`` (the gradient of
    the loss in the output weights ``a_k``) at ``w_k`` in direction ``u``; since
    ``G_k(w_k + u) = G_k(w_k) + F_k(u)`` exactly for small ``u``, it decides both the
    tangential stationarity of ``w_k`` (``a_k · F_k(u) >= 0``) and escape neurons.

    Parameters
    ----------
    point : ShallowPoint
        The network at its data (``critical._point.shallow_point``).
    k : int
        The neuron.
    U : ndarray of shape (M, D)
        Directions ``u`` of ``w_k`` (rows).
    kinks : ndarray of bool, shape (N,), optional
        Samples on the hyperplane (default: exactly zero pre-activation).

    Returns
    -------
    ndarray of shape (M, e)
        Row ``m`` is ``F_k(U[m])``, the one-sided derivative of ``G_k`` at ``w_k`` along it.

    See Also
    --------
    directional_derivative, topoanalysis.critical.escape.escape_neurons

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           one-sided derivative ρ(u · x_n) of a sample on the hyperplane; the tangential
           conditions.
    """
    from ._point import ShallowPoint

    if not isinstance(point, ShallowPoint):
        raise ValidationError(f"`point` must be a ShallowPoint (critical._point.shallow_point("
                              f"net, X, y)); got {type(point).__name__}.")
    k = check_int("k", k, minimum=0, maximum=point.w.shape[0] - 1)
    U = check_array("U", U, ndim=2)
    if U.shape[1] != point.Xa.shape[1]:
        raise ShapeError(f"`U` must have {point.Xa.shape[1]} columns; got shape {U.shape}.")
    if kinks is not None:
        kinks = np.asarray(kinks)
        if kinks.shape != (point.Xa.shape[0],) or kinks.dtype.kind != "b":
            raise ShapeError(f"`kinks` must be a boolean array of shape ({point.Xa.shape[0]},); "
                             f"got {kinks.dtype} of shape {kinks.shape}.")
    return _first_order_map(point, k, U, kinks)


def _first_order_map(point, k, U, kinks=None):
    """:func:`neuron_first_order_map` without validation (internal callers).

    Parameters
    ----------
    point : ShallowPoint
        The network at its data.
    k : int
        The neuron.
    U : ndarray of shape (M, D)
        Directions of ``w_k`` (rows).
    kinks : ndarray of bool, shape (N,), optional
        Samples on the hyperplane (default: exactly zero pre-activation).

    Returns
    -------
    ndarray of shape (M, e)
        ``F_k(u)`` for every row ``u`` of ``U``.

    See Also
    --------
    neuron_first_order_map

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           one-sided derivative ρ(u · x_n) of a sample on the hyperplane; the tangential
           conditions.
    """
    pre = point.pre[:, k]
    on = point.signs[:, k] == 0 if kinks is None else np.asarray(kinks, dtype=bool)
    r = point.residual()
    Z = U @ point.Xa.T                                       # (M, N)
    coef = np.where(on[None, :], point.act(Z), point.slope(pre)[None, :] * Z)
    return coef @ r


@dataclasses.dataclass(frozen=True, eq=False)
class KinkReport:
    """Which samples lie on which neuron's hyperplane, and the activation pattern elsewhere.

    Attributes
    ----------
    on_hyperplane : ndarray of bool, shape (N, l)
        ``|w_k · x̃_n| <= tol · ||w_k|| ||x̃_n||``.
    pattern : ndarray of int8, shape (N, l)
        ``+1`` active side, ``-1`` negative side, ``0`` on the hyperplane.
    margin : ndarray of shape (N, l)
        ``|w_k · x̃_n| / (||w_k|| ||x̃_n||)`` (NaN for a neuron with ``w_k = 0``).
    tol : float
        The relative tolerance used.
    """

    on_hyperplane: np.ndarray
    pattern: np.ndarray
    margin: np.ndarray
    tol: float

    def samples(self, k):
        """Indices of the samples on neuron ``k``'s hyperplane.

        Parameters
        ----------
        k : int
            The neuron.

        Returns
        -------
        list of int
            The sample indices, increasing.
        """
        return np.flatnonzero(self.on_hyperplane[:, k]).tolist()

    @property
    def n_kinks(self):
        """Number of (sample, neuron) pairs on a hyperplane."""
        return int(self.on_hyperplane.sum())

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        l = self.on_hyperplane.shape[1]
        return {"tol": self.tol, "n_kinks": self.n_kinks,
                "kink_samples": {str(k): self.samples(k) for k in range(l) if self.samples(k)},
                "pattern": self.pattern.T.tolist()}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        l = self.on_hyperplane.shape[1]
        lines = [f"kink samples (|w_k·x̃_n| <= {self.tol:g}·||w_k||·||x̃_n||): {self.n_kinks}"]
        for k in range(l):
            s = self.samples(k)
            if s:
                lines.append(f"  neuron {k}: samples {s}")
        return "\n".join(lines)


def kink_samples(net, X, *, tol=1e-9):
    """Samples on each neuron's hyperplane and the activation pattern of a shallow network.

    Parameters
    ----------
    net : Network
        Shallow, ReLU or leaky ReLU.
    X : array_like of shape (N, d)
        Inputs.
    tol : float, default=1e-9
        Relative tolerance (``0``: exact zeros only).

    Returns
    -------
    KinkReport
        Which samples lie on which neuron's hyperplane, the activation pattern and the
        relative margins.

    See Also
    --------
    kink_mask, directional_derivative

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           non-differentiability on the hyperplanes w_k · x_n = 0.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0]]), np.array([[2.0]])], [np.array([-1.0]), None])
    >>> kink_samples(net, np.array([[1.0], [2.0], [0.0]])).samples(0)
    [0]
    """
    tol = check_tol("tol", tol)
    check_network("net", net)
    X = check_array("X", X, ndim=2)
    point = shallow_point(net, X, np.zeros((X.shape[0], net.arch.outputs)))
    on = kink_mask(point, tol)
    pre = point.pre
    pattern = np.where(on, 0, point.signs).astype(np.int8)
    scale = safe_norm(point.Xa, axis=1)[:, None] * safe_norm(point.w, axis=1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        margin = np.where(scale > 0, np.abs(pre) / scale, np.nan)
    return KinkReport(on_hyperplane=on, pattern=pattern, margin=margin, tol=tol)


def directional_derivative(net, X, y, direction, *, loss="mse", kink_tol=0.0):
    """One-sided directional derivative ``L'(θ; δ) = lim_{t↓0} (L(θ + tδ) − L(θ)) / t``.

    Exact for a shallow ReLU-like network: with ``r_n = ∂L/∂f(x_n)``,
    ``G_k = Σ_n r_n ρ(w_k·x̃_n)`` and :func:`neuron_first_order_map` ``F_k``,
    ``L'(θ; δ) = Σ_k [δa_k · G_k + a_k · F_k(δw_k)] + δb · Σ_n r_n``. It is positively
    homogeneous in ``δ`` and linear only when no sample lies on a hyperplane.

    Parameters
    ----------
    net : Network
        A shallow ReLU-like network.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    direction : array_like of shape (P,)
        A direction in the network's flat parameter layout.
    loss : {"mse", "bce"}, default="mse"
    kink_tol : float, default=0.0
        Samples within this relative tolerance of a hyperplane are treated as on it.

    Returns
    -------
    float
        ``L'(θ; direction)``, exact for the given data.

    See Also
    --------
    kink_samples, neuron_first_order_map

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           directional stationarity: one-sided directional derivatives of the loss.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0]]), np.array([[1.0]])], [np.array([0.0]), None])
    >>> X, y = np.array([[0.0]]), np.array([[1.0]])          # the sample sits on the kink
    >>> up, down = np.array([0.0, 1.0, 0.0]), np.array([0.0, -1.0, 0.0])   # move the bias
    >>> directional_derivative(net, X, y, up), directional_derivative(net, X, y, down)
    (-2.0, 0.0)
    """
    point = shallow_point(net, X, y, loss)
    kink_tol = check_tol("kink_tol", kink_tol)
    direction = check_array("direction", direction, ndim=1)
    if direction.shape != (net.arch.n_params,):
        raise ShapeError(f"`direction` must have shape ({net.arch.n_params},); "
                         f"got {direction.shape}.")
    return _directional_derivative(point, direction, kink_mask(point, kink_tol))


def _directional_derivative(point, direction, kinks):
    dw, da, db = point.split(direction)
    r = point.residual()
    G = point.act(point.pre).T @ r                      # (l, e)
    total = float(np.sum(da * G))
    for k in range(point.w.shape[0]):
        if np.any(point.a[k] != 0) and np.any(dw[k] != 0):
            total += float(point.a[k] @ _first_order_map(point, k, dw[k][None, :],
                                                              kinks[:, k])[0])
    if db is not None:
        total += float(db @ r.sum(axis=0))
    return total
