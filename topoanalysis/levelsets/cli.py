"""Subcommands ``topoanalysis connect`` and ``topoanalysis barrier``.

``connect A.npz B.npz --data ...``
    Dynamic String Sampling between two saved networks: ``string.npz`` (load with
    :func:`topoanalysis.levelsets.load_string`), ``string.json``, ``string.csv`` (loss along the
    string) and ``string.png``.
``barrier NETS... --data ...``
    Pairwise barriers of many saved networks (linear, ``--align``, ``--strings``), the
    component count against the threshold and the disconnectivity tree: ``barriers.csv``,
    ``components.csv``, ``barrier.json``, ``tree.json``, ``tree.png``, ``components.png``.

``--data`` is a bundled data set (``breast_cancer``, ``quadratic``, ``cubic``,
``cyclic_permutation``) or a ``.npz`` file with arrays ``X`` and ``y``
(:func:`topoanalysis.io.load_data`).
"""

import os

import numpy as np

from .._validation import normalize_name

__all__ = ["add_subcommand", "cmd_connect", "cmd_barrier"]

_BUNDLED = {"breast_cancer": "bce", "quadratic": "l1", "cubic": "l1", "cyclic_permutation": "mse"}


def _load_data(spec, n_samples, data_seed):
    """``(X, y, natural loss)`` from a bundled name or a data file."""
    from .. import datasets
    from ..io import load_data

    if spec in _BUNDLED:
        if spec == "breast_cancer":
            ds = datasets.load_breast_cancer(seed=data_seed)
            return ds.X_train, ds.y_train, "bce"
        if spec == "cyclic_permutation":
            ds = datasets.cyclic_permutation_task()
            return ds.X, ds.y, "mse"
        ds = datasets.polynomial_regression(spec, n_samples=n_samples, seed=data_seed)
        return ds.X, ds.y, "l1"
    X, Y = load_data(spec, "--data")
    return X, Y, "mse"


def _add_data(p):
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True, metavar="NAME|PATH",
                   help="bundled data set (" + ", ".join(_BUNDLED) + ") or a .npz with arrays X "
                        "(N, d) and y")
    g.add_argument("--data-seed", type=int, default=0, help="seed of the split / generator")
    g.add_argument("--n-samples", type=int, default=1000,
                   help="samples of the polynomial tasks (default 1000)")
    g.add_argument("--loss", type=normalize_name, default=None, choices=("mse", "l1", "bce", "cross_entropy"),
                   help="default: the data set's natural loss (mse for files)")


def _add_dss(p):
    g = p.add_argument_group("Dynamic String Sampling (defaults: the authors' settings)")
    g.add_argument("--method", type=normalize_name, default="greedy", choices=("greedy", "constrained", "breadth_first"))
    g.add_argument("--t-star", type=normalize_name, default="midpoint", choices=("midpoint", "argmax"),
                   help="where a new bead starts on a failing gap (default midpoint)")
    g.add_argument("--bead-fraction", type=float, default=0.95,
                   help="beads are trained to this fraction of L0 (default 0.95)")
    g.add_argument("--accept-factor", type=float, default=1.1,
                   help="a gap is accepted below accept-factor * L0 (default 1.1)")
    g.add_argument("--points", type=int, default=100, help="grid points per gap (default 100)")
    g.add_argument("--max-depth", type=int, default=10, help="recursion budget (default 10)")
    g.add_argument("--max-beads", type=int, default=None, help="bead budget per pair")
    g.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    g.add_argument("--steps", type=int, default=5000, help="training steps per bead (default 5000)")


def _dss_options(args):
    return dict(method=args.method, t_star=args.t_star, bead_fraction=args.bead_fraction,
                accept_factor=args.accept_factor, n_points=args.points, max_depth=args.max_depth,
                max_beads=args.max_beads, lr=args.lr, steps=args.steps)


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def cmd_connect(args):
    from ..dynamics import interpolate, path_losses
    from ..exceptions import ValidationError
    from ..io import OutputFolder, load_network, save_figure, write_csv, write_json
    from .connectivity import aligned_barriers
    from .strings import dynamic_string_sampling

    a = load_network(args.a, "A")
    b = load_network(args.b, "B")
    if a.arch != b.arch:
        raise ValidationError(f"`B` must have the architecture of `A` ({a!r}); got {b!r}.")
    X, y, natural = _load_data(args.data, args.n_samples, args.data_seed)
    loss = args.loss or natural
    ends = interpolate(a, b, X, y, loss=loss, ts=[0.0, 1.0]).loss[0]
    threshold = args.threshold if args.threshold is not None else float(max(ends))
    settings = dict(a=os.path.abspath(args.a), b=os.path.abspath(args.b), data=args.data,
                    n_samples=args.n_samples, data_seed=args.data_seed, loss=loss,
                    threshold=threshold, align=args.align, **_dss_options(args))
    with OutputFolder(args.out, command="connect", settings=settings, force=args.force) as out:
        pb = b
        if args.align:
            ab = aligned_barriers(a, b, X, y, loss=loss)
            print(ab.summary())
            from ..network import Network

            a = Network(a.arch, ab.reference_params[0])
            pb = Network(b.arch, ab.aligned_params[0])
        res = dynamic_string_sampling(a, pb, X, y, loss=loss, threshold=threshold,
                                      progress=not args.quiet, **_dss_options(args))
        s = res[0]
        print(f"L(A) = {ends[0]:.5g}, L(B) = {ends[1]:.5g}, L0 = {threshold:.5g}")
        print(s.summary())
        files = [s.save(out.path("string.npz"))]
        files.append(out.path("string.json"))
        write_json(files[-1], s.to_dict())
        pl = path_losses(s.beads, X, y, arch=s.arch, loss=loss, points_per_edge=21)
        pos, curve = pl.along_path()
        seg = np.linalg.norm(np.diff(s.beads, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        k = np.minimum(pos.astype(int), len(seg) - 1)
        arc = cum[k] + (pos - k) * seg[k]
        write_csv(out.path("string.csv"), ["position", "arc_length", "loss"],
                  list(zip(pos, arc, curve[0])))
        files.append(out.path("string.csv"))
        plt = _plt()
        if plt is not None:
            fig, ax = plt.subplots(figsize=(6.5, 4))
            ax.plot(arc, curve[0], color="tab:blue", lw=1)
            ax.plot(cum, s.bead_loss, "o", color="tab:red", ms=3, label="beads")
            ax.axhline(s.accept_level, color="k", ls="--", lw=1, label="accept level")
            ax.set_xlabel("arc length along the string")
            ax.set_ylabel(loss)
            ax.set_title(f"{s.verdict}: {s.n_beads} beads, normalized length "
                         f"{s.normalized_length:.3f}")
            ax.legend()
            fig.tight_layout()
            files.append(save_figure(fig, out.path("string.png")))
    for f in files:
        print(f"wrote {f}")
    return 0


def cmd_barrier(args):
    from ..exceptions import ValidationError
    from ..graphs.levelsets import plot_disconnectivity_tree
    from ..io import OutputFolder, load_network, save_figure, write_csv, write_json
    from .connectivity import pairwise_barriers

    nets = [load_network(p, "NETS") for p in args.nets]
    if len(nets) < 2:
        raise ValidationError(f"`NETS` must name at least 2 network files; got {len(nets)}.")
    if any(n.arch != nets[0].arch for n in nets):
        raise ValidationError("`NETS` must all have the same architecture; got a mixture.")
    if args.strings and args.threshold is None:
        raise ValidationError("`--threshold` must be given with --strings; got none.")
    X, y, natural = _load_data(args.data, args.n_samples, args.data_seed)
    loss = args.loss or natural
    settings = dict(nets=[os.path.abspath(p) for p in args.nets], data=args.data,
                    n_samples=args.n_samples, data_seed=args.data_seed, loss=loss,
                    align=args.align, strings=args.strings, threshold=args.threshold,
                    n_points=args.n_points, dss=_dss_options(args) if args.strings else None)
    with OutputFolder(args.out, command="barrier", settings=settings, force=args.force) as out:
        bm = pairwise_barriers(nets, X, y, loss=loss, align=args.align, strings=args.strings,
                               threshold=args.threshold, n_points=args.n_points,
                               dss_options=_dss_options(args) if args.strings else None,
                               progress=not args.quiet)
        print(bm.summary())
        N = bm.n_minima
        rows = []
        for i in range(N):
            for j in range(i + 1, N):
                row = [i, j, args.nets[i], args.nets[j], bm.linear_barrier[i, j],
                       bm.linear_max[i, j]]
                if bm.aligned_barrier is not None:
                    row += [bm.aligned_barrier[i, j], bm.aligned_max[i, j], bm.drop[i, j]]
                if bm.string_connected is not None:
                    row += [bool(bm.string_connected[i, j]), bm.string_max[i, j],
                            bm.string_n_beads[i, j], bm.string_normalized_length[i, j]]
                row.append(bm.path_max[i, j])
                rows.append(row)
        header = ["i", "j", "net_i", "net_j", "linear_barrier", "linear_max"]
        if bm.aligned_barrier is not None:
            header += ["aligned_barrier", "aligned_max", "drop"]
        if bm.string_connected is not None:
            header += ["string_connected", "string_max", "string_beads",
                       "string_normalized_length"]
        header.append("best_path_max")
        files = [out.path("barriers.csv")]
        write_csv(files[-1], header, rows)
        t, c = bm.component_counts()
        files.append(out.path("components.csv"))
        write_csv(files[-1], ["threshold", "components"], list(zip(t, c)))
        files.append(out.path("barrier.json"))
        write_json(files[-1], bm.to_dict())
        T = bm.disconnectivity_tree(labels=[os.path.basename(p) for p in args.nets])
        files.append(out.path("tree.json"))
        write_json(files[-1], {"root": str(T.graph["root"]), "order": T.graph["order"],
                               "nodes": [{"id": str(u), **{k: v for k, v in d.items()}}
                                         for u, d in T.nodes(data=True)],
                               "edges": [[str(u), str(v)] for u, v in T.edges()]})
        plt = _plt()
        if plt is not None:
            fig = plot_disconnectivity_tree(T, title=f"disconnectivity tree ({loss})")
            files.append(save_figure(fig, out.path("tree.png")))
            fig, ax = plt.subplots(figsize=(6, 4))
            ax.step(t, c, where="post")
            ax.set_xscale("log" if np.all(t > 0) else "linear")
            ax.set_xlabel("threshold λ")
            ax.set_ylabel("components of the level-set graph")
            fig.tight_layout()
            files.append(save_figure(fig, out.path("components.png")))
    for f in files:
        print(f"wrote {f}")
    return 0


def add_subcommand(subparsers):
    """Add ``connect`` and ``barrier`` to the ``topoanalysis`` parser."""
    p = subparsers.add_parser(
        "connect", help="Dynamic String Sampling between two saved networks",
        description="Connect two saved networks by a string of trained beads below a loss "
                    "level (Freeman & Bruna's Dynamic String Sampling); the verdict is "
                    "'connected' or 'not connected within budget'.")
    p.add_argument("a", metavar="A.npz", help="first network")
    p.add_argument("b", metavar="B.npz", help="second network")
    _add_data(p)
    p.add_argument("--threshold", type=float, default=None,
                   help="level L0 (default: the higher of the two networks' losses)")
    p.add_argument("--align", action="store_true",
                   help="balance and permute B onto A first (shallow homogeneous networks)")
    _add_dss(p)
    p.add_argument("--out", default="topoanalysis_connect", metavar="DIR")
    p.add_argument("--force", action="store_true", help="reuse an output folder of other settings")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_connect)

    p = subparsers.add_parser(
        "barrier", help="pairwise barriers and the disconnectivity tree of many networks",
        description="Barriers between every two saved networks (straight segments, after "
                    "symmetry alignment with --align, strings with --strings), the number of "
                    "level-set components against the threshold and the disconnectivity tree.")
    p.add_argument("nets", nargs="+", metavar="NETS", help="network files (.npz)")
    _add_data(p)
    p.add_argument("--align", action="store_true", help="also after balance + weight matching")
    p.add_argument("--strings", action="store_true", help="also Dynamic String Sampling")
    p.add_argument("--threshold", type=float, default=None, help="L0 of the strings")
    p.add_argument("--n-points", type=int, default=101, help="points per segment (default 101)")
    _add_dss(p)
    p.add_argument("--out", default="topoanalysis_barrier", metavar="DIR")
    p.add_argument("--force", action="store_true", help="reuse an output folder of other settings")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_barrier)
