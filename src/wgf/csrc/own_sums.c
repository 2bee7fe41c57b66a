/* The batch's own KDE sums in one pass per row, each pair once (see wgf.kde._own_sums for the
 * eager equivalent). Built by wgf.native with -O3 -march=native -ffast-math (compile only: the
 * link step leaves out crtfastmath, so loading this never changes the process's float mode),
 * which vectorises exp through glibc's libmvec.
 *
 * x: n × d, row-major; cols: its transpose, d × n. Outputs, zeroed by the caller: total[i] =
 * Σ_j e_ij and shift (d × n) = Σ_j w_ij (x_j − x_i), with e = exp(max(−|x_i − x_j|/τ, lo)) and
 * w = e / |x_i − x_j| (0 for a coincident pair) for Laplace, e = exp(max(−|x_i − x_j|²/2τ², lo))
 * and w = e for RBF. The displacements are summed as such, not as Σ w x_j − x_i Σ w, whose
 * cancellation costs float32 digits where the neighbourhood is balanced. Row i meets only j > i
 * and adds each pair to both rows (w symmetric, the displacement antisymmetric); its own term
 * is e_ii = 1 with no displacement. scratch: n elements. */
#include <math.h>
#include <stdint.h>

#define SQUARED_DISTANCES(T)                                                                  \
    const T* xi = x + i * d;                                                                  \
    const int64_t m = n - i - 1;                                                              \
    T* restrict w = scratch;                                                                  \
    for (int64_t j = 0; j < m; ++j) {                                                         \
        T t = cols[i + 1 + j] - xi[0];                                                        \
        w[j] = t * t;                                                                         \
    }                                                                                         \
    for (int64_t k = 1; k < d; ++k) {                                                         \
        const T* restrict ck = cols + k * n + i + 1;                                          \
        const T xk = xi[k];                                                                   \
        for (int64_t j = 0; j < m; ++j) {                                                     \
            T t = ck[j] - xk;                                                                 \
            w[j] += t * t;                                                                    \
        }                                                                                     \
    }

/* Σ_j w_ij (x_j − x_i) into row i and its opposite, w_ij (x_i − x_j), into each row j > i. */
#define SHIFTS(T)                                                                             \
    for (int64_t k = 0; k < d; ++k) {                                                         \
        const T* restrict ck = cols + k * n + i + 1;                                          \
        T* restrict sk = shift + k * n + i + 1;                                               \
        const T xk = xi[k];                                                                   \
        T acc = 0;                                                                            \
        for (int64_t j = 0; j < m; ++j) {                                                     \
            T t = w[j] * (ck[j] - xk);                                                        \
            acc += t;                                                                         \
            sk[j] -= t;                                                                       \
        }                                                                                     \
        shift[k * n + i] += acc;                                                              \
    }

#define DEFINE(T, SUFFIX, EXP, SQRT, MAX)                                                     \
    void own_laplace_##SUFFIX(const T* restrict x, const T* restrict cols, int64_t n,        \
                              int64_t d, T inv_tau, T lo, T* restrict total,                  \
                              T* restrict shift, T* restrict scratch) {                       \
        for (int64_t i = 0; i < n; ++i) {                                                     \
            SQUARED_DISTANCES(T)                                                              \
            T* restrict tj = total + i + 1;                                                   \
            T t_row = 1;                                                                      \
            for (int64_t j = 0; j < m; ++j) {                                                 \
                T dist = SQRT(w[j]);                                                          \
                T e = EXP(MAX(-dist * inv_tau, lo));                                          \
                T b = dist > 0 ? e / dist : 0;                                                \
                t_row += e;                                                                   \
                tj[j] += e;                                                                   \
                w[j] = b;                                                                     \
            }                                                                                 \
            total[i] += t_row;                                                                \
            SHIFTS(T)                                                                         \
        }                                                                                     \
    }                                                                                         \
                                                                                              \
    void own_rbf_##SUFFIX(const T* restrict x, const T* restrict cols, int64_t n, int64_t d,  \
                          T half_inv_tau2, T lo, T* restrict total, T* restrict shift,        \
                          T* restrict scratch) {                                              \
        for (int64_t i = 0; i < n; ++i) {                                                     \
            SQUARED_DISTANCES(T)                                                              \
            T* restrict tj = total + i + 1;                                                   \
            T t_row = 1;                                                                      \
            for (int64_t j = 0; j < m; ++j) {                                                 \
                T e = EXP(MAX(-w[j] * half_inv_tau2, lo));                                    \
                t_row += e;                                                                   \
                tj[j] += e;                                                                   \
                w[j] = e;                                                                     \
            }                                                                                 \
            total[i] += t_row;                                                                \
            SHIFTS(T)                                                                         \
        }                                                                                     \
    }

DEFINE(float, f32, expf, sqrtf, fmaxf)
DEFINE(double, f64, exp, sqrt, fmax)
