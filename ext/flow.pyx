# Gradient flow of many networks in compiled code: the whole adaptive Dormand-Prince 5(4)
# step loop (stages, error norm, PI step-size control, per-network time and step size,
# continuous-extension records, stop criteria) runs here, parallel over networks.
#
# Kernels only: typed memoryviews in, preallocated state and records out, loops without the
# GIL, one OpenMP team over independent networks. Each network is integrated entirely by one
# thread with thread-private scratch, in a fixed order of operations, so the numbers do not
# depend on the number of threads, on the other networks of the stack, nor on how the run is
# cut into calls: a call advances every running network by at most ``budget`` evaluations
# (gradients and the records' losses; a step whose records the budget cuts is redone by the
# next call, nothing of it stored before) and returns (the owner,
# topoanalysis/dynamics/flow.py, calls again; a Ctrl-C is seen between calls). All
# per-network state lives in the owner's arrays.
#
# The right-hand side is the engine's full-data loss gradient, computed with the same C block
# primitives (ext/_blockops.pxd) in the same order as ``net_pass`` of ext/engine.pyx, so the
# gradients are bit for bit those of ``evaluate_networks``; the step arithmetic reproduces the
# NumPy reference integrator (``method="python"``) operation by operation, including NumPy's
# pairwise summation in the error norms.
#
# Kink events (optional, one-hidden-layer networks with a kinked activation): the activation
# pattern of the first layer is frozen during a step (the right-hand side is then smooth), a
# pre-activation that changes sign inside the step is located on the continuous extension, and
# the step is cut there; see ``flow_one``.

from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY, NAN, fabs, isfinite, pow, sqrt
from libc.stdint cimport int8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from _blockops cimport (TA_GROUP, TA_NB, TA_SHARDS_MAX, TA_W, ta_affine, ta_alloc, ta_alloc_f,
                        ta_backprop, ta_current_clone, ta_have_f32, ta_head1, ta_loss_block,
                        ta_n_panels, ta_n_panels_f, ta_pass_shards, ta_reduce_lanes,
                        ta_reduce_lanes_f,
                        ta_select_clone, ta_shallow, ta_shallow_args, ta_shallow_args_f,
                        ta_shallow_f, ta_tanh, ta_wgrad, ta_wgrad_all, ta_wgrad_panels)

cdef enum:
    RUNNING = 0
    DONE = 1
    REACHED_TARGET = 2
    DIVERGED = 3
    MAX_STEPS = 4
    OUT_OF_MEMORY = 5
    WG_GROUP = 8        # as in engine.pyx
    MAX_REJECTS = 60
    PW_BLOCKSIZE = 128  # NumPy's pairwise summation

STATUS_RUNNING = RUNNING
STATUS_DONE = DONE
STATUS_REACHED_TARGET = REACHED_TARGET
STATUS_DIVERGED = DIVERGED
STATUS_MAX_STEPS = MAX_STEPS
STATUS_OUT_OF_MEMORY = OUT_OF_MEMORY

# --- Dormand-Prince 5(4) (Hairer, Norsett & Wanner, Table II.5.2) ---------------------------
cdef double A21 = 1.0 / 5
cdef double A31 = 3.0 / 40, A32 = 9.0 / 40
cdef double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9
cdef double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561
cdef double A54 = -212.0 / 729
cdef double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176
cdef double A65 = -5103.0 / 18656
cdef double A71 = 35.0 / 384, A73 = 500.0 / 1113, A74 = 125.0 / 192, A75 = -2187.0 / 6784
cdef double A76 = 11.0 / 84
cdef double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920, E5 = -17253.0 / 339200
cdef double E6 = 22.0 / 525, E7 = -1.0 / 40
# continuous extension (Shampine): y(t + xh) = y + h sum_j k_j sum_m P[j][m] x^(m+1)
cdef double[7][4] PC
PC[0][:] = [1.0, -8048581381.0 / 2820520608, 8663915743.0 / 2820520608,
            -12715105075.0 / 11282082432]
PC[1][:] = [0.0, 0.0, 0.0, 0.0]
PC[2][:] = [0.0, 131558114200.0 / 32700410799, -68118460800.0 / 10900136933,
            87487479700.0 / 32700410799]
PC[3][:] = [0.0, -1754552775.0 / 470086768, 14199869525.0 / 1410260304,
            -10690763975.0 / 1880347072]
PC[4][:] = [0.0, 127303824393.0 / 49829197408, -318862633887.0 / 49829197408,
            701980252875.0 / 199316789632]
PC[5][:] = [0.0, -282668133.0 / 205662961, 2019193451.0 / 616988883,
            -1453857185.0 / 822651844]
PC[6][:] = [0.0, 40617522.0 / 29380423, -110615467.0 / 29380423, 69997945.0 / 29380423]
# step-size controller of DOPRI5 (PI control, beta = 0.04)
cdef double SAFE = 0.9, FAC_MIN = 0.2, FAC_MAX = 10.0, BETA = 0.04
cdef double EXPO1 = 0.2 - 0.04 * 0.75
cdef double EPS = 2.220446049250313e-16


def tableau():
    """The coefficients compiled into this module (for the test against the Python tableau):
    ``(A rows 2-7 without zeros dropped, E, P)``."""
    A = ((A21,), (A31, A32), (A41, A42, A43), (A51, A52, A53, A54),
         (A61, A62, A63, A64, A65), (A71, 0.0, A73, A74, A75, A76))
    E = (E1, 0.0, E3, E4, E5, E6, E7)
    P = tuple(tuple(PC[j][m] for m in range(4)) for j in range(7))
    return A, E, P


# --- the engine's full-data pass (same primitives and order as net_pass in engine.pyx) --------
include "_common.pxi"


cdef struct Data:
    const double* Xb
    const double* Yb
    int N
    # float32 right-hand side (one hidden layer, one output): the data in float blocks; the
    # gradient is evaluated by the float32 kernels at the float rounding of the state
    bint f32
    const float* Xb32
    const float* Yb32
    const double* Xp    # samples x features panels (ta_panels) or NULL
    const float* Xp32
    long long pstride


cdef struct Scratch:
    double* Z
    double* S
    double* D0
    double* D1
    double* G
    double* gacc
    double* Dall
    double* G1p         # first-layer gradient chains of a full-data pass with panels
    double* sh_H
    double* sh_S
    double* sh_D
    double* sh_O
    double* sh_G
    double* sh_gacc
    double* sh_G1
    double* sh_part
    double* sh_val
    double* sh_hit
    int* sh_bad
    # integrator
    double* K          # 7 stages, (7, P)
    double* ys         # stage argument / dense output, (P,)
    double* tmp        # error terms, (P,)
    double* grad       # (P,)
    double* y0         # copy of the state at the start of an event step, (P,)
    # kink events: first-layer pre-activations of all blocks (n_blocks, l, NB), one block's
    # pre-activations and activations (l, NB), the confirmed crossings (pair indices)
    double* zb
    double* ev_Z
    double* ev_H
    long long* cand
    # sliding pairs of the last pattern pass: pair, w2_k g_n, solved fraction lambda
    int n_sl
    long long* sl_idx
    double* sl_D
    double* sl_lam
    # more than 8 sliding pairs on a neuron: the (dx, dx + 1) system and 3 dx-vectors
    double* sl_M
    double* sl_v
    # float32 right-hand side: the shallow kernel's scratch, lanes and parts in float, the
    # state rounded to float
    float* f_H
    float* f_S
    float* f_D
    float* f_O
    float* f_G
    float* f_gacc
    float* f_G1
    float* f_part
    float* f_theta


cdef void scratch_free(Scratch* sc) noexcept nogil:
    if sc == NULL:
        return
    free(sc.Z)
    free(sc.S)
    free(sc.D0)
    free(sc.D1)
    free(sc.G)
    free(sc.gacc)
    free(sc.Dall)
    free(sc.G1p)
    free(sc.sh_H)
    free(sc.sh_S)
    free(sc.sh_D)
    free(sc.sh_O)
    free(sc.sh_G)
    free(sc.sh_gacc)
    free(sc.sh_G1)
    free(sc.sh_part)
    free(sc.sh_val)
    free(sc.sh_hit)
    free(sc.sh_bad)
    free(sc.K)
    free(sc.ys)
    free(sc.tmp)
    free(sc.grad)
    free(sc.y0)
    free(sc.zb)
    free(sc.ev_Z)
    free(sc.ev_H)
    free(sc.cand)
    free(sc.sl_idx)
    free(sc.sl_D)
    free(sc.sl_lam)
    free(sc.sl_M)
    free(sc.sl_v)
    free(sc.f_H)
    free(sc.f_S)
    free(sc.f_D)
    free(sc.f_O)
    free(sc.f_G)
    free(sc.f_gacc)
    free(sc.f_G1)
    free(sc.f_part)
    free(sc.f_theta)
    free(sc)


cdef Scratch* scratch_new(const Layout* L, int N, bint events, bint f32) noexcept nogil:
    cdef Scratch* sc = <Scratch*>malloc(sizeof(Scratch))
    cdef size_t nb = TA_NB
    cdef size_t l1 = <size_t>L.rows[0]
    cdef size_t P = <size_t>L.P
    cdef size_t nblk = <size_t>((N + TA_NB - 1) // TA_NB)
    if sc == NULL:
        return NULL
    memset(sc, 0, sizeof(Scratch))
    sc.Z = ta_alloc(nb * L.z_rows)
    sc.S = ta_alloc(nb * (L.s_rows + 1))
    sc.D0 = ta_alloc(nb * L.max_width)
    sc.D1 = ta_alloc(nb * L.max_width)
    sc.G = ta_alloc(nb * L.e)
    sc.gacc = ta_alloc(TA_W * P)
    sc.Dall = ta_alloc(nb * l1 * WG_GROUP)
    sc.G1p = ta_alloc(l1 * ta_n_panels(L.d) * TA_W)
    sc.K = ta_alloc(7 * P)
    sc.ys = ta_alloc(P)
    sc.tmp = ta_alloc(P)
    sc.grad = ta_alloc(P)
    sc.y0 = ta_alloc(P)
    if (sc.Z == NULL or sc.S == NULL or sc.D0 == NULL or sc.D1 == NULL or sc.G == NULL
            or sc.gacc == NULL or sc.Dall == NULL or sc.G1p == NULL or sc.K == NULL
            or sc.ys == NULL or sc.tmp == NULL or sc.grad == NULL or sc.y0 == NULL):
        scratch_free(sc)
        return NULL
    if shallow_ok(L):
        sc.sh_H = ta_alloc(TA_GROUP * l1 * nb)
        sc.sh_S = ta_alloc(TA_GROUP * l1 * nb)
        sc.sh_D = ta_alloc(TA_GROUP * l1 * nb)
        sc.sh_O = ta_alloc(TA_GROUP * nb)
        sc.sh_G = ta_alloc(TA_GROUP * nb)
        sc.sh_gacc = ta_alloc(TA_W * P)
        sc.sh_G1 = ta_alloc(l1 * ta_n_panels(L.d) * TA_W)
        sc.sh_part = ta_alloc(TA_SHARDS_MAX * P)
        sc.sh_val = ta_alloc(TA_SHARDS_MAX)
        sc.sh_hit = ta_alloc(TA_SHARDS_MAX)
        sc.sh_bad = <int*>malloc(sizeof(int) * TA_SHARDS_MAX)
        if (sc.sh_H == NULL or sc.sh_S == NULL or sc.sh_D == NULL or sc.sh_O == NULL
                or sc.sh_G == NULL or sc.sh_gacc == NULL or sc.sh_part == NULL
                or sc.sh_G1 == NULL
                or sc.sh_val == NULL or sc.sh_hit == NULL or sc.sh_bad == NULL):
            scratch_free(sc)
            return NULL
    if f32:
        sc.f_H = ta_alloc_f(TA_GROUP * l1 * nb)
        sc.f_S = ta_alloc_f(TA_GROUP * l1 * nb)
        sc.f_D = ta_alloc_f(TA_GROUP * l1 * nb)
        sc.f_O = ta_alloc_f(TA_GROUP * nb)
        sc.f_G = ta_alloc_f(TA_GROUP * nb)
        sc.f_gacc = ta_alloc_f(TA_W * P)
        sc.f_G1 = ta_alloc_f(l1 * ta_n_panels_f(L.d) * TA_W)
        sc.f_part = ta_alloc_f(TA_SHARDS_MAX * P)
        sc.f_theta = ta_alloc_f(P)
        if (sc.f_H == NULL or sc.f_S == NULL or sc.f_D == NULL or sc.f_O == NULL
                or sc.f_G == NULL or sc.f_gacc == NULL or sc.f_part == NULL
                or sc.f_G1 == NULL
                or sc.f_theta == NULL):
            scratch_free(sc)
            return NULL
    if events:
        sc.zb = ta_alloc(l1 * nblk * nb)
        sc.ev_Z = ta_alloc(l1 * nb)
        sc.ev_H = ta_alloc(l1 * nb)
        sc.cand = <long long*>malloc(sizeof(long long) * (l1 * nblk * nb + 1))
        sc.sl_idx = <long long*>malloc(sizeof(long long) * (l1 * nblk * nb + 1))
        sc.sl_D = ta_alloc(l1 * nblk * nb + 1)
        sc.sl_lam = ta_alloc(l1 * nblk * nb + 1)
        sc.sl_M = ta_alloc(<size_t>(L.d + 1) * (L.d + 2) + <size_t>2 * (L.d + 1) * (L.d + 1))
        sc.sl_v = ta_alloc(<size_t>3 * (L.d + 1))
        if (sc.zb == NULL or sc.ev_Z == NULL or sc.ev_H == NULL or sc.cand == NULL
                or sc.sl_idx == NULL or sc.sl_D == NULL or sc.sl_lam == NULL
                or sc.sl_M == NULL or sc.sl_v == NULL):
            scratch_free(sc)
            return NULL
    return sc


cdef void shallow_shard(const Layout* L, const Data* D, const double* theta, int s,
                        int nshards, int nblk, bint need_grad, bint need_loss,
                        double scale, Scratch* sc) noexcept nogil:
    cdef size_t P = <size_t>L.P
    cdef double* gacc = sc.sh_gacc
    cdef ta_shallow_args a
    cdef double val = 0.0, hit = 0.0
    a.W1 = theta
    a.gW1 = gacc
    a.Xb = D.Xb
    a.Yb = D.Yb
    shallow_args_layout(&a, L, D.N, need_grad, need_loss, 0, scale)
    a.H = sc.sh_H
    a.S = sc.sh_S
    a.D = sc.sh_D
    a.O = sc.sh_O
    a.G = sc.sh_G
    a.Xp = D.Xp
    a.pstride = D.pstride
    a.G1 = sc.sh_G1
    if need_grad:
        shallow_zero(L, gacc, a.Xp != NULL)
    sc.sh_bad[s] = ta_shallow(&a, <int>((<long long>s * nblk) // nshards),
                              <int>((<long long>(s + 1) * nblk) // nshards), &val, &hit)
    sc.sh_val[s] = val
    if need_grad:
        shallow_collect(L, gacc, a.G1, a.Xp != NULL, sc.sh_part + <size_t>s * P)


cdef void shallow_shard_f32(const Layout* L, const Data* D, const float* theta, int s,
                            int nshards, int nblk, bint need_grad, bint need_loss,
                            double scale, Scratch* sc) noexcept nogil:
    """``shallow_shard`` with the float32 kernels (``shallow_shard_f`` of engine.pyx)."""
    cdef float* gacc = sc.f_gacc
    cdef ta_shallow_args_f a
    cdef double val = 0.0, hit = 0.0
    a.W1 = theta
    a.gW1 = gacc
    a.Xb = D.Xb32
    a.Yb = D.Yb32
    shallow_args_layout(&a, L, D.N, need_grad, need_loss, 0, scale)
    a.H = sc.f_H
    a.S = sc.f_S
    a.D = sc.f_D
    a.O = sc.f_O
    a.G = sc.f_G
    a.Xp = D.Xp32
    a.pstride = D.pstride
    a.G1 = sc.f_G1
    if need_grad:
        shallow_zero(L, gacc, a.Xp != NULL)
    sc.sh_bad[s] = ta_shallow_f(&a, <int>((<long long>s * nblk) // nshards),
                                <int>((<long long>(s + 1) * nblk) // nshards), &val, &hit)
    sc.sh_val[s] = val
    if need_grad:
        shallow_collect(L, gacc, a.G1, a.Xp != NULL, sc.f_part + <size_t>s * L.P)


cdef int shallow_pass_f32(const Layout* L, const Data* D, const double* theta, bint need_grad,
                          bint need_loss, double* loss_out, double* grad,
                          Scratch* sc) noexcept nogil:
    """The float32 right-hand side: the loss and gradient that ``evaluate_networks_f32`` of
    engine.pyx gives at the float rounding of ``theta`` (shard gradients added in float),
    returned in double."""
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int nshards = ta_pass_shards(D.N, L.P)
    cdef int s, p, bad = 0, P = L.P
    cdef double count = <double>D.N
    cdef double total
    cdef float g
    for p in range(P):
        sc.f_theta[p] = <float>theta[p]
    for s in range(nshards):
        shallow_shard_f32(L, D, sc.f_theta, s, nshards, nblk, need_grad, need_loss,
                          1.0 / count, sc)
    total = sc.sh_val[0]
    bad = sc.sh_bad[0]
    for s in range(1, nshards):
        total = total + sc.sh_val[s]
        bad |= sc.sh_bad[s]
    if need_grad:
        for p in range(P):
            g = sc.f_part[p]
            for s in range(1, nshards):
                g = g + sc.f_part[<size_t>s * P + p]
            grad[p] = <double>g
    if need_loss:
        loss_out[0] = total / count
    return bad


cdef int shallow_pass(const Layout* L, const Data* D, const double* theta, bint need_grad,
                      bint need_loss, double* loss_out, double* grad, Scratch* sc) noexcept nogil:
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int nshards = ta_pass_shards(D.N, L.P)
    cdef int s, p, bad = 0, P = L.P
    cdef double count = <double>D.N
    cdef double total
    cdef double* part
    if D.f32:
        return shallow_pass_f32(L, D, theta, need_grad, need_loss, loss_out, grad, sc)
    for s in range(nshards):
        shallow_shard(L, D, theta, s, nshards, nblk, need_grad, need_loss, 1.0 / count, sc)
    total = sc.sh_val[0]
    bad = sc.sh_bad[0]
    for s in range(1, nshards):
        total = total + sc.sh_val[s]
        bad |= sc.sh_bad[s]
    if need_grad:
        memcpy(grad, sc.sh_part, sizeof(double) * P)
        for s in range(1, nshards):
            part = sc.sh_part + <size_t>s * P
            for p in range(P):
                grad[p] = grad[p] + part[p]
    if need_loss:
        loss_out[0] = total / count
    return bad


cdef int net_pass(const Layout* L, const Data* D, const double* theta, bint need_grad,
                  double* loss_out, double* grad, Scratch* sc) noexcept nogil:
    """Loss and (``need_grad``) gradient of one network on all data: ``net_pass`` of
    engine.pyx without mini-batches, accuracy and outputs. Returns 1 when an output (or a
    tanh input) is not finite."""
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int blk, nv, li, n_out, n_in, bad = 0, d = L.d, e = L.e
    cdef const long long* row
    cdef const double* Hin
    cdef const double* X0
    cdef const double* Yblk
    cdef const double* bias
    cdef double* Zl = sc.Z
    cdef double* Sl
    cdef double* O
    cdef double* Dcur
    cdef double total = 0.0, part = 0.0
    cdef double count = <double>D.N * e if L.loss != 3 else <double>D.N
    cdef double scale = 1.0 / count
    cdef int n_hidden_layers = L.n_layers - 1
    cdef bint use_head = e == 1 and L.loss != 3
    if sc.sh_part != NULL:
        return shallow_pass(L, D, theta, need_grad, True, loss_out, grad, sc)
    cdef bint panels = need_grad and D.Xp != NULL
    if need_grad:
        memset(sc.gacc, 0, sizeof(double) * TA_W * L.P)
    if panels:
        memset(sc.G1p, 0, sizeof(double) * L.rows[0] * ta_n_panels(d) * TA_W)
    for blk in range(nblk):
        nv = D.N - blk * TA_NB
        if nv > TA_NB:
            nv = TA_NB
        X0 = D.Xb + <size_t>blk * d * TA_NB
        Yblk = D.Yb + <size_t>blk * e * TA_NB
        Hin = X0
        for li in range(n_hidden_layers):
            row = L.rows + 6 * li
            Zl = sc.Z + row[4] * TA_NB
            Sl = sc.S + row[5] * TA_NB if need_grad else NULL
            bad |= hidden_layer(L, theta, li, Hin, Zl, Sl)
            Hin = Zl
        row = L.rows + 6 * n_hidden_layers
        n_out = <int>row[0]
        n_in = <int>row[1]
        bias = theta + row[3] if row[3] >= 0 else NULL
        O = sc.Z + row[4] * TA_NB
        Dcur = sc.G
        li = n_hidden_layers
        if use_head:
            bad |= ta_head1(theta + row[2], bias, n_in, Hin,
                            sc.S + L.rows[6 * (n_hidden_layers - 1) + 5] * TA_NB, Yblk, nv,
                            scale, L.loss, True, need_grad, O, sc.gacc + TA_W * row[2],
                            sc.gacc + TA_W * row[3] if row[3] >= 0 else NULL, sc.D0, &part,
                            NULL)
            Dcur = sc.D0
            li = n_hidden_layers - 1
        else:
            ta_affine(theta + row[2], bias, n_out, n_in, Hin, O, -1, 0.0, NULL)
            bad |= ta_loss_block(L.loss, O, Yblk, e, nv, scale, True, sc.G, &part)
        total += part
        if need_grad:
            backward_block(L, theta, li, Dcur, X0, D.Xb, blk, nblk, True, sc.Z, sc.S,
                           sc.D0, sc.D1, sc.Dall, sc.gacc, D.Xp, D.pstride, sc.G1p)
    if need_grad:
        general_collect(L, sc.gacc, sc.G1p, panels, grad)
    loss_out[0] = total / count
    return bad


# --- the gradient with a frozen activation pattern (kink events) -----------------------------
cdef inline double side_value(int act, double slope, bint active) noexcept nogil:
    """Activation derivative on one side of the kink: relu 1 / 0, leaky relu 1 / slope,
    abs 1 / -1."""
    if active:
        return 1.0
    if act == 0:
        return 0.0
    if act == 1:
        return slope
    return -1.0


cdef int net_pass_pat(const Layout* L, const Data* D, const double* theta, const int8_t* pat,
                      bint need_grad, double* loss_out, double* grad,
                      Scratch* sc) noexcept nogil:
    """Loss and gradient of a one-hidden-layer, one-output network whose first-layer
    activation derivative is taken from the pattern ``pat`` (n_blocks, l, NB) instead of the
    sign of the pre-activation: 1 the active side, 0 the other side, 2 the sign of ``z``
    (unfrozen), 3 sliding along the kink (Filippov: the derivative is the convex combination
    ``s0 + λ (1 − s0)`` of the two sides that keeps ``ż = 0``, ``λ`` solved after the pass
    in ``sliding_correction``). The activation is ``S z`` with ``S`` that derivative, so with
    a frozen pattern the right-hand side is a polynomial in the parameters. Same primitives
    as the general path of ``net_pass``."""
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int blk, nv, k, m, bad = 0, d = L.d, l = <int>L.rows[0]
    cdef const long long* r0 = L.rows
    cdef const long long* r1 = L.rows + 6
    cdef const double* X0
    cdef const int8_t* q
    cdef double total = 0.0, part = 0.0, z, sv
    cdef double scale = 1.0 / <double>D.N
    cdef double* Z = sc.ev_Z
    cdef double* H = sc.ev_H
    cdef double* S = sc.S
    cdef bint active
    cdef int has_sl
    if need_grad:
        memset(sc.gacc, 0, sizeof(double) * TA_W * L.P)
    sc.n_sl = 0
    for blk in range(nblk):
        nv = D.N - blk * TA_NB
        if nv > TA_NB:
            nv = TA_NB
        X0 = D.Xb + <size_t>blk * d * TA_NB
        ta_affine(theta + r0[2], theta + r0[3] if r0[3] >= 0 else NULL, l, d, X0, Z, -1, 0.0,
                  NULL)
        q = pat + <size_t>blk * l * TA_NB
        has_sl = 0
        for k in range(l * TA_NB):
            z = Z[k]
            active = q[k] == 1 or q[k] == 3 or (q[k] == 2 and z > 0)
            has_sl |= q[k] == 3
            sv = side_value(L.act, L.slope, active)
            S[k] = sv
            H[k] = sv * z
        bad |= ta_head1(theta + r1[2], theta + r1[3] if r1[3] >= 0 else NULL, l, H, S,
                        D.Yb + <size_t>blk * TA_NB, nv, scale, L.loss, True, need_grad, sc.G,
                        sc.gacc + TA_W * r1[2], sc.gacc + TA_W * r1[3] if r1[3] >= 0 else NULL,
                        sc.D0, &part, NULL)
        total += part
        if has_sl:      # sliding pairs were passed with S = 1: D = w2_k g_n
            for k in range(l * TA_NB):
                if q[k] == 3:
                    sc.sl_idx[sc.n_sl] = <long long>blk * l * TA_NB + k
                    sc.sl_D[sc.n_sl] = sc.D0[k]
                    sc.n_sl += 1
        if need_grad:
            memcpy(sc.Dall + <size_t>(blk % WG_GROUP) * l * TA_NB, sc.D0,
                   sizeof(double) * l * TA_NB)
            if blk % WG_GROUP == WG_GROUP - 1 or blk == nblk - 1:
                ta_wgrad_all(sc.Dall, D.Xb + <size_t>(blk - blk % WG_GROUP) * d * TA_NB,
                             blk % WG_GROUP + 1, l, d, sc.gacc + TA_W * r0[2],
                             sc.gacc + TA_W * r0[3] if r0[3] >= 0 else NULL)
    if need_grad:
        ta_reduce_lanes(sc.gacc, L.P, grad)
        if sc.n_sl:
            sliding_correction(L, D, grad, sc)
    loss_out[0] = total / <double>D.N
    return bad


cdef inline double xt(const Layout* L, const Data* D, long long idx, int i) noexcept nogil:
    """Entry ``i`` of the extended input ``(x_n, 1)`` of pair ``idx`` (the 1 only with a
    hidden bias, ``i = d``)."""
    cdef int l = <int>L.rows[0], d = L.d
    cdef long long blk = idx // (l * TA_NB)
    cdef int m = <int>(idx % TA_NB)
    if i == d:
        return 1.0
    return D.Xb[<size_t>blk * d * TA_NB + <size_t>i * TA_NB + m]


cdef inline int solve_small(double* G, int r, double* x) noexcept nogil:
    """``solve_rows`` with row stride 9 (the ``8 × 9`` systems of ``sliding_correction``)."""
    return solve_rows(G, r, 9, x)


cdef int solve_rows(double* G, int r, int S, double* x) noexcept nogil:
    """Solve the ``r × r`` system ``[G | rhs]`` (row stride ``S``, right-hand side in column
    ``r``; overwritten) by Gaussian elimination with partial pivoting, dependent rows dropped
    (pivot ``<= 1e-12`` of the largest entry: that unknown is set to 0). Returns the number
    of dropped pivots (0: ``G`` was of full rank, ``x`` the unique solution)."""
    cdef int i, j, col, piv, dropped = 0
    cdef double big = 0.0, tmp
    for i in range(r):
        x[i] = 0.0
        for j in range(r):
            if fabs(G[i * S + j]) > big:
                big = fabs(G[i * S + j])
    for col in range(r):
        piv = col
        for i in range(col + 1, r):
            if fabs(G[i * S + col]) > fabs(G[piv * S + col]):
                piv = i
        if fabs(G[piv * S + col]) <= 1e-12 * big:
            for i in range(col, r):
                G[i * S + col] = 0.0
            dropped += 1
            continue
        if piv != col:
            for j in range(r + 1):
                tmp = G[col * S + j]
                G[col * S + j] = G[piv * S + j]
                G[piv * S + j] = tmp
        for i in range(col + 1, r):
            tmp = G[i * S + col] / G[col * S + col]
            for j in range(col, r + 1):
                G[i * S + j] = G[i * S + j] - tmp * G[col * S + j]
    for col in range(r - 1, -1, -1):
        if G[col * S + col] == 0.0:
            x[col] = 0.0
            continue
        tmp = G[col * S + r]
        for j in range(col + 1, r):
            tmp = tmp - G[col * S + j] * x[j]
        x[col] = tmp / G[col * S + col]
    return dropped


cdef inline double slide_coef(const Scratch* sc, int n, int l, int k, double s0) noexcept nogil:
    """``c_n = (1 − s0) D_n`` of sliding pair ``n`` when it belongs to neuron ``k``, else 0
    (pairs with ``c_n = 0`` take no part in ``slide_many`` either)."""
    if <int>((sc.sl_idx[n] // TA_NB) % l) != k:
        return 0.0
    return (1.0 - s0) * sc.sl_D[n]


cdef inline void slide_apply(const Layout* L, const Data* D, double* grad, Scratch* sc, int n,
                             double c, double lam, long long w0, long long b0) noexcept nogil:
    """Record sliding pair ``n``'s unclipped fraction ``lam``, clip it to [0, 1] and add
    ``c (λ − 1) x̃_n`` to the neuron's gradient (weights at ``w0``, bias at ``b0`` or none)."""
    cdef int i
    cdef double tmp
    sc.sl_lam[n] = lam
    if lam > 1.0:
        lam = 1.0
    elif lam < 0.0:
        lam = 0.0
    tmp = c * (lam - 1.0)
    for i in range(L.d):
        grad[w0 + i] = grad[w0 + i] + tmp * xt(L, D, sc.sl_idx[n], i)
    if b0 >= 0:
        grad[b0] = grad[b0] + tmp


cdef void slide_many(const Layout* L, const Data* D, double* grad, Scratch* sc, int k,
                     double s0) noexcept nogil:
    """``sliding_correction`` for a neuron ``k`` with more than 8 sliding pairs, in the
    input space: with ``S = Σ x̃_j x̃_jᵀ``, ``W = Σ c_j² x̃_j x̃_jᵀ`` and
    ``a = g_k − ½ Σ c_j x̃_j``, solve ``S W η = −S a`` (``dx × dx``); then
    ``λ_j = ½ + c_j x̃_j · η``: the fractions closest to 1/2 that keep every pair's ``ż = 0``
    (the minimum-norm solution of the pairs' system, as for dependent inputs; pairs with
    ``c_j = 0`` take no part)."""
    cdef int l = <int>L.rows[0], d = L.d, dx, i, m, n
    cdef long long w0 = L.rows[2] + <long long>k * d
    cdef long long b0 = L.rows[3] + k if L.rows[3] >= 0 else -1
    cdef double* M
    cdef double* Sm
    cdef double* Wm
    cdef double* a = sc.sl_v
    cdef double* eta
    cdef double c, tmp, lam, xi, xm
    dx = d + 1 if b0 >= 0 else d
    M = sc.sl_M
    Sm = M + <size_t>dx * (dx + 1)
    Wm = Sm + <size_t>dx * dx
    eta = a + dx
    memset(Sm, 0, sizeof(double) * dx * dx)
    memset(Wm, 0, sizeof(double) * dx * dx)
    for i in range(d):
        a[i] = grad[w0 + i]
    if b0 >= 0:
        a[d] = grad[b0]
    for n in range(sc.n_sl):
        c = slide_coef(sc, n, l, k, s0)
        if c == 0.0:
            continue
        for i in range(dx):
            xi = xt(L, D, sc.sl_idx[n], i)
            a[i] = a[i] - 0.5 * c * xi
            for m in range(dx):
                xm = xt(L, D, sc.sl_idx[n], m)
                Sm[i * dx + m] = Sm[i * dx + m] + xi * xm
                Wm[i * dx + m] = Wm[i * dx + m] + c * c * xi * xm
    for i in range(dx):
        for m in range(dx):
            tmp = 0.0
            for n in range(dx):
                tmp = tmp + Sm[i * dx + n] * Wm[n * dx + m]
            M[i * (dx + 1) + m] = tmp
        tmp = 0.0
        for n in range(dx):
            tmp = tmp + Sm[i * dx + n] * a[n]
        M[i * (dx + 1) + dx] = -tmp
    solve_rows(M, dx, dx + 1, eta)
    for n in range(sc.n_sl):
        c = slide_coef(sc, n, l, k, s0)
        if c == 0.0:
            continue
        tmp = 0.0
        for i in range(dx):
            tmp = tmp + xt(L, D, sc.sl_idx[n], i) * eta[i]
        slide_apply(L, D, grad, sc, n, c, 0.5 + c * tmp, w0, b0)


cdef void sliding_correction(const Layout* L, const Data* D, double* grad,
                             Scratch* sc) noexcept nogil:
    """Filippov sliding: the gradient was formed with ``λ = 1`` (the active side) for the
    sliding pairs; per neuron ``k`` with sliding samples ``n_1..n_r``, solve
    ``Σ_j (x̃_i · x̃_j) ν_j = −x̃_i · g_k`` (``ż_{k n_i} = 0``) by Gaussian elimination with
    partial pivoting, set ``λ_j = 1 + ν_j / c_j`` with ``c_j = (1 − s0) w2_k g_{n_j}``, clip
    it to [0, 1] and add ``Σ_j c_j (λ_j − 1) x̃_j`` to ``g_k``. The unclipped ``λ`` go to
    ``sc.sl_lam`` (outside [0, 1]: the pair leaves the kink).

    When the inputs ``x̃_j`` are dependent (duplicate samples, or every sample at once at
    ``w_k = 0`` without hidden bias) the fractions are not unique: the ones closest to 1/2
    are taken, ``μ = λ − 1 = −1/2 + C G ζ`` with ``(G C² G) ζ = q + G C / 2`` (``G`` the Gram
    matrix, ``C = diag(c)``, ``q`` the right-hand side; the minimum-norm solution of
    ``G C μ = q`` about ``−1/2``). A basic solution (the dropped rows' ``ν = 0``) put the
    whole correction on one pair, outside [0, 1], and the clipped field left the kink.
    A neuron with more than 8 sliding pairs is solved in the input space (``slide_many``;
    the pairs after the 8th used to be left out, at ``λ = 1`` for ever)."""
    cdef int l = <int>L.rows[0], d = L.d, k, i, j, m, r, col, dx
    cdef int[8] sel
    cdef double[8][8] G0
    cdef double[72] G
    cdef double[8] nu
    cdef double[8] q
    cdef double[8] cc
    cdef double[8] zeta
    cdef double tmp, s0 = side_value(L.act, L.slope, False), c, lam
    cdef long long w0, b0
    dx = d + 1 if L.rows[3] >= 0 else d
    for i in range(sc.n_sl):
        sc.sl_lam[i] = 1.0
    for k in range(l):
        r = 0
        for i in range(sc.n_sl):
            if <int>((sc.sl_idx[i] // TA_NB) % l) == k:
                if r < 8:
                    sel[r] = i
                r += 1
        if r == 0:
            continue
        if r > 8:
            slide_many(L, D, grad, sc, k, s0)
            continue
        w0 = L.rows[2] + <long long>k * d
        b0 = L.rows[3] + k if L.rows[3] >= 0 else -1
        # Gram system [G | rhs]
        for i in range(r):
            for j in range(r):
                tmp = 0.0
                for col in range(dx):
                    tmp = tmp + xt(L, D, sc.sl_idx[sel[i]], col) * xt(L, D, sc.sl_idx[sel[j]], col)
                G0[i][j] = tmp
                G[i * 9 + j] = tmp
            tmp = 0.0
            for col in range(d):
                tmp = tmp + xt(L, D, sc.sl_idx[sel[i]], col) * grad[w0 + col]
            if b0 >= 0:
                tmp = tmp + grad[b0]
            q[i] = -tmp
            G[i * 9 + r] = -tmp
            cc[i] = (1.0 - s0) * sc.sl_D[sel[i]]
        if solve_small(G, r, nu) > 0:
            # dependent inputs: the fractions closest to 1/2 (see above)
            for i in range(r):
                for j in range(r):
                    tmp = 0.0
                    for m in range(r):
                        tmp = tmp + G0[i][m] * cc[m] * cc[m] * G0[m][j]
                    G[i * 9 + j] = tmp
                tmp = q[i]
                for m in range(r):
                    tmp = tmp + 0.5 * G0[i][m] * cc[m]
                G[i * 9 + r] = tmp
            solve_small(G, r, zeta)
            for j in range(r):
                tmp = 0.0
                for m in range(r):
                    tmp = tmp + G0[j][m] * zeta[m]
                nu[j] = cc[j] * (-0.5 + cc[j] * tmp)
        # pivoting permuted the unknowns' equations only, not the unknowns: nu[j] is x̃_j's
        for j in range(r):
            c = cc[j]
            if c == 0.0:
                continue
            slide_apply(L, D, grad, sc, sel[j], c, 1.0 + nu[j] / c, w0, b0)


# --- NumPy's arithmetic, reproduced ----------------------------------------------------------
cdef double pairwise_sum(const double* a, Py_ssize_t n) noexcept nogil:
    """``np.add.reduce`` of a contiguous float64 row: pairwise summation with 8 accumulators
    (numpy/_core/src/umath/loops_utils.h.src), same bits."""
    cdef double res
    cdef double r0, r1, r2, r3, r4, r5, r6, r7
    cdef Py_ssize_t i, n2
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    if n <= PW_BLOCKSIZE:
        r0 = a[0]
        r1 = a[1]
        r2 = a[2]
        r3 = a[3]
        r4 = a[4]
        r5 = a[5]
        r6 = a[6]
        r7 = a[7]
        i = 8
        while i < n - (n % 8):
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2)


cdef inline double mean_of(const double* a, Py_ssize_t n) noexcept nogil:
    """``np.mean`` of a row (sum from the reduction's identity 0, then divided by n)."""
    return (0.0 + pairwise_sum(a, n)) / <double>n


cdef inline double np_max(double a, double b) noexcept nogil:
    """``np.maximum``: NaN propagates."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b


cdef inline double np_min(double a, double b) noexcept nogil:
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


def pairwise_sum_of(const double[::1] a):
    """The compiled pairwise sum of ``a`` (tested bit for bit against ``np.add.reduce``)."""
    if a.shape[0] == 0:
        return 0.0
    return pairwise_sum(&a[0], a.shape[0])


# --- the integrator ----------------------------------------------------------------------------
cdef struct FlowCfg:
    double t_end
    double rtol
    double atol
    int has_target
    double target
    long long max_steps      # 0: no limit
    double first_step        # <= 0: Hairer's estimate
    const double* rt
    int R
    int rec_params
    int rec_cons
    int n_hidden
    long long budget         # gradient evaluations per network in this call (a step is whole)
    # per-network state (B, ...)
    double* theta
    double* k1
    double* t
    double* h
    double* facold
    double* cur_loss
    int8_t* status
    int8_t* last_rej
    int8_t* started
    long long* n_acc
    long long* n_rej
    long long* n_eval
    long long* n_loss_eval
    long long* consec
    long long* next_rec
    double* loss_rec
    long long* rec_acc
    double* param_rec
    double* cons_rec
    # kink events (NULL / 0 without)
    int events
    size_t pat_len           # n_blocks * l * NB
    int8_t* pat              # (B, pat_len) frozen first-layer activation pattern
    long long* n_events
    long long* n_sliding


cdef inline int rhs(const Layout* L, const Data* D, const double* y, double* loss,
                    double* k, const int8_t* pat, Scratch* sc) noexcept nogil:
    """``k = −∇L(y)`` and the loss (with the frozen pattern ``pat`` unless NULL); returns
    the engine's non-finite flag."""
    cdef int p, bad
    if pat != NULL:
        bad = net_pass_pat(L, D, y, pat, True, loss, k, sc)
    else:
        bad = net_pass(L, D, y, True, loss, k, sc)
    for p in range(L.P):
        k[p] = -k[p]
    return bad


cdef inline void record(const Layout* L, const FlowCfg* c, Py_ssize_t b, int j,
                        const double* th, double lv) noexcept nogil:
    cdef size_t R = <size_t>c.R
    c.loss_rec[b * R + j] = lv
    c.rec_acc[b * R + j] = c.n_acc[b]
    if c.rec_cons:
        conserved(L, th, c.cons_rec + (b * R + j) * <size_t>c.n_hidden)
    if c.rec_params:
        memcpy(c.param_rec + (b * R + j) * <size_t>L.P, th, sizeof(double) * L.P)


cdef double initial_step(const Layout* L, const Data* D, const FlowCfg* c, const double* y0,
                         const double* f0, const int8_t* pat, Scratch* sc) noexcept nogil:
    """Hairer's starting step (``HINIT`` of DOPRI5), as ``_initial_step`` of flow.py: one
    gradient evaluation."""
    cdef int p, P = L.P, bad
    cdef double* sk = sc.tmp
    cdef double* a = sc.grad
    cdef double* f1 = sc.K + P
    cdef double dnf, dny, h, der2, der12, h1, lv, v
    for p in range(P):
        sk[p] = c.atol + c.rtol * fabs(y0[p])
    for p in range(P):
        v = f0[p] / sk[p]
        a[p] = v * v
    dnf = mean_of(a, P)
    for p in range(P):
        v = y0[p] / sk[p]
        a[p] = v * v
    dny = mean_of(a, P)
    if dnf > 1e-10 and dny > 1e-10:
        h = 0.01 * sqrt(dny / np_max(dnf, 1e-300))
    else:
        h = 1e-6
    h = np_min(h, c.t_end)
    for p in range(P):
        sc.ys[p] = y0[p] + h * f0[p]
    bad = rhs(L, D, sc.ys, &lv, f1, pat, sc)
    for p in range(P):
        v = (f1[p] - f0[p]) / sk[p]
        a[p] = v * v
    der2 = sqrt(mean_of(a, P)) / h
    der12 = np_max(fabs(der2), sqrt(dnf))
    if der12 <= 1e-15:
        h1 = np_max(1e-6, h * 1e-3)
    else:
        h1 = pow(0.01 / np_max(der12, 1e-300), 0.2)
    if bad or not isfinite(h1):
        h1 = h
    return np_min(np_min(100 * h, h1), c.t_end)


cdef inline void stage_arg(const double* y, double h, const double* K, Py_ssize_t P,
                           int s, double* out) noexcept nogil:
    """``y + h Σ_j A[s][j] K_j`` as ``_combine`` of flow.py: the terms added left to right,
    zero coefficients skipped, then one multiply by h and one add."""
    cdef Py_ssize_t p
    cdef const double* k0 = K
    cdef const double* k1_ = K + P
    cdef const double* k2 = K + 2 * P
    cdef const double* k3 = K + 3 * P
    cdef const double* k4 = K + 4 * P
    cdef const double* k5 = K + 5 * P
    cdef double acc
    if s == 1:
        for p in range(P):
            acc = A21 * k0[p]
            out[p] = y[p] + h * acc
    elif s == 2:
        for p in range(P):
            acc = A31 * k0[p] + A32 * k1_[p]
            out[p] = y[p] + h * acc
    elif s == 3:
        for p in range(P):
            acc = A41 * k0[p] + A42 * k1_[p]
            acc = acc + A43 * k2[p]
            out[p] = y[p] + h * acc
    elif s == 4:
        for p in range(P):
            acc = A51 * k0[p] + A52 * k1_[p]
            acc = acc + A53 * k2[p]
            acc = acc + A54 * k3[p]
            out[p] = y[p] + h * acc
    elif s == 5:
        for p in range(P):
            acc = A61 * k0[p] + A62 * k1_[p]
            acc = acc + A63 * k2[p]
            acc = acc + A64 * k3[p]
            acc = acc + A65 * k4[p]
            out[p] = y[p] + h * acc
    else:
        for p in range(P):
            acc = A71 * k0[p] + A73 * k2[p]
            acc = acc + A74 * k3[p]
            acc = acc + A75 * k4[p]
            acc = acc + A76 * k5[p]
            out[p] = y[p] + h * acc


cdef void dense(const double* y0, double h, const double* K, Py_ssize_t P, double x,
                double* out) noexcept nogil:
    """Continuous extension at fraction ``x`` of the step, as the records of flow.py:
    ``c_j = ((0 + P_j0 x) + P_j1 x²) + P_j2 x³ + P_j3 x⁴`` (x² as x·x, x³ and x⁴ by pow),
    ``y0 + h (c_0 K_0 + c_2 K_2 + ... + c_6 K_6)``."""
    cdef double[7] cf
    cdef Py_ssize_t p
    dense_coeffs(x, cf)
    for p in range(P):
        out[p] = dense_entry(y0, h, K, P, cf, p)


cdef inline void dense_coeffs(double x, double* cf) noexcept nogil:
    cdef double x2 = x * x, x3 = pow(x, 3.0), x4 = pow(x, 4.0)
    cdef int j
    for j in range(7):
        cf[j] = ((0.0 + PC[j][0] * x) + PC[j][1] * x2) + PC[j][2] * x3
        cf[j] = cf[j] + PC[j][3] * x4


cdef inline double dense_entry(const double* y0, double h, const double* K, Py_ssize_t P,
                               const double* cf, Py_ssize_t p) noexcept nogil:
    cdef double acc = cf[0] * K[p]
    cdef int j
    for j in range(2, 7):
        acc = acc + cf[j] * K[j * P + p]
    return y0[p] + h * acc


# --- kink events ------------------------------------------------------------------------------
cdef inline double z_of(const Layout* L, const Data* D, const double* th,
                        long long idx) noexcept nogil:
    """First-layer pre-activation of pair ``idx = (blk l + k) NB + m`` (neuron k, sample
    blk NB + m) at parameters ``th``: ``Σ_i W_ki x_i`` left to right, then ``+ b_k``. The
    one formula that decides on which side of a kink a pair is."""
    cdef int l = <int>L.rows[0], d = L.d, i
    cdef long long blk = idx // (l * TA_NB)
    cdef int k = <int>((idx // TA_NB) % l), m = <int>(idx % TA_NB)
    cdef const double* X0 = D.Xb + <size_t>blk * d * TA_NB
    cdef const double* W = th + L.rows[2] + <size_t>k * d
    cdef double z = 0.0
    for i in range(d):
        z = z + W[i] * X0[i * TA_NB + m]
    if L.rows[3] >= 0:
        z = z + th[L.rows[3] + k]
    return z


cdef inline double z_dense(const Layout* L, const Data* D, const double* y0, double h,
                           const double* K, const double* cf, long long idx) noexcept nogil:
    """``z_of`` on the continuous extension (coefficients ``cf`` of ``dense_coeffs``): the
    parameters are formed entry by entry as ``dense`` forms them, so ``z_dense`` at ``x`` and
    ``z_of`` at ``dense(x)`` are the same number."""
    cdef int l = <int>L.rows[0], d = L.d, i
    cdef Py_ssize_t P = L.P
    cdef long long blk = idx // (l * TA_NB)
    cdef int k = <int>((idx // TA_NB) % l), m = <int>(idx % TA_NB)
    cdef const double* X0 = D.Xb + <size_t>blk * d * TA_NB
    cdef Py_ssize_t w0 = L.rows[2] + <Py_ssize_t>k * d
    cdef double z = 0.0
    for i in range(d):
        z = z + dense_entry(y0, h, K, P, cf, w0 + i) * X0[i * TA_NB + m]
    if L.rows[3] >= 0:
        z = z + dense_entry(y0, h, K, P, cf, L.rows[3] + k)
    return z


cdef void init_pattern(const Layout* L, const Data* D, const double* th,
                       int8_t* pat) noexcept nogil:
    """The pattern of ``th``: 1 where ``z > 0``, else 0 (padding samples 0)."""
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB, l = <int>L.rows[0]
    cdef int blk, k, m, nv
    cdef long long idx
    for blk in range(nblk):
        nv = D.N - blk * TA_NB
        if nv > TA_NB:
            nv = TA_NB
        for k in range(l):
            for m in range(TA_NB):
                idx = (<long long>blk * l + k) * TA_NB + m
                pat[idx] = (z_of(L, D, th, idx) > 0) if m < nv else 0


cdef double find_event(const Layout* L, const Data* D, const double* y0, double h,
                       const double* K, const double* y1, const int8_t* pat, Scratch* sc,
                       int* n_out) noexcept nogil:
    """Earliest kink crossing inside an accepted step from ``y0`` to ``y1``: the fraction
    ``x`` in (0, 1] of the step (2 when no frozen pair changes side), with the pairs that
    may have changed side in ``sc.cand[0:n_out]``.

    Candidates (one ``ta_affine`` pass over the data for each of ``z(y0)``, ``z(y1)``,
    ``ż(y0) = z'(K_1)`` and ``ż(y1) = z'(K_7)``): the pairs on the other side of their frozen
    pattern at ``y1``, and those on their side at both ends whose end slopes point to the
    kink and away from it (a crossing and a return inside the step). Each candidate's
    ``z_dense`` is scanned at ``x = j/16`` and the first change of side is located by
    bisection to the last bit of ``x`` (the returned ``x`` is the upper end, where the pair
    has crossed)."""
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB, l = <int>L.rows[0], d = L.d
    cdef int blk, k, m, nv, i, j, it, n = 0
    cdef long long idx
    cdef const long long* r0 = L.rows
    cdef const double* K7 = K + 6 * L.P
    cdef const double* Xblk
    cdef double[7] cf
    cdef double xe = 2.0, lo, hi, mid, z0, z1, s0, s1
    cdef bint q1, found
    for blk in range(nblk):
        nv = D.N - blk * TA_NB
        if nv > TA_NB:
            nv = TA_NB
        Xblk = D.Xb + <size_t>blk * d * TA_NB
        ta_affine(y1 + r0[2], y1 + r0[3] if r0[3] >= 0 else NULL, l, d, Xblk, sc.ev_Z, -1,
                  0.0, NULL)
        ta_affine(y0 + r0[2], y0 + r0[3] if r0[3] >= 0 else NULL, l, d, Xblk, sc.ev_H, -1,
                  0.0, NULL)
        ta_affine(K + r0[2], K + r0[3] if r0[3] >= 0 else NULL, l, d, Xblk, sc.D0, -1,
                  0.0, NULL)
        ta_affine(K7 + r0[2], K7 + r0[3] if r0[3] >= 0 else NULL, l, d, Xblk, sc.D1, -1,
                  0.0, NULL)
        for k in range(l):
            for m in range(nv):
                idx = (<long long>blk * l + k) * TA_NB + m
                if pat[idx] >= 2:      # unfrozen or sliding: no events
                    continue
                q1 = pat[idx] == 1
                z1 = sc.ev_Z[k * TA_NB + m]
                z0 = sc.ev_H[k * TA_NB + m]
                s0 = sc.D0[k * TA_NB + m]
                s1 = sc.D1[k * TA_NB + m]
                if ((z1 > 0) != q1 or (q1 and s0 < 0 and s1 > 0)
                        or (not q1 and s0 > 0 and s1 < 0)):
                    sc.cand[n] = idx
                    n += 1
    n_out[0] = n
    for i in range(n):
        idx = sc.cand[i]
        q1 = pat[idx] == 1
        found = False
        lo = 0.0
        for j in range(1, 17):
            hi = j / 16.0
            if hi >= xe:
                hi = xe
            dense_coeffs(hi, cf)
            if (z_dense(L, D, y0, h, K, cf, idx) > 0) != q1:
                found = True
                break
            if hi >= xe:
                break
            lo = hi
        if not found:
            continue
        for it in range(80):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            dense_coeffs(mid, cf)
            if (z_dense(L, D, y0, h, K, cf, idx) > 0) != q1:
                hi = mid
            else:
                lo = mid
        xe = hi
    return xe

cdef inline void pause_step(const FlowCfg* c, Py_ssize_t b) noexcept nogil:
    """Stop inside the records of an accepted step (the call's budget is spent): nothing of
    the step is kept but its records so far (``next_rec``); the next call redoes the step from
    the same state, with the same numbers, without counting its evaluations again."""
    c.n_acc[b] -= 1
    c.started[b] = 2


cdef inline void commit_control(const FlowCfg* c, Py_ssize_t b, double h_acc,
                                double en) noexcept nogil:
    """The step-size controller's state after an accepted step (``h_acc`` already capped at
    the step's size right after a rejection)."""
    c.facold[b] = np_max(en, 1e-4)
    c.last_rej[b] = 0
    c.h[b] = h_acc
    c.consec[b] = 0


cdef void flow_one(Py_ssize_t b, const Layout* L, const Data* D, const FlowCfg* c,
                   Scratch* sc) noexcept nogil:
    """Advance network ``b`` by whole steps until it stops or has spent ``c.budget``
    evaluations in this call (gradients and record losses; see ``pause_step``). Operation for operation the reference integrator
    (``gradient_flow(..., method="python")``) restricted to one network."""
    cdef Py_ssize_t P = L.P, p
    cdef double* th = c.theta + b * P
    cdef double* k1 = c.k1 + b * P
    cdef double* K = sc.K
    cdef double* y1
    cdef double lv, loss1, hh, remaining, en, v, fac11, fac, h_acc, h_rej, t_new, x
    cdef double t0, xe, t_e, zd
    cdef double[7] cf
    cdef long long used = 0, idx
    cdef int s, bad, stage_bad, j, j0, hi, i, n_cross, n_flip, n_sl_new
    cdef int8_t q
    cdef bint land, accept
    cdef int8_t* pat = c.pat + <size_t>b * c.pat_len if c.events else NULL
    if c.status[b] != RUNNING:
        return
    if not c.started[b]:
        c.started[b] = 1
        if pat != NULL:
            init_pattern(L, D, th, pat)
        bad = rhs(L, D, th, &lv, k1, pat, sc)
        c.n_eval[b] += 1
        used += 1
        c.cur_loss[b] = lv
        if c.first_step > 0:
            c.h[b] = np_min(c.first_step, c.t_end)
        # a non-finite loss or gradient at the start (finite outputs can still give an
        # infinite loss): stopped at once, as the reference integrator does
        if not bad and not isfinite(lv):
            bad = 1
        p = 0
        while not bad and p < P:
            if not isfinite(k1[p]):
                bad = 1
            p += 1
        if bad:
            c.status[b] = DIVERGED
            return
        if c.rt[0] == 0.0:
            record(L, c, b, 0, th, lv)
            c.next_rec[b] = 1
        if c.has_target and lv <= c.target:
            c.status[b] = REACHED_TARGET
            return
        if c.first_step <= 0:
            c.h[b] = initial_step(L, D, c, th, k1, pat, sc)
            c.n_eval[b] += 1
            used += 1
    while c.status[b] == RUNNING and used < c.budget:
        remaining = c.t_end - c.t[b]
        land = c.h[b] >= remaining
        hh = remaining if land else c.h[b]
        if not land and not (c.t[b] + hh > c.t[b]):
            # a step size that cannot advance the time (0 or NaN from an overflowing
            # starting-step norm, or below the rounding of t) would be accepted forever
            c.status[b] = DIVERGED
            break
        memcpy(K, k1, sizeof(double) * P)
        stage_bad = 0
        for s in range(1, 7):
            stage_arg(th, hh, K, P, s, sc.ys)
            stage_bad |= rhs(L, D, sc.ys, &loss1, K + s * P, pat, sc)
        y1 = sc.ys
        used += 6
        if c.started[b] == 2:
            # the step is redone after a call that stopped inside its records (same state,
            # same numbers): its evaluations were counted the first time
            c.started[b] = 1
        else:
            c.n_eval[b] += 6
        # error norm: sqrt(mean((h Σ E_j K_j / (atol + rtol max(|y0|, |y1|)))²))
        for p in range(P):
            v = 0.0 + E1 * K[p]
            v = v + E3 * K[2 * P + p]
            v = v + E4 * K[3 * P + p]
            v = v + E5 * K[4 * P + p]
            v = v + E6 * K[5 * P + p]
            v = v + E7 * K[6 * P + p]
            v = hh * v
            v = v / (c.atol + c.rtol * np_max(fabs(th[p]), fabs(y1[p])))
            sc.tmp[p] = v * v
        en = sqrt(mean_of(sc.tmp, P))
        if stage_bad or not isfinite(en) or not isfinite(loss1):
            en = INFINITY
        accept = en <= 1.0
        # step-size control (DOPRI5)
        fac11 = pow(en, EXPO1)
        fac = fac11 / pow(c.facold[b], BETA)
        fac = np_min(np_max(fac / SAFE, 1.0 / FAC_MAX), 1.0 / FAC_MIN)
        h_acc = hh / fac
        h_rej = hh / np_min(1.0 / FAC_MIN, fac11 / SAFE)
        if c.last_rej[b]:
            h_acc = np_min(h_acc, hh)
        if not accept:
            c.last_rej[b] = 1
            c.h[b] = h_rej
            c.n_rej[b] += 1
            c.consec[b] += 1
            if (h_rej <= 16 * EPS * np_max(c.t[b], 1e-300)
                    or c.consec[b] >= MAX_REJECTS):
                c.status[b] = DIVERGED
            continue
        # an accepted step: the records it passes first (a call whose budget runs out
        # among them stops there and the next call redoes the step: nothing of the step is
        # stored before its records are done), then the controller and the state
        t0 = c.t[b]
        t_new = c.t_end if land else t0 + hh
        c.n_acc[b] += 1    # as the records see it
        xe = 2.0
        if pat != NULL:
            xe = find_event(L, D, th, hh, K, y1, pat, sc, &n_cross)
        if xe <= 1.0:
            # a kink is crossed: cut the step at the crossing (state from the continuous
            # extension), flip the pairs that crossed, restart with their new side
            t_e = t_new if xe == 1.0 else t0 + xe * hh
            if t_e > t_new:
                t_e = t_new
            j = <int>c.next_rec[b]
            j0 = j
            while j < c.R and c.rt[j] <= t_e:
                if used >= c.budget and j > j0:
                    break
                x = (c.rt[j] - t0) / hh
                if x > xe:
                    x = xe
                dense(th, hh, K, P, x, sc.grad)
                net_pass(L, D, sc.grad, False, &lv, NULL, sc)
                c.n_loss_eval[b] += 1
                used += 1
                record(L, c, b, j, sc.grad, lv)
                j += 1
            c.next_rec[b] = j
            if j < c.R and c.rt[j] <= t_e:
                pause_step(c, b)
                return
            commit_control(c, b, h_acc, en)
            dense_coeffs(xe, cf)
            n_flip = 0
            for i in range(n_cross):
                idx = sc.cand[i]
                q = pat[idx]
                if (z_dense(L, D, th, hh, K, cf, idx) > 0) != (q == 1):
                    pat[idx] = 1 - q
                    sc.cand[n_flip] = idx
                    n_flip += 1
            dense(th, hh, K, P, xe, sc.y0)
            memcpy(th, sc.y0, sizeof(double) * P)
            bad = rhs(L, D, th, &lv, k1, pat, sc)
            c.n_eval[b] += 1
            used += 1
            c.n_events[b] += 1
            # sliding (Filippov) kinks: the new side's field points back across the kink;
            # such a pair slides along it (code 3) and the field is evaluated again
            n_sl_new = 0
            for i in range(n_flip):
                idx = sc.cand[i]
                zd = z_of(L, D, k1, idx)
                if (pat[idx] == 0 and zd > 0) or (pat[idx] == 1 and zd < 0):
                    pat[idx] = 3
                    c.n_sliding[b] += 1
                    n_sl_new += 1
            if n_sl_new and not bad:
                bad = rhs(L, D, th, &lv, k1, pat, sc)
                c.n_eval[b] += 1
                used += 1
            c.cur_loss[b] = lv
            c.t[b] = t_e
            if bad or not isfinite(lv):
                c.status[b] = DIVERGED
            elif t_e >= c.t_end:
                c.status[b] = DONE
            elif c.has_target and lv <= c.target:
                c.status[b] = REACHED_TARGET
            elif c.max_steps > 0 and c.n_acc[b] >= c.max_steps:
                c.status[b] = MAX_STEPS
            continue
        # records in (t, t_new]
        j = <int>c.next_rec[b]
        j0 = j
        while j < c.R and c.rt[j] <= t_new:
            if used >= c.budget and j > j0:
                break
            if c.rt[j] >= t_new:
                record(L, c, b, j, y1, loss1)
            else:
                x = (c.rt[j] - t0) / hh
                dense(th, hh, K, P, x, sc.grad)
                net_pass(L, D, sc.grad, False, &lv, NULL, sc)
                c.n_loss_eval[b] += 1
                used += 1
                record(L, c, b, j, sc.grad, lv)
            j += 1
        c.next_rec[b] = j
        if j < c.R and c.rt[j] <= t_new:
            pause_step(c, b)
            return
        commit_control(c, b, h_acc, en)
        memcpy(th, y1, sizeof(double) * P)
        memcpy(k1, K + 6 * P, sizeof(double) * P)
        if pat != NULL and sc.n_sl:
            # sliding pairs whose λ at y1 (the last evaluation) left [0, 1] leave the kink
            # to that side; the field is continuous there (λ is clipped), no restart
            for i in range(sc.n_sl):
                if sc.sl_lam[i] > 1.0:
                    pat[sc.sl_idx[i]] = 1
                elif sc.sl_lam[i] < 0.0:
                    pat[sc.sl_idx[i]] = 0
        c.cur_loss[b] = loss1
        c.t[b] = t_new
        if t_new >= c.t_end:
            c.status[b] = DONE
        elif c.has_target and loss1 <= c.target:
            c.status[b] = REACHED_TARGET
        elif c.max_steps > 0 and c.n_acc[b] >= c.max_steps:
            c.status[b] = MAX_STEPS


def flow_chunk(const double[:, :, ::1] Xb, const double[:, :, ::1] Yb, int N,
               const long long[:, ::1] layout, int act, double slope, int loss,
               double t_end, double rtol, double atol, bint has_target, double target,
               long long max_steps, double first_step, const double[::1] record_times,
               bint rec_params, bint rec_cons, long long budget,
               double[:, ::1] theta, double[:, ::1] k1, double[::1] t, double[::1] h,
               double[::1] facold, double[::1] cur_loss, int8_t[::1] status,
               int8_t[::1] last_rej, int8_t[::1] started, long long[::1] n_acc,
               long long[::1] n_rej, long long[::1] n_eval, long long[::1] n_loss_eval,
               long long[::1] consec, long long[::1] next_rec,
               double[:, ::1] loss_rec, long long[:, ::1] rec_acc,
               double[:, :, ::1] param_rec, double[:, :, ::1] cons_rec, bint events,
               int8_t[:, ::1] pattern, long long[::1] n_events, long long[::1] n_sliding,
               int n_threads, int clone, const float[:, :, ::1] Xb32=None,
               const float[:, :, ::1] Yb32=None, const double[:, :, ::1] Xp=None,
               const float[:, :, ::1] Xp32=None):
    """Advance every running network of the stack by whole Dormand-Prince steps until it
    stops or has spent ``budget`` evaluations in this call (gradients, and the loss
    evaluations of the records between steps; a call may stop inside the records of an
    accepted step, which the next call redoes: ``started`` 2). State updated in place;
    consecutive calls give the numbers of one long call. Parallel over networks.

    ``events``: kink events (one hidden layer, one output, elementwise loss, relu / leaky
    relu / abs): ``pattern`` (B, n_blocks l NB) holds each network's frozen first-layer
    pattern, ``n_events`` and ``n_sliding`` count the crossings and the sliding pairs.

    ``clone``: the instruction-set clone of the block primitives (this module has its own
    dispatch table; the owner passes the engine's ``current_clone()``, so that the gradients
    are the engine's bit for bit).

    ``Xb32``, ``Yb32`` (float blocks of the data): the right-hand side in float32 (one hidden
    layer, one output, elementwise loss, no events): the loss and gradient of the float32
    kernels at the float rounding of the state; the integrator itself stays in double."""
    cdef Layout L = make_layout(layout, act, slope, loss, theta.shape[1])
    cdef Data D
    cdef FlowCfg c
    cdef Scratch* sc = NULL
    cdef Py_ssize_t b, B = theta.shape[0]
    D.Xb = &Xb[0, 0, 0]
    D.Yb = &Yb[0, 0, 0]
    D.N = N
    D.f32 = Xb32 is not None
    D.Xb32 = NULL
    D.Yb32 = NULL
    if D.f32:
        if not ta_have_f32() or not shallow_ok(&L) or events:
            raise ValueError("float32 flow: one hidden layer, a vectorized activation, one "
                             "output, an elementwise loss, no kink events")
        D.Xb32 = &Xb32[0, 0, 0]
        D.Yb32 = &Yb32[0, 0, 0]
    c.t_end = t_end
    c.rtol = rtol
    c.atol = atol
    c.has_target = has_target
    c.target = target
    c.max_steps = max_steps
    c.first_step = first_step
    c.rt = &record_times[0]
    c.R = <int>record_times.shape[0]
    c.rec_params = rec_params
    c.rec_cons = rec_cons
    c.n_hidden = <int>cons_rec.shape[2]
    c.budget = budget
    c.theta = &theta[0, 0]
    c.k1 = &k1[0, 0]
    c.t = &t[0]
    c.h = &h[0]
    c.facold = &facold[0]
    c.cur_loss = &cur_loss[0]
    c.status = &status[0]
    c.last_rej = &last_rej[0]
    c.started = &started[0]
    c.n_acc = &n_acc[0]
    c.n_rej = &n_rej[0]
    c.n_eval = &n_eval[0]
    c.n_loss_eval = &n_loss_eval[0]
    c.consec = &consec[0]
    c.next_rec = &next_rec[0]
    c.loss_rec = &loss_rec[0, 0]
    c.rec_acc = &rec_acc[0, 0]
    c.param_rec = &param_rec[0, 0, 0]
    c.cons_rec = &cons_rec[0, 0, 0]
    c.events = events
    c.pat_len = <size_t>pattern.shape[1]
    c.pat = &pattern[0, 0]
    c.n_events = &n_events[0]
    c.n_sliding = &n_sliding[0]
    if ta_current_clone() != clone:
        ta_select_clone(clone)
    if n_threads > B:
        n_threads = <int>B
    D.pstride = <long long>Xb.shape[0] * TA_NB
    cdef double* own_xp = NULL
    cdef float* own_xp32 = NULL
    cdef double* use_xp = NULL
    cdef float* use_xp32 = NULL
    # the panels of the first-layer gradient (shallow path and, in float64, the general path
    # as in engine.pyx, so that both flows evaluate the same bits)
    if D.f32:
        data_panels(Xb32, N, Xp32, &use_xp32, &own_xp32)
    else:
        data_panels(Xb, N, Xp, &use_xp, &own_xp)
    D.Xp = use_xp
    D.Xp32 = use_xp32
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new(&L, N, events, D.f32)
        for b in prange(B, schedule="dynamic"):
            if sc == NULL:
                c.status[b] = OUT_OF_MEMORY
            else:
                flow_one(b, &L, &D, &c, sc)
        scratch_free(sc)
    free(own_xp)
    free(own_xp32)
