"""Evaluation: sample-quality metrics against exact samples, the one quality monitor, and the
published protocols (``metrics``, ``quality``, ``monitor``, ``published``)."""

from .monitor import Monitor, quality_monitor
from .published import published_protocol
from .quality import Sampler, evaluate_sampler, score, score_samples, throughput

__all__ = [
    "Monitor",
    "Sampler",
    "evaluate_sampler",
    "published_protocol",
    "quality_monitor",
    "score",
    "score_samples",
    "throughput",
]
