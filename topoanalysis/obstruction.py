"""Set up the experiments of the obstruction paper (Nurisso, Leroy, Vaccarino).

The number ``l_+`` of non-pathological neurons of an initialization is controlled by rescaling
neurons, ``(w_k, a_k) -> (α_k w_k, a_k / α_k)``, which keeps the initial function: for every
neuron the factor is chosen so that ``||α w_k||² / ||a_k / α||² = ratio`` (non-pathological,
``c_k > 0``) or ``1 / ratio`` (pathological, ``c_k < 0``).
"""

import numpy as np

from ._validation import check_float, check_int
from .exceptions import NotSupportedError, ValidationError
from .activations import is_positively_homogeneous

__all__ = ["set_pathological_count"]


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
