"""The topology scripts run end to end on small grids (scripts/obstruction_probability.py,
scripts/component_counts.py)."""

import csv

import pytest

def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_obstruction_probability_csv(load_script, tmp_path, capsys):
    script = load_script("obstruction_probability")
    assert script.main(["--out", str(tmp_path), "--d-max", "3", "--l-max", "4", "--no-plot"]) == 0
    rows = read(tmp_path / "obstruction_probability.csv")
    assert len(rows) == 2 * 2 * 4                         # d = 2..3 (default --d-min 2)
    assert {r["scheme"] for r in rows} == {"xavier_normal", "kaiming_normal"}
    r = next(r for r in rows if r["scheme"] == "kaiming_normal" and r["d"] == "2" and r["l"] == "3")
    assert float(r["all_pathological"]) == pytest.approx(float(r["p"]) ** 3)
    assert float(r["all_pathological"]) == pytest.approx(float(r["obstructed"]))
    out = capsys.readouterr().out
    assert "obstruction_probability.csv" in out


def test_obstruction_probability_png(load_script, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    script = load_script("obstruction_probability")
    assert script.main(["--out", str(tmp_path), "--d-max", "2", "--l-max", "2",
                        "--events", "all_pathological", "expected_components"]) == 0
    for event in ("all_pathological", "expected_components"):
        assert (tmp_path / f"obstruction_{event}.png").stat().st_size > 1000
    assert "obstruction_all_pathological.png" in capsys.readouterr().out


def test_obstruction_probability_bad_range(load_script, tmp_path):
    script = load_script("obstruction_probability")
    assert script.main(["--out", str(tmp_path), "--d-min", "3", "--d-max", "2"]) == 2


def test_component_counts(load_script, tmp_path, capsys):
    script = load_script("component_counts")
    assert script.main(["--out", str(tmp_path), "--d", "1", "2", "--l", "1", "3", "--e", "1",
                        "2", "--samples", "50", "--schemes", "kaiming_normal"]) == 0
    counts = read(tmp_path / "component_counts.csv")
    summary = read(tmp_path / "component_summary.csv")
    assert len(summary) == 2 * 2 * 2
    assert len(counts) == 2 * 2 * (2 + 4)  # l_minus = 0..l per (d, l, e)
    for r in counts:
        if r["d"] == "2" and r["e"] == "1":
            assert int(r["n_components"]) == 2 ** int(r["l_minus"])
            want = int(r["l"]) + 1 if r["l_minus"] == r["l"] else 1
            assert int(r["n_effective_components"]) == want
    for d, l, e in {(r["d"], r["l"], r["e"]) for r in counts}:
        cell = [r for r in counts if (r["d"], r["l"], r["e"]) == (d, l, e)]
        assert sum(int(r["sampled_count"]) for r in cell) == 50
        assert sum(float(r["probability"]) for r in cell) == pytest.approx(1.0)
    out = capsys.readouterr().out
    assert "component_counts.csv" in out and "component_summary.csv" in out
