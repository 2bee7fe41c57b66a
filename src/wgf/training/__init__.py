"""Training a one-step generator: the stop-gradient loop, its settings, checkpoint and resume.

``settings`` (``TrainConfig``, defaults from :mod:`wgf.config.defaults`), ``loop`` (:func:`train`)
and ``checkpoint`` (the fingerprinted, resumable state).
"""

from .loop import Monitor, TrainingDiverged, TrainResult, save_run, train
from .settings import NORMALISERS, GeneratorConfig, TrainConfig, train_config

__all__ = [
    "NORMALISERS",
    "GeneratorConfig",
    "Monitor",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "save_run",
    "train",
    "train_config",
]
