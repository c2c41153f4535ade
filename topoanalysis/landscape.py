"""The loss landscape ``L(θ)`` of one architecture, data set and loss, prepared once.

Every paper studies one object: the loss of a fixed architecture on a fixed data set. A
:class:`Landscape` holds the four pieces together, validated and laid out in the engine's
sample blocks once, and offers what the layers need — the loss and gradient of one network
or a ``(B, P)`` stack, training, and the loss along segments and strings of beads. Passing a
landscape instead of ``X, y, arch, loss`` saves the re-validation and re-blocking of the data
at every engine call (Dynamic String Sampling makes dozens of them; its penalized variants one
per Adam step).

Functions that accept a landscape in place of their data arguments:
:func:`topoanalysis.levelsets.dynamic_string_sampling` (``X=landscape``),
:func:`topoanalysis.critical.classify` (``X=landscape``) and the slices of
:mod:`topoanalysis.levelsets.slices`.
"""

import numpy as np

from . import losses as _losses
from ._validation import check_choice, normalize_name
from .exceptions import ValidationError
from .network import Architecture, Network

__all__ = ["Landscape", "as_landscape"]

#: Precisions a landscape can be evaluated in.
DTYPES = ("float64", "float32")


def _takes_dtype(func):
    import inspect

    try:
        return "dtype" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


class Landscape:
    """``L(θ)`` for one architecture, data set and loss, validated and blocked once.

    Parameters
    ----------
    arch : Architecture
        The network architecture (all parameter vectors are of its flat layout).
    X : array_like of shape (N, d)
        Inputs.
    y : array_like of shape (N, e)
        Targets in the form of :func:`topoanalysis.losses.as_targets` (``(N,)`` accepted for
        ``e = 1`` and for integer class labels with ``"cross_entropy"``).
    loss : {"mse", "l1", "bce", "cross_entropy"}, default="mse"
        Conventions of :mod:`topoanalysis.losses`.
    dtype : {"float64", "float32"}, default="float64"
        Precision of evaluation, training and paths. ``"float32"`` runs the engine's float32
        kernels, which cover one hidden layer, a vectorized activation (not tanh), one output
        and an elementwise loss; other networks raise NotSupportedError here, not a silent
        float64 evaluation later.
    n_threads : int, optional
        Default OpenMP threads of every call (results never depend on it).

    Attributes
    ----------
    arch : Architecture
    loss_name : str
    dtype : str
    X : ndarray of shape (N, d)
        Read-only validated inputs.
    Y : ndarray of shape (N, e)
        Read-only targets in loss form.

    Raises
    ------
    ValidationError
        For a bad architecture, data, loss or dtype; the message names the parameter.
    NotSupportedError
        For ``dtype="float32"`` with a network the float32 kernels do not cover.

    See Also
    --------
    topoanalysis.dynamics.train, topoanalysis.dynamics.interpolate,
    topoanalysis.dynamics.batch_loss_and_gradient

    Notes
    -----
    The DESIGN's "one landscape object": every method is the corresponding
    :mod:`topoanalysis.dynamics` function with ``X, y, arch, loss`` fixed, and gives the same
    numbers bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Architecture, Landscape, Network
    >>> arch = Architecture(2, (4,), 1)
    >>> X = np.random.default_rng(0).standard_normal((30, 2)); y = X[:, :1] * X[:, 1:]
    >>> land = Landscape(arch, X, y, "mse")
    >>> net = Network.initialize(arch, seed=0)
    >>> bool(np.isclose(land.loss(net), net.loss(X, y)))
    True
    >>> res = land.train(net, optimizer="adam", lr=1e-2, steps=200, progress=False)
    >>> bool(res.final_loss[0] < land.loss(net))
    True
    """

    def __init__(self, arch, X, y, loss="mse", dtype="float64", *, n_threads=None):
        from .dynamics import _engine

        if not isinstance(arch, Architecture):
            raise ValidationError(f"`arch` must be an Architecture; got {type(arch).__name__}.")
        loss = _losses.check_loss(loss)
        _losses.check_outputs_for_loss(loss, arch.outputs)
        self.dtype = check_choice("dtype", dtype, DTYPES)
        # a float32 landscape evaluates in float32 or not at all (never silently in float64)
        _engine.check_dtype(self.dtype, arch, loss)
        self.arch = arch
        self.loss_name = loss
        self.n_threads = None if n_threads is None else _engine.resolve_threads(n_threads)
        data = _engine.prepare_data(arch, X, y, loss)
        if self.dtype == "float32":   # refused here, not rounded to inf at the first call
            _engine.check_float32_range("X", data.X)
            _engine.check_float32_range("y", data.Y)
        # own copies (the validated arrays may be the caller's), then frozen: a landscape
        # never changes under its users, and never freezes the caller's arrays
        import dataclasses

        self._data = dataclasses.replace(data, X=data.X.copy(), Y=data.Y.copy())
        for a in (self._data.X, self._data.Y, self._data.Xb, self._data.Yb, self._data.Xp):
            a.flags.writeable = False

    # --- what it is -------------------------------------------------------------------------
    @property
    def X(self):
        """The inputs, shape ``(N, d)``, float64, read-only."""
        return self._data.X

    @property
    def Y(self):
        """The targets as the engine uses them, shape ``(N, e)``, read-only."""
        return self._data.Y

    @property
    def n_samples(self):
        """Number ``N`` of samples."""
        return self._data.n_samples

    @property
    def n_params(self):
        """Number ``P`` of parameters of the architecture."""
        return self.arch.n_params

    def __repr__(self):
        return (f"Landscape({self.arch}, N={self.n_samples}, loss={self.loss_name!r}, "
                f"dtype={self.dtype!r})")

    def __reduce__(self):  # pickles (e.g. to Dask workers) as its inputs; re-blocked there
        return (_rebuild, (self.arch, self.X.copy(), self.Y.copy(), self.loss_name, self.dtype,
                           self.n_threads))

    def to_dict(self):
        """Architecture, data size, loss and precision as plain JSON types.

        Returns
        -------
        dict
            Plain JSON types.
        """
        return {"architecture": self.arch.to_dict(), "n_samples": self.n_samples,
                "n_params": self.n_params, "loss": self.loss_name, "dtype": self.dtype}

    def summary(self):
        """One line: architecture, samples, loss, precision.

        Returns
        -------
        str
            The report.
        """
        return (f"loss landscape of {self.arch} ({self.n_params} parameters) on "
                f"{self.n_samples} samples, loss {self.loss_name}, {self.dtype}")

    # --- the arguments every engine call receives -----------------------------------------
    def _xy(self, func, blocks=True):
        """``(X, y, extra kwargs)`` for ``func``: the prepared blocks in the landscape's dtype
        (``blocks=False``: the float64 arrays, for the flow, which blocks its float32 copy
        itself)."""
        if self.dtype == "float64":
            return self._data, None, {}
        if not _takes_dtype(func):
            from .exceptions import NotSupportedError

            raise NotSupportedError(
                f"`dtype` 'float32' needs the engine's float32 kernels, which "
                f"{func.__module__}.{func.__name__} does not offer in this build; use "
                f"dtype='float64'.")
        if blocks:   # the float32 blocks made once, as the float64 ones (same bits as X, y)
            return self._engine_data(), None, {"dtype": self.dtype}
        return self.X, self.Y, {"dtype": self.dtype}

    def _f32(self):
        """Whether evaluations run the float32 kernels (a float32 landscape; the constructor
        refuses float32 for networks the float32 kernels do not cover)."""
        from .dynamics import _engine

        return self.dtype == "float32" and _engine.float32_supported(self.arch, self.loss_name)

    def _engine_data(self):
        """The prepared data in the landscape's dtype (float32 blocks made once, on first use)."""
        if not self._f32():
            return self._data
        d32 = self.__dict__.get("_data32")
        if d32 is None:
            from .dynamics import _engine

            d32 = _engine.block_data(self._data.X, self._data.Y, "float32")
            self.__dict__["_data32"] = d32
        return d32

    def _threads(self, n_threads):
        return self.n_threads if n_threads is None else n_threads

    def _check_arch(self, theta, name):
        nets = [theta] if isinstance(theta, Network) else (
            list(theta) if isinstance(theta, (list, tuple)) and theta
            and all(isinstance(n, Network) for n in theta) else [])
        for n in nets:
            if n.arch != self.arch:
                raise ValidationError(
                    f"`{name}` must be networks of the landscape's architecture ({self.arch}); "
                    f"got {n.arch}.")

    @staticmethod
    def _single(theta):
        return isinstance(theta, Network) or (
            not isinstance(theta, (list, tuple)) and np.ndim(theta) == 1)

    # --- evaluation -------------------------------------------------------------------------
    def loss_and_gradient(self, theta, *, n_threads=None):
        """Loss and flat gradient at ``theta`` (compiled engine).

        Parameters
        ----------
        theta : Network, sequence of Network, or array_like of shape (P,) or (B, P)
            One network or a stack.
        n_threads : int, optional
            Engine threads (default: the landscape's).

        Returns
        -------
        loss : float or ndarray of shape (B,)
            A float for one network (a ``Network`` or a ``(P,)`` vector).
        grad : ndarray of shape (P,) or (B, P)
            Gradient with respect to the flat parameters; float32 on a float32 landscape (the float32 kernels, as in its training).

        See Also
        --------
        topoanalysis.dynamics.batch_loss_and_gradient
        """
        from .dynamics import batch_loss_and_gradient

        self._check_arch(theta, "theta")
        L, G = batch_loss_and_gradient(theta, self._engine_data(), None, arch=self.arch,
                                       loss=self.loss_name, n_threads=self._threads(n_threads),
                                       dtype="float32" if self._f32() else "float64")
        if self._single(theta):
            return float(L[0]), G[0]
        return L, G

    def loss(self, theta, *, n_threads=None):
        """Loss at ``theta``: a float for one network, shape ``(B,)`` for a stack.

        Stacks of any size are evaluated in bounded engine calls, parallel over networks
        (a 101 × 101 grid of a slice is one call of this method).

        Parameters
        ----------
        theta : Network, sequence of Network, or array_like of shape (P,) or (B, P)
            One network or a stack.
        n_threads : int, optional
            Engine threads (default: the landscape's).

        Returns
        -------
        float or ndarray of shape (B,)
            The loss.
        """
        from .dynamics import _engine

        self._check_arch(theta, "theta")
        if self._f32():
            _, L, _, _, _ = _engine._evaluate_f32(
                theta, self._engine_data(), None, self.arch, self.loss_name,
                self._threads(n_threads), want_grad=False, on_diverged="warn")
            return float(L[0]) if self._single(theta) else L
        _, L, _, _, _, bad = _engine._evaluate(
            theta, self._data, None, self.arch, self.loss_name, self._threads(n_threads),
            want_loss=True, want_grad=False, want_acc=False, want_out=False)
        _engine.warn_diverged(int(bad.sum()), bad.size, "networks", _engine.NONFINITE)
        return float(L[0]) if self._single(theta) else L

    def gradient(self, theta, *, n_threads=None):
        """Flat gradient ``∇L(θ)``: shape ``(P,)`` for one network, ``(B, P)`` for a stack.

        Parameters
        ----------
        theta : Network, sequence of Network, or array_like of shape (P,) or (B, P)
            One network or a stack.
        n_threads : int, optional
            Engine threads (default: the landscape's).

        Returns
        -------
        ndarray of shape (P,) or (B, P)
            The flat gradient.
        """
        return self.loss_and_gradient(theta, n_threads=n_threads)[1]

    def forward(self, theta, *, n_threads=None):
        """Outputs on the landscape's inputs, shape ``(B, N, e)``, in float64 whatever the
        landscape's ``dtype`` (the engine's float32 kernels have no forward pass).

        Parameters
        ----------
        theta : Network, sequence of Network, or array_like of shape (P,) or (B, P)
            One network or a stack.
        n_threads : int, optional
            Engine threads (default: the landscape's).

        Returns
        -------
        ndarray of shape (B, N, e)
            Outputs of every network.
        """
        from .dynamics import batch_forward

        self._check_arch(theta, "theta")
        return batch_forward(theta, self.X, arch=self.arch, n_threads=self._threads(n_threads))

    # --- dynamics and paths -----------------------------------------------------------------
    def train(self, theta0, **kwargs):
        """:func:`topoanalysis.dynamics.train` on this landscape.

        Parameters
        ----------
        theta0 : Network, sequence of Network, or array_like of shape (P,) or (B, P)
            Initial network(s).
        **kwargs
            Every keyword of :func:`~topoanalysis.dynamics.train` but ``X, y, arch, loss``.

        Returns
        -------
        TrainResult or FlowResult
            The result of :func:`~topoanalysis.dynamics.train` on this landscape's data and
            loss (a ``FlowResult`` for ``optimizer="flow"``).
        """
        from .dynamics import train

        self._no_data_kwargs(kwargs)
        self._check_arch(theta0, "theta0")
        opt = kwargs.get("optimizer")
        flow = isinstance(opt, str) and normalize_name(opt) == "flow"
        X, y, extra = self._xy(train, blocks=not flow)
        kwargs.setdefault("n_threads", self.n_threads)
        return train(theta0, X, y, arch=self.arch, loss=self.loss_name, **extra, **kwargs)

    def interpolate(self, theta_a, theta_b, **kwargs):
        """:func:`topoanalysis.dynamics.interpolate` on this landscape (``n_points``, ``ts``,
        ``n_threads``): loss along the segments from ``theta_a`` to ``theta_b``.

        Parameters
        ----------
        theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
            The ends of the segments.
        **kwargs
            Every keyword of :func:`~topoanalysis.dynamics.interpolate` but ``X, y, arch, loss``.

        Returns
        -------
        InterpolationResult
            Loss along every segment.
        """
        from .dynamics import interpolate

        return self._path(interpolate, kwargs, theta_a, theta_b)

    def interpolation_barrier(self, theta_a, theta_b, **kwargs):
        """:func:`topoanalysis.dynamics.interpolation_barrier` on this landscape.

        Parameters
        ----------
        theta_a, theta_b : Network, sequence of Network, or array_like of shape (P,) or (M, P)
            The ends of the segments.
        **kwargs
            Every keyword of :func:`~topoanalysis.dynamics.interpolation_barrier` but ``X, y, arch,
            loss``.

        Returns
        -------
        InterpolationBarrier
            The barriers of every pair.
        """
        from .dynamics import interpolation_barrier

        return self._path(interpolation_barrier, kwargs, theta_a, theta_b)

    def segment_loss_bounds(self, theta_a, theta_b, **kwargs):
        """:func:`topoanalysis.levelsets.segment_loss_bounds` on this landscape: the loss on the
        grid of one segment and a proven upper bound between its points (``n_points``, ``ts``,
        ``level``, ``max_points``, ``method``).

        Parameters
        ----------
        theta_a, theta_b : Network or array_like of shape (P,)
            The two ends.
        **kwargs
            Every keyword of :func:`~topoanalysis.levelsets.segment_loss_bounds` but
            ``arch, loss``.

        Returns
        -------
        SegmentBounds
            The grid, the losses on it and the bound of each grid interval.
        """
        from .levelsets.bounds import segment_loss_bounds

        self._no_data_kwargs(kwargs)
        self._check_arch(theta_a, "theta_a")
        self._check_arch(theta_b, "theta_b")
        return segment_loss_bounds(theta_a, theta_b, self.X, self.Y, arch=self.arch,
                                   loss=self.loss_name, **kwargs)

    def path_losses(self, beads, **kwargs):
        """:func:`topoanalysis.dynamics.path_losses` on this landscape: loss along strings of
        beads (``points_per_edge``, ``ts``, ``n_threads``).

        Parameters
        ----------
        beads : array_like of shape (K, P) or (M, K, P)
            One or several strings of beads.
        **kwargs
            Every keyword of :func:`~topoanalysis.dynamics.path_losses` but ``X, y, arch, loss``.

        Returns
        -------
        PathLosses
            Loss along every edge of every string.
        """
        from .dynamics import path_losses

        return self._path(path_losses, kwargs, beads)

    def _path(self, func, kwargs, *thetas):
        self._no_data_kwargs(kwargs)
        for i, t in enumerate(thetas):
            self._check_arch(t, ("theta_a", "theta_b")[i] if len(thetas) == 2 else "beads")
        X, y, extra = self._xy(func)
        kwargs.setdefault("n_threads", self.n_threads)
        return func(*thetas, X, y, arch=self.arch, loss=self.loss_name, **extra, **kwargs)

    @staticmethod
    def _no_data_kwargs(kwargs):
        for k in ("X", "y", "arch", "loss", "dtype"):
            if k in kwargs:
                raise ValidationError(f"`{k}` is fixed by the landscape; got {k}= as well.")


def _rebuild(arch, X, Y, loss, dtype, n_threads):
    return Landscape(arch, X, Y, loss, dtype, n_threads=n_threads)


def as_landscape(X, y=None, arch=None, loss=None, *, dtype="float64"):
    """The landscape of the arguments a function received: ``X`` itself when it is a
    :class:`Landscape` (then ``y`` must be None, ``arch`` and ``loss`` None or equal to the
    landscape's), else ``Landscape(arch, X, y, loss or "mse", dtype)``.

    This is the one place where the loose signatures ``(X, y, arch, loss)`` of the paper-level
    functions meet the landscape.

    Parameters
    ----------
    X : Landscape or array_like of shape (N, d)
        Inputs, or a landscape (returned as it is).
    y : array_like of shape (N, e), optional
        Targets.
    arch : Architecture, optional
        Architecture.
    loss : str, optional
        Loss name.
    dtype : str, default="float64"
        Precision of the engine.

    Returns
    -------
    Landscape
        ``X`` itself when it is a landscape, else a new one of these data, architecture and
        loss (``"mse"`` when None).
    """
    if isinstance(X, Landscape):
        if y is not None:
            raise ValidationError("`y` must be None when `X` is a Landscape (it holds the "
                                  "targets); got an array.")
        if arch is not None and arch != X.arch:
            raise ValidationError(f"`arch` must be None or the landscape's ({X.arch}); got {arch}.")
        if loss is not None and _losses.check_loss(loss) != X.loss_name:
            raise ValidationError(f"`loss` must be None or the landscape's ({X.loss_name!r}); "
                                  f"got {loss!r}.")
        return X
    if y is None:
        raise ValidationError("`y` must be given with the data `X` (or pass a Landscape as `X`); "
                              "got None.")
    if arch is None:
        raise ValidationError("`arch` must be given with the data `X` (or pass a Landscape as "
                              "`X`); got None.")
    return Landscape(arch, X, y, "mse" if loss is None else loss, dtype)
