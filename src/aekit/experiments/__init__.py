"""Named experiments that compose data, models, training, evaluation and figures."""

from aekit.experiments.demo import PRESETS, format_summary, run_demo

__all__ = ["PRESETS", "format_summary", "run_demo"]
