"""The ReLU kernel ``E[σ(w1·X) σ(w2·X)]`` for Gaussian ``X`` and Freeman & Bruna's Proposition 2.3.

For ``X ~ N(0, Σ)`` write ``s_i = sqrt(w_iᵀ Σ w_i)`` and ``cos θ = w1ᵀ Σ w2 / (s1 s2)``.
:func:`relu_kernel_derivation` derives with SymPy, in polar coordinates of the standard
Gaussian plane spanned by the two projections, the arc-cosine kernel (Cho & Saul 2009, degree 1)

    E[relu(w1·X) relu(w2·X)] = s1 s2 (sin θ + (π − θ) cos θ) / (2π),

and the numeric evaluation :func:`relu_kernel` uses the derived expression (lambdified).
:func:`relu_kernel_monte_carlo` estimates the same expectation by sampling, and
:func:`check_relu_kernel` compares the two over random directions and covariances.

Proposition 2.3 (Freeman & Bruna, ICLR 2017): for unit ``w1``, ``w2`` at angle ``α`` with unit
bisector ``w_m`` and ``||w||_Z² = E[z(w)²]``, ``z(w) = max(0, ⟨w, X⟩)``,

    (1 + cos α)/2 · ||w_m||_Z² − 2 ||Σ_X|| ((1 − cos α)/2 + sin² α)
        <= E[z(w1) z(w2)] <= (1 + cos α)/2 · ||w_m||_Z²,

with ``||Σ_X||`` the operator norm of the covariance. :func:`check_proposition_2_3` evaluates
the three terms exactly (closed form) over random angles and covariances.
"""

import dataclasses
import functools

import numpy as np

from .._validation import (check_array, check_covariance, check_float, check_int, check_seed,
                           check_work, power_of_two_scale)
from ..exceptions import ShapeError, ValidationError

__all__ = [
    "KernelDerivation",
    "relu_kernel_derivation",
    "relu_kernel",
    "relu_kernel_monte_carlo",
    "KernelCheck",
    "check_relu_kernel",
    "Proposition23Check",
    "proposition_2_3_terms",
    "check_proposition_2_3",
]


@dataclasses.dataclass(frozen=True)
class KernelDerivation:
    """The SymPy derivation of the ReLU kernel.

    Attributes
    ----------
    theta, s1, s2 : sympy.Symbol
        Angle between the whitened directions and their scales ``sqrt(wᵀΣw)``.
    angular : sympy.Expr
        ``∫ cos φ cos(φ − θ) dφ`` over the half-planes where both units are active.
    radial : sympy.Expr
        ``∫_0^∞ r³ e^{−r²/2} dr / (2π)``.
    kernel : sympy.Expr
        ``s1 s2 · radial · angular``, simplified.
    """

    theta: object
    s1: object
    s2: object
    angular: object
    radial: object
    kernel: object

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        import sympy as sp

        return f"E[relu(w1.X) relu(w2.X)] = {sp.sstr(self.kernel)}"

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        import sympy as sp

        return {"kernel": sp.sstr(self.kernel), "angular": sp.sstr(self.angular),
                "radial": sp.sstr(self.radial)}


@functools.lru_cache(maxsize=1)
def relu_kernel_derivation():
    """Derive the ReLU (arc-cosine, degree 1) kernel with SymPy.

    The two projections ``u = w1·X``, ``v = w2·X`` are, after whitening, ``s1 ⟨e1, G⟩`` and
    ``s2 ⟨(cos θ, sin θ), G⟩`` with ``G`` standard normal in the plane. In polar coordinates
    ``G = r (cos φ, sin φ)`` both units are active for ``φ ∈ (θ − π/2, π/2)`` (``θ ∈ [0, π]``),
    so the expectation factors into a radial and an angular integral, both done by SymPy.

    Returns
    -------
    KernelDerivation
        The symbols and the SymPy expressions of the radial and angular integrals and of the
        kernel.

    Examples
    --------
    >>> import sympy as sp
    >>> d = relu_kernel_derivation()
    >>> sp.simplify(d.kernel - d.s1 * d.s2 * (sp.sin(d.theta) + (sp.pi - d.theta)
    ...             * sp.cos(d.theta)) / (2 * sp.pi))
    0
    """
    import sympy as sp

    theta = sp.Symbol("theta", nonnegative=True)
    s1, s2 = sp.symbols("s1 s2", positive=True)
    r, phi = sp.symbols("r phi", real=True)
    radial = sp.integrate(r**3 * sp.exp(-r**2 / 2), (r, 0, sp.oo)) / (2 * sp.pi)
    angular = sp.simplify(sp.integrate(sp.cos(phi) * sp.cos(phi - theta),
                                       (phi, theta - sp.pi / 2, sp.pi / 2)))
    kernel = sp.simplify(s1 * s2 * radial * angular)
    return KernelDerivation(theta=theta, s1=s1, s2=s2, angular=angular, radial=radial,
                            kernel=kernel)


@functools.lru_cache(maxsize=1)
def _kernel_fn():
    import sympy as sp

    d = relu_kernel_derivation()
    return sp.lambdify((d.s1, d.s2, d.theta), d.kernel, "numpy")


def _check_cov(cov, dim):
    if cov is None:
        return np.eye(dim)
    return check_covariance("cov", cov, dim)


def _weights(w1, w2):
    w1 = check_array("w1", w1, ndim=(1, 2))
    w2 = check_array("w2", w2, ndim=(1, 2))
    if w1.shape[-1] == 0:
        raise ShapeError(f"`w1` must have at least one coordinate; got shape {w1.shape}.")
    if w1.shape[-1] != w2.shape[-1]:
        raise ShapeError(f"`w2` must have last dimension {w1.shape[-1]}; got shape {w2.shape}.")
    return w1, w2


def _unscale(value, exponent, what):
    """``value · 2^exponent`` (exact), refused in one line when it leaves float64."""
    with np.errstate(over="ignore"):
        out = np.ldexp(value, exponent)
    if not np.all(np.isfinite(out)):
        raise ValidationError(f"{what} overflows float64 (it is about 2^{int(exponent)}); "
                              "rescale `w1`, `w2` or `cov` (the kernel is "
                              "homogeneous of degree 1 in each).")
    return out


def _unit(w, name):
    """Rows of ``w`` scaled to unit length without overflow; zero rows refused."""
    big = np.max(np.abs(w), axis=-1, keepdims=True)
    if np.any(big == 0):
        raise ValidationError(f"`{name}` must be non-zero (it is normalized to unit length); got "
                              "a zero vector.")
    w = w / big
    return w / np.linalg.norm(w, axis=-1, keepdims=True)


def _scales(w1, w2, cov):
    """``s1, s2, θ`` of unit-scaled inputs and the power of two (exponent) that undoes it."""
    w1, w2 = _weights(w1, w2)
    cov = _check_cov(cov, w1.shape[-1])
    # the kernel is homogeneous: K(p w1, q w2, r Σ) = p q r K(w1, w2, Σ); scaling by powers of
    # two brings 1e-300 ... 1e300 inputs to unit size without rounding
    p, q, r = power_of_two_scale(w1), power_of_two_scale(w2), power_of_two_scale(cov)
    w1, w2, cov = w1 * p, w2 * q, cov * r
    exponent = -(np.frexp(p)[1] + np.frexp(q)[1] + np.frexp(r)[1] - 3)
    a = np.einsum("...i,ij,...j->...", w1, cov, w1)
    b = np.einsum("...i,ij,...j->...", w2, cov, w2)
    c = np.einsum("...i,ij,...j->...", w1, cov, w2)
    s1, s2 = np.sqrt(np.maximum(a, 0.0)), np.sqrt(np.maximum(b, 0.0))
    cos = np.clip(c / np.maximum(s1 * s2, 1e-300), -1.0, 1.0)
    return s1, s2, np.arccos(cos), exponent


def relu_kernel(w1, w2, cov=None):
    """``E[relu(w1·X) relu(w2·X)]`` for ``X ~ N(0, cov)``, from the derived closed form.

    Parameters
    ----------
    w1, w2 : array_like of shape (d,) or (n, d)
        Weight vectors (one pair, or ``n`` pairs).
    cov : array_like of shape (d, d), optional
        Covariance (identity by default).

    Returns
    -------
    float or ndarray of shape (n,)
        The expectation for each pair (a float for one pair).

    See Also
    --------
    relu_kernel_monte_carlo, check_relu_kernel

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Proposition 2.3 (the expectation it bounds).

    Examples
    --------
    >>> round(float(relu_kernel([1.0, 0.0], [1.0, 0.0])), 6)    # E[relu(g)²] = 1/2
    0.5
    """
    s1, s2, th, exponent = _scales(w1, w2, cov)
    return _unscale(_kernel_fn()(s1, s2, th), exponent, "the kernel value")


def relu_kernel_monte_carlo(w1, w2, cov=None, *, n_samples=200_000, seed=0):
    """Monte Carlo estimate of ``E[relu(w1·X) relu(w2·X)]`` and its standard error.

    Parameters
    ----------
    w1, w2 : array_like of shape (D,)
        Weight vectors.
    cov : array_like of shape (D, D), optional
        Covariance of ``X`` (default identity).
    n_samples : int, default=200000
        Samples.
    seed : int, default=0
        Seed.

    Returns
    -------
    estimate : float
        Sample mean of ``relu(w1·X) relu(w2·X)``.
    stderr : float
        Its standard error.

    See Also
    --------
    relu_kernel, check_relu_kernel

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Proposition 2.3 (the expectation it bounds).
    """
    w1 = check_array("w1", w1, ndim=1)
    w2 = check_array("w2", w2, ndim=1, shape=w1.shape)
    if w1.size == 0:
        raise ShapeError("`w1` must have at least one coordinate; got shape (0,).")
    n = check_int("n_samples", n_samples, minimum=2)
    check_work("n_samples", float(n) * w1.size, limit=MAX_SAMPLE_COORDINATES,
               unit="sample coordinates", about="about 10 s")
    cov = _check_cov(cov, w1.size)
    rng = check_seed("seed", seed)
    p, q, r = power_of_two_scale(w1), power_of_two_scale(w2), power_of_two_scale(cov)
    w1, w2, cov = w1 * p, w2 * q, cov * r
    exponent = -(np.frexp(p)[1] + np.frexp(q)[1] + np.frexp(r)[1] - 3)
    lam, vec = np.linalg.eigh(cov)          # a square root that also takes singular Σ
    L = vec * np.sqrt(np.maximum(lam, 0.0))
    # stream in blocks of rows (the same random numbers as one block: memory stays bounded)
    count, mean, m2 = 0, 0.0, 0.0
    block = 1 << 18
    while count < n:
        k = min(block, n - count)
        X = rng.standard_normal((k, w1.size)) @ L.T
        z = np.maximum(X @ w1, 0.0) * np.maximum(X @ w2, 0.0)
        zm = float(z.mean())
        zm2 = float(((z - zm) ** 2).sum())
        delta = zm - mean
        total = count + k
        mean += delta * k / total
        m2 += zm2 + delta ** 2 * count * k / total
        count = total
    stderr = np.sqrt(m2 / (n - 1)) / np.sqrt(n)
    return (float(_unscale(mean, exponent, "the kernel estimate")),
            float(_unscale(stderr, exponent, "the standard error")))


#: Most Gaussian sample coordinates a Monte Carlo check may draw (about 10 s of work).
MAX_SAMPLE_COORDINATES = 2e8


def _random_cov(rng, d):
    A = rng.standard_normal((d, d))
    return A @ A.T / d + 0.1 * np.eye(d)


@dataclasses.dataclass(frozen=True)
class KernelCheck:
    """Closed form against Monte Carlo over random cases.

    Attributes
    ----------
    holds : bool
        Every ``|closed − MC| <= z_max · stderr``.
    max_z : float
        Largest ``|closed − MC| / stderr`` (the residual).
    closed, monte_carlo, stderr : ndarray of shape (n_trials,)
    """

    holds: bool
    max_z: float
    closed: np.ndarray
    monte_carlo: np.ndarray
    stderr: np.ndarray

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        return (f"ReLU kernel closed form vs Monte Carlo over {self.closed.size} random cases: "
                f"max |diff|/stderr = {self.max_z:.2f} -> {'holds' if self.holds else 'FAILS'}")

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"holds": self.holds, "max_z": self.max_z, "closed": self.closed.tolist(),
                "monte_carlo": self.monte_carlo.tolist(), "stderr": self.stderr.tolist()}


def check_relu_kernel(n_trials=10, dim=3, *, n_samples=200_000, z_max=5.0, seed=0):
    """Compare the derived closed form with Monte Carlo on random ``w1, w2, Σ``.

    Parameters
    ----------
    n_trials : int, default=10
        Random ``(w1, w2, Σ)``.
    dim : int, default=3
        Dimension.
    n_samples : int, default=200000
        Monte Carlo samples per trial.
    z_max : float, default=5.0
        Largest accepted z-score of the difference.
    seed : int, default=0
        Seed.

    Returns
    -------
    KernelCheck
        Whether every closed-form value lies within ``z_max`` standard errors of its Monte
        Carlo estimate, the largest z-score, and the values of each trial.

    See Also
    --------
    relu_kernel, relu_kernel_monte_carlo

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Proposition 2.3; for Gaussian inputs the arc-cosine closed
           form.
    """
    n_trials = check_int("n_trials", n_trials, minimum=1)
    dim = check_int("dim", dim, minimum=2)
    n_samples = check_int("n_samples", n_samples, minimum=2)
    check_work("n_trials × n_samples × dim", float(n_trials) * n_samples * dim,
               limit=MAX_SAMPLE_COORDINATES, unit="sample coordinates",
               fix="reduce `n_trials`, `n_samples` or `dim`", about="about 10 s")
    z_max = check_float("z_max", z_max, minimum=0.0, strict_min=True)
    rng = check_seed("seed", seed)
    closed, mc, se = [], [], []
    for _ in range(n_trials):
        w1, w2 = rng.standard_normal(dim), rng.standard_normal(dim)
        cov = _random_cov(rng, dim)
        closed.append(float(relu_kernel(w1, w2, cov)))
        m, s = relu_kernel_monte_carlo(w1, w2, cov, n_samples=n_samples,
                                       seed=int(rng.integers(2**32)))
        mc.append(m)
        se.append(s)
    closed, mc, se = np.array(closed), np.array(mc), np.array(se)
    z = np.abs(closed - mc) / se
    return KernelCheck(holds=bool(np.all(z <= z_max)), max_z=float(z.max()), closed=closed,
                       monte_carlo=mc, stderr=se)


def proposition_2_3_terms(w1, w2, cov=None):
    """Lower bound, value and upper bound of Proposition 2.3 for unit ``w1``, ``w2``.

    Parameters
    ----------
    w1, w2 : array_like of shape (d,) or (n, d)
        Normalized to unit length here (the proposition is stated for unit vectors).
    cov : array_like of shape (d, d), optional
        Covariance of ``X`` (default: the identity).

    Returns
    -------
    lower : float or ndarray
        ``(1 + cos α)/2 · ||w_m||_Z² − 2 ||Σ_X|| ((1 − cos α)/2 + sin² α)``, with
        ``||w_m||_Z² = w_mᵀ Σ w_m / 2``.
    value : float or ndarray
        ``E[z(w1) z(w2)]`` (closed form).
    upper : float or ndarray
        ``(1 + cos α)/2 · ||w_m||_Z²``.

    See Also
    --------
    check_proposition_2_3, relu_kernel

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Proposition 2.3.

    Examples
    --------
    >>> lo, v, up = proposition_2_3_terms([1.0, 0.0], [0.0, 1.0])
    >>> bool(lo <= v <= up)
    True
    """
    w1, w2 = _weights(w1, w2)
    w1, w2 = _unit(w1, "w1"), _unit(w2, "w2")
    cov = _check_cov(cov, w1.shape[-1])
    r = power_of_two_scale(cov)         # every term is linear in Σ: compute at unit size
    exponent = -(np.frexp(r)[1] - 1)
    cov = cov * r
    cos_a = np.clip(np.sum(w1 * w2, axis=-1), -1.0, 1.0)
    wm = w1 + w2
    nm = np.linalg.norm(wm, axis=-1, keepdims=True)
    # opposite vectors (α = π) have no bisector, but its factor (1 + cos α)/2 is 0
    wm = np.where(nm > 0, wm / np.where(nm > 0, nm, 1.0), 0.0)
    norm_z = 0.5 * np.einsum("...i,ij,...j->...", wm, cov, wm)
    op = float(np.linalg.norm(cov, 2))
    value = relu_kernel(w1, w2, cov)
    upper = 0.5 * (1.0 + cos_a) * norm_z
    lower = upper - 2.0 * op * (0.5 * (1.0 - cos_a) + (1.0 - cos_a**2))
    lower, value, upper = (_unscale(t, exponent, "a term of Proposition 2.3")
                           for t in (lower, value, upper))
    return lower, value, upper


@dataclasses.dataclass(frozen=True)
class Proposition23Check:
    """Proposition 2.3 over random angles and covariances.

    Attributes
    ----------
    holds : bool
        Both inequalities hold in every trial (to ``1e-12``).
    min_lower_slack, min_upper_slack : float
        ``min(value − lower)``, ``min(upper − value)`` (the residuals; negative = violated).
    angles : ndarray of shape (n_trials,)
    lower, value, upper : ndarray of shape (n_trials,)
    """

    holds: bool
    min_lower_slack: float
    min_upper_slack: float
    angles: np.ndarray
    lower: np.ndarray
    value: np.ndarray
    upper: np.ndarray

    def summary(self):
        """A short text of the result, for a terminal.

        Returns
        -------
        str
            Lines of text.
        """
        return (f"Proposition 2.3 over {self.angles.size} random (angle, covariance) cases: "
                f"min slack lower {self.min_lower_slack:.3g}, upper {self.min_upper_slack:.3g}"
                f" -> {'holds' if self.holds else 'FAILS'}")

    def to_dict(self):
        """The result as plain data (dicts, lists, numbers, strings), ready for JSON.

        Returns
        -------
        dict
            Plain data; non-finite floats stay floats (``write_json`` writes them as ``null``).
        """
        return {"holds": self.holds, "min_lower_slack": self.min_lower_slack,
                "min_upper_slack": self.min_upper_slack, "angles": self.angles.tolist(),
                "lower": self.lower.tolist(), "value": self.value.tolist(),
                "upper": self.upper.tolist()}


def check_proposition_2_3(n_trials=1000, dim=3, *, seed=0):
    """Check Proposition 2.3's two-sided bound on random unit pairs (angles spread over
    ``[0, π)``) and random covariances.

    Parameters
    ----------
    n_trials : int, default=1000
        Random unit pairs.
    dim : int, default=3
        Dimension.
    seed : int, default=0
        Seed.

    Returns
    -------
    Proposition23Check
        Whether both inequalities hold in every trial, the smallest slacks, and the angles and
        three terms of each trial.

    See Also
    --------
    proposition_2_3_terms, relu_kernel

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Proposition 2.3 (bounds on the ReLU kernel).

    Examples
    --------
    >>> check_proposition_2_3(200, seed=1).holds
    True
    """
    n_trials = check_int("n_trials", n_trials, minimum=1)
    dim = check_int("dim", dim, minimum=2)
    check_work("n_trials × dim³", float(n_trials) * dim ** 3, limit=2e8, unit="operations",
               fix="reduce `n_trials` or `dim`")
    rng = check_seed("seed", seed)
    angles = rng.uniform(0.0, np.pi * 0.999, n_trials)
    lo, va, up = [], [], []
    for a in angles:
        Q, _ = np.linalg.qr(rng.standard_normal((dim, 2)))
        w1 = Q[:, 0]
        w2 = np.cos(a) * Q[:, 0] + np.sin(a) * Q[:, 1]
        cov = _random_cov(rng, dim)
        l_, v_, u_ = proposition_2_3_terms(w1, w2, cov)
        lo.append(float(l_))
        va.append(float(v_))
        up.append(float(u_))
    lo, va, up = np.array(lo), np.array(va), np.array(up)
    sl, su = float(np.min(va - lo)), float(np.min(up - va))
    return Proposition23Check(holds=bool(sl >= -1e-12 and su >= -1e-12), min_lower_slack=sl,
                              min_upper_slack=su, angles=angles, lower=lo, value=va, upper=up)
