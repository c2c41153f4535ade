"""Conditions C.1–C.3 of the restricted parametrization space, symbolic and numeric.

In the paper's notation a bias-free two-layer network is ``Θ = ([a_1|…|a_m]^T, c)``,
``R(Θ)(x) = Σ_i c_i ρ(⟨a_i, x⟩)``; the restricted space asks

* **C.1** balanced: ``||c_i|| = ||a_i||`` for every neuron;
* **C.2** no redundant non-zero weight vectors: ``a_i/||a_i|| ≠ a_j/||a_j||`` for ``i ≠ j``;
* **C.3** the last two coordinates of every weight vector strictly positive (reached without
  loss of range by the two-dimensional augmentation ``x ↦ (x, 1, −1)``, see
  :mod:`topoanalysis.degeneracy._form`).

:func:`symbolic_conditions` builds the three as SymPy predicates on symbolic weight matrices;
:func:`restricted_space_membership` checks them numerically, with tolerances, and names the
failing conditions and neurons.
"""

import dataclasses
import itertools

import numpy as np
import sympy as sp

from .._validation import check_float, renamed_kwargs
from ..exceptions import ValidationError
from ._form import shallow_form

__all__ = ["SymbolicConditions", "symbolic_conditions", "Membership",
           "restricted_space_membership", "symbolic_realization"]


@dataclasses.dataclass(frozen=True)
class SymbolicConditions:
    """C.1, C.2, C.3 as SymPy booleans (one per neuron / pair) and their conjunctions."""

    c1: list
    c2: list
    c3: list

    @property
    def all(self):
        """The conjunction of C.1, C.2 and C.3 (a SymPy boolean)."""
        return sp.And(*self.c1, *self.c2, *self.c3)

    def evaluate(self, subs):
        """``{"C.1": bool, "C.2": bool, "C.3": bool}`` after substituting ``subs``.

        Parameters
        ----------
        subs : dict
            Values of the symbols (symbols or their names as keys).

        Returns
        -------
        dict of str to bool
            Whether C.1, C.2 and C.3 hold.
        """
        if not isinstance(subs, dict):
            raise ValidationError(f"`subs` must be a dict of symbol -> value; got "
                                  f"{type(subs).__name__}.")
        by_name = {str(x): x for p in self.c1 + self.c2 + self.c3
                   for x in getattr(p, "free_symbols", ())}
        table = {}
        for k, v in subs.items():
            if isinstance(k, str):
                if k not in by_name:
                    raise ValidationError(f"`subs` keys must name symbols of the conditions "
                                          f"({sorted(by_name)}); got {k!r}.")
                k = by_name[k]
            elif not isinstance(k, sp.Basic):
                raise ValidationError(f"`subs` keys must be SymPy symbols or their names; got "
                                      f"{type(k).__name__}.")
            table[k] = _parse_entry(v, f"subs[{k}]")
        out = {}
        for name, preds in (("C.1", self.c1), ("C.2", self.c2), ("C.3", self.c3)):
            vals = [p.xreplace(table) for p in preds]
            vals = [v if v in (sp.true, sp.false) else sp.simplify(v) for v in vals]
            if any(v not in (sp.true, sp.false) for v in vals):
                raise ValidationError(f"`subs` must give every symbol a value; {name} stays "
                                      f"{[v for v in vals if v not in (sp.true, sp.false)][0]}.")
            out[name] = all(v == sp.true for v in vals)
        return out

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"C.1: {len(self.c1)} balance equations, C.2: {len(self.c2)} pair conditions, "
                f"C.3: {len(self.c3)} positivity conditions")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"C.1": [str(p) for p in self.c1], "C.2": [str(p) for p in self.c2],
                "C.3": [str(p) for p in self.c3]}


def _parse_entry(value, name):
    """One matrix entry as a SymPy object, without ever evaluating text.

    SymPy objects pass; Python/NumPy integers and finite floats become ``Integer``/``Float``
    (a ``Fraction`` a ``Rational``); strings go through the project's whitelist parser
    (:func:`topoanalysis.symbolic._parse.parse_expression`: arithmetic over plain names, which
    become real symbols) — ``sympify``/``parse_expr`` would ``eval`` them. Everything else,
    complex numbers included, is refused.
    """
    import ast
    import numbers
    from fractions import Fraction

    from ..symbolic._parse import CONSTANTS, FUNCTIONS, parse_expression

    if isinstance(value, sp.Basic):
        if isinstance(value, sp.Expr) and value.is_number and value.is_real is False:
            raise ValidationError(f"`{name}` must hold real expressions; got {value}.")
        return value
    if isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"`{name}` must hold numbers or expressions; got {value!r}.")
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if not np.isfinite(v):
            raise ValidationError(f"`{name}` must hold finite numbers; got {v}.")
        return sp.Float(v)
    if isinstance(value, numbers.Complex):
        raise ValidationError(f"`{name}` must hold real numbers; got the complex number "
                              f"{value!r} (the imaginary part would be dropped).")
    if isinstance(value, str):
        try:
            tree = ast.parse(value.strip(), mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            tree = None                     # parse_expression reports it in its own words
        names = set()
        if tree is not None:
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        table = {n: sp.Symbol(n, real=True) for n in names
                 if n.isidentifier() and not n.startswith("_") and n not in FUNCTIONS
                 and n not in CONSTANTS}
        return parse_expression(value, table, name=name)
    raise ValidationError(f"`{name}` must hold numbers, SymPy expressions or arithmetic "
                          f"strings; got {type(value).__name__}.")


def _as_matrix(M, name):
    """``M`` as a ``sympy.Matrix`` built entry by entry through :func:`_parse_entry`."""
    if isinstance(M, sp.MatrixBase):
        rows = M.tolist()
    else:
        if isinstance(M, (str, bytes)) or M is None:
            raise ValidationError(f"`{name}` must be a matrix (nested sequence) of SymPy "
                                  f"expressions; got {type(M).__name__}.")
        if isinstance(M, np.ndarray):
            if M.dtype.kind == "c":
                raise ValidationError(f"`{name}` must be real; got a complex array (the "
                                      "imaginary part would be dropped).")
            M = M.tolist()
        try:
            rows = [list(r) if isinstance(r, (list, tuple, np.ndarray)) else [r] for r in M]
        except TypeError:
            raise ValidationError(f"`{name}` must be a matrix (nested sequence) of SymPy "
                                  f"expressions; got {type(M).__name__}.") from None
        if rows and all(len(r) == 1 for r in rows) and not any(
                isinstance(r, (list, tuple, np.ndarray)) for r in M):
            pass                                       # a flat sequence: a column
        if len({len(r) for r in rows}) > 1:
            raise ValidationError(f"`{name}` must be rectangular; got rows of lengths "
                                  f"{sorted({len(r) for r in rows})}.")
    if len(rows) > 10_000 or sum(len(r) for r in rows) > 100_000:
        raise ValidationError(f"`{name}` must have at most 100000 entries for symbolic work; "
                              f"got {sum(len(r) for r in rows)}.")
    return sp.Matrix([[_parse_entry(v, f"{name}[{i}][{j}]") for j, v in enumerate(r)]
                      for i, r in enumerate(rows)]) if rows else sp.zeros(0, 0)


@renamed_kwargs(A="w", C="a")
def symbolic_conditions(w, a):
    """C.1–C.3 on symbolic input weight vectors ``w`` and output weights ``a``.

    Parameters
    ----------
    w : sympy.Matrix of shape (m, D)
        Input weight vectors, one row per neuron: the paper's ``a_i`` (formerly the keyword
        ``A``).
    a : sympy.Matrix of shape (m, e)
        Output weights, one row per neuron: the paper's ``c_i`` (formerly the keyword ``C``).

    Returns
    -------
    SymbolicConditions
        ``c1[i]``: ``Σ c_i² = Σ a_i²`` (an ``Eq``, equivalent to ``||c_i|| = ||a_i||``);
        ``c2[(i, j)]``: not (both non-zero, parallel — all 2×2 minors of ``[a_i; a_j]`` zero —
        and ``⟨a_i, a_j⟩ > 0``); ``c3[i]``: ``a_{i,D−1} > 0 ∧ a_{i,D} > 0``.

    See Also
    --------
    symbolic_realization, restricted_space_membership

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: conditions
           C.1–C.3 of the restricted space.

    Examples
    --------
    >>> import sympy as sp
    >>> a = sp.Matrix(sp.symbols("a0:2_0:3", real=True)).reshape(2, 3)
    >>> c = sp.Matrix(sp.symbols("c0:2", real=True))
    >>> cond = symbolic_conditions(a, c)
    >>> cond.c1[0]
    Eq(c0**2, a0_0**2 + a0_1**2 + a0_2**2)
    >>> vals = dict(zip(a, [1, 1, 1, 2, 2, 2])); vals.update({c[0]: sp.sqrt(3), c[1]: 2*sp.sqrt(3)})
    >>> cond.evaluate(vals)
    {'C.1': True, 'C.2': False, 'C.3': True}
    """
    A = _as_matrix(w, "w")
    C = _as_matrix(a, "a")
    if A.rows != C.rows:
        raise ValidationError(f"`a` must have {A.rows} rows (one per neuron); got {C.rows}.")
    if A.cols < 2:
        raise ValidationError(f"`w` must have at least 2 columns for C.3; got {A.cols}.")
    m, D = A.shape
    c1 = [sp.Eq(sum(C[i, k] ** 2 for k in range(C.cols)), sum(A[i, k] ** 2 for k in range(D)))
          for i in range(m)]
    c2 = []
    for i, j in itertools.combinations(range(m), 2):
        nonzero_i = sp.Or(*[sp.Ne(A[i, k], 0) for k in range(D)])
        nonzero_j = sp.Or(*[sp.Ne(A[j, k], 0) for k in range(D)])
        parallel = sp.And(*[sp.Eq(A[i, p] * A[j, q] - A[i, q] * A[j, p], 0)
                            for p, q in itertools.combinations(range(D), 2)])
        same_side = sum(A[i, k] * A[j, k] for k in range(D)) > 0
        c2.append(sp.Not(sp.And(nonzero_i, nonzero_j, parallel, same_side)))
    c3 = [sp.And(A[i, D - 2] > 0, A[i, D - 1] > 0) for i in range(m)]
    return SymbolicConditions(c1=c1, c2=c2, c3=c3)


def symbolic_realization(A, C, x=None):
    """``Σ_i c_i ρ(⟨a_i, x⟩)`` with ``ρ(z) = (z + |z|)/2``, as a SymPy column (e rows).

    ``x`` defaults to real symbols ``x0, …, x{D−1}``.

    Parameters
    ----------
    A : sympy.Matrix of shape (m, D)
        Input weight vectors (rows; the paper's ``a_i``).
    C : sympy.Matrix of shape (m, e)
        Output weights (rows; the paper's ``c_i``).
    x : sequence of sympy.Symbol, optional
        Input symbols (default real ``x0, …, x{D−1}``).

    Returns
    -------
    sympy.Matrix of shape (e, 1)
        The realization, exact.

    See Also
    --------
    symbolic_conditions

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: the realization
           R(Θ)(x) = Σ_i c_i ρ(⟨a_i, x⟩).
    """
    A = _as_matrix(A, "A")
    C = _as_matrix(C, "C")
    if x is None:
        x = sp.Matrix(sp.symbols(f"x0:{A.cols}", real=True))
    else:
        x = _as_matrix(x, "x")
        if len(x) != A.cols:
            raise ValidationError(f"`x` must have {A.cols} entries (the columns of `A`); got "
                                  f"{len(x)}.")
    if C.rows != A.rows:
        raise ValidationError(f"`C` must have {A.rows} rows (one per neuron); got {C.rows}.")
    out = sp.zeros(C.cols, 1)
    for i in range(A.rows):
        z = sp.factor_terms(sum(A[i, k] * x[k] for k in range(A.cols)))
        out += C[i, :].T * (z + sp.Abs(z)) / 2        # Abs(k z) = k Abs(z) for k > 0
    return out


@dataclasses.dataclass(frozen=True)
class Membership:
    """Whether a network lies in the restricted space, condition by condition."""

    in_restricted_space: bool
    conditions: dict
    failing: dict
    augment: str
    tol: float

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        head = ("in the restricted space" if self.in_restricted_space
                else "not in the restricted space: " + ", ".join(
                    f"{c} fails (neurons {self.failing[c]})" for c in self.failing))
        conds = ", ".join(f"{k} {'holds' if v else 'fails'}" for k, v in self.conditions.items())
        return f"{head} [{conds}; weight vectors on the input augmented {self.augment!r}, tol {self.tol:g}]"

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"in_restricted_space": self.in_restricted_space, "conditions": self.conditions,
                "failing": {k: [list(v) if isinstance(v, tuple) else v for v in vals]
                            for k, vals in self.failing.items()},
                "augment": self.augment, "tol": self.tol}


def restricted_space_membership(net, *, augment=None, tol=1e-9):
    """Numeric check of C.1–C.3 for a shallow ReLU network.

    Parameters
    ----------
    net : Network
        A shallow ReLU network.
    augment : {"none", "bias", "c3"} or None
        The weight vectors checked are those of :func:`shallow_form` with this augmentation
        (default: as they are, ``(w_k, b_k)`` with hidden biases). ``"c3"`` checks the
        network after the two-dimensional augmentation (C.3 holds by construction, though
        with a margin below ``tol`` when the exact lift needs ``τ = |b|`` for a bias far below
        ``||w||``; C.2 is decided on the rays of ``(w_k, b_k)``, which the lift keeps one to
        one).
    tol : float, default=1e-9
        C.1: ``| ||c_i|| − ||a_i|| | ≤ tol · max``; C.3: coordinates ``> tol · ||a_i||``.
        C.2 uses no tolerance: two weight vectors are on the same ray iff all 2×2 minors
        vanish and their dot product is positive, decided in rational arithmetic (vectors at
        any angle ``ε > 0`` are different directions: their hyperplanes bound a wedge).

    Returns
    -------
    Membership
        Whether the network satisfies C.1–C.3, each condition's outcome and the failing ones.

    See Also
    --------
    topoanalysis.degeneracy.symbolic_conditions : C.1–C.3 as SymPy conditions.
    topoanalysis.degeneracy.canonical_form : A form in the restricted space.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: conditions C.1
           (balanced), C.2 (no redundant weight vectors), C.3.
    """
    tol = check_float("tol", tol, minimum=0.0)
    from ._form import MAX_PARAMETER, _check_net

    _check_net(net, limit=MAX_PARAMETER)
    form = shallow_form(net, augment)
    A, C = form.A, form.C
    # C.2 on the rays of (w, b): the C.3 lift (c3_augment) maps them one to one onto the rays
    # of its rows (exact additions, τ homogeneous on each ray), so the verdicts agree
    rays = shallow_form(net, "bias").A if form.augment == "c3" else A
    na, nc = np.linalg.norm(A, axis=1), np.linalg.norm(C, axis=1)
    big = np.maximum(np.maximum(na, nc), 1e-300)
    fail1 = [int(i) for i in np.flatnonzero(np.abs(na - nc) > tol * big)]
    fail2 = []
    from ._exact import ray_key

    nz = np.flatnonzero(np.any(rays != 0, axis=1))
    keys = [ray_key(rays[k])[0] for k in nz]           # C.2 decided exactly: same ray
    for ii, jj in itertools.combinations(range(len(nz)), 2):
        if keys[ii] == keys[jj]:
            fail2.append((int(nz[ii]), int(nz[jj])))
    fail3 = []
    if A.shape[1] >= 2:
        fail3 = [int(i) for i in np.flatnonzero((A[:, -2] <= tol * na) | (A[:, -1] <= tol * na))]
    else:
        fail3 = list(range(len(A)))
    conditions = {"C.1": not fail1, "C.2": not fail2, "C.3": not fail3}
    failing = {k: v for k, v in (("C.1", fail1), ("C.2", fail2), ("C.3", fail3)) if v}
    return Membership(in_restricted_space=not failing, conditions=conditions, failing=failing,
                      augment=form.augment, tol=tol)
