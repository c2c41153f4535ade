"""Audit of the infrastructure (session 11): network files, strict JSON, resumable sweeps,
seeded data sets. Every test states the promise it checks."""

import builtins
import csv
import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from topoanalysis import Architecture, Network, ValidationError
from topoanalysis.io import FileError, load_network, save_network, to_jsonable, write_json
from topoanalysis.sweep import completed_cells, run_sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# --- networks: bit-for-bit round trips ----------------------------------------------------
_ARCHS = [
    Architecture(2, (3,), 1),
    Architecture(3, (4, 2), 2, hidden_bias=False, output_bias=False, activation="leaky_relu",
                 negative_slope=0.3, output_activation="sigmoid"),
    Architecture(1, (2,), 3, activation="leaky_relu(0.2)", hidden_bias=False),
    Architecture(2, 3, 2, activation="tanh", output_bias=False),
    Architecture(4, (1, 1, 2), 1, activation="sigmoid"),
    Architecture(1, (5,), 1, activation="abs"),
    Architecture(2, (2,), 4, activation="linear", output_activation="sigmoid"),
]
_F64 = [-0.0, 5e-324, 1e308, -1e308, 2.2250738585072014e-308, 0.1, np.nextafter(1.0, 2.0)]
_F32 = [-0.0, 1e-45, 3e38, -3e38, 1.1754944e-38, 0.1, 1.0000001]


@pytest.mark.parametrize("arch", _ARCHS, ids=lambda a: f"{a.sizes}-{a.activation}")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_network_round_trip_is_bit_for_bit(tmp_path, arch, dtype):
    base = _F64 if dtype is np.float64 else _F32
    params = np.array(base * (arch.n_params // len(base) + 1), dtype=dtype)[:arch.n_params]
    net = Network(arch, params)
    path = save_network(net, tmp_path / "net")
    for back in (load_network(path), Network.load(tmp_path / "net")):
        assert back.arch == net.arch
        assert back.params.dtype == np.float64
        assert back.params.tobytes() == net.params.tobytes()        # -0.0 and subnormals kept
        assert back.params.tobytes() == params.astype(np.float64).tobytes()
    X = np.linspace(-1.0, 1.0, 3 * arch.inputs).reshape(3, arch.inputs)
    with np.errstate(all="ignore"):
        assert np.array_equal(back(X), net(X), equal_nan=True)       # vector outputs too


def test_network_file_with_wrong_parameter_count_is_refused(tmp_path):
    net = Network.initialize(Architecture(2, (3,), 2), seed=0)
    path = save_network(net, tmp_path / "net")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["params"] = arrays["params"][:-1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(FileError, match="parameters"):
        load_network(tmp_path / "bad.npz")


# --- strict JSON ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (float("nan"), None), (float("inf"), None), (-math.inf, None),
    (np.float32("nan"), None), (np.float64("-inf"), None), (np.float16(1.5), 1.5),
    (np.int64(3), 3), (np.uint8(200), 200), (np.bool_(True), True), (np.bool_(False), False),
    (np.array([1.0, np.nan, np.inf]), [1.0, None, None]), (np.array(np.nan), None),
    (np.array([[1, 2]], dtype=np.int32), [[1, 2]]), (np.array([True]), [True]),
    ({1: np.int32(2), "x": (np.float32(0.5),)}, {"1": 2, "x": [0.5]}),
    (np.longdouble(1.5), 1.5), (2 ** 70, 2 ** 70),
])
def test_to_jsonable_gives_strict_json(value, expected):
    out = to_jsonable(value)
    text = json.dumps(out, allow_nan=False)          # never invalid JSON
    assert json.loads(text) == expected
    assert type(json.loads(text)) is type(expected)  # numpy ints stay ints, bools bools


def test_write_json_of_a_result_with_nan_is_strict(tmp_path):
    from topoanalysis.dynamics import InterpolationResult
    res = InterpolationResult(ts=np.array([0.0, 0.5, 1.0]), loss=np.array([1.0, np.nan, np.inf]),
                              accuracy=None, loss_name="mse")
    path = write_json(tmp_path / "r.json", res)
    text = open(path).read()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["losses"] == [1.0, None, None]
    back = InterpolationResult.from_dict(data)                  # null read back as NaN
    assert np.isnan(back.loss[1]) and np.isnan(back.loss[2])


# --- sweeps ---------------------------------------------------------------------------------
def _square(cell):
    return {"sq": cell["a"] ** 2}


def test_sweep_interrupted_in_the_middle_resumes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "s.csv"
    calls = []

    def func(cell):
        calls.append(cell["a"])
        if cell["a"] == 4 and fail[0]:
            raise RuntimeError("simulated crash")
        return {"sq": cell["a"] ** 2, "half": cell["a"] / 2}

    fail = [True]
    cells = [{"a": a, "b": "x"} for a in range(8)]
    with pytest.raises(RuntimeError):
        run_sweep(cells, func, out, progress=False)
    assert calls == [0, 1, 2, 3, 4]
    fail[0] = False
    calls.clear()
    rows = run_sweep(cells, func, out, progress=False)
    assert calls == [4, 5, 6, 7]                          # finished points not recomputed
    assert [int(r["a"]) for r in rows] == list(range(8))  # nothing lost, nothing twice
    calls.clear()
    assert len(run_sweep(cells, func, out, progress=False)) == 8 and calls == []
    assert [tuple(r) for r in csv.reader(open(out, newline=""))][0] == ("a", "b", "sq", "half")


def test_sweep_cell_with_none_is_not_recomputed_on_resume(tmp_path):
    out, calls = tmp_path / "s.csv", []

    def func(cell):
        calls.append(cell)
        return {"r": 1}

    cells = [{"a": 1, "seed": None}, {"a": 2, "seed": 0}]
    run_sweep(cells, func, out, progress=False)
    rows = run_sweep(cells, func, out, progress=False)
    assert len(calls) == 2 and len(rows) == 2


def test_sweep_cell_listed_twice_runs_once(tmp_path):
    calls = []

    def func(cell):
        calls.append(cell)
        return {"r": 1}

    rows = run_sweep([{"a": 1}, {"a": 1}, {"a": 2}], func, tmp_path / "s.csv", progress=False)
    assert len(calls) == 2 and [r["a"] for r in rows] == ["1", "2"]


def test_sweep_refuses_new_result_keys_instead_of_dropping_them(tmp_path):
    def func(cell):
        return {"r": 1} if cell["a"] == 0 else {"r": 2, "note": "diverged"}

    with pytest.raises(ValidationError, match="note"):
        run_sweep([{"a": 0}, {"a": 1}], func, tmp_path / "s.csv", progress=False)
    assert completed_cells(tmp_path / "s.csv", ["a"]) == {("0",)}


def test_sweep_refuses_results_that_overwrite_the_cell(tmp_path):
    with pytest.raises(ValidationError, match="cell's own keys"):
        run_sweep([{"a": 0}], lambda c: {"a": 5, "r": 1}, tmp_path / "s.csv", progress=False)


def test_sweep_never_writes_its_file_in_place(tmp_path, monkeypatch):
    """Every write goes to a temporary file renamed onto the CSV: a reader never sees a
    partial row or file."""
    out = tmp_path / "s.csv"
    real_open, in_place = builtins.open, []

    def spy(file, mode="r", *args, **kwargs):
        if os.fspath(file) == os.fspath(out) and any(c in mode for c in "wa+"):
            in_place.append(mode)
        return real_open(file, mode, *args, **kwargs)

    seen = []

    def func(cell):
        if out.exists():
            text = out.read_text()
            seen.append(text)
            assert text.endswith("\n") and len(text.splitlines()) == cell["a"] + 1
        return {"sq": cell["a"] ** 2}

    import topoanalysis.sweep as sweep_mod

    monkeypatch.setattr(sweep_mod, "WRITE_SECONDS", 0.0)     # a rewrite after every cell
    monkeypatch.setattr(builtins, "open", spy)
    run_sweep([{"a": a} for a in range(4)], func, out, progress=False)
    assert in_place == [] and len(seen) == 3
    assert not [n for n in os.listdir(tmp_path) if n != "s.csv"]   # no temporaries, no lock


def test_sweep_removes_its_stale_temporaries_and_drops_a_cut_row(tmp_path):
    out = tmp_path / "s.csv"
    run_sweep([{"a": a} for a in range(3)], _square, out, progress=False)
    text = out.read_text()
    out.write_text(text[:-3])                        # a row cut off by a crash
    (tmp_path / ".s.abcd1234.tmp.csv").write_text("a,sq\r\n0,")   # a killed write
    (tmp_path / ".other.abcd1234.tmp.csv").write_text("keep")
    rows = run_sweep([{"a": a} for a in range(3)], _square, out, progress=False)
    assert [(r["a"], r["sq"]) for r in rows] == [("0", "0"), ("1", "1"), ("2", "4")]
    assert out.read_text() == text
    assert sorted(os.listdir(tmp_path)) == [".other.abcd1234.tmp.csv", "s.csv"]


def test_sweep_file_in_use_by_another_run_is_refused(tmp_path):
    out = tmp_path / "s.csv"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".s.csv.lock").write_text(str(proc.pid))
        with pytest.raises(FileError, match="in use by another run"):
            run_sweep([{"a": 0}], _square, out, progress=False)
        assert not out.exists()
    finally:
        proc.kill()
        proc.wait()
    assert len(run_sweep([{"a": 0}], _square, out, progress=False)) == 1   # stale lock


# --- data sets ------------------------------------------------------------------------------
_DIGEST = r"""
import hashlib, numpy as np
from topoanalysis import datasets as D
h = hashlib.sha256()
def add(ds):
    for a in ds:
        if a is not None:
            h.update(np.ascontiguousarray(a).tobytes())
for seed in (0, 7):
    add(D.polynomial_regression("quadratic", 500, seed=seed, noise=0.1))
    add(D.polynomial_regression("cubic", 500, seed=seed))
    add(D.cyclic_permutation_task("random", seed=seed))
    for kind in ("blobs", "xor", "circles", "moons"):
        add(D.toy_classification_2d(301, kind, seed=seed))
    data, (w, b) = D.teacher_student(400, 37, 64, 3, seed=seed, noise=0.1, return_teacher=True)
    add(data); add(w); add(b)
    add(D.load_breast_cancer(seed=seed)); add(D.load_breast_cancer(seed=seed, stratify=False))
    for name in D.dataset_names():
        b = D.load_dataset(name, seed=seed)
        add((b.X, b.y, b.X_test, b.y_test))
print(h.hexdigest())
"""


def _digest(threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


def test_every_seeded_generator_gives_the_same_bits_with_1_or_2_threads():
    assert _digest(1) == _digest(2)


def test_seeded_generators_repeat_across_calls():
    from topoanalysis import datasets as D
    calls = [
        lambda: D.polynomial_regression("cubic", 100, seed=3, noise=0.2),
        lambda: D.cyclic_permutation_task("random", seed=3),
        lambda: D.toy_classification_2d(50, "moons", seed=3),
        lambda: D.teacher_student(30, 2, 4, 2, seed=3, noise=0.1),
        lambda: D.load_breast_cancer(seed=3),
    ]
    for make in calls:
        a, b = make(), make()
        assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(D.toy_classification_2d(50, "moons", seed=3).X,
                              D.toy_classification_2d(50, "moons", seed=4).X)


@pytest.mark.parametrize("stratify", [True, False])
def test_breast_cancer_split_is_seeded_and_disjoint(stratify):
    from topoanalysis.datasets import load_breast_cancer, load_breast_cancer_raw
    raw = load_breast_cancer_raw()
    a = load_breast_cancer(seed=5, stratify=stratify, standardize=False)
    b = load_breast_cancer(seed=5, stratify=stratify, standardize=False)
    c = load_breast_cancer(seed=6, stratify=stratify, standardize=False)
    assert np.array_equal(a.train_indices, b.train_indices)
    assert np.array_equal(a.test_indices, b.test_indices)
    assert not np.array_equal(np.sort(a.test_indices), np.sort(c.test_indices))
    train, test = set(a.train_indices.tolist()), set(a.test_indices.tolist())
    assert not train & test and len(train) == 455 and len(test) == 114
    assert train | test == set(range(569))
    assert np.array_equal(a.X_train, raw.X[a.train_indices])
    assert np.array_equal(a.y_test, raw.y[a.test_indices])
    # no row of the test part appears (as values) in the training part either
    rows = {r.tobytes() for r in a.X_train}
    assert not any(r.tobytes() in rows for r in a.X_test)


def test_write_csv_quotes_carriage_returns(tmp_path):
    from topoanalysis.io import write_csv
    path = write_csv(tmp_path / "t.csv", ["name", "x"],
                     [["a\rb", 1.0], ["c\r\nd", float("nan")], ['say "hi", ok', np.int64(2)]])
    rows = list(csv.reader(open(path, newline="")))
    assert rows == [["name", "x"], ["a\rb", "1.0"], ["c\r\nd", "nan"], ['say "hi", ok', "2"]]


def test_sweep_of_quick_cells_rewrites_its_file_rarely_and_loses_nothing(tmp_path, monkeypatch):
    """Rewrites are at most every WRITE_SECONDS (a rewrite per cell made many quick cells
    quadratic), and an error mid-sweep still writes every finished cell before it propagates."""
    import topoanalysis.sweep as sweep_mod

    writes = []
    real = sweep_mod._write_text
    monkeypatch.setattr(sweep_mod, "_write_text", lambda p, t: (writes.append(len(t)), real(p, t)))
    out = tmp_path / "q.csv"
    rows = run_sweep([{"a": a} for a in range(500)], _square, out, progress=False)
    assert len(rows) == 500 and len(writes) < 50
    assert len(out.read_text().splitlines()) == 501

    def boom(cell):
        if cell["a"] == 7:
            raise RuntimeError("cell 7")
        return {"sq": cell["a"] ** 2}

    out2 = tmp_path / "r.csv"
    with pytest.raises(RuntimeError, match="cell 7"):
        run_sweep([{"a": a} for a in range(10)], boom, out2, progress=False)
    assert len(out2.read_text().splitlines()) == 8          # header + the 7 finished cells
