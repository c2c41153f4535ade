"""Issue 15: ``connect`` and ``barrier --strings`` train beads to their target by default.

The API's default (``dynamic_string_sampling(steps=None)``) is the adaptive budget: every bead
is trained until it reaches ``bead_fraction · L0``, up to a stated maximum of steps. The command
line used a fixed 5000 steps per bead instead. Now ``--bead-steps`` is an explicit fixed cap,
``--bead-max-steps`` the adaptive budget's stated maximum, and the worst-case time check counts
that maximum, so the estimate shown before the run is an upper bound of the run.
"""

import json

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.cli import main
from topoanalysis.dynamics._engine import resolve_threads
from topoanalysis.dynamics.train import estimate_step_seconds


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def nets(tmp_path):
    arch = Architecture(1, (4,), 1)
    return [Network.initialize(arch, seed=s).save(tmp_path / f"n{s}.npz") for s in range(3)]


def _captured(monkeypatch):
    """Replace DSS by a recorder that stops the command (exit 130) before any work."""
    import topoanalysis.levelsets.strings as strings

    seen = {}

    def record(*args, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(strings, "dynamic_string_sampling", record)
    return seen


def test_connect_default_is_the_adaptive_budget(nets, tmp_path, capsys, monkeypatch):
    seen = _captured(monkeypatch)
    code, _, _ = run(["connect", nets[0], nets[1], "--data", "wu5", "-q",
                      "--out", tmp_path / "o"], capsys)
    assert code == 130
    assert seen["steps"] is None            # was 5000: a fixed cap
    assert seen["max_steps"] == 200_000     # the API's stated maximum


@pytest.mark.parametrize("extra, steps, max_steps", [
    (["--bead-steps", "7"], 7, 200_000),
    (["--bead-max-steps", "3000"], None, 3000),
    (["--steps", "9"], 9, 200_000),          # the deprecated spelling still works
])
def test_connect_explicit_budgets(extra, steps, max_steps, nets, tmp_path, capsys, monkeypatch):
    seen = _captured(monkeypatch)
    code, _, _ = run(["connect", nets[0], nets[1], "--data", "wu5", "-q",
                      "--out", tmp_path / "o"] + extra, capsys)
    assert code == 130
    assert seen["steps"] == steps and seen["max_steps"] == max_steps


def test_worst_case_time_counts_the_stated_maximum(nets, tmp_path, capsys, monkeypatch):
    """With the adaptive default the estimate uses --bead-max-steps per bead, not 5000."""
    per_step = estimate_step_seconds(1, 5, Architecture(1, (4,), 1).n_params,
                                     resolve_threads(None, 1))
    beads = 2 ** 3 - 1
    worst = beads * (200_000 + 100) * per_step
    # a budget between the fixed-5000 estimate and the honest one: refused now, not before
    monkeypatch.setenv("TOPOANALYSIS_TIME_BUDGET", str(beads * (5000 + 100) * per_step * 2))
    argv = ["connect", nets[0], nets[1], "--data", "wu5", "--max-depth", "3", "-q"]
    code, _, err = run(argv + ["--out", tmp_path / "a"], capsys)
    line = err.strip().splitlines()[-1]
    assert code == 2 and "Traceback" not in err
    assert "7 beads per pair × 200,000 steps × 1 pair(s)" in line, line
    assert "--bead-max-steps" in line and "--bead-steps" in line
    # a fixed cap or a lower stated maximum fits the same budget
    assert worst > beads * (5000 + 100) * per_step * 2
    seen = _captured(monkeypatch)
    for extra in (["--bead-steps", "5000"], ["--bead-max-steps", "5000"]):
        code, _, err = run(argv + extra + ["--out", tmp_path / extra[0][2:]], capsys)
        assert code == 130, err
    assert seen["max_steps"] == 5000


def test_barrier_strings_default_is_adaptive(nets, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOPOANALYSIS_TIME_BUDGET", "1")
    code, _, err = run(["barrier", nets[0], nets[1], nets[2], "--data", "wu5", "--strings",
                        "--threshold", "0.5", "-q", "--out", tmp_path / "o"], capsys)
    line = err.strip().splitlines()[-1]
    assert code == 2 and "200,000 steps × 3 pair(s)" in line, line


def test_connect_runs_beads_to_their_target(tmp_path, capsys):
    """A real run with the default budget: string.json states the adaptive budget and each
    bead's stop (at its target, stalled, or at the stated maximum)."""
    from topoanalysis.datasets import load_dataset
    from topoanalysis import Landscape

    ds = load_dataset("wu5")
    arch = Architecture(ds.X.shape[1], (4,), ds.y.shape[1])
    land = Landscape(arch, ds.X, ds.y, "mse")
    theta = np.stack([Network.initialize(arch, seed=s).params for s in (0, 1)])
    tr = land.train(theta, optimizer="adam", lr=1e-2, steps=3000, record_conserved=False,
                    progress=False)
    paths = [Network(arch, p).save(tmp_path / f"t{k}.npz") for k, p in enumerate(tr.params)]
    L0 = 1.02 * float(tr.final_loss.max())
    code, out, err = run(["connect", paths[0], paths[1], "--data", "wu5", "--loss", "mse",
                          "--threshold", L0, "--max-depth", "4", "--bead-lr", "1e-2", "-q",
                          "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    d = json.loads((tmp_path / "o" / "string.json").read_text())
    assert d["settings"]["steps"] is None
    assert d["settings"]["budget"]["max_steps"] == 200_000
    inner = d["bead_stop"][1:-1]
    assert inner and set(inner) <= {"target", "stalled", "max_steps"}, inner
    assert d["failure"] in (None, "budget", "depth")
    assert (d["failure"] == "budget") == any(s != "target" for s in inner) or d["connected"]
