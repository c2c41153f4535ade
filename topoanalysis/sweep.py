"""Resumable sweeps: run independent cells, append each finished cell to a CSV at once.

A sweep is a list of cells (dicts of parameters, e.g. ``{"l": 4, "l_plus": 2}``) and a function
mapping a cell to a dict of results. :func:`run_sweep` writes one CSV row per finished cell as
soon as it finishes (at most ``WRITE_SECONDS`` later), so an interruption loses at most the
cells in flight, and a rerun with the same file skips every cell already present. Each write
replaces the whole file atomically (a temporary file in the same folder, synced, then renamed
onto it), so a reader never sees a partial row or file; the file is locked while a sweep
writes it.

Cells run in this process one after another (the compiled engine already uses all cores
inside a cell), or on a Dask ``distributed`` cluster when a client is given — the same code
path, the function is shipped to the workers.
"""

import contextlib
import csv
import io
import os
import re
import time

from ._validation import check_choice, normalize_name
from .exceptions import ValidationError

__all__ = ["run_sweep", "completed_cells", "connect"]

#: Longest time between two rewrites of a sweep's CSV file (seconds).
WRITE_SECONDS = 0.5


def _as_text(v):
    """A value as the sweep writes it to its CSV (``None`` is an empty field; a NumPy scalar as
    the Python number of the same value, so ``np.float32(0.1)`` is ``0.10000000149011612``,
    not the ``0.1`` of the float ``0.1``)."""
    if v is None:
        return ""
    if hasattr(v, "dtype") and getattr(v, "shape", None) == () and hasattr(v, "item"):
        v = v.item()
    return str(v)


def _cell_key(cell, keys):
    return tuple(_as_text(cell[k]) for k in keys)


def _row_text(fields, row):
    buf = io.StringIO(newline="")
    csv.writer(buf).writerow([_as_text(row.get(k)) for k in fields])
    return buf.getvalue()


def _write_text(path, text):
    """Replace ``path`` by ``text`` atomically (synced temporary file, then a rename)."""
    from ._files import atomic_path

    with atomic_path(path, "out") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())


def _complete_text(path):
    """The file's text up to its last newline: a row cut off by a crash is not a row.

    A folder, an unreadable file or one that is not UTF-8 text (not a CSV this module wrote)
    is refused with one line naming it."""
    from ._files import FileError

    if os.path.isdir(path):
        raise FileError(f"`out` must be a CSV file; got the folder {str(path)!r}.")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise FileError(f"`out` {str(path)!r} exists but is not a UTF-8 CSV file (not a sweep "
                        "this program wrote); pass a new file or delete it.") from None
    except OSError as exc:
        raise FileError(f"`out`: cannot read {str(path)!r} "
                        f"({exc.strerror or type(exc).__name__}).") from None
    return text[:text.rfind("\n") + 1]


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
    """Run ``func(cell)`` for every cell not yet in ``out`` and add its row to ``out``.

    Parameters
    ----------
    cells : list of dict
        Cell parameters; all cells have the same keys, which identify a cell.
    func : callable
        ``func(cell) -> dict`` of results; the row written is ``{**cell, **result}``. Every
        cell must give the same keys (the CSV's columns; a missing one is an empty field),
        none of them a key of the cell. Must be picklable when ``client`` is given.
    out : str or path
        CSV file; created with a header, or extended (resume). After finished cells (at most
        every ``WRITE_SECONDS``, and always at the end, on an error or Ctrl-C) the whole file
        is replaced atomically, so a reader never sees a partial row; the file is
        locked (``.NAME.lock`` beside it) while the sweep runs. A cell listed twice runs once;
        ``None`` in a cell is written as an empty field and matched as one on resume.
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
    for cell in cells:
        if not isinstance(cell, dict):
            raise ValidationError(f"`cells` must be dicts of parameters; got "
                                  f"{type(cell).__name__} {cell!r:.60}.")
    if not callable(func):
        raise ValidationError(f"`func` must be callable (cell -> dict of results); got "
                              f"{type(func).__name__}.")
    keys = list(cells[0])
    for cell in cells:
        if list(cell) != keys:
            raise ValidationError(f"`cells` must all have the keys {keys}; got {list(cell)}.")
    todo, seen = [], set()
    from .io import locked_file

    with locked_file(out, "out") as out:
        # a killed run's temporary files (ours only: `.NAME.*.tmp.csv` beside `out`); we hold
        # the file's lock, so no other sweep is writing them
        folder, base = os.path.split(out)
        stem, ext = os.path.splitext(base)
        ours = re.compile(rf"\.{re.escape(stem)}\.[a-z0-9_]{{8}}\.tmp{re.escape(ext)}")
        for name in os.listdir(folder):
            if ours.fullmatch(name):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(folder, name))
        done = completed_cells(out, keys)
        for c in cells:
            key = _cell_key(c, keys)
            if key not in done and key not in seen:   # a cell listed twice runs once
                seen.add(key)
                todo.append(c)
        text = _complete_text(out) if os.path.exists(out) else ""
        fields = next(csv.reader(io.StringIO(text, newline=""))) if text else None
        if text and os.path.getsize(out) != len(text.encode()):
            _write_text(out, text)           # drop a row cut off when a run was killed

        from ._progress import progress_bar

        n_done = len({_cell_key(c, keys) for c in cells}) - len(todo)
        bar = progress_bar(progress, total=n_done + len(todo), initial=n_done, desc=desc,
                           delay=0.0)
        # the file is rewritten at most every WRITE_SECONDS (and always at the end, also on an
        # error or Ctrl-C): one rewrite per cell would make a sweep of many quick cells
        # quadratic in its length; a killed process loses at most that much work
        state = {"text": text, "fields": fields, "written": len(text), "at": time.monotonic()}

        def flush():
            if len(state["text"]) != state["written"]:
                _write_text(out, state["text"])
                state["written"], state["at"] = len(state["text"]), time.monotonic()

        def write(cell, result):
            if not isinstance(result, dict):
                raise ValidationError(f"`func` must return a dict of results; got "
                                      f"{type(result).__name__} for the cell {cell}.")
            clash = [k for k in result if k in cell]
            if clash:
                raise ValidationError(f"`func` must not return the cell's own keys {clash} "
                                      f"(they identify the cell); got them for {cell}.")
            row = {**cell, **result}
            if state["fields"] is None:
                state["fields"] = list(row)
                state["text"] = _row_text(state["fields"], {k: k for k in row})
            extra = [k for k in row if k not in state["fields"]]
            if extra:
                raise ValidationError(f"`func` must return the same keys for every cell (the "
                                      f"columns of {str(out)!r}: {state['fields']}); got the "
                                      f"new keys {extra} for the cell {cell}.")
            state["text"] += _row_text(state["fields"], row)
            if time.monotonic() - state["at"] >= WRITE_SECONDS:
                flush()
            if bar is not None:
                bar.update(1)

        try:
            if client is None:
                for cell in todo:
                    write(cell, func(cell))
            else:
                from dask.distributed import as_completed

                futures = {client.submit(func, cell, pure=False): cell for cell in todo}
                try:
                    for fut in as_completed(futures):
                        write(futures[fut], fut.result())
                finally:
                    pending = [f for f in futures if not f.done()]
                    if pending:
                        client.cancel(pending)
        finally:
            flush()
            if bar is not None:
                bar.close()
        text = state["text"]
    with io.StringIO(text, newline="") as fh:
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
