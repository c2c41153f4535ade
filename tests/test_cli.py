import json
import os
import subprocess
import sys

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.cli import main


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_components_from_flags(capsys, tmp_path):
    path = tmp_path / "c.json"
    code, out, _ = run(["components", "-d", "3", "-l", "4", "--init", "xavier_normal",
                        "--seed", "3", "--json", str(path)], capsys)
    assert code == 0
    assert "effective components" in out
    report = json.loads(path.read_text())
    net = Network.initialize(Architecture(3, (4,), 1), "xavier_normal", seed=3)
    np.testing.assert_allclose(report["conserved_quantities"], net.conserved_quantities())


def test_components_from_file(capsys, tmp_path):
    net = Network.initialize(Architecture(2, (3,), 1, hidden_bias=False), seed=1)
    net = net.rescale_neurons([0.2, 0.2, 0.2])  # all pathological: 2^3 components, 4 effective
    net.save(tmp_path / "n.npz")
    code, out, _ = run(["components", str(tmp_path / "n.npz")], capsys)
    assert code == 0
    assert "components of H(c): 8" in out
    assert "effective components: 4" in out


@pytest.mark.parametrize("argv, fragment", [
    (["components", "-d", "0", "-l", "4"], "`inputs`"),
    (["components", "missing.npz"], "`NET.npz`"),
    (["components", "-d", "3"], "--hidden"),
    (["components", "-d", "3", "-l", "2", "--init", "glorot"], "`scheme`"),
    (["components", "-d", "3", "-l", "2", "--activation", "softplus"], "`activation`"),
    (["train", "-l", "3", "--lr", "-1", "-q"], "`lr`"),
    (["train", "-l", "3", "--optimizer", "lbfgs", "-q"], "`optimizer`"),
    (["probability", "--d", "2:3", "--l", "2:3", "--scheme", "nope", "--out", "{tmp}"], "`--scheme`"),
])
def test_user_errors_exit_2_with_one_line(argv, fragment, capsys, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, _, err = run(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    command = argv[0]
    assert len(lines) == 2 and lines[0].startswith(f"usage: topoanalysis {command}")
    assert lines[1].startswith(f"topoanalysis {command}: error:")
    assert fragment in lines[1]


def test_probability_writes_csv_and_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    code, out, _ = run(["probability", "--d", "2:5", "--l", "2:4", "--event", "all_pathological",
                        "--out", str(tmp_path)], capsys)
    assert code == 0
    assert (tmp_path / "obstruction_probability.csv").exists()
    assert (tmp_path / "obstruction_all_pathological.png").stat().st_size > 1000


def test_train_and_interpolate(capsys, tmp_path):
    out = tmp_path / "t"
    code, text, _ = run(["train", "-l", "3", "--n-networks", "2", "--steps", "50", "-q",
                         "--out", str(out)], capsys)
    assert code == 0 and "network 1: bce" in text
    summary = json.loads((out / "train.json").read_text())
    assert len(summary["final_loss"]) == 2 and not any(summary["diverged"])
    code, text, _ = run(["interpolate", "--a", str(out / "network_0.npz"), "--b",
                         str(out / "network_1.npz"), "--n-points", "11", "--out",
                         str(tmp_path / "i")], capsys)
    assert code == 0 and "barrier" in text
    res = json.loads((tmp_path / "i" / "barrier.json").read_text())
    assert res["loss_a"] == pytest.approx(summary["final_loss"][0], rel=1e-9)


def test_analyze_small(capsys, tmp_path):
    code, out, _ = run(["analyze", "--seeds", "2", "--steps", "50", "-q", "--out",
                        str(tmp_path)], capsys)
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["networks"]) == 4  # 2 initializations + their obstructed twins
    twins = [n for n in report["networks"] if n["kind"] == "twin"]
    assert all(n["l_minus"] == 6 and n["n_components"] == 64 for n in twins)
    assert all(n["n_effective_components"] == 7 for n in twins)  # l_+ = 0: l_- + 1
    assert len(report["pairs"]) == 2
    assert 0 <= report["probabilities"]["all_pathological"] <= report["probabilities"]["per_neuron"]


def test_console_script_analyze_defaults(tmp_path):
    """`topoanalysis analyze` with no arguments runs the embedded default."""
    exe = os.path.join(os.path.dirname(sys.executable), "topoanalysis")
    cmd = [exe, "analyze"] if os.path.exists(exe) else [sys.executable, "-m", "topoanalysis.cli", "analyze"]
    import topoanalysis

    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(topoanalysis.__file__)))
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Loss barrier" in proc.stdout
    assert (tmp_path / "topoanalysis_analyze" / "report.json").exists()
