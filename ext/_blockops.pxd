# Cython declarations of the engine's C block primitives; the code and its documentation
# are in ext/blockops.h (a plain C header that compiles on its own).

cdef extern from "blockops.h":
    enum: TA_NB
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
    int ta_head1(const double* w, const double* b, int n_in, const double* H, const double* S,
                 const double* Y, int n_valid, double scale, int code, int need_value,
                 int need_grad, double* O, double* gw, double* gb, double* D,
                 double* value, double* hits) noexcept nogil
