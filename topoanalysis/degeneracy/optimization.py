"""The optimization side of Berner, Elbrächter & Grohs: local minima in parameters vs realizations.

* **Proposition 1.2.** If the realization map is ``(s, α)`` inverse stable on ``P`` and ``Γ*``
  is a local minimum of ``L∘R`` on ``P`` with radius ``r`` (in ``|·|_∞``), then ``R(Γ*)`` is a
  local minimum of ``L`` on ``R(P)`` with radius ``(r/s)^{1/α}``: any ``g`` that close has a
  parametrization within ``r`` of ``Γ*`` (:func:`realization_radius`).
* **Example A.1.** Without inverse stability this fails: an *unbalanced* ``Γ*`` (a weight vector
  of norm 1 with output 0) is a local minimum in parameter space, but realizations
  ``g_k → R(Γ*) = 0`` in ``W^{1,∞}`` have a smaller loss (:func:`example_a1`). Our copy of the
  paper lacks the example's numbers; :func:`example_a1` builds one with the structure the text
  describes (two samples, MSE, perturbations of less than the radius only rotate the weight
  vector a little, unbalancedness is the cause), with our numbers.
* **Certificates.** :func:`certify_zero_output_minimum` proves exactly (rationals) that a network
  whose output is 0 on the samples, and whose every neuron stays inactive on every sample with a
  non-zero label throughout an ``∞``-ball, is a local minimum of the MSE with that radius.
  :func:`probe_local_minimum` and :func:`probe_realizations` are the numerical side (seeded
  samples, evidence rather than proof).
"""

import dataclasses
from fractions import Fraction

import numpy as np

from .._validation import check_array, check_float, check_int
from ..exceptions import ValidationError
from ._form import form_network, shallow_form
from .theory import THEOREM_3_3_CONSTANT, THEOREM_3_3_EXPONENT

__all__ = ["realization_radius", "ZeroOutputCertificate", "certify_zero_output_minimum",
           "ExampleA1", "example_a1", "exact_mse", "LocalMinimumProbe", "probe_local_minimum",
           "RealizationProbe", "probe_realizations", "balanced", "almost_optimality_bound",
           "RestrictedRepresentative", "restricted_representative"]


def realization_radius(r, *, s=THEOREM_3_3_CONSTANT, alpha=THEOREM_3_3_EXPONENT):
    """``(r / s)^{1/α}``: the realization-space radius Proposition 1.2 gives.

    Parameters
    ----------
    r : float
        Radius (``|·|_∞``) of the local minimum in parameter space, ``> 0``.
    s, alpha : float
        Inverse-stability constants (default Theorem 3.3's ``s = 2√2`` as re-derived in
        :mod:`~topoanalysis.degeneracy.theory`, ``α = 1/2``).

    Returns
    -------
    float
        ``(r / s)^{1/α}``, the radius in realization space (``|·|_{W^{1,∞}}``).

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Proposition 1.2.

    Examples
    --------
    >>> realization_radius(0.1, s=2.0)
    0.0025000000000000005
    """
    r = check_float("r", r, minimum=0.0, strict_min=True)
    s = check_float("s", s, minimum=0.0, strict_min=True)
    alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True, maximum=16.0)
    try:
        value = float((r / s) ** (1.0 / alpha))
    except OverflowError:
        value = float("inf")
    if not np.isfinite(value):
        raise ValidationError(f"`r`, `s` and `alpha` give a radius (r/s)^(1/alpha) beyond float64 "
                              f"(r={r:g}, s={s:g}, alpha={alpha:g}); rescale the problem.")
    return value


def _xy(X, y, d=None):
    X = check_array("X", X, ndim=2)
    y = np.asarray(check_array("y", y), dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or len(y) != len(X):
        raise ValidationError(f"`y` must have {len(X)} rows (one per sample); got shape "
                              f"{y.shape}.")
    if d is not None and X.shape[1] != d:
        raise ValidationError(f"`X` must have {d} columns (the network's inputs); got "
                              f"{X.shape[1]}.")
    return X, y


def exact_mse(net, X, y):
    """The MSE ``mean (R(Θ)(x_i) − y_i)²`` of a bias-free network, as an exact ``Fraction``.

    Every float (weights, samples, labels) is read as the rational it is, so the loss carries
    no rounding error (:func:`example_a1` and :func:`certify_zero_output_minimum` report it).

    Parameters
    ----------
    net : Network
        Bias-free shallow ReLU network.
    X : array_like of shape (N, d)
        Samples, ``d`` the network's input dimension.
    y : array_like of shape (N,) or (N, e)
        Labels, ``e`` the network's output dimension.

    Returns
    -------
    fractions.Fraction
        The mean over samples and outputs of the squared errors.

    See Also
    --------
    certify_zero_output_minimum, example_a1

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Example A.1
           (the MSE whose local minima in parameter and realization space are compared).
    """
    form = shallow_form(net, "none")
    X, y = _xy(X, y, form.dim)
    A = [[Fraction(float(v)) for v in row] for row in form.A]
    C = [[Fraction(float(v)) for v in row] for row in form.C]
    total = Fraction(0)
    for x, t in zip(X, y):
        xq = [Fraction(float(v)) for v in x]
        pre = [sum(a * b for a, b in zip(row, xq)) for row in A]
        for k in range(form.outputs):
            out = sum(C[j][k] * p for j, p in enumerate(pre) if p > 0)
            total += (out - Fraction(float(t[k]))) ** 2
    return total / (len(X) * form.outputs)


@dataclasses.dataclass(frozen=True)
class ZeroOutputCertificate:
    """Exact proof (or refusal) that ``Γ*`` is a local minimum of the MSE with radius ``r``."""

    holds: bool
    radius: float
    loss: float
    reason: str
    margins: tuple

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"{'local minimum' if self.holds else 'not certified'} with radius "
                f"{self.radius:g} (|·|_inf), loss {self.loss:.6g}: {self.reason}")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        return {"holds": self.holds, "radius": self.radius, "loss": self.loss,
                "reason": self.reason, "margins": list(self.margins)}


def certify_zero_output_minimum(net, X, y, radius):
    """Prove exactly that ``Γ*`` is a local minimum of the MSE on ``(X, y)`` with ``radius``.

    Sufficient conditions, decided in rationals from the float parameters: (i) ``R(Γ*)(x_i) = 0``
    on every sample; (ii) for every sample with ``y_i ≠ 0`` and every neuron,
    ``⟨a_k, x_i⟩ + r ||x_i||_1 ≤ 0`` — the neuron stays inactive at ``x_i`` (``⟨a'_k, x_i⟩ ≤ 0``)
    for every ``Γ'`` with ``|Γ' − Γ*|_∞ ≤ r``. Then such ``Γ'`` output 0 at every labelled
    sample (loss term ``y_i²``, as for ``Γ*``) and a square ``≥ 0 = `` ``Γ*``'s term elsewhere: ``L(Γ') ≥ L(Γ*)``.

    Parameters
    ----------
    net : Network
        Bias-free shallow ReLU network.
    X : array_like of shape (N, d)
        Samples.
    y : array_like of shape (N,) or (N, e)
        Labels.
    radius : float
        ``r > 0``.

    Returns
    -------
    ZeroOutputCertificate
        ``margins[i]``: ``max_k ⟨a_k, x_i⟩ + r ||x_i||_1`` for the labelled samples (``≤ 0``
        needed; floats of the exact rationals).

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Example A.1.
    """
    form = shallow_form(net, "none")
    X, y = _xy(X, y, form.dim)
    r = check_float("radius", radius, minimum=0.0, strict_min=True)
    rq = Fraction(r)
    A = [[Fraction(float(v)) for v in row] for row in form.A]
    C = [[Fraction(float(v)) for v in row] for row in form.C]
    margins, bad_out, bad_margin = [], [], []
    for i, (x, t) in enumerate(zip(X, y)):
        xq = [Fraction(float(v)) for v in x]
        pre = [sum(a * b for a, b in zip(row, xq)) for row in A]
        out = [sum(C[j][k] * p for j, p in enumerate(pre) if p > 0) for k in range(form.outputs)]
        if any(o != 0 for o in out):
            bad_out.append(i)
        if np.any(t != 0):
            l1 = sum(abs(v) for v in xq)
            m = max(p + rq * l1 for p in pre)
            margins.append(float(m))
            if m > 0:
                bad_margin.append(i)
    loss = float(exact_mse(net, X, y))
    if bad_out:
        return ZeroOutputCertificate(False, r, loss, f"R(Γ*) is not 0 at samples {bad_out}",
                                     tuple(margins))
    if bad_margin:
        return ZeroOutputCertificate(False, r, loss, "a neuron can become active at labelled "
                                     f"samples {bad_margin} within the radius", tuple(margins))
    return ZeroOutputCertificate(True, r, loss, "R(Γ*) = 0 on the samples and every neuron "
                                 "stays inactive at every labelled sample in the ∞-ball "
                                 "(exact rationals), so L(Γ') ≥ L(Γ*)", tuple(margins))


@dataclasses.dataclass(frozen=True)
class ExampleA1:
    """Example A.1's situation, with our numbers (see :func:`example_a1`)."""

    X: np.ndarray
    y: np.ndarray
    gamma_star: object
    radius: float
    direction: np.ndarray
    certificate: ZeroOutputCertificate
    sequence: tuple
    sequence_losses: tuple
    sequence_distances: tuple
    balanced_losses: tuple

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"Γ* = (a = {self.gamma_star.weights[0][0].tolist()}, c = 0) on samples "
                 f"{self.X.tolist()} with labels {self.y.ravel().tolist()}: "
                 + self.certificate.summary()]
        for k, (l, d) in enumerate(zip(self.sequence_losses, self.sequence_distances)):
            lines.append(f"  g_{k}: |g − R(Γ*)|_W1inf = {d:.3g}, loss {l:.6g} "
                         f"(< {self.certificate.loss:.6g})")
        lines.append("  balanced parametrizations of the same realization (a = 0, c = 0) and "
                     "their neighbours (εv, ε): losses " +
                     ", ".join(f"{l:.6g}" for l in self.balanced_losses))
        return "\n".join(lines)

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        return {"X": self.X.tolist(), "y": self.y.tolist(),
                "gamma_star": {"A": np.asarray(self.gamma_star.weights[0]).tolist(),
                               "C": np.asarray(self.gamma_star.weights[1]).T.tolist()},
                "radius": self.radius, "direction": self.direction.tolist(),
                "certificate": self.certificate.to_dict(),
                "sequence_losses": list(self.sequence_losses),
                "sequence_distances": list(self.sequence_distances),
                "balanced_losses": list(self.balanced_losses)}


def example_a1(ks=(1, 10, 100, 1000)):
    """A local minimum in parameter space whose realization is no local minimum (Example A.1).

    Settings (our choice; the paper's numbers are not in our copy): two samples
    ``x_1 = (1, 0)`` with label 0 and ``x_2 = (−1, 1)`` with label 1, MSE, one neuron without
    bias, ``Γ* = (a, c) = ((1, 0), 0)`` — unbalanced (``||a|| = 1``, ``c = 0``), realizing 0.

    * In parameter space ``Γ*`` is a local minimum with radius ``1/2``: a change of every weight
      by at most ``1/2`` rotates ``a`` by at most 45° and keeps ``⟨a', x_2⟩ ≤ 0``
      (:func:`certify_zero_output_minimum`, exact).
    * In realization space ``g_k = ρ(⟨v, x⟩)/k``, ``v = (−1, 1)/√2`` (width one, so
      ``g_k ∈ R(N)``) tends to ``R(Γ*) = 0`` in ``W^{1,∞}`` (distance ``1/k``) with loss
      ``(1 − √2/k)²/2 < 1/2 = L(Γ*)``.
    * The balanced parametrization of 0, ``(0, 0)``, is no local minimum: ``(εv, ε)`` realizes
      ``ε² ρ(⟨v, x⟩)`` with a smaller loss for every small ``ε`` — with balance (inverse
      stability), the two notions of local minimum agree.

    Parameters
    ----------
    ks : sequence of float, default=(1, 10, 100, 1000)
        Indices ``k ≥ 1`` of the sequence.

    Returns
    -------
    ExampleA1
        The data, the minimum ``Γ*`` and its radius, the escape direction with its exact
        certificate, and the sequence's losses and distances.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Example A.1 and Proposition 1.2.
    """
    from .distance import sobolev_distance

    if isinstance(ks, (str, bytes)) or not hasattr(ks, "__len__") or not len(ks):
        raise ValidationError(f"`ks` must be a non-empty sequence of numbers >= 1; got {ks!r}.")
    ks = [check_float("ks[]", k, minimum=1.0, maximum=1e12) for k in ks]
    X = np.array([[1.0, 0.0], [-1.0, 1.0]])
    y = np.array([[0.0], [1.0]])
    star = form_network([[1.0, 0.0]], [[0.0]])
    cert = certify_zero_output_minimum(star, X, y, 0.5)
    v = np.array([-1.0, 1.0]) / np.sqrt(2.0)
    seq, losses, dists = [], [], []
    for k in ks:
        g = form_network([v], [[1.0 / k]])
        seq.append(g)
        losses.append(float(exact_mse(g, X, y)))
        dists.append(sobolev_distance(g, star).value)
    bal = [float(exact_mse(form_network([[0.0, 0.0]], [[0.0]]), X, y))]
    for eps in (0.1, 0.01):
        bal.append(float(exact_mse(form_network([v * eps], [[eps]]), X, y)))
    return ExampleA1(X=X, y=y, gamma_star=star, radius=0.5, direction=v, certificate=cert,
                     sequence=tuple(seq), sequence_losses=tuple(losses),
                     sequence_distances=tuple(dists), balanced_losses=tuple(bal))


def balanced(net):
    """``net`` with every neuron rescaled so that ``||c_k|| = ||a_k||`` (realization unchanged).

    Neurons with ``a = 0`` or ``c = 0`` are set to zero (they realize 0). The rescaling
    ``(a, c) ↦ (λ a, c / λ)``, ``λ > 0``, leaves the realization unchanged by positive
    homogeneity of the ReLU.

    Parameters
    ----------
    net : Network
        Bias-free shallow ReLU network.

    Returns
    -------
    Network
        The balanced network (condition C.1), same width.

    See Also
    --------
    topoanalysis.degeneracy.canonical_form, probe_realizations

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Theorem 3.1
           (condition C.1, balancedness), Section 2 (unbalanced parametrizations break inverse
           stability) and Example A.1.
    """
    form = shallow_form(net, "none")
    A, C = form.A.copy(), form.C.copy()
    na, nc = np.linalg.norm(A, axis=1), np.linalg.norm(C, axis=1)
    ok = (na > 0) & (nc > 0)
    s = np.ones(len(A))
    s[ok] = np.sqrt(nc[ok] / na[ok])
    A, C = A * s[:, None], C / s[:, None]
    A[~ok], C[~ok] = 0.0, 0.0
    return form_network(A, C)


@dataclasses.dataclass(frozen=True)
class LocalMinimumProbe:
    """Seeded sampling of the ``∞``-ball around ``Γ*``: the lowest loss found (evidence only)."""

    radius: float
    loss: float
    min_loss: float
    samples: int
    seed: int

    @property
    def no_lower_found(self):
        """Whether no sampled perturbation had a lower loss than ``Γ*``."""
        return bool(self.min_loss >= self.loss)

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"{self.samples} samples of the |·|_inf ball of radius {self.radius:g}: lowest "
                f"loss {self.min_loss:.6g} vs L(Γ*) = {self.loss:.6g} "
                f"({'none lower' if self.no_lower_found else 'LOWER FOUND'}; sampling is "
                "evidence, not a proof)")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        return dataclasses.asdict(self) | {"no_lower_found": self.no_lower_found}


def _mse(A, C, X, y):
    out = np.maximum(X @ A.T, 0.0) @ C
    return float(np.mean((out - y) ** 2))


def probe_local_minimum(net, X, y, radius, *, samples=2000, seed=0):
    """Sample ``Γ' = Γ* + U`` (``U`` uniform in the ``∞``-ball, half on its boundary) and report
    the lowest MSE found.

    Parameters
    ----------
    net : Network
        Bias-free shallow ReLU network ``Γ*``.
    X : array_like of shape (N, d)
        Samples.
    y : array_like of shape (N,) or (N, e)
        Labels.
    radius : float
        Radius ``r > 0`` of the ``|·|_∞`` ball around ``Γ*``.
    samples : int, default=2000
        Number of perturbations, in ``[1, 10^7]``.
    seed : int, default=0
        Seed of the perturbations.

    Returns
    -------
    LocalMinimumProbe
        The loss of ``Γ*`` and the lowest loss sampled (evidence, not a proof).

    See Also
    --------
    certify_zero_output_minimum : The exact certificate.
    probe_realizations : The realization-space side.

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Proposition 1.2
           and Example A.1 (local minima of ``L∘R`` in parameter space).
    """
    form = shallow_form(net, "none")
    X, y = _xy(X, y, form.dim)
    r = check_float("radius", radius, minimum=0.0, strict_min=True)
    samples = check_int("samples", samples, minimum=1, maximum=10_000_000)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    A, C = form.A, form.C
    best = np.inf
    for k in range(samples):
        dA = rng.uniform(-r, r, size=A.shape)
        dC = rng.uniform(-r, r, size=C.shape)
        if k % 2:                                   # push one coordinate to the boundary
            dA = np.sign(dA) * r
            dC = np.sign(dC) * r
        best = min(best, _mse(A + dA, C + dC, X, y))
    return LocalMinimumProbe(radius=r, loss=_mse(A, C, X, y), min_loss=float(best),
                             samples=samples, seed=seed)


@dataclasses.dataclass(frozen=True)
class RealizationProbe:
    """Realizations ``g = R(Φ)`` near ``R(Γ*)``: function and parameter distances and losses."""

    delta: float
    loss: float
    sobolev: np.ndarray
    parameter: np.ndarray
    parameter_exact: np.ndarray
    losses: np.ndarray
    in_restricted: np.ndarray
    seed: int

    @property
    def max_ratio(self):
        """Largest ``dist / |dR|^{1/2}`` over the realizations with ``|dR| > 0`` (0 when none)."""
        ok = self.sobolev > 0
        return float(np.max(self.parameter[ok] / np.sqrt(self.sobolev[ok]))) if ok.any() else 0.0

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"{len(self.losses)} restricted realizations g with |g − R(Γ*)|_W1inf ≤ "
                f"{self.delta:.3g}: parameter distance ≤ {self.parameter.max():.3g} (max "
                f"dist/|dR|^1/2 = {self.max_ratio:.3g}), lowest loss {self.losses.min():.6g} vs "
                f"L(Γ*) = {self.loss:.6g}")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        return {"delta": self.delta, "loss": self.loss, "sobolev": self.sobolev.tolist(),
                "parameter": self.parameter.tolist(),
                "parameter_exact": [bool(x) for x in self.parameter_exact],
                "losses": self.losses.tolist(), "in_restricted": [bool(x) for x in
                                                                   self.in_restricted],
                "max_ratio": self.max_ratio, "seed": self.seed}


def probe_realizations(net, X, y, delta, *, samples=20, seed=0):
    """Sample balanced ``Φ`` near ``Γ*`` with ``|R(Φ) − R(Γ*)|_{W^{1,∞}} ≤ δ`` (exact).

    A realization within a small ``δ`` in ``W^{1,∞}`` keeps the hyperplanes of ``R(Γ*)`` (moving
    one opens a wedge where the gradients differ by ``|c| ||a||``), so each ``Φ`` keeps the
    weight directions of ``Γ*`` and rescales every neuron's size by a random factor
    ``1 + t u_k`` (``u_k`` standard normal, 24-bit factors on 24-bit weights: the directions stay
    exact), then is balanced; ``t`` is halved until the exact ``W^{1,∞}`` distance is at most
    ``δ``. ``Γ*`` itself is first rounded to 24-bit weights and balanced (``c = ±||a||``); that
    network is the one compared with.

    Parameters
    ----------
    net : Network
        Bias-free shallow ReLU network ``Γ*``.
    X : array_like of shape (N, d)
        Samples.
    y : array_like of shape (N,) or (N, e)
        Labels.
    delta : float
        Bound ``δ > 0`` on ``|R(Φ) − R(Γ*)|_{W^{1,∞}}``.
    samples : int, default=20
        Number of realizations ``Φ``, in ``[1, 10000]``.
    seed : int, default=0
        Seed of the size factors.

    Returns
    -------
    RealizationProbe
        For each ``Φ``: the exact ``W^{1,∞}`` distance, the balanced parameter distance to ``Γ*``
        (exact when the weight vectors are independent), the loss and membership in the
        restricted space.

    See Also
    --------
    probe_local_minimum, realization_radius

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: Proposition 1.2
           (a local minimum in parameter space gives one in realization space under inverse
           stability) and Theorem 3.3 (the ``(s, 1/2)`` bound the distances are compared with).
    """
    from .conditions import restricted_space_membership
    from .distance import sobolev_distance
    from .stability import _round_bits, parameter_distance

    form = shallow_form(net, "none")
    X, y = _xy(X, y, form.dim)
    delta = check_float("delta", delta, minimum=0.0, strict_min=True)
    samples = check_int("samples", samples, minimum=1, maximum=10_000)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    A = _round_bits(form.A)
    C = np.where(form.C >= 0, 1.0, -1.0) * np.linalg.norm(A, axis=1, keepdims=True)
    star = form_network(A, C)
    sob, par, ex, los, inr = [], [], [], [], []
    for _ in range(samples):
        u = rng.normal(size=len(A))
        step = 1.0
        for _ in range(200):
            f = _round_bits(np.maximum(1.0 + step * u, 2.0 ** -20))
            A2 = A * f[:, None]                                   # exact: same rays
            C2 = np.where(C >= 0, 1.0, -1.0) * np.linalg.norm(A2, axis=1, keepdims=True)
            phi = form_network(A2, C2)
            d = sobolev_distance(phi, star)
            if d.value <= delta:
                break
            step /= 2
        pd = parameter_distance(star, phi)
        sob.append(d.value)
        par.append(pd.value_balanced)
        ex.append(pd.exact)
        los.append(_mse(A2, C2, X, y))
        inr.append(restricted_space_membership(phi).in_restricted_space)
    return RealizationProbe(delta=delta, loss=_mse(A, C, X, y), sobolev=np.array(sob),
                            parameter=np.array(par), parameter_exact=np.array(ex),
                            losses=np.array(los), in_restricted=np.array(inr), seed=seed)


# --- Theorem 1.3 / A.2: local minima of the realization problem are almost optimal ------------
def almost_optimality_bound(lipschitz, eps, radius, distance):
    """Bound on ``L(f*) − L(g)`` for a local minimum ``f*`` of radius ``r`` (Theorem A.2).

    Setting: ``L`` convex and ``c``-Lipschitz on a normed space, ``f*`` a local minimum of ``L`` on
    a set ``R`` with radius ``r`` (``L(f*) ≤ L(f)`` for ``f ∈ R``, ``||f − f*|| ≤ r``), and every
    point of the segment ``[f*, g]`` within ``ε < r`` of ``R`` (the approximability assumption).
    With ``λ = min(1, (r − ε)/||g − f*||)`` and ``h = f* + λ(g − f*)`` there is ``f ∈ R`` with
    ``||f − h|| ≤ ε``, so ``||f − f*|| ≤ r`` and
    ``L(f*) ≤ L(f) ≤ L(h) + cε ≤ (1 − λ)L(f*) + λL(g) + cε``, i.e.
    ``L(f*) − L(g) ≤ c ε / λ``.

    This is our derivation along the proof outline of Theorem A.2 (the statement's formula is
    not in our copy of the paper); its constants may differ from the paper's.

    Parameters
    ----------
    lipschitz, eps, radius, distance : float
        ``c ≥ 0``, ``ε ≥ 0``, ``r > ε`` and ``||g − f*|| ≥ 0``.

    Returns
    -------
    float
        The bound ``c ε / λ`` on ``L(f*) − L(g)``, with ``λ = min(1, (r − ε)/||g − f*||)``.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Theorem A.2 and Theorem 1.3.
    """
    c = check_float("lipschitz", lipschitz, minimum=0.0)
    eps = check_float("eps", eps, minimum=0.0)
    r = check_float("radius", radius, minimum=0.0, strict_min=True)
    dist = check_float("distance", distance, minimum=0.0)
    if eps >= r:
        raise ValidationError(f"`eps` must be smaller than `radius` ({r}); got {eps}.")
    lam = 1.0 if dist == 0 else min(1.0, (r - eps) / dist)
    return c * eps / lam


# --- Corollary 1.4: the restricted problem is at least as good ---------------------------------
@dataclasses.dataclass(frozen=True)
class RestrictedRepresentative:
    """A network mapped into the restricted space (Corollary 1.4, claim 2)."""

    network: object
    in_restricted_space: bool
    width_before: int
    width: int
    loss_before: float
    loss: float
    max_output_change: float
    exact: bool

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        return (f"restricted representative: width {self.width_before} -> {self.width}, "
                f"{'in' if self.in_restricted_space else 'NOT in'} the restricted space "
                f"(C.1–C.3 on (x, 1, −1)), loss {self.loss_before:.6g} -> {self.loss:.6g} "
                f"(max output change {self.max_output_change:.2g} on the data; decisions "
                f"{'exact' if self.exact else 'with a tolerance'})")

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields as JSON values: arrays and networks' weights as nested lists (ready
            for :func:`topoanalysis.io.write_json`).
        """
        W1, W2 = self.network.weights
        return {"in_restricted_space": self.in_restricted_space,
                "width_before": self.width_before, "width": self.width,
                "loss_before": self.loss_before, "loss": self.loss,
                "max_output_change": self.max_output_change, "exact": self.exact,
                "A": np.asarray(W1).tolist(), "C": np.asarray(W2).T.tolist()}


def restricted_representative(net, X, y, *, loss="mse"):
    """The restricted-space parametrization of ``R(net)`` and its loss on ``(X, y)``.

    :func:`~topoanalysis.degeneracy.canonical_form` with ``augment="c3"`` folds biases into the
    input ``(x, 1, −1)``, drops zero neurons, merges same-ray neurons (exactly) and balances:
    C.1–C.3 hold and the realization on ``(x, 1, −1)`` equals ``R(net)(x)`` up to the rounding of
    merged outputs and of the balancing. So every loss the unrestricted problem attains, the
    restricted one attains (Corollary 1.4, claim 2; Lemma A.6). An output bias becomes one more
    neuron ``(0, …, 0, τ, τ')``.

    Parameters
    ----------
    net : Network
        Shallow ReLU network (biases allowed).
    X : array_like of shape (N, d)
        Samples.
    y : array_like of shape (N,) or (N, e)
        Labels.
    loss : str, default="mse"
        Loss of the comparison (a name :func:`topoanalysis.losses.check_loss` accepts).

    Returns
    -------
    RestrictedRepresentative
        The network in the restricted space, its width and loss before and after, and the
        largest change of the output on ``X``.

    References
    ----------
    Berner, Elbrächter & Grohs, NeurIPS 2019, Corollary 1.4 and Lemma A.6.
    """
    from ..losses import check_loss, loss_value

    loss = check_loss(loss)
    from ._form import _check_net, augment_inputs

    _check_net(net)
    from .canonical import canonical_form
    from .conditions import restricted_space_membership

    X, y = _xy(X, y, net.arch.inputs)
    cf = canonical_form(net, augment="c3", X=X)
    Xa = augment_inputs(X, "c3")
    before = net.forward(X)
    after = cf.network.forward(Xa)
    member = restricted_space_membership(cf.network, augment="none")
    return RestrictedRepresentative(
        network=cf.network, in_restricted_space=member.in_restricted_space,
        width_before=net.arch.hidden[0], width=cf.width,
        loss_before=float(loss_value(loss, before, y)), loss=float(loss_value(loss, after, y)),
        max_output_change=float(np.max(np.abs(after - before))), exact=cf.exact)
