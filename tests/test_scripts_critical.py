"""scripts/saddle_to_saddle.py runs from a fresh checkout (tiny settings)."""

import csv
import json

import numpy as np
import pytest


def test_saddle_to_saddle_script_tiny(load_script, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    args = ["--out", str(tmp_path), "--scale", "0.005", "--width", "6", "--dtype", "float32",
            "--seeds", "3", "--record-every", "50", "--quiet"]
    assert load_script("saddle_to_saddle").main(args + ["--tasks", "1d", "3d", "--no-plot"]) == 0
    assert load_script("saddle_to_saddle").main(args + ["--tasks", "2d2d"]) == 0   # adds a task
    out = capsys.readouterr().out
    assert "[1d]" in out and "[3d]" in out and "[2d2d]" in out
    # the two-output task runs in float32 through the NumPy loop (the engine's float32
    # kernels cover one output), the others on the engine
    assert "NumPy float32 GD loop" in out and "engine GD (float32)" in out
    assert (tmp_path / "saddle_to_saddle_2d2d.png").stat().st_size > 10_000
    assert (tmp_path / "seeds_2d2d.png").stat().st_size > 10_000
    for task in ("1d", "3d", "2d2d"):
        with open(tmp_path / f"seeds_{task}.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["seed"] for r in rows] == ["0", "1", "2"]
        with np.load(tmp_path / f"curves_{task}.npz") as z:
            assert z["loss"].shape == (3, z["steps"].size)
    summary = json.loads((tmp_path / "summary.json").read_text())
    one = summary["1d"]
    assert one["settings"]["steps"] == 3000 and one["settings"]["sigma"] == 50 ** -3.0
    assert one["settings"]["dtype"] == "float32"
    assert summary["3d"]["settings"]["sigma"] == 50 ** -6.5
    assert summary["2d2d"]["settings"]["lr"] == 2e-3
    assert "width 6" in one["differs_from_paper"]
    assert one["seed0"]["final_verdict"] in ("local minimum", "saddle", "not stationary",
                                             "undetermined")
    assert one["seed0"]["plateau_losses"][0] == pytest.approx(0.03812, abs=1e-4)
    assert one["seed0"]["plateaus"][0]["verdict"] == "saddle"  # the origin-like first plateau
    assert sum(one["final_verdicts"].values()) == 3
    # a rerun with the same settings reads the runs back instead of training again
    assert load_script("saddle_to_saddle").main(args + ["--tasks", "1d", "--no-plot"]) == 0
    assert "read back from runs_1d.npz" in capsys.readouterr().out


def test_numpy_float32_loop_matches_the_engine(load_script):
    """The float32 fallback loop and the engine's float32 kernels take the same GD steps
    (one output, where both exist), to float32 rounding."""
    from topoanalysis import Architecture
    from topoanalysis.datasets import wu_three_d_regression
    from topoanalysis.dynamics import train
    from topoanalysis.init import init_params

    mod = load_script("saddle_to_saddle")
    d = wu_three_d_regression()
    arch = Architecture(3, (8,), 1, hidden_bias=False, output_bias=False)
    th = init_params(arch, "normal", seed=1, std=0.3, n_networks=2)
    steps, loss, traj, params = mod.gd_float32_numpy(th, d.X, d.y, arch, lr=0.05, steps=200,
                                                     record_every=50)
    ref = train(th, d.X, d.y, arch=arch, lr=0.05, steps=200, record_every=50,
                record_params=True, progress=False, dtype="float32")
    assert params.dtype == np.float32 and steps.tolist() == ref.record_steps.tolist()
    np.testing.assert_allclose(params, ref.params, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(loss, ref.loss, rtol=1e-4)


def test_saddle_to_saddle_seeds_gd_and_flow_agree(load_script, tmp_path, capsys):
    """The many-seed run by GD steps and by the flow integrator to the same time agree."""
    finals = {}
    for dyn in ("gd", "flow"):
        args = ["--out", str(tmp_path / dyn), "--tasks", "1d", "--scale", str(4000 / 600_000),
                "--width", "6", "--seeds", "2", "--record-every", "100", "--no-plot",
                "--dtype", "float64", "--seeds-dynamics", dyn, "--rtol", "1e-6", "--quiet"]
        assert load_script("saddle_to_saddle").main(args) == 0
        with open(tmp_path / dyn / "seeds_1d.csv") as fh:
            finals[dyn] = [float(r["final_loss"]) for r in csv.DictReader(fh)]
    capsys.readouterr()
    # GD with rate 1e-3 is a first-order discretization of the flow
    assert finals["gd"] == pytest.approx(finals["flow"], rel=2e-3)
