#ifndef TOPOANALYSIS_BLOCKOPS_H
#define TOPOANALYSIS_BLOCKOPS_H

/* Block primitives of the engine, written in C so that the compiler keeps the sample block in
   vector registers. Included by ext/_blockops.pxd (Cython) and compilable on its own
   (tests/test_engine_clones.py compiles it with -Wall -Werror).

   Data of one block of TA_NB = 16 samples is stored "features x samples": a layer input H of
   width n_in is H[i * TA_NB + m] for feature i and sample m of the block. Every primitive
   vectorizes over the samples of a block only.

   Logical vectors have TA_W = 8 lanes of doubles (a block row is TA_NV = 2 vectors) in every
   clone: the x86-64-v4 clone holds one in a 512-bit register, the x86-64-v3 clone in two
   256-bit registers, the baseline clone in four 128-bit registers (GCC lowers the 64-byte
   vector type to what the target has). The lane order, the order of the additions and the
   reduction trees are the same in all clones; only the register tiling (how many rows or
   columns are computed together) differs, and it does not change any single result. The v3
   and v4 clones both fuse multiply-adds (setup.py sets -ffp-contract=fast) and give identical
   bits (tested); the baseline clone has no FMA instructions, so its results differ in the last
   bits. Gradient sums over samples are kept in 8 lanes (sample m of a block goes to lane
   m % 8) and reduced once per pass as ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)).
   Exception: the first-layer weight and bias gradient of the shallow path (ta_shallow with
   a->Xp, data of at most 16 MiB with its panels) reads a samples x features copy of the data
   (ta_panels) and is one fused multiply-add chain per entry over the samples of a shard in
   increasing order (ta_wgrad_panels): no lanes and no reduction, so every clone with FMA gives
   the same bits whatever its tiles (tests/test_engine_panels.py replays the chains exactly).

   Clones: with GCC on x86-64 Linux, blockops_impl.h is compiled three times (TA_FN suffixes
   _default, _v3, _v4, under #pragma GCC target) and ta_select_clone() points the dispatch
   table ta_ops at one of them (the best the CPU supports unless a clone is forced, see
   engine.pyx / TOPOANALYSIS_CLONE). Other compilers get the portable version only.

   Every network is computed by one thread in a fixed order of operations, or its samples are
   split into fixed shards (ta_n_shards) whose partial sums are added in shard order (ta_shallow),
   so the numbers are bit-identical whatever the number of threads and however the networks are
   split into chunks.

   Non-finite values: hidden activations propagate NaN/inf (ReLU is z * 1[z > 0]), so a
   non-finite hidden value reaches the outputs, and only the outputs (and tanh inputs) are
   checked.

   Primitives (see blockops_impl.h): ta_affine (a layer and its activation), ta_tanh, ta_mix
   (first-layer activations along a segment from its ends), ta_loss_block (loss and its gradient
   for a block of outputs), ta_head1 (the output layer of a one-output network fused with the
   loss and its backward pass), ta_wgrad (weight-gradient lanes), ta_backprop (errors of the
   layer below), ta_wgrad_all (first-layer weight-gradient lanes over a group of blocks, register
   tiles), ta_shallow (the three-pass full-data step of a one-hidden-layer, one-output network
   over a range of blocks), ta_reduce_lanes. exp and log1p are vectorized (about 2-3 ulp), in
   blockops_math.h; the BCE loss pass of a group (one code for every vector width, the
   float32 x86-64-v4 clone's on zmm vectors) in blockops_bce.h.

   Nothing here validates or prints: the Cython kernels in engine.pyx own the loops over
   networks, blocks and layers. */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"

#define TA_NB 16        /* samples per block */
#define TA_W 8          /* lanes of a logical vector */
#define TA_NV 2         /* vectors per block row (TA_NB / TA_W) */
#define TA_GROUP 8      /* blocks whose first-layer gradient is accumulated in registers */
#define TA_SHARDS 2     /* fixed sample shards of a full-data pass (ta_shallow), at least */
#define TA_SHARDS_MAX 16    /* ... and at most */
#define TA_SHARD_BLOCKS 32  /* blocks per shard beyond TA_SHARDS shards */

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"   /* vector helpers are always inlined */
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(TA_NO_CLONES)
#define TA_MULTI 1
#endif

#ifdef TA_MULTI
#include <immintrin.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define TA_VECEXT 1
/* GCC / Clang vector extensions. Native 8-lane vectors (the x86-64-v4 clone: one zmm register
   each) ... */
typedef double ta_v8d __attribute__((vector_size(64), aligned(8)));
typedef long long ta_v8i __attribute__((vector_size(64), aligned(8)));
/* ... and pairs of 4-lane vectors (the v3 and default clones: GCC keeps a 64-byte vector type
   it cannot hold in one register in memory, a pair of 32-byte vectors in registers). */
typedef double ta_v4d __attribute__((vector_size(32), aligned(8)));
typedef long long ta_v4i __attribute__((vector_size(32), aligned(8)));
typedef struct { ta_v4d a, b; } ta_p8d;
typedef struct { ta_v4i a, b; } ta_p8i;
#define TA_P static inline __attribute__((always_inline))
#define TA_P2(T, name, expr) TA_P T name(T x, T y) { T r; r.a = expr(x.a, y.a); r.b = expr(x.b, y.b); return r; }
#define TA_OPADD(x, y) ((x) + (y))
#define TA_OPSUB(x, y) ((x) - (y))
#define TA_OPMUL(x, y) ((x) * (y))
#define TA_OPDIV(x, y) ((x) / (y))
#define TA_OPOR(x, y) ((x) | (y))
#define TA_OPAND(x, y) ((x) & (y))
#define TA_OPXOR(x, y) ((x) ^ (y))
#define TA_OPANDNOT(x, y) (~(x) & (y))
TA_P ta_p8d p_load(const double *p) { ta_p8d r; r.a = *(const ta_v4d *)p; r.b = *(const ta_v4d *)(p + 4); return r; }
TA_P void p_store(double *p, ta_p8d v) { *(ta_v4d *)p = v.a; *(ta_v4d *)(p + 4) = v.b; }
TA_P ta_p8d p_set1(double x) { ta_p8d r; r.a = (ta_v4d){x, x, x, x}; r.b = r.a; return r; }
TA_P ta_p8i pi_set1(long long x) { ta_p8i r; r.a = (ta_v4i){x, x, x, x}; r.b = r.a; return r; }
TA_P2(ta_p8d, p_add, TA_OPADD)
TA_P2(ta_p8d, p_sub, TA_OPSUB)
TA_P2(ta_p8d, p_mul, TA_OPMUL)
TA_P2(ta_p8d, p_div, TA_OPDIV)
TA_P2(ta_p8i, pi_add, TA_OPADD)
TA_P2(ta_p8i, pi_sub, TA_OPSUB)
TA_P2(ta_p8i, pi_or, TA_OPOR)
TA_P2(ta_p8i, pi_and, TA_OPAND)
TA_P2(ta_p8i, pi_xor, TA_OPXOR)
TA_P2(ta_p8i, pi_andnot, TA_OPANDNOT)
TA_P ta_p8i p_gt(ta_p8d x, ta_p8d y) { ta_p8i r; r.a = x.a > y.a; r.b = x.b > y.b; return r; }
TA_P ta_p8i p_ge(ta_p8d x, ta_p8d y) { ta_p8i r; r.a = x.a >= y.a; r.b = x.b >= y.b; return r; }
TA_P ta_p8i p_lt(ta_p8d x, ta_p8d y) { ta_p8i r; r.a = x.a < y.a; r.b = x.b < y.b; return r; }
TA_P ta_p8i p_ne(ta_p8d x, ta_p8d y) { ta_p8i r; r.a = x.a != y.a; r.b = x.b != y.b; return r; }
TA_P ta_p8i p_bits(ta_p8d x) { ta_p8i r; r.a = (ta_v4i)x.a; r.b = (ta_v4i)x.b; return r; }
TA_P ta_p8d p_frombits(ta_p8i x) { ta_p8d r; r.a = (ta_v4d)x.a; r.b = (ta_v4d)x.b; return r; }
TA_P ta_p8d p_and(ta_p8i m, ta_p8d x) { return p_frombits(pi_and(m, p_bits(x))); }
TA_P ta_p8d p_sel(ta_p8i m, ta_p8d x, ta_p8d y) { return p_frombits(pi_or(pi_and(m, p_bits(x)), pi_andnot(m, p_bits(y)))); }
TA_P ta_p8d p_abs(ta_p8d x) { return p_frombits(pi_and(p_bits(x), pi_set1(0x7fffffffffffffffLL))); }
TA_P int p_any(ta_p8i m) { ta_v4i o = m.a | m.b; return (o[0] | o[1] | o[2] | o[3]) != 0; }
TA_P ta_p8i pi_shl(ta_p8i m, int s) { ta_p8i r; r.a = m.a << s; r.b = m.b << s; return r; }
#else
/* Portable fallback: the same lane-wise operations, one lane at a time. */
typedef struct { double v[TA_W]; } ta_vd;
typedef struct { long long v[TA_W]; } ta_vi;
#define TA_LANES(expr) do { int q_; for (q_ = 0; q_ < TA_W; q_++) { expr; } } while (0)
static inline ta_vd V_LOAD(const double *p) { ta_vd r; memcpy(r.v, p, sizeof r.v); return r; }
#define V_STORE(p, x) memcpy((p), (x).v, sizeof (x).v)
static inline ta_vd V_SET1(double x) { ta_vd r; TA_LANES(r.v[q_] = x); return r; }
static inline ta_vd V_ADD(ta_vd a, ta_vd b) { ta_vd r; TA_LANES(r.v[q_] = a.v[q_] + b.v[q_]); return r; }
static inline ta_vd V_SUB(ta_vd a, ta_vd b) { ta_vd r; TA_LANES(r.v[q_] = a.v[q_] - b.v[q_]); return r; }
static inline ta_vd V_MUL(ta_vd a, ta_vd b) { ta_vd r; TA_LANES(r.v[q_] = a.v[q_] * b.v[q_]); return r; }
static inline ta_vd V_DIV(ta_vd a, ta_vd b) { ta_vd r; TA_LANES(r.v[q_] = a.v[q_] / b.v[q_]); return r; }
static inline ta_vi V_GT(ta_vd a, ta_vd b) { ta_vi r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] > b.v[q_])); return r; }
static inline ta_vi V_GE(ta_vd a, ta_vd b) { ta_vi r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] >= b.v[q_])); return r; }
static inline ta_vi V_LT(ta_vd a, ta_vd b) { ta_vi r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] < b.v[q_])); return r; }
static inline ta_vi V_NE(ta_vd a, ta_vd b) { ta_vi r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] != b.v[q_])); return r; }
static inline ta_vi V_BITS(ta_vd a) { ta_vi r; memcpy(r.v, a.v, sizeof r.v); return r; }
static inline ta_vd V_FROMBITS(ta_vi m) { ta_vd r; memcpy(r.v, m.v, sizeof r.v); return r; }
static inline ta_vd V_AND(ta_vi m, ta_vd a) { ta_vi b = V_BITS(a); TA_LANES(b.v[q_] &= m.v[q_]); return V_FROMBITS(b); }
static inline ta_vd V_SEL(ta_vi m, ta_vd a, ta_vd b) { ta_vd r; TA_LANES(r.v[q_] = m.v[q_] ? a.v[q_] : b.v[q_]); return r; }
static inline ta_vd V_ABS(ta_vd a) { ta_vd r; TA_LANES(r.v[q_] = fabs(a.v[q_])); return r; }
static inline int V_ANY(ta_vi m) { long long o = 0; TA_LANES(o |= m.v[q_]); return o != 0; }
static inline ta_vi VI_SET1(long long x) { ta_vi r; TA_LANES(r.v[q_] = x); return r; }
static inline ta_vi VI_SHL(ta_vi a, int s) { ta_vi r; TA_LANES(r.v[q_] = (long long)((unsigned long long)a.v[q_] << s)); return r; }
static inline ta_vi VI_ADD(ta_vi a, ta_vi b) { ta_vi r; TA_LANES(r.v[q_] = a.v[q_] + b.v[q_]); return r; }
static inline ta_vi VI_SUB(ta_vi a, ta_vi b) { ta_vi r; TA_LANES(r.v[q_] = a.v[q_] - b.v[q_]); return r; }
static inline ta_vi VI_OR(ta_vi a, ta_vi b) { ta_vi r; TA_LANES(r.v[q_] = a.v[q_] | b.v[q_]); return r; }
static inline ta_vi VI_AND(ta_vi a, ta_vi b) { ta_vi r; TA_LANES(r.v[q_] = a.v[q_] & b.v[q_]); return r; }
static inline ta_vi VI_XOR(ta_vi a, ta_vi b) { ta_vi r; TA_LANES(r.v[q_] = a.v[q_] ^ b.v[q_]); return r; }
static inline ta_vi VI_ANDNOT(ta_vi a, ta_vi b) { ta_vi r; TA_LANES(r.v[q_] = ~a.v[q_] & b.v[q_]); return r; }
#endif

/* Non-finite detector: x - x is 0 for finite x and NaN for +-inf and NaN. */
#define V_NONFINITE(x) V_NE(V_SUB((x), (x)), V_SUB((x), (x)))

/* Arguments of ta_shallow: a network with one hidden layer and one output, full data. */
typedef struct {
    const double *W1, *b1, *w2, *b2;    /* b1, b2 may be NULL */
    int l, d, act, loss;                /* ext/codes.h: act not tanh, loss elementwise */
    double slope, scale;
    const double *Xb, *Yb;              /* blocked data, (n_blocks, d, NB) and (n_blocks, 1, NB) */
    int N;
    int need_value, need_grad, want_hits;
    double *gW1, *gb1, *gw2, *gb2;      /* gradient lanes (TA_W per parameter), added to */
    double *H, *S, *D, *O, *G;          /* scratch: TA_GROUP * l * NB (H, S, D), TA_GROUP * NB (O, G) */
    const double *Xp;                   /* samples x features panels (ta_panels) or NULL */
    long long pstride;                  /* samples per panel (n_blocks * NB) */
    double *G1;                         /* scratch: l * ta_n_panels(d) * TA_W gradient chains */
} ta_shallow_args;

/* The same arguments for the float32 kernels (ta_shallow_f): data, parameters, gradient lanes
   and scratch in float; slope and scale are rounded to float where they are used. */
typedef struct {
    const float *W1, *b1, *w2, *b2;
    int l, d, act, loss;
    double slope, scale;
    const float *Xb, *Yb;
    int N;
    int need_value, need_grad, want_hits;
    float *gW1, *gb1, *gw2, *gb2;
    float *H, *S, *D, *O, *G;
    const float *Xp;
    long long pstride;
    float *G1;
} ta_shallow_args_f;

/* Samples x features panels of blocked data (the first-layer weight gradient of ta_shallow):
   panel t holds features 8t .. 8t + 7 of every sample, with feature d the constant 1 of the
   bias (for the N real samples) and features beyond it 0. Float64: ta_n_panels(d) = d / 8 + 1
   panels, panel t of sample n at Xp[(t * pst + n) * 8] (pst = nblk * NB samples). Float32:
   ta_n_panels_f(d) = 2 (d / 16 + 1) panels (an even count) stored in pairs, the 16 features
   16q .. 16q + 15 of sample n at Xp[(q * pst + n) * 16], so that panel t of sample n is at
   Xp[TA_PAN_OFF_F(t, n, pst)]: one 16-float load for the zmm tiles of the float32 v4 clone,
   two 8-float halves for the others. */
static inline int ta_n_panels(int d) { return d / TA_W + 1; }
static inline int ta_n_panels_f(int d) { return 2 * (d / 16 + 1); }
#define TA_PAN_OFF(t, n, pst) (((size_t)(t) * (pst) + (size_t)(n)) * TA_W)
#define TA_PAN_OFF_F(t, n, pst) \
    ((((size_t)(t) >> 1) * (pst) + (size_t)(n)) * 16 + ((size_t)(t) & 1) * 8)

/* The fixed sample shards of a full-data pass over nblk blocks (shard s: blocks
   [s nblk / n, (s + 1) nblk / n)): TA_SHARDS (fewer when there are fewer blocks) up to
   3 TA_SHARD_BLOCKS - 1 blocks, then one per TA_SHARD_BLOCKS blocks, at most TA_SHARDS_MAX.
   A function of the data size only, so the numbers never depend on the threads; the many
   shards of large data let threads sharing one network balance their work. */
static inline int ta_n_shards(int nblk)
{
    int k = nblk / TA_SHARD_BLOCKS;
    if (nblk < TA_SHARDS) return nblk;
    if (k < TA_SHARDS) return TA_SHARDS;
    return k < TA_SHARDS_MAX ? k : TA_SHARDS_MAX;
}

/* Sample x parameter products of a pass from which threads may share one network's shards
   (engine.pyx SPLIT_MIN_WORK): about 40 us of work on one core. */
#define TA_SPLIT_MIN_WORK 2e5

/* The shards of a pass over N samples of a network with P parameters: one below
   TA_SPLIT_MIN_WORK sample x parameter products (such a pass always runs on one thread, and
   every shard costs its own setup and reductions: 0.15 us of the float32 target step's 3.2),
   else ta_n_shards of its blocks. A function of the problem's size only, like ta_n_shards. */
static inline int ta_pass_shards(int N, long long P)
{
    if ((double)N * (double)P < TA_SPLIT_MIN_WORK) return N > 0 ? 1 : 0;
    return ta_n_shards((N + TA_NB - 1) / TA_NB);
}

#define TA_PANELS_DEF(NAME, T, NPAN, OFF) \
static inline void NAME(const T *Xb, int nblk, int d, int N, T *Xp) \
{ \
    const size_t pst = (size_t)nblk * TA_NB; \
    const int np = NPAN(d); \
    int t, f, blk, m; \
    for (t = 0; t < np; t++) \
        for (blk = 0; blk < nblk; blk++) \
            for (m = 0; m < TA_NB; m++) { \
                const size_t n = (size_t)blk * TA_NB + m; \
                T *row = Xp + OFF(t, n, pst); \
                for (f = 0; f < TA_W; f++) { \
                    const int i = TA_W * t + f; \
                    row[f] = i < d ? Xb[((size_t)blk * d + i) * TA_NB + m] \
                           : (i == d && (long long)n < (long long)N) ? (T)1 : (T)0; \
                } \
            } \
}
TA_PANELS_DEF(ta_panels, double, ta_n_panels, TA_PAN_OFF)
TA_PANELS_DEF(ta_panels_f, float, ta_n_panels_f, TA_PAN_OFF_F)
#undef TA_PANELS_DEF

/* 64-byte aligned allocation of n doubles (free with free()); NULL on failure. */
static inline double *ta_alloc(size_t n)
{
    void *p = NULL;
    size_t bytes = (n * sizeof(double) + 63) / 64 * 64;
    if (bytes == 0) bytes = 64;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    return (double *)p;
}

/* grad[p] = ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) for the lanes of n entries. */
static inline double ta_sum_lanes(const double *x)
{
    return ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
}

static inline float ta_sum_lanes_f(const float *x)
{
    return ((x[0] + x[1]) + (x[2] + x[3])) + ((x[4] + x[5]) + (x[6] + x[7]));
}

/* 64-byte aligned allocation of n floats (free with free()); NULL on failure. */
static inline float *ta_alloc_f(size_t n)
{
    return (float *)ta_alloc((n + 1) / 2);
}

/* ta_reduce_lanes(lanes, n, out): out[p] = ta_sum_lanes(lanes + TA_W p) for p < n, through the
   selected clone (the v4 clone reduces 8 entries at a time with shuffles, the same additions
   in the same tree, so the same bits). */

/* --- the clones --------------------------------------------------------------------------- */
/* Each clone defines TA_SUFFIX, its register tiles (TA_AFF_ROWS rows of ta_affine computed
   together, TA_WG_KT x TA_WG_IT tiles of the first-layer weight gradient) and its vector
   operation set: pairs of 4-lane vectors (ta_p8d, baseline and v3) or native 8-lane vectors
   (ta_v8d, v4). */
#define TA_CAT_(a, b) a##b
#define TA_CAT(a, b) TA_CAT_(a, b)
#define TA_FN(name) TA_CAT(name, TA_SUFFIX)

/* the float64 instantiations (TA_REAL: the element type of the clone being compiled) */
#define TA_REAL double
#define TA_REAL_MIN 0x1p-1022      /* the smallest normal number */
#define TA_SHALLOW_ARGS ta_shallow_args
#define TA_SUM_LANES ta_sum_lanes

#ifdef TA_VECEXT
/* baseline (SSE2 on x86-64): each 4-lane vector in two xmm registers */
#define TA_SUFFIX _default
#define TA_AFF_ROWS 2
#define TA_WG_KT 2
#define TA_WG_IT 2
#define ta_vd ta_p8d
#define ta_vi ta_p8i
#define V_LOAD p_load
#define V_STORE p_store
#define V_SET1 p_set1
#define V_ADD p_add
#define V_SUB p_sub
#define V_MUL p_mul
#define V_DIV p_div
#define V_GT p_gt
#define V_GE p_ge
#define V_LT p_lt
#define V_NE p_ne
#define V_AND p_and
#define V_SEL p_sel
#define V_ABS p_abs
#define V_ANY p_any
#define V_BITS p_bits
#define V_FROMBITS p_frombits
#define VI_SET1 pi_set1
#define VI_SHL pi_shl
#define VI_ADD pi_add
#define VI_SUB pi_sub
#define VI_OR pi_or
#define VI_AND pi_and
#define VI_XOR pi_xor
#define VI_ANDNOT pi_andnot
#include "blockops_impl.h"
#undef ta_vd
#undef ta_vi
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_GT
#undef V_GE
#undef V_LT
#undef V_NE
#undef V_AND
#undef V_SEL
#undef V_ABS
#undef V_ANY
#undef V_BITS
#undef V_FROMBITS
#undef VI_SET1
#undef VI_SHL
#undef VI_ADD
#undef VI_SUB
#undef VI_OR
#undef VI_AND
#undef VI_XOR
#undef VI_ANDNOT
#undef TA_SUFFIX
#undef TA_AFF_ROWS
#undef TA_WG_KT
#undef TA_WG_IT
#else
#define TA_SUFFIX _default
#define TA_AFF_ROWS 2
#define TA_WG_KT 2
#define TA_WG_IT 2
#include "blockops_impl.h"
#undef TA_SUFFIX
#undef TA_AFF_ROWS
#undef TA_WG_KT
#undef TA_WG_IT
#endif

#ifdef TA_MULTI
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
/* GCC 12 builds {x, x, x, x} here as movddup + vperm2f128 (two shuffles per broadcast, the
   hottest instructions of the forward pass); the intrinsic gives one vbroadcastsd */
static inline __attribute__((always_inline)) ta_p8d p_set1_v3(double x)
{
    ta_p8d r;
    r.a = (ta_v4d)_mm256_broadcastsd_pd(_mm_set_sd(x));
    r.b = r.a;
    return r;
}
/* x86-64-v3 (AVX2 + FMA): 16 ymm registers. Tiles of single ymm halves (TA_HALVES): forward 6
   rows x 8 samples (12 ymm accumulators + 2 ymm of inputs + a broadcast), weight gradient
   3 x 3 per half (9 accumulators + 3 ymm of errors + 1 of inputs; 2 x 4 for 1-2 rows). Tiles of pairs of ymm
   either spill the operands (every FMA then reloads one from memory: the 2 x 3 pair tile ran
   two 256-bit loads per FMA on Zen 3) or, for 2 x 2 pairs, an accumulator (its dependency
   chain then runs through a store and a load every iteration). */
/* ta_reduce_lanes of 4 entries (4 x TA_W doubles) with the additions of ta_sum_lanes: hadd
   gives (l0 + l1, l4 + l5, l2 + l3, l6 + l7) of one entry, the 128-bit permutes pair
   (l0 + l1) with (l2 + l3) and (l4 + l5) with (l6 + l7) of two entries, a last hadd adds the
   two halves (addition is commutative, so the bits are those of ta_sum_lanes). */
static inline __attribute__((always_inline)) void ta_reduce4_v3(const double *x, double *out)
{
    __m256d u0 = _mm256_hadd_pd(_mm256_loadu_pd(x), _mm256_loadu_pd(x + 4));
    __m256d u1 = _mm256_hadd_pd(_mm256_loadu_pd(x + 8), _mm256_loadu_pd(x + 12));
    __m256d u2 = _mm256_hadd_pd(_mm256_loadu_pd(x + 16), _mm256_loadu_pd(x + 20));
    __m256d u3 = _mm256_hadd_pd(_mm256_loadu_pd(x + 24), _mm256_loadu_pd(x + 28));
    __m256d w01 = _mm256_add_pd(_mm256_permute2f128_pd(u0, u1, 0x20),
                                _mm256_permute2f128_pd(u0, u1, 0x31));
    __m256d w23 = _mm256_add_pd(_mm256_permute2f128_pd(u2, u3, 0x20),
                                _mm256_permute2f128_pd(u2, u3, 0x31));
    /* w01 = (e0 l0-3, e0 l4-7, e1 l0-3, e1 l4-7); hadd -> (e0, e2, e1, e3) */
    _mm256_storeu_pd(out, _mm256_permute4x64_pd(_mm256_hadd_pd(w01, w23), 0xD8));
}
static inline __attribute__((always_inline)) void ta_reduce8_v3(const double *x, double *out)
{
    ta_reduce4_v3(x, out);
    ta_reduce4_v3(x + 32, out + 4);
}
#define TA_REDUCE8 ta_reduce8_v3
#undef TA_KEEP
#define TA_KEEP(v) __asm__("" : "+x"((v).a), "+x"((v).b))
#define TA_SUFFIX _v3
#define TA_HALVES 1     /* ta_aff_tile_h and ta_wg_tile_h: tiles of single ymm halves */
#define TA_AFF_ROWS 6
#define TA_WG_KT 3
#define TA_WG_IT 4      /* 3 x 3 tiles, 2 x 4 and 1 x 4 for the last rows */
#define ta_vd ta_p8d
#define ta_vi ta_p8i
#define V_LOAD p_load
#define V_STORE p_store
/* constants as vector constants (one load), variables through the broadcast intrinsic */
#define V_SET1(x) (__builtin_constant_p(x) ? p_set1(x) : p_set1_v3(x))
#define V_ADD p_add
#define V_SUB p_sub
#define V_MUL p_mul
#define V_DIV p_div
#define V_GT p_gt
#define V_GE p_ge
#define V_LT p_lt
#define V_NE p_ne
#define V_AND p_and
#define V_SEL p_sel
#define V_ABS p_abs
/* any lane set: one vptest (p_any extracts every lane) */
static inline __attribute__((always_inline)) int p_any_v3(ta_p8i m)
{
    const __m256i o = (__m256i)(m.a | m.b);
    return !_mm256_testz_si256(o, o);
}
#define V_ANY p_any_v3
#define V_BITS p_bits
#define V_FROMBITS p_frombits
#define VI_SET1 pi_set1
#define VI_SHL pi_shl
#define VI_ADD pi_add
#define VI_SUB pi_sub
#define VI_OR pi_or
#define VI_AND pi_and
#define VI_XOR pi_xor
#define VI_ANDNOT pi_andnot
#include "blockops_impl.h"
#undef ta_vd
#undef ta_vi
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_GT
#undef V_GE
#undef V_LT
#undef V_NE
#undef V_AND
#undef V_SEL
#undef V_ABS
#undef V_ANY
#undef V_BITS
#undef V_FROMBITS
#undef VI_SET1
#undef VI_SHL
#undef VI_ADD
#undef VI_SUB
#undef VI_OR
#undef VI_AND
#undef VI_XOR
#undef VI_ANDNOT
#undef TA_SUFFIX
#undef TA_HALVES
#undef TA_REDUCE8
#undef TA_AFF_ROWS
#undef TA_WG_KT
#undef TA_WG_IT
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
/* x86-64-v4 (AVX-512): 32 zmm registers; 12 and 24 zmm accumulators */
/* Lane sums of 8 consecutive entries (8 x TA_W doubles) as ta_sum_lanes adds them: pairs
   (l0 + l1), (l2 + l3), ... then pairs of pairs, then the two halves; each shuffle stage
   gathers the left and right operands of one level of that tree for 8 entries at once. */
static inline __attribute__((always_inline)) void ta_reduce8_v4(const double *x, double *out)
{
    const ta_v8i ev = {0, 2, 4, 6, 8, 10, 12, 14}, od = {1, 3, 5, 7, 9, 11, 13, 15};
    ta_v8d r[8], u[4], w[2];
    int i;
    for (i = 0; i < 8; i++) r[i] = *(const ta_v8d *)(x + 8 * i);
    for (i = 0; i < 4; i++)
        u[i] = __builtin_shuffle(r[2 * i], r[2 * i + 1], ev)
               + __builtin_shuffle(r[2 * i], r[2 * i + 1], od);
    for (i = 0; i < 2; i++)
        w[i] = __builtin_shuffle(u[2 * i], u[2 * i + 1], ev)
               + __builtin_shuffle(u[2 * i], u[2 * i + 1], od);
    *(ta_v8d *)out = __builtin_shuffle(w[0], w[1], ev) + __builtin_shuffle(w[0], w[1], od);
}
#define TA_REDUCE8 ta_reduce8_v4
#undef TA_KEEP
#define TA_KEEP(v) __asm__("" : "+v"(v))
#define TA_SUFFIX _v4
#define TA_AFF_ROWS 6
#define TA_WG_KT 6
#define TA_WG_IT 4
#define TA_WGP_ACC_C 24  /* panel tiles of up to 6 x 4 zmm accumulators (32 registers) */
#define TA_ZMM 1        /* zmm forward tiles, see blockops_impl.h */
#define ta_vd ta_v8d
#define ta_vi ta_v8i
#define V_LOAD(p) (*(const ta_v8d *)(p))
#define V_STORE(p, v) (*(ta_v8d *)(p) = (v))
#define V_SET1(x) ((ta_v8d){(x), (x), (x), (x), (x), (x), (x), (x)})
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_GT(a, b) ((a) > (b))
#define V_GE(a, b) ((a) >= (b))
#define V_LT(a, b) ((a) < (b))
#define V_NE(a, b) ((a) != (b))
#define V_AND(m, v) ((ta_v8d)((m) & (ta_v8i)(v)))
#define V_SEL(m, a, b) ((ta_v8d)(((m) & (ta_v8i)(a)) | (~(m) & (ta_v8i)(b))))
#define V_ABS(a) ((ta_v8d)((ta_v8i)(a) & VI_SET1(0x7fffffffffffffffLL)))
#define V_ANY(m) (_mm512_test_epi64_mask((__m512i)(m), (__m512i)(m)) != 0)   /* vptestmq */
#define V_BITS(v) ((ta_v8i)(v))
#define V_FROMBITS(m) ((ta_v8d)(m))
#define VI_SET1(x) ((ta_v8i){(x), (x), (x), (x), (x), (x), (x), (x)})
#define VI_SHL(m, s) ((m) << (s))
#define VI_ADD(a, b) ((a) + (b))
#define VI_SUB(a, b) ((a) - (b))
#define VI_OR(a, b) ((a) | (b))
#define VI_AND(a, b) ((a) & (b))
#define VI_XOR(a, b) ((a) ^ (b))
#define VI_ANDNOT(a, b) (~(a) & (b))
#include "blockops_impl.h"
#undef ta_vd
#undef ta_vi
#undef V_LOAD
#undef V_STORE
#undef V_SET1
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_GT
#undef V_GE
#undef V_LT
#undef V_NE
#undef V_AND
#undef V_SEL
#undef V_ABS
#undef V_ANY
#undef V_BITS
#undef V_FROMBITS
#undef VI_SET1
#undef VI_SHL
#undef VI_ADD
#undef VI_SUB
#undef VI_OR
#undef VI_AND
#undef VI_XOR
#undef VI_ANDNOT
#undef TA_SUFFIX
#undef TA_AFF_ROWS
#undef TA_WG_KT
#undef TA_WG_IT
#undef TA_WGP_ACC_C
#undef TA_ZMM
#undef TA_REDUCE8
#pragma GCC pop_options
#endif

#undef TA_REAL
#undef TA_REAL_MIN
#undef TA_SHALLOW_ARGS
#undef TA_SUM_LANES

/* --- float32 clones ------------------------------------------------------------------------ */
/* The same primitives on floats (TA_F32; function suffixes _f_default, _f_v3, _f_v4): a logical
   vector is 8 floats, one 256-bit register (the ymm registers of AVX2, and of AVX-512VL in the
   v4 clone), so a block row of TA_NB = 16 samples is two registers, and the block layout, lane
   order, reduction trees and the rule "one product per fused sum" are those of the float64
   clones, except that the loss values are added in double lanes (ta_lacc_f: a double sum of
   float terms). exp is a float version (about 1 ulp); the other functions are the same code. The
   v4 clone computes its hot loops on 16-float zmm registers (forward and panel tiles, the BCE
   loss pass: TA_ZMM, TA_Z16, blockops_bce.h) with the same operations per result. The v3
   and v4 clones give identical bits (tests/test_engine_clone_sweep.py); the baseline clone
   (no FMA) differs in the last bits. Needs GCC or Clang vector extensions (TA_HAVE_F32). */
#ifdef TA_VECEXT
#define TA_HAVE_F32 1
#define TA_F32 1
typedef float ta_v8f __attribute__((vector_size(32), aligned(4)));
typedef int ta_v8fi __attribute__((vector_size(32), aligned(4)));
/* The 8 double lanes of the float32 loss sums (TA_LACC in blockops_impl.h), as two 4-double
   (256-bit) halves: lanes 0-3 and 4-7 of a float vector, each float converted exactly before
   it is added (a 512-bit accumulator put zmm instructions into the ymm loops of the v4 clone,
   whose interpolation kernel then ran 1.4x slower). */
typedef double ta_v4fd __attribute__((vector_size(32)));
typedef struct { ta_v4fd a, b; } ta_lacc_f;
#define TA_LACC_F_ZERO ((ta_lacc_f){{0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}})
#define TA_LACC_F_ADD(acc, v) ({ \
    ta_lacc_f acc_ = (acc); const ta_v8f v_ = (v); \
    acc_.a += __builtin_convertvector(__builtin_shufflevector(v_, v_, 0, 1, 2, 3), ta_v4fd); \
    acc_.b += __builtin_convertvector(__builtin_shufflevector(v_, v_, 4, 5, 6, 7), ta_v4fd); \
    acc_; })
#define TA_REAL float
#define TA_REAL_MIN 0x1p-126f
#define TA_SHALLOW_ARGS ta_shallow_args_f
#define TA_SUM_LANES ta_sum_lanes_f
/* The float vector macros name the vector types through ta_vd / ta_vi and the lane count
   TA_VFL (8; the float32 v4 clone rebinds the three to 16 lanes for its zmm loss pass) */
typedef float ta_v16f __attribute__((vector_size(64), aligned(4)));
typedef int ta_v16fi __attribute__((vector_size(64), aligned(4)));
#define ta_vf_set1_8(x) ((ta_vd){(x), (x), (x), (x), (x), (x), (x), (x)})
#define ta_vf_set1_16(x) ((ta_vd){(x), (x), (x), (x), (x), (x), (x), (x), \
                                  (x), (x), (x), (x), (x), (x), (x), (x)})
#define ta_vfi_set1_8(x) ((ta_vi){(x), (x), (x), (x), (x), (x), (x), (x)})
#define ta_vfi_set1_16(x) ((ta_vi){(x), (x), (x), (x), (x), (x), (x), (x), \
                                   (x), (x), (x), (x), (x), (x), (x), (x)})
#define ta_vf_any_8(m) (((m)[0] | (m)[1] | (m)[2] | (m)[3] | (m)[4] | (m)[5] | (m)[6] \
                         | (m)[7]) != 0)
#define ta_vf_any_16(m) (_mm512_test_epi32_mask((__m512i)(m), (__m512i)(m)) != 0)  /* v4 only */
#define ta_vd ta_v8f
#define ta_vi ta_v8fi
#define TA_VFL 8
#define V_LOAD(p) (*(const ta_vd *)(p))
#define V_STORE(p, v) (*(ta_vd *)(p) = (v))
#define V_SET1_F(x) TA_CAT(ta_vf_set1_, TA_VFL)(x)
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_GT(a, b) ((a) > (b))
#define V_GE(a, b) ((a) >= (b))
#define V_LT(a, b) ((a) < (b))
#define V_NE(a, b) ((a) != (b))
#define V_AND(m, v) ((ta_vd)((m) & (ta_vi)(v)))
#define V_SEL(m, a, b) ((ta_vd)(((m) & (ta_vi)(a)) | (~(m) & (ta_vi)(b))))
#define V_ABS(a) ((ta_vd)((ta_vi)(a) & VI_SET1(0x7fffffff)))
#define V_ANY(m) TA_CAT(ta_vf_any_, TA_VFL)(m)
#define V_BITS(v) ((ta_vi)(v))
#define V_FROMBITS(m) ((ta_vd)(m))
#define VI_SET1(x) TA_CAT(ta_vfi_set1_, TA_VFL)(x)
#define VI_SHL(m, s) ((m) << (s))
#define VI_ADD(a, b) ((a) + (b))
#define VI_SUB(a, b) ((a) - (b))
#define VI_OR(a, b) ((a) | (b))
#define VI_AND(a, b) ((a) & (b))
#define VI_XOR(a, b) ((a) ^ (b))
#define VI_ANDNOT(a, b) (~(a) & (b))

#define V_SET1 V_SET1_F
#undef TA_KEEP
#define TA_KEEP(v) ((void)0)
#define TA_SUFFIX _f_default
#define TA_AFF_ROWS 2
#define TA_WG_KT 2
#define TA_WG_IT 2
#include "blockops_impl.h"
#undef TA_SUFFIX
#undef TA_AFF_ROWS
#undef TA_WG_KT
#undef TA_WG_IT

#ifdef TA_MULTI
#pragma GCC push_options
#pragma GCC target("arch=x86-64-v3")
/* the v3 and v4 float clones: any lane set by one vptest (the baseline extracts every lane) */
#undef ta_vf_any_8
#define ta_vf_any_8(m) (!_mm256_testz_si256((__m256i)(m), (__m256i)(m)))
#undef V_SET1
static inline __attribute__((always_inline)) ta_v8f pf_set1_v3(float x)
{
    return (ta_v8f)_mm256_broadcastss_ps(_mm_set_ss(x));
}
#define V_SET1(x) (__builtin_constant_p(x) ? V_SET1_F(x) : pf_set1_v3(x))
/* ta_reduce_lanes of 8 entries (8 x TA_W floats, one ymm each) with the additions of
   ta_sum_lanes_f: hadd of two entries gives their (l0 + l1), (l2 + l3) per 128-bit half, a
   second hadd their (l0 + l1) + (l2 + l3) and (l4 + l5) + (l6 + l7) for 4 entries, and the
   two 128-bit halves are added last (addition is commutative: the same bits). */
static inline __attribute__((always_inline)) void ta_reduce8_f_v3(const float *x, float *out)
{
    __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(_mm256_loadu_ps(x), _mm256_loadu_ps(x + 8)),
                               _mm256_hadd_ps(_mm256_loadu_ps(x + 16), _mm256_loadu_ps(x + 24)));
    __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(_mm256_loadu_ps(x + 32), _mm256_loadu_ps(x + 40)),
                               _mm256_hadd_ps(_mm256_loadu_ps(x + 48), _mm256_loadu_ps(x + 56)));
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                                        _mm256_permute2f128_ps(q0, q1, 0x31)));
}
#define TA_REDUCE8 ta_reduce8_f_v3
#undef TA_KEEP
#define TA_KEEP(v) __asm__("" : "+x"(v))
#define TA_SUFFIX _f_v3
/* 5-row forward tiles (10 accumulators): a 6-row tile (12 + 2 inputs + a broadcast) spilled
   an accumulator with GCC 12 inside the large ta_shallow, whose chain then ran through memory
   (l = 6 ran as 3 + 3, 6 chains); the shallow path's group forward pass (a function of its
   own per tile height) and its panel weight-gradient tiles do use 6 rows (12 accumulators) */
#define TA_AFF_ROWS 5
#define TA_AFFG_ROWS_C 6
#define TA_WGP_ROWS_C 6
#define TA_WGP_ACC_C 12
#define TA_WG_KT 3
#define TA_WG_IT 3
#include "blockops_impl.h"
#undef TA_REDUCE8
#undef TA_SUFFIX
#undef TA_AFF_ROWS
#undef TA_AFFG_ROWS_C
#undef TA_WGP_ROWS_C
#undef TA_WGP_ACC_C
#undef TA_WG_KT
#undef TA_WG_IT
#undef V_SET1
#define V_SET1 V_SET1_F
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("arch=x86-64-v4")
#undef TA_KEEP
#define TA_KEEP(v) __asm__("" : "+v"(v))
#define TA_SUFFIX _f_v4
#define TA_AFF_ROWS 6
#define TA_WG_KT 6
#define TA_WG_IT 4
#define TA_Z16 1        /* 16-float (zmm) panel tiles, see blockops_impl.h */
#define TA_ZMM 1        /* zmm forward tiles, see blockops_impl.h */
/* the BCE loss pass on zmm vectors (blockops_bce.h), defined after the clone */
static int ta_bce_pass_v_f_v4w(const float *O, const float *Y, int n, int n_valid, float scale,
                               int need_value, int need_grad, int want_hits, float *G,
                               ta_lacc_f *vacc, ta_v8f *hacc);
#define TA_BCE_PASS_CLONE ta_bce_pass_v_f_v4w
#include "blockops_impl.h"
#undef TA_BCE_PASS_CLONE
#undef TA_Z16
#undef TA_ZMM
/* 16-float instantiation of the elementary functions, and the zmm loss pass */
#undef ta_vd
#undef ta_vi
#undef TA_VFL
#define ta_vd ta_v16f
#define ta_vi ta_v16fi
#define TA_VFL 16
#define TA_INL static inline __attribute__((always_inline))
#undef TA_SUFFIX
#define TA_SUFFIX _f_v4w
#define TA_BCE_WIDE 1
#include "blockops_math.h"
#include "blockops_bce.h"
#undef TA_BCE_WIDE
#undef TA_SUFFIX
#undef TA_INL
#undef ta_vd
#undef ta_vi
#undef TA_VFL
#define ta_vd ta_v8f
#define ta_vi ta_v8fi
#define TA_VFL 8
#undef TA_SUFFIX
#undef TA_AFF_ROWS
#undef TA_WG_KT
#undef TA_WG_IT
#pragma GCC pop_options
#endif
#undef V_SET1
#undef V_SET1_F
#undef ta_vd
#undef ta_vi
#undef V_LOAD
#undef V_STORE
#undef V_ADD
#undef V_SUB
#undef V_MUL
#undef V_DIV
#undef V_GT
#undef V_GE
#undef V_LT
#undef V_NE
#undef V_AND
#undef V_SEL
#undef V_ABS
#undef V_ANY
#undef V_BITS
#undef V_FROMBITS
#undef VI_SET1
#undef VI_SHL
#undef VI_ADD
#undef VI_SUB
#undef VI_OR
#undef VI_AND
#undef VI_XOR
#undef VI_ANDNOT
#undef TA_REAL
#undef TA_REAL_MIN
#undef TA_SHALLOW_ARGS
#undef TA_SUM_LANES
#undef TA_F32
#undef TA_VFL
#undef ta_vf_set1_8
#undef ta_vf_set1_16
#undef ta_vfi_set1_8
#undef ta_vfi_set1_16
#undef ta_vf_any_8
#undef ta_vf_any_16
#else
#define TA_HAVE_F32 0
#endif
#ifdef TA_KEEP
#undef TA_KEEP
#endif

/* --- dispatch ----------------------------------------------------------------------------- */
typedef struct {
    void (*affine)(const double *, const double *, int, int, const double *, double *, int,
                   double, double *);
    int (*tanh_)(double *, double *, int);
    void (*mix)(const double *, const double *, double, double, int, int, double, double *);
    void (*wgrad)(const double *, const double *, int, int, double *, double *);
    void (*backprop)(const double *, const double *, const double *, int, int, double *);
    int (*loss_block)(int, const double *, const double *, int, int, double, int, double *,
                      double *);
    int (*head1)(const double *, const double *, int, const double *, const double *,
                 const double *, int, double, int, int, int, double *, double *, double *,
                 double *, double *, double *);
    void (*wgrad_all)(const double *, const double *, int, int, int, double *, double *);
    void (*wgrad_panels)(const double *, const double *, size_t, int, int, int, double *);
    int (*shallow)(const ta_shallow_args *, int, int, double *, double *);
    void (*interp1)(const double *, const double *, int, const double *, int, const double *,
                    int, int, int, int, double, const double *, int, double, int, int,
                    double *, double *, int *);
    void (*reduce)(const double *, int, double *);
    int id;
} ta_ops_t;

#define TA_OPS(S) { TA_CAT(ta_affine, S), TA_CAT(ta_tanh, S), TA_CAT(ta_mix, S), \
                    TA_CAT(ta_wgrad, S), TA_CAT(ta_backprop, S), TA_CAT(ta_loss_block, S), \
                    TA_CAT(ta_head1, S), TA_CAT(ta_wgrad_all, S), \
                    TA_CAT(ta_wgrad_panels, S), TA_CAT(ta_shallow, S), \
                    TA_CAT(ta_interp1, S), TA_CAT(ta_reduce_lanes, S), 0 }

static ta_ops_t ta_ops_default_ = TA_OPS(_default);
#ifdef TA_MULTI
static ta_ops_t ta_ops_v3_ = TA_OPS(_v3);
static ta_ops_t ta_ops_v4_ = TA_OPS(_v4);
#endif
static ta_ops_t ta_ops = TA_OPS(_default);

/* float32 table: the same primitives on floats */
typedef struct {
    void (*affine)(const float *, const float *, int, int, const float *, float *, int,
                   float, float *);
    int (*tanh_)(float *, float *, int);
    void (*mix)(const float *, const float *, float, float, int, int, float, float *);
    void (*wgrad)(const float *, const float *, int, int, float *, float *);
    void (*backprop)(const float *, const float *, const float *, int, int, float *);
    int (*loss_block)(int, const float *, const float *, int, int, float, int, float *,
                      double *);
    int (*head1)(const float *, const float *, int, const float *, const float *,
                 const float *, int, float, int, int, int, float *, float *, float *,
                 float *, double *, double *);
    void (*wgrad_all)(const float *, const float *, int, int, int, float *, float *);
    int (*shallow)(const ta_shallow_args_f *, int, int, double *, double *);
    void (*interp1)(const float *, const float *, int, const float *, int, const float *,
                    int, int, int, int, float, const float *, int, float, int, int,
                    double *, double *, int *);
    void (*reduce)(const float *, int, float *);
} ta_ops_f_t;

#if TA_HAVE_F32
#define TA_OPS_F(S) { TA_CAT(ta_affine, S), TA_CAT(ta_tanh, S), TA_CAT(ta_mix, S), \
                      TA_CAT(ta_wgrad, S), TA_CAT(ta_backprop, S), TA_CAT(ta_loss_block, S), \
                      TA_CAT(ta_head1, S), TA_CAT(ta_wgrad_all, S), TA_CAT(ta_shallow, S), \
                      TA_CAT(ta_interp1, S), TA_CAT(ta_reduce_lanes, S) }
static ta_ops_f_t ta_ops_f_default_ = TA_OPS_F(_f_default);
#ifdef TA_MULTI
static ta_ops_f_t ta_ops_f_v3_ = TA_OPS_F(_f_v3);
static ta_ops_f_t ta_ops_f_v4_ = TA_OPS_F(_f_v4);
#endif
static ta_ops_f_t ta_ops_f = TA_OPS_F(_f_default);
#else
static ta_ops_f_t ta_ops_f;
#endif
static inline int ta_have_f32(void) { return TA_HAVE_F32; }

/* Clone ids: 0 default, 1 x86-64-v3, 2 x86-64-v4. 1 when this CPU (and OS) can run it. */
static int ta_clone_supported(int which)
{
    if (which == 0) return 1;
#ifdef TA_MULTI
    __builtin_cpu_init();
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
          && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")
          && __builtin_cpu_supports("movbe") && __builtin_cpu_supports("popcnt")))
        return 0;
    if (which == 1) return 1;
    if (which == 2)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
               && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
               && __builtin_cpu_supports("avx512cd");
#endif
    return 0;
}

/* Point ta_ops at clone `which` (-1: the best supported). Returns the clone id now in use,
   or -1 (nothing changed) when the CPU cannot run the requested clone. */
static int ta_select_clone(int which)
{
    if (which < 0) {
        which = ta_clone_supported(2) ? 2 : ta_clone_supported(1) ? 1 : 0;
    }
    if (!ta_clone_supported(which)) return -1;
    if (which == 0) ta_ops = ta_ops_default_;
#ifdef TA_MULTI
    if (which == 1) ta_ops = ta_ops_v3_;
    if (which == 2) ta_ops = ta_ops_v4_;
#endif
#if TA_HAVE_F32
    if (which == 0) ta_ops_f = ta_ops_f_default_;
#ifdef TA_MULTI
    if (which == 1) ta_ops_f = ta_ops_f_v3_;
    if (which == 2) ta_ops_f = ta_ops_f_v4_;
#endif
#endif
    ta_ops.id = which;
    return which;
}

static int ta_current_clone(void) { return ta_ops.id; }

#define ta_affine (ta_ops.affine)
#define ta_tanh (ta_ops.tanh_)
#define ta_mix (ta_ops.mix)
#define ta_wgrad (ta_ops.wgrad)
#define ta_backprop (ta_ops.backprop)
#define ta_loss_block (ta_ops.loss_block)
#define ta_head1 (ta_ops.head1)
#define ta_wgrad_all (ta_ops.wgrad_all)
#define ta_wgrad_panels (ta_ops.wgrad_panels)
#define ta_shallow (ta_ops.shallow)
#define ta_interp1 (ta_ops.interp1)
#define ta_reduce_lanes (ta_ops.reduce)
#define ta_affine_f (ta_ops_f.affine)
#define ta_shallow_f (ta_ops_f.shallow)
#define ta_interp1_f (ta_ops_f.interp1)
#define ta_reduce_lanes_f (ta_ops_f.reduce)

#endif /* TOPOANALYSIS_BLOCKOPS_H */
