"""Data sets and task generators used in the papers' experiments.

Everything here returns a :class:`Dataset` (``X`` of shape ``(n, d)``, ``y`` of shape
``(n, e)``, float64) or a :class:`SplitDataset` (seeded train/test parts). Nothing is
downloaded: the breast cancer data ship with the package.

Loaders
-------
load_breast_cancer
    Wisconsin Diagnostic Breast Cancer, split and standardized (Nurisso et al., Figure 4).
load_breast_cancer_raw
    All 569 rows in raw units.

Generators
----------
polynomial_regression
    Freeman & Bruna's quadratic and cubic regression on ``[0, 1]``.
cyclic_permutation_task
    Freeman & Bruna's 3 points mapped to a cyclic permutation (2-3-2 ReLU network).
wu_five_point_regression
    Wu, Simsek & Ged's 5-point 1-D regression.
wu_three_d_regression
    Wu, Simsek & Ged's 7-point 3-D -> 1 regression.
wu_two_d_two_d_regression
    Wu, Simsek & Ged's 4-point 2-D -> 2-D regression.
toy_classification_2d
    Blobs, xor, circles and moons.
teacher_student
    Regression labelled by a random ReLU teacher.

Registry
--------
load_dataset, dataset_names, canonical_data_name
    The one list of bundled names every ``--data`` flag accepts (long names canonical,
    aliases ``wu5``, ``cyclic``, ``bc``).
"""

from .breast_cancer import (
    BREAST_CANCER_CLASSES,
    BREAST_CANCER_FEATURES,
    load_breast_cancer,
    load_breast_cancer_raw,
)
from .generators import (
    Dataset,
    SplitDataset,
    cyclic_permutation_task,
    polynomial_regression,
    teacher_student,
    toy_classification_2d,
    wu_five_point_regression,
    wu_three_d_regression,
    wu_two_d_two_d_regression,
)
from .registry import (
    DATA_ALIASES,
    DATASETS,
    BundledData,
    canonical_data_name,
    dataset_names,
    is_data_name,
    load_dataset,
)

__all__ = [
    "Dataset",
    "SplitDataset",
    "load_breast_cancer",
    "load_breast_cancer_raw",
    "BREAST_CANCER_FEATURES",
    "BREAST_CANCER_CLASSES",
    "polynomial_regression",
    "cyclic_permutation_task",
    "wu_five_point_regression",
    "wu_three_d_regression",
    "wu_two_d_two_d_regression",
    "toy_classification_2d",
    "teacher_student",
    "DATASETS",
    "DATA_ALIASES",
    "BundledData",
    "dataset_names",
    "canonical_data_name",
    "is_data_name",
    "load_dataset",
]
