"""Resumable sweeps: run independent cells, append each finished cell to a CSV at once.

A sweep is a list of cells (dicts of parameters, e.g. ``{"l": 4, "l_plus": 2}``) and a function
mapping a cell to a dict of results. :func:`run_sweep` writes one CSV row per finished cell as
soon as it finishes (and flushes), so an interruption loses at most the cells in flight, and a
rerun with the same file skips every cell already present.

Cells run in this process one after another (the compiled engine already uses all cores
inside a cell), or on a Dask ``distributed`` cluster when a client is given — the same code
path, the function is shipped to the workers.
"""

import csv
import io
import os

from ._validation import check_choice, normalize_name
from .exceptions import ValidationError

__all__ = ["run_sweep", "completed_cells", "connect"]


def _cell_key(cell, keys):
    return tuple(str(cell[k]) for k in keys)


def _complete_text(path):
    """The file's text up to its last newline: a row cut off by a crash is not a row."""
    with open(path, newline="") as fh:
        text = fh.read()
    return text[:text.rfind("\n") + 1]


def _drop_partial_row(path):
    """Truncate ``path`` after its last newline (a row being written when a run was killed)."""
    size = len(_complete_text(path).encode())
    if size != os.path.getsize(path):
        with open(path, "r+b") as fh:
            fh.truncate(size)


def completed_cells(path, keys):
    """Keys (tuples of strings) of the cells already written to ``path``.

    A last line without its newline (a row cut off when a run was killed) does not count.

    Parameters
    ----------
    path : str or os.PathLike
        CSV file of a sweep.
    keys : sequence of str
        Columns that identify a cell.

    Returns
    -------
    set of tuple of str
        Keys of the cells written.

    See Also
    --------
    run_sweep
    """
    if not os.path.exists(path):
        return set()
    with io.StringIO(_complete_text(path), newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            return set()
        missing = [k for k in keys if k not in reader.fieldnames]
        if missing:
            raise ValidationError(
                f"`out` {str(path)!r} exists but lacks the columns {missing}; "
                "pass a new file or delete it to restart the sweep."
            )
        return {tuple(row[k] for k in keys) for row in reader}


def run_sweep(cells, func, out, *, client=None, progress=True, desc="sweep"):
    """Run ``func(cell)`` for every cell not yet in ``out`` and append its row.

    Parameters
    ----------
    cells : list of dict
        Cell parameters; all cells have the same keys, which identify a cell.
    func : callable
        ``func(cell) -> dict`` of results; the row written is ``{**cell, **result}``.
        Must be picklable when ``client`` is given.
    out : str or path
        CSV file; created with a header, or appended to (resume).
    client : dask.distributed.Client or None
        Run cells on a Dask cluster; ``None`` runs them here, in order.
    progress : bool, default=True
        Show a tqdm progress bar over the cells.
    desc : str
        Label of the progress bar.

    Returns
    -------
    list of dict
        All rows of ``out`` after the sweep (previous and new), as read back from the file.

    See Also
    --------
    completed_cells, connect
    """
    cells = list(cells)
    if not cells:
        raise ValidationError("`cells` must hold at least one cell; got none.")
    keys = list(cells[0])
    for cell in cells:
        if list(cell) != keys:
            raise ValidationError(f"`cells` must all have the keys {keys}; got {list(cell)}.")
    done = completed_cells(out, keys)
    todo = [c for c in cells if _cell_key(c, keys) not in done]
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if os.path.exists(out):
        _drop_partial_row(out)

    from ._progress import progress_bar

    bar = progress_bar(progress, total=len(cells), initial=len(cells) - len(todo), desc=desc,
                       delay=0.0)
    writer_state = {"fields": None}

    def write(row):
        exists = os.path.exists(out) and os.path.getsize(out) > 0
        if writer_state["fields"] is None:
            if exists:
                with open(out, newline="") as fh:
                    writer_state["fields"] = next(csv.reader(fh))
            else:
                writer_state["fields"] = list(row)
        with open(out, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=writer_state["fields"], extrasaction="ignore")
            if not exists:
                w.writeheader()
            w.writerow(row)
            fh.flush()
            os.fsync(fh.fileno())
        if bar is not None:
            bar.update(1)

    try:
        if client is None:
            for cell in todo:
                write({**cell, **func(cell)})
        else:
            from dask.distributed import as_completed

            futures = {client.submit(func, cell, pure=False): cell for cell in todo}
            for fut in as_completed(futures):
                write({**futures[fut], **fut.result()})
    finally:
        if bar is not None:
            bar.close()
    with io.StringIO(_complete_text(out), newline="") as fh:
        return list(csv.DictReader(fh))


def connect(scheduler):
    """Return a Dask client for ``scheduler`` (an address, or ``"local"`` for a local cluster).

    Parameters
    ----------
    scheduler : str
        A Dask scheduler address, or ``"local"``.

    Returns
    -------
    dask.distributed.Client
        The client.

    See Also
    --------
    run_sweep
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValidationError(
            "`scheduler` needs Dask: install it with `pip install \"topoanalysis[distributed]\"`."
        ) from None
    if normalize_name(scheduler) == "local":
        return Client(LocalCluster(n_workers=1, threads_per_worker=1, processes=True))
    check_choice("scheduler", scheduler.split("://")[0], ("tcp", "tls", "inproc", "ucx"))
    return Client(scheduler)
