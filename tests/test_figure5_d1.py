"""Figure 5's event p^l is "more than one effective component" only for d >= 2 (e = 1)."""

import pytest

from topoanalysis.graphs.components import (component_graph, number_effective_components,
                                             sign_pattern)
from topoanalysis.obstruction.probability import obstruction_probability, pathological_probability


@pytest.mark.parametrize("l", [1, 3, 6])
def test_d1_obstruction_is_both_signs(l):
    p = float(pathological_probability(1, l, 1, "xavier_normal").p)
    obstructed = float(obstruction_probability(1, l, 1, "xavier_normal", "obstructed"))
    all_path = float(obstruction_probability(1, l, 1, "xavier_normal", "all_pathological"))
    assert all_path == pytest.approx(p ** l, rel=1e-12)
    assert obstructed == pytest.approx(p ** l + (1 - p) ** l, rel=1e-12)
    assert obstructed > all_path
    # certificate: l_- = 0 (every c_k > 0, d = 1) is obstructed on the component graph too
    assert number_effective_components(component_graph(sign_pattern(l, 0), 1, 1)) == l + 1
    assert number_effective_components(component_graph(sign_pattern(l, 0), 2, 1)) == 1


def test_script_default_starts_at_d2(load_script):
    parser = load_script("obstruction_probability").build_parser()
    assert parser.parse_args(["--out", "x"]).d_min == 2
