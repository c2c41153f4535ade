"""Audit: the command line and its reports show the certificate semantics of the library.

Exact flags of degeneracy findings (exactly vs nearly coinciding hyperplanes), the disk's
uniform distance ``exact=False``, Sobolev bounds, ``EscapeReport.unproved`` of vector-output
verdicts and the verdict's kink tolerance (``critical --verdict-kink-tol``). The CLI runs
in-process (``topoanalysis.cli.main``).
"""

import json

import numpy as np
import pytest

from topoanalysis import Network
from topoanalysis.cli import main
from topoanalysis.critical import snap_and_classify
from topoanalysis.datasets import load_dataset


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _pair(tmp_path):
    """Two networks: neurons 0 and 1 on nearly (``near.npz``) or exactly (``exact.npz``) one
    hyperplane."""
    W = np.array([[1.0, 0.5], [1.0, 0.5001], [-0.3, 1.0]])
    b = np.array([0.2, 0.2, 0.1])
    a = np.array([[1.0, 0.7, -0.5]])
    Network.from_weights([W, a], [b, np.array([0.0])]).save(tmp_path / "near.npz")
    W2, b2 = W.copy(), b.copy()
    W2[1], b2[1] = 2 * W[0], 2 * b[0]
    Network.from_weights([W2, a], [b2, np.array([0.0])]).save(tmp_path / "exact.npz")
    return tmp_path / "near.npz", tmp_path / "exact.npz"


def _coinciding(report):
    return [it for it in report["network"]["degeneracies"]["items"]
            if it["kind"] == "coinciding_hyperplanes"]


def test_stability_near_and_exact_coinciding_hyperplanes(tmp_path, capsys):
    near, exact = _pair(tmp_path)
    code, out, _ = run(["stability", str(near), "-q", "--out", str(tmp_path / "n")], capsys)
    assert code == 0
    line = next(t for t in out.splitlines() if "coinciding_hyperplanes" in t)
    assert "within tolerance" in line and "exact" not in line
    (item,) = _coinciding(json.loads((tmp_path / "n" / "stability.json").read_text()))
    assert item["exact"] is False and "not exactly parallel" in item["detail"]

    code, out, _ = run(["stability", str(exact), "-q", "--out", str(tmp_path / "e")], capsys)
    assert code == 0
    line = next(t for t in out.splitlines() if "coinciding_hyperplanes" in t)
    assert "(exact)" in line
    (item,) = _coinciding(json.loads((tmp_path / "e" / "stability.json").read_text()))
    assert item["exact"] is True


def test_stability_pair_disk_distance_is_not_exact(tmp_path, capsys):
    near, exact = _pair(tmp_path)
    code, out, _ = run(["stability", str(near), str(exact), "-q", "--out", str(tmp_path / "s")],
                       capsys)
    assert code == 0
    uniform = next(t for t in out.splitlines() if t.startswith("uniform distance"))
    assert "exact" not in uniform and "float64" in uniform
    rep = json.loads((tmp_path / "s" / "stability.json").read_text())["against"]
    assert rep["uniform"]["exact"] is False and rep["uniform"]["domain"]["kind"] == "ball"
    sob = rep["sobolev"]
    assert {"exact", "lower", "upper", "certificate"} <= set(sob)
    assert sob["lower"] <= sob["value"] <= sob["upper"]
    sob_line = next(t for t in out.splitlines() if t.startswith("W^(1,inf)"))
    assert ("(exact," in sob_line) == sob["exact"]


def test_stability_help_does_not_promise_an_exact_uniform_distance(capsys):
    with pytest.raises(SystemExit):
        main(["stability", "-h"])
    text = " ".join(capsys.readouterr().out.split())
    assert "the exact W^(1,inf)" not in text
    assert "close, not proven" in text


@pytest.fixture(scope="module")
def wu_net(tmp_path_factory):
    """A width-3 ReLU network trained a little on wu5 (a bias column: 2 inputs)."""
    tmp = tmp_path_factory.mktemp("wu")
    assert main(["train", "--data", "wu5", "-l", "3", "--steps", "300", "--lr", "0.05",
                 "--seed", "1", "-q", "--out", str(tmp / "run")]) == 0
    return tmp / "run" / "network_0.npz"


def test_critical_verdict_kink_tol_flag(wu_net, tmp_path, capsys):
    code, out, err = run(["critical", str(wu_net), "--data", "wu5", "--perturbations", "5",
                          "--verdict-kink-tol", "0", "--out", str(tmp_path / "c")], capsys)
    assert code == 0, err
    rep = json.loads((tmp_path / "c" / "critical.json").read_text())
    assert rep["settings"]["verdict_kink_tol"] == 0.0
    assert "<= 0·||w_k||" in out
    data = load_dataset("wu5")
    net = Network.load(wu_net)
    X = np.column_stack([data.X, np.ones(len(data.X))]) if data.X.shape[1] == 1 else data.X
    _, v = snap_and_classify(net, X, data.y, verdict_kink_tol=0.0, n_perturbations=5)
    assert rep["verdict"]["verdict"] == v.verdict


def test_critical_default_verdict_kink_tol_recorded(wu_net, tmp_path, capsys):
    code, _, err = run(["critical", str(wu_net), "--data", "wu5", "--perturbations", "5",
                        "--kink-tol", "0", "--out", str(tmp_path / "c")], capsys)
    assert code == 0, err
    rep = json.loads((tmp_path / "c" / "critical.json").read_text())
    assert rep["settings"]["verdict_kink_tol"] == 0.0      # min(--kink-tol, 1e-9)
    code, _, err = run(["critical", str(wu_net), "--data", "wu5", "--perturbations", "5",
                        "--no-snap", "--out", str(tmp_path / "d")], capsys)
    assert code == 0, err
    rep = json.loads((tmp_path / "d" / "critical.json").read_text())
    assert rep["settings"]["verdict_kink_tol"] == 1e-9


@pytest.mark.parametrize("value", ["1", "-1e-3", "nan"])
def test_critical_verdict_kink_tol_refused_in_one_line(wu_net, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["critical", str(wu_net), "--data", "wu5", f"--verdict-kink-tol={value}",
              "--out", str(tmp_path / "c")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "--verdict-kink-tol" in lines[1]


def test_critical_vector_output_report_has_unproved(tmp_path, capsys):
    assert main(["train", "--data", "cyclic", "-l", "4", "-e", "2", "--steps", "500",
                 "--lr", "0.05", "--seed", "1", "-q", "--out", str(tmp_path / "run")]) == 0
    code, out, err = run(["critical", str(tmp_path / "run" / "network_0.npz"), "--data",
                          "cyclic", "--perturbations", "5", "--out", str(tmp_path / "c")],
                         capsys)
    assert code == 0, err
    rep = json.loads((tmp_path / "c" / "critical.json").read_text())
    assert rep["verdict"]["escape"] is not None
    esc = rep["verdict"]["escape"]
    assert esc["outputs"] == 2 and isinstance(esc["unproved"], list)
    assert all("absence_proved" in n for n in esc["neurons"])
    assert (rep["verdict"]["verdict"] == "undetermined") or not esc["unproved"]


def test_report_html_does_not_call_the_snap_exact(tmp_path):
    pytest.importorskip("matplotlib")
    from topoanalysis.analyze import analyze
    from topoanalysis.report import report_html

    rep = analyze(hidden=3, seeds=1, steps=30, n_points=5, out=str(tmp_path), progress=False)
    text = " ".join(report_html(rep).split())
    assert "nearest exact kink" not in text
    assert "heuristic projection" in text and "afresh" in text
