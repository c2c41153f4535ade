"""Theorem 3.1's conditions for an unrestricted ``Γ``: C.1, C.2, C.3 (C.3a/C.3b), decided exactly.

Theorem 3.1 (Berner, Elbrächter & Grohs, NeurIPS 2019) is the "technical" inverse-stability
statement: ``Γ`` is any parametrization in ``N_N`` (no restricted space), ``g`` a realization,
and the conclusion — a parametrization ``Φ`` of ``g`` with ``|Φ − Γ|_∞`` bounded by a power
``1/2`` of ``|g − R(Γ)|_{W^{1,∞}}`` — holds under

* **C.1** ``Γ`` is balanced: ``||c_i^Γ|| = ||a_i^Γ||`` for every neuron;
* **C.2** no two non-zero weight vectors of ``Γ`` are redundant (on the same ray);
* **C.3** there is a parametrization ``Θ`` of ``g`` (``R(Θ) = g``, the width of ``Γ``) with
  **C.3a** no two non-zero weight vectors of exactly opposite directions within ``Γ`` and
  within ``Θ``, and **C.3b** no non-zero weight vector of ``Γ`` exactly opposite to one of
  ``Θ``.

Our copy of the paper lacks the formulas (and no reachable source has them: docs/guide/berner.md,
"Sources"). Its prose keeps the statement's skeleton: ``Θ = ([a_1^Θ|…|a_m^Θ]^T, c^Θ) ∈ N_N`` (so
the width of ``Γ``), C.3a with two clauses (within ``Γ``, within ``Θ``), C.3b with one over
pairs, output dimension one; the formulas in the clauses are ours, read off the proof
(Appendix A.3.2: "by C.2 and C.3a" the weight vectors of ``Γ`` are pairwise linearly
independent, those of ``Θ`` after merging same-ray neurons likewise, and C.3b is what lets a
hyperplane of ``Γ`` be matched only with a neuron of ``Θ`` on the same ray). The proof uses the
three together; :class:`Theorem31Conditions` reports each.

**C.3 is existential** ("there exists ``Θ``"), and decided exactly here, not only for the given
``Θ``. Group the neurons of ``Θ`` by line (``a_j = λ_j n_L``, line key ``n_L``, rationals):
``Σ_{j∈L} c_j ρ(λ_j ⟨n_L, x⟩) = γ_L ρ(⟨n_L, x⟩) − N_L ⟨n_L, x⟩`` with ``γ_L = Σ_j c_j |λ_j|`` over
both orientations (``ρ(−s) = ρ(s) − s``) and ``N_L = Σ_{λ_j<0} c_j |λ_j|``. So
``g = Σ_{γ_L≠0} γ_L ρ(⟨n_L,x⟩) + V⟨·,x⟩``
with ``V = −Σ_L N_L n_L^T``. A parametrization without opposite pairs has at most one ray per
line (same-ray neurons merge), so it is a choice of orientation ``σ_L`` per kink line; flipping
line ``L`` (``γ ρ(⟨n,x⟩) = γ ρ(⟨−n,x⟩) + γ ⟨n,x⟩``) adds ``γ_L n_L^T`` to the linear part, which
must end at zero (a linear function has no kink, so it needs an opposite pair). C.3b fixes
``σ_L`` on the lines of ``Γ``'s weight vectors. Hence C.3 holds iff there are at most ``m`` kink
lines and a subset ``S`` of the free kink lines with ``Σ_{L∈S} γ_L n_L^T = T`` (``T`` the linear
part left by the forced orientations): an exact subset-sum over rational ``e × D`` matrices,
solved by linear algebra when the ``γ_L n_L^T`` are independent (the solution is unique) and by
meet-in-the-middle otherwise (up to ``max_free_lines`` free lines; beyond, ``c3 = None``).
"""

import dataclasses
import itertools
from fractions import Fraction

import numpy as np

from .._validation import check_float, check_int
from ..exceptions import ValidationError
from ._exact import line_key, rat, ray_key
from ._form import form_network, pair_forms

__all__ = ["Theorem31Conditions", "theorem_3_1_conditions"]


@dataclasses.dataclass(frozen=True)
class Theorem31Conditions:
    """C.1, C.2, C.3a, C.3b and C.3 of Theorem 3.1 for ``Γ`` and ``g = R(Θ)``.

    Attributes
    ----------
    holds : bool or None
        C.1 and C.2 and C.3 (``None`` when C.3 was left undecided).
    c1 : bool
        ``Γ`` balanced: the relative balance defect is ``≤ balance_tol``.
    c1_exact : bool
        ``||c_i||² = ||a_i||²`` holds exactly in rationals for every neuron (then C.1 is a
        proof, not a tolerance).
    balance_defect : float
        ``max_i | ||c_i||² − ||a_i||² | / max(||c_i||², ||a_i||²)`` (computed in rationals).
    c1_failing : tuple of int
    c2 : bool
        No two non-zero weight vectors of ``Γ`` on the same ray (exact).
    c2_failing : tuple of (int, int)
    c3a_given, c3b_given : bool
        C.3a / C.3b for the given ``Θ`` (exact).
    c3a_failing : tuple of (str, int, int)
        ``("Γ", i, j)`` or ``("Θ", i, j)``: opposite pairs within one network.
    c3b_failing : tuple of (int, int)
        ``(i, j)``: ``a_i^Γ`` opposite to ``a_j^Θ``.
    c3 : bool or None
        Some parametrization of ``g`` of ``Γ``'s width satisfies C.3a and C.3b (module
        docstring); ``None``: undecided (too many free kink lines).
    c3_certificate : str
        Why ``c3`` is what it is.
    witness : Network or None
        A parametrization ``Θ'`` of ``g`` satisfying C.3a/C.3b when ``c3`` holds (one neuron
        per kink line; its outputs ``γ_L / λ`` are rounded once to float64).
    kink_lines : int
        Hyperplanes on which ``g`` has a kink (exact).
    width : int
        Width of ``Γ``.
    """

    holds: object
    c1: bool
    c1_exact: bool
    balance_defect: float
    c1_failing: tuple
    c2: bool
    c2_failing: tuple
    c3a_given: bool
    c3a_failing: tuple
    c3b_given: bool
    c3b_failing: tuple
    c3: object
    c3_certificate: str
    witness: object
    kink_lines: int
    width: int
    balance_tol: float = 0.0

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        def word(v):
            return "undecided" if v is None else ("holds" if v else "fails")

        head = {True: "Theorem 3.1 applies", False: "Theorem 3.1 does not apply",
                None: "Theorem 3.1: undecided"}[self.holds]
        c1 = (f"C.1 {word(self.c1)} ({'exactly' if self.c1_exact else 'defect'} "
              f"{self.balance_defect:.3g}"
              + (f", neurons {list(self.c1_failing)}" if self.c1_failing else "") + ")")
        c2 = f"C.2 {word(self.c2)}" + (f" (same ray: {list(self.c2_failing)})"
                                       if self.c2_failing else "")
        c3a = f"C.3a for the given Θ {word(self.c3a_given)}" + (
            f" (opposite: {list(self.c3a_failing)})" if self.c3a_failing else "")
        c3b = f"C.3b for the given Θ {word(self.c3b_given)}" + (
            f" (Γ vs Θ opposite: {list(self.c3b_failing)})" if self.c3b_failing else "")
        return (f"{head}: {c1}; {c2}; {c3a}; {c3b}; C.3 (some parametrization of g) "
                f"{word(self.c3)}: {self.c3_certificate}")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        w = None
        if self.witness is not None:
            W1, W2 = self.witness.weights
            w = {"A": np.asarray(W1).tolist(), "C": np.asarray(W2).T.tolist()}
        return {"holds": self.holds, "c1": self.c1, "c1_exact": self.c1_exact,
                "balance_defect": self.balance_defect, "balance_tol": self.balance_tol,
                "c1_failing": list(self.c1_failing), "c2": self.c2,
                "c2_failing": [list(p) for p in self.c2_failing],
                "c3a_given": self.c3a_given, "c3a_failing": [list(p) for p in self.c3a_failing],
                "c3b_given": self.c3b_given, "c3b_failing": [list(p) for p in self.c3b_failing],
                "c3": self.c3, "c3_certificate": self.c3_certificate, "witness": w,
                "kink_lines": self.kink_lines, "width": self.width}


def _nonzero_rays(A):
    """``{row: (ray key, λ)}`` for the non-zero rows (exact)."""
    out = {}
    for i, a in enumerate(A):
        r = ray_key(a)
        if r is not None:
            out[i] = r
    return out


def _neg(key):
    return tuple(-x for x in key)


def _opposite_pairs(rays_a, rays_b=None):
    """Pairs ``(i, j)`` with exactly opposite rays (within one set when ``rays_b`` is None)."""
    index = {}
    for j, (k, _) in (rays_a if rays_b is None else rays_b).items():
        index.setdefault(k, []).append(j)
    out = []
    for i, (k, _) in rays_a.items():
        for j in index.get(_neg(k), ()):
            if rays_b is not None or i < j:
                out.append((i, j))
    return sorted(out)


def _balance(A, C):
    defects = []
    for i in range(len(A)):
        na = sum(rat(x) ** 2 for x in A[i])
        nc = sum(rat(x) ** 2 for x in C[i])
        big = max(na, nc)
        defects.append(Fraction(0) if big == 0 else abs(nc - na) / big)
    return defects


def _lines(A, C):
    """Exact line decomposition of ``Σ c_j ρ(⟨a_j, x⟩)`` (module docstring).

    Returns ``keys`` (line keys), ``gam`` (``γ_L``, tuples of Fraction of length e),
    ``members`` (rows per line, with their signed ``λ``) and ``V`` (the linear part, a dict
    ``(k, l) -> Fraction`` of the ``e × D`` matrix).
    """
    e, D = C.shape[1], A.shape[1]
    lines = {}
    for j in range(len(A)):
        lk = line_key(A[j])
        if lk is None or not np.any(C[j] != 0):
            continue
        key, lam = lk
        lines.setdefault(key, []).append((j, lam))
    keys, gam, members = [], [], []
    V = [[Fraction(0)] * D for _ in range(e)]
    for key, mem in lines.items():
        g = [sum(rat(C[j, k]) * abs(lam) for j, lam in mem) for k in range(e)]
        neg = [sum(rat(C[j, k]) * (-lam) for j, lam in mem if lam < 0) for k in range(e)]
        for k in range(e):
            for l in range(D):
                V[k][l] -= neg[k] * key[l]
        keys.append(key)
        gam.append(tuple(g))
        members.append(mem)
    return keys, gam, members, V


def _flat(g, key):
    return tuple(gk * nl for gk in g for nl in key)


def _subset_sum(vectors, target, max_free):
    """A subset of ``vectors`` (tuples of Fraction) summing exactly to ``target``, or None.

    Returns ``(subset or None, how)``; ``how`` is "unique" (independent vectors: solved
    exactly), "search" (meet in the middle) or "undecided" (too many vectors).
    """
    import flint

    k = len(vectors)
    if k == 0:
        return ([] if all(t == 0 for t in target) else None), "unique"
    n = len(target)
    q = lambda x: flint.fmpq(x.numerator, x.denominator)
    M = flint.fmpq_mat(n, k, [q(vectors[j][i]) for i in range(n) for j in range(k)])
    if M.rank() == k:                        # independent: at most one solution, solve exactly
        Mt = M.transpose()
        t = flint.fmpq_mat(n, 1, [q(x) for x in target])
        try:
            x = (Mt * M).solve(Mt * t)
        except ZeroDivisionError:            # pragma: no cover - full rank makes MᵀM regular
            return None, "unique"
        if M * x != t:
            return None, "unique"
        sol = [x[j, 0] for j in range(k)]
        if all(v == 0 or v == 1 for v in sol):
            return [j for j in range(k) if sol[j] == 1], "unique"
        return None, "unique"
    if k > max_free:
        return None, "undecided"
    h = k // 2
    left, right = vectors[:h], vectors[h:]

    def sums(part):
        out = {}
        for bits in itertools.product((0, 1), repeat=len(part)):
            s = tuple(sum((v[i] for v, b in zip(part, bits) if b), Fraction(0))
                      for i in range(n))
            out.setdefault(s, bits)
        return out

    table = sums(left)
    for bits_r, s in ((b, s) for s, b in sums(right).items()):
        need = tuple(t - x for t, x in zip(target, s))
        if need in table:
            bits = table[need] + bits_r
            return [j for j in range(k) if bits[j]], "search"
    return None, "search"


def theorem_3_1_conditions(gamma, theta, *, augment=None, balance_tol=1e-12,
                           max_free_lines=24):
    """Check the conditions of Theorem 3.1 for ``Γ`` and the realization ``g = R(Θ)``.

    Parameters
    ----------
    gamma : Network
        The (unrestricted) shallow ReLU parametrization ``Γ``.
    theta : Network
        A parametrization of ``g`` (the same input/output dimensions; its width at most
        ``Γ``'s after merging, as ``g ∈ R(N_N)`` requires).
    augment : {"none", "bias", "c3"} or None
        Both networks are compared in the bias-free form with this input augmentation
        (default: ``"none"`` without biases, ``"bias"`` otherwise).
    balance_tol : float, default=1e-12
        Relative balance defect C.1 accepts. C.1 is an equation between real numbers (not a
        combinatorial fact): a network balanced in float64 (``c = ||a||`` rounded) has a defect
        of a few ulp; ``c1_exact`` says whether it is exactly 0. ``0`` demands exactness.
    max_free_lines : int, default=24
        Largest number of free kink lines the meet-in-the-middle search of C.3 tries
        (``2 · 2^{k/2}`` exact sums) when their matrices are dependent.

    Returns
    -------
    Theorem31Conditions
        Whether C.1, C.2, C.3a, C.3b and C.3 hold (``holds`` None when C.3 was left
        undecided), with the failing neurons and the certificate or witness of C.3.

    See Also
    --------
    topoanalysis.degeneracy.restricted_space_membership : C.1–C.3 of the restricted space
        (Definition 3.2).
    topoanalysis.degeneracy.parameter_distance : The distance Theorem 3.1 bounds.

    Notes
    -----
    C.2, C.3a, C.3b and C.3 are decided in rational arithmetic from the float parameters (rays
    and lines by exact keys, the subset sum with ``flint.fmpq_mat``); no tolerance decides
    them. Theorem 3.1 is stated for output dimension one; the conditions are checked for any
    output dimension (``γ_L`` and ``V`` become vectors and matrices).

    References
    ----------
    Berner, Elbrächter & Grohs, "How degenerate is the parametrization of neural networks with
    the ReLU activation function?", NeurIPS 2019, Theorem 3.1 (conditions C.1, C.2, C.3a,
    C.3b), Appendix A.3.2 (proof), Lemma A.5 (re-pairing opposite neurons).

    Examples
    --------
    >>> from topoanalysis import Network
    >>> from topoanalysis.degeneracy import theorem_3_1_conditions
    >>> # g = ρ(x1) + ρ(x2) − ρ(x1 + x2) + ρ(−x1 − x2) = ρ(−x1) + ρ(−x2): an opposite pair
    >>> theta = Network.from_weights([[[1, 0], [0, 1], [1, 1], [-1, -1]], [[1, 1, -1, 1]]])
    >>> gamma = Network.from_weights([[[1, 2], [2, 1], [1, 1], [0, 0]], [[1, 1, 1, 0]]])
    >>> res = theorem_3_1_conditions(gamma, theta)
    >>> res.c3a_given, res.c3, res.kink_lines    # re-paired: ρ(−x1) + ρ(−x2) has no pair
    (False, True, 2)
    """
    balance_tol = check_float("balance_tol", balance_tol, minimum=0.0, maximum=1.0)
    max_free_lines = check_int("max_free_lines", max_free_lines, minimum=0, maximum=40)
    from ._form import _check_net
    from .canonical import _check_finite_params

    _check_net(gamma, "gamma")
    _check_net(theta, "theta")
    _check_finite_params(gamma, "gamma")
    _check_finite_params(theta, "theta")
    fg, ft = pair_forms(gamma, theta, augment)
    Ag, Cg, At, Ct = fg.A, fg.C, ft.A, ft.C
    m = len(Ag)
    # C.1
    defects = _balance(Ag, Cg)
    worst = max(defects, default=Fraction(0))
    c1_failing = tuple(i for i, d in enumerate(defects) if d > Fraction(balance_tol))
    c1 = not c1_failing
    c1_exact = all(d == 0 for d in defects)
    # C.2
    rg = _nonzero_rays(Ag)
    by_ray = {}
    for i, (k, _) in rg.items():
        by_ray.setdefault(k, []).append(i)
    c2_failing = tuple(p for v in by_ray.values() for p in itertools.combinations(v, 2))
    # C.3a / C.3b for the given Θ
    rt = _nonzero_rays(At)
    opp_g = _opposite_pairs(rg)
    opp_t = _opposite_pairs(rt)
    c3a_failing = tuple([("Γ", i, j) for i, j in opp_g] + [("Θ", i, j) for i, j in opp_t])
    c3b_failing = tuple(_opposite_pairs(rg, rt))
    # C.3: some parametrization of g
    keys, gam, members, V = _lines(At, Ct)
    kink = [L for L in range(len(keys)) if any(x != 0 for x in gam[L])]
    e, D = Ct.shape[1], At.shape[1]
    target = [-x for row in V for x in row]              # Σ_{flipped} γ_L n_L^T = −V
    gamma_rays = set(k for k, _ in rg.values())
    forced_flip, free, conflict = [], [], []
    for L in kink:
        plus, minus = keys[L], _neg(keys[L])
        if plus in gamma_rays and minus in gamma_rays:
            conflict.append(L)
        elif minus in gamma_rays:
            forced_flip.append(L)
        elif plus not in gamma_rays:
            free.append(L)
    for L in forced_flip:
        f = _flat(gam[L], keys[L])
        target = [t - x for t, x in zip(target, f)]
    witness = None
    if opp_g:
        c3, cert = False, ("Γ itself has exactly opposite weight vectors (C.3a fails for every "
                           "Θ)")
    elif len(kink) > m:
        c3, cert = False, (f"g has {len(kink)} kink lines, more than Γ's width {m}: g is not "
                           "a realization of this architecture")
    elif conflict:
        c3, cert = False, ("a kink line of g carries both orientations of Γ's weight vectors")
    else:
        subset, how = _subset_sum([_flat(gam[L], keys[L]) for L in free], target,
                                  max_free_lines)
        if subset is None and how == "undecided":
            c3, cert = None, (f"{len(free)} free kink lines with dependent matrices γ_L n_L^T: "
                              f"more than max_free_lines={max_free_lines}")
        elif subset is None:
            c3, cert = False, ("no orientation of g's kink lines cancels its linear part "
                               f"(exact {'linear solve' if how == 'unique' else 'subset search'}"
                               f" over {len(free)} free lines, orientations on Γ's "
                               f"{len(kink) - len(free)} lines fixed by C.3b): every "
                               "parametrization of g has an opposite pair")
        else:
            c3 = True
            flipped = set(forced_flip) | {free[j] for j in subset}
            rows_a, rows_c = [], []
            for L in kink:
                j, lam = max(members[L], key=lambda p: abs(p[1]))
                sign = -1 if L in flipped else 1
                a = At[j] * (sign if lam > 0 else -sign)      # exact negation
                lam_a = abs(lam)
                rows_a.append(a)
                rows_c.append([float(g / lam_a) for g in gam[L]])
            while len(rows_a) < m:
                rows_a.append(np.zeros(D))
                rows_c.append([0.0] * e)
            witness = form_network(np.array(rows_a).reshape(-1, D),
                                   np.array(rows_c).reshape(-1, e))
            cert = (f"one neuron per kink line ({len(kink)}), {len(flipped)} of them flipped, "
                    "cancels g's linear part exactly ("
                    + ("linear solve)" if how == "unique" else "subset search)"))
    c3a_ok, c3b_ok = not c3a_failing, not c3b_failing
    holds = (c1 and not c2_failing and c3) if c3 is not None else (
        None if c1 and not c2_failing else False)
    return Theorem31Conditions(holds=holds if holds is None else bool(holds), c1=c1,
                               c1_exact=c1_exact, balance_defect=float(worst),
                               c1_failing=c1_failing, c2=not c2_failing, c2_failing=c2_failing,
                               c3a_given=c3a_ok, c3a_failing=c3a_failing, c3b_given=c3b_ok,
                               c3b_failing=c3b_failing, c3=c3, c3_certificate=cert,
                               witness=witness, kink_lines=len(kink), width=m,
                               balance_tol=balance_tol)
