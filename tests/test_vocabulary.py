"""Issue 19: one command-line vocabulary.

Builds every subcommand's parser and checks, by introspecting the argparse actions, that a flag
means the same thing wherever it appears (same option strings, type, choices, default, nargs,
metavar, action and help text); that the shared groups are where they belong; that every
bundled data name (canonical and alias) loads in every subcommand taking data; that old
spellings still work with one notice; and that no subcommand writes outside its ``--out``.
"""

import argparse
import json
import os
import sys
import types

import numpy as np
import pytest

from topoanalysis import Architecture, Network, cli
from topoanalysis.cli import build_parser, data_of, main, networks_of
from topoanalysis.datasets import DATA_ALIASES, dataset_names, load_dataset

DATA_COMMANDS = ["train", "interpolate", "critical", "stability", "connect", "barrier"]
NETWORK_COMMANDS = {"components": "NET", "train": "NET", "interpolate": "A B",
                    "critical": "NET", "stability": "A B", "connect": "A B", "barrier": "A B"}
ALL = ["components", "probability", "train", "interpolate", "analyze", "critical",
       "stability", "connect", "barrier"]


def subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def signature(action):
    return (type(action).__name__, tuple(sorted(action.option_strings)), action.dest,
            getattr(action.type, "__qualname__", action.type),
            tuple(action.choices) if action.choices else None, repr(action.default),
            action.nargs, action.metavar, action.help)


def options(sp):
    return [a for a in sp._actions if a.option_strings and a.help != argparse.SUPPRESS
            and not isinstance(a, argparse._HelpAction)]


def test_every_subcommand_is_built():
    assert set(ALL) <= set(subparsers())


def test_same_flag_same_meaning_everywhere():
    seen = {}
    for name, sp in subparsers().items():
        for a in options(sp):
            for flag in a.option_strings:
                seen.setdefault(flag, {}).setdefault(signature(a), []).append(name)
    differing = {flag: list(v.values()) for flag, v in seen.items() if len(v) > 1}
    assert not differing, f"flags defined differently across subcommands: {differing}"


@pytest.mark.parametrize("command", ALL)
def test_shared_groups(command):
    sp = subparsers()[command]
    flags = {f for a in options(sp) for f in a.option_strings}
    assert {"--quiet", "-q", "--force", "--threads", "--out"} <= flags
    if command in DATA_COMMANDS:
        assert {"--data", "--data-seed", "--n-samples", "--loss"} <= flags
    if command not in ("probability", "interpolate", "analyze"):  # nothing random there
        assert "--seed" in flags
    positional = [a for a in sp._actions if not a.option_strings]
    if command in NETWORK_COMMANDS:
        assert [a.dest for a in positional] == ["networks"]
        assert positional[0].metavar == "NET.npz"
    else:
        assert positional == []


def test_registry_is_the_one_list():
    names = dataset_names()
    assert names[:3] == ["breast_cancer", "wu_five_point", "cyclic_permutation"]
    help_text = next(a.help for a in options(subparsers()["critical"]) if a.dest == "data")
    for name in names + list(DATA_ALIASES):
        assert name in help_text
    assert load_dataset("wu5").X.shape == load_dataset("wu_five_point").X.shape == (5, 2)
    assert load_dataset("Wu-Five-Point", inputs=1).X.shape == (5, 1)


@pytest.mark.parametrize("command", DATA_COMMANDS)
@pytest.mark.parametrize("name", dataset_names() + list(DATA_ALIASES)
                         + ["WU5", "Cyclic-Permutation"])
def test_every_data_name_in_every_data_subcommand(command, name):
    nets = {"train": [], "interpolate": ["a.npz", "b.npz"], "critical": ["a.npz"],
            "stability": ["a.npz"], "connect": ["a.npz", "b.npz"],
            "barrier": ["a.npz", "b.npz"]}[command]
    args = build_parser().parse_args([command, *nets, "--data", name, "--n-samples", "20",
                                      "--data-seed", "3"])
    data = data_of(args)
    expected = load_dataset(name, n_samples=20, seed=3)
    assert data.name == expected.name
    np.testing.assert_array_equal(data.X, expected.X)
    np.testing.assert_array_equal(data.y, expected.y)
    assert data.loss == expected.loss


def test_a_data_file_everywhere(tmp_path):
    path = str(tmp_path / "d.npz")
    np.savez(path, X=np.ones((4, 2)), y=np.arange(4.0))
    for command in DATA_COMMANDS:
        nets = {"train": [], "critical": ["a"], "stability": ["a"]}.get(command, ["a", "b"])
        data = data_of(build_parser().parse_args([command, *nets, "--data", path]))
        assert data.X.shape == (4, 2) and data.loss == "mse"


def test_unknown_data_is_one_line(capsys, tmp_path):
    net = Network.initialize(Architecture(2, (3,), 1), seed=0).save(tmp_path / "n.npz")
    assert main(["critical", net, "--data", "wu6", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "`--data`" in err[1] and "wu5" in err[1]


@pytest.mark.parametrize("argv, expect", [
    (["components", "--network", "n.npz"], ["n.npz"]),
    (["train", "--network", "a.npz", "b.npz"], ["a.npz", "b.npz"]),
    (["interpolate", "--a", "a.npz", "--b", "b.npz"], ["a.npz", "b.npz"]),
    (["stability", "a.npz", "--against", "b.npz"], ["a.npz", "b.npz"]),
])
def test_old_network_spellings_work_with_one_notice(argv, expect, capsys):
    args = build_parser().parse_args(argv)
    assert networks_of(args) == expect
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == len([a for a in argv if a in ("--network", "--a", "--b", "--against")])
    assert all("deprecated" in line and "positional NET.npz" in line for line in err)


@pytest.mark.parametrize("argv, dest, value, new", [
    (["train", "--data-file", "d.npz"], "data", "d.npz", "--data PATH"),
    (["connect", "a", "b", "--lr", "0.1"], "bead_lr", 0.1, "--bead-lr"),
    (["barrier", "a", "b", "--steps", "7"], "bead_steps", 7, "--bead-steps"),
    (["train", "--rtol", "1e-3"], "flow_rtol", 1e-3, "--flow-rtol"),
    (["train", "--atol", "1e-9"], "flow_atol", 1e-9, "--flow-atol"),
])
def test_old_flag_spellings_work_with_one_notice(argv, dest, value, new, capsys):
    args = build_parser().parse_args(argv)
    assert getattr(args, dest) == value
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "deprecated" in err[0] and new in err[0]


def test_old_interpolate_spelling_runs(tmp_path, capsys):
    arch = Architecture(30, (2,), 1)
    a = Network.initialize(arch, seed=0).save(tmp_path / "a.npz")
    b = Network.initialize(arch, seed=1).save(tmp_path / "b.npz")
    out = tmp_path / "seg"
    assert main(["interpolate", "--a", a, "--b", b, "--n-points", "5", "--out", str(out)]) == 0
    old = json.loads((out / "barrier.json").read_text())
    assert main(["interpolate", a, b, "--n-points", "5", "--out", str(out)]) == 0  # same run
    assert json.loads((out / "barrier.json").read_text()) == old


def test_wrong_number_of_networks_is_one_line(capsys, tmp_path):
    a = Network.initialize(Architecture(30, (2,), 1), seed=0).save(tmp_path / "a.npz")
    for argv in (["interpolate", a], ["connect", a, a, a], ["barrier", a], ["critical"],
                 ["stability", a, a, a]):
        assert main(argv + ["--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2 and "`NET.npz` must be" in err[1], err
    assert not os.path.exists(tmp_path / "o")


def test_nothing_written_outside_out(tmp_path, monkeypatch, capsys):
    """No subcommand writes to the current folder except into its --out folder: critical's
    old default `critical_report.json` is gone; components writes nothing by default."""
    monkeypatch.chdir(tmp_path)
    net = Network.initialize(Architecture(1, (3,), 1), seed=0)
    os.mkdir("nets")
    net.save("nets/n.npz")
    assert main(["components", "nets/n.npz"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["nets"]
    assert main(["critical", "nets/n.npz", "--data", "wu5", "--perturbations", "5"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["nets", "topoanalysis_critical"]
    assert sorted(os.listdir(tmp_path / "topoanalysis_critical")) == [
        "critical.json", "manifest.json", "snapped.npz"]


def test_a_new_subcommand_adopts_the_vocabulary(monkeypatch, tmp_path, capsys):
    """The two-function protocol of docs/guide/cli.md: add_parser(subparsers) and run(args)."""
    module = types.ModuleType("topoanalysis_fake_slice")

    def add_parser(subparsers):
        p = subparsers.add_parser("fakeslice", help="test")
        cli.add_network_args(p, "2+", "the networks")
        cli.add_data_args(p)
        cli.add_output_args(p)
        cli.add_common_args(p)
        return p

    def run(args):
        data = data_of(args)
        print(len(networks_of(args)), data.name, cli.output_of(args))
        return 0

    module.add_parser, module.run = add_parser, run
    monkeypatch.setitem(sys.modules, "topoanalysis_fake_slice", module)
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ["topoanalysis_fake_slice"])
    assert main(["fakeslice", "a", "b", "c", "--data", "cyclic", "-q"]) == 0
    assert capsys.readouterr().out.split() == ["3", "cyclic_permutation",
                                               "topoanalysis_fakeslice"]
    assert main(["fakeslice", "a", "--data", "cyclic"]) == 2
    test_same_flag_same_meaning_everywhere()  # its shared flags match everyone's


def test_the_issues_example_now_works(tmp_path, monkeypatch, capsys):
    """Issue 19's report: train on wu_five_point, then critical with the same --data name
    (was: "`--data`: no such file 'wu_five_point'"). Fewer steps than the issue's 600,000."""
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "wu_five_point", "-l", "50", "--init", "normal",
                 "--init-std", "8e-6", "--lr", "1e-3", "--steps", "600", "--loss", "mse",
                 "--out", "run", "-q"]) == 0
    assert main(["critical", "run/network_0.npz", "--data", "wu_five_point",
                 "--perturbations", "10"]) == 0
    out = capsys.readouterr().out
    assert "verdict:" in out and "on wu_five_point" in out
    assert sorted(os.listdir(tmp_path)) == ["run", "topoanalysis_critical"]


def test_threads_flag_limits_the_engine_and_is_restored(tmp_path, capsys):
    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 cores")
    from topoanalysis.dynamics._engine import resolve_threads

    before = os.sched_getaffinity(0)
    seen = []

    def probe(args):
        seen.append(resolve_threads(None))
        return 0

    parser_func = cli.cmd_components
    try:
        cli.cmd_components = probe
        assert main(["components", "-d", "2", "-l", "2", "--threads", "1"]) == 0
    finally:
        cli.cmd_components = parser_func
    assert seen == [1] and os.sched_getaffinity(0) == before
