/* The BCE loss pass of a group (ta_bce_pass_v's phases: all exps, then all gradients, then
   all values and hits) on 16-float zmm vectors, for the float32 x86-64-v4 clone. Included by
   blockops.h after that clone, with the 16-lane float vector macros and the 16-lane
   instantiation of blockops_math.h (suffix _f_v4w). A 16-sample block is one vector; lane by
   lane the operations are those of the 8-float pass, the padding lanes are masked alike, and
   the loss and hit lanes are added into the 8-lane accumulators half by half (low half, then
   high half: the order of the 8-float pass), so the results are the same bits. */
static int ta_bce_pass_z_f_v4(const float *O, const float *Y, int n, int n_valid, float scale,
                              int need_value, int need_grad, int want_hits, float *G,
                              ta_v8f *vacc, ta_v8f *hacc)
{
    static const float iota[16] = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f,
                                   8.0f, 9.0f, 10.0f, 11.0f, 12.0f, 13.0f, 14.0f, 15.0f};
    const ta_vd zero = V_SET1(0.0), one = V_SET1(1.0), sc = V_SET1(scale), lanes = V_LOAD(iota);
    float E[TA_GROUP * TA_NB] __attribute__((aligned(64)));
    ta_vi bad = VI_SET1(0);
    int m;
    /* the lanes of the vector at m that hold real samples (n is a multiple of 16) */
#define TA_VALID16(m) V_LT(lanes, V_SET1((float)(n_valid - (m))))
#define TA_LO(v) ((ta_v8f)_mm512_castps512_ps256((__m512)(v)))
#define TA_HI(v) ((ta_v8f)_mm512_extractf32x8_ps((__m512)(v), 1))
    for (m = 0; m < n; m += 16) {
        ta_vd o = V_LOAD(O + m);
        ta_vi nf = V_NONFINITE(o);
        if (m + 16 > n_valid) nf = VI_AND(TA_VALID16(m), nf);
        bad = VI_OR(bad, nf);
        V_STORE(E + m, TA_FN(ta_vexpn)(o));
    }
    if (need_grad)
        for (m = 0; m < n; m += 16) {
            ta_vd o = V_LOAD(O + m), e = V_LOAD(E + m), r, sg, g;
            r = V_DIV(one, V_ADD(one, e));
            sg = V_SEL(V_GE(o, zero), r, V_MUL(e, r));
            g = V_MUL(V_SUB(sg, V_LOAD(Y + m)), sc);
            V_STORE(G + m, m + 16 > n_valid ? V_AND(TA_VALID16(m), g) : g);
        }
    if (need_value) {
        ta_v8f acc = *vacc;
        for (m = 0; m < n; m += 16) {
            ta_vd o = V_LOAD(O + m), e = V_LOAD(E + m), lv, l;
            lv = V_SUB(V_AND(V_GT(o, zero), o), V_MUL(o, V_LOAD(Y + m)));
            l = V_ADD(lv, TA_FN(ta_v2atanh)(V_MUL(e, TA_FN(ta_vrecip23)(V_ADD(V_SET1(2.0), e)))));
            if (m + 16 > n_valid) l = V_AND(TA_VALID16(m), l);
            acc = acc + TA_LO(l);
            acc = acc + TA_HI(l);
        }
        *vacc = acc;
    }
    if (want_hits) {
        ta_v8f cnt = *hacc;
        for (m = 0; m < n; m += 16) {
            ta_vd o = V_LOAD(O + m), y = V_LOAD(Y + m), h;
            ta_vi right = VI_ANDNOT(VI_XOR(V_GT(o, zero), V_GT(y, V_SET1(0.5))), TA_VALID16(m));
            h = V_AND(right, one);
            cnt = cnt + TA_LO(h);
            cnt = cnt + TA_HI(h);
        }
        *hacc = cnt;
    }
#undef TA_VALID16
#undef TA_LO
#undef TA_HI
    return V_ANY(bad);
}
