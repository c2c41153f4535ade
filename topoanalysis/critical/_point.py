"""One shallow network at one data set, in the paper's variables (internal).

The critical-point modules all work on the same object: the augmented inputs
``x̃_n = (x_n, 1)`` (the constant only when the network has hidden biases), the per-neuron
input weights ``w_k`` (bias appended) and output weights ``a_k`` (the paper's ``h_k``), the
output bias ``b`` when present, and the residual ``r_n = ∂L/∂f(x_n)`` of the loss in the
network's outputs. :func:`shallow_point` is the one boundary that validates a
:class:`~topoanalysis.network.Network` and data for them.
"""

import dataclasses

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

    @property
    def pre(self):
        """Pre-activations ``w_k · x̃_n``, shape ``(N, l)``."""
        return self.Xa @ self.w.T

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
    return ShallowPoint(net=net, X=X, Y=Y, Xa=augment(arch, X), w=w, a=a, b=b, alpha=float(alpha),
                        loss=loss)


def check_tol(name, value):
    return check_float(name, value, minimum=0.0)
