"""The paper's bias-free form of a shallow ReLU network, and the input augmentations.

Berner, Elbrächter & Grohs work with ``R(Θ)(x) = Σ_i c_i ρ(⟨a_i, x⟩)`` (no biases). A network
of the project (``Network``: ``w_k``, ``a_k``, optional biases) enters that setting by
augmenting its input:

* ``"none"``: ``x ↦ x`` (only for networks without any bias);
* ``"bias"``: ``x ↦ (x, 1)``; neuron ``k`` gets the weight vector ``(w_k, b_k)`` and an output
  bias ``β`` becomes one more neuron with weight vector ``(0, …, 0, 1)`` and output ``β``
  (``ρ(1) = 1``);
* ``"c3"``: ``x ↦ (x, 1, −1)``, the paper's two-dimensional augmentation: ``(w, b)`` becomes
  ``(w, b⁺ + τ, b⁻ + τ)`` with a float ``τ > 0`` (``|b|``, or ``||w||`` when ``b = 0``; see
  :func:`c3_augment`: the lift is exact in float64) so that the last two coordinates are strictly positive
  (condition C.3) and ``u − v = b`` keeps the realization on the slice.

Internally a network is the pair ``A`` (``(m, D)``, weight vectors as rows, the paper's
``a_i``) and ``C`` (``(m, e)``, output vectors, the paper's ``c_i``).
"""

import dataclasses

import numpy as np

from .._validation import check_choice
from ..exceptions import NotSupportedError, ValidationError

__all__ = ["ShallowForm", "shallow_form", "form_network", "augment_inputs", "AUGMENTATIONS"]

AUGMENTATIONS = ("none", "bias", "c3")


@dataclasses.dataclass(frozen=True)
class ShallowForm:
    """Bias-free form ``(A, C)`` of a shallow ReLU network.

    Attributes
    ----------
    A : ndarray of shape (m, D)
        Weight vectors (rows), on the augmented input.
    C : ndarray of shape (m, e)
        Output vectors.
    augment : str
        ``"none"``, ``"bias"`` or ``"c3"`` (how the input was augmented).
    inputs : int
        Dimension ``d`` of the original input.
    origin : ndarray of shape (m,)
        Neuron of the source network each row comes from (``-1``: the output bias).
    """

    A: np.ndarray
    C: np.ndarray
    augment: str
    inputs: int
    origin: np.ndarray

    @property
    def width(self):
        return self.A.shape[0]

    @property
    def dim(self):
        return self.A.shape[1]

    @property
    def outputs(self):
        return self.C.shape[1]

    def realization(self, Z):
        """``Σ_i c_i ρ(⟨a_i, z⟩)`` on augmented points ``Z`` of shape ``(N, D)``.

        Parameters
        ----------
        Z : ndarray of shape (N, D)
            Augmented points.

        Returns
        -------
        ndarray of shape (N, e)
            The realization at every point.
        """
        return np.maximum(Z @ self.A.T, 0.0) @ self.C

    def __call__(self, X):
        """Realization on original inputs ``X`` of shape ``(N, d)``."""
        return self.realization(augment_inputs(X, self.augment))

    def to_network(self):
        """The form as a bias-free :class:`~topoanalysis.Network` on ``D`` inputs.

        Returns
        -------
        Network
            The network ``D``-``m``-``e`` without biases.
        """
        return form_network(self.A, self.C)


def augment_inputs(X, augment):
    """Append the augmentation coordinates: ``(x)``, ``(x, 1)`` or ``(x, 1, −1)``.

    Parameters
    ----------
    X : array_like of shape (N, d) or (d,)
        Real, finite inputs (complex input is refused, not truncated).
    augment : {"none", "bias", "c3"}
        Coordinates appended to each row: none, ``1``, or ``(1, −1)``.

    Returns
    -------
    ndarray of shape (N, d), (N, d + 1) or (N, d + 2)
        The augmented inputs (a single row gives shape ``(1, ·)``).

    Raises
    ------
    ValidationError

    See Also
    --------
    shallow_form, topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: condition C.3
           and the augmentation of the input by two coordinates, which also absorbs the
           biases.
    """
    from .._validation import check_array

    augment = check_choice("augment", augment, AUGMENTATIONS)
    X = check_array("X", X, ndim=(1, 2))
    if X.ndim == 1:
        X = X[None, :]
    n = X.shape[0]
    if augment == "none":
        return X
    if augment == "bias":
        return np.concatenate([X, np.ones((n, 1))], axis=1)
    if augment == "c3":
        return np.concatenate([X, np.ones((n, 1)), -np.ones((n, 1))], axis=1)
    raise ValidationError(f"`augment` must be one of {AUGMENTATIONS}; got {augment!r}.")


def _check_net(net, name="net", *, limit=None):
    from ..network import Network

    if not isinstance(net, Network):
        raise ValidationError(f"`{name}` must be a Network; got {type(net).__name__}.")
    if not net.arch.is_shallow:
        raise NotSupportedError(f"`{name}` must be shallow (one hidden layer); "
                                f"got hidden widths {net.arch.hidden}.")
    if net.arch.activation != "relu":
        raise NotSupportedError(f"`{name}` must use the ReLU activation (the paper's setting); "
                                f"got {net.arch.activation!r}.")
    if net.arch.output_activation != "linear":
        raise NotSupportedError(f"`{name}` must have a linear output unit (the paper's "
                                f"realization); got output_activation="
                                f"{net.arch.output_activation!r}.")
    if limit is not None:
        from .._validation import check_magnitude

        check_magnitude(name, net.params, limit, what="parameters")
    return net


#: Largest parameter magnitude the degeneracy tests and the canonical form accept (their norms
#: square the weights; the distances scale or decide in rationals instead).
MAX_PARAMETER = 1e150


def shallow_form(net, augment=None, *, name="net"):
    """Bias-free form of a shallow ReLU network.

    Parameters
    ----------
    net : Network
        Shallow ReLU network.
    augment : {"none", "bias", "c3"} or None
        Input augmentation (module docstring). ``None``: ``"none"`` when the network has no
        biases, ``"bias"`` otherwise.
    name : str, default="net"
        Name of the argument, for error messages.

    Returns
    -------
    ShallowForm
        The weight vectors ``A`` (rows, on the augmented input) and output vectors ``C`` of
        the bias-free form, with the augmentation.

    Raises
    ------
    ValidationError
        ``augment="none"`` for a network with biases.

    See Also
    --------
    augment_inputs, topoanalysis.degeneracy.canonical_form

    References
    ----------
    .. [1] J. Berner, D. Elbrächter, P. Grohs, "How degenerate is the parametrization of
           neural networks with the ReLU activation function?", NeurIPS 2019: two-layer
           networks without biases, R(Θ)(x) = Σ_i c_i ρ(⟨a_i, x⟩).
    """
    _check_net(net, name)
    has_bias = net.arch.hidden_bias or net.arch.output_bias
    if augment is None:
        augment = "bias" if has_bias else "none"
    augment = check_choice("augment", augment, AUGMENTATIONS)
    if augment == "none" and has_bias:
        raise ValidationError("`augment` must be 'bias' or 'c3' for a network with biases; "
                              "got 'none'.")
    (W1, b1), (W2, b2) = net.arch.unpack(net.params)
    A = np.array(W1, dtype=np.float64)
    C = np.array(W2.T, dtype=np.float64)
    origin = np.arange(A.shape[0])
    if augment == "none":
        return ShallowForm(A, C, "none", net.arch.inputs, origin)
    b = np.zeros(A.shape[0]) if b1 is None else np.array(b1)
    A = np.concatenate([A, b[:, None]], axis=1)
    if b2 is not None and np.any(b2 != 0):
        row = np.zeros((1, A.shape[1]))
        row[0, -1] = 1.0
        A = np.concatenate([A, row])
        C = np.concatenate([C, np.asarray(b2, dtype=np.float64)[None, :]])
        origin = np.concatenate([origin, [-1]])
    form = ShallowForm(A, C, "bias", net.arch.inputs, origin)
    return c3_augment(form) if augment == "c3" else form


def c3_augment(form, *others):
    """``(w, b)`` on ``(x, 1)`` ↦ ``(w, b⁺ + τ, b⁻ + τ)`` on ``(x, 1, −1)``, exact in float64.

    Parameters
    ----------
    form : ShallowForm
        Form with ``augment`` ``"bias"`` or ``"none"`` (a ``"c3"`` form is returned as is).
    *others : ShallowForm
        Forms lifted together with ``form`` (the rows of all of them on one ray get one ``τ``
        rule, so that they stay on one ray); one form is returned per argument.

    Returns
    -------
    ShallowForm or tuple of ShallowForm
        The lifted forms: every row exactly ``(w, b⁺ + τ, b⁻ + τ)`` for its ``τ > 0``, rows on
        one ray of ``(w, b)`` on one ray, rows on different rays on different rays.

    Raises
    ------
    ValidationError
        No rule below is exact: a bias that is the largest float, or a bias
        ``|b| ≥ 2¹⁰²³`` on one ray with another row by a ratio that is not a power of two.

    Notes
    -----
    Any ``τ > 0`` gives a valid lift (Berner et al. only need the last two coordinates
    strictly positive, C.3, and ``u − v = b``). The float lift with ``τ = fl(||(w, b)||)``
    rounds ``b⁺ + τ`` for about two thirds of random neurons (a bias ``1e-20`` next to
    ``||w|| = 1`` is lost and two rays share a row), and ``fl(||·||)`` is not homogeneous
    (``fl(√18) ≠ 3 fl(√2)``: one ray splits). A bias with a full significand admits no exact
    ``τ`` much above ``2|b|`` (``b + τ`` would need more than 53 bits). So ``τ`` is chosen per
    class of rows on one ray of ``(w, b)`` (decided exactly), the first rule that is exact for
    every row of the class (checked in rationals: ``u = b⁺ + τ``, ``v = b⁻ + τ`` and
    ``τ_k / λ_k`` constant over the class, ``(w_k, b_k) = λ_k n``):

    * ``b ≠ 0``: ``τ = |b|``, the rows ``(w, 2b, b)`` or ``(w, |b|, 2|b|)``; else (only for
      ``|b| ≥ 2¹⁰²³``) ``τ = ulp(b)``. A fixed rule, not the first exact one: which ``τ`` is
      exact depends on the last bits, so a rounded rescaling of the network would jump to
      another lift (and the canonical form with it).
    * ``b = 0``: ``τ = fl(||w||)`` (``0 + τ`` never rounds; homogeneous on the class under
      power-of-two ratios), else ``τ = 2^p ||w||_∞ ≥ fl(||w||)``, else ``||w||_∞``.

    Proof that the rules keep rays and are exact. If ``z' = λ z`` (``λ > 0``) for float
    vectors, then ``|b'| = λ |b|`` and ``||z'||_∞ = λ ||z||_∞`` exactly (an absolute value and
    a maximum round nothing), and ``2^p`` is exact barring overflow; so ``τ' = λ τ``, and with
    exact additions the lifted rows are ``λ``-multiples: one ray. Conversely
    ``(w, u − v) = (w, b)`` recovers the row, so distinct rays stay distinct. ``|b| + |b| =
    2|b|`` is exact (only the exponent changes; subnormals included) unless ``|b| ≥ 2¹⁰²³``;
    then ``|b| = M ulp(b)`` with an integer ``2⁵² ≤ M < 2⁵³`` and ``|b| + ulp(b) = (M + 1)
    ulp(b)`` has at most 53 bits: exact unless ``|b|`` is the largest float (``ulp`` is
    homogeneous only under power-of-two ratios, checked). If no rule is exact the input is
    refused: no result rests on a rounded lift.

    The margin of C.3 is ``|b|`` for ``b ≠ 0``. The lift (and so a ``W^{1,∞}`` distance on the
    lifted space) depends on the ``τ`` chosen; the realization on ``(x, 1, −1)`` does not.
    """
    forms = (form,) + others
    lifted = [f.augment == "c3" for f in forms]
    if any(lifted):
        if all(lifted):
            return form if not others else forms
        raise ValidationError("`form` must be lifted together with forms of the same "
                              "augmentation; got a mix of 'c3' and others.")
    rows = []
    for f in forms:
        rows.append(np.concatenate([f.A, np.zeros((f.width, 1))], axis=1)
                    if f.augment == "none" else f.A)
    Z = np.concatenate(rows) if rows else np.zeros((0, 1))
    A3, ok = _c3_rows(Z)
    if not np.all(ok):
        k = int(np.flatnonzero(~ok)[0])
        raise ValidationError(f"`augment` 'c3' needs biases with an exact float lift "
                              f"(|b| below 2^1023 always has one, see "
                              f"c3_augment); got |b| = {abs(Z[k, -1]):.6g}.")
    out, start = [], 0
    for f in forms:
        n = f.width
        out.append(ShallowForm(A3[start:start + n], f.C.copy(), "c3", f.inputs,
                               f.origin.copy()))
        start += n
    return out[0] if not others else tuple(out)


def _c3_rows(Z):
    """The lifted rows of ``Z`` (rows ``(w, b)``) and, per row, whether the lift is exact."""
    from fractions import Fraction

    from ._exact import ray_key

    Z = np.asarray(Z, dtype=np.float64)
    m = Z.shape[0]
    w, b = Z[:, :-1], Z[:, -1]
    A3 = np.zeros((m, Z.shape[1] + 1))
    A3[:, :-2] = w
    ok = np.ones(m, dtype=bool)
    classes = {}
    for k in range(m):
        rk = ray_key(Z[k])
        if rk is not None:                      # a zero row lifts to zero (a zero neuron)
            classes.setdefault(rk[0], []).append((k, rk[1]))
    with np.errstate(over="ignore", invalid="ignore"):
        norms = np.linalg.norm(Z, axis=1)
        sup = np.abs(Z).max(axis=1, initial=0.0)
    for members in classes.values():
        idx = np.array([k for k, _ in members])
        lam = [lm for _, lm in members]
        bk = b[idx]
        if bk[0] != 0:
            # a fixed rule, not the first exact one: which rule is exact depends on the last
            # bits, so a rounded rescaling of the network would jump to another lift
            cands = [np.abs(bk), np.ldexp(1.0, np.frexp(bk)[1] - 53)]
        else:
            p = 0
            with np.errstate(over="ignore"):
                while p < 64 and not np.all(np.ldexp(sup[idx], p) >= norms[idx]):
                    p += 1                      # ||z||_2 <= √D ||z||_∞ <= 2^p ||z||_∞
                cands = [norms[idx], np.ldexp(sup[idx], p), sup[idx]]
        for tau in cands:
            with np.errstate(over="ignore", invalid="ignore"):
                u = np.maximum(bk, 0.0) + tau
                v = np.maximum(-bk, 0.0) + tau
            if _exact_lift(bk, tau, u, v, lam, Fraction):
                A3[idx, -2] = u
                A3[idx, -1] = v
                break
        else:
            ok[idx] = False
    return A3, ok


def _exact_lift(b, tau, u, v, lam, Fraction):
    """``u = b⁺ + τ``, ``v = b⁻ + τ`` exactly, ``τ > 0`` finite, ``τ_k / λ_k`` constant."""
    if not (np.all(np.isfinite(u)) and np.all(np.isfinite(v)) and np.all(tau > 0)):
        return False
    t0 = None
    for bk, tk, uk, vk, lk in zip(b.tolist(), tau.tolist(), u.tolist(), v.tolist(), lam):
        fb, ft = Fraction(bk), Fraction(tk)
        if Fraction(uk) != max(fb, 0) + ft or Fraction(vk) != max(-fb, 0) + ft:
            return False
        r = ft / lk
        if t0 is None:
            t0 = r
        elif r != t0:
            return False
    return True


def form_network(A, C):
    """Bias-free shallow ReLU ``Network`` with weight vectors ``A`` (rows) and outputs ``C``."""
    from ..network import Network

    A = np.asarray(A, dtype=np.float64)
    C = np.asarray(C, dtype=np.float64)
    if A.shape[0] == 0:
        A = np.zeros((1, A.shape[1]))
        C = np.zeros((1, C.shape[1]))
    return Network.from_weights([A, C.T], None, activation="relu")


def pair_forms(net_a, net_b, augment=None):
    """Forms of two networks on a common augmented input (lifted together)."""
    _check_net(net_a, "net_a")
    _check_net(net_b, "net_b")
    if net_a.arch.inputs != net_b.arch.inputs or net_a.arch.outputs != net_b.arch.outputs:
        raise ValidationError(
            f"`net_b` must have the input/output dimensions of `net_a` "
            f"({net_a.arch.inputs}, {net_a.arch.outputs}); got "
            f"({net_b.arch.inputs}, {net_b.arch.outputs}).")
    if augment is None:
        biased = any(n.arch.hidden_bias or n.arch.output_bias for n in (net_a, net_b))
        augment = "bias" if biased else "none"
    if check_choice("augment", augment, AUGMENTATIONS) == "c3":
        # lifted together: rows of both networks on one ray of (w, b) stay on one ray
        return c3_augment(shallow_form(net_a, "bias", name="net_a"),
                          shallow_form(net_b, "bias", name="net_b"))
    return shallow_form(net_a, augment, name="net_a"), shallow_form(net_b, augment, name="net_b")
