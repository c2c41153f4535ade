"""Component graphs of the invariant set ``H(c)`` and its effective components.

Gradient flow of a shallow network keeps neuron ``k`` on the quadric ``Q(c_k)`` (see
:mod:`topoanalysis.symbolic.quadrics`). ``Q(c)`` has two components exactly when a sign is
frozen:

* ``c_k < 0`` and ``e = 1`` (a *pathological* neuron): ``a_k² >= −c_k > 0``, the sign of the
  output weight ``a_k`` can never change (kind ``"a"``);
* ``c_k > 0`` and ``d = 1`` (``w_k`` one-dimensional: one input and no hidden bias): the sign
  of ``w_k`` is frozen (kind ``"w"``).

Every other factor is connected. A component of ``H(c)`` is therefore a sign vector
``s ∈ {±1}^m`` over the ``m`` frozen slots (for ``e = 1``, ``d >= 2``: the signs of the
``l_−`` pathological output weights, as in Nurisso, Leroy, Vaccarino, Figure 2).

Graph model
-----------
:func:`component_graph` returns an undirected ``networkx.Graph``:

* **nodes**: the components, keyed by the sign tuple ``s`` (entries ``+1``/``−1`` in the order
  of ``G.graph["slots"]``; the empty tuple when ``H(c)`` is connected). Node attributes:
  ``n_positive`` (number of ``+1`` among ``"a"`` slots), ``n_positive_w`` (among ``"w"``
  slots), ``label`` (e.g. ``"C_{+-}"``).
* **edges**: ``{s, s'}`` when a symmetry move (a transposition of two hidden neurons, taken
  from the chosen generating set, followed by rescaling each moved neuron onto the quadric of
  its new slot) carries a point of component ``s`` to a point of ``s'``. Edge attribute ``transposition``: the pair of slots
  ``(i, j)`` of one generator realizing it. No self-loops.
* **graph attributes**: ``signs`` (sign of every ``c_k``), ``d``, ``e``, ``slots`` (indices of
  the frozen slots), ``frozen`` (their kinds, ``"a"``/``"w"``), ``l_plus``, ``l_minus``,
  ``l_zero``, ``generators``, ``quotient`` (False).

The *effective components* (components of ``H(c)`` identified when observationally equivalent
parameters connect them) are the connected components of this graph.

Move rule
---------
Every component contains generic points (``w_k ≠ 0`` and ``a_k ≠ 0`` for all ``k``), and a
generic neuron can be rescaled onto any quadric (``α ↦ α²||w||² − ||a||²/α²`` maps
``(0, ∞)`` onto ``R``), so every permutation is admissible from a generic point; rescaling
(``α > 0``) keeps the signs of ``a`` and ``w``. After moving the neuron of slot ``j`` into slot
``i``, the label of ``i`` (if ``i`` is frozen) is that neuron's sign: given by the label of
``j`` when ``j`` freezes the same coordinate, free (either value, chosen inside the
component of ``j``) otherwise. Non-generic points lead to the same components, because
components of ``H(c)`` are open and the rescaled move is continuous where admissible.

Why transpositions suffice: a move by ``π = τ_1 ⋯ τ_r`` (transpositions) equals the
successive moves by the ``τ_i`` (each intermediate point, rescaled, lies in ``H(c)``), and the
move by ``π`` is the composition of the moves by any generators of ``S_l``, so every
generating set of transpositions (adjacent ``(k, k+1)``, a star ``(0, k)``, or all of them)
gives the same connected components; it only changes the edges.
"""

import math
from fractions import Fraction

import networkx as nx
import numpy as np

from .._validation import (check_array, check_choice, check_float, check_int,
                           exact_fraction)
from ..exceptions import ValidationError

__all__ = [
    "GENERATORS",
    "DEFAULT_ATOL",
    "sign_pattern",
    "frozen_kinds",
    "component_graph",
    "quotient_component_graph",
    "quotient_node",
    "component_label",
    "number_components",
    "effective_components",
    "number_effective_components",
    "effective_component",
    "is_obstructed",
    "number_components_formula",
    "number_effective_components_formula",
]

#: Generating sets of transpositions accepted by :func:`component_graph`.
GENERATORS = ("adjacent", "star", "transpositions")
#: Floats with ``|c_k| <= atol`` count as ``c_k = 0``.
DEFAULT_ATOL = 1e-12


def sign_pattern(l_plus, l_minus, l_zero=0):
    """Sign vector ``(+1,)*l_plus + (−1,)*l_minus + (0,)*l_zero`` of conserved quantities.

    Parameters
    ----------
    l_plus, l_minus, l_zero : int
        Numbers of neurons with ``c_k > 0``, ``< 0``, ``= 0`` (total ``>= 1``).

    Returns
    -------
    tuple of int
        ``l_plus`` ones, then ``l_minus`` minus ones, then ``l_zero`` zeros.

    See Also
    --------
    component_graph, component_label

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: pathological neurons, c_k < 0.

    Examples
    --------
    >>> sign_pattern(1, 2)
    (1, -1, -1)
    """
    l_plus = check_int("l_plus", l_plus, minimum=0)
    l_minus = check_int("l_minus", l_minus, minimum=0)
    l_zero = check_int("l_zero", l_zero, minimum=0)
    if l_plus + l_minus + l_zero == 0:
        raise ValidationError("`l_plus + l_minus + l_zero` must be >= 1 (at least one neuron); "
                              "got 0.")
    return (1,) * l_plus + (-1,) * l_minus + (0,) * l_zero


def _exact(x):
    """``x`` as a Fraction when rounding it to float64 could lose its sign, else None."""
    if isinstance(x, (bool, np.bool_, float)):  # float64 (and np.float64): already exact
        return None
    return exact_fraction(x)


def _signs(c, atol):
    atol = check_float("atol", atol, minimum=0.0)
    try:
        arr = check_array("c", c, ndim=1)
    except ValidationError:
        # exact numbers beyond float64 (the integer 10**400, a Fraction): their signs are
        # still decided on the values given; anything else keeps the error
        vals = np.asarray(c, dtype=object) if isinstance(c, (list, tuple, np.ndarray)) \
            else None
        q = None if vals is None or vals.ndim != 1 else [exact_fraction(x) for x in vals]
        if not q or any(x is None for x in q):
            raise
        q_atol = Fraction(atol)
        return tuple(0 if abs(x) <= q_atol else (1 if x > 0 else -1) for x in q)
    if arr.size == 0:
        raise ValidationError("`c` must contain at least one conserved quantity; got [].")
    s = np.sign(arr).astype(np.int64)
    s[np.abs(arr) <= atol] = 0
    if not (isinstance(c, np.ndarray) and c.dtype in (np.float64, np.float32, np.float16)):
        # the sign of c_k is a combinatorial fact: decide it on the value given, not on its
        # float64 rounding (a rational 10**-400 rounds to 0.0)
        q_atol = Fraction(atol)
        for k, x in enumerate(np.asarray(c, dtype=object).reshape(-1)):
            q = _exact(x)
            if q is not None:
                s[k] = 0 if abs(q) <= q_atol else (1 if q > 0 else -1)
    return tuple(int(x) for x in s)


def _dims(d, e):
    return check_int("d", d, minimum=1), check_int("e", e, minimum=1)


def frozen_kinds(c, d=2, e=1, *, atol=DEFAULT_ATOL):
    """Which sign, if any, each slot freezes.

    Parameters
    ----------
    c : array_like of shape (l,)
        Conserved quantities (or just their signs).
    d : int, default=2
        Dimension of ``w_k`` (inputs, plus 1 with hidden biases).
    e : int, default=1
        Output dimension.
    atol : float, default=1e-12
        ``|c_k| <= atol`` counts as zero.

    Returns
    -------
    tuple of {"a", "w", None}
        ``"a"``: ``c_k < 0`` and ``e = 1``; ``"w"``: ``c_k > 0`` and ``d = 1``; else None.

    See Also
    --------
    component_graph, quotient_component_graph

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: pathological neurons: frozen
           output-weight signs.

    Examples
    --------
    >>> frozen_kinds([1, -1, 0], d=1, e=1)
    ('w', 'a', None)
    >>> frozen_kinds([1, -1], d=3, e=2)
    (None, None)
    """
    d, e = _dims(d, e)
    return _kinds(_signs(c, atol), d, e)


def _kinds(signs, d, e):
    return tuple("a" if (s < 0 and e == 1) else "w" if (s > 0 and d == 1) else None
                 for s in signs)


def _generator_pairs(l, generators):
    generators = check_choice("generators", generators, GENERATORS)
    if generators == "adjacent":
        return [(k, k + 1) for k in range(l - 1)]
    if generators == "star":
        return [(0, k) for k in range(1, l)]
    return [(i, j) for i in range(l) for j in range(i + 1, l)]


def component_label(node):
    """Readable name ``"C_{+-…}"`` of a component given by its sign tuple.

    Parameters
    ----------
    node : tuple of int
        Component as a tuple of signs.

    Returns
    -------
    str
        ``"C_{+-…}"``.

    See Also
    --------
    sign_pattern, component_graph

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Figure 2: components C_{±∓} labelled by
           signs.

    Examples
    --------
    >>> component_label((1, -1))
    'C_{+-}'
    >>> component_label(())
    'C_{}'
    """
    return "C_{" + "".join("+" if s > 0 else "-" for s in node) + "}"


def _graph_attrs(signs, d, e, kinds, generators, quotient):
    slots = tuple(k for k, kind in enumerate(kinds) if kind is not None)
    return dict(
        signs=tuple(signs), d=d, e=e, slots=slots, frozen=tuple(kinds[k] for k in slots),
        l_plus=signs.count(1), l_minus=signs.count(-1), l_zero=signs.count(0),
        generators=generators, quotient=quotient,
    )


def component_graph(c, d=2, e=1, *, atol=DEFAULT_ATOL, generators="adjacent",
                    max_frozen=20):
    """Graph of the components of ``H(c)`` joined by symmetry moves.

    Parameters
    ----------
    c : array_like of shape (l,)
        Conserved quantities ``c_k`` of the hidden neurons (only their signs matter; e.g.
        :func:`sign_pattern` output). Signs are decided on the values given: integers,
        ``Fraction``, ``Decimal``, ``np.longdouble`` and SymPy numbers are compared with
        ``atol`` exactly, not after rounding to float64.
    d : int, default=2
        Dimension of ``w_k`` (input dimension, plus 1 with hidden biases).
    e : int, default=1
        Output dimension.
    atol : float, default=1e-12
        ``|c_k| <= atol`` counts as zero.
    generators : {"adjacent", "star", "transpositions"}, default="adjacent"
        Transpositions used as moves: ``(k, k+1)``, ``(0, k)``, or all ``(i, j)``. All give
        the same connected components (module docstring).
    max_frozen : int, default=20
        Refuse graphs with more than ``2**max_frozen`` nodes (use
        :func:`quotient_component_graph` instead).

    Returns
    -------
    networkx.Graph
        Nodes, edges and attributes as documented in :mod:`topoanalysis.graphs.components`.

    Raises
    ------
    ValidationError
        On bad input or more than ``max_frozen`` frozen slots.

    See Also
    --------
    topoanalysis.graphs.number_effective_components : Effective components of the graph.
    topoanalysis.obstruction.network_topology : The graph of a given network.

    Notes
    -----
    Nodes are the ``2^m`` sign vectors of the ``m`` frozen slots, so the node count is
    ``b_0(H(c))`` (for ``e = 1``, ``d >= 2``: ``2^{l_−}``). Edges are generated per
    generator with vectorized bit operations on the integer codes of the nodes:
    O(g · 2^m) time and memory for ``g`` generators (``g = l − 1`` for ``"adjacent"``).
    With ``l_− = 16`` pathological neurons (65,536 nodes) this takes about a second.
    Paper: Nurisso, Leroy, Vaccarino, Section on effective components and Figure 2
    (``l_− = 2``: 4 components, 3 effective components).

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1 (components of H(c)),
           Definition 2 (effective components), Figure 2.

    Examples
    --------
    >>> import networkx as nx
    >>> G = component_graph(sign_pattern(0, 2))
    >>> sorted(G.nodes)
    [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    >>> sorted(tuple(sorted(e)) for e in G.edges)
    [((-1, 1), (1, -1))]
    >>> number_effective_components(G)
    3
    >>> number_effective_components(component_graph(sign_pattern(1, 2)))
    1
    """
    d, e = _dims(d, e)
    max_frozen = check_int("max_frozen", max_frozen, minimum=0)
    signs = _signs(c, atol)
    kinds = _kinds(signs, d, e)
    pairs = _generator_pairs(len(signs), generators)
    attrs = _graph_attrs(signs, d, e, kinds, generators, False)
    slots = attrs["slots"]
    m = len(slots)
    if m > max_frozen:
        raise ValidationError(
            f"`c` gives {m} frozen slots, i.e. 2**{m} components, more than "
            f"`max_frozen`={max_frozen}; use quotient_component_graph or raise max_frozen.")
    bit = {slot: np.int64(1) << np.int64(i) for i, slot in enumerate(slots)}
    codes = np.arange(1 << m, dtype=np.int64)
    us, vs, gen = [], [], []
    for g_index, (i, j) in enumerate(pairs):
        ki, kj = kinds[i], kinds[j]
        if ki is None and kj is None:
            continue
        if ki is not None and kj is not None and ki == kj:
            bi, bj = bit[i], bit[j]
            x = codes[((codes & bi) != 0) & ((codes & bj) == 0)]
            new = [(x, x ^ (bi | bj))]
        elif ki is None or kj is None:
            b = bit[i] if ki is not None else bit[j]
            x = codes[(codes & b) == 0]
            new = [(x, x | b)]
        else:  # different frozen kinds: both incoming signs are free
            bi, bj = bit[i], bit[j]
            x = codes[(codes & (bi | bj)) == 0]
            fiber = [x, x | bi, x | bj, x | bi | bj]
            new = [(fiber[p], fiber[q]) for p in range(4) for q in range(p + 1, 4)]
        for u, v in new:
            us.append(u)
            vs.append(v)
            gen.append(np.full(u.shape, g_index, dtype=np.int64))
    G = nx.Graph(**attrs)
    positions = np.arange(m, dtype=np.int64)
    table = np.where((codes[:, None] >> positions) & 1, 1, -1) if m else np.zeros((1, 0), int)
    nodes = list(map(tuple, table.tolist()))
    is_a = np.array([k == "a" for k in attrs["frozen"]], dtype=bool)
    n_pos_a = ((table > 0) & is_a).sum(axis=1).tolist()
    n_pos_w = ((table > 0) & ~is_a).sum(axis=1).tolist()
    if m:
        chars = np.ascontiguousarray(np.where(table > 0, b"+", b"-").astype("S1"))
        labels = ["C_{" + x.decode() + "}" for x in chars.view(f"S{m}").ravel().tolist()]
    else:
        labels = [component_label(())]
    G.add_nodes_from(
        (node, {"n_positive": ka, "n_positive_w": kw, "label": lab})
        for node, ka, kw, lab in zip(nodes, n_pos_a, n_pos_w, labels))
    if us:
        u = np.concatenate(us)
        v = np.concatenate(vs)
        g = np.concatenate(gen)
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        _, first = np.unique(lo * (np.int64(1) << np.int64(m)) + hi, return_index=True)
        G.add_edges_from(
            (nodes[a], nodes[b], {"transposition": pairs[k]})
            for a, b, k in zip(lo[first].tolist(), hi[first].tolist(), g[first].tolist()))
    return G


def quotient_node(G, node):
    """Node of :func:`quotient_component_graph` containing a component ``node`` of ``G``.

    Parameters
    ----------
    G : networkx.Graph
        A component graph (or its quotient; only ``G.graph["frozen"]`` is used).
    node : tuple of int
        Sign vector over ``G.graph["slots"]``.

    Returns
    -------
    int or tuple of int
        ``k_a`` (number of ``+1`` among ``"a"`` slots) when no slot is of kind ``"w"``,
        ``k_w`` when no slot is of kind ``"a"``, ``(k_a, k_w)`` when both kinds occur.

    See Also
    --------
    quotient_component_graph

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Definition 2 (effective components).

    Examples
    --------
    >>> G = component_graph(sign_pattern(0, 3))
    >>> quotient_node(G, (1, -1, 1))
    2
    """
    frozen = G.graph["frozen"]
    if len(node) != len(frozen):
        raise ValidationError(
            f"`node` must be a sign vector of length {len(frozen)}; got {node!r}.")
    ka = sum(1 for s, k in zip(node, frozen) if k == "a" and s > 0)
    kw = sum(1 for s, k in zip(node, frozen) if k == "w" and s > 0)
    return _qkey(ka, kw, "a" in frozen, "w" in frozen)


def _qkey(ka, kw, has_a, has_w):
    if has_a and has_w:
        return (ka, kw)
    return kw if has_w else ka


def quotient_component_graph(c, d=2, e=1, *, atol=DEFAULT_ATOL, max_nodes=10 ** 6):
    """Component graph modulo permutations that preserve the kind of every slot.

    Components with the same number of positive frozen signs (per kind) are related by a
    permutation of equal-kind slots, hence lie in one effective component; this graph has one
    node per such class and is small for any width.

    Parameters
    ----------
    c : array_like of shape (l,)
        Conserved quantities (signs suffice).
    d : int, default=2
        Dimension of ``w_k`` (bias included).
    e : int, default=1
        Output dimension.
    atol : float, default=1e-12
        ``|c_k| <= atol`` counts as zero.
    max_nodes : int, default=10**6
        Refuse larger quotients (only possible when both kinds ``"a"`` and ``"w"`` occur).

    Returns
    -------
    networkx.Graph
        Nodes: ``k`` = number of positive pathological output weights (``0..l_−``) in the
        paper's case (only kind ``"a"``); ``k_w`` when only kind ``"w"`` occurs; ``(k_a, k_w)``
        when both occur (``d = 1``, ``e = 1``). Node attributes: ``n_positive`` (``k_a``),
        ``n_positive_w`` (``k_w``), ``multiplicity`` (number of components in the class,
        ``binomial(n_a, k_a) · binomial(n_w, k_w)``, an exact ``int``). Edges: the quotient of
        the edges of ``component_graph(c, d, e, generators="transpositions")`` (no
        self-loops). Graph attributes as for :func:`component_graph`, with
        ``quotient=True`` and ``generators="transpositions"``.

    See Also
    --------
    component_graph, quotient_node

    Notes
    -----
    Each class is connected inside the full graph (equal-kind transpositions act
    transitively on sign vectors with a given count), so the connected components of the
    quotient correspond one to one to the effective components. O(number of classes) time.

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Definition 2: components identified by
           observational equivalence.

    Examples
    --------
    >>> Q = quotient_component_graph(sign_pattern(0, 2))
    >>> sorted(Q.nodes(data="multiplicity"))
    [(0, 1), (1, 2), (2, 1)]
    >>> Q.number_of_edges(), number_effective_components(Q)
    (0, 3)
    >>> number_components(Q)
    4
    """
    d, e = _dims(d, e)
    max_nodes = check_int("max_nodes", max_nodes, minimum=1)
    signs = _signs(c, atol)
    kinds = _kinds(signs, d, e)
    attrs = _graph_attrs(signs, d, e, kinds, "transpositions", True)
    n_a, n_w = kinds.count("a"), kinds.count("w")
    n_u = len(kinds) - n_a - n_w
    has_a, has_w = n_a > 0, n_w > 0
    if (n_a + 1) * (n_w + 1) > max_nodes:
        raise ValidationError(
            f"the quotient has {(n_a + 1) * (n_w + 1)} nodes, more than "
            f"`max_nodes`={max_nodes}.")
    G = nx.Graph(**attrs)
    for ka in range(n_a + 1):
        for kw in range(n_w + 1):
            G.add_node(_qkey(ka, kw, has_a, has_w), n_positive=ka, n_positive_w=kw,
                       multiplicity=math.comb(n_a, ka) * math.comb(n_w, kw))

    def options(k, n):  # new counts after one slot of this kind receives a free sign
        out = set()
        if k >= 1:          # the chosen slot is currently +
            out.update({k, k - 1})
        if k <= n - 1:      # the chosen slot is currently −
            out.update({k, k + 1})
        return out

    for ka in range(n_a + 1):
        for kw in range(n_w + 1):
            here = _qkey(ka, kw, has_a, has_w)
            targets = set()
            if n_u >= 1 and n_a >= 1:
                targets.update((x, kw) for x in options(ka, n_a))
            if n_u >= 1 and n_w >= 1:
                targets.update((ka, y) for y in options(kw, n_w))
            if n_a >= 1 and n_w >= 1:
                targets.update((x, y) for x in options(ka, n_a) for y in options(kw, n_w))
            for x, y in targets:
                there = _qkey(x, y, has_a, has_w)
                if there != here:
                    G.add_edge(here, there)
    return G


def number_components(G):
    """Number of components of ``H(c)`` represented by ``G``.

    The node count of a :func:`component_graph`; the sum of the ``multiplicity`` attributes
    of a :func:`quotient_component_graph`. O(n).

    Parameters
    ----------
    G : networkx.Graph
        A graph of :func:`component_graph`.

    Returns
    -------
    int
        Number of components of ``H(c)``.

    See Also
    --------
    number_components_formula, number_effective_components

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1: b_0(H(c)) = 2^{l_−} (e = 1).

    Examples
    --------
    >>> number_components(component_graph(sign_pattern(2, 3)))
    8
    """
    if G.graph.get("quotient", False):
        return sum(m for _, m in G.nodes(data="multiplicity"))
    return G.number_of_nodes()


def effective_components(G):
    """Generate the effective components of ``H(c)``, one set of nodes each.

    The connected components of the component graph (or of its quotient). O(n + m).

    Parameters
    ----------
    G : networkx.Graph
        A graph of :func:`component_graph`.

    Returns
    -------
    generator of set of tuple
        One set of components (nodes of ``G``) per effective component.

    See Also
    --------
    effective_component, number_effective_components

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Definition 2 (effective component),
           Figure 2.

    Examples
    --------
    >>> G = component_graph(sign_pattern(0, 2))
    >>> sorted(len(cc) for cc in effective_components(G))
    [1, 1, 2]
    """
    return nx.connected_components(G)


def number_effective_components(G):
    """Number of effective components: ``networkx.number_connected_components(G)``. O(n + m).

    Parameters
    ----------
    G : networkx.Graph
        A graph of :func:`component_graph`.

    Returns
    -------
    int
        Number of effective components.

    See Also
    --------
    number_effective_components_formula, effective_components

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Definition 2 (effective components),
           Figure 2.

    Examples
    --------
    >>> number_effective_components(component_graph(sign_pattern(0, 4)))
    5
    """
    return nx.number_connected_components(G)


def effective_component(G, node):
    """Set of components (nodes of ``G``) in the effective component of ``node``. O(n + m).

    Parameters
    ----------
    G : networkx.Graph
        A graph of :func:`component_graph`.
    node : tuple of int
        A component (node of ``G``).

    Returns
    -------
    set of tuple
        Components in the same effective component.

    See Also
    --------
    effective_components, component_graph

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Definition 2 (effective component).

    Examples
    --------
    >>> G = component_graph(sign_pattern(0, 2))
    >>> sorted(effective_component(G, (1, -1)))
    [(-1, 1), (1, -1)]
    """
    if node not in G:
        raise ValidationError(f"`node` must be a node of the graph; got {node!r}.")
    return nx.node_connected_component(G, node)


def is_obstructed(G):
    """True when ``H(c)`` has more than one effective component. O(n + m).

    Parameters
    ----------
    G : networkx.Graph
        A graph of :func:`component_graph`.

    Returns
    -------
    bool
        More than one effective component.

    See Also
    --------
    number_effective_components, topoanalysis.obstruction.topology.network_topology

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: topological obstruction: more than one
           effective component.

    Examples
    --------
    >>> is_obstructed(component_graph(sign_pattern(0, 1))), is_obstructed(
    ...     component_graph(sign_pattern(1, 1)))
    (True, False)
    """
    return number_effective_components(G) > 1


def _counts(l_plus, l_minus, l_zero, d, e):
    lp, lm, lz = (np.asarray(x) for x in (l_plus, l_minus, l_zero))
    dd, ee = np.asarray(d), np.asarray(e)
    for name, x, lo in (("l_plus", lp, 0), ("l_minus", lm, 0), ("l_zero", lz, 0),
                        ("d", dd, 1), ("e", ee, 1)):
        if x.dtype.kind not in "iu" or np.any(x < lo):
            raise ValidationError(f"`{name}` must be integers >= {lo}; got {x.tolist()!r}.")
    n_a = np.where(ee == 1, lm, 0)
    n_w = np.where(dd == 1, lp, 0)
    return lp, lm, lz, n_a, n_w


def number_components_formula(l_plus, l_minus, l_zero=0, d=2, e=1):
    """Closed form ``b_0(H(c)) = 2^{n_a + n_w}`` (tested against :func:`component_graph`).

    ``n_a = l_−`` if ``e = 1`` else 0; ``n_w = l_+`` if ``d = 1`` else 0. Broadcasts over
    NumPy arrays (float64 result); plain integers give an exact ``int``.

    Parameters
    ----------
    l_plus, l_minus : int or array_like of int
        Numbers of neurons with ``c_k > 0`` and ``c_k < 0``.
    l_zero : int or array_like of int, default=0
        Neurons with ``c_k = 0``.
    d, e : int, default=2, 1
        Dimensions of ``w_k`` and ``a_k``.

    Returns
    -------
    int or ndarray
        ``b_0(H(c))``.

    See Also
    --------
    number_components, number_effective_components_formula

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Theorem 1: b_0(H(c)) = 2^{l_−} (e = 1,
           d ≥ 2).

    Examples
    --------
    >>> number_components_formula(3, 2)
    4
    >>> number_components_formula([0, 1], [2, 2], d=1).tolist()
    [4.0, 8.0]
    """
    *_, n_a, n_w = _counts(l_plus, l_minus, l_zero, d, e)
    n = n_a + n_w
    if n.ndim == 0:
        return 2 ** int(n)
    return np.ldexp(1.0, n)


def number_effective_components_formula(l_plus, l_minus, l_zero=0, d=2, e=1):
    """Closed form of the number of effective components (tested against the graphs).

    ``l + 1`` when every one of the ``l`` slots freezes a sign of the same kind (for
    ``e = 1``, ``d >= 2``: ``l_+ = l_0 = 0``, all neurons pathological); ``1`` otherwise (a
    slot that freezes nothing, or one freezing the other coordinate, can take over any frozen
    sign). Broadcasts over NumPy arrays (int64 result); plain integers give an ``int``.

    Parameters
    ----------
    l_plus, l_minus : int or array_like of int
        Numbers of neurons with ``c_k > 0`` and ``c_k < 0``.
    l_zero : int or array_like of int, default=0
        Neurons with ``c_k = 0``.
    d, e : int, default=2, 1
        Dimensions of ``w_k`` and ``a_k``.

    Returns
    -------
    int or ndarray
        Number of effective components.

    See Also
    --------
    number_effective_components, number_components_formula

    References
    ----------
    .. [1] M. Nurisso, P. Leroy, F. Vaccarino, "Topological obstruction to the training of
           shallow ReLU neural networks", NeurIPS 2024: Definition 2; Figure 2 (l_− = 2: 3
           effective components).

    Examples
    --------
    >>> number_effective_components_formula(0, 2), number_effective_components_formula(1, 2)
    (3, 1)
    """
    lp, lm, lz, n_a, n_w = _counts(l_plus, l_minus, l_zero, d, e)
    l = lp + lm + lz
    n_u = l - n_a - n_w
    same_kind = (n_u == 0) & ((n_a == 0) | (n_w == 0))
    out = np.where(same_kind, l + 1, 1).astype(np.int64)
    return int(out) if out.ndim == 0 else out
