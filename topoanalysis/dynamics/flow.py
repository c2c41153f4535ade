"""Gradient flow of many networks: adaptive Dormand–Prince 5(4) on the engine's gradient.

The papers' statements about conserved quantities and saddle-to-saddle dynamics are about
gradient **flow** ``dθ/dt = −∇L(θ)``, which gradient descent only approximates with a small
rate. :func:`gradient_flow` integrates the flow itself with the explicit Runge–Kutta pair of
Dormand and Prince (order 5 with an embedded order-4 error estimate, first-same-as-last, and
its order-4 continuous extension for records between steps), with the step-size controller
of Hairer's ``DOPRI5``. Every network of the ``(B, P)`` stack has its own time and step
size; all right-hand sides of one stage are evaluated in one call of the compiled engine,
and networks that are done leave the batch. ``train(..., optimizer="flow")`` calls it.
"""

import dataclasses
import math
import time

import numpy as np

from .._resources import check_memory
from .._validation import check_array, check_choice, check_float, check_int
from ..exceptions import ValidationError
from ..network import Architecture
from . import _engine
from ._shared import TrainResult

__all__ = ["FlowResult", "gradient_flow", "train_flow"]

# --- Dormand–Prince 5(4) tableau (Hairer, Nørsett & Wanner, Table II.5.2) -------------------
_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),  # = b: stage 7 is y_{n+1}
)
#: ``b − b̂``: the local error estimate is ``h Σ_j E_j k_j`` (sign is irrelevant, only norms).
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
#: Continuous extension (Shampine): ``y(t + xh) = y + h Σ_j k_j Σ_m P[j][m] x^(m+1)``.
_P = (
    (1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432),
    (0.0, 0.0, 0.0, 0.0),
    (0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799),
    (0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072),
    (0.0, 127303824393 / 49829197408, -318862633887 / 49829197408,
     701980252875 / 199316789632),
    (0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844),
    (0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423),
)
# Step-size controller of DOPRI5 (PI control with beta = 0.04).
_SAFE, _FAC_MIN, _FAC_MAX, _BETA = 0.9, 0.2, 10.0, 0.04
_EXPO1 = 0.2 - _BETA * 0.75
_MAX_REJECTS = 60          # consecutive rejections before a network counts as diverged
_CALL_SECONDS = 0.25       # target duration of one compiled call (cost model of train)
_THREAD_SECONDS = 2e-4     # least work per thread before a call uses a second thread
_TEAM_SECONDS = 1e-3       # the same for a compiled flow call

RUNNING, DONE, REACHED_TARGET, DIVERGED, MAX_STEPS = 0, 1, 2, 3, 4
_STATUS_NAMES = {DONE: "reached t_end", REACHED_TARGET: "reached target_loss",
                 DIVERGED: "diverged", MAX_STEPS: "stopped at max_steps"}


@dataclasses.dataclass(frozen=True, eq=False)
class FlowResult(TrainResult):
    """Outcome of :func:`gradient_flow` (a :class:`~topoanalysis.dynamics.TrainResult`).

    The fields of :class:`TrainResult` keep their meaning with time in place of steps:

    - ``loss``, ``conserved``, ``trajectory`` are recorded at ``record_times`` (not steps);
      NaN at record times after a network stopped.
    - ``steps_taken`` is the number of **accepted** Runge–Kutta steps of each network.
    - ``record_steps`` is, at each record time, the largest number of accepted steps any
      network had taken when it passed that time (per network: ``record_accepted``); use
      ``record_times`` as the x-axis.
    - ``reached_target``, ``diverged``, ``final_loss``, ``params`` as for :func:`train`.

    Attributes
    ----------
    record_times : ndarray of shape (R,)
        Times of the records.
    record_accepted : ndarray of int64, shape (B, R)
        Accepted steps of each network when it passed each record time (-1 if it never did).
    final_time : ndarray of shape (B,)
        Time each network reached (``t_end`` unless it stopped early).
    n_evaluations : ndarray of int64, shape (B,)
        Gradient evaluations spent on each network (6 per attempted step, 2 to start; a
        step the compiled flow redoes because a call stopped among its records counts
        once).
    n_loss_evaluations : ndarray of int64, shape (B,)
        Extra loss-only evaluations for records between steps.
    rejected_steps : ndarray of int64, shape (B,)
        Steps rejected by the error control.
    step_size : ndarray of shape (B,)
        The step size each network would have tried next.
    status : ndarray of int8, shape (B,)
        1 reached ``t_end``, 2 reached ``target_loss``, 3 diverged, 4 stopped at
        ``max_steps``.
    kink_events : ndarray of int64, shape (B,) or None
        With ``kink_events=True``: steps cut at a kink crossing.
    sliding_kinks : ndarray of int64, shape (B,) or None
        With ``kink_events=True``: (neuron, sample) pairs found sliding along their kink
        (unfrozen: stepped without events from then on).
    """

    record_times: np.ndarray
    record_accepted: np.ndarray
    final_time: np.ndarray
    n_evaluations: np.ndarray
    n_loss_evaluations: np.ndarray
    rejected_steps: np.ndarray
    step_size: np.ndarray
    status: np.ndarray
    kink_events: np.ndarray = None
    sliding_kinks: np.ndarray = None

    def summary(self):
        """A few lines of text: settings, then one line per network (at most 20).

        Returns
        -------
        str
            The report.
        """
        s = self.settings
        lines = [f"gradient flow (Dormand-Prince 5(4)), {self.n_networks} network(s), "
                 f"{s['loss']} loss, t_end={s['t_end']:g}, rtol={s['rtol']:g}, "
                 f"atol={s['atol']:g}"]
        for i in range(min(self.n_networks, 20)):
            lines.append(
                f"  network {i}: loss {self.final_loss[i]:.6g} at t={self.final_time[i]:.6g} "
                f"({_STATUS_NAMES.get(int(self.status[i]), 'running')}); "
                f"{self.steps_taken[i]} accepted / {self.rejected_steps[i]} rejected steps, "
                f"{self.n_evaluations[i]} gradient evaluations")
        if self.n_networks > 20:
            lines.append(f"  ... {self.n_networks - 20} more")
        return "\n".join(lines)

    def to_dict(self):
        """JSON-able summary (per-network arrays as lists; records included), with every field,
        so that :meth:`from_dict` rebuilds the result.

        Returns
        -------
        dict
            Plain JSON types.
        """
        from .._results import as_list, plain

        return {
            "architecture": self.arch.to_dict(), "settings": plain(self.settings),
            "final_loss": as_list(self.final_loss), "final_time": as_list(self.final_time),
            "steps_taken": as_list(self.steps_taken),
            "rejected_steps": as_list(self.rejected_steps),
            "n_evaluations": as_list(self.n_evaluations),
            "n_loss_evaluations": as_list(self.n_loss_evaluations),
            "diverged": as_list(self.diverged), "reached_target": as_list(self.reached_target),
            "status": as_list(self.status), "record_times": as_list(self.record_times),
            "kink_events": as_list(self.kink_events),
            "sliding_kinks": as_list(self.sliding_kinks),
            "loss": as_list(self.loss), "conserved": as_list(self.conserved),
            "params": as_list(self.params), "params_dtype": str(np.asarray(self.params).dtype),
            "record_steps": as_list(self.record_steps),
            "record_accepted": as_list(self.record_accepted),
            "step_size": as_list(self.step_size), "trajectory": as_list(self.trajectory),
        }

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict` (also after a JSON round trip: ``null`` reads as NaN).

        Parameters
        ----------
        d : dict
            A dictionary written by :meth:`to_dict`.

        Returns
        -------
        FlowResult
            The result, every field restored (records, record times, kink counts).

        Raises
        ------
        ValidationError
            If ``d`` is not a dictionary or lacks a key of :meth:`to_dict` (a dictionary
            written before the parameters and records were saved).
        """
        from .._results import as_array

        if not isinstance(d, dict):
            raise ValidationError(f"`d` must be a dict written by FlowResult.to_dict; got "
                                  f"{type(d).__name__}.")
        need = ("architecture", "settings", "params", "loss", "record_steps", "record_times",
                "record_accepted", "final_loss", "final_time", "steps_taken", "diverged",
                "reached_target", "n_evaluations", "n_loss_evaluations", "rejected_steps",
                "step_size", "status")
        missing = [k for k in need if k not in d]
        if missing:
            raise ValidationError(f"`d` must hold every key FlowResult.to_dict writes; got none "
                                  f"for {', '.join(missing)}.")
        ints = lambda k, dt=np.int64: as_array(d.get(k), dt)      # noqa: E731
        return cls(
            arch=Architecture.from_dict(d["architecture"]),
            params=as_array(d["params"], np.dtype(d.get("params_dtype", "float64"))),
            loss=as_array(d["loss"]), record_steps=ints("record_steps"),
            conserved=as_array(d.get("conserved")), trajectory=as_array(d.get("trajectory")),
            final_loss=as_array(d["final_loss"]), steps_taken=ints("steps_taken"),
            diverged=as_array(d["diverged"], bool),
            reached_target=as_array(d["reached_target"], bool), settings=dict(d["settings"]),
            record_times=as_array(d["record_times"]), record_accepted=ints("record_accepted"),
            final_time=as_array(d["final_time"]), n_evaluations=ints("n_evaluations"),
            n_loss_evaluations=ints("n_loss_evaluations"),
            rejected_steps=ints("rejected_steps"), step_size=as_array(d["step_size"]),
            status=ints("status", np.int8), kink_events=ints("kink_events"),
            sliding_kinks=ints("sliding_kinks"))


class _Gradient:
    """The flow's right-hand side on a sub-stack: one compiled engine call per
    ``max_rows`` networks (each call bounded to about ``_CALL_SECONDS``, so a
    KeyboardInterrupt is seen between calls)."""

    def __init__(self, arch, loss, data, n_threads, data32=None):
        self.eng = _engine.kernels()
        self.data = data
        self.data32 = data32    # float32 blocks: the float32 right-hand side
        self.args = _engine.kernel_arch_args(arch, loss)
        self.P = arch.n_params
        self.n_threads = n_threads
        self.per_net = 2e-10 * max(1, data.n_samples) * self.P   # seconds on one core
        self.max_rows = max(1, int(_CALL_SECONDS * n_threads / max(self.per_net, 1e-12)))
        self._out = np.zeros((1, 1, 1))

    def threads(self, rows):
        """Threads for a call on ``rows`` networks: a second thread only for at least
        ~0.2 ms of work each (waking a thread team costs more than a small evaluation, and
        much more on a loaded machine). Results do not depend on it."""
        return max(1, min(self.n_threads, rows, int(rows * self.per_net / _THREAD_SECONDS)))

    def __call__(self, theta, want_grad=True):
        """``(loss, −gradient, bad)`` for the rows of ``theta`` (C-contiguous)."""
        n = theta.shape[0]
        loss = np.full(n, np.nan)
        acc = np.full(n, np.nan)
        grad = np.zeros((n, self.P)) if want_grad else np.zeros((1, 1))
        bad = np.zeros(n, dtype=np.int8)
        d = self.data
        if self.data32 is not None:
            # the float32 kernels at the float rounding of the state (as the compiled flow)
            with np.errstate(over="ignore"):   # a state beyond float32's range diverges
                th32 = np.ascontiguousarray(theta, dtype=np.float32)
            g32 = np.zeros((n, self.P), np.float32) if want_grad else np.zeros((1, 1), np.float32)
            for s in range(0, n, self.max_rows):
                sl = slice(s, s + self.max_rows)
                self.eng.evaluate_networks_f32(
                    th32[sl], self.data32.Xb, self.data32.Yb, self.data32.n_samples,
                    *self.args, True, want_grad, False, loss[sl],
                    g32[sl] if want_grad else g32, acc[sl], bad[sl],
                    self.threads(min(n - s, self.max_rows)), self.data32.Xp)
            if want_grad:
                grad[...] = g32
        else:
            for s in range(0, n, self.max_rows):
                sl = slice(s, s + self.max_rows)
                self.eng.evaluate_networks(
                    theta[sl], d.Xb, d.Yb, d.X, d.Y, *self.args, True, want_grad, False,
                    False, loss[sl], grad[sl] if want_grad else grad, acc[sl], self._out,
                    bad[sl], self.threads(min(n - s, self.max_rows)), d.Xp)
        _engine.raise_for_status(bad, "networks", on_diverged="ignore")
        if want_grad:
            np.negative(grad, out=grad)
        return loss, grad, bad != 0


def _pow(a, p):
    """``a ** p`` elementwise by the C library's ``pow``, as the compiled flow computes it.

    NumPy's own power loops differ by CPU (its AVX-512 build rounds some results differently
    from libm), which would move the reference integrator's step sizes by an ulp on some
    machines and not on others. Bases here are non-negative (error norms, step factors)."""
    a = np.asarray(a, dtype=float)
    out = np.empty(a.shape)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1).tolist()):
        flat[i] = math.pow(v, p) if v >= 0.0 else math.nan
    return out


def _conserved(arch, theta):
    """``||incoming||² − ||outgoing||²`` per hidden neuron of the rows of ``theta``, summed
    as the compiled flow sums them (``conserved`` of ext/_common.pxi: squares added left to
    right, ``(in − out) + b²``); a square that overflows gives inf or NaN, as there (not the
    ValidationError of :func:`~topoanalysis.network.conserved_quantities`)."""
    layers = arch.unpack(np.asarray(theta))
    out = []
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(len(arch.hidden)):
            W_in, b_in = layers[i]
            W_out, _ = layers[i + 1]
            sw = np.zeros(W_in.shape[:-1])
            for c in range(W_in.shape[-1]):
                sw = sw + W_in[..., c] * W_in[..., c]
            so = np.zeros(W_in.shape[:-1])
            for r in range(W_out.shape[-2]):
                so = so + W_out[..., r, :] * W_out[..., r, :]
            b = 0.0 if b_in is None else b_in * b_in
            out.append((sw - so) + b)
    return np.concatenate(out, axis=-1)


def _rms(a):
    return np.sqrt(np.mean(a * a, axis=1))


def _combine(y, h, coeffs, K):
    """``y + h Σ_j coeffs[j] K[j]`` elementwise (no BLAS: rows never interact)."""
    acc = None
    for c, k in zip(coeffs, K):
        if c == 0.0:
            continue
        acc = c * k if acc is None else acc + c * k
    return y + h[:, None] * acc


def _initial_step(f, y0, f0, t_span, rtol, atol):
    """Hairer's starting step (``HINIT`` of DOPRI5), per row; one more evaluation."""
    sk = atol + rtol * np.abs(y0)
    # the norms may overflow (huge gradients, a tiny atol): a starting step of 0 or NaN,
    # which the step loop stops as diverged (as the compiled flow, without warnings)
    with np.errstate(over="ignore", invalid="ignore"):
        dnf = np.mean((f0 / sk) ** 2, axis=1)
        dny = np.mean((y0 / sk) ** 2, axis=1)
        h = np.where((dnf > 1e-10) & (dny > 1e-10),
                     0.01 * np.sqrt(dny / np.maximum(dnf, 1e-300)), 1e-6)
    h = np.minimum(h, t_span)
    _, f1, bad = f(np.ascontiguousarray(y0 + h[:, None] * f0))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        der2 = _rms((f1 - f0) / sk) / h
        der12 = np.maximum(np.abs(der2), np.sqrt(dnf))
        h1 = np.where(der12 <= 1e-15, np.maximum(1e-6, h * 1e-3),
                      _pow(0.01 / np.maximum(der12, 1e-300), 0.2))
    h1 = np.where(bad | ~np.isfinite(h1), h, h1)
    return np.minimum(np.minimum(100 * h, h1), t_span)


def _check_record_times(record_times, t_end):
    if record_times is None:
        return np.linspace(0.0, t_end, 101)
    rt = check_array("record_times", record_times, ndim=1)
    if rt.size == 0:
        raise ValidationError("`record_times` must hold at least one time; got an empty array.")
    if rt[0] < 0 or rt[-1] > t_end:
        raise ValidationError(
            f"`record_times` must lie in [0, t_end] = [0, {t_end:.17g}]; got times from "
            f"{rt.min():.17g} to {rt.max():.17g}.")
    if np.any(np.diff(rt) <= 0):
        raise ValidationError("`record_times` must be strictly increasing; got "
                              f"{np.array2string(rt, threshold=8)}.")
    return rt


def _progress_bar(total, progress):
    from .._progress import progress_bar

    return progress_bar(progress, total=total, desc="gradient flow", unit="t",
                        bar_format="{l_bar}{bar}| t={n:.4g}/{total:.4g} [{elapsed}<{remaining}]")


def gradient_flow(theta0, X, y, *, arch=None, loss="mse", t_end, rtol=1e-5, atol=1e-8,
                  record_times=None, max_steps=None, first_step=None, record_params=False,
                  record_conserved=True, target_loss=None, n_threads=None, progress=True,
                  method="compiled", kink_events=False, dtype="float64"):
    """Integrate the gradient flow ``dθ/dt = −∇L(θ)`` of many networks to time ``t_end``.

    Parameters
    ----------
    theta0 : Network, sequence of Network, or array_like of shape (P,) or (B, P)
        Initial networks; arrays need ``arch``.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets as for :func:`~topoanalysis.dynamics.train`.
    arch : Architecture, optional
        Required when ``theta0`` is an array.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    t_end : float
        Final time ``> 0`` (gradient descent with rate ``η`` for ``n`` steps approximates
        the flow up to ``t = η n``).
    rtol, atol : float, default 1e-5 and 1e-8
        Relative and absolute tolerances of the local error per step: a step is accepted
        when ``sqrt(mean((err_i / (atol + rtol·max(|θ_i|, |θ_i'|)))²)) <= 1``.
    record_times : array_like of shape (R,), optional
        Strictly increasing times in ``[0, t_end]`` at which the loss (and the conserved
        quantities, the parameters) are recorded. Default: 101 equally spaced times from 0 to
        ``t_end``. Records between steps use the continuous extension of the method (order
        4); they do not change the steps taken.
    max_steps : int, optional
        Stop a network after this many accepted steps (default: no limit).
    first_step : float, optional
        Initial step size (default: Hairer's estimate, which costs one gradient evaluation).
    record_params, record_conserved : bool
        As for :func:`~topoanalysis.dynamics.train`.
    target_loss : float, optional
        Stop a network at the end of the first accepted step whose loss is ``<= target_loss``.
    n_threads : int, optional
        OpenMP threads over the networks of each engine call. Results do not depend on it,
        nor on which other networks are integrated in the same stack.
    progress : bool, default=True
        Show a tqdm progress bar over time (the smallest time of the networks still running).
    method : {"compiled", "python"}, default="compiled"
        ``"compiled"``: the whole step loop runs in the compiled engine
        (``topoanalysis._kernels.flow``), each network on one thread, in calls of about
        0.25 s. ``"python"``: the reference integrator, which steps in NumPy and calls the
        engine once per stage for the whole stack; the same arithmetic (NumPy's pairwise
        sums included), so both give the same numbers up to rounding (tested to 1e-12).
    kink_events : bool, default=False
        Treat the kinks of a ReLU-like network as events (``method="compiled"``; one hidden
        layer of ``relu``, ``leaky_relu`` or ``abs``, one output, an elementwise loss): the
        first-layer activation pattern is frozen during a step, so each step integrates a
        smooth field at full order; a pre-activation ``x·w_k + b_k`` of a frozen pair that
        changes sign inside an accepted step is located on the continuous extension
        (bisection to the last bit), the step is cut there and the integration restarts with
        the pair on its new side (one extra gradient evaluation). A pair whose new side's
        field points back (a sliding, Filippov kink) is unfrozen and follows the sign of
        ``z`` from then on, as without events. See Notes.
    dtype : {"float64", "float32"}, default="float64"
        Arithmetic of the right-hand side. ``"float32"`` evaluates the loss and its gradient
        (the work of the flow) with the float32 kernels of ``train(..., dtype="float32")`` on
        the data rounded to float, at the float rounding of the current state; the
        integrator (state, stages, error norm, step control, records) stays in double, so
        tolerances down to about ``1e-6`` remain meaningful. One hidden layer, an activation
        other than tanh, one output and an elementwise loss; not with ``kink_events``.

    Returns
    -------
    FlowResult
        Final parameters and losses, the loss (conserved quantities, parameters) at
        ``record_times``, the accepted and rejected steps, the final time and the status of
        each network.

    Raises
    ------
    ValidationError
        For an invalid argument; the message names it.
    ResourceError
        When the records (``B × R`` losses, conserved quantities and, with
        ``record_params``, parameters) would not fit in the available memory; before any
        work.

    Warns
    -----
    DivergenceWarning
        For networks whose step size collapsed (``60`` consecutive rejections, a step
        below the rounding of ``t``, or a step size that cannot advance ``t``: 0 or NaN
        when the starting step's norms overflow, e.g. for parameters ~1e75 or
        ``atol=1e-300`` with ``rtol=0``) or whose loss or gradient was non-finite at the
        start; they keep their last accepted parameters.

    Notes
    -----
    Dormand–Prince 5(4) with first-same-as-last (6 gradient evaluations per attempted
    step), the embedded error estimate of order 4 and the PI step-size controller of
    Hairer's DOPRI5 (safety 0.9, factor in [0.2, 10], ``β = 0.04``; no increase right after
    a rejection), all per network. A stage whose loss or gradient is not finite rejects the
    step. Each compiled call handles
    at most about 0.25 s of work, so an interrupt (Ctrl-C) stops the run between calls.
    Cost ``O(6 · steps · N · P)`` per network.

    **ReLU kinks.** For ReLU-like activations the gradient jumps where a sample crosses a
    neuron's kink, and the flow is a differential equation with a discontinuous right-hand
    side. A crossing costs a few rejected steps (``kink_events=True``: one extra
    evaluation, no rejection). But where the flow *slides* along a kink
    (a pre-activation held at 0 by the fields on both sides: a Filippov sliding mode), every
    explicit step overshoots across it, the local error is of first order and the step size
    becomes proportional to the tolerance: the cost then grows like ``1/rtol``
    (measured: ~10× more evaluations per 10× smaller tolerance for such networks, against
    ~1.6× for smooth ones). Tolerances of ``1e-3`` to ``1e-5`` are practical for ReLU
    networks; smooth activations (``tanh``, ``sigmoid``, ``linear``) take any tolerance.
    The ``l1`` loss has the same kind of kink where an output meets its target: a flow that
    holds outputs at their targets slides there and pays the same ``1/rtol`` with any
    activation, with or without ``kink_events`` (which treats the activations' kinks only;
    measured: 7·10⁴, 5.8·10⁵, 5.7·10⁶ evaluations at ``rtol`` 1e-4, 1e-5, 1e-6).

    An explicit Runge–Kutta method does not conserve the quadratic invariants
    ``c_k = ||w_k||² − ||a_k||²`` of positively homogeneous networks exactly; their drift is
    of the order of the tolerances (it vanishes as ``rtol, atol → 0``).

    References
    ----------
    .. [1] J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", J.
           Comput. Appl. Math. 6, 1980: the 5(4) pair.
    .. [2] E. Hairer, S. P. Nørsett, G. Wanner, "Solving Ordinary Differential Equations I",
           2nd ed., Springer 1993: Section II.4 (step-size control, starting step) and the
           DOPRI5 code.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture
    >>> from topoanalysis.init import init_params
    >>> arch = Architecture(2, (8,), 1)
    >>> X = np.random.default_rng(0).standard_normal((32, 2)); y = X[:, :1] * X[:, 1:]
    >>> res = gradient_flow(init_params(arch, n_networks=3), X, y, arch=arch, t_end=5.0,
    ...                     rtol=1e-4, atol=1e-7, record_times=[0, 1, 5], progress=False)
    >>> res.loss.shape, res.record_times.tolist(), bool(np.all(res.final_time == 5.0))
    ((3, 3), [0.0, 1.0, 5.0], True)
    >>> bool(np.all(np.abs(res.conserved_drift()) < 1e-3))   # c_k: conserved up to ~rtol
    True
    """
    arch, theta = _engine.resolve_params(theta0, arch, "theta0")
    from ..losses import check_loss

    loss = check_loss(loss)
    t_end = check_float("t_end", t_end, minimum=0.0, strict_min=True)
    rtol = check_float("rtol", rtol, minimum=0.0, maximum=1.0)
    atol = check_float("atol", atol, minimum=0.0)
    if rtol == 0.0 and atol == 0.0:
        raise ValidationError("`rtol` and `atol` must not both be 0; got rtol=0.0, atol=0.0.")
    if rtol != 0.0 and rtol < 100 * np.finfo(float).eps:
        raise ValidationError(f"`rtol` must be 0 or >= {100 * np.finfo(float).eps:.3g} "
                              f"(100 machine epsilons); got {rtol}.")
    rt = _check_record_times(record_times, t_end)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, minimum=1)
    if first_step is not None:
        first_step = check_float("first_step", first_step, minimum=0.0, strict_min=True)
    if target_loss is not None:
        target_loss = check_float("target_loss", target_loss)
    for name, flag in (("record_params", record_params), ("record_conserved", record_conserved),
                       ("progress", progress)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValidationError(f"`{name}` must be True or False; got {flag!r}.")
    method = check_choice("method", method, ("compiled", "python"))
    if not isinstance(kink_events, (bool, np.bool_)):
        raise ValidationError(f"`kink_events` must be True or False; got {kink_events!r}.")
    if kink_events:
        _check_kink_events(arch, loss, method)
    dtype = _engine.check_dtype(dtype, arch, loss)
    if dtype == "float32" and kink_events:
        raise ValidationError("`kink_events` needs dtype='float64' (the event location runs "
                              "in double); got dtype='float32' with kink_events=True.")
    data = _engine.prepare_data(arch, X, y, loss)
    data32 = None
    if dtype == "float32":   # as train: refuse what would round to inf, before any work
        _engine.check_float32_range("theta0", theta)
        _engine.check_float32_range("X", data.X)
        _engine.check_float32_range("y", data.Y)
        data32 = _engine.block_data(data.X, data.Y, "float32")
    B, P = theta.shape
    R, H = rt.size, arch.neuron_count
    # the records (loss, accepted steps, conserved quantities, parameters) and the state,
    # before any work, as train does (the reference integrator also holds its 7 stages)
    check_memory(8.0 * B * R * (2 + (H if record_conserved else 0) + (P if record_params else 0))
                 + 8.0 * B * P * (12 if method == "compiled" else 16),
                 f"the flow's records of {B} network(s) × {R} record times"
                 + (f" × {P} parameters" if record_params else ""), param="record_times")
    n_threads = _engine.resolve_threads(n_threads, B)
    if method == "python":
        res = _flow_python(arch, theta, data, loss, t_end, rtol, atol, rt, max_steps,
                           first_step, record_params, record_conserved, target_loss,
                           n_threads, progress, data32)
    else:
        res = _flow_compiled(arch, theta, data, loss, t_end, rtol, atol, rt, max_steps,
                             first_step, record_params, record_conserved, target_loss,
                             n_threads, progress, bool(kink_events), data32)
    if dtype == "float32":
        res.settings["dtype"] = "float32"
    return res


def _check_kink_events(arch, loss, method):
    why = None
    if method != "compiled":
        why = f"method='compiled' (got method={method!r})"
    elif len(arch.hidden) != 1:
        why = f"one hidden layer (got hidden widths {tuple(arch.hidden)})"
    elif arch.activation not in ("relu", "leaky_relu", "abs"):
        why = f"a kinked activation relu, leaky_relu or abs (got {arch.activation!r})"
    elif arch.outputs != 1 or loss == "cross_entropy":
        why = f"one output and an elementwise loss (got {arch.outputs} outputs, {loss!r})"
    if why is not None:
        raise ValidationError(f"`kink_events` needs {why}; pass kink_events=False.")


def _flow_python(arch, theta, data, loss, t_end, rtol, atol, rt, max_steps, first_step,
                 record_params, record_conserved, target_loss, n_threads, progress,
                 data32=None):
    """The reference integrator: NumPy steps, one engine call per stage for the stack."""
    B, P = theta.shape
    f = _Gradient(arch, loss, data, n_threads, data32)

    R, H = rt.size, arch.neuron_count
    loss_rec = np.full((B, R), np.nan)
    cons_rec = np.full((B, R, H), np.nan) if record_conserved else None
    param_rec = np.full((B, R, P), np.nan) if record_params else None
    rec_acc = np.full((B, R), -1, dtype=np.int64)
    next_rec = np.zeros(B, dtype=np.int64)
    t = np.zeros(B)
    status = np.zeros(B, dtype=np.int8)
    n_acc = np.zeros(B, dtype=np.int64)
    n_rej = np.zeros(B, dtype=np.int64)
    n_eval = np.zeros(B, dtype=np.int64)
    n_loss_eval = np.zeros(B, dtype=np.int64)
    consecutive_rej = np.zeros(B, dtype=np.int64)
    facold = np.full(B, 1e-4)
    last_rejected = np.zeros(B, dtype=bool)

    def record(rows, j, th, lv):
        loss_rec[rows, j] = lv
        rec_acc[rows, j] = n_acc[rows]
        if record_conserved:
            cons_rec[rows, j] = _conserved(arch, th)
        if record_params:
            param_rec[rows, j] = th

    # --- start: f(θ0), the records at t = 0, the first step --------------------------------
    cur_loss, k1, bad = f(theta)
    n_eval += 1
    # a non-finite loss or gradient at the start (finite outputs can still give an infinite
    # loss): stopped at once
    bad = bad | ~np.isfinite(cur_loss) | ~np.all(np.isfinite(k1), axis=1)
    status[bad] = DIVERGED
    ok = ~bad
    if rt[0] == 0.0:
        rows = np.flatnonzero(ok)
        record(rows, 0, theta[rows], cur_loss[rows])
        next_rec[rows] = 1
    if target_loss is not None:
        status[ok & (cur_loss <= target_loss)] = REACHED_TARGET
    h = np.full(B, np.nan)
    run = np.flatnonzero(status == RUNNING)
    if first_step is not None:
        h[:] = min(first_step, t_end)
    elif run.size:
        h[run] = _initial_step(f, theta[run], k1[run], t_end, rtol, atol)
        n_eval[run] += 1

    bar = _progress_bar(t_end, progress)
    shown = 0.0
    try:
        while True:
            run = np.flatnonzero(status == RUNNING)
            if run.size == 0:
                break
            remaining = t_end - t[run]
            land = h[run] >= remaining
            hh = np.where(land, remaining, h[run])
            # a step size that cannot advance the time (0 or NaN from an overflowing
            # starting-step norm, or below the rounding of t) would be accepted forever
            stuck = ~land & ~(t[run] + hh > t[run])
            if stuck.any():
                status[run[stuck]] = DIVERGED
                run, land, hh = run[~stuck], land[~stuck], hh[~stuck]
                if run.size == 0:
                    continue
            y0 = theta[run]
            K = [k1[run]]
            stage_bad = np.zeros(run.size, dtype=bool)
            for s in range(1, 7):
                ys = np.ascontiguousarray(_combine(y0, hh, _A[s], K))
                ls, ks, bs = f(ys)
                stage_bad |= bs
                K.append(ks)
            y1, loss1 = ys, ls
            n_eval[run] += 6
            with np.errstate(over="ignore", invalid="ignore"):
                err = hh[:, None] * sum(c * k for c, k in zip(_E, K) if c != 0.0)
                sc = atol + rtol * np.maximum(np.abs(y0), np.abs(y1))
                en = _rms(err / sc)
            en[stage_bad | ~np.isfinite(en) | ~np.isfinite(loss1)] = np.inf
            accept = en <= 1.0

            # step-size control (DOPRI5)
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
                fac11 = _pow(en, _EXPO1)
                fac = fac11 / _pow(facold[run], _BETA)
                fac = np.clip(fac / _SAFE, 1.0 / _FAC_MAX, 1.0 / _FAC_MIN)
                h_acc = hh / fac
                h_rej = hh / np.minimum(1.0 / _FAC_MIN, fac11 / _SAFE)
            h_acc = np.where(last_rejected[run], np.minimum(h_acc, hh), h_acc)
            h_new = np.where(accept, h_acc, h_rej)
            facold[run] = np.where(accept, np.maximum(en, 1e-4), facold[run])
            last_rejected[run] = ~accept
            h[run] = h_new

            # rejected steps
            rej = run[~accept]
            n_rej[rej] += 1
            consecutive_rej[rej] += 1
            tiny = h_new[~accept] <= 16 * np.finfo(float).eps * np.maximum(t[rej], 1e-300)
            status[rej[tiny | (consecutive_rej[rej] >= _MAX_REJECTS)]] = DIVERGED

            # accepted steps: records in (t, t + h], then the update
            ia = np.flatnonzero(accept)
            if ia.size:
                ga = run[ia]
                t_new = np.where(land[ia], t_end, t[ga] + hh[ia])
                n_acc[ga] += 1
                consecutive_rej[ga] = 0
                hi = np.searchsorted(rt, t_new, side="right")
                cnt = hi - next_rec[ga]
                if np.any(cnt > 0):
                    sel = np.repeat(np.arange(ia.size), cnt)
                    j = np.concatenate([np.arange(a, b) for a, b in zip(next_rec[ga], hi)])
                    x = (rt[j] - t[ga[sel]]) / hh[ia[sel]]
                    at_end = rt[j] >= t_new[sel]
                    th = np.empty((sel.size, P))
                    lv = np.empty(sel.size)
                    th[at_end] = y1[ia[sel[at_end]]]
                    lv[at_end] = loss1[ia[sel[at_end]]]
                    mid = ~at_end
                    if np.any(mid):
                        rows = ia[sel[mid]]
                        xm = x[mid]
                        # x² as x·x, x³ and x⁴ by the C library's pow (as the compiled
                        # flow's dense_coeffs: NumPy's AVX-512 power rounds differently)
                        powers = (xm, xm * xm, _pow(xm, 3.0), _pow(xm, 4.0))
                        coeffs = [sum(p[m] * powers[m] for m in range(4)) for p in _P]
                        acc = None
                        for c, k in zip(coeffs, K):
                            if np.all(c == 0.0):
                                continue
                            term = c[:, None] * k[rows]
                            acc = term if acc is None else acc + term
                        # records at x = 0 (default times of a subnormal t_end, which
                        # round to 0): every coefficient is 0 and the state is y0
                        th[mid] = y0[rows] + hh[rows][:, None] * (0.0 if acc is None else acc)
                        lv[mid], _, _ = f(np.ascontiguousarray(th[mid]), want_grad=False)
                        np.add.at(n_loss_eval, ga[sel[mid]], 1)
                    n_acc_now = n_acc[ga[sel]]
                    loss_rec[ga[sel], j] = lv
                    rec_acc[ga[sel], j] = n_acc_now
                    if record_conserved:
                        cons_rec[ga[sel], j] = _conserved(arch, th)
                    if record_params:
                        param_rec[ga[sel], j] = th
                    next_rec[ga] = hi
                theta[ga] = y1[ia]
                k1[ga] = K[6][ia]
                cur_loss[ga] = loss1[ia]
                t[ga] = t_new
                status[ga[t_new >= t_end]] = DONE
                if target_loss is not None:
                    status[ga[(status[ga] == RUNNING) & (loss1[ia] <= target_loss)]] = \
                        REACHED_TARGET
                if max_steps is not None:
                    status[ga[(status[ga] == RUNNING) & (n_acc[ga] >= max_steps)]] = MAX_STEPS

            if bar is not None:
                still = status == RUNNING
                now = float(t[still].min()) if still.any() else t_end
                if now > shown:
                    bar.update(now - shown)
                    shown = now
    finally:
        if bar is not None:
            bar.close()

    return _result(arch, theta, loss, t_end, rtol, atol, rt, max_steps, first_step,
                   target_loss, "python", loss_rec, cons_rec, param_rec, cur_loss, n_acc,
                   status, rec_acc, t, n_eval, n_loss_eval, n_rej, h)


def _result(arch, theta, loss, t_end, rtol, atol, rt, max_steps, first_step, target_loss,
            method, loss_rec, cons_rec, param_rec, cur_loss, n_acc, status, rec_acc, t,
            n_eval, n_loss_eval, n_rej, h):
    B = theta.shape[0]
    diverged = status == DIVERGED
    _engine.warn_diverged(
        int(diverged.sum()), B, "networks",
        "the step size of the flow integrator collapsed or the loss was non-finite; stopped "
        "at their last accepted parameters", stacklevel=5,
    )
    settings = dict(loss=loss, optimizer="flow", method="dopri5", t_end=t_end, rtol=rtol,
                    atol=atol, max_steps=max_steps, first_step=first_step,
                    target_loss=target_loss, n_records=int(rt.size), integrator=method)
    rec_steps = rec_acc.max(axis=0)
    return FlowResult(
        arch=arch, params=theta, loss=loss_rec, record_steps=rec_steps,
        conserved=cons_rec, trajectory=param_rec, final_loss=cur_loss, steps_taken=n_acc,
        diverged=diverged, reached_target=status == REACHED_TARGET, settings=settings,
        record_times=rt, record_accepted=rec_acc, final_time=t, n_evaluations=n_eval,
        n_loss_evaluations=n_loss_eval, rejected_steps=n_rej, step_size=h, status=status,
    )


def _flow_kernels():
    """The compiled integrator module, with a clear error when it has not been built."""
    try:
        from .._kernels import flow
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise ImportError(
            "topoanalysis' compiled flow (topoanalysis._kernels.flow) is not built: run "
            "`python setup.py build_ext --inplace` or `pip install -e .` in the source tree "
            f"({exc}); or pass method='python'."
        ) from None
    return flow


def _eval_budget(n_running, per_eval, n_threads, seconds=_CALL_SECONDS):
    """Gradient evaluations per network for one compiled call of about ``seconds`` (at
    least one step); ``per_eval`` is the wall time of one evaluation of one network."""
    per_call = max(per_eval, 1e-12) * n_running / max(1, min(n_threads, n_running))
    return int(max(7, min(1 << 40, seconds / per_call)))


def _flow_compiled(arch, theta, data, loss, t_end, rtol, atol, rt, max_steps, first_step,
                   record_params, record_conserved, target_loss, n_threads, progress,
                   kink_events=False, data32=None):
    """The whole step loop in ``topoanalysis._kernels.flow``, in calls of ~0.25 s."""
    eng = _engine.kernels()
    kern = _flow_kernels()
    B, P = theta.shape
    R, H = rt.size, arch.neuron_count
    layout, act, slope, loss_c = _engine.kernel_arch_args(arch, loss)
    loss_rec = np.full((B, R), np.nan)
    cons_rec = np.full((B, R, H), np.nan) if record_conserved else np.zeros((1, 1, 1))
    param_rec = np.full((B, R, P), np.nan) if record_params else np.zeros((1, 1, 1))
    rec_acc = np.full((B, R), -1, dtype=np.int64)
    k1 = np.zeros((B, P))
    t = np.zeros(B)
    h = np.full(B, np.nan)
    facold = np.full(B, 1e-4)
    cur_loss = np.full(B, np.nan)
    status = np.zeros(B, dtype=np.int8)
    last_rej = np.zeros(B, dtype=np.int8)
    started = np.zeros(B, dtype=np.int8)
    counters = [np.zeros(B, dtype=np.int64) for _ in range(6)]
    n_acc, n_rej, n_eval, n_loss_eval, consec, next_rec = counters
    n_events = np.zeros(B, dtype=np.int64)
    n_sliding = np.zeros(B, dtype=np.int64)
    if kink_events:
        n_blocks = -(-data.n_samples // eng.BLOCK_SIZE)
        pattern = np.zeros((B, n_blocks * arch.hidden[0] * eng.BLOCK_SIZE), dtype=np.int8)
    else:
        pattern = np.zeros((1, 1), dtype=np.int8)
    clone = eng.current_clone()
    # cost model of one gradient evaluation of one network until the first measurement
    per_eval = 2e-6 + 2e-10 * max(1, data.n_samples) * P
    budget = 8   # the first calls are short and grow (x8) as the measured cost comes in
    bar = _progress_bar(t_end, progress)
    shown = 0.0
    try:
        while True:
            running = int(np.count_nonzero(status == RUNNING))
            if running == 0:
                break
            b = min(budget, _eval_budget(running, per_eval, n_threads))
            budget *= 8
            # a second thread only for at least ~1 ms of work each: a thread team costs more
            # than a short call, and much more on a loaded machine (results do not change)
            threads = max(1, min(n_threads, running, int(running * b * per_eval / _TEAM_SECONDS)))
            before = int(n_eval.sum() + n_loss_eval.sum())
            tic = time.perf_counter()
            kern.flow_chunk(
                data.Xb, data.Yb, data.n_samples, layout, act, slope, loss_c, t_end, rtol,
                atol, target_loss is not None, 0.0 if target_loss is None else target_loss,
                0 if max_steps is None else max_steps,
                0.0 if first_step is None else first_step, rt, record_params,
                record_conserved, b, theta, k1, t, h, facold, cur_loss, status, last_rej,
                started, n_acc, n_rej, n_eval, n_loss_eval, consec, next_rec, loss_rec,
                rec_acc, param_rec, cons_rec, kink_events, pattern, n_events, n_sliding,
                threads, clone, *((None, None, data.Xp, None) if data32 is None
                                  else (data32.Xb, data32.Yb, None, data32.Xp)))
            spent = int(n_eval.sum() + n_loss_eval.sum()) - before
            if spent > 0:
                per_eval = max((time.perf_counter() - tic) * threads / spent, 1e-12)
            if bar is not None:
                still = status == RUNNING
                now = float(t[still].min()) if still.any() else t_end
                if now > shown:
                    bar.update(now - shown)
                    shown = now
    finally:
        if bar is not None:
            bar.close()
    if np.any(status == kern.STATUS_OUT_OF_MEMORY):
        raise MemoryError("the compiled flow could not allocate its per-thread scratch buffers.")
    res = _result(arch, theta, loss, t_end, rtol, atol, rt, max_steps, first_step,
                  target_loss, "compiled", loss_rec, cons_rec if record_conserved else None,
                  param_rec if record_params else None, cur_loss, n_acc, status, rec_acc, t,
                  n_eval, n_loss_eval, n_rej, h)
    if not kink_events:
        return res
    res.settings["kink_events"] = True
    return dataclasses.replace(res, kink_events=n_events, sliding_kinks=n_sliding)


def train_flow(theta0, X, y, *, arch=None, loss="mse", lr=None, steps=None, batch_size=None,
               record_every=None, record_params=False, record_conserved=True, target_loss=None,
               n_threads=None, progress=True, checkpoint=None, t_end=None, rtol=None, atol=None,
               record_times=None, dtype="float64"):
    """``train(..., optimizer="flow")``: :func:`gradient_flow` with ``train``'s arguments.

    Maps :func:`~topoanalysis.dynamics.train`'s arguments onto :func:`gradient_flow` and
    rejects those that have no meaning for the flow.

    Parameters
    ----------
    theta0 : Network, sequence of Network, or array_like of shape (P,) or (B, P)
        Initial networks; arrays need ``arch``.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets.
    arch : Architecture, optional
        Required when ``theta0`` is an array.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    lr : None
        Must be None: the flow has no learning rate.
    steps : int, optional
        Maximum number of accepted steps.
    batch_size : None
        Must be None: the flow is full-batch.
    record_every : None
        Must be None: the flow records at ``record_times``.
    record_params, record_conserved : bool
        As in :func:`gradient_flow`.
    target_loss : float, optional
        As in :func:`gradient_flow`.
    n_threads : int, optional
        As in :func:`gradient_flow`.
    progress : bool, default=True
        As in :func:`gradient_flow`.
    checkpoint : None
        Must be None: the flow integrator does not checkpoint.
    t_end : float
        Time to integrate to.
    rtol, atol : float, optional
        Tolerances of the integrator (default 1e-5 and 1e-8).
    record_times : array_like, optional
        Times of the records.
    dtype : {"float64", "float32"}, default="float64"
        Arithmetic of the right-hand side (see :func:`gradient_flow`).

    Returns
    -------
    FlowResult
        The result of :func:`gradient_flow`.

    References
    ----------
    .. [1] J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", J.
           Comput. Appl. Math. 6, 1980: the 5(4) pair.
    .. [2] E. Hairer, S. P. Nørsett, G. Wanner, "Solving Ordinary Differential Equations I",
           2nd ed., Springer 1993: Section II.4 and the DOPRI5 code.
    """
    for name, value, why in (
            ("lr", lr, "the flow has no learning rate (its step sizes are adaptive)"),
            ("batch_size", batch_size, "the flow is full-batch"),
            ("record_every", record_every, "records are at `record_times`"),
            ("checkpoint", checkpoint, "the flow integrator does not checkpoint")):
        if value is not None:
            raise ValidationError(f"`{name}` must be None for optimizer='flow' ({why}); "
                                  f"got {value!r}.")
    if t_end is None:
        raise ValidationError("`t_end` must be given for optimizer='flow' (a final time > 0); "
                              "got None.")
    return gradient_flow(theta0, X, y, arch=arch, loss=loss, t_end=t_end,
                         rtol=1e-5 if rtol is None else rtol, atol=1e-8 if atol is None else atol,
                         record_times=record_times, max_steps=steps,
                         record_params=record_params, record_conserved=record_conserved,
                         target_loss=target_loss, n_threads=n_threads, progress=progress,
                         dtype=dtype)
