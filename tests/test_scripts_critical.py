"""scripts/saddle_to_saddle.py runs from a fresh checkout (tiny settings)."""

import csv
import json

import pytest


def test_saddle_to_saddle_script_tiny(load_script, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    args = ["--out", str(tmp_path), "--scale", "0.005", "--width", "6", "--dtype", "float64",
            "--seeds", "3", "--record-every", "50", "--quiet"]
    assert load_script("saddle_to_saddle").main(args) == 0
    out = capsys.readouterr().out
    assert "[1d]" in out and "[3d]" in out and "[2d2d]" in out
    assert "3 seeds in one engine run" in out
    for task in ("1d", "3d", "2d2d"):
        assert (tmp_path / f"saddle_to_saddle_{task}.png").stat().st_size > 10_000
        assert (tmp_path / f"seeds_{task}.png").stat().st_size > 10_000
        with open(tmp_path / f"seeds_{task}.csv") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["seed"] for r in rows] == ["0", "1", "2"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    one = summary["1d"]
    assert one["settings"]["steps"] == 3000 and one["settings"]["sigma"] == 50 ** -3.0
    assert summary["3d"]["settings"]["sigma"] == 50 ** -6.5
    assert summary["2d2d"]["settings"]["lr"] == 2e-3
    assert one["final_verdict"] in ("local minimum", "saddle", "not stationary", "undetermined")
    assert one["plateau_losses"] and one["plateau_losses"][0] == pytest.approx(0.03812, abs=1e-4)
    assert one["plateaus"][0]["verdict"] == "saddle"          # the origin-like first plateau
    assert sum(summary["1d"]["seeds"]["final_verdicts"].values()) == 3


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
