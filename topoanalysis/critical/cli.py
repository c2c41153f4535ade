"""``topoanalysis critical NET.npz --data ...``: what kind of point is this network?

The subcommand calls the public, validating API only (:func:`~topoanalysis.critical.snap`,
:func:`~topoanalysis.critical.kink_samples`, :func:`~topoanalysis.critical.classify`), after
checking its own flags (tolerances ``--tol``, ``--kink-tol``, ``--zero-tol`` and
``--verdict-kink-tol`` in ``[0, 1)``, ``--perturbations`` a positive integer within
the memory budget, ``--seed >= 0``). The report goes to ``--out DIR`` (``critical.json`` and the
snapped network ``snapped.npz``, with the folder's manifest and lock); ``--json PATH`` writes an
extra copy, under a lock of its own.
"""

import os
import sys

__all__ = ["add_subcommand", "cmd_critical", "DATA_NAMES"]


def _data_names():
    from ..datasets import dataset_names

    return tuple(dataset_names(aliases=True))


#: Names ``--data`` accepts (the one registry of :mod:`topoanalysis.datasets`).
DATA_NAMES = _data_names()

#: Losses the critical-point certificates support.
_LOSSES = ("mse", "bce")


def _perturbation_bytes(n, net, n_samples):
    """Arrays of the perturbation check at one radius: the perturbed parameters and the
    forward pass of ``n`` networks."""
    P = net.arch.n_params
    return 8.0 * n * (3 * P + n_samples * (sum(net.arch.hidden) + net.arch.outputs + 2))


def cmd_critical(args):
    from .. import io
    from ..cli import _check_json, check_memory_budget, data_of, networks_of, output_of, tol_of
    from ..exceptions import ValidationError
    from . import classify, kink_samples, snap

    (path,) = networks_of(args)
    net = io.load_network(path, param="NET.npz")
    data = data_of(args, inputs=net.arch.inputs)
    X, Y = data.X, data.y
    loss = args.loss or ("bce" if data.loss == "bce" else "mse")
    if loss not in _LOSSES:
        raise ValidationError(f"`--loss` must be one of {', '.join(_LOSSES)} for critical "
                              f"points; got {loss!r}.")
    if not args.no_check:
        check_memory_budget(_perturbation_bytes(args.perturbations, net, X.shape[0]),
                            f"{args.perturbations:,} perturbations", "reduce --perturbations")
    # the verdict's kink tolerance: --verdict-kink-tol, else never more than the snap's
    # (--kink-tol 0: exact signs only); classify's 1e-9 with --no-snap
    vkt = args.verdict_kink_tol
    if vkt is None:
        vkt = 1e-9 if args.no_snap else min(args.kink_tol, 1e-9)
    json_only = args.json is not None and args.out is None
    if json_only:
        print("topoanalysis critical: `--json` without `--out` is deprecated and will be "
              "removed in the next release; use --out DIR (--json stays as an extra copy).",
              file=sys.stderr)
    report = {"network": os.fspath(path), "data": data.name, "loss": loss,
              "architecture": net.arch.to_dict(),
              "settings": {"no_snap": args.no_snap, "kink_tol": args.kink_tol,
                           "zero_tol": args.zero_tol, "tol": tol_of(args),
                           "verdict_kink_tol": vkt,
                           "perturbations": args.perturbations, "check": not args.no_check,
                           "seed": args.seed, "n_samples": args.n_samples,
                           "data_seed": args.data_seed}}
    lines = [f"topoanalysis critical: {path} on {data.name} ({X.shape[0]} samples), "
             f"loss {loss}, {net.arch.activation}, width {net.arch.hidden[0]}, "
             f"e = {net.arch.outputs}"]

    def compute(folder):
        point = net
        if not args.no_snap:
            s = snap(net, X, Y, loss=loss, kink_tol=args.kink_tol, zero_tol=args.zero_tol)
            lines.append(s.summary())
            report["snap"] = s.to_dict()
            point = s.network
            if folder is not None:
                io.save_network(point, folder.path("snapped.npz"))
        kr = kink_samples(point, X, tol=vkt)
        lines.append(kr.summary())
        report["kinks"] = kr.to_dict()
        v = classify(point, X, Y, loss=loss, kink_tol=vkt, tol=tol_of(args),
                     check=not args.no_check, n_perturbations=args.perturbations,
                     seed=args.seed)
        lines.append(v.summary())
        report["verdict"] = v.to_dict()

    if json_only:
        with io.locked_file(args.json, param="--json") as target:
            compute(None)
            io.write_json(target, report, param="--json")
        lines.append(f"wrote {args.json}")
    else:
        if args.json is not None:
            _check_json(args)  # before computing; not the folder's manifest or lock
        settings = dict(report, network=os.path.abspath(path))
        with io.OutputFolder(output_of(args), command="critical", settings=settings,
                             force=args.force) as folder:
            compute(folder)
            written = [io.write_json(folder.path("critical.json"), report)]
            if args.json is not None:
                with io.locked_file(args.json, param="--json") as target:
                    written.append(io.write_json(target, report, param="--json"))
        lines += [f"wrote {f}" for f in written]
    print("\n".join(lines))
    return 0


def add_subcommand(subparsers):
    """Add ``critical`` to the ``topoanalysis`` command's subparsers."""
    from ..cli import (_positive_int, _tolerance, add_common_args, add_data_args,
                       add_network_args, add_output_args, add_tol_arg)

    p = subparsers.add_parser(
        "critical", help="stationarity, escape neurons and local-minimum verdict of a network",
        description="Snap a (trained) shallow ReLU/leaky ReLU network to the exact stationary "
                    "point of its activation pattern, decide directional stationarity exactly "
                    "(LPs), find escape neurons and classify the point as local minimum, "
                    "saddle or undetermined (Wu, Simsek & Ged), with numerical checks. "
                    "Losses: mse (default) and bce (default for breast_cancer).")
    add_network_args(p, 1, "the network (saved by Network.save / io.save_network)")
    add_data_args(p)
    g = p.add_argument_group("verdict")
    g.add_argument("--no-snap", action="store_true", help="classify the point as it is")
    g.add_argument("--kink-tol", type=_tolerance, default=1e-3,
                   help="snap: relative distance to a hyperplane that counts as on it, in "
                        "[0, 1) (default 1e-3)")
    g.add_argument("--zero-tol", type=_tolerance, default=1e-3,
                   help="snap: relative amplitude of a zero neuron, in [0, 1) (default 1e-3)")
    g.add_argument("--verdict-kink-tol", type=_tolerance, default=None,
                   help="verdict: relative distance to a hyperplane that counts as on it at "
                        "the (snapped) point, in [0, 1) (default min(--kink-tol, 1e-9); 0: "
                        "exact signs only)")
    add_tol_arg(g)
    g.add_argument("--perturbations", type=_positive_int, default=200,
                   help="random perturbations per radius for the check (default 200)")
    g.add_argument("--no-check", action="store_true", help="skip the numerical checks")
    add_output_args(p, json=True)
    add_common_args(p)
    p.set_defaults(func=cmd_critical)
    return p

