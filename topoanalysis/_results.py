"""Shared pieces of the result types: plain-data conversion for ``to_dict``/``from_dict``.

Every public result type is a frozen dataclass with ``summary()`` (a short text) and
``to_dict()`` (plain Python data: dicts, lists, str, int, float, bool, None). ``to_dict``
keeps non-finite floats as ``float`` (``nan``, ``inf``); :func:`topoanalysis.io.write_json`
writes them as ``null``, and :func:`as_array` reads ``null`` back as ``nan`` so that
``from_dict(json.loads(...))`` rebuilds the arrays.
"""

import hashlib

import numpy as np

__all__ = ["as_list", "as_array", "plain", "data_source", "LossCurves"]


def as_list(a):
    """``None``, or the array as nested lists of Python scalars."""
    return None if a is None else np.asarray(a).tolist()


def as_array(v, dtype=np.float64):
    """Inverse of :func:`as_list`: ``None`` stays ``None``; ``null`` entries become NaN."""
    if v is None:
        return None
    return np.asarray(v, dtype=dtype)   # NumPy reads None as NaN in float arrays


def data_source(X, y):
    """Where a result's numbers come from: the data's sizes and a SHA-256 of its values.

    Parameters
    ----------
    X : array_like of shape (N, d)
        Inputs.
    y : array_like
        Targets, as given.

    Returns
    -------
    dict
        ``n_samples``, ``inputs``, ``target_shape`` and ``sha256`` (of the float64 inputs
        and targets, with their shapes): equal data give equal digests.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(y, dtype=np.float64)
    h = hashlib.sha256(repr((X.shape, Y.shape)).encode())
    h.update(X.tobytes())
    h.update(Y.tobytes())
    return {"n_samples": int(X.shape[0]), "inputs": int(X.shape[1]) if X.ndim == 2 else 1,
            "target_shape": list(Y.shape), "sha256": h.hexdigest()}


def plain(obj):
    """Plain Python data from NumPy scalars/arrays, tuples, dicts and SymPy objects.

    Floats stay floats (NaN and infinities included); SymPy expressions become their ``str``.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return str(obj)


class LossCurves:
    """``to_dict``/``from_dict`` of the loss-curve results (fields ``ts``, ``loss``,
    ``accuracy``, ``loss_name``): :class:`~topoanalysis.dynamics.InterpolationResult` and
    :class:`~topoanalysis.dynamics.PathLosses`."""

    def to_dict(self):
        """Plain data: loss name, coefficients and the losses (and accuracies)."""
        return {"loss": self.loss_name, "ts": as_list(self.ts), "losses": as_list(self.loss),
                "accuracy": as_list(self.accuracy)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of :meth:`to_dict` (also after a JSON round trip)."""
        return cls(ts=as_array(d["ts"]), loss=as_array(d["losses"]),
                   accuracy=as_array(d["accuracy"]), loss_name=d["loss"])
