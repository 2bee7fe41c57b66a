"""A mixture target in the DEM/iDEM published protocol (1000 vs 1000, exact OT x-W2, mode TV)."""

import numpy as np

from wgf.comparison import NO_DIVERGENCE, published_markdown, published_protocol
from wgf.results import load_target, read_json, write_csv
from wgf.runlog import redirect_output

sm = snakemake  # noqa: F821
with redirect_output(sm.log[0]):
    target = load_target(sm.input.spec)
    runs = [
        (read_json(i), p)
        for i, p in zip(
            list(sm.input.info) + list(sm.input.baseline_info),
            list(sm.input.samples) + list(sm.input.baseline_samples),
            strict=True,
        )
    ]
    rows = []
    for info, path in runs:
        method = info.get("method") or f"generator_{info['config']['estimator']}"
        divergence = info.get("divergence") or NO_DIVERGENCE
        seed = int(info["seed"])
        values = published_protocol(target, np.load(path), seed=10_000 + seed)
        base = {"target": target.name, "method": method, "divergence": divergence, "seed": seed}
        rows += [{**base, "metric": k, "value": repr(v)} for k, v in values.items()]
    write_csv(sm.output.csv, rows, ["target", "method", "divergence", "seed", "metric", "value"])
    with open(sm.output.md, "w") as fh:
        fh.write(published_markdown(rows, target.name))
    print(f"{len(runs)} runs")
