"""``topoanalysis critical NET.npz --data ...``: what kind of point is this network?"""

import os

from .._validation import normalize_name

__all__ = ["add_subcommand", "cmd_critical", "DATA_NAMES"]

DATA_NAMES = ("wu5", "quadratic", "cubic", "cyclic", "breast_cancer")


def _data(name, net, n_samples):
    """(X, y, natural loss) for a data name or a .npz file."""
    from .. import datasets, io

    if normalize_name(name) not in DATA_NAMES:
        X, Y = io.load_data(name, param="--data")
        return _check_inputs(X, Y, net, name) + ("mse",)
    name = normalize_name(name)
    if name == "wu5":
        ds = datasets.wu_five_point_regression(with_bias_column=net.arch.inputs == 2)
        return _check_inputs(ds.X, ds.y, net, name) + ("mse",)
    if name in ("quadratic", "cubic"):
        ds = datasets.polynomial_regression(name, n_samples=n_samples, sampling="grid")
        return _check_inputs(ds.X, ds.y, net, name) + ("mse",)
    if name == "cyclic":
        ds = datasets.cyclic_permutation_task()
        return _check_inputs(ds.X, ds.y, net, name) + ("mse",)
    ds = datasets.load_breast_cancer(seed=0)
    return _check_inputs(ds.X_train, ds.y_train, net, name) + ("bce",)


def _check_inputs(X, Y, net, name):
    from ..io import FileError

    if X.shape[1] != net.arch.inputs:
        raise FileError(f"`--data` {name!r} has {X.shape[1]} input columns but NET has "
                        f"{net.arch.inputs} inputs.")
    return X, Y


def cmd_critical(args):
    from .. import io
    from ._point import shallow_point
    from .kinks import kink_samples
    from .snap import _snap
    from .verdict import _classify

    net = io.load_network(args.network, param="NET")
    X, Y, natural = _data(args.data, net, args.n_samples)
    loss = args.loss or natural
    point = shallow_point(net, X, Y, loss)
    report = {"network": os.fspath(args.network), "data": args.data, "loss": loss,
              "architecture": net.arch.to_dict()}
    lines = [f"topoanalysis critical: {args.network} on {args.data} ({X.shape[0]} samples), "
             f"loss {loss}, {net.arch.activation}, width {net.arch.hidden[0]}, "
             f"e = {net.arch.outputs}"]
    if not args.no_snap:
        s = _snap(point, args.kink_tol, args.zero_tol)
        lines.append(s.summary())
        report["snap"] = s.to_dict()
        net = s.network
        point = shallow_point(net, X, Y, loss)
    kr = kink_samples(net, X, tol=1e-9)
    lines.append(kr.summary())
    report["kinks"] = kr.to_dict()
    v = _classify(point, 1e-9, args.tol, 0.0, not args.no_check, (1e-6, 1e-4, 1e-2),
                  args.perturbations, args.seed)
    lines.append(v.summary())
    report["verdict"] = v.to_dict()
    if args.json:
        io.write_json(args.json, report, param="--json")
        lines.append(f"wrote {args.json}")
    print("\n".join(lines))
    return 0


def add_subcommand(subparsers):
    """Add ``critical`` to the ``topoanalysis`` command's subparsers."""
    p = subparsers.add_parser(
        "critical", help="stationarity, escape neurons and local-minimum verdict of a network",
        description="Snap a (trained) shallow ReLU/leaky ReLU network to the exact stationary "
                    "point of its activation pattern, decide directional stationarity exactly "
                    "(LPs), find escape neurons and classify the point as local minimum, "
                    "saddle or undetermined (Wu, Simsek & Ged), with numerical checks.")
    p.add_argument("network", metavar="NET.npz", help="network saved by Network.save / io.save_network")
    p.add_argument("--data", required=True, metavar="{" + ",".join(DATA_NAMES) + "|file.npz}",
                   help="bundled data (wu5 appends the bias column when NET has 2 inputs) or a "
                        ".npz with arrays X and y")
    p.add_argument("--loss", type=normalize_name, choices=("mse", "bce"), default=None,
                   help="loss (default: mse; bce for breast_cancer)")
    p.add_argument("--n-samples", type=int, default=50, help="grid size for quadratic/cubic")
    p.add_argument("--no-snap", action="store_true", help="classify the point as it is")
    p.add_argument("--kink-tol", type=float, default=1e-3,
                   help="snap: relative distance to a hyperplane that counts as on it (1e-3)")
    p.add_argument("--zero-tol", type=float, default=1e-3,
                   help="snap: relative amplitude of a zero neuron (1e-3)")
    p.add_argument("--tol", type=float, default=1e-8, help="stationarity tolerance (1e-8)")
    p.add_argument("--perturbations", type=int, default=200,
                   help="random perturbations per radius for the check (200)")
    p.add_argument("--no-check", action="store_true", help="skip the numerical checks")
    p.add_argument("--seed", type=int, default=0, help="seed of the checks")
    p.add_argument("--json", default="critical_report.json", metavar="PATH",
                   help="write the report as JSON (default critical_report.json; '' for none)")
    p.set_defaults(func=cmd_critical)
    return p
