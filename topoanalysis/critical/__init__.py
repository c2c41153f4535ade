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

import importlib

_HOMES = {
    "KinkReport": "kinks", "kink_samples": "kinks", "directional_derivative": "kinks",
    "neuron_first_order_map": "kinks",
    "StationarityReport": "stationarity", "stationarity": "stationarity",
    "tangential_minimum": "stationarity",
    "EscapeReport": "escape", "escape_neurons": "escape",
    "VERDICTS": "verdict", "Verdict": "verdict", "classify": "verdict",
    "SnapResult": "snap", "snap": "snap", "snap_and_classify": "snap",
    "EmbeddingFamily": "embedding", "split_neuron": "embedding",
    "add_zero_neurons": "embedding", "embedding_family": "embedding",
    "Plateau": "plateaus", "SaddleToSaddle": "plateaus", "detect_plateaus": "plateaus",
    "saddle_to_saddle": "plateaus",
    "SymbolicConditions": "symbolic", "symbolic_conditions": "symbolic",
    "TrainedVerdicts": "report", "classify_trained": "report",
}

__all__ = list(_HOMES)


def __getattr__(name):
    # imported on first use, so that `topoanalysis --help` does not pay for SciPy's LP solver,
    # NetworkX and SymPy
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
