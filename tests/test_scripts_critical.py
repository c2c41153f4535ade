"""scripts/saddle_to_saddle.py runs from a fresh checkout (tiny settings)."""

import csv
import json

import pytest


def test_saddle_to_saddle_script_tiny(load_script, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    args = ["--out", str(tmp_path), "--steps", "3000", "--steps-2d", "2000", "--width", "6",
            "--seeds", "3", "--record-every", "50"]
    assert load_script("saddle_to_saddle").main(args) == 0
    out = capsys.readouterr().out
    assert "1-D run" in out and "seeds (gd) in one engine run" in out
    for name in ("saddle_to_saddle_1d.png", "saddle_to_saddle_2d.png", "seeds.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    with open(tmp_path / "seeds.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["seed"] for r in rows] == ["0", "1", "2"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    one = summary["one_d"]
    assert one["final_verdict"] in ("local minimum", "saddle", "not stationary", "undetermined")
    assert one["plateau_losses"] and one["plateau_losses"][0] == pytest.approx(0.03812, abs=1e-4)
    assert one["plateaus"][0]["verdict"] == "saddle"          # the origin-like first plateau
    assert sum(summary["seeds"]["final_verdicts"].values()) == 3


def test_saddle_to_saddle_seeds_gd_and_flow_agree(load_script, tmp_path, capsys):
    """The many-seed run by GD steps and by the flow integrator to the same time agree."""
    finals = {}
    for dyn in ("gd", "flow"):
        args = ["--out", str(tmp_path / dyn), "--steps", "4000", "--steps-2d", "500",
                "--width", "6", "--seeds", "2", "--record-every", "100", "--no-plot",
                "--seeds-dynamics", dyn, "--rtol", "1e-6"]
        assert load_script("saddle_to_saddle").main(args) == 0
        with open(tmp_path / dyn / "seeds.csv") as fh:
            finals[dyn] = [float(r["final_loss"]) for r in csv.DictReader(fh)]
    capsys.readouterr()
    # GD with rate 1e-3 is a first-order discretization of the flow
    assert finals["gd"] == pytest.approx(finals["flow"], rel=2e-3)
