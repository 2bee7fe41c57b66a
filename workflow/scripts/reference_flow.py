"""Fit one target's reference flow ν data-free; log Ẑ with its ESS; ν's own samples."""

import time

import torch

from wgf.flows import ReferenceConfig, fit_reference, save_flow
from wgf.results import load_target, save_npy, write_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    target = load_target(sm.input.spec)
    params = dict(sm.params.reference)
    seed = int(params.pop("seed"))
    cfg = ReferenceConfig.from_dict(params)
    fit = fit_reference(target, cfg, seed)
    start = time.perf_counter()
    samples = fit.flow.sample(cfg.n_samples, torch.Generator().manual_seed(seed + 1))
    info = {**fit.info, "sample_wall_s": time.perf_counter() - start, "history": fit.history}
    save_flow(sm.output.flow, fit.flow, {"log_z_hat": info["log_z_hat"], "ess": info["ess"]})
    save_npy(sm.output.samples, samples.numpy())
    write_json(sm.output.log_z, info)
    error = info["log_z_error"]
    print(
        f"{target.name}: log Ẑ = {info['log_z_hat']:.4f}"
        + (f" (log Ẑ − log Z = {error:+.4f})" if error is not None else "")
        + f", ESS {info['ess']:.3f} of {cfg.n_log_z}, fit {info['fit_wall_s']:.1f} s"
    )
