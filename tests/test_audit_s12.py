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


# --- the loss between grid points: an upper bound (levelsets.bounds) ------------------------
def _dense_piece_max(arch, a, b, X, Y, loss, lo, hi, n=300):
    from topoanalysis.losses import loss_value
    from topoanalysis.network import Network

    return max(float(loss_value(loss, Network(arch, (1 - t) * a + t * b).forward(X), Y))
               for t in np.linspace(lo, hi, n))


@pytest.mark.parametrize("loss", ["mse", "bce", "l1", "cross_entropy"])
@pytest.mark.parametrize("act", ["relu", "leaky_relu", "abs", "linear"])
def test_segment_loss_bounds_hold_between_grid_points(loss, act):
    from topoanalysis import Architecture
    from topoanalysis.levelsets import segment_loss_bounds
    from topoanalysis.losses import as_targets

    rng = np.random.default_rng([["mse", "bce", "l1", "cross_entropy"].index(loss),
                                 ["relu", "leaky_relu", "abs", "linear"].index(act)])
    for trial in range(6):
        e = 3 if loss == "cross_entropy" else 1 if loss == "bce" else 1 + trial % 2
        arch = Architecture(int(rng.integers(1, 4)), (int(rng.integers(1, 6)),), e,
                            activation=act, negative_slope=0.3, hidden_bias=bool(trial % 3),
                            output_bias=bool(trial % 2))
        N = int(rng.integers(1, 15))
        X = rng.standard_normal((N, arch.inputs))
        y = (np.eye(e)[rng.integers(0, e, N)] if loss == "cross_entropy" else
             rng.integers(0, 2, (N, 1)).astype(float) if loss == "bce" else
             rng.standard_normal((N, e)))
        a, b = rng.standard_normal((2, arch.n_params)) * 2
        res = segment_loss_bounds(a, b, X, y, arch=arch, loss=loss, n_points=4)
        Y = as_targets(y, loss, e)
        for i in range(3):      # coarse grid: the loss rises between grid points
            dense = _dense_piece_max(arch, a, b, X, Y, loss, res.ts[i], res.ts[i + 1])
            assert dense <= res.upper[i] * (1 + 1e-12) + 1e-15
        assert res.max_upper >= res.grid_max


def test_segment_loss_bounds_tighten_with_the_grid_and_refuse_other_networks():
    from topoanalysis import Architecture, NotSupportedError
    from topoanalysis.levelsets import segment_loss_bounds

    rng = np.random.default_rng(5)
    arch = Architecture(3, (5,), 1)
    X, y = rng.standard_normal((50, 3)), rng.integers(0, 2, (50, 1)).astype(float)
    a, b = rng.standard_normal((2, arch.n_params))
    gaps = [segment_loss_bounds(a, b, X, y, arch=arch, loss="bce", n_points=n)
            for n in (10, 100, 1000)]
    gap = [g.max_upper - g.grid_max for g in gaps]
    assert gap[0] > gap[1] > gap[2] >= 0 and gap[2] < 1e-5 * gaps[2].grid_max
    with pytest.raises(NotSupportedError, match="one hidden layer"):
        deep = Architecture(3, (2, 2), 1)
        segment_loss_bounds(np.zeros(deep.n_params), np.zeros(deep.n_params), X, y, arch=deep,
                            method="curvature")


def test_a_connected_string_is_proven_or_not_by_its_loss_bounds():
    # a DSS string checked on a grid of 3 points per piece: its bounds on that grid do not
    # prove it; on 200 points they do, and every piece's dense maximum is below them
    from test_certified_strings import _dss_problem

    from topoanalysis.levelsets import dynamic_string_sampling

    arch, X, y, P, L0 = _dss_problem()
    s = dynamic_string_sampling(P[0], P[1], X, y, arch=arch, loss="bce", threshold=L0,
                                n_points=3, progress=False).strings[0]
    assert s.verdict == "connected"
    coarse, fine = s.loss_bounds(X, y), s.loss_bounds(X, y, n_points=200)
    assert np.all(coarse >= s.edge_max_loss) and np.any(coarse >= s.accept_level)
    assert np.all(fine < s.accept_level)
    for k in range(len(fine)):
        dense = _dense_piece_max(arch, s.beads[k], s.beads[k + 1], X, y, "bce", 0.0, 1.0, 400)
        assert dense <= fine[k]


def test_analyze_bounds_the_loss_between_the_barrier_grid_points():
    from topoanalysis.analyze import analyze

    rep = analyze(seeds=2, steps=40, out=None, progress=False, n_threads=1, n_points=11)
    assert rep.pairs
    for p in rep.pairs:
        assert p["max_loss_bound"] >= p["max_loss_grid"] > 0
    assert "loss on the segment at most" in rep.summary()


def test_segment_loss_bounds_degenerate_cases():
    from topoanalysis import Architecture, ShapeError
    from topoanalysis.levelsets import segment_loss_bounds

    arch = Architecture(2, (3,), 2)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([[0.5, -1.0], [0.0, 0.2], [1.0, 1.0]])
    theta = np.zeros(arch.n_params)
    (W, b), (A, c) = arch.unpack(theta)
    W[0] = [1.0, 1.0]          # neurons 0 and 1 parallel, neuron 2 dead 1e-12 from activating
    W[1] = [2.0, 2.0]
    W[2] = [0.0, 0.0]
    b[2] = -1e-12
    A[:] = [[1.0, -1.0, 3.0], [0.5, 0.5, -2.0]]
    other_b = -0.5 * theta
    (_, bo), _ = arch.unpack(other_b)
    bo[2] = 1e-12              # the dead neuron activates along the segment
    for end in (theta, other_b):
        res = segment_loss_bounds(theta, end, X, y, arch=arch, n_points=3)
        dense = _dense_piece_max(arch, theta, end, X, y, "mse", 0.0, 1.0, 2001)
        assert res.grid_max <= dense <= res.max_upper
    same = segment_loss_bounds(theta, theta, X, y, arch=arch, n_points=3)
    assert same.max_upper == pytest.approx(same.grid_max, rel=1e-8)   # a point: no rise
    huge = segment_loss_bounds(np.full(arch.n_params, 1e308), theta, X, y, arch=arch,
                               n_points=3)
    assert huge.grid_max == np.inf and huge.max_upper == np.inf        # never NaN
    with pytest.raises(ShapeError, match="at least one sample"):
        segment_loss_bounds(theta, theta, np.zeros((0, 2)), np.zeros((0, 2)), arch=arch)
