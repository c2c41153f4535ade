"""One shallow network at one data set, in the paper's variables (internal).

The critical-point modules all work on the same object: the augmented inputs
``x̃_n = (x_n, 1)`` (the constant only when the network has hidden biases), the per-neuron
input weights ``w_k`` (bias appended) and output weights ``a_k`` (the paper's ``h_k``), the
output bias ``b`` when present, and the residual ``r_n = ∂L/∂f(x_n)`` of the loss in the
network's outputs. :func:`shallow_point` is the one boundary that validates a
:class:`~topoanalysis.network.Network` and data for them.
"""

import dataclasses
import functools

import numpy as np

from .. import losses as _losses
from .._validation import check_choice, check_float
from ..exceptions import NotSupportedError, ShapeError, ValidationError
from ..network import Network

__all__ = []

#: Losses the critical-point analysis accepts (see the package docstring).
CRITICAL_LOSSES = ("mse", "bce")


@dataclasses.dataclass(frozen=True, eq=False)
class ShallowPoint:
    """A shallow ReLU-like network at data, as arrays (no validation below this point)."""

    net: Network
    X: np.ndarray        # (N, d)
    Y: np.ndarray        # (N, e)
    Xa: np.ndarray       # (N, D) augmented inputs
    w: np.ndarray        # (l, D)
    a: np.ndarray        # (l, e)
    b: object            # (e,) or None
    alpha: float         # negative slope: 0 for ReLU
    loss: str

    @functools.cached_property
    def _pre_signs(self):
        from ._exact import exact_pre

        pre, signs, _ = exact_pre(self.Xa, self.w)
        pre.flags.writeable = False
        signs.flags.writeable = False
        return pre, signs

    @property
    def pre(self):
        """Pre-activations ``w_k · x̃_n``, shape ``(N, l)``, read-only, with exact signs.

        The float products where their sign is proved, the correctly rounded rational value
        elsewhere (:func:`~topoanalysis.critical._exact.exact_pre`): ``pre > 0`` (the
        activation pattern), ``pre == 0`` (kinks) and ``pre < 0`` are exact facts, so
        :meth:`act` and :meth:`slope` of it never take the wrong side of a hyperplane.
        """
        return self._pre_signs[0]

    @property
    def signs(self):
        """Exact signs of ``w_k · x̃_n`` (int8, shape ``(N, l)``, read-only)."""
        return self._pre_signs[1]

    def act(self, z):
        return np.where(z > 0, z, self.alpha * z)

    def slope(self, z):
        """``ρ'(z)`` away from the kink (``z != 0``); the value at 0 is never used."""
        return np.where(z > 0, 1.0, self.alpha)

    def outputs(self):
        out = self.act(self.pre) @ self.a
        return out if self.b is None else out + self.b

    def loss_value(self):
        return float(_losses.loss_value(self.loss, self.outputs(), self.Y))

    def residual(self):
        """``r_n = ∂L/∂f(x_n)`` of shape ``(N, e)`` (for ``mse``: ``2(f − y)/(N e)``)."""
        return _losses.loss_gradient(self.loss, self.outputs(), self.Y)

    def with_params(self, w, a, b=None):
        """A new point with other ``(w, a, b)`` (same data and architecture)."""
        return dataclasses.replace(self, net=to_network(self.net.arch, w, a, b), w=np.array(w),
                                   a=np.array(a), b=None if b is None else np.array(b))

    def flat(self, dw, da, db=None):
        """Flat parameter vector (the network's layout) of a direction ``(dw, da, db)``."""
        return pack(self.net.arch, dw, da, db)

    def split(self, theta):
        """``(w, a, b)`` of a flat vector ``theta``."""
        return unpack(self.net.arch, theta)


def pack(arch, w, a, b=None):
    """Flat parameters of ``(w, a, b)`` (:meth:`Architecture.from_neuron_weights`)."""
    return arch.from_neuron_weights(w, a, b)


def unpack(arch, theta):
    """``(w, a, b)`` of flat parameters (:meth:`Architecture.neuron_weights`)."""
    return arch.neuron_weights(theta)


def to_network(arch, w, a, b=None):
    return Network(arch, pack(arch, w, a, b))


def augment(arch, X):
    X = np.asarray(X, dtype=np.float64)
    if arch.hidden_bias:
        return np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    return np.ascontiguousarray(X)


def shallow_point(net, X, y, loss="mse"):
    """Validate ``net`` (shallow, ReLU or leaky ReLU), data and loss; build a ShallowPoint."""
    if not isinstance(net, Network):
        raise ValidationError(f"`net` must be a topoanalysis Network; got {type(net).__name__}.")
    arch = net.arch
    if not arch.is_shallow:
        raise NotSupportedError(
            f"critical-point analysis needs one hidden layer; `net` has hidden widths "
            f"{arch.hidden}.")
    if arch.activation not in ("relu", "leaky_relu"):
        raise NotSupportedError(
            f"critical-point analysis needs a ReLU-like activation ('relu' or 'leaky_relu'); "
            f"`net` uses {arch.activation!r}.")
    if arch.output_activation != "linear":
        raise NotSupportedError(
            f"critical-point analysis needs a linear output unit (the paper's setting); `net` "
            f"has output_activation={arch.output_activation!r}.")
    loss = check_choice("loss", loss, CRITICAL_LOSSES)
    X = arch.check_inputs(X)
    Y = _losses.as_targets(y, loss, arch.outputs)
    if Y.shape[0] != X.shape[0]:
        raise ShapeError(f"`y` must have one row per sample of X ({X.shape[0]}); "
                         f"got {Y.shape[0]}.")
    alpha = arch.negative_slope if arch.activation == "leaky_relu" else 0.0
    if not 0.0 <= alpha < 1.0:
        raise NotSupportedError(
            f"critical-point analysis needs a leaky ReLU slope in [0, 1); got {alpha}.")
    w, a, b = unpack(arch, net.params)
    check_magnitudes(X, Y, w, a, b, arch.hidden_bias)
    return ShallowPoint(net=net, X=X, Y=Y, Xa=augment(arch, X), w=w, a=a, b=b, alpha=float(alpha),
                        loss=loss)


def safe_norm(x, axis=None):
    """Euclidean norm without overflow or underflow of the squares (scaled by the largest
    entry first): ``||(1e300, 1e300)|| = 1.41e300``, not ``inf``."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(np.abs(x), axis=axis, keepdims=True, initial=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.where(m > 0, m * np.sqrt(np.sum(np.square(np.where(m > 0, x / np.where(m > 0, m, 1.0), 0.0)),
                                                  axis=axis, keepdims=True)), 0.0)
    return n.reshape(()) if axis is None else np.squeeze(n, axis=axis)


def check_tol(name, value):
    return check_float(name, value, minimum=0.0)


#: Kink tolerance of the classifier (``classify``'s default ``kink_tol``).
VERDICT_KINK_TOL = 1e-9


def verdict_kink_tol(value, snap_kink_tol):
    """The kink tolerance of the verdict at a snapped point.

    ``None`` means ``min(snap_kink_tol, 1e-9)``: the classifier never counts a sample as on a
    hyperplane at a larger tolerance than the snap was given (``kink_tol=0`` classifies with
    exact signs only), and by default it is ``classify``'s ``1e-9``.
    """
    if value is None:
        return min(snap_kink_tol, VERDICT_KINK_TOL)
    return check_tol("verdict_kink_tol", value)


#: Largest bound on ``|f(x_n) − y_n|`` the analysis accepts: squares and the products in the
#: gradients stay below ``1e300`` (every certificate is computed in float64 first).
MAX_MAGNITUDE = 1e140


def check_magnitudes(X, Y, w, a, b, hidden_bias):
    """Refuse data and parameters whose losses or gradients would overflow float64.

    With ``d`` inputs, ``ξ = max_n ||x_n||`` (the raw inputs, without the constant
    coordinate) and ``w_k = (u_k, β_k)`` (input weights and, with hidden biases, the bias),
    ``|w_k·x̃_n| <= ξ ||u_k|| + |β_k|`` bounds every pre-activation, so
    ``M = Σ_k (ξ ||u_k|| + |β_k|) ||a_k|| + max|b| + max|y|`` bounds every output error
    ``|f(x_n) − y_n|``; the loss is at most ``M²`` and each gradient entry at most ``M²``
    times the largest factor. The product ``ξ ||u_k||`` is what the pre-activations hold (the
    same function as ``X/c`` with ``u_k·c``), so ``X`` of ``1e-300`` with input weights of
    ``1e300`` is accepted, as is the same network at ``X`` of ``1``; only a bound ``M >=
    MAX_MAGNITUDE`` (or one that overflows) is refused, with one line naming the largest
    factor: ReLU verdicts are scale-covariant, so the caller can rescale (``X/c`` with input
    weights ``·c``, or ``y/c`` with output weights ``/c``) and classify the same point.
    Norms are bounded by ``max|entry| · sqrt(size)`` (no overflow of the squares).
    """
    d = X.shape[1]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        xi = (float(np.max(np.abs(X), initial=0.0)) if X.size else 0.0) * np.sqrt(d)
        u, beta = (w[:, :d], w[:, d]) if hidden_bias else (w, np.zeros(w.shape[0]))
        un = np.max(np.abs(u), axis=1, initial=0.0) * np.sqrt(max(d, 1))
        an = np.max(np.abs(a), axis=1, initial=0.0) * np.sqrt(a.shape[1])
        # ξ ||u_k|| as a product of the two (1e-300 · 1e300 = 1, no overflow on the way)
        pre_bound = xi * un + np.abs(beta)
        parts = {"X": xi,
                 "y": float(np.max(np.abs(Y), initial=0.0)),
                 "input weights": float(np.max(un, initial=0.0)),
                 "hidden biases": float(np.max(np.abs(beta), initial=0.0)),
                 "output weights": float(np.max(an, initial=0.0)),
                 "output bias": 0.0 if b is None else float(np.max(np.abs(b), initial=0.0))}
        # zero output weights contribute nothing, whatever the (finite) pre-activation bound
        terms = np.where(an > 0, pre_bound * an, 0.0)
        M = float(np.sum(terms)) + parts["output bias"] + parts["y"]
    if not np.isfinite(M) or M >= MAX_MAGNITUDE:
        worst = max(parts, key=lambda k: parts[k])
        raise ValidationError(
            f"the values are too large for a float64 certificate: the output errors may reach "
            f"{f'{M:.3g}' if np.isfinite(M) else 'beyond 1e308'} (largest: `{worst}` of size "
            f"{parts[worst]:.3g}; must stay below {MAX_MAGNITUDE:g}); rescale it (ReLU "
            f"verdicts are scale-covariant).")


def check_network(name, net):
    """Refuse anything but a :class:`~topoanalysis.network.Network` with one line."""
    if not isinstance(net, Network):
        raise ValidationError(f"`{name}` must be a topoanalysis Network; got "
                              f"{type(net).__name__}.")
    return net


def check_architecture(name, arch):
    """Refuse anything but an :class:`~topoanalysis.network.Architecture` with one line."""
    from ..network import Architecture

    if not isinstance(arch, Architecture):
        raise ValidationError(f"`{name}` must be a topoanalysis Architecture; got "
                              f"{type(arch).__name__}.")
    return arch


def check_labels(labels, n):
    """``None`` or a sequence of ``n`` labels (str or int) naming the networks of a stack."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__") or len(labels) != n:
        raise ValidationError(f"`labels` must be None or a sequence of {n} labels (one per "
                              f"network); got {labels!r:.60}.")
    out = []
    for lab in labels:
        if isinstance(lab, (str, int, np.integer)) and not isinstance(lab, (bool, np.bool_)):
            out.append(lab if isinstance(lab, str) else int(lab))
        else:
            raise ValidationError(f"`labels` must hold strings or integers; got {lab!r:.40}.")
    return out


#: Most networks, neurons or perturbations a critical-point call builds at once.
MAX_COUNT = 1_000_000


#: Largest ``n_perturbations × n_params`` of the perturbation check (floats held at once).
MAX_PERTURBATION_FLOATS = 50_000_000


def check_perturbations(n, n_params):
    """``n_perturbations`` as a positive int within the memory budget of the check."""
    from .._validation import check_int
    from ..exceptions import ResourceError

    n = check_int("n_perturbations", n, minimum=1)
    if n * n_params > MAX_PERTURBATION_FLOATS:
        raise ResourceError(
            f"`n_perturbations` must be at most {MAX_PERTURBATION_FLOATS // n_params} for this "
            f"network ({n_params} parameters, {MAX_PERTURBATION_FLOATS * 8 / 1e6:.0f} MB per "
            f"radius); got {n}.")
    return n


def check_bool(name, value):
    """A real boolean (``True``/``False``, NumPy's included), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"`{name}` must be True or False; got {value!r:.40}.")
    return bool(value)
