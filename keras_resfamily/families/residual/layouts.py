"""Layer naming schemes. Names are the reference module paths with '.' written as '-'.

("layer1.0.conv1" -> "layer1-0-conv1"): checkpoints map by name, and the names stay valid variable
paths for every Keras backend (torch forbids '.' in parameter names).
"""

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Layout:
    block: str  # format with stage (0-based), stage1 (1-based) and block index
    classifier: str  # name of the final Dense
    final_norm: Optional[str] = None  # BN-ReLU after the last stage (pre-activation networks)
    dropout: str = "drop"


LAYOUTS = {
    "resnet": Layout(block="layer{stage1}-{block}", classifier="fc"),
    "resnetv2": Layout(block="stages-{stage}-blocks-{block}", classifier="head-fc", final_norm="norm",
                       dropout="head-drop"),
    # timm byobnet (RepVGG, GC-ResNet-T): stages.N.M, head.fc
    "byob": Layout(block="stages-{stage}-{block}", classifier="head-fc", dropout="head-drop"),
}


def block_name(layout: Layout, stage: int, block: int) -> str:
    return layout.block.format(stage=stage, stage1=stage + 1, block=block)
