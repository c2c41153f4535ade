"""Memory and time budgets checked *before* computing.

A request that cannot fit in memory is refused with the figure (how much it needs, how much is
available) instead of failing with ``MemoryError`` after allocating, or being killed by the
system. ``TOPOANALYSIS_MAX_MEMORY`` (bytes, or with a ``K``/``M``/``G``/``T`` suffix) caps the
budget below the machine's available memory.
"""

import math
import os

from .exceptions import ResourceError

__all__ = ["available_memory", "check_memory", "format_bytes", "format_seconds"]

#: Fraction of the available memory one request may take.
MEMORY_FRACTION = 0.8


def format_bytes(n):
    """``1.5 GB``-style text for a byte count."""
    n = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB", "EB"):
        if abs(n) < 1000 or unit == "EB":
            return f"{n:.3g} {unit}"
        n /= 1000.0
    return f"{n:.3g} EB"  # pragma: no cover


def format_seconds(s):
    """``3.2 h``-style text for a duration in seconds."""
    s = float(s)
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    if s < 2 * 86400:
        return f"{s / 3600:.3g} h"
    if s < 2 * 365 * 86400:
        return f"{s / 86400:.3g} days"
    return f"{s / (365 * 86400):.3g} years"


def _parse_size(text):
    text = text.strip().upper().rstrip("B")
    mult = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    if text and text[-1] in mult:
        return float(text[:-1]) * mult[text[-1]]
    return float(text)


def available_memory():
    """Bytes of memory a request may use now (``MemAvailable``; capped by the environment
    variable ``TOPOANALYSIS_MAX_MEMORY``).

    Returns
    -------
    int or None
        Bytes of memory available to this process (None when unknown).
    """
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
            avail = 2 ** 40
    cap = os.environ.get("TOPOANALYSIS_MAX_MEMORY")
    if cap:
        try:
            avail = min(avail, _parse_size(cap))
        except ValueError:
            pass
    return avail


def check_memory(nbytes, what, param=None, fraction=MEMORY_FRACTION):
    """Refuse a request that needs more than ``fraction`` of the available memory.

    Parameters
    ----------
    nbytes : int or float
        Estimated bytes the request allocates.
    what : str
        What is being allocated, for the message (``"an array of 10 × 193 parameters"``).
    param : str, optional
        The parameter that set the size (named in the message).
    fraction : float, default=MEMORY_FRACTION
        Largest share of the available memory one request may take.

    Returns
    -------
    int
        ``nbytes``.

    Raises
    ------
    ResourceError
        With the figure: how much is needed and how much is available.
    """
    budget = fraction * available_memory()
    if not math.isfinite(nbytes) or nbytes > budget:
        by = f" (set by `{param}`)" if param else ""
        raise ResourceError(f"{what}{by} needs about {format_bytes(nbytes)} of memory, more than "
                            f"the {format_bytes(budget)} this machine can give; make it smaller.")
    return int(nbytes)
