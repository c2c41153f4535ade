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
  files the earlier run recorded).
"""

import contextlib
import dataclasses
import json
import math
import os

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
    """Write ``obj`` as strict JSON (``allow_nan=False``; NaN/inf as ``null``), atomically."""
    text = json.dumps(to_jsonable(obj), indent=2, allow_nan=False)
    with atomic_path(path, param) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
    return os.fspath(path)


def read_json(path, param="file"):
    """Read a JSON file; :class:`FileError` when it is missing or not JSON."""
    _check_input_file(path, param)
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise FileError(f"`{param}` must be a JSON file; could not read {_describe(path)} "
                        f"({type(exc).__name__}).") from None


# --- CSV ------------------------------------------------------------------------------------
def _cell(v):
    if isinstance(v, (float, np.floating)):
        return repr(float(v)) if math.isfinite(v) else ("nan" if math.isnan(v) else
                                                         ("inf" if v > 0 else "-inf"))
    if isinstance(v, (np.integer,)):
        return str(int(v))
    s = str(v)
    if any(c in s for c in ',"\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def write_csv(path, header, rows, param="output"):
    """Write a CSV atomically: ``header`` (list of column names) then ``rows``.

    ``rows`` is a 2-D array or an iterable of sequences. Floats are written with full
    precision (``repr``); non-finite values as ``nan``/``inf`` — a caller that can produce
    them must also write a column saying why.
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
        with open(tmp, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return os.fspath(path)


# --- npz ------------------------------------------------------------------------------------
def load_data(path, param="--data-file"):
    """Load a data set: a ``.npz`` with arrays ``X`` of shape ``(N, d)`` and ``y``.

    ``y`` may be ``(N,)`` (one output) or ``(N, e)``. Returns ``(X, Y)`` as float64 with
    ``Y`` of shape ``(N, e)``.
    """
    arrays = load_npz(path, param, keys=("X", "y"))
    X = _real_array(param, path, "X", arrays["X"], (2,))
    y = _real_array(param, path, "y", arrays["y"], (1, 2))
    Y = y[:, None] if y.ndim == 1 else y
    if X.shape[0] != Y.shape[0] or X.shape[0] == 0:
        raise FileError(f"`{param}`: X and y of {_describe(path)} must have the same, non-zero "
                        f"number of rows; got {X.shape[0]} and {Y.shape[0]}.")
    return X, Y


# --- figures --------------------------------------------------------------------------------
def save_figure(fig, path, dpi=100, param="output", close=True):
    """Save a matplotlib figure atomically (format from the extension)."""
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    with atomic_path(path, param) as tmp:
        fig.savefig(tmp, dpi=dpi, format=fmt)
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


class OutputFolder:
    """An output folder with a lock and a manifest of what produced it.

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

    Use as a context manager: entering checks and locks the folder and writes the manifest
    (``complete: false``); leaving without an exception marks it complete; the lock is always
    released. :meth:`path` returns a file path inside the folder and records the file in the
    manifest, so a later ``force`` knows what to remove.

    Examples
    --------
    >>> import tempfile, os
    >>> d = os.path.join(tempfile.mkdtemp(), "run")
    >>> with OutputFolder(d, command="demo", settings={"n": 1}) as out:
    ...     _ = write_json(out.path("result.json"), {"x": float("nan")})
    >>> open(os.path.join(d, "result.json")).read().split()
    ['{', '"x":', 'null', '}']
    >>> with OutputFolder(d, command="demo", settings={"n": 2}) as out:
    ...     pass
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
        lock = os.path.join(self.root, LOCK)
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
                    raise FileError(f"`{self.param}`: the folder {_describe(self.root)} is in use "
                                    f"by another run (process {pid}); wait for it or choose "
                                    f"another folder.") from None
                with contextlib.suppress(OSError):
                    os.remove(lock)  # stale lock of a dead process
                continue
            except OSError as exc:
                raise FileError(f"`{self.param}`: cannot write in {_describe(self.root)} "
                                f"({exc.strerror or exc}).") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self._locked = True
            return
        raise FileError(f"`{self.param}`: could not lock {_describe(self.root)}.")

    def _unlock(self):
        if self._locked:
            with contextlib.suppress(OSError):
                os.remove(os.path.join(self.root, LOCK))
            self._locked = False

    # -- manifest
    @property
    def manifest_path(self):
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
        """Path of the file ``name`` inside the folder (recorded in the manifest)."""
        name = os.fspath(name)
        if os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
            raise ValidationError(f"`name` must be a file name inside the output folder; "
                                  f"got {name!r}.")
        if name not in self.files:
            self.files.append(name)
        return os.path.join(self.root, name)

    def exists(self, name):
        """Whether ``name`` already exists in the folder (e.g. a checkpoint to resume)."""
        return os.path.exists(os.path.join(self.root, name))

    def __repr__(self):
        return f"OutputFolder({self.root!r}, command={self.command!r})"
