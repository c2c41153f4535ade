"""Session 12 audit: wrong answers at the edges, each test failing before its fix."""

from fractions import Fraction

import numpy as np
import pytest

from topoanalysis.degeneracy._exact import exact_signs


def _exact_sign(n, z):
    v = sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(n, z))
    return (v > 0) - (v < 0)


@pytest.mark.parametrize("scale", [2.0 ** -537, 2.0 ** -540, 2.0 ** -530])
def test_degeneracy_exact_signs_subnormal_products(scale):
    # three products near the subnormal spacing: 1.4 + 1.4 - 2.6 (x 2^-1074) is +0.2, but the
    # rounded products give 1 + 1 - 3 = -1: the relative error bound underflows to 0 and
    # proved the wrong sign
    Z = np.array([[scale, scale, scale]])
    N = np.array([[1.4 * scale, 1.4 * scale, -2.6 * scale]])
    assert exact_signs(N, Z)[0, 0] == _exact_sign(N[0], Z[0])


def test_degeneracy_exact_signs_random_tiny_against_fractions():
    rng = np.random.default_rng(12)
    for _ in range(200):
        D = int(rng.integers(1, 6))
        N = rng.standard_normal((3, D)) * 2.0 ** -537
        Z = rng.standard_normal((2, D)) * 2.0 ** -537
        s = exact_signs(N, Z)
        for r in range(2):
            for g in range(3):
                assert s[r, g] == _exact_sign(N[g], Z[r])


@pytest.mark.parametrize("std", [0.0, 1e-200, 1e150])
def test_analyze_refuses_std_outside_its_range_before_any_work(std):
    # was: `theta` named in an error from the obstruction section (0, 1e-200), or a failure
    # in the critical section after training (1e150)
    from topoanalysis.analyze import analyze
    from topoanalysis.exceptions import ValidationError

    with pytest.raises(ValidationError, match="`std`"):
        analyze(std=std, scheme="normal", out=None, progress=False, steps=1, seeds=1)


def test_time_budget_error_gives_a_time_example(monkeypatch):
    # the example was "8G", a memory size, for a number of seconds
    from topoanalysis import cli

    monkeypatch.setenv("TOPOANALYSIS_TIME_BUDGET", "soon")
    with pytest.raises(cli.TopoAnalysisError, match="TOPOANALYSIS_TIME_BUDGET.*e.g. 3600"):
        cli.time_budget()
    monkeypatch.setenv("TOPOANALYSIS_MEMORY_BUDGET", "lots")
    with pytest.raises(cli.TopoAnalysisError, match="e.g. 8G"):
        cli.memory_budget()


def test_cli_names_the_flag_of_a_library_parameter_with_underscores(capsys):
    # `max_degree` was named without its flag (--max-degree), unlike --init-std and others
    from topoanalysis.cli import main

    assert main(["laws", "--inputs", "2", "--hidden", "2", "--max-degree", "99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "`max_degree` (--max-degree)" in err


def test_conserved_quadratic_forms_to_dict_records_the_slope():
    # the leaky ReLU slope was left out of the plain data (two slopes gave the same dict)
    import json

    from topoanalysis.symbolic import conserved_quadratic_forms

    d = conserved_quadratic_forms(1, 1, 1, activation="leaky_relu", negative_slope=0.25).to_dict()
    assert d["network"]["negative_slope"] == 0.25
    json.dumps(d, allow_nan=False)
