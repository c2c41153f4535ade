"""One network on two threads (issue #16): ``train`` times its first calls with one thread
and with the samples split over all threads (1, all, all, 1), and keeps the faster minimum, so that a loaded machine
(where every step's join waits for a descheduled thread) never makes B = 1 slower than one
thread. The numbers do not depend on the choice."""

import time

import numpy as np

from topoanalysis import Architecture
from topoanalysis.dynamics import _engine, train
from topoanalysis.init import init_params


def run(monkeypatch, slow_threads, n_threads=2, B=1):
    eng = _engine.kernels()
    real = eng.train_chunk
    seen = []

    def chunk(*args):
        threads = args[8]   # (Xb, Yb, X, Y, options, state, t0, t1, n_threads, Xp)
        seen.append(threads)
        if threads == slow_threads:
            time.sleep(0.02)    # this thread count is made the slow one
        return real(*args)

    monkeypatch.setattr(eng, "train_chunk", chunk)
    # this small problem would not split (``split_used``): pretend it does
    monkeypatch.setattr(eng, "split_used", lambda *args: True)
    arch = Architecture(3, (4,), 1)
    X = np.random.default_rng(0).standard_normal((40, 3))
    y = X[:, :1] * X[:, 1:2]
    res = train(init_params(arch, n_networks=B, seed=1), X, y, arch=arch, lr=0.05,
                steps=1000, progress=False, n_threads=n_threads)
    monkeypatch.undo()
    return seen, res


def test_one_network_keeps_the_faster_thread_count(monkeypatch):
    seen, res = run(monkeypatch, slow_threads=2)
    # probes in the order 1, all, all, 1 (a drift of the machine weighs on both)
    assert seen[:4] == [1, 2, 2, 1] and len(seen) >= 5 and set(seen[4:]) == {1}
    assert len(seen) <= 8    # four probe calls of 4 steps, then the usual ramp
    seen2, res2 = run(monkeypatch, slow_threads=1)
    assert seen2[:4] == [1, 2, 2, 1] and set(seen2[4:]) == {2}
    assert np.array_equal(res.params, res2.params)
    assert np.array_equal(res.loss, res2.loss)


def test_no_probe_with_one_network_per_thread(monkeypatch):
    seen, _ = run(monkeypatch, slow_threads=2, B=4)
    assert set(seen) == {2}
    seen, _ = run(monkeypatch, slow_threads=2, n_threads=1)
    assert set(seen) == {1}


def test_probe_only_when_the_kernel_would_split(monkeypatch):
    """Below SPLIT_MIN_WORK samples x parameters, and for networks outside the shallow path in
    float64, the kernel runs one thread per network whatever the thread count: nothing to
    time, no probe calls. Above it (one hidden layer, full batch) the four probes run."""
    eng = _engine.kernels()
    real = eng.train_chunk
    seen = []

    def chunk(*args):
        seen.append(args[8])
        return real(*args)

    monkeypatch.setattr(eng, "train_chunk", chunk)
    rng = np.random.default_rng(0)
    for hidden, n, probes in (((4,), 40, False), ((16,), 3000, True), ((4, 4), 20000, False)):
        arch = Architecture(3, hidden, 1)
        assert (n * arch.n_params >= eng.SPLIT_MIN_WORK) == (n > 40)
        X = rng.standard_normal((n, 3))
        seen.clear()
        train(init_params(arch, n_networks=1, seed=1), X, X[:, :1] * X[:, 1:2], arch=arch,
              lr=0.05, steps=200, progress=False, n_threads=2)
        assert (seen[:4] == [1, 2, 2, 1]) == probes, (hidden, seen)
        assert probes or set(seen) == {2}
