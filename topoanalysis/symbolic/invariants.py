"""Derive the quadratic quantities conserved by gradient flow, and check candidate invariants.

The derivation does not type in the known answer. For a symbolic network (see
:func:`~topoanalysis.symbolic.symbolic_network`) it takes a general quadratic form
``q(θ) = Σ_{i≤j} c_ij θ_i θ_j = θᵀ S θ`` with unknown coefficients ``c_ij``, writes its time
derivative along gradient flow ``dq/dt = ∇q · θ̇ = −∇q · ∇L`` as a polynomial in the free
symbols (parameters, data ``x``, loss gradient ``g``, activation symbols), and asks every
coefficient of that polynomial to vanish. That is a sparse homogeneous linear system in the
``P (P + 1) / 2`` unknowns; its solution space, in reduced row echelon form, is the result.

Expected outcomes (the tests check each one): ReLU, leaky ReLU and abs shallow networks give
exactly one form per hidden neuron, ``c_k = ||w_k||² − ||a_k||²``; linear networks give every
entry of ``W̃_1 W̃_1ᵀ − W_2ᵀ W_2`` (``l(l+1)/2`` forms; ``W̃_1 = [W_1 | b_1]``), and, when the
augmented input and the output are both one-dimensional, also the ``l(l−1)/2`` forms
``a_k w_m − a_m w_k`` (the realization then depends only on ``a · w``); tanh and sigmoid give
none; deep homogeneous networks give one balance per hidden neuron, incoming minus outgoing
squared norm.
"""

import dataclasses

import sympy

from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

from ..exceptions import NotSupportedError, ValidationError
from ._parse import parse_expression
from .networks import (
    MAX_SYMBOLIC_PARAMETERS,
    SymbolicNetwork,
    as_symbolic_network,
    gradient_flow_field,
)

__all__ = [
    "ConservedQuadraticForms",
    "conserved_quadratic_forms",
    "neuron_invariants",
    "check_conserved",
]


@dataclasses.dataclass(frozen=True, eq=False)
class ConservedQuadraticForms:
    """Basis of the quadratic forms conserved by gradient flow, derived exactly.

    Attributes
    ----------
    network : SymbolicNetwork
        The network the forms were derived for.
    expressions : tuple of Expr
        The basis ``q_1, …, q_r`` as polynomials in the parameter symbols; the basis is the
        reduced row echelon form of the solution space, with the unknowns ordered as the
        pairs ``(i, j)``, ``i ≤ j``, of the flat parameter order, so it is canonical.
    matrices : tuple of ImmutableMatrix
        Symmetric ``(P, P)`` matrices ``S_r`` with ``q_r = θᵀ S_r θ``.
    coefficients : ImmutableMatrix of shape (r, P (P + 1) / 2)
        The basis as rows of coefficients ``c_ij`` (Rational entries).
    n_equations : int
        Number of distinct linear equations (coefficients of the identically vanishing
        polynomial) before elimination.
    n_unknowns : int
        ``P (P + 1) / 2``.
    """

    network: SymbolicNetwork
    expressions: tuple
    matrices: tuple
    coefficients: sympy.ImmutableMatrix
    n_equations: int
    n_unknowns: int

    @property
    def count(self):
        """Dimension of the space of conserved quadratic forms."""
        return len(self.expressions)

    def __len__(self):
        return self.count

    def __repr__(self):
        return (f"ConservedQuadraticForms(count={self.count}, network={self.network!r})")

    def summary(self):
        """A few lines: the network, the dimension of the space and the basis.

        Returns
        -------
        str
            Lines of text.
        """
        lines = [f"{self.count} conserved quadratic form(s) of gradient flow for the network "
                 f"{self.network.sizes} ({self.network.activation}); {self.n_equations} "
                 f"equations in {self.n_unknowns} unknowns"]
        lines += [f"  q_{r + 1} = {q}" for r, q in enumerate(self.expressions[:10])]
        return "\n".join(lines)

    def to_dict(self):
        """Plain data: the network's settings and the basis (SymPy expressions as ``str``).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"network": {"sizes": list(self.network.sizes), "activation": self.network.activation,
                            "negative_slope": float(self.network.negative_slope),
                            "hidden_bias": self.network.hidden_bias,
                            "output_bias": self.network.output_bias},
                "count": self.count, "expressions": [str(q) for q in self.expressions],
                "n_equations": int(self.n_equations), "n_unknowns": int(self.n_unknowns)}


def _poly_terms(expr, gens):
    """``{exponent tuple: QQ coefficient}`` of a polynomial in ``gens``."""
    if expr == 0:
        return {}
    poly = sympy.Poly(expr, *gens)
    dom = poly.domain
    return {m: QQ.convert_from(c, dom) for m, c in poly.as_dict(native=True).items()}


def _linear_system(net, field):
    """Coefficient equations of ``dq/dt ≡ 0`` for the general quadratic form.

    Returns ``(equations, pairs)``: ``equations`` is a list of ``{column: coefficient}``
    dicts, ``pairs`` the list of ``(i, j)`` with ``i <= j`` (column order).
    """
    gens = net.free_symbols
    P = net.n_params
    terms = [_poly_terms(v, gens) for v in field]
    pairs = [(i, j) for i in range(P) for j in range(i, P)]
    equations = {}

    def add(col, poly, var, factor):
        for mono, coeff in poly.items():
            key = mono[:var] + (mono[var] + 1,) + mono[var + 1:]
            row = equations.setdefault(key, {})
            value = row.get(col, 0) + factor * coeff
            if value:
                row[col] = value
            else:
                row.pop(col, None)

    # d(θ_i θ_j)/dt = θ̇_i θ_j + θ_i θ̇_j,  d(θ_i²)/dt = 2 θ_i θ̇_i
    for col, (i, j) in enumerate(pairs):
        if i == j:
            add(col, terms[i], i, 2)
        else:
            add(col, terms[j], i, 1)
            add(col, terms[i], j, 1)
    return [row for row in equations.values() if row], pairs


def _nullspace_rref(equations, n_cols):
    """Basis (rows, reduced row echelon form over QQ) of ``{c : A c = 0}``.

    Unknowns that appear alone in some equation are zero; they are eliminated first
    (repeatedly), which removes most of the system, then the rest is solved with SymPy's
    sparse exact ``DomainMatrix``.
    """
    rows = [dict(r) for r in equations]
    zero = set()
    while True:
        singles = {next(iter(r)) for r in rows if len(r) == 1}
        if not singles:
            break
        zero |= singles
        rows = [{c: v for c, v in r.items() if c not in singles} for r in rows]
        rows = [r for r in rows if r]
    free = [c for c in range(n_cols) if c not in zero]
    index = {c: k for k, c in enumerate(free)}
    # normalise and deduplicate rows
    unique = {}
    for r in rows:
        items = sorted((index[c], v) for c, v in r.items())
        lead = items[0][1]
        key = tuple((c, v / lead) for c, v in items)
        unique[key] = None
    if not free:
        return []
    if unique:
        sdm = {k: dict(key) for k, key in enumerate(unique)}
        A = DomainMatrix(sdm, (len(unique), len(free)), QQ)
        basis = A.nullspace()
        if basis.shape[0] == 0:
            return []
        basis, _ = basis.rref()
        vecs = basis.to_sdm()
    else:
        vecs = {k: {k: QQ(1)} for k in range(len(free))}
    out = []
    for k in sorted(vecs):
        vec = {free[c]: v for c, v in vecs[k].items() if v}
        if vec:
            out.append(vec)
    return out


def _rref_rows(vectors, n_cols):
    """Reduced row echelon basis of the span of sparse ``{col: QQ}`` vectors."""
    if not vectors:
        return []
    A = DomainMatrix({k: dict(v) for k, v in enumerate(vectors)}, (len(vectors), n_cols), QQ)
    R, pivots = A.rref()
    sdm = R.to_sdm()
    return [dict(sdm[k]) for k in range(len(pivots))]


def _form_from_vector(vec, pairs, params):
    """Expression ``Σ c_ij θ_i θ_j`` and symmetric matrix ``S`` of a coefficient vector."""
    P = len(params)
    entries = {}
    expr = sympy.S.Zero
    for col, value in vec.items():
        i, j = pairs[col]
        c = sympy.Rational(int(value.numerator), int(value.denominator))
        expr += c * params[i] * params[j]
        if i == j:
            entries[(i, i)] = c
        else:
            entries[(i, j)] = c / 2
            entries[(j, i)] = c / 2
    S = sympy.ImmutableSparseMatrix(P, P, entries)
    return expr, sympy.ImmutableMatrix(S)


def conserved_quadratic_forms(network, hidden=None, outputs=None, *, activation="relu",
                              negative_slope=0.01, hidden_bias=True, output_bias=True,
                              samples=1, max_parameters=MAX_SYMBOLIC_PARAMETERS):
    """Derive every quadratic form ``θᵀ S θ`` conserved by gradient flow, for any loss.

    Parameters
    ----------
    network : SymbolicNetwork, Architecture or int
        A network from :func:`~topoanalysis.symbolic.symbolic_network`, an
        ``Architecture``, or the input dimension ``d`` (then give ``hidden`` and
        ``outputs``; the keyword arguments are those of ``symbolic_network`` and must be left
        at their defaults when ``network`` is a ``SymbolicNetwork``).
    hidden : int or tuple of int, optional
        Hidden widths.
    outputs : int, optional
        Output dimension ``e``.
    activation : str, default="relu"
        See :func:`~topoanalysis.symbolic.symbolic_network`.
    negative_slope : float, default=0.01
        Leaky ReLU slope.
    hidden_bias, output_bias : bool, default=True
        Whether hidden layers / the output layer have biases.
    samples : int, default=1
        Number of symbolic data points ``N``.
    max_parameters : int, default=60
        Refuse networks with more parameters than this.

    Returns
    -------
    ConservedQuadraticForms
        ``.expressions``, ``.matrices`` and ``.count`` of a canonical (reduced row echelon)
        basis of the solution space.

    Raises
    ------
    ValidationError
        On bad sizes, an unknown activation, or a network larger than ``max_parameters``.

    See Also
    --------
    topoanalysis.symbolic.neuron_invariants : The per-neuron c_k inside the basis.
    topoanalysis.symbolic.check_conserved : Check one expression.

    Notes
    -----
    Method. With ``θ̇ = −∇L`` from :func:`~topoanalysis.symbolic.gradient_flow_field`,
    ``dq/dt = Σ_{i≤j} c_ij (θ̇_i θ_j + θ_i θ̇_j)`` is a polynomial in the free symbols whose
    coefficients are linear in the unknowns ``c_ij``; collecting them (exponent tuples of
    ``Poly(…).as_dict()``) gives a sparse integer system, solved exactly over ``QQ``.

    Why one symbolic sample suffices. ``L = Σ_n ℓ(f(x_n), y_n)``, so
    ``dq/dt = Σ_n T(θ, x_n, g_n, s_n)`` with the *same* polynomial ``T`` for every sample.
    If ``T ≡ 0`` the sum vanishes for every ``N``. Conversely a form conserved for every data
    set and loss is conserved for ``N = 1``, where ``x`` and ``g`` are arbitrary (the loss
    ``ℓ(f) = g · f``, or squared error with a free target, realizes any ``g``), so ``T ≡ 0``.
    ``samples=2`` gives the same basis (a test checks it).

    Why the activation symbols may be treated as free. For ReLU-like activations the
    derivative symbol ``s = σ'(z)`` only takes two values (``{0, 1}``, ``{α, 1}``,
    ``{−1, 1}``), but ``T`` is affine in each ``s`` separately (each gradient component
    carries at most one factor per unit), and a multi-affine polynomial vanishing on all
    vertices ``{v_0, v_1}^l`` (``v_0 ≠ v_1``) is zero; every activation pattern occurs on an
    open set of ``(x, θ)``, where the polynomial identity in ``(x, θ, g)`` must hold. So
    "identically zero with free ``s``" is exactly "conserved" (for shallow networks; for deep
    ones it is sufficient). For tanh and sigmoid the value symbol is algebraically
    independent of ``x`` and ``θ`` (the functions are transcendental) and ``σ'`` is written
    exactly in it (``1 − σ²``, ``σ(1 − σ)``). Leaky ReLU with slope 1 is linear and is
    treated as such.

    Complexity: ``U = P (P + 1) / 2`` unknowns, about ``U · t`` equation entries where ``t``
    is the number of terms of a field component; unknowns forced to zero by one-term
    equations are eliminated first, then an exact sparse nullspace. Seconds for ``P ≲ 60``.

    Paper: Nurisso, Leroy, Vaccarino (PAPERS.md section 1): ``c_k = ||w_k||² − ||a_k||²`` per
    hidden neuron for positively homogeneous σ; the follow-up's deep version (incoming minus
    outgoing squared norm per hidden neuron).

    References
    ----------
    .. [1] S. Marcotte, R. Gribonval, G. Peyré, "Abide by the law and follow the flow:
           conservation laws for gradient flows", NeurIPS 2023: number of conservation laws of
           gradient flows.
    .. [2] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: c_k = ||w_k||² − ||a_k||².

    Examples
    --------
    >>> from topoanalysis.symbolic import conserved_quadratic_forms
    >>> forms = conserved_quadratic_forms(2, (2,), 1)
    >>> forms.count
    2
    >>> forms.expressions[0]
    W1_0_0**2 + W1_0_1**2 - W2_0_0**2 + b1_0**2
    >>> conserved_quadratic_forms(2, (2,), 1, activation="tanh").count
    0
    """
    net = as_symbolic_network(network, hidden, outputs, activation=activation,
                              negative_slope=negative_slope, hidden_bias=hidden_bias,
                              output_bias=output_bias, samples=samples,
                              max_parameters=max_parameters)
    field = gradient_flow_field(net)
    equations, pairs = _linear_system(net, field)
    basis = _nullspace_rref(equations, len(pairs))
    exprs, mats = [], []
    for vec in basis:
        expr, S = _form_from_vector(vec, pairs, net.parameters)
        exprs.append(expr)
        mats.append(S)
    coeffs = sympy.ImmutableSparseMatrix(
        len(basis), len(pairs),
        {(r, c): sympy.Rational(int(v.numerator), int(v.denominator))
         for r, vec in enumerate(basis) for c, v in vec.items()},
    )
    return ConservedQuadraticForms(
        network=net, expressions=tuple(exprs), matrices=tuple(mats),
        coefficients=sympy.ImmutableMatrix(coeffs), n_equations=len(equations),
        n_unknowns=len(pairs),
    )


def _unit_keys(net):
    for m, width in enumerate(net.hidden, start=1):
        for k in range(width):
            yield (k if net.is_shallow else (m, k)), m, k


def neuron_invariants(network, hidden=None, outputs=None, *, activation="relu",
                      negative_slope=0.01, hidden_bias=True, output_bias=True,
                      samples=1, max_parameters=MAX_SYMBOLIC_PARAMETERS):
    """The conserved quantity of each hidden neuron, identified inside the derived basis.

    For every hidden unit, the derived space of conserved quadratic forms
    (:func:`conserved_quadratic_forms`) is intersected with the forms that involve only the
    unit's own parameters (incoming weights and bias, outgoing weights); that intersection
    must be one-dimensional, and its element normalised to coefficient 1 on the first
    incoming weight squared is the unit's invariant. For ReLU this is
    ``c_k = ||w_k||² − ||a_k||²``.

    Parameters
    ----------
    network : SymbolicNetwork, Architecture, int or ConservedQuadraticForms
        As in :func:`conserved_quadratic_forms`; an already derived result is reused.
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
    samples : int, default=1
        Number of symbolic data points ``N``.
    max_parameters : int, default=60
        Refuse networks with more parameters than this.

    Returns
    -------
    dict
        ``{k: c_k}`` for a shallow network; ``{(layer, k): c}`` (hidden layers numbered
        from 1) for a deep one. Values are SymPy expressions in the parameter symbols.

    Raises
    ------
    NotSupportedError
        If some hidden unit has no conserved quadratic form of its own (tanh, sigmoid), or
        more than one.
    ValidationError
        On bad input (see :func:`conserved_quadratic_forms`).

    See Also
    --------
    topoanalysis.symbolic.conserved_quadratic_forms : The whole derived basis.
    topoanalysis.symbolic.gd_drift : Their drift under gradient descent.

    Notes
    -----
    Cost: the derivation, plus one small exact nullspace per unit (size = basis dimension).
    For linear networks each unit still gets its diagonal entry
    ``||w̃_k||² − ||a_k||²`` of ``W̃_1 W̃_1ᵀ − W_2ᵀ W_2``. Paper: Nurisso, Leroy, Vaccarino,
    ``c_k`` per neuron; follow-up for deep networks (PAPERS.md section 1).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: c_k = ||w_k||² − ||a_k||² (Proposition
           1, per-neuron decomposition).

    Examples
    --------
    >>> from topoanalysis.symbolic import neuron_invariants
    >>> neuron_invariants(1, (2,), 1, hidden_bias=False, output_bias=False)
    {0: W1_0_0**2 - W2_0_0**2, 1: W1_1_0**2 - W2_0_1**2}
    """
    if isinstance(network, ConservedQuadraticForms):
        as_symbolic_network(network.network, hidden, outputs, activation=activation,
                            negative_slope=negative_slope, hidden_bias=hidden_bias,
                            output_bias=output_bias, samples=samples,
                            max_parameters=max_parameters)  # only checks the defaults
        forms = network
    else:
        forms = conserved_quadratic_forms(
            network, hidden, outputs, activation=activation, negative_slope=negative_slope,
            hidden_bias=hidden_bias, output_bias=output_bias, samples=samples,
            max_parameters=max_parameters)
    net = forms.network
    P = net.n_params
    pairs = [(i, j) for i in range(P) for j in range(i, P)]
    index = {s: i for i, s in enumerate(net.parameters)}
    r = forms.count
    basis = DomainMatrix.from_Matrix(forms.coefficients).convert_to(QQ) if r else None
    result = {}
    for key, m, k in _unit_keys(net):
        own = {index[s] for s in net.incoming(m, k) + net.outgoing(m, k)}
        outside = [c for c, (i, j) in enumerate(pairs) if not (i in own and j in own)]
        vecs = []
        if r:
            # combinations λ of the basis rows that vanish outside the unit's own pairs
            B_out = basis.extract(list(range(r)), outside)
            lam = B_out.transpose().nullspace()
            if lam.shape[0]:
                combo = lam * basis
                vecs = _rref_rows([v for v in combo.to_sdm().values()], len(pairs))
        if len(vecs) != 1:
            where = f"hidden unit {k}" + ("" if net.is_shallow else f" of hidden layer {m}")
            raise NotSupportedError(
                f"{where} has {len(vecs)} conserved quadratic forms of its own under "
                f"activation {net.activation!r} (exactly one is needed); per-neuron "
                f"invariants exist for positively homogeneous activations (relu, "
                f"leaky_relu, abs, linear)."
            )
        expr, _ = _form_from_vector(vecs[0], pairs, net.parameters)
        result[key] = expr
    return result


def _as_parameter_expression(expr, net):
    names = {s.name: s for s in net.parameters}
    if isinstance(expr, str):
        expr = parse_expression(expr, names, name="expr")
    elif not isinstance(expr, sympy.Basic):
        try:
            if not isinstance(expr, (int, float)) or isinstance(expr, bool):
                raise TypeError("only SymPy expressions, numbers and strings are accepted")
            expr = sympy.sympify(expr, strict=True)
        except (sympy.SympifyError, TypeError, ValueError):
            raise ValidationError(
                f"`expr` must be a SymPy expression in the parameter symbols; got "
                f"{type(expr).__name__} {expr!r}."
            ) from None
    if not isinstance(expr, sympy.Expr) or isinstance(expr, sympy.MatrixBase):
        raise ValidationError(
            f"`expr` must be a scalar SymPy expression (Expr) in the parameter symbols; got "
            f"{type(expr).__name__} {expr!r}."
        )
    params = set(net.parameters)
    bad = sorted((s for s in expr.free_symbols if s not in params), key=str)
    if bad:
        hint = ""
        if any(isinstance(s, sympy.Symbol) and s.name in names for s in bad):
            hint = " (a symbol has a parameter's name but other assumptions; use plain " \
                   "sympy.Symbol(name) or net.parameters)"
        raise ValidationError(
            f"`expr` must involve only the network's parameter symbols "
            f"({', '.join(str(s) for s in net.parameters[:4])}, …); got foreign symbols "
            f"{', '.join(str(s) for s in bad)}{hint}."
        )
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise ValidationError(f"`expr` must be finite; got {expr}.")
    return expr


def check_conserved(expr, network, hidden=None, outputs=None, *, activation="relu",
                    negative_slope=0.01, hidden_bias=True, output_bias=True, samples=1,
                    max_parameters=MAX_SYMBOLIC_PARAMETERS):
    """Check whether an expression of the parameters is conserved by gradient flow.

    Parameters
    ----------
    expr : Expr or str
        A scalar expression in the parameter symbols (``net.parameters``, or plain
        ``sympy.Symbol("W1_0_0")`` etc.); a string is parsed with those names.
    network : SymbolicNetwork, Architecture or int
        As in :func:`conserved_quadratic_forms`.
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
    samples : int, default=1
        Number of symbolic data points ``N``.
    max_parameters : int, default=60
        Refuse networks with more parameters than this.

    Returns
    -------
    holds : bool
        True when ``d expr/dt`` vanishes identically (for every data point and every loss).
    residual : Expr
        ``d expr/dt = −∇expr · ∇L`` along the flow, expanded (simplified if not polynomial);
        ``0`` when ``holds``. It is written in the parameter, data ``x``, loss-gradient ``g``
        and activation symbols of the network.

    Raises
    ------
    ValidationError
        If ``expr`` is not a scalar SymPy expression, cannot be parsed, or involves symbols
        that are not parameters of the network; on bad network arguments.

    See Also
    --------
    conserved_quadratic_forms, topoanalysis.symbolic.conservation_laws

    Notes
    -----
    For polynomial ``expr`` the expanded residual is a canonical form, so ``holds`` is
    exact (see Notes of :func:`conserved_quadratic_forms` for why free activation symbols
    are exact). For other expressions SymPy's ``simplify`` decides zero, which may miss
    some identities (then ``holds`` is a false negative). Strings are parsed by a
    whitelist parser (:func:`topoanalysis.symbolic._parse.parse_expression`): arithmetic over
    the parameter symbols and a few named functions only; no code from the text is run. Cost:
    ``P`` derivatives and one expansion.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: conserved quantities c_k = ||w_k||² −
           ||a_k||².
    .. [2] S. Marcotte, R. Gribonval, G. Peyré, "Abide by the law and follow the flow:
           conservation laws for gradient flows", NeurIPS 2023: conservation laws.

    Examples
    --------
    >>> import sympy
    >>> from topoanalysis.symbolic import check_conserved
    >>> w, b, a = sympy.symbols("W1_0_0 b1_0 W2_0_0")
    >>> check_conserved(w**2 + b**2 - a**2, 1, (1,), 1, output_bias=False)
    (True, 0)
    >>> holds, residual = check_conserved(w**2, 1, (1,), 1, output_bias=False)
    >>> holds, sympy.factor(residual)
    (False, -2*W1_0_0*W2_0_0*g0_0*sp0_1_0*x0_0)
    """
    net = as_symbolic_network(network, hidden, outputs, activation=activation,
                              negative_slope=negative_slope, hidden_bias=hidden_bias,
                              output_bias=output_bias, samples=samples,
                              max_parameters=max_parameters)
    expr = _as_parameter_expression(expr, net)
    field = gradient_flow_field(net)
    residual = sympy.S.Zero
    for theta, v in zip(net.parameters, field):
        d = sympy.diff(expr, theta)
        if d != 0:
            residual += d * v
    residual = sympy.expand(residual)
    if residual != 0 and not residual.is_polynomial(*net.free_symbols):
        simplified = sympy.simplify(residual)
        residual = simplified if simplified == 0 else residual
    return residual == 0, residual
