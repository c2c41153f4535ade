"""``topoanalysis stability NET.npz [OTHER.npz]``.

One network: the degeneracy report, conditions C.1-C.3 and the canonical form. Two networks
(``A B``): also the distances between them and the inverse-stability ratio of ``A`` against
``B``. The old ``--against OTHER.npz`` is the second positional network.

The run time is estimated before any work (:func:`estimate_seconds`) and refused past the time
budget (:func:`topoanalysis.cli.time_budget`) unless ``--force``.
"""

import os

from .._validation import normalize_name

__all__ = ["add_subcommand", "cmd_stability", "estimate_seconds"]


def estimate_seconds(net, other=None):
    """Rough run time of ``stability`` in seconds (measured on a 2-core laptop, 2026).

    The report and canonical form of one network grow with the pairs of neurons,
    about ``1e-6 · l² · (d + 1)`` s (0.1 s at ``l = 200``, 1.7 s at ``l = 800``, ``d = 2``);
    the comparison with a second network (``W^{1,∞}`` branch and bound, uniform distance,
    matching) about ``0.3 · l`` s more (14 s at ``l = 50``, 57 s at ``l = 200``).
    """
    width = sum(net.arch.hidden)
    seconds = 1e-6 * width ** 2 * (net.arch.inputs + 1)
    if other is not None:
        seconds += 1e-6 * sum(other.arch.hidden) ** 2 * (other.arch.inputs + 1)
        seconds += 0.3 * max(width, sum(other.arch.hidden))
    return seconds


def cmd_stability(args):
    from .. import io
    from ..cli import check_time_budget, data_of, networks_of, output_of, tol_of
    from .distance import Ball
    from .report import network_stability
    from .stability import inverse_stability

    paths = networks_of(args)
    net = io.load_network(paths[0], param="NET.npz")
    other = io.load_network(paths[1], param="NET.npz") if len(paths) > 1 else None
    if other is not None and (other.arch.inputs, other.arch.outputs) != (net.arch.inputs,
                                                                         net.arch.outputs):
        raise io.FileError(f"the second network must have the first's input and output "
                           f"dimensions ({net.arch.inputs}, {net.arch.outputs}); got "
                           f"({other.arch.inputs}, {other.arch.outputs}).")
    data = data_of(args, inputs=net.arch.inputs, default=None)
    X = None if data is None else data.X
    check_time_budget(estimate_seconds(net, other),
                      f"stability of width {sum(net.arch.hidden)}"
                      + ("" if other is None else f" against width {sum(other.arch.hidden)}"),
                      "use smaller networks", force=args.force)
    settings = {"networks": [os.path.abspath(p) for p in paths], "augment": args.augment,
                "tol": tol_of(args), "data": None if data is None else data.name,
                "n_samples": args.n_samples, "data_seed": args.data_seed, "radius": args.radius,
                "seed": args.seed}
    with io.OutputFolder(output_of(args), command="stability", settings=settings,
                         force=args.force) as out:
        res = network_stability(net, X=X, augment=args.augment, tol=tol_of(args))
        print(res.summary())
        payload = {"network": res.to_dict()}
        path = io.save_network(res.canonical.network, out.path("canonical.npz"))
        files = [path]
        if other is not None:
            d = net.arch.inputs
            domain = Ball((0.0,) * d, args.radius) if args.radius else None
            meas = inverse_stability(net, other, domain=domain, progress=not args.quiet,
                                     seed=args.seed)
            print()
            print(f"against {paths[1]}:")
            print(meas.summary())
            payload["against"] = meas.to_dict()
        files.append(io.write_json(out.path("stability.json"), payload))
    for f in files:
        print(f"wrote {f}")
    return 0


def add_subcommand(subparsers):
    """Register ``stability`` on the ``topoanalysis`` command."""
    from ..cli import (_nonnegative_float, add_common_args, add_data_args, add_network_args,
                       add_output_args, add_tol_arg)

    p = subparsers.add_parser(
        "stability", help="degeneracies, conditions C.1-C.3, canonical form, inverse stability",
        description="Degenerate parametrizations of a shallow ReLU network A (Berner, "
                    "Elbrächter & Grohs): the degeneracy report, conditions C.1-C.3 of the "
                    "restricted space, the canonical form modulo permutation, rescaling and "
                    "redundancy (written as canonical.npz); with a second network B, the "
                    "W^(1,inf) distance (exact, or certified bounds), the uniform distance on a "
                    "ball (close, not proven: circle points in float64), the parameter distance "
                    "modulo the symmetries and the inverse-stability ratio of A against B.")
    add_network_args(p, "1-2", "A [B]: the network, and optionally a second one to compare "
                               "with", legacy=[("--against", 1, None)])
    add_data_args(p)
    g = p.add_argument_group("stability")
    g.add_argument("--augment", type=normalize_name, default="c3", choices=("c3", "bias", "none"),
                   help="input augmentation of the canonical form (default c3: x -> (x, 1, -1))")
    add_tol_arg(g)
    g.add_argument("--radius", type=_nonnegative_float, default=1.0,
                   help="radius of the ball around 0 for the uniform distance (0: skip)")
    add_output_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_stability)
    return p
