# Cython declarations of the engine's C block primitives; the code and its documentation are
# in ext/blockops.h and ext/blockops_impl.h (plain C headers that compile on their own).
# The ta_* kernels are called through the dispatch table of the selected clone
# (ta_select_clone: 0 default, 1 x86-64-v3, 2 x86-64-v4, -1 the best the CPU supports).

cdef extern from "blockops.h":
    enum: TA_NB
    enum: TA_W
    enum: TA_GROUP
    enum: TA_SHARDS
    enum: TA_SHARDS_MAX
    double TA_SPLIT_MIN_WORK
    ctypedef struct ta_shallow_args:
        const double* W1
        const double* b1
        const double* w2
        const double* b2
        int l
        int d
        int act
        int loss
        double slope
        double scale
        const double* Xb
        const double* Yb
        int N
        int need_value
        int need_grad
        int want_hits
        double* gW1
        double* gb1
        double* gw2
        double* gb2
        double* H
        double* S
        double* D
        double* O
        double* G
        const double* Xp
        long long pstride
        double* G1
    double* ta_alloc(size_t n) noexcept nogil
    int ta_n_panels(int d) noexcept nogil
    int ta_n_panels_f(int d) noexcept nogil
    int ta_n_shards(int nblk) noexcept nogil
    int ta_pass_shards(int N, long long P) noexcept nogil
    void ta_panels(const double* Xb, int nblk, int d, int N, double* Xp) noexcept nogil
    void ta_panels_f(const float* Xb, int nblk, int d, int N, float* Xp) noexcept nogil
    int ta_clone_supported(int which) noexcept nogil
    int ta_select_clone(int which) noexcept nogil
    int ta_current_clone() noexcept nogil
    void ta_affine(const double* W, const double* b, int n_out, int n_in,
                   const double* H, double* Z, int code, double slope, double* S) noexcept nogil
    int ta_tanh(double* Z, double* S, int n) noexcept nogil
    void ta_mix(const double* Za, const double* Zb, double u, double t, int n, int code,
                double slope, double* Z) noexcept nogil
    void ta_wgrad(const double* D, const double* H, int n_out, int n_in,
                  double* gacc, double* bacc) noexcept nogil
    void ta_backprop(const double* W, const double* D, const double* S, int n_out, int n_in,
                     double* P) noexcept nogil
    int ta_loss_block(int code, const double* O, const double* Y, int e, int n_valid,
                      double scale, int need_value, double* G, double* value) noexcept nogil
    void ta_reduce_lanes(const double* lanes, int n, double* out) noexcept nogil
    void ta_wgrad_all(const double* Dall, const double* Xb, int nblk, int n_out, int n_in,
                      double* gacc, double* bacc) noexcept nogil
    void ta_wgrad_panels(const double* Dg, const double* Xg, size_t pst, int nblk, int n_out,
                         int d, double* G1) noexcept nogil
    int ta_head1(const double* w, const double* b, int n_in, const double* H, const double* S,
                 const double* Y, int n_valid, double scale, int code, int need_value,
                 int need_grad, double* O, double* gw, double* gb, double* D,
                 double* value, double* hits) noexcept nogil
    int ta_shallow(const ta_shallow_args* a, int blk0, int blk1, double* value,
                   double* hits) noexcept nogil
    void ta_interp1(const double* Za, const double* Zb, int l, const double* ts, int tc,
                    const double* thetas, int P, int w2_off, int b2_off, int act, double slope,
                    const double* Y, int n_valid, double scale, int loss, int want_hits,
                    double* tot, double* hit, int* flag) noexcept nogil

# The engine contract (ext/codes.h): loss, activation, status and optimizer codes.
cdef extern from "codes.h":
    enum ta_loss_code:
        TA_LOSS_MSE
        TA_LOSS_L1
        TA_LOSS_BCE
        TA_LOSS_CE
        TA_LOSS_MSE_SIGMOID
        TA_LOSS_L1_SIGMOID
    enum ta_act_code:
        TA_ACT_NONE
        TA_ACT_RELU
        TA_ACT_LEAKY_RELU
        TA_ACT_LINEAR
        TA_ACT_TANH
        TA_ACT_SIGMOID
        TA_ACT_ABS
    enum ta_status:
        TA_RUNNING
        TA_COMPLETED
        TA_REACHED_TARGET
        TA_DIVERGED
        TA_OUT_OF_MEMORY
    enum ta_optimizer:
        TA_OPT_PLAIN
        TA_OPT_MOMENTUM
        TA_OPT_ADAM

# float32 variants (the ta_*_f kernels of the selected clone; TA_HAVE_F32 is 0 without GCC /
# Clang vector extensions, and then none of them may be called)
cdef extern from "blockops.h":
    ctypedef struct ta_shallow_args_f:
        const float* W1
        const float* b1
        const float* w2
        const float* b2
        int l
        int d
        int act
        int loss
        double slope
        double scale
        const float* Xb
        const float* Yb
        int N
        int need_value
        int need_grad
        int want_hits
        float* gW1
        float* gb1
        float* gw2
        float* gb2
        float* H
        float* S
        float* D
        float* O
        float* G
        const float* Xp
        long long pstride
        float* G1
    int ta_have_f32() noexcept nogil
    float* ta_alloc_f(size_t n) noexcept nogil
    void ta_affine_f(const float* W, const float* b, int n_out, int n_in,
                     const float* H, float* Z, int code, float slope, float* S) noexcept nogil
    int ta_shallow_f(const ta_shallow_args_f* a, int blk0, int blk1, double* value,
                     double* hits) noexcept nogil
    void ta_interp1_f(const float* Za, const float* Zb, int l, const float* ts, int tc,
                      const float* thetas, int P, int w2_off, int b2_off, int act, float slope,
                      const float* Y, int n_valid, float scale, int loss, int want_hits,
                      double* tot, double* hit, int* flag) noexcept nogil
    void ta_reduce_lanes_f(const float* lanes, int n, float* out) noexcept nogil
