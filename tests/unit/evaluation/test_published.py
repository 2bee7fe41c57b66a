"""The DEM/iDEM published protocol on a mixture target."""

import numpy as np
import torch

from wgf.evaluation import published_protocol
from wgf.targets import build_target


def test_published_protocol_separates_exact_from_collapsed_samples():
    target = build_target("gmm40")
    exact = target.sample(1000, torch.Generator().manual_seed(1)).numpy()
    good = published_protocol(target, exact, seed=2)
    collapsed = np.repeat(exact[:1], 1000, axis=0)
    bad = published_protocol(target, collapsed, seed=2)
    assert good["n"] == 1000 and good["mode_tv"] < 0.1 < bad["mode_tv"]
    assert good["x_w2"] < bad["x_w2"] / 3
