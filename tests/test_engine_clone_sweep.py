"""The x86-64-v3 and x86-64-v4 clones give identical bits, swept over the shapes where their
register tiles differ: input widths around the 8-feature panels (odd and even panel counts),
hidden widths around the row tiles (1 ... 13 rows, deep and multi-output networks), sample
counts around the 16-sample blocks, the 8-block groups and the sample shards, both
precisions, every vectorized activation, and degenerate values (exact zeros in the data and
the weights, so pre-activations at ReLU's kink; dead neurons; weights of 1e3).

The float32 v4 clone computes its forward and panel tiles on 16-float zmm registers, the v3
clone on 8-float ymm registers; the float64 v4 clone holds a logical vector in one zmm, v3 in
two ymm. Skipped where the CPU cannot run both clones.
"""

import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.dynamics import _engine, batch_loss_and_gradient, interpolate, train

pytestmark = pytest.mark.skipif(
    not {"v3", "v4"} <= set(_engine.supported_clones()),
    reason="needs a CPU that runs both the x86-64-v3 and the x86-64-v4 clone")


def both_clones(fn):
    out = []
    before = _engine.current_clone()
    try:
        for name in ("v3", "v4"):
            _engine.set_clone(name)
            out.append(fn())
    finally:
        _engine.set_clone(before)
    return out


def same(a, b):
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def problem(d, hidden, e, act, N, seed, degenerate):
    rng = np.random.default_rng(seed)
    arch = Architecture(d, hidden, e, activation=act)
    X = rng.standard_normal((N, d))
    theta = 0.8 * rng.standard_normal((3, arch.n_params))
    if degenerate:
        X[rng.random((N, d)) < 0.2] = 0.0            # exact zeros: z = bias exactly
        theta[:, : d * hidden[0]][rng.random((3, d * hidden[0])) < 0.3] = 0.0
        theta[1, d * hidden[0]: d * hidden[0] + hidden[0]] = 0.0   # zero biases: z = 0 at X = 0
        theta[2] *= 1e3 ** (1.0 / len(arch.sizes))   # large weights, outputs ~1e3
        theta[0, :d] = 0.0                            # a neuron with no input weights
    Y = (rng.random((N, e)) > 0.5).astype(float)
    return arch, X, Y, theta


# (d, hidden, outputs, activation): panel counts d // 8 + 1 = 1 ... 5, row tiles 1 ... 13
SHAPES = [
    (1, (6,), 1, "relu"), (7, (1,), 1, "relu"), (8, (2,), 1, "relu"), (15, (5,), 1, "relu"),
    (16, (7,), 1, "relu"), (30, (6,), 1, "relu"), (30, (13,), 1, "relu"),
    (33, (9,), 1, "relu"), (24, (3,), 1, "relu"), (30, (6,), 1, "sigmoid"),
    (17, (4,), 1, "leaky_relu"), (9, (12,), 1, "abs"), (30, (16, 16), 1, "relu"),
    (8, (5,), 3, "relu"), (12, (4, 3), 2, "tanh"),
]
SAMPLES = [1, 17, 127, 129, 455, 1601]      # partial blocks, group edges, > 2 shards


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("d,hidden,e,act", SHAPES)
def test_loss_and_gradient_bits(dtype, d, hidden, e, act):
    if dtype == "float32" and (len(hidden) > 1 or e > 1 or act == "tanh"):
        pytest.skip("float32 covers one hidden layer, one output, a vectorized activation")
    for i, N in enumerate(SAMPLES):
        for degenerate in (False, True):
            arch, X, Y, theta = problem(d, hidden, e, act, N, 100 * i + d, degenerate)
            loss = "bce" if e == 1 else "mse"
            r3, r4 = both_clones(lambda: batch_loss_and_gradient(
                theta, X, Y, arch=arch, loss=loss, n_threads=1, dtype=dtype))
            assert same(r3[0], r4[0]), (N, degenerate, "loss")
            assert same(r3[1], r4[1]), (N, degenerate, "gradient")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["gd", "adam", "sgd"])
def test_training_bits(dtype, optimizer):
    arch, X, Y, theta = problem(30, (6,), 1, "relu", 455, 7, True)
    theta[2] = theta[0]
    kw = dict(arch=arch, loss="bce", optimizer=optimizer, lr=0.01, steps=30, progress=False,
              dtype=dtype, n_threads=2, seed=3)
    if optimizer == "sgd":
        kw["batch_size"] = 100
    r3, r4 = both_clones(lambda: train(theta, X, Y, **kw))
    for field in ("params", "loss", "final_loss"):
        assert same(getattr(r3, field), getattr(r4, field)), field


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_interpolation_bits(dtype):
    arch, X, Y, theta = problem(30, (6,), 1, "relu", 200, 11, True)
    r3, r4 = both_clones(lambda: interpolate(theta[0], theta[1], X, Y, arch=arch, loss="bce",
                                             n_points=17, dtype=dtype))
    assert same(r3.loss, r4.loss)
