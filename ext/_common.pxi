# Pieces shared by ext/engine.pyx and ext/flow.pyx, textually ``include``d by both (cdef inline
# and cdef functions cannot be cimported across two extension modules without a shared .pxd
# and a cross-module call; an include keeps each module's generated code what it was).
# Needs in the including module: the enum constant WG_GROUP (blocks per first-layer
# weight-gradient update), defined before the ``include``.

from libc.string cimport memcpy

from libc.string cimport memset

from _blockops cimport (TA_ACT_NONE, TA_ACT_TANH, TA_LOSS_CE, TA_NB, TA_W, ta_affine,
                        ta_alloc, ta_alloc_f, ta_backprop, ta_n_panels, ta_n_panels_f, ta_panels,
                        ta_panels_f,
                        ta_reduce_lanes, ta_reduce_lanes_f, ta_shallow_args, ta_shallow_args_f,
                        ta_tanh, ta_wgrad, ta_wgrad_all)

ctypedef fused real_t:
    float
    double

ctypedef fused shallow_args_t:
    ta_shallow_args
    ta_shallow_args_f


cdef struct Layout:
    int n_layers
    const long long* rows      # (n_layers, 6)
    int act
    double slope
    int loss
    int P
    int d
    int e
    int z_rows                 # sum of n_out over layers
    int s_rows                 # sum of n_out over hidden layers
    int max_width


cdef Layout make_layout(const long long[:, ::1] layout, int act, double slope, int loss,
                        int P) noexcept:
    cdef Layout L
    cdef int li
    L.n_layers = layout.shape[0]
    L.rows = &layout[0, 0]
    L.act = act
    L.slope = slope
    L.loss = loss
    L.P = P
    L.d = <int>layout[0, 1]
    L.e = <int>layout[L.n_layers - 1, 0]
    L.z_rows = 0
    L.s_rows = 0
    L.max_width = L.d
    for li in range(L.n_layers):
        L.z_rows += <int>layout[li, 0]
        if li < L.n_layers - 1:
            L.s_rows += <int>layout[li, 0]
        if layout[li, 0] > L.max_width:
            L.max_width = <int>layout[li, 0]
    return L


cdef inline bint shallow_ok(const Layout* L) noexcept nogil:
    """One hidden layer with a vectorized activation, one output, an elementwise loss: the
    full-data passes go through ``ta_shallow`` (three passes per group of blocks, sharded)."""
    return L.n_layers == 2 and L.e == 1 and L.loss != TA_LOSS_CE and L.act != TA_ACT_TANH


cdef inline int hidden_layer(const Layout* L, const double* theta, int li, const double* Hin,
                             double* Z, double* S) noexcept nogil:
    """Affine map and activation of hidden layer ``li`` on one block (``S``: activation
    derivatives, or NULL). Returns the non-finite flag of tanh (other activations leave
    non-finite values to be caught at the outputs)."""
    cdef const long long* row = L.rows + 6 * li
    cdef const double* bias = theta + row[3] if row[3] >= 0 else NULL
    if L.act == TA_ACT_TANH:   # tanh is not vectorized: activate in a second pass
        ta_affine(theta + row[2], bias, <int>row[0], <int>row[1], Hin, Z, TA_ACT_NONE, 0.0,
                  NULL)
        return ta_tanh(Z, S, <int>row[0] * TA_NB)
    ta_affine(theta + row[2], bias, <int>row[0], <int>row[1], Hin, Z, L.act, L.slope, S)
    return 0


cdef void conserved(const Layout* L, const real_t* theta, double* out) noexcept nogil:
    """||incoming||^2 (with bias) - ||outgoing||^2 per hidden neuron, layers concatenated
    (float or double parameters; sums in double)."""
    cdef int li, k, i, j, n_out, n_in, n_next, pos = 0
    cdef const long long* row
    cdef const long long* nxt
    cdef double sw, so, w
    for li in range(L.n_layers - 1):
        row = L.rows + 6 * li
        nxt = L.rows + 6 * (li + 1)
        n_out = <int>row[0]
        n_in = <int>row[1]
        n_next = <int>nxt[0]
        for k in range(n_out):
            sw = 0.0
            for i in range(n_in):
                w = theta[row[2] + k * n_in + i]
                sw += w * w
            so = 0.0
            for j in range(n_next):
                w = theta[nxt[2] + j * n_out + k]
                so += w * w
            w = 0.0
            if row[3] >= 0:
                w = theta[row[3] + k]
            out[pos] = (sw - so) + w * w
            pos += 1


cdef inline void shallow_args_layout(shallow_args_t* a, const Layout* L, int N, bint need_grad,
                                     bint need_loss, bint want_hits,
                                     double scale) noexcept nogil:
    """Fill the arguments of ``ta_shallow`` / ``ta_shallow_f`` that follow from the layout: on
    entry ``a.W1`` holds the parameter vector and ``a.gW1`` the gradient lanes (``TA_W`` per
    parameter); on return the weight, bias and gradient pointers point into them and the sizes,
    codes and flags are set. The caller sets the data (``Xb``, ``Yb``) and the group scratch
    (``H``, ``S``, ``D``, ``O``, ``G``)."""
    cdef const long long* r0 = L.rows
    cdef const long long* r1 = L.rows + 6
    a.b1 = a.W1 + r0[3] if r0[3] >= 0 else NULL
    a.w2 = a.W1 + r1[2]
    a.b2 = a.W1 + r1[3] if r1[3] >= 0 else NULL
    a.W1 = a.W1 + r0[2]
    a.gb1 = a.gW1 + TA_W * r0[3] if r0[3] >= 0 else NULL
    a.gw2 = a.gW1 + TA_W * r1[2]
    a.gb2 = a.gW1 + TA_W * r1[3] if r1[3] >= 0 else NULL
    a.gW1 = a.gW1 + TA_W * r0[2]
    a.l = <int>r0[0]
    a.d = L.d
    a.act = L.act
    a.loss = L.loss
    a.slope = L.slope
    a.scale = scale
    a.N = N
    a.need_value = need_loss
    a.need_grad = need_grad
    a.want_hits = want_hits


# The panel copy doubles the data the shallow path streams through when the two layouts no
# longer stay in the last-level cache between steps (measured on a 32 MiB L3: at N = 65,536,
# d = 30 the panel path ran 1.3x slower per step than the lane path); above this size the
# first-layer gradient keeps the lane path. A fixed size, not the machine's cache: the
# numbers may not depend on the machine (only the lane/chain choice changes the last bits).
cdef enum:
    PANEL_MAX_BYTES = 16 * 1024 * 1024


# Threads sharing one network's shards each take a set of group scratch. A set begins a whole
# number of 4 KiB pages after the previous one, so that every set has set 0's addresses modulo
# 4 KiB: with sets packed end to end, the second set's buffers sat at other offsets from one
# another and its thread ran its shards 12% slower (4K aliasing between the loads and stores of
# the group passes, measured at N = 65,536: 78 vs 69 us per shard; swapping the sets moved the
# slowdown with them).
cdef inline size_t set_stride(size_t n, size_t itemsize) noexcept nogil:
    """``n`` items of ``itemsize`` bytes rounded up to whole 4 KiB pages, in items."""
    return (n * itemsize + 4095) // 4096 * 4096 // itemsize


cdef struct SetSizes:
    size_t act          # activations, derivatives, errors of a group (H, S, D)
    size_t blk          # outputs and loss derivatives of a group (O, G)
    size_t lanes        # gradient lanes
    size_t chains       # first-layer gradient chains (panels)


cdef inline SetSizes set_sizes(const Layout* L, size_t itemsize) noexcept nogil:
    """The items from one thread's set of each group-scratch buffer to the next's (whole 4 KiB
    pages, ``set_stride``): the one place the allocation and the offsets of the sets take
    them from."""
    cdef size_t l1 = <size_t>L.rows[0]
    cdef SetSizes z
    z.act = set_stride(<size_t>TA_GROUP * l1 * TA_NB, itemsize)
    z.blk = set_stride(<size_t>TA_GROUP * TA_NB, itemsize)
    z.lanes = set_stride(<size_t>TA_W * L.P, itemsize)
    z.chains = set_stride(l1 * n_panels(L.d, itemsize) * TA_W, itemsize)
    return z


cdef inline bint alloc_sets(size_t n_sets, const SetSizes* z, real_t** H, real_t** S,
                            real_t** D, real_t** O, real_t** G, real_t** gacc,
                            real_t** G1) noexcept nogil:
    """The seven group-scratch buffers of ``n_sets`` thread sets (sizes from ``set_sizes``):
    activations, derivatives, errors, outputs, loss derivatives, gradient lanes and chains.
    Returns whether all were allocated (the caller frees them either way)."""
    cdef size_t n[7]
    cdef real_t** out[7]
    cdef int i
    n[0] = n[1] = n[2] = n_sets * z.act
    n[3] = n[4] = n_sets * z.blk
    n[5] = n_sets * z.lanes
    n[6] = n_sets * z.chains
    out[0] = H; out[1] = S; out[2] = D; out[3] = O; out[4] = G; out[5] = gacc; out[6] = G1
    for i in range(7):
        if real_t is double:
            out[i][0] = ta_alloc(n[i])
        else:
            out[i][0] = ta_alloc_f(n[i])
    for i in range(7):
        if out[i][0] == NULL:
            return False
    return True


cdef inline int n_panels(int d, size_t itemsize) noexcept nogil:
    """The panels of data with ``d`` features in the precision of ``itemsize`` bytes
    (``ta_n_panels``, float32 ``ta_n_panels_f``: an even count, stored in pairs)."""
    return ta_n_panels_f(d) if itemsize == 4 else ta_n_panels(d)


cdef inline bint panels_wanted(Py_ssize_t nblk, int d, int itemsize) noexcept nogil:
    """Whether the shallow path reads samples x features panels for data of ``nblk`` blocks
    and ``d`` features (blocks plus panels at most PANEL_MAX_BYTES)."""
    return (<double>nblk * TA_NB * (d + n_panels(d, itemsize) * TA_W) * itemsize
            <= PANEL_MAX_BYTES)


cdef int data_panels(const real_t[:, :, ::1] Xb, int N, const real_t[:, :, ::1] Xp,
                     real_t** use, real_t** own) except -1:
    """The panels the shallow path reads for the blocks ``Xb`` of ``N`` samples, in ``*use``:
    NULL when blocks and panels would exceed PANEL_MAX_BYTES (lane path), ``Xp`` when given
    (``ta_panels`` layout, shape checked: float64 (panels, samples, 8), float32 the pairs
    (panels / 2, samples, 16); the owner's ``EngineData.Xp``), else a copy built here and also
    returned in ``*own`` for the caller to free() (NULL when out of memory: the lane path,
    same values, other bits)."""
    cdef int nblk = <int>Xb.shape[0], d = <int>Xb.shape[1]
    cdef tuple want
    if real_t is double:
        want = (ta_n_panels(d), <Py_ssize_t>nblk * TA_NB, TA_W)
    else:
        want = (ta_n_panels_f(d) // 2, <Py_ssize_t>nblk * TA_NB, 2 * TA_W)
    use[0] = NULL
    own[0] = NULL
    if not panels_wanted(nblk, d, sizeof(real_t)):
        return 0
    if Xp is not None:
        if tuple(Xp.shape)[:3] != want:
            raise ValueError(f"panels: expected shape {want}; got {tuple(Xp.shape)[:3]}")
        use[0] = <real_t*>&Xp[0, 0, 0]
        return 0
    if real_t is double:
        own[0] = ta_alloc(<size_t>ta_n_panels(d) * nblk * TA_NB * TA_W)
        if own[0] != NULL:
            ta_panels(&Xb[0, 0, 0], nblk, d, N, own[0])
    else:
        own[0] = ta_alloc_f(<size_t>ta_n_panels_f(d) * nblk * TA_NB * TA_W)
        if own[0] != NULL:
            ta_panels_f(&Xb[0, 0, 0], nblk, d, N, own[0])
    use[0] = own[0]
    return 0


cdef inline void shallow_zero(const Layout* L, real_t* gacc, bint panels) noexcept nogil:
    """Zero the gradient lanes ``ta_shallow`` adds to: with the panel path (``a.Xp`` set) only
    the output layer's (the first layer's gradient is in the chains ``a.G1``), else all."""
    cdef const long long* r1 = L.rows + 6
    if not panels:
        memset(gacc, 0, sizeof(real_t) * TA_W * L.P)
        return
    memset(gacc + TA_W * r1[2], 0, sizeof(real_t) * TA_W * L.rows[0])
    if r1[3] >= 0:
        memset(gacc + TA_W * r1[3], 0, sizeof(real_t) * TA_W)


cdef inline void panel_rows_out(const Layout* L, const real_t* G1, real_t* out) noexcept nogil:
    """The first layer's weight and bias gradient from the panel chains ``G1`` (neuron k's row
    of ``n_panels(d) * TA_W`` entries, the bias in column d) into ``out``."""
    cdef const long long* r0 = L.rows
    cdef int l = <int>r0[0], d = L.d, k, i
    cdef int rowlen = n_panels(d, sizeof(real_t)) * TA_W
    for k in range(l):
        for i in range(d):
            out[r0[2] + <long long>k * d + i] = G1[<size_t>k * rowlen + i]
        if r0[3] >= 0:
            out[r0[3] + k] = G1[<size_t>k * rowlen + d]


cdef inline void shallow_collect(const Layout* L, const real_t* gacc, const real_t* G1,
                                 bint panels, real_t* out) noexcept nogil:
    """The reduced gradient of a ``ta_shallow`` shard in ``out`` (P entries): with the panel
    path, the first layer from the chains ``G1`` (neuron k's row of ``n_panels(d) * TA_W``
    entries, the bias in column d) and the output layer from its lanes; else all from the
    lanes."""
    cdef const long long* r1 = L.rows + 6
    cdef int l = <int>L.rows[0]
    if not panels:
        if real_t is double:
            ta_reduce_lanes(gacc, L.P, out)
        else:
            ta_reduce_lanes_f(gacc, L.P, out)
        return
    panel_rows_out(L, G1, out)
    if real_t is double:
        ta_reduce_lanes(gacc + TA_W * r1[2], l, out + r1[2])
        if r1[3] >= 0:
            ta_reduce_lanes(gacc + TA_W * r1[3], 1, out + r1[3])
    else:
        ta_reduce_lanes_f(gacc + TA_W * r1[2], l, out + r1[2])
        if r1[3] >= 0:
            ta_reduce_lanes_f(gacc + TA_W * r1[3], 1, out + r1[3])


cdef inline void backward_block(const Layout* L, const double* theta, int li, double* Dcur,
                                const double* X0, const double* Xb, int blk, int nblk,
                                bint grad_all, const double* Z, const double* S, double* D0,
                                double* D1, double* Dall, double* gacc, const double* Xp,
                                long long pstride, double* G1) noexcept nogil:
    """Backward pass of block ``blk`` (inputs ``X0``) from layer ``li`` down to the first layer:
    ``Dcur`` holds the errors of layer ``li``; weight gradients go into the lanes ``gacc``, the
    errors alternate between ``D0`` and ``D1``. With ``grad_all`` (full data, ``Xb`` the data
    blocks) the first layer's errors are stored in ``Dall`` and its weight gradient is taken
    over groups of WG_GROUP blocks: from the panels ``Xp`` (``ta_wgrad_panels``: one chain per
    entry over the samples in order, in ``G1``; ``general_collect``) when given, else from the
    blocks (``ta_wgrad_all``, lanes)."""
    cdef const long long* row
    cdef const double* Hin
    cdef double* Dnext
    cdef int n_out, n_in, l1 = <int>L.rows[0], d = L.d, g0
    while li >= 0:
        row = L.rows + 6 * li
        n_out = <int>row[0]
        n_in = <int>row[1]
        Hin = X0 if li == 0 else Z + L.rows[6 * (li - 1) + 4] * TA_NB
        if li == 0 and grad_all:
            memcpy(Dall + <size_t>(blk % WG_GROUP) * l1 * TA_NB, Dcur,
                   sizeof(double) * l1 * TA_NB)
            if blk % WG_GROUP == WG_GROUP - 1 or blk == nblk - 1:
                g0 = blk - blk % WG_GROUP
                if Xp != NULL:
                    ta_wgrad_panels(Dall, Xp + <size_t>g0 * TA_NB * TA_W, <size_t>pstride,
                                    blk % WG_GROUP + 1, l1, d, G1)
                else:
                    ta_wgrad_all(Dall, Xb + <size_t>g0 * d * TA_NB, blk % WG_GROUP + 1, l1, d,
                                 gacc + TA_W * L.rows[2],
                                 gacc + TA_W * L.rows[3] if L.rows[3] >= 0 else NULL)
        else:
            ta_wgrad(Dcur, Hin, n_out, n_in, gacc + TA_W * row[2],
                     gacc + TA_W * row[3] if row[3] >= 0 else NULL)
        if li > 0:
            Dnext = D1 if Dcur == D0 else D0
            ta_backprop(theta + row[2], Dcur, S + L.rows[6 * (li - 1) + 5] * TA_NB,
                        n_out, n_in, Dnext)
            Dcur = Dnext
        li -= 1


cdef inline void general_collect(const Layout* L, const double* gacc, const double* G1,
                                 bint panels, double* out) noexcept nogil:
    """The reduced gradient of a full-data pass of the general path in ``out`` (P entries):
    all from the lanes ``gacc``, then, with the panels (``backward_block``), the first layer
    from the chains ``G1`` (its lanes are zero)."""
    ta_reduce_lanes(gacc, L.P, out)
    if panels:
        panel_rows_out(L, G1, out)
