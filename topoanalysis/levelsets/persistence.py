"""Sublevel-set persistence of the loss: of a sampled 2-D slice and of the graph of minima.

Two filtrations of the loss ``L`` and their persistence diagrams (computed with gudhi, the
optional extra ``pip install "topoanalysis[topology]"``):

- **a sampled slice** (:func:`surface_persistence`): the cubical complex of a
  :class:`~topoanalysis.levelsets.slices.LossSurface` grid, each grid value a top cell,
  filtered by the loss. A 0-dimensional pair ``(b, d)`` is a basin of the slice born at its
  minimum ``b`` that merges into an older (deeper) basin at the saddle level ``d``; 1-dimensional
  pairs are loops of sublevel sets (rings of low loss around a hill).
- **the graph of minima** (:func:`minima_persistence`): vertices the minima at their loss, an
  edge ``{i, j}`` at ``max(path_max[i, j], L_i, L_j)``, the level at which the best known path
  joins them (a :class:`~topoanalysis.levelsets.BarrierMatrix`). Its 0-dimensional persistence
  is the barrier structure of the minima: each finite pair is one minimum (its loss) and the
  level at which it first joins a deeper one. :func:`merge_tree` turns the pairs gudhi
  returns into the merge tree, which equals the disconnectivity tree of
  :func:`topoanalysis.graphs.disconnectivity_tree` (tested).

References: Edelsbrunner & Harer, *Computational Topology* (2010), VII (persistence) and the
elder rule; the merge tree / disconnectivity graph of Becker & Karplus (1997).
"""

import dataclasses

import numpy as np

from .._validation import check_array, check_float
from ..exceptions import ValidationError

__all__ = [
    "PersistenceDiagram",
    "surface_persistence",
    "minima_persistence",
    "merge_tree",
]


def _gudhi():
    try:
        import gudhi
    except ImportError:
        raise ImportError("persistence needs gudhi: pip install \"topoanalysis[topology]\"") \
            from None
    return gudhi


@dataclasses.dataclass(frozen=True, eq=False)
class PersistenceDiagram:
    """Persistence pairs of a sublevel-set filtration of the loss.

    Attributes
    ----------
    pairs : dict
        ``dim -> ndarray of shape (m, 2)`` of ``(birth, death)`` levels; ``death = inf`` for
        an essential class (the deepest basin of each connected piece).
    source : str
        ``"surface"`` or ``"minima"``.
    info : dict
        Provenance (grid shape, number of minima, ...).
    """

    pairs: dict
    source: str
    info: dict

    def diagram(self, dim=0):
        """``(m, 2)`` pairs of dimension ``dim`` (empty when there are none).

        Parameters
        ----------
        dim : int, default=0
            Homology dimension.

        Returns
        -------
        ndarray of shape (m, 2)
            ``(birth, death)`` pairs (``death = inf`` for essential classes).
        """
        return self.pairs.get(dim, np.zeros((0, 2)))

    def persistence(self, dim=0):
        """Lifetimes ``death − birth`` of the pairs of dimension ``dim`` (``inf`` for essential
        classes), sorted decreasing.

        Parameters
        ----------
        dim : int, default=0
            Homology dimension.

        Returns
        -------
        ndarray of shape (m,)
            The lifetimes.
        """
        D = self.diagram(dim)
        # essential classes live forever, also a minimum of infinite loss ((inf, inf): its
        # inf − inf was NaN, counted as essential by summary but by no n_features)
        with np.errstate(invalid="ignore"):
            life = np.where(np.isinf(D[:, 1]), np.inf, D[:, 1] - D[:, 0])
        return np.sort(life)[::-1]

    def n_features(self, dim=0, min_persistence=0.0):
        """Number of classes of dimension ``dim`` living longer than ``min_persistence``.

        Parameters
        ----------
        dim : int, default=0
            Homology dimension.
        min_persistence : float, default=0.0
            Count only classes living longer than this.

        Returns
        -------
        int
            The number of classes.
        """
        return int(np.sum(self.persistence(dim) > min_persistence))

    def summary(self):
        """One line: the number of classes and the longest finite lifetime of each dimension.

        Returns
        -------
        str
            The summary.
        """
        parts = []
        for dim in sorted(self.pairs):
            p = self.persistence(dim)
            fin = p[np.isfinite(p)]
            parts.append(f"H{dim}: {p.size} classes ({int(np.sum(~np.isfinite(p)))} essential"
                         + (f", largest finite persistence {fin.max():.4g}" if fin.size else "")
                         + ")")
        what = "sampled slice" if self.source == "surface" else "graph of minima"
        return f"sublevel-set persistence of the {what}: " + "; ".join(parts)

    def to_dict(self):
        """The diagram as plain JSON types (``inf`` deaths as ``null``; so is the birth of a
        minimum of infinite loss, the diagonal of a ``path_max`` without ``node_loss``).

        Returns
        -------
        dict
            ``source``, ``info`` and ``pairs`` (the pairs of every dimension).
        """
        def num(v):
            return float(v) if np.isfinite(v) else None

        def enc(D):
            return [[num(b), num(d)] for b, d in D]

        return {"source": self.source, "info": self.info,
                "pairs": {str(k): enc(v) for k, v in sorted(self.pairs.items())}}

    def plot(self, ax=None, title=None):
        """Persistence diagram (birth against death; essential classes on a top line).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw in (default: a new figure).
        title : str, optional
            Title of the axes.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn in (that of ``ax`` when given).
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(4.5, 4.5))
        fig = ax.figure
        allv = np.concatenate([D.ravel() for D in self.pairs.values()] or [np.zeros(1)])
        fin = allv[np.isfinite(allv)]
        lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
        pad = 0.05 * (hi - lo or 1.0)
        top = hi + 2 * pad
        for dim in sorted(self.pairs):
            D = self.pairs[dim]
            d = np.where(np.isfinite(D[:, 1]), D[:, 1], top)
            ax.scatter(D[:, 0], d, s=14, label=f"H{dim}", alpha=0.8)
        ax.plot([lo - pad, top], [lo - pad, top], "k-", lw=0.7)
        ax.axhline(top, color="gray", ls="--", lw=0.7)
        ax.set_xlabel("birth (loss)")
        ax.set_ylabel("death (loss); dashed: never")
        ax.legend(fontsize=8)
        ax.set_title(title or f"persistence diagram ({self.source})")
        fig.tight_layout()
        return fig


def _pairs_by_dim(raw):
    out = {}
    for dim, (b, d) in raw:
        out.setdefault(int(dim), []).append((float(b), float(d)))
    return {k: np.array(sorted(v)) for k, v in out.items()}


def surface_persistence(surface, *, min_persistence=0.0):
    """Sublevel-set persistence of a sampled 2-D slice (cubical complex, gudhi).

    Parameters
    ----------
    surface : LossSurface or array_like of shape (n1, n2)
        A 2-D slice (:mod:`topoanalysis.levelsets.slices`) or a grid of loss values.
    min_persistence : float, default=0.0
        Drop pairs living at most this long (noise of the sampling).

    Returns
    -------
    PersistenceDiagram
        ``pairs[0]``: basins of the slice; ``pairs[1]``: loops.

    See Also
    --------
    minima_persistence, topoanalysis.levelsets.slices.random_slice

    Notes
    -----
    Non-finite grid values (diverged outputs) are set above the largest finite value.
    ``O(n log n)`` in the ``n = n1 · n2`` cells.

    References
    ----------
    .. [1] H. Li, Z. Xu, G. Taylor, C. Studer, T. Goldstein, "Visualizing the loss landscape
           of neural nets", NeurIPS 2018: 2-D slices of the loss (Sections 4 and 7).
    .. [2] H. Edelsbrunner, J. Harer, "Computational Topology: An Introduction", AMS 2010:
           Persistent homology: sublevel-set filtrations, 0-dimensional persistence and
           merge trees (Chapters V–VII).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-2, 2, 41)
    >>> Z = np.minimum((x[:, None] - 1) ** 2, (x[:, None] + 1) ** 2 + 0.5) + x[None, :] ** 2
    >>> d = surface_persistence(Z)          # two basins: the deeper one never dies
    >>> d.n_features(0, min_persistence=0.1)
    2
    """
    gudhi = _gudhi()
    Z = check_array("surface", getattr(surface, "loss", surface), finite=False)
    if Z.ndim != 2 or min(Z.shape) < 2:
        raise ValidationError(f"`surface` must be a 2-D slice (a grid of shape (n1, n2)); got "
                              f"shape {Z.shape}.")
    fin = np.isfinite(Z)
    if not fin.any():
        raise ValidationError("`surface` holds no finite loss value.")
    top = Z[fin].max()
    # strictly above: `top + 1` rounds back to `top` from 2^53 on (inf above the largest float)
    with np.errstate(over="ignore"):
        above = top + 1.0 if top + 1.0 > top else np.nextafter(top, np.inf)
    Z = np.where(fin, Z, above)
    mp = check_float("min_persistence", min_persistence, minimum=0.0)
    cc = gudhi.CubicalComplex(top_dimensional_cells=Z)
    raw = cc.persistence(homology_coeff_field=2, min_persistence=mp)
    return PersistenceDiagram(pairs=_pairs_by_dim(raw), source="surface",
                              info={"shape": list(Z.shape), "kind": getattr(surface, "kind", None)})


def _minima_matrix(minima, node_loss):
    from ..graphs.levelsets import _check_matrix

    if hasattr(minima, "path_max") and hasattr(minima, "node_loss"):
        if node_loss is not None:
            raise ValidationError("`node_loss` must be None with a BarrierMatrix (it holds them).")
        return _check_matrix(minima.path_max, minima.node_loss)
    return _check_matrix(minima, node_loss)


def _simplex_tree(M, loss):
    gudhi = _gudhi()
    st = gudhi.SimplexTree()
    n = M.shape[0]
    for i in range(n):
        st.insert([i], filtration=float(loss[i]))
    iu, ju = np.triu_indices(n, 1)
    for i, j in zip(iu, ju):
        w = max(M[i, j], loss[i], loss[j])   # a path is never lower than its ends
        if np.isfinite(w):
            st.insert([int(i), int(j)], filtration=float(w))
    st.make_filtration_non_decreasing()
    # min_persistence=-1 keeps the zero-length pairs: a minimum whose best path rises no
    # higher than itself merges at its own level (a real merge of the tree);
    # persistence_dim_max: a complex of vertices only (one minimum, or no finite edge) has
    # dimension 0, and gudhi would otherwise compute no class at all, not one per minimum
    st.compute_persistence(homology_coeff_field=2, min_persistence=-1.0,
                           persistence_dim_max=True)
    return st


def minima_persistence(minima, node_loss=None):
    """0-dimensional persistence of the graph of minima filtered by loss and barrier level.

    Parameters
    ----------
    minima : BarrierMatrix or array_like of shape (N, N)
        A :class:`~topoanalysis.levelsets.BarrierMatrix` (its best known paths) or the
        symmetric matrix ``path_max`` of :func:`topoanalysis.graphs.level_set_graph`.
    node_loss : array_like of shape (N,), optional
        Losses of the minima (default: the diagonal of ``path_max``).

    Returns
    -------
    PersistenceDiagram
        ``pairs[0]``: ``(L_i, level)`` for every minimum but the deepest of each group, the
        level where it joins a deeper minimum; ``(L_min, inf)`` for the deepest.

    See Also
    --------
    merge_tree, surface_persistence

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: level sets Ω_F(λ) = {θ : F(θ) ≤ λ} and their
           connectivity (Section 2); the barrier levels come from their paths between minima
           (Section 3).
    .. [2] H. Edelsbrunner, J. Harer, "Computational Topology: An Introduction", AMS 2010:
           Persistent homology: sublevel-set filtrations, 0-dimensional persistence and
           merge trees (Chapters V–VII).

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[0.1, 0.5, 0.9], [0.5, 0.2, 0.9], [0.9, 0.9, 0.1]])
    >>> minima_persistence(M).diagram(0).tolist()
    [[0.1, 0.9], [0.1, inf], [0.2, 0.5]]
    """
    M, loss = _minima_matrix(minima, node_loss)
    st = _simplex_tree(M, loss)
    raw = [(0, (float(b), float(d))) for b, d in st.persistence_intervals_in_dimension(0)]
    return PersistenceDiagram(pairs=_pairs_by_dim(raw), source="minima",
                              info={"n_minima": int(M.shape[0])})


def merge_tree(minima, node_loss=None, labels=None):
    """The merge tree of the minima from gudhi's 0-dimensional persistence pairs.

    Each finite pair of :func:`minima_persistence` is a vertex (the younger minimum) killed by
    an edge ``{i, j}`` at the merge level; replaying the killing edges in order of level with a
    union–find gives the tree.

    Parameters
    ----------
    minima : BarrierMatrix or array_like of shape (N, N)
        As in :func:`minima_persistence`.
    node_loss : array_like of shape (N,), optional
        As in :func:`minima_persistence`.
    labels : sequence of str, optional
        Name of each minimum (default: its index).

    Returns
    -------
    networkx.DiGraph
        The node and graph attributes of :func:`topoanalysis.graphs.disconnectivity_tree`
        (leaves ``("min", i)``, merge nodes ``("merge", r)`` with ``level`` and ``members``,
        ``root``), which it equals up to the numbering of merge nodes at tied levels and the
        order of several merges at one level (the groups joined at each level are the same).

    See Also
    --------
    minima_persistence, topoanalysis.graphs.disconnectivity_tree

    References
    ----------
    .. [1] C. D. Freeman, J. Bruna, "Topology and geometry of half-rectified network
           optimization", ICLR 2017: connectivity of the level sets between minima (Sections
           2–3).
    .. [2] H. Edelsbrunner, J. Harer, "Computational Topology: An Introduction", AMS 2010:
           Persistent homology: sublevel-set filtrations, 0-dimensional persistence and
           merge trees (Chapters V–VII).
    .. [3] O. M. Becker, M. Karplus, "The topology of multidimensional potential energy
           surfaces: theory and application to peptide structure and kinetics", J. Chem.
           Phys. 106, 1997: disconnectivity graphs.
    """
    from ..graphs.levelsets import _check_tree_size

    M, loss = _minima_matrix(minima, node_loss)
    n = _check_tree_size(M)
    if labels is not None and len(labels) != n:
        raise ValidationError(f"`labels` must hold {n} names; got {len(labels)}.")
    st = _simplex_tree(M, loss)
    kills = []
    for birth, death in st.persistence_pairs():
        if len(birth) == 1 and len(death) == 2:
            kills.append((st.filtration(death), tuple(sorted(death))))
    kills.sort()
    from ..graphs.levelsets import merge_tree_from_events

    return merge_tree_from_events(loss, [(w, i, j) for w, (i, j) in kills], labels)

