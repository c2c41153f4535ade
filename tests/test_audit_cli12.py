"""Audit of the command line's input handling and long-work behaviour (session 12).

Each test is one finding: a traceback, a silent NaN or inf, an error line that blamed a
parameter the user never gave, a value silently ignored or truncated, or an interrupt message
promising a resume that does not exist.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from topoanalysis import Architecture, Network
from test_cli_hardening import one_line_error, run  # noqa: E402 (the shared CLI checks)


def run_quietly(argv, capsys):
    """``run``, asserting that no warning was emitted: on the command line a warning is printed
    on stderr before the error line, which must then be the only one."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(argv, capsys)
    assert not caught, [str(w.message) for w in caught]
    return result


@pytest.fixture
def nets(tmp_path):
    """Two 1-input width-4 networks and one whose outputs overflow float64 (1e160 weights)."""
    arch = Architecture(1, (4,), 1)
    a = Network.initialize(arch, seed=0)
    return {"a": a.save(tmp_path / "a.npz"),
            "b": Network.initialize(arch, seed=1).save(tmp_path / "b.npz"),
            "huge": Network(arch, a.params * 1e160).save(tmp_path / "huge.npz")}


# --- tracebacks -----------------------------------------------------------------------------
@pytest.mark.parametrize("extra, name", [
    (["--bias-init", "normal", "--bias-std", "1e300"], "`bias_std` (--bias-std)"),
])
def test_probability_scales_beyond_float64_are_one_line(extra, name, tmp_path, capsys):
    """The quadrature (hidden biases of another law) raised OverflowError from ``s ** 4`` and a
    ValueError from ``np.arange`` when the variance underflowed; the culprit was always called
    `bias_std` for a scheme other than normal."""
    argv = ["probability", "--d", "3", "--l", "3", "--hidden-bias", "--no-plot", *extra,
            "--out", tmp_path / "o"]
    line = one_line_error(*run(argv, capsys)[::2], "probability")
    assert name in line and "float64" in line
    assert not os.path.exists(tmp_path / "o")


def test_probability_weights_far_above_the_bias_scale_are_answered():
    """Since the quadrature is scale-invariant (audit 13), weights of std 1e300 beside a
    pytorch bias are answered: the bias no longer matters, as with a zero bias."""
    from topoanalysis.obstruction.probability import pathological_probability

    far = pathological_probability(3, 3, 1, "normal", std=1e300, bias_init="pytorch",
                                   hidden_bias=True)
    zero = pathological_probability(3, 3, 1, "normal", std=1.0, bias_init="zeros",
                                    hidden_bias=True)
    assert abs(float(far.p) - float(zero.p)) <= float(far.error) + 1e-14
    # both laws at 1e-300: the same probability as both at 1
    tiny = pathological_probability(3, 3, 1, "normal", std=1e-300, bias_init="normal",
                                    bias_std=1e-300, hidden_bias=True)
    one = pathological_probability(3, 3, 1, "normal", std=1.0, bias_init="normal",
                                   bias_std=1.0, hidden_bias=True)
    assert abs(float(tiny.p) - float(one.p)) <= float(tiny.error) + float(one.error) + 1e-14


def _network_file(tmp_path, **changes):
    base = dict(np.load(Network.initialize(Architecture(1, (4,), 1), seed=0)
                        .save(tmp_path / "base.npz")))
    base.update(changes)
    path = tmp_path / "edited.npz"
    np.savez(path, **base)
    return path


@pytest.mark.parametrize("changes, fragment", [
    ({"inputs": np.array(np.inf)}, "`inputs` must hold whole numbers; got inf"),
    ({"inputs": np.array(1.7)}, "`inputs` must hold whole numbers; got 1.7"),
    ({"hidden": np.array([4.9])}, "`hidden` must hold whole numbers; got [4.9]"),
    ({"hidden_bias": np.array("False")}, "`hidden_bias` must be True or False"),
])
def test_network_file_sizes_are_never_truncated(changes, fragment, tmp_path, capsys):
    """``inputs = inf`` in a network file was an OverflowError traceback; ``1.7`` and ``4.9``
    were read as 1 and 4, and the string "False" as True, without a word."""
    path = _network_file(tmp_path, **changes)
    line = one_line_error(*run(["components", path], capsys)[::2], "components")
    assert "edited.npz" in line and fragment in line


def test_npz_declaring_a_huge_array_names_the_file(tmp_path, capsys):
    """A header declaring 800 GB gave "out of memory ... make it smaller", naming no file."""
    import zipfile

    path = tmp_path / "bomb.npz"
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 1), }"
    header = (header + " " * (118 - len(header)) + "\n").encode()
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 80
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", npy)
        z.writestr("y.npy", npy)
    line = one_line_error(*run(["train", "-l", "2", "--data", path, "--out", tmp_path / "o"],
                               capsys)[::2], "train")
    assert "bomb.npz" in line and "`--data`" in line


# --- silent inf / NaN, and errors blaming a parameter never given ----------------------------
def test_interpolate_refuses_a_loss_beyond_float64(nets, tmp_path, capsys):
    """``interpolate`` wrote L(a) = inf, a barrier of NaN and an inf/NaN CSV, exit 0 (after a
    DivergenceWarning and three RuntimeWarnings)."""
    argv = ["interpolate", nets["huge"], nets["b"], "--data", "wu5", "--out", tmp_path / "o"]
    line = one_line_error(*run_quietly(argv, capsys)[::2], "interpolate")
    assert "`A` must have a finite loss" in line
    assert not os.path.exists(tmp_path / "o")
    argv = ["interpolate", nets["a"], nets["huge"], "--data", "wu5", "--out", tmp_path / "o"]
    assert "`B` must have a finite loss" in one_line_error(*run(argv, capsys)[::2],
                                                           "interpolate")


def test_connect_names_the_network_whose_loss_overflows(nets, tmp_path, capsys):
    """The error blamed `threshold` ("must be a finite real number; got inf"), a flag the user
    did not give: the default threshold is the larger end loss. A DivergenceWarning came first
    (also in ``barrier``, whose error line was right)."""
    argv = ["connect", nets["huge"], nets["b"], "--data", "wu5", "--bead-steps", "5",
            "--max-depth", "1", "--out", tmp_path / "o"]
    line = one_line_error(*run_quietly(argv, capsys)[::2], "connect")
    assert "`A` must have a finite loss" in line and "threshold" not in line
    argv = ["barrier", nets["a"], nets["huge"], "--data", "wu5", "--out", tmp_path / "o"]
    line = one_line_error(*run_quietly(argv, capsys)[::2], "barrier")
    assert "`networks[1]` must have a finite loss" in line


def test_slice_names_the_network_and_its_own_flag(nets, tmp_path, capsys):
    """A 1e160 network gave "`directions` must contain only finite numbers" (an internal
    array); the grid budget told the user to reduce --n-points, which slice does not have."""
    argv = ["slice", nets["huge"], "--data", "wu5", "--grid-points", "5", "--out",
            tmp_path / "o"]
    line = one_line_error(*run_quietly(argv, capsys)[::2], "slice")
    assert "huge.npz" in line and "finite loss" in line and "directions" not in line
    argv = ["slice", nets["a"], "--data", "wu5", "--grid-points", "100000", "--out",
            tmp_path / "o"]
    assert "reduce --grid-points" in one_line_error(*run(argv, capsys)[::2], "slice")


def test_data_file_without_columns_is_named(tmp_path, capsys):
    """``X`` of shape (10, 0) was blamed on `inputs` (--inputs), which was not given."""
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((10, 0)), y=np.zeros(10))
    line = one_line_error(*run(["train", "-l", "2", "--data", path, "--out", tmp_path / "o"],
                               capsys)[::2], "train")
    assert "d.npz" in line and "at least one column" in line and "--inputs" not in line


@pytest.mark.parametrize("extra, why", [
    (["--lr", "1e300"], "loss_0: diverged"),
    (["--target-loss", "0.3"], "loss_0: stopped after 0 steps (target loss reached)"),
])
def test_loss_curves_say_why_a_value_is_not_finite(extra, why, tmp_path, capsys):
    """``loss_curves.csv`` held bare ``nan`` after a network diverged or reached its target
    (``write_csv`` asks its callers for a column saying why); the steps were written 10.0."""
    argv = ["train", "-l", "3", "--data", "wu5", "--steps", "20", "-q", *extra,
            "--out", tmp_path / "o"]
    assert run(argv, capsys)[0] == 0
    lines = (tmp_path / "o" / "loss_curves.csv").read_text().splitlines()
    assert lines[0] == "step,loss_0,note" and lines[1].startswith("0,")
    assert lines[2].startswith("10,nan,") and lines[2].endswith(why)


# --- values silently ignored ------------------------------------------------------------------
@pytest.mark.parametrize("command", ["components", "laws"])
def test_empty_json_path_is_refused(command, tmp_path, capsys):
    """``--json ""`` was ignored (no file, exit 0) where ``critical`` refuses it."""
    line = one_line_error(*run([command, "-d", "2", "-l", "3", "--json", ""], capsys)[::2],
                          command)
    assert "`--json`" in line


@pytest.mark.parametrize("argv", [
    ["components", "-d", "2", "-l", "3"],
    ["critical", "{net}", "--data", "wu5", "-q"],
])
@pytest.mark.parametrize("name", ["manifest.json", ".topoanalysis.lock"])
def test_json_copy_is_not_the_folders_manifest_or_lock(argv, name, nets, tmp_path, capsys):
    """``--json OUT/manifest.json`` was overwritten by the manifest (critical: the report lost)
    or overwrote it (components: every rerun then refused, "unreadable manifest"); the lock was
    removed with the report in it."""
    argv = [a.format(net=nets["a"]) for a in argv]
    out = tmp_path / "o"
    line = one_line_error(*run(argv + ["--out", out, "--json", out / name], capsys)[::2],
                          argv[0])
    assert f"`--json` must not be the {name}" in line
    assert not os.path.exists(out)


# --- interruption -----------------------------------------------------------------------------
def test_interrupted_flow_does_not_promise_a_resume(tmp_path, capsys, monkeypatch):
    """``train --optimizer flow`` keeps no checkpoint, yet Ctrl-C said "run the same command
    again to resume"."""
    import topoanalysis.dynamics as dynamics

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dynamics, "train", interrupt)
    code, _, err = run(["train", "-l", "2", "--data", "wu5", "--optimizer", "flow", "--t-end",
                        "1", "-q", "--out", tmp_path / "o"], capsys)
    assert code == 130 and "resume" not in err and "starts over" in err


# --- the entry point ---------------------------------------------------------------------------
def test_python_dash_m_topoanalysis(tmp_path):
    """``python -m topoanalysis`` had no ``__main__`` ("is a package and cannot be directly
    executed")."""
    import topoanalysis

    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(topoanalysis.__file__)))
    proc = subprocess.run([sys.executable, "-m", "topoanalysis", "components", "-d", "0", "-l",
                           "3"], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=120)
    assert proc.returncode == 2 and "`inputs` (--inputs) must be an integer >= 1" in proc.stderr
