"""The one place progress bars are made (tqdm, shown only for work that lasts).

Long work shows progress that can be silenced (house style, point 9). Every caller asks
:func:`progress_bar`, which returns ``None`` when ``progress`` is false or tqdm is missing, so
the work itself never depends on the bar.
"""

__all__ = ["progress_bar"]


def progress_bar(progress, *, total=None, desc=None, unit="it", initial=0, delay=1.0,
                 **options):
    """A tqdm bar, or ``None`` when ``progress`` is false (or tqdm is not installed).

    Parameters
    ----------
    progress : bool
        Whether to show a bar at all.
    total : int or float, optional
        Total amount of work (``None``: unknown, the bar counts up).
    desc : str, optional
        Label shown before the bar.
    unit : str, default="it"
        Unit of ``update`` counts.
    initial : int or float, default=0
        Work already done (a resumed run).
    delay : float, default=1.0
        Seconds before the bar appears: short calls print nothing.
    **options
        Other :class:`tqdm.tqdm` options (``bar_format``, ...).

    Returns
    -------
    tqdm.tqdm or None
        The bar (never left on screen when done), or ``None``.
    """
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; without it, run silently
        return None
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, delay=delay, leave=False,
                **options)
