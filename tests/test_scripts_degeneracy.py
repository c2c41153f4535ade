"""scripts/inverse_stability.py and ``topoanalysis stability`` on tiny settings."""

import csv
import json

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from topoanalysis.cli import main


def test_inverse_stability_script_tiny(load_script, tmp_path, capsys):
    mod = load_script("inverse_stability")
    out = tmp_path / "fig"
    assert mod.main(["--out", str(out), "--ts", "1", "8", "--etas", "0.1", "0.001",
                     "--seeds", "1", "--dim", "2", "--width", "3", "--search", "4",
                     "--adversarial", "1", "--adversarial-iterations", "2"]) == 0
    text = capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "inverse_stability.csv")))
    names = {r["experiment"] for r in rows}
    assert {"unbalanced", "redundant", "opposite", "nearly_cancelling", "uniform",
            "restricted:tiny"} <= names
    unb = [r for r in rows if r["experiment"] == "unbalanced"]
    assert float(unb[1]["ratio"]) == pytest.approx(8 * float(unb[0]["ratio"]), rel=1e-6)
    tiny = [r for r in rows if r["experiment"] == "restricted:tiny"]
    assert max(float(r["ratio"]) for r in tiny) < 2.0
    pytest.importorskip("matplotlib")
    assert (out / "inverse_stability.png").stat().st_size > 10_000
    assert "wrote" in text


def test_stability_cli(tmp_path, capsys):
    a = Network.initialize(Architecture(2, (4,), 1), seed=0)
    W1, W2 = a.weights
    b1, b2 = a.biases
    W2s = np.array(W2)
    W2s[:, 0] /= 2                                  # neuron 0 split: half stays, half moves
    # a factor 4 keeps the direction exactly (3 * w rounds, and is then no longer redundant)
    dup = Network.from_weights([np.vstack([W1, 4 * W1[:1]]), np.hstack([W2s, W2s[:, :1] / 4])],
                               [np.hstack([b1, 4 * b1[:1]]), b2])
    pa, pb = tmp_path / "a.npz", tmp_path / "b.npz"
    a.save(pa)
    dup.save(pb)
    out = tmp_path / "out"
    assert main(["stability", str(pb), "--against", str(pa), "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "redundant" in text and "canonical form: 5 neurons -> 4" in text
    report = json.loads((out / "stability.json").read_text())
    assert report["network"]["conditions"]["conditions"]["C.2"] is False
    # dup realizes the same function as a (neuron 4 repeats neuron 0's direction)
    assert report["against"]["sobolev"]["value"] == pytest.approx(0.0, abs=1e-9)
    canon = Network.load(out / "canonical.npz")
    assert canon.arch.hidden == (4,) and canon.arch.inputs == 4
    data = tmp_path / "d.npz"
    X = np.random.default_rng(0).normal(size=(40, 2))
    np.savez(data, X=X, y=X[:, 0])
    assert main(["stability", str(pa), "--data-file", str(data), "--out", str(tmp_path / "o3"),
                 "--radius", "0"]) == 0
    assert "dead on data (40 rows)" in capsys.readouterr().out
    assert main(["stability", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "o2")]) == 2
    assert "NET" in capsys.readouterr().err
