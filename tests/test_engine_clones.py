"""Every instruction-set clone of the engine (default, x86-64-v3, x86-64-v4) against the NumPy
reference, and the reproducibility guarantees per clone.

Each clone is forced with ``_engine.set_clone`` (the runtime form of ``TOPOANALYSIS_CLONE``);
a clone the CPU cannot run is skipped with the reason. The C header ``ext/blockops.h`` is also
compiled on its own with ``-Wall -Wextra -Werror``.
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from topoanalysis import Architecture, ValidationError
from topoanalysis.dynamics import _engine, batch_loss_and_gradient, interpolate, train
from topoanalysis.network import loss_and_gradient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RTOL = 1e-10
CLONES = ("default", "v3", "v4")


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.fixture(params=CLONES)
def clone(request):
    name = request.param
    if name not in _engine.supported_clones():
        pytest.skip(f"this CPU cannot run the {name} clone "
                    f"(supported: {', '.join(_engine.supported_clones())})")
    before = _engine.set_clone(name)
    yield name
    _engine.set_clone(before)


def gd_reference(arch, theta, X, y, loss, lr, steps):
    th = np.array(theta, dtype=float)
    for _ in range(steps):
        th = th - lr * loss_and_gradient(arch, th, X, y, loss)[1]
    return th


CASES = [
    # (hidden, outputs, activation, loss): the shallow fast path (one hidden layer, one
    # output, elementwise loss, vectorized activation) and the generic per-layer path
    ((6,), 1, "relu", "bce"),
    ((5,), 1, "sigmoid", "mse"),
    ((3,), 1, "leaky_relu", "l1"),
    ((4,), 1, "tanh", "bce"),
    ((4, 3), 1, "relu", "bce"),
    ((6,), 3, "abs", "mse"),
    ((4, 3), 3, "relu", "cross_entropy"),
]


@pytest.mark.parametrize("hidden,e,act,loss", CASES)
def test_clone_matches_reference(clone, hidden, e, act, loss):
    rng = np.random.default_rng(len(hidden) * 10 + e)
    arch = Architecture(7, hidden, e, activation=act)
    X = rng.standard_normal((75, 7))      # 5 blocks: partial last block, two shards
    if loss == "cross_entropy":
        Y = np.eye(e)[rng.integers(0, e, 75)]
    elif loss == "bce":
        Y = (rng.random((75, e)) > 0.5).astype(float)
    else:
        Y = rng.standard_normal((75, e))
    theta = 0.7 * rng.standard_normal((3, arch.n_params))
    value, grad = batch_loss_and_gradient(theta, X, Y, arch=arch, loss=loss, n_threads=1)
    for b in range(3):
        ref_v, ref_g = loss_and_gradient(arch, theta[b], X, Y, loss)
        assert rel_err(value[b], ref_v) < RTOL
        assert rel_err(grad[b], ref_g) < RTOL
    # one network alone gives the same bits as within a batch
    v1, g1 = batch_loss_and_gradient(theta[1], X, Y, arch=arch, loss=loss, n_threads=2)
    assert np.array_equal(v1, value[1:2]) and np.array_equal(g1, grad[1:2])


@pytest.mark.parametrize("hidden", [(6,), (4, 3)])
def test_clone_training_reference_and_bit_identity(clone, hidden):
    rng = np.random.default_rng(3)
    arch = Architecture(5, hidden, 1)
    X = rng.standard_normal((60, 5))
    y = (X[:, :1] > 0).astype(float)
    theta = 0.5 * rng.standard_normal((3, arch.n_params))
    kw = dict(arch=arch, loss="bce", optimizer="gd", lr=0.2, steps=12, record_every=4,
              record_conserved=False, progress=False)
    runs = [train(theta, X, y, n_threads=n, **kw) for n in (1, 2)]
    assert np.array_equal(runs[0].params, runs[1].params)
    assert np.array_equal(runs[0].loss, runs[1].loss)
    for b in range(3):
        ref = gd_reference(arch, theta[b], X, y, "bce", 0.2, 12)
        assert rel_err(runs[0].params[b], ref) < RTOL
        # one network alone (its samples split over 2 threads) gives the same bits
        alone = train(theta[b], X, y, n_threads=2, **kw)
        assert np.array_equal(alone.params[0], runs[0].params[b])
        assert np.array_equal(alone.loss[0], runs[0].loss[b])


def test_clone_interpolation_reference(clone):
    rng = np.random.default_rng(5)
    arch = Architecture(4, (6,), 1)
    X = rng.standard_normal((40, 4))
    y = (rng.random((40, 1)) > 0.5).astype(float)
    A = rng.standard_normal((3, arch.n_params))
    B = rng.standard_normal((3, arch.n_params))
    ts = np.linspace(0.0, 1.0, 7)
    res = interpolate(A, B, X, y, arch=arch, loss="bce", ts=ts, n_threads=2)
    assert np.array_equal(res.loss, interpolate(A, B, X, y, arch=arch, loss="bce", ts=ts,
                                                n_threads=1).loss)
    for s in range(3):
        for k, t in enumerate(ts):
            ref, _ = loss_and_gradient(arch, (1 - t) * A[s] + t * B[s], X, y, "bce")
            assert rel_err(res.loss[s, k], ref) < 1e-9


def test_v3_and_v4_give_identical_bits():
    have = _engine.supported_clones()
    if not ("v3" in have and "v4" in have):
        pytest.skip(f"needs the v3 and v4 clones; this CPU supports {', '.join(have)}")
    rng = np.random.default_rng(9)
    X = rng.standard_normal((90, 6))
    y = (rng.random((90, 1)) > 0.5).astype(float)
    nets = []
    for hidden, act in (((6,), "relu"), ((5,), "sigmoid"), ((4, 3), "tanh")):
        arch = Architecture(6, hidden, 1, activation=act)
        nets.append((arch, 0.5 * rng.standard_normal((2, arch.n_params))))
    out = {}
    before = _engine.current_clone()
    try:
        for name in ("v3", "v4"):
            _engine.set_clone(name)
            for arch, theta in nets:
                r = train(theta, X, y, arch=arch, loss="bce", optimizer="gd", lr=0.1, steps=5,
                          progress=False, n_threads=1)
                out.setdefault(name, []).append((r.params, r.loss))
    finally:
        _engine.set_clone(before)
    for (p3, l3), (p4, l4) in zip(out["v3"], out["v4"]):
        assert np.array_equal(p3, p4) and np.array_equal(l3, l4)


def test_set_clone_validates():
    with pytest.raises(ValidationError, match="clone"):
        _engine.set_clone("avx9000")
    assert _engine.current_clone() in _engine.supported_clones()
    assert "default" in _engine.supported_clones()


def test_environment_variable_forces_clone():
    code = ("from topoanalysis.dynamics import _engine; "
            "print(_engine.current_clone())")
    env = dict(os.environ, TOPOANALYSIS_CLONE="default", PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "default"


def test_header_compiles_on_its_own():
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "check.c")
        with open(src, "w") as fh:
            fh.write('#include "blockops.h"\n'
                     "int main(void) {\n"
                     "  double *g = ta_alloc(8); int bad;\n"
                     "  if (g == NULL) return 2;\n"
                     "  memset(g, 0, 8 * sizeof(double)); ta_reduce_lanes(g, 1, g);\n"
                     "  bad = ta_select_clone(-1) < 0 || ta_current_clone() < 0 || g[0] != 0;\n"
                     "  free(g); return bad; }\n")
        res = subprocess.run([cc, "-std=gnu11", "-O1", "-Wall", "-Wextra", "-Werror",
                              "-Wno-psabi", "-ffp-contract=fast",
                              "-I", os.path.join(ROOT, "ext"), src, "-o",
                              os.path.join(tmp, "check"), "-lm"],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr[-2000:]
        assert subprocess.run([os.path.join(tmp, "check")]).returncode == 0


def test_reduce_lanes_same_bits_in_every_clone():
    """ta_reduce_lanes of every clone the CPU runs (v4: 8 entries at a time with shuffles) gives
    exactly ta_sum_lanes' tree, for lengths around multiples of 8."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "reduce.c")
        with open(src, "w") as fh:
            fh.write('#include "blockops.h"\n'
                     "int main(void) {\n"
                     "  double *x = ta_alloc(8 * 41 + 1), out[41]; int c, n, p, i, bad = 0;\n"
                     "  unsigned long long s = 88172645463325252ULL;\n"
                     "  if (x == NULL) return 2;\n"
                     "  for (i = 0; i < 8 * 41 + 1; i++) {\n"
                     "    s ^= s << 13; s ^= s >> 7; s ^= s << 17;\n"
                     "    x[i] = ((double)(s >> 11) / 9007199254740992.0 - 0.5)\n"
                     "           * (double)(1ULL << (i % 40)); }\n"
                     "  for (c = 0; c < 3; c++) {\n"
                     "    if (!ta_clone_supported(c)) continue;\n"
                     "    if (ta_select_clone(c) != c) return 3;\n"
                     "    for (n = 0; n <= 41; n++) {\n"
                     "      ta_reduce_lanes(x + 1, n, out);\n"  # unaligned on purpose
                     "      for (p = 0; p < n; p++)\n"
                     "        bad |= memcmp(&out[p], &(double){ta_sum_lanes(x + 1 + 8 * p)},\n"
                     "                      sizeof(double)) != 0; } }\n"
                     "  free(x); return bad; }\n")
        exe = os.path.join(tmp, "reduce")
        res = subprocess.run([cc, "-std=gnu11", "-O2", "-Wall", "-Wno-psabi",
                              "-ffp-contract=fast", "-I", os.path.join(ROOT, "ext"), src, "-o",
                              exe, "-lm"], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr[-2000:]
        assert subprocess.run([exe]).returncode == 0


def bce_ulps(mpmath, o, loss, grad_b2):
    """The largest distances, in ulps of the correctly rounded values, of the one-sample BCE
    values ``loss`` (y = 0, logits ``o``: log1p(exp(o))) and output-bias gradients ``grad_b2``
    (sigmoid(o))."""
    worst = worst_g = 0.0
    for oo, val, g in zip(o, loss, grad_b2):
        x = mpmath.mpf(float(oo))
        ref = mpmath.log1p(mpmath.exp(x))
        worst = max(worst, abs(float((mpmath.mpf(float(val)) - ref) / np.spacing(float(ref)))))
        refg = 1 / (1 + mpmath.exp(-x))
        worst_g = max(worst_g, abs(float((mpmath.mpf(float(g)) - refg) / np.spacing(float(refg)))))
    return worst, worst_g


def test_bce_exp_flush_and_large_logits(clone):
    """exp(-|o|) is flushed to 0 below exp(-708) (ext/blockops_math.h ``ta_vexpn``: no subnormal
    numbers in the loss and backward passes, whose products cost microcode assists), so for
    logits beyond 708 on the right side the BCE value and gradient are exactly 0, at most
    exp(-708) = 3.3e-308 from the exact values; just inside the threshold, and from |o| = 18
    (where log1p's polynomial is taken of 0) to 700, the value is within 3 ulp of the
    correctly rounded one and the gradient within 3 ulp. One sample, y = 0, o < 0."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 113
    arch = Architecture(1, (1,), 1, hidden_bias=True, output_bias=True, activation="relu")
    rng = np.random.default_rng(4)
    inside = -np.concatenate([rng.uniform(17.0, 700.0, 300), [18.0, 707.9, 707.999]])
    beyond = -np.array([708.001, 708.4, 720.0, 745.2, 746.0, 1000.0, 1e300])
    o = np.concatenate([inside, beyond])
    theta = np.zeros((o.size, arch.n_params))
    theta[:, 3] = o            # W1 = b1 = w2 = 0: the output is the output bias
    loss, grad = batch_loss_and_gradient(theta, np.zeros((1, 1)), np.zeros((1, 1)), arch=arch,
                                         loss="bce", n_threads=1)
    n = inside.size
    worst, worst_g = bce_ulps(mpmath, o[:n], loss[:n], grad[:n, 3])
    assert worst <= 3.0, worst
    assert worst_g <= 3.0, worst_g
    assert np.all(loss[n:] == 0.0) and np.all(grad[n:] == 0.0)
    exact = [float(mpmath.log1p(mpmath.exp(mpmath.mpf(float(oo))))) for oo in o[n:]]
    assert max(exact) <= math.exp(-708.0)
    # the other side (y = 1): the loss is |o| and the gradient -1, both normal
    loss1, grad1 = batch_loss_and_gradient(theta[n:n + 4], np.zeros((1, 1)), np.ones((1, 1)),
                                           arch=arch, loss="bce", n_threads=1)
    assert np.array_equal(loss1, -o[n:n + 4]) and np.all(grad1[:, 3] == -1.0)
    # per-sample gradient terms below the smallest normal number are flushed too: with 1,000
    # samples at o = -707.9 each term sigmoid(o) / 1000 ~ 3.6e-311 is subnormal, so the
    # gradient is 0 where the exact mean is sigmoid(o) = 3.6e-308 (within N * 2.2e-308)
    _, gN = batch_loss_and_gradient(theta[n - 2:n - 1], np.zeros((1000, 1)), np.zeros((1000, 1)),
                                    arch=arch, loss="bce", n_threads=1)
    assert gN[0, 3] == 0.0 and math.exp(-707.9) <= 1000 * 2.0 ** -1022


def test_bce_value_accuracy_in_ulps(clone):
    """The BCE value log1p(exp(-|o|)) of the kernels (a vectorized exp and log1p) is within
    3 ulp of the correctly rounded value in every clone (measured max 2.7; the previous
    atanh series with a Newton reciprocal reached 5.4 ulp near o = -0.46). One sample, y = 0,
    o < 0: the loss is exactly log1p(exp(o)); the gradient sigmoid(o) within 3 ulp (2.3)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 113
    arch = Architecture(1, (1,), 1, hidden_bias=True, output_bias=True, activation="relu")
    rng = np.random.default_rng(3)
    o = -np.concatenate([rng.uniform(0.2, 1.0, 1500), rng.uniform(1.0, 40.0, 200),
                         [0.0, 1e-300, 5e-324, 0.34657359027997264, 0.8813735870195429]])
    theta = np.zeros((o.size, arch.n_params))
    theta[:, 3] = o            # W1 = b1 = w2 = 0: the output is the output bias
    loss, grad = batch_loss_and_gradient(theta, np.zeros((1, 1)), np.zeros((1, 1)), arch=arch,
                                         loss="bce", n_threads=1)
    worst, worst_g = bce_ulps(mpmath, o, loss, grad[:, 3])
    assert worst <= 3.0, worst
    assert worst_g <= 3.0, worst_g
