"""The ``topoanalysis`` command.

Subcommands
-----------
components   topology of one network's invariant set: c_k, pathological neurons,
             components, effective components, Betti numbers
probability  probability of obstruction at initialization over (d, l) grids (CSV, PNG)
train        train networks with the compiled engine (loss curves, c_k drift)
interpolate  loss along the segment between two networks, and the barrier
analyze      the main job: bundled breast cancer data, several seeds, everything above

User errors (project exceptions, OS errors on the user's files and folders, allocations that
do not fit) print the subcommand's usage line and one line ``topoanalysis CMD: error: ...``
and exit with status 2; a genuine bug keeps its traceback. Ctrl-C exits with status 130 within
about a second, leaving a resumable checkpoint. Every subcommand writes through
:mod:`topoanalysis.io`: atomic files, strict JSON (non-finite numbers as ``null``), and output
folders with a manifest and a lock (``--force`` replaces a folder written with other
arguments).
"""

import argparse
import os
import sys

import numpy as np

from . import __version__
from .degeneracy.cli import add_subcommand as add_stability_subcommand
from ._validation import normalize_name
from .exceptions import TopoAnalysisError
from .levelsets import cli as levelsets_cli

__all__ = ["main", "build_parser"]


# --- shared network flags -----------------------------------------------------------------
def _add_network_flags(p, *, default_inputs=None, default_hidden=None, default_outputs=1,
                       prefix=""):
    g = p.add_argument_group("network (a .npz file, or an architecture and an initialization)")
    g.add_argument(f"--{prefix}network", metavar="PATH",
                   help="network saved with Network.save (.npz); overrides the flags below")
    g.add_argument("--inputs", "-d", type=int, default=default_inputs, metavar="D",
                   help="input dimension d" + (f" (default {default_inputs})" if default_inputs else ""))
    g.add_argument("--hidden", "-l", type=int, nargs="+", default=default_hidden, metavar="L",
                   help="hidden widths, one per hidden layer"
                   + (f" (default {' '.join(map(str, default_hidden))})" if default_hidden else ""))
    g.add_argument("--outputs", "-e", type=int, default=default_outputs, metavar="E",
                   help=f"output dimension e (default {default_outputs})")
    g.add_argument("--activation", default="relu",
                   help="relu, leaky_relu(s), linear, tanh, sigmoid or abs (default relu)")
    g.add_argument("--init", default="kaiming_normal", metavar="SCHEME",
                   help="xavier_normal, xavier_uniform, kaiming_normal, kaiming_uniform, pytorch, "
                        "normal (default kaiming_normal)")
    g.add_argument("--init-std", type=float, default=None, help="std for --init normal")
    g.add_argument("--bias-init", default="zeros",
                   help="zeros, same, pytorch or normal (default zeros)")
    g.add_argument("--bias-std", type=float, default=None, help="std for --bias-init normal")
    g.add_argument("--no-hidden-bias", action="store_true", help="hidden layers without biases")
    g.add_argument("--no-output-bias", action="store_true", help="output layer without bias")
    g.add_argument("--seed", type=int, default=0, help="initialization seed (default 0)")


def _architecture(args):
    from .network import Architecture

    if args.inputs is None or args.hidden is None:
        raise _UserError("give --network PATH, or --inputs D and --hidden L to build a network.")
    return Architecture(inputs=args.inputs, hidden=tuple(args.hidden), outputs=args.outputs,
                        hidden_bias=not args.no_hidden_bias, output_bias=not args.no_output_bias,
                        activation=args.activation)


def _network(args, seed=None, path_attr="network"):
    from .network import Network

    from .io import load_network

    path = getattr(args, path_attr, None)
    if path:
        return load_network(path, param=f"--{path_attr.replace('_', '-')}")
    return Network.initialize(_architecture(args), args.init,
                              seed=args.seed if seed is None else seed,
                              std=args.init_std, bias_init=args.bias_init,
                              bias_std=args.bias_std)


class _UserError(TopoAnalysisError, ValueError):
    pass


def _add_force_flag(p):
    p.add_argument("--force", action="store_true",
                   help="reuse an output folder written with other arguments (its old files "
                        "are removed)")


_MAX_RANGE = 100_000


def _int_range(text):
    """Parse ``"2:10"`` (inclusive), ``"2,4,8"`` or ``"5"`` into a list of ints."""
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) == 2:
                parts.append(1)
            lo, hi, step = parts
            values = range(lo, hi + 1, step)
        else:
            values = [int(p) for p in text.split(",")]
        if len(values) > _MAX_RANGE:
            raise argparse.ArgumentTypeError(
                f"at most {_MAX_RANGE:,} values per axis; got {len(values):,} in {text!r}")
        return list(values)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a range like 2:50, 2:50:4 or a list like 2,4,8; got {text!r}") from None


# --- commands ------------------------------------------------------------------------------
def cmd_components(args):
    from .obstruction.topology import network_topology

    from .io import check_output_file, write_json

    if args.json:
        check_output_file(args.json, "--json")  # before computing
    net = _network(args)
    topo = network_topology(net) if args.atol is None else network_topology(net, atol=args.atol)
    print(topo.summary())
    if args.json:
        write_json(args.json, topo.to_dict(), "--json")
        print(f"wrote {args.json}")
    return 0


def cmd_probability(args):
    from .obstruction.probability import EVENTS, obstruction_grid, write_obstruction_outputs

    from ._validation import check_choice
    from .init import SCHEMES
    from .io import OutputFolder, check_memory

    events = [check_choice("--event", ev, EVENTS) for ev in (args.event or list(EVENTS))]
    schemes = [check_choice("--scheme", sc, SCHEMES) for sc in args.scheme]
    check_memory(8.0 * len(args.d) * len(args.l) * len(schemes) * (len(events) + 4) * 4,
                 f"a grid of {len(args.d)} × {len(args.l)} cells", param="--d/--l")
    settings = dict(d=args.d, l=args.l, outputs=args.outputs, schemes=schemes, events=events,
                    hidden_bias=args.hidden_bias, init_std=args.init_std,
                    bias_init=args.bias_init, bias_std=args.bias_std, log=args.log,
                    plot=not args.no_plot)
    with OutputFolder(args.out, command="probability", settings=settings,
                      force=args.force) as folder:
        grids = [obstruction_grid(args.d, args.l, args.outputs, scheme, events=events,
                                  hidden_bias=args.hidden_bias, std=args.init_std,
                                  bias_init=args.bias_init, bias_std=args.bias_std)
                 for scheme in schemes]
        write_obstruction_outputs(grids, folder, events, plot=not args.no_plot, log=args.log)
    return 0


_DATASETS = ("breast_cancer", "quadratic", "cubic", "cyclic_permutation", "blobs", "xor",
             "circles", "moons", "wu_five_point")


def _dataset(args):
    """(X_train, y_train, X_test or None, y_test or None, default loss) from --data."""
    from . import datasets

    if args.data_file:
        from .io import load_data

        X, Y = load_data(args.data_file, "--data-file")
        return X, Y, None, None, "mse"
    name = args.data
    if name == "breast_cancer":
        ds = datasets.load_breast_cancer(seed=args.data_seed)
        return ds.X_train, ds.y_train, ds.X_test, ds.y_test, "bce"
    if name in ("quadratic", "cubic"):
        ds = datasets.polynomial_regression(name, n_samples=args.n_samples, seed=args.data_seed)
        return ds.X, ds.y, None, None, "l1"
    if name == "cyclic_permutation":
        ds = datasets.cyclic_permutation_task()
        return ds.X, ds.y, None, None, "mse"
    if name in ("blobs", "xor", "circles", "moons"):
        ds = datasets.toy_classification_2d(args.n_samples, name, seed=args.data_seed)
        return ds.X, ds.y, None, None, "bce"
    ds = datasets.wu_five_point_regression(with_bias_column=True)
    return ds.X, ds.y, None, None, "mse"


def _spelling(text):
    """Choices on the command line follow the library's rule: any case, ``-`` or ``_``."""
    return normalize_name(text)


def _add_data_flags(p):
    g = p.add_argument_group("data")
    g.add_argument("--data", default="breast_cancer", choices=_DATASETS, type=_spelling,
                   help="bundled data set or generator (default breast_cancer)")
    g.add_argument("--data-file", metavar="PATH", help=".npz with arrays X (N, d) and y")
    g.add_argument("--data-seed", type=int, default=0, help="seed of the split / generator")
    g.add_argument("--n-samples", type=int, default=200, help="samples of generated data")
    g.add_argument("--loss", default=None,
                   help="mse, l1, bce or cross_entropy (default: the data set's natural loss)")


def _settings(args, *skip):
    """What determines a command's outputs (recorded in the output folder's manifest)."""
    ignore = {"func", "quiet", "force", "out", "command", "_subparser", *skip}
    return {k: v for k, v in sorted(vars(args).items()) if k not in ignore}


def _note(text):
    print(text, file=sys.stderr)


def cmd_train(args):
    from ._resources import format_seconds
    from .dynamics import train
    from .dynamics._engine import _evaluate, resolve_threads
    from .dynamics.train import estimate_step_seconds
    from .init import init_params
    from .io import (OutputFolder, check_memory, load_network, save_network, write_csv,
                     write_json)
    from .network import Architecture

    X, y, X_test, y_test, natural_loss = _dataset(args)
    loss = args.loss or natural_loss
    with OutputFolder(args.out, command="train", settings=_settings(args),
                      force=args.force) as folder:
        if args.network:
            nets = [load_network(p, param="--network") for p in args.network]
            arch = nets[0].arch
            if any(n.arch != arch for n in nets):
                raise _UserError("`--network` files must all have the same architecture.")
            theta = np.stack([n.params for n in nets])
        else:
            if args.hidden is None:
                raise _UserError("give --network PATH [PATH ...], or --hidden L to build "
                                 "networks.")
            arch = Architecture(inputs=args.inputs or X.shape[1], hidden=tuple(args.hidden),
                                outputs=args.outputs, hidden_bias=not args.no_hidden_bias,
                                output_bias=not args.no_output_bias, activation=args.activation)
            theta = None
        B = len(args.network) if args.network else args.n_networks
        n = X.shape[0] if args.batch_size is None else args.batch_size
        if theta is None and B > 0:  # memory first, then time: both before any work
            check_memory(8.0 * B * arch.n_params,
                         f"an array of {B} networks × {arch.n_params} parameters",
                         param="n_networks")
        flow = normalize_name(args.optimizer) == "flow"
        if B > 0 and not flow and args.steps > 0 and n > 0:
            eta = args.steps * estimate_step_seconds(B, n, arch.n_params,
                                                     resolve_threads(None, B))
            if eta > 10:
                _note(f"estimated time: {format_seconds(eta)} ({B} networks × {args.steps} "
                      "steps, from the engine's cost model); Ctrl-C stops it, and the same "
                      "command resumes it.")
        if theta is None:
            theta = init_params(arch, args.init, seed=args.seed, n_networks=args.n_networks,
                                std=args.init_std, bias_init=args.bias_init,
                                bias_std=args.bias_std)
        checkpoint = folder.path("checkpoint.npz")
        if os.path.exists(checkpoint):
            print(f"resuming from {checkpoint}")
        opts = dict(lr=args.lr, steps=args.steps, batch_size=args.batch_size,
                    record_every=args.record_every, checkpoint=checkpoint,
                    remove_checkpoint=False)
        if flow:  # gradient flow to time --t-end (topoanalysis.dynamics.flow)
            opts = dict(t_end=args.t_end, rtol=args.rtol, atol=args.atol)
        res = train(theta, X, y, arch=arch, loss=loss, optimizer=args.optimizer,
                    target_loss=args.target_loss, seed=args.seed, progress=not args.quiet,
                    **opts)
        summary = {"architecture": arch.to_dict(), "loss": loss, "settings": res.settings,
                   "final_loss": res.final_loss, "steps_taken": res.steps_taken,
                   "diverged": res.diverged, "reached_target": res.reached_target,
                   "max_abs_drift": np.nanmax(np.abs(res.conserved_drift()), axis=(1, 2))
                   if res.conserved is not None else None,
                   "json_null": "NaN and ±inf are written as null"}
        if X_test is not None:
            summary["test_loss"] = _evaluate(res.params, X_test, y_test, arch, loss, None,
                                             want_loss=True, want_grad=False, want_acc=False,
                                             want_out=False)[1]
        for i, p in enumerate(res.params):
            save_network(_network_of(arch, p), folder.path(f"network_{i}.npz"))
        curves = folder.path("loss_curves.csv")
        x, x_name = (res.record_times, "time") if flow else (res.record_steps, "step")
        write_csv(curves, [x_name] + [f"loss_{i}" for i in range(B)],
                  np.column_stack([x, res.loss.T]))
        write_json(folder.path("train.json"), summary)
        # every output is written: only now may the checkpoint go
        if os.path.exists(checkpoint):
            os.remove(checkpoint)
    shown = min(B, 20)
    for i in range(shown):
        status = ("diverged" if res.diverged[i] else
                  "reached target" if res.reached_target[i] else "done")
        extra = f", test {summary['test_loss'][i]:.5g}" if "test_loss" in summary else ""
        print(f"network {i}: {loss} {res.final_loss[i]:.5g}{extra} after "
              f"{res.steps_taken[i]} steps ({status})")
    if B > shown:
        print(f"... {B - shown} more networks: median {loss} "
              f"{np.nanmedian(res.final_loss):.5g} (every value in train.json)")
    print(f"wrote {args.out}/network_*.npz, {curves}, {args.out}/train.json")
    return 0


def _network_of(arch, params):
    from .network import Network

    return Network(arch, params)


def cmd_interpolate(args):
    from .dynamics import interpolation_barrier
    from .io import OutputFolder, load_network, save_figure, write_csv, write_json

    a = load_network(args.a, param="--a")
    b = load_network(args.b, param="--b")
    if a.arch != b.arch:
        raise _UserError(f"`--a` and `--b` must have the same architecture; got {a!r} and {b!r}.")
    X, y, _, _, natural_loss = _dataset(args)
    loss = args.loss or natural_loss
    with OutputFolder(args.out, command="interpolate", settings=_settings(args),
                      force=args.force) as folder:
        bar = interpolation_barrier(a, b, X, y, loss=loss, n_points=args.n_points)
        csv_path = folder.path("interpolation.csv")
        cols = [bar.ts, bar.loss[0]]
        header = ["t", "loss"]
        if bar.accuracy is not None:
            cols.append(np.asarray(bar.accuracy)[0])
            header.append("accuracy")
        write_csv(csv_path, header, np.column_stack(cols))
        result = {"loss": loss, "loss_a": bar.loss_a[0], "loss_b": bar.loss_b[0],
                  "barrier": bar.barrier[0], "t_barrier": bar.t_barrier[0],
                  "midpoint": bar.midpoint[0], "mean": bar.mean[0], "t_max": bar.t_max[0],
                  "json_null": "NaN and ±inf are written as null"}
        write_json(folder.path("barrier.json"), result)
        print(f"L(a) = {result['loss_a']:.5g}, L(b) = {result['loss_b']:.5g}")
        print(f"barrier max_t L(t) - ((1-t)L(a) + tL(b)) = {result['barrier']:.5g} at t = "
              f"{result['t_barrier']:.3f}; midpoint {result['midpoint']:.5g}; "
              f"mean-of-ends {result['mean']:.5g}")
        print(f"wrote {csv_path}")
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return 0
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(bar.ts, bar.loss[0], color="tab:blue")
        ax.plot([0, 1], [result["loss_a"], result["loss_b"]], "k--", lw=1)
        ax.set_xlabel("t  (θ = (1−t)θ_a + tθ_b)")
        ax.set_ylabel(loss)
        ax.set_title(f"barrier {result['barrier']:.4g}")
        fig.tight_layout()
        png = save_figure(fig, folder.path("interpolation.png"))
        print(f"wrote {png}")
    return 0


def cmd_analyze(args):
    from .analyze import analyze
    from .io import OutputFolder

    with OutputFolder(args.out, command="analyze", settings=_settings(args),
                      force=args.force) as folder:
        for name in ("report.json", "analysis.png", "report.html", "checkpoint.npz"):
            folder.path(name)  # recorded, so that --force knows what to replace
        report = analyze(
            hidden=args.hidden_width, seeds=args.seeds, scheme=args.init, steps=args.steps,
            lr=args.lr, train=not args.no_train, out=folder.root, progress=not args.quiet,
            std=args.init_std,
        )
    print(report.text())
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="topoanalysis",
        description="Topology and geometry of the loss landscapes of shallow ReLU networks.",
    )
    parser.add_argument("--version", action="version", version=f"topoanalysis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("components", help="components and effective components of H(c)",
                       description="Conserved quantities, pathological neurons, components, "
                                   "effective components and Betti numbers of a network's "
                                   "invariant set H(c).")
    _add_network_flags(p)
    p.add_argument("--atol", type=float, default=None,
                   help="|c_k| <= atol counts as c_k = 0 (default: the library's tolerance)")
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=cmd_components)

    p = sub.add_parser("probability", help="probability of obstruction at initialization",
                       description="Probability of obstruction at initialization over a grid "
                                   "of input dimensions d and widths l (Nurisso et al., Fig. 5).")
    p.add_argument("--d", type=_int_range, default=_int_range("2:50"), metavar="RANGE",
                   help="input dimensions, e.g. 2:50 or 2,4,8 (default 2:50)")
    p.add_argument("--l", type=_int_range, default=_int_range("2:50"), metavar="RANGE",
                   help="hidden widths (default 2:50)")
    p.add_argument("--outputs", "-e", type=int, default=1, help="output dimension (default 1)")
    p.add_argument("--scheme", nargs="+", default=["xavier_normal", "kaiming_normal"],
                   help="initialization schemes (default xavier_normal kaiming_normal)")
    p.add_argument("--event", nargs="+", default=None,
                   help="events to tabulate (default: all)")
    p.add_argument("--out", default="obstruction_probability", metavar="DIR",
                   help="output folder for CSV and PNG (default ./obstruction_probability)")
    p.add_argument("--hidden-bias", action="store_true",
                   help="hidden biases initialized to zero (w_k gains a coordinate)")
    p.add_argument("--init-std", type=float, default=None, help="std for --scheme normal")
    p.add_argument("--bias-init", default="zeros",
                   help="hidden biases: zeros, same, pytorch or normal (default zeros)")
    p.add_argument("--bias-std", type=float, default=None, help="std for --bias-init normal")
    p.add_argument("--log", action="store_true", help="color by log10 of the value")
    p.add_argument("--no-plot", action="store_true", help="CSV only")
    _add_force_flag(p)
    p.set_defaults(func=cmd_probability)

    p = sub.add_parser("train", help="train networks with the compiled engine",
                       description="Train a stack of networks (full-batch GD, SGD, momentum or "
                                   "Adam) and write the final networks, loss curves and c_k drift. "
                                   "The run checkpoints into --out; rerunning an interrupted "
                                   "command resumes it with identical results.")
    p.add_argument("--network", nargs="+", metavar="PATH",
                   help="start from saved networks (.npz) instead of initializing")
    p.add_argument("--inputs", "-d", type=int, default=None, help="input dimension (default: data)")
    p.add_argument("--hidden", "-l", type=int, nargs="+", default=None, metavar="L")
    p.add_argument("--outputs", "-e", type=int, default=1)
    p.add_argument("--activation", default="relu")
    p.add_argument("--init", default="kaiming_normal", metavar="SCHEME")
    p.add_argument("--init-std", type=float, default=None)
    p.add_argument("--bias-init", default="zeros")
    p.add_argument("--bias-std", type=float, default=None, help="std for --bias-init normal")
    p.add_argument("--no-hidden-bias", action="store_true")
    p.add_argument("--no-output-bias", action="store_true")
    p.add_argument("--seed", type=int, default=0, help="seed of initialization and SGD shuffling")
    p.add_argument("--n-networks", type=int, default=1, help="networks trained at once")
    _add_data_flags(p)
    p.add_argument("--optimizer", default="gd",
                   help="gd, sgd, momentum, adam or flow (gradient flow; default gd)")
    p.add_argument("--t-end", type=float, default=None, help="final time for --optimizer flow")
    p.add_argument("--rtol", type=float, default=None, help="flow: relative tolerance (1e-5)")
    p.add_argument("--atol", type=float, default=None, help="flow: absolute tolerance (1e-8)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--steps", type=int, default=1000, help="steps (default 1000)")
    p.add_argument("--batch-size", type=int, default=None, help="mini-batch size for sgd")
    p.add_argument("--record-every", type=int, default=10, help="record every k steps")
    p.add_argument("--target-loss", type=float, default=None, help="stop a network at this loss")
    p.add_argument("--out", default="topoanalysis_train", metavar="DIR")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _add_force_flag(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("interpolate", help="loss along the segment between two networks",
                       description="Loss (and accuracy) on the segment between two saved networks "
                                   "and the barrier max_t L(θ_t) − ((1−t)L(θ_a) + tL(θ_b)).")
    p.add_argument("--a", required=True, metavar="PATH", help="first network (.npz)")
    p.add_argument("--b", required=True, metavar="PATH", help="second network (.npz)")
    _add_data_flags(p)
    p.add_argument("--n-points", type=int, default=101, help="points on the segment (default 101)")
    p.add_argument("--out", default="topoanalysis_interpolate", metavar="DIR")
    _add_force_flag(p)
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("analyze", help="the main job on the bundled breast cancer data",
                       description="Shallow ReLU networks on the bundled breast cancer data, "
                                   "several seeds: invariants, components, effective components, "
                                   "obstruction probabilities, training and barriers.")
    p.add_argument("--hidden-width", "-l", type=int, default=6, help="hidden width (default 6)")
    p.add_argument("--seeds", type=int, default=8, help="number of initializations (default 8)")
    p.add_argument("--init", default="kaiming_normal", help="initialization scheme")
    p.add_argument("--init-std", type=float, default=None, help="std for --init normal")
    p.add_argument("--steps", type=int, default=2000, help="gradient-descent steps (default 2000)")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--no-train", action="store_true", help="skip training")
    p.add_argument("--out", default="topoanalysis_analyze", metavar="DIR",
                   help="folder for report.json (default ./topoanalysis_analyze)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    _add_force_flag(p)
    p.set_defaults(func=cmd_analyze)

    levelsets_cli.add_subcommand(sub)
    from .levelsets import _slice_cli
    _slice_cli.add_parser(sub)
    add_stability_subcommand(sub)

    from .critical.cli import add_subcommand as add_critical
    add_critical(sub)
    for sp in sub.choices.values():  # errors raised by a command print its usage line
        sp.set_defaults(_subparser=sp)
    return parser


#: Exceptions a user can cause, shown as one line with exit status 2: project errors (bad
#: values, files, sizes), OS errors from the user's files and folders, and allocations that
#: still fail after the memory checks. Anything else is a bug and shows its traceback.
USER_ERRORS = (TopoAnalysisError, OSError, MemoryError)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        print("topoanalysis: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except USER_ERRORS as exc:
        if os.environ.get("TOPOANALYSIS_TRACEBACK"):
            raise
        print(_error_line(args, exc), file=sys.stderr)
        return 2


#: Library parameter names and the flags that set them (an error names both).
_FLAGS = {"std": "--init-std", "bias_std": "--bias-std", "n_networks": "--n-networks",
          "bias_init": "--bias-init", "batch_size": "--batch-size", "n_points": "--n-points",
          "record_every": "--record-every", "target_loss": "--target-loss",
          "hidden": "--hidden", "inputs": "--inputs", "outputs": "--outputs"}


def _name_flag(msg, args):
    """Add the command-line flag to a library parameter named in ``msg`` (``std`` ->
    ``std`` (--init-std)), so the user sees what to change."""
    flags = dict(_FLAGS)
    flags["scheme"] = "--scheme" if args.command == "probability" else "--init"
    for name, flag in flags.items():
        token = f"`{name}`"
        if msg.startswith(token) or f" {token}" in msg:
            if hasattr(args, flag.lstrip("-").replace("-", "_")):
                return msg.replace(token, f"{token} ({flag})", 1)
    return msg


def _error_line(args, exc):
    """The subcommand's usage line, then ``topoanalysis CMD: error: <one line>`` (the form
    argparse uses for its own errors)."""
    if isinstance(exc, MemoryError):
        msg = ("out of memory: the request is larger than this machine can hold; make it "
               "smaller")
    elif isinstance(exc, OSError) and not isinstance(exc, TopoAnalysisError):
        name = exc.filename if exc.filename is not None else ""
        msg = f"{exc.strerror or type(exc).__name__}" + (f": {name!r}" if name else "")
    else:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        msg = _name_flag(msg, args)
    sub = getattr(args, "_subparser", None)
    if sub is None:
        return f"topoanalysis: error: {msg}"
    return (f"usage: {sub.prog} [options]  ({sub.prog} -h lists them)\n"
            f"{sub.prog}: error: {msg}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
