"""The native single pass over the batch's own KDE sums (``wgf.density.native``) against the
eager blocks: same values in float64, small batches, float32 without cancellation, the build
cached per machine, and the eager fallback without a C compiler."""

import pytest
import torch

import wgf.density.native
from tests.helpers import normal_data
from wgf.density.kde import fused_available, kde_stats


@pytest.mark.parametrize(
    ("kernel", "d", "tau"),
    [
        ("laplace", 2, 0.3),
        ("rbf", 2, 0.3),
        ("laplace", 16, 3.0),
        ("rbf", 16, 3.0),
        ("laplace", 2, 0.01),  # narrow: most pairs below the native pass's cutoff
        ("rbf", 16, 0.5),
    ],
)
def test_fused_kde_matches_eager(kernel, d, tau):
    """The native single pass against the eager blocks, float64: the same sums in another
    order (its displacements summed as such), with a coincident pair (zero displacement). 401
    rows: four-row blocks with one left over. Where the kernel is narrow the native pass drops
    weights below eps / N, together less than one rounding of the total."""
    data = normal_data(n=401, d=d) * 2.0
    data[1] = data[0]
    fused = kde_stats(data, data, tau, kernel, fused=True)
    assert fused_available()
    eager = kde_stats(data, data, tau, kernel, chunk=64)
    for u, v in zip(fused, eager, strict=True):
        assert torch.isfinite(u).all()
        torch.testing.assert_close(u, v, rtol=1e-10, atol=1e-10)
    again = kde_stats(data, data, tau, kernel, fused=True)
    assert all(torch.equal(u, v) for u, v in zip(fused, again, strict=True))  # deterministic


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7])
def test_fused_kde_small_batches(n):
    """Batches shorter than, equal to and just past one four-row block."""
    data = normal_data(n=n, d=3)
    for kernel in ("laplace", "rbf"):
        fused = kde_stats(data, data, 0.7, kernel, fused=True)
        for u, v in zip(fused, kde_stats(data, data, 0.7, kernel), strict=True):
            torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", ["laplace", "rbf"])
@pytest.mark.parametrize("d", [2, 16])
def test_fused_float32_score_has_no_cancellation(kernel, d):
    """A float32 batch far from the origin (|x| ≈ 100, spread 0.5): the native pass sums each
    pair's displacement x_j − x_i, so its score keeps float32's relative accuracy (a sum of 500
    terms: ~√500 eps ≈ 3e-6); Σ w x_j − x_i Σ w would lose |x| / |x_j − x_i| ≈ 200× more (the
    eager blocks, measured 3e-5 to 8e-4). Reference: float64 on the same float32 points."""
    data = (normal_data(n=500, d=d) * 0.5 + 100.0).float()
    tau = 0.3 if d == 2 else 1.0
    log_q, score = kde_stats(data, data, tau, kernel, fused=True)
    ref_log_q, ref = kde_stats(data.double(), data.double(), tau, kernel)
    torch.testing.assert_close(score.double(), ref, rtol=0.0, atol=1e-5 * ref.abs().max().item())
    torch.testing.assert_close(log_q.double(), ref_log_q, rtol=1e-6, atol=1e-6)


def test_fused_kde_falls_back_to_eager_without_a_compiler(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setenv("WGF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(wgf.density.native, "_lib", [])
    monkeypatch.setattr(wgf.density.native, "_failed", [])
    data = normal_data(n=100)
    with pytest.warns(RuntimeWarning, match="native KDE pass could not be built"):
        fused = kde_stats(data, data, 0.3, "laplace", fused=True)
    assert not fused_available()
    for u, v in zip(fused, kde_stats(data, data, 0.3, "laplace"), strict=True):
        torch.testing.assert_close(u, v, rtol=0.0, atol=0.0)
    assert not list(tmp_path.iterdir())  # nothing half-built left behind


def test_native_build_is_cached_and_keeps_the_float_mode(monkeypatch, tmp_path):
    """One library per machine in the cache, and loading it leaves subnormal floats alone (a
    library linked with -ffast-math would switch the process to flush-to-zero)."""
    monkeypatch.setenv("WGF_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(wgf.density.native, "_lib", [])
    monkeypatch.setattr(wgf.density.native, "_failed", [])
    tiny = torch.tensor([1e-40], dtype=torch.float32)
    assert (tiny * 0.5).item() > 0.0
    data = normal_data(n=50).float()
    kde_stats(data, data, 0.3, "rbf", fused=True)
    assert fused_available()
    assert [p.suffix for p in tmp_path.iterdir()] == [".so"]
    assert (tiny * 0.5).item() > 0.0
