"""Classify a point: not stationary, local minimum, saddle or undetermined — with its reason.

The verdict comes from the certificates of :mod:`~topoanalysis.critical.stationarity` (exact
LPs) and :mod:`~topoanalysis.critical.escape` (the first-order definition of escape neurons)
and names the statement that decided it:

* **not stationary** — a one-sided directional derivative is negative (the LP's direction);
* **local minimum** — stationary without escape neurons (Wu, Simsek & Ged, Theorem 4.2);
* **saddle** — stationary with an escape neuron of zero output weight: the explicit escape
  direction ``w_k → w_k + s u``, ``a_k → −s κ F_k(u)`` lowers the loss (the paper's
  scalar-output theorem; for vector output the toolkit's derived extension, see
  :mod:`~topoanalysis.critical.escape`);
* **undetermined** — vector output whose escape neurons all have ``a_k != 0``.

Each verdict is then checked numerically (the check never changes the verdict): the loss along
the escape (or descent) direction on a grid of steps, and seeded random perturbations at several
radii around a certified local minimum (how many were tried and the smallest change found).
"""

import dataclasses

import numpy as np

from .. import losses as _losses
from .._validation import check_int
from ..network import forward
from ._point import check_tol, shallow_point
from .escape import _escape
from .kinks import kink_mask, neuron_first_order_map
from .stationarity import _stationarity

__all__ = ["Verdict", "classify", "VERDICTS"]

VERDICTS = ("not stationary", "local minimum", "saddle", "undetermined")

THEOREM_MIN = "Wu-Simsek-Ged Theorem 4.2: a stationary point without escape neurons is a local minimum"
THEOREM_SADDLE = ("Wu-Simsek-Ged (section 4): with scalar output an escape neuron rules out a local "
                  "minimum")


@dataclasses.dataclass(frozen=True, eq=False)
class Verdict:
    """What kind of point a network is, why, and the numerical checks.

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS`.
    reason : str
        The statement or certificate that decided it.
    stationarity : StationarityReport
    escape : EscapeReport or None
        None when the point is not stationary.
    direction : ndarray of shape (P,) or None
        Unit escape direction (saddle) or descent direction (not stationary).
    curve : dict or None
        ``steps`` ``s`` and ``loss`` ``L(θ + s·direction)``; ``decreasing`` says whether the
        loss strictly decreases along it.
    perturbations : dict or None
        ``radii``, ``tried`` (per radius), ``min_change`` (per radius), ``found_decrease``.
    loss : float
    """

    verdict: str
    reason: str
    stationarity: object
    escape: object
    direction: object
    curve: object
    perturbations: object
    loss: float

    @property
    def check_agrees(self):
        """Whether the numerical check agrees with the verdict (None when nothing was checked)."""
        if self.verdict in ("saddle", "not stationary") and self.curve is not None:
            return bool(self.curve["decreasing"])
        if self.verdict == "local minimum" and self.perturbations is not None:
            return not self.perturbations["found_decrease"]
        return None

    def to_dict(self):
        return {"verdict": self.verdict, "reason": self.reason, "loss": self.loss,
                "check_agrees": self.check_agrees,
                "stationarity": self.stationarity.to_dict(),
                "escape": None if self.escape is None else self.escape.to_dict(),
                "direction": None if self.direction is None else self.direction.tolist(),
                "curve": self.curve, "perturbations": self.perturbations}

    def summary(self):
        lines = [f"verdict: {self.verdict} (loss {self.loss:.6g})", f"  reason: {self.reason}",
                 "  " + self.stationarity.summary().replace("\n", "\n  ")]
        if self.escape is not None:
            lines.append("  " + self.escape.summary())
        if self.curve is not None:
            c = self.curve
            lines.append(f"  check: loss along the direction for s in (0, {c['steps'][-1]:.3g}]: "
                         f"{c['loss'][0]:.6g} -> {c['loss'][-1]:.6g}, strictly decreasing: "
                         f"{c['decreasing']}")
        if self.perturbations is not None:
            p = self.perturbations
            lines.append(f"  check: {sum(p['tried'])} seeded perturbations at radii "
                         f"{', '.join(f'{r:.1e}' for r in p['radii'])}; smallest loss changes "
                         f"{', '.join(f'{m:.2e}' for m in p['min_change'])}; decrease found: "
                         f"{p['found_decrease']}")
        return "\n".join(lines)


def _losses_at(point, thetas):
    out = forward(point.net.arch, thetas, point.X)
    return np.asarray(_losses.loss_value(point.loss, out, point.Y), dtype=np.float64)


def _curve(point, direction, n_steps=25, s0=1.0):
    """Loss along ``θ + s d``: halve the range until the loss strictly decreases on it."""
    theta = point.net.params
    L0 = point.loss_value()
    s_max = s0 * max(1.0, float(np.linalg.norm(theta)))
    for _ in range(60):
        steps = np.linspace(0.0, s_max, n_steps + 1)
        vals = _losses_at(point, theta[None, :] + steps[:, None] * direction[None, :])
        if np.all(np.diff(vals) < 0):
            break
        s_max /= 2.0
    dec = bool(np.all(np.diff(vals) < 0))
    return {"steps": steps.tolist(), "loss": vals.tolist(), "decreasing": dec, "loss0": L0}


def _escape_direction(point, k, u, kinks):
    """Flat unit direction ``(δw_k = u, δa_k = −κ F_k(u))`` of an escape neuron with ``a_k = 0``."""
    phi = neuron_first_order_map(point, k, u[None, :], kinks[:, k])[0]
    N, e = point.Y.shape
    Q0 = float(np.sum(point.act(point.pre[:, k]) ** 2)) / (N * e)
    kappa = 1.0 / (2.0 * Q0) if Q0 > 0 else 1.0
    dw, da = np.zeros_like(point.w), np.zeros_like(point.a)
    dw[k], da[k] = u, -kappa * phi
    d = point.flat(dw, da, None if point.b is None else np.zeros_like(point.b))
    return d / np.linalg.norm(d)


def _perturb(point, radii, n, seed):
    rng = np.random.default_rng(seed)
    theta = point.net.params
    L0 = point.loss_value()
    scale = max(1.0, float(np.linalg.norm(theta)))
    tried, mins = [], []
    thresh = 1e-10 * max(abs(L0), 1e-300)
    found = False
    for rad in radii:
        Z = rng.normal(size=(n, theta.size))
        Z *= (rad * scale) / np.linalg.norm(Z, axis=1, keepdims=True)
        change = _losses_at(point, theta[None, :] + Z) - L0
        tried.append(int(n))
        mins.append(float(change.min()))
        found = found or bool(np.any(change < -thresh))
    return {"radii": [float(r * scale) for r in radii], "tried": tried, "min_change": mins,
            "found_decrease": found, "threshold": thresh}


def classify(net, X, y=None, *, loss=None, kink_tol=1e-9, tol=1e-8, zero_tol=0.0, check=True,
             radii=(1e-6, 1e-4, 1e-2), n_perturbations=200, seed=0, max_pieces=4096):
    """Classify ``net`` as a point of the loss landscape on ``(X, y)``.

    Parameters
    ----------
    net : Network
        Shallow, ReLU or leaky ReLU. A point from training should be snapped first
        (:func:`~topoanalysis.critical.snap.snap`); :func:`~topoanalysis.critical.snap.snap_and_classify`
        does both.
    X : Landscape or array_like of shape (N, d)
        The data, or a :class:`~topoanalysis.landscape.Landscape` of ``net``'s architecture
        (then ``y`` and ``loss`` are omitted).
    y : array_like of shape (N, e), optional
        Required with array data.
    loss : {"mse", "bce"}, optional
        Default ``"mse"`` (or the landscape's).
    kink_tol : float, default=1e-9
        Relative tolerance for samples on hyperplanes.
    tol : float, default=1e-8
        Tolerance of the stationarity conditions.
    zero_tol : float, default=0.0
        ``||a_k|| <= zero_tol`` counts as a zero output weight.
    check : bool, default=True
        Run the numerical checks (loss curve, perturbations).
    radii : sequence of float, default=(1e-6, 1e-4, 1e-2)
        Perturbation radii, relative to ``max(1, ||θ||)``.
    n_perturbations : int, default=200
        Perturbations per radius.
    seed : int, default=0
    max_pieces : int, default=4096
        Largest number of LP pieces per neuron.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> X, y = np.array([[1.0]]), np.array([[1.0]])
    >>> zero = Network.from_weights([np.array([[0.0]]), np.array([[0.0]])])
    >>> classify(zero, X, y).verdict
    'saddle'
    >>> fit = Network.from_weights([np.array([[1.0]]), np.array([[1.0]])])
    >>> classify(fit, X, y).verdict
    'local minimum'
    """
    from ..landscape import Landscape, as_landscape

    if isinstance(X, Landscape):
        land = as_landscape(X, y, getattr(net, "arch", None), loss)
        X, y, loss = land.X, land.Y, land.loss_name
    point = shallow_point(net, X, y, "mse" if loss is None else loss)
    kink_tol, tol, zero_tol = (check_tol("kink_tol", kink_tol), check_tol("tol", tol),
                               check_tol("zero_tol", zero_tol))
    n_perturbations = check_int("n_perturbations", n_perturbations, minimum=1)
    radii = tuple(check_tol("radii", r) for r in radii)
    return _classify(point, kink_tol, tol, zero_tol, check, radii, n_perturbations,
                     check_int("seed", seed, minimum=0), max_pieces)


def _classify(point, kink_tol, tol, zero_tol=0.0, check=True, radii=(1e-6, 1e-4, 1e-2),
              n_perturbations=200, seed=0, max_pieces=4096):
    st = _stationarity(point, kink_tol, tol, max_pieces)
    L0 = point.loss_value()
    if not st.is_stationary:
        f = max(st.failures, key=lambda f: f["amount"])
        where = "the output bias" if f["neuron"] is None else f"neuron {f['neuron']}"
        reason = (f"not a directional stationary point: the {f['condition']} condition fails at "
                  f"{where} by {f['amount']:.3g}; one-sided slope {st.descent_slope:.3g} along "
                  f"the descent direction")
        curve = _curve(point, st.descent_direction) if check else None
        return Verdict("not stationary", reason, st, None, st.descent_direction, curve, None, L0)
    esc = _escape(point, kink_tol, max(tol * 1e-2, 1e-14), zero_tol, seed, max_pieces)
    e = point.a.shape[1]
    kinks = kink_mask(point, kink_tol)
    if not esc.escape:
        reason = (f"{THEOREM_MIN} (certificate: stationary by LP and no escape neuron, so every "
                  f"T_k(δ) = (a_k+δa_k)·F_k(δw_k) >= 0 near θ)")
        pert = _perturb(point, radii, n_perturbations, seed) if check else None
        return Verdict("local minimum", reason, st, esc, None, None, pert, L0)
    zero = esc.zero_output_escape
    if zero:
        k = max(zero, key=lambda j: esc.neurons[j]["rate"])
        u = np.array(esc.neurons[k]["direction"])
        d = _escape_direction(point, k, u, kinks)
        stmt = THEOREM_SADDLE if e == 1 else (
            "escape neuron with zero output weight gives a strict second-order descent for any "
            "output dimension (toolkit's derived extension of Wu-Simsek-Ged, section 4)")
        reason = (f"{stmt}; escape neuron {k} (a_k = 0, ||F_k(u)|| = {esc.neurons[k]['rate']:.3g}):"
                  f" escape direction w_k += s u, a_k -= s κ F_k(u)")
        curve = _curve(point, d) if check else None
        return Verdict("saddle", reason, st, esc, d, curve, None, L0)
    reason = (f"vector output (e = {e}) with escape neurons {esc.escape}, all with a_k != 0: the "
              f"first-order test does not decide (Wu-Simsek-Ged, section 4)")
    pert = _perturb(point, radii, n_perturbations, seed) if check else None
    return Verdict("undetermined", reason, st, esc, None, None, pert, L0)
