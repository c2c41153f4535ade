"""Topology of the invariant quadrics of a shallow network (exact, SymPy).

Gradient flow of a shallow network with a positively homogeneous activation keeps every
hidden neuron on the quadric

``Q(c) = {(w, a) ∈ R^d × R^e : ||w||² − ||a||² = c}``

(``d`` is the dimension of ``w_k``, *including the bias coordinate* when the hidden layer has
biases), and the whole parameter on ``H(c) = Q(c_1) × … × Q(c_l)`` (Nurisso, Leroy, Vaccarino,
"Topological obstruction to the training of shallow ReLU neural networks").

Topology of one quadric (the explicit maps are in :func:`quadric_deformation_retraction`):

============ ================================ ================ ============== ===============
``c``        diffeomorphic to / shape         homotopy type    components     Poincaré factor
============ ================================ ================ ============== ===============
``c > 0``    ``S^{d−1} × R^e`` (hyperboloid)  ``S^{d−1}``      2 if ``d = 1`` ``1 + t^{d−1}``
``c < 0``    ``R^d × S^{e−1}`` (hyperboloid)  ``S^{e−1}``      2 if ``e = 1`` ``1 + t^{e−1}``
``c = 0``    cone ``||w|| = ||a||``           point            1              ``1``
============ ================================ ================ ============== ===============

(``1 + t^0 = 2``: the sphere ``S^0`` is two points.) ``(w, a) ↦ (w/||w||, a)`` is a
diffeomorphism ``Q(c) → S^{d−1} × R^e`` for ``c > 0`` with inverse
``(u, a) ↦ (sqrt(c + ||a||²) u, a)``; ``c < 0`` is the mirror image; the cone is star-shaped
about the origin. By Künneth (field coefficients, all factors have free homology) the
Poincaré polynomial of ``H(c)`` is the product of the factors.

Exactness: ``c`` given as a Python ``int``/``Fraction`` or an exact SymPy number is classified
exactly; a SymPy expression with symbols is classified by its assumptions
(``Symbol("c", negative=True)``); a float (Python, NumPy or ``sympy.Float``) is treated as zero
when ``|c| <= atol``, and the result reports which entries were treated as zero.
"""

import dataclasses
import fractions
import math
import numbers
import sys
from collections.abc import Sequence

import numpy as np
import sympy

from .._validation import check_float, check_int, exact_fraction
from ..exceptions import ResourceError, ValidationError

__all__ = [
    "POINCARE_VARIABLE",
    "DEFAULT_ATOL",
    "QuadricTopology",
    "InvariantSetTopology",
    "PoincareProduct",
    "BettiNumbers",
    "conserved_sign",
    "quadric_topology",
    "quadric_poincare_polynomial",
    "invariant_set_topology",
    "invariant_set_poincare_polynomial",
    "betti_numbers",
    "quadric_deformation_retraction",
    "check_quadric_retraction",
]

#: The variable ``t`` of every Poincaré polynomial returned by this module.
POINCARE_VARIABLE = sympy.Symbol("t")
#: Default absolute tolerance under which a *float* conserved quantity counts as zero.
DEFAULT_ATOL = 1e-12

_t = POINCARE_VARIABLE


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def conserved_sign(c, *, atol=DEFAULT_ATOL, name="c"):
    """Sign of a conserved quantity, exact when ``c`` is exact.

    Parameters
    ----------
    c : int, Fraction, float, or sympy.Expr
        The value ``c_k = ||w_k||² − ||a_k||²``.
    atol : float, default=1e-12
        Floats with ``|c| <= atol`` count as zero (ignored for exact input).
    name : str, default="c"
        Parameter name used in error messages.

    Returns
    -------
    value : sympy.Expr
        ``c`` as a SymPy object (``Integer``/``Rational`` for exact numbers, ``Float`` for
        floats, the expression itself for symbolic input).
    sign : int
        ``-1``, ``0`` or ``+1``.
    treated_as_zero : bool
        True when ``c`` is a nonzero float with ``|c| <= atol``.

    Raises
    ------
    ValidationError
        If ``c`` is not a real number or expression, is not finite, or its sign cannot be
        decided from its assumptions.

    See Also
    --------
    quadric_topology

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: pathological neurons: the sign of c_k.

    Examples
    --------
    >>> import sympy
    >>> conserved_sign(sympy.Rational(-1, 3))
    (-1/3, -1, False)
    >>> conserved_sign(1e-15)
    (1.00000000000000e-15, 0, True)
    >>> conserved_sign(sympy.Symbol("c", positive=True))
    (c, 1, False)
    """
    atol = check_float("atol", atol, minimum=0.0)
    if isinstance(c, (bool, np.bool_)):
        raise ValidationError(f"`{name}` must be a real number or SymPy expression; got {c!r}.")
    if isinstance(c, sympy.Basic):
        if not isinstance(c, sympy.Expr) or c.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise ValidationError(
                f"`{name}` must be a finite real SymPy expression; got {_short(c)}.")
        if c.is_number and c.has(sympy.Float):
            return _classify_float(name, c, _exact_value(c), atol)
        if c.is_real is False:
            raise ValidationError(f"`{name}` must be real; got {_short(c)}.")
        if c.is_zero:
            return c, 0, False
        if c.is_positive:
            return c, 1, False
        if c.is_negative:
            return c, -1, False
        raise ValidationError(
            f"`{name}` must have a decidable sign (give the symbols assumptions such as "
            f"positive=True); got {_short(c)}.")
    if isinstance(c, numbers.Integral):
        value = sympy.Integer(int(c))
        return value, int(np.sign(int(c))), False
    if isinstance(c, fractions.Fraction):
        value = sympy.Rational(c.numerator, c.denominator)
        return value, int(np.sign(c)), False
    if isinstance(c, numbers.Real):
        if isinstance(c, float) or type(c) in _DOUBLE_EXACT:
            return _classify_float(name, sympy.Float(float(c)), fractions.Fraction(float(c))
                                   if math.isfinite(c) else None, atol)
        # wider or foreign reals (np.longdouble, ...): their exact value, not a rounded double
        x = _exact_value(c)
        return _classify_float(name, sympy.Float(float(c)) if x is None else _exact_sympy(c, x),
                               x, atol)
    raise ValidationError(
        f"`{name}` must be a real number or SymPy expression; got {type(c).__name__} "
        f"{_short(c)}.")


#: Real scalar types whose every value is a double (classified through ``float``).
_DOUBLE_EXACT = (np.float64, np.float32, np.float16)


def _exact_value(c):
    """``c`` (a finite real number or numeric SymPy expression with floats) as an exact
    ``Fraction``, or None when it is not a finite real.

    A ``sympy.Float`` or ``np.longdouble`` holds a binary fraction: it is converted exactly
    (``float(c)`` would underflow ``Float("1e-400")`` to ``0.0``). A numeric expression that
    mixes floats with exact numbers (``sqrt(2) − Float(1.414…)``) is evaluated at 60 digits,
    which decides its sign and its size against ``atol`` (SymPy's evalf bounds the relative
    error of a nonzero value).
    """
    try:
        if isinstance(c, sympy.Basic):
            if c.is_Float:
                return exact_fraction(c)
            if c.is_real is False:
                return None
            v = sympy.re(c).evalf(60)
            if not (v.is_Float or v.is_Rational) or not v.is_finite:
                return None
            r = sympy.Rational(v)
            return fractions.Fraction(int(r.p), int(r.q))
        return exact_fraction(c)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return None


def _exact_sympy(c, x):
    """SymPy value of a wide float ``c`` (a ``Float`` with its own precision)."""
    return sympy.Float(sympy.Rational(x.numerator, x.denominator),
                       max(15, int(getattr(np.finfo(type(c)), "precision", 15)) + 2))


def _classify_float(name, value, x, atol):
    """Sign of the float-valued ``value`` with exact value ``x`` (a ``Fraction``; None when
    not a finite real); ``|x| <= atol`` counts as zero, compared exactly."""
    if x is None:
        raise ValidationError(f"`{name}` must be a finite real number; got {_short(value)}.")
    if abs(x) <= fractions.Fraction(atol):
        return value, 0, x != 0
    return value, (1 if x > 0 else -1), False


def _check_dims(d, e):
    return check_int("d", d, minimum=1), check_int("e", e, minimum=1)


def _sphere_poly(k):
    """Poincaré polynomial of ``S^k`` (``S^0``: two points)."""
    return sympy.Poly(1 + _t ** k, _t, domain="ZZ")


def _sphere_product(powers, as_dict=False):
    """``∏ (1 + t^k)^n`` for ``(k, n)`` in ``powers``, built from binomial coefficients.

    Sparse and exact (``math.comb``), so wide networks (thousands of neurons) stay fast where
    dense repeated multiplication would not.
    """
    merged = {}
    for k, n in powers:
        merged[k] = merged.get(k, 0) + n
    terms = {0: 1}
    for k, n in sorted(merged.items()):
        if n == 0:
            continue
        if k == 0:
            factor = {0: 2 ** n}
        else:
            factor = {k * i: math.comb(n, i) for i in range(n + 1)}
        if len(terms) == 1 and 0 in terms:
            scale = terms[0]
            terms = {x: scale * y for x, y in factor.items()}
        else:
            new = {}
            for x1, y1 in terms.items():
                for x2, y2 in factor.items():
                    new[x1 + x2] = new.get(x1 + x2, 0) + y1 * y2
            terms = new
    if as_dict:
        return terms
    return sympy.Poly.from_dict({(x,): y for x, y in terms.items()}, _t, domain="ZZ")


def betti_numbers(poincare_polynomial):
    """Betti numbers ``(b_0, b_1, …, b_n)`` read off a Poincaré polynomial.

    Parameters
    ----------
    poincare_polynomial : sympy.Poly or sympy.Expr
        A polynomial in :data:`POINCARE_VARIABLE` with nonnegative integer coefficients.

    Returns
    -------
    tuple of sympy.Integer
        ``b_i`` is the coefficient of ``t^i``; the tuple ends at the top degree.

    Raises
    ------
    ValidationError
        If the input is not such a polynomial.

    See Also
    --------
    invariant_set_poincare_polynomial, quadric_poincare_polynomial

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Betti numbers of H(c) from the Poincaré
           polynomial.

    Examples
    --------
    >>> import sympy
    >>> t = sympy.Symbol("t")
    >>> betti_numbers(4 * (1 + t) ** 2)
    (4, 8, 4)
    """
    try:
        poly = (poincare_polynomial if isinstance(poincare_polynomial, sympy.Poly)
                else sympy.Poly(poincare_polynomial, _t))
    except (sympy.PolynomialError, sympy.GeneratorsNeeded, TypeError):
        raise ValidationError(
            f"`poincare_polynomial` must be a polynomial in t; got "
            f"{_short(poincare_polynomial)}.") from None
    if poly.gens != (_t,):
        raise ValidationError(
            f"`poincare_polynomial` must be a polynomial in t only; got generators {poly.gens}.")
    coeffs = tuple(sympy.Integer(x) if getattr(x, "is_Integer", False) else x
                   for x in reversed(poly.all_coeffs()))
    if any(not (getattr(x, "is_Integer", False) and x >= 0) for x in coeffs):
        raise ValidationError(
            f"`poincare_polynomial` must have nonnegative integer coefficients; got "
            f"{_short(poly.as_expr())}.")
    return coeffs


#: Largest expansion :attr:`PoincareProduct.poly` / :class:`BettiNumbers` iteration will do
#: (total exponent ``Σ n``); beyond it the closed form is the answer.
MAX_EXPANSION = 20_000
#: Longest list of Betti numbers a text summary or ``to_dict`` spells out.
MAX_LISTED = 64


def short_text(text, limit=200):
    """Cut ``text`` to ``limit`` characters (with the number of characters left out).

    Parameters
    ----------
    text : str
        The text.
    limit : int, default=200
        Largest number of characters kept.

    Returns
    -------
    str
        ``text`` itself when short enough, else its start and a note of what was left out.
    """
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


def int_text(n, max_digits=30):
    """Write an exact int as text, as a power of two or by its size when it is long.

    Parameters
    ----------
    n : int
        The number.
    max_digits : int, default=30
        Longest decimal expansion written in full.

    Returns
    -------
    str
        The decimal digits, ``2^k``, or a description of the number's size.
    """
    n = int(n)
    if n > 0 and n & (n - 1) == 0 and n.bit_length() > 20:
        return f"2^{n.bit_length() - 1}"
    if n.bit_length() <= 3.32 * max_digits:
        return str(n)
    return f"(an integer of about {int(n.bit_length() * 0.30103) + 1} digits)"


@dataclasses.dataclass(frozen=True)
class PoincareProduct:
    """A Poincaré polynomial in closed form: ``∏_j (1 + t^{k_j})^{n_j}``.

    Products of spheres (the invariant sets ``H(c)``) have such polynomials; kept as
    exponents they answer every question in time independent of the degree (a factor with
    ``k = 0`` is ``2^n``: ``n`` copies of ``S^0``). ``poly`` expands it (guarded by
    :data:`MAX_EXPANSION`), :meth:`betti` gives one Betti number exactly.

    Attributes
    ----------
    powers : tuple of (int, int)
        ``(k, n)`` pairs, ``k`` distinct and increasing, ``n >= 1``.

    Examples
    --------
    >>> P = PoincareProduct.of([(2, 3), (0, 2)])
    >>> str(P), P.degree, P.betti(0), P.betti(2), P.betti(3)
    ('4·(1 + t^2)^3', 6, 4, 12, 0)
    >>> P.as_expr()
    4*(t**2 + 1)**3
    """

    powers: tuple

    @classmethod
    def of(cls, powers):
        """The product ``∏ P(S^k)^n`` from ``(k, n)`` pairs (merged and sorted).

        Parameters
        ----------
        powers : iterable of (int, int)
            Pairs ``(k, n)``: ``n`` factors of the Poincaré polynomial of ``S^k``.

        Returns
        -------
        PoincareProduct
            The product, with equal spheres merged and sorted by dimension.
        """
        merged = {}
        for k, n in powers:
            k, n = int(k), int(n)
            if k < 0 or n < 0:
                raise ValidationError(f"`powers` must hold (k, n) with k, n >= 0; got {(k, n)}.")
            if n:
                merged[k] = merged.get(k, 0) + n
        return cls(tuple(sorted(merged.items())))

    @property
    def scale(self):
        """The constant factor ``2^{n_0}`` (``n_0`` copies of ``S^0``), exact."""
        return 2 ** dict(self.powers).get(0, 0)

    @property
    def degree(self):
        """Top degree ``Σ k n`` (dimension of the top nonzero homology)."""
        return sum(k * n for k, n in self.powers)

    def betti(self, i):
        """``b_i``: the coefficient of ``t^i``, exact, in O(∏ of the other exponents).

        Parameters
        ----------
        i : int
            Degree.

        Returns
        -------
        int
            ``b_i``.
        """
        i = check_int("i", i, minimum=0)
        scale = self.scale
        factors = [(k, n) for k, n in self.powers if k > 0]

        def coeff(j, rest):
            if not rest:
                return 1 if j == 0 else 0
            (k, n), tail = rest[0], rest[1:]
            if not tail:
                return math.comb(n, j // k) if j % k == 0 and j // k <= n else 0
            return sum(math.comb(n, a) * coeff(j - a * k, tail)
                       for a in range(min(n, j // k) + 1))

        return sympy.Integer(scale * coeff(i, factors))

    @property
    def n_terms(self):
        """Number of terms of the expanded polynomial (an upper bound when exponents overlap)."""
        out = 1
        for k, n in self.powers:
            if k > 0:
                out *= n + 1
        return out

    def _check_expandable(self, what):
        total = sum(n for k, n in self.powers if k > 0)
        if total > MAX_EXPANSION:
            raise ResourceError(
                f"{what} of {self} has up to {self.n_terms:.3g} terms with coefficients of up "
                f"to {int(total * 0.30103) + 1} digits; use the closed form (`.poincare`, "
                f"`.betti(i)`) instead, or ask for at most {MAX_EXPANSION} spheres."
            )

    def coefficients(self):
        """``{degree: b_degree}`` of the nonzero Betti numbers (expansion; guarded).

        Returns
        -------
        dict of int to int
            ``{degree: b_degree}``.
        """
        self._check_expandable("expanding the Poincaré polynomial")
        return _sphere_product(self.powers, as_dict=True)

    @property
    def poly(self):
        """The expanded ``sympy.Poly`` in ``t`` (guarded by :data:`MAX_EXPANSION`)."""
        self._check_expandable("expanding the Poincaré polynomial")
        return _sphere_product(self.powers)

    def as_expr(self):
        """Factored SymPy expression, e.g. ``4*(t**2 + 1)**3`` (never expanded).

        Returns
        -------
        sympy.Expr
            The factored polynomial in ``t``.
        """
        n0 = dict(self.powers).get(0, 0)
        expr = sympy.Integer(2 ** n0) if n0 <= 64 else sympy.Pow(2, n0, evaluate=False)
        for k, n in self.powers:
            if k > 0:
                expr = expr * (1 + _t ** k) ** n
        return expr

    def __call__(self, value):
        """``P(value)`` for a number (e.g. ``P(1)`` = total Betti number, ``P(−1)`` = Euler
        characteristic), exact for integers."""
        out = 1
        for k, n in self.powers:
            out *= (1 + value ** k) ** n
        return out

    def __str__(self):
        parts = []
        n0 = dict(self.powers).get(0, 0)
        if n0:
            parts.append(str(2 ** n0) if n0 <= 20 else f"2^{n0}")
        for k, n in self.powers:
            if k > 0:
                base = f"(1 + t^{k})" if k > 1 else "(1 + t)"
                parts.append(base if n == 1 else f"{base}^{n}")
        return "·".join(parts) if parts else "1"

    def betti_summary(self, max_listed=8):
        """Short text of the Betti numbers: the nonzero ones while few, else the pattern.

        Parameters
        ----------
        max_listed : int, default=8
            List the Betti numbers when at most this many are nonzero.

        Returns
        -------
        str
            The text.
        """
        total = sum(n for k, n in self.powers if k > 0)
        if self.n_terms <= max_listed and total <= MAX_EXPANSION:
            coeffs = self.coefficients()
            return ", ".join(f"b_{i} = {int_text(b)}" for i, b in sorted(coeffs.items())) + \
                (" (all others 0)" if len(coeffs) < self.degree + 1 else "")
        ks = [k for k, n in self.powers if k > 0]
        first = [(0, self.betti(0))]
        if ks:
            first.append((ks[0], self.betti(ks[0])))
        text = ", ".join(f"b_{i} = {int_text(b)}" for i, b in first)
        return (f"{text}, ... up to b_{self.degree} = {int_text(self.betti(self.degree))} "
                f"(nonzero only in degrees that are sums of {', '.join(map(str, ks))}; "
                f"{self.n_terms:.3g} terms at most; b_i from `.betti(i)`)")


class BettiNumbers(Sequence):
    """The Betti numbers ``(b_0, …, b_top)`` of a :class:`PoincareProduct`, computed lazily.

    Indexing is exact and costs no expansion; ``len`` is ``top + 1`` (it may be huge);
    iterating expands the polynomial (guarded by :data:`MAX_EXPANSION`). Compares equal to
    the tuple of its entries.

    Parameters
    ----------
    poincare : PoincareProduct
        The Poincaré polynomial whose coefficients are the Betti numbers.
    """

    def __init__(self, poincare):
        self.poincare = poincare

    @property
    def size(self):
        """Number of Betti numbers ``top + 1`` (any size; ``len`` needs it below 2^63)."""
        return self.poincare.degree + 1

    def __len__(self):
        if self.size > sys.maxsize:
            raise ResourceError(f"there are {self.size:.3g} Betti numbers, more than Python's "
                                "len() can count; use `.size` and `.betti(i)`.")
        return self.size

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError("Betti number index out of range")
        return self.poincare.betti(i)

    def __iter__(self):
        coeffs = self.poincare.coefficients()
        zero = sympy.Integer(0)
        for i in range(self.size):
            c = coeffs.get(i)
            yield zero if c is None else sympy.Integer(c)

    def __eq__(self, other):
        if isinstance(other, BettiNumbers):
            return self.poincare == other.poincare
        try:
            if len(other) != self.size:
                return False
        except TypeError:
            return NotImplemented
        return tuple(self) == tuple(other)

    __hash__ = None

    def __repr__(self):
        if self.size <= MAX_LISTED and self.poincare.n_terms <= MAX_EXPANSION:
            return repr(tuple(self))
        return f"BettiNumbers({self.poincare})"

    def to_list(self, max_length=MAX_LISTED):
        """The list of Betti numbers, or None when longer than ``max_length``.

        Parameters
        ----------
        max_length : int, default=MAX_LISTED
            Longest list returned.

        Returns
        -------
        list of int or None
            The Betti numbers.
        """
        if self.size > max_length:
            return None
        return [int(b) for b in self]


def _sphere_name(k, power=1):
    base = f"S^{k}"
    return base if power == 1 else f"({base})^{power}"


@dataclasses.dataclass(frozen=True)
class QuadricTopology:
    """Topology of one invariant quadric ``Q(c) ⊂ R^d × R^e``.

    Attributes
    ----------
    c : sympy.Expr
        The conserved quantity (exact when given exactly).
    d, e : int
        Dimensions of ``w`` (bias included) and ``a``.
    sign : int
        ``-1``, ``0`` or ``+1`` (``0`` also when a float was within ``atol`` of zero).
    treated_as_zero : bool
        True when a nonzero float was classified as zero by the tolerance.
    kind : str
        ``"hyperboloid of one sheet"``, ``"hyperboloid of two sheets"`` or ``"cone"``.
    model : str
        The explicit model it is diffeomorphic (``c ≠ 0``) or homotopy equivalent (cone) to,
        e.g. ``"S^1 × R^1"``.
    homotopy_type : str
        ``"S^k"`` or ``"point"``.
    sphere_dimension : int or None
        ``k`` of the homotopy sphere, None for a point.
    poincare_polynomial : sympy.Poly or PoincareProduct
        In :data:`POINCARE_VARIABLE` (the closed form :class:`PoincareProduct` when the
        degree exceeds :data:`MAX_EXPANSION`; both have ``as_expr()``).
    betti_numbers : tuple of int, or BettiNumbers when longer than :data:`MAX_LISTED`
    n_components : int
        ``b_0``.
    """

    c: sympy.Expr
    d: int
    e: int
    sign: int
    treated_as_zero: bool
    kind: str
    model: str
    homotopy_type: str
    sphere_dimension: object
    poincare_polynomial: sympy.Poly
    betti_numbers: tuple
    n_components: sympy.Integer

    def summary(self):
        """One line: the quadric, its homotopy type and components.

        Returns
        -------
        str
            Lines of text.
        """
        return (f"Q(c = {self.c}) in R^{self.d} x R^{self.e}: {self.kind}, homotopy type "
                f"{self.homotopy_type}, {int(self.n_components)} component(s)")

    def to_dict(self):
        """JSON-ready dictionary (numbers as ``str``/``int``).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {
            "c": str(self.c), "d": self.d, "e": self.e, "sign": self.sign,
            "treated_as_zero": self.treated_as_zero, "kind": self.kind, "model": self.model,
            "homotopy_type": self.homotopy_type, "sphere_dimension": self.sphere_dimension,
            "poincare_polynomial": str(self.poincare_polynomial.as_expr()),
            "betti_numbers": (self.betti_numbers.to_list()
                              if isinstance(self.betti_numbers, BettiNumbers)
                              else [int(b) for b in self.betti_numbers]),
            "n_components": int(self.n_components),
        }


def _factor(sign, d, e):
    """``(kind, model, sphere_dimension)`` of ``Q(c)`` with ``sign(c) = sign``."""
    if sign > 0:
        return ("hyperboloid of two sheets" if d == 1 else "hyperboloid of one sheet",
                f"S^{d - 1} × R^{e}", d - 1)
    if sign < 0:
        return ("hyperboloid of two sheets" if e == 1 else "hyperboloid of one sheet",
                f"R^{d} × S^{e - 1}", e - 1)
    return "cone", f"cone over S^{d - 1} × S^{e - 1} (contractible)", None


def quadric_topology(c, d, e, *, atol=DEFAULT_ATOL):
    """Type, homotopy type and Betti numbers of ``Q(c) = {||w||² − ||a||² = c}``.

    Parameters
    ----------
    c : int, Fraction, float or sympy.Expr
        Conserved quantity; see :func:`conserved_sign` for exact vs float input.
    d : int
        Dimension of ``w`` (``>= 1``), including the bias coordinate when present.
    e : int
        Dimension of ``a`` (``>= 1``).
    atol : float, default=1e-12
        Floats with ``|c| <= atol`` count as zero.

    Returns
    -------
    QuadricTopology
        The kind of quadric, its homotopy model and type, the Betti numbers, the Poincaré
        polynomial and the number of components.

    Raises
    ------
    ValidationError
        On bad dimensions, a non-real ``c`` or an undecidable sign.

    See Also
    --------
    quadric_poincare_polynomial, quadric_deformation_retraction

    Notes
    -----
    ``c > 0``: ``(w, a) ↦ (w/||w||, a)`` is a diffeomorphism onto ``S^{d−1} × R^e``, so
    ``Q ≃ S^{d−1}``; ``c < 0`` symmetrically ``Q ≃ S^{e−1}``; ``c = 0``: the cone is
    star-shaped, hence contractible. Derived from the statements of Nurisso, Leroy, Vaccarino
    (their Lemma 1 / Figure 2) and checked in :func:`check_quadric_retraction` and in the
    tests by sampling. O(1).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Lemma 1 / Figure 2: Q(c) ≅ S^{d−1} ×
           R^e (c > 0), R^d × S^{e−1} (c < 0), a cone (c = 0).

    Examples
    --------
    >>> q = quadric_topology(-1, 2, 1)
    >>> q.kind, q.homotopy_type, q.n_components
    ('hyperboloid of two sheets', 'S^0', 2)
    >>> quadric_topology(3, 3, 1).poincare_polynomial.as_expr()
    t**2 + 1
    >>> quadric_topology(0, 2, 2).betti_numbers
    (1,)
    """
    d, e = _check_dims(d, e)
    return _quadric(c, d, e, atol, {})


def _quadric(c, d, e, atol, cache):
    """:func:`quadric_topology` without argument checks; ``cache`` shares per-sign parts."""
    value, sign, treated = conserved_sign(c, atol=atol)
    if sign not in cache:
        kind, model, k = _factor(sign, d, e)
        # a dense sympy.Poly of degree k costs O(k): beyond MAX_EXPANSION the closed form
        # PoincareProduct (with .as_expr(), .betti(i)) stands for it
        poly = (sympy.Poly(1, _t, domain="ZZ") if k is None else _sphere_poly(k)
                if k <= MAX_EXPANSION else PoincareProduct.of([(k, 1)]))
        # Betti numbers lazily: 1 + t^k has k + 1 coefficients, and k can be huge
        b = BettiNumbers(PoincareProduct.of([] if k is None else [(k, 1)]))
        cache[sign] = (kind, model, k, poly, b if b.size > MAX_LISTED else tuple(b))
    kind, model, k, poly, b = cache[sign]
    return QuadricTopology(
        c=value, d=d, e=e, sign=sign, treated_as_zero=treated, kind=kind, model=model,
        homotopy_type="point" if k is None else _sphere_name(k), sphere_dimension=k,
        poincare_polynomial=poly, betti_numbers=b, n_components=b[0],
    )


def quadric_poincare_polynomial(c, d, e, *, atol=DEFAULT_ATOL):
    """Poincaré polynomial of ``Q(c)`` (a ``sympy.Poly`` in ``t``).

    Per-neuron factor: ``1 + t^{d−1}`` (``c > 0``), ``1 + t^{e−1}`` (``c < 0``), ``1``
    (``c = 0``); ``1 + t^0 = 2``. See :func:`quadric_topology`.

    Parameters
    ----------
    c : number
        Conserved quantity.
    d, e : int
        Dimensions of ``w`` and ``a``.
    atol : float, default=1e-12
        A float with ``|c| <= atol`` counts as 0.

    Returns
    -------
    sympy.Poly
        Poincaré polynomial of ``Q(c)`` in ``t``.

    See Also
    --------
    quadric_topology, invariant_set_poincare_polynomial

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Lemma 1 (topology of Q(c)).

    Examples
    --------
    >>> quadric_poincare_polynomial(1, 1, 4).as_expr()
    2
    >>> quadric_poincare_polynomial(-2, 1, 4).as_expr()
    t**3 + 1
    """
    return quadric_topology(c, d, e, atol=atol).poincare_polynomial


@dataclasses.dataclass(frozen=True)
class InvariantSetTopology:
    """Topology of ``H(c) = Q(c_1) × … × Q(c_l)``.

    Attributes
    ----------
    c : tuple of sympy.Expr
    d, e : int
    signs : tuple of int
        Sign of each ``c_k`` (``0`` for exact zeros and for floats within ``atol``).
    treated_as_zero : tuple of int
        Indices ``k`` of nonzero floats classified as zero by the tolerance.
    l_plus, l_minus, l_zero : int
        Numbers of ``c_k > 0``, ``< 0``, ``= 0``.
    factors : tuple of QuadricTopology
    poincare : PoincareProduct
        The Poincaré polynomial in closed form ``(1 + t^{d−1})^{l_+} (1 + t^{e−1})^{l_−}``
        (Künneth), never expanded: every ``(d, e, l)`` answers in milliseconds.
    homotopy_type : str
        E.g. ``"(S^1)^2 × (S^0)^3"``, or ``"point"``.

    Properties ``poincare_polynomial`` (expanded ``sympy.Poly``, guarded by
    :data:`MAX_EXPANSION`), ``betti_numbers`` (lazy :class:`BettiNumbers`, equal to the
    tuple) and ``n_components`` (``b_0(H(c))``, an exact int; with ``e = 1`` and ``d >= 2``
    this is ``2^{l_−}``).
    """

    c: tuple
    d: int
    e: int
    signs: tuple
    treated_as_zero: tuple
    l_plus: int
    l_minus: int
    l_zero: int
    factors: tuple
    poincare: PoincareProduct
    homotopy_type: str

    @property
    def poincare_polynomial(self):
        """Expanded ``sympy.Poly`` in ``t`` (guarded; :attr:`poincare` is the closed form)."""
        return self.poincare.poly

    @property
    def betti_numbers(self):
        """``(b_0, …, b_top)`` as a lazy :class:`BettiNumbers` (compares equal to a tuple)."""
        return BettiNumbers(self.poincare)

    @property
    def n_components(self):
        """``b_0(H(c))``, exact."""
        return self.poincare.betti(0)

    def summary(self):
        """Short text: homotopy type, closed-form polynomial, Betti numbers, components.

        Returns
        -------
        str
            Lines of text.
        """
        return (f"H(c) ~ {self.homotopy_type}; Poincaré polynomial {self.poincare}; "
                f"{self.poincare.betti_summary()}; components {int_text(self.n_components)}")

    def to_dict(self):
        """JSON-ready dictionary. ``betti_numbers`` is null when longer than
        :data:`MAX_LISTED` entries and ``n_components`` null beyond 2^128 (the closed-form
        ``poincare_polynomial`` and ``log2_n_components`` are exact).

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        n = int(self.n_components)
        return {
            "c": [str(x) for x in self.c], "d": self.d, "e": self.e,
            "signs": list(self.signs), "treated_as_zero": list(self.treated_as_zero),
            "l_plus": self.l_plus, "l_minus": self.l_minus, "l_zero": self.l_zero,
            "poincare_polynomial": str(self.poincare.as_expr()),
            "poincare_powers": [list(p) for p in self.poincare.powers],
            "betti_numbers": self.betti_numbers.to_list(),
            "n_components": int(n) if n.bit_length() <= 128 else None,
            "log2_n_components": math.log2(n),
            "homotopy_type": self.homotopy_type,
        }


def _as_sequence(c):
    if isinstance(c, (str, bytes)) or isinstance(c, sympy.Basic) and not isinstance(
            c, sympy.MatrixBase):
        raise ValidationError(
            f"`c` must be a sequence of conserved quantities (one per neuron); got {_short(c)}.")
    if isinstance(c, np.ndarray):
        if c.ndim != 1:
            raise ValidationError(f"`c` must be one-dimensional; got shape {c.shape}.")
        return list(c)
    if isinstance(c, sympy.MatrixBase):
        return list(c)
    try:
        return list(c)
    except TypeError:
        raise ValidationError(
            f"`c` must be a sequence of conserved quantities (one per neuron); got "
            f"{_short(c)}.") from None


class _LazyFactors(Sequence):
    """The per-neuron :class:`QuadricTopology` of float conserved quantities, built on access
    (a network with 10^5 neurons does not pay for 10^5 SymPy objects it never looks at)."""

    def __init__(self, values, d, e, atol):
        self._values, self._d, self._e, self._atol = values, d, e, atol
        self._cache = {}

    def __len__(self):
        return len(self._values)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        return _quadric(self._values[i], self._d, self._e, self._atol, self._cache)

    def __eq__(self, other):
        try:
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        except TypeError:
            return NotImplemented

    __hash__ = None

    def __repr__(self):
        return f"<{len(self)} quadric factors>"


def invariant_set_topology(c, d, e, *, atol=DEFAULT_ATOL):
    """Topology of the invariant set ``H(c) = Q(c_1) × … × Q(c_l)`` (Künneth).

    Parameters
    ----------
    c : sequence of (int, Fraction, float, sympy.Expr)
        One conserved quantity per hidden neuron (``l >= 1`` entries).
    d : int
        Dimension of each ``w_k`` (input dimension, plus 1 with hidden biases).
    e : int
        Output dimension.
    atol : float, default=1e-12
        Floats with ``|c_k| <= atol`` count as zero; they are listed in ``treated_as_zero``.

    Returns
    -------
    InvariantSetTopology
        The signs of the ``c_k``, the counts ``l_+``, ``l_−``, ``l_0``, the topology of each factor
        ``Q(c_k)``, the Poincaré polynomial and the homotopy type of the product.

    Raises
    ------
    ValidationError
        On an empty or non-sequence ``c``, bad dimensions or an undecidable sign.

    See Also
    --------
    topoanalysis.symbolic.quadric_topology : One factor Q(c_k).
    topoanalysis.graphs.component_graph : The components as a graph.

    Notes
    -----
    ``P_H(t) = (1 + t^{d−1})^{l_+} (1 + t^{e−1})^{l_−}`` (Künneth formula over a field; each
    factor has torsion-free homology). With ``e = 1`` and ``d >= 2``:
    ``b_0 = 2^{l_−}`` (Nurisso et al., Theorem 1). Cost: O(l) classifications plus two
    polynomial powers.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1: H(c) = Q(c_1) × … × Q(c_l),
           b_0 = 2^{l_−}.

    Examples
    --------
    >>> H = invariant_set_topology([1, -1, -2], 2, 1)
    >>> H.poincare_polynomial.as_expr()
    4*t + 4
    >>> H.n_components, H.betti_numbers, H.homotopy_type
    (4, (4, 4), 'S^1 × (S^0)^2')
    >>> invariant_set_topology([0.3, 1e-14], 3, 2).treated_as_zero
    (1,)
    """
    d, e = _check_dims(d, e)
    values = _as_sequence(c)
    if len(values) == 0:
        raise ValidationError("`c` must contain at least one conserved quantity; got [].")
    atol = check_float("atol", atol, minimum=0.0)
    cache = {}
    if all(isinstance(x, float) or type(x) in _DOUBLE_EXACT for x in values):
        # floats (the numeric case, possibly 10^5 neurons): classified at once with NumPy;
        # the per-neuron QuadricTopology objects are built only when asked for
        x = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ValidationError(f"`c` must hold finite real numbers; got "
                                  f"{int(np.sum(~np.isfinite(x)))} non-finite entries.")
        zero = np.abs(x) <= atol
        signs = tuple(int(v) for v in np.where(zero, 0, np.sign(x)))
        treated = tuple(int(i) for i in np.flatnonzero(zero & (x != 0)))
        factors = _LazyFactors(tuple(values), d, e, atol)
        c_values = tuple(sympy.Float(v) for v in x) if x.size <= MAX_LISTED else tuple(
            x.tolist())
    else:
        factors = tuple(_quadric(x, d, e, atol, cache) for x in values)
        signs = tuple(f.sign for f in factors)
        treated = tuple(i for i, f in enumerate(factors) if f.treated_as_zero)
        c_values = tuple(f.c for f in factors)
    l_plus, l_minus = signs.count(1), signs.count(-1)
    l_zero = len(signs) - l_plus - l_minus
    poincare = PoincareProduct.of(((d - 1, l_plus), (e - 1, l_minus)))
    counts = {}
    for k, n in ((d - 1, l_plus), (e - 1, l_minus)):
        if n:
            counts[k] = counts.get(k, 0) + n
    names = [_sphere_name(k, counts[k]) for k in sorted(counts, reverse=True)]
    return InvariantSetTopology(
        c=c_values, d=d, e=e, signs=signs, treated_as_zero=treated,
        l_plus=l_plus, l_minus=l_minus, l_zero=l_zero, factors=factors,
        poincare=poincare, homotopy_type=" × ".join(names) if names else "point",
    )


def invariant_set_poincare_polynomial(c, d, e, *, atol=DEFAULT_ATOL):
    """Poincaré polynomial of ``H(c)`` as an exact ``sympy.Poly`` in ``t``.

    Parameters
    ----------
    c : sequence of number
        Conserved quantities ``c_k``.
    d, e : int
        Dimensions of ``w_k`` and ``a_k``.
    atol : float, default=1e-12
        Floats with ``|c_k| <= atol`` count as 0.

    Returns
    -------
    sympy.Poly
        Poincaré polynomial of ``H(c)`` in ``t``.

    See Also
    --------
    quadric_poincare_polynomial, betti_numbers, invariant_set_topology

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1 (Künneth product over
           neurons).

    Examples
    --------
    >>> import sympy
    >>> invariant_set_poincare_polynomial([sympy.Rational(1, 2), -3], 3, 3).as_expr()
    t**4 + 2*t**2 + 1
    """
    return invariant_set_topology(c, d, e, atol=atol).poincare_polynomial


def quadric_deformation_retraction(d, e, sign):
    """Explicit deformation retraction of ``Q(c)`` onto its core sphere (or the apex).

    Parameters
    ----------
    d, e : int
        Dimensions of ``w`` and ``a``.
    sign : {-1, 0, 1}
        Sign of ``c``.

    Returns
    -------
    variables : tuple
        ``(w, a, c, s)``: tuples of real symbols ``w1..wd``, ``a1..ae``, the symbol ``c``
        (with the sign as assumption) and the homotopy parameter ``s ∈ [0, 1]``.
    homotopy : sympy.ImmutableMatrix of shape (d + e, 1)
        ``h_s(w, a)``. ``c > 0``: ``(w·sqrt((c + (1−s)²||a||²)/||w||²), (1−s)a)``, ending on
        the sphere ``{||w||² = c, a = 0} ≅ S^{d−1}``; ``c < 0``: the mirror image, ending on
        ``{w = 0, ||a||² = −c} ≅ S^{e−1}``; ``c = 0``: ``(1−s)(w, a)``, ending at the origin.

    Raises
    ------
    ValidationError
        On bad dimensions or sign.

    See Also
    --------
    check_quadric_retraction, quadric_topology

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Lemma 1 / Figure 2.

    Examples
    --------
    >>> (w, a, c, s), h = quadric_deformation_retraction(1, 1, 1)
    >>> h.T
    Matrix([[w1*sqrt(a1**2*(1 - s)**2 + c)/Abs(w1), a1*(1 - s)]])
    """
    d, e = _check_dims(d, e)
    if isinstance(sign, (bool, np.bool_)) or sign not in (-1, 0, 1):
        raise ValidationError(f"`sign` must be -1, 0 or 1; got {_short(sign)}.")
    w = sympy.symbols(f"w1:{d + 1}", real=True)
    a = sympy.symbols(f"a1:{e + 1}", real=True)
    s = sympy.Symbol("s", real=True)
    assumptions = {1: {"positive": True}, -1: {"negative": True}, 0: {}}[int(sign)]
    c = sympy.Symbol("c", **assumptions) if sign != 0 else sympy.Integer(0)
    W2 = sum(x ** 2 for x in w)
    A2 = sum(x ** 2 for x in a)
    if sign > 0:
        scale = sympy.sqrt((c + (1 - s) ** 2 * A2) / W2)
        h = [x * scale for x in w] + [(1 - s) * x for x in a]
    elif sign < 0:
        scale = sympy.sqrt((-c + (1 - s) ** 2 * W2) / A2)
        h = [(1 - s) * x for x in w] + [x * scale for x in a]
    else:
        h = [(1 - s) * x for x in (*w, *a)]
    return (w, a, c, s), sympy.ImmutableMatrix(h)


def check_quadric_retraction(d, e, sign):
    """Verify symbolically that :func:`quadric_deformation_retraction` is one.

    Checks, for points of ``Q(c)`` (``c`` replaced by ``||w||² − ||a||²``): (1)
    ``h_s`` stays on ``Q(c)`` for every ``s``; (2) ``h_0`` is the identity; (3) ``h_1`` lands
    on the core sphere (``c > 0``: ``||w||² = c`` and ``a = 0``; ``c < 0``: ``w = 0`` and
    ``||a||² = −c``; ``c = 0``: the origin); (4) the core is fixed for every ``s``.

    Parameters
    ----------
    d, e : int
        Dimensions of ``w`` and ``a``.
    sign : {1, 0, -1}
        Sign of ``c``.

    Returns
    -------
    holds : bool
        True when the four conditions hold identically (every residual simplifies to 0).
    residual : sympy.Expr
        Sum of the absolute values of all simplified residuals (``0`` when it holds).

    See Also
    --------
    quadric_deformation_retraction

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Lemma 1 / Figure 2 (topology of the
           quadric Q(c)).

    Examples
    --------
    >>> check_quadric_retraction(2, 1, -1)
    (True, 0)
    """
    (w, a, c, s), h = quadric_deformation_retraction(d, e, sign)
    d, e = len(w), len(a)
    W2 = sum(x ** 2 for x in w)
    A2 = sum(x ** 2 for x in a)
    hw, ha = list(h[:d]), list(h[d:])
    q = sum(x ** 2 for x in hw) - sum(x ** 2 for x in ha)
    on_q = {c: W2 - A2} if sign != 0 else {}
    if sign != 0:
        residuals = [sympy.simplify((q - c).subs(on_q))]
    else:  # polynomial: reduce modulo the cone equation ||w||² − ||a||² = 0
        residuals = [sympy.rem(sympy.expand(q), sympy.expand(W2 - A2), w[0])]
    residuals += [sympy.simplify((hx - x).subs(s, 0).subs(on_q)) for hx, x in zip(h, (*w, *a))]
    end = [sympy.simplify(x.subs(s, 1)) for x in h]
    ew, ea = end[:d], end[d:]
    if sign > 0:
        residuals += ea + [sympy.simplify(sum(x ** 2 for x in ew) - c)]
        core = {x: 0 for x in a}
    elif sign < 0:
        residuals += ew + [sympy.simplify(sum(x ** 2 for x in ea) + c)]
        core = {x: 0 for x in w}
    else:
        residuals += end
        core = {x: 0 for x in (*w, *a)}
    # the core sphere is fixed: h_s(core point) = core point (on Q, so substitute c too)
    fixed = [sympy.simplify((hx - x).subs(on_q).subs(core)) for hx, x in zip(h, (*w, *a))]
    residuals += fixed
    total = sympy.simplify(sum(sympy.Abs(r) for r in residuals))
    return bool(total == 0), total
