"""In-project fuzz suite: malformed arrays, files and command lines over the public surface.

Property everywhere: **a project error or a correct result, never anything else** — an API
call returns or raises :class:`topoanalysis.TopoAnalysisError`; a command returns 0 or exits
with status 2 (argparse's and ours), and no traceback reaches the user. Results of the paper
subpackages also pass **oracles** (a "local minimum" is not beaten by a descent direction found
by sampling, distances are finite and at least the sampled lower bound, kernels obey
Proposition 2.3, balancing keeps the function, ...).

Budget: ``TOPOANALYSIS_FUZZ_EXAMPLES`` examples per property (default 25, a few seconds each
in CI; 4 per paper target, ``TOPOANALYSIS_FUZZ_PAPER_EXAMPLES``); ``TOPOANALYSIS_FUZZ_REPORT=path.json`` writes the counts (inputs tried, clean errors,
correct results, library tracebacks, silent wrong results, runs past their estimate) at the end
of the session. ``TOPOANALYSIS_FUZZ_CAMPAIGN=1`` records failures instead of stopping at the
first (for a large campaign: ``python scripts/fuzz_campaign.py --examples 20000``); a call
running longer than ``TOPOANALYSIS_FUZZ_SLOW`` seconds (default 60) counts as past its estimate.
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
CAMPAIGN = os.environ.get("TOPOANALYSIS_FUZZ_CAMPAIGN", "") not in ("", "0")
SLOW = float(os.environ.get("TOPOANALYSIS_FUZZ_SLOW", "60"))
settings.register_profile("ci", max_examples=EXAMPLES, deadline=None, derandomize=True,
                          suppress_health_check=list(HealthCheck), database=None)
settings.register_profile("campaign", max_examples=EXAMPLES, deadline=None, derandomize=False,
                          suppress_health_check=list(HealthCheck), database=None,
                          phases=[hypothesis.Phase.generate])
FUZZ = settings(settings.get_profile("campaign" if CAMPAIGN else "ci"))
#: Per-target example counts of a campaign (``TOPOANALYSIS_FUZZ_EXAMPLES_MAP``, a JSON object
#: written by scripts/fuzz_campaign.py from a calibration pass: cheap targets get more).
EXAMPLES_MAP = json.loads(os.environ.get("TOPOANALYSIS_FUZZ_EXAMPLES_MAP", "{}") or "{}")


#: Examples per paper target in CI (each calls a verdict, a distance or a string search): 4
#: unless TOPOANALYSIS_FUZZ_EXAMPLES or TOPOANALYSIS_FUZZ_PAPER_EXAMPLES says otherwise.
PAPER_EXAMPLES = int(os.environ.get("TOPOANALYSIS_FUZZ_PAPER_EXAMPLES",
                                    os.environ.get("TOPOANALYSIS_FUZZ_EXAMPLES", "4")))


def fuzz_settings(target, paper=False):
    n = EXAMPLES_MAP.get(target, PAPER_EXAMPLES if paper else None)
    return FUZZ if n is None else settings(FUZZ, max_examples=int(n))
COUNTS = {}
OUTCOMES = ("tried", "result", "clean_error", "other", "wrong", "slow")
#: Up to 5 examples per target and failure kind, for the report.
EXAMPLES_SEEN = {}


def tally(target, outcome, detail=None, seconds=0.0):
    row = COUNTS.setdefault(target, dict.fromkeys(OUTCOMES + ("seconds",), 0))
    row["tried"] += 1
    row[outcome] += 1
    row["seconds"] = row.get("seconds", 0) + seconds
    if detail is not None and outcome in ("other", "wrong", "slow"):
        seen = EXAMPLES_SEEN.setdefault(f"{target} [{outcome}]", [])
        if len(seen) < 5:
            seen.append(detail[:600])


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    total = {k: sum(r[k] for r in COUNTS.values()) for k in OUTCOMES}
    path = os.environ.get("TOPOANALYSIS_FUZZ_REPORT")
    if path:
        old = {}
        if os.path.exists(path):           # several pytest runs may add to one report
            with open(path) as fh:
                old = json.load(fh)
        by_target = old.get("by_target", {})
        for k, row in COUNTS.items():
            prev = by_target.get(k, dict.fromkeys(OUTCOMES, 0))
            by_target[k] = {o: prev.get(o, 0) + row.get(o, 0) for o in OUTCOMES + ("seconds",)}
        examples = old.get("examples", {})
        for k, v in EXAMPLES_SEEN.items():
            examples[k] = (examples.get(k, []) + v)[:5]
        total = {o: sum(r[o] for r in by_target.values()) for o in OUTCOMES}
        with open(path, "w") as fh:
            json.dump({"total": total, "by_target": by_target, "examples": examples}, fh,
                      indent=2)
    print(f"\nfuzz: {total}")


def _describe(exc):
    import traceback

    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def check(target, call, oracle=None, args=None):
    """Run ``call``; a project error or a result (that passes ``oracle``) passes, anything else
    fails the test (in a campaign: is counted and reported).

    ``oracle(result)`` returns None when the result is right, else a sentence saying why not.
    """
    import time

    where = "" if args is None else f" with {_short_repr(args)}"
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = call()
            verdict = oracle(out) if oracle is not None else None
        except TopoAnalysisError:
            verdict = "clean_error"
        except Exception as exc:
            tally(target, "other", f"{_describe(exc)}{where}")
            if CAMPAIGN:
                return
            raise
    seconds = time.perf_counter() - t0
    if seconds > SLOW:
        tally(target, "slow", f"{seconds:.0f} s{where}", seconds)
        if not CAMPAIGN:
            raise AssertionError(f"{target} ran {seconds:.0f} s (> {SLOW:.0f} s){where}")
        return
    if verdict == "clean_error":
        tally(target, "clean_error", seconds=seconds)
    elif verdict is None:
        tally(target, "result", seconds=seconds)
    else:
        tally(target, "wrong", f"{verdict}{where}", seconds)
        if not CAMPAIGN:
            raise AssertionError(f"{target}: silent wrong result: {verdict}{where}")


def _short_repr(value):
    text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


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

    @fuzz_settings(target)
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


# --- the paper subpackages: every public function, adversarial numbers, oracles ---------------
#: Adversarial scale factors and numbers (issue 14): overflowing, underflowing, non-finite.
_EXTREMES = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 1e300, 1e200, 1e150,
             1e-150, 1e-300, 1e-308, 5e-324, 0.0, -1.0, 1.0]
_bad_numbers = st.one_of(st.sampled_from(_EXTREMES + [1j, 1 + 1j, None, "1", "nan", True, (),
                                                      [], [1.0, 2.0], 10 ** 400]),
                         st.floats(allow_nan=True, allow_infinity=True, width=64))
_bad_ints = st.one_of(st.sampled_from([-1, 0, 1, 2, 3, 10 ** 9, 10 ** 12, 10 ** 30, 2.5,
                                       float("nan"), None, "3", True, 1j]),
                      st.integers(-3, 10))
_PAYLOADS = ["__import__('os').system('touch {canary}')",
             "().__class__.__bases__[0].__subclasses__()",
             "exec(\"open('{canary}', 'w')\")", "lambda: open('{canary}', 'w')",
             "eval('1')", "open('{canary}', 'w')", "x.__class__", "1; import os",
             "Symbol('x')", "sqrt(2)/10", "1/100", "10**10**10", "x" * 20_000, "(" * 200]
#: A file a payload would create if code from a string ever ran (checked after the session).
CANARY = os.path.join(tempfile.gettempdir(), f"topoanalysis-fuzz-canary-{os.getpid()}")


def _payloads():
    return st.one_of(st.sampled_from([p.replace("{canary}", CANARY) for p in _PAYLOADS]),
                     st.text(max_size=20))


def _scaled(value, factor):
    with np.errstate(all="ignore"):
        return np.asarray(value, dtype=np.float64) * factor


@st.composite
def _adversarial_array(draw, valid):
    """Arrays for a parameter whose valid value is ``valid``: the valid array scaled by an
    extreme factor, with a NaN/inf/huge entry planted, complex, empty, ragged, transposed,
    or one of the generic malformed arrays."""
    valid = np.asarray(valid, dtype=np.float64)
    kind = draw(st.sampled_from(["scaled", "scaled", "planted", "complex", "empty", "ragged",
                                 "transposed", "generic", "valid"]))
    if kind == "valid":
        return valid.copy()
    if kind == "scaled":
        return _scaled(valid, draw(st.sampled_from(_EXTREMES)))
    if kind == "planted" and valid.size:
        out = valid.copy()
        out.flat[draw(st.integers(0, valid.size - 1))] = draw(st.sampled_from(_EXTREMES))
        return out
    if kind == "complex":
        return valid + 1j * draw(st.sampled_from([0.0, 1.0, 1e-300]))
    if kind == "empty":
        return np.zeros((0,) + valid.shape[1:]) if valid.ndim else np.zeros(0)
    if kind == "ragged":
        return [list(r) for r in np.atleast_2d(valid)][:-1] + [[1.0]] if valid.ndim else [[1.0],
                                                                                      [1, 2]]
    if kind == "transposed":
        return valid.T.copy() if valid.ndim > 1 else valid[None, :]
    return draw(arrays())


def _net_like(net):
    """Strategy of networks for a parameter whose valid value is ``net``."""
    from topoanalysis import Network as _N

    @st.composite
    def build(draw):
        kind = draw(st.sampled_from(["scaled", "scaled", "planted", "junk", "other", "valid"]))
        if kind == "valid":
            return net
        if kind == "junk":
            return draw(st.sampled_from([None, "net.npz", 3, np.ones(3), net.arch,
                                         [net, net]]))
        if kind == "other":
            return draw(st.sampled_from(_OTHER_NETS))
        params = np.array(net.params, dtype=np.float64)
        if kind == "scaled":
            params = _scaled(params, draw(st.sampled_from(_EXTREMES)))
        else:
            params[draw(st.integers(0, params.size - 1))] = draw(st.sampled_from(_EXTREMES))
        try:
            return _N(net.arch, params)
        except TopoAnalysisError:          # non-finite: the constructor refuses it
            return params
    return build()


def _paper_fixtures():
    from topoanalysis import datasets

    wu = datasets.wu_five_point_regression()
    X1, y1 = np.asarray(wu.X, dtype=float), np.asarray(wu.y, dtype=float).reshape(len(wu.X), -1)
    arch1 = Architecture(1, (3,), 1)
    # local minima of the five-point task (trained with Adam, snapped; classify says so)
    minima = [Network(arch1, np.array(p)) for p in (
        [0.17542765439562555, -0.08849063244654962, 1.0862059681804261, -0.05520238817187748,
         -0.08967769168366446, -0.3258617904541281, -0.09833938275510548, -0.41456694079430284,
         -0.7442247722250365, 0.11],
        [1.0518457414210178, 0.9569649079909073, 0.35951688409593036, -0.3155537224263056,
         0.09569649079909066, 0.03595168840959301, -1.44983236604615, 0.33893586645037427,
         0.2104220221471251, 0.07],
        [-1.095523219574715, -1.5428856201302066, -0.3476132304769382, -0.10955232195747146,
         -0.9257313720781236, -0.0347613230476938, -0.1829062881073133, 0.7626402445615933,
         -0.07562595072349082, 0.01333333333333335])]
    arch2 = Architecture(2, (3,), 1)
    net2 = Network.initialize(arch2, seed=0)
    net2b = Network.initialize(arch2, seed=1)
    X2 = np.random.default_rng(0).normal(size=(8, 2))
    y2 = np.random.default_rng(1).normal(size=(8, 1))
    return dict(X1=X1, y1=y1, arch1=arch1, minima=minima, arch2=arch2, net2=net2, net2b=net2b,
                X2=X2, y2=y2)


F = _paper_fixtures()
_OTHER_NETS = [Network.initialize(Architecture(2, (3, 2), 1), seed=0),        # deep
               Network.initialize(Architecture(2, (3,), 1, activation="tanh"), seed=0),
               Network.initialize(Architecture(3, (3,), 1), seed=0),           # other d
               Network.initialize(Architecture(2, (3,), 2), seed=0),           # other e
               Network.initialize(Architecture(2, (1,), 1), seed=0),           # width 1
               Network(Architecture(2, (3,), 1), np.zeros(13))]                # all zero


# oracles ------------------------------------------------------------------------------------
#: Fields where NaN is a documented marker said in words in the summary: no exponent when the
#: distances span less than a decade; loss records after a run stopped; slice points whose loss
#: overflows (counted in ``info["non_finite_points"]``).
NAN_MARKERS = ("['exponent']", "['local_exponents']", "['loss_curves']", "['accuracy_curves']")


def _nan_free(obj, path="result"):
    """None when ``obj`` (numbers, arrays, dicts, lists, dataclasses) holds no NaN."""
    import dataclasses

    if path == "result" and getattr(obj, "info", None) and isinstance(obj.info, dict) and \
            obj.info.get("non_finite_points"):
        n = int(np.sum(np.isnan(np.asarray(obj.loss, dtype=float))))
        return None if n == obj.info["non_finite_points"] else (
            f"{n} NaN losses but info says {obj.info['non_finite_points']}")
    if any(path.endswith(m) or m + "[" in path for m in NAN_MARKERS):
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            try:
                obj = obj.to_dict()
            except TopoAnalysisError:
                return None
        else:
            obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        for k, v in obj.items():
            bad = _nan_free(v, f"{path}[{k!r}]")
            if bad:
                return bad
        return None
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj[:10_000]):
            bad = _nan_free(v, f"{path}[{i}]")
            if bad:
                return bad
        return None
    if isinstance(obj, (float, np.floating, np.ndarray)):
        arr = np.asarray(obj)
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            return f"{path} holds NaN"
        if arr.dtype.kind == "c":
            return f"{path} is complex"
    return None


def _finite(*names):
    """Oracle: no NaN anywhere, and the named numbers finite."""
    def oracle(res):
        bad = _nan_free(res)
        if bad:
            return bad
        for n in names:
            v = np.asarray(getattr(res, n) if not isinstance(res, dict) else res[n],
                           dtype=float)
            if not np.all(np.isfinite(v)):
                return f"{n} = {v} is not finite"
        return None
    return oracle


def _verdict_oracle(X, y, loss="mse"):
    """A verdict agrees with its own checks and with sampling around the point."""
    def oracle(v):
        if isinstance(v, tuple):                 # snap_and_classify: (SnapResult, Verdict)
            snap_res, v = v
            net = snap_res.network
        else:
            net = v._net if hasattr(v, "_net") else None
        bad = _nan_free(v)
        if bad:
            return bad
        if not np.isfinite(v.loss):
            return f"verdict {v.verdict!r} with loss {v.loss}"
        if v.verdict == "local minimum":
            pert = v.perturbations or {}
            if pert.get("found_decrease"):
                return "'local minimum' while its own perturbation check found a decrease"
            if v.curve and v.curve.get("decreasing"):
                return "'local minimum' while the loss decreases along its direction"
        if v.verdict == "not stationary" and v.curve is not None and not v.curve.get(
                "decreasing"):
            # only a contradiction when the promised drop is above float64 rounding
            slope = getattr(v.stationarity, "descent_slope", None) or 0.0
            drop = -slope * max(v.curve.get("steps") or [0.0])
            if drop > 1e-6 * max(abs(v.loss), 1e-300):
                return (f"'not stationary' (slope {slope:.3g}) but the loss does not decrease "
                        "along the direction")
        return None
    return oracle


def _sampled_local_min(net, X, y, v, seed=0):
    """Oracle helper: a local minimum is not beaten by sampled perturbations of radius
    1e-7 ||θ|| (relative loss tolerance 1e-9)."""
    if v.verdict != "local minimum":
        return None
    rng = np.random.default_rng(seed)
    theta = np.asarray(net.params, dtype=float)
    l0 = net.loss(X, y, "mse")
    r = 1e-7 * max(np.linalg.norm(theta), 1e-300)
    if v.radius and isinstance(v.radius, dict) and v.radius.get("radius"):
        r = min(r, 0.5 * float(v.radius["radius"]))
    for _ in range(40):
        u = rng.standard_normal(theta.size)
        moved = Network(net.arch, theta + r * u / np.linalg.norm(u))
        l1 = moved.loss(X, y, "mse")
        if l1 < l0 - 1e-9 * max(abs(l0), 1e-300):
            return f"'local minimum' beaten by a sampled descent: {l0!r} -> {l1!r} at r={r:.3g}"
    return None


def _classify_oracle(X, y):
    base = _verdict_oracle(X, y)

    def oracle(args_and_v):
        net, v = args_and_v
        return base(v) or (_sampled_local_min(net, X, y, v) if isinstance(net, Network)
                           and np.all(np.isfinite(np.asarray(X, dtype=float)))
                           else None)
    return oracle


def _uniform_oracle(net_a, net_b, domain):
    """Oracle: the uniform distance is finite and at least |f − g| at sampled domain points."""
    def oracle(res):
        bad = _finite("value")(res)
        if bad:
            return bad
        rng = np.random.default_rng(0)
        if hasattr(domain, "low"):
            lo, hi = np.asarray(domain.low, float), np.asarray(domain.high, float)
            pts = lo + (hi - lo) * rng.random((200, lo.size))
        else:
            c = np.asarray(domain.center, float)
            g = rng.standard_normal((200, c.size))
            g /= np.linalg.norm(g, axis=1, keepdims=True)
            pts = c + domain.radius * g * rng.random((200, 1)) ** (1 / c.size)
        with np.errstate(all="ignore"):
            diff = np.abs(net_a.forward(pts) - net_b.forward(pts)).max()
        if np.isfinite(diff) and res.value < diff * (1 - 1e-9) - 1e-300:
            return f"uniform distance {res.value!r} below the sampled |f - g| = {diff!r}"
        return None
    return oracle


def _parameter_oracle(res):
    bad = _finite("value", "lower")(res)
    if bad:
        return bad
    if res.value < 0 or res.lower > res.value * (1 + 1e-12) + 1e-300:
        return f"parameter distance bounds out of order: lower {res.lower!r} > {res.value!r}"
    return None


def _finite_or_no_fit(res):
    slope, local = res
    if np.isinf(slope) or np.any(np.isinf(np.asarray(local, dtype=float))):
        return f"infinite exponent {slope} / {local}"
    return None


def _kernel_oracle(w1, w2, cov):
    """Oracle: 0 <= E[relu relu] <= s1 s2 / 2 (Cauchy-Schwarz), finite."""
    def oracle(val):
        v = np.asarray(val, dtype=float)
        if not np.all(np.isfinite(v)):
            return f"kernel {v} not finite"
        if np.any(v < 0):
            return f"kernel {v} negative"
        return None
    return oracle


def _prop23_oracle(terms):
    lo, va, up = (np.asarray(t, dtype=float) for t in terms)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(va)) and np.all(np.isfinite(up))):
        return f"Proposition 2.3 terms not finite: {lo}, {va}, {up}"
    scale = np.maximum(np.abs(up), np.abs(lo)) + 1e-300
    if np.any(va < lo - 1e-9 * scale) or np.any(va > up + 1e-9 * scale):
        return f"Proposition 2.3 violated: {lo} <= {va} <= {up} fails"
    return None


def _balance_oracle(arch, theta):
    """Oracle: balancing keeps the realized function (relative 1e-9) and balances."""
    def oracle(out):
        out = np.asarray(out, dtype=float)
        if not np.all(np.isfinite(out)):
            return "balanced parameters not finite"
        Xs = np.random.default_rng(0).normal(size=(16, arch.inputs))
        with np.errstate(all="ignore"):
            f0 = Network(arch, np.asarray(theta, float)).forward(Xs)
            f1 = Network(arch, out).forward(Xs)
        if np.all(np.isfinite(f0)) and np.max(np.abs(f0 - f1)) > 1e-9 * (np.max(np.abs(f0))
                                                                         + 1e-300):
            return "balancing changed the realized function"
        return None
    return oracle


def _paper_calls():
    """``target -> (strategy of the fuzzed value, call(value), oracle(value) or None)``.

    One target per (public function, parameter); the other arguments stay valid (and cheap),
    so that the fuzzed value reaches the computation.
    """
    import topoanalysis.critical as cr
    import topoanalysis.degeneracy as dg
    import topoanalysis.levelsets as ls
    import topoanalysis.symmetry as sy
    from topoanalysis.landscape import Landscape

    X1, y1, mins = F["X1"], F["y1"], F["minima"]
    m0 = mins[0]
    arch2, n2, n2b, X2, y2 = F["arch2"], F["net2"], F["net2b"], F["X2"], F["y2"]
    A = lambda v: _adversarial_array(v)  # noqa: E731
    N = _net_like
    box = dg.Box((-1.0, -1.0), (1.0, 1.0))
    land = Landscape(arch2, X2, y2)
    traj = np.stack([n2.params + 0.1 * k * (n2b.params - n2.params) for k in range(5)])
    cheap = dict(n_perturbations=20)
    V = lambda X, y: _verdict_oracle(X, y)  # noqa: E731
    calls = {}

    def add(name, strategy, call, oracle=None):
        calls[name] = (strategy, call, oracle)

    # critical ------------------------------------------------------------------------------
    add("critical.classify(net)", st.one_of(N(m0), st.sampled_from(mins)),
        lambda v: (v, cr.classify(v, X1, y1, **cheap)),
        lambda v: _classify_oracle(X1, y1))
    add("critical.classify(X)", A(X1), lambda v: (m0, cr.classify(m0, v, y1, **cheap)),
        lambda v: _classify_oracle(v, y1))
    add("critical.classify(y)", A(y1), lambda v: (m0, cr.classify(m0, X1, v, **cheap)),
        lambda v: _classify_oracle(X1, v))
    for kw in ("tol", "kink_tol", "zero_tol"):
        add(f"critical.classify({kw})", _bad_numbers,
            lambda v, kw=kw: (m0, cr.classify(m0, X1, y1, **{kw: v}, **cheap)),
            lambda v: _classify_oracle(X1, y1))
    add("critical.classify(radii)", st.one_of(_bad_numbers, A(np.array([1e-6, 1e-3]))),
        lambda v: (m0, cr.classify(m0, X1, y1, radii=v, **cheap)),
        lambda v: _classify_oracle(X1, y1))
    add("critical.classify(n_perturbations)", _bad_ints,
        lambda v: (m0, cr.classify(m0, X1, y1, n_perturbations=v)),
        lambda v: _classify_oracle(X1, y1))
    add("critical.classify(seed)", _bad_ints,
        lambda v: (m0, cr.classify(m0, X1, y1, seed=v, **cheap)),
        lambda v: _classify_oracle(X1, y1))
    add("critical.classify(max_pieces)", _bad_ints,
        lambda v: (m0, cr.classify(m0, X1, y1, max_pieces=v, **cheap)),
        lambda v: _classify_oracle(X1, y1))
    add("critical.snap_and_classify(net)", st.one_of(N(m0), N(n2)),
        lambda v: cr.snap_and_classify(v, X1 if getattr(v, "arch", None) is None or
                                       v.arch.inputs == 1 else X2, y1 if getattr(
                                           v, "arch", None) is None or v.arch.inputs == 1
                                       else y2),
        lambda v: V(X1, y1))
    add("critical.snap_and_classify(X)", A(X1), lambda v: cr.snap_and_classify(m0, v, y1),
        lambda v: V(v, y1))
    add("critical.snap_and_classify(y)", A(y1), lambda v: cr.snap_and_classify(m0, X1, v),
        lambda v: V(X1, v))
    for kw in ("kink_tol", "zero_tol", "tol"):
        add(f"critical.snap_and_classify({kw})", _bad_numbers,
            lambda v, kw=kw: cr.snap_and_classify(m0, X1, y1, **{kw: v}), lambda v: V(X1, y1))
    add("critical.snap(net)", N(m0), lambda v: cr.snap(v, X1, y1), lambda v: _nan_free)
    add("critical.snap(X)", A(X1), lambda v: cr.snap(m0, v, y1), lambda v: _nan_free)
    add("critical.snap(max_iter)", _bad_ints, lambda v: cr.snap(m0, X1, y1, max_iter=v),
        lambda v: _nan_free)
    add("critical.stationarity(net)", N(m0), lambda v: cr.stationarity(v, X1, y1),
        lambda v: _nan_free)
    add("critical.stationarity(y)", A(y1), lambda v: cr.stationarity(m0, X1, v),
        lambda v: _nan_free)
    add("critical.stationarity(tol)", _bad_numbers, lambda v: cr.stationarity(m0, X1, y1,
                                                                               tol=v),
        lambda v: _nan_free)
    g, K, C = np.array([1.0, -0.5]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.3, -0.2])
    add("critical.tangential_minimum(g)", A(g), lambda v: cr.tangential_minimum(v, K, C),
        lambda v: _nan_free)
    add("critical.tangential_minimum(kink_inputs)", A(K),
        lambda v: cr.tangential_minimum(g, v, C), lambda v: _nan_free)
    add("critical.tangential_minimum(coefficients)", A(C),
        lambda v: cr.tangential_minimum(g, K, v), lambda v: _nan_free)
    add("critical.tangential_minimum(negative_slope)", _bad_numbers,
        lambda v: cr.tangential_minimum(g, K, C, v), lambda v: _nan_free)
    add("critical.tangential_minimum(max_pieces)", _bad_ints,
        lambda v: cr.tangential_minimum(g, K, C, max_pieces=v), lambda v: _nan_free)
    add("critical.kink_samples(net)", N(m0), lambda v: cr.kink_samples(v, X1),
        lambda v: _nan_free)
    add("critical.kink_samples(X)", A(X1), lambda v: cr.kink_samples(m0, v), lambda v: _nan_free)
    add("critical.kink_samples(tol)", _bad_numbers, lambda v: cr.kink_samples(m0, X1, tol=v),
        lambda v: _nan_free)
    d0 = np.linspace(-1, 1, m0.arch.n_params)
    add("critical.directional_derivative(direction)", A(d0),
        lambda v: cr.directional_derivative(m0, X1, y1, v), lambda v: _finite())
    add("critical.directional_derivative(net)", N(m0),
        lambda v: cr.directional_derivative(v, X1, y1, d0), lambda v: _finite())
    add("critical.directional_derivative(kink_tol)", _bad_numbers,
        lambda v: cr.directional_derivative(m0, X1, y1, d0, kink_tol=v), lambda v: _finite())
    add("critical.neuron_first_order_map(point)", st.one_of(_bad_numbers, N(m0)),
        lambda v: cr.neuron_first_order_map(v, 0, np.eye(2)))
    add("critical.escape_neurons(net)", N(m0), lambda v: cr.escape_neurons(v, X1, y1),
        lambda v: _nan_free)
    add("critical.escape_neurons(tol)", _bad_numbers,
        lambda v: cr.escape_neurons(m0, X1, y1, tol=v), lambda v: _nan_free)
    add("critical.split_neuron(net)", N(m0), lambda v: cr.split_neuron(v, 0, [0.5, 0.5]),
        lambda v: _nan_free)
    add("critical.split_neuron(neuron)", _bad_ints, lambda v: cr.split_neuron(m0, v, [0.5, 0.5]))
    add("critical.split_neuron(lambdas)", A(np.array([0.25, 0.75])),
        lambda v: cr.split_neuron(m0, 0, v), lambda v: _nan_free)
    add("critical.add_zero_neurons(net)", N(m0), lambda v: cr.add_zero_neurons(v),
        lambda v: _nan_free)
    add("critical.add_zero_neurons(count)", _bad_ints, lambda v: cr.add_zero_neurons(m0, v))
    add("critical.add_zero_neurons(input_weights)", A(np.array([[1.0, 0.5]])),
        lambda v: cr.add_zero_neurons(m0, 1, v), lambda v: _nan_free)
    add("critical.embedding_family(net)", N(m0),
        lambda v: cr.embedding_family(v, X1, y1, splits=[(0, [0.5, 0.5])], zero_neurons=1))
    add("critical.embedding_family(splits)", st.one_of(_bad_numbers, _bad_ints, st.lists(
        st.tuples(_bad_ints, st.one_of(A(np.array([0.5, 0.5])), _bad_numbers)), max_size=2)),
        lambda v: cr.embedding_family(m0, X1, y1, splits=v))
    add("critical.embedding_family(zero_neurons)", _bad_ints,
        lambda v: cr.embedding_family(m0, X1, y1, zero_neurons=v))
    curve = np.concatenate([np.full(20, 1.0), np.linspace(1, 0.5, 10), np.full(20, 0.5)])
    steps = np.arange(curve.size)
    add("critical.detect_plateaus(loss)", A(curve), lambda v: cr.detect_plateaus(v, steps),
        lambda v: _nan_free)
    add("critical.detect_plateaus(steps)", A(steps), lambda v: cr.detect_plateaus(curve, v),
        lambda v: _nan_free)
    add("critical.detect_plateaus(slope_tol)", _bad_numbers,
        lambda v: cr.detect_plateaus(curve, steps, slope_tol=v), lambda v: _nan_free)
    add("critical.detect_plateaus(window)", _bad_numbers,
        lambda v: cr.detect_plateaus(curve, steps, window=v), lambda v: _nan_free)
    traj1 = np.stack([m0.params * (1 + 0.01 * k) for k in range(4)])
    add("critical.saddle_to_saddle(trajectory)", A(traj1),
        lambda v: cr.saddle_to_saddle(v, np.arange(4), X1, y1, arch=m0.arch, check=False),
        lambda v: _nan_free)
    add("critical.saddle_to_saddle(steps)", A(np.arange(4.0)),
        lambda v: cr.saddle_to_saddle(traj1, v, X1, y1, arch=m0.arch, check=False),
        lambda v: _nan_free)
    add("critical.saddle_to_saddle(growth_factor)", _bad_numbers,
        lambda v: cr.saddle_to_saddle(traj1, np.arange(4), X1, y1, arch=m0.arch, check=False,
                                      growth_factor=v), lambda v: _nan_free)
    add("critical.classify_trained(params)", A(traj1[:2]),
        lambda v: cr.classify_trained(m0.arch, v, X1, y1), lambda v: _nan_free)
    add("critical.classify_trained(arch)", st.sampled_from([None, "a", 3, Architecture(
        2, (3,), 1), Architecture(1, (3, 2), 1)]),
        lambda v: cr.classify_trained(v, traj1[:1], X1, y1))
    add("critical.symbolic_conditions(negative_slope)", st.one_of(_payloads(), _bad_numbers),
        lambda v: cr.symbolic_conditions(X1[:2], y1[:2], 1, negative_slope=v))
    add("critical.symbolic_conditions(X)", A(X1[:2]),
        lambda v: cr.symbolic_conditions(v, y1[:2], 1))
    add("critical.symbolic_conditions(hidden)", _bad_ints,
        lambda v: cr.symbolic_conditions(X1[:2], y1[:2], v))

    # degeneracy ----------------------------------------------------------------------------
    add("degeneracy.shallow_form(net)", N(n2), lambda v: dg.shallow_form(v, "c3"),
        lambda v: _nan_free)
    add("degeneracy.augment_inputs(X)", A(X2), lambda v: dg.augment_inputs(v, "c3"),
        lambda v: _nan_free)
    add("degeneracy.augment_inputs(augment)", st.one_of(_payloads(), st.sampled_from(
        ["c3", "C3", "bias", "none", None])), lambda v: dg.augment_inputs(X2, v))
    add("degeneracy.canonical_form(net)", N(n2), lambda v: dg.canonical_form(v, n_check=32),
        lambda v: _nan_free)
    add("degeneracy.canonical_form(X)", A(X2), lambda v: dg.canonical_form(n2, X=v, n_check=32),
        lambda v: _nan_free)
    add("degeneracy.canonical_form(tol)", _bad_numbers,
        lambda v: dg.canonical_form(n2, tol=v, n_check=32), lambda v: _nan_free)
    add("degeneracy.canonical_form(n_check)", _bad_ints,
        lambda v: dg.canonical_form(n2, n_check=v), lambda v: _nan_free)
    w_ok = np.array([[1.0, 2.0], [0.5, -1.0]])
    a_ok = np.array([[1.0], [-2.0]])

    @st.composite
    def symbolic_matrix(draw, valid):
        kind = draw(st.sampled_from(["payload", "array", "mixed"]))
        if kind == "array":
            return draw(A(valid))
        m = valid.astype(object).tolist()
        m[0][0] = draw(_payloads())
        if kind == "mixed":
            m[-1][-1] = draw(_bad_numbers)
        return m

    add("degeneracy.canonical_form_symbolic(w)", symbolic_matrix(w_ok),
        lambda v: dg.canonical_form_symbolic(v, a_ok))
    add("degeneracy.canonical_form_symbolic(a)", symbolic_matrix(a_ok),
        lambda v: dg.canonical_form_symbolic(w_ok, v))
    add("degeneracy.symbolic_conditions(w)", symbolic_matrix(w_ok),
        lambda v: dg.symbolic_conditions(v, a_ok))
    add("degeneracy.symbolic_conditions(a)", symbolic_matrix(a_ok),
        lambda v: dg.symbolic_conditions(w_ok, v))
    add("degeneracy.symbolic_realization(A)", symbolic_matrix(w_ok),
        lambda v: dg.symbolic_realization(v, a_ok))
    add("degeneracy.symbolic_realization(C)", symbolic_matrix(a_ok),
        lambda v: dg.symbolic_realization(w_ok, v))
    add("degeneracy.symbolic_realization(x)", st.one_of(symbolic_matrix(np.array([[1.0, 2.0]])),
                                                        _payloads()),
        lambda v: dg.symbolic_realization(w_ok, a_ok, v))
    add("degeneracy.restricted_space_membership(net)", N(n2),
        lambda v: dg.restricted_space_membership(v), lambda v: _nan_free)
    add("degeneracy.restricted_space_membership(tol)", _bad_numbers,
        lambda v: dg.restricted_space_membership(n2, tol=v), lambda v: _nan_free)
    add("degeneracy.detect_degeneracies(net)", N(n2), lambda v: dg.detect_degeneracies(v),
        lambda v: _nan_free)
    add("degeneracy.detect_degeneracies(X)", A(X2), lambda v: dg.detect_degeneracies(n2, X=v),
        lambda v: _nan_free)
    add("degeneracy.detect_degeneracies(tolerances)", st.one_of(
        _bad_numbers, st.dictionaries(st.sampled_from(["zero", "balance", "parallel", "dead",
                                                       "nope"]), _bad_numbers, max_size=2)),
        lambda v: dg.detect_degeneracies(n2, tolerances=v), lambda v: _nan_free)

    @st.composite
    def domains(draw):
        kind = draw(st.sampled_from(["box", "ball", "junk"]))
        if kind == "junk":
            return draw(st.sampled_from([None, "box", (1, 2), box]))
        f = draw(st.sampled_from(_EXTREMES))
        if kind == "box":
            lo = draw(A(np.array([-1.0, -1.0])))
            hi = draw(st.one_of(A(np.array([1.0, 1.0])), st.just(_scaled([1.0, 1.0], f))))
            return ("Box", lo, hi)
        return ("Ball", draw(A(np.array([0.0, 0.0]))), draw(_bad_numbers))

    def make_domain(v):
        if isinstance(v, tuple) and v and v[0] in ("Box", "Ball"):
            return getattr(dg, v[0])(v[1], v[2])
        return v

    add("degeneracy.Box/Ball", domains(), make_domain)
    add("degeneracy.uniform_distance(domain)", domains(),
        lambda v: dg.uniform_distance(n2, n2b, make_domain(v), n_samples=500),
        lambda v: _uniform_oracle(n2, n2b, make_domain(v)))
    add("degeneracy.uniform_distance(net_a)", N(n2),
        lambda v: dg.uniform_distance(v, n2b, box, n_samples=500),
        lambda v: _uniform_oracle(v, n2b, box))
    add("degeneracy.uniform_distance(net_b)", N(n2b),
        lambda v: dg.uniform_distance(n2, v, box, n_samples=500),
        lambda v: _uniform_oracle(n2, v, box))
    add("degeneracy.sobolev_distance(net_a)", N(n2),
        lambda v: dg.sobolev_distance(v, n2b, max_nodes=2000, n_samples=200),
        lambda v: _finite("value"))
    add("degeneracy.sobolev_distance(net_b)", N(n2b),
        lambda v: dg.sobolev_distance(n2, v, max_nodes=2000, n_samples=200),
        lambda v: _finite("value"))
    add("degeneracy.sobolev_distance(max_nodes)", _bad_ints,
        lambda v: dg.sobolev_distance(n2, n2b, max_nodes=v, n_samples=200),
        lambda v: _finite("value"))
    add("degeneracy.sobolev_seminorm(net)", N(n2),
        lambda v: dg.sobolev_seminorm(v, max_nodes=2000, n_samples=200),
        lambda v: _finite("value"))
    V3, S3 = np.random.default_rng(0).normal(size=(5, 3)), np.array([1.0, -1, 2, 0.5, -0.5])
    add("degeneracy.linear_regions(V)", st.one_of(A(V3), st.integers(5, 60).map(
        lambda n: np.random.default_rng(n).normal(size=(n, 4)))),
        lambda v: dg.linear_regions(v, np.ones(len(v)) if isinstance(v, np.ndarray)
                                    and v.ndim == 2 and v.shape[0] > 5 else S3),
        lambda v: _nan_free)
    add("degeneracy.linear_regions(S)", A(S3), lambda v: dg.linear_regions(V3, v),
        lambda v: _nan_free)
    add("degeneracy.linear_regions(max_nodes)", _bad_ints,
        lambda v: dg.linear_regions(V3, S3, max_nodes=v), lambda v: _nan_free)
    add("degeneracy.network_stability(net)", N(n2), lambda v: dg.network_stability(v),
        lambda v: _nan_free)
    add("degeneracy.network_stability(tol)", _bad_numbers,
        lambda v: dg.network_stability(n2, tol=v), lambda v: _nan_free)
    add("degeneracy.stability_of_networks(nets)", st.lists(N(n2), min_size=0, max_size=3),
        lambda v: dg.stability_of_networks(v), lambda v: _nan_free)
    add("degeneracy.stability_of_networks(labels)", st.one_of(_bad_numbers, st.lists(
        st.one_of(st.text(max_size=3), _bad_ints), max_size=3)),
        lambda v: dg.stability_of_networks([n2, n2b], v), lambda v: _nan_free)
    add("degeneracy.parameter_distance(net_a)", N(n2),
        lambda v: dg.parameter_distance(v, n2b), lambda v: _parameter_oracle)
    add("degeneracy.parameter_distance(net_b)", N(n2b),
        lambda v: dg.parameter_distance(n2, v), lambda v: _parameter_oracle)
    add("degeneracy.parameter_distance(zero_tol)", _bad_numbers,
        lambda v: dg.parameter_distance(n2, n2b, zero_tol=v), lambda v: _parameter_oracle)
    add("degeneracy.inverse_stability(net_b)", N(n2b),
        lambda v: dg.inverse_stability(n2, v, max_nodes=2000, n_samples=200),
        lambda v: _nan_free)
    add("degeneracy.inverse_stability(alpha)", _bad_numbers,
        lambda v: dg.inverse_stability(n2, n2b, alpha=v, max_nodes=2000, n_samples=200),
        lambda v: _nan_free)
    fams = sorted(dg.FAMILIES)
    add("degeneracy.counterexample(family)", st.one_of(st.sampled_from(fams), _payloads()),
        lambda v: dg.counterexample(v, 2.0), lambda v: _nan_free)
    add("degeneracy.counterexample(t)", _bad_numbers,
        lambda v: dg.counterexample("redundant", v), lambda v: _nan_free)
    add("degeneracy.measure_family(ts)", st.one_of(A(np.array([1.0, 2.0, 4.0])), st.one_of(
        st.integers(2, 12), st.just(10 ** 6)).map(lambda n: np.arange(1.0, n + 1))),
        lambda v: dg.measure_family("redundant", ts=v), lambda v: _nan_free)
    add("degeneracy.measure_family(alpha)", _bad_numbers,
        lambda v: dg.measure_family("redundant", ts=(1, 2), alpha=v), lambda v: _nan_free)
    add("degeneracy.measure_restricted(etas)", A(np.array([0.3, 0.1])),
        lambda v: dg.measure_restricted("outputs", etas=v, seeds=1), lambda v: _nan_free)
    add("degeneracy.measure_restricted(width)", _bad_ints,
        lambda v: dg.measure_restricted("outputs", etas=(0.3, 0.1), seeds=1, width=v),
        lambda v: _nan_free)
    add("degeneracy.measure_restricted(seeds)", _bad_ints,
        lambda v: dg.measure_restricted("outputs", etas=(0.3, 0.1), seeds=v),
        lambda v: _nan_free)
    add("degeneracy.restricted_pair(eta)", _bad_numbers,
        lambda v: dg.restricted_pair("random", v), lambda v: _nan_free)
    add("degeneracy.restricted_pair(dim)", _bad_ints,
        lambda v: dg.restricted_pair("tiny", 0.1, dim=v), lambda v: _nan_free)
    add("degeneracy.restricted_pair(kind)", st.one_of(_payloads(), st.sampled_from(
        list(dg.RESTRICTED_KINDS))), lambda v: dg.restricted_pair(v, 0.1), lambda v: _nan_free)
    fd, pd_ = np.array([1.0, 0.25, 0.0625]), np.array([1.0, 0.5, 0.25])
    # documented: NaN exponents when the distances span less than a decade (no fit)
    add("degeneracy.fit_exponent(function_distance)", A(fd),
        lambda v: dg.fit_exponent(v, pd_), lambda v: _finite_or_no_fit)
    add("degeneracy.fit_exponent(parameter_distance)", A(pd_),
        lambda v: dg.fit_exponent(fd, v), lambda v: _finite_or_no_fit)

    # symmetry ------------------------------------------------------------------------------
    add("symmetry.balance(net)", N(n2), lambda v: sy.balance(v),
        lambda v: (lambda out: _balance_oracle(v.arch, v.params)(out.params)))
    add("symmetry.balance_params(theta)", A(n2.params), lambda v: sy.balance_params(arch2, v),
        lambda v: _balance_oracle(arch2, v))
    add("symmetry.balance_params(arch)", st.sampled_from([None, "a", 2, Architecture(
        2, (3, 2), 1), Architecture(2, (3,), 1, activation="tanh"), arch2]),
        lambda v: sy.balance_params(v, n2.params))
    add("symmetry.balance_factors(theta)", A(n2.params), lambda v: sy.balance_factors(arch2, v),
        lambda v: _finite())
    add("symmetry.balance_factors(arch)", st.sampled_from([None, "a", 2, arch2]),
        lambda v: sy.balance_factors(v, n2.params), lambda v: _finite())
    add("symmetry.weight_matching(net_b)", N(n2b), lambda v: sy.weight_matching(n2, v),
        lambda v: _nan_free)
    add("symmetry.align(net_a)", N(n2), lambda v: sy.align(v, n2b), lambda v: _nan_free)
    add("symmetry.align(balanced)", _bad_numbers, lambda v: sy.align(n2, n2b, balanced=v),
        lambda v: _nan_free)
    add("symmetry.canonical_neuron_order(net)", N(n2), lambda v: sy.canonical_neuron_order(v),
        lambda v: (lambda perm: None if sorted(np.asarray(perm).tolist()) == list(
            range(len(perm))) else f"not a permutation: {perm}"))
    add("symmetry.canonical_neuron_order(decimals)", _bad_ints,
        lambda v: sy.canonical_neuron_order(n2, decimals=v))
    add("symmetry.merge_redundant_neurons(net)", N(n2), lambda v: sy.merge_redundant_neurons(v),
        lambda v: _nan_free)
    add("symmetry.merge_redundant_neurons(tol)", _bad_numbers,
        lambda v: sy.merge_redundant_neurons(n2, tol=v), lambda v: _nan_free)

    # levelsets -----------------------------------------------------------------------------
    w1, w2, cov = np.array([1.0, 0.3]), np.array([0.2, 1.0]), np.array([[2.0, 0.5], [0.5, 1.0]])
    for nm, k in (("w1", 0), ("w2", 1), ("cov", 2)):
        base = [w1, w2, cov]
        add(f"levelsets.relu_kernel({nm})", A(base[k]),
            lambda v, k=k: ls.relu_kernel(*[v if i == k else b for i, b in enumerate(
                [w1, w2, cov])]),
            lambda v: _kernel_oracle(w1, w2, cov))
        add(f"levelsets.proposition_2_3_terms({nm})", A(base[k]),
            lambda v, k=k: ls.proposition_2_3_terms(*[v if i == k else b for i, b in enumerate(
                [w1, w2, cov])]), lambda v: _prop23_oracle)
        add(f"levelsets.relu_kernel_monte_carlo({nm})", A(base[k]),
            lambda v, k=k: ls.relu_kernel_monte_carlo(*[v if i == k else b for i, b in enumerate(
                [w1, w2, cov])], n_samples=2000), lambda v: _finite())
    add("levelsets.relu_kernel_monte_carlo(n_samples)", _bad_ints,
        lambda v: ls.relu_kernel_monte_carlo(w1, w2, n_samples=v), lambda v: _finite())
    add("levelsets.check_relu_kernel(n_trials)", _bad_ints,
        lambda v: ls.check_relu_kernel(v, n_samples=2000), lambda v: _nan_free)
    add("levelsets.check_relu_kernel(dim)", _bad_ints,
        lambda v: ls.check_relu_kernel(1, v, n_samples=2000), lambda v: _nan_free)
    add("levelsets.check_proposition_2_3(n_trials)", _bad_ints,
        lambda v: ls.check_proposition_2_3(v), lambda v: _nan_free)
    add("levelsets.check_proposition_2_3(dim)", _bad_ints,
        lambda v: ls.check_proposition_2_3(5, v), lambda v: _nan_free)
    add("levelsets.relu_kernel_derivation", st.just(None),
        lambda v: ls.relu_kernel_derivation())
    add("levelsets.filter_normalized_directions(theta)", A(n2.params),
        lambda v: ls.filter_normalized_directions(land, v), lambda v: _nan_free)
    add("levelsets.filter_normalized_directions(n)", _bad_ints,
        lambda v: ls.filter_normalized_directions(land, n2.params, v), lambda v: _nan_free)
    add("levelsets.pca_directions(trajectory)", A(traj),
        lambda v: ls.pca_directions(v), lambda v: _nan_free)
    add("levelsets.loss_surface(origin)", A(n2.params),
        lambda v: ls.loss_surface(land, v, traj[1:3] - traj[0], n=5), lambda v: _nan_free)
    add("levelsets.loss_surface(directions)", A(traj[1:3] - traj[0]),
        lambda v: ls.loss_surface(land, n2.params, v, n=5), lambda v: _nan_free)
    add("levelsets.loss_surface(spans)", _bad_numbers,
        lambda v: ls.loss_surface(land, n2.params, traj[1:3] - traj[0], spans=v, n=5),
        lambda v: _nan_free)
    add("levelsets.loss_surface(n)", _bad_ints,
        lambda v: ls.loss_surface(land, n2.params, traj[1:3] - traj[0], n=v),
        lambda v: _nan_free)
    add("levelsets.random_slice(theta)", A(n2.params),
        lambda v: ls.random_slice(land, v, n=5), lambda v: _nan_free)
    add("levelsets.random_slice(span)", _bad_numbers,
        lambda v: ls.random_slice(land, n2.params, span=v, n=5), lambda v: _nan_free)
    add("levelsets.pca_slice(trajectory)", A(traj), lambda v: ls.pca_slice(land, v, n=5),
        lambda v: _nan_free)
    add("levelsets.plane_slice(theta_c)", A(traj[2]),
        lambda v: ls.plane_slice(land, traj[0], traj[4], v, n=5), lambda v: _nan_free)
    add("levelsets.segment_slice(theta_b)", A(traj[4]),
        lambda v: ls.segment_slice(land, traj[0], v, n=5), lambda v: _nan_free)
    add("levelsets.segment_slice(extend)", _bad_numbers,
        lambda v: ls.segment_slice(land, traj[0], traj[4], n=5, extend=v), lambda v: _nan_free)
    add("levelsets.string_slice(string)", st.one_of(A(traj), _bad_numbers),
        lambda v: ls.string_slice(land, v, n=5), lambda v: _nan_free)
    surf = ls.random_slice(land, n2.params, n=5)
    add("levelsets.surface_persistence(min_persistence)", _bad_numbers,
        lambda v: ls.surface_persistence(surf, min_persistence=v), lambda v: _nan_free)
    add("levelsets.surface_persistence(surface)", st.one_of(_bad_numbers, A(np.ones((3, 3)))),
        lambda v: ls.surface_persistence(v), lambda v: _nan_free)
    M = np.array([[0.1, 0.5, 0.7], [0.5, 0.2, 0.6], [0.7, 0.6, 0.3]])
    add("levelsets.minima_persistence(minima)", A(M), lambda v: ls.minima_persistence(v),
        lambda v: _nan_free)
    add("levelsets.merge_tree(minima)", A(M), lambda v: ls.merge_tree(v))
    add("levelsets.merge_tree(node_loss)", A(np.diag(M)), lambda v: ls.merge_tree(M, v))
    add("levelsets.load_string(path)", st.one_of(_payloads(), st.sampled_from(
        [None, 3, "/nonexistent.npz", "/", "/etc/passwd"])), lambda v: ls.load_string(v))
    dss = dict(arch=arch2, steps=5, n_points=5, max_depth=1, progress=False)
    add("levelsets.dynamic_string_sampling(theta_b)", A(n2b.params),
        lambda v: ls.dynamic_string_sampling(n2.params, v, X2, y2, threshold=2.0, **dss),
        lambda v: _nan_free)
    add("levelsets.dynamic_string_sampling(threshold)", _bad_numbers,
        lambda v: ls.dynamic_string_sampling(n2.params, n2b.params, X2, y2, threshold=v, **dss),
        lambda v: _nan_free)
    add("levelsets.dynamic_string_sampling(max_depth)", _bad_ints,
        lambda v: ls.dynamic_string_sampling(n2.params, n2b.params, X2, y2, threshold=0.5,
                                             **{**dss, "max_depth": v}), lambda v: _nan_free)
    add("levelsets.dynamic_string_sampling(X)", A(X2),
        lambda v: ls.dynamic_string_sampling(n2.params, n2b.params, v, y2, threshold=2.0,
                                             **dss), lambda v: _nan_free)
    add("levelsets.train_to_threshold(arch)", st.sampled_from([None, "a", 3, arch2]),
        lambda v: ls.train_to_threshold(v, X2, y2, 2, 0.5, steps=5))
    add("levelsets.train_to_threshold(threshold)", _bad_numbers,
        lambda v: ls.train_to_threshold(arch2, X2, y2, 2, v, steps=5), lambda v: _nan_free)
    add("levelsets.train_to_threshold(n_networks)", _bad_ints,
        lambda v: ls.train_to_threshold(arch2, X2, y2, v, 0.5, steps=5), lambda v: _nan_free)
    add("levelsets.pairwise_barriers(networks)", st.lists(N(n2), min_size=0, max_size=3),
        lambda v: ls.pairwise_barriers(v, X2, y2, n_points=5, progress=False),
        lambda v: _nan_free)
    add("levelsets.pairwise_barriers(X)", A(X2),
        lambda v: ls.pairwise_barriers([n2, n2b], v, y2, n_points=5, progress=False),
        lambda v: _nan_free)
    add("levelsets.pairwise_barriers(n_points)", _bad_ints,
        lambda v: ls.pairwise_barriers([n2, n2b], X2, y2, n_points=v, progress=False),
        lambda v: _nan_free)
    add("levelsets.aligned_barriers(theta_b)", N(n2b),
        lambda v: ls.aligned_barriers(n2, v, X2, y2, n_points=5), lambda v: _nan_free)
    add("levelsets.aligned_barriers(n_points)", _bad_ints,
        lambda v: ls.aligned_barriers(n2, n2b, X2, y2, n_points=v), lambda v: _nan_free)
    return calls


PAPER = _paper_calls()

#: Valid values by parameter name, for the generic targets below.
_FILLERS = {"net": "net2", "net_a": "net2", "net_b": "net2b", "X": "X2", "y": "y2",
            "arch": "arch2", "theta": "theta2", "theta_a": "theta2", "theta_b": "theta2b",
            "family": "redundant", "kind": "random", "t": 2.0, "eta": 0.1}
_JUNK = st.sampled_from([None, "x", "__import__('os')", float("nan"), 1e308, -1.0, 0, 1j, [],
                         [[1.0], [1.0, 2.0]], np.full((2, 2), np.nan), np.ones((0, 3)),
                         np.array([1e308, -1e308]), object()])


def _generic_calls():
    """A junk-value target for every required parameter of each public function that has no
    target of its own (e.g. functions added after this suite was written): junk in any
    position must give a project error (or a result), never a library traceback."""
    import inspect

    import topoanalysis.critical as cr
    import topoanalysis.degeneracy as dg
    import topoanalysis.levelsets as ls
    import topoanalysis.symmetry as sy

    valid = {"net2": F["net2"], "net2b": F["net2b"], "X2": F["X2"], "y2": F["y2"],
             "arch2": F["arch2"], "theta2": F["net2"].params, "theta2b": F["net2b"].params}
    have = {t.split("(")[0] for t in PAPER}
    calls = {}
    for mod, short in ((cr, "critical"), (dg, "degeneracy"), (ls, "levelsets"),
                       (sy, "symmetry")):
        for name in mod.__all__:
            fn = getattr(mod, name)
            if not callable(fn) or inspect.isclass(fn) or f"{short}.{name}" in have:
                continue
            try:
                params = [p for p in inspect.signature(fn).parameters.values()
                          if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                                 p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                continue
            for k, p in enumerate(params or [None]):
                def call(v, fn=fn, params=params, k=k):
                    args = [v if i == k else valid.get(_FILLERS.get(q.name), _FILLERS.get(
                        q.name)) for i, q in enumerate(params)]
                    return fn(*args)
                calls[f"{short}.{name}(generic {p.name if p else '-'})"] = (_JUNK, call, None)
    return calls


PAPER.update(_generic_calls())


def test_fuzz_covers_the_paper_surface():
    """Every public function of critical, degeneracy, levelsets and symmetry is fuzzed."""
    import inspect

    import topoanalysis.critical as cr
    import topoanalysis.degeneracy as dg
    import topoanalysis.levelsets as ls
    import topoanalysis.symmetry as sy

    covered = {t.split("(")[0] for t in PAPER} | {"degeneracy.Box", "degeneracy.Ball"}
    missing = []
    for mod, short in ((cr, "critical"), (dg, "degeneracy"), (ls, "levelsets"),
                       (sy, "symmetry")):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not callable(obj) or (inspect.isclass(obj) and name not in ("Box", "Ball")):
                continue
            if f"{short}.{name}" not in covered and not any(
                    t.startswith(f"{short}.{name.split('/')[0]}") for t in PAPER):
                missing.append(f"{short}.{name}")
    assert not missing, f"public functions without a fuzz target: {missing}"


@pytest.mark.parametrize("target", sorted(PAPER))
def test_paper_entry_points(target):
    strategy, call, oracle_of = PAPER[target]

    @fuzz_settings(target, paper=True)
    @given(strategy)
    def run(value):
        def oracle(res):                 # built lazily: it may construct invalid domains
            return (oracle_of(value) if oracle_of is not None else _nan_free)(res)
        check(target, lambda: call(value), oracle, args=value)

    run()
    assert not os.path.exists(CANARY), "a string from the fuzz ran as code"


# --- the four paper subcommands: every flag -----------------------------------------------------
PAPER_COMMANDS = ("critical", "stability", "connect", "barrier")
_NUMBERS_TEXT = ["nan", "inf", "-inf", "1e308", "-1e308", "1e-308", "5e-324", "0", "-1", "1",
                 "2.5", "1e999", "", "x", "1j", "0x10", "10000000000", "3", "1e-12"]
_FLAG_VALUES = {
    "--loss": ["mse", "bce", "l1", "cross_entropy", "Cross-Entropy", "nope"],
    "--augment": ["c3", "bias", "none", "C3", "x"],
    "--method": ["greedy", "constrained", "breadth_first", "Breadth-First", "x"],
    "--t-star": ["midpoint", "argmax", "x"],
    "--threads": ["1", "2", "0", "-1", "x"],
    "--data": ["@d1", "@d300", "@y300", "@dnan", "@dcomplex", "@dragged", "wu5", "xor",
               "nope", "@missing"],
    "--data-file": ["@d1", "@d300", "@missing"],
    "--against": ["@m0", "@big", "@random"],
}
_NETS = ["m0", "m1", "m2", "big", "tiny", "huge150", "other_d", "deep", "random", "empty",
         "missing", "folder"]


def _paper_flags():
    """Every option of the four subcommands, from their parsers (so a new flag is fuzzed)."""
    import argparse

    from topoanalysis.cli import build_parser

    sub = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    flags = {}
    for command in PAPER_COMMANDS:
        flags[command] = sorted(
            (a.option_strings[0], a.nargs == 0) for a in sub.choices[command]._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction))
    return flags


@pytest.fixture(scope="module")
def paper_folder():
    folder = tempfile.mkdtemp(prefix="ta-fuzz-paper-")
    X1, y1, mins = F["X1"], F["y1"], F["minima"]
    for k, m in enumerate(mins):
        m.save(os.path.join(folder, f"m{k}.npz"))
    for name, f in (("big", 1e200), ("tiny", 1e-300), ("huge150", 1e150)):
        Network(mins[0].arch, mins[0].params * f).save(os.path.join(folder, f"{name}.npz"))
    Network.initialize(Architecture(2, (3,), 1), seed=0).save(os.path.join(folder,
                                                                           "other_d.npz"))
    Network.initialize(Architecture(1, (3, 2), 1), seed=0).save(os.path.join(folder,
                                                                             "deep.npz"))
    open(os.path.join(folder, "random.npz"), "wb").write(os.urandom(300))
    open(os.path.join(folder, "empty.npz"), "wb").close()
    os.mkdir(os.path.join(folder, "folder.npz"))
    np.savez(os.path.join(folder, "d1.npz"), X=X1, y=y1)
    np.savez(os.path.join(folder, "d300.npz"), X=X1 * 1e300, y=y1)
    np.savez(os.path.join(folder, "y300.npz"), X=X1, y=y1 * 1e300)
    np.savez(os.path.join(folder, "dnan.npz"), X=np.where(X1 > 0, np.nan, X1), y=y1)
    np.savez(os.path.join(folder, "dcomplex.npz"), X=X1 * 1j, y=y1)
    np.savez(os.path.join(folder, "dragged.npz"), X=np.ones((5, 2)), y=np.ones(3))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@st.composite
def paper_command_lines(draw, command, folder):
    flags = _paper_flags()[command]
    path = lambda name: os.path.join(folder, name + ".npz")  # noqa: E731
    n_nets = {"critical": (1, 1), "stability": (1, 2), "connect": (2, 2),
              "barrier": (2, 3)}[command]
    good = draw(st.booleans())           # half the time, valid networks: reach the computation
    nets = [path(draw(st.sampled_from(["m0", "m1", "m2"] if good else _NETS)))
            for _ in range(draw(st.integers(*n_nets)))]
    argv = [command, *nets]
    fixed = {"critical": ["--perturbations", "20"],
             "connect": ["--bead-steps", "20", "--points", "10", "--max-depth", "2"],
             "barrier": ["--n-points", "11", "--bead-steps", "20", "--points", "10",
                         "--max-depth", "2"],
             "stability": []}[command]
    argv += fixed + ["--data", path("d1")] if command != "stability" else fixed
    argv += ["--out", os.path.join(folder, "out%d" % draw(st.integers(0, 10 ** 9)))]
    chosen = draw(st.lists(st.sampled_from(flags), max_size=4, unique=True))
    for flag, is_switch in chosen:
        if is_switch:
            argv.append(flag)
            continue
        value = draw(st.sampled_from(_FLAG_VALUES.get(flag, _NUMBERS_TEXT)))
        if flag == "--json":
            value = os.path.join(folder, draw(st.sampled_from(["r.json", "folder.npz",
                                                              "new/sub/r.json"])))
        elif flag == "--out":
            value = os.path.join(folder, draw(st.sampled_from(["o1", "random.npz",
                                                              "new/sub"])))
        elif value.startswith("@"):
            value = path(value[1:])
        argv += [flag, value]
    return argv


def _run_command(argv, cwd):
    from topoanalysis.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(), _restore_cwd(here):
        warnings.simplefilter("ignore")
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def _command_oracle(argv, code, out, err):
    import re

    if code not in (0, 2) or "Traceback" in err:
        return "other", f"exit {code}: {err.strip()[-300:]}"
    if code == 2:
        lines = err.strip().splitlines()
        if not lines or "error:" not in lines[-1]:
            return "other", f"exit 2 without a one-line error: {err.strip()[-300:]}"
        return "clean_error", None
    if re.search(r"(?<![\w./,^(-])-?(nan|inf)(?![\w.-])", out, flags=re.I):
        return "wrong", f"a NaN/inf in the report: {out.strip()[-300:]}"
    if "local minimum" in out and "decrease found: True" in out:
        return "wrong", "'local minimum' with 'decrease found: True'"
    return "result", None


@pytest.mark.parametrize("command", PAPER_COMMANDS)
def test_paper_command_lines(command, paper_folder, monkeypatch):
    import time

    monkeypatch.setenv("TOPOANALYSIS_TIME_BUDGET", os.environ.get("TOPOANALYSIS_TIME_BUDGET",
                                                                  "20"))
    monkeypatch.setenv("TOPOANALYSIS_MEMORY_BUDGET",
                       os.environ.get("TOPOANALYSIS_MEMORY_BUDGET", "1G"))

    @fuzz_settings(f"cli:{command}", paper=True)
    @given(paper_command_lines(command, paper_folder))
    def run(argv):
        t0 = time.perf_counter()
        try:
            code, out, err = _run_command(argv, paper_folder)
        except BaseException as exc:
            tally(f"cli:{command}", "other", f"{_describe(exc)} with {argv}")
            if CAMPAIGN and not isinstance(exc, KeyboardInterrupt):
                return
            raise
        seconds = time.perf_counter() - t0
        outcome, detail = _command_oracle(argv, code, out, err)
        if seconds > SLOW:
            outcome, detail = "slow", f"{seconds:.0f} s"
        tally(f"cli:{command}", outcome, None if detail is None else f"{detail} with {argv}",
              seconds)
        if outcome in ("other", "wrong", "slow") and not CAMPAIGN:
            raise AssertionError(f"{argv}: {outcome}: {detail}")

    run()
    assert not os.path.exists(CANARY)


def test_paper_command_flags_are_all_fuzzed():
    """Every option of the four subcommands is drawn by the strategy above (it reads them from
    the parsers), and every option with choices or a file gets values of its own."""
    import argparse

    from topoanalysis.cli import build_parser

    sub = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    for command in PAPER_COMMANDS:
        drawn = {f for f, _ in _paper_flags()[command]}
        for action in sub.choices[command]._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            assert action.option_strings[0] in drawn
            if action.choices or action.option_strings[0] in ("--data", "--data-file"):
                assert action.option_strings[0] in _FLAG_VALUES, (command, action.option_strings)
