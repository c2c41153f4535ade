"""Training many networks at once: gradient descent, mini-batch SGD, momentum and Adam.

The work runs in the compiled engine (``ext/engine.pyx``), parallel over networks; this
module validates the request, allocates the records and translates the engine's per-network
status into the fields of :class:`TrainResult` and a
:class:`~topoanalysis.exceptions.DivergenceWarning`.
"""

import hashlib
import os
import time
import zipfile

import numpy as np

from .._resources import check_memory
from .._validation import check_choice, check_float, check_int, normalize_name
from .. import losses as _losses
from ..exceptions import ValidationError
from . import _engine
from ._shared import CHUNK_SECONDS, TrainResult, estimate_step_seconds  # noqa: F401 (re-exported)
from ._shared import chunk_steps as _chunk_steps
from ._shared import progress_bar
from .flow import train_flow

__all__ = ["OPTIMIZERS", "TrainResult", "train", "estimate_step_seconds", "train_memory"]

#: Update rules accepted by :func:`train`.
OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "flow")


def train_memory(n_networks, n_params, n_hidden, steps, record_every, optimizer="gd",
                 record_params=False, record_conserved=True):
    """Bytes :func:`train` allocates for its state and records (estimated before running).

    Parameters
    ----------
    n_networks : int
        Networks trained together.
    n_params : int
        Parameters of one network.
    n_hidden : int
        Hidden neurons of one network (one conserved quantity each).
    steps : int
        Training steps.
    record_every : int
        Record every ``k`` steps.
    optimizer : {"gd", "sgd", "momentum", "adam", "flow"}, default="gd"
        Sets the optimizer state kept per parameter.
    record_params : bool, default=False
        Whether the parameters are recorded.
    record_conserved : bool, default=True
        Whether the per-neuron conserved quantities are recorded.

    Returns
    -------
    float
        Bytes.

    See Also
    --------
    train
    """
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    n_records = steps // record_every + 2
    state = {"momentum": 2, "adam": 3}.get(optimizer, 1)
    floats = n_networks * (n_params * state + n_records + 4)
    if record_conserved:
        floats += n_networks * n_records * n_hidden
    if record_params:
        floats += n_networks * n_records * n_params
    return 8.0 * floats


def _check_betas(betas):
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ValidationError(f"`betas` must be a pair (beta1, beta2) in [0, 1); got {betas!r}.") from None
    b1 = check_float("betas[0]", b1, minimum=0.0, maximum=1.0, strict_max=True)
    b2 = check_float("betas[1]", b2, minimum=0.0, maximum=1.0, strict_max=True)
    return b1, b2


def _check_float32_scalar(name, value, limit=None):
    """Refuse a positive hyperparameter whose float32 rounding the float32 kernels cannot use:
    above ``limit`` (by default float32's largest number: it rounds to inf) or 0 (below half
    the smallest subnormal), in one line naming it."""
    fmax = float(np.finfo(np.float32).max)
    limit = fmax if limit is None else limit
    if _engine.rounds_to_inf32(value) or float(np.float32(value)) > limit:
        raise ValidationError(f"`{name}` must be at most {limit:.4g} (the float32 range) with "
                              f"dtype='float32'; got {value!r}.")
    if value > 0 and np.float32(value) == 0:
        half = float(np.finfo(np.float32).smallest_subnormal) / 2
        raise ValidationError(f"`{name}` must be above {half:.4g} with dtype='float32' (smaller "
                              f"values round to 0 in float32); got {value!r}.")


def _check_penalty(penalty, params):
    """``(spring, plane, mid, udir)`` for the kernel from ``penalty`` (see :func:`train`);
    ``(0, 0, None, None)`` without penalty."""
    if penalty is None:
        return 0.0, 0.0, None, None
    if not isinstance(penalty, (tuple, list)) or len(penalty) != 4:
        raise ValidationError("`penalty` must be a tuple (spring, plane, left, right); got "
                              f"{type(penalty).__name__} {penalty!r:.80}.")
    spring = check_float("penalty spring", penalty[0], minimum=0.0)
    plane = check_float("penalty plane", penalty[1], minimum=0.0)
    ends = []
    for name, arr in (("left", penalty[2]), ("right", penalty[3])):
        try:
            a = np.asarray(arr, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(f"`penalty` {name} must be an array of shape "
                                  f"{params.shape}; got {type(arr).__name__}.") from None
        if a.shape != params.shape:
            raise ValidationError(f"`penalty` {name} must have the shape of the networks "
                                  f"{params.shape}; got {a.shape}.")
        if not np.all(np.isfinite(a)):
            raise ValidationError(f"`penalty` {name} must be finite; got non-finite entries.")
        if params.dtype == np.float32:
            _engine.check_float32_range(f"penalty {name}", a)
        ends.append(a)
    left, right = ends
    if params.dtype == np.float32:   # the kernel forms 2 spring and plane in float
        _check_float32_scalar("penalty spring", spring, float(np.finfo(np.float32).max) / 2)
        _check_float32_scalar("penalty plane", plane)
    mid = 0.5 * left + 0.5 * right
    u = right - left
    nu = np.linalg.norm(u, axis=1, keepdims=True)
    u = np.divide(u, nu, out=np.zeros_like(u), where=nu > 0)
    dt = params.dtype
    return (spring, plane, np.ascontiguousarray(mid, dtype=dt),
            np.ascontiguousarray(u, dtype=dt))


def _record_steps(steps, record_every):
    rec = list(range(0, steps + 1, record_every))
    if rec[-1] != steps:
        rec.append(steps)
    return np.array(rec, dtype=np.int64)


#: Least wall time between two checkpoint writes (raised to 10x the time a write takes).
CHECKPOINT_SECONDS = 1.0


def _checkpoint_key(arch, state, data, *settings):
    """Digest of everything that determines a run: a checkpoint resumes only its own run."""
    h = hashlib.sha256(repr((arch, settings)).encode())
    for arr in (state["params"], data.X, data.Y):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _save_checkpoint(path, key, state, t0):
    """Write the checkpoint atomically: a unique temporary file in the same folder, then a
    rename (two runs never share a temporary name)."""
    import tempfile

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, key=key, t0=t0, **state)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _load_checkpoint(path, key, state):
    """Fill ``state`` from the checkpoint at ``path`` (if any); return the step to resume at."""
    if not os.path.exists(path):
        return 0
    try:
        with np.load(path, allow_pickle=False) as f:
            if str(f["key"]) != key:
                raise ValidationError(
                    f"`checkpoint` {str(path)!r} belongs to a run with other arguments, "
                    "initial parameters or data; delete it or pass another path."
                )
            for name, arr in state.items():
                arr[...] = f[name]
            return int(f["t0"])
    except (OSError, KeyError, ValueError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        if isinstance(exc, ValidationError):
            raise
        why = ("empty file" if os.path.isfile(path) and os.path.getsize(path) == 0 else
               "a folder" if os.path.isdir(path) else
               f"missing array {exc}" if isinstance(exc, KeyError) else
               "not an .npz archive, or truncated")
        raise ValidationError(
            f"`checkpoint` {str(path)!r} is not a readable topoanalysis checkpoint ({why}); "
            "delete it to start over."
        ) from None


#: target duration of each of the two timed calls that choose 1 or all threads when there are
#: fewer networks than threads (see ``train``)
PROBE_SECONDS = 0.01

def train(theta0, X, y, *, arch=None, loss="mse", optimizer="gd", lr=None, steps=None,
          batch_size=None, momentum=0.9, betas=(0.9, 0.999), eps=1e-8, record_every=None,
          record_params=False, record_conserved=True, target_loss=None, seed=0, n_threads=None,
          progress=True, checkpoint=None, remove_checkpoint=True, t_end=None, rtol=None,
          atol=None, record_times=None, dtype="float64", penalty=None):
    """Train many networks of one architecture on one data set.

    Parameters
    ----------
    theta0 : Network, sequence of Network, or array_like of shape (P,) or (B, P)
        Initial networks; arrays need ``arch``. One network is trained as a stack of one.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets in the form of :func:`topoanalysis.losses.as_targets` (``(N,)`` accepted for
        ``e = 1`` and for integer class labels with ``"cross_entropy"``).
    arch : Architecture, optional
        Required when ``theta0`` is an array; must match when networks are given.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses` (means over the ``N·e`` entries, over the
        ``N`` samples for cross-entropy).
    optimizer : {"gd", "sgd", "momentum", "adam", "flow"}, default="gd"
        ``"gd"`` full-batch gradient descent ``θ ← θ − η∇L``; ``"sgd"`` the same update on
        mini-batches (full batch when ``batch_size`` is None); ``"momentum"`` heavy ball in
        PyTorch's convention ``b ← μb + ∇L``, ``θ ← θ − ηb``; ``"adam"`` PyTorch's Adam with
        bias correction, ``θ ← θ − η m̂ / (√v̂ + ε)``; ``"flow"`` the gradient flow
        ``dθ/dt = −∇L`` integrated to time ``t_end`` by
        :func:`topoanalysis.dynamics.flow.gradient_flow` (adaptive Dormand–Prince 5(4);
        takes ``t_end``, ``rtol``, ``atol``, ``record_times``, and ``steps`` as the maximum
        number of accepted steps; returns its :class:`~topoanalysis.dynamics.flow.FlowResult`,
        a ``TrainResult`` recorded at times instead of steps).
    lr : float
        Learning rate ``η > 0`` (not for ``"flow"``).
    steps : int
        Maximum number of updates (``>= 1``).
    batch_size : int, optional
        Mini-batch size in ``[1, N]``; None means full batch. Each epoch visits the samples in
        a fresh seeded order (splitmix64 + Fisher-Yates per network, seeds from
        ``numpy.random.SeedSequence(seed)``), in consecutive batches, the last one smaller when
        ``batch_size`` does not divide ``N``; one step is one batch.
    momentum : float, default=0.9
        ``μ`` in ``[0, 1)`` for ``"momentum"``.
    betas : (float, float), default=(0.9, 0.999)
        Adam's ``(β1, β2)``, each in ``[0, 1)``.
    eps : float, default=1e-8
        Adam's ``ε > 0``.
    record_every : int, optional
        Record every ``k`` steps (and at the last step). Default: about 100 records.
    record_params : bool, default=False
        Also record the parameters (``B · R · P`` floats).
    record_conserved : bool, default=True
        Record the per-neuron conserved quantities.
    target_loss : float, optional
        Stop a network once its full-data loss is ``<= target_loss``. Checked at every step
        for full-batch training, at the record steps for mini-batch training.
    seed : int, default=0
        Seed of the mini-batch orders.
    n_threads : int, optional
        OpenMP threads over the networks (default: all usable cores). Results are identical
        for every value.
    progress : bool, default=True
        Show a tqdm progress bar for calls lasting more than a second. The work then runs in
        chunks of steps; chunking does not change any number.
    checkpoint : str or path, optional
        ``.npz`` file holding the complete state of the run (parameters, optimizer moments,
        per-network random states, records), rewritten atomically after every chunk of
        steps (at most about every ``0.25 s`` of work). If the file exists when ``train`` is
        called with the same arguments, the run resumes where it stopped, and the result is
        bit-identical to an uninterrupted run; a checkpoint of different arguments is an
        error. The file is removed when the run completes, unless ``remove_checkpoint`` is
        False (a caller that still has outputs to write removes it after writing them, so an
        interruption while writing loses nothing).
    remove_checkpoint : bool, default=True
        Remove ``checkpoint`` when the run completes (``optimizer="gd"``, ``"sgd"``,
        ``"momentum"``, ``"adam"``).
    t_end, rtol, atol, record_times : optional
        Only for ``optimizer="flow"``: see :func:`topoanalysis.dynamics.flow.gradient_flow`.
    dtype : {"float64", "float32"}, default="float64"
        Arithmetic of the run. ``"float32"`` (what PyTorch trains in) rounds the data and the
        initial parameters to float and runs the float32 kernels: parameters, optimizer
        moments, gradients and updates in float (8 lanes per AVX2 register, twice the
        float64 throughput), loss sums in double; ``params`` and ``trajectory`` are then
        float32. It covers networks with one hidden layer, a vectorized activation (not
        tanh), one output and an elementwise loss (mse, l1, bce); others raise
        NotSupportedError.
    penalty : (float, float, array_like, array_like), optional
        ``(spring, plane, left, right)``, with ``left`` and ``right`` of shape ``(B, P)``:
        descend ``L(θ) + spring/2 (||θ − l||² + ||θ − r||²) + plane/2 ((θ − m)·u)²`` instead of
        ``L`` (``m = (l + r)/2``, ``u`` the unit vector from ``l`` to ``r``, zero when they
        coincide): the bead penalty of Dynamic String Sampling (Freeman & Bruna, Appendix A),
        in the same compiled step as every optimizer (not for ``"flow"``). Recorded losses,
        ``final_loss`` and ``target_loss`` are the plain loss ``L``.

    Returns
    -------
    TrainResult
        Final parameters and losses, the recorded losses (conserved quantities, parameters),
        the steps taken, which networks diverged or reached ``target_loss``, and the settings
        (a :class:`~topoanalysis.dynamics.flow.FlowResult` for ``optimizer="flow"``).

    Raises
    ------
    ValidationError
        For an invalid argument; the message names it.

    Warns
    -----
    DivergenceWarning
        When networks were stopped because of non-finite values; ``result.diverged`` marks
        them and their parameters are the last finite ones.

    ResourceError
        When the run's arrays would not fit in the available memory (checked before
        allocating; the message gives the figure).

    Notes
    -----
    Every kernel call lasts about :data:`CHUNK_SECONDS` (the number of steps per call comes
    from a cost model, then from the measured time of the previous call), whatever
    ``progress``, so ``KeyboardInterrupt`` stops a run within about a second; with a
    checkpoint, the run then resumes from the last saved chunk.

    Step ``t`` evaluates the network at ``θ_t`` and records ``L(θ_t)`` when ``t`` is a record
    step, then updates to ``θ_{t+1}``; the final records are at ``θ_steps``. Cost
    ``O(B · steps · N · P)`` for full-batch training (``O(B · steps · batch_size · P)`` plus
    the full-data loss at the records for mini-batches), split over ``n_threads`` threads.

    For positively homogeneous activations, gradient flow conserves
    ``c_k = ||w_k||² − ||a_k||²`` (Nurisso et al.); a gradient-descent step changes it by
    exactly ``η² (||∇_{w_k} L||² − ||∇_{a_k} L||²)``, which ``record_conserved`` lets one see.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture
    >>> from topoanalysis.init import init_params
    >>> arch = Architecture(2, (8,), 1)
    >>> X = np.random.default_rng(0).standard_normal((64, 2)); y = (X[:, 0] * X[:, 1] > 0) * 1.0
    >>> res = train(init_params(arch, n_networks=4), X, y, arch=arch, loss="bce", lr=0.5,
    ...             steps=200, record_every=50, progress=False)
    >>> res.loss.shape, res.conserved.shape, res.record_steps.tolist()
    ((4, 5), (4, 5, 8), [0, 50, 100, 150, 200])
    >>> bool(np.all(res.loss[:, -1] < res.loss[:, 0]))
    True
    """
    if isinstance(optimizer, str) and normalize_name(optimizer) == "flow":
        if penalty is not None:
            raise ValidationError("`penalty` is not available for optimizer='flow' (it applies "
                                  "to the update of 'gd', 'sgd', 'momentum' and 'adam').")
        extra = {} if dtype == "float64" else {"dtype": dtype}
        return train_flow(theta0, X, y, arch=arch, loss=loss, lr=lr, steps=steps,
                          batch_size=batch_size, record_every=record_every,
                          record_params=record_params, record_conserved=record_conserved,
                          target_loss=target_loss, n_threads=n_threads, progress=progress,
                          checkpoint=checkpoint, t_end=t_end, rtol=rtol, atol=atol,
                          record_times=record_times, **extra)
    for name, value in (("t_end", t_end), ("rtol", rtol), ("atol", atol),
                        ("record_times", record_times)):
        if value is not None:
            raise ValidationError(f"`{name}` is only for optimizer='flow'; got {name}={value!r} "
                                  f"with optimizer={optimizer!r}.")
    eng = _engine.kernels()
    arch, params = _engine.resolve_params(theta0, arch, "theta0")
    loss = _losses.check_loss(loss)
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    steps = check_int("steps", steps, minimum=1)
    _losses.check_outputs_for_loss(loss, arch.outputs)
    dtype = _engine.check_dtype(dtype, arch, loss)
    if dtype == "float32":
        # the float32 kernels take the step size as a float: it must not round to inf or 0
        _check_float32_scalar("lr", lr)
    params = _engine.as_dtype("theta", params, dtype)
    data = _engine.prepare_data(arch, X, y, loss, dtype=dtype)
    N = data.n_samples
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1, maximum=N)
        if optimizer == "gd" and batch_size < N:
            raise ValidationError(
                f"`batch_size` must be None (or N = {N}) for optimizer 'gd', which is full-batch; "
                f"got {batch_size}. Use optimizer='sgd' for mini-batches."
            )
        if batch_size == N:
            batch_size = None
    momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0, strict_max=True)
    beta1, beta2 = _check_betas(betas)
    eps = check_float("eps", eps, minimum=0.0, strict_min=True)
    if dtype == "float32" and optimizer == "adam":
        # an eps rounding to 0 in float makes Adam's update 0/0 = NaN wherever the gradient
        # has always been 0 (a dead neuron): the network would be reported as diverged
        _check_float32_scalar("eps", eps)
    if record_every is None:
        record_every = max(1, steps // 100)
    record_every = check_int("record_every", record_every, minimum=1)
    if target_loss is not None:
        target_loss = check_float("target_loss", target_loss)
    seed = check_int("seed", seed, minimum=0)
    for name, flag in (("record_params", record_params), ("record_conserved", record_conserved),
                       ("progress", progress), ("remove_checkpoint", remove_checkpoint)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValidationError(f"`{name}` must be True or False; got {flag!r}.")
    n_threads = _engine.resolve_threads(n_threads, params.shape[0])

    B, P = params.shape
    rec_steps = _record_steps(steps, record_every)
    R = rec_steps.size
    H = arch.neuron_count
    check_memory(train_memory(B, P, H, steps, record_every, optimizer, record_params,
                              record_conserved),
                 f"training {B} networks of {P} parameters with {R} records")  # noqa
    opt = eng.OPTIMIZER_CODES[optimizer]
    state1 = np.zeros((B, P), dtype) if opt != eng.OPTIMIZER_PLAIN else np.zeros((1, 1), dtype)
    state2 = np.zeros((B, P), dtype) if opt == eng.OPTIMIZER_ADAM else np.zeros((1, 1), dtype)
    rng = np.random.SeedSequence(seed).generate_state(B, dtype=np.uint64)
    status = np.zeros(B, dtype=np.int8)
    steps_taken = np.zeros(B, dtype=np.int64)
    final_loss = np.full(B, np.nan)
    loss_rec = np.full((B, R), np.nan)
    param_rec = (np.full((B, R, P), np.nan, dtype) if record_params
                 else np.zeros((1, 1, 1), dtype))
    cons_rec = np.full((B, R, H), np.nan) if record_conserved else np.zeros((1, 1, 1))
    spring, plane, mid, udir = _check_penalty(penalty, params)
    layout, act, slope, loss_c = _engine.kernel_arch_args(arch, loss)
    options = eng.TrainOptions(
        layout, act=act, slope=slope, loss=loss_c, optimizer=opt, lr=lr, momentum=momentum,
        beta1=beta1, beta2=beta2, eps=eps, batch_size=0 if batch_size is None else batch_size,
        total_steps=steps, record_every=record_every, target=target_loss,
        record_params=record_params, record_conserved=record_conserved, spring=spring,
        plane=plane)
    kstate = eng.TrainState(theta=params, state1=state1, state2=state2, rng=rng,
                            status=status, steps_taken=steps_taken, final_loss=final_loss,
                            loss_rec=loss_rec, param_rec=param_rec, cons_rec=cons_rec,
                            mid=mid, udir=udir)

    total = steps + 1  # evaluation points t = 0..steps
    per_step = estimate_step_seconds(B, N if batch_size is None else batch_size, P, n_threads)
    state = dict(params=params, state1=state1, state2=state2, rng=rng, status=status,
                 steps_taken=steps_taken, final_loss=final_loss, loss_rec=loss_rec,
                 param_rec=param_rec, cons_rec=cons_rec)
    t0 = 0
    if checkpoint is not None:
        key = _checkpoint_key(arch, state, data, loss, optimizer, lr, steps, batch_size,
                              momentum, beta1, beta2, eps, record_every, target_loss, seed,
                              record_params, record_conserved,
                              *(() if dtype == "float64" else (dtype,)),
                              *(() if mid is None else (
                                  spring, plane,
                                  hashlib.sha256(mid.tobytes() + udir.tobytes()).hexdigest())))
        t0 = _load_checkpoint(checkpoint, key, state)
    bar = progress_bar(total, progress, f"train {optimizer}", unit="step")
    if bar is not None and t0:
        bar.update(t0)
    last_save = time.perf_counter()
    save_every = CHECKPOINT_SECONDS
    ramp = 64  # the first calls are short and grow (x8) as the measured cost comes in
    # Fewer networks than threads: the kernel may share each network's sample shards among
    # the threads. Whether that pays depends on N and on the machine's load (on a busy
    # machine a descheduled thread holds the other at every step's join), so the first four
    # calls are timed, with one thread and with all in the order 1, all, all, 1 (a drift of
    # the machine's speed during the probes weighs on both), and the faster minimum is kept.
    # The numbers do not depend on it (fixed shards added in a fixed order).
    plan = [1, n_threads, n_threads, 1] if (
        1 < n_threads and B < n_threads
        and eng.split_used(options, N, P, dtype == "float32")) else []
    probe = {}
    # each probe call lasts about PROBE_SECONDS (at least 4 steps, at most 1/32 of the
    # run): a few steps of a large network last under a millisecond, which the scheduler's
    # noise decides instead of the thread count
    probe_steps = max(4, min(int(PROBE_SECONDS / max(per_step, 1e-9)), total // 32))
    threads = n_threads
    try:
        while t0 < total:
            t1 = min(total, t0 + min(ramp, _chunk_steps(total - t0, per_step)))
            if plan:   # short timed calls decide
                threads = plan[0]
                t1 = min(total, t0 + probe_steps)
            else:
                ramp *= 8
            tic = time.perf_counter()
            eng.train_chunk(data.Xb, data.Yb, data.X, data.Y, options, kstate, t0, t1,
                            threads, data.Xp)
            done, t0 = t1 - t0, t1
            per_step = max((time.perf_counter() - tic) / done, 1e-12)
            if plan:
                probe[threads] = min(probe.get(threads, np.inf), per_step)
                plan.pop(0)
                if not plan:
                    threads = min(probe, key=probe.get)
                    per_step = probe[threads]
            if bar is not None:
                bar.update(done)
            if np.all(status != eng.STATUS_RUNNING):
                break
            if checkpoint is not None and t0 < total and (
                    time.perf_counter() - last_save >= save_every):
                tic = time.perf_counter()
                _save_checkpoint(checkpoint, key, state, t0)
                last_save = time.perf_counter()
                # never spend more than ~10% of the time writing checkpoints
                if CHECKPOINT_SECONDS > 0:
                    save_every = max(CHECKPOINT_SECONDS, 10.0 * (last_save - tic))
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None:
        if remove_checkpoint:
            if os.path.exists(checkpoint):
                os.remove(checkpoint)
        else:  # the caller still writes outputs: keep the finished state for a rerun
            _save_checkpoint(checkpoint, key, state, total)

    diverged = _engine.raise_for_status(
        status, "networks",
        "non-finite loss, outputs or parameters; stopped at their last finite parameters")
    settings = dict(loss=loss, optimizer=optimizer, lr=lr, steps=steps, batch_size=batch_size,
                    momentum=momentum if optimizer == "momentum" else None,
                    betas=(beta1, beta2) if optimizer == "adam" else None,
                    eps=eps if optimizer == "adam" else None, record_every=record_every,
                    target_loss=target_loss, seed=seed, dtype=dtype)
    return TrainResult(
        arch=arch, params=params, loss=loss_rec, record_steps=rec_steps,
        conserved=cons_rec if record_conserved else None,
        trajectory=param_rec if record_params else None,
        final_loss=final_loss, steps_taken=steps_taken, diverged=diverged,
        reached_target=status == eng.STATUS_REACHED_TARGET, settings=settings,
    )
