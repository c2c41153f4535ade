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
        return sp.And(*self.c1, *self.c2, *self.c3)

    def evaluate(self, subs):
        """``{"C.1": bool, "C.2": bool, "C.3": bool}`` after substituting ``subs``."""
        out = {}
        for name, preds in (("C.1", self.c1), ("C.2", self.c2), ("C.3", self.c3)):
            vals = [p.xreplace({sp.sympify(k): sp.sympify(v) for k, v in subs.items()}) for p in preds]
            vals = [v if v in (sp.true, sp.false) else sp.simplify(v) for v in vals]
            if any(v not in (sp.true, sp.false) for v in vals):
                raise ValidationError(f"`subs` must give every symbol a value; {name} stays "
                                      f"{[v for v in vals if v not in (sp.true, sp.false)][0]}.")
            out[name] = all(v == sp.true for v in vals)
        return out

    def summary(self):
        return (f"C.1: {len(self.c1)} balance equations, C.2: {len(self.c2)} pair conditions, "
                f"C.3: {len(self.c3)} positivity conditions")

    def to_dict(self):
        return {"C.1": [str(p) for p in self.c1], "C.2": [str(p) for p in self.c2],
                "C.3": [str(p) for p in self.c3]}


def _as_matrix(M, name):
    try:
        M = sp.Matrix(M)
    except (TypeError, ValueError, sp.SympifyError):
        raise ValidationError(f"`{name}` must be a matrix of SymPy expressions; got {M!r}.") from None
    return M


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
        head = ("in the restricted space" if self.in_restricted_space
                else "not in the restricted space: " + ", ".join(
                    f"{c} fails (neurons {self.failing[c]})" for c in self.failing))
        conds = ", ".join(f"{k} {'holds' if v else 'fails'}" for k, v in self.conditions.items())
        return f"{head} [{conds}; weight vectors on the input augmented {self.augment!r}, tol {self.tol:g}]"

    def to_dict(self):
        return {"in_restricted_space": self.in_restricted_space, "conditions": self.conditions,
                "failing": {k: [list(v) if isinstance(v, tuple) else v for v in vals]
                            for k, vals in self.failing.items()},
                "augment": self.augment, "tol": self.tol}


def restricted_space_membership(net, *, augment=None, tol=1e-9):
    """Numeric check of C.1–C.3 for a shallow ReLU network.

    Parameters
    ----------
    net : Network
    augment : {"none", "bias", "c3"} or None
        The weight vectors checked are those of :func:`shallow_form` with this augmentation
        (default: as they are, ``(w_k, b_k)`` with hidden biases). ``"c3"`` checks the
        network after the two-dimensional augmentation (C.3 then holds by construction).
    tol : float, default=1e-9
        C.1: ``| ||c_i|| − ||a_i|| | ≤ tol · max``; C.2: cosine ``≥ 1 − tol`` is the same
        direction; C.3: coordinates ``> tol · ||a_i||``.

    Returns
    -------
    Membership

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
    form = shallow_form(net, augment)
    A, C = form.A, form.C
    na, nc = np.linalg.norm(A, axis=1), np.linalg.norm(C, axis=1)
    big = np.maximum(np.maximum(na, nc), 1e-300)
    fail1 = [int(i) for i in np.flatnonzero(np.abs(na - nc) > tol * big)]
    fail2 = []
    nz = np.flatnonzero(na > 0)
    unit = A[nz] / na[nz, None]
    for ii, jj in itertools.combinations(range(len(nz)), 2):
        if unit[ii] @ unit[jj] >= 1 - tol:
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
