"""Topology of a concrete shallow network: invariants, components, reachability.

For a shallow network with a positively homogeneous activation, gradient flow keeps every
hidden neuron ``k`` on the quadric ``Q(c_k)``, ``c_k = ||w_k||² − ||a_k||²`` (``w_k`` includes
the hidden bias), so training never leaves the component of ``H(c) = Q(c_1) × … × Q(c_l)``
it starts in (Nurisso, Leroy, Vaccarino). This module reads that component off a
:class:`~topoanalysis.network.Network` (:func:`network_topology`) and decides whether a target
network's function can be realized inside it (:func:`reachability`).

Vocabulary
----------
pathological neuron
    ``c_k < 0``. With ``e = 1`` its output weight can never change sign (``a_k² >= −c_k``);
    with ``e >= 2`` ``Q(c_k)`` is connected and ``a_k`` only stays away from 0.
frozen slot
    A neuron whose quadric has two components: pathological with ``e = 1`` (sign of ``a_k``),
    or ``c_k > 0`` with a one-dimensional ``w_k`` (one input, no hidden bias; sign of
    ``w_k``). See :mod:`topoanalysis.graphs.components`.
component
    The sign vector over the frozen slots (for ``e = 1``, ``d >= 2``: the signs of the
    pathological output weights).

Activations
-----------
ReLU and leaky ReLU: the symmetries are permutations and positive rescalings. ``abs``
(and ``leaky_relu(-1)``, the same function) has one more, ``w_k ↦ −w_k`` (``|w·x|`` is even):
it keeps ``Q(c_k)`` and the function, so components that differ only in a frozen sign of
``w_k`` (kind ``"w"``) are observationally equivalent; :func:`network_topology` and
:func:`reachability` use it. ``linear`` networks (and ``leaky_relu(1)``) conserve the whole
matrix ``W1 W1ᵀ − W2ᵀ W2`` (not only its diagonal ``c_k``) and have the ``GL(l)`` symmetry and
``(w_k, a_k) ↦ (−w_k, −a_k)``; the components of ``H(c)`` then neither confine training nor
decide reachability, so both functions refuse them with :class:`NotSupportedError`.
"""

import dataclasses
import math

import networkx as nx
import numpy as np

from .. import activations as _act
from .._validation import check_choice, check_float, check_int, renamed_kwargs
from ..exceptions import NotSupportedError, ValidationError
from ..graphs import components as _components
from ..network import Network
from ..symbolic import quadrics as _quadrics

__all__ = [
    "DEFAULT_ATOL",
    "NetworkTopology",
    "ReachabilityResult",
    "network_topology",
    "pathological_neurons",
    "zero_neurons",
    "reachability",
    "is_reachable",
]

#: ``|c_k| <= atol`` counts as ``c_k = 0``. ``0``: the signs of the ``c_k`` of the float
#: parameters, decided exactly (they decide the topology of ``H(c)``, its components and
#: reachability); a positive ``atol`` is a modelling choice, reported in ``treated_as_zero``.
DEFAULT_ATOL = 0.0


def _sign_symmetry(arch):
    """``"abs"``, ``"linear"`` or None: the sign symmetry an activation adds to rescaling."""
    if arch.activation == "abs" or (arch.activation == "leaky_relu"
                                    and arch.negative_slope == -1.0):
        return "abs"
    if arch.activation == "linear" or (arch.activation == "leaky_relu"
                                       and arch.negative_slope == 1.0):
        return "linear"
    return None


def _check_network(name, net, *, components=False):
    if not isinstance(net, Network):
        raise ValidationError(f"`{name}` must be a Network; got {type(net).__name__}.")
    if not net.arch.is_shallow:
        raise NotSupportedError(
            f"`{name}` must be a shallow network (one hidden layer); got hidden widths "
            f"{net.arch.hidden}.")
    if not _act.is_positively_homogeneous(net.arch.activation):
        raise NotSupportedError(
            f"`{name}` uses activation {net.arch.activation!r}; the conserved quantities and "
            f"the rescaling symmetry need a positively homogeneous activation "
            f"({', '.join(_act.HOMOGENEOUS_ACTIVATIONS)}).")
    if components and _sign_symmetry(net.arch) == "linear":
        raise NotSupportedError(
            f"`{name}` is a linear network (activation "
            f"{'leaky_relu(1)' if net.arch.activation == 'leaky_relu' else 'linear'}): "
            f"it conserves the whole matrix W1 W1^T - W2^T W2, not "
            f"only its diagonal c_k, and has the GL(l) symmetry and (w_k, a_k) -> (-w_k, -a_k), "
            f"so the components of H(c) do not decide what training can reach; components and "
            f"reachability are supported for relu, leaky_relu (slope != 1) and abs.")
    return net


def _signs(c, atol):
    s = np.sign(c).astype(np.int64)
    s[np.abs(c) <= atol] = 0
    return s


def _exact_signs(w, a, c, atol):
    """Signs of ``c_k = ||w_k||² − ||a_k||²`` against ``atol``, decided exactly.

    The float ``c_k`` has absolute error at most ``γ_n (||w_k||² + ||a_k||²)`` (``n`` terms,
    Higham (3.5)); where ``|c_k|`` is farther than twice that from ``0`` and from ``atol`` the
    float decides, otherwise ``c_k`` is recomputed in ``Fraction`` from the float weights and
    compared with the rational ``atol``. Returns ``(signs, treated_as_zero mask)``.
    """
    from fractions import Fraction

    n = w.shape[1] + a.shape[1] + 2
    gamma = n * 2.0 ** -53 / (1.0 - n * 2.0 ** -53)
    with np.errstate(over="ignore"):
        bound = 2.0 * gamma * (np.sum(w * w, axis=1) + np.sum(a * a, axis=1)) + 1e-300
    signs = _signs(c, atol)
    nonzero = c != 0
    unsure = (np.abs(c) <= bound) | (np.abs(np.abs(c) - atol) <= bound) | ~np.isfinite(bound)
    if unsure.any():
        q_atol = Fraction(float(atol))
        for k in np.flatnonzero(unsure):
            q = _exact_c(w[k], a[k])
            signs[k] = 0 if abs(q) <= q_atol else (1 if q > 0 else -1)
            nonzero[k] = q != 0
    return signs, (signs == 0) & nonzero


def _exact_c_signs(arch, theta):
    """Exact signs of ``c_k`` for shallow parameters ``theta`` of shape ``(..., P)``.

    Returns an int array of shape ``(..., l)`` with entries in {-1, 0, 1}
    (:func:`_exact_signs` with ``atol = 0``: float filter, ``Fraction`` fallback).
    """
    (W1, b1), (W2, _) = arch.unpack(np.asarray(theta, dtype=np.float64))
    w = W1 if b1 is None else np.concatenate([W1, b1[..., None]], axis=-1)   # (..., l, dw)
    a = np.swapaxes(W2, -1, -2)                                             # (..., l, e)
    lead = w.shape[:-1]
    w = w.reshape(-1, w.shape[-1])
    a = a.reshape(-1, a.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        c = np.sum(w * w, axis=1) - np.sum(a * a, axis=1)
    signs, _ = _exact_signs(w, a, c, 0.0)
    return signs.reshape(lead)


@dataclasses.dataclass(frozen=True, eq=False)
class NetworkTopology:
    """Where a shallow network sits in ``H(c)``.

    Attributes
    ----------
    inputs, outputs, width : int
        ``d``, ``e``, ``l``.
    hidden_bias : bool
    dimension_w : int
        Dimension of ``w_k`` (``d + 1`` with hidden biases): the ``d`` of the quadrics.
    atol : float
    conserved_quantities : ndarray of shape (l,)
        ``c_k = ||w_k||² − ||a_k||²``.
    signs : ndarray of shape (l,)
        Sign of each ``c_k`` (``0`` when ``|c_k| <= atol``).
    treated_as_zero : tuple of int
        Neurons with ``0 < |c_k| <= atol``.
    pathological : tuple of int
        Neurons with ``c_k < 0``.
    l_plus, l_minus, l_zero : int
        Numbers of neurons with ``c_k > 0``, ``< 0``, ``= 0`` (the paper's ``l_+`` counts
        ``c_k >= 0``: ``l_plus + l_zero``).
    frozen_slots : tuple of int
        Neurons whose quadric has two components.
    frozen_kinds : tuple of str
        ``"a"`` (sign of the output weight frozen) or ``"w"`` (sign of ``w_k``, ``d = 1``).
    component : tuple of int
        Frozen signs, in the order of ``frozen_slots``: the component of ``H(c)`` (a node of
        :func:`~topoanalysis.graphs.components.component_graph`).
    n_components : int
        ``b_0(H(c))`` (``2^{l_−}`` for ``e = 1``, ``d >= 2``), exact.
    betti_numbers : BettiNumbers
        Lazy, exact; compares equal to the tuple ``(b_0, …, b_top)``.
    poincare_polynomial : PoincareProduct
        Closed form ``(1 + t^{d−1})^{l_+} (1 + t^{e−1})^{l_−}`` (Künneth), never expanded;
        ``.as_expr()`` is the factored SymPy expression, ``.poly`` the expanded one.
    homotopy_type : str
    n_effective_components : int
        Counted on the quotient component graph.
    effective_component : int or tuple
        Node of :func:`~topoanalysis.graphs.components.quotient_component_graph` holding
        ``component`` (the number of positive pathological output weights when only
        output-weight signs are frozen).
    sign_symmetries : tuple of str
        Symmetries used beyond permutations and rescalings (``("w_k -> -w_k",)`` for ``abs``:
        frozen signs of ``w_k`` then do not separate effective components).
    """

    inputs: int
    outputs: int
    width: int
    hidden_bias: bool
    dimension_w: int
    atol: float
    conserved_quantities: np.ndarray
    signs: np.ndarray
    treated_as_zero: tuple
    pathological: tuple
    l_plus: int
    l_minus: int
    l_zero: int
    frozen_slots: tuple
    frozen_kinds: tuple
    component: tuple
    n_components: int
    betti_numbers: tuple
    poincare_polynomial: object
    homotopy_type: str
    n_effective_components: int
    effective_component: object
    sign_symmetries: tuple = ()

    @property
    def disconnected(self):
        """True when ``H(c)`` has more than one component."""
        return self.n_components > 1

    @property
    def obstructed(self):
        """True when ``H(c)`` has more than one *effective* component."""
        return self.n_effective_components > 1

    def summary(self):
        """Multi-line human-readable description.

        Returns
        -------
        str
            Lines of text.
        """
        path = _listed([str(k) for k in self.pathological]) or "none"
        frozen = {"a": "output weight", "w": "input weight"}
        lines = [
            f"shallow network d={self.inputs}, l={self.width}, e={self.outputs}"
            f"{' with hidden biases' if self.hidden_bias else ''} (w_k in R^{self.dimension_w})",
            "conserved quantities c_k = ||w_k||^2 - ||a_k||^2: "
            + np.array2string(self.conserved_quantities, precision=4, separator=", "),
            f"l_+ = {self.l_plus} (c > 0), l_- = {self.l_minus} (c < 0), "
            f"l_0 = {self.l_zero} "
            + (f"(|c| <= {self.atol:g})" if self.atol else "(c = 0 exactly)"),
            f"pathological neurons (c_k < 0): {path}",
        ]
        if self.treated_as_zero:
            lines.append("treated as c_k = 0 by the tolerance: "
                         + _listed([str(k) for k in self.treated_as_zero]))
        if self.frozen_slots:
            desc = _listed([
                f"{k}: {frozen[kind]} {'+' if s > 0 else '-'}"
                for k, kind, s in zip(self.frozen_slots[:_LISTED + 1], self.frozen_kinds,
                                      self.component)], total=len(self.frozen_slots))
            lines.append(f"frozen signs (neuron: sign): {desc}")
        lines += [
            f"H(c) ~ {_quadrics.short_text(self.homotopy_type)}; Poincare polynomial "
            f"{self.poincare_polynomial}; Betti numbers "
            f"{self.poincare_polynomial.betti_summary()}",
            f"components of H(c): {_quadrics.int_text(self.n_components)}; this network lies in "
            f"{_components.component_label(self.component)}",
            f"effective components: {self.n_effective_components}; this network's class "
            f"(number of positive frozen signs): {self.effective_component!r}"
            + (" (topologically obstructed)" if self.obstructed else ""),
        ]
        if self.sign_symmetries:
            lines.append("effective components also use the symmetries: "
                         + ", ".join(self.sign_symmetries))
        return "\n".join(lines)

    def to_dict(self):
        """JSON-ready dictionary (lists, ints, floats, strings).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        eff = self.effective_component
        return {
            "inputs": self.inputs, "outputs": self.outputs, "width": self.width,
            "hidden_bias": self.hidden_bias, "dimension_w": self.dimension_w,
            "atol": self.atol,
            "conserved_quantities": [float(x) for x in self.conserved_quantities],
            "signs": [int(x) for x in self.signs],
            "treated_as_zero": list(self.treated_as_zero),
            "pathological": list(self.pathological),
            "l_plus": self.l_plus, "l_minus": self.l_minus, "l_zero": self.l_zero,
            "frozen_slots": list(self.frozen_slots), "frozen_kinds": list(self.frozen_kinds),
            "component": list(self.component),
            "n_components": self.n_components if self.n_components.bit_length() <= 128 else None,
            "log2_n_components": float(np.log2(float(self.n_components)))
            if self.n_components.bit_length() < 1000 else float(self.n_components.bit_length() - 1),
            "betti_numbers": self.betti_numbers.to_list(),
            "poincare_polynomial": str(self.poincare_polynomial.as_expr()),
            "poincare_powers": [list(p) for p in self.poincare_polynomial.powers],
            "homotopy_type": self.homotopy_type,
            "n_effective_components": self.n_effective_components,
            "effective_component": list(eff) if isinstance(eff, tuple) else eff,
            "disconnected": self.disconnected, "obstructed": self.obstructed,
            "sign_symmetries": list(self.sign_symmetries),
        }

    def __repr__(self):
        return (f"NetworkTopology(d={self.inputs}, l={self.width}, e={self.outputs}, "
                f"l_plus={self.l_plus}, l_minus={self.l_minus}, l_zero={self.l_zero}, "
                f"n_components={self.n_components}, "
                f"n_effective_components={self.n_effective_components})")


_LISTED = 20


def _listed(items, total=None, limit=_LISTED):
    """``"a, b, c"``, or the first ``limit`` items and how many more."""
    total = len(items) if total is None else total
    if total <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f", ... ({total - limit} more)"


@renamed_kwargs(network="net")
def network_topology(net, *, atol=DEFAULT_ATOL):
    """Conserved quantities, pathological neurons and the component of ``H(c)`` of a network.

    Parameters
    ----------
    net : Network
        Shallow, with activation ``relu``, ``leaky_relu`` (slope ≠ 1) or ``abs``; any ``d``,
        ``l``, ``e``, biases. For ``abs`` the effective components also use ``w_k ↦ −w_k``.
    atol : float, default=0.0
        ``|c_k| <= atol`` counts as ``c_k = 0``. The default decides every sign exactly from
        the float parameters (``c = 2⁻⁴³`` is positive); a positive ``atol`` is a modelling
        choice (e.g. for a network meant to be balanced), listed in ``treated_as_zero``.

    Returns
    -------
    NetworkTopology
        The conserved quantities and their signs, the pathological and frozen neurons, the
        component of ``H(c)`` holding the network, the number of components, the Betti numbers
        and the effective components.

    Raises
    ------
    ValidationError
        If ``net`` is not a :class:`Network` or ``atol`` is invalid.
    NotSupportedError
        For deep networks, activations that are not positively homogeneous, and linear
        networks (their conserved set is cut out by the whole matrix ``W1 W1ᵀ − W2ᵀ W2``
        and their symmetries include ``GL(l)``; see the module docstring).

    See Also
    --------
    topoanalysis.obstruction.reachability : Which functions the component can reach.
    topoanalysis.graphs.component_graph : The graph of the components.

    Notes
    -----
    Topology via :func:`topoanalysis.symbolic.quadrics.invariant_set_topology` (Künneth),
    effective components counted on
    :func:`topoanalysis.graphs.components.quotient_component_graph`. O(l) plus the
    quotient graph (O(l) nodes unless ``d = e = 1``). Paper: Nurisso, Leroy, Vaccarino,
    Theorem 1 and the definition of pathological neurons.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1, Definition 2, pathological
           neurons.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0, 0.0], [0.1, 0.0], [0.2, 0.1]]),
    ...                             np.array([[0.5, -2.0, 1.0]])])
    >>> top = network_topology(net)
    >>> top.pathological, top.component, top.n_components, top.n_effective_components
    ((1, 2), (-1, 1), 4, 1)
    >>> top.betti_numbers
    (4, 4)
    """
    _check_network("net", net, components=True)
    atol = check_float("atol", atol, minimum=0.0)
    w, a = net.neuron_weights()
    c = net.conserved_quantities()
    flip_w = _sign_symmetry(net.arch) == "abs"
    dw, e = w.shape[1], a.shape[1]
    signs, treated = _exact_signs(w, a, c, atol)
    kinds = _components._kinds(tuple(int(s) for s in signs), dw, e)
    slots = tuple(k for k, kind in enumerate(kinds) if kind is not None)
    component = tuple(int(np.sign(a[k, 0] if kinds[k] == "a" else w[k, 0])) for k in slots)
    # the topology depends on the signs only: pass them (decided exactly above)
    sgn = [float(s) for s in signs]
    H = _quadrics.invariant_set_topology(sgn, dw, e, atol=0.0)
    if flip_w:  # w_k -> -w_k: frozen signs of w_k are free up to observational equivalence
        Q = _components.quotient_component_graph(sgn, max(dw, 2), e, atol=0.0)
        q_component = tuple(s for s, k in zip(component, slots) if kinds[k] == "a")
    else:
        Q = _components.quotient_component_graph(sgn, dw, e, atol=0.0)
        q_component = component
    return NetworkTopology(
        inputs=net.arch.inputs, outputs=e, width=len(c),
        hidden_bias=net.arch.hidden_bias, dimension_w=dw, atol=atol,
        conserved_quantities=c, signs=signs,
        treated_as_zero=tuple(int(k) for k in np.flatnonzero(treated)),
        pathological=tuple(int(k) for k in np.flatnonzero(signs < 0)),
        l_plus=int(np.sum(signs > 0)), l_minus=int(np.sum(signs < 0)),
        l_zero=int(np.sum(signs == 0)), frozen_slots=slots,
        frozen_kinds=tuple(kinds[k] for k in slots), component=component,
        n_components=int(H.n_components), betti_numbers=H.betti_numbers,
        poincare_polynomial=H.poincare, homotopy_type=H.homotopy_type,
        n_effective_components=_components.number_effective_components(Q),
        effective_component=_components.quotient_node(Q, q_component),
        sign_symmetries=("w_k -> -w_k",) if flip_w else (),
    )


@renamed_kwargs(network="net")
def pathological_neurons(net, *, atol=DEFAULT_ATOL):
    """Indices of the neurons with ``c_k < −atol`` (pathological).

    Parameters
    ----------
    net : Network
        Shallow network.
    atol : float, default=0.0
        ``c_k < −atol`` counts as negative (default: exactly ``c_k < 0``).

    Returns
    -------
    ndarray of int
        Indices of the pathological neurons.

    See Also
    --------
    network_topology, zero_neurons

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: pathological neurons, c_k < 0.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0], [0.1]]), np.array([[0.5, -2.0]])])
    >>> pathological_neurons(net).tolist()
    [1]
    """
    _check_network("net", net)
    atol = check_float("atol", atol, minimum=0.0)
    w, a = net.neuron_weights()
    signs, _ = _exact_signs(w, a, net.conserved_quantities(), atol)
    return np.flatnonzero(signs < 0)


@renamed_kwargs(network="net")
def zero_neurons(net, *, zero_atol=0.0):
    """Indices of neurons that contribute the zero function on all of ``R^d``.

    A neuron ``a σ(w·x + b)`` is a zero neuron when ``||a|| <= zero_atol``, or
    ``||(w, b)|| <= zero_atol`` (positively homogeneous ``σ`` has ``σ(0) = 0``), or, for ReLU
    only (``leaky_relu`` with slope 0 included), ``||w|| <= zero_atol`` and ``b < 0`` (dead
    for every input).

    Parameters
    ----------
    net : Network
        Shallow network.
    zero_atol : float, default=0.0
        Output weights up to this norm count as zero.

    Returns
    -------
    ndarray of int
        Indices of the zero neurons.

    See Also
    --------
    network_topology, pathological_neurons

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: c_k = 0 and the cone of a zero neuron.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0], [0.0], [0.0]]), np.array([[0.0, 1.0, 2.0]])],
    ...                            [np.array([0.0, -1.0, 0.0]), None])
    >>> zero_neurons(net).tolist()
    [0, 1, 2]
    """
    _check_network("net", net)
    zero_atol = check_float("zero_atol", zero_atol, minimum=0.0)
    return np.flatnonzero(_zero_mask(net, zero_atol))


def _small(v, zero_atol):
    """Rows with ``||v_k|| <= zero_atol``: exactly ``v_k = 0`` for ``zero_atol = 0``, else the
    norm taken on the row scaled by a power of two (no underflow to 0 of a non-zero row)."""
    v = np.asarray(v, dtype=np.float64)
    if zero_atol == 0:
        return ~np.any(v != 0, axis=1)
    _, e = np.frexp(np.max(np.abs(v), axis=1, initial=0.0))
    with np.errstate(over="ignore", under="ignore"):
        norms = np.ldexp(np.linalg.norm(np.ldexp(v, -e[:, None]), axis=1), e)
    return norms <= zero_atol


def _unit(v):
    """``v / ||v||`` for ``v ≠ 0``, computed on ``v`` scaled by a power of two."""
    _, e = np.frexp(np.max(np.abs(v)))
    u = np.ldexp(np.asarray(v, dtype=np.float64), -e)
    return u / np.linalg.norm(u)


def _exact_c(w, a):
    """``c = ||w||² − ||a||²`` of one neuron as an exact ``Fraction``."""
    from fractions import Fraction

    return (sum(Fraction(float(x)) ** 2 for x in w) - sum(Fraction(float(x)) ** 2 for x in a))


def _zero_mask(net, zero_atol):
    w, a = net.neuron_weights()
    mask = _small(a, zero_atol) | _small(w, zero_atol)
    relu = net.arch.activation == "relu" or (net.arch.activation == "leaky_relu"
                                             and net.arch.negative_slope == 0.0)
    if relu and net.arch.hidden_bias:   # leaky_relu(0) is ReLU: its dead neurons too
        d = net.arch.inputs
        mask |= _small(w[:, :d], zero_atol) & (w[:, d] < 0)
    return mask


@dataclasses.dataclass(frozen=True, eq=False)
class ReachabilityResult:
    """Outcome of :func:`reachability`.

    Attributes
    ----------
    reachable : bool
        Whether a parameter realizing the target's function lies in the initial network's
        component of ``H(c)`` (with the moves described in :func:`reachability`).
    reason : str
        Human-readable explanation (why not, or how).
    assignment : ndarray of shape (l,) or None
        ``assignment[k]``: index of the target neuron placed in initial slot ``k``; ``-1`` for a
        zero neuron added because the target is narrower. None when not reachable.
    alphas : ndarray of shape (l,) or None
        Rescaling factor ``α_k > 0`` of the target neuron in slot ``k``; NaN where a zero
        neuron was replaced by another zero neuron on ``Q(c_k)``.
    replaced : tuple of int
        Slots filled by a replaced zero neuron.
    zero_neurons : tuple of int
        Target neurons recognized as zero neurons.
    realization : Network or None
        The constructed parameter (initial architecture), when reachable.
    verified : bool
        The realization was checked: same function as the target on random inputs,
        conserved quantities of the initial network, same component.
    function_error : float
        Max abs difference of the outputs on the check inputs (NaN when not reachable).
    invariant_error : float
        Max ``|c_k(realization) − c_k(initial)|`` (NaN when not reachable).
    initial_topology : NetworkTopology
    """

    reachable: bool
    reason: str
    assignment: object
    alphas: object
    replaced: tuple
    zero_neurons: tuple
    realization: object
    verified: bool
    function_error: float
    invariant_error: float
    initial_topology: NetworkTopology

    def __bool__(self):
        return self.reachable

    def summary(self):
        """Multi-line human-readable description.

        Returns
        -------
        str
            Lines of text.
        """
        head = "reachable" if self.reachable else "NOT reachable"
        lines = [f"{head}: {self.reason}"]
        if self.reachable:
            pairs = ", ".join(
                f"slot {k} <- target {int(j) if j >= 0 else 'zero'}"
                + ("" if np.isnan(al) else f" (alpha={al:.4g})")
                for k, (j, al) in enumerate(zip(self.assignment, self.alphas)))
            lines.append(f"assignment: {pairs}")
            lines.append(f"verified: {self.verified} (function error {self.function_error:.2e}, "
                         f"invariant error {self.invariant_error:.2e})")
        return "\n".join(lines)

    def to_dict(self):
        """JSON-ready dictionary (the realization as its flat parameter list).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        def floats(x):
            return None if x is None else [None if np.isnan(v) else float(v) for v in x]
        return {
            "reachable": self.reachable, "reason": self.reason,
            "assignment": None if self.assignment is None else [int(j) for j in self.assignment],
            "alphas": floats(self.alphas), "replaced": list(self.replaced),
            "zero_neurons": list(self.zero_neurons),
            "realization": None if self.realization is None
            else [float(v) for v in self.realization.params],
            "verified": self.verified,
            "function_error": None if np.isnan(self.function_error) else self.function_error,
            "invariant_error": None if np.isnan(self.invariant_error) else self.invariant_error,
            "initial_topology": self.initial_topology.to_dict(),
        }


def _alpha(W, A, c):
    """``α > 0`` with ``α² W − A / α² = c`` for ``W, A > 0`` (stable root of the quadratic)."""
    root = np.sqrt(c * c + 4.0 * W * A)
    u = (c + root) / (2.0 * W) if c >= 0 else (2.0 * A) / (root - c)
    return float(np.sqrt(u))


def _to_float(q):
    """A positive ``Fraction`` (or mpmath number) as a float, ``inf`` beyond float64."""
    import mpmath

    return float(mpmath.mpf(q.numerator) / q.denominator) if hasattr(q, "numerator") \
        else float(q)


def _alpha_exact(W, A, c):
    """:func:`_alpha` without overflow or underflow: ``W``, ``A``, ``c`` exact ``Fraction``;
    returns an mpmath number (any exponent)."""
    import mpmath

    with mpmath.workprec(120):
        W, A, c = (mpmath.mpf(x.numerator) / x.denominator for x in (W, A, c))
        root = mpmath.sqrt(c * c + 4 * W * A)
        u = (c + root) / (2 * W) if c >= 0 else (2 * A) / (root - c)
        return mpmath.sqrt(u)


def _sqrt_ratio(p, q):
    """``sqrt(p / q)`` of exact positive ``Fraction`` as an mpmath number (any exponent)."""
    import mpmath

    with mpmath.workprec(120):
        return mpmath.sqrt((mpmath.mpf(p.numerator) * q.denominator)
                           / (mpmath.mpf(p.denominator) * q.numerator))


def _rescaled(al, w, a):
    """``(α w, a / α)`` in float64; ``α`` a float, or an mpmath number beyond float64's range
    (then each entry is rounded once from the exact product)."""
    if isinstance(al, float):
        return al * w, a / al
    import mpmath

    with mpmath.workprec(120):
        return (np.array([float(al * mpmath.mpf(float(x))) for x in w]),
                np.array([float(mpmath.mpf(float(x)) / al) for x in a]))


_SLOT_TEXT = {
    ("a", -1): "pathological neuron{s} with negative output weight",
    ("a", 1): "pathological neuron{s} with positive output weight",
    ("w", -1): "neuron{s} with frozen negative input weight (c_k > 0, one-dimensional w_k)",
    ("w", 1): "neuron{s} with frozen positive input weight (c_k > 0, one-dimensional w_k)",
    None: "neuron{s} without frozen sign",
}
_TARGET_TEXT = {
    ("a", -1): "with negative output weight", ("a", 1): "with positive output weight",
    ("w", -1): "with negative input weight", ("w", 1): "with positive input weight",
}


def _plural(n, text):
    return f"{n} " + text.format(s="" if n == 1 else "s")


def reachability(initial, target, *, atol=DEFAULT_ATOL, zero_atol=0.0, zero_neurons="replace",
                 n_check=256, seed=0):
    """Whether the target's function can be realized in the initial network's component of ``H(c)``.

    Gradient flow from ``initial`` stays in one component of ``H(c)``. This asks whether some
    parameter realizing the same function as ``target`` lies in that component, using the
    symmetries: permute the target's neurons, rescale each target neuron
    ``(w, a) → (α w, a/α)`` onto ``Q(c_k)`` of the slot it is assigned to, and (by default)
    replace zero neurons.

    Parameters
    ----------
    initial, target : Network
        Shallow networks with the same ``d``, ``e``, bias flags and activation (``relu``,
        ``leaky_relu`` with slope ≠ 1, or ``abs``; for ``abs`` a target neuron may also be
        flipped, ``w ↦ −w``, which frees the frozen signs of ``w_k``). The target may be
        narrower (padded with zero neurons) or wider (only if the surplus neurons are zero
        neurons).
    atol : float, default=0.0
        ``|c_k| <= atol`` counts as ``c_k = 0`` for the initial network (a connected cone).
        The default decides the signs exactly: gradient flow conserves ``c_k`` exactly, so a
        ``c_k = 2⁻⁴³ > 0`` of a one-dimensional ``w_k`` freezes its sign; a positive ``atol``
        is a modelling choice.
    zero_atol : float, default=0.0
        Target neurons with ``||a|| <= zero_atol`` or ``||w|| <= zero_atol`` are zero neurons
        (see :func:`zero_neurons`).
    zero_neurons : {"replace", "orbit"}, default="replace"
        ``"replace"``: a zero neuron realizes the zero function whatever its parameters, so it
        is replaced by ``(w, 0)`` with ``||w||² = c_k`` (``c_k > 0``), ``(0, a)`` with
        ``||a||² = −c_k`` (``c_k < 0``) or ``(0, 0)`` (``c_k = 0``), directions taken from the
        initial slot: it fits every slot and every component. ``"orbit"``: only the
        rescaling orbit is used: ``(w ≠ 0, 0)`` reaches only ``c_k > 0``, ``(0, a ≠ 0)`` only
        ``c_k < 0`` (signs preserved), ``(0, 0)`` only ``c_k = 0``.
    n_check : int, default=256
        Number of random inputs used to verify the realized function.
    seed : int, default=0
        Seed of the check inputs.

    Returns
    -------
    ReachabilityResult
        Whether it can, why, and (when it can) the neuron assignment, the rescalings and the
        realizing network with the checks of its function and invariants.

    Raises
    ------
    ValidationError
        On bad arguments or architectures that differ in ``d``, ``e``, biases or activation.
    NotSupportedError
        For deep networks, non-homogeneous activations and linear networks.

    See Also
    --------
    topoanalysis.obstruction.network_topology : The component of the initial network.
    topoanalysis.obstruction.is_reachable : Only the yes/no answer.

    Notes
    -----
    A target neuron with ``w ≠ 0`` and ``a ≠ 0`` can be rescaled onto any ``Q(c)``
    (``α ↦ α²||w||² − ||a||²/α²`` is onto ``R``); rescaling keeps the signs of ``a`` and ``w``.
    So it fits slot ``k`` unless slot ``k`` freezes a sign (pathological with ``e = 1``: the
    sign of ``a_k``; ``c_k > 0`` with one-dimensional ``w_k``: the sign of ``w_k``) that
    differs from the neuron's. This is a bipartite matching between target neurons and
    initial slots (``networkx`` Hopcroft–Karp, O(l^{2.5})); when no perfect matching exists
    the reason is read off a Hall violator (König's theorem). Zero neurons realize the zero
    function, so replacing one changes no output, but it leaves the symmetry orbit of the
    target: that is why ``"orbit"`` is offered. Other function-preserving
    reparametrizations (splitting or merging collinear neurons, absorbing a constant neuron
    into the output bias) are not used, so ``reachable=False`` means: no parameter of this
    form. ``reachable=True`` means the target is not topologically obstructed; it does not
    mean gradient flow finds it. When reachable, the constructed parameter is verified
    numerically (function on ``n_check`` Gaussian inputs, conserved quantities, component).
    Paper: Nurisso, Leroy, Vaccarino (the obstruction makes the optimum unreachable).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1 and Definition 2: gradient
           flow stays in one component of H(c).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> W1 = np.array([[0.1, 0.0], [0.0, 0.1], [0.1, 0.1]])
    >>> init = Network.from_weights([W1, np.array([[-1.0, -1.0, -1.0]])])  # all pathological
    >>> W1t = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    >>> good = Network.from_weights([W1t, np.array([[-2.0, -1.0, -0.5]])])
    >>> reachability(init, good).reachable
    True
    >>> bad = Network.from_weights([W1t, np.array([[2.0, -1.0, 0.5]])])
    >>> res = reachability(init, bad)
    >>> res.reachable
    False
    >>> print(res.reason)
    the initial network has 3 pathological neurons with negative output weight (frozen signs), but the target has only 1 neuron that can take their place (1 with negative output weight, 0 zero neurons)
    """
    _check_network("initial", initial, components=True)
    _check_network("target", target, components=True)
    atol = check_float("atol", atol, minimum=0.0)
    zero_atol = check_float("zero_atol", zero_atol, minimum=0.0)
    zero_neurons = check_choice("zero_neurons", zero_neurons, ("replace", "orbit"))
    n_check = check_int("n_check", n_check, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    ai, at = initial.arch, target.arch
    for field in ("inputs", "outputs", "hidden_bias", "output_bias", "activation",
                  "negative_slope"):
        if getattr(ai, field) != getattr(at, field):
            raise ValidationError(
                f"`target` must have the same {field} as `initial` ({getattr(ai, field)!r}); "
                f"got {getattr(at, field)!r}.")
    topo = network_topology(initial, atol=atol)
    w0, a0 = initial.neuron_weights()
    c0 = topo.conserved_quantities
    l, dw, e = topo.width, topo.dimension_w, topo.outputs
    wt, at_ = target.neuron_weights()
    is_zero = _zero_mask(target, zero_atol)
    w_small, a_small = _small(wt, zero_atol), _small(at_, zero_atol)
    # the signs of c_k decide verdicts and constructions: decided exactly (topo.signs against
    # atol; c_sign without it), never from the float c0 (which can round to 0 or the wrong side)
    c_sign, _ = _exact_signs(w0, a0, c0, 0.0)
    c_val = np.array(c0, dtype=np.float64)
    for k in np.flatnonzero((np.sign(c0) != c_sign) | (c0 == 0)):
        c_val[k] = float(_exact_c(w0[k], a0[k]))
    zeros = tuple(int(j) for j in np.flatnonzero(is_zero))
    req = {k: (kind, s) for k, kind, s in zip(topo.frozen_slots, topo.frozen_kinds,
                                               topo.component)}
    flip_w = _sign_symmetry(ai) == "abs"
    if flip_w:  # abs: w -> -w keeps the function, so a frozen sign of w_k asks nothing
        w_sign = {k: sgn for k, (kind, sgn) in req.items() if kind == "w"}
        req = {k: r for k, r in req.items() if r[0] != "w"}
    else:
        w_sign = {}
    slot_req = [req.get(k) for k in range(l)]

    def feats(j):  # the target neuron's signs that a frozen slot can check
        return {"a": int(np.sign(at_[j, 0])) if e == 1 else 0,
                "w": int(np.sign(wt[j, 0])) if dw == 1 else 0}

    if zero_neurons == "replace":
        movers = [j for j in range(len(wt)) if not is_zero[j]]
        n_wild = l - len(movers)
    else:
        movers = list(range(len(wt)))
        n_wild = l - len(movers)
    if n_wild < 0:
        msg = (f"the target has {len(movers)} neurons that must be placed "
               f"({'nonzero' if zero_neurons == 'replace' else 'all'}), but the initial network "
               f"has only {l} hidden neurons")
        return _unreachable(msg, zeros, topo)

    def fits(j, k):
        if zero_neurons == "orbit" and is_zero[j]:
            if not w_small[j] and a_small[j]:            # (w, 0): c > 0 only
                ok = topo.signs[k] > 0
            elif not a_small[j] and w_small[j]:          # (0, a): c < 0 only
                ok = topo.signs[k] < 0
            elif w_small[j] and a_small[j]:              # (0, 0): c = 0 only
                ok = topo.signs[k] == 0
            else:                                        # ReLU dead neuron with a ≠ 0
                ok = True
            if not ok:
                return False
        r = slot_req[k]
        return r is None or feats(j)[r[0]] == r[1]

    B = nx.Graph()
    left = [("t", j) for j in movers] + [("z", i) for i in range(n_wild)]
    right = [("s", k) for k in range(l)]
    B.add_nodes_from(left, bipartite=0)
    B.add_nodes_from(right, bipartite=1)
    B.add_edges_from((("t", j), ("s", k)) for j in movers for k in range(l) if fits(j, k))
    B.add_edges_from((("z", i), ("s", k)) for i in range(n_wild) for k in range(l))
    # matched on integer labels: hopcroft_karp iterates over sets of nodes, and the order of a
    # set of ("t", j) tuples follows the per-process string hash (PYTHONHASHSEED), so two runs
    # of the same call could pick different maximum matchings, hence different constructions
    nodes = left + right
    ids = {node: i for i, node in enumerate(nodes)}
    Bi = nx.Graph()
    Bi.add_nodes_from(range(len(nodes)))
    Bi.add_edges_from((ids[u], ids[v]) for u, v in B.edges())
    mi = nx.bipartite.hopcroft_karp_matching(Bi, top_nodes=range(len(left)))
    matching = {nodes[u]: nodes[v] for u, v in mi.items()}
    unmatched = [k for k in range(l) if ("s", k) not in matching]
    if unmatched:
        return _unreachable(_hall_reason(B, matching, unmatched, slot_req, feats, is_zero,
                                         zero_neurons, n_wild), zeros, topo)

    # construct the parameter
    spare_zero = [j for j in zeros if j not in set(movers)]
    assignment = np.full(l, -1, dtype=np.int64)
    alphas = np.full(l, np.nan)
    w_new, a_new = np.zeros((l, dw)), np.zeros((l, e))
    replaced, flipped = [], []
    for k in range(l):
        kind, idx = matching[("s", k)]
        if kind == "t":
            j = idx
            assignment[k] = j
            with np.errstate(over="ignore", under="ignore"):
                W, A = float(wt[j] @ wt[j]), float(at_[j] @ at_[j])
            w_nz, a_nz = bool(np.any(wt[j] != 0)), bool(np.any(at_[j] != 0))
            if w_nz and a_nz:
                al = _alpha(W, A, float(c_val[k])) if 0 < W < math.inf and 0 < A < math.inf \
                    else math.nan
                if not 0 < al < math.inf:   # squares beyond float64 (1e-200 or 1e160 weights)
                    al = _alpha_exact(_exact_c(wt[j], []), -_exact_c([], at_[j]),
                                      _exact_c(w0[k], a0[k]))
            elif w_nz:             # orbit mode, (w, 0): α² ||w||² = c_k > 0 (exact ratio)
                al = _sqrt_ratio(_exact_c(w0[k], a0[k]), _exact_c(wt[j], []))
            elif a_nz:             # orbit mode, (0, a): ||a||² / α² = −c_k > 0
                al = _sqrt_ratio(_exact_c([], at_[j]), _exact_c(w0[k], a0[k]))
            else:
                al = 1.0
            w_new[k], a_new[k] = _rescaled(al, wt[j], at_[j])
            alphas[k] = float(al)
            if k in w_sign and np.sign(w_new[k, 0]) == -w_sign[k]:
                w_new[k] = -w_new[k]   # abs: |(-w)·x| = |w·x|
                flipped.append(k)
        else:
            assignment[k] = spare_zero.pop(0) if spare_zero else -1
            replaced.append(k)
            if c_sign[k] > 0:      # exact sign: c_k > 0 implies w0 ≠ 0
                w_new[k] = np.sqrt(c_val[k]) * _unit(w0[k])  # keeps w0's sign
            elif c_sign[k] < 0:
                a_new[k] = np.sqrt(-c_val[k]) * _unit(a0[k])
    d = ai.inputs
    W1 = w_new[:, :d]
    b1 = w_new[:, d] if ai.hidden_bias else None
    b2 = target.biases[1].copy() if ai.output_bias else None
    real = Network(ai, ai.pack([W1, a_new.T], [b1, b2]))
    X = np.random.default_rng(seed).standard_normal((n_check, d))
    X *= np.exp(np.random.default_rng([seed, 1]).uniform(-2, 2, size=(n_check, 1)))
    f_t, f_r = target.forward(X), real.forward(X)
    function_error = float(np.max(np.abs(f_t - f_r)))
    scale_f = 1.0 + float(np.max(np.abs(f_t)))
    if float(np.max(np.abs(real.params), initial=0.0)) <= 1e150:
        c_r = real.conserved_quantities()
        invariant_error = float(np.max(np.abs(c_r - c0)))
        scale_c = 1.0 + float(np.max(np.abs(c0))) + float(np.max(np.sum(w_new ** 2, axis=1)))
        invariant_ok = invariant_error <= 1e-9 * scale_c
        # the frozen signs of the initial component, read on the construction (its c_k are
        # c0 up to rounding, checked above: a slot with c0_k = 0 may come out ±1e-17)
        same_component = tuple(
            int(np.sign(a_new[k, 0] if kind == "a" else w_new[k, 0]))
            for k, kind in zip(topo.frozen_slots, topo.frozen_kinds)) == topo.component
    else:   # squares beyond float64: the invariants and the component checked exactly
        dc = [abs(_exact_c(w_new[k], a_new[k]) - _exact_c(w0[k], a0[k])) for k in range(l)]
        scale = 1 + max(abs(_exact_c(w0[k], a0[k])) + _exact_c(w_new[k], [])
                        for k in range(l))
        invariant_error = _to_float(max(dc))
        invariant_ok = max(dc) <= scale / 10 ** 9
        with np.errstate(over="ignore", invalid="ignore"):
            c_r = np.sum(w_new * w_new, axis=1) - np.sum(a_new * a_new, axis=1)
        same_component = tuple(
            int(np.sign(a_new[k, 0] if kind == "a" else w_new[k, 0]))
            for k, kind in zip(topo.frozen_slots, topo.frozen_kinds)) == topo.component
    verified = bool(function_error <= 1e-8 * scale_f and invariant_ok and same_component)
    n_frozen = len(topo.frozen_slots)
    reason = (f"a permutation of the target's neurons, rescaled onto the initial quadrics, lies "
              f"in the initial component {_components.component_label(topo.component)} "
              f"({n_frozen} frozen sign{'s' if n_frozen != 1 else ''} matched"
              + (f", {len(replaced)} zero neuron{'s' if len(replaced) != 1 else ''} replaced"
                 if replaced else "")
              + (f", input weights of slot{'s' if len(flipped) != 1 else ''} "
                 f"{', '.join(map(str, flipped))} flipped (abs: w -> -w)" if flipped else "")
              + ")")
    if not verified:
        reason += ("; WARNING: numerical verification failed (function error "
                   f"{function_error:.2e}, invariant error {invariant_error:.2e}, same "
                   f"component {same_component})")
    return ReachabilityResult(
        reachable=True, reason=reason, assignment=assignment, alphas=alphas,
        replaced=tuple(replaced), zero_neurons=zeros, realization=real, verified=verified,
        function_error=function_error, invariant_error=invariant_error,
        initial_topology=topo)


def _unreachable(reason, zeros, topo):
    return ReachabilityResult(
        reachable=False, reason=reason, assignment=None, alphas=None, replaced=(),
        zero_neurons=zeros, realization=None, verified=False, function_error=float("nan"),
        invariant_error=float("nan"), initial_topology=topo)


def _hall_reason(B, matching, unmatched, slot_req, feats, is_zero, mode, n_wild):
    """Slots ``S`` reachable by alternating paths from unmatched slots: ``|N(S)| < |S|``."""
    seen_s = set(unmatched)
    seen_t = set()
    stack = [("s", k) for k in unmatched]
    while stack:
        node = stack.pop()
        for nb in B[node]:
            if nb in seen_t:
                continue
            seen_t.add(nb)
            mate = matching.get(nb)
            if mate is not None and mate[1] not in seen_s:
                seen_s.add(mate[1])
                stack.append(mate)
    # describe S by slot requirement
    groups = {}
    for k in sorted(seen_s):
        groups[slot_req[k]] = groups.get(slot_req[k], 0) + 1
    order = [("a", -1), ("a", 1), ("w", -1), ("w", 1), None]
    slot_text = " and ".join(_plural(groups[g], _SLOT_TEXT[g]) for g in order if g in groups)
    frozen = " (frozen signs)" if any(g is not None for g in groups) else ""
    # describe N(S)
    n_wildcards = sum(1 for kind, _ in seen_t if kind == "z")
    movers = [j for kind, j in seen_t if kind == "t"]
    parts = []
    for g in order[:-1]:
        if g in groups:
            n = sum(1 for j in movers if feats(j)[g[0]] == g[1]
                    and not (mode == "replace" and is_zero[j]))
            parts.append(f"{n} {_TARGET_TEXT[g]}")
    if None in groups:
        parts.append(f"{len(movers)} neurons in all")
    if mode == "replace":
        parts.append(f"{n_wildcards} zero neuron{'s' if n_wildcards != 1 else ''}")
    else:
        parts.append(f"{n_wildcards} added zero neuron{'s' if n_wildcards != 1 else ''}; zero "
                     f"neurons of the target kept on their rescaling orbit")
    n_nbr = len(seen_t)
    return (f"the initial network has {slot_text}{frozen}, but the target has only {n_nbr} "
            f"neuron{'s' if n_nbr != 1 else ''} that can take their place ({', '.join(parts)})")


def is_reachable(initial, target, **kwargs):
    """``reachability(initial, target, **kwargs).reachable``.

    Parameters
    ----------
    initial, target : Network
        As in :func:`reachability`.
    **kwargs
        Passed to :func:`reachability`.

    Returns
    -------
    bool
        Whether the target is reachable.

    See Also
    --------
    reachability

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1 and Definition 2: gradient
           flow stays in one component of H(c).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> init = Network.from_weights([np.array([[0.1, 0.0]]), np.array([[-1.0]])])
    >>> is_reachable(init, Network.from_weights([np.array([[1.0, 1.0]]), np.array([[1.0]])]))
    False
    """
    return reachability(initial, target, **kwargs).reachable
