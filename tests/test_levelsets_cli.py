"""`topoanalysis connect` / `topoanalysis barrier` and the level-set scripts on tiny settings."""

import csv
import json

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.cli import main
from topoanalysis.datasets import cyclic_permutation_task
from topoanalysis.levelsets import load_string, train_to_threshold


def read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def saved_nets(tmp_path):
    ds = cyclic_permutation_task()
    arch = Architecture(2, (3,), 2, hidden_bias=False, output_bias=False)
    tr = train_to_threshold(arch, ds.X, ds.y, 10, 1e-3, lr=1e-2, steps=20000, seed=0)
    nets = [Network(arch, p) for p in tr.params[tr.reached_target][:3]]
    nets.append(nets[0].permute_neurons([1, 0, 2]))
    paths = []
    for i, n in enumerate(nets):
        paths.append(str(tmp_path / f"net{i}.npz"))
        n.save(paths[-1])
    return paths


def test_connect_permuted_copy(saved_nets, tmp_path, capsys):
    out = tmp_path / "connect"
    rc = main(["connect", saved_nets[0], saved_nets[3], "--data", "cyclic_permutation",
               "--threshold", "1e-3", "--lr", "1e-2", "--steps", "1000", "--max-depth", "3",
               "--out", str(out), "-q"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "not connected within budget" in text
    s = load_string(out / "string.npz")
    assert not s.connected and s.depth == 3
    rep = json.loads((out / "string.json").read_text())
    assert rep["verdict"] == "not connected within budget" and rep["n_beads"] == s.n_beads
    rows = read(out / "string.csv")
    assert len(rows) == (s.n_beads + 1) * 20 + 1
    # aligned first: the two ends coincide and the string is connected with no bead
    out2 = tmp_path / "connect_aligned"
    assert main(["connect", saved_nets[0], saved_nets[3], "--data", "cyclic_permutation",
                 "--threshold", "1e-3", "--align", "--out", str(out2), "-q"]) == 0
    s2 = load_string(out2 / "string.npz")
    assert s2.connected and s2.n_beads == 0
    # the loss between grid points: bounded, in the report and on the screen
    assert "between grid points the loss is at most" in capsys.readouterr().out
    rep = json.loads((out / "string.json").read_text())
    assert len(rep["loss_bounds"]) == s.n_beads + 1
    assert all(b >= m for b, m in zip(rep["loss_bounds"], s.edge_max_loss))
    assert rep["proven_below_accept_level"] is False      # not connected: not below it


def test_barrier_command(saved_nets, tmp_path, capsys):
    out = tmp_path / "barrier"
    rc = main(["barrier", *saved_nets, "--data", "cyclic_permutation", "--align",
               "--n-points", "21", "--out", str(out), "-q"])
    assert rc == 0
    rows = read(out / "barriers.csv")
    assert len(rows) == 6
    swap = next(r for r in rows if r["i"] == "0" and r["j"] == "3")
    assert float(swap["linear_barrier"]) > 0.1 and float(swap["aligned_barrier"]) < 1e-12
    comps = read(out / "components.csv")
    assert int(comps[-1]["components"]) >= 1
    tree = json.loads((out / "tree.json").read_text())
    assert len([n for n in tree["nodes"] if n["kind"] == "minimum"]) == 4
    assert "wrote" in capsys.readouterr().out


def test_cli_errors(saved_nets, tmp_path, capsys):
    assert main(["connect", saved_nets[0], str(tmp_path / "missing.npz"), "--data",
                 "cyclic_permutation", "--out", str(tmp_path / "x")]) == 2
    assert "missing.npz" in capsys.readouterr().err
    assert main(["barrier", saved_nets[0], saved_nets[1], "--data", "cyclic_permutation",
                 "--strings", "--out", str(tmp_path / "y")]) == 2
    assert "--threshold" in capsys.readouterr().err
    bad = tmp_path / "data.npz"
    np.savez(bad, X=np.zeros((3, 5)), y=np.zeros(3))
    assert main(["connect", saved_nets[0], saved_nets[1], "--data", str(bad),
                 "--out", str(tmp_path / "z")]) == 2
    assert "topoanalysis connect: error:" in capsys.readouterr().err


def test_dss_polynomial_script(load_script, tmp_path, capsys):
    script = load_script("dss_polynomial")
    assert script.main(["--out", str(tmp_path), "--pairs", "2", "--spare", "1",
                        "--n-samples", "100", "--test-samples", "200", "--levels-quadratic",
                        "0.05", "--levels-cubic", "0.2", "--max-train-steps", "4000",
                        "--max-bead-steps", "2000", "--max-depth", "3", "--n-points", "21",
                        "--quiet", "--no-plot"]) == 0
    rows = read(tmp_path / "dss_polynomial.csv")
    assert {r["task"] for r in rows} == {"quadratic", "cubic"}
    assert all(float(r["normalized_length_weights"]) >= 1.0 for r in rows)
    assert all(int(r["depth"]) <= 3 for r in rows)
    # the authors' first bead: every string has its endpoints and at least one bead
    assert all(int(r["beads"]) == int(r["inner_beads"]) + 2 >= 3 for r in rows)
    assert all(float(r["test_max_loss"]) > 0 for r in rows)
    assert all(r["failure"] in ("", "budget", "depth") for r in rows)
    assert all((r["failure"] == "") == (r["connected"] == "True") for r in rows)
    # every string is saved, in the authors' model of its task
    from topoanalysis.levelsets import load_string
    saved = sorted((tmp_path / "strings").glob("*.npz"))
    assert len(saved) == len(rows)
    arch = {p.name.split("_")[0]: load_string(p).arch for p in saved}
    assert arch["quadratic"].output_activation == "sigmoid" and not arch["quadratic"].hidden_bias
    assert arch["cubic"].output_activation == "linear" and arch["cubic"].hidden_bias
    summary = read(tmp_path / "dss_polynomial_summary.csv")
    assert {r["model"] for r in summary} == {"authors"}
    assert "dss_polynomial_summary.csv" in capsys.readouterr().out
    # a task alone gives the rows it gives beside the other task (the committed tables ran
    # one task per process)
    assert script.main(["--out", str(tmp_path / "cubic"), "--tasks", "cubic", "--pairs", "2",
                        "--spare", "1", "--n-samples", "100", "--test-samples", "200",
                        "--levels-cubic", "0.2", "--max-train-steps", "4000",
                        "--max-bead-steps", "2000", "--max-depth", "3", "--n-points", "21",
                        "--quiet", "--no-plot"]) == 0
    alone = read(tmp_path / "cubic" / "dss_polynomial.csv")
    both = [r for r in rows if r["task"] == "cubic"]
    drop = ("call_seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in alone] == \
        [{k: v for k, v in r.items() if k not in drop} for r in both]


def test_permutation_disconnection_script(load_script, tmp_path, capsys):
    script = load_script("permutation_disconnection")
    assert script.main(["--out", str(tmp_path), "--networks", "2", "--max-bead-steps", "3000",
                        "--max-depth", "3", "--images", "8", "--neb-steps", "100", "--quiet",
                        "--no-plot"]) == 0
    rows = read(tmp_path / "permutation_disconnection.csv")
    assert len(rows) == 2
    for r in rows:
        assert r["dss_verdict"] == "not connected within budget"
        assert r["recovered_perm"] == "1 0 2"
        # the lowest path found is the lower NEB, never above the DSS string it started from
        low = float(r["lowest_height"])
        assert low == min(float(r["neb_height_from_dss"]), float(r["neb_height_from_segment"]))
        assert low <= float(r["segment_height"])
        assert low > 1.1e-3                          # far above the level: disconnected
        assert "aligned_barrier" not in r            # the tautological column is gone
    assert len(list((tmp_path / "strings").glob("*.npz"))) == 2


def test_minima_connectivity_script(load_script, tmp_path, capsys):
    script = load_script("minima_connectivity")
    assert script.main(["--out", str(tmp_path), "--minima", "6", "--widths", "4", "2",
                        "--steps", "300", "--n-points", "11", "--quiet", "--no-plot"]) == 0
    summary = read(tmp_path / "minima_connectivity_summary.csv")
    assert [r["width"] for r in summary] == ["4", "2"]
    pairs = read(tmp_path / "minima_connectivity_pairs.csv")
    assert len(pairs) == 2 * 15
    comps = read(tmp_path / "minima_connectivity_components.csv")
    last = {}
    for r in comps:
        last[(r["width"], r["kind"])] = int(r["components"])
    assert all(v == 1 for v in last.values())  # at the top every minimum is joined


def test_analyze_reports_aligned_barrier():
    from topoanalysis.analyze import analyze

    r = analyze(seeds=2, steps=100, out=None, progress=False)
    d = r.to_dict()["aligned_barriers"]
    assert d["seeds"] == [p["seed"] for p in r.pairs]
    # the linear column is the report's own barrier, the aligned one never negative
    assert np.allclose(d["barrier_linear"], [p["barrier"] for p in r.pairs])
    assert all(b >= 0 for b in d["barrier_aligned"])
    assert "Aligned barrier (balance + weight matching)" in r.text()
    json.dumps(r.to_dict())


def test_connect_with_a_data_file(saved_nets, tmp_path):
    ds = cyclic_permutation_task()
    data = tmp_path / "perm_data.npz"
    np.savez(data, X=ds.X, y=ds.y)
    out = tmp_path / "c"
    assert main(["connect", saved_nets[0], saved_nets[1], "--data", str(data), "--threshold",
                 "1e-3", "--lr", "1e-2", "--steps", "500", "--max-depth", "2", "--out", str(out),
                 "-q"]) == 0
    s = load_string(out / "string.npz")
    assert s.settings["loss"] == "mse" and s.depth <= 2
    assert s.connected == bool(np.all(s.edge_max_loss < 1.1e-3))


def test_dss_spike_window_script(load_script, tmp_path, capsys):
    """Issue 15: the authors' per-bead procedure (scripts/dss_spike_window.py) and the switches
    that measure the cubic spike's cause."""
    import numpy as np

    script = load_script("dss_spike_window")
    arch = script.authors_model("cubic")
    script.check_model(arch)                       # NumPy model == engine (float64)
    from topoanalysis.datasets import polynomial_regression
    ds = polynomial_regression("cubic", n_samples=300, seed=1)
    th = script.authors_init(arch, 2, seed=4)
    m64, m32 = (script.Model(arch, ds.X, ds.y, d) for d in ("float64", "float32"))
    l64, g64 = m64.loss_and_gradient(th[0])
    l32, g32 = m32.loss_and_gradient(th[0])
    assert g32.dtype == np.float32 and np.allclose(g32, g64, atol=1e-5) and abs(l32 - l64) < 1e-5
    # TensorFlow's Adam: the first step is lr·√(1−β₂)/(1−β₁) · 0.1g / (√(0.001 g²) + ε),
    # about lr in every coordinate
    opt = script.Adam(th[0], 1e-3, "float64")
    opt.step(m64)
    lr_t = 1e-3 * np.sqrt(1 - 0.999) / (1 - 0.9)
    expected = lr_t * 0.1 * g64 / (np.sqrt(0.001 * g64 ** 2) + 1e-8)
    assert np.allclose(th[0] - opt.theta, expected, rtol=1e-12, atol=1e-18)
    assert np.allclose(np.abs(opt.theta - th[0])[np.abs(g64) > 1e-3], 1e-3, rtol=1e-3)
    out = tmp_path / "w"
    assert script.main(["--out", str(out), "--levels", "0.2", "--pairs", "1", "--n-samples",
                        "300", "--test-samples", "300", "--fresh-data", "--criterion", "test",
                        "--dtype", "float32", "--max-steps", "3000", "--max-depth", "3"]) == 0
    rows = read(out / "rows.csv")
    assert len(rows) == 1 and int(rows[0]["beads"]) >= 3     # the forced first bead
    assert float(rows[0]["normalized_length_weights"]) >= 1.0
    assert script.main(["--table", str(out), "--labels", "x", "--table-out",
                        str(tmp_path / "t.csv")]) == 0
    t = read(tmp_path / "t.csv")
    assert t[0]["candidate"] == "x" and float(t[0]["L0"]) == 0.2


def test_dss_polynomial_continuous_budget(load_script, tmp_path):
    script = load_script("dss_polynomial")
    assert script.main(["--out", str(tmp_path), "--pairs", "1", "--spare", "1", "--tasks",
                        "cubic", "--n-samples", "100", "--test-samples", "100", "--levels",
                        "0.2", "--max-train-steps", "4000", "--max-bead-steps", "3000",
                        "--max-depth", "2", "--n-points", "11", "--bead-budget", "continuous",
                        "--quiet", "--no-plot"]) == 0
    from topoanalysis.levelsets import load_string
    s = load_string(next((tmp_path / "strings").glob("*.npz")))
    assert s.settings["steps"] == 3000 and s.settings["budget"] is None
