"""Layer naming of the depthwise family: the reference's module paths with '.' written as '-'.

Every layer name goes through a `Naming` (stem, head and `name(stage, block, part)` for block
parts), so the same architectures can be named after another reference (torchvision's
`features.N.conv...`) by adding a table here.
"""

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class Naming:
    block: str = "blocks-{stage}-{block}"  # stage and block: 0-based
    stem_conv: str = "conv_stem"
    stem_norm: str = "bn1"
    head_conv: str = "conv_head"
    head_norm: str = "bn2"
    head_act: str = "act2"  # activation after a pooled (MobileNetV3) head conv
    classifier: str = "classifier"
    dropout: str = "drop"  # timm applies dropout functionally: the name is ours
    # Block part (timm's name: conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3, conv, drop_path, add)
    # -> layer name suffix, where this naming differs.
    parts: Tuple[Tuple[str, str], ...] = ()

    def name(self, stage: int, block: int, part: str) -> str:
        """Layer name of `part` of block `block` of stage `stage`."""
        return f"{self.block.format(stage=stage, block=block)}-{self._parts.get(part, part)}"

    @property
    def _parts(self):
        return dict(self.parts)


NAMINGS = {
    "timm": Naming(),
}
