"""Sphinx configuration of the topoanalysis documentation.

Build: ``pip install -e ".[docs]" && sphinx-build -b html docs docs/_build/html``.
Set ``TOPOANALYSIS_DOCS_GALLERY=0`` (or pass ``-D sphinx_gallery_conf.plot_gallery=0``) to
build without running the gallery examples.

The API reference is generated here, at configuration time, from the ``__all__`` of each
public module (``docs/api/*.rst``, then autosummary stubs): a name added to ``__all__`` appears
in the reference with no edit to the docs.
"""

import importlib
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import topoanalysis  # noqa: E402

project = "topoanalysis"
author = "the topoanalysis authors"
copyright = "2026, the topoanalysis authors"
release = version = topoanalysis.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples/README.txt",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.md5", "auto_examples/*.json", "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# --- API reference from __all__ ------------------------------------------------------------
#: Public modules, in reading order. An object is documented once, under the first module
#: whose ``__all__`` lists it (re-exports are not repeated).
API_MODULES = [
    ("topoanalysis.network", "The network model"),
    ("topoanalysis.landscape", "The loss landscape"),
    ("topoanalysis.init", "Initialization"),
    ("topoanalysis.losses", "Losses"),
    ("topoanalysis.activations", "Activations"),
    ("topoanalysis.datasets", "Data sets"),
    ("topoanalysis.symbolic", "Symbolic layer"),
    ("topoanalysis.graphs", "Graph layer"),
    ("topoanalysis.dynamics", "Engine: training, flow and paths"),
    ("topoanalysis.symmetry", "Symmetries: balance and alignment"),
    ("topoanalysis.obstruction", "Paper 1: topological obstruction"),
    ("topoanalysis.critical", "Paper 2: critical points"),
    ("topoanalysis.degeneracy", "Paper 3: degeneracy and inverse stability"),
    ("topoanalysis.levelsets", "Paper 4: level sets, slices and persistence"),
    ("topoanalysis.sweep", "Sweeps"),
    ("topoanalysis.io", "Files"),
    ("topoanalysis.analyze", "The main job"),
    ("topoanalysis.report", "HTML report"),
    ("topoanalysis.exceptions", "Exceptions"),
    ("topoanalysis.torch_interop", "PyTorch interoperability"),
]


def public_names(mod):
    """``mod.__all__``, or (for a module without one) its public names defined in the package
    below it."""
    if hasattr(mod, "__all__"):
        return list(mod.__all__)
    return [n for n in sorted(vars(mod)) if not n.startswith("_")
            and getattr(getattr(mod, n), "__module__", "").startswith(mod.__name__)]


def _autosummary(names):
    return [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""] + [
        f"   {n}" for n in names]


def _submodule_names(pkg, seen):
    """``[(module, [names])]``: the public functions and classes of the public modules below
    the package ``pkg`` that no earlier page documents (``seen`` is updated)."""
    import inspect
    import pkgutil

    if not hasattr(pkg, "__path__"):
        return []
    found = []
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or parts[-1] in ("cli", "__main__"):
            continue
        try:
            sub = importlib.import_module(info.name)
        except ImportError:
            continue
        names = []
        for name in getattr(sub, "__all__", ()):
            obj = getattr(sub, name, None)
            if name.startswith("_") or obj is None or not (inspect.isclass(obj)
                                                           or callable(obj)):
                continue
            key = (getattr(obj, "__module__", ""), getattr(obj, "__qualname__", name))
            if key in seen:
                continue
            seen.add(key)
            names.append(name)
        if names:
            found.append((info.name, names))
    return found


def _write_api():
    import inspect

    out = HERE / "api"
    out.mkdir(exist_ok=True)
    seen = set()
    toc = []
    for modname, title in API_MODULES:
        try:
            mod = importlib.import_module(modname)
        except ImportError:  # an optional piece missing: leave it out, say so in the page
            continue
        names = []
        for name in public_names(mod):
            obj = getattr(mod, name, None)
            if obj is None or not (inspect.isclass(obj) or callable(obj)):
                continue  # constants are described in their module's text
            key = (getattr(obj, "__module__", ""), getattr(obj, "__qualname__", name))
            if key in seen:
                continue
            seen.add(key)
            names.append(name)
        doc = (inspect.getdoc(mod) or "").strip().split("\n\n")[0].replace("\n", " ")
        slug = modname.replace(".", "_")
        lines = [title, "=" * len(title), "", f".. currentmodule:: {modname}", "",
                 f"``{modname}`` — {doc}", ""]
        if names:
            lines += _autosummary(names)
        # the public modules of a package: what their __all__ adds beyond the package's
        for subname, subnames in _submodule_names(mod, seen):
            head = f"Also in ``{subname}``"
            lines += ["", head, "-" * len(head), "", f".. currentmodule:: {subname}", ""]
            lines += _autosummary(subnames)
        (out / f"{slug}.rst").write_text("\n".join(lines) + "\n")
        toc.append(f"api/{slug}")
    index = ["API reference", "=============", "",
             "Generated from the ``__all__`` of each public module: every function and class a "
             "module exports, with its numpydoc docstring.", "", ".. toctree::",
             "   :maxdepth: 1", ""] + [f"   {t}" for t in toc]
    (HERE / "api.rst").write_text("\n".join(index) + "\n")


_write_api()

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# --- figures of docs/figures as a gallery page ---------------------------------------------
def _write_figures():
    figs = sorted((HERE / "figures").glob("*.png"))
    lines = ["Figures", "=======", "",
             "The figures of the paper reproductions (``scripts/``), regenerated by the scripts "
             "that name them; the CSV beside each holds its numbers.", ""]
    for f in figs:
        name = f.stem.replace("_", " ")
        lines += [name, "-" * len(name), "", f".. image:: figures/{f.name}",
                  f"   :alt: {name}", "   :width: 90%", ""]
    (HERE / "figures.rst").write_text("\n".join(lines) + "\n")


_write_figures()

# --- gallery ---------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": os.environ.get("TOPOANALYSIS_DOCS_GALLERY", "1") != "0",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

# --- MyST -----------------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

# --- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "topoanalysis"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2,
                      "secondary_sidebar_items": ["page-toc"]}
html_static_path = []
