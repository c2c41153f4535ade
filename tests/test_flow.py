"""Gradient-flow integrator (``topoanalysis.dynamics.flow``) against SciPy's DOP853.

The reference right-hand side is the plain NumPy gradient of
:func:`topoanalysis.network.loss_and_gradient`, so these tests check the engine's gradient,
the Runge–Kutta tableau, the step-size control and the dense-output records together.
"""

import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from topoanalysis import Architecture, DivergenceWarning, ValidationError
from topoanalysis.dynamics import FlowResult, TrainResult, gradient_flow, train
from topoanalysis.dynamics import flow as flow_mod
from topoanalysis.init import init_params
from topoanalysis.losses import as_targets
from topoanalysis.network import conserved_quantities, loss_and_gradient


def _data(n, d, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, rng


def _reference(arch, theta, X, Y, loss, times):
    """DOP853 at rtol 1e-12 on the NumPy reference gradient; states at ``times``."""
    def rhs(_, p):
        return -loss_and_gradient(arch, p, X, Y, loss)[1]

    sol = solve_ivp(rhs, (0.0, times[-1]), theta, method="DOP853", rtol=1e-12, atol=1e-13,
                    dense_output=True)
    assert sol.success
    states = sol.sol(times).T
    losses = np.array([loss_and_gradient(arch, p, X, Y, loss)[0] for p in states])
    return states, losses


def test_tableau_is_scipys_dormand_prince():
    from scipy.integrate._ivp.rk import RK45

    for s in range(1, 6):
        np.testing.assert_allclose(flow_mod._A[s], RK45.A[s, :s], rtol=1e-15, atol=0)
    np.testing.assert_allclose(flow_mod._A[6], RK45.B, rtol=1e-15)
    np.testing.assert_allclose(np.abs(flow_mod._E), np.abs(RK45.E), rtol=1e-15)
    np.testing.assert_allclose(flow_mod._P, RK45.P, rtol=1e-14)
    # the continuous extension ends at the order-5 solution: sum_m P[j][m] = b_j
    np.testing.assert_allclose(np.sum(flow_mod._P, axis=1), flow_mod._A[6] + (0.0,),
                               atol=1e-15)


CASES = [
    # activation, hidden bias, output bias, outputs, loss, t_end, init seed, tolerance
    ("tanh", True, True, 1, "mse", 3.0, 3, 1e-8),
    ("sigmoid", False, True, 1, "bce", 3.0, 3, 1e-8),
    ("linear", False, False, 2, "mse", 2.0, 3, 1e-8),
    ("tanh", True, False, 3, "cross_entropy", 2.0, 3, 1e-8),
    # ReLU: no sample crosses a kink before t = 0.1 ...
    ("relu", True, True, 1, "mse", 0.1, 2, 1e-8),
    # ... and 4 crossings: the gradient jumps; the error control still holds the error low
    ("relu", True, True, 1, "mse", 0.1, 0, 1e-7),
]


@pytest.mark.parametrize("act, hb, ob, e, loss, t_end, seed, tol", CASES)
def test_matches_solve_ivp_dop853(act, hb, ob, e, loss, t_end, seed, tol):
    X, rng = _data(12, 3, seed=1)
    if loss == "cross_entropy":
        y = rng.integers(0, e, size=12)
    elif loss == "bce":
        y = (X[:, 0] > 0) * 1.0
    else:
        y = np.tanh(X[:, :e]) + 0.1 * X[:, 1:2]
    arch = Architecture(3, (5,), e, activation=act, hidden_bias=hb, output_bias=ob)
    theta = init_params(arch, "xavier_normal", seed=seed, n_networks=2,
                        bias_init="normal", bias_std=0.3)
    times = np.linspace(0.0, t_end, 7)
    res = gradient_flow(theta, X, y, arch=arch, loss=loss, t_end=t_end, rtol=1e-10,
                        atol=1e-12, record_times=times, record_params=True, progress=False)
    assert isinstance(res, FlowResult) and isinstance(res, TrainResult)
    assert np.all(res.final_time == t_end) and not res.diverged.any()
    Y = as_targets(y, loss, e)
    for b in range(2):
        states, losses = _reference(arch, theta[b], X, Y, loss, times)
        np.testing.assert_allclose(res.trajectory[b], states, atol=tol, rtol=0)
        np.testing.assert_allclose(res.loss[b], losses, atol=tol, rtol=1e-8)
        np.testing.assert_allclose(res.params[b], states[-1], atol=tol, rtol=0)
    # the conserved quantities are those of the recorded parameters
    np.testing.assert_allclose(res.conserved, conserved_quantities(arch, res.trajectory),
                               rtol=1e-12, atol=1e-14)
    assert res.record_steps[0] == 0 and res.record_steps[-1] == res.steps_taken.max()


def _loglog_slope(x, y):
    return np.polyfit(np.log10(x), np.log10(y), 1)[0]


def test_conserved_drift_scales_with_tolerance():
    """c_k = ||w_k||² − ||a_k||² is conserved by the flow; the integrator's drift is of the
    order of the tolerance: about one decade per decade."""
    X, _ = _data(16, 3, seed=0)
    y = np.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:]
    tols = np.array([1e-4, 1e-5, 1e-6, 1e-7, 1e-8])
    # smooth homogeneous case: linear network
    arch = Architecture(3, (5,), 1, activation="linear", hidden_bias=False, output_bias=False)
    theta = init_params(arch, n_networks=3, seed=2)
    drift = []
    for tol in tols:
        res = gradient_flow(theta, X, y, arch=arch, t_end=2.0, rtol=tol, atol=tol,
                            record_times=[0.0, 1.0, 2.0], progress=False)
        drift.append(np.abs(res.conserved_drift()).max())
    slope = _loglog_slope(tols, drift)
    assert 0.8 < slope < 1.2, (slope, drift)
    assert drift[-1] < 1e-7
    # ReLU with biases, a network whose flow crosses kinks but does not slide along one
    arch = Architecture(3, (5,), 1, activation="relu")
    theta = init_params(arch, n_networks=4, seed=2)[1:2]
    drift, evals = [], []
    for tol in tols[:4]:
        res = gradient_flow(theta, X, y, arch=arch, t_end=2.0, rtol=tol, atol=tol,
                            record_times=[0.0, 2.0], progress=False)
        drift.append(np.abs(res.conserved_drift()).max())
        evals.append(res.n_evaluations[0])
    assert _loglog_slope(tols[:4], drift) > 0.7, drift
    assert drift[-1] < 1e-6 and evals[-1] < 2000, (drift, evals)
    # GD with rate eta drifts by O(eta) at a fixed time; the flow at tol 1e-7 is far closer
    gd = train(theta, X, y, arch=arch, lr=1e-3, steps=2000, progress=False)
    assert np.abs(gd.conserved_drift()).max() > 100 * drift[-1]


def test_per_network_independence_and_threads(monkeypatch):
    """Each network has its own t and h: integrating a stack gives bit for bit what each
    network gives alone, for 1 or 2 threads, run after run."""
    monkeypatch.setattr(flow_mod, "_THREAD_SECONDS", 1e-12)  # use both threads even for tiny calls
    X, _ = _data(40, 2, seed=4)
    y = (X[:, :1] * X[:, 1:] > 0) * 1.0
    arch = Architecture(2, (6,), 1, activation="tanh")
    theta = init_params(arch, n_networks=5, seed=7)
    kw = dict(arch=arch, loss="bce", t_end=3.0, rtol=1e-4, atol=1e-7, record_params=True,
              record_times=np.linspace(0.0, 3.0, 7), progress=False)
    one = gradient_flow(theta, X, y, n_threads=1, **kw)
    again = gradient_flow(theta, X, y, n_threads=1, **kw)
    two = gradient_flow(theta, X, y, n_threads=2, **kw)
    for r in (two, again):
        for name in ("params", "loss", "trajectory", "conserved", "steps_taken",
                     "n_evaluations", "rejected_steps", "step_size", "final_loss"):
            np.testing.assert_array_equal(getattr(one, name), getattr(r, name), err_msg=name)
    assert len(set(one.steps_taken.tolist())) > 1  # the networks did take different steps
    for b in (0, 3):
        alone = gradient_flow(theta[b], X, y, n_threads=1, **kw)
        np.testing.assert_array_equal(alone.params[0], one.params[b])
        np.testing.assert_array_equal(alone.loss[0], one.loss[b])
        assert alone.n_evaluations[0] == one.n_evaluations[b]


def test_train_dispatch_and_stops():
    X, _ = _data(20, 2, seed=5)
    y = X[:, :1] ** 2
    arch = Architecture(2, (6,), 1, activation="tanh")
    theta = init_params(arch, n_networks=3, seed=1)
    direct = gradient_flow(theta, X, y, arch=arch, t_end=3.0, progress=False)
    res = train(theta, X, y, arch=arch, optimizer="flow", t_end=3.0, progress=False)
    np.testing.assert_array_equal(res.params, direct.params)
    assert res.settings["optimizer"] == "flow" and res.record_times.size == 101
    assert res.record_steps.dtype == np.int64 and np.all(np.diff(res.record_steps) >= 0)
    text = res.summary()
    assert "reached t_end" in text and "gradient evaluations" in text
    assert set(res.to_dict()) >= {"final_loss", "final_time", "n_evaluations", "record_times"}
    # loss is non-increasing along the flow (up to the tolerance)
    assert np.all(np.diff(res.loss, axis=1) < 1e-6)
    # target loss: stop at the first accepted step below it; records after it are NaN
    target = float(np.median(direct.loss[:, 50]))
    stop = gradient_flow(theta, X, y, arch=arch, t_end=3.0, target_loss=target, progress=False)
    hit = stop.reached_target
    assert hit.any() and np.all(stop.final_loss[hit] <= target)
    assert np.all(stop.final_time[hit] < 3.0) and np.all(np.isnan(stop.loss[hit, -1]))
    assert np.all(stop.status[hit] == flow_mod.REACHED_TARGET)
    # max_steps (train's `steps`): accepted steps are capped
    capped = train(theta, X, y, arch=arch, optimizer="flow", t_end=3.0, steps=4, progress=False)
    assert np.all(capped.steps_taken == 4) and np.all(capped.final_time < 3.0)
    assert np.all(capped.status == flow_mod.MAX_STEPS)


def test_flow_is_the_small_rate_limit_of_gd():
    X, _ = _data(10, 2, seed=6)
    y = np.cos(X[:, :1])
    arch = Architecture(2, (4,), 1, activation="tanh")
    theta = init_params(arch, n_networks=1, seed=0)
    flow = gradient_flow(theta, X, y, arch=arch, t_end=1.0, rtol=1e-10, atol=1e-12,
                         progress=False)
    errs = [np.abs(train(theta, X, y, arch=arch, lr=1.0 / n, steps=n, progress=False).params
                   - flow.params).max() for n in (100, 1000)]
    assert 8 < errs[0] / errs[1] < 12  # GD's global error is first order in the rate


def test_divergence_is_flagged():
    X, _ = _data(8, 2)
    y = X[:, :1]
    arch = Architecture(2, (3,), 1)
    theta = init_params(arch, n_networks=2, seed=0)
    theta[1] *= 1e200  # outputs overflow to inf
    with pytest.warns(DivergenceWarning, match="1 of 2"):
        res = gradient_flow(theta, X, y, arch=arch, t_end=1.0, progress=False)
    assert res.diverged.tolist() == [False, True]
    assert np.all(np.isfinite(res.params))
    assert res.final_time[0] == 1.0 and res.final_time[1] == 0.0


def test_interrupt_between_calls_propagates(monkeypatch):
    X, _ = _data(8, 2)
    arch = Architecture(2, (3,), 1, activation="tanh")
    calls = {"n": 0}
    real = flow_mod._Gradient.__call__

    def interrupted(self, theta, want_grad=True):
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt
        return real(self, theta, want_grad)

    monkeypatch.setattr(flow_mod._Gradient, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        gradient_flow(init_params(arch, seed=0), X, X[:, :1], arch=arch, t_end=100.0,
                      progress=True, method="python")
    assert calls["n"] == 20


def test_calls_are_bounded():
    arch = Architecture(30, (64,), 1)
    X = np.zeros((455, 30))
    g = flow_mod._Gradient(arch, "mse", flow_mod._engine.prepare_data(arch, X, X[:, 0], "mse"),
                           n_threads=2)
    # each compiled call holds at most ~0.25 s of work under the cost model
    assert g.max_rows * g.per_net / 2 <= flow_mod._CALL_SECONDS
    assert g.threads(1) == 1 and g.threads(1000) == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(t_end=0.0), "t_end"),
    (dict(t_end=float("inf")), "t_end"),
    (dict(t_end=1.0, rtol=-1e-3), "rtol"),
    (dict(t_end=1.0, rtol=1e-20), "rtol"),
    (dict(t_end=1.0, atol=-1.0), "atol"),
    (dict(t_end=1.0, rtol=0.0, atol=0.0), "rtol"),
    (dict(t_end=1.0, record_times=[0.0, 2.0]), "record_times"),
    (dict(t_end=1.0, record_times=[0.5, 0.2]), "record_times"),
    (dict(t_end=1.0, record_times=[]), "record_times"),
    (dict(t_end=1.0, record_times=[[0.1]]), "record_times"),
    (dict(t_end=1.0, max_steps=0), "max_steps"),
    (dict(t_end=1.0, first_step=-0.1), "first_step"),
    (dict(t_end=1.0, target_loss="low"), "target_loss"),
    (dict(t_end=1.0, progress="yes"), "progress"),
    (dict(t_end=1.0, loss="hinge"), "loss"),
])
def test_bad_arguments(kwargs, match):
    arch = Architecture(2, (3,), 1)
    X = np.ones((4, 2))
    with pytest.raises(ValidationError, match=match):
        gradient_flow(init_params(arch, seed=0), X, X[:, 0], arch=arch, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(optimizer="flow"), "t_end"),
    (dict(optimizer="flow", t_end=1.0, lr=0.1), "lr"),
    (dict(optimizer="flow", t_end=1.0, batch_size=2), "batch_size"),
    (dict(optimizer="flow", t_end=1.0, record_every=5), "record_every"),
    (dict(optimizer="flow", t_end=1.0, checkpoint="x.npz"), "checkpoint"),
    (dict(optimizer="gd", lr=0.1, steps=2, t_end=1.0), "t_end"),
    (dict(optimizer="adam", lr=0.1, steps=2, rtol=1e-3), "rtol"),
    (dict(optimizer="gd", steps=2), "lr"),
])
def test_train_bad_arguments(kwargs, match):
    arch = Architecture(2, (3,), 1)
    X = np.ones((4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match=match):
            train(init_params(arch, seed=0), X, X[:, 0], arch=arch, progress=False, **kwargs)


def test_flow_vs_gd_script_small(load_script, tmp_path):
    """scripts/flow_vs_gd.py at small settings: both methods reach GD's final loss, the flow
    with fewer gradient evaluations; the CSVs and the figure are written."""
    pytest.importorskip("matplotlib")
    mod = load_script("flow_vs_gd")
    out = tmp_path / "fvg"
    assert mod.main(["--out", str(out), "--width", "10", "--lr", "2e-2", "--steps", "15000",
                     "--rtol", "1e-2", "--repeats", "1", "--n-networks", "2"]) == 0
    with open(out / "flow_vs_gd.csv") as fh:
        header, *rows = [line.strip().split(",") for line in fh]
    rows = [dict(zip(header, r)) for r in rows]
    assert [r["method"] for r in rows] == ["gd", "flow", "gd_to_t_end", "flow_to_t_end"]
    assert all(r["reached"] == "True" for r in rows[:2])
    gd, fl, gd_end, fl_end = rows
    assert int(gd_end["gradient_evaluations"]) == 2 * 15000 and gd_end["n_networks"] == "2"
    assert int(fl_end["gradient_evaluations"]) < 15000
    assert float(fl_end["max_final_loss_gap"]) < 5e-3  # rtol 1e-2 here; the loss is ~0.03
    assert int(fl["gradient_evaluations"]) < int(gd["gradient_evaluations"]) / 2
    assert abs(float(fl["loss_reached"]) - float(gd["loss_reached"])) < 1e-4
    assert (out / "loss_vs_time.csv").stat().st_size > 0 and (out / "flow_vs_gd.png").exists()
