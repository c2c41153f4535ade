#ifndef TOPOANALYSIS_BLOCKOPS_H
#define TOPOANALYSIS_BLOCKOPS_H

/* Block primitives of the engine, written in C so that the compiler keeps the sample block in
   vector registers.
   
   Data of one block of ``TA_NB`` samples is stored "features x samples": a layer input ``H``
   of width ``n_in`` is ``H[i * TA_NB + m]`` for feature ``i`` and sample ``m`` of the block.
   Every primitive vectorizes over the samples of the block only, and every network is computed
   by one thread in a fixed order of operations, so the numbers are bit-identical whatever the
   number of threads and however the networks are split into chunks (the reproducibility
   guarantee: same seed, same numbers with 1 or 2 threads on one machine). ``target_clones``
   (GCC on x86-64 Linux) picks at run time between an x86-64-v3 version (AVX2 + FMA; setup.py
   sets ``-ffp-contract=fast``, so the compiler fuses multiply-adds there) and the baseline
   SSE2 version (no FMA instructions, hence no contraction); the portable scalar fallback of
   other compilers follows the SSE2 operations. Results may therefore differ in the last bits
   between CPUs with and without AVX2/FMA (and between compilers); they are not required to
   be identical across instruction sets. Gradient sums over samples are kept in 4 lanes
   (sample ``m`` goes to lane ``m % 4``) and reduced once per pass, in a fixed order.
   
   Non-finite values: hidden activations propagate NaN/inf (ReLU is ``z * 1[z > 0]``), so a
   non-finite hidden value reaches the outputs, and only the outputs (and tanh inputs) are
   checked.
   
   Primitives: ta_affine (a layer and its activation), ta_tanh, ta_mix (first-layer activations
   along a segment from its ends), ta_loss_block (loss and its
   gradient for a block of outputs), ta_head1 (the output layer of a one-output network fused
   with the loss and its backward pass: the fast path of shallow binary classifiers and scalar
   regressors), ta_wgrad (weight-gradient lanes), ta_backprop (errors of the layer below),
   ta_wgrad_all (first-layer weight-gradient lanes over a group of blocks, register tiles),
   ta_reduce_lanes. exp and log1p are vectorized here (ta_vexp, ta_vlog1p01, about 2-3 ulp).
   
   Nothing here allocates, validates or prints: the Cython kernels in ``engine.pyx`` own the
   loops over networks, blocks and layers. */

#include <math.h>
#include <stdint.h>
#include <string.h>

#define TA_NB 16    /* samples per block: the kernels are written for 4 vectors of 4 */

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"   /* ta_v4 helpers are always inlined */
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#if defined(__GLIBC__) && !defined(TA_NO_CLONES)
#define TA_USE_CLONES 1
#endif
#endif
#ifdef TA_USE_CLONES
/* x86-64-v3 = AVX2 + FMA (+ BMI, ...): with -ffp-contract=fast the compiler fuses
   multiply-adds in this clone only; "default" has no FMA instructions. */
#define TA_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TA_CLONES
#endif

#if defined(__GNUC__) || defined(__clang__)
/* GCC / Clang vector extensions: 4 doubles; SSE2 code uses two registers per vector. */
typedef double ta_v4 __attribute__((vector_size(32), aligned(8)));
typedef long long ta_v4i __attribute__((vector_size(32), aligned(8)));
#define V_LOAD(p) (*(const ta_v4 *)(p))
#define V_STORE(p, v) (*(ta_v4 *)(p) = (v))
#define V_SET1(x) ((ta_v4){(x), (x), (x), (x)})
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_MUL(a, b) ((a) * (b))
#define V_DIV(a, b) ((a) / (b))
#define V_GT(a, b) ((a) > (b))
#define V_GE(a, b) ((a) >= (b))
#define V_LT(a, b) ((a) < (b))
#define V_NE(a, b) ((a) != (b))
#define V_AND(m, v) ((ta_v4)((m) & (ta_v4i)(v)))
#define V_SEL(m, a, b) ((ta_v4)(((m) & (ta_v4i)(a)) | (~(m) & (ta_v4i)(b))))
#define TA_ABSMASK 0x7fffffffffffffffLL
#define V_ABS(a) ((ta_v4)((ta_v4i)(a) & (ta_v4i){TA_ABSMASK, TA_ABSMASK, TA_ABSMASK, TA_ABSMASK}))
#define V_ANY(m) (((m)[0] | (m)[1] | (m)[2] | (m)[3]) != 0)
#define V_LANE(v, q) ((v)[q])
#define V_BITS(v) ((ta_v4i)(v))
#define V_FROMBITS(m) ((ta_v4)(m))
#define VI_SET1(x) ((ta_v4i){(x), (x), (x), (x)})
#define VI_SHL(m, s) ((m) << (s))
#define VI_ADD(a, b) ((a) + (b))
#define VI_SUB(a, b) ((a) - (b))
#define VI_OR(a, b) ((a) | (b))
#define VI_AND(a, b) ((a) & (b))
#define VI_XOR(a, b) ((a) ^ (b))
#define VI_ANDNOT(a, b) (~(a) & (b))
#else
/* Portable fallback: the same lane-wise operations, one lane at a time. */
typedef struct { double v[4]; } ta_v4;
typedef struct { long long v[4]; } ta_v4i;
#define TA_LANES(expr) do { int q_; for (q_ = 0; q_ < 4; q_++) { expr; } } while (0)
static inline ta_v4 V_LOAD(const double *p) { ta_v4 r; memcpy(r.v, p, sizeof r.v); return r; }
#define V_STORE(p, x) memcpy((p), (x).v, sizeof (x).v)
static inline ta_v4 V_SET1(double x) { ta_v4 r; TA_LANES(r.v[q_] = x); return r; }
static inline ta_v4 V_ADD(ta_v4 a, ta_v4 b) { ta_v4 r; TA_LANES(r.v[q_] = a.v[q_] + b.v[q_]); return r; }
static inline ta_v4 V_SUB(ta_v4 a, ta_v4 b) { ta_v4 r; TA_LANES(r.v[q_] = a.v[q_] - b.v[q_]); return r; }
static inline ta_v4 V_MUL(ta_v4 a, ta_v4 b) { ta_v4 r; TA_LANES(r.v[q_] = a.v[q_] * b.v[q_]); return r; }
static inline ta_v4 V_DIV(ta_v4 a, ta_v4 b) { ta_v4 r; TA_LANES(r.v[q_] = a.v[q_] / b.v[q_]); return r; }
static inline ta_v4i V_GT(ta_v4 a, ta_v4 b) { ta_v4i r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] > b.v[q_])); return r; }
static inline ta_v4i V_GE(ta_v4 a, ta_v4 b) { ta_v4i r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] >= b.v[q_])); return r; }
static inline ta_v4i V_LT(ta_v4 a, ta_v4 b) { ta_v4i r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] < b.v[q_])); return r; }
static inline ta_v4i V_NE(ta_v4 a, ta_v4 b) { ta_v4i r; TA_LANES(r.v[q_] = -(long long)(a.v[q_] != b.v[q_])); return r; }
static inline ta_v4i V_BITS(ta_v4 a) { ta_v4i r; memcpy(r.v, a.v, sizeof r.v); return r; }
static inline ta_v4 V_FROMBITS(ta_v4i m) { ta_v4 r; memcpy(r.v, m.v, sizeof r.v); return r; }
static inline ta_v4 V_AND(ta_v4i m, ta_v4 a) { ta_v4i b = V_BITS(a); TA_LANES(b.v[q_] &= m.v[q_]); return V_FROMBITS(b); }
static inline ta_v4 V_SEL(ta_v4i m, ta_v4 a, ta_v4 b) { ta_v4 r; TA_LANES(r.v[q_] = m.v[q_] ? a.v[q_] : b.v[q_]); return r; }
static inline ta_v4 V_ABS(ta_v4 a) { ta_v4 r; TA_LANES(r.v[q_] = fabs(a.v[q_])); return r; }
static inline int V_ANY(ta_v4i m) { return (m.v[0] | m.v[1] | m.v[2] | m.v[3]) != 0; }
#define V_LANE(x, q) ((x).v[q])
static inline ta_v4i VI_SET1(long long x) { ta_v4i r; TA_LANES(r.v[q_] = x); return r; }
static inline ta_v4i VI_SHL(ta_v4i a, int s) { ta_v4i r; TA_LANES(r.v[q_] = (long long)((unsigned long long)a.v[q_] << s)); return r; }
static inline ta_v4i VI_ADD(ta_v4i a, ta_v4i b) { ta_v4i r; TA_LANES(r.v[q_] = a.v[q_] + b.v[q_]); return r; }
static inline ta_v4i VI_SUB(ta_v4i a, ta_v4i b) { ta_v4i r; TA_LANES(r.v[q_] = a.v[q_] - b.v[q_]); return r; }
static inline ta_v4i VI_OR(ta_v4i a, ta_v4i b) { ta_v4i r; TA_LANES(r.v[q_] = a.v[q_] | b.v[q_]); return r; }
static inline ta_v4i VI_AND(ta_v4i a, ta_v4i b) { ta_v4i r; TA_LANES(r.v[q_] = a.v[q_] & b.v[q_]); return r; }
static inline ta_v4i VI_XOR(ta_v4i a, ta_v4i b) { ta_v4i r; TA_LANES(r.v[q_] = a.v[q_] ^ b.v[q_]); return r; }
static inline ta_v4i VI_ANDNOT(ta_v4i a, ta_v4i b) { ta_v4i r; TA_LANES(r.v[q_] = ~a.v[q_] & b.v[q_]); return r; }
#endif

/* Non-finite detector: x - x is 0 for finite x and NaN for +-inf and NaN. */
#define V_NONFINITE(x) V_NE(V_SUB((x), (x)), V_SUB((x), (x)))

/* exp(x) for a vector, accurate to about 2 ulp on [-1000, 709] (inputs are clamped there,
   NaN stays NaN). Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, Taylor polynomial of
   degree 13 (truncation error < 5e-18), and 2^k applied as two exact power-of-two factors
   so that subnormal results are rounded once. */
static inline __attribute__((always_inline)) ta_v4 ta_vexp(ta_v4 x)
{
    const ta_v4 shifter = V_SET1(6755399441055744.0);       /* 1.5 * 2^52 */
    const ta_v4i shifter_bits = V_BITS(shifter);
    ta_v4 kd, k1d, k2d, r, p, s1, s2;
    ta_v4i e1, e2;
    x = V_SEL(V_LT(x, V_SET1(-1000.0)), V_SET1(-1000.0), x);
    x = V_SEL(V_GT(x, V_SET1(709.0)), V_SET1(709.0), x);
    kd = V_SUB(V_ADD(V_MUL(x, V_SET1(1.4426950408889634074)), shifter), shifter);
    r = V_SUB(x, V_MUL(kd, V_SET1(6.93147180369123816490e-01)));
    r = V_SUB(r, V_MUL(kd, V_SET1(1.90821492927058770002e-10)));
    /* Taylor coefficients 1/n!, evaluated in Estrin's scheme (short dependency chains) */
    {
        ta_v4 r2 = V_MUL(r, r), r4, r8, p01, p23, p45, p67, p89, pab, pcd;
        r4 = V_MUL(r2, r2);
        r8 = V_MUL(r4, r4);
        p01 = V_ADD(V_SET1(1.0), r);
        p23 = V_ADD(V_SET1(0.5), V_MUL(V_SET1(1.0 / 6.0), r));
        p45 = V_ADD(V_SET1(1.0 / 24.0), V_MUL(V_SET1(1.0 / 120.0), r));
        p67 = V_ADD(V_SET1(1.0 / 720.0), V_MUL(V_SET1(1.0 / 5040.0), r));
        p89 = V_ADD(V_SET1(1.0 / 40320.0), V_MUL(V_SET1(1.0 / 362880.0), r));
        pab = V_ADD(V_SET1(1.0 / 3628800.0), V_MUL(V_SET1(1.0 / 39916800.0), r));
        pcd = V_ADD(V_SET1(1.0 / 479001600.0), V_MUL(V_SET1(1.0 / 6227020800.0), r));
        p01 = V_ADD(p01, V_MUL(p23, r2));
        p45 = V_ADD(p45, V_MUL(p67, r2));
        p89 = V_ADD(p89, V_MUL(pab, r2));
        p01 = V_ADD(p01, V_MUL(p45, r4));
        p89 = V_ADD(p89, V_MUL(pcd, r4));
        p = V_ADD(p01, V_MUL(p89, r8));
    }
    /* k = k1 + k2 with both halves in the normal exponent range */
    k1d = V_SUB(V_ADD(V_MUL(kd, V_SET1(0.5)), shifter), shifter);
    k2d = V_SUB(kd, k1d);
    e1 = VI_SUB(V_BITS(V_ADD(k1d, shifter)), shifter_bits);
    e2 = VI_SUB(V_BITS(V_ADD(k2d, shifter)), shifter_bits);
    s1 = V_FROMBITS(VI_SHL(VI_ADD(e1, VI_SET1(1023)), 52));
    s2 = V_FROMBITS(VI_SHL(VI_ADD(e2, VI_SET1(1023)), 52));
    return V_MUL(V_MUL(p, s1), s2);
}

/* Store one vector of pre-activations z as Z <- sigma(z) and S <- sigma'(z) (S may be
   NULL) for the vectorized activations; code -1 (no activation) and 2 (linear) store z.
   Non-finite values propagate (ReLU is z * 1[z > 0], so NaN and -inf give NaN): a
   non-finite hidden value shows up in the outputs, which are checked. */
static inline __attribute__((always_inline)) void ta_store_act(double *Z, double *S, ta_v4 z,
                                                               int code, double slope)
{
    const ta_v4 zero = V_SET1(0.0), one = V_SET1(1.0);
    ta_v4 h, s, e, d;
    switch (code) {
    case 0:
        s = V_AND(V_GT(z, zero), one);
        h = V_MUL(z, s);
        break;
    case 1:
        s = V_SEL(V_GT(z, zero), one, V_SET1(slope));
        h = V_MUL(z, s);
        break;
    case 4:
        e = ta_vexp(V_SUB(zero, V_ABS(z)));
        d = V_DIV(one, V_ADD(one, e));
        h = V_SEL(V_GE(z, zero), d, V_MUL(e, d));
        s = V_MUL(h, V_SUB(one, h));
        break;
    case 5:
        h = V_ABS(z);
        s = V_SUB(V_AND(V_GT(z, zero), one), V_AND(V_LT(z, zero), one));
        break;
    default:   /* 2 linear, -1 none */
        h = z; s = one;
        break;
    }
    V_STORE(Z, h);
    if (S) V_STORE(S, s);
}

#define TA_ROWACC(acc, w, off) acc = V_ADD(acc, V_MUL(w, V_LOAD(h + (off))))

/* Z[k, :] = sigma(b[k] + sum_i W[k, i] H[i, :]) with the sum in increasing i (b may be
   NULL), S[k, :] = sigma'(...) when S is not NULL. Codes as
   topoanalysis.activations.activation_code (0 relu, 1 leaky_relu, 2 linear, 4 sigmoid,
   5 abs) or -1 for no activation; tanh (3) is not vectorized: use -1 here, then ta_tanh.
   Rows go three at a time (12 accumulators, the weights broadcast, H read from L1). */
static TA_CLONES void ta_affine(const double *W, const double *b, int n_out, int n_in,
                                const double *H, double *Z, int code, double slope,
                                double *S)
{
    int k = 0, i, q;
    for (; k + 2 < n_out; k += 3) {
        const double *w0 = W + (size_t)k * n_in, *w1 = w0 + n_in, *w2 = w1 + n_in;
        double *z = Z + (size_t)k * TA_NB, *s = S ? S + (size_t)k * TA_NB : NULL;
        ta_v4 acc[12];
        for (q = 0; q < 4; q++) {
            acc[q] = V_SET1(b ? b[k] : 0.0);
            acc[4 + q] = V_SET1(b ? b[k + 1] : 0.0);
            acc[8 + q] = V_SET1(b ? b[k + 2] : 0.0);
        }
        for (i = 0; i < n_in; i++) {
            const double *h = H + (size_t)i * TA_NB;
            ta_v4 u = V_SET1(w0[i]), v = V_SET1(w1[i]), w = V_SET1(w2[i]);
            TA_ROWACC(acc[0], u, 0); TA_ROWACC(acc[1], u, 4);
            TA_ROWACC(acc[2], u, 8); TA_ROWACC(acc[3], u, 12);
            TA_ROWACC(acc[4], v, 0); TA_ROWACC(acc[5], v, 4);
            TA_ROWACC(acc[6], v, 8); TA_ROWACC(acc[7], v, 12);
            TA_ROWACC(acc[8], w, 0); TA_ROWACC(acc[9], w, 4);
            TA_ROWACC(acc[10], w, 8); TA_ROWACC(acc[11], w, 12);
        }
        for (q = 0; q < 12; q++)
            ta_store_act(z + 4 * q, s ? s + 4 * q : NULL, acc[q], code, slope);
    }
    for (; k < n_out; k++) {
        const double *w0 = W + (size_t)k * n_in;
        double *z = Z + (size_t)k * TA_NB, *s = S ? S + (size_t)k * TA_NB : NULL;
        ta_v4 acc[4];
        for (q = 0; q < 4; q++)
            acc[q] = V_SET1(b ? b[k] : 0.0);
        for (i = 0; i < n_in; i++) {
            const double *h = H + (size_t)i * TA_NB;
            ta_v4 u = V_SET1(w0[i]);
            TA_ROWACC(acc[0], u, 0); TA_ROWACC(acc[1], u, 4);
            TA_ROWACC(acc[2], u, 8); TA_ROWACC(acc[3], u, 12);
        }
        for (q = 0; q < 4; q++)
            ta_store_act(z + 4 * q, s ? s + 4 * q : NULL, acc[q], code, slope);
    }
}

/* Z = sigma(u * Za + t * Zb) on n values (a multiple of 4): the first-layer activations
   at a point of a segment from the pre-activations at its ends. Codes as ta_affine. */
static TA_CLONES void ta_mix(const double *Za, const double *Zb, double u, double t, int n,
                             int code, double slope, double *Z)
{
    const ta_v4 uu = V_SET1(u), tt = V_SET1(t);
    int m;
    for (m = 0; m < n; m += 4)
        ta_store_act(Z + m, NULL, V_ADD(V_MUL(uu, V_LOAD(Za + m)), V_MUL(tt, V_LOAD(Zb + m))),
                     code, slope);
}

/* tanh, the activation without a vectorized form: in place Z -> tanh(Z) on n values
   (libm), S = 1 - tanh(Z)^2 when S is not NULL. Returns 1 when some Z is not finite. */
static TA_CLONES int ta_tanh(double *Z, double *S, int n)
{
    int m, nonfinite = 0;
    for (m = 0; m < n; m++) {
        double z = Z[m], h = tanh(z);
        nonfinite |= !(z - z == 0.0);
        Z[m] = h;
        if (S) S[m] = 1.0 - h * h;
    }
    return nonfinite;
}

/* Weight-gradient lanes of one layer over one block:
   gacc[(k * n_in + i) * 4 + q] += sum_v D[k, 4 v + q] H[i, 4 v + q],
   bacc[k * 4 + q] += sum_v D[k, 4 v + q]  (bacc may be NULL). */
static TA_CLONES void ta_wgrad(const double *D, const double *H, int n_out, int n_in,
                               double *gacc, double *bacc)
{
    int k = 0, i;
    for (; k + 1 < n_out; k += 2) {
        const double *d0 = D + (size_t)k * TA_NB, *d1 = d0 + TA_NB;
        ta_v4 x0 = V_LOAD(d0), x1 = V_LOAD(d0 + 4), x2 = V_LOAD(d0 + 8), x3 = V_LOAD(d0 + 12);
        ta_v4 y0 = V_LOAD(d1), y1 = V_LOAD(d1 + 4), y2 = V_LOAD(d1 + 8), y3 = V_LOAD(d1 + 12);
        double *g0 = gacc + (size_t)k * n_in * 4, *g1 = g0 + (size_t)n_in * 4;
        if (bacc) {
            V_STORE(bacc + 4 * k, V_ADD(V_LOAD(bacc + 4 * k), V_ADD(V_ADD(x0, x1), V_ADD(x2, x3))));
            V_STORE(bacc + 4 * k + 4, V_ADD(V_LOAD(bacc + 4 * k + 4), V_ADD(V_ADD(y0, y1), V_ADD(y2, y3))));
        }
        for (i = 0; i < n_in; i++) {
            const double *h = H + (size_t)i * TA_NB;
            ta_v4 h0 = V_LOAD(h), h1 = V_LOAD(h + 4), h2 = V_LOAD(h + 8), h3 = V_LOAD(h + 12);
            ta_v4 p = V_ADD(V_ADD(V_MUL(x0, h0), V_MUL(x1, h1)), V_ADD(V_MUL(x2, h2), V_MUL(x3, h3)));
            ta_v4 r = V_ADD(V_ADD(V_MUL(y0, h0), V_MUL(y1, h1)), V_ADD(V_MUL(y2, h2), V_MUL(y3, h3)));
            V_STORE(g0 + 4 * i, V_ADD(V_LOAD(g0 + 4 * i), p));
            V_STORE(g1 + 4 * i, V_ADD(V_LOAD(g1 + 4 * i), r));
        }
    }
    if (k < n_out) {
        const double *d0 = D + (size_t)k * TA_NB;
        ta_v4 x0 = V_LOAD(d0), x1 = V_LOAD(d0 + 4), x2 = V_LOAD(d0 + 8), x3 = V_LOAD(d0 + 12);
        double *g0 = gacc + (size_t)k * n_in * 4;
        if (bacc)
            V_STORE(bacc + 4 * k, V_ADD(V_LOAD(bacc + 4 * k), V_ADD(V_ADD(x0, x1), V_ADD(x2, x3))));
        for (i = 0; i < n_in; i++) {
            const double *h = H + (size_t)i * TA_NB;
            ta_v4 p = V_ADD(V_ADD(V_MUL(x0, V_LOAD(h)), V_MUL(x1, V_LOAD(h + 4))),
                            V_ADD(V_MUL(x2, V_LOAD(h + 8)), V_MUL(x3, V_LOAD(h + 12))));
            V_STORE(g0 + 4 * i, V_ADD(V_LOAD(g0 + 4 * i), p));
        }
    }
}

/* Back-propagate through one layer: P[i, :] = S[i, :] * sum_k W[k, i] D[k, :]. */
static TA_CLONES void ta_backprop(const double *W, const double *D, const double *S,
                                  int n_out, int n_in, double *P)
{
    int i = 0, k;
    for (; i + 1 < n_in; i += 2) {
        ta_v4 a0, a1, a2, a3, c0, c1, c2, c3;
        a0 = a1 = a2 = a3 = c0 = c1 = c2 = c3 = V_SET1(0.0);
        for (k = 0; k < n_out; k++) {
            const double *d = D + (size_t)k * TA_NB;
            ta_v4 d0 = V_LOAD(d), d1 = V_LOAD(d + 4), d2 = V_LOAD(d + 8), d3 = V_LOAD(d + 12);
            ta_v4 u = V_SET1(W[(size_t)k * n_in + i]), v = V_SET1(W[(size_t)k * n_in + i + 1]);
            a0 = V_ADD(a0, V_MUL(u, d0)); a1 = V_ADD(a1, V_MUL(u, d1));
            a2 = V_ADD(a2, V_MUL(u, d2)); a3 = V_ADD(a3, V_MUL(u, d3));
            c0 = V_ADD(c0, V_MUL(v, d0)); c1 = V_ADD(c1, V_MUL(v, d1));
            c2 = V_ADD(c2, V_MUL(v, d2)); c3 = V_ADD(c3, V_MUL(v, d3));
        }
        const double *s = S + (size_t)i * TA_NB;
        double *p = P + (size_t)i * TA_NB;
        V_STORE(p, V_MUL(V_LOAD(s), a0)); V_STORE(p + 4, V_MUL(V_LOAD(s + 4), a1));
        V_STORE(p + 8, V_MUL(V_LOAD(s + 8), a2)); V_STORE(p + 12, V_MUL(V_LOAD(s + 12), a3));
        V_STORE(p + 16, V_MUL(V_LOAD(s + 16), c0)); V_STORE(p + 20, V_MUL(V_LOAD(s + 20), c1));
        V_STORE(p + 24, V_MUL(V_LOAD(s + 24), c2)); V_STORE(p + 28, V_MUL(V_LOAD(s + 28), c3));
    }
    if (i < n_in) {
        ta_v4 a0, a1, a2, a3;
        a0 = a1 = a2 = a3 = V_SET1(0.0);
        for (k = 0; k < n_out; k++) {
            const double *d = D + (size_t)k * TA_NB;
            ta_v4 u = V_SET1(W[(size_t)k * n_in + i]);
            a0 = V_ADD(a0, V_MUL(u, V_LOAD(d))); a1 = V_ADD(a1, V_MUL(u, V_LOAD(d + 4)));
            a2 = V_ADD(a2, V_MUL(u, V_LOAD(d + 8))); a3 = V_ADD(a3, V_MUL(u, V_LOAD(d + 12)));
        }
        const double *s = S + (size_t)i * TA_NB;
        double *p = P + (size_t)i * TA_NB;
        V_STORE(p, V_MUL(V_LOAD(s), a0)); V_STORE(p + 4, V_MUL(V_LOAD(s + 4), a1));
        V_STORE(p + 8, V_MUL(V_LOAD(s + 8), a2)); V_STORE(p + 12, V_MUL(V_LOAD(s + 12), a3));
    }
}

/* log1p(x) for x in [0, 1] (the BCE term log(1 + exp(-|o|))), about 3 ulp:
   log1p(x) = 2 atanh(s) with s = x / (2 + x) in [0, 1/3], series to s^35
   (truncation error below 1e-18 relative). */
static inline __attribute__((always_inline)) ta_v4 ta_vlog1p01(ta_v4 x)
{
    ta_v4 s = V_DIV(x, V_ADD(V_SET1(2.0), x)), t = V_MUL(s, s), t2, t4, t8, t16, c[9], p;
    int k;
    /* sum_{k=0}^{17} t^k / (2k + 1) in Estrin's scheme */
    t2 = V_MUL(t, t);
    t4 = V_MUL(t2, t2);
    t8 = V_MUL(t4, t4);
    t16 = V_MUL(t8, t8);
    for (k = 0; k < 9; k++)
        c[k] = V_ADD(V_SET1(1.0 / (4 * k + 1)), V_MUL(V_SET1(1.0 / (4 * k + 3)), t));
    for (k = 0; k < 4; k++)
        c[2 * k] = V_ADD(c[2 * k], V_MUL(c[2 * k + 1], t2));
    c[0] = V_ADD(c[0], V_MUL(c[2], t4));
    c[4] = V_ADD(c[4], V_MUL(c[6], t4));
    c[0] = V_ADD(c[0], V_MUL(c[4], t8));
    p = V_ADD(c[0], V_MUL(c[8], t16));
    return V_MUL(V_ADD(s, s), p);
}

/* Loss of the 16 samples of one output row held in 4 vectors (codes 0 mse, 1 l1, 2 bce):
   g = scale * dloss/do (0 where not valid; bce computes it only when need_grad); the valid
   per-entry losses are added to the lane sums *acc when need_value. Returns the mask of non-finite valid outputs. The four
   vectors go through each stage together (independent dependency chains). */
static inline __attribute__((always_inline)) ta_v4i ta_loss4(int code, const ta_v4 *o,
                                                             const ta_v4 *y,
                                                             const ta_v4i *valid,
                                                             double scale, int need_value,
                                                             int need_grad, ta_v4 *g,
                                                             ta_v4 *acc)
{
    const ta_v4 zero = V_SET1(0.0), one = V_SET1(1.0), sc = V_SET1(scale);
    ta_v4 ea[4], r, s;
    ta_v4i bad = VI_SET1(0);
    int m;
    for (m = 0; m < 4; m++)
        bad = VI_OR(bad, VI_AND(valid[m], V_NONFINITE(o[m])));
    if (code == 0) {
        for (m = 0; m < 4; m++) {
            r = V_SUB(o[m], y[m]);
            g[m] = V_AND(valid[m], V_MUL(V_MUL(V_SET1(2.0), r), sc));
            if (need_value) *acc = V_ADD(*acc, V_AND(valid[m], V_MUL(r, r)));
        }
    } else if (code == 1) {
        for (m = 0; m < 4; m++) {
            r = V_SUB(o[m], y[m]);
            s = V_SUB(V_AND(V_GT(r, zero), one), V_AND(V_LT(r, zero), one));
            g[m] = V_AND(valid[m], V_MUL(s, sc));
            if (need_value) *acc = V_ADD(*acc, V_AND(valid[m], V_ABS(r)));
        }
    } else {
        for (m = 0; m < 4; m++)
            ea[m] = ta_vexp(V_SUB(zero, V_ABS(o[m])));
        if (need_grad)
            for (m = 0; m < 4; m++) {
                r = V_DIV(one, V_ADD(one, ea[m]));
                s = V_SEL(V_GE(o[m], zero), r, V_MUL(ea[m], r));
                g[m] = V_AND(valid[m], V_MUL(V_SUB(s, y[m]), sc));
            }
        if (need_value)
            for (m = 0; m < 4; m++) {
                ta_v4 lv = V_SUB(V_AND(V_GT(o[m], zero), o[m]), V_MUL(o[m], y[m]));
                *acc = V_ADD(*acc, V_AND(valid[m], V_ADD(lv, ta_vlog1p01(ea[m]))));
            }
    }
    return bad;
}

/* Loss of one block of outputs O (e x NB) against targets Y (e x NB), of which the first
   n_valid samples are real: G = scale * dloss/dO (0 on padding), and the sum of the
   per-entry losses of the valid samples into *value when need_value (summed in 4 lanes,
   lanes combined as (l0 + l1) + (l2 + l3)). Codes: 0 mse, 1 l1, 2 bce (with logits),
   3 cross-entropy (with logits, per sample over the e outputs). Returns 1 when some
   output is not finite. */
static TA_CLONES int ta_loss_block(int code, const double *O, const double *Y, int e,
                                   int n_valid, double scale, int need_value,
                                   double *G, double *value)
{
    static const double iota[4] = {0.0, 1.0, 2.0, 3.0};
    const ta_v4 lanes = V_LOAD(iota), nval = V_SET1((double)n_valid);
    ta_v4i bad = VI_SET1(0);
    ta_v4 acc = V_SET1(0.0);
    double total = 0.0;
    int j, m;
    if (code == 3) {
        int nonfinite = 0;
        for (j = 0; j < e * TA_NB; j++) G[j] = 0.0;
        for (m = 0; m < n_valid; m++) {
            double mx = O[m], se = 0.0, sy = 0.0, lse, v = 0.0;
            for (j = 0; j < e; j++) {
                double o = O[j * TA_NB + m];
                nonfinite |= !(o - o == 0.0);
                if (o > mx) mx = o;
            }
            for (j = 0; j < e; j++) { se += exp(O[j * TA_NB + m] - mx); sy += Y[j * TA_NB + m]; }
            lse = log(se);
            for (j = 0; j < e; j++) {
                double lp = (O[j * TA_NB + m] - mx) - lse, y = Y[j * TA_NB + m];
                v -= y * lp;
                G[j * TA_NB + m] = (exp(lp) * sy - y) * scale;
            }
            total += v;
        }
        if (need_value) *value = total;
        return nonfinite;
    }
    for (j = 0; j < e; j++) {
        ta_v4 o[4], y[4], g[4];
        ta_v4i valid[4];
        for (m = 0; m < 4; m++) {
            o[m] = V_LOAD(O + (size_t)j * TA_NB + 4 * m);
            y[m] = V_LOAD(Y + (size_t)j * TA_NB + 4 * m);
            valid[m] = V_LT(V_ADD(V_SET1(4.0 * m), lanes), nval);
        }
        bad = VI_OR(bad, ta_loss4(code, o, y, valid, scale, need_value, 1, g, &acc));
        for (m = 0; m < 4; m++)
            V_STORE(G + (size_t)j * TA_NB + 4 * m, g[m]);
    }
    if (need_value)
        *value = (V_LANE(acc, 0) + V_LANE(acc, 1)) + (V_LANE(acc, 2) + V_LANE(acc, 3));
    return V_ANY(bad);
}

/* The output layer of a network with one output, fused with the loss (codes 0-2) and
   its backward pass, for one block: o = b + sum_i w[i] H[i] (stored in O), the loss
   gradient g, the lanes of the output-layer gradient (gw[4 i + q], gb[q]) and the error
   of the hidden layer D[i] = S[i] * (w[i] g). Same operations in the same order as
   ta_affine + ta_loss_block + ta_wgrad + ta_backprop, so the same numbers (in the FMA
   clone up to where the compiler fuses multiply-adds).
   need_grad = 0 skips the backward part (S, gw, gb, D unused). *hits (when not NULL)
   gets the number of valid samples with (o > 0) == (y > 0.5). Returns 1 when some valid
   output is not finite. */
static TA_CLONES int ta_head1(const double *w, const double *b, int n_in, const double *H,
                              const double *S, const double *Y, int n_valid, double scale,
                              int code, int need_value, int need_grad, double *O,
                              double *gw, double *gb, double *D, double *value,
                              double *hits)
{
    static const double iota[4] = {0.0, 1.0, 2.0, 3.0};
    const ta_v4 lanes = V_LOAD(iota), nval = V_SET1((double)n_valid);
    ta_v4 o[4], y[4], g[4], acc = V_SET1(0.0);
    ta_v4i valid[4], bad;
    int i, m;
    for (m = 0; m < 4; m++)
        o[m] = V_SET1(b ? b[0] : 0.0);
    for (i = 0; i < n_in; i++) {
        const double *h = H + (size_t)i * TA_NB;
        ta_v4 u = V_SET1(w[i]);
        TA_ROWACC(o[0], u, 0); TA_ROWACC(o[1], u, 4);
        TA_ROWACC(o[2], u, 8); TA_ROWACC(o[3], u, 12);
    }
    for (m = 0; m < 4; m++) {
        V_STORE(O + 4 * m, o[m]);
        y[m] = V_LOAD(Y + 4 * m);
        valid[m] = V_LT(V_ADD(V_SET1(4.0 * m), lanes), nval);
    }
    bad = ta_loss4(code, o, y, valid, scale, need_value, need_grad, g, &acc);
    if (need_value)
        *value = (V_LANE(acc, 0) + V_LANE(acc, 1)) + (V_LANE(acc, 2) + V_LANE(acc, 3));
    if (hits) {     /* bce accuracy: logit > 0 against target > 0.5 */
        ta_v4 cnt = V_SET1(0.0);
        for (m = 0; m < 4; m++) {
            ta_v4i wrong = VI_XOR(V_GT(o[m], V_SET1(0.0)), V_GT(y[m], V_SET1(0.5)));
            cnt = V_ADD(cnt, V_AND(VI_ANDNOT(wrong, valid[m]), V_SET1(1.0)));
        }
        *hits = (V_LANE(cnt, 0) + V_LANE(cnt, 1)) + (V_LANE(cnt, 2) + V_LANE(cnt, 3));
    }
    if (!need_grad)
        return V_ANY(bad);
    if (gb)
        V_STORE(gb, V_ADD(V_LOAD(gb), V_ADD(V_ADD(g[0], g[1]), V_ADD(g[2], g[3]))));
    for (i = 0; i < n_in; i++) {
        const double *h = H + (size_t)i * TA_NB, *s = S + (size_t)i * TA_NB;
        double *d = D + (size_t)i * TA_NB;
        ta_v4 u = V_SET1(w[i]);
        ta_v4 p = V_ADD(V_ADD(V_MUL(g[0], V_LOAD(h)), V_MUL(g[1], V_LOAD(h + 4))),
                        V_ADD(V_MUL(g[2], V_LOAD(h + 8)), V_MUL(g[3], V_LOAD(h + 12))));
        V_STORE(gw + 4 * i, V_ADD(V_LOAD(gw + 4 * i), p));
        for (m = 0; m < 4; m++)
            V_STORE(d + 4 * m, V_MUL(V_LOAD(s + 4 * m), V_ADD(V_SET1(0.0), V_MUL(u, g[m]))));
    }
    return V_ANY(bad);
}

/* First-layer weight gradient over all blocks at once (full-data passes): the errors of
   every block, Dall[blk][k][NB], against the input blocks Xb[blk][i][NB]. Tiles of up to
   3 rows x 4 features keep their lane sums (sample m of a block goes to lane m % 4) in
   registers through all blocks, in increasing block and sample order; the lanes are
   added to gacc[4 (k n_in + i) + q] and the bias lanes to bacc[4 k + q]. */
static inline __attribute__((always_inline)) void ta_wg_tile(const double *Dall,
                                                             const double *Xb, int nblk,
                                                             int n_out, int n_in, int k,
                                                             int i, int kt, int it,
                                                             double *gacc)
{
    ta_v4 acc[12];
    int a, c, blk, v;
    for (a = 0; a < 12; a++) acc[a] = V_SET1(0.0);
    for (blk = 0; blk < nblk; blk++) {
        const double *d = Dall + ((size_t)blk * n_out + k) * TA_NB;
        const double *x = Xb + ((size_t)blk * n_in + i) * TA_NB;
        for (v = 0; v < 4; v++) {
            ta_v4 dv[3];
            for (a = 0; a < kt; a++) dv[a] = V_LOAD(d + a * TA_NB + 4 * v);
            for (c = 0; c < it; c++) {
                ta_v4 xv = V_LOAD(x + c * TA_NB + 4 * v);
                for (a = 0; a < kt; a++)
                    acc[a * 4 + c] = V_ADD(acc[a * 4 + c], V_MUL(dv[a], xv));
            }
        }
    }
    for (a = 0; a < kt; a++)
        for (c = 0; c < it; c++) {
            double *g = gacc + 4 * ((size_t)(k + a) * n_in + i + c);
            V_STORE(g, V_ADD(V_LOAD(g), acc[a * 4 + c]));
        }
}

static TA_CLONES void ta_wgrad_all(const double *Dall, const double *Xb, int nblk,
                                   int n_out, int n_in, double *gacc, double *bacc)
{
    int k, i, blk, kt, it;
    for (k = 0; k < n_out; k += 3) {
        kt = n_out - k < 3 ? n_out - k : 3;
        for (i = 0; i < n_in; i += 4) {
            it = n_in - i < 4 ? n_in - i : 4;
            switch (kt * 8 + it) {
#define TA_WGT(A, B) case A * 8 + B: ta_wg_tile(Dall, Xb, nblk, n_out, n_in, k, i, A, B, gacc); break;
            TA_WGT(3, 4) TA_WGT(3, 3) TA_WGT(3, 2) TA_WGT(3, 1)
            TA_WGT(2, 4) TA_WGT(2, 3) TA_WGT(2, 2) TA_WGT(2, 1)
            TA_WGT(1, 4) TA_WGT(1, 3) TA_WGT(1, 2) TA_WGT(1, 1)
#undef TA_WGT
            }
        }
        if (bacc)
            for (kt = k; kt < n_out && kt < k + 3; kt++) {
                ta_v4 b0 = V_SET1(0.0), b1 = b0, b2 = b0, b3 = b0;
                for (blk = 0; blk < nblk; blk++) {
                    const double *d = Dall + ((size_t)blk * n_out + kt) * TA_NB;
                    b0 = V_ADD(b0, V_LOAD(d)); b1 = V_ADD(b1, V_LOAD(d + 4));
                    b2 = V_ADD(b2, V_LOAD(d + 8)); b3 = V_ADD(b3, V_LOAD(d + 12));
                }
                V_STORE(bacc + 4 * kt, V_ADD(V_LOAD(bacc + 4 * kt), V_ADD(V_ADD(b0, b1), V_ADD(b2, b3))));
            }
    }
}

/* grad[p] = (l0 + l1) + (l2 + l3) for the 4 lanes of each of n entries. */
static void ta_reduce_lanes(const double *lanes, int n, double *out)
{
    int p;
    for (p = 0; p < n; p++)
        out[p] = (lanes[4 * p] + lanes[4 * p + 1]) + (lanes[4 * p + 2] + lanes[4 * p + 3]);
}

#endif /* TOPOANALYSIS_BLOCKOPS_H */
