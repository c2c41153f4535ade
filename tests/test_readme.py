"""Every ```python block of README.md runs, in order, in one namespace, in a temporary folder.

A snippet therefore cannot rot: renaming a function or changing a signature without updating
the README fails this test, which names the block by its first line number. The extractor is
generic (any section, any number of blocks); blocks share a namespace as a reader would run
them one after the other in a session.
"""

import os
import re
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def python_blocks(text):
    """``[(line number of the block's first code line, code), ...]`` of a Markdown text."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def test_extractor_finds_blocks():
    text = "intro\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = x + 1\n")]


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib").use("Agg")
    with open(README, encoding="utf-8") as fh:
        blocks = python_blocks(fh.read())
    assert blocks, "README.md has no python blocks"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    timings = []
    for line, code in blocks:
        t0 = time.perf_counter()
        try:
            exec(compile(code, f"README.md:{line}", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - report which block failed, then fail
            pytest.fail(f"README.md python block at line {line} failed: "
                        f"{type(exc).__name__}: {exc}")
        timings.append((line, time.perf_counter() - t0))
    print("README blocks (line, seconds):", [(n, round(t, 2)) for n, t in timings])
