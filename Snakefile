# Data-free one-step sampling by Wasserstein gradient flows: the full reproduction.
#   snakemake --cores 2                                   everything in config.yaml
#   snakemake --cores 2 results/figures/samples_gmm8.pdf  one figure and what it needs
#   snakemake --cores 2 --configfile my.yaml              exactly my.yaml's grid instead
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/reference.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/diagnostics.smk"
include: "workflow/rules/baselines.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
