/* The body of own_sums.c for one floating type: included once per type with T (the type),
 * SUFFIX (f32, f64), EXP, SQRT and MAX (its libm functions) defined. */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

/* The kernel weight e of a pair at squared distance sq (0 at or below the cutoff lo, with the
 * exp's argument clamped so a vector lane never takes libm's slow path) and the weight w of its
 * displacement: Laplace e = exp(−|Δ|/τ), w = e / |Δ| (0 for a coincident pair); RBF
 * e = w = exp(−|Δ|²/2τ²). scale: 1/τ (Laplace) or 1/2τ² (RBF). */
static inline T FN(weight)(int laplace, T sq, T scale, T lo, T* w) {
    T dist = laplace ? SQRT(sq) : sq;
    T arg = -dist * scale;
    T e = arg > lo ? EXP(MAX(arg, lo)) : 0;
    *w = laplace ? (dist > 0 ? e / dist : 0) : e;
    return e;
}

/* One pair (a, b), a < b, added to both rows. */
static inline void FN(pair)(int laplace, const T* x, int64_t n, int64_t d, T scale, T lo,
                            int64_t a, int64_t b, T* total, T* shift) {
    T sq = 0;
    for (int64_t k = 0; k < d; ++k) {
        T t = x[b * d + k] - x[a * d + k];
        sq += t * t;
    }
    T w, e = FN(weight)(laplace, sq, scale, lo, &w);
    total[a] += e;
    total[b] += e;
    for (int64_t k = 0; k < d; ++k) {
        T t = w * (x[b * d + k] - x[a * d + k]);
        shift[k * n + a] += t;
        shift[k * n + b] -= t;
    }
}

/* Rows i..i+3 against the columns s..s+m−1 (all > i+3): squared distances, weights, then the
 * displacement sums, each column's coordinates read once for the four rows. w: 4 × TILE. */
static inline void FN(tile)(int laplace, const T* restrict x, const T* restrict cols,
                            int64_t n, int64_t d, T scale, T lo, int64_t i, int64_t s,
                            int64_t m, T* restrict total, T* restrict shift, T* restrict w) {
    T* restrict w0 = w;
    T* restrict w1 = w + TILE;
    T* restrict w2 = w + 2 * TILE;
    T* restrict w3 = w + 3 * TILE;
    const T* xi = x + i * d;
    for (int64_t j = 0; j < m; ++j) w0[j] = w1[j] = w2[j] = w3[j] = 0;
    for (int64_t k = 0; k < d; ++k) {
        const T* restrict ck = cols + k * n + s;
        const T a0 = xi[k], a1 = xi[d + k], a2 = xi[2 * d + k], a3 = xi[3 * d + k];
        for (int64_t j = 0; j < m; ++j) {
            T c = ck[j], t0 = c - a0, t1 = c - a1, t2 = c - a2, t3 = c - a3;
            w0[j] += t0 * t0;
            w1[j] += t1 * t1;
            w2[j] += t2 * t2;
            w3[j] += t3 * t3;
        }
    }
    T* restrict tj = total + s;
    T r0 = 0, r1 = 0, r2 = 0, r3 = 0;
    for (int64_t j = 0; j < m; ++j) {
        T e0 = FN(weight)(laplace, w0[j], scale, lo, w0 + j);
        T e1 = FN(weight)(laplace, w1[j], scale, lo, w1 + j);
        T e2 = FN(weight)(laplace, w2[j], scale, lo, w2 + j);
        T e3 = FN(weight)(laplace, w3[j], scale, lo, w3 + j);
        r0 += e0;
        r1 += e1;
        r2 += e2;
        r3 += e3;
        tj[j] += (e0 + e1) + (e2 + e3);
    }
    total[i] += r0;
    total[i + 1] += r1;
    total[i + 2] += r2;
    total[i + 3] += r3;
    for (int64_t k = 0; k < d; ++k) {
        const T* restrict ck = cols + k * n + s;
        T* restrict sk = shift + k * n + s;
        const T a0 = xi[k], a1 = xi[d + k], a2 = xi[2 * d + k], a3 = xi[3 * d + k];
        T q0 = 0, q1 = 0, q2 = 0, q3 = 0;
        for (int64_t j = 0; j < m; ++j) {
            T c = ck[j];
            T t0 = w0[j] * (c - a0), t1 = w1[j] * (c - a1);
            T t2 = w2[j] * (c - a2), t3 = w3[j] * (c - a3);
            q0 += t0;
            q1 += t1;
            q2 += t2;
            q3 += t3;
            sk[j] -= (t0 + t1) + (t2 + t3);
        }
        shift[k * n + i] += q0;
        shift[k * n + i + 1] += q1;
        shift[k * n + i + 2] += q2;
        shift[k * n + i + 3] += q3;
    }
}

static void FN(own)(int laplace, const T* restrict x, const T* restrict cols, int64_t n,
                    int64_t d, T scale, T lo, T* restrict total, T* restrict shift,
                    T* restrict scratch) {
    for (int64_t i = 0; i < n; ++i) total[i] += 1; /* e_ii = 1, no displacement */
    for (int64_t i = 0; i < n; i += 4) {
        const int64_t rows = n - i < 4 ? n - i : 4;
        for (int64_t a = i; a < i + rows; ++a)
            for (int64_t b = a + 1; b < i + rows; ++b)
                FN(pair)(laplace, x, n, d, scale, lo, a, b, total, shift);
        if (rows < 4) break;
        for (int64_t s = i + 4; s < n; s += TILE) {
            const int64_t m = n - s < TILE ? n - s : TILE;
            FN(tile)(laplace, x, cols, n, d, scale, lo, i, s, m, total, shift, scratch);
        }
    }
}

void FN(own_laplace)(const T* x, const T* cols, int64_t n, int64_t d, T inv_tau, T lo,
                     T* total, T* shift, T* scratch) {
    FN(own)(1, x, cols, n, d, inv_tau, lo, total, shift, scratch);
}

void FN(own_rbf)(const T* x, const T* cols, int64_t n, int64_t d, T half_inv_tau2, T lo,
                 T* total, T* shift, T* scratch) {
    FN(own)(0, x, cols, n, d, half_inv_tau2, lo, total, shift, scratch);
}

#undef FN
#undef CAT
#undef CAT_
