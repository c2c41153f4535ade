"""Exact change of the neuron invariants ``c_k`` under one discrete optimisation step.

Gradient flow conserves ``c_k = ||w_k||² − ||a_k||²``; gradient descent with a finite step
does not. With ``θ' = θ − η G`` and ``G = ∇L``,

``c_k(θ') − c_k(θ) = −2η (w_k · G_{w_k} − a_k · G_{a_k}) + η² (||G_{w_k}||² − ||G_{a_k}||²)``

and the first-order bracket is ``−½ dc_k/dt``, which vanishes by the invariance, so the change
is exactly ``η² (||G_{w_k}||² − ||G_{a_k}||²)``. :func:`gd_drift` derives this symbolically
from the *derived* invariants (nothing typed in) and checks the cancellation; with a
per-coordinate scaling of the step (Adam, RMSProp) the cancellation fails, which the same
object shows. :func:`predicted_drift` is the NumPy formula for measured training runs.
"""

import dataclasses

import numpy as np
import sympy

from .._validation import check_array, check_choice, check_float
from ..exceptions import ShapeError, ValidationError
from .invariants import neuron_invariants
from .networks import (
    MAX_SYMBOLIC_PARAMETERS,
    SymbolicNetwork,
    as_symbolic_network,
    loss_gradient,
)

__all__ = ["GradientDescentDrift", "gd_drift", "predicted_drift"]


@dataclasses.dataclass(frozen=True, eq=False)
class GradientDescentDrift:
    """Symbolic change of each neuron invariant after one step ``θ' = θ − η D G``.

    Attributes
    ----------
    network : SymbolicNetwork
        The network.
    invariants : dict
        The derived invariants ``{key: c}`` (keys as in
        :func:`~topoanalysis.symbolic.neuron_invariants`).
    learning_rate : Symbol
        ``η`` (named ``eta``).
    gradient_symbols : tuple of Symbol
        ``G_i`` standing for ``∂L/∂θ_i`` (named ``dL_d<parameter>``), flat order.
    scaling_symbols : tuple of Symbol
        ``D_i`` of a diagonal per-coordinate scaling (named ``D_<parameter>``) when
        ``preconditioned``; empty for plain gradient descent (``D = I``).
    increments : dict
        ``{key: c(θ') − c(θ)}`` expanded, in ``θ``, ``G``, ``D`` and ``η``.
    first_order : dict
        ``{key: η-linear part of the increment}``.
    drift : dict
        ``{key: η²-part of the increment}``; for gradient descent
        ``η² (||G_{w_k}||² − ||G_{a_k}||²)``, which is the whole increment once the
        first-order part cancels (see :meth:`check`).
    """

    network: SymbolicNetwork
    invariants: dict
    learning_rate: sympy.Symbol
    gradient_symbols: tuple
    scaling_symbols: tuple
    increments: dict
    first_order: dict
    drift: dict

    @property
    def preconditioned(self):
        """Whether the step has a per-coordinate scaling ``D``."""
        return bool(self.scaling_symbols)

    def summary(self):
        """A few lines: the network and the drift of each invariant.

        Returns
        -------
        str
            Lines of text.
        """
        lines = [f"drift of {len(self.invariants)} neuron invariant(s) under one "
                 f"{'preconditioned ' if self.preconditioned else ''}gradient-descent step, "
                 f"network {self.network.sizes} ({self.network.activation})"]
        lines += [f"  {k}: {v}" for k, v in list(self.drift.items())[:10]]
        return "\n".join(lines)

    def to_dict(self):
        """Plain data: network settings, invariants, increments and drifts (as ``str``).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        def strs(d):
            return {str(k): str(v) for k, v in d.items()}
        return {"network": {"sizes": list(self.network.sizes), "activation": self.network.activation,
                        "hidden_bias": self.network.hidden_bias,
                        "output_bias": self.network.output_bias},
                "preconditioned": self.preconditioned, "learning_rate": str(self.learning_rate),
                "invariants": strs(self.invariants), "increments": strs(self.increments),
                "first_order": strs(self.first_order), "drift": strs(self.drift)}

    def check(self):
        """Check that the first-order term vanishes when ``G`` is the true loss gradient.

        Returns
        -------
        holds : bool
            True when, after substituting ``G = ∇L`` (generic loss, symbolic data), every
            first-order term is identically zero, so ``increments == drift`` exactly.
        residual : ImmutableMatrix of shape (n_units, 1)
            The substituted first-order terms (zero matrix when ``holds``), in the order
            of :attr:`invariants`.

        Notes
        -----
        Cost: one substitution and expansion per unit. True for gradient descent on a
        homogeneous network (the first-order bracket is ``−½ dc_k/dt``); false with a
        generic diagonal scaling (Adam's per-coordinate step breaks the cancellation;
        PAPERS.md section 1).
        """
        grad = loss_gradient(self.network)
        subs = dict(zip(self.gradient_symbols, grad))
        res = [sympy.expand(self.first_order[key].xreplace(subs)) for key in self.invariants]
        residual = sympy.ImmutableMatrix(len(res), 1, res)
        return all(r == 0 for r in res), residual

    def lambdified(self, which="drift"):
        """NumPy callable evaluating the drift or the exact increment of every unit.

        Parameters
        ----------
        which : {"drift", "increment"}, default="drift"
            ``"drift"``: ``f(grad, lr) -> ndarray (n_units,)`` evaluating :attr:`drift`
            (the exact increment for gradient descent). ``"increment"``:
            ``f(params, grad, lr[, scaling]) -> ndarray (n_units,)`` evaluating
            :attr:`increments` (exact for any ``G``; ``scaling`` is required when
            ``preconditioned``). ``params``, ``grad``, ``scaling`` are flat vectors in the
            project's layout.

        Returns
        -------
        callable
            A NumPy function with the signature described under ``which``.

        Raises
        ------
        ValidationError
            If ``which`` is not one of the two names.

        Notes
        -----
        The single place where symbolic results become NumPy code (``sympy.lambdify``).
        """
        which = check_choice("which", which, ("drift", "increment"))
        keys = list(self.invariants)
        P = self.network.n_params
        eta = self.learning_rate
        if which == "drift":
            exprs = [self.drift[k] for k in keys]
            names = ["grad", "lr"]
            args = [list(self.gradient_symbols), eta]
        else:
            exprs = [self.increments[k] for k in keys]
            names = ["params", "grad", "lr"]
            args = [list(self.network.parameters), list(self.gradient_symbols), eta]
        if self.preconditioned:
            names.append("scaling")
            args.append(list(self.scaling_symbols))
        fn = sympy.lambdify(args, exprs, modules="numpy")

        def evaluate(*values):
            if len(values) != len(args):
                raise ValidationError(
                    f"the {which} function takes {len(args)} arguments "
                    f"({', '.join(names)}); got {len(values)}."
                )
            conv = []
            for name, a, v in zip(names, args, values):
                if isinstance(a, list):
                    conv.append(check_array(name, v, shape=(P,)))
                else:
                    conv.append(check_float(name, v))
            return np.asarray(fn(*conv), dtype=np.float64)

        return evaluate


def gd_drift(network, hidden=None, outputs=None, *, activation="relu", negative_slope=0.01,
             hidden_bias=True, output_bias=True, preconditioned=False,
             max_parameters=MAX_SYMBOLIC_PARAMETERS):
    """Derive the exact change of each neuron invariant after one gradient-descent step.

    Parameters
    ----------
    network : SymbolicNetwork, Architecture or int
        As in :func:`~topoanalysis.symbolic.conserved_quadratic_forms` (shallow or deep,
        with a positively homogeneous activation).
    hidden : int or tuple of int, optional
        Hidden widths (see :func:`~topoanalysis.symbolic.symbolic_network`).
    outputs : int, optional
        Output dimension ``e``.
    activation : str, default="relu"
        See :func:`~topoanalysis.symbolic.symbolic_network`.
    negative_slope : float, default=0.01
        Leaky ReLU slope.
    hidden_bias, output_bias : bool, default=True
        Whether hidden layers / the output layer have biases.
    preconditioned : bool, default=False
        Step ``θ' = θ − η D G`` with a generic diagonal ``D`` (symbols ``D_<parameter>``),
        the form of Adam's and RMSProp's per-coordinate scaling, instead of ``θ − η G``.
    max_parameters : int, default=60
        Refuse networks with more parameters than this.

    Returns
    -------
    GradientDescentDrift
        ``.drift[k] = η² (||G_{w_k}||² − ||G_{a_k}||²)`` for gradient descent, the full
        ``.increments``, the ``.first_order`` parts, and :meth:`~GradientDescentDrift.check`.

    Raises
    ------
    NotSupportedError
        If the activation has no per-neuron invariant (tanh, sigmoid).
    ValidationError
        On bad network arguments.

    See Also
    --------
    predicted_drift, topoanalysis.symbolic.conservation.law_drift

    Notes
    -----
    For any conserved quadratic form ``q = θᵀ S θ``,
    ``q(θ − ηG) − q(θ) = −2η θᵀ S G + η² Gᵀ S G`` exactly, and ``θᵀ S ∇L = −½ dq/dt = 0``.
    The expansion is done by SymPy on the derived ``c_k`` (cost ``O(P)`` terms per unit);
    :meth:`~GradientDescentDrift.check` substitutes the symbolic loss gradient to verify the
    cancellation. Paper: Nurisso, Leroy, Vaccarino (PAPERS.md section 1, "Discrete gradient
    descent breaks exact conservation", derived statement).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: conserved quantities c_k under gradient
           flow; their drift under discrete gradient descent.

    Examples
    --------
    >>> from topoanalysis.symbolic import gd_drift
    >>> res = gd_drift(1, (1,), 1, hidden_bias=False, output_bias=False)
    >>> res.drift[0]
    dL_dW1_0_0**2*eta**2 - dL_dW2_0_0**2*eta**2
    >>> res.check()
    (True, Matrix([[0]]))
    """
    net = as_symbolic_network(network, hidden, outputs, activation=activation,
                              negative_slope=negative_slope, hidden_bias=hidden_bias,
                              output_bias=output_bias, max_parameters=max_parameters)
    if not isinstance(preconditioned, bool):
        raise ValidationError(f"`preconditioned` must be True or False; got {preconditioned!r}.")
    invariants = neuron_invariants(net)
    eta = sympy.Symbol("eta")
    G = tuple(sympy.Symbol(f"dL_d{p.name}") for p in net.parameters)
    D = tuple(sympy.Symbol(f"D_{p.name}") for p in net.parameters) if preconditioned else ()
    if preconditioned:
        step = {p: p - eta * d * g for p, d, g in zip(net.parameters, D, G)}
    else:
        step = {p: p - eta * g for p, g in zip(net.parameters, G)}
    increments, first, second = {}, {}, {}
    for key, c in invariants.items():
        inc = sympy.expand(c.xreplace(step) - c)
        poly = sympy.Poly(inc, eta)
        if poly.degree() > 2:  # impossible for a quadratic form; guards the derivation
            raise ValidationError(f"invariant {key} is not quadratic: {c}.")
        increments[key] = inc
        first[key] = sympy.expand(poly.coeff_monomial(eta) * eta)
        second[key] = sympy.expand(poly.coeff_monomial(eta**2) * eta**2)
    return GradientDescentDrift(
        network=net, invariants=invariants, learning_rate=eta, gradient_symbols=G,
        scaling_symbols=D, increments=increments, first_order=first, drift=second,
    )


def predicted_drift(grad_w, grad_a, lr):
    """Predicted change ``η² (||G_{w_k}||² − ||G_{a_k}||²)`` of every ``c_k`` (NumPy).

    Parameters
    ----------
    grad_w : array_like of shape (..., l, d')
        Gradient with respect to the input weights: row ``k`` is ``∇_{w_k} L`` (the rows of
        ``∇W_1`` with ``∇b_1`` appended as a last column when hidden biases are used, so
        ``d' = d`` or ``d + 1``).
    grad_a : array_like of shape (..., e, l)
        Gradient with respect to ``W_2``: column ``k`` is ``∇_{a_k} L``.
    lr : float
        Learning rate ``η > 0``.

    Returns
    -------
    ndarray of shape (..., l)
        The exact change ``c_k(θ − η ∇L) − c_k(θ)`` of one gradient-descent step (the
        leading dimensions batch many networks).

    Raises
    ------
    ValidationError
        If ``lr`` is not a positive finite number or an array is not finite.
    ShapeError
        If the shapes do not match as described.

    See Also
    --------
    gd_drift

    Notes
    -----
    ``O(size of the gradients)``. Exactness relies on ``∇L`` being the true gradient (the
    first-order term cancels, see :func:`gd_drift`); the output bias plays no role.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: conserved quantities c_k and gradient
           descent.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis.symbolic import predicted_drift
    >>> predicted_drift(np.array([[3.0, 4.0]]), np.array([[1.0]]), 0.1)
    array([0.24])
    """
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    gw = check_array("grad_w", grad_w)
    ga = check_array("grad_a", grad_a)
    if gw.ndim < 2:
        raise ShapeError(f"`grad_w` must have shape (..., l, d'); got shape {gw.shape}.")
    if ga.ndim < 2:
        raise ShapeError(f"`grad_a` must have shape (..., e, l); got shape {ga.shape}.")
    if gw.shape[:-2] != ga.shape[:-2] or gw.shape[-2] != ga.shape[-1]:
        raise ShapeError(
            f"`grad_a` must have shape {gw.shape[:-2] + (ga.shape[-2], gw.shape[-2])} "
            f"to match `grad_w` of shape {gw.shape} (l = {gw.shape[-2]} neurons); "
            f"got shape {ga.shape}."
        )
    return lr * lr * (np.sum(gw * gw, axis=-1) - np.sum(ga * ga, axis=-2))
