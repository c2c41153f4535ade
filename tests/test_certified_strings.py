"""Certified segment bounds (rounding analysis, refinement) and the certified DSS verdict."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.levelsets import segment_loss_bounds


def _exact_loss(arch, ta, tb, X, y, t, loss):
    """The loss at the exact point (1 - t) θ_a + t θ_b of the segment, in rationals (60-digit
    mpmath for the logarithms of bce and cross-entropy)."""
    mpmath.mp.dps = 60
    t = Fraction(t)
    th = [(1 - t) * Fraction(a) + t * Fraction(b) for a, b in zip(ta, tb)]
    (W, b), (A, c) = arch.unpack(np.arange(arch.n_params, dtype=float))
    slope = Fraction(float(arch.negative_slope))
    act = {"relu": lambda z: max(z, 0), "leaky_relu": lambda z: z if z > 0 else slope * z,
           "abs": abs, "linear": lambda z: z}[arch.activation]
    total = Fraction(0)
    smooth = mpmath.mpf(0)
    for n in range(X.shape[0]):
        h = [act(sum(Fraction(X[n, i]) * th[int(W[k, i])] for i in range(X.shape[1]))
                 + (th[int(b[k])] if b is not None else 0)) for k in range(W.shape[0])]
        f = [sum(th[int(A[j, k])] * h[k] for k in range(len(h)))
             + (th[int(c[j])] if c is not None else 0) for j in range(A.shape[0])]
        if loss == "cross_entropy":          # -sum_j y_j log softmax_j(f), 60 digits
            fm = [mpmath.mpf(v.numerator) / v.denominator for v in f]
            lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in fm))
            smooth += mpmath.fsum(-mpmath.mpf(float(y[n, j])) * (fm[j] - lse)
                                  for j in range(len(f)))
            continue
        for j in range(A.shape[0]):
            r = f[j] - Fraction(y[n, j])
            if loss == "bce":                 # log(1 + e^f) - y f, 60 digits
                fm = mpmath.mpf(f[j].numerator) / f[j].denominator
                smooth += mpmath.log1p(mpmath.exp(fm)) - mpmath.mpf(float(y[n, j])) * fm
            else:
                total += r * r if loss == "mse" else abs(r)
    if loss in ("bce", "cross_entropy"):
        per = X.shape[0] * (A.shape[0] if loss == "bce" else 1)
        return Fraction(str(mpmath.nstr(smooth / per, 55)))
    return total / (X.shape[0] * A.shape[0])


def test_rounding_is_bounded_where_a_relative_margin_was_wrong():
    # outputs ~1e4 computed in float64, targets equal to the computed outputs: the float loss
    # is exactly 0 while the exact loss is not; a relative margin (the old bound) said <= 0
    rng = np.random.default_rng(0)
    arch = Architecture(3, (2,), 1)
    X = rng.standard_normal((4, 3))
    theta = rng.standard_normal(arch.n_params) * 1e4
    (W, b), (A, c) = arch.unpack(theta)
    y = np.maximum(X @ W.T + b, 0) @ A.T + c
    for loss in ("mse", "l1"):
        res = segment_loss_bounds(theta, theta, X, y, arch=arch, loss=loss, n_points=2)
        exact = _exact_loss(arch, theta, theta, X, y, 0, loss)
        assert res.grid_max == 0.0 < exact              # the float evaluation misses it
        assert exact <= Fraction(res.max_upper)        # the bound does not
        assert np.all(res.loss_error > 0)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "abs", "linear"])
def test_bounds_hold_against_exact_rationals(act):
    rng = np.random.default_rng(["relu", "leaky_relu", "abs", "linear"].index(act))
    for case in range(6):
        arch = Architecture(2, (3,), 2, activation=act, negative_slope=0.1)
        scale = [1.0, 1e4, 1e-3][case % 3]
        X = rng.standard_normal((3, 2))
        ta = rng.standard_normal(arch.n_params) * scale
        tb = rng.standard_normal(arch.n_params) * scale
        (W, b), (A, c) = arch.unpack(ta)
        y = np.maximum(X @ W.T + b, 0) @ A.T + c + rng.standard_normal((3, 2)) * 1e-6 * scale
        yb = (y > np.median(y)).astype(float)
        for loss in ("mse", "l1", "bce", "cross_entropy"):
            yl = y if loss in ("mse", "l1") else yb
            if loss == "cross_entropy":
                yl = np.stack([yb[:, 0], 1.0 - yb[:, 0]], axis=1)
            res = segment_loss_bounds(ta, tb, X, yl, arch=arch, loss=loss, n_points=4)
            for i in range(res.ts.size - 1):
                s, s1 = Fraction(res.ts[i]), Fraction(res.ts[i + 1])
                for u in (Fraction(0), Fraction(1, 3), Fraction(1, 2), Fraction(5, 7)):
                    t = s + u * (s1 - s)
                    assert _exact_loss(arch, ta, tb, X, yl, t, loss) <= Fraction(res.upper[i])


def test_refinement_proves_a_level_the_coarse_grid_cannot():
    rng = np.random.default_rng(3)
    arch = Architecture(2, (4,), 1)
    X = rng.standard_normal((20, 2))
    y = rng.standard_normal((20, 1))
    ta, tb = rng.standard_normal(arch.n_params), rng.standard_normal(arch.n_params)
    coarse = segment_loss_bounds(ta, tb, X, y, arch=arch, n_points=3)
    ts = np.linspace(0, 1, 4001)
    dense = segment_loss_bounds(ta, tb, X, y, arch=arch, ts=ts).grid_max
    level = dense + 0.2 * (coarse.max_upper - dense)
    assert coarse.max_upper > level > dense
    res = segment_loss_bounds(ta, tb, X, y, arch=arch, n_points=3, level=level)
    assert res.proven is True and res.max_upper < level and res.ts.size > 3
    assert res.ts[0] == 0.0 and res.ts[-1] == 1.0 and np.all(np.diff(res.ts) > 0)
    assert "proven below" in res.summary() and res.to_dict()["proven"] is True
    # a level below the dense maximum is never proven; the grid stops at max_points
    low = segment_loss_bounds(ta, tb, X, y, arch=arch, n_points=3, level=dense * 0.999,
                              max_points=200)
    assert low.proven is False and low.ts.size <= 200
    with pytest.raises(Exception, match="max_points"):
        segment_loss_bounds(ta, tb, X, y, arch=arch, n_points=10, level=1.0, max_points=5)
    with pytest.raises(Exception, match="level"):
        segment_loss_bounds(ta, tb, X, y, arch=arch, level=float("nan"))


def test_uncertain_kinks_count_everywhere_they_may_be():
    # a neuron whose pre-activation is 0 within rounding on the whole segment, one with zero
    # weights (no kink size), one crossing exactly at a grid point
    arch = Architecture(1, (3,), 1)
    X = np.array([[1.0], [3.0], [-2.0]])
    y = np.array([[0.1], [0.2], [0.3]])
    ta = np.zeros(arch.n_params)
    (W, b), (A, c) = arch.unpack(ta)
    W[:, 0] = [0.1, 0.0, 1.0]
    b[:] = [-0.1, 0.0, -1.0]            # neuron 0: 0.1 * 1 - 0.1 = 0 (exactly? rounding)
    A[0] = [1e6, 5.0, 1.0]
    tb = ta.copy()
    (W2, b2), _ = arch.unpack(tb)
    W2[:, 0] = [0.3, 0.0, -1.0]
    b2[:] = [-0.3, 0.0, 1.0]           # neuron 2 crosses at t = 1/2 on sample 0
    for loss in ("mse", "l1"):
        res = segment_loss_bounds(ta, tb, X, y, arch=arch, loss=loss, n_points=3)
        for i in range(2):
            for u in np.linspace(0, 1, 11):
                t = Fraction(res.ts[i]) + Fraction(u) * Fraction(res.ts[i + 1] - res.ts[i])
                assert _exact_loss(arch, ta, tb, X, y, t, loss) <= Fraction(res.upper[i])


def _dss_problem():
    from topoanalysis.dynamics import train

    rng = np.random.default_rng(0)
    arch = Architecture(2, (4,), 1)
    X = rng.standard_normal((40, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    r = train(rng.standard_normal((2, arch.n_params)), X, y, arch=arch, loss="bce", lr=0.5,
              steps=2000, progress=False)
    return arch, X, y, r.params, float(max(r.final_loss))


def _dense_max(arch, a, b, X, y, loss, n=801):
    from topoanalysis.dynamics import interpolate

    return float(np.max(interpolate(a, b, X, y, arch=arch, loss=loss, n_points=n).loss))


def test_dss_connected_is_proven_between_the_grid_points(tmp_path):
    from topoanalysis.levelsets import BeadString, dynamic_string_sampling

    arch, X, y, P, L0 = _dss_problem()
    # a grid of 3 points per piece: the grid check passes, the bound refines until it proves
    s = dynamic_string_sampling(P[0], P[1], X, y, arch=arch, loss="bce", threshold=L0,
                                n_points=3, progress=False).strings[0]
    assert s.connected and s.certified is True and s.failure is None
    assert np.all(s.edge_upper < s.accept_level) and np.all(s.edge_upper >= s.edge_max_loss)
    for k in range(len(s.edge_upper)):
        assert _dense_max(arch, s.beads[k], s.beads[k + 1], X, y, "bce") <= s.edge_upper[k]
    assert "proven below" in s.summary()
    back = BeadString.load(s.save(tmp_path / "s.npz"))
    assert back.certified is True and np.array_equal(back.edge_upper, s.edge_upper)
    d = s.to_dict()
    assert d["certified"] is True and d["edge_upper"] == [float(v) for v in s.edge_upper]
    # the same string with no room to refine: the grid check passes, the proof does not
    t = dynamic_string_sampling(P[0], P[1], X, y, arch=arch, loss="bce", threshold=L0,
                                n_points=3, certify_points=3, progress=False).strings[0]
    assert not t.connected and t.certified is False and t.failure == "certificate"
    assert t.verdict == "not connected within budget" and np.any(t.edge_upper >= t.accept_level)
    # certify=False: the grid check alone (the previous behaviour)
    g = dynamic_string_sampling(P[0], P[1], X, y, arch=arch, loss="bce", threshold=L0,
                                n_points=3, certify=False, progress=False).strings[0]
    assert g.connected and g.certified is None and g.edge_upper is None


def test_dss_certify_choices_and_deep_networks():
    from topoanalysis import ValidationError
    from topoanalysis.levelsets import dynamic_string_sampling

    deep = Architecture(1, (2, 2), 1, activation="linear", hidden_bias=False,
                        output_bias=False)
    X = np.array([[1.0], [2.0]])
    y = 4.0 * X                                  # the all-ones network fits it
    a = np.ones(deep.n_params)
    # deep networks are certified by interval arithmetic (refined until proven)
    s = dynamic_string_sampling(a, a, X, y, arch=deep, threshold=0.1, progress=False)[0]
    assert s.connected and s.certified is True and "proven below" in s.summary()
    g = dynamic_string_sampling(a, a, X, y, arch=deep, threshold=0.1, certify=False,
                                progress=False)[0]
    assert g.connected and g.certified is None and "grid check" in g.summary()
    for bad in ("yes", 1, None):
        with pytest.raises(ValidationError, match="certify"):
            dynamic_string_sampling(a, a, X, y, arch=deep, threshold=1.0, certify=bad,
                                    progress=False)
    with pytest.raises(ValidationError, match="certify_points"):
        dynamic_string_sampling(a, a, X, y, arch=deep, threshold=1.0, n_points=10,
                                certify_points=5, progress=False)


def test_pairwise_barriers_prove_upper_bounds_of_every_path():
    from topoanalysis import Network, ValidationError
    from topoanalysis.dynamics import interpolate
    from topoanalysis.levelsets import pairwise_barriers

    arch = Architecture(2, (3,), 1)
    nets = [Network.initialize(arch, seed=s) for s in range(4)]
    X = np.random.default_rng(0).standard_normal((20, 2))
    y = X[:, :1]
    bm = pairwise_barriers(nets, X, y, align=True, n_points=7, progress=False, bounds=True)
    up = bm.path_upper
    assert np.all(up >= bm.path_max) and np.all(bm.linear_upper >= bm.linear_max)
    iu, ju = np.triu_indices(4, 1)
    for i, j in zip(iu, ju):     # the straight segments' dense maxima lie below their bounds
        dense = interpolate(nets[i], nets[j], X, y, n_points=1001).loss.max()
        assert dense <= bm.linear_upper[i, j]
    t, c = bm.component_counts(proven=True)
    assert len(t) == len(c) and bm.level_set_graph(float(up.max()), proven=True).number_of_edges() == 6
    assert bm.to_dict()["path_upper"] == up.tolist() and "proven" in bm.summary()
    plain = pairwise_barriers(nets, X, y, n_points=7, progress=False)
    assert plain.path_upper is None
    with pytest.raises(ValidationError, match="bounds=True"):
        plain.component_counts(proven=True)
    with pytest.raises(ValidationError, match="proven"):
        bm.component_counts(proven="yes")
    with pytest.raises(ValidationError, match="bounds"):
        pairwise_barriers(nets, X, y, progress=False, bounds=1)
    deep = Architecture(2, (2, 2), 1, activation="tanh")      # interval arithmetic
    dn = [Network.initialize(deep, seed=s) for s in range(2)]
    db = pairwise_barriers(dn, X, y, n_points=9, progress=False, bounds=True)
    dense = interpolate(dn[0], dn[1], X, y, n_points=2001).loss.max()
    assert db.linear_max[0, 1] <= dense <= db.linear_upper[0, 1]


def test_barrier_command_writes_proven_bounds(tmp_path):
    from topoanalysis import Network
    from topoanalysis.cli import main

    arch = Architecture(30, (3,), 1)
    paths = []
    for s in range(3):
        p = tmp_path / f"n{s}.npz"
        Network.initialize(arch, seed=s).save(p)
        paths.append(str(p))
    out = tmp_path / "out"
    assert main(["barrier", *paths, "--bounds", "--n-points", "5", "--quiet",
                 "--out", str(out)]) == 0
    head = (out / "barriers.csv").read_text().splitlines()[0]
    assert head.endswith("best_path_upper") and (out / "components_proven.csv").exists()


def test_a_damaged_string_file_is_one_line(tmp_path):
    from topoanalysis.io import FileError
    from topoanalysis.levelsets import BeadString, dynamic_string_sampling

    arch = Architecture(1, (1,), 1, activation="linear", hidden_bias=False, output_bias=False)
    X = np.array([[1.0], [2.0]])
    a = np.ones(arch.n_params)
    s = dynamic_string_sampling(a, a, X, X, arch=arch, threshold=0.1, progress=False)[0]
    path = s.save(tmp_path / "s.npz")
    good = dict(np.load(path))
    for meta in ("{", "3", '{"architecture": {"inputs": 1}}', "[]"):
        bad = tmp_path / "bad.npz"
        np.savez(bad, **{**good, "meta": np.array(meta)})
        with pytest.raises(FileError, match="damaged record|architecture|inputs"):
            BeadString.load(bad)


def test_cli_warnings_are_one_line(tmp_path, monkeypatch, capsys):
    import warnings

    from topoanalysis.cli import main

    # a terminal: Python's own warning display (pytest installs its own handler)
    monkeypatch.setattr(warnings, "showwarning", warnings._showwarning_orig)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["train", "--hidden", "3", "--lr", "1e308", "--steps", "3", "--quiet",
                     "--out", str(tmp_path / "t")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err and all(line.startswith("topoanalysis train: warning:") for line in err)


def _exact_deep_loss(arch, ta, tb, X, y, t, loss):
    """The loss of any architecture at the exact point of the segment: rationals through
    piecewise-linear layers, 60-digit mpmath through tanh / sigmoid and the logarithms."""
    mpmath.mp.dps = 60
    t = Fraction(t)
    th = [(1 - t) * Fraction(a) + t * Fraction(b) for a, b in zip(ta, tb)]
    slope = Fraction(float(arch.negative_slope))
    layers = arch.unpack(np.arange(arch.n_params, dtype=float))

    def mp(v):
        return mpmath.mpf(v.numerator) / v.denominator if isinstance(v, Fraction) else v

    def act(name, z):
        if name == "relu":
            return max(z, 0)
        if name == "leaky_relu":
            return z if z > 0 else slope * z
        if name == "abs":
            return abs(z)
        if name == "tanh":
            return mpmath.tanh(mp(z))
        if name == "sigmoid":
            return 1 / (1 + mpmath.exp(-mp(z)))
        return z

    total = mpmath.mpf(0)
    for n in range(X.shape[0]):
        h = [Fraction(v) for v in X[n]]
        for i, (W, b) in enumerate(layers):
            z = [sum((th[int(W[k, j])] if not isinstance(h[j], mpmath.mpf) else
                      mp(th[int(W[k, j])])) * h[j] for j in range(W.shape[1]))
                 + (th[int(b[k])] if b is not None else 0) for k in range(W.shape[0])]
            name = arch.activation if i < len(layers) - 1 else arch.output_activation
            h = [act(name, v) for v in z]
        f = [mp(v) for v in h]
        yn = [mpmath.mpf(float(v)) for v in y[n]]
        if loss == "mse":
            total += mpmath.fsum((a - b) ** 2 for a, b in zip(f, yn)) / len(f)
        elif loss == "l1":
            total += mpmath.fsum(abs(a - b) for a, b in zip(f, yn)) / len(f)
        elif loss == "bce":
            total += mpmath.fsum(mpmath.log1p(mpmath.exp(a)) - b * a
                                 for a, b in zip(f, yn)) / len(f)
        else:
            lse = mpmath.log(mpmath.fsum(mpmath.exp(a) for a in f))
            total += mpmath.fsum(-b * (a - lse) for a, b in zip(f, yn))
    return total / X.shape[0]


@pytest.mark.parametrize("act,hidden,out_act", [("relu", (3, 2), "linear"),
                                                 ("abs", (2, 2), "linear"),
                                                 ("leaky_relu", (3,), "linear"),
                                                 ("tanh", (2, 2), "linear"),
                                                 ("relu", (3,), "sigmoid")])
def test_interval_bounds_hold_against_exact_losses(act, hidden, out_act):
    rng = np.random.default_rng(len(hidden) * 10 + ["relu", "abs", "leaky_relu",
                                                     "tanh"].index(act))
    for case in range(4):
        e = 2 if case % 2 else 1
        arch = Architecture(2, hidden, e, activation=act, negative_slope=0.1,
                            output_activation=out_act if e == 1 else "linear")
        scale = [1.0, 30.0][case // 2]
        X = rng.standard_normal((3, 2))
        ta = rng.standard_normal(arch.n_params) * scale
        tb = rng.standard_normal(arch.n_params) * scale
        yb = (rng.random((3, 1)) > 0.5).astype(float)
        targets = {"mse": rng.standard_normal((3, e)), "l1": rng.standard_normal((3, e)),
                   "bce": np.repeat(yb, e, axis=1),
                   "cross_entropy": np.concatenate([yb, 1 - yb], axis=1)}
        for loss, yl in targets.items():
            if loss == "cross_entropy" and e == 1:
                continue
            res = segment_loss_bounds(ta, tb, X, yl, arch=arch, loss=loss, n_points=3,
                                      method="interval")
            for i in range(res.ts.size - 1):
                s, s1 = Fraction(res.ts[i]), Fraction(res.ts[i + 1])
                for u in (Fraction(0), Fraction(1, 3), Fraction(5, 7), Fraction(1)):
                    exact = _exact_deep_loss(arch, ta, tb, X, yl, s + u * (s1 - s), loss)
                    assert exact <= mpmath.mpf(res.upper[i])


def test_interval_bounds_cover_rounding_and_refine_on_deep_networks():
    from topoanalysis.dynamics import interpolate
    from topoanalysis.network import forward

    rng = np.random.default_rng(11)
    arch = Architecture(3, (3, 2), 1)
    X = rng.standard_normal((4, 3))
    theta = rng.standard_normal(arch.n_params) * 100.0
    y = forward(arch, theta, X)                  # the float outputs: float loss exactly 0
    res = segment_loss_bounds(theta, theta, X, y, arch=arch, n_points=2, method="interval")
    exact = _exact_deep_loss(arch, theta, theta, X, y, 0, "mse")
    assert res.grid_max == 0.0 and exact <= mpmath.mpf(res.max_upper)
    # refinement proves a level 1% above the dense maximum with a few points
    X = rng.standard_normal((40, 3))
    y = rng.standard_normal((40, 1))
    a, b = rng.standard_normal((2, arch.n_params))
    dense = interpolate(a, b, X, y, arch=arch, n_points=4001).loss.max()
    coarse = segment_loss_bounds(a, b, X, y, arch=arch, n_points=3)
    assert coarse.max_upper > 1.01 * dense
    res = segment_loss_bounds(a, b, X, y, arch=arch, n_points=3, level=1.01 * dense)
    assert res.proven is True and res.ts.size < 400 and res.max_upper < 1.01 * dense


def test_landscape_segment_loss_bounds():
    from topoanalysis import Landscape, ValidationError

    rng = np.random.default_rng(2)
    arch = Architecture(2, (3, 2), 1)
    X, y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    a, b = rng.standard_normal((2, arch.n_params))
    land = Landscape(arch, X, y)
    res = land.segment_loss_bounds(a, b, n_points=5)
    ref = segment_loss_bounds(a, b, X, y, arch=arch, n_points=5)
    assert np.array_equal(res.upper, ref.upper) and np.array_equal(res.loss, ref.loss)
    with pytest.raises(ValidationError, match="fixed by the landscape"):
        land.segment_loss_bounds(a, b, loss="l1")
    with pytest.raises(Exception, match="theta_a"):
        land.segment_loss_bounds(np.zeros(3), b)

