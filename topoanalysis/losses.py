"""Losses of the network outputs and their gradients (NumPy reference).

All losses are means over samples (and over output coordinates where stated), matching
PyTorch's default ``reduction="mean"``:

* ``"mse"`` — mean over all ``N·e`` entries of ``(f − y)²`` (``nn.MSELoss``).
* ``"l1"`` — mean over all entries of ``|f − y|`` (``nn.L1Loss``); subgradient ``sign``.
* ``"bce"`` — binary cross-entropy with logits, mean over all entries, targets in
  ``[0, 1]`` (``nn.BCEWithLogitsLoss``).
* ``"cross_entropy"`` — softmax cross-entropy with logits, mean over samples; targets are
  one-hot / probability rows of shape ``(N, e)`` (``nn.CrossEntropyLoss`` with
  probabilities), or integer class labels of shape ``(N,)`` converted with
  :func:`as_targets`.
"""

import numpy as np

from ._validation import check_choice
from .exceptions import ShapeError, ValidationError

__all__ = ["LOSSES", "check_outputs_for_loss", "loss_value", "loss_gradient", "loss_code", "as_targets", "accuracy"]

LOSSES = ("mse", "l1", "bce", "cross_entropy")


def loss_code(name):
    """Integer code of a loss in the compiled engine.

    The codes are defined once, in ``ext/codes.h``, and read here from the engine's table
    ``LOSS_CODES`` (not from positions in :data:`LOSSES`).

    Parameters
    ----------
    name : str
        Loss name.

    Returns
    -------
    int
        Its code in the compiled engine.

    See Also
    --------
    loss_value, topoanalysis.activations.activation_code
    """
    from ._kernels.engine import LOSS_CODES

    return LOSS_CODES[check_loss(name)]


def check_loss(name):
    """Return the canonical name of a loss (``"Cross-Entropy"`` is ``"cross_entropy"``).

    Parameters
    ----------
    name : str
        A loss name in any case, with ``-``, ``_`` or spaces.

    Returns
    -------
    str
        One of :data:`LOSSES`.
    """
    return check_choice("loss", name, LOSSES)


def check_outputs_for_loss(loss, n_outputs):
    """Refuse ``"cross_entropy"`` on one output: the softmax of one logit is 1, the loss is 0
    and its gradient vanishes, so training would silently do nothing.

    Parameters
    ----------
    loss : str
        Loss name (spelling-insensitive).
    n_outputs : int
        Output dimension ``e``.

    Returns
    -------
    str
        Canonical loss name.

    See Also
    --------
    as_targets, loss_value
    """
    loss = check_loss(loss)
    if loss == "cross_entropy" and n_outputs < 2:
        raise ValidationError(
            "`loss` 'cross_entropy' needs a network with at least 2 outputs (a softmax over one "
            f"output is constant, so nothing would train); got {n_outputs} output. For a binary "
            "task with one output use loss 'bce'."
        )
    return loss


def as_targets(y, loss, n_outputs):
    """Return targets as a float64 array of shape ``(N, e)`` for ``loss``.

    Integer class labels of shape ``(N,)`` are one-hot encoded for ``"cross_entropy"``;
    a vector of shape ``(N,)`` is reshaped to ``(N, 1)`` when ``e = 1``.

    Parameters
    ----------
    y : array_like of shape (N,) or (N, e)
        Targets as given.
    loss : str
        Loss name.
    n_outputs : int
        Output dimension ``e``.

    Returns
    -------
    ndarray of shape (N, e)
        Targets in loss form.

    See Also
    --------
    loss_value, check_outputs_for_loss
    """
    loss = check_loss(loss)
    y = _as_real_array("y", y)
    if loss == "cross_entropy" and y.ndim == 2 and y.shape[1] == 1 and n_outputs > 1:
        y = y[:, 0]  # a column of class labels
    if loss == "cross_entropy" and y.ndim == 1:
        if y.size and (not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0)):
            raise ValidationError("`y` class labels must be integers for 'cross_entropy'.")
        labels = y.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= n_outputs):
            raise ValidationError(
                f"`y` class labels must lie in [0, {n_outputs - 1}]; got range "
                f"[{labels.min()}, {labels.max()}]."
            )
        out = np.zeros((labels.size, n_outputs))
        out[np.arange(labels.size), labels] = 1.0
        return out
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1 and n_outputs == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[1] != n_outputs:
        raise ShapeError(f"`y` must have shape (N, {n_outputs}); got shape {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise ValidationError("`y` must contain only finite numbers.")
    if loss == "bce" and (y.min(initial=0.0) < 0 or y.max(initial=1.0) > 1):
        raise ValidationError("`y` must lie in [0, 1] for loss 'bce'.")
    return np.ascontiguousarray(y)


def _as_real_array(name, value):
    """``value`` as a real (bool, integer or float) NumPy array, or a ValidationError."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"`{name}` must be a rectangular array of real numbers; "
                              f"got {type(value).__name__} ({str(exc).splitlines()[0]}).") from None
    if arr.dtype.kind not in "biuf":
        what = "complex numbers" if arr.dtype.kind == "c" else f"dtype {arr.dtype}"
        raise ValidationError(f"`{name}` must be an array of real numbers; got {what}.")
    return arr


def _log_softmax(out):
    m = out.max(axis=-1, keepdims=True)
    z = out - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def loss_value(name, out, y):
    """Loss of outputs ``out`` (``(..., N, e)``) against targets ``y`` (``(N, e)``).

    Leading batch dimensions of ``out`` are kept: returns shape ``out.shape[:-2]``.

    Parameters
    ----------
    name : str
        Loss name.
    out : ndarray of shape (..., N, e)
        Network outputs.
    y : ndarray of shape (N, e)
        Targets in loss form.

    Returns
    -------
    ndarray of shape (...)
        Loss.

    See Also
    --------
    loss_gradient, accuracy
    """
    name = check_loss(name)
    if name == "mse":
        return np.mean((out - y) ** 2, axis=(-2, -1))
    if name == "l1":
        return np.mean(np.abs(out - y), axis=(-2, -1))
    if name == "bce":
        # log(1 + exp(o)) - y o, computed stably
        val = np.maximum(out, 0) - out * y + np.log1p(np.exp(-np.abs(out)))
        return np.mean(val, axis=(-2, -1))
    # cross-entropy
    return -np.mean(np.sum(y * _log_softmax(out), axis=-1), axis=-1)


def loss_gradient(name, out, y):
    """Gradient of :func:`loss_value` with respect to ``out`` (same shape as ``out``).

    Parameters
    ----------
    name : str
        Loss name.
    out : ndarray of shape (..., N, e)
        Network outputs.
    y : ndarray of shape (N, e)
        Targets in loss form.

    Returns
    -------
    ndarray of shape (..., N, e)
        Gradient of the loss in the outputs.

    See Also
    --------
    loss_value
    """
    name = check_loss(name)
    n, e = out.shape[-2], out.shape[-1]
    if name == "mse":
        return 2.0 * (out - y) / (n * e)
    if name == "l1":
        return np.sign(out - y) / (n * e)
    if name == "bce":
        s = np.where(out >= 0, 1.0 / (1.0 + np.exp(-np.abs(out))),
                     np.exp(-np.abs(out)) / (1.0 + np.exp(-np.abs(out))))
        return (s - y) / (n * e)
    p = np.exp(_log_softmax(out))
    return (p * y.sum(axis=-1, keepdims=True) - y) / n


def accuracy(out, y, loss):
    """Classification accuracy for ``"bce"`` (logit > 0) and ``"cross_entropy"`` (argmax).

    Returns shape ``out.shape[:-2]``; NaN-free. Raises for regression losses.

    Parameters
    ----------
    out : ndarray of shape (..., N, e)
        Network outputs (logits).
    y : ndarray of shape (N, e)
        Targets in loss form (:func:`as_targets`).
    loss : {"bce", "cross_entropy"}
        Loss.

    Returns
    -------
    ndarray of shape (...)
        Accuracy.

    See Also
    --------
    loss_value
    """
    loss = check_loss(loss)
    if loss == "bce":
        return np.mean((out > 0) == (y > 0.5), axis=(-2, -1))
    if loss == "cross_entropy":
        return np.mean(np.argmax(out, axis=-1) == np.argmax(y, axis=-1), axis=-1)
    raise ValidationError(f"accuracy needs loss 'bce' or 'cross_entropy'; got {loss!r}.")
