"""Session 14 audit of the top layer (Landscape, report.json/report.html, ``analyze``)."""

import json
import warnings

import pytest

from topoanalysis import ValidationError
from topoanalysis.analyze import analyze

_SMALL = dict(hidden=2, seeds=1, steps=5, n_points=5, progress=False)


@pytest.mark.parametrize("kwargs, names", [
    # training with a huge rate grows the parameters past the float64 range of c_k
    (dict(scheme="normal", std=1e60, lr=1e30), ("`lr`", "`std`")),
    # std inside the documented range, but the trained networks' outputs are beyond what the
    # critical-point certificates take
    (dict(scheme="normal", std=1e100), ("`lr`", "`std`")),
])
def test_analyze_out_of_range_networks_name_the_arguments(kwargs, names):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # no NumPy warning leaks out
        with pytest.raises(ValidationError) as info:
            analyze(out=None, **{**_SMALL, **kwargs})
    msg = str(info.value)
    assert len(msg.splitlines()) == 1
    assert all(n in msg for n in names), msg
    assert "Reduce" in msg


def test_analyze_cli_out_of_range_is_one_line_naming_the_flags(tmp_path, capsys):
    from topoanalysis.cli import main

    rc = main(["analyze", "-q", "--out", str(tmp_path / "o"), "--seeds", "1", "--steps", "5",
               "--hidden", "2", "--init", "normal", "--init-std", "1e60", "--lr", "1e30"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err and "encountered" not in err   # no NumPy warning
    assert err.strip().splitlines()[-1].count("error:") == 1
    assert "`lr`" in err and "(--init-std)" in err


def test_report_json_records_std_and_says_nulls(tmp_path):
    """report.json records every setting that decides its numbers (``std`` of the scheme
    normal), and says that null stands for NaN/inf (docs/guide/errors.md)."""
    pytest.importorskip("matplotlib")
    rep = analyze(out=str(tmp_path), scheme="normal", std=0.25, train=False,
                  **{k: v for k, v in _SMALL.items()})
    assert rep.config["std"] == 0.25
    d = json.loads((tmp_path / "report.json").read_text())
    assert d["config"]["std"] == 0.25
    assert "null" in d["json_null"]
    assert "std" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_report_records_the_canonical_scheme_and_no_ignored_std():
    rep = analyze(out=None, scheme="Kaiming-Normal", std=0.5, train=False, **_SMALL)
    assert rep.config["scheme"] == "kaiming_normal" and rep.config["std"] is None
