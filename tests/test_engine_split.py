"""One network on two threads (issue #16): the sample shards of a pass are shared by the threads
when the pass is large enough (``SPLIT_MIN_WORK``), on one thread otherwise; the numbers are the
same either way, in float64 and float32."""

import numpy as np
import pytest

from topoanalysis import Architecture
from topoanalysis.dynamics import _engine, train
from topoanalysis.init import init_params

eng = _engine.kernels()


@pytest.mark.parametrize("dtype", eng.DTYPES)
@pytest.mark.parametrize("n", [40, 5000])
def test_one_network_same_numbers_on_one_and_two_threads(dtype, n):
    arch = Architecture(5, (6,), 1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 5))
    y = (X[:, 0] * X[:, 1] > 0) * 1.0
    theta0 = init_params(arch, n_networks=1, seed=3)
    # 5000 samples x 43 parameters is above the split threshold, 40 x 43 below
    assert (n * arch.n_params >= eng.SPLIT_MIN_WORK) == (n == 5000)
    kw = dict(arch=arch, loss="bce", lr=0.2, steps=12, record_every=3, record_params=True,
              progress=False, dtype=dtype)
    one = train(theta0, X, y, n_threads=1, **kw)
    two = train(theta0, X, y, n_threads=2, **kw)
    for field in ("params", "loss", "conserved", "trajectory", "final_loss"):
        assert np.array_equal(getattr(one, field), getattr(two, field), equal_nan=True)
    if dtype == "float32":   # mini-batches are split too in float32
        kw.update(optimizer="sgd", batch_size=n // 2)
        one = train(theta0, X, y, n_threads=1, **kw)
        two = train(theta0, X, y, n_threads=2, **kw)
        assert np.array_equal(one.params, two.params)
