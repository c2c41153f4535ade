"""Tests of topoanalysis.datasets: bundled breast cancer data, splits and task generators."""

import dataclasses
import math
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topoanalysis.datasets import (
    BREAST_CANCER_CLASSES,
    BREAST_CANCER_FEATURES,
    Dataset,
    SplitDataset,
    cyclic_permutation_task,
    load_breast_cancer,
    load_breast_cancer_raw,
    polynomial_regression,
    teacher_student,
    toy_classification_2d,
    wu_five_point_regression,
)
from topoanalysis.exceptions import ShapeError, TopoAnalysisError, ValidationError

# ---------------------------------------------------------------------------------------
# Bundled breast cancer data
# ---------------------------------------------------------------------------------------


def test_data_file_is_a_package_resource():
    resource = resources.files("topoanalysis.datasets") / "data" / "breast_cancer.csv"
    assert resource.is_file()
    header = resource.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == list(BREAST_CANCER_FEATURES) + ["target"]
    readme = resources.files("topoanalysis.datasets") / "data" / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "Wolberg" in text and "BSD-3" in text


def test_raw_shapes_labels_and_names():
    data = load_breast_cancer_raw()
    assert isinstance(data, Dataset)
    assert data.X.shape == (569, 30) and data.y.shape == (569, 1)
    assert data.X.dtype == np.float64 and data.y.dtype == np.float64
    assert int(np.sum(data.y == 0.0)) == 212  # malignant
    assert int(np.sum(data.y == 1.0)) == 357  # benign
    assert set(np.unique(data.y).tolist()) == {0.0, 1.0}
    assert data.feature_names == BREAST_CANCER_FEATURES
    assert len(set(data.feature_names)) == 30
    assert data.feature_names[0] == "mean radius"
    assert data.feature_names[10] == "radius error"
    assert data.feature_names[20] == "worst radius"
    assert data.class_names == BREAST_CANCER_CLASSES == ("malignant", "benign")
    assert "CC BY 4.0" in data.description
    assert np.all(np.isfinite(data.X))


def test_raw_values_match_the_published_table():
    data = load_breast_cancer_raw()
    # First row of the UCI / scikit-learn table (a malignant case).
    assert data.X[0, :4].tolist() == [17.99, 10.38, 122.8, 1001.0]
    assert data.X[0, -1] == 0.1189 and data.y[0, 0] == 0.0
    # Ranges from the data set's published summary statistics.
    assert data.X[:, 0].min() == 6.981 and data.X[:, 0].max() == 28.11
    assert data.X[:, 3].max() == 2501.0 and data.X[:, 23].max() == 4254.0
    # Benign cases have smaller mean radius on average.
    malignant = data.y[:, 0] == 0.0
    assert data.X[malignant, 0].mean() > data.X[~malignant, 0].mean()


def test_raw_returns_fresh_copies():
    first = load_breast_cancer_raw()
    first.X[0, 0] = -1.0
    first.y[0, 0] = 5.0
    second = load_breast_cancer_raw()
    assert second.X[0, 0] == 17.99 and second.y[0, 0] == 0.0


def test_default_split_is_455_by_30_stratified_and_standardized():
    data = load_breast_cancer()
    assert isinstance(data, SplitDataset)
    assert data.X_train.shape == (455, 30) and data.y_train.shape == (455, 1)
    assert data.X_test.shape == (114, 30) and data.y_test.shape == (114, 1)
    assert data.n_train == 455 and data.n_test == 114
    assert data.n_features == 30 and data.n_outputs == 1
    # Stratified by largest remainder: 212*114/569 = 42.47, 357*114/569 = 71.53.
    assert int(np.sum(data.y_test == 0)) == 42 and int(np.sum(data.y_test == 1)) == 72
    assert int(np.sum(data.y_train == 0)) == 170 and int(np.sum(data.y_train == 1)) == 285
    # Standardized with training statistics.
    assert data.standardized
    np.testing.assert_allclose(data.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X_train.std(axis=0), 1.0, rtol=1e-12)
    assert not np.allclose(data.X_test.mean(axis=0), 0.0, atol=1e-3)


def test_split_rows_map_back_to_raw_rows():
    raw = load_breast_cancer_raw()
    data = load_breast_cancer(seed=7)
    both = np.concatenate((data.train_indices, data.test_indices))
    assert sorted(both.tolist()) == list(range(569))
    np.testing.assert_allclose(data.X_train * data.scale + data.mean,
                               raw.X[data.train_indices], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(data.X_test * data.scale + data.mean,
                               raw.X[data.test_indices], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(data.y_train, raw.y[data.train_indices])
    np.testing.assert_array_equal(data.y_test, raw.y[data.test_indices])
    np.testing.assert_allclose(data.mean, raw.X[data.train_indices].mean(axis=0))


def test_split_is_seeded():
    a, b = load_breast_cancer(seed=3), load_breast_cancer(seed=3)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.test_indices, b.test_indices)
    c = load_breast_cancer(seed=4)
    assert not np.array_equal(a.test_indices, c.test_indices)
    rng_a = load_breast_cancer(seed=np.random.default_rng(11))
    rng_b = load_breast_cancer(seed=np.random.default_rng(11))
    np.testing.assert_array_equal(rng_a.test_indices, rng_b.test_indices)


def test_unstandardized_and_plain_split():
    raw = load_breast_cancer_raw()
    data = load_breast_cancer(standardize=False, stratify=False, test_size=0.25, seed=1)
    assert not data.standardized and data.mean is None and data.scale is None
    assert data.n_test == math.ceil(0.25 * 569) == 143 and data.n_train == 426
    np.testing.assert_array_equal(data.X_train, raw.X[data.train_indices])
    assert int(np.sum(data.y_train == 0) + np.sum(data.y_test == 0)) == 212


def test_split_unpacks_and_views():
    data = load_breast_cancer()
    X_train, y_train, X_test, y_test = data
    assert X_train is data.X_train and y_test is data.y_test
    assert isinstance(data.train, Dataset) and data.train.X is data.X_train
    assert data.test.n_samples == 114
    assert data.train.feature_names == BREAST_CANCER_FEATURES
    assert "n_train=455" in repr(data) and "standardized=True" in repr(data)


@pytest.mark.parametrize("test_size", [0, 0.0, 1, 1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_load_rejects_test_size_out_of_range(test_size):
    with pytest.raises(ValidationError, match="`test_size`"):
        load_breast_cancer(test_size=test_size)


@pytest.mark.parametrize("test_size", ["0.2", None, True, [0.2]])
def test_load_rejects_test_size_of_wrong_type(test_size):
    with pytest.raises(ValidationError, match="`test_size` must be a real number"):
        load_breast_cancer(test_size=test_size)


def test_load_rejects_bad_seed_and_flags():
    with pytest.raises(ValidationError, match="`seed`"):
        load_breast_cancer(seed=-1)
    with pytest.raises(ValidationError, match="`seed`"):
        load_breast_cancer(seed=1.5)
    with pytest.raises(ValidationError, match="`standardize` must be a bool"):
        load_breast_cancer(standardize="yes")
    with pytest.raises(ValidationError, match="`stratify` must be a bool"):
        load_breast_cancer(stratify=1)
    with pytest.raises(TypeError):
        load_breast_cancer(0.2)  # keyword-only


def test_errors_belong_to_the_project_hierarchy():
    with pytest.raises(ValueError):
        load_breast_cancer(test_size=2.0)
    with pytest.raises(TopoAnalysisError):
        polynomial_regression("quartic")


# ---------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------


def test_dataset_converts_and_validates():
    data = Dataset([[1, 2], [3, 4], [5, 6]], [1, 0, 1])
    assert data.X.dtype == np.float64 and data.X.flags.c_contiguous
    assert data.y.shape == (3, 1)
    assert data.feature_names == ("x0", "x1") and data.class_names is None
    assert (data.n_samples, data.n_features, data.n_outputs, len(data)) == (3, 2, 1, 3)
    X, y = data
    assert X is data.X and y is data.y
    assert repr(data).startswith("Dataset(n_samples=3, n_features=2, n_outputs=1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.X = np.zeros((3, 2))


def test_dataset_rejects_bad_input():
    with pytest.raises(ShapeError, match="`X` must be a 2-dimensional array"):
        Dataset([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ShapeError, match="as many rows as `X` \\(2\\)"):
        Dataset([[1.0], [2.0]], [1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="non-finite"):
        Dataset([[np.nan], [2.0]], [1.0, 2.0])
    with pytest.raises(ValidationError, match="`feature_names` must be a tuple of 1 strings"):
        Dataset([[1.0], [2.0]], [1.0, 2.0], feature_names=("a", "b"))
    with pytest.raises(ValidationError, match="`feature_names`"):
        Dataset([[1.0], [2.0]], [1.0, 2.0], feature_names="a")
    with pytest.raises(ValidationError, match="`class_names`"):
        Dataset([[1.0], [2.0]], [1.0, 2.0], class_names="ab")
    with pytest.raises(ValidationError, match="`description`"):
        Dataset([[1.0], [2.0]], [1.0, 2.0], description=3)


def test_split_of_a_generic_dataset():
    data = Dataset(np.arange(20.0).reshape(10, 2), np.arange(10.0))
    parts = data.split(test_size=0.3, seed=0)
    assert (parts.n_train, parts.n_test) == (7, 3)
    np.testing.assert_array_equal(parts.X_test, data.X[parts.test_indices])
    # A regression target cannot be stratified: every value is its own class.
    with pytest.raises(ValidationError, match="stratify=False"):
        data.split(stratify=True)
    # Every part must be non-empty.
    with pytest.raises(ValidationError, match="at least one row in each part of the 10 rows"):
        data.split(test_size=0.95)
    tiny = Dataset([[0.0]], [0.0])
    with pytest.raises(ValidationError, match="`test_size`"):
        tiny.split(test_size=0.5)


def test_standardization_leaves_constant_features_unscaled():
    X = np.column_stack((np.arange(8.0), np.full(8, 3.0)))
    parts = Dataset(X, np.arange(8.0)).split(test_size=0.25, standardize=True)
    assert parts.scale[1] == 1.0
    np.testing.assert_array_equal(parts.X_train[:, 1], 0.0)
    np.testing.assert_array_equal(parts.y_train.ravel(), parts.train_indices.astype(float))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=4, max_value=60),
    test_size=st.floats(min_value=0.05, max_value=0.95),
    seed=st.integers(min_value=0, max_value=2**31),
    stratify=st.booleans(),
)
def test_split_partitions_rows(n, test_size, seed, stratify):
    labels = np.arange(n) % 2
    data = Dataset(np.arange(n, dtype=float).reshape(-1, 1), labels)
    n_test = math.ceil(test_size * n)
    if n_test >= n:
        with pytest.raises(ValidationError):
            data.split(test_size=test_size, seed=seed, stratify=stratify)
        return
    parts = data.split(test_size=test_size, seed=seed, stratify=stratify)
    assert parts.n_test == n_test and parts.n_train == n - n_test
    rows = np.concatenate((parts.train_indices, parts.test_indices))
    assert sorted(rows.tolist()) == list(range(n))
    np.testing.assert_array_equal(parts.X_train.ravel(), parts.train_indices)
    if stratify:
        counts = np.bincount(labels)
        ideal = counts * n_test / n
        got = np.bincount(labels[parts.test_indices], minlength=2)
        assert np.all(np.abs(got - ideal) < 1.0)


# ---------------------------------------------------------------------------------------
# Freeman & Bruna tasks
# ---------------------------------------------------------------------------------------


def test_polynomial_regression_values():
    quad = polynomial_regression("quadratic", n_samples=50, sampling="grid")
    x = quad.X[:, 0]
    np.testing.assert_allclose(quad.y[:, 0], 0.5 * x**2 + 0.25 * x + 0.1, rtol=1e-15)
    assert x[0] == 0.0 and x[-1] == 1.0 and np.all(np.diff(x) > 0)
    cubic = polynomial_regression("cubic", n_samples=200, seed=5)
    x = cubic.X[:, 0]
    np.testing.assert_allclose(cubic.y[:, 0], 8 * x**3 - 10 * x**2 + 3 * x,
                               rtol=1e-12, atol=1e-15)
    assert np.all((x >= 0.0) & (x < 1.0))
    assert cubic.X.shape == (200, 1) and cubic.y.shape == (200, 1)
    assert cubic.feature_names == ("x",) and "8 x^3" in cubic.description


def test_polynomial_regression_defaults_and_seeding():
    data = polynomial_regression()
    assert data.n_samples == 10000 and "quadratic" in data.description
    assert 0.45 < data.X.mean() < 0.55
    again = polynomial_regression()
    np.testing.assert_array_equal(data.X, again.X)
    other = polynomial_regression(seed=1)
    assert not np.array_equal(data.X, other.X)
    one = polynomial_regression(n_samples=1, sampling="grid")
    assert one.X.tolist() == [[0.0]] and one.y.tolist() == [[0.1]]


def test_polynomial_regression_noise():
    clean = polynomial_regression(n_samples=2000, sampling="grid")
    noisy = polynomial_regression(n_samples=2000, sampling="grid", noise=0.1, seed=2)
    np.testing.assert_array_equal(clean.X, noisy.X)
    residual = noisy.y - clean.y
    assert 0.09 < residual.std() < 0.11


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "quartic"}, "`kind` must be one of 'quadratic', 'cubic'; got 'quartic'"),
        ({"n_samples": 0}, "`n_samples` must be an integer >= 1; got 0"),
        ({"n_samples": 2.5}, "`n_samples` must be an integer"),
        ({"sampling": "random"}, "`sampling` must be one of 'uniform', 'grid'"),
        ({"noise": -0.1}, "`noise` must be a number >= 0.0; got -0.1"),
        ({"seed": -3}, "`seed`"),
    ],
)
def test_polynomial_regression_rejects(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        polynomial_regression(**kwargs)


def test_cyclic_permutation_default_triangle():
    data = cyclic_permutation_task()
    X, y = data
    assert X.shape == (3, 2) and y.shape == (3, 2)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-15)
    distances = [np.linalg.norm(X[i] - X[j]) for i, j in ((0, 1), (1, 2), (0, 2))]
    np.testing.assert_allclose(distances, math.sqrt(3.0), rtol=1e-14)
    np.testing.assert_allclose(X[0], [0.0, 1.0], atol=1e-15)
    # sigma = (1 2 3): x1 -> x2, x2 -> x3, x3 -> x1.
    np.testing.assert_array_equal(y, X[[1, 2, 0]])
    # The target is the rotation by 120 degrees.
    c, s = math.cos(2 * math.pi / 3), math.sin(2 * math.pi / 3)
    np.testing.assert_allclose(y, X @ np.array([[c, -s], [s, c]]).T, atol=1e-14)
    # No point is mapped to itself.
    assert np.all(np.linalg.norm(y - X, axis=1) > 1.0)


def test_cyclic_permutation_random_and_custom_points():
    a = cyclic_permutation_task("random", seed=4)
    b = cyclic_permutation_task("random", seed=4)
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.shape == (3, 2)
    np.testing.assert_array_equal(a.y, np.roll(a.X, -1, axis=0))
    custom = cyclic_permutation_task([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                                      [1.0, 1.0, 1.0]])
    assert custom.X.shape == (4, 3)
    np.testing.assert_array_equal(custom.y[3], custom.X[0])


def test_cyclic_permutation_rejects():
    with pytest.raises(ValidationError, match="`points` must be one of 'triangle', 'random'"):
        cyclic_permutation_task("square")
    with pytest.raises(ShapeError, match="m >= 2"):
        cyclic_permutation_task([[1.0, 2.0]])
    with pytest.raises(ShapeError, match="`points` must be a 2-dimensional array"):
        cyclic_permutation_task([1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="distinct"):
        cyclic_permutation_task([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])


# ---------------------------------------------------------------------------------------
# Wu, Simsek & Ged
# ---------------------------------------------------------------------------------------


def test_wu_five_point_regression():
    data = wu_five_point_regression()
    assert data.X.ravel().tolist() == [-1.0, -0.6, -0.1, 0.3, 0.7]
    assert data.y.ravel().tolist() == [0.28, -0.1, 0.03, 0.23, -0.22]
    assert data.X.shape == (5, 1) and data.y.shape == (5, 1)
    biased = wu_five_point_regression(with_bias_column=True)
    assert biased.X.shape == (5, 2)
    np.testing.assert_array_equal(biased.X[:, 0], data.X[:, 0])
    np.testing.assert_array_equal(biased.X[:, 1], 1.0)
    assert biased.feature_names == ("x", "1")
    with pytest.raises(ValidationError, match="`with_bias_column` must be a bool"):
        wu_five_point_regression("yes")


# ---------------------------------------------------------------------------------------
# Toy classification
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["blobs", "xor", "circles", "moons"])
def test_toy_classification_shapes_and_balance(kind):
    data = toy_classification_2d(101, kind=kind, seed=1)
    assert data.X.shape == (101, 2) and data.y.shape == (101, 1)
    assert set(np.unique(data.y).tolist()) == {0.0, 1.0}
    assert int(data.y.sum()) == 50
    assert data.class_names == ("class 0", "class 1")
    again = toy_classification_2d(101, kind=kind, seed=1)
    np.testing.assert_array_equal(data.X, again.X)
    np.testing.assert_array_equal(data.y, again.y)


def test_toy_classification_geometry_without_noise():
    xor = toy_classification_2d(40, kind="xor", noise=0.0)
    same_sign = xor.X[:, 0] * xor.X[:, 1] > 0
    np.testing.assert_array_equal(xor.y[:, 0], same_sign.astype(float))
    assert {tuple(p) for p in xor.X.tolist()} == {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0),
                                                  (-1.0, 1.0)}
    circles = toy_classification_2d(40, kind="circles", noise=0.0)
    radius = np.linalg.norm(circles.X, axis=1)
    np.testing.assert_allclose(radius, np.where(circles.y[:, 0] == 1, 0.5, 1.0), rtol=1e-14)
    moons = toy_classification_2d(40, kind="moons", noise=0.0)
    outer = moons.X[moons.y[:, 0] == 0]
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0, rtol=1e-14)
    assert np.all(outer[:, 1] >= -1e-15)
    blobs = toy_classification_2d(40, kind="blobs", noise=0.0)
    np.testing.assert_array_equal(blobs.X[:, 0], np.where(blobs.y[:, 0] == 1, 1.0, -1.0))


def test_toy_classification_blobs_are_separable_by_default():
    data = toy_classification_2d(400, kind="blobs", seed=0)
    predicted = (data.X.sum(axis=1) > 0).astype(float)
    assert np.mean(predicted == data.y[:, 0]) > 0.97


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((1,), {}, "`n_samples` must be an integer >= 2; got 1"),
        ((3,), {"kind": "xor"}, "`n_samples` must be an integer >= 4; got 3"),
        ((10,), {"kind": "spirals"}, "`kind` must be one of 'blobs', 'xor', 'circles', 'moons'"),
        ((10,), {"noise": -1.0}, "`noise` must be a number >= 0.0"),
        ((10,), {"seed": "x"}, "`seed`"),
    ],
)
def test_toy_classification_rejects(args, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        toy_classification_2d(*args, **kwargs)


# ---------------------------------------------------------------------------------------
# Teacher-student
# ---------------------------------------------------------------------------------------


def test_teacher_student_labels_come_from_the_teacher():
    data, (weights, biases) = teacher_student(30, 3, 4, 2, seed=9, return_teacher=True)
    W1, W2 = weights
    b1, b2 = biases
    assert W1.shape == (4, 3) and W2.shape == (2, 4) and b1.shape == (4,) and b2.shape == (2,)
    np.testing.assert_allclose(data.y, np.maximum(data.X @ W1.T + b1, 0.0) @ W2.T + b2,
                               rtol=1e-13, atol=1e-14)
    plain = teacher_student(30, 3, 4, 2, seed=9)
    np.testing.assert_array_equal(plain.X, data.X)


def test_teacher_student_without_bias_and_with_noise():
    data, (weights, biases) = teacher_student(25, 2, 3, bias=False, seed=0,
                                              return_teacher=True)
    assert biases == [None, None]
    W1, W2 = weights
    np.testing.assert_allclose(data.y, np.maximum(data.X @ W1.T, 0.0) @ W2.T, atol=1e-14)
    clean = teacher_student(5000, 2, 3, seed=1)
    noisy = teacher_student(5000, 2, 3, seed=1, noise=0.5)
    np.testing.assert_array_equal(clean.X, noisy.X)
    assert 0.45 < (noisy.y - clean.y).std() < 0.55


def test_teacher_student_matches_network_forward():
    from topoanalysis import Network

    data, (weights, biases) = teacher_student(20, 3, 5, 2, seed=2, return_teacher=True)
    net = Network.from_weights(weights, biases)
    np.testing.assert_allclose(net.forward(data.X), data.y, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "`n_samples`"),
        ({"n_features": 0}, "`n_features`"),
        ({"n_hidden": -1}, "`n_hidden`"),
        ({"n_outputs": 1.0}, "`n_outputs`"),
        ({"noise": float("nan")}, "`noise`"),
        ({"bias": 1}, "`bias` must be a bool"),
        ({"return_teacher": "no"}, "`return_teacher` must be a bool"),
    ],
)
def test_teacher_student_rejects(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        teacher_student(**kwargs)
