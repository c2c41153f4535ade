"""``topoanalysis stability NET.npz [--against OTHER.npz]``."""

from .._validation import normalize_name

__all__ = ["add_subcommand", "cmd_stability"]


def cmd_stability(args):
    from .. import io
    from .distance import Ball
    from .report import network_stability
    from .stability import inverse_stability

    net = io.load_network(args.network, param="NET")
    other = io.load_network(args.against, param="--against") if args.against else None
    if other is not None and (other.arch.inputs, other.arch.outputs) != (net.arch.inputs,
                                                                         net.arch.outputs):
        raise io.FileError(f"`--against` must have NET's input and output dimensions "
                           f"({net.arch.inputs}, {net.arch.outputs}); got "
                           f"({other.arch.inputs}, {other.arch.outputs}).")
    X = None
    if args.data_file:
        X, _ = io.load_data(args.data_file, param="--data-file")
    settings = {"network": args.network, "against": args.against, "augment": args.augment,
                "tol": args.tol, "data_file": args.data_file, "radius": args.radius}
    with io.OutputFolder(args.out, command="stability", settings=settings,
                         force=args.force) as out:
        res = network_stability(net, X=X, augment=args.augment, tol=args.tol)
        print(res.summary())
        payload = {"network": res.to_dict()}
        path = io.save_network(res.canonical.network, out.path("canonical.npz"))
        files = [path]
        if other is not None:
            d = net.arch.inputs
            domain = Ball((0.0,) * d, args.radius) if args.radius else None
            meas = inverse_stability(net, other, domain=domain, progress=not args.quiet)
            print()
            print(f"against {args.against}:")
            print(meas.summary())
            payload["against"] = meas.to_dict()
        files.append(io.write_json(out.path("stability.json"), payload))
    for f in files:
        print(f"wrote {f}")
    return 0


def add_subcommand(subparsers):
    """Register ``stability`` on the ``topoanalysis`` command."""
    p = subparsers.add_parser(
        "stability", help="degeneracies, conditions C.1-C.3, canonical form, inverse stability",
        description="Degenerate parametrizations of a shallow ReLU network (Berner, "
                    "Elbrächter & Grohs): the degeneracy report, conditions C.1-C.3 of the "
                    "restricted space, the canonical form modulo permutation, rescaling and "
                    "redundancy (written as canonical.npz); with --against, the exact "
                    "W^(1,inf) distance, the uniform distance on a ball, the parameter distance "
                    "modulo the symmetries and the inverse-stability ratio.")
    p.add_argument("network", metavar="NET.npz", help="shallow ReLU network (.npz)")
    p.add_argument("--against", metavar="OTHER.npz", help="second network to compare with")
    p.add_argument("--augment", type=normalize_name, default="c3", choices=("c3", "bias", "none"),
                   help="input augmentation of the canonical form (default c3: x -> (x, 1, -1))")
    p.add_argument("--tol", type=float, default=1e-9, help="tolerance (default 1e-9)")
    p.add_argument("--data-file", metavar="PATH",
                   help="data (.npz with X, Y or .csv) for dead neurons and the checks")
    p.add_argument("--radius", type=float, default=1.0,
                   help="radius of the ball around 0 for the uniform distance (0: skip)")
    p.add_argument("--out", default="topoanalysis_stability", metavar="DIR",
                   help="output folder (default ./topoanalysis_stability)")
    p.add_argument("--force", action="store_true", help="reuse a folder made with other settings")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_stability)
    return p
