"""Issue 6 (hardening): every class of failure seen by a new user, one test each.

No traceback for user errors (one line, exit 2), interruption within about a second with a
resumable state, no lost work, no silent wrong answer, bounded symbolic work, no code run from
input, one spelling rule.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from topoanalysis import Architecture, Network, TopoAnalysisError, ValidationError
from topoanalysis.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def assert_clean_error(code, err, command):
    """Exit 2, the subcommand's usage line, then one error line; no traceback."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert len(lines) == 2, err
    assert lines[0].startswith(f"usage: topoanalysis {command}")
    assert lines[1].startswith(f"topoanalysis {command}: error: ")
    return lines[1]


@pytest.fixture
def files(tmp_path):
    """Malformed inputs of every kind the issue lists."""
    net = Network.initialize(Architecture(30, (3,), 1), seed=0)
    good = net.save(tmp_path / "good.npz")
    blob = open(good, "rb").read()
    paths = {"good": good, "folder": str(tmp_path / "folder"), "empty": str(tmp_path / "e.npz"),
             "truncated": str(tmp_path / "t.npz"), "random": str(tmp_path / "r.npz"),
             "x1d": str(tmp_path / "x1d.npz"), "complex": str(tmp_path / "c.npz"),
             "afile": str(tmp_path / "afile")}
    os.mkdir(paths["folder"])
    open(paths["empty"], "wb").close()
    open(paths["truncated"], "wb").write(blob[: len(blob) // 2])
    open(paths["random"], "wb").write(np.random.default_rng(0).bytes(3000))
    np.savez(paths["x1d"], X=np.arange(5.0), y=np.arange(5.0))
    np.savez(paths["complex"], X=np.ones((5, 2)) + 1j, y=np.zeros(5))
    open(paths["afile"], "w").write("x")
    return paths


@pytest.mark.parametrize("argv, fragment", [
    (["train", "-l", "2", "--steps", "2", "-q", "--out", "{afile}"], "is a file"),
    (["train", "-l", "2", "--steps", "2", "-q", "--out", "{afile}/sub"], "--out"),
    (["components", "{empty}"], "empty"),
    (["components", "{truncated}"], "truncated"),
    (["components", "{random}"], "not an .npz"),
    (["components", "{folder}"], "folder"),
    (["components", "-d", "3", "-l", "2", "--json", "{folder}"], "folder"),
    (["train", "-l", "2", "--steps", "2", "-q", "--data", "{folder}", "--out", "{tmp}/o"],
     "folder"),
    (["train", "-l", "2", "--steps", "2", "-q", "--data", "{x1d}", "--out", "{tmp}/o"],
     "dimensions"),
    (["train", "-l", "2", "--steps", "2", "-q", "--data", "{complex}", "--out", "{tmp}/o"],
     "complex"),
    (["train", "-l", "2", "--steps", "2", "-q", "--data", "{random}", "--out", "{tmp}/o"],
     "not an .npz"),
    (["interpolate", "{empty}", "{good}", "--out", "{tmp}/o"], "`A`"),
    (["interpolate", "{good}", "{truncated}", "--out", "{tmp}/o"], "`B`"),
    (["train", "-l", "6", "--n-networks", "1000000000", "-q", "--out", "{tmp}/o"], "memory"),
    (["train", "-l", "2", "--steps", "2", "-q", "--loss", "cross_entropy", "--out", "{tmp}/o"],
     "bce"),
    (["components", "-d", "3", "-l", "4", "--init", "normal", "--init-std", "1e200"],
     "--init-std"),
    (["probability", "--d", "2", "--l", "2", "--scheme", "normal", "--out", "{tmp}/o"],
     "std"),
])
def test_user_errors_are_one_line_exit_2(argv, fragment, files, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path, **files) for a in argv]
    code, _, err = run(argv, capsys)
    line = assert_clean_error(code, err, argv[0])
    assert fragment in line
    assert "`c`" not in line and "`p`" not in line  # never an internal variable
    assert not os.path.exists(tmp_path / "o" / "manifest.json")  # a refused run leaves nothing


def test_corrupt_checkpoint_is_a_clean_error(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "-l", "2", "--steps", "5", "-q", "--out", out]
    assert run(argv, capsys)[0] == 0
    (out / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    code, _, err = run(argv, capsys)
    assert "checkpoint" in assert_clean_error(code, err, "train")


def test_a_genuine_bug_still_shows_a_traceback(monkeypatch):
    import topoanalysis.cli as cli

    def buggy(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "cmd_components", buggy)
    with pytest.raises(ZeroDivisionError):
        main(["components", "-d", "2", "-l", "2"])


# --- interruption and no lost work ---------------------------------------------------------
@pytest.mark.parametrize("command", [
    ["train", "-l", "6", "--n-networks", "20", "--steps", "100000000", "--record-every",
     "10000000", "-q"],
    ["analyze", "-l", "2", "--seeds", "2", "--steps", "100000000", "-q"],
])
def test_sigint_stops_within_a_second_with_a_resumable_state(tmp_path, command):
    env = dict(os.environ, PYTHONPATH=ROOT)
    argv = [sys.executable, "-m", "topoanalysis.cli", *command, "--out", str(tmp_path / "run")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            text=True)
    ckpt = tmp_path / "run" / "checkpoint.npz"
    deadline = time.time() + 60
    while not ckpt.exists() and time.time() < deadline:  # training has started
        time.sleep(0.1)
    assert ckpt.exists()
    t0 = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    waited = time.perf_counter() - t0
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume" in err
    assert waited < 4.0  # ~0.25 s kernel calls (measured 0.2-1 s); slack for a loaded machine
    with np.load(ckpt) as f:  # a resumable state
        assert int(f["t0"]) > 0


def test_checkpoint_survives_an_interrupted_write_phase(tmp_path, capsys, monkeypatch):
    import topoanalysis.io as io

    out = tmp_path / "run"
    argv = ["train", "-l", "3", "--n-networks", "3", "--steps", "40", "-q", "--out", out]
    real = io.write_json
    calls = {"n": 0}

    def interrupted(path, obj, param="output"):
        if os.path.basename(str(path)) == "train.json":
            calls["n"] += 1
            raise KeyboardInterrupt
        return real(path, obj, param)

    monkeypatch.setattr(io, "write_json", interrupted)
    code, _, err = run(argv, capsys)
    assert code == 130 and calls["n"] == 1
    assert (out / "checkpoint.npz").exists()  # the finished state is kept...
    with np.load(out / "checkpoint.npz") as f:
        assert int(f["t0"]) == 41
    monkeypatch.setattr(io, "write_json", real)
    code, text, _ = run(argv, capsys)  # ...so the rerun resumes at the end
    assert code == 0 and "resuming" in text
    assert not (out / "checkpoint.npz").exists()
    summary = json.loads((out / "train.json").read_text())
    assert len(summary["final_loss"]) == 3


def test_output_folder_lock_and_rerun_rules(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "-l", "2", "--steps", "3", "-q", "--out", out]
    assert run(base + ["--n-networks", "3"], capsys)[0] == 0
    assert (out / "network_2.npz").exists()
    # a rerun with other arguments is refused...
    code, _, err = run(base + ["--n-networks", "2"], capsys)
    assert "--force" in assert_clean_error(code, err, "train")
    # ...unless --force, which removes the stale files of the earlier run
    assert run(base + ["--n-networks", "2", "--force"], capsys)[0] == 0
    assert not (out / "network_2.npz").exists() and (out / "network_1.npz").exists()
    # a folder in use by a live process is refused by its lock
    (out / ".topoanalysis.lock").write_text(str(os.getppid()))
    code, _, err = run(base + ["--n-networks", "2"], capsys)
    assert "in use" in assert_clean_error(code, err, "train")


def test_checkpoint_temporary_names_are_unique(tmp_path, monkeypatch):
    import importlib

    train_module = importlib.import_module("topoanalysis.dynamics.train")
    state = {"params": np.zeros((1, 2))}
    path = tmp_path / "c.npz"
    sources = []
    real_replace = os.replace

    def spy(src, dst):
        sources.append(os.fspath(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    train_module._save_checkpoint(path, "k", state, 3)
    train_module._save_checkpoint(path, "k", state, 4)
    # two writers never share a temporary name (the old fixed `checkpoint.npz.tmp.npz` raced)
    assert len(sources) == 2 and sources[0] != sources[1]
    assert all(os.path.dirname(s) == str(tmp_path) for s in sources)  # same folder: atomic
    assert sorted(os.listdir(tmp_path)) == ["c.npz"]


# --- no silent wrong answer ----------------------------------------------------------------
def test_cross_entropy_needs_two_outputs():
    from topoanalysis.dynamics import train

    arch = Architecture(2, (3,), 1)
    X = np.ones((4, 2))
    with pytest.raises(ValidationError, match="bce"):
        train(Network.initialize(arch), X, np.zeros(4), loss="cross_entropy", lr=0.1, steps=2,
              progress=False)


def test_complex_input_is_refused():
    net = Network.initialize(Architecture(2, (3,), 1))
    with pytest.raises(ValidationError, match="complex"):
        net.forward(np.ones((3, 2)) + 1j)
    with pytest.raises(ValidationError, match="complex"):
        net.loss(np.ones((3, 2)), np.ones(3) + 1j)


def test_overflow_is_detected_and_named():
    from topoanalysis.init import init_params

    arch = Architecture(3, (4,), 1)
    with pytest.raises(ValidationError, match="`std`"):
        init_params(arch, "normal", std=1e200)
    big = Network(arch, np.full(arch.n_params, 1e160))
    with pytest.raises(ValidationError, match="overflow"):
        big.conserved_quantities()


def test_json_outputs_are_strict(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", "-l", "2", "--steps", "30", "--lr", "1e6", "-q", "--out", out,
                "--n-networks", "2"], capsys)[0] == 0

    def refuse(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    summary = json.loads((out / "train.json").read_text(), parse_constant=refuse)
    assert all(summary["diverged"])  # lr 1e6 diverges: non-finite values became null
    assert summary["json_null"]


def test_probability_csv_says_why_a_value_is_infinite(tmp_path, capsys):
    import csv

    out = tmp_path / "p"
    assert run(["probability", "--d", "1", "--l", "2000", "--event", "expected_components",
                "--no-plot", "--out", out], capsys)[0] == 0
    rows = list(csv.DictReader(open(out / "obstruction_probability.csv")))
    for row in rows:
        if "inf" in row["expected_components"]:
            assert "float64" in row["note"]
    assert any("inf" in row["expected_components"] for row in rows)


# --- bounded symbolic and topological work ------------------------------------------------
def test_topology_in_closed_form_is_fast():
    from topoanalysis.symbolic import invariant_set_topology

    t0 = time.perf_counter()
    H = invariant_set_topology([-1.0] * 5, d=3, e=10 ** 12)
    assert H.n_components == 1 and len(H.betti_numbers) == 5 * (10 ** 12 - 1) + 1
    assert H.betti_numbers[2 * (10 ** 12 - 1)] == 10
    H = invariant_set_topology([1.0] * 100000 + [-1.0] * 3, d=3, e=1)
    assert H.n_components == 8 and H.betti_numbers[4] == 8 * math.comb(100000, 2)
    assert len(H.summary()) < 1000 and H.to_dict()["betti_numbers"] is None  # not listed
    assert time.perf_counter() - t0 < 5.0


def test_components_of_a_wide_network_summarize(capsys):
    t0 = time.perf_counter()
    code, out, _ = run(["components", "-d", "3", "-l", "20000"], capsys)
    assert code == 0 and len(out) < 5000
    assert time.perf_counter() - t0 < 20.0


# --- no code from input ---------------------------------------------------------------------
def test_check_conserved_never_runs_code(tmp_path):
    from topoanalysis.symbolic import check_conserved

    marker = tmp_path / "pwned"
    attack = f"__import__('os').system('touch {marker}')"
    for text in (attack, "W1_0_0.__class__", "(lambda: 1)()", "W1_0_0**10**10"):
        with pytest.raises(ValidationError):
            check_conserved(text, 2, (2,), 1)
    assert not marker.exists()
    assert check_conserved("W1_0_0**2 + W1_0_1**2 + b1_0**2 - W2_0_0**2", 2, (2,), 1)[0]


# --- malformed API calls raise project errors ----------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: __import__("topoanalysis.init", fromlist=["x"]).init_params(None),
    lambda: Network.initialize(Architecture(2, (4,), 1)).permute_neurons([0., 1., 2., 3.]),
    lambda: Network.initialize(Architecture(2, (4,), 1)).rescale_neurons("a"),
    lambda: Network.initialize(Architecture(2, (4,), 1)).loss(np.ones((2, 2)), [[1.0], [1, 2]]),
    lambda: Network.initialize(Architecture(2, (4,), 1)).forward([[1.0, 2.0], [3.0]]),
    lambda: Network.load(os.devnull),
])
def test_malformed_api_calls_raise_project_errors(call):
    with pytest.raises(TopoAnalysisError):
        call()


# --- one spelling rule ------------------------------------------------------------------------
def test_choices_accept_any_case_and_dashes(tmp_path, capsys):
    from topoanalysis.dynamics import train
    from topoanalysis.init import init_params
    from topoanalysis.obstruction.probability import obstruction_probability

    arch = Architecture(2, (3,), 2, activation="Leaky-ReLU")
    theta = init_params(arch, "Kaiming-Normal", bias_init="NORMAL", bias_std=0.1)
    res = train(theta, np.ones((4, 2)), np.array([0, 1, 0, 1]), arch=arch,
                loss="Cross-Entropy", optimizer="ADAM", lr=0.01, steps=3, progress=False)
    assert res.settings["loss"] == "cross_entropy" and res.settings["optimizer"] == "adam"
    assert obstruction_probability(3, 2, event="All-Pathological", scheme="xavier-normal") > 0
    net = Network.initialize(Architecture(2, (2,), 1))
    net.save(tmp_path / "net")
    assert Network.load(tmp_path / "net") == net  # load accepts what save accepted


def test_every_scheme_parameter_has_a_flag(tmp_path, capsys):
    assert run(["components", "-d", "2", "-l", "2", "--bias-init", "normal", "--bias-std",
                "0.5"], capsys)[0] == 0
    assert run(["probability", "--d", "2:3", "--l", "2", "--scheme", "normal", "--init-std",
                "0.3", "--no-plot", "--out", tmp_path / "p"], capsys)[0] == 0
    assert run(["analyze", "--no-train", "-q", "-l", "2", "--seeds", "1", "--init", "normal",
                "--init-std", "0.3", "--out", tmp_path / "a"], capsys)[0] == 0
