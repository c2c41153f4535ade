"""The parameter model shared by every layer of topoanalysis.

A fully connected network ``x -> ρ(W_L σ(… σ(W_1 x + b_1) …) + b_L)`` of any depth is described
by an :class:`Architecture` (sizes, bias flags, hidden activation ``σ``, output activation ``ρ``,
the identity by default) and a flat parameter vector.

Flat layout
-----------
For each layer ``i`` in order (``sizes = (d, *hidden, e)``, layer ``i`` maps
``sizes[i] -> sizes[i+1]``): the weight matrix ``W_i`` of shape ``(out, in)`` in row-major
order (the convention of ``torch.nn.Linear``), immediately followed by its bias ``b_i`` of
shape ``(out,)`` when the layer has one (hidden layers: ``hidden_bias``; last layer:
``output_bias``). Many networks of one architecture stack into a ``(B, P)`` array.

For a shallow network (one hidden layer of width ``l``) neuron ``k`` has input weights
``w_k = (W_1[k], b_1[k])`` (bias appended when present) and output weights
``a_k = W_2[:, k]``; its conserved quantity is ``c_k = ||w_k||² − ||a_k||²``.
"""

import dataclasses

import numpy as np

from . import activations as _act
from . import losses as _losses
from ._files import _NETWORK_KEYS, FileError, _describe, _npz_name, _real_array, load_npz, save_npz
from ._validation import check_array, check_choice, check_int
from .exceptions import NotSupportedError, ShapeError, ValidationError
from .init import init_params

__all__ = ["Architecture", "Network", "forward", "loss_and_gradient", "OUTPUT_ACTIVATIONS"]

#: Output activations of :class:`Architecture` (``"linear"``: the identity).
OUTPUT_ACTIVATIONS = ("linear", "sigmoid")


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Sizes, bias flags and activation of a fully connected network.

    Parameters
    ----------
    inputs : int
        Input dimension ``d >= 1``.
    hidden : tuple of int
        Hidden widths (one entry per hidden layer, each ``>= 1``); an int means one layer.
    outputs : int
        Output dimension ``e >= 1``.
    hidden_bias, output_bias : bool, default=True
        Whether hidden layers / the output layer have biases.
    activation : str, default="relu"
        One of ``relu``, ``leaky_relu``, ``linear``, ``tanh``, ``sigmoid``, ``abs``; also
        ``"leaky_relu(s)"``.
    negative_slope : float, default=0.01
        Leaky ReLU slope.
    output_activation : {"linear", "sigmoid"}, default="linear"
        Activation ``ρ`` of the output units: ``"linear"`` (the identity, the usual
        regression/logit output) or ``"sigmoid"`` (the output unit of Freeman & Bruna's
        quadratic-regression network; losses are then taken on ``sigmoid(o)``).

    Examples
    --------
    >>> arch = Architecture(inputs=3, hidden=(4,), outputs=1)
    >>> arch.n_params
    21
    >>> arch.sizes
    (3, 4, 1)
    """

    inputs: int
    hidden: tuple
    outputs: int
    hidden_bias: bool = True
    output_bias: bool = True
    activation: str = "relu"
    negative_slope: float = 0.01
    output_activation: str = "linear"

    def __post_init__(self):
        hidden = self.hidden
        if isinstance(hidden, (int, np.integer)) and not isinstance(hidden, bool):
            hidden = (hidden,)
        try:
            hidden = tuple(hidden)
        except TypeError:
            raise ValidationError(
                f"`hidden` must be a tuple of positive integers; got {self.hidden!r}."
            ) from None
        if len(hidden) == 0:
            raise ValidationError("`hidden` must contain at least one hidden width; got ().")
        hidden = tuple(check_int("hidden", h, minimum=1) for h in hidden)
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "inputs", check_int("inputs", self.inputs, minimum=1))
        object.__setattr__(self, "outputs", check_int("outputs", self.outputs, minimum=1))
        for flag in ("hidden_bias", "output_bias"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise ValidationError(f"`{flag}` must be True or False; got {getattr(self, flag)!r}.")
            object.__setattr__(self, flag, bool(getattr(self, flag)))
        name, slope = _act.parse_activation(self.activation, self.negative_slope)
        if name != "leaky_relu":
            slope = 0.01  # irrelevant for other activations; keep equality meaningful
        object.__setattr__(self, "activation", name)
        object.__setattr__(self, "negative_slope", slope)
        object.__setattr__(self, "output_activation",
                           check_choice("output_activation", self.output_activation,
                                        OUTPUT_ACTIVATIONS))

    # --- layout -------------------------------------------------------------------------
    @property
    def sizes(self):
        """``(d, *hidden, e)``."""
        return (self.inputs, *self.hidden, self.outputs)

    @property
    def n_layers(self):
        """Number of affine layers (hidden layers + 1)."""
        return len(self.hidden) + 1

    @property
    def is_shallow(self):
        """True for one hidden layer."""
        return len(self.hidden) == 1

    def has_bias(self, layer):
        """Whether affine layer ``layer`` has a bias.

        Parameters
        ----------
        layer : int
            Index of the affine layer (0 … ``n_layers − 1``).

        Returns
        -------
        bool
            Whether it has a bias.
        """
        return self.output_bias if layer == self.n_layers - 1 else self.hidden_bias

    def layer_shape(self, layer):
        """``(out, in)`` of the weight matrix of affine layer ``layer``.

        Parameters
        ----------
        layer : int
            Index of the affine layer.

        Returns
        -------
        tuple of int
            ``(out, in)``.
        """
        return (self.sizes[layer + 1], self.sizes[layer])

    @property
    def layer_slices(self):
        """List of ``(weight_slice, bias_slice_or_None)`` into the flat vector."""
        out, pos = [], 0
        for i in range(self.n_layers):
            o, n_in = self.layer_shape(i)
            w = slice(pos, pos + o * n_in)
            pos += o * n_in
            b = None
            if self.has_bias(i):
                b = slice(pos, pos + o)
                pos += o
            out.append((w, b))
        return out

    @property
    def n_params(self):
        """Length ``P`` of the flat parameter vector."""
        last = self.layer_slices[-1]
        return (last[1] or last[0]).stop

    def unpack(self, theta):
        """Split flat parameters into ``[(W_i, b_i or None), ...]`` (views, no copy).

        ``theta`` may have leading batch dimensions: shape ``(..., P)`` gives ``W_i`` of shape
        ``(..., out, in)``.

        Parameters
        ----------
        theta : array_like of shape (..., P)
            Flat parameters.

        Returns
        -------
        list of tuple
            ``(W_i, b_i)`` per layer, ``b_i`` None without bias.
        """
        theta = np.asarray(theta)
        if theta.shape[-1:] != (self.n_params,):
            raise ShapeError(
                f"`theta` must have last dimension {self.n_params} (the number of parameters "
                f"of {self}); got shape {theta.shape}."
            )
        lead = theta.shape[:-1]
        layers = []
        for i, (w, b) in enumerate(self.layer_slices):
            W = theta[..., w].reshape(lead + self.layer_shape(i))
            layers.append((W, None if b is None else theta[..., b]))
        return layers

    def neuron_weights(self, theta):
        """Per-neuron ``(w, a, b)`` of flat parameters of a shallow architecture.

        The one implementation of the paper's per-neuron variables (critical points,
        degeneracy): ``w_k`` the input weights with the hidden bias appended, ``a_k`` the
        output weights, ``b`` the output bias.

        Parameters
        ----------
        theta : array_like of shape (P,)
            Flat parameters in this architecture's layout.

        Returns
        -------
        w : ndarray of shape (l, d) or (l, d + 1)
            Input weights of each neuron (bias appended when the hidden layer has biases).
        a : ndarray of shape (l, e)
            Output weights of each neuron (columns of ``W_2``).
        b : ndarray of shape (e,) or None
            Output bias.

        See Also
        --------
        from_neuron_weights : The inverse.
        Network.neuron_weights : The same for a network (without ``b``).
        """
        if not self.is_shallow:
            raise NotSupportedError(f"neuron_weights is defined for shallow networks (one "
                                    f"hidden layer); this one has hidden widths {self.hidden}.")
        (W1, b1), (W2, b2) = self.unpack(np.asarray(theta, dtype=np.float64))
        w = W1 if b1 is None else np.concatenate([W1, b1[..., None]], axis=-1)
        return np.array(w), np.array(np.swapaxes(W2, -1, -2)), (None if b2 is None
                                                                 else np.array(b2))

    def from_neuron_weights(self, w, a, b=None):
        """Flat parameters from per-neuron ``(w, a, b)``: the inverse of :meth:`neuron_weights`.

        Parameters
        ----------
        w : array_like of shape (l, d) or (l, d + 1)
            Input weights (the last column is the hidden bias when the layer has biases).
        a : array_like of shape (l, e)
            Output weights.
        b : array_like of shape (e,), optional
            Output bias (zeros when omitted and the architecture has one).

        Returns
        -------
        ndarray of shape (P,)
            Flat parameters in this architecture's layout.
        """
        d = self.inputs
        w = np.asarray(w, dtype=np.float64)
        b1 = w[:, d] if self.hidden_bias else None
        b2 = (np.zeros(self.outputs) if b is None else b) if self.output_bias else None
        return self.pack([w[:, :d], np.asarray(a, dtype=np.float64).T], [b1, b2])

    def pack(self, weights, biases=None):
        """Inverse of :meth:`unpack`: ``weights[i]`` of shape ``(..., out, in)``.

        Parameters
        ----------
        weights : sequence of array_like
            One ``(..., out, in)`` matrix per layer.
        biases : sequence of array_like or None, optional
            One bias per layer (None where the layer has none).

        Returns
        -------
        ndarray of shape (..., P)
            Flat parameters.
        """
        if len(weights) != self.n_layers:
            raise ShapeError(f"`weights` must hold {self.n_layers} matrices; got {len(weights)}.")
        biases = [None] * self.n_layers if biases is None else list(biases)
        if len(biases) != self.n_layers:
            raise ShapeError(f"`biases` must hold {self.n_layers} entries; got {len(biases)}.")
        lead = np.shape(weights[0])[:-2]
        theta = np.zeros(lead + (self.n_params,))
        for i, (w, b) in enumerate(self.layer_slices):
            W = np.asarray(weights[i], dtype=np.float64)
            if W.shape != lead + self.layer_shape(i):
                raise ShapeError(
                    f"`weights[{i}]` must have shape {lead + self.layer_shape(i)}; got {W.shape}."
                )
            theta[..., w] = W.reshape(lead + (-1,))
            if b is not None:
                if biases[i] is None:
                    raise ValidationError(f"`biases[{i}]` is required: layer {i} has a bias.")
                B = np.asarray(biases[i], dtype=np.float64)
                if B.shape != lead + (self.layer_shape(i)[0],):
                    raise ShapeError(
                        f"`biases[{i}]` must have shape {lead + (self.layer_shape(i)[0],)}; "
                        f"got {B.shape}."
                    )
                theta[..., b] = B
            elif biases[i] is not None and np.any(np.asarray(biases[i]) != 0):
                raise ValidationError(f"`biases[{i}]` must be None: layer {i} has no bias.")
        return theta

    def check_params(self, theta, name="theta", batch=None):
        """Validate a flat parameter vector (``batch=False``), stack (``True``) or either.

        Parameters
        ----------
        theta : array_like
            Flat parameters.
        name : str, default="theta"
            Name of the argument, for error messages.
        batch : bool or None, optional
            ``False``: one vector ``(P,)``; ``True``: a stack ``(B, P)``; None: either.

        Returns
        -------
        ndarray
            The parameters as float64, C-contiguous.
        """
        ndim = {None: (1, 2), False: 1, True: 2}[batch]
        arr = check_array(name, theta, ndim=ndim)
        if arr.shape[-1] != self.n_params:
            raise ShapeError(
                f"`{name}` must have last dimension {self.n_params} (parameters of this "
                f"architecture); got shape {arr.shape}."
            )
        return arr

    def check_inputs(self, X, name="X"):
        """Validate data ``X`` of shape ``(N, d)``.

        Parameters
        ----------
        X : array_like of shape (N, d)
            Inputs.
        name : str, default="X"
            Name of the argument, for error messages.

        Returns
        -------
        ndarray of shape (N, d)
            The inputs as float64.
        """
        X = check_array(name, X, ndim=2)
        if X.shape[1] != self.inputs:
            raise ShapeError(f"`{name}` must have shape (N, {self.inputs}); got shape {X.shape}.")
        if X.shape[0] < 1:
            raise ShapeError(f"`{name}` must hold at least one sample; got shape {X.shape}.")
        return X

    @property
    def neuron_count(self):
        """Total number of hidden neurons."""
        return sum(self.hidden)

    def to_dict(self):
        """Plain data (``hidden`` as a list); :meth:`from_dict` is its inverse.

        Returns
        -------
        dict
            The architecture's fields, JSON-serializable.
        """
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            As written by :meth:`to_dict`.

        Returns
        -------
        Architecture
            The architecture the dict describes.
        """
        d = dict(d)
        d["hidden"] = tuple(d["hidden"])
        d.setdefault("output_activation", "linear")   # dicts written before the option
        return cls(**d)

    def summary(self):
        """One line: sizes, activation and biases.

        Returns
        -------
        str
            For example ``"2 -> 6 -> 1, relu, hidden_bias=True, output_bias=True (25
            parameters)"``.
        """
        act = (f"leaky_relu({self.negative_slope})" if self.activation == "leaky_relu"
               else self.activation)
        out = "" if self.output_activation == "linear" else f", {self.output_activation} output"
        return (f"{self.inputs} -> {' -> '.join(map(str, self.hidden))} -> {self.outputs}, "
                f"{act}{out}, hidden_bias={self.hidden_bias}, output_bias={self.output_bias} "
                f"({self.n_params} parameters)")


# --- NumPy reference forward / backward (any depth, any leading batch) -------------------
def _layer_forward(arch, theta, X):
    layers = arch.unpack(theta)
    pre, post = [], [X]
    h = X
    for i, (W, b) in enumerate(layers):
        z = h @ np.swapaxes(W, -1, -2)
        if b is not None:
            z = z + b[..., None, :]
        pre.append(z)
        if i < len(layers) - 1:
            h = _act.activate(arch.activation, z, arch.negative_slope)
            post.append(h)
    # the network's outputs: the output activation of the last affine values
    post.append(z if arch.output_activation == "linear"
                else _act.activate(arch.output_activation, z))
    return layers, pre, post


def forward(arch, theta, X):
    """Realization of the network(s) on ``X`` (NumPy reference).

    ``theta`` of shape ``(..., P)`` and ``X`` of shape ``(N, d)`` give ``(..., N, e)``.

    Parameters
    ----------
    arch : Architecture
        Architecture.
    theta : ndarray of shape (..., P)
        Flat parameters.
    X : ndarray of shape (N, d)
        Inputs.

    Returns
    -------
    ndarray of shape (..., N, e)
        Outputs.
    """
    return _layer_forward(arch, theta, X)[2][-1]


def loss_and_gradient(arch, theta, X, Y, loss="mse"):
    """Loss and its gradient in the flat parameters (NumPy reference, any depth).

    ``theta`` of shape ``(..., P)``; ``Y`` of shape ``(N, e)`` already in target form.
    Returns ``(loss of shape (...), grad of shape (..., P))``. At ReLU kinks the derivative
    convention of :func:`topoanalysis.activations.activation_derivative` is used.

    Parameters
    ----------
    arch : Architecture
        Architecture.
    theta : ndarray of shape (..., P)
        Flat parameters.
    X : ndarray of shape (N, d)
        Inputs.
    Y : ndarray of shape (N, e)
        Targets in loss form.
    loss : str, default="mse"
        Loss name (spelling-insensitive).

    Returns
    -------
    loss : ndarray of shape (...)
        Loss.
    grad : ndarray of shape (..., P)
        Gradient in the flat parameters.
    """
    loss = _losses.check_loss(loss)
    layers, pre, post = _layer_forward(arch, theta, X)
    out = post[-1]
    value = _losses.loss_value(loss, out, Y)
    g = _losses.loss_gradient(loss, out, Y)
    if arch.output_activation != "linear":      # chain rule through the output unit
        g = g * _act.activation_derivative(arch.output_activation, pre[-1])
    grad = np.zeros(np.shape(theta))
    slices = arch.layer_slices
    for i in range(len(layers) - 1, -1, -1):
        W, b = layers[i]
        a_in = post[i]
        gW = np.swapaxes(g, -1, -2) @ a_in
        w_sl, b_sl = slices[i]
        grad[..., w_sl] = gW.reshape(gW.shape[:-2] + (-1,))
        if b_sl is not None:
            grad[..., b_sl] = g.sum(axis=-2)
        if i > 0:
            g = (g @ W) * _act.activation_derivative(arch.activation, pre[i - 1], arch.negative_slope)
    return value, grad


class Network:
    """One network: an :class:`Architecture` and a flat parameter vector.

    Parameters
    ----------
    arch : Architecture
        Sizes, bias flags and activation.
    params : array_like of shape (P,)
        Flat parameters in the layout documented in :mod:`topoanalysis.network`
        (copied; must be finite).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> net = Network.initialize(Architecture(2, (3,), 1), seed=0)
    >>> X = np.array([[1.0, -2.0], [0.5, 0.5]])
    >>> moved = net.rescale_neurons(2.5, neurons=[0]).permute_neurons([2, 0, 1])
    >>> bool(np.allclose(net.forward(X), moved.forward(X)))
    True
    >>> bool(np.allclose(moved.conserved_quantities(), net.conserved_quantities()[[2, 0, 1]]))
    False
    """

    def __init__(self, arch, params):
        if not isinstance(arch, Architecture):
            raise ValidationError(f"`arch` must be an Architecture; got {type(arch).__name__}.")
        self.arch = arch
        self.params = arch.check_params(params, "params", batch=False).copy()
        self.params.flags.writeable = False

    # --- constructors -----------------------------------------------------------------
    @classmethod
    def initialize(cls, arch, scheme="kaiming_normal", *, seed=0, **kwargs):
        """Seeded initialization; see :func:`topoanalysis.init.init_params` for schemes.

        Parameters
        ----------
        arch : Architecture
            Architecture.
        scheme : str, default="kaiming_normal"
            Initialization scheme (:data:`topoanalysis.init.SCHEMES`).
        seed : int, default=0
            Seed.
        **kwargs
            Passed to :func:`topoanalysis.init.init_params`.

        Returns
        -------
        Network
            A network with fresh parameters.
        """
        return cls(arch, init_params(arch, scheme, seed=seed, **kwargs))

    @classmethod
    def from_weights(cls, weights, biases=None, *, activation="relu", negative_slope=0.01,
                     output_activation="linear"):
        """Build from weight matrices ``[W_1, ..., W_L]`` (``(out, in)``) and biases.

        A bias flag is set when its entry is not None; all hidden layers must agree.

        Parameters
        ----------
        weights : sequence of array_like
            Weight matrices ``(out, in)``, one per layer.
        biases : sequence of array_like or None, optional
            Bias vectors (None: no bias for that layer).
        activation : str, default="relu"
            Activation.
        negative_slope : float, default=0.01
            Slope of leaky ReLU.
        output_activation : {"linear", "sigmoid"}, default="linear"
            Unit applied to the output layer (see :class:`Architecture`).

        Returns
        -------
        Network
            The network.
        """
        weights = [check_array(f"weights[{i}]", W, ndim=2) for i, W in enumerate(weights)]
        if len(weights) < 2:
            raise ValidationError(
                f"`weights` must hold at least 2 matrices (one hidden layer); got {len(weights)}."
            )
        biases = [None] * len(weights) if biases is None else list(biases)
        if len(biases) != len(weights):
            raise ShapeError(f"`biases` must hold {len(weights)} entries; got {len(biases)}.")
        for i in range(1, len(weights)):
            if weights[i].shape[1] != weights[i - 1].shape[0]:
                raise ShapeError(
                    f"`weights[{i}]` must have {weights[i - 1].shape[0]} columns to follow "
                    f"weights[{i - 1}]; got shape {weights[i].shape}."
                )
        hidden_flags = {biases[i] is not None for i in range(len(weights) - 1)}
        if len(hidden_flags) > 1:
            raise ValidationError("`biases` of hidden layers must be all given or all None.")
        arch = Architecture(
            inputs=weights[0].shape[1],
            hidden=tuple(W.shape[0] for W in weights[:-1]),
            outputs=weights[-1].shape[0],
            hidden_bias=hidden_flags.pop(),
            output_bias=biases[-1] is not None,
            activation=activation,
            negative_slope=negative_slope,
            output_activation=output_activation,
        )
        return cls(arch, arch.pack(weights, biases))

    # --- views ------------------------------------------------------------------------
    @property
    def weights(self):
        """List of weight matrices ``(out, in)`` (read-only views)."""
        return [W for W, _ in self.arch.unpack(self.params)]

    @property
    def biases(self):
        """List of bias vectors, ``None`` for layers without bias (read-only views)."""
        return [b for _, b in self.arch.unpack(self.params)]

    def _require_shallow(self, what):
        if not self.arch.is_shallow:
            raise NotSupportedError(f"{what} is defined for shallow networks (one hidden layer); "
                                    f"this one has hidden widths {self.arch.hidden}.")

    def neuron_weights(self):
        """Per-neuron ``(w, a)`` of a shallow network.

        Returns
        -------
        w : ndarray of shape (l, d) or (l, d + 1)
            Input weights with the hidden bias appended when present.
        a : ndarray of shape (l, e)
            Output weights (columns of ``W_2``).
        """
        self._require_shallow("neuron_weights")
        w, a, _ = self.arch.neuron_weights(self.params)
        return w, a

    def conserved_quantities(self):
        """``c = ||incoming||² − ||outgoing||²`` for every hidden neuron.

        Incoming weights include the neuron's bias. For a shallow net this is
        ``c_k = ||w_k||² − ||a_k||²`` of shape ``(l,)``; for deeper nets the layers are
        concatenated, shape ``(sum(hidden),)``. Conserved by gradient flow for positively
        homogeneous activations (Nurisso et al.; the follow-up for deep networks).

        Returns
        -------
        ndarray of shape (sum(hidden),)
            ``c_k`` per hidden neuron.
        """
        return conserved_quantities(self.arch, self.params)

    # --- realization and loss ---------------------------------------------------------
    def forward(self, X):
        """Realization on ``X`` of shape ``(N, d)``; returns ``(N, e)``.

        Parameters
        ----------
        X : array_like of shape (N, d)
            Inputs.

        Returns
        -------
        ndarray of shape (N, e)
            Outputs.
        """
        return forward(self.arch, self.params, self.arch.check_inputs(X))

    __call__ = forward

    def loss(self, X, y, loss="mse"):
        """Loss on data; see :mod:`topoanalysis.losses` for the conventions.

        Parameters
        ----------
        X : array_like of shape (N, d)
            Inputs.
        y : array_like
            Targets.
        loss : str, default="mse"
            Loss name.

        Returns
        -------
        float
            The loss.
        """
        X = self.arch.check_inputs(X)
        Y = _losses.as_targets(y, loss, self.arch.outputs)
        _check_rows(X, Y)
        return float(_losses.loss_value(loss, forward(self.arch, self.params, X), Y))

    def loss_and_grad(self, X, y, loss="mse"):
        """Loss and flat gradient ``(float, ndarray of shape (P,))`` (NumPy reference).

        Parameters
        ----------
        X : array_like of shape (N, d)
            Inputs.
        y : array_like
            Targets.
        loss : str, default="mse"
            Loss name.

        Returns
        -------
        loss : float
            The loss.
        grad : ndarray of shape (P,)
            Its gradient.
        """
        X = self.arch.check_inputs(X)
        Y = _losses.as_targets(y, loss, self.arch.outputs)
        _check_rows(X, Y)
        value, grad = loss_and_gradient(self.arch, self.params, X, Y, loss)
        return float(value), grad

    # --- symmetries -------------------------------------------------------------------
    def rescale_neurons(self, alpha, neurons=None, layer=0):
        """Rescale hidden neurons: incoming weights (and bias) times ``α``, outgoing ``/ α``.

        Leaves the realization unchanged for positively homogeneous activations.

        Parameters
        ----------
        alpha : float or array_like of shape (len(neurons),)
            Positive factors.
        neurons : sequence of int or None
            Neurons of hidden layer ``layer`` (all when None).
        layer : int, default=0
            Hidden layer index.

        Returns
        -------
        Network
            The rescaled network (same function).
        """
        if not _act.is_positively_homogeneous(self.arch.activation):
            raise NotSupportedError(
                f"neuron rescaling is a symmetry only for positively homogeneous activations "
                f"({', '.join(_act.HOMOGENEOUS_ACTIVATIONS)}); this network uses "
                f"{self.arch.activation!r}."
            )
        layer = check_int("layer", layer, minimum=0, maximum=len(self.arch.hidden) - 1)
        width = self.arch.hidden[layer]
        idx = np.arange(width) if neurons is None else _check_neurons(neurons, width)
        alpha = check_array("alpha", alpha, finite=False)
        try:
            alpha = np.broadcast_to(alpha, idx.shape)
        except ValueError:
            raise ShapeError(f"`alpha` must be one factor or {idx.size} factors (one per "
                             f"neuron); got shape {alpha.shape}.") from None
        if not np.all(np.isfinite(alpha)) or np.any(alpha <= 0):
            raise ValidationError(f"`alpha` must be positive finite factors; got "
                                  f"{_short_list(alpha)}.")
        params = self.params.copy()
        (W_in, b_in), (W_out, _) = self.arch.unpack(params)[layer:layer + 2]
        W_in[idx] *= alpha[:, None]
        if b_in is not None:
            b_in[idx] *= alpha
        W_out[:, idx] /= alpha[None, :]
        return Network(self.arch, params)

    def permute_neurons(self, perm, layer=0):
        """Reorder the neurons of hidden layer ``layer``: new neuron ``i`` is old ``perm[i]``.

        Parameters
        ----------
        perm : sequence of int
            A permutation of the layer's neurons.
        layer : int, default=0
            Hidden layer index.

        Returns
        -------
        Network
            The permuted network (same function).
        """
        layer = check_int("layer", layer, minimum=0, maximum=len(self.arch.hidden) - 1)
        width = self.arch.hidden[layer]
        try:
            perm = np.asarray(perm)
        except (TypeError, ValueError):
            perm = np.asarray([], dtype=object)
        if (perm.dtype.kind not in "iu" or perm.shape != (width,)
                or not np.array_equal(np.sort(perm), np.arange(width))):
            raise ValidationError(
                f"`perm` must be a permutation of the integers 0..{width - 1}; got "
                f"{_short_list(perm)}."
            )
        params = self.params.copy()
        (W_in, b_in), (W_out, _) = self.arch.unpack(params)[layer:layer + 2]
        W_in[...] = W_in[perm]
        if b_in is not None:
            b_in[...] = b_in[perm]
        W_out[...] = W_out[:, perm]
        return Network(self.arch, params)

    # --- files ------------------------------------------------------------------------
    def save(self, path):
        """Save to ``.npz`` (parameters and architecture), atomically; ``.npz`` is appended
        when missing, as ``np.savez`` does. Returns the path written.

        Parameters
        ----------
        path : str or os.PathLike
            Output file.

        Returns
        -------
        str
            The path written.
        """
        return save_network(self, path, param="path")

    @classmethod
    def load(cls, path):
        """Load a network written by :meth:`save` (the path given to ``save`` works too).

        Parameters
        ----------
        path : str or os.PathLike
            File written by :meth:`save`.

        Returns
        -------
        Network
            The network saved there.
        """
        return load_network(path, param="path")

    def __repr__(self):
        a = self.arch
        return (f"Network(d={a.inputs}, hidden={a.hidden}, e={a.outputs}, "
                f"activation={a.activation!r}, hidden_bias={a.hidden_bias}, "
                f"output_bias={a.output_bias}"
                + ("" if a.output_activation == "linear"
                   else f", output_activation={a.output_activation!r}") + ")")

    def __eq__(self, other):
        return (isinstance(other, Network) and self.arch == other.arch
                and np.array_equal(self.params, other.params))

    __hash__ = None


def conserved_quantities(arch, theta):
    """Per-hidden-neuron ``||incoming||² − ||outgoing||²`` for ``theta`` of shape ``(..., P)``.

    Parameters
    ----------
    arch : Architecture
        Layout of the parameters.
    theta : array_like of shape (..., P)
        Flat parameters (any leading shape).

    Returns
    -------
    ndarray of shape (..., sum(hidden))
        For each hidden neuron, the squared norm of its incoming weights (bias included)
        minus that of its outgoing weights.
    """
    layers = arch.unpack(theta)
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(len(arch.hidden)):
            W_in, b_in = layers[i]
            W_out, _ = layers[i + 1]
            incoming = np.sum(W_in ** 2, axis=-1)
            if b_in is not None:
                incoming = incoming + b_in ** 2
            outgoing = np.sum(W_out ** 2, axis=-2)
            if not (np.all(np.isfinite(incoming)) and np.all(np.isfinite(outgoing))):
                theta = np.asarray(theta)
                if np.all(np.isfinite(theta)):
                    big = float(np.max(np.abs(theta)))
                    raise ValidationError(
                        "the conserved quantities c_k = ||w_k||² − ||a_k||² overflow float64: "
                        f"parameters up to {big:.3g} in magnitude (squares must stay below "
                        "1.8e308, so |θ| below about 1e154); rescale the network or use a "
                        "smaller initialization scale."
                    )
            out.append(incoming - outgoing)
    return np.concatenate(out, axis=-1)


def _short_list(arr):
    text = repr(np.asarray(arr).tolist())
    return text if len(text) <= 80 else text[:77] + "..."


def _check_neurons(neurons, width):
    try:
        idx = np.atleast_1d(np.asarray(neurons))
    except (TypeError, ValueError):
        idx = np.asarray([[]], dtype=object)
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or np.any(idx < 0) or np.any(idx >= width):
        raise ValidationError(
            f"`neurons` must be integer indices in [0, {width - 1}]; got {_short_list(idx)}."
        )
    return idx


def _check_rows(X, Y):
    if X.shape[0] != Y.shape[0]:
        raise ShapeError(f"`y` must have one row per sample of X ({X.shape[0]}); got {Y.shape[0]}.")


# --- files (io.py re-exports these; network.py never imports io.py) ---------------------
def load_network(path, param="--network"):
    """Load a network saved by :func:`save_network` / ``Network.save``.

    ``path`` without the ``.npz`` that ``save`` appended is accepted too.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npz`` written by :func:`save_network`.
    param : str, default="--network"
        Name of the argument, for error messages.

    Returns
    -------
    Network
        The network.

    Raises
    ------
    FileError
        When the file is not a topoanalysis network ``.npz`` (missing arrays, an invalid
        architecture, or a parameter count that does not match it).

    See Also
    --------
    save_network, Network.save
    """
    path = _npz_name(path) if path is not None else path
    arrays = load_npz(path, param)
    missing = [k for k in _NETWORK_KEYS if k not in arrays]
    if missing:
        raise FileError(f"`{param}` must be a topoanalysis network .npz (see Network.save); "
                        f"{_describe(path)} lacks the arrays {', '.join(missing)}.")
    try:
        arch = Architecture(
            inputs=_file_int(arrays, "inputs"),
            hidden=tuple(int(h) for h in np.atleast_1d(_file_whole(arrays, "hidden"))),
            outputs=_file_int(arrays, "outputs"), hidden_bias=_file_flag(arrays, "hidden_bias"),
            output_bias=_file_flag(arrays, "output_bias"), activation=str(arrays["activation"]),
            negative_slope=_file_real(arrays, "negative_slope"),
            output_activation=(str(arrays["output_activation"]) if "output_activation" in arrays
                               else "linear"),        # files written before the option
        )
    except (TypeError, ValueError, OverflowError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileError(f"`{param}`: {_describe(path)} does not describe a valid architecture "
                        f"({msg})") from None
    params = _real_array(param, path, "params", arrays["params"], (1,), booleans=False)
    if params.shape != (arch.n_params,):
        n = arch.n_params
        shown = str(n) if n < 10**18 else f"a {len(str(n))}-digit number of"
        raise FileError(f"`{param}`: {_describe(path)} must hold {shown} parameters for "
                        f"its architecture; got {params.shape[0]}.")
    return Network(arch, params)


def _file_whole(arrays, key):
    """Array ``key`` of a network file, checked to hold whole numbers (sizes are never
    truncated: ``inputs = 1.7`` or ``inf`` is refused, not read as 1)."""
    a = np.asarray(arrays[key])
    whole = a.dtype.kind in "iu" or (a.dtype.kind == "f" and bool(np.all(np.isfinite(a)))
                                     and bool(np.all(a == np.round(a))))
    if not whole:
        raise ValueError(f"`{key}` must hold whole numbers; got {_short_list(a)} "
                         f"(dtype {a.dtype})")
    return a


def _file_int(arrays, key):
    a = _file_whole(arrays, key)
    if a.size != 1:
        raise ValueError(f"`{key}` must be one whole number; got {_short_list(a)} "
                         f"(shape {a.shape})")
    return int(a.item())


def _file_real(arrays, key):
    """A real number of a network file (``negative_slope``): one int or float value; a
    string, a complex number or several values are refused with the key's name."""
    a = np.asarray(arrays[key])
    if a.size != 1 or a.dtype.kind not in "iuf":
        raise ValueError(f"`{key}` must be one real number; got {_short_list(a)} "
                         f"(dtype {a.dtype})")
    return float(a.item())


def _file_flag(arrays, key):
    """A bias flag of a network file: a boolean (or 0/1); the string ``"False"`` is refused
    rather than read as true."""
    a = np.asarray(arrays[key])
    if a.size != 1 or a.dtype.kind not in "biu" or a.item() not in (0, 1):
        raise ValueError(f"`{key}` must be True or False; got {_short_list(a)} "
                         f"(dtype {a.dtype})")
    return bool(a.item())


def save_network(net, path, param="output"):
    """Save a network atomically (``.npz`` appended if missing); returns the path written.

    Parameters
    ----------
    net : Network
        The network.
    path : str or os.PathLike
        Output ``.npz``.
    param : str, default="output"
        Name of the argument, for error messages.

    Returns
    -------
    str
        The path written.

    See Also
    --------
    load_network
    """
    a = net.arch
    return save_npz(path, param, params=net.params, inputs=a.inputs, hidden=np.array(a.hidden),
                    outputs=a.outputs, hidden_bias=a.hidden_bias, output_bias=a.output_bias,
                    activation=a.activation, negative_slope=a.negative_slope,
                    output_activation=a.output_activation, format_version=1)
