"""topoanalysis: topology and geometry of the loss landscapes of shallow ReLU networks."""

from .exceptions import (
    DivergenceWarning,
    NotSupportedError,
    ShapeError,
    TopoAnalysisError,
    ValidationError,
)
from .network import Architecture, Network

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "Network",
    "TopoAnalysisError",
    "ValidationError",
    "ShapeError",
    "NotSupportedError",
    "DivergenceWarning",
    "__version__",
]
