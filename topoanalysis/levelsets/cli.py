"""Subcommands ``topoanalysis connect`` and ``topoanalysis barrier``.

``connect A.npz B.npz --data ...``
    Dynamic String Sampling between two saved networks: ``string.npz`` (load with
    :func:`topoanalysis.levelsets.load_string`), ``string.json``, ``string.csv`` (loss along the
    string) and ``string.png``.
``barrier NETS... --data ...``
    Pairwise barriers of many saved networks (linear, ``--align``, ``--strings``), the
    component count against the threshold and the disconnectivity tree: ``barriers.csv``,
    ``components.csv``, ``barrier.json``, ``tree.json``, ``tree.png``, ``components.png``.

Both speak the command's one vocabulary (:mod:`topoanalysis.cli`): positional networks,
``--data NAME|PATH`` with every bundled name (:func:`topoanalysis.datasets.dataset_names`) or a
``.npz`` file with arrays ``X`` and ``y``, ``--out``, ``--seed``, ``--threads``, ``--quiet``,
``--force``.
"""

import argparse
import os
import warnings

import numpy as np

from .._validation import normalize_name

__all__ = ["add_subcommand", "cmd_connect", "cmd_barrier"]


def _count(n):
    return f"{n:,.0f}" if n < 1e9 else f"{n:.3g}"


def _dss_work(args, arch, n_samples, pairs=1):
    """Refuse, before any work, a string search whose worst case does not fit the budgets.

    A pair needs at most ``min(2^max_depth - 1, max_beads)`` inner beads (each failing gap is
    halved at most ``--max-depth`` times); each bead is trained for at most its step budget
    (:func:`_bead_step_budget`: ``--bead-steps`` when given, else the adaptive budget's stated
    maximum ``--bead-max-steps``; the engine's cost model) and its gaps are evaluated at
    ``--points`` points. Memory: the beads with their optimizer states (x4) and one gap's grid;
    time: refused past the time budget unless ``--force``.
    """
    from ..cli import check_memory_budget, check_time_budget
    from ..dynamics._engine import resolve_threads
    from ..dynamics.train import estimate_step_seconds

    # 2^60 beads is past every budget already; capping keeps the figures finite and short
    depth_beads = 2.0 ** min(args.max_depth, 60) - 1
    beads = depth_beads if args.max_beads is None else min(depth_beads, args.max_beads)
    P = arch.n_params
    check_memory_budget(8.0 * pairs * (beads + 2) * P * 4
                        + 8.0 * args.points * (P + n_samples * (sum(arch.hidden) + arch.outputs)),
                        f"up to {_count(beads)} beads per pair × {pairs} pair(s) "
                        f"(--max-depth {args.max_depth})",
                        "reduce --max-depth or give --max-beads")
    per_step = estimate_step_seconds(1, n_samples, P, resolve_threads(args.threads, 1))
    steps, flag = _bead_step_budget(args)
    seconds = pairs * beads * (steps * per_step + args.points * per_step)
    check_time_budget(seconds, f"a worst-case string search ({_count(beads)} beads per pair × "
                               f"{_count(steps)} steps × {pairs} pair(s))",
                      f"reduce --max-depth or {flag}, or give --max-beads", force=args.force)


def _bead_step_budget(args):
    """The most training steps one bead may take, and the flag that sets it.

    ``--bead-steps N`` is a fixed cap. Without it the greedy method trains every bead to its
    target with the adaptive budget (:func:`~topoanalysis.levelsets.dynamic_string_sampling`,
    ``steps=None``), whose stated maximum is ``--bead-max-steps``: the honest worst case of a
    bead. The penalized methods use the API's fixed 5000 steps.
    """
    if args.bead_steps is not None:
        return args.bead_steps, "--bead-steps"
    if args.method == "greedy":
        return args.bead_max_steps, "--bead-max-steps (or give a fixed --bead-steps)"
    return DEFAULT_PENALIZED_STEPS, "--bead-steps"


#: Steps per bead of the penalized methods when ``--bead-steps`` is not given (the API's).
DEFAULT_PENALIZED_STEPS = 5000


def _add_threshold_align(p):
    from ..cli import _positive_float

    p.add_argument("--threshold", type=_positive_float, default=None,
                   help="loss level L0 of the strings (connect: default the higher of the two "
                        "networks' losses; barrier: needed with --strings)")
    p.add_argument("--align", action="store_true",
                   help="also align by the symmetries first: balance, then permute each second "
                        "network onto the first (shallow homogeneous networks)")


def _add_dss(p):
    from ..cli import _Deprecated, _nonnegative_int, _positive_float, _positive_int

    g = p.add_argument_group("Dynamic String Sampling (defaults: the authors' settings)")
    g.add_argument("--method", type=normalize_name, default="greedy",
                   choices=("greedy", "constrained", "breadth_first"))
    g.add_argument("--t-star", type=normalize_name, default="midpoint",
                   choices=("midpoint", "argmax"),
                   help="where a new bead starts on a failing gap (default midpoint)")
    g.add_argument("--bead-fraction", type=_positive_float, default=0.95,
                   help="beads are trained to this fraction of L0 (default 0.95)")
    g.add_argument("--accept-factor", type=_positive_float, default=1.1,
                   help="a gap is accepted below accept-factor * L0 (default 1.1)")
    g.add_argument("--points", type=_positive_int, default=100,
                   help="grid points per gap (default 100)")
    g.add_argument("--max-depth", type=_nonnegative_int, default=10,
                   help="recursion budget: at most 2^max-depth - 1 beads per pair (default 10)")
    g.add_argument("--max-beads", type=_nonnegative_int, default=None,
                   help="bead budget per pair")
    g.add_argument("--bead-lr", type=_positive_float, default=1e-3,
                   help="Adam learning rate of the beads (default 1e-3)")
    g.add_argument("--bead-steps", type=_positive_int, default=None,
                   help="a fixed cap of training steps per bead (default: each bead is trained "
                        "to its target with the adaptive budget, at most --bead-max-steps; the "
                        "penalized methods: 5000)")
    g.add_argument("--bead-max-steps", type=_positive_int, default=200_000,
                   help="the adaptive budget's stated maximum of training steps per bead "
                        "(default 200000); a string whose bead stops above its target is "
                        "reported as budget-limited")
    g.add_argument("--grid-check-only", action="store_true",
                   help="accept a string on its grid of --points per piece only (default: "
                        "'connected' only when the loss is proven below the accept level "
                        "between the grid points too)")
    g.add_argument("--certify-points", type=_positive_int, default=4096,
                   help="largest refined grid per piece for that proof (default 4096)")
    g.add_argument("--lr", dest="bead_lr", action=_Deprecated, type=_positive_float,
                   new="--bead-lr",
                   help=argparse.SUPPRESS)
    g.add_argument("--steps", dest="bead_steps", action=_Deprecated, type=_positive_int,
                   new="--bead-steps", help=argparse.SUPPRESS)


def _dss_options(args):
    return dict(method=args.method, t_star=args.t_star, bead_fraction=args.bead_fraction,
                accept_factor=args.accept_factor, n_points=args.points, max_depth=args.max_depth,
                max_beads=args.max_beads, lr=args.bead_lr, steps=args.bead_steps,
                max_steps=args.bead_max_steps, seed=args.seed, n_threads=args.threads,
                certify=False if args.grid_check_only else "auto",
                certify_points=max(args.certify_points, args.points))


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
    from ..exceptions import DivergenceWarning, ValidationError
    from ..cli import data_of, networks_of, output_of
    from ..io import OutputFolder, load_network, save_figure, write_csv, write_json
    from .connectivity import aligned_barriers
    from .strings import dynamic_string_sampling

    path_a, path_b = networks_of(args)
    a = load_network(path_a, "A")
    b = load_network(path_b, "B")
    if a.arch != b.arch:
        raise ValidationError(f"`B` must have the architecture of `A` ({a!r}); got {b!r}.")
    data = data_of(args, inputs=a.arch.inputs)
    X, y = data.X, data.y
    loss = args.loss or data.loss
    _dss_work(args, a.arch, X.shape[0])
    with warnings.catch_warnings():   # a divergence is refused below in one line
        warnings.simplefilter("ignore", DivergenceWarning)
        ends = interpolate(a, b, X, y, loss=loss, ts=[0.0, 1.0]).loss[0]
    for name, value in zip("AB", ends):   # named here, not as the derived threshold
        if not np.isfinite(value):
            raise ValidationError(f"`{name}` must have a finite loss on the data; got "
                                  f"{float(value)} (the outputs overflow float64: rescale the "
                                  "networks or the data).")
    threshold = args.threshold if args.threshold is not None else float(max(ends))
    options = _dss_options(args)
    settings = dict(a=os.path.abspath(path_a), b=os.path.abspath(path_b), data=data.name,
                    n_samples=args.n_samples, data_seed=args.data_seed, loss=loss,
                    threshold=threshold, align=args.align,
                    **{k: v for k, v in options.items() if k != "n_threads"})
    with OutputFolder(output_of(args), command="connect", settings=settings, force=args.force) as out:
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
        report = s.to_dict()
        bounds = s.edge_upper
        if bounds is None and s.certified is None and not args.grid_check_only:
            # a string failing its grid check: the bound on the same grid, for the record
            bounds = s.loss_bounds(X, y, loss=loss)
        if bounds is not None:
            proven = bool(np.all(bounds < s.accept_level))
            print(f"between grid points the loss is at most {float(np.max(bounds)):.5g}: "
                  + ("proven below the accept level" if proven else
                     "not proven below the accept level (a larger --certify-points may "
                     "prove it)"))
            report["loss_bounds"] = [float(v) for v in bounds]
            report["proven_below_accept_level"] = proven
        files = [s.save(out.path("string.npz"))]
        files.append(out.path("string.json"))
        write_json(files[-1], report)
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

    from ..cli import check_memory_budget, data_of, networks_of, output_of

    paths = networks_of(args)
    nets = [load_network(p, "NET.npz") for p in paths]
    if any(n.arch != nets[0].arch for n in nets):
        raise ValidationError("`NET.npz` files must all have the same architecture; got a "
                              "mixture.")
    if args.strings and args.threshold is None:
        raise ValidationError("`--threshold` must be given with --strings; got none.")
    data = data_of(args, inputs=nets[0].arch.inputs)
    X, y = data.X, data.y
    loss = args.loss or data.loss
    arch = nets[0].arch
    pairs = len(nets) * (len(nets) - 1) // 2
    check_memory_budget(8.0 * pairs * args.n_points
                        * (arch.n_params + X.shape[0] * (sum(arch.hidden) + arch.outputs) + 8),
                        f"{pairs} segments × {args.n_points:,} points", "reduce --n-points")
    if args.strings:
        _dss_work(args, arch, X.shape[0], pairs=pairs)
    options = _dss_options(args)
    dss = {k: v for k, v in options.items() if k not in ("n_threads", "seed")}
    settings = dict(nets=[os.path.abspath(p) for p in paths], data=data.name,
                    n_samples=args.n_samples, data_seed=args.data_seed, loss=loss,
                    align=args.align, strings=args.strings, threshold=args.threshold,
                    n_points=args.n_points, dss=dss if args.strings else None, seed=args.seed,
                    bounds=args.bounds)
    with OutputFolder(output_of(args), command="barrier", settings=settings, force=args.force) as out:
        bm = pairwise_barriers(nets, X, y, loss=loss, align=args.align, strings=args.strings,
                               threshold=args.threshold, n_points=args.n_points,
                               dss_options=dss if args.strings else None,
                               n_threads=args.threads, progress=not args.quiet,
                               bounds=args.bounds)
        print(bm.summary())
        N = bm.n_minima
        rows = []
        for i in range(N):
            for j in range(i + 1, N):
                row = [i, j, paths[i], paths[j], bm.linear_barrier[i, j],
                       bm.linear_max[i, j]]
                if bm.aligned_barrier is not None:
                    row += [bm.aligned_barrier[i, j], bm.aligned_max[i, j], bm.drop[i, j]]
                if bm.string_connected is not None:
                    row += [bool(bm.string_connected[i, j]), bm.string_max[i, j],
                            bm.string_n_beads[i, j], bm.string_normalized_length[i, j]]
                row.append(bm.path_max[i, j])
                if args.bounds:
                    row.append(bm.path_upper[i, j])
                rows.append(row)
        header = ["i", "j", "net_i", "net_j", "linear_barrier", "linear_max"]
        if bm.aligned_barrier is not None:
            header += ["aligned_barrier", "aligned_max", "drop"]
        if bm.string_connected is not None:
            header += ["string_connected", "string_max", "string_beads",
                       "string_normalized_length"]
        header.append("best_path_max")
        if args.bounds:
            header.append("best_path_upper")
        files = [out.path("barriers.csv")]
        write_csv(files[-1], header, rows)
        if args.bounds:
            tp, cp = bm.component_counts(proven=True)
            files.append(out.path("components_proven.csv"))
            write_csv(files[-1], ["threshold", "components"], list(zip(tp, cp)))
        t, c = bm.component_counts()
        files.append(out.path("components.csv"))
        write_csv(files[-1], ["threshold", "components"], list(zip(t, c)))
        files.append(out.path("barrier.json"))
        write_json(files[-1], bm.to_dict())
        T = bm.disconnectivity_tree(labels=[os.path.basename(p) for p in paths])
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
    from ..cli import (_positive_int, add_common_args, add_data_args, add_network_args,
                       add_output_args)

    p = subparsers.add_parser(
        "connect", help="Dynamic String Sampling between two saved networks",
        description="Connect two saved networks A and B by a string of trained beads below a "
                    "loss level (Freeman & Bruna's Dynamic String Sampling); the verdict is "
                    "'connected' or 'not connected within budget'. The worst case (2^max-depth "
                    "beads) is estimated first and refused past the memory and time budgets.")
    add_network_args(p, 2, "A B: the two ends of the string")
    add_data_args(p)
    _add_threshold_align(p)
    _add_dss(p)
    add_output_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_connect)

    p = subparsers.add_parser(
        "barrier", help="pairwise barriers and the disconnectivity tree of many networks",
        description="Barriers between every two of the saved networks NET.npz ... (straight "
                    "segments, after symmetry alignment with --align, strings with --strings), "
                    "the number of level-set components against the threshold and the "
                    "disconnectivity tree.")
    add_network_args(p, "2+", "two or more networks: every pair is compared")
    add_data_args(p)
    _add_threshold_align(p)
    p.add_argument("--strings", action="store_true", help="also Dynamic String Sampling")
    p.add_argument("--n-points", type=_positive_int, default=101,
                   help="points on each segment (default 101)")
    p.add_argument("--bounds", action="store_true",
                   help="also prove an upper bound of the loss on every path: best_path_upper "
                        "in barriers.csv, components_proven.csv")
    _add_dss(p)
    add_output_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_barrier)
