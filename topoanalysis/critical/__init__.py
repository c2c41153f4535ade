"""Critical points of shallow ReLU-like networks (Wu, Simsek & Ged, arXiv 2402.05626).

What kind of point did training stop at? For a one-hidden-layer ReLU or leaky ReLU network
(any output dimension, hidden biases as the augmented input coordinate ``x̃ = (x, 1)``, output
bias allowed as one more linear parameter) and the squared loss (``mse``; ``bce`` accepted as an
extension — both are convex in the outputs, which is all the certificates use):

Kinks and one-sided derivatives (:mod:`.kinks`)
    kink_samples, directional_derivative, neuron_first_order_map
Exact directional stationarity (:mod:`.stationarity`, LPs with SciPy's HiGHS)
    stationarity, tangential_minimum
Escape neurons (:mod:`.escape`, the paper's first-order definition)
    escape_neurons
Verdict with its reason and numerical checks (:mod:`.verdict`)
    classify: "not stationary", "local minimum", "saddle" or "undetermined"
Snapping a trained point (:mod:`.snap`)
    snap, snap_and_classify
Network embedding (:mod:`.embedding`)
    split_neuron, add_zero_neurons, embedding_family (a NetworkX graph of verdicts)
Saddle-to-saddle dynamics (:mod:`.plateaus`)
    detect_plateaus, saddle_to_saddle
Symbolic conditions (:mod:`.symbolic`)
    symbolic_conditions
Main-job hook (:mod:`.report`)
    classify_trained

The notion is **directional** stationarity (every one-sided directional derivative ``>= 0``),
not Clarke stationarity. Loss convention: ``mse`` is the mean over the ``N·e`` entries; the
paper's ``½ Σ ||f − y||²`` differs by the factor ``N e / 2``, which changes no verdict.
"""

from .embedding import EmbeddingFamily, add_zero_neurons, embedding_family, split_neuron
from .escape import EscapeReport, escape_neurons
from .kinks import KinkReport, directional_derivative, kink_samples, neuron_first_order_map
from .plateaus import Plateau, SaddleToSaddle, detect_plateaus, saddle_to_saddle
from .report import TrainedVerdicts, classify_trained
from .snap import SnapResult, snap, snap_and_classify
from .stationarity import StationarityReport, stationarity, tangential_minimum
from .verdict import VERDICTS, Verdict, classify

__all__ = [
    "KinkReport", "kink_samples", "directional_derivative", "neuron_first_order_map",
    "StationarityReport", "stationarity", "tangential_minimum",
    "EscapeReport", "escape_neurons",
    "VERDICTS", "Verdict", "classify",
    "SnapResult", "snap", "snap_and_classify",
    "EmbeddingFamily", "split_neuron", "add_zero_neurons", "embedding_family",
    "Plateau", "SaddleToSaddle", "detect_plateaus", "saddle_to_saddle",
    "SymbolicConditions", "symbolic_conditions",
    "TrainedVerdicts", "classify_trained",
]


def __getattr__(name):          # SymPy is imported only when the symbolic layer is used
    if name in ("SymbolicConditions", "symbolic_conditions"):
        from . import symbolic
        return getattr(symbolic, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
