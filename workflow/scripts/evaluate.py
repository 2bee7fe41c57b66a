"""Sample a trained generator (one forward pass) and compute every metric against exact samples."""

import numpy as np
import torch

from wgf.evaluate import sample_and_evaluate
from wgf.methods import throughput
from wgf.results import load_generator, load_target, save_npy, write_json
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    target = load_target(sm.input.spec)
    reference = torch.from_numpy(np.load(sm.input.reference))
    generator = load_generator(sm.input.checkpoint)
    samples, result = sample_and_evaluate(target, generator.sample, reference, sm.params.evaluation)
    # Throughput of one batched draw of baselines.throughput_samples (the comparison's column);
    # a trained one-step sampler spends no target evaluation per sample.
    result["samples_per_s"] = throughput(generator.sample, int(sm.params.throughput_samples))
    result["target_evaluations_per_sample"] = 0.0
    save_npy(sm.output.samples, samples.numpy())
    write_json(sm.output.metrics, result)
    print("\n".join(f"{k:>24s} {v:.6g}" for k, v in result.items()))
