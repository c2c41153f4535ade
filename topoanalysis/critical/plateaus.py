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
Scale-free in both axes (the default, ``scale="log"``): with records ``(t_j, L_j)``, the time
``τ_j = log(t_j + t_0)`` (``t_0`` the first record interval, so the records start at ``τ_0 =
log t_0``) and the **log-log slope** ``s_j = −(log L_{j+1} − log L_j) / (τ_{j+1} − τ_j)`` of
each interval — the local exponent of a power law ``L ∝ t^{−s}``, unchanged when the loss or the
time is multiplied by a constant. A plateau is a maximal run of consecutive intervals with
``|s_j| < slope_tol`` (default ``0.1``: the loss changes by less than 10 % per e-fold of time)
lasting at least ``min_length`` in ``τ`` (default ``0.05``: at least 5 % of its start time)
and at least two intervals (three records).
An interval whose slope is below ``relative_tol`` (``0.1``) times the smaller of the steepest
falls within ``window`` (``0.5``) before and after it also counts: a shoulder between two falls.
So does an interval whose slope is below ``0.25`` times those falls inside a stretch of at least
``min_length`` over which the loss stays within 2 % (``band``): a shoulder held a little
longer than it is flat (the 0.046 level of Wu et al.'s 3-D task in 6 of 100 float32 seeds).
The falls between plateaus of a saddle-to-saddle run have slopes of order 1 to 10, and the
slow tail of a run converging to zero loss has slopes >= 1, so neither counts.

``scale="linear"`` is the former criterion: ``s_j = −(log L_{j+1} − log L_j) / (t_{j+1} − t_j)
· T`` (``T`` the last step) below ``slope_tol`` (default ``0.05``) for at least ``min_length · T``
steps (default ``0.02``). It misses plateaus that are short against the whole run but long
against their start time (late plateaus of long runs).

The point representing a plateau is its record of smallest ``|s_j|`` (the latest on ties).
"""

import dataclasses

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int
from ..exceptions import ValidationError
from ..network import Network
from ._point import (check_architecture, check_bool, check_tol, shallow_point,
                     verdict_kink_tol as _verdict_kink_tol)
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
        """Plain data (the fields).

        Returns
        -------
        dict
            Plain JSON types.
        """
        return dataclasses.asdict(self)

    def summary(self):
        """One line: steps spanned and the loss level.

        Returns
        -------
        str
            The report.
        """
        return (f"plateau at loss {self.loss:.6g}, steps {self.start_step} .. {self.end_step} "
                f"(records {self.start} .. {self.end})")


def _slopes(loss, steps):
    """Former linear-time slopes ``−Δ log L / Δt · T``."""
    logL = np.log(np.maximum(loss, 1e-300))
    T = float(steps[-1]) if steps[-1] > 0 else 1.0
    return -np.diff(logL) / np.maximum(np.diff(steps), 1) * T


def _log_slopes(loss, steps):
    """Log-log slopes ``−Δ log L / Δ log(t + t_0)`` and the log-times ``τ``."""
    logL = np.log(np.maximum(loss, np.finfo(np.float64).tiny))
    t0 = float(steps[1] - steps[0])
    tau = np.log(steps - steps[0] + t0)
    return -np.diff(logL) / np.diff(tau), tau


def _valleys(s, mid, rel, window):
    """Intervals whose slope is below ``rel`` times the smaller of the steepest falls within
    ``window`` (log-time) before and after it: a shoulder between two falls."""
    out = np.zeros(s.size, dtype=bool)
    for j in range(s.size):
        left = s[(mid >= mid[j] - window) & (mid <= mid[j])]
        right = s[(mid >= mid[j]) & (mid <= mid[j] + window)]
        peak = min(left.max(), right.max())
        out[j] = abs(s[j]) < rel * peak
    return out


#: a band interval must also be a shoulder at this fraction of the neighbouring falls' slope
BAND_SLOPE = 0.25


def _bands(logL, tau, band, need):
    """Intervals inside a window of at least ``need`` in log-time over which the loss stays
    within a factor ``exp(band)`` (max over min): a level held with a small steady slope.

    Two pointers with monotone queues: the longest window from ``j`` never ends before the
    one from ``j - 1``, so the scan is ``O(R)``."""
    import collections

    n = logL.size
    out = np.zeros(max(n - 1, 0), dtype=bool)
    lo, hi = collections.deque(), collections.deque()      # indices, increasing / decreasing
    k = -1
    for j in range(n - 1):
        while lo and lo[0] < j:
            lo.popleft()
        while hi and hi[0] < j:
            hi.popleft()
        if k < j:
            k = j
            lo.clear(), hi.clear()
            lo.append(j), hi.append(j)
        while k + 1 < n:
            v = logL[k + 1]
            vmin = min(logL[lo[0]], v)
            vmax = max(logL[hi[0]], v)
            if vmax - vmin > band:
                break
            k += 1
            while lo and logL[lo[-1]] >= v:
                lo.pop()
            lo.append(k)
            while hi and logL[hi[-1]] <= v:
                hi.pop()
            hi.append(k)
        if k > j and tau[k] - tau[j] >= need:
            out[j:k] = True
    return out


def detect_plateaus(loss, steps, *, slope_tol=None, min_length=None, scale="log",
                    relative_tol=0.1, window=0.5, band=0.02):
    """Plateaus of a loss curve, scale-free in log-loss and log-time (see the module docstring).

    Parameters
    ----------
    loss : array_like of shape (R,)
        Positive losses at the record steps.
    steps : array_like of shape (R,)
        Increasing record steps (or times).
    slope_tol : float, optional
        Largest ``|slope|`` of a plateau: default ``0.1`` (log-log slope) for ``scale="log"``,
        ``0.05`` (normalized linear-time slope) for ``scale="linear"``.
    min_length : float, optional
        Shortest plateau: default ``0.05`` in log-time (``scale="log"``), or ``0.02`` of the
        last step (``scale="linear"``).
    scale : {"log", "linear"}, default="log"
        ``"linear"``: the former criterion, kept for comparison.
    relative_tol : float, default=0.1
        (``scale="log"``) an interval also counts as flat when its slope is below this
        fraction of the steepest falls within ``window`` before and after it (a shoulder
        between two falls, e.g. the 0.046 plateau of Wu et al.'s 3-D task); ``0`` turns this off.
    window : float, default=0.5
        Log-time half-width of that neighbourhood.
    band : float, default=0.02
        (``scale="log"``) an interval also counts as flat when it lies in a stretch of at
        least ``min_length`` in log-time over which the loss stays within a factor
        ``exp(band)`` (2 %) and its slope is below ``0.25`` times the steepest falls within
        ``window`` before and after it: a level held with a small steady slope (up to
        ``band / min_length``), such as the 0.046 shoulder of Wu et al.'s 3-D task, whose
        slope stays at 0.16-0.27 in 6 of 100 seeds; ``0`` turns this off.

    Returns
    -------
    list of Plateau
        The plateaus in order of time: record indices and steps of their start and end, a
        representative record and its loss.

    References
    ----------
    Wu, Simsek & Ged, arXiv 2402.05626, section 4.2 (saddle-to-saddle dynamics).

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
    if np.any(loss < 0):
        raise ValidationError(f"`loss` must be >= 0 (a loss curve); got a minimum of "
                              f"{loss.min():.3g}.")
    scale = check_choice("scale", scale, ("log", "linear"))
    if slope_tol is None:
        slope_tol = 0.1 if scale == "log" else 0.05
    if min_length is None:
        min_length = 0.05 if scale == "log" else 0.02
    slope_tol = check_float("slope_tol", slope_tol, minimum=0.0, strict_min=True)
    min_length = check_float("min_length", min_length, minimum=0.0)
    relative_tol = check_float("relative_tol", relative_tol, minimum=0.0, maximum=1.0)
    window = check_float("window", window, minimum=0.0)
    band = check_float("band", band, minimum=0.0)
    if scale == "log":
        s, tau = _log_slopes(loss, steps)
        length = lambda a, b: tau[b] - tau[a]                       # noqa: E731
        need = min_length
    else:
        s = _slopes(loss, steps)
        length = lambda a, b: steps[b] - steps[a]                   # noqa: E731
        need = min_length * steps[-1]
    flat = np.abs(s) < slope_tol
    if scale == "log" and relative_tol > 0:
        flat |= _valleys(s, 0.5 * (tau[1:] + tau[:-1]), relative_tol, window)
    if scale == "log" and band > 0:
        flat |= _bands(np.log(np.maximum(loss, np.finfo(np.float64).tiny)), tau, band,
                       need) & _valleys(s, 0.5 * (tau[1:] + tau[:-1]), BAND_SLOPE, window)
    out, j = [], 0
    while j < flat.size:
        if not flat[j]:
            j += 1
            continue
        k = j
        while k + 1 < flat.size and flat[k + 1]:
            k += 1
        start, end = j, k + 1                      # record indices
        # at least two flat intervals (three records): one interval cannot tell a plateau
        # from the first record of a steady fall
        if length(start, end) >= need and (scale == "linear" or end - start >= 2):
            seg = np.abs(s[j:k + 1])
            rep = j + int(np.flatnonzero(seg == seg.min())[-1]) + 1
            rep = min(rep, end)
            # the level: the median over the strictly flat core (|s| < slope_tol) when it
            # has two intervals, so that shoulder intervals at the edges do not pull it
            core = np.flatnonzero(np.abs(s[j:k + 1]) < slope_tol) + j
            level = (np.median(loss[np.unique(np.concatenate([core, core + 1]))])
                     if core.size >= 2 else np.median(loss[start:end + 1]))
            out.append(Plateau(start=int(start), end=int(end), start_step=int(steps[start]),
                               end_step=int(steps[end]), representative=int(rep),
                               loss=float(level)))
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
        where they are not tiny), ``final_verdict`` and ``final_reason`` (of the **final
        point**, snapped and classified — not the last plateau's verdict, which is
        ``last_plateau_verdict``), ``final_in_plateau`` (whether the run ends on a plateau;
        if not, the loss is still falling and the final point is not yet a stationary point),
        ``final_loss``, ``final_snapped_loss``, ``final_moved``, ``final_zero_neurons``
        (put at the origin by the final snap) and ``final_kept_live`` (neurons that settled
        over the final stretch and stay live although ``zero_tol`` alone would put them at the
        origin; see ``final_settled`` of :func:`saddle_to_saddle`); ``final_settled_fallback``
        (keeping them live left the point not stationary, so they went to the origin).
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
        """Loss of each plateau, in order of time."""
        return [p["loss"] for p in self.plateaus]

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"plateaus": self.plateaus, "checks": self.checks, "settings": self.settings}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
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
                     f" final verdict (final point{'' if c['final_in_plateau'] else ', loss still falling'}):"
                     f" {c['final_verdict']}")
        return "\n".join(lines)


def saddle_to_saddle(trajectory, steps, X, y, *, arch, loss_curve=None, loss="mse",
                     slope_tol=None, min_length=None, kink_tol=1e-3, zero_tol=1e-3,
                     growth_factor=10.0, check=True, seed=0, zero_escaping=True,
                     zero_tol_ladder=(1.0, 10 ** 0.5, 10.0), final_settled=True, tol=1e-8,
                     verdict_kink_tol=None):
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
        Architecture of the trajectory's parameters (shallow, ReLU-like).
    loss_curve : array_like of shape (R,), optional
        Recorded losses (computed from the trajectory when omitted).
    loss : {"mse", "bce"}, default="mse"
    slope_tol, min_length : float, optional
        Plateau criterion (:func:`detect_plateaus`, log-log slope and log-time length).
    kink_tol, zero_tol : float
        Snapping tolerances (:func:`~topoanalysis.critical.snap.snap`; defaults ``1e-3``):
        heuristic, they choose the point to classify, never its verdict.
    growth_factor : float, default=10.0
        A neuron "grows next" when its amplitude grows by more than this factor.
    check : bool, default=True
        Numerical checks of each verdict.
    seed : int, default=0
        Seed of the random perturbations of the checks.
    zero_escaping : bool, default=True
        Snap the neurons that grow later (by more than ``growth_factor`` after the plateau's
        representative record) and are still below ``1/growth_factor`` of the plateau's largest amplitude
        to the origin, whatever ``zero_tol`` says: they are escape neurons already leaving
        the saddle, at the origin in the vanishing-initialization limit. Listed per plateau as
        ``escaping_zeroed``. ``False``: ``zero_tol`` alone decides (the former behaviour).
    zero_tol_ladder : tuple of float, default=(1, 10**0.5, 10)
        Factors of ``zero_tol`` tried in turn when a snapped plateau point is not stationary:
        the first stationary snapped point is kept (``zero_tol_used`` per plateau, with the
        distance ``moved`` and the loss change it costs); ``(1,)`` snaps once.
    final_settled : bool, default=True
        At the final point, neurons whose amplitude changes by at most ``growth_factor`` over
        the final stretch (the final plateau, or since the last plateau ended) have settled
        and stay live whatever their size; only the others (still growing or vanishing) may
        go to the origin (``zero_tol``). The final verdict is then about the network as
        trained: a small settled neuron put at the origin can become an escape neuron there
        and turn a local minimum into a "saddle" of another point. When the point with them
        live is not stationary (a neuron still leaving slowly along its own direction, whose
        growth direction is then a descent direction), they go to the origin as ``zero_tol``
        alone decides. The plateau the run ends in is snapped the same way. Listed in ``checks`` as
        ``final_kept_live`` (settled neurons that ``zero_tol`` alone would put at the origin) and
        ``final_zero_neurons``. ``False``: ``zero_tol`` alone decides (the former behaviour).
    tol : float, default=1e-8
        Tolerance of the stationarity conditions of every verdict (plateaus and final point),
        as in :func:`~topoanalysis.critical.classify`.
    verdict_kink_tol : float, optional
        Kink tolerance of the verdicts at the snapped points (``classify``'s ``kink_tol``):
        default ``min(kink_tol, 1e-9)`` (``1e-9`` with the default ``kink_tol``; ``0`` when
        ``kink_tol=0``, exact signs only).

    Returns
    -------
    SaddleToSaddle
        Per plateau: the snapped point, its verdict and reason, escape neurons, the neurons
        that grow next and their growth rates; with the checks, the neuron amplitudes along
        the run and the settings.

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
    kink_tol, zero_tol = check_tol("kink_tol", kink_tol), check_tol("zero_tol", zero_tol)
    tol = check_tol("tol", tol)
    vkt = _verdict_kink_tol(verdict_kink_tol, kink_tol)
    check = check_bool("check", check)
    zero_escaping = check_bool("zero_escaping", zero_escaping)
    final_settled = check_bool("final_settled", final_settled)
    zero_tol_ladder = [check_float("zero_tol_ladder", f, minimum=1.0) for f in
                       (zero_tol_ladder if np.ndim(zero_tol_ladder) else [zero_tol_ladder])]
    if not zero_tol_ladder:
        raise ValidationError("`zero_tol_ladder` must hold at least one factor >= 1; got ().")
    check_architecture("arch", arch)
    traj = arch.check_params(traj, "trajectory", batch=True)
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
    last = traj.shape[0] - 1
    in_plateau = bool(plats) and plats[-1].end == last
    # which small neurons are at the origin is read off the trajectory, as at the plateaus:
    # over the final stretch (the final plateau when the run ends in one, else since the last
    # plateau ended) a neuron whose amplitude grows or shrinks by more than growth_factor is
    # still leaving (an escape neuron) or vanishing, and the snap may put it at the origin
    # when it is small (zero_tol); a neuron whose amplitude stays within that factor has
    # settled and stays live whatever its size — it is part of the network as trained (a
    # small member of a split group, amplitude 6e-4 of 0.3, would otherwise be put at the
    # origin, where it is an escape neuron: the verdict would be about another point)
    w_start = plats[-1].start if in_plateau else (plats[-1].end if plats else 0)
    if final_settled and w_start < last:
        lo, hi = np.minimum(amp[w_start], amp[last]), np.maximum(amp[w_start], amp[last])
        settled = [int(k) for k in range(amp.shape[1]) if hi[k] <= growth_factor * lo[k]]
    else:
        settled = []
    rows = []
    for i, pl in enumerate(plats):
        rep = pl.representative
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
        # escape neurons already on their way out: they grow by more than growth_factor
        # later in the run (at the next plateau or after) and are still small against the plateau's grown neurons
        # (below 1/growth_factor of the largest). In the vanishing-initialization limit they
        # are at the origin at this saddle, so the snap puts them there whatever their size
        # (a fixed zero_tol alone leaves such a neuron live, and its growth direction is then
        # a descent direction: "not stationary", Wu et al.'s 3-D task, plateaus 1 and 2)
        later = amp[rep:].max(axis=0)
        escaping = [k for k in range(amp.shape[1])
                    if later[k] > growth_factor * amp[rep, k]
                    and amp[rep, k] * growth_factor <= amp[rep].max()] if zero_escaping else []
        point = shallow_point(Network(arch, traj[rep]), X, y, loss)
        # the nearest stationary point: partly grown neurons that stopped growing (amplitude
        # ~1e-3 of the grown ones at finite sigma, 0 in the vanishing limit) can keep the
        # first snap off it; a larger zero_tol is tried, at most zero_tol_ladder[-1], and the
        # first snapped point that is stationary (exactly, by the LPs) is kept
        # (the plateau the run ends in is the final point's: its settled neurons stay live
        # first, as at the final point)
        keeps = [settled, ()] if i == len(plats) - 1 and in_plateau and settled else [()]
        for keep, zt in [(kp, zero_tol * f) for kp in keeps for f in zero_tol_ladder]:
            s = _snap(point, kink_tol, min(zt, 0.5), escaping=escaping, keep=keep)
            v = _classify(shallow_point(s.network, X, y, loss), vkt, tol, 0.0, check,
                          (1e-6, 1e-4, 1e-2), 100, seed)
            if v.verdict != "not stationary":
                break
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
                     "escaping_zeroed": escaping, "snap_method": s.method,
                     "zero_tol_used": min(zt, 0.5),
                     "descent_slope": (None if v.stationarity.is_stationary
                                       else v.stationarity.descent_slope),
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
    # the final verdict is the final point's (snapped and classified), not the last plateau's:
    # while the loss is still falling the run has not reached that plateau's point
    fpoint = shallow_point(Network(arch, traj[last]), X, y, loss)
    fs = _snap(fpoint, kink_tol, zero_tol, keep=settled)
    fv = _classify(shallow_point(fs.network, X, y, loss), vkt, tol, 0.0, check,
                   (1e-6, 1e-4, 1e-2), 100, seed)
    former = _snap(fpoint, kink_tol, zero_tol) if settled else fs
    settled_fallback = False
    if fv.verdict == "not stationary" and set(former.zero_neurons) != set(fs.zero_neurons):
        # a neuron slowly leaving along its own direction keeps the point off stationarity
        # when live (its growth direction is a descent direction): then it was not settled,
        # and the snap puts it at the origin as zero_tol alone does
        fs, settled_fallback = former, True
        fv = _classify(shallow_point(fs.network, X, y, loss), vkt, tol, 0.0, check,
                       (1e-6, 1e-4, 1e-2), 100, seed)
    # the settled neurons that stay live only because they settled (zero_tol alone would
    # put them at the origin)
    kept_live = sorted(set(former.zero_neurons) - set(fs.zero_neurons))
    checks = {"escape_through_escape_neurons": bool(through), "balanced_growth": bal,
              "grow_along_descent": all(r["grow_along_descent"] for r in rows),
              "final_verdict": fv.verdict, "final_reason": fv.reason,
              "final_loss": float(loss_curve[last]), "final_snapped_loss": fs.loss_after,
              "final_moved": fs.moved, "final_in_plateau": in_plateau,
              "final_zero_neurons": [int(k) for k in fs.zero_neurons],
              "final_kept_live": [int(k) for k in kept_live],
              "final_settled_fallback": settled_fallback,
              "last_plateau_verdict": rows[-1]["verdict"] if rows else None,
              "n_plateaus": len(rows)}
    return SaddleToSaddle(
        plateaus=rows, checks=checks,
        amplitudes={"steps": steps.astype(int).tolist(), "w_norm": W, "a_norm": A,
                    "angles": angles},
        settings={"criterion": "log-log slope |d log L / d log t| < "
                               f"{0.1 if slope_tol is None else slope_tol} (or a shoulder between "
                               f"two falls) for >= {0.05 if min_length is None else min_length} "
                               f"in log-time", "slope_tol": slope_tol, "min_length": min_length,
                  "kink_tol": kink_tol, "zero_tol": zero_tol, "growth_factor": growth_factor,
                  "zero_escaping": zero_escaping, "zero_tol_ladder": list(zero_tol_ladder),
                  "final_settled": final_settled, "tol": tol, "verdict_kink_tol": vkt})
