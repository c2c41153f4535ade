"""The ceiling of the target step on this machine: its two dense loops alone, as fractions of
the FMA peak.

The engine's step (``ta_shallow``) is two dense loops (the forward tiles and the first-layer
weight-gradient panels, all but 2 N l of the step's counted FLOPs) and the elementwise work
between them (ReLU, the BCE loss and its gradient, the hidden errors, the update). This script
times the two dense loops on their own, each in the engine's register tiling, on the target
workload's sizes (N = 455 samples, d = 30 features, l = 6 neurons): a C file built at run time
like ``peak.py`` (``$CC`` or ``cc``, ``-O3 -ffp-contract=fast``), called through ctypes.

- forward: tiles of 6 neurons x 4 vectors of samples (24 accumulators, each weight broadcast
  once per feature and tile, one load per vector of inputs), then the ReLU, the output
  chains and the stores of the activations, as ``ta_aff_zmm``;
- weight gradient: per sample, its 6 errors broadcast and its 32-entry feature row (bias
  column and padding included) loaded once, 6 x 4 register accumulators over a group of 128
  samples (loaded and stored per group), as ``ta_wgrad_panels``.

With AVX-512 the vectors are 8 doubles (zmm); with AVX2 4 (ymm: 2 vectors of samples per
forward tile, 2 feature vectors per gradient tile, the 16 registers). The ceiling is the
step's FLOPs (``common.train_step_flops``) over the sum of the two loops' times, as a fraction
of the one-thread peak measured in the same run (``peak.py``): the fraction of peak the step
would reach if everything else were free. The engine's own one-thread step is measured beside
it. Every figure is the median of ``--repeat`` runs taken in alternation, with min-max. Both
loops are checked against plain NumPy before they are timed (``check``).

Usage: ``python benchmarks/ceiling.py [--repeat 7]``.
"""

import argparse
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import topoanalysis  # noqa: F401
except ImportError:  # running from a source checkout without installation
    sys.path.insert(0, os.path.dirname(HERE))

from common import (architecture, cpu_name, initial_params, load_workload,  # noqa: E402
                    train_step_flops)
from peak import build_c, calibrate, measure_peak  # noqa: E402

SOURCE = r"""
#include <stddef.h>
#include <immintrin.h>
#define U _Pragma("GCC unroll 32")
/* ReLU as the engine's clones: zmm one compare and one masked product, ymm z x 1[z > 0] */
#define SET1_z _mm512_set1_pd
#define RELU_z(v) _mm512_mask_mul_pd((v), _mm512_cmp_pd_mask((v), _mm512_setzero_pd(),       \
                                     _CMP_NGT_UQ), (v), _mm512_setzero_pd())
#define SET1_y _mm256_set1_pd
#define RELU_y(v) ((v) * _mm256_and_pd(_mm256_cmp_pd((v), _mm256_setzero_pd(), _CMP_GT_OQ), \
                                       _mm256_set1_pd(1.0)))
#define KERNELS(SFX, V, VW, NQ, CH, HOLDX, TARGET)                                                \
TARGET void fwd_##SFX(const double *W, const double *b, const double *w2, const double *X,   \
                      double *Z, double *O, int ntiles, int nin, long reps) {              \
    for (long rep = 0; rep < reps; rep++)                                                  \
    for (int t = 0; t < ntiles; t++) {                                                     \
        const double *X0 = X + (size_t)t * nin * NQ * VW;                                  \
        V acc[6 * NQ], u[6];                                                               \
        U for (int r = 0; r < 6; r++) U for (int q = 0; q < NQ; q++)                       \
            acc[r * NQ + q] = SET1_##SFX(b[r]);                                            \
        _Pragma("GCC unroll 2")                                                            \
        for (int i = 0; i < nin; i++) {                                                    \
            if (HOLDX) {    /* 16 registers: the inputs held, one weight at a time */      \
                V xq[NQ];                                                                  \
                U for (int q = 0; q < NQ; q++)                                             \
                    xq[q] = *(const V *)(X0 + ((size_t)i * NQ + q) * VW);                  \
                U for (int r = 0; r < 6; r++) {                                            \
                    V w = SET1_##SFX(W[r * nin + i]);                                      \
                    U for (int q = 0; q < NQ; q++) acc[r * NQ + q] += w * xq[q];           \
                }                                                                          \
            } else {        /* 32 registers: the weights held, one input at a time */      \
                U for (int r = 0; r < 6; r++) u[r] = SET1_##SFX(W[r * nin + i]);           \
                U for (int q = 0; q < NQ; q++) {                                           \
                    V x = *(const V *)(X0 + ((size_t)i * NQ + q) * VW);                    \
                    U for (int r = 0; r < 6; r++) acc[r * NQ + q] += u[r] * x;             \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        U for (int r = 0; r < 6 * NQ; r++) acc[r] = RELU_##SFX(acc[r]);                    \
        U for (int q = 0; q < NQ; q++) {                                                   \
            V o = SET1_##SFX(0.25);                                                        \
            U for (int r = 0; r < 6; r++) o += SET1_##SFX(w2[r]) * acc[r * NQ + q];        \
            *(V *)(O + ((size_t)t * NQ + q) * VW) = o;                                     \
        }                                                                                  \
        U for (int r = 0; r < 6 * NQ; r++) *(V *)(Z + ((size_t)t * 6 * NQ + r) * VW) = acc[r]; \
    }                                                                                      \
}                                                                                          \
TARGET void wgrad_##SFX(const double *D, const double *Xp, double *G, int n, int group,     \
                        long reps) {                                                       \
    for (long rep = 0; rep < reps; rep++)                                                  \
    for (int g0 = 0; g0 < n; g0 += group) {                                                \
        const int g1 = g0 + group < n ? g0 + group : n;                                    \
        for (int c = 0; c < 32 / VW; c += CH) {                                            \
            V acc[6 * CH], d[6];                                                           \
            U for (int r = 0; r < 6; r++) U for (int q = 0; q < CH; q++)                   \
                acc[r * CH + q] = *(V *)(G + ((size_t)r * 32 + (c + q) * VW));             \
            _Pragma("GCC unroll 2")                                                        \
            for (int s = g0; s < g1; s++) {                                                \
                if (HOLDX) {                                                               \
                    V xq[CH];                                                              \
                    U for (int q = 0; q < CH; q++)                                         \
                        xq[q] = *(const V *)(Xp + (size_t)s * 32 + (c + q) * VW);          \
                    U for (int r = 0; r < 6; r++) {                                        \
                        V e = SET1_##SFX(D[(size_t)s * 6 + r]);                            \
                        U for (int q = 0; q < CH; q++) acc[r * CH + q] += e * xq[q];       \
                    }                                                                      \
                } else {                                                                   \
                    U for (int r = 0; r < 6; r++) d[r] = SET1_##SFX(D[(size_t)s * 6 + r]); \
                    U for (int q = 0; q < CH; q++) {                                       \
                        V x = *(const V *)(Xp + (size_t)s * 32 + (c + q) * VW);            \
                        U for (int r = 0; r < 6; r++) acc[r * CH + q] += d[r] * x;         \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
            U for (int r = 0; r < 6; r++) U for (int q = 0; q < CH; q++)                   \
                *(V *)(G + ((size_t)r * 32 + (c + q) * VW)) = acc[r * CH + q];             \
        }                                                                                  \
    }                                                                                      \
}
KERNELS(z, __m512d, 8, 4, 4, 0, __attribute__((target("avx512f,avx512dq,avx512vl,fma"))))
KERNELS(y, __m256d, 4, 2, 2, 1, __attribute__((target("avx2,fma"))))
int has_avx512(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx512f"); }
int has_fma256(void) { __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
"""

N, D_IN, L, GROUP = 455, 30, 6, 128


def build(tmpdir):
    """Compile the two loops into ``tmpdir``; returns the ctypes library or None."""
    return build_c(SOURCE, tmpdir, "ceiling", opt="-O3")


def _ptr(a):
    return a.ctypes.data_as(ctypes.c_void_p)


def _aligned(n, rng):
    buf = np.empty(n + 8)
    off = (-buf.ctypes.data % 64) // 8
    a = buf[off:off + n]
    a[:] = rng.standard_normal(n) * 0.1
    return a


def _bind(lib, isa=None):
    """The loops of ``isa`` ("zmm", "ymm"; None: the widest the CPU runs): (fwd, wgrad, vector
    width, vectors per forward tile)."""
    if isa is None:
        isa = "zmm" if lib.has_avx512() else "ymm"
    sfx, vw, nq = ("z", 8, 4) if isa == "zmm" else ("y", 4, 2)
    fwd, wg = getattr(lib, "fwd_" + sfx), getattr(lib, "wgrad_" + sfx)
    fwd.restype = wg.restype = None
    fwd.argtypes = [ctypes.c_void_p] * 6 + [ctypes.c_int, ctypes.c_int, ctypes.c_long]
    wg.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_int, ctypes.c_int, ctypes.c_long]
    return fwd, wg, vw, nq


def check(lib, rtol=1e-12, isa=None):
    """Both loops against plain NumPy on random data (one call each); raises AssertionError."""
    fwd, wg, vw, nq = _bind(lib, isa)
    rng = np.random.default_rng(1)
    ntiles, nin, n = 3, 7, 300
    W, b, w2 = _aligned(L * nin, rng), _aligned(8, rng), _aligned(8, rng)
    X = _aligned(ntiles * nin * nq * vw, rng)
    Z, O = _aligned(ntiles * L * nq * vw, rng), _aligned(ntiles * nq * vw, rng)
    fwd(_ptr(W), _ptr(b), _ptr(w2), _ptr(X), _ptr(Z), _ptr(O), ntiles, nin, 1)
    xs = X.reshape(ntiles, nin, nq * vw).transpose(1, 0, 2).reshape(nin, -1)  # features x samples
    h = np.maximum(W.reshape(L, nin) @ xs + b[:L, None], 0.0)
    o = 0.25 + w2[:L] @ h
    z = Z.reshape(ntiles, L, nq * vw).transpose(1, 0, 2).reshape(L, -1)
    assert np.allclose(z, h, rtol=rtol, atol=1e-14), "ceiling.py: forward loop != NumPy"
    assert np.allclose(O, o, rtol=rtol, atol=1e-14), "ceiling.py: output chains != NumPy"
    Dv, Xp, G = _aligned(n * L, rng), _aligned(n * 32, rng), _aligned(L * 32, rng)
    g = G.reshape(L, 32) + Dv.reshape(n, L).T @ Xp.reshape(n, 32)
    wg(_ptr(Dv), _ptr(Xp), _ptr(G), n, GROUP, 1)
    assert np.allclose(G.reshape(L, 32), g, rtol=rtol, atol=1e-14), \
        "ceiling.py: weight-gradient loop != NumPy"


def measure_loops(lib, repeat=7, seconds=0.2, isa=None):
    """Sorted seconds per network-step of the two loops, {'fwd': [...], 'wgrad': [...]}, and
    the vectors' name."""
    fwd, wg, vw, nq = _bind(lib, isa)
    rng = np.random.default_rng(0)
    ntiles = -(-N // (vw * nq))
    W, b, w2 = _aligned(L * D_IN, rng), _aligned(8, rng), _aligned(8, rng)
    X = _aligned(ntiles * D_IN * nq * vw, rng)
    Z, O = _aligned(ntiles * L * nq * vw, rng), _aligned(ntiles * nq * vw, rng)
    Dv, Xp, G = _aligned(N * L, rng), _aligned(N * 32, rng), _aligned(L * 32, rng)
    calls = {"fwd": lambda r: fwd(_ptr(W), _ptr(b), _ptr(w2), _ptr(X), _ptr(Z), _ptr(O),
                                  ntiles, D_IN, r),
             "wgrad": lambda r: wg(_ptr(Dv), _ptr(Xp), _ptr(G), N, GROUP, r)}
    reps = {k: calibrate(fn, 1000, seconds, 0.02) for k, fn in calls.items()}
    runs = {k: [] for k in calls}
    for _ in range(repeat):
        for k, fn in calls.items():   # alternate the loops
            t0 = time.perf_counter()
            fn(reps[k])
            runs[k].append((time.perf_counter() - t0) / reps[k])
    return {k: sorted(v) for k, v in runs.items()}, ("zmm" if vw == 8 else "ymm")


def current_clone():
    """The engine clone that runs (default / v3 / v4; ``TOPOANALYSIS_CLONE`` forces one)."""
    from topoanalysis.dynamics import _engine
    return _engine.current_clone()


def engine_step(repeat=7, steps=200, B=100):
    """Sorted seconds per network-step of the engine's target step on one thread."""
    from topoanalysis.dynamics import train
    X, y, _ = load_workload()
    arch = architecture((L,))
    th = initial_params(arch, B)
    kw = dict(arch=arch, loss="bce", optimizer="gd", lr=0.1, steps=steps, record_every=1,
              record_conserved=False, progress=False, n_threads=1)
    train(th, X, y, **{**kw, "steps": 10})
    out = []
    for _ in range(repeat):
        time.sleep(0.2)
        t0 = time.perf_counter()
        train(th, X, y, **kw)
        out.append((time.perf_counter() - t0) / (B * steps))
    return sorted(out)


def run(repeat=7, isa=None):
    """Measure; returns (lines of text, figures) or (lines, None) without a compiler or vector
    FMA. ``isa``: "zmm" or "ymm" loops (and the matching FMA peak); None: the widest the CPU
    runs. figures: the one-thread peak, the loops' and the engine's seconds per network-step
    (sorted), the ceiling and the engine as fractions of the peak (medians), and
    ``goal_seconds``, the step that 70% of the one-thread peak asks for."""
    if isa not in (None, "zmm", "ymm"):
        raise ValueError(f"isa: expected 'zmm', 'ymm' or None, got {isa!r}")
    with tempfile.TemporaryDirectory() as tmp:
        lib = build(tmp)
        if lib is None or not (lib.has_avx512() or lib.has_fma256()):
            return ["- not measured: no C compiler, or no AVX2 / AVX-512"], None
        if isa == "zmm" and not lib.has_avx512():
            return ["- not measured: --isa zmm on a CPU without AVX-512"], None
        if isa == "ymm" and not lib.has_fma256():
            return ["- not measured: --isa ymm on a CPU without AVX2 and FMA"], None
        check(lib, isa=isa)
        loops, isa = measure_loops(lib, repeat, isa=isa)
        peak = measure_peak(threads=(1,), repeat=repeat,
                            isa="fma512" if isa == "zmm" else "fma256")
    if peak is None:
        return ["- not measured: the FMA peak could not be measured"], None
    eng = engine_step(repeat)
    p1 = peak["gflops"][1]
    fl = train_step_flops(architecture((L,)), N)
    fl_fwd = 2.0 * N * (D_IN * L + L)     # forward products and output chains
    fl_wg = 2.0 * N * (D_IN + 1) * L      # weight and bias gradient
    both = sorted(a + b for a, b in zip(loops["fwd"], loops["wgrad"]))

    def med(v):
        return v[len(v) // 2]

    def pct(flops, ts):
        return (f"{100 * flops / med(ts) / 1e9 / p1:.0f}% "
                f"({100 * flops / ts[-1] / 1e9 / p1:.0f}-{100 * flops / ts[0] / 1e9 / p1:.0f}%)")

    lines = [
        f"- {cpu_name()}, {isa} loops, one thread; FMA peak {p1:.1f} GFLOP/s ({peak['isa']}); "
        f"medians of {repeat} alternating runs (min-max)",
        f"- forward loop (tiles, ReLU, output chains, stores): {med(loops['fwd']) * 1e6:.2f} us "
        f"per network-step, {pct(fl_fwd, loops['fwd'])} of peak",
        f"- weight-gradient loop (panels): {med(loops['wgrad']) * 1e6:.2f} us, "
        f"{pct(fl_wg, loops['wgrad'])} of peak",
        f"- ceiling, both loops with the rest of the step free: {med(both) * 1e6:.2f} us for "
        f"the step's {fl / 1e3:.0f} kFLOP, {pct(fl, both)} of peak",
        f"- engine step (clone {current_clone()}), one thread: {med(eng) * 1e6:.2f} us, "
        f"{pct(fl, eng)} of peak, {100 * med(both) / med(eng):.0f}% of the ceiling's speed",
    ]
    # what 70% of the peak asks of everything besides the two loops (one thread; two threads
    # need a little more, each core's peak drops when both are busy)
    goal = fl / (0.7 * p1 * 1e9)
    rest = (med(eng) - med(both)) * 1e6
    if goal > med(both):
        lines.append(f"- 70% of this peak needs a step of {goal * 1e6:.2f} us: "
                     f"{(goal - med(both)) * 1e6:.2f} us for everything besides the two loops "
                     f"(the engine's step spends {rest:.2f} us there)")
    else:
        lines.append(f"- 70% of this peak needs a step of {goal * 1e6:.2f} us, less than the "
                     f"two loops alone take ({med(both) * 1e6:.2f} us)")
    figures = {"peak": p1, "loops": loops, "engine": eng, "goal_seconds": goal,
               "ceiling_frac": fl / med(both) / 1e9 / p1, "engine_frac": fl / med(eng) / 1e9 / p1}
    return lines, figures


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="alternating runs (default 7)")
    ap.add_argument("--isa", choices=("zmm", "ymm"), default=None,
                    help="the loops' vectors and the peak they are measured against (default: "
                         "the widest the CPU runs); with TOPOANALYSIS_CLONE=v3 and ymm, the "
                         "AVX2 clone against the 256-bit peak")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error(f"--repeat: expected a positive integer, got {args.repeat}")
    lines, _ = run(args.repeat, args.isa)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
