"""The stationarity and escape conditions as SymPy expressions, for small cases a user can read.

For a shallow ReLU-like network with symbolic parameters ``w_k`` (bias appended), ``a_k`` and a
symbolic direction ``u``, on exact data, :func:`symbolic_conditions` builds

* the loss ``L`` (the project's ``mse``: mean over the ``N·e`` entries);
* the output-weight conditions ``∂L/∂a_kj = 0``;
* the one-sided derivative of the loss along ``u`` in ``w_k``: ``Σ_n a_k·r_n · ρ'(w_k·x̃_n; u)``
  with ``ρ'(z; u·x̃) = Piecewise(ρ(u·x̃) if z = 0, (u·x̃) if z > 0, α(u·x̃) otherwise)``
  — the kink case is positively homogeneous in ``u``, not linear;
* the escape map ``F_k(u)`` (the same without ``a_k``).

:meth:`SymbolicConditions.at` substitutes a network's (rationalized) parameters: the output
conditions become exact numbers and the directional derivatives exact piecewise-linear
functions of ``u``.
"""

import dataclasses

import numpy as np
import sympy as sp

from .._validation import check_array, check_int
from ..exceptions import NotSupportedError, ResourceError, ShapeError, ValidationError
from ..symbolic._parse import parse_real_number

__all__ = ["SymbolicConditions", "symbolic_conditions"]

#: Largest samples × outputs × width the symbolic conditions build.
MAX_TERMS = 400


@dataclasses.dataclass(frozen=True, eq=False)
class SymbolicConditions:
    """SymPy expressions of the conditions (see the module docstring).

    Attributes
    ----------
    w : sympy.Matrix of shape (l, D)
    a : sympy.Matrix of shape (l, e)
    b : sympy.Matrix of shape (1, e) or None
    u : sympy.Matrix of shape (D, 1)
    loss : sympy.Expr
    output : list of sympy.Expr
        ``∂L/∂a_kj`` (and ``∂L/∂b_j``), each must vanish.
    directional : list of sympy.Expr
        Per neuron, the one-sided derivative along ``u`` in ``w_k`` (must be ``>= 0`` for every
        ``u``).
    escape_map : list of sympy.Matrix
        Per neuron, ``F_k(u)`` (shape ``(e, 1)``).
    alpha : sympy.Rational or None
        The negative slope the conditions were built with (None: not recorded).
    hidden_bias : bool or None
        Whether ``w_k`` ends with a bias coordinate (None: not recorded).
    """

    w: object
    a: object
    b: object
    u: object
    loss: object
    output: list
    directional: list
    escape_map: list
    alpha: object = None
    hidden_bias: object = None

    def _check_network(self, net):
        """Refuse a network whose sizes, biases or slope differ from the conditions'."""
        from ..network import Network

        if not isinstance(net, Network):
            raise ValidationError(f"`net` must be a topoanalysis Network; got "
                                  f"{type(net).__name__}.")
        arch = net.arch
        l, D = self.w.shape
        e = self.a.cols
        hb = self.hidden_bias if self.hidden_bias is not None else arch.hidden_bias
        want = dict(hidden=(l,), outputs=e, inputs=D - int(bool(hb)), hidden_bias=bool(hb),
                    output_bias=self.b is not None)
        for key, value in want.items():
            if getattr(arch, key) != value:
                raise ValidationError(
                    f"`net` must have the architecture the conditions were built for "
                    f"({key}={value!r}); got {key}={getattr(arch, key)!r}.")
        if arch.activation not in ("relu", "leaky_relu"):
            raise ValidationError(f"`net` must have a relu or leaky_relu activation; got "
                                  f"{arch.activation!r}.")
        if self.alpha is not None:
            slope = 0.0 if arch.activation == "relu" else float(arch.negative_slope)
            # compared exactly: conditions built with "1/10" are not those of a network whose
            # slope is the float 0.1 (the substitution would keep the slope 1/10)
            if _exact(slope) != self.alpha:
                raise ValidationError(
                    f"`net` must have the negative slope the conditions were built with "
                    f"({self.alpha}); got {slope!r} (exactly {_exact(slope)}): build the "
                    f"conditions with negative_slope={slope!r} for this network.")

    def substitutions(self, net):
        """``{symbol: Rational}`` for the parameters of ``net`` (same sizes).

        Parameters
        ----------
        net : Network
            A network of the same sizes, biases and slope.

        Returns
        -------
        dict of sympy.Symbol to sympy.Rational
            The exact value of every parameter symbol: the exact binary value of the float64
            (``0.1`` becomes ``3602879701896397/36028797018963968``), as in the numeric
            certificates, so a kink ``w_k · x̃_n = 0`` is decided on the network as stored.

        Raises
        ------
        ValidationError
            If ``net`` has other sizes, biases or negative slope than the conditions.
        """
        from ._point import unpack

        self._check_network(net)
        w, a, b = unpack(net.arch, net.params)
        subs = {}
        for M, V in ((self.w, w), (self.a, a)):
            for i in range(M.rows):
                for j in range(M.cols):
                    subs[M[i, j]] = _exact(V[i, j])
        if self.b is not None and b is not None:
            for j in range(self.b.cols):
                subs[self.b[0, j]] = _exact(b[j])
        return subs

    def at(self, net):
        """The conditions at ``net``: ``(output values, directional derivatives in u, F_k(u))``.

        Parameters
        ----------
        net : Network
            A network of the same sizes.

        Returns
        -------
        output : list of sympy.Expr
            The output-weight conditions, exact.
        directional : list of sympy.Expr
            The directional derivatives, in the direction symbols ``u``.
        escape_map : list of sympy.Expr
            ``F_k(u)`` of every neuron.
        """
        subs = self.substitutions(net)
        # exact already: nsimplify would replace an exact value by a nearby "simple" one
        # (3602879701896397/36028797018963968 -> 1/10, 10**-40 -> 0)
        out = [sp.simplify(c.subs(subs)) for c in self.output]
        der = [sp.simplify(d.subs(subs)) for d in self.directional]
        esc = [sp.simplify(F.subs(subs)) for F in self.escape_map]
        return out, der, esc

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"loss": str(self.loss), "output": [str(c) for c in self.output],
                "directional": [str(d) for d in self.directional],
                "escape_map": [str(F) for F in self.escape_map]}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"L = {self.loss}"]
        lines += [f"0 = {c}" for c in self.output]
        lines += [f"D_{k}(u) = {d}" for k, d in enumerate(self.directional)]
        return "\n".join(lines)


def _exact(value):
    """The exact rational value of a float64 (no decimal rounding, unlike ``nsimplify``)."""
    return sp.Rational(*float(value).as_integer_ratio())


def _rho_dir(z, v, alpha):
    """One-sided derivative of ρ(z + t v) at t = 0+."""
    kink = alpha * v + (1 - alpha) * sp.Max(0, v)
    return sp.Piecewise((kink, sp.Eq(z, 0)), (v, z > 0), (alpha * v, True))


def symbolic_conditions(X, y, hidden, *, hidden_bias=True, output_bias=False,
                        negative_slope=0):
    """Stationarity conditions of a small shallow ReLU-like network as SymPy expressions.

    Parameters
    ----------
    X : array_like of shape (N, d)
        Data; each float64 is used at its exact binary value (``0.5`` is ``1/2``, ``0.1`` is
        ``3602879701896397/36028797018963968``), as in the numeric certificates.
    y : array_like of shape (N, e)
        Targets, at their exact binary values likewise.
    hidden : int
        Width ``l`` (at most 4: the expressions grow quickly).
    hidden_bias, output_bias : bool
        Whether the network has hidden and output biases.
    negative_slope : number or str, default=0
        ``0`` for ReLU, ``α`` in ``(0, 1)`` for leaky ReLU, kept exact: a float (or a float
        literal in a string, ``"0.1"``) is its exact binary value, as the data; a string such
        as ``"1/10"`` is that exact number (:meth:`SymbolicConditions.at` refuses a network
        whose float slope is not exactly it).

    Returns
    -------
    SymbolicConditions
        SymPy expressions of the loss, the output conditions, each neuron's directional
        derivative and escape map, in the symbols ``w``, ``a``, ``b``, ``u``.

    See Also
    --------
    topoanalysis.critical.stationarity.stationarity

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           stationarity conditions of shallow ReLU-like networks.

    Examples
    --------
    >>> c = symbolic_conditions([[0.0]], [[1.0]], 1)        # one sample at the kink of w = 0
    >>> c.directional[0].subs({c.w[0, 0]: 0, c.w[0, 1]: 0, c.a[0, 0]: 1})
    -2*Max(0, u_1)
    """
    X = check_array("X", X, ndim=2)
    Y = check_array("y", y, ndim=(1, 2))
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.shape[0] != X.shape[0]:
        raise ShapeError(f"`y` must have one row per sample of X ({X.shape[0]}); got "
                         f"{Y.shape[0]}.")
    if not isinstance(hidden_bias, (bool, np.bool_)) or not isinstance(output_bias,
                                                                       (bool, np.bool_)):
        raise ValidationError(f"`hidden_bias` and `output_bias` must be booleans; got "
                              f"{hidden_bias!r} and {output_bias!r}.")
    hidden = check_int("hidden", hidden, minimum=1, maximum=4)
    # strings reach SymPy only through the whitelist parser (sympify would eval them); the
    # value is exact (a float is its binary value): no nsimplify, which guesses a nearby
    # "simple" number (0.3333333333333333 -> 1/3, 0.01 + 2**-60 -> 1/100)
    alpha = parse_real_number(negative_slope, name="negative_slope")
    if not (alpha.is_real and 0 <= alpha < 1):
        raise NotSupportedError(f"`negative_slope` must lie in [0, 1); got {negative_slope}.")
    N, d = X.shape
    e = Y.shape[1]
    if N * e * hidden > MAX_TERMS:
        raise ResourceError(
            f"`X`, `y` and `hidden` would build {N * e * hidden} piecewise terms (samples × "
            f"outputs × width); the symbolic conditions are for small cases (at most "
            f"{MAX_TERMS}).")
    Xa = [[_exact(v) for v in row] + ([sp.Integer(1)] if hidden_bias
                                                                    else []) for row in X]
    Xm = sp.Matrix(Xa)
    D = Xm.cols
    Ym = sp.Matrix([[_exact(v) for v in row] for row in Y])
    w = sp.Matrix(hidden, D, lambda i, j: sp.Symbol(f"w_{i}_{j}", real=True))
    a = sp.Matrix(hidden, e, lambda i, j: sp.Symbol(f"a_{i}_{j}", real=True))
    b = sp.Matrix(1, e, lambda i, j: sp.Symbol(f"b_{j}", real=True)) if output_bias else None
    u = sp.Matrix(D, 1, lambda i, j: sp.Symbol(f"u_{i}", real=True))

    def rho(z):
        return sp.Max(z, alpha * z) if alpha else sp.Max(0, z)

    pre = [[(w.row(k) * Xm.row(n).T)[0] for k in range(hidden)] for n in range(N)]
    f = sp.Matrix(N, e, lambda n, j: sum(a[k, j] * rho(pre[n][k]) for k in range(hidden))
                  + (b[0, j] if b is not None else 0))
    R = f - Ym
    L = sum(R[n, j] ** 2 for n in range(N) for j in range(e)) / (N * e)
    r = R * sp.Rational(2, N * e)
    output = [sum(r[n, j] * rho(pre[n][k]) for n in range(N)) for k in range(hidden)
              for j in range(e)]
    if b is not None:
        output += [sum(r[n, j] for n in range(N)) for j in range(e)]
    escape_map, directional = [], []
    for k in range(hidden):
        F = sp.Matrix(e, 1, lambda j, _: sum(
            r[n, j] * _rho_dir(pre[n][k], (u.T * Xm.row(n).T)[0], alpha) for n in range(N)))
        escape_map.append(F)
        directional.append(sum(a[k, j] * F[j, 0] for j in range(e)))
    return SymbolicConditions(w=w, a=a, b=b, u=u, loss=L, output=output,
                              directional=directional, escape_map=escape_map, alpha=alpha,
                              hidden_bias=bool(hidden_bias))
