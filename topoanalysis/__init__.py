"""topoanalysis: topology and geometry of the loss landscapes of shallow ReLU networks."""

from .exceptions import (
    DivergenceWarning,
    NotSupportedError,
    ShapeError,
    TopoAnalysisError,
    ValidationError,
)
from .network import Architecture, Network
from .landscape import Landscape

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "Network",
    "Landscape",
    "TopoAnalysisError",
    "ValidationError",
    "ShapeError",
    "NotSupportedError",
    "DivergenceWarning",
    "__version__",
]
