"""wgf: data-free one-step sampling by Wasserstein gradient flows of f-divergences.

Data flows one way: config → target → drift → trainer → results → figures.
"""

__version__ = "0.1.0"
