"""The file boundary: clear errors for bad files, atomic writes, strict JSON, output folders."""

import json
import os

import numpy as np
import pytest

from topoanalysis import Architecture, Network, ValidationError
from topoanalysis.io import (FileError, OutputFolder, ResourceError, atomic_path, check_memory,
                             load_data, load_network, save_network, to_jsonable, write_csv,
                             write_json)


@pytest.fixture
def net():
    return Network.initialize(Architecture(3, (4,), 1), seed=0)


def test_network_roundtrip_with_and_without_suffix(tmp_path, net):
    written = net.save(tmp_path / "net")
    assert written.endswith("net.npz")
    assert Network.load(tmp_path / "net") == net
    assert load_network(tmp_path / "net.npz") == net


@pytest.mark.parametrize("make, pattern", [
    (lambda p: None, "no such file"),
    (lambda p: open(p, "wb").close(), "is empty"),
    (lambda p: open(p, "wb").write(os.urandom(200)), "not an .npz"),
    (lambda p: np.savez(p, foo=1), "lacks the arrays"),
    (lambda p: os.mkdir(p), "folder"),
])
def test_load_network_errors_are_one_line(tmp_path, make, pattern):
    path = str(tmp_path / "bad.npz")
    make(path)
    with pytest.raises(FileError, match=pattern) as info:
        load_network(path)
    assert "\n" not in str(info.value) and "--network" in str(info.value)


def test_truncated_network_file(tmp_path, net):
    path = net.save(tmp_path / "net")
    data = open(path, "rb").read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
    with pytest.raises(FileError, match="truncated"):
        load_network(path)


def test_wrong_parameter_count(tmp_path, net):
    path = tmp_path / "net.npz"
    a = net.arch
    np.savez(path, params=net.params[:-1], inputs=a.inputs, hidden=np.array(a.hidden),
             outputs=a.outputs, hidden_bias=a.hidden_bias, output_bias=a.output_bias,
             activation=a.activation, negative_slope=a.negative_slope)
    with pytest.raises(FileError, match="parameters"):
        load_network(path)


def test_load_data(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.normal(size=(5, 2)), y=rng.normal(size=5))
    X, Y = load_data(tmp_path / "d.npz")
    assert X.shape == (5, 2) and Y.shape == (5, 1)
    np.savez(tmp_path / "c.npz", X=rng.normal(size=(5, 2)) + 1j, y=rng.normal(size=5))
    with pytest.raises(FileError, match="complex"):
        load_data(tmp_path / "c.npz")
    np.savez(tmp_path / "v.npz", X=rng.normal(size=5), y=rng.normal(size=5))
    with pytest.raises(FileError, match="dimensions"):
        load_data(tmp_path / "v.npz")
    np.savez(tmp_path / "r.npz", X=rng.normal(size=(5, 2)), y=rng.normal(size=4))
    with pytest.raises(FileError, match="rows"):
        load_data(tmp_path / "r.npz")
    np.savez(tmp_path / "o.npz", X=np.array([object()], dtype=object), y=rng.normal(size=4))
    with pytest.raises(FileError, match="pickle"):
        load_data(tmp_path / "o.npz")


def test_strict_json(tmp_path):
    path = write_json(tmp_path / "r.json", {"a": np.array([1.0, np.nan, np.inf]),
                                            "b": np.float32(2), "c": (np.int64(3),)})
    text = open(path).read()
    assert json.loads(text) == {"a": [1.0, None, None], "b": 2.0, "c": [3]}
    assert "NaN" not in text and "Infinity" not in text
    assert to_jsonable(-np.inf) is None


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, ["a", "b"], [[1, 2.5]])
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            open(tmp, "w").write("partial")
            raise RuntimeError("interrupted")
    assert open(path).read() == "a,b\n1,2.5\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_output_to_a_folder_or_unwritable(tmp_path, net):
    (tmp_path / "d").mkdir()
    with pytest.raises(FileError, match="folder"):
        write_json(tmp_path / "d", {})
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileError, match="a file"):
        with OutputFolder(tmp_path / "f", command="x"):
            pass
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(FileError, match="not writable"):
            save_network(net, ro / "n.npz")


def test_output_folder_manifest_lock_force(tmp_path):
    d = tmp_path / "run"
    with OutputFolder(d, command="train", settings={"lr": 0.1}) as out:
        write_json(out.path("a.json"), {})
        assert not out.resumed
        # a second run on the same folder while the first holds it
        with pytest.raises(FileError, match="in use"):
            with open(d / ".topoanalysis.lock", "w") as fh:
                fh.write(str(os.getppid()))
            with OutputFolder(d, command="train", settings={"lr": 0.1}):
                pass
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["complete"] and manifest["files"] == ["a.json"]
    with OutputFolder(d, command="train", settings={"lr": 0.1}) as out:
        assert out.resumed
    with pytest.raises(FileError, match="--force"):
        with OutputFolder(d, command="train", settings={"lr": 0.2}):
            pass
    with OutputFolder(d, command="train", settings={"lr": 0.2}, force=True):
        pass
    assert not (d / "a.json").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FileError, match="not written by topoanalysis"):
        with OutputFolder(other, command="train"):
            pass


def test_stale_lock_is_taken_over(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / ".topoanalysis.lock").write_text("999999999")
    with OutputFolder(d, command="x"):
        pass
    assert not (d / ".topoanalysis.lock").exists()


def test_check_memory():
    assert check_memory(1024, "a small array") == 1024
    with pytest.raises(ResourceError, match="n_networks"):
        check_memory(1e18, "the parameter stack", param="n_networks")
    with pytest.raises(ValidationError):
        check_memory(float("inf"), "anything")


def test_outputs_get_the_usual_file_mode(tmp_path):
    path = write_json(tmp_path / "r.json", {})
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask
