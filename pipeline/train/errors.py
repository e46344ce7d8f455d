"""The train stage's errors meant for people (cheap to import: the CLI catches them)."""


class BaseLoadError(Exception):
    """The base model directory cannot be loaded for training."""


class ChatTemplateError(Exception):
    """The base's chat template cannot be used to find the assistant turns exactly."""
