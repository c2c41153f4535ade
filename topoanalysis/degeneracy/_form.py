"""The paper's bias-free form of a shallow ReLU network, and the input augmentations.

Berner, Elbrächter & Grohs work with ``R(Θ)(x) = Σ_i c_i ρ(⟨a_i, x⟩)`` (no biases). A network
of the project (``Network``: ``w_k``, ``a_k``, optional biases) enters that setting by
augmenting its input:

* ``"none"``: ``x ↦ x`` (only for networks without any bias);
* ``"bias"``: ``x ↦ (x, 1)``; neuron ``k`` gets the weight vector ``(w_k, b_k)`` and an output
  bias ``β`` becomes one more neuron with weight vector ``(0, …, 0, 1)`` and output ``β``
  (``ρ(1) = 1``);
* ``"c3"``: ``x ↦ (x, 1, −1)``, the paper's two-dimensional augmentation: ``(w, b)`` becomes
  ``(w, b⁺ + τ, b⁻ + τ)`` with ``τ = ||(w, b)||`` so that the last two coordinates are strictly
  positive (condition C.3) and ``u − v = b`` keeps the realization on the slice.

Internally a network is the pair ``A`` (``(m, D)``, weight vectors as rows, the paper's
``a_i``) and ``C`` (``(m, e)``, output vectors, the paper's ``c_i``).
"""

import dataclasses

import numpy as np

from .._validation import check_choice
from ..exceptions import NotSupportedError, ValidationError

__all__ = ["ShallowForm", "shallow_form", "form_network", "augment_inputs", "AUGMENTATIONS"]

AUGMENTATIONS = ("none", "bias", "c3")


@dataclasses.dataclass(frozen=True)
class ShallowForm:
    """Bias-free form ``(A, C)`` of a shallow ReLU network.

    Attributes
    ----------
    A : ndarray of shape (m, D)
        Weight vectors (rows), on the augmented input.
    C : ndarray of shape (m, e)
        Output vectors.
    augment : str
        ``"none"``, ``"bias"`` or ``"c3"`` (how the input was augmented).
    inputs : int
        Dimension ``d`` of the original input.
    origin : ndarray of shape (m,)
        Neuron of the source network each row comes from (``-1``: the output bias).
    """

    A: np.ndarray
    C: np.ndarray
    augment: str
    inputs: int
    origin: np.ndarray

    @property
    def width(self):
        return self.A.shape[0]

    @property
    def dim(self):
        return self.A.shape[1]

    @property
    def outputs(self):
        return self.C.shape[1]

    def realization(self, Z):
        """``Σ_i c_i ρ(⟨a_i, z⟩)`` on augmented points ``Z`` of shape ``(N, D)``.

        Parameters
        ----------
        Z : ndarray of shape (N, D)
            Augmented points.

        Returns
        -------
        ndarray of shape (N, e)
            The realization at every point.
        """
        return np.maximum(Z @ self.A.T, 0.0) @ self.C

    def __call__(self, X):
        """Realization on original inputs ``X`` of shape ``(N, d)``."""
        return self.realization(augment_inputs(X, self.augment))

    def to_network(self):
        """The form as a bias-free :class:`~topoanalysis.Network` on ``D`` inputs.

        Returns
        -------
        Network
            The network ``D``-``m``-``e`` without biases.
        """
        return form_network(self.A, self.C)


def augment_inputs(X, augment):
    """Append the augmentation coordinates: ``(x)``, ``(x, 1)`` or ``(x, 1, −1)``.

    Parameters
    ----------
    X : array_like of shape (N, d) or (d,)
        Real, finite inputs (complex input is refused, not truncated).
    augment : {"none", "bias", "c3"}
        Coordinates appended to each row: none, ``1``, or ``(1, −1)``.

    Returns
    -------
    ndarray of shape (N, d), (N, d + 1) or (N, d + 2)
        The augmented inputs (a single row gives shape ``(1, ·)``).

    Raises
    ------
    ValidationError

    See Also
    --------
    shallow_form, topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: condition C.3
           and the augmentation of the input by two coordinates, which also absorbs the
           biases.
    """
    from .._validation import check_array

    augment = check_choice("augment", augment, AUGMENTATIONS)
    X = check_array("X", X, ndim=(1, 2))
    if X.ndim == 1:
        X = X[None, :]
    n = X.shape[0]
    if augment == "none":
        return X
    if augment == "bias":
        return np.concatenate([X, np.ones((n, 1))], axis=1)
    if augment == "c3":
        return np.concatenate([X, np.ones((n, 1)), -np.ones((n, 1))], axis=1)
    raise ValidationError(f"`augment` must be one of {AUGMENTATIONS}; got {augment!r}.")


def _check_net(net, name="net", *, limit=None):
    from ..network import Network

    if not isinstance(net, Network):
        raise ValidationError(f"`{name}` must be a Network; got {type(net).__name__}.")
    if not net.arch.is_shallow:
        raise NotSupportedError(f"`{name}` must be shallow (one hidden layer); "
                                f"got hidden widths {net.arch.hidden}.")
    if net.arch.activation != "relu":
        raise NotSupportedError(f"`{name}` must use the ReLU activation (the paper's setting); "
                                f"got {net.arch.activation!r}.")
    if net.arch.output_activation != "linear":
        raise NotSupportedError(f"`{name}` must have a linear output unit (the paper's "
                                f"realization); got output_activation="
                                f"{net.arch.output_activation!r}.")
    if limit is not None:
        from .._validation import check_magnitude

        check_magnitude(name, net.params, limit, what="parameters")
    return net


#: Largest parameter magnitude the degeneracy tests and the canonical form accept (their norms
#: square the weights; the distances scale or decide in rationals instead).
MAX_PARAMETER = 1e150


def shallow_form(net, augment=None, *, name="net"):
    """Bias-free form of a shallow ReLU network.

    Parameters
    ----------
    net : Network
        Shallow ReLU network.
    augment : {"none", "bias", "c3"} or None
        Input augmentation (module docstring). ``None``: ``"none"`` when the network has no
        biases, ``"bias"`` otherwise.
    name : str, default="net"
        Name of the argument, for error messages.

    Returns
    -------
    ShallowForm
        The weight vectors ``A`` (rows, on the augmented input) and output vectors ``C`` of
        the bias-free form, with the augmentation.

    Raises
    ------
    ValidationError
        ``augment="none"`` for a network with biases.

    See Also
    --------
    augment_inputs, topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: two-layer
           networks without biases, R(Θ)(x) = Σ_i c_i ρ(⟨a_i, x⟩).
    """
    _check_net(net, name)
    has_bias = net.arch.hidden_bias or net.arch.output_bias
    if augment is None:
        augment = "bias" if has_bias else "none"
    augment = check_choice("augment", augment, AUGMENTATIONS)
    if augment == "none" and has_bias:
        raise ValidationError("`augment` must be 'bias' or 'c3' for a network with biases; "
                              "got 'none'.")
    (W1, b1), (W2, b2) = net.arch.unpack(net.params)
    A = np.array(W1, dtype=np.float64)
    C = np.array(W2.T, dtype=np.float64)
    origin = np.arange(A.shape[0])
    if augment == "none":
        return ShallowForm(A, C, "none", net.arch.inputs, origin)
    b = np.zeros(A.shape[0]) if b1 is None else np.array(b1)
    A = np.concatenate([A, b[:, None]], axis=1)
    if b2 is not None and np.any(b2 != 0):
        row = np.zeros((1, A.shape[1]))
        row[0, -1] = 1.0
        A = np.concatenate([A, row])
        C = np.concatenate([C, np.asarray(b2, dtype=np.float64)[None, :]])
        origin = np.concatenate([origin, [-1]])
    form = ShallowForm(A, C, "bias", net.arch.inputs, origin)
    return c3_augment(form) if augment == "c3" else form


def c3_augment(form):
    """``(w, b)`` on ``(x, 1)`` ↦ ``(w, b⁺ + τ, b⁻ + τ)`` on ``(x, 1, −1)``, ``τ = ||(w, b)||``.

    In float64: ``τ``, ``b⁺ + τ`` and ``b⁻ + τ`` are rounded, so the lifted row realizes
    ``ρ(w·x + b')`` with ``|b' − b|`` up to about ``ulp(τ)`` (a bias ``1e-20`` next to
    ``||w|| = 1`` is lost), and rows on one ray may leave it (``(1, 1)`` and ``(3, 3)``) or
    rows on two rays share one. No exact float lift keeps a margin ``τ``: exact decisions
    (C.2) are taken on the rows before it.
    """
    if form.augment == "c3":
        return form
    if form.augment == "none":
        A = np.concatenate([form.A, np.zeros((form.width, 1))], axis=1)
    else:
        A = form.A
    w, b = A[:, :-1], A[:, -1]
    tau = np.linalg.norm(A, axis=1)
    u = np.maximum(b, 0.0) + tau
    v = np.maximum(-b, 0.0) + tau
    A3 = np.concatenate([w, u[:, None], v[:, None]], axis=1)
    return ShallowForm(A3, form.C.copy(), "c3", form.inputs, form.origin.copy())


def form_network(A, C):
    """Bias-free shallow ReLU ``Network`` with weight vectors ``A`` (rows) and outputs ``C``."""
    from ..network import Network

    A = np.asarray(A, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    if A.shape[0] == 0:
        A = np.zeros((1, A.shape[1]))
        C = np.zeros((1, C.shape[1]))
    return Network.from_weights([A, C.T], None, activation="relu")


def pair_forms(net_a, net_b, augment=None):
    """Forms of two networks on a common augmented input (lifted together)."""
    _check_net(net_a, "net_a")
    _check_net(net_b, "net_b")
    if net_a.arch.inputs != net_b.arch.inputs or net_a.arch.outputs != net_b.arch.outputs:
        raise ValidationError(
            f"`net_b` must have the input/output dimensions of `net_a` "
            f"({net_a.arch.inputs}, {net_a.arch.outputs}); got "
            f"({net_b.arch.inputs}, {net_b.arch.outputs}).")
    if augment is None:
        biased = any(n.arch.hidden_bias or n.arch.output_bias for n in (net_a, net_b))
        augment = "bias" if biased else "none"
    return shallow_form(net_a, augment, name="net_a"), shallow_form(net_b, augment, name="net_b")
