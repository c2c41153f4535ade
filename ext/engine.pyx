# Batched forward/backward, training and path evaluation of many networks on one data set.
#
# Kernels only: typed memoryviews in, preallocated outputs, loops without the GIL, one OpenMP
# thread team over independent networks (or segments). Every network (segment) is computed
# entirely by one thread with thread-private scratch, so results do not depend on the number of
# threads. Exception, with the same guarantee: full-data passes of a shallow one-output network
# (``shallow_pass``) always split the samples into the same shards (``ta_pass_shards``, a
# function of the problem size) and add the shard results in shard order; when training fewer networks than
# threads, the threads share them (if a pass is large enough to pay for it, SPLIT_MIN_WORK).
# The C primitives come from ext/blockops.h through the dispatch table of the selected clone
# (default, x86-64-v3, x86-64-v4; ``select_clone``).
# The Python owners live in topoanalysis/dynamics/_engine.py: they validate, lay out the data
# in blocks, allocate and translate the status codes.
#
# Data layout (prepared by the owner):
#   Xb : (n_blocks, d, NB)  blocks of NB samples, features x samples, zero padded
#   Yb : (n_blocks, e, NB)  targets in the same layout
#   X, Y : (N, d), (N, e)   row layout, used to gather mini-batches
# Architecture ``layout`` (n_layers, 6) int64 rows: n_out, n_in, weight offset, bias offset
# (-1 when absent), offset of the layer's outputs in the activation scratch, offset of its
# activation derivative in the derivative scratch (hidden layers only).

from cython.parallel cimport parallel, prange, threadid
from libc.math cimport NAN, isfinite, pow, sqrt, sqrtf
from libc.stdint cimport int8_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

from _blockops cimport *

# The contract with the owner (ext/codes.h): status, optimizer, loss and activation codes are
# defined once there and exported here; the owner translates statuses in one place
# (topoanalysis.dynamics._engine.raise_for_status).
cdef enum:
    RUNNING = TA_RUNNING
    COMPLETED = TA_COMPLETED
    REACHED_TARGET = TA_REACHED_TARGET
    DIVERGED = TA_DIVERGED
    OUT_OF_MEMORY = TA_OUT_OF_MEMORY
    OPT_PLAIN = TA_OPT_PLAIN
    OPT_MOMENTUM = TA_OPT_MOMENTUM
    OPT_ADAM = TA_OPT_ADAM
    LOSS_BCE = TA_LOSS_BCE
    LOSS_CE = TA_LOSS_CE
    ACT_NONE = TA_ACT_NONE
    ACT_TANH = TA_ACT_TANH
    WG_GROUP = 8        # blocks per first-layer weight-gradient update (full-data passes)

# One network on several threads (fewer networks than threads): the threads share the sample
# shards of each pass only when a pass has at least this many sample x parameter products
# (about 40 us of work on one core); below it the fork and join of every pass cost about what
# they save (1.02x measured for 455 samples x 193 parameters on a quiet machine, far slower on
# a busy one), and the network runs on one thread. The numbers are the same either way. Below it
# a pass has one shard (ta_pass_shards).
cdef double SPLIT_MIN_WORK_ = TA_SPLIT_MIN_WORK
SPLIT_MIN_WORK = SPLIT_MIN_WORK_

STATUS_RUNNING = RUNNING
STATUS_COMPLETED = COMPLETED
STATUS_REACHED_TARGET = REACHED_TARGET
STATUS_DIVERGED = DIVERGED
STATUS_OUT_OF_MEMORY = OUT_OF_MEMORY
#: status names, for messages
STATUS_NAMES = {RUNNING: "running", COMPLETED: "completed", REACHED_TARGET: "reached target",
                DIVERGED: "diverged", OUT_OF_MEMORY: "out of memory"}
#: loss name -> code (names of topoanalysis.losses.LOSSES)
LOSS_CODES = {"mse": TA_LOSS_MSE, "l1": TA_LOSS_L1, "bce": TA_LOSS_BCE,
              "cross_entropy": TA_LOSS_CE}
#: (loss name, output activation) -> code, for networks whose output unit is not linear
#: (Architecture.output_activation): the loss is taken on the activated output
OUTPUT_LOSS_CODES = {("mse", "sigmoid"): TA_LOSS_MSE_SIGMOID,
                     ("l1", "sigmoid"): TA_LOSS_L1_SIGMOID}
#: activation name -> code (names of topoanalysis.activations.ACTIVATIONS)
ACTIVATION_CODES = {"relu": TA_ACT_RELU, "leaky_relu": TA_ACT_LEAKY_RELU,
                    "linear": TA_ACT_LINEAR, "tanh": TA_ACT_TANH, "sigmoid": TA_ACT_SIGMOID,
                    "abs": TA_ACT_ABS}
#: optimizer name (of topoanalysis.dynamics.train) -> code
OPTIMIZER_CODES = {"gd": TA_OPT_PLAIN, "sgd": TA_OPT_PLAIN, "momentum": TA_OPT_MOMENTUM,
                   "adam": TA_OPT_ADAM}
#: dtypes with compiled kernels ("float32": the shallow fast path only, see FLOAT32_SCOPE)
DTYPES = ("float64", "float32") if ta_have_f32() else ("float64",)
BLOCK_SIZE = TA_NB
LANES = TA_W
SHARDS = TA_SHARDS


def n_shards(int n_blocks):
    """The fixed sample shards of a full-data pass over ``n_blocks`` blocks (``ta_n_shards``
    of ext/blockops.h: 2 up to 95 blocks, then one per 32 blocks, at most 16); shard ``s``
    holds blocks ``[s n_blocks // n, (s + 1) n_blocks // n)``."""
    return ta_n_shards(n_blocks)


def pass_shards(int n_samples, long long n_params):
    """The shards of a full-data pass over ``n_samples`` samples of a network with
    ``n_params`` parameters (``ta_pass_shards`` of ext/blockops.h): one when
    ``n_samples * n_params < SPLIT_MIN_WORK`` (such a pass runs on one thread), else
    ``n_shards`` of its blocks."""
    return ta_pass_shards(n_samples, n_params)


CLONES = ("default", "v3", "v4")     # ids 0, 1, 2 of ta_select_clone


def clone_supported(int which):
    """True when this CPU (and OS) can run clone ``which`` (0 default, 1 x86-64-v3,
    2 x86-64-v4) and the build has it."""
    return bool(ta_clone_supported(which))


def select_clone(int which):
    """Use clone ``which`` (0 default, 1 x86-64-v3, 2 x86-64-v4, -1 the best supported) for
    every kernel from now on; returns the id in use, or -1 (nothing changed) when the CPU cannot
    run it. Not thread-safe: call it between kernel calls."""
    return ta_select_clone(which)


def current_clone():
    """Id of the clone in use (0 default, 1 x86-64-v3, 2 x86-64-v4)."""
    return ta_current_clone()


ta_select_clone(-1)

OPTIMIZER_PLAIN = OPT_PLAIN
OPTIMIZER_MOMENTUM = OPT_MOMENTUM
OPTIMIZER_ADAM = OPT_ADAM


include "_common.pxi"


cdef struct Data:
    const double* Xb
    const double* Yb
    const double* X
    const double* Y
    int N
    const double* Xp    # samples x features panels (ta_panels) or NULL
    long long pstride


cdef struct Scratch:
    double* Z
    double* S
    double* D0
    double* D1
    double* G
    double* xblk
    double* yblk
    double* gacc
    double* grad
    double* theta
    long long* perm
    double* Dall        # first-layer errors of the last WG_GROUP blocks of a full-data pass
    double* G1p         # first-layer gradient chains of a full-data pass with panels
    # shallow fast path (ta_shallow; NULL otherwise): n_sets sets of group scratch and
    # gradient lanes, per-shard reduced gradients, losses and hit counts
    int n_sets
    int split           # threads over the shards of one network (1: the calling thread only)
    double* sh_H
    double* sh_S
    double* sh_D
    double* sh_O
    double* sh_G
    double* sh_gacc
    double* sh_G1       # n_sets first-layer gradient chains (panels)
    double* sh_part
    double* sh_val
    double* sh_hit
    int* sh_bad
    # segment evaluation only (NULL otherwise)
    double* Za          # first-layer pre-activations at the two endpoints, (l1, NB) each
    double* Zb
    double* thetas      # parameters at a chunk of points, (Tc, P)
    double* tot         # per-point loss sums, hit counts and flags, (Tc,) each
    double* hit
    int* flag


cdef struct TrainCfg:
    int opt
    double lr
    double mom
    double beta1
    double beta2
    double eps
    long long batch
    long long t_start
    long long t_end
    long long total_steps
    long long record_every
    int n_records
    int has_target
    double target
    int rec_params
    int rec_cons
    int n_hidden
    double spring              # DSS penalty (0, 0 without): see add_penalty
    double plane
    double* mid                # (B, P) midpoints of the neighbours, NULL without penalty
    double* udir               # (B, P) unit directions left -> right
    double* theta
    double* st1
    double* st2
    uint64_t* rng
    int8_t* status
    long long* steps_taken
    double* final_loss
    double* loss_rec
    double* param_rec
    double* cons_rec


cdef Scratch* scratch_new(const Layout* L, int N, int n_points=0, int chunk_points=0,
                          int split=1) noexcept nogil:
    """Per-thread scratch (64-byte aligned); ``n_points > 0`` adds the buffers of the segment
    kernel (per-point accumulators for ``n_points`` points, parameters of ``chunk_points``
    points); ``split > 1`` gives every shard of the shallow fast path its own buffers so that
    ``split`` threads can work on the shards of one network."""
    cdef Scratch* sc = <Scratch*>malloc(sizeof(Scratch))
    cdef size_t nb = TA_NB
    cdef size_t l1 = <size_t>L.rows[0]
    cdef size_t P = <size_t>L.P
    cdef size_t n_sets
    cdef SetSizes z
    cdef bint sets_ok
    if sc == NULL:
        return NULL
    memset(sc, 0, sizeof(Scratch))
    sc.split = split if split > 1 else 1
    sc.Z = ta_alloc(nb * L.z_rows)
    sc.S = ta_alloc(nb * (L.s_rows + 1))
    sc.D0 = ta_alloc(nb * L.max_width)
    sc.D1 = ta_alloc(nb * L.max_width)
    sc.G = ta_alloc(nb * L.e)
    sc.xblk = ta_alloc(nb * L.d)
    sc.yblk = ta_alloc(nb * L.e)
    sc.gacc = ta_alloc(TA_W * P)
    sc.grad = ta_alloc(P)
    sc.theta = ta_alloc(P)
    sc.perm = <long long*>malloc(sizeof(long long) * (N + 1))
    sc.Dall = ta_alloc(nb * l1 * WG_GROUP)
    sc.G1p = ta_alloc(l1 * ta_n_panels(L.d) * TA_W)
    if (sc.Z == NULL or sc.S == NULL or sc.D0 == NULL or sc.D1 == NULL or sc.G == NULL
            or sc.xblk == NULL or sc.yblk == NULL or sc.gacc == NULL or sc.grad == NULL
            or sc.theta == NULL or sc.perm == NULL or sc.Dall == NULL or sc.G1p == NULL):
        scratch_free(sc)
        return NULL
    if shallow_ok(L) and n_points == 0:
        n_sets = <size_t>sc.split      # one set of group scratch per thread
        sc.n_sets = <int>n_sets
        z = set_sizes(L, sizeof(double))
        sets_ok = alloc_sets(n_sets, &z, &sc.sh_H, &sc.sh_S, &sc.sh_D, &sc.sh_O, &sc.sh_G,
                             &sc.sh_gacc, &sc.sh_G1)
        sc.sh_part = ta_alloc(TA_SHARDS_MAX * P)
        sc.sh_val = ta_alloc(TA_SHARDS_MAX)
        sc.sh_hit = ta_alloc(TA_SHARDS_MAX)
        sc.sh_bad = <int*>malloc(sizeof(int) * TA_SHARDS_MAX)
        if (not sets_ok or sc.sh_part == NULL or sc.sh_val == NULL or sc.sh_hit == NULL
                or sc.sh_bad == NULL):
            scratch_free(sc)
            return NULL
    if n_points > 0:
        sc.Za = ta_alloc(nb * l1)
        sc.Zb = ta_alloc(nb * l1)
        sc.thetas = ta_alloc(<size_t>chunk_points * P)
        sc.tot = ta_alloc(n_points)
        sc.hit = ta_alloc(n_points)
        sc.flag = <int*>malloc(sizeof(int) * n_points)
        if (sc.Za == NULL or sc.Zb == NULL or sc.thetas == NULL or sc.tot == NULL
                or sc.hit == NULL or sc.flag == NULL):
            scratch_free(sc)
            return NULL
    return sc


cdef void scratch_free(Scratch* sc) noexcept nogil:
    if sc == NULL:
        return
    free(sc.Z)
    free(sc.S)
    free(sc.D0)
    free(sc.D1)
    free(sc.G)
    free(sc.xblk)
    free(sc.yblk)
    free(sc.gacc)
    free(sc.grad)
    free(sc.theta)
    free(sc.perm)
    free(sc.Dall)
    free(sc.G1p)
    free(sc.Za)
    free(sc.Zb)
    free(sc.thetas)
    free(sc.tot)
    free(sc.hit)
    free(sc.flag)
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
    free(sc)


cdef void shallow_shard(const Layout* L, const Data* D, const double* theta, int s,
                        int nshards, int nblk, bint need_grad, bint need_loss, bint want_acc,
                        double scale, Scratch* sc, int set_) noexcept nogil:
    """Shard ``s`` of ``nshards`` (blocks ``[s nblk / nshards, (s + 1) nblk / nshards)``) of the
    shallow full-data pass, with the group scratch of set ``set_`` (the calling thread's):
    reduced gradient into ``sh_part[s]``, loss sum, hits, flag."""
    cdef size_t P = <size_t>L.P
    cdef SetSizes z = set_sizes(L, sizeof(double))
    cdef double* gacc = sc.sh_gacc + <size_t>set_ * z.lanes
    cdef ta_shallow_args a
    cdef double val = 0.0, hit = 0.0
    a.W1 = theta
    a.gW1 = gacc
    a.Xb = D.Xb
    a.Yb = D.Yb
    shallow_args_layout(&a, L, D.N, need_grad, need_loss, want_acc, scale)
    a.H = sc.sh_H + set_ * z.act
    a.S = sc.sh_S + set_ * z.act
    a.D = sc.sh_D + set_ * z.act
    a.O = sc.sh_O + set_ * z.blk
    a.G = sc.sh_G + set_ * z.blk
    a.Xp = D.Xp
    a.pstride = D.pstride
    a.G1 = sc.sh_G1 + set_ * z.chains
    if need_grad:
        shallow_zero(L, gacc, a.Xp != NULL)
    sc.sh_bad[s] = ta_shallow(&a, <int>((<long long>s * nblk) // nshards),
                              <int>((<long long>(s + 1) * nblk) // nshards), &val, &hit)
    sc.sh_val[s] = val
    sc.sh_hit[s] = hit
    if need_grad:
        shallow_collect(L, gacc, a.G1, a.Xp != NULL, sc.sh_part + <size_t>s * P)


cdef int shallow_pass(const Layout* L, const Data* D, const double* theta, bint need_grad,
                      bint need_loss, bint want_acc, double* loss_out, double* acc_out,
                      double* grad, Scratch* sc) noexcept nogil:
    """Full-data pass of a shallow one-output network (``shallow_ok``): the blocks go in
    ``ta_pass_shards(N, P)`` fixed shards whose reduced gradients, loss sums and hit
    counts are added in shard order, so the result is the same whether one thread does all
    shards or ``sc.split`` threads share them (dealt one at a time, so that a thread slowed
    down by the machine takes fewer)."""
    cdef int nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int nshards = ta_pass_shards(D.N, L.P)
    cdef int s, p, bad = 0, P = L.P
    cdef double count = <double>D.N
    cdef double total, hits
    cdef double* part
    if sc.split > 1 and nshards > 1:
        for s in prange(nshards, num_threads=sc.split, schedule="dynamic", chunksize=1):
            shallow_shard(L, D, theta, s, nshards, nblk, need_grad, need_loss, want_acc,
                          1.0 / count, sc, threadid())
    else:
        for s in range(nshards):
            shallow_shard(L, D, theta, s, nshards, nblk, need_grad, need_loss, want_acc,
                          1.0 / count, sc, 0)
    total = sc.sh_val[0]
    hits = sc.sh_hit[0]
    bad = sc.sh_bad[0]
    for s in range(1, nshards):
        total = total + sc.sh_val[s]
        hits = hits + sc.sh_hit[s]
        bad |= sc.sh_bad[s]
    if need_grad:
        memcpy(grad, sc.sh_part, sizeof(double) * P)
        for s in range(1, nshards):
            part = sc.sh_part + <size_t>s * P
            for p in range(P):
                grad[p] = grad[p] + part[p]
    if need_loss:
        loss_out[0] = total / count
    if want_acc:
        acc_out[0] = hits / count
    return bad


cdef inline double block_hits(int loss, const double* O, const double* Y, int e,
                              int n_valid) noexcept nogil:
    """Correct classifications in one block: bce logit > 0 vs y > 0.5 per entry, CE argmax."""
    cdef double hits = 0.0
    cdef int m, j, ao, ay
    if loss == LOSS_BCE:
        for j in range(e):
            for m in range(n_valid):
                hits += <double>((O[j * TA_NB + m] > 0) == (Y[j * TA_NB + m] > 0.5))
    else:
        for m in range(n_valid):
            ao = 0
            ay = 0
            for j in range(1, e):
                if O[j * TA_NB + m] > O[ao * TA_NB + m]:
                    ao = j
                if Y[j * TA_NB + m] > Y[ay * TA_NB + m]:
                    ay = j
            if ao == ay:
                hits += 1.0
    return hits


cdef int net_pass(const Layout* L, const Data* D, const long long* idx, int n,
                  const double* theta, bint need_grad, bint need_loss, bint want_acc,
                  double* loss_out, double* acc_out, double* grad, double* fwd_out,
                  Scratch* sc) noexcept nogil:
    """One pass of one network over ``n`` samples (all data when ``idx`` is NULL, else the rows
    ``idx[0:n]``): loss, accuracy, gradient and outputs on request. Returns 1 when an
    output (or a tanh input) is not finite; non-finite hidden values propagate to the
    outputs."""
    cdef int nblk = (n + TA_NB - 1) // TA_NB
    cdef int blk, nv, li, m, i, j, n_out, n_in, bad = 0, d = L.d, e = L.e
    cdef long long r
    cdef const long long* row
    cdef const double* Hin
    cdef const double* X0
    cdef const double* Yblk
    cdef const double* bias
    cdef double* Zl = sc.Z
    cdef double* Sl
    cdef double* O
    cdef double* Dcur
    cdef double total = 0.0, part = 0.0, hits = 0.0, part_hits = 0.0
    cdef double count = <double>n * e if L.loss != LOSS_CE else <double>n
    cdef double scale = 1.0 / count
    cdef bint need_loss_block = need_loss or need_grad or want_acc
    cdef int n_hidden_layers = L.n_layers - 1
    # one output and an elementwise loss: the fused output layer (the shallow fast path)
    cdef bint use_head = need_loss_block and e == 1 and L.loss != LOSS_CE
    # full data: the first layer's weight gradient over groups of WG_GROUP blocks, from the
    # stored errors of the group (lane sums kept in registers through the group instead of
    # per-block updates of the gradient lanes)
    cdef bint grad_all = need_grad and idx == NULL
    # ... from the samples x features panels when the data has them (one chain per entry)
    cdef bint panels = grad_all and D.Xp != NULL
    if idx == NULL and fwd_out == NULL and sc.sh_part != NULL and (not want_acc or L.loss == LOSS_BCE):
        return shallow_pass(L, D, theta, need_grad, need_loss, want_acc, loss_out, acc_out,
                            grad, sc)
    if need_grad:
        memset(sc.gacc, 0, sizeof(double) * TA_W * L.P)
    if panels:
        memset(sc.G1p, 0, sizeof(double) * L.rows[0] * ta_n_panels(d) * TA_W)
    for blk in range(nblk):
        nv = n - blk * TA_NB
        if nv > TA_NB:
            nv = TA_NB
        if idx == NULL:
            X0 = D.Xb + <size_t>blk * d * TA_NB
            Yblk = D.Yb + <size_t>blk * e * TA_NB
        else:
            for m in range(nv):
                r = idx[blk * TA_NB + m]
                for i in range(d):
                    sc.xblk[i * TA_NB + m] = D.X[r * d + i]
                for j in range(e):
                    sc.yblk[j * TA_NB + m] = D.Y[r * e + j]
            for m in range(nv, TA_NB):
                for i in range(d):
                    sc.xblk[i * TA_NB + m] = 0.0
                for j in range(e):
                    sc.yblk[j * TA_NB + m] = 0.0
            X0 = sc.xblk
            Yblk = sc.yblk
        # forward through the hidden layers
        Hin = X0
        for li in range(n_hidden_layers):
            row = L.rows + 6 * li
            Zl = sc.Z + row[4] * TA_NB
            Sl = sc.S + row[5] * TA_NB if need_grad else NULL
            # non-finite hidden values propagate to the outputs, which are checked
            bad |= hidden_layer(L, theta, li, Hin, Zl, Sl)
            Hin = Zl
        # output layer (and loss)
        row = L.rows + 6 * n_hidden_layers
        n_out = <int>row[0]
        n_in = <int>row[1]
        bias = theta + row[3] if row[3] >= 0 else NULL
        O = sc.Z + row[4] * TA_NB
        Dcur = sc.G
        li = n_hidden_layers    # highest layer whose weight gradient is still to accumulate
        if use_head:
            # one output: affine, loss and the output layer's backward pass fused
            bad |= ta_head1(theta + row[2], bias, n_in, Hin,
                            sc.S + L.rows[6 * (n_hidden_layers - 1) + 5] * TA_NB, Yblk, nv,
                            scale, L.loss, need_loss, need_grad, O, sc.gacc + TA_W * row[2],
                            sc.gacc + TA_W * row[3] if row[3] >= 0 else NULL, sc.D0, &part,
                            &part_hits if want_acc and L.loss == LOSS_BCE else NULL)
            if want_acc:
                hits += part_hits if L.loss == LOSS_BCE else block_hits(L.loss, O, Yblk, e, nv)
            Dcur = sc.D0
            li = n_hidden_layers - 1
        else:
            ta_affine(theta + row[2], bias, n_out, n_in, Hin, O, ACT_NONE, 0.0, NULL)
            if need_loss_block:
                bad |= ta_loss_block(L.loss, O, Yblk, e, nv, scale, need_loss, sc.G, &part)
            elif fwd_out != NULL:
                for j in range(e):
                    for m in range(nv):
                        if not isfinite(O[j * TA_NB + m]):
                            bad = 1
            if want_acc:
                hits += block_hits(L.loss, O, Yblk, e, nv)
        if need_loss:
            total += part
        if fwd_out != NULL:
            for m in range(nv):
                for j in range(e):
                    fwd_out[(<size_t>blk * TA_NB + m) * e + j] = O[j * TA_NB + m]
        # backward
        if need_grad:
            backward_block(L, theta, li, Dcur, X0, D.Xb, blk, nblk, grad_all, sc.Z, sc.S,
                           sc.D0, sc.D1, sc.Dall, sc.gacc, D.Xp if panels else NULL,
                           D.pstride, sc.G1p)
    if need_grad:
        general_collect(L, sc.gacc, sc.G1p, panels, grad)
    if need_loss:
        loss_out[0] = total / count
    if want_acc:
        acc_out[0] = hits / count
    return bad


cdef int forward_tail(const Layout* L, const double* theta, const double* Hin,
                      const double* Yblk, int nv, double scale, bint want_acc, double* part,
                      double* part_hits, Scratch* sc) noexcept nogil:
    """Loss (and hit count) of one block from layer 1 on, ``Hin`` holding the activations
    of layer 0 (forward only, same operations as ``net_pass``). Returns the non-finite flag."""
    cdef int li, n_out, n_in, bad = 0, n_hidden_layers = L.n_layers - 1
    cdef const long long* row
    cdef const double* bias
    cdef double* Zl
    cdef double* O
    for li in range(1, n_hidden_layers):
        Zl = sc.Z + L.rows[6 * li + 4] * TA_NB
        bad |= hidden_layer(L, theta, li, Hin, Zl, NULL)
        Hin = Zl
    row = L.rows + 6 * n_hidden_layers
    n_out = <int>row[0]
    n_in = <int>row[1]
    bias = theta + row[3] if row[3] >= 0 else NULL
    O = sc.Z + row[4] * TA_NB
    part_hits[0] = 0.0
    if L.e == 1 and L.loss != LOSS_CE:
        bad |= ta_head1(theta + row[2], bias, n_in, Hin, NULL, Yblk, nv, scale, L.loss, True,
                        False, O, NULL, NULL, NULL, part,
                        part_hits if want_acc and L.loss == LOSS_BCE else NULL)
        if want_acc and L.loss != LOSS_BCE:
            part_hits[0] = block_hits(L.loss, O, Yblk, L.e, nv)
    else:
        ta_affine(theta + row[2], bias, n_out, n_in, Hin, O, ACT_NONE, 0.0, NULL)
        bad |= ta_loss_block(L.loss, O, Yblk, L.e, nv, scale, True, sc.G, part)
        if want_acc:
            part_hits[0] = block_hits(L.loss, O, Yblk, L.e, nv)
    return bad


cdef void eval_segment(const Layout* L, const Data* D, const double* a, const double* b,
                       const double* ts, int T, int Tc, bint want_acc, double* loss_out,
                       double* acc_out, int8_t* bad_out, Scratch* sc) noexcept nogil:
    """Loss at ``θ_t = (1 - t) a + t b`` for the ``T`` points of one segment.

    The first layer's pre-activations are affine in the parameters, so on each block they are
    computed at the two endpoints only and mixed, ``(1 - t) Z_a + t Z_b`` (equal to
    ``W_1(θ_t) X + b_1(θ_t)`` in exact arithmetic; the later layers use ``θ_t`` itself). This
    saves the ``d``-long sums of the first layer at every point. Points go in chunks of
    ``Tc`` whose parameters are formed once."""
    cdef const long long* row0 = L.rows
    cdef int l1 = <int>row0[0], d = L.d, e = L.e, nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int t0, tc, k, blk, nv, p, P = L.P
    cdef double t, u, part = 0.0, ph = 0.0
    cdef double count = <double>D.N * e if L.loss != LOSS_CE else <double>D.N
    cdef double scale = 1.0 / count
    cdef double* th
    cdef double* Z0 = sc.Z + row0[4] * TA_NB
    cdef const double* X0
    cdef const double* Yblk
    cdef int act0 = ACT_NONE if L.act == ACT_TANH else L.act
    cdef const long long* row1 = L.rows + 6
    # one hidden layer, one output, elementwise loss, vectorized activation: one fused call
    # per block for all points of the chunk (same operations as the general path)
    cdef bint fused = shallow_ok(L) and (not want_acc or L.loss == LOSS_BCE)
    t0 = 0
    while t0 < T:
        tc = T - t0
        if tc > Tc:
            tc = Tc
        for k in range(tc):
            t = ts[t0 + k]
            u = 1.0 - t
            th = sc.thetas + <size_t>k * P
            for p in range(P):
                th[p] = u * a[p] + t * b[p]
            sc.tot[k] = 0.0
            sc.hit[k] = 0.0
            sc.flag[k] = 0
        for blk in range(nblk):
            nv = D.N - blk * TA_NB
            if nv > TA_NB:
                nv = TA_NB
            X0 = D.Xb + <size_t>blk * d * TA_NB
            Yblk = D.Yb + <size_t>blk * e * TA_NB
            ta_affine(a + row0[2], a + row0[3] if row0[3] >= 0 else NULL, l1, d, X0, sc.Za,
                      ACT_NONE, 0.0, NULL)
            ta_affine(b + row0[2], b + row0[3] if row0[3] >= 0 else NULL, l1, d, X0, sc.Zb,
                      ACT_NONE, 0.0, NULL)
            if fused:
                ta_interp1(sc.Za, sc.Zb, l1, ts + t0, tc, sc.thetas, P, <int>row1[2],
                           <int>row1[3], L.act, L.slope, Yblk, nv, scale, L.loss, want_acc,
                           sc.tot, sc.hit, sc.flag)
                continue
            for k in range(tc):
                t = ts[t0 + k]
                ta_mix(sc.Za, sc.Zb, 1.0 - t, t, l1 * TA_NB, act0, L.slope, Z0)
                if L.act == ACT_TANH:
                    sc.flag[k] |= ta_tanh(Z0, NULL, l1 * TA_NB)
                sc.flag[k] |= forward_tail(L, sc.thetas + <size_t>k * P, Z0, Yblk, nv, scale,
                                           want_acc, &part, &ph, sc)
                sc.tot[k] += part
                sc.hit[k] += ph
        for k in range(tc):
            loss_out[t0 + k] = sc.tot[k] / count
            acc_out[t0 + k] = sc.hit[k] / count
            bad_out[t0 + k] = DIVERGED if sc.flag[k] else RUNNING
        t0 += tc


cdef inline uint64_t splitmix64(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint64_t shuffle(long long* perm, long long n, uint64_t state) noexcept nogil:
    """perm = Fisher-Yates shuffle of 0..n-1 drawn from ``state``; returns the state after."""
    cdef long long i, j, tmp
    for i in range(n):
        perm[i] = i
    for i in range(n - 1, 0, -1):
        j = <long long>(splitmix64(&state) % <uint64_t>(i + 1))
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp
    return state


cdef inline long long record_slot(long long t, const TrainCfg* c) noexcept nogil:
    if t % c.record_every == 0:
        return t // c.record_every
    if t == c.total_steps:
        return c.n_records - 1
    return -1


cdef inline void add_penalty(int P, const real_t* th, const real_t* mid, const real_t* u,
                             double spring, double plane, real_t* g) noexcept nogil:
    """g += ∇ of the DSS bead penalty ``spring/2 (||θ−l||² + ||θ−r||²) + plane/2 ((θ−m)·u)²``
    with ``m = (l + r)/2``, ``u`` the unit vector from ``l`` to ``r``: ``2·spring·(θ − m) +
    plane·((θ − m)·u)·u`` (Freeman & Bruna, Appendix A), in the run's arithmetic."""
    cdef int p
    cdef real_t s2 = <real_t>(2.0 * spring), proj = 0
    if plane != 0.0:
        for p in range(P):
            proj = proj + (th[p] - mid[p]) * u[p]
        proj = proj * <real_t>plane
    for p in range(P):
        g[p] = g[p] + (s2 * (th[p] - mid[p]) + proj * u[p])


cdef inline void penalty_arrays(real_t[:, ::1] mid, real_t[:, ::1] udir, real_t** pm,
                                real_t** pu) noexcept:
    """Pointers to a run's penalty midpoints and directions (TrainState.mid, .udir), which
    the state keeps alive for the call."""
    pm[0] = &mid[0, 0]
    pu[0] = &udir[0, 0]


cdef bint apply_update(const Layout* L, const TrainCfg* c, long long t, double* th,
                       double* m1, double* m2, const double* g, double* new) noexcept nogil:
    """new = optimizer step from th with gradient g (state m1/m2 updated); returns finiteness."""
    cdef int p, P = L.P
    cdef double lr = c.lr, bc1, bc2s, step, w1, w2, denom, x
    cdef bint ok = True
    if c.opt == OPT_PLAIN:
        for p in range(P):
            new[p] = th[p] - lr * g[p]
    elif c.opt == OPT_MOMENTUM:
        for p in range(P):
            m1[p] = m1[p] * c.mom + g[p]
            new[p] = th[p] - lr * m1[p]
    else:
        # PyTorch Adam: lerp for the first moment, addcmul for the second, bias corrections
        bc1 = 1.0 - pow(c.beta1, <double>(t + 1))
        bc2s = sqrt(1.0 - pow(c.beta2, <double>(t + 1)))
        step = lr / bc1
        w1 = 1.0 - c.beta1
        w2 = 1.0 - c.beta2
        for p in range(P):
            if w1 < 0.5:
                m1[p] = m1[p] + w1 * (g[p] - m1[p])
            else:
                m1[p] = g[p] - (g[p] - m1[p]) * (1.0 - w1)
            m2[p] = m2[p] * c.beta2 + (w2 * g[p]) * g[p]
            denom = sqrt(m2[p]) / bc2s + c.eps
            new[p] = th[p] + (-step * m1[p]) / denom
    for p in range(P):
        x = new[p]
        if not isfinite(x):
            ok = False
    return ok


cdef void train_one(Py_ssize_t b, const Layout* L, const Data* D, const TrainCfg* c,
                    Scratch* sc) noexcept nogil:
    cdef int P = L.P
    cdef double* th = c.theta + b * P
    cdef double* m1 = c.st1 + b * P if c.st1 != NULL else NULL
    cdef double* m2 = c.st2 + b * P if c.st2 != NULL else NULL
    cdef long long t, slot, nbe = 1, epoch = -1, start, cnt
    cdef uint64_t s_after = 0
    cdef bint full = c.batch <= 0, final, need_loss, loss_known, bad
    cdef double loss = NAN, dummy
    if c.status[b] != RUNNING:
        return
    if not full:
        nbe = (D.N + c.batch - 1) // c.batch
    t = c.t_start
    while t < c.t_end:
        slot = record_slot(t, c)
        final = t == c.total_steps
        loss = NAN
        bad = False
        if full:
            need_loss = slot >= 0 or c.has_target or final
            bad = net_pass(L, D, NULL, D.N, th, not final, need_loss, False, &loss, NULL,
                           sc.grad, NULL, sc) != 0
        else:
            need_loss = slot >= 0 or final
            if need_loss:
                bad = net_pass(L, D, NULL, D.N, th, False, True, False, &loss, NULL, NULL,
                               NULL, sc) != 0
            if not final and not bad:
                if t // nbe != epoch:
                    if epoch >= 0:
                        c.rng[b] = s_after
                    epoch = t // nbe
                    s_after = shuffle(sc.perm, D.N, c.rng[b])
                start = (t % nbe) * c.batch
                cnt = D.N - start
                if cnt > c.batch:
                    cnt = c.batch
                bad = net_pass(L, D, sc.perm + start, <int>cnt, th, True, False, False, &dummy,
                               NULL, sc.grad, NULL, sc) != 0
        loss_known = need_loss
        if slot >= 0:
            c.loss_rec[b * c.n_records + slot] = loss
            if c.rec_params:
                memcpy(c.param_rec + (b * c.n_records + slot) * P, th, sizeof(double) * P)
            if c.rec_cons:
                conserved(L, th, c.cons_rec + (b * c.n_records + slot) * c.n_hidden)
        if loss_known and not isfinite(loss):
            bad = True
        if not bad and loss_known and c.has_target and loss <= c.target:
            c.status[b] = REACHED_TARGET
            c.steps_taken[b] = t
            c.final_loss[b] = loss
            return
        if not bad and final:
            c.status[b] = COMPLETED
            c.steps_taken[b] = t
            c.final_loss[b] = loss
            return
        if not bad:
            if c.mid != NULL:
                add_penalty(P, th, c.mid + b * P, c.udir + b * P, c.spring, c.plane, sc.grad)
            bad = not apply_update(L, c, t, th, m1, m2, sc.grad, sc.theta)
        if bad:
            c.status[b] = DIVERGED
            c.steps_taken[b] = t
            if not loss_known:
                net_pass(L, D, NULL, D.N, th, False, True, False, &loss, NULL, NULL, NULL, sc)
            c.final_loss[b] = loss
            return
        memcpy(th, sc.theta, sizeof(double) * P)
        t += 1
    if not full and epoch >= 0 and c.t_end < c.total_steps and c.t_end // nbe != epoch:
        c.rng[b] = s_after


FLOAT32_SCOPE = ("one hidden layer with a vectorized activation (not tanh), one output and an "
                 "elementwise loss (mse, l1, bce)")


cdef class TrainOptions:
    """The settings of one training run, built once per run by the owner and passed to every
    :func:`train_chunk` call (a new optimizer or dtype adds a field here, not a position).

    ``layout``: ``(n_layers, 6)`` int64 rows (see the top of this file); ``act``, ``loss``,
    ``optimizer``: codes of ``ACTIVATION_CODES``, ``LOSS_CODES``, ``OPTIMIZER_CODES``;
    ``batch_size`` 0 means full batch; ``target`` None means no target loss; ``spring``,
    ``plane`` weigh the DSS bead penalty (used when the state has ``mid`` and ``udir``).
    """
    cdef readonly object layout
    cdef readonly int act, loss, optimizer
    cdef readonly double slope, lr, momentum, beta1, beta2, eps, target, spring, plane
    cdef readonly long long batch_size, total_steps, record_every
    cdef readonly bint has_target, record_params, record_conserved

    def __init__(self, layout, *, int act, double slope, int loss, int optimizer, double lr,
                 long long total_steps, long long record_every, double momentum=0.0,
                 double beta1=0.9, double beta2=0.999, double eps=1e-8,
                 long long batch_size=0, target=None, bint record_params=False,
                 bint record_conserved=False, double spring=0.0, double plane=0.0):
        cdef const long long[:, ::1] rows = layout
        self.layout = layout
        self.act = act
        self.slope = slope
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.batch_size = batch_size
        self.total_steps = total_steps
        self.record_every = record_every
        self.has_target = target is not None
        self.target = 0.0 if target is None else <double>target
        self.record_params = record_params
        self.record_conserved = record_conserved
        self.spring = spring
        self.plane = plane


cdef class TrainState:
    """The arrays of one training run that :func:`train_chunk` updates in place: parameters
    ``theta`` (B, P) and optimizer moments ``state1``, ``state2`` (B, P; (1, 1) when unused)
    in the run's dtype; per network ``rng`` (uint64), ``status`` (int8), ``steps_taken``
    (int64), ``final_loss``; records ``loss_rec`` (B, R), ``param_rec`` (B, R, P; run dtype;
    (1, 1, 1) when unused) and ``cons_rec`` (B, R, H; (1, 1, 1) when unused). Loss and
    conserved records are float64 for both dtypes. ``mid``, ``udir`` (B, P; run dtype;
    None without penalty): the DSS penalty's midpoints and unit directions."""
    cdef readonly object theta, state1, state2, rng, status, steps_taken, final_loss
    cdef readonly object loss_rec, param_rec, cons_rec, mid, udir

    def __init__(self, *, theta, state1, state2, rng, status, steps_taken, final_loss,
                 loss_rec, param_rec, cons_rec, mid=None, udir=None):
        if (mid is None) != (udir is None):
            raise ValueError("mid and udir go together")
        if mid is not None and (mid.shape != theta.shape or udir.shape != theta.shape
                                or mid.dtype != theta.dtype or udir.dtype != theta.dtype
                                or not mid.flags.c_contiguous
                                or not udir.flags.c_contiguous):
            raise ValueError("mid and udir must be C-contiguous arrays like theta")
        self.mid = mid
        self.udir = udir
        self.theta = theta
        self.state1 = state1
        self.state2 = state2
        self.rng = rng
        self.status = status
        self.steps_taken = steps_taken
        self.final_loss = final_loss
        self.loss_rec = loss_rec
        self.param_rec = param_rec
        self.cons_rec = cons_rec


cdef void fill_cfg(TrainCfg* c, TrainOptions o, long long t_start, long long t_end,
                   int n_records, int n_hidden) noexcept:
    c.opt = o.optimizer
    c.lr = o.lr
    c.mom = o.momentum
    c.beta1 = o.beta1
    c.beta2 = o.beta2
    c.eps = o.eps
    c.batch = o.batch_size
    c.t_start = t_start
    c.t_end = t_end
    c.total_steps = o.total_steps
    c.record_every = o.record_every
    c.n_records = n_records
    c.has_target = o.has_target
    c.target = o.target
    c.rec_params = o.record_params
    c.rec_cons = o.record_conserved
    c.n_hidden = n_hidden
    c.spring = o.spring
    c.plane = o.plane
    c.mid = NULL
    c.udir = NULL


def train_chunk(Xb, Yb, X, Y, TrainOptions options, TrainState state, long long t_start,
                long long t_end, int n_threads, Xp=None):
    """Advance every running network through the global steps ``[t_start, t_end)``.

    Step ``t`` evaluates the network at its current parameters (gradient on the full data or
    on mini-batch ``t`` of the seeded epoch order; loss on the full data at record steps, at
    the final step ``total_steps`` and, for full-batch runs with a target, at every step),
    records, checks the stop criteria and applies the update. ``state`` (statuses, steps
    taken, final losses, optimizer moments, ``rng`` = state at the start of the current
    epoch, records) is updated in place, so consecutive chunks give the same numbers as one
    call. The data (``Xb``, ``Yb``, ``X``, ``Y``, see the top of this file) and
    ``state.theta`` are float64, or float32 for the float32 kernels (``FLOAT32_SCOPE``).
    ``Xp``: the samples x features panels of ``Xb`` (``ta_panels`` of ext/blockops.h,
    ``(d // TA_W + 1, n_blocks * NB, TA_W)``, the owner's ``EngineData.Xp``), built here when
    None.
    """
    if getattr(state.theta, "dtype", None) is not None and state.theta.dtype.itemsize == 4:
        _train_chunk_f32(Xb, Yb, X, Y, options, state, options.layout, state.theta,
                         state.state1, state.state2, state.param_rec, t_start, t_end,
                         n_threads, Xp)
    else:
        _train_chunk_f64(Xb, Yb, X, Y, options, state, options.layout, state.theta,
                         state.state1, state.state2, state.param_rec, t_start, t_end,
                         n_threads, Xp)


cdef void fill_state(TrainCfg* c, TrainState state, uint64_t[::1] rng, int8_t[::1] status,
                     long long[::1] steps_taken, double[::1] final_loss,
                     double[:, ::1] loss_rec, double[:, :, ::1] cons_rec) noexcept:
    c.rng = &rng[0]
    c.status = &status[0]
    c.steps_taken = &steps_taken[0]
    c.final_loss = &final_loss[0]
    c.loss_rec = &loss_rec[0, 0]
    c.cons_rec = &cons_rec[0, 0, 0]


def panels_used(Py_ssize_t n_blocks, int d, int itemsize):
    """Whether the shallow path reads samples x features panels of data with ``n_blocks``
    blocks of ``d`` features (``itemsize`` 8 or 4): the blocks and panels together at most
    PANEL_MAX_BYTES (ext/_common.pxi); otherwise the first-layer gradient uses lane sums."""
    return panels_wanted(n_blocks, d, itemsize)


cdef inline bint split_wanted(const Layout* L, long long batch, long long N,
                              bint f32) noexcept nogil:
    """Whether training with fewer networks than threads shares each network's sample shards
    among the threads: float64, full batch on the shallow path with ``N P >= SPLIT_MIN_WORK``;
    float32 (always the shallow path), the batch's ``n P >= SPLIT_MIN_WORK``."""
    if f32:
        return <double>(batch if batch > 0 else N) * L.P >= SPLIT_MIN_WORK_
    return batch <= 0 and shallow_ok(L) and <double>N * L.P >= SPLIT_MIN_WORK_


def split_used(TrainOptions options, long long N, long long P, bint f32=False):
    """Whether ``train_chunk`` with fewer networks than threads shares each network's sample
    shards among the threads for these options, ``N`` samples and ``P`` parameters
    (``split_wanted``); otherwise it runs one thread per network."""
    cdef Layout L = make_layout(options.layout, options.act, 0.0, options.loss, P)
    return split_wanted(&L, options.batch_size, N, f32)


cdef _train_chunk_f64(const double[:, :, ::1] Xb, const double[:, :, ::1] Yb,
                      const double[:, ::1] X, const double[:, ::1] Y, TrainOptions o,
                      TrainState state, const long long[:, ::1] layout,
                      double[:, ::1] theta, double[:, ::1] state1, double[:, ::1] state2,
                      double[:, :, ::1] param_rec, long long t_start, long long t_end,
                      int n_threads, const double[:, :, ::1] Xp):
    cdef Layout L = make_layout(layout, o.act, o.slope, o.loss, theta.shape[1])
    cdef Data D
    cdef TrainCfg c
    cdef Scratch* sc = NULL
    cdef Py_ssize_t b, B = theta.shape[0]
    cdef double[:, ::1] loss_rec = state.loss_rec
    cdef double[:, :, ::1] cons_rec = state.cons_rec
    D.Xb = &Xb[0, 0, 0]
    D.Yb = &Yb[0, 0, 0]
    D.X = &X[0, 0]
    D.Y = &Y[0, 0]
    D.N = X.shape[0]
    cdef double* own_xp = NULL
    cdef double* use_xp = NULL
    data_panels(Xb, D.N, Xp, &use_xp, &own_xp)
    D.Xp = use_xp
    D.pstride = <long long>Xb.shape[0] * TA_NB
    fill_cfg(&c, o, t_start, t_end, loss_rec.shape[1], cons_rec.shape[2])
    fill_state(&c, state, state.rng, state.status, state.steps_taken, state.final_loss,
               loss_rec, cons_rec)
    c.theta = &theta[0, 0]
    c.st1 = &state1[0, 0] if c.opt != OPT_PLAIN else NULL
    c.st2 = &state2[0, 0] if c.opt == OPT_ADAM else NULL
    c.param_rec = &param_rec[0, 0, 0]
    if state.mid is not None:
        penalty_arrays[double](state.mid, state.udir, &c.mid, &c.udir)
    # fewer networks than threads: the threads share the sample shards of each network
    # (one parallel region per pass, opened by the calling thread) when a pass is large
    # enough; otherwise no more threads than networks
    if B < n_threads and split_wanted(&L, c.batch, D.N, False):
        with nogil:
            sc = scratch_new(&L, D.N, 0, 0, n_threads)
            for b in range(B):
                if sc == NULL:
                    c.status[b] = OUT_OF_MEMORY
                else:
                    train_one(b, &L, &D, &c, sc)
            scratch_free(sc)
        free(own_xp)
        return
    if n_threads > B:
        n_threads = <int>B
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new(&L, D.N)
        for b in prange(B, schedule="static"):
            if sc == NULL:
                c.status[b] = OUT_OF_MEMORY
            else:
                train_one(b, &L, &D, &c, sc)
        scratch_free(sc)
    free(own_xp)


# --- float32: the shallow fast path --------------------------------------------------------
# The same steps as the float64 path for networks that qualify for ``shallow_ok`` (the owner
# refuses others), in float arithmetic: data, parameters, optimizer moments, gradients and the
# update in float; loss sums in double. Mini-batches are gathered into blocks and run through
# the same sharded three-pass kernel (ta_shallow_f) as the full data.

cdef struct DataF:
    const float* Xb
    const float* Yb
    const float* X
    const float* Y
    int N
    const float* Xp     # samples x features panels (ta_panels_f) or NULL
    long long pstride


cdef struct ScratchF:
    int n_sets
    int split
    float* H
    float* S
    float* D
    float* O
    float* G
    float* gacc         # n_sets * TA_W * P gradient lanes
    float* G1           # n_sets first-layer gradient chains (panels)
    float* part         # TA_SHARDS_MAX * P reduced shard gradients
    double* val
    double* hit
    int* bad
    float* grad
    float* theta
    long long* perm
    float* Xg           # a gathered mini-batch, (n_blocks, d, NB) and (n_blocks, 1, NB)
    float* Yg
    float* Za           # segments: first-layer pre-activations at the ends, (l, NB) each
    float* Zb
    float* thetas       # parameters at a chunk of points, (Tc, P)
    double* tot         # segments: per-point loss lanes (Tc, 8), hit counts, flags (Tc,)
    double* hitp
    int* flag


cdef void scratch_free_f(ScratchF* sc) noexcept nogil:
    if sc == NULL:
        return
    free(sc.H)
    free(sc.S)
    free(sc.D)
    free(sc.O)
    free(sc.G)
    free(sc.gacc)
    free(sc.G1)
    free(sc.part)
    free(sc.val)
    free(sc.hit)
    free(sc.bad)
    free(sc.grad)
    free(sc.theta)
    free(sc.perm)
    free(sc.Xg)
    free(sc.Yg)
    free(sc.Za)
    free(sc.Zb)
    free(sc.thetas)
    free(sc.tot)
    free(sc.hitp)
    free(sc.flag)
    free(sc)


cdef ScratchF* scratch_new_f(const Layout* L, int N, long long batch, int n_points,
                             int chunk_points, int split) noexcept nogil:
    cdef ScratchF* sc = <ScratchF*>malloc(sizeof(ScratchF))
    cdef size_t nb = TA_NB
    cdef size_t l1 = <size_t>L.rows[0]
    cdef size_t P = <size_t>L.P
    cdef size_t n_sets, bblk
    cdef SetSizes z
    cdef bint sets_ok
    if sc == NULL:
        return NULL
    memset(sc, 0, sizeof(ScratchF))
    sc.split = split if split > 1 else 1
    n_sets = <size_t>sc.split      # one set of group scratch per thread
    sc.n_sets = <int>n_sets
    z = set_sizes(L, sizeof(float))
    sets_ok = alloc_sets(n_sets, &z, &sc.H, &sc.S, &sc.D, &sc.O, &sc.G, &sc.gacc, &sc.G1)
    sc.part = ta_alloc_f(TA_SHARDS_MAX * P)
    sc.val = ta_alloc(TA_SHARDS_MAX)
    sc.hit = ta_alloc(TA_SHARDS_MAX)
    sc.bad = <int*>malloc(sizeof(int) * TA_SHARDS_MAX)
    sc.grad = ta_alloc_f(P)
    sc.theta = ta_alloc_f(P)
    sc.perm = <long long*>malloc(sizeof(long long) * (N + 1))
    if (not sets_ok or sc.part == NULL or sc.val == NULL or sc.hit == NULL or sc.bad == NULL
            or sc.grad == NULL or sc.theta == NULL or sc.perm == NULL):
        scratch_free_f(sc)
        return NULL
    if batch > 0:
        bblk = <size_t>((batch + TA_NB - 1) // TA_NB)
        sc.Xg = ta_alloc_f(bblk * L.d * nb)
        sc.Yg = ta_alloc_f(bblk * nb)
        if sc.Xg == NULL or sc.Yg == NULL:
            scratch_free_f(sc)
            return NULL
    if n_points > 0:
        sc.Za = ta_alloc_f(nb * l1)
        sc.Zb = ta_alloc_f(nb * l1)
        sc.thetas = ta_alloc_f(<size_t>chunk_points * P)
        sc.tot = ta_alloc(8 * <size_t>n_points)   # 8 double lanes per point (ta_interp1_f)
        sc.hitp = ta_alloc(n_points)
        sc.flag = <int*>malloc(sizeof(int) * n_points)
        if (sc.Za == NULL or sc.Zb == NULL or sc.thetas == NULL or sc.tot == NULL
                or sc.hitp == NULL or sc.flag == NULL):
            scratch_free_f(sc)
            return NULL
    return sc


cdef void shallow_shard_f(const Layout* L, const float* Xb, const float* Yb,
                          const float* Xp, int N, const float* theta, int s, int nshards, int nblk, bint need_grad,
                          bint need_loss, bint want_acc, double scale,
                          ScratchF* sc, int set_) noexcept nogil:
    cdef size_t P = <size_t>L.P
    cdef SetSizes z = set_sizes(L, sizeof(float))
    cdef float* gacc = sc.gacc + <size_t>set_ * z.lanes
    cdef ta_shallow_args_f a
    cdef double val = 0.0, hit = 0.0
    a.W1 = theta
    a.gW1 = gacc
    a.Xb = Xb
    a.Yb = Yb
    shallow_args_layout(&a, L, N, need_grad, need_loss, want_acc, scale)
    a.H = sc.H + set_ * z.act
    a.S = sc.S + set_ * z.act
    a.D = sc.D + set_ * z.act
    a.O = sc.O + set_ * z.blk
    a.G = sc.G + set_ * z.blk
    a.Xp = Xp
    a.pstride = <long long>nblk * TA_NB
    a.G1 = sc.G1 + set_ * z.chains
    if need_grad:
        shallow_zero(L, gacc, a.Xp != NULL)
    sc.bad[s] = ta_shallow_f(&a, <int>((<long long>s * nblk) // nshards),
                             <int>((<long long>(s + 1) * nblk) // nshards), &val, &hit)
    sc.val[s] = val
    sc.hit[s] = hit
    if need_grad:
        shallow_collect(L, gacc, a.G1, a.Xp != NULL, sc.part + <size_t>s * P)


cdef int shallow_pass_f(const Layout* L, const float* Xb, const float* Yb, const float* Xp,
                        int N, const float* theta, bint need_grad, bint need_loss, bint want_acc,
                        double* loss_out, double* acc_out, float* grad,
                        ScratchF* sc) noexcept nogil:
    """float32 ``shallow_pass`` over the ``N`` samples of the blocks ``Xb``, ``Yb``."""
    cdef int nblk = (N + TA_NB - 1) // TA_NB
    cdef int nshards = ta_pass_shards(N, L.P)
    cdef int s, p, bad = 0, P = L.P
    cdef double count = <double>N
    cdef double total, hits
    cdef float* part
    if sc.split > 1 and nshards > 1:
        for s in prange(nshards, num_threads=sc.split, schedule="dynamic", chunksize=1):
            shallow_shard_f(L, Xb, Yb, Xp, N, theta, s, nshards, nblk, need_grad, need_loss,
                            want_acc, 1.0 / count, sc, threadid())
    else:
        for s in range(nshards):
            shallow_shard_f(L, Xb, Yb, Xp, N, theta, s, nshards, nblk, need_grad, need_loss,
                            want_acc, 1.0 / count, sc, 0)
    total = sc.val[0]
    hits = sc.hit[0]
    bad = sc.bad[0]
    for s in range(1, nshards):
        total = total + sc.val[s]
        hits = hits + sc.hit[s]
        bad |= sc.bad[s]
    if need_grad:
        memcpy(grad, sc.part, sizeof(float) * P)
        for s in range(1, nshards):
            part = sc.part + <size_t>s * P
            for p in range(P):
                grad[p] = grad[p] + part[p]
    if need_loss:
        loss_out[0] = total / count
    if want_acc:
        acc_out[0] = hits / count
    return bad


cdef void gather_f(const Layout* L, const DataF* D, const long long* idx, int n,
                   ScratchF* sc) noexcept nogil:
    """The rows ``idx[0:n]`` of the data as zero-padded blocks in ``sc.Xg``, ``sc.Yg``."""
    cdef int nblk = (n + TA_NB - 1) // TA_NB, d = L.d
    cdef int blk, m, i, nv
    cdef long long r
    cdef float* xb
    for blk in range(nblk):
        nv = n - blk * TA_NB
        if nv > TA_NB:
            nv = TA_NB
        xb = sc.Xg + <size_t>blk * d * TA_NB
        for m in range(nv):
            r = idx[blk * TA_NB + m]
            for i in range(d):
                xb[i * TA_NB + m] = D.X[r * d + i]
            sc.Yg[blk * TA_NB + m] = D.Y[r]
        for m in range(nv, TA_NB):
            for i in range(d):
                xb[i * TA_NB + m] = 0.0
            sc.Yg[blk * TA_NB + m] = 0.0


cdef bint apply_update_f(const Layout* L, const TrainCfg* c, long long t, const float* th,
                         float* m1, float* m2, const float* g, float* new) noexcept nogil:
    """``apply_update`` in float: hyperparameters (and Adam's bias corrections, computed in
    double) rounded to float, every operation on a parameter in float."""
    cdef int p, P = L.P
    cdef float lr = <float>c.lr, mom = <float>c.mom, step, w1, w2, b2, eps, bc2s, denom, x
    cdef double bc1
    cdef bint ok = True
    if c.opt == OPT_PLAIN:
        for p in range(P):
            new[p] = th[p] - lr * g[p]
    elif c.opt == OPT_MOMENTUM:
        for p in range(P):
            m1[p] = m1[p] * mom + g[p]
            new[p] = th[p] - lr * m1[p]
    else:
        bc1 = 1.0 - pow(c.beta1, <double>(t + 1))
        bc2s = <float>sqrt(1.0 - pow(c.beta2, <double>(t + 1)))
        step = <float>(c.lr / bc1)
        w1 = <float>(1.0 - c.beta1)
        w2 = <float>(1.0 - c.beta2)
        b2 = <float>c.beta2
        eps = <float>c.eps
        for p in range(P):
            if w1 < 0.5:
                m1[p] = m1[p] + w1 * (g[p] - m1[p])
            else:
                m1[p] = g[p] - (g[p] - m1[p]) * (<float>1.0 - w1)
            m2[p] = m2[p] * b2 + (w2 * g[p]) * g[p]
            denom = sqrtf(m2[p]) / bc2s + eps
            new[p] = th[p] + (-step * m1[p]) / denom
    for p in range(P):
        x = new[p]
        if not isfinite(x):
            ok = False
    return ok


cdef struct TrainCfgF:
    float* mid
    float* udir
    float* theta
    float* st1
    float* st2
    float* param_rec


cdef void train_one_f(Py_ssize_t b, const Layout* L, const DataF* D, const TrainCfg* c,
                      const TrainCfgF* cf, ScratchF* sc) noexcept nogil:
    cdef int P = L.P
    cdef float* th = cf.theta + b * P
    cdef float* m1 = cf.st1 + b * P if cf.st1 != NULL else NULL
    cdef float* m2 = cf.st2 + b * P if cf.st2 != NULL else NULL
    cdef long long t, slot, nbe = 1, epoch = -1, start, cnt
    cdef uint64_t s_after = 0
    cdef bint full = c.batch <= 0, final, need_loss, loss_known, bad
    cdef double loss = NAN, dummy
    if c.status[b] != RUNNING:
        return
    if not full:
        nbe = (D.N + c.batch - 1) // c.batch
    t = c.t_start
    while t < c.t_end:
        slot = record_slot(t, c)
        final = t == c.total_steps
        loss = NAN
        bad = False
        if full:
            need_loss = slot >= 0 or c.has_target or final
            bad = shallow_pass_f(L, D.Xb, D.Yb, D.Xp, D.N, th, not final, need_loss, False, &loss,
                                 NULL, sc.grad, sc) != 0
        else:
            need_loss = slot >= 0 or final
            if need_loss:
                bad = shallow_pass_f(L, D.Xb, D.Yb, D.Xp, D.N, th, False, True, False, &loss, NULL,
                                     NULL, sc) != 0
            if not final and not bad:
                if t // nbe != epoch:
                    if epoch >= 0:
                        c.rng[b] = s_after
                    epoch = t // nbe
                    s_after = shuffle(sc.perm, D.N, c.rng[b])
                start = (t % nbe) * c.batch
                cnt = D.N - start
                if cnt > c.batch:
                    cnt = c.batch
                gather_f(L, D, sc.perm + start, <int>cnt, sc)
                bad = shallow_pass_f(L, sc.Xg, sc.Yg, NULL, <int>cnt, th, True, False, False,
                                     &dummy, NULL, sc.grad, sc) != 0
        loss_known = need_loss
        if slot >= 0:
            c.loss_rec[b * c.n_records + slot] = loss
            if c.rec_params:
                memcpy(cf.param_rec + (b * c.n_records + slot) * P, th, sizeof(float) * P)
            if c.rec_cons:
                conserved(L, th, c.cons_rec + (b * c.n_records + slot) * c.n_hidden)
        if loss_known and not isfinite(loss):
            bad = True
        if not bad and loss_known and c.has_target and loss <= c.target:
            c.status[b] = REACHED_TARGET
            c.steps_taken[b] = t
            c.final_loss[b] = loss
            return
        if not bad and final:
            c.status[b] = COMPLETED
            c.steps_taken[b] = t
            c.final_loss[b] = loss
            return
        if not bad:
            if cf.mid != NULL:
                add_penalty(P, th, cf.mid + b * P, cf.udir + b * P, c.spring, c.plane, sc.grad)
            bad = not apply_update_f(L, c, t, th, m1, m2, sc.grad, sc.theta)
        if bad:
            c.status[b] = DIVERGED
            c.steps_taken[b] = t
            if not loss_known:
                shallow_pass_f(L, D.Xb, D.Yb, D.Xp, D.N, th, False, True, False, &loss, NULL, NULL,
                               sc)
            c.final_loss[b] = loss
            return
        memcpy(th, sc.theta, sizeof(float) * P)
        t += 1
    if not full and epoch >= 0 and c.t_end < c.total_steps and c.t_end // nbe != epoch:
        c.rng[b] = s_after


cdef _train_chunk_f32(const float[:, :, ::1] Xb, const float[:, :, ::1] Yb,
                      const float[:, ::1] X, const float[:, ::1] Y, TrainOptions o,
                      TrainState state, const long long[:, ::1] layout,
                      float[:, ::1] theta, float[:, ::1] state1, float[:, ::1] state2,
                      float[:, :, ::1] param_rec, long long t_start, long long t_end,
                      int n_threads, const float[:, :, ::1] Xp):
    cdef Layout L = make_layout(layout, o.act, o.slope, o.loss, theta.shape[1])
    cdef DataF D
    cdef TrainCfg c
    cdef TrainCfgF cf
    cdef ScratchF* sc = NULL
    cdef Py_ssize_t b, B = theta.shape[0]
    cdef double[:, ::1] loss_rec = state.loss_rec
    cdef double[:, :, ::1] cons_rec = state.cons_rec
    if not ta_have_f32() or not shallow_ok(&L):
        raise ValueError("float32 kernels: " + FLOAT32_SCOPE)
    D.Xb = &Xb[0, 0, 0]
    D.Yb = &Yb[0, 0, 0]
    D.X = &X[0, 0]
    D.Y = &Y[0, 0]
    D.N = X.shape[0]
    cdef float* own_xp = NULL
    cdef float* use_xp = NULL
    data_panels(Xb, D.N, Xp, &use_xp, &own_xp)
    D.Xp = use_xp
    D.pstride = <long long>Xb.shape[0] * TA_NB
    fill_cfg(&c, o, t_start, t_end, loss_rec.shape[1], cons_rec.shape[2])
    fill_state(&c, state, state.rng, state.status, state.steps_taken, state.final_loss,
               loss_rec, cons_rec)
    c.theta = NULL
    c.st1 = NULL
    c.st2 = NULL
    c.param_rec = NULL
    cf.theta = &theta[0, 0]
    cf.st1 = &state1[0, 0] if c.opt != OPT_PLAIN else NULL
    cf.st2 = &state2[0, 0] if c.opt == OPT_ADAM else NULL
    cf.param_rec = &param_rec[0, 0, 0]
    cf.mid = NULL
    cf.udir = NULL
    if state.mid is not None:
        penalty_arrays[float](state.mid, state.udir, &cf.mid, &cf.udir)
    if B < n_threads and split_wanted(&L, c.batch, D.N, True):
        with nogil:
            sc = scratch_new_f(&L, D.N, c.batch, 0, 0, n_threads)
            for b in range(B):
                if sc == NULL:
                    c.status[b] = OUT_OF_MEMORY
                else:
                    train_one_f(b, &L, &D, &c, &cf, sc)
            scratch_free_f(sc)
        free(own_xp)
        return
    if n_threads > B:
        n_threads = <int>B
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new_f(&L, D.N, c.batch, 0, 0, 1)
        for b in prange(B, schedule="static"):
            if sc == NULL:
                c.status[b] = OUT_OF_MEMORY
            else:
                train_one_f(b, &L, &D, &c, &cf, sc)
        scratch_free_f(sc)
    free(own_xp)


cdef void eval_segment_f(const Layout* L, const DataF* D, const float* a, const float* b,
                         const float* ts, int T, int Tc, bint want_acc, double* loss_out,
                         double* acc_out, int8_t* bad_out, ScratchF* sc) noexcept nogil:
    """float32 ``eval_segment`` (the fused path): ``θ_t = (1 - t) a + t b`` in float."""
    cdef const long long* row0 = L.rows
    cdef const long long* row1 = L.rows + 6
    cdef int l1 = <int>row0[0], d = L.d, nblk = (D.N + TA_NB - 1) // TA_NB
    cdef int t0, tc, k, blk, nv, p, P = L.P
    cdef float t, u
    cdef double count = <double>D.N
    cdef float scale = <float>(1.0 / count)
    cdef float* th
    cdef double* lanes
    cdef const float* X0
    t0 = 0
    while t0 < T:
        tc = T - t0
        if tc > Tc:
            tc = Tc
        for k in range(tc):
            t = ts[t0 + k]
            u = <float>1.0 - t
            th = sc.thetas + <size_t>k * P
            for p in range(P):
                th[p] = u * a[p] + t * b[p]
            for p in range(8):
                sc.tot[8 * k + p] = 0.0
            sc.hitp[k] = 0.0
            sc.flag[k] = 0
        for blk in range(nblk):
            nv = D.N - blk * TA_NB
            if nv > TA_NB:
                nv = TA_NB
            X0 = D.Xb + <size_t>blk * d * TA_NB
            ta_affine_f(a + row0[2], a + row0[3] if row0[3] >= 0 else NULL, l1, d, X0, sc.Za,
                        ACT_NONE, 0.0, NULL)
            ta_affine_f(b + row0[2], b + row0[3] if row0[3] >= 0 else NULL, l1, d, X0, sc.Zb,
                        ACT_NONE, 0.0, NULL)
            ta_interp1_f(sc.Za, sc.Zb, l1, ts + t0, tc, sc.thetas, P, <int>row1[2],
                         <int>row1[3], L.act, <float>L.slope, D.Yb + <size_t>blk * TA_NB, nv,
                         scale, L.loss, want_acc, sc.tot, sc.hitp, sc.flag)
        for k in range(tc):
            # the point's double lanes of float terms, added as ta_sum_lanes adds them
            lanes = sc.tot + 8 * k
            loss_out[t0 + k] = (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
                                + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))) / count
            acc_out[t0 + k] = sc.hitp[k] / count
            bad_out[t0 + k] = DIVERGED if sc.flag[k] else RUNNING
        t0 += tc


def evaluate_segments_f32(const float[:, ::1] table, const long long[::1] ia,
                          const long long[::1] ib, const float[::1] ts,
                          const float[:, :, ::1] Xb, const float[:, :, ::1] Yb,
                          const float[:, ::1] X, const float[:, ::1] Y,
                          const long long[:, ::1] layout, int act, double slope, int loss,
                          double[:, ::1] loss_out, double[:, ::1] acc_out, bint want_acc,
                          int8_t[:, ::1] bad_out, int n_threads):
    """``evaluate_segments`` in float32 (networks in ``FLOAT32_SCOPE``; accuracy for bce)."""
    cdef Layout L = make_layout(layout, act, slope, loss, table.shape[1])
    cdef DataF D
    cdef ScratchF* sc = NULL
    cdef Py_ssize_t s, k, M = ia.shape[0]
    cdef int T = <int>ts.shape[0]
    cdef int Tc = T
    if not ta_have_f32() or not shallow_ok(&L):
        raise ValueError("float32 kernels: " + FLOAT32_SCOPE)
    if Tc * <long long>L.P > (1 << 18):
        Tc = max(1, (1 << 18) // L.P)
    D.Xb = &Xb[0, 0, 0]
    D.Yb = &Yb[0, 0, 0]
    D.X = &X[0, 0]
    D.Y = &Y[0, 0]
    D.N = X.shape[0]
    D.Xp = NULL
    D.pstride = 0
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new_f(&L, 0, 0, Tc, Tc, 1)
        for s in prange(M, schedule="static"):
            if sc == NULL:
                for k in range(T):
                    bad_out[s, k] = OUT_OF_MEMORY
            else:
                eval_segment_f(&L, &D, &table[ia[s], 0], &table[ib[s], 0], &ts[0], T, Tc,
                               want_acc, &loss_out[s, 0], &acc_out[s, 0], &bad_out[s, 0], sc)
        scratch_free_f(sc)


def evaluate_segments(const double[:, ::1] table, const long long[::1] ia,
                      const long long[::1] ib, const double[::1] ts,
                      const double[:, :, ::1] Xb, const double[:, :, ::1] Yb,
                      const double[:, ::1] X, const double[:, ::1] Y,
                      const long long[:, ::1] layout, int act, double slope, int loss,
                      double[:, ::1] loss_out, double[:, ::1] acc_out, bint want_acc,
                      int8_t[:, ::1] bad_out, int n_threads):
    """Loss (and accuracy) at ``(1 - t) table[ia[s]] + t table[ib[s]]`` for every segment
    ``s`` and every ``t`` in ``ts``; ``bad_out`` gets the status of each evaluation (STATUS_DIVERGED: not finite,
    STATUS_OUT_OF_MEMORY: no scratch).
    Parallel over segments."""
    cdef Layout L = make_layout(layout, act, slope, loss, table.shape[1])
    cdef Data D
    cdef Scratch* sc = NULL
    cdef Py_ssize_t s, k, M = ia.shape[0]
    cdef int T = <int>ts.shape[0]
    cdef int Tc = T
    if Tc * <long long>L.P > (1 << 18):     # at most 2 MiB of interpolated parameters
        Tc = max(1, (1 << 18) // L.P)
    D.Xb = &Xb[0, 0, 0]
    D.Yb = &Yb[0, 0, 0]
    D.X = &X[0, 0]
    D.Y = &Y[0, 0]
    D.N = X.shape[0]
    D.Xp = NULL
    D.pstride = 0
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new(&L, 0, Tc, Tc)
        for s in prange(M, schedule="static"):
            if sc == NULL:
                for k in range(T):
                    bad_out[s, k] = OUT_OF_MEMORY
            else:
                eval_segment(&L, &D, &table[ia[s], 0], &table[ib[s], 0], &ts[0], T, Tc,
                             want_acc, &loss_out[s, 0], &acc_out[s, 0], &bad_out[s, 0], sc)
        scratch_free(sc)


def evaluate_networks(const double[:, ::1] theta,
                      const double[:, :, ::1] Xb, const double[:, :, ::1] Yb,
                      const double[:, ::1] X, const double[:, ::1] Y,
                      const long long[:, ::1] layout, int act, double slope, int loss,
                      bint want_loss, bint want_grad, bint want_acc, bint want_out,
                      double[::1] loss_out, double[:, ::1] grad_out, double[::1] acc_out,
                      double[:, :, ::1] out, int8_t[::1] bad_out, int n_threads,
                      const double[:, :, ::1] Xp=None):
    """Per network: loss, gradient in the flat parameters, accuracy and outputs ``(N, e)``;
    ``bad_out`` gets the status (STATUS_DIVERGED: not finite, STATUS_OUT_OF_MEMORY).
    ``Xp``: the panels of ``Xb`` (see ``train_chunk``), built here when None."""
    cdef Layout L = make_layout(layout, act, slope, loss, theta.shape[1])
    cdef Data D
    cdef Scratch* sc = NULL
    cdef Py_ssize_t b, B = theta.shape[0]
    D.Xb = &Xb[0, 0, 0]
    D.Yb = &Yb[0, 0, 0]
    D.X = &X[0, 0]
    D.Y = &Y[0, 0]
    D.N = X.shape[0]
    cdef double* own_xp = NULL
    cdef double* use_xp = NULL
    data_panels(Xb, D.N, Xp, &use_xp, &own_xp)
    D.Xp = use_xp
    D.pstride = <long long>Xb.shape[0] * TA_NB
    # one pass per call: splitting a network's samples over threads would cost a fork and a
    # join per pass for a few microseconds of work (training splits, see train_chunk)
    if n_threads > B:
        n_threads = <int>B
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new(&L, 0)
        for b in prange(B, schedule="static"):
            if sc == NULL:
                bad_out[b] = OUT_OF_MEMORY
            else:
                bad_out[b] = DIVERGED if net_pass(
                    &L, &D, NULL, D.N, &theta[b, 0], want_grad, want_loss, want_acc,
                    &loss_out[b], &acc_out[b], &grad_out[b, 0] if want_grad else NULL,
                    &out[b, 0, 0] if want_out else NULL, sc) else RUNNING
        scratch_free(sc)
    free(own_xp)


def evaluate_networks_f32(const float[:, ::1] theta,
                          const float[:, :, ::1] Xb, const float[:, :, ::1] Yb, int N,
                          const long long[:, ::1] layout, int act, double slope, int loss,
                          bint want_loss, bint want_grad, bint want_acc,
                          double[::1] loss_out, float[:, ::1] grad_out, double[::1] acc_out,
                          int8_t[::1] bad_out, int n_threads,
                          const float[:, :, ::1] Xp=None):
    """``evaluate_networks`` in float32 (networks in ``FLOAT32_SCOPE``): loss (summed in
    double), gradient in float (the two shard sums added in float, as in training) and bce
    accuracy per network; ``bad_out`` gets the status."""
    cdef Layout L = make_layout(layout, act, slope, loss, theta.shape[1])
    cdef ScratchF* sc = NULL
    cdef Py_ssize_t b, B = theta.shape[0]
    if not ta_have_f32() or not shallow_ok(&L):
        raise ValueError("float32 kernels: " + FLOAT32_SCOPE)
    cdef float* own_xp = NULL
    cdef float* xp = NULL
    data_panels(Xb, N, Xp, &xp, &own_xp)
    if n_threads > B:
        n_threads = <int>B
    with nogil, parallel(num_threads=n_threads):
        sc = scratch_new_f(&L, 0, 0, 0, 0, 1)
        for b in prange(B, schedule="static"):
            if sc == NULL:
                bad_out[b] = OUT_OF_MEMORY
            else:
                bad_out[b] = DIVERGED if shallow_pass_f(
                    &L, &Xb[0, 0, 0], &Yb[0, 0, 0], xp, N, &theta[b, 0], want_grad,
                    want_loss,
                    want_acc, &loss_out[b], &acc_out[b],
                    &grad_out[b, 0] if want_grad else NULL, sc) else RUNNING
        scratch_free_f(sc)
    free(own_xp)
