"""The one registry of bundled data sets: the names every subcommand's ``--data`` accepts.

Long names are canonical (``wu_five_point``, ``cyclic_permutation``); the short aliases
(``wu5``, ``cyclic``, ``bc``) are accepted wherever a name is, in any case and with ``-`` or
``_`` (the library's spelling rule, :func:`topoanalysis._validation.normalize_name`).
"""

import dataclasses
from typing import Optional

import numpy as np

from .._validation import check_int, normalize_name
from ..exceptions import ValidationError

__all__ = ["DATASETS", "DATA_ALIASES", "BundledData", "dataset_names", "canonical_data_name",
           "is_data_name", "load_dataset"]


@dataclasses.dataclass(frozen=True)
class _Entry:
    loss: str          # the natural loss of the task
    n_samples: bool    # whether --n-samples sets its size
    seeded: bool       # whether --data-seed changes it
    text: str


#: Canonical name -> what it is. Every subcommand taking ``--data`` accepts exactly these
#: names and the aliases of :data:`DATA_ALIASES`.
DATASETS = {
    "breast_cancer": _Entry("bce", False, True, "Wisconsin breast cancer, 30 features, a seeded "
                                                "80/20 split (Nurisso et al.)"),
    "wu_five_point": _Entry("mse", False, False, "Wu, Simsek & Ged's 5 points in 1-D (a bias "
                                                 "column is appended unless the network has "
                                                 "1 input)"),
    "cyclic_permutation": _Entry("mse", False, False, "Freeman & Bruna's 3 points mapped to a "
                                                      "cyclic permutation"),
    "wu_three_d": _Entry("mse", False, False, "Wu, Simsek & Ged's 7 points, 3-D inputs -> 1 "
                                              "output (bias-free model)"),
    "wu_two_d_two_d": _Entry("mse", False, False, "Wu, Simsek & Ged's 4 points, 2-D inputs -> "
                                                  "2 outputs (bias-free model)"),
    "quadratic": _Entry("l1", True, True, "Freeman & Bruna's quadratic regression on [0, 1]"),
    "cubic": _Entry("l1", True, True, "Freeman & Bruna's cubic regression on [0, 1]"),
    "blobs": _Entry("bce", True, True, "two Gaussian blobs in 2-D"),
    "xor": _Entry("bce", True, True, "xor in 2-D"),
    "circles": _Entry("bce", True, True, "two concentric circles in 2-D"),
    "moons": _Entry("bce", True, True, "two moons in 2-D"),
}

#: Short aliases -> canonical names.
DATA_ALIASES = {"wu5": "wu_five_point", "wu": "wu_five_point", "cyclic": "cyclic_permutation",
                "bc": "breast_cancer",
                "wu3d": "wu_three_d", "wu2d2d": "wu_two_d_two_d"}

#: Samples of the generated tasks when ``n_samples`` is not given.
DEFAULT_N_SAMPLES = 200


def dataset_names(aliases=False):
    """Canonical names of the bundled data sets (and the aliases with ``aliases=True``).

    Parameters
    ----------
    aliases : bool, default=False
        Also list the short aliases (``wu5``, ``bc``, ...).

    Returns
    -------
    list of str
        The names.

    See Also
    --------
    canonical_data_name, load_dataset
    """
    names = list(DATASETS)
    return names + list(DATA_ALIASES) if aliases else names


def canonical_data_name(name):
    """The canonical name of a bundled data set, or ``None`` if ``name`` is not one.

    Parameters
    ----------
    name : str
        A name in any spelling (case, ``-``/``_``), canonical or alias.

    Returns
    -------
    str or None
        The canonical name, or ``None``.

    See Also
    --------
    is_data_name, dataset_names
    """
    if not isinstance(name, str):
        return None
    key = normalize_name(name)
    key = DATA_ALIASES.get(key, key)
    return key if key in DATASETS else None


def is_data_name(name):
    """Whether ``name`` names a bundled data set (canonical or alias, any spelling).

    Parameters
    ----------
    name : str
        A name in any spelling, canonical or alias.

    Returns
    -------
    bool
        ``True`` when :func:`canonical_data_name` recognises it.

    See Also
    --------
    canonical_data_name
    """
    return canonical_data_name(name) is not None


@dataclasses.dataclass(frozen=True)
class BundledData:
    """A bundled data set as a command uses it.

    Attributes
    ----------
    name : str
        Canonical name.
    X, y : ndarray of shape (N, d) and (N, e)
        Training data.
    X_test, y_test : ndarray or None
        Held-out part (breast cancer only).
    loss : str
        The task's natural loss.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    X_test: Optional[np.ndarray]
    y_test: Optional[np.ndarray]
    loss: str

    def summary(self):
        """One line: name, samples, inputs, outputs and the natural loss.

        Returns
        -------
        str
            The summary.
        """
        return (f"{self.name}: {self.X.shape[0]} samples, {self.X.shape[1]} inputs, "
                f"{self.y.shape[1]} outputs, natural loss {self.loss}")

    def to_dict(self):
        """The data set's description as plain JSON types (the arrays are not included).

        Returns
        -------
        dict
            ``name``, ``n_samples``, ``inputs``, ``outputs`` and ``loss``.
        """
        return {"name": self.name, "n_samples": int(self.X.shape[0]),
                "inputs": int(self.X.shape[1]), "outputs": int(self.y.shape[1]),
                "loss": self.loss}


def load_dataset(name, *, n_samples=None, seed=0, inputs=None):
    """Load a bundled data set by name (canonical or alias).

    Parameters
    ----------
    name : str
        One of :func:`dataset_names` (``aliases=True``), any case, ``-`` or ``_``.
    n_samples : int, optional
        Size of the generated tasks (``quadratic``, ``cubic``, ``blobs``, ``xor``, ``circles``,
        ``moons``; default 200); ignored by fixed data sets.
    seed : int, default=0
        Seed of the split (breast cancer) or the generator.
    inputs : int, optional
        Input dimension of the network the data are for: ``wu_five_point`` appends its bias
        column unless ``inputs == 1``.

    Returns
    -------
    BundledData
        The canonical name, the training data (and the held-out part for breast cancer) and
        the task's natural loss.

    Raises
    ------
    ValidationError
        An unknown name (the message lists the names), or a bad ``n_samples`` / ``seed``.

    See Also
    --------
    topoanalysis.io.load_data : Data from a ``.npz`` file.

    Examples
    --------
    >>> load_dataset("wu5").X.shape
    (5, 2)
    >>> load_dataset("wu_five_point", inputs=1).X.shape
    (5, 1)
    """
    from . import (cyclic_permutation_task, load_breast_cancer, polynomial_regression,
                   toy_classification_2d, wu_five_point_regression, wu_three_d_regression,
                   wu_two_d_two_d_regression)

    canon = canonical_data_name(name)
    if canon is None:
        raise ValidationError(f"`data` must be one of {', '.join(dataset_names(True))}; "
                              f"got {name!r}.")
    n = DEFAULT_N_SAMPLES if n_samples is None else check_int("n_samples", n_samples, minimum=1)
    seed = check_int("data_seed", seed, minimum=0)
    loss = DATASETS[canon].loss
    if canon == "breast_cancer":
        ds = load_breast_cancer(seed=seed)
        return BundledData(canon, ds.X_train, ds.y_train, ds.X_test, ds.y_test, loss)
    if canon == "wu_five_point":
        ds = wu_five_point_regression(with_bias_column=inputs != 1)
    elif canon == "wu_three_d":
        ds = wu_three_d_regression()
    elif canon == "wu_two_d_two_d":
        ds = wu_two_d_two_d_regression()
    elif canon == "cyclic_permutation":
        ds = cyclic_permutation_task()
    elif canon in ("quadratic", "cubic"):
        ds = polynomial_regression(canon, n_samples=n, seed=seed)
    else:
        ds = toy_classification_2d(n, canon, seed=seed)
    return BundledData(canon, ds.X, ds.y, None, None, loss)
