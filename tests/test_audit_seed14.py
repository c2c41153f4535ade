"""Audit (session 14): every random entry point takes a seed, and the seed decides the numbers.

The standard: "Every random thing takes a seed; the same seed gives the same numbers with 1 or 2
threads." For each public function that draws random numbers the table below checks that the same
seed twice gives bit-identical results, that 1 and 2 threads agree bit for bit (``n_threads`` where
the function has it, ``OMP_NUM_THREADS`` in a subprocess otherwise), that another seed gives other
numbers (where the seed can matter for the given input), and that invalid seeds (negative, float,
bool) are refused with one :class:`ValidationError` naming the parameter while numpy integers and
integers beyond 2**64 are accepted. The CLI subcommands with ``--seed`` write identical JSON twice.
"""
import dataclasses
import enum
import importlib
import json
import numbers
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape, Network
from topoanalysis.exceptions import ValidationError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = ("time", "duration", "elapsed", "second", "wall", "timestamp", "clock")


def _mod(name):
    return importlib.import_module("topoanalysis." + name)


def fingerprint(obj, path="", out=None, depth=0):
    """Every number of a result as exact bytes, timing fields left out."""
    if out is None:
        out = []
    if depth > 12:
        return out
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            for i, v in enumerate(obj.ravel()):
                fingerprint(v, f"{path}[{i}]", out, depth + 1)
        else:
            out.append((path, obj.dtype.str, obj.shape, obj.tobytes()))
    elif isinstance(obj, (bool, np.bool_, str, bytes, type(None), enum.Enum)):
        out.append((path, repr(obj)))
    elif isinstance(obj, numbers.Integral):
        out.append((path, int(obj)))
    elif isinstance(obj, numbers.Real):
        out.append((path, float(obj).hex()))
    elif isinstance(obj, numbers.Number):
        out.append((path, repr(obj)))
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            if not any(s in str(k).lower() for s in SKIP):
                fingerprint(obj[k], f"{path}.{k}", out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            fingerprint(v, f"{path}[{i}]", out, depth + 1)
    elif dataclasses.is_dataclass(obj):
        fingerprint({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}, path, out,
                    depth + 1)
    elif hasattr(obj, "__dict__"):
        fingerprint({k: v for k, v in vars(obj).items() if not callable(v)}, path, out, depth + 1)
    else:
        out.append((path, repr(obj)))
    return out


ARCH = Architecture(2, (3,), 1)
X = np.random.default_rng(0).standard_normal((12, 2))
Y = X[:, :1] * X[:, 1:]
LAND = Landscape(ARCH, X, Y)
NET = Network.initialize(ARCH, seed=3)
NETB = Network.initialize(ARCH, seed=5)
NARCH = Architecture(2, (3,), 1, hidden_bias=False, output_bias=False)
NETNB = Network.initialize(NARCH, seed=2)
ZERO = Network.from_weights([np.zeros((2, 2)), np.zeros((1, 2))])
X1 = np.array([[1.0, 1.0], [2.0, 2.0], [-1.0, -1.0]])
Y1 = np.array([[1.0], [0.5], [0.0]])
LIN = Architecture(2, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
XL = np.random.default_rng(0).standard_normal((20, 2))
YL = XL @ [[1.0], [-2.0]]
LA = LIN.pack([np.array([[1.0, -2.0]]), np.array([[1.0]])])
LB = LIN.pack([np.array([[-1.0, 2.0]]), np.array([[-1.0]])])
W1T = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
BAD = Network.from_weights([np.array([[0.1, 0.0], [0.0, 0.1], [0.1, 0.1]]),
                            np.array([[-1.0, -1.0, -1.0]])])
GOOD = Network.from_weights([W1T, np.array([[-2.0, -1.0, -0.5]])])


def _theta(s):
    return _mod("init").init_params(ARCH, seed=s)


# name -> (call(seed, n_threads), has n_threads, the seed changes the result for this input)
# A False in the last column: the seed only picks check or probe points and the answer is exact.
CASES = {
    "init.init_params": (lambda s, t: _mod("init").init_params(ARCH, seed=s, n_networks=2),
                         False, True),
    "Network.initialize": (lambda s, t: Network.initialize(ARCH, seed=s), False, True),
    "Dataset.split": (lambda s, t: _mod("datasets.generators").toy_classification_2d(
        30, seed=0).split(seed=s), False, True),
    "polynomial_regression": (lambda s, t: _mod("datasets.generators").polynomial_regression(
        n_samples=20, seed=s), False, True),
    "cyclic_permutation_task": (lambda s, t: _mod("datasets.generators").cyclic_permutation_task(
        seed=s), False, False),
    "cyclic_permutation_task (random)": (lambda s, t: _mod(
        "datasets.generators").cyclic_permutation_task("random", seed=s), False, True),
    "toy_classification_2d": (lambda s, t: _mod("datasets.generators").toy_classification_2d(
        20, seed=s), False, True),
    "teacher_student": (lambda s, t: _mod("datasets.generators").teacher_student(10, seed=s),
                        False, True),
    "load_breast_cancer": (lambda s, t: _mod("datasets.breast_cancer").load_breast_cancer(seed=s),
                           False, True),
    "relu_kernel_monte_carlo": (lambda s, t: _mod("levelsets.kernel").relu_kernel_monte_carlo(
        np.array([1.0, 0.0]), np.array([0.5, 1.0]), n_samples=1000, seed=s), False, True),
    "check_relu_kernel": (lambda s, t: _mod("levelsets.kernel").check_relu_kernel(
        2, 2, n_samples=1000, seed=s), False, True),
    "check_proposition_2_3": (lambda s, t: _mod("levelsets.kernel").check_proposition_2_3(
        5, 2, seed=s), False, True),
    "filter_normalized_directions": (lambda s, t: _mod(
        "levelsets.slices").filter_normalized_directions(LAND, NET, seed=s), False, True),
    "random_slice": (lambda s, t: _mod("levelsets.slices").random_slice(
        LAND, NET, n=5, seed=s, n_threads=t), True, True),
    "segment_slice": (lambda s, t: _mod("levelsets.slices").segment_slice(
        LAND, NET, NETB, n=5, width=0.5, seed=s, n_threads=t), True, True),
    "string_slice": (lambda s, t: _mod("levelsets.slices").string_slice(
        LAND, np.stack([_theta(0), _theta(1), _theta(2)]), n=5, seed=s, n_threads=t), True, True),
    "train (sgd minibatches)": (lambda s, t: _mod("dynamics.train").train(
        _theta(0), X, Y, arch=ARCH, optimizer="sgd", lr=0.05, steps=20, batch_size=4, seed=s,
        n_threads=t, progress=False), True, True),
    "train_to_threshold": (lambda s, t: _mod("levelsets.strings").train_to_threshold(
        ARCH, X, Y, 2, 1e-9, steps=20, seed=s, n_threads=t), True, True),
    "dynamic_string_sampling": (lambda s, t: _mod("levelsets.strings").dynamic_string_sampling(
        LA, LB, XL, YL, arch=LIN, threshold=1e-6, lr=1e-2, max_depth=2, seed=s, n_threads=t,
        progress=False, first_steps=50, max_steps=200), True, True),
    "escape_neurons": (lambda s, t: _mod("critical.escape").escape_neurons(ZERO, X1, Y1, seed=s),
                       False, False),
    "classify": (lambda s, t: _mod("critical.verdict").classify(
        ZERO, X1, Y1, n_perturbations=20, seed=s), False, False),
    "snap_and_classify": (lambda s, t: _mod("critical.snap").snap_and_classify(
        NET, X, Y, n_perturbations=20, seed=s), False, False),
    "classify_trained": (lambda s, t: _mod("critical.report").classify_trained(
        ARCH, _theta(0)[None], X, Y, seed=s), False, False),
    "embedding_family": (lambda s, t: _mod("critical.embedding").embedding_family(
        NET, X, Y, seed=s, check=True), False, False),
    "canonical_form (X given)": (lambda s, t: _mod("degeneracy.canonical").canonical_form(
        NET, X=X, n_check=16, seed=s), False, False),
    "canonical_form (random X)": (lambda s, t: _mod("degeneracy.canonical").canonical_form(
        NET, n_check=16, seed=s), False, False),
    "sobolev_distance": (lambda s, t: _mod("degeneracy.distance").sobolev_distance(
        NET, NETB, n_samples=50, seed=s), False, False),
    "uniform_distance": (lambda s, t: _mod("degeneracy.distance").uniform_distance(
        NET, NETB, _mod("degeneracy.distance").Box(np.array([-1.0, -1.0]), np.array([1.0, 1.0])),
        n_samples=50, seed=s), False, False),
    "probe_local_minimum": (lambda s, t: _mod("degeneracy.optimization").probe_local_minimum(
        NETNB, X, Y, 0.1, samples=20, seed=s), False, True),
    "probe_realizations": (lambda s, t: _mod("degeneracy.optimization").probe_realizations(
        NETNB, X, Y, 0.1, samples=3, seed=s), False, True),
    "restricted_pair": (lambda s, t: _mod("degeneracy.stability").restricted_pair(
        "random", 0.1, seed=s), False, True),
    "flipped_pair": (lambda s, t: _mod("degeneracy.theory").flipped_pair(0.1, seed=s),
                     False, True),
    "search_constant": (lambda s, t: _mod("degeneracy.theory").search_constant(3, seed=s),
                        False, True),
    "adversarial_constant": (lambda s, t: _mod("degeneracy.theory").adversarial_constant(
        restarts=1, iterations=5, seed=s), False, True),
    "measure_angle_bins": (lambda s, t: _mod("degeneracy.uniform_stability").measure_angle_bins(
        3, seed=s), False, True),
    "pathological_probability (monte carlo)": (lambda s, t: _mod(
        "obstruction.probability").pathological_probability(
        2, 3, method="monte_carlo", n_samples=200, seed=s), False, True),
    "reachability": (lambda s, t: _mod("obstruction.topology").reachability(
        BAD, GOOD, n_check=8, seed=s), False, True),
    "breast_cancer_cell": (lambda s, t: _mod("obstruction.experiment").breast_cancer_cell(
        2, 1, n_init=3, steps=5, seed=s, n_threads=t), True, True),
    "conservation_laws": (lambda s, t: _mod("symbolic.conservation").conservation_laws(
        1, 1, 1, max_degree=2, seed=s), False, True),
}


def _run(name, seed, threads=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fingerprint(CASES[name][0](seed, threads))


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_numbers_and_threads(name):
    _, threaded, seed_matters = CASES[name]
    a = _run(name, 0)
    assert a == _run(name, 0), f"{name}: the same seed twice gave different numbers"
    if threaded:
        assert a == _run(name, 0, threads=2), f"{name}: 1 and 2 threads differ"
    if seed_matters:
        assert a != _run(name, 1), f"{name}: seed 1 gave the numbers of seed 0 (seed ignored?)"


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("bad", [-1, 1.5, True], ids=["negative", "float", "bool"])
def test_invalid_seed_refused_naming_it(name, bad):
    with pytest.raises(ValidationError) as err:
        _run(name, bad)
    msg = str(err.value)
    assert "\n" not in msg and "`seed`" in msg and repr(bad) in msg, msg


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_and_huge_seeds_accepted(name):
    assert _run(name, np.int64(1)) == _run(name, 1)
    _run(name, np.uint8(1))
    _run(name, 2**70)


_OMP = r"""
import json, sys, numpy as np
sys.path.insert(0, {tests!r})
import test_audit_seed14 as t
r = {{n: t._run(n, 0) for n in {names!r}}}
print(json.dumps({{n: [repr(x) for x in v] for n, v in r.items()}}))
"""
NO_THREADS_PARAM = ["probe_local_minimum", "classify_trained", "canonical_form (random X)",
                    "reachability", "pathological_probability (monte carlo)"]


def test_omp_num_threads_1_vs_2_in_subprocess():
    code = _OMP.format(tests=os.path.join(ROOT, "tests"), names=NO_THREADS_PARAM)
    outs = []
    for n in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=n, PYTHONPATH=ROOT)
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                           cwd=ROOT, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        outs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1]


def _cli(tmp_path, tag, seed, threads):
    out = tmp_path / tag
    p = subprocess.run([sys.executable, "-m", "topoanalysis", "train", "--hidden", "3", "--data",
                        "xor", "--steps", "20", "--optimizer", "sgd", "--batch-size", "2",
                        "--n-networks", "2", "--seed", str(seed), "--threads", str(threads),
                        "--quiet", "--out", str(out)], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=ROOT), timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((out / "train.json").read_text())
    return json.dumps(fingerprint(res), default=repr), res


def test_cli_train_seed_twice_and_threads(tmp_path):
    a, _ = _cli(tmp_path, "a", 4, 1)
    assert a == _cli(tmp_path, "b", 4, 1)[0]
    assert a == _cli(tmp_path, "c", 4, 2)[0]
    assert a != _cli(tmp_path, "d", 5, 1)[0]


@pytest.mark.parametrize("seed", ["-1", "1.5"])
def test_cli_bad_seed_exit_2(tmp_path, seed):
    p = subprocess.run([sys.executable, "-m", "topoanalysis", "train", "--hidden", "3", "--data",
                        "xor", "--steps", "2", "--seed", seed, "--quiet", "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=ROOT), timeout=300)
    assert p.returncode == 2 and "--seed" in p.stderr


def test_monte_carlo_cell_independent_of_grid():
    """A Monte Carlo cell's estimate depends on (seed, d, l, e) only: the same cell alone and
    inside a larger grid gives the same number (it used to take seed + its index in the grid,
    so d=[2, 3] at d=3 differed from d=3 alone, and seed 0's second cell reused seed 1's first
    stream)."""
    from topoanalysis.obstruction import pathological_probability
    kw = dict(method="monte_carlo", n_samples=300)
    alone = pathological_probability(3, 4, 2, "pytorch", seed=0, **kw)
    grid = pathological_probability([2, 3], 4, 2, "pytorch", seed=0, **kw)
    assert grid.p[1] == alone.p
    first_seed1 = pathological_probability(2, 4, 2, "pytorch", seed=1, **kw)
    assert grid.p[0] != first_seed1.p or grid.p[1] != pathological_probability(
        3, 4, 2, "pytorch", seed=1, **kw).p


def test_breast_cancer_cell_init_seeds_distinct():
    """cell_init_seed keeps seed*1000 + width below width 1000 and is injective beyond it
    ((0, 1001) and (1, 1) used to share the seed 1001)."""
    from topoanalysis.obstruction.experiment import cell_init_seed
    assert cell_init_seed(3, 7) == 3007 and cell_init_seed(0, 999) == 999
    pairs = [(s, w) for s in range(40) for w in list(range(1, 40)) + list(range(990, 1040))]
    seeds = {cell_init_seed(s, w) for s, w in pairs}
    assert len(seeds) == len(pairs)
    assert cell_init_seed(0, 1001) != cell_init_seed(1, 1)
    assert cell_init_seed(2 ** 60, 1) >= 2 ** 64


def test_reachability_same_construction_under_any_hash_seed():
    """reachability's matching no longer follows the per-process string hash: the same call in
    processes with different PYTHONHASHSEED builds the same parameters (it picked different
    maximum matchings, so different alphas, in about half of the process pairs)."""
    code = (
        "import numpy as np, json\n"
        "from topoanalysis.network import Network\n"
        "from topoanalysis.obstruction.topology import reachability\n"
        "bad = Network.from_weights([np.array([[0.1, 0.0], [0.0, 0.1], [0.1, 0.1]]),\n"
        "                            np.array([[-1.0, -1.0, -1.0]])])\n"
        "good = Network.from_weights([np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]),\n"
        "                             np.array([[-2.0, -1.0, -0.5]])])\n"
        "r = reachability(bad, good, n_check=8, seed=0)\n"
        "print(json.dumps([float(x) for x in np.nan_to_num(r.alphas, nan=-1.0)]))\n")
    outs = set()
    for h in ("1", "2", "3", "4", "5", "6"):
        env = dict(os.environ, PYTHONHASHSEED=h, PYTHONPATH=ROOT)
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, cwd=ROOT, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        outs.add(p.stdout.strip().splitlines()[-1])
    assert len(outs) == 1, outs
