"""Activation functions of the network model and their derivatives (NumPy reference).

Names accepted everywhere: ``"relu"``, ``"leaky_relu"`` (slope given separately or as
``"leaky_relu(0.1)"``), ``"linear"``, ``"tanh"``, ``"sigmoid"``, ``"abs"``.
"""

import re

import numpy as np

from ._validation import check_float, normalize_name
from .exceptions import ValidationError

__all__ = [
    "ACTIVATIONS",
    "HOMOGENEOUS_ACTIVATIONS",
    "parse_activation",
    "activate",
    "activation_derivative",
    "activation_code",
    "is_positively_homogeneous",
]

ACTIVATIONS = ("relu", "leaky_relu", "linear", "tanh", "sigmoid", "abs")
#: Activations with ``σ(αz) = ασ(z)`` for ``α > 0`` (neuron rescaling is a symmetry).
HOMOGENEOUS_ACTIVATIONS = ("relu", "leaky_relu", "linear", "abs")

_LEAKY = re.compile(r"^\s*leaky[_-]relu\s*\(\s*([^)]+)\s*\)\s*$", re.IGNORECASE)


def parse_activation(activation, negative_slope=0.01):
    """Split an activation spec into ``(name, negative_slope)``.

    Parameters
    ----------
    activation : str
        One of :data:`ACTIVATIONS`, or ``"leaky_relu(s)"`` with an explicit slope.
    negative_slope : float, default=0.01
        Slope of leaky ReLU for negative inputs (ignored for other activations).

    Returns
    -------
    name : str
        The canonical activation name (one of :data:`ACTIVATIONS`).
    negative_slope : float
        The leaky-ReLU slope: the one written in ``"leaky_relu(s)"`` if any, else the
        ``negative_slope`` argument.

    See Also
    --------
    activate, activation_code

    Examples
    --------
    >>> parse_activation("leaky_relu(0.2)")
    ('leaky_relu', 0.2)
    >>> parse_activation("relu")
    ('relu', 0.01)
    """
    if not isinstance(activation, str):
        raise ValidationError(
            f"`activation` must be a string, one of {', '.join(ACTIVATIONS)}; "
            f"got {activation!r}."
        )
    match = _LEAKY.match(activation)
    if match:
        try:
            slope = float(match.group(1))
        except ValueError:
            raise ValidationError(
                f"`activation` slope in {activation!r} must be a number."
            ) from None
        name = "leaky_relu"
    else:
        name = normalize_name(activation)
        slope = negative_slope
    if name not in ACTIVATIONS:
        raise ValidationError(
            f"`activation` must be one of {', '.join(ACTIVATIONS)} "
            f"(or 'leaky_relu(slope)'); got {activation!r}."
        )
    slope = check_float("negative_slope", slope)
    return name, slope


def is_positively_homogeneous(name):
    """Whether ``σ(αz) = ασ(z)`` for all ``α > 0`` (so neuron rescaling is a symmetry).

    Parameters
    ----------
    name : str
        Activation, one of :data:`ACTIVATIONS`.

    Returns
    -------
    bool
        Whether ``σ(αz) = ασ(z)`` for all ``α > 0``.

    See Also
    --------
    activate, topoanalysis.symbolic.conserved_quadratic_forms

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: positive homogeneity makes neuron
           rescaling a symmetry and conserves c_k.
    .. [2] S. S. Du, W. Hu, J. D. Lee, "Algorithmic regularization in learning deep
           homogeneous models: layers are automatically balanced", NeurIPS 2018: the balance
           ``||w_k||² − ||a_k||²`` is conserved by gradient flow of homogeneous networks.
    """
    return parse_activation(name)[0] in HOMOGENEOUS_ACTIVATIONS


def activation_code(name):
    """Integer code of an activation in the compiled engine.

    The codes are defined once, in ``ext/codes.h``, and read here from the engine's table
    ``ACTIVATION_CODES`` (not from positions in :data:`ACTIVATIONS`).

    Parameters
    ----------
    name : str
        Activation, one of :data:`ACTIVATIONS`.

    Returns
    -------
    int
        Its code in the compiled engine.

    See Also
    --------
    parse_activation, topoanalysis.losses.loss_code
    """
    from ._kernels.engine import ACTIVATION_CODES

    return ACTIVATION_CODES[parse_activation(name)[0]]


def activate(name, z, negative_slope=0.01):
    """Apply the activation elementwise (NumPy reference).

    Parameters
    ----------
    name : str
        Activation, one of :data:`ACTIVATIONS` (canonical spelling).
    z : ndarray
        Pre-activations.
    negative_slope : float, default=0.01
        Slope of leaky ReLU for negative inputs.

    Returns
    -------
    ndarray
        ``σ(z)``, same shape as ``z``.

    See Also
    --------
    activation_derivative, is_positively_homogeneous
    """
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, negative_slope * z)
    if name == "linear":
        return np.array(z, dtype=np.float64, copy=True)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "abs":
        return np.abs(z)
    raise ValidationError(f"`activation` must be one of {', '.join(ACTIVATIONS)}; got {name!r}.")


def activation_derivative(name, z, negative_slope=0.01):
    """Derivative of the activation at ``z``; at the kink of ReLU-like functions the
    derivative from the right is used for ``z > 0`` only (``σ'(0) = 0`` for ReLU,
    ``negative_slope`` for leaky ReLU, ``0`` for abs), as in PyTorch.

    Parameters
    ----------
    name : str
        Activation, one of :data:`ACTIVATIONS` (canonical spelling).
    z : ndarray
        Pre-activations.
    negative_slope : float, default=0.01
        Slope of leaky ReLU for negative inputs.

    Returns
    -------
    ndarray
        ``σ'(z)`` (at a kink, the convention of the engine), same shape as ``z``.

    See Also
    --------
    activate
    """
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, negative_slope)
    if name == "linear":
        return np.ones_like(z, dtype=np.float64)
    if name == "tanh":
        t = np.tanh(z)
        return 1.0 - t * t
    if name == "sigmoid":
        s = _sigmoid(z)
        return s * (1.0 - s)
    if name == "abs":
        return np.sign(z).astype(np.float64)
    raise ValidationError(f"`activation` must be one of {', '.join(ACTIVATIONS)}; got {name!r}.")


def _sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out
