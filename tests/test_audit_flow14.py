"""Audit of the gradient flow (session 14): ``gradient_flow``'s compiled Dormand-Prince loop
(``ext/flow.pyx``) and its Python reference against independent oracles — closed forms of
the l1 flow of a shallow kinked network (a linear ODE between kinks), SciPy's DOP853 — and
at its edges (step sizes that cannot advance the time, kinks, batches, threads)."""

import warnings

import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.dynamics import gradient_flow
from topoanalysis.exceptions import DivergenceWarning

METHODS = ("compiled", "python")


def _small(seed=0, B=1):
    arch = Architecture(2, (3,), 1)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((6, 2)), rng.standard_normal(6)
    return arch, X, y, rng.standard_normal((B, arch.n_params))


# --- a step size that cannot advance the time ---------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_a_zero_step_size_is_reported_not_repeated_forever(method):
    """Parameters ~1e75 (loss 2e300, finite): the squared gradient norm of Hairer's starting
    step overflows and the starting step was 0. Before: every step of length 0 was accepted,
    the time never advanced (final_time 0 after max_steps steps; without max_steps the run
    never ended). Now: the network stops as diverged (a warning), the other network of the
    stack is untouched."""
    arch, X, y, th = _small(B=2)
    th[0] *= 1e75
    with pytest.warns(DivergenceWarning, match="1 of 2 networks diverged"):
        r = gradient_flow(th, X, y, arch=arch, t_end=1.0, progress=False, method=method,
                          max_steps=5000)
    assert r.status.tolist() == [3, 1]
    assert r.steps_taken[0] == 0 and r.final_time[0] == 0.0
    assert np.array_equal(r.params[0], th[0])
    alone = gradient_flow(th[1], X, y, arch=arch, t_end=1.0, progress=False, method=method,
                          max_steps=5000)
    for f in ("params", "loss", "final_loss", "n_evaluations", "steps_taken"):
        assert np.array_equal(getattr(r, f)[1:], getattr(alone, f)), f


def test_an_unreachable_absolute_tolerance_stops_at_once_without_numpy_warnings():
    """rtol = 0, atol = 1e-300: the starting step's norms overflow (inf / inf = NaN).
    Before: 60 rejected steps of NaN length (362 evaluations), and the reference integrator
    warned 'overflow encountered in square'. Now: stopped after the 2 evaluations of the
    start, the same way in both methods, with the DivergenceWarning only."""
    arch, X, y, th = _small(B=2)
    out = {}
    for m in METHODS:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out[m] = gradient_flow(th, X, y, arch=arch, t_end=1.0, rtol=0.0, atol=1e-300,
                                   progress=False, method=m)
        assert [x.category for x in w] == [DivergenceWarning], [str(x.message) for x in w]
        assert out[m].status.tolist() == [3, 3] and out[m].n_evaluations.tolist() == [2, 2]
    assert np.array_equal(out["compiled"].params, out["python"].params)


# --- compiled == reference: the records bit for bit ---------------------------------------------
@pytest.mark.parametrize("arch, loss", [
    (Architecture(4, (3, 6, 1), 2, activation="linear"), "cross_entropy"),
    (Architecture(3, (6,), 3, output_bias=False), "bce"),
    (Architecture(1, (5, 3, 5), 3, activation="tanh"), "l1"),
    (Architecture(4, (6,), 1, activation="leaky_relu"), "mse"),
])
def test_records_between_steps_agree_bit_for_bit(arch, loss):
    """The continuous extension of the reference integrator took x³ and x⁴ from NumPy's power
    (its AVX-512 loop rounds ~5% of them differently from the C library's pow the compiled
    flow uses), and its conserved quantities from ``conserved_quantities`` (another order of
    the sums): loss, trajectory and conserved records differed in the last bits on AVX-512
    machines (params and step counts did not)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((17, arch.inputs))
    y = (rng.integers(0, arch.outputs, 17) if loss == "cross_entropy" else
         (rng.random((17, arch.outputs)) < .5) * 1.0)
    th = rng.standard_normal((2, arch.n_params))
    kw = dict(arch=arch, loss=loss, t_end=0.9, rtol=1e-6, atol=1e-9, progress=False,
              record_times=np.linspace(0, 0.9, 37), record_params=True)
    c = gradient_flow(th, X, y, method="compiled", **kw)
    p = gradient_flow(th, X, y, method="python", **kw)
    for f in ("params", "loss", "trajectory", "conserved", "final_loss", "n_evaluations"):
        assert np.array_equal(getattr(c, f), getattr(p, f)), f


def test_huge_incoming_weights_are_recorded_alike_by_both_methods():
    """Incoming weights ~1e155 with outgoing weights ~1e-160 (finite outputs and loss): the
    reference integrator raised the ValidationError of ``conserved_quantities`` (squares
    overflow) where the compiled flow records inf; now both stop the network as diverged
    (its starting step is 0: the gradient norm overflows) with the same records."""
    arch, X, y, th = _small(B=2)
    th[0, :9] *= 1e155
    th[0, 9:12] *= 1e-160
    out = {}
    for m in METHODS:
        with pytest.warns(DivergenceWarning, match="1 of 2"):
            out[m] = gradient_flow(th, X, y, arch=arch, t_end=1.0, progress=False, method=m,
                                   record_times=[0.0, 0.5, 1.0])
        assert out[m].status.tolist() == [3, 1]
        assert np.isinf(out[m].conserved[0, 0]).all()
    for f in ("params", "loss", "conserved", "n_evaluations"):
        assert np.array_equal(getattr(out["compiled"], f), getattr(out["python"], f),
                              equal_nan=True), f


# --- interruptible: a call's records count against its budget -----------------------------------
class _Calls:
    """The compiled module with a ``flow_chunk`` that notes each call's budget and the loss
    evaluations (records between steps) it spent."""

    def __init__(self, kern):
        self.kern, self.calls = kern, []

    def __getattr__(self, name):
        return getattr(self.kern, name)

    def flow_chunk(self, *args):
        n_loss = args[30]
        before = int(n_loss.sum())
        out = self.kern.flow_chunk(*args)
        self.calls.append((args[17], int(n_loss.sum()) - before))
        return out


@pytest.mark.parametrize("events", [False, True])
def test_records_inside_one_step_do_not_make_a_call_unbounded(monkeypatch, events):
    """20,001 record times over a flow of ~10 steps: every step passes ~2,000 records, each a
    loss evaluation on all data. Before: a call spent all records of its steps whatever its
    budget (measured: 10,000 records of a 4,000-sample network kept one call, and Ctrl-C,
    busy for 392 s). Now records count against the budget and a call may stop inside a
    step's records (the step is redone at the next call, not counted twice): each call
    spends at most its budget, and the numbers are those of one uncut call and of the
    reference integrator."""
    from topoanalysis.dynamics import flow as flow_mod

    arch = Architecture(2, (4,), 1)
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((40, 2)), rng.standard_normal(40)
    th = rng.standard_normal((2, arch.n_params))
    kw = dict(arch=arch, loss="l1", t_end=1.0, rtol=1e-3, atol=1e-6, progress=False,
              record_times=np.linspace(0.0, 1.0, 20001), record_params=True,
              kink_events=events)
    with monkeypatch.context() as m:
        m.setattr(flow_mod, "_eval_budget", lambda *a, **k: 1 << 40)
        one = gradient_flow(th, X, y, **kw)
    calls = _Calls(flow_mod._flow_kernels())
    monkeypatch.setattr(flow_mod, "_flow_kernels", lambda: calls)
    monkeypatch.setattr(flow_mod, "_eval_budget", lambda *a, **k: 500)
    cut = gradient_flow(th, X, y, **kw)
    assert len(calls.calls) > 40
    assert max(spent for _, spent in calls.calls) <= 2 * 500      # two networks
    for f in ("params", "loss", "trajectory", "conserved", "final_loss", "final_time",
              "steps_taken", "rejected_steps", "n_evaluations", "n_loss_evaluations",
              "record_accepted", "step_size", "status", "kink_events", "sliding_kinks"):
        a, b = getattr(one, f), getattr(cut, f)
        assert (a is None and b is None) or np.array_equal(a, b, equal_nan=True), f
    assert (one.n_loss_evaluations > 15000).all()
    if not events:
        ref = gradient_flow(th, X, y, method="python", **kw)
        for f in ("params", "loss", "trajectory", "n_evaluations", "n_loss_evaluations"):
            assert np.array_equal(getattr(one, f), getattr(ref, f)), f


# --- kink events: sliding on dependent kinks ------------------------------------------------------
@pytest.mark.parametrize("xs", [[1.0, 2.0], [1.0, 2.0, 3.0], [1.0, -2.0, 0.5, 3.0],
                                [1.0, 1.0, 1.0], list(np.linspace(0.5, 3.0, 12)),
                                [1.0] * 20])
def test_sliding_pairs_with_dependent_inputs_stay_on_the_kink(xs):
    """f = a |w x| + c without hidden bias on several inputs, y = 0, from (0.3, 1, 1): every
    pair reaches its kink when w = 0, where both sides push w back (ẇ ∝ −a c Σ|x_n| sign w):
    a sliding mode with w ≡ 0, a constant and c(t) = c(t₁) e^{−2 (t − t₁)} (f = c on all
    samples). The sliding pairs' inputs are dependent (their Gram matrix has rank 1). Before:
    the elimination put the whole correction on the first pair (λ = −1/2 clipped to 0, the
    others λ = 1): w left the kink, ~20-40 spurious events, c off by up to 7× at t = 3 (and
    not converging with the tolerance). Now the Filippov fractions closest to 1/2 are
    taken. More than 8 sliding pairs on one neuron (12 inputs, 20 duplicates): the pairs
    after the 8th were left out of the system (λ = 1 for ever); at rtol 1e-9, 2,872
    events and 178,462 evaluations, c off by 7e-4."""
    arch = Architecture(1, (1,), 1, activation="abs", hidden_bias=False)
    X, y = np.array(xs)[:, None], np.zeros(len(xs))
    times = np.linspace(0, 3, 31)
    ev = gradient_flow(np.array([0.3, 1.0, 1.0]), X, y, arch=arch, t_end=3.0, rtol=1e-9,
                       atol=1e-11, kink_events=True, record_times=times, record_params=True,
                       progress=False)
    tr = ev.trajectory[0]
    t1 = int(np.argmax(np.abs(tr[:, 0]) < 1e-12))     # first record on the kink
    assert 0 < t1 <= 20
    assert np.abs(tr[t1:, 0]).max() < 1e-12
    np.testing.assert_array_equal(tr[t1:, 1], tr[t1, 1])
    np.testing.assert_allclose(tr[t1:, 2], tr[t1, 2] * np.exp(-2 * (times[t1:] - times[t1])),
                               rtol=1e-7)
    assert ev.kink_events[0] <= 2 and ev.sliding_kinks[0] >= 2
    # converged: a looser run gives the same final state (before: 2e-3 apart)
    loose = gradient_flow(np.array([0.3, 1.0, 1.0]), X, y, arch=arch, t_end=3.0, rtol=1e-6,
                          atol=1e-8, kink_events=True, progress=False)
    np.testing.assert_allclose(loose.params[0], ev.params[0], rtol=0, atol=1e-7)


# --- memory of the records ------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_records_beyond_the_available_memory_are_refused_before_any_work(monkeypatch, method):
    """``train`` refuses records that do not fit in memory (ResourceError naming the size);
    ``gradient_flow`` allocated ``(B, R, P)`` trajectories without a check (on this 23 GB
    machine, 2e8 record times with ``record_params`` asked NumPy for 20.8 GB before any
    step). Now the same one-line ResourceError, naming ``record_times``."""
    from topoanalysis import _resources
    from topoanalysis.exceptions import ResourceError

    monkeypatch.setattr(_resources, "available_memory", lambda: 4e6)
    arch, X, y, th = _small(B=2)
    kw = dict(arch=arch, t_end=1.0, progress=False, method=method)
    with pytest.raises(ResourceError, match="record_times"):
        gradient_flow(th, X, y, record_times=np.linspace(0, 1, 100001), record_params=True,
                      **kw)
    r = gradient_flow(th, X, y, record_times=np.linspace(0, 1, 101), **kw)   # fits
    assert (r.status == 1).all()


# --- kink events against the closed form of the l1 flow -------------------------------------------
def _l1_exact(W, b, a, c, X, act, times, slope=0.01):
    """The flow of f = Σ a_k σ(w_k·x + b_k) + c under the l1 loss while every residual is
    negative (targets 1e4): ċ = 1 and, per neuron, with u = (w, b), m = mean_n s_n x̃_n
    (s_n the activation's slope on the pair's side), u̇ = a m, ȧ = m·u: between kinks
    a(s) = a0 cosh(|m| s) + (m·u0)/|m| sinh(|m| s), u(s) = u0 + m A(s), A = ∫a. Crossings are
    located on the closed form (brentq); returns the parameters at ``times`` and the
    crossing times."""
    from scipy.optimize import brentq

    N = X.shape[0]
    Xt = np.c_[X, np.ones(N)]
    side = {"relu": 0.0, "leaky_relu": slope, "abs": -1.0}[act]

    def state(u, a0, m, s):
        mm, v0 = np.linalg.norm(m), m @ u
        if mm == 0.0:      # a dead neuron (relu, every sample inactive): nothing moves
            return u, a0
        A = a0 * np.sinh(mm * s) / mm + v0 * (np.cosh(mm * s) - 1) / mm ** 2
        return u + m * A, a0 * np.cosh(mm * s) + v0 / mm * np.sinh(mm * s)

    T = times[-1]
    out = np.zeros((len(times), W.size + len(b) + len(a) + 1))
    crossings = []
    for k in range(len(a)):
        u, ak, t = np.r_[W[k], b[k]], a[k], 0.0
        act_ = Xt @ u > 0
        pieces = []
        while True:
            m = (np.where(act_, 1.0, side)[:, None] * Xt).mean(axis=0)
            pieces.append((t, u, ak, m))
            best = None
            for n in range(N):
                g = lambda s: Xt[n] @ state(u, ak, m, s)[0]  # noqa: E731
                grid = np.linspace(0, T - t, 400)[1:]
                vals = np.array([g(s) for s in grid])
                hit = np.flatnonzero((vals > 0) != act_[n])
                if hit.size:
                    lo = grid[hit[0] - 1] if hit[0] else 0.0
                    s = brentq(g, lo, grid[hit[0]], xtol=1e-15, rtol=1e-15) if g(lo) != 0 \
                        else lo
                    best = min(best, (s, n)) if best else (s, n)
            if best is None:
                break
            s, n = best
            u, ak = state(u, ak, m, s)
            t += s
            act_[n] = not act_[n]
            crossings.append(t)
        for i, ti in enumerate(times):
            t0, u0, a0, m = [p for p in pieces if p[0] <= ti][-1]
            uu, aa = state(u0, a0, m, ti - t0)
            d = W.shape[1]
            out[i, k * d:(k + 1) * d] = uu[:d]
            out[i, W.size + k] = uu[d]
            out[i, W.size + len(b) + k] = aa
    out[:, -1] = c + np.asarray(times)
    return out, sorted(crossings)


@pytest.mark.parametrize("act, seed", [("relu", 0), ("leaky_relu", 4), ("abs", 1),
                                       ("relu", 7)])
def test_kink_events_follow_the_closed_form_of_the_l1_flow(act, seed):
    """Several neurons and samples, each crossing located on the closed form: with events the
    records (including records exactly at the crossing times) are the closed form to 2e-9
    at rtol 1e-10, and one event per crossing; without events the same to 1e-7."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, 2))
    W, b, a = rng.standard_normal((3, 2)), rng.standard_normal(3) * 0.5, \
        rng.standard_normal(3) * 0.5
    arch = Architecture(2, (3,), 1, activation=act)
    _, cross = _l1_exact(W, b, a, 0.0, X, act, np.array([0.0, 2.0]))
    assert len(cross) >= 1
    times = np.unique(np.r_[np.linspace(0, 2, 9), cross])
    exact, _ = _l1_exact(W, b, a, 0.0, X, act, times)
    th = np.r_[W.ravel(), b, a, 0.0]
    kw = dict(arch=arch, loss="l1", t_end=2.0, rtol=1e-10, atol=1e-12, record_times=times,
              record_params=True, progress=False)
    ev = gradient_flow(th, X, np.full(5, 1e4), kink_events=True, **kw)
    assert ev.kink_events[0] == len(cross) and ev.sliding_kinks[0] == 0
    np.testing.assert_allclose(ev.trajectory[0], exact, rtol=0, atol=2e-9)
    plain = gradient_flow(th, X, np.full(5, 1e4), **kw)
    np.testing.assert_allclose(plain.trajectory[0], exact, rtol=0, atol=1e-7)


@pytest.mark.parametrize("W, b, a, X, n_events", [
    ([[1.0, 0.0]], [-1.0], [0.5], [[1.0, 0.0], [2.0, 1.0]], 1),      # z = 0 at t = 0, rises
    ([[1.0, 0.0]], [-1.0], [-0.5], [[1.0, 0.0], [2.0, 1.0]], 1),     # z = 0 at t = 0, falls
    ([[1.5], [1.5]], [-0.5, -0.5], [0.0, 0.0], [[1.0], [0.0]], 1),   # two neurons at once
    ([[1.5], [1.5]], [-0.5, -0.5 - 1e-9], [0.0, 0.0], [[1.0], [0.0]], 2),   # 2.4e-9 apart
    ([[1.0], [1.5]], [-10.0, -0.5], [1.0, 0.0], [[1.0], [0.0]], 1),  # a dead neuron
])
def test_kink_events_at_zero_simultaneous_and_dead(W, b, a, X, n_events):
    W, b, a, X = (np.array(v, dtype=float) for v in (W, b, a, X))
    arch = Architecture(W.shape[1], (len(a),), 1)
    _, cross = _l1_exact(W, b, a, 0.0, X, "relu", np.array([0.0, 3.0]))
    times = np.unique(np.r_[np.linspace(0, 3, 7), cross])
    exact, _ = _l1_exact(W, b, a, 0.0, X, "relu", times)
    ev = gradient_flow(np.r_[W.ravel(), b, a, 0.0], X, np.full(len(X), 1e8), arch=arch,
                       loss="l1", t_end=3.0, rtol=1e-10, atol=1e-12, record_times=times,
                       record_params=True, progress=False, kink_events=True)
    assert ev.kink_events[0] == n_events and ev.sliding_kinks[0] == 0
    np.testing.assert_allclose(ev.trajectory[0], exact, rtol=1e-9, atol=2e-9)
