"""benchmarks/ceiling.py: its two compiled loops (the target step's dense loops in the engine's
register tiling) agree with plain NumPy, on each vector width this CPU runs."""
import importlib.util
import os
import tempfile

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(HERE), "benchmarks")


def _load(name):
    import sys
    if BENCH not in sys.path:
        sys.path.insert(0, BENCH)
    spec = importlib.util.spec_from_file_location(name, os.path.join(BENCH, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ceiling_loops_match_numpy():
    ceiling = _load("ceiling")
    with tempfile.TemporaryDirectory() as tmp:
        lib = ceiling.build(tmp)
        if lib is None or not (lib.has_avx512() or lib.has_fma256()):
            pytest.skip("no C compiler, or no AVX2 / AVX-512")
        ceiling.check(lib)
        # both vector widths the CPU runs (zmm holds the weights, ymm the inputs)
        for isa, ok, shape in (("zmm", lib.has_avx512(), (8, 4)),
                               ("ymm", lib.has_fma256(), (4, 2))):
            if ok:
                ceiling.check(lib, isa=isa)
                assert ceiling._bind(lib, isa)[2:] == shape
        fwd, wg, vw, nq = ceiling._bind(lib)
        # the check can fail: outputs read with a wrong tile shape (larger buffers) disagree
        bind = ceiling._bind
        ceiling._bind = lambda lib_, isa=None: bind(lib_, isa)[:3] + (2 * nq,)
        try:
            with pytest.raises(AssertionError, match="forward loop"):
                ceiling.check(lib)
        finally:
            ceiling._bind = bind


def test_ceiling_rejects_bad_repeat(capsys):
    ceiling = _load("ceiling")
    with pytest.raises(SystemExit) as exc:
        ceiling.main(["--repeat", "0"])
    assert exc.value.code == 2
    assert "--repeat: expected a positive integer, got 0" in capsys.readouterr().err


def test_ceiling_states_what_70_percent_asks(monkeypatch):
    """The budget line: 70% of the one-thread peak as a step time, minus the two loops."""
    ceiling = _load("ceiling")

    class FakeLib:
        def has_avx512(self):
            return True

        def has_fma256(self):
            return True

    flops = ceiling.train_step_flops(ceiling.architecture((ceiling.L,)), ceiling.N)
    monkeypatch.setattr(ceiling, "build", lambda tmp: FakeLib())
    monkeypatch.setattr(ceiling, "check", lambda lib, isa=None: None)
    monkeypatch.setattr(ceiling, "measure_peak",
                        lambda threads, repeat, isa: {"gflops": {1: 100.0, 2: 200.0},
                                                      "isa": isa})
    monkeypatch.setattr(ceiling, "current_clone", lambda: "v4")
    goal = flops / 70e9                       # seconds per step at 70% of 100 GFLOP/s
    for fwd, wg, expect in ((1e-6, 1e-6, f"{(goal - 2e-6) * 1e6:.2f} us for everything"),
                            (3e-6, 3e-6, "less than the two loops alone take (6.00 us)")):
        monkeypatch.setattr(ceiling, "measure_loops",
                            lambda lib, repeat, isa=None: ({"fwd": [fwd] * 3, "wgrad": [wg] * 3},
                                                           "zmm"))
        monkeypatch.setattr(ceiling, "recipe_check", lambda lib: None)
        monkeypatch.setattr(ceiling, "engine_step",
                            lambda repeat, lib=None: ([7e-6] * 3, [6e-6] * 3))
        monkeypatch.setattr(ceiling, "two_threads", lambda lib, repeat: ([4e-6] * 3, [3e-6] * 3))
        lines, fig = ceiling.run(repeat=3)
        assert "the issue's recipe as a standalone C step" in lines[-3]
        assert "6.00 us" in lines[-3] and "the engine's step 86% of its speed" in lines[-3]
        assert "on 2 threads (FMA peak 200.0 GFLOP/s" in lines[-2]
        assert fig["recipe2_frac"] == pytest.approx(flops / 3e-6 / 200e9)
        assert fig["engine2_frac"] == pytest.approx(flops / 4e-6 / 200e9)
        assert fig["goal_seconds"] == pytest.approx(goal)
        assert f"70% of this peak needs a step of {goal * 1e6:.2f} us" in lines[-1]
        assert expect in lines[-1]
    assert "the engine's step spends" not in lines[-1]


def test_recipe_step_matches_numpy_and_engine():
    """The issue's recipe as a standalone C step (zmm): the same GD steps as plain NumPy and
    as the engine; the check fails on a wrong learning rate."""
    ceiling = _load("ceiling")
    with tempfile.TemporaryDirectory() as tmp:
        lib = ceiling.build(tmp)
        if lib is None or not lib.has_avx512():
            pytest.skip("no C compiler, or no AVX-512")
        ceiling.recipe_check(lib)
        X, y, _ = ceiling.load_workload()
        th0 = ceiling.initial_params(ceiling.architecture((ceiling.L,)), 2)
        th, hist = ceiling.recipe_run(lib, th0, X, y, 0.1, 3)
        ref, rhist = ceiling.recipe_reference(th0, X, y, 0.1, 3)
        assert np.allclose(th, ref, rtol=1e-11, atol=1e-13)
        assert np.allclose(hist, rhist, rtol=1e-11)
        assert hist[0, 2] < hist[0, 0]           # GD decreases the loss
        # two threads, networks split in halves: the same numbers
        th2 = ceiling.recipe_threads(lib, th0, X, y, 0.1, 3, 2)
        assert np.array_equal(th2, th)
        bad, _ = ceiling.recipe_reference(th0, X, y, 0.11, 3)
        assert not np.allclose(th, bad, rtol=1e-11, atol=1e-13)
        with pytest.raises(ValueError, match="expected X of shape"):
            ceiling.recipe_data(X[:10], y[:10])
