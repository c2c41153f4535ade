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


# --- the guide pages of the documentation site ------------------------------------------------
GUIDE = os.path.join(ROOT, "docs", "guide")


def guide_pages():
    if not os.path.isdir(GUIDE):
        return []
    return sorted(f for f in os.listdir(GUIDE) if f.endswith(".md"))


def run_blocks(path, tmp_path, monkeypatch):
    """Run the python blocks of one Markdown file in order, in one fresh namespace, in
    ``tmp_path``; returns ``[(line, seconds), ...]``."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__guide__"}
    name = os.path.relpath(path, ROOT)
    timings = []
    for line, code in python_blocks(text):
        t0 = time.perf_counter()
        try:
            exec(compile(code, f"{name}:{line}", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - report which block failed, then fail
            pytest.fail(f"{name} python block at line {line} failed: "
                        f"{type(exc).__name__}: {exc}")
        timings.append((line, time.perf_counter() - t0))
    return timings


@pytest.mark.parametrize("page", guide_pages() or ["(none)"])
def test_guide_python_blocks_run(page, tmp_path, monkeypatch):
    if page == "(none)":
        pytest.skip("docs/guide has no pages")
    pytest.importorskip("matplotlib").use("Agg")
    path = os.path.join(GUIDE, page)
    timings = run_blocks(path, tmp_path, monkeypatch)
    print(f"{page} blocks (line, seconds):", [(n, round(t, 2)) for n, t in timings])


def test_guide_runner_uses_one_namespace_per_file_and_a_tmp_folder(tmp_path, monkeypatch):
    a = tmp_path / "a.md"
    a.write_text("```python\nx = 1\nopen('made.txt', 'w').write('1')\n```\n"
                 "```python\nassert x == 1\n```\n")
    b = tmp_path / "b.md"
    b.write_text("```python\nassert 'x' not in dir()\n```\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    assert len(run_blocks(str(a), run_dir, monkeypatch)) == 2
    assert (run_dir / "made.txt").exists()
    run_blocks(str(b), run_dir, monkeypatch)
    bad = tmp_path / "c.md"
    bad.write_text("```python\nraise ValueError('boom')\n```\n")
    with pytest.raises(pytest.fail.Exception, match="c.md python block at line 2"):
        run_blocks(str(bad), run_dir, monkeypatch)


def test_readme_is_short_and_links_its_guide_pages():
    """Issue 18: the README is what a newcomer needs (<= 300 lines); the long sections live in
    docs/guide/ and every guide page the README links exists."""
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    assert text.count("\n") <= 300, f"README.md has {text.count(chr(10))} lines (at most 300)"
    links = re.findall(r"\]\((docs/guide/[^)#]+)", text)
    assert links, "README.md links no guide page"
    for link in links:
        assert os.path.exists(os.path.join(ROOT, link)), f"README.md links a missing {link}"
    for page in guide_pages():
        assert f"docs/guide/{page}" in text, f"README.md does not link docs/guide/{page}"
