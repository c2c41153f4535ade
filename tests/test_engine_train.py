"""Training kernels against a plain NumPy loop over :func:`topoanalysis.network.loss_and_gradient`.

The reference reimplements the engine's mini-batch order (per-network seeds from
``numpy.random.SeedSequence(seed).generate_state``, splitmix64, Fisher-Yates per epoch) in pure
Python, so mini-batch runs are compared step by step too.
"""

import importlib
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topoanalysis import Architecture, DivergenceWarning, Network, ShapeError, ValidationError
from topoanalysis.init import init_params
from topoanalysis.network import conserved_quantities, loss_and_gradient
from topoanalysis.dynamics import TrainResult, train

RTOL = 1e-10
MASK = (1 << 64) - 1


# --- reference ---------------------------------------------------------------------------
def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def shuffled(n, state):
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        state, z = splitmix64(state)
        j = z % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm), state


def adam_step(th, g, m, v, t, lr, b1, b2, eps):
    w = 1.0 - b1
    m = m + w * (g - m) if w < 0.5 else g - (g - m) * (1.0 - w)
    v = v * b2 + ((1.0 - b2) * g) * g
    bc1 = 1.0 - b1 ** (t + 1)
    bc2s = math.sqrt(1.0 - b2 ** (t + 1))
    return th + (-(lr / bc1) * m) / (np.sqrt(v) / bc2s + eps), m, v


def reference_train(arch, theta0, X, Y, *, loss, optimizer, lr, steps, batch_size=None,
                    momentum=0.9, betas=(0.9, 0.999), eps=1e-8, record_every=1,
                    target_loss=None, seed=0):
    B, P = theta0.shape
    N = X.shape[0]
    rec = sorted(set(range(0, steps + 1, record_every)) | {steps})
    seeds = np.random.SeedSequence(seed).generate_state(B, dtype=np.uint64)
    out = dict(params=np.empty((B, P)), loss=np.full((B, len(rec)), np.nan),
               conserved=np.full((B, len(rec), arch.neuron_count), np.nan),
               steps=np.zeros(B, int), reached=np.zeros(B, bool), final=np.zeros(B))
    for b in range(B):
        th = theta0[b].copy()
        m1 = np.zeros(P)
        m2 = np.zeros(P)
        state, after, epoch = int(seeds[b]), None, -1
        nbe = 1 if batch_size is None else -(-N // batch_size)
        for t in range(steps + 1):
            full_loss, full_grad = loss_and_gradient(arch, th, X, Y, loss)
            if t in rec:
                out["loss"][b, rec.index(t)] = full_loss
                out["conserved"][b, rec.index(t)] = conserved_quantities(arch, th)
            checks = batch_size is None or t in rec
            if target_loss is not None and checks and full_loss <= target_loss:
                out["reached"][b] = True
                break
            if t == steps:
                break
            if batch_size is None:
                g = full_grad
            else:
                if t // nbe != epoch:
                    if epoch >= 0:
                        state = after
                    epoch = t // nbe
                    perm, after = shuffled(N, state)
                idx = perm[(t % nbe) * batch_size:(t % nbe + 1) * batch_size]
                g = loss_and_gradient(arch, th, X[idx], Y[idx], loss)[1]
            if optimizer in ("gd", "sgd"):
                th = th - lr * g
            elif optimizer == "momentum":
                m1 = m1 * momentum + g
                th = th - lr * m1
            else:
                th, m1, m2 = adam_step(th, g, m1, m2, t, lr, betas[0], betas[1], eps)
        out["params"][b] = th
        out["steps"][b] = t
        out["final"][b] = full_loss
    return out


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    mask = np.isfinite(b)
    assert np.array_equal(mask, np.isfinite(a))
    return np.max(np.abs(a[mask] - b[mask])) / max(np.max(np.abs(b[mask])), 1e-300)


def problem(loss="bce", n=45, d=4, hidden=(6,), e=1, b=3, seed=0, activation="relu"):
    arch = Architecture(d, hidden, e, activation=activation)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if loss == "bce":
        Y = (X[:, :e] * X[:, 1:e + 1] > 0).astype(float)
    elif loss == "cross_entropy":
        Y = np.eye(e)[rng.integers(0, e, n)]
    else:
        Y = np.sin(X[:, :e]) + 0.1 * X[:, 1:e + 1]
    return arch, X, Y, init_params(arch, n_networks=b, seed=seed, bias_init="pytorch")


# --- against the reference ---------------------------------------------------------------
CASES = [
    dict(loss="bce", optimizer="gd", lr=0.5),
    dict(loss="mse", optimizer="momentum", lr=0.05, momentum=0.8),
    dict(loss="l1", optimizer="adam", lr=0.01, betas=(0.8, 0.99), eps=1e-6),
    dict(loss="cross_entropy", optimizer="adam", lr=0.02, e=3),
    dict(loss="bce", optimizer="sgd", lr=0.3, batch_size=8),
    dict(loss="mse", optimizer="adam", lr=0.01, batch_size=10, hidden=(5, 4), e=2),
    dict(loss="mse", optimizer="momentum", lr=0.02, batch_size=45, activation="tanh"),
    dict(loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=1, e=3),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{v}" for v in c.values()))
def test_training_matches_numpy_loop(case):
    case = dict(case)
    shape = {k: case.pop(k) for k in ("e", "hidden", "activation") if k in case}
    arch, X, Y, theta0 = problem(case["loss"], **shape)
    steps = 40
    res = train(theta0, X, Y, arch=arch, steps=steps, record_every=7, progress=False, seed=5,
                **case)
    ref = reference_train(arch, theta0, X, Y, steps=steps, record_every=7, seed=5, **case)
    assert isinstance(res, TrainResult)
    assert res.record_steps.tolist() == [0, 7, 14, 21, 28, 35, 40]
    assert rel_err(res.params, ref["params"]) < RTOL
    assert rel_err(res.loss, ref["loss"]) < RTOL
    assert rel_err(res.conserved, ref["conserved"]) < RTOL
    assert rel_err(res.final_loss, ref["final"]) < RTOL
    assert res.steps_taken.tolist() == [steps] * 3
    assert not res.diverged.any() and not res.reached_target.any()


@pytest.mark.parametrize("batch_size", [None, 16])
def test_threads_and_chunking_do_not_change_results(monkeypatch, batch_size):
    arch, X, Y, theta0 = problem("bce", n=70, b=5)
    kw = dict(arch=arch, loss="bce", optimizer="adam" if batch_size else "momentum", lr=0.02,
              steps=37, batch_size=batch_size, record_every=4, record_params=True, seed=3)
    base = train(theta0, X, Y, n_threads=1, progress=False, **kw)
    runs = [train(theta0, X, Y, n_threads=2, progress=False, **kw)]
    module = importlib.import_module("topoanalysis.dynamics.train")
    for chunk in (1, 5):  # the progress bar runs the kernel in chunks of steps
        monkeypatch.setattr(module, "_chunk_steps", lambda *args, c=chunk: c)
        runs.append(train(theta0, X, Y, n_threads=2, progress=True, **kw))
    for other in runs:
        for field in ("params", "loss", "conserved", "trajectory", "final_loss", "steps_taken"):
            assert np.array_equal(getattr(base, field), getattr(other, field), equal_nan=True)


def test_network_order_does_not_depend_on_stack_size():
    arch, X, Y, theta0 = problem("mse", n=30, b=4)
    kw = dict(arch=arch, loss="mse", optimizer="sgd", lr=0.05, steps=20, batch_size=7,
              progress=False)
    many = train(theta0, X, Y, **kw)
    first = train(theta0[0], X, Y, **kw)
    assert np.array_equal(many.params[0], first.params[0])


def test_target_loss_stops_each_network_at_its_own_step():
    arch, X, Y, theta0 = problem("bce", b=4)
    first = train(theta0, X, Y, arch=arch, loss="bce", lr=0.5, steps=60, record_every=1,
                  progress=False)
    target = float(np.median(first.loss[:, 30]))
    res = train(theta0, X, Y, arch=arch, loss="bce", lr=0.5, steps=60, record_every=5,
                target_loss=target, progress=False)
    ref = reference_train(arch, theta0, X, Y, loss="bce", optimizer="gd", lr=0.5, steps=60,
                          record_every=5, target_loss=target)
    assert res.reached_target.any()
    assert res.reached_target.tolist() == ref["reached"].tolist()
    assert res.steps_taken.tolist() == ref["steps"].tolist()
    for b in np.flatnonzero(res.reached_target):
        t = res.steps_taken[b]
        assert res.final_loss[b] <= target < first.loss[b, t - 1]
        assert np.all(np.isnan(res.loss[b, res.record_steps > t]))
    assert rel_err(res.params, ref["params"]) < RTOL


def test_divergence_is_flagged_and_params_stay_finite():
    arch, X, Y, theta0 = problem("mse", b=3)
    with pytest.warns(DivergenceWarning, match="3 of 3 networks diverged"):
        res = train(theta0, X, Y, arch=arch, loss="mse", lr=1e3, steps=200, progress=False)
    assert res.diverged.all() and not res.reached_target.any()
    assert np.all(np.isfinite(res.params))
    assert np.all(res.steps_taken < 200)
    # the returned parameters are those after the last finite step: retrain to that step
    b = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)  # when the loss there overflows
        again = train(theta0[b], X, Y, arch=arch, loss="mse", lr=1e3,
                      steps=int(res.steps_taken[b]), progress=False)
    assert np.array_equal(again.params[0], res.params[b])
    # nothing is recorded after the stop
    stop = res.steps_taken[b]
    assert np.all(np.isnan(res.loss[b, res.record_steps > stop]))


def test_divergence_only_of_the_unstable_networks():
    arch, X, Y, theta0 = problem("mse", b=3)
    theta0 = theta0.copy()
    theta0[1] *= 300.0
    with pytest.warns(DivergenceWarning, match="1 of 3"):
        res = train(theta0, X, Y, arch=arch, loss="mse", lr=0.05, steps=100, progress=False)
    assert res.diverged.tolist() == [False, True, False]
    assert res.steps_taken.tolist()[0] == 100 and res.steps_taken[1] < 100
    assert np.all(np.isfinite(res.params)) and np.all(np.isfinite(res.loss[[0, 2]]))
    res.networks()  # finite parameters: valid Network objects


def test_record_shapes_and_network_inputs():
    arch = Architecture(3, (5, 4), 2)
    nets = [Network.initialize(arch, seed=s) for s in range(2)]
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.random.default_rng(1).standard_normal((20, 2))
    res = train(nets, X, y, lr=0.01, steps=10, record_every=3, record_params=True,
                progress=False)
    assert res.record_steps.tolist() == [0, 3, 6, 9, 10]
    assert res.loss.shape == (2, 5)
    assert res.conserved.shape == (2, 5, 9)
    assert res.trajectory.shape == (2, 5, arch.n_params)
    assert np.array_equal(res.trajectory[:, 0], np.array([n.params for n in nets]))
    assert np.array_equal(res.trajectory[:, -1], res.params)
    assert res.conserved_drift().shape == (2, 5, 9)
    assert all(isinstance(n, Network) for n in res.networks())
    single = train(nets[0], X, y, lr=0.01, steps=10, record_conserved=False, progress=False)
    assert single.params.shape == (1, arch.n_params) and single.conserved is None
    assert single.trajectory is None
    assert single.loss.shape == (1, 11)  # default: about 100 records, here every step


# --- conserved quantities ------------------------------------------------------------------
def test_one_gd_step_changes_c_by_lr_squared_gradient_gap():
    arch = Architecture(5, (7,), 2)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 5))
    Y = rng.standard_normal((60, 2))
    theta = init_params(arch, seed=1, bias_init="pytorch")
    lr = 0.3
    res = train(theta, X, Y, arch=arch, loss="mse", lr=lr, steps=1, record_every=1,
                progress=False)
    measured = res.conserved[0, 1] - res.conserved[0, 0]
    _, grad = loss_and_gradient(arch, theta, X, Y, "mse")
    (gW1, gb1), (gW2, _) = arch.unpack(grad)
    gw = np.sum(gW1 ** 2, axis=1) + gb1 ** 2
    ga = np.sum(gW2 ** 2, axis=0)
    predicted = lr ** 2 * (gw - ga)
    assert np.max(np.abs(measured - predicted)) < 1e-12 * np.max(np.abs(predicted)) * 1e2
    assert np.max(np.abs(measured - predicted) / np.abs(predicted)) < 1e-9


def test_drift_over_many_steps_scales_as_lr_squared():
    # a fixed number of small steps: the gradients barely change along the way, so the summed
    # drift is sum_t lr^2 (|g_w|^2 - |g_a|^2)(theta_t) ~ lr^2
    arch, X, Y, theta0 = problem("mse", n=40, b=1, hidden=(8,))
    drift = []
    for lr in (2e-4, 1e-4):
        res = train(theta0, X, Y, arch=arch, loss="mse", lr=lr, steps=30, record_every=30,
                    progress=False)
        drift.append(np.sum(np.abs(res.conserved[0, -1] - res.conserved[0, 0])))
    assert 3.6 < drift[0] / drift[1] < 4.4


def test_adam_breaks_the_conservation():
    arch, X, Y, theta0 = problem("mse", n=40, b=1, hidden=(8,))
    res = {}
    for opt in ("gd", "adam"):
        r = train(theta0, X, Y, arch=arch, loss="mse", optimizer=opt, lr=0.01, steps=30,
                  progress=False)
        res[opt] = np.sum(np.abs(r.conserved[0, -1] - r.conserved[0, 0]))
    assert res["adam"] > 100 * res["gd"]


# --- PyTorch, when installed -----------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_optimizers_follow_pytorch(optimizer):
    torch = pytest.importorskip("torch")
    arch, X, Y, theta0 = problem("bce", b=1, hidden=(5,))
    (W1, b1), (W2, b2) = arch.unpack(theta0[0])
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1))
    model = model.double()
    with torch.no_grad():
        for layer, W, bias in ((model[0], W1, b1), (model[2], W2, b2)):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(bias))
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.99), eps=1e-8)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    lossf = torch.nn.BCEWithLogitsLoss()
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    for _ in range(25):
        opt.zero_grad()
        lossf(model(Xt), Yt).backward()
        opt.step()
    flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    kw = dict(lr=0.01, betas=(0.9, 0.99)) if optimizer == "adam" else dict(lr=0.1, momentum=0.9)
    res = train(theta0[0], X, Y, arch=arch, loss="bce", optimizer=optimizer, steps=25,
                progress=False, **kw)
    assert np.max(np.abs(res.params[0] - flat)) < 1e-10 * np.max(np.abs(flat))


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, param", [
    (dict(lr=-0.1), "`lr`"),
    (dict(lr=float("nan")), "`lr`"),
    (dict(lr="0.1"), "`lr`"),
    (dict(steps=0), "`steps`"),
    (dict(steps=2.5), "`steps`"),
    (dict(optimizer="lbfgs"), "`optimizer`"),
    (dict(loss="hinge"), "`loss`"),
    (dict(optimizer="sgd", batch_size=0), "`batch_size`"),
    (dict(optimizer="sgd", batch_size=46), "`batch_size`"),
    (dict(optimizer="gd", batch_size=10), "`batch_size`"),
    (dict(optimizer="momentum", momentum=1.0), "`momentum`"),
    (dict(optimizer="adam", betas=(0.9,)), "`betas`"),
    (dict(optimizer="adam", betas=(0.9, 1.5)), r"`betas\[1\]`"),
    (dict(optimizer="adam", eps=0.0), "`eps`"),
    (dict(record_every=0), "`record_every`"),
    (dict(target_loss=float("inf")), "`target_loss`"),
    (dict(seed=-1), "`seed`"),
    (dict(n_threads=0), "`n_threads`"),
    (dict(progress="yes"), "`progress`"),
    (dict(record_params=1), "`record_params`"),
])
def test_bad_arguments_name_the_parameter(kwargs, param):
    arch, X, Y, theta0 = problem("bce")
    base = dict(arch=arch, loss="bce", lr=0.1, steps=5, progress=False)
    base.update(kwargs)
    with pytest.raises(ValidationError, match=param):
        train(theta0, X, Y, **base)


def test_bad_data_and_parameters_name_the_argument():
    arch, X, Y, theta0 = problem("bce")
    kw = dict(arch=arch, loss="bce", lr=0.1, steps=5, progress=False)
    with pytest.raises(ShapeError, match="`X`"):
        train(theta0, X[:, :3], Y, **kw)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValidationError, match="`X`"):
        train(theta0, bad, Y, **kw)
    with pytest.raises(ValidationError, match="`y`"):
        train(theta0, X, Y * 2, **kw)  # bce targets outside [0, 1]
    with pytest.raises(ShapeError, match="`y`"):
        train(theta0, X, Y[:10], **kw)
    with pytest.raises(ShapeError, match="`theta0`"):
        train(theta0[:, :5], X, Y, **kw)
    worse = theta0.copy()
    worse[1, 2] = np.inf
    with pytest.raises(ValidationError, match="`theta0`"):
        train(worse, X, Y, **kw)
    with pytest.raises(ValidationError, match="`arch`"):
        train(theta0, X, Y, loss="bce", lr=0.1, steps=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(theta0, X, Y, **kw)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 30), widths=st.lists(st.integers(1, 6), min_size=1, max_size=2),
    e=st.integers(1, 2), b=st.integers(1, 3), steps=st.integers(1, 8),
    record_every=st.integers(1, 4), optimizer=st.sampled_from(["gd", "sgd", "momentum", "adam"]),
    batch_frac=st.floats(0.0, 1.0), loss=st.sampled_from(["mse", "l1", "bce"]),
    activation=st.sampled_from(["relu", "tanh", "abs"]), seed=st.integers(0, 2**16),
)
def test_random_training_runs_match_reference(n, widths, e, b, steps, record_every, optimizer,
                                               batch_frac, loss, activation, seed):
    arch = Architecture(3, tuple(widths), e, activation=activation)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    Y = rng.uniform(size=(n, e)) if loss == "bce" else rng.standard_normal((n, e))
    theta0 = init_params(arch, n_networks=b, seed=seed, bias_init="pytorch")
    batch = None
    if optimizer != "gd" and batch_frac > 0.3:
        batch = max(1, int(round(batch_frac * n)))
    kw = dict(loss=loss, optimizer=optimizer, lr=0.05, steps=steps, batch_size=batch,
              record_every=record_every, seed=seed)
    res = train(theta0, X, Y, arch=arch, progress=False, **kw)
    ref = reference_train(arch, theta0, X, Y, **kw)
    assert rel_err(res.params, ref["params"]) < RTOL
    assert rel_err(res.loss, ref["loss"]) < RTOL
