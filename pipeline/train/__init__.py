"""The ``train`` stage: a QLoRA adapter (4-bit NF4 base + LoRA) on the anonymized data.

``train_adapter`` is the whole stage: tokenization with assistant-only labels
(:mod:`.data`), the 4-bit base and its LoRA (:mod:`.model`), the visible training loop
with holdout evaluation, DVCLive curves and exact resume (:mod:`.recipe`,
:mod:`.checkpoint`), and the HTML report (:mod:`.report`).
"""

from pipeline.train.config import LoraParams, TrainParams
from pipeline.train.errors import BaseLoadError, ChatTemplateError
from pipeline.train.recipe import TrainResult, train_adapter

__all__ = ["BaseLoadError", "ChatTemplateError", "LoraParams", "TrainParams", "TrainResult", "train_adapter"]
