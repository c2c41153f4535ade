"""Issue 19: the command-line walk-through of docs/guide/cli.md runs exactly as written.

Every ```bash block of the guide is extracted (so the documented lines cannot rot), split as a
shell would (``\\`` continuations, quotes, ``*`` globs, ``#`` comments) and run in order, in one
empty folder, through ``topoanalysis.cli.main``. README's "Command line" walk-through must be
the same lines (checked here, so running the guide runs it too).
"""

import glob
import json
import os
import re
import shlex
import time

import pytest

from topoanalysis.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, "docs", "guide", "cli.md")
README = os.path.join(ROOT, "README.md")
_BASH = re.compile(r"^```bash[^\n]*\n(.*?)^```", re.S | re.M)


def bash_commands(text):
    """The command lines of every ```bash block of a Markdown text, in order."""
    commands = []
    for block in _BASH.findall(text):
        block = block.replace("\\\n", " ")
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def readme_commands():
    text = open(README, encoding="utf-8").read()
    section = text[text.index("## Command line"):]
    section = section[:section.index("\n## ", 3)] if "\n## " in section[3:] else section
    return bash_commands(section)


def test_extractor():
    text = "x\n```bash\ntopoanalysis a 'b c' \\\n  --d  # note\n# only a comment\n```\n" \
           "```python\nprint(1)\n```\n"
    assert bash_commands(text) == [["topoanalysis", "a", "b c", "--d"]]


def test_readme_walkthrough_is_the_guides():
    guide = bash_commands(open(GUIDE, encoding="utf-8").read())
    readme = readme_commands()
    assert readme, "README's Command line section has no bash block"
    assert readme == guide


def test_walkthrough_runs_as_written(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib").use("Agg")
    commands = bash_commands(open(GUIDE, encoding="utf-8").read())
    subcommands = [c[1] for c in commands]
    assert subcommands == ["train", "critical", "stability", "connect", "barrier", "slice"]
    monkeypatch.chdir(tmp_path)
    timings = []
    for words in commands:
        assert words[0] == "topoanalysis"
        argv = []
        for w in words[1:]:  # the shell's glob expansion
            argv += sorted(glob.glob(w)) if "*" in w else [w]
        t0 = time.perf_counter()
        code = main(argv)
        out = capsys.readouterr()
        assert code == 0, (words, out.err)
        assert "deprecated" not in out.err  # the docs use the current vocabulary
        timings.append((words[1], round(time.perf_counter() - t0, 2)))
    print("walk-through (command, seconds):", timings)
    # every command wrote only into its --out folder, each with a complete manifest
    folders = [w[w.index("--out") + 1] for w in commands]
    assert sorted(os.listdir(tmp_path)) == sorted(folders)
    for folder, words in zip(folders, commands):
        manifest = json.loads((tmp_path / folder / "manifest.json").read_text())
        assert manifest["command"] == words[1] and manifest["complete"]
    # the same saved networks all along
    report = json.loads((tmp_path / "critical" / "critical.json").read_text())
    assert report["network"] == "run/network_0.npz" and report["data"] == "wu_five_point"
    assert report["verdict"]["verdict"] in ("local minimum", "saddle", "not stationary",
                                            "undetermined")
    barrier = json.loads((tmp_path / "barrier" / "barrier.json").read_text())
    assert barrier["n_minima"] == 3
    surface = json.loads((tmp_path / "slice" / "slice.json").read_text())
    assert surface["kind"] == "plane" and len(surface["loss"]) == 21
    assert sum(t for _, t in timings) < 60  # ~8 s on a 2-core laptop
