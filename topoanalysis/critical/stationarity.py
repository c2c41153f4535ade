"""Exact directional stationarity of a shallow ReLU-like network (linear programs, no sampling).

Wu, Simsek & Ged (arXiv 2402.05626) study **directional stationary points**: points where
every one-sided directional derivative of the loss is ``>= 0``. This is stronger than Clarke
stationarity (``0`` in the convex hull of nearby gradients), which also holds at points with
a strict descent direction, e.g. at the top of ``-|x|``.

With ``r_n = ∂L/∂f(x_n)`` and ``F_k`` of :func:`~topoanalysis.critical.kinks.neuron_first_order_map`,
the directional derivative separates over neurons
(:func:`~topoanalysis.critical.kinks.directional_derivative`), so ``θ`` is directionally
stationary exactly when

1. **output weights**: ``G_k = Σ_n r_n ρ(w_k · x̃_n) = 0`` for every neuron (and
   ``Σ_n r_n = 0`` when there is an output bias, one more linear parameter);
2. **radial direction** of each ``w_k``: ``a_k · F_k(±w_k) = 0`` (implied by 1, reported apart);
3. **tangential directions**: ``min_u a_k · F_k(u) >= 0``, where
   ``a_k · F_k(u) = g · u + Σ_{n on the hyperplane} c_n ρ(u · x̃_n)``, ``c_n = a_k · r_n``.

Condition 3 is decided exactly by linear programming over the box ``||u||_∞ <= 1`` (the
function is positively homogeneous, so its minimum is ``0`` or it is unbounded below):
kink samples with ``c_n >= 0`` enter through epigraph variables (convex: "``−g`` lies in the
zonotope the kink samples span"), and the samples with ``c_n < 0`` are split into their sign
pieces, one LP (SciPy's HiGHS) per piece.

Loss convention: ``mse`` is the mean over the ``N·e`` entries (``nn.MSELoss``); the paper's
``½ Σ_n ||f(x_n) − y_n||²`` differs by the positive factor ``N e / 2``, which scales every
directional derivative and none of the verdicts.
"""

import dataclasses
import itertools

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int
from ..exceptions import NotSupportedError, ShapeError, ValidationError
from ._point import check_tol, safe_norm, shallow_point
from .kinks import _directional_derivative, _first_order_map, kink_mask

__all__ = ["StationarityReport", "stationarity", "tangential_minimum"]


def tangential_minimum(g, kink_inputs, coefficients, negative_slope=0.0, *, max_pieces=4096):
    """Minimum over ``||u||_∞ <= 1`` of ``g·u + Σ_n c_n ρ(u · x_n)``, exactly (LPs).

    Parameters
    ----------
    g : array_like of shape (D,)
        Linear part of the objective.
    kink_inputs : array_like of shape (m, D)
        The kink samples ``x_n``.
    coefficients : array_like of shape (m,)
        ``c_n``.
    negative_slope : float, default=0.0
        ``ρ(z) = max(z, αz)`` with ``α`` in ``[0, 1)``.
    max_pieces : int, default=4096
        Refuse more than this many sign pieces (``2^{#(c_n < 0)}``).

    Returns
    -------
    value : float
        The minimum (``0`` when the tangential condition holds, ``< 0`` otherwise).
    u : ndarray of shape (D,)
        A minimizer (a descent direction when ``value < 0``).
    n_lps : int
        Linear programs solved.

    See Also
    --------
    stationarity

    Notes
    -----
    ``ρ(z) = αz + (1 − α) max(z, 0)``. The terms with ``c_n > 0`` are convex and use epigraph
    variables ``t_n >= max(x_n·u, 0)``; each term with ``c_n < 0`` is linear on either side of
    its hyperplane, giving ``2^{#(c_n<0)}`` LPs of ``D + #(c_n>0)`` variables.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           tangential stationarity condition of a neuron with samples on its hyperplane.

    Examples
    --------
    >>> import numpy as np
    >>> v, u, n = tangential_minimum([0.0, -1.0], [[0.0, 1.0]], [2.0])   # −g in the zonotope
    >>> v
    0.0
    >>> v, u, n = tangential_minimum([0.0, -1.0], [[0.0, 1.0]], [0.5])   # not: descent
    >>> round(v, 12), float(u[1])
    (-0.5, 1.0)
    """
    g = check_array("g", g, ndim=1)
    D = g.size
    if D == 0:
        raise ShapeError("`g` must have at least one entry; got shape (0,).")
    Xk = check_array("kink_inputs", kink_inputs, ndim=(1, 2))
    if Xk.ndim == 1 and Xk.size == 0:
        Xk = Xk.reshape(0, D)
    Xk = Xk.reshape(1, -1) if Xk.ndim == 1 else Xk
    if Xk.shape[1] != D:
        raise ShapeError(f"`kink_inputs` must have shape (m, {D}) (one row per kink sample, as "
                         f"many columns as `g`); got shape {Xk.shape}.")
    c = check_array("coefficients", coefficients, ndim=(0, 1)).reshape(-1)
    if c.size != Xk.shape[0]:
        raise ShapeError(f"`coefficients` must have one entry per row of `kink_inputs` "
                         f"({Xk.shape[0]}); got {c.size}.")
    alpha = check_float("negative_slope", negative_slope, minimum=0.0, maximum=1.0,
                        strict_max=True)
    max_pieces = check_int("max_pieces", max_pieces, minimum=1)
    # positively homogeneous: scale each kink row to unit max-norm (its coefficient takes the
    # factor), then the whole objective to unit size; the minimum scales back at the end
    rows = np.max(np.abs(Xk), axis=1) if Xk.size else np.zeros(0)
    keep = rows > 0
    Xk, c, rows = Xk[keep] / rows[keep, None], c[keep], rows[keep]
    row_big = float(np.max(rows, initial=0.0)) or 1.0
    g_r = g / row_big
    A = max(float(np.max(np.abs(g_r), initial=0.0)), float(np.max(np.abs(c), initial=0.0)))
    if A == 0:
        return 0.0, np.zeros(D), 0
    g_unit, c_unit = g_r / A, (c / A) * (rows / row_big)
    value, u, n_lps = _tangential_minimum_unit(g_unit, Xk, c_unit, alpha, max_pieces)
    with np.errstate(over="ignore"):
        value = value * A * row_big
    if not np.isfinite(value):
        raise ValidationError(
            f"the tangential minimum is below -1e308 (`g`, `kink_inputs` and `coefficients` "
            f"of sizes up to {np.max(np.abs(g)):.3g}, {row_big:.3g}, "
            f"{np.max(np.abs(c), initial=0.0):.3g}); rescale them.")
    return float(value), u, n_lps


def _tangential_minimum_unit(g, Xk, c, alpha, max_pieces, duals=None):
    """:func:`tangential_minimum` on validated, scaled inputs (entries of size <= 1).

    With a list ``duals``, appends ``(pos, neg, signs, y)`` per solved piece: the indices of
    the convex and the split kink rows, the piece's signs and the LP's dual multipliers
    (``y >= 0``, one per inequality row, the convex rows first).
    """
    from scipy.optimize import linprog   # imported here: SciPy's LP solver is slow to load

    D = g.size
    g_lin = g + alpha * (c @ Xk)
    cc = (1.0 - alpha) * c
    pos, neg = np.flatnonzero(cc > 0), np.flatnonzero(cc < 0)
    if pos.size == 0 and neg.size == 0:
        u = -np.sign(g_lin)
        if duals is not None:
            duals.append((pos, neg, (), np.zeros(0)))
        return float(g_lin @ u), u, 0
    if 2 ** neg.size > max_pieces:
        raise NotSupportedError(
            f"`max_pieces` ({max_pieces}) is below the 2^{neg.size} sign pieces of this neuron's "
            f"kink samples with negative coefficient.")
    n_t = pos.size
    bounds = [(-1.0, 1.0)] * D + [(0.0, None)] * n_t
    A_pos = np.zeros((n_t, D + n_t))
    A_pos[:, :D] = Xk[pos]
    A_pos[np.arange(n_t), D + np.arange(n_t)] = -1.0
    best = (np.inf, np.zeros(D))
    n_lps = 0
    for signs in itertools.product((1.0, -1.0), repeat=neg.size):
        cost = np.concatenate([g_lin, cc[pos]])
        rows = [A_pos]
        for s, n in zip(signs, neg):
            row = np.zeros((1, D + n_t))
            row[0, :D] = -s * Xk[n]                      # s · x_n·u >= 0
            rows.append(row)
            if s > 0:
                cost[:D] += cc[n] * Xk[n]
        A = np.concatenate(rows) if len(rows) > 1 else A_pos
        res = linprog(cost, A_ub=A if A.shape[0] else None,
                      b_ub=np.zeros(A.shape[0]) if A.shape[0] else None,
                      bounds=bounds, method="highs")
        n_lps += 1
        if duals is not None:
            y = (np.maximum(-np.asarray(res.ineqlin.marginals), 0.0)
                 if res.status == 0 and A.shape[0] else np.zeros(A.shape[0]))
            duals.append((pos, neg, signs, y))
        if res.status == 0 and res.fun < best[0]:
            best = (float(res.fun), np.array(res.x[:D]))
    value, u = best
    if value > 0:               # u = 0 is feasible in every piece: round-off only
        value, u = 0.0, np.zeros(D)
    return value, u, n_lps


def _tangential_exact(g, Xk, c, alpha, max_pieces, tol):
    """The tangential minimum of one neuron, decided in exact rational arithmetic.

    ``g`` (length ``D``) and ``c`` (length ``m``) are exact (``fmpq``), ``Xk`` float rows (exact
    as they are). The LPs run on the rounded data; their answers are then proved:

    * a **failure** by the primal point ``u`` (clipped to the box): ``g·u + Σ c_n ρ(x_n·u)``
      in rationals ``< −tol``;
    * a **hold** by weak duality, per sign piece: with the LP's multipliers ``y >= 0`` (clipped
      so the epigraph variables' reduced costs are ``>= 0``), the minimum over the piece is at
      least ``−||cost_u + Aᵀy||_1`` (exact), and the neuron's minimum is the smallest piece.

    The data are first multiplied by a power of two ``S`` (exact) that brings them to size
    about 1, so data far below the float range (residuals of ``1e-170``, whose products
    underflow) reach the LP intact; ``tol`` is compared in the same units (``tol · S``).

    Returns ``(value_float, u, n_lps, certificate)`` with ``certificate`` a dict: ``bound``
    (the proved lower bound, or the proved value of ``u``), ``proved`` (bool), ``fails``
    (the decision: the condition fails by more than ``tol`` only when a direction proves it
    in rationals; an answer neither proof closes is reported with ``proved=False``) and
    ``how``.
    """
    from ._exact import fmpq, pow2_scale, to_float

    D = len(g)
    S0 = pow2_scale(list(g) + list(c))
    g = [v * S0 for v in g]
    c = [v * S0 for v in c]
    tolq = fmpq(tol) * S0

    def back(q):                                       # a scaled rational in the caller's units
        return to_float(q / S0)

    gf = np.array([to_float(v) for v in g])
    cf = np.array([to_float(v) for v in c])
    duals = []
    # the same scaling as tangential_minimum (rows to unit max-norm, objective to unit size)
    rows = np.max(np.abs(Xk), axis=1) if Xk.size else np.zeros(0)
    keep = rows > 0
    Xs, cs, rws = Xk[keep] / rows[keep, None], cf[keep], rows[keep]
    row_big = float(np.max(rws, initial=0.0)) or 1.0
    A_s = max(float(np.max(np.abs(gf / row_big), initial=0.0)),
              float(np.max(np.abs(cs), initial=0.0))) or 1.0
    value, u, n_lps = _tangential_minimum_unit(gf / row_big / A_s, Xs,
                                               (cs / A_s) * (rws / row_big), alpha, max_pieces,
                                               duals)
    value = value * A_s * row_big
    S = A_s * row_big
    Xq = [[fmpq(v) for v in row] for row in Xk[keep]]
    cq = [cv for cv, k in zip(c, keep) if k]
    aq = fmpq(alpha)
    one = fmpq(1)

    def rho_q(z):
        return z if z > 0 else aq * z

    def dot(xs, us):
        return sum((a * b for a, b in zip(xs, us)), fmpq(0))

    m = max(1.0, float(np.max(np.abs(u), initial=0.0)))
    uq = [fmpq(v) / fmpq(m) for v in u]
    val = dot(g, uq) + sum((cv * rho_q(dot(x, uq)) for cv, x in zip(cq, Xq)), fmpq(0))
    if val < -tolq:                                    # the failure, proved by the primal u
        return back(val), u / m, n_lps, {
            "bound": back(val), "proved": True, "fails": True,
            "how": "exact value of the LP's descent direction"}
    # prove the hold: the smallest weak-duality bound over the pieces
    glin = [g[i] + aq * sum((cq[n] * Xq[n][i] for n in range(len(cq))), fmpq(0))
            for i in range(D)]
    cc = [(one - aq) * cv for cv in cq]
    worst = None
    for pos, neg, signs, y in duals:
        cost = list(glin)
        for sgn, n in zip(signs, neg):
            if sgn > 0:
                for i in range(D):
                    cost[i] += cc[n] * Xq[n][i]
        red = list(cost)
        extra = fmpq(0)
        for n in range(len(cq)):                       # rows the scaled LP lost (underflow)
            if n not in pos and n not in neg and cc[n] < 0:
                extra += cc[n] * sum((abs(v) for v in Xq[n]), fmpq(0))
        for r, n in enumerate(pos):                    # convex rows: x_n·u − t_n <= 0
            yn = fmpq(S * float(y[r]) / rws[n]) if r < len(y) else fmpq(0)
            if cc[n] < 0:                              # rounding flipped the sign: bound it
                extra += cc[n] * sum((abs(v) for v in Xq[n]), fmpq(0))
                continue
            if yn > cc[n]:
                yn = cc[n]                             # reduced cost of t_n stays >= 0
            for i in range(D):
                red[i] += yn * Xq[n][i]
        for r, (sgn, n) in enumerate(zip(signs, neg)):  # cone rows: −s x_n·u <= 0
            j = len(pos) + r
            yn = fmpq(S * float(y[j]) / rws[n]) if j < len(y) else fmpq(0)
            for i in range(D):
                red[i] -= yn * fmpq(sgn) * Xq[n][i]
        bound = -sum((abs(v) for v in red), fmpq(0)) + extra
        worst = bound if worst is None or bound < worst else worst
    if worst is None:
        worst = fmpq(0)
    proved = bool(worst >= -tolq)
    value_back = back(fmpq(value)) if np.isfinite(value) else value
    if proved:
        return value_back, u, n_lps, {
            "bound": back(worst), "proved": True, "fails": False,
            "how": "weak duality from the LP's multipliers, in rationals"}
    # neither proof closes: the LP's own direction is not a descent direction beyond tol (its
    # exact value was computed above), so the condition is not declared failed on the LP's
    # rounded value alone; reported as not proved
    return value_back, u, n_lps, {
        "bound": back(worst), "proved": False, "fails": False,
        "how": "weak duality from the LP's multipliers, in rationals (not closed; the LP's "
               "direction is no descent direction in rationals)"}


@dataclasses.dataclass(frozen=True, eq=False)
class StationarityReport:
    """Outcome of :func:`stationarity`.

    Attributes
    ----------
    is_stationary : bool
        Every condition holds within ``tol``.
    conditions : list of dict
        Per neuron: ``output`` (``||G_k||``), ``radial`` (``max |a_k·F_k(±ŵ_k)|``),
        ``tangential`` (the LP minimum over ``||u||_∞ <= 1``, ``<= 0``), ``kink_samples``,
        ``lps`` (linear programs solved).
    output_bias : float or None
        ``||Σ_n r_n||`` when the network has an output bias.
    failures : list of dict
        ``{"condition", "neuron", "amount"}`` for every violated condition (neuron None for
        the output bias).
    descent_direction : ndarray of shape (P,) or None
        A unit direction (flat layout) with negative one-sided derivative, when not stationary.
    descent_slope : float or None
        Its one-sided directional derivative (checked by
        :func:`~topoanalysis.critical.kinks.directional_derivative`).
    loss : float
    tol, kink_tol : float
    certificate : dict or None
        ``arithmetic`` (how the conditions were decided), ``all_proved`` (``certify="exact"``:
        every output condition compared in rationals, every LP answer proved — a failure by
        the exact value of its descent direction, a hold by an exact weak-duality bound;
        None for ``certify="float"``) and ``unproved`` (neurons whose LP answer could not be
        proved; their exact bound is used instead).
    """

    is_stationary: bool
    conditions: list
    output_bias: object
    failures: list
    descent_direction: object
    descent_slope: object
    loss: float
    tol: float
    kink_tol: float
    certificate: object = None

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"is_stationary": self.is_stationary, "loss": self.loss, "tol": self.tol,
                "kink_tol": self.kink_tol, "certificate": self.certificate,
                "conditions": self.conditions,
                "output_bias": self.output_bias, "failures": self.failures,
                "descent_direction": None if self.descent_direction is None
                else self.descent_direction.tolist(),
                "descent_slope": self.descent_slope}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"directional stationarity (tol {self.tol:g}): "
                 + ("holds" if self.is_stationary else f"fails ({len(self.failures)} conditions)")
                 + ("" if not self.certificate or self.certificate["all_proved"] is None else
                    ", proved in exact rationals" if self.certificate["all_proved"] else
                    f", LP answers not proved for neurons {self.certificate['unproved']}")]
        for f in self.failures[:10]:
            where = "output bias" if f["neuron"] is None else f"neuron {f['neuron']}"
            lines.append(f"  {f['condition']} condition fails at {where} by {f['amount']:.3g}")
        if self.descent_direction is not None:
            lines.append(f"  descent direction with one-sided slope {self.descent_slope:.3g}")
        return "\n".join(lines)


def stationarity(net, X, y, *, loss="mse", kink_tol=1e-9, tol=1e-8, max_pieces=4096,
                 certify="exact"):
    """Decide exactly whether ``net`` is a directional stationary point of the loss on ``(X, y)``.

    Parameters
    ----------
    net : Network
        Shallow, ReLU or leaky ReLU, any output dimension, hidden/output biases optional.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    loss : {"mse", "bce"}, default="mse"
        ``bce`` (convex in the outputs) is accepted as an extension of the paper's squared loss.
    kink_tol : float, default=1e-9
        Relative tolerance for a sample to count as on a hyperplane.
    tol : float, default=1e-8
        A condition holds when violated by at most ``tol`` (loss units per unit direction).
    max_pieces : int, default=4096
        Passed to :func:`tangential_minimum`.
    certify : {"exact", "float"}, default="exact"
        ``"exact"``: residuals, gradients and kink signs in rationals from the float64
        parameters, each output condition compared with ``tol`` exactly, and each LP answer
        proved (see :attr:`StationarityReport.certificate`); ``"float"``: the float64 path.
        ``"exact"`` needs the ``mse`` loss (``bce`` falls back to ``"float"``).

    Returns
    -------
    StationarityReport
        Whether every stationarity condition holds within ``tol``, each neuron's conditions,
        the failures with a descent direction, and (``certify="exact"``) the certificate.

    See Also
    --------
    topoanalysis.critical.classify : Stationarity, escape neurons and the verdict.
    topoanalysis.critical.directional_derivative : One one-sided derivative.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           directional stationary points: zero derivative in the output weights and radial
           directions, one-sided derivatives ≥ 0 tangentially.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0]]), np.array([[1.0]])])   # f(x) = relu(x)
    >>> stationarity(net, np.array([[1.0], [-1.0]]), np.array([[1.0], [0.0]])).is_stationary
    True
    """
    point = shallow_point(net, X, y, loss)
    kink_tol, tol = check_tol("kink_tol", kink_tol), check_tol("tol", tol)
    max_pieces = check_int("max_pieces", max_pieces, minimum=1)
    certify = check_certify(certify, point)
    return _stationarity(point, kink_tol, tol, max_pieces, certify)


def check_certify(certify, point):
    """Check the ``certify`` choice; ``"exact"`` becomes ``"float"`` for a loss without rationals.

    Parameters
    ----------
    certify : {"exact", "float"}
        The user's choice (any spelling :func:`~topoanalysis._validation.check_choice` accepts).
    point : ShallowPoint
        The network at its data; its loss decides whether rationals are available.

    Returns
    -------
    str
        ``"exact"`` or ``"float"``.
    """
    certify = check_choice("certify", certify, ("exact", "float"))
    return "float" if point.loss != "mse" else certify


def _stationarity(point, kink_tol, tol, max_pieces=4096, certify="float"):
    kinks = kink_mask(point, kink_tol)
    r = point.residual()
    pre = point.pre
    G = point.act(pre).T @ r                                  # (l, e)
    l, D = point.w.shape
    conditions, failures = [], []
    exact = certify == "exact"
    if exact:
        from ._exact import (exact_neuron_terms, exact_output_gradients, exact_state, fmpq,
                             to_float, to_floats)
        state = exact_state(point)
        Gq, srq = exact_output_gradients(state)
        tol2 = fmpq(tol) * fmpq(tol)
        proofs = {"arithmetic": "exact rationals (python-flint) from the float64 parameters",
                  "all_proved": True, "unproved": []}
    best = None                                               # (slope, flat direction)
    zero_w = np.zeros_like(point.w)
    zero_a = np.zeros_like(point.a)
    for k in range(l):
        cond = {"neuron": k, "output": float(np.linalg.norm(G[k])), "radial": 0.0,
                "tangential": 0.0, "kink_samples": np.flatnonzero(kinks[:, k]).tolist(),
                "lps": 0}
        out_fails = cond["output"] > tol
        gdir = G[k]
        if exact:                                 # ||G_k||² against tol², in rationals
            sq = sum((Gq[k, j] * Gq[k, j] for j in range(Gq.ncols())), fmpq(0))
            out_fails = bool(sq > tol2)
            cond["output_proved"] = True
            cond["output"] = float(np.sqrt(to_float(sq)))
            # the direction from the exact gradient, rescaled exactly (its float may be 0)
            gdir = to_floats([Gq[k, j] for j in range(Gq.ncols())])[0]
        if out_fails:
            failures.append({"condition": "output", "neuron": k, "amount": cond["output"]})
            da = zero_a.copy()
            da[k] = -gdir / np.linalg.norm(gdir)
            cand = point.flat(zero_w, da, None if point.b is None else np.zeros_like(point.b))
            best = _better(best, point, cand, kinks)
        if np.any(point.a[k] != 0):
            on = kinks[:, k]
            nw = safe_norm(point.w[k])
            if exact and np.any(point.w[k] != 0):
                rad_fails, cond["radial"] = _radial_exact(state, point, k, on, tol2)
                if rad_fails:
                    failures.append({"condition": "radial", "neuron": k,
                                     "amount": cond["radial"]})
            elif nw > 0:
                rad = _first_order_map(point, k, np.stack([point.w[k], -point.w[k]]) / nw,
                                             on) @ point.a[k]
                cond["radial"] = float(np.max(np.abs(rad)))
                if cond["radial"] > tol:
                    failures.append({"condition": "radial", "neuron": k,
                                     "amount": cond["radial"]})
            off = ~on
            if exact:
                gq, cq = exact_neuron_terms(state, k, on)
                value, u, n_lps, cert = _tangential_exact(gq, point.Xa[on], cq, point.alpha,
                                                          max_pieces, tol)
                fails = cert["fails"]
                cond["tangential_bound"], cond["tangential_proved"] = cert["bound"], cert["proved"]
                cond["tangential_how"] = cert["how"]
                if not cert["proved"]:            # reported; the verdict says it is unproved
                    proofs["all_proved"] = False
                    proofs["unproved"].append(k)
            else:
                g = (point.slope(pre[off, k]) * (r[off] @ point.a[k])) @ point.Xa[off]
                c = r[on] @ point.a[k]
                value, u, n_lps = tangential_minimum(g, point.Xa[on], c, point.alpha,
                                                     max_pieces=max_pieces)
                fails = value < -tol
            cond["tangential"], cond["lps"] = value, n_lps
            if fails:
                failures.append({"condition": "tangential", "neuron": k, "amount": -value})
                dw = zero_w.copy()
                dw[k] = u / np.linalg.norm(u)
                cand = point.flat(dw, zero_a, None if point.b is None else np.zeros_like(point.b))
                best = _better(best, point, cand, kinks)
        conditions.append(cond)
    bias = None
    if point.b is not None:
        sr = r.sum(axis=0)
        bias = float(np.linalg.norm(sr))
        bias_fails = bias > tol
        if exact:
            sq = sum((v * v for v in srq), fmpq(0))
            bias_fails = bool(sq > tol2)
            bias = float(np.sqrt(to_float(sq)))
            sr = to_floats(list(srq))[0]            # exactly rescaled: its float may be 0
        if bias_fails:
            failures.append({"condition": "output bias", "neuron": None, "amount": bias})
            cand = point.flat(zero_w, zero_a, -sr / np.linalg.norm(sr))
            best = _better(best, point, cand, kinks)
    ok = not failures
    if not exact:
        proofs = {"arithmetic": "float64 (HiGHS LPs, tolerances)", "all_proved": None,
                  "unproved": []}
    return StationarityReport(
        is_stationary=ok, conditions=conditions, output_bias=bias, failures=failures,
        descent_direction=None if ok or best is None else best[1],
        descent_slope=None if ok or best is None else best[0],
        loss=point.loss_value(), tol=tol, kink_tol=kink_tol, certificate=proofs)


def _radial_exact(state, point, k, on, tol2):
    """The radial condition of neuron ``k`` in rationals: ``a_k · F_k(±w_k)`` against
    ``tol ||w_k||`` (so ``tol = 0`` is exact, never the rounding noise of a float sum).

    Returns ``(fails, amount)`` with ``amount = max |a_k · F_k(±ŵ_k)|`` as a float.
    """
    from ._exact import fmpq, to_float

    pre, R, alpha = state["pre"], state["R"], state["alpha"]
    N, e = R.nrows(), R.ncols()
    ak = [fmpq(v) for v in point.a[k]]
    pos = state["positive"][:, k]
    plus = minus = fmpq(0)
    for n in range(N):
        ra = sum((R[n, j] * ak[j] for j in range(e)), fmpq(0))
        if ra == 0:
            continue
        z = pre[n, k]
        if on[n]:                                  # one-sided: ρ(±z)
            plus += ra * (z if z > 0 else alpha * z)
            minus += ra * (-z if -z > 0 else -alpha * z)
        else:
            s = fmpq(1) if pos[n] else alpha
            plus += ra * s * z
            minus -= ra * s * z
    ww = sum((fmpq(v) * fmpq(v) for v in point.w[k]), fmpq(0))
    big = max(plus * plus, minus * minus)
    return bool(big > tol2 * ww), float(np.sqrt(to_float(big / ww)))


def _better(best, point, cand, kinks):
    cand = cand / np.linalg.norm(cand)
    slope = _directional_derivative(point, cand, kinks)
    if best is None or slope < best[0]:
        return (slope, cand)
    return best
