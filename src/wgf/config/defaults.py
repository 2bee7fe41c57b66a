"""Every default of the configuration, in one place (plain data: no torch).

``config.yaml`` states the paper's grid (targets, divergences, seeds) and the per-target
settings that differ from these; the settings dataclasses (``TrainConfig``, ``ReferenceConfig``
and the sections they hold) take their field defaults from here, and a test keeps both in step.
Where SCIENCE.md names a default, it is the one below.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULTS"]

DEFAULTS: dict[str, Any] = {
    "seeds": [0, 1, 2],
    "divergences": ["reverse_kl", "forward_kl", "js", "hellinger", "pearson", "lv", "lv_surrogate"],
    "targets": {"gmm8": {}},
    "target_samples": 10_000,
    "training": {
        "steps": 1500,
        "batch_size": 1000,
        "lr": 1e-3,
        "lr_final_ratio": 0.1,
        "eta": 0.05,
        "estimator": "kde",
        "kernel": "laplace",
        "tau_init": 0.5,
        "tau_final_ratio": 0.3,
        # Annealing p^β (wgf.training.loop): β from anneal_start to 1 over anneal_fraction of the
        # steps; 1.0: the target throughout (SCIENCE.md names no annealing).
        "anneal_start": 1.0,
        "anneal_fraction": 0.5,
        # The drift's weights tempered to w^λ so that their ESS fraction stays ≥ this (0: never;
        # wgf.drift.f_drift). λ < 1 moves between reverse KL and the divergence, same fixed point.
        "weight_ess_floor": 0.0,
        # The floor at the last step (null: weight_ess_floor throughout), linear in between.
        "weight_ess_floor_final": None,
        "chunk_size": 256,  # rows per KDE block, at most 2^19 / N on the CPU (wgf.density.kde)
        # The batch's own KDE on the CPU as one native C pass (wgf.density.native, built once per
        # machine in < 1 s): ~3.5x faster than eager for Laplace at N = 2000 and a more accurate
        # score; without a C compiler it warns once and runs eagerly.
        "fused_kde": True,
        "log_r_clip": 10.0,
        "log_every": 50,
        # Save the training state every this many steps (0: never) under results/checkpoints/,
        # outside the rule's outputs; a rerun after a crash resumes from it (rule train).
        "checkpoint_every": 100,
        "device": "auto",
        "normaliser": "batch",
        # The LV drifts (SCIENCE.md §3 fixes no default): the mixture with λ = ½ keeps ν/q̂ ≥ ½,
        # so mass of q where the flow has none still feels the drift (wgf.drift.LVConfig).
        "lv": {"reference": "mixture", "mix": 0.5, "gamma": 0.5, "defensive": 0.01},
        "flow_estimator": {
            "architecture": "maf",
            "layers": 4,
            "hidden": 32,
            "blocks": 2,
            "bins": 8,
            "tail_bound": 4.0,
            "iaf": False,
            "steps": 5,
            "warmup_steps": 200,
            "lr": 1e-3,
            "batch_size": None,
        },
        "score_net": {
            "hidden": 64,
            "layers": 3,
            "steps": 2,
            "warmup_steps": 200,
            "lr": 1e-3,
            "batch_size": None,
            "sigma_spread": 2.0,
        },
    },
    "generator": {
        "latent_dim": None,  # null: the target's dimension
        "hidden": 128,
        "layers": 3,
        "n_frequencies": 4,
        "init_scale": 2.0,
    },
    "evaluation": {
        "n_samples": 10_000,
        "n_ot": 2000,
        "sinkhorn_reg": 0.05,
        "coverage_threshold": 0.1,
        "monitor_samples": 2000,
        "seed": 12345,
        # The kernel Stein discrepancy (IMQ, c = 1, U-statistic) of the first ksd_samples of every
        # sample set: needs only the target's score, so energy targets get it too. Cost ∝ n².
        "ksd_samples": 2000,
        # The floor of every metric: independent exact sample sets of the generated sets' size,
        # scored against the same exact samples (method exact_vs_exact; mean ± std over draws).
        "floor_draws": 5,
        # results/tables/{target}_published_protocol.md: the DEM/iDEM protocol (n generated
        # against n exact samples, x-W2 by exact OT, mode-weight TV); listed targets that are
        # configured mixtures.
        "published_protocol": {"targets": ["gmm40"], "n": 1000},
    },
    "figures": {
        "seed": 0,
        "monitor_metric": "mmd_median",
        # results/figures/lv_reference.pdf: LV with each reference ν beside reverse KL; only the
        # listed targets that are configured; seeds null = every configured seed. `lv` is the
        # grid's LV run (reference training.lv.reference, mixture by default: no rerun).
        "lv_reference": {
            "targets": ["gmm8", "gmm2hard16"],
            "divergences": ["reverse_kl", "lv_q", "lv_flow", "lv"],
            "seeds": None,
        },
        # results/figures/comparison_{target}.pdf: every method's samples (2-D targets).
        "comparison": {"targets": ["gmm8"]},
        # results/figures/marginals_{target}.pdf: every coordinate's marginal of every method
        # (main-grid generators and baselines, figures.seed) against the exact or long-chain
        # sample; listed targets that are configured (d > 2, with exact or reference samples).
        "marginals": {"targets": ["funnel10", "manywell32", "logreg_cancer"]},
        # results/figures/energy_{target}.pdf and results/tables/energy_{target}.md: every
        # method's energy histogram and its TV against the exact or long-chain sample's, or
        # MALA's where there is neither; null: every `kind: energy` target (a user's own).
        "energy": {"targets": None},
        # results/figures/asymptotics_{target}.pdf and results/tables/asymptotics_{target}.md:
        # SCIENCE.md's claim that every f-divergence drift has the same fixed point, tested by
        # long runs (one seed, the target's settings with the schedules stretched over `steps`;
        # divergences null: the grid's), MMD, W2 (w2_samples per side) and mode weights logged
        # every log_every steps; the table's "final" is the mean over the last `tail` logs, and
        # every metric's floor is its value for floor_draws independent exact sample sets.
        "asymptotics": {
            "targets": ["gmm8", "gmm2hard16"],
            "divergences": None,
            "seed": 0,
            "steps": 6000,
            "log_every": 250,
            "w2_samples": 1000,
            "tail": 4,
            "floor_draws": 5,
        },
    },
    "diagnostics": {
        # Inflow into the under-covered regions of `target` (a mixture; built-in if not configured).
        "regional_response": {
            "target": "gmm8",
            "kappas": [0.25 * i for i in range(13)],
            "missing_modes": [1, 4],
            "broad_weight": 0.05,
            "broad_std": 2.0,
            "grid_n": 800,
            "lim": 6.0,
            "one_step_dt": 0.001,
            "phi_floor": 0.001,
        },
        # results/figures/fields_{target}.pdf of the listed 2-D mixtures that are configured.
        "fields": {
            "targets": ["gmm8"],
            "n_samples": 2000,
            "tau": 0.15,
            "kernel": "laplace",
            "grid_n": 80,
            "lim": 4.5,
            "seed": 0,
        },
        "undercoverage": {"kappa": 1.0, "s": 0.1, "tau": None, "kernel": "rbf"},
    },
    # Targets without an exact sampler scored against long MALA chains instead
    # (wgf.baselines.long_chains, rule reference_sample): the chains, their burn-in (step size
    # adapted, re-whitened halfway), thinning, start (× the Laplace spread) and the split-R̂ every
    # coordinate must meet. 120 chains × 2000 + 5000 steps: R̂ 1.007 on logreg_cancer. Targets
    # listed but not configured are ignored.
    "reference_sample": {
        "targets": ["logreg_cancer"],
        "chains": 120,
        "burn_in": 2000,
        "thin": 10,
        "step_size": 0.3,
        "target_accept": 0.574,
        "init_scale": 0.5,
        "rhat_max": 1.01,
        "seed": 1,
    },
    # The reference flow ν of SCIENCE.md §5 (wgf.reference.ReferenceConfig); per-target
    # overrides under targets.<name>.reference.
    "reference": {
        "architecture": "nsf",
        "layers": 4,
        "hidden": 64,
        "blocks": 2,
        "bins": 8,
        "tail_bound": 4.0,
        "iaf": False,  # true: one-pass sampling, d-pass density (wgf.density.flows)
        "method": "iw_ml",
        "steps": 2000,
        "rounds": 20,
        "pool_size": 20_000,
        "batch_size": 1024,
        "lr": 3e-3,
        "lr_final_ratio": 0.1,
        "proposal_loc": 0.0,
        "proposal_scale": 3.0,
        "defensive": 0.1,
        "temper_start": 1.0,
        "temper_fraction": 0.5,
        "ess_target": 0.3,
        "reverse_steps": 0,
        "n_log_z": 100_000,
        "n_samples": 10_000,
        "device": "cpu",
        "seed": 0,
    },
    # The baselines beside the generators (wgf.baselines; rules in workflow/rules/baselines.smk).
    "baselines": {
        "methods": [
            "mala",
            "ula",
            "svgd",
            "flow_reverse_kl",
            "drifting",
            "score_net",
            "generator_flow",
        ],
        # The seeds every baseline runs with (null: the grid's `seeds`); comparison.md's baseline
        # rows are mean ± std over these.
        "seeds": None,
        # Samples drawn (one batched pass, chunked) to time a one-step method's throughput.
        "throughput_samples": 100_000,
        # Chains start from N(0, s² I), s = the target's generator init_scale (the generators'
        # start).
        "mala": {
            "chains": None,  # null: evaluation.n_samples
            "steps": 300,
            "burn_in": 100,
            "step_size": 0.05,
            "target_accept": 0.574,
            "budgets": [1, 3, 10, 30, 100],
        },
        "ula": {
            "chains": None,
            "steps": 300,
            "step_size": None,  # null: MALA's adapted step (tuned on 1000 chains, cost counted)
            "budgets": [1, 3, 10, 30, 100],
        },
        "svgd": {
            "particles": 500,
            "steps": 300,
            "step_size": 0.05,
            "adagrad": True,  # Liu & Wang's per-coordinate steps; false: fixed steps
            "budgets": [10, 30, 100],
        },
        # The target's reference-flow settings with these on top; method forced to reverse_kl.
        "flow": {
            # Splines, not MAF: a MAF's inverse at its random initialisation reached |x| ~ 1e11 in
            # d = 16 (gmm2hard16, seed 2: non-finite loss at step 0-3 whatever the learning rate);
            # the bounded splines stay finite.
            "architecture": "nsf",
            # Inverse autoregressive (Kingma et al. 2016), the usual direction for reverse KL: it
            # trains and samples on its own draws only, and each draw with its log ν is one pass
            # instead of d (gmm2hard16, batch 256: 0.32 → 0.022 s per step, one thread).
            "iaf": True,
            "layers": 4,
            "hidden": 64,
            "steps": 1000,
            "batch_size": 256,
            "lr": 3e-3,
            "temper_start": 1.0,
            "n_log_z": 1000,
        },
        # Generator-kind baselines: the target's training settings with `steps` (null: its own).
        # 750, half the main grid's 1500, keeps the default baseline grid near 10 CPU-minutes;
        # the comparison table shows every method's training steps.
        # `full_steps`: generator-kind methods that keep the target's own steps, because they are
        # compared with the main grid run for run (generator_flow against generator_kde).
        "generator": {"steps": 750, "full_steps": ["generator_flow"]},
    },
}
