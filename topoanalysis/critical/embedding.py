"""Network embedding: a narrower network inside a wider one, and what it does to stationarity.

Two embeddings keep the realized function (Wu, Simsek & Ged, section 5):

* **neuron splitting** — neuron ``k`` is replaced by ``m`` copies with the same input weights
  ``w_k`` and output weights ``λ_j a_k``, ``Σ_j λ_j = 1`` (``λ_j`` of either sign);
* **adding zero neurons** — new neurons with ``a = 0`` and free input weights.

Whether the embedded point stays stationary or a local minimum is decided by the classifier
(:func:`~topoanalysis.critical.verdict.classify`). The mechanism, from the one-sided
conditions: copy ``j`` has tangential derivative ``λ_j a_k · F_k(u)``; where the narrow point
has a kink with a strictly positive one-sided derivative (``a_k · F_k(u) > 0`` for some
``u``), a negative ``λ_j`` makes it negative — the split point is no longer stationary, so
no longer a local minimum — and ``λ_j = 0`` leaves a zero-output copy with ``F_k ≢ 0``: an
escape neuron, a saddle.
"""

import dataclasses

import numpy as np

from .._validation import check_array, check_int
from ..exceptions import ValidationError
from ..network import Architecture
from ._point import (MAX_COUNT, check_bool, check_network, check_tol, shallow_point,
                     to_network, unpack)
from .verdict import _classify

__all__ = ["split_neuron", "add_zero_neurons", "EmbeddingFamily", "embedding_family"]


def _wider(net, w, a, b):
    arch = net.arch
    wide = Architecture(arch.inputs, (w.shape[0],), arch.outputs, hidden_bias=arch.hidden_bias,
                        output_bias=arch.output_bias, activation=arch.activation,
                        negative_slope=arch.negative_slope)
    return to_network(wide, w, a, b)


def split_neuron(net, neuron, lambdas):
    """Split neuron ``neuron`` into ``len(lambdas)`` copies with output weights ``λ_j a_k``.

    The first copy takes the neuron's place, the others are appended at the end.

    Parameters
    ----------
    net : Network
        Shallow.
    neuron : int
        The neuron to split.
    lambdas : sequence of float
        At least 2 factors summing to 1 (either sign).

    Returns
    -------
    Network
        Width ``l + len(lambdas) − 1``, the same function.

    See Also
    --------
    add_zero_neurons, embedding_family

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           network embedding by neuron splitting, output weights λ_j a_k with Σ λ_j = 1.

    Examples
    --------
    >>> import numpy as np
    >>> from topoanalysis import Network
    >>> net = Network.from_weights([np.array([[1.0], [-1.0]]), np.array([[2.0, 1.0]])])
    >>> wide = split_neuron(net, 0, [1.5, -0.5])
    >>> wide.arch.hidden, bool(np.allclose(wide.forward([[0.3], [-2.0]]), net.forward([[0.3], [-2.0]])))
    ((3,), True)
    """
    check_network("net", net)
    shallow_point(net, np.zeros((1, net.arch.inputs)), np.zeros((1, net.arch.outputs)))
    l = net.arch.hidden[0]
    neuron = check_int("neuron", neuron, minimum=0, maximum=l - 1)
    lam = check_array("lambdas", lambdas, ndim=1)
    if lam.size < 2 or abs(lam.sum() - 1.0) > 1e-12:
        raise ValidationError(f"`lambdas` must hold at least 2 factors summing to 1; got "
                              f"{lam.tolist()} (sum {lam.sum():.6g}).")
    w, a, b = unpack(net.arch, net.params)
    w2 = np.concatenate([w, np.repeat(w[neuron:neuron + 1], lam.size - 1, axis=0)])
    parts = _exact_parts(a[neuron], lam)
    a2 = np.concatenate([a, parts[1:]])
    a2[neuron] = parts[0]
    return _wider(net, w2, a2, b)


def _exact_parts(ak, lam):
    """Output weights ``≈ λ_j a_k`` (rows) whose sum is ``a_k`` exactly whenever floats allow.

    The copies share ``w_k``, so the realized function depends only on the sum of their output
    weights: when it is ``a_k`` exactly the wide network computes the narrow one's outputs bit
    for bit and a stationary point stays exactly stationary. Per output coordinate ``A``: every
    copy but the one with the largest ``|λ_j|`` takes ``fl(λ_j A)`` and that one the remainder
    ``A − Σ`` when it is a float; otherwise the others are rounded to multiples of ``ulp(A)``
    (a nonzero one keeps its sign: at least ``± ulp(A)``), which makes the remainder a float
    whenever every ``|λ_j| <= 1`` — the sign of each ``λ_j``, all the verdict depends on, is
    kept. When neither works (``|λ_j| > 1`` with a remainder beyond 53 bits) the plain
    products ``fl(λ_j A)`` are used and the function changes by their rounding.
    """
    import math
    from fractions import Fraction

    m = lam.size
    out = lam[:, None] * ak[None, :]
    big = int(np.argmax(np.abs(lam)))
    others = [j for j in range(m) if j != big]
    for i, A in enumerate(ak.tolist()):
        if A == 0 or not np.all(np.isfinite(out[:, i])):
            continue
        col = out[:, i].copy()
        for attempt in range(2):
            if attempt == 1:                       # round the others to multiples of ulp(A)
                g = Fraction(math.ulp(A))
                for j in others:
                    t = Fraction(float(lam[j])) * Fraction(A)
                    q = round(t / g) * g
                    if q == 0 and t != 0:
                        q = g if t > 0 else -g
                    col[j] = float(q)
                    if Fraction(col[j]) != q:      # not a float: give up on this coordinate
                        col = None
                        break
                if col is None:
                    break
            rest = Fraction(A) - sum((Fraction(col[j]) for j in others), Fraction(0))
            try:
                top = float(rest)
            except OverflowError:
                break
            if Fraction(top) == rest:
                col[big] = top
                out[:, i] = col
                break
    return out


def add_zero_neurons(net, count=1, input_weights=None):
    """Append ``count`` neurons with zero output weights (the same function).

    Parameters
    ----------
    net : Network
        A shallow network.
    count : int, default=1
        Number of neurons to add.
    input_weights : array_like of shape (count, D), optional
        Their input weights (bias appended when the network has hidden biases); zeros by
        default.

    Returns
    -------
    Network
        The wider network: ``net`` with ``count`` neurons of zero output weights appended
        (the same function).

    See Also
    --------
    split_neuron, embedding_family

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           network embedding by adding zero neurons.
    """
    check_network("net", net)
    shallow_point(net, np.zeros((1, net.arch.inputs)), np.zeros((1, net.arch.outputs)))
    count = check_int("count", count, minimum=1, maximum=MAX_COUNT)
    w, a, b = unpack(net.arch, net.params)
    D = w.shape[1]
    if input_weights is None:
        new = np.zeros((count, D))
    else:
        new = check_array("input_weights", input_weights, shape=(count, D))
    return _wider(net, np.concatenate([w, new]), np.concatenate([a, np.zeros((count, a.shape[1]))]),
                  b)


def _check_splits(splits, l):
    """``[(neuron, lambdas), ...]``: each neuron an index, each lambdas >= 2 factors summing to 1."""
    if isinstance(splits, (str, bytes)) or not hasattr(splits, "__iter__"):
        raise ValidationError(f"`splits` must be a sequence of (neuron, lambdas) pairs; got "
                              f"{splits!r:.60}.")
    out = []
    for item in splits:
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
            raise ValidationError(f"`splits` must hold (neuron, lambdas) pairs; got "
                                  f"{item!r:.60}.")
        k = check_int("splits neuron", item[0], minimum=0, maximum=l - 1)
        lam = check_array("splits lambdas", item[1], ndim=1)
        if lam.size < 2 or abs(lam.sum() - 1.0) > 1e-12:
            raise ValidationError(f"`splits` lambdas must hold at least 2 factors summing to 1; "
                                  f"got {lam.tolist()}.")
        out.append((k, lam))
    if len(out) > MAX_EMBEDDINGS:
        raise ValidationError(f"`splits` may hold at most {MAX_EMBEDDINGS} splits; got "
                              f"{len(out)}.")
    return out


def _check_zero_neurons(zero_neurons, D):
    """A sequence of input-weight vectors of length ``D``."""
    if isinstance(zero_neurons, (str, bytes)) or not hasattr(zero_neurons, "__iter__"):
        raise ValidationError(f"`zero_neurons` must be a sequence of input-weight vectors; got "
                              f"{zero_neurons!r:.60}.")
    out = [check_array("zero_neurons", u, shape=(D,)) for u in zero_neurons]
    if len(out) > MAX_EMBEDDINGS:
        raise ValidationError(f"`zero_neurons` may hold at most {MAX_EMBEDDINGS} vectors; got "
                              f"{len(out)}.")
    return out


#: Most embeddings :func:`embedding_family` classifies in one call.
MAX_EMBEDDINGS = 10_000


@dataclasses.dataclass(frozen=True, eq=False)
class EmbeddingFamily:
    """Verdicts of a narrow point and of its embeddings.

    Attributes
    ----------
    graph : networkx.DiGraph
        Node ``"narrow"`` and one node per embedding (attributes ``kind``, ``width``,
        ``verdict``, ``reason``, ``loss``, ``function_change``, and ``lambdas`` or
        ``input_weights``); edges ``narrow -> embedding`` with ``kind`` and ``effect``
        (``"keeps"`` when the verdict is unchanged, else ``"narrow verdict -> new verdict"``).
    rows : list of dict
        The same as a table.
    """

    graph: object
    rows: list

    def to_dict(self):
        """The result as plain JSON types.

        Returns
        -------
        dict
            Its fields, arrays as lists (ready for :func:`topoanalysis.io.write_json`).
        """
        return {"rows": self.rows}

    def summary(self):
        """Human-readable report of the result.

        Returns
        -------
        str
            The report (one or more lines).
        """
        lines = [f"{'embedding':34s} {'width':>5} {'verdict':>15}  function change"]
        for r in self.rows:
            lines.append(f"{r['name']:34s} {r['width']:>5} {r['verdict']:>15}  "
                         f"{r['function_change']:.1e}")
        return "\n".join(lines)


def embedding_family(net, X, y, *, splits=None, zero_neurons=None, loss="mse", kink_tol=1e-9,
                     tol=1e-8, check=False, seed=0):
    """Classify a narrow point and a family of its embeddings; return them as a graph.

    Parameters
    ----------
    net : Network
        The narrow point (usually a stationary point).
    X, y : array_like
        Inputs and targets.
    splits : sequence of (neuron, lambdas), optional
        Default: every neuron with ``a_k != 0`` split with ``λ = (1/2, 1/2)``, ``(2, −1)``
        and ``(1, 0)``.
    zero_neurons : sequence of array_like of shape (D,), optional
        Input weights of single zero neurons to add (default: ``w = 0``).
    loss : {"mse", "bce"}, default="mse"
        Loss.
    kink_tol : float, default=1e-9
        Relative tolerance for samples on hyperplanes (:func:`~topoanalysis.critical.classify`).
    tol : float, default=1e-8
        Tolerance of the stationarity conditions (:func:`~topoanalysis.critical.classify`).
    check : bool, default=False
        Run the numerical checks of each verdict.
    seed : int, default=0
        Seed of the random perturbations of the checks.

    Returns
    -------
    EmbeddingFamily
        The narrow point's verdict and each embedding's, as a graph (edges say whether the
        embedding keeps the verdict) and as a table.

    See Also
    --------
    topoanalysis.critical.split_neuron : One splitting embedding.
    topoanalysis.critical.add_zero_neurons : One zero-neuron embedding.

    References
    ----------
    .. [1] Z. Wu, B. Simsek, F. Ged, "Loss landscape of shallow ReLU-like neural networks:
           stationary points, saddle escaping, and network embedding", arXiv:2402.05626:
           network embedding (neuron splitting, zero neurons) and when it keeps a local
           minimum.
    """
    import networkx as nx

    point = shallow_point(net, X, y, loss)
    kink_tol, tol = check_tol("kink_tol", kink_tol), check_tol("tol", tol)
    check = check_bool("check", check)
    seed = check_int("seed", seed, minimum=0)
    w, a, _ = unpack(net.arch, net.params)
    if splits is None:
        splits = [(k, lam) for k in range(w.shape[0]) if np.any(a[k] != 0)
                  for lam in ((0.5, 0.5), (2.0, -1.0), (1.0, 0.0))]
    splits = _check_splits(splits, w.shape[0])
    if zero_neurons is None:
        zero_neurons = [np.zeros(w.shape[1])]
    zero_neurons = _check_zero_neurons(zero_neurons, w.shape[1])
    f0 = net.forward(point.X)

    def verdict_of(n):
        p = shallow_point(n, X, y, loss)
        return _classify(p, kink_tol, tol, 0.0, check, (1e-6, 1e-4, 1e-2), 100, seed)

    g = nx.DiGraph()
    v0 = verdict_of(net)
    g.add_node("narrow", kind="narrow", width=w.shape[0], verdict=v0.verdict, reason=v0.reason,
               loss=v0.loss, function_change=0.0)
    rows = [{"name": "narrow", "kind": "narrow", "width": w.shape[0], "verdict": v0.verdict,
             "reason": v0.reason, "loss": v0.loss, "function_change": 0.0}]
    items = [(f"split {k} λ={tuple(float(x) for x in lam)}", "split", split_neuron(net, k, lam),
              {"neuron": int(k), "lambdas": [float(x) for x in lam]}) for k, lam in splits]
    items += [(f"zero neuron w={np.round(np.asarray(u, float), 3).tolist()}", "zero neuron",
               add_zero_neurons(net, 1, np.asarray(u, float)[None, :]),
               {"input_weights": np.asarray(u, float).tolist()}) for u in zero_neurons]
    for name, kind, wide, extra in items:
        v = verdict_of(wide)
        change = float(np.max(np.abs(wide.forward(point.X) - f0)))
        attrs = dict(kind=kind, width=wide.arch.hidden[0], verdict=v.verdict, reason=v.reason,
                     loss=v.loss, function_change=change, **extra)
        g.add_node(name, **attrs)
        effect = "keeps" if v.verdict == v0.verdict else f"{v0.verdict} -> {v.verdict}"
        g.add_edge("narrow", name, kind=kind, effect=effect)
        rows.append({"name": name, **attrs, "effect": effect})
    return EmbeddingFamily(graph=g, rows=rows)
