"""Paper 1 — topological obstruction (Nurisso, Leroy, Vaccarino).

- :mod:`~topoanalysis.obstruction.topology`: conserved quantities of a network, pathological
  neurons, components and effective components of ``H(c)``, reachability;
- :mod:`~topoanalysis.obstruction.probability`: probability of obstruction at initialization;
- :mod:`~topoanalysis.obstruction.experiment`: controlling ``l_+`` by function-preserving
  rescaling, and the breast cancer experiment cell (Figure 4).
"""

from .experiment import (BALANCES, breast_cancer_cell, breast_cancer_sweep_cell, kernel_trace,
                         set_pathological_count)
from .probability import (
    EVENT_DESCRIPTIONS,
    EVENTS,
    METHODS,
    NeuronLaw,
    ObstructionGrid,
    PathologicalProbability,
    event_probability,
    l_minus_distribution,
    neuron_law,
    obstruction_grid,
    obstruction_probability,
    pathological_probability,
    plot_obstruction_heatmap,
    write_obstruction_outputs,
)
from .topology import (
    DEFAULT_ATOL,
    NetworkTopology,
    ReachabilityResult,
    is_reachable,
    network_topology,
    pathological_neurons,
    reachability,
    zero_neurons,
)

__all__ = [
    "set_pathological_count", "breast_cancer_cell", "BALANCES", "kernel_trace",
    "breast_cancer_sweep_cell",
    "EVENTS", "EVENT_DESCRIPTIONS", "METHODS", "NeuronLaw", "PathologicalProbability",
    "ObstructionGrid", "neuron_law", "pathological_probability", "l_minus_distribution",
    "event_probability", "obstruction_probability", "obstruction_grid",
    "write_obstruction_outputs", "plot_obstruction_heatmap",
    "DEFAULT_ATOL", "NetworkTopology", "ReachabilityResult", "network_topology",
    "pathological_neurons", "zero_neurons", "reachability", "is_reachable",
]
