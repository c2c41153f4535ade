"""Level sets and paths between minima (Freeman & Bruna 2017).

Strings
-------
dynamic_string_sampling
    Batched Dynamic String Sampling (greedy, constrained, breadth-first) between many pairs.
BeadString, StringSamplingResult, load_string
    Its results; a string is a NetworkX path graph (``BeadString.graph``) and saves to ``.npz``.
train_to_threshold
    Train fresh networks to a loss level (the endpoints of the strings).

Connectivity of many minima
---------------------------
pairwise_barriers, BarrierMatrix
    Linear, aligned and string paths between every two of N minima; level-set graphs,
    component counts against the threshold, the disconnectivity tree.
aligned_barriers, AlignedBarriers
    Segment barriers of pairs before and after symmetry alignment (balance + weight matching).

minimum_energy_path, MinimumEnergyPath
    Climbing-image nudged elastic band between two networks: the lowest path it finds and
    its height.

Pictures and persistence
------------------------
random_slice, pca_slice, plane_slice, segment_slice, string_slice, loss_surface, LossSurface
    1-D and 2-D slices of the loss around networks (filter-normalized random directions, the
    principal directions of a trajectory, the plane through three networks, a segment, a
    string of beads), evaluated in one batched engine call, drawn with overlays.
surface_persistence, minima_persistence, merge_tree, PersistenceDiagram
    Sublevel-set persistence (gudhi) of a sampled slice and of the graph of minima; the merge
    tree of the barrier matrix.

Theory checks
-------------
relu_kernel_derivation, relu_kernel, relu_kernel_monte_carlo, check_relu_kernel
    The ReLU (arc-cosine) kernel for Gaussian inputs, derived with SymPy, checked by sampling.
proposition_2_3_terms, check_proposition_2_3
    Freeman & Bruna's two-sided bound on the ReLU kernel.
"""

from .bounds import SegmentBounds, segment_loss_bounds
from .connectivity import AlignedBarriers, BarrierMatrix, aligned_barriers, pairwise_barriers
from .kernel import (
    KernelCheck,
    KernelDerivation,
    Proposition23Check,
    check_proposition_2_3,
    check_relu_kernel,
    proposition_2_3_terms,
    relu_kernel,
    relu_kernel_derivation,
    relu_kernel_monte_carlo,
)
from .neb import MinimumEnergyPath, minimum_energy_path
from .persistence import PersistenceDiagram, merge_tree, minima_persistence, surface_persistence
from .slices import (
    LossSurface,
    filter_normalized_directions,
    loss_surface,
    pca_directions,
    pca_slice,
    plane_slice,
    random_slice,
    segment_slice,
    string_slice,
)
from .strings import (
    DSS_METHODS,
    BeadString,
    StringSamplingResult,
    dynamic_string_sampling,
    load_string,
    train_to_threshold,
)

__all__ = [
    "SegmentBounds",
    "segment_loss_bounds",
    "MinimumEnergyPath",
    "minimum_energy_path",
    "LossSurface",
    "loss_surface",
    "random_slice",
    "pca_slice",
    "plane_slice",
    "segment_slice",
    "string_slice",
    "filter_normalized_directions",
    "pca_directions",
    "PersistenceDiagram",
    "surface_persistence",
    "minima_persistence",
    "merge_tree",
    "DSS_METHODS",
    "BeadString",
    "StringSamplingResult",
    "dynamic_string_sampling",
    "load_string",
    "train_to_threshold",
    "pairwise_barriers",
    "BarrierMatrix",
    "aligned_barriers",
    "AlignedBarriers",
    "relu_kernel_derivation",
    "relu_kernel",
    "relu_kernel_monte_carlo",
    "check_relu_kernel",
    "proposition_2_3_terms",
    "check_proposition_2_3",
    "KernelDerivation",
    "KernelCheck",
    "Proposition23Check",
]
