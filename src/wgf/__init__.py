"""wgf: data-free one-step sampling by Wasserstein gradient flows of f-divergences.

Data flows one way, and so do the imports (``tests/unit/test_layers.py`` keeps them so):
``io`` → ``config``, ``divergences``, ``targets`` → ``density`` → ``drift``, ``generator``,
``theory`` → ``training``, ``reference``, ``evaluation`` → ``baselines`` → ``reporting`` →
``plan`` → ``jobs`` → ``cli`` and the workflow's scripts. Importing ``wgf`` itself, ``wgf.config``,
``wgf.divergences``, ``wgf.baselines`` or ``wgf.plan`` loads no torch.
"""

__version__ = "0.1.0"
