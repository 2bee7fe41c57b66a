"""wgf: data-free one-step sampling by Wasserstein gradient flows of f-divergences.

Data flows one way, config → target → density estimate → drift → trainer → results → tables and
figures, and so do the imports: :data:`LAYERS` lists the package's rooms floor by floor, and a
module imports only from its own room or a lower floor (``tests/unit/test_layers.py`` fails on
any other import, and on any cycle). Importing ``wgf``, ``wgf.config``, ``wgf.divergences``,
``wgf.baselines`` or ``wgf.plan`` loads no torch: the workflow builds its DAG from them.
"""

__version__ = "0.1.0"

# The rooms bottom up: leaves; the config and what a run is made of; estimating q; the drift
# and the theory; the reference flow; training and evaluation; baselines; tables and figures;
# the workflow's plan; one function per workflow step; the command line.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("io", "device", "importance"),
    ("config", "divergences", "targets"),
    ("density",),
    ("drift", "generator", "theory"),
    ("reference",),
    ("training", "evaluation"),
    ("baselines",),
    ("reporting",),
    ("plan",),
    ("jobs",),
    ("cli",),
    ("__main__",),
)
