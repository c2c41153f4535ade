"""Set up the experiments of the obstruction paper (Nurisso, Leroy, Vaccarino).

The number ``l_+`` of non-pathological neurons of an initialization is controlled by rescaling
neurons, ``(w_k, a_k) -> (α_k w_k, a_k / α_k)``, which keeps the initial function: for every
neuron the factor is chosen so that ``||α w_k||² / ||a_k / α||² = ratio`` (non-pathological,
``c_k > 0``) or ``1 / ratio`` (pathological, ``c_k < 0``).
"""

import numpy as np

from .._validation import check_float, check_int
from ..exceptions import NotSupportedError, ValidationError
from ..activations import is_positively_homogeneous

__all__ = ["set_pathological_count", "breast_cancer_cell"]


def set_pathological_count(arch, theta, n_positive, *, ratio=4.0):
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

    Returns
    -------
    ndarray of the shape of ``theta``
        Rescaled parameters realizing the same function.

    Raises
    ------
    ValidationError
        If a neuron has ``w_k = 0`` or ``a_k = 0`` (then no rescaling changes the sign of
        ``c_k``), or on bad arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Network
    >>> arch = Architecture(3, (4,), 1)
    >>> net = Network.initialize(arch, seed=0)
    >>> moved = Network(arch, set_pathological_count(arch, net.params, 1))
    >>> (moved.conserved_quantities() > 0).tolist()
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
    w2 = np.sum(W1 ** 2, axis=-1) + (0.0 if b1 is None else b1 ** 2)
    a2 = np.sum(W2 ** 2, axis=-2)
    if np.any(w2 == 0) or np.any(a2 == 0):
        raise ValidationError(
            "`theta` has a neuron with zero input or zero output weights; its c_k cannot be "
            "given either sign by rescaling."
        )
    target = np.where(np.arange(l) < n_positive, ratio, 1.0 / ratio)
    alpha = (target * a2 / w2) ** 0.25  # ||αw||² / ||a/α||² = α⁴ w2 / a2 = target
    W1 *= alpha[..., :, None]
    if b1 is not None:
        b1 *= alpha
    W2 /= alpha[..., None, :]
    return out


def breast_cancer_cell(width, n_positive, *, n_init=100, steps=2000, lr=0.1, scheme="kaiming_normal",
                       ratio=4.0, seed=0, data_seed=0, n_threads=None, progress=False):
    """One cell of the breast cancer experiment (Nurisso et al., Figure 4).

    ``n_init`` shallow ReLU networks (30 inputs, ``width`` hidden neurons with biases, one
    output) are initialized with ``scheme``, rescaled so that exactly ``n_positive`` neurons
    are non-pathological (:func:`set_pathological_count`, which keeps the initial function), and
    trained by full-batch gradient descent on BCE for ``steps`` steps on the standardized
    training split of the bundled data. The initial networks depend on ``(seed, width)`` only, so
    all cells of one width start from the same functions and differ only in ``l_+``.

    Returns
    -------
    dict
        ``test_bce_mean``, ``test_bce_std``, ``test_bce_sem``, ``test_bce_median``,
        ``test_acc_mean``, ``train_bce_mean``, ``n_diverged``, ``fraction`` (``l_+ / l``),
        ``n_pathological_final`` (mean number of neurons still with ``c_k < 0``),
        ``max_abs_drift`` (largest ``|Δc_k|``), ``seconds``.
    """
    import time

    from ..datasets import load_breast_cancer
    from ..dynamics import train
    from ..init import init_params
    from ..losses import accuracy, loss_value
    from ..network import Architecture, conserved_quantities, forward

    width = check_int("width", width, minimum=1)
    t0 = time.perf_counter()
    data = load_breast_cancer(seed=data_seed)
    arch = Architecture(data.X_train.shape[1], (width,), 1)
    theta = init_params(arch, scheme, seed=seed * 1000 + width, n_networks=n_init)
    theta = set_pathological_count(arch, theta, n_positive, ratio=ratio)
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
        "n_pathological_final": float(np.mean(np.sum(c1 < 0, axis=1))) if ok.any() else float("nan"),
        "max_abs_drift": float(np.max(np.abs(c1 - c0))) if ok.any() else float("nan"),
        "seconds": time.perf_counter() - t0,
    }
