"""Graph layer (NetworkX): components of invariant sets and the moves between them.

Every count the papers state is the number of connected components of an explicit graph;
closed forms, where they exist, are tests against the graph.
"""

from .components import *  # noqa: F401,F403

from .levelsets import *  # noqa: F401,F403

from . import components as _components
from . import levelsets as _levelsets

__all__ = [*_components.__all__, *_levelsets.__all__]
