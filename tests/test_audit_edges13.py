"""Edge-case audit 13: io, torch_interop, sweep, report, datasets, init and the CLI fronts."""

import os

import numpy as np
import pytest

from topoanalysis.exceptions import TopoAnalysisError, ValidationError
from topoanalysis.io import FileError, load_data, load_network, read_json
from topoanalysis.network import Architecture, Network


# --- io -------------------------------------------------------------------------------------
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_read_json_refuses_non_finite_literals(tmp_path, literal):
    p = tmp_path / "r.json"
    p.write_text('{"a": %s}' % literal)
    with pytest.raises(FileError, match=f"strict JSON.*{literal}"):
        read_json(p)


def test_read_json_empty_file_is_not_called_npz(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("")
    with pytest.raises(FileError, match="must be a JSON file; .* is empty") as e:
        read_json(p)
    assert ".npz" not in str(e.value)


def test_load_network_non_path_is_one_line():
    with pytest.raises(FileError, match="must be a path; got int"):
        load_network(3)


def _net_file(tmp_path, **over):
    net = Network.initialize(Architecture(2, (3,), 1), seed=0)
    net.save(tmp_path / "n.npz")
    arrays = dict(np.load(tmp_path / "n.npz"))
    arrays.update(over)
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


@pytest.mark.parametrize("key, value", [("negative_slope", np.array("x")),
                                        ("negative_slope", np.array(1j)),
                                        ("negative_slope", np.array([0.1, 0.2])),
                                        ("inputs", np.array([2, 2]))])
def test_network_file_bad_scalars_name_the_key(tmp_path, key, value):
    with pytest.raises(FileError, match=f"`{key}` must be one"):
        load_network(_net_file(tmp_path, **{key: value}))


def test_network_file_astronomic_size_message_is_short(tmp_path):
    with pytest.raises(FileError, match="309-digit number of parameters") as e:
        load_network(_net_file(tmp_path, hidden=np.array([1e308])))
    assert len(str(e.value)) < 200


@pytest.mark.skipif(np.finfo(np.longdouble).max <= np.finfo(np.float64).max,
                    reason="long double is float64 here")
def test_load_data_long_double_beyond_float64_no_warning(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.full((3, 2), np.longdouble("1e400")), y=np.ones(3))
    with np.errstate(all="raise"):
        with pytest.raises(FileError, match="must be finite"):
            load_data(tmp_path / "d.npz")


# --- torch_interop --------------------------------------------------------------------------
def _state(W0):
    return {"0.weight": W0, "2.weight": np.ones((1, 3))}


@pytest.mark.parametrize("W0, what", [(np.ones((3, 2)) + 1j, "complex"),
                                      (np.array([["1", "2"]] * 3), "strings"),
                                      (np.ones((3, 2), bool), "booleans")])
def test_from_torch_refuses_non_real_numpy_state(W0, what):
    from topoanalysis.torch_interop import from_torch

    with pytest.raises(ValidationError, match=f"real numbers; got {what}"):
        from_torch(_state(W0), activation="relu")


def test_from_torch_object_array_of_fractions_still_read():
    from fractions import Fraction

    from topoanalysis.torch_interop import from_torch

    W0 = np.array([[Fraction(1, 4), 2]] * 3, dtype=object)
    assert from_torch(_state(W0), activation="relu").params[0] == 0.25


def test_from_torch_meta_device_is_one_line():
    torch = pytest.importorskip("torch")
    from topoanalysis.torch_interop import from_torch

    nn = torch.nn
    module = nn.Sequential(nn.Linear(2, 3, device="meta"), nn.ReLU(),
                           nn.Linear(3, 1, device="meta"))
    with pytest.raises(ValidationError, match="'meta' device"):
        from_torch(module)
    with pytest.raises(ValidationError, match="'meta' device"):
        from_torch(module.state_dict(), activation="relu")


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32"])
def test_to_torch_narrow_dtype_overflow_refused(name):
    torch = pytest.importorskip("torch")
    from topoanalysis.torch_interop import to_torch

    big = Network(Architecture(2, (3,), 1), np.full(13, 1e308))
    with pytest.raises(ValidationError, match=f"`dtype` torch.{name} cannot hold"):
        to_torch(big, dtype=getattr(torch, name))
    small = Network.initialize(Architecture(2, (3,), 1), seed=0)
    assert to_torch(small, dtype=getattr(torch, name))[0].weight.dtype == getattr(torch, name)


# --- sweep ----------------------------------------------------------------------------------
def test_sweep_non_utf8_file_is_one_line(tmp_path):
    from topoanalysis.sweep import run_sweep

    out = tmp_path / "s.csv"
    out.write_bytes(b"\xff\xfe\n")
    with pytest.raises(FileError, match="not a UTF-8 CSV"):
        run_sweep([{"a": 1}], lambda c: {"x": 1}, out, progress=False)


def test_sweep_bad_cells_and_func(tmp_path):
    from topoanalysis.sweep import completed_cells, run_sweep

    with pytest.raises(ValidationError, match="`cells` must be dicts"):
        run_sweep([1, 2], lambda c: {"x": 1}, tmp_path / "a.csv", progress=False)
    with pytest.raises(ValidationError, match="`func` must be callable"):
        run_sweep([{"a": 1}], None, tmp_path / "b.csv", progress=False)
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(FileError, match="got the folder"):
        completed_cells(tmp_path / "d.csv", ["a"])


# --- init -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(scheme="normal", fan_in=2, fan_out=3), "`std` must be given"),
    (dict(scheme="kaiming_normal", fan_in=0, fan_out=3), "`fan_in` must be an integer >= 1"),
    (dict(scheme="xavier_normal", fan_in=2, fan_out=-1), "`fan_out` must be an integer >= 1"),
    (dict(scheme="pytorch", fan_in=float("nan"), fan_out=3), "`fan_in` must be an integer"),
    (dict(scheme="kaiming_normal", fan_in=2, fan_out=3, gain_value="x"), "`gain_value`"),
    (dict(scheme="normal", fan_in=2, fan_out=3, std=float("inf")), "`std` must be a finite"),
])
def test_layer_std_refuses_bad_input(kwargs, match):
    from topoanalysis.init import layer_std

    with np.errstate(all="raise"):
        with pytest.raises(ValidationError, match=match):
            layer_std(**kwargs)


def test_layer_std_arrays_still_work():
    from topoanalysis.init import layer_std

    sd = layer_std("kaiming_normal", np.array([1, 4]), np.array([2, 2]), gain_value=2.0)
    assert np.allclose(sd, [2.0, 1.0])


# --- datasets -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0, 2), (3, 0)])
def test_dataset_refuses_empty(shape):
    from topoanalysis.datasets import Dataset

    with pytest.raises(ValidationError, match="at least one row and one column"):
        Dataset(np.ones(shape), np.ones(shape[0]))


@pytest.mark.parametrize("column", [[1e308, -1e308, 1e308, -1e308], [1e300, -1e300, 0.0, 0.0],
                                    [1e-300, 3e-300, 5e-300, 0.0]])
def test_standardize_extreme_columns(column):
    from topoanalysis.datasets import Dataset

    X = np.array(column)[:, None]
    with np.errstate(all="raise"):
        s = Dataset(X, np.ones(4)).split(test_size=0.25, seed=0, standardize=True)
    assert np.all(s.scale > 0) and np.all(np.isfinite(s.scale))
    assert np.allclose(s.X_train.std(axis=0), 1.0)
    assert np.allclose(s.X_train * s.scale + s.mean, X[s.train_indices], rtol=1e-12,
                       atol=1e-12 * np.max(np.abs(X)))


# --- report ---------------------------------------------------------------------------------
def test_report_escape_replaces_undecodable_file_name_bytes():
    from topoanalysis.report import _esc

    name = os.fsdecode(b"r<b>&\xff")
    text = _esc(name)
    assert text == "r&lt;b&gt;&amp;\ufffd"
    text.encode("utf-8")


def test_analyze_report_with_undecodable_folder_name(tmp_path):
    from topoanalysis.cli import main

    out = os.path.join(os.fsdecode(bytes(tmp_path)), os.fsdecode(b"r<b>&\xff"))
    assert main(["analyze", "--hidden", "2", "--seeds", "1", "--steps", "2", "--no-train",
                 "--quiet", "--out", out]) == 0
    with open(os.path.join(out, "report.html"), encoding="utf-8") as fh:
        page = fh.read()
    assert "<script" not in page and "\ufffd" in page


# --- CLI: sizes from flags are refused before any allocation --------------------------------
def test_cli_components_huge_hidden_refused_fast(capsys):
    from topoanalysis.cli import main

    assert main(["components", "--inputs", "2", "--hidden", "100000000"]) == 2
    err = capsys.readouterr().err
    assert "budget" in err and "--hidden" in err and "Traceback" not in err


def test_cli_train_huge_n_networks_refused(tmp_path, capsys):
    from topoanalysis.cli import main

    np.savez(tmp_path / "d.npz", X=np.ones((4, 2)), y=np.ones(4))
    assert main(["train", "--inputs", "2", "--hidden", "10000000", "--n-networks", "4",
                 "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "budget" in err and "--n-networks" in err
    assert not (tmp_path / "o").exists()


def test_a_network_file_with_boolean_parameters_is_refused(tmp_path):
    from topoanalysis import Architecture, Network
    from topoanalysis.io import FileError
    from topoanalysis.network import load_network

    arch = Architecture(2, (2,), 1)
    path = Network.initialize(arch, seed=0).save(tmp_path / "n.npz")
    arrays = dict(np.load(path))
    arrays["params"] = arrays["params"] > 0
    np.savez(tmp_path / "b.npz", **arrays)
    with pytest.raises(FileError, match="booleans"):
        load_network(tmp_path / "b.npz")


def test_sweep_cells_of_float32_and_float64_values_are_distinct(tmp_path):
    from topoanalysis.sweep import run_sweep

    out = tmp_path / "s.csv"
    cells = [{"x": np.float32(0.1)}, {"x": 0.1}, {"x": np.int64(3)}]
    calls = []

    def func(cell):
        calls.append(cell["x"])
        return {"y": float(cell["x"]) * 2}

    run_sweep(cells, func, out=out, progress=False)
    assert len(calls) == 3            # 0.1 in float32 is another cell than 0.1
    lines = out.read_text().splitlines()
    assert lines[1].startswith("0.10000000149011612,") and lines[2].startswith("0.1,")
    run_sweep(cells, func, out=out, progress=False)
    assert len(calls) == 3            # the rerun resumes: nothing runs again
