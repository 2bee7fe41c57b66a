/* The batch's own KDE sums, each pair once (see wgf.kde._own_sums for the eager equivalent).
 * Built by wgf.native with -O3 -march=native -ffast-math (compile only: the link step leaves
 * out crtfastmath, so loading this never changes the process's float mode), which vectorises
 * exp through glibc's libmvec.
 *
 * x: n × d, row-major; cols: its transpose, d × n. Outputs, zeroed by the caller: total[i] =
 * Σ_j e_ij and shift (d × n) = Σ_j w_ij (x_j − x_i), with the weights of own_sums_body.h. The
 * displacements are summed as such, not as Σ w x_j − x_i Σ w, whose cancellation costs float32
 * digits where the neighbourhood is balanced. Weights at or below exp(lo) are dropped: with lo
 * = log(eps / n) they sum to less than one rounding of the total (≥ 1, the point's own weight),
 * and no product of a tiny weight becomes a subnormal float (a slow path on x86, measured 1.5×
 * the whole pass in d = 16). Rows go four at a time, so each column's coordinates are read once
 * for four rows, over column tiles of TILE that stay in L1; each pair inside a block of four
 * rows goes alone. scratch: own_scratch_size elements. */
#include <math.h>
#include <stdint.h>

#define TILE 256

const int64_t own_scratch_size = 4 * TILE; /* elements of scratch, read by wgf.native */

#define T float
#define SUFFIX f32
#define EXP expf
#define SQRT sqrtf
#define MAX fmaxf
#include "own_sums_body.h"
#undef T
#undef SUFFIX
#undef EXP
#undef SQRT
#undef MAX

#define T double
#define SUFFIX f64
#define EXP exp
#define SQRT sqrt
#define MAX fmax
#include "own_sums_body.h"
