"""Pipeline: steps that declare what they need and make, and an incremental, resumable runner."""

from minecarbon.pipeline.runner import StepOutcome, run_pipeline
from minecarbon.pipeline.step import Step, StepContext

__all__ = ["Step", "StepContext", "StepOutcome", "run_pipeline"]
