"""Training dynamics and paths between networks, on the compiled engine.

Many networks of one architecture are handled in each call, parallel over networks (or over
path points) with OpenMP; results never depend on the number of threads.

Networks are passed the same way everywhere: the parameters come first, as a
:class:`~topoanalysis.network.Network`, a sequence of networks, or an array of shape ``(P,)``
or ``(B, P)`` together with the keyword ``arch``.

Training
--------
train
    Gradient descent, mini-batch SGD, momentum and Adam with records of the loss, the
    parameters and the per-neuron conserved quantities; stop on a target loss or divergence.
TrainResult
    What :func:`train` returns.
gradient_flow
    The gradient flow itself, to a final time: adaptive Dormand–Prince 5(4), per-network step
    sizes (also ``train(..., optimizer="flow")``).
FlowResult
    What :func:`gradient_flow` returns (a ``TrainResult`` recorded at times).

Paths
-----
interpolate
    Loss (and accuracy) along straight segments between pairs of networks.
path_losses
    Loss along polygonal paths (strings of beads).
interpolation_barrier
    Barrier heights on segments: above the chord (Entezari et al.), above the endpoints'
    mean (Frankle et al.) and at the midpoint.

Batched evaluation
------------------
batch_loss_and_gradient
    Loss and flat gradient of many networks.
batch_forward
    Outputs of many networks.
"""

from ._engine import batch_forward, batch_loss_and_gradient
from .interpolate import (
    InterpolationBarrier,
    InterpolationResult,
    PathLosses,
    interpolate,
    interpolation_barrier,
    path_losses,
)
from .train import OPTIMIZERS, TrainResult, train
from .flow import FlowResult, gradient_flow  # after .train: flow builds on TrainResult

__all__ = [
    "train",
    "TrainResult",
    "OPTIMIZERS",
    "gradient_flow",
    "FlowResult",
    "interpolate",
    "path_losses",
    "interpolation_barrier",
    "InterpolationResult",
    "PathLosses",
    "InterpolationBarrier",
    "batch_loss_and_gradient",
    "batch_forward",
]
