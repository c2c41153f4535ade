"""Exception hierarchy of topoanalysis.

Every error the toolkit raises on purpose derives from :class:`TopoAnalysisError`, so a
caller can catch them all at once, and each also derives from the matching built-in
(``ValueError``, ``TypeError``) so generic code keeps working.
"""

__all__ = [
    "TopoAnalysisError",
    "ValidationError",
    "ShapeError",
    "NotSupportedError",
    "ResourceError",
    "DivergenceWarning",
]


class TopoAnalysisError(Exception):
    """Base class of all errors raised by topoanalysis."""


class ValidationError(TopoAnalysisError, ValueError):
    """A parameter has an invalid value (message names parameter, expectation, value)."""


class ShapeError(ValidationError):
    """An array has the wrong shape or number of dimensions."""


class NotSupportedError(TopoAnalysisError, NotImplementedError):
    """The request is well formed but not supported for this network or setting."""


class ResourceError(ValidationError):
    """A request would need more memory (or time) than is available; says how much."""


class DivergenceWarning(UserWarning):
    """Some runs produced non-finite values and were stopped."""
