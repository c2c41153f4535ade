"""Small fully connected networks built from SymPy symbols.

A :class:`SymbolicNetwork` holds the parameters of a network ``x -> W_L σ(… σ(W_1 x + b_1) …)
+ b_L`` as SymPy symbols in the project's flat layout (for each layer ``W_i`` row-major with
shape ``(out, in)``, then ``b_i`` when present), one or more symbolic data points ``x_n``, and
the gradient of a *generic* loss: the derivative of the per-sample loss with respect to output
``j`` on sample ``n`` is the free symbol ``g{n}_{j}``. Anything derived from it therefore holds
for every differentiable loss (squared error, cross-entropy, ...) and every data set.

How the activation is represented (no case splits):

* positively homogeneous activations (``relu``, ``leaky_relu``, ``abs``): the derivative
  ``σ'(z)`` at each hidden unit is a free symbol ``sp{n}_{layer}_{k}`` and the value is
  rewritten through ``σ(z) = σ'(z) z`` (Euler's identity for degree-1 homogeneity);
* ``linear``: ``σ(z) = z`` and ``σ'(z) = 1``;
* ``tanh`` and ``sigmoid``: the value ``σ(z)`` is a free symbol ``sv{n}_{layer}_{k}`` and the
  derivative is the exact expression ``1 − σ²`` or ``σ (1 − σ)``; no identity ties the value
  to ``z``.

Symbol names: ``W{i}_{r}_{c}``, ``b{i}_{r}`` (layers numbered from 1), ``x{n}_{i}``,
``g{n}_{j}``, ``sp{n}_{m}_{k}`` / ``sv{n}_{m}_{k}`` (sample ``n``, hidden layer ``m`` from 1,
unit ``k``). Symbols carry no assumptions, so ``sympy.Symbol("W1_0_0")`` typed by a user is
the same symbol.
"""

import dataclasses
import numbers

import sympy

from .._validation import check_int
from ..activations import ACTIVATIONS, parse_activation
from ..exceptions import ValidationError
from ..network import Architecture

__all__ = [
    "HOMOGENEOUS_SYMBOLIC_ACTIVATIONS",
    "MAX_SYMBOLIC_PARAMETERS",
    "SymbolicNetwork",
    "symbolic_network",
    "loss_gradient",
    "gradient_flow_field",
]



def __getattr__(name):
    # ``SYMBOLIC_ACTIVATIONS`` was an alias of ``topoanalysis.activations.ACTIVATIONS``.
    if name == "SYMBOLIC_ACTIVATIONS":
        import warnings

        warnings.warn("SYMBOLIC_ACTIVATIONS is deprecated; use "
                      "topoanalysis.activations.ACTIVATIONS.", DeprecationWarning, stacklevel=2)
        return ACTIVATIONS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Activations represented through ``σ(z) = σ'(z) z`` with a free symbol for ``σ'(z)``.
HOMOGENEOUS_SYMBOLIC_ACTIVATIONS = ("relu", "leaky_relu", "abs")
#: Default cap on the number of parameters of a symbolic network.
MAX_SYMBOLIC_PARAMETERS = 60


@dataclasses.dataclass(frozen=True, eq=False)
class SymbolicNetwork:
    """A fully connected network with SymPy symbols for parameters, data and loss gradient.

    Build it with :func:`symbolic_network`.

    Attributes
    ----------
    inputs, hidden, outputs : int, tuple of int, int
        Architecture ``d``, hidden widths, ``e``.
    activation : str
        Activation name.
    negative_slope : float
        Leaky ReLU slope (only meaningful for ``leaky_relu``).
    hidden_bias, output_bias : bool
        Bias flags.
    samples : int
        Number of symbolic data points ``N``.
    layers : tuple of (ImmutableMatrix, ImmutableMatrix or None)
        ``(W_i, b_i)`` per affine layer; ``W_i`` has shape ``(out, in)``, ``b_i`` is a column.
    parameters : tuple of Symbol
        All parameters in the flat layout.
    data : tuple of ImmutableMatrix
        ``x_n`` (column of ``d`` symbols) per sample.
    loss_gradients : tuple of ImmutableMatrix
        ``g_n`` (column of ``e`` symbols, the derivative of the per-sample loss with respect to
        the outputs) per sample.
    preactivations : tuple of tuple of ImmutableMatrix
        ``z`` of every hidden layer, per sample.
    sigma, sigma_prime : tuple of tuple of ImmutableMatrix
        Expressions standing for ``σ(z)`` and ``σ'(z)`` of every hidden layer, per sample.
    activation_symbols : tuple of Symbol
        The free symbols used for ``σ'`` (homogeneous activations) or ``σ`` (tanh, sigmoid);
        empty for ``linear``.
    predictions : tuple of ImmutableMatrix
        Network output ``f(x_n)`` (column of ``e`` expressions) per sample.
    """

    inputs: int
    hidden: tuple
    outputs: int
    activation: str
    negative_slope: float
    hidden_bias: bool
    output_bias: bool
    samples: int
    layers: tuple
    parameters: tuple
    data: tuple
    loss_gradients: tuple
    preactivations: tuple
    sigma: tuple
    sigma_prime: tuple
    activation_symbols: tuple
    predictions: tuple

    @property
    def sizes(self):
        """``(d, *hidden, e)``."""
        return (self.inputs, *self.hidden, self.outputs)

    @property
    def n_params(self):
        """Number of parameters ``P``."""
        return len(self.parameters)

    @property
    def is_shallow(self):
        """True for one hidden layer."""
        return len(self.hidden) == 1

    @property
    def free_symbols(self):
        """Every symbol the gradient field may contain: parameters, data, loss gradients,
        activation symbols (in this order), as a tuple.
        """
        syms = list(self.parameters)
        for n in range(self.samples):
            syms.extend(self.data[n])
            syms.extend(self.loss_gradients[n])
        syms.extend(self.activation_symbols)
        return tuple(syms)

    def incoming(self, layer, k):
        """Incoming parameters of hidden unit ``k`` of hidden layer ``layer`` (from 1):
        row ``k`` of ``W_layer`` followed by ``b_layer[k]`` when present (``w_k``).

        Parameters
        ----------
        layer : int
            Hidden layer, counted from 1.
        k : int
            Unit of that layer.

        Returns
        -------
        tuple of sympy.Symbol
            ``w_k``: row ``k`` of ``W_layer`` and its bias.
        """
        layer, k = self._check_unit(layer, k)
        W, b = self.layers[layer - 1]
        syms = list(W.row(k))
        if b is not None:
            syms.append(b[k])
        return tuple(syms)

    def outgoing(self, layer, k):
        """Outgoing parameters of hidden unit ``k`` of hidden layer ``layer`` (from 1):
        column ``k`` of ``W_{layer+1}`` (``a_k``).

        Parameters
        ----------
        layer : int
            Hidden layer, counted from 1.
        k : int
            Unit of that layer.

        Returns
        -------
        tuple of sympy.Symbol
            ``a_k``: column ``k`` of ``W_{layer+1}``.
        """
        layer, k = self._check_unit(layer, k)
        return tuple(self.layers[layer][0].col(k))

    def _check_unit(self, layer, k):
        layer = check_int("layer", layer, minimum=1, maximum=len(self.hidden))
        k = check_int("k", k, minimum=0, maximum=self.hidden[layer - 1] - 1)
        return layer, k

    def __repr__(self):
        return (
            f"SymbolicNetwork(inputs={self.inputs}, hidden={self.hidden}, "
            f"outputs={self.outputs}, activation={self.activation!r}, "
            f"hidden_bias={self.hidden_bias}, output_bias={self.output_bias}, "
            f"samples={self.samples}, n_params={self.n_params})"
        )


def _count_parameters(sizes, hidden_bias, output_bias):
    total = 0
    n_layers = len(sizes) - 1
    for i in range(n_layers):
        total += sizes[i + 1] * sizes[i]
        if (output_bias if i == n_layers - 1 else hidden_bias):
            total += sizes[i + 1]
    return total


def _check_flag(name, value):
    if not isinstance(value, bool):
        # numpy bools are accepted too, without importing numpy here
        if type(value).__name__ != "bool_":
            raise ValidationError(f"`{name}` must be True or False; got {value!r}.")
    return bool(value)


def symbolic_network(inputs, hidden=None, outputs=None, *, activation="relu",
                     negative_slope=0.01, hidden_bias=True, output_bias=True, samples=1,
                     max_parameters=MAX_SYMBOLIC_PARAMETERS):
    """Build a fully connected network from SymPy symbols.

    Parameters
    ----------
    inputs : int or Architecture
        Input dimension ``d >= 1``, or a :class:`topoanalysis.network.Architecture` whose
        sizes, bias flags and activation are used (then ``hidden``, ``outputs`` and the
        keyword settings other than ``samples`` and ``max_parameters`` must be left at their
        defaults).
    hidden : int or tuple of int
        Hidden widths, each ``>= 1`` (an int means one hidden layer).
    outputs : int
        Output dimension ``e >= 1``.
    activation : str, default="relu"
        One of ``relu``, ``leaky_relu``, ``linear``, ``tanh``, ``sigmoid``, ``abs`` (also
        ``"leaky_relu(s)"``).
    negative_slope : float, default=0.01
        Leaky ReLU slope. A slope of exactly 1 makes leaky ReLU the identity; it is then
        represented as ``linear``.
    hidden_bias, output_bias : bool, default=True
        Whether hidden layers / the output layer have biases.
    samples : int, default=1
        Number of symbolic data points ``N`` (1 is enough for every derivation in this
        package; see Notes of :func:`~topoanalysis.symbolic.conserved_quadratic_forms`).
    max_parameters : int, default=60
        Refuse networks with more parameters than this (symbolic work grows quickly).

    Returns
    -------
    SymbolicNetwork
        SymPy symbols of the parameters, data and loss gradients, the pre-activations, the
        activation and its derivative, and the predictions.

    Raises
    ------
    ValidationError
        On sizes ``< 1``, an unknown activation, bad flags, or more than ``max_parameters``
        parameters.

    See Also
    --------
    gradient_flow_field, loss_gradient

    Notes
    -----
    Building is ``O(P · N)`` symbolic operations for ``P`` parameters and ``N`` samples.
    The representation of ``σ`` uses ``σ'(z) z = σ(z)`` for positively homogeneous
    activations (Nurisso, Leroy, Vaccarino; PAPERS.md section 1).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: the two-layer network f(x) = W2 σ(W1 x
           + b1) + b2.

    Examples
    --------
    >>> from topoanalysis.symbolic import symbolic_network
    >>> net = symbolic_network(2, (1,), 1)
    >>> net.parameters
    (W1_0_0, W1_0_1, b1_0, W2_0_0, b2_0)
    >>> net.predictions[0][0]
    W2_0_0*sp0_1_0*(W1_0_0*x0_0 + W1_0_1*x0_1 + b1_0) + b2_0
    """
    if isinstance(inputs, Architecture):
        arch = inputs
        defaults = dict(hidden=None, outputs=None, activation="relu", negative_slope=0.01,
                        hidden_bias=True, output_bias=True)
        given = dict(hidden=hidden, outputs=outputs, activation=activation,
                     negative_slope=negative_slope, hidden_bias=hidden_bias,
                     output_bias=output_bias)
        clash = [k for k in defaults if given[k] != defaults[k]]
        if clash:
            raise ValidationError(
                f"`{clash[0]}` must be left at its default when `inputs` is an Architecture "
                f"(the architecture already fixes it); got {given[clash[0]]!r}."
            )
        inputs, hidden, outputs = arch.inputs, arch.hidden, arch.outputs
        activation, negative_slope = arch.activation, arch.negative_slope
        hidden_bias, output_bias = arch.hidden_bias, arch.output_bias

    inputs = check_int("inputs", inputs, minimum=1)
    if hidden is None:
        raise ValidationError("`hidden` must be a tuple of positive integers; got None.")
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        hidden = (hidden,)
    try:
        hidden = tuple(hidden)
    except TypeError:
        raise ValidationError(
            f"`hidden` must be a tuple of positive integers; got {hidden!r}."
        ) from None
    if not hidden:
        raise ValidationError("`hidden` must contain at least one hidden width; got ().")
    hidden = tuple(check_int("hidden", h, minimum=1) for h in hidden)
    if outputs is None:
        raise ValidationError("`outputs` must be an integer >= 1; got None.")
    outputs = check_int("outputs", outputs, minimum=1)
    activation, negative_slope = parse_activation(activation, negative_slope)
    hidden_bias = _check_flag("hidden_bias", hidden_bias)
    output_bias = _check_flag("output_bias", output_bias)
    samples = check_int("samples", samples, minimum=1)
    max_parameters = check_int("max_parameters", max_parameters, minimum=1)

    sizes = (inputs, *hidden, outputs)
    n_params = _count_parameters(sizes, hidden_bias, output_bias)
    if n_params > max_parameters:
        raise ValidationError(
            f"`max_parameters` is {max_parameters} but the network {sizes} "
            f"(hidden_bias={hidden_bias}, output_bias={output_bias}) has {n_params} "
            f"parameters; symbolic derivations grow quickly with size: use smaller sizes "
            f"(the results for small sizes are the general ones) or raise `max_parameters`."
        )

    kind = activation
    if activation == "leaky_relu" and negative_slope == 1.0:
        kind = "linear"

    # --- parameters in the flat layout ----------------------------------------------
    n_layers = len(sizes) - 1
    layers, flat = [], []
    for i in range(n_layers):
        out, inn = sizes[i + 1], sizes[i]
        W = sympy.ImmutableMatrix(out, inn, lambda r, c: sympy.Symbol(f"W{i + 1}_{r}_{c}"))
        flat.extend(W)  # row-major
        has_bias = output_bias if i == n_layers - 1 else hidden_bias
        b = None
        if has_bias:
            b = sympy.ImmutableMatrix(out, 1, lambda r, _c: sympy.Symbol(f"b{i + 1}_{r}"))
            flat.extend(b)
        layers.append((W, b))

    # --- forward pass per sample ------------------------------------------------------
    data, grads, pre_all, sig_all, dsig_all, preds, act_syms = [], [], [], [], [], [], []
    for n in range(samples):
        x = sympy.ImmutableMatrix(inputs, 1, lambda r, _c: sympy.Symbol(f"x{n}_{r}"))
        g = sympy.ImmutableMatrix(outputs, 1, lambda r, _c: sympy.Symbol(f"g{n}_{r}"))
        data.append(x)
        grads.append(g)
        h = x
        pres, sigs, dsigs = [], [], []
        for m in range(1, n_layers):
            W, b = layers[m - 1]
            z = W * h
            if b is not None:
                z = z + b
            width = sizes[m]
            if kind in HOMOGENEOUS_SYMBOLIC_ACTIVATIONS:
                sp = [sympy.Symbol(f"sp{n}_{m}_{k}") for k in range(width)]
                act_syms.extend(sp)
                dsig = sympy.ImmutableMatrix(width, 1, sp)
                sig = sympy.ImmutableMatrix(width, 1, [sp[k] * z[k] for k in range(width)])
            elif kind == "linear":
                dsig = sympy.ImmutableMatrix.ones(width, 1)
                sig = sympy.ImmutableMatrix(z)
            else:  # tanh, sigmoid: value is a free symbol, derivative exact in the value
                sv = [sympy.Symbol(f"sv{n}_{m}_{k}") for k in range(width)]
                act_syms.extend(sv)
                sig = sympy.ImmutableMatrix(width, 1, sv)
                if kind == "tanh":
                    dsig = sympy.ImmutableMatrix(width, 1, [1 - u**2 for u in sv])
                else:
                    dsig = sympy.ImmutableMatrix(width, 1, [u * (1 - u) for u in sv])
            pres.append(sympy.ImmutableMatrix(z))
            sigs.append(sig)
            dsigs.append(dsig)
            h = sig
        W, b = layers[-1]
        f = W * h
        if b is not None:
            f = f + b
        pre_all.append(tuple(pres))
        sig_all.append(tuple(sigs))
        dsig_all.append(tuple(dsigs))
        preds.append(sympy.ImmutableMatrix(f))

    return SymbolicNetwork(
        inputs=inputs, hidden=hidden, outputs=outputs, activation=activation,
        negative_slope=negative_slope, hidden_bias=hidden_bias, output_bias=output_bias,
        samples=samples, layers=tuple(layers), parameters=tuple(flat), data=tuple(data),
        loss_gradients=tuple(grads), preactivations=tuple(pre_all), sigma=tuple(sig_all),
        sigma_prime=tuple(dsig_all), activation_symbols=tuple(act_syms),
        predictions=tuple(preds),
    )


_NETWORK_DEFAULTS = dict(activation="relu", negative_slope=0.01, hidden_bias=True,
                         output_bias=True, samples=1, max_parameters=MAX_SYMBOLIC_PARAMETERS)


def as_symbolic_network(network, hidden=None, outputs=None, **options):
    """Return ``network`` if it is a :class:`SymbolicNetwork`, else build one.

    Internal helper shared by the derivation functions: ``network`` may be a
    :class:`SymbolicNetwork` (then ``hidden``, ``outputs`` and ``options`` must be left at
    their defaults), an ``Architecture`` or the input dimension; ``options`` are the keyword
    arguments of :func:`symbolic_network`.

    Parameters
    ----------
    network : SymbolicNetwork, Architecture or int
        The network, an architecture or the input dimension.
    hidden : int or tuple of int, optional
        Hidden widths (with an input dimension).
    outputs : int, optional
        Output dimension (with an input dimension).
    **options
        Keyword arguments of :func:`symbolic_network`.

    Returns
    -------
    SymbolicNetwork
        ``network`` itself, or the network built from the arguments.
    """
    if isinstance(network, SymbolicNetwork):
        given = dict(hidden=hidden, outputs=outputs, **options)
        defaults = dict(hidden=None, outputs=None, **_NETWORK_DEFAULTS)
        for name, value in given.items():
            if name in defaults and value != defaults[name]:
                raise ValidationError(
                    f"`{name}` must be left at its default when `network` is already a "
                    f"SymbolicNetwork (the network fixes it); got {value!r}."
                )
        return network
    if isinstance(network, (sympy.Basic, str, float)) or network is None:
        raise ValidationError(
            "`network` must be a SymbolicNetwork, an Architecture or the input dimension "
            f"(int >= 1); got {network!r}."
        )
    return symbolic_network(network, hidden, outputs, **options)


def loss_gradient(net):
    """Gradient ``∇_θ L`` of the generic loss, summed over the symbolic samples.

    Parameters
    ----------
    net : SymbolicNetwork
        A network of :func:`symbolic_network`.

    Returns
    -------
    ImmutableMatrix of shape (P, 1)
        Expanded polynomials in the parameters, data, loss-gradient and activation symbols,
        in the flat parameter order.

    Raises
    ------
    ValidationError
        If ``net`` is not a :class:`SymbolicNetwork`.

    See Also
    --------
    symbolic_network, gradient_flow_field

    Notes
    -----
    Backpropagation with ``δ_L = g_n`` (the free loss-gradient symbols),
    ``∇W_i = δ_i h_{i−1}ᵀ``, ``∇b_i = δ_i``, ``δ_{i−1} = (W_iᵀ δ_i) ⊙ σ'(z_{i−1})``.
    The chain rule is exact for the representations of :func:`symbolic_network`: for
    ReLU-like activations ``σ''(z) = 0`` off the kinks, so differentiating ``σ'(z) z``
    with ``σ'(z)`` held constant is the true derivative. Cost ``O(N · P · width)``.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: gradient of the loss of the two-layer
           network.

    Examples
    --------
    >>> from topoanalysis.symbolic import symbolic_network, loss_gradient
    >>> net = symbolic_network(1, (1,), 1, hidden_bias=False, output_bias=False)
    >>> loss_gradient(net).T
    Matrix([[W2_0_0*g0_0*sp0_1_0*x0_0, W1_0_0*g0_0*sp0_1_0*x0_0]])
    """
    if not isinstance(net, SymbolicNetwork):
        raise ValidationError(f"`net` must be a SymbolicNetwork; got {type(net).__name__}.")
    n_layers = len(net.layers)
    total = [sympy.S.Zero] * net.n_params
    for n in range(net.samples):
        hs = (net.data[n],) + net.sigma[n]
        delta = sympy.Matrix(net.loss_gradients[n])
        grads = [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            W, b = net.layers[i]
            gW = delta * hs[i].T
            gb = delta if b is not None else None
            grads[i] = (gW, gb)
            if i > 0:
                back = W.T * delta
                dsig = net.sigma_prime[n][i - 1]
                delta = sympy.Matrix(back.shape[0], 1,
                                     lambda r, _c: back[r] * dsig[r])
        pos = 0
        for gW, gb in grads:
            for v in gW:  # row-major, matches the flat layout
                total[pos] += v
                pos += 1
            if gb is not None:
                for v in gb:
                    total[pos] += v
                    pos += 1
    return sympy.ImmutableMatrix(net.n_params, 1, [sympy.expand(t) for t in total])


def gradient_flow_field(net):
    """The gradient-flow vector field ``θ̇ = −∇_θ L`` as exact expressions.

    Parameters
    ----------
    net : SymbolicNetwork
        A network of :func:`symbolic_network`.

    Returns
    -------
    ImmutableMatrix of shape (P, 1)
        ``−∇_θ L`` in the flat parameter order (expanded polynomials in the parameters, the
        data symbols ``x``, the loss-gradient symbols ``g`` and the activation symbols).

    Raises
    ------
    ValidationError
        If ``net`` is not a :class:`SymbolicNetwork`.

    See Also
    --------
    symbolic_network, loss_gradient

    Notes
    -----
    See :func:`loss_gradient`. Holds for any differentiable loss because ``g`` is free.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: gradient flow θ̇ = −∇L of shallow
           networks.

    Examples
    --------
    >>> from topoanalysis.symbolic import symbolic_network, gradient_flow_field
    >>> net = symbolic_network(1, (1,), 1, activation="linear", hidden_bias=False,
    ...                        output_bias=False)
    >>> gradient_flow_field(net).T
    Matrix([[-W2_0_0*g0_0*x0_0, -W1_0_0*g0_0*x0_0]])
    """
    return -loss_gradient(net)
