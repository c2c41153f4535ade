# Pieces shared by ext/engine.pyx and ext/flow.pyx, textually ``include``d by both (cdef inline
# and cdef functions cannot be cimported across two extension modules without a shared .pxd
# and a cross-module call; an include keeps each module's generated code what it was).
# Needs in the including module: ``from _blockops cimport ...`` of ta_affine, ta_tanh, TA_NB
# (cimported here as well) and nothing else.

from _blockops cimport TA_ACT_NONE, TA_ACT_TANH, TA_LOSS_CE, TA_NB, ta_affine, ta_tanh

ctypedef fused real_t:
    float
    double


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
