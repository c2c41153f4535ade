"""The one boundary for files: networks, data and results in and out.

Everything a subcommand or script reads or writes goes through this module, so that every
file mistake a user can make becomes one :class:`FileError` line naming the file, what was
expected and what was found, and every output is written atomically.

- **Reading**: :func:`load_network`, :func:`load_data`, :func:`load_npz` refuse missing,
  empty, truncated and non-npz files, folders, wrong keys, wrong shapes and complex or
  non-finite values with one line.
- **Writing**: :func:`write_json` (strict JSON: NaN and ±inf become ``null``),
  :func:`write_csv`, :func:`save_npz`, :func:`save_network`, :func:`save_figure` write to a
  unique temporary name in the target folder and rename it into place (:func:`atomic_path`),
  so a reader never sees half a file and an interruption leaves the old file or none.
- **Output folders**: :class:`OutputFolder` creates and checks a folder before any
  computation, takes a lock (a second run on the same folder is refused), and keeps a
  manifest of the command and settings that produced it: a rerun with the same settings
  resumes, a rerun with other settings is refused unless ``force=True`` (which removes the
  files the earlier run recorded). Entering also removes the temporary files a killed run left
  (:func:`clean_stale_temporaries`). Single-file outputs take a lock of their own
  (:func:`locked_file`).
- **Checkpoints**: :func:`check_checkpoint` refuses a damaged or edited training checkpoint
  (step out of range, wrong shapes, non-finite parameters) with one line before a resume.
"""

import contextlib
import dataclasses
import json
import math
import os
import re
import tempfile
import zipfile

import numpy as np

from ._files import (  # noqa: F401 (re-exported: the file primitives sit below network.py)
    _NETWORK_KEYS,
    FileError,
    _UMASK,
    _check_input_file,
    _describe,
    _ensure_folder,
    _npz_name,
    _real_array,
    atomic_path,
    check_output_file,
    load_npz,
    save_npz,
)
from ._resources import available_memory, check_memory
from .exceptions import ResourceError, ValidationError
from .network import load_network, save_network

__all__ = [
    "FileError",
    "ResourceError",
    "atomic_path",
    "check_memory",
    "available_memory",
    "to_jsonable",
    "write_json",
    "read_json",
    "write_csv",
    "save_npz",
    "load_npz",
    "save_network",
    "load_network",
    "load_data",
    "save_figure",
    "check_output_file",
    "OutputFolder",
    "locked_file",
    "check_checkpoint",
    "clean_stale_temporaries",
    "MANIFEST",
    "LOCK",
]

MANIFEST = "manifest.json"
LOCK = ".topoanalysis.lock"


# --- memory: the budget lives in _resources (shared with the numeric modules) ---------------
# --- JSON -----------------------------------------------------------------------------------
def to_jsonable(obj):
    """Convert ``obj`` to plain JSON types; non-finite floats become ``None`` (``null``).

    NumPy scalars and arrays, tuples, sets (sorted), paths, dataclasses and objects with a
    ``to_dict()`` method are converted; anything else becomes its ``str``.

    Parameters
    ----------
    obj : object
        Value to convert.

    Returns
    -------
    object
        Plain JSON data (dict, list, str, int, float, bool, None).
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, (complex, np.complexfloating)):
        return [to_jsonable(obj.real), to_jsonable(obj.imag)]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()] if obj.ndim else to_jsonable(obj.item())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return [to_jsonable(v) for v in sorted(obj, key=repr)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    return str(obj)


def write_json(path, obj, param="output"):
    """Write ``obj`` as strict JSON (``allow_nan=False``; NaN/inf as ``null``), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    obj : object
        Data (converted by :func:`to_jsonable`).
    param : str, default="output"
        Name of the argument, for error messages.

    Returns
    -------
    str
        The path written.
    """
    text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False)
    with atomic_path(path, param) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
    return os.fspath(path)


# --- CSV ------------------------------------------------------------------------------------
def _cell(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v)) if math.isfinite(v) else ("nan" if math.isnan(v) else
                                                         ("inf" if v > 0 else "-inf"))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    s = str(v)
    if any(c in s for c in ',"\n\r'):   # a bare carriage return would end the row
        s = '"' + s.replace('"', '""') + '"'
    return s


def read_json(path, param="file"):
    """Read a JSON file; :class:`FileError` when it is missing or not strict JSON.

    The non-standard literals ``NaN``, ``Infinity`` and ``-Infinity`` (which Python's
    :mod:`json` reads by default) are refused: :func:`write_json` writes ``null`` there.

    Parameters
    ----------
    path : str or os.PathLike
        JSON file.
    param : str, default="file"
        Name of the argument, for error messages.

    Returns
    -------
    object
        The parsed JSON.

    See Also
    --------
    write_json : The writer (strict JSON, atomic).
    """
    _check_input_file(path, param, kind="a JSON file")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh, parse_constant=_refuse_constant)
    except _NonFiniteJSON as exc:
        raise FileError(f"`{param}` must be a strict JSON file; {_describe(path)} holds the "
                        f"non-standard literal {exc.args[0]} (write null for a missing "
                        f"number).") from None
    except (OSError, ValueError) as exc:
        raise FileError(f"`{param}` must be a JSON file; could not read {_describe(path)} "
                        f"({type(exc).__name__}).") from None


class _NonFiniteJSON(Exception):
    pass


def _refuse_constant(name):
    """``parse_constant`` of :func:`read_json`: ``NaN``, ``Infinity``, ``-Infinity`` are not
    JSON; they are refused, never read as a silent NaN."""
    raise _NonFiniteJSON(name)


def write_csv(path, header, rows, param="output"):
    """Write a CSV atomically: ``header`` (list of column names) then ``rows``.

    ``rows`` is a 2-D array or an iterable of sequences. Floats are written with full
    precision (``repr``); non-finite values as ``nan``/``inf`` — a caller that can produce
    them must also write a column saying why.

    Parameters
    ----------
    path : str or os.PathLike
        Output file.
    header : sequence of str
        Column names.
    rows : iterable of sequence
        Rows (non-finite floats as ``nan``/``inf``).
    param : str, default="output"
        Name of the argument, for error messages.

    Returns
    -------
    str
        The path written.
    """
    header = [str(h) for h in header]
    lines = [",".join(_cell(h) for h in header)]
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValidationError(f"`rows` must have {len(header)} columns like the header; "
                                  f"got a row of {len(row)}.")
        lines.append(",".join(_cell(v) for v in row))
    with atomic_path(path, param) as tmp:
        with open(tmp, "w", newline="") as fh:      # quoted line breaks kept as given
            fh.write("\n".join(lines) + "\n")
    return os.fspath(path)


# --- npz ------------------------------------------------------------------------------------
def load_data(path, param="--data-file"):
    """Load a data set: a ``.npz`` with arrays ``X`` of shape ``(N, d)`` and ``y``.

    ``y`` may be ``(N,)`` (one output) or ``(N, e)``. Returns ``(X, Y)`` as float64 with
    ``Y`` of shape ``(N, e)``.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npz`` file.
    param : str, default="--data-file"
        Name of the argument, for error messages.

    Returns
    -------
    X : ndarray of shape (N, d)
        Inputs.
    Y : ndarray of shape (N, e)
        Targets.
    """
    arrays = load_npz(path, param, keys=("X", "y"))
    X = _real_array(param, path, "X", arrays["X"], (2,))
    y = _real_array(param, path, "y", arrays["y"], (1, 2))
    Y = y[:, None] if y.ndim == 1 else y
    if X.shape[1] == 0 or Y.shape[1] == 0:
        raise FileError(f"`{param}`: X and y of {_describe(path)} must have at least one column "
                        f"each; got shapes {X.shape} and {y.shape}.")
    if X.shape[0] != Y.shape[0] or X.shape[0] == 0:
        raise FileError(f"`{param}`: X and y of {_describe(path)} must have the same, non-zero "
                        f"number of rows; got {X.shape[0]} and {Y.shape[0]}.")
    return X, Y


# --- figures --------------------------------------------------------------------------------
def save_figure(fig, path, dpi=100, param="output", close=True, footer=None):
    """Save a matplotlib figure atomically (format from the extension).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        Output file (format from the extension).
    dpi : int, default=100
        Resolution.
    param : str, default="output"
        Name of the argument, for error messages.
    close : bool, default=True
        Close the figure afterwards.
    footer : str, optional
        Provenance printed below the figure (small monospace text, wrapped to the figure's
        width; the canvas grows to hold it): the settings, their source and what differs
        from the paper, so that a figure read on its own says how it was made.

    Returns
    -------
    str
        The path written.
    """
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    extra = {}
    if footer:
        import textwrap

        width = max(40, int(fig.get_figwidth() * 72 / 4.3))   # characters at 7 pt monospace
        lines = [textwrap.fill(part, width) for part in str(footer).split("\n")]
        fig.text(0.005, -0.01, "\n".join(lines), fontsize=7, family="monospace", va="top",
                 ha="left")
        extra["bbox_inches"] = "tight"
    with atomic_path(path, param) as tmp:
        fig.savefig(tmp, dpi=dpi, format=fmt, **extra)
    if close:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return path


# --- output folders -------------------------------------------------------------------------
def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _take_lock(lock, param, what):
    """Create the lock file ``lock`` holding this process id; refuse if a live process holds
    it (a lock of a dead process is stale and replaced)."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                with open(lock) as fh:
                    pid = int(fh.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and pid != os.getpid() and _pid_alive(pid):
                raise FileError(f"`{param}`: {what} is in use by another run (process {pid}); "
                                f"wait for it or choose another.") from None
            with contextlib.suppress(OSError):
                os.remove(lock)  # stale lock of a dead process
            continue
        except OSError as exc:
            raise FileError(f"`{param}`: cannot write the lock {_describe(lock)} "
                            f"({exc.strerror or exc}).") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return
    raise FileError(f"`{param}`: could not lock {what}.")


@contextlib.contextmanager
def locked_file(path, param="output"):
    """Hold a lock on the output file ``path`` (``.NAME.lock`` beside it) while writing it:
    a second run writing the same file at the same time is refused with one line.

    Yields the absolute path. Used for single-file outputs such as ``critical --json``;
    folders use :class:`OutputFolder`.

    Parameters
    ----------
    path : str or os.PathLike
        Output file to lock.
    param : str, default="output"
        Name of the argument, for error messages.

    Yields
    ------
    str
        The absolute path of the file.

    Raises
    ------
    FileError
        When another live process holds the lock, or the lock cannot be written.

    See Also
    --------
    OutputFolder, atomic_path
    """
    path = check_output_file(path, param)
    folder, base = os.path.split(path)
    lock = os.path.join(folder, f".{base}.lock")
    _take_lock(lock, param, f"the file {_describe(path)}")
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.remove(lock)


#: Temporary files of interrupted writes: ``train``'s ``.checkpoint-*.npz.tmp`` and
#: :func:`atomic_path`'s ``.NAME.*.tmp.EXT``.
_STALE = re.compile(r"^\.(checkpoint-.*\.npz\.tmp|.+\.tmp(\.[A-Za-z0-9]+)?)$")


def clean_stale_temporaries(folder):
    """Remove the temporary files an interrupted (killed) run left in ``folder``.

    Call only while holding the folder's lock (:class:`OutputFolder` does on entering): no
    other run can be writing them then. Returns the names removed.

    Parameters
    ----------
    folder : str or os.PathLike
        Output folder whose lock the caller holds.

    Returns
    -------
    list of str
        Names of the files removed.

    See Also
    --------
    OutputFolder
    """
    removed = []
    for name in os.listdir(folder):
        p = os.path.join(folder, name)
        if _STALE.match(name) and os.path.isfile(p):
            with contextlib.suppress(OSError):
                os.remove(p)
                removed.append(name)
    return removed


def check_checkpoint(path, *, steps, n_networks, n_params, param="checkpoint"):
    """Check a training checkpoint against the run about to resume from it.

    The run's own settings digest is checked by :func:`topoanalysis.dynamics.train`; this
    checks what a damaged or edited file can get wrong beyond it: the step it resumes at
    (``0 <= t0 <= steps + 1``), the shapes of the parameters and per-network arrays, finite
    parameters, and per-network step counts within ``[0, steps]``.

    Parameters
    ----------
    path : str or os.PathLike
        Checkpoint ``.npz`` written by :func:`topoanalysis.dynamics.train`.
    steps : int
        Number of steps of the run about to resume.
    n_networks : int
        Number of networks trained together.
    n_params : int
        Number of parameters of one network.
    param : str, default="checkpoint"
        Name of the argument, for error messages.

    Returns
    -------
    int
        ``t0``, the step the run resumes at.

    Raises
    ------
    FileError
        One line naming the checkpoint, what was expected and what was found (delete the
        file to start over).
    """
    path = os.fspath(path)

    def bad(why):
        return FileError(f"`{param}`: the checkpoint {_describe(path)} is damaged or does not "
                         f"belong to this run ({why}); delete it to start over.")

    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise bad("not an .npz archive, or truncated") from None
    for key in ("key", "t0", "params"):
        if key not in arrays:
            raise bad(f"missing array {key!r}")
    t0 = arrays["t0"]
    if t0.shape != () or t0.dtype.kind not in "iu":
        raise bad(f"t0 must be an integer; got {t0!r}")
    t0 = int(t0)
    if not 0 <= t0 <= steps + 1:
        raise bad(f"t0 = {t0} outside [0, {steps + 1}]")
    params = arrays["params"]
    if params.shape != (n_networks, n_params):
        raise bad(f"params of shape {params.shape}, expected {(n_networks, n_params)}")
    if params.dtype.kind != "f" or not np.all(np.isfinite(params)):
        raise bad("non-finite parameters")
    for key in ("status", "steps_taken", "final_loss"):
        if key in arrays and arrays[key].shape != (n_networks,):
            raise bad(f"{key} of shape {arrays[key].shape}, expected {(n_networks,)}")
    if "steps_taken" in arrays:
        taken = arrays["steps_taken"]
        if taken.size and (taken.min() < 0 or taken.max() > steps):
            raise bad(f"steps_taken outside [0, {steps}]")
    if "loss_rec" in arrays and arrays["loss_rec"].shape[:1] != (n_networks,):
        raise bad(f"loss_rec of shape {arrays['loss_rec'].shape}")
    return t0


class OutputFolder:
    """An output folder with a lock and a manifest of what produced it.

    Use as a context manager: entering checks and locks the folder and writes the manifest
    (``complete: false``); leaving without an exception marks it complete; the lock is always
    released. :meth:`path` returns a file path inside the folder and records the file in the
    manifest, so a later ``force`` knows what to remove.

    Parameters
    ----------
    path : str
        The folder (created if missing).
    command : str
        Name of the producing command (e.g. ``"train"``).
    settings : dict
        Everything that determines the outputs (JSON-able). A folder whose manifest records
        other settings is refused unless ``force``.
    force : bool, default=False
        Reuse a folder produced with other settings: the files its manifest lists are removed.
    param : str
        Name of the parameter that gave the folder (for messages), e.g. ``"--out"``.

    Examples
    --------
    >>> import tempfile, os
    >>> d = os.path.join(tempfile.mkdtemp(), "run")
    >>> with OutputFolder(d, command="demo", settings={"n": 1}) as out:
    ...     _ = write_json(out.path("result.json"), {"x": float("nan")})
    >>> open(os.path.join(d, "result.json")).read().split()
    ['{', '"x":', 'null', '}']
    >>> with OutputFolder(d, command="demo", settings={"n": 2}) as out:
    ...     pass  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    topoanalysis.io.FileError: `--out`: ...
    """

    def __init__(self, path, *, command, settings=None, force=False, param="--out"):
        self.root = os.path.abspath(os.fspath(path))
        self.command = str(command)
        self.settings = to_jsonable(settings or {})
        self.force = bool(force)
        self.param = param
        self.files = []
        self.resumed = False
        self._locked = False

    # -- lock
    def _lock(self):
        _take_lock(os.path.join(self.root, LOCK), self.param,
                   f"the folder {_describe(self.root)}")
        self._locked = True

    def _unlock(self):
        if self._locked:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(self.root, LOCK))
            self._locked = False

    # -- manifest
    @property
    def manifest_path(self):
        """Path of the manifest file inside the folder."""
        return os.path.join(self.root, MANIFEST)

    def _write_manifest(self, complete):
        from . import __version__

        write_json(self.manifest_path, {
            "command": self.command, "settings": self.settings, "files": sorted(set(self.files)),
            "complete": bool(complete), "topoanalysis": __version__,
        }, self.param)

    def __enter__(self):
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise FileError(f"`{self.param}` must be a folder; {_describe(self.root)} is a file.")
        self._created = not os.path.exists(self.root)
        self._had_manifest = os.path.exists(self.manifest_path)
        _ensure_folder(self.root, self.param)
        self._lock()
        try:
            clean_stale_temporaries(self.root)  # left by a killed run; we hold the lock
            self._check_manifest()
            self._write_manifest(False)
        except BaseException:
            self._unlock()
            raise
        return self

    def _check_manifest(self):
        if not os.path.exists(self.manifest_path):
            others = [f for f in os.listdir(self.root) if f != LOCK and not f.startswith(".")]
            if others and not self.force:
                raise FileError(f"`{self.param}`: the folder {_describe(self.root)} already holds "
                                f"files not written by topoanalysis ({others[0]}, ...); choose "
                                f"another folder, or pass --force to write into it.")
            return
        try:
            with open(self.manifest_path) as fh:
                old = json.load(fh)
            old_cmd, old_settings = old["command"], old["settings"]
            old_files = list(old.get("files", []))
        except (OSError, ValueError, KeyError, TypeError):
            old_cmd, old_settings, old_files = None, None, []
        if old_cmd == self.command and old_settings == self.settings:
            self.resumed = True
            self.files = old_files
            return
        if not self.force:
            what = (f"by `{old_cmd}` with other settings" if old_cmd == self.command
                    else f"by `{old_cmd}`" if old_cmd else "with an unreadable manifest")
            raise FileError(f"`{self.param}`: the folder {_describe(self.root)} was produced "
                            f"{what}; choose another folder, or pass --force to replace "
                            f"its files.")
        for name in old_files:
            p = os.path.join(self.root, name)
            if os.path.isfile(p) and os.path.dirname(os.path.abspath(p)) == self.root:
                with contextlib.suppress(OSError):
                    os.remove(p)

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._write_manifest(True)
            elif not self._had_manifest and not any(
                    os.path.exists(os.path.join(self.root, f)) for f in self.files):
                # a run that failed before writing anything leaves nothing behind (so a
                # corrected command is not refused as "other settings")
                with contextlib.suppress(OSError):
                    os.remove(self.manifest_path)
                self._unlock()
                if self._created:
                    with contextlib.suppress(OSError):
                        os.rmdir(self.root)
            else:
                with contextlib.suppress(Exception):
                    self._write_manifest(False)
        finally:
            self._unlock()
        return False

    def path(self, name):
        """Path of the file ``name`` inside the folder (recorded in the manifest).

        Parameters
        ----------
        name : str
            A file name inside the folder (no absolute path, no ``..``).

        Returns
        -------
        str
            The path to write to.
        """
        name = os.fspath(name)
        if os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
            raise ValidationError(f"`name` must be a file name inside the output folder; "
                                  f"got {name!r}.")
        if name not in self.files:
            self.files.append(name)
        return os.path.join(self.root, name)

    def exists(self, name):
        """Whether ``name`` already exists in the folder (e.g. a checkpoint to resume).

        Parameters
        ----------
        name : str
            A file name inside the folder.

        Returns
        -------
        bool
            Whether the file exists.
        """
        return os.path.exists(os.path.join(self.root, name))

    def __repr__(self):
        return f"OutputFolder({self.root!r}, command={self.command!r})"
