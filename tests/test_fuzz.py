"""In-project fuzz suite: malformed arrays, files and command lines over the public surface.

Property everywhere: **a project error or a correct result, never anything else** — an API
call returns or raises :class:`topoanalysis.TopoAnalysisError`; a command returns 0 or exits
with status 2 (argparse's and ours), and no traceback reaches the user.

Budget: ``TOPOANALYSIS_FUZZ_EXAMPLES`` examples per property (default 25, a few seconds each
in CI); ``TOPOANALYSIS_FUZZ_REPORT=path.json`` writes the counts (inputs tried, clean errors,
correct results, anything else) at the end of the session. A long local run:
``TOPOANALYSIS_FUZZ_EXAMPLES=2000 TOPOANALYSIS_FUZZ_REPORT=fuzz.json pytest tests/test_fuzz.py``.
"""

import contextlib
import io
import json
import os
import shutil
import tempfile
import warnings

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from topoanalysis import Architecture, Network, TopoAnalysisError  # noqa: E402

EXAMPLES = int(os.environ.get("TOPOANALYSIS_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
COUNTS = {}


def tally(target, outcome):
    row = COUNTS.setdefault(target, {"tried": 0, "result": 0, "clean_error": 0, "other": 0})
    row["tried"] += 1
    row[outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    total = {k: sum(r[k] for r in COUNTS.values()) for k in
             ("tried", "result", "clean_error", "other")}
    path = os.environ.get("TOPOANALYSIS_FUZZ_REPORT")
    if path:
        with open(path, "w") as fh:
            json.dump({"total": total, "by_target": COUNTS}, fh, indent=2)
    print(f"\nfuzz: {total}")


def check(target, call):
    """Run ``call``; a project error or a result passes, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except TopoAnalysisError:
            tally(target, "clean_error")
            return
        except Exception:
            tally(target, "other")
            raise
    tally(target, "result")


# --- strategies ------------------------------------------------------------------------------
_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.sampled_from([0.0, 1.0, -1.0, 1e-300, 1e300, 1e200, -1e160]))
_scalars = st.one_of(_floats, st.integers(-5, 5), st.booleans(), st.none(),
                     st.text(max_size=4), st.complex_numbers(max_magnitude=10))


@st.composite
def arrays(draw, max_dim=3, max_side=5):
    """Well-formed and malformed array-likes: numeric arrays of any shape and dtype (complex,
    bool, object, strings), ragged lists, scalars, None."""
    kind = draw(st.sampled_from(["float", "float", "int", "complex", "bool", "str", "ragged",
                                 "scalar", "none", "empty", "object"]))
    if kind == "scalar":
        return draw(_scalars)
    if kind == "none":
        return None
    if kind == "ragged":
        return [draw(st.lists(_floats, max_size=3)) for _ in range(draw(st.integers(2, 3)))]
    ndim = draw(st.integers(0, max_dim))
    shape = tuple(draw(st.integers(0 if kind == "empty" else 1, max_side)) for _ in range(ndim))
    n = int(np.prod(shape)) if shape else 1
    if kind in ("float", "empty"):
        vals = draw(st.lists(_floats, min_size=n, max_size=n))
        return np.array(vals, dtype=np.float64).reshape(shape)
    if kind == "int":
        return np.array(draw(st.lists(st.integers(-3, 8), min_size=n, max_size=n))).reshape(shape)
    if kind == "complex":
        return (np.ones(shape) + 1j * draw(st.floats(-2, 2))).reshape(shape)
    if kind == "bool":
        return np.ones(shape, dtype=bool)
    if kind == "object":
        return np.array([draw(_scalars) for _ in range(n)], dtype=object).reshape(shape)
    return np.full(shape, "x")


ARCH = Architecture(3, (4,), 1)
ARCH2 = Architecture(3, (4,), 2)
NET = Network.initialize(ARCH, seed=0)
X = np.random.default_rng(0).normal(size=(6, 3))
Y = (X[:, :1] > 0).astype(float)


def _api_calls():
    from topoanalysis.dynamics import (batch_loss_and_gradient, interpolation_barrier,
                                       path_losses, train)
    from topoanalysis.graphs import component_graph
    from topoanalysis.init import init_params
    from topoanalysis.losses import as_targets
    from topoanalysis.obstruction.probability import event_probability
    from topoanalysis.obstruction.topology import network_topology, reachability
    from topoanalysis.symbolic import invariant_set_topology

    quick = dict(lr=0.1, steps=2, progress=False)
    return {
        "Network(arch, A)": lambda A: Network(ARCH, A),
        "Network.from_weights": lambda A: Network.from_weights([A, np.ones((1, 4))]),
        "Network.forward": lambda A: NET.forward(A),
        "Network.loss(X=A)": lambda A: NET.loss(A, Y),
        "Network.loss(y=A)": lambda A: NET.loss(X, A, loss="bce"),
        "Network.permute_neurons": lambda A: NET.permute_neurons(A),
        "Network.rescale_neurons(alpha)": lambda A: NET.rescale_neurons(A),
        "Network.rescale_neurons(neurons)": lambda A: NET.rescale_neurons(2.0, neurons=A),
        "init_params(std)": lambda A: init_params(ARCH, "normal", std=A),
        "init_params(n_networks)": lambda A: init_params(ARCH, n_networks=A),
        "train(theta)": lambda A: train(A, X, Y, arch=ARCH, loss="bce", **quick),
        "train(X)": lambda A: train(NET, A, Y, loss="mse", **quick),
        "train(y)": lambda A: train(NET, X, A, loss="mse", **quick),
        "train(y, cross_entropy)": lambda A: train(Network.initialize(ARCH2), X, A,
                                                   loss="cross_entropy", **quick),
        "train(lr)": lambda A: train(NET, X, Y, loss="mse", lr=A, steps=2, progress=False),
        "batch_loss_and_gradient": lambda A: batch_loss_and_gradient(A, X, Y, arch=ARCH),
        "interpolation_barrier": lambda A: interpolation_barrier(NET, A, X, Y, arch=ARCH,
                                                                 n_points=5),
        "path_losses": lambda A: path_losses(A, X, Y, arch=ARCH, points_per_edge=3),
        "as_targets": lambda A: as_targets(A, "cross_entropy", 3),
        "invariant_set_topology": lambda A: invariant_set_topology(A, 3, 1),
        "component_graph": lambda A: component_graph(A, d=2, e=1),
        "event_probability": lambda A: event_probability(A, 3),
        "network_topology": lambda A: network_topology(Network(ARCH, A)),
        "reachability": lambda A: reachability(NET, Network(ARCH, A)),
    }


API = _api_calls()


#: The well-formed shape (and kind) of each entry point's argument: half of the examples are
#: arrays of that shape with arbitrary values (finite, huge, NaN, inf), so the fuzz reaches the
#: computation and not only the first check.
VALID = {
    "Network(arch, A)": ((21,), "float"), "Network.from_weights": ((4, 3), "float"),
    "Network.forward": ((6, 3), "float"), "Network.loss(X=A)": ((6, 3), "float"),
    "Network.loss(y=A)": ((6, 1), "unit"), "Network.permute_neurons": ((4,), "perm"),
    "Network.rescale_neurons(alpha)": ((4,), "float"),
    "Network.rescale_neurons(neurons)": ((2,), "index"), "init_params(std)": ((), "float"),
    "init_params(n_networks)": ((), "index"), "train(theta)": ((2, 21), "float"),
    "train(X)": ((6, 3), "float"), "train(y)": ((6, 1), "float"),
    "train(y, cross_entropy)": ((6,), "index"), "train(lr)": ((), "float"),
    "batch_loss_and_gradient": ((2, 21), "float"), "interpolation_barrier": ((21,), "float"),
    "path_losses": ((3, 21), "float"), "as_targets": ((5,), "index"),
    "invariant_set_topology": ((4,), "float"), "component_graph": ((4,), "float"),
    "event_probability": ((3,), "unit"), "network_topology": ((21,), "float"),
    "reachability": ((21,), "float"),
}


@st.composite
def valid_shaped(draw, shape, kind):
    n = int(np.prod(shape)) if shape else 1
    if kind == "perm":
        return np.array(draw(st.permutations(range(n)))).reshape(shape)
    if kind == "index":
        return np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))).reshape(shape)
    if kind == "unit":
        vals = draw(st.lists(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1),
                                       _floats), min_size=n, max_size=n))
        return np.array(vals, dtype=np.float64).reshape(shape)
    values = st.floats(-3, 3) if draw(st.booleans()) else st.one_of(st.floats(-3, 3), _floats)
    vals = draw(st.lists(values, min_size=n, max_size=n))
    return np.array(vals, dtype=np.float64).reshape(shape)


@pytest.mark.parametrize("target", sorted(API))
def test_api_entry_points(target):
    call = API[target]
    shape, kind = VALID[target]

    @FUZZ
    @given(st.one_of(arrays(), valid_shaped(shape, kind)))
    def run(A):
        check(target, lambda: call(A))

    run()


_small = st.one_of(st.integers(-2, 4), st.sampled_from([0.5, float("nan"), None, "2", True,
                                                        (1, 2), [2], 10 ** 30]))


@st.composite
def scalar_calls(draw):
    """Entry points whose arguments are sizes, names and numbers (kept small: symbolic cost)."""
    from topoanalysis import datasets
    from topoanalysis.obstruction.probability import obstruction_grid, pathological_probability
    from topoanalysis.symbolic import conserved_quadratic_forms, gd_drift, quadric_topology

    a, b, c = draw(_small), draw(_small), draw(_small)
    calls = {
        "Architecture": lambda: Architecture(a, (b,) if isinstance(b, int) else b, c),
        "Architecture(activation)": lambda: Architecture(2, (2,), 1, activation=a),
        "quadric_topology": lambda: quadric_topology(a, b, c),
        "conserved_quadratic_forms": lambda: conserved_quadratic_forms(
            a, (b,) if isinstance(b, int) and 0 < b < 3 else b, c, max_parameters=12),
        "gd_drift": lambda: gd_drift(a, (b,) if isinstance(b, int) and 0 < b < 3 else b, c,
                                     max_parameters=12),
        "polynomial_regression": lambda: datasets.polynomial_regression("cubic", n_samples=a,
                                                                        seed=b),
        "toy_classification_2d": lambda: datasets.toy_classification_2d(a, "moons", seed=b,
                                                                         noise=c),
        "teacher_student": lambda: datasets.teacher_student(a, b, c, seed=0),
        "pathological_probability": lambda: pathological_probability(a, b, c),
        "obstruction_grid": lambda: obstruction_grid([a], [b], c),
        "init_params(gain)": lambda: __import__("topoanalysis.init", fromlist=["x"]).init_params(
            ARCH, gain_value=a, mode=b if isinstance(b, str) else "fan_in"),
    }
    which = draw(st.sampled_from(sorted(calls)))
    return which, calls[which]


@FUZZ
@given(scalar_calls())
def test_scalar_arguments(call):
    which, fn = call
    check(f"scalars:{which}", fn)


_names = st.one_of(
    st.sampled_from(["relu", "ReLU", "leaky-relu", "leaky_relu(0.2)", "leaky_relu(x)", "tanh",
                     "kaiming-normal", "Xavier_Uniform", "normal", "pytorch", "bce", "mse",
                     "Cross-Entropy", "adam", "SGD", "flow", "", " ", "nope", "__class__",
                     "all_pathological", "Per-Neuron", "zeros", "same"]),
    st.text(max_size=12))


@st.composite
def choice_calls(draw):
    from topoanalysis.activations import parse_activation
    from topoanalysis.dynamics import train
    from topoanalysis.init import init_params
    from topoanalysis.obstruction.probability import obstruction_probability

    which = draw(st.sampled_from(["activation", "scheme", "bias_init", "loss", "optimizer",
                                  "event", "probability_scheme"]))
    name = draw(_names)
    calls = {
        "activation": lambda: parse_activation(name),
        "scheme": lambda: init_params(ARCH, name, std=0.5),
        "bias_init": lambda: init_params(ARCH, bias_init=name, bias_std=0.5),
        "loss": lambda: train(NET, X, Y, loss=name, lr=0.1, steps=2, progress=False),
        "optimizer": lambda: train(NET, X, Y, optimizer=name, lr=0.1, steps=2, progress=False),
        "event": lambda: obstruction_probability(3, 2, event=name),
        "probability_scheme": lambda: obstruction_probability(3, 2, scheme=name, std=0.5),
    }
    return which, calls[which]


@FUZZ
@given(choice_calls())
def test_named_choices(call):
    which, fn = call
    check(f"choice:{which}", fn)


_expr_atoms = st.sampled_from(["W1_0_0", "W1_0_1", "b1_0", "W2_0_0", "2", "0.5", "x", "t",
                               "__import__('os')", "().__class__", "sqrt", "exp(", "**",
                               "lambda: 0", "'s'", "[1]", "W1_0_0.real", "10**10**10",
                               "open('f')", "1/0", "^", "(", ")"])


@FUZZ
@given(st.one_of(st.lists(_expr_atoms, min_size=1, max_size=6).map(" ".join),
                 st.lists(_expr_atoms, min_size=1, max_size=4).map("*".join),
                 st.text(max_size=30)))
def test_check_conserved_strings(text):
    from topoanalysis.symbolic import check_conserved

    check("check_conserved", lambda: check_conserved(text, 2, (2,), 1, output_bias=False))


# --- files ----------------------------------------------------------------------------------
@st.composite
def bad_files(draw):
    """A path to a malformed (or, sometimes, valid) network/data file."""
    folder = tempfile.mkdtemp(prefix="ta-fuzz-")
    path = os.path.join(folder, "f.npz")
    kind = draw(st.sampled_from(["missing", "folder", "empty", "random", "truncated", "npy",
                                 "keys", "shapes", "complex", "object", "valid", "text"]))
    good = NET.save(os.path.join(folder, "good.npz"))
    if kind == "folder":
        os.mkdir(path)
    elif kind == "empty":
        open(path, "wb").close()
    elif kind == "random":
        open(path, "wb").write(draw(st.binary(min_size=1, max_size=300)))
    elif kind == "truncated":
        blob = open(good, "rb").read()
        open(path, "wb").write(blob[: draw(st.integers(1, len(blob) - 1))])
    elif kind == "npy":
        np.save(path, np.ones(3))
        os.replace(path + ".npy", path) if os.path.exists(path + ".npy") else None
    elif kind == "keys":
        np.savez(path, foo=np.ones(2))
    elif kind == "shapes":
        X = draw(arrays(max_dim=3))
        try:
            X = np.asarray(X)
        except ValueError:  # ragged: stored as an object array (a pickle the loader refuses)
            X = np.array(X, dtype=object)
        np.savez(path, X=X, y=np.ones(3),
                 params=np.ones(draw(st.integers(0, 30))), inputs=3, hidden=np.array([4]),
                 outputs=1, hidden_bias=True, output_bias=True, activation="relu",
                 negative_slope=0.01)
    elif kind == "complex":
        np.savez(path, X=np.ones((4, 3)) * 1j, y=np.ones(4), params=np.ones(21) * 1j,
                 inputs=3, hidden=np.array([4]), outputs=1, hidden_bias=True,
                 output_bias=True, activation="relu", negative_slope=0.01)
    elif kind == "object":
        np.savez(path, X=np.array([1, "a"], dtype=object), y=np.ones(2))
    elif kind == "valid":
        shutil.copy(good, path)
    elif kind == "text":
        open(path, "w").write("X,y\n1,2\n")
    return kind, path


@FUZZ
@given(bad_files(), st.sampled_from(["load_network", "load_data", "Network.load"]))
def test_file_loaders(file, loader):
    from topoanalysis import io as tio

    kind, path = file
    fn = {"load_network": tio.load_network, "load_data": tio.load_data,
          "Network.load": Network.load}[loader]
    try:
        check(f"file:{loader}", lambda: fn(path))
    finally:
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


# --- command lines ----------------------------------------------------------------------------
_values = {
    "-d": ["1", "3", "0", "-2", "x", "30"], "-l": ["1", "2", "0", "-1", "3 3", "z"],
    "-e": ["1", "2", "0", "q"], "--activation": ["relu", "Leaky-ReLU", "tanh", "softplus", ""],
    "--init": ["kaiming-normal", "normal", "XAVIER_UNIFORM", "glorot"],
    "--init-std": ["0.1", "0", "-1", "nan", "inf", "1e200", "1e-300", "x"],
    "--bias-init": ["zeros", "Normal", "same", "bad"], "--bias-std": ["0.1", "-1", "nan"],
    "--seed": ["0", "-1", "1.5", "99999999999999999999"], "--atol": ["0", "-1", "nan", "1e-3"],
    "--steps": ["1", "3", "0", "-5", "abc", "2.5"], "--lr": ["0.1", "0", "-1", "nan", "1e300"],
    "--n-networks": ["1", "2", "0", "-3", "1000000000000"], "--loss": [
        "mse", "BCE", "cross-entropy", "l1", "hinge"],
    "--optimizer": ["gd", "SGD", "momentum", "Adam", "lbfgs"], "--batch-size": ["1", "0", "-2",
                                                                                "100000"],
    "--record-every": ["1", "0", "-1"], "--target-loss": ["0.1", "nan", "-inf"],
    "--data": ["breast_cancer", "xor", "quadratic", "nope"], "--n-samples": ["10", "0", "-5"],
    "--d": ["2:4", "3", "0:2", "a:b", "5:2", "2:8:0", "2,3"], "--l": ["2:3", "2", "-1", "x"],
    "--scheme": ["xavier_normal", "Kaiming-Normal", "normal", "nope"],
    "--event": ["all_pathological", "Per-Neuron", "nope"], "--n-points": ["5", "2", "0", "-1"],
    "--hidden-width": ["2", "0", "100"], "--seeds": ["1", "0", "-1"],
}
_flags = {
    "components": ["-d", "-l", "-e", "--activation", "--init", "--init-std", "--bias-init",
                   "--bias-std", "--seed", "--atol", "--network", "--json"],
    "train": ["-l", "-e", "--activation", "--init", "--init-std", "--bias-init", "--bias-std",
              "--seed", "--steps", "--lr", "--n-networks", "--loss", "--optimizer",
              "--batch-size", "--record-every", "--target-loss", "--data", "--n-samples",
              "--data-file", "--network", "--out"],
    "probability": ["--d", "--l", "-e", "--scheme", "--event", "--init-std", "--bias-init",
                    "--bias-std", "--out"],
    "interpolate": ["--a", "--b", "--data", "--data-file", "--loss", "--n-points", "--out"],
    "analyze": ["--hidden-width", "--seeds", "--init", "--init-std", "--lr", "--out"],
    "barrier": ["--data", "--n-points", "--threshold", "--out"],
    "connect": ["--data", "--threshold", "--out", "--loss"],
    "stability": ["--data-file", "--tol", "--radius", "--out"],
    "critical": ["--data", "--tol", "--seed", "--json"],
}
_values.update({"--tol": ["1e-6", "0", "-1", "nan"], "--radius": ["0.1", "0", "-1", "inf"]})
_values.update({"--threshold": ["0.1", "-1", "nan", "x"],
                "--data": ["breast_cancer", "xor", "quadratic", "nope"]})
_fixed = {"train": ["-q", "--steps", "3"], "probability": ["--no-plot"],
          "analyze": ["-q", "--no-train"], "components": [], "interpolate": ["--n-points", "5"],
          "barrier": ["--n-points", "5"],
          "connect": ["-q", "--steps", "2", "--points", "5", "--max-depth", "1"],
          "stability": ["-q"], "critical": ["--perturbations", "5"]}


@st.composite
def command_lines(draw, folder):
    command = draw(st.sampled_from(sorted(_flags)))
    argv = [command] + list(_fixed[command])
    chosen = draw(st.lists(st.sampled_from(_flags[command]), max_size=5, unique=True))
    files = ["good", "empty", "random", "folder", "missing", "x1d", "afile"]
    for flag in chosen:
        if flag in ("--network", "--a", "--b", "--data-file", "--json"):
            value = os.path.join(folder, draw(st.sampled_from(files)) + ".npz")
        elif flag == "--out":
            value = os.path.join(folder, draw(st.sampled_from(["out", "afile.npz", "good.npz",
                                                              "folder.npz", "new/sub"])))
        else:
            value = draw(st.sampled_from(_values[flag]))
        argv += [flag] + value.split(" ")
    if command not in ("components", "critical") and "--out" not in chosen:
        argv += ["--out", os.path.join(folder, "o%d" % draw(st.integers(0, 10 ** 9)))]
    if command in ("stability", "critical"):  # one positional network
        argv[1:1] = [os.path.join(folder, draw(st.sampled_from(files)) + ".npz")]
    if command in ("barrier", "connect"):  # positional networks, and a required --data
        nets = [os.path.join(folder, draw(st.sampled_from(files)) + ".npz") for _ in range(2)]
        argv[1:1] = nets
        if "--data" not in chosen:
            argv += ["--data", "breast_cancer"]
    if command == "interpolate":
        argv += [] if "--a" in chosen else ["--a", os.path.join(folder, "good.npz")]
        argv += [] if "--b" in chosen else ["--b", os.path.join(folder, "good.npz")]
    if draw(st.booleans()) and command not in ("components", "critical"):
        argv.append("--force")
    return argv


@pytest.fixture(scope="module")
def cli_folder():
    folder = tempfile.mkdtemp(prefix="ta-fuzz-cli-")
    net = Network.initialize(Architecture(30, (3,), 1), seed=0)
    net.save(os.path.join(folder, "good.npz"))
    open(os.path.join(folder, "empty.npz"), "wb").close()
    open(os.path.join(folder, "random.npz"), "wb").write(os.urandom(500))
    os.mkdir(os.path.join(folder, "folder.npz"))
    np.savez(os.path.join(folder, "x1d.npz"), X=np.arange(4.0), y=np.arange(4.0))
    open(os.path.join(folder, "afile.npz"), "w").write("not a folder")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _restore_cwd(path):
    try:
        yield
    finally:
        os.chdir(path)


def test_command_lines(cli_folder):
    from topoanalysis.cli import main

    @FUZZ
    @given(command_lines(cli_folder))
    def run(argv):
        out, err = io.StringIO(), io.StringIO()
        code = None
        here = os.getcwd()
        os.chdir(cli_folder)  # default output files land in the temporary folder
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings(), _restore_cwd(here):
            warnings.simplefilter("ignore")
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: status 2 with its usage line
                code = exc.code
            except BaseException:
                tally(f"cli:{argv[0]}", "other")
                raise
        if code not in (0, 2) or "Traceback" in err.getvalue():
            tally(f"cli:{argv[0]}", "other")
            raise AssertionError(f"{argv}: exit {code}\n{err.getvalue()}")
        if code == 2:
            lines = err.getvalue().strip().splitlines()
            assert lines and "error:" in lines[-1], (argv, err.getvalue())
        tally(f"cli:{argv[0]}", "result" if code == 0 else "clean_error")

    run()
