"""The Beyond-ELBOs Cancer logistic regression: the shipped data, its preprocessing, the energy
against a slow loop and against Beyond-ELBOs' own stored log-density, the analytic score, the MAP,
and invalid priors."""

import hashlib
import json
import math
from importlib import resources

import numpy as np
import pytest
import torch

from tests.conftest import assert_score_is_minus_grad_energy
from wgf.targets import TargetError, build_target, exact_samples, load_target, save_target
from wgf.targets.logreg import (
    BREAST_CANCER_SHA256,
    LogisticRegression,
    breast_cancer,
    logreg_cancer,
)

# Beyond-ELBOs' first ground-truth sample and its stored log-density (groundtruth[0] and
# groundtruth_lns[0] of targets/data/breastcancer_gt_with_lns_10k.npz): log-likelihood plus the
# normalised N(0, 10² I) prior, which pins their prior, scaling, intercept and label sign.
BEYOND_ELBOS_SAMPLE = [
    -11.064988685637987, -14.822652844308715, -0.18691912870077299, -3.3783605368708303,
    -0.7528943246652382, 1.5583680801321511, -2.1558266379003834, -0.2176207220913451,
    10.154591105905713, -1.282843611889296, -3.7317494911808895, 2.120866965446725,
    -1.4187797150214363, -4.725102132824452, 15.36463252268431, -0.19352731943235368,
    -0.7912796014182362, -2.3163985845418424, 6.183133007650206, -0.15255203905937686,
    -4.044619123167646, -5.83588278717629, 4.443839883409009, 12.336489470981528,
    23.05620461709989, 0.2750013602758943, 0.03654322519117148, 4.553255405010625,
    -4.449948779046207, 2.6356807866696084, 3.7954176946030227,
]  # fmt: skip
BEYOND_ELBOS_LOG_PROB = -133.9956071627794


@pytest.fixture(scope="module")
def target():
    return logreg_cancer()


def _theta(n: int, seed: int, scale: float = 3.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 31, generator=gen, dtype=torch.float64)


def _log_sigmoid(z: float) -> float:
    return -math.log1p(math.exp(-z))


def test_shipped_data():
    raw = resources.files("wgf").joinpath("data/breast_cancer.csv").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == BREAST_CANCER_SHA256
    features, labels = breast_cancer()
    assert features.shape == (569, 30) and features.dtype == np.float64
    assert np.bincount(labels).tolist() == [212, 357]
    assert features[0, :3].tolist() == [17.99, 10.38, 122.8]


def test_design_is_intercept_plus_scaled_features(target):
    """Beyond-ELBOs divides each feature by its population std and does not centre it."""
    features, labels = breast_cancer()
    design = target.features.numpy()
    assert target.dim == 31 and design.shape == (569, 31)
    assert (design[:, 0] == 1).all()
    np.testing.assert_allclose(design[:, 1:].std(axis=0), 1.0, rtol=0, atol=1e-10)
    np.testing.assert_allclose(design[:, 1:] * features.std(axis=0), features, rtol=1e-14)
    assert (target.labels.numpy() == (labels == 0)).all()  # y = 1: malignant
    assert target.exact is False and target.log_z is None


def test_energy_at_zero(target):
    """σ(0) = ½ for every point, and the prior at 0 is its normaliser alone."""
    expected = 569 * math.log(2) + 31 * (math.log(10.0) + 0.5 * math.log(2 * math.pi))
    energy = target.energy(torch.zeros(1, 31, dtype=torch.float64))
    assert float(energy[0]) == pytest.approx(expected, rel=1e-14)


def test_matches_beyond_elbos_log_density(target):
    theta = torch.tensor([BEYOND_ELBOS_SAMPLE], dtype=torch.float64)
    assert float(-target.energy(theta)[0]) == pytest.approx(BEYOND_ELBOS_LOG_PROB, abs=1e-9)


def test_energy_matches_slow_loop(target):
    theta = _theta(5, seed=0)
    design, labels = target.features.tolist(), target.labels.tolist()
    for row, energy in zip(theta.tolist(), target.energy(theta).tolist(), strict=True):
        nll = 0.0
        for x, y in zip(design, labels, strict=True):
            z = sum(a * b for a, b in zip(x, row, strict=True))
            nll -= y * _log_sigmoid(z) + (1 - y) * _log_sigmoid(-z)
        prior = sum(t * t for t in row) / 200 + 31 * (math.log(10) + 0.5 * math.log(2 * math.pi))
        assert energy == pytest.approx(nll + prior, rel=1e-12)


def test_score_is_minus_grad_energy(target):
    theta = _theta(64, seed=1)
    assert_score_is_minus_grad_energy(target, theta, 1e-8, 1e-8, log_p_rtol=1e-13, log_p_atol=1e-10)


def test_batched_equals_row_by_row(target):
    theta = _theta(16, seed=2)
    rows = torch.cat([target.energy(t[None]) for t in theta])
    torch.testing.assert_close(target.energy(theta), rows, rtol=1e-13, atol=0)
    rows = torch.cat([target.score(t[None]) for t in theta])
    torch.testing.assert_close(target.score(theta), rows, rtol=1e-12, atol=1e-12)


def test_float32_keeps_dtype(target):
    theta = _theta(8, seed=3)
    log_p, score = target.log_prob_and_score(theta.float())
    assert log_p.dtype == score.dtype == torch.float32
    torch.testing.assert_close(log_p.double(), -target.energy(theta), rtol=1e-5, atol=1e-3)


def test_score_vanishes_at_the_map(target):
    """Newton on the strictly concave log posterior (Hessian −XᵀWX − I/s²) converges
    quadratically; the data are nearly linearly separable (linear classifiers are reported at
    ≈97% on WDBC), so the MAP must classify the training set well."""
    design, labels = target.features, target.labels
    theta = torch.zeros(31, dtype=torch.float64)
    for _ in range(50):
        p = torch.sigmoid(design @ theta)
        hess = design.T @ (design * (p * (1 - p))[:, None]) + torch.eye(31) / 100
        theta = theta + torch.linalg.solve(hess, target.score(theta[None])[0])
    assert float(target.score(theta[None]).abs().max()) < 1e-8
    accuracy = float(((design @ theta > 0).double() == labels).double().mean())
    assert accuracy > 0.95


def test_spec_rebuilds(target, tmp_path):
    spec = json.loads(json.dumps(target.to_spec()))
    assert spec == {"kind": "logreg_cancer", "prior_std": 10.0}
    built = build_target("cancer", {"kind": "logreg_cancer", "params": {"prior_std": 10.0}})
    save_target(tmp_path / "t.json", tmp_path / "t.npy", built, exact_samples(built, 5, 0))
    rebuilt = load_target(tmp_path / "t.json")
    assert rebuilt.name == "cancer" and rebuilt.dim == 31 and not rebuilt.exact
    theta = _theta(4, seed=4)
    torch.testing.assert_close(rebuilt.energy(theta), target.energy(theta), rtol=0, atol=0)
    generic = LogisticRegression(target.features[:20], target.labels[:20], 3.0, "small")
    save_target(tmp_path / "g.json", tmp_path / "g.npy", generic, exact_samples(generic, 5, 0))
    back = load_target(tmp_path / "g.json")
    torch.testing.assert_close(back.energy(theta), generic.energy(theta), rtol=0, atol=0)


def test_other_prior_std():
    theta = _theta(3, seed=5)
    wide, narrow = logreg_cancer(10.0), logreg_cancer(2.5)
    shift = (theta * theta).sum(-1) * (1 / 2.5**2 - 1 / 10**2) / 2 + 31 * math.log(2.5 / 10)
    torch.testing.assert_close(narrow.energy(theta) - wide.energy(theta), shift)


@pytest.mark.parametrize("prior_std", [0.0, -1.0, math.nan, math.inf, "wide", None])
def test_bad_prior_std(prior_std):
    with pytest.raises(TargetError, match="prior_std"):
        logreg_cancer(prior_std)


def test_bad_data():
    with pytest.raises(TargetError, match="labels"):
        LogisticRegression(np.ones((3, 2)), [0, 1, 2], 1.0)
    with pytest.raises(TargetError, match="labels"):
        LogisticRegression(np.ones((3, 2)), [0, 1], 1.0)
    with pytest.raises(TargetError, match="finite"):
        LogisticRegression(np.full((2, 2), np.nan), [0, 1], 1.0)


def test_figures_label_the_coefficients():
    target = build_target("logreg_cancer")
    assert target.plot_pair == (0, 1)
    assert [target.coordinate_label(k) for k in (0, 1)] == ["$\\theta_{0}$", "$\\theta_{1}$"]
