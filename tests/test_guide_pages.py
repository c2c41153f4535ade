"""The python blocks of the glossary and results guide pages run (like README blocks)."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["docs/guide/glossary.md", "docs/guide/results.md", "docs/guide/freeman_bruna.md"]


@pytest.mark.parametrize("page", PAGES)
def test_guide_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = open(os.path.join(ROOT, page), encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, f"{page} has no python blocks"
    namespace = {}
    for code in blocks:
        exec(compile(code, page, "exec"), namespace)
