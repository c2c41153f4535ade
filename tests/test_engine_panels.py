"""The first-layer weight gradient of the shallow fast path, bit for bit (commit 803d82f).

For a network with one hidden layer, one output and an elementwise loss, the engine computes
the gradient of the first-layer weights ``W1`` and of the hidden bias ``b1`` from a samples x
features panel copy of the data (ext/blockops_impl.h ``ta_wgrad_panels``, ``ta_wgp_tile``;
ext/blockops.h ``ta_panels``; ext/_common.pxi ``shallow_collect``; ext/engine.pyx
``shallow_shard``, ``shallow_pass``). Its documented semantics: the ``N`` samples, in
``nblk = ceil(N / 16)`` blocks of 16, go in ``n`` fixed shards (one when ``N P`` is below
``SPLIT_MIN_WORK`` = 2e5 for ``P`` parameters, else ``n_shards(nblk)``: 2 up to 95 blocks, one
when ``nblk < 2``, then ``nblk // 32`` up to 16; shard ``s`` holds blocks
``[s nblk // n, (s + 1) nblk // n)``); in each shard every
entry is one fused multiply-add chain in increasing sample order from ``+0.0``,

    g = fma(D[n, k], X[n, i], g),     D[n, k] = S[n, k] * (0 + w2[k] * G[n]),

with ``X[n, d] := 1`` for the hidden bias and ``G[n] = scale * dloss/do[n]`` (``scale = 1/N``;
mse: ``G = (2 (o - y)) * scale``, ext/blockops_impl.h ``ta_lossv``); the gradient is
``((shard0 + shard1) + shard2) + ...`` (additions in the working precision), whatever the
number of threads.
float32 does the same in float arithmetic.

The tests make ``D`` exactly computable in NumPy: "active" input features and first-layer
weights are small dyadic numbers, so the forward pass (``z``, ``h``, ``o``, ``o - y``) is exact,
and "probe" features carry random floats with many significant bits but first-layer weights
that are exactly 0 (``fma(0, x, acc) == acc``: they do not change the forward pass). ``G`` and
``D`` are then single correctly rounded operations that NumPy reproduces, and ``1 / N`` with
``N`` not a power of two gives every ``D`` a full significand, so the chains of every column
(active, probe and bias) round at many of their steps. The chains are emulated exactly in integer
arithmetic (each step rounded once to 53 or 24 bits, nearest-even; never through float64 for
float32, which could round twice) and compared with the engine's bits.
"""

import math

import numpy as np
import pytest

from topoanalysis import Architecture, Landscape
from topoanalysis.dynamics import _engine

eng = _engine.kernels()
NB = eng.BLOCK_SIZE          # samples per block (16)
SHARDS = eng.SHARDS          # fixed sample shards of a full-data pass, at least (2)
DTYPES = eng.DTYPES
PRECISION = {"float64": 53, "float32": 24}
UINT = {"float64": np.uint64, "float32": np.uint32}
SLOPE = 0.25                 # leaky ReLU slope (dyadic: h = z * S stays exact)
LR = 2.0 ** -8               # GD step: lr * g is exact, so theta - lr * g rounds only once

#: clones with fused multiply-adds (the documented chains); the baseline clone has none
FMA_CLONES = [c for c in _engine.supported_clones() if c != "default"]


# --- exact emulation of the chains ---------------------------------------------------------
def round_bits(a, p):
    """The integer ``a`` rounded to ``p`` significant bits (nearest, ties to even): the value
    ``a 2**-K`` rounded to a ``p``-bit float, at the same scale ``2**-K`` (no underflow here)."""
    m = -a if a < 0 else a
    s = m.bit_length() - p
    if s <= 0:
        return a
    q = m >> s
    r = m - (q << s)
    half = 1 << (s - 1)
    if r > half or (r == half and q & 1):
        q += 1
    q <<= s
    return -q if a < 0 else q


def exact_ints(values):
    """``(M, K)`` with ``values[j] == M[j] * 2**-K`` exactly (every float is a dyadic
    rational)."""
    ratios = [float(v).as_integer_ratio() for v in np.ravel(values)]
    K = max(den.bit_length() - 1 for _, den in ratios)
    return [num << (K - (den.bit_length() - 1)) for num, den in ratios], K


def n_shards(nblk):
    """The documented shard count (``ta_n_shards``), written out independently."""
    if nblk < SHARDS:
        return nblk
    return min(16, max(SHARDS, nblk // 32))


def pass_shards(N, P):
    """The documented shard count of a pass (``ta_pass_shards``): one when ``N P`` is below
    ``SPLIT_MIN_WORK`` (such a pass never runs on two threads), else ``n_shards`` of its
    blocks."""
    if N * P < 2e5:
        return 1 if N > 0 else 0
    return n_shards(-(-N // NB))


def shard_ranges(N, P):
    """Sample ranges of the fixed shards of a pass over ``N`` samples of a network with ``P``
    parameters (padding excluded)."""
    nblk = -(-N // NB)
    ns = pass_shards(N, P)
    return [(s * nblk // ns * NB, min((s + 1) * nblk // ns * NB, N)) for s in range(ns)]


def test_shard_count_rule():
    """The kernels' shard count is the documented rule (a function of the data size only)."""
    for nblk in list(range(0, 130)) + [511, 512, 513, 4096, 10 ** 6]:
        assert eng.n_shards(nblk) == n_shards(nblk), nblk
    assert eng.SPLIT_MIN_WORK == 2e5
    for N in (0, 1, 16, 17, 455, 1036, 1037, 5000, 10 ** 5):
        for P in (1, 193, 8193):
            assert eng.pass_shards(N, P) == pass_shards(N, P), (N, P)
    assert [pass_shards(455, 193), pass_shards(1037, 193), pass_shards(30, 8193)] == [1, 2, 2]
    assert [n_shards(b) for b in (1, 2, 95, 96, 128, 511, 512, 4096)] == [1, 2, 2, 3, 4, 15, 16,
                                                                        16]


def chain_sums(D, X1, ranges, p, fused=True):
    """For each sample range, the chains ``g = round(D[n, k] X1[n, i] + g)`` over its samples
    in increasing order from 0, each step rounded once to ``p`` bits (``fused=False``: the
    product rounded first, then the sum). Returns float64 arrays ``(l, d + 1)`` holding the
    ``p``-bit results exactly."""
    N, l = D.shape
    d1 = X1.shape[1]
    Di, KD = exact_ints(D)
    Xi, KX = exact_ints(X1)
    K = KD + KX
    out = []
    for lo, hi in ranges:
        G = np.empty((l, d1))
        for k in range(l):
            dk = Di[k::l]
            for i in range(d1):
                xi = Xi[i::d1]
                g = 0
                for n in range(lo, hi):
                    t = dk[n] * xi[n]
                    g = round_bits(g + (t if fused else round_bits(t, p)), p)
                G[k, i] = math.ldexp(float(g), -K)
        out.append(G)
    return out


def reference_first_layer(prob, fused=True, ranges=None):
    """The documented first-layer gradient ``(l, d + 1)`` (bias last) of ``prob`` in its
    dtype: the shard chains added in shard order in the working precision."""
    F = prob["F"]
    ranges = ranges or shard_ranges(prob["N"], prob["arch"].n_params)
    parts = chain_sums(prob["D"], prob["X1"], ranges,
                       PRECISION[prob["dtype"]], fused)
    total = parts[0].astype(F)
    for part in parts[1:]:
        total = total + part.astype(F)
    return total


# --- problems with an exact forward pass ---------------------------------------------------
def make_problem(dtype, l, d, N, activation="relu", seed=0):
    """A shallow mse problem whose hidden errors ``D`` NumPy computes with the engine's exact
    operations: the first ``d // 3`` features are active (multiples of 1/4 in [-2, 2], as
    their weights), the others probes (random ``dtype`` floats, weights exactly 0)."""
    F = np.dtype(dtype).type
    rng = np.random.default_rng([seed, l, d, N])
    na = d // 3
    X = np.hstack([rng.integers(-8, 9, size=(N, na)) / 4.0,
                   rng.standard_normal((N, d - na)).astype(F).astype(np.float64)])
    y = rng.integers(-16, 17, size=N) / 8.0
    W1 = np.zeros((l, d))
    W1[:, :na] = rng.integers(-8, 9, size=(l, na)) / 4.0
    b1 = rng.integers(-8, 9, size=l) / 4.0
    w2 = rng.choice([-1.5, -1.0, -0.75, -0.5, 0.5, 0.75, 1.0, 1.25], size=l)
    b2 = float(rng.integers(-4, 5)) / 4.0
    arch = Architecture(d, (l,), 1, activation=activation, negative_slope=SLOPE)
    theta = np.concatenate([W1.ravel(), b1, w2, [b2]])
    # forward pass: every value (and partial sum) a multiple of 2**-10 below 2**12 in
    # magnitude, so exact in float32 too
    z = X @ W1.T + b1
    S = (z > 0) * 1.0 if activation == "relu" else np.where(z > 0, 1.0, SLOPE)
    o = (z * S) @ w2 + b2
    for v in (z, o):
        assert np.all(np.abs(v) < 2.0 ** 12) and np.all(v * 2.0 ** 10 == np.round(v * 2.0 ** 10))
    # ta_lossv (mse): G = (2 r) * scale with scale = 1 / N rounded to the dtype; D = S (w2 G)
    r = (o - y).astype(F)
    G = (F(2) * r) * F(1.0 / N)
    D = S.astype(F) * (w2.astype(F)[None, :] * G[:, None])
    assert np.all(np.isfinite(D))
    X1 = np.hstack([X, np.ones((N, 1))]).astype(F)
    return dict(dtype=dtype, F=F, arch=arch, X=X, y=y, theta=theta, D=D.astype(np.float64),
                X1=X1.astype(np.float64), N=N, l=l, d=d, na=na)


def engine_first_layer(grad, l, d):
    """The engine's first-layer gradient as ``(l, d + 1)``, hidden bias last."""
    return np.hstack([grad[:l * d].reshape(l, d), grad[l * d:l * d + l, None]])


def same_bits(a, b, dtype):
    a = np.ascontiguousarray(a, dtype=dtype)
    b = np.ascontiguousarray(b, dtype=dtype)
    return a.shape == b.shape and np.array_equal(a.view(UINT[dtype]), b.view(UINT[dtype]))


@pytest.fixture(params=FMA_CLONES)
def fma_clone(request):
    """Run the test on each FMA clone the CPU supports (v3, v4), then restore the clone."""
    before = _engine.set_clone(request.param)
    yield request.param
    _engine.set_clone(before)


# (l, d, N, activation): every register tile height (l = 1..7, 9, 13); the bias column at
# different panel positions (d = 1; 7: last column of panel 0; 8: first of panel 1; 15: last
# of panel 1; 30: inside panel 3); N with a partial last block (37, 455), two one-block
# shards (20) and one shard (13).
CASES = [
    (1, 1, 37, "relu"),
    (3, 9, 1700, "leaky_relu"),     # 107 blocks: 3 shards
    (2, 7, 455, "leaky_relu"),
    (3, 8, 37, "relu"),
    (4, 15, 20, "relu"),
    (5, 30, 37, "leaky_relu"),
    (6, 7, 13, "relu"),
    (7, 8, 455, "relu"),
    (9, 15, 37, "leaky_relu"),
    (13, 30, 37, "relu"),
    (13, 8, 20, "leaky_relu"),
    (4, 1, 455, "relu"),
    (6, 30, 13, "leaky_relu"),
]


# --- the emulator itself ----------------------------------------------------------------------
def test_emulated_rounding_is_ieee_round_to_nearest_even():
    """``round_bits`` is IEEE rounding to nearest, ties to even: at 53 bits it agrees with
    Python's correctly rounded ``int / int`` on exact sums of float products; at 24 bits with
    NumPy's float64 -> float32 conversion (one rounding of an exact double), exact halfway
    cases included."""
    rng = np.random.default_rng(7)
    a, b, c = (rng.standard_normal(400) * 2.0 ** rng.integers(-20, 20, 400) for _ in range(3))
    for x, y, z in zip(a, b, c):
        (Mx, My, Mz), K = exact_ints([x, y, z])  # one scale 2**-K for x, y and z
        exact = Mx * My + (Mz << K)                # x y + z at the scale 2**-2K
        want = exact / (1 << 2 * K)                # int / int: correctly rounded
        assert math.ldexp(float(round_bits(exact, 53)), -2 * K) == want
    f32 = rng.standard_normal(400).astype(np.float32).astype(np.float64)
    ulp = np.spacing(f32.astype(np.float32)).astype(np.float64)
    doubles = np.concatenate([rng.standard_normal(400), f32 + ulp / 2, f32 - ulp / 4,
                              f32 + 3 * ulp / 2])
    M, K = exact_ints(doubles)
    for m, v in zip(M, doubles):
        assert math.ldexp(float(round_bits(m, 24)), -K) == float(np.float32(v)), v


# --- 1, 2: the evaluation gradient is the documented chain ---------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("l, d, N, activation", CASES)
def test_first_layer_gradient_is_the_sharded_fma_chain(fma_clone, dtype, l, d, N, activation):
    """``Landscape.gradient`` (the evaluate path) gives, for every first-layer weight and hidden
    bias, exactly the bits of the documented computation: per shard one FMA chain over the
    shard's real samples in increasing order from +0.0, then shard0 + shard1 in the working
    precision (float64 and float32, ReLU and leaky ReLU, all tile heights, the bias column at
    several panel positions, one or two shards, partial last blocks)."""
    prob = make_problem(dtype, l, d, N, activation)
    ref = reference_first_layer(prob)
    grad = Landscape(prob["arch"], prob["X"], prob["y"], loss="mse", dtype=dtype).gradient(
        prob["theta"])
    assert grad.dtype == np.dtype(dtype)
    got = engine_first_layer(grad, l, d)
    assert np.count_nonzero(ref) > 0
    assert same_bits(got, ref, dtype), (
        f"{np.count_nonzero(got != ref)} of {ref.size} entries differ; max |diff| "
        f"{np.max(np.abs(got.astype(float) - ref.astype(float)))}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_reference_is_sensitive_to_the_order(fma_clone, dtype):
    """The test above can fail: on the same data, other plausible ways of summing the same
    products (NumPy's pairwise ``sum`` of rounded products, one chain over all samples without
    the shard split, a multiply then an add per step) give other bits for some entries, while
    the engine keeps the documented ones."""
    l, d, N = 13, 30, 600         # N P >= SPLIT_MIN_WORK: two shards
    prob = make_problem(dtype, l, d, N)
    F, p = prob["F"], PRECISION[dtype]
    ref = reference_first_layer(prob)
    grad = Landscape(prob["arch"], prob["X"], prob["y"], dtype=dtype).gradient(prob["theta"])
    assert same_bits(engine_first_layer(grad, l, d), ref, dtype)
    D, X1 = prob["D"].astype(F), prob["X1"].astype(F)
    alternatives = {
        "pairwise sum of rounded products": (D[:, :, None] * X1[:, None, :]).sum(axis=0),
        "one chain, no shards": chain_sums(prob["D"], prob["X1"], [(0, N)], p)[0].astype(F),
        "unfused chains": reference_first_layer(prob, fused=False),
    }
    for name, alt in alternatives.items():
        n_diff = np.count_nonzero(alt.astype(F) != ref)
        assert n_diff > 0, f"{name} gives the same bits: the data does not test the order"


@pytest.mark.skipif("default" not in _engine.supported_clones(), reason="no baseline clone")
@pytest.mark.parametrize("dtype", DTYPES)
def test_baseline_clone_is_the_unfused_chain(dtype):
    """The baseline clone (no FMA instructions, ext/blockops.h) adds the same products in the
    same order, each step a rounded product then a rounded sum: exactly the unfused chains,
    which differ from the FMA clones' bits in some entries."""
    l, d, N = 7, 15, 455
    prob = make_problem(dtype, l, d, N, "leaky_relu", seed=1)
    before = _engine.set_clone("default")
    try:
        grad = Landscape(prob["arch"], prob["X"], prob["y"], dtype=dtype).gradient(
            prob["theta"])
    finally:
        _engine.set_clone(before)
    unfused = reference_first_layer(prob, fused=False)
    assert same_bits(engine_first_layer(grad, l, d), unfused, dtype)
    assert np.count_nonzero(unfused != reference_first_layer(prob)) > 0


# --- 3: thread counts ------------------------------------------------------------------------
def train_on_threads(monkeypatch, threads, land, theta0, **kw):
    """``land.train(theta0, n_threads=threads, **kw)`` with every ``train_chunk`` call forced to
    ``threads`` threads (``train`` times its first calls with one thread and with all when B
    is below the thread count, and keeps the faster: without this, a short run might never
    take the split path)."""
    real = eng.train_chunk
    seen = []

    def chunk(*args):   # (Xb, Yb, X, Y, options, state, t0, t1, n_threads, Xp)
        seen.append(threads)
        return real(*args[:8], threads, *args[9:])

    with monkeypatch.context() as m:
        m.setattr(eng, "train_chunk", chunk)
        res = land.train(theta0, n_threads=threads, **kw)
    assert seen and eng.train_chunk is real
    return res


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("l, d, N", [(13, 30, 500), (9, 15, 2300)])
def test_one_network_split_over_two_threads_is_the_same_chain(monkeypatch, dtype, l, d, N):
    """B = 1 with the samples' shards run by two threads (``N P >= SPLIT_MIN_WORK``, the
    split path of ``train_chunk``; N = 2,300: 4 shards dealt dynamically) and by one thread
    give identical bits over a few GD steps; the first step of the split run is
    ``theta0 - lr g`` with ``g`` the documented chains."""
    prob = make_problem(dtype, l, d, N, seed=2)
    arch = prob["arch"]
    assert N * arch.n_params >= eng.SPLIT_MIN_WORK
    land = Landscape(arch, prob["X"], prob["y"], dtype=dtype)
    kw = dict(optimizer="gd", lr=LR, progress=False, record_every=1)
    first = train_on_threads(monkeypatch, 2, land, prob["theta"][None], steps=1, **kw)
    two = train_on_threads(monkeypatch, 2, land, prob["theta"][None], steps=4, **kw)
    one = train_on_threads(monkeypatch, 1, land, prob["theta"][None], steps=4, **kw)
    assert not np.any(one.diverged) and np.all(np.isfinite(one.params))
    for field in ("params", "loss", "final_loss", "conserved"):
        assert np.array_equal(getattr(one, field), getattr(two, field)), field
    F = prob["F"]
    theta0 = prob["theta"].astype(F)
    ref = reference_first_layer(prob)
    expect = engine_first_layer(theta0, l, d) - F(LR) * ref
    assert same_bits(engine_first_layer(first.params[0], l, d), expect, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_three_networks_on_one_and_two_threads(dtype):
    """B = 3 networks (threads over networks, each network's shards on its thread) trained a
    few GD steps with 1 and 2 threads: identical bits, and the evaluation gradients too."""
    l, d, N = 5, 8, 455
    probs = [make_problem(dtype, l, d, N, "leaky_relu", seed=s) for s in range(3)]
    arch, X, y = probs[0]["arch"], probs[0]["X"], probs[0]["y"]
    thetas = np.array([p["theta"] for p in probs])
    land = Landscape(arch, X, y, dtype=dtype)
    kw = dict(optimizer="gd", lr=LR, steps=5, progress=False, record_every=1)
    one = land.train(thetas, n_threads=1, **kw)
    two = land.train(thetas, n_threads=2, **kw)
    assert not np.any(one.diverged) and np.all(np.isfinite(one.params))
    for field in ("params", "loss", "final_loss", "conserved"):
        assert np.array_equal(getattr(one, field), getattr(two, field)), field
    _, g1 = land.loss_and_gradient(thetas, n_threads=1)
    _, g2 = land.loss_and_gradient(thetas, n_threads=2)
    assert same_bits(g1, g2, dtype)


# --- 4: evaluation and training use the same gradient --------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("l, d, N, activation", [(3, 8, 37, "relu"), (9, 15, 455, "leaky_relu"),
                                                 (6, 7, 13, "relu")])
def test_gd_step_uses_the_evaluation_gradient(dtype, l, d, N, activation):
    """One GD step of ``train`` from ``theta0`` with ``lr = 2**-8`` is ``theta0 - lr g`` with
    ``g`` the evaluation path's gradient, bit for bit in every parameter (``lr g`` is exact,
    so the update rounds once, fused or not); at the probe weights (``theta0 = 0``) the step
    is ``-lr g`` exactly, so there the training gradient is recovered and equals ``g``."""
    prob = make_problem(dtype, l, d, N, activation, seed=3)
    F = prob["F"]
    land = Landscape(prob["arch"], prob["X"], prob["y"], dtype=dtype)
    g = land.gradient(prob["theta"])
    res = land.train(prob["theta"], optimizer="gd", lr=LR, steps=1, progress=False,
                     n_threads=1)
    theta0 = prob["theta"].astype(F)
    theta1 = res.params[0]
    assert theta1.dtype == np.dtype(dtype)
    assert same_bits(theta1, theta0 - F(LR) * g, dtype)
    probe = np.zeros((l, d), dtype=bool)
    probe[:, prob["na"]:] = True
    probe = np.concatenate([probe.ravel(), np.zeros(prob["arch"].n_params - l * d, bool)])
    assert np.all(theta0[probe] == 0)
    recovered = F(0) - theta1[probe] / F(LR)     # +0.0 where g is +0.0 (chains start at +0)
    assert same_bits(recovered, g[probe], dtype)
    assert same_bits(engine_first_layer(g, l, d), reference_first_layer(prob), dtype)


# --- large data: the lane path ---------------------------------------------------------------
def test_panels_threshold_is_a_fixed_size():
    """Blocks plus panels up to PANEL_MAX_BYTES (16 MiB) use the panel path, larger data the
    lane sums; the size depends on the data only (``d = 30``: 496 bytes per float64 sample,
    248 per float32 sample), and ``block_data`` builds the panels only when they are used."""
    per64 = (30 + eng.LANES * (30 // eng.LANES + 1)) * 8
    limit = 16 * 1024 * 1024 // (NB * per64)          # blocks
    assert eng.panels_used(limit, 30, 8) and not eng.panels_used(limit + 1, 30, 8)
    assert eng.panels_used(2 * limit, 30, 4) and not eng.panels_used(2 * limit + 1, 30, 4)
    small = _engine.block_data(np.ones((40, 30)), np.zeros((40, 1)))
    assert small.Xp.shape == (30 // eng.LANES + 1, 48, eng.LANES)
    assert np.array_equal(small.Xp[30 // eng.LANES, :40, 30 % eng.LANES], np.ones(40))


@pytest.mark.parametrize("d", [1, 7, 8, 15, 16, 20, 31, 32, 47])
def test_float32_panels_are_stored_in_pairs(d):
    """Float32 panels: ``ta_n_panels_f(d) = 2 (d // 16 + 1)`` panels of 8 features stored in
    pairs, shape ``(d // 16 + 1, samples, 16)``: row (q, n) holds features 16q .. 16q + 15 of
    sample n, feature d the bias' 1 for the real samples, the rest 0 (float64: one panel of 8
    features a row, ``d // 8 + 1`` rows)."""
    rng = np.random.default_rng(d)
    X = rng.standard_normal((21, d))
    data = _engine.block_data(X, np.zeros((21, 1)), dtype="float32")
    q = d // 16 + 1
    assert data.Xp.shape == (q, 32, 16) and data.Xp.dtype == np.float32
    want = np.zeros((32, 16 * q), dtype=np.float32)
    want[:21, :d] = X
    want[:21, d] = 1
    assert np.array_equal(data.Xp.transpose(1, 0, 2).reshape(32, 16 * q), want)
    assert _engine.block_data(X, np.zeros((21, 1))).Xp.shape == (d // 8 + 1, 32, 8)


def test_large_data_lane_path_gradient_and_threads(monkeypatch):
    """Above the size limit the first-layer gradient takes the lane path (no panels built): it
    matches a float64 NumPy reference, and one network on 1 and 2 threads (the sample split)
    trains to the same bits."""
    l, d = 3, 30
    N = (16 * 1024 * 1024 // (NB * (d + 32) * 8) + 2) * NB - 5    # just above the limit
    rng = np.random.default_rng(5)
    X = rng.standard_normal((N, d))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(float)
    arch = Architecture(d, (l,), 1)
    land = Landscape(arch, X, y, loss="bce")
    assert land._data.Xp.size == 0 and not eng.panels_used(land._data.Xb.shape[0], d, 8)
    theta = rng.standard_normal(arch.n_params) * 0.3
    g = land.gradient(theta, n_threads=1)
    W1, b1 = theta[:l * d].reshape(l, d), theta[l * d:l * d + l]
    w2, b2 = theta[l * d + l:l * d + 2 * l], theta[-1]
    z = X @ W1.T + b1
    h = np.maximum(z, 0)
    o = h @ w2 + b2
    G = (1 / (1 + np.exp(-o)) - y) / N
    D = (z > 0) * (G[:, None] * w2[None, :])
    ref = np.concatenate([(D.T @ X).ravel(), D.sum(0), h.T @ G, [G.sum()]])
    np.testing.assert_allclose(np.asarray(g).ravel(), ref, rtol=1e-9, atol=1e-15)
    kw = dict(optimizer="gd", lr=0.5, steps=3, progress=False, record_every=1)
    one = train_on_threads(monkeypatch, 1, land, theta[None], **kw)
    two = train_on_threads(monkeypatch, 2, land, theta[None], **kw)
    assert same_bits(one.params, two.params, "float64")
    assert np.array_equal(one.loss, two.loss)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d, N", [(1, 5), (7, 37), (8, 64), (30, 455)])
def test_python_and_c_panels_are_the_same(dtype, d, N):
    """``block_data``'s panels (NumPy) are exactly the ones the kernels build themselves when
    called without them (``ta_panels``): the same gradient bits either way."""
    rng = np.random.default_rng(d * 1000 + N)
    X, y = rng.standard_normal((N, d)), (rng.random((N, 1)) > 0.5).astype(float)
    arch = Architecture(d, (5,), 1)
    data = _engine.block_data(X, y, dtype)
    theta = (rng.standard_normal((3, arch.n_params)) * 0.5).astype(dtype)
    args = _engine.kernel_arch_args(arch, "bce")
    grads = []
    for xp in (data.Xp, None):
        loss, grad = np.zeros(3), np.zeros((3, arch.n_params), dtype)
        acc, bad = np.zeros(3), np.zeros(3, np.int8)
        if dtype == "float64":
            eng.evaluate_networks(theta, data.Xb, data.Yb, data.X, data.Y, *args, True, True,
                                  False, False, loss, grad, acc, np.zeros((1, 1, 1)), bad, 1,
                                  xp)
        else:
            eng.evaluate_networks_f32(theta, data.Xb, data.Yb, N, *args, True, True, False,
                                      loss, grad, acc, bad, 1, xp)
        assert not bad.any()
        grads.append(grad)
    assert same_bits(grads[0], grads[1], dtype)


@pytest.mark.parametrize("hidden, outputs, above", [((4, 3), 1, False), ((3,), 2, False),
                                                    ((4, 3), 1, True)])
def test_general_path_first_layer_gradient_from_panels(hidden, outputs, above):
    """Networks outside the shallow path (more hidden layers, several outputs) take their
    first-layer weight gradient from the panels too when the data has them (and from lane
    sums above the size limit): the full gradient matches a float64 NumPy reference on both
    sides of the limit, and the compiled value equals the one-network reference whatever the
    thread count."""
    d = 6
    N = (16 * 1024 * 1024 // (NB * (d + 8) * 8) + 2) * NB - 5 if above else 203
    rng = np.random.default_rng(11)
    X = rng.standard_normal((N, d))
    arch = Architecture(d, hidden, outputs, activation="leaky_relu")
    Y = np.tanh(X[:, :outputs] - 0.5 * X[:, 1:outputs + 1])
    land = Landscape(arch, X, Y, loss="mse")
    assert (land._data.Xp.size == 0) == above
    theta = rng.standard_normal((3, arch.n_params)) * 0.5
    one = np.asarray(land.gradient(theta, n_threads=1))
    two = np.asarray(land.gradient(theta, n_threads=2))
    assert same_bits(one, two, "float64")
    for b in range(3):
        Ws, bs, pos = [], [], 0
        sizes = (d,) + tuple(hidden) + (outputs,)
        for i in range(len(sizes) - 1):
            Ws.append(theta[b, pos:pos + sizes[i + 1] * sizes[i]].reshape(sizes[i + 1], sizes[i]))
            pos += sizes[i + 1] * sizes[i]
            bs.append(theta[b, pos:pos + sizes[i + 1]])
            pos += sizes[i + 1]
        assert pos == arch.n_params
        hs, zs = [X], []
        for i in range(len(Ws)):
            z = hs[-1] @ Ws[i].T + bs[i]
            zs.append(z)
            hs.append(np.where(z > 0, z, 0.01 * z) if i < len(Ws) - 1 else z)
        G = 2 * (hs[-1] - Y) / (N * outputs)
        grads = []
        for i in range(len(Ws) - 1, -1, -1):
            grads = [(G.T @ hs[i]).ravel(), G.sum(0)] + grads
            if i:
                G = (G @ Ws[i]) * np.where(zs[i - 1] > 0, 1.0, 0.01)
        ref = np.concatenate(grads)
        np.testing.assert_allclose(one[b], ref, rtol=1e-9, atol=1e-14)
