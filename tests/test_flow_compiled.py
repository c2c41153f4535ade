"""The compiled gradient flow (``ext/flow.pyx``): same numbers as the Python reference
integrator, determinism, interruptible calls, and kink events against closed forms."""

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.dynamics import flow as flow_mod
from topoanalysis.dynamics import gradient_flow
from topoanalysis.init import init_params

kern = flow_mod._flow_kernels()

FIELDS_EXACT = ("steps_taken", "rejected_steps", "n_evaluations", "n_loss_evaluations",
                "status", "record_accepted", "record_steps", "diverged", "reached_target")
FIELDS_CLOSE = ("params", "loss", "trajectory", "conserved", "final_loss", "final_time",
                "step_size")


def _assert_same(a, b, tol=1e-12):
    for name in FIELDS_EXACT:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in FIELDS_CLOSE:
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            assert y is None, name
            continue
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=name)


def test_tableau_and_pairwise_sum_are_the_python_ones():
    A, E, P = kern.tableau()
    for s in range(1, 7):
        assert A[s - 1] == tuple(flow_mod._A[s])
    assert E == flow_mod._E and P == flow_mod._P
    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 8, 9, 17, 128, 129, 193, 1000, 4099):
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
        assert kern.pairwise_sum_of(a) == np.add.reduce(a)     # bit for bit


CASES = [
    # hidden, activation, hidden bias, outputs, loss, rtol
    ((5,), "relu", True, 1, "mse", 1e-5),          # crossings: rejected steps
    ((5,), "relu", True, 1, "bce", 1e-4),
    ((7,), "leaky_relu", False, 1, "l1", 1e-3),
    ((4,), "tanh", True, 3, "cross_entropy", 1e-7),
    ((6,), "sigmoid", True, 2, "mse", 1e-7),
    ((4, 3), "relu", True, 1, "mse", 1e-5),        # two hidden layers: the general pass
    ((5,), "abs", False, 1, "mse", 1e-4),
]


@pytest.mark.parametrize("hidden, act, hb, e, loss, rtol", CASES)
def test_compiled_matches_python(hidden, act, hb, e, loss, rtol):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((37, 3))   # 3 blocks of 16 samples, the last one partial
    if loss == "cross_entropy":
        y = rng.integers(0, e, size=37)
    elif loss == "bce":
        y = (X[:, :e] > 0) * 1.0
    else:
        y = np.tanh(X[:, :e]) + 0.1 * X[:, 1:2]
    arch = Architecture(3, hidden, e, activation=act, hidden_bias=hb)
    theta = init_params(arch, "xavier_normal", seed=3, n_networks=3, bias_init="normal",
                        bias_std=0.3)
    kw = dict(arch=arch, loss=loss, t_end=2.0, rtol=rtol, atol=rtol * 1e-2,
              record_times=np.r_[0.0, np.sort(rng.uniform(0, 2, 9)), 2.0],
              record_params=True, progress=False)
    py = gradient_flow(theta, X, y, method="python", **kw)
    co = gradient_flow(theta, X, y, method="compiled", **kw)
    assert co.settings["integrator"] == "compiled" and py.settings["integrator"] == "python"
    assert np.all(co.final_time == 2.0) and np.all(co.n_loss_evaluations > 0)
    _assert_same(py, co)


def test_compiled_matches_python_stops_and_options():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((20, 2))
    y = X[:, :1] ** 2
    arch = Architecture(2, (6,), 1, activation="linear")   # outputs overflow for network 3
    theta = init_params(arch, n_networks=4, seed=1)
    theta[3] *= 1e200   # diverges at the start
    common = dict(arch=arch, t_end=3.0, progress=False, record_times=np.linspace(0, 3, 13))
    for kw in (dict(target_loss=0.05), dict(max_steps=5), dict(first_step=1e-3),
               dict(rtol=0.0, atol=1e-6), dict(record_conserved=False, record_params=True)):
        with pytest.warns(Warning, match="1 of 4"):
            py = gradient_flow(theta, X, y, method="python", **common, **kw)
        with pytest.warns(Warning, match="1 of 4"):
            co = gradient_flow(theta, X, y, method="compiled", **common, **kw)
        _assert_same(py, co)
        assert co.diverged.tolist() == [False, False, False, True]


def test_threads_stacks_and_call_cuts_do_not_change_a_bit(monkeypatch):
    monkeypatch.setattr(flow_mod, "_TEAM_SECONDS", 1e-12)  # both threads even for tiny calls
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 2))
    y = (X[:, :1] * X[:, 1:] > 0) * 1.0
    arch = Architecture(2, (6,), 1)
    theta = init_params(arch, n_networks=5, seed=7)
    for events in (False, True):
        kw = dict(arch=arch, loss="bce", t_end=3.0, rtol=1e-5, atol=1e-8, record_params=True,
                  record_times=np.linspace(0.0, 3.0, 7), progress=False, kink_events=events)
        one = gradient_flow(theta, X, y, n_threads=1, **kw)
        two = gradient_flow(theta, X, y, n_threads=2, **kw)
        with monkeypatch.context() as m:   # one step per call
            m.setattr(flow_mod, "_eval_budget", lambda *a, **k: 7)
            cut = gradient_flow(theta, X, y, n_threads=2, **kw)
        for r in (two, cut):
            _assert_same(one, r, tol=0.0)
        alone = gradient_flow(theta[3], X, y, n_threads=1, **kw)
        np.testing.assert_array_equal(alone.params[0], one.params[3])
        np.testing.assert_array_equal(alone.loss[0], one.loss[3])
        if events:
            assert one.kink_events.sum() > 0
            np.testing.assert_array_equal(one.kink_events, cut.kink_events)


class _Stop:
    """The compiled module with a ``flow_chunk`` that raises KeyboardInterrupt at call
    ``at`` (what Ctrl-C does between two calls)."""

    def __init__(self, at):
        self.at, self.calls, self.budgets = at, 0, []

    def __getattr__(self, name):
        return getattr(kern, name)

    def flow_chunk(self, *args):
        self.calls += 1
        self.budgets.append(args[17])
        if self.calls == self.at:
            raise KeyboardInterrupt
        return kern.flow_chunk(*args)


def test_interrupt_between_compiled_calls(monkeypatch):
    arch = Architecture(2, (3,), 1, activation="tanh")
    X = np.random.default_rng(0).standard_normal((8, 2))
    stop = _Stop(at=4)
    monkeypatch.setattr(flow_mod, "_flow_kernels", lambda: stop)
    with pytest.raises(KeyboardInterrupt):
        gradient_flow(init_params(arch, seed=0), X, X[:, :1], arch=arch, t_end=1e6,
                      rtol=1e-10, progress=True)
    assert stop.calls == 4
    assert stop.budgets[:3] == [8, 64, 512]     # the first calls are short, then grow


def test_call_budget_is_bounded_by_the_measured_cost():
    # 0.25 s per call: 1e-4 s per evaluation, 100 networks on 2 threads -> 50 evaluations
    assert flow_mod._eval_budget(100, 1e-4, 2) == 50
    assert flow_mod._eval_budget(1, 1.0, 2) == 7       # always at least one whole step
    assert flow_mod._eval_budget(3, 1e-7, 8) == int(0.25 / 1e-7)


# --- kink events ------------------------------------------------------------------------------
def _relu_crossing(t):
    """Closed form of the flow of f(x) = a relu(w x + b) + c on x = (1, 0), y = (100, 100),
    L1 loss, from (w, b, a, c) = (1.5, -0.5, 0, 0).

    The residuals stay negative, so ċ = 1 and, while sample 2 (z = b) is inactive, with
    u = w + b: u̇ = a, ȧ = u/2, ẇ = ḃ = a/2, hence u = cosh(t/√2), a = sinh(t/√2)/√2,
    b = −1/2 + (u − 1)/2. b reaches 0 at t* = √2 arccosh 2 (u = 2). Then both samples are
    active: v = w + 2b has v̇ = 5a/2, ȧ = v/2, so with Ω = √5/2 and s = t − t*,
    v = 2 cosh(Ωs) + (5a*/(2Ω)) sinh(Ωs), a* = √(3/2), w = 2 + (v − 2)/5, b = 2(v − 2)/5.
    """
    om, Om = 1 / np.sqrt(2), np.sqrt(5) / 2
    ts = np.sqrt(2) * np.arccosh(2.0)
    t = np.asarray(t, dtype=float)
    u = np.cosh(om * t)
    a1 = om * np.sinh(om * t)
    b1 = -0.5 + (u - 1) / 2
    w1 = u - b1
    s = t - ts
    a_s = np.sqrt(1.5)
    v = 2 * np.cosh(Om * s) + 5 * a_s / (2 * Om) * np.sinh(Om * s)
    a2 = 0.4 * (2 * Om * np.sinh(Om * s) + 2.5 * a_s * np.cosh(Om * s))
    w2, b2 = 2 + (v - 2) / 5, 0.4 * (v - 2)
    before = t <= ts
    return np.stack([np.where(before, w1, w2), np.where(before, b1, b2),
                     np.where(before, a1, a2), t], axis=-1), ts


def test_kink_event_at_the_known_crossing_time():
    arch = Architecture(1, (1,), 1, activation="relu")
    (w, b), (a, c) = arch.layer_slices
    theta = np.zeros(4)
    theta[w], theta[b], theta[a], theta[c] = 1.5, -0.5, 0.0, 0.0
    X, y = np.array([[1.0], [0.0]]), np.array([100.0, 100.0])
    _, ts = _relu_crossing(0.0)
    times = np.sort(np.r_[np.linspace(0, 3, 7), ts - 1e-3, ts, ts + 1e-3])
    exact, _ = _relu_crossing(times)
    exact = exact[:, [w.start, b.start, a.start, c.start]]   # columns in the parameter order
    kw = dict(arch=arch, loss="l1", t_end=3.0, rtol=1e-10, atol=1e-12, record_times=times,
              record_params=True, progress=False)
    ev = gradient_flow(theta, X, y, kink_events=True, **kw)
    assert ev.kink_events.tolist() == [1] and ev.sliding_kinks.tolist() == [0]
    # the step is cut at the crossing: the piecewise closed form to ~1e-10 everywhere,
    # including the records just before and after t* (continuous extension)
    np.testing.assert_allclose(ev.trajectory[0], exact, atol=2e-10, rtol=0)
    # without events the crossing costs rejected steps
    plain = gradient_flow(theta, X, y, **kw)
    assert plain.rejected_steps[0] > 10 * max(1, ev.rejected_steps[0])
    assert ev.n_evaluations[0] < plain.n_evaluations[0]
    # a crossing is located in time: at a looser tolerance the error stays at the
    # integrator's, not at the first-order error of a step across the kink
    loose = gradient_flow(theta, X, y, kink_events=True, **dict(kw, rtol=1e-6, atol=1e-8))
    np.testing.assert_allclose(loose.trajectory[0], exact, atol=2e-6, rtol=0)


def test_sliding_kink_costs_no_longer_one_over_rtol():
    """f = a |w| + c on x = 1, y = 0 from (w, a, c) = (0.3, 1, 1): w reaches the kink w = 0,
    where both sides push it back ((c − y) a > 0): a sliding (Filippov) mode with w ≡ 0,
    a constant and c(t) = c(t1) e^{−2 (t − t1)}. Without events every step chatters across
    the kink and the cost grows like 1/rtol."""
    arch = Architecture(1, (1,), 1, activation="abs", hidden_bias=False)
    X, y = np.array([[1.0]]), np.array([0.0])
    theta = np.array([0.3, 1.0, 1.0])
    times = np.linspace(0, 3, 31)
    kw = dict(arch=arch, t_end=3.0, record_times=times, record_params=True, progress=False)
    ev = gradient_flow(theta, X, y, rtol=1e-8, atol=1e-10, kink_events=True, **kw)
    assert ev.kink_events.tolist() == [1] and ev.sliding_kinks.tolist() == [1]
    tr = ev.trajectory[0]
    assert np.all(np.abs(tr[20:, 0]) < 1e-15)             # on the kink
    np.testing.assert_array_equal(tr[20:, 1], tr[20, 1])  # a is constant while sliding
    np.testing.assert_allclose(tr[20:, 2], tr[20, 2] * np.exp(-2 * (times[20:] - times[20])),
                               rtol=1e-7)
    plain = gradient_flow(theta, X, y, rtol=1e-4, atol=1e-6, **kw)
    assert ev.n_evaluations[0] < 1000 < 30 * 1000 < plain.n_evaluations[0]
    np.testing.assert_allclose(plain.params, ev.params, atol=1e-4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="fortran"), "method"),
    (dict(kink_events="yes"), "kink_events"),
    (dict(kink_events=True, method="python"), "method='compiled'"),
])
def test_bad_arguments(kwargs, match):
    arch = Architecture(2, (3,), 1)
    X = np.ones((4, 2))
    with pytest.raises(ValidationError, match=match):
        gradient_flow(init_params(arch, seed=0), X, X[:, 0], arch=arch, t_end=1.0, **kwargs)


@pytest.mark.parametrize("arch, loss, match", [
    (Architecture(2, (3,), 1, activation="tanh"), "mse", "kinked activation"),
    (Architecture(2, (3, 2), 1), "mse", "one hidden layer"),
    (Architecture(2, (3,), 2), "mse", "one output"),
])
def test_kink_events_need_a_shallow_kinked_network(arch, loss, match):
    X = np.ones((4, 2))
    with pytest.raises(ValidationError, match=match):
        gradient_flow(init_params(arch, seed=0), X, np.ones((4, arch.outputs)), arch=arch,
                      loss=loss, t_end=1.0, kink_events=True)


def test_infinite_loss_at_the_start_stops_at_once_in_both_methods():
    """Finite outputs (~1e300) with an infinite MSE loss: the network is stopped as diverged
    after its first evaluation (was: 60 rejected steps, hundreds of evaluations), the other
    network of the stack is untouched; both methods agree."""
    import warnings

    from topoanalysis import Architecture
    from topoanalysis.dynamics import gradient_flow
    from topoanalysis.init import init_params

    arch = Architecture(2, (4,), 1)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 2)), rng.standard_normal((10, 1))
    th = init_params(arch, "pytorch", n_networks=2, seed=0)
    th[0] *= 1e150
    out = {}
    for m in ("compiled", "python"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[m] = gradient_flow(th, X, y, arch=arch, t_end=1.0, method=m)
        assert out[m].status[0] == 3 and out[m].n_evaluations[0] == 1
        assert out[m].status[1] == 1
    np.testing.assert_array_equal(out["compiled"].n_evaluations, out["python"].n_evaluations)
