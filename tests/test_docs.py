"""The documentation site: API pages cover every ``__all__``, the gallery examples run, and the
Sphinx build has no warnings (skipped when Sphinx or its extensions are not installed)."""

import ast
import importlib
import os
import pathlib
import runpy
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("plot_*.py"))


def _conf():
    return runpy.run_path(str(DOCS / "conf.py"))   # also (re)writes docs/api/*.rst


def test_api_reference_lists_every_exported_function_and_class():
    pytest.importorskip("sphinx")
    conf = _conf()
    documented = set()
    for page in (DOCS / "api").glob("*.rst"):
        modname = None
        for line in page.read_text().splitlines():
            if line.startswith(".. currentmodule:: "):
                modname = line.split()[-1]
            elif line.startswith("   ") and not line.strip().startswith(":") and modname:
                obj = getattr(importlib.import_module(modname), line.strip())
                documented.add((obj.__module__, obj.__qualname__))
    import inspect

    for modname, _ in conf["API_MODULES"]:
        mod = importlib.import_module(modname)
        for name in conf["public_names"](mod):
            obj = getattr(mod, name)
            if inspect.isclass(obj) or callable(obj):
                assert (obj.__module__, obj.__qualname__) in documented, f"{modname}.{name}"
    # the new public pieces are there
    for mod, name in (("topoanalysis.landscape", "Landscape"),
                      ("topoanalysis.levelsets.slices", "random_slice"),
                      ("topoanalysis.levelsets.persistence", "merge_tree")):
        obj = getattr(importlib.import_module(mod), name)
        assert (obj.__module__, obj.__qualname__) in documented
    api = (DOCS / "api.rst").read_text()
    assert "api/topoanalysis_levelsets" in api


def test_index_includes_every_guide_page_and_the_gallery():
    index = (DOCS / "index.rst").read_text()
    assert ":glob:" in index and "guide/*" in index
    assert "auto_examples/index" in index and "figures" in index and "api" in index
    assert (DOCS / "guide" / "tour.md").exists()


def test_one_gallery_example_per_paper_and_capability():
    names = {p.stem for p in EXAMPLES}
    assert {"plot_obstruction", "plot_critical", "plot_degeneracy", "plot_levelsets",
            "plot_landscape_slices", "plot_persistence"} <= names
    for p in EXAMPLES:
        tree = ast.parse(p.read_text())
        doc = ast.get_docstring(tree)
        assert doc and doc.splitlines()[1].startswith("="), f"{p.name}: needs a title"
    assert (DOCS / "examples" / "README.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_gallery_example_runs(example, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib").use("Agg")
    pytest.importorskip("gudhi")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(example), run_name="__main__")
    import matplotlib.pyplot as plt

    assert plt.get_fignums(), f"{example.name} draws no figure"
    plt.close("all")


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path):
    for mod in ("sphinx", "pydata_sphinx_theme", "numpydoc", "myst_parser", "sphinx_gallery"):
        pytest.importorskip(mod)
    env = dict(os.environ, TOPOANALYSIS_DOCS_GALLERY="0", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    html = (tmp_path / "html")
    assert (html / "index.html").exists() and (html / "api.html").exists()
    assert (html / "guide" / "landscape.html").exists()


def test_api_reference_covers_every_public_module():
    """Names exported only by a module below a package (``critical.radius``,
    ``degeneracy.stability``, ...) are in the reference too, under "Also in"."""
    pytest.importorskip("sphinx")
    import inspect
    import pkgutil

    import topoanalysis

    _conf()
    documented = set()
    for page in (DOCS / "api").glob("*.rst"):
        modname = None
        for line in page.read_text().splitlines():
            if line.startswith(".. currentmodule:: "):
                modname = line.split()[-1]
            elif line.startswith("   ") and not line.strip().startswith(":") and modname:
                obj = getattr(importlib.import_module(modname), line.strip())
                documented.add((obj.__module__, obj.__qualname__))
    for info in pkgutil.walk_packages(topoanalysis.__path__, "topoanalysis."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[-1] in ("cli", "__main__"):
            continue
        mod = importlib.import_module(info.name)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if name.startswith("_") or not (inspect.isclass(obj) or callable(obj)):
                continue
            assert (obj.__module__, obj.__qualname__) in documented, f"{info.name}.{name}"
