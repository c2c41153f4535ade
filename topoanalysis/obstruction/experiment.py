"""Set up the experiments of the obstruction paper (Nurisso, Leroy, Vaccarino).

The number ``l_+`` of non-pathological neurons of an initialization is controlled by rescaling
neurons, ``(w_k, a_k) -> (α_k w_k, a_k / α_k)``, which keeps the initial function. Two ways to
choose ``α_k`` (:data:`BALANCES`):

``"ratio"`` (the paper's construction, default)
    ``||α w_k||² / ||a_k / α||² = ratio`` for non-pathological neurons (``c_k > 0``), ``1 / ratio``
    for pathological ones. The parameter norm of a neuron is then
    ``√(||w_k||²||a_k||²) (√ratio + 1/√ratio)`` for either sign, so the initial parameter norm is
    the same for every ``l_+``; what changes is how it is split between the layers, and with it
    the scale of the gradients (the tangent kernel): with 30 inputs a pathological neuron
    (large ``a_k``) has a ~3.6× larger kernel trace than a non-pathological one at ratio 4.
``"kernel"`` (scale-controlled)
    The positive and the pathological version of every neuron have the *same* tangent-kernel
    trace on the training inputs ``X``, ``T_k(s) = (||a_k||²/s) Σ_n σ'(z_n)² ||x̃_n||² +
    e s Σ_n σ(z_n)²`` (``s = α²``, ``x̃_n`` the input with the bias coordinate): ``s`` is placed
    symmetrically in ``log s`` around the minimizer of ``T_k``, far enough out that the less
    extreme side has ``||w||²/||a||² = ratio`` (or ``1/ratio``). The first-order training speed
    of a network then does not depend on ``l_+``; only the signs of ``c_k`` (the topology) do.
"""

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int
from ..exceptions import NotSupportedError, ValidationError
from ..activations import is_positively_homogeneous

__all__ = ["BALANCES", "set_pathological_count", "kernel_trace", "breast_cancer_cell",
           "breast_cancer_sweep_cell"]

#: How :func:`set_pathological_count` chooses the rescaling factors.
BALANCES = ("ratio", "kernel")


def set_pathological_count(arch, theta, n_positive, *, ratio=4.0, balance="ratio", X=None):
    """Rescale the neurons of shallow networks so exactly ``n_positive`` have ``c_k > 0``.

    Parameters
    ----------
    arch : Architecture
        A shallow architecture with a positively homogeneous activation.
    theta : ndarray of shape (P,) or (B, P)
        Parameters (not modified).
    n_positive : int
        ``l_+``: neurons ``0 .. n_positive-1`` become non-pathological, the others
        pathological (by permutation symmetry which ones does not matter).
    ratio : float, default=4.0
        ``||w_k||² / ||a_k||²`` after rescaling for non-pathological neurons (its inverse for
        pathological ones); must be > 1. Then ``c_k = ±(√ratio − 1/√ratio) ||w_k|| ||a_k||``.
        With ``balance="kernel"`` this is the ratio of the less extreme of the two versions of
        each neuron.
    balance : {"ratio", "kernel"}, default="ratio"
        ``"ratio"``: the paper's rescaling (equal parameter norm for every ``l_+``, unequal
        gradient scales). ``"kernel"``: equal tangent-kernel trace on ``X`` for both signs of
        every neuron (scale-controlled; see the module docstring). A neuron inactive on every
        row of ``X`` (zero trace) falls back to ``"ratio"``.
    X : array_like of shape (N, d), optional
        Training inputs; required for ``balance="kernel"``.

    Returns
    -------
    ndarray of the shape of ``theta``
        Rescaled parameters realizing the same function.

    Raises
    ------
    ValidationError
        If a neuron has ``w_k = 0`` or ``a_k = 0`` (then no rescaling changes the sign of
        ``c_k``), or on bad arguments.

    See Also
    --------
    topoanalysis.obstruction.breast_cancer_cell : The experiment that uses it.
    topoanalysis.symmetry.balance : The balanced representative.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 4: l_+ controlled by rescaling
           neurons at initialization.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(3, (4,), 1)
    >>> net = Network.initialize(arch, seed=0)
    >>> moved = Network(arch, set_pathological_count(arch, net.params, 1))
    >>> (moved.conserved_quantities() > 0).tolist()       # exactly: checked in rationals
    [True, False, False, False]
    >>> X = np.ones((2, 3))
    >>> bool(np.allclose(net.forward(X), moved.forward(X)))
    True
    """
    if not arch.is_shallow:
        raise NotSupportedError("set_pathological_count needs a shallow network (one hidden layer).")
    if not is_positively_homogeneous(arch.activation):
        raise NotSupportedError(
            f"rescaling keeps the function only for positively homogeneous activations; "
            f"got {arch.activation!r}."
        )
    l = arch.hidden[0]
    n_positive = check_int("n_positive", n_positive, minimum=0, maximum=l)
    ratio = check_float("ratio", ratio, minimum=1.0, strict_min=True)
    theta = arch.check_params(theta)
    out = theta.copy()
    (W1, b1), (W2, _) = arch.unpack(out)
    with np.errstate(over="ignore", under="ignore"):
        w2 = np.sum(W1 ** 2, axis=-1) + (0.0 if b1 is None else b1 ** 2)
        a2 = np.sum(W2 ** 2, axis=-2)
    W = W1 if b1 is None else np.concatenate([W1, b1[..., None]], axis=-1)
    if np.any(np.all(W == 0, axis=-1)) or np.any(np.all(W2 == 0, axis=-2)):   # exactly 0
        raise ValidationError(
            "`theta` has a neuron with zero input or zero output weights; its c_k cannot be "
            "given either sign by rescaling."
        )
    positive = np.arange(l) < n_positive
    target = np.where(positive, ratio, 1.0 / ratio)
    with np.errstate(over="ignore"):     # overflow is detected (and named) below
        s_ratio = np.sqrt(target * a2 / w2)  # s = α²: ||αw||²/||a/α||² = s² w2/a2 = target
    from ..symmetry import _row_norms
    bw, ba = np.max(np.abs(W), axis=-1), np.max(np.abs(W2), axis=-2)
    odd = (bw < 1e-150) | (bw > 1e150) | (ba < 1e-150) | (ba > 1e150)
    if np.any(odd):   # squares beyond float64 (1e-200-sized neurons): the ratio of the norms
        with np.errstate(over="ignore"):
            s_ratio = np.where(odd, np.sqrt(target) * (_row_norms(np.swapaxes(W2, -1, -2))
                                                        / _row_norms(W)), s_ratio)
        w2 = np.where(odd, 1.0, w2)
        a2 = np.where(odd, np.square(s_ratio) / target, a2)   # the same ratio a2 / w2
    balance = check_choice("balance", balance, BALANCES)
    if balance == "ratio":
        s = s_ratio
    else:
        if X is None:
            raise ValidationError(
                "`X` must be given (the training inputs) for balance='kernel'; got None.")
        U, V = _kernel_terms(arch, theta, X)
        ok = (U > 0) & (V > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            s_star = np.sqrt(U / V)           # minimizer of T(s) = U/s + V s
            s_zero = np.sqrt(a2 / w2)         # c_k = 0
            t = 0.5 * np.log(ratio) + np.abs(np.log(s_zero / s_star))
            s_kernel = s_star * np.exp(np.where(positive, t, -t))
        s = np.where(ok, s_kernel, s_ratio)
    alpha = np.sqrt(s)
    with np.errstate(over="ignore", invalid="ignore"):
        W1 *= alpha[..., :, None]
        if b1 is not None:
            b1 *= alpha
        W2 /= alpha[..., None, :]
    if not np.all(np.isfinite(out)):
        raise ValidationError(
            f"`ratio` {ratio:g} with balance={balance!r} rescales some neuron beyond the "
            f"floating-point range; use a smaller ratio.")
    from .topology import _exact_c_signs

    signs = _exact_c_signs(arch, out)          # the promise is exact: check it in rationals
    wrong = signs != np.where(positive, 1, -1)
    if np.any(wrong):
        k = int(np.argwhere(wrong)[0][-1])
        raise ValidationError(
            f"`ratio` must be far enough from 1 that the rescaled c_k keep their signs after "
            f"rounding; got ratio={ratio!r}: neuron {k} gets c_k "
            f"{'= 0' if signs[np.nonzero(wrong)][0] == 0 else 'of the wrong sign'} exactly "
            f"(use a ratio ≥ 1 + 1e-6).")
    return out


def _kernel_terms(arch, theta, X):
    """``U, V`` of ``T_k(s) = U_k / s + V_k s`` for every neuron, shape ``(..., l)``."""
    from ..network import _layer_forward
    from .. import activations as _a

    X = check_array("X", X, ndim=2, shape=(None, arch.inputs))
    (W1, b1), (W2, _) = arch.unpack(theta)
    layers, pre, _post = _layer_forward(arch, theta, X)
    z = pre[0]                                            # (..., N, l)
    sig = _a.activate(arch.activation, z, arch.negative_slope)
    dsig = _a.activation_derivative(arch.activation, z, arch.negative_slope)
    xx = np.sum(X ** 2, axis=1) + (1.0 if b1 is not None else 0.0)   # ||x̃_n||²
    a2 = np.sum(W2 ** 2, axis=-2)                         # (..., l)
    U = a2 * np.einsum("...nk,n->...k", dsig ** 2, xx)
    V = arch.outputs * np.sum(sig ** 2, axis=-2)
    return U, V


def kernel_trace(arch, theta, X):
    """Per-neuron trace of the tangent kernel on ``X``: ``Σ_n Σ_j ||∂f_j(x_n)/∂θ_k||²``.

    ``θ_k = (w_k, a_k)`` (hidden weights and bias of neuron ``k``, its output weights).
    Returns an array of shape ``(..., l)`` for ``theta`` of shape ``(..., P)``. This is the
    quantity :func:`set_pathological_count` equalizes with ``balance="kernel"``.

    Parameters
    ----------
    arch : Architecture
        Shallow architecture.
    theta : ndarray of shape (..., P)
        Flat parameters.
    X : ndarray of shape (N, d)
        Inputs.

    Returns
    -------
    ndarray of shape (..., l)
        Per-neuron trace.

    See Also
    --------
    set_pathological_count, breast_cancer_cell

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 4 experiment (neuron rescaling
           keeps the function, not the tangent kernel).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(2, (1,), 1, hidden_bias=False, output_bias=False)
    >>> theta = arch.pack([np.array([[1.0, 0.0]]), np.array([[2.0]])])
    >>> kernel_trace(arch, theta, np.array([[1.0, 1.0]]))   # a²||x||² + σ(w·x)² = 4·2 + 1
    array([9.])
    """
    if not arch.is_shallow:
        raise NotSupportedError("kernel_trace needs a shallow network (one hidden layer).")
    theta = arch.check_params(theta)
    U, V = _kernel_terms(arch, theta, X)
    return U + V


def cell_init_seed(seed, width):
    """The initialization seed of a breast-cancer cell: ``seed·1000 + width`` for widths below
    1000 (the numbers of every earlier run), else ``2^64`` plus the Cantor pairing of
    ``(seed, width)``, so that distinct pairs never share a stream (``seed·1000 + width``
    alone made ``(0, 1001)`` and ``(1, 1)`` start from the same networks).

    Parameters
    ----------
    seed : int
        The cell's seed (``>= 0``).
    width : int
        Hidden width (``>= 1``).

    Returns
    -------
    int
        The seed handed to :func:`~topoanalysis.init.init_params`.
    """
    seed, width = int(seed), int(width)
    if width < 1000 and seed < 2 ** 54:           # below 2^64: the historical values
        return seed * 1000 + width
    s = seed + width
    return 2 ** 64 + s * (s + 1) // 2 + width


def breast_cancer_cell(width, n_positive, *, n_init=100, steps=2000, lr=0.1, scheme="kaiming_normal",
                       ratio=4.0, balance="ratio", seed=0, data_seed=0, n_threads=None,
                       progress=False):
    """One cell of the breast cancer experiment (Nurisso et al., Figure 4).

    ``n_init`` shallow ReLU networks (30 inputs, ``width`` hidden neurons with biases, one
    output) are initialized with ``scheme``, rescaled so that exactly ``n_positive`` neurons
    are non-pathological (:func:`set_pathological_count`, which keeps the initial function), and
    trained by full-batch gradient descent on BCE for ``steps`` steps on the standardized
    training split of the bundled data. The initial networks depend on ``(seed, width)`` only, so
    all cells of one width start from the same functions and differ only in ``l_+``; distinct
    pairs ``(seed, width)`` draw distinct streams (:func:`cell_init_seed`).
    ``ratio`` and ``balance`` choose the rescaling (see :func:`set_pathological_count`);
    ``balance="kernel"`` is the scale-controlled variant (equal tangent-kernel trace on the
    training inputs for every ``l_+``).

    Parameters
    ----------
    width : int
        Hidden width ``l``.
    n_positive : int
        Non-pathological neurons ``l_+`` (0 … ``width``).
    n_init : int, default=100
        Initializations.
    steps : int, default=2000
        Gradient-descent steps.
    lr : float, default=0.1
        Learning rate.
    scheme : str, default="kaiming_normal"
        Initialization scheme.
    ratio : float, default=4.0
        ``||w_k||²/||a_k||²`` of positive neurons after rescaling.
    balance : {"ratio", "kernel"}, default="ratio"
        Rescaling rule (:func:`set_pathological_count`).
    seed : int, default=0
        Seed of the initializations.
    data_seed : int, default=0
        Seed of the train/test split.
    n_threads : int, optional
        Engine threads.
    progress : bool, default=False
        Show a progress bar.

    Returns
    -------
    dict
        ``test_bce_mean``, ``test_bce_std``, ``test_bce_sem``, ``test_bce_median``,
        ``test_acc_mean``, ``train_bce_mean``, ``n_diverged``, ``fraction`` (``l_+ / l``),
        ``n_pathological_final`` (mean number of neurons still with ``c_k < 0``),
        ``max_abs_drift`` (largest ``|Δc_k|``), ``kernel_trace_mean`` (mean over networks of
        the initial tangent-kernel trace, summed over neurons), ``param_norm_mean`` (mean initial
        parameter norm), ``seconds``.

    See Also
    --------
    breast_cancer_sweep_cell, kernel_trace, set_pathological_count

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 4 (breast cancer, test BCE over
           100 initializations per (l, l_+)).
    """
    import time

    from ..datasets import load_breast_cancer
    from ..dynamics import train
    from ..init import init_params
    from ..losses import accuracy, loss_value
    from ..network import Architecture, conserved_quantities, forward
    from .topology import _exact_c_signs

    width = check_int("width", width, minimum=1)
    seed = check_int("seed", seed, minimum=0)   # before the arithmetic below (-1, 1.5, True, uint8)
    t0 = time.perf_counter()
    data = load_breast_cancer(seed=data_seed)
    arch = Architecture(data.X_train.shape[1], (width,), 1)
    theta = init_params(arch, scheme, seed=cell_init_seed(seed, width), n_networks=n_init)
    theta = set_pathological_count(arch, theta, n_positive, ratio=ratio, balance=balance,
                                   X=data.X_train)
    res = train(theta, data.X_train, data.y_train, arch=arch, loss="bce", optimizer="gd", lr=lr,
                steps=steps, record_every=steps, n_threads=n_threads, progress=progress)
    ok = ~res.diverged
    final = res.params[ok]
    out = forward(arch, final, data.X_test)
    test = loss_value("bce", out, data.y_test)
    acc = accuracy(out, data.y_test, "bce")
    c0 = conserved_quantities(arch, theta[ok])
    c1 = conserved_quantities(arch, final)
    n = max(int(ok.sum()), 1)
    return {
        "fraction": n_positive / width,
        "test_bce_mean": float(np.mean(test)) if ok.any() else float("nan"),
        "test_bce_std": float(np.std(test)) if ok.any() else float("nan"),
        "test_bce_sem": float(np.std(test) / np.sqrt(n)) if ok.any() else float("nan"),
        "test_bce_median": float(np.median(test)) if ok.any() else float("nan"),
        "test_acc_mean": float(np.mean(acc)) if ok.any() else float("nan"),
        "train_bce_mean": float(np.mean(res.final_loss[ok])) if ok.any() else float("nan"),
        "n_diverged": int((~ok).sum()),
        "n_pathological_final": (float(np.mean(np.sum(_exact_c_signs(arch, final) < 0, axis=1)))
                                 if ok.any() else float("nan")),
        "max_abs_drift": float(np.max(np.abs(c1 - c0))) if ok.any() else float("nan"),
        "kernel_trace_mean": float(np.mean(np.sum(kernel_trace(arch, theta, data.X_train),
                                                  axis=-1))),
        "param_norm_mean": float(np.mean(np.linalg.norm(theta, axis=-1))),
        "seconds": time.perf_counter() - t0,
    }


def breast_cancer_sweep_cell(cell, **kwargs):
    """:func:`breast_cancer_cell` for a sweep cell ``{"width": l, "n_positive": l_+}``.

    A module-level function, so :func:`topoanalysis.sweep.run_sweep` can ship it (wrapped in
    ``functools.partial`` with the keyword arguments) to Dask workers that have topoanalysis
    installed.

    Parameters
    ----------
    cell : dict
        ``{"width": l, "n_positive": l_+}``.
    **kwargs
        Passed to :func:`breast_cancer_cell`.

    Returns
    -------
    dict
        The row of :func:`breast_cancer_cell`.

    See Also
    --------
    breast_cancer_cell, topoanalysis.sweep.run_sweep

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 4.
    """
    if not isinstance(cell, dict) or "width" not in cell or "n_positive" not in cell:
        raise ValidationError(
            f"`cell` must be a dict with keys 'width' and 'n_positive'; got {cell!r}.")
    return breast_cancer_cell(cell["width"], cell["n_positive"], **kwargs)
