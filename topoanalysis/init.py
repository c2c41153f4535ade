"""Initialization schemes for the network model, all seeded.

Variances (``fan_in``/``fan_out`` are the input/output sizes of the layer, ``g`` the gain):

================== ===================================== ==========================================
scheme             weights                               notes
================== ===================================== ==========================================
``xavier_normal``  ``N(0, g² · 2 / (fan_in + fan_out))`` Glorot & Bengio; default ``g = 1`` (PyTorch)
``xavier_uniform`` ``U(±g · sqrt(6 / (fan_in+fan_out)))`` variance ``g² · 2/(fan_in+fan_out)``
``kaiming_normal`` ``N(0, g² / fan)``                    He et al.; ``fan = fan_in`` by default,
                                                         ``g`` the gain of the activation
``kaiming_uniform````U(±g · sqrt(3 / fan))``              variance ``g² / fan``
``pytorch``        ``U(±1 / sqrt(fan_in))``              ``nn.Linear`` default (variance
                                                         ``1/(3 fan_in)``); biases the same
``normal``         ``N(0, std²)``                        fixed ``std`` (e.g. vanishing init)
================== ===================================== ==========================================

Gains (:func:`gain`): relu ``√2``, leaky_relu ``√(2/(1+s²))``, tanh ``5/3``, linear, sigmoid
and abs ``1`` — PyTorch's ``calculate_gain`` (abs preserves the second moment, so ``1``).

With Xavier normal on a shallow net, ``σ₁² = 2/(d+l)`` and ``σ₂² = 2/(l+e)``; with Kaiming
normal (fan_in, ReLU gain) ``σ₁² = 2/d`` and ``σ₂² = 2/l``, as used by the obstruction paper.

Biases (``bias_init``): ``"zeros"`` (default), ``"same"`` (drawn from the layer's weight
distribution), ``"pytorch"`` (``U(±1/sqrt(fan_in))``), ``"normal"`` (``N(0, bias_std²)``).
"""

import numpy as np

from ._resources import check_memory
from ._validation import check_choice, check_float, check_int
from .exceptions import ValidationError

__all__ = ["SCHEMES", "BIAS_INITS", "gain", "layer_std", "init_params"]

SCHEMES = ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform",
           "pytorch", "normal")
BIAS_INITS = ("zeros", "same", "pytorch", "normal")


def gain(activation, negative_slope=0.01):
    """Recommended gain of an activation (PyTorch's ``calculate_gain``).

    Parameters
    ----------
    activation : str
        Activation name (spelling-insensitive).
    negative_slope : float, default=0.01
        Slope of leaky ReLU.

    Returns
    -------
    float
        The gain ``g``.

    See Also
    --------
    layer_std, init_params

    References
    ----------
    .. [1] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
           human-level performance on ImageNet classification", ICCV 2015: the gain √2 of
           ReLU.
    .. [2] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
           neural networks", AISTATS 2010: the variance-preserving scale.

    Examples
    --------
    >>> round(gain("relu"), 6)
    1.414214
    """
    from .activations import parse_activation

    activation, negative_slope = parse_activation(activation, negative_slope)
    if activation == "relu":
        return float(np.sqrt(2.0))
    if activation == "leaky_relu":
        return float(np.sqrt(2.0 / (1.0 + negative_slope ** 2)))
    if activation == "tanh":
        return 5.0 / 3.0
    return 1.0


def layer_std(scheme, fan_in, fan_out, *, gain_value=1.0, mode="fan_in", std=None):
    """Standard deviation of the weights of one layer under ``scheme``.

    Parameters
    ----------
    scheme : str
        One of :data:`SCHEMES`.
    fan_in, fan_out : int or ndarray of int
        Input and output sizes of the layer (integers >= 1; integer arrays work
        elementwise).
    gain_value : float, default=1.0
        Gain ``g``.
    mode : {"fan_in", "fan_out"}, default="fan_in"
        Fan of Kaiming schemes.
    std : float, optional
        Standard deviation for ``scheme="normal"`` (required there).

    Returns
    -------
    float
        Standard deviation of the layer's weights.

    Raises
    ------
    ValidationError
        A fan that is not an integer >= 1, a gain or ``std`` that is not a finite number
        >= 0, or ``std`` missing for ``scheme="normal"``.

    See Also
    --------
    gain, init_params

    References
    ----------
    .. [1] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
           neural networks", AISTATS 2010: Xavier initialization.
    .. [2] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
           human-level performance on ImageNet classification", ICCV 2015: Kaiming
           initialization.
    """
    scheme = check_choice("scheme", scheme, SCHEMES)
    mode = check_choice("mode", mode, ("fan_in", "fan_out"))
    fan_in = _check_fan("fan_in", fan_in)
    fan_out = _check_fan("fan_out", fan_out)
    gain_value = check_float("gain_value", gain_value, minimum=0.0)
    if scheme == "normal":
        if std is None:
            raise ValidationError("`std` must be given (a float >= 0) for scheme 'normal'; "
                                  "got None.")
        std = check_float("std", std, minimum=0.0)
    if scheme == "xavier_normal" or scheme == "xavier_uniform":
        return gain_value * np.sqrt(2.0 / (fan_in + fan_out))
    if scheme in ("kaiming_normal", "kaiming_uniform"):
        fan = fan_in if mode == "fan_in" else fan_out
        return gain_value / np.sqrt(fan)
    if scheme == "pytorch":
        return 1.0 / np.sqrt(3.0 * fan_in)
    return float(std)


def _check_fan(name, value):
    """A fan: an integer >= 1, or an integer array of them (grids of sizes, elementwise)."""
    if isinstance(value, np.ndarray) and value.ndim:
        if value.dtype.kind not in "iu" or value.size == 0 or np.any(value < 1):
            raise ValidationError(f"`{name}` must hold integers >= 1; got an array of dtype "
                                  f"{value.dtype} and shape {value.shape}"
                                  + (f", minimum {value.min()}." if value.size and
                                     value.dtype.kind in "iuf" else "."))
        return value
    return check_int(name, value, minimum=1)


def _draw(rng, scheme, shape, sd):
    if scheme.endswith("uniform") or scheme == "pytorch":
        bound = np.sqrt(3.0) * sd
        return rng.uniform(-bound, bound, size=shape)
    return sd * rng.standard_normal(shape)


def _is_architecture(arch):
    """``isinstance(arch, topoanalysis.network.Architecture)`` without importing network.py,
    which imports this module (no import circle): the class is recognized by its qualified
    name and its module."""
    return any(c.__name__ == "Architecture" and c.__module__ == "topoanalysis.network"
               for c in type(arch).__mro__)


def init_params(arch, scheme="kaiming_normal", *, seed=0, n_networks=None, gain_value=None,
                mode="fan_in", std=None, bias_init="zeros", bias_std=None):
    """Draw flat parameter vectors for ``arch``.

    Parameters
    ----------
    arch : Architecture
        Architecture of the networks.
    scheme : str, default="kaiming_normal"
        One of :data:`SCHEMES`.
    seed : int, default=0
        Network ``i`` of a batch uses the stream ``numpy.random.default_rng([seed, i])``,
        so a network does not depend on the batch size it was drawn in, and a single
        network (``n_networks=None``) equals network 0 of any batch with the same seed.
    n_networks : int or None
        ``None`` returns shape ``(P,)``; an int returns ``(n_networks, P)``.
    gain_value : float or None
        Gain; ``None`` uses 1 for Xavier and :func:`gain` of the activation for Kaiming.
    mode : {"fan_in", "fan_out"}
        Fan used by Kaiming schemes.
    std : float
        Standard deviation for ``scheme="normal"`` (required there).
    bias_init : str, default="zeros"
        One of :data:`BIAS_INITS`.
    bias_std : float
        Standard deviation for ``bias_init="normal"``.

    Returns
    -------
    ndarray of shape (P,) or (n_networks, P)
        Flat parameters in ``arch``'s layout, drawn from the scheme's law.

    See Also
    --------
    layer_std, topoanalysis.network.Network.initialize

    References
    ----------
    .. [1] X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward
           neural networks", AISTATS 2010: Xavier initialization.
    .. [2] K. He, X. Zhang, S. Ren, J. Sun, "Delving deep into rectifiers: surpassing
           human-level performance on ImageNet classification", ICCV 2015: Kaiming
           initialization.
    """
    if not _is_architecture(arch):
        raise ValidationError(f"`arch` must be an Architecture; got {type(arch).__name__}.")
    scheme = check_choice("scheme", scheme, SCHEMES)
    bias_init = check_choice("bias_init", bias_init, BIAS_INITS)
    mode = check_choice("mode", mode, ("fan_in", "fan_out"))
    seed = check_int("seed", seed, minimum=0)
    if scheme == "normal":
        if std is None:
            raise ValidationError("`std` must be given (a float > 0) for scheme 'normal'; got None.")
        std = check_float("std", std, minimum=0.0)
    if bias_init == "normal":
        if bias_std is None:
            raise ValidationError("`bias_std` must be given for bias_init 'normal'; got None.")
        bias_std = check_float("bias_std", bias_std, minimum=0.0)
    if gain_value is None:
        gain_value = 1.0 if scheme.startswith("xavier") else gain(arch.activation, arch.negative_slope)
    else:
        gain_value = check_float("gain_value", gain_value, minimum=0.0, strict_min=True)
    single = n_networks is None
    n = 1 if single else check_int("n_networks", n_networks, minimum=1)
    check_memory(8.0 * n * arch.n_params, f"an array of {n} networks × {arch.n_params} "
                 "parameters", param="n_networks")
    out = np.empty((n, arch.n_params))
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        for layer, (w_sl, b_sl) in enumerate(arch.layer_slices):
            fan_out, fan_in = arch.layer_shape(layer)
            sd = layer_std(scheme, fan_in, fan_out, gain_value=gain_value, mode=mode, std=std)
            out[i, w_sl] = _draw(rng, scheme, fan_in * fan_out, sd)
            if b_sl is not None:
                if bias_init == "zeros":
                    out[i, b_sl] = 0.0
                elif bias_init == "same":
                    out[i, b_sl] = _draw(rng, scheme, fan_out, sd)
                elif bias_init == "pytorch":
                    out[i, b_sl] = _draw(rng, "pytorch", fan_out, 1.0 / np.sqrt(3.0 * fan_in))
                else:
                    out[i, b_sl] = bias_std * rng.standard_normal(fan_out)
    _check_overflow(out, scheme, bias_init)
    return out[0] if single else out


def _check_overflow(out, scheme, bias_init):
    """Refuse parameters whose squares overflow float64 (every invariant would be NaN)."""
    with np.errstate(over="ignore", invalid="ignore"):
        ok = np.all(np.isfinite(out)) and np.isfinite(np.max(np.abs(out), initial=0.0) ** 2
                                                       * max(out.shape[-1], 1))
    if ok:
        return
    culprit = ("std" if scheme == "normal" else
               "bias_std" if bias_init == "normal" else "gain_value")
    big = np.max(np.abs(out[np.isfinite(out)]), initial=0.0)
    raise ValidationError(
        f"`{culprit}` is too large: the initial parameters reach {big:.3g} (or overflow), so "
        "their squares and the conserved quantities overflow float64; use a scale below "
        "about 1e150."
    )
