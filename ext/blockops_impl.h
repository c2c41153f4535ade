/* One clone of the engine's block primitives: included by blockops.h once per instruction set,
   with TA_SUFFIX (function-name suffix) and the register tiles TA_AFF_ROWS, TA_WG_KT, TA_WG_IT
   defined. No include guard on purpose. Tiles change which results are computed together,
   never the operations that produce one result, so all clones with FMA give the same bits.
   With -ffp-contract=fast the compiler fuses a * b + c; every such sum is written so that
   exactly one operand is a product (never x * y + u * v, whose fused form the compiler may
   choose differently per target), so the fused operations are the same in every clone. */

#define TA_INL static inline __attribute__((always_inline))

/* The register-tile shapes (rows, columns) the weight-gradient dispatchers switch over, each
   M(rows, cols) one case of a switch on rows * 8 + cols. */
#define TA_TILE_SHAPES(M) \
    M(6, 4) M(6, 3) M(6, 2) M(6, 1) M(5, 4) M(5, 3) M(5, 2) M(5, 1) \
    M(4, 4) M(4, 3) M(4, 2) M(4, 1) M(3, 4) M(3, 3) M(3, 2) M(3, 1) \
    M(2, 4) M(2, 3) M(2, 2) M(2, 1) M(1, 4) M(1, 3) M(1, 2) M(1, 1)

/* The group forward functions ta_aff_g1 ... ta_aff_g6 of a clone, from its TA_AFF_G(R) */
#define TA_AFF_G_ALL TA_AFF_G(6) TA_AFF_G(5) TA_AFF_G(4) TA_AFF_G(3) TA_AFF_G(2) TA_AFF_G(1)
#define TA_AFF_G_HEAD(R) \
static __attribute__((noinline)) void TA_CAT(TA_FN(ta_aff_g), R)( \
    const TA_REAL *W, const TA_REAL *b, int k, int l, int n_in, const TA_REAL *Xg, int nb, \
    TA_REAL *Hg, TA_REAL *Sg, int code, TA_REAL slope, const TA_REAL *w2, const TA_REAL *b2, \
    TA_REAL *O)

/* TA_KEEP(v): keep a loaded vector in registers (an empty asm that "modifies" it), so that the
   compiler does not fold the load into every FMA that uses it and reload it each time (GCC 12
   does that in the tile loops below, doubling their loads). Changes no value. */
#ifndef TA_KEEP
#define TA_KEEP(v) ((void)0)
#endif
#ifndef TA_UNROLL
#define TA_UNROLL _Pragma("GCC unroll 32")   /* a loop over a tile's registers: all of it */
#define TA_UNROLL2 _Pragma("GCC unroll 2")   /* a loop over features or samples: by two */
#endif

#include "blockops_math.h"

/* The lane sums of loss values (TA_LACC): the clone's vector for float64; for float32 eight
   double lanes, each float term converted (exactly) before it is added, so the float32 loss is
   a double sum of float terms, as documented: a float partial sum dropped small terms next to
   large ones (2^24 + 1 = 2^24) and overflowed to inf from finite terms (four mse terms of 1e38).
   One conversion and one double addition per 8 samples, only when the value is wanted; the
   additions are in the order of the float lanes they replace, so the v3 and v4 clones (whose
   zmm BCE pass adds the low half, then the high half) keep identical bits. */
#ifdef TA_F32
#define TA_LACC ta_lacc_f
#define TA_LACC_ZERO TA_LACC_F_ZERO
#define TA_LACC_ADD(acc, v) TA_LACC_F_ADD((acc), (v))
TA_INL double TA_FN(ta_lacc_sum)(TA_LACC acc)
{
    double lanes[8];
    memcpy(lanes, &acc.a, sizeof(acc.a));
    memcpy(lanes + 4, &acc.b, sizeof(acc.b));
    return ta_sum_lanes(lanes);
}
#else
#define TA_LACC ta_vd
#define TA_LACC_ZERO V_SET1(0.0)
#define TA_LACC_ADD(acc, v) V_ADD((acc), (v))
TA_INL double TA_FN(ta_lacc_sum)(TA_LACC acc)
{
    TA_REAL lanes[TA_W];
    V_STORE(lanes, acc);
    return TA_SUM_LANES(lanes);
}
#endif

/* sigma(z), and sigma'(z) in *sp, for the vectorized activations; ta_store_act stores one
   vector of pre-activations z as Z <- sigma(z) and S <- sigma'(z) (S may be NULL);
   TA_ACT_NONE and TA_ACT_LINEAR store z. Codes: enum ta_act_code
   (ext/codes.h; tanh is not vectorized, see ta_tanh).
   Non-finite values propagate (ReLU is z * 1[z > 0], so NaN and -inf give NaN). */
TA_INL ta_vd TA_FN(ta_act)(ta_vd z, int code, TA_REAL slope, ta_vd *sp)
{
    const ta_vd zero = V_SET1(0.0), one = V_SET1(1.0);
    ta_vd h, s, e, d;
    switch (code) {
    case TA_ACT_RELU:
        s = V_AND(V_GT(z, zero), one);
        h = V_MUL(z, s);
        break;
    case TA_ACT_LEAKY_RELU:
        s = V_SEL(V_GT(z, zero), one, V_SET1(slope));
        h = V_MUL(z, s);
        break;
    case TA_ACT_SIGMOID:
        e = TA_FN(ta_vexpn)(z);
        d = V_DIV(one, V_ADD(one, e));
        h = V_SEL(V_GE(z, zero), d, V_MUL(e, d));
        s = V_MUL(h, V_SUB(one, h));
        break;
    case TA_ACT_ABS:
        h = V_ABS(z);
        s = V_SUB(V_AND(V_GT(z, zero), one), V_AND(V_LT(z, zero), one));
        break;
    default:   /* TA_ACT_LINEAR, TA_ACT_NONE */
        h = z; s = one;
        break;
    }
    *sp = s;
    return h;
}

TA_INL void TA_FN(ta_store_act)(TA_REAL *Z, TA_REAL *S, ta_vd z, int code, TA_REAL slope)
{
    ta_vd s, h = TA_FN(ta_act)(z, code, slope, &s);
    V_STORE(Z, h);
    if (S) V_STORE(S, s);
}

/* R rows k .. k + R - 1 of ta_affine on one block (R a compile-time constant at every call,
   so the R * TA_NV accumulators live in registers). */
TA_INL void TA_FN(ta_aff_tile)(const TA_REAL *W, const TA_REAL *b, int k, const int R, int n_in,
                               const TA_REAL *H, TA_REAL *Z, int code, TA_REAL slope, TA_REAL *S)
{
    ta_vd acc[(TA_AFF_ROWS > 6 ? TA_AFF_ROWS : 6) * TA_NV];
    int r, v, i;
    for (r = 0; r < R; r++)
        for (v = 0; v < TA_NV; v++)
            acc[r * TA_NV + v] = V_SET1(b ? b[k + r] : 0.0);
    for (i = 0; i < n_in; i++) {
        const TA_REAL *h = H + (size_t)i * TA_NB;
        ta_vd hv[TA_NV];
        for (v = 0; v < TA_NV; v++) { hv[v] = V_LOAD(h + v * TA_W); TA_KEEP(hv[v]); }
        for (r = 0; r < R; r++) {
            ta_vd u = V_SET1(W[(size_t)(k + r) * n_in + i]);
            for (v = 0; v < TA_NV; v++)
                acc[r * TA_NV + v] = V_ADD(acc[r * TA_NV + v], V_MUL(u, hv[v]));
        }
    }
    for (r = 0; r < R; r++)
        for (v = 0; v < TA_NV; v++) {
            size_t off = (size_t)(k + r) * TA_NB + v * TA_W;
            TA_FN(ta_store_act)(Z + off, S ? S + off : NULL, acc[r * TA_NV + v], code, slope);
        }
}

#ifdef TA_HALVES
/* The same R rows on the x86-64-v3 clone, one logical vector (8 samples, two ymm halves) at a
   time: R x 2 ymm accumulators, the two input halves and a broadcast fit in 16 registers for
   R <= 6, so the l pre-activations of 8 samples stay in registers while each input row is
   loaded once per row tile (instead of once per 2 rows). Every z is still b[k] + sum_i W[k, i]
   H[i, m] in increasing i with one fused multiply-add per term, so the bits are those of
   ta_aff_tile. */
TA_INL void TA_FN(ta_aff_tile_h)(const TA_REAL *W, const TA_REAL *b, int k, const int R,
                                 int n_in, const TA_REAL *H, TA_REAL *Z, int code,
                                 TA_REAL slope, TA_REAL *S)
{
    int r, v, i;
    for (v = 0; v < TA_NV; v++) {
        ta_v4d a0[TA_AFF_ROWS], a1[TA_AFF_ROWS];
        for (r = 0; r < R; r++) {
            TA_REAL bb = b ? b[k + r] : 0.0;
            a0[r] = (ta_v4d)_mm256_broadcastsd_pd(_mm_set_sd(bb));
            a1[r] = a0[r];
        }
        for (i = 0; i < n_in; i++) {
            const TA_REAL *h = H + (size_t)i * TA_NB + v * TA_W;
            ta_v4d x0 = *(const ta_v4d *)h, x1 = *(const ta_v4d *)(h + 4);
            __asm__("" : "+x"(x0), "+x"(x1));
            for (r = 0; r < R; r++) {
                ta_v4d u = (ta_v4d)_mm256_broadcastsd_pd(
                    _mm_set_sd(W[(size_t)(k + r) * n_in + i]));
                a0[r] = a0[r] + u * x0;
                a1[r] = a1[r] + u * x1;
            }
        }
        for (r = 0; r < R; r++) {
            size_t off = (size_t)(k + r) * TA_NB + v * TA_W;
            ta_vd z;
            z.a = a0[r];
            z.b = a1[r];
            TA_FN(ta_store_act)(Z + off, S ? S + off : NULL, z, code, slope);
        }
    }
}
/* Each tile height in a function of its own: inlined into the large ta_shallow, the 6-row
   tile's 15 live registers depended on the register allocation of the whole function (a
   change in the loss pass made GCC 12 spill one accumulator, whose chain then ran through a
   store and a load every iteration: the forward pass at half speed). */
#define TA_AFF_H(R) \
static __attribute__((noinline)) void TA_CAT(TA_FN(ta_aff_h), R)( \
    const TA_REAL *W, const TA_REAL *b, int k, int n_in, const TA_REAL *H, TA_REAL *Z, \
    int code, TA_REAL slope, TA_REAL *S) \
{ TA_FN(ta_aff_tile_h)(W, b, k, R, n_in, H, Z, code, slope, S); }
TA_AFF_H(6)
TA_AFF_H(5)
TA_AFF_H(4)
TA_AFF_H(3)
#undef TA_AFF_H

/* The forward pass of ta_shallow over the nb blocks of a group for the rows k .. k + R - 1
   (one call per row tile and group, not per block: the tile's setup is paid once per group),
   with the output logits' chains continued in O: O = b2 (first tile) then + w2[k + r] h_r in
   increasing r, the operations of ta_shallow's per-block output loop, so the same bits. Hg,
   Sg: the group's activations and derivatives, [blk][l][NB]. */
#define TA_AFF_G(R, TILE) \
TA_AFF_G_HEAD(R) \
{ \
    int j, v, r; \
    for (j = 0; j < nb; j++) { \
        TA_REAL *Hj = Hg + (size_t)j * l * TA_NB; \
        if (code == TA_ACT_RELU)   /* the activation's switch folded away */ \
            TA_FN(TILE)(W, b, k, R, n_in, Xg + (size_t)j * n_in * TA_NB, Hj, TA_ACT_RELU, \
                        slope, Sg ? Sg + (size_t)j * l * TA_NB : NULL); \
        else \
            TA_FN(TILE)(W, b, k, R, n_in, Xg + (size_t)j * n_in * TA_NB, Hj, code, slope, \
                        Sg ? Sg + (size_t)j * l * TA_NB : NULL); \
        for (v = 0; v < TA_NV; v++) { \
            TA_REAL *op = O + (size_t)j * TA_NB + v * TA_W; \
            ta_v4d o0, o1; \
            if (k == 0) { \
                o0 = (ta_v4d)_mm256_broadcastsd_pd(_mm_set_sd(b2 ? b2[0] : 0.0)); \
                o1 = o0; \
            } else { \
                o0 = *(const ta_v4d *)op; \
                o1 = *(const ta_v4d *)(op + 4); \
            } \
            for (r = 0; r < R; r++) { \
                const TA_REAL *h = Hj + (size_t)(k + r) * TA_NB + v * TA_W; \
                ta_v4d u = (ta_v4d)_mm256_broadcastsd_pd(_mm_set_sd(w2[k + r])); \
                o0 = o0 + u * *(const ta_v4d *)h; \
                o1 = o1 + u * *(const ta_v4d *)(h + 4); \
            } \
            *(ta_v4d *)op = o0; \
            *(ta_v4d *)(op + 4) = o1; \
        } \
    } \
}
TA_AFF_G(6, ta_aff_tile_h)
TA_AFF_G(5, ta_aff_tile_h)
TA_AFF_G(4, ta_aff_tile_h)
TA_AFF_G(3, ta_aff_tile_h)
TA_AFF_G(2, ta_aff_tile)
TA_AFF_G(1, ta_aff_tile)
#undef TA_AFF_G
#define TA_AFFG_ROWS 6
#define TA_AFF_TILE ta_aff_tile_h
#else
#define TA_AFF_TILE ta_aff_tile
#ifdef TA_AFFG_ROWS_C
/* The same group forward pass on a clone whose logical vector is one register (float32 v3:
   TA_AFFG_ROWS_C rows, 2 R accumulators) */
#define TA_AFF_G(R) \
TA_AFF_G_HEAD(R) \
{ \
    int j, v, r; \
    for (j = 0; j < nb; j++) { \
        TA_REAL *Hj = Hg + (size_t)j * l * TA_NB; \
        if (code == TA_ACT_RELU) \
            TA_FN(ta_aff_tile)(W, b, k, R, n_in, Xg + (size_t)j * n_in * TA_NB, Hj, TA_ACT_RELU, \
                               slope, Sg ? Sg + (size_t)j * l * TA_NB : NULL); \
        else \
            TA_FN(ta_aff_tile)(W, b, k, R, n_in, Xg + (size_t)j * n_in * TA_NB, Hj, code, slope, \
                               Sg ? Sg + (size_t)j * l * TA_NB : NULL); \
        for (v = 0; v < TA_NV; v++) { \
            TA_REAL *op = O + (size_t)j * TA_NB + v * TA_W; \
            ta_vd o = k == 0 ? V_SET1(b2 ? b2[0] : (TA_REAL)0) : V_LOAD(op); \
            for (r = 0; r < R; r++) \
                o = V_ADD(o, V_MUL(V_SET1(w2[k + r]), \
                                   V_LOAD(Hj + (size_t)(k + r) * TA_NB + v * TA_W))); \
            V_STORE(op, o); \
        } \
    } \
}
TA_AFF_G_ALL
#undef TA_AFF_G
#define TA_AFFG_ROWS TA_AFFG_ROWS_C
#endif
#ifdef TA_ZMM
#ifdef TA_F32
#define TA_ZV __m512
#define TA_ZPB 1        /* zmm registers per block row */
#define TA_ZBLK 4       /* blocks per forward tile */
#define TA_ZLOAD _mm512_loadu_ps
#define TA_ZSTORE _mm512_storeu_ps
#define TA_ZSET1 _mm512_set1_ps
#define TA_ZFMA _mm512_fmadd_ps
#define TA_ZRELU(z) _mm512_mask_mul_ps((z), _mm512_cmp_ps_mask((z), _mm512_setzero_ps(), \
                                   _CMP_NGT_UQ), (z), _mm512_setzero_ps())
#else
#define TA_ZV __m512d
#define TA_ZPB 2
#define TA_ZBLK 2
#define TA_ZLOAD _mm512_loadu_pd
#define TA_ZSTORE _mm512_storeu_pd
#define TA_ZSET1 _mm512_set1_pd
#define TA_ZFMA _mm512_fmadd_pd
#define TA_ZRELU(z) _mm512_mask_mul_pd((z), _mm512_cmp_pd_mask((z), _mm512_setzero_pd(), \
                                   _CMP_NGT_UQ), (z), _mm512_setzero_pd())
#endif
/* The group forward pass on the x86-64-v4 clones in native zmm vectors (TA_ZMM: TA_ZPB
   registers per block row, one of 16 floats or two of 8 doubles), two blocks per tile (R rows x
   2 blocks: 2 R TA_ZPB <= 24 accumulators, each weight broadcast once for both blocks). Every
   lane is the chain of ta_aff_tile (bias, then + W[k, i] x_i in increasing i, one fused
   multiply-add each), the activation is ta_store_act on the stored pre-activations and the
   output chains are those of ta_shallow's per-block loop, as explicit fused multiply-adds
   (GCC left one contracted chain unfused in an earlier version): the same bits as the tiles
   of the other clones. */
TA_INL void TA_FN(ta_aff_zmm)(const TA_REAL *W, const TA_REAL *b, int k, const int R,
                              const int NBK, int n_in, int l, const TA_REAL *X0, TA_REAL *Z0,
                              const int RELU, const TA_REAL *w2, const TA_REAL *b2, TA_REAL *O0)
{
    /* NBK consecutive blocks: inputs X0 + j n_in NB, activations Z0 + j l NB, outputs O0 + j NB;
       register q holds lanes (q % TA_ZPB) of block q / TA_ZPB */
#define TA_ZOFF(q) ((size_t)((q) % TA_ZPB) * (TA_NB / TA_ZPB))
    TA_ZV acc[24], u[6];
    int r, i, q;
    const int NQ = NBK * TA_ZPB;           /* registers of the tile's inputs per feature */
    /* every loop over the tile fully unrolled (TA_UNROLL): a loop GCC leaves rolled keeps acc
       in memory, a round trip through the stack per accumulator at each end of the tile */
    TA_UNROLL
    for (r = 0; r < R; r++)
        TA_UNROLL
        for (q = 0; q < NQ; q++)
            acc[r * NQ + q] = TA_ZSET1(b ? b[k + r] : (TA_REAL)0);
    TA_UNROLL2
    for (i = 0; i < n_in; i++) {
        /* the R weights of feature i in registers, then one input register at a time
           (R NQ <= 24 accumulators + R weights + 1 input <= 31 registers) */
        for (r = 0; r < R; r++) {
            u[r] = TA_ZSET1(W[(size_t)(k + r) * n_in + i]);
            TA_KEEP(u[r]);
        }
        for (q = 0; q < NQ; q++) {
            TA_ZV x = TA_ZLOAD(X0 + ((size_t)(q / TA_ZPB) * n_in + i) * TA_NB + TA_ZOFF(q));
            TA_KEEP(x);
            for (r = 0; r < R; r++)
                acc[r * NQ + q] = TA_ZFMA(u[r], x, acc[r * NQ + q]);
        }
    }
    if (RELU) {
        /* ReLU in registers, h = z * 1[z > 0] (ta_act's values: z where z > 0, else z * 0:
           -0 for z < 0, NaN for NaN and -inf; one compare and one masked multiplication),
           then the output chains o += w2[k + r] h_r in increasing r */
        TA_UNROLL
        for (r = 0; r < R * NQ; r++)
            acc[r] = TA_ZRELU(acc[r]);
        TA_UNROLL
        for (q = 0; q < NQ; q++) {
            TA_REAL *op = O0 + (size_t)(q / TA_ZPB) * TA_NB + TA_ZOFF(q);
            TA_ZV o = k == 0 ? TA_ZSET1(b2 ? b2[0] : (TA_REAL)0) : TA_ZLOAD(op);
            TA_UNROLL
            for (r = 0; r < R; r++)
                o = TA_ZFMA(TA_ZSET1(w2[k + r]), acc[r * NQ + q], o);
            TA_ZSTORE(op, o);
        }
    }
    TA_UNROLL
    for (r = 0; r < R; r++)
        TA_UNROLL
        for (q = 0; q < NQ; q++)
            TA_ZSTORE(Z0 + ((size_t)(q / TA_ZPB) * l + k + r) * TA_NB + TA_ZOFF(q),
                      acc[r * NQ + q]);
#undef TA_ZOFF
}
/* ta_aff_zmm on n = TA_ZBLK, 2 or 1 blocks (each a compile-time constant in its call) */
TA_INL void TA_FN(ta_aff_zmm_n)(const TA_REAL *W, const TA_REAL *b, int k, const int R, int n,
                                int n_in, int l, const TA_REAL *X0, TA_REAL *Z0, const int RELU,
                                const TA_REAL *w2, const TA_REAL *b2, TA_REAL *O0)
{
    if (n == TA_ZBLK) TA_FN(ta_aff_zmm)(W, b, k, R, TA_ZBLK, n_in, l, X0, Z0, RELU, w2, b2, O0);
    else if (n == 2) TA_FN(ta_aff_zmm)(W, b, k, R, 2, n_in, l, X0, Z0, RELU, w2, b2, O0);
    else TA_FN(ta_aff_zmm)(W, b, k, R, 1, n_in, l, X0, Z0, RELU, w2, b2, O0);
}
/* ta_aff_g of the other clones (same arguments, same output chains in O): TA_ZBLK blocks per
   tile while they last (4 float32 or 2 float64 blocks: 24 accumulators at R = 6), then 2, 1 */
#define TA_AFF_G(R) \
TA_AFF_G_HEAD(R) \
{ \
    int j, v, r, n; \
    const int relu = code == TA_ACT_RELU && !Sg; \
    for (j = 0; j < nb; j += n) { \
        const TA_REAL *X0 = Xg + (size_t)j * n_in * TA_NB; \
        TA_REAL *H0 = Hg + (size_t)j * l * TA_NB, *O0 = O + (size_t)j * TA_NB; \
        n = nb - j >= TA_ZBLK ? TA_ZBLK : nb - j >= 2 ? 2 : 1; \
        if (relu) \
            TA_FN(ta_aff_zmm_n)(W, b, k, R, n, n_in, l, X0, H0, 1, w2, b2, O0); \
        else \
            TA_FN(ta_aff_zmm_n)(W, b, k, R, n, n_in, l, X0, H0, 0, w2, b2, O0); \
    } \
    if (relu) \
        return; \
    for (j = 0; j < nb; j++) { \
        TA_REAL *Hj = Hg + (size_t)j * l * TA_NB; \
        TA_REAL *Sj = Sg ? Sg + (size_t)j * l * TA_NB : NULL; \
        for (v = 0; v < R * TA_NV; v++) { \
            const size_t off = (size_t)k * TA_NB + (size_t)v * TA_W; \
            TA_FN(ta_store_act)(Hj + off, Sj ? Sj + off : NULL, V_LOAD(Hj + off), code, slope); \
        } \
        for (v = 0; v < TA_ZPB; v++) { \
            TA_REAL *op = O + (size_t)j * TA_NB + (size_t)v * (TA_NB / TA_ZPB); \
            TA_ZV o = k == 0 ? TA_ZSET1(b2 ? b2[0] : (TA_REAL)0) : TA_ZLOAD(op); \
            for (r = 0; r < R; r++) \
                o = TA_ZFMA(TA_ZSET1(w2[k + r]), \
                            TA_ZLOAD(Hj + (size_t)(k + r) * TA_NB + (size_t)v * (TA_NB / TA_ZPB)), \
                            o); \
            TA_ZSTORE(op, o); \
        } \
    } \
}
TA_AFF_G_ALL
#undef TA_AFF_G
#undef TA_ZV
#undef TA_ZPB
#undef TA_ZBLK
#undef TA_ZLOAD
#undef TA_ZSTORE
#undef TA_ZSET1
#undef TA_ZFMA
#undef TA_ZRELU
#define TA_AFFG_ROWS 6
#endif
#endif

/* Z[k, :] = sigma(b[k] + sum_i W[k, i] H[i, :]) with the sum in increasing i (b may be NULL),
   S[k, :] = sigma'(...) when S is not NULL; codes as ta_store_act (tanh: use -1, then
   ta_tanh). */
TA_INL void TA_FN(ta_affine_in)(const TA_REAL *W, const TA_REAL *b, int n_out, int n_in,
                                const TA_REAL *H, TA_REAL *Z, int code, TA_REAL slope, TA_REAL *S)
{
    int k = 0;
#ifdef TA_HALVES
    /* row tiles of 3-6 rows on ymm halves (6-12 accumulators: the two FMA pipes of latency 4
       need 8 independent chains), balanced so that a rest of 1 or 2 rows is never left
       behind a 6-row tile (7 = 4 + 3, 8 = 4 + 4, 9 = 5 + 4); 1 or 2 rows in all: the pair
       tile (4 accumulators per row over the whole block). Each R is a constant per call. */
    while (k < n_out) {
        const int r = n_out - k;
        const int R = r >= 10 ? 6 : r >= 7 ? (r + 1) / 2 : r;
        if (R == 6) TA_CAT(TA_FN(ta_aff_h), 6)(W, b, k, n_in, H, Z, code, slope, S);
        else if (R == 5) TA_CAT(TA_FN(ta_aff_h), 5)(W, b, k, n_in, H, Z, code, slope, S);
        else if (R == 4) TA_CAT(TA_FN(ta_aff_h), 4)(W, b, k, n_in, H, Z, code, slope, S);
        else if (R == 3) TA_CAT(TA_FN(ta_aff_h), 3)(W, b, k, n_in, H, Z, code, slope, S);
        else if (R == 2) TA_FN(ta_aff_tile)(W, b, k, 2, n_in, H, Z, code, slope, S);
        else TA_FN(ta_aff_tile)(W, b, k, 1, n_in, H, Z, code, slope, S);
        k += R;
    }
#else
    /* tiles of TA_AFF_ROWS rows, the last rows balanced in the same way (with 6-row tiles:
       9 = 5 + 4, not 6 + 1 + 1 + 1: a 1-row tile has only TA_NV accumulators) */
    while (k < n_out) {
        const int r = n_out - k;
        int R = r >= TA_AFF_ROWS + 4 ? TA_AFF_ROWS : r > TA_AFF_ROWS ? (r + 1) / 2 : r;
        if (R > TA_AFF_ROWS) R = TA_AFF_ROWS;
        if (R >= 6 && TA_AFF_ROWS >= 6) {
            TA_FN(ta_aff_tile)(W, b, k, TA_AFF_ROWS >= 6 ? 6 : 1, n_in, H, Z, code, slope, S);
            R = TA_AFF_ROWS >= 6 ? 6 : 1;
        } else if (R == 5) TA_FN(ta_aff_tile)(W, b, k, 5 <= TA_AFF_ROWS ? 5 : 1, n_in, H, Z, code, slope, S);
        else if (R == 4) TA_FN(ta_aff_tile)(W, b, k, 4 <= TA_AFF_ROWS ? 4 : 1, n_in, H, Z, code, slope, S);
        else if (R == 3) TA_FN(ta_aff_tile)(W, b, k, 3 <= TA_AFF_ROWS ? 3 : 1, n_in, H, Z, code, slope, S);
        else if (R == 2) TA_FN(ta_aff_tile)(W, b, k, 2, n_in, H, Z, code, slope, S);
        else { R = 1; TA_FN(ta_aff_tile)(W, b, k, 1, n_in, H, Z, code, slope, S); }
        k += R;
    }
#endif
}

static void TA_FN(ta_affine)(const TA_REAL *W, const TA_REAL *b, int n_out, int n_in,
                             const TA_REAL *H, TA_REAL *Z, int code, TA_REAL slope, TA_REAL *S)
{
    TA_FN(ta_affine_in)(W, b, n_out, n_in, H, Z, code, slope, S);
}

/* Z = sigma(u * Za + t * Zb) on n values (a multiple of TA_W): the first-layer activations at
   a point of a segment from the pre-activations at its ends. Codes as ta_affine. */
static void TA_FN(ta_mix)(const TA_REAL *Za, const TA_REAL *Zb, TA_REAL u, TA_REAL t, int n,
                          int code, TA_REAL slope, TA_REAL *Z)
{
    const ta_vd uu = V_SET1(u), tt = V_SET1(t);
    int m;
    for (m = 0; m < n; m += TA_W)
        TA_FN(ta_store_act)(Z + m, NULL,
                            V_ADD(V_ADD(V_SET1(0.0), V_MUL(uu, V_LOAD(Za + m))),
                                  V_MUL(tt, V_LOAD(Zb + m))),
                            code, slope);
}

/* tanh, the activation without a vectorized form: in place Z -> tanh(Z) on n values (libm),
   S = 1 - tanh(Z)^2 when S is not NULL. Returns 1 when some Z is not finite. */
static int TA_FN(ta_tanh)(TA_REAL *Z, TA_REAL *S, int n)
{
    int m, nonfinite = 0;
    for (m = 0; m < n; m++) {
        TA_REAL z = Z[m], h = tanh(z);
        nonfinite |= !(z - z == 0.0);
        Z[m] = h;
        if (S) S[m] = 1.0 - h * h;
    }
    return nonfinite;
}

/* Weight-gradient lanes of one layer over one block:
   gacc[(k n_in + i) TA_W + q] += D[k, q] H[i, q], then += D[k, 8 + q] H[i, 8 + q],
   bacc[k TA_W + q] += D[k, q] + D[k, 8 + q]  (bacc may be NULL). */
static void TA_FN(ta_wgrad)(const TA_REAL *D, const TA_REAL *H, int n_out, int n_in,
                            TA_REAL *gacc, TA_REAL *bacc)
{
    int k, i;
    for (k = 0; k < n_out; k++) {
        const TA_REAL *d0 = D + (size_t)k * TA_NB;
        ta_vd x0 = V_LOAD(d0), x1 = V_LOAD(d0 + TA_W);
        TA_REAL *g0 = gacc + (size_t)k * n_in * TA_W;
        if (bacc)
            V_STORE(bacc + TA_W * k, V_ADD(V_LOAD(bacc + TA_W * k), V_ADD(x0, x1)));
        for (i = 0; i < n_in; i++) {
            const TA_REAL *h = H + (size_t)i * TA_NB;
            ta_vd p = V_ADD(V_LOAD(g0 + TA_W * i), V_MUL(x0, V_LOAD(h)));
            V_STORE(g0 + TA_W * i, V_ADD(p, V_MUL(x1, V_LOAD(h + TA_W))));
        }
    }
}

/* Back-propagate through one layer: P[i, :] = S[i, :] * sum_k W[k, i] D[k, :]. */
static void TA_FN(ta_backprop)(const TA_REAL *W, const TA_REAL *D, const TA_REAL *S, int n_out,
                               int n_in, TA_REAL *P)
{
    int i = 0, k, v;
    for (; i + 1 < n_in; i += 2) {
        ta_vd a[TA_NV], c[TA_NV];
        for (v = 0; v < TA_NV; v++) a[v] = c[v] = V_SET1(0.0);
        for (k = 0; k < n_out; k++) {
            const TA_REAL *d = D + (size_t)k * TA_NB;
            ta_vd u = V_SET1(W[(size_t)k * n_in + i]), w = V_SET1(W[(size_t)k * n_in + i + 1]);
            for (v = 0; v < TA_NV; v++) {
                ta_vd dv = V_LOAD(d + v * TA_W);
                a[v] = V_ADD(a[v], V_MUL(u, dv));
                c[v] = V_ADD(c[v], V_MUL(w, dv));
            }
        }
        for (v = 0; v < TA_NV; v++) {
            size_t o = (size_t)i * TA_NB + v * TA_W;
            V_STORE(P + o, V_MUL(V_LOAD(S + o), a[v]));
            V_STORE(P + o + TA_NB, V_MUL(V_LOAD(S + o + TA_NB), c[v]));
        }
    }
    if (i < n_in) {
        ta_vd a[TA_NV];
        for (v = 0; v < TA_NV; v++) a[v] = V_SET1(0.0);
        for (k = 0; k < n_out; k++) {
            const TA_REAL *d = D + (size_t)k * TA_NB;
            ta_vd u = V_SET1(W[(size_t)k * n_in + i]);
            for (v = 0; v < TA_NV; v++) a[v] = V_ADD(a[v], V_MUL(u, V_LOAD(d + v * TA_W)));
        }
        for (v = 0; v < TA_NV; v++) {
            size_t o = (size_t)i * TA_NB + v * TA_W;
            V_STORE(P + o, V_MUL(V_LOAD(S + o), a[v]));
        }
    }
}

/* Loss of the TA_NB samples of one output row held in TA_NV vectors (TA_LOSS_MSE, TA_LOSS_L1,
   TA_LOSS_BCE, TA_LOSS_MSE_SIGMOID, TA_LOSS_L1_SIGMOID of ext/codes.h): g = scale * dloss/do (0 where not valid; only when need_grad); the valid per-entry
   losses are added to the lane sums *acc when need_value. Returns the mask of non-finite valid
   outputs. BCE: e = exp(-|o|), the sigmoid 1 / (1 + e) (correctly rounded division, for the
   gradient only) and log1p(e) = 2 atanh(e / (2 + e)) with 1 / (2 + e) from Newton steps (no
   division in a loss evaluation). */
TA_INL ta_vi TA_FN(ta_lossv)(int code, const ta_vd *o, const ta_vd *y, const ta_vi *valid,
                             TA_REAL scale, int need_value, int need_grad, ta_vd *g, TA_LACC *acc)
{
    const ta_vd zero = V_SET1(0.0), one = V_SET1(1.0), two = V_SET1(2.0), sc = V_SET1(scale);
    ta_vd r, s;
    ta_vi bad = VI_SET1(0);
    int m;
    for (m = 0; m < TA_NV; m++) {
        bad = VI_OR(bad, VI_AND(valid[m], V_NONFINITE(o[m])));
        g[m] = zero;
    }
    if (code == TA_LOSS_MSE_SIGMOID || code == TA_LOSS_L1_SIGMOID) {
        /* sigmoid output unit: s = 1 / (1 + e) or e / (1 + e) with e = exp(-|o|) (as the
           hidden sigmoid), ds/do = e / (1 + e)^2; loss on s, gradient chained through ds/do */
        for (m = 0; m < TA_NV; m++) {
            ta_vd e = TA_FN(ta_vexpn)(o[m]);
            ta_vd q = V_DIV(one, V_ADD(one, e));
            ta_vd sg = V_SEL(V_GE(o[m], zero), q, V_MUL(e, q));
            ta_vd ds = V_MUL(V_MUL(e, q), q);
            r = V_SUB(sg, y[m]);
            if (code == TA_LOSS_MSE_SIGMOID) {
                if (need_grad) g[m] = V_AND(valid[m], V_MUL(V_MUL(V_MUL(two, r), ds), sc));
                if (need_value) *acc = TA_LACC_ADD(*acc, V_AND(valid[m], V_MUL(r, r)));
            } else {
                s = V_SUB(V_AND(V_GT(r, zero), one), V_AND(V_LT(r, zero), one));
                if (need_grad) g[m] = V_AND(valid[m], V_MUL(V_MUL(s, ds), sc));
                if (need_value) *acc = TA_LACC_ADD(*acc, V_AND(valid[m], V_ABS(r)));
            }
        }
    } else if (code == TA_LOSS_MSE) {
        for (m = 0; m < TA_NV; m++) {
            r = V_SUB(o[m], y[m]);
            if (need_grad) g[m] = V_AND(valid[m], V_MUL(V_MUL(two, r), sc));
            if (need_value) *acc = TA_LACC_ADD(*acc, V_AND(valid[m], V_MUL(r, r)));
        }
    } else if (code == TA_LOSS_L1) {
        for (m = 0; m < TA_NV; m++) {
            r = V_SUB(o[m], y[m]);
            s = V_SUB(V_AND(V_GT(r, zero), one), V_AND(V_LT(r, zero), one));
            if (need_grad) g[m] = V_AND(valid[m], V_MUL(s, sc));
            if (need_value) *acc = TA_LACC_ADD(*acc, V_AND(valid[m], V_ABS(r)));
        }
    } else {
        for (m = 0; m < TA_NV; m++) {
            ta_vd e = TA_FN(ta_vexpn)(o[m]);
            if (need_grad) {
                /* the sigmoid flushed to 0 where its product with scale would be subnormal
                   (its difference with y is then y's: the bits change only where the
                   gradient would be subnormal) */
                r = V_DIV(one, V_ADD(one, e));
                s = V_SEL(V_GE(o[m], zero), r, V_MUL(e, r));
                s = V_AND(V_GE(s, V_SET1(TA_REAL_MIN / scale)), s);
                g[m] = V_AND(valid[m], V_MUL(V_SUB(s, y[m]), sc));
            }
            if (need_value) {
                ta_vd lv = V_SUB(V_AND(V_GT(o[m], zero), o[m]), V_MUL(o[m], y[m]));
#ifndef TA_F32
                *acc = TA_LACC_ADD(*acc, V_AND(valid[m], V_ADD(lv, TA_FN(ta_vlog1p01)(e))));
#else
                ta_vd sq = V_MUL(e, TA_FN(ta_vrecip23)(V_ADD(two, e)));
                *acc = TA_LACC_ADD(*acc, V_AND(valid[m], V_ADD(lv, TA_FN(ta_v2atanh)(sq))));
#endif
            }
        }
    }
    return bad;
}

TA_INL void TA_FN(ta_valid)(int n_valid, ta_vi *valid)
{
    static const TA_REAL iota[TA_W] = {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0};
    const ta_vd lanes = V_LOAD(iota), nval = V_SET1((TA_REAL)n_valid);
    int m;
    for (m = 0; m < TA_NV; m++)
        valid[m] = V_LT(V_ADD(V_SET1((TA_REAL)(TA_W * m)), lanes), nval);
}

/* Loss of one block of outputs O (e x NB) against targets Y (e x NB), of which the first
   n_valid samples are real: G = scale * dloss/dO (0 on padding), and the sum of the per-entry
   losses of the valid samples into *value when need_value (summed in TA_W lanes, reduced by
   ta_sum_lanes). Codes (ext/codes.h): TA_LOSS_MSE, TA_LOSS_L1, TA_LOSS_BCE (with logits), TA_LOSS_CE (with logits, per
   sample over the e outputs). Returns 1 when some output is not finite. */
static int TA_FN(ta_loss_block)(int code, const TA_REAL *O, const TA_REAL *Y, int e, int n_valid,
                                TA_REAL scale, int need_value, TA_REAL *G, double *value)
{
    ta_vi bad = VI_SET1(0), valid[TA_NV];
    TA_LACC acc = TA_LACC_ZERO;
    int j, m;
    if (code == TA_LOSS_CE) {
        int nonfinite = 0;
        double total = 0.0;
        for (j = 0; j < e * TA_NB; j++) G[j] = 0.0;
        for (m = 0; m < n_valid; m++) {
            TA_REAL mx = O[m], se = 0.0, sy = 0.0, lse, v = 0.0;
            for (j = 0; j < e; j++) {
                TA_REAL o = O[j * TA_NB + m];
                nonfinite |= !(o - o == 0.0);
                if (o > mx) mx = o;
            }
            for (j = 0; j < e; j++) { se += exp(O[j * TA_NB + m] - mx); sy += Y[j * TA_NB + m]; }
            lse = log(se);
            for (j = 0; j < e; j++) {
                TA_REAL lp = (O[j * TA_NB + m] - mx) - lse, y = Y[j * TA_NB + m];
                v -= y * lp;
                G[j * TA_NB + m] = (exp(lp) * sy - y) * scale;
            }
            total += v;
        }
        if (need_value) *value = total;
        return nonfinite;
    }
    TA_FN(ta_valid)(n_valid, valid);
    for (j = 0; j < e; j++) {
        ta_vd o[TA_NV], y[TA_NV], g[TA_NV];
        for (m = 0; m < TA_NV; m++) {
            o[m] = V_LOAD(O + (size_t)j * TA_NB + TA_W * m);
            y[m] = V_LOAD(Y + (size_t)j * TA_NB + TA_W * m);
        }
        bad = VI_OR(bad, TA_FN(ta_lossv)(code, o, y, valid, scale, need_value, 1, g, &acc));
        for (m = 0; m < TA_NV; m++)
            V_STORE(G + (size_t)j * TA_NB + TA_W * m, g[m]);
    }
    if (need_value)
        *value = TA_FN(ta_lacc_sum)(acc);
    return V_ANY(bad);
}

/* bce accuracy lanes: valid samples with (logit > 0) == (target > 0.5) */
TA_INL ta_vd TA_FN(ta_hitv)(const ta_vd *o, const ta_vd *y, const ta_vi *valid)
{
    ta_vd cnt = V_SET1(0.0);
    int m;
    for (m = 0; m < TA_NV; m++) {
        ta_vi wrong = VI_XOR(V_GT(o[m], V_SET1(0.0)), V_GT(y[m], V_SET1(0.5)));
        cnt = V_ADD(cnt, V_AND(VI_ANDNOT(wrong, valid[m]), V_SET1(1.0)));
    }
    return cnt;
}

/* The output layer of a network with one output, fused with the loss (elementwise codes) and its
   backward pass, for one block: o = b + sum_i w[i] H[i] (stored in O), the loss gradient g,
   the lanes of the output-layer gradient (gw[TA_W i + q], gb[q]) and the error of the hidden
   layer D[i] = S[i] * (w[i] g). need_grad = 0 skips the backward part (S, gw, gb, D unused).
   *hits (when not NULL) gets the number of valid samples with (o > 0) == (y > 0.5). Returns 1
   when some valid output is not finite. */
static int TA_FN(ta_head1)(const TA_REAL *w, const TA_REAL *b, int n_in, const TA_REAL *H,
                           const TA_REAL *S, const TA_REAL *Y, int n_valid, TA_REAL scale,
                           int code, int need_value, int need_grad, TA_REAL *O, TA_REAL *gw,
                           TA_REAL *gb, TA_REAL *D, double *value, double *hits)
{
    ta_vd o[TA_NV], y[TA_NV], g[TA_NV];
    TA_LACC acc = TA_LACC_ZERO;
    ta_vi valid[TA_NV], bad;
    TA_REAL lanes[TA_W];
    int i, m;
    for (m = 0; m < TA_NV; m++)
        o[m] = V_SET1(b ? b[0] : 0.0);
    for (i = 0; i < n_in; i++) {
        const TA_REAL *h = H + (size_t)i * TA_NB;
        ta_vd u = V_SET1(w[i]);
        for (m = 0; m < TA_NV; m++) o[m] = V_ADD(o[m], V_MUL(u, V_LOAD(h + TA_W * m)));
    }
    TA_FN(ta_valid)(n_valid, valid);
    for (m = 0; m < TA_NV; m++) {
        V_STORE(O + TA_W * m, o[m]);
        y[m] = V_LOAD(Y + TA_W * m);
    }
    bad = TA_FN(ta_lossv)(code, o, y, valid, scale, need_value, need_grad, g, &acc);
    if (need_value) {
        *value = TA_FN(ta_lacc_sum)(acc);
    }
    if (hits) {
        V_STORE(lanes, TA_FN(ta_hitv)(o, y, valid));
        *hits = TA_SUM_LANES(lanes);
    }
    if (!need_grad)
        return V_ANY(bad);
    if (gb)
        V_STORE(gb, V_ADD(V_LOAD(gb), V_ADD(g[0], g[1])));
    for (i = 0; i < n_in; i++) {
        const TA_REAL *h = H + (size_t)i * TA_NB, *s = S + (size_t)i * TA_NB;
        TA_REAL *d = D + (size_t)i * TA_NB;
        ta_vd u = V_SET1(w[i]);
        ta_vd p = V_ADD(V_LOAD(gw + TA_W * i), V_MUL(g[0], V_LOAD(h)));
        V_STORE(gw + TA_W * i, V_ADD(p, V_MUL(g[1], V_LOAD(h + TA_W))));
        for (m = 0; m < TA_NV; m++)
            V_STORE(d + TA_W * m,
                    V_MUL(V_LOAD(s + TA_W * m), V_ADD(V_SET1(0.0), V_MUL(u, g[m]))));
    }
    return V_ANY(bad);
}

/* First-layer weight gradient over a group of blocks: the errors Dall[blk][k][NB] against the
   inputs Xb[blk][i][NB]. A tile of kt rows x it features keeps its lane sums (sample m of a
   block in lane m % TA_W) in registers through all blocks, in increasing block and sample
   order; the lanes are added to gacc[TA_W (k n_in + i) + q], the bias lanes to bacc[TA_W k + q]. */
TA_INL void TA_FN(ta_wg_tile)(const TA_REAL *Dall, const TA_REAL *Xb, int nblk, int n_out,
                              int n_in, int k, int i, const int kt, const int it, TA_REAL *gacc)
{
    ta_vd acc[TA_WG_KT * TA_WG_IT];
    int a, c, blk, v;
    for (a = 0; a < kt * it; a++) acc[a] = V_SET1(0.0);
    for (blk = 0; blk < nblk; blk++) {
        const TA_REAL *d = Dall + ((size_t)blk * n_out + k) * TA_NB;
        const TA_REAL *x = Xb + ((size_t)blk * n_in + i) * TA_NB;
        for (v = 0; v < TA_NV; v++) {
            ta_vd dv[TA_WG_KT];
            for (a = 0; a < kt; a++) { dv[a] = V_LOAD(d + a * TA_NB + TA_W * v); TA_KEEP(dv[a]); }
            for (c = 0; c < it; c++) {
                ta_vd xv = V_LOAD(x + c * TA_NB + TA_W * v);
                TA_KEEP(xv);
                for (a = 0; a < kt; a++)
                    acc[a * it + c] = V_ADD(acc[a * it + c], V_MUL(dv[a], xv));
            }
        }
    }
    for (a = 0; a < kt; a++)
        for (c = 0; c < it; c++) {
            TA_REAL *g = gacc + TA_W * ((size_t)(k + a) * n_in + i + c);
            V_STORE(g, V_ADD(V_LOAD(g), acc[a * it + c]));
        }
}

#ifdef TA_HALVES
/* ta_wg_tile on the x86-64-v3 clone: lanes 0-3 (the first ymm half of each logical vector),
   then lanes 4-7, each with kt x it one-ymm accumulators, the kt error halves and one input
   half in registers (9 + 3 + 1 of the 16 ymm for 3 x 3: no spill; a pair-of-ymm tile of the
   same size spilled an accumulator, whose dependency chain then ran through memory). Each lane
   adds the same products in the same order as ta_wg_tile: the same bits. Tiles of 1 or 2
   rows are 4 features wide (8 accumulators for the latency of the FMA pipes). */
TA_INL void TA_FN(ta_wg_tile_h)(const TA_REAL *Dall, const TA_REAL *Xb, int nblk, int n_out,
                                int n_in, int k, int i, const int kt, const int it,
                                TA_REAL *gacc)
{
    int a, c, blk, v, half;
    for (half = 0; half < 2; half++) {
        ta_v4d acc[TA_WG_KT * TA_WG_IT];    /* at most 3 x 3 or 2 x 4 used */
        for (a = 0; a < kt * it; a++) acc[a] = (ta_v4d){0.0, 0.0, 0.0, 0.0};
        for (blk = 0; blk < nblk; blk++) {
            const TA_REAL *d = Dall + ((size_t)blk * n_out + k) * TA_NB + 4 * half;
            const TA_REAL *x = Xb + ((size_t)blk * n_in + i) * TA_NB + 4 * half;
            for (v = 0; v < TA_NV; v++) {
                ta_v4d dv[TA_WG_KT];
                for (a = 0; a < kt; a++) {
                    dv[a] = *(const ta_v4d *)(d + a * TA_NB + TA_W * v);
                    __asm__("" : "+x"(dv[a]));
                }
                for (c = 0; c < it; c++) {
                    ta_v4d xv = *(const ta_v4d *)(x + c * TA_NB + TA_W * v);
                    __asm__("" : "+x"(xv));
                    for (a = 0; a < kt; a++)
                        acc[a * it + c] = acc[a * it + c] + dv[a] * xv;
                }
            }
        }
        for (a = 0; a < kt; a++)
            for (c = 0; c < it; c++) {
                TA_REAL *g = gacc + TA_W * ((size_t)(k + a) * n_in + i + c) + 4 * half;
                *(ta_v4d *)g = *(const ta_v4d *)g + acc[a * it + c];
            }
    }
}
#define TA_WG_TILE ta_wg_tile_h
#else
#define TA_WG_TILE ta_wg_tile
#endif

TA_INL void TA_FN(ta_wgrad_all_in)(const TA_REAL *Dall, const TA_REAL *Xb, int nblk, int n_out,
                                   int n_in, TA_REAL *gacc, TA_REAL *bacc)
{
    int k, i, blk, kt, it, v, it_max = TA_WG_IT;
    for (k = 0; k < n_out; k += kt) {
        kt = n_out - k < TA_WG_KT ? n_out - k : TA_WG_KT;
#ifdef TA_HALVES
        /* 3 x 3 tiles; 4 rows as 2 + 2, and tiles of 1 or 2 rows 4 features wide (8 chains) */
        if (n_out - k == 4) kt = 2;
        it_max = kt <= 2 ? 4 : 3;
#endif
        for (i = 0; i < n_in; i += it_max) {
            it = n_in - i < it_max ? n_in - i : it_max;
            switch (kt * 8 + it) {
#define TA_WGT(A, B) case A * 8 + B: \
                if (A <= TA_WG_KT && B <= TA_WG_IT) \
                    TA_FN(TA_WG_TILE)(Dall, Xb, nblk, n_out, n_in, k, i, \
                                      A <= TA_WG_KT ? A : 1, B <= TA_WG_IT ? B : 1, gacc); \
                break;
            TA_TILE_SHAPES(TA_WGT)
#undef TA_WGT
            default: break;
            }
        }
    }
    if (bacc)
        for (k = 0; k < n_out; k++) {
            ta_vd bs[TA_NV];
            for (v = 0; v < TA_NV; v++) bs[v] = V_SET1(0.0);
            for (blk = 0; blk < nblk; blk++) {
                const TA_REAL *d = Dall + ((size_t)blk * n_out + k) * TA_NB;
                for (v = 0; v < TA_NV; v++) bs[v] = V_ADD(bs[v], V_LOAD(d + TA_W * v));
            }
            V_STORE(bacc + TA_W * k, V_ADD(V_LOAD(bacc + TA_W * k), V_ADD(bs[0], bs[1])));
        }
}

static void TA_FN(ta_wgrad_all)(const TA_REAL *Dall, const TA_REAL *Xb, int nblk, int n_out,
                                int n_in, TA_REAL *gacc, TA_REAL *bacc)
{
    TA_FN(ta_wgrad_all_in)(Dall, Xb, nblk, n_out, n_in, gacc, bacc);
}

/* First-layer weight gradient in samples x features panels (ta_shallow with a->Xp): for each
   neuron k and feature i (feature d the bias' constant 1), G1[k * rowlen + i] continues the
   chain G1 += D[n, k] * X[n, i] over the samples n of a group in increasing order, one fused
   multiply-add per sample. A tile of R neurons x T panels keeps its R x T logical vectors
   (8 features each) in registers through the group: per sample, T panel rows are loaded and
   each of the R errors is broadcast once (no lane sums, no reduction). Every entry is a
   single chain whatever the tile or clone: tiles and clones change only which chains run
   together, so all clones with FMA give the same bits. Dg is the group's errors
   [blk][k][NB], Xg the group's first sample in the panels (panel t of its sample n at
   Xg + TA_PAN(t, n, pst): the float32 panels are stored in pairs, see ta_n_panels_f). */
#ifdef TA_F32
#define TA_NPAN(d) ta_n_panels_f(d)
#define TA_PAN(t, n, pst) TA_PAN_OFF_F(t, n, pst)
#define TA_PSAMP 16                     /* items from one sample to the next in the panels */
#else
#define TA_NPAN(d) ta_n_panels(d)
#define TA_PAN(t, n, pst) TA_PAN_OFF(t, n, pst)
#define TA_PSAMP TA_W
#endif
#ifdef TA_WGP_ROWS_C
#define TA_WGP_ROWS TA_WGP_ROWS_C       /* rows of a tile */
#else
#define TA_WGP_ROWS TA_AFF_ROWS
#endif
#ifdef TA_WGP_ACC_C
#define TA_WGP_ACC TA_WGP_ACC_C
#elif defined(TA_Z16)
#define TA_WGP_ACC 24                   /* 8-float vectors: 12 zmm of ta_wgp_z16 */
#elif defined(TA_HALVES)
#define TA_WGP_ACC 6                    /* accumulators (logical vectors) of a tile */
#elif TA_AFF_ROWS <= 2 && defined(TA_F32)
#define TA_WGP_ACC 4
#elif TA_AFF_ROWS <= 2
#define TA_WGP_ACC 2
#else
#define TA_WGP_ACC (2 * TA_AFF_ROWS)
#endif
TA_INL void TA_FN(ta_wgp_tile)(const TA_REAL *Dg, const TA_REAL *Xg, size_t pst, int nblk,
                               int n_out, int k, int t, const int R, const int T,
                               TA_REAL *G1, int rowlen)
{
    ta_vd acc[TA_WGP_ACC];
    int r, p, blk, m;
    for (r = 0; r < R; r++)
        for (p = 0; p < T; p++)
            acc[r * T + p] = V_LOAD(G1 + (size_t)(k + r) * rowlen + (size_t)(t + p) * TA_W);
    for (blk = 0; blk < nblk; blk++) {
        const TA_REAL *dd = Dg + ((size_t)blk * n_out + k) * TA_NB;
        TA_UNROLL2
        for (m = 0; m < TA_NB; m++) {
            ta_vd xv[TA_WGP_ACC];
            for (p = 0; p < T; p++) {
                xv[p] = V_LOAD(Xg + TA_PAN(t + p, (size_t)blk * TA_NB + m, pst));
                TA_KEEP(xv[p]);
            }
            for (r = 0; r < R; r++) {
                ta_vd u = V_SET1(dd[r * TA_NB + m]);
                for (p = 0; p < T; p++)
                    acc[r * T + p] = V_ADD(acc[r * T + p], V_MUL(u, xv[p]));
            }
        }
    }
    for (r = 0; r < R; r++)
        for (p = 0; p < T; p++)
            V_STORE(G1 + (size_t)(k + r) * rowlen + (size_t)(t + p) * TA_W, acc[r * T + p]);
}

#ifdef TA_HALVES
/* ta_wgp_tile on the x86-64-v3 clone with single-ymm accumulators (each logical vector in two
   halves, 2 R T + 2 T + 1 <= 16 registers: no spill); the same chains, the same bits. */
TA_INL void TA_FN(ta_wgp_tile_h)(const TA_REAL *Dg, const TA_REAL *Xg, size_t pst, int nblk,
                                 int n_out, int k, int t, const int R, const int T,
                                 TA_REAL *G1, int rowlen)
{
    ta_v4d a0[6], a1[6];
    int r, p, blk, m;
    for (r = 0; r < R; r++)
        for (p = 0; p < T; p++) {
            const TA_REAL *g = G1 + (size_t)(k + r) * rowlen + (size_t)(t + p) * TA_W;
            a0[r * T + p] = *(const ta_v4d *)g;
            a1[r * T + p] = *(const ta_v4d *)(g + 4);
        }
    for (blk = 0; blk < nblk; blk++) {
        const TA_REAL *dd = Dg + ((size_t)blk * n_out + k) * TA_NB;
        const TA_REAL *x = Xg + ((size_t)t * pst + (size_t)blk * TA_NB) * TA_W;
        for (m = 0; m < TA_NB; m++) {
            ta_v4d x0[4], x1[4];
            for (p = 0; p < T; p++) {
                x0[p] = *(const ta_v4d *)(x + ((size_t)p * pst + m) * TA_W);
                x1[p] = *(const ta_v4d *)(x + ((size_t)p * pst + m) * TA_W + 4);
                __asm__("" : "+x"(x0[p]), "+x"(x1[p]));
            }
            for (r = 0; r < R; r++) {
                ta_v4d u = (ta_v4d)_mm256_broadcast_sd(dd + r * TA_NB + m);
                for (p = 0; p < T; p++) {
                    a0[r * T + p] = a0[r * T + p] + u * x0[p];
                    a1[r * T + p] = a1[r * T + p] + u * x1[p];
                }
            }
        }
    }
    for (r = 0; r < R; r++)
        for (p = 0; p < T; p++) {
            TA_REAL *g = G1 + (size_t)(k + r) * rowlen + (size_t)(t + p) * TA_W;
            *(ta_v4d *)g = a0[r * T + p];
            *(ta_v4d *)(g + 4) = a1[r * T + p];
        }
}
/* (R, T) tiles of at most 6 ymm-pair accumulators with the inputs held: 6x1 5x1 4x1 3x1 2x2
   1x3 */
#define TA_WGP_TMAX(R) ((R) >= 3 ? 1 : (R) == 2 ? 2 : 3)
#define TA_WGP_TILE ta_wgp_tile_h
#elif defined(TA_Z16)
/* ta_wgp_tile on the float32 x86-64-v4 clone (TA_Z16): two panels in one zmm register (panel
   t + 2q in the low half, t + 2q + 1 in the high half, t even: one stored pair, one load; G1
   holds their chains side by side), an odd last panel zero-extended (its high half is never
   stored). R x ceil(T / 2) <= 12 accumulators. The same chains, the same bits. */
TA_INL void TA_FN(ta_wgp_z16)(const float *Dg, const float *Xg, size_t pst, int nblk,
                              int n_out, int k, int t, const int R, const int T,
                              float *G1, int rowlen)
{
    const int Q = (T + 1) / 2;
    __m512 acc[12];
    int r, q, blk, m;
    for (r = 0; r < R; r++)
        for (q = 0; q < Q; q++) {
            const float *g = G1 + (size_t)(k + r) * rowlen + (size_t)(t + 2 * q) * TA_W;
            acc[r * Q + q] = 2 * q + 1 < T ? _mm512_loadu_ps(g)
                                           : _mm512_zextps256_ps512(_mm256_loadu_ps(g));
        }
    for (blk = 0; blk < nblk; blk++) {
        const float *dd = Dg + ((size_t)blk * n_out + k) * TA_NB;
        for (m = 0; m < TA_NB; m++) {
            __m512 xv[2];
            for (q = 0; q < Q; q++) {
                const float *xp = Xg + TA_PAN(t + 2 * q, (size_t)blk * TA_NB + m, pst);
                xv[q] = 2 * q + 1 < T ? _mm512_loadu_ps(xp)
                                      : _mm512_zextps256_ps512(_mm256_loadu_ps(xp));
                TA_KEEP(xv[q]);
            }
            for (r = 0; r < R; r++) {
                __m512 u = _mm512_set1_ps(dd[r * TA_NB + m]);
                for (q = 0; q < Q; q++)
                    acc[r * Q + q] = _mm512_fmadd_ps(u, xv[q], acc[r * Q + q]);
            }
        }
    }
    for (r = 0; r < R; r++)
        for (q = 0; q < Q; q++) {
            float *g = G1 + (size_t)(k + r) * rowlen + (size_t)(t + 2 * q) * TA_W;
            if (2 * q + 1 < T) _mm512_storeu_ps(g, acc[r * Q + q]);
            else _mm256_storeu_ps(g, _mm512_castps512_ps256(acc[r * Q + q]));
        }
}
#define TA_WGP_TMAX(R) 4
#define TA_WGP_TILE ta_wgp_z16
#else
#define TA_WGP_TMAX(R) (TA_WGP_ACC / (R) < 1 ? 1 : TA_WGP_ACC / (R) > 4 ? 4 : TA_WGP_ACC / (R))
#define TA_WGP_TILE ta_wgp_tile
#endif

/* ta_wgp_tile over all neurons and panels of a group: row tiles of at most TA_WGP_ROWS rows
   (balanced as the forward tiles: 7 = 4 + 3, 9 = 5 + 4), panel tiles of TA_WGP_TMAX(R). */
static void TA_FN(ta_wgrad_panels)(const TA_REAL *Dg, const TA_REAL *Xg, size_t pst, int nblk,
                                   int n_out, int d, TA_REAL *G1)
{
    const int np = TA_NPAN(d), rowlen = np * TA_W;
    int k = 0, t, R, T;
    while (k < n_out) {
        const int rest = n_out - k;
        R = rest >= TA_WGP_ROWS + 4 ? TA_WGP_ROWS : rest > TA_WGP_ROWS ? (rest + 1) / 2 : rest;
        if (R > TA_WGP_ROWS) R = TA_WGP_ROWS;
        /* panel tiles of equal width (4 panels as 2 + 2, not 3 + 1: a 1-panel tile of few
           rows has too few chains for the FMA latency) */
        const int ntile = (np + TA_WGP_TMAX(R) - 1) / TA_WGP_TMAX(R);
#ifdef TA_Z16
        /* tiles of whole stored pairs (np is even): each starts at an even panel */
        const int Tw = ((np + ntile - 1) / ntile + 1) / 2 * 2;
#else
        const int Tw = (np + ntile - 1) / ntile;
#endif
        for (t = 0; t < np; t += T) {
            T = np - t < Tw ? np - t : Tw;
            switch (R * 8 + T) {
#define TA_WGPT(A, B) case A * 8 + B: \
                if (A <= TA_WGP_ROWS && A * B <= TA_WGP_ACC) \
                    TA_FN(TA_WGP_TILE)(Dg, Xg, pst, nblk, n_out, k, t, \
                                       A <= TA_WGP_ROWS ? A : 1, A * B <= TA_WGP_ACC ? B : 1, \
                                       G1, rowlen); \
                break;
            TA_TILE_SHAPES(TA_WGPT)
#undef TA_WGPT
            default: break;
            }
        }
        k += R;
    }
}

/* Interpolation of a network with one hidden layer and one output (elementwise loss,
   vectorized activation), one block: Za, Zb are the first-layer pre-activations (l x NB) at the
   ends of a segment; for each of the tc points k, with u = 1 - ts[k]: hidden activations
   sigma(u Za + ts[k] Zb), the output with the point's output layer (thetas + k P + w2_off,
   bias at b2_off or none when < 0) and the loss; the block's loss sum is added to tot[k]
   (float32: the block's float terms are added to the point's 8 double lanes tot[8 k .. 8 k + 7],
   which the caller reduces once with ta_sum_lanes), its bce hit count to hit[k] (want_hits),
   the non-finite flag or-ed into flag[k]. The same operations as ta_mix + ta_head1 (forward
   only), in one call per block. */
static void TA_FN(ta_interp1)(const TA_REAL *Za, const TA_REAL *Zb, int l, const TA_REAL *ts,
                              int tc, const TA_REAL *thetas, int P, int w2_off, int b2_off,
                              int act, TA_REAL slope, const TA_REAL *Y, int n_valid, TA_REAL scale,
                              int loss, int want_hits, double *tot, double *hit, int *flag)
{
    ta_vd y[TA_NV], dummy[TA_NV];
    ta_vi valid[TA_NV];
    TA_REAL lanes[TA_W];
    int k, j, m;
    TA_FN(ta_valid)(n_valid, valid);
    for (m = 0; m < TA_NV; m++) y[m] = V_LOAD(Y + TA_W * m);
    for (k = 0; k < tc; k++) {
        const TA_REAL t = ts[k], u = 1.0 - t;
        const TA_REAL *w2 = thetas + (size_t)k * P + w2_off;
        const ta_vd uu = V_SET1(u), tt = V_SET1(t);
        ta_vd o[TA_NV], sd;
#ifdef TA_F32
        TA_LACC acc;
        memcpy(&acc.a, tot + 8 * (size_t)k, sizeof(acc.a));
        memcpy(&acc.b, tot + 8 * (size_t)k + 4, sizeof(acc.b));
#else
        TA_LACC acc = TA_LACC_ZERO;
#endif
        for (m = 0; m < TA_NV; m++) o[m] = V_SET1(b2_off >= 0 ? thetas[(size_t)k * P + b2_off] : 0.0);
        for (j = 0; j < l; j++) {
            const ta_vd w = V_SET1(w2[j]);
            for (m = 0; m < TA_NV; m++) {
                size_t off = (size_t)j * TA_NB + TA_W * m;
                ta_vd z = V_ADD(V_ADD(V_SET1(0.0), V_MUL(uu, V_LOAD(Za + off))),
                                V_MUL(tt, V_LOAD(Zb + off)));
                o[m] = V_ADD(o[m], V_MUL(w, TA_FN(ta_act)(z, act, slope, &sd)));
            }
        }
        ta_vi bad = TA_FN(ta_lossv)(loss, o, y, valid, scale, 1, 0, dummy, &acc);
        if (V_ANY(bad)) flag[k] |= 1;     /* V_ANY may expand its argument more than once */
#ifdef TA_F32
        memcpy(tot + 8 * (size_t)k, &acc.a, sizeof(acc.a));
        memcpy(tot + 8 * (size_t)k + 4, &acc.b, sizeof(acc.b));
#else
        tot[k] += TA_FN(ta_lacc_sum)(acc);
#endif
        if (want_hits) {
            V_STORE(lanes, TA_FN(ta_hitv)(o, y, valid));
            hit[k] += TA_SUM_LANES(lanes);
        }
    }
}

#ifdef TA_HALVES
/* The loss pass of a group on the x86-64-v3 clone in native 4-lane vectors (one ymm each).
   The pair-of-ymm form of ta_lossv (ta_p8d structs passed by pointer) compiled to code that
   kept its operands in memory and rebuilt every constant with two shuffles (about 85 cycles
   per 4 samples for the BCE value and gradient, against ~30 for its operations). The
   functions below perform, lane by lane, exactly the operations of ta_vexpn, ta_vlog1p01 and
   ta_lossv (the same expressions, so the same fused multiply-adds): the same bits as the
   v4 clone (checked against the previous build and by the clone tests). */
#define TA_H1(x) ((ta_v4d){(x), (x), (x), (x)})
#define TA_HSEL(m, x, y) ((ta_v4d)(((m) & (ta_v4i)(x)) | (~(m) & (ta_v4i)(y))))
#define TA_HAND(m, x) ((ta_v4d)((m) & (ta_v4i)(x)))

TA_INL ta_v4d TA_FN(ta_hexp_red)(ta_v4d x, ta_v4d *kdp, ta_v4d *tp)
{
    const ta_v4d shifter = TA_H1(6755399441055744.0);
    ta_v4d t = x * TA_H1(1.4426950408889634074) + shifter, kd, r, p;
    kd = t - shifter;
    r = x - kd * TA_H1(6.93147180369123816490e-01);
    r = r - kd * TA_H1(1.90821492927058770002e-10);
    {
        ta_v4d r2 = r * r, r4, r8, p01, p23, p45, p67, p89, pab, pcd;
        r4 = r2 * r2;
        r8 = r4 * r4;
        p01 = TA_H1(1.0) + r;
        p23 = TA_H1(0.5) + TA_H1(1.0 / 6.0) * r;
        p45 = TA_H1(1.0 / 24.0) + TA_H1(1.0 / 120.0) * r;
        p67 = TA_H1(1.0 / 720.0) + TA_H1(1.0 / 5040.0) * r;
        p89 = TA_H1(1.0 / 40320.0) + TA_H1(1.0 / 362880.0) * r;
        pab = TA_H1(1.0 / 3628800.0) + TA_H1(1.0 / 39916800.0) * r;
        pcd = TA_H1(1.0 / 479001600.0) + TA_H1(1.0 / 6227020800.0) * r;
        p01 = p01 + p23 * r2;
        p45 = p45 + p67 * r2;
        p89 = p89 + pab * r2;
        p01 = p01 + p45 * r4;
        p89 = p89 + pcd * r4;
        p = p01 + p89 * r8;
    }
    *kdp = kd;
    *tp = t;
    return p;
}

/* ta_vexpn in 4 lanes: exp(-|o|) flushed to 0 below exp(-708), with -|o| as o with its sign
   bit set (for o = +-0 the result is 1 either way) */
TA_INL ta_v4d TA_FN(ta_hexpn)(ta_v4d o)
{
    ta_v4d x = (ta_v4d)((ta_v4i)o | (ta_v4i)TA_H1(-0.0)), kd, t, p;
    const ta_v4i tiny = x < TA_H1(-708.0);
    p = TA_FN(ta_hexp_red)(TA_HSEL(tiny, TA_H1(-708.0), x), &kd, &t);
    return TA_HSEL(tiny, TA_H1(0.0),
                   p * (ta_v4d)(((ta_v4i)t + (1023 - 0x4338000000000000LL)) << 52));
}

/* ta_vlog1p01 in 4 lanes */
TA_INL ta_v4d TA_FN(ta_hlog1p01)(ta_v4d e)
{
    const ta_v4d half = TA_H1(0.5);
    ta_v4i big = e > TA_H1(0.41421356237309503);
    ta_v4d f = TA_HSEL(big, e * half + TA_H1(-0.5), e);
    ta_v4d c = TA_HAND(big, e * half - (half + f));
    ta_v4d kk = TA_HAND(big, TA_H1(1.0));
    ta_v4d s = f / (TA_H1(2.0) + f);
    ta_v4d s0 = TA_HAND((s >= TA_H1(0x1p-27)) | (s <= TA_H1(-0x1p-27)), s);
    ta_v4d z = s0 * s0, p, l;
    p = TA_H1(1.531383769920937332e-01) + z * TA_H1(1.479819860511658591e-01);
    p = TA_H1(1.818357216161805012e-01) + z * p;
    p = TA_H1(2.222219843214978396e-01) + z * p;
    p = TA_H1(2.857142874366239149e-01) + z * p;
    p = TA_H1(3.999999999940941908e-01) + z * p;
    p = TA_H1(6.666666666666735130e-01) + z * p;
    l = (s + s) + s * (z * p);
    l = l + c * TA_H1(1.3738);
    l = l + kk * TA_H1(1.90821492927058770002e-10);
    return l + kk * TA_H1(6.93147180369123816490e-01);
}

/* BCE (with logits) over the samples [0, n) of a group (n a multiple of TA_NB, at most
   TA_GROUP * TA_NB), the first n_valid of them real: G = scale * dloss/dO (0 on padding)
   when need_grad, the valid per-sample losses added to the value lanes vacc (sample m in lane
   m % TA_W: vacc[0] holds lanes 0-3, vacc[1] lanes 4-7), the hit counts to hacc when
   want_hits; ta_lossv's operations lane by lane. Returns 1 when a valid output is not
   finite. In phases over all samples of the group (exp, then the gradient, then the value):
   one sample's exp -> division -> log1p chain is ~130 cycles of latency and ~110
   instructions, so a loop doing all three per 4 samples kept only two chains in the
   out-of-order window (latency-bound, ~80 cycles per 4 samples); each phase alone is short
   enough for the window to overlap many iterations. Masks only in the padded tail (an and
   with all ones changes no bit). */
static __attribute__((noinline)) int TA_FN(ta_bce_pass_h)(
    const TA_REAL *O, const TA_REAL *Y, int n, int n_valid, TA_REAL scale, int need_value,
    int need_grad, int want_hits, TA_REAL *G, ta_v4d *vacc, ta_v4d *hacc)
{
    const ta_v4d zero = TA_H1(0.0), one = TA_H1(1.0), sc = TA_H1(scale);
    const ta_v4d iota = {0.0, 1.0, 2.0, 3.0};
    TA_REAL E[TA_GROUP * TA_NB] __attribute__((aligned(64)));
    ta_v4i bad = {0, 0, 0, 0};
    const int nfull = n_valid / 8 * 8;      /* samples of the pairs of chunks with no padding */
    int m;
    for (m = 0; m < n; m += 4) {
        ta_v4d o = *(const ta_v4d *)(O + m);
        ta_v4i nf = (o - o) != (o - o);
        if (m >= nfull) nf &= (TA_H1((TA_REAL)m) + iota) < TA_H1((TA_REAL)n_valid);
        bad |= nf;
        *(ta_v4d *)(E + m) = TA_FN(ta_hexpn)(o);
    }
    if (need_grad) {
        for (m = 0; m < n; m += 4) {
            ta_v4d o = *(const ta_v4d *)(O + m), y = *(const ta_v4d *)(Y + m);
            ta_v4d e = *(const ta_v4d *)(E + m);
            ta_v4d r = one / (one + e);
            ta_v4d s = TA_HSEL(o >= zero, r, e * r);
            s = TA_HAND(s >= TA_H1(TA_REAL_MIN / scale), s);
            *(ta_v4d *)(G + m) = (s - y) * sc;
        }
        for (m = nfull; m < n; m += 4)
            *(ta_v4d *)(G + m) = TA_HAND((TA_H1((TA_REAL)m) + iota) < TA_H1((TA_REAL)n_valid),
                                         *(ta_v4d *)(G + m));
    }
    if (need_value) {
        ta_v4d v0 = vacc[0], v1 = vacc[1];
        for (m = 0; m < nfull; m += 8) {
            ta_v4d o0 = *(const ta_v4d *)(O + m), y0 = *(const ta_v4d *)(Y + m);
            ta_v4d o1 = *(const ta_v4d *)(O + m + 4), y1 = *(const ta_v4d *)(Y + m + 4);
            ta_v4d l0 = (TA_HAND(o0 > zero, o0) - o0 * y0)
                        + TA_FN(ta_hlog1p01)(*(const ta_v4d *)(E + m));
            ta_v4d l1 = (TA_HAND(o1 > zero, o1) - o1 * y1)
                        + TA_FN(ta_hlog1p01)(*(const ta_v4d *)(E + m + 4));
            v0 = v0 + l0;
            v1 = v1 + l1;
        }
        for (; m < n; m += 8) {
            ta_v4d o0 = *(const ta_v4d *)(O + m), y0 = *(const ta_v4d *)(Y + m);
            ta_v4d o1 = *(const ta_v4d *)(O + m + 4), y1 = *(const ta_v4d *)(Y + m + 4);
            ta_v4i va = (TA_H1((TA_REAL)m) + iota) < TA_H1((TA_REAL)n_valid);
            ta_v4i vb = (TA_H1((TA_REAL)(m + 4)) + iota) < TA_H1((TA_REAL)n_valid);
            ta_v4d l0 = (TA_HAND(o0 > zero, o0) - o0 * y0)
                        + TA_FN(ta_hlog1p01)(*(const ta_v4d *)(E + m));
            ta_v4d l1 = (TA_HAND(o1 > zero, o1) - o1 * y1)
                        + TA_FN(ta_hlog1p01)(*(const ta_v4d *)(E + m + 4));
            v0 = v0 + TA_HAND(va, l0);
            v1 = v1 + TA_HAND(vb, l1);
        }
        vacc[0] = v0;
        vacc[1] = v1;
    }
    if (want_hits) {
        ta_v4d h0 = hacc[0], h1 = hacc[1];
        for (m = 0; m < n; m += 8) {
            ta_v4i va = (TA_H1((TA_REAL)m) + iota) < TA_H1((TA_REAL)n_valid);
            ta_v4i vb = (TA_H1((TA_REAL)(m + 4)) + iota) < TA_H1((TA_REAL)n_valid);
            ta_v4d o0 = *(const ta_v4d *)(O + m), y0 = *(const ta_v4d *)(Y + m);
            ta_v4d o1 = *(const ta_v4d *)(O + m + 4), y1 = *(const ta_v4d *)(Y + m + 4);
            h0 = h0 + TA_HAND(~((o0 > zero) ^ (y0 > TA_H1(0.5))) & va, one);
            h1 = h1 + TA_HAND(~((o1 > zero) ^ (y1 > TA_H1(0.5))) & vb, one);
        }
        hacc[0] = h0;
        hacc[1] = h1;
    }
    return (bad[0] | bad[1] | bad[2] | bad[3]) != 0;
}
#undef TA_H1
#undef TA_HSEL
#undef TA_HAND
#endif

#ifndef TA_HALVES
/* the group's BCE pass ta_shallow calls: ta_bce_pass_v of this clone, or the clone's own
   (TA_BCE_PASS_CLONE: the float32 v4 clone's 16-float instantiation, blockops_bce.h) */
#ifdef TA_BCE_PASS_CLONE
#define TA_BCE_PASS TA_BCE_PASS_CLONE
#else
#define TA_BCE_PASS TA_FN(ta_bce_pass_v)
#endif
#ifndef TA_BCE_PASS_CLONE
#include "blockops_bce.h"       /* ta_bce_pass_v */
#endif
#endif

/* The full-data pass of a network with one hidden layer and one output (elementwise loss,
   vectorized activation) over blocks [blk0, blk1), in groups of TA_GROUP blocks, each in three
   passes: (1) hidden activations, their derivatives and the output logits of the group into
   L1-resident scratch; (2) the loss and its derivative for all samples of the group; (3) the
   output-layer gradient lanes and the hidden errors D, then the first-layer weight gradient
   with register-resident accumulators over the group (ta_wg_tile). Gradient lanes are added to
   a->gW1, gb1, gw2, gb2; *value gets the sum of the per-sample losses (lanes reduced at the
   end), *hits the bce hit count (when a->want_hits). Returns 1 when an output is not finite. */
static int TA_FN(ta_shallow)(const TA_SHALLOW_ARGS *a, int blk0, int blk1, double *value,
                             double *hits)
{
    const int l = a->l, d = a->d;
    TA_LACC vacc = TA_LACC_ZERO;
    ta_vd hacc = V_SET1(0.0);
    ta_vi bad = VI_SET1(0);
    TA_REAL lanes[TA_W];
    int g0, j, k, m;
    /* ReLU: the forward pass stores no derivative S; the backward pass takes it from H */
    const int relu = a->act == TA_ACT_RELU;
    if (a->need_grad && a->Xp)
        memset(a->G1, 0, sizeof(TA_REAL) * (size_t)l * TA_NPAN(d) * TA_W);
    for (g0 = blk0; g0 < blk1; g0 += TA_GROUP) {
        const int nb = blk1 - g0 < TA_GROUP ? blk1 - g0 : TA_GROUP;
        /* pass 1: forward */
#ifdef TA_AFFG_ROWS
        for (k = 0; k < l; ) {
            const int r = l - k;
            const int R = r >= TA_AFFG_ROWS + 4 ? TA_AFFG_ROWS
                          : r > TA_AFFG_ROWS ? (r + 1) / 2 : r;
            const TA_REAL *Xg = a->Xb + (size_t)g0 * d * TA_NB;
            TA_REAL *Sg = a->need_grad && !relu ? a->S : NULL;
#define TA_AFFG(RR) TA_CAT(TA_FN(ta_aff_g), RR)(a->W1, a->b1, k, l, d, Xg, nb, a->H, Sg, \
                                                 a->act, a->slope, a->w2, a->b2, a->O)
            if (R == 6) TA_AFFG(6);
            else if (R == 5) TA_AFFG(5);
            else if (R == 4) TA_AFFG(4);
            else if (R == 3) TA_AFFG(3);
            else if (R == 2) TA_AFFG(2);
            else TA_AFFG(1);
#undef TA_AFFG
            k += R;
        }
        if (0)
#endif
        for (j = 0; j < nb; j++) {
            const TA_REAL *X = a->Xb + (size_t)(g0 + j) * d * TA_NB;
            TA_REAL *H = a->H + (size_t)j * l * TA_NB;
            ta_vd o[TA_NV];
            TA_FN(ta_affine_in)(a->W1, a->b1, l, d, X, H, a->act, a->slope,
                                a->need_grad && !relu ? a->S + (size_t)j * l * TA_NB : NULL);
            for (m = 0; m < TA_NV; m++) o[m] = V_SET1(a->b2 ? a->b2[0] : 0.0);
            for (k = 0; k < l; k++) {
                ta_vd u = V_SET1(a->w2[k]);
                for (m = 0; m < TA_NV; m++)
                    o[m] = V_ADD(o[m], V_MUL(u, V_LOAD(H + (size_t)k * TA_NB + TA_W * m)));
            }
            for (m = 0; m < TA_NV; m++) V_STORE(a->O + (size_t)j * TA_NB + TA_W * m, o[m]);
        }
        /* pass 2: loss and its derivative */
#ifdef TA_HALVES
        if (a->loss == TA_LOSS_BCE) {
            ta_v4d hv[2], hh[2];
            int nvg = a->N - g0 * TA_NB;
            if (nvg > nb * TA_NB) nvg = nb * TA_NB;
            hv[0] = vacc.a; hv[1] = vacc.b; hh[0] = hacc.a; hh[1] = hacc.b;
            if (TA_FN(ta_bce_pass_h)(a->O, a->Yb + (size_t)g0 * TA_NB, nb * TA_NB, nvg,
                                     a->scale, a->need_value, a->need_grad, a->want_hits,
                                     a->G, hv, hh))
                bad = VI_SET1(-1);
            vacc.a = hv[0]; vacc.b = hv[1]; hacc.a = hh[0]; hacc.b = hh[1];
        } else
#else
        if (a->loss == TA_LOSS_BCE) {
            int nvg = a->N - g0 * TA_NB;
            if (nvg > nb * TA_NB) nvg = nb * TA_NB;
            if (TA_BCE_PASS(a->O, a->Yb + (size_t)g0 * TA_NB, nb * TA_NB, nvg,
                                     a->scale, a->need_value, a->need_grad, a->want_hits,
                                     a->G, &vacc, &hacc))
                bad = VI_SET1(-1);
        } else
#endif
        for (j = 0; j < nb; j++) {
            const int blk = g0 + j;
            const int nv = a->N - blk * TA_NB < TA_NB ? a->N - blk * TA_NB : TA_NB;
            ta_vd o[TA_NV], y[TA_NV], g[TA_NV];
            ta_vi valid[TA_NV];
            TA_FN(ta_valid)(nv, valid);
            for (m = 0; m < TA_NV; m++) {
                o[m] = V_LOAD(a->O + (size_t)j * TA_NB + TA_W * m);
                y[m] = V_LOAD(a->Yb + (size_t)blk * TA_NB + TA_W * m);
            }
            bad = VI_OR(bad, TA_FN(ta_lossv)(a->loss, o, y, valid, a->scale, a->need_value,
                                             a->need_grad, g, &vacc));
            if (a->want_hits) hacc = V_ADD(hacc, TA_FN(ta_hitv)(o, y, valid));
            if (a->need_grad)
                for (m = 0; m < TA_NV; m++) V_STORE(a->G + (size_t)j * TA_NB + TA_W * m, g[m]);
        }
        if (!a->need_grad) continue;
        /* pass 3: backward, neuron by neuron: the hidden errors D[k] and the output-layer
           gradient lanes gw2[k] (and gb2). A block row's two halves (samples 0-7 and 8-15)
           give two chains over the group's blocks (one zmm of 16 floats on the float32
           x86-64-v4 clone), added to gw2 at the end of the group: gw2 + (lo + hi) on every
           clone, so the same bits on v3 and v4 */
        if (a->gb2) {
            ta_vd s2 = V_LOAD(a->gb2);
            for (j = 0; j < nb; j++)
                s2 = V_ADD(s2, V_ADD(V_LOAD(a->G + (size_t)j * TA_NB),
                                     V_LOAD(a->G + (size_t)j * TA_NB + TA_W)));
            V_STORE(a->gb2, s2);
        }
        for (k = 0; k < l; k++) {
#ifdef TA_Z16
            const __m512 u = _mm512_set1_ps(a->w2[k]), z0 = _mm512_setzero_ps();
            __m512 p = z0;
            for (j = 0; j < nb; j++) {
                const size_t off = ((size_t)j * l + k) * TA_NB;
                const __m512 g = _mm512_loadu_ps(a->G + (size_t)j * TA_NB);
                const __m512 h = _mm512_loadu_ps(a->H + off);
                const __m512 e = _mm512_fmadd_ps(u, g, z0);
                p = _mm512_fmadd_ps(g, h, p);
                /* ReLU's derivative from its activation (see below), as one masked product:
                   e where h > 0, 0 x e (the S x e of the other clones) where not */
                _mm512_storeu_ps(a->D + off,
                                 relu ? _mm512_mask_mul_ps(
                                            e, _mm512_cmp_ps_mask(h, z0, _CMP_NGT_UQ), e, z0)
                                      : _mm512_mul_ps(_mm512_loadu_ps(a->S + off), e));
            }
            V_STORE(a->gw2 + TA_W * k,
                    V_ADD(V_LOAD(a->gw2 + TA_W * k),
                          V_ADD((ta_vd)_mm512_castps512_ps256(p),
                                (ta_vd)_mm512_extractf32x8_ps(p, 1))));
#elif defined(TA_ZMM)
            /* the chains of the #else branch on zmm registers, the ReLU derivative as one masked
               product (e where h > 0, else 0 x e: the S x e of the other clones) */
            const __m512d u = _mm512_set1_pd(a->w2[k]), z0 = _mm512_setzero_pd();
            __m512d p0 = z0, p1 = z0;
            for (j = 0; j < nb; j++) {
                const size_t off = ((size_t)j * l + k) * TA_NB;
                const TA_REAL *gp = a->G + (size_t)j * TA_NB, *h = a->H + off;
                const __m512d g0 = _mm512_loadu_pd(gp), g1 = _mm512_loadu_pd(gp + TA_W);
                const __m512d h0 = _mm512_loadu_pd(h), h1 = _mm512_loadu_pd(h + TA_W);
                const __m512d e0 = _mm512_fmadd_pd(u, g0, z0), e1 = _mm512_fmadd_pd(u, g1, z0);
                p0 = _mm512_fmadd_pd(g0, h0, p0);
                p1 = _mm512_fmadd_pd(g1, h1, p1);
                if (relu) {
                    _mm512_storeu_pd(a->D + off, _mm512_mask_mul_pd(
                        e0, _mm512_cmp_pd_mask(h0, z0, _CMP_NGT_UQ), e0, z0));
                    _mm512_storeu_pd(a->D + off + TA_W, _mm512_mask_mul_pd(
                        e1, _mm512_cmp_pd_mask(h1, z0, _CMP_NGT_UQ), e1, z0));
                } else {
                    _mm512_storeu_pd(a->D + off, _mm512_mul_pd(_mm512_loadu_pd(a->S + off), e0));
                    _mm512_storeu_pd(a->D + off + TA_W,
                                     _mm512_mul_pd(_mm512_loadu_pd(a->S + off + TA_W), e1));
                }
            }
            V_STORE(a->gw2 + TA_W * k,
                    V_ADD(V_LOAD(a->gw2 + TA_W * k), V_ADD((ta_vd)p0, (ta_vd)p1)));
#else
            const ta_vd u = V_SET1(a->w2[k]);
            ta_vd p[TA_NV];
            for (m = 0; m < TA_NV; m++) p[m] = V_SET1(0.0);
            for (j = 0; j < nb; j++) {
                const size_t off = ((size_t)j * l + k) * TA_NB;
                const TA_REAL *h = a->H + off, *s = a->S + off;
                for (m = 0; m < TA_NV; m++) {
                    const ta_vd g = V_LOAD(a->G + (size_t)j * TA_NB + TA_W * m);
                    const ta_vd hv = V_LOAD(h + TA_W * m);
                    /* ReLU's derivative from its activation: h > 0 exactly where z > 0 (z <= 0
                       gives +-0, NaN and -inf give NaN), the S ta_act would have stored */
                    ta_vd sv = relu ? V_AND(V_GT(hv, V_SET1(0.0)), V_SET1(1.0))
                                    : V_LOAD(s + TA_W * m);
                    p[m] = V_ADD(p[m], V_MUL(g, hv));
                    V_STORE(a->D + off + TA_W * m, V_MUL(sv, V_ADD(V_SET1(0.0), V_MUL(u, g))));
                }
            }
            V_STORE(a->gw2 + TA_W * k, V_ADD(V_LOAD(a->gw2 + TA_W * k), V_ADD(p[0], p[1])));
#endif
        }
        if (a->Xp)
            TA_FN(ta_wgrad_panels)(a->D, a->Xp + (size_t)g0 * TA_NB * TA_PSAMP, (size_t)a->pstride,
                                   nb, l, d, a->G1);
        else
            TA_FN(ta_wgrad_all_in)(a->D, a->Xb + (size_t)g0 * d * TA_NB, nb, l, d, a->gW1,
                                   a->gb1);
    }
    if (a->need_value) {
        *value = TA_FN(ta_lacc_sum)(vacc);
    }
    if (a->want_hits) {
        V_STORE(lanes, hacc);
        *hits = TA_SUM_LANES(lanes);
    }
    return V_ANY(bad);
}

/* out[p] = TA_SUM_LANES(lanes + TA_W p) for p < n (TA_REDUCE8, when the clone has it, does 8
   entries at once with the same additions). */
static void TA_FN(ta_reduce_lanes)(const TA_REAL *lanes, int n, TA_REAL *out)
{
    int p = 0;
#ifdef TA_REDUCE8
    for (; p + 8 <= n; p += 8)
        TA_REDUCE8(lanes + (size_t)TA_W * p, out + p);
#endif
    for (; p < n; p++)
        out[p] = TA_SUM_LANES(lanes + (size_t)TA_W * p);
}

#undef TA_AFF_TILE
#undef TA_WG_TILE
#undef TA_WGP_TILE
#undef TA_NPAN
#undef TA_PAN
#undef TA_PSAMP
#undef TA_TILE_SHAPES
#undef TA_AFF_G_ALL
#undef TA_BCE_PASS
#undef TA_AFF_G_HEAD
#undef TA_WGP_TMAX
#undef TA_WGP_ROWS
#undef TA_WGP_ACC
#ifdef TA_AFFG_ROWS
#undef TA_AFFG_ROWS
#endif
#undef TA_INL
#undef TA_LACC
#undef TA_LACC_ZERO
#undef TA_LACC_ADD
