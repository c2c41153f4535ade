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

With AVX-512 it also times the issue's recipe as a whole standalone step (``recipe_z``: the
four points of issue 16 written in C independently of the engine -- forward tiles, the BCE pass
over all samples with a vectorized exp, hidden errors, the weight gradient in samples x features
rows, the update in place -- with the loss recorded every step), checked against plain NumPy and
against the engine's ``train`` and timed in alternation with the engine's step: whether the
engine lags the recipe on this machine, or the recipe itself is what the machine gives.

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
import threading
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
/* The issue-16 recipe as one standalone full-batch GD step of the target network (float64,
   AVX-512 only): l = 6, d = 30, N = 455, BCE with logits, ReLU with biases, one network at a
   time, parameters updated in place.  (1) forward in a features x samples copy (tiles of 32
   samples, 6 x 4 accumulators, each weight broadcast once per feature), ReLU, output chains;
   (2) the BCE pass over all samples with a vectorized exp(-|o|), the sigmoid's division and
   the value's log1p (the engine's formulas and flushes); (3) hidden errors and the output-layer
   gradient; (4) the first-layer weight gradient in a samples x (features, 1, 0) copy with its
   6 x 4 accumulators in registers over all samples, each error broadcast once; (5) the update.
   Written from the issue's four points, independently of the engine's code. */
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,fma")
#define RN 455
#define RNP 480
#define RD 30
typedef __m512d RV;
#define RC(a) _mm512_set1_pd(a)
static inline RV r_expn(RV z) {            /* exp(-|z|), 0 below exp(-708) */
    const RV sh = RC(6755399441055744.0);
    RV x = _mm512_sub_pd(_mm512_setzero_pd(), _mm512_abs_pd(z));
    __mmask8 tiny = _mm512_cmp_pd_mask(x, RC(-708.0), _CMP_LT_OQ);
    x = _mm512_mask_mov_pd(x, tiny, RC(-708.0));
    RV t = _mm512_fmadd_pd(x, RC(1.4426950408889634074), sh), kd = _mm512_sub_pd(t, sh);
    RV r = _mm512_fnmadd_pd(kd, RC(6.93147180369123816490e-01), x);
    r = _mm512_fnmadd_pd(kd, RC(1.90821492927058770002e-10), r);
    RV r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    RV p01 = _mm512_fmadd_pd(RC(1.0), r, RC(1.0));
    RV p23 = _mm512_fmadd_pd(RC(1.0 / 6.0), r, RC(0.5));
    RV p45 = _mm512_fmadd_pd(RC(1.0 / 120.0), r, RC(1.0 / 24.0));
    RV p67 = _mm512_fmadd_pd(RC(1.0 / 5040.0), r, RC(1.0 / 720.0));
    RV p89 = _mm512_fmadd_pd(RC(1.0 / 362880.0), r, RC(1.0 / 40320.0));
    RV pab = _mm512_fmadd_pd(RC(1.0 / 39916800.0), r, RC(1.0 / 3628800.0));
    RV pcd = _mm512_fmadd_pd(RC(1.0 / 6227020800.0), r, RC(1.0 / 479001600.0));
    p01 = _mm512_fmadd_pd(p23, r2, p01);
    p45 = _mm512_fmadd_pd(p67, r2, p45);
    p89 = _mm512_fmadd_pd(pab, r2, p89);
    p01 = _mm512_fmadd_pd(p45, r4, p01);
    p89 = _mm512_fmadd_pd(pcd, r4, p89);
    RV p = _mm512_fmadd_pd(p89, r8, p01);
    __m512i bits = _mm512_slli_epi64(_mm512_add_epi64(_mm512_castpd_si512(t),
                                     _mm512_set1_epi64(1023 - 0x4338000000000000LL)), 52);
    return _mm512_maskz_mov_pd((__mmask8)~tiny, p * _mm512_castsi512_pd(bits));
}
static inline RV r_log1p01(RV e) {         /* log1p(e), e in [0, 1] */
    const RV half = RC(0.5);
    __mmask8 big = _mm512_cmp_pd_mask(e, RC(0.41421356237309503), _CMP_GT_OQ);
    RV f = _mm512_mask_mov_pd(e, big, _mm512_fmadd_pd(e, half, RC(-0.5)));
    RV c = _mm512_maskz_mov_pd(big, _mm512_fmsub_pd(e, half, half + f));
    RV kk = _mm512_maskz_mov_pd(big, RC(1.0));
    RV s = f / (RC(2.0) + f);
    RV s0 = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(_mm512_abs_pd(s), RC(0x1p-27), _CMP_GE_OQ), s);
    RV z = s0 * s0, p, l;
    p = _mm512_fmadd_pd(z, RC(1.479819860511658591e-01), RC(1.531383769920937332e-01));
    p = _mm512_fmadd_pd(z, p, RC(1.818357216161805012e-01));
    p = _mm512_fmadd_pd(z, p, RC(2.222219843214978396e-01));
    p = _mm512_fmadd_pd(z, p, RC(2.857142874366239149e-01));
    p = _mm512_fmadd_pd(z, p, RC(3.999999999940941908e-01));
    p = _mm512_fmadd_pd(z, p, RC(6.666666666666735130e-01));
    l = _mm512_fmadd_pd(s, z * p, s + s);
    l = _mm512_fmadd_pd(c, RC(1.3738), l);
    l = _mm512_fmadd_pd(kk, RC(1.90821492927058770002e-10), l);
    return _mm512_fmadd_pd(kk, RC(6.93147180369123816490e-01), l);
}
static inline __mmask8 r_lanes(int m) { return (__mmask8)(m >= RN ? 0 : m + 8 <= RN ? 0xFF : (1u << (RN - m)) - 1); }
/* theta (B x 193): W (6 x 30), b (6), w2 (6), b2; Xf: 15 tiles x 30 features x 32 samples;
   Xp: 455 x 32 (features, 1, 0); Y: 480 (padding 0); scratch: 9,600 doubles, 64-aligned;
   hist (B x steps): the loss before each step */
void recipe_z(double *theta, int B, const double *Xf, const double *Xp, const double *Y,
              double lr, int steps, double *hist, double *scratch) {
    double *H = scratch, *O = H + 15 * 6 * 32, *E = O + RNP, *G = E + RNP, *D = G + RNP;
    const double sc = 1.0 / RN;
    const RV one = RC(1.0), vsc = RC(sc), sgmin = RC(2.2250738585072014e-308 / sc);
    for (int k = 0; k < B; k++) {
    double *W = theta + (size_t)k * 193, *b = W + 180, *w2 = W + 186, *b2 = W + 192;
    for (int st = 0; st < steps; st++) {
        for (int t = 0; t < 15; t++) {                          /* (1) forward */
            const double *X0 = Xf + (size_t)t * RD * 32;
            RV acc[24], u[6];
            U for (int r = 0; r < 6; r++) U for (int q = 0; q < 4; q++) acc[r * 4 + q] = RC(b[r]);
            _Pragma("GCC unroll 2")
            for (int i = 0; i < RD; i++) {
                U for (int r = 0; r < 6; r++) { u[r] = RC(W[r * RD + i]); __asm__("" : "+v"(u[r])); }
                U for (int q = 0; q < 4; q++) {
                    RV x = _mm512_load_pd(X0 + i * 32 + q * 8);
                    __asm__("" : "+v"(x));
                    U for (int r = 0; r < 6; r++) acc[r * 4 + q] = _mm512_fmadd_pd(u[r], x, acc[r * 4 + q]);
                }
            }
            U for (int r = 0; r < 24; r++) acc[r] = RELU_z(acc[r]);
            U for (int q = 0; q < 4; q++) {
                RV o = RC(b2[0]);
                U for (int r = 0; r < 6; r++) o = _mm512_fmadd_pd(RC(w2[r]), acc[r * 4 + q], o);
                _mm512_store_pd(O + t * 32 + q * 8, o);
            }
            U for (int r = 0; r < 6; r++) U for (int q = 0; q < 4; q++)
                _mm512_store_pd(H + ((size_t)t * 6 + r) * 32 + q * 8, acc[r * 4 + q]);
        }
        RV vacc = _mm512_setzero_pd();                          /* (2) BCE pass */
        for (int m = 0; m < RNP; m += 8) {
            RV o = _mm512_load_pd(O + m), e = r_expn(o);
            _mm512_store_pd(E + m, e);
            RV r = one / (one + e);
            RV sg = _mm512_mask_mul_pd(r, _mm512_cmp_pd_mask(o, _mm512_setzero_pd(), _CMP_NGE_UQ), e, r);
            sg = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(sg, sgmin, _CMP_GE_OQ), sg);
            _mm512_store_pd(G + m, _mm512_maskz_mov_pd(r_lanes(m), (sg - _mm512_load_pd(Y + m)) * vsc));
        }
        for (int m = 0; m < RNP; m += 8) {
            RV o = _mm512_load_pd(O + m), e = _mm512_load_pd(E + m);
            RV lv = _mm512_max_pd(o, _mm512_setzero_pd()) - o * _mm512_load_pd(Y + m);
            vacc = vacc + _mm512_maskz_mov_pd(r_lanes(m), lv + r_log1p01(e));
        }
        hist[(size_t)k * steps + st] = _mm512_reduce_add_pd(vacc) * sc;
        RV gw[6], gb = _mm512_setzero_pd();                     /* (3) backward */
        U for (int r = 0; r < 6; r++) gw[r] = _mm512_setzero_pd();
        for (int m = 0; m < RNP; m += 8) {
            RV g = _mm512_load_pd(G + m);
            gb = gb + g;
            U for (int r = 0; r < 6; r++) {
                RV h = _mm512_load_pd(H + ((size_t)(m / 32) * 6 + r) * 32 + m % 32);
                gw[r] = _mm512_fmadd_pd(g, h, gw[r]);
                RV e = g * RC(w2[r]);
                _mm512_store_pd(D + (size_t)r * RNP + m, _mm512_mask_mul_pd(e,
                    _mm512_cmp_pd_mask(h, _mm512_setzero_pd(), _CMP_NGT_UQ), e, _mm512_setzero_pd()));
            }
        }
        RV acc[24], d[6];                                       /* (4) weight gradient */
        U for (int r = 0; r < 24; r++) acc[r] = _mm512_setzero_pd();
        _Pragma("GCC unroll 2")
        for (int s = 0; s < RN; s++) {
            U for (int r = 0; r < 6; r++) { d[r] = RC(D[(size_t)r * RNP + s]); __asm__("" : "+v"(d[r])); }
            U for (int q = 0; q < 4; q++) {
                RV x = _mm512_load_pd(Xp + (size_t)s * 32 + q * 8);
                __asm__("" : "+v"(x));
                U for (int r = 0; r < 6; r++) acc[r * 4 + q] = _mm512_fmadd_pd(d[r], x, acc[r * 4 + q]);
            }
        }
        U for (int r = 0; r < 6; r++) {                         /* (5) update */
            double gr[32] __attribute__((aligned(64)));
            U for (int q = 0; q < 4; q++) _mm512_store_pd(gr + q * 8, acc[r * 4 + q]);
            for (int i = 0; i < RD; i++) W[r * RD + i] -= lr * gr[i];
            b[r] -= lr * gr[30];
            w2[r] -= lr * _mm512_reduce_add_pd(gw[r]);
        }
        b2[0] -= lr * _mm512_reduce_add_pd(gb);
    }
    }
}
#pragma GCC pop_options
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


def _aligned(n, rng=None):
    """``n`` doubles at a 64-byte boundary: 0.1 x standard normal from ``rng``, else zeros."""
    buf = np.zeros(n + 8)
    off = (-buf.ctypes.data % 64) // 8
    a = buf[off:off + n]
    if rng is not None:
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


RECIPE_SCRATCH = 15 * 6 * 32 + 3 * 480 + 6 * 480     # H, O, E, G, D (doubles)


def _recipe_bind(lib):
    fn = lib.recipe_z
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int] + [ctypes.c_void_p] * 3 + \
        [ctypes.c_double, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    return fn


def recipe_data(X, y):
    """The recipe step's copies of the data (N = 455, d = 30): features x samples tiles of 32
    samples, samples x (features, 1, 0) rows, targets padded to 480; 64-byte aligned."""
    n, d = X.shape
    if (n, d) != (N, D_IN):
        raise ValueError(f"recipe_data: expected X of shape ({N}, {D_IN}), got {X.shape}")
    pad = np.zeros((480, D_IN))
    pad[:n] = X
    xf = _aligned(480 * D_IN)
    xf[:] = pad.reshape(15, 32, D_IN).transpose(0, 2, 1).ravel()
    xp = _aligned(n * 32)
    rows = np.zeros((n, 32))
    rows[:, :D_IN], rows[:, D_IN] = X, 1.0
    xp[:] = rows.ravel()
    yy = _aligned(480)
    yy[:n] = np.asarray(y, dtype=float).reshape(-1)
    return xf, xp, yy


def recipe_run(lib, theta, X, y, lr, steps, data=None):
    """``steps`` GD steps of each row of ``theta`` (B x 193) by the standalone recipe step;
    returns (parameters, loss history B x steps)."""
    fn = _recipe_bind(lib)
    xf, xp, yy = data if data is not None else recipe_data(X, y)
    th = _aligned(theta.size)
    th[:] = np.asarray(theta, dtype=float).ravel()
    hist = np.zeros(theta.shape[0] * steps)
    scratch = _aligned(RECIPE_SCRATCH)
    fn(_ptr(th), theta.shape[0], _ptr(xf), _ptr(xp), _ptr(yy), lr, steps, _ptr(hist),
       _ptr(scratch))
    return th.reshape(theta.shape), hist.reshape(theta.shape[0], steps)


def recipe_threads(lib, theta, X, y, lr, steps, threads, data=None):
    """``recipe_run`` with the networks split into ``threads`` contiguous parts, each run by
    its own Python thread (ctypes releases the GIL during the C call); returns the parameters."""
    parts = np.array_split(np.arange(theta.shape[0]), threads)
    out = [None] * threads
    data = data if data is not None else recipe_data(X, y)

    def work(i):
        out[i] = recipe_run(lib, theta[parts[i]], X, y, lr, steps, data)[0]

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return np.concatenate(out)


def _target_run(threads, steps, B):
    """The engine's target run: (train, X, y, theta, keyword arguments), warmed up."""
    from topoanalysis.dynamics import train
    X, y, _ = load_workload()
    arch = architecture((L,))
    th = initial_params(arch, B)
    kw = dict(arch=arch, loss="bce", optimizer="gd", lr=0.1, steps=steps, record_every=1,
              record_conserved=False, progress=False, n_threads=threads)
    train(th, X, y, **{**kw, "steps": 10})
    return train, X, y, th, kw


def two_threads(lib, repeat=7, steps=200, B=100):
    """Sorted seconds per network-step on 2 threads of the engine (``n_threads=2``) and of the
    recipe step (networks split in halves), taken in alternation: (engine, recipe)."""
    return engine_step(repeat, steps, B, lib=lib, threads=2)


def recipe_reference(theta, X, y, lr, steps):
    """Plain NumPy: the same full-batch GD steps (ReLU, one output, BCE with logits)."""
    th = np.array(theta, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    n = X.shape[0]
    hist = []
    for _ in range(steps):
        W, b, w2, b2 = th[:, :180].reshape(-1, L, D_IN), th[:, 180:186], th[:, 186:192], th[:, 192]
        z = np.einsum("nd,bld->bnl", X, W) + b[:, None, :]
        h = np.maximum(z, 0.0)
        o = np.einsum("bnl,bl->bn", h, w2) + b2[:, None]
        hist.append(np.mean(np.logaddexp(0.0, o) - y * o, axis=1))
        g = (1.0 / (1.0 + np.exp(-o)) - y) / n
        dz = g[:, :, None] * w2[:, None, :] * (z > 0)
        grad = np.concatenate([np.einsum("bnl,nd->bld", dz, X).reshape(len(th), -1),
                               dz.sum(1), np.einsum("bnl,bn->bl", h, g), g.sum(1)[:, None]],
                              axis=1)
        th = th - lr * grad
    return th, np.array(hist).T


def recipe_check(lib, rtol=1e-11):
    """The recipe step against plain NumPy (parameters and losses after 4 steps of 3 networks)
    and against the engine's ``train`` from the same start; raises AssertionError."""
    from topoanalysis.dynamics import train
    X, y, _ = load_workload()
    th0 = initial_params(architecture((L,)), 3)
    th, hist = recipe_run(lib, th0, X, y, 0.1, 4)
    ref, rhist = recipe_reference(th0, X, y, 0.1, 4)
    assert np.allclose(th, ref, rtol=rtol, atol=1e-13), "ceiling.py: recipe step != NumPy"
    assert np.allclose(hist, rhist, rtol=rtol, atol=0), "ceiling.py: recipe losses != NumPy"
    eng = train(th0, X, y, arch=architecture((L,)), loss="bce", optimizer="gd", lr=0.1, steps=4,
                record_conserved=False, progress=False, n_threads=1)
    assert np.allclose(th, eng.params, rtol=rtol, atol=1e-13), "ceiling.py: recipe step != engine"


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


def engine_step(repeat=7, steps=200, B=100, lib=None, threads=1):
    """Sorted seconds per network-step of the engine's target step on ``threads`` threads;
    with ``lib`` (AVX-512) also of the standalone recipe step (its networks split into
    ``threads`` parts), the two taken in alternation: (engine, recipe or None)."""
    train, X, y, th, kw = _target_run(threads, steps, B)
    data = recipe_data(X, y) if lib is not None else None
    out, rec = [], []
    for _ in range(repeat):
        time.sleep(0.2)
        t0 = time.perf_counter()
        train(th, X, y, **kw)
        out.append((time.perf_counter() - t0) / (B * steps))
        if data is not None:
            time.sleep(0.2)
            t0 = time.perf_counter()
            recipe_threads(lib, th, X, y, 0.1, steps, threads, data)
            rec.append((time.perf_counter() - t0) / (B * steps))
    return sorted(out), (sorted(rec) if rec else None)


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
        rlib = lib if isa == "zmm" else None
        peak = measure_peak(threads=(1, 2) if rlib is not None else (1,), repeat=repeat,
                            isa="fma512" if isa == "zmm" else "fma256")
        if peak is None:
            return ["- not measured: the FMA peak could not be measured"], None
        eng2 = rec2 = None
        if rlib is not None:
            recipe_check(rlib)
        eng, rec = engine_step(repeat, lib=rlib)
        if rlib is not None and 2 in peak["gflops"]:
            eng2, rec2 = two_threads(rlib, repeat)
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
    if rec is not None:
        lines.append(
            f"- the issue's recipe as a standalone C step (the whole step, loss recorded every "
            f"step; checked against NumPy and the engine), alternating with the engine: "
            f"{med(rec) * 1e6:.2f} us, {pct(fl, rec)} of peak; the engine's step "
            f"{100 * med(rec) / med(eng):.0f}% of its speed")
        if rec2 is not None:
            p2 = peak["gflops"][2]

            def pct2(ts):
                return (f"{100 * fl / med(ts) / 1e9 / p2:.0f}% "
                        f"({100 * fl / ts[-1] / 1e9 / p2:.0f}-{100 * fl / ts[0] / 1e9 / p2:.0f}%)")

            lines.append(
                f"- on 2 threads (FMA peak {p2:.1f} GFLOP/s; the recipe's networks split in "
                f"halves, one thread each), alternating: the recipe step {pct2(rec2)} of peak, "
                f"the engine (n_threads=2) {pct2(eng2)}")
    else:
        lines.append("- the issue's recipe as a standalone step: not measured (zmm only)")
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
    figures = {"peak": p1, "loops": loops, "engine": eng, "recipe": rec, "goal_seconds": goal,
               "ceiling_frac": fl / med(both) / 1e9 / p1, "engine_frac": fl / med(eng) / 1e9 / p1,
               "recipe_frac": fl / med(rec) / 1e9 / p1 if rec else None,
               "engine2_frac": fl / med(eng2) / 1e9 / peak["gflops"][2] if eng2 else None,
               "recipe2_frac": fl / med(rec2) / 1e9 / peak["gflops"][2] if rec2 else None}
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
