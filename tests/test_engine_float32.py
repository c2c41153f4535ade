"""float32 kernels (issue #16): ``train(..., dtype="float32")`` for every optimizer and
``interpolate(..., dtype="float32")`` against a step-by-step float32 NumPy reference, in every
instruction-set clone the CPU runs, with identical numbers for 1 and 2 threads."""

import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.dynamics import _engine, interpolate, interpolation_barrier, path_losses, train
from topoanalysis.exceptions import NotSupportedError, ValidationError
from topoanalysis.init import init_params

F = np.float32
pytestmark = pytest.mark.skipif("float32" not in _engine.kernels().DTYPES,
                                reason="engine built without float32 kernels")


# --- float32 NumPy reference -----------------------------------------------------------------
def unpack(arch, theta):
    (w1, b1), (w2, b2) = arch.layer_slices
    l, d = arch.layer_shape(0)
    W1 = theta[w1].reshape(l, d)
    w2v = theta[w2].reshape(1, l)
    return W1, (theta[b1] if b1 is not None else None), w2v, (theta[b2] if b2 is not None else None)


def act(name, z, slope):
    if name == "relu":
        return z * (z > 0), (z > 0).astype(F)
    if name == "leaky_relu":
        s = np.where(z > 0, F(1), F(slope)).astype(F)
        return z * s, s
    if name == "sigmoid":
        h = (F(1) / (F(1) + np.exp(-z))).astype(F)
        return h, h * (F(1) - h)
    if name == "abs":
        return np.abs(z), np.sign(z).astype(F)
    return z, np.ones_like(z)


def loss_and_grad(arch, loss, theta, X, Y):
    """Loss (float64 of float32 terms) and float32 gradient, every array operation in float32."""
    W1, b1, w2, b2 = unpack(arch, theta)
    Z = X @ W1.T
    if b1 is not None:
        Z = Z + b1
    H, S = act(arch.activation, Z, arch.negative_slope)
    o = H @ w2.T
    if b2 is not None:
        o = o + b2
    n = F(X.shape[0])
    if loss == "mse":
        r = o - Y
        val, g = np.mean(r.astype(np.float64) ** 2), F(2) * r / n
    elif loss == "l1":
        r = o - Y
        val, g = np.mean(np.abs(r.astype(np.float64))), np.sign(r).astype(F) / n
    else:
        e = np.exp(-np.abs(o))
        sig = np.where(o >= 0, F(1) / (F(1) + e), e / (F(1) + e)).astype(F)
        val = np.mean((np.maximum(o, 0) - o * Y + np.log1p(e)).astype(np.float64))
        g = (sig - Y) / n
    grad = np.zeros_like(theta)
    (sw1, sb1), (sw2, sb2) = arch.layer_slices
    grad[sw2] = (g.T @ H).ravel()
    if sb2 is not None:
        grad[sb2] = g.sum(axis=0)
    D = (g @ w2) * S
    grad[sw1] = (D.T @ X).ravel()
    if sb1 is not None:
        grad[sb1] = D.sum(axis=0)
    return val, grad.astype(F)


def splitmix64(state):
    m = (1 << 64) - 1
    state = (state + 0x9E3779B97F4A7C15) & m
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return state, z ^ (z >> 31)


def shuffle(n, state):
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        state, r = splitmix64(state)
        j = r % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm), state


def reference_train(arch, loss, theta0, X, Y, optimizer, lr, steps, batch_size=None, seed=0,
                    momentum=0.9, betas=(0.9, 0.999), eps=1e-8):
    """The engine's training loop for one network, step by step in float32 NumPy."""
    th = theta0.astype(F).copy()
    X, Y = X.astype(F), Y.astype(F)
    N = X.shape[0]
    m1 = np.zeros_like(th)
    m2 = np.zeros_like(th)
    state = int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0])
    nbe = 1 if batch_size is None else -(-N // batch_size)
    losses, perm, epoch = [], None, -1
    for t in range(steps):
        losses.append(loss_and_grad(arch, loss, th, X, Y)[0])
        if batch_size is None:
            g = loss_and_grad(arch, loss, th, X, Y)[1]
        else:
            if t // nbe != epoch:
                epoch = t // nbe
                perm, state = shuffle(N, state)
            idx = perm[(t % nbe) * batch_size:(t % nbe) * batch_size + batch_size]
            g = loss_and_grad(arch, loss, th, X[idx], Y[idx])[1]
        if optimizer in ("gd", "sgd"):
            th = th - F(lr) * g
        elif optimizer == "momentum":
            m1 = m1 * F(momentum) + g
            th = th - F(lr) * m1
        else:
            b1, b2 = betas
            bc1 = 1.0 - b1 ** (t + 1)
            bc2s = F(np.sqrt(1.0 - b2 ** (t + 1)))
            step, w1, w2 = F(lr / bc1), F(1.0 - b1), F(1.0 - b2)
            m1 = m1 + w1 * (g - m1) if w1 < 0.5 else g - (g - m1) * (F(1) - w1)
            m2 = m2 * F(b2) + (w2 * g) * g
            th = th + (-step * m1) / (np.sqrt(m2) / bc2s + F(eps))
    losses.append(loss_and_grad(arch, loss, th, X, Y)[0])
    return th, np.array(losses)


def problem(activation="relu", d=5, l=6, n=75, loss="bce", b=2, seed=0):
    arch = Architecture(d, (l,), 1, activation=activation)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X[:, 0] * X[:, 1] > 0) * 1.0 if loss == "bce" else np.tanh(X[:, :1] - X[:, 1:2])
    return arch, X, y.reshape(n, 1), init_params(arch, n_networks=b, seed=seed + 1)


def clones():
    return _engine.supported_clones()


@pytest.fixture(params=["default", "v3", "v4"])
def clone(request):
    if request.param not in clones():
        pytest.skip(f"clone {request.param} not supported by this CPU")
    before = _engine.set_clone(request.param)
    yield request.param
    _engine.set_clone(before)


# --- tests -------------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer,batch_size,loss,activation", [
    ("gd", None, "bce", "relu"),
    ("sgd", 16, "mse", "leaky_relu"),
    ("momentum", None, "l1", "relu"),
    ("adam", 20, "bce", "sigmoid"),
    ("adam", None, "mse", "abs"),
])
def test_float32_training_follows_the_float32_numpy_reference(clone, optimizer, batch_size,
                                                              loss, activation):
    arch, X, Y, theta0 = problem(activation, loss=loss)
    steps, lr = 6, 0.05
    res = train(theta0, X, Y, arch=arch, loss=loss, optimizer=optimizer, lr=lr, steps=steps,
                batch_size=batch_size, record_every=1, seed=4, progress=False,
                dtype="float32")
    assert res.params.dtype == np.float32 and res.settings["dtype"] == "float32"
    seeds = np.random.SeedSequence(4).generate_state(theta0.shape[0], dtype=np.uint64)
    for b in range(theta0.shape[0]):
        # the engine seeds network b with SeedSequence(seed).generate_state(B)[b]
        th, losses = _reference_with_state(arch, loss, theta0[b], X, Y, optimizer, lr, steps,
                                           batch_size, int(seeds[b]))
        scale = np.abs(th).max()
        assert np.max(np.abs(res.params[b] - th)) <= 1e-6 * scale, (clone, b)  # a few ulps
        assert np.allclose(res.loss[b], losses, rtol=1e-5, atol=1e-6)


def _reference_with_state(arch, loss, theta0, X, Y, optimizer, lr, steps, batch_size, state):
    # reference_train draws its state from a seed; feed the engine's per-network state
    orig = np.random.SeedSequence

    class _Seq:
        def __init__(self, seed):
            pass

        def generate_state(self, n, dtype):
            return np.array([state], dtype=np.uint64)

    np.random.SeedSequence = _Seq
    try:
        return reference_train(arch, loss, theta0, X, Y, optimizer, lr, steps, batch_size)
    finally:
        np.random.SeedSequence = orig


def test_float32_is_not_float64():
    """float32 really rounds to float (differs from float64 beyond float64 rounding)."""
    arch, X, Y, theta0 = problem()
    kw = dict(arch=arch, loss="bce", lr=0.1, steps=20, progress=False)
    r64 = train(theta0, X, Y, **kw)
    r32 = train(theta0, X, Y, dtype=np.float32, **kw)
    diff = np.abs(r32.params - r64.params).max()
    assert 1e-9 < diff < 1e-4
    assert np.all(r32.params == r32.params.astype(np.float32))


@pytest.mark.parametrize("b,batch_size,optimizer", [(1, None, "gd"), (3, None, "adam"),
                                                    (1, 24, "sgd"), (3, 24, "momentum")])
def test_float32_threads_and_chunks_give_identical_numbers(monkeypatch, b, batch_size,
                                                           optimizer):
    import importlib

    arch, X, Y, theta0 = problem(n=300, b=b)
    kw = dict(arch=arch, loss="bce", optimizer=optimizer, lr=0.05, steps=25,
              batch_size=batch_size, record_every=5, record_params=True, seed=2,
              dtype="float32")
    base = train(theta0, X, Y, n_threads=1, progress=False, **kw)
    runs = [train(theta0, X, Y, n_threads=2, progress=False, **kw)]
    module = importlib.import_module("topoanalysis.dynamics.train")
    monkeypatch.setattr(module, "_chunk_steps", lambda *args: 4)
    runs.append(train(theta0, X, Y, n_threads=2, progress=False, **kw))
    for other in runs:
        for field in ("params", "loss", "conserved", "trajectory", "final_loss"):
            assert np.array_equal(getattr(base, field), getattr(other, field), equal_nan=True)


def test_float32_v3_and_v4_clones_give_identical_bits():
    if not {"v3", "v4"} <= set(clones()):
        pytest.skip("needs a CPU with both x86-64-v3 and x86-64-v4")
    arch, X, Y, theta0 = problem(n=100)
    out = []
    for name in ("v3", "v4"):
        before = _engine.set_clone(name)
        try:
            out.append(train(theta0, X, Y, arch=arch, loss="bce", lr=0.1, steps=10,
                             progress=False, dtype="float32").params)
        finally:
            _engine.set_clone(before)
    assert np.array_equal(out[0], out[1])


def reference_segment(arch, loss, a, b, ts, X, Y):
    """Loss at (1 - t) a + t b in float32 NumPy, first-layer pre-activations mixed from the
    ends as the engine does."""
    X, Y = X.astype(F), Y.astype(F)
    a, b = a.astype(F), b.astype(F)
    out = []
    for t in np.asarray(ts, dtype=F):
        u = F(1) - t
        th = u * a + t * b
        W1a, b1a, _, _ = unpack(arch, a)
        W1b, b1b, _, _ = unpack(arch, b)
        Z = u * (X @ W1a.T + b1a) + t * (X @ W1b.T + b1b)
        H, _ = act(arch.activation, Z, arch.negative_slope)
        _, _, w2, b2 = unpack(arch, th)
        o = H @ w2.T + b2
        if loss == "bce":
            out.append(np.mean((np.maximum(o, 0) - o * Y + np.log1p(np.exp(-np.abs(o))))
                               .astype(np.float64)))
        else:
            out.append(np.mean(((o - Y) ** 2).astype(np.float64)))
    return np.array(out)


@pytest.mark.parametrize("loss", ["bce", "mse"])
def test_float32_interpolation_follows_the_float32_numpy_reference(clone, loss):
    arch, X, Y, theta0 = problem(loss=loss, n=90, b=3)
    ts = np.linspace(-0.25, 1.25, 7)
    r1 = interpolate(theta0[:2], theta0[1:], X, Y, arch=arch, loss=loss, ts=ts,
                     dtype="float32", n_threads=1)
    r2 = interpolate(theta0[:2], theta0[1:], X, Y, arch=arch, loss=loss, ts=ts,
                     dtype="float32", n_threads=2)
    assert np.array_equal(r1.loss, r2.loss)
    for m in range(2):
        ref = reference_segment(arch, loss, theta0[m], theta0[m + 1], ts, X, Y)
        assert np.allclose(r1.loss[m], ref, rtol=2e-6, atol=1e-7)
    r64 = interpolate(theta0[:2], theta0[1:], X, Y, arch=arch, loss=loss, ts=ts)
    assert np.allclose(r1.loss, r64.loss, rtol=1e-5)
    if loss == "bce":
        assert r1.accuracy is not None and np.allclose(r1.accuracy, r64.accuracy, atol=0.02)
    bar = interpolation_barrier(theta0[0], theta0[1], X, Y, arch=arch, loss=loss,
                                n_points=5, dtype="float32")
    assert bar.loss.shape == (1, 5)
    paths = path_losses(theta0, X, Y, arch=arch, loss=loss, points_per_edge=3,
                        dtype="float32")
    assert paths.loss.shape == (1, 2, 3)


def test_float32_scope_and_dtype_validation():
    arch, X, Y, theta0 = problem()
    with pytest.raises(ValidationError, match="`dtype` must be one of"):
        train(theta0, X, Y, arch=arch, loss="bce", lr=0.1, steps=2, dtype="float16")
    deep = Architecture(5, (4, 4), 1)
    with pytest.raises(NotSupportedError, match="float32"):
        train(init_params(deep, n_networks=1), X, Y, arch=deep, lr=0.1, steps=2,
              dtype="float32")
    tanh = Architecture(5, (4,), 1, activation="tanh")
    with pytest.raises(NotSupportedError, match="float32"):
        interpolate(init_params(tanh, n_networks=2), init_params(tanh, n_networks=2, seed=1),
                    X, Y, arch=tanh, dtype="float32")
    two = Architecture(5, (4,), 2)
    with pytest.raises(NotSupportedError, match="float32"):
        train(init_params(two, n_networks=1), X, np.zeros(len(X), int), arch=two,
              loss="cross_entropy", lr=0.1, steps=2, dtype="float32")


def test_float32_refuses_values_beyond_its_range():
    """Finite float64 parameters or data beyond float32's range would round to inf: one clear
    error naming the argument, before any computation (no overflow warning, no divergence)."""
    arch, X, Y, theta0 = problem()
    big = np.array(theta0, dtype=float)
    big[0, 0] = 1e39
    with np.errstate(over="raise"):
        with pytest.raises(ValidationError, match=r"`theta` must lie within float32's range"):
            train(big, X, Y, arch=arch, loss="bce", lr=0.1, steps=2, dtype="float32")
        with pytest.raises(ValidationError, match=r"`theta`.*1 entries beyond it"):
            _engine.batch_loss_and_gradient(big, X, Y, arch=arch, loss="bce", dtype="float32")
        Xb = np.array(X, dtype=float)
        Xb[3, 1] = -5e38
        with pytest.raises(ValidationError, match=r"`X` must lie within float32's range"):
            train(theta0, Xb, Y, arch=arch, loss="bce", lr=0.1, steps=2, dtype="float32")
    # float64 takes the same values
    res = train(big, X, Y, arch=arch, loss="bce", lr=0.1, steps=2, progress=False)
    assert res.params.dtype == np.float64


def test_float32_checkpoint_resume_is_bit_identical(tmp_path, monkeypatch):
    import importlib

    train_module = importlib.import_module("topoanalysis.dynamics.train")
    arch, X, Y, theta0 = problem(n=60, b=2)
    common = dict(arch=arch, loss="bce", optimizer="adam", lr=0.01, steps=40, batch_size=16,
                  record_every=5, record_params=True, progress=False, dtype="float32")
    full = train(theta0, X, Y, **common)
    monkeypatch.setattr(train_module, "_chunk_steps", lambda *a: 7)
    monkeypatch.setattr(train_module, "CHECKPOINT_SECONDS", 0.0)
    calls = {"n": 0}
    original_save = train_module._save_checkpoint

    def save_then_stop(path, key, state, t0):
        original_save(path, key, state, t0)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_save_checkpoint", save_then_stop)
    ckpt = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        train(theta0, X, Y, checkpoint=ckpt, **common)
    resumed = train(theta0, X, Y, checkpoint=ckpt, **common)
    for name in ("params", "loss", "trajectory", "final_loss", "steps_taken"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(full, name))
    # a float64 run does not resume from a float32 checkpoint
    monkeypatch.setattr(train_module, "_save_checkpoint", original_save)
    calls["n"] = 0
    monkeypatch.setattr(train_module, "_save_checkpoint", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        train(theta0, X, Y, checkpoint=ckpt, **common)
    with pytest.raises(ValidationError, match="other arguments"):
        train(theta0, X, Y, checkpoint=ckpt, **dict(common, dtype="float64"))


def test_float32_bce_exp_flush(clone):
    """float32 exp(-|o|) is flushed to 0 below exp(-87) (1.6e-38, just above the smallest normal
    float; ext/blockops_math.h ``ta_vexpn``): for logits beyond 87 on the right side the BCE
    value and gradient are exactly 0; just inside, the value is within 4 float32 ulp of the
    correctly rounded one. One sample, y = 0, o < 0."""
    from topoanalysis.dynamics import batch_loss_and_gradient
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 80
    arch = Architecture(1, (1,), 1, hidden_bias=True, output_bias=True, activation="relu")
    o = -np.array([80.0, 86.5, 86.99, 87.01, 87.4, 95.0, 103.9, 104.5, 1e30], dtype=F)
    theta = np.zeros((o.size, arch.n_params), dtype=F)
    theta[:, 3] = o
    loss, grad = batch_loss_and_gradient(theta, np.zeros((1, 1)), np.zeros((1, 1)), arch=arch,
                                         loss="bce", n_threads=1, dtype="float32")
    n = 3
    for oo, val in zip(o[:n], loss[:n]):
        ref = mpmath.log1p(mpmath.exp(mpmath.mpf(float(oo))))
        assert abs(float((mpmath.mpf(float(val)) - ref) / float(np.spacing(F(float(ref)))))) <= 4
    assert np.all(loss[n:] == 0.0) and np.all(grad[n:] == 0.0)


def test_float32_bce_value_accuracy_in_ulps(clone):
    """The float32 BCE value log1p(exp(-|o|)) (float exp, then 2 atanh(e / (2 + e)) by a
    series) against the correctly rounded value, in float32 ulps, for logits from 0.2 to 85:
    across s = 2^-15 (|o| near 9.7), below which the series' powers are taken of 0 (the same
    bits, without subnormal products), and down to where e is near float32's smallest normal.
    One sample, y = 0, o < 0: the loss is exactly log1p(exp(o)), summed in double."""
    from topoanalysis.dynamics import batch_loss_and_gradient
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 80
    arch = Architecture(1, (1,), 1, hidden_bias=True, output_bias=True, activation="relu")
    rng = np.random.default_rng(5)
    o = -np.concatenate([rng.uniform(0.2, 1.0, 300), rng.uniform(1.0, 85.0, 400),
                         np.linspace(9.5, 9.9, 101)]).astype(F)
    theta = np.zeros((o.size, arch.n_params), dtype=F)
    theta[:, 3] = o            # W1 = b1 = w2 = 0: the output is the output bias
    loss, _ = batch_loss_and_gradient(theta, np.zeros((1, 1)), np.zeros((1, 1)), arch=arch,
                                      loss="bce", n_threads=1, dtype="float32")
    worst = 0.0
    for oo, val in zip(o, loss):
        ref = mpmath.log1p(mpmath.exp(mpmath.mpf(float(oo))))
        ulp = float(np.spacing(F(float(ref))))
        worst = max(worst, abs(float((mpmath.mpf(float(val)) - ref) / ulp)))
    assert worst <= 4.0, worst     # measured 3.34 (v3, v4) and 3.66 (default) ulp


def test_float32_train_refuses_a_step_size_beyond_float32():
    """An lr above float32's largest number would round to inf in the float32 kernels: one
    line naming `lr` instead of a silent divergence."""
    import pytest as _pytest

    from topoanalysis import Architecture, ValidationError
    from topoanalysis.dynamics import train
    from topoanalysis.init import init_params

    arch = Architecture(2, (3,), 1)
    X = np.ones((4, 2))
    y = np.ones((4, 1))
    th = init_params(arch, "pytorch", n_networks=1, seed=0)
    with _pytest.raises(ValidationError, match="`lr` must be at most 3.403e\\+38"):
        train(th, X, y, arch=arch, lr=1e39, steps=1, dtype="float32", progress=False)
    train(th, X, y, arch=arch, lr=1e38, steps=1, dtype="float32", progress=False)
