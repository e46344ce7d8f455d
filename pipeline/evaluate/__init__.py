"""The ``evaluate`` stage: lm-eval benchmarks and PII-leak probes, base vs adapter (DESIGN.md §6)."""

from pipeline.evaluate.config import EvalParams
from pipeline.evaluate.stage import EvalResult, evaluate_adapter

__all__ = ["EvalParams", "EvalResult", "evaluate_adapter"]
