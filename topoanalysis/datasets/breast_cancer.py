"""The Wisconsin Diagnostic Breast Cancer data, bundled with the package.

569 samples, 30 real features, binary labels (212 malignant, 357 benign). The data file
``data/breast_cancer.csv`` ships inside the package and is read with
:mod:`importlib.resources`: nothing is downloaded at run time.

Source and licence
------------------
W. H. Wolberg, W. N. Street and O. L. Mangasarian (1995), *Breast Cancer Wisconsin
(Diagnostic)*, UCI Machine Learning Repository, https://doi.org/10.24432/C5DW2B, licensed
CC BY 4.0. The file is the copy redistributed with scikit-learn
(``sklearn/datasets/data/breast_cancer.csv``, BSD-3-Clause), converted to a plain CSV
with a header row. See ``data/README.md`` beside this module.
"""

import functools
import io
from importlib import resources

import numpy as np

from ..exceptions import TopoAnalysisError
from .generators import Dataset

__all__ = [
    "load_breast_cancer",
    "load_breast_cancer_raw",
    "BREAST_CANCER_FEATURES",
    "BREAST_CANCER_CLASSES",
]

_DATA_FILE = "breast_cancer.csv"
_N_SAMPLES = 569
_N_FEATURES = 30

_BASE = (
    "radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
    "concave points", "symmetry", "fractal dimension",
)
#: The 30 feature names, in column order (scikit-learn's names): the mean, the standard
#: error and the "worst" (mean of the three largest values) of ten nucleus measurements.
BREAST_CANCER_FEATURES = (
    tuple(f"mean {b}" for b in _BASE)
    + tuple(f"{b} error" for b in _BASE)
    + tuple(f"worst {b}" for b in _BASE)
)
#: Label value ``k`` means ``BREAST_CANCER_CLASSES[k]`` (scikit-learn's coding).
BREAST_CANCER_CLASSES = ("malignant", "benign")

_DESCRIPTION = """\
Breast Cancer Wisconsin (Diagnostic): 569 samples, 30 features, binary target.
Features are computed from a digitized image of a fine needle aspirate of a breast mass
and describe the cell nuclei in the image: mean, standard error and worst value of
radius, texture, perimeter, area, smoothness, compactness, concavity, concave points,
symmetry and fractal dimension. Target: 0 = malignant (212), 1 = benign (357).
Source: W. H. Wolberg, W. N. Street, O. L. Mangasarian (1995), UCI Machine Learning
Repository, doi:10.24432/C5DW2B, CC BY 4.0; as redistributed with scikit-learn
(BSD-3-Clause)."""


@functools.lru_cache(maxsize=1)
def _read_bundled():
    """Parse the bundled CSV once; return read-only ``(X, y)`` arrays."""
    resource = resources.files(__package__) / "data" / _DATA_FILE
    try:
        text = resource.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"The bundled data file 'topoanalysis/datasets/data/{_DATA_FILE}' is missing: "
            "the installation is incomplete (it must be listed in package_data)."
        ) from None
    header, _, body = text.partition("\n")
    columns = tuple(name.strip() for name in header.split(","))
    table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    if (
        columns != BREAST_CANCER_FEATURES + ("target",)
        or table.shape != (_N_SAMPLES, _N_FEATURES + 1)
        or not np.all(np.isin(table[:, -1], (0.0, 1.0)))
    ):
        raise TopoAnalysisError(
            f"The bundled data file '{_DATA_FILE}' is corrupted: expected a header of 30 "
            f"feature names plus 'target' and {_N_SAMPLES} rows of 31 numbers with 0/1 "
            f"targets; got {len(columns)} columns and a table of shape {table.shape}."
        )
    X = np.ascontiguousarray(table[:, :-1])
    y = np.ascontiguousarray(table[:, -1:])
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_breast_cancer_raw():
    """All 569 rows of the breast cancer data, in file order, in raw units.

    Returns
    -------
    Dataset
        ``X`` of shape ``(569, 30)`` float64, ``y`` of shape ``(569, 1)`` float64 with
        0.0 = malignant, 1.0 = benign; ``feature_names`` = :data:`BREAST_CANCER_FEATURES`,
        ``class_names = ("malignant", "benign")``. The arrays are fresh copies.

    See Also
    --------
    load_breast_cancer

    Notes
    -----
    Data: W. H. Wolberg, W. N. Street, O. L. Mangasarian (1995), Breast Cancer Wisconsin
    (Diagnostic), UCI Machine Learning Repository, doi:10.24432/C5DW2B, CC BY 4.0; the copy
    redistributed with scikit-learn (BSD-3-Clause). Read from the package with
    :mod:`importlib.resources` and parsed once per process.

    References
    ----------
    .. [1] W. H. Wolberg, W. N. Street, O. L. Mangasarian, "Breast Cancer Wisconsin
           (Diagnostic)", UCI Machine Learning Repository, 1995, doi:10.24432/C5DW2B: the
           data.

    Examples
    --------
    >>> from topoanalysis.datasets import load_breast_cancer_raw
    >>> data = load_breast_cancer_raw()
    >>> data.X.shape, int((data.y == 0).sum()), int((data.y == 1).sum())
    ((569, 30), 212, 357)
    >>> data.feature_names[:2]
    ('mean radius', 'mean texture')
    """
    X, y = _read_bundled()
    return Dataset(X.copy(), y.copy(), BREAST_CANCER_FEATURES, BREAST_CANCER_CLASSES,
                   _DESCRIPTION)


def load_breast_cancer(*, test_size=0.2, seed=0, standardize=True, stratify=True):
    """The breast cancer data as a seeded train/test split, ready for BCE-with-logits.

    Parameters
    ----------
    test_size : float, default 0.2
        Fraction of the 569 rows held out, ``0 < test_size < 1``; the test set has
        ``ceil(test_size * 569)`` rows. The default gives 455 training and 114 test rows.
    seed : int, numpy.random.Generator or None, default 0
        Seed of the split.
    standardize : bool, default True
        Centre and scale every feature with the *training* rows' mean and (population)
        standard deviation, and apply the same map to the test rows. The statistics are
        kept in ``mean`` and ``scale`` of the result.
    stratify : bool, default True
        Keep the class proportions in both parts (largest-remainder rounding): with the
        defaults the test set has 42 malignant and 72 benign rows, the training set 170
        and 285. ``False`` gives a plain seeded shuffle split.

    Returns
    -------
    SplitDataset
        ``X_train`` (455, 30), ``y_train`` (455, 1), ``X_test`` (114, 30), ``y_test``
        (114, 1) with the defaults; all float64, targets 0.0 = malignant, 1.0 = benign as
        a column, the shape ``torch.nn.BCEWithLogitsLoss`` expects next to the ``(n, 1)``
        output of a network with one output. Rows of each part are shuffled;
        ``train_indices`` / ``test_indices`` give their rows in
        :func:`load_breast_cancer_raw`.

    Raises
    ------
    ValidationError
        If ``test_size`` is not in ``(0, 1)`` or ``seed`` is invalid.

    See Also
    --------
    load_breast_cancer_raw, topoanalysis.datasets.load_dataset

    Notes
    -----
    Used by Nurisso, Leroy & Vaccarino (Figure 4): test binary cross-entropy of shallow
    ReLU networks on this data, averaged over initializations. The split and the
    standardization are this package's choice; the paper does not specify them.

    Data: W. H. Wolberg, W. N. Street, O. L. Mangasarian (1995), Breast Cancer Wisconsin
    (Diagnostic), UCI Machine Learning Repository, doi:10.24432/C5DW2B, CC BY 4.0; the copy
    redistributed with scikit-learn (BSD-3-Clause).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 4 (breast cancer, binary
           cross-entropy).
    .. [2] W. H. Wolberg, W. N. Street, O. L. Mangasarian, "Breast Cancer Wisconsin
           (Diagnostic)", UCI Machine Learning Repository, 1995, doi:10.24432/C5DW2B: the
           data.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis.datasets import load_breast_cancer
    >>> data = load_breast_cancer()
    >>> data.X_train.shape, data.y_train.shape, data.X_test.shape
    ((455, 30), (455, 1), (114, 30))
    >>> bool(np.allclose(data.X_train.mean(axis=0), 0.0))
    True
    >>> X_train, y_train, X_test, y_test = data
    """
    return load_breast_cancer_raw().split(
        test_size=test_size, seed=seed, stratify=stratify, standardize=standardize
    )
