"""Python owners of the compiled engine (``topoanalysis._kernels.engine``).

Everything the kernels need is prepared here: parameters resolved from ``Network`` objects
or arrays and validated, data validated and laid out in sample blocks, outputs allocated,
thread counts resolved, and the kernels' status codes translated into errors and warnings
in one place (:func:`raise_for_status`).

The public functions of this module, :func:`batch_loss_and_gradient` and
:func:`batch_forward`, are re-exported by :mod:`topoanalysis.dynamics`.
"""

import dataclasses
import os
import time
import warnings

import numpy as np

from .. import losses as _losses
from .._resources import check_memory
from .._validation import check_array, check_int  # noqa: F401
from ..exceptions import DivergenceWarning, NotSupportedError, ShapeError, ValidationError
from ..network import Architecture, Network
from ._shared import chunk_steps, estimate_step_seconds

__all__ = ["batch_loss_and_gradient", "batch_forward"]


_CLONE_ENV = "TOPOANALYSIS_CLONE"
_clone_checked = False


def kernels():
    """The compiled engine module, with a clear error when it has not been built.

    On first use the instruction-set clone named by the environment variable
    ``TOPOANALYSIS_CLONE`` (``default``, ``v3`` or ``v4``) is selected; unset or ``auto``: the
    best one the CPU supports.
    """
    global _clone_checked
    try:
        from .._kernels import engine
    except ImportError as exc:  # pragma: no cover - depends on the build
        raise ImportError(
            "topoanalysis' compiled engine (topoanalysis._kernels.engine) is not built: run "
            "`python setup.py build_ext --inplace` or `pip install -e .` in the source tree "
            f"({exc})."
        ) from None
    if not _clone_checked:
        _clone_checked = True
        name = os.environ.get(_CLONE_ENV, "").strip().lower()
        if name not in ("", "auto"):
            set_clone(name, engine)
    return engine


def supported_clones():
    """Names of the engine's instruction-set clones this CPU can run, e.g.
    ``("default", "v3", "v4")`` (x86-64 baseline, x86-64-v3 = AVX2 + FMA, x86-64-v4 =
    AVX-512)."""
    eng = kernels()
    return tuple(n for i, n in enumerate(eng.CLONES) if eng.clone_supported(i))


def current_clone():
    """Name of the clone the kernels use now (``"default"``, ``"v3"`` or ``"v4"``)."""
    eng = kernels()
    return eng.CLONES[eng.current_clone()]


def set_clone(name, _engine=None):
    """Make every kernel use clone ``name`` (``"default"``, ``"v3"``, ``"v4"`` or ``"auto"``
    for the best supported); returns the previous name. Raises ValidationError for an unknown
    name or one the CPU cannot run. Not thread-safe: call it between kernel calls."""
    eng = _engine if _engine is not None else kernels()
    names = eng.CLONES + ("auto",)
    if not isinstance(name, str) or name not in names:
        raise ValidationError(f"`clone` must be one of {', '.join(names)}; got {name!r}.")
    before = eng.CLONES[eng.current_clone()]
    which = -1 if name == "auto" else eng.CLONES.index(name)
    if eng.select_clone(which) < 0:
        raise ValidationError(
            f"`clone` must be one this CPU supports "
            f"({', '.join(n for i, n in enumerate(eng.CLONES) if eng.clone_supported(i))}); "
            f"got {name!r}."
        )
    return before


# --- parameters ------------------------------------------------------------------------
def resolve_params(theta, arch=None, name="theta"):
    """Return ``(arch, stack)`` with ``stack`` a fresh C-contiguous ``(B, P)`` float64 array.

    ``theta`` may be a :class:`~topoanalysis.network.Network`, a sequence of networks (all of
    one architecture), or an array of shape ``(P,)`` or ``(B, P)``; ``arch`` is required for
    arrays and, when given with networks, must equal theirs.
    """
    if arch is not None and not isinstance(arch, Architecture):
        raise ValidationError(f"`arch` must be an Architecture or None; got {type(arch).__name__}.")
    nets = None
    if isinstance(theta, Network):
        nets = [theta]
    elif isinstance(theta, (list, tuple)) and theta and all(isinstance(n, Network) for n in theta):
        nets = list(theta)
    if nets is not None:
        archs = {n.arch for n in nets}
        if len(archs) > 1:
            raise ValidationError(f"`{name}` must hold networks of one architecture; got {len(archs)}.")
        net_arch = archs.pop()
        if arch is not None and arch != net_arch:
            raise ValidationError(
                f"`arch` must match the architecture of `{name}` ({net_arch}); got {arch}."
            )
        return net_arch, np.array([n.params for n in nets], dtype=np.float64)
    if isinstance(theta, (list, tuple)) and any(isinstance(n, Network) for n in theta):
        raise ValidationError(f"`{name}` must be all Network objects or an array; got a mixture.")
    if arch is None:
        raise ValidationError(
            f"`arch` must be given when `{name}` is an array (pass an Architecture, or Network "
            f"objects instead of arrays); got arch=None."
        )
    arr = arch.check_params(theta, name)
    stack = np.array(arr.reshape(-1, arch.n_params), dtype=np.float64, order="C")
    if stack.shape[0] < 1:
        raise ShapeError(f"`{name}` must hold at least one network; got shape {arr.shape}.")
    return arch, stack


# --- data --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EngineData:
    """Validated data in the layouts the kernels read (see ``ext/engine.pyx``)."""

    X: np.ndarray   # (N, d)
    Y: np.ndarray   # (N, e) targets in loss form
    Xb: np.ndarray  # (n_blocks, d, NB)
    Yb: np.ndarray  # (n_blocks, e, NB)
    Xp: np.ndarray  # (d // W + 1, n_blocks * NB, W) samples x features panels (see panels)

    @property
    def n_samples(self):
        return self.X.shape[0]


def rounds_to_inf32(a):
    """Mask of the finite entries of ``a`` that round to inf in float32: ``|x| >= FMAX +
    ulp(FMAX) / 2`` (3.4028235677973366e38; the finite values between FMAX and that round to
    FMAX and are float32 numbers like any other)."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.isinf(a.astype(np.float32)) & np.isfinite(a)


def check_float32_range(name, a):
    """Refuse, with one line naming ``name``, finite entries of ``a`` beyond float32's range
    (those that round to inf, |x| >= 3.4028235677973366e38), before any computation."""
    a = np.asarray(a)
    over = rounds_to_inf32(a)
    if over.any():
        raise ValidationError(
            f"`{name}` must lie within float32's range (|x| <= 3.4e38) with dtype='float32'; "
            f"got {int(over.sum())} entries beyond it (largest magnitude "
            f"{float(np.max(np.abs(a[over]))):.3g}). Use dtype='float64' or rescale.")


def as_dtype(name, a, dtype):
    """The finite array ``a`` as a C-contiguous array of ``dtype`` (float32: after
    ``check_float32_range``)."""
    if np.dtype(dtype) == np.float32:
        check_float32_range(name, a)
    return np.ascontiguousarray(a, dtype=dtype)


def prepare_data(arch, X, y, loss, dtype="float64"):
    """Validate ``X`` (N, d) and ``y`` against ``arch`` and ``loss``; block the data (rounded
    to ``dtype``).

    ``X`` may also be data this function prepared before (an :class:`EngineData`, passed with
    ``y=None`` by :class:`topoanalysis.Landscape`, which prepares its data once): it is used as
    it is when its dtype is ``dtype``, and re-blocked in ``dtype`` otherwise."""
    if isinstance(X, EngineData):
        if X.X.dtype == np.dtype(dtype):
            return X
        return block_data(X.X, X.Y, dtype)
    X = arch.check_inputs(X)
    Y = _losses.as_targets(y, loss, arch.outputs)
    if Y.shape[0] != X.shape[0]:
        raise ShapeError(f"`y` must have one row per sample of X ({X.shape[0]}); got {Y.shape[0]}.")
    if np.dtype(dtype) == np.float32:
        check_float32_range("X", X)
        check_float32_range("y", Y)
    return block_data(X, Y, dtype)


def block_data(X, Y, dtype="float64"):
    nb = kernels().BLOCK_SIZE
    n = X.shape[0]
    n_blocks = -(-n // nb)
    full = n // nb * nb

    def blocked(A):
        out = aligned_empty((n_blocks, A.shape[1], nb), dtype=dtype)
        out[:n // nb] = A[:full].reshape(n // nb, nb, A.shape[1]).transpose(0, 2, 1)
        if full < n:
            tail = np.zeros((nb, A.shape[1]), dtype=dtype)
            tail[:n - full] = A[full:]
            out[-1] = tail.T
        return out

    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    if kernels().panels_used(n_blocks, X.shape[1], np.dtype(dtype).itemsize):
        Xp = panels(X, n_blocks * nb, dtype)
    else:   # large data: the kernels use lane sums (no second copy, see ext/_common.pxi)
        Xp = np.zeros((0, 0, 0), dtype=dtype)
    return EngineData(X, Y, blocked(X), blocked(Y), Xp)


def panels(X, n_padded, dtype="float64"):
    """The samples x features panels of ``X`` (N, d) that the first-layer weight gradient of
    the compiled shallow path reads (``ta_panels`` in ext/blockops.h): float64 shape
    ``(d // W + 1, n_padded, W)`` with ``W`` the kernels' lane count (8), panel ``t`` holding
    features ``W t .. W t + W - 1`` of every sample; float32 the panels in pairs, shape
    ``(d // (2 W) + 1, n_padded, 2 W)`` (``ta_n_panels_f``: one 16-float row per pair and
    sample). Feature ``d`` is the constant 1 of the hidden bias for the ``N`` real samples,
    everything else 0."""
    n, d = X.shape
    w = kernels().LANES * (2 if np.dtype(dtype) == np.float32 else 1)
    n_pan = d // w + 1
    out = aligned_empty((n_pan, n_padded, w), dtype=dtype)
    out[...] = 0
    for t in range(n_pan):
        lo, hi = w * t, min(w * t + w, d)
        if lo < hi:
            out[t, :n, :hi - lo] = X[:, lo:hi]
    out[d // w, :n, d % w] = 1
    return out


def aligned_empty(shape, alignment=64, dtype="float64"):
    """Uninitialized C-contiguous array whose data starts on an ``alignment``-byte boundary
    (the kernels' vector loads then never split cache lines)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    raw = np.empty(n + alignment // dtype.itemsize, dtype=dtype)
    start = (-raw.ctypes.data % alignment) // dtype.itemsize
    return raw[start:start + n].reshape(shape)


#: dtypes the engine computes in
DTYPES = ("float64", "float32")


def float32_supported(arch, loss):
    """Whether the float32 kernels cover ``arch`` with ``loss``: one hidden layer, an activation
    with a vectorized form (not tanh), one output and an elementwise loss."""
    return (arch.n_layers == 2 and arch.outputs == 1 and arch.activation != "tanh"
            and _losses.check_loss(loss) != "cross_entropy")


def check_dtype(dtype, arch=None, loss=None):
    """Canonical dtype name (``"float64"`` or ``"float32"``; NumPy dtypes accepted), refused
    with NotSupportedError when the float32 kernels do not cover ``arch`` and ``loss``."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise ValidationError(f"`dtype` must be one of {', '.join(DTYPES)}; got {dtype!r}.")
    if name == "float32":
        if "float32" not in kernels().DTYPES:  # pragma: no cover - depends on the compiler
            raise NotSupportedError(
                "`dtype` 'float32' needs an engine built with GCC or Clang vector extensions; "
                "this build has float64 kernels only.")
        if arch is not None and not float32_supported(arch, loss):
            raise NotSupportedError(
                f"`dtype` 'float32' is implemented for {kernels().FLOAT32_SCOPE}; got "
                f"{arch} with loss {loss!r}. Use dtype='float64'.")
        if arch is not None and arch.activation == "leaky_relu":
            # the kernels take the slope as a float: it must not round to inf or to 0 (a
            # leaky ReLU that would silently be a ReLU)
            s = abs(arch.negative_slope)
            if rounds_to_inf32(s) or (s > 0 and np.float32(s) == 0):
                raise ValidationError(
                    f"`negative_slope` must be 0 or of magnitude within float32's range "
                    f"(7.006e-46 to 3.403e+38) with dtype='float32'; got "
                    f"{arch.negative_slope!r}. Use dtype='float64'.")
    return name


def layout(arch):
    """``(n_layers, 6)`` int64 rows: n_out, n_in, weight offset, bias offset (-1 if none),
    offset of the layer's outputs and of its activation derivative in the kernels' scratch."""
    rows = np.zeros((arch.n_layers, 6), dtype=np.int64)
    z_off = s_off = 0
    for i, (w, b) in enumerate(arch.layer_slices):
        n_out, n_in = arch.layer_shape(i)
        rows[i] = (n_out, n_in, w.start, -1 if b is None else b.start, z_off, s_off)
        z_off += n_out
        if i < arch.n_layers - 1:
            s_off += n_out
    return rows


def kernel_loss_code(arch, loss):
    """Engine code of ``loss`` on the outputs of ``arch``: ``LOSS_CODES[loss]`` for a linear
    output unit, ``OUTPUT_LOSS_CODES[(loss, output_activation)]`` otherwise (the kernels take
    the loss of the activated output and chain its derivative; ext/codes.h). An output
    activation with a loss the kernels do not pair it with raises NotSupportedError."""
    eng = kernels()
    loss = _losses.check_loss(loss)
    if arch.output_activation == "linear":
        return eng.LOSS_CODES[loss]
    try:
        return eng.OUTPUT_LOSS_CODES[(loss, arch.output_activation)]
    except KeyError:
        pairs = ", ".join(f"{a} output with loss {l!r}" for l, a in sorted(eng.OUTPUT_LOSS_CODES))
        raise NotSupportedError(
            f"`loss` {loss!r} on a {arch.output_activation} output unit is not implemented in "
            f"the engine (it has: {pairs}; 'bce' and 'cross_entropy' take logits, so use "
            f"output_activation='linear' with them).") from None


def kernel_arch_args(arch, loss):
    """``(layout, activation code, slope, loss code)`` as the kernels take them (codes from the
    engine's tables ``ACTIVATION_CODES``, ``LOSS_CODES`` and ``OUTPUT_LOSS_CODES``, defined
    once in ext/codes.h; see :func:`kernel_loss_code`)."""
    eng = kernels()
    return (layout(arch), eng.ACTIVATION_CODES[arch.activation], float(arch.negative_slope),
            kernel_loss_code(arch, loss))


def resolve_threads(n_threads, n_tasks=None):
    """Number of OpenMP threads: all usable cores by default, never more than the tasks.

    The kernels count the sample shards of a network as tasks when there are fewer networks
    than threads (``ext/engine.pyx``), so ``n_tasks`` caps at the engine's shard count
    (``SHARDS``) times ``n_tasks``."""
    if n_threads is None:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            n = os.cpu_count() or 1
    else:
        n = check_int("n_threads", n_threads, minimum=1)
    if n_tasks is not None:
        n = max(1, min(n, int(n_tasks) * kernels().SHARDS))
    return n


# --- status ------------------------------------------------------------------------------
#: Why an evaluation counts as diverged, for the warnings.
NONFINITE = "non-finite pre-activations, outputs, loss or gradient"

def raise_for_status(status, what="networks", detail="non-finite values", *,
                     on_diverged="warn", stacklevel=3):
    """Translate the kernels' status codes (ext/codes.h) into errors and warnings: the one
    place where statuses become Python outcomes (as POT's ``check_result``).

    Parameters
    ----------
    status : array_like of int
        Per-task codes of a kernel (``STATUS_*`` of the engine): per network for training,
        per evaluation for the batched evaluations and segments.
    what : str, default="networks"
        What the tasks are, for the messages (``"networks"``, ``"evaluation points"``, ...).
    detail : str
        Why a task counts as diverged, for the warning.
    on_diverged : {"warn", "ignore"}, default="warn"
        ``"warn"``: a :class:`~topoanalysis.exceptions.DivergenceWarning` naming ``what`` and
        how many diverged; ``"ignore"``: only the returned mask (callers that handle
        divergence themselves, e.g. a step-size controller).
    stacklevel : int, default=3
        Passed to :func:`warnings.warn` (3: the caller of the public function).

    Returns
    -------
    diverged : ndarray of bool
        Tasks with status ``STATUS_DIVERGED``.

    Raises
    ------
    MemoryError
        When some task has ``STATUS_OUT_OF_MEMORY`` (a thread's scratch buffers could not be
        allocated); the message names ``what``.
    ValueError
        For a status code the engine does not define (a bug, never a user error).
    """
    eng = kernels()
    status = np.asarray(status)
    if on_diverged not in ("warn", "ignore"):
        raise ValueError(f"`on_diverged` must be 'warn' or 'ignore'; got {on_diverged!r}.")
    unknown = ~np.isin(status, list(eng.STATUS_NAMES))
    if np.any(unknown):
        raise ValueError(f"the engine returned unknown status codes for {what}: "
                         f"{sorted(set(np.asarray(status)[unknown].tolist()))}.")
    n_oom = int(np.count_nonzero(status == eng.STATUS_OUT_OF_MEMORY))
    if n_oom:
        raise MemoryError(f"the engine could not allocate its per-thread scratch buffers for "
                          f"{n_oom} of {status.size} {what}.")
    diverged = status == eng.STATUS_DIVERGED
    if on_diverged == "warn":
        warn_diverged(int(np.count_nonzero(diverged)), status.size, what, detail,
                      stacklevel=stacklevel + 1)
    return diverged


def flag_nonfinite(bad, *values):
    """Mark as diverged (``STATUS_DIVERGED``) the running tasks whose values are not finite:
    the kernels flag non-finite pre-activations and outputs, but a loss or gradient can
    overflow from finite outputs (an mse term beyond 1.3e154 in float64, beyond 1.8e19 in
    float32), which would otherwise come back as a silent inf or NaN. ``values`` are arrays
    whose first axes are those of ``bad`` (extra axes are reduced)."""
    eng = kernels()
    for v in values:
        v = np.asarray(v)
        ok = np.isfinite(v).reshape(bad.shape + (-1,)).all(axis=-1)
        bad[(bad == eng.STATUS_RUNNING) & ~ok] = eng.STATUS_DIVERGED
    return bad


def warn_diverged(n_bad, n_total, what, detail, stacklevel=3):
    if n_bad:
        warnings.warn(
            f"{n_bad} of {n_total} {what} diverged ({detail}); see the `diverged` field of the "
            f"result.", DivergenceWarning, stacklevel=stacklevel,
        )


# --- public batched evaluation -----------------------------------------------------------
def _evaluate(theta, X, y, arch, loss, n_threads, *, want_loss, want_grad, want_acc, want_out,
              on_diverged="ignore"):
    eng = kernels()
    arch, stack = resolve_params(theta, arch)
    loss = _losses.check_loss(loss)
    if y is None and not isinstance(X, EngineData):
        data = block_data(arch.check_inputs(X), np.zeros((np.shape(X)[0], arch.outputs)))
    else:
        data = prepare_data(arch, X, y, loss)
    B, P = stack.shape
    N, e = data.n_samples, arch.outputs
    check_memory(8.0 * B * (3 + (P if want_grad else 0) + (N * e if want_out else 0)),
                 f"evaluating {B} networks on {N} samples")
    loss_out = np.full(B, np.nan)
    acc_out = np.full(B, np.nan)
    grad = np.zeros((B, P)) if want_grad else np.zeros((1, 1))
    out = np.zeros((B, N, e)) if want_out else np.zeros((1, 1, 1))
    bad = np.zeros(B, dtype=np.int8)
    threads = resolve_threads(n_threads, B)
    args = kernel_arch_args(arch, loss)
    # bounded kernel calls (about a quarter of a second each) so that Ctrl-C is seen quickly
    per_net = estimate_step_seconds(1, N, P, threads)
    i0, ramp = 0, 8
    while i0 < B:
        i1 = min(B, i0 + min(ramp, chunk_steps(B - i0, per_net)))
        ramp *= 8
        tic = time.perf_counter()
        eng.evaluate_networks(stack[i0:i1], data.Xb, data.Yb, data.X, data.Y, *args,
                              want_loss, want_grad, want_acc, want_out, loss_out[i0:i1],
                              grad[i0:i1] if want_grad else grad, acc_out[i0:i1],
                              out[i0:i1] if want_out else out, bad[i0:i1], threads, data.Xp)
        per_net = max((time.perf_counter() - tic) / (i1 - i0), 1e-12)
        i0 = i1
    flag_nonfinite(bad, *([loss_out] if want_loss else []), *([grad] if want_grad else []))
    diverged = raise_for_status(bad, "networks", NONFINITE, on_diverged=on_diverged,
                                stacklevel=4)
    return arch, loss_out, grad, acc_out, out, diverged


def _evaluate_f32(theta, X, y, arch, loss, n_threads, *, want_grad, want_acc=False,
                  on_diverged="ignore"):
    """float32 ``_evaluate``: loss (double sums of float terms), float gradient, accuracy;
    ``theta`` and the data rounded to float once (``X`` may be float32 EngineData)."""
    eng = kernels()
    arch, stack = resolve_params(theta, arch)
    loss = _losses.check_loss(loss)
    check_dtype("float32", arch, loss)
    data = prepare_data(arch, X, y, loss, "float32")
    stack = as_dtype("theta", stack, np.float32)
    B, P = stack.shape
    N = data.n_samples
    check_memory(4.0 * B * (6 + (P if want_grad else 0)),
                 f"evaluating {B} networks on {N} samples")
    loss_out = np.full(B, np.nan)
    acc_out = np.full(B, np.nan)
    grad = np.zeros((B, P), dtype=np.float32) if want_grad else np.zeros((1, 1), np.float32)
    bad = np.zeros(B, dtype=np.int8)
    threads = resolve_threads(n_threads, B)
    args = kernel_arch_args(arch, loss)
    per_net = estimate_step_seconds(1, N, P, threads) / 2
    i0, ramp = 0, 8
    while i0 < B:
        i1 = min(B, i0 + min(ramp, chunk_steps(B - i0, per_net)))
        ramp *= 8
        tic = time.perf_counter()
        eng.evaluate_networks_f32(stack[i0:i1], data.Xb, data.Yb, N, *args, True, want_grad,
                                  want_acc, loss_out[i0:i1],
                                  grad[i0:i1] if want_grad else grad, acc_out[i0:i1],
                                  bad[i0:i1], min(threads, i1 - i0), data.Xp)
        per_net = max((time.perf_counter() - tic) / (i1 - i0), 1e-12)
        i0 = i1
    flag_nonfinite(bad, loss_out, *([grad] if want_grad else []))
    diverged = raise_for_status(bad, "networks", NONFINITE, on_diverged=on_diverged,
                                stacklevel=4)
    return arch, loss_out, grad, acc_out, diverged


def batch_loss_and_gradient(theta, X, y, *, arch=None, loss="mse", n_threads=None,
                            dtype="float64"):
    """Loss and flat gradient of many networks on one data set (compiled engine).

    Parameters
    ----------
    theta : Network, sequence of Network, or array_like of shape (P,) or (B, P)
        The networks; arrays need ``arch``.
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e) (or (N,) for e = 1 or class labels with cross-entropy)
        Targets in the form of :func:`topoanalysis.losses.as_targets`.
    arch : Architecture, optional
        Required when ``theta`` is an array.
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    n_threads : int, optional
        OpenMP threads over the networks (default: all usable cores). Results do not depend
        on it.
    dtype : {"float64", "float32"}, default="float64"
        ``"float32"`` rounds the data and the parameters to float and runs the float32 kernels
        (the arithmetic of ``train(..., dtype="float32")``; one hidden layer, a vectorized
        activation, one output, an elementwise loss): the loss is a double sum of float
        terms, the gradient is float32.

    Returns
    -------
    loss : ndarray of shape (B,)
        Loss of each network on the full data.
    grad : ndarray of shape (B, P)
        Gradient of each network's loss with respect to its flat parameters (float32 for
        ``dtype="float32"``).

    Notes
    -----
    Same values as :func:`topoanalysis.network.loss_and_gradient` up to rounding (about
    1e-15 relative), including the derivative convention at ReLU kinks. Cost
    ``O(B · N · P)``, parallel over networks. Networks whose pre-activations, outputs, loss or
    gradient are not finite give non-finite values and a
    :class:`~topoanalysis.exceptions.DivergenceWarning` (a loss can overflow from finite
    outputs: mse residuals beyond about 1.3e154, or 1.8e19 in float32, whose squares are
    float terms).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> from topoanalysis.network import loss_and_gradient
    >>> arch = Architecture(3, (4,), 1)
    >>> nets = [Network.initialize(arch, seed=s) for s in range(5)]
    >>> X = np.random.default_rng(0).standard_normal((20, 3)); y = X[:, :1] ** 2
    >>> L, G = batch_loss_and_gradient(nets, X, y, loss="mse")
    >>> L.shape, G.shape
    ((5,), (5, 21))
    >>> ref = loss_and_gradient(arch, nets[2].params, X, y, "mse")
    >>> bool(np.isclose(L[2], ref[0]) and np.allclose(G[2], ref[1]))
    True
    """
    if check_dtype(dtype) == "float32":
        _, value, grad, _, _ = _evaluate_f32(theta, X, y, arch, loss, n_threads,
                                             want_grad=True, on_diverged="warn")
        return value, grad
    _, value, grad, _, _, bad = _evaluate(theta, X, y, arch, loss, n_threads, want_loss=True,
                                          want_grad=True, want_acc=False, want_out=False,
                                          on_diverged="warn")
    return value, grad


def batch_forward(theta, X, *, arch=None, n_threads=None):
    """Outputs of many networks on ``X`` (compiled engine): shape ``(B, N, e)``.

    Same values as :func:`topoanalysis.network.forward` up to rounding. See
    :func:`batch_loss_and_gradient` for the parameters.

    Parameters
    ----------
    theta : Network, sequence of Network, or array_like of shape (P,) or (B, P)
        The networks; arrays need ``arch``.
    X : array_like of shape (N, d)
        Inputs.
    arch : Architecture, optional
        Required when ``theta`` is an array.
    n_threads : int, optional
        OpenMP threads over the networks (default: all usable cores). Results do not depend
        on it.

    Returns
    -------
    ndarray of shape (B, N, e)
        Outputs of every network on every sample.

    See Also
    --------
    batch_loss_and_gradient, topoanalysis.network.forward

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> net = Network.initialize(Architecture(2, (3,), 1), seed=0)
    >>> X = np.array([[1.0, -2.0], [0.5, 0.5]])
    >>> bool(np.allclose(batch_forward(net, X)[0], net.forward(X)))
    True
    """
    arch, _, _, _, out, bad = _evaluate(theta, X, None, arch, "mse", n_threads, want_loss=False,
                                        want_grad=False, want_acc=False, want_out=True,
                                        on_diverged="warn")
    if arch.output_activation != "linear":   # the kernels store the last affine values
        from ..activations import activate

        out = activate(arch.output_activation, out)
    return out
