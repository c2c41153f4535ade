"""A whitelist parser for expressions typed by users: no code from input is ever run.

Strings are parsed with Python's :mod:`ast` (which only parses, never evaluates) and the tree is
walked node by node: numbers, the names of a given symbol table, ``+ - * / **`` (``^`` as a
power), unary signs, parentheses and calls of a few named SymPy functions are turned into SymPy
objects; anything else (attribute access, subscripts, lambdas, keyword arguments, strings,
comparisons, names outside the table such as ``__import__``) is refused with a
:class:`~topoanalysis.exceptions.ValidationError`. SymPy's ``parse_expr``/``sympify`` are not
used because they ``eval`` the (transformed) text.
"""

import ast

import sympy

from ..exceptions import ValidationError

__all__ = ["FUNCTIONS", "MAX_LENGTH", "MAX_EXPONENT", "parse_expression"]

#: Functions a user expression may call (by these names only).
FUNCTIONS = {
    "sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log, "Abs": sympy.Abs,
    "abs": sympy.Abs, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "tanh": sympy.tanh, "sinh": sympy.sinh, "cosh": sympy.cosh,
}
#: Constants a user expression may name.
CONSTANTS = {"pi": sympy.pi, "E": sympy.E}
#: Longest accepted text, and largest integer exponent magnitude (``x**10**9`` is refused
#: rather than expanded).
MAX_LENGTH = 10_000
MAX_EXPONENT = 1_000
_MAX_DEPTH = 100

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a ** b,
    ast.BitXor: lambda a, b: a ** b,
}


def _fail(name, text, why):
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise ValidationError(
        f"`{name}` must be an arithmetic expression in the network's parameter symbols "
        f"(+ - * / ** and {', '.join(sorted(FUNCTIONS))}); got {shown!r}: {why}."
    )


def parse_expression(text, symbols, *, name="expr", exact_floats=False):
    """Parse ``text`` into a SymPy expression over ``symbols`` without evaluating any code.

    Parameters
    ----------
    text : str
    symbols : mapping of str to sympy.Symbol
        The only names (besides :data:`FUNCTIONS` and ``pi``, ``E``) the text may use.
    name : str
        Parameter name used in error messages.
    exact_floats : bool, default=False
        Read a float literal (``0.1``, ``1e-3``) as the exact ``Rational`` of the float64 it
        denotes (``0.1`` is ``3602879701896397/36028797018963968``), so that arithmetic on it
        stays exact; by default it is a SymPy ``Float``.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValidationError
        For anything that is not arithmetic over the symbol table: a syntax error, an
        unknown name, attribute access, a call of something other than a listed function,
        a string literal, an exponent beyond :data:`MAX_EXPONENT`, or a text longer than
        :data:`MAX_LENGTH`.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> parse_expression("2*x**2 - sqrt(x)", {"x": x})
    -sqrt(x) + 2*x**2
    >>> parse_expression("__import__('os')", {"x": x})
    Traceback (most recent call last):
    ...
    topoanalysis.exceptions.ValidationError: `expr` must be an arithmetic expression ...
    """
    if not isinstance(text, str):
        raise ValidationError(f"`{name}` must be a string; got {type(text).__name__}.")
    if len(text) > MAX_LENGTH:
        _fail(name, text, f"longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        _fail(name, text, f"not valid syntax ({type(exc).__name__})")

    def build(node, depth):
        if depth > _MAX_DEPTH:
            _fail(name, text, f"nested deeper than {_MAX_DEPTH} levels")
        if isinstance(node, ast.Expression):
            return build(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _fail(name, text, f"the literal {value!r} is not a real number")
            if isinstance(value, int):
                return sympy.Integer(value)
            if exact_floats:
                return sympy.Rational(*value.as_integer_ratio())
            return sympy.Float(value)
        if isinstance(node, ast.Name):
            if node.id in symbols:
                return symbols[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            _fail(name, text, f"unknown name {node.id!r}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            operand = build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = build(node.left, depth + 1)
            right = build(node.right, depth + 1)
            if isinstance(node.op, (ast.Pow, ast.BitXor)):
                if right.is_number and not (abs(right) <= MAX_EXPONENT):
                    _fail(name, text, f"exponent {right} beyond ±{MAX_EXPONENT}")
            if isinstance(node.op, ast.Div) and right == 0:
                _fail(name, text, "division by zero")
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                what = node.func.id if isinstance(node.func, ast.Name) else "an expression"
                _fail(name, text, f"call of {what!r}, which is not an allowed function")
            if node.keywords or len(node.args) != 1:
                _fail(name, text, f"{node.func.id}() takes exactly one argument")
            return FUNCTIONS[node.func.id](build(node.args[0], depth + 1))
        _fail(name, text, f"{type(node).__name__} is not allowed")

    try:
        expr = build(tree, 0)
    except RecursionError:
        _fail(name, text, "nested too deeply")
    if not isinstance(expr, sympy.Expr):
        _fail(name, text, "not a scalar expression")
    return expr


def parse_real_number(value, *, name="value"):
    """An exact SymPy real number from a user value, without evaluating any code.

    Python/NumPy integers and floats (finite) become ``Integer`` / the exact ``Rational`` of the
    float; ``fractions.Fraction`` and SymPy rationals are kept; strings go through
    :func:`parse_expression` with an empty symbol table (``"1/100"``, ``"sqrt(2)/10"``) and must
    come out a real number; a float literal in a string is the float, as when the float is
    passed (``"0.1"`` is the exact binary value of ``0.1``, ``"1/10"`` is one tenth), and the
    arithmetic on it is exact (``"0.01 + 2**-60"`` keeps the ``2**-60``). Anything else (and
    ``bool``, complex, NaN, inf) is refused.

    Parameters
    ----------
    value : int, float, fractions.Fraction, sympy.Rational or str
    name : str
        Parameter name used in error messages.

    Returns
    -------
    sympy.Expr
        A real number (``is_real`` and ``is_finite``).

    Examples
    --------
    >>> parse_real_number("1/100", name="negative_slope")
    1/100
    >>> parse_real_number(0.5)
    1/2
    >>> parse_real_number("0.1") == parse_real_number(0.1)
    True
    """
    import fractions
    import numbers

    if isinstance(value, str):
        out = parse_expression(value, {}, name=name, exact_floats=True)
    elif isinstance(value, bool) or (hasattr(value, "dtype") and value.dtype.kind == "b"):
        raise ValidationError(f"`{name}` must be a real number; got {value!r}.")
    elif isinstance(value, fractions.Fraction):
        out = sympy.Rational(value.numerator, value.denominator)
    elif isinstance(value, sympy.Basic):
        out = value
    elif isinstance(value, numbers.Integral):
        out = sympy.Integer(int(value))
    elif isinstance(value, numbers.Real):
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            raise ValidationError(f"`{name}` must be a finite real number; got {v}.")
        p, q = v.as_integer_ratio()
        out = sympy.Rational(p, q)
    else:
        raise ValidationError(f"`{name}` must be a real number or an arithmetic expression; "
                              f"got {type(value).__name__}.")
    if not (isinstance(out, sympy.Expr) and out.is_number and out.is_real is True
            and out.is_finite is True):
        raise ValidationError(f"`{name}` must be a finite real number; got {out}.")
    return out
