"""Classify a stack of trained networks after snapping (the hook of ``topoanalysis analyze``)."""

import dataclasses

from .._validation import check_choice, check_int
from ..network import Network
from ._point import (CRITICAL_LOSSES, check_architecture, check_bool, check_labels, check_tol,
                     shallow_point, verdict_kink_tol as _verdict_kink_tol)
from .snap import _snap
from .verdict import VERDICTS, _classify

__all__ = ["TrainedVerdicts", "classify_trained"]


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedVerdicts:
    """Verdicts of trained networks after snapping.

    Attributes
    ----------
    rows : list of dict
        Per network: ``index``, ``verdict``, ``reason``, ``loss``, ``snapped_loss``, ``moved``,
        ``pattern_kept``, ``escape_neurons``, ``failing`` (the violated conditions, if any).
    counts : dict
        Number of networks per verdict.
    """

    rows: list
    counts: dict
    loss: str

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"loss": self.loss, "counts": self.counts, "networks": self.rows}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"Critical points of the trained networks (after snapping, loss {self.loss}): "
                 + ", ".join(f"{v} {n}" for v, n in self.counts.items() if n)]
        for r in self.rows:
            lines.append(f"  network {str(r['index']):>7}: {r['verdict']:>15} (snapped loss "
                         f"{r['snapped_loss']:.4g}, moved {r['moved']:.2e}) {r['short_reason']}")
        return "\n".join(lines)


def classify_trained(arch, params, X, y, *, loss="mse", kink_tol=1e-3, zero_tol=1e-3, tol=1e-8,
                     check=False, seed=0, labels=None, max_iter=5, verdict_kink_tol=None):
    """Snap every network of a stack and classify it.

    Parameters
    ----------
    arch : Architecture
        Architecture of the networks.
    params : array_like of shape (B, P)
        Flat parameters, one row per trained network.
    X, y : array_like
        Inputs and targets.
    loss : {"mse", "bce"}, default="mse"
    kink_tol, zero_tol : float
        Snapping tolerances.
    tol : float, default=1e-8
        Stationarity tolerance.
    check : bool, default=False
        Numerical checks of each verdict.
    seed : int, default=0
        Seed of the random perturbations of the checks.
    labels : sequence, optional
        A label per network (reported as ``index``).
    max_iter : int, default=5
        Newton iterations of the ``bce`` snap (its optimum is often at infinity: separable
        data; the snap then keeps the kink projection only).
    verdict_kink_tol : float, optional
        Kink tolerance of each verdict at the snapped point: default ``min(kink_tol, 1e-9)``
        (``kink_tol=0``: exact signs only).

    Returns
    -------
    TrainedVerdicts
        Per network the verdict, reason, loss before and after snapping and escape neurons,
        with the number of networks per verdict.

    See Also
    --------
    topoanalysis.critical.snap_and_classify : The same for one network.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           Theorem 4.2 and the escape-neuron statements applied to trained networks.
    """
    check_architecture("arch", arch)
    params = arch.check_params(params, "params", batch=True)
    labels = check_labels(labels, params.shape[0])
    loss = check_choice("loss", loss, CRITICAL_LOSSES)
    kink_tol, zero_tol, tol = (check_tol("kink_tol", kink_tol), check_tol("zero_tol", zero_tol),
                               check_tol("tol", tol))
    vkt = _verdict_kink_tol(verdict_kink_tol, kink_tol)
    seed = check_int("seed", seed, minimum=0)
    check = check_bool("check", check)
    rows = []
    for i, th in enumerate(params):
        point = shallow_point(Network(arch, th), X, y, loss)
        s = _snap(point, kink_tol, zero_tol, check_int("max_iter", max_iter, minimum=1))
        v = _classify(shallow_point(s.network, X, y, loss), vkt, tol, 0.0, check,
                      (1e-6, 1e-4, 1e-2), 100, seed)
        short = v.reason.split(";")[0].split(" (certificate")[0]
        rows.append({"index": i if labels is None else labels[i], "verdict": v.verdict,
                     "reason": v.reason, "short_reason": short, "loss": s.loss_before,
                     "snapped_loss": s.loss_after, "moved": s.moved,
                     "pattern_kept": s.pattern_kept,
                     "escape_neurons": [] if v.escape is None else v.escape.escape,
                     "failing": v.stationarity.failures[:5]})
    counts = {name: sum(r["verdict"] == name for r in rows) for name in VERDICTS}
    return TrainedVerdicts(rows=rows, counts=counts, loss=loss)
