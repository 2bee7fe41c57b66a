"""The LV surrogate on gmm2hard16: where its light-mode collapse comes from (docs/theory.md §6).

    python docs/experiments/lv_surrogate_gmm2hard16.py VARIANT SEED [REFERENCE_DIR]

VARIANT changes one setting of config.yaml's gmm2hard16 ``lv_surrogate`` run: ``default``,
``gamma0``, ``gamma1``, ``flow`` (ν the fitted flow alone), ``nodef`` (no defensive component),
``oracle`` (ν the exact p), ``oracle_mix`` (½ p + ½ q̂), ``oracle_def`` (the same with the
defensive component), ``revkl``. REFERENCE_DIR defaults to ``results/reference/gmm2hard16``
(rule ``reference_flow``). Prints one JSON line: final light-mode weight, MMD, W2 and the first
logged light weights and weight ESS.
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
import torch

from wgf import jobs, plan
from wgf.config import resolve
from wgf.density.flows import gaussian_log_prob
from wgf.divergences import get_divergence
from wgf.evaluation import metrics
from wgf.evaluation.quality import mode_assignment
from wgf.reference import load_reference
from wgf.targets.registry import exact_samples
from wgf.training.loop import train
from wgf.training.settings import TrainConfig

LV_CHANGES = {
    "default": {},
    "gamma0": {"gamma": 0.0},
    "gamma1": {"gamma": 1.0},
    "flow": {"reference": "flow"},
    "nodef": {"defensive": 0.0},
    "oracle": {"reference": "flow", "defensive": 0.0},
    "oracle_mix": {"defensive": 0.0},
    "oracle_def": {},
    "revkl": {},
}


class ExactReference:
    """ν = p (the normalised mixture), optionally in the flow's defensive mixture: what the
    surrogate does when the reference is right everywhere, off the modes included."""

    ess = 1.0

    def __init__(self, target, broad, defensive: bool) -> None:
        self.target, self.broad, self.defensive = target, broad, defensive
        self.log_z = float(target.log_z)

    def to(self, device):
        return self

    def log_prob_and_score(self, x, eps=0.0):
        log_p, score = self.target.log_prob_and_score(x)
        log_p = log_p - self.log_z
        if not self.defensive or eps <= 0:
            return log_p, score
        loc, scale = self.broad.loc.to(x.dtype), self.broad.scale.to(x.dtype)
        a = log_p + math.log1p(-eps)
        b = gaussian_log_prob(x, loc, scale) + math.log(eps)
        s = torch.sigmoid(a - b)[:, None]
        return torch.logaddexp(a, b), s * score + (1 - s) * (-(x - loc) / scale.square())


def main(variant: str, seed: int, ref_dir: str) -> dict:
    torch.set_num_threads(1)
    cfg = plan.load("config.yaml")
    target = jobs.make_target("gmm2hard16", cfg["targets"]["gmm2hard16"])
    params = resolve.training(cfg, "gmm2hard16")
    params["log_every"] = 50
    params["lv"].update(LV_CHANGES[variant])
    tc = TrainConfig.from_dict(params)
    reference = load_reference(f"{ref_dir}/flow.pt", f"{ref_dir}/log_z.json")
    if variant.startswith("oracle"):
        reference = ExactReference(target, reference.flow, variant == "oracle_def")

    def light(x: torch.Tensor) -> float:
        assign, w = mode_assignment(target, x)
        return float(metrics.mode_weights(assign, len(w))[1])

    div = get_divergence("reverse_kl" if variant == "revkl" else "lv_surrogate")
    t0 = time.perf_counter()
    res = train(
        target,
        div,
        tc,
        seed,
        monitor=lambda x: {"light": light(x)},
        progress=False,
        reference=reference,
    )
    exact = exact_samples(target, 10_000, 12_345)
    with torch.no_grad():
        x = res.generator.sample(10_000, torch.Generator().manual_seed(999)).cpu()
    h = res.history
    return {
        "variant": variant,
        "seed": seed,
        "wall_s": round(time.perf_counter() - t0, 1),
        "light": round(light(x), 3),
        "mmd": round(metrics.mmd_median(x.numpy(), exact.numpy()), 4),
        "w2": round(metrics.w2(x.numpy()[:2000], exact.numpy()[:2000]), 3),
        "trace_light": [round(r["light"], 3) for r in h][:12],
        "trace_ess": [round(r["weight_ess"], 3) for r in h][:12],
        "ess_median": round(float(np.median([r["weight_ess"] for r in h])), 3),
    }


if __name__ == "__main__":
    ref = sys.argv[3] if len(sys.argv) > 3 else "results/reference/gmm2hard16"
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), ref)), flush=True)
