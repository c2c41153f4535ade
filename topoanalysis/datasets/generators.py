"""Data containers and generators for the papers' small tasks.

This module holds the two containers every loader in :mod:`topoanalysis.datasets` returns,

* :class:`Dataset` -- ``X`` of shape ``(n, d)`` and ``y`` of shape ``(n, e)``, both float64;
* :class:`SplitDataset` -- a seeded train/test split of a :class:`Dataset`, optionally
  standardized with the training set's statistics;

and generators of the synthetic tasks used in the papers:

* :func:`polynomial_regression` -- Freeman & Bruna's quadratic and cubic regression on ``[0, 1]``;
* :func:`cyclic_permutation_task` -- Freeman & Bruna's 3 points in R^2 mapped to a cyclic
  permutation of themselves (the 2-3-2 ReLU disconnection example);
* :func:`wu_five_point_regression` -- the 5-point 1-D regression of Wu, Simsek & Ged;
* :func:`toy_classification_2d` -- toy 2-D binary classification (blobs, xor, circles, moons);
* :func:`teacher_student` -- regression data labelled by a random one-hidden-layer ReLU teacher.

Every generator that draws random numbers takes ``seed`` (int >= 0, a
:class:`numpy.random.Generator`, or ``None`` for fresh entropy); the default ``seed=0``
makes every call reproducible.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import (
    check_array,
    check_choice,
    check_float,
    check_int,
    check_seed,
)
from .._resources import check_memory
from ..exceptions import ShapeError, ValidationError

__all__ = [
    "Dataset",
    "SplitDataset",
    "polynomial_regression",
    "cyclic_permutation_task",
    "wu_five_point_regression",
    "wu_three_d_regression",
    "wu_two_d_two_d_regression",
    "toy_classification_2d",
    "teacher_student",
]


# ---------------------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------------------


def _as_names(name, names, count, prefix):
    """Return ``names`` as a tuple of ``count`` strings (defaults ``prefix0, prefix1, ...``)."""
    if names is None or (isinstance(names, (tuple, list)) and len(names) == 0):
        return tuple(f"{prefix}{j}" for j in range(count))
    if isinstance(names, str) or not isinstance(names, (tuple, list)):
        raise ValidationError(
            f"`{name}` must be a tuple or list of {count} strings; got {type(names).__name__}."
        )
    names = tuple(names)
    if len(names) != count or not all(isinstance(s, str) for s in names):
        raise ValidationError(
            f"`{name}` must be a tuple of {count} strings; got {len(names)} entries {names!r}."
        )
    return names


def _as_xy(X, y, x_name="X", y_name="y"):
    """Validate a design matrix and its targets; return float64 ``(n, d)`` and ``(n, e)``."""
    X = check_array(x_name, X, ndim=2)
    y = check_array(y_name, y, ndim=(1, 2))
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if X.shape[0] == 0 or X.shape[1] == 0 or y.shape[1] == 0:
        raise ShapeError(
            f"`{x_name}` and `{y_name}` must have at least one row and one column; got shapes "
            f"{X.shape} and {y.shape}."
        )
    if X.shape[0] != y.shape[0]:
        raise ShapeError(
            f"`{y_name}` must have as many rows as `{x_name}` ({X.shape[0]}); "
            f"got shape {y.shape}."
        )
    return X, y


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Inputs and targets of a supervised task.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        Inputs; stored as a C-contiguous float64 array (not copied when it already is one).
    y : array_like of shape (n_samples, n_outputs) or (n_samples,)
        Targets; a 1-D ``y`` is stored as a column of shape ``(n_samples, 1)``.
    feature_names : tuple of str, optional
        One name per column of ``X`` (default ``("x0", "x1", ...)``).
    class_names : tuple of str or None, optional
        For classification tasks, ``class_names[k]`` names the label value ``k``;
        ``None`` for regression.
    description : str, optional
        What the data are and where they come from.

    Notes
    -----
    The dataclass is frozen (fields cannot be rebound); the arrays themselves are ordinary
    writable arrays. The loaders and generators of this package always return fresh arrays.
    Unpacking gives the arrays: ``X, y = dataset``.

    Examples
    --------
    >>> from topoanalysis.datasets import Dataset
    >>> data = Dataset([[0.0], [1.0]], [1.0, 2.0])
    >>> data.X.shape, data.y.shape, data.feature_names
    ((2, 1), (2, 1), ('x0',))
    >>> X, y = data
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple = ()
    class_names: tuple = None
    description: str = ""

    def __post_init__(self):
        X, y = _as_xy(self.X, self.y)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(
            self, "feature_names", _as_names("feature_names", self.feature_names, X.shape[1], "x")
        )
        if self.class_names is not None:
            if isinstance(self.class_names, str) or not isinstance(
                self.class_names, (tuple, list)
            ) or not all(isinstance(s, str) for s in self.class_names):
                raise ValidationError(
                    "`class_names` must be None or a tuple of strings; "
                    f"got {self.class_names!r}."
                )
            object.__setattr__(self, "class_names", tuple(self.class_names))
        if not isinstance(self.description, str):
            raise ValidationError(
                f"`description` must be a string; got {type(self.description).__name__}."
            )

    @property
    def n_samples(self):
        """Number of rows ``n``."""
        return self.X.shape[0]

    @property
    def n_features(self):
        """Input dimension ``d``."""
        return self.X.shape[1]

    @property
    def n_outputs(self):
        """Output dimension ``e``."""
        return self.y.shape[1]

    def __len__(self):
        return self.n_samples

    def __iter__(self):
        return iter((self.X, self.y))

    def __repr__(self):
        return (
            f"Dataset(n_samples={self.n_samples}, n_features={self.n_features}, "
            f"n_outputs={self.n_outputs}, description={_first_line(self.description)!r})"
        )

    def split(self, *, test_size=0.2, seed=0, stratify=False, standardize=False):
        """Split into a seeded train/test pair.

        Parameters
        ----------
        test_size : float, default 0.2
            Fraction of rows in the test set, ``0 < test_size < 1``. The test set has
            ``ceil(test_size * n)`` rows (the convention of scikit-learn), the training set
            the rest; both must be non-empty.
        seed : int, numpy.random.Generator or None, default 0
            Seed of the shuffle.
        stratify : bool, default False
            If true, every distinct row of ``y`` (every class) is split in the same
            proportion: class ``c`` with ``n_c`` rows sends ``n_c * n_test / n`` of them to
            the test set, rounded by the largest-remainder rule so the total is exactly
            ``n_test``. Needs at least two rows per class.
        standardize : bool, default False
            If true, every feature is centred and scaled with the *training* set's mean and
            standard deviation (population, ``ddof=0``; a constant feature gets scale 1),
            and the same affine map is applied to the test set. ``y`` is never changed.
            Each column is brought to unit size by a power of two first, so columns near
            ``1e308`` or ``1e-300`` are standardized too (no overflow, no underflow).

        Returns
        -------
        SplitDataset
            Rows of each part are in shuffled order; ``train_indices`` and ``test_indices``
            give their positions in this dataset.

        Raises
        ------
        ValidationError
            If ``test_size`` is out of range or leaves a part empty, if ``stratify`` is
            requested and some class has fewer than two rows, or if a standardized held-out
            value would leave float64.

        Examples
        --------
        >>> import numpy as np
        >>> from topoanalysis.datasets import Dataset
        >>> data = Dataset(np.arange(10.0).reshape(5, 2), [0, 1, 0, 1, 0])
        >>> parts = data.split(test_size=0.4, seed=1)
        >>> parts.n_train, parts.n_test
        (3, 2)
        >>> sorted(parts.train_indices.tolist() + parts.test_indices.tolist())
        [0, 1, 2, 3, 4]
        """
        train_idx, test_idx = _split_indices(self.y, test_size, seed, stratify)
        X_train, X_test = self.X[train_idx], self.X[test_idx]
        mean = scale = None
        if not isinstance(standardize, (bool, np.bool_)):
            raise ValidationError(
                f"`standardize` must be a bool; got {type(standardize).__name__}."
            )
        if standardize:
            # each column brought to unit size by a power of two first (exact): the mean and
            # standard deviation of values near 1e308 must not overflow to inf / NaN
            big = np.max(np.abs(X_train), axis=0)
            exps = np.frexp(np.where(big > 0.0, big, 1.0))[1]
            unit = np.ldexp(1.0, np.minimum(-exps, 1000))
            Xs = X_train * unit
            mean_s = Xs.mean(axis=0)
            std_s = Xs.std(axis=0)
            scale = std_s / unit
            spread = (std_s > 0.0) & (scale > 0.0)   # a spread that underflows: constant
            div = np.where(spread, std_s, unit)
            mean = mean_s / unit
            scale = np.where(spread, scale, 1.0)
            with np.errstate(over="ignore", invalid="ignore"):
                X_train = (Xs - mean_s) / div
                X_test = (X_test * unit - mean_s) / div
            if not np.all(np.isfinite(X_test)):
                raise ValidationError(
                    "`standardize` cannot express the held-out rows in units of the training "
                    "standard deviation within float64 (a held-out value lies beyond 1e308 "
                    "standard deviations from the training mean); rescale the columns of `X`."
                )
        return SplitDataset(
            X_train=X_train,
            y_train=self.y[train_idx],
            X_test=X_test,
            y_test=self.y[test_idx],
            feature_names=self.feature_names,
            class_names=self.class_names,
            description=self.description,
            mean=mean,
            scale=scale,
            train_indices=train_idx,
            test_indices=test_idx,
        )


@dataclass(frozen=True, eq=False, repr=False)
class SplitDataset:
    """A train/test split of a :class:`Dataset`.

    Parameters
    ----------
    X_train : ndarray of shape (n_train, n_features)
        Training inputs.
    y_train : ndarray of shape (n_train, n_outputs)
        Training targets.
    X_test : ndarray of shape (n_test, n_features)
        Held-out inputs.
    y_test : ndarray of shape (n_test, n_outputs)
        Held-out targets.
    feature_names : tuple of str
        One name per column of the inputs.
    class_names : tuple of str or None
        Names of the label values (classification), or None (regression).
    description : str
        What the data are and where they come from.
    mean, scale : ndarray of shape (n_features,) or None
        When the inputs were standardized: the training-set mean and scale (in the raw
        units) such that ``X_standardized = (X_raw - mean) / scale``. ``None`` otherwise.
    train_indices, test_indices : ndarray of int64 or None
        Positions of the rows in the dataset that was split.

    Notes
    -----
    Unpacking gives the four arrays: ``X_train, y_train, X_test, y_test = split``.
    :attr:`train` and :attr:`test` view each part as a :class:`Dataset`.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple = ()
    class_names: tuple = None
    description: str = ""
    mean: np.ndarray = None
    scale: np.ndarray = None
    train_indices: np.ndarray = None
    test_indices: np.ndarray = None
    _parts: tuple = field(default=None, init=False, repr=False)

    def __post_init__(self):
        train = Dataset(
            self.X_train, self.y_train, self.feature_names, self.class_names, self.description
        )
        test = Dataset(
            self.X_test, self.y_test, train.feature_names, self.class_names, self.description
        )
        if test.n_features != train.n_features or test.n_outputs != train.n_outputs:
            raise ShapeError(
                "`X_test`/`y_test` must have the same number of columns as "
                f"`X_train`/`y_train` ({train.n_features}, {train.n_outputs}); "
                f"got ({test.n_features}, {test.n_outputs})."
            )
        set_ = object.__setattr__
        set_(self, "X_train", train.X)
        set_(self, "y_train", train.y)
        set_(self, "X_test", test.X)
        set_(self, "y_test", test.y)
        set_(self, "feature_names", train.feature_names)
        set_(self, "class_names", train.class_names)
        for name in ("mean", "scale"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, check_array(name, value, shape=(train.n_features,)))
        for name in ("train_indices", "test_indices"):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, np.asarray(value, dtype=np.int64))
        set_(self, "_parts", (train, test))

    @property
    def train(self):
        """The training part as a :class:`Dataset`."""
        return self._parts[0]

    @property
    def test(self):
        """The test part as a :class:`Dataset`."""
        return self._parts[1]

    @property
    def n_train(self):
        """Number of training rows."""
        return self.X_train.shape[0]

    @property
    def n_test(self):
        """Number of test rows."""
        return self.X_test.shape[0]

    @property
    def n_features(self):
        """Input dimension ``d``."""
        return self.X_train.shape[1]

    @property
    def n_outputs(self):
        """Output dimension ``e``."""
        return self.y_train.shape[1]

    @property
    def standardized(self):
        """Whether the inputs were standardized with the training statistics."""
        return self.mean is not None

    def __iter__(self):
        return iter((self.X_train, self.y_train, self.X_test, self.y_test))

    def __repr__(self):
        return (
            f"SplitDataset(n_train={self.n_train}, n_test={self.n_test}, "
            f"n_features={self.n_features}, n_outputs={self.n_outputs}, "
            f"standardized={self.standardized}, "
            f"description={_first_line(self.description)!r})"
        )


def _first_line(text):
    return text.strip().splitlines()[0] if text.strip() else ""


def _split_indices(y, test_size, seed, stratify):
    """Return ``(train_idx, test_idx)`` for a seeded, optionally stratified split."""
    n = y.shape[0]
    test_size = check_float(
        "test_size", test_size, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True
    )
    if not isinstance(stratify, (bool, np.bool_)):
        raise ValidationError(f"`stratify` must be a bool; got {type(stratify).__name__}.")
    rng = check_seed("seed", seed)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    if n_test < 1 or n_train < 1:
        raise ValidationError(
            f"`test_size` must leave at least one row in each part of the {n} rows; "
            f"got {test_size} ({n_train} train, {n_test} test)."
        )
    if not stratify:
        perm = rng.permutation(n)
        return perm[n_test:], perm[:n_test]

    _, labels, counts = np.unique(y, axis=0, return_inverse=True, return_counts=True)
    labels = labels.reshape(-1)
    if counts.min() < 2:
        raise ValidationError(
            "`stratify=True` needs at least 2 rows for every distinct target; got "
            f"{int(np.sum(counts < 2))} of {counts.size} distinct targets with a single row "
            "(use stratify=False for regression targets)."
        )
    ideal = counts * (n_test / n)
    per_class = np.floor(ideal).astype(np.int64)
    short = n_test - int(per_class.sum())
    if short > 0:
        # Largest remainder first; ties go to the earlier class (stable sort).
        order = np.argsort(-(ideal - per_class), kind="stable")
        per_class[order[:short]] += 1
    train_parts, test_parts = [], []
    for c in range(counts.size):
        members = rng.permutation(np.flatnonzero(labels == c))
        test_parts.append(members[: per_class[c]])
        train_parts.append(members[per_class[c]:])
    train_idx = rng.permutation(np.concatenate(train_parts))
    test_idx = rng.permutation(np.concatenate(test_parts))
    return train_idx, test_idx


# ---------------------------------------------------------------------------------------
# Freeman & Bruna: polynomial regression and the cyclic permutation task
# ---------------------------------------------------------------------------------------

#: Coefficients ``(c0, c1, c2, c3)`` of ``f(x) = c0 + c1 x + c2 x^2 + c3 x^3``.
_POLYNOMIALS = {
    "quadratic": (0.1, 0.25, 0.5),
    "cubic": (0.0, 3.0, -10.0, 8.0),
}
_POLYNOMIAL_TEXT = {
    "quadratic": "f(x) = 0.5 x^2 + 0.25 x + 0.1",
    "cubic": "f(x) = 8 x^3 - 10 x^2 + 3 x",
}


def polynomial_regression(kind="quadratic", n_samples=10000, *, sampling="uniform", seed=0,
                          noise=0.0):
    """Freeman & Bruna's 1-D polynomial regression tasks on ``x in [0, 1]``.

    Parameters
    ----------
    kind : {"quadratic", "cubic"}, default "quadratic"
        ``"quadratic"``: ``f(x) = 0.5 x^2 + 0.25 x + 0.1``;
        ``"cubic"``: ``f(x) = 8 x^3 - 10 x^2 + 3 x``.
    n_samples : int, default 10000
        Number of samples ``n >= 1`` (the authors' scripts draw 10000).
    sampling : {"uniform", "grid"}, default "uniform"
        ``"uniform"``: ``x`` drawn i.i.d. uniform on ``[0, 1)`` (the authors' scripts);
        ``"grid"``: ``n`` evenly spaced points from 0 to 1 inclusive (``x = 0`` when ``n = 1``),
        not random.
    seed : int, numpy.random.Generator or None, default 0
        Seed of the uniform draw and of the noise.
    noise : float, default 0.0
        Standard deviation ``>= 0`` of i.i.d. Gaussian noise added to ``y``.

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, 1)`` holding ``x`` and ``y`` of shape ``(n, 1)`` holding
        ``f(x) + noise``.

    Raises
    ------
    ValidationError
        Unknown ``kind`` or ``sampling``, ``n_samples < 1``, or negative ``noise``.

    See Also
    --------
    cyclic_permutation_task, topoanalysis.levelsets.dynamic_string_sampling

    Notes
    -----
    Freeman & Bruna, "Topology and geometry of half-rectified network optimization"
    (ICLR 2017), Section 5: regression of these two polynomials with a 1-4-4-1 sigmoid
    network under L1 loss, used to measure normalized geodesic lengths of level-set
    strings. Cost ``O(n)``.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: the quadratic and cubic regression tasks of Table 1
           (Section 4).

    Examples
    --------
    >>> from topoanalysis.datasets import polynomial_regression
    >>> data = polynomial_regression("cubic", n_samples=5, sampling="grid")
    >>> data.X.ravel().tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> data.y.ravel().tolist()
    [0.0, 0.25, 0.0, 0.0, 1.0]
    """
    kind = check_choice("kind", kind, tuple(_POLYNOMIALS))
    n = check_int("n_samples", n_samples, minimum=1)
    check_memory(8.0 * n * 6, f"a data set of {n} samples", param="n_samples")
    sampling = check_choice("sampling", sampling, ("uniform", "grid"))
    noise = check_float("noise", noise, minimum=0.0)
    rng = check_seed("seed", seed)
    if sampling == "uniform":
        x = rng.uniform(0.0, 1.0, size=n)
    else:
        x = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    y = np.polynomial.polynomial.polyval(x, _POLYNOMIALS[kind])
    if noise > 0.0:
        y = y + noise * rng.standard_normal(n)
    description = (
        f"Freeman & Bruna {kind} regression, {_POLYNOMIAL_TEXT[kind]}, x {sampling} on "
        f"[0, 1], n = {n}, Gaussian noise std {noise}."
    )
    return Dataset(x.reshape(-1, 1), y.reshape(-1, 1), ("x",), None, description)


def _triangle_points():
    angles = np.pi / 2.0 + 2.0 * np.pi * np.arange(3) / 3.0
    return np.column_stack((np.cos(angles), np.sin(angles)))


def cyclic_permutation_task(points="triangle", *, seed=0):
    """Freeman & Bruna's disconnection example: map points to a cyclic permutation of them.

    Input ``x_i``, target ``x_{sigma(i)}`` with the cyclic permutation
    ``sigma = (1 2 ... m)``, i.e. row ``i`` of ``y`` is row ``(i + 1) mod m`` of ``X``.

    Parameters
    ----------
    points : {"triangle", "random"} or array_like of shape (m, d), default "triangle"
        ``"triangle"``: the 3 vertices of an equilateral triangle inscribed in the unit
        circle, at angles 90, 210 and 330 degrees, i.e. ``(0, 1)``,
        ``(-sqrt(3)/2, -1/2)``, ``(sqrt(3)/2, -1/2)`` (so the task is a rotation by 120
        degrees); ``"random"``: 3 points drawn i.i.d. standard normal in R^2 from ``seed``;
        an array: any ``m >= 2`` distinct points.
    seed : int, numpy.random.Generator or None, default 0
        Used only with ``points="random"``.

    Returns
    -------
    Dataset
        ``X`` of shape ``(m, d)`` (``(3, 2)`` by default) and ``y`` of the same shape.

    Raises
    ------
    ValidationError
        Unknown ``points`` name, fewer than 2 points, or repeated points.

    See Also
    --------
    polynomial_regression, topoanalysis.levelsets.dynamic_string_sampling

    Notes
    -----
    Freeman & Bruna (ICLR 2017), Section 5: a 2-3-2 ReLU network (12 parameters) trained
    on this task; the string between a solution ``theta`` and ``theta`` with two hidden
    neurons permuted does not converge, exhibiting a disconnected level set.

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: the disconnection example (Appendix E.1).

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis.datasets import cyclic_permutation_task
    >>> data = cyclic_permutation_task()
    >>> data.X.shape, data.y.shape
    ((3, 2), (3, 2))
    >>> bool(np.array_equal(data.y, data.X[[1, 2, 0]]))
    True
    """
    rng = check_seed("seed", seed)        # checked even when unused (one rule for every seed)
    if isinstance(points, str):
        points = check_choice("points", points, ("triangle", "random"))
        if points == "triangle":
            X = _triangle_points()
            how = "vertices of an equilateral triangle on the unit circle"
        else:
            X = rng.standard_normal((3, 2))
            how = "3 standard normal points in R^2"
    else:
        X = check_array("points", points, ndim=2)
        if X.shape[0] < 2 or X.shape[1] < 1:
            raise ShapeError(
                f"`points` must have shape (m, d) with m >= 2 and d >= 1; got shape {X.shape}."
            )
        if np.unique(X, axis=0).shape[0] != X.shape[0]:
            raise ValidationError(
                "`points` must be distinct (a repeated point would need two targets); "
                f"got {X.shape[0] - np.unique(X, axis=0).shape[0]} repeated rows."
            )
        how = f"{X.shape[0]} given points in R^{X.shape[1]}"
    m, d = X.shape
    y = np.roll(X, -1, axis=0)
    description = (
        f"Freeman & Bruna cyclic permutation task: {how}; target of x_i is x_(i+1 mod {m})."
    )
    names = ("x1", "x2") if d == 2 else tuple(f"x{j + 1}" for j in range(d))
    return Dataset(X, y, names, None, description)


# ---------------------------------------------------------------------------------------
# Wu, Simsek & Ged: five-point regression
# ---------------------------------------------------------------------------------------

_WU_X = (-1.0, -0.6, -0.1, 0.3, 0.7)
_WU_Y = (0.28, -0.1, 0.03, 0.23, -0.22)


def wu_five_point_regression(with_bias_column=False):
    """The 5-point 1-D regression task of Wu, Simsek & Ged.

    ``x = (-1, -0.6, -0.1, 0.3, 0.7)``, ``y = (0.28, -0.1, 0.03, 0.23, -0.22)``.

    Parameters
    ----------
    with_bias_column : bool, default False
        If true, append a constant-1 column to ``X`` (shape ``(5, 2)``, columns
        ``("x", "1")``): their model has no explicit biases and augments the input instead.

    Returns
    -------
    Dataset
        ``X`` of shape ``(5, 1)`` (or ``(5, 2)``), ``y`` of shape ``(5, 1)``. Not random.

    See Also
    --------
    topoanalysis.critical.classify, topoanalysis.datasets.load_dataset

    Notes
    -----
    Wu, Simsek & Ged, experiment of their public code: width-50 ReLU network
    ``f(x) = sum_i h_i relu(w_i . (x, 1))`` trained by full-batch gradient descent on the
    squared loss from a tiny initialization (``sigma = 50^-3``, learning rate ``1e-3``,
    ``6e5`` steps), showing saddle-to-saddle dynamics.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626: the
           five-point 1-D regression of the saddle-to-saddle experiment.

    Examples
    --------
    >>> from topoanalysis.datasets import wu_five_point_regression
    >>> data = wu_five_point_regression(with_bias_column=True)
    >>> data.X[:, 1].tolist(), data.feature_names
    ([1.0, 1.0, 1.0, 1.0, 1.0], ('x', '1'))
    """
    if not isinstance(with_bias_column, (bool, np.bool_)):
        raise ValidationError(
            f"`with_bias_column` must be a bool; got {type(with_bias_column).__name__}."
        )
    x = np.array(_WU_X).reshape(-1, 1)
    y = np.array(_WU_Y).reshape(-1, 1)
    names = ("x",)
    if with_bias_column:
        x = np.hstack((x, np.ones_like(x)))
        names = ("x", "1")
    description = (
        "Wu, Simsek & Ged five-point 1-D regression: x = (-1, -0.6, -0.1, 0.3, 0.7), "
        "y = (0.28, -0.1, 0.03, 0.23, -0.22)"
        + ("; constant-1 bias column appended." if with_bias_column else ".")
    )
    return Dataset(x, y, names, None, description)


# Values of the authors' public code (github.com/ZhengqingUUU/relu_like_NN_loss_landscape,
# helpers.py: generate_3D_input_dataset and generate_2D_dataset), stored there as float32
# tensors; here as the decimal values they are written with (float64).
_WU3_X = ((-0.3, -0.75, -0.5), (-0.2, -0.2, 0.4), (-0.6, 1.0, -1.0), (-0.4, 0.4, 0.3),
          (0.6, -0.1, -0.7), (0.4, -0.9, 0.3), (0.2, 0.2, -0.5))
_WU3_Y = (-0.5, 0.1, -0.6, 0.3, 0.8, -0.3, -0.1)
_WU22_X = ((-0.3, 0.5), (1.0, 1.0), (-0.6, -1.0), (0.4, -0.4))
_WU22_Y = ((0.6, -0.5), (0.5, -1.0), (-0.4, 0.6), (0.8, 0.2))


def wu_three_d_regression():
    """The 7-point 3-D → 1 regression task of Wu, Simsek & Ged.

    Returns
    -------
    Dataset
        ``X`` of shape ``(7, 3)``, ``y`` of shape ``(7, 1)``. Not random.

    See Also
    --------
    wu_five_point_regression, wu_two_d_two_d_regression

    Notes
    -----
    Authors' setting (notebook ``02_3D_input_1D_output``): bias-free width-50 ReLU network,
    both layers initialized ``N(0, sigma^2)`` with ``sigma = 50^-6.5``, full-batch gradient
    descent on ``torch.nn.functional.mse_loss`` (mean over points), learning rate ``1e-3``,
    at most ``8e5`` steps, stopping at loss ``1e-5``, in float32.

    References
    ----------
    .. [1] Wu, Simsek & Ged, public code ``helpers.generate_3D_input_dataset``.

    Examples
    --------
    >>> from topoanalysis.datasets import wu_three_d_regression
    >>> data = wu_three_d_regression()
    >>> data.X.shape, data.y.shape
    ((7, 3), (7, 1))
    """
    X = np.array(_WU3_X, dtype=np.float64)
    y = np.array(_WU3_Y, dtype=np.float64).reshape(-1, 1)
    description = "Wu, Simsek & Ged seven-point 3-D -> 1 regression (authors' helpers.py)."
    return Dataset(X, y, ("x1", "x2", "x3"), None, description)


def wu_two_d_two_d_regression():
    """The 4-point 2-D → 2-D regression task of Wu, Simsek & Ged.

    Returns
    -------
    Dataset
        ``X`` of shape ``(4, 2)``, ``y`` of shape ``(4, 2)``. Not random.

    See Also
    --------
    wu_five_point_regression, wu_three_d_regression

    Notes
    -----
    Authors' setting (notebook ``03_2D_input_2D_output``): bias-free width-50 ReLU network,
    ``sigma = 50^-6.5``, full-batch gradient descent on ``mse_loss`` (mean over the 4 x 2
    entries), learning rate ``2e-3``, at most ``3e5`` steps, in float32.

    References
    ----------
    .. [1] Wu, Simsek & Ged, public code ``helpers.generate_2D_dataset``.

    Examples
    --------
    >>> from topoanalysis.datasets import wu_two_d_two_d_regression
    >>> wu_two_d_two_d_regression().y.shape
    (4, 2)
    """
    X = np.array(_WU22_X, dtype=np.float64)
    y = np.array(_WU22_Y, dtype=np.float64)
    description = "Wu, Simsek & Ged four-point 2-D -> 2-D regression (authors' helpers.py)."
    return Dataset(X, y, ("x1", "x2"), None, description)


# ---------------------------------------------------------------------------------------
# Toy 2-D classification
# ---------------------------------------------------------------------------------------

_TOY_KINDS = ("blobs", "xor", "circles", "moons")
_TOY_NOISE = {"blobs": 0.5, "xor": 0.3, "circles": 0.05, "moons": 0.1}


def toy_classification_2d(n_samples=200, kind="blobs", *, seed=0, noise=None):
    """Toy binary classification in the plane, labels 0/1.

    Parameters
    ----------
    n_samples : int, default 200
        Number of points, ``>= 2`` (``>= 4`` for ``"xor"``). Class 0 gets
        ``n - n // 2`` points, class 1 gets ``n // 2``.
    kind : {"blobs", "xor", "circles", "moons"}, default "blobs"
        ``"blobs"``: Gaussian clouds around ``(-1, -1)`` (class 0) and ``(1, 1)`` (class 1).
        ``"xor"``: Gaussian clouds around the four corners ``(+-1, +-1)``; class 1 where
        the two coordinates have the same sign (``x1 * x2 > 0``), class 0 elsewhere.
        ``"circles"``: concentric circles, radius 1 (class 0) and 0.5 (class 1), evenly
        spaced angles, plus Gaussian noise.
        ``"moons"``: two interleaving half circles, ``(cos t, sin t)`` (class 0) and
        ``(1 - cos t, 0.5 - sin t)`` (class 1), ``t`` evenly spaced in ``[0, pi]``, plus
        Gaussian noise.
    seed : int, numpy.random.Generator or None, default 0
        Seed of the noise and of the row order.
    noise : float or None, default None
        Standard deviation ``>= 0`` of the Gaussian perturbation of each point; ``None``
        uses the kind's default (blobs 0.5, xor 0.3, circles 0.05, moons 0.1).

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, 2)``, ``y`` of shape ``(n, 1)`` holding 0.0 / 1.0 (ready for
        binary cross-entropy with logits), rows in shuffled order,
        ``class_names = ("class 0", "class 1")``.

    Raises
    ------
    ValidationError
        Unknown ``kind``, too few samples, or negative ``noise``.

    See Also
    --------
    teacher_student, topoanalysis.datasets.load_dataset

    Examples
    --------
    >>> from topoanalysis.datasets import toy_classification_2d
    >>> data = toy_classification_2d(100, kind="moons", seed=3)
    >>> data.X.shape, int(data.y.sum())
    ((100, 2), 50)
    """
    kind = check_choice("kind", kind, _TOY_KINDS)
    n = check_int("n_samples", n_samples, minimum=4 if kind == "xor" else 2)
    check_memory(8.0 * n * 6, f"a data set of {n} samples", param="n_samples")
    noise = _TOY_NOISE[kind] if noise is None else check_float("noise", noise, minimum=0.0)
    rng = check_seed("seed", seed)
    n1 = n // 2
    n0 = n - n1
    if kind == "blobs":
        centres = np.vstack((np.tile([-1.0, -1.0], (n0, 1)), np.tile([1.0, 1.0], (n1, 1))))
    elif kind == "xor":
        corners0 = ([1.0, -1.0], [-1.0, 1.0])
        corners1 = ([1.0, 1.0], [-1.0, -1.0])
        centres = np.vstack(
            [np.tile(corners0[0], (n0 - n0 // 2, 1)), np.tile(corners0[1], (n0 // 2, 1)),
             np.tile(corners1[0], (n1 - n1 // 2, 1)), np.tile(corners1[1], (n1 // 2, 1))]
        )
    elif kind == "circles":
        t0 = np.linspace(0.0, 2.0 * np.pi, n0, endpoint=False)
        t1 = np.linspace(0.0, 2.0 * np.pi, n1, endpoint=False)
        centres = np.vstack(
            (np.column_stack((np.cos(t0), np.sin(t0))),
             0.5 * np.column_stack((np.cos(t1), np.sin(t1))))
        )
    else:  # moons
        t0 = np.linspace(0.0, np.pi, n0)
        t1 = np.linspace(0.0, np.pi, n1)
        centres = np.vstack(
            (np.column_stack((np.cos(t0), np.sin(t0))),
             np.column_stack((1.0 - np.cos(t1), 0.5 - np.sin(t1))))
        )
    labels = np.concatenate((np.zeros(n0), np.ones(n1)))
    X = centres + noise * rng.standard_normal((n, 2)) if noise > 0.0 else centres
    order = rng.permutation(n)
    description = f"Toy 2-D binary classification '{kind}', n = {n}, noise std {noise}."
    return Dataset(X[order], labels[order].reshape(-1, 1), ("x1", "x2"),
                   ("class 0", "class 1"), description)


# ---------------------------------------------------------------------------------------
# Teacher-student regression
# ---------------------------------------------------------------------------------------


def teacher_student(n_samples=100, n_features=2, n_hidden=4, n_outputs=1, *, seed=0,
                    noise=0.0, bias=True, return_teacher=False):
    """Regression data labelled by a random one-hidden-layer ReLU teacher network.

    ``X`` is drawn i.i.d. standard normal and ``y = W2 relu(W1 x + b1) + b2 + noise``.

    Parameters
    ----------
    n_samples, n_features, n_hidden, n_outputs : int, default 100, 2, 4, 1
        ``n``, input dimension ``d``, teacher width ``l`` and output dimension ``e``, each
        ``>= 1``.
    seed : int, numpy.random.Generator or None, default 0
        Seed of the teacher, the inputs and the noise (drawn in that order).
    noise : float, default 0.0
        Standard deviation ``>= 0`` of Gaussian noise added to ``y``.
    bias : bool, default True
        Whether the teacher has biases ``b1``, ``b2``.
    return_teacher : bool, default False
        If true, also return the teacher as ``(weights, biases)``, lists of one entry per
        layer: ``weights = [W1 (l, d), W2 (e, l)]`` (the ``torch.nn.Linear`` layout) and
        ``biases = [b1 (l,), b2 (e,)]`` or ``[None, None]`` without bias -- the arguments
        of ``Network.from_weights``.

    Returns
    -------
    Dataset or (Dataset, (list of ndarray, list of ndarray or None))
        ``X`` of shape ``(n, d)``, ``y`` of shape ``(n, e)``.

    See Also
    --------
    toy_classification_2d, topoanalysis.datasets.load_dataset

    Notes
    -----
    Every teacher weight and bias is drawn i.i.d. ``N(0, 1 / fan_in)`` (LeCun normal),
    ``fan_in = d`` for the hidden layer and ``l`` for the output layer. Cost ``O(n d l)``.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis.datasets import teacher_student
    >>> data, (weights, biases) = teacher_student(50, 3, 5, seed=1, return_teacher=True)
    >>> data.X.shape, data.y.shape, [w.shape for w in weights]
    ((50, 3), (50, 1), [(5, 3), (1, 5)])
    >>> W1, W2 = weights
    >>> b1, b2 = biases
    >>> bool(np.allclose(data.y, np.maximum(data.X @ W1.T + b1, 0) @ W2.T + b2))
    True
    """
    n = check_int("n_samples", n_samples, minimum=1)
    d = check_int("n_features", n_features, minimum=1)
    l = check_int("n_hidden", n_hidden, minimum=1)  # noqa: E741 - the papers' name
    e = check_int("n_outputs", n_outputs, minimum=1)
    check_memory(8.0 * (n * (d + l + e) + l * (d + e + 2)),
                 f"a teacher-student task of {n} samples × {d} features", param="n_samples")
    noise = check_float("noise", noise, minimum=0.0)
    for name, value in (("bias", bias), ("return_teacher", return_teacher)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValidationError(f"`{name}` must be a bool; got {type(value).__name__}.")
    rng = check_seed("seed", seed)
    W1 = rng.standard_normal((l, d)) / math.sqrt(d)
    W2 = rng.standard_normal((e, l)) / math.sqrt(l)
    if bias:
        b1 = rng.standard_normal(l) / math.sqrt(d)
        b2 = rng.standard_normal(e) / math.sqrt(l)
    else:
        b1 = b2 = None
    X = rng.standard_normal((n, d))
    hidden = X @ W1.T
    if b1 is not None:
        hidden += b1
    y = np.maximum(hidden, 0.0) @ W2.T
    if b2 is not None:
        y += b2
    if noise > 0.0:
        y = y + noise * rng.standard_normal((n, e))
    description = (
        f"Teacher-student regression: {d}-{l}-{e} ReLU teacher "
        f"({'with' if bias else 'without'} biases, LeCun normal), standard normal inputs, "
        f"n = {n}, Gaussian noise std {noise}."
    )
    data = Dataset(X, y, None, None, description)
    if return_teacher:
        return data, ([W1, W2], [b1, b2])
    return data
