"""Layer naming schemes. Names mirror the reference module paths, so checkpoints map by name."""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Layout:
    block: str  # format with stage (0-based), stage1 (1-based) and block index
    classifier: str  # name of the final Dense
    final_norm: Optional[str] = None  # BN-ReLU after the last stage (pre-activation networks)
    dropout: str = "drop"


LAYOUTS = {
    "resnet": Layout(block="layer{stage1}.{block}", classifier="fc"),
    "resnetv2": Layout(block="stages.{stage}.blocks.{block}", classifier="head.fc", final_norm="norm",
                       dropout="head.drop"),
}


def block_name(layout: Layout, stage: int, block: int) -> str:
    return layout.block.format(stage=stage, stage1=stage + 1, block=block)
