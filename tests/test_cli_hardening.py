"""Issue 14, the command-line items: each finding of the outside fuzz run is a test here.

Accepted nonsense in ``critical`` flags, ``critical`` bypassing ``classify()``'s validation,
``--json`` without a lock, interrupt messages promising a resume that does not exist, edited
train checkpoints accepted, stale temporary files, and sizes set on the command line that were
allocated without an estimate (killed at 23 GB).
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from topoanalysis import Architecture, Network, cli
from topoanalysis.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line_error(code, err, command):
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith(f"usage: topoanalysis {command}")
    assert lines[1].startswith(f"topoanalysis {command}: error: ")
    return lines[1]


@pytest.fixture
def net1(tmp_path):
    """A random 1-input width-4 network (not a critical point of wu5)."""
    return Network.initialize(Architecture(1, (4,), 1), seed=3).save(tmp_path / "n.npz")


# --- accepted nonsense ----------------------------------------------------------------------
@pytest.mark.parametrize("flag, value", [
    ("--tol", "-1"), ("--tol", "nan"), ("--tol", "inf"), ("--tol", "1e308"), ("--tol", "x"),
    ("--kink-tol", "nan"), ("--kink-tol", "-1"), ("--kink-tol", "inf"),
    ("--zero-tol", "-1"), ("--zero-tol", "1"),
    ("--perturbations", "0"), ("--perturbations", "-1"), ("--perturbations", "2.5"),
    ("--seed", "-1"), ("--seed", "1e3"),
])
def test_critical_refuses_nonsense_flags(flag, value, net1, tmp_path, capsys):
    code, out, err = run(["critical", net1, "--data", "wu5", flag, value,
                          "--out", tmp_path / "o"], capsys)
    line = one_line_error(code, err, "critical")
    assert flag in line
    assert out == "" and not os.path.exists(tmp_path / "o")


def test_critical_tol_1e308_no_longer_contradicts_itself(net1, tmp_path, capsys):
    """Was: "local minimum" while its own check found a decrease; now refused."""
    code, _, err = run(["critical", net1, "--data", "wu5", "--no-snap", "--tol", "1e308",
                        "--out", tmp_path / "o"], capsys)
    assert "[0, 1)" in one_line_error(code, err, "critical")
    code, out, _ = run(["critical", net1, "--data", "wu5", "--no-snap", "--tol", "0.5",
                        "--perturbations", "20", "--out", tmp_path / "o"], capsys)
    assert code == 0
    verdict = json.loads((tmp_path / "o" / "critical.json").read_text())["verdict"]
    if verdict["verdict"] == "local minimum" and verdict.get("perturbation"):
        assert not verdict["perturbation"]["found_decrease"]


def test_critical_calls_the_public_validated_api(net1, tmp_path, capsys, monkeypatch):
    import topoanalysis.critical as critical

    calls = []
    for name in ("classify", "snap", "kink_samples"):
        real = getattr(critical, name)

        def spy(*a, _real=real, _name=name, **k):
            calls.append(_name)
            return _real(*a, **k)

        monkeypatch.setattr(critical, name, spy)
    code, _, err = run(["critical", net1, "--data", "wu5", "--perturbations", "10",
                        "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    assert calls == ["snap", "kink_samples", "classify"]


# --- locks -------------------------------------------------------------------------------
def test_critical_output_is_locked(net1, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / ".topoanalysis.lock").write_text(str(os.getppid()))  # a live process holds it
    code, _, err = run(["critical", net1, "--data", "wu5", "--out", out], capsys)
    assert "in use" in one_line_error(code, err, "critical")
    report = tmp_path / "r.json"
    (tmp_path / ".r.json.lock").write_text(str(os.getppid()))
    code, _, err = run(["critical", net1, "--data", "wu5", "--json", report], capsys)
    assert code == 2 and "in use" in err and not report.exists()
    os.remove(tmp_path / ".r.json.lock")
    code, _, err = run(["critical", net1, "--data", "wu5", "--perturbations", "5",
                        "--json", report], capsys)
    assert code == 0 and "deprecated" in err  # --json alone: the old spelling, one notice
    assert json.loads(report.read_text())["verdict"]["verdict"]
    assert sorted(os.listdir(tmp_path)) == ["n.npz", "o", "r.json"]  # the lock is released


@pytest.mark.slow  # ~3 s alone, ~11 s on a loaded machine; test_critical_output_is_locked is fast
def test_two_concurrent_critical_runs_second_refused(net1, tmp_path):
    """Two real processes on one --out: the second is refused while the first holds the lock
    (the first is paused with SIGSTOP once it has the lock, so the test does not race)."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    argv = [sys.executable, "-m", "topoanalysis.cli", "critical", net1, "--data", "wu5",
            "--perturbations", "20", "--out", str(tmp_path / "o")]
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             text=True)
    lock = tmp_path / "o" / ".topoanalysis.lock"
    deadline = time.time() + 120
    while not lock.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGSTOP)
    try:
        held = lock.exists()
        second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert held, "the first run finished before it could be paused"
    assert second.returncode == 2 and "in use" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr and len(second.stderr.strip().splitlines()) == 2
    assert json.loads((tmp_path / "o" / "critical.json").read_text())["verdict"]


# --- interrupt messages ---------------------------------------------------------------------
def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("command", ["critical", "connect"])
def test_interrupt_does_not_promise_a_resume(command, net1, tmp_path, capsys, monkeypatch):
    import topoanalysis.critical as critical
    import topoanalysis.levelsets.strings as strings

    monkeypatch.setattr(critical, "classify", _interrupt)
    monkeypatch.setattr(strings, "dynamic_string_sampling", _interrupt)
    argv = {"critical": ["critical", net1, "--data", "wu5"],
            "connect": ["connect", net1, net1, "--data", "wu5", "--bead-steps", "5"]}[command]
    code, _, err = run(argv + ["--out", tmp_path / "o"], capsys)
    assert code == 130
    assert "resume" not in err and "starts over" in err


def test_interrupted_train_says_resume(tmp_path, capsys, monkeypatch):
    import topoanalysis.dynamics as dynamics

    monkeypatch.setattr(dynamics, "train", _interrupt)
    code, _, err = run(["train", "-l", "2", "--steps", "3", "-q", "--out", tmp_path / "o"],
                       capsys)
    assert code == 130 and "run the same command again to resume" in err


# --- checkpoints ------------------------------------------------------------------------------
@pytest.fixture
def kept_checkpoint(tmp_path, capsys, monkeypatch):
    """A train run interrupted while writing its outputs: its finished checkpoint is kept."""
    import topoanalysis.io as io

    out = tmp_path / "run"
    argv = ["train", "-l", "3", "--n-networks", "2", "--steps", "40", "-q", "--out", out]
    real = io.write_json

    def interrupted(path, obj, param="output"):
        if os.path.basename(str(path)) == "train.json":
            raise KeyboardInterrupt
        return real(path, obj, param)

    monkeypatch.setattr(io, "write_json", interrupted)
    assert run(argv, capsys)[0] == 130
    monkeypatch.setattr(io, "write_json", real)
    return argv, out / "checkpoint.npz"


def _edit(path, **changes):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays.update(changes)
    np.savez(path, **arrays)


@pytest.mark.parametrize("changes, fragment", [
    ({"t0": np.int64(-5)}, "t0 = -5"),
    ({"t0": np.int64(10 ** 9)}, "t0 = 1000000000"),
    ({"t0": np.float64(3.5)}, "t0 must be an integer"),
    ({"params": np.zeros((2, 5))}, "params of shape"),
    ({"params": np.full((2, 97), np.nan)}, "non-finite"),
    ({"steps_taken": np.array([-1, 3])}, "steps_taken"),
])
def test_edited_checkpoint_is_refused(kept_checkpoint, changes, fragment, capsys):
    argv, ckpt = kept_checkpoint
    with np.load(ckpt) as f:
        assert f["params"].shape == (2, 97)
    _edit(ckpt, **changes)
    code, _, err = run(argv, capsys)
    line = one_line_error(code, err, "train")
    assert fragment in line and "checkpoint" in line and "delete it" in line


def test_intact_checkpoint_still_resumes(kept_checkpoint, capsys):
    argv, ckpt = kept_checkpoint
    code, out, _ = run(argv, capsys)
    assert code == 0 and "resuming" in out and not ckpt.exists()


def test_stale_temporary_files_are_cleaned(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "-l", "2", "--steps", "3", "-q", "--out", out]
    assert run(argv, capsys)[0] == 0
    stale = [out / ".checkpoint-x1y2.npz.tmp", out / ".train.abc123.tmp.json"]
    for p in stale:
        p.write_bytes(b"half a file")  # what SIGKILL leaves behind
    keep = out / ".hidden_user_file"
    keep.write_text("mine")
    assert run(argv, capsys)[0] == 0
    assert not any(p.exists() for p in stale) and keep.exists()


# --- sizes estimated before allocating ---------------------------------------------------------
@pytest.fixture
def pair(tmp_path):
    arch = Architecture(30, (6,), 1)
    return [Network.initialize(arch, seed=s).save(tmp_path / f"n{s}.npz") for s in range(3)]


@pytest.mark.parametrize("argv, fragments", [
    (["train", "-l", "6", "--steps", "1000000000", "--record-every", "1", "-q"],
     ["for the record", "GB", "reduce --steps or raise --record-every"]),
    (["interpolate", "{0}", "{1}", "--n-points", "1000000000"],
     ["1,000,000,000 points", "reduce --n-points"]),
    (["barrier", "{0}", "{1}", "{2}", "--n-points", "1000000000", "-q"],
     ["3 segments", "reduce --n-points"]),
    (["critical", "{0}", "--perturbations", "1000000000"],
     ["perturbations", "reduce --perturbations"]),
    (["connect", "{0}", "{1}", "--max-depth", "1000000000", "--threshold", "1e-12", "-q"],
     ["beads per pair", "reduce --max-depth or give --max-beads"]),
    (["connect", "{0}", "{1}", "--max-depth", "30", "--force", "-q"],
     ["beads per pair", "budget"]),
])
def test_sizes_are_refused_with_the_figure_before_any_work(argv, fragments, pair, tmp_path,
                                                            capsys):
    argv = [a.format(*pair) for a in argv] + ["--out", str(tmp_path / "o")]
    t0 = time.perf_counter()
    code, _, err = run(argv, capsys)
    assert time.perf_counter() - t0 < 10
    line = one_line_error(code, err, argv[0])
    for fragment in fragments:
        assert fragment in line, line
    assert not os.path.exists(tmp_path / "o")


def test_record_budget_figure(capsys, tmp_path):
    """The issue's run: 1e9 steps recorded every step needs tens of GB (was: killed)."""
    code, _, err = run(["train", "-l", "6", "--steps", "1000000000", "--record-every", "1",
                        "-q", "--out", tmp_path / "o"], capsys)
    line = one_line_error(code, err, "train")
    gb = float(line.split("needs ")[1].split(" GB")[0].replace(",", ""))
    assert gb == pytest.approx(2 * 8 * 1 * (1e9 + 2) * 7 / 1e9, rel=1e-2)


def test_memory_budget_environment_variable(monkeypatch, capsys, tmp_path):
    argv = ["train", "-l", "2", "--steps", "100", "--record-every", "1", "-q", "--out",
            tmp_path / "o"]
    monkeypatch.setenv("TOPOANALYSIS_MEMORY_BUDGET", "1K")
    code, _, err = run(argv, capsys)
    assert "TOPOANALYSIS_MEMORY_BUDGET" in one_line_error(code, err, "train")
    monkeypatch.setenv("TOPOANALYSIS_MEMORY_BUDGET", "lots")
    code, _, err = run(argv, capsys)
    assert "TOPOANALYSIS_MEMORY_BUDGET" in one_line_error(code, err, "train")
    monkeypatch.delenv("TOPOANALYSIS_MEMORY_BUDGET")
    assert run(argv, capsys)[0] == 0
    assert cli.MEMORY_BUDGET == 4e9 and cli.TIME_BUDGET == 600.0


def test_stability_of_a_huge_width_is_refused_unless_force(tmp_path, capsys, monkeypatch):
    wide = Network.initialize(Architecture(2, (20000,), 1), seed=0).save(tmp_path / "w.npz")
    t0 = time.perf_counter()
    code, _, err = run(["stability", wide, "-q", "--out", tmp_path / "o"], capsys)
    assert time.perf_counter() - t0 < 10
    line = one_line_error(code, err, "stability")
    assert "width 20000" in line and "--force" in line and "estimated" in line
    small = Network.initialize(Architecture(2, (5,), 1), seed=0).save(tmp_path / "s.npz")
    monkeypatch.setenv("TOPOANALYSIS_TIME_BUDGET", "1e-9")
    code, _, err = run(["stability", small, "-q", "--out", tmp_path / "o"], capsys)
    assert "TOPOANALYSIS_TIME_BUDGET" in one_line_error(code, err, "stability")
    assert run(["stability", small, "-q", "--force", "--out", tmp_path / "o"], capsys)[0] == 0


@pytest.mark.parametrize("argv", [
    ["components", "-d", "2", "-l", "3", "--init-std", "nan"],
    ["components", "-d", "2", "-l", "3", "--bias-std", "-1"],
    ["components", "-d", "2", "-l", "3", "--atol", "inf"],
    ["train", "-l", "2", "--steps", "3", "--init-std", "inf"],  # ignored without --init normal
    ["train", "-l", "2", "--steps", "3", "--t-end", "nan"],     # ignored without flow
    ["train", "-l", "2", "--steps", "3", "--flow-rtol", "-1"],
    ["train", "-l", "2", "--steps", "3", "--target-loss", "-1"],
    ["stability", "{net}", "--radius", "nan"],
    ["stability", "{net}", "--radius", "-1"],
    ["barrier", "{net}", "{net}", "--threshold", "nan"],       # ignored without --strings
    ["barrier", "{net}", "{net}", "--bead-fraction", "inf"],
    ["barrier", "{net}", "{net}", "--bead-lr", "-1"],
    ["connect", "{net}", "{net}", "--max-depth", "-1"],
    ["connect", "{net}", "{net}", "--points", "0"],
    ["interpolate", "{net}", "{net}", "--n-points", "0"],
    ["critical", "{net}", "--data", "wu5", "--n-samples", "0"],
    ["train", "-l", "2", "--data-seed", "-1"],
    ["train", "-l", "2", "--threads", "0"],
])
def test_nonsense_is_refused_even_where_a_flag_is_unused(argv, net1, tmp_path, capsys):
    """Found by the malformed-command-line campaign: flags that the run ignores (the std of
    another scheme, flow tolerances of a GD run, string settings without --strings) accepted
    NaN, inf and negative values without a word."""
    argv = [a.format(net=net1) for a in argv] + ["--out", str(tmp_path / "o")]
    code, _, err = run(argv, capsys)
    one_line_error(code, err, argv[0])
    assert not os.path.exists(tmp_path / "o")
