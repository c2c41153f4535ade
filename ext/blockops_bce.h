/* The BCE loss pass of a group of blocks (ta_shallow's pass 2) in phases: all exps, then all
   gradients, then all values and hits; ta_lossv's operations vector by vector, in the same
   order, so the bits of the per-block pass. Included by blockops_impl.h for the clones
   without the v3 halves (vectors of TA_W lanes), and once more by the float32 x86-64-v4 clone
   with 16-float vector macros (TA_BCE_WIDE, suffix _f_v4w): there a 16-sample block is one
   vector, and the loss and hit lanes are added into the 8-lane sums half by half (low half,
   then high half: the order of the 8-float pass), so the same bits. n is a multiple of the
   vector width; lanes of samples n_valid and beyond are padding. No include guard on purpose. */
/* the sigmoid from r = 1 / (1 + e): r where o >= 0, e r where not (or NaN); on the zmm
   instantiations one masked product (a compare and a multiplication, where the select of the
   vector extensions takes five instructions), the same values */
#if defined(TA_BCE_WIDE)
#define TA_SIGSEL(o, r, e) ((ta_vd)_mm512_mask_mul_ps( \
    (__m512)(r), _mm512_cmp_ps_mask((__m512)(o), _mm512_setzero_ps(), _CMP_NGE_UQ), \
    (__m512)(e), (__m512)(r)))
#elif defined(TA_ZMM) && !defined(TA_F32)
#define TA_SIGSEL(o, r, e) ((ta_vd)_mm512_mask_mul_pd( \
    (__m512d)(r), _mm512_cmp_pd_mask((__m512d)(o), _mm512_setzero_pd(), _CMP_NGE_UQ), \
    (__m512d)(e), (__m512d)(r)))
#else
#define TA_SIGSEL(o, r, e) V_SEL(V_GE((o), zero), (r), V_MUL((e), (r)))
#endif
#ifdef TA_BCE_WIDE
#define TA_PL 16                                    /* lanes of a vector */
#define TA_BACC ta_v8f                              /* the 8-lane hit sums */
#define TA_ADDL(acc, v) ((acc) + (ta_v8f)_mm512_castps512_ps256((__m512)(v)) \
                         + (ta_v8f)_mm512_extractf32x8_ps((__m512)(v), 1))
/* the 8 double lanes of the loss sums (TA_LACC of blockops_impl.h): each float term converted
   before it is added, low half then high half */
#define TA_VACC ta_lacc_f
/* in the loop one zmm of 8 double lanes (lanes 0-3: the struct's a, 4-7: b): the same
   additions lane by lane as TA_LACC_F_ADD of each half, with a zmm conversion per half instead
   of two ymm conversions and no chain of four-lane additions (4.6% of the float32 target step
   with the loss recorded every step, against 1% or less) */
#define TA_VREG __m512d
#define TA_VIN(p) _mm512_insertf64x4(_mm512_castpd256_pd512((__m256d)(p)->a), (__m256d)(p)->b, 1)
#define TA_VOUT(p, r) ((p)->a = (ta_v4fd)_mm512_castpd512_pd256(r), \
                       (p)->b = (ta_v4fd)_mm512_extractf64x4_pd((r), 1))
#define TA_ADDV(acc, v) _mm512_add_pd(_mm512_add_pd((acc), \
                            _mm512_cvtps_pd(_mm512_castps512_ps256((__m512)(v)))), \
                            _mm512_cvtps_pd(_mm512_extractf32x8_ps((__m512)(v), 1)))
#else
#define TA_PL TA_W
#define TA_BACC ta_vd
#define TA_ADDL(acc, v) V_ADD((acc), (v))
#define TA_VACC TA_LACC
#define TA_VREG TA_LACC
#define TA_VIN(p) (*(p))
#define TA_VOUT(p, r) (*(p) = (r))
#define TA_ADDV(acc, v) TA_LACC_ADD((acc), (v))
#endif
static __attribute__((noinline)) int TA_FN(ta_bce_pass_v)(
    const TA_REAL *O, const TA_REAL *Y, int n, int n_valid, TA_REAL scale, int need_value,
    int need_grad, int want_hits, TA_REAL *G, TA_VACC *vacc, TA_BACC *hacc)
{
    static const TA_REAL iota[16] = {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0,
                                     8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0};
    const ta_vd zero = V_SET1(0.0), one = V_SET1(1.0), sc = V_SET1(scale), lanes = V_LOAD(iota);
    const ta_vd sg_min = V_SET1(TA_REAL_MIN / scale);  /* below it sg * scale is subnormal */
    TA_REAL E[TA_GROUP * TA_NB] __attribute__((aligned(64)));
    ta_vi bad = VI_SET1(0);
    const int nfull = n_valid / TA_PL * TA_PL;     /* samples of the vectors with no padding */
    int m;
    /* the lanes of the vector at m that hold real samples */
#define TA_VALID_AT(m) V_LT(V_ADD(lanes, V_SET1((TA_REAL)(m))), V_SET1((TA_REAL)n_valid))
    /* the exps and the gradients in one loop: the divisions run on the divider while the
       next vectors' exps take the vector ports (two loops leave the divider alone) */
    for (m = 0; m < n; m += TA_PL) {
        ta_vd o = V_LOAD(O + m), e;
        ta_vi nf = V_NONFINITE(o);
        if (m >= nfull) nf = VI_AND(TA_VALID_AT(m), nf);
        bad = VI_OR(bad, nf);
        e = TA_FN(ta_vexpn)(o);
        V_STORE(E + m, e);
        if (need_grad) {
            ta_vd r, sg, g;
            r = V_DIV(one, V_ADD(one, e));
            sg = TA_SIGSEL(o, r, e);
            sg = V_AND(V_GE(sg, sg_min), sg);
            g = V_MUL(V_SUB(sg, V_LOAD(Y + m)), sc);
            V_STORE(G + m, m >= nfull ? V_AND(TA_VALID_AT(m), g) : g);
        }
    }
    if (need_value) {
        TA_VREG acc = TA_VIN(vacc);
        for (m = 0; m < n; m += TA_PL) {
            ta_vd o = V_LOAD(O + m), e = V_LOAD(E + m), lv, l;
            lv = V_SUB(V_AND(V_GT(o, zero), o), V_MUL(o, V_LOAD(Y + m)));
#ifdef TA_F32
            l = V_ADD(lv, TA_FN(ta_v2atanh)(V_MUL(e, TA_FN(ta_vrecip23)(V_ADD(V_SET1(2.0), e)))));
#else
            l = V_ADD(lv, TA_FN(ta_vlog1p01)(e));
#endif
            acc = TA_ADDV(acc, m >= nfull ? V_AND(TA_VALID_AT(m), l) : l);
        }
        TA_VOUT(vacc, acc);
    }
    if (want_hits) {
        TA_BACC cnt = *hacc;
        for (m = 0; m < n; m += TA_PL) {
            ta_vd o = V_LOAD(O + m), y = V_LOAD(Y + m);
            ta_vi right = VI_ANDNOT(VI_XOR(V_GT(o, zero), V_GT(y, V_SET1(0.5))), TA_VALID_AT(m));
            cnt = TA_ADDL(cnt, V_AND(right, one));
        }
        *hacc = cnt;
    }
#undef TA_VALID_AT
    return V_ANY(bad);
}
#undef TA_PL
#undef TA_BACC
#undef TA_ADDL
#undef TA_VACC
#undef TA_VREG
#undef TA_VIN
#undef TA_VOUT
#undef TA_ADDV
#undef TA_SIGSEL
