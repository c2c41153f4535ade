"""No import circles in ``topoanalysis.dynamics`` (issue #18): every module imports on its own in
a fresh interpreter, and the static import graph (module-level and function-level imports,
parsed with ``ast``) is acyclic."""

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "topoanalysis")
DYNAMICS = ("_shared", "_engine", "flow", "train", "interpolate")


def _module_name(path):
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def _imports(path):
    """Modules of the package that ``path`` imports (anywhere in the file)."""
    name = _module_name(path)
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("topoanalysis"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("topoanalysis"):
                continue
            out.add(mod)
            for a in node.names:   # "from . import _engine" imports a module
                out.add(f"{mod}.{a.name}")
    return out


def _graph(folder):
    files = {}
    for dirpath, _, names in os.walk(folder):
        for n in names:
            if n.endswith(".py"):
                files[_module_name(os.path.join(dirpath, n))] = os.path.join(dirpath, n)
    return {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}


def _cycles(graph, skip_packages=True):
    """Strongly connected components with more than one module (Tarjan). A package's
    ``__init__`` importing its own submodules is not a circle unless a submodule imports the
    package back; we drop edges from a package to its submodules to see the others."""
    g = {m: {t for t in ts if not (skip_packages and t.startswith(m + "."))}
         for m, ts in graph.items()}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in g:
        if v not in index:
            strong(v)
    return out


def test_cycle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_dynamics_has_no_import_circle():
    graph = _graph(os.path.join(PKG, "dynamics"))
    assert "topoanalysis.dynamics._shared" in graph
    assert _cycles(graph) == []
    # the engine's shared pieces sit below train and flow
    assert "topoanalysis.dynamics.train" not in graph["topoanalysis.dynamics.flow"]
    assert "topoanalysis.dynamics.train" not in graph["topoanalysis.dynamics._engine"]
    assert graph["topoanalysis.dynamics._shared"] == set()


@pytest.mark.parametrize("module", DYNAMICS)
def test_each_dynamics_module_imports_alone(module):
    code = f"import topoanalysis.dynamics.{module} as m; print(m.__name__)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=120)
    assert res.returncode == 0, res.stderr
