"""Saddle-to-saddle dynamics: plateaus of a loss curve, and the stationary point of each.

From a vanishing initialization, gradient descent on a shallow ReLU-like network visits a
sequence of plateaus; each is (near) a non-differentiable stationary point, and the loss leaves
it when escape neurons grow (Wu, Simsek & Ged, section 4.2). :func:`detect_plateaus` finds the
plateaus on a recorded loss curve with no hand-set steps; :func:`saddle_to_saddle` snaps and
classifies the point visited at each plateau, lists its escape neurons and the neurons that grow
next, and checks the paper's two claims on the run: escapes happen through escape neurons, and
``||w_k||`` and ``|a_k|`` grow together (the paper's Fact 4.6: from a vanishing initialization
``||w_k||² − ||a_k||²`` stays near 0 under gradient flow, so the two move in step).

Plateau criterion
-----------------
With records ``(t_j, L_j)`` and ``T`` the last step, the **normalized log-loss slope** of the
interval ``[t_j, t_{j+1}]`` is ``s_j = −(log L_{j+1} − log L_j) / (t_{j+1} − t_j) · T``: the
factor ``e^{s_j}`` by which the loss would shrink over the whole run at that rate. A plateau is
a maximal run of consecutive intervals with ``s_j < slope_tol`` (default ``0.05``, i.e. less
than 5 % over the whole run) lasting at least ``min_length · T`` steps (default ``0.02``).
The point representing a plateau is its record of smallest ``|s_j|`` (the latest on ties).
"""

import dataclasses

import numpy as np

from .._validation import check_array, check_float, check_int
from ..exceptions import ValidationError
from ..network import Network
from ._point import shallow_point
from .snap import _snap
from .verdict import _classify

__all__ = ["Plateau", "detect_plateaus", "SaddleToSaddle", "saddle_to_saddle"]


@dataclasses.dataclass(frozen=True)
class Plateau:
    """A plateau of a loss curve: record indices ``[start, end]`` and steps."""

    start: int
    end: int
    start_step: int
    end_step: int
    representative: int
    loss: float

    def to_dict(self):
        """Plain data (the fields)."""
        return dataclasses.asdict(self)

    def summary(self):
        """One line: steps spanned and the loss level."""
        return (f"plateau at loss {self.loss:.6g}, steps {self.start_step} .. {self.end_step} "
                f"(records {self.start} .. {self.end})")


def _slopes(loss, steps):
    logL = np.log(np.maximum(loss, 1e-300))
    T = float(steps[-1]) if steps[-1] > 0 else 1.0
    return -np.diff(logL) / np.maximum(np.diff(steps), 1) * T


def detect_plateaus(loss, steps, *, slope_tol=0.05, min_length=0.02):
    """Plateaus of a loss curve by the normalized log-loss slope (see the module docstring).

    Parameters
    ----------
    loss : array_like of shape (R,)
        Positive losses at the record steps.
    steps : array_like of shape (R,)
        Increasing record steps.
    slope_tol : float, default=0.05
    min_length : float, default=0.02
        Minimum plateau length as a fraction of the last step.

    Returns
    -------
    list of Plateau

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           saddle-to-saddle dynamics from vanishing initialization: plateaus of the loss.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(0, 1001, 10)
    >>> L = np.where(t < 300, 1.0, np.where(t < 400, np.exp(-(t - 300) / 20), np.exp(-5)))
    >>> [(p.start_step, p.end_step) for p in detect_plateaus(L, t)]
    [(0, 300), (400, 1000)]
    """
    loss = check_array("loss", loss, ndim=1)
    steps = check_array("steps", steps, ndim=1)
    if loss.shape != steps.shape or loss.size < 2:
        raise ValidationError(f"`loss` and `steps` must have the same length >= 2; got "
                              f"{loss.shape} and {steps.shape}.")
    if np.any(np.diff(steps) <= 0):
        raise ValidationError("`steps` must be strictly increasing.")
    slope_tol = check_float("slope_tol", slope_tol, minimum=0.0, strict_min=True)
    min_length = check_float("min_length", min_length, minimum=0.0)
    s = _slopes(loss, steps)
    flat = np.abs(s) < slope_tol
    out, j = [], 0
    T = steps[-1]
    while j < flat.size:
        if not flat[j]:
            j += 1
            continue
        k = j
        while k + 1 < flat.size and flat[k + 1]:
            k += 1
        start, end = j, k + 1                      # record indices
        if steps[end] - steps[start] >= min_length * T:
            seg = np.abs(s[j:k + 1])
            rep = j + int(np.flatnonzero(seg == seg.min())[-1]) + 1
            rep = min(rep, end)
            out.append(Plateau(start=int(start), end=int(end), start_step=int(steps[start]),
                               end_step=int(steps[end]), representative=int(rep),
                               loss=float(np.median(loss[start:end + 1]))))
        j = k + 1
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class SaddleToSaddle:
    """Plateaus of one training run and the stationary point visited at each.

    Attributes
    ----------
    plateaus : list of dict
        Per plateau: steps, loss, the snap (``moved``, ``loss_after``, ``pattern_kept``), the
        ``verdict`` and its ``reason``, ``escape_neurons``, ``grows_next`` (neurons whose
        amplitude ``||a_k||·||w_k||`` grows by more than ``growth_factor`` before the next
        plateau, or the end of training), ``growth_rates`` (``||G(ŵ_k)||`` of those neurons at
        the snapped point, ``G(w) = Σ_n r_n ρ(w·x̃_n)``) and ``grow_along_descent`` (each has
        ``a_k·G(ŵ_k) < 0``: its own direction is a first-order escape direction).
    checks : dict
        ``escape_through_escape_neurons`` (every neuron that grows next is an escape neuron of
        the plateau it leaves), ``balanced_growth`` (the largest
        ``| ||w_k|| − ||a_k|| | / max(||w_k||, ||a_k||)`` over grown neurons at the records
        where they are not tiny), ``final_verdict``.
    amplitudes : dict
        ``steps``, ``w_norm`` and ``a_norm`` of shape ``(R, l)`` and ``angles`` (directions of
        ``w_k`` in the plane of its first two coordinates, degrees).
    """

    plateaus: list
    checks: dict
    amplitudes: dict
    settings: dict

    @property
    def plateau_losses(self):
        return [p["loss"] for p in self.plateaus]

    def to_dict(self):
        return {"plateaus": self.plateaus, "checks": self.checks, "settings": self.settings}

    def summary(self):
        lines = [f"{len(self.plateaus)} plateaus ({self.settings['criterion']})"]
        for i, p in enumerate(self.plateaus):
            lines.append(f"  plateau {i}: steps {p['start_step']}-{p['end_step']}, loss "
                         f"{p['loss']:.6g} -> snapped {p['snapped_loss']:.6g} "
                         f"(moved {p['moved']:.2e}): {p['verdict']}; escape neurons "
                         f"{len(p['escape_neurons'])}; grow next {p['grows_next']}")
        c = self.checks
        lines.append(f"  escapes through escape neurons: {c['escape_through_escape_neurons']} "
                     f"(growing along a descent direction: {c['grow_along_descent']}); "
                     f"balanced growth (max relative | ||w||-||a|| |): {c['balanced_growth']:.2e};"
                     f" final verdict: {c['final_verdict']}")
        return "\n".join(lines)


def saddle_to_saddle(trajectory, steps, X, y, *, arch, loss_curve=None, loss="mse",
                     slope_tol=0.05, min_length=0.02, kink_tol=1e-3, zero_tol=1e-3,
                     growth_factor=10.0, check=True, seed=0):
    """Detect plateaus, then snap, classify and explain each one for one training run.

    Parameters
    ----------
    trajectory : array_like of shape (R, P)
        Parameters at the record steps (``train(..., record_params=True).trajectory[i]``).
    steps : array_like of shape (R,)
        Record steps.
    X, y : array_like
        Training data.
    arch : Architecture
    loss_curve : array_like of shape (R,), optional
        Recorded losses (computed from the trajectory when omitted).
    loss : {"mse", "bce"}, default="mse"
    slope_tol, min_length : float
        Plateau criterion (:func:`detect_plateaus`).
    kink_tol, zero_tol : float
        Snapping tolerances (:func:`~topoanalysis.critical.snap.snap`).
    growth_factor : float, default=10.0
        A neuron "grows next" when its amplitude grows by more than this factor.
    check : bool, default=True
        Numerical checks of each verdict.
    seed : int, default=0

    Returns
    -------
    SaddleToSaddle

    See Also
    --------
    topoanalysis.critical.detect_plateaus : The plateau detector alone.
    topoanalysis.critical.snap_and_classify : What is done at each plateau.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           saddle-to-saddle dynamics: each plateau is a stationary point left through escape
           neurons.
    """
    traj = check_array("trajectory", trajectory, ndim=2)
    steps = check_array("steps", steps, ndim=1)
    if traj.shape[0] != steps.size:
        raise ValidationError(f"`trajectory` must have one row per record step ({steps.size}); "
                              f"got {traj.shape[0]}.")
    growth_factor = check_float("growth_factor", growth_factor, minimum=1.0)
    seed = check_int("seed", seed, minimum=0)
    first = shallow_point(Network(arch, traj[0]), X, y, loss)
    if loss_curve is None:
        from ..network import forward
        from .. import losses as _losses
        loss_curve = _losses.loss_value(loss, forward(arch, traj, first.X), first.Y)
    loss_curve = check_array("loss_curve", loss_curve, ndim=1)
    plats = detect_plateaus(loss_curve, steps, slope_tol=slope_tol, min_length=min_length)
    W, A = [], []
    for th in traj:
        p = first.split(th)
        W.append(np.linalg.norm(p[0], axis=1))
        A.append(np.linalg.norm(p[1], axis=1))
    W, A = np.array(W), np.array(A)
    amp = W * A
    w_all = np.array([first.split(th)[0] for th in traj])
    angles = np.degrees(np.arctan2(w_all[..., 1], w_all[..., 0])) if w_all.shape[-1] > 1 else \
        np.where(w_all[..., 0] >= 0, 0.0, 180.0)
    rows = []
    for i, pl in enumerate(plats):
        rep = pl.representative
        point = shallow_point(Network(arch, traj[rep]), X, y, loss)
        s = _snap(point, kink_tol, zero_tol)
        v = _classify(shallow_point(s.network, X, y, loss), 1e-9, 1e-8, 0.0, check,
                      (1e-6, 1e-4, 1e-2), 100, seed)
        if i + 1 < len(plats):
            nxt = plats[i + 1].representative
        else:                                   # the last plateau: compare with the end
            nxt = traj.shape[0] - 1 if pl.end < traj.shape[0] - 1 else None
        if nxt is None:
            grows = []
        else:
            ref = max(amp[nxt].max(), 1e-300)
            grows = [int(k) for k in range(amp.shape[1])
                     if amp[nxt, k] > growth_factor * amp[rep, k] and amp[nxt, k] > zero_tol * ref]
        esc = [] if v.escape is None else v.escape.escape
        # first-order escape rate of each growing neuron along its own direction at the
        # plateau: G(ŵ_k) = Σ_n r_n ρ(ŵ_k·x̃_n) at the snapped point; it grows when a_k·G < 0
        snapped = shallow_point(s.network, X, y, loss)
        r = snapped.residual()
        rates, descending = [], []
        w_end, a_end, _ = first.split(traj[pl.end])      # directions as the plateau is left
        for k in grows:
            nk = np.linalg.norm(w_end[k])
            G = snapped.act(snapped.Xa @ (w_end[k] / nk)) @ r if nk > 0 else np.zeros(r.shape[1])
            rates.append(float(np.linalg.norm(G)))
            descending.append(bool(a_end[k] @ G < 0))
        rows.append({"start_step": pl.start_step, "end_step": pl.end_step, "loss": pl.loss,
                     "representative_step": int(steps[rep]), "snapped_loss": s.loss_after,
                     "moved": s.moved, "pattern_kept": s.pattern_kept, "verdict": v.verdict,
                     "reason": v.reason, "check_agrees": v.check_agrees, "escape_neurons": esc,
                     "zero_neurons": s.zero_neurons, "dead_neurons": s.dead_neurons,
                     "grows_next": grows, "growth_rates": rates,
                     "grow_along_descent": all(descending)})
    through = all(set(r["grows_next"]) <= set(r["escape_neurons"]) for r in rows)
    grown = sorted({k for r in rows for k in r["grows_next"]})
    bal = 0.0
    if grown:
        Wg, Ag = W[:, grown], A[:, grown]
        big = np.maximum(Wg, Ag)
        mask = big > 1e-3 * big.max()
        bal = float(np.max(np.abs(Wg - Ag)[mask] / big[mask])) if mask.any() else 0.0
    checks = {"escape_through_escape_neurons": bool(through), "balanced_growth": bal,
              "grow_along_descent": all(r["grow_along_descent"] for r in rows),
              "final_verdict": rows[-1]["verdict"] if rows else None,
              "n_plateaus": len(rows)}
    return SaddleToSaddle(
        plateaus=rows, checks=checks,
        amplitudes={"steps": steps.astype(int).tolist(), "w_norm": W, "a_norm": A,
                    "angles": angles},
        settings={"criterion": f"normalized log-loss slope < {slope_tol} for >= {min_length} of "
                               f"the run", "slope_tol": slope_tol, "min_length": min_length,
                  "kink_tol": kink_tol, "zero_tol": zero_tol, "growth_factor": growth_factor})
