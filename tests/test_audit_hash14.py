"""Audit (session 14): no result, verdict or report depends on the process it runs in.

The standard: "the same seed gives the same numbers, every run". ``reachability`` broke it
through ``PYTHONHASHSEED`` (a networkx matching iterated a set of string-tuple nodes). This file
checks the public calls built on sets, networkx graphs with tuple or string nodes and SymPy in
fresh processes with different hash seeds, and the one cache keyed by object identity (an
``id`` is reused once its object is freed, so the key alone named another field).
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = r"""
import json
import numpy as np
import sympy as sp
from topoanalysis import Architecture, Network
from topoanalysis.graphs import components as GC, levelsets as GL
from topoanalysis.obstruction.topology import reachability
from topoanalysis.symbolic import conservation_laws, conserved_quadratic_forms
from topoanalysis.degeneracy import canonical as CN, conditions as DC, theorem_3_1_conditions

def graph(G):
    return [[repr(n) for n in G.nodes], [[repr(u), repr(v)] for u, v in G.edges],
            repr(G.graph.get("order"))]

out = {}
for s in range(4):
    a = Network.initialize(Architecture(2, (4,), 1), seed=s)
    b = Network.initialize(Architecture(2, (4,), 1), seed=100 + s)
    r = reachability(a, b, n_check=4, seed=0)
    out[f"reach{s}"] = [r.reachable, r.reason, None if r.alphas is None else
                        np.nan_to_num(r.alphas, nan=-1.0).tobytes().hex()]
out["cgraph"] = graph(GC.component_graph(GC.sign_pattern(2, 3)))
out["qgraph"] = graph(GC.quotient_component_graph(np.array([1.0, -1, 0, 0, 2, -3]), 2, 1))
out["ecc"] = sorted(sorted(c) for c in GC.effective_components(
    GC.component_graph(GC.sign_pattern(0, 4))))
M = np.array([[0.1, 0.5, 0.5, 0.9], [0.5, 0.1, 0.5, 0.5], [0.5, 0.5, 0.1, 0.5],
              [0.9, 0.5, 0.5, 0.1]])
out["tree"] = graph(GL.disconnectivity_tree(M))
law = conservation_laws(2, 2, 2, activation="linear")
out["laws"] = [law.count, [sp.srepr(e) for e in law.laws], repr(law.tower)]
out["forms"] = [sp.srepr(e) for e in conserved_quadratic_forms(2, (2,), 1).expressions]
out["cond"] = sp.srepr(DC.symbolic_conditions([["x", "y", "z"], ["2*x", "u", "v"]],
                                              [["p"], ["q"]]).c1)
steps = CN.canonical_form_symbolic([["x", "y", "1"], ["2*x", "2*y", "2"], ["s", "t", "u"]],
                                   [["p"], ["q"], ["r"]])
out["canon"] = [[st.step, sp.srepr(st.A), sp.srepr(st.C)] for st in steps]
theta = Network.from_weights([[[1, 0], [0, 1], [1, 1], [-1, -1]], [[1, 1, -1, 1]]])
gamma = Network.from_weights([[[1, 2], [2, 1], [1, 1], [0, 0]], [[1, 1, 1, 0]]])
t = theorem_3_1_conditions(gamma, theta)
out["thm31"] = [t.c3, t.kink_lines, repr(t.c3a_given)]
print(json.dumps(out))
"""


def test_set_and_graph_results_same_under_any_hash_seed():
    """Graphs with tuple nodes, reachability's matching, the disconnectivity tree and the
    SymPy results (conservation laws, conditions C.1-C.3, the symbolic canonical form) come out
    identical, order included, in processes with different PYTHONHASHSEED."""
    outs = {}
    for h in ("0", "1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=h, PYTHONPATH=ROOT)
        p = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                           text=True, cwd=ROOT, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
        outs[h] = json.loads(p.stdout.strip().splitlines()[-1])
    for h in ("1", "2"):
        diff = [k for k in outs["0"] if outs["0"][k] != outs[h][k]]
        assert not diff, f"PYTHONHASHSEED=0 and {h} differ in {diff}"


def test_jacobian_cache_never_answers_for_a_freed_field():
    """The bracket tower's Jacobian cache was keyed by ``id(field)`` alone: once a field was
    freed, a new bracket at the same address got the freed field's Jacobian (checked here by
    freeing a field and building others until the address comes back)."""
    import flint

    from topoanalysis.symbolic.conservation import _jacobian

    ctx = flint.fmpq_mpoly_ctx.get(("x", "y"), "lex")
    x, y = ctx.gens()
    cache = {}
    first = {0: x * x, 1: y}
    _jacobian(first, cache)
    del first
    for _ in range(200):
        other = {0: y * y * y, 1: x}
        assert _jacobian(other, cache) == _jacobian(other, {}), \
            "a new field got the cached Jacobian of a freed one"
        del other
