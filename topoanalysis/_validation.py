"""Input checks shared by the public functions.

Every check raises :class:`~topoanalysis.exceptions.ValidationError` (or a subclass) with a
message of the form "`name` must be <expectation>; got <value>." User input never meets
``assert``.
"""

import functools
import numbers
import sys
import warnings

import numpy as np

from .exceptions import ShapeError, ValidationError

__all__ = [
    "check_int",
    "check_float",
    "check_choice",
    "normalize_name",
    "check_array",
    "check_seed",
    "renamed_kwargs",
]


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(name, value, *, minimum=None, maximum=None):
    """Return ``value`` as ``int`` after checking it is an integer in range."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is its scalar
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"`{name}` must be an integer; got {_short(value)}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValidationError(f"`{name}` must be an integer >= {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ValidationError(f"`{name}` must be an integer <= {maximum}; got {value}.")
    return value


def check_float(name, value, *, minimum=None, maximum=None, strict_min=False,
                strict_max=False, allow_inf=False):
    """Return ``value`` as ``float`` after checking it is a finite real number in range."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]  # a 0-d array is its scalar
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValidationError(f"`{name}` must be a real number; got {_short(value)}.")
    try:
        value = float(value)
    except OverflowError:                       # an int beyond float64 (10**400)
        raise ValidationError(f"`{name}` must be a finite real number; got an integer of "
                              f"{len(str(abs(int(value))))} digits.") from None
    if np.isnan(value) or (not allow_inf and not np.isfinite(value)):
        raise ValidationError(f"`{name}` must be a finite real number; got {value}.")
    if minimum is not None:
        bad = value <= minimum if strict_min else value < minimum
        if bad:
            op = ">" if strict_min else ">="
            raise ValidationError(f"`{name}` must be a number {op} {minimum}; got {value}.")
    if maximum is not None:
        bad = value >= maximum if strict_max else value > maximum
        if bad:
            op = "<" if strict_max else "<="
            raise ValidationError(f"`{name}` must be a number {op} {maximum}; got {value}.")
    return value


def normalize_name(value):
    """Spelling-insensitive form of a choice: lower case, ``-`` and spaces as ``_``.

    >>> normalize_name(" Kaiming-Normal ")
    'kaiming_normal'
    """
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def check_choice(name, value, choices):
    """Return the canonical spelling of ``value`` after checking it is one of ``choices``.

    Strings match case-insensitively, with ``-`` and ``_`` interchangeable
    (``"Kaiming-Normal"`` is ``"kaiming_normal"``); the entry of ``choices`` is returned.
    """
    if isinstance(value, str):
        key = normalize_name(value)
        for choice in choices:
            if isinstance(choice, str) and normalize_name(choice) == key:
                return choice
    else:
        try:
            if value in choices:
                return value
        except (TypeError, ValueError):  # unhashable / incomparable / array values are not choices
            pass
    allowed = ", ".join(repr(c) for c in choices)
    raise ValidationError(f"`{name}` must be one of {allowed}; got {_short(value)}.")


def check_array(name, value, *, ndim=None, shape=None, finite=True, dtype=np.float64):
    """Return ``value`` as a C-contiguous array of ``dtype`` after checking it.

    ``ndim`` may be an int or a tuple of allowed ints; ``shape`` is a tuple whose entries
    are ints or ``None`` (any size). Non-finite entries are rejected when ``finite``.
    """
    if value is None:
        raise ValidationError(f"`{name}` must be an array of real numbers; got None.")
    try:
        raw = np.asarray(value)
        if raw.dtype.kind == "c" and np.dtype(dtype).kind != "c":
            raise ValidationError(
                f"`{name}` must be an array of real numbers; got complex numbers (the imaginary "
                "part would be dropped)."
            )
        if raw.dtype.kind not in "biufO" and np.dtype(dtype).kind in "biuf":
            raise TypeError(f"{_short(value)}")
        arr = np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ValidationError):
            raise
        what = ("a ragged nested sequence (rows of different lengths)"
                if "inhomogeneous" in str(exc) or "sequence" in str(exc)
                else f"{type(value).__name__} {_short(value)}")
        raise ValidationError(
            f"`{name}` must be a rectangular array of real numbers; got {what}."
        ) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ShapeError(
                f"`{name}` must be a {want}-dimensional array; got shape {arr.shape}."
            )
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape)
        ):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ShapeError(f"`{name}` must have shape {want}; got shape {arr.shape}.")
    if finite and arr.dtype.kind == "f" and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValidationError(
            f"`{name}` must contain only finite numbers; got {bad} non-finite entries."
        )
    return np.asarray(arr, order="C")  # C-contiguous; keeps 0-d arrays 0-d


def check_seed(name, seed):
    """Return a :class:`numpy.random.Generator` from ``seed`` (int, None or Generator)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    check_int(name, seed, minimum=0)
    return np.random.default_rng(int(seed))


def renamed_kwargs(**renames):
    """Decorator keeping old keyword names working: ``@renamed_kwargs(theta="net_a")``.

    A call with an old name gets one :class:`DeprecationWarning` naming the new one and runs
    with the argument under its new name; giving both names is a :class:`ValidationError`.
    The signature shown by :func:`inspect.signature` (and the docs) is the new one.

    >>> @renamed_kwargs(old="new")
    ... def f(new):
    ...     return new
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(old=3), str(w[0].message)
    (3, '`old` is deprecated; use `new` (glossary: docs/guide/glossary.md).')
    """
    def decorate(func):
        import inspect

        positional = [p.name for p in inspect.signature(func).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs or new in positional[:len(args)]:
                        raise ValidationError(
                            f"`{old}` is the deprecated name of `{new}`: pass only `{new}`; "
                            f"got both.")
                    warnings.warn(f"`{old}` is deprecated; use `{new}` (glossary: "
                                  f"docs/guide/glossary.md).", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.renamed_kwargs = dict(renames)
        return wrapper

    return decorate


# --- the public surface of the paper subpackages (issue 14) ----------------------------------
__all__ += ["check_network", "check_architecture", "check_magnitude", "check_work",
            "check_covariance", "power_of_two_scale"]

#: Largest number of elementary operations (array entries written, samples drawn, LP rows) a
#: public function may be asked for before it refuses with the figure (about a minute of work).
MAX_WORK = 2e9


def _network_class(name):
    """``topoanalysis.network.<name>`` without importing it (``network.py`` imports this module:
    an instance can only exist once ``network.py`` is loaded; before that nothing matches)."""
    module = sys.modules.get(__package__ + ".network")
    return getattr(module, name, ()) if module is not None else ()


def check_network(name, value, *, shallow=False):
    """Return ``value`` after checking it is a :class:`~topoanalysis.network.Network`."""
    from .exceptions import NotSupportedError

    if not isinstance(value, _network_class("Network")):
        raise ValidationError(f"`{name}` must be a topoanalysis Network; got "
                              f"{type(value).__name__}.")
    if shallow and not value.arch.is_shallow:
        raise NotSupportedError(f"`{name}` must be a shallow network (one hidden layer); got "
                                f"hidden widths {value.arch.hidden}.")
    return value


def check_architecture(name, value, *, shallow=False):
    """Return ``value`` after checking it is an :class:`~topoanalysis.network.Architecture`."""
    from .exceptions import NotSupportedError

    if not isinstance(value, _network_class("Architecture")):
        raise ValidationError(f"`{name}` must be an Architecture (e.g. Architecture(2, (4,), "
                              f"1)); got {_short(value)}.")
    if shallow and not value.is_shallow:
        raise NotSupportedError(f"`{name}` must be a shallow architecture (one hidden layer); "
                                f"got hidden widths {value.hidden}.")
    return value


def check_magnitude(name, value, limit, *, what="entries"):
    """Refuse an array whose largest ``|entry|`` exceeds ``limit`` (finite but so large that the
    computation would overflow float64); return the largest magnitude.

    The message says to rescale: every ReLU verdict and distance is scale-covariant.
    """
    arr = np.asarray(value, dtype=np.float64)
    big = float(np.max(np.abs(arr), initial=0.0))
    if not big <= limit:
        raise ValidationError(
            f"`{name}` must have {what} of size at most {limit:.3g} (beyond it float64 "
            f"overflows); got {big:.3g}. Rescale it: ReLU verdicts and distances are "
            "scale-covariant.")
    return big


def check_work(name, amount, *, limit=MAX_WORK, unit="operations", fix=None,
               about="about a minute of work"):
    """Refuse, before any work, a request of ``amount`` units beyond ``limit``.

    ``name`` names the parameter(s) that set the size; the message gives the figure.
    """
    from .exceptions import ResourceError

    amount = float(amount)
    if not amount <= limit:
        hint = f"; {fix}" if fix else f"; reduce `{name}`"
        raise ResourceError(f"`{name}` asks for {amount:.3g} {unit}, more than the limit of "
                            f"{limit:.3g} ({about}){hint}.")
    return amount


def check_covariance(name, value, dim):
    """Return a symmetric positive semi-definite ``(dim, dim)`` covariance, or refuse.

    Symmetry is required up to 1e-12 relative (then symmetrized); the smallest eigenvalue must
    be ``>= -1e-12 · ||Σ||`` (an indefinite matrix is no covariance: the kernels would take
    square roots of negative variances).
    """
    cov = check_array(name, value, ndim=2)
    if cov.shape != (dim, dim):
        raise ShapeError(f"`{name}` must have shape ({dim}, {dim}); got shape {cov.shape}.")
    scale = float(np.max(np.abs(cov), initial=0.0))
    if scale > 0:
        c = cov / scale
        if np.max(np.abs(c - c.T)) > 1e-12:
            raise ValidationError(f"`{name}` must be a symmetric matrix (a covariance); got "
                                  f"one with |Σ - Σᵀ| up to {np.max(np.abs(cov - cov.T)):.3g}.")
        c = 0.5 * (c + c.T)
        low = float(np.linalg.eigvalsh(c).min())
        if low < -1e-12:
            raise ValidationError(f"`{name}` must be positive semi-definite (a covariance); got "
                                  f"smallest eigenvalue {low * scale:.3g}.")
        cov = 0.5 * (cov + cov.T)
    return np.ascontiguousarray(cov)


def power_of_two_scale(*arrays):
    """The power of two ``s`` with ``max |entry| · s`` in ``[0.5, 1)`` (1 for all-zero input).

    Multiplying by ``s`` is exact in float64 unless entries underflow; use it to bring huge or
    tiny inputs of a scale-covariant computation to unit size.
    """
    big = max((float(np.max(np.abs(np.asarray(a, dtype=np.float64)), initial=0.0))
               for a in arrays), default=0.0)
    if not big or not np.isfinite(big):
        return 1.0
    _, exp = np.frexp(big)
    # at most 2^1000: subnormal inputs come out near 2^-74 instead of an infinite scale
    return float(np.ldexp(1.0, min(-int(exp), 1000)))


__all__ += ["exact_fraction"]


def exact_fraction(x):
    """The exact value of a finite real number as a ``Fraction`` (None: not a finite real).

    Integers, rationals (``Fraction``, SymPy ``Rational``), ``Decimal``, Python and NumPy floats
    of every width (``np.longdouble`` included) and SymPy / mpmath ``Float`` (binary fractions,
    read off their mantissa and exponent): no rounding to float64 on the way, so a sign or a
    comparison with a tolerance is decided on the value given (``Float("1e-400")`` is not 0).
    """
    import decimal
    from fractions import Fraction

    if isinstance(x, numbers.Integral):
        return Fraction(int(x))
    if isinstance(x, numbers.Rational):
        return Fraction(int(x.numerator), int(x.denominator))
    if isinstance(x, decimal.Decimal):
        return Fraction(x) if x.is_finite() else None
    mpf = getattr(x, "_mpf_", None)          # SymPy / mpmath Float: (sign, mantissa, exp, bits)
    if isinstance(mpf, tuple) and len(mpf) == 4:
        if not (mpf[1] or mpf == (0, 0, 0, 0)):
            return None                      # inf, nan
        sign, man, exp, _ = mpf
        q = Fraction(int(man)) * (Fraction(2) ** int(exp))
        return -q if sign else q
    ratio = getattr(x, "as_integer_ratio", None)
    if ratio is None:
        return None
    try:
        return Fraction(*ratio())
    except (OverflowError, ValueError, TypeError):   # inf, nan
        return None
