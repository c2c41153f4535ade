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
    """Add ``slice`` to the ``topoanalysis`` parser."""
    from .cli import _add_data

    p = subparsers.add_parser(
        "slice", help="1-D and 2-D loss surfaces around saved networks",
        description="Loss on a grid around a saved network (filter-normalized random "
                    "directions, Li et al. 2018), along the segment to a second network, or in "
                    "the plane through three; one batched engine call. Writes slice.npz, "
                    "slice.json and slice.png.")
    p.add_argument("network", metavar="NET.npz", help="network saved by Network.save")
    p.add_argument("--other", nargs="+", default=[], metavar="NET2.npz",
                   help="one network (segment) or two (plane through the three)")
    _add_data(p)
    p.add_argument("--dim", type=int, default=2, choices=(1, 2), help="1-D or 2-D (default 2)")
    p.add_argument("--n", type=int, default=51, help="grid points per direction (default 51)")
    p.add_argument("--span", type=float, default=1.0,
                   help="random directions: coordinates in [-span, span] (default 1)")
    p.add_argument("--margin", type=float, default=0.25,
                   help="segment and plane: grid beyond the networks, fraction (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random directions")
    p.add_argument("--threads", type=int, default=None, help="engine threads (default all)")
    p.add_argument("--out", default="topoanalysis_slice", metavar="DIR")
    p.add_argument("--force", action="store_true", help="reuse an output folder of other settings")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the files written")
    p.set_defaults(func=run)
    return p


def run(args):
    """Run ``topoanalysis slice``; returns the exit status."""
    from ..exceptions import ValidationError
    from ..io import OutputFolder, load_network, save_figure, write_json
    from ..landscape import Landscape
    from . import slices
    from .cli import _load_data, _plt

    net = load_network(args.network, param="NET")
    if len(args.other) > 2:
        raise ValidationError(f"`--other` takes one or two networks; got {len(args.other)}.")
    others = [load_network(p, param="--other") for p in args.other]
    for o in others:
        if o.arch != net.arch:
            raise ValidationError(f"`--other` networks must have the architecture of NET "
                                  f"({net.arch}); got {o.arch}.")
    if len(others) == 2 and args.dim == 1:
        raise ValidationError("`--dim` must be 2 for the plane through three networks; got 1.")
    X, y, natural = _load_data(args.data, args.n_samples, args.data_seed)
    loss = args.loss or natural
    land = Landscape(net.arch, X, y, loss, n_threads=args.threads)
    settings = dict(network=os.path.abspath(args.network),
                    other=[os.path.abspath(p) for p in args.other], data=args.data,
                    n_samples=args.n_samples, data_seed=args.data_seed, loss=loss, dim=args.dim,
                    n=args.n, span=args.span, margin=args.margin, seed=args.seed)
    files = []
    with OutputFolder(args.out, command="slice", settings=settings, force=args.force) as out:
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
