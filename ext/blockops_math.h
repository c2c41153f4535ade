/* The vectorized elementary functions of the engine (exp, exp(-|z|), log1p on [0, 1], 2 atanh,
   a division-free reciprocal on [2, 3]) in the current clone's vector macros and precision.
   Included by blockops_impl.h for every clone, and once more by the float32 x86-64-v4 clone
   with 16-float vector macros (suffix _f_v4w) for its zmm BCE loss pass (blockops_bce.h).
   No include guard on purpose. Lane by lane the operations do not depend on the vector
   width, so the wide instantiation gives the bits of the 8-float one. */

#ifndef TA_F32
/* The reduction and polynomial of ta_vexpn: x = kd ln2 + r, |r| <= ln2/2 (Cody-Waite, kd an
   integer), p = exp(r) by the Taylor polynomial of degree 13 (truncation error < 5e-18),
   Estrin's scheme (short dependency chains); *tp = x log2e + 1.5 2^52, whose low bits hold kd. */
TA_INL ta_vd TA_FN(ta_vexp_red)(ta_vd x, ta_vd *kdp, ta_vd *tp)
{
    const ta_vd shifter = V_SET1(6755399441055744.0);       /* 1.5 * 2^52 */
    ta_vd t = V_ADD(V_MUL(x, V_SET1(1.4426950408889634074)), shifter), kd, r, p;
    kd = V_SUB(t, shifter);
    r = V_SUB(x, V_MUL(kd, V_SET1(6.93147180369123816490e-01)));
    r = V_SUB(r, V_MUL(kd, V_SET1(1.90821492927058770002e-10)));
    {   /* Taylor coefficients 1/n! */
        ta_vd r2 = V_MUL(r, r), r4, r8, p01, p23, p45, p67, p89, pab, pcd;
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
    *kdp = kd;
    *tp = t;
    return p;
}

#else
/* The float reduction and polynomial: a two-part ln 2, a Taylor polynomial of degree 7
   (truncation error < 6e-9 relative); *tp = x log2e + 1.5 2^23, whose low bits hold kd. */
TA_INL ta_vd TA_FN(ta_vexp_red)(ta_vd x, ta_vd *kdp, ta_vd *tp)
{
    const ta_vd shifter = V_SET1(12582912.0f);       /* 1.5 * 2^23 */
    ta_vd t = V_ADD(V_MUL(x, V_SET1(1.44269504088896341f)), shifter), kd, r, p;
    kd = V_SUB(t, shifter);
    r = V_SUB(x, V_MUL(kd, V_SET1(0.693145751953125f)));
    r = V_SUB(r, V_MUL(kd, V_SET1(1.428606765330187045e-06f)));
    {
        ta_vd r2 = V_MUL(r, r), r4, p01, p23, p45, p67;
        r4 = V_MUL(r2, r2);
        p01 = V_ADD(V_SET1(1.0f), r);
        p23 = V_ADD(V_SET1(0.5f), V_MUL(V_SET1(1.0f / 6.0f), r));
        p45 = V_ADD(V_SET1(1.0f / 24.0f), V_MUL(V_SET1(1.0f / 120.0f), r));
        p67 = V_ADD(V_SET1(1.0f / 720.0f), V_MUL(V_SET1(1.0f / 5040.0f), r));
        p01 = V_ADD(p01, V_MUL(p23, r2));
        p45 = V_ADD(p45, V_MUL(p67, r2));
        p = V_ADD(p01, V_MUL(p45, r4));
    }
    *kdp = kd;
    *tp = t;
    return p;
}

#endif

/* exp's constants in the clone's precision: the shifter 1.5 2^p (p mantissa bits) and its
   bits, the exponent bias, and the smallest -|z| for which 2^k is normal (the flush). */
#ifndef TA_F32
#define TA_EXP_SHIFTER 6755399441055744.0
#define TA_EXP_SHIFTER_BITS 0x4338000000000000LL
#define TA_EXP_FAST (-708.0)      /* k >= -1021 */
#define TA_EXP_ZERO 0.0
#define TA_EXP_BIAS 1023
#define TA_EXP_MANT 52
#else
#define TA_EXP_SHIFTER 12582912.0f
#define TA_EXP_SHIFTER_BITS 0x4B400000
#define TA_EXP_FAST (-87.0f)      /* k >= -126 */
#define TA_EXP_ZERO 0.0f
#define TA_EXP_BIAS 127
#define TA_EXP_MANT 23
#endif

/* exp(-|z|) (every exp of the kernels is of -|z|: the BCE loss, the sigmoid unit and
   activation), about 2 ulp (float: 1 ulp): ta_vexp_red, then p 2^k as one multiplication by
   2^k built from t's bits (bits(t) - bits(shifter) = k). Flushed to 0 below exp(TA_EXP_FAST)
   (-708, float -87: just above the smallest normal number, exp(-708.4), float exp(-87.3)),
   where 2^k is always a normal number. The flush keeps subnormal numbers out of the loss and
   backward passes: a subnormal result costs a microcode assist on Intel cores (the evaluation
   ran 1.7-2.2x slower at weight scales whose logits pass 708, float 87), and it changes a
   result by at most exp(-708) = 3.3e-308 (float 1.6e-38) per sample. NaN stays NaN; -inf
   gives 0. */
TA_INL ta_vd TA_FN(ta_vexpn)(ta_vd z)
{
    const ta_vd lo = V_SET1(TA_EXP_FAST);
    ta_vd x = V_SUB(V_SET1(TA_EXP_ZERO), V_ABS(z)), kd, t, p;
    const ta_vi tiny = V_LT(x, lo);
    p = TA_FN(ta_vexp_red)(V_SEL(tiny, lo, x), &kd, &t);
    return V_SEL(tiny, V_SET1(TA_EXP_ZERO),
                 V_MUL(p, V_FROMBITS(VI_SHL(VI_ADD(V_BITS(t),
                                                   VI_SET1(TA_EXP_BIAS - TA_EXP_SHIFTER_BITS)),
                                            TA_EXP_MANT))));
}
#undef TA_EXP_SHIFTER
#undef TA_EXP_SHIFTER_BITS
#undef TA_EXP_FAST
#undef TA_EXP_ZERO
#undef TA_EXP_BIAS
#undef TA_EXP_MANT

#ifdef TA_F32
/* 2 atanh(s) = log((1 + s) / (1 - s)) for s in [0, 1/3] (log1p(x) = 2 atanh(x / (2 + x)) for
   x in [0, 1]): the series to s^15 (truncation error below 2e-9 relative). Below s = 2^-15 the
   powers of s are taken of 0: there every product with t = s^2 or its powers is below a
   quarter of an ulp of the constant it is added to, so each fused sum rounds to that constant
   either way and the result is the same bits; but s^8 is subnormal below s = 2^-15.75, and
   subnormal products take microcode assists on Intel cores (the float32 BCE value pass of
   trained networks, logits beyond about 10, ran at a small fraction of its speed). */
TA_INL ta_vd TA_FN(ta_v2atanh)(ta_vd s)
{
    const ta_vd s0 = V_AND(V_GE(s, V_SET1(0x1p-15f)), s);
    ta_vd t = V_MUL(s0, s0), t2, t4, c[4], p;
    int k;
    t2 = V_MUL(t, t);
    t4 = V_MUL(t2, t2);
    for (k = 0; k < 4; k++)     /* sum_{k=0}^{7} t^k / (2k + 1), Estrin's scheme */
        c[k] = V_ADD(V_SET1(1.0f / (4 * k + 1)), V_MUL(V_SET1(1.0f / (4 * k + 3)), t));
    c[0] = V_ADD(c[0], V_MUL(c[1], t2));
    c[2] = V_ADD(c[2], V_MUL(c[3], t2));
    p = V_ADD(c[0], V_MUL(c[2], t4));
    return V_MUL(V_ADD(s, s), p);
}
#endif

/* 1 / x for x in [2, 3] without a division: linear start (relative error < 4.2e-2), four
   Newton steps y <- y + y (1 - x y) (error < 1e-22 before rounding), about 1 ulp. */
TA_INL ta_vd TA_FN(ta_vrecip23)(ta_vd x)
{
    const ta_vd one = V_SET1(1.0);
    ta_vd y = V_SUB(V_SET1(0.8333333333333334), V_MUL(V_SET1(0.16666666666666666), x));
    int k;
#ifdef TA_F32
    for (k = 0; k < 3; k++)     /* float: 3 steps reach 1e-11 */
#else
    for (k = 0; k < 4; k++)
#endif
        y = V_ADD(y, V_MUL(y, V_SUB(one, V_MUL(x, y))));
    return y;
}

#ifndef TA_F32
/* log1p(e) for e in [0, 1] (the BCE value, e = exp(-|o|)): e <= sqrt 2 - 1 is used as it is
   (f = e, k = 0), larger e as 1 + e = 2 (1 + f) with f = (e - 1) / 2 = fma(e, 1/2, -1/2)
   (k = 1); then log1p(f) = 2 s + s R(s^2) with s = f / (2 + f), |s| <= 0.1716, and R the
   degree-7 minimax polynomial of fdlibm's log (Lg1..Lg7, error below 2^-58.45), and
   k ln 2 added in two parts. Max error 2.1 ulp (the previous series: 5.0), measured against
   mpmath on 6e4 points of [0, 1] (docs/guide/performance.md). Every sum has one product, so every
   clone with FMA fuses the same operations. NaN stays NaN (s0 = 0, then 2 s). */
TA_INL ta_vd TA_FN(ta_vlog1p01)(ta_vd e)
{
    const ta_vd half = V_SET1(0.5);
    ta_vi big = V_GT(e, V_SET1(0.41421356237309503));
    ta_vd f = V_SEL(big, V_ADD(V_MUL(e, half), V_SET1(-0.5)), e);
    ta_vd c = V_AND(big, V_SUB(V_MUL(e, half), V_ADD(half, f)));   /* exact: f's rounding */
    ta_vd kk = V_AND(big, V_SET1(1.0));
    ta_vd s = V_DIV(f, V_ADD(V_SET1(2.0), f));
    /* below |s| = 2^-27 the polynomial is taken of 0: s R(s^2) is then below half an ulp of
       2 s, so the sum rounds to 2 s either way (the same bits), and s^2 no longer underflows
       (an underflowing product costs a microcode assist; e = exp(-|o|) < 2^-26 from |o| = 18) */
    ta_vd s0 = V_AND(V_GE(V_ABS(s), V_SET1(0x1p-27)), s);
    ta_vd z = V_MUL(s0, s0), p, l;
    p = V_ADD(V_SET1(1.531383769920937332e-01), V_MUL(z, V_SET1(1.479819860511658591e-01)));
    p = V_ADD(V_SET1(1.818357216161805012e-01), V_MUL(z, p));
    p = V_ADD(V_SET1(2.222219843214978396e-01), V_MUL(z, p));
    p = V_ADD(V_SET1(2.857142874366239149e-01), V_MUL(z, p));
    p = V_ADD(V_SET1(3.999999999940941908e-01), V_MUL(z, p));
    p = V_ADD(V_SET1(6.666666666666735130e-01), V_MUL(z, p));
    l = V_ADD(V_ADD(s, s), V_MUL(s, V_MUL(z, p)));
    l = V_ADD(l, V_MUL(c, V_SET1(1.3738)));      /* c / (1 + f), 1 + f in [0.707, 0.75] */
    l = V_ADD(l, V_MUL(kk, V_SET1(1.90821492927058770002e-10)));
    return V_ADD(l, V_MUL(kk, V_SET1(6.93147180369123816490e-01)));
}
#endif
