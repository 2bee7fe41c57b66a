"""A prepared configuration's settings per target: defaults, the target's own overrides, the
reference flow's settings, which runs need it, and the LV-reference figure's runs and labels."""

from wgf import plan
from wgf.reference import ReferenceConfig
from wgf.training import train_config


def _reference(config, target) -> tuple[ReferenceConfig, int]:
    """The target's reference-flow settings and the fit's seed, as rule reference_flow reads
    them (:func:`wgf.jobs.reference_flow`)."""
    params = plan.reference_params(config, target)
    seed = params.pop("seed")
    return ReferenceConfig.from_dict(params), seed


def test_defaults_and_target_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "targets:\n  gmm8: {}\n  g2:\n    kind: gmm2hard16\n"
        "    generator: {latent_dim: 8}\n    training: {tau_init: 1.0}\n"
    )
    config = plan.load(path)
    assert config["seeds"] == [0, 1, 2]
    cfg = train_config(config, "g2")
    assert (cfg.tau_init, cfg.generator.latent_dim, cfg.steps) == (1.0, 8, 1500)
    assert train_config(config, "gmm8").tau_init == 0.5


def test_reference_and_lv_settings():
    config = plan.prepare(
        {
            "divergences": ["js", "lv", "lv_surrogate", "forward_kl"],
            "targets": {
                "gmm8": {},
                "far": {"kind": "gmm40", "reference": {"proposal_scale": 25.0, "seed": 3}},
            },
            "training": {"normaliser": "reference", "lv": {"reference": "q"}},
            "reference": {"steps": 100},
        }
    )
    cfg, seed = _reference(config, "far")
    assert (cfg.proposal_scale, cfg.steps, seed) == (25.0, 100, 3)
    assert _reference(config, "gmm8")[0].proposal_scale == 3.0
    assert train_config(config, "gmm8").lv.reference == "q"
    needs = {d: plan.uses_reference(config, "gmm8", d) for d in config["divergences"]}
    assert needs == {"js": True, "lv": False, "lv_surrogate": False, "forward_kl": False}
    assert plan.uses_reference(plan.prepare({}), "gmm8", "lv")  # default: mixture of flow and q
    assert not plan.uses_reference(plan.prepare({}), "gmm8", "js")  # default: batch normaliser


def test_lv_reference_figure_settings_and_labels():
    config = plan.prepare({"targets": {"gmm8": {}, "gmm40": {}}, "seeds": [3, 4]})
    targets, divergences, seeds = plan.lv_reference_runs(config)
    assert targets == ["gmm8"] and seeds == [3, 4]  # gmm2hard16 is not configured
    assert divergences[0] == "reverse_kl" and "lv" in divergences
    assert plan.run_label(config, "gmm8", "lv") == "log-variance, ν = 0.5 flow + 0.5 q"
    assert plan.run_label(config, "gmm8", "lv_q") == "log-variance, ν = q"
