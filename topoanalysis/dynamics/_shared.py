"""What the owners of the engine share, below all of them: the result type of training
(:class:`TrainResult`, which :class:`~topoanalysis.dynamics.flow.FlowResult` extends), the
cost model that bounds every kernel call in time, and the progress bar.

The modules of :mod:`topoanalysis.dynamics` import downwards only::

    train -> flow -> _engine -> _shared
    interpolate -> _engine -> _shared

(``train``, ``flow`` and ``interpolate`` also import ``_shared`` directly; ``__init__``
imports them all); ``tests/test_import_graph.py`` checks that the import graph of the package
``dynamics`` has no circle.
"""

import dataclasses
import math

import numpy as np

from ..exceptions import ValidationError
from ..network import Architecture, Network

__all__ = ["TrainResult", "CHUNK_SECONDS", "estimate_step_seconds", "chunk_steps",
           "progress_bar"]


@dataclasses.dataclass(frozen=True, eq=False)
class TrainResult:
    """Outcome of :func:`~topoanalysis.dynamics.train` for a stack of ``B`` networks.

    Attributes
    ----------
    arch : Architecture
    params : ndarray of shape (B, P)
        Final parameters (in the dtype of the run). A network that diverged keeps its last
        finite parameters.
    loss : ndarray of shape (B, R)
        Loss on the full training data at the record steps; NaN at record steps after the
        network stopped (see ``steps_taken``).
    record_steps : ndarray of int64, shape (R,)
        Steps of the records: ``0, k, 2k, ...`` and the last step ``steps``.
    conserved : ndarray of shape (B, R, n_hidden) or None
        Per-neuron ``||incoming||² − ||outgoing||²`` at the record steps (same definition as
        :func:`topoanalysis.network.conserved_quantities`); NaN after a stop.
    trajectory : ndarray of shape (B, R, P) or None
        Parameters at the record steps when ``record_params=True``; NaN after a stop.
    final_loss : ndarray of shape (B,)
        Full-data loss at the final parameters (for a diverged network it may be non-finite:
        it is the loss at the last finite parameters).
    steps_taken : ndarray of int64, shape (B,)
        Number of updates applied.
    diverged : ndarray of bool, shape (B,)
        Networks stopped because a loss, output, pre-activation or parameter became
        non-finite.
    reached_target : ndarray of bool, shape (B,)
        Networks stopped because their loss reached ``target_loss``.
    settings : dict
        The optimizer settings used (loss, optimizer, lr, steps, batch_size, dtype, ...).
    """

    arch: Architecture
    params: np.ndarray
    loss: np.ndarray
    record_steps: np.ndarray
    conserved: object
    trajectory: object
    final_loss: np.ndarray
    steps_taken: np.ndarray
    diverged: np.ndarray
    reached_target: np.ndarray
    settings: dict

    @property
    def n_networks(self):
        """Number ``B`` of networks trained."""
        return self.params.shape[0]

    def networks(self):
        """The final networks as a list of :class:`~topoanalysis.network.Network`.

        Returns
        -------
        list of Network
            One network per trained parameter vector.
        """
        return [Network(self.arch, p) for p in self.params]

    def conserved_drift(self):
        """``conserved − conserved[:, :1]``: drift of each neuron's conserved quantity from
        step 0, shape ``(B, R, n_hidden)``.

        Returns
        -------
        ndarray of shape (B, R, n_hidden)
            The drift at every record.
        """
        if self.conserved is None:
            raise ValidationError("`record_conserved` was False: no conserved quantities recorded.")
        return self.conserved - self.conserved[:, :1]

    def summary(self):
        """A few lines: networks, loss, optimizer, final losses and stops.

        Returns
        -------
        str
            The report.
        """
        st = self.settings
        fin = np.asarray(self.final_loss, dtype=np.float64)
        finite = fin[np.isfinite(fin)]
        span = (f"final {st.get('loss')} loss {finite.min():.5g} .. {finite.max():.5g} "
                f"(median {np.median(finite):.5g})" if finite.size else "no finite final loss")
        return "\n".join([
            f"trained {self.n_networks} network(s) {self.arch.sizes} with {st.get('optimizer')} "
            f"(lr {st.get('lr')}, {st.get('steps')} steps)",
            f"  {span}",
            f"  {int(np.sum(self.diverged))} diverged, {int(np.sum(self.reached_target))} "
            f"reached the target loss {st.get('target_loss')}",
        ])

    def to_dict(self):
        """Plain data: the keys ``topoanalysis train`` writes to ``train.json`` (architecture,
        loss, settings, final_loss, steps_taken, diverged, reached_target, max_abs_drift), plus
        the final parameters and the records, so that :meth:`from_dict` rebuilds the result.

        Returns
        -------
        dict
            Plain JSON types.
        """
        from .._results import as_list, plain

        drift = None
        if self.conserved is not None and np.size(self.conserved):
            # a network stopped at step 0 (non-finite initial loss) has no finite record: its
            # drift is NaN, without NumPy's "All-NaN slice" RuntimeWarning
            a = np.abs(self.conserved_drift()).reshape(self.conserved.shape[0], -1)
            seen = ~np.isnan(a).all(axis=1)
            drift = np.full(a.shape[0], np.nan)
            drift[seen] = np.nanmax(a[seen], axis=1)
        return {
            "architecture": self.arch.to_dict(), "loss": self.settings.get("loss"),
            "settings": plain(self.settings), "final_loss": as_list(self.final_loss),
            "steps_taken": as_list(self.steps_taken), "diverged": as_list(self.diverged),
            "reached_target": as_list(self.reached_target), "max_abs_drift": as_list(drift),
            "params": as_list(self.params), "record_steps": as_list(self.record_steps),
            "loss_curves": as_list(self.loss), "conserved": as_list(self.conserved),
            "trajectory": as_list(self.trajectory),
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
        TrainResult
            The result.
        """
        from .._results import as_array

        if cls.to_dict is not TrainResult.to_dict:   # a subclass with its own layout
            raise NotImplementedError(f"{cls.__name__} does not define from_dict.")
        settings = dict(d["settings"])
        if isinstance(settings.get("betas"), list):
            settings["betas"] = tuple(settings["betas"])
        # parameters and trajectory in the dtype of the run (float32 values are exact in JSON)
        dt = np.dtype(settings.get("dtype") or "float64")
        return cls(arch=Architecture.from_dict(d["architecture"]),
                   params=as_array(d["params"], dt), loss=as_array(d["loss_curves"]),
                   record_steps=as_array(d["record_steps"], np.int64),
                   conserved=as_array(d["conserved"]), trajectory=as_array(d["trajectory"], dt),
                   final_loss=as_array(d["final_loss"]),
                   steps_taken=as_array(d["steps_taken"], np.int64),
                   diverged=as_array(d["diverged"], bool),
                   reached_target=as_array(d["reached_target"], bool), settings=settings)


#: Target wall time of one kernel call: long enough that thread synchronization costs little,
#: short enough that Ctrl-C (handled between calls) stops a run within about a second.
CHUNK_SECONDS = 0.25


def estimate_step_seconds(n_networks, n_samples, n_params, n_threads):
    """Cost model of one training step: 2 µs of overhead plus 0.2 ns per sample, parameter and
    network on one core (about what the engine does; the estimate used before the first
    measurement).

    Parameters
    ----------
    n_networks : int
        Networks trained together.
    n_samples : int
        Training samples.
    n_params : int
        Parameters of one network.
    n_threads : int
        Threads of the engine.

    Returns
    -------
    float
        Estimated seconds of one step.
    """
    return 2e-6 + 2e-10 * n_networks * n_samples * n_params / max(n_threads, 1)


def chunk_steps(total, per_step, seconds=CHUNK_SECONDS):
    """Steps per kernel call so that a call lasts about ``seconds`` at ``per_step`` seconds per
    step (at least 1). Used whatever the progress setting: every kernel call is bounded in
    time, so an interrupt is seen within about a second. Chunking never changes the
    numbers."""
    return int(max(1, min(total, math.floor(seconds / max(per_step, 1e-12)))))


def progress_bar(total, progress, desc, **kwargs):
    """A tqdm bar that appears after a second (None when ``progress`` is False): the
    project's one bar helper (:func:`topoanalysis._progress.progress_bar`) with the argument
    order of the engine's callers."""
    from .._progress import progress_bar as _bar

    return _bar(progress, total=total, desc=desc, **kwargs)
