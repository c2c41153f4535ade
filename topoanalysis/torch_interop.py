"""Conversion between :class:`~topoanalysis.network.Network` and PyTorch modules.

PyTorch is an optional dependency: it is imported inside the functions, so
``import topoanalysis`` (and this module) works without it, and the functions that need it
raise :class:`ImportError` saying how to install it.

* :func:`to_torch` -- a :class:`Network` as a ``torch.nn.Sequential`` of ``nn.Linear`` layers
  and activation modules;
* :func:`from_torch` -- back from such a ``Sequential``, or from a ``state_dict`` of its
  linear layers.

The flat parameter layout of :mod:`topoanalysis.network` (per layer, ``W`` row-major of
shape ``(out, in)`` then its bias) is the order of ``module.parameters()``, so
``torch.nn.utils.parameters_to_vector(to_torch(net).parameters())`` equals ``net.params``
and ``vector_to_parameters`` writes a flat vector back.

Activation modules
------------------
``relu``: ``nn.ReLU``; ``leaky_relu``: ``nn.LeakyReLU(negative_slope)``; ``linear``:
``nn.Identity``; ``tanh``: ``nn.Tanh``; ``sigmoid``: ``nn.Sigmoid``; ``abs``: :class:`Abs`,
a parameter-free module defined here (available as ``topoanalysis.torch_interop.Abs`` once
PyTorch is installed).
"""

import numbers
from collections.abc import Mapping

import numpy as np

from .activations import parse_activation
from .exceptions import NotSupportedError, ShapeError, ValidationError
from .network import Network

# ``Abs`` is created lazily (it needs torch), so it stays out of ``__all__``: a star import
# must work without PyTorch.
__all__ = ["to_torch", "from_torch"]

_INSTALL_HINT = (
    "PyTorch is required for this function but is not installed; install it with "
    "`pip install torch` (or `pip install topoanalysis[torch]`)."
)


def _require_torch():
    """Import and return :mod:`torch`, or raise an informative :class:`ImportError`."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(_INSTALL_HINT) from exc
    return torch


def _make_abs_class():
    torch = _require_torch()

    class Abs(torch.nn.Module):
        """Elementwise absolute value, ``|z|`` (the ``"abs"`` activation)."""

        def forward(self, input):  # noqa: A002 - torch's argument name
            return torch.abs(input)

    Abs.__module__ = __name__
    Abs.__qualname__ = "Abs"
    return Abs


def __getattr__(name):
    # ``Abs`` subclasses torch.nn.Module, so it is created on first use (PEP 562) and then
    # cached as a module global: pickling a module that contains it finds the same class.
    if name == "Abs":
        cls = globals().get("_Abs")
        if cls is None:
            cls = _make_abs_class()
            globals()["_Abs"] = cls
            globals()["Abs"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _activation_module(nn, name, negative_slope):
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "linear":
        return nn.Identity()
    if name == "tanh":
        return nn.Tanh()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "abs":
        return __getattr__("Abs")()
    raise NotSupportedError(f"activation {name!r} has no PyTorch module here.")  # unreachable


def to_torch(net, dtype=None):
    """Build a ``torch.nn.Sequential`` that computes the same function as ``net``.

    Parameters
    ----------
    net : Network
        The network to convert.
    dtype : torch.dtype or None, default None
        Floating dtype of the parameters; ``None`` means ``torch.float64`` (exact copy of
        ``net.params``). A narrower dtype rounds the parameters.

    Returns
    -------
    torch.nn.Sequential
        ``Linear, act, Linear, act, ..., Linear``: one ``nn.Linear(in, out, bias=...)`` per
        affine layer with ``weight`` = ``W_i`` (shape ``(out, in)``) and ``bias`` = ``b_i``
        (``bias=False`` where the layer has none), and the activation module of
        ``net.arch.activation`` after every hidden layer (after the output layer only the
        output activation, when it is not linear).
        Parameters are fresh tensors with ``requires_grad=True``, on the CPU.

    Raises
    ------
    ImportError
        If PyTorch is not installed.
    ValidationError
        If ``net`` is not a :class:`Network`, ``dtype`` is not a floating torch dtype, or
        ``dtype`` is too narrow for the parameters (a value that would overflow to ``inf``
        in float16, bfloat16 or float32 is refused, not written as ``inf``).

    See Also
    --------
    from_torch

    Notes
    -----
    ``parameters_to_vector(module.parameters())`` reproduces the flat layout of
    ``net.params``. Cost ``O(P)``.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> from topoanalysis.torch_interop import to_torch
    >>> net = Network.initialize(Architecture(2, (3,), 1), seed=0)
    >>> module = to_torch(net)  # doctest: +SKIP
    >>> module  # doctest: +SKIP
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    """
    torch = _require_torch()
    if not isinstance(net, Network):
        raise ValidationError(f"`net` must be a topoanalysis Network; got {type(net).__name__}.")
    if dtype is None:
        dtype = torch.float64
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValidationError(
            f"`dtype` must be a floating torch dtype such as torch.float64; got {dtype!r}."
        )
    nn = torch.nn
    arch = net.arch
    layers = []
    weights, biases = net.weights, net.biases
    for i, (W, b) in enumerate(zip(weights, biases)):
        out_features, in_features = W.shape
        linear = nn.Linear(in_features, out_features, bias=b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.array(W, dtype=np.float64)))
            if b is not None:
                linear.bias.copy_(torch.from_numpy(np.array(b, dtype=np.float64)))
        if not (bool(torch.isfinite(linear.weight).all())
                and (b is None or bool(torch.isfinite(linear.bias).all()))):
            big = max(float(np.max(np.abs(W), initial=0.0)),
                      0.0 if b is None else float(np.max(np.abs(b), initial=0.0)))
            raise ValidationError(
                f"`dtype` {dtype} cannot hold the parameters of layer {i}: values up to "
                f"{big:.3g} overflow to inf (largest finite {torch.finfo(dtype).max:.3g}); use "
                "torch.float64 or rescale the network."
            )
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(_activation_module(nn, arch.activation, arch.negative_slope))
    if arch.output_activation != "linear":      # Architecture.output_activation
        layers.append(_activation_module(nn, arch.output_activation, 0.01))
    return nn.Sequential(*layers)


def _activation_of(module, nn):
    """``(name, negative_slope)`` of a supported activation module, else ``None``."""
    kind = type(module)
    if kind is nn.ReLU:
        return ("relu", None)
    if kind is nn.LeakyReLU:
        return ("leaky_relu", float(module.negative_slope))
    if kind is nn.Identity:
        return ("linear", None)
    if kind is nn.Tanh:
        return ("tanh", None)
    if kind is nn.Sigmoid:
        return ("sigmoid", None)
    if kind is globals().get("_Abs"):
        return ("abs", None)
    return None


def _flatten_sequential(module, nn, prefix=""):
    """Yield ``(name, submodule)`` of a Sequential, descending into nested Sequentials."""
    for name, child in module.named_children():
        full = f"{prefix}{name}"
        if type(child) is nn.Sequential:
            yield from _flatten_sequential(child, nn, prefix=f"{full}.")
        else:
            yield full, child


def _tensor_to_numpy(value, name):
    """A tensor or array-like as a float64 NumPy array (copied, detached, on the CPU).

    Only real numbers are taken: complex values (whose imaginary part a cast would drop),
    booleans and strings (which NumPy would otherwise read as numbers) are refused, and so is
    a tensor on the ``meta`` device, which holds shapes but no values."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and type(value).__module__.startswith(
        "torch"
    ):
        torch = _require_torch()
        if not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
            raise ValidationError(
                f"`{name}` must be a real floating tensor; got dtype {value.dtype}."
            )
        if value.device.type == "meta":
            raise ValidationError(
                f"`{name}` must hold values; got a tensor on the 'meta' device (shapes only): "
                "materialize the module first (e.g. module.to_empty(device='cpu') and load "
                "its weights)."
            )
        value = value.detach().to(device="cpu", dtype=torch.float64).numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"`{name}` must be a tensor or array of real numbers; got "
            f"{type(value).__name__} ({exc}).".replace("\n", " ")
        ) from None
    if arr.dtype.kind == "O" and arr.size and all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
            for v in arr.flat):
        arr = arr.astype(np.float64)            # e.g. Fractions or Decimals: real numbers
    if arr.dtype.kind not in "iuf":
        what = {"c": "complex numbers (the imaginary part would be dropped)", "b": "booleans",
                "U": "strings", "S": "bytes", "O": "Python objects or a ragged nesting"}.get(
                    arr.dtype.kind, f"dtype {arr.dtype}")
        raise ValidationError(
            f"`{name}` must be a tensor or array of real numbers; got {what}."
        )
    with np.errstate(over="ignore"):
        arr = arr.astype(np.float64)            # a long double beyond float64 becomes inf
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"`{name}` must contain only finite numbers.")
    return arr


def _layers_from_sequential(module, torch):
    """Weights, biases and the common activation of a Sequential of Linear + activations."""
    nn = torch.nn
    if type(module) is not nn.Sequential:
        raise NotSupportedError(
            "`module_or_state_dict` must be a torch.nn.Sequential of nn.Linear and activation "
            f"layers, or a state_dict; got a {type(module).__name__} module (pass "
            "module.state_dict() with activation=... instead)."
        )
    children = list(_flatten_sequential(module, nn))
    weights, biases, found = [], [], []
    expect_linear = True
    for name, child in children:
        if type(child) is nn.Linear:
            if not expect_linear:
                raise ValidationError(
                    f"layer {name!r} ({child}) follows another nn.Linear directly: put exactly "
                    "one activation module between consecutive Linear layers (nn.Identity() "
                    "for a linear network)."
                )
            weights.append(_tensor_to_numpy(child.weight, f"{name}.weight"))
            biases.append(None if child.bias is None
                          else _tensor_to_numpy(child.bias, f"{name}.bias"))
            if len(weights) > 1 and weights[-1].shape[1] != weights[-2].shape[0]:
                raise ShapeError(
                    f"layer {name!r} ({child}) must have in_features = "
                    f"{weights[-2].shape[0]} to follow the previous Linear layer; got "
                    f"{weights[-1].shape[1]}."
                )
            expect_linear = False
            continue
        activation = _activation_of(child, nn)
        if activation is None:
            raise NotSupportedError(
                f"layer {name!r} ({child}) is not supported: a Sequential may hold only "
                "nn.Linear and the activations nn.ReLU, nn.LeakyReLU, nn.Identity, nn.Tanh, "
                "nn.Sigmoid and topoanalysis.torch_interop.Abs."
            )
        if expect_linear:
            where = "starts with" if not weights else "has two activations in a row at"
            raise ValidationError(
                f"the Sequential {where} layer {name!r} ({child}): activations must sit "
                "between nn.Linear layers."
            )
        found.append((name, child, activation))
        expect_linear = True
    if not weights:
        raise ValidationError("the Sequential holds no nn.Linear layer.")
    output = "linear"
    if expect_linear:
        name, child, (kind, _) = found[-1]
        if kind != "sigmoid":
            raise NotSupportedError(
                f"layer {name!r} ({child}) is an output activation other than nn.Sigmoid, "
                "which a Network does not have (its output unit is affine or a sigmoid): "
                "drop it and apply it in the loss."
            )
        output = "sigmoid"      # the output unit to_torch writes for output_activation
        found = found[:-1]
    if len(weights) < 2:
        raise NotSupportedError(
            "the Sequential must hold at least 2 nn.Linear layers (a Network has a hidden "
            f"layer); got {len(weights)}."
        )
    first_name, first_child, first = found[0]
    for name, child, activation in found[1:]:
        if activation != first:
            raise NotSupportedError(
                f"mixed activations are not supported: layer {first_name!r} is {first_child} "
                f"but layer {name!r} is {child}."
            )
    return weights, biases, first, output


def _layers_from_state_dict(state):
    """Weights and biases of the Linear layers of a ``state_dict`` (in key order)."""
    groups = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise ValidationError(f"state_dict keys must be strings; got {key!r}.")
        prefix, _, leaf = key.rpartition(".")
        if leaf not in ("weight", "bias"):
            raise NotSupportedError(
                f"state_dict entry {key!r} is not the weight or bias of a Linear layer; only "
                "networks of nn.Linear layers are supported."
            )
        slot = groups.setdefault(prefix, {})
        slot[leaf] = (key, value)
    weights, biases = [], []
    for prefix, slot in groups.items():
        label = prefix or "<root>"
        if "weight" not in slot:
            raise ValidationError(f"state_dict layer {label!r} has a bias but no weight.")
        key, value = slot["weight"]
        W = _tensor_to_numpy(value, key)
        if W.ndim != 2:
            raise ShapeError(
                f"state_dict entry {key!r} must be a 2-D Linear weight (out, in); "
                f"got shape {W.shape}."
            )
        b = None
        if "bias" in slot:
            bkey, bvalue = slot["bias"]
            b = _tensor_to_numpy(bvalue, bkey)
            if b.shape != (W.shape[0],):
                raise ShapeError(
                    f"state_dict entry {bkey!r} must have shape ({W.shape[0]},) to match "
                    f"{key!r}; got shape {b.shape}."
                )
        if weights and W.shape[1] != weights[-1].shape[0]:
            raise ShapeError(
                f"state_dict entry {key!r} must have {weights[-1].shape[0]} columns to follow "
                f"the previous layer; got shape {W.shape}."
            )
        weights.append(W)
        biases.append(b)
    if len(weights) < 2:
        raise NotSupportedError(
            "the state_dict must hold at least 2 Linear layers (a Network has a hidden "
            f"layer); got {len(weights)}."
        )
    return weights, biases


def from_torch(module_or_state_dict, *, activation=None, negative_slope=None):
    """Build a :class:`Network` from a PyTorch ``Sequential`` or a ``state_dict``.

    Parameters
    ----------
    module_or_state_dict : torch.nn.Sequential or Mapping
        Either a ``Sequential`` alternating ``nn.Linear`` layers and activation modules
        (``Linear, act, Linear, ..., Linear``; nested ``Sequential`` containers are
        flattened; every activation module must be of the same kind), or a ``state_dict``
        (any mapping) whose keys are ``<prefix>.weight`` / ``<prefix>.bias`` of linear
        layers, taken in key order (the order ``state_dict()`` produces). The values may be
        tensors (any device but ``meta``, any real dtype; converted to float64) or NumPy
        arrays of real numbers (complex, boolean and string arrays are refused).
    activation : str or None, default None
        Required for a ``state_dict``: one of ``relu``, ``leaky_relu``, ``linear``,
        ``tanh``, ``sigmoid``, ``abs`` (or ``"leaky_relu(slope)"``). For a ``Sequential``
        the activation is read from its modules; if given it must agree.
    negative_slope : float or None, default None
        Leaky ReLU slope for a ``state_dict`` (default 0.01). For a ``Sequential`` the
        slope of its ``nn.LeakyReLU`` modules is used; if given it must agree.

    Returns
    -------
    Network
        With weights and biases copied as float64; hidden bias flags must be the same for
        all hidden layers.

    Raises
    ------
    ImportError
        If a ``torch.nn.Module`` path is taken and PyTorch is not installed.
    NotSupportedError
        Unsupported layers (named in the message), an output activation other than a
        trailing ``nn.Sigmoid`` (read as ``output_activation="sigmoid"``, what
        :func:`to_torch` writes), mixed activations, a module that is not a ``Sequential``,
        or fewer than 2 linear layers.
    ValidationError, ShapeError
        Missing ``activation`` for a ``state_dict``, disagreeing ``activation``, shapes that
        do not chain, non-finite or non-real parameters.

    See Also
    --------
    to_torch

    Notes
    -----
    A ``state_dict`` made of NumPy arrays needs no PyTorch. Cost ``O(P)``.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis.torch_interop import from_torch
    >>> state = {"0.weight": np.ones((3, 2)), "0.bias": np.zeros(3),
    ...          "2.weight": np.ones((1, 3)), "2.bias": np.zeros(1)}
    >>> net = from_torch(state, activation="relu")
    >>> net
    Network(d=2, hidden=(3,), e=1, activation='relu', hidden_bias=True, output_bias=True)
    >>> net.forward(np.array([[1.0, -3.0]])).tolist()
    [[0.0]]
    """
    if isinstance(module_or_state_dict, Mapping):
        if activation is None:
            raise ValidationError(
                "`activation` must be given with a state_dict (it holds no activation "
                "layers), one of relu, leaky_relu, linear, tanh, sigmoid, abs; got None."
            )
        weights, biases = _layers_from_state_dict(module_or_state_dict)
        output = "linear"
        name, slope = parse_activation(
            activation, 0.01 if negative_slope is None else negative_slope
        )
        source = "state_dict"
    else:
        torch = _require_torch()
        if not isinstance(module_or_state_dict, torch.nn.Module):
            raise ValidationError(
                "`module_or_state_dict` must be a torch.nn.Sequential or a state_dict "
                f"mapping; got {type(module_or_state_dict).__name__}."
            )
        weights, biases, (name, slope), output = _layers_from_sequential(module_or_state_dict,
                                                                          torch)
        if name == "leaky_relu":
            if negative_slope is not None and negative_slope != slope:
                raise ValidationError(
                    "`negative_slope` must agree with the module's nn.LeakyReLU slope "
                    f"({slope}); got {negative_slope!r}."
                )
        else:
            # The slope plays no role; keep the caller's value (default 0.01) for the
            # Architecture.
            _, slope = parse_activation(name, 0.01 if negative_slope is None else negative_slope)
        if activation is not None:
            given, given_slope = parse_activation(activation, slope)
            if given != name or (name == "leaky_relu" and given_slope != slope):
                shown = name if name != "leaky_relu" else f"leaky_relu({slope})"
                raise ValidationError(
                    f"`activation` must agree with the module's activation layers ({shown}); "
                    f"got {activation!r}."
                )
        source = "Sequential"
    hidden_flags = {b is not None for b in biases[:-1]}
    if len(hidden_flags) > 1:
        raise NotSupportedError(
            f"the {source}'s hidden Linear layers must all have a bias or all have none; got "
            f"bias flags {[b is not None for b in biases[:-1]]}."
        )
    return Network.from_weights(weights, biases, activation=name, negative_slope=slope,
                                output_activation=output)
