"""benchmarks/ceiling.py: its two compiled loops (the target step's dense loops in the engine's
register tiling) agree with plain NumPy, on each vector width this CPU runs."""
import importlib.util
import os
import tempfile

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
