"""Layer naming of the depthwise family: the reference's module paths with '.' written as '-'.

Every layer name goes through a `Naming`: stem, head, classifier and `name(block, part)` for the
parts of a block. Parts are called by timm's names (conv_pw, bn1, conv_dw, bn2, se, conv_pwl, bn3,
conv, drop_path, add). timm names them as attributes of the block; torchvision numbers them in the
block's `nn.Sequential` (`features.2.conv.1.0`: the depthwise conv of MobileNetV2's second block).
"""

import dataclasses
from typing import Tuple

# Parts that hold no weights keep their timm name under the block's prefix.
WEIGHTLESS_PARTS = ("drop_path", "add")


@dataclasses.dataclass(frozen=True)
class Naming:
    """One reference's layer names.

    `block` is formatted with the block's `stage`, `index` (both 0-based), `stage1` (= stage + 1) and
    `feature` (= position among all blocks + 1); `head_conv` / `head_norm` with `after_blocks` and
    `after_stages`: the number of the module that follows the last block, counted by blocks or stages.
    """

    block: str = "blocks-{stage}-{index}"
    sequential: str = ""  # torchvision: the attribute holding the block's numbered parts ("conv", "block")
    flat_projection: bool = False  # torchvision MobileNetV2: the projection's conv and BN are two items
    stem_conv: str = "conv_stem"
    stem_norm: str = "bn1"
    head_conv: str = "conv_head"
    head_norm: str = "bn2"
    head_act: str = "act2"  # activation after a pooled (MobileNetV3) head conv
    se_names: Tuple[str, str] = ("conv_reduce", "conv_expand")  # the squeeze-excite's two 1x1 convs
    classifier: str = "classifier"
    dropout: str = "drop"  # timm applies dropout functionally: the name is ours

    def name(self, block, part: str) -> str:
        """Layer name of `part` of `block` (an `arch.Block`)."""
        prefix = self.block.format(stage=block.stage, index=block.index, stage1=block.stage + 1,
                                   feature=block.position + 1)
        if not self.sequential or part in WEIGHTLESS_PARTS:
            return f"{prefix}-{part}"
        if block.kind == "cn":  # torchvision: the block is itself a conv-BN-act Sequential
            return f"{prefix}-{dict(conv='0', bn1='1')[part]}"
        return f"{prefix}-{self.sequential}-{self._sequential_parts(block)[part]}"

    def _sequential_parts(self, block):
        """timm part name -> its number in torchvision's Sequential: [expansion,] depthwise, [SE,] projection."""
        inverted = block.kind == "ir"
        items = ([("conv_pw", "bn1")] if inverted else []) + [("conv_dw", "bn2" if inverted else "bn1")]
        items += [("se",)] if block.se_channels else []
        items.append(("conv_pwl", "bn3") if inverted else ("conv_pw", "bn2"))
        names = {}
        for number, item in enumerate(items):
            if len(item) == 1:
                names[item[0]] = f"{number}"
            elif self.flat_projection and number == len(items) - 1:
                names.update({item[0]: f"{number}", item[1]: f"{number + 1}"})
            else:
                names.update({item[0]: f"{number}-0", item[1]: f"{number}-1"})
        return names

    def head_names(self, plan):
        """Names of the head conv and its norm."""
        after = dict(after_blocks=len(plan.blocks) + 1, after_stages=len(plan.stage_depths) + 1)
        return self.head_conv.format(**after), self.head_norm.format(**after)


_TORCHVISION = dict(se_names=("fc1", "fc2"), stem_conv="features-0-0", stem_norm="features-0-1", head_conv="features-{after_blocks}-0",
                    head_norm="features-{after_blocks}-1", classifier="classifier-1", dropout="classifier-0")
NAMINGS = {
    "timm": Naming(),
    "torchvision_mobilenet_v2": Naming(block="features-{feature}", sequential="conv", flat_projection=True,
                                       **_TORCHVISION),
    # The 1x1 head conv runs after the pool as classifier.0 (a Linear), Hardswish, Dropout, Linear.
    "torchvision_mobilenet_v3": Naming(block="features-{feature}", sequential="block", **dict(
        _TORCHVISION, head_conv="classifier-0", head_act="classifier-1", dropout="classifier-2",
        classifier="classifier-3")),
    "torchvision_efficientnet": Naming(block="features-{stage1}-{index}", sequential="block", **dict(
        _TORCHVISION, head_conv="features-{after_stages}-0", head_norm="features-{after_stages}-1")),
}
