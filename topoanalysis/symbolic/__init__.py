"""Symbolic layer (SymPy): derive and check invariants of small networks exactly.

Results are exact SymPy objects; conversion to NumPy happens only through ``lambdify``.
Each module defines ``__all__``; this package re-exports it, one line per module.
"""

from .networks import *  # noqa: F401,F403
from .invariants import *  # noqa: F401,F403
from .drift import *  # noqa: F401,F403
from .quadrics import *  # noqa: F401,F403
from .conservation import *  # noqa: F401,F403
