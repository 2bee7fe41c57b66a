"""Sample a trained generator and compute every metric against exact samples."""

import time

import numpy as np
import torch

from wgf.evaluate import evaluate
from wgf.results import load_generator, load_target, save_npy, write_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    ev = sm.params.evaluation
    target = load_target(sm.input.spec)
    reference = torch.from_numpy(np.load(sm.input.reference))
    generator = load_generator(sm.input.checkpoint)
    start = time.perf_counter()
    samples = generator.sample(ev["n_samples"], torch.Generator().manual_seed(ev["seed"]))
    sample_s = time.perf_counter() - start
    result = evaluate(
        target,
        samples,
        reference if len(reference) else None,
        n_ot=ev["n_ot"],
        sinkhorn_reg=ev["sinkhorn_reg"],
        coverage_threshold=ev["coverage_threshold"],
        seed=ev["seed"],
    )
    result["samples_per_s"] = ev["n_samples"] / sample_s
    save_npy(sm.output.samples, samples.numpy())
    write_json(sm.output.metrics, result)
    print("\n".join(f"{k:>24s} {v:.6g}" for k, v in result.items()))
