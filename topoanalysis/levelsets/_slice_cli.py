"""Subcommand ``topoanalysis slice NET.npz [--other NET2.npz [NET3.npz]] --data ... --out DIR``.

- one network: a 2-D slice along two filter-normalized random directions around it (1-D with
  ``--dim 1``);
- ``--other NET2``: the segment from NET to NET2 (1-D with ``--dim 1``; 2-D: the plane of the
  segment and a filter-normalized random direction orthogonal to it);
- ``--other NET2 NET3``: the plane through the three networks.

Writes ``slice.npz`` (grid, loss, directions, overlays; :meth:`LossSurface.save`),
``slice.json`` (the summary, coordinates and losses, strict JSON), ``slice.png`` (contour, or
curve) and, for 2-D slices, ``slice_surface.png`` and — with gudhi installed —
``persistence.json`` and ``persistence.png`` (sublevel-set persistence of the grid).
"""

import os

__all__ = ["add_parser", "run"]


def add_parser(subparsers):
    """Add ``slice`` to the ``topoanalysis`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The parser added (shared vocabulary: positional ``NET.npz``, ``--data``, ``--out``,
        ``--seed``, ``--threads``, ``--quiet``, ``--force``).
    """
    import argparse

    from ..cli import (_Deprecated, _positive_float, _positive_int, add_common_args, add_data_args,
                       add_network_args, add_output_args)

    p = subparsers.add_parser(
        "slice", help="1-D and 2-D loss surfaces around saved networks",
        description="Loss on a grid around a saved network (filter-normalized random "
                    "directions, Li et al. 2018), along the segment to a second network, or in "
                    "the plane through three; one batched engine call. Writes slice.npz, "
                    "slice.json and slice.png.")
    add_network_args(p, "+", "NET [NET2 [NET3]]: one network (random directions around it), "
                             "two (the segment) or three (their plane)")
    p.add_argument("--other", nargs="+", default=[], metavar="NET2.npz",
                   help="old spelling of the 2nd and 3rd positional networks")
    add_data_args(p)
    p.add_argument("--dim", type=int, default=2, choices=(1, 2), help="1-D or 2-D (default 2)")
    p.add_argument("--grid-points", dest="n", type=_positive_int, default=51,
                   metavar="N", help="grid points per direction, at least 2 (default 51)")
    p.add_argument("--n", dest="n", action=_Deprecated, type=_positive_int,
                   new="--grid-points", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--span", type=_positive_float, default=1.0,
                   help="random directions: coordinates in [-span, span] (default 1)")
    p.add_argument("--margin", type=float, default=0.25,
                   help="segment and plane: grid beyond the networks, a fraction in [0, 10] "
                        "(default 0.25)")
    add_output_args(p)
    add_common_args(p)
    p.set_defaults(func=run)
    return p


def run(args):
    """Run ``topoanalysis slice``; returns the exit status."""
    from ..exceptions import ValidationError
    from ..io import OutputFolder, load_network, save_figure, write_json
    from ..landscape import Landscape
    from . import slices
    from ..cli import check_memory_budget, data_of, networks_of, output_of
    from .cli import _plt

    paths = list(networks_of(args)) + list(args.other)
    if len(paths) > 3:
        raise ValidationError(f"`NET.npz` takes one to three networks; got {len(paths)}.")
    # checked here, named by their flags: the library would name its own parameters
    # (`n`, `extend`) and refuses a negative margin anyway
    if args.n < 2:
        raise ValidationError(f"`--grid-points` must be an integer >= 2; got {args.n}.")
    if not 0 <= args.margin <= 10:
        raise ValidationError(f"`--margin` must be in [0, 10]; got {args.margin}.")
    points = args.n ** args.dim
    check_memory_budget(points * 8.0 * 4, f"a grid of {points} points",
                        "reduce --grid-points")
    net = load_network(paths[0], param="NET")
    others = [load_network(p, param="NET") for p in paths[1:]]
    for o in others:
        if o.arch != net.arch:
            raise ValidationError(f"`--other` networks must have the architecture of NET "
                                  f"({net.arch}); got {o.arch}.")
    if len(others) == 2 and args.dim == 1:
        raise ValidationError("`--dim` must be 2 for the plane through three networks; got 1.")
    data = data_of(args, inputs=net.arch.inputs)
    X, y = data.X, data.y
    loss = args.loss or data.loss
    land = Landscape(net.arch, X, y, loss, n_threads=args.threads)
    _check_finite_losses(land, [net, *others], paths)
    settings = dict(networks=[os.path.abspath(p) for p in paths], data=data.name,
                    n_samples=args.n_samples, data_seed=args.data_seed, loss=loss, dim=args.dim,
                    n=args.n, span=args.span, margin=args.margin, seed=args.seed)
    files = []
    with OutputFolder(output_of(args), command="slice", settings=settings, force=args.force) as out:
        if not others:
            s = slices.random_slice(land, net, dim=args.dim, span=args.span, n=args.n,
                                    seed=args.seed)
        elif len(others) == 1:
            s = slices.segment_slice(land, net, others[0], n=args.n, extend=args.margin,
                                     width=None if args.dim == 1 else 0.5, seed=args.seed)
        else:
            s = slices.plane_slice(land, net, others[0], others[1], n=args.n,
                                   margin=args.margin)
        if not args.quiet:
            print(land.summary())
            print(s.summary())
        files.append(s.save(out.path("slice.npz")))
        files.append(write_json(out.path("slice.json"),
                                {"summary": s.summary(), **s.to_dict()}))
        if s.dim == 2:
            try:
                from .persistence import surface_persistence

                pd = surface_persistence(s)
            except ImportError:
                pd = None
            if pd is not None:
                files.append(write_json(out.path("persistence.json"),
                                        {"summary": pd.summary(), **pd.to_dict()}))
                if not args.quiet:
                    print(pd.summary())
        plt = _plt()
        if plt is not None:
            files.append(save_figure(s.plot("contour"),
                                     out.path("slice.png")))
            if s.dim == 2:
                files.append(save_figure(s.plot("surface"), out.path("slice_surface.png")))
                if pd is not None:
                    files.append(save_figure(pd.plot(), out.path("persistence.png")))
        elif not args.quiet:
            print("matplotlib not installed: no figures (pip install \"topoanalysis[plot]\")")
    for f in files:
        print(f"wrote {f}")
    return 0


def _check_finite_losses(land, nets, paths):
    """Refuse, in one line, networks whose loss on the data left float64 (parameters or data
    of 1e150 and beyond): their slice would be NaN everywhere, and the directions built from
    them are not finite."""
    import warnings

    import numpy as np

    from ..exceptions import ValidationError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # the refusal below says it in one line
        losses = np.atleast_1d(land.loss(nets))
    for path, value in zip(paths, losses):
        if not np.isfinite(value):
            raise ValidationError(f"`NET.npz` {path!r} must have a finite loss on the data; "
                                  f"got {float(value)} (the outputs overflow float64: rescale "
                                  "the network or the data).")
