"""Graphs of level sets: strings of beads, level-set graphs of many minima, disconnectivity trees.

Graph models
------------
:func:`string_graph` returns the path graph of a string of beads ``θ^0, …, θ^{K−1}``
(Freeman & Bruna's Dynamic String Sampling):

* **nodes** ``0..K−1`` in path order, attributes ``params`` (ndarray ``(P,)``), ``loss``;
* **edges** ``(k, k+1)``, attributes ``length`` (``||θ^{k+1} − θ^k||``) and ``max_loss``
  (the highest loss met on the straight segment between the two beads);
* **graph attributes** ``normalized_length`` (``Σ length / ||θ^0 − θ^{K−1}||``; 1 when all
  beads coincide, NaN for a loop of positive length).

:func:`level_set_graph` returns the graph of ``N`` minima at a threshold ``λ``:

* **nodes** the minima ``i`` with ``loss[i] <= λ`` (attribute ``loss``);
* **edges** ``{i, j}`` when the path found between them stays at or below ``λ``
  (``path_max[i, j] <= λ``; never for ``path_max[i, j] = inf``, no known path, even at
  ``λ = inf``), attribute ``max_loss``.

Its connected components are the components of the level set ``{θ : L(θ) <= λ}`` that the
known paths certify (two minima in different components may still be connected by a path
nobody found: a component count is an upper bound of the true one).

:func:`disconnectivity_tree` returns the disconnectivity graph of the energy-landscape
literature as a rooted ``networkx.DiGraph`` (edges parent → child):

* **leaves** ``("min", i)``: the minima, attributes ``kind="minimum"``, ``level`` (its loss),
  ``members`` (``(i,)``);
* **internal nodes** ``("merge", r)``: where two groups of minima first join, attributes
  ``kind="merge"``, ``level`` (the lowest ``λ`` at which a known path joins them: the
  minimax level), ``members`` (sorted tuple of the minima below it);
* **graph attributes** ``root``, ``order`` (leaves left to right for drawing).

The merge levels are the edge weights of a minimum spanning tree of the complete graph with
weights ``path_max`` (Kruskal order): the minimax path value between two minima, ``min over
paths of the max over edges``, is the largest weight on their path in any minimum spanning
tree.
"""

import networkx as nx
import numpy as np

from .._validation import check_array, check_float
from ..exceptions import ShapeError, ValidationError

__all__ = [
    "string_graph",
    "level_set_graph",
    "minimax_levels",
    "component_counts",
    "disconnectivity_tree",
    "plot_disconnectivity_tree",
]


def string_graph(beads, bead_loss, edge_max_loss):
    """The string of beads as a NetworkX path graph (see the module docstring).

    Parameters
    ----------
    beads : array_like of shape (K, P)
        The beads from end to end.
    bead_loss : array_like of shape (K,)
        Loss of each bead.
    edge_max_loss : array_like of shape (K − 1,)
        Highest loss on each edge between neighbouring beads.

    Returns
    -------
    networkx.Graph
        A path graph: node ``k`` is bead ``k`` (attributes as in the module docstring),
        edge ``(k, k + 1)`` carries the highest loss on that edge.

    See Also
    --------
    topoanalysis.levelsets.dynamic_string_sampling

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 3.1: Dynamic String Sampling, normalized geodesic
           length.

    Examples
    --------
    >>> import numpy as np
    >>> G = string_graph(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]), [0.1, 0.2, 0.1],
    ...                  [0.3, 0.3])
    >>> G.number_of_edges(), round(G.graph["normalized_length"], 4)
    (2, 1.4142)
    """
    beads = check_array("beads", beads, ndim=2)
    K = beads.shape[0]
    bead_loss = check_array("bead_loss", bead_loss, shape=(K,), finite=False)
    edge_max_loss = check_array("edge_max_loss", edge_max_loss, shape=(max(K - 1, 0),),
                                finite=False)
    G = nx.path_graph(K)
    lengths = np.linalg.norm(np.diff(beads, axis=0), axis=1)
    for k in range(K):
        G.nodes[k]["params"] = beads[k]
        G.nodes[k]["loss"] = float(bead_loss[k])
    for k in range(K - 1):
        G.edges[k, k + 1]["length"] = float(lengths[k])
        G.edges[k, k + 1]["max_loss"] = float(edge_max_loss[k])
    dist = float(np.linalg.norm(beads[-1] - beads[0])) if K else 0.0
    total = float(lengths.sum())
    # as BeadString.normalized_length: 1 for the zero-length string between coinciding ends,
    # NaN only for a loop of positive length
    G.graph["normalized_length"] = (total / dist if dist > 0
                                    else 1.0 if total == 0 else float("nan"))
    return G


def _check_matrix(path_max, node_loss):
    M = check_array("path_max", path_max, ndim=2, finite=False)
    n = M.shape[0]
    if M.shape != (n, n):
        raise ShapeError(f"`path_max` must be a square (N, N) matrix; got shape {M.shape}.")
    if np.any(np.isnan(M)):
        raise ValidationError("`path_max` must not contain NaN (use inf for 'no path known').")
    if np.any(M == -np.inf):
        # no loss is -inf: level_set_graph would drop such an edge (not finite) while the
        # spanning forest joined the two minima at max(-inf, L_i, L_j), so counts and trees
        # disagreed with the graph
        raise ValidationError(f"`path_max` must hold real losses or inf ('no path known'); got "
                              f"{int(np.count_nonzero(M == -np.inf))} entries -inf.")
    if not np.array_equal(M, M.T):
        raise ValidationError("`path_max` must be symmetric; got an asymmetric matrix.")
    if node_loss is None:
        loss = np.diag(M).copy()
    else:
        loss = check_array("node_loss", node_loss, shape=(n,))
    return M, loss


def _check_tree_size(M):
    """Number of minima of a tree: at least one (a tree of no minima has no root)."""
    if M.shape[0] == 0:
        raise ValidationError("`path_max` must hold at least one minimum for a tree; got "
                              "shape (0, 0).")
    return M.shape[0]


def level_set_graph(path_max, threshold, node_loss=None):
    """Graph of the minima in the level set ``{L <= threshold}`` joined by known paths below it.

    Parameters
    ----------
    path_max : array_like of shape (N, N)
        Symmetric; ``path_max[i, j]`` is the highest loss on the best known path from minimum
        ``i`` to minimum ``j`` (``inf`` when none is known; NaN and ``-inf`` are refused).
    threshold : float
        The level ``λ``.
    node_loss : array_like of shape (N,), optional
        Loss of each minimum (default: the diagonal of ``path_max``).

    Returns
    -------
    networkx.Graph
        See the module docstring.

    See Also
    --------
    component_counts, minimax_levels

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 2: level sets Ω_F(λ) = {θ : F(θ) ≤ λ}.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.1, 0.5, 0.9], [0.5, 0.2, 0.9], [0.9, 0.9, 0.1]])
    >>> import networkx as nx
    >>> nx.number_connected_components(level_set_graph(M, 0.6))
    2
    """
    M, loss = _check_matrix(path_max, node_loss)
    lam = check_float("threshold", threshold, allow_inf=True)
    G = nx.Graph(threshold=lam)
    keep = np.flatnonzero(loss <= lam)
    for i in keep:
        G.add_node(int(i), loss=float(loss[i]))
    for a in range(keep.size):
        for b in range(a + 1, keep.size):
            i, j = keep[a], keep[b]
            if np.isfinite(M[i, j]) and M[i, j] <= lam:  # inf: no path known, not a path
                G.add_edge(int(i), int(j), max_loss=float(M[i, j]))
    return G


def _kruskal(M, loss):
    """Merge events ``(level, i, j)`` of the minimum spanning forest of the complete graph."""
    n = M.shape[0]
    G = nx.Graph()
    G.add_nodes_from(range(n))
    iu, ju = np.triu_indices(n, 1)
    for i, j in zip(iu, ju):
        # a path cannot be lower than its endpoints
        w = max(M[i, j], loss[i], loss[j])
        if np.isfinite(w):
            G.add_edge(int(i), int(j), weight=float(w))
    T = nx.minimum_spanning_tree(G, weight="weight", algorithm="kruskal")
    return sorted((d["weight"], min(u, v), max(u, v)) for u, v, d in T.edges(data=True)), T


def minimax_levels(path_max, node_loss=None):
    """Minimax level between every two minima: ``min over chains of known paths of the
    highest loss met``.

    Parameters
    ----------
    path_max : array_like of shape (N, N)
        As in :func:`level_set_graph`.
    node_loss : array_like of shape (N,), optional
        As in :func:`level_set_graph`.

    Returns
    -------
    ndarray of shape (N, N)
        ``inf`` between minima no chain of known paths joins; the diagonal holds the minima's
        losses.

    See Also
    --------
    level_set_graph, disconnectivity_tree

    Notes
    -----
    Read off a minimum spanning tree (the largest weight on the tree path), ``O(N² log N)``.

    References
    ----------
    .. [1] D. J. Wales, "Energy Landscapes", Cambridge University Press, 2003:
           disconnectivity graphs: minimax barriers.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.1, 0.5, 0.9], [0.5, 0.2, 0.3], [0.9, 0.3, 0.1]])
    >>> float(minimax_levels(M)[0, 2])
    0.5
    """
    M, loss = _check_matrix(path_max, node_loss)
    n = M.shape[0]
    _, T = _kruskal(M, loss)
    out = np.full((n, n), np.inf)
    np.fill_diagonal(out, loss)
    for src in range(n):
        # widest-path style traversal of the tree from src, tracking the max edge
        stack = [(src, loss[src])]
        seen = {src}
        while stack:
            u, level = stack.pop()
            out[src, u] = level
            for v in T.neighbors(u):
                if v not in seen:
                    seen.add(v)
                    stack.append((v, max(level, T.edges[u, v]["weight"])))
    return out


def component_counts(path_max, thresholds=None, node_loss=None):
    """Number of components of the level-set graph as a function of the threshold.

    Parameters
    ----------
    path_max : array_like of shape (N, N)
        As in :func:`level_set_graph`.
    thresholds : array_like of shape (T,), optional
        Levels to evaluate (``±inf`` allowed, as in :func:`level_set_graph`); default: every
        level where the count can change (the minima's losses and the finite entries of
        ``path_max``), sorted.
    node_loss : array_like of shape (N,), optional
        As in :func:`level_set_graph`.

    Returns
    -------
    thresholds : ndarray of shape (T,)
        The levels evaluated.
    counts : ndarray of int64, shape (T,)
        Connected components of :func:`level_set_graph` at each threshold (minima above the
        threshold are not in the level set and not counted).

    See Also
    --------
    level_set_graph, disconnectivity_tree

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 2: connectedness of the level sets Ω_F(λ).
    .. [2] D. J. Wales, "Energy Landscapes", Cambridge University Press, 2003:
           disconnectivity graphs.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.1, 0.5, 0.9], [0.5, 0.2, 0.9], [0.9, 0.9, 0.1]])
    >>> t, c = component_counts(M)
    >>> t.tolist(), c.tolist()
    ([0.1, 0.2, 0.5, 0.9], [2, 3, 2, 1])
    """
    M, loss = _check_matrix(path_max, node_loss)
    if thresholds is None:
        vals = np.concatenate([loss, M[np.triu_indices(M.shape[0], 1)]])
        thresholds = np.unique(vals[np.isfinite(vals)])
    else:
        # levels as level_set_graph takes them: ±inf allowed (at inf every minimum is in the
        # level set and only known paths join them), NaN refused
        thresholds = check_array("thresholds", thresholds, ndim=1, finite=False)
        if np.any(np.isnan(thresholds)):
            raise ValidationError(f"`thresholds` must be real numbers (inf allowed); got "
                                  f"{int(np.count_nonzero(np.isnan(thresholds)))} NaN entries.")
    events, _ = _kruskal(M, loss)
    counts = np.empty(thresholds.size, dtype=np.int64)
    for k, lam in enumerate(thresholds):
        present = int(np.count_nonzero(loss <= lam))
        # each spanning-forest edge at or below lam joins two present components
        counts[k] = present - sum(1 for w, _, _ in events if w <= lam)
    return thresholds, counts


def disconnectivity_tree(path_max, node_loss=None, labels=None):
    """The disconnectivity tree of ``N`` minima (see the module docstring).

    Parameters
    ----------
    path_max : array_like of shape (N, N)
        As in :func:`level_set_graph`.
    node_loss : array_like of shape (N,), optional
        As in :func:`level_set_graph`.
    labels : sequence of str, optional
        Names of the minima (node attribute ``label``).

    Returns
    -------
    networkx.DiGraph
        Rooted at ``G.graph["root"]``; when some groups of minima are joined by no known
        path, a virtual root at level ``inf`` holds them.

    Raises
    ------
    ValidationError
        For a ``path_max`` of no minima (shape ``(0, 0)``: a tree needs a root) or with NaN
        or ``-inf`` entries.

    See Also
    --------
    minimax_levels, plot_disconnectivity_tree, topoanalysis.levelsets.persistence.merge_tree

    Notes
    -----
    Kruskal's algorithm on the complete graph with weights ``max(path_max[i, j], loss[i],
    loss[j])``: each spanning-tree edge, in increasing order, creates the merge node of the
    two groups it joins. ``O(N² log N)``.

    References
    ----------
    .. [1] D. J. Wales, "Energy Landscapes", Cambridge University Press, 2003:
           disconnectivity graphs.
    .. [2] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: Section 3: geometry of level sets.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.1, 0.5, 0.9], [0.5, 0.2, 0.9], [0.9, 0.9, 0.1]])
    >>> T = disconnectivity_tree(M)
    >>> T.nodes[T.graph["root"]]["level"], T.nodes[("merge", 0)]["members"]
    (0.9, (0, 1))
    """
    M, loss = _check_matrix(path_max, node_loss)
    n = _check_tree_size(M)
    if labels is not None and len(labels) != n:
        raise ValidationError(f"`labels` must hold {n} names; got {len(labels)}.")
    events, _ = _kruskal(M, loss)
    return merge_tree_from_events(loss, events, labels)


def merge_tree_from_events(loss, events, labels=None):
    """Merge tree of ``n`` minima from merge events ``(level, i, j)`` sorted by level.

    Each event joins the groups of minima ``i`` and ``j`` (skipped when they are already
    joined) in a merge node ``("merge", r)`` with ``level`` and ``members``; the leaves are
    ``("min", i)`` at ``loss[i]``. Shared by :func:`disconnectivity_tree` (Kruskal events) and
    :func:`topoanalysis.levelsets.persistence.merge_tree` (gudhi's killing edges), so that the
    two trees differ only in where their events come from.

    Parameters
    ----------
    loss : ndarray of shape (n,)
        Loss of each minimum.
    events : sequence of (float, int, int)
        Merge level and two minima, in increasing level.
    labels : sequence of str, optional
        Leaf labels (default the indices).

    Returns
    -------
    networkx.DiGraph
        The tree, with ``graph["root"]`` and ``graph["order"]`` (leaf order for drawing).
    """
    n = len(loss)
    T = nx.DiGraph()
    top = {}
    for i in range(n):
        T.add_node(("min", i), kind="minimum", level=float(loss[i]), members=(i,),
                   label=str(labels[i]) if labels is not None else str(i))
        top[i] = ("min", i)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    r = 0
    for w, i, j in events:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        node = ("merge", r)
        r += 1
        members = tuple(sorted(T.nodes[top[ri]]["members"] + T.nodes[top[rj]]["members"]))
        T.add_node(node, kind="merge", level=float(w), members=members)
        T.add_edge(node, top[ri])
        T.add_edge(node, top[rj])
        parent[rj] = ri
        top[ri] = node
    roots = sorted({top[find(i)] for i in range(n)}, key=str)
    if len(roots) == 1:
        root = roots[0]
    else:
        root = ("merge", "virtual")
        T.add_node(root, kind="merge", level=float("inf"), members=tuple(range(n)))
        for r in roots:
            T.add_edge(root, r)
    T.graph["root"] = root
    T.graph["order"] = _leaf_order(T, root)
    return T


def _leaf_order(T, root):
    order = []
    stack = [root]
    while stack:
        u = stack.pop()
        # larger groups to the left (popped first), so funnels draw as staircases
        kids = sorted(T.successors(u), key=lambda v: (len(T.nodes[v]["members"]),
                                                       -T.nodes[v]["level"], str(v)))
        if not kids:
            order.append(T.nodes[u]["members"][0])
        stack.extend(kids)
    return order


def plot_disconnectivity_tree(T, ax=None, *, log=False, title=None):
    """Draw a disconnectivity tree: each minimum a vertical line from its loss up to the
    level where it merges; merges as horizontal bars. Needs matplotlib.

    Parameters
    ----------
    T : networkx.DiGraph
        From :func:`disconnectivity_tree`.
    ax : matplotlib Axes, optional
        Axes to draw in (default: a new figure).
    log : bool, default=False
        Logarithmic loss axis.
    title : str, optional
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn in (that of ``ax`` when given).

    See Also
    --------
    disconnectivity_tree

    References
    ----------
    .. [1] D. J. Wales, "Energy Landscapes", Cambridge University Press, 2003:
           disconnectivity graphs.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(max(5.0, 0.18 * len(T.graph["order"]) + 3), 4.5))
    else:
        fig = ax.figure
    xpos = {("min", i): float(k) for k, i in enumerate(T.graph["order"])}
    finite = [d["level"] for _, d in T.nodes(data=True) if np.isfinite(d["level"])]
    top_level = (max(finite) if finite else 1.0)
    cap = top_level * (1.5 if log else 1.1) if top_level > 0 else 1.0

    def x_of(u):
        if u not in xpos:
            kids = list(T.successors(u))
            xpos[u] = float(np.mean([x_of(v) for v in kids]))
        return xpos[u]

    for u in reversed(list(nx.topological_sort(T))):
        x_of(u)
        level = T.nodes[u]["level"]
        level = cap if not np.isfinite(level) else level
        for v in T.successors(u):
            lv = T.nodes[v]["level"]
            ax.plot([x_of(v), x_of(v)], [lv, level], color="k", lw=1)
        kids = list(T.successors(u))
        if kids:
            xs = [x_of(v) for v in kids]
            ax.plot([min(xs), max(xs)], [level, level], color="k", lw=1)
    for (kind, i), x in list(xpos.items()):
        if kind == "min":
            ax.plot([x], [T.nodes[("min", i)]["level"]], "o", color="tab:blue", ms=3)
    if log:
        ax.set_yscale("log")
    ax.set_xticks([])
    ax.set_xlabel(f"{len(T.graph['order'])} minima")
    ax.set_ylabel("loss (merge level = minimax barrier)")
    if title:
        ax.set_title(title)
    return fig
