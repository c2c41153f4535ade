"""Level sets and paths between minima (Freeman & Bruna 2017).

Strings
-------
dynamic_string_sampling
    Batched Dynamic String Sampling (greedy, constrained, breadth-first) between many pairs.
BeadString, StringSamplingResult, load_string
    Its results; a string is a NetworkX path graph (``BeadString.graph``) and saves to ``.npz``.
train_to_threshold
    Train fresh networks to a loss level (the endpoints of the strings).
"""

from .strings import (
    DSS_METHODS,
    BeadString,
    StringSamplingResult,
    dynamic_string_sampling,
    load_string,
    train_to_threshold,
)

__all__ = [
    "DSS_METHODS",
    "BeadString",
    "StringSamplingResult",
    "dynamic_string_sampling",
    "load_string",
    "train_to_threshold",
]
