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
* **undetermined** — vector output whose escape neurons all have ``a_k != 0`` (and the
  second-order test does not decide), or vector output where the escape LPs found no escape
  neuron but their answer could not be proved in rationals (no certificate of "no escape
  neuron", so no local minimum either).

"Saddle" and "not stationary" are confirmed by the exact loss polynomial along their direction
(:func:`~topoanalysis.critical._exact.ray_certificate`, ``Verdict.ray``): its lowest-order
nonzero coefficient on the ray's first sign piece is negative (or, at a point stationary up to
``tol``, a first-order residue within ``tol`` followed by a negative coefficient); otherwise
the verdict is "undetermined" (``mse``; ``bce`` keeps its float check).

Each verdict is then checked numerically (the check never changes the verdict): the loss along
the escape (or descent) direction on a grid of steps, and seeded random perturbations at several
radii around a certified local minimum (how many were tried and the smallest change found).
"""

import dataclasses
import numbers

import numpy as np

from .. import losses as _losses
from .._validation import check_float, check_int
from ..exceptions import ValidationError
from ..network import forward
from ._point import check_bool, check_perturbations, check_tol, safe_norm, shallow_point
from .escape import _escape
from .kinks import _first_order_map, kink_mask
from .radius import certified_radius
from .second_order import second_order_test
from .stationarity import _stationarity, check_certify

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
        ``radii`` (absolute), ``tried`` (per radius), ``min_change`` (per radius),
        ``found_decrease`` (a decrease at a radius within the certified radius of a local
        minimum — every radius for the other verdicts), ``decrease_beyond_radius`` (a decrease
        at a radius beyond it: allowed, and expected when a dead neuron sets the radius).
    loss : float
    decided_by : str or None
        ``"first order"`` (stationarity LPs, escape neurons), ``"second order"`` (the sign of
        the quadratic term where the first-order term vanishes,
        :mod:`~topoanalysis.critical.second_order`) or None ("undetermined": neither decides).
    radius : dict or None
        For a local minimum: :func:`~topoanalysis.critical.radius.certified_radius` — the
        absolute distance ``radius`` within which the certificate holds, what limits it, and
        each dead neuron's distance to its activation region.
    second_order : dict or None
        The second-order test (vector output with escape neurons of nonzero output weight).
    ray : dict or None
        The exact proof that the point is **not a local minimum** ("saddle", "not
        stationary"; ``mse``): :func:`~topoanalysis.critical._exact.ray_certificate` of the
        loss along ``direction`` — ``proved``, ``order`` and ``coefficient`` (the
        lowest-order nonzero coefficient of ``L(θ + s δ) − L(θ)`` on the ray's first sign
        piece, negative when proved), ``up_to_tol`` (a saddle of a point stationary up to
        ``tol``: ``0 < c₁ <= tol`` and the next nonzero coefficient negative),
        ``coefficients``, ``step``, ``change``, ``piece_end``. Also set when the check failed
        and the verdict fell back to "undetermined"; None for ``bce`` (float check only) and
        when there is no direction.
    """

    verdict: str
    reason: str
    stationarity: object
    escape: object
    direction: object
    curve: object
    perturbations: object
    loss: float
    decided_by: object = None
    radius: object = None
    second_order: object = None
    ray: object = None

    @property
    def check_agrees(self):
        """Whether the numerical check agrees with the verdict (None when nothing was checked)."""
        if self.verdict in ("saddle", "not stationary") and self.curve is not None:
            return bool(self.curve["decreasing"])
        if self.verdict == "local minimum" and self.perturbations is not None:
            return not self.perturbations["found_decrease"]
        return None

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"verdict": self.verdict, "reason": self.reason, "loss": self.loss,
                "check_agrees": self.check_agrees,
                "stationarity": self.stationarity.to_dict(),
                "escape": None if self.escape is None else self.escape.to_dict(),
                "direction": None if self.direction is None else self.direction.tolist(),
                "curve": self.curve, "perturbations": self.perturbations,
                "decided_by": self.decided_by, "radius": _finite_dict(self.radius),
                "second_order": None if self.second_order is None else {
                    k: (v.tolist() if isinstance(v, np.ndarray) else v)
                    for k, v in _finite_dict(self.second_order).items()},
                "ray": self.ray}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"verdict: {self.verdict} (loss {self.loss:.6g})", f"  reason: {self.reason}",
                 "  " + self.stationarity.summary().replace("\n", "\n  ")]
        if self.escape is not None:
            lines.append("  " + self.escape.summary())
        if self.curve is not None:
            c = self.curve
            lines.append(f"  check: loss along the direction for s in (0, {c['steps'][-1]:.3g}]: "
                         f"{c['loss'][0]:.6g} -> {c['loss'][-1]:.6g}, strictly decreasing: "
                         f"{c['decreasing']}")
        if self.ray is not None:
            lines.append("  " + _ray_text(self.ray))
        if self.radius is not None:
            r = self.radius
            rad = "every radius" if r["radius"] is None and r.get("unbounded") else (
                "not certified" if r["radius"] is None else f"{r['radius']:.3g}")
            lines.append(f"  certified radius (absolute parameter distance): {rad} — "
                         f"{r['limited_by']}")
        if self.second_order is not None and self.second_order.get("tried"):
            so = self.second_order
            if so["decided"]:
                lines.append(f"  second order: {so['kind']} at neuron {so['neuron']}, c2 = "
                             f"{so['c2_direction']:.3g} along the unit direction (decided by "
                             f"the exact ray check)")
            else:
                lines.append(f"  second order: c2 >= 0 along the {len(so['tried'])} escape "
                             f"directions tried (smallest {min(t['c2'] for t in so['tried']):.3g})")
        if self.perturbations is not None:
            p = self.perturbations
            lines.append(f"  check: {sum(p['tried'])} seeded perturbations (all parameters, dead "
                         f"neurons too) at radii "
                         f"{', '.join(f'{r:.1e}' for r in p['radii'])}; smallest loss changes "
                         f"{', '.join(f'{m:.2e}' for m in p['min_change'])}; decrease found: "
                         f"{p['found_decrease']}"
                         + (f" (beyond the certified radius: {p['decrease_beyond_radius']})"
                            if p.get("certified_radius") is not None else ""))
        return "\n".join(lines)


def _ray_text(ray):
    """One sentence on the exact ray check (``_exact.ray_certificate``)."""
    if ray["order"] is None:
        what = "the loss is constant on the ray's first sign piece"
    else:
        what = (f"lowest-order coefficient c{ray['order']} = {ray['coefficient']:.3g} of "
                f"L(θ + s·direction) − L(θ) on its first sign piece")
    end = ("s in (0, ∞)" if ray["piece_end"] is None
           else f"s in (0, {ray['piece_end']:.3g}]")
    if ray["proved"]:
        out = "not a local minimum, proved"
    elif ray["up_to_tol"]:
        out = (f"c1 is the first-order residue the tolerance allows and "
               f"c{ray['descent_order']} = {ray['descent_coefficient']:.3g} < 0: not a local "
               f"minimum up to the stationarity tolerance (the exact loss change is "
               f"{ray['change']:.3g} at s = {ray['step']:.3g})")
    else:
        out = "no proof of descent"
    return f"exact ray check ({end}, rationals): {what} — {out}"


def _certifies(ray):
    """Whether a ray certificate supports a "saddle" (exactly, or up to the tolerance)."""
    return ray is None or ray["proved"] or ray["up_to_tol"]


def _ray(point, direction, kinks, tol=None):
    """The exact ray certificate of ``direction`` (None for ``bce`` or no direction)."""
    if direction is None or point.loss != "mse":
        return None
    from ._exact import ray_certificate

    return ray_certificate(point, direction, tol, kinks)


def _finite_dict(d):
    """A copy of ``d`` with infinite floats as None (strict JSON), flagging ``unbounded``."""
    if d is None:
        return None
    out = {}
    for k, v in d.items():
        if isinstance(v, float) and not np.isfinite(v):
            out[k] = None
            if k == "radius":
                out["unbounded"] = True
        else:
            out[k] = v
    return out


def _losses_at(point, thetas):
    out = forward(point.net.arch, thetas, point.X)
    return np.asarray(_losses.loss_value(point.loss, out, point.Y), dtype=np.float64)


def _curve(point, direction, n_steps=25, s0=1.0):
    """Loss along ``θ + s d``: halve the range until the loss strictly decreases on it."""
    theta = point.net.params
    L0 = point.loss_value()
    s_max = s0 * max(1.0, float(safe_norm(theta)))
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
    phi = _first_order_map(point, k, u[None, :], kinks[:, k])[0]
    N, e = point.Y.shape
    Q0 = float(np.sum(point.act(point.pre[:, k]) ** 2)) / (N * e)
    with np.errstate(over="ignore", divide="ignore"):
        kappa = 1.0 / (2.0 * Q0) if Q0 > 0 else 1.0
        # scaled before it is formed: κ F_k(u) may overflow (a neuron barely active)
        top = kappa * float(np.max(np.abs(phi), initial=0.0))
    dw, da = np.zeros_like(point.w), np.zeros_like(point.a)
    if np.isfinite(top) and top <= 1e150:
        dw[k], da[k] = u, -kappa * phi
    else:
        pm = float(np.max(np.abs(phi)))
        dw[k], da[k] = (u / top if np.isfinite(top) else 0.0 * u), -phi / pm
    d = point.flat(dw, da, None if point.b is None else np.zeros_like(point.b))
    d = d / np.max(np.abs(d))
    return d / np.linalg.norm(d)


def _perturb(point, radii, n, seed, certified=None):
    """Seeded random perturbations of every parameter (dead neurons too) at absolute radii.

    ``radii`` are relative to ``max(1, ||θ||)``; with a ``certified`` radius (a local minimum)
    the radii ``0.5`` and ``0.99`` of it are added, ``found_decrease`` counts only radii within
    it and ``decrease_beyond_radius`` the others.
    """
    rng = np.random.default_rng(seed)
    theta = point.net.params
    L0 = point.loss_value()
    scale = max(1.0, float(safe_norm(theta)))
    absolute = [float(r * scale) for r in radii]
    if certified is not None and np.isfinite(certified) and certified > 0:
        absolute = sorted(set(absolute + [0.5 * certified, 0.99 * certified]))
    tried, mins = [], []
    thresh = 1e-10 * max(abs(L0), 1e-300)
    found = beyond = False
    for rad in absolute:
        Z = rng.normal(size=(n, theta.size))
        Z *= rad / np.linalg.norm(Z, axis=1, keepdims=True)
        change = _losses_at(point, theta[None, :] + Z) - L0
        tried.append(int(n))
        mins.append(float(change.min()))
        dec = bool(np.any(change < -thresh))
        if certified is None or rad <= certified:
            found = found or dec
        else:
            beyond = beyond or dec
    return {"radii": absolute, "tried": tried, "min_change": mins,
            "found_decrease": found, "decrease_beyond_radius": beyond, "threshold": thresh,
            "certified_radius": None if certified is None or not np.isfinite(certified)
            else float(certified)}


def classify(net, X, y=None, *, loss=None, kink_tol=1e-9, tol=1e-8, zero_tol=0.0, check=True,
             radii=(1e-6, 1e-4, 1e-2), n_perturbations=200, seed=0, max_pieces=4096,
             certify="exact"):
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
        Seed of the random perturbations of the check.
    max_pieces : int, default=4096
        Largest number of LP pieces per neuron.
    certify : {"exact", "float"}, default="exact"
        How stationarity is decided (:func:`~topoanalysis.critical.stationarity.stationarity`):
        ``"exact"`` proves every condition in rational arithmetic from the float64 parameters
        (kink signs, output conditions, each LP's answer by its primal point or an exact
        weak-duality bound); ``"float"`` is the float64 path.

    Returns
    -------
    Verdict
        The kind of point (one of :data:`VERDICTS`), the statement that decided it, the
        stationarity and escape reports, and the numerical checks.

    See Also
    --------
    topoanalysis.critical.stationarity : Exact directional stationarity (the first step).
    topoanalysis.critical.escape_neurons : Escape neurons (the second step).
    topoanalysis.critical.snap_and_classify : Snap a trained network first, then classify.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           Theorem 4.2 (stationary without escape neurons: local minimum) and, for scalar
           output, an escape neuron rules out a local minimum (Section 4).

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
    n_perturbations = check_perturbations(n_perturbations, net.arch.n_params)
    check = check_bool("check", check)
    radii = check_radii(radii)
    certify = check_certify(certify, point)
    return _classify(point, kink_tol, tol, zero_tol, check, radii, n_perturbations,
                     check_int("seed", seed, minimum=0),
                     check_int("max_pieces", max_pieces, minimum=1), certify)


def _proof_note(st):
    """How the stationarity conditions were decided, for the reason sentence."""
    c = st.certificate or {}
    if c.get("all_proved") is None:
        return " [float64 arithmetic]"
    if c["all_proved"]:
        return " [stationarity conditions proved in exact rational arithmetic]"
    return f" [LP answers of neurons {c['unproved']} not proved in rationals]"


def check_radii(radii):
    """Check perturbation radii: one positive finite number or a non-empty sequence of them.

    Parameters
    ----------
    radii : float or sequence of float
        The radii given by the user.

    Returns
    -------
    tuple of float
        The radii.
    """
    if isinstance(radii, np.ndarray) and radii.ndim == 0:
        radii = radii[()]
    if isinstance(radii, (numbers.Real, np.floating)) and not isinstance(radii, (bool, np.bool_)):
        radii = (radii,)
    if isinstance(radii, (str, bytes)) or not hasattr(radii, "__iter__"):
        raise ValidationError(f"`radii` must be a positive number or a sequence of them; got "
                              f"{radii!r}.")
    radii = tuple(radii)
    if not radii or len(radii) > 100:
        raise ValidationError(f"`radii` must hold 1 to 100 radii; got {len(radii)}.")
    # absolute radii; beyond 1e100 the perturbed losses overflow float64
    return tuple(check_float("radii", r, minimum=0.0, strict_min=True, maximum=1e100)
                 for r in radii)


def _classify(point, kink_tol, tol, zero_tol=0.0, check=True, radii=(1e-6, 1e-4, 1e-2),
              n_perturbations=200, seed=0, max_pieces=4096, certify="exact"):
    certify = "float" if point.loss != "mse" else certify
    st = _stationarity(point, kink_tol, tol, max_pieces, certify)
    L0 = point.loss_value()
    if not st.is_stationary:
        f = max(st.failures, key=lambda f: f["amount"])
        where = "the output bias" if f["neuron"] is None else f"neuron {f['neuron']}"
        reason = (f"not a directional stationary point: the {f['condition']} condition fails at "
                  f"{where} by {f['amount']:.3g}; "
                  + (f"one-sided slope {st.descent_slope:.3g} along the descent direction"
                     if st.descent_slope is not None else "no descent direction was computed")
                  + _proof_note(st))
        curve = (_curve(point, st.descent_direction)
                 if check and st.descent_direction is not None else None)
        ray = _ray(point, st.descent_direction, kink_mask(point, kink_tol))
        if ray is not None and not ray["proved"]:
            # the LPs' failure is not shown by the exact loss along their direction at the
            # point as given (e.g. a kink_tol sample off its hyperplane): no certificate
            reason = (f"the {f['condition']} condition fails at {where} by {f['amount']:.3g} "
                      f"(stationarity LPs), but the exact loss along the descent direction "
                      f"does not prove a decrease ({_ray_text(ray)}), so 'not stationary' is not "
                      f"certified" + _proof_note(st))
            pert = _perturb(point, radii, n_perturbations, seed) if check else None
            return Verdict("undetermined", reason, st, None, None, None, pert, L0,
                           decided_by=None, ray=ray)
        if ray is not None:
            reason += "; " + _ray_text(ray)
        elif point.loss != "mse" and st.descent_direction is not None:
            reason += "; bce: the decrease is checked in float64 only (no exact ray check)"
        return Verdict("not stationary", reason, st, None, st.descent_direction, curve, None, L0,
                       decided_by="first order", ray=ray)
    exact = certify == "exact"
    # exact: F_k ≢ 0 decided in rationals, so tol = 0 means "exactly not identically zero" at
    # any scale of the data; float: a floor against the rounding noise of the float path
    esc = _escape(point, kink_tol, tol * 1e-2 if exact else max(tol * 1e-2, 1e-14), zero_tol,
                  seed, max_pieces, exact=exact)
    e = point.a.shape[1]
    kinks = kink_mask(point, kink_tol)
    if not esc.escape and esc.unproved:
        # the float escape LPs found nothing, but no exact dual certificate closes them: "no
        # escape neuron" is not proved, so Theorem 4.2 does not apply
        reason = (f"vector output (e = {e}): stationary, and the escape LPs found no escape "
                  f"neuron, but their absence is not proved in exact arithmetic for neurons "
                  f"{esc.unproved} (the LPs' dual certificates do not close in rationals), so "
                  f"Theorem 4.2 is not applied" + _proof_note(st))
        pert = _perturb(point, radii, n_perturbations, seed) if check else None
        return Verdict("undetermined", reason, st, esc, None, None, pert, L0, decided_by=None)
    if not esc.escape:
        rad = certified_radius(point, kinks)
        where = ("every radius" if rad["radius"] is not None and not np.isfinite(rad["radius"])
                 else "radius not certified" if rad["radius"] is None
                 else f"||δ|| < {rad['radius']:.3g}")
        reason = (f"{THEOREM_MIN} (certificate: stationary by LP and no escape neuron, so every "
                  f"T_k(δ) = (a_k+δa_k)·F_k(δw_k) >= 0 for {where}: {rad['limited_by']})"
                  + _proof_note(st))
        pert = (_perturb(point, radii, n_perturbations, seed,
                         certified=rad["radius"] if rad["radius"] is not None else 0.0)
                if check else None)
        return Verdict("local minimum", reason, st, esc, None, None, pert, L0,
                       decided_by="first order", radius=rad)
    zero = esc.zero_output_escape
    if zero:
        k = max(zero, key=lambda j: esc.neurons[j]["rate"])
        u = np.array(esc.neurons[k]["direction"])
        d = _escape_direction(point, k, u, kinks)
        ray = _ray(point, d, kinks, tol)
        flipped = False
        if not _certifies(ray):
            # at a point stationary only up to tol, the output-weight residue G_k may make the
            # first-order term along u positive; −u (when F_k(−u) != 0) is an escape too
            d2 = _escape_direction(point, k, -u, kinks)
            ray2 = _ray(point, d2, kinks, tol)
            if _certifies(ray2):
                d, ray, u = d2, ray2, -u
                flipped = True
        stmt = THEOREM_SADDLE if e == 1 else (
            "escape neuron with zero output weight gives a strict second-order descent for any "
            "output dimension (toolkit's derived extension of Wu-Simsek-Ged, section 4)")
        reason = (f"{stmt}; escape neuron {k} (a_k = 0, ||F_k(u)|| = {esc.neurons[k]['rate']:.3g}):"
                  f" escape direction w_k += s u, a_k -= s κ F_k(u)"
                  + (" (u reversed: along the LP's u the output-weight residue allowed by tol "
                     "makes the first-order term positive)" if flipped else ""))
        if not _certifies(ray):
            reason = (f"{stmt}; escape neuron {k} (a_k = 0), but the exact loss along its escape "
                      f"direction does not prove a decrease at the point as given "
                      f"({_ray_text(ray)}), so the saddle is not certified" + _proof_note(st))
            pert = _perturb(point, radii, n_perturbations, seed) if check else None
            return Verdict("undetermined", reason, st, esc, None, None, pert, L0,
                           decided_by=None, ray=ray)
        reason += ("; " + _ray_text(ray) if ray is not None
                   else "; bce: the decrease is checked in float64 only (no exact ray check)")
        curve = _curve(point, d) if check else None
        return Verdict("saddle", reason, st, esc, d, curve, None, L0, decided_by="first order",
                       ray=ray)
    so = second_order_test(point, esc, kinks, tol=tol) if point.loss == "mse" else None
    if so is not None and so["decided"]:
        reason = (f"vector output (e = {e}): the first-order term vanishes along the escape "
                  f"direction of neuron {so['neuron']} (a_k != 0), and the second-order term is "
                  f"negative — {so['kind']}: c2 = {so['c2_direction']:.3g} along the unit "
                  f"direction"
                  + " (toolkit's second-order test, see critical.second_order); "
                  + _ray_text(so["ray"]))
        curve = _curve(point, so["direction"]) if check else None
        return Verdict("saddle", reason, st, esc, so["direction"], curve, None, L0,
                       decided_by="second order", second_order=so, ray=so["ray"])
    why = (f"c2 = {so['c2_direction']:.3g} < 0 along the direction of neuron {so['neuron']}, "
           f"but the exact loss along it does not prove a decrease ({_ray_text(so['ray'])})"
           if so is not None and so.get("ray") is not None
           else "the second-order term is >= 0 along every escape direction tried (smallest c2 "
           f"{min(t['c2'] for t in so['tried']):.3g})" if so is not None and so["tried"]
           else "no second-order test for this loss" if so is None
           else "no escape direction to test at second order")
    reason = (f"vector output (e = {e}) with escape neurons {esc.escape}, all with a_k != 0: the "
              f"first-order test does not decide (Wu-Simsek-Ged, section 4), and neither does "
              f"the second: {why}")
    pert = _perturb(point, radii, n_perturbations, seed) if check else None
    return Verdict("undetermined", reason, st, esc, None, None, pert, L0, decided_by=None,
                   second_order=so, ray=None if so is None else so.get("ray"))
