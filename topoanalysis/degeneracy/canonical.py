"""The canonical form of a shallow ReLU network modulo its symmetries.

Steps (each leaves the realization unchanged, and each is checked):

1. **fold biases** — the bias-free form on ``x ↦ (x, 1)`` (an output bias becomes a neuron with
   weight vector ``(0, …, 0, 1)``);
2. **drop zero neurons** — ``w = 0`` or ``a = 0``;
3. **merge redundant neurons** — same direction into one
   (:func:`topoanalysis.symmetry.merge_redundant_neurons`), then drop merged neurons whose
   outputs cancelled;
4. **augment for C.3** — ``x ↦ (x, 1, −1)``, last two coordinates strictly positive;
5. **balance** — ``||w_k|| = ||a_k||`` (:func:`topoanalysis.symmetry.balance`);
6. **order** — :func:`topoanalysis.symmetry.canonical_neuron_order` (lexicographic on the
   rounded weights, ties broken by the exact floats).

The result is a bias-free :class:`~topoanalysis.Network` on the augmented input plus the map
from old to new neurons. Numerically every step is checked on sampled points and on every
linear region a sample meets (values and gradients); :func:`canonical_form_symbolic` runs
the same steps in exact SymPy arithmetic, where each difference of realizations simplifies
to 0. Lemma A.3 of Berner et al.: for linearly independent weight vectors, networks with the
same realization have the same canonical form.
"""

import dataclasses
import math

import numpy as np
import sympy as sp

from .._validation import (check_array, check_choice, check_float, check_int, check_seed,
                           renamed_kwargs)
from ..exceptions import ValidationError
from ._form import (AUGMENTATIONS, MAX_PARAMETER, ShallowForm, _check_net, augment_inputs,
                    c3_augment, form_network, shallow_form)

__all__ = ["CanonicalForm", "StepCheck", "canonical_form", "canonical_form_symbolic",
           "SymbolicStep", "exact_merge"]

STEPS = ("fold biases", "drop zero neurons", "merge redundant neurons", "augment for C.3",
         "balance", "order")


@dataclasses.dataclass(frozen=True)
class StepCheck:
    """Numeric check of one step: realization and gradient before vs after."""

    step: str
    width_before: int
    width_after: int
    max_value_error: float
    max_gradient_error: float
    n_points: int
    n_regions: int
    holds: bool

    def to_dict(self):
        """Plain data (the fields).

        Returns
        -------
        dict
            Plain JSON types.
        """
        return dataclasses.asdict(self)

    def summary(self):
        """One line: the step, widths and the largest errors found.

        Returns
        -------
        str
            The report.
        """
        return (f"{self.step}: width {self.width_before} -> {self.width_after}, value error "
                f"{self.max_value_error:.2e}, gradient error {self.max_gradient_error:.2e} on "
                f"{self.n_points} points / {self.n_regions} regions: "
                f"{'holds' if self.holds else 'FAILS'}")


@dataclasses.dataclass(frozen=True)
class CanonicalForm:
    """Canonical form of a network modulo permutation, rescaling and redundancy.

    Attributes
    ----------
    network : Network
        Bias-free network on the augmented input (``d``, ``d + 1`` or ``d + 2`` inputs).
    augment : str
        The augmentation (``augment_inputs(X, augment)`` feeds ``network``).
    mapping : ndarray of int of shape (l,)
        New neuron of every old neuron (``-1``: dropped as zero or cancelled).
    output_bias_neuron : int
        New neuron holding the old output bias (``-1``: none).
    steps : list of StepCheck
    exact : bool
        Every decision (zero neuron, same ray, cancelled group) was made in rational
        arithmetic: the form realizes the same function up to float rounding of the merged
        outputs, of the C.3 lift (``b⁺ + τ``, ``b⁻ + τ``: a kink moves by up to about
        ``ulp(||(w, b)||)``) and of the balancing (checked by ``steps``). False when
        ``merge_tol`` was used.
    change_bound : float
        Bound on ``|R(form) − R(net)|_{W^{1,∞}}`` caused by ``merge_tol`` (0 without it).
    """

    network: object
    augment: str
    mapping: np.ndarray
    output_bias_neuron: int
    steps: list
    width_before: int
    n_neurons: int = None
    exact: bool = True
    change_bound: float = 0.0

    @property
    def width(self):
        """Number of neurons (0 for the zero function, stored as one zero neuron)."""
        return self.network.arch.hidden[0] if self.n_neurons is None else self.n_neurons

    @property
    def verified(self):
        """Whether every step's numeric check passed."""
        return all(s.holds for s in self.steps)

    def __call__(self, X):
        """The canonical network on original inputs ``X`` of shape ``(N, d)``."""
        return self.network.forward(augment_inputs(X, self.augment))

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"canonical form: {self.width_before} neurons -> {self.width} "
                 f"(input augmented {self.augment!r}, {self.network.arch.inputs} inputs); "
                 f"old -> new {self.mapping.tolist()}; "
                 + ("decisions exact (rational arithmetic)" if self.exact else
                    f"merged with a tolerance: W^(1,inf) change <= {self.change_bound:.3g}")]
        for s in self.steps:
            lines.append(f"  {s.step:26s} {s.width_before:3d} -> {s.width_after:3d}  "
                         f"max |dR| {s.max_value_error:.1e}, max |dgrad| "
                         f"{s.max_gradient_error:.1e} on {s.n_points} points / {s.n_regions} "
                         f"regions: {'ok' if s.holds else 'FAILED'}")
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        W1, W2 = self.network.weights
        return {"width_before": self.width_before, "width": self.width, "augment": self.augment,
                "mapping": self.mapping.tolist(), "output_bias_neuron": self.output_bias_neuron,
                "weights": W1.tolist(), "outputs": W2.T.tolist(),
                "verified": self.verified, "exact": self.exact,
                "change_bound": self.change_bound, "steps": [s.to_dict() for s in self.steps]}


def _grad_x(form, X, d):
    """Gradients w.r.t. the original input, ``(N, e, d)``, and activation patterns."""
    Z = augment_inputs(X, form.augment)
    act = (Z @ form.A.T) > 0
    J = np.einsum("nk,ke,kd->ned", act.astype(float), form.C, form.A[:, :d])
    return J, act


def _check_step(name, before, after, X, d, rtol, eval_before=None):
    vb = eval_before(X) if eval_before is not None else before(X)
    va = after(X)
    if isinstance(before, ShallowForm):
        gb, act = _grad_x(before, X, d)
    else:
        gb, act = _network_grad(before, X)
    ga, _ = _grad_x(after, X, d)
    scale = 1.0 + np.abs(vb).max() + np.abs(gb).max()
    ev = float(np.abs(va - vb).max())
    eg = float(np.abs(ga - gb).max())
    n_regions = len({row.tobytes() for row in np.packbits(act, axis=1)})
    width_b = before.width if isinstance(before, ShallowForm) else before.arch.hidden[0]
    return StepCheck(name, int(width_b), int(after.width), ev, eg, len(X), n_regions,
                     bool(ev <= rtol * scale and eg <= rtol * scale))


def _network_grad(net, X):
    (W1, b1), (W2, _) = net.arch.unpack(net.params)
    pre = X @ W1.T + (0.0 if b1 is None else b1)
    act = pre > 0
    J = np.einsum("nk,ek,kd->ned", act.astype(float), W2, W1)
    return J, act


def exact_merge(A, C):
    """Merge neurons whose weight vectors lie on the same ray, decided exactly.

    Parameters
    ----------
    A : ndarray of shape (m, D)
        Non-zero weight vectors (rows).
    C : ndarray of shape (m, e)
        Output vectors (rows).

    Returns
    -------
    A_new, C_new : ndarrays
        One neuron per ray whose merged output is not exactly zero: a member's weight vector
        ``n`` scaled by a power of two (the member and the power chosen so that the float
        vector does not depend on permutations or power-of-two rescalings of the members)
        and output ``Σ_j λ_j c_j`` with ``a_j = λ_j n`` (``λ_j`` rational, the sum rational,
        rounded once to float64).
    group : ndarray of int of shape (m,)
        Row of every old neuron in the new form (``-1``: its group cancelled exactly).

    See Also
    --------
    canonical_form, topoanalysis.symmetry.merge_redundant_neurons

    Notes
    -----
    Two rows are on the same ray iff their ray keys (:func:`~topoanalysis.degeneracy._exact.ray_key`)
    are equal — all 2×2 minors vanish in rational arithmetic and the dot product is positive.
    No tolerance: rows at any angle ``ε > 0`` stay apart (merging them would change the
    function by ``|c| ||a||`` in ``W^{1,∞}`` on the wedge between them).

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: redundant
           weight vectors (same direction) and condition C.2; Lemma A.3 (uniqueness up to
           permutation and balancing).
    """
    from fractions import Fraction

    from ._exact import rat, ray_key

    index, groups, lams = {}, [], []
    for k in range(len(A)):
        key, lam = ray_key(A[k])
        g = index.setdefault(key, len(groups))
        if g == len(groups):
            groups.append([])
            lams.append([])
        groups[g].append(k)
        lams[g].append(lam)
    rows_a, rows_c = [], []
    group = np.full(len(A), -1)
    for members, lam in zip(groups, lams):
        # the group's vector: the member whose largest entry has the largest significand,
        # scaled by a power of two to put that entry in [1, 2) -- the same float vector
        # whatever power-of-two rescalings or permutations the members underwent
        sig = [math.frexp(float(np.abs(A[k]).max())) for k in members]
        lead = max(range(len(members)), key=lambda i: (sig[i][0], -i))
        shift = 1 - sig[lead][1]
        vec = np.ldexp(A[members[lead]], shift)
        if not np.array_equal(np.ldexp(vec, -shift), A[members[lead]]):   # subnormal loss
            vec, shift = A[members[lead]], 0
        lam_lead = lam[lead] * (Fraction(2) ** shift)
        total = [sum((lam[i] / lam_lead) * rat(C[members[i], j]) for i in range(len(members)))
                 for j in range(C.shape[1])]
        if all(t == 0 for t in total):
            continue
        group[members] = len(rows_a)
        rows_a.append(vec)
        rows_c.append([float(t) for t in total])
    D, e = A.shape[1], C.shape[1]
    return (np.array(rows_a, dtype=np.float64).reshape(-1, D),
            np.array(rows_c, dtype=np.float64).reshape(-1, e), group)


def canonical_form(net, *, augment="c3", tol=1e-9, X=None, n_check=512, seed=0,
                   merge_tol=None, certify="exact"):
    """Canonical form of a shallow ReLU network modulo permutation, rescaling and redundancy.

    Parameters
    ----------
    net : Network
        Shallow ReLU network (any input and output dimension, with or without biases).
    augment : {"c3", "bias", "none"}, default="c3"
        ``"c3"``: fold biases and augment to ``(x, 1, −1)`` (conditions C.1–C.3 hold after);
        ``"bias"``: fold biases into ``(x, 1)`` only; ``"none"``: bias-free networks only.
    tol : float, default=1e-9
        Relative error allowed in the numeric step checks (values and gradients). It decides
        nothing about the form.
    X : array_like of shape (N, d), optional
        Points for the checks (default: ``n_check`` standard normal points, seeded).
    n_check : int, default=512
        Number of check points when ``X`` is not given.
    seed : int, default=0
        Seed of those points.
    merge_tol : float or None, default=None
        ``None``: zero neurons (``w = 0`` or ``a = 0``), redundant neurons (same ray) and
        cancelled groups are decided exactly from the float parameters. A float is a
        *modelling* choice: neurons of relative size ``≤ merge_tol`` are dropped and directions
        with cosine ``≥ 1 − merge_tol`` merged; the form then realizes a nearby function,
        ``exact`` is False and ``change_bound`` bounds the ``W^{1,∞}`` change.
    certify : {"exact"}, default="exact"
        Decisions in rational arithmetic (the only mode: it costs about as much as the float
        path, see the guide).

    Returns
    -------
    CanonicalForm
        The canonical bias-free network, the augmentation, the map from the original neurons,
        the reduction steps taken and whether the form is exact.

    See Also
    --------
    canonical_form_symbolic, topoanalysis.degeneracy.parameter_distance

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, conditions C.1–C.3 and Lemma A.3.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([[[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], [[1.0, 0.5, 3.0]]])
    >>> cf = canonical_form(net, augment="none")
    >>> cf.width, cf.mapping.tolist(), cf.verified, cf.exact
    (1, [0, 0, -1], True, True)
    >>> X = np.array([[0.3, 0.1], [-1.0, 2.0]])
    >>> bool(np.allclose(cf(X), net.forward(X)))
    True
    """
    from ..symmetry import canonical_neuron_order, merge_redundant_neurons

    _check_net(net, limit=MAX_PARAMETER)
    augment = check_choice("augment", augment, AUGMENTATIONS)
    certify = check_choice("certify", certify, ("exact",))
    tol = check_float("tol", tol, minimum=0.0, maximum=0.5)
    if merge_tol is not None:
        merge_tol = check_float("merge_tol", merge_tol, minimum=0.0, maximum=0.5)
    _check_finite_params(net)
    d = net.arch.inputs
    rng = check_seed("seed", seed)              # checked even when X is given (then unused)
    if X is None:
        X = rng.normal(size=(check_int("n_check", n_check, minimum=1, maximum=10**6), d))
    else:
        X = check_array("X", X, ndim=2)
        if X.shape[1] != d:
            raise ValidationError(f"`X` must have {d} columns; got {X.shape[1]}.")
    rtol = max(tol, 1e-9)
    l = net.arch.hidden[0]
    steps = []
    change = 0.0

    form = shallow_form(net, "none" if augment == "none" else "bias")
    steps.append(_check_step(STEPS[0], net, form, X, d, rtol, eval_before=net.forward))
    cur = np.arange(form.width)                         # current row of every form row

    na, nc = np.linalg.norm(form.A, axis=1), np.linalg.norm(form.C, axis=1)
    if merge_tol is None:
        keep = np.any(form.A != 0, axis=1) & np.any(form.C != 0, axis=1)      # exact
    else:
        scale = max(float(np.abs(form.A).max(initial=0)), float(np.abs(form.C).max(initial=0)),
                    1e-300)
        keep = (na > merge_tol * scale) & (nc > merge_tol * scale)
        change += float(np.sum((na * nc)[~keep]))
    new = ShallowForm(form.A[keep], form.C[keep], form.augment, d, form.origin[keep])
    idx = np.full(form.width, -1)
    idx[keep] = np.arange(int(keep.sum()))
    cur = idx[cur]
    steps.append(_check_step(STEPS[1], form, new, X, d, rtol))
    form = new

    if form.width and merge_tol is None:
        A, C, group = exact_merge(form.A, form.C)
        new = ShallowForm(A, C, form.augment, d, np.arange(len(A)))
        cur = np.where(cur >= 0, group[np.maximum(cur, 0)], -1)
    elif form.width:
        merged = merge_redundant_neurons(form_network(form.A, form.C), tol=merge_tol)
        W1, W2 = merged.network.weights
        A, C = np.array(W1), np.array(W2.T)
        scale = max(float(np.abs(form.C).max(initial=0)), 1e-300)
        alive = np.linalg.norm(C, axis=1) > merge_tol * scale
        new = ShallowForm(A[alive], C[alive], form.augment, d, np.arange(int(alive.sum())))
        gidx = np.full(len(A), -1)
        gidx[alive] = np.arange(int(alive.sum()))
        cur = np.where(cur >= 0, gidx[merged.mapping[np.maximum(cur, 0)]], -1)
        # every neuron moved onto its group's direction, and every dropped group, changes
        # the gradient by at most ||c|| ||a|| (the wedge between the two hyperplanes)
        for g, members in enumerate(merged.groups):
            lead = np.asarray(A[g])
            for k in members:
                if np.any(form.A[k] != 0) and not _same_ray(form.A[k], lead):
                    change += float(np.linalg.norm(form.A[k]) * np.linalg.norm(form.C[k]))
        change += float(np.sum(np.linalg.norm(A[~alive], axis=1) * np.linalg.norm(C[~alive], axis=1)))
    else:
        new = form
    steps.append(_check_step(STEPS[2], form, new, X, d, rtol))
    form = new

    if augment == "c3":
        new = c3_augment(form)
        steps.append(_check_step(STEPS[3], form, new, X, d, rtol))
        form = new

    if form.width:
        A, C = _balanced(form.A, form.C)
        new = ShallowForm(A, C, form.augment, d, form.origin)
    else:
        new = form
    steps.append(_check_step(STEPS[4], form, new, X, d, rtol))
    form = new

    if form.width:
        perm = canonical_neuron_order(form_network(form.A, form.C), decimals=_decimals(tol))
        inv = np.empty_like(perm)
        inv[perm] = np.arange(len(perm))
        new = ShallowForm(form.A[perm], form.C[perm], form.augment, d, form.origin)
        cur = np.where(cur >= 0, inv[np.maximum(cur, 0)], -1)
    else:
        new = form
    steps.append(_check_step(STEPS[5], form, new, X, d, rtol))
    form = new

    mapping = cur[:l]
    ob = int(cur[l]) if len(cur) > l else -1
    out_net = form_network(form.A, form.C) if form.width else form_network(
        np.zeros((1, form.A.shape[1])), np.zeros((1, form.C.shape[1])))
    return CanonicalForm(network=out_net, augment=form.augment, mapping=mapping,
                         output_bias_neuron=ob, steps=steps, width_before=l,
                         n_neurons=int(form.width), exact=merge_tol is None,
                         change_bound=float(change))


def _same_ray(u, v):
    from ._exact import ray_key

    return ray_key(u)[0] == ray_key(v)[0]


def _check_finite_params(net, name="net"):
    from ..network import Network

    if not isinstance(net, Network):
        raise ValidationError(f"`{name}` must be a Network; got {type(net).__name__}.")
    p = np.asarray(net.params)
    if p.dtype.kind == "c" or not np.all(np.isfinite(p)):
        raise ValidationError(f"`{name}` must have finite real parameters; got non-finite or "
                              "complex entries.")


def _decimals(tol):
    return int(max(1, min(12, round(-np.log10(max(tol, 1e-12))))))


def _balanced(A, C):
    """Balance every neuron (``||a_k|| = ||c_k||`` up to rounding), reproducibly.

    The factor ``α = sqrt(||c||/||a||)`` is split as ``2^j β`` with ``β² = m ∈ (1/2, 2)``, ``m``
    and the parity of ``j`` read off the binary exponents of the two norms. The power of two is
    applied first (exact), then ``β`` — unless the neuron is already balanced to within the
    rounding of one balancing (``|m − 1| ≤ T``), in which case nothing is rounded. Hence a
    neuron rescaled by a power of two gives bit-identical results, and balancing a balanced
    form changes no bit (the canonical form is idempotent). Falls back to
    :func:`topoanalysis.symmetry.balance` if a power of two would leave float64.
    """
    from ..symmetry import balance
    from ._exact import float_sum_error
    from .distance import _norm

    A0, C0 = A, C
    A = np.array(A, dtype=np.float64)
    C = np.array(C, dtype=np.float64)
    T = 4.0 * (float_sum_error(A.shape[1] + 2) + float_sum_error(C.shape[1] + 2)) + 16 * 2.0 ** -53
    for k in range(len(A)):
        na, nc = _norm(A[k]), _norm(C[k])
        if not (na > 0 and nc > 0):
            continue
        fa, ea = math.frexp(na)
        fc, ec = math.frexp(nc)
        m, E = fc / fa, ec - ea                 # ||c||/||a|| = m 2^E, m in (1/2, 2)
        if E % 2:
            if m < 1:
                m, E = 2.0 * m, E - 1
            else:
                m, E = 0.5 * m, E + 1
        j = E // 2
        a_k, c_k = np.ldexp(A[k], j), np.ldexp(C[k], -j)
        if not (np.array_equal(np.ldexp(a_k, -j), A[k])
                and np.array_equal(np.ldexp(c_k, j), C[k])):
            W1, W2 = balance(form_network(A0, C0)).weights
            return np.array(W1), np.array(W2.T)
        if abs(m - 1.0) > T:
            beta = math.sqrt(m)
            a_k, c_k = a_k * beta, c_k / beta
        A[k], C[k] = a_k, c_k
    return A, C


# --- exact (SymPy) ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SymbolicStep:
    """One step in exact arithmetic: the weights after it and the simplified difference."""

    step: str
    A: sp.Matrix
    C: sp.Matrix
    residual: sp.Matrix

    @property
    def holds(self):
        """Whether every residual of the step simplifies to 0."""
        return all(r == 0 for r in self.residual)

    def to_dict(self):
        """Plain data (matrices as ``str``).

        Returns
        -------
        dict
            Plain JSON types.
        """
        return {"step": self.step, "A": str(self.A.tolist()), "C": str(self.C.tolist()),
                "residual": [str(r) for r in self.residual], "holds": self.holds}

    def summary(self):
        """One line: the step, the width after it and whether the realization is unchanged.

        Returns
        -------
        str
            The report.
        """
        return (f"{self.step}: {self.A.rows} neuron(s), realization "
                f"{'unchanged (residual 0)' if self.holds else 'CHANGED'}")


@renamed_kwargs(A="w", C="a")
def canonical_form_symbolic(w, a, *, augment="c3"):
    """The canonical-form steps in exact SymPy arithmetic on a small network.

    Parameters
    ----------
    w : sympy.Matrix of shape (m, d + 1)
        Input weight vectors ``(w_k, b_k)`` on ``x ↦ (x, 1)`` (exact numbers, e.g.
        ``Rational``; a float, or a SymPy ``Float``, is taken at its exact binary value:
        ``0.1`` is ``3602879701896397/36028797018963968``); the paper's ``a_i`` (formerly
        the keyword ``A``).
    a : sympy.Matrix of shape (m, e)
        Output weights (floats likewise exact); the paper's ``c_i`` (formerly the keyword
        ``C``).
    augment : {"c3", "bias"}, default="c3"

    Returns
    -------
    list of SymbolicStep
        One per step (drop zero, merge, C.3 augmentation, balance); each ``residual`` is
        ``simplify(R_after − R_before)`` on the original input ``x`` — ``0`` when exact.

    See Also
    --------
    canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: conditions
           C.1–C.3 and Lemma A.3.

    Examples
    --------
    >>> import sympy as sp
    >>> A = sp.Matrix([[1, 2, 1], [2, 4, 2], [0, 0, 0], [1, -1, -3]])
    >>> C = sp.Matrix([[1], [sp.Rational(1, 2)], [5], [-2]])
    >>> steps = canonical_form_symbolic(A, C)
    >>> [(s.step, s.A.rows, s.holds) for s in steps]
    [('drop zero neurons', 3, True), ('merge redundant neurons', 2, True), ('augment for C.3', 2, True), ('balance', 2, True)]
    """
    from .conditions import _as_matrix

    # floats at their exact binary values: the steps decide parallel rows (rank 1) and
    # cancelled groups, and a Float would decide them in rounded arithmetic
    A = _as_matrix(w, "w").applyfunc(_exact_floats)
    C = _as_matrix(a, "a").applyfunc(_exact_floats)
    if A.rows > 12:
        raise ValidationError(f"`w` must have at most 12 rows for the exact SymPy steps "
                              f"(simplification grows fast); got {A.rows}.")
    augment = check_choice("augment", augment, ("c3", "bias"))
    if A.rows != C.rows or A.cols < 2:
        raise ValidationError(f"`w` must have one row per row of `a` and >= 2 columns; got "
                              f"{A.shape} and {C.shape}.")
    d = A.cols - 1
    x = sp.Matrix(sp.symbols(f"x0:{d}", real=True))
    from .conditions import symbolic_realization

    def realize(A_, C_, aug):
        extra = [1] if aug == "bias" else [1, -1]
        z = sp.Matrix(list(x) + extra)
        if A_.rows == 0:
            return sp.zeros(C.cols, 1)
        return symbolic_realization(A_, C_, z)

    steps = []
    before = realize(A, C, "bias")

    def record(name, A_, C_, aug):
        nonlocal before
        after = realize(A_, C_, aug)
        res = (after - before).applyfunc(_exact_zero)
        steps.append(SymbolicStep(name, A_, C_, res))
        before = after

    rows = [i for i in range(A.rows) if any(v != 0 for v in A.row(i)) and any(v != 0 for v in C.row(i))]
    A1, C1 = _rows(A, rows), _rows(C, rows)
    record("drop zero neurons", A1, C1, "bias")

    groups = []
    for i in range(A1.rows):
        for g in groups:
            lead = A1.row(g[0])
            if sp.Matrix.vstack(lead, A1.row(i)).rank() == 1 and (lead.dot(A1.row(i))) > 0:
                g.append(i)
                break
        else:
            groups.append([i])
    A2_rows, C2_rows = [], []
    for g in groups:
        lead = A1.row(g[0])
        # the ratio is exact (nsimplify would replace 3602879701896397/36028797018963968 by
        # 1/10 and change the realization)
        out = sum((sp.radsimp(A1.row(k).dot(lead) / lead.dot(lead)) * C1.row(k) for k in g),
                  sp.zeros(1, C1.cols))
        if any(sp.simplify(v) != 0 for v in out):
            A2_rows.append(lead)
            C2_rows.append(out)
    A2 = sp.Matrix.vstack(*A2_rows) if A2_rows else sp.zeros(0, A.cols)
    C2 = sp.Matrix.vstack(*C2_rows) if C2_rows else sp.zeros(0, C.cols)
    record("merge redundant neurons", A2, C2, "bias")

    aug = "bias"
    if augment == "c3":
        rows3 = []
        for i in range(A2.rows):
            w, b = A2.row(i)[:, :d], A2[i, d]
            # the float lift's rule (degeneracy._form.c3_augment): τ = |b| for b ≠ 0, else ||w||
            # (rows on one ray were merged above, so each ray has one row)
            tau = sp.Piecewise((sp.Abs(b), sp.Ne(b, 0)),
                               (sp.sqrt(sum(v ** 2 for v in w)), True))
            rows3.append(sp.Matrix.hstack(w, sp.Matrix([[sp.Max(b, 0) + tau, sp.Max(-b, 0) + tau]])))
        A2 = sp.Matrix.vstack(*rows3) if rows3 else sp.zeros(0, d + 2)
        aug = "c3"
        record("augment for C.3", A2, C2, aug)

    rows_a, rows_c = [], []
    for i in range(A2.rows):
        na = sp.sqrt(sum(v ** 2 for v in A2.row(i)))
        nc = sp.sqrt(sum(v ** 2 for v in C2.row(i)))
        alpha = sp.sqrt(nc / na)
        rows_a.append((A2.row(i) * alpha).applyfunc(sp.radsimp))
        rows_c.append((C2.row(i) / alpha).applyfunc(sp.radsimp))
    A4 = sp.Matrix.vstack(*rows_a) if rows_a else A2
    C4 = sp.Matrix.vstack(*rows_c) if rows_c else C2
    record("balance", A4, C4, aug)
    return steps


def _exact_floats(e):
    """``e`` with every SymPy ``Float`` replaced by its exact rational value."""
    floats = e.atoms(sp.Float)
    return e.xreplace({f: sp.Rational(f) for f in floats}) if floats else e


def _exact_zero(e):
    """``e`` simplified (cheap passes first: radicals denested, then ``simplify``)."""
    e = sp.expand(sp.radsimp(sp.expand(e)))
    return e if e == 0 else sp.simplify(e)


def _rows(M, rows):
    if not rows:
        return sp.zeros(0, M.cols)
    return sp.Matrix.vstack(*[M.row(i) for i in rows])
