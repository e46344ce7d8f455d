"""The ``base`` stage: materialise the base model as a plain safetensors checkpoint."""

from pipeline.base.checkpoint import BaseResult, build_base, locate_default_gguf

__all__ = ["BaseResult", "build_base", "locate_default_gguf"]
