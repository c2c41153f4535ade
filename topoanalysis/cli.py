"""The ``topoanalysis`` command.

Subcommands
-----------
components   topology of one network's invariant set: c_k, pathological neurons,
             components, effective components, Betti numbers
probability  probability of obstruction at initialization over (d, l) grids (CSV, PNG)
train        train networks with the compiled engine (loss curves, c_k drift)
interpolate  loss along the segment between two networks, and the barrier
analyze      the main job: bundled breast cancer data, several seeds, everything above
critical     stationarity, escape neurons and local-minimum verdict of a network
stability    degeneracies, conditions C.1-C.3, canonical form, inverse stability
connect      Dynamic String Sampling between two saved networks
barrier      pairwise barriers and the disconnectivity tree of many networks

One vocabulary
--------------
Every subcommand builds its flags from the same argument groups defined here, once
(:func:`add_network_args`, :func:`add_data_args`, :func:`add_output_args`,
:func:`add_common_args`): networks are positional ``NET.npz ...``; ``--data NAME|PATH`` takes the
same bundled names everywhere (:func:`topoanalysis.datasets.dataset_names`, aliases such as
``wu5`` included) or a ``.npz`` file; ``--data-seed``, ``--n-samples``, ``--loss``, ``--out DIR``
(an :class:`topoanalysis.io.OutputFolder` with a manifest and a lock), ``--quiet``, ``--force``,
``--seed`` and ``--threads`` mean the same thing in every subcommand. ``tests/test_vocabulary.py``
checks it. Old spellings (``--network``, ``--a``/``--b``, ``--against``, ``--data-file``)
still work for one release and print a one-line deprecation notice.

User errors (project exceptions, OS errors on the user's files and folders, allocations that
do not fit, requests past the memory or time budget) print the subcommand's usage line and one
line ``topoanalysis CMD: error: ...`` and exit with status 2; a genuine bug keeps its
traceback. Ctrl-C exits with status 130 within about a second; ``train`` and ``analyze`` leave a
checkpoint and say so, the other subcommands keep no checkpoint and say that a rerun starts
over.

Budgets
-------
:data:`MEMORY_BUDGET` (4 GB; environment variable ``TOPOANALYSIS_MEMORY_BUDGET``, e.g. ``8G``)
bounds the arrays a command allocates for sizes the user sets on the command line
(``--steps``/``--record-every``, ``--n-points``, ``--perturbations``, ``--max-depth``): a larger
request is refused before any work with the figure and the flag to change. :data:`TIME_BUDGET`
(600 s; ``TOPOANALYSIS_TIME_BUDGET``, seconds) bounds the estimated run time of ``stability``
and ``connect``; ``--force`` runs past it.
"""

import argparse
import math
import os
import sys
import warnings

import numpy as np

from . import __version__
from ._validation import normalize_name
from .exceptions import DivergenceWarning, ResourceError, TopoAnalysisError

__all__ = ["main", "build_parser", "add_network_args", "add_data_args", "add_output_args",
           "add_common_args", "add_architecture_args", "networks_of", "data_of", "output_of",
           "check_memory_budget", "check_time_budget", "memory_budget", "time_budget",
           "add_tol_arg", "tol_of", "add_init_args", "MEMORY_BUDGET", "TIME_BUDGET", "LOSSES",
           "TOLERANCES", "SUBCOMMAND_MODULES"]

#: Bytes a command may allocate for sizes set on the command line (``TOPOANALYSIS_MEMORY_BUDGET``
#: overrides it; the machine's available memory caps it).
MEMORY_BUDGET = 4e9
#: Seconds a command may be estimated to run before it is refused (``TOPOANALYSIS_TIME_BUDGET``
#: overrides it; ``--force`` runs past it).
TIME_BUDGET = 600.0
#: Losses every ``--loss`` accepts.
LOSSES = ("mse", "l1", "bce", "cross_entropy")

#: Modules that add subcommands of their own: each has ``add_parser(subparsers)`` (returning
#: the parser it added) and ``run(args)``. Adding a subcommand is one line here.
SUBCOMMAND_MODULES = [
    "topoanalysis.symbolic.cli",         # laws
    "topoanalysis.levelsets._slice_cli",  # slice
]


class _UserError(TopoAnalysisError, ValueError):
    pass


# --- budgets --------------------------------------------------------------------------------
def _env_number(name, default, example="8G"):
    from ._resources import _parse_size

    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = _parse_size(text)
    except ValueError:
        raise _UserError(f"the environment variable {name} must be a number (e.g. {example}); got "
                         f"{text!r}.") from None
    if not math.isfinite(value) or value <= 0:
        raise _UserError(f"the environment variable {name} must be a positive number; got "
                         f"{text!r}.")
    return value


def memory_budget():
    """Bytes a command may allocate: :data:`MEMORY_BUDGET` (or ``TOPOANALYSIS_MEMORY_BUDGET``),
    at most 80 % of the memory available now."""
    from ._resources import MEMORY_FRACTION, available_memory

    return min(_env_number("TOPOANALYSIS_MEMORY_BUDGET", MEMORY_BUDGET),
               MEMORY_FRACTION * available_memory())


def time_budget():
    """Seconds a command may be estimated to run: :data:`TIME_BUDGET` (or
    ``TOPOANALYSIS_TIME_BUDGET``)."""
    return _env_number("TOPOANALYSIS_TIME_BUDGET", TIME_BUDGET, example="3600 for an hour")


def check_memory_budget(nbytes, what, fix):
    """Refuse, before any work, a request whose arrays need more than :func:`memory_budget`.

    ``what`` names the arrays (``"the record"``), ``fix`` says what to change (``"reduce
    --steps or raise --record-every"``). The message gives the figure."""
    from ._resources import format_bytes

    budget = memory_budget()
    if not math.isfinite(nbytes) or nbytes > budget:
        raise ResourceError(f"needs {format_bytes(nbytes)} for {what}, more than the budget of "
                            f"{format_bytes(budget)}; {fix} (or raise "
                            f"TOPOANALYSIS_MEMORY_BUDGET).")
    return nbytes


def check_time_budget(seconds, what, fix, force=False):
    """Refuse a request estimated to run longer than :func:`time_budget` unless ``force``;
    return the estimate."""
    from ._resources import format_seconds

    budget = time_budget()
    if (not math.isfinite(seconds) or seconds > budget) and not force:
        shown = format_seconds(seconds) if math.isfinite(seconds) else "forever"
        raise ResourceError(f"{what} is estimated to take {shown}, more than the budget of "
                            f"{format_seconds(budget)}; {fix}, raise TOPOANALYSIS_TIME_BUDGET, "
                            f"or pass --force to run it anyway.")
    return seconds


# --- argument types (one function per kind, shared by every flag of that kind) ---------------
def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value}")
    return value


def _nonnegative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0; got {value}")
    return value


def _float(text, ok, expected):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text!r}") from None
    if not (math.isfinite(value) and ok(value)):
        raise argparse.ArgumentTypeError(f"expected {expected}; got {text}")
    return value


def _positive_float(text):
    """A finite number > 0 (a standard deviation, a time, a tolerance of the flow)."""
    return _float(text, lambda v: v > 0, "a finite number > 0")


def _nonnegative_float(text):
    """A finite number >= 0."""
    return _float(text, lambda v: v >= 0, "a finite number >= 0")


def _tolerance(text):
    """A relative tolerance: a finite number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1); got {text!r}") from None
    if not (0.0 <= value < 1.0):
        raise argparse.ArgumentTypeError(f"expected a finite number in [0, 1); got {text}")
    return value


#: Defaults of ``--tol`` per command.
TOLERANCES = {"critical": 1e-8, "stability": 1e-9}


def add_tol_arg(g):
    """``--tol``: the command's numerical tolerance, in [0, 1) (default per command,
    :data:`TOLERANCES`; read it with :func:`tol_of`)."""
    g.add_argument("--tol", type=_tolerance, default=None,
                   help="tolerance in [0, 1): critical: of the stationarity conditions (loss per "
                        "unit direction; default 1e-8); stability: of the degeneracy tests "
                        "(default 1e-9)")


def tol_of(args):
    """``--tol`` of a command line, or the command's default."""
    return TOLERANCES[args.command] if args.tol is None else args.tol


def _spelling(text):
    """Choices on the command line follow the library's rule: any case, ``-`` or ``_``."""
    return normalize_name(text)


class _Parser(argparse.ArgumentParser):
    """argparse's errors in the project's form: a one-line usage, then one error line."""

    def error(self, message):
        self.exit(2, f"usage: {self.prog} [options]  ({self.prog} -h lists them)\n"
                     f"{self.prog}: error: {message}\n")


class _Deprecated(argparse.Action):
    """An old spelling: stores into ``dest`` and prints a one-line notice on stderr."""

    def __init__(self, option_strings, dest, new="", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog}: `{option_string}` is deprecated and will be removed in the next "
              f"release; use {self.new}.", file=sys.stderr)
        setattr(namespace, self.dest, values)


# --- the shared argument groups ---------------------------------------------------------------
_NET_COUNTS = {"?": (0, 1), "*": (0, None), "+": (1, None), 1: (1, 1), 2: (2, 2), "1-2": (1, 2),
               "2+": (2, None)}


def add_network_args(p, nargs, help, legacy=()):
    """Positional networks ``NET.npz ...`` (files saved by ``Network.save``).

    Parameters
    ----------
    p : argparse.ArgumentParser
    nargs : {1, 2, "1-2", "?", "*", "+", "2+"}
        How many networks the command takes; counted after parsing (so that the old
        spellings in ``legacy`` can fill the same list), with a one-line error.
    help : str
        What the networks mean for this command (e.g. ``"A B: the two ends"``).
    legacy : sequence of (flag, position, nargs)
        Old flags that still fill the list for one release, with a deprecation notice:
        ``position`` is the index they fill, or ``None`` to append (``nargs="+"`` flags).
    """
    p.add_argument("networks", nargs="*", metavar="NET.npz", help=help)
    for flag, position, flag_nargs in legacy:
        p.add_argument(flag, dest=f"_legacy_{flag.lstrip('-').replace('-', '_')}",
                       action=_Deprecated, nargs=flag_nargs, metavar="PATH",
                       new="positional NET.npz", help=argparse.SUPPRESS)
    p.set_defaults(_net_count=_NET_COUNTS[nargs],
                   _net_legacy=tuple((f"_legacy_{f.lstrip('-').replace('-', '_')}", pos, f)
                                     for f, pos, _ in legacy))


def networks_of(args):
    """The network paths of a command line (positional, merged with old spellings), counted."""
    paths = list(getattr(args, "networks", None) or [])
    for dest, pos, flag in getattr(args, "_net_legacy", ()):
        value = getattr(args, dest, None)
        if value is None:
            continue
        if pos is None:
            paths.extend(value if isinstance(value, list) else [value])
        else:
            if len(paths) < pos:
                raise _UserError(f"`{flag}` needs the networks before it; give them as "
                                 "positional NET.npz.")
            paths.insert(pos, value)
    lo, hi = getattr(args, "_net_count", (0, None))
    if len(paths) < lo or (hi is not None and len(paths) > hi):
        want = (f"{lo}" if lo == hi else f"{lo} or {hi}" if hi == lo + 1 else
                f"at least {lo}" if hi is None else f"{lo} to {hi}")
        raise _UserError(f"`NET.npz` must be {want} network file"
                         f"{'' if want == '1' else 's'}; got {len(paths)}.")
    return paths


def add_data_args(p):
    """``--data NAME|PATH``, ``--data-seed``, ``--n-samples``, ``--loss`` (and the old
    ``--data-file``)."""
    from .datasets import DATA_ALIASES, dataset_names

    g = p.add_argument_group("data")
    g.add_argument("--data", default=None, metavar="NAME|PATH",
                   help="bundled data set (" + ", ".join(dataset_names())
                        + "; aliases " + ", ".join(DATA_ALIASES)
                        + ") or a .npz file with arrays X (N, d) and y (default: breast_cancer; "
                          "stability: none)")
    g.add_argument("--data-file", dest="data", action=_Deprecated, new="--data PATH",
                   metavar="PATH", help=argparse.SUPPRESS)
    g.add_argument("--data-seed", type=_nonnegative_int, default=0, metavar="S",
                   help="seed of the data split or generator (default 0)")
    g.add_argument("--n-samples", type=_positive_int, default=None, metavar="N",
                   help="samples of the generated data sets (quadratic, cubic, blobs, xor, "
                        "circles, moons; default 200)")
    g.add_argument("--loss", type=_spelling, choices=LOSSES, default=None, metavar="LOSS",
                   help="loss: mse, l1, bce or cross_entropy (default: the data set's natural "
                        "loss; mse for files)")


class _Data:
    """Data of a command line: ``X, y``, a held-out part or ``None``, the natural loss, the
    name."""

    def __init__(self, X, y, X_test, y_test, loss, name):
        self.X, self.y, self.X_test, self.y_test, self.loss, self.name = (
            X, y, X_test, y_test, loss, name)


def data_of(args, *, inputs=None, default="breast_cancer"):
    """Load ``--data`` (a bundled name or a file); ``None`` when neither is given and
    ``default`` is ``None``. ``inputs`` (the network's input dimension) is checked."""
    from . import datasets
    from .io import FileError, load_data

    spec = args.data if args.data is not None else default
    if spec is None:
        return None
    name = datasets.canonical_data_name(spec)
    if name is not None:
        bd = datasets.load_dataset(name, n_samples=args.n_samples, seed=args.data_seed,
                                   inputs=inputs)
        data = _Data(bd.X, bd.y, bd.X_test, bd.y_test, bd.loss, name)
    elif os.path.exists(spec) or spec.endswith((".npz", ".csv")):
        X, y = load_data(spec, "--data")
        data = _Data(X, y, None, None, "mse", os.fspath(spec))
    else:
        raise FileError(f"`--data` must be a bundled data set "
                        f"({', '.join(datasets.dataset_names(True))}) or a .npz file; got "
                        f"{spec!r}, which is neither.")
    if inputs is not None and data.X.shape[1] != inputs:
        raise FileError(f"`--data` {data.name!r} has {data.X.shape[1]} input columns but the "
                        f"network has {inputs} inputs.")
    return data


def add_output_args(p, *, json=False):
    """``--out DIR`` (and ``--json PATH`` as an extra copy of the report when ``json``)."""
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder, with a manifest and a lock (default: "
                        "./topoanalysis_COMMAND; components: print only)")
    if json:
        p.add_argument("--json", default=None, metavar="PATH",
                       help="also write the report as JSON to PATH")


def _check_json(args):
    """``--json PATH`` (an extra copy of the report), checked before any work: a writable file
    path, and not the manifest or the lock of the ``--out`` folder, which the command writes
    (and removes) itself after the copy -- the copy would be lost or the folder unusable."""
    from .io import LOCK, MANIFEST, check_output_file

    if args.out is not None and args.json:
        path, root = os.path.realpath(args.json), os.path.realpath(args.out)
        if path in (os.path.join(root, MANIFEST), os.path.join(root, LOCK)):
            raise _UserError(f"`--json` must not be the {os.path.basename(path)} of the output "
                             f"folder (the command writes it itself); got {args.json!r}.")
    return check_output_file(args.json, "--json")


def output_of(args):
    """The ``--out`` folder of a command line (``./topoanalysis_COMMAND`` by default)."""
    return args.out if args.out is not None else f"topoanalysis_{args.command}"


def add_common_args(p, *, seed=True, threads=True):
    """``--quiet``, ``--force``, and (unless switched off) ``--seed``, ``--threads``."""
    g = p.add_argument_group("common")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    g.add_argument("--force", action="store_true",
                   help="reuse an output folder written with other arguments (its old files are "
                        "removed), and run past the time budget")
    if seed:
        g.add_argument("--seed", type=_nonnegative_int, default=0, metavar="S",
                       help="seed of every random choice of the command (initialization, "
                            "shuffling, checks; default 0)")
    if threads:
        g.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                       help="engine threads (default: all usable cores; results do not depend "
                            "on it)")


def _apply_threads(args):
    """``--threads N``: the engine's default thread count becomes ``N`` (the process is
    limited to ``N`` cores, which every ``n_threads=None`` default reads). Returns the
    previous core set, to restore when the command ends (``None``: nothing changed)."""
    n = getattr(args, "threads", None)
    if n is None or not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    if n >= len(cores):
        return None
    os.sched_setaffinity(0, cores[:n])
    return cores


#: Defaults of ``--steps`` (training steps) per command; ``--lr`` is 0.05 everywhere.
_STEPS = {"train": 1000, "analyze": 2000}


def _add_lr_steps(g):
    g.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    g.add_argument("--steps", type=int, default=None,
                   help="training steps (default: train 1000, analyze 2000)")


def _add_hidden(g):
    g.add_argument("--hidden", "-l", type=int, nargs="+", default=None, metavar="L",
                   help="hidden widths, one per hidden layer (analyze: one width, default 6)")


def add_architecture_args(p, *, default_inputs=None):
    """How to build a network from flags: ``-d``, ``-l``, ``-e``, activation and
    initialization."""
    g = p.add_argument_group("architecture and initialization (when no NET.npz is given)")
    g.add_argument("--inputs", "-d", type=int, default=default_inputs, metavar="D",
                   help="input dimension d (default: the data's, or required)")
    _add_hidden(g)
    g.add_argument("--outputs", "-e", type=int, default=1, metavar="E",
                   help="output dimension e (default 1)")
    g.add_argument("--activation", default="relu",
                   help="relu, leaky_relu(s), linear, tanh, sigmoid or abs (default relu)")
    add_init_args(g)
    g.add_argument("--no-hidden-bias", action="store_true", help="hidden layers without biases")
    g.add_argument("--no-output-bias", action="store_true", help="output layer without bias")


def add_init_args(g, *, flag="--init"):
    """``--init`` (or ``--scheme``), ``--init-std``, ``--bias-init``, ``--bias-std``."""
    if flag == "--init":
        g.add_argument("--init", default="kaiming_normal", metavar="SCHEME",
                       help="xavier_normal, xavier_uniform, kaiming_normal, kaiming_uniform, "
                            "pytorch or normal (default kaiming_normal)")
    g.add_argument("--init-std", type=_positive_float, default=None,
                   help="weight standard deviation for the scheme normal")
    g.add_argument("--bias-init", default="zeros",
                   help="hidden biases: zeros, same, pytorch or normal (default zeros)")
    g.add_argument("--bias-std", type=_positive_float, default=None,
                   help="std for --bias-init normal")


# --- helpers of the commands ----------------------------------------------------------------
def _architecture(args):
    from .network import Architecture

    if args.inputs is None or args.hidden is None:
        raise _UserError("give NET.npz, or --inputs D and --hidden L to build a network.")
    arch = Architecture(inputs=args.inputs, hidden=tuple(args.hidden), outputs=args.outputs,
                        hidden_bias=not args.no_hidden_bias, output_bias=not args.no_output_bias,
                        activation=args.activation)
    _check_network_size(arch, 1)
    return arch


#: Float64 copies of the parameters a command works with (measured: ``components`` peaks at
#: about 7 for one network of 4e7 parameters).
_WORKING_COPIES = 8


def _check_network_size(arch, count):
    """Refuse, before any allocation, networks built from ``--inputs``/``--hidden``/
    ``--outputs`` (and ``--n-networks``) whose working arrays exceed the memory budget."""
    check_memory_budget(8.0 * _WORKING_COPIES * count * arch.n_params,
                        f"the working memory of {count:,} network{'s' if count != 1 else ''} of "
                        f"{arch.n_params:,} "
                        f"parameters (the sizes set by --inputs, --hidden, --outputs)",
                        "reduce --hidden or --inputs"
                        + (" or --n-networks" if count != 1 else ""))


def _load_networks(args, names=None):
    from .io import load_network

    paths = networks_of(args)
    return paths, [load_network(p, param=(names[i] if names else "NET.npz"))
                   for i, p in enumerate(paths)]


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


def _settings(args, *skip):
    """What determines a command's outputs (recorded in the output folder's manifest)."""
    ignore = {"func", "quiet", "force", "out", "command", "_subparser", "threads", "json",
              "_resumable", "_net_count", "_net_legacy", *skip}
    s = {k: v for k, v in sorted(vars(args).items())
         if k not in ignore and not k.startswith("_legacy_")}
    if "networks" in s:
        s["networks"] = [os.path.abspath(p) for p in networks_of(args)]
    if s.get("data") is not None:  # one name per data set: `wu5` and `wu_five_point` agree
        from .datasets import canonical_data_name

        s["data"] = canonical_data_name(s["data"]) or os.path.abspath(s["data"])
    return s


def _note(text):
    print(text, file=sys.stderr)


# --- commands ------------------------------------------------------------------------------
def cmd_components(args):
    from .network import Network
    from .obstruction.topology import network_topology

    from .io import OutputFolder, check_output_file, write_json

    if args.json is not None:
        _check_json(args)  # before computing ("" is refused, not ignored)
    paths = networks_of(args)
    if paths:
        from .io import load_network

        net = load_network(paths[0], param="NET.npz")
    else:
        net = Network.initialize(_architecture(args), args.init, seed=args.seed,
                                 std=args.init_std, bias_init=args.bias_init,
                                 bias_std=args.bias_std)
    topo = network_topology(net) if args.atol is None else network_topology(net, atol=args.atol)
    print(topo.summary())
    if args.out is not None:
        with OutputFolder(args.out, command="components", settings=_settings(args),
                          force=args.force) as folder:
            path = write_json(folder.path("components.json"), topo.to_dict())
        print(f"wrote {path}")
    if args.json is not None:
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
    with OutputFolder(output_of(args), command="probability", settings=settings,
                      force=args.force) as folder:
        grids = [obstruction_grid(args.d, args.l, args.outputs, scheme, events=events,
                                  hidden_bias=args.hidden_bias, std=args.init_std,
                                  bias_init=args.bias_init, bias_std=args.bias_std)
                 for scheme in schemes]
        write_obstruction_outputs(grids, folder, events, plot=not args.no_plot, log=args.log)
    return 0


def _record_bytes(B, steps, record_every, H):
    """Bytes of the arrays ``train`` records: losses and conserved quantities at
    ``steps // record_every + 2`` points, kept in memory and in the checkpoint (x2)."""
    R = steps // max(record_every, 1) + 2
    return 2 * 8.0 * B * R * (1 + H)


def cmd_train(args):
    if args.steps is None:
        args.steps = _STEPS["train"]
    from ._resources import format_seconds
    from .dynamics import train
    from .dynamics._engine import _evaluate, resolve_threads
    from .dynamics.train import estimate_step_seconds
    from .init import init_params
    from .io import (OutputFolder, check_checkpoint, check_memory, load_network, save_network,
                     write_csv, write_json)
    from .network import Architecture

    paths = networks_of(args)
    nets = [load_network(p, param="NET.npz") for p in paths]
    data = data_of(args, inputs=nets[0].arch.inputs if nets else args.inputs)
    X, y, X_test, y_test = data.X, data.y, data.X_test, data.y_test
    loss = args.loss or data.loss
    if nets:
        arch = nets[0].arch
        if any(n.arch != arch for n in nets):
            raise _UserError("`NET.npz` files must all have the same architecture.")
    else:
        if args.hidden is None:
            raise _UserError("give NET.npz [NET.npz ...], or --hidden L to build networks.")
        arch = Architecture(inputs=args.inputs or X.shape[1], hidden=tuple(args.hidden),
                            outputs=args.outputs, hidden_bias=not args.no_hidden_bias,
                            output_bias=not args.no_output_bias, activation=args.activation)
        if isinstance(args.n_networks, int) and args.n_networks >= 1:
            _check_network_size(arch, args.n_networks)
    B = len(nets) if nets else args.n_networks
    flow = normalize_name(args.optimizer) == "flow"
    if flow:   # the flow integrator keeps no checkpoint: Ctrl-C must not promise a resume
        args._resumable = False
    if B > 0:  # memory first, then time: both before any work
        check_memory(8.0 * B * arch.n_params,
                     f"an array of {B} networks × {arch.n_params} parameters",
                     param="n_networks")
        if not flow and isinstance(args.steps, int) and isinstance(args.record_every, int) \
                and args.steps > 0 and args.record_every > 0:
            check_memory_budget(
                _record_bytes(B, args.steps, args.record_every, sum(arch.hidden)),
                f"the record ({B} networks × {args.steps // args.record_every + 2} records)",
                "reduce --steps or raise --record-every")
    n = X.shape[0] if args.batch_size is None else args.batch_size
    with OutputFolder(output_of(args), command="train", settings=_settings(args),
                      force=args.force) as folder:
        if B > 0 and not flow and args.steps > 0 and n > 0:
            eta = args.steps * estimate_step_seconds(B, n, arch.n_params,
                                                     resolve_threads(args.threads, B))
            if eta > 10:
                _note(f"estimated time: {format_seconds(eta)} ({B} networks × {args.steps} "
                      "steps, from the engine's cost model); Ctrl-C stops it, and the same "
                      "command resumes it.")
        theta = (np.stack([n.params for n in nets]) if nets else
                 init_params(arch, args.init, seed=args.seed, n_networks=args.n_networks,
                             std=args.init_std, bias_init=args.bias_init,
                             bias_std=args.bias_std))
        checkpoint = folder.path("checkpoint.npz")
        if os.path.exists(checkpoint):
            if not flow:
                check_checkpoint(checkpoint, steps=args.steps, n_networks=B,
                                 n_params=arch.n_params, param="--out")
            print(f"resuming from {checkpoint}")
        opts = dict(lr=args.lr, steps=args.steps, batch_size=args.batch_size,
                    record_every=args.record_every, checkpoint=checkpoint,
                    remove_checkpoint=False, n_threads=args.threads)
        if flow:  # gradient flow to time --t-end (topoanalysis.dynamics.flow)
            opts = dict(t_end=args.t_end, rtol=args.flow_rtol, atol=args.flow_atol)
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
        write_csv(curves, [x_name] + [f"loss_{i}" for i in range(B)] + ["note"],
                  _curve_rows(x, res, flow))
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
    out = output_of(args)
    print(f"wrote {out}/network_*.npz, {curves}, {out}/train.json")
    return 0


def _curve_rows(x, res, flow):
    """Rows of ``loss_curves.csv``: the step (an integer) or time, the loss of every network,
    and a ``note`` saying why a value is not finite (the network diverged, or it stopped
    earlier: at its target loss, or at the end of the flow) -- never a bare NaN."""
    loss = np.asarray(res.loss, dtype=np.float64)
    rows = []
    for r in range(loss.shape[1]):
        bad = np.flatnonzero(~np.isfinite(loss[:, r]))
        note = "; ".join(
            f"loss_{i}: " + ("diverged" if res.diverged[i] else
                             f"stopped after {int(res.steps_taken[i])} step"
                             + ("" if int(res.steps_taken[i]) == 1 else "s")
                             + (" (target loss reached)" if res.reached_target[i] else ""))
            for i in bad[:8]) + (f"; {bad.size - 8} more" if bad.size > 8 else "")
        rows.append([float(x[r]) if flow else int(x[r]), *loss[:, r], note])
    return rows


def _network_of(arch, params):
    from .network import Network

    return Network(arch, params)


def cmd_interpolate(args):
    from .dynamics import interpolation_barrier
    from .io import OutputFolder, save_figure, write_csv, write_json

    _, (a, b) = _load_networks(args, names=("A", "B"))
    if a.arch != b.arch:
        raise _UserError(f"`A` and `B` must have the same architecture; got {a!r} and {b!r}.")
    data = data_of(args, inputs=a.arch.inputs)
    X, y = data.X, data.y
    loss = args.loss or data.loss
    check_memory_budget(8.0 * args.n_points * (2 * a.arch.n_params + 2 * X.shape[0]
                                               * (a.arch.outputs + sum(a.arch.hidden)) + 8),
                        f"{args.n_points:,} points on the segment", "reduce --n-points")
    with OutputFolder(output_of(args), command="interpolate", settings=_settings(args),
                      force=args.force) as folder:
        with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
            # divergence (a non-finite loss) is refused below in one line, not warned about
            warnings.simplefilter("ignore", DivergenceWarning)
            bar = interpolation_barrier(a, b, X, y, loss=loss, n_points=args.n_points,
                                        n_threads=args.threads)
        _check_finite_segment(bar)
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


def _check_finite_segment(bar):
    """Refuse, in one line and before anything is written, a segment whose loss left float64
    (networks or data of 1e150 and beyond): never a barrier of NaN or an ``inf`` curve."""
    ends = (("A", bar.loss_a[0]), ("B", bar.loss_b[0]))
    bad = [(f"`{name}`", v) for name, v in ends if not np.isfinite(v)]
    inner = np.asarray(bar.loss[0], dtype=np.float64)
    if not bad and not np.all(np.isfinite(inner)):
        bad = [("the segment from `A` to `B`", inner[~np.isfinite(inner)][0])]
    if bad:
        where, value = bad[0]
        raise _UserError(f"{where} must have a finite loss on the data; got {float(value)} "
                         "(the outputs overflow float64: rescale the networks or the data).")


def cmd_analyze(args):
    if args.steps is None:
        args.steps = _STEPS["analyze"]
    if args.hidden is None:
        args.hidden = [6]
    if len(args.hidden) != 1:
        raise _UserError(f"`--hidden` of analyze must be one width (one hidden layer); got "
                         f"{len(args.hidden)} widths.")
    from .analyze import analyze
    from .io import OutputFolder

    with OutputFolder(output_of(args), command="analyze", settings=_settings(args),
                      force=args.force) as folder:
        for name in ("report.json", "analysis.png", "report.html", "checkpoint.npz"):
            folder.path(name)  # recorded, so that --force knows what to replace
        report = analyze(
            hidden=args.hidden[0], seeds=args.seeds, scheme=args.init, steps=args.steps,
            lr=args.lr, train=not args.no_train, out=folder.root, progress=not args.quiet,
            std=args.init_std, n_threads=args.threads,
        )
    print(report.text())
    return 0


def build_parser():
    parser = _Parser(
        prog="topoanalysis",
        description="Topology and geometry of the loss landscapes of shallow ReLU networks. "
                    "Every subcommand speaks one vocabulary: networks as positional NET.npz, "
                    "--data NAME|PATH, --out DIR, --seed, --threads, --quiet, --force "
                    "(docs/guide/cli.md).",
    )
    parser.add_argument("--version", action="version", version=f"topoanalysis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("components", help="components and effective components of H(c)",
                       description="Conserved quantities, pathological neurons, components, "
                                   "effective components and Betti numbers of a network's "
                                   "invariant set H(c), for NET.npz or a network built from "
                                   "the architecture flags.")
    add_network_args(p, "?", "the network (default: built from -d, -l and --init)",
                     legacy=[("--network", None, None)])
    add_architecture_args(p)
    p.add_argument("--atol", type=_nonnegative_float, default=None,
                   help="|c_k| <= atol counts as c_k = 0 (default 0: signs decided exactly)")
    add_output_args(p, json=True)
    add_common_args(p)
    p.set_defaults(func=cmd_components)

    p = sub.add_parser("probability", help="probability of obstruction at initialization",
                       description="Probability of obstruction at initialization over a grid "
                                   "of input dimensions d and widths l (Nurisso et al., Fig. 5).")
    p.add_argument("--d", type=_int_range, default=_int_range("2:50"), metavar="RANGE",
                   help="input dimensions, e.g. 2:50 or 2,4,8 (default 2:50)")
    p.add_argument("--l", type=_int_range, default=_int_range("2:50"), metavar="RANGE",
                   help="hidden widths (default 2:50)")
    p.add_argument("--outputs", "-e", type=int, default=1, metavar="E",
                   help="output dimension e (default 1)")
    p.add_argument("--scheme", nargs="+", default=["xavier_normal", "kaiming_normal"],
                   help="initialization schemes (default xavier_normal kaiming_normal)")
    p.add_argument("--event", nargs="+", default=None,
                   help="events to tabulate (default: all)")
    p.add_argument("--hidden-bias", action="store_true",
                   help="hidden biases initialized to zero (w_k gains a coordinate)")
    add_init_args(p, flag="--scheme")
    p.add_argument("--log", action="store_true", help="color by log10 of the value")
    p.add_argument("--no-plot", action="store_true", help="CSV only")
    add_output_args(p)
    add_common_args(p, seed=False)
    p.set_defaults(func=cmd_probability)

    p = sub.add_parser("train", help="train networks with the compiled engine",
                       description="Train a stack of networks (full-batch GD, SGD, momentum, "
                                   "Adam or gradient flow) from NET.npz files or from the "
                                   "architecture flags, and write the final networks, loss "
                                   "curves and c_k drift. The run checkpoints into --out; "
                                   "rerunning an interrupted command resumes it with identical "
                                   "results (not --optimizer flow, which starts over).")
    add_network_args(p, "*", "start from these saved networks (default: initialize "
                             "--n-networks networks from the architecture flags)",
                     legacy=[("--network", None, "+")])
    add_architecture_args(p)
    p.add_argument("--n-networks", type=int, default=1, help="networks trained at once")
    add_data_args(p)
    g = p.add_argument_group("optimization")
    g.add_argument("--optimizer", default="gd",
                   help="gd, sgd, momentum, adam or flow (gradient flow; default gd)")
    _add_lr_steps(g)
    g.add_argument("--batch-size", type=int, default=None, help="mini-batch size for sgd")
    g.add_argument("--record-every", type=int, default=10, help="record every k steps")
    g.add_argument("--target-loss", type=_nonnegative_float, default=None,
                   help="stop a network at this loss")
    g.add_argument("--t-end", type=_positive_float, default=None,
                   help="final time for --optimizer flow")
    g.add_argument("--flow-rtol", type=_positive_float, default=None,
                   help="flow: relative tolerance (default 1e-5)")
    g.add_argument("--flow-atol", type=_positive_float, default=None,
                   help="flow: absolute tolerance (default 1e-8)")
    g.add_argument("--rtol", dest="flow_rtol", action=_Deprecated, type=_positive_float,
                   new="--flow-rtol", help=argparse.SUPPRESS)
    g.add_argument("--atol", dest="flow_atol", action=_Deprecated, type=_positive_float,
                   new="--flow-atol", help=argparse.SUPPRESS)
    add_output_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_train, _resumable=True)

    p = sub.add_parser("interpolate", help="loss along the segment between two networks",
                       description="Loss (and accuracy) on the segment between two saved networks "
                                   "A and B and the barrier max_t L(θ_t) − ((1−t)L(θ_A) + "
                                   "tL(θ_B)).")
    add_network_args(p, 2, "A B: the two ends of the segment",
                     legacy=[("--a", 0, None), ("--b", 1, None)])
    add_data_args(p)
    p.add_argument("--n-points", type=_positive_int, default=101,
                   help="points on each segment (default 101)")
    add_output_args(p)
    add_common_args(p, seed=False)
    p.set_defaults(func=cmd_interpolate)

    p = sub.add_parser("analyze", help="the main job on the bundled breast cancer data",
                       description="Shallow ReLU networks on the bundled breast cancer data, "
                                   "several seeds: invariants, components, effective components, "
                                   "obstruction probabilities, training and barriers.")
    _add_hidden(p)
    p.add_argument("--hidden-width", dest="hidden", action=_Deprecated, type=int, nargs=1,
                   new="--hidden", help=argparse.SUPPRESS)
    p.add_argument("--seeds", type=int, default=8, help="number of initializations (default 8)")
    p.add_argument("--init", default="kaiming_normal", metavar="SCHEME",
                   help="xavier_normal, xavier_uniform, kaiming_normal, kaiming_uniform, "
                        "pytorch or normal (default kaiming_normal)")
    p.add_argument("--init-std", type=_positive_float, default=None,
                   help="weight standard deviation for the scheme normal")
    _add_lr_steps(p)
    p.add_argument("--no-train", action="store_true", help="skip training")
    add_output_args(p)
    add_common_args(p, seed=False)
    p.set_defaults(func=cmd_analyze, _resumable=True)

    from .critical import cli as critical_cli
    from .degeneracy import cli as stability_cli
    from .levelsets import cli as levelsets_cli

    critical_cli.add_subcommand(sub)
    stability_cli.add_subcommand(sub)
    levelsets_cli.add_subcommand(sub)
    import importlib

    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(name)
        added = module.add_parser(sub)
        if getattr(module, "run", None) is not None and added is not None \
                and added.get_default("func") is None:
            added.set_defaults(func=module.run)
    for sp in sub.choices.values():  # errors raised by a command print its usage line
        sp.set_defaults(_subparser=sp)
    return parser


#: Exceptions a user can cause, shown as one line with exit status 2: project errors (bad
#: values, files, sizes), OS errors from the user's files and folders, and allocations that
#: still fail after the memory checks. Anything else is a bug and shows its traceback.
USER_ERRORS = (TopoAnalysisError, OSError, MemoryError)


def _one_line_warning(command):
    def show(message, category, filename, lineno, file=None, line=None):
        print(f"topoanalysis {command}: warning: {message}", file=file or sys.stderr)
    return show


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    cores = None
    try:
        cores = _apply_threads(args)
        with warnings.catch_warnings():
            if warnings.showwarning is getattr(warnings, "_showwarning_orig", None):
                # a terminal user sees one line per warning, not Python's source excerpt
                # (an embedding program or a test harness keeps its own handler)
                warnings.showwarning = _one_line_warning(args.command)
            return args.func(args) or 0
    except KeyboardInterrupt:
        if getattr(args, "_resumable", False):
            msg = "interrupted; run the same command again to resume"
        else:
            msg = ("interrupted; this command keeps no checkpoint, so running it again starts "
                   "over (files already written are kept)")
        print(f"topoanalysis {args.command}: {msg}", file=sys.stderr)
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
    finally:
        if cores is not None:  # main() called in-process (tests, notebooks): give them back
            os.sched_setaffinity(0, cores)


#: Library parameter names and the flags that set them (an error names both).
_FLAGS = {"std": "--init-std", "bias_std": "--bias-std", "n_networks": "--n-networks",
          "bias_init": "--bias-init", "batch_size": "--batch-size", "n_points": "--n-points",
          "record_every": "--record-every", "target_loss": "--target-loss",
          "hidden": "--hidden", "inputs": "--inputs", "outputs": "--outputs",
          "n_samples": "--n-samples", "data_seed": "--data-seed", "max_depth": "--max-depth",
          "n_perturbations": "--perturbations", "n_threads": "--threads"}


def _name_flag(msg, args):
    """Add the command-line flag to a library parameter named in ``msg`` (``std`` ->
    ``std`` (--init-std)), so the user sees what to change."""
    flags = dict(_FLAGS)
    flags["scheme"] = "--scheme" if args.command == "probability" else "--init"
    for name, flag in flags.items():
        token = f"`{name}`"
        if msg.startswith(token) or f" {token}" in msg:
            dest = flag.lstrip("-").replace("-", "_")
            if hasattr(args, dest):
                return msg.replace(token, f"{token} ({flag})", 1)
    # otherwise a parameter whose flag is its name with dashes (`max_degree` -> --max-degree):
    # the command's own destinations are exactly those names
    import re

    for name in re.findall(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`", msg):
        if hasattr(args, name):
            token = f"`{name}`"
            return msg.replace(token, f"{token} (--{name.replace('_', '-')})", 1)
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
