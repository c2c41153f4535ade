"""The obstruction paper's experiment scripts run from a fresh checkout (small settings)."""

import csv

import pytest

def test_toy_obstruction(load_script, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert load_script("toy_obstruction").main(["--out", str(tmp_path), "--steps", "300"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "toy_obstruction.png").stat().st_size > 10_000
    with open(tmp_path / "toy_obstruction.csv") as fh:
        rows = list(csv.DictReader(fh))
    # same initial function, but only the unobstructed run can fit the target
    assert float(rows[0]["loss_obstructed"]) == pytest.approx(float(rows[0]["loss_unobstructed"]))
    assert float(rows[-1]["loss_unobstructed"]) < 1e-3 < 0.1 < float(rows[-1]["loss_obstructed"])
    assert "final loss" in out


def test_breast_cancer_sweep_resumes(load_script, tmp_path):
    pytest.importorskip("matplotlib")
    sweep = load_script("breast_cancer_sweep")
    args = ["--out", str(tmp_path), "--n-init", "4", "--steps", "20", "--quiet"]
    assert sweep.main(args + ["--widths", "2:2"]) == 0
    path = tmp_path / "breast_cancer_sweep.csv"
    with open(path) as fh:
        first = list(csv.DictReader(fh))
    assert [(r["width"], r["n_positive"]) for r in first] == [("2", "0"), ("2", "1"), ("2", "2")]
    assert sweep.main(args + ["--widths", "2:3"]) == 0   # finished cells are skipped
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 + 4
    assert rows[:3] == first                               # untouched on rerun
    assert all(float(r["test_bce_mean"]) > 0 for r in rows)
    assert (tmp_path / "breast_cancer_heatmap.png").exists()
    assert (tmp_path / "breast_cancer_fraction.png").exists()
