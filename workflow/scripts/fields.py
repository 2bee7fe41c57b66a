"""Vector fields of a trained gmm8 generator: arrays (npz) and their figure."""

import numpy as np
import torch

from wgf.fields import vector_fields
from wgf.plots import plot_fields
from wgf.results import load_generator, load_target
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    torch.set_num_threads(sm.threads)
    cfg = dict(sm.params.settings)
    target = load_target(sm.input.spec)
    gen = load_generator(sm.input.checkpoint)
    samples = gen.sample(int(cfg["n_samples"]), torch.Generator().manual_seed(int(cfg["seed"])))
    fields = vector_fields(
        target,
        samples.double(),
        tau=float(cfg["tau"]),
        grid_n=int(cfg["grid_n"]),
        lim=float(cfg["lim"]),
        divergences=sm.params.divergences,
        kernel=cfg["kernel"],
    )
    with open(sm.output.npz, "wb") as fh:
        np.savez_compressed(fh, **fields)
    plot_fields(fields, sm.output.pdf, sm.output.png)
    print(f"fields of {sm.input.checkpoint}: {sorted(fields)}")
