"""File primitives below every other module: atomic writes and checked ``.npz`` reads.

:mod:`topoanalysis.io` is the public boundary for files and re-exports these; they live here
so that :mod:`topoanalysis.network` can save and load networks without importing
:mod:`topoanalysis.io` (which imports :mod:`topoanalysis.network`): no import circle.
"""

import contextlib
import os
import tempfile
import zipfile

import numpy as np

from .exceptions import ValidationError

__all__ = ["FileError", "atomic_path", "check_output_file", "save_npz", "load_npz"]


class FileError(ValidationError):
    """A file given by the user cannot be read or written as required."""


FileError.__module__ = "topoanalysis.io"   # its public home (re-exported there)


# --- atomic writes ------------------------------------------------------------------------
def _describe(path):
    return repr(os.fspath(path))


def check_output_file(path, param="output"):
    """Check that ``path`` can be written as a file (its folder exists or can be created).

    Returns the absolute path. Raises :class:`FileError` naming ``param`` otherwise.

    Parameters
    ----------
    path : str or os.PathLike
        File to be written.
    param : str, default="output"
        Name of the argument, for error messages.

    Returns
    -------
    str
        The path.

    Raises
    ------
    FileError
        When ``path`` is a folder, or its folder cannot be created or written.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise FileError(f"`{param}` must be a file path; got the folder {_describe(path)}.")
    folder = os.path.dirname(path)
    _ensure_folder(folder, param)
    return path


def _ensure_folder(folder, param):
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileError(f"`{param}` needs the folder {_describe(folder)}, "
                        f"but a file of that name exists.")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise FileError(f"`{param}`: cannot create the folder {_describe(folder)} "
                        f"({exc.strerror or exc}).") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileError(f"`{param}`: the folder {_describe(folder)} is not writable.")


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path, param="output"):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary name is unique (two processes never share it), lies in the same folder
    (so the rename is atomic) and keeps the file's extension (so writers that add one, like
    ``np.savez``, write where expected). On an exception the temporary file is removed and
    ``path`` is left as it was.

    Parameters
    ----------
    path : str or os.PathLike
        Final file.
    param : str, default="output"
        Name of the argument, for error messages.

    Yields
    ------
    str
        The temporary path to write to.

    See Also
    --------
    check_output_file, save_npz
    """
    path = check_output_file(path, param)
    folder, base = os.path.split(path)
    stem, ext = os.path.splitext(base)
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def save_npz(path, param="output", **arrays):
    """``np.savez`` atomically (``path`` is used as given; ``.npz`` is appended if missing).

    Parameters
    ----------
    path : str or os.PathLike
        Output ``.npz``.
    param : str, default="output"
        Name of the argument, for error messages.
    **arrays
        Arrays to store, by name.

    Returns
    -------
    str
        The path written.

    See Also
    --------
    load_npz, atomic_path
    """
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    with atomic_path(path, param) as tmp:
        np.savez(tmp, **arrays)
    return path


def _check_input_file(path, param, kind="a .npz file"):
    if path is None or (isinstance(path, str) and not path.strip()):
        raise FileError(f"`{param}` must name a file; got {path!r}.")
    try:
        path = os.fspath(path)
    except TypeError:
        raise FileError(f"`{param}` must be a path; got {type(path).__name__}.") from None
    if os.path.isdir(path):
        raise FileError(f"`{param}` must be a file; got the folder {_describe(path)}.")
    if not os.path.exists(path):
        raise FileError(f"`{param}`: no such file {_describe(path)}.")
    if not os.access(path, os.R_OK):
        raise FileError(f"`{param}`: the file {_describe(path)} is not readable.")
    if os.path.getsize(path) == 0:
        raise FileError(f"`{param}` must be {kind}; {_describe(path)} is empty.")
    return path


def load_npz(path, param="file", keys=None):
    """Read every array of a ``.npz`` into a dict (no pickles), with clear errors.

    ``keys``, when given, are required: a missing one is named in the error.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npz`` file.
    param : str, default="file"
        Name of the argument, for error messages.
    keys : sequence of str, optional
        Arrays that must be present.

    Returns
    -------
    dict of str to ndarray
        Every array of the file.

    Raises
    ------
    FileError
        When the file is missing, unreadable, empty, not an ``.npz`` archive, holds pickles,
        or lacks one of ``keys``.

    See Also
    --------
    save_npz
    """
    path = _check_input_file(path, param)
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise FileError(f"`{param}` must be a .npz archive of named arrays; {_describe(path)} "
                        f"is a single .npy array.")
    if not magic.startswith(b"PK"):
        raise FileError(f"`{param}` must be a .npz file; {_describe(path)} is not an .npz "
                        f"archive.")
    try:
        with np.load(path, allow_pickle=False) as f:
            out = {k: np.array(f[k]) for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, MemoryError) as exc:
        reason = ("holds Python objects (pickles), which are never loaded"
                  if "pickle" in str(exc) else
                  "declares arrays larger than this machine's memory (damaged, or not a "
                  "file this program wrote)" if isinstance(exc, MemoryError) else
                  "is truncated or not an .npz archive")
        raise FileError(f"`{param}` must be a .npz file of arrays; {_describe(path)} "
                        f"{reason}.") from None
    if keys is not None:
        missing = [k for k in keys if k not in out]
        if missing:
            raise FileError(f"`{param}` must hold arrays named {', '.join(keys)}; "
                            f"{_describe(path)} has {', '.join(sorted(out)) or 'none'}.")
    return out


def _real_array(param, path, key, a, ndim, *, booleans=True):
    if a.dtype.kind == "b" and not booleans:
        raise FileError(f"`{param}`: array {key} of {_describe(path)} must be real numbers; got "
                        f"booleans (dtype bool).")
    if a.dtype.kind == "c":
        raise FileError(f"`{param}`: array {key} of {_describe(path)} must be real; got "
                        f"complex values.")
    if a.dtype.kind not in "biuf":
        raise FileError(f"`{param}`: array {key} of {_describe(path)} must be numeric; got "
                        f"dtype {a.dtype}.")
    with np.errstate(over="ignore"):
        a = a.astype(np.float64)    # a long double beyond float64 becomes inf: refused below
    if a.ndim not in ndim:
        raise FileError(f"`{param}`: array {key} of {_describe(path)} must have "
                        f"{' or '.join(map(str, ndim))} dimensions; got shape {a.shape}.")
    if not np.all(np.isfinite(a)):
        raise FileError(f"`{param}`: array {key} of {_describe(path)} must be finite; "
                        f"got {int(np.sum(~np.isfinite(a)))} non-finite values.")
    return a


_NETWORK_KEYS = ("params", "inputs", "hidden", "outputs", "hidden_bias", "output_bias",
                 "activation", "negative_slope")


def _npz_name(path):
    try:
        path = os.fspath(path)
    except TypeError:
        return path                 # refused with one line by _check_input_file
    if not os.path.exists(path) and not path.endswith(".npz") and os.path.exists(path + ".npz"):
        return path + ".npz"
    return path
